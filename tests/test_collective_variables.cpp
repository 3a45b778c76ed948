// Collective variables of a molecule as a list (cv.variables): names resolved from the PDB against
// mdtraj's indices (data/<molecule>/mdtraj_torsions.txt, written by mdtraj), the D-torsion
// restraint against OpenMM's CustomTorsionForce and finite differences, D = 3 full-atom paths
// following their restraint, and the errors a user meets through the `geotps` binary.
#include <OpenMM.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>

#include "engine/config/config.h"
#include "engine/core/schedule.h"
#include "engine/io/h5_file.h"
#include "engine/io/pdb_file.h"
#include "engine/molecule/collective_variables.h"
#include "engine/molecule/cv_dynamics.h"
#include "engine/molecule/molecule.h"
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
const fs::path kAlanine = kSource / "data/alanine_dipeptide";

OpenMM::Platform& reference() {
  loadOpenMMPlugins();
  return OpenMM::Platform::getPlatformByName("Reference");
}

struct MdtrajTorsion {
  std::string label;
  std::array<int, 4> atoms;
};

/// `<kind> <resSeq> a b c d` lines ('#' comments), as scripts/cv_indices.py writes them.
std::vector<MdtrajTorsion> readMdtrajTorsions(const fs::path& path) {
  std::ifstream in(path);
  std::vector<MdtrajTorsion> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string kind;
    int residue = 0;
    MdtrajTorsion t;
    if (!(words >> kind >> residue >> t.atoms[0] >> t.atoms[1] >> t.atoms[2] >> t.atoms[3]))
      continue;
    t.label = fmt::format("{} {}", kind, residue);
    out.push_back(t);
  }
  return out;
}

std::string errorOf(const std::vector<std::string>& entries, const PdbStructure& pdb) {
  try {
    resolveTorsionCVs(entries, pdb, static_cast<int>(pdb.atoms.size()), "job.yaml", "mol.pdb");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// Every shipped molecule with an mdtraj index file: each torsion mdtraj lists resolves by name to
// the same four atoms, and the engine names no torsion of a kind mdtraj computes that mdtraj lacks.
TEST(CollectiveVariables, NamesResolveToMdtrajsIndicesOnShippedMolecules) {
  int molecules = 0;
  for (const auto& dir : fs::directory_iterator(kSource / "data")) {
    const fs::path list = dir.path() / "mdtraj_torsions.txt";
    if (!fs::exists(list)) continue;
    fs::path pdbPath;
    for (const auto& f : fs::directory_iterator(dir.path()))
      if (f.path().extension() == ".pdb" && (pdbPath.empty() || f.path() < pdbPath))
        pdbPath = f.path();
    ASSERT_FALSE(pdbPath.empty()) << dir.path();
    const PdbStructure pdb = readPdb(pdbPath.string());
    const std::vector<MdtrajTorsion> expected = readMdtrajTorsions(list);
    ASSERT_FALSE(expected.empty()) << list;
    std::vector<std::string> labels;
    for (const auto& t : expected) labels.push_back(t.label);
    const auto resolved = resolveTorsionCVs(labels, pdb, static_cast<int>(pdb.atoms.size()),
                                            "test", pdbPath.string());
    ASSERT_EQ(resolved.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(resolved[i].atoms, expected[i].atoms) << list << ": " << expected[i].label;
      EXPECT_EQ(resolved[i].label, expected[i].label);
    }
    // The engine's list of named torsions has exactly mdtraj's (for the kinds mdtraj was asked).
    std::set<std::string> kinds;
    for (const auto& t : expected) kinds.insert(t.label.substr(0, t.label.find(' ')));
    int named = 0;
    for (const auto& t : namedTorsions(pdb))
      if (kinds.count(t.label.substr(0, t.label.find(' ')))) ++named;
    EXPECT_EQ(named, static_cast<int>(expected.size())) << list;
    ++molecules;
  }
  EXPECT_GE(molecules, 1) << "no data/*/mdtraj_torsions.txt";
}

TEST(CollectiveVariables, AlanineDipeptideHasBackbonePhiAndPsiOnly) {
  const PdbStructure pdb = readPdb((kAlanine / "c7ax.pdb").string());
  const auto named = namedTorsions(pdb);
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].label, "phi 2");
  EXPECT_EQ(named[0].atoms, (std::array<int, 4>{4, 6, 8, 14}));  // C(ACE) N CA C
  EXPECT_EQ(named[1].label, "psi 2");
  EXPECT_EQ(named[1].atoms, (std::array<int, 4>{6, 8, 14, 16}));  // N CA C N(NME)
  // By indices, in either spelling, labelled by its atoms.
  const auto byIndex = resolveTorsionCVs({"4 6 8 10", "torsion 6 8 14 15"}, pdb, 22, "t", "p");
  EXPECT_EQ(byIndex[0].atoms, (std::array<int, 4>{4, 6, 8, 10}));
  EXPECT_EQ(byIndex[0].label, "torsion 4-6-8-10");
  EXPECT_EQ(byIndex[1].atoms, (std::array<int, 4>{6, 8, 14, 15}));
}

