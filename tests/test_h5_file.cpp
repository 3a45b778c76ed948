// Tests of the HDF5 wrapper: round trips, attributes, units, row-wise writes, errors, the atomic
// writer, and (where python3 with h5py is installed) an independent read-back with h5py.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "engine/io/h5_file.h"
#include "tests/test_support.h"

namespace geotps {
namespace {

namespace fs = std::filesystem;

/// A file name unique to the running test (tests may run in parallel processes).
std::string tempFile(const std::string& suffix = ".h5") {
  return geotps::test::tempPath("geotps_h5_", suffix);
}

/// Runs `f`, expects an H5Error, returns its message.
template <class F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const H5Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected H5Error, got another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected H5Error, nothing was thrown";
  return {};
}

/// Succeeds when `text` contains `part`; the failure message shows both.
testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

TEST(H5File, DoublesRoundTripWithShape) {
  const std::string path = tempFile();
  const std::vector<double> data = {1.5, -2.25, 3e-300, 4e300, 0.0, -0.0};
  {
    H5File f(path, H5File::Mode::Create);
    f.writeDoubles("/curve/l", {2, 3}, data.data(), "nm");
    f.writeDoubles("/scalar", {}, data.data(), "1");
  }
  H5File f(path, H5File::Mode::Read);
  EXPECT_EQ(f.shape("/curve/l"), (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(f.readDoubles("/curve/l"), data);
  EXPECT_EQ(f.shape("/scalar"), std::vector<std::size_t>{});
  EXPECT_EQ(f.readDoubles("/scalar"), std::vector<double>{1.5});
  EXPECT_EQ(f.readAttributeString("/curve/l", "units"), "nm");
}

// An in-memory file (MPI ranks send walker chunks this way): nothing is written under its name,
// its image is a whole HDF5 file that the ordinary reader opens from disk, and fromImage() reads
// the same back; bytes that are no HDF5 file are refused with the name.
TEST(H5File, InMemoryImageIsAWholeFileAndOpensAgain) {
  const std::string name = tempFile("_memory.h5");
  const std::vector<double> doubles = {1.5, -2.25, 3e-300, 4e300, 0.0, -0.0};
  const std::vector<float> rows = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f};
  const std::vector<std::int64_t> ints = {7, -8, 9};
  std::string image;
  {
    const auto f = H5File::inMemory(name);
    f->writeDoubles("/a/d", {2, 3}, doubles.data(), "nm");
    f->createFloatDataset("/a/rows", {3, 2}, "kJ/mol");
    f->writeFloatRows("/a/rows", 0, 2, rows.data());
    f->writeFloatRows("/a/rows", 2, 1, rows.data() + 4);
    f->writeInts("/i", {3}, ints.data(), "1");
    f->writeString("/s", "text");
    f->setAttribute("/a", "x", 2.5, "ps");
    image = f->image();
  }
  EXPECT_FALSE(fs::exists(name)) << "an in-memory file was written to disk";
  ASSERT_GT(image.size(), 8u);
  const auto check = [&](const H5File& f) {
    EXPECT_EQ(f.readDoubles("/a/d"), doubles);
    EXPECT_EQ(f.shape("/a/d"), (std::vector<std::size_t>{2, 3}));
    const std::vector<double> read = f.readDoubles("/a/rows");
    EXPECT_EQ(read, std::vector<double>(rows.begin(), rows.end()));
    EXPECT_EQ(f.readDoubles("/i"), (std::vector<double>{7, -8, 9}));
    EXPECT_EQ(f.readString("/s"), "text");
    EXPECT_EQ(f.readAttributeDouble("/a", "x"), 2.5);
    EXPECT_EQ(f.readAttributeString("/a", "x_units"), "ps");
  };
  const std::string onDisk = tempFile("_image.h5");
  {
    std::ofstream out(onDisk, std::ios::binary);
    out.write(image.data(), static_cast<std::streamsize>(image.size()));
  }
  check(H5File(onDisk, H5File::Mode::Read));
  check(*H5File::fromImage(image, "received"));
  EXPECT_TRUE(Contains(errorOf([] { H5File::fromImage("not an HDF5 file", "chunk 3"); }),
                       "chunk 3"));
  EXPECT_TRUE(Contains(errorOf([] { H5File::fromImage("", "chunk 4"); }), "chunk 4"));
}

TEST(H5File, FloatsRoundTripWithShape) {
  const std::string path = tempFile();
  std::vector<float> data(2 * 3 * 4);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = 0.1f * static_cast<float>(i) - 1.0f;
  {
    H5File f(path, H5File::Mode::Create);
    f.writeFloats("frames", {2, 3, 4}, data.data(), "angstrom");
  }
  H5File f(path, H5File::Mode::Read);
  EXPECT_EQ(f.shape("/frames"), (std::vector<std::size_t>{2, 3, 4}));
  const auto back = f.readDoubles("/frames");
  ASSERT_EQ(back.size(), data.size());
  for (std::size_t i = 0; i < data.size(); ++i) EXPECT_EQ(back[i], static_cast<double>(data[i]));
}

TEST(H5File, IntsRoundTripWithShape) {
  const std::string path = tempFile();
  const std::vector<std::int64_t> data = {0, -1, 42, std::int64_t{1} << 52,
                                          -(std::int64_t{1} << 40)};
  {
    H5File f(path, H5File::Mode::Create);
    f.writeInts("/counts", {5}, data.data(), "1");
    f.writeInts("/empty", {0, 3}, nullptr, "1");
  }
  H5File f(path, H5File::Mode::Read);
  EXPECT_EQ(f.shape("/counts"), std::vector<std::size_t>{5});
  const auto back = f.readDoubles("/counts");
  ASSERT_EQ(back.size(), data.size());
  for (std::size_t i = 0; i < data.size(); ++i) EXPECT_EQ(back[i], static_cast<double>(data[i]));
  EXPECT_EQ(f.shape("/empty"), (std::vector<std::size_t>{0, 3}));
  EXPECT_TRUE(f.readDoubles("/empty").empty());
}

TEST(H5File, ReadDoublesConvertsFloatAndIntData) {
  const std::string path = tempFile();
  const std::vector<float> floats = {0.5f, 1.25f, -3.0f};
  const std::vector<std::int64_t> ints = {7, -8, 9};
  {
    H5File f(path, H5File::Mode::Create);
    f.writeFloats("/f", {3}, floats.data(), "1");
    f.writeInts("/i", {3}, ints.data(), "1");
  }
  H5File f(path, H5File::Mode::Read);
  EXPECT_EQ(f.readDoubles("/f"), (std::vector<double>{0.5, 1.25, -3.0}));
  EXPECT_EQ(f.readDoubles("/i"), (std::vector<double>{7, -8, 9}));
}

TEST(H5File, StringsRoundTrip) {
  const std::string path = tempFile();
  const std::string yaml = "sampler:\n  step_size: 0.01  # ångström, ∂\n";
  {
    H5File f(path, H5File::Mode::Create);
    f.writeString("/config/yaml", yaml);
    f.writeString("/config/empty", "", "1");
    EXPECT_TRUE(Contains(errorOf([&] { f.writeString("/bad", std::string("a\0b", 3)); }), "NUL"));
  }
  H5File f(path, H5File::Mode::Read);
  EXPECT_EQ(f.readString("/config/yaml"), yaml);
  EXPECT_EQ(f.readString("/config/empty"), "");
  EXPECT_EQ(f.readAttributeString("/config/yaml", "units"), "1");
  EXPECT_TRUE(Contains(errorOf([&] { f.readDoubles("/config/yaml"); }), "not numeric"));
  EXPECT_FALSE(f.exists("/bad"));
}

TEST(H5File, AttributesOfAllTypesOnRootGroupsAndDatasets) {
  const std::string path = tempFile();
  const double x = 1.0;
  {
    H5File f(path, H5File::Mode::Create);
    f.writeDoubles("/grp/ds", {1}, &x, "eV");
    for (const std::string object : {"/", "/grp", "/grp/ds"}) {
      f.setAttribute(object, "real", 2.5, "eV");
      f.setAttribute(object, "int", std::int64_t{-123456789012}, "1");
      f.setAttribute(object, "text", std::string("hello ✓ ") + object);
    }
    f.setAttribute("/grp", "real", 3.5, "K");              // overwrite keeps one attribute
    f.setAttribute("/meta/run", "seed", std::int64_t{7}, "1");  // creates the groups
  }
  H5File f(path, H5File::Mode::Read);
  for (const std::string object : {"/", "/grp", "/grp/ds"}) {
    SCOPED_TRACE(object);
    EXPECT_EQ(f.readAttributeDouble(object, "real"), object == "/grp" ? 3.5 : 2.5);
    EXPECT_EQ(f.readAttributeInt(object, "int"), -123456789012);
    EXPECT_EQ(f.readAttributeDouble(object, "int"), -123456789012.0);  // ints read as doubles
    EXPECT_EQ(f.readAttributeString(object, "text"), "hello ✓ " + object);
    EXPECT_TRUE(f.hasAttribute(object, "text"));
    EXPECT_FALSE(f.hasAttribute(object, "nope"));
    // Every numeric attribute carries its unit beside it.
    EXPECT_EQ(f.readAttributeString(object, "real_units"), object == "/grp" ? "K" : "eV");
    EXPECT_EQ(f.readAttributeString(object, "int_units"), "1");
    EXPECT_TRUE(f.isNumericAttribute(object, "real"));
    EXPECT_TRUE(f.isNumericAttribute(object, "int"));
    EXPECT_FALSE(f.isNumericAttribute(object, "text"));
    EXPECT_FALSE(f.isNumericAttribute(object, "real_units"));
  }
  EXPECT_EQ(f.attributeNames("/"),
            (std::vector<std::string>{"real", "real_units", "int", "int_units", "text"}));
  EXPECT_EQ(f.attributeNames("/grp"),
            (std::vector<std::string>{"int", "int_units", "text", "real", "real_units"}));
  EXPECT_EQ(f.attributeNames("/grp/ds"), (std::vector<std::string>{"units", "real", "real_units",
                                                                   "int", "int_units", "text"}));
  EXPECT_EQ(f.readAttributeInt("/meta/run", "seed"), 7);
  EXPECT_FALSE(f.hasAttribute("/missing", "x"));

  EXPECT_TRUE(Contains(errorOf([&] { f.readAttributeInt("/", "real"); }), "not an integer"));
  EXPECT_TRUE(Contains(errorOf([&] { f.readAttributeDouble("/", "text"); }), "not a number"));
  EXPECT_TRUE(Contains(errorOf([&] { f.readAttributeString("/", "real"); }), "not a string"));
  const std::string missing = errorOf([&] { f.readAttributeDouble("/grp", "nope"); });
  EXPECT_TRUE(Contains(missing, path));
  EXPECT_TRUE(Contains(missing, "/grp"));
  EXPECT_TRUE(Contains(missing, "'nope'"));
}

TEST(H5File, ManyAttributesKeepCreationOrderAfterOverwrites) {
  const std::string path = tempFile();
  std::vector<std::string> expected;
  {
    H5File f(path, H5File::Mode::Create);
    for (int i = 0; i < 20; ++i) {
      // fmt, not "a" + std::to_string: GCC 12 warns falsely (-Wrestrict) on the latter here.
      const std::string name = fmt::format("a{}", 19 - i);
      f.setAttribute("/g", name, static_cast<double>(i), "1");
      expected.push_back(name);
      expected.push_back(name + "_units");
    }
    f.setAttribute("/g", "a5", 100.0, "nm");  // replaced: moves to the end
    for (const char* gone : {"a5", "a5_units"}) {
      expected.erase(std::find(expected.begin(), expected.end(), gone));
      expected.push_back(gone);
    }
  }
  H5File f(path, H5File::Mode::Read);
  EXPECT_EQ(f.attributeNames("/g"), expected);
  EXPECT_EQ(f.readAttributeDouble("/g", "a5"), 100.0);
}

TEST(H5File, EveryDatasetHasUnitsAndEmptyUnitsAreRefused) {
  const std::string path = tempFile();
  const double d = 1;
  const float x = 1;
  const std::int64_t n = 1;
  {
    H5File f(path, H5File::Mode::Create);
    f.writeDoubles("/a/d", {1}, &d, "kJ/mol");
    f.writeFloats("/a/f", {1}, &x, "nm");
    f.writeInts("/b/i", {1}, &n, "1");
    f.writeString("/b/s", "text");
    f.createFloatDataset("/c/rows", {4, 2}, "nm/ps");

    EXPECT_TRUE(Contains(errorOf([&] { f.writeDoubles("/e/d", {1}, &d, ""); }), "units"));
    EXPECT_TRUE(Contains(errorOf([&] { f.writeFloats("/e/f", {1}, &x, ""); }), "units"));
    EXPECT_TRUE(Contains(errorOf([&] { f.writeInts("/e/i", {1}, &n, ""); }), "units"));
    EXPECT_TRUE(Contains(errorOf([&] { f.writeString("/e/s", "t", ""); }), "units"));
    EXPECT_TRUE(Contains(errorOf([&] { f.createFloatDataset("/e/r", {4, 2}, ""); }), "units"));
  }
  H5File f(path, H5File::Mode::Read);
  EXPECT_FALSE(f.exists("/e"));  // refused writes leave nothing behind
  const auto paths = f.datasetPaths();
  EXPECT_EQ(paths, (std::vector<std::string>{"/a/d", "/a/f", "/b/i", "/b/s", "/c/rows"}));
  for (const auto& p : paths) {
    SCOPED_TRACE(p);
    ASSERT_TRUE(f.hasAttribute(p, "units"));
    EXPECT_FALSE(f.readAttributeString(p, "units").empty());
  }
  EXPECT_EQ(f.readAttributeString("/c/rows", "units"), "nm/ps");
}

TEST(H5File, IntermediateGroupsAndExists) {
  const std::string path = tempFile();
  const double d = 3;
  H5File f(path, H5File::Mode::Create);
  f.writeDoubles("/x/y/z/w", {}, &d, "1");
  EXPECT_TRUE(f.exists("/"));
  EXPECT_TRUE(f.exists("/x"));
  EXPECT_TRUE(f.exists("/x/y/z"));
  EXPECT_TRUE(f.exists("x/y/z/w"));  // relative paths are taken from the root
  EXPECT_FALSE(f.exists("/x/q"));
  EXPECT_FALSE(f.exists("/x/y/z/w/deeper"));
  EXPECT_TRUE(Contains(errorOf([&] { f.writeDoubles("/x/y/z/w/v", {}, &d, "1"); }), "not a group"));
  EXPECT_TRUE(
      Contains(errorOf([&] { f.writeDoubles("/x/y/z/w", {}, &d, "1"); }), "already exists"));
  EXPECT_TRUE(Contains(errorOf([&] { f.shape("/x/y"); }), "not a dataset"));
  EXPECT_EQ(f.readDoubles("/x/y/z/w"), std::vector<double>{3});
}

TEST(H5File, DatasetPathsAreSorted) {
  const std::string path = tempFile();
  const double d = 0;
  H5File f(path, H5File::Mode::Create);
  for (const char* p : {"/z", "/b/c", "/a", "/b/a/x", "/m/n/o"}) f.writeDoubles(p, {}, &d, "1");
  f.setAttribute("/emptygroup", "k", 1.0, "1");
  EXPECT_EQ(f.datasetPaths(), (std::vector<std::string>{"/a", "/b/a/x", "/b/c", "/m/n/o", "/z"}));
  EXPECT_EQ(f.groupPaths(),
            (std::vector<std::string>{"/", "/b", "/b/a", "/emptygroup", "/m", "/m/n"}));
}

TEST(H5File, RowWiseWritesReassembleTheFullArray) {
  const std::string path = tempFile();
  const std::size_t M = 37, F = 5000, D = 3;  // rows of 60 kB: chunks of several rows
  auto value = [](std::size_t m, std::size_t i) {
    return static_cast<float>(m) * 1000.0f + static_cast<float>(i) * 0.5f;
  };
  {
    H5File f(path, H5File::Mode::Create);
    f.createFloatDataset("/frames/x", {M, F, D}, "nm");
    std::vector<float> rows;
    // Uneven batches: 1 row, then 3, then 2, ... in increasing order.
    std::size_t m = 0;
    for (std::size_t batch = 1; m < M; batch = batch % 3 + 1) {
      const std::size_t n = std::min(batch, M - m);
      rows.assign(n * F * D, 0.0f);
      for (std::size_t r = 0; r < n; ++r)
        for (std::size_t i = 0; i < F * D; ++i) rows[r * F * D + i] = value(m + r, i);
      f.writeFloatRows("/frames/x", m, n, rows.data());
      m += n;
    }
    f.writeFloatRows("/frames/x", M, 0, nullptr);  // an empty write at the end is fine
    EXPECT_TRUE(Contains(errorOf([&] { f.writeFloatRows("/frames/x", M - 1, 2, rows.data()); }),
                         "out of range"));
    EXPECT_TRUE(Contains(errorOf([&] { f.writeFloatRows("/frames/none", 0, 1, rows.data()); }),
                         "no such dataset"));
  }
  H5File f(path, H5File::Mode::Read);
  EXPECT_EQ(f.shape("/frames/x"), (std::vector<std::size_t>{M, F, D}));
  const auto all = f.readDoubles("/frames/x");
  ASSERT_EQ(all.size(), M * F * D);
  std::size_t mismatches = 0;
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t i = 0; i < F * D; ++i)
      mismatches += all[m * F * D + i] != static_cast<double>(value(m, i));
  EXPECT_EQ(mismatches, 0u);
}

TEST(H5File, RowWiseWritesOutOfOrderAndHugeRows) {
  const std::string path = tempFile();
  const std::size_t M = 4, F = 300000, D = 1;  // one row (1.2 MB) is bigger than a chunk
  {
    H5File f(path, H5File::Mode::Create);
    f.createFloatDataset("/big", {M, F, D}, "1");
    std::vector<float> row(F * D);
    for (std::size_t m : {2u, 0u, 3u, 1u}) {
      for (std::size_t i = 0; i < row.size(); ++i) row[i] = static_cast<float>(m * F + i % 1000);
      f.writeFloatRows("/big", m, 1, row.data());
    }
  }
  H5File f(path, H5File::Mode::Read);
  const auto all = f.readDoubles("/big");
  ASSERT_EQ(all.size(), M * F * D);
  std::size_t mismatches = 0;
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t i = 0; i < F * D; ++i)
      mismatches += all[m * F * D + i] != static_cast<double>(static_cast<float>(m * F + i % 1000));
  EXPECT_EQ(mismatches, 0u);
}

