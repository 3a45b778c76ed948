// A molecule for full-atom jobs (docs/method.md, "Full atom (beyond the paper)"): its OpenMM
// System, the two end states minimised, the platform chosen, and its torsion collective
// variables (cv.variables, or the two torsions cv.phi_atoms and cv.psi_atoms).
#pragma once

#include <Eigen/Dense>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/pdb_file.h"
#include "engine/molecule/collective_variables.h"
#include "engine/molecule/settings.h"
#include "engine/problem/settings.h"
#include "engine/samplers/restrained_dynamics.h"
#include "potentials/tabulated_surface.h"

namespace OpenMM {
class System;
class Platform;
}  // namespace OpenMM

namespace geotps {

/// Everything a full-atom job needs before sampling: the System, the end states (minimised), the
/// platform chosen, and the CV definitions.
struct FullAtomSetup {
  std::shared_ptr<OpenMM::System> system;
  PdbStructure topology;           ///< atoms of state A's PDB (names, residues, bonds)
  std::vector<double> positionsA;  ///< minimised state A, nm
  std::vector<double> positionsB;  ///< minimised state B, nm
  double energyA = 0.0;            ///< minimised energy of A, kJ/mol
  double energyB = 0.0;            ///< minimised energy of B, kJ/mol
  Eigen::VectorXd cvA, cvB;        ///< the CVs of the minimised states, rad
  /// The torsion CVs, D = cvAtoms.size(): cv.variables, or (cv.phi_atoms, cv.psi_atoms).
  std::vector<DihedralAtoms> cvAtoms;
  std::vector<std::string> cvLabels;  ///< e.g. "phi 2", "torsion 4-6-8-14"; one per CV
  int cvDimension() const { return static_cast<int>(cvAtoms.size()); }
  OpenMM::Platform* platform = nullptr;
  std::map<std::string, std::string> platformProperties;
  std::string platformReport;  ///< how the platform was chosen (timings for "auto")
  double temperatureK = 300.0;
  double kT() const { return kBoltzmannKjMolK * temperatureK; }
};

/// Loads potential.system and the two PDBs, checks that the PDB atoms match the System, chooses the
/// platform (potential.platform), and minimises both states. Errors name the file or key.
FullAtomSetup prepareFullAtom(const PotentialSettings& potential, const MoleculeSettings& molecule,
                              const std::string& source);

/// The n x n (phi, psi) grid of `geotps surface` (values empty): points -pi + i * 2pi / n in
/// both angles, periodic; its Grid2D::nearest is the bin of an angle pair.
Grid2D periodicAngleGrid(int n);

/// The torsions `cvs` of positions (nm), rad in (-pi, pi].
Eigen::VectorXd computeCVs(const std::vector<double>& positionsNm,
                           const std::vector<DihedralAtoms>& cvs);
/// Same, from the first 3 * nAtoms values at `positionsNm`.
Eigen::VectorXd computeCVs(const double* positionsNm, const std::vector<DihedralAtoms>& cvs);

/// Throws ConfigError naming `source` and `what` unless the molecule has exactly two CVs, for
/// the parts of the engine that are two-dimensional (the (phi, psi) surfaces of `geotps
/// surface`, a tabulated cv.surface, the MCMC boxes).
void requireTwoCVs(const FullAtomSetup& setup, const std::string& source, const std::string& what);

}  // namespace geotps
