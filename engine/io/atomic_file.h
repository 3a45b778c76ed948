// Writing a whole file atomically: to a temporary name beside it, renamed on success, so a reader
// never sees a partial file under the final name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace geotps {

/// The output policy of every command that writes a file: `path` must be a new path or an existing
/// regular file (which is then replaced); a directory, a device, a FIFO, a socket or a symbolic
/// link is refused (std::runtime_error naming the path and what it is). Also removes stale
/// temporaries of `path` (`path.tmp-<pid>` of a process that no longer runs, e.g. one killed by
/// SIGKILL).
void checkOutputTarget(const std::string& path);

/// `path.tmp-<pid>`: the name under which this process writes `path` before renaming it.
std::string temporaryPathFor(const std::string& path);

/// A file this process writes and must not leave behind if the job fails: the destructor removes
/// it unless keep() was called, and an interrupted run (SIGINT, SIGTERM, SIGHUP) removes it before
/// the process ends. A run killed by SIGKILL leaves it; the next checkOutputTarget() of the file
/// it stands for removes it (its name must be temporaryPathFor() of that file).
class OwnedTemporary {
 public:
  explicit OwnedTemporary(std::string path);
  ~OwnedTemporary();
  OwnedTemporary(const OwnedTemporary&) = delete;
  OwnedTemporary& operator=(const OwnedTemporary&) = delete;
  const std::string& path() const { return path_; }
  /// Renames the file to `finalPath` (checked with checkOutputTarget first); it is then no longer
  /// owned. Throws std::runtime_error naming both files; the temporary is removed on failure.
  void renameTo(const std::string& finalPath);

 private:
  std::string path_;
  int slot_ = -1;
  bool owned_ = true;
};

/// Creates the folders above `path` that do not exist yet; unless keep() is called, the destructor
/// removes them again (deepest first, each only if empty), so a failed run leaves no folder it
/// created. Throws std::runtime_error naming `path` and the folder when it cannot create one.
class CreatedParents {
 public:
  explicit CreatedParents(const std::string& path);
  ~CreatedParents() { removeNow(); }
  CreatedParents(const CreatedParents&) = delete;
  CreatedParents& operator=(const CreatedParents&) = delete;
  void keep() { created_.clear(); }
  void removeNow() noexcept;

 private:
  std::vector<std::string> created_;  // deepest first
};

namespace detail {
/// Registers `path` for removal by the SIGINT/SIGTERM/SIGHUP handler (installed on first use,
/// except for a signal the process inherited as ignored, e.g. under nohup). Returns a slot for
/// unregisterTemporary(), or -1 when the table is full or the path too long.
int registerTemporary(const std::string& path);
void unregisterTemporary(int slot);
}  // namespace detail

/// Writes `bytes` to `path` via `path.tmp-<pid>` and a rename. Throws std::runtime_error naming the
/// file on failure, leaving neither file behind.
void writeFileAtomically(const std::string& path, std::string_view bytes);

/// The whole of the file `path`, as bytes (what writeFileAtomically wrote). Throws
/// std::runtime_error naming the file when it cannot be read.
std::string readFileBytes(const std::string& path);

}  // namespace geotps
