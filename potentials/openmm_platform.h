// Choosing an OpenMM Platform (Reference, CPU, OpenCL, CUDA) by name or by measuring which is
// fastest for a given System, and the per-platform Context properties GeoTPS uses. Loads OpenMM's
// plugins once per process and keeps the load failures so errors can say why a platform is missing.
#pragma once

#include <openmm/Vec3.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace OpenMM {
class System;
class Platform;
}  // namespace OpenMM

namespace geotps {

/// A requested OpenMM platform does not exist here, or none of the platforms could run the System.
/// The message lists the available platforms and the plugin load failures.
class PlatformError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Loads every plugin in OpenMM::Platform::getDefaultPluginsDirectory() (the environment variable
/// OPENMM_PLUGIN_DIR overrides it) exactly once per process; thread-safe, cheap after the first
/// call. Failures are remembered (see pluginLoadFailures()); they are not errors by themselves (the
/// CUDA plugin fails on machines without CUDA).
void loadOpenMMPlugins();

/// Names of the registered platforms (plugins loaded first), each once, e.g. {"Reference", "CPU"}.
std::vector<std::string> availablePlatforms();

/// Messages of the plugins that failed to load in loadOpenMMPlugins(), e.g. a missing libcuda.
std::vector<std::string> pluginLoadFailures();

/// Context properties GeoTPS uses on `platformName`.
///
/// CUDA and OpenCL: {"Precision": precision}, precision one of "single", "mixed", "double"
/// (empty = the platform's default). CPU: {"Threads": "1"}: parallelism comes from GeoTPS's own
/// walker threads, one Context each; the CPU platform computes in single precision with
/// double accumulation whatever `precision` says. Reference: empty (always double precision).
/// Throws PlatformError for a precision other than "", "single", "mixed" or "double".
std::map<std::string, std::string> platformProperties(const std::string& platformName,
                                                      const std::string& precision);

/// Returns the platform called `name`, one of "CUDA", "OpenCL", "CPU", "Reference" (case is
/// ignored) or "auto".
///
/// "auto" measures: for every available platform it creates a Context of `system` (with
/// platformProperties(platform, precision)) and a LangevinMiddleIntegrator (300 K, 1/ps,
/// 0.002 ps) at `positions` (in nm, one per particle), runs 10 warm-up steps, times 150 steps and
/// picks the fastest. A platform whose Context cannot be created (e.g. OpenCL without a device) or
/// whose steps throw is skipped, and why is noted. OpenCL run by POCL (an OpenCL implementation on
/// the host CPU) is never chosen by "auto": it is slower than the CPU platform on a quiet machine,
/// its timing depends on the machine's load, and it would switch sampler.walkers auto to the
/// batched scheme; name "OpenCL" to use it. When `report` is not null it receives one line
/// per platform with the time in us/step (or the reason it was skipped) and the choice; for a
/// named platform it receives a one-line note.
///
/// Throws PlatformError, listing the available platforms and the plugin load failures, for an
/// unknown or unavailable name, or when "auto" finds no platform that can run the System; throws
/// std::invalid_argument when "auto" gets a number of positions different from the particles.
OpenMM::Platform& choosePlatform(const std::string& name, const OpenMM::System& system,
                                 const std::vector<OpenMM::Vec3>& positions, std::string* report,
                                 const std::string& precision = "");

}  // namespace geotps
