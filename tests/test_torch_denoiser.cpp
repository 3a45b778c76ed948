// Tests for the neural denoiser's evaluation (TorchDenoiser): Tweedie moments against closed-form
// posteriors (Gaussian and a Gaussian mixture) and exact quadrature, d mu / d z and the
// curve-energy gradient against finite differences, Hutchinson's divergence against the exact one,
// and the save / load round trip of DenoiserNetwork.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/core/schedule.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/geodesic/curve_energy.h"
#include "engine/neural/denoiser_network.h"
#include "engine/neural/torch_denoiser.h"

namespace geotps {
namespace {

constexpr int kD = 2;

// ---- Gaussian data q = N(m, s^2 I) ---------------------------------------------------------

struct Gaussian {
  Eigen::VectorXd m;
  double s;
};

Gaussian testGaussian() {
  Gaussian g;
  g.m = Eigen::Vector2d(0.3, -0.2);
  g.s = 0.5;
  return g;
}

// Posterior precision P = 1/s^2 + alpha^2/sigma^2 and mean (m/s^2 + alpha/sigma^2 x)/P.
double gaussianPrecision(const Gaussian& g, double l) {
  return 1.0 / (g.s * g.s) + alphaSquared(l) / sigmaSquared(l);
}

Eigen::VectorXd gaussianMomentsClosedForm(const Gaussian& g, const Eigen::VectorXd& z) {
  const double l = z[0];
  const double P = gaussianPrecision(g, l);
  const Eigen::VectorXd mean = (g.m / (g.s * g.s) + alphaOf(l) / sigmaSquared(l) * z.tail(kD)) / P;
  Eigen::VectorXd mu(kD + 1);
  mu.head(kD) = mean;
  mu[kD] = mean.squaredNorm() + kD / P;
  return mu;
}

TorchDenoiser::Function gaussianMeanFunction(const Gaussian& g) {
  const torch::Tensor m = torch::tensor({g.m[0], g.m[1]}, torch::kFloat64).unsqueeze(0);
  const double s2 = g.s * g.s;
  return [m, s2](const torch::Tensor& x, const torch::Tensor& l) {
    const auto a2 = torch::sigmoid(l).unsqueeze(1), sig2 = torch::sigmoid(-l).unsqueeze(1);
    const auto P = 1.0 / s2 + a2 / sig2;
    return (m / s2 + torch::sqrt(a2) / sig2 * x) / P;
  };
}

// U(x) = |x - m|^2 / (2 s^2) in kT, so that exp(-U) is the Gaussian's density (up to a constant).
class GaussianPotential final : public Potential {
 public:
  explicit GaussianPotential(Gaussian g) : g_(std::move(g)) {}
  int dimension() const override { return kD; }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override {
    for (std::size_t i = 0; i < n; ++i) {
      double u = 0.0;
      for (int d = 0; d < kD; ++d) {
        const double r = x[i * kD + d] - g_.m[d];
        u += r * r;
        if (gradient) gradient[i * kD + d] = r / (g_.s * g_.s);
      }
      energy[i] = 0.5 * u / (g_.s * g_.s);
    }
  }
  std::string name() const override { return "gaussian"; }

