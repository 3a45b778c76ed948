#!/usr/bin/env bash
# Builds the lean geotps (no LibTorch) and copies it into DIR with every shared library it needs
# that is not part of the C library itself, the OpenMM plugins (Reference, CPU, OpenCL, and CUDA
# where the OpenMM in use has it), the shipped configs and data, and a run.sh that runs it on a
# machine without our Debian packages (a GPU machine, say):
#   DIR/run.sh run configs/alanine_dipeptide.yaml --set potential.platform=OpenCL
# run.sh sets LD_LIBRARY_PATH and OPENMM_PLUGIN_DIR to the bundle's folders and, when the machine
# has NVIDIA's OpenCL library (libnvidia-opencl.so.1) but no ICD file naming it, registers it for
# this process only (OCL_ICD_VENDORS pointing at a folder inside the bundle; nothing under /etc is
# written). Paths given to run.sh are taken from the working directory, as geotps takes them; the
# bundle's configs/ and data/ are where the shipped configs expect them (cd DIR first).
# DIR/gpu_check.sh runs the GPU measurement of bench/RESULTS.md section l (scripts/gpu_check.sh).
# Usage: scripts/gpu_bundle.sh DIR   (the build goes to build-bundle/, or $GEOTPS_BUNDLE_BUILD)
set -euo pipefail

if [[ $# -ne 1 || "$1" == -* ]]; then
  sed -n '2,/^[^#]/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
fi
DIR=$1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD=${GEOTPS_BUNDLE_BUILD:-$ROOT/build-bundle}
if [[ -e "$DIR" && -n "$(ls -A "$DIR" 2>/dev/null)" ]]; then
  echo "gpu_bundle: $DIR exists and is not empty; give a new or empty folder" >&2
  exit 2
fi

cmake -S "$ROOT" -B "$BUILD" -DGEOTPS_WITH_TORCH=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target geotps >/dev/null
mkdir -p "$DIR/bin" "$DIR/lib" "$DIR/plugins" "$DIR/icd"
cp "$BUILD/geotps" "$DIR/bin/geotps"

# The plugin folder of the OpenMM geotps links to (Debian: /usr/lib/<arch>/openmm/plugins).
openmm_lib=$(ldd "$BUILD/geotps" | awk '/libOpenMM\.so/ {print $3; exit}')
plugins="$(dirname "$openmm_lib")/openmm/plugins"
[[ -d "$plugins" ]] || plugins="$(dirname "$openmm_lib")/plugins"
[[ -d "$plugins" ]] || { echo "gpu_bundle: no OpenMM plugin folder next to $openmm_lib" >&2; exit 1; }
# Amoeba, Drude and RPMD plugins are not used by geotps.
for p in "$plugins"/libOpenMM{CPU,OpenCL,CUDA,CudaCompiler,PME}*.so; do
  [[ -e "$p" ]] && cp "$p" "$DIR/plugins/"
done

# Every shared library of the binary and the plugins, except the C library's own (the loader,
# libc, libm, libpthread, libdl, librt), which every Linux machine has in a compatible version.
# GPU drivers (libcuda, libnvidia-*) are never copied: they must match the machine's kernel module.
copy_deps() {
  ldd "$1" | awk '/=> \// {print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
      ld-linux*|libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libcuda.so*|libnvidia*) ;;
      *) [[ -e "$DIR/lib/$(basename "$lib")" ]] || cp -L "$lib" "$DIR/lib/" ;;
    esac
  done
}
copy_deps "$DIR/bin/geotps"
for p in "$DIR"/plugins/*.so; do copy_deps "$p"; done

mkdir -p "$DIR/configs" "$DIR/data"
cp "$ROOT/scripts/gpu_check.sh" "$DIR/gpu_check.sh"
cp "$ROOT"/configs/*.yaml "$DIR/configs/"
cp -r "$ROOT/data/alanine_dipeptide" "$DIR/data/"

cat >"$DIR/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the bundled geotps with the bundle's libraries and OpenMM plugins (see gpu_bundle.sh).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export LD_LIBRARY_PATH="$HERE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OPENMM_PLUGIN_DIR="$HERE/plugins"
if [[ -z "${OCL_ICD_VENDORS:-}" ]] && ! grep -qs nvidia /etc/OpenCL/vendors/*.icd; then
  for lib in /usr/lib/libnvidia-opencl.so.1 /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 \
             /usr/lib64/libnvidia-opencl.so.1; do
    if [[ -e "$lib" ]]; then
      echo "$lib" >"$HERE/icd/nvidia.icd"
      export OCL_ICD_VENDORS="$HERE/icd"
      break
    fi
  done
fi
exec "$HERE/bin/geotps" "$@"
RUN
chmod +x "$DIR/run.sh"
size=$(du -sm "$DIR" | cut -f1)
echo "gpu_bundle: $DIR: $size MB ($(ls "$DIR/lib" | wc -l) libraries, $(ls "$DIR/plugins" | wc -l) plugins)"
if [[ $size -ge 60 ]]; then
  echo "gpu_bundle: the bundle is $size MB, over the 60 MB budget" >&2
  exit 1
fi
