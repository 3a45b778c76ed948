#!/usr/bin/env bash
# Comparison part of the benchmark: `geotps compare` on the 2D surface and in full atom (the
# geodesic method next to MCMC two-way shooting and Doob's Lagrangian). Prints a Markdown section on
# stdout (run_bench.sh appends it to RESULTS.md; it can also be run alone).
# Usage: bash bench/compare_section.sh path/to/geotps WORKDIR
set -uo pipefail
BIN=$1
WORK=$2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3

echo "## i. Comparison with the baselines (\`geotps compare\`)"
echo
echo "Each table is written by one command (run from the repository root; its wall time below is"
echo "measured around the whole command, on this machine, with nothing else running). MCMC statistics"
echo "are over the accepted paths of both chains; consecutive accepted paths share segments, so they"
echo "are correlated. Settings and budgets are listed under each table (and in the configs)."
for cfg in compare_alanine_dipeptide_2d compare_alanine_dipeptide; do
  out="$WORK/$cfg.h5"
  t0=$(date +%s.%N)
  "$BIN" compare "$ROOT/configs/$cfg.yaml" --quiet --out "$out" >"$WORK/$cfg.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  echo
  echo "### \`geotps compare configs/$cfg.yaml\`: $("$PY" -c "print(f'{$t1 - $t0:.0f}')") s wall, exit $rc"
  echo
  if [[ -f "${out%.h5}.md" ]]; then
    # The table and its notes, without the file-specific last line.
    sed -e '$d' "${out%.h5}.md"
  else
    echo "FAILED: $(tail -3 "$WORK/$cfg.log")"
  fi
done
