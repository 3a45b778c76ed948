// Up-front memory estimates of run and compare (memory_estimate.h).
#include "engine/pipelines/memory_estimate.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "engine/denoisers/quadrature_denoiser.h"

namespace geotps {

double MemoryEstimate::total() const {
  double t = 0.0;
  for (const auto& i : items) t += i.bytes;
  return t;
}

namespace {
// Working memory besides the listed arrays (libraries, OpenMM Contexts, HDF5 buffers).
constexpr double kBaseBytes = 256.0 * 1024 * 1024;

int samplerPoints(const JobSettings& s) {
  return s.sampling.nPoints > 0 ? s.sampling.nPoints : s.geodesic.nPoints;
}
}  // namespace

MemoryEstimate estimateRunMemory(const JobSettings& s, int nAtoms) {
  MemoryEstimate e;
  e.items.push_back({"libraries and working memory", "", kBaseBytes});
  const double M = s.sampling.nPaths;
  const double frames = static_cast<double>(samplerPoints(s)) * s.sampling.stepsPerPoint;
  const double stride = s.output.frameStride;
  const std::string pathKeys =
      "sampler.n_paths x sampler.n_points (or geodesic.n_points) x "
      "sampler.steps_per_point";
  if (nAtoms == 0) {
    const double D = static_cast<double>(s.states.a.size());
    if (stride > 0)
      e.items.push_back({"stored frames of the paths (float32)",
                         pathKeys + " / output.frame_stride",
                         M * std::floor(frames / stride) * D * 4.0});
    // The density and its moments on the grid, and a copy per worker thread; only where the
    // quadrature is built (within its limits; beyond them a neural denoiser runs alone).
    Eigen::VectorXi size(static_cast<Eigen::Index>(s.denoiser.gridSize.size()));
    double grid = 1.0;
    for (std::size_t d = 0; d < s.denoiser.gridSize.size(); ++d) {
      size[static_cast<Eigen::Index>(d)] = s.denoiser.gridSize[d];
      grid *= s.denoiser.gridSize[d];
    }
    if (quadratureLimitExceeded(size).empty())
      e.items.push_back({"quadrature grid", "denoiser.grid_size", grid * 8.0 * 8.0});
  } else {
    if (stride > 0)
      e.items.push_back({"stored full-atom frames (float32)", pathKeys + " / output.frame_stride",
                         M * std::floor(frames / stride) * 3.0 * nAtoms * 4.0});
    // Per-context: energy and the CVs of every frame; batched: of every observed frame.
    const double nCV = static_cast<double>(s.states.a.size());
    e.items.push_back({"per-frame energy and CVs (float32)", pathKeys, M * frames * (1.0 + nCV) * 4.0});
  }
  // The curve and the geodesic's work arrays: a few vectors per curve point.
  e.items.push_back({"geodesic curve", "geodesic.n_points", s.geodesic.nPoints * 64.0 * 1024});
  return e;
}

MemoryEstimate estimateCompareMemory(const JobSettings& s, int nAtoms) {
  MemoryEstimate e;
  const McmcSettings& mc = s.mcmc;
  const double D = nAtoms > 0 ? 3.0 * nAtoms : static_cast<double>(s.states.a.size());
  bool mcmc = false, doob = false, geodesic = false;
  for (const auto& m : s.compare.methods) {
    mcmc = mcmc || m.rfind("mcmc", 0) == 0;
    doob = doob || m == "doob";
    geodesic = geodesic || m == "geodesic";
  }
  if (mcmc) {
    // Each chain holds its current path and a trial (positions and velocities, float64).
    e.items.push_back(
        {"MCMC chains' current and trial paths", "mcmc.chains x mcmc.max_length",
         static_cast<double>(mc.chains) * std::max(mc.maxLength, mc.pathLength) * D * 8.0 * 4.0});
    // At most one stored frame per evaluation of the budget, (phi, psi) or x, float64.
    if (mc.frameStride > 0) {
      const double budget = static_cast<double>(mc.fixedMaxEvaluations) +
                            static_cast<double>(mc.variableMaxEvaluations);
      e.items.push_back({"MCMC stored frames (at most)",
                         "mcmc.fixed_max_evaluations + mcmc.variable_max_evaluations / "
                         "mcmc.frame_stride",
                         budget / mc.frameStride / mc.storeEvery * 2.0 * 8.0});
    }
  }
  if (doob) {
    const DoobSettings& d = s.doob;
    e.items.push_back({"Doob's paths (float64)", "doob.n_paths x doob.n_steps",
                       static_cast<double>(d.nPaths) * (d.nSteps + 1.0) * D * 8.0 * 2.0});
  }
  if (geodesic && nAtoms > 0) {
    const double frames = static_cast<double>(samplerPoints(s)) * s.sampling.stepsPerPoint;
    e.items.push_back({"the geodesic run's per-frame energy and (phi, psi), read back (float64)",
                       "sampler.n_paths x sampler.n_points x sampler.steps_per_point",
                       s.sampling.nPaths * frames * 3.0 * 8.0});
  }
  return e;
}

std::uint64_t physicalMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || size <= 0) return 0;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(size);
}

