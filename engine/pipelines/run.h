// A `geotps run` job: configuration -> potential -> denoiser -> geodesic -> annealed Langevin paths
// -> metrics -> HDF5 result file, with per-stage wall times.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "engine/config/config.h"
#include "engine/io/result_file.h"
#include "engine/pipelines/job_settings.h"

namespace geotps {

/// The numbers a run ends with (also what `geotps info` reads back from the file).
struct JobSummary {
  std::string outputFile;
  std::string name;
  std::string version;
  std::uint64_t seed = 0;
  long long nPaths = 0;
  double maxEnergyMean = 0.0;  ///< MaxEnergy at the nearest grid point (interpolant for analytic)
  double maxEnergyStd = 0.0;
  double maxEnergyInterpolatedMean = 0.0;
  double maxEnergyInterpolatedStd = 0.0;
  double maxEnergyCVMean = 0.0;  ///< full atom: MaxEnergy on the CV surface, kJ/mol (NaN for 2D)
  double maxEnergyCVStd = 0.0;
  std::string kind = "2d";  ///< "2d" or "full_atom" (then MaxEnergy is full-atom, kJ/mol,
                            ///< relative to the lower minimised end state)
  double successFraction = 0.0;
  long long energyEvaluations = 0;         ///< potential evaluations (sampler + denoiser table)
  long long samplerEnergyEvaluations = 0;  ///< of which by the sampler (with gradient)
  long long nearestGridLookups = 0;        ///< surface lookups for the nearest-grid MaxEnergy
  long long denoiserEvaluations = 0;       ///< posterior-moment evaluations at spacetime points
  double geodesicEnergy = 0.0;             ///< with the job's denoiser
  double geodesicEnergyExact = 0.0;  ///< the same curve's energy with the exact quadrature denoiser
  double geodesicLength = 0.0;
  double straightLineEnergy = 0.0;
  double minL = 0.0;
  long long geodesicIterations = 0;
  std::string geodesicStopReason;
  double minimaxBound = 0.0;  ///< NaN when the potential is not a grid
  double minKLToZStar = 0.0;  ///< NaN unless region avoidance
  std::string energyUnit;
  double wallSeconds = 0.0;
  std::map<std::string, double> stageSeconds;  ///< setup, geodesic, sampling, metrics, output
};

/// Runs the job; writes the result file atomically (nothing is left behind on failure).
/// Progress goes to stderr; the effective configuration is printed to `log` first. This is the
/// pipeline's edge: it applies `options` to the config, reads the JobSettings and runs them.
JobSummary runJob(Config config, const JobOptions& options, std::FILE* log);

/// Runs a job from its settings; `record` is the configuration they were read from, stored in the
/// result file's /config group.
JobSummary runJob(const JobSettings& settings, const Config& record, const JobOptions& options,
                  std::FILE* log);

/// Reads the summary back from a result file written by runJob (checks the schema version).
JobSummary readSummary(const std::string& path);

/// Human-readable summary (several lines).
std::string formatSummary(const JobSummary& s);
/// One JSON object with the summary's fields.
std::string summaryJson(const JobSummary& s);

}  // namespace geotps
