// Comparing two result files of GeoTPS for the tests that must reproduce one bit for bit (a
// resumed run, an MPI run): every dataset and every attribute, numbers through their bytes, the
// clock's values masked.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/io/h5_file.h"

namespace geotps::test {

inline bool containsText(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

/// Text with the wall times of a compare table masked: the last column of the first table ("wall
/// s") and the command and seconds of its closing note.
inline std::string withoutWallTimes(const std::string& table) {
  std::istringstream in(table);
  std::string out, line;
  bool wallTable = false;
  while (std::getline(in, line)) {
    if (containsText(line, "| wall s |")) wallTable = true;
    if (line.empty()) wallTable = false;
    if (wallTable && line.size() > 2 && line.rfind("| ", 0) == 0 &&
        !containsText(line, "| wall s |") && !containsText(line, "---")) {
      const std::size_t last = line.rfind(" | ", line.size() - 3);
      if (last != std::string::npos) line = line.substr(0, last) + " | (wall) |";
    }
    // The closing note: the command line (a resumed compare's has --resume) and the wall time.
    out += std::regex_replace(line, std::regex("Produced by `[^`]*` in [0-9.]+ s"),
                              "Produced by (command) in (wall) s") +
           "\n";
  }
  return out;
}

/// Every dataset of `a` equals `b`'s, bit for bit (numbers compared through their bytes as
/// doubles, which float32 and int64 convert to exactly here; strings as text, wall times masked);
/// `a` has more than `atLeast` datasets.
inline void expectSameDatasets(const std::string& a, const std::string& b,
                               std::size_t atLeast = 10) {
  H5File fa(a, H5File::Mode::Read), fb(b, H5File::Mode::Read);
  const auto names = fa.datasetPaths();
  ASSERT_EQ(names, fb.datasetPaths());
  ASSERT_GT(names.size(), atLeast);
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    EXPECT_EQ(fa.shape(name), fb.shape(name));
    bool text = false;
    std::vector<double> va, vb;
    try {
      va = fa.readDoubles(name);
      vb = fb.readDoubles(name);
    } catch (const std::exception&) {
      text = true;
    }
    if (text) {
      EXPECT_EQ(withoutWallTimes(fa.readString(name)), withoutWallTimes(fb.readString(name)));
      continue;
    }
    ASSERT_EQ(va.size(), vb.size());
    EXPECT_EQ(std::memcmp(va.data(), vb.data(), va.size() * sizeof(double)), 0);
  }
}

/// Every attribute of every group and dataset of `a` equals `b`'s (numbers bit for bit), but the
/// clock's (`created` and the wall times) and those named in `alsoSkip`.
inline void expectSameAttributes(const std::string& a, const std::string& b,
                                 const std::set<std::string>& alsoSkip = {}) {
  H5File fa(a, H5File::Mode::Read), fb(b, H5File::Mode::Read);
  std::vector<std::string> objects = fa.groupPaths();
  ASSERT_EQ(objects, fb.groupPaths());
  for (const auto& d : fa.datasetPaths()) objects.push_back(d);
  std::size_t compared = 0;
  for (const auto& object : objects) {
    const auto names = fa.attributeNames(object);
    ASSERT_EQ(names, fb.attributeNames(object)) << object;
    for (const auto& name : names) {
      if (name == "created" || name.rfind("wall_seconds", 0) == 0) continue;
      if (alsoSkip.count(name)) continue;
      SCOPED_TRACE(object + " attribute " + name);
      if (fa.isNumericAttribute(object, name)) {
        const double x = fa.readAttributeDouble(object, name),
                     y = fb.readAttributeDouble(object, name);
        EXPECT_EQ(std::memcmp(&x, &y, sizeof x), 0) << x << " vs " << y;
      } else {
        EXPECT_EQ(fa.readAttributeString(object, name), fb.readAttributeString(object, name));
      }
      ++compared;
    }
  }
  EXPECT_GT(compared, 50u);
}

}  // namespace geotps::test
