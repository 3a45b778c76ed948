// Exact posterior moments by log-sum-exp quadrature over grid points.
#include "engine/quadrature_denoiser.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "engine/parallel.h"
#include "engine/schedule.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

namespace {
// Terms with log-weight below max - kCutoff contribute less than exp(-kCutoff) ~ 1e-16 relative.
constexpr double kCutoff = 37.0;
}  // namespace

QuadratureDenoiser::QuadratureDenoiser(Eigen::MatrixXd points, Eigen::VectorXd logDensity,
                                       double cellVolume, int threads)
    : points_(std::move(points)), threads_(resolveThreads(threads)) {
  const Eigen::Index n = points_.rows();
  if (n == 0 || logDensity.size() != n) {
    throw std::invalid_argument("QuadratureDenoiser: need one log-density value per grid point");
  }
  if (!(cellVolume > 0)) throw std::invalid_argument("QuadratureDenoiser: cell volume must be > 0");
  if (!logDensity.allFinite()) {
    throw std::invalid_argument("QuadratureDenoiser: log-density has non-finite values");
  }
  sqNorm_ = points_.rowwise().squaredNorm();
  // Normalise q so that psi is the log-partition of a probability density: sum_i q_i * V = 1.
  const double m = logDensity.maxCoeff();
  const double logZ = m + std::log((logDensity.array() - m).exp().sum()) + std::log(cellVolume);
  logWeight_ = logDensity.array() + std::log(cellVolume) - logZ;
}

std::shared_ptr<QuadratureDenoiser> QuadratureDenoiser::fromSurface(const TabulatedSurface& surface,
                                                                    double kT, int threads) {
  const Grid2D& g = surface.grid();
  const Eigen::Index n = static_cast<Eigen::Index>(g.nx) * g.ny;
  Eigen::MatrixXd pts(n, 2);
  Eigen::VectorXd logq(n);
  for (int j = 0; j < g.ny; ++j) {
    for (int i = 0; i < g.nx; ++i) {
      const Eigen::Index k = static_cast<Eigen::Index>(j) * g.nx + i;
      pts(k, 0) = g.x0 + i * g.hx;
      pts(k, 1) = g.y0 + j * g.hy;
      logq[k] = -g.value(i, j) / kT;
    }
  }
  return std::make_shared<QuadratureDenoiser>(std::move(pts), std::move(logq), g.hx * g.hy,
                                              threads);
}

std::shared_ptr<QuadratureDenoiser> QuadratureDenoiser::fromPotentialOnBox(
    const Potential& potential, double kT, const Eigen::VectorXd& low, const Eigen::VectorXd& high,
    const Eigen::VectorXi& gridSize, int threads) {
  const int D = potential.dimension();
  if (low.size() != D || high.size() != D || gridSize.size() != D) {
    throw std::invalid_argument(
        fmt::format("quadrature box: expected {} values per corner and grid size", D));
  }
  Eigen::Index n = 1;
  Eigen::VectorXd h(D);
  double volume = 1.0;
  for (int d = 0; d < D; ++d) {
    if (!(high[d] > low[d]) || gridSize[d] < 2) {
      throw std::invalid_argument("quadrature box: need high > low and at least 2 points per axis");
    }
    h[d] = (high[d] - low[d]) / gridSize[d];
    volume *= h[d];
    n *= gridSize[d];
  }
  Eigen::MatrixXd pts(n, D);
  for (Eigen::Index k = 0; k < n; ++k) {
    Eigen::Index rem = k;
    for (int d = 0; d < D; ++d) {
      const Eigen::Index idx = rem % gridSize[d];
      rem /= gridSize[d];
      pts(k, d) = low[d] + (idx + 0.5) * h[d];
    }
  }
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rowPts = pts;
  Eigen::VectorXd u(n);
  potential.evaluate(rowPts.data(), static_cast<std::size_t>(n), u.data(), nullptr);
  auto q = std::make_shared<QuadratureDenoiser>(std::move(pts), -u / kT, volume, threads);
  q->potentialEvaluations_ = n;
  return q;
}

