#include "engine/io/provenance.h"

#include <OpenMM.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "geotps/git_commit.h"
#include "geotps/version.h"

namespace geotps {

namespace {

/// SHA-256 over the chunks `next` yields (false when done), as lower-case hex; `what` names the
/// input in errors.
template <class Next>
std::string sha256Hex(const std::string& what, Next next) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error(what + ": cannot start a SHA-256 digest (OpenSSL)");
  }
  const char* data = nullptr;
  std::size_t size = 0;
  while (next(data, size)) {
    if (size > 0 && EVP_DigestUpdate(ctx.get(), data, size) != 1) {
      throw std::runtime_error(what + ": SHA-256 digest failed (OpenSSL)");
    }
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) {
    throw std::runtime_error(what + ": SHA-256 digest failed (OpenSSL)");
  }
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace

std::string sha256OfBytes(const std::string& bytes) {
  bool done = false;
  return sha256Hex("text", [&](const char*& data, std::size_t& size) {
    if (done) return false;
    data = bytes.data();
    size = bytes.size();
    return done = true;
  });
}

std::string sha256OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open to compute its SHA-256");
  std::vector<char> buffer(1 << 16);
  const std::string hex = sha256Hex(path, [&](const char*& data, std::size_t& size) {
    if (!in) return false;
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    data = buffer.data();
    size = static_cast<std::size_t>(in.gcount());
    return size > 0;
  });
  if (in.bad()) throw std::runtime_error(path + ": read error while computing its SHA-256");
  return hex;
}

std::vector<std::string> jobInputFiles(const Config& config) {
  std::vector<std::string> files;
  for (const KeySpec& spec : config.schema()) {
    if (spec.type != KeyType::Path) continue;
    const std::string value = config.getString(spec.key);
    std::error_code ec;
    if (value.empty() || !std::filesystem::is_regular_file(value, ec)) continue;
    if (std::find(files.begin(), files.end(), value) == files.end()) files.push_back(value);
  }
  return files;
}

void writeProvenance(H5File& file, const Config& config) {
  file.setAttribute("/", "git_commit", std::string(kGitCommit));
  file.setAttribute("/", "openmm_version", OpenMM::Platform::getOpenMMVersion());
  file.setAttribute("/", "libtorch_version", std::string(kLibTorchVersion));
  std::string lines = fmt::format("{}  {}", sha256OfBytes(config.sourceText()), config.sourceName());
  for (const std::string& path : jobInputFiles(config)) {
    lines += fmt::format("\n{}  {}", sha256OfFile(path), path);
  }
  file.setAttribute("/", "input_files_sha256", lines);
}

}  // namespace geotps
