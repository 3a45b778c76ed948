// The `geotps distance` pipeline and the distance-file layout (documented in docs/output.md).
#include "engine/pipelines/distance.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

#include "engine/core/clock.h"
#include "engine/core/fault_injection.h"
#include "engine/core/parallel.h"
#include "engine/core/progress.h"
#include "engine/core/warning.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/denoisers/registry.h"
#include "engine/geodesic/edit_distance.h"
#include "engine/io/atomic_file.h"
#include "engine/io/h5_file.h"
#include "engine/io/output_util.h"
#include "engine/io/provenance.h"
#include "engine/io/result_file.h"
#include "engine/pipelines/checkpoint.h"
#include "engine/pipelines/memory_estimate.h"
#include "engine/problem/problem.h"
#include "geotps/version.h"
#include "potentials/input_file.h"

namespace geotps {

namespace {

/// Whether `path` starts with the HDF5 signature (a result file rather than a text file).
bool isHdf5File(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;  // a pipe is read as text
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  in.read(head, sizeof head);
  return in.gcount() == 8 && std::string(head, 8) == std::string("\x89HDF\r\n\x1a\n", 8);
}

DistancePoints readTextPoints(const JobSettings& settings, int D,
                              const std::function<ConfigError(const std::string&)>& fail) {
  const std::string& path = settings.distance.points;
  std::string text;
  try {
    text =
        readInputFile(path, "a text file of points (one per line) or a `geotps run` result file");
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (what.rfind(path + ": ", 0) == 0) what.erase(0, path.size() + 2);
    throw fail(what);
  }
  std::istringstream in(text);
  DistancePoints p;
  p.kind = "text";
  std::vector<double> values;
  std::string line;
  long long lineNo = 0, point = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    for (char& c : line) {
      if (c == ',' || c == '\t' || c == '\r') c = ' ';
    }
    std::vector<double> row;
    const char* s = line.c_str();
    for (;;) {
      while (*s == ' ') ++s;
      if (!*s) break;
      const char* start = s;
      while (*s && *s != ' ') ++s;
      const std::string token(start, s);
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(token.c_str(), &end);
      if (end != token.c_str() + token.size() || token.empty()) {
        throw fail(
            fmt::format("line {}: '{}' is not a number; expected {} numbers per line (a "
                        "point in the unit of x), separated by blanks or commas",
                        lineNo, token, D));
      }
      if (!std::isfinite(v) || errno == ERANGE) {
        throw fail(fmt::format("line {}: '{}' is not a finite number", lineNo, token));
      }
      row.push_back(v);
    }
    if (row.empty()) continue;
    if (static_cast<int>(row.size()) != D) {
      throw fail(
          fmt::format("line {}: {} numbers; expected {} (one point of the job's {}D space "
                      "per line)",
                      lineNo, row.size(), D, D));
    }
    if (point++ % settings.distance.stride != 0) continue;
    values.insert(values.end(), row.begin(), row.end());
    p.sourceIndex.push_back(lineNo);
  }
  const auto n = static_cast<Eigen::Index>(p.sourceIndex.size());
  p.x.resize(n, D);
  for (Eigen::Index i = 0; i < n; ++i)
    for (int d = 0; d < D; ++d) p.x(i, d) = values[static_cast<std::size_t>(i * D + d)];
  return p;
}

DistancePoints readResultPoints(const JobSettings& settings, int D,
                                const std::function<ConfigError(const std::string&)>& fail) {
  const std::string& path = settings.distance.points;
  DistancePoints p;
  p.kind = "run_result";
  std::vector<double> rows;
  std::size_t frames = 0;
  try {
    H5File f(path, H5File::Mode::Read);
    requireRunResult(f);
    if (!f.exists("/paths/frames")) {
      throw fail(
          "no dataset /paths/frames (the run stored no frames: output.frame_stride was 0); give "
          "a run result with frames, or the points as a text file");
    }
    const auto shape = f.shape("/paths/frames");
    if (shape.size() != 3 || shape[2] != static_cast<std::size_t>(D)) {
      throw fail(
          fmt::format("/paths/frames is not walkers x frames x {} (the job's dimension)", D));
    }
    if (static_cast<std::size_t>(settings.distance.path) >= shape[0]) {
      throw fail(fmt::format("key 'distance.path' is {}, but the file has {} walkers (0 to {})",
                             settings.distance.path, shape[0], shape[0] - 1));
    }
    frames = shape[1];
    rows = f.readDoubleRows("/paths/frames", static_cast<std::size_t>(settings.distance.path), 1);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (what.rfind(path + ": ", 0) == 0) what.erase(0, path.size() + 2);
    throw fail(what);
  }
  std::vector<Eigen::Index> keep;
  for (std::size_t k = 0; k < frames; k += static_cast<std::size_t>(settings.distance.stride))
    keep.push_back(static_cast<Eigen::Index>(k));
  p.x.resize(static_cast<Eigen::Index>(keep.size()), D);
  for (std::size_t i = 0; i < keep.size(); ++i) {
    for (int d = 0; d < D; ++d) {
      const double v = rows[static_cast<std::size_t>(keep[i]) * D + d];
      if (!std::isfinite(v)) {
        throw fail(fmt::format("/paths/frames[{}][{}][{}] is {}; expected finite numbers",
                               settings.distance.path, keep[i], d, v));
      }
      p.x(static_cast<Eigen::Index>(i), d) = v;
    }
    p.sourceIndex.push_back(keep[i]);
  }
  return p;
}

/// The geodesics of one block of pairs (pairs [first, first + size) in the order (0, 1), (0, 2),
/// ..., (1, 2), ...): what the distance file keeps of each.
struct PairBlock {
  std::vector<double> length, energy, minL;
  std::vector<std::int64_t> iterations, atMax;
  explicit PairBlock(std::size_t n = 0)
      : length(n), energy(n), minL(n), iterations(n), atMax(n) {}
};

/// The checkpoint of `geotps distance` (docs/output.md, "Checkpoint and resume"): the pairs in
/// blocks, each saved as soon as its geodesics are solved, so that `--resume` solves only the
/// blocks not saved. The points are kept in job.h5: a resumed job must measure the same points.
class DistanceCheckpoint : public CheckpointFolder {
 public:
  DistanceCheckpoint(const std::string& folder, bool resume, std::FILE* log)
      : CheckpointFolder(folder, "distance", "pairs_", "blocks of pairs", resume, log) {}

