// Tests of the dihedral-angle collective variable: values against mdtraj on the shipped alanine
// dipeptide PDBs, the IUPAC sign on hand-made configurations, the analytic gradient against
// central finite differences (also near +-pi), and wrapAngle's edge cases.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "engine/io/pdb_file.h"
#include "potentials/dihedral.h"

namespace geotps {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr std::array<int, 4> kPhi = {4, 6, 8, 14};   // C(ACE)-N-CA-C
constexpr std::array<int, 4> kPsi = {6, 8, 14, 16};  // N-CA-C-N(NME)

std::string alaninePdb(const std::string& name) {
  return std::string(GEOTPS_SOURCE_DIR) + "/data/alanine_dipeptide/" + name + ".pdb";
}

// Computed by mdtraj 1.9.7 (float32 coordinates and arithmetic) with
//   /usr/bin/python3 -c "import mdtraj as md; t = md.load('data/alanine_dipeptide/extended.pdb');
//     print(md.compute_dihedrals(t, [[4, 6, 8, 14], [6, 8, 14, 16]])[0].astype(float).tolist())"
// and the same for c7ax.pdb.
constexpr double kMdtrajExtendedPhi = -2.741152048110962;
constexpr double kMdtrajExtendedPsi = 2.8667430877685547;
constexpr double kMdtrajC7axPhi = 1.084031105041504;
constexpr double kMdtrajC7axPsi = -0.5753523707389832;

TEST(DihedralAngle, MatchesMdtrajOnShippedAlanineDipeptide) {
  struct Case {
    const char* file;
    double phi, psi;
  };
  for (const Case& c : {Case{"extended", kMdtrajExtendedPhi, kMdtrajExtendedPsi},
                        Case{"c7ax", kMdtrajC7axPhi, kMdtrajC7axPsi}}) {
    SCOPED_TRACE(c.file);
    const std::vector<double> r = readPdb(alaninePdb(c.file)).positionsNm();
    ASSERT_EQ(r.size(), 66u);
    EXPECT_NEAR(dihedralAngle(r.data(), kPhi, nullptr), c.phi, 1e-6);
    EXPECT_NEAR(dihedralAngle(r.data(), kPsi, nullptr), c.psi, 1e-6);
  }
  // The 2-decimal values of data/alanine_dipeptide/README.md.
  const std::vector<double> ext = readPdb(alaninePdb("extended")).positionsNm();
  EXPECT_NEAR(dihedralAngle(ext.data(), kPhi), -2.74, 0.005);
  EXPECT_NEAR(dihedralAngle(ext.data(), kPsi), 2.87, 0.005);
}

/// Atoms a = (1,0,0), b = 0, c = (0,0,1), d = (cos t, sin t, 1): the dihedral is t.
std::vector<double> configurationWithDihedral(double t) {
  return {1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, std::cos(t), std::sin(t), 1.0};
}

TEST(DihedralAngle, SignFollowsIupacOnHandMadeConfigurations) {
  // mdtraj.compute_dihedrals gives +60 and -60 degrees for these two (checked by hand with
  // mdtraj 1.9.7), as IUPAC: looking from b to c, a-b turned clockwise onto c-d is positive.
  const std::array<int, 4> abcd = {0, 1, 2, 3};
  EXPECT_NEAR(dihedralAngle(configurationWithDihedral(kPi / 3).data(), abcd), kPi / 3, 1e-15);
  EXPECT_NEAR(dihedralAngle(configurationWithDihedral(-kPi / 3).data(), abcd), -kPi / 3, 1e-15);
  // Reversing the atom order keeps the angle; a mirror image flips its sign.
  const std::array<int, 4> dcba = {3, 2, 1, 0};
  EXPECT_NEAR(dihedralAngle(configurationWithDihedral(kPi / 3).data(), dcba), kPi / 3, 1e-15);
  std::vector<double> mirrored = configurationWithDihedral(1.0);
  for (std::size_t i = 0; i < mirrored.size(); i += 3) mirrored[i] = -mirrored[i];
  EXPECT_NEAR(dihedralAngle(mirrored.data(), abcd), -1.0, 1e-15);
  // Cis and trans.
  EXPECT_EQ(dihedralAngle(configurationWithDihedral(0.0).data(), abcd), 0.0);
  // Exactly trans: (-pi, pi] means +pi, never -pi.
  const std::vector<double> trans = {1, 0, 0, 0, 0, 0, 0, 0, 1, -1, 0, 1};
  EXPECT_EQ(dihedralAngle(trans.data(), abcd), kPi);
  // Scale and translation invariance.
  std::vector<double> moved = configurationWithDihedral(2.0);
  for (std::size_t i = 0; i < moved.size(); ++i) moved[i] = 3.7 * moved[i] + (i % 3 == 1 ? 5 : -2);
  EXPECT_NEAR(dihedralAngle(moved.data(), abcd), 2.0, 1e-14);
}

/// Checks the analytic gradient of the dihedral of atoms `atoms` in `r` against central
/// differences, that it is ADDED to what the buffer holds, and that other atoms are untouched.
void checkGradient(std::vector<double> r, const std::array<int, 4>& atoms) {
  const std::size_t n = r.size();
  std::vector<double> gradient(n);
  for (std::size_t k = 0; k < n; ++k) gradient[k] = 0.25 * double(k);  // pre-existing content
  const double angle = dihedralAngle(r.data(), atoms, gradient.data());
  const double h = 1e-6;
  double sumForce[3] = {0, 0, 0};
  for (std::size_t k = 0; k < n; ++k) {
    const double saved = r[k];
    r[k] = saved + h;
    const double up = dihedralAngle(r.data(), atoms);
    r[k] = saved - h;
    const double down = dihedralAngle(r.data(), atoms);
    r[k] = saved;
    // Differences across the +-pi cut are taken modulo 2 pi.
    const double fd = wrapAngle(up - down) / (2 * h);
    const double analytic = gradient[k] - 0.25 * double(k);
    EXPECT_NEAR(analytic, fd, 1e-6 * std::max(1.0, std::abs(fd)))
        << "component " << k << " at angle " << angle;
    sumForce[k % 3] += analytic;
  }
  // Translation invariance: the gradient sums to zero.
  for (double s : sumForce) EXPECT_NEAR(s, 0.0, 1e-9);
}

TEST(DihedralAngle, GradientMatchesFiniteDifferencesAtRandomConfigurations) {
  std::mt19937_64 rng(20240607);
  std::normal_distribution<double> normal(0.0, 0.15);  // nm, bond-length scale
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<double> r(3 * 6);
    for (double& x : r) x = normal(rng);
    checkGradient(r, {1, 4, 0, 3});
  }
  // On the alanine dipeptide itself: phi and psi share atoms and accumulate into one buffer.
  const std::vector<double> r = readPdb(alaninePdb("c7ax")).positionsNm();
  checkGradient(r, kPhi);
  checkGradient(r, kPsi);
}

