// Tabulated 2D surfaces: reading and validating grid files, periodic wrapping and nearest-grid
// lookup, and the C2 bicubic-spline interpolant (periodic or natural per axis; value and analytic
// gradient) that turns a grid such as the alanine dipeptide (phi, psi) surface into a Potential
// (docs/method.md, "The tabulated surface").
#include "potentials/tabulated_surface.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

#include "potentials/input_file.h"

namespace geotps {

namespace {

/// Wraps `x` into [low, low + period). Units: whatever unit x is in (rad for the alanine surface).
double wrapInto(double x, double low, double period) {
  double w = x - period * std::floor((x - low) / period);
  // Rounding can land exactly on the (excluded) upper end, or a hair below `low`.
  if (w >= low + period || w < low) w = low;
  return w;
}

/// floor(t) for finite t without a libm call (std::floor is not inlined on baseline x86-64, and
/// this sits on the hot paths of TabulatedSurface::evaluate and the nearest-grid lookup).
inline double fastFloor(double t) {
  if (std::abs(t) < 4.0e15) {
    const double k = static_cast<double>(static_cast<long long>(t));  // truncates toward zero
    return k > t ? k - 1.0 : k;
  }
  return std::floor(t);
}

/// Periodic cell index of the half-open interval [x0 + (k - 1/2) h, x0 + (k + 1/2) h), i.e. the
/// index of the nearest grid point, consistent with the data box. Returns 0 for non-finite input.
int nearestIndex(double x, double x0, double h, int n) {
  const double t = (x - x0) / h + 0.5;  // in units of the spacing, shifted to cell starts
  if (!std::isfinite(t)) return 0;
  const double tw = t - n * fastFloor(t / n);  // in [0, n], rounding may give exactly n
  int k = static_cast<int>(tw);
  if (k >= n) k -= n;
  if (k < 0) k = 0;
  return k;
}

/// Index of the grid point nearest to x along a non-periodic axis: the nearest of 0..n-1, the end
/// point for positions beyond the grid. Returns 0 for non-finite input.
int clampedNearestIndex(double x, double x0, double h, int n) {
  const double t = (x - x0) / h + 0.5;
  if (!std::isfinite(t)) return 0;
  if (t <= 0.0) return 0;
  if (t >= n) return n - 1;
  const int k = static_cast<int>(t);
  return k >= n ? n - 1 : k;
}

/// One data row of a grid file with the 1-based line it came from.
struct Row {
  double x, y, u;
  long line;
};

/// Parses one whitespace-separated field as a finite double, or throws naming file and line.
double parseField(std::string_view tok, const std::string& path, long line, int column) {
  static const char* const kColumnNames[3] = {"x", "y", "U"};
  std::string_view s = tok;
  if (s.size() > 1 && s.front() == '+') s.remove_prefix(1);  // from_chars rejects a leading '+'
  double v = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    throw std::runtime_error(fmt::format("{}:{}: expected a number in column {} ({}), got '{}'",
                                         path, line, column + 1, kColumnNames[column], tok));
  }
  if (!std::isfinite(v)) {
    throw std::runtime_error(
        fmt::format("{}:{}: expected a finite number in column {} ({}), got '{}'", path, line,
                    column + 1, kColumnNames[column], tok));
  }
  // Beyond this the spline's derivatives and exp(-U) over- or underflow in double precision; no
  // surface in kT or kJ/mol comes near it.
  constexpr double kMaxMagnitude = 1e12;
  if (std::abs(v) > kMaxMagnitude) {
    throw std::runtime_error(
        fmt::format("{}:{}: column {} ({}) is {}; expected a magnitude of at most 1e12", path, line,
                    column + 1, kColumnNames[column], tok));
  }
  return v;
}

/// Solves the periodic cubic-spline system for the knot derivatives m_k of n equally spaced values
/// f_k (spacing h, period n*h):  m_{k-1} + 4 m_k + m_{k+1} = 3 (f_{k+1} - f_{k-1}) / h,
/// indices mod n. `f` and `m` are strided views (element k at f[k*stride]); `work` has room for
/// 3n doubles. A cyclic tridiagonal solve (Thomas algorithm plus a Sherman-Morrison correction);
/// the matrix is strictly diagonally dominant, so no pivoting is needed. Requires n >= 3.
void periodicSplineDerivatives(int n, double h, const double* f, std::size_t fstride, double* m,
                               std::size_t mstride, std::vector<double>& work) {
  work.assign(3 * static_cast<std::size_t>(n), 0.0);
  double* cp = work.data();  // modified super-diagonal
  double* x = cp + n;        // solution of A' x = r
  double* z = x + n;         // solution of A' z = u
  // A = A' + u v^T with u = (gamma, 0, ..., 0, 1), v = (1, 0, ..., 0, 1/gamma), gamma = -4.
  const double gamma = -4.0;
  const double diag0 = 4.0 - gamma;
  const double diagLast = 4.0 - 1.0 / gamma;
  auto F = [&](int k) { return f[static_cast<std::size_t>((k + n) % n) * fstride]; };
  // Forward sweep for both right-hand sides at once (same matrix A').
  double denom = diag0;
  cp[0] = 1.0 / denom;
  x[0] = 3.0 * (F(1) - F(-1)) / h / denom;
  z[0] = gamma / denom;
  for (int k = 1; k < n; ++k) {
    const double d = (k == n - 1 ? diagLast : 4.0);
    denom = d - cp[k - 1];
    cp[k] = 1.0 / denom;
    const double r = 3.0 * (F(k + 1) - F(k - 1)) / h;
    const double u = (k == n - 1 ? 1.0 : 0.0);
    x[k] = (r - x[k - 1]) / denom;
    z[k] = (u - z[k - 1]) / denom;
  }
  for (int k = n - 2; k >= 0; --k) {
    x[k] -= cp[k] * x[k + 1];
    z[k] -= cp[k] * z[k + 1];
  }
  const double fact = (x[0] + x[n - 1] / gamma) / (1.0 + z[0] + z[n - 1] / gamma);
  for (int k = 0; k < n; ++k) m[static_cast<std::size_t>(k) * mstride] = x[k] - fact * z[k];
}

/// Solves the natural cubic-spline system for the knot derivatives m_k of n equally spaced values
/// f_k (spacing h): zero second derivative at both end points,
///   2 m_0 + m_1 = 3 (f_1 - f_0) / h,   m_{n-2} + 2 m_{n-1} = 3 (f_{n-1} - f_{n-2}) / h,
/// and m_{k-1} + 4 m_k + m_{k+1} = 3 (f_{k+1} - f_{k-1}) / h inside. Strided views as in
/// periodicSplineDerivatives; `work` has room for n doubles. A tridiagonal (Thomas) solve; the
/// matrix is diagonally dominant, so no pivoting is needed. Requires n >= 2.
void naturalSplineDerivatives(int n, double h, const double* f, std::size_t fstride, double* m,
                              std::size_t mstride, std::vector<double>& work) {
  work.assign(static_cast<std::size_t>(n), 0.0);
  double* cp = work.data();  // modified super-diagonal
  auto F = [&](int k) { return f[static_cast<std::size_t>(k) * fstride]; };
  auto M = [&](int k) -> double& { return m[static_cast<std::size_t>(k) * mstride]; };
  // Forward sweep: row k is a_k m_{k-1} + b_k m_k + c_k m_{k+1} = r_k.
  double b = 2.0;
  cp[0] = 1.0 / b;
  M(0) = 3.0 * (F(1) - F(0)) / h / b;
  for (int k = 1; k < n; ++k) {
    const bool last = (k == n - 1);
    const double bk = last ? 2.0 : 4.0;
    const double r = last ? 3.0 * (F(k) - F(k - 1)) / h : 3.0 * (F(k + 1) - F(k - 1)) / h;
    const double denom = bk - cp[k - 1];
    cp[k] = last ? 0.0 : 1.0 / denom;
    M(k) = (r - M(k - 1)) / denom;
  }
  for (int k = n - 2; k >= 0; --k) M(k) -= cp[k] * M(k + 1);
}

/// Cubic Hermite basis powers along one axis at grid coordinate t (position in units of the
/// spacing from point 0): the cell `cell`, the powers B = (1, u, u^2, u^3) of the local coordinate
/// u and their derivatives dB = dB/du. Periodic axis: t is wrapped by whole periods. Non-periodic
/// axis: the cell is clamped to 0..n-2 and, beyond the end points, the cubic is continued linearly
/// from the end point uc (0 or 1): B = B(uc) + (u - uc) dB(uc), dB = dB(uc).
void axisBasis(double t, int n, bool periodic, int& cell, double B[4], double dB[4]) {
  double u = 0.0;
  if (periodic) {
    t -= n * fastFloor(t / n);
    int i = static_cast<int>(t);
    if (i >= n) i = n - 1;
    if (i < 0) i = 0;
    cell = i;
    u = t - i;
  } else {
    double fi = fastFloor(t);
    if (fi > n - 2) fi = n - 2;
    if (fi < 0) fi = 0;
    cell = static_cast<int>(fi);
    u = t - fi;
  }
  const double uc = u < 0.0 ? 0.0 : (u > 1.0 ? 1.0 : u);
  dB[0] = 0.0;
  dB[1] = 1.0;
  dB[2] = 2.0 * uc;
  dB[3] = 3.0 * uc * uc;
  B[0] = 1.0;
  B[1] = uc;
  B[2] = uc * uc;
  B[3] = uc * uc * uc;
  if (u != uc) {
    const double d = u - uc;
    for (int a = 0; a < 4; ++a) B[a] += d * dB[a];
  }
}

}  // namespace