  /// Starts or continues the checkpoint; `blockPairs` applies to a new checkpoint (a resumed one
  /// keeps its own).
  void begin(const std::string& source, const std::string& effectiveYaml,
             const Eigen::MatrixXd& points, long long pairs, long long blockPairs) {
    pairs_ = pairs;
    blockPairs_ = std::max<long long>(1, blockPairs);
    const bool resumed =
        openManifest(source, effectiveYaml, [&](const H5File& f, const std::string& manifest) {
          const std::vector<double> x = f.readDoubles("/points");
          const auto shape = f.shape("/points");
          bool same = shape.size() == 2 && shape[0] == static_cast<std::size_t>(points.rows()) &&
                      shape[1] == static_cast<std::size_t>(points.cols());
          for (Eigen::Index i = 0; same && i < points.rows(); ++i)
            for (Eigen::Index j = 0; same && j < points.cols(); ++j)
              same = x[static_cast<std::size_t>(i * points.cols() + j)] == points(i, j);
          if (!same) {
            throw ConfigError(fmt::format(
                "{}: --resume: the points read now differ from those in {} (the points file "
                "changed); run without --resume to start over",
                source, manifest));
          }
          blockPairs_ = f.readAttributeInt("/", "block_pairs");
          if (blockPairs_ < 1 || f.readAttributeInt("/", "n_pairs") != pairs) {
            throw ConfigError(fmt::format(
                "{}: --resume: {} is damaged (block_pairs {}, n_pairs {}); run without --resume "
                "to start over",
                source, manifest, blockPairs_, f.readAttributeInt("/", "n_pairs")));
          }
        });
    if (resumed) {
      long long saved = 0;
      for (int b = 0; b < blocks(); ++b) saved += hasBlock(b) ? size(b) : 0;
      fmt::print(log_, "# --resume: {} of {} geodesics are saved in {}; solving the rest\n", saved,
                 pairs_, folder());
      std::fflush(log_);
      return;
    }
    pendingPoints_ = points;
  }
  int blocks() const { return static_cast<int>((pairs_ + blockPairs_ - 1) / blockPairs_); }
  long long first(int b) const { return b * blockPairs_; }
  long long size(int b) const { return std::min(blockPairs_, pairs_ - first(b)); }
  bool hasBlock(int b) const { return hasPiece(name(b)); }
  PairBlock loadBlock(int b) const {
    H5File f(piecePath(name(b)), H5File::Mode::Read);
    const auto n = static_cast<std::size_t>(size(b));
    PairBlock block;
    block.length = f.readDoubles("/length");
    block.energy = f.readDoubles("/energy");
    block.minL = f.readDoubles("/min_l");
    for (double v : f.readDoubles("/iterations")) block.iterations.push_back(static_cast<std::int64_t>(v));
    for (double v : f.readDoubles("/at_max_iterations")) block.atMax.push_back(static_cast<std::int64_t>(v));
    for (const auto* v : {&block.length, &block.energy, &block.minL}) {
      if (v->size() != n) {
        throw std::runtime_error(fmt::format("{}: expected {} pairs, found {}; run without "
                                             "--resume to start over",
                                             piecePath(name(b)), n, v->size()));
      }
    }
    if (block.iterations.size() != n || block.atMax.size() != n) {
      throw std::runtime_error(fmt::format(
          "{}: expected {} pairs; run without --resume to start over", piecePath(name(b)), n));
    }
    return block;
  }
  void saveBlock(int b, const PairBlock& block) {
    savePiece(name(b), [&](H5File& f) {
      const std::vector<std::size_t> shape{block.length.size()};
      f.writeDoubles("/length", shape, block.length.data(), "1");
      f.writeDoubles("/energy", shape, block.energy.data(), "1");
      f.writeDoubles("/min_l", shape, block.minL.data(), "1");
      f.writeInts("/iterations", shape, block.iterations.data(), "1");
      f.writeInts("/at_max_iterations", shape, block.atMax.data(), "1");
    });
  }

