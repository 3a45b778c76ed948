// Tests of denoiser training: a briefly trained network against the closed-form posterior mean of
// Gaussian and Gaussian-mixture data, reproducibility, the loss curve, the Langevin and result-file
// sample sources against exact statistics, and the `geotps train-denoiser` command line.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>
#include <thread>

#include "engine/core/random.h"
#include "engine/core/schedule.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/io/h5_file.h"
#include "engine/io/result_file.h"
#include "engine/neural/denoiser_training.h"
#include "engine/neural/torch_denoiser.h"
#include "engine/pipelines/train_denoiser.h"
#include "potentials/analytic_potentials.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using namespace geotps;

namespace {

constexpr double kPi = std::numbers::pi;

double alphaOfL(double l) { return std::sqrt(1.0 / (1.0 + std::exp(-l))); }
double sigmaOfL(double l) { return std::sqrt(1.0 / (1.0 + std::exp(l))); }

/// n samples of an isotropic Gaussian mixture in 2D (components chosen with the given weights).
torch::Tensor mixtureSamples(const std::vector<std::array<double, 2>>& means,
                             const std::vector<double>& weights, double s, long long n,
                             std::uint64_t seed) {
  Rng rng(seed);
  auto out = torch::empty({n, 2}, torch::kFloat64);
  double* p = out.data_ptr<double>();
  for (long long i = 0; i < n; ++i) {
    double u = rng.uniform(), acc = 0.0;
    std::size_t k = 0;
    for (; k + 1 < weights.size(); ++k) {
      acc += weights[k];
      if (u < acc) break;
    }
    p[2 * i] = means[k][0] + s * rng.normal();
    p[2 * i + 1] = means[k][1] + s * rng.normal();
  }
  return out;
}

/// Closed-form posterior of the mixture at (x, l): each component's posterior is Gaussian with mean
/// m_k + alpha s^2 / (alpha^2 s^2 + sigma^2) (x - alpha m_k) and variance
/// s^2 sigma^2 / (alpha^2 s^2 + sigma^2) per axis; E[x0 | x, l] is the responsibility-weighted
/// mean of the component means, and the trace of Cov[x0 | x, l] is 2 times that variance plus the
/// responsibility-weighted spread of the component means.
struct MixturePosterior {
  std::array<double, 2> mean;
  double covarianceTrace;
};
MixturePosterior mixturePosterior(const std::vector<std::array<double, 2>>& means,
                                  const std::vector<double>& weights, double s, double l,
                                  const std::array<double, 2>& x) {
  const double a = alphaOfL(l), sg = sigmaOfL(l);
  const double v = a * a * s * s + sg * sg, gain = a * s * s / v, post = s * s * sg * sg / v;
  std::vector<double> logr(means.size());
  double maxLog = -1e300;
  for (std::size_t k = 0; k < means.size(); ++k) {
    const double dx = x[0] - a * means[k][0], dy = x[1] - a * means[k][1];
    logr[k] = std::log(weights[k]) - 0.5 * (dx * dx + dy * dy) / v;
    maxLog = std::max(maxLog, logr[k]);
  }
  double z = 0.0, r2 = 0.0;
  std::array<double, 2> m{0.0, 0.0};
  for (std::size_t k = 0; k < means.size(); ++k) {
    const double r = std::exp(logr[k] - maxLog);
    z += r;
    for (int d = 0; d < 2; ++d) {
      const double c = means[k][d] + gain * (x[d] - a * means[k][d]);
      m[d] += r * c;
      r2 += r * c * c;
    }
  }
  const std::array<double, 2> mean{m[0] / z, m[1] / z};
  return {mean, 2.0 * post + r2 / z - (mean[0] * mean[0] + mean[1] * mean[1])};
}

std::array<double, 2> mixturePosteriorMean(const std::vector<std::array<double, 2>>& means,
                                           const std::vector<double>& weights, double s, double l,
                                           const std::array<double, 2>& x) {
  return mixturePosterior(means, weights, s, l, x).mean;
}

/// RMS over a grid of l in [-4, 4] and, per component, a grid of x around the component's noisy
/// mean (offsets of -1.5, 0, 1.5 noisy standard deviations per axis) of |D(x, l) - E[x0|x, l]|.
double rmsPosteriorMeanError(DenoiserNetwork& net, const std::vector<std::array<double, 2>>& means,
                             const std::vector<double>& weights, double s) {
  std::vector<double> ls, xs, expected;
  for (double l = -4.0; l <= 4.0 + 1e-9; l += 1.0) {
    const double a = alphaOfL(l), sg = sigmaOfL(l), sd = std::sqrt(a * a * s * s + sg * sg);
    for (const auto& m : means) {
      for (double cx : {-1.5, 0.0, 1.5}) {
        for (double cy : {-1.5, 0.0, 1.5}) {
          const std::array<double, 2> x{a * m[0] + sd * cx, a * m[1] + sd * cy};
          const auto e = mixturePosteriorMean(means, weights, s, l, x);
          ls.push_back(l);
          xs.insert(xs.end(), {x[0], x[1]});
          expected.insert(expected.end(), {e[0], e[1]});
        }
      }
    }
  }
  const long long n = static_cast<long long>(ls.size());
  torch::NoGradGuard noGrad;
  const auto pred = net->forward(torch::tensor(xs, torch::kFloat64).view({n, 2}),
                                 torch::tensor(ls, torch::kFloat64))
                        .contiguous();
  const double* p = pred.data_ptr<double>();
  double sum = 0.0;
  for (long long i = 0; i < 2 * n; ++i) sum += (p[i] - expected[i]) * (p[i] - expected[i]);
  return std::sqrt(sum / n);
}

TrainingSettings smallSettings() {
  TrainingSettings s;
  s.hidden = 64;
  s.layers = 2;
  s.xFrequencies = 4;
  s.lFrequencies = 3;
  s.lMin = -8.0;
  s.lMax = 8.0;
  s.batchSize = 512;
  s.learningRate = 1e-2;
  s.maxSteps = 3000;
  s.maxSeconds = 1e6;  // stop on steps only: reproducible
  s.threads = 1;       // two OpenMP threads busy-wait badly on a loaded two-core machine
  s.seed = 7;
  s.logInterval = 20;
  s.lBins = 32;
  return s;
}

bool sameWeights(DenoiserNetwork& a, DenoiserNetwork& b) {
  const auto pa = a->parameters(), pb = b->parameters();
  if (pa.size() != pb.size()) return false;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    if (!torch::equal(pa[i], pb[i])) return false;
  }
  return true;
}

double maxWeightDifference(DenoiserNetwork& a, DenoiserNetwork& b) {
  const auto pa = a->parameters(), pb = b->parameters();
  double m = 0.0;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    m = std::max(m, (pa[i] - pb[i]).abs().max().item<double>());
  }
  return m;
}

/// U = k/2 |x - c|^2: exp(-U/kT) is N(c, kT/k I).
class Harmonic final : public Potential {
 public:
  Harmonic(double k, std::array<double, 2> c) : k_(k), c_(c) {}
  int dimension() const override { return 2; }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override {
    for (std::size_t i = 0; i < n; ++i) {
      const double dx = x[2 * i] - c_[0], dy = x[2 * i + 1] - c_[1];
      energy[i] = 0.5 * k_ * (dx * dx + dy * dy);
      if (gradient) {
        gradient[2 * i] = k_ * dx;
        gradient[2 * i + 1] = k_ * dy;
      }
    }
  }
  std::string name() const override { return "harmonic"; }

 private:
  double k_;
  std::array<double, 2> c_;
};

/// U = -k (cos(x - c) + cos(y - c)) on the periodic box [-pi, pi)^2: each angle is von Mises.
class VonMises final : public Potential {
 public:
  VonMises(double k, double c) : k_(k), c_(c) {}
  int dimension() const override { return 2; }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override {
    for (std::size_t i = 0; i < n; ++i) {
      energy[i] = -k_ * (std::cos(x[2 * i] - c_) + std::cos(x[2 * i + 1] - c_));
      if (gradient) {
        gradient[2 * i] = k_ * std::sin(x[2 * i] - c_);
        gradient[2 * i + 1] = k_ * std::sin(x[2 * i + 1] - c_);
      }
    }
  }
  std::string name() const override { return "von_mises"; }
  bool isPeriodic() const override { return true; }
  double boxLow(int) const override { return -kPi; }
  double period(int) const override { return 2.0 * kPi; }

