// Platform choice for the OpenMM back end: plugin loading, availability errors and the "auto"
// timing of each platform.
#include "potentials/openmm_platform.h"

#include <OpenMM.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>

namespace geotps {
namespace {

std::once_flag pluginsOnce;
std::vector<std::string> pluginFailures;  // written once inside call_once, read-only afterwards
std::string pluginDirectory;

const std::vector<std::string>& knownPlatformNames() {
  static const std::vector<std::string> names = {"CUDA", "OpenCL", "CPU", "Reference"};
  return names;
}

std::string toLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string joined(const std::vector<std::string>& items, const std::string& empty) {
  if (items.empty()) return empty;
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// What a user needs to act on a missing platform.
std::string availabilityNote() {
  return "Available platforms: " + joined(availablePlatforms(), "(none)") +
         ". Plugin load failures: " + joined(pluginLoadFailures(), "none") +
         ". Plugins are loaded from '" + pluginDirectory +
         "' (set OPENMM_PLUGIN_DIR to use another folder).";
}

bool isAvailable(const std::string& name) {
  const auto names = availablePlatforms();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The OpenCL platform name of POCL (Portable Computing Language), which runs OpenCL kernels on the
// host CPU.
constexpr const char* kPoclPlatformName = "Portable Computing Language";

// Time per LangevinMiddle step in microseconds; throws whatever OpenMM throws, and PoclSkipped
// when the OpenCL platform's Context runs on POCL.
struct PoclSkipped : std::runtime_error {
  using std::runtime_error::runtime_error;
};
double timeSteps(const OpenMM::System& system, const std::vector<OpenMM::Vec3>& positions,
                 OpenMM::Platform& platform, const std::string& precision) {
  constexpr int kWarmUpSteps = 10;
  constexpr int kTimedSteps = 150;
  OpenMM::LangevinMiddleIntegrator integrator(300.0, 1.0, 0.002);
  integrator.setRandomNumberSeed(1);
  OpenMM::Context context(system, integrator, platform,
                          platformProperties(platform.getName(), precision));
  if (platform.getName() == "OpenCL" &&
      platform.getPropertyValue(context, "OpenCLPlatformName") == kPoclPlatformName) {
    throw PoclSkipped("not considered: POCL runs OpenCL on this machine's CPU, where the CPU "
                      "platform is the supported choice; set potential.platform OpenCL to use it");
  }
  context.setPositions(positions);
  context.setVelocitiesToTemperature(300.0, 1);
  integrator.step(kWarmUpSteps);
  context.getState(OpenMM::State::Positions);  // GPU platforms run asynchronously: synchronise
  const auto start = std::chrono::steady_clock::now();
  integrator.step(kTimedSteps);
  context.getState(OpenMM::State::Positions);
  const auto stop = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(stop - start).count() / kTimedSteps;
}

std::string oneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  if (s.size() > 300) s = s.substr(0, 300) + "...";
  return s;
}

}  // namespace

void loadOpenMMPlugins() {
  std::call_once(pluginsOnce, [] {
    pluginDirectory = OpenMM::Platform::getDefaultPluginsDirectory();
    try {
      OpenMM::Platform::loadPluginsFromDirectory(pluginDirectory);
      pluginFailures = OpenMM::Platform::getPluginLoadFailures();
    } catch (const std::exception& e) {
      pluginFailures.push_back(std::string("loading plugins from '") + pluginDirectory +
                               "' failed: " + e.what());
    }
  });
}

std::vector<std::string> availablePlatforms() {
  loadOpenMMPlugins();
  std::vector<std::string> names;
  for (int i = 0; i < OpenMM::Platform::getNumPlatforms(); ++i) {
    const std::string& name = OpenMM::Platform::getPlatform(i).getName();
    // A plugin loaded twice (by another library in the process) registers its platform twice.
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

std::vector<std::string> pluginLoadFailures() {
  loadOpenMMPlugins();
  return pluginFailures;
}

std::map<std::string, std::string> platformProperties(const std::string& platformName,
                                                      const std::string& precision) {
  if (!precision.empty() && precision != "single" && precision != "mixed" &&
      precision != "double") {
    throw PlatformError("unknown OpenMM precision '" + precision +
                        "': use \"single\", \"mixed\" or \"double\" (or leave it empty for the "
                        "platform's default)");
  }
  if (platformName == "CUDA" || platformName == "OpenCL") {
    if (precision.empty()) return {};
    return {{"Precision", precision}};
  }
  if (platformName == "CPU") return {{"Threads", "1"}};
  return {};
}

OpenMM::Platform& choosePlatform(const std::string& name, const OpenMM::System& system,
                                 const std::vector<OpenMM::Vec3>& positions, std::string* report,
                                 const std::string& precision) {
  loadOpenMMPlugins();
  platformProperties("", precision);  // validates the precision before any work

  const std::string lower = toLower(name);
  if (lower != "auto") {
    std::string canonical;
    for (const auto& known : knownPlatformNames())
      if (toLower(known) == lower) canonical = known;
    if (canonical.empty()) {
      throw PlatformError("unknown OpenMM platform '" + name +
                          "': use one of CUDA, OpenCL, CPU, Reference or auto. " +
                          availabilityNote());
    }
    if (!isAvailable(canonical)) {
      throw PlatformError("OpenMM platform '" + canonical +
                          "' is not available on this machine: choose another platform (or "
                          "\"auto\") or install OpenMM's " +
                          canonical + " plugin and its driver. " + availabilityNote());
    }
    if (report) *report = "OpenMM platform " + canonical + " (requested by name)";
    return OpenMM::Platform::getPlatformByName(canonical);
  }

  if (static_cast<int>(positions.size()) != system.getNumParticles()) {
    throw std::invalid_argument("choosePlatform(\"auto\"): " + std::to_string(positions.size()) +
                                " positions for a System of " +
                                std::to_string(system.getNumParticles()) +
                                " particles; pass one position (in nm) per particle");
  }
  std::string text = "OpenMM platform timing (LangevinMiddleIntegrator 300 K, 1/ps, 0.002 ps, " +
                     std::to_string(system.getNumParticles()) + " particles):\n";
  OpenMM::Platform* best = nullptr;
  double bestTime = std::numeric_limits<double>::infinity();
  for (const auto& platformName : availablePlatforms()) {
    OpenMM::Platform& platform = OpenMM::Platform::getPlatformByName(platformName);
    std::string line = "  " + platformName;
    const auto properties = platformProperties(platformName, precision);
    for (const auto& [key, value] : properties) line += " (" + key + "=" + value + ")";
    try {
      const double us = timeSteps(system, positions, platform, precision);
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, ": %.2f us/step", us);
      line += buffer;
      if (us < bestTime) {
        bestTime = us;
        best = &platform;
      }
    } catch (const PoclSkipped& e) {
      line += ": " + std::string(e.what());
    } catch (const std::exception& e) {
      line += ": skipped (" + oneLine(e.what()) + ")";
    }
    text += line + "\n";
  }
  if (!best) {
    throw PlatformError("no OpenMM platform could run this System (" + oneLine(text) + "). " +
                        availabilityNote());
  }
  text += "  chose " + best->getName();
  if (report) *report = text;
  return *best;
}

}  // namespace geotps
