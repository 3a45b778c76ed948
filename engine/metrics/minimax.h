// Minimax (bottleneck) barrier on a grid (periodic per Grid2D::periodicX/Y): the lowest possible
// maximum energy along any grid path between two points. The reference number that sampled
// transition paths' MaxEnergy is compared with (e.g. 36.336 kT on the alanine dipeptide surface).
#pragma once

#include <utility>
#include <vector>

#include "potentials/tabulated_surface.h"

namespace geotps {

/// Result of minimaxBarrier.
struct MinimaxResult {
  /// Smallest achievable max U along a grid path, end points included; in the grid's energy unit
  /// (kT for the alanine surface).
  double barrier = 0.0;
  /// One optimal path as grid indices (i, j), from the point nearest `a` to the point nearest `b`;
  /// consecutive entries are neighbours on the grid (wrapping along periodic axes only).
  std::vector<std::pair<int, int>> path;
};

/// Bottleneck path on the grid between the grid points nearest to `a` and `b` (Grid2D::nearest;
/// coordinates in the grid's unit, rad for the alanine surface). Neighbours wrap around a periodic
/// axis and stop at the ends of a non-periodic one. A Dijkstra search whose
/// priority is the maximum U seen so far. `connectivity` is 4 (axis neighbours) or 8 (also
/// diagonals); anything else throws std::invalid_argument.
MinimaxResult minimaxBarrier(const Grid2D& grid, const double a[2], const double b[2],
                             int connectivity = 8);

}  // namespace geotps