 private:
  double k_, c_;
};

/// U = h (x^2 - 1)^2 + delta x + k/2 y^2: two wells at x = -1, +1 separated by a barrier of h kT,
/// the one at x = +1 higher by about 2 delta.
class TiltedDoubleWell final : public Potential {
 public:
  TiltedDoubleWell(double h, double delta, double k) : h_(h), delta_(delta), k_(k) {}
  int dimension() const override { return 2; }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override {
    for (std::size_t i = 0; i < n; ++i) {
      const double a = x[2 * i], y = x[2 * i + 1], q = a * a - 1.0;
      energy[i] = h_ * q * q + delta_ * a + 0.5 * k_ * y * y;
      if (gradient) {
        gradient[2 * i] = 4.0 * h_ * q * a + delta_;
        gradient[2 * i + 1] = k_ * y;
      }
    }
  }
  std::string name() const override { return "tilted_double_well"; }
  double h_, delta_, k_;
};

using geotps::test::readText;
using geotps::test::runGeotps;

fs::path freshDir(const std::string& name) {
  return geotps::test::freshDir("geotps_train_" + name);
}

}  // namespace

TEST(DenoiserTraining, GaussianMatchesClosedFormPosteriorMean) {
  const double s = 0.5;
  const std::vector<std::array<double, 2>> means{{0.7, -0.4}};
  const std::vector<double> weights{1.0};
  const auto data = mixtureSamples(means, weights, s, 20000, 1);
  DenoiserNetwork net = trainDenoiser(data, smallSettings());
  const double rms = rmsPosteriorMeanError(net, means, weights, s);
  EXPECT_LT(rms, 0.05 * s) << "RMS |D - E[x0|z]| over l in [-4, 4]";
  EXPECT_EQ(net->meta.steps, 3000);
  EXPECT_EQ(net->meta.lossCurve.size(), 150u);
}

TEST(DenoiserTraining, MixtureMatchesClosedFormPosteriorMean) {
  // Two well-separated components: at high l the posterior mean switches sharply between them.
  const double s = 0.3;
  const std::vector<std::array<double, 2>> means{{-1.0, 0.0}, {1.0, 0.5}};
  const std::vector<double> weights{0.35, 0.65};
  const auto data = mixtureSamples(means, weights, s, 20000, 2);
  TrainingSettings settings = smallSettings();
  settings.maxSteps = 4000;
  DenoiserNetwork net = trainDenoiser(data, settings);
  const double rms = rmsPosteriorMeanError(net, means, weights, s);
  EXPECT_LT(rms, 0.1 * s) << "RMS |D - E[x0|z]| over l in [-4, 4]";
}

// The bank's targets are the posterior means of the samples' empirical distribution, recomputed
// here in float64 point by point from eta = (alpha x / sigma^2, -exp(l)/2), and so are the trace
// of the weighted covariance and the effective sample size; the ESS filter keeps exactly the
// points whose recomputed effective sample size reaches the threshold.
TEST(PosteriorBank, TargetsArePosteriorMeansOfTheSamples) {
  const auto data = mixtureSamples({{-1.0, 0.5}, {1.2, -0.3}}, {0.7, 0.3}, 0.4, 80, 11);
  const std::vector<double> low{-2.0, -1.5}, high{2.5, 1.0};
  const double etaMax = 3.0;
  const PosteriorBank all = posteriorBank(data, low, high, 400, etaMax, -6.0, 6.0, 1.0, 5);
  ASSERT_EQ(all.drawn, 400);
  ASSERT_EQ(all.l.size(0), 400);
  const double* x0 = data.data_ptr<double>();
  const auto lA = all.l.contiguous(), xA = all.x.contiguous(), tA = all.target.contiguous();
  int tilted = 0, centred = 0, essAbove20 = 0;
  double maxError = 0.0, maxTraceError = 0.0, maxEssError = 0.0, maxTrace = 0.0;
  for (int i = 0; i < 400; ++i) {
    const double l = lA.data_ptr<double>()[i];
    const double x[2] = {xA.data_ptr<double>()[2 * i], xA.data_ptr<double>()[2 * i + 1]};
    EXPECT_GE(l, -6.0);
    EXPECT_LE(l, 6.0);
    const double a = alphaOfL(l), s2 = sigmaOfL(l) * sigmaOfL(l);
    const double e0 = a * x[0] / s2, e1 = a * x[1] / s2, e2 = -0.5 * std::exp(l);
    // Either the natural parameter or the tether centre is in its range.
    const bool inEta = std::abs(e0) <= etaMax && std::abs(e1) <= etaMax;
    const bool inBox =
        x[0] / a >= -2.45 && x[0] / a <= 2.95 && x[1] / a >= -1.75 && x[1] / a <= 1.25;
    EXPECT_TRUE(inEta || inBox) << "point " << i;
    tilted += inEta && !inBox;
    centred += inBox && !inEta;
    std::vector<double> logw(80);
    double top = -1e300;
    for (int j = 0; j < 80; ++j) {
      const double p = x0[2 * j], q = x0[2 * j + 1];
      logw[j] = e0 * p + e1 * q + e2 * (p * p + q * q);
      top = std::max(top, logw[j]);
    }
    double z = 0.0, m0 = 0.0, m1 = 0.0, r2 = 0.0, w2 = 0.0;
    for (int j = 0; j < 80; ++j) {
      const double w = std::exp(logw[j] - top), p = x0[2 * j], q = x0[2 * j + 1];
      z += w;
      m0 += w * p;
      m1 += w * q;
      r2 += w * (p * p + q * q);
      w2 += w * w;
    }
    maxError = std::max({maxError, std::abs(m0 / z - tA.data_ptr<double>()[2 * i]),
                         std::abs(m1 / z - tA.data_ptr<double>()[2 * i + 1])});
    // Trace of the weighted covariance and the effective sample size, to float32 precision.
    const double trace = r2 / z - (m0 / z) * (m0 / z) - (m1 / z) * (m1 / z);
    maxTraceError = std::max(maxTraceError, std::abs(trace - all.covTrace[i].item<double>()));
    maxEssError =
        std::max(maxEssError, std::abs(z * z / w2 - all.ess[i].item<double>()) / (z * z / w2));
    maxTrace = std::max(maxTrace, trace);
    essAbove20 += z * z / w2 >= 20.0;
  }
  EXPECT_LT(maxError, 1e-5);  // the bank's weights are computed in float32
  EXPECT_LT(maxTraceError, 1e-4);
  EXPECT_LT(maxEssError, 1e-5);
  EXPECT_GT(maxTrace, 0.5);  // some posteriors straddle both components
  // Either kind may fall in the other's range too (e.g. a centred point at low l has a small eta).
  EXPECT_GT(tilted, 50);
  EXPECT_GT(centred, 50);
  const PosteriorBank filtered = posteriorBank(data, low, high, 400, etaMax, -6.0, 6.0, 20.0, 5);
  EXPECT_EQ(filtered.l.size(0), essAbove20);
  EXPECT_GT(essAbove20, 20);
  EXPECT_LT(essAbove20, 400);
  EXPECT_THROW(posteriorBank(data, low, high, 10, 0.0, -6.0, 6.0, 1.0, 5), std::invalid_argument);
  EXPECT_THROW(posteriorBank(data, {0.0}, high, 10, 1.0, -6.0, 6.0, 1.0, 5), std::invalid_argument);
}

