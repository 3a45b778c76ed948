// The exact denoiser for a density known on a grid: posterior moments mu, psi and Cov[T | z] by a
// log-sum-exp over the grid points (docs/method.md, "The exact (quadrature) denoiser"). The ground
// truth for learned denoisers.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/denoisers/denoiser.h"
#include "potentials/potential.h"

namespace geotps {

class TabulatedSurface;

/// Where the quadrature over a box stops being practical (docs/method.md, "Dimensions"): its cost
/// per posterior evaluation is one exp per grid point, grid_size^D points.
constexpr int kQuadratureMaxDimension = 3;
constexpr long long kQuadratureMaxPoints = 1LL << 21;

/// Empty when a quadrature over a grid of `gridSize` points per axis is within those limits, else
/// why not ("D = 4 > 3", "... grid points > ...").
std::string quadratureLimitExceeded(const Eigen::VectorXi& gridSize);

/// Exact posterior moments of q(x0) ∝ exp(-U(x0)/kT) represented by point masses at grid points
/// (each standing for a cell of equal volume). Exact up to the grid.
class QuadratureDenoiser final : public Denoiser {
 public:
  /// `points`: n x D grid points (units of x); `logDensity`: n values of log q up to a constant
  /// (i.e. -U/kT); `cellVolume`: volume of one cell (units of x^D). `threads` = 0 uses all cores.
  QuadratureDenoiser(Eigen::MatrixXd points, Eigen::VectorXd logDensity, double cellVolume,
                     int threads = 0);

  /// The density exp(-U/kT) of a tabulated surface on its own grid (the data box of Grid2D).
  static std::shared_ptr<QuadratureDenoiser> fromSurface(const TabulatedSurface& surface, double kT,
                                                         int threads = 0);
  /// A potential tabulated on a regular grid of `gridSize` cell centres covering [low, high] (a box
  /// of nx x ny cells). Costs nx*ny potential evaluations.
  static std::shared_ptr<QuadratureDenoiser> fromPotentialOnBox(
      const Potential& potential, double kT, const Eigen::VectorXd& low,
      const Eigen::VectorXd& high, const Eigen::VectorXi& gridSize, int threads = 0);

  int dimension() const override { return static_cast<int>(points_.cols()); }
  bool hasLogPartition() const override { return true; }
  void evaluate(const Eigen::MatrixXd& z, bool withJacobian,
                std::vector<PosteriorMoments>& out) const override;
  std::string name() const override { return "quadrature"; }
  long long evaluationCount() const override { return count_.load(); }

  /// Moments at one point (single-threaded), also returning Cov[T | z] ((D+1) x (D+1)).
  void evaluateOne(const Eigen::VectorXd& z, PosteriorMoments& out, Eigen::MatrixXd* covT,
                   std::vector<double>& scratch) const;
  std::size_t gridPointCount() const { return static_cast<std::size_t>(points_.rows()); }
  /// Number of potential evaluations spent building the table (0 for tabulated surfaces).
  long long potentialEvaluations() const { return potentialEvaluations_; }

 private:
  Eigen::MatrixXd points_;     // n x D
  Eigen::VectorXd sqNorm_;     // |x_i|^2
  Eigen::VectorXd logWeight_;  // log q_i + log(cell volume) - log Z
  // 2D only: the same data padded to a multiple of the kernel's block size (see the .cpp).
  std::vector<double> padLogWeight_, padSqNorm_, padX_, padY_;
  int threads_;
  long long potentialEvaluations_ = 0;
  mutable std::atomic<long long> count_{0};
};

}  // namespace geotps
