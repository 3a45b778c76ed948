// Tests of the molecules shipped besides alanine dipeptide (data/alanine_tetrapeptide/,
// data/valine_dipeptide/, written by scripts/make_system.py): their system.xml and state PDBs load
// in the engine (System XML, PDB reader, atom check), the tetrapeptide's energies, forces and
// torsions match the values OpenMM's Python layer stored (reference_values.txt), every state PDB is
// a minimum of its System, and the mdtraj_torsions.txt files (scripts/cv_indices.py's format, read
// by the torsion-name tests) name bonded atom chains with the atom names of phi, psi and chi1.
#include <OpenMM.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/io/pdb_file.h"
#include "potentials/dihedral.h"
#include "potentials/openmm_potential.h"

namespace geotps {
namespace {

const std::string kData = std::string(GEOTPS_SOURCE_DIR) + "/data/";

// `key value` lines with one numeric value; '#' lines and other lines skipped.
std::map<std::string, double> readKeyValues(const std::string& path) {
  std::map<std::string, double> values;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string key, value, extra;
    if (!(fields >> key >> value) || (fields >> extra)) continue;
    try {
      std::size_t used = 0;
      const double v = std::stod(value, &used);
      if (used == value.size()) values[key] = v;
    } catch (const std::exception&) {
    }
  }
  return values;
}

struct Torsion {
  std::string kind;  // phi, psi, chi1
  int resSeq = 0;
  std::array<int, 4> atoms{};
};

// data/<molecule>/mdtraj_torsions.txt: '#' lines, then `<kind> <resSeq> <a> <b> <c> <d>`.
std::vector<Torsion> readTorsionFile(const std::string& path) {
  std::vector<Torsion> out;
  std::ifstream in(path);
  std::string line;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Torsion t;
    std::string extra;
    const bool ok = static_cast<bool>(fields >> t.kind >> t.resSeq >> t.atoms[0] >> t.atoms[1] >>
                                      t.atoms[2] >> t.atoms[3]) &&
                    !(fields >> extra);
    EXPECT_TRUE(ok) << path << ":" << lineNo << ": not `<kind> <resSeq> <a> <b> <c> <d>`: " << line;
    if (ok) out.push_back(t);
  }
  return out;
}

std::vector<double> elementMasses(const PdbStructure& pdb) {
  std::vector<double> masses;
  for (const auto& atom : pdb.atoms) masses.push_back(elementMass(atom.element));
  return masses;
}

std::set<std::pair<int, int>> systemBonds(const OpenMM::System& system) {
  std::set<std::pair<int, int>> bonds;
  for (int f = 0; f < system.getNumForces(); ++f) {
    const auto* force = dynamic_cast<const OpenMM::HarmonicBondForce*>(&system.getForce(f));
    if (!force) continue;
    for (int b = 0; b < force->getNumBonds(); ++b) {
      int i = 0, j = 0;
      double length = 0.0, k = 0.0;
      force->getBondParameters(b, i, j, length, k);
      bonds.insert({std::min(i, j), std::max(i, j)});
    }
  }
  return bonds;
}

struct Molecule {
  std::string dir;  // under data/
  std::vector<std::string> states;
  int nAtoms = 0;
};

const std::vector<Molecule>& shippedMolecules() {
  static const std::vector<Molecule> molecules = {
      {"alanine_tetrapeptide", {"extended", "c7eq", "c7ax", "prepared"}, 42},
      {"valine_dipeptide", {"extended", "c7eq", "c7ax", "prepared"}, 28},
  };
  return molecules;
}

TEST(ShippedMolecules, SystemAndStatePdbsLoadAndMatch) {
  for (const auto& m : shippedMolecules()) {
    const std::string dir = kData + m.dir + "/";
    std::shared_ptr<const OpenMM::System> system = loadSystemXml(dir + "system.xml");
    ASSERT_EQ(system->getNumParticles(), m.nAtoms) << m.dir;
    EXPECT_EQ(system->getNumConstraints(), 0) << m.dir << ": the engine's dynamics has none";
    for (const auto& state : m.states) {
      const PdbStructure pdb = readPdb(dir + state + ".pdb");
      ASSERT_EQ(static_cast<int>(pdb.atoms.size()), m.nAtoms) << m.dir << "/" << state;
      EXPECT_NO_THROW(checkAtomsMatchSystem(*system, elementMasses(pdb), dir + state + ".pdb"));
    }
  }
}

