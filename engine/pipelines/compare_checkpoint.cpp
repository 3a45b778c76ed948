#include "engine/pipelines/compare_checkpoint.h"

#include <fmt/format.h>

#include <filesystem>
#include <utility>

#include "engine/core/fault_injection.h"
#include "engine/io/h5_file.h"
#include "engine/io/output_util.h"

namespace fs = std::filesystem;

namespace geotps {

namespace {

constexpr const char* kGeodesicRun = "geodesic_run.h5";

std::string methodPiece(const std::string& method) { return "method_" + method + ".h5"; }

std::string chainFolder(const std::string& method) { return "chains_" + method; }

std::string chainPiece(const std::string& method, int chain) {
  return fmt::format("{}/chain_{:05d}.h5", chainFolder(method), chain);
}

/// A finished chain: per accepted path its scalars, and its stored frames concatenated
/// (cv_offsets / configuration_offsets: first value of path i), float32 as they are held.
void saveChain(H5File& f, const ChainResult& r) {
  const std::size_t n = r.accepted.size();
  f.setAttribute("/", "trials", static_cast<std::int64_t>(r.trials), "1");
  f.setAttribute("/", "evaluations", static_cast<std::int64_t>(r.evaluations), "1");
  f.setAttribute("/", "n_accepted", static_cast<std::int64_t>(n), "1");
  if (n == 0) return;
  std::vector<std::int64_t> ints;  // chain, trial, length per path
  std::vector<double> reals;       // maxEnergy, maxEnergy2, firstCV, lastCV (D each) per path
  std::vector<std::int64_t> cvOffsets{0}, confOffsets{0};
  std::vector<float> cv, conf;
  for (const AcceptedPath& a : r.accepted) {
    ints.insert(ints.end(), {a.chain, a.trial, a.length});
    reals.insert(reals.end(), {a.maxEnergy, a.maxEnergy2});
    reals.insert(reals.end(), a.firstCV.begin(), a.firstCV.end());
    reals.insert(reals.end(), a.lastCV.begin(), a.lastCV.end());
    cv.insert(cv.end(), a.cvFrames.begin(), a.cvFrames.end());
    conf.insert(conf.end(), a.configurationFrames.begin(), a.configurationFrames.end());
    cvOffsets.push_back(static_cast<std::int64_t>(cv.size()));
    confOffsets.push_back(static_cast<std::int64_t>(conf.size()));
  }
  f.writeInts("/paths_int", {n, 3}, ints.data(), "chain, trial, frames");
  f.writeDoubles("/paths_real", {n, reals.size() / n}, reals.data(), "as in AcceptedPath");
  f.writeInts("/cv_offsets", {n + 1}, cvOffsets.data(), "1");
  f.writeInts("/configuration_offsets", {n + 1}, confOffsets.data(), "1");
  if (!cv.empty()) f.writeFloats("/cv_frames", {cv.size()}, cv.data(), "as in AcceptedPath");
  if (!conf.empty()) {
    f.writeFloats("/configuration_frames", {conf.size()}, conf.data(), "as in AcceptedPath");
  }
}

ChainResult loadChain(const H5File& f) {
  ChainResult r;
  r.trials = f.readAttributeInt("/", "trials");
  r.evaluations = f.readAttributeInt("/", "evaluations");
  const auto n = static_cast<std::size_t>(f.readAttributeInt("/", "n_accepted"));
  if (n == 0) return r;
  const std::vector<double> ints = f.readDoubles("/paths_int"),
                            reals = f.readDoubles("/paths_real"),
                            cvOffsets = f.readDoubles("/cv_offsets"),
                            confOffsets = f.readDoubles("/configuration_offsets");
  const std::vector<double> cv =
      f.exists("/cv_frames") ? f.readDoubles("/cv_frames") : std::vector<double>();
  const std::vector<double> conf = f.exists("/configuration_frames")
                                       ? f.readDoubles("/configuration_frames")
                                       : std::vector<double>();
  for (std::size_t i = 0; i < n; ++i) {
    AcceptedPath a;
    a.chain = static_cast<int>(ints[3 * i]);
    a.trial = static_cast<long long>(ints[3 * i + 1]);
    a.length = static_cast<int>(ints[3 * i + 2]);
    // Per path: maxEnergy, maxEnergy2, then firstCV and lastCV (D values each).
    const std::size_t R = reals.size() / n, D = (R - 2) / 2;
    const double* row = reals.data() + R * i;
    a.maxEnergy = row[0];
    a.maxEnergy2 = row[1];
    a.firstCV = Eigen::Map<const Eigen::VectorXd>(row + 2, static_cast<Eigen::Index>(D));
    a.lastCV = Eigen::Map<const Eigen::VectorXd>(row + 2 + D, static_cast<Eigen::Index>(D));
    // float32 values read as double convert back exactly.
    a.cvFrames.assign(cv.begin() + static_cast<std::ptrdiff_t>(cvOffsets[i]),
                      cv.begin() + static_cast<std::ptrdiff_t>(cvOffsets[i + 1]));
    a.configurationFrames.assign(conf.begin() + static_cast<std::ptrdiff_t>(confOffsets[i]),
                                 conf.begin() + static_cast<std::ptrdiff_t>(confOffsets[i + 1]));
    r.accepted.push_back(std::move(a));
  }
  return r;
}

/// The per-path vectors of a MethodResult, by name.
std::vector<std::pair<const char*, Eigen::VectorXd MethodResult::*>> vectorFields() {
  return {{"max_energy", &MethodResult::maxEnergy},
          {"max_energy_cv", &MethodResult::maxEnergyCV},
          {"success", &MethodResult::success},
          {"max_energy_segment", &MethodResult::maxEnergySegment},
          {"crossing", &MethodResult::crossing}};
}

/// Every member of `r` into `f`, numbers as float64 (lossless, unlike the compare file's float32
/// frame arrays).
void saveResult(H5File& f, const MethodResult& r) {
  f.setAttribute("/", "method", r.method);
  f.setAttribute("/", "label", r.label);
  f.setAttribute("/", "error", r.error);
  f.setAttribute("/", "convergence", r.convergence);
  f.setAttribute("/", "settings", r.settings);
  f.setAttribute("/", "ok", static_cast<std::int64_t>(r.ok ? 1 : 0), "1");
  f.setAttribute("/", "converged", static_cast<std::int64_t>(r.converged ? 1 : 0), "1");
  f.setAttribute("/", "mean_segment_frames", r.meanSegmentFrames, "frames");
  f.setAttribute("/", "acceptance", r.acceptance, "1");
  f.setAttribute("/", "trials", static_cast<std::int64_t>(r.trials), "1");
  f.setAttribute("/", "energy_evaluations", static_cast<std::int64_t>(r.energyEvaluations), "1");
  f.setAttribute("/", "wall_seconds", r.wallSeconds, "s");
  for (const auto& [name, member] : vectorFields()) {
    const Eigen::VectorXd& v = r.*member;
    f.setAttribute("/", std::string("size_") + name, static_cast<std::int64_t>(v.size()), "1");
    if (v.size()) writeVector(f, std::string("/") + name, v, "as in MethodResult");
  }
  f.setAttribute("/", "n_datasets", static_cast<std::int64_t>(r.datasets.size()), "1");
  for (std::size_t i = 0; i < r.datasets.size(); ++i) {
    const MethodDataset& d = r.datasets[i];
    const std::string g = fmt::format("/datasets/d{}", i);
    std::vector<std::int64_t> shape(d.shape.begin(), d.shape.end());
    f.writeInts(g + "/shape", {shape.size()}, shape.data(), "1");
    if (!d.values.empty()) {
      f.writeDoubles(g + "/values", {d.values.size()}, d.values.data(), d.units);
    }
    f.setAttribute(g, "name", d.name);
    f.setAttribute(g, "units", d.units);
    f.setAttribute(g, "single", static_cast<std::int64_t>(d.single ? 1 : 0), "1");
    f.setAttribute(g, "integer", static_cast<std::int64_t>(d.integer ? 1 : 0), "1");
  }
}

MethodResult loadResult(const H5File& f) {
  MethodResult r;
  r.method = f.readAttributeString("/", "method");
  r.label = f.readAttributeString("/", "label");
  r.error = f.readAttributeString("/", "error");
  r.convergence = f.readAttributeString("/", "convergence");
  r.settings = f.readAttributeString("/", "settings");
  r.ok = f.readAttributeInt("/", "ok") == 1;
  r.converged = f.readAttributeInt("/", "converged") == 1;
  r.meanSegmentFrames = f.readAttributeDouble("/", "mean_segment_frames");
  r.acceptance = f.readAttributeDouble("/", "acceptance");
  r.trials = f.readAttributeInt("/", "trials");
  r.energyEvaluations = f.readAttributeInt("/", "energy_evaluations");
  r.wallSeconds = f.readAttributeDouble("/", "wall_seconds");
  for (const auto& [name, member] : vectorFields()) {
    if (f.readAttributeInt("/", std::string("size_") + name) > 0) {
      r.*member = toVector(f.readDoubles(std::string("/") + name));
    }
  }
  const std::int64_t n = f.readAttributeInt("/", "n_datasets");
  for (std::int64_t i = 0; i < n; ++i) {
    const std::string g = fmt::format("/datasets/d{}", i);
    MethodDataset d;
    d.name = f.readAttributeString(g, "name");
    d.units = f.readAttributeString(g, "units");
    d.single = f.readAttributeInt(g, "single") == 1;
    d.integer = f.readAttributeInt(g, "integer") == 1;
    for (const double s : f.readDoubles(g + "/shape"))
      d.shape.push_back(static_cast<std::size_t>(s));
    if (f.exists(g + "/values")) d.values = f.readDoubles(g + "/values");
    r.datasets.push_back(std::move(d));
  }
  return r;
}

}  // namespace

CompareCheckpoint::CompareCheckpoint(const std::string& outputFile, bool resume, std::FILE* log)
    : CheckpointFolder(outputFile + ".checkpoint", "compare", "method_", "method results", resume,
                       log) {}

void CompareCheckpoint::begin(const std::string& source, const std::string& effectiveYaml,
                              const std::vector<std::string>& methods) {
  if (!openManifest(source, effectiveYaml, [](const H5File&, const std::string&) {})) return;
  int saved = 0;
  for (const auto& m : methods) saved += hasMethod(m) ? 1 : 0;
  fmt::print(log_, "# --resume: {} of {} methods are saved in {}; running the rest\n", saved,
             methods.size(), folder());
  std::fflush(log_);
}

std::string CompareCheckpoint::walkerFolder() const { return piecePath("geodesic_walkers"); }

void CompareCheckpoint::removeWalkers() const {
  std::error_code ec;
  fs::remove_all(walkerFolder(), ec);
}

bool CompareCheckpoint::hasMethod(const std::string& method) const {
  return hasPiece(methodPiece(method)) && (method != "geodesic" || hasPiece(kGeodesicRun));
}

MethodResult CompareCheckpoint::loadMethod(const std::string& method) const {
  H5File f(piecePath(methodPiece(method)), H5File::Mode::Read);
  return loadResult(f);
}

void CompareCheckpoint::saveMethod(const MethodResult& r, const std::string& geodesicRun) {
  if (!geodesicRun.empty()) savePieceCopy(kGeodesicRun, geodesicRun);
  savePiece(methodPiece(r.method), [&](H5File& f) { saveResult(f, r); });
}

ChainStore CompareCheckpoint::chainStore(const std::string& method, int chains) {
  if (resume_) {
    int saved = 0;
    for (int c = 0; c < chains; ++c) saved += hasPiece(chainPiece(method, c)) ? 1 : 0;
    if (saved > 0) {
      fmt::print(log_, "# --resume: {} of {} chains of {} are saved in {}; running the rest\n",
                 saved, chains, method, folder());
      std::fflush(log_);
    }
  }
  ChainStore store;
  store.load = [this, method](int chain) -> std::optional<ChainResult> {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!resume_ || !hasPiece(chainPiece(method, chain))) return std::nullopt;
    H5File f(piecePath(chainPiece(method, chain)), H5File::Mode::Read);
    return loadChain(f);
  };
  store.save = [this, method](int chain, const ChainResult& r) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      savePiece(chainPiece(method, chain), [&](H5File& f) { saveChain(f, r); });
    }
    faultInjectionPoint("chain", chain);
  };
  return store;
}

void CompareCheckpoint::removeChains(const std::string& method) const {
  std::error_code ec;
  fs::remove_all(piecePath(chainFolder(method)), ec);
}

void CompareCheckpoint::restoreGeodesicRun(const std::string& path) const {
  std::error_code ec;
  fs::copy_file(piecePath(kGeodesicRun), path, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("{}: cannot copy the saved geodesic run to {}: {}",
                                         piecePath(kGeodesicRun), path, ec.message()));
  }
}

}  // namespace geotps
