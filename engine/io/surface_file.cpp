// Writing a tabulated surface file (`phi psi U`, the format readGridFile reads).
#include "engine/io/surface_file.h"

#include <fmt/format.h>

#include <filesystem>

#include "engine/io/atomic_file.h"

namespace geotps {

void writeSurfaceFile(const std::string& path, const Grid2D& grid,
                      const std::vector<std::string>& header) {
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::string text;
  for (const auto& h : header) text += "# " + h + "\n";
  text += "# phi psi U\n";
  for (int j = 0; j < grid.ny; ++j) {
    for (int i = 0; i < grid.nx; ++i) {
      text += fmt::format("{:.15e} {:.15e} {:.15e}\n", grid.x0 + i * grid.hx, grid.y0 + j * grid.hy,
                          grid.value(i, j));
    }
  }
  writeFileAtomically(path, text);
}

}  // namespace geotps
