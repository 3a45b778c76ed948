// The denoiser interface: the expectation parameter mu(z) = E[T(x0) | z] of the denoising posterior
// (docs/method.md, "Spacetime and the denoising posterior" and "The exact (quadrature) denoiser")
// and its Jacobian, for a batch of spacetime points.
#pragma once

#include <Eigen/Dense>
#include <limits>
#include <string>
#include <vector>

namespace geotps {

/// Posterior quantities at one spacetime point z = (l, x) (D+1 values, l first).
struct PosteriorMoments {
  /// mu = (E[x0 | z], E[|x0|^2 | z]), size D+1; in units of x and x^2.
  Eigen::VectorXd mu;
  /// d mu / d z, (D+1) x (D+1): row i is mu_i, column 0 is d/dl, column 1+d is d/dx_d.
  /// Filled only when requested.
  Eigen::MatrixXd dmu_dz;
  /// Log-partition psi(z) = log E_q[exp(eta(z) . T(x0))] (q normalised), when the denoiser is
  /// exact; NaN otherwise.
  double psi = std::numeric_limits<double>::quiet_NaN();
};

/// A source of posterior moments: exact (quadrature over a tabulated density) or learned (a trained
/// diffusion model, by Tweedie). Implementations must be safe to call concurrently on a const
/// object.
class Denoiser {
 public:
  virtual ~Denoiser() = default;
  /// Data dimension D.
  virtual int dimension() const = 0;
  /// True when `psi` is computed (enables the exact KL: docs/method.md, "Spacetime and the
  /// denoising posterior").
  virtual bool hasLogPartition() const = 0;
  /// Evaluates the points in the rows of `z` (n x (D+1)); `out` is resized to n.
  virtual void evaluate(const Eigen::MatrixXd& z, bool withJacobian,
                        std::vector<PosteriorMoments>& out) const = 0;
  virtual std::string name() const = 0;
  /// Number of single-point evaluations so far (for the evaluation counts in the summary).
  virtual long long evaluationCount() const = 0;
};

}  // namespace geotps