std::uint64_t memoryLimit(const std::optional<std::uint64_t>& limit) {
  return limit ? *limit : physicalMemoryBytes();
}

std::string bytesText(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 5) {
    bytes /= 1024.0;
    ++u;
  }
  if (bytes >= 1e5) return fmt::format("{:.3g} {}", bytes, units[u]);
  return u == 0 ? fmt::format("{:.0f} bytes", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

void enforceMemoryLimit(const MemoryEstimate& estimate, std::uint64_t limit,
                        const std::string& source, const std::string& command) {
  const double total = estimate.total();
  if (limit == 0 || total <= static_cast<double>(limit)) return;
  std::vector<MemoryItem> items = estimate.items;
  std::sort(items.begin(), items.end(),
            [](const MemoryItem& a, const MemoryItem& b) { return a.bytes > b.bytes; });
  std::string parts;
  for (const auto& i : items) {
    if (i.keys.empty() || i.bytes < 0.01 * total) continue;
    parts += fmt::format("; {} {} ({})", i.what, bytesText(i.bytes), i.keys);
  }
  throw ConfigError(fmt::format(
      "{}: `geotps {}` would need about {} of memory, more than the limit of {} (--max-memory; "
      "default: this machine's RAM){}. {}raise --max-memory",
      source, command, bytesText(total), bytesText(static_cast<double>(limit)), parts,
      parts.empty() ? ""
                    : "Reduce those keys (stored frames: a larger output.frame_stride, or 0 for "
                      "none), or "));
}

std::optional<std::uint64_t> parseByteSize(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t end = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &end);
  } catch (...) {
    return std::nullopt;
  }
  double scale = 1.0;
  std::string suffix = text.substr(end);
  if (!suffix.empty() && (suffix.back() == 'B' || suffix.back() == 'b')) suffix.pop_back();
  if (suffix.size() > 1 && (suffix.back() == 'i' || suffix.back() == 'I')) suffix.pop_back();
  if (suffix.size() == 1) {
    switch (suffix[0]) {
      case 'k':
      case 'K':
        scale = 1024.0;
        break;
      case 'm':
      case 'M':
        scale = 1024.0 * 1024;
        break;
      case 'g':
      case 'G':
        scale = 1024.0 * 1024 * 1024;
        break;
      case 't':
      case 'T':
        scale = 1024.0 * 1024 * 1024 * 1024;
        break;
      default:
        return std::nullopt;
    }
  } else if (!suffix.empty()) {
    return std::nullopt;
  }
  const double bytes = value * scale;
  if (!std::isfinite(bytes) || bytes < 1.0 || bytes > 1.8e19) return std::nullopt;
  return static_cast<std::uint64_t>(bytes);
}

}  // namespace geotps
