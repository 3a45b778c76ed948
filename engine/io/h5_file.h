// HDF5 output: a small RAII wrapper over the HDF5 C API for the datasets GeoTPS writes and reads,
// and an atomic writer (temporary name, renamed on success) so that no partial file is ever left.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/io/atomic_file.h"

namespace geotps {

class H5Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An open HDF5 file. Datasets are addressed by absolute paths ("/curve/l"); intermediate groups
/// are created on demand. Every dataset written carries a `units` attribute (use "1" for
/// dimensionless,
/// "" is refused). Attributes can be put on groups or datasets ("/" is the root group).
/// Suffix of the attribute that gives a numeric attribute's unit: `energy` -> `energy_units`.
inline constexpr const char* kUnitsSuffix = "_units";

class H5File {
 public:
  enum class Mode { Read, Create };
  H5File(const std::string& path, Mode mode);
  /// A new file held in memory only (HDF5's core driver; nothing touches the disk), e.g. to send
  /// to another process as image(); `name` stands for its path in messages.
  static std::unique_ptr<H5File> inMemory(const std::string& name);
  /// Opens, read-only, a file from the bytes of image(); `name` stands for its path in messages.
  static std::unique_ptr<H5File> fromImage(const std::string& bytes, const std::string& name);
  ~H5File();
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;

  /// Writes a dataset of the given shape (row-major). doubles are stored as float64.
  void writeDoubles(const std::string& path, const std::vector<std::size_t>& shape,
                    const double* data, const std::string& units);
  /// Same, stored as float32 (for large frame arrays).
  void writeFloats(const std::string& path, const std::vector<std::size_t>& shape,
                   const float* data, const std::string& units);
  void writeInts(const std::string& path, const std::vector<std::size_t>& shape,
                 const std::int64_t* data, const std::string& units);
  /// A scalar variable-length UTF-8 string dataset.
  void writeString(const std::string& path, const std::string& text,
                   const std::string& units = "1");

  /// A one-element array (shape (1,)) of one fixed-length ASCII string of text.size() bytes: the
  /// layout PyTables writes for a list of one byte string (e.g. mdtraj's `/topology` JSON).
  /// readString reads it back; empty text or a non-ASCII byte is refused.
  void writeFixedString(const std::string& path, const std::string& text,
                        const std::string& units = "1");

  /// Creates a float32 dataset of shape `shape` whose rows (first dimension) are written later with
  /// writeFloatRows; chunked by rows, so partial writes are cheap.
  void createFloatDataset(const std::string& path, const std::vector<std::size_t>& shape,
                          const std::string& units);
  void writeFloatRows(const std::string& path, std::size_t firstRow, std::size_t nRows,
                      const float* data);

  /// A numeric attribute `name` and beside it the string attribute `name` + kUnitsSuffix holding
  /// its unit ("1" for a pure number or a count; docs/output.md): every numeric attribute a result
  /// file carries says its unit.
  void setAttribute(const std::string& objectPath, const std::string& name, double value,
                    const std::string& units);
  void setAttribute(const std::string& objectPath, const std::string& name, std::int64_t value,
                    const std::string& units);
  void setAttribute(const std::string& objectPath, const std::string& name,
                    const std::string& value);

  bool exists(const std::string& path) const;
  std::vector<std::size_t> shape(const std::string& path) const;
  /// True when the dataset at `path` holds integers (any integer type), false for other types.
  bool holdsIntegers(const std::string& path) const;
  std::vector<double> readDoubles(const std::string& path) const;  ///< any numeric type, flattened
  /// Rows [firstRow, firstRow + nRows) of a dataset (first dimension), flattened, as doubles;
  /// throws naming the file and dataset when it is a scalar or the rows are out of range.
  std::vector<double> readDoubleRows(const std::string& path, std::size_t firstRow,
                                     std::size_t nRows) const;
  std::string readString(const std::string& path) const;
  double readAttributeDouble(const std::string& objectPath, const std::string& name) const;
  std::int64_t readAttributeInt(const std::string& objectPath, const std::string& name) const;
  std::string readAttributeString(const std::string& objectPath, const std::string& name) const;
  bool hasAttribute(const std::string& objectPath, const std::string& name) const;
  /// Names of the attributes of an object, in creation order.
  std::vector<std::string> attributeNames(const std::string& objectPath) const;
  /// Absolute paths of all datasets in the file (depth-first, sorted).
  std::vector<std::string> datasetPaths() const;
  /// Absolute paths of all groups in the file, the root "/" first (depth-first, sorted).
  std::vector<std::string> groupPaths() const;
  /// Whether attribute `name` of `objectPath` is numeric (integer or floating point).
  bool isNumericAttribute(const std::string& objectPath, const std::string& name) const;

  void flush();
  void close();
  /// The bytes of the whole file as it is now (flushed first): what a file on disk would hold.
  std::string image();
  const std::string& path() const { return path_; }

 private:
  H5File(std::int64_t file, const std::string& name) : path_(name), file_(file) {}
  std::int64_t ensureParentGroups(const std::string& path);
  std::string path_;
  std::int64_t file_ = -1;  // hid_t
  /// Datasets kept open between writeFloatRows calls, so their chunk cache is not flushed per row.
  std::map<std::string, std::int64_t> rowDatasets_;  // path -> hid_t
};

/// Writes `finalPath` atomically: the file is created as `finalPath + ".tmp-<pid>"`, and `commit()`
/// closes and renames it. If the writer is destroyed without commit (an exception, a crash-free
/// error path), the temporary file is removed, so no partial file is ever left under either name;
/// an interrupted run (SIGINT, SIGTERM, SIGHUP) also removes it before the process ends.
class AtomicH5Writer {
 public:
  explicit AtomicH5Writer(const std::string& finalPath);
  ~AtomicH5Writer();
  H5File& file() { return *file_; }
  void commit();
  const std::string& temporaryPath() const { return tmpPath_; }

 private:
  std::string finalPath_, tmpPath_;
  std::unique_ptr<H5File> file_;
  bool committed_ = false;
  int signalSlot_ = -1;  // registration for removal on SIGINT / SIGTERM / SIGHUP
  std::unique_ptr<CreatedParents> createdDirs_;  // folders this writer created
};

}  // namespace geotps
