// Full-atom pieces: the moving dihedral restraint across the +-pi wrap, and a tiny end-to-end
// full-atom job through the `geotps` binary with export to DCD/PDB read back (and by mdtraj).
#include <OpenMM.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <set>
#include <sstream>

#include "engine/baselines/shooting.h"
#include "engine/config/config.h"
#include "engine/core/random.h"
#include "engine/io/dcd_file.h"
#include "engine/io/h5_file.h"
#include "engine/io/pdb_file.h"
#include "engine/pipelines/job_settings.h"
#include "engine/pipelines/run.h"
#include "engine/samplers/full_atom_sampler.h"
#include "engine/samplers/restrained_dynamics.h"
#include "potentials/dihedral.h"
#include "potentials/openmm_platform.h"
#include "potentials/openmm_potential.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using namespace geotps;

namespace {

const fs::path kSource = GEOTPS_SOURCE_DIR;
const fs::path kData = kSource / "data/alanine_dipeptide";
constexpr DihedralAtoms kPhi{4, 6, 8, 14}, kPsi{6, 8, 14, 16};

OpenMM::Platform& reference() {
  loadOpenMMPlugins();
  return OpenMM::Platform::getPlatformByName("Reference");
}

using geotps::test::readText;

int run(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The restraint energy written independently: 1/2 k sum over CVs of the wrapped difference squared.
double expectedRestraint(const std::vector<double>& x, double k, double phi0, double psi0) {
  const double dphi = wrapAngle(dihedralAngle(x.data(), kPhi, nullptr) - phi0);
  const double dpsi = wrapAngle(dihedralAngle(x.data(), kPsi, nullptr) - psi0);
  return 0.5 * k * (dphi * dphi + dpsi * dpsi);
}

}  // namespace

TEST(RestrainedDynamics, RestraintEnergyAndForceAcrossTheWrap) {
  if (!fs::exists(kData / "system.xml"))
    GTEST_SKIP() << "data/alanine_dipeptide/system.xml missing";
  const auto system = loadSystemXml((kData / "system.xml").string());
  const std::vector<double> x = readPdb((kData / "extended.pdb").string()).positionsNm();
  RestrainedDynamics md(*system, kPhi, kPsi, 300.0, 1.0, 0.001, reference(), {}, 1);
  md.setPositions(x);
  const double phi = dihedralAngle(x.data(), kPhi, nullptr);  // about -2.74
  const double psi = dihedralAngle(x.data(), kPsi, nullptr);  // about 2.87
  const double k = 150.0;
  // Centres on the other side of +-pi: phi0 = phi - 0.5 + 2 pi (true distance 0.5 across the wrap),
  // psi0 = psi + 0.4 - 2 pi (distance 0.4 across the wrap).
  const double phi0 = phi - 0.5 + 2 * std::numbers::pi, psi0 = psi + 0.4 - 2 * std::numbers::pi;
  md.setRestraint(k, wrapAngle(phi0), wrapAngle(psi0));
  std::vector<double> forces;
  const double e = md.restraintEnergy(&forces);
  EXPECT_NEAR(e, 0.5 * k * (0.5 * 0.5 + 0.4 * 0.4), 1e-6);
  EXPECT_NEAR(e, expectedRestraint(x, k, phi0, psi0), 1e-6);
  // Forces = -dE/dx by central differences of the independent expression, on the dihedral atoms.
  const double h = 1e-6;
  for (int atom : {4, 6, 8, 14, 16}) {
    for (int d = 0; d < 3; ++d) {
      std::vector<double> xp = x, xm = x;
      xp[3 * atom + d] += h;
      xm[3 * atom + d] -= h;
      const double fd =
          -(expectedRestraint(xp, k, phi0, psi0) - expectedRestraint(xm, k, phi0, psi0)) / (2 * h);
      EXPECT_NEAR(forces[3 * atom + d], fd, 1e-4 * std::max(1.0, std::abs(fd)))
          << "atom " << atom << " dim " << d;
    }
  }
  // The dynamics computes the restraint analytically: its forces must equal the System's forces
  // (OpenMMPotential, an independent Context) plus OpenMM's CustomTorsionForce restraint forces.
  {
    OpenMMPotential plain(
        std::shared_ptr<const OpenMM::System>(loadSystemXml((kData / "system.xml").string())),
        "Reference");
    std::vector<double> grad(66);
    double u = 0.0;
    plain.evaluate(x.data(), 1, &u, grad.data());
    const auto& dyn = md.dynamicsForces();
    for (int q = 0; q < 66; ++q) {
      EXPECT_NEAR(dyn[q], -grad[q] + forces[q], 1e-6 * std::max(1.0, std::abs(dyn[q]))) << q;
    }
  }
  // The reported potential energy excludes the restraint.
  double u = 0.0;
  md.getState(nullptr, &u);
  md.setRestraint(0.0, 0.0, 0.0);
  double u0 = 0.0;
  md.getState(nullptr, &u0);
  EXPECT_NEAR(u, u0, 1e-9);
}

// The unwrapped restraint (sampler.cv_restraint: unwrapped) measures phi - phi0 along the walker's
// continuously followed angle: a centre 4 rad ahead (unwrapped) pulls phi forward with force 4 k,
// where the wrapped form (2 pi - 4 = 2.28 rad the other way round) pulls it backward. Forces are
// checked against the System's own forces (an independent OpenMM Context) plus -k d grad(phi) with
// the dihedral's gradient; then a centre moved slowly down through -pi is followed across the wrap.
TEST(RestrainedDynamics, UnwrappedRestraintPullsAlongTheCurveNotRoundTheTorus) {
  if (!fs::exists(kData / "system.xml"))
    GTEST_SKIP() << "data/alanine_dipeptide/system.xml missing";
  const auto system = loadSystemXml((kData / "system.xml").string());
  const std::vector<double> x = readPdb((kData / "extended.pdb").string()).positionsNm();
  OpenMMPotential plain(
      std::shared_ptr<const OpenMM::System>(loadSystemXml((kData / "system.xml").string())),
      "Reference");
  std::vector<double> grad(66), gPhi(66, 0.0);
  double u = 0.0;
  plain.evaluate(x.data(), 1, &u, grad.data());
  const double phi = dihedralAngle(x.data(), kPhi, gPhi.data());
  const double psi = dihedralAngle(x.data(), kPsi, nullptr);
  const double k = 20.0, phi0 = phi + 4.0;
  for (const bool unwrapped : {true, false}) {
    RestrainedDynamics md(*system, kPhi, kPsi, 300.0, 1.0, 0.001, reference(), {}, 1);
    md.setUnwrappedRestraint(unwrapped);
    md.setPositions(x);
    md.setRestraint(k, phi0, psi);
    EXPECT_NEAR(md.unwrappedCVs()[0], phi, 1e-12);
    const double d = unwrapped ? -4.0 : 2.0 * std::numbers::pi - 4.0;  // phi - phi0 as measured
    const auto& f = md.dynamicsForces();
    for (int q = 0; q < 66; ++q) {
      const double expected = -grad[q] - k * d * gPhi[q];
      EXPECT_NEAR(f[q], expected, 1e-6 * std::max(1.0, std::abs(expected))) << unwrapped << q;
    }
  }
  // A stiff centre moved down by 4 rad in 0.05 rad steps: the walker crosses phi = -pi and its
  // unwrapped phi follows the centre to phi - 4, while the reported angle stays in (-pi, pi].
  RestrainedDynamics md(*system, kPhi, kPsi, 300.0, 5.0, 0.001, reference(), {}, 3);
  md.setUnwrappedRestraint(true);
  md.setPositions(x);
  for (int j = 1; j <= 80; ++j) {
    md.setRestraint(2000.0, phi - 0.05 * j, psi);
    md.step(40);
  }
  md.step(200);
  std::vector<double> y;
  md.getState(&y, nullptr);
  const double now = dihedralAngle(y.data(), kPhi, nullptr);
  EXPECT_NEAR(md.unwrappedCVs()[0], phi - 4.0, 0.2);
  EXPECT_NEAR(wrapAngle(md.unwrappedCVs()[0] - now), 0.0, 1e-8);
  EXPECT_NEAR(md.unwrappedCVs()[0] - now, -2.0 * std::numbers::pi, 1e-8);
}

TEST(RestrainedDynamics, StiffRestraintHoldsTheDihedrals) {
  if (!fs::exists(kData / "system.xml"))
    GTEST_SKIP() << "data/alanine_dipeptide/system.xml missing";
  const auto system = loadSystemXml((kData / "system.xml").string());
  RestrainedDynamics md(*system, kPhi, kPsi, 300.0, 1.0, 0.001, reference(), {}, 7);
  md.setPositions(readPdb((kData / "extended.pdb").string()).positionsNm());
  // Target across the wrap from the start (phi -2.74 -> +3.0).
  md.setRestraint(2000.0, 3.0, 2.8);
  md.minimize(0.1, 0);
  std::vector<double> x;
  md.getState(&x, nullptr);
  EXPECT_NEAR(wrapAngle(dihedralAngle(x.data(), kPhi, nullptr) - 3.0), 0.0, 0.05);
  EXPECT_NEAR(wrapAngle(dihedralAngle(x.data(), kPsi, nullptr) - 2.8), 0.0, 0.05);
}

TEST(RestrainedDynamics, ThermalisesToTheTemperature) {
  if (!fs::exists(kData / "system.xml"))
    GTEST_SKIP() << "data/alanine_dipeptide/system.xml missing";
  const auto system = loadSystemXml((kData / "system.xml").string());
  const double T = 300.0, kT = 0.00831446261815324 * T;
  RestrainedDynamics md(*system, kPhi, kPsi, T, 5.0, 0.001, reference(), {}, 11, 0);
  md.setPositions(readPdb((kData / "extended.pdb").string()).positionsNm());
  md.setVelocitiesToTemperature();
  md.setRestraint(100.0, -2.7, 2.8);
  // Equipartition: <KE> = (3N/2) kT (no constraints; the friction 5/ps decorrelates quickly).
  double sum = 0.0;
  int count = 0;
  for (int step = 0; step < 6000; ++step) {
    md.step(1);
    if (step < 1000) continue;
    const auto& v = md.velocities();
    double ke = 0.0;
    for (int i = 0; i < 22; ++i) {
      const double m = system->getParticleMass(i);
      for (int d = 0; d < 3; ++d) ke += 0.5 * m * v[3 * i + d] * v[3 * i + d];
    }
    sum += ke;
    ++count;
  }
  EXPECT_NEAR(sum / count / (1.5 * 22 * kT), 1.0, 0.1);
  EXPECT_EQ(md.forceEvaluations(), 6000 + 2);  // one per step, one per position / restraint set
}

TEST(FullAtomJob, SameSeedSameResultWhateverTheThreadCount) {
  if (!fs::exists(kData / "system.xml"))
    GTEST_SKIP() << "data/alanine_dipeptide/system.xml missing";
  const fs::path dir = fs::path(testing::TempDir()) / "geotps_full_atom_seed";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<std::vector<double>> energies;
  for (int threads : {1, 2}) {
    Config c = Config::load((kSource / "tests/data/tiny_full_atom.yaml").string());
    c.set("sampler.threads", std::to_string(threads));
    const std::string output = (dir / fmt::format("t{}.h5", threads)).string();
    test::runJobQuietly(c, output);
    H5File f(output, H5File::Mode::Read);
    energies.push_back(f.readDoubles("/full_atom/energy"));
  }
  EXPECT_EQ(energies[0], energies[1]);
}

// The default job's geodesic with 16 walkers and 25 steps per curve point: with the wrapped
// restraint (the form GeoTPS used before sampler.cv_restraint) some walkers are carried round the
// torus through phi = +-pi and end at B's phi minus 2 pi, over the ridge near phi = 2.4; with the
// unwrapped restraint every walker follows the curve through phi = 0 (docs/method.md, "Full atom
// (beyond the paper)"). Each path's phi is followed over all its frames in /full_atom/cv.
TEST(FullAtomJob, UnwrappedRestraintKeepsEveryWalkerOnTheCurvesSideOfTheTorus) {
  if (!fs::exists(kData / "system.xml"))
    GTEST_SKIP() << "data/alanine_dipeptide/system.xml missing";
  const fs::path dir = fs::path(testing::TempDir()) / "geotps_full_atom_unwrapped";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const double phiB = 1.068;  // states.b of the shipped config, rad
  std::map<std::string, int> aroundCount;
  for (const std::string mode : {"wrapped", "unwrapped"}) {
    Config c = Config::load((kSource / "configs/alanine_dipeptide.yaml").string());
    for (const char* set : {"potential.platform=Reference", "sampler.n_paths=16",
                            "sampler.steps_per_point=25", "output.frame_stride=0"}) {
      c.setFromCommandLine(set);
    }
    c.setFromCommandLine("sampler.cv_restraint=" + mode);
    const std::string output = (dir / (mode + ".h5")).string();
    test::runJobQuietly(c, output);
    H5File f(output, H5File::Mode::Read);
    const auto shape = f.shape("/full_atom/cv");  // M x frames x 2
    const auto cv = f.readDoubles("/full_atom/cv");
    const std::size_t M = shape[0], F = shape[1];
    ASSERT_EQ(M, 16u);
    int around = 0;
    for (std::size_t p = 0; p < M; ++p) {
      double phi = cv[p * F * 2], followed = phi;
      for (std::size_t k = 1; k < F; ++k) {
        const double next = cv[(p * F + k) * 2];
        followed += wrapAngle(next - phi);
        phi = next;
      }
      // Every path ends at B, on the curve's side (phiB) or one turn down (phiB - 2 pi).
      const bool direct = std::abs(followed - phiB) < 1.0;
      const bool turned = std::abs(followed - (phiB - 2 * std::numbers::pi)) < 1.0;
      EXPECT_TRUE(direct || turned) << mode << " path " << p << " ends at phi " << followed;
      if (turned) ++around;
    }
    aroundCount[mode] = around;
  }
  EXPECT_GE(aroundCount["wrapped"], 1) << "the wrapped restraint no longer shows the artefact";
  EXPECT_EQ(aroundCount["unwrapped"], 0);
}

// The reverse direction of the default job (C7ax -> extended) with 8 walkers (the default 200
// steps per curve point; with 25 walkers from either end are dragged too fast to find the saddle).
// Walkers started in C7ax cannot leave its shallow basin while the restraint is weak; they wait
// there and are pulled over late, straight towards the curve's far end, across phi = 0 high on psi
// (near (0, 1.3), about 8 kJ/mol above the saddle near psi = -0.7 that shooting finds). Started
// from the extended end (sampler.direction auto: the CV surface is lower there) and reversed in
// time, the paths cross below psi = 0.5 and stay within 15 kJ/mol of the minimax bound on the CV
// surface (docs/method.md, "Which end the walkers start from").
TEST(FullAtomJob, ReverseDirectionCrossesBelowTheHighRoute) {
  if (!fs::exists(kData / "system.xml"))
    GTEST_SKIP() << "data/alanine_dipeptide/system.xml missing";
  const fs::path dir = fs::path(testing::TempDir()) / "geotps_full_atom_reverse";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const Eigen::Vector2d a(1.068, -0.720);  // C7ax, the start
  std::map<std::string, int> high;
  for (const std::string direction : {"forward", "auto"}) {
    Config c = Config::load((kSource / "configs/alanine_dipeptide.yaml").string());
    for (const std::string& set : std::vector<std::string>{
             "potential.platform=Reference", "sampler.n_paths=8", "sampler.steps_per_point=200",
             "output.frame_stride=0", "potential.pdb_a=" + (kData / "c7ax.pdb").string(),
             "potential.pdb_b=" + (kData / "extended.pdb").string(), "states.a=[1.068,-0.720]",
             "states.b=[-2.645,2.794]", "sampler.direction=" + direction}) {
      c.setFromCommandLine(set);
    }
    const std::string output = (dir / (direction + ".h5")).string();
    test::runJobQuietly(c, output);
    H5File f(output, H5File::Mode::Read);
    EXPECT_EQ(f.readAttributeString("/paths", "direction"),
              direction == "auto" ? "reverse" : "forward");
    const auto shape = f.shape("/full_atom/cv");  // M x frames x 2
    const auto cv = f.readDoubles("/full_atom/cv");
    const auto cvMax = f.readDoubles("/paths/max_energy_cv");
    const double bound = f.readAttributeDouble("/summary", "minimax_bound");
    const std::size_t M = shape[0], F = shape[1];
    ASSERT_EQ(M, 8u);
    int crossedHigh = 0;
    for (std::size_t p = 0; p < M; ++p) {
      // Every path starts in C7ax (its first frame within 0.5 rad) and crosses phi = 0 from
      // phi > 0 to phi < 0; its last such crossing's psi, interpolated between the two frames.
      const double* x = &cv[p * F * 2];
      EXPECT_LT(std::hypot(wrapAngle(x[0] - a[0]), wrapAngle(x[1] - a[1])), 0.5)
          << direction << " path " << p;
      double crossing = std::numeric_limits<double>::quiet_NaN();
      for (std::size_t k = 1; k < F; ++k) {
        const double p0 = x[2 * (k - 1)], p1 = x[2 * k];
        if (p0 > 0 && p1 <= 0 && p0 < 2.0 && p1 > -2.0) {
          const double t = p0 / (p0 - p1);
          crossing = x[2 * (k - 1) + 1] + t * wrapAngle(x[2 * k + 1] - x[2 * (k - 1) + 1]);
        }
      }
      ASSERT_FALSE(std::isnan(crossing)) << direction << " path " << p << " never crosses phi = 0";
      if (crossing > 0.5) ++crossedHigh;
      if (direction == "auto") {
        EXPECT_LE(cvMax[p], bound + 15.0) << "path " << p << " crosses at psi " << crossing;
      }
    }
    high[direction] = crossedHigh;
  }
  EXPECT_GE(high["forward"], 4) << "walkers from C7ax no longer take the high route";
  EXPECT_EQ(high["auto"], 0);
}

TEST(FullAtomCli, TinyJobRunsAndExportsDcdAndPdb) {
  if (!fs::exists(kData / "system.xml"))
    GTEST_SKIP() << "data/alanine_dipeptide/system.xml missing";
  const fs::path dir = fs::path(testing::TempDir()) / "geotps_full_atom";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string bin = GEOTPS_BINARY;
  const std::string config = (kSource / "tests/data/tiny_full_atom.yaml").string();
  ASSERT_EQ(run("cd '" + dir.string() + "' && '" + bin + "' run '" + config +
                "' -q --out fa.h5 > run.log 2>&1"),
            0)
      << readText(dir / "run.log");
  H5File f((dir / "fa.h5").string(), H5File::Mode::Read);
  const auto shape = f.shape("/full_atom/frames");
  ASSERT_EQ(shape, (std::vector<std::size_t>{3, 16 * 10 / 5, 22, 3}));
  EXPECT_EQ(f.shape("/full_atom/energy"), (std::vector<std::size_t>{3, 160}));
  // Full-atom MaxEnergy = max frame energy minus the lower minimised end-state energy.
  const auto energy = f.readDoubles("/full_atom/energy");
  const auto maxE = f.readDoubles("/paths/max_energy_full_atom");
  const double ref = f.readAttributeDouble("/full_atom", "reference_energy");
  for (int p = 0; p < 3; ++p) {
    double m = -1e300;
    for (int k = 0; k < 160; ++k) m = std::max(m, energy[p * 160 + k]);
    EXPECT_NEAR(maxE[p], m - ref, 1e-3 * std::abs(m));  // energies stored as float32
  }
  // The stored CVs are the dihedrals of the stored frames (frame 5k+4 is stored frame k).
  const auto frames = f.readDoubles("/full_atom/frames");
  const auto cv = f.readDoubles("/full_atom/cv");
  for (int k : {0, 7, 31}) {
    const std::vector<double> x(frames.begin() + (1 * 32 + k) * 66,
                                frames.begin() + (1 * 32 + k + 1) * 66);
    const std::size_t fi = 1 * 160 + 5 * k + 4;
    EXPECT_NEAR(wrapAngle(dihedralAngle(x.data(), kPhi, nullptr) - cv[2 * fi]), 0.0, 1e-4);
    EXPECT_NEAR(wrapAngle(dihedralAngle(x.data(), kPsi, nullptr) - cv[2 * fi + 1]), 0.0, 1e-4);
  }

  // Export path 1 as DCD + PDB, and as a multi-model PDB.
  ASSERT_EQ(run("cd '" + dir.string() + "' && '" + bin +
                "' export fa.h5 --path 1 --format dcd --out p1 > export.log 2>&1"),
            0)
      << readText(dir / "export.log");
  ASSERT_EQ(run("cd '" + dir.string() + "' && '" + bin +
                "' export fa.h5 --path 1 --format pdb --out p1_models > export2.log 2>&1"),
            0);
  int nAtoms = 0;
  const auto dcd = readDcd((dir / "p1.dcd").string(), nAtoms);
  ASSERT_EQ(nAtoms, 22);
  ASSERT_EQ(dcd.size(), 32u);
  double worst = 0.0;
  for (std::size_t k = 0; k < dcd.size(); ++k) {
    for (int q = 0; q < 66; ++q)
      worst = std::max(worst, std::abs(dcd[k][q] - frames[(32 + k) * 66 + q]));
  }
  EXPECT_LT(worst * 10.0, 1e-3) << "DCD vs stored frames, Angstrom";
  const auto models = readPdbModels((dir / "p1_models.pdb").string());
  ASSERT_EQ(models.size(), 32u);
  EXPECT_NEAR(models[31][0], frames[(32 + 31) * 66], 1e-4);
  EXPECT_NE(run("cd '" + dir.string() + "' && '" + bin + "' export fa.h5 --path 3 > bad.log 2>&1"),
            0);
  EXPECT_NE(readText(dir / "bad.log").find("out of range"), std::string::npos);

  // mdtraj reads the DCD with the topology PDB (skipped where python3-mdtraj is absent).
  if (run("/usr/bin/python3 -c 'import mdtraj' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-mdtraj not installed: mdtraj cross-check skipped";
  }
  const std::string py =
      "import mdtraj; t = mdtraj.load('p1.dcd', top='p1.pdb'); "
      "print(t.n_frames, t.n_atoms, repr(float(t.xyz[5, 8, 1])))";
  ASSERT_EQ(run("cd '" + dir.string() + "' && /usr/bin/python3 -c \"" + py + "\" > md.txt 2>&1"), 0)
      << readText(dir / "md.txt");
  std::istringstream md(readText(dir / "md.txt"));
  int nf = 0, na = 0;
  double y = 0;
  md >> nf >> na >> y;
  EXPECT_EQ(nf, 32);
  EXPECT_EQ(na, 22);
  EXPECT_NEAR(y, frames[(32 + 5) * 66 + 8 * 3 + 1], 1e-4);
}

/// The bonds of the System XML's HarmonicBondForce, counted from the text (independently of
/// OpenMM and of our PDB code): the <Bond .../> entries between its <Bonds> and </Bonds>.
int harmonicBondCountInXml(const fs::path& xml) {
  const std::string text = readText(xml);
  const std::size_t force = text.find("type=\"HarmonicBondForce\"");
  if (force == std::string::npos) return -1;
  const std::size_t begin = text.find("<Bonds>", force), end = text.find("</Bonds>", force);
  int n = 0;
  for (std::size_t at = text.find("<Bond ", begin); at < end; at = text.find("<Bond ", at + 1)) ++n;
  return n;
}

/// Numbers printed by a python3 script: whitespace-separated after a keyword line.
std::vector<double> numbersAfter(const std::string& output, const std::string& key) {
  std::istringstream in(output);
  std::vector<double> v;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream values(line.substr(key.size() + 1));
    for (double x; values >> x;) v.push_back(x);
    return v;
  }
  return v;
}

// `geotps export` for the MD tools: --path all / A: / I, the formats mdtraj-h5, dcd and pdb, the
// frame times (stored frame k is step (k + 1) * output.frame_stride of dynamics.time_step), the
// complete CONECT records (the System's bonds, each once), bad --path values; and, where python3
// has them, mdtraj and MDAnalysis reading the files back.
TEST(FullAtomCli, ExportsOpenInMdtrajAndMDAnalysisWithStepTimes) {
  if (!fs::exists(kData / "system.xml"))
    GTEST_SKIP() << "data/alanine_dipeptide/system.xml missing";
  const fs::path dir = geotps::test::freshDir("geotps_full_atom_export");
  const std::string config = (kSource / "tests/data/tiny_full_atom.yaml").string();
  auto r = geotps::test::runGeotps("run '" + config + "' -q --out fa.h5", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const Config job = Config::load(config);
  const double dt = job.getReal("dynamics.time_step");
  const long long stride = job.getInt("output.frame_stride");
  ASSERT_EQ(stride, 5);
  H5File f((dir / "fa.h5").string(), H5File::Mode::Read);
  const auto frames = f.readDoubles("/full_atom/frames");  // 3 x 32 x 22 x 3
  ASSERT_EQ(frames.size(), 3u * 32 * 66);
  auto stored = [&](int p, int k, int q) { return frames[(p * 32 + k) * 66 + q]; };

  // --path all as mdtraj HDF5: one topology PDB and one trajectory per path.
  r = geotps::test::runGeotps("export fa.h5 --path all --format mdtraj-h5 --out all/fa", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir / "all")) names.insert(e.path().filename());
  EXPECT_EQ(names, (std::set<std::string>{"fa.pdb", "fa_path0.h5", "fa_path1.h5", "fa_path2.h5"}));
  for (int p = 0; p < 3; ++p) {
    H5File h((dir / fmt::format("all/fa_path{}.h5", p)).string(), H5File::Mode::Read);
    ASSERT_EQ(h.shape("/coordinates"), (std::vector<std::size_t>{32, 22, 3}));
    const auto t = h.readDoubles("/time");
    for (int k = 0; k < 32; ++k) EXPECT_NEAR(t[k], (k + 1) * stride * dt, 1e-6) << p << " " << k;
    const auto xyz = h.readDoubles("/coordinates");
    for (int k : {0, 17, 31}) EXPECT_EQ(xyz[k * 66 + 40], stored(p, k, 40));  // float32 both
  }
  // One path, default prefix: DCD + PDB; the DCD header holds the step times.
  r = geotps::test::runGeotps("export fa.h5 --path 1", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("wrote fa_path1.dcd"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrote fa_path1.pdb"), std::string::npos) << r.out;
  {
    const std::string bytes = readText(dir / "fa_path1.dcd");
    auto int32At = [&](std::size_t o) {
      std::int32_t v = 0;
      std::memcpy(&v, bytes.data() + o, 4);
      return v;
    };
    EXPECT_EQ(int32At(8), 32);       // NSET
    EXPECT_EQ(int32At(12), stride);  // ISTART: the first stored frame is step 5
    EXPECT_EQ(int32At(16), stride);  // NSAVC
    float delta = 0;
    std::memcpy(&delta, bytes.data() + 8 + 36, 4);
    EXPECT_NEAR(delta * 0.0488882129, dt, 1e-9);
  }
  // A: range as multi-model PDBs, one per path.
  r = geotps::test::runGeotps("export fa.h5 --path 1: --format pdb --out models/m", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  for (int p : {1, 2}) {
    const auto models = readPdbModels((dir / fmt::format("models/m_path{}.pdb", p)).string());
    ASSERT_EQ(models.size(), 32u);
    EXPECT_NEAR(models[9][3 * 13 + 2], stored(p, 9, 3 * 13 + 2), 1e-4);
  }
  EXPECT_FALSE(fs::exists(dir / "models/m_path0.pdb"));

  // CONECT: every bond of the System once (listed from both atoms, no pair twice).
  const int systemBonds = harmonicBondCountInXml(kData / "system.xml");
  ASSERT_EQ(systemBonds, 21);
  EXPECT_EQ(readPdb((dir / "fa_path1.pdb").string()).bonds.size(), 21u);
  EXPECT_EQ(parsePdbStructure(f.readString("/full_atom/topology_pdb"), "topology").bonds.size(),
            21u);
  {
    std::map<std::pair<int, int>, int> listed;
    std::istringstream in(readText(dir / "fa_path1.pdb"));
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("CONECT", 0) != 0) continue;
      const int a = std::stoi(line.substr(6, 5));
      for (std::size_t c = 11; c + 5 <= line.size(); c += 5)
        ++listed[{a, std::stoi(line.substr(c, 5))}];
    }
    EXPECT_EQ(listed.size(), 42u);  // 21 bonds, from each of their two atoms
    for (const auto& [pair, times] : listed) {
      EXPECT_EQ(times, 1) << pair.first << "-" << pair.second;
      EXPECT_EQ(listed.count({pair.second, pair.first}), 1u) << pair.first << "-" << pair.second;
    }
  }

  // Bad --path values: exit 2, naming --path, the value and the valid range; nothing written.
  for (const std::string bad : {"-1", "3", "abc", "2:1", "1:1", "3:", "1:x", "0:4"}) {
    r = geotps::test::runGeotps("export fa.h5 --path='" + bad + "' --out bad", dir);
    EXPECT_EQ(r.exitCode, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--path"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("fa.h5 has paths 0..2"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "bad.pdb")) << bad;
  }
  r = geotps::test::runGeotps("export fa.h5 --method mcmc_variable --out bad", dir);
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("--method: fa.h5 is a `geotps run` result file"), std::string::npos)
      << r.err;

  // mdtraj: the HDF5 trajectory with its times, the DCD + PDB, the PDB's bonds.
  if (run("/usr/bin/python3 -c 'import mdtraj' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-mdtraj not installed: mdtraj and MDAnalysis cross-checks skipped";
  }
  std::ofstream(dir / "md.py") << R"PY(
import mdtraj as md
t = md.load("all/fa_path2.h5")
print("h5_shape:", t.n_frames, t.n_atoms, t.topology.n_bonds)
print("h5_time:", " ".join(repr(float(x)) for x in t.time))
print("h5_xyz:", " ".join(repr(float(x)) for x in t.xyz.ravel()))
d = md.load("fa_path1.dcd", top="fa_path1.pdb")
print("dcd_shape:", d.n_frames, d.n_atoms)
print("dcd_time:", " ".join(repr(float(x)) for x in d.time))
print("dcd_xyz:", " ".join(repr(float(x)) for x in d.xyz.ravel()))
p = md.load_pdb("fa_path1.pdb").topology
print("pdb_bonds:", p.n_bonds, len({tuple(sorted((b[0].index, b[1].index))) for b in p.bonds}))
)PY";
  ASSERT_EQ(run("cd '" + dir.string() + "' && /usr/bin/python3 md.py > md.txt 2>&1"), 0)
      << readText(dir / "md.txt");
  const std::string md = readText(dir / "md.txt");
  EXPECT_EQ(numbersAfter(md, "h5_shape"), (std::vector<double>{32, 22, 21})) << md;
  const auto h5Time = numbersAfter(md, "h5_time");
  ASSERT_EQ(h5Time.size(), 32u);
  for (int k = 0; k < 32; ++k) EXPECT_NEAR(h5Time[k], (k + 1) * stride * dt, 1e-6) << k;
  const auto h5Xyz = numbersAfter(md, "h5_xyz");
  ASSERT_EQ(h5Xyz.size(), 32u * 66);
  for (int k = 0; k < 32; ++k)
    for (int q = 0; q < 66; ++q) EXPECT_NEAR(h5Xyz[k * 66 + q], stored(2, k, q), 1e-6);
  EXPECT_EQ(numbersAfter(md, "dcd_shape"), (std::vector<double>{32, 22})) << md;
  const auto dcdXyz = numbersAfter(md, "dcd_xyz");
  ASSERT_EQ(dcdXyz.size(), 32u * 66);
  for (int k = 0; k < 32; ++k)
    for (int q = 0; q < 66; ++q) EXPECT_NEAR(dcdXyz[k * 66 + q], stored(1, k, q), 1e-6);
  // mdtraj 1.9.7 numbers DCD frames 0, 1, ... (it does not read the header's DELTA, ISTART and
  // NSAVC; the reader limit docs/output.md states, with the remedies: mdtraj-h5, or the times
  // from the result file; should a newer mdtraj read them, this fails and the docs must change).
  const auto dcdTime = numbersAfter(md, "dcd_time");
  ASSERT_EQ(dcdTime.size(), 32u) << md;
  for (int k = 0; k < 32; ++k) EXPECT_EQ(dcdTime[k], k) << k;
  // mdtraj adds CONECT bonds on top of its residue templates' bonds without merging them: 21
  // distinct pairs.
  const auto pdbBonds = numbersAfter(md, "pdb_bonds");
  ASSERT_EQ(pdbBonds.size(), 2u) << md;
  EXPECT_EQ(pdbBonds[1], 21) << md;

  // MDAnalysis: the DCD header's times and the PDB's CONECT bonds.
  if (run("/usr/bin/python3 -c 'import MDAnalysis' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-mdanalysis not installed: MDAnalysis cross-check skipped";
  }
  std::ofstream(dir / "mda.py") << R"PY(
import warnings
warnings.simplefilter("ignore")
import MDAnalysis as mda
u = mda.Universe("fa_path1.pdb", "fa_path1.dcd")
print("dt:", u.trajectory.dt)
print("time:", " ".join(repr(float(ts.time)) for ts in u.trajectory))
u.trajectory[31]
print("xyz31:", " ".join(repr(float(x)) for x in u.atoms.positions.ravel()))
print("bonds:", len(u.bonds))
)PY";
  ASSERT_EQ(run("cd '" + dir.string() + "' && /usr/bin/python3 mda.py > mda.txt 2>&1"), 0)
      << readText(dir / "mda.txt");
  const std::string mda = readText(dir / "mda.txt");
  EXPECT_EQ(numbersAfter(mda, "bonds"), (std::vector<double>{21})) << mda;
  const auto dtRead = numbersAfter(mda, "dt");
  ASSERT_EQ(dtRead.size(), 1u) << mda;
  EXPECT_NEAR(dtRead[0], stride * dt, 1e-7) << mda;
  const auto mdaTime = numbersAfter(mda, "time");
  ASSERT_EQ(mdaTime.size(), 32u) << mda;
  for (int k = 0; k < 32; ++k) EXPECT_NEAR(mdaTime[k], (k + 1) * stride * dt, 1e-6) << k;
  const auto xyz31 = numbersAfter(mda, "xyz31");  // Angstrom
  ASSERT_EQ(xyz31.size(), 66u) << mda;
  for (int q = 0; q < 66; ++q) EXPECT_NEAR(xyz31[q] / 10.0, stored(1, 31, q), 1e-6);
}

// `potential.platform: auto` in a compare is chosen once, by the compare, and its geodesic run
// takes that platform instead of timing the platforms again (one platform for every method).
TEST(FullAtomCli, CompareChoosesTheAutoPlatformOnceForEveryMethod) {
  if (!fs::exists(kData / "system.xml"))
    GTEST_SKIP() << "data/alanine_dipeptide/system.xml missing";
  const fs::path dir = geotps::test::freshDir("geotps_full_atom_compare_auto");
  const std::string config = (kSource / "tests/data/tiny_compare_full_atom.yaml").string();
  const auto r = geotps::test::runGeotps("compare '" + config +
                                             "' --out cmp.h5 --set potential.platform=auto "
                                             "--set 'compare.methods=[geodesic]'",
                                         dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::size_t timings = 0;
  for (auto at = r.out.find("OpenMM platform timing"); at != std::string::npos;
       at = r.out.find("OpenMM platform timing", at + 1))
    ++timings;
  EXPECT_EQ(timings, 1u) << r.out;
  H5File g((dir / "cmp_geodesic.h5").string(), H5File::Mode::Read);
  const std::string platform = g.readAttributeString("/full_atom", "platform");
  EXPECT_NE(r.out.find("# potential.platform auto: " + platform + ", as chosen for the other"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("chose " + platform), std::string::npos) << r.out;
  EXPECT_EQ(g.readAttributeString("/full_atom", "platform_report"),
            "OpenMM platform " + platform +
                " (potential.platform auto: as chosen for the other methods of the compare)");
}

// A full-atom compare file: the MCMC's index datasets are int64, the molecule's topology is stored,
// and `geotps export --method` writes its stored paths, whose stored (phi, psi) (path_frames) are
// the dihedrals mdtraj computes from the exported frames; row j of a path is its frame
// (j + 1) * mcmc.frame_stride - 1 (time 0: the path's first frame).
TEST(FullAtomCli, CompareMcmcPathsExportWithTheirStoredAngles) {
  if (!fs::exists(kData / "system.xml"))
    GTEST_SKIP() << "data/alanine_dipeptide/system.xml missing";
  const fs::path dir = geotps::test::freshDir("geotps_full_atom_compare_export");
  const std::string config = (kSource / "tests/data/tiny_compare_full_atom.yaml").string();
  auto r = geotps::test::runGeotps(
      "compare '" + config + "' -q --out cmp.h5 --set 'compare.methods=[mcmc_variable]'", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const Config job = Config::load(config);
  const double dt = job.getReal("dynamics.time_step");
  const long long stride = job.getInt("mcmc.frame_stride");
  H5File f((dir / "cmp.h5").string(), H5File::Mode::Read);
  const std::string m = "/methods/mcmc_variable";
  for (const char* name : {"chain", "trial", "path_length", "path_offsets"}) {
    EXPECT_TRUE(f.holdsIntegers(m + "/" + name)) << name;
  }
  EXPECT_FALSE(f.holdsIntegers(m + "/path_frames"));
  EXPECT_EQ(parsePdbStructure(f.readString("/topology_pdb"), "topology").bonds.size(), 21u);
  const auto offsets = f.readDoubles(m + "/path_offsets");
  const auto lengths = f.readDoubles(m + "/path_length");
  const auto cvs = f.readDoubles(m + "/path_frames");
  const auto positionsShape = f.shape(m + "/path_positions");
  ASSERT_EQ(positionsShape, (std::vector<std::size_t>{cvs.size() / 2, 22, 3}));
  ASSERT_GE(offsets.size(), 2u);
  ASSERT_EQ(offsets.back(), static_cast<double>(cvs.size() / 2));
  const std::size_t P = offsets.size() - 1;
  const auto rows0 = static_cast<std::size_t>(offsets[1] - offsets[0]);
  ASSERT_GT(rows0, 0u);
  EXPECT_EQ(static_cast<long long>(rows0), static_cast<long long>(lengths[0]) / stride);

  // One path as mdtraj HDF5 (+ topology PDB); every path as DCD (+ one topology PDB).
  r = geotps::test::runGeotps(
      "export cmp.h5 --method mcmc_variable --path 0 --format mdtraj-h5 --out mc", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "mc.h5"));
  EXPECT_TRUE(fs::exists(dir / "mc.pdb"));
  {
    H5File h((dir / "mc.h5").string(), H5File::Mode::Read);
    ASSERT_EQ(h.shape("/coordinates"), (std::vector<std::size_t>{rows0, 22, 3}));
    const auto t = h.readDoubles("/time");
    for (std::size_t k = 0; k < rows0; ++k)
      EXPECT_NEAR(t[k], static_cast<double>((k + 1) * stride - 1) * dt, 1e-6) << k;
  }
  r = geotps::test::runGeotps("export cmp.h5 --method mcmc_variable --path all", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "cmp_mcmc_variable.pdb"));
  for (std::size_t p = 0; p < P; ++p) {
    const bool hasRows = offsets[p + 1] > offsets[p];
    EXPECT_EQ(fs::exists(dir / fmt::format("cmp_mcmc_variable_path{}.dcd", p)), hasRows) << p;
    if (!hasRows) continue;
    int nAtoms = 0;
    EXPECT_EQ(
        readDcd((dir / fmt::format("cmp_mcmc_variable_path{}.dcd", p)).string(), nAtoms).size(),
        static_cast<std::size_t>(offsets[p + 1] - offsets[p]));
  }
  // A compare file needs --method, naming one of its methods.
  r = geotps::test::runGeotps("export cmp.h5 --path 0 --out bad", dir);
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("--method: cmp.h5 is a `geotps compare` file"), std::string::npos) << r.err;
  r = geotps::test::runGeotps("export cmp.h5 --method doob --out bad", dir);
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("'doob' is not a method of cmp.h5"), std::string::npos) << r.err;
  r = geotps::test::runGeotps(
      fmt::format("export cmp.h5 --method mcmc_variable --path {} --out bad", P), dir);
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find(fmt::format("cmp.h5 (method mcmc_variable) has paths 0..{}", P - 1)),
            std::string::npos)
      << r.err;

