// `geotps run CONFIG`: geodesic, annealed Langevin paths, HDF5 output (engine/pipelines/run.h).
#include "engine/pipelines/run.h"

#include <fmt/format.h>

#include <memory>

#include "app/command.h"

namespace geotps::app {

Command addRunCommand(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("run", "Run a job: geodesic, annealed Langevin paths, HDF5 output");
  const auto o = addJobCommandOptions(*cmd, "job configuration (YAML)",
                                      "output HDF5 file (overrides output.file)");
  auto resume = std::make_shared<bool>(false);
  cmd->add_flag("--resume", *resume,
                "continue an interrupted run of the same configuration from its checkpoint "
                "folder <output file>.checkpoint/ (without it, such a folder is discarded)");
  return {cmd, [o, resume](const std::string& commandLine) {
            runWithOutput(o->output, commandLine, [&](CommandOutput& out) {
              JobOptions options = o->jobOptions();
              options.resume = *resume;
              const JobSummary summary = runJob(o->load(), options, out.stream());
              out.finish("\n" + formatSummary(summary), {summary.outputFile});
            });
          }};
}

}  // namespace geotps::app
