#!/usr/bin/env bash
# The library-only build (docs/library.md): core, compress, comm, exchange and algo with only a
# C++20 compiler, fmt and Highway (and nlohmann-json's headers). MPI, libtorch, CLI11, toml++,
# zlib, pybind11 and the test frameworks are made unfindable, so a stray dependency fails here.
# Then installs it and builds and runs the consumer against it. usage: minimal_build_test.sh SOURCE_DIR
set -euo pipefail
source_dir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hidden=()
for package in MPI Torch CLI11 tomlplusplus ZLIB pybind11 Python GTest benchmark; do
  hidden+=("-DCMAKE_DISABLE_FIND_PACKAGE_$package=ON")
done
cmake -S "$source_dir" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DGRADCOMP_WITH_MPI=OFF -DGRADCOMP_WITH_TRAINING=OFF -DGRADCOMP_WITH_PYTHON=OFF \
  -DGRADCOMP_BUILD_TESTS=OFF -DGRADCOMP_BUILD_BENCH=OFF "${hidden[@]}" >"$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" >"$work/build.log" || { tail -50 "$work/build.log"; exit 1; }
if grep -rqE 'openmpi|torch|CLI11|toml' "$work/build/compile_commands.json"; then
  echo "FAIL: the library-only build compiles against MPI, libtorch, CLI11 or toml++"; exit 1
fi
cmake --install "$work/build" --prefix "$work/prefix" >/dev/null
if [ -e "$work/prefix/include/gradcomp/comm/mpi_communicator.hpp" ]; then
  echo "FAIL: a build without MPI installs the MPI communicator's header"; exit 1
fi
cmake -S "$source_dir/tests/install/consumer" -B "$work/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >"$work/consumer.log" || { cat "$work/consumer.log"; exit 1; }
"$work/consumer/consumer_static"
"$work/consumer/consumer_shared"
echo "library-only build: $(ls "$work/prefix"/lib*/ | tr '\n' ' ')"
