// Tests for the spacetime geometry (docs/method.md, sections "Spacetime and the denoising
// posterior" to "Penalties"): the schedule and natural parameter, the exact quadrature denoiser
// against the closed-form posterior of a Gaussian density, the Fisher metric against the KL
// divergence, the curve energy and its gradient, the spline curve, the constraint penalties, the
// geodesic solver on the alanine dipeptide surface and Fisher-Rao resampling. Every expected value
// is computed here independently (closed forms, finite differences, direct sums over the grid).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "engine/core/schedule.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/geodesic/curve_energy.h"
#include "engine/geodesic/curve_penalty.h"
#include "engine/geodesic/geodesic_solver.h"
#include "engine/geodesic/spline_curve.h"
#include "potentials/potential.h"
#include "potentials/tabulated_surface.h"

namespace geotps {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kPi = std::numbers::pi;

VectorXd vec(std::initializer_list<double> v) {
  VectorXd r(static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double x : v) r[i++] = x;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: the alanine surface and a Gaussian density with a closed-form posterior.

std::string surfacePath() {
  return std::string(GEOTPS_SOURCE_DIR) + "/data/alanine_dipeptide/phi_psi_surface.dat";
}

const TabulatedSurface& alanine() {
  static const auto s = TabulatedSurface::fromFile(surfacePath());
  return *s;
}

const QuadratureDenoiser& alanineDenoiser() {
  static const auto d = QuadratureDenoiser::fromSurface(alanine(), 1.0, 2);
  return *d;
}

// U(x) = |x - m|^2 / (2 s^2), so q = exp(-U) (kT = 1) is N(m, s^2 I).
class GaussianWell final : public Potential {
 public:
  GaussianWell(VectorXd m, double s) : m_(std::move(m)), s_(s) {}
  int dimension() const override { return static_cast<int>(m_.size()); }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override {
    const int D = dimension();
    for (std::size_t i = 0; i < n; ++i) {
      double u = 0.0;
      for (int d = 0; d < D; ++d) {
        const double r = x[i * D + d] - m_[d];
        u += r * r;
        if (gradient) gradient[i * D + d] = r / (s_ * s_);
      }
      energy[i] = u / (2.0 * s_ * s_);
    }
  }
  std::string name() const override { return "gaussian_well"; }

 private:
  VectorXd m_;
  double s_;
};

const VectorXd kGaussMean = vec({0.3, -0.2});
constexpr double kGaussStd = 0.5;

const QuadratureDenoiser& gaussianDenoiser() {
  static const auto d = [] {
    GaussianWell well(kGaussMean, kGaussStd);
    const VectorXd low = kGaussMean.array() - 8.0 * kGaussStd;
    const VectorXd high = kGaussMean.array() + 8.0 * kGaussStd;
    return QuadratureDenoiser::fromPotentialOnBox(well, 1.0, low, high, Eigen::Vector2i(200, 200),
                                                  2);
  }();
  return *d;
}

// Closed-form posterior of q = N(m, s^2 I) at z = (l, x): N(mean, I / precision).
struct GaussPosterior {
  double precision;
  VectorXd mean;
  double psi;  // log E_q[exp(eta . T)]
};

GaussPosterior gaussPosterior(const VectorXd& z) {
  const int D = static_cast<int>(z.size()) - 1;
  const double l = z[0];
  const double a2 = 1.0 / (1.0 + std::exp(-l)), s2 = 1.0 / (1.0 + std::exp(l));
  const double alpha = std::sqrt(a2);
  const double v0 = kGaussStd * kGaussStd;
  GaussPosterior g;
  g.precision = 1.0 / v0 + a2 / s2;
  const VectorXd h = kGaussMean / v0 + alpha / s2 * z.tail(D);
  g.mean = h / g.precision;
  // Per dimension: int N(x; m, v0) exp(b x - e^l x^2 / 2) dx
  //   = (v0 P)^(-1/2) exp(h^2 / (2P) - m^2 / (2 v0)), with P = 1/v0 + e^l and h = m/v0 + b.
  g.psi = -0.5 * D * std::log(v0 * g.precision) + h.squaredNorm() / (2.0 * g.precision) -
          kGaussMean.squaredNorm() / (2.0 * v0);
  return g;
}

// mu = (E[x0], E[|x0|^2]) of the closed-form posterior.
VectorXd gaussMu(const GaussPosterior& g) {
  const int D = static_cast<int>(g.mean.size());
  VectorXd mu(D + 1);
  mu.head(D) = g.mean;
  mu[D] = g.mean.squaredNorm() + D / g.precision;
  return mu;
}

// Cov[T] of N(mean, v I) with T = (x, |x|^2): Cov(x) = v I, Cov(x, |x|^2) = 2 v mean,
// Var(|x|^2) = 2 D v^2 + 4 v |mean|^2.
MatrixXd gaussCovT(const GaussPosterior& g) {
  const int D = static_cast<int>(g.mean.size());
  const double v = 1.0 / g.precision;
  MatrixXd c = MatrixXd::Zero(D + 1, D + 1);
  c.topLeftCorner(D, D) = v * MatrixXd::Identity(D, D);
  c.block(0, D, D, 1) = 2.0 * v * g.mean;
  c.block(D, 0, 1, D) = 2.0 * v * g.mean.transpose();
  c(D, D) = 2.0 * D * v * v + 4.0 * v * g.mean.squaredNorm();
  return c;
}

// KL(N(m1, v1 I) || N(m2, v2 I)) in D dimensions.
double gaussKL(const GaussPosterior& a, const GaussPosterior& b) {
  const int D = static_cast<int>(a.mean.size());
  const double v1 = 1.0 / a.precision, v2 = 1.0 / b.precision;
  return 0.5 * D * (v1 / v2 - 1.0 - std::log(v1 / v2)) + (a.mean - b.mean).squaredNorm() / (2 * v2);
}

// eta(z) written out from docs/method.md, "Spacetime and the denoising posterior":
// (alpha/sigma^2 x, -exp(l)/2).
VectorXd etaClosedForm(const VectorXd& z) {
  const int D = static_cast<int>(z.size()) - 1;
  const double a2 = 1.0 / (1.0 + std::exp(-z[0])), s2 = 1.0 / (1.0 + std::exp(z[0]));
  VectorXd eta(D + 1);
  eta.head(D) = std::sqrt(a2) / s2 * z.tail(D);
  eta[D] = -0.5 * std::exp(z[0]);
  return eta;
}

PosteriorMoments evaluateOnePoint(const QuadratureDenoiser& q, const VectorXd& z, MatrixXd* cov) {
  PosteriorMoments m;
  std::vector<double> scratch;
  q.evaluateOne(z, m, cov, scratch);
  return m;
}

VectorXd muAt(const Denoiser& d, const VectorXd& z) {
  std::vector<PosteriorMoments> out;
  d.evaluate(z.transpose(), false, out);
  return out[0].mu;
}

// Log posterior weights on the alanine grid, computed here from the raw grid values:
// log p_z(i) = -U_i + eta(z) . T(x_i) - logsumexp.
std::vector<double> alanineLogPosterior(const VectorXd& z) {
  const Grid2D& g = alanine().grid();
  const VectorXd eta = etaClosedForm(z);
  std::vector<double> lw(static_cast<std::size_t>(g.nx) * g.ny);
  double mx = -std::numeric_limits<double>::infinity();
  for (int j = 0; j < g.ny; ++j) {
    for (int i = 0; i < g.nx; ++i) {
      const double x = g.x0 + i * g.hx, y = g.y0 + j * g.hy;
      const double v = -g.value(i, j) + eta[0] * x + eta[1] * y + eta[2] * (x * x + y * y);
      lw[static_cast<std::size_t>(j) * g.nx + i] = v;
      mx = std::max(mx, v);
    }
  }
  double s = 0.0;
  for (double v : lw) s += std::exp(v - mx);
  const double lse = mx + std::log(s);
  for (double& v : lw) v -= lse;
  return lw;
}

double alanineDirectKL(const VectorXd& za, const VectorXd& zb) {
  const std::vector<double> a = alanineLogPosterior(za), b = alanineLogPosterior(zb);
  double kl = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) kl += std::exp(a[i]) * (a[i] - b[i]);
  return kl;
}

// A curve between the two alanine states at l = 4 that dips to l = -1 in the middle.
const VectorXd kStateA = vec({-2.55, 2.7});
const VectorXd kStateB = vec({0.95, -0.4});

MatrixXd dippingCurve(int N, double lEnd = 4.0, double depth = 5.0) {
  MatrixXd z(N, 3);
  for (int n = 0; n < N; ++n) {
    const double s = static_cast<double>(n) / (N - 1);
    const double l = lEnd - depth * std::sin(kPi * s);
    const VectorXd y = (1 - s) * kStateA + s * kStateB;
    z.row(n) = spacetimePoint(l, y).transpose();
  }
  return z;
}

// ---------------------------------------------------------------------------------------------
// Schedule and natural parameter.

TEST(Schedule, AlphaSigmaSnrAndEtaScale) {
  for (double l : {-30.0, -10.0, -4.0, -1.0, -0.3, 0.0, 0.5, 3.0, 10.0, 30.0}) {
    SCOPED_TRACE(l);
    EXPECT_NEAR(alphaSquared(l) + sigmaSquared(l), 1.0, 1e-15);
    EXPECT_NEAR(alphaSquared(l) / sigmaSquared(l) / std::exp(l), 1.0, 1e-13);
    EXPECT_NEAR(snr(l) / std::exp(l), 1.0, 1e-15);
    EXPECT_NEAR(alphaOf(l) * alphaOf(l) / alphaSquared(l), 1.0, 1e-15);
    // a = alpha / sigma^2 = sqrt(e^l / (1 + e^l)) (1 + e^l) = sqrt(e^l (1 + e^l)).
    EXPECT_NEAR(etaScale(l) / std::sqrt(std::exp(l) * (1.0 + std::exp(l))), 1.0, 1e-13);
  }
  const VectorXd y = vec({0.7, -1.3});
  const VectorXd z = spacetimePoint(2.0, y);
  EXPECT_EQ(z[0], 2.0);
  EXPECT_NEAR(z[1], std::sqrt(1.0 / (1.0 + std::exp(-2.0))) * 0.7, 1e-15);
  EXPECT_NEAR(z[2], std::sqrt(1.0 / (1.0 + std::exp(-2.0))) * -1.3, 1e-15);
}

TEST(Schedule, EtaScaleDerivativeMatchesFiniteDifferences) {
  for (double l : {-12.0, -4.0, -1.5, 0.0, 0.7, 2.0, 4.0, 8.0}) {
    const double h = 1e-5;
    const double fd = (etaScale(l + h) - etaScale(l - h)) / (2 * h);
    EXPECT_NEAR(etaScaleDerivative(l) / fd, 1.0, 1e-8) << "l = " << l;
  }
}

TEST(Schedule, NaturalParameterAndJacobian) {
  const std::vector<VectorXd> points = {vec({-4.0, 0.1, -0.3}), vec({-0.5, 1.2, 0.4}),
                                        vec({0.0, -2.0, 3.0}), vec({2.5, 0.6, -1.1}),
                                        vec({5.0, -2.4, 2.6})};
  for (const VectorXd& z : points) {
    SCOPED_TRACE(z.transpose());
    const VectorXd eta = naturalParameter(z);
    const VectorXd etaRef = etaClosedForm(z);
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(eta[i], etaRef[i], 1e-12 * (1 + std::abs(etaRef[i])));
    const MatrixXd J = naturalParameterJacobian(z);
    ASSERT_EQ(J.rows(), 3);
    ASSERT_EQ(J.cols(), 3);
    for (int c = 0; c < 3; ++c) {
      const double h = 1e-6;
      VectorXd zp = z, zm = z;
      zp[c] += h;
      zm[c] -= h;
      const VectorXd fd = (etaClosedForm(zp) - etaClosedForm(zm)) / (2 * h);
      for (int r = 0; r < 3; ++r) {
        EXPECT_NEAR(J(r, c), fd[r], 1e-7 * (1 + std::abs(fd[r]))) << "entry " << r << "," << c;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Quadrature denoiser against the closed-form Gaussian posterior.

std::vector<VectorXd> gaussianTestPoints() {
  std::vector<VectorXd> pts;
  const std::vector<VectorXd> ys = {kGaussMean, vec({1.1, 0.4}), vec({-1.3, -1.5}),
                                    vec({0.0, 0.9})};
  for (double l : {-4.0, -2.0, 0.0, 1.5, 3.0, 4.5, 6.0}) {
    for (const VectorXd& y : ys) pts.push_back(spacetimePoint(l, y));
  }
  return pts;
}

TEST(QuadratureDenoiser, GaussianMomentsAndLogPartitionMatchClosedForm) {
  const QuadratureDenoiser& q = gaussianDenoiser();
  EXPECT_EQ(q.gridPointCount(), 40000u);
  EXPECT_EQ(q.potentialEvaluations(), 40000);
  for (const VectorXd& z : gaussianTestPoints()) {
    SCOPED_TRACE(z.transpose());
    const GaussPosterior g = gaussPosterior(z);
    const VectorXd mu = gaussMu(g);
    MatrixXd cov;
    const PosteriorMoments m = evaluateOnePoint(q, z, &cov);
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(m.mu[i], mu[i], 1e-6 * std::max(1.0, std::abs(mu[i])));
    EXPECT_NEAR(m.psi, g.psi, 1e-6);
    const MatrixXd covRef = gaussCovT(g);
    const double scale = covRef.cwiseAbs().maxCoeff();
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) EXPECT_NEAR(cov(r, c), covRef(r, c), 1e-6 * scale);
    }
    // The batch interface gives the same moments.
    std::vector<PosteriorMoments> out;
    q.evaluate(z.transpose(), false, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_NEAR(out[0].psi, m.psi, 1e-12);
    EXPECT_LT((out[0].mu - m.mu).norm(), 1e-12);
  }
}

TEST(QuadratureDenoiser, AlanineMomentsMatchDirectLongDoubleSum) {
  // Every grid point summed in long double with std::exp, no cutoff: checks the 2D kernel (its
  // own exp, block skipping and lane sums) from low l (broad posterior) to high l (a few cells).
  const Grid2D& g = alanine().grid();
  const QuadratureDenoiser& q = alanineDenoiser();
  const std::vector<VectorXd> ys = {kStateA,         kStateB,           vec({-1.2, 0.5}),
                                    vec({3.0, 3.0}), vec({-3.1, -3.1}), vec({0.0, 0.0})};
  for (double l : {-6.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0}) {
    for (const VectorXd& y : ys) {
      const VectorXd z = spacetimePoint(l, y);
      SCOPED_TRACE(z.transpose());
      const VectorXd eta = naturalParameter(z);
      std::vector<long double> logw;
      long double maxLog = -1e300L, logZ = 0.0L;
      for (int j = 0; j < g.ny; ++j) {
        for (int i = 0; i < g.nx; ++i) {
          const long double x = g.x0 + i * g.hx, yv = g.y0 + j * g.hy;
          const long double v = -static_cast<long double>(g.value(i, j)) + eta[0] * x +
                                eta[1] * yv + eta[2] * (x * x + yv * yv);
          logw.push_back(v);
          maxLog = std::max(maxLog, v);
          logZ += std::exp(-static_cast<long double>(g.value(i, j)));
        }
      }
      long double s0 = 0, s[3] = {0, 0, 0}, ss[3][3] = {};
      std::size_t k = 0;
      for (int j = 0; j < g.ny; ++j) {
        for (int i = 0; i < g.nx; ++i, ++k) {
          const long double w = std::exp(logw[k] - maxLog);
          const long double x = g.x0 + i * g.hx, yv = g.y0 + j * g.hy;
          const long double t[3] = {x, yv, x * x + yv * yv};
          s0 += w;
          for (int a = 0; a < 3; ++a) {
            s[a] += w * t[a];
            for (int b = 0; b < 3; ++b) ss[a][b] += w * t[a] * t[b];
          }
        }
      }
      MatrixXd cov;
      const PosteriorMoments m = evaluateOnePoint(q, z, &cov);
      EXPECT_NEAR(m.psi, static_cast<double>(maxLog + std::log(s0) - std::log(logZ)), 1e-10);
      for (int a = 0; a < 3; ++a) {
        const long double mean = s[a] / s0;
        EXPECT_NEAR(m.mu[a], static_cast<double>(mean), 1e-12 * std::max(1.0L, std::fabs(mean)));
        for (int b = 0; b < 3; ++b) {
          const long double c = ss[a][b] / s0 - mean * (s[b] / s0);
          EXPECT_NEAR(cov(a, b), static_cast<double>(c), 1e-9 * std::max(1e-3L, std::fabs(c)))
              << "entry " << a << "," << b;
        }
      }
    }
  }
}

TEST(QuadratureDenoiser, GaussianKLMatchesClosedForm) {
  // Finite separations: the exponential-family KL from psi, mu, eta against the Gaussian KL.
  const QuadratureDenoiser& q = gaussianDenoiser();
  const std::vector<VectorXd> pts = gaussianTestPoints();
  for (std::size_t i = 0; i + 5 < pts.size(); i += 3) {
    const VectorXd& za = pts[i];
    const VectorXd& zb = pts[i + 5];
    const PosteriorMoments ma = evaluateOnePoint(q, za, nullptr);
    const PosteriorMoments mb = evaluateOnePoint(q, zb, nullptr);
    const double kl = klDivergence(ma.psi, ma.mu, etaClosedForm(za), mb.psi, etaClosedForm(zb));
    const double ref = gaussKL(gaussPosterior(za), gaussPosterior(zb));
    EXPECT_NEAR(kl, ref, 1e-6 * std::max(1.0, ref)) << za.transpose() << " -> " << zb.transpose();
  }
}

// KL(z || z + dz) ~ 1/2 dz^T G dz and (eta(z+dz) - eta(z)).(mu(z+dz) - mu(z)) ~ dz^T G dz, with
// G = J^T Cov[T|z] J.
void checkFisherMetric(const QuadratureDenoiser& q, const VectorXd& z, const VectorXd& dir) {
  SCOPED_TRACE(z.transpose());
  MatrixXd cov;
  const PosteriorMoments m0 = evaluateOnePoint(q, z, &cov);
  const MatrixXd J = naturalParameterJacobian(z);
  const MatrixXd G = J.transpose() * cov * J;
  const VectorXd dz = 1e-3 * dir;
  const VectorXd z1 = z + dz;
  const PosteriorMoments m1 = evaluateOnePoint(q, z1, nullptr);
  const VectorXd eta0 = etaClosedForm(z), eta1 = etaClosedForm(z1);
  const double quad = dz.dot(G * dz);
  ASSERT_GT(quad, 0.0);
  const double kl = klDivergence(m0.psi, m0.mu, eta0, m1.psi, eta1);
  EXPECT_NEAR(kl / (0.5 * quad), 1.0, 1e-2);
  const double sym = (eta1 - eta0).dot(m1.mu - m0.mu);
  EXPECT_NEAR(sym / quad, 1.0, 1e-2);
}

TEST(FisherMetric, KLAndSymmetrisedKLMatchMetricGaussian) {
  const QuadratureDenoiser& q = gaussianDenoiser();
  const std::vector<VectorXd> dirs = {vec({1.0, 0.0, 0.0}), vec({0.0, 1.0, 0.0}),
                                      vec({0.3, -0.7, 0.6})};
  for (const VectorXd& z : gaussianTestPoints()) {
    for (const VectorXd& d : dirs) checkFisherMetric(q, z, d);
  }
}

TEST(FisherMetric, KLAndSymmetrisedKLMatchMetricAlanine) {
  const QuadratureDenoiser& q = alanineDenoiser();
  const std::vector<VectorXd> ys = {kStateA, kStateB, vec({-1.2, 0.5}), vec({2.0, 2.0})};
  const std::vector<VectorXd> dirs = {vec({1.0, 0.0, 0.0}), vec({0.0, 0.0, 1.0}),
                                      vec({-0.5, 0.4, 0.7})};
  for (double l : {-4.0, -1.0, 1.0, 3.0, 4.0}) {
    for (const VectorXd& y : ys) {
      for (const VectorXd& d : dirs) checkFisherMetric(q, spacetimePoint(l, y), d);
    }
  }
}

TEST(QuadratureDenoiser, JacobianMatchesFiniteDifferencesAlanine) {
  const QuadratureDenoiser& q = alanineDenoiser();
  const std::vector<VectorXd> ys = {
      kStateA,         kStateB,          vec({-1.2, 0.5}), vec({2.0, 2.0}), vec({-3.0, -3.0}),
      vec({0.0, 0.0}), vec({1.5, -2.5}), vec({-2.0, 1.0}), vec({0.5, 3.0}), vec({-0.7, -1.6})};
  MatrixXd zs(10, 3);
  for (int k = 0; k < 10; ++k) zs.row(k) = spacetimePoint(-4.0 + k, ys[k]).transpose();
  std::vector<PosteriorMoments> out;
  q.evaluate(zs, true, out);
  ASSERT_EQ(out.size(), 10u);
  for (int k = 0; k < 10; ++k) {
    const VectorXd z = zs.row(k).transpose();
    SCOPED_TRACE(z.transpose());
    ASSERT_EQ(out[k].dmu_dz.rows(), 3);
    ASSERT_EQ(out[k].dmu_dz.cols(), 3);
    MatrixXd fd(3, 3);
    for (int c = 0; c < 3; ++c) {
      const double h = 1e-5;
      VectorXd zp = z, zm = z;
      zp[c] += h;
      zm[c] -= h;
      fd.col(c) = (muAt(q, zp) - muAt(q, zm)) / (2 * h);
    }
    const double scale = std::max(1.0, fd.cwiseAbs().maxCoeff());
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(out[k].dmu_dz(r, c), fd(r, c), 1e-6 * scale) << "entry " << r << "," << c;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Curve energy, length and gradient.

TEST(CurveEnergy, EnergyAndLengthMatchDirectSum) {
  const QuadratureDenoiser& q = alanineDenoiser();
  for (const MatrixXd& z : {dippingCurve(12), dippingCurve(9, 4.0, 0.0)}) {
    const int N = static_cast<int>(z.rows());
    const CurveEvaluation ev = evaluateCurve(q, z, false);
    double sum = 0.0, len = 0.0;
    for (int n = 0; n + 1 < N; ++n) {
      const VectorXd zn = z.row(n).transpose(), zn1 = z.row(n + 1).transpose();
      const double term = (etaClosedForm(zn1) - etaClosedForm(zn)).dot(muAt(q, zn1) - muAt(q, zn));
      EXPECT_GT(term, 0.0) << "segment " << n;
      sum += term;
      len += std::sqrt(term);
    }
    const double energy = 0.5 * (N - 1) * sum;
    EXPECT_NEAR(ev.energy, energy, 1e-10 * energy);
    EXPECT_NEAR(ev.length, len, 1e-10 * len);
    EXPECT_NEAR(curveEnergy(ev.eta, ev.mu), energy, 1e-10 * energy);
    // Cauchy-Schwarz: L^2 <= (N-1) sum_n term_n = 2E, with equality only at constant speed.
    EXPECT_GE(ev.energy, 0.5 * ev.length * ev.length);
    EXPECT_GT(ev.energy, 0.5 * ev.length * ev.length * (1 + 1e-6));  // these curves are not
                                                                     // constant-speed
    for (int n = 0; n < N; ++n) {
      const VectorXd zn = z.row(n).transpose();
      EXPECT_LT((ev.eta.row(n).transpose() - etaClosedForm(zn)).norm(), 1e-10);
      EXPECT_NEAR(ev.psi[n], evaluateOnePoint(q, zn, nullptr).psi, 1e-12);
    }
  }
}

TEST(CurveEnergy, GradientMatchesFiniteDifferences) {
  const QuadratureDenoiser& q = alanineDenoiser();
  const MatrixXd z = dippingCurve(12);
  const CurveEvaluation ev = evaluateCurve(q, z, true);
  ASSERT_EQ(ev.gradient.rows(), 12);
  ASSERT_EQ(ev.gradient.cols(), 3);
  MatrixXd fd(12, 3);
  for (int n = 0; n < 12; ++n) {
    for (int c = 0; c < 3; ++c) {
      const double h = 1e-6;
      MatrixXd zp = z, zm = z;
      zp(n, c) += h;
      zm(n, c) -= h;
      fd(n, c) =
          (evaluateCurve(q, zp, false).energy - evaluateCurve(q, zm, false).energy) / (2 * h);
    }
  }
  const double scale = fd.cwiseAbs().maxCoeff();
  ASSERT_GT(scale, 1.0);
  for (int n = 0; n < 12; ++n) {
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(ev.gradient(n, c), fd(n, c), 1e-6 * scale) << "point " << n << " coord " << c;
    }
  }
}

/// The exact alanine denoiser with a wiggle added to mu along l: mu' = mu + a sin(w l) (1, ..., 1),
/// an "approximate denoiser" whose mu runs backwards in places, so that some segment terms of a
/// curve are negative.
class WigglyDenoiser final : public Denoiser {
 public:
  WigglyDenoiser(const Denoiser& exact, double amplitude, double frequency)
      : exact_(exact), a_(amplitude), w_(frequency) {}
  int dimension() const override { return exact_.dimension(); }
  bool hasLogPartition() const override { return false; }
  void evaluate(const MatrixXd& z, bool withJacobian,
                std::vector<PosteriorMoments>& out) const override {
    exact_.evaluate(z, withJacobian, out);
    for (Eigen::Index n = 0; n < z.rows(); ++n) {
      auto& m = out[static_cast<std::size_t>(n)];
      m.mu.array() += a_ * std::sin(w_ * z(n, 0));
      if (withJacobian) m.dmu_dz.col(0).array() += a_ * w_ * std::cos(w_ * z(n, 0));
      m.psi = std::numeric_limits<double>::quiet_NaN();
    }
  }
  std::string name() const override { return "wiggly"; }
  long long evaluationCount() const override { return exact_.evaluationCount(); }

 private:
  const Denoiser& exact_;
  double a_, w_;
};

TEST(CurveEnergy, NegativeTermsAreClampedOrCountedByMagnitude) {
  const WigglyDenoiser d(alanineDenoiser(), 0.8, 6.0);
  const MatrixXd z = dippingCurve(16);
  const int N = static_cast<int>(z.rows());
  // Segment terms from the denoiser's mu one point at a time and the closed-form eta.
  std::vector<double> terms;
  double positive = 0.0, magnitude = 0.0, rootPositive = 0.0, rootMagnitude = 0.0;
  for (int n = 0; n + 1 < N; ++n) {
    const VectorXd zn = z.row(n).transpose(), zn1 = z.row(n + 1).transpose();
    const double t = (etaClosedForm(zn1) - etaClosedForm(zn)).dot(muAt(d, zn1) - muAt(d, zn));
    terms.push_back(t);
    positive += std::max(t, 0.0);
    magnitude += std::abs(t);
    rootPositive += std::sqrt(std::max(t, 0.0));
    rootMagnitude += std::sqrt(std::abs(t));
  }
  const auto negatives = std::count_if(terms.begin(), terms.end(), [](double t) { return t < 0; });
  ASSERT_GE(negatives, 2) << "the wiggle must make some terms negative for this test to mean much";
  ASSERT_LE(negatives, N - 3);
  const CurveEvaluation clamp = evaluateCurve(d, z, false);
  const CurveEvaluation absolute = evaluateCurve(d, z, false, NegativeTerms::Absolute);
  EXPECT_NEAR(clamp.energy, 0.5 * (N - 1) * positive, 1e-10 * clamp.energy);
  EXPECT_NEAR(clamp.length, rootPositive, 1e-10 * clamp.length);
  EXPECT_NEAR(absolute.energy, 0.5 * (N - 1) * magnitude, 1e-10 * absolute.energy);
  EXPECT_NEAR(absolute.length, rootMagnitude, 1e-10 * absolute.length);
  EXPECT_NEAR(curveEnergy(clamp.eta, clamp.mu), clamp.energy, 1e-10 * clamp.energy);
  // The exact denoiser has no negative terms: both policies agree there.
  EXPECT_EQ(evaluateCurve(alanineDenoiser(), z, false).energy,
            evaluateCurve(alanineDenoiser(), z, false, NegativeTerms::Absolute).energy);
}

TEST(CurveEnergy, AbsoluteTermsGradientMatchesFiniteDifferences) {
  const WigglyDenoiser d(alanineDenoiser(), 0.8, 6.0);
  const MatrixXd z = dippingCurve(16);
  const CurveEvaluation ev = evaluateCurve(d, z, true, NegativeTerms::Absolute);
  int negatives = 0;
  for (int n = 0; n + 1 < 16; ++n) {
    const double t = (ev.eta.row(n + 1) - ev.eta.row(n)).dot(ev.mu.row(n + 1) - ev.mu.row(n));
    ASSERT_GT(std::abs(t), 1e-4) << "a term this close to 0 would make the kink show up in the FD";
    negatives += t < 0;
  }
  ASSERT_GE(negatives, 2);
  const double h = 1e-6;
  MatrixXd fd(16, 3);
  for (int n = 0; n < 16; ++n) {
    for (int c = 0; c < 3; ++c) {
      MatrixXd zp = z, zm = z;
      zp(n, c) += h;
      zm(n, c) -= h;
      fd(n, c) = (evaluateCurve(d, zp, false, NegativeTerms::Absolute).energy -
                  evaluateCurve(d, zm, false, NegativeTerms::Absolute).energy) /
                 (2 * h);
    }
  }
  const double scale = fd.cwiseAbs().maxCoeff();
  ASSERT_GT(scale, 1.0);
  EXPECT_LT((ev.gradient - fd).cwiseAbs().maxCoeff(), 1e-6 * scale);
  // ... and differs from the clamped energy's gradient.
  EXPECT_GT((evaluateCurve(d, z, true).gradient - ev.gradient).cwiseAbs().maxCoeff(), 0.01 * scale);
}

// ---------------------------------------------------------------------------------------------
// Spline curve.

const VectorXd kSplineA = vec({4.0, -2.4, 2.6});
const VectorXd kSplineB = vec({3.5, 0.9, -0.4});

VectorXd randomTheta(int count, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd(0.0, 2.0);
  VectorXd t(count);
  for (int i = 0; i < count; ++i) t[i] = nd(rng);
  return t;
}

TEST(SplineCurve, EndPointsAreFixedForAnyParameters) {
  for (int J : {2, 3, 5, 10, 13}) {
    SplineCurve curve(kSplineA, kSplineB, J);
    ASSERT_EQ(curve.parameterCount(), 3 * J);
    for (unsigned seed = 1; seed <= 3; ++seed) {
      const VectorXd theta = randomTheta(curve.parameterCount(), seed + 10 * J);
      for (int N : {2, 17, 64}) {
        const MatrixXd z = curve.evaluate(theta, N);
        ASSERT_EQ(z.rows(), N);
        for (int p = 0; p < 3; ++p) {
          // Exact up to the rounding of the Hermite weights at s = 1 (a few ulp of the
          // coordinates).
          EXPECT_NEAR(z(0, p), kSplineA[p], 1e-13) << "J " << J << " N " << N;
          EXPECT_NEAR(z(N - 1, p), kSplineB[p], 1e-13) << "J " << J << " N " << N;
        }
      }
      const MatrixXd ends = curve.evaluateAt(theta, vec({0.0, 1.0, -0.5, 1.5}));
      for (int p = 0; p < 3; ++p) {
        EXPECT_NEAR(ends(0, p), kSplineA[p], 1e-13);
        EXPECT_NEAR(ends(1, p), kSplineB[p], 1e-13);
        EXPECT_NEAR(ends(2, p), kSplineA[p], 1e-13);  // clamped
        EXPECT_NEAR(ends(3, p), kSplineB[p], 1e-13);
      }
    }
  }
}

// The end nodes are fixed exactly, not within rounding: at s = 1 the local parameter must be
// exactly 1 (a regression test: (1 - (J-2) h) / h is not 1 in floating point for J = 10 or 13).
TEST(SplineCurve, EndPointsAreBitExact) {
  for (int J : {2, 3, 5, 10, 13}) {
    SplineCurve curve(kSplineA, kSplineB, J);
    const VectorXd theta = randomTheta(curve.parameterCount(), 100 + J);
    const MatrixXd z = curve.evaluate(theta, 17);
    for (int p = 0; p < 3; ++p) {
      EXPECT_EQ(z(0, p), kSplineA[p]) << "J " << J;
      EXPECT_EQ(z(16, p), kSplineB[p]) << "J " << J;
    }
  }
}

TEST(SplineCurve, StraightLineIsTheLineAtUniformParameter) {
  for (int J : {2, 4, 10}) {
    SplineCurve curve(kSplineA, kSplineB, J);
    const VectorXd theta = curve.straightLine();
    const int N = 33;
    const MatrixXd z = curve.evaluate(theta, N);
    for (int n = 0; n < N; ++n) {
      const double s = static_cast<double>(n) / (N - 1);
      const VectorXd ref = (1 - s) * kSplineA + s * kSplineB;
      for (int p = 0; p < 3; ++p) EXPECT_NEAR(z(n, p), ref[p], 1e-13) << "J " << J << " n " << n;
    }
    const VectorXd s = vec({0.013, 0.25, 0.5, 0.61, 0.999});
    const MatrixXd zs = curve.evaluateAt(theta, s);
    for (int i = 0; i < s.size(); ++i) {
      const VectorXd ref = (1 - s[i]) * kSplineA + s[i] * kSplineB;
      for (int p = 0; p < 3; ++p) EXPECT_NEAR(zs(i, p), ref[p], 1e-13);
    }
  }
}

TEST(SplineCurve, InterpolatesNodesWithGivenEndSlopes) {
  const int J = 7;
  SplineCurve curve(kSplineA, kSplineB, J);
  std::mt19937 rng(5);
  std::normal_distribution<double> nd(0.0, 1.5);
  MatrixXd nodes(J, 3);
  for (int j = 0; j < J; ++j) {
    for (int p = 0; p < 3; ++p) nodes(j, p) = nd(rng);
  }
  nodes.row(0) = kSplineA.transpose();
  nodes.row(J - 1) = kSplineB.transpose();
  const VectorXd slopeA = vec({0.5, -2.0, 1.0}), slopeB = vec({-1.5, 0.3, 2.2});
  const VectorXd theta = curve.fromNodes(nodes, slopeA, slopeB);
  VectorXd s(J);
  for (int j = 0; j < J; ++j) s[j] = static_cast<double>(j) / (J - 1);
  const MatrixXd z = curve.evaluateAt(theta, s);
  for (int j = 0; j < J; ++j) {
    for (int p = 0; p < 3; ++p) EXPECT_NEAR(z(j, p), nodes(j, p), 1e-12) << "node " << j;
  }
  // End slopes dz/ds, one-sided second-order differences (exact up to O(e^2 z''')).
  const double e = 1e-5;
  const MatrixXd zl = curve.evaluateAt(theta, vec({0.0, e, 2 * e, 1.0 - 2 * e, 1.0 - e, 1.0}));
  for (int p = 0; p < 3; ++p) {
    const double dA = (-3 * zl(0, p) + 4 * zl(1, p) - zl(2, p)) / (2 * e);
    const double dB = (3 * zl(5, p) - 4 * zl(4, p) + zl(3, p)) / (2 * e);
    EXPECT_NEAR(dA, slopeA[p], 1e-5);
    EXPECT_NEAR(dB, slopeB[p], 1e-5);
  }
}

TEST(SplineCurve, PullbackIsTheGradientOfALinearFunctional) {
  const int J = 6, N = 23;
  SplineCurve curve(kSplineA, kSplineB, J);
  const VectorXd theta = randomTheta(curve.parameterCount(), 77);
  std::mt19937 rng(3);
  std::normal_distribution<double> nd(0.0, 1.0);
  MatrixXd W(N, 3);
  for (int n = 0; n < N; ++n) {
    for (int p = 0; p < 3; ++p) W(n, p) = nd(rng);
  }
  auto F = [&](const VectorXd& t) { return (W.array() * curve.evaluate(t, N).array()).sum(); };
  const VectorXd g = curve.pullback(W);
  ASSERT_EQ(g.size(), curve.parameterCount());
  for (int i = 0; i < g.size(); ++i) {
    const double h = 1e-3;
    VectorXd tp = theta, tm = theta;
    tp[i] += h;
    tm[i] -= h;
    EXPECT_NEAR(g[i], (F(tp) - F(tm)) / (2 * h), 1e-8 * (1 + std::abs(g[i]))) << "parameter " << i;
  }
}

TEST(SplineCurve, IsTwiceContinuouslyDifferentiableAcrossNodes) {
  const int J = 6;
  SplineCurve curve(kSplineA, kSplineB, J);
  const VectorXd theta = randomTheta(curve.parameterCount(), 21);
  const double e = 1e-3;
  auto at = [&](double s) -> VectorXd { return curve.evaluateAt(theta, vec({s})).row(0); };
  // Central second differences are exact for cubics; z'' is linear on each piece, so extrapolating
  // d2(s_j -+ 2e) and d2(s_j -+ 4e) to s_j gives the one-sided second derivatives at the node.
  auto d2 = [&](double c) -> VectorXd { return (at(c + e) - 2 * at(c) + at(c - e)) / (e * e); };
  double jumpScale = 0.0;
  for (int j = 1; j + 1 < J; ++j) {
    const double sj = static_cast<double>(j) / (J - 1);
    SCOPED_TRACE(j);
    const VectorXd leftD2 = 2 * d2(sj - 2 * e) - d2(sj - 4 * e);
    const VectorXd rightD2 = 2 * d2(sj + 2 * e) - d2(sj + 4 * e);
    const VectorXd leftD1 = (3 * at(sj) - 4 * at(sj - e) + at(sj - 2 * e)) / (2 * e);
    const VectorXd rightD1 = (-3 * at(sj) + 4 * at(sj + e) - at(sj + 2 * e)) / (2 * e);
    const VectorXd leftZ = 2 * at(sj - e) - at(sj - 2 * e);  // linear extrapolation, O(e^2)
    const VectorXd rightZ = 2 * at(sj + e) - at(sj + 2 * e);
    jumpScale = std::max(jumpScale, leftD2.cwiseAbs().maxCoeff());
    for (int p = 0; p < 3; ++p) {
      EXPECT_NEAR(leftZ[p], rightZ[p], 1e-3);
      EXPECT_NEAR(leftD1[p], rightD1[p], 1e-2 * (1 + std::abs(leftD1[p])));
      EXPECT_NEAR(leftD2[p], rightD2[p], 1e-5 * (1 + std::abs(leftD2[p])));
    }
  }
  EXPECT_GT(jumpScale, 1.0);  // the curve is genuinely curved, so C2 is a real check
}

// ---------------------------------------------------------------------------------------------
// Penalties.

TEST(Penalty, SoftplusMatchesDefinitionAndAsymptotes) {
  for (double beta : {1.0, 10.0}) {
    for (double u : {-2.0, -0.5, -0.05, 0.0, 0.03, 0.3, 1.5, 3.0}) {
      const double ref = std::log1p(std::exp(beta * u)) / beta;
      EXPECT_NEAR(softplus(u, beta), ref, 1e-14 * std::max(1e-3, ref)) << beta << " " << u;
    }
  }
  // Large positive u: softplus -> u (exp(beta u) would overflow).
  EXPECT_NEAR(softplus(200.0, 10.0), 200.0, 1e-12);
  EXPECT_EQ(softplus(1e6, 10.0), 1e6);
  EXPECT_TRUE(std::isfinite(softplus(1e300, 10.0)));
  // Large negative u: softplus -> exp(beta u) / beta.
  EXPECT_NEAR(softplus(-60.0, 10.0) / (std::exp(-600.0) / 10.0), 1.0, 1e-12);
  EXPECT_GE(softplus(-1e6, 10.0), 0.0);
  EXPECT_LT(softplus(-1e6, 10.0), 1e-300);
  EXPECT_NEAR(softplus(0.0, 10.0), std::log(2.0) / 10.0, 1e-16);
}

TEST(Penalty, KlFromStarMatchesDirectKL) {
  const QuadratureDenoiser& q = alanineDenoiser();
  const MatrixXd z = dippingCurve(10);
  const CurveEvaluation ev = evaluateCurve(q, z, false);
  const VectorXd zStar = vec({4.0, -0.8, -0.1});
  std::vector<PosteriorMoments> st;
  q.evaluate(zStar.transpose(), false, st);
  const VectorXd kl = klFromStar(z, ev, zStar, st[0]);
  ASSERT_EQ(kl.size(), 10);
  for (int n = 0; n < 10; ++n) {
    const VectorXd zn = z.row(n).transpose();
    const double viaPsi =
        klDivergence(st[0].psi, st[0].mu, etaClosedForm(zStar), ev.psi[n], etaClosedForm(zn));
    const double direct = alanineDirectKL(zStar, zn);  // sum_i p*_i log(p*_i / p_n,i)
    EXPECT_NEAR(kl[n], viaPsi, 1e-10 * std::max(1.0, viaPsi)) << "point " << n;
    EXPECT_NEAR(kl[n], direct, 1e-8 * std::max(1.0, direct)) << "point " << n;
    EXPECT_GT(kl[n], 0.0);
  }
}

// FD check of evaluatePenalty's gradient w.r.t. the curve points (re-evaluating the curve).
void checkPenaltyGradient(const PenaltySettings& s, double lvWeight, const MatrixXd& z,
                          const PosteriorMoments& star) {
  const QuadratureDenoiser& q = alanineDenoiser();
  const CurveEvaluation ev = evaluateCurve(q, z, false);
  MatrixXd grad = MatrixXd::Zero(z.rows(), z.cols());
  evaluatePenalty(s, lvWeight, z, ev, star, &grad, nullptr);
  MatrixXd fd(z.rows(), z.cols());
  for (Eigen::Index n = 0; n < z.rows(); ++n) {
    for (Eigen::Index c = 0; c < z.cols(); ++c) {
      const double h = 1e-6;
      MatrixXd zp = z, zm = z;
      zp(n, c) += h;
      zm(n, c) -= h;
      const double fp =
          evaluatePenalty(s, lvWeight, zp, evaluateCurve(q, zp, false), star, nullptr, nullptr);
      const double fm =
          evaluatePenalty(s, lvWeight, zm, evaluateCurve(q, zm, false), star, nullptr, nullptr);
      fd(n, c) = (fp - fm) / (2 * h);
    }
  }
  const double scale = fd.cwiseAbs().maxCoeff();
  ASSERT_GT(scale, 0.1);
  for (Eigen::Index n = 0; n < z.rows(); ++n) {
    for (Eigen::Index c = 0; c < z.cols(); ++c) {
      EXPECT_NEAR(grad(n, c), fd(n, c), 1e-6 * scale) << "point " << n << " coord " << c;
    }
  }
}

TEST(Penalty, LowVarianceValueAndGradient) {
  const MatrixXd z = dippingCurve(12);  // l from 4 down to -1: both sides of l_floor = 3
  PenaltySettings s;
  s.type = PenaltySettings::Type::LowVariance;
  s.lFloor = 3.0;
  s.beta = 10.0;
  const PosteriorMoments star;
  const CurveEvaluation ev = evaluateCurve(alanineDenoiser(), z, false);
  PenaltyParts parts;
  const double pen = evaluatePenalty(s, 50.0, z, ev, star, nullptr, &parts);
  double ref = 0.0;
  for (int n = 0; n < 12; ++n) ref += std::log1p(std::exp(10.0 * (3.0 - z(n, 0)))) / 10.0;
  ref *= 50.0 / 12.0;
  EXPECT_NEAR(pen, ref, 1e-12 * ref);
  EXPECT_NEAR(parts.lowVariance, ref, 1e-12 * ref);
  EXPECT_EQ(parts.region, 0.0);
  // Zero weight: no penalty.
  EXPECT_EQ(evaluatePenalty(s, 0.0, z, ev, star, nullptr, nullptr), 0.0);
  checkPenaltyGradient(s, 50.0, z, star);
  // A curve whose l sits right at the floor (where softplus bends most).
  MatrixXd zNear = dippingCurve(12, 3.2, 0.5);
  checkPenaltyGradient(s, 50.0, zNear, star);
}

TEST(Penalty, RegionAvoidanceValueAndGradient) {
  const QuadratureDenoiser& q = alanineDenoiser();
  const MatrixXd z = dippingCurve(12, 4.0, 1.5);
  const CurveEvaluation ev = evaluateCurve(q, z, false);
  PenaltySettings s;
  s.type = PenaltySettings::Type::RegionAvoidance;
  s.zStar = vec({4.0, -0.8, -0.1});
  s.lFloor = 3.75;
  s.beta = 10.0;
  s.regionWeight = 1.0;
  std::vector<PosteriorMoments> st;
  q.evaluate(s.zStar.transpose(), false, st);
  VectorXd kl(12);
  for (int n = 0; n < 12; ++n) kl[n] = alanineDirectKL(s.zStar, z.row(n).transpose());
  // kappa at the median KL: about half of the points are active (kappa > KL).
  std::vector<double> sorted(kl.data(), kl.data() + kl.size());
  std::sort(sorted.begin(), sorted.end());
  s.kappa = 0.5 * (sorted[5] + sorted[6]);
  int active = 0;
  for (int n = 0; n < 12; ++n) active += (kl[n] < s.kappa);
  ASSERT_GE(active, 3);
  ASSERT_LE(active, 9);

  PenaltyParts parts;
  const double lvWeight = 20.0;
  const double pen = evaluatePenalty(s, lvWeight, z, ev, st[0], nullptr, &parts);
  double region = 0.0, lv = 0.0;
  for (int n = 0; n < 12; ++n) {
    region += std::log1p(std::exp(10.0 * (s.kappa - kl[n]))) / 10.0;
    lv += std::log1p(std::exp(10.0 * (3.75 - z(n, 0)))) / 10.0;
  }
  region /= 12.0;
  lv *= lvWeight / 12.0;
  EXPECT_NEAR(parts.region, region, 1e-8 * region);
  EXPECT_NEAR(parts.lowVariance, lv, 1e-12 * lv);
  EXPECT_NEAR(pen, region + lv, 1e-8 * (region + lv));
  EXPECT_NEAR(parts.minKL, sorted[0], 1e-8 * sorted[0]);

  checkPenaltyGradient(s, lvWeight, z, st[0]);
  checkPenaltyGradient(s, 0.0, z, st[0]);
}

// ---------------------------------------------------------------------------------------------
// Geodesic solver on the alanine surface.

VectorXd alanineZA(double l) { return spacetimePoint(l, kStateA); }
VectorXd alanineZB(double l) { return spacetimePoint(l, kStateB); }

TEST(Geodesic, LbfgsLowersEnergyAndDipsBelowTheStates) {
  const QuadratureDenoiser& q = alanineDenoiser();
  const VectorXd zA = alanineZA(4.0), zB = alanineZB(4.0);
  GeodesicSettings gs;
  gs.optimizer = "lbfgs";
  gs.nPoints = 64;
  gs.maxIterations = 150;
  const GeodesicResult r = solveGeodesic(q, zA, zB, gs);

  // Straight line, built and evaluated here.
  SplineCurve curve(zA, zB, gs.nNodes);
  const MatrixXd line = curve.evaluate(curve.straightLine(), 64);
  const double lineEnergy = evaluateCurve(q, line, false).energy;
  EXPECT_NEAR(r.initialEnergy, lineEnergy, 1e-10 * lineEnergy);

  ASSERT_EQ(r.z.rows(), 64);
  const double energy = evaluateCurve(q, r.z, false).energy;
  EXPECT_NEAR(r.evaluation.energy, energy, 1e-10 * energy);
  EXPECT_LT(energy, lineEnergy);
  EXPECT_LT(energy, 0.5 * lineEnergy);  // the detour through noise is much cheaper
  const double minL = r.z.col(0).minCoeff();
  EXPECT_LT(minL, 0.0) << "the geodesic should dip well below l = 4";
  for (int p = 0; p < 3; ++p) {
    EXPECT_NEAR(r.z(0, p), zA[p], 1e-12);
    EXPECT_NEAR(r.z(63, p), zB[p], 1e-12);
  }
  // The recorded history never increases (best values) and ends at the final objective.
  ASSERT_FALSE(r.objectiveHistory.empty());
  for (std::size_t i = 1; i < r.objectiveHistory.size(); ++i) {
    EXPECT_LE(r.objectiveHistory[i], r.objectiveHistory[i - 1]);
  }
  EXPECT_NEAR(r.objective, energy, 1e-10 * energy);  // no penalty
  // z is the spline of theta.
  EXPECT_LT((curve.evaluate(r.theta, 64) - r.z).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(Geodesic, AdamLowersEnergy) {
  const QuadratureDenoiser& q = alanineDenoiser();
  const VectorXd zA = alanineZA(4.0), zB = alanineZB(4.0);
  GeodesicSettings gs;
  gs.optimizer = "adam";
  gs.nPoints = 64;
  gs.maxIterations = 50;
  gs.learningRate = 0.1;
  const GeodesicResult r = solveGeodesic(q, zA, zB, gs);
  const double energy = evaluateCurve(q, r.z, false).energy;
  EXPECT_LT(energy, r.initialEnergy);
  EXPECT_LE(r.iterations, 50);
  ASSERT_FALSE(r.energyHistory.empty());
  EXPECT_NEAR(r.energyHistory.front(), r.initialEnergy, 1e-10 * r.initialEnergy);
}

// Note: the brief expected min l >= ~2.8 here. With the penalty of docs/method.md, "Penalties"
// (lambda * mean_n softplus_10(l_floor - l_n), lambda = 100, l_floor = 3) and E = (N-1)/2 sum ...,
// the optimum of energy + penalty lies near min l ~ 2.0-2.3 (L-BFGS run to convergence: 2.04;
// Adam without warm-up: 2.26), so the achievable statement is "far above the unconstrained dip".
TEST(Geodesic, LowVariancePenaltyKeepsLHigh) {
  const QuadratureDenoiser& q = alanineDenoiser();
  const VectorXd zA = alanineZA(4.0), zB = alanineZB(4.0);
  GeodesicSettings gs;
  gs.optimizer = "lbfgs";
  gs.nPoints = 64;
  gs.maxIterations = 150;
  const GeodesicResult free = solveGeodesic(q, zA, zB, gs);
  gs.penalty.type = PenaltySettings::Type::LowVariance;
  gs.penalty.lambda = 100.0;
  gs.penalty.lFloor = 3.0;
  const GeodesicResult r = solveGeodesic(q, zA, zB, gs);
  const double minL = r.z.col(0).minCoeff();
  EXPECT_GE(minL, 1.8);
  EXPECT_GT(minL, free.z.col(0).minCoeff() + 3.0);
  EXPECT_GT(r.penalty.lowVariance, 0.0);
  // Objective = energy + penalty, recomputed here; it beats both the straight line (penalty ~ 0
  // there since l = 4 > l_floor) and the unconstrained geodesic under the same penalty.
  auto objective = [&](const MatrixXd& z) {
    const CurveEvaluation ev = evaluateCurve(q, z, false);
    return ev.energy +
           evaluatePenalty(gs.penalty, 100.0, z, ev, PosteriorMoments{}, nullptr, nullptr);
  };
  EXPECT_NEAR(r.objective, objective(r.z), 1e-9 * r.objective);
  SplineCurve curve(zA, zB, gs.nNodes);
  EXPECT_LT(r.objective, objective(curve.evaluate(curve.straightLine(), 64)));
  EXPECT_LT(r.objective, objective(free.z));
}

// ---------------------------------------------------------------------------------------------
// Fisher-Rao resampling.

TEST(ResampleCurve, FisherRaoSpacingGivesEqualSegments) {
  const QuadratureDenoiser& q = alanineDenoiser();
  const VectorXd zA = alanineZA(4.0), zB = alanineZB(4.0);
  const int J = 6;
  SplineCurve curve(zA, zB, J);
  // A curve dipping to l ~ 0 in the middle (nodes on the (phi, psi) line, l lowered).
  MatrixXd nodes(J, 3);
  for (int j = 0; j < J; ++j) {
    const double s = static_cast<double>(j) / (J - 1);
    const double l = 4.0 - 4.0 * std::sin(kPi * s);
    nodes.row(j) = spacetimePoint(l, (1 - s) * kStateA + s * kStateB).transpose();
  }
  const VectorXd theta = curve.fromNodes(nodes, zB - zA, zB - zA);
  auto segmentLengths = [&](const MatrixXd& pts) {
    const CurveEvaluation ev = evaluateCurve(q, pts, false);
    VectorXd len(pts.rows() - 1);
    for (Eigen::Index n = 0; n + 1 < pts.rows(); ++n) {
      len[n] = std::sqrt((ev.eta.row(n + 1) - ev.eta.row(n)).dot(ev.mu.row(n + 1) - ev.mu.row(n)));
    }
    return len;
  };

  {
    // Chords sqrt((d eta).(d mu)) of a 64-point resampling are nearly equal.
    const int N = 64;
    const MatrixXd zP = resampleCurve(q, zA, zB, J, theta, N, CurveSpacing::Parameter);
    EXPECT_LT((zP - curve.evaluate(theta, N)).cwiseAbs().maxCoeff(), 1e-14);
    const MatrixXd z = resampleCurve(q, zA, zB, J, theta, N, CurveSpacing::FisherRao);
    ASSERT_EQ(z.rows(), N);
    for (int p = 0; p < 3; ++p) {
      EXPECT_NEAR(z(0, p), zA[p], 1e-12);
      EXPECT_NEAR(z(N - 1, p), zB[p], 1e-12);
    }
    const VectorXd len = segmentLengths(z);
    EXPECT_LT(len.maxCoeff() / len.minCoeff(), 1.2);
    // Nearly constant speed: E ~ L^2 / 2 (Cauchy-Schwarz equality case).
    const CurveEvaluation ev = evaluateCurve(q, z, false);
    EXPECT_NEAR(ev.energy / (0.5 * ev.length * ev.length), 1.0, 1e-3);
    // The uniform-parameter points are far from equal length, so the check above is meaningful.
    const VectorXd lenP = segmentLengths(zP);
    EXPECT_GT(lenP.maxCoeff() / lenP.minCoeff(), 1.5);
  }
  {
    // With few points the chords of long segments differ from their arc lengths, so measure the
    // arc length of every segment here: recover s_n of each point on the spline, then sum the
    // chords of 100 sub-segments.
    const int N = 24;
    const MatrixXd z = resampleCurve(q, zA, zB, J, theta, N, CurveSpacing::FisherRao);
    const int F = 20001;
    const MatrixXd fine = curve.evaluate(theta, F);
    VectorXd s(N);
    for (int n = 0; n < N; ++n) {
      Eigen::Index k = 0;
      const double d = (fine.rowwise() - z.row(n)).rowwise().norm().minCoeff(&k);
      EXPECT_LT(d, 2e-3) << "point " << n << " is not on the spline";
      // Golden-section refinement of s around the nearest fine sample.
      double lo = std::max(0.0, (k - 1.0) / (F - 1)), hi = std::min(1.0, (k + 1.0) / (F - 1));
      auto dist = [&](double t) {
        return (curve.evaluateAt(theta, vec({t})).row(0) - z.row(n)).norm();
      };
      const double g = 0.5 * (std::sqrt(5.0) - 1.0);
      for (int it = 0; it < 60; ++it) {
        const double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
        if (dist(a) < dist(b)) {
          hi = b;
        } else {
          lo = a;
        }
      }
      s[n] = 0.5 * (lo + hi);
      EXPECT_LT(dist(s[n]), 1e-9) << "point " << n;
    }
    EXPECT_NEAR(s[0], 0.0, 1e-9);
    EXPECT_NEAR(s[N - 1], 1.0, 1e-9);
    VectorXd arc(N - 1);
    for (int n = 0; n + 1 < N; ++n) {
      EXPECT_GT(s[n + 1], s[n]);
      const MatrixXd sub = curve.evaluateAt(theta, VectorXd::LinSpaced(101, s[n], s[n + 1]));
      arc[n] = evaluateCurve(q, sub, false).length;
    }
    EXPECT_LT(arc.maxCoeff() / arc.minCoeff(), 1.02);
  }
}

}  // namespace
}  // namespace geotps
