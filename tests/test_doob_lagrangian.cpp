// Tests of the Doob's Lagrangian baseline: the potential drift's autograd backward against exact
// Hessians, the path network's time derivatives against autograd, the Lagrangian against its
// closed-form expectation on a quadratic potential, Fokker-Planck consistency of the sampled paths
// with the Gaussian path, training and transitions on Mueller-Brown, settings validation and
// reproducibility. A disabled test measures the 2D alanine dipeptide benchmark.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/baselines/doob/doob_lagrangian.h"
#include "engine/baselines/doob/doob_lagrangian_internal.h"
#include "engine/baselines/doob/register.h"
#include "engine/core/random.h"
#include "potentials/analytic_potentials.h"
#include "potentials/tabulated_surface.h"

namespace geotps {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

/// U(x) = 1/2 x^T K x (K symmetric), energy in kT: Hessian K everywhere.
class QuadraticPotential final : public Potential {
 public:
  explicit QuadraticPotential(Eigen::MatrixXd k) : k_(std::move(k)) {}
  int dimension() const override { return static_cast<int>(k_.rows()); }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override {
    const int D = dimension();
    for (std::size_t p = 0; p < n; ++p) {
      const Eigen::Map<const Eigen::VectorXd> xp(x + p * D, D);
      const Eigen::VectorXd g = k_ * xp;
      energy[p] = 0.5 * xp.dot(g);
      if (gradient) Eigen::Map<Eigen::VectorXd>(gradient + p * D, D) = g;
    }
  }
  std::string name() const override { return "quadratic"; }

