// Benchmark helper (not a test): errors of a trained neural denoiser's expectation parameter mu
// against the exact quadrature denoiser on a grid of spacetime points, by log-SNR band.
// Usage: geotps_denoiser_error MODEL.pt SURFACE.dat [kT]
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include "engine/core/schedule.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/geodesic/geodesic_solver.h"
#include "engine/neural/denoiser_network.h"
#include "engine/neural/torch_denoiser.h"
#include "potentials/tabulated_surface.h"

using namespace geotps;

namespace {
double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * (v.size() - 1))];
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.pt SURFACE.dat [kT]\n", argv[0]);
    return 2;
  }
  const double kT = argc > 3 ? std::atof(argv[3]) : 1.0;
  auto surface = TabulatedSurface::fromFile(argv[2]);
  auto exact = QuadratureDenoiser::fromSurface(*surface, kT);
  auto neural = TorchDenoiser::fromNetwork(loadDenoiser(argv[1]));
  // Spacetime points: l bands, and x = alpha(l) * y with y on a 24 x 24 grid over the data box (the
  // noisy states a clean datum produces on average; covers the region curves visit).
  const std::vector<std::pair<double, double>> bands = {{-8, -4}, {-4, -2}, {-2, 0},
                                                        {0, 2},   {2, 4},   {4, 6}};
  fmt::print(
      "| l band | points | median abs error E[x0|z] (rad) | 95th pct | median rel error "
      "E[|x0|^2|z] | 95th pct |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
  for (const auto& [lo, hi] : bands) {
    Eigen::MatrixXd z;
    std::vector<Eigen::RowVector3d> rows;
    for (int il = 0; il < 5; ++il) {
      const double l = lo + (hi - lo) * (il + 0.5) / 5;
      for (int i = 0; i < 24; ++i) {
        for (int j = 0; j < 24; ++j) {
          const double y0 = -std::numbers::pi + (i + 0.5) * 2 * std::numbers::pi / 24;
          const double y1 = -std::numbers::pi + (j + 0.5) * 2 * std::numbers::pi / 24;
          rows.emplace_back(l, alphaOf(l) * y0, alphaOf(l) * y1);
        }
      }
    }
    z.resize(static_cast<Eigen::Index>(rows.size()), 3);
    for (std::size_t k = 0; k < rows.size(); ++k) z.row(static_cast<Eigen::Index>(k)) = rows[k];
    std::vector<PosteriorMoments> a, b;
    exact->evaluate(z, false, a);
    neural->evaluate(z, false, b);
    std::vector<double> ex, e2;
    for (std::size_t k = 0; k < a.size(); ++k) {
      ex.push_back((a[k].mu.head(2) - b[k].mu.head(2)).norm());
      e2.push_back(std::abs(a[k].mu[2] - b[k].mu[2]) / std::max(1e-12, std::abs(a[k].mu[2])));
    }
    fmt::print("| [{}, {}) | {} | {:.4f} | {:.4f} | {:.4f} | {:.4f} |\n", lo, hi, ex.size(),
               quantile(ex, 0.5), quantile(ex, 0.95), quantile(e2, 0.5), quantile(e2, 0.95));
  }

  // Along the exact geodesic (paper settings: alanine states at l = 4, 10 nodes, 128 points): does
  // the network see the exact geodesic as short, and how far off is mu where the curve goes?
  const Eigen::VectorXd zA = spacetimePoint(4.0, Eigen::Vector2d(-2.55, 2.7));
  const Eigen::VectorXd zB = spacetimePoint(4.0, Eigen::Vector2d(0.95, -0.4));
  GeodesicSettings gs;
  gs.maxIterations = 2000;
  const GeodesicResult geo = solveGeodesic(*exact, zA, zB, gs);
  const CurveEvaluation ex = evaluateCurve(*exact, geo.z, false);
  const CurveEvaluation nn = evaluateCurve(*neural, geo.z, false);
  const double nnAbsolute = evaluateCurve(*neural, geo.z, false, NegativeTerms::Absolute).energy;
  std::vector<double> dx, d2;
  int negative = 0;
  for (Eigen::Index n = 0; n < geo.z.rows(); ++n) {
    dx.push_back((ex.mu.row(n).head(2) - nn.mu.row(n).head(2)).norm());
    d2.push_back(std::abs(ex.mu(n, 2) - nn.mu(n, 2)) / std::max(1e-12, std::abs(ex.mu(n, 2))));
    if (n + 1 < geo.z.rows() &&
        (nn.eta.row(n + 1) - nn.eta.row(n)).dot(nn.mu.row(n + 1) - nn.mu.row(n)) < 0) {
      ++negative;
    }
  }
  fmt::print(
      "\nAlong the exact geodesic ({} points, lowest l {:.2f}): curve energy {:.3f} with the exact "
      "denoiser, {:.3f} with the network ({} of {} segment terms negative, clamped to 0; "
      "{:.3f} with their magnitudes); "
      "error of E[x0|z] median {:.4f}, 95th pct {:.4f}, max {:.4f} rad; relative error of "
      "E[|x0|^2|z] median {:.4f}, 95th pct {:.4f}.\n",
      geo.z.rows(), geo.z.col(0).minCoeff(), ex.energy, nn.energy, negative, geo.z.rows() - 1,
      nnAbsolute, quantile(dx, 0.5), quantile(dx, 0.95), quantile(dx, 1.0), quantile(d2, 0.5),
      quantile(d2, 0.95));
  return 0;
}
