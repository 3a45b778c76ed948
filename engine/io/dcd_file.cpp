// DCD writer and reader; see dcd_file.h for the layout.
#include "engine/io/dcd_file.h"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <system_error>

#include "engine/io/atomic_file.h"
#include "potentials/input_file.h"

namespace geotps {

namespace {

namespace fs = std::filesystem;

constexpr double kAngstromPerNm = 10.0;
constexpr double kPsPerAkma = 0.0488882129;  // CHARMM's AKMA time unit
constexpr int kCharmmVersion = 24;           // what VMD and NAMD write; nonzero means "CHARMM"
constexpr int kTitleLines = 2;
constexpr int kTitleLineLength = 80;

// Fixed little-endian encoding, independent of the host's byte order.
void putInt32(std::string& out, std::int32_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((u >> (8 * b)) & 0xffu));
}

void putFloat32(std::string& out, float v) {
  std::uint32_t u = 0;
  std::memcpy(&u, &v, 4);
  putInt32(out, static_cast<std::int32_t>(u));
}

std::int32_t getInt32(const unsigned char* p) {
  const std::uint32_t u = std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) |
                          (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
  return static_cast<std::int32_t>(u);
}

float getFloat32(const unsigned char* p) {
  const auto u = static_cast<std::uint32_t>(getInt32(p));
  float v = 0.0f;
  std::memcpy(&v, &u, 4);
  return v;
}

/// An 80-character title line, blank-padded.
std::string titleLine(const std::string& text) {
  std::string line = text.substr(0, kTitleLineLength);
  line.resize(kTitleLineLength, ' ');
  return line;
}

/// Reads a whole file into memory (trajectories written here are small; a reader for huge files
/// would stream frames instead).
std::vector<unsigned char> readAll(const std::string& path) {
  const std::string text = readInputFile(path, "a DCD file", std::size_t{8} << 30);
  return std::vector<unsigned char>(text.begin(), text.end());
}

/// Sequential reader of Fortran records with error messages naming the file and offset.
class RecordReader {
 public:
  RecordReader(const std::string& path, const std::vector<unsigned char>& bytes)
      : path_(path), bytes_(bytes) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("{}: {}", path_, what));
  }

  std::size_t offset() const { return offset_; }
  std::size_t remaining() const { return bytes_.size() - offset_; }

  std::int32_t int32(const char* what) {
    need(4, what);
    const std::int32_t v = getInt32(bytes_.data() + offset_);
    offset_ += 4;
    return v;
  }

  /// Reads one record whose length must be `expected` (or anything, when expected < 0); returns
  /// a pointer to its payload and stores its length.
  const unsigned char* record(const char* what, std::int64_t expected, std::int32_t* length) {
    const std::size_t start = offset_;
    const std::int32_t lead = int32(what);
    if (lead < 0 || (expected >= 0 && lead != expected))
      fail(fmt::format("bad record marker for the {} at byte {}: {}, expected {}", what, start,
                       lead, expected >= 0 ? std::to_string(expected) : "a length"));
    need(static_cast<std::size_t>(lead) + 4, what);
    const unsigned char* payload = bytes_.data() + offset_;
    offset_ += static_cast<std::size_t>(lead);
    const std::int32_t trail = int32(what);
    if (trail != lead)
      fail(fmt::format("record markers of the {} at byte {} disagree: {} before, {} after", what,
                       start, lead, trail));
    if (length) *length = lead;
    return payload;
  }

 private:
  void need(std::size_t n, const char* what) const {
    if (remaining() < n)
      fail(fmt::format("truncated file: the {} needs {} bytes at byte {}, but only {} remain", what,
                       n, offset_, remaining()));
  }

  const std::string& path_;
  const std::vector<unsigned char>& bytes_;
  std::size_t offset_ = 0;
};

}  // namespace