// The engine minimises the end-state PDBs; the shipped ones are minima already (up to the PDB's
// 0.001 Angstrom rounding), so that the states.* of a config can be read off the files.
TEST(ShippedMolecules, StatePdbsAreMinimaOfTheirSystem) {
  for (const auto& m : shippedMolecules()) {
    const std::string dir = kData + m.dir + "/";
    std::shared_ptr<const OpenMM::System> system = loadSystemXml(dir + "system.xml");
    OpenMMPotential potential(system, "Reference");
    const auto torsions = readTorsionFile(dir + "mdtraj_torsions.txt");
    for (const auto& state : m.states) {
      std::vector<double> x = readPdb(dir + state + ".pdb").positionsNm();
      const std::vector<double> stored = x;
      const double before = potential.energy(x.data());
      const double after = potential.minimize(x, 0.1);
      EXPECT_LT(before - after, 0.2) << m.dir << "/" << state << ": " << before << " -> " << after;
      for (const auto& t : torsions) {
        const double moved =
            wrapAngle(dihedralAngle(x.data(), t.atoms) - dihedralAngle(stored.data(), t.atoms));
        EXPECT_LT(std::abs(moved), 0.02) << m.dir << "/" << state << " " << t.kind << " " << t.resSeq;
      }
    }
  }
}

struct TetrapeptideBackend {
  std::string platform;
  double energyTol;  // kJ/mol
  double forceTol;   // kJ/mol/nm, relative to max(1, |F|)
};

void PrintTo(const TetrapeptideBackend& backend, std::ostream* os) { *os << backend.platform; }

class TetrapeptideTest : public ::testing::TestWithParam<TetrapeptideBackend> {};

TEST_P(TetrapeptideTest, EnergiesAndForcesMatchReferenceValues) {
  const std::string dir = kData + "alanine_tetrapeptide/";
  const auto ref = readKeyValues(dir + "reference_values.txt");
  ASSERT_EQ(ref.count("n_atoms"), 1u) << dir << "reference_values.txt";
  EXPECT_EQ(ref.at("n_atoms"), 42);
  std::shared_ptr<const OpenMM::System> system = loadSystemXml(dir + "system.xml");
  for (int i = 0; i < system->getNumParticles(); ++i)
    EXPECT_DOUBLE_EQ(system->getParticleMass(i), ref.at("mass_" + std::to_string(i))) << i;
  OpenMMPotential potential(system, GetParam().platform);
  int forces = 0;
  for (const char* state : {"extended", "c7eq", "c7ax"}) {
    const std::vector<double> x = readPdb(dir + state + ".pdb").positionsNm();
    std::vector<double> gradient(x.size());
    double u = 0.0;
    potential.evaluate(x.data(), 1, &u, gradient.data());
    EXPECT_NEAR(u, ref.at(std::string("energy_") + state + "_kjmol"), GetParam().energyTol)
        << state;
    const std::string prefix = std::string("force_") + state + "_atom";
    for (const auto& [key, force] : ref) {
      if (key.rfind(prefix, 0) != 0) continue;  // force_<state>_atom<i>_<x|y|z>
      const std::string rest = key.substr(prefix.size());
      const int atom = std::stoi(rest.substr(0, rest.find('_')));
      const int k = rest.back() - 'x';
      EXPECT_NEAR(-gradient[3 * atom + k], force,
                  GetParam().forceTol * std::max(1.0, std::abs(force)))
          << key;
      ++forces;
    }
  }
  EXPECT_EQ(forces, 3 * 5 * 3);
}

INSTANTIATE_TEST_SUITE_P(OpenMMBackends, TetrapeptideTest,
                         ::testing::Values(TetrapeptideBackend{"Reference", 1e-6, 1e-6},
                                           // CPU: single-precision forces, double accumulation.
                                           TetrapeptideBackend{"CPU", 2e-3, 1e-3}),
                         [](const auto& info) { return info.param.platform; });

