// Tests of the PDB, DCD and mdtraj HDF5 files: reading the shipped alanine dipeptide PDBs, error
// messages for malformed files, write/read round trips, the DCD byte layout, the mdtraj HDF5
// layout, and (where python3 has mdtraj) an independent read-back of our files with mdtraj.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "engine/io/dcd_file.h"
#include "engine/io/h5_file.h"
#include "engine/io/mdtraj_file.h"
#include "engine/io/pdb_file.h"
#include "tests/test_support.h"

namespace geotps {
namespace {

namespace fs = std::filesystem;

/// A file name unique to the running test; removed when the test program exits.
std::string tempFile(const std::string& suffix) {
  return geotps::test::tempPath("geotps_io_", suffix);
}

std::string alaninePdb(const std::string& name) {
  return std::string(GEOTPS_SOURCE_DIR) + "/data/alanine_dipeptide/" + name + ".pdb";
}

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void writeLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path);
  for (const auto& line : lines) out << line << "\n";
}

/// Runs `f`, expects a std::runtime_error, returns its message.
template <class F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected std::runtime_error, got another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected std::runtime_error, nothing was thrown";
  return {};
}

/// True when no temporary sibling of `path` (path.tmp-PID) was left behind.
bool noTemporaryLeft(const std::string& path) {
  const fs::path p(path);
  for (const auto& entry : fs::directory_iterator(p.parent_path())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(p.filename().string() + ".tmp-", 0) == 0) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// PDB

TEST(PdbFile, ReadsShippedAlanineDipeptide) {
  const std::vector<std::string> names = {"H1", "CH3", "H2", "H3",  "C",   "O",   "N", "H",
                                          "CA", "HA",  "CB", "HB1", "HB2", "HB3", "C", "O",
                                          "N",  "H",   "C",  "H1",  "H2",  "H3"};
  const std::vector<std::string> residues = {"ACE", "ACE", "ACE", "ACE", "ACE", "ACE", "ALA", "ALA",
                                             "ALA", "ALA", "ALA", "ALA", "ALA", "ALA", "ALA", "ALA",
                                             "NME", "NME", "NME", "NME", "NME", "NME"};
  struct Case {
    const char* file;
    double x0, y0, z0;  // atom 0 in the file, Angstrom
  };
  for (const Case& c :
       {Case{"extended", -2.882, -0.906, 2.598}, Case{"c7ax", -2.740, -0.386, 2.597}}) {
    SCOPED_TRACE(c.file);
    const PdbStructure s = readPdb(alaninePdb(c.file));
    ASSERT_EQ(s.atoms.size(), 22u);
    for (std::size_t i = 0; i < 22; ++i) {
      EXPECT_EQ(s.atoms[i].name, names[i]) << i;
      EXPECT_EQ(s.atoms[i].residueName, residues[i]) << i;
      EXPECT_EQ(s.atoms[i].serial, int(i) + 1);
      EXPECT_EQ(s.atoms[i].chain, 'A');
      EXPECT_EQ(s.atoms[i].residueNumber, i < 6 ? 1 : (i < 16 ? 2 : 3));
      EXPECT_EQ(s.atoms[i].element, names[i].substr(0, 1)) << i;
    }
    EXPECT_NEAR(s.atoms[0].x, c.x0 / 10, 1e-12);
    EXPECT_NEAR(s.atoms[0].y, c.y0 / 10, 1e-12);
    EXPECT_NEAR(s.atoms[0].z, c.z0 / 10, 1e-12);
    // CONECT (after ENDMDL in these files): the capping groups' 12 bonds, 0-based.
    ASSERT_EQ(s.bonds.size(), 12u);
    EXPECT_EQ(s.bonds[0], std::make_pair(0, 1));
    EXPECT_EQ(s.bonds[1], std::make_pair(1, 4));
    EXPECT_EQ(s.bonds.back(), std::make_pair(18, 21));
    const std::vector<double> r = s.positionsNm();
    ASSERT_EQ(r.size(), 66u);
    EXPECT_EQ(r[3 * 21 + 2], s.atoms[21].z);
  }
}

/// The lines of a small valid PDB file: 3 atoms, a CONECT, END.
std::vector<std::string> smallPdbLines() {
  return {
      "REMARK   1 A TEST FILE",
      "ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N  ",
      "ATOM      2  CA  ALA A   1      11.639   6.071  -5.147  1.00  0.00           C  ",
      "HETATM    3 CL   CL  B   2      -1.000   2.500  10.000  1.00  0.00          CL  ",
      "CONECT    1    2",
      "END",
  };
}

TEST(PdbFile, ReadsFieldsByColumn) {
  const std::string path = tempFile(".pdb");
  writeLines(path, smallPdbLines());
  const PdbStructure s = readPdb(path);
  ASSERT_EQ(s.atoms.size(), 3u);
  EXPECT_EQ(s.atoms[2].serial, 3);
  EXPECT_EQ(s.atoms[2].name, "CL");
  EXPECT_EQ(s.atoms[2].residueName, "CL");
  EXPECT_EQ(s.atoms[2].chain, 'B');
  EXPECT_EQ(s.atoms[2].residueNumber, 2);
  EXPECT_EQ(s.atoms[2].element, "CL");
  EXPECT_NEAR(s.atoms[2].x, -0.1, 1e-15);
  EXPECT_NEAR(s.atoms[2].y, 0.25, 1e-15);
  EXPECT_NEAR(s.atoms[2].z, 1.0, 1e-15);
  ASSERT_EQ(s.bonds.size(), 1u);
  EXPECT_EQ(s.bonds[0], std::make_pair(0, 1));
}

TEST(PdbFile, InfersElementFromNameWhenColumnsAreBlank) {
  const std::string path = tempFile(".pdb");
  writeLines(path, {
                       "ATOM      1  N   ALA A   1      11.104   6.134  -6.504",
                       "ATOM      2 1HB  ALA A   1      11.639   6.071  -5.147  1.00  0.00",
                       "ATOM      3  CA  ALA A   1      11.639   6.071  -5.147  1.00  0.00        ",
                   });
  const PdbStructure s = readPdb(path);
  ASSERT_EQ(s.atoms.size(), 3u);
  EXPECT_EQ(s.atoms[0].element, "N");
  EXPECT_EQ(s.atoms[1].name, "1HB");
  EXPECT_EQ(s.atoms[1].element, "H");
  EXPECT_EQ(s.atoms[2].element, "C");
  EXPECT_TRUE(s.bonds.empty());
}

TEST(PdbFile, ReadsOnlyTheFirstModel) {
  const std::string path = tempFile(".pdb");
  writeLines(path,
             {
                 "MODEL        1",
                 "ATOM      1  N   ALA A   1       1.000   2.000   3.000  1.00  0.00           N",
                 "ATOM      2  CA  ALA A   1       4.000   5.000   6.000  1.00  0.00           C",
                 "ENDMDL",
                 "MODEL        2",
                 "ATOM      1  N   ALA A   1      10.000  20.000  30.000  1.00  0.00           N",
                 "ATOM      2  CA  ALA A   1      40.000  50.000  60.000  1.00  0.00           C",
                 "ENDMDL",
                 "CONECT    1    2",
                 "END",
             });
  const PdbStructure s = readPdb(path);
  ASSERT_EQ(s.atoms.size(), 2u);
  EXPECT_NEAR(s.atoms[1].x, 0.4, 1e-15);
  EXPECT_EQ(s.bonds.size(), 1u);
  PdbStructure top;
  const auto frames = readPdbModels(path, &top);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(top.atoms.size(), 2u);
  EXPECT_NEAR(frames[1][5], 6.0, 1e-14);
}

TEST(PdbFile, NonNumericCoordinateNamesFileLineAndField) {
  std::vector<std::string> lines = readLines(alaninePdb("c7ax"));
  ASSERT_GE(lines.size(), 6u);
  // Line 5 is atom 4 (H3); put a letter into x (columns 31-38).
  ASSERT_EQ(lines[4].substr(0, 4), "ATOM");
  lines[4].replace(30, 8, "  -3.4x9");
  const std::string path = tempFile("_c7ax.pdb");
  writeLines(path, lines);
  const std::string message = errorOf([&] { readPdb(path); });
  EXPECT_NE(message.find(path + ":5: coordinate field x (columns 31-38) is not a number"),
            std::string::npos)
      << message;

  lines = readLines(alaninePdb("c7ax"));
  lines[2].replace(46, 8, "        ");  // blank z on line 3
  writeLines(path, lines);
  const std::string blank = errorOf([&] { readPdb(path); });
  EXPECT_NE(blank.find(path + ":3: coordinate field z (columns 47-54) is not a number"),
            std::string::npos)
      << blank;
}

TEST(PdbFile, TruncatedAtomLineNamesFileAndLine) {
  std::vector<std::string> lines = smallPdbLines();
  lines[2] = lines[2].substr(0, 45);  // ends inside y
  const std::string path = tempFile(".pdb");
  writeLines(path, lines);
  const std::string message = errorOf([&] { readPdb(path); });
  EXPECT_NE(message.find(path + ":3: truncated ATOM record"), std::string::npos) << message;
  EXPECT_NE(message.find("expected at least 54"), std::string::npos) << message;
}

TEST(PdbFile, OtherMalformedRecordsNameFileAndLine) {
  const std::string path = tempFile(".pdb");
  std::vector<std::string> lines = smallPdbLines();
  lines[1].replace(22, 4, "  x1");  // residue number
  writeLines(path, lines);
  std::string message = errorOf([&] { readPdb(path); });
  EXPECT_NE(message.find(path + ":2: residue sequence number (columns 23-26) is not an integer"),
            std::string::npos)
      << message;

  lines = smallPdbLines();
  lines[4] = "CONECT    1    9";
  writeLines(path, lines);
  message = errorOf([&] { readPdb(path); });
  EXPECT_NE(message.find(path + ":5: CONECT refers to atom serial 9"), std::string::npos)
      << message;

  lines = smallPdbLines();
  lines[1].replace(12, 4, "    ");
  writeLines(path, lines);
  message = errorOf([&] { readPdb(path); });
  EXPECT_NE(message.find(path + ":2: atom name (columns 13-16) is blank"), std::string::npos)
      << message;

  writeLines(path, {"MODEL        1", smallPdbLines()[1], "MODEL        2", "END"});
  message = errorOf([&] { readPdb(path); });
  EXPECT_NE(message.find(path + ":3: MODEL record inside a model"), std::string::npos) << message;

  // Models of different sizes: readPdb reads the first only, readPdbModels refuses.
  writeLines(path, {"MODEL        1", smallPdbLines()[1], smallPdbLines()[2], "ENDMDL",
                    "MODEL        2", smallPdbLines()[1], "ENDMDL", "END"});
  EXPECT_EQ(readPdb(path).atoms.size(), 2u);
  message = errorOf([&] { readPdbModels(path); });
  EXPECT_NE(message.find(path + ":7: model 2 (starting at line 5) has 1 atoms, expected 2"),
            std::string::npos)
      << message;
}

TEST(PdbFile, FileWithoutAtomsIsAnError) {
  const std::string path = tempFile(".pdb");
  writeLines(path, {"REMARK nothing here", "CRYST1   10.000   10.000   10.000  90.00  90.00  90.00",
                    "END"});
  const std::string message = errorOf([&] { readPdb(path); });
  EXPECT_NE(message.find(path + ": no ATOM or HETATM records"), std::string::npos) << message;

  writeLines(path, {});
  const std::string empty = errorOf([&] { readPdb(path); });
  EXPECT_NE(empty.find(path + ": no ATOM or HETATM records"), std::string::npos) << empty;
}

TEST(PdbFile, MissingFileNamesTheFile) {
  const std::string path = tempFile("_missing.pdb");
  const std::string message = errorOf([&] { readPdb(path); });
  EXPECT_NE(message.find(path + ": no such file; expected a PDB file"), std::string::npos)
      << message;
}

/// The shipped extended structure with its coordinates moved randomly by up to ~1 nm.
std::vector<double> perturbed(const std::vector<double>& r, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> out = r;
  for (double& x : out) x += u(rng);
  return out;
}

void expectSameTopology(const PdbStructure& a, const PdbStructure& b) {
  ASSERT_EQ(a.atoms.size(), b.atoms.size());
  for (std::size_t i = 0; i < a.atoms.size(); ++i) {
    EXPECT_EQ(a.atoms[i].name, b.atoms[i].name) << i;
    EXPECT_EQ(a.atoms[i].residueName, b.atoms[i].residueName) << i;
    EXPECT_EQ(a.atoms[i].residueNumber, b.atoms[i].residueNumber) << i;
    EXPECT_EQ(a.atoms[i].chain, b.atoms[i].chain) << i;
    EXPECT_EQ(a.atoms[i].element, b.atoms[i].element) << i;
  }
  EXPECT_EQ(a.bonds, b.bonds);
}

TEST(PdbFile, SingleModelRoundTrip) {
  const PdbStructure top = readPdb(alaninePdb("extended"));
  const std::vector<double> r = perturbed(top.positionsNm(), 1);
  const std::string path = tempFile(".pdb");
  writePdb(path, top, {r});
  EXPECT_TRUE(noTemporaryLeft(path));
  const PdbStructure back = readPdb(path);
  expectSameTopology(top, back);
  const std::vector<double> rb = back.positionsNm();
  ASSERT_EQ(rb.size(), r.size());
  for (std::size_t k = 0; k < r.size(); ++k) EXPECT_NEAR(rb[k], r[k], 1e-4) << k;  // 3 decimals Å

  const std::string text = readText(path);
  EXPECT_EQ(text.find("MODEL"), std::string::npos);
  EXPECT_EQ(text.find("CRYST1"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 4), "END\n");
  // Fixed columns: every ATOM line is 80 characters, x of atom 0 in columns 31-38.
  const std::vector<std::string> lines = readLines(path);
  for (const auto& line : lines) {
    if (line.rfind("ATOM", 0) == 0) {
      EXPECT_EQ(line.size(), 80u) << line;
    }
  }
  char x0[16];
  std::snprintf(x0, sizeof x0, "%8.3f", r[0] * 10);
  EXPECT_EQ(lines[1].substr(30, 8), x0);

  // Without CONECT.
  writePdb(path, top, {r}, /*writeConect=*/false);
  EXPECT_EQ(readText(path).find("CONECT"), std::string::npos);
  EXPECT_TRUE(readPdb(path).bonds.empty());
}

TEST(PdbFile, MultiModelRoundTrip) {
  const PdbStructure top = readPdb(alaninePdb("c7ax"));
  const std::vector<std::vector<double>> frames = {perturbed(top.positionsNm(), 2),
                                                   perturbed(top.positionsNm(), 3),
                                                   perturbed(top.positionsNm(), 4)};
  const std::string path = tempFile(".pdb");
  writePdb(path, top, frames);
  PdbStructure back;
  const auto read = readPdbModels(path, &back);
  expectSameTopology(top, back);
  ASSERT_EQ(read.size(), frames.size());
  for (std::size_t f = 0; f < frames.size(); ++f) {
    ASSERT_EQ(read[f].size(), frames[f].size());
    for (std::size_t k = 0; k < frames[f].size(); ++k)
      EXPECT_NEAR(read[f][k], frames[f][k], 1e-4) << f << " " << k;
  }
  // readPdb: the first model.
  const std::vector<double> first = readPdb(path).positionsNm();
  for (std::size_t k = 0; k < first.size(); ++k) EXPECT_NEAR(first[k], frames[0][k], 1e-4);
  const std::string text = readText(path);
  EXPECT_NE(text.find("MODEL        1\n"), std::string::npos);
  EXPECT_NE(text.find("MODEL        3\n"), std::string::npos);
  int endmdl = 0;
  for (const auto& line : readLines(path)) endmdl += line == "ENDMDL";
  EXPECT_EQ(endmdl, 3);
}

TEST(PdbFile, WriteErrorsNameTheFile) {
  const PdbStructure top = readPdb(alaninePdb("c7ax"));
  const std::string path = tempFile(".pdb");
  std::string message = errorOf([&] { writePdb(path, top, {std::vector<double>(65, 0.0)}); });
  EXPECT_NE(message.find(path + ": frame 0 has 65 values, expected 3*22 = 66"), std::string::npos)
      << message;
  std::vector<double> far = top.positionsNm();
  far[4] = -150.0;  // -1500 Angstrom does not fit 8.3f
  message = errorOf([&] { writePdb(path, top, {far}); });
  EXPECT_NE(message.find(path + ": frame 0, atom 1"), std::string::npos) << message;
  message = errorOf([&] { writePdb(path, top, {}); });
  EXPECT_NE(message.find(path + ": no frames"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(noTemporaryLeft(path));
  const std::string inMissingDir = tempFile("_nodir") + "/x.pdb";
  message = errorOf([&] { writePdb(inMissingDir, top, {top.positionsNm()}); });
  EXPECT_NE(message.find(inMissingDir), std::string::npos) << message;
}

// ---------------------------------------------------------------------------------------------
// DCD

constexpr int kDcdAtoms = 22;
constexpr int kDcdFrames = 5;

/// Known coordinates, in nm: distinct for every frame, atom and axis, both signs, up to ~9 nm.
std::vector<std::vector<double>> knownFrames() {
  std::vector<std::vector<double>> frames(kDcdFrames, std::vector<double>(3 * kDcdAtoms));
  for (int f = 0; f < kDcdFrames; ++f)
    for (int i = 0; i < kDcdAtoms; ++i)
      for (int d = 0; d < 3; ++d)
        frames[f][3 * i + d] = (d == 1 ? -1.0 : 1.0) * (0.4 * f + 0.1234 * i) + 0.001 * d;
  return frames;
}

// The layout computed by hand (dcd_file.h): header record 4 + 84 + 4 = 92 bytes, title record
// 4 + (4 + 2*80) + 4 = 172, atom count 4 + 4 + 4 = 12; each frame three records of
// 4 + 4*22 + 4 = 96 bytes.
constexpr std::uintmax_t kDcdHeaderBytes = 92 + 172 + 12;
constexpr std::uintmax_t kDcdFrameBytes = 3 * (4 + 4 * kDcdAtoms + 4);

std::int32_t int32At(const std::string& bytes, std::size_t offset) {
  std::uint32_t u = 0;
  for (int b = 3; b >= 0; --b) u = (u << 8) | static_cast<unsigned char>(bytes[offset + b]);
  return static_cast<std::int32_t>(u);
}

TEST(DcdFile, RoundTripFiveFramesOf22Atoms) {
  const auto frames = knownFrames();
  const std::string path = tempFile(".dcd");
  writeDcd(path, frames, 0.002);
  EXPECT_TRUE(noTemporaryLeft(path));
  int nAtoms = 0;
  const auto back = readDcd(path, nAtoms);
  EXPECT_EQ(nAtoms, kDcdAtoms);
  ASSERT_EQ(back.size(), frames.size());
  for (int f = 0; f < kDcdFrames; ++f) {
    ASSERT_EQ(back[f].size(), frames[f].size());
    for (std::size_t k = 0; k < frames[f].size(); ++k)
      EXPECT_NEAR(back[f][k] * 10, frames[f][k] * 10, 1e-3) << f << " " << k;  // Angstrom
  }
}

TEST(DcdFile, FileSizeAndHeaderMatchTheLayout) {
  const std::string path = tempFile(".dcd");
  writeDcd(path, knownFrames(), 0.002);
  EXPECT_EQ(fs::file_size(path), kDcdHeaderBytes + kDcdFrames * kDcdFrameBytes);
  EXPECT_EQ(fs::file_size(path), 1716u);
  const std::string bytes = readText(path);
  EXPECT_EQ(int32At(bytes, 0), 84);
  EXPECT_EQ(bytes.substr(4, 4), "CORD");
  EXPECT_EQ(int32At(bytes, 8), kDcdFrames);   // NSET
  EXPECT_EQ(int32At(bytes, 8 + 4 * 10), 0);   // no unit cell
  EXPECT_EQ(int32At(bytes, 8 + 4 * 19), 24);  // CHARMM version
  EXPECT_EQ(int32At(bytes, 88), 84);
  float delta = 0;
  std::memcpy(&delta, bytes.data() + 8 + 4 * 9, 4);  // little-endian host assumed here
  EXPECT_NEAR(delta, 0.002 / 0.0488882129, 1e-7);    // AKMA time units
  EXPECT_EQ(int32At(bytes, 92), 164);                // title record
  EXPECT_EQ(int32At(bytes, 96), 2);
  EXPECT_EQ(bytes.substr(100, 7), "REMARKS");
  EXPECT_EQ(int32At(bytes, 264), 4);
  EXPECT_EQ(int32At(bytes, 268), kDcdAtoms);
  EXPECT_EQ(int32At(bytes, 276), 4 * kDcdAtoms);  // first x record
  // x of atom 1 in frame 0: 0.1234 nm = 1.234 Angstrom.
  float x1 = 0;
  std::memcpy(&x1, bytes.data() + 280 + 4, 4);
  EXPECT_NEAR(x1, 1.234f, 1e-6);
}

// ISTART, NSAVC and NSTEP carry the step of the first frame and the steps between frames, so that
// readers give frame k the time (ISTART + k NSAVC) DELTA; bad values are refused, naming the file.
TEST(DcdFile, HeaderHoldsFirstStepAndStride) {
  const std::string path = tempFile(".dcd");
  writeDcd(path, knownFrames(), 0.002, 5, 5);
  const std::string bytes = readText(path);
  EXPECT_EQ(int32At(bytes, 8), kDcdFrames);           // NSET
  EXPECT_EQ(int32At(bytes, 8 + 4), 5);                // ISTART
  EXPECT_EQ(int32At(bytes, 8 + 8), 5);                // NSAVC
  EXPECT_EQ(int32At(bytes, 8 + 12), 5 * kDcdFrames);  // NSTEP
  int nAtoms = 0;
  EXPECT_EQ(readDcd(path, nAtoms).size(), static_cast<std::size_t>(kDcdFrames));
  std::string message = errorOf([&] { writeDcd(path + "x", knownFrames(), 0.002, -1, 5); });
  EXPECT_NE(message.find(path + "x: first step -1 and step stride 5 do not fit"), std::string::npos)
      << message;
  message = errorOf([&] { writeDcd(path + "x", knownFrames(), 0.002, 0, 0); });
  EXPECT_NE(message.find("a stride of at least 1"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(path + "x"));
}

TEST(DcdFile, TruncatedFileGivesClearError) {
  const std::string path = tempFile(".dcd");
  writeDcd(path, knownFrames());
  fs::resize_file(path, kDcdHeaderBytes + 4 * kDcdFrameBytes + 100);
  int nAtoms = 0;
  std::string message = errorOf([&] { readDcd(path, nAtoms); });
  EXPECT_NE(message.find(path + ": truncated or corrupt file: the header says 5 frames of 22 "
                                "atoms"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("hold 4 complete frames and 100 more bytes"), std::string::npos)
      << message;
  // A whole frame missing is also refused (NSET says 5).
  fs::resize_file(path, kDcdHeaderBytes + 4 * kDcdFrameBytes);
  message = errorOf([&] { readDcd(path, nAtoms); });
  EXPECT_NE(message.find("hold 4 complete frames and 0 more bytes"), std::string::npos) << message;
  // Cut inside the header.
  fs::resize_file(path, 150);
  message = errorOf([&] { readDcd(path, nAtoms); });
  EXPECT_NE(message.find(path + ": truncated file: the title needs"), std::string::npos) << message;
}

TEST(DcdFile, OtherErrorsNameTheFile) {
  const std::string path = tempFile(".dcd");
  int nAtoms = 0;
  std::string message = errorOf([&] { readDcd(path, nAtoms); });
  EXPECT_NE(message.find(path + ": no such file; expected a DCD file"), std::string::npos)
      << message;
  // Not a DCD file.
  writeLines(path, {"ATOM      1  N   ALA A   1      11.104   6.134  -6.504"});
  message = errorOf([&] { readDcd(path, nAtoms); });
  EXPECT_NE(message.find(path + ": not a DCD file"), std::string::npos) << message;
  // A corrupt record marker in frame 2.
  writeDcd(path, knownFrames());
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(kDcdHeaderBytes + 2 * kDcdFrameBytes + 96));
    const char bad[4] = {1, 0, 0, 0};
    f.write(bad, 4);
  }
  message = errorOf([&] { readDcd(path, nAtoms); });
  EXPECT_NE(message.find(path + ": bad record marker for the y coordinates"), std::string::npos)
      << message;
  // Writer: inconsistent frames, no frames, non-finite values; nothing is left behind.
  const std::string out = tempFile("_out.dcd");
  auto frames = knownFrames();
  frames[3].pop_back();
  message = errorOf([&] { writeDcd(out, frames); });
  EXPECT_NE(message.find(out + ": frame 3 has 65 values, expected 66"), std::string::npos)
      << message;
  message = errorOf([&] { writeDcd(out, {}); });
  EXPECT_NE(message.find(out + ": no frames"), std::string::npos) << message;
  frames = knownFrames();
  frames[1][7] = std::nan("");
  message = errorOf([&] { writeDcd(out, frames); });
  EXPECT_NE(message.find(out + ": frame 1, atom 2"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(noTemporaryLeft(out));
}

// ---------------------------------------------------------------------------------------------
// Independent check with mdtraj.

bool pythonHasMdtraj() {
  return std::system("/usr/bin/python3 -c \"import mdtraj\" > /dev/null 2>&1") == 0;
}

/// Runs a shell command and returns its standard output.
std::string runAndCapture(const std::string& command, int& status) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) {
    status = -1;
    return output;
  }
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  status = ::pclose(pipe);
  return output;
}

TEST(DcdFile, MdtrajLoadsOurDcdWithOurPdbAsTopology) {
  if (!pythonHasMdtraj()) GTEST_SKIP() << "/usr/bin/python3 cannot import mdtraj";
  const PdbStructure top = readPdb(alaninePdb("extended"));
  const auto frames = knownFrames();
  const std::string dcd = tempFile(".dcd");
  const std::string pdb = tempFile(".pdb");
  const std::string multi = tempFile("_multi.pdb");
  writeDcd(dcd, frames, 0.001);
  writePdb(pdb, top, {frames[0]});
  writePdb(multi, top, {frames[0], frames[2], frames[4]});

  const std::string script = tempFile(".py");
  std::ofstream(script) << R"PY(
import sys, mdtraj as md
dcd, pdb, multi = sys.argv[1:4]
t = md.load(dcd, top=pdb)
print(t.n_frames, t.n_atoms)
# mdtraj holds nm; print Angstrom
print(" ".join("%.6f" % (10 * v) for v in t.xyz[3, 7]))
print(" ".join(a.name for a in t.topology.atoms))
print(" ".join(r.name for r in t.topology.residues))
m = md.load(multi)
print(m.n_frames, m.n_atoms)
print(" ".join("%.6f" % (10 * v) for v in m.xyz[2, 20]))
)PY";
  int status = 0;
  const std::string output =
      runAndCapture("/usr/bin/python3 " + script + " " + dcd + " " + pdb + " " + multi, status);
  ASSERT_EQ(status, 0) << output;
  std::istringstream in(output);
  int nFrames = 0, nAtoms = 0;
  in >> nFrames >> nAtoms;
  EXPECT_EQ(nFrames, kDcdFrames);
  EXPECT_EQ(nAtoms, kDcdAtoms);
  for (int d = 0; d < 3; ++d) {
    double v = 0;
    in >> v;
    EXPECT_NEAR(v, frames[3][3 * 7 + d] * 10, 1e-3) << "axis " << d;
  }
  std::string line;
  std::getline(in, line);  // rest of the coordinate line
  std::getline(in, line);
  EXPECT_EQ(line, "H1 CH3 H2 H3 C O N H CA HA CB HB1 HB2 HB3 C O N H C H1 H2 H3");
  std::getline(in, line);
  EXPECT_EQ(line, "ACE ALA NME");
  in >> nFrames >> nAtoms;
  EXPECT_EQ(nFrames, 3);
  EXPECT_EQ(nAtoms, kDcdAtoms);
  for (int d = 0; d < 3; ++d) {
    double v = 0;
    in >> v;
    EXPECT_NEAR(v, frames[4][3 * 20 + d] * 10, 1e-3) << "axis " << d;
  }
  EXPECT_TRUE(in) << output;
}

// The mdtraj HDF5 layout read back with our own reader: root attributes, float32 coordinates in
// nanometers, times in picoseconds, the topology JSON as a one-element fixed-length string; and,
// where python3 has mdtraj, mdtraj's own reading of it.
TEST(MdtrajH5File, LayoutAndMdtrajReadBack) {
  PdbStructure top = readPdb(alaninePdb("extended"));
  top.bonds.push_back({4, 6});  // a bond without a CONECT record, e.g. from the System
  const auto frames = knownFrames();
  const std::vector<double> times = {0.005, 0.010, 0.015, 0.020, 0.025};
  const std::string path = tempFile(".h5");
  writeMdtrajH5(path, top, frames, times, "a test");
  EXPECT_TRUE(noTemporaryLeft(path));
  const std::string json = mdtrajTopologyJson(top);
  EXPECT_EQ(json.rfind("{\"chains\": [{\"index\": 0, \"residues\": [{\"index\": 0, \"name\": "
                       "\"ACE\", \"resSeq\": 1, \"segmentID\": \"\", \"atoms\": [{\"index\": 0, "
                       "\"name\": \"H1\", \"element\": \"H\"}",
                       0),
            0u)
      << json;
  EXPECT_NE(json.find("\"bonds\": [[0, 1], "), std::string::npos) << json;
  EXPECT_NE(json.find("[4, 6]]}"), std::string::npos) << json;
  {
    H5File f(path, H5File::Mode::Read);
    EXPECT_EQ(f.readAttributeString("/", "conventions"), "Pande");
    EXPECT_EQ(f.readAttributeString("/", "conventionVersion"), "1.1");
    EXPECT_EQ(f.readAttributeString("/", "program"), "GeoTPS");
    EXPECT_EQ(f.readAttributeString("/", "title"), "a test");
    EXPECT_TRUE(f.hasAttribute("/", "programVersion"));
    EXPECT_TRUE(f.hasAttribute("/", "application"));
    EXPECT_EQ(f.shape("/coordinates"), (std::vector<std::size_t>{kDcdFrames, kDcdAtoms, 3}));
    EXPECT_EQ(f.readAttributeString("/coordinates", "units"), "nanometers");
    EXPECT_EQ(f.readAttributeString("/time", "units"), "picoseconds");
    EXPECT_EQ(f.shape("/topology"), (std::vector<std::size_t>{1}));
    EXPECT_EQ(f.readString("/topology"), json);
    const auto xyz = f.readDoubles("/coordinates");
    EXPECT_NEAR(xyz[(3 * kDcdAtoms + 7) * 3 + 1], frames[3][3 * 7 + 1], 1e-6);
    const auto t = f.readDoubles("/time");
    for (int k = 0; k < kDcdFrames; ++k) EXPECT_NEAR(t[k], times[k], 1e-7);
    EXPECT_FALSE(f.exists("/cell_lengths"));
  }
  const std::string message =
      errorOf([&] { writeMdtrajH5(path + "x", top, frames, {0.1}, "short"); });
  EXPECT_NE(message.find(path + "x: 5 frames but 1 frame times"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(path + "x"));

  if (!pythonHasMdtraj()) GTEST_SKIP() << "/usr/bin/python3 cannot import mdtraj";
  const std::string script = tempFile(".py");
  std::ofstream(script) << R"PY(
import sys, mdtraj as md
t = md.load(sys.argv[1])
print(t.n_frames, t.n_atoms, t.topology.n_bonds, t.topology.n_residues)
print(" ".join("%.6f" % v for v in t.time))
print("%.6f" % t.xyz[3, 7, 1])
print(" ".join(r.name for r in t.topology.residues))
)PY";
  int status = 0;
  const std::string output = runAndCapture("/usr/bin/python3 " + script + " " + path, status);
  ASSERT_EQ(status, 0) << output;
  std::istringstream in(output);
  int nFrames = 0, nAtoms = 0, nBonds = 0, nResidues = 0;
  in >> nFrames >> nAtoms >> nBonds >> nResidues;
  EXPECT_EQ(nFrames, kDcdFrames);
  EXPECT_EQ(nAtoms, kDcdAtoms);
  EXPECT_EQ(nBonds, static_cast<int>(top.bonds.size()));
  EXPECT_EQ(nResidues, 3);
  for (int k = 0; k < kDcdFrames; ++k) {
    double v = 0;
    in >> v;
    EXPECT_NEAR(v, times[k], 1e-6) << k;
  }
  double y = 0;
  in >> y;
  EXPECT_NEAR(y, frames[3][3 * 7 + 1], 1e-5);
  std::string line;
  std::getline(in, line);
  std::getline(in, line);
  EXPECT_EQ(line, "ACE ALA NME");
}

}  // namespace
}  // namespace geotps
