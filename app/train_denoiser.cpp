// `geotps train-denoiser CONFIG`: trains the neural denoiser (LibTorch builds; a build without
// LibTorch answers with a configuration error that says so).
#include <fmt/format.h>

#include "app/command.h"
#include "engine/core/features.h"
#if GEOTPS_WITH_TORCH
#include "engine/pipelines/train_denoiser.h"
#endif

namespace geotps::app {

Command addTrainDenoiserCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train-denoiser", "Train the neural denoiser on samples of the job's density (training.*)");
  const auto o = addJobCommandOptions(*cmd, "job configuration (YAML)",
                                      "model file (overrides training.output)");
  return {cmd, [o](const std::string& commandLine) {
            runWithOutput(o->output, commandLine, [&](CommandOutput& out) {
              Config config = o->load();  // a bad config is reported first
#if GEOTPS_WITH_TORCH
              const TrainingSummary summary =
                  runTrainDenoiser(std::move(config), o->jobOptions(), out.stream());
              out.finish("\n" + formatTrainingSummary(summary), {summary.outputFile});
#else
              throw ConfigError(noTorchMessage(config.sourceName(), "training",
                                               "`geotps train-denoiser` (the neural denoiser)"));
#endif
            });
          }};
}

}  // namespace geotps::app
