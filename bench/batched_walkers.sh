#!/usr/bin/env bash
# Batched walkers (sampler.walkers) against one Context per walker on the default full-atom job
# (configs/alanine_dipeptide.yaml: 128 curve points x 200 steps = 25,600 steps per walker): the
# sampling stage's wall time and us per walker-step for R walkers, per mode and platform, and the
# whole job per stage at the default 100 paths. The geodesic is computed once and reused
# (geodesic.initial, optimizer none), so every row times the same curve. Prints the Markdown table
# of bench/RESULTS.md section l.
# Usage: bash bench/batched_walkers.sh path/to/geotps WORKDIR [MAX_SECONDS_PER_RUN]
# Environment: RS="1 10 100 1000" (the walker counts), MODES="per_context_Reference batched_CPU
# batched_OpenCL" (the rows), SETS="--set KEY=VALUE ..." (more overrides for every sampling run,
# e.g. a shorter curve with geodesic.n_points for large R).
set -uo pipefail
BIN=$1
WORK=$2
LIMIT=${3:-400}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CFG="$ROOT/configs/alanine_dipeptide.yaml"
mkdir -p "$WORK"
"$BIN" run "$CFG" --quiet --out "$WORK/base.h5" --set sampler.n_paths=1 >"$WORK/base.log" 2>&1 ||
  { echo "base run failed" >&2; exit 1; }
reuse=(--set "geodesic.initial=$WORK/base.h5" --set geodesic.optimizer=none)
read -r -a extra <<<"${SETS:-}"
RS=${RS:-1 10 100 1000}
MODES=${MODES:-per_context_Reference batched_CPU batched_OpenCL}
run() {  # name, then --set overrides
  local name=$1
  shift
  if [[ -e "$WORK/$name.skip" || " $MODES " != *" ${name%_*} "* ]]; then return; fi
  timeout "$LIMIT" "$BIN" run "$CFG" --quiet --out "$WORK/$name.h5" "${reuse[@]}" "${extra[@]}" "$@" \
    >"$WORK/$name.log" 2>&1 || echo "$name failed or over ${LIMIT}s (exit $?)" >&2
}
for R in $RS; do
  run "per_context_Reference_$R" --set sampler.walkers=per_context --set potential.platform=Reference \
    --set sampler.n_paths=$R
  run "batched_CPU_$R" --set sampler.walkers=batched --set potential.platform=CPU --set sampler.n_paths=$R
  run "batched_OpenCL_$R" --set sampler.walkers=batched --set potential.platform=OpenCL \
    --set sampler.n_paths=$R
  # A mode that took over a minute at this R is not run at the next (10x more walkers).
  for m in per_context_Reference batched_CPU batched_OpenCL; do
    s=$(/usr/bin/python3 -c "import h5py,sys; print(h5py.File(sys.argv[1])['/summary'].attrs['wall_seconds_sampling'])" \
      "$WORK/${m}_$R.h5" 2>/dev/null || echo 1e9)
    if /usr/bin/python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 60 else 1)" "$s"; then
      for next in 10 100 1000 10000; do [[ $next -gt $R ]] && touch "$WORK/${m}_$next.skip"; done
    fi
  done
done
/usr/bin/python3 "$ROOT/bench/batched_walkers.py" "$WORK"
