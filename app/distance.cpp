// `geotps distance CONFIG`: the Diffusion Edit Distance between the two states, or the distance
// matrix of a list of points (engine/pipelines/distance.h).
#include "engine/pipelines/distance.h"

#include <fmt/format.h>

#include <memory>

#include "app/command.h"
#include "engine/pipelines/memory_estimate.h"

namespace geotps::app {

Command addDistanceCommand(CLI::App& app) {
  struct Options {
    std::string config, out, maxMemory;
    OutputOptions output;  // --quiet, --log
    std::vector<std::string> sets;
    bool resume = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "distance",
      "Diffusion Edit Distance: Fisher-Rao length of the spacetime geodesic between states.a and "
      "states.b, or between every pair of distance.points (HDF5 distance matrix)");
  cmd->add_option("config", o->config, "job configuration (YAML)")->required();
  auto* outOpt =
      cmd->add_option("--out,-o", o->out, "output HDF5 file (overrides distance.output)");
  addOutputOptions(*cmd, o->output);
  auto* memOpt = addMaxMemoryOption(*cmd, o->maxMemory);
  addSetOption(*cmd, o->sets);
  addResumeFlag(*cmd, o->resume, "distance");
  return {cmd, [o, outOpt, memOpt](const std::string& commandLine) {
            runWithOutput(o->output, commandLine, [&](CommandOutput& out) {
              JobOptions options;
              if (*outOpt) options.output = o->out;
              if (*memOpt) options.maxMemory = parseByteSize(o->maxMemory);
              options.progress = !o->output.quiet;
              options.resume = o->resume;
              const DistanceSummary summary =
                  runDistance(loadConfig(o->config, o->sets), options, out.stream());
              out.finish("\n" + formatDistanceSummary(summary), {summary.outputFile});
            });
          }};
}

}  // namespace geotps::app
