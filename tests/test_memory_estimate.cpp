// The up-front memory estimate (engine/pipelines/memory_estimate.h): sizes against hand-computed
// byte counts, the refusal message naming keys and the limit, and --max-memory's size syntax.
#include <gtest/gtest.h>

#include <string>

#include "engine/config/config.h"
#include "engine/pipelines/memory_estimate.h"
#include "tests/test_support.h"

#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "missing \"" << (part) << "\" in: " << (text)

namespace geotps {
namespace {

JobSettings settingsOf(const std::string& yaml) {
  return readJobSettings(Config::parse(yaml, "job.yaml", "/base"));
}

const std::string k2D =
    "states:\n  a: [-2.55, 2.7]\n  b: [0.95, -0.4]\nsampler:\n  n_paths: 1000\n  "
    "steps_per_point: 100\ngeodesic:\n  n_points: 50\noutput:\n  frame_stride: 7\n"
    "denoiser:\n  grid_size: [64, 32]\n";

double item(const MemoryEstimate& e, const std::string& prefix) {
  for (const auto& i : e.items)
    if (i.what.rfind(prefix, 0) == 0) return i.bytes;
  ADD_FAILURE() << "no item " << prefix;
  return 0.0;
}

TEST(MemoryEstimate, TwoDimensionalFramesAndGrid) {
  const MemoryEstimate e = estimateRunMemory(settingsOf(k2D), 0);
  // 1000 paths x floor(50 * 100 / 7) = 714 stored frames x 2 coordinates x 4 bytes
  EXPECT_DOUBLE_EQ(item(e, "stored frames"), 1000.0 * 714 * 2 * 4);
  EXPECT_DOUBLE_EQ(item(e, "quadrature grid"), 64.0 * 32 * 64);
  EXPECT_GT(e.total(), item(e, "stored frames") + item(e, "quadrature grid"));
}

TEST(MemoryEstimate, FullAtomFramesEnergiesAndCVs) {
  const MemoryEstimate e = estimateRunMemory(settingsOf(k2D + "potential:\n  type: openmm\n"), 22);
  EXPECT_DOUBLE_EQ(item(e, "stored full-atom frames"), 1000.0 * 714 * 22 * 3 * 4);
  EXPECT_DOUBLE_EQ(item(e, "per-frame energy"), 1000.0 * 5000 * 12);
}

TEST(MemoryEstimate, NoQuadratureGridBeyondItsLimit) {
  // D = 4: the quadrature is not built (D <= 3), so its grid is not counted.
  const MemoryEstimate e = estimateRunMemory(
      settingsOf("states:\n  a: [0, 0, 0, 0]\n  b: [1, 1, 1, 1]\ndenoiser:\n  type: torch\n  "
                 "grid_size: [32, 32, 32, 32]\n"),
      0);
  for (const auto& i : e.items) EXPECT_EQ(i.what.find("quadrature grid"), std::string::npos);
  // D = 3 within the limit: 32^3 points x 64 bytes.
  const MemoryEstimate e3 = estimateRunMemory(
      settingsOf("states:\n  a: [0, 0, 0]\n  b: [1, 1, 1]\ndenoiser:\n  grid_size: [32, 32, 32]\n"),
      0);
  EXPECT_DOUBLE_EQ(item(e3, "quadrature grid"), 32.0 * 32 * 32 * 64);
}

TEST(MemoryEstimate, FullAtomPerFrameCVsScaleWithTheirNumber) {
  // Six CVs: energy + 6 CVs = 7 float32 per frame, 1000 paths x 50 x 100 frames.
  const MemoryEstimate e = estimateRunMemory(
      settingsOf("potential:\n  type: openmm\nstates:\n  a: [0, 0, 0, 0, 0, 0]\n  b: [1, 1, 1, 1, "
                 "1, 1]\nsampler:\n  n_paths: 1000\n  steps_per_point: 100\ngeodesic:\n  "
                 "n_points: 50\n"),
      42);
  EXPECT_DOUBLE_EQ(item(e, "per-frame energy"), 1000.0 * 5000 * 7 * 4);
}

TEST(MemoryEstimate, NoFramesWithStrideZero) {
  const MemoryEstimate e = estimateRunMemory(
      settingsOf("states:\n  a: [0, 0]\n  b: [1, 1]\noutput:\n  frame_stride: 0\n"), 0);
  for (const auto& i : e.items) EXPECT_EQ(i.what.find("stored frames"), std::string::npos);
}

TEST(MemoryEstimate, RefusalNamesKeysEstimateAndLimit) {
  const MemoryEstimate e = estimateRunMemory(settingsOf(k2D + "potential:\n  type: openmm\n"), 22);
  try {
    enforceMemoryLimit(e, 1 << 20, "job.yaml", "run");
    FAIL() << "no refusal";
  } catch (const ConfigError& err) {
    const std::string m = err.what();
    EXPECT_CONTAINS(m, "job.yaml");
    EXPECT_CONTAINS(m, "1.0 MiB");
    EXPECT_CONTAINS(m, "sampler.n_paths");
    EXPECT_CONTAINS(m, "output.frame_stride");
    EXPECT_CONTAINS(m, "--max-memory");
  }
  EXPECT_NO_THROW(
      enforceMemoryLimit(e, static_cast<std::uint64_t>(e.total()) + 1, "job.yaml", "run"));
}

TEST(MemoryEstimate, ByteSizes) {
  EXPECT_EQ(parseByteSize("512"), 512u);
  EXPECT_EQ(parseByteSize("24G"), 24ull << 30);
  EXPECT_EQ(parseByteSize("24GiB"), 24ull << 30);
  EXPECT_EQ(parseByteSize("512M"), 512ull << 20);
  EXPECT_EQ(parseByteSize("1.5T"), 3ull << 39);
  EXPECT_EQ(parseByteSize("2k"), 2048u);
  for (const char* bad : {"", "G", "12Q", "-1G", "0", "nan", "1e30T", "5 G"})
    EXPECT_FALSE(parseByteSize(bad).has_value()) << bad;
  EXPECT_GT(physicalMemoryBytes(), 0u);
  EXPECT_EQ(memoryLimit(std::uint64_t{123}), 123u);
  EXPECT_EQ(memoryLimit(std::nullopt), physicalMemoryBytes());
}

}  // namespace
}  // namespace geotps
