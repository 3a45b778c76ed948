#include "engine/core/fault_injection.h"

#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "engine/core/ranks.h"

namespace geotps {

void faultInjectionPoint(const char* stage, int index) {
  static const char* target = std::getenv("GEOTPS_FAULT_KILL");
  if (target == nullptr) return;
  if (std::string(target) == std::string(stage) + ":" + std::to_string(index)) {
    std::raise(SIGKILL);
  }
}

void faultThrowPoint(int ordinal) {
  static const char* target = std::getenv("GEOTPS_FAULT_THROW_RANK");
  if (target == nullptr) return;
  const std::string t = target;
  const auto colon = t.find(':');
  const std::string rank = t.substr(0, colon);
  const std::string n = colon == std::string::npos ? "0" : t.substr(colon + 1);
  if (rank == std::to_string(Ranks::world().rank()) && n == std::to_string(ordinal)) {
    throw std::runtime_error("injected failure (GEOTPS_FAULT_THROW_RANK=" + t + ")");
  }
}

}  // namespace geotps
