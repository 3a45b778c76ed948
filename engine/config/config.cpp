// Job configuration: validation of YAML job files against a declared schema.
#include "engine/config/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace geotps {
namespace {

namespace fs = std::filesystem;

/// Where a value came from: the source name used in messages, and whether YAML marks are
/// meaningful line numbers (they are not for `set()` overrides).
struct Source {
  std::string name;
  bool hasLines = true;
};

[[noreturn]] void fail(const Source& src, int line, const std::string& key, const std::string& what,
                       const std::string& expected) {
  std::string msg = src.name;
  if (src.hasLines && line > 0) msg += fmt::format(":{}", line);
  msg += ": ";
  if (!key.empty()) msg += fmt::format("key '{}': ", key);
  msg += what;
  if (!expected.empty()) msg += "; expected " + expected;
  throw ConfigError(msg);
}

/// 1-based line of a node, or -1 when unknown.
int lineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : -1;
}

}  // namespace

std::string keyTypeName(KeyType type) {
  switch (type) {
    case KeyType::Int:
      return "Int";
    case KeyType::Real:
      return "Real";
    case KeyType::Bool:
      return "Bool";
    case KeyType::String:
      return "String";
    case KeyType::Path:
      return "Path";
    case KeyType::RealList:
      return "RealList";
    case KeyType::StringList:
      return "StringList";
    case KeyType::BoolList:
      return "BoolList";
  }
  return "?";
}

namespace {

std::string joinKey(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

std::string join(const std::vector<std::string>& items, const std::string& sep,
                 const std::string& quote = "") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += quote + items[i] + quote;
  }
  return out;
}

std::size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string leafOf(const std::string& key) {
  const auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

/// The candidate closest to `word` by edit distance, or "" when none is reasonably close. Falls
/// back to a candidate with the same last component (a key written in the wrong section).
std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t bestDistance = std::string::npos;
  for (const auto& candidate : candidates) {
    const std::size_t d = editDistance(word, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  if (!best.empty() && bestDistance <= std::max<std::size_t>(2, word.size() / 3)) return best;
  for (const auto& candidate : candidates)
    if (leafOf(candidate) == leafOf(word)) return candidate;
  return "";
}

std::string didYouMean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string best = closest(word, candidates);
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}

std::string formatNumber(double v) { return fmt::format("{}", v); }

/// Canonical text of a real: shortest round-trip form, always recognisable as a float.
std::string formatReal(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

bool hasRange(const KeySpec& s) { return s.min.has_value() || s.max.has_value(); }

/// "in [8, 4096]", "> 0", ">= 0", "<= 1", or "" without bounds.
std::string rangeText(const KeySpec& s) {
  if (s.min && s.max)
    return fmt::format("in {}{}, {}]", s.minExclusive ? "(" : "[", formatNumber(*s.min),
                       formatNumber(*s.max));
  if (s.min) return fmt::format("{} {}", s.minExclusive ? ">" : ">=", formatNumber(*s.min));
  if (s.max) return fmt::format("<= {}", formatNumber(*s.max));
  return "";
}

std::string unitSuffix(const KeySpec& s) {
  return s.unit.empty() || s.unit == "1" ? "" : fmt::format(" (unit: {})", s.unit);
}

/// What a valid value of `s` looks like, for the `expected ...` part of messages.
std::string expectedText(const KeySpec& s) {
  const std::string range = hasRange(s) ? " " + rangeText(s) : "";
  switch (s.type) {
    case KeyType::Int:
      return "an integer" + range + unitSuffix(s);
    case KeyType::Real:
      return "a finite real number" + range + unitSuffix(s);
    case KeyType::Bool:
      return "true or false";
    case KeyType::String:
      if (!s.choices.empty()) return "one of " + join(s.choices, ", ", "'");
      return "a string";
    case KeyType::Path:
      if (s.defaultValue == "\"\"") {
        return "a file path, or \"\" for none (relative paths are resolved against the config "
               "file's folder)";
      }
      return "a non-empty file path (relative paths are resolved against the config file's "
             "folder)";
    case KeyType::RealList: {
      std::string text = s.listLength > 0 ? fmt::format("a list of {} real numbers", s.listLength)
                                          : std::string("a non-empty list of real numbers");
      if (s.defaultValue == "[]") text += ", or [] for none";
      if (hasRange(s)) text += ", each " + rangeText(s);
      if (!s.defaultValue.empty()) text += ", e.g. " + s.defaultValue;
      return text + unitSuffix(s);
    }
    case KeyType::StringList:
      if (s.choices.empty())
        return "a list of distinct entries (text, or a list of numbers written as one entry)" +
               (s.defaultValue.empty() ? std::string() : ", e.g. " + s.defaultValue);
      return "a non-empty list of distinct values, each one of " + join(s.choices, ", ", "'");
    case KeyType::BoolList: {
      std::string text = s.listLength > 0
                             ? fmt::format("a list of {} booleans (true or false)", s.listLength)
                             : std::string("a non-empty list of booleans (true or false)");
      if (!s.defaultValue.empty()) text += ", e.g. " + s.defaultValue;
      return text;
    }
  }
  return "";
}

/// How a node that has the wrong shape looks, for messages.
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "no value is given";
    case YAML::NodeType::Sequence:
      return "got a list";
    case YAML::NodeType::Map:
      return "got a mapping (section)";
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") return fmt::format("got the quoted string \"{}\"", node.Scalar());
      return fmt::format("got '{}'", node.Scalar());
    default:
      return "got an undefined value";
  }
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

