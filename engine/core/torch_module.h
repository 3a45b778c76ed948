// The LibTorch parts of a build with LibTorch (denoiser.type `torch`, compare method `doob`,
// `geotps train-denoiser`; engine/neural/register.h) live, for the geotps binary, in a module of
// their own, libgeotps_neural.so, loaded on first use. LibTorch's start-up (its shared libraries
// and operator registrations, about half a second) is then paid only by the commands that use it.
// Programs that link GeoTPS::torch (the tests, the benchmarks) call registerTorchComponents()
// themselves and never need the module.
#pragma once

#include <string>

namespace geotps {

/// Loads the module once per process (thread-safe) and lets it register its components into this
/// program's registries. Returns true when it is loaded (now or earlier). Returns false in a build
/// without LibTorch (no module; `why` left empty) or when the module cannot be loaded or belongs to
/// another build (`why` says which file and why).
///
/// Where it is looked for: the path in the environment variable GEOTPS_TORCH_MODULE when set, else
/// next to the running executable (a build tree), else in ../lib/geotps/ from it (an installed
/// tree).
bool loadTorchModule(std::string* why);

/// `registry.find(name)`; when `name` is absent and is one that the LibTorch module provides
/// (`fromTorch`), the module is loaded first (loadTorchModule(), its failure in `why`) and the name
/// looked up again. The one lookup of the registries that LibTorch parts register into.
template <class Registry>
typename Registry::iterator findLoadingTorchModule(Registry& registry, const std::string& name,
                                                   bool fromTorch, std::string* why) {
  auto it = registry.find(name);
  if (it == registry.end() && fromTorch && loadTorchModule(why)) it = registry.find(name);
  return it;
}

/// The message of the ConfigError for `what` (e.g. "denoiser 'torch'") at `key` when the LibTorch
/// components are not registered and loadTorchModule() could not provide them: noTorchMessage() in
/// a build without LibTorch, else the module's load failure.
std::string torchUnavailableMessage(const std::string& source, const std::string& key,
                                    const std::string& what, const std::string& why);

}  // namespace geotps
