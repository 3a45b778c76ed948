// Tests for the annealed Langevin sampler (docs/method.md, "Annealed Langevin sampling"):
// stationary statistics on Gaussian targets against the exact stationary law of the Euler-Maruyama
// chain, the tethered posterior of a Gaussian density, reproducibility across thread counts, frame
// storage, the MaxEnergy bookkeeping and the step-size failure.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "engine//config/config.h"
#include "engine/io/h5_file.h"
#include "engine/pipelines/run.h"
#include "engine/samplers/annealed_langevin.h"
#include "engine/samplers/full_atom_sampler.h"
#include "engine/samplers/sampler.h"
#include "potentials/analytic_potentials.h"
#include "potentials/potential.h"
#include "tests/test_support.h"

namespace geotps {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// U(x) = k/2 |x - c|^2.
class Harmonic final : public Potential {
 public:
  Harmonic(double k, VectorXd c) : k_(k), c_(std::move(c)) {}
  int dimension() const override { return static_cast<int>(c_.size()); }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override {
    const int D = dimension();
    for (std::size_t i = 0; i < n; ++i) {
      double u = 0.0;
      for (int d = 0; d < D; ++d) {
        const double r = x[i * D + d] - c_[d];
        u += r * r;
        if (gradient) gradient[i * D + d] = k_ * r;
      }
      energy[i] = 0.5 * k_ * u;
    }
  }
  std::string name() const override { return "harmonic"; }

