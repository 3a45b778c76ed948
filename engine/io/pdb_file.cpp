// PDB reader and writer; see pdb_file.h.
#include "engine/io/pdb_file.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "engine/io/atomic_file.h"
#include "potentials/input_file.h"

namespace geotps {

namespace {

namespace fs = std::filesystem;

constexpr double kNmPerAngstrom = 0.1;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

/// Columns [first, last] (1-based, inclusive) of `line`, clipped to its length.
std::string_view columns(std::string_view line, int first, int last) {
  const std::size_t begin = static_cast<std::size_t>(first - 1);
  if (begin >= line.size()) return {};
  return line.substr(begin, static_cast<std::size_t>(last - first + 1));
}

/// Parses one record of one file; errors carry "path:line: ".
class LineParser {
 public:
  LineParser(const std::string& path, int lineNumber, std::string_view line)
      : path_(path), lineNumber_(lineNumber), line_(line) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("{}:{}: {}", path_, lineNumber_, what));
  }

  double number(const char* field, int first, int last) const {
    const std::string_view text = trim(columns(line_, first, last));
    double value = 0.0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(value))
      fail(fmt::format("{} (columns {}-{}) is not a number: '{}'", field, first, last,
                       columns(line_, first, last)));
    return value;
  }

  int integer(const char* field, int first, int last) const {
    const std::string_view text = trim(columns(line_, first, last));
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      fail(fmt::format("{} (columns {}-{}) is not an integer: '{}'", field, first, last,
                       columns(line_, first, last)));
    return value;
  }

  std::string_view line() const { return line_; }
  int lineNumber() const { return lineNumber_; }

 private:
  const std::string& path_;
  int lineNumber_;
  std::string_view line_;
};

PdbAtom parseAtom(const LineParser& p) {
  const std::string_view line = p.line();
  constexpr int kLastRequiredColumn = 54;  // end of z
  if (line.size() < static_cast<std::size_t>(kLastRequiredColumn))
    p.fail(fmt::format(
        "truncated {} record: {} columns, expected at least {} (x, y, z in columns 31-54)",
        trim(columns(line, 1, 6)), line.size(), kLastRequiredColumn));
  PdbAtom atom;
  atom.serial = p.integer("atom serial number", 7, 11);
  atom.name = std::string(trim(columns(line, 13, 16)));
  if (atom.name.empty()) p.fail("atom name (columns 13-16) is blank");
  atom.residueName = std::string(trim(columns(line, 18, 20)));
  atom.chain = line[21];
  atom.residueNumber = p.integer("residue sequence number", 23, 26);
  atom.x = p.number("coordinate field x", 31, 38) * kNmPerAngstrom;
  atom.y = p.number("coordinate field y", 39, 46) * kNmPerAngstrom;
  atom.z = p.number("coordinate field z", 47, 54) * kNmPerAngstrom;
  atom.element = std::string(trim(columns(line, 77, 78)));
  if (atom.element.empty()) {
    for (char c : atom.name) {
      if (std::isalpha(static_cast<unsigned char>(c))) {
        atom.element =
            std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        break;
      }
    }
    if (atom.element.empty())
      p.fail(
          fmt::format("element (columns 77-78) is blank and cannot be inferred from the atom "
                      "name '{}', which has no letter",
                      atom.name));
  }
  return atom;
}

struct ConectRecord {
  int lineNumber = 0;
  int source = 0;
  std::vector<int> targets;
};

struct ParsedPdb {
  PdbStructure structure;
  std::vector<std::vector<double>> frames;
};