TEST(H5File, UnwrittenRowsReadAsZero) {
  const std::string path = tempFile();
  const std::vector<float> row = {1, 2};
  {
    H5File f(path, H5File::Mode::Create);
    f.createFloatDataset("/r", {3, 2}, "1");
    f.writeFloatRows("/r", 1, 1, row.data());
  }
  H5File f(path, H5File::Mode::Read);
  EXPECT_EQ(f.readDoubles("/r"), (std::vector<double>{0, 0, 1, 2, 0, 0}));
}

TEST(H5File, MissingFileErrorNamesThePath) {
  const std::string path = tempFile();
  const std::string message = errorOf([&] { H5File f(path, H5File::Mode::Read); });
  EXPECT_TRUE(Contains(message, path));
  EXPECT_TRUE(Contains(message, "no such file"));
}

TEST(H5File, NonHdf5FileErrorNamesThePath) {
  const std::string path = tempFile(".txt");
  std::ofstream(path) << "this is not an HDF5 file\n";
  const std::string message = errorOf([&] { H5File f(path, H5File::Mode::Read); });
  EXPECT_EQ(message, path + ": not an HDF5 file");
}

TEST(H5File, CreateInMissingDirectoryFails) {
  const std::string path = tempFile("_dir") + "/sub/x.h5";
  const std::string message = errorOf([&] { H5File f(path, H5File::Mode::Create); });
  EXPECT_TRUE(Contains(message, path));
  EXPECT_TRUE(Contains(message, "cannot create file"));
}

