// A 2D potential tabulated on a periodic grid (e.g. the alanine dipeptide (phi, psi) surface),
// interpolated by a periodic bicubic spline with an analytic gradient.
#pragma once

#include <string>
#include <vector>

#include "potentials/potential.h"

namespace geotps {

/// A regular periodic grid of values: point (i, j) sits at (x0 + i*hx, y0 + j*hy),
/// i in [0, nx), j in [0, ny); value(i, j) = values[j*nx + i] (x varies fastest, as in the file).
///
/// The *data box* is the union of the grid cells centred on the points:
/// [x0 - hx/2, x0 + (nx - 1/2) hx) x [y0 - hy/2, y0 + (ny - 1/2) hy). The period is (nx*hx, ny*hy).
/// The denoiser, the interpolant, the nearest-grid lookup and the docs all use this one box.
struct Grid2D {
  int nx = 0, ny = 0;
  double x0 = 0.0, y0 = 0.0;   ///< coordinates of point (0, 0), in rad for the alanine surface
  double hx = 0.0, hy = 0.0;   ///< spacing, in rad for the alanine surface
  std::vector<double> values;  ///< U at the points, nx*ny values, in kT for the alanine surface

  double value(int i, int j) const { return values[static_cast<std::size_t>(j) * nx + i]; }
  double boxLowX() const { return x0 - 0.5 * hx; }
  double boxLowY() const { return y0 - 0.5 * hy; }
  double periodX() const { return nx * hx; }
  double periodY() const { return ny * hy; }
  /// Wraps (x, y) into the data box.
  void wrap(double& x, double& y) const;
  /// Indices of the grid point nearest to (x, y) under periodic wrapping.
  void nearest(double x, double y, int& i, int& j) const;
};

/// Reads a grid file of whitespace-separated `x y U` rows (lines starting with '#' are comments),
/// x varying fastest. Validates that the rows form a complete regular grid with uniform spacing
/// whose period is nx*hx (and ny*hy) and that every U is finite; throws std::runtime_error naming
/// the file and line (and what was expected) otherwise. `expectedPeriod` (> 0) additionally
/// requires nx*hx == ny*hy == expectedPeriod to 1e-6 relative.
Grid2D readGridFile(const std::string& path, double expectedPeriod = 0.0);

/// The tabulated surface as a Potential: periodic bicubic-spline interpolation (C2, the tensor
/// product of periodic cubic splines through the grid values) with its analytic gradient.
/// `energyScale` multiplies the file's values (e.g. 1 for a file already in kT).
class TabulatedSurface final : public Potential {
 public:
  explicit TabulatedSurface(Grid2D grid, std::string sourcePath = "", double energyScale = 1.0);

  /// Loads `path` with readGridFile.
  static std::shared_ptr<TabulatedSurface> fromFile(const std::string& path,
                                                    double energyScale = 1.0,
                                                    double expectedPeriod = 0.0);

  int dimension() const override { return 2; }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override;
  std::string name() const override { return "tabulated_surface"; }
  std::string coordinateUnit() const override { return "rad"; }
  bool isPeriodic() const override { return true; }
  double boxLow(int d) const override { return d == 0 ? grid_.boxLowX() : grid_.boxLowY(); }
  double period(int d) const override { return d == 0 ? grid_.periodX() : grid_.periodY(); }

  /// U at the grid point nearest to x (periodic), as the paper's evaluation does. In the grid's
  /// unit.
  double nearestGridEnergy(const double* x) const;
  /// The (scaled) grid.
  const Grid2D& grid() const { return grid_; }
  const std::string& sourcePath() const { return sourcePath_; }

 private:
  Grid2D grid_;
  std::string sourcePath_;
  // 16 bicubic coefficients per cell, cell (i, j) spans points i..i+1, j..j+1 (wrapping).
  std::vector<double> coeffs_;
};

}  // namespace geotps