TEST(CollectiveVariables, BadEntriesNameTheEntryAndWhatTheMoleculeHas) {
  const PdbStructure pdb = readPdb((kAlanine / "c7ax.pdb").string());
  std::string e = errorOf({"psi 2", "chi1 2"}, pdb);
  EXPECT_NE(e.find("key 'cv.variables': entry 2 'chi1 2'"), std::string::npos) << e;
  EXPECT_NE(e.find("mol.pdb has no such torsion"), std::string::npos) << e;
  EXPECT_NE(e.find("phi 2, psi 2"), std::string::npos) << e;  // what it has
  e = errorOf({"phi 7"}, pdb);
  EXPECT_NE(e.find("no residue numbered 7"), std::string::npos) << e;
  e = errorOf({"alpha 2"}, pdb);
  EXPECT_NE(e.find("kind one of phi, psi, omega, chi1, chi2"), std::string::npos) << e;
  e = errorOf({"4 6 8 22"}, pdb);
  EXPECT_NE(e.find("'22' is not an atom index in [0, 22)"), std::string::npos) << e;
  e = errorOf({"4 6 6 8"}, pdb);
  EXPECT_NE(e.find("atom 6 is listed twice"), std::string::npos) << e;
  e = errorOf({"phi 2", "14 8 6 4"}, pdb);  // phi written backwards is the same torsion
  EXPECT_NE(e.find("the same torsion as 'phi 2'"), std::string::npos) << e;
  e = errorOf({"4 6 8"}, pdb);
  EXPECT_NE(e.find("expected '<kind> <residue number>'"), std::string::npos) << e;
  // The same residue number in two chains is ambiguous.
  PdbStructure twoChains = pdb;
  for (PdbAtom a : pdb.atoms) {
    a.chain = 'B';
    twoChains.atoms.push_back(a);
  }
  e = errorOf({"phi 2"}, twoChains);
  EXPECT_NE(e.find("residue number 2 in more than one chain"), std::string::npos) << e;
}

// Three CVs (phi, psi and the C-N-CA-CB torsion): the analytic restraint the dynamics uses, the
// OpenMM CustomTorsionForce form and an independent expression agree across the +-pi wrap, and the
// forces are -dE/dx by central differences.
TEST(CollectiveVariables, ThreeTorsionRestraintMatchesOpenMMAndFiniteDifferences) {
  const auto system = loadSystemXml((kAlanine / "system.xml").string());
  const std::vector<double> x = readPdb((kAlanine / "extended.pdb").string()).positionsNm();
  const std::vector<DihedralAtoms> cvs = {{4, 6, 8, 14}, {6, 8, 14, 16}, {4, 6, 8, 10}};
  RestrainedDynamics md(*system, cvs, 300.0, 1.0, 0.001, reference(), {}, 1);
  md.setPositions(x);
  Eigen::VectorXd now(3), centre(3);
  for (int d = 0; d < 3; ++d) now[d] = dihedralAngle(x.data(), cvs[d], nullptr);
  // Centres 0.5, 0.4 and 0.3 rad away, the first two across the wrap.
  centre << wrapAngle(now[0] - 0.5 + 2 * std::numbers::pi),
      wrapAngle(now[1] + 0.4 - 2 * std::numbers::pi), wrapAngle(now[2] + 0.3);
  const double k = 120.0;
  md.setRestraint(k, centre);
  const auto expected = [&](const std::vector<double>& y) {
    double e = 0.0;
    for (int d = 0; d < 3; ++d) {
      const double delta = wrapAngle(dihedralAngle(y.data(), cvs[d], nullptr) - centre[d]);
      e += 0.5 * k * delta * delta;
    }
    return e;
  };
  std::vector<double> forces;
  const double e = md.restraintEnergy(&forces);
  EXPECT_NEAR(e, 0.5 * k * (0.25 + 0.16 + 0.09), 1e-6);
  EXPECT_NEAR(e, expected(x), 1e-9);
  const double h = 1e-6;
  for (int atom : {4, 6, 8, 10, 14, 16}) {
    for (int c = 0; c < 3; ++c) {
      std::vector<double> xp = x, xm = x;
      xp[3 * atom + c] += h;
      xm[3 * atom + c] -= h;
      const double fd = -(expected(xp) - expected(xm)) / (2 * h);
      EXPECT_NEAR(forces[3 * atom + c], fd, 1e-4 * std::max(1.0, std::abs(fd)))
          << "atom " << atom << " dim " << c;
    }
  }
  // The dynamics' analytic forces = the System's (an independent Context) + the restraint's.
  OpenMMPotential plain(std::shared_ptr<const OpenMM::System>(
                            loadSystemXml((kAlanine / "system.xml").string())),
                        "Reference");
  std::vector<double> grad(66);
  double u = 0.0;
  plain.evaluate(x.data(), 1, &u, grad.data());
  for (int q = 0; q < 66; ++q) {
    EXPECT_NEAR(md.dynamicsForces()[q], -grad[q] + forces[q],
                1e-6 * std::max(1.0, std::abs(forces[q])))
        << q;
  }
  EXPECT_EQ(md.unwrappedCVs().size(), 3u);
  EXPECT_THROW(md.setRestraint(k, Eigen::Vector2d(0.0, 0.0)), std::invalid_argument);
}

