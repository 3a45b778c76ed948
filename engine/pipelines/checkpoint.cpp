#include "engine/pipelines/checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "engine/config/config.h"
#include "engine/io/atomic_file.h"
#include "engine/io/h5_file.h"
#include "engine/io/output_util.h"
#include "geotps/version.h"

namespace fs = std::filesystem;

namespace geotps {

namespace {

constexpr const char* kManifest = "job.h5";

/// The first line where two texts differ, as "line N: 'a' (checkpoint) vs 'b' (now)".
std::string firstDifference(const std::string& before, const std::string& now) {
  std::istringstream a(before), b(now);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ha = static_cast<bool>(std::getline(a, la));
    const bool hb = static_cast<bool>(std::getline(b, lb));
    if (!ha && !hb) return "none";
    if (!ha) la = "(end)";
    if (!hb) lb = "(end)";
    if (la != lb || !ha || !hb) {
      return fmt::format("effective configuration line {}: '{}' in the checkpoint, '{}' now", line,
                         la, lb);
    }
  }
}

int countChunks(const std::string& folder) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("chunk_", 0) == 0 && name.size() > 3 &&
        name.substr(name.size() - 3) == ".h5") {
      ++n;
    }
  }
  return n;
}

}  // namespace

int automaticChunkWalkers(int nPaths, int threads, int alignment) {
  int chunk = std::max((nPaths + 19) / 20, 4 * std::max(threads, 1));
  chunk = ((chunk + threads - 1) / std::max(threads, 1)) * std::max(threads, 1);
  alignment = std::max(alignment, 1);
  chunk = ((chunk + alignment - 1) / alignment) * alignment;
  return std::max(1, std::min(chunk, std::max(nPaths, 1)));
}

RunCheckpoint::RunCheckpoint(const std::string& outputFile, bool resume, std::FILE* log)
    : folder_(outputFile + ".checkpoint"), resume_(resume), log_(log) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(folder_, ec);
  if (fs::exists(st) && (fs::is_symlink(st) || !fs::is_directory(st))) {
    throw ConfigError(fmt::format(
        "{}: exists and is not a checkpoint folder of geotps (a {}); expected a folder this "
        "command may use to save finished walkers: move it away or choose another output file",
        folder_, fs::is_symlink(st) ? "symbolic link" : "file"));
  }
  if (fs::exists(st) && !resume_) {
    fmt::print(stderr,
               "geotps: warning: discarding {} ({} saved chunks of an interrupted run); use "
               "--resume to continue such a run instead\n",
               folder_, countChunks(folder_));
    fs::remove_all(folder_, ec);
    if (ec) {
      throw std::runtime_error(
          fmt::format("{}: cannot remove the old checkpoint folder: {}", folder_, ec.message()));
    }
  } else if (!fs::exists(st) && resume_) {
    fmt::print(log_, "# --resume: no checkpoint {}; starting from the beginning\n", folder_);
    std::fflush(log_);
  }
}

void RunCheckpoint::begin(const std::string& source, const std::string& effectiveYaml,
                          const Eigen::MatrixXd& curve, int nPaths, int chunkWalkers) {
  nPaths_ = nPaths;
  const std::string manifest = (fs::path(folder_) / kManifest).string();
  std::error_code ec;
  if (resume_ && fs::exists(manifest, ec)) {
    H5File f(manifest, H5File::Mode::Read);
    const std::string before = f.readString("/effective");
    if (before != effectiveYaml) {
      throw ConfigError(fmt::format(
          "{}: --resume: the checkpoint {} belongs to another configuration ({}); resume with the "
          "same configuration, or run without --resume to start over",
          source, folder_, firstDifference(before, effectiveYaml)));
    }
    const std::vector<double> z = f.readDoubles("/curve");
    const auto shape = f.shape("/curve");
    bool same = shape.size() == 2 && shape[0] == static_cast<std::size_t>(curve.rows()) &&
                shape[1] == static_cast<std::size_t>(curve.cols());
    for (Eigen::Index i = 0; same && i < curve.rows(); ++i)
      for (Eigen::Index j = 0; same && j < curve.cols(); ++j)
        same = z[static_cast<std::size_t>(i * curve.cols() + j)] == curve(i, j);
    if (!same) {
      throw ConfigError(fmt::format(
          "{}: --resume: the sampling curve computed now differs from the one in {} (another "
          "build of geotps or another machine); run without --resume to start over",
          source, manifest));
    }
    chunkWalkers_ = static_cast<int>(f.readAttributeInt("/", "chunk_walkers"));
    if (chunkWalkers_ < 1 || f.readAttributeInt("/", "n_paths") != nPaths) {
      throw ConfigError(fmt::format("{}: --resume: {} is damaged (chunk_walkers {}, n_paths {}); "
                                    "run without --resume to start over",
                                    source, manifest, chunkWalkers_,
                                    f.readAttributeInt("/", "n_paths")));
    }
    int saved = 0;
    for (int c = 0; c < chunkCount(); ++c) saved += hasChunk(c) ? chunkSize(c) : 0;
    fmt::print(log_, "# --resume: {} of {} walkers are saved in {}; sampling the rest\n", saved,
               nPaths, folder_);
    std::fflush(log_);
    return;
  }
  chunkWalkers_ = std::max(1, chunkWalkers);
  AtomicH5Writer writer(manifest);
  H5File& f = writer.file();
  f.writeString("/effective", effectiveYaml);
  writeMatrix(f, "/curve", curve, "l: 1; x: as in /sampling/curve_z");
  f.setAttribute("/", "geotps_version", std::string(kVersion));
  f.setAttribute("/", "n_paths", static_cast<std::int64_t>(nPaths), "1");
  f.setAttribute("/", "chunk_walkers", static_cast<std::int64_t>(chunkWalkers_), "1");
  writer.commit();
}

int RunCheckpoint::chunkCount() const { return (nPaths_ + chunkWalkers_ - 1) / chunkWalkers_; }

int RunCheckpoint::chunkSize(int c) const {
  return std::min(chunkWalkers_, nPaths_ - chunkFirst(c));
}

std::string RunCheckpoint::chunkPath(int c) const {
  return (fs::path(folder_) / fmt::format("chunk_{:05d}.h5", c)).string();
}

bool RunCheckpoint::hasChunk(int c) const {
  std::error_code ec;
  return fs::is_regular_file(chunkPath(c), ec);
}

SamplerResult RunCheckpoint::loadChunk(int c) const {
  H5File f(chunkPath(c), H5File::Mode::Read);
  return loadWalkers(f, "/walkers", chunkSize(c));
}

void RunCheckpoint::saveChunk(int c, const SamplerResult& part) const {
  checkOutputTarget(chunkPath(c));  // also removes a killed run's half-written temporary
  AtomicH5Writer writer(chunkPath(c));
  saveWalkers(writer.file(), "/walkers", part);
  writer.commit();
}

void RunCheckpoint::remove() const {
  std::error_code ec;
  fs::remove_all(folder_, ec);
}

}  // namespace geotps