void Grid2D::wrap(double& x, double& y) const {
  if (periodicX) x = wrapInto(x, boxLowX(), periodX());
  if (periodicY) y = wrapInto(y, boxLowY(), periodY());
}

void Grid2D::nearest(double x, double y, int& i, int& j) const {
  i = periodicX ? nearestIndex(x, x0, hx, nx) : clampedNearestIndex(x, x0, hx, nx);
  j = periodicY ? nearestIndex(y, y0, hy, ny) : clampedNearestIndex(y, y0, hy, ny);
}

Grid2D readGridFile(const std::string& path, double expectedPeriod, std::array<bool, 2> periodic) {
  std::istringstream in(readInputFile(path, "a grid file of `x y U` rows"));
  std::vector<Row> rows;
  std::string line;
  long lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    std::string_view s(line);
    std::size_t first = s.find_first_not_of(" \t\r\f\v");
    if (first == std::string_view::npos || s[first] == '#') continue;  // blank or comment
    std::string_view toks[3];
    int count = 0;
    std::size_t pos = first;
    while (pos != std::string_view::npos && pos < s.size()) {
      const std::size_t end = s.find_first_of(" \t\r\f\v", pos);
      const std::string_view tok = s.substr(pos, end == std::string_view::npos ? end : end - pos);
      if (count < 3) toks[count] = tok;
      ++count;
      pos = (end == std::string_view::npos) ? end : s.find_first_not_of(" \t\r\f\v", end);
    }
    if (count != 3) {
      throw std::runtime_error(
          fmt::format("{}:{}: expected 3 numbers `x y U`, got {}", path, lineNo, count));
    }
    Row r{};
    r.x = parseField(toks[0], path, lineNo, 0);
    r.y = parseField(toks[1], path, lineNo, 1);
    r.u = parseField(toks[2], path, lineNo, 2);
    r.line = lineNo;
    rows.push_back(r);
  }
  if (rows.size() < 4) {
    throw std::runtime_error(fmt::format(
        "{}: expected a grid of at least 2 x 2 `x y U` rows, got {} data rows", path, rows.size()));
  }

  // nx: length of the first run of rows along which x increases (x varies fastest).
  if (!(rows[1].x > rows[0].x)) {
    throw std::runtime_error(fmt::format(
        "{}:{}: expected x to increase along a row (x varies fastest), got x = {} after x = {}",
        path, rows[1].line, rows[1].x, rows[0].x));
  }
  std::size_t nx = 1;
  while (nx < rows.size() && rows[nx].x > rows[nx - 1].x) ++nx;
  if (nx == rows.size()) {
    throw std::runtime_error(fmt::format(
        "{}:{}: expected at least 2 y values (rows with x varying fastest), got a single row", path,
        rows.back().line));
  }
  if (rows.size() % nx != 0) {
    throw std::runtime_error(fmt::format(
        "{}:{}: incomplete grid: expected a multiple of nx = {} data rows (nx points per y value), "
        "got {} rows",
        path, rows.back().line, nx, rows.size()));
  }
  const std::size_t ny = rows.size() / nx;
  Grid2D g;
  g.nx = static_cast<int>(nx);
  g.ny = static_cast<int>(ny);
  g.x0 = rows[0].x;
  g.y0 = rows[0].y;
  // Spacing fitted over the whole extent (less rounding than one difference), then checked.
  g.hx = (rows[nx - 1].x - rows[0].x) / static_cast<double>(nx - 1);
  g.hy = (rows[(ny - 1) * nx].y - rows[0].y) / static_cast<double>(ny - 1);
  if (!(g.hy > 0.0)) {
    throw std::runtime_error(
        fmt::format("{}:{}: expected y to increase from one row of the grid to the next, got y = "
                    "{} after y = {}",
                    path, rows[nx].line, rows[nx].y, rows[0].y));
  }
  constexpr double kRelTol = 1e-6;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const std::size_t i = k % nx, j = k / nx;
    const double ex = g.x0 + static_cast<double>(i) * g.hx;
    const double ey = g.y0 + static_cast<double>(j) * g.hy;
    if (std::abs(rows[k].x - ex) > kRelTol * g.hx) {
      throw std::runtime_error(fmt::format(
          "{}:{}: expected x = {:.10g} (point {} of {} along x, uniform spacing {:.10g}), got "
          "x = {:.10g}: grid is incomplete or not uniform",
          path, rows[k].line, ex, i, nx, g.hx, rows[k].x));
    }
    if (std::abs(rows[k].y - ey) > kRelTol * g.hy) {
      throw std::runtime_error(fmt::format(
          "{}:{}: expected y = {:.10g} (point {} of {} along y, uniform spacing {:.10g}), got "
          "y = {:.10g}: grid is incomplete or not uniform",
          path, rows[k].line, ey, j, ny, g.hy, rows[k].y));
    }
  }
  // Along a periodic axis the period is n*h: a grid that lists both ends of a full turn
  // (np.linspace(-pi, pi, 61): x_last - x_first = 2 pi) would be read with period 2 pi * 61/60 and
  // one column twice. A non-periodic axis may span any interval, 2 pi included.
  const double twoPi = 2.0 * std::numbers::pi;
  for (const auto& [axis, first, last, axisPeriodic] :
       {std::tuple<const char*, double, double, bool>{"x", rows[0].x, rows[nx - 1].x, periodic[0]},
        std::tuple<const char*, double, double, bool>{"y", rows[0].y, rows[(ny - 1) * nx].y,
                                                      periodic[1]}}) {
    if (axisPeriodic && std::abs((last - first) - twoPi) <= 1e-6 * twoPi) {
      throw std::runtime_error(fmt::format(
          "{}: {} runs from {:.10g} to {:.10g}, both ends of a full turn (2 pi); expected a "
          "periodic "
          "grid without its last point (e.g. n points from -pi in steps of 2 pi / n: "
          "np.linspace(-pi, pi, n, endpoint=False)), since the period is taken as n times the "
          "spacing (a 2D job's potential.file may instead declare the axis non-periodic with "
          "potential.periodic)",
          path, axis, first, last));
    }
  }
  if (expectedPeriod > 0.0) {
    const double px = g.periodX(), py = g.periodY();
    if (std::abs(px - expectedPeriod) > kRelTol * expectedPeriod ||
        std::abs(py - expectedPeriod) > kRelTol * expectedPeriod) {
      throw std::runtime_error(fmt::format(
          "{}: expected grid periods nx*hx and ny*hy equal to {:.10g}, got {:.10g} ({} x {:.10g}) "
          "and {:.10g} ({} x {:.10g})",
          path, expectedPeriod, px, nx, g.hx, py, ny, g.hy));
    }
  }
  g.values.resize(rows.size());
  for (std::size_t k = 0; k < rows.size(); ++k) g.values[k] = rows[k].u;
  g.periodicX = periodic[0];
  g.periodicY = periodic[1];
  return g;
}

