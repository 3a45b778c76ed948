// The (phi, psi) free-energy surface of a molecule at the dynamics' temperature, by umbrella
// sampling on a grid of windows and binned two-dimensional WHAM (`geotps surface` with
// surface.kind free_energy; docs/method.md, "Free-energy surface").
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/progress.h"
#include "engine/molecule/molecule.h"
#include "engine/molecule/settings.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

/// Binned WHAM on the periodic (phi, psi) square: n x n bins centred at -pi + i * 2pi / n (the
/// grid of `geotps surface`), windows with the harmonic bias u_k = 1/2 kappa (w(phi - phi_k)^2 +
/// w(psi - psi_k)^2), w the wrap to (-pi, pi].
struct WhamInput {
  int bins = 0;                 ///< bins per angle, n
  double reducedStiffness = 0;  ///< beta * kappa, 1/rad^2
  std::vector<std::array<double, 2>> centres;  ///< window centres (phi_k, psi_k), rad
  /// Per window: (bin index j * n + i, count) pairs, i the phi bin and j the psi bin. Counts may
  /// be fractional (expected counts in tests).
  std::vector<std::vector<std::pair<int, double>>> histograms;
  /// Window-bin pairs whose reduced bias beta u exceeds this are left out of a bin's denominator
  /// unless the window has counts there (their weight, below e^-cutoff, does not change the result
  /// at double precision for any surface spanning less than about cutoff kT).
  double cutoff = 200.0;
};

struct WhamResult {
  /// beta F per bin (index j * n + i), shifted so that its minimum is 0; NaN for bins without
  /// samples.
  std::vector<double> reducedFreeEnergy;
  std::vector<double> windowFreeEnergy;  ///< f_k = -ln <e^{-beta u_k}>, f of the first window 0
  int iterations = 0;        ///< L-BFGS iterations (0 when the line search stopped it)
  long long evaluations = 0;  ///< objective evaluations
  double gradientNorm = 0;  ///< |grad| of the objective (divided by the sample count) at the end
  std::string stopReason;
};

/// Solves the WHAM equations as the minimum of the convex function (Zhu and Hummer 2012)
///   A(f) = -sum_k N_k f_k + sum_b M_b ln sum_k N_k exp(f_k - beta u_kb),
/// N_k the samples of window k and M_b those of bin b, with L-BFGS; then
/// beta F_b = ln sum_k N_k exp(f_k - beta u_kb) - ln M_b. Deterministic for any `threads`.
WhamResult solveWham(const WhamInput& input, int threads);

struct UmbrellaResult {
  Grid2D grid;           ///< F in kJ/mol, minimum 0; bins without samples hold `fillValue`
  long long samples = 0;  ///< recorded (phi, psi) over all windows
  int emptyBins = 0;      ///< bins no window sampled
  double fillValue = 0;   ///< kJ/mol written there: the highest sampled F
  WhamResult wham;
};

/// Umbrella sampling with the surface.* settings (windows, umbrella_stiffness, equilibration,
/// sampling and stride; grid_size bins; restraint_stiffness and tolerance for the placing
/// minimisations) and the Langevin dynamics of `dynamics` (friction, time step): row j of windows
/// (psi_j = -pi + j * 2pi / windows) is one walker (random stream j of `seed`, so the result does
/// not depend on `threads`) placed from state A by restrained minimisations in steps of at most
/// 0.25 rad, then moved through phi_i = -pi + i * 2pi / windows; at each window the umbrella bias
/// is set, velocities are drawn, the walker equilibrates and then records (phi, psi) every
/// sample_stride steps. The histograms go to solveWham. `progress` counts windows.
UmbrellaResult umbrellaFreeEnergy(const FullAtomSetup& setup, const SurfaceSettings& surface,
                                  const MoleculeSettings& dynamics, std::uint64_t seed,
                                  int threads, const ProgressCallback& progress = {});

}  // namespace geotps
