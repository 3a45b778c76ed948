// A molecule for full-atom jobs: its OpenMM System, end states (minimised) and CVs.
#include "engine/molecule/molecule.h"

#include <OpenMM.h>
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <numbers>
#include <set>
#include <utility>

#include "engine/core/ranks.h"
#include "engine/samplers/restrained_dynamics.h"
#include "potentials/dihedral.h"
#include "potentials/openmm_platform.h"
#include "potentials/openmm_potential.h"

namespace geotps {

/// Iteration cap of the end states' minimisations (a 22-atom molecule converges in a few hundred;
/// without a cap, NaN forces would keep OpenMM's minimiser running forever).
constexpr int kMinimiserIterations = 20000;

namespace {

std::vector<double> pdbPositions(const PdbStructure& s) {
  std::vector<double> x;
  x.reserve(3 * s.atoms.size());
  for (const auto& a : s.atoms) {
    x.push_back(a.x);
    x.push_back(a.y);
    x.push_back(a.z);
  }
  return x;
}

DihedralAtoms dihedralAtoms(const std::vector<double>& v, const std::string& key, int nAtoms,
                            const std::string& source) {
  DihedralAtoms atoms{};
  for (int k = 0; k < 4; ++k) {
    const double a = v[k];
    if (a != std::floor(a) || a < 0 || a >= nAtoms) {
      throw ConfigError(
          fmt::format("{}: key '{}': atom index {} is not an integer in [0, {}) (0-based indices "
                      "of the system's "
                      "atoms)",
                      source, key, a, nAtoms));
    }
    atoms[k] = static_cast<int>(a);
  }
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j)
      if (atoms[i] == atoms[j]) {
        throw ConfigError(fmt::format(
            "{}: key '{}': atom {} is listed twice in [{}, {}, {}, {}]; expected four distinct "
            "atoms bonded in sequence",
            source, key, atoms[i], atoms[0], atoms[1], atoms[2], atoms[3]));
      }
  return atoms;
}

/// The bonds of the System's HarmonicBondForces, each once as (lower, higher) atom index; sets
/// `haveBonds` when the System has a HarmonicBondForce at all.
std::set<std::pair<int, int>> harmonicBonds(const OpenMM::System& system, bool& haveBonds) {
  std::set<std::pair<int, int>> bonds;
  haveBonds = false;
  for (int f = 0; f < system.getNumForces(); ++f) {
    const auto* b = dynamic_cast<const OpenMM::HarmonicBondForce*>(&system.getForce(f));
    if (!b) continue;
    haveBonds = true;
    for (int k = 0; k < b->getNumBonds(); ++k) {
      int i, j;
      double length, stiffness;
      b->getBondParameters(k, i, j, length, stiffness);
      if (i != j) bonds.insert({std::min(i, j), std::max(i, j)});
    }
  }
  return bonds;
}

/// The dihedral's atoms must be bonded in sequence (a-b, b-c, c-d bonds of the System's
/// HarmonicBondForce), or its angle is not a torsion of the molecule. Systems without a
/// HarmonicBondForce (bonds in another force kind) are not checked.
void checkBondedInSequence(const OpenMM::System& system, const DihedralAtoms& atoms,
                           const std::string& key, const std::string& source) {
  bool haveBonds = false;
  const std::set<std::pair<int, int>> bonds = harmonicBonds(system, haveBonds);
  if (!haveBonds) return;
  for (int k = 0; k < 3; ++k) {
    const int i = atoms[k], j = atoms[k + 1];
    if (!bonds.count({std::min(i, j), std::max(i, j)})) {
      throw ConfigError(fmt::format(
          "{}: key '{}': atoms {} and {} of [{}, {}, {}, {}] are not bonded in the System; "
          "expected four atoms bonded in sequence (a torsion of the molecule)",
          source, key, i, j, atoms[0], atoms[1], atoms[2], atoms[3]));
    }
  }
}

}  // namespace

Grid2D periodicAngleGrid(int n) {
  Grid2D g;
  g.nx = g.ny = n;
  g.hx = g.hy = 2.0 * std::numbers::pi / n;
  g.x0 = g.y0 = -std::numbers::pi;
  return g;
}

Eigen::VectorXd computeCVs(const double* x, const std::vector<DihedralAtoms>& cvs) {
  Eigen::VectorXd out(static_cast<Eigen::Index>(cvs.size()));
  for (std::size_t d = 0; d < cvs.size(); ++d)
    out[static_cast<Eigen::Index>(d)] = dihedralAngle(x, cvs[d], nullptr);
  return out;
}