 private:
  double k_;
  VectorXd c_;
};

VectorXd vec2(double a, double b) {
  VectorXd v(2);
  v << a, b;
  return v;
}

// N rows of the constant spacetime point (l, x).
MatrixXd constantCurve(int N, double l, const VectorXd& x) {
  MatrixXd c(N, 1 + x.size());
  for (int n = 0; n < N; ++n) {
    c(n, 0) = l;
    c.row(n).tail(x.size()) = x.transpose();
  }
  return c;
}

// Statistics of stored frames [firstFrame, storedPerPath) of every walker, pooled over walkers.
// Frames `lag` steps apart are treated as independent (checked by the caller's choice of stride).
struct Stats {
  VectorXd mean;
  VectorXd var;  // per coordinate
  long long count = 0;
};

Stats frameStats(const SamplerResult& r, int M, std::size_t firstFrame) {
  const int D = r.dimension;
  Stats s;
  s.mean = VectorXd::Zero(D);
  VectorXd sq = VectorXd::Zero(D);
  for (int i = 0; i < M; ++i) {
    for (std::size_t f = firstFrame; f < r.storedPerPath; ++f) {
      for (int d = 0; d < D; ++d) {
        const double x = r.frames[(static_cast<std::size_t>(i) * r.storedPerPath + f) * D + d];
        s.mean[d] += x;
        sq[d] += x * x;
      }
      ++s.count;
    }
  }
  s.mean /= static_cast<double>(s.count);
  s.var = sq / static_cast<double>(s.count) - s.mean.cwiseProduct(s.mean);
  s.var *= static_cast<double>(s.count) / (s.count - 1.0);
  return s;
}

// Checks a sample against N(mean, v I): the mean of the final positions within 4 standard errors,
// their variance within 4 standard errors of a variance estimate, and the (much larger) pooled
// sample of well-separated frames for a tighter variance check.
void checkGaussian(const SamplerResult& r, int M, const VectorXd& mean, double v,
                   std::size_t burnFrames) {
  const int D = r.dimension;
  // Final positions.
  const VectorXd fm = r.finalPositions.colwise().mean();
  double fvar = 0.0;
  for (int d = 0; d < D; ++d) {
    EXPECT_NEAR(fm[d], mean[d], 4.0 * std::sqrt(v / M)) << "final mean, coordinate " << d;
    fvar += (r.finalPositions.col(d).array() - fm[d]).square().sum() / (M - 1.0);
  }
  fvar /= D;
  EXPECT_NEAR(fvar / v, 1.0, 4.0 * std::sqrt(2.0 / (D * (M - 1.0)))) << "final variance";
  // Pooled frames after burn-in.
  const Stats s = frameStats(r, M, burnFrames);
  const double n = static_cast<double>(s.count);
  for (int d = 0; d < D; ++d) {
    EXPECT_NEAR(s.mean[d], mean[d], 4.0 * std::sqrt(v / n)) << "pooled mean, coordinate " << d;
  }
  const double pooledVar = s.var.mean();
  const double tol = std::min(0.05, 4.0 * std::sqrt(2.0 / (D * n)));
  EXPECT_NEAR(pooledVar / v, 1.0, tol) << "pooled variance " << pooledVar << " vs " << v;
}

// The overdamped Langevin chain x' = x - (ds/2) P (x - m) + sqrt(ds) xi (U in kT) is a discretised
// OU process whose stationary law is N(m, v I) with v = ds / (1 - (1 - ds P / 2)^2) = 1 / (P (1 -
// ds P / 4)): exact for the chain, not just to O(ds).
double discreteOUVariance(double precision, double ds) {
  return 1.0 / (precision * (1.0 - ds * precision / 4.0));
}

TEST(AnnealedLangevin, SamplesHarmonicTargetWithoutTether) {
  const double k = 10.0, kT = 1.0;
  const VectorXd c = vec2(0.7, -1.2);
  Harmonic pot(k, c);
  SamplerSettings s;
  s.nPaths = 2000;
  s.stepsPerPoint = 500;
  s.stepSize = 1e-2;
  s.kT = kT;
  s.threads = 2;
  s.seed = 12345;
  // Stored frames 100 steps apart: the chain's correlation (1 - ds k / 2)^100 = 0.95^100 = 0.006.
  s.frameStride = 100;
  // l = -30: tether stiffness e^-30, i.e. no tether.
  const MatrixXd curve = constantCurve(4, -30.0, vec2(0.0, 0.0));
  const SamplerResult r = sampleAnnealedLangevin(pot, curve, c + vec2(2.0, -1.5), s);
  ASSERT_EQ(r.storedPerPath, 20u);
  const double v = discreteOUVariance(k / kT, s.stepSize);  // 0.1 / (1 - 0.025)
  // Burn-in: 5 stored frames = 500 steps, the start offset decays by 0.95^500 ~ 1e-11.
  checkGaussian(r, s.nPaths, c, v, 5);
}

TEST(AnnealedLangevin, HarmonicTargetScalesWithTemperature) {
  // kT = 2.5: the target is N(c, kT/k) and the chain has precision k/kT.
  const double k = 25.0, kT = 2.5;
  const VectorXd c = vec2(-0.4, 0.9);
  Harmonic pot(k, c);
  SamplerSettings s;
  s.nPaths = 1000;
  s.stepsPerPoint = 500;
  s.stepSize = 1e-2;
  s.kT = kT;
  s.threads = 2;
  s.seed = 7;
  s.frameStride = 100;
  const MatrixXd curve = constantCurve(3, -30.0, vec2(0.0, 0.0));
  const SamplerResult r = sampleAnnealedLangevin(pot, curve, c, s);
  checkGaussian(r, s.nPaths, c, discreteOUVariance(k / kT, s.stepSize), 5);
}

TEST(AnnealedLangevin, SamplesTetheredGaussianPosterior) {
  // q = N(m, s0^2 I), i.e. U = |x - m|^2 / (2 s0^2) at kT = 1. At z = (l, x) the posterior is
  // N(mean, I / P) with P = 1/s0^2 + alpha^2/sigma^2 and mean = (m/s0^2 + alpha/sigma^2 x) / P.
  const VectorXd m = vec2(0.3, -0.2);
  const double s0 = 0.5;
  Harmonic pot(1.0 / (s0 * s0), m);
  const double l = 1.0;
  const double a2 = 1.0 / (1.0 + std::exp(-l)), sg2 = 1.0 / (1.0 + std::exp(l));
  const VectorXd x = std::sqrt(a2) * vec2(1.4, 0.6);
  const double P = 1.0 / (s0 * s0) + a2 / sg2;
  const VectorXd mean = (m / (s0 * s0) + std::sqrt(a2) / sg2 * x) / P;
  SamplerSettings s;
  s.nPaths = 2000;
  s.stepsPerPoint = 500;
  s.stepSize = 1e-2;
  s.threads = 2;
  s.seed = 99;
  s.frameStride = 100;  // correlation (1 - ds P / 2)^100 ~ 0.034
  const SamplerResult r = sampleAnnealedLangevin(pot, constantCurve(4, l, x), m, s);
  checkGaussian(r, s.nPaths, mean, discreteOUVariance(P, s.stepSize), 5);
  // The tether matters here: the untethered target has mean m, far outside the error bars.
  EXPECT_GT((mean - m).norm(), 10.0 * std::sqrt(1.0 / (P * s.nPaths)));
}

MatrixXd rampCurve(int N) {
  // From (-1, 0) to (1, 0) through noise: l goes 3 -> -1 -> 3.
  MatrixXd c(N, 3);
  for (int n = 0; n < N; ++n) {
    const double t = static_cast<double>(n) / (N - 1);
    const double l = 3.0 - 4.0 * std::sin(3.14159265358979 * t);
    const double alpha = std::sqrt(1.0 / (1.0 + std::exp(-l)));
    c(n, 0) = l;
    c(n, 1) = alpha * (2 * t - 1);
    c(n, 2) = 0.0;
  }
  return c;
}

TEST(AnnealedLangevin, ReproducibleAcrossThreadCounts) {
  DoubleWell pot(5.0, 10.0);
  SamplerSettings s;
  s.nPaths = 77;  // not a multiple of the internal batch size
  s.stepsPerPoint = 20;
  s.stepSize = 1e-3;
  s.seed = 2024;
  s.frameStride = 1;
  const MatrixXd curve = rampCurve(5);
  const VectorXd start = vec2(-1.0, 0.0);
  s.threads = 1;
  const SamplerResult r1 = sampleAnnealedLangevin(pot, curve, start, s);
  s.threads = 2;
  const SamplerResult r2 = sampleAnnealedLangevin(pot, curve, start, s);
  s.threads = 3;
  const SamplerResult r3 = sampleAnnealedLangevin(pot, curve, start, s);
  ASSERT_EQ(r1.frames.size(), 77u * 100u * 2u);
  for (const SamplerResult* r : {&r2, &r3}) {
    ASSERT_EQ(r->frames.size(), r1.frames.size());
    EXPECT_EQ(std::memcmp(r->frames.data(), r1.frames.data(), r1.frames.size() * sizeof(float)), 0);
    ASSERT_EQ(r->maxEnergy.size(), 77);
    EXPECT_EQ(std::memcmp(r->maxEnergy.data(), r1.maxEnergy.data(), 77 * sizeof(double)), 0);
    EXPECT_EQ(
        std::memcmp(r->finalPositions.data(), r1.finalPositions.data(), 77 * 2 * sizeof(double)),
        0);
  }
  s.seed = 2025;
  const SamplerResult other = sampleAnnealedLangevin(pot, curve, start, s);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < r1.frames.size(); ++i) differing += (other.frames[i] != r1.frames[i]);
  EXPECT_GT(differing, r1.frames.size() * 9 / 10);
  EXPECT_NE(other.maxEnergy, r1.maxEnergy);
  // Different walkers of one run follow different noise.
  EXPECT_NE(r1.finalPositions.row(0), r1.finalPositions.row(1));
}

