#!/usr/bin/env bash
# Installs the Debian 12 packages GeoTPS needs to build and test, and only the missing ones.
# Idempotent: a second run installs nothing. Prints what it installs.
# Usage: scripts/install_deps.sh [--python]
#   --python also installs the optional Python helpers (h5py, numpy, OpenMM bindings, mdtraj,
#   matplotlib) used by the data-preparation scripts, the benchmark, scripts/plot_result.py and the
#   tests that cross-check our files.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libeigen3-dev libhdf5-dev libyaml-cpp-dev libcli11-dev libfmt-dev liblbfgspp-dev
  libopenmm-dev libopenmm-plugins
  libtorch-dev libopenblas0-pthread
  libgtest-dev
)
if [[ "${1:-}" == "--python" ]]; then
  packages+=(python3-numpy python3-h5py python3-simtk python3-mdtraj python3-matplotlib)
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