/// YAML 1.2 core-schema integer: [-+]?[0-9]+
bool isIntLiteral(const std::string& s) {
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (!isDigit(s[i])) return false;
  return true;
}

/// YAML 1.2 core-schema float without .inf/.nan:
/// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool isRealLiteral(const std::string& s) {
  std::size_t i = 0, n = s.size();
  if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t digits = 0;
  while (i < n && isDigit(s[i])) ++i, ++digits;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && isDigit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t expDigits = 0;
    while (i < n && isDigit(s[i])) ++i, ++expDigits;
    if (expDigits == 0) return false;
  }
  return i == n;
}

bool isNanOrInf(const std::string& s) {
  std::string t = s;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) t.erase(0, 1);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  return t == ".nan" || t == ".inf" || t == "nan" || t == "inf" || t == "infinity";
}

std::optional<double> parseDouble(std::string s) {
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<long long> parseInt(std::string s) {
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  long long v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

/// Plain (unquoted, untagged) scalars and scalars explicitly tagged with one of `tags`.
bool isUnquotedScalar(const YAML::Node& node, std::initializer_list<const char*> tags) {
  if (!node.IsScalar()) return false;
  if (node.Tag() == "?") return true;
  for (const char* tag : tags)
    if (node.Tag() == std::string("tag:yaml.org,2002:") + tag) return true;
  return false;
}

/// Why `v` violates the bounds of `s`, or "" when it does not.
std::string rangeViolation(const KeySpec& s, double v, const std::string& text) {
  if (s.min && s.minExclusive && v <= *s.min)
    return fmt::format("value {} is not greater than {}", text, formatNumber(*s.min));
  if (s.min && v < *s.min)
    return fmt::format("value {} is below the minimum {}", text, formatNumber(*s.min));
  if (s.max && v > *s.max)
    return fmt::format("value {} is above the maximum {}", text, formatNumber(*s.max));
  return "";
}

/// A real-number scalar (used for Real values and RealList elements); `what` prefixes messages.
double readReal(const KeySpec& s, const YAML::Node& node, const Source& src, int line,
                const std::string& what) {
  if (!isUnquotedScalar(node, {"float", "int"})) {
    std::string got = describe(node);
    if (node.IsScalar() && node.Tag() == "!") got += " (a string, not a number)";
    fail(src, line, s.key, what + got, expectedText(s));
  }
  const std::string& text = node.Scalar();
  if (isNanOrInf(text))
    fail(src, line, s.key, fmt::format("{}'{}' is not a finite number", what, text),
         expectedText(s));
  if (!isRealLiteral(text))
    fail(src, line, s.key, fmt::format("{}'{}' is not a number", what, text), expectedText(s));
  const auto v = parseDouble(text);
  if (!v)
    fail(src, line, s.key, fmt::format("{}'{}' cannot be represented as a double", what, text),
         expectedText(s));
  if (std::fpclassify(*v) == FP_SUBNORMAL)
    fail(src, line, s.key,
         fmt::format("{}'{}' is below the smallest normal double (2.2e-308), where arithmetic "
                     "loses precision",
                     what, text),
         expectedText(s));
  return *v;
}

/// A list key's node: a non-empty sequence, of `listLength` elements when that is set.
void requireList(const KeySpec& s, const YAML::Node& node, const Source& src, int line,
                 const std::string& expected) {
  if (!node.IsSequence()) {
    std::string got = describe(node);
    if (node.IsScalar()) got += " (a single value, not a list)";
    fail(src, line, s.key, got, expected);
  }
  // A RealList whose default is [] is optional: the empty list means "not given".
  if (node.size() == 0) {
    if (s.defaultValue == "[]") return;
    fail(src, line, s.key, "got an empty list", expected);
  }
  if (s.listLength > 0 && node.size() != static_cast<std::size_t>(s.listLength))
    fail(src, line, s.key,
         fmt::format("got a list of {} value{}", node.size(), node.size() == 1 ? "" : "s"),
         expected);
}

/// The canonical text of a YAML boolean spelling ("true" / "false"), or empty for anything else.
std::string canonicalBool(const std::string& text) {
  if (text == "true" || text == "True" || text == "TRUE") return "true";
  if (text == "false" || text == "False" || text == "FALSE") return "false";
  return "";
}

/// A list key's canonical text "[e1, e2, ...]": `requireList`, then `element(node, line, what,
/// items so far)` gives each element's canonical text (`what` prefixes its messages, `line` is
/// the element's own line where it has one).
std::string canonicalList(
    const KeySpec& s, const YAML::Node& node, const Source& src, int line,
    const std::string& expected,
    const std::function<std::string(const YAML::Node&, int, const std::string&,
                                    const std::vector<std::string>&)>& element) {
  requireList(s, node, src, line, expected);
  std::vector<std::string> items;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node e = node[i];
    const int elementLine = lineOf(e) > 0 && !e.IsNull() ? lineOf(e) : line;
    items.push_back(element(e, elementLine, fmt::format("element {}: ", i + 1), items));
  }
  return "[" + join(items, ", ") + "]";
}

/// Validates `node` as a value of `s` and returns its canonical text (see Config::values_).
/// `keyLine` is the line of the key, used when the value itself has no useful mark.
std::string canonicalValue(const KeySpec& s, const YAML::Node& node, const Source& src,
                           int keyLine) {
  const int line = (node.IsNull() || lineOf(node) < 0) ? keyLine : lineOf(node);
  const std::string expected = expectedText(s);
  switch (s.type) {
    case KeyType::Int: {
      if (!isUnquotedScalar(node, {"int"})) {
        std::string got = describe(node);
        if (node.IsScalar() && node.Tag() == "!") got += " (a string, not a number)";
        fail(src, line, s.key, got, expected);
      }
      const std::string& text = node.Scalar();
      if (!isIntLiteral(text))
        fail(src, line, s.key, fmt::format("'{}' is not an integer", text), expected);
      const auto v = parseInt(text);
      if (!v)
        fail(src, line, s.key, fmt::format("'{}' is too large for an integer", text), expected);
      const std::string canonical = std::to_string(*v);
      const std::string bad = rangeViolation(s, static_cast<double>(*v), canonical);
      if (!bad.empty()) fail(src, line, s.key, bad, expected);
      return canonical;
    }
    case KeyType::Real: {
      const double v = readReal(s, node, src, line, "");
      const std::string bad = rangeViolation(s, v, node.Scalar());
      if (!bad.empty()) fail(src, line, s.key, bad, expected);
      return formatReal(v);
    }
    case KeyType::Bool: {
      if (!isUnquotedScalar(node, {"bool"})) fail(src, line, s.key, describe(node), expected);
      const std::string v = canonicalBool(node.Scalar());
      if (v.empty())
        fail(src, line, s.key, fmt::format("'{}' is not a boolean", node.Scalar()), expected);
      return v;
    }
    case KeyType::String: {
      if (!node.IsScalar()) fail(src, line, s.key, describe(node), expected);
      const std::string& text = node.Scalar();
      if (!s.choices.empty() &&
          std::find(s.choices.begin(), s.choices.end(), text) == s.choices.end())
        fail(src, line, s.key,
             fmt::format("'{}' is not an allowed value{}", text, didYouMean(text, s.choices)),
             expected);
      return text;
    }
    case KeyType::Path: {
      if (!node.IsScalar()) fail(src, line, s.key, describe(node), expected);
      // A Path key whose default is "" is optional: the empty string means "no file".
      if (node.Scalar().empty() && s.defaultValue != "\"\"") {
        fail(src, line, s.key, "the path is empty", expected);
      }
      return node.Scalar();
    }
    case KeyType::RealList:
      return canonicalList(
          s, node, src, line, expected,
          [&](const YAML::Node& element, int elementLine, const std::string& what,
              const std::vector<std::string>&) {
            const double v = readReal(s, element, src, elementLine, what);
            const std::string bad = rangeViolation(s, v, element.Scalar());
            if (!bad.empty()) fail(src, elementLine, s.key, what + bad, expected);
            return formatReal(v);
          });
    case KeyType::StringList:
      return canonicalList(
          s, node, src, line, expected,
          [&](const YAML::Node& element, int elementLine, const std::string& what,
              const std::vector<std::string>& items) {
            std::string text;
            if (s.choices.empty() && element.IsSequence()) {
              // Free-form entries may be written as a list of plain values ([4, 6, 8, 14]);
              // the entry is then those values separated by single spaces.
              for (std::size_t k = 0; k < element.size(); ++k) {
                if (!element[k].IsScalar())
                  fail(src, elementLine, s.key, what + "a nested list inside " + describe(element),
                       expected);
                text += (k ? " " : "") + element[k].Scalar();
              }
            } else if (element.IsScalar()) {
              text = element.Scalar();
            } else {
              fail(src, elementLine, s.key, what + describe(element), expected);
            }
            if (s.choices.empty()) {
              // Free-form: the canonical "[a, b]" text separates entries by commas.
              if (text.find_first_not_of(" \t") == std::string::npos ||
                  text.find_first_of(",[]") != std::string::npos)
                fail(src, elementLine, s.key,
                     what + fmt::format("'{}' is empty or contains ',', '[' or ']'", text),
                     expected);
              if (std::find(items.begin(), items.end(), text) != items.end())
                fail(src, elementLine, s.key, what + fmt::format("'{}' is listed twice", text),
                     expected);
              return text;
            }
            if (std::find(s.choices.begin(), s.choices.end(), text) == s.choices.end())
              fail(src, elementLine, s.key,
                   what + fmt::format("'{}' is not an allowed value{}", text,
                                      didYouMean(text, s.choices)),
                   expected);
            if (std::find(items.begin(), items.end(), text) != items.end())
              fail(src, elementLine, s.key, what + fmt::format("'{}' is listed twice", text),
                   expected);
            return text;
          });
    case KeyType::BoolList:
      return canonicalList(
          s, node, src, line, expected,
          [&](const YAML::Node& element, int elementLine, const std::string& what,
              const std::vector<std::string>&) {
            if (!isUnquotedScalar(element, {"bool"}))
              fail(src, elementLine, s.key, what + describe(element) + " (not a boolean)",
                   expected);
            const std::string v = canonicalBool(element.Scalar());
            if (v.empty())
              fail(src, elementLine, s.key,
                   what + fmt::format("'{}' is not a boolean", element.Scalar()), expected);
            return v;
          });
  }
  throw std::logic_error("config: unhandled key type");
}

/// Canonical text of a schema default ("" for required keys).
std::string canonicalDefault(const KeySpec& s) {
  const Source src{"schema default", false};
  YAML::Node node;
  try {
    node = YAML::Load(s.defaultValue);
  } catch (const YAML::Exception& e) {
    fail(src, -1, s.key, "default '" + s.defaultValue + "' is not valid YAML: " + e.msg,
         expectedText(s));
  }
  return canonicalValue(s, node, src, -1);
}

/// Declared section names (all proper prefixes of keys), in schema order.
std::vector<std::string> sectionNames(const std::vector<KeySpec>& schema) {
  std::vector<std::string> sections;
  for (const auto& s : schema) {
    for (auto dot = s.key.find('.'); dot != std::string::npos; dot = s.key.find('.', dot + 1)) {
      const std::string section = s.key.substr(0, dot);
      if (std::find(sections.begin(), sections.end(), section) == sections.end())
        sections.push_back(section);
    }
  }
  return sections;
}

/// Names directly below `prefix` ("" = top level), in schema order of first appearance.
std::vector<std::string> childNames(const std::vector<KeySpec>& schema, const std::string& prefix) {
  std::vector<std::string> names;
  for (const auto& s : schema) {
    if (!prefix.empty() && s.key.rfind(prefix + ".", 0) != 0) continue;
    const std::string rest = prefix.empty() ? s.key : s.key.substr(prefix.size() + 1);
    const std::string name = rest.substr(0, rest.find('.'));
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

const KeySpec* findSpec(const std::vector<KeySpec>& schema, const std::string& key) {
  for (const auto& s : schema)
    if (s.key == key) return &s;
  return nullptr;
}

std::vector<std::string> allNames(const std::vector<KeySpec>& schema) {
  std::vector<std::string> names = sectionNames(schema);
  for (const auto& s : schema) names.push_back(s.key);
  return names;
}

/// Programming errors in a schema: duplicate keys, a key that is also a section, bad defaults.
void checkSchema(const std::vector<KeySpec>& schema) {
  std::set<std::string> keys;
  for (const auto& s : schema) {
    if (s.key.empty() || s.key.front() == '.' || s.key.back() == '.' ||
        s.key.find("..") != std::string::npos)
      throw ConfigError(fmt::format("schema: key '{}': malformed key name", s.key));
    if (!keys.insert(s.key).second)
      throw ConfigError(fmt::format("schema: key '{}': declared twice", s.key));
  }
  for (const auto& section : sectionNames(schema))
    if (keys.count(section))
      throw ConfigError(fmt::format("schema: key '{}': is both a key and a section", section));
  for (const auto& s : schema)
    if (!s.defaultValue.empty()) canonicalDefault(s);
}

/// Double-quoted YAML scalar.
std::string quoteYaml(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  return out + "\"";
}

std::string markdownCell(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string allowedText(const KeySpec& s) {
  switch (s.type) {
    case KeyType::Int:
    case KeyType::Real:
      return rangeText(s);
    case KeyType::Bool:
      return "`true`, `false`";
    case KeyType::String:
      return join(s.choices, ", ", "`");
    case KeyType::Path:
      return "";
    case KeyType::RealList: {
      std::string text = s.listLength > 0 ? fmt::format("length {}", s.listLength) : "non-empty";
      if (s.defaultValue == "[]") text += " or []";
      if (hasRange(s)) text += ", each " + rangeText(s);
      return text;
    }
    case KeyType::StringList:
      return s.choices.empty() ? std::string("list of entries")
                               : "list of " + join(s.choices, ", ", "`");
    case KeyType::BoolList:
      return s.listLength > 0 ? fmt::format("{} of `true`, `false`", s.listLength)
                              : std::string("list of `true`, `false`");
  }
  return "";
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Loading and validation

Config Config::load(const std::string& path, const std::vector<KeySpec>& schema) {
  const Source src{path};
  const fs::path file(path);
  std::error_code ec;
  if (!fs::exists(file, ec))
    fail(src, -1, "", "the file does not exist", "a readable YAML job config file");
  if (fs::is_directory(file, ec))
    fail(src, -1, "", "this is a directory, not a file", "a readable YAML job config file");
  // A device (/dev/zero, /dev/urandom) would be read until memory runs out: regular files and
  // pipes only, and at most kMaxConfigBytes of either.
  constexpr std::size_t kMaxConfigBytes = 16u << 20;
  const fs::file_status st = fs::status(file, ec);
  if (st.type() != fs::file_type::regular && st.type() != fs::file_type::fifo)
    fail(src, -1, "", "this is not a regular file (a device or another special file)",
         "a readable YAML job config file");
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(src, -1, "", "the file cannot be opened for reading", "a readable YAML job config");
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) fail(src, -1, "", "the file cannot be read", "a readable YAML job config file");
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes)
    fail(src, -1, "", "the file is larger than 16 MiB", "a YAML job config file under 16 MiB");
  fs::path base = fs::absolute(file, ec);
  base = ec ? file.parent_path() : base.parent_path();
  if (base.empty()) base = ".";
  return parse(text, path, base.lexically_normal().string(), schema);
}

Config Config::parse(const std::string& yamlText, const std::string& sourceName,
                     const std::string& baseDir, const std::vector<KeySpec>& schema) {
  checkSchema(schema);
  const Source src{sourceName};
  Config config;
  config.schema_ = schema;
  config.sourceText_ = yamlText;
  config.sourceName_ = sourceName;
  config.baseDir_ = baseDir;

  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(yamlText);
  } catch (const YAML::Exception& e) {
    fail(src, e.mark.line >= 0 ? e.mark.line + 1 : -1, "", "YAML syntax error: " + e.msg,
         "valid YAML (check indentation, colons, quotes and brackets)");
  }
  const std::string expectedRoot =
      "a YAML mapping of job keys and sections, e.g. 'states:' with 'a:' and 'b:' below it (see "
      "docs/configuration.md)";
  if (documents.empty() || (documents.size() == 1 && documents[0].IsNull()))
    fail(src, -1, "", "the file is empty (no YAML content)", expectedRoot);
  if (documents.size() > 1)
    fail(src, lineOf(documents[1]), "", "the file holds more than one YAML document",
         "a single YAML document");
  const YAML::Node& root = documents[0];
  if (!root.IsMap())
    fail(src, lineOf(root), "", "the top level is not a mapping (" + describe(root) + ")",
         expectedRoot);

  const std::vector<std::string> candidates = allNames(schema);
  const std::vector<std::string> sections = sectionNames(schema);

  // Walks one mapping; `prefix` is its dotted section name ("" at the top level).
  auto walk = [&](auto&& self, const YAML::Node& mapping, const std::string& prefix) -> void {
    std::map<std::string, int> seen;  // dotted key -> line of its first occurrence
    for (auto it = mapping.begin(); it != mapping.end(); ++it) {
      const YAML::Node keyNode = it->first;  // copies: `it->` yields a temporary proxy
      const YAML::Node value = it->second;
      const int keyLine = lineOf(keyNode);
      if (!keyNode.IsScalar())
        fail(src, keyLine, prefix, "a key is not a plain name (" + describe(keyNode) + ")",
             "keys that are plain names");
      const std::string& name = keyNode.Scalar();
      const std::string full = joinKey(prefix, name);
      if (const auto [first, inserted] = seen.emplace(full, keyLine); !inserted)
        fail(src, keyLine, full,
             fmt::format("duplicate key (first given on line {})", first->second),
             "each key at most once");

      const std::vector<std::string> siblings = childNames(schema, prefix);
      const std::string where = prefix.empty() ? "at the top level" : "in section '" + prefix + "'";
      if (name.find('.') != std::string::npos) {
        const bool declared = findSpec(schema, full) ||
                              std::find(sections.begin(), sections.end(), full) != sections.end();
        fail(src, keyLine, full,
             declared ? "dotted key names are not allowed"
                      : fmt::format("unknown key '{}'{}", full, didYouMean(full, candidates)),
             declared ? "nested mappings: '" + name.substr(0, name.find('.')) + ":' with '" +
                            name.substr(name.find('.') + 1) + ":' indented below it"
                      : "one of the names " + where + ": " + join(siblings, ", "));
      }
      if (const KeySpec* spec = findSpec(schema, full)) {
        config.values_[full] = canonicalValue(*spec, value, src, keyLine);
        config.given_[full] = true;
      } else if (std::find(sections.begin(), sections.end(), full) != sections.end()) {
        if (!value.IsMap())
          fail(src, value.IsNull() ? keyLine : lineOf(value), full,
               fmt::format("section '{}' is not a mapping ({})", full, describe(value)),
               fmt::format("a mapping with some of the keys {} indented below '{}:'",
                           join(childNames(schema, full), ", "), name));
        self(self, value, full);
      } else {
        fail(src, keyLine, full,
             fmt::format("unknown {} '{}'{}", value.IsMap() ? "section" : "key", full,
                         didYouMean(full, candidates)),
             "one of the names " + where + ": " + join(siblings, ", "));
      }
    }
  };
  walk(walk, root, "");

  for (const auto& s : schema) {
    if (config.given_.count(s.key)) continue;
    if (s.defaultValue.empty()) {
      const auto dot = s.key.rfind('.');
      const std::string placement = dot == std::string::npos
                                        ? ""
                                        : fmt::format(", written as '{}:' below '{}:'",
                                                      s.key.substr(dot + 1), s.key.substr(0, dot));
      fail(src, -1, s.key, "missing required key", expectedText(s) + placement);
    }
    config.values_[s.key] = canonicalDefault(s);
    config.given_[s.key] = false;
  }
  return config;
}

// ------------------------------------------------------------------------------------------------
// Access

const KeySpec& Config::spec(const std::string& key) const {
  if (const KeySpec* s = findSpec(schema_, key)) return *s;
  std::vector<std::string> keys;
  for (const auto& s : schema_) keys.push_back(s.key);
  fail(Source{sourceName_, false}, -1, key,
       fmt::format("unknown key '{}'{}", key, didYouMean(key, keys)),
       "a key declared in the schema");
}

namespace {
void requireType(const KeySpec& s, const std::string& sourceName,
                 std::initializer_list<KeyType> types, const char* requested) {
  for (const KeyType t : types)
    if (s.type == t) return;
  fail(Source{sourceName, false}, -1, s.key,
       fmt::format("read as {} but declared as {}", requested, keyTypeName(s.type)),
       "the getter matching the declared type");
}
}  // namespace

long long Config::getInt(const std::string& key) const {
  const KeySpec& s = spec(key);
  requireType(s, sourceName_, {KeyType::Int}, "Int");
  return *parseInt(values_.at(key));
}

double Config::getReal(const std::string& key) const {
  const KeySpec& s = spec(key);
  requireType(s, sourceName_, {KeyType::Real}, "Real");
  return *parseDouble(values_.at(key));
}

bool Config::getBool(const std::string& key) const {
  const KeySpec& s = spec(key);
  requireType(s, sourceName_, {KeyType::Bool}, "Bool");
  return values_.at(key) == "true";
}

std::string Config::getString(const std::string& key) const {
  const KeySpec& s = spec(key);
  requireType(s, sourceName_, {KeyType::String, KeyType::Path}, "String");
  const std::string& value = values_.at(key);
  if (s.type == KeyType::String || value.empty()) return value;
  const fs::path path(value);
  if (path.is_absolute() || baseDir_.empty()) return path.lexically_normal().string();
  return (fs::path(baseDir_) / path).lexically_normal().string();
}

namespace {

/// The items of a canonical list value "[a, b, ...]" (numbers or plain words, no commas inside).
std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 1;
  while (start < text.size()) {
    std::size_t end = text.find_first_of(",]", start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(' '));
    if (!item.empty()) items.push_back(item);
    start = end + 1;
  }
  return items;
}

}  // namespace

std::vector<double> Config::getRealList(const std::string& key) const {
  const KeySpec& s = spec(key);
  requireType(s, sourceName_, {KeyType::RealList}, "RealList");
  std::vector<double> values;
  for (const auto& item : splitList(values_.at(key))) values.push_back(*parseDouble(item));
  return values;
}

std::vector<std::string> Config::getStringList(const std::string& key) const {
  const KeySpec& s = spec(key);
  requireType(s, sourceName_, {KeyType::StringList}, "StringList");
  return splitList(values_.at(key));
}

std::vector<bool> Config::getBoolList(const std::string& key) const {
  const KeySpec& s = spec(key);
  requireType(s, sourceName_, {KeyType::BoolList}, "BoolList");
  std::vector<bool> values;
  for (const auto& item : splitList(values_.at(key))) values.push_back(item == "true");
  return values;
}

bool Config::isSet(const std::string& key) const {
  spec(key);
  const auto it = given_.find(key);
  return it != given_.end() && it->second;
}

void Config::set(const std::string& key, const std::string& yamlValue) {
  const Source src{sourceName_.empty() ? "override" : sourceName_ + " (override)", false};
  const KeySpec* s = findSpec(schema_, key);
  if (!s) {
    std::vector<std::string> keys;
    for (const auto& k : schema_) keys.push_back(k.key);
    fail(src, -1, key, fmt::format("unknown key '{}'{}", key, didYouMean(key, keys)),
         "a key declared in the schema");
  }
  YAML::Node node;
  try {
    node = YAML::Load(yamlValue);
  } catch (const YAML::Exception& e) {
    fail(src, -1, key, fmt::format("the value '{}' is not valid YAML ({})", yamlValue, e.msg),
         expectedText(*s));
  }
  values_[key] = canonicalValue(*s, node, src, -1);
  given_[key] = true;
}

void Config::setFromCommandLine(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(
        fmt::format("--set '{}': expected KEY=VALUE with a dotted key and a YAML value, e.g. --set "
                    "sampler.n_paths=100",
                    assignment));
  }
  const std::string key = assignment.substr(0, eq);
  std::string value = assignment.substr(eq + 1);
  const KeySpec* s = findSpec(schema_, key);
  // A quoted empty string ("" or '') clears an optional Path key; it is not a relative path.
  const bool emptyString = value == "\"\"" || value == "''";
  if (s && s->type == KeyType::Path && !value.empty() && !emptyString &&
      fs::path(value).is_relative()) {
    value = (fs::current_path() / value).lexically_normal().string();
  }
  set(key, value);
  overrides_.push_back(assignment);
}

