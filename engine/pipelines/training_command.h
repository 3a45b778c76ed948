// `geotps train-denoiser` as a registered command: the LibTorch components register it
// (registerTorchComponents(), engine/neural/register.h), so that the command line, which links no
// LibTorch, can run it through the LibTorch module (engine/core/torch_module.h).
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include "engine/config/config.h"
#include "engine/pipelines/job_settings.h"

namespace geotps {

/// What a training run prints at its end and the model file it wrote.
struct TrainingCommandResult {
  std::string summary;  ///< formatTrainingSummary() (engine/pipelines/train_denoiser.h)
  std::string outputFile;
};

/// Runs `geotps train-denoiser` on a loaded config (runTrainDenoiser()).
using TrainingCommand =
    std::function<TrainingCommandResult(Config config, const JobOptions& options, std::FILE* log)>;

/// Sets the command (replacing an earlier one).
void registerTrainingCommand(TrainingCommand command);

/// The registered command, loading the LibTorch module first when none is registered; throws
/// ConfigError naming `source` and key 'training' when this build cannot train (no LibTorch, or
/// its module failed to load).
const TrainingCommand& trainingCommand(const std::string& source);

}  // namespace geotps
