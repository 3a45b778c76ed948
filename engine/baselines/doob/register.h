// Registration of Doob's Lagrangian as the `geotps compare` method "doob" (LibTorch builds).
#pragma once

namespace geotps {

/// Registers "doob" in the compare methods (called by registerTorchComponents()).
void registerDoobCompareMethod();

}  // namespace geotps