 private:
  void writeManifestExtras(H5File& f) const override {
    writeMatrix(f, "/points", pendingPoints_, "as in /distance/points");
    f.setAttribute("/", "n_pairs", static_cast<std::int64_t>(pairs_), "1");
    f.setAttribute("/", "block_pairs", static_cast<std::int64_t>(blockPairs_), "1");
  }
  static std::string name(int b) { return fmt::format("pairs_{:05d}.h5", b); }
  Eigen::MatrixXd pendingPoints_;
  long long pairs_ = 0, blockPairs_ = 1;
};

}  // namespace

DistancePoints readDistancePoints(const JobSettings& settings, int D) {
  const std::string& path = settings.distance.points;
  if (path.empty()) {
    DistancePoints p;
    p.kind = "states";
    p.x.resize(2, D);
    for (int d = 0; d < D; ++d) {
      p.x(0, d) = settings.states.a.at(static_cast<std::size_t>(d));
      p.x(1, d) = settings.states.b.at(static_cast<std::size_t>(d));
    }
    p.sourceIndex = {0, 1};
    return p;
  }
  auto fail = [&](const std::string& what) {
    return ConfigError(
        fmt::format("{}: key 'distance.points': {}: {}", settings.source, path, what));
  };
  DistancePoints p =
      isHdf5File(path) ? readResultPoints(settings, D, fail) : readTextPoints(settings, D, fail);
  if (p.x.rows() < 2) {
    throw fail(fmt::format("{} point{} (with distance.stride = {}); expected at least 2",
                           p.x.rows(), p.x.rows() == 1 ? "" : "s", settings.distance.stride));
  }
  return p;
}