 private:
  Gaussian g_;
};

// ---- Two-component Gaussian mixture q = sum_k w_k N(m_k, s_k^2 I) ----------------------------
// Given z, component k has marginal x ~ N(alpha m_k, (alpha^2 s_k^2 + sigma^2) I), so the
// responsibilities are r_k ∝ w_k N(x; alpha m_k, v_k I); within component k the posterior is
// N(m_k', I/P_k) with P_k = 1/s_k^2 + alpha^2/sigma^2, m_k' = (m_k/s_k^2 + alpha/sigma^2 x)/P_k.
// Hence E[x0|z] = sum_k r_k m_k' and E[|x0|^2|z] = sum_k r_k (|m_k'|^2 + D/P_k).

struct Mixture {
  double w[2] = {0.35, 0.65};
  Eigen::Vector2d m[2] = {Eigen::Vector2d(-1.0, 0.4), Eigen::Vector2d(1.2, -0.3)};
  double s[2] = {0.3, 0.55};
};

Eigen::VectorXd mixtureMomentsClosedForm(const Mixture& q, const Eigen::VectorXd& z) {
  const double l = z[0], a = alphaOf(l), a2 = alphaSquared(l), sig2 = sigmaSquared(l);
  const Eigen::VectorXd x = z.tail(kD);
  double logr[2], P[2];
  Eigen::VectorXd mk[2];
  for (int k = 0; k < 2; ++k) {
    const double v = a2 * q.s[k] * q.s[k] + sig2;
    logr[k] = std::log(q.w[k]) - (x - a * q.m[k]).squaredNorm() / (2 * v) -
              0.5 * kD * std::log(2 * M_PI * v);
    P[k] = 1.0 / (q.s[k] * q.s[k]) + a2 / sig2;
    mk[k] = (q.m[k] / (q.s[k] * q.s[k]) + a / sig2 * x) / P[k];
  }
  const double top = std::max(logr[0], logr[1]);
  const double e0 = std::exp(logr[0] - top), e1 = std::exp(logr[1] - top);
  const double r[2] = {e0 / (e0 + e1), e1 / (e0 + e1)};
  Eigen::VectorXd mu = Eigen::VectorXd::Zero(kD + 1);
  for (int k = 0; k < 2; ++k) {
    mu.head(kD) += r[k] * mk[k];
    mu[kD] += r[k] * (mk[k].squaredNorm() + kD / P[k]);
  }
  return mu;
}

TorchDenoiser::Function mixtureMeanFunction(const Mixture& q) {
  return [q](const torch::Tensor& x, const torch::Tensor& l) {
    const auto a2 = torch::sigmoid(l).unsqueeze(1), sig2 = torch::sigmoid(-l).unsqueeze(1);
    const auto a = torch::sqrt(a2);
    std::vector<torch::Tensor> logr, means;
    for (int k = 0; k < 2; ++k) {
      const auto m = torch::tensor({q.m[k][0], q.m[k][1]}, torch::kFloat64).unsqueeze(0);
      const double s2 = q.s[k] * q.s[k];
      const auto v = a2 * s2 + sig2;  // [B, 1]
      logr.push_back((std::log(q.w[k]) - (x - a * m).pow(2).sum(1, true) / (2 * v) -
                      0.5 * kD * torch::log(2 * M_PI * v)));
      means.push_back((m / s2 + a / sig2 * x) / (1.0 / s2 + a2 / sig2));
    }
    const auto r = torch::softmax(torch::cat(logr, 1), 1);  // [B, 2]
    return r.select(1, 0).unsqueeze(1) * means[0] + r.select(1, 1).unsqueeze(1) * means[1];
  };
}

// ---- Helpers ---------------------------------------------------------------------------------

// Spacetime points (l, x) with l in [-6, 8] and x at the scale of alpha * data.
Eigen::MatrixXd testPoints() {
  const double ls[] = {-6.0, -2.5, 0.0, 1.7, 4.0, 8.0};
  const double ys[][2] = {{0.1, -0.3}, {-1.1, 0.6}, {0.9, 0.2}};
  Eigen::MatrixXd z(6 * 3, kD + 1);
  int row = 0;
  for (double l : ls) {
    for (const auto& y : ys) {
      z.row(row++) = spacetimePoint(l, Eigen::Vector2d(y[0], y[1])).transpose();
    }
  }
  return z;
}

// d mu / d z at z by central differences of the denoiser's mu (one batch of 2(D+1) points).
Eigen::MatrixXd finiteDifferenceJacobian(const Denoiser& den, const Eigen::VectorXd& z, double h) {
  const int P = static_cast<int>(z.size());
  Eigen::MatrixXd zz(2 * P, P);
  for (int c = 0; c < P; ++c) {
    zz.row(2 * c) = z.transpose();
    zz.row(2 * c + 1) = z.transpose();
    zz(2 * c, c) += h;
    zz(2 * c + 1, c) -= h;
  }
  std::vector<PosteriorMoments> out;
  den.evaluate(zz, false, out);
  Eigen::MatrixXd J(P, P);
  for (int c = 0; c < P; ++c) J.col(c) = (out[2 * c].mu - out[2 * c + 1].mu) / (2 * h);
  return J;
}

void expectJacobianMatchesFiniteDifferences(const Denoiser& den, const Eigen::MatrixXd& z,
                                            double relTol) {
  std::vector<PosteriorMoments> out;
  den.evaluate(z, true, out);
  ASSERT_EQ(out.size(), static_cast<std::size_t>(z.rows()));
  for (Eigen::Index n = 0; n < z.rows(); ++n) {
    const Eigen::VectorXd zn = z.row(n).transpose();
    const Eigen::MatrixXd fd = finiteDifferenceJacobian(den, zn, 1e-5);
    const Eigen::MatrixXd& J = out[static_cast<std::size_t>(n)].dmu_dz;
    ASSERT_EQ(J.rows(), kD + 1);
    ASSERT_EQ(J.cols(), kD + 1);
    const double scale = std::max(1.0, J.cwiseAbs().maxCoeff());
    EXPECT_LE((J - fd).cwiseAbs().maxCoeff(), relTol * scale)
        << den.name() << " at z = " << zn.transpose() << "\nautograd:\n"
        << J << "\nfinite differences:\n"
        << fd;
  }
}

// A small untrained network: a non-trivial smooth D(x, l) with a non-symmetric Jacobian.
DenoiserNetwork smallNetwork(int dimension, std::uint64_t seed) {
  torch::manual_seed(seed);
  DenoiserMetadata meta;
  meta.dimension = dimension;
  meta.hidden = 32;
  meta.layers = 2;
  meta.xFrequencies = 4;
  meta.lFrequencies = 4;
  meta.seed = seed;
  return DenoiserNetwork(meta);
}

// ---- Tweedie with exact posterior means --------------------------------------------------------

TEST(TorchDenoiser, GaussianTweedieMatchesClosedForm) {
  const Gaussian g = testGaussian();
  const TorchDenoiser den(gaussianMeanFunction(g), kD);
  EXPECT_EQ(den.dimension(), kD);
  EXPECT_FALSE(den.hasLogPartition());
  const Eigen::MatrixXd z = testPoints();
  std::vector<PosteriorMoments> out;
  den.evaluate(z, false, out);
  ASSERT_EQ(out.size(), static_cast<std::size_t>(z.rows()));
  EXPECT_EQ(den.evaluationCount(), z.rows());
  for (Eigen::Index n = 0; n < z.rows(); ++n) {
    const Eigen::VectorXd expected = gaussianMomentsClosedForm(g, z.row(n).transpose());
    const PosteriorMoments& o = out[static_cast<std::size_t>(n)];
    ASSERT_EQ(o.mu.size(), kD + 1);
    for (int i = 0; i <= kD; ++i) {
      EXPECT_NEAR(o.mu[i], expected[i], 1e-10 * std::max(1.0, std::abs(expected[i])))
          << "component " << i << " at z = " << z.row(n);
    }
    EXPECT_TRUE(std::isnan(o.psi));
    EXPECT_EQ(o.dmu_dz.size(), 0);
  }
}

TEST(TorchDenoiser, GaussianJacobianMatchesFiniteDifferences) {
  const TorchDenoiser den(gaussianMeanFunction(testGaussian()), kD);
  expectJacobianMatchesFiniteDifferences(den, testPoints(), 1e-6);
}

TEST(TorchDenoiser, GaussianMatchesQuadrature) {
  const Gaussian g = testGaussian();
  const TorchDenoiser den(gaussianMeanFunction(g), kD);
  // Box m +- 8 s (tail mass ~1e-14), cell 0.01: the sharpest posterior (l = 8) has std 0.018, so
  // the midpoint rule is exact to far below the tolerance.
  const GaussianPotential potential(g);
  const Eigen::VectorXd low = g.m.array() - 8 * g.s, high = g.m.array() + 8 * g.s;
  const auto quad =
      QuadratureDenoiser::fromPotentialOnBox(potential, 1.0, low, high, Eigen::Vector2i(800, 800));
  const Eigen::MatrixXd z = testPoints();
  std::vector<PosteriorMoments> torchOut, quadOut;
  den.evaluate(z, true, torchOut);
  quad->evaluate(z, true, quadOut);
  for (Eigen::Index n = 0; n < z.rows(); ++n) {
    const auto& a = torchOut[static_cast<std::size_t>(n)];
    const auto& b = quadOut[static_cast<std::size_t>(n)];
    EXPECT_LE((a.mu - b.mu).cwiseAbs().maxCoeff(), 1e-6) << "mu at z = " << z.row(n);
    const double scale = std::max(1.0, b.dmu_dz.cwiseAbs().maxCoeff());
    EXPECT_LE((a.dmu_dz - b.dmu_dz).cwiseAbs().maxCoeff(), 1e-6 * scale)
        << "dmu_dz at z = " << z.row(n) << "\ntorch:\n"
        << a.dmu_dz << "\nquadrature:\n"
        << b.dmu_dz;
  }
}

TEST(TorchDenoiser, MixtureTweedieMatchesClosedForm) {
  const Mixture q;
  const TorchDenoiser den(mixtureMeanFunction(q), kD);
  const Eigen::MatrixXd z = testPoints();
  std::vector<PosteriorMoments> out;
  den.evaluate(z, false, out);
  for (Eigen::Index n = 0; n < z.rows(); ++n) {
    const Eigen::VectorXd expected = mixtureMomentsClosedForm(q, z.row(n).transpose());
    for (int i = 0; i <= kD; ++i) {
      EXPECT_NEAR(out[static_cast<std::size_t>(n)].mu[i], expected[i],
                  1e-10 * std::max(1.0, std::abs(expected[i])))
          << "component " << i << " at z = " << z.row(n);
    }
  }
  // The non-Gaussian posterior has a genuinely x- and l-dependent covariance: check its Jacobian.
  expectJacobianMatchesFiniteDifferences(den, z, 1e-6);
}

TEST(TorchDenoiser, NetworkJacobianMatchesFiniteDifferences) {
  DenoiserNetwork net = smallNetwork(kD, 11);
  // Points with |x / alpha| well inside the network's input clamp (10), where D is smooth.
  Eigen::MatrixXd z(4, kD + 1);
  z << -3.0, 0.05, -0.1, 0.0, 0.4, 0.7, 2.5, -0.9, 0.3, 6.0, 0.2, -1.2;
  const auto exact = TorchDenoiser::fromNetwork(net);
  expectJacobianMatchesFiniteDifferences(*exact, z, 1e-6);
  TorchDenoiserOptions opt;
  opt.divergence = "hutchinson";
  opt.probes = 3;
  opt.seed = 5;
  const auto hutch = TorchDenoiser::fromNetwork(net, opt);
  expectJacobianMatchesFiniteDifferences(*hutch, z, 1e-6);
}

// ---- Hutchinson's estimator ------------------------------------------------------------------

// For Rademacher v, v^T A v = tr A + sum_{i<j} v_i v_j (A_ij + A_ji), whose terms are uncorrelated
// with unit variance: Var = sum_{i<j} (A_ij + A_ji)^2. A = dD/dx is read from the exact Jacobian.
double hutchinsonVariance(const Eigen::MatrixXd& dmu_dz, int D) {
  const Eigen::MatrixXd A = dmu_dz.block(0, 1, D, D);
  double v = 0.0;
  for (int i = 0; i < D; ++i) {
    for (int j = i + 1; j < D; ++j) v += (A(i, j) + A(j, i)) * (A(i, j) + A(j, i));
  }
  return v;
}

struct HutchinsonCase {
  static constexpr int D = 4;
  DenoiserNetwork net = smallNetwork(D, 3);
  Eigen::MatrixXd z;
  std::vector<PosteriorMoments> exact;
  HutchinsonCase() {
    z.resize(3, D + 1);
    z << -1.0, 0.3, -0.2, 0.5, 0.1,  //
        1.5, -0.6, 0.4, 0.2, -0.8,   //
        4.0, 0.9, 0.1, -0.5, 0.3;
    TorchDenoiser::fromNetwork(net)->evaluate(z, true, exact);
  }
  double coef(Eigen::Index n) const { return sigmaSquared(z(n, 0)) / alphaOf(z(n, 0)); }
};

TEST(TorchDenoiser, HutchinsonManyProbesApproximatesExactDivergence) {
  HutchinsonCase c;
  constexpr int D = HutchinsonCase::D;
  TorchDenoiserOptions opt;
  opt.divergence = "hutchinson";
  opt.probes = 2000;
  opt.seed = 42;
  const auto hutch = TorchDenoiser::fromNetwork(c.net, opt);
  std::vector<PosteriorMoments> out;
  hutch->evaluate(c.z, false, out);
  for (Eigen::Index n = 0; n < c.z.rows(); ++n) {
    const auto& e = c.exact[static_cast<std::size_t>(n)];
    // The exact divergence is the trace of the autograd Jacobian.
    const double trace = e.dmu_dz.block(0, 1, D, D).trace();
    EXPECT_NEAR(e.mu[D], e.mu.head(D).squaredNorm() + c.coef(n) * trace, 1e-12);
    const double sd = std::sqrt(hutchinsonVariance(e.dmu_dz, D));
    ASSERT_GT(sd, 1e-6) << "the test network's Jacobian should not be diagonal";
    const auto& h = out[static_cast<std::size_t>(n)];
    EXPECT_EQ(h.mu.head(D), e.mu.head(D));  // the mean itself is not estimated
    // 5 standard errors of the mean over 2000 probes.
    EXPECT_NEAR(h.mu[D], e.mu[D], 5.0 * c.coef(n) * sd / std::sqrt(2000.0)) << "point " << n;
  }
}

TEST(TorchDenoiser, HutchinsonSingleProbeIsUnbiasedOverSeeds) {
  HutchinsonCase c;
  constexpr int D = HutchinsonCase::D;
  constexpr int kSeeds = 500;
  const Eigen::Index N = c.z.rows();
  Eigen::MatrixXd samples(kSeeds, N);
  TorchDenoiserOptions opt;
  opt.divergence = "hutchinson";
  opt.probes = 1;
  std::vector<PosteriorMoments> out;
  for (int s = 0; s < kSeeds; ++s) {
    opt.seed = static_cast<std::uint64_t>(s);
    TorchDenoiser::fromNetwork(c.net, opt)->evaluate(c.z, false, out);
    for (Eigen::Index n = 0; n < N; ++n) samples(s, n) = out[static_cast<std::size_t>(n)].mu[D];
  }
  for (Eigen::Index n = 0; n < N; ++n) {
    const double mean = samples.col(n).mean();
    const double var = (samples.col(n).array() - mean).square().sum() / (kSeeds - 1);
    const double se = std::sqrt(var / kSeeds);
    ASSERT_GT(se, 0.0);
    EXPECT_NEAR(mean, c.exact[static_cast<std::size_t>(n)].mu[D], 4.0 * se) << "point " << n;
    // The sample variance matches the closed-form variance of one Rademacher probe.
    const double expectedSd =
        c.coef(n) * std::sqrt(hutchinsonVariance(c.exact[static_cast<std::size_t>(n)].dmu_dz, D));
    EXPECT_NEAR(std::sqrt(var), expectedSd, 0.15 * expectedSd) << "point " << n;
  }
}

TEST(TorchDenoiser, HutchinsonIsReproducibleForItsSeed) {
  HutchinsonCase c;
  TorchDenoiserOptions opt;
  opt.divergence = "hutchinson";
  opt.probes = 4;
  opt.seed = 9;
  std::vector<PosteriorMoments> a, b, other;
  TorchDenoiser::fromNetwork(c.net, opt)->evaluate(c.z, true, a);
  TorchDenoiser::fromNetwork(c.net, opt)->evaluate(c.z, true, b);
  opt.seed = 10;
  const auto d10 = TorchDenoiser::fromNetwork(c.net, opt);
  d10->evaluate(c.z, true, other);
  bool anyDifferent = false;
  for (std::size_t n = 0; n < a.size(); ++n) {
    EXPECT_EQ(a[n].mu, b[n].mu);
    EXPECT_EQ(a[n].dmu_dz, b[n].dmu_dz);
    anyDifferent = anyDifferent || a[n].mu != other[n].mu;
  }
  EXPECT_TRUE(anyDifferent) << "seeds 9 and 10 gave the same estimates";
  const auto p = d10->probes();
  EXPECT_EQ(p.size(0), 4);
  EXPECT_TRUE(torch::all(p.abs() == 1.0).item<bool>());
}

// ---- Batching, threads, options ----------------------------------------------------------------

TEST(TorchDenoiser, BatchingAndConcurrentCallsGiveTheSameResults) {
  const Mixture q;
  TorchDenoiserOptions small;
  small.batchSize = 5;  // 18 points in 4 batches, the last one partial
  const TorchDenoiser batched(mixtureMeanFunction(q), kD, small);
  const TorchDenoiser whole(mixtureMeanFunction(q), kD);
  const Eigen::MatrixXd z = testPoints();
  std::vector<PosteriorMoments> ref, got;
  whole.evaluate(z, true, ref);
  batched.evaluate(z, true, got);
  for (std::size_t n = 0; n < ref.size(); ++n) {
    EXPECT_LE((ref[n].mu - got[n].mu).cwiseAbs().maxCoeff(), 1e-14);
    EXPECT_LE((ref[n].dmu_dz - got[n].dmu_dz).cwiseAbs().maxCoeff(), 1e-12);
  }
  constexpr int kThreads = 4, kRepeats = 5;
  std::vector<std::vector<PosteriorMoments>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRepeats; ++r) batched.evaluate(z, t % 2 == 0, results[t]);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    for (std::size_t n = 0; n < ref.size(); ++n) EXPECT_EQ(results[t][n].mu, got[n].mu);
  }
  EXPECT_EQ(batched.evaluationCount(), (1 + kThreads * kRepeats) * z.rows());
}

