// `geotps compare`: the spacetime-geodesic method side by side with the baselines (two-way-shooting
// MCMC with fixed and variable path length, Doob's Lagrangian) on one potential, at the budgets
// of the config, as a Markdown table and an HDF5 file (docs/output.md).
#pragma once

#include <Eigen/Dense>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/molecule/molecule.h"
#include "engine/pipelines/job_settings.h"
#include "engine/pipelines/run.h"
#include "engine/problem/problem.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

/// A method's own data for the HDF5 file, written as /methods/<method>/<name>.
struct MethodDataset {
  std::string name;
  std::vector<std::size_t> shape;
  std::vector<double> values;  ///< row-major
  std::string units;
  bool single = false;   ///< store as float32 (large frame arrays)
  bool integer = false;  ///< store as int64 (indices and counts; `values` hold whole numbers)
};

/// One row of the comparison.
struct MethodResult {
  std::string method;  ///< geodesic, mcmc_fixed, mcmc_variable, doob
  std::string label;   ///< human name for the table
  bool ok = false;
  std::string error;  ///< why the method failed (ok == false)
  /// False when the method ran but did not converge (e.g. a training loss still falling): the
  /// table then shows `convergence` instead of its numbers; the data are still stored.
  bool converged = true;
  std::string convergence;      ///< why it is not converged, or how convergence was judged
  Eigen::VectorXd maxEnergy;    ///< per path: the table's MaxEnergy (2D: surface at the nearest
                                ///< grid point; full atom: kJ/mol relative to the lower minimised
                                ///< end state)
  Eigen::VectorXd maxEnergyCV;  ///< full atom: per path, MaxEnergy on the CV surface (kJ/mol)
  Eigen::VectorXd success;      ///< per path: 1 if it ends within metrics.success_radius of B or in MCMC's state B
  /// Full atom: per path, MaxEnergy over its A -> B transition segment (from the last frame in A's
  /// ball before the first frame in B's ball to that frame, balls of mcmc.state_radius), kJ/mol
  /// relative to the lower minimised end state; empty where the method does not give it.
  Eigen::VectorXd maxEnergySegment;
  double meanSegmentFrames = 0.0;  ///< mean length of those segments, frames
  /// Per path, its crossing point: x[1] (psi) where x[0] (phi) crosses compare.crossing_line from
  /// A's side to B's side (last such crossing, from the stored frames); NaN where it does not.
  Eigen::VectorXd crossing;
  double acceptance = -1.0;         ///< MCMC: accepted / trials (-1 otherwise)
  long long trials = 0;             ///< MCMC: shooting trials
  long long energyEvaluations = 0;  ///< energy (and force) evaluations the method spent
  double wallSeconds = 0.0;
  std::string settings;  ///< the budget and settings, for the table's notes
  std::vector<MethodDataset> datasets;
};

class CompareCheckpoint;

/// What every compare method shares: the job's settings, the potential (2D) or the molecule (full
/// atom), the two states and how paths are judged.
struct CompareContext {
  CompareContext(const JobSettings& settings, const Config& record, const JobOptions& options,
                 const std::string& geodesicFile, std::FILE* log);

  const JobSettings& settings;
  const Config& record;  ///< the configuration (the geodesic method runs `geotps run` on it)
  const JobOptions& options;
  std::string geodesicFile;  ///< the geodesic run's result file, as named in the compare file
  /// Where the geodesic run writes it during the compare (temporaryPathFor(geodesicFile)); the MCMC
  /// chains start from it, and it is renamed to geodesicFile only when the compare succeeds.
  std::string geodesicStaged;
  std::FILE* log = nullptr;
  /// The compare's checkpoint (compare_checkpoint.h): the MCMC methods save each finished chain
  /// in it; null: none.
  CompareCheckpoint* checkpoint = nullptr;
  Problem problem;  ///< the job's problem (states.a/b; the baselines use a, b below)
  bool fullAtom = false;
  PotentialPtr potential;  ///< 2D: the job's potential; full atom: the CV surface (in kT)
  const TabulatedSurface* surface = nullptr;
  std::shared_ptr<const FullAtomSetup> molecule;  ///< full atom
  std::string energyUnit;                         ///< of the table's MaxEnergy
  double kT = 1.0;                                ///< 2D: the job's kT; full atom: kJ/mol
  double referenceEnergy = 0.0;  ///< full atom: the lower minimised end state, kJ/mol
  Eigen::VectorXd a, b;  ///< states in x (D values), or the minimised end states' (phi, psi)
  Eigen::VectorXd period = Eigen::VectorXd::Zero(2);  ///< per coordinate, 0 = not periodic
  int dimension = 2;  ///< D, the values per CV frame
  double successRadius = 0.5;
  int threads = 1;
  std::uint64_t seed = 0;

  /// Full atom: the CV surface at the nearest grid point, kJ/mol; NaN without a surface (other
  /// than two CVs).
  double cvEnergy(const Eigen::VectorXd& cv) const;
  /// cvEnergy for the shooting dynamics; empty without a surface.
  std::function<double(const Eigen::VectorXd&)> cvEnergyFunction() const;
  /// The crossing point of a path given by its CV frames (D values each; the crossing is read in
  /// the plane of the first two coordinates, x0 and x1), see MethodResult::crossing.
  double crossing(const std::vector<double>& cvFrames) const;
  double metric2D(const double* x) const;  ///< 2D: the table's energy of a point
  bool succeeded(const Eigen::VectorXd& cv) const;
};

/// A method `geotps compare` can run (compare.methods names it).
struct CompareMethod {
  std::string label;  ///< human name for the table
  /// True when the method starts from a stored path of the geodesic run (which then runs first).
  bool startsFromGeodesicPaths = false;
  std::function<MethodResult(const CompareContext&)> run;
};

/// Adds (or replaces) a compare method. Built in: geodesic, mcmc_fixed, mcmc_variable; doob is
/// registered by registerTorchComponents() in builds with LibTorch.
void registerCompareMethod(const std::string& name, CompareMethod method);

/// The method named `name`; a ConfigError naming compare.methods (and `source`) when this build
/// has no such method.
const CompareMethod& compareMethod(const std::string& name, const std::string& source);

struct CompareSummary {
  std::string name;
  std::string kind;  ///< "2d" or "full_atom"
  std::string energyUnit;
  std::string xUnit;          ///< unit of x (rad in full atom)
  double crossingLine = 0.0;  ///< compare.crossing_line
  double minimaxBound = 0.0;  ///< NaN when not known
  std::vector<MethodResult> methods;
  std::string outputFile, tableFile, geodesicFile;
  std::string command;  ///< the command line, for the table
  double wallSeconds = 0.0;
};

/// Runs the config's compare.methods and writes the HDF5 file and the Markdown table (both
/// atomically). A method that fails is reported in the table and the file with its error, the
/// others are kept; the function then throws after writing, so the command exits non-zero.
/// `options.output` overrides compare.output; `options.seed` the seed.
CompareSummary runCompare(Config config, const JobOptions& options, const std::string& command,
                          std::FILE* log);

/// The Markdown table (with the notes below it).
std::string compareMarkdown(const CompareSummary& s);

/// True when `path` is a result file of `geotps compare` (throws H5Error when it cannot be read).
bool isCompareFile(const std::string& path);

/// `geotps info` of a compare file: its stored table, or with `json` one JSON object (a line)
/// with the file's attributes and each method's statistics (`methods`, in the table's order).
std::string compareInfo(const std::string& path, bool json);

}  // namespace geotps
