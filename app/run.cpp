// `geotps run CONFIG`: geodesic, annealed Langevin paths, HDF5 output (engine/pipelines/run.h).
#include "engine/pipelines/run.h"

#include <fmt/format.h>

#include "app/command.h"

namespace geotps::app {

Command addRunCommand(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("run", "Run a job: geodesic, annealed Langevin paths, HDF5 output");
  const auto o = addJobCommandOptions(*cmd, "job configuration (YAML)",
                                      "output HDF5 file (overrides output.file)");
  addResumeFlag(*cmd, *o, "run");
  return {cmd, [o](const std::string& commandLine) {
            runWithOutput(o->output, commandLine, [&](CommandOutput& out) {
              const JobSummary summary = runJob(o->load(), o->jobOptions(), out.stream());
              out.finish("\n" + formatSummary(summary), {summary.outputFile});
            });
          }};
}

}  // namespace geotps::app