 private:
  Eigen::MatrixXd k_;
};

/// A potential whose energy and gradient are NaN everywhere.
class NanPotential final : public Potential {
 public:
  int dimension() const override { return 2; }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override {
    for (std::size_t p = 0; p < n; ++p) {
      energy[p] = std::numeric_limits<double>::quiet_NaN();
      if (gradient)
        gradient[2 * p] = gradient[2 * p + 1] = std::numeric_limits<double>::quiet_NaN();
    }
  }
  std::string name() const override { return "nan"; }
};

torch::Tensor randomTensor(std::int64_t rows, std::int64_t cols, std::uint64_t seed,
                           double scale = 1.0) {
  Rng rng(seed);
  auto t = torch::empty({rows, cols}, kF64);
  double* p = t.data_ptr<double>();
  for (std::int64_t i = 0; i < rows * cols; ++i) p[i] = scale * rng.normal();
  return t;
}

Eigen::VectorXd vec(std::initializer_list<double> v) {
  Eigen::VectorXd out(static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double x : v) out[i++] = x;
  return out;
}

// Mueller-Brown at scale 0.1 (as configs/mueller_brown.yaml), kT = 1: the two deepest minima.
const Eigen::VectorXd kMbA = vec({-0.558, 1.442});
const Eigen::VectorXd kMbB = vec({0.623, 0.028});

double mean(const std::vector<double>& v, std::size_t begin, std::size_t end) {
  return std::accumulate(v.begin() + begin, v.begin() + end, 0.0) /
         static_cast<double>(end - begin);
}

// ---- the potential drift b(x) and its backward ----

TEST(DoobDrift, ForwardAndBackwardMatchExactHessianOfQuadratic) {
  Eigen::MatrixXd k(3, 3);
  k << 4.0, 1.0, -0.5, 1.0, 3.0, 0.3, -0.5, 0.3, 2.0;
  const QuadraticPotential potential(k);
  detail::DriftContext ctx;
  ctx.potential = &potential;
  ctx.diffusion = vec({0.5, 0.2, 1.3});
  ctx.kT = 0.7;
  ctx.hvpStep = 1e-4;
  ctx.threads = 2;
  const int B = 6;
  const auto x = randomTensor(B, 3, 1).requires_grad_(true);
  auto w = randomTensor(B, 3, 2);
  w[3].zero_();  // a row with u = D ∘ w = 0: zero gradient, no evaluation
  const auto bx = detail::potentialDrift(x, ctx);
  const auto gx = torch::autograd::grad({(bx * w).sum()}, {x})[0];
  EXPECT_EQ(ctx.gradientEvaluations.load(), B + 2 * (B - 1));

  const auto xs = x.detach();
  for (int i = 0; i < B; ++i) {
    Eigen::VectorXd xi(3), wi(3);
    for (int d = 0; d < 3; ++d) {
      xi[d] = xs[i][d].item<double>();
      wi[d] = w[i][d].item<double>();
    }
    // b = -D ∘ (K x) / kT;  d(w . b)/dx = -(1/kT) K (D ∘ w)  (K symmetric).
    const Eigen::VectorXd bExact = -ctx.diffusion.cwiseProduct(k * xi) / ctx.kT;
    const Eigen::VectorXd gExact = -(k * ctx.diffusion.cwiseProduct(wi)) / ctx.kT;
    for (int d = 0; d < 3; ++d) {
      EXPECT_NEAR(bx[i][d].item<double>(), bExact[d], 1e-12);
      EXPECT_NEAR(gx[i][d].item<double>(), gExact[d], 1e-8) << "row " << i << " coordinate " << d;
    }
  }
}

TEST(DoobDrift, BackwardMatchesAnalyticHessianOfDoubleWell) {
  const double barrier = 5.0, stiffness = 10.0;
  const DoubleWell potential(barrier, stiffness);
  detail::DriftContext ctx;
  ctx.potential = &potential;
  ctx.diffusion = vec({0.5, 0.25});
  ctx.kT = 1.0;
  ctx.hvpStep = 1e-4;
  ctx.threads = 1;
  const int B = 8;
  const auto x = randomTensor(B, 2, 3).requires_grad_(true);
  const auto w = randomTensor(B, 2, 4);
  const auto gx = torch::autograd::grad({(detail::potentialDrift(x, ctx) * w).sum()}, {x})[0];
  for (int i = 0; i < B; ++i) {
    const double px = x[i][0].item<double>();
    // U = barrier (x^2 - 1)^2 + stiffness y^2 / 2: H = diag(barrier (12 x^2 - 4), stiffness).
    const double hxx = barrier * (12.0 * px * px - 4.0), hyy = stiffness;
    const double ex = -hxx * ctx.diffusion[0] * w[i][0].item<double>();
    const double ey = -hyy * ctx.diffusion[1] * w[i][1].item<double>();
    // Central-difference error: h^2/6 |u| U''' ~ 1e-8 * 120 |x| barrier |u|; well below 1e-5.
    EXPECT_NEAR(gx[i][0].item<double>(), ex, 1e-5 * (1.0 + std::abs(ex)));
    EXPECT_NEAR(gx[i][1].item<double>(), ey, 1e-8 * (1.0 + std::abs(ey)));
  }
}

// ---- the path network ----

TEST(DoobPathModel, BoundaryConditionsAndExactTimeDerivatives) {
  torch::manual_seed(7);
  const double T = 2.5, sigmaMin = 0.03;
  detail::DoobPathModel model(kMbA, kMbB, 32, 2, sigmaMin, T);
  const auto ends = model->forward(torch::tensor({0.0, 1.0}, kF64));
  for (int d = 0; d < 2; ++d) {
    EXPECT_NEAR(ends.mu[0][d].item<double>(), kMbA[d], 1e-15);
    EXPECT_NEAR(ends.mu[1][d].item<double>(), kMbB[d], 1e-15);
    EXPECT_NEAR(ends.sigma[0][d].item<double>(), sigmaMin, 1e-15);
    EXPECT_NEAR(ends.sigma[1][d].item<double>(), sigmaMin, 1e-15);
  }
  // d/dt = (1/T) d/ds against autograd through the whole forward pass (each output depends only
  // on its own s, so the gradient of the batch sum is the per-sample derivative).
  const auto s = torch::linspace(0.0, 1.0, 41, kF64).requires_grad_(true);
  const auto p = model->forward(s);
  EXPECT_TRUE((p.sigma >= sigmaMin).all().item<bool>());
  for (int d = 0; d < 2; ++d) {
    const auto gMu = torch::autograd::grad({p.mu.select(1, d).sum()}, {s}, {}, true)[0] / T;
    const auto gSig = torch::autograd::grad({p.sigma.select(1, d).sum()}, {s}, {}, true)[0] / T;
    EXPECT_LT((gMu - p.dmu.select(1, d)).abs().max().item<double>(), 1e-12);
    EXPECT_LT((gSig - p.dsigma.select(1, d)).abs().max().item<double>(), 1e-12);
  }
}

// ---- the Lagrangian and the sampled paths on a quadratic potential (Ornstein-Uhlenbeck) ----

struct OuProblem {
  Eigen::MatrixXd k = (Eigen::MatrixXd(2, 2) << 2.0, 0.0, 0.0, 5.0).finished();
  QuadraticPotential potential{k};
  Eigen::VectorXd a = vec({-1.0, 0.5}), b = vec({1.0, -0.5});
  DoobDynamics dynamics{vec({0.5, 0.2}), 1.0};
};

TEST(DoobLagrangian, LossMatchesClosedFormExpectationOnQuadratic) {
  // For U = 1/2 sum_d k_d x_d^2, b = -D k x / kT is linear, and with x = mu + sigma eps
  //   v - b = (mu' + D k mu / kT) + (sigma' - D / sigma + D k sigma / kT) eps,
  // so E_eps[1/2 sum (v - b)^2 / D] = 1/2 sum_d [(mu' + D k mu/kT)^2 + (sigma' - D/sigma +
  // D k sigma/kT)^2] / D_d, integrated over s by Simpson's rule and multiplied by T.
  const OuProblem ou;
  const double T = 1.5;
  torch::manual_seed(11);
  detail::DoobPathModel model(ou.a, ou.b, 32, 2, 0.1, T);
  detail::DriftContext ctx;
  ctx.potential = &ou.potential;
  ctx.diffusion = ou.dynamics.diffusion;
  ctx.kT = ou.dynamics.kT;
  ctx.threads = 2;

  torch::NoGradGuard noGrad;
  const int nq = 4001;
  const auto p = model->forward(torch::linspace(0.0, 1.0, nq, kF64));
  double integral = 0.0;
  for (int i = 0; i < nq; ++i) {
    double f = 0.0;
    for (int d = 0; d < 2; ++d) {
      const double Dd = ctx.diffusion[d], kd = ou.k(d, d);
      const double mu = p.mu[i][d].item<double>(), sg = p.sigma[i][d].item<double>();
      const double m1 = p.dmu[i][d].item<double>() + Dd * kd * mu;
      const double s1 = p.dsigma[i][d].item<double>() - Dd / sg + Dd * kd * sg;
      f += 0.5 * (m1 * m1 + s1 * s1) / Dd;
    }
    const double wgt = (i == 0 || i == nq - 1) ? 1.0 : (i % 2 == 1 ? 4.0 : 2.0);
    integral += wgt * f;
  }
  const double expected = T * integral / (3.0 * (nq - 1));

  // Monte-Carlo estimate from the engine's per-sample Lagrangian.
  const int n = 40000;
  Rng rng(5);
  std::vector<double> sv(n);
  for (auto& v : sv) v = rng.uniform();
  const auto s = torch::from_blob(sv.data(), {n}, kF64).clone();
  const auto eps = randomTensor(n, 2, 6);
  const auto samples = detail::lagrangianSamples(model, s, eps, ctx);
  const double mcMean = samples.mean().item<double>();
  const double stdErr = samples.std().item<double>() / std::sqrt(static_cast<double>(n));
  EXPECT_NEAR(mcMean, expected, 4.0 * stdErr) << "standard error " << stdErr;
  EXPECT_LT(stdErr, 0.05 * expected);  // the check is not vacuous
}

TEST(DoobLagrangian, SampledMomentsMatchTheGaussianPath) {
  // Fokker-Planck consistency: the SDE dx = v_t(x) dt + sqrt(2D) dW started from q_0 has the
  // marginals q_t = N(mu_t, sigma_t^2) of the path, whatever the network. Sample mean and standard
  // deviation per coordinate at 10 times against meanPath / sigmaPath.
  const OuProblem ou;
  DoobSettings st;
  st.hidden = 32;
  st.layers = 2;
  st.sigmaMin = 0.1;
  st.timeHorizon = 1.0;
  st.iterations = 30;
  st.batchSize = 64;
  st.learningRate = 1e-2;
  st.nPaths = 4000;
  st.nSteps = 1000;
  st.frameStride = 100;
  st.seed = 3;
  st.threads = 2;
  const DoobResult r = runDoobLagrangian(ou.potential, ou.a, ou.b, ou.dynamics, st);
  ASSERT_EQ(r.storedPerPath, 10u);
  const int M = st.nPaths;
  for (std::size_t j = 0; j < r.storedPerPath; ++j) {
    const int k = static_cast<int>((j + 1) * st.frameStride - 1);  // frame index of stored j
    for (int d = 0; d < 2; ++d) {
      double sum = 0.0, sum2 = 0.0;
      for (int i = 0; i < M; ++i) {
        const double v = r.frames[(i * r.storedPerPath + j) * 2 + d];
        sum += v;
        sum2 += v * v;
      }
      const double m = sum / M, sd = std::sqrt(sum2 / M - m * m);
      const double mu = r.meanPath(k, d), sigma = r.sigmaPath(k, d);
      // Statistical: 4 standard errors (sigma / sqrt(M) for the mean, sigma / sqrt(2M) for the
      // standard deviation; measured deviations are below 1.7 of them); Euler-Maruyama bias at
      // dt = 1e-3: 0.5% of sigma. (Scaling D / sigma^2 in the sampler's drift by 0.9 fails this.)
      EXPECT_NEAR(m, mu, 4.0 * sigma / std::sqrt(M) + 0.005 * sigma) << "frame " << k << " d " << d;
      EXPECT_NEAR(sd, sigma, 4.0 * sigma / std::sqrt(2.0 * M) + 0.005 * sigma)
          << "frame " << k << " d " << d;
    }
  }
  // The path is not trivial: sigma grew well above sigmaMin in the middle.
  EXPECT_GT(r.sigmaPath(st.nSteps / 2, 0), 2.0 * st.sigmaMin);
}

// ---- Mueller-Brown: training and transitions ----

DoobSettings mbSettings() {
  DoobSettings st;
  st.hidden = 64;
  st.layers = 2;
  st.sigmaMin = 0.05;
  st.timeHorizon = 5.0;  // long enough for the path to wait in the basins and cross at the saddle
  st.iterations = 1000;
  st.batchSize = 128;
  st.learningRate = 3e-3;
  st.nPaths = 200;
  st.nSteps = 500;
  st.frameStride = 1;
  st.seed = 1;
  st.threads = 1;
  return st;
}

TEST(DoobLagrangian, MuellerBrownLossDecreasesAndPathsConnectTheMinima) {
  const MuellerBrown potential(0.1);
  const DoobDynamics dyn{vec({0.1, 0.1}), 1.0};
  const DoobSettings st = mbSettings();
  const DoobResult r = runDoobLagrangian(potential, kMbA, kMbB, dyn, st);

  ASSERT_EQ(r.lossHistory.size(), static_cast<std::size_t>(st.iterations));
  const std::size_t tenth = r.lossHistory.size() / 10;
  const double first = mean(r.lossHistory, 0, tenth);
  const double last = mean(r.lossHistory, r.lossHistory.size() - tenth, r.lossHistory.size());
  // (Measured: about 79 -> 44 for seeds 1-3; much of the minimum is irreducible, as a path
  // climbing a barrier of ~11.5 kT in total costs at least 2 x 11.5 in this normalisation.)
  EXPECT_LT(last, 0.7 * first) << "first 10%: " << first << ", last 10%: " << last;
  EXPECT_EQ(r.trainingEnergyEvaluations, 3LL * st.batchSize * st.iterations);

  ASSERT_EQ(r.framesPerPath, static_cast<std::size_t>(st.nSteps + 1));
  ASSERT_EQ(r.storedPerPath, r.framesPerPath);
  EXPECT_EQ(r.samplingEnergyEvaluations, 1LL * st.nPaths * (st.nSteps + 1));
  // Every path starts within 0.25 of A and ends within 0.25 of B (5 sigmaMin; sigma_min = 0.05).
  for (int i = 0; i < st.nPaths; ++i) {
    const float* first = &r.frames[(i * r.storedPerPath) * 2];
    const float* lastFrame = &r.frames[(i * r.storedPerPath + r.storedPerPath - 1) * 2];
    EXPECT_LT(std::hypot(first[0] - kMbA[0], first[1] - kMbA[1]), 0.25) << "path " << i;
    EXPECT_LT((r.finalPositions.row(i).transpose() - kMbB).norm(), 0.25) << "path " << i;
    EXPECT_FLOAT_EQ(lastFrame[0], static_cast<float>(r.finalPositions(i, 0)));
    EXPECT_FLOAT_EQ(lastFrame[1], static_cast<float>(r.finalPositions(i, 1)));
  }
  // The trained mean path crosses the ridge between A and the intermediate minimum near its saddle
  // point (-0.822, 0.624), energy -40.665 * 0.1 (the literature value; every continuous path from
  // A to B reaches at least this energy), far below the straight line's highest energy (computed
  // here on 1001 points, about +1.27).
  const double saddleEnergy = -4.0665;
  double lineMax = -1e300, pathMax = -1e300;
  for (int j = 0; j <= 1000; ++j) {
    const Eigen::VectorXd x = kMbA + (kMbB - kMbA) * (j / 1000.0);
    lineMax = std::max(lineMax, potential.energy(x.data()));
  }
  for (int k = 0; k < r.meanPath.rows(); ++k) {
    const Eigen::VectorXd x = r.meanPath.row(k).transpose();
    pathMax = std::max(pathMax, potential.energy(x.data()));
  }
  EXPECT_GT(lineMax, 0.0);
  EXPECT_GT(pathMax, saddleEnergy - 0.01);
  EXPECT_LT(pathMax, saddleEnergy + 1.0) << "straight line max " << lineMax;
  // Per-path maximum energy: at least the energy of the path's own frames.
  for (int i = 0; i < st.nPaths; ++i) {
    const Eigen::VectorXd xEnd = r.finalPositions.row(i).transpose();  // rows are strided
    const double uEnd = potential.energy(xEnd.data());
    EXPECT_GE(r.maxEnergy[i], uEnd);
  }
}

TEST(DoobLagrangian, ReproducibleForASeedAndIndependentOfThreads) {
  const MuellerBrown potential(0.1);
  const DoobDynamics dyn{vec({0.1, 0.1}), 1.0};
  DoobSettings st = mbSettings();
  st.iterations = 40;
  st.nPaths = 50;
  st.nSteps = 250;
  st.frameStride = 0;
  const DoobResult r1 = runDoobLagrangian(potential, kMbA, kMbB, dyn, st);
  const DoobResult r2 = runDoobLagrangian(potential, kMbA, kMbB, dyn, st);
  st.threads = 2;
  const DoobResult r3 = runDoobLagrangian(potential, kMbA, kMbB, dyn, st);
  EXPECT_EQ(r1.storedPerPath, 0u);
  EXPECT_TRUE(r1.frames.empty());
  for (const DoobResult* r : {&r2, &r3}) {
    EXPECT_EQ(r->lossHistory, r1.lossHistory);
    ASSERT_EQ(r->maxEnergy.size(), r1.maxEnergy.size());
    for (Eigen::Index i = 0; i < r1.maxEnergy.size(); ++i) {
      EXPECT_EQ(r->maxEnergy[i], r1.maxEnergy[i]) << "path " << i;
    }
    EXPECT_TRUE(r->finalPositions == r1.finalPositions);
  }
  st.seed = 2;
  const DoobResult r4 = runDoobLagrangian(potential, kMbA, kMbB, dyn, st);
  EXPECT_NE(r4.maxEnergy[0], r1.maxEnergy[0]);
}

TEST(DoobLagrangian, FrameStrideLookupAndProgress) {
  const MuellerBrown potential(0.1);
  const DoobDynamics dyn{vec({0.1, 0.1}), 1.0};
  DoobSettings st = mbSettings();
  st.iterations = 250;
  st.batchSize = 16;
  st.nPaths = 300;
  st.sigmaMin = 0.3;  // with dt = T / 10, keeps dt (D / sigma^2 + |sigma'| / sigma) below 1
  st.nSteps = 10;
  st.frameStride = 3;  // frames 2, 5, 8 of 0..10
  int lookupCalls = 0;
  std::vector<std::pair<std::string, std::pair<long long, long long>>> calls;
  const DoobResult r = runDoobLagrangian(
      potential, kMbA, kMbB, dyn, st,
      [&](const double* x) {
        ++lookupCalls;  // threads = 1: no race
        return x[0];
      },
      [&](const char* phase, long long done, long long total) {
        calls.push_back({phase, {done, total}});
      });
  EXPECT_EQ(r.storedPerPath, 3u);
  EXPECT_EQ(r.frames.size(), 300u * 3u * 2u);
  EXPECT_EQ(lookupCalls, 300 * 11);
  ASSERT_EQ(r.maxEnergyLookup.size(), 300);
  for (int i = 0; i < st.nPaths; ++i) {
    // The lookup x[0] is maximal over frames that include the stored ones and x(T).
    for (int j = 0; j < 3; ++j) {
      EXPECT_GE(r.maxEnergyLookup[i], r.frames[(i * 3 + j) * 2] - 1e-6);
    }
    EXPECT_GE(r.maxEnergyLookup[i], r.finalPositions(i, 0));
  }
  int training = 0, sampling = 0;
  for (const auto& c : calls) (c.first == "training" ? training : sampling)++;
  EXPECT_GE(training, 50);
  EXPECT_LE(training, 130);
  EXPECT_GE(sampling, 50);
  EXPECT_LE(sampling, 130);
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back().first, "sampling");
  EXPECT_EQ(calls.back().second.first, 300);
  EXPECT_EQ(calls.back().second.second, 300);
}

