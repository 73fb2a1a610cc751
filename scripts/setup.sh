#!/usr/bin/env bash
# Installs the Debian packages gradcomp needs, only those missing. Idempotent and non-interactive.
set -euo pipefail

packages=(
  cmake ninja-build g++ make            # build
  libcli11-dev nlohmann-json3-dev libfmt-dev   # command line and output
  libhwy-dev pkg-config                 # portable SIMD kernels (Highway)
  libopenmpi-dev openmpi-bin            # the distributed engine (comm/mpi_communicator)
  iproute2                              # ip netns + tc: the rate-limited link of bench/netem
  libtorch-dev                          # neural-network models (model/torch_model.cpp)
  libopenblas0-serial                   # BLAS for libtorch: 5x the reference libblas3 on the MLP
  libtomlplusplus-dev zlib1g-dev        # TOML configs; gzip IDX files
  dataset-fashion-mnist                 # the default training data (/usr/share/datasets)
  gnuplot-nox                           # gradcomp plot
  libgtest-dev libbenchmark-dev         # tests and benchmarks
  clang libclang-rt-14-dev              # libFuzzer targets
  python3 python3-numpy python3-dev pybind11-dev   # the Python module (python/) and NumPy cross-checks
  python3-pytest python3-torch          # the Python module's tests; PyTorch tensors and modules
)

missing=()
for package in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