  if (run("/usr/bin/python3 -c 'import mdtraj' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-mdtraj not installed: mdtraj cross-check skipped";
  }
  std::ofstream(dir / "angles.py") << R"PY(
import mdtraj as md
t = md.load("mc.h5")
_, phi = md.compute_phi(t)
_, psi = md.compute_psi(t)
print("phi:", " ".join(repr(float(x)) for x in phi[:, 0]))
print("psi:", " ".join(repr(float(x)) for x in psi[:, 0]))
)PY";
  ASSERT_EQ(run("cd '" + dir.string() + "' && /usr/bin/python3 angles.py > angles.txt 2>&1"), 0)
      << readText(dir / "angles.txt");
  const std::string out = readText(dir / "angles.txt");
  const auto phi = numbersAfter(out, "phi"), psi = numbersAfter(out, "psi");
  ASSERT_EQ(phi.size(), rows0) << out;
  ASSERT_EQ(psi.size(), rows0) << out;
  for (std::size_t k = 0; k < rows0; ++k) {
    EXPECT_NEAR(wrapAngle(phi[k] - cvs[2 * k]), 0.0, 1e-4) << k;
    EXPECT_NEAR(wrapAngle(psi[k] - cvs[2 * k + 1]), 0.0, 1e-4) << k;
  }
}