TEST(H5File, MissingDatasetAndReadOnlyErrors) {
  const std::string path = tempFile();
  const double d = 1;
  {
    H5File f(path, H5File::Mode::Create);
    f.writeDoubles("/a", {}, &d, "1");
  }
  H5File f(path, H5File::Mode::Read);
  const std::string missing = errorOf([&] { f.readDoubles("/curve/l"); });
  EXPECT_TRUE(Contains(missing, path));
  EXPECT_TRUE(Contains(missing, "/curve/l"));
  EXPECT_TRUE(Contains(missing, "no such dataset"));
  EXPECT_TRUE(Contains(errorOf([&] { f.readString("/nothing"); }), "/nothing"));
  EXPECT_TRUE(Contains(errorOf([&] { f.attributeNames("/nothing"); }), "no such object"));
  EXPECT_TRUE(Contains(errorOf([&] { f.writeDoubles("/b", {}, &d, "1"); }), "read-only"));
  EXPECT_TRUE(Contains(errorOf([&] { f.setAttribute("/", "k", 1.0, "1"); }), "read-only"));
  f.close();
  EXPECT_TRUE(Contains(errorOf([&] { f.readDoubles("/a"); }), "closed"));
  f.close();  // closing twice is harmless
}

TEST(AtomicH5Writer, BeforeCommitOnlyTheTemporaryFileExists) {
  const std::string finalPath = tempFile();
  AtomicH5Writer writer(finalPath);
  const double d = 1;
  writer.file().writeDoubles("/a", {}, &d, "1");
  writer.file().flush();
  EXPECT_EQ(writer.temporaryPath(), finalPath + ".tmp-" + std::to_string(::getpid()));
  EXPECT_TRUE(fs::exists(writer.temporaryPath()));
  EXPECT_FALSE(fs::exists(finalPath));
  writer.commit();
}

