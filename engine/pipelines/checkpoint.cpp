#include "engine/pipelines/checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "engine/config/config.h"
#include "engine/core/warning.h"
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

/// The number of pieces (files `prefix*.h5`) in `folder`.
int countPieces(const std::string& folder, const std::string& prefix) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && name.size() > 3 && name.substr(name.size() - 3) == ".h5") {
      ++n;
    }
  }
  return n;
}

}  // namespace

JobSettings resumedPlatform(const JobSettings& settings, bool resume, const std::string& folder,
                            std::FILE* log) {
  JobSettings s = settings;
  if (!resume || s.potential.platform != "auto") return s;
  const std::string platform = CheckpointFolder::recordedPlatform(folder);
  if (platform.empty()) return s;
  s.potential.platform = platform;
  s.potential.platformOrigin = "the platform of the work saved in " + folder;
  fmt::print(log, "# --resume: potential.platform auto: {}, {}\n", platform,
             s.potential.platformOrigin);
  std::fflush(log);
  return s;
}

int roundUpToMultiple(int n, int multiple) {
  multiple = std::max(multiple, 1);
  return ((n + multiple - 1) / multiple) * multiple;
}

int automaticChunkWalkers(int nPaths, int threads, int alignment) {
  int chunk = std::max((nPaths + 19) / 20, 4 * std::max(threads, 1));
  chunk = roundUpToMultiple(roundUpToMultiple(chunk, threads), alignment);
  return std::max(1, std::min(chunk, std::max(nPaths, 1)));
}

ChunkPlan ChunkPlan::choose(int nPaths, int requested, int threads, int alignment) {
  return {nPaths, requested > 0 ? roundUpToMultiple(requested, alignment)
                                : automaticChunkWalkers(nPaths, threads, alignment)};
}

CheckpointFolder::CheckpointFolder(std::string folder, const std::string& command,
                                   const std::string& piecePrefix, const std::string& pieceNoun,
                                   bool resume, std::FILE* log)
    : resume_(resume), log_(log), folder_(std::move(folder)) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(folder_, ec);
  if (fs::exists(st) && (fs::is_symlink(st) || !fs::is_directory(st))) {
    throw ConfigError(fmt::format(
        "{}: exists and is not a checkpoint folder of geotps (a {}); expected a folder this "
        "command may use to save finished work: move it away or choose another output file",
        folder_, fs::is_symlink(st) ? "symbolic link" : "file"));
  }
  if (fs::exists(st) && !resume_) {
    printWarning(fmt::format(
        "discarding {} ({} saved {} of an interrupted {}); use --resume to continue such a {} "
        "instead",
        folder_, countPieces(folder_, piecePrefix), pieceNoun, command, command));
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

CheckpointFolder::~CheckpointFolder() {
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(folder_, ec)) && fs::is_empty(folder_, ec) && !ec) {
    fs::remove(folder_, ec);
  }
}

bool CheckpointFolder::openManifest(
    const std::string& source, const std::string& effectiveYaml,
    const std::function<void(const H5File&, const std::string&)>& check) {
  const std::string manifest = piecePath(kManifest);
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
    check(f, manifest);
    manifestWritten_ = true;
    return true;
  }
  // The folder appears with the first saved piece (savePiece): a command that fails or is stopped
  // before any piece is done leaves nothing.
  pendingYaml_ = effectiveYaml;
  manifestWritten_ = false;
  return false;
}

std::string CheckpointFolder::recordedPlatform(const std::string& folder) {
  const std::string manifest = (fs::path(folder) / kManifest).string();
  std::error_code ec;
  if (!fs::is_regular_file(manifest, ec)) return "";
  H5File f(manifest, H5File::Mode::Read);
  return f.hasAttribute("/", "openmm_platform") ? f.readAttributeString("/", "openmm_platform")
                                                : "";
}

std::string CheckpointFolder::piecePath(const std::string& name) const {
  return (fs::path(folder_) / name).string();
}

bool CheckpointFolder::hasPiece(const std::string& name) const {
  std::error_code ec;
  return fs::is_regular_file(piecePath(name), ec);
}