// ---- validation and failures ----

TEST(DoobLagrangian, BadSettingsThrowNamingTheSetting) {
  const MuellerBrown potential(0.1);
  const DoobDynamics dyn{vec({0.1, 0.1}), 1.0};
  auto expectThrow = [&](const std::string& name, const DoobSettings& st, const DoobDynamics& d,
                         const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    try {
      runDoobLagrangian(potential, a, b, d, st);
      ADD_FAILURE() << name << ": no exception";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  };
  auto withSetting = [&](const std::string& name, auto change) {
    DoobSettings st = mbSettings();
    change(st);
    expectThrow(name, st, dyn, kMbA, kMbB);
  };
  withSetting("hidden", [](DoobSettings& s) { s.hidden = 0; });
  withSetting("layers", [](DoobSettings& s) { s.layers = 0; });
  withSetting("sigmaMin", [](DoobSettings& s) { s.sigmaMin = 0.0; });
  withSetting("sigmaMin", [](DoobSettings& s) { s.sigmaMin = -1.0; });
  withSetting("timeHorizon", [](DoobSettings& s) { s.timeHorizon = 0.0; });
  withSetting("iterations", [](DoobSettings& s) { s.iterations = 0; });
  withSetting("batchSize", [](DoobSettings& s) { s.batchSize = -3; });
  withSetting("learningRate", [](DoobSettings& s) { s.learningRate = 0.0; });
  withSetting("hvpStep", [](DoobSettings& s) { s.hvpStep = 0.0; });
  withSetting("nPaths", [](DoobSettings& s) { s.nPaths = 0; });
  withSetting("nSteps", [](DoobSettings& s) { s.nSteps = 0; });
  withSetting("frameStride", [](DoobSettings& s) { s.frameStride = -1; });
  withSetting("threads", [](DoobSettings& s) { s.threads = -1; });
  withSetting("lengthScale", [](DoobSettings& s) { s.lengthScale = 0.0; });
  withSetting("warmupIterations", [](DoobSettings& s) { s.warmupIterations = -1; });
  withSetting("energyCap", [](DoobSettings& s) { s.energyCap = 0.0; });
  expectThrow("diffusion", mbSettings(), DoobDynamics{vec({0.1}), 1.0}, kMbA, kMbB);
  expectThrow("diffusion", mbSettings(), DoobDynamics{vec({0.1, 0.0}), 1.0}, kMbA, kMbB);
  expectThrow("kT", mbSettings(), DoobDynamics{vec({0.1, 0.1}), 0.0}, kMbA, kMbB);
  expectThrow("a", mbSettings(), dyn, vec({0.0, 0.0, 0.0}), kMbB);
  expectThrow("b", mbSettings(), dyn, kMbA, vec({1.0}));
}

TEST(DoobLagrangian, NonFiniteLossThrowsNamingTheStep) {
  const NanPotential potential;
  const DoobDynamics dyn{vec({0.1, 0.1}), 1.0};
  DoobSettings st = mbSettings();
  st.iterations = 5;
  try {
    runDoobLagrangian(potential, kMbA, kMbB, dyn, st);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("step 0"), std::string::npos) << e.what();
  }
}

