// `geotps keys`: every configuration key as a Markdown table (docs/configuration.md).
#include <fmt/format.h>

#include "app/command.h"

namespace geotps::app {

Command addKeysCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("keys", "List every configuration key (Markdown table)");
  return {cmd, [](const std::string&) { fmt::print("{}", schemaMarkdown(jobSchema())); }};
}

}  // namespace geotps::app
