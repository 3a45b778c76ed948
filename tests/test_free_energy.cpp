// Binned 2D WHAM (engine/molecule/free_energy.h) against closed forms and exact expected counts,
// and `geotps surface` with surface.kind free_energy on alanine dipeptide.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <random>

#include "engine/metrics/minimax.h"
#include "engine/molecule/free_energy.h"
#include "engine/molecule/molecule.h"
#include "potentials/tabulated_surface.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using geotps::test::readText;
using geotps::test::runGeotps;
constexpr double kPi = std::numbers::pi;
const fs::path kSource = GEOTPS_SOURCE_DIR;

// A smooth periodic reduced free energy (kT units) with several minima.
double trueF(double phi, double psi) {
  return 3.0 * std::cos(phi) + 2.0 * std::sin(psi) + 1.5 * std::cos(phi - psi);
}

double wrap(double a) { return std::remainder(a, 2.0 * kPi); }

// Windows on an m x m grid and, per window, the exact bin probabilities p_kb proportional to
// exp(-F_b - beta u_kb) (u the wrapped harmonic bias at the bin centres).
struct WhamCase {
  int n, m;
  double bk;
  geotps::WhamInput in;
  std::vector<std::vector<double>> p;  // per window, over bins
  std::vector<double> F;               // true F per bin
};

WhamCase makeSetup(int n, int m, double betaKappa) {
  WhamCase s{n, m, betaKappa, {}, {}, {}};
  s.in.bins = n;
  s.in.reducedStiffness = betaKappa;
  const double h = 2 * kPi / n, hw = 2 * kPi / m;
  s.F.resize(static_cast<std::size_t>(n) * n);
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < n; ++i) s.F[j * n + i] = trueF(-kPi + i * h, -kPi + j * h);
  }
  for (int c = 0; c < m; ++c) {
    for (int a = 0; a < m; ++a) {
      const double p0 = -kPi + a * hw, q0 = -kPi + c * hw;
      s.in.centres.push_back({p0, q0});
      std::vector<double> w(s.F.size());
      double z = 0;
      for (int j = 0; j < n; ++j) {
        for (int i = 0; i < n; ++i) {
          const double dp = wrap(-kPi + i * h - p0), dq = wrap(-kPi + j * h - q0);
          w[j * n + i] = std::exp(-s.F[j * n + i] - 0.5 * betaKappa * (dp * dp + dq * dq));
          z += w[j * n + i];
        }
      }
      for (double& v : w) v /= z;
      s.p.push_back(w);
    }
  }
  return s;
}

TEST(Wham, AngleBinIsNearestCentreAndPeriodic) {
  // The bins of the umbrella histograms: periodicAngleGrid(n).nearest, per angle.
  const int n = 24;
  const double h = 2 * kPi / n;
  const geotps::Grid2D g = geotps::periodicAngleGrid(n);
  auto bin = [&](double angle) {
    int i = -1, j = -1;
    g.nearest(angle, -angle, i, j);
    int iAlone = -1, jAlone = -1;
    g.nearest(-angle, angle, iAlone, jAlone);
    EXPECT_EQ(i, jAlone) << angle;  // the same rule in both angles
    return i;
  };
  EXPECT_EQ(bin(-kPi), 0);
  EXPECT_EQ(bin(kPi), 0);  // the same angle as -pi
  EXPECT_EQ(bin(-kPi + 3 * h + 0.49 * h), 3);
  EXPECT_EQ(bin(-kPi + 3 * h + 0.51 * h), 4);
  EXPECT_EQ(bin(kPi - 0.49 * h), 0);
  EXPECT_EQ(bin(kPi - 0.51 * h), n - 1);
  EXPECT_EQ(bin(0.0), n / 2);
}