TabulatedSurface::TabulatedSurface(Grid2D grid, std::string sourcePath, double energyScale)
    : grid_(std::move(grid)), sourcePath_(std::move(sourcePath)) {
  const Grid2D& g = grid_;
  if (g.nx < 3 || g.ny < 3) {
    throw std::invalid_argument(fmt::format(
        "TabulatedSurface: expected at least 3 x 3 grid points, got {} x {}", g.nx, g.ny));
  }
  if (!(g.hx > 0.0) || !(g.hy > 0.0) || !std::isfinite(g.hx) || !std::isfinite(g.hy)) {
    throw std::invalid_argument(fmt::format(
        "TabulatedSurface: expected positive finite spacings, got hx = {}, hy = {}", g.hx, g.hy));
  }
  const std::size_t nx = static_cast<std::size_t>(g.nx), ny = static_cast<std::size_t>(g.ny);
  if (g.values.size() != nx * ny) {
    throw std::invalid_argument(
        fmt::format("TabulatedSurface: expected {} x {} = {} values, got {}", nx, ny, nx * ny,
                    g.values.size()));
  }
  for (double& v : grid_.values) {
    v *= energyScale;
    if (!std::isfinite(v)) {
      throw std::invalid_argument("TabulatedSurface: expected finite grid values");
    }
  }

  // Knot derivatives of the tensor-product spline: periodic or natural along each axis.
  const auto splineX = g.periodicX ? periodicSplineDerivatives : naturalSplineDerivatives;
  const auto splineY = g.periodicY ? periodicSplineDerivatives : naturalSplineDerivatives;
  const std::vector<double>& f = grid_.values;
  std::vector<double> fx(nx * ny), fy(nx * ny), fxy(nx * ny), work;
  for (std::size_t j = 0; j < ny; ++j) {  // along x, one row per y
    splineX(g.nx, g.hx, &f[j * nx], 1, &fx[j * nx], 1, work);
  }
  for (std::size_t i = 0; i < nx; ++i) {  // along y, one column per x
    splineY(g.ny, g.hy, &f[i], nx, &fy[i], nx, work);
    splineY(g.ny, g.hy, &fx[i], nx, &fxy[i], nx, work);
  }

  // Per-cell bicubic Hermite coefficients in local coordinates u, v in [0, 1]:
  // p(u, v) = sum_{a,b} c[4a + b] u^a v^b,  C = A F A^T,  A = Hermite basis matrix.
  static constexpr double A[4][4] = {{1, 0, 0, 0}, {0, 0, 1, 0}, {-3, 3, -2, -1}, {2, -2, 1, 1}};
  coeffs_.assign(16 * nx * ny, 0.0);
  for (std::size_t j = 0; j < ny; ++j) {
    const std::size_t j1 = (j + 1) % ny;
    for (std::size_t i = 0; i < nx; ++i) {
      const std::size_t i1 = (i + 1) % nx;
      const std::size_t p00 = j * nx + i, p10 = j * nx + i1, p01 = j1 * nx + i, p11 = j1 * nx + i1;
      const double sx = g.hx, sy = g.hy, sxy = g.hx * g.hy;
      // Rows: value at u=0, u=1, d/du at u=0, u=1; columns likewise in v.
      const double F[4][4] = {
          {f[p00], f[p01], sy * fy[p00], sy * fy[p01]},
          {f[p10], f[p11], sy * fy[p10], sy * fy[p11]},
          {sx * fx[p00], sx * fx[p01], sxy * fxy[p00], sxy * fxy[p01]},
          {sx * fx[p10], sx * fx[p11], sxy * fxy[p10], sxy * fxy[p11]},
      };
      double AF[4][4];
      for (int a = 0; a < 4; ++a)
        for (int b = 0; b < 4; ++b) {
          double s = 0.0;
          for (int k = 0; k < 4; ++k) s += A[a][k] * F[k][b];
          AF[a][b] = s;
        }
      double* c = &coeffs_[16 * (j * nx + i)];
      for (int a = 0; a < 4; ++a)
        for (int b = 0; b < 4; ++b) {
          double s = 0.0;
          for (int k = 0; k < 4; ++k) s += AF[a][k] * A[b][k];
          c[4 * a + b] = s;
        }
    }
  }
}

