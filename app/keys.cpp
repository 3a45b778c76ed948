// `geotps keys [PREFIX] [--json]`: the configuration keys (all, or those starting with PREFIX) as a
// Markdown table (docs/configuration.md) or a JSON array.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "app/command.h"
#include "engine/io/output_util.h"

namespace geotps::app {

namespace {

/// The schema's keys that start with `prefix`; none is a configuration error that lists the
/// sections.
std::vector<KeySpec> keysStartingWith(const std::string& prefix) {
  std::vector<KeySpec> keys;
  std::vector<std::string> sections;
  for (const auto& s : jobSchema()) {
    if (s.key.rfind(prefix, 0) == 0) keys.push_back(s);
    const auto dot = s.key.find('.');
    const std::string section = dot == std::string::npos ? s.key : s.key.substr(0, dot + 1);
    if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
      sections.push_back(section);
    }
  }
  if (keys.empty()) {
    throw ConfigError(fmt::format(
        "keys PREFIX '{}': no configuration key starts with it; expected the start of a key, "
        "e.g. a section: {}",
        prefix, fmt::join(sections, ", ")));
  }
  return keys;
}

/// One JSON object per key: key, type, default (YAML text; null when the key is required), unit,
/// description, and the allowed values as the schema has them: min, max, min_exclusive, choices,
/// list_length (absent when the schema sets none).
std::string schemaJson(const std::vector<KeySpec>& keys) {
  std::string out = "[\n";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const KeySpec& s = keys[i];
    out += fmt::format("  {{\"key\": {}, \"type\": {}, \"default\": {}, \"unit\": {}",
                       jsonString(s.key), jsonString(keyTypeName(s.type)),
                       s.defaultValue.empty() ? "null" : jsonString(s.defaultValue),
                       jsonString(s.unit));
    if (s.min) {
      out += fmt::format(", \"min\": {}, \"min_exclusive\": {}", jsonNumber(*s.min),
                         s.minExclusive ? "true" : "false");
    }
    if (s.max) out += fmt::format(", \"max\": {}", jsonNumber(*s.max));
    if (!s.choices.empty()) {
      std::vector<std::string> choices;
      for (const auto& c : s.choices) choices.push_back(jsonString(c));
      out += fmt::format(", \"choices\": [{}]", fmt::join(choices, ", "));
    }
    if (s.listLength > 0) out += fmt::format(", \"list_length\": {}", s.listLength);
    out += fmt::format(", \"description\": {}}}{}\n", jsonString(s.description),
                       i + 1 < keys.size() ? "," : "");
  }
  return out + "]\n";
}

}  // namespace

Command addKeysCommand(CLI::App& app) {
  struct Options {
    std::string prefix;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "keys", "List the configuration keys (Markdown table, or JSON with --json)");
  cmd->add_option("prefix", o->prefix,
                  "only the keys that start with this, e.g. sampler. or geodesic.max");
  cmd->add_flag("--json", o->json,
                "print a JSON array of {key, type, default, unit, min, max, min_exclusive, "
                "choices, list_length, description}");
  return {cmd, [o](const std::string&) {
            const std::vector<KeySpec> keys = keysStartingWith(o->prefix);
            fmt::print("{}", o->json ? schemaJson(keys) : schemaMarkdown(keys));
          }};
}

}  // namespace geotps::app
