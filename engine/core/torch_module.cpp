#include "engine/core/torch_module.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <vector>

#include "engine/core/features.h"
#include "geotps/git_commit.h"
#include "geotps/version.h"

namespace geotps {
namespace {

namespace fs = std::filesystem;

#ifdef GEOTPS_TORCH_MODULE_FILE
// The module's entry point (engine/neural/module_entry.cpp): registers the components when
// `build` is the build it was made by, else returns that build, unchanged.
using ModuleEntry = const char* (*)(const char* build);

std::string buildIdentity() { return std::string(kVersion) + " " + kGitCommit; }

std::vector<fs::path> candidates() {
  if (const char* forced = std::getenv("GEOTPS_TORCH_MODULE"); forced && *forced) {
    return {fs::path(forced)};
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {fs::path(GEOTPS_TORCH_MODULE_FILE)};
  const fs::path dir = exe.parent_path();
  return {dir / GEOTPS_TORCH_MODULE_FILE,
          (dir / GEOTPS_TORCH_MODULE_INSTALL_DIR / GEOTPS_TORCH_MODULE_FILE).lexically_normal()};
}

// Loads the first candidate that exists (or the first one, for its error).
bool load(std::string& why) {
  const auto paths = candidates();
  fs::path chosen = paths.front();
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::exists(p, ec)) {
      chosen = p;
      break;
    }
  }
  void* handle = dlopen(chosen.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* error = dlerror();
    std::string looked;
    for (const auto& p : paths) looked += (looked.empty() ? "" : ", ") + p.string();
    why = fmt::format("the LibTorch module of this build could not be loaded ({}); looked for {}",
                      error ? error : "unknown error", looked);
    return false;
  }
  auto entry = reinterpret_cast<ModuleEntry>(dlsym(handle, "geotps_torch_module_register"));
  if (!entry) {
    why = fmt::format("'{}' is not a GeoTPS LibTorch module (no geotps_torch_module_register)",
                      chosen.string());
    return false;  // the handle stays open: closing a half-understood library is riskier
  }
  const std::string mine = buildIdentity();
  if (const char* other = entry(mine.c_str())) {
    why = fmt::format("'{}' belongs to another build of geotps ({}; this one is {}); rebuild or "
                      "reinstall both together",
                      chosen.string(), other, mine);
    return false;
  }
  return true;
}
#endif

}  // namespace

bool loadTorchModule(std::string* why) {
#ifdef GEOTPS_TORCH_MODULE_FILE
  static std::once_flag once;
  static bool loaded = false;
  static std::string failure;
  std::call_once(once, [] { loaded = load(failure); });
  if (!loaded && why) *why = failure;
  return loaded;
#else
  if (why) why->clear();
  return false;
#endif
}

std::string torchUnavailableMessage(const std::string& source, const std::string& key,
                                    const std::string& what, const std::string& why) {
  if (why.empty()) return noTorchMessage(source, key, what);
  return fmt::format("{}{}key '{}': {} needs LibTorch: {}", source, source.empty() ? "" : ": ",
                     key, what, why);
}

}  // namespace geotps
