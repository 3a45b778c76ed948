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
// Points per block of the 2D kernel (a multiple of 4): a block whose largest log-weight lies below
// the cutoff is skipped as a whole.
constexpr long long kBlock = 16;

// The 2D kernel works on four lanes at a time (GCC vector extensions: two SSE2 operations on the
// baseline instruction set, one AVX2 operation where the CPU has it). Each lane sums its own points
// (point i goes to lane i % 4) and the lanes are added in a fixed order, so the result does not
// depend on the instruction set the kernel runs with.
// The helpers below are always inlined, so passing these types by value never crosses an ABI
// boundary (GCC warns about AVX arguments in a baseline build nonetheless).
#pragma GCC diagnostic ignored "-Wpsabi"
using Vec4 = double __attribute__((vector_size(32)));
using Vec4i = long long __attribute__((vector_size(32)));

[[gnu::always_inline]] inline Vec4 load4(const double* p) {
  Vec4 v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

[[gnu::always_inline]] inline double laneSum(Vec4 v) { return (v[0] + v[1]) + (v[2] + v[3]); }

// exp(e) for e in [-kCutoff, 0], relative error below 5e-16 (exp(e) = 2^k exp(r), k = round(e /
// ln 2), |r| <= ln2 / 2, Taylor polynomial of degree 13); 0 where e < -kCutoff (also for NaN).
[[gnu::always_inline]] inline Vec4 weights4(Vec4 e) {
  constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const Vec4 keep = e >= -kCutoff ? Vec4{} + 1.0 : Vec4{};
  e = e >= -kCutoff ? e : Vec4{} - kCutoff;
  const Vec4 t = e * 1.4426950408889634 + kRound;
  const Vec4 k = t - kRound;
  const Vec4 r = (e - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
  // Estrin's scheme: a short dependency chain, so that consecutive points overlap.
  const Vec4 r2 = r * r, r4 = r2 * r2;
  const Vec4 q0 = r + 1.0, q1 = r * (1.0 / 6.0) + 0.5, q2 = r * (1.0 / 120.0) + 1.0 / 24.0;
  const Vec4 q3 = r * (1.0 / 5040.0) + 1.0 / 720.0, q4 = r * (1.0 / 362880.0) + 1.0 / 40320.0;
  const Vec4 q5 = r * (1.0 / 39916800.0) + 1.0 / 3628800.0;
  const Vec4 q6 = r * (1.0 / 6227020800.0) + 1.0 / 479001600.0;
  const Vec4 u0 = q1 * r2 + q0, u1 = q3 * r2 + q2, u2 = q5 * r2 + q4;
  const Vec4 p = ((q6 * r4 + u2) * (r4 * r4) + u1 * r4) + u0;
  // 2^k from k's bits in t (k in [-54, 0], so 2^k is a normal double).
  const Vec4i bits = ((Vec4i)t - 0x4338000000000000LL + 1023) << 52;
  return p * (Vec4)bits * keep;
}

struct Sums2D {
  double s0, a1, a2, a3, b11, b12, b13, b22, b23, b33;
};

// Pass 1: the log-weights of all (padded) points and the maximum of each block of kBlock points.
// Pass 2: the weighted first and (if `second`) second moments about the heaviest point `argMax`,
// skipping the blocks whose points all lie below max - kCutoff (their weights are exactly 0
// anyway).
__attribute__((target_clones("avx2", "default"))) void moments2D(
    const double* lw, const double* sq, const double* px, const double* py, long long nPad,
    long long blockSize, double etaL, double ex, double ey, double* logw, double* blockMax,
    bool second, double& maxLog, Sums2D& out, long long& argMax) {
  const long long nBlocks = nPad / blockSize;
  double m = -std::numeric_limits<double>::infinity();
  for (long long b = 0; b < nBlocks; ++b) {
    Vec4 bm = Vec4{} - std::numeric_limits<double>::infinity();
    for (long long i = b * blockSize; i < (b + 1) * blockSize; i += 4) {
      const Vec4 v = load4(lw + i) + etaL * load4(sq + i) + ex * load4(px + i) + ey * load4(py + i);
      __builtin_memcpy(logw + i, &v, sizeof(v));
      bm = v > bm ? v : bm;
    }
    blockMax[b] = std::max(std::max(bm[0], bm[1]), std::max(bm[2], bm[3]));
    m = std::max(m, blockMax[b]);
  }
  maxLog = m;
  argMax = 0;
  for (long long b = 0; b < nBlocks; ++b) {
    if (blockMax[b] != m) continue;
    for (long long i = b * blockSize; i < (b + 1) * blockSize; ++i) {
      if (logw[i] == m) {
        argMax = i;
        break;
      }
    }
    break;
  }
  const double sx = px[argMax], sy = py[argMax], ssq = sq[argMax];
  Vec4 s0{}, a1{}, a2{}, a3{}, b11{}, b12{}, b13{}, b22{}, b23{}, b33{};
  const double floor = m - kCutoff;
  for (long long b = 0; b < nBlocks; ++b) {
    if (!(blockMax[b] >= floor)) continue;
    for (long long i = b * blockSize; i < (b + 1) * blockSize; i += 4) {
      const Vec4 w = weights4(load4(logw + i) - m);
      const Vec4 t1 = load4(px + i) - sx, t2 = load4(py + i) - sy, t3 = load4(sq + i) - ssq;
      s0 += w;
      const Vec4 w1 = w * t1, w2 = w * t2, w3 = w * t3;
      a1 += w1;
      a2 += w2;
      a3 += w3;
      if (second) {
        b11 += w1 * t1;
        b12 += w1 * t2;
        b13 += w1 * t3;
        b22 += w2 * t2;
        b23 += w2 * t3;
        b33 += w3 * t3;
      }
    }
  }
  out = {laneSum(s0),  laneSum(a1),  laneSum(a2),  laneSum(a3),  laneSum(b11),
         laneSum(b12), laneSum(b13), laneSum(b22), laneSum(b23), laneSum(b33)};
}
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
  if (points_.cols() == 2) {
    // Padded copies for the 2D kernel; padding points have weight 0 (log-weight -inf).
    const std::size_t nPad = static_cast<std::size_t>((n + kBlock - 1) / kBlock * kBlock);
    padLogWeight_.assign(nPad, -std::numeric_limits<double>::infinity());
    padSqNorm_.assign(nPad, 0.0);
    padX_.assign(nPad, 0.0);
    padY_.assign(nPad, 0.0);
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      padLogWeight_[k] = logWeight_[i];
      padSqNorm_[k] = sqNorm_[i];
      padX_[k] = points_(i, 0);
      padY_[k] = points_(i, 1);
    }
  }
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

  // Moments about the heaviest point keep the covariance free of cancellation.
  const int P = D + 1;
  Eigen::VectorXd shift(P);
  double s0 = 0.0;
  double maxLog = -std::numeric_limits<double>::infinity();
  Eigen::VectorXd s1 = Eigen::VectorXd::Zero(P);
  Eigen::MatrixXd s2 = Eigen::MatrixXd::Zero(P, P);
  const bool second = (covT != nullptr);
  if (D == 2) {
    const auto nPad = static_cast<long long>(padX_.size());
    logw.resize(static_cast<std::size_t>(nPad + nPad / kBlock));
    Sums2D r{};
    long long argMax = 0;
    moments2D(padLogWeight_.data(), padSqNorm_.data(), padX_.data(), padY_.data(), nPad, kBlock,
              etaL, etaX[0], etaX[1], logw.data(), logw.data() + nPad, second, maxLog, r, argMax);
    shift << padX_[static_cast<std::size_t>(argMax)], padY_[static_cast<std::size_t>(argMax)],
        padSqNorm_[static_cast<std::size_t>(argMax)];
    s0 = r.s0;
    s1 << r.a1, r.a2, r.a3;
    s2 << r.b11, r.b12, r.b13, r.b12, r.b22, r.b23, r.b13, r.b23, r.b33;
  } else {
    logw.resize(static_cast<std::size_t>(n));
    Eigen::Index argMax = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      double v = logWeight_[i] + etaL * sqNorm_[i];
      for (int d = 0; d < D; ++d) v += etaX[d] * points_(i, d);
      logw[static_cast<std::size_t>(i)] = v;
      if (v > maxLog) {
        maxLog = v;
        argMax = i;
      }
    }
    shift.head(D) = points_.row(argMax).transpose();
    shift[D] = sqNorm_[argMax];
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
