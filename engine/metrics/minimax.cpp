// Minimax (bottleneck) barrier on a grid (periodic or not per axis) via a Dijkstra search keyed on
// the running maximum energy; gives the reference barrier against which sampled transition paths
// are judged.
#include "engine/metrics/minimax.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <queue>
#include <stdexcept>

namespace geotps {

MinimaxResult minimaxBarrier(const Grid2D& grid, const double a[2], const double b[2],
                             int connectivity) {
  if (connectivity != 4 && connectivity != 8) {
    throw std::invalid_argument(
        fmt::format("minimaxBarrier: expected connectivity 4 or 8, got {}", connectivity));
  }
  const int nx = grid.nx, ny = grid.ny;
  const std::size_t n = static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny);
  if (nx < 1 || ny < 1 || grid.values.size() != n) {
    throw std::invalid_argument(fmt::format(
        "minimaxBarrier: expected a non-empty grid with nx*ny values, got {} x {} and {} values",
        nx, ny, grid.values.size()));
  }
  int si = 0, sj = 0, ti = 0, tj = 0;
  grid.nearest(a[0], a[1], si, sj);
  grid.nearest(b[0], b[1], ti, tj);
  const int start = sj * nx + si, target = tj * nx + ti;

  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> best(n, kInf);  // smallest known max-U to reach each point
  std::vector<int> prev(n, -1);
  std::vector<char> done(n, 0);
  using Item = std::pair<double, int>;  // (max U so far, point index)
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
  best[start] = grid.values[start];
  queue.push({best[start], start});

  static constexpr int kDi[8] = {1, -1, 0, 0, 1, 1, -1, -1};
  static constexpr int kDj[8] = {0, 0, 1, -1, 1, -1, 1, -1};
  while (!queue.empty()) {
    const auto [cost, p] = queue.top();
    queue.pop();
    if (done[p]) continue;
    done[p] = 1;
    if (p == target) break;
    const int pi = p % nx, pj = p / nx;
    for (int k = 0; k < connectivity; ++k) {
      int qi = pi + kDi[k], qj = pj + kDj[k];
      if (grid.periodicX) {
        qi = (qi + nx) % nx;
      } else if (qi < 0 || qi >= nx) {
        continue;  // no neighbour beyond the end of a non-periodic axis
      }
      if (grid.periodicY) {
        qj = (qj + ny) % ny;
      } else if (qj < 0 || qj >= ny) {
        continue;
      }
      const int q = qj * nx + qi;
      if (done[q]) continue;
      const double c = std::max(cost, grid.values[q]);
      if (c < best[q]) {
        best[q] = c;
        prev[q] = p;
        queue.push({c, q});
      }
    }
  }

  MinimaxResult result;
  result.barrier = best[target];
  for (int p = target; p != -1; p = prev[p]) result.path.emplace_back(p % nx, p / nx);
  std::reverse(result.path.begin(), result.path.end());
  return result;
}

}  // namespace geotps
