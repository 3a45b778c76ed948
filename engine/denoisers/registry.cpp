#include "engine/denoisers/registry.h"

#include <fmt/format.h>

#include "engine/config/config.h"
#include "engine/core/torch_module.h"

namespace geotps {

namespace {

std::map<std::string, DenoiserFactory>& registry() {
  static std::map<std::string, DenoiserFactory> r = {
      {"quadrature",
       [](const DenoiserSettings&, const DenoiserContext& c) -> std::shared_ptr<Denoiser> {
         if (!c.exact) {
           throw ConfigError(fmt::format(
               "{}: key 'denoiser.type': quadrature needs the job's CV energy, and this "
               "full-atom job has {} CVs and no CV surface; expected denoiser.type torch with "
               "denoiser.model a network trained on the molecule's dynamics (`geotps "
               "train-denoiser` with training.source md)",
               c.source, c.dimension));
         }
         return c.exact;
       }},
  };
  return r;
}

}  // namespace

void registerDenoiser(const std::string& name, DenoiserFactory factory) {
  registry()[name] = std::move(factory);
}

bool hasDenoiser(const std::string& name) {
  return findLoadingTorchModule(registry(), name, name == "torch", nullptr) != registry().end();
}

std::shared_ptr<Denoiser> makeDenoiser(const DenoiserSettings& settings,
                                       const DenoiserContext& context) {
  const bool torch = settings.type == "torch";
  std::string why;
  const auto it = findLoadingTorchModule(registry(), settings.type, torch, &why);
  if (it == registry().end()) {
    if (torch) {
      throw ConfigError(
          torchUnavailableMessage(context.source, "denoiser.type", "denoiser 'torch'", why));
    }
    throw ConfigError(fmt::format("{}: key 'denoiser.type': unknown denoiser '{}'", context.source,
                                  settings.type));
  }
  return it->second(settings, context);
}

}  // namespace geotps
