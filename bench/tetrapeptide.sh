#!/usr/bin/env bash
# The second molecule, ACE-ALA-ALA-ALA-NME with its six backbone torsions (D = 6): the shipped
# config end to end (`geotps train-denoiser`, then `geotps run`), each timed, then `geotps compare`
# of the geodesic method against variable-length MCMC shooting at two budgets (the geodesic run's
# own 2.56M evaluations, and 4x that with longer paths allowed). Prints a Markdown section on
# stdout; the logs and result files stay in WORKDIR.
# Usage: bash bench/tetrapeptide.sh path/to/geotps WORKDIR [CONFIG]
#   CONFIG defaults to configs/alanine_tetrapeptide.yaml (three flips, section p); section p's second
#   part uses configs/alanine_tetrapeptide_one_flip.yaml (one flip).
set -uo pipefail
BIN=$1
WORK=$2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="${3:-$ROOT/configs/alanine_tetrapeptide.yaml}"
mkdir -p "$WORK"
cd "$ROOT" || exit 1
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

echo "### \`${CONFIG#$ROOT/}\`"
echo
echo "Produced by \`bash bench/tetrapeptide.sh build/geotps $WORK ${CONFIG#$ROOT/}\` at $(git rev-parse --short HEAD) on $(nproc) cores."
echo
t0=$(date +%s.%N)
"$BIN" train-denoiser "$CONFIG" --out "$WORK/denoiser.pt" --log "$WORK/train.log" --quiet >/dev/null
rc_train=$?
t1=$(date +%s.%N)
"$BIN" run "$CONFIG" --set denoiser.model="$WORK/denoiser.pt" --out "$WORK/run.h5" \
  --log "$WORK/run.log" --quiet >/dev/null
rc_run=$?
t2=$(date +%s.%N)
echo "- \`geotps train-denoiser\`: exit $rc_train, $(secs "$t0" "$t1") s wall"
echo "- \`geotps run\`: exit $rc_run, $(secs "$t1" "$t2") s wall; together $(secs "$t0" "$t2") s"
echo
echo '```'
grep -E "^(samples|source|steps|final loss) " "$WORK/train.log"
sed -n '/^job /,/^output /p' "$WORK/run.log"
echo '```'
echo
for budget in 2560000 10240000; do
  out="$WORK/compare_$budget.h5"
  t0=$(date +%s.%N)
  "$BIN" compare "$CONFIG" --set denoiser.model="$WORK/denoiser.pt" \
    --set 'compare.methods=[geodesic,mcmc_variable]' --set 'mcmc.state_radius=[1.0,1.0]' \
    --set mcmc.variable_max_evaluations=$budget --set mcmc.chains=2 \
    $([ "$budget" -gt 2560000 ] && echo --set mcmc.max_length=100000) \
    --out "$out" --quiet >"$WORK/compare_$budget.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  echo "#### MCMC budget $budget evaluations (exit $rc, $(secs "$t0" "$t1") s)"
  echo
  sed -n '1,/^Crossing points/p' "${out%.h5}.md" | grep -v '^Crossing points'
  grep -E "^- \*\*MCMC" "${out%.h5}.md"
  echo
done
