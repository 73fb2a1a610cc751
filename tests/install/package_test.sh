#!/usr/bin/env bash
# The installed package as another project uses it (docs/library.md). usage:
#   package_test.sh SOURCE_DIR BUILD_DIR PYTHON
# Installs BUILD_DIR into a temporary prefix, then: compiles every installed header alone; builds
# tests/install/consumer and README.md's C++ snippets with find_package(gradcomp) and runs them
# (the MPI snippet alone and under mpirun -np 2); builds the consumer with pkg-config against
# libgradcomp.so and runs it; imports the installed Python module.
set -euo pipefail
source_dir=$1 build_dir=$2 python=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none

cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log"
libdir=$(cd "$prefix" && ls -d lib*/cmake/gradcomp | head -1 | cut -d/ -f1)
echo "installed: $(find "$prefix/include" -name '*.hpp' | wc -l) headers, $(ls "$prefix/$libdir" | tr '\n' ' ')"

# Every public header compiles on its own (it includes what it uses).
mpi_flags=$(pkg-config --cflags ompi-c 2>/dev/null || true)
find "$prefix/include" -name '*.hpp' | sort >"$work/headers"
header_failures=0
while read -r header; do
  name=${header#"$prefix/include/"}
  if ! echo "#include <$name>" | g++ -std=c++20 -fsyntax-only -I"$prefix/include" $mpi_flags \
      -x c++ - 2>"$work/header.log"; then
    echo "FAIL: <$name> does not compile alone:"; head -20 "$work/header.log"
    header_failures=$((header_failures + 1))
  fi
done <"$work/headers"
[ "$header_failures" -eq 0 ] || exit 1
echo "headers: each of $(wc -l <"$work/headers") compiles alone"

# find_package: the consumer (static and shared) and the README's snippets.
/usr/bin/python3 "$source_dir/tests/install/readme_snippets.py" "$source_dir/README.md" \
  "$work/snippets" 3
cmake -S "$source_dir/tests/install/consumer" -B "$work/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DGRADCOMP_SNIPPETS="$work/snippets" >"$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/consumer" >"$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/consumer/consumer_static"
"$work/consumer/consumer_shared"
# ldd's whole output first (tests/scripts/pipefail_early_exit_test.sh says why).
linked=$(ldd "$work/consumer/consumer_shared")
if ! grep -qF "$prefix/$libdir/libgradcomp.so" <<<"$linked"; then
  echo "FAIL: consumer_shared does not load the installed libgradcomp.so:"; echo "$linked"; exit 1
fi
for snippet in "$work"/consumer/readme_snippet_*; do
  echo "$(basename "$snippet"): $("$snippet")"
done
mpi_snippet=$(grep -l MpiSession "$work"/snippets/*.cpp | head -1)
if [ -n "$mpi_snippet" ]; then
  name=$(basename "$mpi_snippet" .cpp)
  echo "$name under mpirun -np 2: $(mpirun --oversubscribe -np 2 "$work/consumer/$name")"
fi

# pkg-config: libgradcomp.so with the flags the .pc file gives.
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
g++ "$source_dir/tests/install/consumer/consumer.cpp" -o "$work/consumer_pc" \
  $(pkg-config --cflags --libs gradcomp)
LD_LIBRARY_PATH=$prefix/$libdir "$work/consumer_pc"
echo "pkg-config: gradcomp $(pkg-config --modversion gradcomp): ok"

# The Python module from the prefix, not from the build tree.
if [ -n "$python" ]; then
  site=$(find "$prefix" -type d -name gradcomp -path '*python*' | head -1)
  PYTHONPATH=$(dirname "$site") "$python" -c "
import gradcomp, numpy, sys
assert gradcomp.__file__.startswith('$prefix'), gradcomp.__file__
c = gradcomp.Compressor('topk:k=1')
x = numpy.array([1, -3, 2], dtype=numpy.float32)
assert list(c.decode(c.encode(x))) == [0, -3, 0]
print('python: gradcomp', gradcomp.__version__, 'from', gradcomp.__file__)"
  for snippet in "$work"/snippets/*.py; do
    echo "$(basename "$snippet"):"
    PYTHONPATH=$(dirname "$site") "$python" "$snippet"
  done
fi
