// `geotps info FILE`: the summary of a result file of `geotps run` or `geotps compare`.
#include <fmt/format.h>

#include <memory>

#include "app/command.h"
#include "engine/pipelines/compare.h"
#include "engine/pipelines/distance.h"
#include "engine/pipelines/run.h"

namespace geotps::app {

Command addInfoCommand(CLI::App& app) {
  struct Options {
    std::string file;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "info",
      "Summarise a result file written by `geotps run`, `geotps compare` or `geotps distance`");
  cmd->add_option("file", o->file, "result file (HDF5)")->required();
  cmd->add_flag("--json", o->json, "print one JSON object instead of text");
  return {cmd, [o](const std::string&) {
            if (isCompareFile(o->file)) {
              fmt::print("{}", compareInfo(o->file, o->json));
              return;
            }
            if (isDistanceFile(o->file)) {
              fmt::print("{}", distanceInfo(o->file, o->json));
              return;
            }
            const JobSummary summary = readSummary(o->file);
            if (o->json) {
              fmt::print("{}\n", summaryJson(summary));
            } else {
              fmt::print("{}", formatSummary(summary));
            }
          }};
}

}  // namespace geotps::app