TEST(AnnealedLangevin, FrameStrideStorageAndCounts) {
  DoubleWell pot(5.0, 10.0);
  SamplerSettings s;
  s.nPaths = 40;
  s.stepsPerPoint = 20;
  s.stepSize = 1e-3;
  s.seed = 5;
  s.threads = 2;
  const MatrixXd curve = rampCurve(3);  // N*K = 60 frames
  const VectorXd start = vec2(-1.0, 0.0);
  const int M = 40, N = 3, K = 20, D = 2;

  s.frameStride = 1;
  const SamplerResult all = sampleAnnealedLangevin(pot, curve, start, s);
  EXPECT_EQ(all.framesPerPath, 60u);
  EXPECT_EQ(all.storedPerPath, 60u);
  EXPECT_EQ(all.dimension, 2);
  EXPECT_EQ(all.energyEvaluations, static_cast<long long>(M) * N * K + M);
  EXPECT_EQ(all.nearestLookups, 0);

  for (int stride : {5, 7, 60}) {
    s.frameStride = stride;
    const SamplerResult r = sampleAnnealedLangevin(pot, curve, start, s);
    SCOPED_TRACE(stride);
    EXPECT_EQ(r.framesPerPath, 60u);
    EXPECT_EQ(r.storedPerPath, static_cast<std::size_t>(60 / stride));
    ASSERT_EQ(r.frames.size(), static_cast<std::size_t>(M) * r.storedPerPath * D);
    EXPECT_EQ(r.energyEvaluations, static_cast<long long>(M) * N * K + M);
    // Stored frame j is frame (j+1)*stride - 1 of the full record.
    for (int i = 0; i < M; ++i) {
      for (std::size_t j = 0; j < r.storedPerPath; ++j) {
        const std::size_t f = (j + 1) * stride - 1;
        for (int d = 0; d < D; ++d) {
          ASSERT_EQ(r.frames[(i * r.storedPerPath + j) * D + d], all.frames[(i * 60 + f) * D + d])
              << "walker " << i << " stored frame " << j;
        }
      }
      if (60 % stride == 0) {
        // The last stored frame is the final position.
        for (int d = 0; d < D; ++d) {
          EXPECT_EQ(r.frames[(i * r.storedPerPath + r.storedPerPath - 1) * D + d],
                    static_cast<float>(r.finalPositions(i, d)));
        }
      }
    }
    EXPECT_EQ(r.finalPositions, all.finalPositions);
    EXPECT_EQ(r.maxEnergy, all.maxEnergy);
  }
  s.frameStride = 0;
  const SamplerResult none = sampleAnnealedLangevin(pot, curve, start, s);
  EXPECT_EQ(none.storedPerPath, 0u);
  EXPECT_TRUE(none.frames.empty());
  EXPECT_EQ(none.finalPositions, all.finalPositions);
}