TEST(DihedralAngle, GradientMatchesFiniteDifferencesNearPlusMinusPi) {
  const std::array<int, 4> abcd = {0, 1, 2, 3};
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 1e-3);
  for (double t : {kPi, kPi - 1e-4, -kPi + 1e-4, kPi - 1e-2, -kPi + 1e-2, 0.0, 1e-4, kPi / 2}) {
    std::vector<double> r = configurationWithDihedral(t);
    // A rigid-ish perturbation keeps the angle near t but makes the geometry generic.
    for (double& x : r) x += noise(rng);
    SCOPED_TRACE(t);
    const double angle = dihedralAngle(r.data(), abcd);
    EXPECT_NEAR(std::abs(wrapAngle(angle - t)), 0.0, 0.02);
    checkGradient(r, abcd);
  }
  // Exactly trans, unperturbed.
  checkGradient({1, 0, 0, 0, 0, 0, 0, 0, 1, -1, 0, 1}, abcd);
}

TEST(DihedralAngle, GradientHasClosedFormOnHandMadeConfiguration) {
  // For d = (cos t, sin t, 1) the angle is t, so d(angle)/d(d) is the unit azimuthal vector
  // (-sin t, cos t, 0) divided by the distance of d from the b-c axis (1).
  const double t = 0.7;
  const std::vector<double> r = configurationWithDihedral(t);
  std::vector<double> g(12, 0.0);
  dihedralAngle(r.data(), {0, 1, 2, 3}, g.data());
  EXPECT_NEAR(g[9], -std::sin(t), 1e-14);
  EXPECT_NEAR(g[10], std::cos(t), 1e-14);
  EXPECT_NEAR(g[11], 0.0, 1e-14);
  // a = (1,0,0) turning about z by +e changes the angle by -e: gradient (0, -1, 0).
  EXPECT_NEAR(g[0], 0.0, 1e-14);
  EXPECT_NEAR(g[1], -1.0, 1e-14);
  EXPECT_NEAR(g[2], 0.0, 1e-14);
}

