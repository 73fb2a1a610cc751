"""Writes every ```cpp block of README.md to OUT/readme_snippet_<n>.cpp, as written.

usage: readme_snippets.py README.md OUT [MIN_COUNT]. Exits 1 if fewer than MIN_COUNT (default 1)
blocks are found, so a README that lost its snippets fails the test instead of passing it empty.
"""
import pathlib
import re
import sys

readme, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
minimum = int(sys.argv[3]) if len(sys.argv) > 3 else 1
blocks = re.findall(r"^```cpp\n(.*?)^```", readme.read_text(), flags=re.S | re.M)
out.mkdir(parents=True, exist_ok=True)
for number, block in enumerate(blocks, 1):
    (out / f"readme_snippet_{number}.cpp").write_text(block)
print(f"readme_snippets: {len(blocks)} C++ snippets from {readme}")
sys.exit(0 if len(blocks) >= minimum else 1)
