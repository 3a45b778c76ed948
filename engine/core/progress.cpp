// Terminal progress bar / periodic progress lines.
#include "engine/core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace geotps {

bool Progress::stderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, long long total, bool enabled)
    : label_(std::move(label)),
      total_(total > 0 ? total : 1),
      enabled_(enabled),
      tty_(stderrIsTerminal()),
      start_(std::chrono::steady_clock::now()),
      lastPrint_(start_) {}

Progress::~Progress() {
  if (!finished_ && enabled_ && tty_ && lastPercent_ >= 0) std::fputc('\n', stderr);
}

void Progress::update(long long done, const std::string& note) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
  const int percent = static_cast<int>(100.0 * frac);
  const double sinceLast = std::chrono::duration<double>(now - lastPrint_).count();
  if (tty_) {
    if (percent == lastPercent_ && sinceLast < 0.2) return;
    constexpr int width = 30;
    const int filled = static_cast<int>(width * frac);
    const std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
    const double eta = frac > 0 ? elapsed * (1.0 - frac) / frac : 0.0;
    fmt::print(stderr, "\r{:<10} [{}] {:3d}% {:6.1f}s eta {:5.1f}s {}\033[K", label_, bar, percent,
               elapsed, eta, note);
  } else {
    // Plain lines: every 10 % or every 10 s, whichever comes first.
    if (lastPercent_ >= 0 && percent / 10 == lastPercent_ / 10 && sinceLast < 10.0) return;
    fmt::print(stderr, "{}: {:3d}% ({} / {}) {:.1f}s {}\n", label_, percent, done, total_, elapsed,
               note);
  }
  std::fflush(stderr);
  lastPercent_ = percent;
  lastPrint_ = now;
}

void Progress::finish(const std::string& note) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (tty_) {
    fmt::print(stderr, "\r{:<10} [{}] 100% {:6.1f}s {}\033[K\n", label_, std::string(30, '#'),
               elapsed, note);
  } else {
    fmt::print(stderr, "{}: done in {:.1f}s {}\n", label_, elapsed, note);
  }
  std::fflush(stderr);
}

}  // namespace geotps