TEST(AnnealedLangevin, MaxEnergyIsTheMaximumOverStoredFrames) {
  // Start far up a harmonic well: U(start) = 90 exceeds U of every frame, so including the start
  // state in MaxEnergy (it is not a frame) would be caught.
  const VectorXd c = vec2(0.2, -0.1);
  Harmonic pot(10.0, c);
  SamplerSettings s;
  s.nPaths = 50;
  s.stepsPerPoint = 30;
  s.stepSize = 1e-3;
  s.seed = 11;
  s.threads = 2;
  s.frameStride = 1;
  const MatrixXd curve = rampCurve(4);
  const VectorXd start = c + vec2(3.0, 3.0);
  // A second energy: the first coordinate of the position.
  const EnergyLookup lookup = [](const double* x) { return x[0]; };
  const SamplerResult r = sampleAnnealedLangevin(pot, curve, start, s, lookup);
  EXPECT_EQ(r.nearestLookups, 50LL * 4 * 30);
  const int D = 2;
  for (int i = 0; i < s.nPaths; ++i) {
    double maxU = -std::numeric_limits<double>::infinity();
    double maxX = -std::numeric_limits<double>::infinity();
    for (std::size_t f = 0; f < r.storedPerPath; ++f) {
      const float* p = &r.frames[(i * r.storedPerPath + f) * D];
      const double x[2] = {p[0], p[1]};
      maxU = std::max(maxU, pot.energy(x));
      maxX = std::max(maxX, x[0]);
    }
    // Frames are stored as float: allow for their rounding (|grad U| ~ 40, |x| ~ 3).
    EXPECT_NEAR(r.maxEnergy[i], maxU, 1e-4) << "walker " << i;
    EXPECT_LT(r.maxEnergy[i], pot.energy(start.data()) - 0.1);
    EXPECT_NEAR(r.maxEnergyNearest[i], maxX, 1e-6) << "walker " << i;
  }
}