void writeDcd(const std::string& path, const std::vector<std::vector<double>>& framesNm,
              double timestepPs, long long firstStep, long long stepStride) {
  if (framesNm.empty()) throw std::runtime_error(path + ": no frames to write to the DCD file");
  const std::size_t values = framesNm.front().size();
  if (values == 0 || values % 3 != 0)
    throw std::runtime_error(
        fmt::format("{}: frame 0 has {} values, expected a positive multiple of 3 (x y z per atom)",
                    path, values));
  const std::size_t n = values / 3;
  // Records hold 4*n bytes in an int32 marker.
  if (n > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() / 4))
    throw std::runtime_error(fmt::format("{}: {} atoms are too many for a DCD file", path, n));
  if (framesNm.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::runtime_error(fmt::format("{}: too many frames for a DCD file", path));
  if (!std::isfinite(timestepPs) || timestepPs < 0.0)
    throw std::runtime_error(
        fmt::format("{}: timestep {} ps must be finite and non-negative", path, timestepPs));
  constexpr long long kInt32Max = std::numeric_limits<std::int32_t>::max();
  if (firstStep < 0 || firstStep > kInt32Max || stepStride < 1 ||
      stepStride > kInt32Max / static_cast<long long>(framesNm.size()))
    throw std::runtime_error(fmt::format(
        "{}: first step {} and step stride {} do not fit the DCD header; expected a first step in "
        "[0, {}] and a stride of at least 1 with stride x {} frames at most {}",
        path, firstStep, stepStride, kInt32Max, framesNm.size(), kInt32Max));
  const auto maxFloat = static_cast<double>(std::numeric_limits<float>::max());
  for (std::size_t f = 0; f < framesNm.size(); ++f) {
    if (framesNm[f].size() != values)
      throw std::runtime_error(fmt::format("{}: frame {} has {} values, expected {} as frame 0",
                                           path, f, framesNm[f].size(), values));
    for (std::size_t k = 0; k < values; ++k) {
      const double a = framesNm[f][k] * kAngstromPerNm;
      if (!std::isfinite(a) || std::abs(a) > maxFloat)
        throw std::runtime_error(
            fmt::format("{}: frame {}, atom {}: coordinate {} nm is not a finite float32 value",
                        path, f, k / 3, framesNm[f][k]));
    }
  }

  const auto nFrames = static_cast<std::int32_t>(framesNm.size());
  const auto nAtoms = static_cast<std::int32_t>(n);
  std::string out;
  out.reserve(276 + framesNm.size() * (24 + 12 * n));

  // Header record: "CORD" + ICNTRL[20].
  std::array<std::int32_t, 20> icntrl{};
  icntrl[0] = nFrames;                                          // NSET
  icntrl[1] = static_cast<std::int32_t>(firstStep);             // ISTART
  icntrl[2] = static_cast<std::int32_t>(stepStride);            // NSAVC
  icntrl[3] = static_cast<std::int32_t>(stepStride * nFrames);  // NSTEP
  icntrl[19] = kCharmmVersion;
  putInt32(out, 84);
  out += "CORD";
  for (int i = 0; i < 20; ++i) {
    if (i == 9) {
      putFloat32(out, static_cast<float>(timestepPs / kPsPerAkma));  // DELTA, AKMA units
    } else {
      putInt32(out, icntrl[i]);  // 10 (unit cell flag) stays 0: no unit cell records
    }
  }
  putInt32(out, 84);

  // Title record.
  putInt32(out, 4 + kTitleLines * kTitleLineLength);
  putInt32(out, kTitleLines);
  out += titleLine("REMARKS GeoTPS trajectory: float32 coordinates in Angstrom, no unit cell");
  out += titleLine(
      fmt::format("REMARKS {} frames of {} atoms, timestep {} ps", nFrames, nAtoms, timestepPs));
  putInt32(out, 4 + kTitleLines * kTitleLineLength);

  // Atom count record.
  putInt32(out, 4);
  putInt32(out, nAtoms);
  putInt32(out, 4);

  for (const auto& frame : framesNm) {
    for (int d = 0; d < 3; ++d) {
      putInt32(out, 4 * nAtoms);
      for (std::size_t i = 0; i < n; ++i)
        putFloat32(out, static_cast<float>(frame[3 * i + d] * kAngstromPerNm));
      putInt32(out, 4 * nAtoms);
    }
  }

  writeFileAtomically(path, out);
}