// ---- measurement on the 2D alanine dipeptide surface (not a test; run explicitly with
//      --gtest_also_run_disabled_tests --gtest_filter='*AlanineDipeptide*') ----

TEST(DoobLagrangian, DISABLED_AlanineDipeptide2DMeasurement) {
  const auto surface = TabulatedSurface::fromFile(std::string(GEOTPS_SOURCE_DIR) +
                                                  "/data/alanine_dipeptide/phi_psi_surface.dat");
  const Eigen::VectorXd a = vec({-2.55, 2.7}), b = vec({0.95, -0.4});
  const DoobDynamics dyn{vec({0.5, 0.5}), 1.0};
  for (double T : {1.0, 5.0}) {
    DoobSettings st;
    st.sigmaMin = 0.05;
    st.timeHorizon = T;
    st.iterations = 2000;
    st.batchSize = 256;
    st.nPaths = 1000;
    st.nSteps = 1000;
    st.frameStride = 0;
    st.seed = 0;
    st.threads = 1;
    const auto t0 = std::chrono::steady_clock::now();
    const DoobResult r = runDoobLagrangian(
        *surface, a, b, dyn, st, [&](const double* x) { return surface->nearestGridEnergy(x); });
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::size_t n = r.lossHistory.size(), tail = n / 10;
    auto stats = [](const Eigen::VectorXd& v) {
      const double m = v.mean();
      return std::pair{m, std::sqrt((v.array() - m).square().sum() / (v.size() - 1))};
    };
    const auto [mE, sE] = stats(r.maxEnergy);
    const auto [mL, sL] = stats(r.maxEnergyLookup);
    int hits = 0;
    for (int i = 0; i < st.nPaths; ++i) {
      double d2 = 0.0;
      for (int d = 0; d < 2; ++d) {
        const double p = 2.0 * std::numbers::pi;
        double diff = r.finalPositions(i, d) - b[d];
        diff -= p * std::round(diff / p);
        d2 += diff * diff;
      }
      hits += d2 < 0.25;
    }
    double pathMax = -1e300;
    for (int k = 0; k < r.meanPath.rows(); ++k) {
      const Eigen::VectorXd x = r.meanPath.row(k).transpose();
      pathMax = std::max(pathMax, surface->energy(x.data()));
    }
    std::printf(
        "T = %g: loss first10%% %.4g last10%% %.4g final %.4g | MaxEnergy %.3f +- %.3f (lookup "
        "%.3f +- %.3f) | mean-path max %.3f | within 0.5 rad of B: %.3f | train evals %lld, "
        "sample evals %lld | train %.1f s, sample %.1f s, wall %.1f s\n",
        T, mean(r.lossHistory, 0, tail), mean(r.lossHistory, n - tail, n), r.lossHistory.back(), mE,
        sE, mL, sL, pathMax, static_cast<double>(hits) / st.nPaths, r.trainingEnergyEvaluations,
        r.samplingEnergyEvaluations, r.trainSeconds, r.sampleSeconds, wall);
  }
}

}  // namespace
}  // namespace geotps