// Full-atom shooting dynamics (engine/baselines/shooting.h): the observation of a configuration is
// OpenMM's energy (relative to the reference) and the dihedral CVs; fresh momenta are
// Maxwell-Boltzmann (equipartition: mean kinetic energy 3N/2 kT); one force evaluation per step and
// per setState.
TEST(FullAtomShooting, ObservationsMomentaAndEvaluationCounts) {
  const Config config = Config::load((kSource / "tests/data/tiny_full_atom.yaml").string());
  const JobSettings job = readJobSettings(config);
  const FullAtomSetup setup = prepareFullAtom(job.potential, job.molecule, job.source);
  const double reference = std::min(setup.energyA, setup.energyB);
  auto dyn = makeFullAtomDynamics(setup, 1.0, 0.001, 9, 0, reference);
  const long long e0 = dyn->evaluations();
  dyn->setState(setup.positionsA.data(), {}, 1.0);
  FrameObservation o = dyn->observe();
  OpenMMPotential omm(setup.system, "Reference");
  EXPECT_NEAR(o.energy, omm.energy(setup.positionsA.data()) - reference, 1e-6);
  EXPECT_NEAR(o.cv[0], dihedralAngle(setup.positionsA.data(), kPhi, nullptr), 1e-12);
  EXPECT_NEAR(o.cv[1], dihedralAngle(setup.positionsA.data(), kPsi, nullptr), 1e-12);
  EXPECT_TRUE(std::isnan(o.energy2));  // no CV surface given

  const int n = setup.system->getNumParticles();
  Rng rng(1);
  double kinetic = 0.0;
  const int draws = 400;
  for (int k = 0; k < draws; ++k) {
    const std::vector<double> v = dyn->drawMomenta(rng);
    ASSERT_EQ(v.size(), 3u * n);
    for (int i = 0; i < n; ++i) {
      const double m = setup.system->getParticleMass(i);
      for (int d = 0; d < 3; ++d) kinetic += 0.5 * m * v[3 * i + d] * v[3 * i + d] / draws;
    }
  }
  const double expected = 1.5 * n * setup.kT();  // kJ/mol
  // Standard error of the mean of a chi-square with 3N dof: expected * sqrt(2 / (3N draws)).
  EXPECT_NEAR(kinetic, expected, 5.0 * expected * std::sqrt(2.0 / (3.0 * n * draws)));

  const std::vector<double> p = dyn->drawMomenta(rng);
  dyn->setState(setup.positionsA.data(), p, -1.0);
  for (int s = 0; s < 25; ++s) dyn->step(rng);
  o = dyn->observe();
  std::vector<double> x(dyn->configuration(), dyn->configuration() + 3 * n);
  EXPECT_NEAR(o.energy, omm.energy(x.data()) - reference, 1e-6);
  EXPECT_GT(o.energy, 0.0);                    // thermal motion away from the minimum
  EXPECT_EQ(dyn->evaluations() - e0, 2 + 25);  // two setState calls and 25 steps
}

