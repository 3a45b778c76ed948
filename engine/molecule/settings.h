// Settings of engine/molecule/: its configuration keys (a section of the job schema).
#pragma once

#include <string>
#include <vector>

#include "engine/config/config.h"

namespace geotps {

/// cv.* and dynamics.*: the collective variables of a full-atom job and its Langevin dynamics.
struct MoleculeSettings {
  std::vector<double> phiAtoms,
      psiAtoms;  ///< 0-based atom indices of the two torsions (checked later)
  /// True when neither cv.phi_atoms nor cv.psi_atoms was written: the defaults are alanine
  /// dipeptide's indices, so prepareFullAtom checks that they select a backbone phi and psi.
  bool defaultCvAtoms = false;
  std::string cvSurface;  ///< the CV free-energy surface file, kJ/mol (resolved path)
  double temperatureK = 300.0;
  double frictionPerPs = 1.0;
  double timeStepPs = 0.001;
};

/// surface.*: the adiabatic map of `geotps surface`.
struct SurfaceSettings {
  int gridSize = 72;
  double restraintStiffness = 5000.0;  ///< kJ/mol/rad^2
  double tolerance = 1.0;              ///< kJ/mol/nm
  std::string output;                  ///< empty = cv.surface
};

/// The keys cv.* and dynamics.*.
const std::vector<KeySpec>& moleculeKeys();
/// The keys surface.*.
const std::vector<KeySpec>& surfaceKeys();

MoleculeSettings readMoleculeSettings(const Config& config);
SurfaceSettings readSurfaceSettings(const Config& config);

}  // namespace geotps
