// Optional parts of a build: what a build without LibTorch (-DGEOTPS_WITH_TORCH=OFF) refuses, with
// one message.
#pragma once

#include <string>

namespace geotps {

/// The ConfigError message for `what` (e.g. "denoiser.type 'torch'") in a build without LibTorch:
/// "<source>: key '<key>': <what> needs LibTorch, and this build has none ...".
std::string noTorchMessage(const std::string& source, const std::string& key,
                           const std::string& what);

}  // namespace geotps
