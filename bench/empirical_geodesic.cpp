// Benchmark helper (not a test): the geodesic of the training samples' own empirical distribution,
// i.e. of the denoiser that denoising score matching converges to on those samples (point masses
// at the samples, posterior means by self-normalised weights), re-evaluated with the exact
// quadrature denoiser of the surface. It separates what the samples say about the geometry from
// how well a network learns it.
// Usage: geotps_empirical_geodesic SURFACE.dat N STEPS TEMPERATURE_FACTOR [SEED]
//   samples as `geotps train-denoiser` draws them (Langevin from a Boltzmann-resampled grid,
//   ds = 1e-3, kT = 1, walkers at TEMPERATURE_FACTOR kT and reweighted to kT); end points and
//   geodesic settings of configs/alanine_dipeptide_2d.yaml.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/core/schedule.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/geodesic/curve_energy.h"
#include "engine/geodesic/geodesic_solver.h"
#include "engine/neural/denoiser_training.h"
#include "potentials/tabulated_surface.h"

using namespace geotps;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s SURFACE.dat N STEPS TEMPERATURE_FACTOR [SEED]\n", argv[0]);
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const long long n = std::atoll(argv[2]);
  const int steps = std::atoi(argv[3]);
  const double factor = std::atof(argv[4]);
  const std::uint64_t seed = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 0;
  const auto surface = TabulatedSurface::fromFile(argv[1], 1.0);
  const auto exact = QuadratureDenoiser::fromSurface(*surface, 1.0);
  const auto samples =
      langevinSamples(*surface, factor, {}, {}, n, steps, 1e-3, seed, 0, LangevinStart::Boltzmann);
  const auto logW = temperedLogWeights(*surface, samples, 1.0, factor);
  const double ess = effectiveSampleSize(logW);
  const auto xs = samples.contiguous();
  const double* xp = xs.data_ptr<double>();
  const double* wp = logW.data_ptr<double>();
  Eigen::MatrixXd points(n, 2);
  Eigen::VectorXd logDensity(n);
  for (long long j = 0; j < n; ++j) {
    points(j, 0) = xp[2 * j];
    points(j, 1) = xp[2 * j + 1];
    logDensity[j] = wp[j];
  }
  const QuadratureDenoiser empirical(points, logDensity, 1.0);
  Eigen::VectorXd a(2), b(2);
  a << -2.55, 2.7;
  b << 0.95, -0.4;
  const Eigen::VectorXd zA = spacetimePoint(4.0, a), zB = spacetimePoint(4.0, b);
  GeodesicSettings gs;  // 128 points, 10 nodes, L-BFGS
  gs.maxIterations = 2000;
  const GeodesicResult geo = solveGeodesic(empirical, zA, zB, gs);
  const GeodesicResult ref = solveGeodesic(*exact, zA, zB, gs);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("| {} | {} | {} | {:.0f} | {:.3f} | {:.3f} | {:.2f} | {:.3f} | {:.3f} | {:.0f} |\n", n,
             steps, factor, ess, geo.evaluation.energy, evaluateCurve(*exact, geo.z, false).energy,
             geo.z.col(0).minCoeff(), ref.evaluation.energy,
             evaluateCurve(empirical, ref.z, false).energy, seconds);
  return 0;
}
