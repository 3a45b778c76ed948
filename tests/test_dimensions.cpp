// The D-dimensional core on analytic potentials (docs/method.md, "Dimensions"): the double well in
// D dimensions against closed forms and finite differences, the quadrature denoiser in D = 3
// against a direct sum and the Gaussian closed form, geodesic energies in D = 3 and 4 (below the
// straight line; additive over independent coordinates), two-way shooting in D = 3, and `geotps run`
// and `geotps compare` end to end in D = 3. The lists of one value per coordinate are checked
// against D through the binary by tests/data/bad_inputs/dimension_mismatch_*.yaml and
// quadrature_dimension_limit.yaml (Cli.BadDataFilesAndFailingRunsLeaveNoOutput).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "engine/baselines/shooting.h"
#include "engine/core/schedule.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/geodesic/curve_energy.h"
#include "engine/geodesic/geodesic_solver.h"
#include "engine/geodesic/spline_curve.h"
#include "engine/io/h5_file.h"
#include "potentials/analytic_potentials.h"
#include "tests/test_support.h"

namespace geotps {
namespace {

namespace fs = std::filesystem;
using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kBarrier = 5.0, kStiffness = 10.0, kCoupling = 0.7;

// U by its definition, written out here (docs/method.md, "Analytic potentials in D dimensions").
double directEnergy(const std::vector<double>& x, double b, double k, double c) {
  const double s = x[0] * x[0] - 1.0;
  double u = b * s * s;
  for (std::size_t d = 1; d < x.size(); ++d) {
    const double dev = x[d] - c * (1.0 - x[0] * x[0]);
    u += 0.5 * k * dev * dev;
  }
  return u;
}

TEST(DoubleWellND, EnergyMatchesItsDefinitionAtMinimaSaddleAndLineMidpoint) {
  const DoubleWellND u(3, kBarrier, kStiffness, kCoupling);
  EXPECT_EQ(u.dimension(), 3);
  const double minA[3] = {-1, 0, 0}, minB[3] = {1, 0, 0}, saddle[3] = {0, kCoupling, kCoupling},
               mid[3] = {0, 0, 0};
  EXPECT_NEAR(u.energy(minA), 0.0, 1e-15);
  EXPECT_NEAR(u.energy(minB), 0.0, 1e-15);
  EXPECT_NEAR(u.energy(saddle), kBarrier, 1e-14);
  // The straight line between the minima crosses x_0 = 0 at barrier + (D-1) k c^2 / 2.
  EXPECT_NEAR(u.energy(mid), kBarrier + 2 * 0.5 * kStiffness * kCoupling * kCoupling, 1e-13);
  // Random points, every dimension from 1 to 5.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> uni(-2.0, 2.0);
  for (int D = 1; D <= 5; ++D) {
    const DoubleWellND w(D, 4.0, 7.0, -0.3);
    for (int t = 0; t < 20; ++t) {
      std::vector<double> x(D);
      for (double& v : x) v = uni(rng);
      EXPECT_NEAR(w.energy(x.data()), directEnergy(x, 4.0, 7.0, -0.3),
                  1e-12 * (1 + directEnergy(x, 4.0, 7.0, -0.3)));
    }
  }
  // D = 2 without coupling is the 2D double well.
  const DoubleWellND nd(2, kBarrier, kStiffness, 0.0);
  const DoubleWell dw(kBarrier, kStiffness);
  for (int t = 0; t < 20; ++t) {
    const double x[2] = {uni(rng), uni(rng)};
    EXPECT_NEAR(nd.energy(x), dw.energy(x), 1e-12);
  }
  EXPECT_THROW(DoubleWellND(0), std::invalid_argument);
}

TEST(DoubleWellND, GradientMatchesCentralDifferencesAndBatchesMatchSinglePoints) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> uni(-1.8, 1.8);
  for (int D = 1; D <= 5; ++D) {
    const DoubleWellND u(D, kBarrier, kStiffness, kCoupling);
    const int n = 7;
    std::vector<double> x(n * D), e(n), g(n * D);
    for (double& v : x) v = uni(rng);
    u.evaluate(x.data(), n, e.data(), g.data());
    for (int p = 0; p < n; ++p) {
      std::vector<double> one(x.begin() + p * D, x.begin() + (p + 1) * D), g1(D);
      double e1 = 0.0;
      u.evaluate(one.data(), 1, &e1, g1.data());
      EXPECT_EQ(e1, e[p]);
      for (int d = 0; d < D; ++d) {
        EXPECT_EQ(g1[d], g[p * D + d]);
        const double h = 1e-6;
        std::vector<double> up = one, down = one;
        up[d] += h;
        down[d] -= h;
        const double fd = (u.energy(up.data()) - u.energy(down.data())) / (2 * h);
        EXPECT_NEAR(g[p * D + d], fd, 1e-6 * (1 + std::abs(fd))) << "D " << D << " d " << d;
      }
    }
  }
  // The gradient vanishes at the minima and at the saddle.
  const DoubleWellND u(4, kBarrier, kStiffness, kCoupling);
  for (const std::vector<double>& x : {std::vector<double>{1, 0, 0, 0},
                                       std::vector<double>{-1, 0, 0, 0},
                                       std::vector<double>{0, kCoupling, kCoupling, kCoupling}}) {
    std::vector<double> g(4);
    double e = 0.0;
    u.evaluate(x.data(), 1, &e, g.data());
    for (double v : g) EXPECT_NEAR(v, 0.0, 1e-13);
  }
}

// The quadrature denoiser of the double well in `D` dimensions on the box used below.
std::shared_ptr<QuadratureDenoiser> denoiserND(int D, int perAxis, double coupling) {
  const DoubleWellND u(D, kBarrier, kStiffness, coupling);
  VectorXd low = VectorXd::Constant(D, -1.5), high = VectorXd::Constant(D, 2.0);
  low[0] = -2.0;
  high[0] = 2.0;
  if (coupling == 0.0) {
    low.tail(D - 1).setConstant(-2.0);  // symmetric about 0
    high.tail(D - 1).setConstant(2.0);
  }
  return QuadratureDenoiser::fromPotentialOnBox(u, 1.0, low, high,
                                                Eigen::VectorXi::Constant(D, perAxis), 2);
}

// Without coupling the density factorises: the posterior of x_0 is a one-dimensional sum (done
// here directly, in long double, over the same 40 cell centres) and each harmonic coordinate's is
// Gaussian with precision k + e^l and mean eta_d / (k + e^l).
TEST(QuadratureND, ThreeDimensionalMomentsMatchADirectSumAndTheGaussianClosedForm) {
  const int n = 40;
  const auto q = denoiserND(3, n, 0.0);
  ASSERT_EQ(q->dimension(), 3);
  ASSERT_EQ(q->gridPointCount(), static_cast<std::size_t>(n * n * n));
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  for (double l : {-3.0, 0.0, 2.5, 5.0}) {
    VectorXd z(4);
    z << l, uni(rng), uni(rng), uni(rng);
    std::vector<PosteriorMoments> m;
    q->evaluate(z.transpose(), false, m);
    const double a = etaScale(l), etaL = -0.5 * std::exp(l);
    // x_0: direct sum over the cell centres of [-2, 2].
    long double w = 0, s1 = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const long double x = -2.0L + (i + 0.5L) * 4.0L / n;
      const long double e = std::exp(-kBarrier * (x * x - 1) * (x * x - 1) + a * z[1] * x +
                                     etaL * x * x);
      w += e;
      s1 += e * x;
      s2 += e * x * x;
    }
    const double mean0 = static_cast<double>(s1 / w), second0 = static_cast<double>(s2 / w);
    EXPECT_NEAR(m[0].mu[0], mean0, 1e-9 * (1 + std::abs(mean0))) << "l " << l;
    double second = second0;
    const double precision = kStiffness + std::exp(l);
    for (int d = 1; d < 3; ++d) {
      // The harmonic coordinate on its 40 cell centres of [-2, 2], summed directly ...
      long double wd = 0, t1 = 0, t2 = 0;
      for (int i = 0; i < n; ++i) {
        const long double x = -2.0L + (i + 0.5L) * 4.0L / n;
        const long double e = std::exp(-0.5L * kStiffness * x * x + a * z[1 + d] * x + etaL * x * x);
        wd += e;
        t1 += e * x;
        t2 += e * x * x;
      }
      const double mean = static_cast<double>(t1 / wd);
      EXPECT_NEAR(m[0].mu[d], mean, 1e-9) << "l " << l << " d " << d;
      second += static_cast<double>(t2 / wd);
      // ... and in closed form, which the midpoint rule reaches up to its discretisation error
      // (about exp(-2 pi^2 / (h^2 precision)), 3e-6 at l = 5 where the posterior's width is h).
      EXPECT_NEAR(m[0].mu[d], a * z[1 + d] / precision, 1e-5) << "l " << l << " d " << d;
    }
    EXPECT_NEAR(m[0].mu[3], second, 1e-9 * second) << "l " << l;
  }
}

