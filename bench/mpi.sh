#!/usr/bin/env bash
# MPI ranks on one machine (bench/RESULTS.md section q, docs/mpi.md): the default 2D job
# (configs/alanine_dipeptide_2d.yaml, 1000 paths) and the default full-atom job
# (configs/alanine_dipeptide.yaml, 100 paths), each as one process without mpirun, under
# `mpirun -np 1`, `-np 2` (Open MPI binds each of 2 ranks to a core) and `-np 2 --bind-to none`.
# Whole-process wall time (start-up, MPI's included) as the median of REPS runs with min and max
# (the variants take turns, run by run),
# the engine's own sampling stage of those runs (median), and the summary's MaxEnergy line, which
# must be the same in every row of a job (the file does not depend on the ranks). Seed and threads
# as in the configs (sampler.threads 0: every core, per rank). Prints a Markdown table.
# Usage: bash bench/mpi.sh path/to/geotps WORKDIR [REPS]
set -uo pipefail
BIN=$(realpath "$1")
WORK=$2
REPS=${3:-3}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MPIRUN=${MPIRUN:-mpirun}
# Open MPI as root (this machine's CI runs as root) and in a container without CMA.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
mkdir -p "$WORK"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

jobs=(alanine_dipeptide_2d alanine_dipeptide)
launches=("none" "-np 1" "-np 2" "-np 2 --bind-to none")
declare -A walls samplings maxe
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# The variants take turns (rep by rep), so that a change in the machine's load during the run
# falls on all of them alike.
for ((i = 0; i < REPS; i++)); do
  for job in "${jobs[@]}"; do
    cfg="$ROOT/configs/$job.yaml"
    for launch in "${launches[@]}"; do
      if [[ $launch == none ]]; then
        prefix=()
      else
        # shellcheck disable=SC2206
        prefix=("$MPIRUN" --oversubscribe $launch)
      fi
      key="$job|$launch"
      tag="${job}_${launch// /_}"
      log="$WORK/$tag.$i.log"
      t0=$(date +%s.%N)
      "${prefix[@]}" "$BIN" run "$cfg" --out "$WORK/$tag.h5" >"$log" 2>"$WORK/$tag.$i.err" ||
        { echo "$tag run $i failed (see $WORK/$tag.$i.err)" >&2; continue; }
      t1=$(date +%s.%N)
      walls[$key]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') "
      samplings[$key]+="$(sed -n 's/.*sampling \([0-9.]*\),.*/\1/p' "$log" | tail -1) "
      maxe[$key]=$(grep '^MaxEnergy' "$log" | sed 's/^MaxEnergy *//; s/ (.*//')
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo "| job | launch | runs | wall s median (min-max) | sampling s median | MaxEnergy (summary) |"
echo "| --- | --- | ---: | ---: | ---: | --- |"
for job in "${jobs[@]}"; do
  for launch in "${launches[@]}"; do
    key="$job|$launch"
    label="mpirun $launch"
    [[ $launch == none ]] && label="one process, no mpirun"
    read -r -a w <<<"${walls[$key]:-}"
    read -r -a sm <<<"${samplings[$key]:-}"
    if [[ ${#w[@]} -eq 0 ]]; then
      echo "| $job | $label | 0 | failed | | |"
      continue
    fi
    printf '| %s | %s | %d | %.2f (%.2f-%.2f) | %s | %s |\n' "$job" "$label" "${#w[@]}" \
      "$(printf '%s\n' "${w[@]}" | median)" "$(printf '%s\n' "${w[@]}" | sort -g | head -1)" \
      "$(printf '%s\n' "${w[@]}" | sort -g | tail -1)" "$(printf '%s\n' "${sm[@]}" | median)" \
      "${maxe[$key]}"
  done
done