ParsedPdb parsePdbText(const std::string& text, const std::string& path, bool allModels) {
  std::istringstream in(text);

  ParsedPdb result;
  std::vector<ConectRecord> conects;
  std::vector<PdbAtom> current;  // atoms of the model being read
  bool inModel = false;
  int modelStartLine = 0;
  int modelsDone = 0;  // models with atoms finished so far

  auto finishModel = [&](const LineParser& p) {
    if (modelsDone == 0) {
      if (current.empty()) return;  // an empty first MODEL: "no atoms" is reported at the end
      result.structure.atoms = current;
    } else if (allModels) {
      const auto& first = result.structure.atoms;
      if (current.size() != first.size())
        p.fail(
            fmt::format("model {} (starting at line {}) has {} atoms, expected {} as in the "
                        "first model",
                        modelsDone + 1, modelStartLine, current.size(), first.size()));
      for (std::size_t i = 0; i < current.size(); ++i) {
        if (current[i].name != first[i].name)
          p.fail(
              fmt::format("model {} (starting at line {}): atom {} is named '{}', expected '{}' "
                          "as in the first model",
                          modelsDone + 1, modelStartLine, i + 1, current[i].name, first[i].name));
      }
    }
    if (allModels || modelsDone == 0) {
      std::vector<double> frame;
      frame.reserve(3 * current.size());
      for (const PdbAtom& a : current) frame.insert(frame.end(), {a.x, a.y, a.z});
      result.frames.push_back(std::move(frame));
    }
    current.clear();
    ++modelsDone;
  };

  std::string raw;
  int lineNumber = 0;
  while (std::getline(in, raw)) {
    ++lineNumber;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    const LineParser p(path, lineNumber, raw);
    const std::string_view record = trim(columns(raw, 1, 6));
    if (record == "ATOM" || record == "HETATM") {
      if (!allModels && modelsDone > 0) continue;  // only the first model is wanted
      current.push_back(parseAtom(p));
    } else if (record == "MODEL") {
      if (inModel) p.fail("MODEL record inside a model: expected ENDMDL before the next MODEL");
      if (!current.empty()) finishModel(p);  // atoms before the first MODEL form a model
      inModel = true;
      modelStartLine = lineNumber;
    } else if (record == "ENDMDL") {
      if (!inModel) p.fail("ENDMDL record without a preceding MODEL record");
      finishModel(p);
      inModel = false;
    } else if (record == "CONECT") {
      ConectRecord c;
      c.lineNumber = lineNumber;
      c.source = p.integer("CONECT atom serial number", 7, 11);
      // Columns 12-31 hold up to four bonded atoms; later columns (old H-bond fields) are ignored.
      for (int first = 12; first <= 27; first += 5) {
        if (trim(columns(raw, first, first + 4)).empty()) continue;
        c.targets.push_back(p.integer("CONECT bonded atom serial number", first, first + 4));
      }
      conects.push_back(std::move(c));
    } else if (record == "END") {
      break;
    }
  }
  if (in.bad())
    throw std::runtime_error(fmt::format("{}: read error after line {}", path, lineNumber));
  if (!current.empty()) finishModel(LineParser(path, lineNumber, ""));
  if (result.structure.atoms.empty())
    throw std::runtime_error(
        fmt::format("{}: no ATOM or HETATM records: expected a PDB file with at least one atom "
                    "({} lines read)",
                    path, lineNumber));

  // Resolve CONECT serials against the first model; a serial used twice would be ambiguous.
  std::map<int, int> indexOfSerial;
  std::set<int> duplicated;
  for (std::size_t i = 0; i < result.structure.atoms.size(); ++i) {
    const int serial = result.structure.atoms[i].serial;
    if (!indexOfSerial.emplace(serial, static_cast<int>(i)).second) duplicated.insert(serial);
  }
  std::set<std::pair<int, int>> seen;
  for (const ConectRecord& c : conects) {
    const LineParser p(path, c.lineNumber, "");
    auto index = [&](int serial) {
      if (duplicated.count(serial))
        p.fail(fmt::format("CONECT refers to atom serial {}, which several atoms share", serial));
      const auto it = indexOfSerial.find(serial);
      if (it == indexOfSerial.end())
        p.fail(
            fmt::format("CONECT refers to atom serial {}, which no ATOM/HETATM record of the "
                        "first model has",
                        serial));
      return it->second;
    };
    const int a = index(c.source);
    for (int serial : c.targets) {
      const int b = index(serial);
      if (a == b) continue;
      const std::pair<int, int> bond(std::min(a, b), std::max(a, b));
      if (seen.insert(bond).second) result.structure.bonds.push_back(bond);
    }
  }
  return result;
}

}  // namespace

std::vector<double> PdbStructure::positionsNm() const {
  std::vector<double> r;
  r.reserve(3 * atoms.size());
  for (const PdbAtom& a : atoms) r.insert(r.end(), {a.x, a.y, a.z});
  return r;
}

ParsedPdb parsePdb(const std::string& path, bool allModels) {
  return parsePdbText(readInputFile(path, "a PDB file"), path, allModels);
}

PdbStructure readPdb(const std::string& path) {
  return std::move(parsePdb(path, /*allModels=*/false).structure);
}

PdbStructure parsePdbStructure(const std::string& text, const std::string& name) {
  return std::move(parsePdbText(text, name, /*allModels=*/false).structure);
}