// Symmetrised KL terms of N(0, 1/P) posteriors along l: (eta_l' - eta_l)(E'[x^2] - E[x^2]).
double gaussianCurveEnergy(const VectorXd& l) {
  double e = 0.0;
  for (Eigen::Index i = 0; i + 1 < l.size(); ++i) {
    const double d_eta = -0.5 * (std::exp(l[i + 1]) - std::exp(l[i]));
    const double d_mu = 1.0 / (kStiffness + std::exp(l[i + 1])) - 1.0 / (kStiffness + std::exp(l[i]));
    e += d_eta * d_mu;
  }
  return 0.5 * static_cast<double>(l.size() - 1) * e;
}

// Independent coordinates add their energies: a curve (l, x_0, 0, ..., 0) in D dimensions costs
// its (l, x_0) part in one dimension plus D - 1 Gaussian parts in closed form.
TEST(GeodesicND, EnergyOfUncoupledCoordinatesIsTheSumOfTheirEnergies) {
  const auto q1 = denoiserND(1, 40, 0.0);
  const auto q3 = denoiserND(3, 40, 0.0);
  const double lEnd = 4.0;
  const VectorXd zA1 = spacetimePoint(lEnd, VectorXd::Constant(1, -1.0));
  const VectorXd zB1 = spacetimePoint(lEnd, VectorXd::Constant(1, 1.0));
  GeodesicSettings gs;
  gs.nNodes = 6;
  gs.nPoints = 48;
  gs.maxIterations = 200;
  const GeodesicResult g1 = solveGeodesic(*q1, zA1, zB1, gs);
  EXPECT_LT(g1.evaluation.energy, g1.initialEnergy);
  MatrixXd z3 = MatrixXd::Zero(g1.z.rows(), 4);
  z3.leftCols(2) = g1.z;
  const double e3 = evaluateCurve(*q3, z3, false).energy;
  const double expected = g1.evaluation.energy + 2.0 * gaussianCurveEnergy(g1.z.col(0));
  EXPECT_NEAR(e3, expected, 1e-6 * expected);
}

