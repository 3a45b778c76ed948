// The LibTorch parts of a build (-DGEOTPS_WITH_TORCH=ON), registered into the engine's registries:
// the denoiser type `torch` and the compare method `doob`. A program linking GeoTPS::torch calls
// registerTorchComponents() once before running jobs (the geotps binary does so in main()).
#pragma once

namespace geotps {

/// Registers denoiser.type `torch` (engine/neural/torch_denoiser.h) and compare method `doob`
/// (engine/baselines/doob/). Idempotent.
void registerTorchComponents();

}  // namespace geotps