std::shared_ptr<TabulatedSurface> TabulatedSurface::fromFile(const std::string& path,
                                                             double energyScale,
                                                             double expectedPeriod,
                                                             std::array<bool, 2> periodic) {
  return std::make_shared<TabulatedSurface>(readGridFile(path, expectedPeriod, periodic), path,
                                            energyScale);
}

void TabulatedSurface::evaluateGeneral(const double* x, std::size_t n, double* energy,
                                       double* gradient) const {
  const int nx = grid_.nx, ny = grid_.ny;
  const double invHx = 1.0 / grid_.hx, invHy = 1.0 / grid_.hy;
  for (std::size_t p = 0; p < n; ++p) {
    const double tx = (x[2 * p] - grid_.x0) * invHx;
    const double ty = (x[2 * p + 1] - grid_.y0) * invHy;
    if (!std::isfinite(tx) || !std::isfinite(ty)) {
      energy[p] = std::numeric_limits<double>::quiet_NaN();
      if (gradient) gradient[2 * p] = gradient[2 * p + 1] = energy[p];
      continue;
    }
    int i = 0, j = 0;
    double bx[4], dbx[4], by[4], dby[4];
    axisBasis(tx, nx, grid_.periodicX, i, bx, dbx);
    axisBasis(ty, ny, grid_.periodicY, j, by, dby);
    const double* c = coeffs_.data() + 16 * (static_cast<std::size_t>(j) * nx + i);
    // p = Bx^T C By (C row a: powers of u, column b: powers of v).
    double e = 0.0, gx = 0.0, gy = 0.0;
    for (int a = 0; a < 4; ++a) {
      const double* r = c + 4 * a;
      const double q = r[0] * by[0] + r[1] * by[1] + r[2] * by[2] + r[3] * by[3];
      const double dq = r[0] * dby[0] + r[1] * dby[1] + r[2] * dby[2] + r[3] * dby[3];
      e += bx[a] * q;
      gx += dbx[a] * q;
      gy += bx[a] * dq;
    }
    energy[p] = e;
    if (gradient) {
      gradient[2 * p] = gx * invHx;
      gradient[2 * p + 1] = gy * invHy;
    }
  }
}

