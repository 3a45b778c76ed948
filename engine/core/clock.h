// Wall-clock timing of stages (seconds on the steady clock).
#pragma once

#include <chrono>

namespace geotps {

using Clock = std::chrono::steady_clock;

/// Seconds elapsed since `t`.
inline double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace geotps
