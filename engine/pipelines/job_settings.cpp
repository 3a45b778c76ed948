#include "engine/pipelines/job_settings.h"

#include <fmt/format.h>

#include <string>

namespace geotps {

JobSettings readJobSettings(const Config& config) {
  JobSettings s;
  s.source = config.sourceName();
  s.name = config.getString("name");
  // The name becomes a file name (results/<name>.h5): one path component, no folder tricks.
  if (s.name.empty() || s.name == "." || s.name == ".." ||
      s.name.find_first_of("/\\") != std::string::npos || s.name.find('\0') != std::string::npos) {
    throw ConfigError(fmt::format(
        "{}: key 'name': '{}' cannot be a file name; expected a non-empty name without '/' or "
        "'\\' that is not '.' or '..' (it names results/<name>.h5)",
        config.sourceName(), s.name));
  }
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
  s.distance = readDistanceSettings(config);
  s.output = readOutputSettings(config);
  return s;
}

void applyOptions(Config& config, const JobOptions& options, const std::string& outputKey) {
  if (options.seed) config.set("seed", std::to_string(*options.seed));
  if (options.output && !outputKey.empty()) {
    // As a double-quoted YAML string with its quotes and backslashes escaped: the path is taken
    // as written, never re-read as YAML.
    std::string quoted = "\"";
    for (const char c : *options.output) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    config.set(outputKey, quoted + "\"");
  }
}

}  // namespace geotps