TEST(ShippedMolecules, TetrapeptideTorsionsMatchReferenceValues) {
  const std::string dir = kData + "alanine_tetrapeptide/";
  const auto ref = readKeyValues(dir + "reference_values.txt");
  const auto torsions = readTorsionFile(dir + "mdtraj_torsions.txt");
  ASSERT_EQ(torsions.size(), 6u);  // phi and psi of ALA 2, 3, 4 (alanine has no chi1)
  for (const char* state : {"extended", "c7eq", "c7ax"}) {
    const std::vector<double> x = readPdb(dir + state + ".pdb").positionsNm();
    for (const auto& t : torsions) {
      const std::string key = t.kind + "_" + std::to_string(t.resSeq) + "_" + state;
      ASSERT_EQ(ref.count(key), 1u) << key;
      // mdtraj computes in float32.
      EXPECT_NEAR(wrapAngle(dihedralAngle(x.data(), t.atoms) - ref.at(key)), 0.0, 1e-5) << key;
    }
  }
  // The two end states suggested in the README lie in different phi basins for every residue.
  const std::vector<double> a = readPdb(dir + "extended.pdb").positionsNm();
  const std::vector<double> b = readPdb(dir + "c7ax.pdb").positionsNm();
  for (const auto& t : torsions) {
    if (t.kind != "phi") continue;
    EXPECT_LT(dihedralAngle(a.data(), t.atoms), -2.0) << t.resSeq;
    EXPECT_GT(dihedralAngle(b.data(), t.atoms), 0.8) << t.resSeq;
  }
}

// Every mdtraj_torsions.txt names four atoms bonded in sequence (in the System), with the atom names
// of its kind, the CA in residue resSeq, and the alanine dipeptide's file agrees with the
// cv.phi_atoms / cv.psi_atoms defaults.
TEST(ShippedMolecules, MdtrajTorsionFilesNameBondedBackboneAtoms) {
  struct Expected {
    std::string dir;
    std::string pdb;
    std::vector<std::string> torsions;  // "<kind> <resSeq>" in file order
  };
  const std::vector<Expected> files = {
      {"alanine_dipeptide", "extended.pdb", {"phi 2", "psi 2"}},
      {"alanine_tetrapeptide", "extended.pdb",
       {"phi 2", "phi 3", "phi 4", "psi 2", "psi 3", "psi 4"}},
      {"valine_dipeptide", "extended.pdb", {"phi 2", "psi 2", "chi1 2"}},
  };
  const std::map<std::string, std::vector<std::set<std::string>>> names = {
      {"phi", {{"C"}, {"N"}, {"CA"}, {"C"}}},
      {"psi", {{"N"}, {"CA"}, {"C"}, {"N"}}},
      {"chi1", {{"N"}, {"CA"}, {"CB"}, {"CG", "CG1", "SG", "OG", "OG1"}}},
  };
  for (const auto& f : files) {
    const std::string dir = kData + f.dir + "/";
    const auto torsions = readTorsionFile(dir + "mdtraj_torsions.txt");
    const PdbStructure pdb = readPdb(dir + f.pdb);
    const auto bonds = systemBonds(*loadSystemXml(dir + "system.xml"));
    std::vector<std::string> listed;
    for (const auto& t : torsions) {
      listed.push_back(t.kind + " " + std::to_string(t.resSeq));
      ASSERT_EQ(names.count(t.kind), 1u) << f.dir << ": kind " << t.kind;
      for (int k = 0; k < 4; ++k) {
        ASSERT_GE(t.atoms[k], 0);
        ASSERT_LT(t.atoms[k], static_cast<int>(pdb.atoms.size()));
        EXPECT_EQ(names.at(t.kind)[k].count(pdb.atoms[t.atoms[k]].name), 1u)
            << f.dir << " " << t.kind << " " << t.resSeq << " atom " << k << " is "
            << pdb.atoms[t.atoms[k]].name;
        if (k < 3) {
          EXPECT_EQ(bonds.count({std::min(t.atoms[k], t.atoms[k + 1]),
                                 std::max(t.atoms[k], t.atoms[k + 1])}),
                    1u)
              << f.dir << " " << t.kind << " " << t.resSeq << ": atoms " << t.atoms[k] << " and "
              << t.atoms[k + 1] << " are not bonded";
        }
      }
      const int ca = t.kind == "phi" ? t.atoms[2] : t.atoms[1];
      EXPECT_EQ(pdb.atoms[ca].name, "CA");
      EXPECT_EQ(pdb.atoms[ca].residueNumber, t.resSeq) << f.dir << " " << t.kind;
    }
    EXPECT_EQ(listed, f.torsions) << f.dir;
    if (f.dir == "alanine_dipeptide") {
      ASSERT_EQ(torsions.size(), 2u);
      EXPECT_EQ(torsions[0].atoms, (std::array<int, 4>{4, 6, 8, 14}));
      EXPECT_EQ(torsions[1].atoms, (std::array<int, 4>{6, 8, 14, 16}));
    }
  }
}

}  // namespace
}  // namespace geotps