TEST(TorchDenoiser, WorksUnderNoGradGuardAndRejectsBadInput) {
  const TorchDenoiser den(gaussianMeanFunction(testGaussian()), kD);
  const Eigen::MatrixXd z = testPoints();
  std::vector<PosteriorMoments> out;
  {
    torch::NoGradGuard noGrad;
    den.evaluate(z, true, out);
  }
  EXPECT_NEAR(out[0].mu[kD], gaussianMomentsClosedForm(testGaussian(), z.row(0).transpose())[kD],
              1e-10);
  EXPECT_THROW(den.evaluate(Eigen::MatrixXd::Zero(3, kD), false, out), std::invalid_argument);
  TorchDenoiserOptions bad;
  bad.divergence = "approximate";
  try {
    TorchDenoiser(gaussianMeanFunction(testGaussian()), kD, bad);
    ADD_FAILURE() << "an unknown divergence method was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("approximate"), std::string::npos) << e.what();
  }
  const TorchDenoiser wrongShape(
      [](const torch::Tensor& x, const torch::Tensor&) { return x.sum(1); }, kD);
  EXPECT_THROW(wrongShape.evaluate(z, false, out), std::runtime_error);
}

// ---- Curve energy gradient
// -----------------------------------------------------------------------

TEST(TorchDenoiser, CurveEnergyGradientMatchesFiniteDifferences) {
  const auto den = TorchDenoiser::fromNetwork(smallNetwork(kD, 2024));
  constexpr int N = 10;
  Eigen::MatrixXd z(N, kD + 1);
  for (int n = 0; n < N; ++n) {
    const double s = static_cast<double>(n) / (N - 1);
    const double l = 4.0 - 3.0 * std::sin(M_PI * s);  // dips from 4 to 1 and back
    const Eigen::Vector2d y(-1.0 + 2.0 * s + 0.2 * std::sin(3 * s), 0.5 - 0.8 * s);
    z.row(n) = spacetimePoint(l, y).transpose();
  }
  const CurveEvaluation ev = evaluateCurve(*den, z, true);
  // Clamped (negative) segment terms would put a kink into E; this curve has none.
  for (int n = 0; n + 1 < N; ++n) {
    ASSERT_GT((ev.eta.row(n + 1) - ev.eta.row(n)).dot(ev.mu.row(n + 1) - ev.mu.row(n)), 1e-6)
        << "segment " << n;
  }
  ASSERT_GT(ev.energy, 0.0);
  const double h = 1e-5;
  Eigen::MatrixXd fd(N, kD + 1);
  for (int n = 0; n < N; ++n) {
    for (int c = 0; c <= kD; ++c) {
      Eigen::MatrixXd zp = z, zm = z;
      zp(n, c) += h;
      zm(n, c) -= h;
      fd(n, c) =
          (evaluateCurve(*den, zp, false).energy - evaluateCurve(*den, zm, false).energy) / (2 * h);
    }
  }
  const double scale = ev.gradient.cwiseAbs().maxCoeff();
  ASSERT_GT(scale, 0.0);
  EXPECT_LE((ev.gradient - fd).cwiseAbs().maxCoeff(), 1e-5 * scale)
      << "autograd:\n"
      << ev.gradient << "\nfinite differences:\n"
      << fd;
}