namespace geotps {
namespace {

// The warm-up trains on U0 + c asinh((U - U0) / c): with c far above every energy seen it is U
// itself to rounding (identical training); with a small c the warm-up steps see other forces, so
// the loss differs from the first step on, at the same number of gradient evaluations.
TEST(DoobLagrangian, WarmupSoftensTheEnergyOnlyWhereItIsHigh) {
  const MuellerBrown potential(0.1);
  const DoobDynamics dyn{vec({0.1, 0.1}), 1.0};
  DoobSettings st = mbSettings();
  st.iterations = 40;
  st.nPaths = 4;
  st.nSteps = 20;
  const DoobResult plain = runDoobLagrangian(potential, kMbA, kMbB, dyn, st);
  st.warmupIterations = 20;
  st.energyCap = 1e12;
  const DoobResult hugeCap = runDoobLagrangian(potential, kMbA, kMbB, dyn, st);
  ASSERT_EQ(plain.lossHistory.size(), hugeCap.lossHistory.size());
  for (std::size_t i = 0; i < plain.lossHistory.size(); ++i) {
    EXPECT_NEAR(hugeCap.lossHistory[i], plain.lossHistory[i],
                1e-9 * std::abs(plain.lossHistory[i]));
  }
  st.energyCap = 0.5;  // kT; Mueller-Brown (scale 0.1) spans about 20 kT along the path
  const DoobResult smallCap = runDoobLagrangian(potential, kMbA, kMbB, dyn, st);
  EXPECT_GT(std::abs(smallCap.lossHistory[0] - plain.lossHistory[0]),
            1e-3 * std::abs(plain.lossHistory[0]));
  EXPECT_EQ(smallCap.trainingEnergyEvaluations, plain.trainingEnergyEvaluations);
}

// The convergence judgement of the Doob row in `geotps compare`: the mean loss of the last tenth of
// the steps against the tenth before, relative change at most 2 %.
TEST(DoobLagrangian, LossTrendJudgesConvergenceFromTheLastTwoTenths) {
  // Flat after a fall: the last two tenths are both 5 -> converged, change 0.
  std::vector<double> flat(100, 5.0);
  for (int i = 0; i < 50; ++i) flat[i] = 100.0 - i;
  const LossTrend a = lossTrend(flat);
  EXPECT_TRUE(a.converged);
  EXPECT_DOUBLE_EQ(a.previous, 5.0);
  EXPECT_DOUBLE_EQ(a.relativeChange, 0.0);
  // Still falling linearly, 1 per step from 1000: tenths 80..89 and 90..99 average 915.5 and 905.5.
  std::vector<double> falling(100);
  for (int i = 0; i < 100; ++i) falling[i] = 1000.0 - i;
  const LossTrend b = lossTrend(falling);
  EXPECT_DOUBLE_EQ(b.previous, 915.5);
  EXPECT_DOUBLE_EQ(b.last, 905.5);
  EXPECT_NEAR(b.relativeChange, -10.0 / 915.5, 1e-15);
  EXPECT_TRUE(b.converged);                                                    // 1.1 % <= 2 %
  for (double& v : falling) v = 1000.0 * std::pow(0.97, &v - falling.data());  // 3 % per step
  EXPECT_FALSE(lossTrend(falling).converged);
  // A non-finite loss, or too few steps to judge, is not converged.
  flat.back() = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(lossTrend(flat).converged);
  EXPECT_FALSE(lossTrend(std::vector<double>(10, 1.0)).converged);
}

}  // namespace
}  // namespace geotps
