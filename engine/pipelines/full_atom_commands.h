// The full-atom commands besides `run`: `geotps surface` (adiabatic (phi, psi) map) and
// `geotps export` (one path of a result file as DCD + PDB or multi-model PDB, for VMD and mdtraj).
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/config.h"

namespace geotps {

struct SurfaceSummary {
  std::string path;  ///< the surface file written
  int gridSize = 0;
  double barrierKjMol = 0;  ///< minimax barrier between states A and B on the map, kJ/mol
  double seconds = 0;
  std::string platform;
};

/// Computes the adiabatic map of an openmm job config and writes it as a `phi psi U` file
/// (U in kJ/mol relative to its minimum; temperature and units recorded in the header).
SurfaceSummary runSurface(Config config, const std::optional<std::string>& output, bool progress,
                          std::FILE* log);

/// Writes path `index` (0-based) of a full-atom result file: format "dcd" writes PREFIX.dcd and the
/// topology PREFIX.pdb; format "pdb" writes PREFIX.pdb with one MODEL per stored frame. Returns the
/// files written.
std::vector<std::string> exportPath(const std::string& resultFile, long long index,
                                    const std::string& format, const std::string& prefix);

}  // namespace geotps