DistanceSummary runDistance(Config config, const JobOptions& options, std::FILE* log) {
  const auto tStart = Clock::now();
  applyOptions(config, options, "distance.output");
  const JobSettings settings = readJobSettings(config);
  fmt::print(log, "# geotps {} effective configuration ({})\n{}\n", kVersion, config.sourceName(),
             config.effectiveYaml());
  std::fflush(log);
  if (settings.geodesic.optimizer == "none") {
    throw ConfigError(fmt::format(
        "{}: key 'geodesic.optimizer': 'none' keeps the initial curve; `geotps distance` needs "
        "the geodesic (lbfgs or adam)",
        settings.source));
  }
  DistanceSummary s;
  s.name = settings.name;
  s.lEnd = settings.states.lEnd;
  s.outputFile = settings.distance.output;
  if (s.outputFile.empty()) s.outputFile = "results/" + s.name + "_distance.h5";

  // The output file first, so that an unwritable path fails before any work; it appears under its
  // name only on success.
  AtomicH5Writer writer(s.outputFile);
  const Problem problem = makeProblem(settings);
  for (const auto& w : problem.warnings) printWarning(w);
  const Potential& potential = *problem.potential;
  const int D = problem.dimension();
  const DistancePoints given = readDistancePoints(settings, D);
  const auto N = static_cast<int>(given.x.rows());
  s.pointsKind = given.kind;
  // The N x N arrays (three of doubles, the iteration counts, their copies for the file), before
  // any is allocated: a long list of frames must not exhaust the machine.
  const double n2 = static_cast<double>(N) * N;
  enforceMemoryLimit(
      MemoryEstimate{{{"distance matrices (N x N: length, energy, lowest l, iterations, and their "
                       "copies for the file)",
                       "distance.points, distance.stride", 45.0 * n2}}},
      memoryLimit(options.maxMemory), settings.source, "distance");
  // Periodic coordinates are wrapped into the data box, where the denoiser's data live (frames of
  // a run are stored unwrapped).
  s.points = given.x;
  for (int d = 0; d < D; ++d) {
    const double period = potential.period(d);
    if (period <= 0) continue;
    const double low = potential.boxLow(d);
    for (int i = 0; i < N; ++i) {
      double& v = s.points(i, d);
      if (v >= low && v < low + period) continue;  // inside: kept to the last bit
      v = low + std::fmod(std::fmod(v - low, period) + period, period);
      if (v >= low + period) v = low;
    }
  }

  const int threads = resolveThreads(settings.sampling.threads);
  s.pairs = static_cast<long long>(N) * (N - 1) / 2;
  // The geodesics are solved in parallel, one per worker thread, and each worker's share of the
  // threads goes to the quadrature denoiser (its moments do not depend on the thread count); a
  // learned denoiser solves them one after the other.
  const bool quadrature = settings.denoiser.type == "quadrature";
  const int workers = quadrature ? static_cast<int>(std::clamp<long long>(s.pairs, 1, threads)) : 1;
  const int denoiserThreads = std::max(1, threads / workers);
  std::shared_ptr<QuadratureDenoiser> exact;
  if (problem.surface) {
    exact = QuadratureDenoiser::fromSurface(*problem.surface, problem.kT, denoiserThreads);
  } else {
    const DenoiserSettings& ds = settings.denoiser;
    Eigen::VectorXi size(D);
    for (int d = 0; d < D; ++d) size[d] = ds.gridSize[d];
    exact = QuadratureDenoiser::fromPotentialOnBox(potential, problem.kT, toVector(ds.boxLow),
                                                   toVector(ds.boxHigh), size, denoiserThreads);
  }
  const std::shared_ptr<Denoiser> denoiser =
      makeDenoiser(settings.denoiser, DenoiserContext{exact, D, settings.source});
  s.denoiser = denoiser->name();
  s.threads = workers;
  const GeodesicSettings gs = editDistanceSettings(settings.geodesic);
  if (settings.geodesic.penalty.type != PenaltySettings::Type::None) {
    fmt::print(log,
               "# note: penalty.type is ignored: the Diffusion Edit Distance is the length of the "
               "unconstrained geodesic\n");
  }
  if (!settings.geodesic.initialFile.empty()) {
    fmt::print(log,
               "# note: geodesic.initial is ignored: every geodesic starts from the straight line "
               "between its two points\n");
  }
  fmt::print(log,
             "# geotps distance: {} points ({}), {} geodesics at l_end = {} with the {} denoiser, "
             "{} at a time ({} denoiser thread{} each)\n",
             N, given.kind == "states" ? "states.a and states.b" : settings.distance.points,
             s.pairs, s.lEnd, s.denoiser, workers, denoiserThreads,
             denoiserThreads == 1 ? "" : "s");
  std::fflush(log);

  s.distance = Eigen::MatrixXd::Zero(N, N);
  s.energy = Eigen::MatrixXd::Zero(N, N);
  s.minL = Eigen::MatrixXd::Constant(N, N, s.lEnd);
  Eigen::MatrixXi iterations = Eigen::MatrixXi::Zero(N, N);
  std::vector<char> atMax(static_cast<std::size_t>(N) * N, 0);
  std::vector<std::pair<int, int>> pairs;
  pairs.reserve(static_cast<std::size_t>(s.pairs));
  for (int i = 0; i < N; ++i)
    for (int j = i + 1; j < N; ++j) pairs.emplace_back(i, j);
  // The pairs in blocks of about 2 % of them, each saved in the checkpoint folder as soon as it is
  // solved (a block's geodesics do not depend on the others, nor on the thread count).
  const std::string checkpointFolder = s.outputFile + ".checkpoint";
  DistanceCheckpoint checkpoint(checkpointFolder, options.resume, log);
  checkpoint.begin(settings.source, config.effectiveYaml(), s.points, s.pairs,
                   std::max<long long>(static_cast<long long>(workers), (s.pairs + 49) / 50));
  Progress bar("distance", s.pairs, options.progress);
  long long done = 0;
  for (int b = 0; b < checkpoint.blocks(); ++b) {
    const long long first = checkpoint.first(b);
    const auto n = static_cast<std::size_t>(checkpoint.size(b));
    PairBlock block;
    if (checkpoint.hasBlock(b)) {
      block = checkpoint.loadBlock(b);
      done += static_cast<long long>(n);
      bar.update(done);
    } else {
      block = PairBlock(n);
      std::atomic<std::size_t> next{0};
      std::atomic<long long> solved{done};
      parallelFor(static_cast<std::size_t>(workers), workers, [&](std::size_t, std::size_t, int) {
        for (std::size_t k = next++; k < n; k = next++) {
          const auto [i, j] = pairs[static_cast<std::size_t>(first) + k];
          const EditDistance d = diffusionEditDistance(*denoiser, s.points.row(i).transpose(),
                                                       s.points.row(j).transpose(), s.lEnd, gs);
          block.length[k] = d.length;
          block.energy[k] = d.energy;
          block.minL[k] = d.minL;
          block.iterations[k] = d.iterations;
          block.atMax[k] = d.stopReason.find("max_iterations") != std::string::npos ? 1 : 0;
          bar.update(++solved);
        }
      });
      done = solved;
      checkpoint.saveBlock(b, block);
      faultInjectionPoint("block", b);
    }
    for (std::size_t k = 0; k < n; ++k) {
      const auto [i, j] = pairs[static_cast<std::size_t>(first) + k];
      s.distance(i, j) = s.distance(j, i) = block.length[k];
      s.energy(i, j) = s.energy(j, i) = block.energy[k];
      s.minL(i, j) = s.minL(j, i) = block.minL[k];
      iterations(i, j) = iterations(j, i) = static_cast<int>(block.iterations[k]);
      atMax[static_cast<std::size_t>(i) * N + j] = static_cast<char>(block.atMax[k]);
    }
  }
  bar.finish(fmt::format("{} geodesics", s.pairs));
  for (int i = 0; i < N; ++i) {
    for (int j = i + 1; j < N; ++j) {
      s.iterations += iterations(i, j);
      s.atMaxIterations += atMax[static_cast<std::size_t>(i) * N + j];
    }
  }
  if (s.atMaxIterations > 0) {
    printWarning(fmt::format(
        "{} of {} geodesics stopped at geodesic.max_iterations = {} before converging; their "
        "lengths are upper bounds of the distance (raise geodesic.max_iterations)",
        s.atMaxIterations, s.pairs, settings.geodesic.maxIterations));
  }

  H5File& f = writer.file();
  const std::string xu = potential.coordinateUnit();
  writeConfigGroup(f, config);
  const std::string g = "/distance";
  writeMatrix(f, g + "/matrix", s.distance, "1");
  writeMatrix(f, g + "/energy", s.energy, "1");
  writeMatrix(f, g + "/min_l", s.minL, "1");
  {
    std::vector<std::int64_t> it(static_cast<std::size_t>(N) * N);
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j) it[static_cast<std::size_t>(i) * N + j] = iterations(i, j);
    f.writeInts(g + "/iterations", {static_cast<std::size_t>(N), static_cast<std::size_t>(N)},
                it.data(), "1");
  }
  writeMatrix(f, g + "/points", s.points, xu);
  writeMatrix(f, g + "/points_given", given.x, xu);
  {
    std::vector<std::int64_t> idx(given.sourceIndex.begin(), given.sourceIndex.end());
    f.writeInts(g + "/source_index", {idx.size()}, idx.data(),
                given.kind == "text"         ? "line"
                : given.kind == "run_result" ? "frame"
                                             : "1");
  }
  f.setAttribute(g, "l_end", s.lEnd, "1");
  f.setAttribute(g, "n_points", static_cast<std::int64_t>(N), "1");
  f.setAttribute(g, "n_pairs", static_cast<std::int64_t>(s.pairs), "1");
  f.setAttribute(g, "points_kind", s.pointsKind);
  f.setAttribute(g, "points_file", settings.distance.points);
  f.setAttribute(g, "path", static_cast<std::int64_t>(settings.distance.path), "walker index");
  f.setAttribute(g, "stride", static_cast<std::int64_t>(settings.distance.stride), "points");
  f.setAttribute(g, "denoiser", s.denoiser);
  f.setAttribute(g, "optimizer", gs.optimizer);
  f.setAttribute(g, "n_nodes", static_cast<std::int64_t>(gs.nNodes), "1");
  f.setAttribute(g, "n_curve_points", static_cast<std::int64_t>(gs.nPoints), "1");
  f.setAttribute(g, "max_iterations", static_cast<std::int64_t>(gs.maxIterations), "1");
  f.setAttribute(g, "penalty", std::string("none"));
  f.setAttribute(g, "iterations_total", static_cast<std::int64_t>(s.iterations), "1");
  f.setAttribute(g, "pairs_at_max_iterations", static_cast<std::int64_t>(s.atMaxIterations), "1");
  s.wallSeconds = secondsSince(tStart);
  f.setAttribute(g, "wall_seconds", s.wallSeconds, "s");
  f.setAttribute("/", "geotps_version", std::string(kVersion));
  f.setAttribute("/", "schema_version", kResultSchemaVersion, "1");
  f.setAttribute("/", "file_type", std::string("distance"));
  f.setAttribute("/", "name", s.name);
  f.setAttribute("/", "created", isoTimeNow());
  f.setAttribute("/", "potential", problem.fullAtom() ? std::string("openmm") : potential.name());
  if (problem.fullAtom()) f.setAttribute("/", "cv_surface", potential.name());
  f.setAttribute("/", "denoiser", s.denoiser);
  f.setAttribute("/", "coordinate_unit", xu);
  f.setAttribute("/", "threads", static_cast<std::int64_t>(workers), "1");
  writeProvenance(f, config);
  faultInjectionPoint("output", 0);
  writer.commit();
  checkpoint.remove();
  return s;
}

