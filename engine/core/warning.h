// Warnings (and other lines for stderr that do not end the command): on stderr, and copied into
// the command's log file when it has one (`--log FILE`: the file setProgressLog() set,
// engine/core/progress.h), so that a log holds every warning the terminal showed.
#pragma once

#include <string>

namespace geotps {

/// Prints "geotps: warning: <text>" on stderr and into the log file.
void printWarning(const std::string& text);

/// Prints `line` (without its newline) on stderr and into the log file.
void printDiagnostic(const std::string& line);

}  // namespace geotps