void QuadratureDenoiser::evaluateOne(const Eigen::VectorXd& z, PosteriorMoments& out,
                                     Eigen::MatrixXd* covT, std::vector<double>& logw) const {
  const int D = dimension();
  const Eigen::Index n = points_.rows();
  const double a = etaScale(z[0]);
  const double etaL = -0.5 * std::exp(z[0]);
  Eigen::VectorXd etaX = a * z.tail(D);

  logw.resize(static_cast<std::size_t>(n));
  double maxLog = -std::numeric_limits<double>::infinity();
  Eigen::Index argMax = 0;
  const double* lw = logWeight_.data();
  const double* sq = sqNorm_.data();
  double* out_ = logw.data();
  if (D == 2) {
    const double* px = points_.col(0).data();
    const double* py = points_.col(1).data();
    const double ex = etaX[0], ey = etaX[1];
    for (Eigen::Index i = 0; i < n; ++i) out_[i] = lw[i] + etaL * sq[i] + ex * px[i] + ey * py[i];
  } else {
    for (Eigen::Index i = 0; i < n; ++i) {
      double s = lw[i] + etaL * sq[i];
      for (int d = 0; d < D; ++d) s += etaX[d] * points_(i, d);
      out_[i] = s;
    }
  }
  for (Eigen::Index i = 0; i < n; ++i) {
    if (out_[i] > maxLog) {
      maxLog = out_[i];
      argMax = i;
    }
  }
  // Moments about the heaviest point keep the covariance free of cancellation.
  const int P = D + 1;
  Eigen::VectorXd shift(P);
  shift.head(D) = points_.row(argMax).transpose();
  shift[D] = sqNorm_[argMax];
  double s0 = 0.0;
  Eigen::VectorXd s1 = Eigen::VectorXd::Zero(P);
  Eigen::MatrixXd s2 = Eigen::MatrixXd::Zero(P, P);
  const bool second = (covT != nullptr);
  if (D == 2) {
    // The common 2D case with scalar accumulators (several times faster than the generic loop).
    double a1 = 0, a2 = 0, a3 = 0, b11 = 0, b12 = 0, b13 = 0, b22 = 0, b23 = 0, b33 = 0;
    const double* px = points_.col(0).data();
    const double* py = points_.col(1).data();
    for (Eigen::Index i = 0; i < n; ++i) {
      const double e = logw[static_cast<std::size_t>(i)] - maxLog;
      if (e < -kCutoff) continue;
      const double w = std::exp(e);
      const double t1 = px[i] - shift[0], t2 = py[i] - shift[1], t3 = sq[i] - shift[2];
      s0 += w;
      a1 += w * t1;
      a2 += w * t2;
      a3 += w * t3;
      if (second) {
        b11 += w * t1 * t1;
        b12 += w * t1 * t2;
        b13 += w * t1 * t3;
        b22 += w * t2 * t2;
        b23 += w * t2 * t3;
        b33 += w * t3 * t3;
      }
    }
    s1 << a1, a2, a3;
    s2 << b11, b12, b13, b12, b22, b23, b13, b23, b33;
  } else {
    Eigen::VectorXd t(P);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double e = logw[static_cast<std::size_t>(i)] - maxLog;
      if (e < -kCutoff) continue;
      const double w = std::exp(e);
      for (int d = 0; d < D; ++d) t[d] = points_(i, d) - shift[d];
      t[D] = sqNorm_[i] - shift[D];
      s0 += w;
      s1.noalias() += w * t;
      if (second) s2.noalias() += w * t * t.transpose();
    }
  }
  const Eigen::VectorXd mean = s1 / s0;
  out.mu = mean + shift;
  out.psi = maxLog + std::log(s0);
  if (second) *covT = s2 / s0 - mean * mean.transpose();
  count_.fetch_add(1, std::memory_order_relaxed);
}

void QuadratureDenoiser::evaluate(const Eigen::MatrixXd& z, bool withJacobian,
                                  std::vector<PosteriorMoments>& out) const {
  const int D = dimension();
  if (z.cols() != D + 1) {
    throw std::invalid_argument(fmt::format(
        "QuadratureDenoiser: spacetime points need {} columns, got {}", D + 1, z.cols()));
  }
  out.resize(static_cast<std::size_t>(z.rows()));
  parallelFor(static_cast<std::size_t>(z.rows()), threads_,
              [&](std::size_t begin, std::size_t end, int) {
                std::vector<double> scratch;
                Eigen::MatrixXd cov;
                for (std::size_t k = begin; k < end; ++k) {
                  const Eigen::VectorXd zk = z.row(static_cast<Eigen::Index>(k)).transpose();
                  evaluateOne(zk, out[k], withJacobian ? &cov : nullptr, scratch);
                  // d mu / d z = (d mu / d eta)(d eta / d z) = Cov[T | z] J_eta.
                  if (withJacobian) out[k].dmu_dz = cov * naturalParameterJacobian(zk);
                }
              });
}

}  // namespace geotps
