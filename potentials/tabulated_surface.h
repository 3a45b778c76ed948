// A 2D potential tabulated on a regular grid (e.g. the alanine dipeptide (phi, psi) surface), each
// axis periodic or not, interpolated by a bicubic spline with an analytic gradient
// (docs/method.md, "The tabulated surface").
#pragma once

#include <array>
#include <string>
#include <vector>

#include "potentials/potential.h"

namespace geotps {

/// A regular grid of values: point (i, j) sits at (x0 + i*hx, y0 + j*hy),
/// i in [0, nx), j in [0, ny); value(i, j) = values[j*nx + i] (x varies fastest, as in the file).
///
/// The *data box* is the union of the grid cells centred on the points:
/// [x0 - hx/2, x0 + (nx - 1/2) hx) x [y0 - hy/2, y0 + (ny - 1/2) hy). Along a periodic axis the
/// period is nx*hx (ny*hy); a non-periodic axis has none (its points are not wrapped). The
/// denoiser, the interpolant, the nearest-grid lookup and the docs all use this one box.
struct Grid2D {
  int nx = 0, ny = 0;
  double x0 = 0.0, y0 = 0.0;   ///< coordinates of point (0, 0), in rad for the alanine surface
  double hx = 0.0, hy = 0.0;   ///< spacing, in rad for the alanine surface
  std::vector<double> values;  ///< U at the points, nx*ny values, in kT for the alanine surface
  bool periodicX = true, periodicY = true;  ///< whether the x (y) axis is periodic

  double value(int i, int j) const { return values[static_cast<std::size_t>(j) * nx + i]; }
  double boxLowX() const { return x0 - 0.5 * hx; }
  double boxLowY() const { return y0 - 0.5 * hy; }
  /// Width of the data box along x (y): nx*hx (ny*hy), the period when that axis is periodic.
  double periodX() const { return nx * hx; }
  double periodY() const { return ny * hy; }
  /// Wraps the coordinates of the periodic axes into the data box; a non-periodic one is kept.
  void wrap(double& x, double& y) const;
  /// Indices of the grid point nearest to (x, y): under periodic wrapping along a periodic axis,
  /// the nearest end point (clamped) along a non-periodic axis.
  void nearest(double x, double y, int& i, int& j) const;
};

/// Reads a grid file of whitespace-separated `x y U` rows (lines starting with '#' are comments),
/// x varying fastest. Validates that the rows form a complete regular grid with uniform spacing
/// and that every U is finite; along a periodic axis (`periodic[0]` for x, `[1]` for y) the period
/// is n*h, and a grid listing both ends of a full turn (2 pi) is refused. Throws
/// std::runtime_error naming the file and line (and what was expected) otherwise.
/// `expectedPeriod` (> 0) additionally requires nx*hx == ny*hy == expectedPeriod to 1e-6
/// relative. The returned grid carries `periodic`.
Grid2D readGridFile(const std::string& path, double expectedPeriod = 0.0,
                    std::array<bool, 2> periodic = {true, true});

/// The tabulated surface as a Potential: bicubic-spline interpolation (C2, the tensor product of
/// cubic splines through the grid values: periodic along a periodic axis, natural (zero second
/// derivative at the end points) along a non-periodic one) with its analytic gradient. Beyond the
/// end points of a non-periodic axis the spline continues linearly with its end slope (which keeps
/// it C2, the natural spline's second derivative being 0 there). The axes' periodicity is the
/// grid's (Grid2D::periodicX, periodicY). `energyScale` multiplies the file's values (e.g. 1 for a
/// file already in kT).
class TabulatedSurface final : public Potential {
 public:
  explicit TabulatedSurface(Grid2D grid, std::string sourcePath = "", double energyScale = 1.0);

  /// Loads `path` with readGridFile.
  static std::shared_ptr<TabulatedSurface> fromFile(const std::string& path,
                                                    double energyScale = 1.0,
                                                    double expectedPeriod = 0.0,
                                                    std::array<bool, 2> periodic = {true, true});

  int dimension() const override { return 2; }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override;
  std::string name() const override { return "tabulated_surface"; }
  std::string coordinateUnit() const override { return "rad"; }
  /// True when at least one axis is periodic; period(d) is 0 along a non-periodic axis.
  bool isPeriodic() const override { return grid_.periodicX || grid_.periodicY; }
  bool axisPeriodic(int d) const { return d == 0 ? grid_.periodicX : grid_.periodicY; }
  double boxLow(int d) const override { return d == 0 ? grid_.boxLowX() : grid_.boxLowY(); }
  double period(int d) const override {
    if (!axisPeriodic(d)) return 0.0;
    return d == 0 ? grid_.periodX() : grid_.periodY();
  }
  /// The data box of the grid, periodic axes or not.
  bool hasDataBox() const override { return true; }
  double boxHigh(int d) const override {
    return boxLow(d) + (d == 0 ? grid_.periodX() : grid_.periodY());
  }

  /// U at the grid point nearest to x (Grid2D::nearest), as the paper's evaluation does. In the
  /// grid's unit.
  double nearestGridEnergy(const double* x) const;
  /// The (scaled) grid.
  const Grid2D& grid() const { return grid_; }
  const std::string& sourcePath() const { return sourcePath_; }

 private:
  Grid2D grid_;
  std::string sourcePath_;
  // 16 bicubic coefficients per cell, cell (i, j) spans points i..i+1, j..j+1 (wrapping along a
  // periodic axis; along a non-periodic one the last cell, n-1, is unused).
  std::vector<double> coeffs_;
  // The general evaluation (any non-periodic axis); evaluate() keeps the all-periodic fast path.
  void evaluateGeneral(const double* x, std::size_t n, double* energy, double* gradient) const;
};

}  // namespace geotps
