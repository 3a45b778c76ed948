// Everything a job's stages need, read from its configuration in one place (readJobSettings): the
// raw Config stops at the pipeline's edge, each stage receives its typed settings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/baselines/doob/settings.h"
#include "engine/baselines/settings.h"
#include "engine/config/config.h"
#include "engine/denoisers/settings.h"
#include "engine/geodesic/settings.h"
#include "engine/io/settings.h"
#include "engine/metrics/settings.h"
#include "engine/molecule/settings.h"
#include "engine/neural/settings.h"
#include "engine/pipelines/settings.h"
#include "engine/problem/settings.h"
#include "engine/samplers/settings.h"

namespace geotps {

/// The typed settings of every section of a job configuration.
struct JobSettings {
  std::string source;  ///< the config file's name, for messages
  std::string name;
  std::uint64_t seed = 0;
  double kT = 1.0;
  PotentialSettings potential;
  MoleculeSettings molecule;
  SurfaceSettings surface;
  StateSettings states;
  DenoiserSettings denoiser;
  TrainingJobSettings training;
  GeodesicSettings geodesic;
  SamplingSettings sampling;
  MetricsSettings metrics;
  CompareSettings compare;
  McmcSettings mcmc;
  DoobSettings doob;
  DistanceSettings distance;
  OutputSettings output;
};

/// Reads every section of `config` (validated against the job schema).
JobSettings readJobSettings(const Config& config);

/// Command-line overrides and presentation options of a command (run, compare, train-denoiser).
struct JobOptions {
  std::optional<std::string> output;  ///< --out: overrides the command's output key
  std::optional<std::uint64_t> seed;  ///< --seed: overrides seed
  bool progress = true;               ///< show progress on stderr
  /// Write the result to this path instead of the output file (a temporary the caller owns and
  /// renames to the output file later; the output file is still the one recorded in the result).
  std::optional<std::string> stageAs;
  /// --max-memory: refuse a job whose estimated memory exceeds this many bytes (absent: the
  /// machine's RAM; engine/pipelines/memory_estimate.h)
  std::optional<std::uint64_t> maxMemory;
  /// --resume (`geotps run`, `geotps compare`): continue from the checkpoint folder of the output
  /// file (engine/pipelines/checkpoint.h) instead of discarding it.
  bool resume = false;
  /// The folder of the walker checkpoint when set: a compare's geodesic run (staged with stageAs)
  /// keeps its chunks inside the compare's checkpoint, and the compare removes them. Unset: `geotps
  /// run` uses `<output file>.checkpoint`, and a staged run keeps its walkers in memory.
  std::optional<std::string> checkpointFolder;
  /// The OpenMM platform a job with `potential.platform: auto` runs on instead of choosing again:
  /// a compare's geodesic run takes the one the compare chose for its baselines.
  std::optional<std::string> autoPlatform;
};

/// Applies --seed, and --out as `outputKey` (a String key), to the config, so that the effective
/// configuration printed and stored shows them.
void applyOptions(Config& config, const JobOptions& options, const std::string& outputKey);

}  // namespace geotps