TEST(AnnealedLangevin, TooLargeStepThrowsSamplerError) {
  Harmonic pot(100.0, vec2(0.0, 0.0));
  SamplerSettings s;
  s.nPaths = 8;
  s.stepsPerPoint = 200;
  s.stepSize = 10.0;  // 1 - ds k / 2 = -499: the chain blows up
  s.threads = 2;
  s.frameStride = 0;
  EXPECT_THROW(
      sampleAnnealedLangevin(pot, constantCurve(3, -30.0, vec2(0.0, 0.0)), vec2(0.1, 0.1), s),
      SamplerError);
  // The same run with a stable step does not throw.
  s.stepSize = 1e-3;
  EXPECT_NO_THROW(
      sampleAnnealedLangevin(pot, constantCurve(3, -30.0, vec2(0.0, 0.0)), vec2(0.1, 0.1), s));
}

}  // namespace
}  // namespace geotps

namespace geotps {

// reverseInTime() on a hand-made result: 2 paths of 3 stored 2D frames whose values encode
// (path, frame, coordinate), and a full-atom part of 2 atoms with 3 observed energies and CVs.
TEST(SamplerDirection, ReverseInTimeReversesEveryPathAndSwapsItsEnds) {
  SamplerResult r;
  r.dimension = 2;
  r.framesPerPath = 3;
  r.storedPerPath = 3;
  auto code = [](int p, int k, int d) { return static_cast<float>(100 * p + 10 * k + d); };
  for (int p = 0; p < 2; ++p)
    for (int k = 0; k < 3; ++k)
      for (int d = 0; d < 2; ++d) r.frames.push_back(code(p, k, d));
  r.finalPositions.resize(2, 2);
  r.finalPositions << 1, 2, 3, 4;
  auto fa = std::make_shared<FullAtomPaths>();
  fa->nAtoms = 2;
  fa->framesPerPath = fa->storedPerPath = fa->observedPerPath = 3;
  for (int p = 0; p < 2; ++p)
    for (int k = 0; k < 3; ++k) {
      for (int q = 0; q < 6; ++q) fa->frames.push_back(static_cast<float>(1000 * p + 10 * k + q));
      fa->energy.push_back(static_cast<float>(-10 * p - k));
      fa->cv.push_back(code(p, k, 0));
      fa->cv.push_back(code(p, k, 1));
    }
  fa->finalCV = r.finalPositions;
  r.fullAtom = fa;
  reverseInTime(r, Eigen::Vector2d(-7.0, 8.0));
  for (int p = 0; p < 2; ++p)
    for (int k = 0; k < 3; ++k) {
      for (int d = 0; d < 2; ++d) {
        EXPECT_EQ(r.frames[(p * 3 + k) * 2 + d], code(p, 2 - k, d));
        EXPECT_EQ(fa->cv[(p * 3 + k) * 2 + d], code(p, 2 - k, d));
      }
      for (int q = 0; q < 6; ++q)
        EXPECT_EQ(fa->frames[(p * 3 + k) * 6 + q], static_cast<float>(1000 * p + 10 * (2 - k) + q));
      EXPECT_EQ(fa->energy[p * 3 + k], static_cast<float>(-10 * p - (2 - k)));
    }
  ASSERT_EQ(r.startPositions.rows(), 2);
  EXPECT_EQ(r.startPositions(1, 0), 3.0);
  EXPECT_EQ(r.startPositions(1, 1), 4.0);
  for (int p = 0; p < 2; ++p) {
    EXPECT_EQ(r.finalPositions(p, 0), -7.0);
    EXPECT_EQ(r.finalPositions(p, 1), 8.0);
    EXPECT_EQ(fa->finalCV(p, 0), -7.0);
  }
}

// Mueller-Brown with the states swapped: A the second minimum, B the deepest. U in closed form
// (the 1979 parameters, scaled by the config's energy_scale) is lower at B, so
// sampler.direction auto walks from B and reverses the paths; every path then ends at B exactly,
// starts where its walker arrived, and succeeds when that start lies within the radius of A.
TEST(SamplerDirection, AutoStartsTwoDimensionalWalkersAtTheLowerState) {
  auto mb = [](double x, double y) {
    const double A[4] = {-200, -100, -170, 15}, a[4] = {-1, -1, -6.5, 0.7},
                 b[4] = {0, 0, 11, 0.6}, c[4] = {-10, -10, -6.5, 0.7}, x0[4] = {1, 0, -0.5, -1},
                 y0[4] = {0, 0.5, 1.5, 1};
    double u = 0;
    for (int i = 0; i < 4; ++i) {
      const double dx = x - x0[i], dy = y - y0[i];
      u += A[i] * std::exp(a[i] * dx * dx + b[i] * dx * dy + c[i] * dy * dy);
    }
    return 0.1 * u;
  };
  const Eigen::Vector2d a(0.623, 0.028), b(-0.558, 1.442);
  ASSERT_LT(mb(b[0], b[1]), mb(a[0], a[1]));
  const std::filesystem::path dir =
      std::filesystem::path(testing::TempDir()) / "geotps_direction_2d";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const std::string direction : {"auto", "forward"}) {
    Config c = Config::load(std::string(GEOTPS_SOURCE_DIR) + "/configs/mueller_brown.yaml");
    for (const std::string& set : std::vector<std::string>{
             "states.a=[0.623,0.028]", "states.b=[-0.558,1.442]", "sampler.n_paths=40",
             "geodesic.max_iterations=300", "sampler.direction=" + direction}) {
      c.setFromCommandLine(set);
    }
    const std::string output = (dir / (direction + ".h5")).string();
    test::runJobQuietly(c, output);
    H5File f(output, H5File::Mode::Read);
    const bool reversed = direction == "auto";
    EXPECT_EQ(f.readAttributeString("/paths", "direction"), reversed ? "reverse" : "forward");
    EXPECT_EQ(f.exists("/paths/start_position"), reversed);
    if (!reversed) continue;
    const auto finals = f.readDoubles("/paths/final_position");
    const auto starts = f.readDoubles("/paths/start_position");
    const auto success = f.readDoubles("/paths/success");
    const auto frames = f.readDoubles("/paths/frames");  // M x stored x 2
    const std::size_t stored = f.shape("/paths/frames")[1];
    ASSERT_EQ(success.size(), 40u);
    int succeeded = 0;
    for (std::size_t i = 0; i < 40; ++i) {
      EXPECT_EQ(finals[2 * i], b[0]);
      EXPECT_EQ(finals[2 * i + 1], b[1]);
      const double d = std::hypot(starts[2 * i] - a[0], starts[2 * i + 1] - a[1]);
      EXPECT_EQ(success[i], d <= 0.2 ? 1.0 : 0.0) << "path " << i;
      succeeded += success[i] > 0;
      // The first stored frame is the walker's last: the point it arrived at (float32).
      EXPECT_NEAR(frames[i * stored * 2], starts[2 * i], 1e-6);
      EXPECT_NEAR(frames[i * stored * 2 + 1], starts[2 * i + 1], 1e-6);
      // The last stored frame lies near B, where the walker started.
      const double* last = &frames[(i * stored + stored - 1) * 2];
      EXPECT_LT(std::hypot(last[0] - b[0], last[1] - b[1]), 0.3) << "path " << i;
    }
    EXPECT_GE(succeeded, 30);
  }
}

}  // namespace geotps
