// The denoiser MLP with sinusoidal embeddings, and its save / load.
#include "engine/neural/denoiser_network.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "engine/io/atomic_file.h"

namespace geotps {

namespace {
// Version 4 added the input features (ints[7]: 0 edm, 1 natural); version 3 files are edm.
constexpr std::int64_t kFormatVersion = 4;

torch::Tensor embed(const torch::Tensor& v, const torch::Tensor& freq) {
  // v [B, k] -> [B, k * 2F]: sin and cos of v * freq.
  auto a = v.unsqueeze(-1) * freq;  // [B, k, F]
  return torch::cat({torch::sin(a), torch::cos(a)}, -1).flatten(1);
}

}  // namespace

DenoiserNetworkImpl::DenoiserNetworkImpl(const DenoiserMetadata& m) : meta(m) {
  // Geometric frequencies 1, 2, 4, ... (x in units of xScale; l scaled to about [-1, 1]).
  std::vector<double> fx(m.xFrequencies), fl(m.lFrequencies);
  for (int k = 0; k < m.xFrequencies; ++k) fx[k] = std::pow(2.0, k) * 0.5;
  for (int k = 0; k < m.lFrequencies; ++k) fl[k] = std::pow(2.0, k) * 0.5;
  xFreq = register_buffer("x_freq", torch::tensor(fx, torch::kFloat64));
  lFreq = register_buffer("l_freq", torch::tensor(fl, torch::kFloat64));
  if (m.features != "natural" && m.features != "edm") {
    throw std::invalid_argument("DenoiserNetwork: features must be 'natural' or 'edm', not '" +
                                m.features + "'");
  }
  // Centres of the sigmoid features of l (natural): 2F + 1 points evenly over [0, max(l_max, 1)].
  // (Registered only for natural features, so that version-3 (edm) files still load.)
  if (m.features == "natural") {
    std::vector<double> lc(2 * m.lFrequencies + 1, 0.0);
    for (int k = 1; k <= 2 * m.lFrequencies; ++k) {
      lc[k] = std::max(m.lMax, 1.0) * k / (2.0 * m.lFrequencies);
    }
    lCentres = register_buffer("l_centres", torch::tensor(lc, torch::kFloat64).unsqueeze(0));
  }
  const int in = m.dimension * 2 * m.xFrequencies + 2 * m.lFrequencies + m.dimension + 1;
  mlp = torch::nn::Sequential();
  int width = in;
  for (int k = 0; k < m.layers; ++k) {
    mlp->push_back(torch::nn::Linear(width, m.hidden));
    mlp->push_back(torch::nn::SiLU());
    width = m.hidden;
  }
  mlp->push_back(torch::nn::Linear(width, m.dimension));
  register_module("mlp", mlp);
  to(torch::kFloat64);
}

torch::Tensor DenoiserNetworkImpl::forward(const torch::Tensor& x, const torch::Tensor& l) {
  // EDM-style preconditioning (Karras et al. 2022) in the variable y = x / alpha, whose noise level
  // is s = sigma / alpha = exp(-l/2): D = c_skip y + c_out F(c_in y, l) with sigma_d = xScale (the
  // data's spread), c_skip = sigma_d^2 / (s^2 + sigma_d^2), c_out = s sigma_d / sqrt(s^2 +
  // sigma_d^2), c_in = 1 / sqrt(s^2 + sigma_d^2). The network's target then has unit scale at every
  // l: at high l it predicts the (scaled) noise, at low l the (scaled) data.
  const auto lc = l.unsqueeze(-1);  // [B, 1]
  const double sd = meta.xScale;
  const auto s2 = torch::exp(-lc);           // s^2 = sigma^2 / alpha^2 = exp(-l)
  const auto y = x * torch::sqrt(1.0 + s2);  // x / alpha, since 1/alpha^2 = 1 + exp(-l)
  const auto norm = torch::sqrt(s2 + sd * sd);
  const auto cSkip = sd * sd / (s2 + sd * sd);
  const auto cOut = torch::sqrt(s2) * sd / norm;
  if (meta.features == "natural") {
    // u depends on (x, l) only through the natural parameters: at low l it is sigma_d eta_x, so a
    // posterior tilted far beyond the noisy states of the forward process (large x at low l) has
    // the input of a covered posterior at a slightly higher l. The log-SNR enters through
    // sigmoids that saturate at low l, where the posterior no longer depends on l.
    const auto u = cSkip * y / sd;
    const auto h = torch::cat({embed(u, xFreq), torch::sigmoid(lc - lCentres), u}, -1);
    return cSkip * y + cOut * mlp->forward(h);
  }
  const auto yin = y / norm;
  const auto ls = lc / std::max(std::abs(meta.lMin), std::abs(meta.lMax));
  const auto h = torch::cat({embed(yin, xFreq), embed(ls, lFreq), yin, ls}, -1);
  return cSkip * y + cOut * mlp->forward(h);
}

void saveDenoiser(const std::string& path, DenoiserNetwork& net) {
  torch::serialize::OutputArchive archive;
  net->save(archive);
  const DenoiserMetadata& m = net->meta;
  archive.write("geotps_format_version", torch::tensor(kFormatVersion));
  auto put = [&](const std::string& key, const std::vector<double>& v) {
    archive.write("meta_" + key,
                  torch::tensor(v, torch::kFloat64).reshape({static_cast<long>(v.size())}));
  };
  const std::vector<std::int64_t> ints = {m.dimension,
                                          m.hidden,
                                          m.layers,
                                          m.xFrequencies,
                                          m.lFrequencies,
                                          static_cast<std::int64_t>(m.seed),
                                          static_cast<std::int64_t>(m.steps),
                                          m.features == "natural" ? 1 : 0};
  archive.write("meta_ints", torch::tensor(ints, torch::kInt64));
  put("reals", {m.xScale, m.lMin, m.lMax, m.seconds});
  put("data_low", m.dataLow);
  put("data_high", m.dataHigh);
  put("loss_curve", m.lossCurve);
  std::vector<std::int64_t> src(m.source.begin(), m.source.end());
  archive.write("meta_source",
                torch::tensor(src, torch::kInt64).reshape({static_cast<long>(src.size())}));
  // Serialised in memory, then written by the output policy of every writer
  // (engine/io/atomic_file.h): LibTorch's own file writer throws from a destructor when the disk
  // is full, which ends the process (std::terminate).
  std::ostringstream bytes;
  archive.save_to(bytes);
  CreatedParents parents(path);
  writeFileAtomically(path, bytes.str());
  parents.keep();
}

DenoiserNetwork loadDenoiser(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(path +
                             ": no such denoiser file (train one with `geotps train-denoiser`)");
  }
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not a denoiser file written by geotps (" +
                             std::string(e.what()).substr(0, 200) + ")");
  }
  auto read = [&](const std::string& key) {
    torch::Tensor t;
    if (!archive.try_read("meta_" + key, t)) {
      throw std::runtime_error(path + ": denoiser file has no '" + key + "' metadata");
    }
    return t.contiguous();
  };
  auto get = [&](const std::string& key) {
    const auto c = read(key).to(torch::kFloat64);
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  };
  auto getInts = [&](const std::string& key) {
    const auto c = read(key).to(torch::kInt64);
    return std::vector<std::int64_t>(c.data_ptr<std::int64_t>(),
                                     c.data_ptr<std::int64_t>() + c.numel());
  };
  torch::Tensor version;
  if (!archive.try_read("geotps_format_version", version) ||
      (version.item<std::int64_t>() != kFormatVersion && version.item<std::int64_t>() != 3)) {
    throw std::runtime_error(
        fmt::format("{}: unsupported denoiser file format (this build reads "
                    "versions 3 and {})",
                    path, kFormatVersion));
  }
  DenoiserMetadata m;
  const auto ints = getInts("ints");
  const auto reals = get("reals");
  const std::size_t nInts = version.item<std::int64_t>() == 3 ? 7 : 8;
  if (ints.size() != nInts || reals.size() != 4) {
    throw std::runtime_error(path + ": denoiser metadata has the wrong size");
  }
  m.dimension = static_cast<int>(ints[0]);
  m.hidden = static_cast<int>(ints[1]);
  m.layers = static_cast<int>(ints[2]);
  m.xFrequencies = static_cast<int>(ints[3]);
  m.lFrequencies = static_cast<int>(ints[4]);
  m.seed = static_cast<std::uint64_t>(ints[5]);
  m.steps = static_cast<long long>(ints[6]);
  m.features = nInts == 8 && ints[7] == 1 ? "natural" : "edm";
  m.xScale = reals[0];
  m.lMin = reals[1];
  m.lMax = reals[2];
  m.seconds = reals[3];
  m.dataLow = get("data_low");
  m.dataHigh = get("data_high");
  m.lossCurve = get("loss_curve");
  for (std::int64_t c : getInts("source")) m.source += static_cast<char>(c);
  DenoiserNetwork net(m);
  net->load(archive);
  net->eval();
  return net;
}

}  // namespace geotps
