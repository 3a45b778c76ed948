// Tests for two-way shooting (engine/baselines/shooting.h) on a 2D double well U = h (x^2 - 1)^2 +
// k y^2 / 2: every accepted path connects A and B, variable-length paths stop on entering a state,
// the evaluation count equals the integration steps (counted by the potential itself),
// reproducibility across thread counts, and the helpers that cut and resample the initial path.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "engine/baselines/settings.h"
#include "engine/baselines/shooting.h"
#include "potentials/analytic_potentials.h"

namespace geotps {
namespace {

/// Wraps a potential and counts the points evaluated with a gradient (the dynamics' steps).
class CountingPotential final : public Potential {
 public:
  explicit CountingPotential(const Potential& inner) : inner_(inner) {}
  int dimension() const override { return inner_.dimension(); }
  void evaluate(const double* x, std::size_t n, double* e, double* g) const override {
    if (g) gradientPoints_ += static_cast<long long>(n);
    inner_.evaluate(x, n, e, g);
  }
  std::string name() const override { return "counting"; }
  long long gradientPoints() const { return gradientPoints_.load(); }

 private:
  const Potential& inner_;
  mutable std::atomic<long long> gradientPoints_{0};
};

StateBalls wellStates() {
  StateBalls s;
  s.a = Eigen::Vector2d(-1.0, 0.0);
  s.b = Eigen::Vector2d(1.0, 0.0);
  s.radiusA = s.radiusB = 0.3;
  return s;
}

// Box states: membership per coordinate on the circle for periodic coordinates (an arc may run
// through +-pi), on the line otherwise; an interval at least one period long is the whole circle.
TEST(Shooting, BoxStatesOnTheCircleAndOnTheLine) {
  constexpr double kPi = 3.14159265358979323846;
  StateBalls s;
  s.a = Eigen::Vector2d(-2.645, 2.794);
  s.b = Eigen::Vector2d(1.07, -0.72);
  s.boxA = {2.75, 2.0 * kPi - 0.8, -3.2, 3.2};  // phi on the arc 2.75 -> +-pi -> -0.8, any psi
  s.period = Eigen::Vector2d::Constant(2.0 * kPi);
  EXPECT_TRUE(s.inA(Eigen::Vector2d(-2.645, 2.794)));
  EXPECT_TRUE(s.inA(Eigen::Vector2d(3.0, -3.1)));   // past +-pi on the phi > 0 side
  EXPECT_TRUE(s.inA(Eigen::Vector2d(-0.81, 0.0)));  // just inside the end at -0.8
  EXPECT_TRUE(s.inA(Eigen::Vector2d(2.76, 1.0)));   // just inside the start at 2.75
  EXPECT_FALSE(s.inA(Eigen::Vector2d(-0.79, 0.0)));
  EXPECT_FALSE(s.inA(Eigen::Vector2d(2.74, 1.0)));
  EXPECT_FALSE(s.inA(Eigen::Vector2d(1.3, 2.8)));  // where a radius-2.4 ball reaches
  EXPECT_FALSE(s.inA(Eigen::Vector2d(0.0, 0.0)));
  // The same point one period away is the same point.
  EXPECT_TRUE(s.inA(Eigen::Vector2d(-2.645 + 2.0 * kPi, 2.794 - 4.0 * kPi)));
  // The ball of radius 2.4 around A does reach past +-pi to phi = 1.3 (why the box exists).
  EXPECT_LE(s.distance(Eigen::Vector2d(1.3, 2.8), s.a), 2.4);
  // B keeps its ball.
  EXPECT_TRUE(s.inB(Eigen::Vector2d(1.07 + 0.49, -0.72)));
  EXPECT_FALSE(s.inB(Eigen::Vector2d(1.07 + 0.51, -0.72)));
  // Not periodic: plain intervals.
  StateBalls line;
  line.boxB = {0.5, 1.5, -0.25, 0.25};
  EXPECT_TRUE(line.inB(Eigen::Vector2d(1.0, 0.0)));
  EXPECT_TRUE(line.inB(Eigen::Vector2d(1.5, 0.25)));
  EXPECT_FALSE(line.inB(Eigen::Vector2d(1.0, 0.3)));
  EXPECT_FALSE(line.inB(Eigen::Vector2d(1.0 + 2.0 * kPi, 0.0)));
}

// mcmc.state_a_box / state_b_box as read: [] keeps the ball, an empty interval is refused with the
// key and the coordinate named.
TEST(Shooting, StateBoxSettings) {
  const std::string states = "states:\n  a: [-1, 0]\n  b: [1, 0]\n";
  const McmcSettings balls = readMcmcSettings(Config::parse(states, "job.yaml", "."));
  EXPECT_TRUE(balls.boxA.empty());
  EXPECT_TRUE(balls.boxB.empty());
  const McmcSettings box = readMcmcSettings(
      Config::parse(states + "mcmc:\n  state_b_box: [0.5, 1.5, -1, 1]\n", "job.yaml", "."));
  EXPECT_EQ(box.boxB, (std::vector<double>{0.5, 1.5, -1, 1}));
  try {
    readMcmcSettings(
        Config::parse(states + "mcmc:\n  state_a_box: [-2, -0.5, 1, 1]\n", "job.yaml", "."));
    ADD_FAILURE() << "an empty interval was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("job.yaml: key 'mcmc.state_a_box': coordinate 1: the "
                                         "interval [1, 1] is empty; expected lo < hi"),
              std::string::npos)
        << e.what();
  }
}

