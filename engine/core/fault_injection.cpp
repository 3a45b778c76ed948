#include "engine/core/fault_injection.h"

#include <csignal>
#include <cstdlib>
#include <string>

namespace geotps {

void faultInjectionPoint(const char* stage, int index) {
  static const char* target = std::getenv("GEOTPS_FAULT_KILL");
  if (target == nullptr) return;
  if (std::string(target) == std::string(stage) + ":" + std::to_string(index)) {
    std::raise(SIGKILL);
  }
}

}  // namespace geotps