// `geotps compare` in full atom: MCMC (variable length) and Doob's Lagrangian on OpenMM. The stored
// MCMC positions have the stored (phi, psi), and no stored frame (MCMC or Doob) has an energy above
// its path's MaxEnergy (energies recomputed here with OpenMM from the stored positions).
TEST(FullAtomCli, TinyCompareStoresPathsConsistentWithTheirMaxEnergy) {
  if (!GEOTPS_HAS_TORCH) GTEST_SKIP() << "compares Doob's Lagrangian, which needs LibTorch";
  const fs::path dir = fs::path(testing::TempDir()) / "geotps_full_atom_compare";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string config = (kSource / "tests/data/tiny_compare_full_atom.yaml").string();
  ASSERT_EQ(run("cd '" + dir.string() + "' && '" GEOTPS_BINARY "' compare '" + config +
                "' -q --out cmp.h5 > run.log 2>&1"),
            0)
      << readText(dir / "run.log");
  H5File f((dir / "cmp.h5").string(), H5File::Mode::Read);
  H5File g((dir / "cmp_geodesic.h5").string(), H5File::Mode::Read);
  const double ref = g.readAttributeDouble("/full_atom", "reference_energy");
  auto system = std::shared_ptr<OpenMM::System>(loadSystemXml((kData / "system.xml").string()));
  OpenMMPotential omm(system, "Reference");

  const std::string m = "/methods/mcmc_variable";
  const auto positions = f.readDoubles(m + "/path_positions");
  const auto cvs = f.readDoubles(m + "/path_frames");
  const auto offsets = f.readDoubles(m + "/path_offsets");
  const auto maxE = f.readDoubles(m + "/max_energy");
  ASSERT_EQ(positions.size(), cvs.size() / 2 * 66);
  ASSERT_FALSE(maxE.empty());
  for (std::size_t p = 0; p < maxE.size(); ++p) {
    for (auto r = static_cast<std::size_t>(offsets[p]); r < offsets[p + 1]; ++r) {
      const double* x = &positions[r * 66];
      EXPECT_NEAR(dihedralAngle(x, kPhi, nullptr), cvs[2 * r], 1e-4);
      EXPECT_NEAR(dihedralAngle(x, kPsi, nullptr), cvs[2 * r + 1], 1e-4);
      EXPECT_LE(omm.energy(x) - ref, maxE[p] + 0.05) << "path " << p << " row " << r;
    }
  }
  // The A -> B segment MaxEnergy: variable-length paths are segments already; a geodesic path's
  // segment runs from its last frame in A (mcmc.state_a_box: phi on the arc from 2.75 through +-pi
  // to 5.4832 - 2 pi, any psi) before its first frame within 0.5 rad of B (mcmc.state_radius,
  // wrapped distance to the minimised state's (phi, psi)) to that frame.
  EXPECT_EQ(f.readDoubles(m + "/max_energy_transition"), maxE);
  {
    const auto shape = g.shape("/full_atom/energy");
    const auto energy = g.readDoubles("/full_atom/energy");
    const auto cv = g.readDoubles("/full_atom/cv");
    const auto seg = f.readDoubles("/methods/geodesic/max_energy_transition");
    const auto whole = f.readDoubles("/methods/geodesic/max_energy");
    ASSERT_EQ(seg.size(), shape[0]);
    const double b[2] = {1.0678, -0.7197};  // minimised, 4 decimals
    auto dist = [](const double* x, const double* c) {
      const double u = wrapAngle(x[0] - c[0]), v = wrapAngle(x[1] - c[1]);
      return std::sqrt(u * u + v * v);
    };
    for (std::size_t p = 0; p < shape[0]; ++p) {
      std::size_t lastA = 0, k = 0;
      for (; k < shape[1]; ++k) {
        const double* x = &cv[(p * shape[1] + k) * 2];
        if (dist(x, b) <= 0.5) break;
        if (std::fmod(x[0] - 2.75 + 4.0 * std::numbers::pi, 2.0 * std::numbers::pi) <=
            5.4832 - 2.75)
          lastA = k;
      }
      if (k == shape[1]) {
        EXPECT_TRUE(std::isnan(seg[p])) << p;
        continue;
      }
      double top = -1e300;
      for (std::size_t q = lastA; q <= k; ++q) top = std::max(top, energy[p * shape[1] + q]);
      EXPECT_NEAR(seg[p], top - ref, 1e-9) << p;
      EXPECT_LE(seg[p], whole[p]) << p;
    }
  }
  const auto doobFrames = f.readDoubles("/methods/doob/frames");
  const auto doobMax = f.readDoubles("/methods/doob/max_energy");
  ASSERT_EQ(f.shape("/methods/doob/frames"), (std::vector<std::size_t>{4, 5, 66}));
  for (std::size_t p = 0; p < 4; ++p) {
    for (std::size_t k = 0; k < 5; ++k) {
      const double e = omm.energy(&doobFrames[(p * 5 + k) * 66]) - ref;
      EXPECT_LE(e, doobMax[p] + 1e-3 * std::abs(doobMax[p]) + 0.05) << p << " " << k;
    }
  }
}
