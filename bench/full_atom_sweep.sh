#!/usr/bin/env bash
# Full-atom sampler settings at equal evaluations (100 paths x N x K = 2.56M), the reverse
# direction and the old wrapped restraint, on the default job (seed 0); prints the Markdown table
# of bench/RESULTS.md section k.  Usage: bash bench/full_atom_sweep.sh path/to/geotps WORKDIR
set -uo pipefail
BIN=$1
WORK=$2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CFG="$ROOT/configs/alanine_dipeptide.yaml"
DATA="$ROOT/data/alanine_dipeptide"
mkdir -p "$WORK"
run() {
  local name=$1
  shift
  "$BIN" run "$CFG" --quiet --out "$WORK/$name.h5" "$@" >"$WORK/$name.log" 2>&1 || echo "$name failed (exit $?)" >&2
}
run N128_K200
run N64_K400 --set sampler.n_points=64 --set sampler.steps_per_point=400
run N256_K100 --set sampler.n_points=256 --set sampler.steps_per_point=100
run N128_K200_fr --set sampler.spacing=fisher_rao
run N256_K100_fr --set sampler.n_points=256 --set sampler.steps_per_point=100 \
  --set sampler.spacing=fisher_rao
run reverse --set potential.pdb_a="$DATA/c7ax.pdb" --set potential.pdb_b="$DATA/extended.pdb" \
  --set "states.a=[1.068,-0.720]" --set "states.b=[-2.645,2.794]"
run wrapped --set sampler.cv_restraint=wrapped
/usr/bin/python3 "$ROOT/bench/full_atom_sweep.py" "$WORK"