TEST(AtomicH5Writer, AfterCommitOnlyTheFinalFileExists) {
  const std::string finalPath = tempFile("_dir") + "/nested/out.h5";  // parents are created
  std::string tmp;
  const std::vector<double> data = {1, 2, 3};
  {
    AtomicH5Writer writer(finalPath);
    tmp = writer.temporaryPath();
    writer.file().writeDoubles("/v", {3}, data.data(), "nm");
    writer.commit();
    EXPECT_TRUE(fs::exists(finalPath));
    EXPECT_FALSE(fs::exists(tmp));
    EXPECT_TRUE(Contains(errorOf([&] { writer.commit(); }), "already committed"));
  }
  EXPECT_TRUE(fs::exists(finalPath));  // the destructor after commit keeps it
  EXPECT_FALSE(fs::exists(tmp));
  H5File f(finalPath, H5File::Mode::Read);
  EXPECT_EQ(f.readDoubles("/v"), data);
}

TEST(AtomicH5Writer, CommitReplacesAnExistingFile) {
  const std::string finalPath = tempFile();
  const double one = 1, two = 2;
  for (const double* v : {&one, &two}) {
    AtomicH5Writer writer(finalPath);
    writer.file().writeDoubles("/v", {}, v, "1");
    writer.commit();
  }
  H5File f(finalPath, H5File::Mode::Read);
  EXPECT_EQ(f.readDoubles("/v"), std::vector<double>{2});
}

