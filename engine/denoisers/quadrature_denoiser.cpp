// Exact posterior moments by log-sum-exp quadrature over grid points.
#include "engine/denoisers/quadrature_denoiser.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "engine/core/parallel.h"
#include "engine/core/schedule.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

namespace {
// Terms with log-weight below max - kCutoff contribute less than exp(-kCutoff) ~ 1e-16 relative.
constexpr double kCutoff = 37.0;
// Points per block of the 2D kernel (a multiple of 4): a block whose largest log-weight lies below
// the cutoff is skipped as a whole.
constexpr long long kBlock = 16;

// The 2D kernel works on four lanes: point i goes to lane i % 4, each lane sums its own points and
// the lanes are added in a fixed order. It is written once for a pack of four doubles and built
// twice: with one AVX2 vector (Vec4, where the CPU has AVX2) and with two SSE2 vectors (Pair, the
// baseline). Both do the same IEEE operations lane by lane (no FMA), so results do not depend on
// the CPU.
// The helpers are always inlined, so passing vectors by value never crosses an ABI boundary (GCC
// warns about AVX arguments in a baseline build nonetheless).
#pragma GCC diagnostic ignored "-Wpsabi"
using Vec4 = double __attribute__((vector_size(32)));
using Vec4i = long long __attribute__((vector_size(32)));
using Vec2 = double __attribute__((vector_size(16)));
using Vec2i = long long __attribute__((vector_size(16)));

#define GEOTPS_INLINE [[gnu::always_inline]] inline

GEOTPS_INLINE Vec4 select(Vec4i mask, Vec4 a, Vec4 b) {
  return (Vec4)(((Vec4i)a & mask) | ((Vec4i)b & ~mask));
}
GEOTPS_INLINE Vec2 select(Vec2i mask, Vec2 a, Vec2 b) {
  return (Vec2)(((Vec2i)a & mask) | ((Vec2i)b & ~mask));
}
// 2^k from t = k + 1.5 * 2^52 (k an integer in [-1022, 0]): k sits in t's low mantissa bits.
GEOTPS_INLINE Vec4 pow2Rounded(Vec4 t) {
  return (Vec4)(((Vec4i)t - 0x4338000000000000LL + 1023) << 52);
}
GEOTPS_INLINE Vec2 pow2Rounded(Vec2 t) {
  return (Vec2)(((Vec2i)t - 0x4338000000000000LL + 1023) << 52);
}

struct Pair {
  Vec2 lo, hi;
};
GEOTPS_INLINE Pair operator+(Pair a, Pair b) { return {a.lo + b.lo, a.hi + b.hi}; }
GEOTPS_INLINE Pair operator-(Pair a, Pair b) { return {a.lo - b.lo, a.hi - b.hi}; }
GEOTPS_INLINE Pair operator*(Pair a, Pair b) { return {a.lo * b.lo, a.hi * b.hi}; }
GEOTPS_INLINE Pair operator+(Pair a, double b) { return {a.lo + b, a.hi + b}; }
GEOTPS_INLINE Pair operator-(Pair a, double b) { return {a.lo - b, a.hi - b}; }
GEOTPS_INLINE Pair operator*(Pair a, double b) { return {a.lo * b, a.hi * b}; }
GEOTPS_INLINE Pair operator*(double a, Pair b) { return {a * b.lo, a * b.hi}; }
GEOTPS_INLINE Pair& operator+=(Pair& a, Pair b) { return a = a + b; }
GEOTPS_INLINE Pair pow2Rounded(Pair t) { return {pow2Rounded(t.lo), pow2Rounded(t.hi)}; }

template <class V>
struct Pack;
template <>
struct Pack<Vec4> {
  GEOTPS_INLINE static Vec4 splat(double x) { return Vec4{} + x; }
  GEOTPS_INLINE static Vec4 load(const double* p) {
    Vec4 v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
  }
  GEOTPS_INLINE static void store(double* p, Vec4 v) { __builtin_memcpy(p, &v, sizeof(v)); }
  GEOTPS_INLINE static double lane(Vec4 v, int i) { return v[i]; }
  GEOTPS_INLINE static Vec4 max(Vec4 a, Vec4 b) { return select(a > b, a, b); }
  // x clamped from below at lo; w where x >= lo, else 0 (also for NaN x).
  GEOTPS_INLINE static Vec4 clampBelow(Vec4 x, double lo) {
    return select(x >= lo, x, Vec4{} + lo);
  }
  GEOTPS_INLINE static Vec4 zeroWhereBelow(Vec4 w, Vec4 x, double lo) {
    return select(x >= lo, w, Vec4{});
  }
};
template <>
struct Pack<Pair> {
  GEOTPS_INLINE static Pair splat(double x) { return {Vec2{} + x, Vec2{} + x}; }
  GEOTPS_INLINE static Pair load(const double* p) {
    Pair v;
    __builtin_memcpy(&v.lo, p, sizeof(v.lo));
    __builtin_memcpy(&v.hi, p + 2, sizeof(v.hi));
    return v;
  }
  GEOTPS_INLINE static void store(double* p, Pair v) {
    __builtin_memcpy(p, &v.lo, sizeof(v.lo));
    __builtin_memcpy(p + 2, &v.hi, sizeof(v.hi));
  }
  GEOTPS_INLINE static double lane(Pair v, int i) { return i < 2 ? v.lo[i] : v.hi[i - 2]; }
  GEOTPS_INLINE static Pair max(Pair a, Pair b) {
    return {select(a.lo > b.lo, a.lo, b.lo), select(a.hi > b.hi, a.hi, b.hi)};
  }
  GEOTPS_INLINE static Pair clampBelow(Pair x, double lo) {
    return {select(x.lo >= lo, x.lo, Vec2{} + lo), select(x.hi >= lo, x.hi, Vec2{} + lo)};
  }
  GEOTPS_INLINE static Pair zeroWhereBelow(Pair w, Pair x, double lo) {
    return {select(x.lo >= lo, w.lo, Vec2{}), select(x.hi >= lo, w.hi, Vec2{})};
  }
};

// exp(e) for e in [-kCutoff, 0], relative error below 5e-16 (exp(e) = 2^k exp(r), k = round(e /
// ln 2), |r| <= ln2 / 2, Taylor polynomial of degree 13); 0 where e < -kCutoff (also for NaN).
template <class V>
GEOTPS_INLINE V weights(V e0) {
  using P = Pack<V>;
  constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const V e = P::clampBelow(e0, -kCutoff);
  const V t = e * 1.4426950408889634 + kRound;
  const V k = t - kRound;
  const V r = (e - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
  // Estrin's scheme: a short dependency chain, so that consecutive points overlap.
  const V r2 = r * r, r4 = r2 * r2;
  const V q0 = r + 1.0, q1 = r * (1.0 / 6.0) + 0.5, q2 = r * (1.0 / 120.0) + 1.0 / 24.0;
  const V q3 = r * (1.0 / 5040.0) + 1.0 / 720.0, q4 = r * (1.0 / 362880.0) + 1.0 / 40320.0;
  const V q5 = r * (1.0 / 39916800.0) + 1.0 / 3628800.0;
  const V q6 = r * (1.0 / 6227020800.0) + 1.0 / 479001600.0;
  const V u0 = q1 * r2 + q0, u1 = q3 * r2 + q2, u2 = q5 * r2 + q4;
  const V p = ((q6 * r4 + u2) * (r4 * r4) + u1 * r4) + u0;
  return P::zeroWhereBelow(p * pow2Rounded(t), e0, -kCutoff);
}

template <class V>
GEOTPS_INLINE double laneSum(V v) {
  using P = Pack<V>;
  return (P::lane(v, 0) + P::lane(v, 1)) + (P::lane(v, 2) + P::lane(v, 3));
}

struct Sums2D {
  double s0, a1, a2, a3, b11, b12, b13, b22, b23, b33;
};

// Pass 1: the log-weights of all (padded) points and the maximum of each block of kBlock points.
// Pass 2: the weighted first and (if `second`) second moments about the heaviest point `argMax`,
// skipping the blocks whose points all lie below max - kCutoff (their weights are exactly 0
// anyway).
template <class V>
GEOTPS_INLINE void moments2D(const double* lw, const double* sq, const double* px, const double* py,
                             long long nPad, double etaL, double ex, double ey, double* logw,
                             double* blockMax, bool second, double& maxLog, Sums2D& out,
                             long long& argMax) {
  using P = Pack<V>;
  const long long nBlocks = nPad / kBlock;
  double m = -std::numeric_limits<double>::infinity();
  for (long long b = 0; b < nBlocks; ++b) {
    V bm = P::splat(-std::numeric_limits<double>::infinity());
    for (long long i = b * kBlock; i < (b + 1) * kBlock; i += 4) {
      const V v =
          P::load(lw + i) + etaL * P::load(sq + i) + ex * P::load(px + i) + ey * P::load(py + i);
      P::store(logw + i, v);
      bm = P::max(v, bm);
    }
    blockMax[b] = std::max(std::max(P::lane(bm, 0), P::lane(bm, 1)),
                           std::max(P::lane(bm, 2), P::lane(bm, 3)));
    m = std::max(m, blockMax[b]);
  }
  maxLog = m;
  argMax = 0;
  for (long long b = 0; b < nBlocks; ++b) {
    if (blockMax[b] != m) continue;
    for (long long i = b * kBlock; i < (b + 1) * kBlock; ++i) {
      if (logw[i] == m) {
        argMax = i;
        break;
      }
    }
    break;
  }
  const double sx = px[argMax], sy = py[argMax], ssq = sq[argMax];
  V s0 = P::splat(0.0), a1 = s0, a2 = s0, a3 = s0, b11 = s0, b12 = s0, b13 = s0, b22 = s0, b23 = s0,
    b33 = s0;
  const double floor = m - kCutoff;
  for (long long b = 0; b < nBlocks; ++b) {
    if (!(blockMax[b] >= floor)) continue;
    for (long long i = b * kBlock; i < (b + 1) * kBlock; i += 4) {
      const V w = weights(P::load(logw + i) - m);
      const V t1 = P::load(px + i) - sx, t2 = P::load(py + i) - sy, t3 = P::load(sq + i) - ssq;
      s0 += w;
      const V w1 = w * t1, w2 = w * t2, w3 = w * t3;
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

// The two builds of the kernel; moments2DForCpu picks one once per process.
using Moments2DFn = void (*)(const double*, const double*, const double*, const double*, long long,
                             double, double, double, double*, double*, bool, double&, Sums2D&,
                             long long&);
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) void moments2DAvx2(const double* lw, const double* sq,
                                                   const double* px, const double* py,
                                                   long long nPad, double etaL, double ex,
                                                   double ey, double* logw, double* blockMax,
                                                   bool second, double& maxLog, Sums2D& out,
                                                   long long& argMax) {
  moments2D<Vec4>(lw, sq, px, py, nPad, etaL, ex, ey, logw, blockMax, second, maxLog, out, argMax);
}
#endif
void moments2DBaseline(const double* lw, const double* sq, const double* px, const double* py,
                       long long nPad, double etaL, double ex, double ey, double* logw,
                       double* blockMax, bool second, double& maxLog, Sums2D& out,
                       long long& argMax) {
  moments2D<Pair>(lw, sq, px, py, nPad, etaL, ex, ey, logw, blockMax, second, maxLog, out, argMax);
}
Moments2DFn moments2DForCpu() {
  // GEOTPS_BASELINE_KERNEL=1 forces the SSE2 build (to compare the two on one machine).
  const char* force = std::getenv("GEOTPS_BASELINE_KERNEL");
  const bool baseline = force != nullptr && std::string(force) == "1";
#if defined(__x86_64__) || defined(__i386__)
  if (!baseline && __builtin_cpu_supports("avx2")) return &moments2DAvx2;
#else
  (void)baseline;  // other CPUs: the two-vector build only (NEON on arm64)
#endif
  return &moments2DBaseline;
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

std::string quadratureLimitExceeded(const Eigen::VectorXi& gridSize) {
  if (gridSize.size() > kQuadratureMaxDimension) {
    return fmt::format("the potential has D = {} dimensions, and the quadrature runs for D <= {}",
                       gridSize.size(), kQuadratureMaxDimension);
  }
  double points = 1.0;
  for (Eigen::Index d = 0; d < gridSize.size(); ++d) points *= gridSize[d];
  if (points > static_cast<double>(kQuadratureMaxPoints)) {
    return fmt::format("denoiser.grid_size has {:.0f} points in all, more than {}", points,
                       kQuadratureMaxPoints);
  }
  return "";
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
    static const Moments2DFn kernel = moments2DForCpu();
    kernel(padLogWeight_.data(), padSqNorm_.data(), padX_.data(), padY_.data(), nPad, etaL, etaX[0],
           etaX[1], logw.data(), logw.data() + nPad, second, maxLog, r, argMax);
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