namespace {

/// min, median and max of the entries above the diagonal.
std::array<double, 3> offDiagonalStats(const Eigen::MatrixXd& m) {
  std::vector<double> off;
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = i + 1; j < m.cols(); ++j) off.push_back(m(i, j));
  if (off.empty()) return {0.0, 0.0, 0.0};
  std::sort(off.begin(), off.end());
  return {off.front(), off[off.size() / 2], off.back()};
}

}  // namespace

std::string formatDistanceSummary(const DistanceSummary& s) {
  std::string out;
  const auto N = s.distance.rows();
  if (N == 2) {
    out += fmt::format("distance       DiffED = {:.6f} at l_end {} ({} denoiser)\n",
                       s.distance(0, 1), s.lEnd, s.denoiser);
    out += fmt::format("geodesic       energy {:.4f}, lowest l {:.4f}, {} iterations\n",
                       s.energy(0, 1), s.minL(0, 1), s.iterations);
  } else {
    const auto st = offDiagonalStats(s.distance);
    out += fmt::format(
        "distance       {} points, {} pairs at l_end {} ({} denoiser): DiffED min {:.4f}, median "
        "{:.4f}, max {:.4f}\n",
        N, s.pairs, s.lEnd, s.denoiser, st[0], st[1], st[2]);
    out += fmt::format("geodesics      {} iterations in all, {} stopped at max_iterations\n",
                       s.iterations, s.atMaxIterations);
  }
  out += fmt::format("wall time      {:.1f} s\noutput         {}\n", s.wallSeconds, s.outputFile);
  return out;
}

