// Progress display for long stages: a bar redrawn in place on a terminal, periodic plain lines
// otherwise (logs, CI). Writes to stderr so that stdout stays clean for results; the periodic plain
// lines also go to the command's log file when one is set (setProgressLog, `--log FILE`).
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>

namespace geotps {

/// Called by long computations with (units done, units in all), e.g. to update a Progress.
using ProgressCallback = std::function<void(long long done, long long total)>;

/// The log file (process-wide; nullptr: none) to which every Progress also writes its periodic
/// plain lines, whether or not its terminal display is enabled: `--log FILE` keeps a complete
/// record under --quiet. Set before the stages start and reset to nullptr before the file closes.
void setProgressLog(std::FILE* log);
std::FILE* progressLog();

class Progress {
 public:
  /// `enabled` = false silences the terminal display (e.g. --quiet); the log file, when one is
  /// set, still receives the plain lines.
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
  using TimePoint = std::chrono::steady_clock::time_point;
  /// When plain lines were last written to one stream: every 10 % or every 10 s.
  struct LineCadence {
    int lastPercent = -1;
    TimePoint last;
    bool due(int percent, TimePoint now) const;
  };
  void printLine(std::FILE* to, long long done, int percent, double elapsed,
                 const std::string& note);

  std::string label_;
  long long total_;
  bool enabled_, tty_, finished_ = false;
  std::FILE* log_;  // progressLog() when constructed
  TimePoint start_, lastBar_;
  int barPercent_ = -1;
  LineCadence terminalLines_, logLines_;
  std::mutex mutex_;
};

}  // namespace geotps
