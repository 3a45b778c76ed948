// mdtraj HDF5 trajectories; see mdtraj_file.h for the layout.
#include "engine/io/mdtraj_file.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <stdexcept>

#include "engine/io/h5_file.h"
#include "engine/io/output_util.h"
#include "geotps/version.h"

namespace geotps {

namespace {

/// "C", "Cl": mdtraj looks elements up by their symbol.
std::string elementSymbol(const std::string& element) {
  std::string s;
  for (char c : element) {
    if (std::isalpha(static_cast<unsigned char>(c)))
      s += static_cast<char>(s.empty() ? std::toupper(static_cast<unsigned char>(c))
                                       : std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

}  // namespace

std::string mdtrajTopologyJson(const PdbStructure& topology) {
  std::string chains;
  std::string residue, chain;  // the open residue's and chain's JSON, without their closing
  int chainIndex = -1, residueIndex = -1;
  const PdbAtom* previous = nullptr;
  auto closeResidue = [&] {
    if (residue.empty()) return;
    chain += (chain.back() == '[' ? "" : ", ") + residue + "]}";
    residue.clear();
  };
  auto closeChain = [&] {
    closeResidue();
    if (chain.empty()) return;
    chains += (chains.empty() ? "" : ", ") + chain + "]}";
    chain.clear();
  };
  for (std::size_t i = 0; i < topology.atoms.size(); ++i) {
    const PdbAtom& a = topology.atoms[i];
    const bool newChain = previous == nullptr || a.chain != previous->chain;
    const bool newResidue = newChain || a.residueNumber != previous->residueNumber ||
                            a.residueName != previous->residueName;
    if (newChain) {
      closeChain();
      chain = fmt::format("{{\"index\": {}, \"residues\": [", ++chainIndex);
    }
    if (newResidue) {
      closeResidue();
      residue = fmt::format(
          "{{\"index\": {}, \"name\": {}, \"resSeq\": {}, \"segmentID\": \"\", \"atoms\": [",
          ++residueIndex, jsonString(a.residueName), a.residueNumber);
    }
    residue += fmt::format("{}{{\"index\": {}, \"name\": {}, \"element\": {}}}",
                           residue.back() == '[' ? "" : ", ", i, jsonString(a.name),
                           jsonString(elementSymbol(a.element)));
    previous = &a;
  }
  closeChain();
  std::string bonds;
  for (const auto& [a, b] : topology.bonds) {
    bonds += fmt::format("{}[{}, {}]", bonds.empty() ? "" : ", ", a, b);
  }
  return fmt::format("{{\"chains\": [{}], \"bonds\": [{}]}}", chains, bonds);
}

void writeMdtrajH5(const std::string& path, const PdbStructure& topology,
                   const std::vector<std::vector<double>>& framesNm,
                   const std::vector<double>& timesPs, const std::string& title) {
  const std::size_t n = topology.atoms.size();
  if (n == 0) throw std::runtime_error(path + ": cannot write a trajectory without atoms");
  if (framesNm.empty()) throw std::runtime_error(path + ": no frames to write");
  if (timesPs.size() != framesNm.size())
    throw std::runtime_error(fmt::format("{}: {} frames but {} frame times; expected one each",
                                         path, framesNm.size(), timesPs.size()));
  std::vector<float> xyz;
  xyz.reserve(framesNm.size() * 3 * n);
  for (std::size_t f = 0; f < framesNm.size(); ++f) {
    if (framesNm[f].size() != 3 * n)
      throw std::runtime_error(fmt::format("{}: frame {} has {} values, expected 3*{} = {}", path,
                                           f, framesNm[f].size(), n, 3 * n));
    for (std::size_t k = 0; k < 3 * n; ++k) {
      if (!std::isfinite(framesNm[f][k]))
        throw std::runtime_error(fmt::format("{}: frame {}, atom {}: coordinate {} is not finite",
                                             path, f, k / 3, framesNm[f][k]));
      xyz.push_back(static_cast<float>(framesNm[f][k]));
    }
    if (!std::isfinite(timesPs[f]))
      throw std::runtime_error(
          fmt::format("{}: frame {}: time {} is not finite", path, f, timesPs[f]));
  }
  const std::vector<float> time(timesPs.begin(), timesPs.end());
  AtomicH5Writer writer(path);
  H5File& h = writer.file();
  h.setAttribute("/", "conventions", std::string("Pande"));
  h.setAttribute("/", "conventionVersion", std::string("1.1"));
  h.setAttribute("/", "program", std::string("GeoTPS"));
  h.setAttribute("/", "programVersion", std::string(kVersion));
  h.setAttribute("/", "title", title);
  h.setAttribute("/", "application", std::string("GeoTPS"));
  h.writeFloats("/coordinates", {framesNm.size(), n, 3}, xyz.data(), "nanometers");
  h.writeFloats("/time", {framesNm.size()}, time.data(), "picoseconds");
  h.writeFixedString("/topology", mdtrajTopologyJson(topology));
  writer.commit();
}

}  // namespace geotps