// D = 3 full-atom paths: walkers under a stiff restraint held at a fixed centre end near it in all
// three CVs, and the stored CVs are the frames' torsions.
TEST(CollectiveVariables, ThreeCVWalkersFollowTheirRestraint) {
  PotentialSettings potential;
  potential.system = (kAlanine / "system.xml").string();
  potential.pdbA = (kAlanine / "c7ax.pdb").string();
  potential.pdbB = (kAlanine / "extended.pdb").string();
  potential.platform = "Reference";
  MoleculeSettings molecule;
  molecule.cvVariables = {"phi 2", "psi 2", "4 6 8 10"};
  const FullAtomSetup setup = prepareFullAtom(potential, molecule, "test");
  ASSERT_EQ(setup.cvDimension(), 3);
  EXPECT_EQ(setup.cvLabels[2], "torsion 4-6-8-10");
  ASSERT_EQ(setup.cvA.size(), 3);
  // The CVs of the minimised A, by the dihedral function directly.
  for (int d = 0; d < 3; ++d)
    EXPECT_DOUBLE_EQ(setup.cvA[d], dihedralAngle(setup.positionsA.data(), setup.cvAtoms[d]));
  // A curve at high log-SNR (stiff restraint) whose centre sits 0.3 rad from A in every CV.
  const int N = 4;
  const double l = 6.0, a = alphaOf(l);
  Eigen::MatrixXd curve(N, 4);
  for (int n = 0; n < N; ++n) {
    curve(n, 0) = l;
    for (int d = 0; d < 3; ++d) curve(n, 1 + d) = a * wrapAngle(setup.cvA[d] + 0.3);
  }
  FullAtomSamplerSettings s;
  s.nPaths = 2;
  s.stepsPerPoint = 150;
  s.seed = 5;
  s.threads = 1;
  s.frameStride = 100;
  const FullAtomPaths r = sampleFullAtomPaths(setup, curve, s, {});
  ASSERT_EQ(r.cvDimension, 3);
  ASSERT_EQ(r.finalCV.cols(), 3);
  ASSERT_EQ(r.cv.size(), 2u * N * 150 * 3);
  // kT * SNR(6) = 2.49 * 403 = 1000 kJ/mol/rad^2: thermal spread about 0.05 rad.
  for (int w = 0; w < 2; ++w)
    for (int d = 0; d < 3; ++d)
      EXPECT_NEAR(wrapAngle(r.finalCV(w, d) - (setup.cvA[d] + 0.3)), 0.0, 0.2)
          << "walker " << w << " CV " << d;
  // The stored CVs of each stored frame are the frame's torsions.
  for (std::size_t k = 0; k < r.storedPerPath; ++k) {
    const std::size_t frame = (k + 1) * 100 - 1;
    std::vector<double> xk(r.frames.begin() + k * 66, r.frames.begin() + (k + 1) * 66);
    for (int d = 0; d < 3; ++d)
      EXPECT_NEAR(r.cv[3 * frame + d], dihedralAngle(xk.data(), setup.cvAtoms[d]), 1e-4);
  }
}

// CV samples of the molecule's own dynamics (training.source md): D columns, walkers from both end
// states (each walker's first recorded CVs near its start's minimised CVs, 20 fs in), and the same
// samples with one thread or two (walker i's stream is i).
TEST(CollectiveVariables, DynamicsSamplesStartAtBothStatesAndDoNotDependOnThreads) {
  PotentialSettings potential;
  potential.system = (kAlanine / "system.xml").string();
  potential.pdbA = (kAlanine / "c7ax.pdb").string();
  potential.pdbB = (kAlanine / "extended.pdb").string();
  potential.platform = "Reference";
  MoleculeSettings molecule;
  molecule.cvVariables = {"phi 2", "psi 2", "4 6 8 10"};
  const FullAtomSetup setup = prepareFullAtom(potential, molecule, "test");
  CvDynamicsSettings s;
  s.walkers = 4;
  s.equilibrationSteps = 0;
  s.steps = 400;
  s.stride = 20;
  s.seed = 3;
  s.threads = 1;
  const Eigen::MatrixXd one = sampleCvDynamics(setup, s);
  ASSERT_EQ(one.rows(), 4 * 20);
  ASSERT_EQ(one.cols(), 3);
  for (int w = 0; w < 4; ++w) {
    const Eigen::VectorXd& start = w % 2 == 0 ? setup.cvA : setup.cvB;
    for (int d = 0; d < 3; ++d)
      EXPECT_NEAR(wrapAngle(one(w * 20, d) - start[d]), 0.0, 0.5) << "walker " << w << " CV " << d;
  }
  EXPECT_GT((one.row(0) - one.row(19)).norm(), 0.0);  // it moves
  s.threads = 2;
  const Eigen::MatrixXd two = sampleCvDynamics(setup, s);
  EXPECT_EQ((one - two).cwiseAbs().maxCoeff(), 0.0);
}