void CheckpointFolder::withManifest(const std::function<void()>& save) {
  const bool first = !manifestWritten_;
  try {
    if (first) {
      AtomicH5Writer writer(piecePath(kManifest));
      H5File& f = writer.file();
      f.writeString("/effective", pendingYaml_);
      f.setAttribute("/", "geotps_version", std::string(kVersion));
      if (!platform_.empty()) f.setAttribute("/", "openmm_platform", platform_);
      writeManifestExtras(f);
      writer.commit();
    }
    manifestWritten_ = true;
    save();
  } catch (...) {
    // A folder without a finished piece holds nothing worth keeping.
    if (first) {
      remove();
      manifestWritten_ = false;
    }
    throw;
  }
}

void CheckpointFolder::savePiece(const std::string& name,
                                 const std::function<void(H5File&)>& fill) {
  withManifest([&] {
    const std::string path = piecePath(name);
    checkOutputTarget(path);  // also removes a killed command's half-written temporary
    AtomicH5Writer writer(path);
    fill(writer.file());
    writer.commit();
  });
}

void CheckpointFolder::savePieceCopy(const std::string& name, const std::string& source) {
  withManifest([&] {
    const std::string path = piecePath(name);
    checkOutputTarget(path);
    OwnedTemporary copy(temporaryPathFor(path));
    std::error_code ec;
    fs::copy_file(source, copy.path(), fs::copy_options::overwrite_existing, ec);
    if (ec) {
      throw std::runtime_error(
          fmt::format("{}: cannot copy {} into the checkpoint: {}", path, source, ec.message()));
    }
    copy.renameTo(path);
  });
}

void CheckpointFolder::remove() const {
  std::error_code ec;
  fs::remove_all(folder_, ec);
}

RunCheckpoint::RunCheckpoint(const std::string& folder, bool resume, std::FILE* log)
    : CheckpointFolder(folder, "run", "chunk_", "chunks", resume, log) {}

void RunCheckpoint::begin(const std::string& source, const std::string& effectiveYaml,
                          const Eigen::MatrixXd& curve, const ChunkPlan& plan) {
  plan_ = plan;
  const int nPaths = plan.nPaths;
  const bool resumed =
      openManifest(source, effectiveYaml, [&](const H5File& f, const std::string& manifest) {
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
        plan_.walkers = static_cast<int>(f.readAttributeInt("/", "chunk_walkers"));
        if (plan_.walkers < 1 || f.readAttributeInt("/", "n_paths") != nPaths) {
          throw ConfigError(
              fmt::format("{}: --resume: {} is damaged (chunk_walkers {}, n_paths {}); "
                          "run without --resume to start over",
                          source, manifest, plan_.walkers, f.readAttributeInt("/", "n_paths")));
        }
      });
  if (resumed) {
    int saved = 0;
    for (int c = 0; c < plan_.count(); ++c) saved += hasChunk(c) ? plan_.size(c) : 0;
    fmt::print(log_, "# --resume: {} of {} walkers are saved in {}; sampling the rest\n", saved,
               nPaths, folder());
    std::fflush(log_);
    return;
  }
  plan_.walkers = std::max(1, plan.walkers);
  pendingCurve_ = curve;
}

void RunCheckpoint::writeManifestExtras(H5File& f) const {
  writeMatrix(f, "/curve", pendingCurve_, "l: 1; x: as in /sampling/curve_z");
  f.setAttribute("/", "n_paths", static_cast<std::int64_t>(plan_.nPaths), "1");
  f.setAttribute("/", "chunk_walkers", static_cast<std::int64_t>(plan_.walkers), "1");
}

std::string RunCheckpoint::chunkName(int c) { return fmt::format("chunk_{:05d}.h5", c); }

bool RunCheckpoint::hasChunk(int c) const { return hasPiece(chunkName(c)); }

SamplerResult RunCheckpoint::loadChunk(int c) const {
  H5File f(piecePath(chunkName(c)), H5File::Mode::Read);
  return loadWalkers(f, "/walkers", plan_.size(c));
}

void RunCheckpoint::saveChunk(int c, const SamplerResult& part) {
  savePiece(chunkName(c), [&](H5File& f) { saveWalkers(f, "/walkers", part); });
}

}  // namespace geotps
