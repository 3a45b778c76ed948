// Terminal progress bar / periodic progress lines, and the same lines in the command's log file.
#include "engine/core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace geotps {

namespace {
std::atomic<std::FILE*> gProgressLog{nullptr};
}  // namespace

void setProgressLog(std::FILE* log) { gProgressLog.store(log); }
std::FILE* progressLog() { return gProgressLog.load(); }

bool Progress::stderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

bool Progress::LineCadence::due(int percent, TimePoint now) const {
  return lastPercent < 0 || percent / 10 != lastPercent / 10 ||
         std::chrono::duration<double>(now - last).count() >= 10.0;
}

Progress::Progress(std::string label, long long total, bool enabled)
    : label_(std::move(label)),
      total_(total > 0 ? total : 1),
      enabled_(enabled),
      tty_(stderrIsTerminal()),
      log_(progressLog()),
      start_(std::chrono::steady_clock::now()),
      lastBar_(start_) {}

Progress::~Progress() {
  if (!finished_ && enabled_ && tty_ && barPercent_ >= 0) std::fputc('\n', stderr);
}

void Progress::printLine(std::FILE* to, long long done, int percent, double elapsed,
                         const std::string& note) {
  fmt::print(to, "{}: {:3d}% ({} / {}) {:.1f}s {}\n", label_, percent, done, total_, elapsed, note);
  std::fflush(to);
}

void Progress::update(long long done, const std::string& note) {
  if (!enabled_ && !log_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
  const int percent = static_cast<int>(100.0 * frac);
  if (enabled_ && tty_) {
    const double sinceLast = std::chrono::duration<double>(now - lastBar_).count();
    if (percent != barPercent_ || sinceLast >= 0.2) {
      constexpr int width = 30;
      const int filled = static_cast<int>(width * frac);
      const std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
      const double eta = frac > 0 ? elapsed * (1.0 - frac) / frac : 0.0;
      fmt::print(stderr, "\r{:<10} [{}] {:3d}% {:6.1f}s eta {:5.1f}s {}\033[K", label_, bar,
                 percent, elapsed, eta, note);
      std::fflush(stderr);
      barPercent_ = percent;
      lastBar_ = now;
    }
  } else if (enabled_ && terminalLines_.due(percent, now)) {
    printLine(stderr, done, percent, elapsed, note);
    terminalLines_ = {percent, now};
  }
  if (log_ && logLines_.due(percent, now)) {
    printLine(log_, done, percent, elapsed, note);
    logLines_ = {percent, now};
  }
}

void Progress::finish(const std::string& note) {
  if (!enabled_ && !log_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (enabled_) {
    if (tty_) {
      fmt::print(stderr, "\r{:<10} [{}] 100% {:6.1f}s {}\033[K\n", label_, std::string(30, '#'),
                 elapsed, note);
    } else {
      fmt::print(stderr, "{}: done in {:.1f}s {}\n", label_, elapsed, note);
    }
    std::fflush(stderr);
  }
  if (log_) {
    fmt::print(log_, "{}: done in {:.1f}s {}\n", label_, elapsed, note);
    std::fflush(log_);
  }
}

}  // namespace geotps
