#!/usr/bin/env bash
# Neural-denoiser part of the benchmark (issue: LibTorch denoiser checked against the exact one):
# trains on well- and poorly-equilibrated samples, measures mu errors against the quadrature denoiser
# by l band, and runs the paper-settings job with each network's geodesic (energy re-evaluated with
# the exact denoiser, MaxEnergy over 1000 paths). Prints a Markdown section on stdout.
# Usage: bash bench/neural_denoiser_section.sh BUILD_DIR WORKDIR
set -uo pipefail
BUILD=$1
WORK=$2
BIN="$BUILD/geotps"
ERR="$BUILD/geotps_denoiser_error"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3
SURFACE="$ROOT/data/alanine_dipeptide/phi_psi_surface.dat"

echo "## h. Neural denoiser (LibTorch) against the exact quadrature denoiser"
echo
for kind in good poor; do
  cfg="$ROOT/configs/train_denoiser_alanine_2d.yaml"
  [[ $kind == poor ]] && cfg="$ROOT/configs/train_denoiser_alanine_2d_poor.yaml"
  t0=$(date +%s.%N)
  "$BIN" train-denoiser "$cfg" --quiet --out "$WORK/$kind.pt" >"$WORK/train_$kind.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  label=well; [[ $kind == poor ]] && label=poorly
  echo "### Training on ${label} equilibrated samples (\`geotps train-denoiser $(basename "$cfg")\`)"
  echo
  if [[ $rc -ne 0 ]]; then
    echo "FAILED (exit $rc): $(tail -2 "$WORK/train_$kind.log")"
    echo
    continue
  fi
  echo "Wall time $("$PY" -c "print(f'{$t1 - $t0:.0f}')") s (2 cores). Summary:"
  echo
  echo '```'
  grep -v "^#" "$WORK/train_$kind.log" | tail -8
  grep "^# refinement" "$WORK/train_$kind.log"
  echo '```'
  echo
  echo "Errors of mu against the exact quadrature denoiser (\`geotps_denoiser_error\`; points x = alpha(l) y,"
  echo "y on a 24 x 24 grid over the box, 5 values of l per band):"
  echo
  "$ERR" "$WORK/$kind.pt" "$SURFACE"
  echo
  # The paper-settings job on this network's geodesic.
  "$PY" "$ROOT/bench/bench_tools.py" mkcfg "$ROOT/configs/alanine_dipeptide_2d.yaml" "$WORK/neural_$kind.yaml" \
    denoiser.type=torch "denoiser.model=$WORK/$kind.pt" geodesic.negative_terms=absolute >/dev/null
  "$BIN" run "$WORK/neural_$kind.yaml" --quiet --out "$WORK/neural_$kind.h5" >"$WORK/neural_$kind.log" 2>&1
  if [[ $? -ne 0 ]]; then
    echo "geodesic run FAILED: $(tail -2 "$WORK/neural_$kind.log")"
    echo
    continue
  fi
  "$BIN" info "$WORK/neural_$kind.h5" --json >"$WORK/neural_$kind.json"
  "$PY" - "$WORK/neural_$kind.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("| geodesic from | energy (neural) | energy (exact denoiser) | lowest l | iterations | MaxEnergy nearest | MaxEnergy interp | success | geodesic s |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
print(f"| this network | {d['geodesic_energy']:.3f} | {d['geodesic_energy_exact']:.3f} | {d['min_l']:.3f} | {d['geodesic_iterations']} | "
      f"{d['max_energy_mean']:.3f} ± {d['max_energy_std']:.3f} | {d['max_energy_interpolated_mean']:.3f} ± {d['max_energy_interpolated_std']:.3f} | "
      f"{100 * d['success_fraction']:.1f} % | {d['stage_seconds']['geodesic']:.1f} |")
PY
  echo
done

EMP="$BUILD/geotps_empirical_geodesic"
echo "### What the samples themselves say: geodesics of the samples' empirical distribution"
echo
echo "\`geotps_empirical_geodesic SURFACE N STEPS F\`: the samples drawn as \`train-denoiser\` draws them"
echo "(walkers at F kT, reweighted to kT), the geodesic computed with their empirical distribution"
echo "(point masses; the denoiser a perfectly trained network converges to) and re-evaluated with the"
echo "exact quadrature denoiser; and the exact geodesic evaluated with the empirical distribution."
echo
echo "| samples | Langevin steps | temperature factor F | weights' ESS | empirical geodesic: energy (empirical) | same curve, exact energy | lowest l | exact geodesic: energy (exact) | same curve, empirical energy | s |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for f in 1 3; do
  "$EMP" "$SURFACE" 100000 2000 "$f" 0 || echo "| FAILED (F = $f) |"
done
echo
