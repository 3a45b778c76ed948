// Analytic test potentials (Mueller-Brown and a double well in 2D, a coupled double well in D
// dimensions): energies and exact gradients, used as cheap, smooth benchmarks for the engine.
#include "potentials/analytic_potentials.h"

#include <cmath>
#include <stdexcept>

namespace geotps {

namespace {

// Standard Mueller-Brown parameters (Mueller & Brown 1979), energy in the paper's units.
constexpr double kA[4] = {-200.0, -100.0, -170.0, 15.0};
constexpr double ka[4] = {-1.0, -1.0, -6.5, 0.7};
constexpr double kb[4] = {0.0, 0.0, 11.0, 0.6};
constexpr double kc[4] = {-10.0, -10.0, -6.5, 0.7};
constexpr double kX0[4] = {1.0, 0.0, -0.5, -1.0};
constexpr double kY0[4] = {0.0, 0.5, 1.5, 1.0};

}  // namespace

void MuellerBrown::evaluate(const double* x, std::size_t n, double* energy,
                            double* gradient) const {
  for (std::size_t p = 0; p < n; ++p) {
    const double px = x[2 * p], py = x[2 * p + 1];
    double u = 0.0, gx = 0.0, gy = 0.0;
    for (int k = 0; k < 4; ++k) {
      const double dx = px - kX0[k], dy = py - kY0[k];
      const double e = kA[k] * std::exp(ka[k] * dx * dx + kb[k] * dx * dy + kc[k] * dy * dy);
      u += e;
      gx += e * (2.0 * ka[k] * dx + kb[k] * dy);
      gy += e * (kb[k] * dx + 2.0 * kc[k] * dy);
    }
    energy[p] = scale_ * u;
    if (gradient) {
      gradient[2 * p] = scale_ * gx;
      gradient[2 * p + 1] = scale_ * gy;
    }
  }
}

void DoubleWell::evaluate(const double* x, std::size_t n, double* energy, double* gradient) const {
  for (std::size_t p = 0; p < n; ++p) {
    const double px = x[2 * p], py = x[2 * p + 1];
    const double s = px * px - 1.0;
    energy[p] = barrier_ * s * s + 0.5 * stiffness_ * py * py;
    if (gradient) {
      gradient[2 * p] = 4.0 * barrier_ * px * s;
      gradient[2 * p + 1] = stiffness_ * py;
    }
  }
}

DoubleWellND::DoubleWellND(int dimension, double barrier, double stiffness, double coupling)
    : dimension_(dimension), barrier_(barrier), stiffness_(stiffness), coupling_(coupling) {
  if (dimension < 1) throw std::invalid_argument("double_well_nd: dimension must be >= 1");
}

void DoubleWellND::evaluate(const double* x, std::size_t n, double* energy,
                            double* gradient) const {
  const int D = dimension_;
  for (std::size_t p = 0; p < n; ++p) {
    const double* xp = x + p * D;
    const double x0 = xp[0], s = x0 * x0 - 1.0;
    const double centre = -coupling_ * s;  // coupling (1 - x0^2)
    double u = barrier_ * s * s, pull = 0.0;
    for (int d = 1; d < D; ++d) {
      const double dev = xp[d] - centre;
      u += 0.5 * stiffness_ * dev * dev;
      pull += dev;
    }
    energy[p] = u;
    if (gradient) {
      double* gp = gradient + p * D;
      // d centre / d x0 = -2 coupling x0, so each harmonic term adds stiffness dev 2 coupling x0.
      gp[0] = 4.0 * barrier_ * x0 * s + 2.0 * stiffness_ * coupling_ * x0 * pull;
      for (int d = 1; d < D; ++d) gp[d] = stiffness_ * (xp[d] - centre);
    }
  }
}

}  // namespace geotps
