// The LibTorch parts of a build (-DGEOTPS_WITH_TORCH=ON), registered into the engine's registries:
// the denoiser type `torch`, the compare method `doob` and the `geotps train-denoiser` command. A
// program linking GeoTPS::torch calls registerTorchComponents() once before running jobs; the
// geotps binary links no LibTorch and loads them on first use from its module
// (engine/core/torch_module.h), whose entry point calls it.
#pragma once

namespace geotps {

/// Registers denoiser.type `torch` (engine/neural/torch_denoiser.h), compare method `doob`
/// (engine/baselines/doob/) and the training command (engine/pipelines/training_command.h).
/// Idempotent.
void registerTorchComponents();

}  // namespace geotps
