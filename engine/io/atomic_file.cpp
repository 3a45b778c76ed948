// Atomic whole-file writes (temporary file + rename).
#include "engine/io/atomic_file.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace geotps {

namespace {
const char* kindOf(std::filesystem::file_type t) {
  using std::filesystem::file_type;
  switch (t) {
    case file_type::directory:
      return "a directory";
    case file_type::symlink:
      return "a symbolic link";
    case file_type::block:
      return "a block device";
    case file_type::character:
      return "a character device";
    case file_type::fifo:
      return "a FIFO";
    case file_type::socket:
      return "a socket";
    default:
      return "not a regular file";
  }
}
}  // namespace

void checkOutputTarget(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  if (!ec && fs::exists(st) && st.type() != fs::file_type::regular) {
    throw std::runtime_error(fmt::format(
        "{}: exists and is {}; expected a new path or a regular file (GeoTPS replaces only "
        "regular files it could have written)",
        path, kindOf(st.type())));
  }
  // Stale temporaries of this output: <name>.tmp-<pid> whose process is gone.
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string prefix = target.filename().string() + ".tmp-";
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    std::string digits = name.substr(prefix.size());
    // A nested temporary (a staged file's own temporary) is named by its outer pid:
    // <pid>.tmp-<pid>.
    if (const auto nested = digits.find(".tmp-"); nested != std::string::npos)
      digits.resize(nested);
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid == ::getpid()) continue;
    if (::kill(pid, 0) == -1 && errno == ESRCH) {
      std::error_code ignored;
      if (fs::is_regular_file(fs::symlink_status(it->path(), ignored)))
        fs::remove(it->path(), ignored);
    }
  }
}

std::string temporaryPathFor(const std::string& path) {
  return path + ".tmp-" + std::to_string(::getpid());
}

namespace detail {
namespace {
// Temporary files of live writers, removed by the signal handler when a run is interrupted
// (Ctrl-C, kill): only async-signal-safe calls (unlink, signal, raise) are made there.
constexpr int kMaxTemporaries = 16;
char gTemporaries[kMaxTemporaries][4096];
std::atomic<bool> gTemporaryUsed[kMaxTemporaries];

extern "C" void removeTemporariesAndReraise(int sig) {
  for (int i = 0; i < kMaxTemporaries; ++i) {
    if (gTemporaryUsed[i].load()) ::unlink(gTemporaries[i]);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}
}  // namespace

int registerTemporary(const std::string& path) {
  static std::once_flag once;
  std::call_once(once, [] {
    // A signal the process inherited as ignored (nohup, a shell's background job) stays ignored.
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
      std::signal(sig, removeTemporariesAndReraise);
    }
  });
  if (path.size() >= sizeof gTemporaries[0]) return -1;
  for (int i = 0; i < kMaxTemporaries; ++i) {
    bool expected = false;
    if (!gTemporaryUsed[i].load()) {
      std::memcpy(gTemporaries[i], path.c_str(), path.size() + 1);
      if (gTemporaryUsed[i].compare_exchange_strong(expected, true)) return i;
    }
  }
  return -1;
}

void unregisterTemporary(int slot) {
  if (slot >= 0) gTemporaryUsed[slot].store(false);
}
}  // namespace detail

OwnedTemporary::OwnedTemporary(std::string path)
    : path_(std::move(path)), slot_(detail::registerTemporary(path_)) {}

OwnedTemporary::~OwnedTemporary() {
  detail::unregisterTemporary(slot_);
  if (owned_) {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
}

void OwnedTemporary::renameTo(const std::string& finalPath) {
  std::error_code ec;
  try {
    checkOutputTarget(finalPath);
  } catch (...) {
    std::filesystem::remove(path_, ec);
    owned_ = false;
    throw;
  }
  std::filesystem::rename(path_, finalPath, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
    owned_ = false;
    throw std::runtime_error(fmt::format("{}: cannot rename temporary file '{}' to it: {}",
                                         finalPath, path_, ec.message()));
  }
  owned_ = false;
  detail::unregisterTemporary(slot_);
  slot_ = -1;
}

CreatedParents::CreatedParents(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  for (fs::path p = parent; !p.empty() && !fs::exists(fs::symlink_status(p, ec));
       p = p.parent_path()) {
    created_.push_back(p.string());
    if (p == p.parent_path()) break;
  }
  fs::create_directories(parent, ec);
  if (ec) {
    removeNow();
    throw std::runtime_error(
        fmt::format("{}: cannot create directory '{}': {}", path, parent.string(), ec.message()));
  }
}

void CreatedParents::removeNow() noexcept {
  for (const auto& d : created_) {
    std::error_code ignored;
    std::filesystem::remove(d, ignored);  // fails, harmlessly, on a folder that is not empty
  }
  created_.clear();
}

void writeFileAtomically(const std::string& path, std::string_view bytes) {
  checkOutputTarget(path);
  OwnedTemporary owned(temporaryPathFor(path));
  const std::string& tmp = owned.path();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw std::runtime_error(fmt::format("{}: cannot create temporary file '{}': {}", path, tmp,
                                           std::strerror(errno)));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out)
      throw std::runtime_error(
          fmt::format("{}: cannot write temporary file '{}': {}", path, tmp, std::strerror(errno)));
  }
  owned.renameTo(path);
}

std::string readFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.is_open() || (!in.good() && !in.eof()))
    throw std::runtime_error(fmt::format("{}: cannot read the file back", path));
  return bytes;
}

}  // namespace geotps
