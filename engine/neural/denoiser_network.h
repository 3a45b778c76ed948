// The neural denoiser's network: an MLP predicting E[x0 | x, l] from sinusoidal embeddings of the
// noisy state x and the log-SNR l, plus the metadata saved with it (docs/method.md, "The neural
// denoiser (LibTorch)").
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace geotps {

/// Architecture and provenance of a trained denoiser; saved in the model file.
struct DenoiserMetadata {
  int dimension = 2;     ///< D
  int hidden = 128;      ///< width of the hidden layers
  int layers = 3;        ///< number of hidden layers
  int xFrequencies = 8;  ///< sinusoidal frequencies per coordinate of x
  int lFrequencies =
      8;  ///< sinusoidal frequencies of l (edm) / 2 lFrequencies + 1 sigmoids (natural)
  /// Input features: "natural" (scaled natural parameter and saturating functions of l) or "edm"
  /// (x / sigma and sinusoids of l); see DenoiserNetworkImpl::forward.
  std::string features = "natural";
  double xScale = 1.0;  ///< sigma_d: the data's spread (units of x), for preconditioning
  double lMin = -12.0, lMax = 12.0;       ///< training range of the log-SNR
  std::vector<double> dataLow, dataHigh;  ///< bounding box of the training data (units of x)
  std::uint64_t seed = 0;
  std::string source;             ///< where the training samples came from
  std::vector<double> lossCurve;  ///< training loss per logged step
  long long steps = 0;            ///< optimiser steps taken
  double seconds = 0.0;           ///< training wall time
};

/// D(x, l) = E[x0 | z]. Input: x [B, D] (float64), l [B] (float64); output [B, D].
/// Output (EDM preconditioning in y = x / alpha, noise level s = sigma / alpha):
/// D = c_skip(s) y + c_out(s) F(features), with sigma_d = metadata xScale. The features are
/// "natural": u = c_skip y / sigma_d (= sigma_d eta_x / (1 + sigma_d^2 SNR): the natural parameter
/// at low l, y / sigma_d at high l) with sinusoids of u, and sigmoid(l - c_k) at centres c_k in
/// [0, l_max]; or "edm": c_in y = x / sigma-like input with sinusoids, and sinusoids of l.
struct DenoiserNetworkImpl : torch::nn::Module {
  explicit DenoiserNetworkImpl(const DenoiserMetadata& meta);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& l);
  DenoiserMetadata meta;
  torch::nn::Sequential mlp{nullptr};
  torch::Tensor xFreq, lFreq, lCentres;  // buffers
};
TORCH_MODULE(DenoiserNetwork);

/// Saves the network and its metadata in one file (torch serialization archive, with a format
/// version); `load` refuses other versions and names the file in its errors.
void saveDenoiser(const std::string& path, DenoiserNetwork& net);
DenoiserNetwork loadDenoiser(const std::string& path);

}  // namespace geotps