std::vector<std::vector<double>> readDcd(const std::string& path, int& nAtoms) {
  const std::vector<unsigned char> bytes = readAll(path);
  RecordReader in(path, bytes);
  if (bytes.size() >= 8 && getInt32(bytes.data()) != 84) {
    const std::int32_t swapped = static_cast<std::int32_t>(
        (std::uint32_t(bytes[0]) << 24) | (std::uint32_t(bytes[1]) << 16) |
        (std::uint32_t(bytes[2]) << 8) | std::uint32_t(bytes[3]));
    if (swapped == 84) in.fail("big-endian DCD files are not supported");
    in.fail(fmt::format("not a DCD file: the first int32 is {}, expected 84 (header length)",
                        getInt32(bytes.data())));
  }

  std::int32_t length = 0;
  const unsigned char* header = in.record("header", 84, &length);
  if (std::memcmp(header, "CORD", 4) != 0)
    in.fail("not a coordinate DCD file: the header does not start with 'CORD'");
  const unsigned char* icntrl = header + 4;
  const std::int32_t nset = getInt32(icntrl + 0);
  const bool charmm = getInt32(icntrl + 4 * 19) != 0;
  const bool unitCell = charmm && getInt32(icntrl + 4 * 10) != 0;
  if (getInt32(icntrl + 4 * 8) != 0)
    in.fail(fmt::format("DCD files with fixed atoms (NAMNF = {}) are not supported",
                        getInt32(icntrl + 4 * 8)));
  if (charmm && getInt32(icntrl + 4 * 11) == 1)
    in.fail("DCD files with 4D coordinates are not supported");
  if (nset < 0) in.fail(fmt::format("negative frame count NSET = {} in the header", nset));

  in.record("title", -1, &length);
  if (length < 4 || (length - 4) % kTitleLineLength != 0)
    in.fail(fmt::format("title record of {} bytes, expected 4 + 80*NTITLE", length));

  const unsigned char* count = in.record("atom count", 4, &length);
  const std::int32_t n = getInt32(count);
  if (n <= 0 || n > std::numeric_limits<std::int32_t>::max() / 4)
    in.fail(fmt::format("atom count {} in the header is not positive", n));

  const std::size_t frameBytes = (unitCell ? 56 : 0) + 3 * (8 + 4 * std::size_t(n));
  const std::size_t complete = in.remaining() / frameBytes;
  const std::size_t extra = in.remaining() % frameBytes;
  // NSET = 0 is left by writers that were interrupted before updating the header.
  if (extra != 0 || (nset != 0 && complete != static_cast<std::size_t>(nset)))
    in.fail(fmt::format(
        "truncated or corrupt file: the header says {} frames of {} atoms ({} bytes each{}), but "
        "the {} bytes after the header hold {} complete frames and {} more bytes",
        nset, n, frameBytes, unitCell ? ", with unit cell" : "", in.remaining(), complete, extra));

  std::vector<std::vector<double>> frames(complete, std::vector<double>(3 * std::size_t(n)));
  static constexpr const char* kAxes[3] = {"x coordinates", "y coordinates", "z coordinates"};
  for (std::size_t f = 0; f < complete; ++f) {
    if (unitCell) in.record("unit cell", 48, &length);
    for (int d = 0; d < 3; ++d) {
      const unsigned char* p = in.record(kAxes[d], 4 * std::int64_t(n), &length);
      for (std::int32_t i = 0; i < n; ++i)
        frames[f][3 * std::size_t(i) + d] = double(getFloat32(p + 4 * i)) / kAngstromPerNm;
    }
  }
  nAtoms = n;
  return frames;
}

}  // namespace geotps
