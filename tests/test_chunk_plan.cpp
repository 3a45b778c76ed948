// The chunks of a run's walkers (ChunkPlan, engine/pipelines/checkpoint.h) and the joining of
// sampled parts (appendWalkers, engine/samplers/sampler.h).
#include <gtest/gtest.h>

#include <vector>

#include "engine/pipelines/checkpoint.h"
#include "engine/samplers/sampler.h"

using namespace geotps;

namespace {

/// The chunks cover walkers 0 .. n-1 once each, in order, none larger than plan.walkers.
void expectPartition(const ChunkPlan& plan) {
  int next = 0;
  for (int c = 0; c < plan.count(); ++c) {
    EXPECT_EQ(plan.first(c), next) << c;
    EXPECT_GE(plan.size(c), 1) << c;
    EXPECT_LE(plan.size(c), plan.walkers) << c;
    next += plan.size(c);
  }
  EXPECT_EQ(next, plan.nPaths);
}

}  // namespace

TEST(ChunkPlan, RequestedSizeIsRoundedUpToTheAlignment) {
  // 24 walkers in 8s: 3 chunks; 25: a fourth chunk of 1.
  ChunkPlan p = ChunkPlan::choose(24, 8, 1, 1);
  EXPECT_EQ(p.walkers, 8);
  EXPECT_EQ(p.count(), 3);
  expectPartition(p);
  p = ChunkPlan::choose(25, 8, 1, 1);
  EXPECT_EQ(p.count(), 4);
  EXPECT_EQ(p.size(3), 1);
  expectPartition(p);
  // 5 requested, batches of 4: 8 per chunk; 20 walkers -> 8, 8, 4.
  p = ChunkPlan::choose(20, 5, 2, 4);
  EXPECT_EQ(p.walkers, 8);
  EXPECT_EQ(p.count(), 3);
  EXPECT_EQ(p.size(2), 4);
  expectPartition(p);
}

TEST(ChunkPlan, AutomaticSizeGivesAboutTwentyChunksOfWholeThreadsAndBatches) {
  // 1000 walkers, 2 threads: ceil(1000 / 20) = 50 (>= 4 per thread), a multiple of 2.
  ChunkPlan p = ChunkPlan::choose(1000, 0, 2, 1);
  EXPECT_EQ(p.walkers, 50);
  EXPECT_EQ(p.count(), 20);
  expectPartition(p);
  // 3 threads, batches of 7: 50 -> 51 (threads) -> 56 (batches); ceil(1000 / 56) = 18 chunks.
  p = ChunkPlan::choose(1000, 0, 3, 7);
  EXPECT_EQ(p.walkers, 56);
  EXPECT_EQ(p.count(), 18);
  EXPECT_EQ(p.size(17), 1000 - 17 * 56);
  expectPartition(p);
  // Fewer walkers than 4 per thread: one chunk of them all.
  p = ChunkPlan::choose(10, 0, 4, 1);
  EXPECT_EQ(p.walkers, 10);
  EXPECT_EQ(p.count(), 1);
  expectPartition(p);
  EXPECT_EQ(ChunkPlan::single(7).count(), 1);
  EXPECT_EQ(ChunkPlan::single(7).size(0), 7);
  EXPECT_EQ(roundUpToMultiple(9, 4), 12);
  EXPECT_EQ(roundUpToMultiple(8, 4), 8);
  EXPECT_EQ(roundUpToMultiple(9, 0), 9);
}

TEST(AppendWalkers, JoinsPartsInOrderAndAllocatesTheFramesOnce) {
  // Three parts of 2, 2 and 1 walkers, 3 stored frames of 2 coordinates each: walker w's values
  // are 100 w + k.
  auto part = [](int first, int count) {
    SamplerResult r;
    r.dimension = 2;
    r.framesPerPath = 3;
    r.storedPerPath = 3;
    r.maxEnergy.resize(count);
    r.maxEnergyNearest.resize(count);
    r.finalPositions.resize(count, 2);
    for (int w = first; w < first + count; ++w) {
      for (int k = 0; k < 6; ++k) r.frames.push_back(static_cast<float>(100 * w + k));
      r.maxEnergy[w - first] = w;
      r.maxEnergyNearest[w - first] = -w;
      r.finalPositions.row(w - first) << w, 2 * w;
    }
    r.energyEvaluations = 10 * count;
    return r;
  };
  SamplerResult all;
  appendWalkers(all, part(0, 2), 5);
  const std::size_t capacity = all.frames.capacity();
  EXPECT_GE(capacity, 5u * 6u);
  appendWalkers(all, part(2, 2), 5);
  appendWalkers(all, part(4, 1), 5);
  EXPECT_EQ(all.frames.capacity(), capacity) << "no reallocation after the first part";
  ASSERT_EQ(all.frames.size(), 30u);
  for (int w = 0; w < 5; ++w) {
    for (int k = 0; k < 6; ++k) EXPECT_EQ(all.frames[6 * w + k], 100.0f * w + k);
    EXPECT_EQ(all.maxEnergy[w], w);
    EXPECT_EQ(all.maxEnergyNearest[w], -w);
    EXPECT_EQ(all.finalPositions(w, 1), 2 * w);
  }
  EXPECT_EQ(all.energyEvaluations, 50);
}
