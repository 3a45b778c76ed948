// `geotps export` (see export.h; formats and times in docs/output.md).
#include "engine/pipelines/export.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <utility>

#include "engine/config/config.h"
#include "engine/io/atomic_file.h"
#include "engine/io/dcd_file.h"
#include "engine/io/h5_file.h"
#include "engine/io/mdtraj_file.h"
#include "engine/io/pdb_file.h"
#include "engine/io/result_file.h"

namespace geotps {

namespace {

namespace fs = std::filesystem;

/// The paths of one file (a run's /full_atom/frames or a compare method's stored paths) and what
/// the writers need besides their frames.
struct PathSource {
  std::string label;  ///< names the paths in messages: "fa.h5" or "cmp.h5, method mcmc_variable"
  PdbStructure topology;
  long long count = 0;
  /// Stored frames of path p (each 3 * atoms values, nm); empty when none were stored.
  std::function<std::vector<std::vector<double>>(long long p)> frames;
  /// Frame k of a path is integration step firstStep + k * stepStride of timeStepPs each.
  double timeStepPs = 0.0;
  long long firstStep = 0, stepStride = 1;
  /// Stored frame times (ps) of path p, when the file has them; otherwise empty.
  std::function<std::vector<double>(long long p, std::size_t frames)> storedTimes;
};

/// A digit string as a non-negative index; false for anything else (or one too long).
bool parseIndex(const std::string& text, long long& out) {
  if (text.empty() || text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = std::stoll(text);
  return true;
}

/// The effective configuration stored in a result file (/config/effective: every key, defaults
/// filled in), read back with the job schema.
Config storedConfig(const H5File& f) {
  if (!f.exists("/config/effective")) {
    throw H5Error(f.path() +
                  ": no /config/effective (the stored configuration, which gives the time step "
                  "of the stored frames); expected a result file written by geotps");
  }
  try {
    return Config::parse(f.readString("/config/effective"), f.path() + ": /config/effective",
                         fs::path(f.path()).parent_path().string());
  } catch (const ConfigError& e) {
    throw H5Error(
        fmt::format("{}: the stored configuration /config/effective does not read "
                    "back: {}",
                    f.path(), e.what()));
  }
}

/// The topology stored as PDB text at `dataset`, checked against the frames' atom count.
PdbStructure storedTopology(const H5File& f, const std::string& dataset, std::size_t atoms,
                            const std::string& framesDataset) {
  PdbStructure top = parsePdbStructure(f.readString(dataset), f.path() + ": " + dataset);
  if (top.atoms.size() != atoms) {
    throw H5Error(fmt::format("{}: {} has {} atoms but {} has {}; expected the same molecule",
                              f.path(), dataset, top.atoms.size(), framesDataset, atoms));
  }
  return top;
}

/// Splits the flat rows of `frames` frames of 3 * atoms values each into one vector per frame.
std::vector<std::vector<double>> splitFrames(const std::vector<double>& flat, std::size_t atoms) {
  const std::size_t per = 3 * atoms;
  std::vector<std::vector<double>> out(flat.size() / per);
  for (std::size_t k = 0; k < out.size(); ++k) {
    out[k].assign(flat.begin() + static_cast<std::ptrdiff_t>(k * per),
                  flat.begin() + static_cast<std::ptrdiff_t>((k + 1) * per));
  }
  return out;
}

/// A `geotps run` result: /full_atom/frames (paths x frames x atoms x 3); frame k is step
/// (k + 1) * output.frame_stride.
PathSource runSource(const std::shared_ptr<H5File>& f) {
  const std::string& file = f->path();
  requireRunResult(*f);
  if (!f->exists("/full_atom/frames")) {
    throw H5Error(file +
                  ": no /full_atom/frames (not a full-atom result, or output.frame_stride was 0)");
  }
  const auto shape = f->shape("/full_atom/frames");  // M x F x n x 3
  if (shape.size() != 4 || shape[3] != 3 || shape[1] == 0 || shape[2] == 0) {
    throw H5Error(fmt::format(
        "{}: /full_atom/frames has shape [{}]; expected paths x frames x atoms x 3 (a result "
        "written by geotps run)",
        file, fmt::join(shape, ", ")));
  }
  PathSource s;
  s.label = file;
  s.count = static_cast<long long>(shape[0]);
  const std::size_t F = shape[1], n = shape[2];
  s.topology = storedTopology(*f, "/full_atom/topology_pdb", n, "/full_atom/frames");
  const Config config = storedConfig(*f);
  s.timeStepPs = config.getReal("dynamics.time_step");
  s.stepStride = config.getInt("output.frame_stride");
  s.firstStep = s.stepStride;
  s.frames = [f, n](long long p) {
    return splitFrames(f->readDoubleRows("/full_atom/frames", static_cast<std::size_t>(p), 1), n);
  };
  if (f->exists("/full_atom/time")) {  // the frames' times as the run stored them
    const std::vector<double> t = f->readDoubles("/full_atom/time");
    const std::size_t M = shape[0];
    if (t.size() != F && t.size() != M * F) {
      throw H5Error(fmt::format(
          "{}: /full_atom/time holds {} values; expected one per stored frame ({}) or per path "
          "and frame ({} x {})",
          file, t.size(), F, M, F));
    }
    s.storedTimes = [t, F](long long p, std::size_t) {
      const std::size_t first = t.size() == F ? 0 : static_cast<std::size_t>(p) * F;
      return std::vector<double>(t.begin() + static_cast<std::ptrdiff_t>(first),
                                 t.begin() + static_cast<std::ptrdiff_t>(first + F));
    };
  }
  return s;
}

/// The methods of a compare file, in the order run (root group /methods).
std::vector<std::string> compareMethods(const H5File& f) {
  std::vector<std::string> out;
  if (!f.hasAttribute("/summary", "methods")) return out;
  const std::string list = f.readAttributeString("/summary", "methods");
  for (std::size_t start = 0; start <= list.size();) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

/// A method of a `geotps compare` result: the MCMC methods' path_positions (rows path_offsets[i]
/// to path_offsets[i+1] for path i; row j is the path's frame (j + 1) * mcmc.frame_stride - 1 of
/// dynamics.time_step each) or Doob's frames (paths x frames x 3 atoms; frame j is its step
/// (j + 1) * doob.frame_stride - 1 of doob.time_horizon / doob.n_steps each).
PathSource compareSource(const std::shared_ptr<H5File>& f, const std::string& method) {
  const std::string& file = f->path();
  requireCompareResult(*f);
  const std::vector<std::string> methods = compareMethods(*f);
  if (method.empty()) {
    throw ConfigError(fmt::format(
        "--method: {} is a `geotps compare` file; name the method whose paths to export with "
        "--method (its methods: {})",
        file, fmt::join(methods, ", ")));
  }
  const std::string g = "/methods/" + method;
  if (!f->exists(g)) {
    throw ConfigError(fmt::format("--method: '{}' is not a method of {}; expected one of: {}",
                                  method, file, fmt::join(methods, ", ")));
  }
  if (f->exists(g + "/error")) {
    throw ConfigError(fmt::format("--method: the {} method failed in {} ({}); it stored no paths",
                                  method, file, f->readString(g + "/error")));
  }
  const bool mcmc = f->exists(g + "/path_positions");
  const bool doob = !mcmc && f->exists(g + "/frames");
  if (!mcmc && !doob) {
    std::string hint;
    if (method == "geodesic" && f->hasAttribute("/summary", "geodesic_result_file")) {
      hint = fmt::format("; its paths are in the geodesic run's own result file {}: export that",
                         f->readAttributeString("/summary", "geodesic_result_file"));
    }
    throw ConfigError(fmt::format(
        "--method: the {} method of {} stores no full-atom paths (expected {}/path_positions or "
        "{}/frames of a full-atom compare){}",
        method, file, g, g, hint));
  }
  if (!f->exists("/topology_pdb")) {
    throw H5Error(fmt::format(
        "{}: no /topology_pdb (a 2D compare, or one written before compare files stored the "
        "molecule); export needs the full-atom topology",
        file));
  }
  PathSource s;
  s.label = fmt::format("{} (method {})", file, method);
  const Config config = storedConfig(*f);
  if (mcmc) {
    const std::string positions = g + "/path_positions";
    const auto shape = f->shape(positions);  // R x n x 3
    if (shape.size() != 3 || shape[2] != 3 || shape[1] == 0) {
      throw H5Error(fmt::format("{}: {} has shape [{}]; expected rows x atoms x 3", file, positions,
                                fmt::join(shape, ", ")));
    }
    const std::size_t n = shape[1], R = shape[0];
    s.topology = storedTopology(*f, "/topology_pdb", n, positions);
    const std::vector<double> offsets = f->readDoubles(g + "/path_offsets");
    bool ok =
        !offsets.empty() && offsets.front() == 0.0 && offsets.back() == static_cast<double>(R);
    for (std::size_t i = 1; ok && i < offsets.size(); ++i) {
      ok = offsets[i] >= offsets[i - 1] && offsets[i] == std::floor(offsets[i]);
    }
    if (!ok) {
      throw H5Error(fmt::format(
          "{}: {}/path_offsets does not split the {} rows of {}; expected whole numbers rising "
          "from 0 to {}",
          file, g, R, positions, R));
    }
    s.count = static_cast<long long>(offsets.size()) - 1;
    s.timeStepPs = config.getReal("dynamics.time_step");
    s.stepStride = config.getInt("mcmc.frame_stride");
    s.frames = [f, positions, offsets, n](long long p) {
      const auto first = static_cast<std::size_t>(offsets[static_cast<std::size_t>(p)]);
      const auto last = static_cast<std::size_t>(offsets[static_cast<std::size_t>(p) + 1]);
      if (first == last) return std::vector<std::vector<double>>();
      return splitFrames(f->readDoubleRows(positions, first, last - first), n);
    };
  } else {
    const std::string frames = g + "/frames";
    const auto shape = f->shape(frames);  // P x F x 3n
    if (shape.size() != 3 || shape[1] == 0 || shape[2] == 0 || shape[2] % 3 != 0) {
      throw H5Error(fmt::format("{}: {} has shape [{}]; expected paths x frames x 3 atoms", file,
                                frames, fmt::join(shape, ", ")));
    }
    const std::size_t n = shape[2] / 3;
    s.topology = storedTopology(*f, "/topology_pdb", n, frames);
    s.count = static_cast<long long>(shape[0]);
    s.timeStepPs =
        config.getReal("doob.time_horizon") / static_cast<double>(config.getInt("doob.n_steps"));
    s.stepStride = config.getInt("doob.frame_stride");
    s.frames = [f, frames, n](long long p) {
      return splitFrames(f->readDoubleRows(frames, static_cast<std::size_t>(p), 1), n);
    };
  }
  s.firstStep = s.stepStride - 1;
  return s;
}

/// The files of one export, written under temporary names and renamed together at the end, so
/// that a failure leaves none of them.
class StagedFiles {
 public:
  /// The temporary name to write `finalPath` under (its output target checked first).
  std::string stage(const std::string& finalPath) {
    checkOutputTarget(finalPath);
    files_.emplace_back(finalPath, std::make_unique<OwnedTemporary>(temporaryPathFor(finalPath)));
    return files_.back().second->path();
  }

  /// Renames every staged file to its final name; on a failure removes those renamed already.
  std::vector<std::string> commit() {
    std::vector<std::string> done;
    try {
      for (auto& [finalPath, temporary] : files_) {
        temporary->renameTo(finalPath);
        done.push_back(finalPath);
      }
    } catch (...) {
      for (const auto& d : done) {
        std::error_code ignored;
        fs::remove(d, ignored);
      }
      throw;
    }
    return done;
  }

 private:
  std::vector<std::pair<std::string, std::unique_ptr<OwnedTemporary>>> files_;
};

std::string withoutH5(const std::string& path) {
  if (path.size() > 3 && path.substr(path.size() - 3) == ".h5") {
    return path.substr(0, path.size() - 3);
  }
  return path;
}

}  // namespace

std::vector<long long> selectPaths(const std::string& value, long long count,
                                   const std::string& what) {
  const std::string range =
      count > 0 ? fmt::format("{} has paths 0..{}", what, count - 1) : what + " has no paths";
  const std::string forms = "expected I, all, A:B (paths A..B-1, A < B) or A: (A to the last)";
  long long first = 0, end = 0;
  const std::size_t colon = value.find(':');
  if (value == "all") {
    end = count;
  } else if (colon == std::string::npos) {
    if (!parseIndex(value, first)) {
      throw ConfigError(
          fmt::format("--path: '{}' is not a path selection; {}; {}", value, forms, range));
    }
    end = first + 1;
  } else {
    const std::string a = value.substr(0, colon), b = value.substr(colon + 1);
    if (!parseIndex(a, first) || (!b.empty() && !parseIndex(b, end))) {
      throw ConfigError(
          fmt::format("--path: '{}' is not a path selection; {}; {}", value, forms, range));
    }
    if (b.empty()) end = std::max(count, first + 1);
    if (end <= first) {
      throw ConfigError(
          fmt::format("--path: '{}' selects no path (expected A < B in A:B); {}", value, range));
    }
  }
  if (count == 0 || first >= count || end > count) {
    throw ConfigError(fmt::format("--path: {} is out of range; {}", value, range));
  }
  std::vector<long long> out;
  for (long long i = first; i < end; ++i) out.push_back(i);
  return out;
}

ExportResult exportPaths(const ExportOptions& o) {
  const std::string& format = o.format;
  if (format != "dcd" && format != "pdb" && format != "mdtraj-h5") {
    throw ConfigError("--format: expected dcd, mdtraj-h5 or pdb, got '" + format + "'");
  }
  const auto f = std::make_shared<H5File>(o.file, H5File::Mode::Read);
  // A compare file by its file_type, or (written before file_type) by its table and methods.
  const bool compare = f->hasAttribute("/", "file_type")
                           ? f->readAttributeString("/", "file_type") == "compare"
                           : f->exists("/summary/table_markdown") && f->exists("/methods");
  if (!compare && !o.method.empty()) {
    requireRunResult(*f);  // a file of another kind is named as such first
    throw ConfigError(fmt::format(
        "--method: {} is a `geotps run` result file, which holds one set of paths; --method "
        "selects a method of a `geotps compare` file",
        o.file));
  }
  const PathSource source = compare ? compareSource(f, o.method) : runSource(f);
  const std::vector<long long> selected = selectPaths(o.paths, source.count, source.label);
  const bool single =
      selected.size() == 1 && o.paths != "all" && o.paths.find(':') == std::string::npos;

  std::string prefix = o.prefix;
  if (prefix.empty()) {
    prefix = withoutH5(o.file) + (compare ? "_" + o.method : "");
    if (single) prefix += fmt::format("_path{}", selected.front());
  }
  const std::string extension = format == "dcd" ? ".dcd" : format == "pdb" ? ".pdb" : ".h5";
  auto trajectoryName = [&](long long p) {
    return single ? prefix + extension : fmt::format("{}_path{}{}", prefix, p, extension);
  };
  // Never replace the file being read.
  {
    std::vector<std::string> targets;
    for (long long p : selected) targets.push_back(trajectoryName(p));
    if (format != "pdb") targets.push_back(prefix + ".pdb");
    for (const auto& t : targets) {
      std::error_code ec;
      if (fs::equivalent(t, o.file, ec)) {
        throw ConfigError(
            fmt::format("--out: {} would replace the file being exported, {}; "
                        "expected another output prefix",
                        t, o.file));
      }
    }
  }

  ExportResult result;
  CreatedParents parents(prefix);
  StagedFiles staged;
  std::vector<double> topologyFrame;
  for (long long p : selected) {
    const std::vector<std::vector<double>> frames = source.frames(p);
    if (frames.empty()) {
      if (single) {
        throw ConfigError(fmt::format(
            "--path: path {} of {} has no stored frames (mcmc.store_every stores the frames of "
            "every n-th accepted path only)",
            p, source.label));
      }
      result.notes.push_back(fmt::format("path {}: no stored frames (mcmc.store_every)", p));
      continue;
    }
    if (topologyFrame.empty()) topologyFrame = frames.front();
    const std::string out = trajectoryName(p);
    if (format == "pdb") {
      writePdb(staged.stage(out), source.topology, frames, true);
    } else if (format == "dcd") {
      writeDcd(staged.stage(out), frames, source.timeStepPs, source.firstStep, source.stepStride);
    } else {
      std::vector<double> times;
      if (source.storedTimes) {
        times = source.storedTimes(p, frames.size());
      } else {
        for (std::size_t k = 0; k < frames.size(); ++k) {
          times.push_back(static_cast<double>(source.firstStep +
                                              static_cast<long long>(k) * source.stepStride) *
                          source.timeStepPs);
        }
      }
      writeMdtrajH5(staged.stage(out), source.topology, frames, times,
                    fmt::format("{} path {}", source.label, p));
    }
  }
  if (topologyFrame.empty()) {
    throw ConfigError(
        fmt::format("--path: {} selects no path with stored frames in {}", o.paths, source.label));
  }
  if (format != "pdb") writePdb(staged.stage(prefix + ".pdb"), source.topology, {topologyFrame});
  result.written = staged.commit();
  parents.keep();
  return result;
}

}  // namespace geotps
