#include "engine/core/warning.h"

#include <fmt/format.h>

#include <cstdio>
#include <mutex>

#include "engine/core/progress.h"

namespace geotps {

void printDiagnostic(const std::string& line) {
  static std::mutex mutex;
  const std::lock_guard<std::mutex> lock(mutex);
  fmt::print(stderr, "{}\n", line);
  std::fflush(stderr);
  if (std::FILE* log = progressLog()) {
    fmt::print(log, "{}\n", line);
    std::fflush(log);
  }
}

void printWarning(const std::string& text) { printDiagnostic("geotps: warning: " + text); }

}  // namespace geotps
