// Job configuration: a YAML schema in which every key is declared once (type, default, unit,
// description, allowed range), and the validated configuration read from a file against it.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace geotps {

/// A bad configuration: the message names the file, the key and (where known) the line, and says
/// what was expected.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class KeyType {
  Int,         ///< integer
  Real,        ///< floating-point number
  Bool,        ///< true / false
  String,      ///< free text, or one of `choices` when that list is not empty
  Path,        ///< a file path; relative paths are resolved against the config file's folder
  RealList,    ///< a YAML sequence of numbers; `listLength` > 0 fixes its length
  StringList,  ///< a YAML sequence of distinct strings, each one of `choices`
  BoolList,    ///< a YAML sequence of true / false; `listLength` > 0 fixes its length
};

/// One declared key. `key` is dotted ("sampler.step_size"); its YAML form is nested mappings.
struct KeySpec {
  std::string key;
  KeyType type;
  std::string defaultValue;  ///< as YAML text ("128", "4e-4", "[0, 0]", "lbfgs"); "" = required
  std::string unit;          ///< "1" for dimensionless, "" when not a quantity (strings, paths)
  std::string description;
  std::optional<double> min;         ///< inclusive lower bound (numbers, and each list element)
  std::optional<double> max;         ///< inclusive upper bound
  bool minExclusive = false;         ///< when true, `min` itself is not allowed
  std::vector<std::string> choices;  ///< allowed values of a String key
  int listLength = 0;                ///< RealList: required length (0 = any non-empty length)
};

/// The schema of `geotps run` jobs: the one place where keys are declared.
const std::vector<KeySpec>& jobSchema();

/// The type's name as the documentation writes it: "Int", "Real", "RealList", ...
std::string keyTypeName(KeyType type);

/// Markdown table of a schema (key, type, default, unit, allowed, description):
/// docs/configuration.md is generated from this.
std::string schemaMarkdown(const std::vector<KeySpec>& schema);

/// A validated configuration: every declared key has a value (given or default).
class Config {
 public:
  /// Reads and validates `path` against `schema`. Throws ConfigError for: a missing or unparsable
  /// file, an unknown key (with the closest declared key suggested), a wrong type, a value out of
  /// range or not among the choices, a list of the wrong length, a missing required key.
  static Config load(const std::string& path, const std::vector<KeySpec>& schema = jobSchema());
  /// Same, from YAML text; `sourceName` is used in messages and `baseDir` resolves relative paths.
  static Config parse(const std::string& yamlText, const std::string& sourceName,
                      const std::string& baseDir, const std::vector<KeySpec>& schema = jobSchema());

  long long getInt(const std::string& key) const;
  double getReal(const std::string& key) const;
  bool getBool(const std::string& key) const;
  std::string getString(const std::string& key) const;  ///< String and Path (Path: resolved)
  std::vector<double> getRealList(const std::string& key) const;
  std::vector<std::string> getStringList(const std::string& key) const;
  std::vector<bool> getBoolList(const std::string& key) const;
  /// True when the key was written in the file (not defaulted).
  bool isSet(const std::string& key) const;
  /// Overrides a value after loading (e.g. from a CLI flag), validated like a file value.
  void set(const std::string& key, const std::string& yamlValue);
  /// A command-line override `KEY=VALUE` (`--set`): VALUE is YAML, validated like a file value; a
  /// relative Path value is taken relative to the working directory (not the config's folder).
  /// Recorded in commandLineOverrides().
  void setFromCommandLine(const std::string& assignment);
  /// The `--set` assignments applied, in order, as given.
  const std::vector<std::string>& commandLineOverrides() const { return overrides_; }

  /// The effective configuration (all keys, defaults filled in) as YAML text, nested by section.
  std::string effectiveYaml() const;
  /// The file's own text, verbatim.
  const std::string& sourceText() const { return sourceText_; }
  const std::string& sourceName() const { return sourceName_; }
  /// The keys this configuration was validated against.
  const std::vector<KeySpec>& schema() const { return schema_; }

 private:
  const KeySpec& spec(const std::string& key) const;
  std::vector<KeySpec> schema_;
  std::map<std::string, std::string> values_;  // key -> canonical YAML scalar / flow-sequence text
  std::map<std::string, bool> given_;
  std::vector<std::string> overrides_;
  std::string sourceText_, sourceName_, baseDir_;
};

}  // namespace geotps