TEST(AtomicH5Writer, DestroyedWithoutCommitLeavesNoFile) {
  const std::string finalPath = tempFile();
  std::string tmp;
  try {
    AtomicH5Writer writer(finalPath);
    tmp = writer.temporaryPath();
    writer.file().createFloatDataset("/frames", {10, 4}, "nm");
    const std::vector<float> row(4, 1.0f);
    writer.file().writeFloatRows("/frames", 0, 1, row.data());
    EXPECT_TRUE(fs::exists(tmp));
    throw std::runtime_error("job failed mid-write");
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "job failed mid-write");
  }
  ASSERT_FALSE(tmp.empty());
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_FALSE(fs::exists(finalPath));

  {  // an H5Error from the writer itself (empty units) behaves the same
    AtomicH5Writer writer(finalPath);
    const double d = 1;
    EXPECT_THROW(writer.file().writeDoubles("/x", {}, &d, ""), H5Error);
  }
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_FALSE(fs::exists(finalPath));
}

// ---------------------------------------------------------------------------------------------
// Independent check with h5py.

/// A python3 interpreter that can import h5py and numpy, or "" if there is none.
std::string pythonWithH5py() {
  for (const char* python : {"python3", "/usr/bin/python3"}) {
    const std::string command = std::string(python) + " -c \"import h5py, numpy\" > /dev/null 2>&1";
    if (std::system(command.c_str()) == 0) return python;
  }
  return {};
}

