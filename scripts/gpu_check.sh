#!/usr/bin/env bash
# The GPU check of bench/RESULTS.md section l, in one command, run from a folder made by
# scripts/gpu_bundle.sh (which copies this script into it) on a GPU machine:
#   cd DIR && ./gpu_check.sh [OUT] [PATHS ...]     (OUT default gpu_check, PATHS default 1000 10000)
# For each number of paths it runs the default job (configs/alanine_dipeptide.yaml) with
# potential.platform=OpenCL (sampler.walkers auto: batched), then the same job on the Reference
# platform (one Context per walker) with 100 paths as the baseline of the same machine. It prints
# `geotps info` of each result and one table row per run: wall seconds per stage and us per
# walker-step of the sampling stage (sampling seconds / (paths x curve points x steps per point);
# 128 x 200 for this job).
# Logs and result files stay in OUT. Set PLATFORM=CUDA for a bundle built against an OpenMM with
# CUDA. Exits non-zero when a run fails, after the other runs.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
if [[ ! -x ./run.sh ]]; then
  echo "gpu_check: run it from a folder made by scripts/gpu_bundle.sh (no run.sh in $HERE)" >&2
  exit 2
fi
OUT=${1:-gpu_check}
shift || true
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(1000 10000)
for n in "${sizes[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "gpu_check: PATHS must be positive integers, got '$n'" >&2; exit 2; }
done
PLATFORM=${PLATFORM:-OpenCL}
CFG=configs/alanine_dipeptide.yaml
STEPS_PER_PATH=$((128 * 200))
mkdir -p "$OUT"

echo "# gpu_check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "# CPU: $(nproc) cores"
./run.sh --version

rows=()
failed=0
one() {  # name paths platform
  local name=$1 n=$2 platform=$3
  local start end
  start=$(date +%s.%N)
  if ./run.sh run "$CFG" --out "$OUT/$name.h5" --set "potential.platform=$platform" \
      --set "sampler.n_paths=$n" >"$OUT/$name.log" 2>&1; then
    end=$(date +%s.%N)
    ./run.sh info "$OUT/$name.h5" | tee "$OUT/$name.info"
    # "wall time      18.62 s total, setup 0.32, geodesic 1.35, sampling 16.79, metrics 0.00, output 0.15"
    local wall
    wall=$(sed -n 's/^wall time *//p' "$OUT/$name.info")
    local sampling
    sampling=$(sed -n 's/.*sampling \([0-9.]*\).*/\1/p' <<<"$wall")
    local us
    us=$(awk -v s="$sampling" -v n="$n" -v k="$STEPS_PER_PATH" 'BEGIN { printf "%.4f", s * 1e6 / (n * k) }')
    local maxe
    maxe=$(sed -n 's/^MaxEnergy *\([^ ]* +- [^ ]*\).*/\1/p' "$OUT/$name.info")
    rows+=("| $name | $platform | $n | $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') | $wall | $us | $maxe |")
  else
    echo "gpu_check: $name failed (exit $?); last lines of $OUT/$name.log:" >&2
    tail -5 "$OUT/$name.log" >&2
    failed=1
  fi
}
for n in "${sizes[@]}"; do one "${PLATFORM,,}_$n" "$n" "$PLATFORM"; done
one reference_per_context_100 100 Reference
echo
echo "| run | platform | paths | process wall s | stages (s) | us per walker-step (sampling) | MaxEnergy kJ/mol |"
echo "| --- | --- | ---: | ---: | --- | ---: | --- |"
printf '%s\n' "${rows[@]}"
exit $failed
