// Maps the YAML `denoiser.type` string to a factory. Built-in: `quadrature` (the exact denoiser,
// engine/denoisers/quadrature_denoiser.h). `torch` (engine/neural/) is registered by
// registerTorchComponents() in builds with LibTorch; in a build without it, asking for it is a
// configuration error that says so.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "engine/denoisers/denoiser.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/denoisers/settings.h"

namespace geotps {

/// What a denoiser factory may use besides its settings.
struct DenoiserContext {
  /// The exact quadrature denoiser of the job's density (always built: it is the reference, and
  /// the geodesic found with another denoiser is re-evaluated with it).
  std::shared_ptr<QuadratureDenoiser> exact;
  int dimension = 0;   ///< the potential's dimension D
  std::string source;  ///< the config file, for messages
};

using DenoiserFactory =
    std::function<std::shared_ptr<Denoiser>(const DenoiserSettings&, const DenoiserContext&)>;

/// Adds (or replaces) a denoiser type.
void registerDenoiser(const std::string& name, DenoiserFactory factory);

/// True when `name` is registered in this build (`torch`: once the LibTorch module is loaded,
/// which this loads).
bool hasDenoiser(const std::string& name);

/// Builds the denoiser named by denoiser.type; errors name the key and the config file.
std::shared_ptr<Denoiser> makeDenoiser(const DenoiserSettings& settings,
                                       const DenoiserContext& context);

}  // namespace geotps