TEST(H5File, H5pyReadsDatasetsAndUnits) {
  const std::string python = pythonWithH5py();
  if (python.empty()) GTEST_SKIP() << "python3 with h5py and numpy is not installed";

  const std::string path = tempFile();
  const std::vector<double> doubles = {0.125, -7.5, 1e-12, 3.0, 4.0, 5.0};
  const std::vector<std::int64_t> ints = {-3, 0, 1234567890123};
  {
    AtomicH5Writer writer(path);
    H5File& f = writer.file();
    f.writeDoubles("/curve/l", {2, 3}, doubles.data(), "nm");
    f.writeInts("/counts", {3}, ints.data(), "1");
    f.writeString("/config/yaml", "a: 1\nb: ℏ\n");
    f.createFloatDataset("/frames/x", {3, 2, 2}, "angstrom");
    for (std::size_t m = 0; m < 3; ++m) {
      const std::vector<float> row = {float(m), float(m) + 0.5f, -float(m), 0.25f};
      f.writeFloatRows("/frames/x", m, 1, row.data());
    }
    f.setAttribute("/", "version", std::string("0.1.0"));
    f.setAttribute("/curve", "n", std::int64_t{42}, "1");
    f.setAttribute("/curve/l", "scale", 2.5, "nm");
    writer.commit();
  }

  const std::string script = tempFile(".py");
  std::ofstream(script) << R"PY(
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
def units(name):
    u = f[name].attrs["units"]
    return u.decode() if isinstance(u, bytes) else u
l = f["/curve/l"]
assert l.dtype == np.float64, l.dtype
assert l.shape == (2, 3), l.shape
assert np.array_equal(l[()], np.array([[0.125, -7.5, 1e-12], [3.0, 4.0, 5.0]])), l[()]
assert units("/curve/l") == "nm", units("/curve/l")
assert isinstance(f["/curve/l"].attrs["units"], str)
c = f["/counts"]
assert c.dtype == np.int64 and list(c[()]) == [-3, 0, 1234567890123], c[()]
assert units("/counts") == "1"
y = f["/config/yaml"][()]
y = y.decode() if isinstance(y, bytes) else y
assert y == "a: 1\nb: \u210f\n", repr(y)
x = f["/frames/x"]
assert x.dtype == np.float32 and x.shape == (3, 2, 2), (x.dtype, x.shape)
assert x.chunks is not None and x.chunks[1:] == (2, 2), x.chunks
expect = np.array([[[m, m + 0.5], [-m, 0.25]] for m in range(3)], dtype=np.float32)
assert np.array_equal(x[()], expect), x[()]
assert units("/frames/x") == "angstrom"
assert f.attrs["version"] == "0.1.0", f.attrs["version"]
assert f["/curve"].attrs["n"] == 42
assert f["/curve/l"].attrs["scale"] == 2.5
names = []
f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
for n in names:
    assert units(n), n
print("h5py ok", sorted(names))
)PY";
  const std::string command = python + " " + script + " " + path;
  EXPECT_EQ(std::system(command.c_str()), 0) << "h5py check failed: " << command;
  fs::remove(script);
}

}  // namespace
}  // namespace geotps