/// A straight line from A to B with `length` frames, observed by `dyn`.
ShootingPath straightPath(ShootingDynamics& dyn, int length) {
  std::vector<double> conf;
  for (int f = 0; f < length; ++f) {
    conf.push_back(-1.0 + 2.0 * f / (length - 1));
    conf.push_back(0.0);
  }
  return observePath(dyn, conf);
}

constexpr double kDs = 4e-3;

TEST(Shooting, FixedLengthPathsConnectStatesAndCountSteps) {
  const DoubleWell well(3.0, 10.0);
  const CountingPotential counting(well);
  const StateBalls states = wellStates();
  auto observer = makeOverdampedDynamics(well, kDs, 1.0);
  const int L = 300;
  ShootingSettings s;
  s.pathLength = L;
  s.maxEvaluations = 1500000;
  s.chains = 2;
  s.threads = 2;
  s.seed = 7;
  s.frameStride = 1;
  const ShootingResult r =
      runShooting([&](int) { return makeOverdampedDynamics(counting, kDs, 1.0); },
                  straightPath(*observer, L), states, s);
  ASSERT_GT(r.accepted.size(), 20u);
  EXPECT_LT(r.accepted.size(), static_cast<std::size_t>(r.trials));
  for (const auto& a : r.accepted) {
    EXPECT_EQ(a.length, L);
    EXPECT_TRUE(states.inA(a.firstCV)) << a.firstCV.transpose();
    EXPECT_TRUE(states.inB(a.lastCV)) << a.lastCV.transpose();
    ASSERT_EQ(a.cvFrames.size(), 2u * L);
    // The stored frames are the path: the first and last agree with the recorded ends.
    EXPECT_FLOAT_EQ(a.cvFrames[0], static_cast<float>(a.firstCV[0]));
    EXPECT_FLOAT_EQ(a.cvFrames[2 * L - 2], static_cast<float>(a.lastCV[0]));
    // MaxEnergy is the largest U over the frames: at least the barrier region is crossed, so
    // it is above U at the states and at most the largest frame value.
    double maxU = -1e300;
    for (int f = 0; f < L; ++f) {
      const double x[2] = {a.cvFrames[2 * f], a.cvFrames[2 * f + 1]};
      maxU = std::max(maxU, well.energy(x));
    }
    EXPECT_NEAR(a.maxEnergy, maxU, 1e-4 * std::max(1.0, maxU));
    EXPECT_GT(a.maxEnergy, 2.0);  // the path crosses x = 0, where U >= 3 - (smaller y term)
  }
  // Every evaluation is an integration step: the potential saw exactly as many gradient points.
  EXPECT_EQ(r.evaluations, counting.gradientPoints());
  // A fixed-length trial integrates at most L - 1 steps; each chain stops once over its budget.
  EXPECT_LE(r.evaluations, r.trials * (L - 1));
  EXPECT_GE(r.evaluations, s.maxEvaluations - 2);
  EXPECT_LT(r.evaluations, s.maxEvaluations + 2 * (L - 1));
}

