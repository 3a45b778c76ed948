// The `geotps` command line: run a job, read a result file back, list the configuration keys.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "engine/config.h"
#include "engine/h5_file.h"
#include "engine/job.h"
#include "geotps/version.h"

int main(int argc, char** argv) {
  using namespace geotps;
  CLI::App app{"GeoTPS: transition path sampling by spacetime geodesics of diffusion models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("geotps ") + kVersion);

  std::string configPath;
  std::string outPath;
  std::uint64_t seed = 0;
  bool quiet = false;
  auto* run =
      app.add_subcommand("run", "Run a job: geodesic, annealed Langevin paths, HDF5 output");
  run->add_option("config", configPath, "job configuration (YAML)")->required();
  auto* seedOpt = run->add_option("--seed", seed, "random seed (overrides the config's seed)");
  auto* outOpt = run->add_option("--out,-o", outPath, "output HDF5 file (overrides output.file)");
  run->add_flag("--quiet,-q", quiet, "no progress display");

  std::string infoPath;
  bool json = false;
  auto* info = app.add_subcommand("info", "Summarise a result file written by `geotps run`");
  info->add_option("file", infoPath, "result file (HDF5)")->required();
  info->add_flag("--json", json, "print one JSON object instead of text");

  auto* keys = app.add_subcommand("keys", "List every configuration key (Markdown table)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (run->parsed()) {
      Config config = Config::load(configPath);
      JobOptions options;
      if (*seedOpt) options.seed = seed;
      if (*outOpt) options.output = outPath;
      options.progress = !quiet;
      const JobSummary summary = runJob(std::move(config), options, stdout);
      fmt::print("\n{}", formatSummary(summary));
    } else if (info->parsed()) {
      const JobSummary summary = readSummary(infoPath);
      if (json) {
        fmt::print("{}\n", summaryJson(summary));
      } else {
        fmt::print("{}", formatSummary(summary));
      }
    } else if (keys->parsed()) {
      fmt::print("{}", schemaMarkdown(jobSchema()));
    }
  } catch (const ConfigError& e) {
    fmt::print(stderr, "geotps: configuration error: {}\n", e.what());
    return 2;
  } catch (const H5Error& e) {
    fmt::print(stderr, "geotps: HDF5 error: {}\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    fmt::print(stderr, "geotps: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
