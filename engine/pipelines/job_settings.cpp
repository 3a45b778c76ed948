#include "engine/pipelines/job_settings.h"

#include <fmt/format.h>

#include <string>

namespace geotps {

JobSettings readJobSettings(const Config& config) {
  JobSettings s;
  s.source = config.sourceName();
  s.name = config.getString("name");
  s.seed = static_cast<std::uint64_t>(config.getInt("seed"));
  s.kT = config.getReal("kT");
  s.potential = readPotentialSettings(config);
  s.molecule = readMoleculeSettings(config);
  s.surface = readSurfaceSettings(config);
  s.states = readStateSettings(config);
  s.denoiser = readDenoiserSettings(config);
  s.training = readTrainingJobSettings(config);
  s.geodesic = readGeodesicSettings(config);
  s.sampling = readSamplingSettings(config);
  s.metrics = readMetricsSettings(config);
  s.compare = readCompareSettings(config);
  s.mcmc = readMcmcSettings(config);
  s.doob = readDoobSettings(config);
  s.output = readOutputSettings(config);
  return s;
}

void applyOptions(Config& config, const JobOptions& options, const std::string& outputKey) {
  if (options.seed) config.set("seed", std::to_string(*options.seed));
  if (options.output && !outputKey.empty()) {
    config.set(outputKey, fmt::format("\"{}\"", *options.output));
  }
}

}  // namespace geotps
