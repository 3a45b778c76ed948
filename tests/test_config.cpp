// Tests of the job configuration: schema, validation messages, defaults, paths, round trips, docs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/config/config.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {
namespace {

namespace fs = std::filesystem;

#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "missing \"" << (part) << "\" in: " << (text)

// The two required keys; every other key has a default. Lines 1-3.
const std::string kMinimal = "states:\n  a: [-2.55, 2.7]\n  b: [0.95, -0.4]\n";

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The ConfigError message of parsing `yaml` as "job.yaml", or "" when it parses.
std::string errorOf(const std::string& yaml, const std::vector<KeySpec>& schema = jobSchema()) {
  try {
    Config::parse(yaml, "job.yaml", "/base", schema);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

/// Asserts that parsing fails with a message naming the file, line and key, plus `what`.
void expectError(const std::string& yaml, int line, const std::string& key, const std::string& what,
                 const std::vector<KeySpec>& schema = jobSchema()) {
  const std::string message = errorOf(yaml, schema);
  ASSERT_FALSE(message.empty()) << "no error for:\n" << yaml;
  const std::string where = line > 0 ? "job.yaml:" + std::to_string(line) + ": " : "job.yaml: ";
  EXPECT_EQ(message.rfind(where, 0), 0u) << "expected prefix \"" << where << "\" in: " << message;
  if (!key.empty()) {
    EXPECT_CONTAINS(message, "key '" + key + "'");
  }
  EXPECT_CONTAINS(message, what);
  EXPECT_CONTAINS(message, "; expected ");
}

std::vector<KeySpec> boolSchema() {
  return {{.key = "flags.verbose",
           .type = KeyType::Bool,
           .defaultValue = "false",
           .unit = "",
           .description = "print more"}};
}

TEST(ConfigSchema, DeclaresTheJobKeys) {
  const auto& schema = jobSchema();
  EXPECT_EQ(schema.size(), 147u);
  std::set<std::string> keys;
  for (const auto& s : schema) {
    EXPECT_TRUE(keys.insert(s.key).second) << s.key;
    EXPECT_FALSE(s.description.empty()) << s.key;
  }
  for (const char* key :
       {"name", "seed", "kT", "potential.file", "potential.system", "potential.platform",
        "cv.variables", "cv.phi_atoms", "cv.surface", "dynamics.temperature", "surface.grid_size", "surface.kind",
        "surface.windows", "surface.umbrella_stiffness", "states.a",
        "states.l_end", "denoiser.grid_size", "geodesic.optimizer", "penalty.z_star",
        "sampler.step_size", "metrics.success_radius", "output.frame_stride"})
    EXPECT_TRUE(keys.count(key)) << key;
}

// Bounds before allocation: a size key without an upper bound let 2e9 through to an int or an
// allocation. Every Int key but the seed has one, and it fits the int the settings hold.
TEST(ConfigSchema, EveryIntKeyHasAnUpperBound) {
  const std::set<std::string> unbounded = {"seed"};
  for (const auto& s : jobSchema()) {
    if (s.type != KeyType::Int || unbounded.count(s.key)) continue;
    ASSERT_TRUE(s.max.has_value()) << s.key << " has no upper bound";
    const bool longLong = s.key.find("max_evaluations") != std::string::npos;
    EXPECT_LE(*s.max, longLong ? 1e13 : 2147483647.0) << s.key;
  }
  // and the bound is enforced
  EXPECT_THROW(
      {
        Config c = Config::parse(kMinimal, "job.yaml", "/base");
        c.set("sampler.steps_per_point", "2e9");
      },
      ConfigError);
}

TEST(ConfigSchema, MarkdownHasOneRowPerKey) {
  const std::string md = schemaMarkdown(jobSchema());
  EXPECT_EQ(md.rfind("| key | type | default | unit | allowed | description |\n", 0), 0u);
  EXPECT_EQ(static_cast<std::size_t>(std::count(md.begin(), md.end(), '\n')),
            jobSchema().size() + 2);
  EXPECT_CONTAINS(md, "| `sampler.step_size` | Real | `4e-4` | (length unit)^2 / kT | > 0 |");
  EXPECT_CONTAINS(md, "| `states.a` | RealList | *required* |");
  EXPECT_CONTAINS(md, "`lbfgs`, `adam`, `none`");
  EXPECT_CONTAINS(md, "non-empty, each in [8, 4096]");
}

TEST(ConfigSchema, DocsMatchGeneratedTable) {
  const std::string doc = readFile(fs::path(GEOTPS_SOURCE_DIR) / "docs" / "configuration.md");
  const std::string begin = "<!-- BEGIN GENERATED KEYS -->\n";
  const std::string end = "<!-- END GENERATED KEYS -->";
  const auto b = doc.find(begin);
  const auto e = doc.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  ASSERT_LT(b, e);
  EXPECT_EQ(doc.substr(b + begin.size(), e - b - begin.size()), schemaMarkdown(jobSchema()))
      << "docs/configuration.md is out of date: regenerate the table from schemaMarkdown()";
}

TEST(Config, DefaultsApplied) {
  const Config c = Config::parse(kMinimal, "job.yaml", "/base");
  EXPECT_EQ(c.getString("name"), "geotps_job");
  EXPECT_EQ(c.getInt("seed"), 0);
  EXPECT_DOUBLE_EQ(c.getReal("kT"), 1.0);
  EXPECT_EQ(c.getString("potential.type"), "tabulated_surface");
  EXPECT_EQ(c.getRealList("denoiser.grid_size"), (std::vector<double>{128, 128}));
  EXPECT_EQ(c.getRealList("penalty.z_star"), (std::vector<double>{4.0, -0.8, -0.1}));
  EXPECT_EQ(c.getInt("geodesic.n_points"), 128);
  EXPECT_EQ(c.getString("geodesic.optimizer"), "lbfgs");
  EXPECT_DOUBLE_EQ(c.getReal("geodesic.tolerance"), 1e-7);
  EXPECT_DOUBLE_EQ(c.getReal("sampler.step_size"), 4e-4);
  EXPECT_EQ(c.getInt("sampler.n_paths"), 1000);
  EXPECT_EQ(c.getString("output.file"), "");
  EXPECT_EQ(c.getInt("output.frame_stride"), 1);
  EXPECT_EQ(c.sourceText(), kMinimal);
  EXPECT_EQ(c.sourceName(), "job.yaml");
}

TEST(Config, NestedValuesRead) {
  const std::string yaml = kMinimal +
                           "name: alanine\n"
                           "seed: 42\n"
                           "kT: 2\n"  // an integer literal is a valid Real
                           "potential:\n"
                           "  type: mueller_brown\n"
                           "  energy_scale: 0.5\n"
                           "geodesic: {optimizer: adam, n_nodes: 12}\n"
                           "sampler:\n"
                           "  step_size: 2.5E-5\n"
                           "  n_paths: +64\n"
                           "denoiser:\n"
                           "  box_low:\n"
                           "    - -3\n"
                           "    - -1.5\n"
                           "output:\n"
                           "  file: \"out dir/run #1.h5\"\n";
  const Config c = Config::parse(yaml, "job.yaml", "/base");
  EXPECT_EQ(c.getString("name"), "alanine");
  EXPECT_EQ(c.getInt("seed"), 42);
  EXPECT_DOUBLE_EQ(c.getReal("kT"), 2.0);
  EXPECT_EQ(c.getString("potential.type"), "mueller_brown");
  EXPECT_DOUBLE_EQ(c.getReal("potential.energy_scale"), 0.5);
  EXPECT_EQ(c.getString("geodesic.optimizer"), "adam");
  EXPECT_EQ(c.getInt("geodesic.n_nodes"), 12);
  EXPECT_DOUBLE_EQ(c.getReal("sampler.step_size"), 2.5e-5);
  EXPECT_EQ(c.getInt("sampler.n_paths"), 64);
  EXPECT_EQ(c.getRealList("states.a"), (std::vector<double>{-2.55, 2.7}));
  EXPECT_EQ(c.getRealList("states.b"), (std::vector<double>{0.95, -0.4}));
  EXPECT_EQ(c.getRealList("denoiser.box_low"), (std::vector<double>{-3, -1.5}));
  EXPECT_EQ(c.getString("output.file"), "out dir/run #1.h5");
}

TEST(Config, BoolValues) {
  EXPECT_TRUE(
      Config::parse("flags:\n  verbose: true\n", "f", "", boolSchema()).getBool("flags.verbose"));
  EXPECT_FALSE(Config::parse("flags: {}\n", "f", "", boolSchema()).getBool("flags.verbose"));
}

TEST(Config, PathResolvedAgainstBaseDir) {
  const Config byDefault = Config::parse(kMinimal, "job.yaml", "/work/jobs");
  EXPECT_EQ(byDefault.getString("potential.file"),
            "/work/data/alanine_dipeptide/phi_psi_surface.dat");

  const Config relative =
      Config::parse(kMinimal + "potential:\n  file: ./surfaces/../grid.dat\n", "job.yaml", "/a/b");
  EXPECT_EQ(relative.getString("potential.file"), "/a/b/grid.dat");
  // The effective configuration names the resolved file, valid from any folder.
  EXPECT_CONTAINS(relative.effectiveYaml(), "  file: \"/a/b/grid.dat\"\n");
  EXPECT_EQ(Config::parse(relative.effectiveYaml(), "effective.yaml", "/elsewhere")
                .getString("potential.file"),
            "/a/b/grid.dat");
  // Without a base folder, relative paths stay relative (to the working directory).
  const Config noBase = Config::parse(kMinimal + "potential:\n  file: x/../g.dat\n", "job", "");
  EXPECT_EQ(noBase.getString("potential.file"), "g.dat");
  EXPECT_CONTAINS(noBase.effectiveYaml(), "  file: \"x/../g.dat\"\n");

  const Config absolute =
      Config::parse(kMinimal + "potential:\n  file: /abs/grid.dat\n", "job.yaml", "/a/b");
  EXPECT_EQ(absolute.getString("potential.file"), "/abs/grid.dat");

  // output.file is a String: not resolved.
  const Config output = Config::parse(kMinimal + "output:\n  file: out/x.h5\n", "job.yaml", "/a/b");
  EXPECT_EQ(output.getString("output.file"), "out/x.h5");
}

TEST(Config, LoadResolvesAgainstTheFilesFolder) {
  const fs::path dir = fs::temp_directory_path() / "geotps_test_config_load";
  fs::create_directories(dir / "jobs");
  const fs::path file = dir / "jobs" / "job.yaml";
  std::ofstream(file) << kMinimal << "potential:\n  file: ../surface.dat\n";
  const Config c = Config::load(file.string());
  EXPECT_EQ(c.getString("potential.file"), (dir / "surface.dat").lexically_normal().string());
  EXPECT_EQ(c.sourceName(), file.string());
  fs::remove_all(dir);
}

// --set KEY="" (or '') clears an optional Path key instead of naming a file called "".
TEST(Config, CommandLineEmptyStringClearsAnOptionalPath) {
  Config c = Config::parse(kMinimal + "geodesic:\n  initial: old.h5\n", "job.yaml", "/a/b");
  EXPECT_EQ(c.getString("geodesic.initial"), "/a/b/old.h5");
  c.setFromCommandLine("geodesic.initial=\"\"");
  EXPECT_EQ(c.getString("geodesic.initial"), "");
  c.setFromCommandLine("geodesic.initial=new.h5");
  EXPECT_EQ(c.getString("geodesic.initial"), (fs::current_path() / "new.h5").string());
  c.setFromCommandLine("geodesic.initial=''");
  EXPECT_EQ(c.getString("geodesic.initial"), "");
}

TEST(Config, IsSet) {
  const Config c = Config::parse(kMinimal + "sampler:\n  n_paths: 1000\n", "job.yaml", "/base");
  EXPECT_TRUE(c.isSet("states.a"));
  EXPECT_TRUE(c.isSet("sampler.n_paths"));  // given, even though equal to the default
  EXPECT_FALSE(c.isSet("sampler.step_size"));
  EXPECT_FALSE(c.isSet("name"));
  EXPECT_THROW(c.isSet("sampler.nope"), ConfigError);
}

TEST(Config, SetValidatesLikeAFileValue) {
  Config c = Config::parse(kMinimal, "job.yaml", "/base");
  c.set("sampler.n_paths", "64");
  EXPECT_EQ(c.getInt("sampler.n_paths"), 64);
  EXPECT_TRUE(c.isSet("sampler.n_paths"));
  c.set("states.a", "[1, 2]");
  EXPECT_EQ(c.getRealList("states.a"), (std::vector<double>{1, 2}));
  c.set("name", "\"\"");
  EXPECT_EQ(c.getString("name"), "");

  auto messageOf = [&](const std::string& key, const std::string& value) -> std::string {
    try {
      c.set(key, value);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  std::string m = messageOf("sampler.n_paths", "0");
  EXPECT_CONTAINS(m, "key 'sampler.n_paths'");
  EXPECT_CONTAINS(m, "below the minimum 1");
  m = messageOf("sampler.n_paths", "many");
  EXPECT_CONTAINS(m, "'many' is not an integer");
  m = messageOf("geodesic.optimizer", "sgd");
  EXPECT_CONTAINS(m, "expected one of 'lbfgs', 'adam', 'none'");
  m = messageOf("states.a", "[1, 2");
  EXPECT_CONTAINS(m, "key 'states.a'");
  EXPECT_CONTAINS(m, "not valid YAML");
  m = messageOf("sampler.step_sise", "1e-4");
  EXPECT_CONTAINS(m, "did you mean 'sampler.step_size'?");
  EXPECT_EQ(c.getInt("sampler.n_paths"), 64);  // failed sets change nothing
}

TEST(Config, GettersCheckKeyAndType) {
  const Config c = Config::parse(kMinimal, "job.yaml", "/base");
  EXPECT_THROW(c.getInt("kT"), ConfigError);
  EXPECT_THROW(c.getReal("seed"), ConfigError);
  EXPECT_THROW(c.getString("states.a"), ConfigError);
  try {
    c.getReal("sampler.stepsize");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), "did you mean 'sampler.step_size'?");
  }
}

TEST(Config, EffectiveYamlRoundTrip) {
  const std::string yaml = kMinimal +
                           "name: \"quote \\\" and # hash: x\"\n"
                           "seed: 7\n"
                           "kT: 0.1\n"
                           "potential: {type: double_well, barrier: 1e-3, file: grids/s.dat}\n"
                           "geodesic: {tolerance: 0.30000000000000004, optimizer: none}\n"
                           "penalty: {z_star: [1, -2.5e-8, 3], type: region_avoidance}\n"
                           "output: {file: \"true\"}\n";
  const Config a = Config::parse(yaml, "job.yaml", "/base");
  const std::string effective = a.effectiveYaml();
  const Config b = Config::parse(effective, "effective.yaml", "/elsewhere");
  for (const auto& s : jobSchema()) {
    EXPECT_TRUE(b.isSet(s.key)) << s.key;  // every key is written out
    switch (s.type) {
      case KeyType::Int:
        EXPECT_EQ(a.getInt(s.key), b.getInt(s.key)) << s.key;
        break;
      case KeyType::Real:
        EXPECT_EQ(a.getReal(s.key), b.getReal(s.key)) << s.key;  // exact
        break;
      case KeyType::Bool:
        EXPECT_EQ(a.getBool(s.key), b.getBool(s.key)) << s.key;
        break;
      case KeyType::String:
      case KeyType::Path:
        EXPECT_EQ(a.getString(s.key), b.getString(s.key)) << s.key;
        break;
      case KeyType::RealList:
        EXPECT_EQ(a.getRealList(s.key), b.getRealList(s.key)) << s.key;
        break;
      case KeyType::StringList:
        EXPECT_EQ(a.getStringList(s.key), b.getStringList(s.key)) << s.key;
        break;
      case KeyType::BoolList:
        EXPECT_EQ(a.getBoolList(s.key), b.getBoolList(s.key)) << s.key;
        break;
    }
  }
  EXPECT_EQ(b.effectiveYaml().substr(b.effectiveYaml().find('\n')),
            effective.substr(effective.find('\n')));
  // Nested by section, in schema order, with units as comments.
  EXPECT_CONTAINS(effective, "\nsampler:\n  n_paths: 1000\n");
  EXPECT_CONTAINS(effective, "  step_size: 0.0004  # (length unit)^2 / kT\n");
  EXPECT_CONTAINS(effective, "kT: 0.1  # energy unit of the potential\n");
  EXPECT_CONTAINS(effective, "seed: 7\n");  // unit "1": no comment
  EXPECT_CONTAINS(effective, "  type: \"double_well\"\n");
  EXPECT_LT(effective.find("\nname:"), effective.find("\npotential:"));
  EXPECT_LT(effective.find("\npotential:"), effective.find("\nstates:"));
  EXPECT_LT(effective.find("\nmetrics:"), effective.find("\noutput:"));
}

// --- malformed configurations ------------------------------------------------------------------

TEST(ConfigErrors, UnknownKeySuggestsClosest) {
  expectError(kMinimal + "sampler:\n  n_paths: 10\n  step_sise: 4e-4\n", 6, "sampler.step_sise",
              "unknown key 'sampler.step_sise' (did you mean 'sampler.step_size'?)");
  expectError(kMinimal + "seeds: 3\n", 4, "seeds", "(did you mean 'seed'?)");
  // A key written in the wrong section.
  expectError(kMinimal + "geodesic:\n  step_size: 0.1\n", 5, "geodesic.step_size",
              "(did you mean 'sampler.step_size'?)");
  // Nothing close: no suggestion, but the valid names are listed.
  const std::string m = errorOf(kMinimal + "sampler:\n  walkers_and_friends: 3\n");
  EXPECT_EQ(m.find("did you mean"), std::string::npos) << m;
  EXPECT_CONTAINS(m, "n_paths, n_points, spacing, steps_per_point, step_size, threads");
}

TEST(ConfigErrors, UnknownSection) {
  expectError(kMinimal + "\nsamplr:\n  n_paths: 10\n", 5, "samplr",
              "unknown section 'samplr' (did you mean 'sampler'?)");
}

TEST(ConfigErrors, WrongTypeInt) {
  expectError(kMinimal + "sampler:\n  n_paths: 2.5\n", 5, "sampler.n_paths",
              "'2.5' is not an integer");
  expectError(kMinimal + "seed: 1e3\n", 4, "seed", "'1e3' is not an integer");
  expectError(kMinimal + "seed: \"3\"\n", 4, "seed", "quoted string \"3\"");
  expectError(kMinimal + "seed: [3]\n", 4, "seed", "got a list");
  expectError(kMinimal + "seed: 99999999999999999999999\n", 4, "seed", "too large");
}

TEST(ConfigErrors, WrongTypeReal) {
  expectError("kT: warm\n" + kMinimal, 1, "kT", "'warm' is not a number");
  expectError(kMinimal + "sampler:\n  step_size: \"4e-4\"\n", 5, "sampler.step_size",
              "got the quoted string \"4e-4\" (a string, not a number)");
  expectError(kMinimal + "kT: .nan\n", 4, "kT", "'.nan' is not a finite number");
  expectError(kMinimal + "kT: -.inf\n", 4, "kT", "'-.inf' is not a finite number");
  expectError(kMinimal + "kT: 1e999\n", 4, "kT", "cannot be represented");
}

TEST(ConfigErrors, WrongTypeBool) {
  expectError("flags:\n  verbose: yes\n", 2, "flags.verbose", "'yes' is not a boolean",
              boolSchema());
  expectError("flags:\n  verbose: 1\n", 2, "flags.verbose", "expected true or false", boolSchema());
}

TEST(ConfigErrors, WrongTypeRealList) {
  expectError("states:\n  a: [-2.55, 2.7]\n  b: 0.95\n", 3, "states.b",
              "got '0.95' (a single value, not a list)");
  expectError("states:\n  a:\n    - -2.55\n    - psi\n  b: [0.95, -0.4]\n", 4, "states.a",
              "element 2: 'psi' is not a number");
  expectError("states:\n  a: [-2.55, 2.7]\n  b: []\n", 3, "states.b", "got an empty list");
}

TEST(ConfigErrors, OutOfRange) {
  expectError(kMinimal + "geodesic:\n  n_points: 2\n", 5, "geodesic.n_points",
              "value 2 is below the minimum 3; expected an integer in [3, 100000]");
  expectError(kMinimal + "sampler: {threads: 2048}\n", 4, "sampler.threads",
              "value 2048 is above the maximum 1024");
  expectError(kMinimal + "  l_end: -25.0\n", 4, "states.l_end",
              "value -25.0 is below the minimum -20; expected a finite real number in [-20, 20]");
  expectError(kMinimal + "denoiser:\n  grid_size: [4, 128]\n", 5, "denoiser.grid_size",
              "element 1: value 4 is below the minimum 8");
}

TEST(ConfigErrors, ExclusiveMinimum) {
  expectError(kMinimal + "kT: 0\n", 4, "kT",
              "value 0 is not greater than 0; expected a finite "
              "real number > 0 (unit: energy unit of the potential)");
  expectError(kMinimal + "sampler:\n  step_size: 0.0\n", 5, "sampler.step_size",
              "not greater than 0");
  // An inclusive minimum accepts the bound itself.
  EXPECT_EQ(errorOf(kMinimal + "penalty: {lambda: 0}\n"), "");
}

TEST(ConfigErrors, BadChoice) {
  expectError(kMinimal + "geodesic:\n  optimizer: bfgs\n", 5, "geodesic.optimizer",
              "'bfgs' is not an allowed value (did you mean 'lbfgs'?); expected one of 'lbfgs', "
              "'adam', 'none'");
}

// Lists of fixed length are refused when read; lists of one value per coordinate (states.a,
// denoiser.grid_size, penalty.z_star, ...) are checked against the potential's dimension D when
// the job is set up (checkDimensions, tests/test_dimensions.cpp and tests/data/bad_configs).
TEST(ConfigErrors, WrongListLength) {
  expectError(kMinimal + "mcmc:\n  state_radius: [1, 2, 3]\n", 5, "mcmc.state_radius",
              "got a list of 3 values; expected a list of 2 real numbers");
  expectError(kMinimal + "potential:\n  periodic: [true]\n", 5, "potential.periodic",
              "expected a list of 2 booleans");
  EXPECT_EQ(errorOf("states:\n  a: [-2.55, 2.7, 0.0]\n  b: [0.95, -0.4, 1.0]\n"), "");
  EXPECT_EQ(errorOf(kMinimal + "penalty:\n  z_star: [1, 2]\n"), "");
}

// A RealList whose default is [] is optional: [] reads as "not given", a non-empty value must have
// the declared length.
TEST(Config, OptionalRealList) {
  const Config empty = Config::parse(kMinimal, "t.yaml", ".");
  EXPECT_TRUE(empty.getRealList("mcmc.state_a_box").empty());
  const Config given =
      Config::parse(kMinimal + "mcmc:\n  state_a_box: [2.75, 5.5, -4, 4]\n", "t.yaml", ".");
  EXPECT_EQ(given.getRealList("mcmc.state_a_box"), (std::vector<double>{2.75, 5.5, -4, 4}));
  EXPECT_EQ(errorOf(kMinimal + "mcmc:\n  state_b_box: []\n"), "");
  // Its length, 2 D, is checked by readMcmcSettings (odd) and the compare (against D).
  EXPECT_EQ(errorOf(kMinimal + "mcmc:\n  state_a_box: [1, 2]\n"), "");
  // Lists whose default is not [] still refuse the empty list.
  expectError(kMinimal + "mcmc:\n  state_radius: []\n", 5, "mcmc.state_radius",
              "got an empty list");
}

TEST(ConfigErrors, MissingRequiredKey) {
  expectError("states:\n  a: [-2.55, 2.7]\n", 0, "states.b", "missing required key");
  expectError("name: x\n", 0, "states.a", "written as 'a:' below 'states:'");
}

TEST(ConfigErrors, DuplicateKey) {
  expectError(kMinimal + "sampler:\n  n_paths: 10\n  n_paths: 20\n", 6, "sampler.n_paths",
              "duplicate key (first given on line 5)");
  expectError("states:\n  a: [1, 2]\n  b: [3, 4]\nstates:\n  a: [1, 2]\n", 4, "states",
              "duplicate key (first given on line 1)");
}

TEST(ConfigErrors, YamlSyntaxError) {
  expectError("states:\n  a: [-2.55, 2.7\n  b: [0.95, -0.4]\n", 3, "", "YAML syntax error");
  expectError(kMinimal + "sampler:\n  n_paths: 10\n threads: 2\n", 6, "", "YAML syntax error");
}

TEST(ConfigErrors, EmptyFile) {
  expectError("", 0, "", "the file is empty");
  expectError("# nothing but a comment\n\n", 0, "", "the file is empty");
}

TEST(ConfigErrors, MissingFile) {
  const std::string path = "/nonexistent/geotps/missing_job.yaml";
  try {
    Config::load(path);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": the file does not exist; expected", 0), 0u)
        << e.what();
  }
}

TEST(ConfigErrors, SectionGivenAsScalar) {
  expectError(kMinimal + "sampler: 1000\n", 4, "sampler",
              "section 'sampler' is not a mapping (got '1000')");
  expectError(kMinimal + "sampler:\n", 4, "sampler", "no value is given");
}

TEST(ConfigErrors, TopLevelNotAMapping) {
  expectError("- states\n- sampler\n", 1, "", "the top level is not a mapping");
  expectError("just text\n", 1, "", "the top level is not a mapping");
}

TEST(ConfigErrors, DottedKeyName) {
  expectError(kMinimal + "sampler.n_paths: 10\n", 4, "sampler.n_paths",
              "dotted key names are not allowed");
}

TEST(ConfigErrors, NullValue) {
  expectError("seed:\n" + kMinimal, 1, "seed", "no value is given; expected an integer >= 0");
}

// Every file in tests/data/bad_configs fails to load with the message its first line announces.
TEST(ConfigErrors, BadConfigFiles) {
  const fs::path dir = fs::path(GEOTPS_SOURCE_DIR) / "tests" / "data" / "bad_configs";
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  EXPECT_GE(files.size(), 12u);
  const std::string marker = "# expect: ";
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    std::ifstream in(file);
    std::string first;
    std::getline(in, first);
    ASSERT_EQ(first.rfind(marker, 0), 0u) << "first line must be '# expect: <substring>'";
    const std::string expected = first.substr(marker.size());
    ASSERT_FALSE(expected.empty());
    try {
      Config::load(file.string());
      ADD_FAILURE() << "loaded without error";
    } catch (const ConfigError& e) {
      EXPECT_CONTAINS(e.what(), expected);
      EXPECT_CONTAINS(e.what(), file.filename().string());
    }
  }
}

}  // namespace
}  // namespace geotps