// Denoising score matching alone barely sees posteriors tilted far beyond the forward process's
// noisy states (low l, large x); the bank's targets teach them. RMS error of D against the closed
// form at tilted points (l in [-6, -3], eta_x in [-3, 3]^2) of a two-component mixture.
TEST(DenoiserTraining, PosteriorBankTeachesTiltedPosteriors) {
  const double s = 0.4;
  const std::vector<std::array<double, 2>> means{{-1.0, 0.0}, {1.0, 0.5}};
  const std::vector<double> weights{0.8, 0.2};
  const auto data = mixtureSamples(means, weights, s, 5000, 12);
  std::vector<double> ls, xs, expected;
  for (double l = -6.0; l <= -3.0 + 1e-9; l += 1.0) {
    const double a = alphaOfL(l), s2 = sigmaOfL(l) * sigmaOfL(l);
    for (double e0 = -3.0; e0 <= 3.0 + 1e-9; e0 += 1.5) {
      for (double e1 = -3.0; e1 <= 3.0 + 1e-9; e1 += 1.5) {
        const std::array<double, 2> x{e0 * s2 / a, e1 * s2 / a};
        const auto e = mixturePosteriorMean(means, weights, s, l, x);
        ls.push_back(l);
        xs.insert(xs.end(), {x[0], x[1]});
        expected.insert(expected.end(), {e[0], e[1]});
      }
    }
  }
  const long long n = static_cast<long long>(ls.size());
  auto rms = [&](DenoiserNetwork& net) {
    torch::NoGradGuard noGrad;
    const auto pred = net->forward(torch::tensor(xs, torch::kFloat64).view({n, 2}),
                                   torch::tensor(ls, torch::kFloat64))
                          .contiguous();
    double sum = 0.0;
    for (long long i = 0; i < 2 * n; ++i) {
      sum += std::pow(pred.data_ptr<double>()[i] - expected[i], 2);
    }
    return std::sqrt(sum / n);
  };
  TrainingSettings settings = smallSettings();
  settings.maxSteps = 1500;
  DenoiserNetwork plain = trainDenoiser(data, settings);
  settings.bankPoints = 4000;
  settings.bankEta = 4.0;
  DenoiserNetwork banked = trainDenoiser(data, settings);
  const double plainError = rms(plain), bankError = rms(banked);
  std::printf("tilted posteriors: RMS error %.4f (plain DSM) vs %.4f (with bank)\n", plainError,
              bankError);
  EXPECT_LT(bankError, 0.1) << "plain DSM: " << plainError;
  EXPECT_LT(bankError, 0.5 * plainError);
  EXPECT_NE(banked->meta.source.find("posterior bank"), std::string::npos);
}

// The covariance term trains the divergence that E[|x0|^2 | z] rests on (Tweedie): the trace of
// the network's posterior covariance, mu_last - |mu_x|^2 as the geometry computes it, against the
// closed form for a two-component mixture at tilted posteriors (l in [-6, -2], eta_x in
// [-3, 3]^2, where the posterior straddles the components), which the bank's targets reach and the
// denoising loss barely does; the bank and everything else are the same in both trainings.
TEST(DenoiserTraining, CovarianceTermTeachesThePosteriorCovariance) {
  const double s = 0.4;
  const std::vector<std::array<double, 2>> means{{-1.0, 0.0}, {1.0, 0.5}};
  const std::vector<double> weights{0.7, 0.3};
  const auto data = mixtureSamples(means, weights, s, 5000, 13);
  std::vector<double> zs, expected;
  for (double l = -6.0; l <= -2.0 + 1e-9; l += 1.0) {
    const double a = alphaOfL(l), s2 = sigmaOfL(l) * sigmaOfL(l);
    for (double e0 = -3.0; e0 <= 3.0 + 1e-9; e0 += 1.0) {
      for (double e1 = -3.0; e1 <= 3.0 + 1e-9; e1 += 1.0) {
        const std::array<double, 2> x{e0 * s2 / a, e1 * s2 / a};
        zs.insert(zs.end(), {l, x[0], x[1]});
        expected.push_back(mixturePosterior(means, weights, s, l, x).covarianceTrace);
      }
    }
  }
  const long long n = static_cast<long long>(expected.size());
  const Eigen::MatrixXd z = Eigen::Map<const Eigen::MatrixXd>(zs.data(), 3, n).transpose();
  auto rms = [&](DenoiserNetwork& net) {
    const auto denoiser = TorchDenoiser::fromNetwork(net);
    std::vector<PosteriorMoments> out;
    denoiser->evaluate(z, false, out);
    double sum = 0.0;
    for (long long i = 0; i < n; ++i) {
      const double trace = out[i].mu(2) - out[i].mu.head<2>().squaredNorm();
      sum += std::pow(trace - expected[i], 2);
    }
    return std::sqrt(sum / n);
  };
  TrainingSettings settings = smallSettings();
  settings.maxSteps = 1500;
  settings.bankPoints = 4000;
  settings.bankEta = 4.0;
  DenoiserNetwork plain = trainDenoiser(data, settings);
  settings.covarianceWeight = 1.0;
  settings.covariancePoints = 128;
  DenoiserNetwork withTerm = trainDenoiser(data, settings);
  const double plainError = rms(plain), termError = rms(withTerm);
  std::printf("posterior covariance trace: RMS error %.4f (mean only) vs %.4f (covariance term)\n",
              plainError, termError);
  EXPECT_LT(termError, 0.7 * plainError);
  EXPECT_LT(termError, 0.05);
}

// Importance-weighted samples: a proposal mixture with equal component weights, reweighted by
// the exact density ratio to a 0.15 / 0.85 mixture. The targets are the weighted posterior means
// (recomputed here in float64), and a network trained on the weighted samples learns the
// reweighted mixture's closed-form posterior mean, which the unweighted samples do not give.
TEST(PosteriorBank, ImportanceWeightsEnterTheTargets) {
  const double s = 0.3;
  const std::vector<std::array<double, 2>> means{{-1.0, 0.0}, {1.0, 0.5}};
  const auto data = mixtureSamples(means, {0.5, 0.5}, s, 200, 21);
  const double* x0 = data.data_ptr<double>();
  auto logW = torch::empty({200}, torch::kFloat64);
  for (int j = 0; j < 200; ++j) logW[j] = 0.37 * std::sin(3.0 * x0[2 * j]) - 0.2 * x0[2 * j + 1];
  const auto l = torch::tensor({-4.0, -1.0, 0.5, 3.0}, torch::kFloat64);
  const auto x =
      torch::tensor({0.1, -0.05, 0.4, 0.3, -0.6, 0.2, 0.9, 0.5}, torch::kFloat64).view({4, 2});
  const PosteriorBank bank = posteriorTargets(data, l, x, 1.0, logW);
  ASSERT_EQ(bank.l.size(0), 4);
  for (int i = 0; i < 4; ++i) {
    const double li = l[i].item<double>(), a = alphaOfL(li), s2 = sigmaOfL(li) * sigmaOfL(li);
    const double e0 = a * x[i][0].item<double>() / s2, e1 = a * x[i][1].item<double>() / s2;
    std::vector<double> lw(200);
    double top = -1e300;
    for (int j = 0; j < 200; ++j) {
      const double p = x0[2 * j], q = x0[2 * j + 1];
      lw[j] = e0 * p + e1 * q - 0.5 * std::exp(li) * (p * p + q * q) + logW[j].item<double>();
      top = std::max(top, lw[j]);
    }
    double z = 0.0, m0 = 0.0, m1 = 0.0;
    for (int j = 0; j < 200; ++j) {
      const double w = std::exp(lw[j] - top);
      z += w;
      m0 += w * x0[2 * j];
      m1 += w * x0[2 * j + 1];
    }
    EXPECT_NEAR(bank.target[i][0].item<double>(), m0 / z, 1e-5) << "point " << i;
    EXPECT_NEAR(bank.target[i][1].item<double>(), m1 / z, 1e-5) << "point " << i;
  }
  // Without weights the targets differ (the weights are not constant over the samples).
  const PosteriorBank plain = posteriorTargets(data, l, x, 1.0);
  EXPECT_GT((plain.target - bank.target).abs().max().item<double>(), 1e-3);
  EXPECT_THROW(posteriorTargets(data, l, x, 1.0, torch::zeros({3}, torch::kFloat64)),
               std::invalid_argument);
}

TEST(DenoiserTraining, ImportanceWeightedSamplesLearnTheReweightedDensity) {
  const double s = 0.3;
  const std::vector<std::array<double, 2>> means{{-1.0, 0.0}, {1.0, 0.5}};
  const std::vector<double> target{0.15, 0.85};
  const auto data = mixtureSamples(means, {0.5, 0.5}, s, 20000, 22);
  // log of the exact density ratio target / proposal at each sample.
  const double* x0 = data.data_ptr<double>();
  auto logW = torch::empty({20000}, torch::kFloat64);
  for (int j = 0; j < 20000; ++j) {
    double num = 0.0, den = 0.0;
    for (int k = 0; k < 2; ++k) {
      const double dx = x0[2 * j] - means[k][0], dy = x0[2 * j + 1] - means[k][1];
      const double g = std::exp(-0.5 * (dx * dx + dy * dy) / (s * s));
      num += target[k] * g;
      den += 0.5 * g;
    }
    logW[j] = std::log(num / den);
  }
  TrainingSettings settings = smallSettings();
  settings.maxSteps = 1500;
  DenoiserNetwork plain = trainDenoiser(data, settings);
  settings.sampleLogWeights = logW;
  DenoiserNetwork weighted = trainDenoiser(data, settings);
  const double plainError = rmsPosteriorMeanError(plain, means, target, s);
  const double weightedError = rmsPosteriorMeanError(weighted, means, target, s);
  std::printf("0.15/0.85 mixture from 0.5/0.5 samples: RMS %.4f (unweighted) vs %.4f (weighted)\n",
              plainError, weightedError);
  EXPECT_LT(weightedError, 0.1 * s);
  EXPECT_GT(plainError, 2.0 * weightedError);
}