std::vector<std::vector<double>> readPdbModels(const std::string& path, PdbStructure* topology) {
  ParsedPdb parsed = parsePdb(path, /*allModels=*/true);
  if (topology) *topology = std::move(parsed.structure);
  return std::move(parsed.frames);
}

void writePdb(const std::string& path, const PdbStructure& topology,
              const std::vector<std::vector<double>>& framesNm, bool writeConect) {
  writeFileAtomically(path, pdbText(topology, framesNm, writeConect, path));
}

std::string pdbText(const PdbStructure& topology, const std::vector<std::vector<double>>& framesNm,
                    bool writeConect, const std::string& path) {
  const std::size_t n = topology.atoms.size();
  if (n == 0) throw std::runtime_error(path + ": cannot write a PDB file without atoms");
  if (n > 99999)
    throw std::runtime_error(
        fmt::format("{}: {} atoms do not fit the PDB serial field (at most 99999)", path, n));
  if (framesNm.empty()) throw std::runtime_error(path + ": no frames to write");
  for (std::size_t f = 0; f < framesNm.size(); ++f) {
    if (framesNm[f].size() != 3 * n)
      throw std::runtime_error(fmt::format("{}: frame {} has {} values, expected 3*{} = {}", path,
                                           f, framesNm[f].size(), n, 3 * n));
    for (std::size_t k = 0; k < 3 * n; ++k) {
      const double angstrom = framesNm[f][k] / kNmPerAngstrom;
      // %8.3f holds -999.999 .. 9999.999.
      if (!(angstrom > -999.9995 && angstrom < 9999.9995))
        throw std::runtime_error(fmt::format(
            "{}: frame {}, atom {}: coordinate {} nm does not fit the PDB field (8.3f Angstrom)",
            path, f, k / 3, framesNm[f][k]));
    }
  }
  for (const auto& [a, b] : topology.bonds) {
    if (a < 0 || b < 0 || static_cast<std::size_t>(a) >= n || static_cast<std::size_t>(b) >= n)
      throw std::runtime_error(
          fmt::format("{}: bond ({}, {}) refers to an atom index outside [0, {})", path, a, b, n));
  }

  std::string text = "REMARK   1 WRITTEN BY GEOTPS\n";
  const bool multiModel = framesNm.size() > 1;
  for (std::size_t f = 0; f < framesNm.size(); ++f) {
    if (multiModel) text += fmt::format("MODEL     {:>4}\n", f + 1);
    const PdbAtom* last = nullptr;
    for (std::size_t i = 0; i < n; ++i) {
      const PdbAtom& a = topology.atoms[i];
      // Names shorter than 4 characters of one-letter elements start in column 14 (the PDB
      // convention that keeps e.g. "CA" (C alpha) apart from "CA " (calcium)).
      const std::string name = (a.name.size() < 4 && a.element.size() <= 1) ? " " + a.name : a.name;
      const double* r = framesNm[f].data() + 3 * i;
      text += fmt::format(
          "{:<6}{:>5} {:<4.4} {:<3.3} {}{:>4}    {:>8.3f}{:>8.3f}{:>8.3f}{:>6.2f}{:>6.2f}"
          "          {:>2.2}  \n",
          "ATOM", i + 1, name, a.residueName, a.chain == '\0' ? ' ' : a.chain,
          a.residueNumber % 10000, r[0] / kNmPerAngstrom, r[1] / kNmPerAngstrom,
          r[2] / kNmPerAngstrom, 1.0, 0.0, a.element);
      last = &a;
    }
    text += fmt::format("TER   {:>5}      {:<3.3} {}{:>4}\n", n + 1, last->residueName,
                        last->chain == '\0' ? ' ' : last->chain, last->residueNumber % 10000);
    if (multiModel) text += "ENDMDL\n";
  }
  if (writeConect && !topology.bonds.empty()) {
    std::vector<std::vector<int>> partners(n);
    for (const auto& [a, b] : topology.bonds) {
      partners[a].push_back(b);
      partners[b].push_back(a);
    }
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < partners[i].size(); k += 4) {
        text += fmt::format("CONECT{:>5}", i + 1);
        for (std::size_t m = k; m < std::min(k + 4, partners[i].size()); ++m)
          text += fmt::format("{:>5}", partners[i][m] + 1);
        text += "\n";
      }
    }
  }
  text += "END\n";

  return text;
}

}  // namespace geotps