TEST(Wham, ExactExpectedCountsRecoverTheFreeEnergy) {
  // With counts exactly N_k p_kb the true F is the WHAM solution: recovered to solver precision.
  WhamCase s = makeSetup(24, 8, 8.0);
  const double Nk = 1000.0;
  for (const auto& pk : s.p) {
    std::vector<std::pair<int, double>> h;
    for (std::size_t b = 0; b < pk.size(); ++b) h.emplace_back(static_cast<int>(b), Nk * pk[b]);
    s.in.histograms.push_back(h);
  }
  const geotps::WhamResult r = geotps::solveWham(s.in, 2);
  const double fmin = *std::min_element(s.F.begin(), s.F.end());
  double worst = 0;
  for (std::size_t b = 0; b < s.F.size(); ++b) {
    worst = std::max(worst, std::abs(r.reducedFreeEnergy[b] - (s.F[b] - fmin)));
  }
  EXPECT_LT(worst, 1e-4) << r.stopReason << ", |grad| " << r.gradientNorm;
  // f_k = -ln sum_b p_b exp(-beta u_kb), p the unbiased bin probabilities, relative to window 0.
  std::vector<double> f;
  double z = 0;
  for (double v : s.F) z += std::exp(-v);
  const double h = 2 * kPi / s.n;
  for (const auto& c : s.in.centres) {
    double sum = 0;
    for (int j = 0; j < s.n; ++j) {
      for (int i = 0; i < s.n; ++i) {
        const double dp = wrap(-kPi + i * h - c[0]), dq = wrap(-kPi + j * h - c[1]);
        sum += std::exp(-s.F[j * s.n + i]) / z * std::exp(-0.5 * s.bk * (dp * dp + dq * dq));
      }
    }
    f.push_back(-std::log(sum));
  }
  for (std::size_t k = 0; k < f.size(); ++k) {
    EXPECT_NEAR(r.windowFreeEnergy[k], f[k] - f[0], 1e-4) << "window " << k;
  }
}

TEST(Wham, SampledHistogramsGiveFWithinTheirNoiseAndDoNotDependOnThreads) {
  // Multinomial samples of each window's exact distribution: in bins with M_b >= 400 samples the
  // statistical error of beta F is about 1/sqrt(M_b) <= 0.05 (plus the windows' own errors).
  WhamCase s = makeSetup(24, 10, 12.0);
  std::mt19937_64 rng(12345);
  const int Nk = 4000;
  std::vector<double> M(s.F.size(), 0.0);
  for (const auto& pk : s.p) {
    std::discrete_distribution<int> draw(pk.begin(), pk.end());
    std::vector<double> counts(pk.size(), 0.0);
    for (int t = 0; t < Nk; ++t) counts[draw(rng)] += 1.0;
    std::vector<std::pair<int, double>> h;
    for (std::size_t b = 0; b < counts.size(); ++b) {
      if (counts[b] > 0) h.emplace_back(static_cast<int>(b), counts[b]);
      M[b] += counts[b];
    }
    s.in.histograms.push_back(h);
  }
  const geotps::WhamResult r1 = geotps::solveWham(s.in, 1);
  const geotps::WhamResult r2 = geotps::solveWham(s.in, 2);
  EXPECT_EQ(r1.reducedFreeEnergy, r2.reducedFreeEnergy);  // bit-identical
  // Compare after aligning the means over the well-sampled bins (the zero is set by one noisy bin).
  double sumDiff = 0;
  int used = 0;
  for (std::size_t b = 0; b < s.F.size(); ++b) {
    if (M[b] >= 400) {
      sumDiff += r1.reducedFreeEnergy[b] - s.F[b];
      ++used;
    }
  }
  ASSERT_GT(used, 300);
  const double shift = sumDiff / used;
  // Per bin the error is about 1/sqrt(M_b): bound it in those units (5 sigma over ~550 bins),
  // and its root mean square.
  double worstZ = 0, sumSq = 0;
  for (std::size_t b = 0; b < s.F.size(); ++b) {
    if (M[b] < 400) continue;
    const double d = r1.reducedFreeEnergy[b] - s.F[b] - shift;
    worstZ = std::max(worstZ, std::abs(d) * std::sqrt(M[b]));
    sumSq += d * d;
  }
  EXPECT_LT(worstZ, 5.0);
  EXPECT_LT(std::sqrt(sumSq / used), 0.06);
  // Unbiased check of the estimator's sanity: the same data with the biases ignored (a plain
  // histogram of all samples) is far from F, so the test can tell WHAM from no reweighting.
  double worstRaw = 0, sumRaw = 0;
  for (std::size_t b = 0; b < s.F.size(); ++b) {
    if (M[b] >= 400) sumRaw += -std::log(M[b]) - s.F[b];
  }
  for (std::size_t b = 0; b < s.F.size(); ++b) {
    if (M[b] >= 400) worstRaw = std::max(worstRaw, std::abs(-std::log(M[b]) - s.F[b] - sumRaw / used));
  }
  EXPECT_GT(worstRaw, 1.0);
}

TEST(Wham, RefusesInconsistentInput) {
  geotps::WhamInput in;
  in.bins = 8;
  in.reducedStiffness = 1.0;
  in.centres = {{0.0, 0.0}};
  EXPECT_THROW(geotps::solveWham(in, 1), std::invalid_argument);  // no histogram
  in.histograms = {{{64, 1.0}}};                                   // bin out of range
  EXPECT_THROW(geotps::solveWham(in, 1), std::invalid_argument);
  in.histograms = {{{3, -1.0}}};
  EXPECT_THROW(geotps::solveWham(in, 1), std::invalid_argument);
}

