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
  /// cv.variables: torsions by name or atom indices (empty: phiAtoms and psiAtoms).
  std::vector<std::string> cvVariables;
  std::string cvSurface;  ///< the CV free-energy surface file, kJ/mol (resolved path)
  bool cvSurfaceSet = false;  ///< cv.surface written in the config (not its default)
  double temperatureK = 300.0;
  double frictionPerPs = 1.0;
  double timeStepPs = 0.001;
};

/// surface.*: the surface written by `geotps surface` (adiabatic map or free energy).
struct SurfaceSettings {
  std::string kind = "adiabatic";  ///< adiabatic | free_energy
  int gridSize = 72;
  int windows = 36;                    ///< umbrella windows per angle (free_energy)
  double umbrellaStiffness = 200.0;    ///< kJ/mol/rad^2 (free_energy)
  long long equilibrationSteps = 1000;  ///< per window (free_energy)
  long long samplingSteps = 10000;      ///< per window (free_energy)
  int sampleStride = 10;                ///< steps between recorded (phi, psi) (free_energy)
  double restraintStiffness = 5000.0;  ///< kJ/mol/rad^2
  double tolerance = 1.0;              ///< kJ/mol/nm
  std::string output;                  ///< empty = results/<name>_<surface|free_energy>.dat
};

/// The keys cv.* and dynamics.*.
const std::vector<KeySpec>& moleculeKeys();
/// The keys surface.*.
const std::vector<KeySpec>& surfaceKeys();

MoleculeSettings readMoleculeSettings(const Config& config);
SurfaceSettings readSurfaceSettings(const Config& config);

}  // namespace geotps
