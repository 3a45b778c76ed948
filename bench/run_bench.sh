#!/usr/bin/env bash
# GeoTPS benchmark: runs the shipped configs, a seed study, the straight-line baseline, an optimiser
# comparison and a sampling-settings sweep, and writes bench/RESULTS.md (overwritten).
#
#   bash bench/run_bench.sh [path/to/geotps]      (default: build/geotps in the repository)
#
# Builds nothing. Temporary configs and HDF5 files go to a mktemp directory under /tmp, removed at
# the end unless GEOTPS_BENCH_KEEP=1. Python: Debian's /usr/bin/python3 (+ python3-h5py/numpy).
# About 25 minutes on 2 cores (GEOTPS_BENCH_NEURAL=0 skips the neural-denoiser trainings, 8 minutes;
# GEOTPS_BENCH_COMPARE=0 skips the comparison with the baselines, 10 minutes).
set -uo pipefail

INVOKED="bash $0${*:+ $*}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
PY=/usr/bin/python3
TOOLS="$HERE/bench_tools.py"
OUT_MD="$HERE/RESULTS.md"

BIN="${1:-$ROOT/build/geotps}"
if [[ "$BIN" != /* ]]; then
  if [[ -e "$PWD/$BIN" ]]; then BIN="$PWD/$BIN"; else BIN="$ROOT/$BIN"; fi
fi
if [[ ! -x "$BIN" ]]; then
  echo "run_bench.sh: no executable geotps at '$BIN' (build it first, or pass its path)" >&2
  exit 2
fi
if ! "$PY" -c 'import h5py, numpy' 2>/dev/null; then
  echo "run_bench.sh: $PY needs h5py and numpy (apt-get install python3-h5py python3-numpy)" >&2
  exit 2
fi

WORK="$(mktemp -d /tmp/geotps_bench.XXXXXX)"
cleanup() {
  if [[ "${GEOTPS_BENCH_KEEP:-0}" != 1 ]]; then rm -rf -- "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

CFG="$ROOT/configs"
SURFACE="$ROOT/data/alanine_dipeptide/phi_psi_surface.dat"
START_DATE="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
SECONDS=0

log() { printf '[%4ds] %s\n' "$SECONDS" "$*"; }

# mkcfg NAME SOURCE_CONFIG [section.key=value ...] -> prints the path of the written config
mkcfg() {
  local name=$1 src=$2
  shift 2
  "$PY" "$TOOLS" mkcfg "$src" "$WORK/$name.yaml" "$@" || exit 1
  echo "$WORK/$name.yaml"
}

# run_job NAME CONFIG [extra geotps run args...]: run, summarise with `geotps info --json`,
# collect into $WORK/NAME.json, delete the HDF5 file. A failed run is recorded, not fatal.
run_job() {
  local name=$1 cfg=$2
  shift 2
  local h5="$WORK/$name.h5" t0 t1 rc
  t0=$(date +%s.%N)
  "$BIN" run "$cfg" --out "$h5" --quiet "$@" >"$WORK/$name.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  if [[ $rc -eq 0 ]]; then
    "$BIN" info "$h5" --json >"$WORK/$name.info.json" 2>>"$WORK/$name.log" || rc=$?
  fi
  {
    echo "rc=$rc"
    echo "elapsed=$("$PY" -c "print($t1 - $t0)")"
    echo "h5=$h5"
    echo "surface=$SURFACE"
    echo "config=$cfg"
  } >"$WORK/$name.meta"
  "$PY" "$TOOLS" collect "$name" "$WORK" || echo "collect failed for $name" >&2
  rm -f -- "$h5"
  if [[ $rc -eq 0 ]]; then
    log "$name: $("$PY" -c "import json,sys; d=json.load(open(sys.argv[1]))['info']; print(f\"MaxEnergy {d['max_energy_mean']:.3f} +- {d['max_energy_std']:.3f}, success {d['success_fraction']:.3f}, geodesic {d['stage_seconds']['geodesic']:.1f} s, sampling {d['stage_seconds']['sampling']:.1f} s\")" "$WORK/$name.json")"
  else
    log "$name: FAILED (exit $rc), see the report"
  fi
}

log "binary $BIN, work dir $WORK"

# a. shipped configs -------------------------------------------------------------------------
run_job a_unconstrained "$(mkcfg a_unconstrained "$CFG/alanine_dipeptide_2d.yaml")"
run_job a_low_variance "$(mkcfg a_low_variance "$CFG/alanine_dipeptide_2d_low_variance.yaml")"
run_job a_region_avoiding "$(mkcfg a_region_avoiding "$CFG/alanine_dipeptide_2d_region_avoiding.yaml")"
run_job a_mueller_brown "$(mkcfg a_mueller_brown "$CFG/mueller_brown.yaml")"

# b. seeds 1..19 of the paper settings (seed 0 = a_unconstrained), and a 1-thread re-run --------
for s in $(seq 1 19); do
  run_job "b_seed$s" "$WORK/a_unconstrained.yaml" --seed "$s"
done
run_job b_threads1 "$(mkcfg b_threads1 "$CFG/alanine_dipeptide_2d.yaml" sampler.threads=1)"

# c. straight line ------------------------------------------------------------------------------
run_job c_straight_line "$(mkcfg c_straight_line "$CFG/alanine_dipeptide_2d.yaml" geodesic.optimizer=none)"

# d. Adam vs L-BFGS (L-BFGS 500 = a_unconstrained) ---------------------------------------------
for n in 2000 10000; do
  run_job "d_adam_$n" "$(mkcfg "d_adam_$n" "$CFG/alanine_dipeptide_2d.yaml" geodesic.optimizer=adam \
    geodesic.learning_rate=0.1 geodesic.max_iterations=$n geodesic.tolerance=0)"
done

# e. sampling sweep (frame_stride 1 so every step can be checked) -------------------------------
while read -r n k ds name; do
  run_job "$name" "$(mkcfg "$name" "$CFG/alanine_dipeptide_2d.yaml" sampler.n_points=$n \
    sampler.steps_per_point=$k sampler.step_size=$ds output.frame_stride=1)"
done < <("$PY" "$TOOLS" sweep)
read -r bn bk bds < <("$PY" "$TOOLS" best "$WORK")
if [[ "$bn" != none ]]; then
  log "best sweep setting: N=$bn K=$bk ds=$bds"
  for s in $("$PY" "$TOOLS" confirm_seeds); do
    run_job "e_confirm_seed$s" "$(mkcfg "e_confirm_seed$s" "$CFG/alanine_dipeptide_2d.yaml" \
      sampler.n_points=$bn sampler.steps_per_point=$bk sampler.step_size=$bds \
      output.frame_stride=0)" --seed "$s"
  done
fi

# report ----------------------------------------------------------------------------------------
COMMIT="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
DIRTY=""
if [[ -n "$(git --no-optional-locks -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  DIRTY=" (working tree has uncommitted changes to tracked files)"
fi
{
  echo "command=$INVOKED"
  echo "date=$START_DATE"
  echo "total_s=$SECONDS"
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "commit=$COMMIT"
  echo "dirty=$DIRTY"
  echo "binary=$BIN"
  echo "binary_mtime=$(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC')"
  echo "version=$("$BIN" --version 2>/dev/null | head -1)"
  echo "work=$WORK"
} >"$WORK/bench.meta"
"$PY" "$TOOLS" report "$WORK" "$OUT_MD" || { echo "report failed" >&2; exit 1; }
# g. full atom (appended) -------------------------------------------------------------------------
log "full-atom section (surface, 100 full-atom paths, export + mdtraj)"
{ echo; bash "$HERE/full_atom_section.sh" "$BIN" "$WORK"; } >>"$OUT_MD"
# h. neural denoiser (appended; needs geotps_denoiser_error next to the binary) -------------------
if [[ "${GEOTPS_BENCH_NEURAL:-1}" == 1 ]]; then
  log "neural-denoiser section (two trainings of about 4 minutes each)"
  { echo; bash "$HERE/neural_denoiser_section.sh" "$(dirname "$BIN")" "$WORK"; } >>"$OUT_MD"
fi
# i. comparison with the baselines (appended) ------------------------------------------------------
if [[ "${GEOTPS_BENCH_COMPARE:-1}" == 1 ]]; then
  log "comparison section (geotps compare, 2D and full atom: about 10 minutes)"
  { echo; bash "$HERE/compare_section.sh" "$BIN" "$WORK"; } >>"$OUT_MD"
fi
printf '\nWhole benchmark run: %d s wall.\n' "$SECONDS" >>"$OUT_MD"
log "wrote $OUT_MD"
