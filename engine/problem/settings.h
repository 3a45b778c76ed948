// Settings of engine/problem/: its configuration keys (a section of the job schema).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/config/config.h"

namespace geotps {

/// potential.*: which Boltzmann potential (a registered type, engine/problem/potential_registry.h).
struct PotentialSettings {
  std::string type;  ///< registered name: tabulated_surface, mueller_brown, double_well,
                     ///< double_well_nd, openmm
  std::string file;  ///< tabulated_surface: the surface file (resolved path)
  std::array<bool, 2> periodic = {true, true};  ///< tabulated_surface: per axis (x, y)
  double energyScale = 1.0;                ///< factor applied to the analytic / tabulated energies
  double barrier = 5.0, stiffness = 10.0;  ///< double_well, double_well_nd
  int dimension = 3;                       ///< double_well_nd: D
  double coupling = 0.0;                   ///< double_well_nd
  std::string system, pdbA, pdbB;          ///< openmm: System XML and the two end-state PDBs
  std::string platform = "auto", precision = "mixed";  ///< openmm
  /// Not a key: set by a pipeline that replaced `platform: auto` by a platform chosen earlier (a
  /// resumed checkpoint's, a compare's), it says which; the molecule's platform report (stored
  /// as /full_atom platform_report) then gives it instead of "requested by name".
  std::string platformOrigin;
  int deviceIndex = -1;  ///< openmm, OpenCL / CUDA: DeviceIndex (-1 = the platform's choice)
};

/// states.*: the metastable states (D values each, units of x) and the log-SNR of the geodesic's
/// end points.
struct StateSettings {
  std::vector<double> a, b;
  double lEnd = 4.0;
};

/// The keys potential.*.
const std::vector<KeySpec>& potentialKeys();
/// The keys states.*.
const std::vector<KeySpec>& stateKeys();

PotentialSettings readPotentialSettings(const Config& config);
StateSettings readStateSettings(const Config& config);

}  // namespace geotps
