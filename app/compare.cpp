// `geotps compare CONFIG`: the geodesic method next to the baselines (engine/pipelines/compare.h).
#include "engine/pipelines/compare.h"

#include <fmt/format.h>

#include "app/command.h"

namespace geotps::app {

Command addCompareCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compare",
      "Run the geodesic method and the baselines (MCMC shooting, Doob's Lagrangian) on one "
      "potential and write a comparison table (Markdown) and HDF5 file");
  const auto o = addJobCommandOptions(*cmd, "job configuration (YAML; compare.*, mcmc.*, doob.*)",
                                      "comparison HDF5 file (overrides compare.output)");
  return {cmd, [o](const std::string& commandLine) {
            const CompareSummary summary =
                runCompare(o->load(), o->jobOptions(), commandLine, stdout);
            fmt::print("\n{}\nwrote {}\nwrote {}\n", compareMarkdown(summary), summary.outputFile,
                       summary.tableFile);
          }};
}

}  // namespace geotps::app