TEST(Shooting, VariableLengthPathsStopOnEnteringAState) {
  const DoubleWell well(3.0, 10.0);
  const CountingPotential counting(well);
  const StateBalls states = wellStates();
  auto observer = makeOverdampedDynamics(well, kDs, 1.0);
  ShootingSettings s;
  s.variableLength = true;
  s.maxLength = 5000;
  s.maxEvaluations = 300000;
  s.chains = 2;
  s.threads = 1;
  s.seed = 3;
  s.frameStride = 1;
  const ShootingResult r =
      runShooting([&](int) { return makeOverdampedDynamics(counting, kDs, 1.0); },
                  straightPath(*observer, 200), states, s);
  ASSERT_GT(r.accepted.size(), 20u);
  bool lengthsDiffer = false;
  for (const auto& a : r.accepted) {
    ASSERT_EQ(a.cvFrames.size(), 2u * a.length);
    ASSERT_GE(a.length, 3);
    lengthsDiffer |= a.length != r.accepted.front().length;
    for (int f = 0; f < a.length; ++f) {
      const Eigen::Vector2d cv(a.cvFrames[2 * f], a.cvFrames[2 * f + 1]);
      if (f == 0) {
        EXPECT_TRUE(states.inA(cv));
      } else if (f == a.length - 1) {
        EXPECT_TRUE(states.inB(cv));
      } else {
        // Interior frames are outside both states (float storage: allow a hair at the boundary).
        EXPECT_GT(states.distance(cv, states.a), states.radiusA - 1e-5) << "frame " << f;
        EXPECT_GT(states.distance(cv, states.b), states.radiusB - 1e-5) << "frame " << f;
      }
    }
  }
  EXPECT_TRUE(lengthsDiffer);
  EXPECT_EQ(r.evaluations, counting.gradientPoints());
}

TEST(Shooting, ReproducibleAcrossThreadCounts) {
  const DoubleWell well(3.0, 10.0);
  const StateBalls states = wellStates();
  auto observer = makeOverdampedDynamics(well, kDs, 1.0);
  const ShootingPath initial = straightPath(*observer, 150);
  ShootingSettings s;
  s.variableLength = true;
  s.maxLength = 3000;
  s.maxEvaluations = 60000;
  s.chains = 3;
  s.seed = 11;
  auto run = [&](int threads) {
    s.threads = threads;
    return runShooting([&](int) { return makeOverdampedDynamics(well, kDs, 1.0); }, initial, states,
                       s);
  };
  const ShootingResult one = run(1), two = run(2);
  ASSERT_EQ(one.accepted.size(), two.accepted.size());
  EXPECT_EQ(one.trials, two.trials);
  EXPECT_EQ(one.evaluations, two.evaluations);
  for (std::size_t i = 0; i < one.accepted.size(); ++i) {
    EXPECT_EQ(one.accepted[i].maxEnergy, two.accepted[i].maxEnergy);
    EXPECT_EQ(one.accepted[i].length, two.accepted[i].length);
  }
}

// The chain store (compare --resume): every chain run is handed to save() once; a second call
// whose load() gives back chains 0 and 2 runs only chain 1 (counted by the dynamics it creates)
// and returns what the uninterrupted call did.
TEST(Shooting, SavedChainsAreUsedInsteadOfRunAgain) {
  const DoubleWell well(3.0, 10.0);
  const StateBalls states = wellStates();
  auto observer = makeOverdampedDynamics(well, kDs, 1.0);
  const ShootingPath initial = straightPath(*observer, 150);
  ShootingSettings s;
  s.variableLength = true;
  s.maxLength = 3000;
  s.maxEvaluations = 60000;
  s.chains = 3;
  s.threads = 2;
  s.seed = 11;
  std::mutex mutex;
  std::map<int, ChainResult> saved;
  ChainStore store;
  store.save = [&](int chain, const ChainResult& r) {
    const std::lock_guard<std::mutex> lock(mutex);
    EXPECT_TRUE(saved.emplace(chain, r).second) << "chain " << chain << " saved twice";
  };
  std::vector<int> created;
  auto make = [&](int chain) {
    const std::lock_guard<std::mutex> lock(mutex);
    created.push_back(chain);
    return makeOverdampedDynamics(well, kDs, 1.0);
  };
  const ShootingResult whole = runShooting(make, initial, states, s, {}, &store);
  ASSERT_EQ(saved.size(), 3u);
  long long trials = 0;
  for (const auto& [chain, r] : saved) trials += r.trials;
  EXPECT_EQ(trials, whole.trials);

  created.clear();
  ChainStore resumed;
  resumed.load = [&](int chain) -> std::optional<ChainResult> {
    if (chain == 1) return std::nullopt;
    return saved.at(chain);
  };
  const ShootingResult again = runShooting(make, initial, states, s, {}, &resumed);
  EXPECT_EQ(created, std::vector<int>{1});
  EXPECT_EQ(again.trials, whole.trials);
  EXPECT_EQ(again.evaluations, whole.evaluations);
  ASSERT_EQ(again.accepted.size(), whole.accepted.size());
  for (std::size_t i = 0; i < whole.accepted.size(); ++i) {
    EXPECT_EQ(again.accepted[i].chain, whole.accepted[i].chain);
    EXPECT_EQ(again.accepted[i].trial, whole.accepted[i].trial);
    EXPECT_EQ(again.accepted[i].maxEnergy, whole.accepted[i].maxEnergy);
    EXPECT_EQ(again.accepted[i].cvFrames, whole.accepted[i].cvFrames);
  }
}