// ---- Save / load -------------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("geotps_torch_denoiser_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void expectSameMetadata(const DenoiserMetadata& a, const DenoiserMetadata& b) {
  EXPECT_EQ(a.dimension, b.dimension);
  EXPECT_EQ(a.hidden, b.hidden);
  EXPECT_EQ(a.layers, b.layers);
  EXPECT_EQ(a.xFrequencies, b.xFrequencies);
  EXPECT_EQ(a.lFrequencies, b.lFrequencies);
  EXPECT_EQ(a.features, b.features);
  EXPECT_EQ(a.xScale, b.xScale);
  EXPECT_EQ(a.lMin, b.lMin);
  EXPECT_EQ(a.lMax, b.lMax);
  EXPECT_EQ(a.dataLow, b.dataLow);
  EXPECT_EQ(a.dataHigh, b.dataHigh);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.lossCurve, b.lossCurve);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.seconds, b.seconds);
}

TEST(DenoiserNetworkFile, SaveLoadRoundTripIsExact) {
  TempDir dir;
  torch::manual_seed(77);
  DenoiserMetadata meta;
  meta.dimension = 2;
  meta.hidden = 24;
  meta.layers = 3;
  meta.xFrequencies = 5;
  meta.lFrequencies = 6;
  meta.xScale = 1.7;
  meta.lMin = -10.0;
  meta.lMax = 9.5;
  meta.dataLow = {-3.14159, -2.5};
  meta.dataHigh = {3.14159, 2.75};
  meta.seed = 123456789;
  meta.source = "data/alanine_dipeptide/samples.dat (Ångström-free)";
  meta.lossCurve = {0.9, 0.5, 0.31, 1.0 / 3.0};
  meta.steps = 4000;
  meta.seconds = 12.345678901234;
  DenoiserNetwork net(meta);
  // Random, non-default weights (the default init is random too, but make every bit matter).
  {
    torch::NoGradGuard noGrad;
    for (auto& p : net->parameters()) p.copy_(torch::randn_like(p));
  }
  const std::string path = dir.file("sub/model.pt");
  saveDenoiser(path, net);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  DenoiserNetwork loaded = loadDenoiser(path);
  expectSameMetadata(net->meta, loaded->meta);

  const auto a = net->named_parameters(), b = loaded->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& item : a) {
    ASSERT_TRUE(b.contains(item.key())) << item.key();
    EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
  }
  const auto x = torch::randn({64, 2}, torch::kFloat64) * 2.0;
  const auto l = torch::linspace(-12.0, 12.0, 64, torch::kFloat64);
  torch::NoGradGuard noGrad;
  net->eval();
  EXPECT_TRUE(torch::equal(net->forward(x, l), loaded->forward(x, l)));
}

