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
#pragma once

namespace geotps {

void faultInjectionPoint(const char* stage, int index);

}  // namespace geotps
