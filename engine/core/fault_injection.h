// A testing hook for the checkpoint tests (tests/test_resume.cpp): a process whose environment has
// GEOTPS_FAULT_KILL=<stage>:<index> kills itself with SIGKILL (no handler, no cleanup, as a lost
// node or the OOM killer would) when it reaches that point. Points of `geotps run`: "sampling:0"
// (the geodesic done and the checkpoint started, no walker saved), "chunk:<c>" (chunk c saved),
// "output:0" (the result file written under its temporary name, not yet renamed). Points of
// `geotps compare`: those of its geodesic run, "chain:<c>" (MCMC chain c done and saved),
// "method:<i>" (the i-th method run, the geodesic first, done and saved in the checkpoint) and
// "compare:0" (the compare file written under its temporary name, not yet renamed). Points of
// `geotps distance`: "block:<b>" (block b of pairs saved) and "output:0" (the distance file
// written under its temporary name).
// GEOTPS_FAULT_THROW_RANK=<rank>[:<n>] (the MPI failure test, tests/test_mpi.cpp): the process of
// that MPI rank throws an ordinary error (as a failed device or a full memory would) when it starts
// the n-th (0-based, default 0) piece of work it was given: a chunk of walkers of `geotps run`, an
// MCMC chain of `geotps compare`.
#pragma once

namespace geotps {

void faultInjectionPoint(const char* stage, int index);
/// Throws std::runtime_error when GEOTPS_FAULT_THROW_RANK names this rank and `ordinal` (the
/// rank's own count of pieces of work started, from 0).
void faultThrowPoint(int ordinal);

}  // namespace geotps
