// Registration of Doob's Lagrangian as the `geotps compare` method "doob" (LibTorch builds).
#pragma once

#include <string>
#include <vector>

namespace geotps {

/// Whether a training loss has stopped falling: the mean of its last tenth against the mean of the
/// tenth before. Converged when they differ by at most kLossTolerance (relative).
struct LossTrend {
  bool converged = false;
  double previous = 0.0, last = 0.0, relativeChange = 0.0;
  std::string text;  ///< the numbers, for the table
};
inline constexpr double kLossTolerance = 0.02;
LossTrend lossTrend(const std::vector<double>& loss);

/// Registers "doob" in the compare methods (called by registerTorchComponents()).
void registerDoobCompareMethod();

}  // namespace geotps
