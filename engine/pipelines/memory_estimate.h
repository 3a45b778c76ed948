// The memory a job will need, estimated from its settings before any large allocation, so that
// a size key set too high (sampler.n_paths: 1e7, sampler.steps_per_point: 2e9, ...) is refused
// with the keys and the estimate instead of ending in std::bad_alloc or the kernel's OOM killer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/pipelines/job_settings.h"

namespace geotps {

/// One large array of a job: what it is, the keys that size it, and its bytes.
struct MemoryItem {
  std::string what;
  std::string keys;
  double bytes = 0.0;
};

struct MemoryEstimate {
  std::vector<MemoryItem> items;
  double total() const;
};

/// The large arrays of `geotps run` (paths' frames, energies and CVs, the quadrature grid, the
/// curve). `nAtoms` is the molecule's atom count (0 for a 2D job).
MemoryEstimate estimateRunMemory(const JobSettings& settings, int nAtoms);

/// The large arrays of `geotps compare` beyond its geodesic run (which estimateRunMemory covers):
/// the MCMC chains' paths and stored frames, Doob's paths, the compare's copies of the geodesic
/// run's per-frame CVs.
MemoryEstimate estimateCompareMemory(const JobSettings& settings, int nAtoms);

/// The machine's physical memory in bytes (0 when unknown).
std::uint64_t physicalMemoryBytes();

/// `limit` (bytes; --max-memory) or, when absent, the machine's physical memory.
std::uint64_t memoryLimit(const std::optional<std::uint64_t>& limit);

/// Throws ConfigError naming `source`, the estimate, its largest items with their keys, and the
/// limit when estimate.total() exceeds `limit`.
void enforceMemoryLimit(const MemoryEstimate& estimate, std::uint64_t limit,
                        const std::string& source, const std::string& command);

/// "1.5 GB"-style text of a byte count (powers of 1024: KiB, MiB, GiB, TiB).
std::string bytesText(double bytes);

/// Parses a --max-memory value: a number of bytes with an optional suffix K, M, G or T (powers of
/// 1024, e.g. "24G", "512M", "1.5T"); nullopt when it is not one.
std::optional<std::uint64_t> parseByteSize(const std::string& text);

}  // namespace geotps
