// A molecule for full-atom jobs: its OpenMM System, end states (minimised) and CVs.
#include "engine/molecule/molecule.h"

#include <OpenMM.h>
#include <fmt/format.h>

#include <cmath>
#include <memory>

#include "engine/samplers/restrained_dynamics.h"
#include "potentials/dihedral.h"
#include "potentials/openmm_platform.h"
#include "potentials/openmm_potential.h"

namespace geotps {

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
  return atoms;
}

}  // namespace

Eigen::Vector2d computeCVs(const std::vector<double>& x, const DihedralAtoms& phi,
                           const DihedralAtoms& psi) {
  return {dihedralAngle(x.data(), phi, nullptr), dihedralAngle(x.data(), psi, nullptr)};
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
    } else {
      pdbB = pdb;
    }
  }
  s.phiAtoms = dihedralAtoms(molecule.phiAtoms, "cv.phi_atoms", n, source);
  s.psiAtoms = dihedralAtoms(molecule.psiAtoms, "cv.psi_atoms", n, source);
  s.temperatureK = molecule.temperatureK;

  loadOpenMMPlugins();
  const std::vector<double> xA = pdbPositions(s.topology);
  std::vector<OpenMM::Vec3> posA(n);
  for (int i = 0; i < n; ++i) posA[i] = OpenMM::Vec3(xA[3 * i], xA[3 * i + 1], xA[3 * i + 2]);
  const std::string platformName = potential.platform;
  try {
    s.platform = &choosePlatform(platformName, *s.system, posA, &s.platformReport);
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("{}: key 'potential.platform': {}", source, e.what()));
  }
  s.platformProperties = platformProperties(s.platform->getName(), potential.precision);
  const std::string chosen = s.platform->getName();
  if (potential.deviceIndex >= 0 && (chosen == "OpenCL" || chosen == "CUDA"))
    s.platformProperties["DeviceIndex"] = std::to_string(potential.deviceIndex);

  // Minimise both states (no restraint).
  auto minimise = [&](const std::vector<double>& x0, std::vector<double>& out, double& energy) {
    std::unique_ptr<RestrainedDynamics> made;
    try {
      made = std::make_unique<RestrainedDynamics>(*s.system, s.phiAtoms, s.psiAtoms, s.temperatureK,
                                                  1.0, 0.001, *s.platform, s.platformProperties, 1);
    } catch (const OpenMM::OpenMMException& e) {
      if (s.platformProperties.count("DeviceIndex")) {
        throw ConfigError(fmt::format(
            "{}: key 'potential.device_index': the {} platform cannot use device {}: {}", source,
            chosen, potential.deviceIndex, e.what()));
      }
      throw;
    }
    RestrainedDynamics& md = *made;
    md.setPositions(x0);
    energy = md.minimize(0.1, 0);
    md.getState(&out, nullptr);
  };
  minimise(xA, s.positionsA, s.energyA);
  minimise(pdbPositions(pdbB), s.positionsB, s.energyB);
  s.cvA = computeCVs(s.positionsA, s.phiAtoms, s.psiAtoms);
  s.cvB = computeCVs(s.positionsB, s.phiAtoms, s.psiAtoms);
  return s;
}

}  // namespace geotps