// Samples at f kT reweighted by temperedLogWeights have the moments of exp(-U / kT):
// N(c, kT / k) for a harmonic well, whose tempered samples have variance f kT / k.
TEST(LangevinSamples, TemperedSamplesReweightToTheBoltzmannDensity) {
  const double k = 4.0, kT = 1.0, f = 3.0;
  const Harmonic u(k, {0.5, -0.3});
  const auto x = langevinSamples(u, f * kT, {-3.0, -3.0}, {3.0, 3.0}, 20000, 2000, 1e-3, 13, 2,
                                 LangevinStart::Boltzmann);
  EXPECT_NEAR(x.var(0)[0].item<double>(), f * kT / k, 0.06 * f * kT / k);
  const auto logW = temperedLogWeights(u, x, kT, f);
  // log w = -U (1 - 1/f) / kT exactly.
  const double* p = x.data_ptr<double>();
  for (int j = 0; j < 5; ++j) {
    const double dx = p[2 * j] - 0.5, dy = p[2 * j + 1] + 0.3;
    EXPECT_NEAR(logW[j].item<double>(), -0.5 * k * (dx * dx + dy * dy) * (1.0 - 1.0 / f) / kT,
                1e-12);
  }
  const auto w = torch::exp(logW - logW.max());
  const auto wn = w / w.sum();
  const auto mean = (wn.unsqueeze(1) * x).sum(0);
  const auto var = (wn.unsqueeze(1) * (x - mean).pow(2)).sum(0);
  const double ess = (w.sum().pow(2) / w.pow(2).sum()).item<double>();
  // The weights' ESS for Gaussians: n (E w)^2 / E w^2 = n sqrt(2f - 1) / f per dimension, so
  // n (2f - 1) / f^2 = 5/9 n in 2D.
  EXPECT_NEAR(ess / 20000.0, 5.0 / 9.0, 0.03);
  EXPECT_NEAR(mean[0].item<double>(), 0.5, 0.02);
  EXPECT_NEAR(mean[1].item<double>(), -0.3, 0.02);
  EXPECT_NEAR(var[0].item<double>(), kT / k, 0.08 * kT / k);
  EXPECT_NEAR(var[1].item<double>(), kT / k, 0.08 * kT / k);
}

