#!/usr/bin/env bash
# Installs the Debian 12 packages GeoTPS needs to build and test, and only the missing ones.
# Idempotent: a second run installs nothing. Prints what it installs.
# Usage: scripts/install_deps.sh [--no-torch] [--python]   (flags in any order)
#   --no-torch installs only what the lean build (cmake -DGEOTPS_WITH_TORCH=OFF) needs: everything
#              except libtorch-dev and libopenblas0-pthread (the BLAS libtorch runs on).
#   --python   also installs the optional Python helpers (h5py, numpy, OpenMM bindings, mdtraj, pdbfixer,
#              matplotlib) used by the data-preparation scripts, the benchmark, scripts/plot_result.py
#              and the tests that cross-check our files.
# pocl-opencl-icd runs OpenMM's OpenCL platform on the CPU, so that the batched (GPU) walker path is
# built and tested on machines without a GPU (CI included).
# libopenmpi-dev and openmpi-bin (Open MPI) build and test `mpirun -np N geotps run` (docs/mpi.md);
# CMake builds without MPI when they are absent.
# An unknown flag is an error (exit 2).
set -euo pipefail

# Prints the comment block above (the script's header) without the leading '# '.
usage() {
  sed -n '2,/^[^#]/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

with_torch=1
with_python=0
for arg in "$@"; do
  case "$arg" in
    --no-torch) with_torch=0 ;;
    --python) with_python=1 ;;
    -h|--help) usage; exit 0 ;;
    *)
      echo "install_deps: unknown flag '$arg' (accepted: --no-torch, --python, --help)" >&2
      usage >&2
      exit 2
      ;;
  esac
done

packages=(
  build-essential cmake pkg-config
  libeigen3-dev libhdf5-dev libyaml-cpp-dev libcli11-dev libfmt-dev liblbfgspp-dev
  libopenmm-dev libopenmm-plugins
  pocl-opencl-icd
  libopenmpi-dev openmpi-bin
  libgtest-dev libssl-dev
)
if [[ $with_torch -eq 1 ]]; then
  packages+=(libtorch-dev libopenblas0-pthread)
fi
if [[ $with_python -eq 1 ]]; then
  packages+=(python3-numpy python3-h5py python3-simtk python3-mdtraj python3-matplotlib python3-pdbfixer)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install_deps: all ${#packages[@]} required Debian packages are already installed"
  exit 0
fi

echo "install_deps: installing ${#missing[@]} missing Debian package(s): ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install_deps: done"
