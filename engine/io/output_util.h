// Small helpers shared by the commands that write result files: Eigen <-> std::vector, mean and
// standard deviation, matrices and vectors as HDF5 datasets, the /config group, JSON numbers and
// strings, the current time as ISO 8601.
#pragma once

#include <fmt/format.h>

#include <Eigen/Dense>
#include <cmath>
#include <ctime>
#include <limits>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/io/h5_file.h"

namespace geotps {

inline Eigen::VectorXd toVector(const std::vector<double>& v) {
  return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

/// Mean and sample standard deviation (0 for fewer than two values).
inline void meanStd(const Eigen::VectorXd& v, double& mean, double& sd) {
  mean = v.mean();
  sd = v.size() > 1 ? std::sqrt((v.array() - mean).square().sum() / (v.size() - 1)) : 0.0;
}

/// meanStd over the finite entries only (NaN marks a missing value); NaN, NaN when there are none.
inline void meanStdFinite(const Eigen::VectorXd& v, double& mean, double& sd) {
  std::vector<double> finite;
  for (Eigen::Index i = 0; i < v.size(); ++i) {
    if (std::isfinite(v[i])) finite.push_back(v[i]);
  }
  if (finite.empty()) {
    mean = sd = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  meanStd(
      Eigen::Map<const Eigen::VectorXd>(finite.data(), static_cast<Eigen::Index>(finite.size())),
      mean, sd);
}

/// Row-major copy for HDF5.
inline std::vector<double> rowMajor(const Eigen::MatrixXd& m) {
  std::vector<double> out(static_cast<std::size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) out[i * m.cols() + j] = m(i, j);
  return out;
}

inline void writeMatrix(H5File& f, const std::string& path, const Eigen::MatrixXd& m,
                        const std::string& units) {
  const auto data = rowMajor(m);
  f.writeDoubles(path, {static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())},
                 data.data(), units);
}

inline void writeVector(H5File& f, const std::string& path, const Eigen::VectorXd& v,
                        const std::string& units) {
  f.writeDoubles(path, {static_cast<std::size_t>(v.size())}, v.data(), units);
}

/// The /config group of a result file: the config file's text, the effective configuration and,
/// as attributes, the file's name and the command line's --set assignments (one per line).
inline void writeConfigGroup(H5File& f, const Config& config) {
  f.writeString("/config/source", config.sourceText());
  f.writeString("/config/effective", config.effectiveYaml());
  f.setAttribute("/config", "source_name", config.sourceName());
  std::string overrides;
  for (const auto& o : config.commandLineOverrides()) {
    overrides += (overrides.empty() ? "" : "\n") + o;
  }
  f.setAttribute("/config", "overrides", overrides);
}

/// A number for JSON output (null when not finite).
inline std::string jsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  return fmt::format("{:.10g}", v);
}

/// A JSON string literal.
inline std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

inline std::string isoTimeNow() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace geotps
