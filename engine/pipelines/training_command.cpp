#include "engine/pipelines/training_command.h"

#include "engine/core/torch_module.h"

namespace geotps {
namespace {

TrainingCommand& registered() {
  static TrainingCommand command;
  return command;
}

}  // namespace

void registerTrainingCommand(TrainingCommand command) { registered() = std::move(command); }

const TrainingCommand& trainingCommand(const std::string& source) {
  std::string why;
  if (!registered() && !loadTorchModule(&why)) {
    throw ConfigError(torchUnavailableMessage(source, "training",
                                              "`geotps train-denoiser` (the neural denoiser)", why));
  }
  if (!registered()) {
    throw ConfigError(torchUnavailableMessage(
        source, "training", "`geotps train-denoiser` (the neural denoiser)",
        "the LibTorch module loaded but registered no training command"));
  }
  return registered();
}

}  // namespace geotps
