// Capped whole-file reads of input files.
#include "potentials/input_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace geotps {

namespace {
std::string sizeText(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 30) && bytes % (std::size_t{1} << 30) == 0)
    return fmt::format("{} GiB", bytes >> 30);
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0)
    return fmt::format("{} MiB", bytes >> 20);
  return fmt::format("{} bytes", bytes);
}
}  // namespace

std::string readInputFile(const std::string& path, const std::string& expected,
                          std::size_t maxBytes) {
  namespace fs = std::filesystem;
  auto fail = [&](const std::string& what) {
    throw std::runtime_error(fmt::format("{}: {}; expected {}", path, what, expected));
  };
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) fail("no such file");
  if (st.type() == fs::file_type::directory) fail("is a directory");
  if (st.type() != fs::file_type::regular && st.type() != fs::file_type::fifo)
    fail("is not a regular file (a device or another special file)");
  if (st.type() == fs::file_type::regular) {
    const auto size = fs::file_size(path, ec);
    if (!ec && size > maxBytes)
      fail(fmt::format("is {} bytes, more than the {} GeoTPS reads", size, sizeText(maxBytes)));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(fmt::format("cannot be opened for reading ({})", std::strerror(errno)));
  std::string text;
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    const auto got = static_cast<std::size_t>(in.gcount());
    if (text.size() + got > maxBytes)
      fail(fmt::format("holds more than the {} GeoTPS reads", sizeText(maxBytes)));
    text.append(buffer, got);
  }
  if (in.bad()) fail("cannot be read (I/O error)");
  return text;
}

}  // namespace geotps
