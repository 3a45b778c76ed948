// Settings of engine/denoisers/: its configuration keys (a section of the job schema).
#pragma once

#include <string>
#include <vector>

#include "engine/config/config.h"

namespace geotps {

/// denoiser.*: which denoiser gives mu(z) (a registered type, engine/denoisers/registry.h).
struct DenoiserSettings {
  std::string type = "quadrature";  ///< registered name: quadrature, torch
  std::string model;                ///< torch: the model file (resolved path)
  std::vector<int> gridSize;        ///< quadrature on an analytic potential: points per dimension
  std::vector<double> boxLow, boxHigh;  ///< ... and the box they cover (units of x)
};

/// The keys denoiser.*.
const std::vector<KeySpec>& denoiserKeys();

DenoiserSettings readDenoiserSettings(const Config& config);

}  // namespace geotps
