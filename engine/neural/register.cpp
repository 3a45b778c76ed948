#include "engine/neural/register.h"

#include <fmt/format.h>

#include "engine/baselines/doob/register.h"
#include "engine/config/config.h"
#include "engine/denoisers/registry.h"
#include "engine/neural/torch_denoiser.h"
#include "engine/pipelines/train_denoiser.h"
#include "engine/pipelines/training_command.h"

namespace geotps {

void registerTorchComponents() {
  registerDenoiser(
      "torch",
      [](const DenoiserSettings& s, const DenoiserContext& c) -> std::shared_ptr<Denoiser> {
        std::shared_ptr<Denoiser> denoiser;
        try {
          denoiser = TorchDenoiser::fromNetwork(loadDenoiser(s.model));
        } catch (const std::exception& e) {
          throw ConfigError(fmt::format("{}: key 'denoiser.model': {}", c.source, e.what()));
        }
        if (denoiser->dimension() != c.dimension) {
          throw ConfigError(
              fmt::format("{}: key 'denoiser.model': the model is for dimension {}, the "
                          "potential has {}",
                          c.source, denoiser->dimension(), c.dimension));
        }
        return denoiser;
      });
  registerDoobCompareMethod();
  registerTrainingCommand([](Config config, const JobOptions& options, std::FILE* log) {
    const TrainingSummary summary = runTrainDenoiser(std::move(config), options, log);
    return TrainingCommandResult{formatTrainingSummary(summary), summary.outputFile};
  });
}

}  // namespace geotps
