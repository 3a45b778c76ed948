#include "engine/core/ranks.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <thread>
#include <tuple>
#include <utility>

#if GEOTPS_WITH_MPI
// The C API only (Open MPI's and MPICH's mpi.h otherwise pull in the deprecated C++ bindings,
// which need another library).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace geotps {

namespace {

Ranks::Describe& describeFunction() {
  static Ranks::Describe d = [](const std::exception& e) {
    return std::pair<int, std::string>(1, e.what());
  };
  return d;
}

#if GEOTPS_WITH_MPI
/// Messages are sent in pieces of at most 1 GiB (MPI counts are int).
constexpr std::int64_t kPiece = std::int64_t{1} << 30;

/// Whether this process should start MPI: GEOTPS_MPI=0/1 decides; otherwise whether an MPI
/// launcher started it (Open MPI's mpirun, or a PMI/PMIx launcher such as Slurm's srun or MPICH's
/// hydra).
bool launchedByMpi() {
  if (const char* force = std::getenv("GEOTPS_MPI")) {
    const std::string f = force;
    if (f == "0") return false;
    if (f == "1") return true;
  }
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    if (std::getenv(name)) return true;
  }
  return false;
}

void sendBytes(const char* data, std::int64_t n, int to, int tag) {
  for (std::int64_t at = 0; at < n; at += kPiece) {
    const int count = static_cast<int>(std::min(kPiece, n - at));
    MPI_Send(data + at, count, MPI_BYTE, to, tag, MPI_COMM_WORLD);
  }
}

void receiveBytes(char* data, std::int64_t n, int from, int tag) {
  for (std::int64_t at = 0; at < n; at += kPiece) {
    const int count = static_cast<int>(std::min(kPiece, n - at));
    MPI_Recv(data + at, count, MPI_BYTE, from, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  }
}

void broadcastRaw(char* data, std::int64_t n, int from) {
  for (std::int64_t at = 0; at < n; at += kPiece) {
    const int count = static_cast<int>(std::min(kPiece, n - at));
    MPI_Bcast(data + at, count, MPI_BYTE, from, MPI_COMM_WORLD);
  }
}

/// Waits for `request` with short sleeps instead of MPI's busy polling: a rank waiting for rank 0
/// (its geodesic, a compare method only rank 0 runs) then leaves its core to the threads that work
/// there. The sleeps grow from 0.1 ms to 5 ms, so a step that ends soon is noticed soon.
void waitWithoutSpinning(MPI_Request& request) {
  int done = 0;
  auto pause = std::chrono::microseconds(100);
  for (;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(5000));
  }
}

void broadcastString(std::string& bytes, int from, bool mpi) {
  if (!mpi) return;
  std::int64_t n = static_cast<std::int64_t>(bytes.size());
  MPI_Bcast(&n, 1, MPI_INT64_T, from, MPI_COMM_WORLD);
  bytes.resize(static_cast<std::size_t>(n));
  broadcastRaw(bytes.data(), n, from);
}

/// Rank 0's `values` (numbers, sent as their bytes) on every rank.
template <class T>
void broadcastValues(std::vector<T>& values, bool mpi) {
  if (!mpi) return;
  std::int64_t n = static_cast<std::int64_t>(values.size());
  MPI_Bcast(&n, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  values.resize(static_cast<std::size_t>(n));
  broadcastRaw(reinterpret_cast<char*>(values.data()), n * static_cast<std::int64_t>(sizeof(T)),
               0);
}
#endif

}  // namespace

Ranks& Ranks::world() {
  static Ranks ranks;
  return ranks;
}

std::string Ranks::label() const { return fmt::format("rank {} of {}", rank_, size_); }

void Ranks::setDescribe(Describe describe) { describeFunction() = std::move(describe); }