TEST(DihedralAngle, CollinearAtomsGiveZeroAndLeaveGradientAlone) {
  const std::vector<double> r = {0, 0, 0, 0, 0, 1, 0, 0, 2, 1, 0, 2};  // a, b, c on the z axis
  std::vector<double> g(12, 3.0);
  EXPECT_EQ(dihedralAngle(r.data(), {0, 1, 2, 3}, g.data()), 0.0);
  for (double v : g) EXPECT_EQ(v, 3.0);
}

TEST(DihedralWrapAngle, EdgeCases) {
  EXPECT_EQ(wrapAngle(0.0), 0.0);
  EXPECT_EQ(wrapAngle(kPi), kPi);
  EXPECT_EQ(wrapAngle(-kPi), kPi);  // the open end maps to the closed one
  EXPECT_EQ(wrapAngle(2 * kPi), 0.0);
  EXPECT_EQ(wrapAngle(-2 * kPi), 0.0);
  EXPECT_EQ(wrapAngle(3 * kPi), kPi);
  EXPECT_EQ(wrapAngle(-3 * kPi), kPi);
  EXPECT_NEAR(wrapAngle(kPi + 0.5), -kPi + 0.5, 1e-15);
  EXPECT_NEAR(wrapAngle(-kPi - 0.5), kPi - 0.5, 1e-15);
  EXPECT_NEAR(wrapAngle(1.0 + 20 * kPi), 1.0, 1e-13);
  EXPECT_NEAR(wrapAngle(-1.0 - 20 * kPi), -1.0, 1e-13);
  // Just past the ends.
  const double above = std::nextafter(kPi, 10.0);
  EXPECT_GT(wrapAngle(above), -kPi);
  EXPECT_NEAR(wrapAngle(above), -kPi, 1e-15);
  const double below = std::nextafter(-kPi, -10.0);
  EXPECT_LE(wrapAngle(below), kPi);
  EXPECT_NEAR(wrapAngle(below), kPi, 1e-15);
  EXPECT_TRUE(std::isnan(wrapAngle(std::numeric_limits<double>::infinity())));
  EXPECT_TRUE(std::isnan(wrapAngle(std::numeric_limits<double>::quiet_NaN())));
  // Always in (-pi, pi] and congruent modulo 2 pi.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1e3, 1e3);
  for (int i = 0; i < 10000; ++i) {
    const double a = u(rng);
    const double w = wrapAngle(a);
    ASSERT_GT(w, -kPi);
    ASSERT_LE(w, kPi);
    const double turns = (a - w) / (2 * kPi);
    ASSERT_NEAR(turns, std::round(turns), 1e-12);
  }
}

}  // namespace
}  // namespace geotps
