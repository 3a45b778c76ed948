// `geotps train-denoiser CONFIG`: trains the neural denoiser (LibTorch builds, through the LibTorch
// module; a build without LibTorch answers with a configuration error that says so).
#include <fmt/format.h>

#include "app/command.h"
#include "engine/pipelines/training_command.h"

namespace geotps::app {

Command addTrainDenoiserCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train-denoiser", "Train the neural denoiser on samples of the job's density (training.*)");
  const auto o = addJobCommandOptions(*cmd, "job configuration (YAML)",
                                      "model file (overrides training.output)");
  return {cmd, [o](const std::string& commandLine) {
            runWithOutput(o->output, commandLine, [&](CommandOutput& out) {
              Config config = o->load();  // a bad config is reported first
              const TrainingCommand& train = trainingCommand(config.sourceName());
              const TrainingCommandResult result =
                  train(std::move(config), o->jobOptions(), out.stream());
              out.finish("\n" + result.summary, {result.outputFile});
            });
          }};
}

}  // namespace geotps::app
