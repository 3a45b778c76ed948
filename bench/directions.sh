#!/usr/bin/env bash
# Full-atom alanine dipeptide in three directions (extended -> C7ax, C7ax -> extended,
# C7eq -> C7ax): `geotps compare configs/compare_alanine_dipeptide.yaml` with the geodesic method
# and variable-length MCMC shooting, each as shipped (sampler.direction auto) and, for the reverse
# direction, with sampler.direction forward (walkers started in C7ax). Prints a Markdown section
# on stdout: each comparison table, then per run the geodesic paths whose CV MaxEnergy lies more
# than 15 kJ/mol above the minimax bound.
# Usage: bash bench/directions.sh path/to/geotps WORKDIR
set -uo pipefail
BIN=$1
WORK=$2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/data/alanine_dipeptide"
PY=/usr/bin/python3
mkdir -p "$WORK"
METHODS=(--set 'compare.methods=[geodesic,mcmc_variable]')
REVERSE=(--set potential.pdb_a="$DATA/c7ax.pdb" --set potential.pdb_b="$DATA/extended.pdb"
  --set 'states.a=[1.068,-0.720]' --set 'states.b=[-2.645,2.794]' --set 'mcmc.state_a_box=[]'
  --set 'mcmc.state_radius=[0.5,0.5]' --set 'mcmc.state_b_box=[2.75,5.4832,-3.1416,3.1416]')
C7EQ=(--set potential.pdb_a="$DATA/c7eq.pdb" --set 'states.a=[-1.310,0.942]')

run() {  # file name, title, then the extra flags
  local name=$1 title=$2
  shift 2
  local out="$WORK/$name.h5"
  local t0 t1 rc
  t0=$(date +%s.%N)
  "$BIN" compare "$ROOT/configs/compare_alanine_dipeptide.yaml" "${METHODS[@]}" "$@" --quiet \
    --out "$out" >"$WORK/$name.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  echo
  echo "### $title: $("$PY" -c "print(f'{$t1 - $t0:.0f}')") s wall, exit $rc"
  echo
  if [[ -f "${out%.h5}.md" ]]; then
    sed -e '$d' "${out%.h5}.md" | grep -v '^- \*\*'
    "$PY" - "$out" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
bound = f["/summary"].attrs["minimax_bound"]
cv = f["/methods/geodesic/max_energy_cv"][:]
print(f"\nGeodesic paths with CV MaxEnergy above the bound + 15 kJ/mol ({bound + 15:.2f}): "
      f"{int((cv > bound + 15).sum())} of {cv.size} (largest {cv.max():.2f}).")
PY
  else
    echo "FAILED: $(tail -3 "$WORK/$name.log")"
  fi
}

echo "## o. Three directions, and which end the walkers start from (\`sampler.direction\`)"
run forward "extended -> C7ax (auto = forward)"
run reverse "C7ax -> extended (auto = reverse)" "${REVERSE[@]}"
run reverse_forward "C7ax -> extended, sampler.direction forward" "${REVERSE[@]}" \
  --set sampler.direction=forward
run c7eq "C7eq -> C7ax (auto = forward)" "${C7EQ[@]}"
