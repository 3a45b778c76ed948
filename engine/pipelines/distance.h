// `geotps distance`: the Diffusion Edit Distance (docs/method.md, "Diffusion Edit Distance")
// between the two states of a job, or between every pair of a list of points, written as an HDF5
// distance matrix (docs/output.md, "The distance file").
#pragma once

#include <Eigen/Dense>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/pipelines/job_settings.h"

namespace geotps {

/// The points a distance job measures, as read from distance.points (or the states).
struct DistancePoints {
  Eigen::MatrixXd x;  ///< N x D, unit of x, as given (before wrapping into the data box)
  /// Where each point came from: the line (1-based) of a text file, the frame (0-based) of a
  /// result file, 0 and 1 for states.a and states.b.
  std::vector<long long> sourceIndex;
  std::string kind;  ///< "states", "text" or "run_result"
};

/// Reads the points of distance.points (a text file or a `geotps run` result file, every
/// distance.stride-th) or, when it is empty, states.a and states.b; `D` is the job's dimension.
/// Errors name the config, the key, the file and the line (ConfigError).
DistancePoints readDistancePoints(const JobSettings& settings, int D);

struct DistanceSummary {
  std::string outputFile;
  std::string name;
  std::string pointsKind;         ///< DistancePoints::kind
  double lEnd = 0.0;              ///< states.l_end
  std::string denoiser;           ///< the denoiser's name
  Eigen::MatrixXd points;         ///< N x D, the points used (wrapped into the data box)
  Eigen::MatrixXd distance;       ///< N x N DiffED, symmetric, 0 on the diagonal
  Eigen::MatrixXd energy;         ///< N x N geodesic energies
  Eigen::MatrixXd minL;           ///< N x N lowest log-SNR of each geodesic
  long long pairs = 0;            ///< N(N-1)/2 geodesics solved
  long long iterations = 0;       ///< optimiser iterations over all pairs
  long long atMaxIterations = 0;  ///< pairs whose optimiser stopped at geodesic.max_iterations
  int threads = 1;
  double wallSeconds = 0.0;
};

/// Runs `geotps distance`: applies `options` (--out as distance.output, --seed), prints the
/// effective configuration to `log`, solves the N(N-1)/2 geodesics and writes the distance file
/// atomically (nothing is left behind on failure).
DistanceSummary runDistance(Config config, const JobOptions& options, std::FILE* log);

/// Human-readable summary (several lines).
std::string formatDistanceSummary(const DistanceSummary& s);

/// Whether `path` is a file written by `geotps distance` (root attribute file_type "distance").
bool isDistanceFile(const std::string& path);
/// `geotps info` of a distance file: formatDistanceSummary of what it holds, or with `json` one
/// JSON object (name, l_end, denoiser, n_points, n_pairs, distance_min, distance_median,
/// distance_max, iterations_total, pairs_at_max_iterations, wall_seconds).
std::string distanceInfo(const std::string& path, bool json);

}  // namespace geotps