void Ranks::barrier() const {
#if GEOTPS_WITH_MPI
  if (mpi_) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void Ranks::broadcast(std::string& bytes) const {
#if GEOTPS_WITH_MPI
  broadcastString(bytes, 0, mpi_);
#else
  (void)bytes;
#endif
}

void Ranks::broadcast(std::vector<double>& values) const {
#if GEOTPS_WITH_MPI
  broadcastValues(values, mpi_);
#else
  (void)values;
#endif
}

void Ranks::broadcast(std::vector<std::int64_t>& values) const {
#if GEOTPS_WITH_MPI
  broadcastValues(values, mpi_);
#else
  (void)values;
#endif
}

void Ranks::broadcast(std::int64_t& value) const {
#if GEOTPS_WITH_MPI
  if (mpi_) MPI_Bcast(&value, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
#else
  (void)value;
#endif
}

std::vector<std::string> Ranks::gather(const std::string& bytes) const {
  std::vector<std::string> all;
#if GEOTPS_WITH_MPI
  if (mpi_) {
    constexpr int kTag = 2201;
    std::int64_t n = static_cast<std::int64_t>(bytes.size());
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(size_));
    MPI_Gather(&n, 1, MPI_INT64_T, sizes.data(), 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
    if (rank_ == 0) {
      all.resize(static_cast<std::size_t>(size_));
      all[0] = bytes;
      for (int r = 1; r < size_; ++r) {
        std::string& b = all[static_cast<std::size_t>(r)];
        b.resize(static_cast<std::size_t>(sizes[static_cast<std::size_t>(r)]));
        receiveBytes(b.data(), sizes[static_cast<std::size_t>(r)], r, kTag);
      }
    } else {
      sendBytes(bytes.data(), n, 0, kTag);
    }
    return all;
  }
#endif
  all.push_back(bytes);
  return all;
}

void Ranks::collectively(const std::function<void()>& work) const {
  failureShared_ = false;
  std::exception_ptr error;
  int code = 0;
  std::string message;
  try {
    work();
  } catch (const std::exception& e) {
    error = std::current_exception();
    std::tie(code, message) = describeFunction()(e);
  } catch (...) {
    error = std::current_exception();
    code = 1;
    message = "unknown error";
  }
#if GEOTPS_WITH_MPI
  if (mpi_ && size_ > 1) {
    int mine = error ? rank_ : size_, first = size_;
    MPI_Request request;
    MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &request);
    waitWithoutSpinning(request);
    if (first == size_) return;
    std::int64_t c = code;
    MPI_Bcast(&c, 1, MPI_INT64_T, first, MPI_COMM_WORLD);
    broadcastString(message, first, true);
    failureShared_ = true;
    if (rank_ == 0 && first == 0) std::rethrow_exception(error);
    throw RankFailure(fmt::format("rank {} of {}: {}", first, size_, message), static_cast<int>(c));
  }
#endif
  if (error) {
    failureShared_ = true;
    std::rethrow_exception(error);
  }
}

void Ranks::abort(int code) const {
#if GEOTPS_WITH_MPI
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

RanksSession::RanksSession(int& argc, char**& argv) {
#if GEOTPS_WITH_MPI
  if (!launchedByMpi()) return;
  int provided = 0;
  // Only the main thread calls MPI (the worker threads of the sampler and the chains never do).
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  Ranks& r = Ranks::world();
  r.mpi_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &r.rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &r.size_);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, r.rank_, MPI_INFO_NULL, &local);
  MPI_Comm_rank(local, &r.localRank_);
  MPI_Comm_free(&local);
#else
  (void)argc;
  (void)argv;
#endif
}

RanksSession::~RanksSession() {
#if GEOTPS_WITH_MPI
  Ranks& r = Ranks::world();
  if (r.mpi_) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) {
      // The ranks done first wait here for rank 0 (writing the file, a method only it runs)
      // without taking a core from it; then MPI_Finalize, whose own barrier would spin.
      MPI_Request request;
      MPI_Ibarrier(MPI_COMM_WORLD, &request);
      waitWithoutSpinning(request);
      MPI_Finalize();
    }
  }
#endif
}

bool builtWithMpi() {
#if GEOTPS_WITH_MPI
  return true;
#else
  return false;
#endif
}

}  // namespace geotps