void TabulatedSurface::evaluate(const double* x, std::size_t n, double* energy,
                                double* gradient) const {
  if (!grid_.periodicX || !grid_.periodicY) {
    evaluateGeneral(x, n, energy, gradient);
    return;
  }
  const int nx = grid_.nx, ny = grid_.ny;
  const double invHx = 1.0 / grid_.hx, invHy = 1.0 / grid_.hy;
  const double invNx = 1.0 / nx, invNy = 1.0 / ny;
  const double x0 = grid_.x0, y0 = grid_.y0;
  const double* const coeffs = coeffs_.data();
  for (std::size_t p = 0; p < n; ++p) {
    // Position in units of the spacing relative to point (0, 0); wrapping by whole periods maps the
    // data box [-1/2, n - 1/2) onto cells [0, n) with local coordinates in [0, 1].
    double tx = (x[2 * p] - x0) * invHx;
    double ty = (x[2 * p + 1] - y0) * invHy;
    if (!std::isfinite(tx) || !std::isfinite(ty)) {
      energy[p] = std::numeric_limits<double>::quiet_NaN();
      if (gradient) gradient[2 * p] = gradient[2 * p + 1] = energy[p];
      continue;
    }
    tx -= nx * fastFloor(tx * invNx);
    ty -= ny * fastFloor(ty * invNy);
    int i = static_cast<int>(tx), j = static_cast<int>(ty);
    if (i >= nx) i = nx - 1;  // rounding can give tx == nx
    if (j >= ny) j = ny - 1;
    if (i < 0) i = 0;
    if (j < 0) j = 0;
    const double u = tx - i, v = ty - j;
    const double* c = coeffs + 16 * (static_cast<std::size_t>(j) * nx + i);
    // p(u, v) = U^T C V with U = (1, u, u^2, u^3), V = (1, v, v^2, v^3): explicit powers instead of
    // nested Horner keep the dependency chains short (this loop is latency-bound).
    const double v2 = v * v, v3 = v2 * v, u2 = u * u, u3 = u2 * u;
    double q[4], dq[4];  // q_a = sum_b c[4a+b] v^b, dq_a = d q_a / dv
    for (int a = 0; a < 4; ++a) {
      const double* r = c + 4 * a;
      q[a] = (r[0] + r[1] * v) + (r[2] * v2 + r[3] * v3);
      dq[a] = r[1] + (2.0 * r[2] * v + 3.0 * r[3] * v2);
    }
    energy[p] = (q[0] + q[1] * u) + (q[2] * u2 + q[3] * u3);
    if (gradient) {
      gradient[2 * p] = (q[1] + (2.0 * q[2] * u + 3.0 * q[3] * u2)) * invHx;
      gradient[2 * p + 1] = ((dq[0] + dq[1] * u) + (dq[2] * u2 + dq[3] * u3)) * invHy;
    }
  }
}

double TabulatedSurface::nearestGridEnergy(const double* x) const {
  int i = 0, j = 0;
  grid_.nearest(x[0], x[1], i, j);
  return grid_.value(i, j);
}

}  // namespace geotps
