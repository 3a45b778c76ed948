// Writing a tabulated surface file (`phi psi U`, phi fastest), the format TabulatedSurface reads.
#pragma once

#include <string>
#include <vector>

#include "potentials/tabulated_surface.h"

namespace geotps {

/// Writes a grid as a `phi psi U` file (phi fastest) that readGridFile reads, with `header` lines
/// written as '#' comments first. Written under a temporary name and renamed.
void writeSurfaceFile(const std::string& path, const Grid2D& grid,
                      const std::vector<std::string>& header);

}  // namespace geotps
