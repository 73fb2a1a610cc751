"""Writes every ```cpp block of README.md to OUT/readme_snippet_<n>.cpp and every ```python block
to OUT/readme_snippet_<n>.py, as written.

usage: readme_snippets.py README.md OUT [MIN_CPP]. Exits 1 if fewer than MIN_CPP (default 1) C++
blocks or no Python block are found, so a README that lost its snippets fails the test instead of
passing it empty.
"""
import pathlib
import re
import sys

readme, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
minimum = int(sys.argv[3]) if len(sys.argv) > 3 else 1
text = readme.read_text()
out.mkdir(parents=True, exist_ok=True)
counts = {}
for language, suffix in (("cpp", "cpp"), ("python", "py")):
    blocks = re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)
    for number, block in enumerate(blocks, 1):
        (out / f"readme_snippet_{number}.{suffix}").write_text(block)
    counts[language] = len(blocks)
print(f"readme_snippets: {counts['cpp']} C++ and {counts['python']} Python snippets from {readme}")
sys.exit(0 if counts["cpp"] >= minimum and counts["python"] >= 1 else 1)
