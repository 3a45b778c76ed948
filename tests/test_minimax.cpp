// Tests for the minimax (bottleneck) barrier: hand-built grids with known answers, path
// connectivity under periodic wrapping, and the alanine dipeptide reference barrier (README).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "engine/metrics/minimax.h"

namespace geotps {
namespace {

Grid2D makeGrid(int nx, int ny, double fill) {
  Grid2D g;
  g.nx = nx;
  g.ny = ny;
  g.x0 = g.y0 = 0.0;
  g.hx = g.hy = 1.0;
  g.values.assign(static_cast<std::size_t>(nx) * ny, fill);
  return g;
}
void set(Grid2D& g, int i, int j, double v) {
  g.values[static_cast<std::size_t>(j) * g.nx + i] = v;
}

// Periodic neighbour test: |di|, |dj| <= 1 after wrapping, and for 4-connectivity not diagonal.
bool neighbours(const Grid2D& g, std::pair<int, int> p, std::pair<int, int> q, int connectivity) {
  auto wrapDelta = [](int d, int n) {
    d = std::abs(d) % n;
    return std::min(d, n - d);
  };
  const int di = wrapDelta(p.first - q.first, g.nx), dj = wrapDelta(p.second - q.second, g.ny);
  if (di > 1 || dj > 1 || (di == 0 && dj == 0)) return false;
  return connectivity == 8 || di + dj == 1;
}

void checkPath(const Grid2D& g, const MinimaxResult& r, std::pair<int, int> from,
               std::pair<int, int> to, int connectivity) {
  ASSERT_FALSE(r.path.empty());
  EXPECT_EQ(r.path.front(), from);
  EXPECT_EQ(r.path.back(), to);
  double maxU = -1e300;
  for (std::size_t k = 0; k < r.path.size(); ++k) {
    maxU = std::max(maxU, g.value(r.path[k].first, r.path[k].second));
    if (k > 0) {
      EXPECT_TRUE(neighbours(g, r.path[k - 1], r.path[k], connectivity))
          << "step " << k << ": (" << r.path[k - 1].first << "," << r.path[k - 1].second << ") -> ("
          << r.path[k].first << "," << r.path[k].second << ")";
    }
  }
  EXPECT_DOUBLE_EQ(maxU, r.barrier);
}

// 5 x 5 periodic grid: a wall at column i = 2 (U = 10) with one gap at j = 3 (U = 3), and a solid
// wall at column i = 4 (U = 20) so that the wrap-around route is worse. Floor U = 0..1.
Grid2D wallGrid() {
  Grid2D g = makeGrid(5, 5, 0.5);
  for (int j = 0; j < 5; ++j) {
    set(g, 2, j, 10.0);
    set(g, 4, j, 20.0);
  }
  set(g, 2, 3, 3.0);
  set(g, 0, 0, 0.0);
  set(g, 3, 0, 1.0);
  return g;
}

TEST(Minimax, WallWithOneGap) {
  const Grid2D g = wallGrid();
  const double a[2] = {0.1, -0.2}, b[2] = {3.2, 0.3};  // nearest points (0, 0) and (3, 0)
  for (int conn : {4, 8}) {
    const MinimaxResult r = minimaxBarrier(g, a, b, conn);
    EXPECT_DOUBLE_EQ(r.barrier, 3.0) << conn;
    checkPath(g, r, {0, 0}, {3, 0}, conn);
    // The only way across the walls below U = 10 is the gap.
    EXPECT_NE(std::find(r.path.begin(), r.path.end(), std::make_pair(2, 3)), r.path.end());
  }
  // Closing the gap: the cheapest crossing is now the wall at U = 10.
  Grid2D closed = g;
  set(closed, 2, 3, 10.0);
  EXPECT_DOUBLE_EQ(minimaxBarrier(closed, a, b, 8).barrier, 10.0);
  // Raising the wall above the other one: the wrap-around route through U = 20 wins.
  for (int j = 0; j < 5; ++j) set(closed, 2, j, 30.0);
  const MinimaxResult r = minimaxBarrier(closed, a, b, 4);
  EXPECT_DOUBLE_EQ(r.barrier, 20.0);
  checkPath(closed, r, {0, 0}, {3, 0}, 4);
}

TEST(Minimax, BarrierIncludesEndPoints) {
  Grid2D g = makeGrid(6, 6, 1.0);
  set(g, 0, 0, 7.0);  // start is the highest point on any path
  const double a[2] = {0.0, 0.0}, b[2] = {3.0, 3.0};
  EXPECT_DOUBLE_EQ(minimaxBarrier(g, a, b).barrier, 7.0);
  set(g, 0, 0, 1.0);
  set(g, 3, 3, 8.0);  // now the end point
  EXPECT_DOUBLE_EQ(minimaxBarrier(g, a, b).barrier, 8.0);
  // Same point: the barrier is its value, the path a single point.
  const MinimaxResult same = minimaxBarrier(g, b, b);
  EXPECT_DOUBLE_EQ(same.barrier, 8.0);
  ASSERT_EQ(same.path.size(), 1u);
  EXPECT_EQ(same.path[0], std::make_pair(3, 3));
}

TEST(Minimax, DiagonalGapNeedsEightConnectivity) {
  // A low diagonal channel (0,0) -> (3,3) in a U = 9 sea: passable only diagonally.
  Grid2D g = makeGrid(7, 7, 9.0);
  for (int k = 0; k < 4; ++k) set(g, k, k, 1.0);
  const double a[2] = {0.0, 0.0}, b[2] = {3.0, 3.0};
  const MinimaxResult r8 = minimaxBarrier(g, a, b, 8);
  EXPECT_DOUBLE_EQ(r8.barrier, 1.0);
  checkPath(g, r8, {0, 0}, {3, 3}, 8);
  ASSERT_EQ(r8.path.size(), 4u);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(r8.path[k], std::make_pair(k, k));
  const MinimaxResult r4 = minimaxBarrier(g, a, b, 4);
  EXPECT_DOUBLE_EQ(r4.barrier, 9.0);
  checkPath(g, r4, {0, 0}, {3, 3}, 4);
}

TEST(Minimax, PathWrapsAroundThePeriodicBoundary) {
  // Start at column 1, target at column 5 of 6; the interior columns 2..4 are high, so the path
  // must cross the boundary 1 -> 0 -> 5.
  Grid2D g = makeGrid(6, 3, 0.0);
  for (int i = 2; i <= 4; ++i)
    for (int j = 0; j < 3; ++j) set(g, i, j, 50.0);
  const double a[2] = {1.0, 1.0}, b[2] = {5.0, 1.0};
  const MinimaxResult r = minimaxBarrier(g, a, b, 4);
  EXPECT_DOUBLE_EQ(r.barrier, 0.0);
  checkPath(g, r, {1, 1}, {5, 1}, 4);
  for (const auto& p : r.path) EXPECT_TRUE(p.first <= 1 || p.first == 5) << p.first;
}

TEST(Minimax, RejectsBadConnectivity) {
  const Grid2D g = makeGrid(3, 3, 0.0);
  const double a[2] = {0, 0};
  EXPECT_THROW(minimaxBarrier(g, a, a, 6), std::invalid_argument);
}

TEST(Minimax, AlanineSurfaceReferenceBarrier) {
  // README: minimax barrier between the grid points nearest (-2.55, 2.7) and (0.95, -0.4) on the
  // periodic grid is 36.336 for both 4- and 8-connectivity.
  const Grid2D g =
      readGridFile(std::string(GEOTPS_SOURCE_DIR) + "/data/alanine_dipeptide/phi_psi_surface.dat");
  const double a[2] = {-2.55, 2.7}, b[2] = {0.95, -0.4};
  int ai, aj, bi, bj;
  g.nearest(a[0], a[1], ai, aj);
  g.nearest(b[0], b[1], bi, bj);
  for (int conn : {8, 4}) {
    const MinimaxResult r = minimaxBarrier(g, a, b, conn);
    EXPECT_NEAR(r.barrier, 36.336, 1e-3) << "connectivity " << conn;
    checkPath(g, r, {ai, aj}, {bi, bj}, conn);
  }
}

}  // namespace
}  // namespace geotps