// ------------------------------------------------------------------------------------------------
// Output

std::string Config::effectiveYaml() const {
  std::string sourceLine = sourceName_;
  std::replace(sourceLine.begin(), sourceLine.end(), '\n', ' ');
  std::replace(sourceLine.begin(), sourceLine.end(), '\r', ' ');
  std::string out = "# GeoTPS effective configuration";
  if (!sourceLine.empty()) out += " of " + sourceLine;
  out += " (all keys, defaults filled in)\n";

  auto emit = [&](auto&& self, const std::string& prefix, int depth) -> void {
    const std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
    for (const auto& name : childNames(schema_, prefix)) {
      const std::string full = joinKey(prefix, name);
      const KeySpec* s = findSpec(schema_, full);
      if (!s) {
        out += indent + name + ":\n";
        self(self, full, depth + 1);
        continue;
      }
      const auto it = values_.find(full);
      std::string value = it == values_.end() ? std::string() : it->second;
      // A Path is written resolved when that makes it absolute, so the output parses back to the
      // same file from any folder; otherwise as given (it then resolves the same way again).
      if (s->type == KeyType::Path && it != values_.end()) {
        const std::string resolved = getString(full);
        if (fs::path(resolved).is_absolute()) value = resolved;
      }
      const bool quoted = s->type == KeyType::String || s->type == KeyType::Path;
      out += indent + name + ": " + (quoted ? quoteYaml(value) : value);
      if (!s->unit.empty() && s->unit != "1") out += "  # " + s->unit;
      out += "\n";
    }
  };
  emit(emit, "", 0);
  return out;
}

std::string schemaMarkdown(const std::vector<KeySpec>& schema) {
  std::string out = "| key | type | default | unit | allowed | description |\n";
  out += "| --- | --- | --- | --- | --- | --- |\n";
  for (const auto& s : schema) {
    const std::string defaultText =
        s.defaultValue.empty() ? "*required*" : "`" + s.defaultValue + "`";
    out += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", s.key, keyTypeName(s.type),
                       markdownCell(defaultText), markdownCell(s.unit),
                       markdownCell(allowedText(s)), markdownCell(s.description));
  }
  return out;
}

}  // namespace geotps
