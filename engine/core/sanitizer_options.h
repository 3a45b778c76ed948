// Default options of the sanitizers in a -DGEOTPS_SANITIZE=ON build: every ASan or UBSan report
// ends the process with an error (so a test fails on it), and leaks that third-party libraries keep
// until exit on purpose (OpenMM's plugin registry, the OpenCL ICD loader and POCL's device state,
// Open MPI's start-up) are not reported; GeoTPS's own allocations are. Open MPI's leaks are
// recognised only in full stacks: a process started by mpirun needs
// ASAN_OPTIONS=fast_unwind_on_malloc=0 (tests/test_mpi.cpp sets it), since the fast unwinder stops
// inside Open MPI's components. Include this header in exactly one source file of
// each executable (app/main.cpp, tests/test_sanitizer_options.cpp, tests/tools/h5_edit.cpp): the
// sanitizer runtimes look the functions up by name at start-up. Empty in other builds.
#pragma once

#if defined(GEOTPS_SANITIZE)
extern "C" {
const char* __asan_default_options() { return "detect_leaks=1:abort_on_error=1"; }
const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }
const char* __lsan_default_suppressions() {
  return "leak:libOpenMM\nleak:libOpenCL\nleak:libpocl\nleak:libhwloc\nleak:libLLVM\n"
         "leak:libmpi.so\nleak:libopen-rte\nleak:libopen-pal\nleak:libpmix\nleak:libevent\n";
}
}
#endif