bool isDistanceFile(const std::string& path) {
  H5File f(path, H5File::Mode::Read);
  return f.hasAttribute("/", "file_type") && f.readAttributeString("/", "file_type") == "distance";
}

std::string distanceInfo(const std::string& path, bool json) {
  H5File f(path, H5File::Mode::Read);
  if (!f.hasAttribute("/", "schema_version") ||
      f.readAttributeInt("/", "schema_version") != kResultSchemaVersion) {
    throw H5Error(
        fmt::format("{}: not a distance file of schema version {}", path, kResultSchemaVersion));
  }
  DistanceSummary s;
  s.outputFile = path;
  s.name = f.readAttributeString("/", "name");
  const std::string g = "/distance";
  s.lEnd = f.readAttributeDouble(g, "l_end");
  s.denoiser = f.readAttributeString(g, "denoiser");
  s.pointsKind = f.readAttributeString(g, "points_kind");
  s.pairs = f.readAttributeInt(g, "n_pairs");
  s.iterations = f.readAttributeInt(g, "iterations_total");
  s.atMaxIterations = f.readAttributeInt(g, "pairs_at_max_iterations");
  s.wallSeconds = f.readAttributeDouble(g, "wall_seconds");
  auto square = [&](const std::string& name) {
    const auto shape = f.shape(g + "/" + name);
    const auto v = f.readDoubles(g + "/" + name);
    if (shape.size() != 2 || shape[0] != shape[1] || shape[0] < 2) {
      throw H5Error(fmt::format("{}: {}/{} is not an N x N matrix", path, g, name));
    }
    const auto n = static_cast<Eigen::Index>(shape[0]);
    Eigen::MatrixXd m(n, n);
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j) m(i, j) = v[static_cast<std::size_t>(i * n + j)];
    return m;
  };
  s.distance = square("matrix");
  s.energy = square("energy");
  s.minL = square("min_l");
  if (!json) return formatDistanceSummary(s);
  const auto st = offDiagonalStats(s.distance);
  return fmt::format(
      "{{\"name\": {}, \"file_type\": \"distance\", \"l_end\": {}, \"denoiser\": {}, "
      "\"points_kind\": {}, \"n_points\": {}, \"n_pairs\": {}, \"distance_min\": {}, "
      "\"distance_median\": {}, \"distance_max\": {}, \"iterations_total\": {}, "
      "\"pairs_at_max_iterations\": {}, \"wall_seconds\": {}}}\n",
      jsonString(s.name), jsonNumber(s.lEnd), jsonString(s.denoiser), jsonString(s.pointsKind),
      s.distance.rows(), s.pairs, jsonNumber(st[0]), jsonNumber(st[1]), jsonNumber(st[2]),
      s.iterations, s.atMaxIterations, jsonNumber(s.wallSeconds));
}

}  // namespace geotps