// maxTrials caps every chain at that many trials, whatever the evaluation budget; 0 = no cap.
TEST(Shooting, TrialCapPerChain) {
  const DoubleWell well(3.0, 10.0);
  const StateBalls states = wellStates();
  auto observer = makeOverdampedDynamics(well, kDs, 1.0);
  const ShootingPath initial = straightPath(*observer, 150);
  ShootingSettings s;
  s.variableLength = true;
  s.maxLength = 3000;
  s.maxEvaluations = 100000000;
  s.maxTrials = 7;
  s.chains = 3;
  s.threads = 1;
  s.seed = 4;
  const ShootingResult capped =
      runShooting([&](int) { return makeOverdampedDynamics(well, kDs, 1.0); }, initial, states, s);
  EXPECT_EQ(capped.trials, 21);
  for (const auto& a : capped.accepted) EXPECT_LT(a.trial, 7);
  s.maxTrials = 0;
  s.maxEvaluations = 20000;
  const ShootingResult budget =
      runShooting([&](int) { return makeOverdampedDynamics(well, kDs, 1.0); }, initial, states, s);
  EXPECT_GT(budget.trials, 21);  // the budget alone decides
}

TEST(Shooting, RejectsAnInitialPathThatDoesNotConnectTheStates) {
  const DoubleWell well(3.0, 10.0);
  const StateBalls states = wellStates();
  auto observer = makeOverdampedDynamics(well, kDs, 1.0);
  const ShootingPath line = straightPath(*observer, 100);
  ShootingPath half;  // first half only: ends at x = 0, outside B
  half.frames.assign(line.frames.begin(), line.frames.begin() + 50);
  half.configurations.assign(line.configurations.begin(), line.configurations.begin() + 100);
  ShootingSettings s;
  s.pathLength = 50;
  EXPECT_THROW(
      runShooting([&](int) { return makeOverdampedDynamics(well, kDs, 1.0); }, half, states, s),
      std::invalid_argument);
  s.pathLength = 99;  // wrong length for fixed-length shooting
  EXPECT_THROW(
      runShooting([&](int) { return makeOverdampedDynamics(well, kDs, 1.0); }, line, states, s),
      std::invalid_argument);
}

TEST(Shooting, ExtractTransitionAndResample) {
  const DoubleWell well(3.0, 10.0);
  const StateBalls states = wellStates();
  auto observer = makeOverdampedDynamics(well, kDs, 1.0);
  // A trajectory A -> middle -> A -> B -> beyond: x values.
  const std::vector<double> xs = {-1.0, -0.5, 0.0, -0.9, -0.8, -0.2, 0.4, 0.95, 1.1};
  std::vector<double> conf;
  for (double x : xs) {
    conf.push_back(x);
    conf.push_back(0.0);
  }
  ShootingPath cut;
  ASSERT_TRUE(extractTransition(observePath(*observer, conf), states, cut));
  // From the last frame in A before B (x = -0.8, index 4) to the first in B (x = 0.95).
  ASSERT_EQ(cut.length(), 4u);
  EXPECT_DOUBLE_EQ(cut.configurations[0], -0.8);
  EXPECT_DOUBLE_EQ(cut.configurations[6], 0.95);
  const ShootingPath longer = resamplePath(cut, 10);
  ASSERT_EQ(longer.length(), 10u);
  EXPECT_DOUBLE_EQ(longer.configurations.front(), -0.8);
  EXPECT_DOUBLE_EQ(longer.configurations[18], 0.95);
  const ShootingPath padded = fitPathLength(cut, 9);  // 4 frames + 2 before + 3 after
  ASSERT_EQ(padded.length(), 9u);
  const std::vector<double> expectX = {-0.8, -0.8, -0.8, -0.2, 0.4, 0.95, 0.95, 0.95, 0.95};
  for (int f = 0; f < 9; ++f) EXPECT_DOUBLE_EQ(padded.configurations[2 * f], expectX[f]) << f;
  EXPECT_EQ(fitPathLength(cut, 3).length(), 3u);  // longer than asked: resampled
  // U of a frame is the observation's energy (no metric given).
  const double x0[2] = {-0.8, 0.0};
  EXPECT_DOUBLE_EQ(cut.frames[0].energy, well.energy(x0));
  ShootingPath none;
  const std::vector<double> stay = {-1.0, 0.0, -0.5, 0.0};
  EXPECT_FALSE(extractTransition(observePath(*observer, stay), states, none));
}

}  // namespace
}  // namespace geotps