TEST(FreeEnergySurface, AlanineUmbrellaRunIsThreadIndependentWithItsMinimumInTheBetaBasin) {
  const fs::path dir = geotps::test::freshDir("free_energy_surface_cli");
  const std::string config = (kSource / "tests/data/tiny_full_atom.yaml").string();
  const std::string common =
      " -q --set surface.kind=free_energy --set surface.windows=12 --set surface.grid_size=24 "
      "--set surface.equilibration_steps=200 --set surface.sampling_steps=2000 "
      "--set surface.umbrella_stiffness=50";
  auto r1 = runGeotps("surface '" + config + "' --out one.dat --set sampler.threads=1" + common, dir);
  ASSERT_EQ(r1.exitCode, 0) << r1.err;
  auto r2 = runGeotps(
      "surface '" + config + "' --out two.dat --log two.log --set sampler.threads=2" + common, dir);
  ASSERT_EQ(r2.exitCode, 0) << r2.err;
  EXPECT_EQ(r2.out, "two.dat\n") << "--quiet: the surface file's path only";
  const std::string log = readText(dir / "two.log");
  EXPECT_NE(log.find("umbrella windows: done in"), std::string::npos) << log;
  EXPECT_NE(log.find("output         two.dat"), std::string::npos) << log;
  EXPECT_EQ(readText(dir / "one.dat"), readText(dir / "two.dat"));
  const auto s = geotps::TabulatedSurface::fromFile((dir / "one.dat").string());
  const geotps::Grid2D& g = s->grid();
  ASSERT_EQ(g.nx, 24);
  ASSERT_EQ(g.ny, 24);
  EXPECT_NEAR(g.x0, -kPi, 1e-12);
  const auto low = std::min_element(g.values.begin(), g.values.end());
  EXPECT_EQ(*low, 0.0);
  for (double v : g.values) EXPECT_TRUE(std::isfinite(v));
  // The lowest bin lies in the C7eq / beta basin (phi < 0, psi > 0) at 300 K in vacuum.
  const auto b = static_cast<int>(low - g.values.begin());
  const double phi = g.x0 + (b % g.nx) * g.hx, psi = g.y0 + (b / g.nx) * g.hy;
  EXPECT_LT(phi, -1.0) << psi;
  EXPECT_GT(psi, 0.5) << phi;
  const std::string text = readText(dir / "one.dat");
  EXPECT_NE(text.find("umbrella sampling, 12 x 12 windows"), std::string::npos);
  EXPECT_NE(text.find("at 300 K"), std::string::npos);
}

TEST(FreeEnergySurface, ShippedSurfaceMatchesItsRecordedFacts) {
  // data/alanine_dipeptide/README.md: minimum 0 at (-1.309, 1.047), 36 unsampled bins at the
  // highest sampled F 95.69 kJ/mol, minimax barrier 40.98 kJ/mol between the job's states, and the
  // C7ax basin 9.36 kJ/mol up (above the adiabatic map's 6.27: entropy at 300 K).
  const auto s = geotps::TabulatedSurface::fromFile(
      (kSource / "data/alanine_dipeptide/free_energy_phi_psi_72.dat").string(), 1.0, 2 * kPi);
  const geotps::Grid2D& g = s->grid();
  ASSERT_EQ(g.nx, 72);
  const auto low = std::min_element(g.values.begin(), g.values.end());
  const auto b = static_cast<int>(low - g.values.begin());
  EXPECT_NEAR(g.x0 + (b % 72) * g.hx, -1.309, 1e-3);
  EXPECT_NEAR(g.y0 + (b / 72) * g.hy, 1.047, 1e-3);
  const double top = *std::max_element(g.values.begin(), g.values.end());
  EXPECT_NEAR(top, 95.688, 1e-3);
  EXPECT_EQ(std::count(g.values.begin(), g.values.end(), top), 37);  // 36 filled + the sampled one
  const double a[2] = {-2.645, 2.794}, c[2] = {1.068, -0.720};
  EXPECT_NEAR(geotps::minimaxBarrier(g, a, c, 8).barrier, 40.978, 1e-3);
  double c7ax = 1e300;
  for (int j = 0; j < 72; ++j) {
    for (int i = 0; i < 72; ++i) {
      const double phi = g.x0 + i * g.hx, psi = g.y0 + j * g.hy;
      if (phi > 0.5 && phi < 1.6 && psi > -1.5 && psi < 0) c7ax = std::min(c7ax, g.value(i, j));
    }
  }
  EXPECT_NEAR(c7ax, 9.357, 1e-3);
}

}  // namespace
