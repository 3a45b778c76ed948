// `geotps compare CONFIG`: the geodesic method next to the baselines (engine/pipelines/compare.h).
#include "engine/pipelines/compare.h"

#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <vector>

#include "app/command.h"

namespace geotps::app {

Command addCompareCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compare",
      "Run the geodesic method and the baselines (MCMC shooting, Doob's Lagrangian) on one "
      "potential and write a comparison table (Markdown) and HDF5 file");
  const auto o = addJobCommandOptions(*cmd, "job configuration (YAML; compare.*, mcmc.*, doob.*)",
                                      "comparison HDF5 file (overrides compare.output)");
  addResumeFlag(*cmd, *o, "compare");
  return {cmd, [o](const std::string& commandLine) {
            runWithOutput(o->output, commandLine, [&](CommandOutput& out) {
              const CompareSummary summary =
                  runCompare(o->load(), o->jobOptions(), commandLine, out.stream());
              // The geodesic run's file exists when a method needed the geodesic.
              std::vector<std::string> written = {summary.outputFile, summary.tableFile};
              if (std::filesystem::exists(summary.geodesicFile)) {
                written.push_back(summary.geodesicFile);
              }
              std::string text = "\n" + compareMarkdown(summary) + "\n";
              for (const auto& w : written) text += fmt::format("wrote {}\n", w);
              out.finish(text, written);
            });
          }};
}

}  // namespace geotps::app
