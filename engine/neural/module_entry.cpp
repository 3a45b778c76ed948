// The entry point of the LibTorch module libgeotps_neural.so (engine/core/torch_module.h): the
// geotps binary loads the module on first use and calls this with its build identity.
#include <string>

#include "engine/neural/register.h"
#include "geotps/git_commit.h"
#include "geotps/version.h"

/// Registers the LibTorch components when `build` (the loading program's "<version> <git commit>")
/// is the module's own build and returns null; else registers nothing and returns the module's own
/// build identity, for the message.
extern "C" __attribute__((visibility("default"))) const char* geotps_torch_module_register(
    const char* build) {
  static const std::string mine = std::string(geotps::kVersion) + " " + geotps::kGitCommit;
  if (build == nullptr || mine != build) return mine.c_str();
  geotps::registerTorchComponents();
  return nullptr;
}
