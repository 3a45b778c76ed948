// The processes of one job under MPI (`mpirun -np N geotps run|compare`, docs/mpi.md): a small
// facade over the few MPI calls GeoTPS makes, so that the pipelines read the same with and without
// MPI. MPI is started only when a launcher (mpirun, srun) started this process (its environment
// has OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK), or when GEOTPS_MPI=1 asks for it; GEOTPS_MPI=0
// keeps it off. Without MPI (a build with GEOTPS_WITH_MPI OFF, a plain `geotps run`) there is one
// rank, every call below is a no-op or a copy, and the pipelines take the single-process path.
//
// Failures: work that may fail on some ranks runs in collectively(); when a rank throws there,
// every rank learns it at the end of that step (one MPI_Allreduce), the lowest failing rank's
// message is sent to all, and every rank throws RankFailure (the failing rank 0 rethrows its own
// exception), so that rank 0 unwinds normally (its temporary files removed) and reports
// `rank R of N: reason`. A rank that fails outside such a step calls abort() (MPI_Abort).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace geotps {

/// A failure of another rank (or of this one, seen by all): `rank R of N: reason`. exitCode() is
/// the failing rank's exit code (2 configuration, 3 HDF5, 1 other), configuration() whether it was
/// a configuration error.
class RankFailure : public std::runtime_error {
 public:
  RankFailure(const std::string& message, int exitCode)
      : std::runtime_error(message), exitCode_(exitCode) {}
  int exitCode() const { return exitCode_; }
  bool configuration() const { return exitCode_ == 2; }

 private:
  int exitCode_;
};

class Ranks {
 public:
  /// The process's ranks (started by startRanks(); one rank before or without it).
  static Ranks& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  /// More than one rank: the pipelines share their work.
  bool parallel() const { return size_ > 1; }
  /// Whether MPI was started (under a launcher, or forced by GEOTPS_MPI=1), with any number of ranks.
  bool mpi() const { return mpi_; }
  /// The rank among the ranks on this node (0 without MPI).
  int nodeLocalRank() const { return localRank_; }
  /// "rank R of N".
  std::string label() const;

  void barrier() const;
  /// Rank 0's `bytes` on every rank.
  void broadcast(std::string& bytes) const;
  void broadcast(std::vector<double>& values) const;
  void broadcast(std::vector<std::int64_t>& values) const;
  void broadcast(std::int64_t& value) const;
  /// Every rank's `bytes`, on rank 0 in rank order (other ranks get an empty vector).
  std::vector<std::string> gather(const std::string& bytes) const;

  /// Runs `work` on this rank; then every rank learns whether any rank threw. When one did, every
  /// rank throws: the lowest failing rank's own exception there when it is rank 0 (or when
  /// there is one rank), RankFailure("rank R of N: reason", code) elsewhere (setDescribe() says
  /// how an exception becomes that code and reason).
  void collectively(const std::function<void()>& work) const;

  /// Whether the last failure this rank threw from collectively() is known to every rank (then a
  /// rank exits normally; otherwise it must abort the job).
  bool failureShared() const { return failureShared_; }
  /// Ends the job on every rank at once (MPI_Abort with `code`); without MPI, std::exit(code).
  [[noreturn]] void abort(int code) const;

  /// How collectively() reports an exception to the other ranks: (exit code, message without
  /// the "geotps: " prefix). Set by the command line (app/main.cpp); the default gives (1, what()).
  using Describe = std::function<std::pair<int, std::string>(const std::exception&)>;
  static void setDescribe(Describe describe);

 private:
  friend class RanksSession;
  int rank_ = 0, size_ = 1, localRank_ = 0;
  bool mpi_ = false;
  mutable bool failureShared_ = false;
};

/// Starts MPI for this process when it was launched by an MPI launcher (or GEOTPS_MPI=1) and
/// finalises it when destroyed. One per process, in main().
class RanksSession {
 public:
  RanksSession(int& argc, char**& argv);
  ~RanksSession();
  RanksSession(const RanksSession&) = delete;
  RanksSession& operator=(const RanksSession&) = delete;
};

/// Whether this build has MPI (GEOTPS_WITH_MPI).
bool builtWithMpi();

}  // namespace geotps