// The refiner is called refineRounds times with the network as it stands (float64, eval mode),
// and the points it returns enter every later step's loss: the network learns a target placed
// where the data say something else.
TEST(DenoiserTraining, RefinerPointsEnterTheLoss) {
  const auto data = mixtureSamples({{0.0, 0.0}}, {1.0}, 0.5, 5000, 23);
  TrainingSettings settings = smallSettings();
  settings.maxSteps = 1500;
  settings.refineRounds = 3;
  settings.refineStart = 0.2;
  settings.refineEnd = 0.6;
  settings.refineFraction = 0.05;
  std::vector<int> rounds;
  std::vector<bool> evalMode, float64;
  const BankRefiner refiner = [&](const DenoiserNetwork& net, int round) {
    rounds.push_back(round);
    evalMode.push_back(!net->is_training());
    float64.push_back(net->parameters()[0].scalar_type() == torch::kFloat64);
    PosteriorBank b;
    b.l = torch::full({8}, 1.0, torch::kFloat64);
    b.x = torch::full({8, 2}, 0.3, torch::kFloat64);
    b.target = torch::full({8, 2}, 1.5, torch::kFloat64);  // the data's answer is about 0.2
    b.drawn = 8;
    return b;
  };
  DenoiserNetwork net = trainDenoiser(data, settings, {}, refiner);
  EXPECT_EQ(rounds, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(evalMode, (std::vector<bool>{true, true, true}));
  EXPECT_EQ(float64, (std::vector<bool>{true, true, true}));
  settings.refineRounds = 0;
  DenoiserNetwork plain = trainDenoiser(data, settings);
  torch::NoGradGuard noGrad;
  const auto x = torch::full({1, 2}, 0.3, torch::kFloat64);
  const auto l = torch::full({1}, 1.0, torch::kFloat64);
  const auto d = net->forward(x, l), dPlain = plain->forward(x, l);
  EXPECT_LT(dPlain[0][0].item<double>(), 0.6);
  EXPECT_GT(d[0][0].item<double>(), 1.0);
}

// Points around a curve: each curve point itself, then neighbours whose l spreads by lJitter; the
// targets are posteriorTargets at those points.
TEST(PosteriorBank, CurveBankSurroundsTheCurve) {
  const auto data = mixtureSamples({{-1.0, 0.0}, {1.0, 0.5}}, {0.5, 0.5}, 0.4, 500, 24);
  Eigen::MatrixXd curve(3, 3);
  curve << 2.0, -0.9, 0.1, -1.0, 0.05, 0.2, 2.0, 0.8, 0.4;
  const PosteriorBank b = curveBank(data, curve, 200, 0.5, 0.2, 1.0, 3);
  ASSERT_EQ(b.drawn, 600);
  ASSERT_EQ(b.l.size(0), 600);
  for (int i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(b.l[200 * i].item<double>(), curve(i, 0));
    EXPECT_NEAR(b.x[200 * i][0].item<double>(), curve(i, 1), 1e-12);
    const auto li = b.l.slice(0, 200 * i + 1, 200 * i + 200);
    EXPECT_NEAR(li.mean().item<double>(), curve(i, 0), 0.12);  // standard error 0.035
    EXPECT_NEAR(li.std().item<double>(), 0.5, 0.08);
  }
  const PosteriorBank again = posteriorTargets(data, b.l, b.x, 1.0);
  EXPECT_LT((again.target - b.target).abs().max().item<double>(), 1e-12);
}

// float32 and float64 optimisation follow the same path from the same seed; the returned network
// is float64 either way.
TEST(DenoiserTraining, Float32AndFloat64TrainTheSameNetwork) {
  const auto data = mixtureSamples({{0.7, -0.4}}, {1.0}, 0.5, 5000, 25);
  TrainingSettings s = smallSettings();
  s.maxSteps = 300;
  DenoiserNetwork a = trainDenoiser(data, s);
  s.precision = "float64";
  DenoiserNetwork b = trainDenoiser(data, s);
  for (const auto& p : a->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat64);
  EXPECT_LT(rmsPosteriorMeanError(a, {{0.7, -0.4}}, {1.0}, 0.5), 0.1);
  EXPECT_LT(std::abs(rmsPosteriorMeanError(a, {{0.7, -0.4}}, {1.0}, 0.5) -
                     rmsPosteriorMeanError(b, {{0.7, -0.4}}, {1.0}, 0.5)),
            0.02);
}

TEST(DenoiserTraining, SameSeedGivesIdenticalWeights) {
  const auto data = mixtureSamples({{0.0, 0.0}}, {1.0}, 1.0, 2000, 3);
  TrainingSettings s = smallSettings();
  s.maxSteps = 40;
  s.batchSize = 128;
  DenoiserNetwork a = trainDenoiser(data, s);
  DenoiserNetwork b = trainDenoiser(data, s);
  EXPECT_TRUE(sameWeights(a, b));
  EXPECT_EQ(a->meta.lossCurve, b->meta.lossCurve);
  // Two torch threads: parallel reductions may round differently in the last bit, no more.
  s.threads = 2;
  DenoiserNetwork d = trainDenoiser(data, s);
  EXPECT_LT(maxWeightDifference(a, d), 1e-9);
  s.threads = 1;
  s.seed = 8;
  DenoiserNetwork c = trainDenoiser(data, s);
  EXPECT_FALSE(sameWeights(a, c));
  EXPECT_GT(maxWeightDifference(a, c), 1e-3);
}

TEST(DenoiserTraining, LossCurveDecreases) {
  const auto data = mixtureSamples({{2.0, -1.0}}, {1.0}, 0.5, 5000, 4);
  TrainingSettings s = smallSettings();
  s.maxSteps = 400;
  s.logInterval = 10;
  DenoiserNetwork net = trainDenoiser(data, s);
  const auto& curve = net->meta.lossCurve;
  ASSERT_EQ(curve.size(), 40u);
  double first = 0.0, last = 0.0;
  for (int i = 0; i < 4; ++i) {
    first += curve[i];
    last += curve[curve.size() - 1 - i];
  }
  EXPECT_LT(last, first);
  // The metadata describe the run.
  EXPECT_EQ(net->meta.dataLow.size(), 2u);
  EXPECT_LT(net->meta.dataLow[0], 2.0);
  EXPECT_GT(net->meta.dataHigh[0], 2.0);
  EXPECT_EQ(net->meta.seed, 7u);
  EXPECT_GT(net->meta.seconds, 0.0);
}

TEST(DenoiserTraining, StopsOnWallClockBudget) {
  const auto data = mixtureSamples({{0.0, 0.0}}, {1.0}, 1.0, 1000, 5);
  TrainingSettings s = smallSettings();
  s.maxSteps = 100000000;
  s.maxSeconds = 0.5;
  DenoiserNetwork net = trainDenoiser(data, s);
  EXPECT_LT(net->meta.steps, s.maxSteps);
  EXPECT_GT(net->meta.steps, 0);
  EXPECT_LT(net->meta.seconds, 5.0);
}

TEST(LangevinSamples, HarmonicMeanAndVariance) {
  // N(c, kT/k I); Euler-Maruyama's stationary variance is kT / (k (1 - ds k / 4)), 0.1 % off here.
  const double k = 4.0, kT = 1.0;
  const Harmonic u(k, {0.5, -0.3});
  const long long n = 10000;
  const auto x = langevinSamples(u, kT, {-2.0, -2.0}, {2.0, 2.0}, n, 2000, 1e-3, 11, 2);
  ASSERT_EQ(x.size(0), n);
  ASSERT_EQ(x.size(1), 2);
  const auto mean = x.mean(0), var = x.var(0);
  EXPECT_NEAR(mean[0].item<double>(), 0.5, 0.02);  // standard error 0.005
  EXPECT_NEAR(mean[1].item<double>(), -0.3, 0.02);
  EXPECT_NEAR(var[0].item<double>(), kT / k, 0.06 * kT / k);  // relative standard error 1.4 %
  EXPECT_NEAR(var[1].item<double>(), kT / k, 0.06 * kT / k);
  // Independent of the thread count.
  const auto a = langevinSamples(u, kT, {-2.0, -2.0}, {2.0, 2.0}, 1000, 100, 1e-3, 11, 1);
  const auto b = langevinSamples(u, kT, {-2.0, -2.0}, {2.0, 2.0}, 1000, 100, 1e-3, 11, 2);
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(LangevinSamples, PeriodicSamplesAreWrappedIntoTheBox) {
  // Von Mises angles: E[cos(x - c)] = I1(k) / I0(k); c near the box edge so that walkers cross it.
  const double k = 2.0, c = 3.0;
  const VonMises u(k, c);
  const auto x = langevinSamples(u, 1.0, {}, {}, 10000, 2000, 5e-3, 12, 2);  // time 10
  EXPECT_GE(x.min().item<double>(), -kPi);
  EXPECT_LT(x.max().item<double>(), kPi);
  const double expected = std::cyl_bessel_i(1.0, k) / std::cyl_bessel_i(0.0, k);
  const double got = torch::cos(x - c).mean().item<double>();
  EXPECT_NEAR(got, expected, 0.02);  // standard error 0.004
  // Some walkers did cross the box edge at pi (and were wrapped to near -pi).
  EXPECT_GT((x < -2.5).to(torch::kFloat64).mean().item<double>(), 0.05);
}

TEST(LangevinSamples, BoltzmannStartWeightsBasinsLikeTheDensity) {
  // Barrier 12 kT: no walker crosses it in the run, so the basin populations are set at the start.
  const TiltedDoubleWell u(12.0, 1.0, 4.0);
  // Exact P(x > 0) by a 1D quadrature of exp(-U) (y factorises out).
  double inRight = 0.0, all = 0.0;
  for (int i = 0; i < 200000; ++i) {
    const double a = -2.5 + 5.0 * (i + 0.5) / 200000, q = a * a - 1.0;
    const double w = std::exp(-(12.0 * q * q + a));
    all += w;
    if (a > 0) inRight += w;
  }
  const double exact = inRight / all;  // about 0.12
  const long long n = 20000;
  auto right = [](const torch::Tensor& x) {
    return (x.select(1, 0) > 0).to(torch::kFloat64).mean().item<double>();
  };
  const auto boltzmann = langevinSamples(u, 1.0, {-2.0, -2.0}, {2.0, 2.0}, n, 1000, 1e-3, 13, 2,
                                         LangevinStart::Boltzmann);
  EXPECT_NEAR(right(boltzmann), exact, 0.01);  // standard error 0.0023
  // From a uniform grid, each basin keeps the walkers of its half of the box.
  const auto uniform = langevinSamples(u, 1.0, {-2.0, -2.0}, {2.0, 2.0}, n, 1000, 1e-3, 13, 2,
                                       LangevinStart::UniformGrid);
  EXPECT_NEAR(right(uniform), 0.5, 0.03);
  // Within the wells the Boltzmann-started walkers are equilibrated too: Var y = kT / k.
  EXPECT_NEAR(boltzmann.select(1, 1).var().item<double>(), 0.25, 0.0125);
}

TEST(CvSamples, ReadsStridedWrappedFramesFromAResultFile) {
  const fs::path dir = freshDir("cv");
  const std::string path = (dir / "result.h5").string();
  {
    std::vector<double> cv;  // [2 paths, 5 frames, 2]: frame value i + 0.1 d, plus 2 pi on some
    for (int i = 0; i < 10; ++i) {
      cv.push_back(0.1 * i + (i % 3 == 0 ? 2.0 * kPi : 0.0));
      cv.push_back(-0.2 * i);
    }
    H5File f(path, H5File::Mode::Create);
    f.writeDoubles("/full_atom/cv", {2, 5, 2}, cv.data(), "rad");
    f.setAttribute("/", "schema_version", kResultSchemaVersion, "1");
    f.setAttribute("/", "file_type", std::string("run"));
  }
  EXPECT_EQ(cvFrameCount(path), 10);
  const auto x = cvSamplesFromResult(path, 3);  // frames 0, 3, 6, 9
  ASSERT_EQ(x.size(0), 4);
  for (int k = 0; k < 4; ++k) {
    EXPECT_NEAR(x[k][0].item<double>(), 0.1 * 3 * k, 1e-12);
    EXPECT_NEAR(x[k][1].item<double>(), -0.2 * 3 * k, 1e-12);
  }
  const fs::path other = dir / "other.h5";
  {
    H5File f(other.string(), H5File::Mode::Create);
    const double v = 1.0;
    f.writeDoubles("/curve/l", {1}, &v, "1");
  }
  EXPECT_THROW(cvSamplesFromResult(other.string(), 1), H5Error);
}

TEST(TrainDenoiserCli, RejectsAnUnknownTrainingKey) {
  const fs::path dir = freshDir("badkey");
  std::ofstream(dir / "bad.yaml") << "potential:\n  type: double_well\nstates:\n  a: [-1, 0]\n"
                                     "  b: [1, 0]\ntraining:\n  n_sample: 100\n";
  const auto r = runGeotps("train-denoiser bad.yaml --quiet", dir);
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("training.n_sample"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("training.n_samples"), std::string::npos) << "suggestion: " << r.err;
  EXPECT_FALSE(fs::exists(dir / "results"));
}

TEST(TrainDenoiserCli, TrainsAndSavesASmallModel) {
  const fs::path dir = freshDir("small");
  std::ofstream(dir / "dw.yaml") << "name: dw\npotential:\n  type: double_well\nstates:\n"
                                    "  a: [-1, 0]\n  b: [1, 0]\ntraining:\n  n_samples: 2000\n"
                                    "  langevin_steps: 200\n  hidden: 16\n  layers: 1\n"
                                    "  batch_size: 64\n  max_steps: 30\n  threads: 1\n";
  const auto r = runGeotps("train-denoiser dw.yaml --seed 3 --quiet", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("results/dw_denoiser.pt"), std::string::npos) << r.out;
  DenoiserNetwork net = loadDenoiser((dir / "results" / "dw_denoiser.pt").string());
  EXPECT_EQ(net->meta.steps, 30);
  EXPECT_EQ(net->meta.seed, 3u);
  EXPECT_EQ(net->meta.hidden, 16);
  EXPECT_EQ(net->meta.source.rfind("langevin: 2000 walkers", 0), 0u) << net->meta.source;
  EXPECT_EQ(net->meta.dataLow, (std::vector<double>{-2.0, -1.0}));  // denoiser.box_low
}

TEST(TrainDenoiserCli, TemperedSamplesAndRefinementRounds) {
  const fs::path dir = freshDir("refine");
  std::ofstream(dir / "dw.yaml") << "name: dw\npotential:\n  type: double_well\nstates:\n"
                                    "  a: [-1, 0]\n  b: [1, 0]\ngeodesic:\n  n_points: 32\n"
                                    "  n_nodes: 5\n  max_iterations: 50\ntraining:\n"
                                    "  n_samples: 2000\n  langevin_steps: 200\n"
                                    "  langevin_temperature_factor: 2.0\n  posterior_bank: 200\n"
                                    "  refine_rounds: 2\n  refine_points: 4\n  hidden: 16\n"
                                    "  layers: 1\n  batch_size: 64\n  max_steps: 40\n"
                                    "  threads: 1\n";
  // --quiet prints only the model's path; the refinement notes are in the --log file.
  const auto r = runGeotps("train-denoiser dw.yaml --quiet --log train.log", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "results/dw_denoiser.pt\n");
  const std::string log = readText(dir / "train.log");
  EXPECT_NE(log.find("# refinement round 1: geodesic energy"), std::string::npos) << log;
  EXPECT_NE(log.find("# refinement round 2: geodesic energy"), std::string::npos) << log;
  EXPECT_EQ(log.find("# refinement round 3"), std::string::npos) << log;
  DenoiserNetwork net = loadDenoiser((dir / "results" / "dw_denoiser.pt").string());
  EXPECT_EQ(net->meta.steps, 40);
  EXPECT_NE(net->meta.source.find("walkers at 2 kT, reweighted to kT"), std::string::npos)
      << net->meta.source;
}

TEST(TrainDenoiserCli, RejectsAReversedRefineRange) {
  const fs::path dir = freshDir("badrange");
  std::ofstream(dir / "bad.yaml") << "potential:\n  type: double_well\nstates:\n  a: [-1, 0]\n"
                                     "  b: [1, 0]\ntraining:\n  refine_range: [0.8, 0.2]\n";
  const auto r = runGeotps("train-denoiser bad.yaml --quiet", dir);
  EXPECT_NE(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("training.refine_range"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "results"));
}

// Mean and variance (1/M normalisation) of coordinate d of M interleaved 2D points.
static std::pair<double, double> coordinateMoments(const std::vector<double>& v, int d, int M) {
  double m = 0.0, q = 0.0;
  for (int i = 0; i < M; ++i) {
    m += v[2 * i + d];
    q += v[2 * i + d] * v[2 * i + d];
  }
  m /= M;
  return {m, q / M - m * m};
}

// Score-mixed targets on a harmonic U = k/2 |x - c|^2 (kT = 1): given y = x0 + s eps the posterior
// of x0 is N(mu, 1/P), P = k + 1/s^2, mu = (k c + y / s^2) / P. The mixed target is x0 (1 -
// sigmoid(2 l)) + const, so its mean is mu and its variance (1 - sigmoid(2 l))^2 / P, against 1 / P
// for the plain target x0.
TEST(ScoreTargets, HarmonicTargetsHaveThePosteriorMeanAndAlmostNoVariance) {
  const double k = 40.0, l = 3.0, s2 = std::exp(-l), sd = std::sqrt(s2);
  const std::array<double, 2> c{0.4, -0.3};
  Harmonic pot(k, c);
  const std::array<double, 2> y{0.55, -0.2};
  const double P = k + 1.0 / s2;
  const int M = 20000;
  Rng rng(17);
  std::vector<double> x0(2 * M), eps(2 * M), ls(M, l), grad(2 * M), energy(M);
  for (int i = 0; i < M; ++i) {
    for (int d = 0; d < 2; ++d) {
      const double mu = (k * c[d] + y[d] / s2) / P;
      x0[2 * i + d] = mu + rng.normal() / std::sqrt(P);
      eps[2 * i + d] = (y[d] - x0[2 * i + d]) / sd;
    }
  }
  pot.evaluate(x0.data(), M, energy.data(), grad.data());
  const auto t = scoreMixedTargets(pot, 1.0, {}, {}, x0, eps, ls, grad, 1e-4);
  const double c2 = 1.0 / (1.0 + std::exp(-2.0 * l));
  for (int d = 0; d < 2; ++d) {
    const auto [m, var] = coordinateMoments(t, d, M);
    const double var0 = coordinateMoments(x0, d, M).second;
    const double mu = (k * c[d] + y[d] / s2) / P;
    const double expectedVar = (1.0 - c2) * (1.0 - c2) / P;
    EXPECT_NEAR(m, mu, 4.0 * std::sqrt(expectedVar / M) + 1e-9) << "coordinate " << d;
    EXPECT_NEAR(var / expectedVar, 1.0, 0.1) << "coordinate " << d;
    EXPECT_NEAR(var0 * P, 1.0, 0.05) << "plain target, coordinate " << d;
    EXPECT_LT(var, 1e-4 * var0);
  }
}

// On a double well the mixed target is still unbiased: at fixed y its mean over x0 ~ p(x0 | y) is
// E[x0 | y], here by midpoint quadrature of the separable posterior exp(-U(x0)) N(y; x0, s^2) on a
// fine grid (from which x0 is also drawn, by inverse CDF). Its variance is never above the plain
// one: far below it in the harmonic coordinate, below it inside a well, equal to it between the
// wells (U'' < 0 there, score off).
TEST(ScoreTargets, DoubleWellTargetsAreUnbiasedAndLessNoisy) {
  const TiltedDoubleWell pot(2.0, 0.3, 10.0);
  const double l = 1.0, s2 = std::exp(-l), sd = std::sqrt(s2);
  for (const std::array<double, 2> y : {std::array<double, 2>{0.3, 0.2}, {1.0, 0.2}}) {
    SCOPED_TRACE(y[0]);
    // Per-coordinate 1D posteriors on [-4, 4].
    const int G = 40000;
    const double lo = -4.0, h = 8.0 / G;
    std::array<std::vector<double>, 2> cdf;
    std::array<double, 2> exactMean{};
    for (int d = 0; d < 2; ++d) {
      std::vector<double> w(G);
      double z = 0.0, m = 0.0;
      for (int g = 0; g < G; ++g) {
        const double x = lo + (g + 0.5) * h;
        const double u =
            d == 0 ? pot.h_ * (x * x - 1) * (x * x - 1) + pot.delta_ * x : 0.5 * pot.k_ * x * x;
        w[g] = std::exp(-u - 0.5 * (y[d] - x) * (y[d] - x) / s2);
        z += w[g];
        m += w[g] * x;
      }
      exactMean[d] = m / z;
      cdf[d].resize(G);
      double acc = 0.0;
      for (int g = 0; g < G; ++g) cdf[d][g] = (acc += w[g] / z);
    }
    const int M = 200000;
    Rng rng(5);
    std::vector<double> x0(2 * M), eps(2 * M), ls(M, l), grad(2 * M), energy(M);
    for (int i = 0; i < M; ++i) {
      for (int d = 0; d < 2; ++d) {
        const double u = rng.uniform();
        const int g = std::min<int>(
            G - 1,
            static_cast<int>(std::lower_bound(cdf[d].begin(), cdf[d].end(), u) - cdf[d].begin()));
        x0[2 * i + d] = lo + (g + rng.uniform()) * h;
        eps[2 * i + d] = (y[d] - x0[2 * i + d]) / sd;
      }
    }
    pot.evaluate(x0.data(), M, energy.data(), grad.data());
    const auto t = scoreMixedTargets(pot, 1.0, {}, {}, x0, eps, ls, grad, 1e-4);
    std::array<double, 2> var{}, var0{};
    for (int d = 0; d < 2; ++d) {
      const auto [m, v] = coordinateMoments(t, d, M);
      const auto [m0, v0] = coordinateMoments(x0, d, M);
      var[d] = v;
      var0[d] = v0;
      EXPECT_NEAR(m, exactMean[d], 4.0 * std::sqrt(var[d] / M) + 1e-4) << "coordinate " << d;
      EXPECT_NEAR(m0, exactMean[d], 4.0 * std::sqrt(var0[d] / M) + 1e-4)
          << "plain, coordinate " << d;
      EXPECT_LE(var[d], var0[d] * (1.0 + 1e-12)) << "coordinate " << d;
    }
    EXPECT_LT(var[1], 0.1 * var0[1]) << "harmonic coordinate";
    if (y[0] == 0.3) {
      // U''(0.3) = 4 h (3 x^2 - 1) < 0: the score is off in the double-well coordinate.
      EXPECT_EQ(var[0], var0[0]);
    } else {
      EXPECT_LT(var[0], 0.9 * var0[0]) << "inside the well at x = 1";
    }
  }
}

// Near the edges of a periodic box (the density's support) and at low SNR the target stays x0.
TEST(ScoreTargets, OffNearPeriodicBoxEdgesAndAtLowSnr) {
  const VonMises pot(3.0, 2.0);  // U'' = 3 cos(x - 2) > 0 at every point used below
  const std::vector<double> low{-kPi, -kPi}, high{kPi, kPi};
  // Point 0: y within 3 s of the edge at +pi (l = 4, s = 0.135): off. Point 1: deep inside: on.
  // Point 2: l = -8, sigmoid(-16) ~ 1e-7: essentially off.
  const std::vector<double> ls{4.0, 4.0, -8.0};
  const double s4 = std::exp(-2.0);
  const std::vector<double> x0{3.0, 2.5, 1.8, 2.2, 2.2, 2.3};
  const std::vector<double> eps{(kPi - 0.2 - 3.0) / s4, 0.0, 0.5, -0.5, 0.01, 0.01};
  std::vector<double> grad(6), energy(3);
  pot.evaluate(x0.data(), 3, energy.data(), grad.data());
  const auto t = scoreMixedTargets(pot, 1.0, low, high, x0, eps, ls, grad, 1e-4);
  EXPECT_EQ(t[0], x0[0]);
  EXPECT_EQ(t[1], x0[1]);
  EXPECT_GT(std::abs(t[2] - x0[2]), 1e-3);
  EXPECT_GT(std::abs(t[3] - x0[3]), 1e-3);
  EXPECT_NEAR(t[4], x0[4], 1e-5);
  EXPECT_NEAR(t[5], x0[5], 1e-5);
  // Without box edges the first point is mixed too.
  const auto free = scoreMixedTargets(pot, 1.0, {}, {}, x0, eps, ls, grad, 1e-4);
  EXPECT_GT(std::abs(free[0] - x0[0]), 1e-3);
}

// Training with score targets on Gaussian data learns the closed-form posterior mean, and at high l
// (where the plain target is noisiest relative to the posterior width) more accurately.
TEST(DenoiserTraining, ScoreTargetsLearnTheGaussianPosteriorMean) {
  const double s = 0.5;
  const std::array<double, 2> c{0.7, -0.4};
  const std::vector<std::array<double, 2>> means{c};
  const std::vector<double> weights{1.0};
  const auto data = mixtureSamples(means, weights, s, 20000, 1);
  TrainingSettings settings = smallSettings();
  settings.scorePotential = std::make_shared<Harmonic>(1.0 / (s * s), c);
  DenoiserNetwork net = trainDenoiser(data, settings);
  const double rms = rmsPosteriorMeanError(net, means, weights, s);
  EXPECT_LT(rms, 0.05 * s) << "RMS |D - E[x0|z]| over l in [-4, 4]";
  DenoiserNetwork plain = trainDenoiser(data, smallSettings());
  EXPECT_LT(rms, rmsPosteriorMeanError(plain, means, weights, s));
}

// training.budget: steps: a refinement round that takes wall time (here a 1.5 s pause) must not
// move the learning-rate schedule or the later rounds, so a time cap that the run never reaches
// leaves the network bit-identical to a run without a cap; with budget "both" the pause uses up
// part of the 4 s budget and the network differs.
TEST(DenoiserTraining, StepsBudgetIgnoresWallTimeInTheSchedule) {
  const auto data = mixtureSamples({{0.0, 0.0}}, {1.0}, 1.0, 2000, 3);
  TrainingSettings s = smallSettings();
  s.maxSteps = 60;
  s.batchSize = 128;
  s.refineRounds = 2;
  s.refineStart = 0.1;
  s.refineEnd = 0.5;
  s.refineFraction = 0.1;
  std::vector<long long> seenAt;
  const BankRefiner slowRefiner = [&](const DenoiserNetwork& net, int round) {
    seenAt.push_back(static_cast<long long>(round));
    if (round == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    PosteriorBank b;
    b.l = torch::full({4}, 1.0, torch::kFloat64);
    b.x = torch::full({4, 2}, 0.3, torch::kFloat64);
    b.target = torch::full({4, 2}, 0.5, torch::kFloat64);
    b.drawn = 4;
    (void)net;
    return b;
  };
  s.budget = "steps";
  s.maxSeconds = 1e6;
  DenoiserNetwork uncapped = trainDenoiser(data, s, {}, slowRefiner);
  s.maxSeconds = 4.0;
  DenoiserNetwork capped = trainDenoiser(data, s, {}, slowRefiner);
  EXPECT_EQ(capped->meta.steps, 60);
  EXPECT_TRUE(sameWeights(uncapped, capped));
  s.budget = "both";
  DenoiserNetwork both = trainDenoiser(data, s, {}, slowRefiner);
  EXPECT_FALSE(sameWeights(uncapped, both));
  EXPECT_EQ(seenAt, (std::vector<long long>{0, 1, 0, 1, 0, 1}));
  s.budget = "weeks";
  EXPECT_THROW(trainDenoiser(data, s), std::invalid_argument);
}

TEST(DenoiserTraining, SummaryWarnsWhenTheTimeCapStoppedTheRun) {
  TrainingSummary s;
  s.outputFile = "net.pt";
  s.samples = 100;
  s.maxSteps = 3000;
  s.maxSeconds = 280;
  s.budget = "steps";
  s.steps = 3000;
  EXPECT_EQ(formatTrainingSummary(s).find("warning"), std::string::npos);
  s.steps = 2551;
  const std::string text = formatTrainingSummary(s);
  EXPECT_NE(text.find("training.max_seconds (280 s) stopped the run after 2551 of 3000 steps"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("raise training.max_seconds"), std::string::npos) << text;
  s.budget = "both";  // the schedule follows wall time anyway: only the fact is reported
  const std::string both = formatTrainingSummary(s);
  EXPECT_NE(both.find("2551 of 3000 steps"), std::string::npos);
  EXPECT_EQ(both.find("raise training.max_seconds"), std::string::npos);
}

// The neural and the quadrature denoiser agree where both run, in D = 2 and D = 3 (issue 20): a
// network trained on Langevin samples of the double well with a harmonic direction (or two) gives
// Tweedie's mu = (E[x0 | z], E[|x0|^2 | z]) close to the quadrature's exact mu at points of the
// forward process near the data (docs/method.md, "Dimensions").
TEST(DenoiserTraining, NeuralMuAgreesWithTheQuadratureInTwoAndThreeDimensions) {
  for (int D : {2, 3}) {
    SCOPED_TRACE("D = " + std::to_string(D));
    const DoubleWellND u(D, 2.0, 4.0, 0.0);
    const std::vector<double> low(D, -2.5), high(D, 2.5);
    const torch::Tensor samples =
        langevinSamples(u, 1.0, low, high, 20000, 300, 1e-3, 21, 2, LangevinStart::Boltzmann);
    TrainingSettings s = smallSettings();
    s.maxSteps = 1500;
    s.dataLow = low;
    s.dataHigh = high;
    const auto net = TorchDenoiser::fromNetwork(trainDenoiser(samples, s));
    ASSERT_EQ(net->dimension(), D);
    const auto exact = QuadratureDenoiser::fromPotentialOnBox(
        u, 1.0, Eigen::VectorXd::Constant(D, -2.5), Eigen::VectorXd::Constant(D, 2.5),
        Eigen::VectorXi::Constant(D, D == 2 ? 80 : 32), 2);
    std::vector<Eigen::VectorXd> zs;
    for (double l : {-1.0, 1.0, 3.0}) {
      for (double y0 : {-1.0, -0.3, 0.4, 1.0}) {
        Eigen::VectorXd y = Eigen::VectorXd::Constant(D, 0.2);
        y[0] = y0;
        zs.push_back(spacetimePoint(l, y));
      }
    }
    Eigen::MatrixXd z(static_cast<Eigen::Index>(zs.size()), D + 1);
    for (std::size_t i = 0; i < zs.size(); ++i) z.row(static_cast<Eigen::Index>(i)) = zs[i];
    std::vector<PosteriorMoments> a, b;
    net->evaluate(z, false, a);
    exact->evaluate(z, false, b);
    double sx = 0.0, sq = 0.0;
    for (std::size_t i = 0; i < zs.size(); ++i) {
      sx += (a[i].mu.head(D) - b[i].mu.head(D)).squaredNorm() / D;
      const double r = (a[i].mu[D] - b[i].mu[D]) / b[i].mu[D];
      sq += r * r;
    }
    const double n = static_cast<double>(zs.size());
    EXPECT_LT(std::sqrt(sx / n), 0.05) << "RMS of E[x0 | z], network against quadrature";
    EXPECT_LT(std::sqrt(sq / n), 0.1) << "relative RMS of E[|x0|^2 | z]";
    RecordProperty("rms_mean_D" + std::to_string(D), std::to_string(std::sqrt(sx / n)));
    RecordProperty("rms_second_D" + std::to_string(D), std::to_string(std::sqrt(sq / n)));
  }
}

// D = 4, beyond the quadrature: `geotps train-denoiser` trains on the 4-dimensional density and
// `geotps run` runs the pipeline on the network, without an exact reference (issue 20).
TEST(TrainDenoiserCli, FourDimensionalDoubleWellTrainsAndRunsOnTheNetwork) {
  const fs::path dir = freshDir("dw4");
  {
    std::ofstream(dir / "dw4.yaml")
        << "name: dw4\nseed: 1\npotential:\n  type: double_well_nd\n  dimension: 4\n"
           "  coupling: 0.7\nstates:\n  a: [-1.0, 0.0, 0.0, 0.0]\n  b: [1.0, 0.0, 0.0, 0.0]\n"
           "denoiser:\n  type: torch\n  model: dw4.pt\n  grid_size: [12, 12, 12, 12]\n"
           "  box_low: [-2.0, -1.5, -1.5, -1.5]\n  box_high: [2.0, 2.2, 2.2, 2.2]\n"
           "training:\n  n_samples: 8000\n  langevin_steps: 300\n  hidden: 32\n  layers: 2\n"
           "  posterior_bank: 2000\n  batch_size: 512\n  max_steps: 400\n  budget: steps\n"
           "  threads: 1\n  output: dw4.pt\n"
           "geodesic:\n  n_points: 32\n  n_nodes: 6\n  max_iterations: 100\n"
           "  negative_terms: absolute\nsampler:\n  n_paths: 16\n  steps_per_point: 32\n"
           "  step_size: 5.0e-4\n";
  }
  const auto trained = runGeotps("train-denoiser dw4.yaml --quiet", dir);
  ASSERT_EQ(trained.exitCode, 0) << trained.err;
  const auto ran = runGeotps("run dw4.yaml --quiet --out dw4.h5", dir);
  ASSERT_EQ(ran.exitCode, 0) << ran.err;
  H5File f((dir / "dw4.h5").string(), H5File::Mode::Read);
  EXPECT_EQ(f.shape("/curve/x"), (std::vector<std::size_t>{32, 4}));
  EXPECT_EQ(f.shape("/paths/final_position"), (std::vector<std::size_t>{16, 4}));
  EXPECT_EQ(f.readAttributeString("/", "denoiser"), "network");
  EXPECT_LT(f.readAttributeDouble("/summary", "geodesic_energy"),
            f.readAttributeDouble("/summary", "straight_line_energy"));
  EXPECT_TRUE(std::isnan(f.readAttributeDouble("/summary", "geodesic_energy_exact")));
}

// A molecule with three CVs (phi, psi and C-N-CA-CB of alanine dipeptide), which no surface spans:
// `train-denoiser` with training.source md samples the CVs by the molecule's own dynamics and
// trains a 3-dimensional network; `geotps run` on the same config computes the geodesic on it and
// samples full-atom paths with the three-torsion restraint. The result holds D = 3 CV columns named
// by cv_labels, no CV MaxEnergy (NaN) and no exact energy (NaN).
TEST(TrainDenoiserCli, MdSourceTrainsAThreeCVMoleculeAndRunsOnIt) {
  const fs::path dir = freshDir("md3");
  const std::string data = (fs::path(GEOTPS_SOURCE_DIR) / "data/alanine_dipeptide").string();
  std::ofstream(dir / "three.yaml")
      << "name: three\npotential:\n  type: openmm\n  system: " << data << "/system.xml\n"
      << "  pdb_a: " << data << "/extended.pdb\n  pdb_b: " << data << "/c7ax.pdb\n"
      << "  platform: Reference\ncv:\n  variables: [phi 2, psi 2, 4 6 8 10]\n"
      << "states:\n  a: [-2.645, 2.794, 1.488]\n  b: [1.068, -0.720, -1.191]\n"
      << "denoiser:\n  type: torch\n  model: results/three_denoiser.pt\n"
      << "training:\n  source: md\n  md_walkers: 2\n  md_equilibration: 0\n  md_steps: 400\n"
      << "  md_stride: 10\n  n_samples: 80\n  hidden: 16\n  layers: 1\n  batch_size: 32\n"
      << "  posterior_bank: 200\n  max_steps: 20\n  threads: 1\n"
      << "geodesic:\n  n_points: 16\n  n_nodes: 4\n  max_iterations: 20\n"
      << "sampler:\n  n_paths: 2\n  steps_per_point: 5\noutput:\n  frame_stride: 5\n";
  auto r = runGeotps("train-denoiser three.yaml --quiet", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  DenoiserNetwork net = loadDenoiser((dir / "results" / "three_denoiser.pt").string());
  EXPECT_EQ(net->meta.dimension, 3);
  EXPECT_EQ(net->meta.source.rfind("md: CVs (phi 2, psi 2, torsion 4-6-8-10) of every 1-th of 80 "
                                   "points, 2 walkers",
                                   0),
            0u)
      << net->meta.source;
  EXPECT_EQ(net->meta.dataLow, std::vector<double>(3, -kPi));
  r = runGeotps("run three.yaml --quiet -o out.h5", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  H5File f((dir / "out.h5").string(), H5File::Mode::Read);
  const auto shape = f.shape("/full_atom/cv");
  ASSERT_EQ(shape.size(), 3u);
  EXPECT_EQ(shape[0], 2u);
  EXPECT_EQ(shape[1], 16u * 5u);
  EXPECT_EQ(shape[2], 3u);
  EXPECT_EQ(f.shape("/curve/z")[1], 4u);  // (l, x_1, x_2, x_3)
  EXPECT_EQ(f.readAttributeString("/full_atom", "cv_labels"), "phi 2, psi 2, torsion 4-6-8-10");
  for (double e : f.readDoubles("/paths/max_energy_cv")) EXPECT_TRUE(std::isnan(e));
  EXPECT_TRUE(std::isnan(f.readAttributeDouble("/summary", "geodesic_energy_exact")));
  for (double e : f.readDoubles("/paths/max_energy_full_atom")) EXPECT_TRUE(std::isfinite(e));

  // Walkers started from B and reversed in time (D CV columns turned round with the frames): each
  // path's last row is one step of dynamics from the minimised state B, within 0.3 rad of states.b.
  r = runGeotps("run three.yaml --quiet -o rev.h5 --set sampler.direction=reverse", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  H5File rev((dir / "rev.h5").string(), H5File::Mode::Read);
  ASSERT_EQ(rev.shape("/full_atom/cv"), shape);
  const auto cv = rev.readDoubles("/full_atom/cv");
  const std::vector<double> b{1.068, -0.720, -1.191};
  for (std::size_t p = 0; p < 2; ++p) {
    for (std::size_t d = 0; d < 3; ++d) {
      const double last = cv[(p * shape[1] + shape[1] - 1) * 3 + d];
      EXPECT_LT(std::abs(std::remainder(last - b[d], 2 * kPi)), 0.3) << "path " << p << " cv " << d;
    }
  }
}
