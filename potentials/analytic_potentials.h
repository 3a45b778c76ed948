// Analytic test potentials: Mueller-Brown and a double well (2D), and a double well in D dimensions.
// Cheap, smooth, non-periodic.
#pragma once

#include "potentials/potential.h"

namespace geotps {

/// The Mueller-Brown potential (Mueller & Brown, Theor. Chim. Acta 1979) with the standard
/// parameters A = (-200, -100, -170, 15), a = (-1, -1, -6.5, 0.7), b = (0, 0, 11, 0.6),
/// c = (-10, -10, -6.5, 0.7), x0 = (1, 0, -0.5, -1), y0 = (0, 0.5, 1.5, 1), multiplied by `scale`
/// (energy unit: kT after scaling; the configs use scale 0.1 so that barriers are a few tens of
/// kT).
class MuellerBrown final : public Potential {
 public:
  explicit MuellerBrown(double scale = 1.0) : scale_(scale) {}
  int dimension() const override { return 2; }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override;
  std::string name() const override { return "mueller_brown"; }
  double scale() const { return scale_; }

 private:
  double scale_;
};

/// A 2D double well U(x, y) = barrier * (x^2 - 1)^2 + 0.5 * stiffness * y^2, minima at (+-1, 0),
/// barrier height `barrier` at (0, 0). Energy in kT.
class DoubleWell final : public Potential {
 public:
  DoubleWell(double barrier = 5.0, double stiffness = 10.0)
      : barrier_(barrier), stiffness_(stiffness) {}
  int dimension() const override { return 2; }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override;
  std::string name() const override { return "double_well"; }

 private:
  double barrier_, stiffness_;
};

/// A double well along x_0 with D - 1 harmonic directions, coupled to x_0 (docs/method.md, "Analytic
/// potentials in D dimensions"):
///   U(x) = barrier (x_0^2 - 1)^2 + stiffness/2 sum_{d=1}^{D-1} (x_d - coupling (1 - x_0^2))^2.
/// Minima at (+-1, 0, ..., 0) with U = 0; the saddle at (0, c, ..., c) (c = coupling) with U =
/// barrier, so the minimum-energy path bends away from the straight line between the minima, which
/// crosses x_0 = 0 at U = barrier + (D - 1) stiffness c^2 / 2. Energy in kT; D >= 1.
class DoubleWellND final : public Potential {
 public:
  DoubleWellND(int dimension, double barrier = 5.0, double stiffness = 10.0,
               double coupling = 0.0);
  int dimension() const override { return dimension_; }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override;
  std::string name() const override { return "double_well_nd"; }

 private:
  int dimension_;
  double barrier_, stiffness_, coupling_;
};

}  // namespace geotps