// Both input-feature designs survive a round trip and give different functions of (x, l).
TEST(DenoiserNetworkFile, FeaturesAreSavedAndChangeTheFunction) {
  TempDir dir;
  DenoiserMetadata meta;
  meta.xScale = 1.3;
  meta.dataLow = {-3.0, -3.0};
  meta.dataHigh = {3.0, 3.0};
  const auto x = torch::randn({32, 2}, torch::kFloat64);
  const auto l = torch::linspace(-8.0, 8.0, 32, torch::kFloat64);
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> outputs;
  for (const std::string features : {"natural", "edm"}) {
    meta.features = features;
    torch::manual_seed(5);
    DenoiserNetwork net(meta);
    net->eval();
    const std::string path = dir.file(features + ".pt");
    saveDenoiser(path, net);
    DenoiserNetwork loaded = loadDenoiser(path);
    EXPECT_EQ(loaded->meta.features, features);
    EXPECT_TRUE(torch::equal(net->forward(x, l), loaded->forward(x, l))) << features;
    outputs.push_back(loaded->forward(x, l));
  }
  EXPECT_FALSE(torch::allclose(outputs[0], outputs[1]));
  meta.features = "fourier";
  EXPECT_THROW(DenoiserNetwork{meta}, std::invalid_argument);
}

