// The `geotps` command line: run a job, read a result file back, list the configuration keys,
// train the neural denoiser.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "engine/compare.h"
#include "engine/config.h"
#include "engine/denoiser_training.h"
#include "engine/full_atom_commands.h"
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
  std::vector<std::string> runSets, compareSets, surfaceSets, trainSets;
  const char* setHelp =
      "override a configuration key, KEY=VALUE (VALUE in YAML, e.g. sampler.n_paths=100 or "
      "states.a=[-2.5,2.7]); repeatable";
  run->add_option("--set,-s", runSets, setHelp)->allow_extra_args(false);

  std::string compareConfig, compareOut;
  std::uint64_t compareSeed = 0;
  bool compareQuiet = false;
  auto* compare = app.add_subcommand(
      "compare",
      "Run the geodesic method and the baselines (MCMC shooting, Doob's Lagrangian) on one "
      "potential and write a comparison table (Markdown) and HDF5 file");
  compare
      ->add_option("config", compareConfig, "job configuration (YAML; compare.*, mcmc.*, doob.*)")
      ->required();
  auto* compareSeedOpt =
      compare->add_option("--seed", compareSeed, "random seed (overrides the config's seed)");
  auto* compareOutOpt = compare->add_option("--out,-o", compareOut,
                                            "comparison HDF5 file (overrides compare.output)");
  compare->add_flag("--quiet,-q", compareQuiet, "no progress display");
  compare->add_option("--set,-s", compareSets, setHelp)->allow_extra_args(false);

  std::string infoPath;
  bool json = false;
  auto* info = app.add_subcommand(
      "info", "Summarise a result file written by `geotps run` or `geotps compare`");
  info->add_option("file", infoPath, "result file (HDF5)")->required();
  info->add_flag("--json", json, "print one JSON object instead of text");

  auto* keys = app.add_subcommand("keys", "List every configuration key (Markdown table)");

  std::string surfaceConfig, surfaceOut;
  bool surfaceQuiet = false;
  auto* surface = app.add_subcommand(
      "surface", "Adiabatic (phi, psi) map of an openmm job by restrained minimisation");
  surface->add_option("config", surfaceConfig, "job configuration (YAML, potential.type openmm)")
      ->required();
  auto* surfaceOutOpt =
      surface->add_option("--out,-o", surfaceOut, "surface file (overrides surface.output)");
  surface->add_flag("--quiet,-q", surfaceQuiet, "no progress display");
  surface->add_option("--set,-s", surfaceSets, setHelp)->allow_extra_args(false);

  std::string exportFile, exportFormat = "dcd", exportPrefix;
  long long exportIndex = 0;
  auto* exportCmd = app.add_subcommand(
      "export", "Write one full-atom path as DCD + PDB (or a multi-model PDB) for VMD / mdtraj");
  exportCmd->add_option("file", exportFile, "full-atom result file (HDF5)")->required();
  exportCmd->add_option("--path,-p", exportIndex, "path index (0-based)")->capture_default_str();
  exportCmd
      ->add_option("--format,-f", exportFormat, "dcd (DCD + topology PDB) or pdb (multi-model)")
      ->check(CLI::IsMember({"dcd", "pdb"}))
      ->capture_default_str();
  exportCmd->add_option("--out,-o", exportPrefix,
                        "output prefix (default: the result file's name + _path<I>)");

  std::string trainConfig, trainOut;
  std::uint64_t trainSeed = 0;
  bool trainQuiet = false;
  auto* train = app.add_subcommand(
      "train-denoiser", "Train the neural denoiser on samples of the job's density (training.*)");
  train->add_option("config", trainConfig, "job configuration (YAML)")->required();
  auto* trainOutOpt =
      train->add_option("--out,-o", trainOut, "model file (overrides training.output)");
  auto* trainSeedOpt =
      train->add_option("--seed", trainSeed, "random seed (overrides the config's seed)");
  train->add_flag("--quiet,-q", trainQuiet, "no progress display");
  train->add_option("--set,-s", trainSets, setHelp)->allow_extra_args(false);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  // Loads a config and applies the command line's --set overrides in order.
  auto load = [](const std::string& path, const std::vector<std::string>& sets) {
    Config config = Config::load(path);
    for (const auto& assignment : sets) config.setFromCommandLine(assignment);
    return config;
  };
  try {
    if (run->parsed()) {
      Config config = load(configPath, runSets);
      JobOptions options;
      if (*seedOpt) options.seed = seed;
      if (*outOpt) options.output = outPath;
      options.progress = !quiet;
      const JobSummary summary = runJob(std::move(config), options, stdout);
      fmt::print("\n{}", formatSummary(summary));
    } else if (compare->parsed()) {
      JobOptions options;
      if (*compareSeedOpt) options.seed = compareSeed;
      if (*compareOutOpt) options.output = compareOut;
      options.progress = !compareQuiet;
      std::string command = "geotps";
      for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
      const CompareSummary summary =
          runCompare(load(compareConfig, compareSets), options, command, stdout);
      fmt::print("\n{}\nwrote {}\nwrote {}\n", compareMarkdown(summary), summary.outputFile,
                 summary.tableFile);
    } else if (info->parsed() && isCompareFile(infoPath)) {
      fmt::print("{}", compareInfo(infoPath, json));
    } else if (info->parsed()) {
      const JobSummary summary = readSummary(infoPath);
      if (json) {
        fmt::print("{}\n", summaryJson(summary));
      } else {
        fmt::print("{}", formatSummary(summary));
      }
    } else if (surface->parsed()) {
      const SurfaceSummary sum =
          runSurface(load(surfaceConfig, surfaceSets),
                     *surfaceOutOpt ? std::optional<std::string>(surfaceOut) : std::nullopt,
                     !surfaceQuiet, stdout);
      fmt::print(
          "adiabatic map  {0} x {0} on {1}, {2:.1f} s\nbarrier        {3:.3f} kJ/mol "
          "(minimax between the states)\noutput         {4}\n",
          sum.gridSize, sum.platform, sum.seconds, sum.barrierKjMol, sum.path);
    } else if (exportCmd->parsed()) {
      std::string prefix = exportPrefix;
      if (prefix.empty()) {
        std::string stem = exportFile;
        if (stem.size() > 3 && stem.substr(stem.size() - 3) == ".h5") stem.resize(stem.size() - 3);
        prefix = fmt::format("{}_path{}", stem, exportIndex);
      }
      for (const auto& w : exportPath(exportFile, exportIndex, exportFormat, prefix)) {
        fmt::print("wrote {}\n", w);
      }
    } else if (train->parsed()) {
      TrainingJobOptions options;
      if (*trainOutOpt) options.output = trainOut;
      if (*trainSeedOpt) options.seed = trainSeed;
      options.progress = !trainQuiet;
      const TrainingSummary summary =
          runTrainDenoiser(load(trainConfig, trainSets), options, stdout);
      fmt::print("\n{}", formatTrainingSummary(summary));
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