// Geodesics between the minima of the coupled double well in D = 3 and 4 (the quadrature over
// 24^3 and 12^4 points): cheaper than the straight line, evaluated here on its own.
TEST(GeodesicND, ThreeAndFourDimensionalGeodesicsLieBelowTheStraightLine) {
  for (const auto& [D, perAxis] : {std::pair{3, 24}, std::pair{4, 12}}) {
    SCOPED_TRACE("D = " + std::to_string(D));
    const auto q = denoiserND(D, perAxis, kCoupling);
    VectorXd a = VectorXd::Zero(D), b = VectorXd::Zero(D);
    a[0] = -1.0;
    b[0] = 1.0;
    const VectorXd zA = spacetimePoint(4.0, a), zB = spacetimePoint(4.0, b);
    GeodesicSettings gs;
    gs.nNodes = 6;
    gs.nPoints = 32;
    gs.maxIterations = 150;
    const GeodesicResult r = solveGeodesic(*q, zA, zB, gs);
    SplineCurve curve(zA, zB, gs.nNodes);
    const double line = evaluateCurve(*q, curve.evaluate(curve.straightLine(), 32), false).energy;
    EXPECT_NEAR(r.initialEnergy, line, 1e-10 * line);
    const double energy = evaluateCurve(*q, r.z, false).energy;
    EXPECT_LT(energy, 0.7 * line) << "geodesic " << energy << ", straight line " << line;
    EXPECT_LT(r.z.col(0).minCoeff(), 4.0 - 1.0);  // the detour through noise
    RecordProperty("energy_D" + std::to_string(D), std::to_string(energy));
    RecordProperty("line_D" + std::to_string(D), std::to_string(line));
  }
}

TEST(ShootingND, StateBoxesAndBallsInThreeDimensions) {
  StateBalls s;
  s.a = VectorXd::Zero(3);
  s.b = VectorXd::Zero(3);
  s.a[0] = -1.0;
  s.b[0] = 1.0;
  s.period = VectorXd::Zero(3);
  s.radiusA = s.radiusB = 0.3;
  VectorXd x = s.a;
  x[2] = 0.29;
  EXPECT_TRUE(s.inA(x));
  x[2] = 0.31;
  EXPECT_FALSE(s.inA(x));  // the third coordinate counts in the distance
  s.boxB = {0.5, 1.5, -0.2, 0.2, -0.2, 0.2};
  VectorXd y = s.b;
  EXPECT_TRUE(s.inB(y));
  y[2] = 0.25;
  EXPECT_FALSE(s.inB(y));
  EXPECT_NE(s.describeB().find("x[2] in [-0.2, 0.2]"), std::string::npos) << s.describeB();
  s.boxB = {0.5, 1.5, -0.2, 0.2};  // a box of two coordinates for three
  EXPECT_THROW(s.inB(y), std::invalid_argument);
}

