// The full-atom commands besides `run`: `geotps surface` (adiabatic (phi, psi) map); `geotps
// export` is in engine/pipelines/export.h.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/config.h"

namespace geotps {

struct SurfaceSummary {
  std::string path;  ///< the surface file written
  std::string kind;  ///< surface.kind: adiabatic | free_energy
  int gridSize = 0;
  int windows = 0;           ///< umbrella windows per angle (free_energy)
  long long samples = 0;     ///< recorded (phi, psi) (free_energy)
  int emptyBins = 0;         ///< bins without samples (free_energy)
  double fillValue = 0;      ///< F written into them, kJ/mol (free_energy)
  long long whamEvaluations = 0;  ///< WHAM objective evaluations (free_energy)
  std::string whamStop;      ///< (free_energy)
  double barrierKjMol = 0;  ///< minimax barrier between states A and B on the map, kJ/mol
  double seconds = 0;
  std::string platform;
};

/// Computes the adiabatic map (surface.kind adiabatic) or the free-energy surface by umbrella
/// sampling and WHAM (free_energy) of an openmm job config and writes it as a `phi psi U` file (U
/// in kJ/mol relative to its minimum; method, temperature and units recorded in the header).
SurfaceSummary runSurface(Config config, const std::optional<std::string>& output, bool progress,
                          std::FILE* log);

}  // namespace geotps