Eigen::VectorXd computeCVs(const std::vector<double>& x, const std::vector<DihedralAtoms>& cvs) {
  return computeCVs(x.data(), cvs);
}

void requireTwoCVs(const FullAtomSetup& setup, const std::string& source,
                   const std::string& what) {
  if (setup.cvDimension() == 2) return;
  std::string labels;
  for (const std::string& l : setup.cvLabels) labels += (labels.empty() ? "" : ", ") + l;
  throw ConfigError(fmt::format(
      "{}: key 'cv.variables': {} needs exactly two CVs, and the job has {} ({}); {}", source,
      what, setup.cvDimension(), labels,
      "give two CVs (this part of the engine is two-dimensional)"));
}

FullAtomSetup prepareFullAtom(const PotentialSettings& potential, const MoleculeSettings& molecule,
                              const std::string& source) {
  FullAtomSetup s;
  const std::string systemPath = potential.system;
  try {
    s.system = loadSystemXml(systemPath);
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("{}: key 'potential.system': {}", source, e.what()));
  }
  const int n = s.system->getNumParticles();
  PdbStructure pdbB;
  for (const char* key : {"potential.pdb_a", "potential.pdb_b"}) {
    const std::string path =
        std::string(key) == "potential.pdb_a" ? potential.pdbA : potential.pdbB;
    PdbStructure pdb;
    try {
      pdb = readPdb(path);
      std::vector<double> masses;
      for (const auto& a : pdb.atoms) masses.push_back(elementMass(a.element));
      checkAtomsMatchSystem(*s.system, masses, path);
    } catch (const std::exception& e) {
      throw ConfigError(fmt::format("{}: key '{}': {}", source, key, e.what()));
    }
    if (std::string(key) == "potential.pdb_a") {
      s.topology = pdb;
      // The PDB's CONECT records list only some bonds (often those of non-standard residues);
      // the topology gets every bond of the System's HarmonicBondForces as well, each once, so
      // the PDB text written from it (geotps export, /full_atom/topology_pdb) lists them all.
      bool haveBonds = false;
      std::set<std::pair<int, int>> bonds = harmonicBonds(*s.system, haveBonds);
      bonds.insert(pdb.bonds.begin(), pdb.bonds.end());
      s.topology.bonds.assign(bonds.begin(), bonds.end());
    } else {
      pdbB = pdb;
    }
  }
  if (!molecule.cvVariables.empty()) {
    for (const TorsionCV& cv :
         resolveTorsionCVs(molecule.cvVariables, s.topology, n, source, potential.pdbA)) {
      checkBondedInSequence(*s.system, cv.atoms, "cv.variables' entry '" + cv.label, source);
      s.cvAtoms.push_back(cv.atoms);
      s.cvLabels.push_back(cv.label);
    }
  } else {
    const DihedralAtoms phi = dihedralAtoms(molecule.phiAtoms, "cv.phi_atoms", n, source);
    const DihedralAtoms psi = dihedralAtoms(molecule.psiAtoms, "cv.psi_atoms", n, source);
    checkBondedInSequence(*s.system, phi, "cv.phi_atoms", source);
    checkBondedInSequence(*s.system, psi, "cv.psi_atoms", source);
    s.cvAtoms = {phi, psi};
    s.cvLabels = {"phi", "psi"};
  }
  if (molecule.cvVariables.empty() && molecule.defaultCvAtoms) {
    // The defaults are alanine dipeptide's indices; on another molecule they select some other
    // bonded torsion without a word (e.g. C-N-CA-CG1 of a valine dipeptide). They are kept only
    // where they select a backbone phi (C-N-CA-C) and psi (N-CA-C-N).
    auto names = [&](const std::array<int, 4>& atoms) {
      std::string out;
      for (int i : atoms) out += (out.empty() ? "" : "-") + s.topology.atoms[i].name;
      return out;
    };
    const std::string phi = names(s.cvAtoms[0]), psi = names(s.cvAtoms[1]);
    if (phi != "C-N-CA-C" || psi != "N-CA-C-N") {
      throw ConfigError(fmt::format(
          "{}: keys 'cv.phi_atoms' and 'cv.psi_atoms' are not set, and their defaults (alanine "
          "dipeptide's backbone torsions) select {} and {} in {}; expected C-N-CA-C and "
          "N-CA-C-N. Set cv.variables (e.g. [phi 2, psi 2], torsions by name or by four 0-based "
          "atom indices) for this molecule",
          source, phi, psi, potential.pdbA));
    }
    // A longer peptide (e.g. a capped tetrapeptide) passes the atom-name test with its first
    // residue's phi and psi; the defaults would then drop its other backbone torsions silently.
    std::string backbone;
    int count = 0;
    for (const TorsionCV& t : namedTorsions(s.topology)) {
      if (t.label.rfind("phi ", 0) != 0 && t.label.rfind("psi ", 0) != 0) continue;
      backbone += (backbone.empty() ? "" : ", ") + t.label;
      ++count;
    }
    if (count != 2) {
      throw ConfigError(fmt::format(
          "{}: keys 'cv.variables', 'cv.phi_atoms' and 'cv.psi_atoms' are not set, and {} has {} "
          "backbone torsions ({}); the defaults (alanine dipeptide's phi 2 and psi 2) would take "
          "two of them without a word. Set cv.variables to the CVs you mean (e.g. [{}])",
          source, potential.pdbA, count, backbone, backbone));
    }
  }
  s.temperatureK = molecule.temperatureK;

  loadOpenMMPlugins();
  const std::vector<double> xA = pdbPositions(s.topology);
  std::vector<OpenMM::Vec3> posA(n);
  for (int i = 0; i < n; ++i) posA[i] = OpenMM::Vec3(xA[3 * i], xA[3 * i + 1], xA[3 * i + 2]);
  const std::string platformName = potential.platform;
  try {
    s.platform = &choosePlatform(platformName, *s.system, posA, &s.platformReport);
    if (!potential.platformOrigin.empty()) {
      s.platformReport = fmt::format("OpenMM platform {} (potential.platform auto: {})",
                                     s.platform->getName(), potential.platformOrigin);
    }
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("{}: key 'potential.platform': {}", source, e.what()));
  }
  s.platformProperties = platformProperties(s.platform->getName(), potential.precision);
  const std::string chosen = s.platform->getName();
  // Under MPI each rank takes its own GPU by default: the node-local rank (docs/mpi.md), unless
  // the launcher already gave each rank one device of its own (CUDA_VISIBLE_DEVICES with one).
  int deviceIndex = potential.deviceIndex;
  std::string deviceNote;
  if (deviceIndex < 0 && Ranks::world().parallel() && (chosen == "OpenCL" || chosen == "CUDA")) {
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    const bool oneVisible = chosen == "CUDA" && visible && *visible &&
                            std::string(visible).find(',') == std::string::npos;
    if (!oneVisible) {
      deviceIndex = Ranks::world().nodeLocalRank();
      deviceNote = fmt::format(
          " (the default under MPI: the node-local rank, {}; set potential.device_index to choose)",
          deviceIndex);
    }
  }
  if (deviceIndex >= 0 && (chosen == "OpenCL" || chosen == "CUDA"))
    s.platformProperties["DeviceIndex"] = std::to_string(deviceIndex);

  // Minimise both states (no restraint).
  auto minimise = [&](const std::vector<double>& x0, std::vector<double>& out, double& energy,
                      const char* key, const std::string& pdbPath) {
    std::unique_ptr<RestrainedDynamics> made;
    try {
      made = std::make_unique<RestrainedDynamics>(*s.system, s.cvAtoms, s.temperatureK,
                                                  1.0, 0.001, *s.platform, s.platformProperties, 1);
    } catch (const OpenMM::OpenMMException& e) {
      if (s.platformProperties.count("DeviceIndex")) {
        throw ConfigError(fmt::format(
            "{}: key 'potential.device_index': the {} platform cannot use device {}{}: {}", source,
            chosen, deviceIndex, deviceNote, e.what()));
      }
      throw;
    }
    RestrainedDynamics& md = *made;
    md.setPositions(x0);
    double start = 0.0;
    md.getState(nullptr, &start);
    if (!std::isfinite(start)) {
      throw ConfigError(fmt::format(
          "{}: key '{}': {}: the System's energy at the PDB's positions is {} (atoms on top of "
          "each other?); expected a finite energy",
          source, key, pdbPath, start));
    }
    energy = md.minimize(0.1, kMinimiserIterations);
    if (!std::isfinite(energy)) {
      throw ConfigError(
          fmt::format("{}: key '{}': {}: energy minimisation ended at a non-finite energy ({})",
                      source, key, pdbPath, energy));
    }
    md.getState(&out, nullptr);
  };
  minimise(xA, s.positionsA, s.energyA, "potential.pdb_a", potential.pdbA);
  minimise(pdbPositions(pdbB), s.positionsB, s.energyB, "potential.pdb_b", potential.pdbB);
  s.cvA = computeCVs(s.positionsA, s.cvAtoms);
  s.cvB = computeCVs(s.positionsB, s.cvAtoms);
  return s;
}

}  // namespace geotps