TEST(ShootingND, FixedLengthShootingInThreeDimensionsAcceptsPathsFromAToB) {
  const DoubleWellND well(3, 3.0, kStiffness, kCoupling);
  const double ds = 4e-3;
  auto observer = makeOverdampedDynamics(well, ds, 1.0);
  const int L = 300;
  std::vector<double> conf;
  for (int f = 0; f < L; ++f) {
    const double x0 = -1.0 + 2.0 * f / (L - 1);
    conf.insert(conf.end(), {x0, kCoupling * (1 - x0 * x0), kCoupling * (1 - x0 * x0)});
  }
  const ShootingPath initial = observePath(*observer, conf);
  ASSERT_EQ(initial.frames.front().cv.size(), 3);
  StateBalls states;
  states.a = VectorXd::Zero(3);
  states.b = VectorXd::Zero(3);
  states.a[0] = -1.0;
  states.b[0] = 1.0;
  states.period = VectorXd::Zero(3);
  states.radiusA = states.radiusB = 0.4;
  ShootingSettings s;
  s.pathLength = L;
  s.maxEvaluations = 300000;
  s.threads = 1;
  s.seed = 2;
  s.frameStride = 10;
  const ShootingResult r =
      runShooting([&](int) { return makeOverdampedDynamics(well, ds, 1.0); }, initial, states, s);
  ASSERT_GT(r.accepted.size(), 5u);
  for (const auto& p : r.accepted) {
    ASSERT_EQ(p.firstCV.size(), 3);
    EXPECT_TRUE(states.inA(p.firstCV));
    EXPECT_TRUE(states.inB(p.lastCV));
    EXPECT_EQ(p.cvFrames.size() % 3, 0u);
    EXPECT_EQ(p.cvFrames.size(), 3u * (L / 10));
    // The paths cross near the saddle (x_0 = 0, x_d = c): the stored frame nearest x_0 = 0.
    std::size_t best = 0;
    for (std::size_t k = 0; k < p.cvFrames.size(); k += 3) {
      if (std::abs(p.cvFrames[k]) < std::abs(p.cvFrames[best])) best = k;
    }
    EXPECT_GT(p.cvFrames[best + 1] + p.cvFrames[best + 2], 0.0);
  }
}

constexpr char kJob3D[] = R"(name: dw3
seed: 1
potential:
  type: double_well_nd
  dimension: 3
  barrier: 4.0
  stiffness: 10.0
  coupling: 0.7
states:
  a: [-1.0, 0.0, 0.0]
  b: [1.0, 0.0, 0.0]
  l_end: 4.0
denoiser:
  grid_size: [16, 16, 16]
  box_low: [-2.0, -1.5, -1.5]
  box_high: [2.0, 2.0, 2.0]
geodesic:
  n_points: 48
  n_nodes: 6
  max_iterations: 150
sampler:
  n_paths: 32
  steps_per_point: 64
  step_size: 5.0e-4
  threads: 2
metrics:
  success_radius: 0.5
output:
  frame_stride: 8
)";

