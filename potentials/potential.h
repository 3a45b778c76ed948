// The one interface every Boltzmann potential implements: energy and gradient of points in R^D,
// evaluated in batches. The engine sees potentials only through this class.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace geotps {

/// A potential energy U(x) over points x in R^D.
///
/// Units: the 2D benchmark surfaces are in units of kT (dimensionless) with x in radians; full-atom
/// potentials use kJ/mol and nm. `energyUnit()` and `coordinateUnit()` say which.
/// Implementations must be safe to call concurrently from several threads on a const object.
class Potential {
 public:
  virtual ~Potential() = default;

  /// Dimension D of a point.
  virtual int dimension() const = 0;

  /// Evaluates `n` points stored row-major in `x` (n * D values).
  /// Writes U into `energy[i]` and, when `gradient` is not null, dU/dx into `gradient[i*D + d]`.
  virtual void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const = 0;

  /// Convenience: energy of one point.
  double energy(const double* x) const {
    double u = 0.0;
    evaluate(x, 1, &u, nullptr);
    return u;
  }

  /// A short name for logs and output files, e.g. "tabulated_surface".
  virtual std::string name() const = 0;
  /// Unit of U, e.g. "kT" or "kJ/mol".
  virtual std::string energyUnit() const { return "kT"; }
  /// Unit of x, e.g. "rad" or "nm".
  virtual std::string coordinateUnit() const { return "1"; }

  /// Periodicity, per axis: `period(d)` > 0 makes coordinate d periodic, living in
  /// [boxLow(d), boxLow(d) + period(d)); `period(d)` == 0 marks a non-periodic axis.
  /// `isPeriodic()` is true when at least one axis is periodic.
  virtual bool isPeriodic() const { return false; }
  virtual double boxLow(int d) const { return 0.0; }
  virtual double period(int d) const { return 0.0; }
  /// The box the potential's own data covers (e.g. a tabulated surface's grid), on every axis,
  /// periodic or not: [boxLow(d), boxHigh(d)). A potential without one (an analytic potential
  /// defined on all of R^D) returns false, and callers take the box from the config
  /// (denoiser.box_low .. box_high). For a periodic axis boxHigh(d) = boxLow(d) + period(d).
  virtual bool hasDataBox() const { return isPeriodic(); }
  virtual double boxHigh(int d) const { return boxLow(d) + period(d); }
};

using PotentialPtr = std::shared_ptr<const Potential>;

}  // namespace geotps
