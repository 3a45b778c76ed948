// Torsion CVs by name or by atom indices (docs/method.md, "Collective variables of a molecule").
#include "engine/molecule/collective_variables.h"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <optional>
#include <sstream>

#include "engine/config/config.h"

namespace geotps {

namespace {

struct Residue {
  char chain = ' ';
  int number = 0;
  std::string name;
  std::map<std::string, int> atoms;  ///< atom name -> 0-based index (first occurrence)
};

std::vector<Residue> residuesOf(const PdbStructure& s) {
  std::vector<Residue> out;
  for (std::size_t i = 0; i < s.atoms.size(); ++i) {
    const PdbAtom& a = s.atoms[i];
    if (out.empty() || out.back().chain != a.chain || out.back().number != a.residueNumber ||
        out.back().name != a.residueName) {
      out.push_back({a.chain, a.residueNumber, a.residueName, {}});
    }
    out.back().atoms.emplace(a.name, static_cast<int>(i));
  }
  return out;
}

/// One atom of a torsion's definition: a name in the residue at `offset` (-1, 0, +1) from the
/// torsion's residue, or the first present of several alternatives.
struct AtomRule {
  int offset;
  std::vector<std::string> names;
};

struct TorsionKind {
  std::string name;
  std::array<AtomRule, 4> atoms;
};

const std::vector<TorsionKind>& torsionKinds() {
  static const std::vector<TorsionKind> kinds = {
      {"phi", {{{-1, {"C"}}, {0, {"N"}}, {0, {"CA"}}, {0, {"C"}}}}},
      {"psi", {{{0, {"N"}}, {0, {"CA"}}, {0, {"C"}}, {1, {"N"}}}}},
      {"omega", {{{0, {"CA"}}, {0, {"C"}}, {1, {"N"}}, {1, {"CA"}}}}},
      {"chi1", {{{0, {"N"}}, {0, {"CA"}}, {0, {"CB"}}, {0, {"CG", "CG1", "SG", "OG", "OG1"}}}}},
      {"chi2",
       {{{0, {"CA"}}, {0, {"CB"}}, {0, {"CG", "CG1"}}, {0, {"CD", "CD1", "OD1", "ND1", "SD"}}}}},
  };
  return kinds;
}

/// The torsion `kind` of residue `r`, or nothing when the molecule lacks one of its atoms.
std::optional<std::array<int, 4>> torsionOf(const TorsionKind& kind,
                                            const std::vector<Residue>& residues, std::size_t r) {
  std::array<int, 4> atoms{};
  for (int k = 0; k < 4; ++k) {
    const AtomRule& rule = kind.atoms[k];
    const long long at = static_cast<long long>(r) + rule.offset;
    if (at < 0 || at >= static_cast<long long>(residues.size())) return std::nullopt;
    const Residue& res = residues[static_cast<std::size_t>(at)];
    if (res.chain != residues[r].chain) return std::nullopt;
    bool found = false;
    for (const std::string& name : rule.names) {
      const auto it = res.atoms.find(name);
      if (it != res.atoms.end()) {
        atoms[k] = it->second;
        found = true;
        break;
      }
    }
    if (!found) return std::nullopt;
  }
  return atoms;
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::optional<long long> integer(const std::string& w) {
  long long v = 0;
  const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
  if (ec != std::errc() || end != w.data() + w.size()) return std::nullopt;
  return v;
}

}  // namespace

std::vector<TorsionCV> namedTorsions(const PdbStructure& topology) {
  const std::vector<Residue> residues = residuesOf(topology);
  std::vector<TorsionCV> out;
  for (std::size_t r = 0; r < residues.size(); ++r) {
    for (const TorsionKind& kind : torsionKinds()) {
      if (const auto atoms = torsionOf(kind, residues, r)) {
        out.push_back({fmt::format("{} {}", kind.name, residues[r].number), *atoms});
      }
    }
  }
  return out;
}

std::vector<TorsionCV> resolveTorsionCVs(const std::vector<std::string>& entries,
                                         const PdbStructure& topology, int nAtoms,
                                         const std::string& source, const std::string& pdbPath) {
  const std::string key = "cv.variables";
  const std::vector<Residue> residues = residuesOf(topology);
  auto fail = [&](std::size_t i, const std::string& entry, const std::string& what) {
    throw ConfigError(fmt::format("{}: key '{}': entry {} '{}': {}", source, key, i + 1, entry,
                                  what));
  };
  auto available = [&]() {
    std::string list;
    for (const TorsionCV& t : namedTorsions(topology)) list += (list.empty() ? "" : ", ") + t.label;
    return list.empty() ? std::string("none (no residue has the backbone atoms N, CA, C)") : list;
  };
  std::vector<TorsionCV> out;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string& entry = entries[i];
    std::vector<std::string> w = words(entry);
    if (!w.empty() && w[0] == "torsion") w.erase(w.begin());
    TorsionCV cv;
    if (w.size() == 4) {
      for (int k = 0; k < 4; ++k) {
        const auto v = integer(w[k]);
        if (!v || *v < 0 || *v >= nAtoms) {
          fail(i, entry,
               fmt::format("'{}' is not an atom index in [0, {}) (0-based indices of the "
                           "System's atoms); expected four atom indices or a named torsion "
                           "such as 'phi 2'",
                           w[k], nAtoms));
        }
        cv.atoms[k] = static_cast<int>(*v);
      }
      for (int a = 0; a < 4; ++a)
        for (int b = a + 1; b < 4; ++b)
          if (cv.atoms[a] == cv.atoms[b])
            fail(i, entry,
                 fmt::format("atom {} is listed twice; expected four distinct atoms bonded in "
                             "sequence",
                             cv.atoms[a]));
      cv.label = fmt::format("torsion {}-{}-{}-{}", cv.atoms[0], cv.atoms[1], cv.atoms[2],
                             cv.atoms[3]);
    } else if (w.size() == 2) {
      const TorsionKind* kind = nullptr;
      for (const TorsionKind& k : torsionKinds())
        if (k.name == w[0]) kind = &k;
      const auto number = integer(w[1]);
      if (!kind || !number) {
        fail(i, entry,
             "expected '<kind> <residue number>' with kind one of phi, psi, omega, chi1, chi2 "
             "(e.g. 'phi 2'), or four atom indices (e.g. '4 6 8 14')");
      }
      std::vector<std::size_t> matches;
      for (std::size_t r = 0; r < residues.size(); ++r)
        if (residues[r].number == *number) matches.push_back(r);
      if (matches.size() > 1) {
        fail(i, entry,
             fmt::format("{} has residue number {} in more than one chain; give the torsion's "
                         "four atom indices instead",
                         pdbPath, *number));
      }
      const auto atoms =
          matches.empty() ? std::nullopt : torsionOf(*kind, residues, matches.front());
      if (!atoms) {
        fail(i, entry,
             fmt::format("{} has no such torsion{}; its named torsions are: {}", pdbPath,
                         matches.empty() ? fmt::format(" (no residue numbered {})", *number)
                                         : std::string(),
                         available()));
      }
      cv.atoms = *atoms;
      cv.label = fmt::format("{} {}", w[0], *number);
    } else {
      fail(i, entry,
           "expected '<kind> <residue number>' (e.g. 'phi 2', 'chi1 3') or four atom indices "
           "(e.g. '4 6 8 14' or [4, 6, 8, 14])");
    }
    for (const TorsionCV& other : out) {
      std::array<int, 4> reversed = {cv.atoms[3], cv.atoms[2], cv.atoms[1], cv.atoms[0]};
      if (other.atoms == cv.atoms || other.atoms == reversed) {
        fail(i, entry, fmt::format("the same torsion as '{}' listed before it", other.label));
      }
    }
    out.push_back(cv);
  }
  return out;
}

}  // namespace geotps