TEST(CliND, ThreeDimensionalJobRunsEndToEndWithDValuesPerPoint) {
  const fs::path dir = test::freshDir("geotps_nd_run");
  {
    std::ofstream(dir / "dw3.yaml") << kJob3D;
  }
  const test::CommandResult r = test::runGeotps("run dw3.yaml --quiet --out dw3.h5", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  H5File f((dir / "dw3.h5").string(), H5File::Mode::Read);
  EXPECT_EQ(f.shape("/curve/x"), (std::vector<std::size_t>{48, 3}));
  EXPECT_EQ(f.shape("/curve/z"), (std::vector<std::size_t>{48, 4}));
  EXPECT_EQ(f.shape("/curve/mu"), (std::vector<std::size_t>{48, 4}));
  EXPECT_EQ(f.shape("/paths/frames"), (std::vector<std::size_t>{32, 48 * 64 / 8, 3}));
  EXPECT_EQ(f.shape("/paths/final_position"), (std::vector<std::size_t>{32, 3}));
  EXPECT_FALSE(f.exists("/metrics/minimax_path"));  // the grid bound is 2D only
  EXPECT_EQ(f.readAttributeString("/", "potential"), "double_well_nd");
  const double energy = f.readAttributeDouble("/summary", "geodesic_energy");
  const double line = f.readAttributeDouble("/summary", "straight_line_energy");
  EXPECT_LT(energy, line);
  EXPECT_GT(f.readAttributeDouble("/summary", "success_fraction"), 0.8);
  // Every path crosses the barrier: its MaxEnergy (U itself, kT) lies above the saddle's 4 kT
  // less a few kT of thermal slack.
  const std::vector<double> maxE = f.readDoubles("/paths/max_energy_interpolated");
  for (double e : maxE) EXPECT_GT(e, 2.0);
  // The final positions, read back, lie near B in all three coordinates.
  const std::vector<double> fin = f.readDoubles("/paths/final_position");
  double meanX0 = 0.0;
  for (std::size_t i = 0; i < fin.size(); i += 3) meanX0 += fin[i];
  EXPECT_NEAR(meanX0 / 32.0, 1.0, 0.2);
  EXPECT_TRUE(std::isnan(f.readAttributeDouble("/summary", "minimax_bound")));

  // The plot helper draws the 2D projection onto the chosen coordinates (skipped where its Python
  // packages are absent) and refuses a coordinate the file does not have.
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy, matplotlib' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-h5py / numpy / matplotlib not installed: plot helper not tested";
  }
  const std::string plot = "cd '" + dir.string() + "' && /usr/bin/python3 '" +
                           (fs::path(GEOTPS_SOURCE_DIR) / "scripts/plot_result.py").string() +
                           "' dw3.h5 --paths 5";
  ASSERT_EQ(std::system((plot + " --axes 0 2 --out p.png > p.txt 2>&1").c_str()), 0)
      << test::readText(dir / "p.txt");
  EXPECT_EQ(test::readText(dir / "p.png").substr(0, 4), "\x89PNG");
  EXPECT_NE(test::readText(dir / "p.txt").find("5 paths drawn"), std::string::npos);
  EXPECT_NE(std::system((plot + " --axes 0 3 --out bad.png > bad.txt 2>&1").c_str()), 0);
  EXPECT_NE(test::readText(dir / "bad.txt").find("D = 3 coordinates"), std::string::npos)
      << test::readText(dir / "bad.txt");
  EXPECT_FALSE(fs::exists(dir / "bad.png"));
}

TEST(CliND, ThreeDimensionalCompareRunsTheShootingBaselines) {
  const fs::path dir = test::freshDir("geotps_nd_compare");
  {
    std::ofstream(dir / "dw3c.yaml")
        << kJob3D
        << "compare:\n  methods: [geodesic, mcmc_fixed, mcmc_variable]\n  crossing_line: 0.0\n"
           "mcmc:\n  state_radius: [0.4, 0.4]\n  step_size: 4.0e-3\n  path_length: 300\n"
           "  max_length: 3000\n  fixed_max_evaluations: 200000\n"
           "  variable_max_evaluations: 200000\n  frame_stride: 5\n";
  }
  const test::CommandResult r = test::runGeotps("compare dw3c.yaml --quiet --out c.h5", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err << r.out;
  H5File f((dir / "c.h5").string(), H5File::Mode::Read);
  for (const char* m : {"mcmc_fixed", "mcmc_variable"}) {
    const std::string g = std::string("/methods/") + m;
    ASSERT_TRUE(f.exists(g + "/path_frames")) << g;
    const auto shape = f.shape(g + "/path_frames");
    ASSERT_EQ(shape.size(), 2u);
    EXPECT_EQ(shape[1], 3u) << g;
    EXPECT_EQ(f.shape(g + "/initial_path")[1], 3u) << g;
  }
  // A state box of two coordinates for three is refused with the key named, before any work.
  const test::CommandResult bad = test::runGeotps(
      "compare dw3c.yaml --quiet --out bad.h5 --set 'mcmc.state_a_box=[-1.5, -0.5, -1, 1]'", dir);
  EXPECT_NE(bad.exitCode, 0);
  EXPECT_NE(bad.err.find("key 'mcmc.state_a_box' has 4 values, expected 6"), std::string::npos)
      << bad.err;
  EXPECT_FALSE(fs::exists(dir / "bad.h5"));
}

}  // namespace
}  // namespace geotps
