// Progress display for long stages: a bar redrawn in place on a terminal, periodic plain lines
// otherwise (logs, CI). Writes to stderr so that stdout stays clean for results.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

namespace geotps {

/// Called by long computations with (units done, units in all), e.g. to update a Progress.
using ProgressCallback = std::function<void(long long done, long long total)>;

class Progress {
 public:
  /// `enabled` = false silences it (e.g. --quiet).
  Progress(std::string label, long long total, bool enabled = true);
  ~Progress();
  /// Reports `done` of `total` units; cheap to call often. Thread-safe. `note` is shown after the
  /// bar.
  void update(long long done, const std::string& note = "");
  /// Marks the stage complete and ends the line.
  void finish(const std::string& note = "");

  /// True when stderr is a terminal (decides bar vs lines).
  static bool stderrIsTerminal();

 private:
  std::string label_;
  long long total_;
  bool enabled_, tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, lastPrint_;
  int lastPercent_ = -1;
  std::mutex mutex_;
};

}  // namespace geotps