// Metadata that the file format must carry unchanged as well: empty lists and a 64-bit seed.
TEST(DenoiserNetworkFile, SaveLoadKeepsEmptyListsAndLargeSeeds) {
  TempDir dir;
  torch::manual_seed(5);
  DenoiserMetadata meta;              // dataLow, dataHigh, lossCurve and source left empty
  meta.seed = 0x9E3779B97F4A7C15ULL;  // > 2^53: not representable as a double
  DenoiserNetwork net(meta);
  const std::string path = dir.file("model.pt");
  saveDenoiser(path, net);
  expectSameMetadata(meta, loadDenoiser(path)->meta);
}

TEST(DenoiserNetworkFile, LoadErrorsNameTheFile) {
  TempDir dir;
  const std::string missing = dir.file("no_such_model.pt");
  try {
    loadDenoiser(missing);
    ADD_FAILURE() << "loading a missing file succeeded";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  const std::string text = dir.file("model.txt");
  std::ofstream(text) << "this is not a torch archive\n";
  try {
    loadDenoiser(text);
    ADD_FAILURE() << "loading a text file succeeded";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
  // A torch archive of another format version is refused, naming the file.
  const std::string future = dir.file("future.pt");
  torch::serialize::OutputArchive archive;
  archive.write("geotps_format_version", torch::tensor(static_cast<std::int64_t>(999)));
  archive.save_to(future);
  try {
    loadDenoiser(future);
    ADD_FAILURE() << "loading a file of format version 999 succeeded";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(future), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("version"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace geotps
