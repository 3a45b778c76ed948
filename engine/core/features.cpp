#include "engine/core/features.h"

#include <fmt/format.h>

namespace geotps {

std::string noTorchMessage(const std::string& source, const std::string& key,
                           const std::string& what) {
  return fmt::format(
      "{}{}key '{}': {} needs LibTorch, and this build of geotps has none (configured with "
      "-DGEOTPS_WITH_TORCH=OFF); rebuild with -DGEOTPS_WITH_TORCH=ON (scripts/install_deps.sh "
      "installs libtorch-dev)",
      source, source.empty() ? "" : ": ", key, what);
}

}  // namespace geotps
