// HDF5 output over the HDF5 C API: every hid_t lives in a small scoped handle, every failure
// becomes an H5Error naming the file, the object and what went wrong (HDF5's own stack printing is
// off).
#include "engine/io/h5_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <system_error>
#include <utility>

#include "engine/io/atomic_file.h"

namespace geotps {
namespace {

namespace fs = std::filesystem;

/// Target size of one chunk of a row-chunked dataset, and the chunk cache given to such datasets.
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
constexpr std::size_t kChunkCacheBytes = std::size_t{8} << 20;
constexpr std::size_t kChunkCacheSlots = 1009;  // a prime, as HDF5 recommends

// ---------------------------------------------------------------------------------------------
// Scoped handles.

template <herr_t (*Close)(hid_t)>
class Scoped {
 public:
  Scoped() = default;
  explicit Scoped(hid_t id) : id_(id) {}
  ~Scoped() { reset(); }
  Scoped(Scoped&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Scoped& operator=(Scoped&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Scoped(const Scoped&) = delete;
  Scoped& operator=(const Scoped&) = delete;

  hid_t get() const { return id_; }
  hid_t release() { return std::exchange(id_, H5I_INVALID_HID); }
  void reset() {
    if (id_ >= 0) Close(id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using Object = Scoped<H5Oclose>;  // groups and datasets
using Space = Scoped<H5Sclose>;
using Type = Scoped<H5Tclose>;
using Attr = Scoped<H5Aclose>;
using Plist = Scoped<H5Pclose>;

// ---------------------------------------------------------------------------------------------
// Errors.

void quietHdf5() {
  // No library shutdown at exit: after a failed close (a full disk) HDF5 keeps the file open, and
  // its atexit handler then retries the flush and crashes (SIGSEGV in H5F__close_cb). Every file
  // GeoTPS writes is closed explicitly, and a temporary that failed is removed by its owner.
  static std::once_flag noShutdown;
  std::call_once(noShutdown, [] { H5dont_atexit(); });
  // With a thread-safe HDF5 the automatic error printing is a per-thread setting.
  thread_local bool done = false;
  if (!done) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    done = true;
  }
}

herr_t firstErrorDescription(unsigned /*n*/, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (out->empty() && err != nullptr && err->desc != nullptr && *err->desc != '\0')
    *out = err->desc;
  return 0;
}

/// The most specific description on HDF5's error stack (empty if none); clears the stack.
std::string hdf5Detail() {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, firstErrorDescription, &detail);
  H5Eclear2(H5E_DEFAULT);
  return detail;
}

[[noreturn]] void fail(const std::string& file, const std::string& object,
                       const std::string& what) {
  std::string message = file + ": ";
  if (!object.empty()) message += object + ": ";
  message += what;
  throw H5Error(message);
}

/// Like fail(), after an HDF5 call failed: appends HDF5's own description of the problem.
[[noreturn]] void failH5(const std::string& file, const std::string& object,
                         const std::string& what) {
  const std::string detail = hdf5Detail();
  fail(file, object, detail.empty() ? what : what + " (HDF5: " + detail + ")");
}

hid_t checkId(hid_t id, const std::string& file, const std::string& object,
              const std::string& what) {
  if (id < 0) failH5(file, object, what);
  return id;
}

void checkRc(herr_t rc, const std::string& file, const std::string& object,
             const std::string& what) {
  if (rc < 0) failH5(file, object, what);
}

std::string attrLabel(const std::string& name) { return "attribute '" + name + "'"; }

// ---------------------------------------------------------------------------------------------
// Paths.

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string joinPath(const std::vector<std::string>& parts, std::size_t count) {
  if (count == 0) return "/";
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += "/" + parts[i];
  return out;
}

std::string normalizePath(const std::string& path) {
  const auto parts = splitPath(path);
  return joinPath(parts, parts.size());
}

// ---------------------------------------------------------------------------------------------
// File-level helpers; `file` is the open hid_t, `fpath` the file name used in messages.

hid_t requireOpen(std::int64_t file, const std::string& fpath) {
  quietHdf5();
  if (file < 0) fail(fpath, "", "file is closed");
  return static_cast<hid_t>(file);
}

void requireWritable(hid_t file, const std::string& fpath, const std::string& object) {
  unsigned intent = 0;
  checkRc(H5Fget_intent(file, &intent), fpath, object, "cannot query file access mode");
  if ((intent & H5F_ACC_RDWR) == 0) fail(fpath, object, "file is opened read-only");
}

/// True if every component of the normalized `path` exists (the root always exists).
bool pathExists(hid_t file, const std::string& path) {
  const auto parts = splitPath(path);
  for (std::size_t i = 1; i <= parts.size(); ++i) {
    const std::string prefix = joinPath(parts, i);
    const htri_t link = H5Lexists(file, prefix.c_str(), H5P_DEFAULT);
    if (link <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
  }
  if (parts.empty()) return true;
  const htri_t object = H5Oexists_by_name(file, path.c_str(), H5P_DEFAULT);  // dangling links
  H5Eclear2(H5E_DEFAULT);
  return object > 0;
}

Plist creationPlist(hid_t cls, const std::string& fpath, const std::string& object) {
  Plist plist(checkId(H5Pcreate(cls), fpath, object, "cannot create property list"));
  checkRc(H5Pset_attr_creation_order(plist.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
          fpath, object, "cannot enable attribute creation order");
  return plist;
}

/// Opens (creating as needed) the groups named by the first `count` components of `parts`.
hid_t openOrCreateGroups(hid_t file, const std::string& fpath,
                         const std::vector<std::string>& parts, std::size_t count) {
  Object group(checkId(H5Oopen(file, "/", H5P_DEFAULT), fpath, "/", "cannot open root group"));
  for (std::size_t i = 0; i < count; ++i) {
    const std::string here = joinPath(parts, i + 1);
    const char* name = parts[i].c_str();
    const htri_t exists = H5Lexists(group.get(), name, H5P_DEFAULT);
    if (exists < 0) failH5(fpath, here, "cannot look up group");
    if (exists > 0) {
      Object next(
          checkId(H5Oopen(group.get(), name, H5P_DEFAULT), fpath, here, "cannot open group"));
      if (H5Iget_type(next.get()) != H5I_GROUP) fail(fpath, here, "exists and is not a group");
      group = std::move(next);
    } else {
      Plist gcpl = creationPlist(H5P_GROUP_CREATE, fpath, here);
      group = Object(checkId(H5Gcreate2(group.get(), name, H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
                             fpath, here, "cannot create group"));
    }
  }
  return group.release();
}

Object openObject(hid_t file, const std::string& fpath, const std::string& path) {
  if (!pathExists(file, path)) fail(fpath, path, "no such object");
  return Object(
      checkId(H5Oopen(file, path.c_str(), H5P_DEFAULT), fpath, path, "cannot open object"));
}

Object openDataset(hid_t file, const std::string& fpath, const std::string& path) {
  if (!pathExists(file, path)) fail(fpath, path, "no such dataset");
  Object object(
      checkId(H5Oopen(file, path.c_str(), H5P_DEFAULT), fpath, path, "cannot open dataset"));
  if (H5Iget_type(object.get()) != H5I_DATASET) fail(fpath, path, "is not a dataset");
  return object;
}

std::size_t elementCount(const std::vector<std::size_t>& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

std::string shapeText(const std::vector<std::size_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

Space makeSpace(const std::vector<std::size_t>& shape, const std::string& fpath,
                const std::string& object) {
  if (shape.empty())
    return Space(checkId(H5Screate(H5S_SCALAR), fpath, object, "cannot create dataspace"));
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  return Space(checkId(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), fpath,
                       object, "cannot create dataspace of shape " + shapeText(shape)));
}

Type utf8StringType(const std::string& fpath, const std::string& object) {
  Type type(checkId(H5Tcopy(H5T_C_S1), fpath, object, "cannot create string type"));
  checkRc(H5Tset_size(type.get(), H5T_VARIABLE), fpath, object, "cannot create string type");
  checkRc(H5Tset_cset(type.get(), H5T_CSET_UTF8), fpath, object, "cannot create string type");
  return type;
}

void requireNoNul(const std::string& text, const std::string& fpath, const std::string& object) {
  if (text.find('\0') != std::string::npos)
    fail(fpath, object, "string contains a NUL character, which HDF5 strings cannot hold");
}

/// Writes (replacing) a scalar attribute of file type `fileType` from memory `memType`.
void writeAttribute(hid_t object, const std::string& fpath, const std::string& objectPath,
                    const std::string& name, hid_t fileType, hid_t memType, const void* value) {
  if (name.empty()) fail(fpath, objectPath, "attribute name must not be empty");
  const std::string label = attrLabel(name);
  const htri_t exists = H5Aexists(object, name.c_str());
  if (exists < 0) failH5(fpath, objectPath, label + ": cannot look up");
  if (exists > 0)
    checkRc(H5Adelete(object, name.c_str()), fpath, objectPath, label + ": cannot replace");
  Space space(
      checkId(H5Screate(H5S_SCALAR), fpath, objectPath, label + ": cannot create dataspace"));
  Plist acpl(checkId(H5Pcreate(H5P_ATTRIBUTE_CREATE), fpath, objectPath,
                     label + ": cannot create property list"));
  checkRc(H5Pset_char_encoding(acpl.get(), H5T_CSET_UTF8), fpath, objectPath,
          label + ": cannot set name encoding");
  Attr attr(
      checkId(H5Acreate2(object, name.c_str(), fileType, space.get(), acpl.get(), H5P_DEFAULT),
              fpath, objectPath, label + ": cannot create"));
  checkRc(H5Awrite(attr.get(), memType, value), fpath, objectPath, label + ": cannot write");
}

void writeStringAttribute(hid_t object, const std::string& fpath, const std::string& objectPath,
                          const std::string& name, const std::string& value) {
  requireNoNul(value, fpath, objectPath + " " + attrLabel(name));
  Type type = utf8StringType(fpath, objectPath);
  const char* text = value.c_str();
  writeAttribute(object, fpath, objectPath, name, type.get(), type.get(), &text);
}

/// Creates a new dataset (and missing parent groups) with its `units` attribute.
Object createDataset(hid_t file, const std::string& fpath, const std::string& rawPath,
                     const std::vector<std::size_t>& shape, hid_t fileType,
                     const std::string& units, const std::vector<hsize_t>* chunk, hid_t dapl,
                     std::string& path) {
  path = normalizePath(rawPath);
  const auto parts = splitPath(path);
  if (parts.empty()) fail(fpath, path, "a dataset cannot be written at the root group");
  if (units.empty()) fail(fpath, path, "units must not be empty (use \"1\" for dimensionless)");
  requireWritable(file, fpath, path);
  Object parent(openOrCreateGroups(file, fpath, parts, parts.size() - 1));
  const char* name = parts.back().c_str();
  const htri_t exists = H5Lexists(parent.get(), name, H5P_DEFAULT);
  if (exists < 0) failH5(fpath, path, "cannot look up dataset");
  if (exists > 0) fail(fpath, path, "already exists");

  Space space = makeSpace(shape, fpath, path);
  Plist dcpl = creationPlist(H5P_DATASET_CREATE, fpath, path);
  if (chunk != nullptr)
    checkRc(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk->size()), chunk->data()), fpath, path,
            "cannot set chunking");
  Object dataset(
      checkId(H5Dcreate2(parent.get(), name, fileType, space.get(), H5P_DEFAULT, dcpl.get(), dapl),
              fpath, path, "cannot create dataset of shape " + shapeText(shape)));
  try {
    writeStringAttribute(dataset.get(), fpath, path, "units", units);
  } catch (...) {
    dataset.reset();
    H5Ldelete(parent.get(), name, H5P_DEFAULT);  // best effort: leave no dataset without units
    H5Eclear2(H5E_DEFAULT);
    throw;
  }
  return dataset;
}

void writeWholeDataset(hid_t file, const std::string& fpath, const std::string& rawPath,
                       const std::vector<std::size_t>& shape, hid_t fileType, hid_t memType,
                       const void* data, const std::string& units) {
  const std::size_t count = elementCount(shape);
  if (count > 0 && data == nullptr) fail(fpath, normalizePath(rawPath), "no data (null pointer)");
  std::string path;
  Object dataset =
      createDataset(file, fpath, rawPath, shape, fileType, units, nullptr, H5P_DEFAULT, path);
  if (count == 0) return;
  if (H5Dwrite(dataset.get(), memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    const std::string detail = hdf5Detail();
    dataset.reset();
    H5Ldelete(file, path.c_str(), H5P_DEFAULT);  // leave no half-written dataset behind
    H5Eclear2(H5E_DEFAULT);
    fail(fpath, path, "cannot write data" + (detail.empty() ? "" : " (HDF5: " + detail + ")"));
  }
}

bool isNumeric(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  return cls == H5T_INTEGER || cls == H5T_FLOAT;
}

hssize_t pointCount(hid_t space, const std::string& fpath, const std::string& object) {
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) failH5(fpath, object, "cannot read dataspace");
  return n;
}

/// Reads a single string (variable or fixed length) through `read(memType, buffer)`.
std::string readStringValue(hid_t type, hid_t space,
                            const std::function<herr_t(hid_t, void*)>& read,
                            const std::string& fpath, const std::string& object) {
  if (H5Tget_class(type) != H5T_STRING) fail(fpath, object, "is not a string");
  if (pointCount(space, fpath, object) != 1) fail(fpath, object, "is not a single string");
  const htri_t variable = H5Tis_variable_str(type);
  if (variable < 0) failH5(fpath, object, "cannot inspect string type");
  if (variable > 0) {
    Type memType(checkId(H5Tcopy(H5T_C_S1), fpath, object, "cannot create string type"));
    checkRc(H5Tset_size(memType.get(), H5T_VARIABLE), fpath, object, "cannot create string type");
    checkRc(H5Tset_cset(memType.get(), H5Tget_cset(type)), fpath, object,
            "cannot create string type");
    char* text = nullptr;
    checkRc(read(memType.get(), &text), fpath, object, "cannot read string");
    std::string out = text != nullptr ? text : "";
    H5Dvlen_reclaim(memType.get(), space, H5P_DEFAULT, &text);
    return out;
  }
  const std::size_t size = H5Tget_size(type);
  if (size == 0) failH5(fpath, object, "cannot inspect string type");
  Type memType(checkId(H5Tcopy(type), fpath, object, "cannot create string type"));
  std::vector<char> buffer(size, '\0');
  checkRc(read(memType.get(), buffer.data()), fpath, object, "cannot read string");
  std::string out(buffer.data(), strnlen(buffer.data(), size));
  if (H5Tget_strpad(type) == H5T_STR_SPACEPAD) {
    while (!out.empty() && out.back() == ' ') out.pop_back();
  }
  return out;
}

/// Opens attribute `name` of the object at normalized `objectPath`.
Attr openAttribute(hid_t file, const std::string& fpath, const std::string& objectPath,
                   const std::string& name) {
  Object object = openObject(file, fpath, objectPath);
  const std::string label = attrLabel(name);
  const htri_t exists = H5Aexists(object.get(), name.c_str());
  if (exists < 0) failH5(fpath, objectPath, label + ": cannot look up");
  if (exists == 0) fail(fpath, objectPath, label + ": not found");
  return Attr(checkId(H5Aopen(object.get(), name.c_str(), H5P_DEFAULT), fpath, objectPath,
                      label + ": cannot open"));
}

/// Reads a one-element numeric attribute into `memType` (NATIVE_DOUBLE or NATIVE_INT64).
void readScalarAttribute(hid_t file, const std::string& fpath, const std::string& objectPath,
                         const std::string& name, hid_t memType, bool integerOnly, void* out) {
  Attr attr = openAttribute(file, fpath, objectPath, name);
  const std::string label = attrLabel(name);
  Type type(checkId(H5Aget_type(attr.get()), fpath, objectPath, label + ": cannot read type"));
  if (integerOnly ? H5Tget_class(type.get()) != H5T_INTEGER : !isNumeric(type.get()))
    fail(fpath, objectPath, label + (integerOnly ? ": is not an integer" : ": is not a number"));
  Space space(
      checkId(H5Aget_space(attr.get()), fpath, objectPath, label + ": cannot read dataspace"));
  if (pointCount(space.get(), fpath, objectPath) != 1)
    fail(fpath, objectPath, label + ": is not a single value");
  checkRc(H5Aread(attr.get(), memType, out), fpath, objectPath, label + ": cannot read");
}

herr_t collectAttributeName(hid_t /*location*/, const char* name, const H5A_info_t* /*info*/,
                            void* data) {
  try {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  } catch (...) {
    return -1;
  }
}

struct VisitState {
  std::vector<std::string> paths;
  H5I_type_t type = H5I_DATASET;  ///< the kind of object collected
};

herr_t collectObjectsOfType(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  if (info->type != H5L_TYPE_HARD) return 0;
  const hid_t object = H5Oopen(group, name, H5P_DEFAULT);
  if (object < 0) return -1;
  const bool wanted = H5Iget_type(object) == static_cast<VisitState*>(data)->type;
  H5Oclose(object);
  if (!wanted) return 0;
  try {
    static_cast<VisitState*>(data)->paths.push_back(std::string("/") + name);
    return 0;
  } catch (...) {
    return -1;
  }
}

/// Chunk dimensions for a row-written dataset: a few whole rows, about kChunkBytes per chunk
/// (rows larger than that are split along the following dimensions).
std::vector<hsize_t> rowChunk(const std::vector<std::size_t>& shape, std::size_t elementBytes) {
  std::vector<hsize_t> chunk(shape.begin(), shape.end());
  std::size_t rowBytes = elementBytes;
  for (std::size_t i = 1; i < shape.size(); ++i) rowBytes *= shape[i];
  chunk[0] = std::clamp<std::size_t>(kChunkBytes / rowBytes, 1, shape[0]);
  // A single row bigger than the target: shrink the trailing dimensions, outermost first.
  std::size_t bytes = rowBytes;
  for (std::size_t i = 1; i < shape.size() && bytes > kChunkBytes; ++i) {
    const std::size_t inner = bytes / shape[i];  // bytes of one index along dimension i
    chunk[i] = std::clamp<std::size_t>(kChunkBytes / inner, 1, shape[i]);
    bytes = inner * chunk[i];
  }
  return chunk;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// H5File

H5File::H5File(const std::string& path, Mode mode) : path_(path) {
  quietHdf5();
  if (mode == Mode::Read) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (!fs::exists(status)) fail(path_, "", "no such file");
    if (fs::is_directory(status)) fail(path_, "", "is a directory, not an HDF5 file");
    const htri_t isHdf5 = H5Fis_hdf5(path.c_str());
    if (isHdf5 < 0) failH5(path_, "", "cannot read file");
    if (isHdf5 == 0) fail(path_, "", "not an HDF5 file");
    file_ =
        checkId(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path_, "", "cannot open file");
  } else {
    Plist fcpl = creationPlist(H5P_FILE_CREATE, path_, "/");
    file_ = checkId(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), path_, "",
                    "cannot create file");
  }
}

namespace {

/// File access through HDF5's core driver without a backing store: the file lives in memory only.
Plist inMemoryAccess(const std::string& name) {
  Plist fapl(checkId(H5Pcreate(H5P_FILE_ACCESS), name, "", "cannot create property list"));
  checkRc(H5Pset_fapl_core(fapl.get(), 1 << 20, /*backing_store=*/0), name, "",
          "cannot select the in-memory driver");
  return fapl;
}

}  // namespace

std::unique_ptr<H5File> H5File::inMemory(const std::string& name) {
  quietHdf5();
  Plist fapl = inMemoryAccess(name);
  Plist fcpl = creationPlist(H5P_FILE_CREATE, name, "/");
  const hid_t file = checkId(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), name,
                             "", "cannot create in-memory file");
  return std::unique_ptr<H5File>(new H5File(file, name));
}

std::unique_ptr<H5File> H5File::fromImage(const std::string& bytes, const std::string& name) {
  quietHdf5();
  if (bytes.empty()) fail(name, "", "empty file image");
  Plist fapl = inMemoryAccess(name);
  // HDF5 copies the buffer (no H5LT_FILE_IMAGE flags here), so `bytes` need not outlive the file.
  checkRc(H5Pset_file_image(fapl.get(), const_cast<char*>(bytes.data()), bytes.size()), name, "",
          "cannot use the file image");
  const hid_t file =
      checkId(H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl.get()), name, "", "not an HDF5 file image");
  return std::unique_ptr<H5File>(new H5File(file, name));
}

std::string H5File::image() {
  const hid_t file = static_cast<hid_t>(requireOpen(file_, path_));
  flush();
  const ssize_t size = H5Fget_file_image(file, nullptr, 0);
  if (size < 0) failH5(path_, "", "cannot take the file's image");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  if (H5Fget_file_image(file, bytes.data(), bytes.size()) != size)
    failH5(path_, "", "cannot take the file's image");
  return bytes;
}

H5File::~H5File() {
  try {
    close();
  } catch (...) {
    // Destructors must not throw; call close() explicitly to see close errors.
  }
}

std::int64_t H5File::ensureParentGroups(const std::string& path) {
  const hid_t file = requireOpen(file_, path_);
  const auto parts = splitPath(path);
  return openOrCreateGroups(file, path_, parts, parts.empty() ? 0 : parts.size() - 1);
}

void H5File::writeDoubles(const std::string& path, const std::vector<std::size_t>& shape,
                          const double* data, const std::string& units) {
  writeWholeDataset(requireOpen(file_, path_), path_, path, shape, H5T_IEEE_F64LE,
                    H5T_NATIVE_DOUBLE, data, units);
}

void H5File::writeFloats(const std::string& path, const std::vector<std::size_t>& shape,
                         const float* data, const std::string& units) {
  writeWholeDataset(requireOpen(file_, path_), path_, path, shape, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                    data, units);
}

void H5File::writeInts(const std::string& path, const std::vector<std::size_t>& shape,
                       const std::int64_t* data, const std::string& units) {
  writeWholeDataset(requireOpen(file_, path_), path_, path, shape, H5T_STD_I64LE, H5T_NATIVE_INT64,
                    data, units);
}

void H5File::writeString(const std::string& path, const std::string& text,
                         const std::string& units) {
  const hid_t file = requireOpen(file_, path_);
  requireNoNul(text, path_, normalizePath(path));
  Type type = utf8StringType(path_, normalizePath(path));
  const char* value = text.c_str();
  writeWholeDataset(file, path_, path, {}, type.get(), type.get(), &value, units);
}

void H5File::writeFixedString(const std::string& path, const std::string& text,
                              const std::string& units) {
  const hid_t file = requireOpen(file_, path_);
  const std::string object = normalizePath(path);
  if (text.empty()) fail(path_, object, "a fixed-length string needs at least one character");
  for (const char c : text) {
    if (c == '\0' || static_cast<unsigned char>(c) > 127)
      fail(path_, object, "a fixed-length ASCII string holds only ASCII characters other than NUL");
  }
  Type type(checkId(H5Tcopy(H5T_C_S1), path_, object, "cannot create string type"));
  checkRc(H5Tset_size(type.get(), text.size()), path_, object, "cannot create string type");
  checkRc(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), path_, object, "cannot create string type");
  checkRc(H5Tset_cset(type.get(), H5T_CSET_ASCII), path_, object, "cannot create string type");
  writeWholeDataset(file, path_, path, {1}, type.get(), type.get(), text.data(), units);
}

void H5File::createFloatDataset(const std::string& path, const std::vector<std::size_t>& shape,
                                const std::string& units) {
  const hid_t file = requireOpen(file_, path_);
  if (shape.empty())
    fail(path_, normalizePath(path), "a row-written dataset needs at least one dimension");
  const bool empty = elementCount(shape) == 0;  // chunk dimensions must be positive
  const std::vector<hsize_t> chunk =
      empty ? std::vector<hsize_t>{} : rowChunk(shape, sizeof(float));
  Plist dapl(checkId(H5Pcreate(H5P_DATASET_ACCESS), path_, normalizePath(path),
                     "cannot create property list"));
  checkRc(H5Pset_chunk_cache(dapl.get(), kChunkCacheSlots, kChunkCacheBytes, 1.0), path_,
          normalizePath(path), "cannot set chunk cache");
  std::string name;
  Object dataset = createDataset(file, path_, path, shape, H5T_IEEE_F32LE, units,
                                 empty ? nullptr : &chunk, dapl.get(), name);
  rowDatasets_[name] = dataset.release();
}

void H5File::writeFloatRows(const std::string& path, std::size_t firstRow, std::size_t nRows,
                            const float* data) {
  const hid_t file = requireOpen(file_, path_);
  const std::string name = normalizePath(path);
  requireWritable(file, path_, name);
  auto it = rowDatasets_.find(name);
  if (it == rowDatasets_.end()) {
    openDataset(file, path_, name);  // existence and kind checks with clear messages
    Plist dapl(checkId(H5Pcreate(H5P_DATASET_ACCESS), path_, name, "cannot create property list"));
    checkRc(H5Pset_chunk_cache(dapl.get(), kChunkCacheSlots, kChunkCacheBytes, 1.0), path_, name,
            "cannot set chunk cache");
    const hid_t id =
        checkId(H5Dopen2(file, name.c_str(), dapl.get()), path_, name, "cannot open dataset");
    it = rowDatasets_.emplace(name, id).first;
  }
  const hid_t dataset = static_cast<hid_t>(it->second);

  Type type(checkId(H5Dget_type(dataset), path_, name, "cannot read type"));
  if (!isNumeric(type.get())) fail(path_, name, "is not numeric");
  Space fileSpace(checkId(H5Dget_space(dataset), path_, name, "cannot read dataspace"));
  const int rank = H5Sget_simple_extent_ndims(fileSpace.get());
  if (rank < 0) failH5(path_, name, "cannot read dataspace");
  if (rank == 0) fail(path_, name, "is a scalar, not an array of rows");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  checkRc(H5Sget_simple_extent_dims(fileSpace.get(), dims.data(), nullptr), path_, name,
          "cannot read dataspace");
  if (firstRow > dims[0] || nRows > dims[0] - firstRow)
    fail(path_, name,
         fmt::format("rows [{}, {}) out of range: the dataset has {} rows", firstRow,
                     firstRow + nRows, dims[0]));
  if (nRows == 0) return;
  if (data == nullptr) fail(path_, name, "no data (null pointer)");
  for (hsize_t d : dims) {
    if (d == 0) return;  // nothing to write
  }

  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = firstRow;
  count[0] = nRows;
  checkRc(H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                              nullptr),
          path_, name, "cannot select rows");
  Space memSpace(checkId(H5Screate_simple(rank, count.data(), nullptr), path_, name,
                         "cannot create dataspace"));
  checkRc(H5Dwrite(dataset, H5T_NATIVE_FLOAT, memSpace.get(), fileSpace.get(), H5P_DEFAULT, data),
          path_, name, fmt::format("cannot write rows [{}, {})", firstRow, firstRow + nRows));
}

void H5File::setAttribute(const std::string& objectPath, const std::string& name, double value,
                          const std::string& units) {
  const hid_t file = requireOpen(file_, path_);
  const std::string object = normalizePath(objectPath);
  requireWritable(file, path_, object);
  const auto parts = splitPath(object);
  Object target(pathExists(file, object) ? openObject(file, path_, object).release()
                                         : openOrCreateGroups(file, path_, parts, parts.size()));
  writeAttribute(target.get(), path_, object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
  writeStringAttribute(target.get(), path_, object, name + kUnitsSuffix, units);
}

void H5File::setAttribute(const std::string& objectPath, const std::string& name,
                          std::int64_t value, const std::string& units) {
  const hid_t file = requireOpen(file_, path_);
  const std::string object = normalizePath(objectPath);
  requireWritable(file, path_, object);
  const auto parts = splitPath(object);
  Object target(pathExists(file, object) ? openObject(file, path_, object).release()
                                         : openOrCreateGroups(file, path_, parts, parts.size()));
  writeAttribute(target.get(), path_, object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
  writeStringAttribute(target.get(), path_, object, name + kUnitsSuffix, units);
}

void H5File::setAttribute(const std::string& objectPath, const std::string& name,
                          const std::string& value) {
  const hid_t file = requireOpen(file_, path_);
  const std::string object = normalizePath(objectPath);
  requireWritable(file, path_, object);
  const auto parts = splitPath(object);
  Object target(pathExists(file, object) ? openObject(file, path_, object).release()
                                         : openOrCreateGroups(file, path_, parts, parts.size()));
  writeStringAttribute(target.get(), path_, object, name, value);
}

bool H5File::exists(const std::string& path) const {
  return pathExists(requireOpen(file_, path_), normalizePath(path));
}

std::vector<std::size_t> H5File::shape(const std::string& path) const {
  const std::string name = normalizePath(path);
  Object dataset = openDataset(requireOpen(file_, path_), path_, name);
  Space space(checkId(H5Dget_space(dataset.get()), path_, name, "cannot read dataspace"));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) failH5(path_, name, "cannot read dataspace");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0)
    checkRc(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), path_, name,
            "cannot read dataspace");
  return {dims.begin(), dims.end()};
}

bool H5File::holdsIntegers(const std::string& path) const {
  const std::string name = normalizePath(path);
  Object dataset = openDataset(requireOpen(file_, path_), path_, name);
  Type type(checkId(H5Dget_type(dataset.get()), path_, name, "cannot read type"));
  return H5Tget_class(type.get()) == H5T_INTEGER;
}

std::vector<double> H5File::readDoubles(const std::string& path) const {
  const std::string name = normalizePath(path);
  Object dataset = openDataset(requireOpen(file_, path_), path_, name);
  Type type(checkId(H5Dget_type(dataset.get()), path_, name, "cannot read type"));
  if (!isNumeric(type.get())) fail(path_, name, "is not numeric");
  Space space(checkId(H5Dget_space(dataset.get()), path_, name, "cannot read dataspace"));
  std::vector<double> values(static_cast<std::size_t>(pointCount(space.get(), path_, name)));
  if (!values.empty())
    checkRc(H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
            path_, name, "cannot read data");
  return values;
}

std::vector<double> H5File::readDoubleRows(const std::string& path, std::size_t firstRow,
                                           std::size_t nRows) const {
  const std::string name = normalizePath(path);
  Object dataset = openDataset(requireOpen(file_, path_), path_, name);
  Type type(checkId(H5Dget_type(dataset.get()), path_, name, "cannot read type"));
  if (!isNumeric(type.get())) fail(path_, name, "is not numeric");
  Space fileSpace(checkId(H5Dget_space(dataset.get()), path_, name, "cannot read dataspace"));
  const int rank = H5Sget_simple_extent_ndims(fileSpace.get());
  if (rank < 0) failH5(path_, name, "cannot read dataspace");
  if (rank == 0) fail(path_, name, "is a scalar, not an array of rows");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  checkRc(H5Sget_simple_extent_dims(fileSpace.get(), dims.data(), nullptr), path_, name,
          "cannot read dataspace");
  if (firstRow > dims[0] || nRows > dims[0] - firstRow)
    fail(path_, name,
         fmt::format("rows [{}, {}) out of range: the dataset has {} rows", firstRow,
                     firstRow + nRows, dims[0]));
  std::size_t perRow = 1;
  for (std::size_t d = 1; d < dims.size(); ++d) perRow *= static_cast<std::size_t>(dims[d]);
  std::vector<double> values(nRows * perRow);
  if (values.empty()) return values;
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = firstRow;
  count[0] = nRows;
  checkRc(H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                              nullptr),
          path_, name, "cannot select rows");
  Space memSpace(checkId(H5Screate_simple(rank, count.data(), nullptr), path_, name,
                         "cannot create dataspace"));
  checkRc(H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, memSpace.get(), fileSpace.get(), H5P_DEFAULT,
                  values.data()),
          path_, name, fmt::format("cannot read rows [{}, {})", firstRow, firstRow + nRows));
  return values;
}

std::string H5File::readString(const std::string& path) const {
  const std::string name = normalizePath(path);
  Object dataset = openDataset(requireOpen(file_, path_), path_, name);
  Type type(checkId(H5Dget_type(dataset.get()), path_, name, "cannot read type"));
  Space space(checkId(H5Dget_space(dataset.get()), path_, name, "cannot read dataspace"));
  const hid_t id = dataset.get();
  return readStringValue(
      type.get(), space.get(),
      [id](hid_t memType, void* buffer) {
        return H5Dread(id, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
      },
      path_, name);
}

double H5File::readAttributeDouble(const std::string& objectPath, const std::string& name) const {
  double value = 0;
  readScalarAttribute(requireOpen(file_, path_), path_, normalizePath(objectPath), name,
                      H5T_NATIVE_DOUBLE, false, &value);
  return value;
}

std::int64_t H5File::readAttributeInt(const std::string& objectPath,
                                      const std::string& name) const {
  std::int64_t value = 0;
  readScalarAttribute(requireOpen(file_, path_), path_, normalizePath(objectPath), name,
                      H5T_NATIVE_INT64, true, &value);
  return value;
}

std::string H5File::readAttributeString(const std::string& objectPath,
                                        const std::string& name) const {
  const std::string object = normalizePath(objectPath);
  Attr attr = openAttribute(requireOpen(file_, path_), path_, object, name);
  const std::string label = object + " " + attrLabel(name);
  Type type(checkId(H5Aget_type(attr.get()), path_, label, "cannot read type"));
  Space space(checkId(H5Aget_space(attr.get()), path_, label, "cannot read dataspace"));
  const hid_t id = attr.get();
  return readStringValue(
      type.get(), space.get(),
      [id](hid_t memType, void* buffer) { return H5Aread(id, memType, buffer); }, path_, label);
}

bool H5File::hasAttribute(const std::string& objectPath, const std::string& name) const {
  const hid_t file = requireOpen(file_, path_);
  const std::string object = normalizePath(objectPath);
  if (!pathExists(file, object)) return false;
  Object target = openObject(file, path_, object);
  const htri_t exists = H5Aexists(target.get(), name.c_str());
  if (exists < 0) failH5(path_, object, attrLabel(name) + ": cannot look up");
  return exists > 0;
}

std::vector<std::string> H5File::attributeNames(const std::string& objectPath) const {
  const std::string object = normalizePath(objectPath);
  Object target = openObject(requireOpen(file_, path_), path_, object);
  std::vector<std::string> names;
  hsize_t index = 0;
  if (H5Aiterate2(target.get(), H5_INDEX_CRT_ORDER, H5_ITER_INC, &index, collectAttributeName,
                  &names) < 0) {
    // Objects written elsewhere may not track creation order: fall back to name order.
    H5Eclear2(H5E_DEFAULT);
    names.clear();
    index = 0;
    checkRc(
        H5Aiterate2(target.get(), H5_INDEX_NAME, H5_ITER_INC, &index, collectAttributeName, &names),
        path_, object, "cannot list attributes");
  }
  return names;
}

std::vector<std::string> H5File::datasetPaths() const {
  const hid_t file = requireOpen(file_, path_);
  VisitState state;
  checkRc(H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, collectObjectsOfType, &state), path_, "/",
          "cannot list datasets");
  std::sort(state.paths.begin(), state.paths.end());
  return state.paths;
}

std::vector<std::string> H5File::groupPaths() const {
  const hid_t file = requireOpen(file_, path_);
  VisitState state;
  state.type = H5I_GROUP;
  checkRc(H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, collectObjectsOfType, &state), path_, "/",
          "cannot list groups");
  std::sort(state.paths.begin(), state.paths.end());
  state.paths.insert(state.paths.begin(), "/");
  return state.paths;
}

bool H5File::isNumericAttribute(const std::string& objectPath, const std::string& name) const {
  const std::string object = normalizePath(objectPath);
  Object target = openObject(requireOpen(file_, path_), path_, object);
  const hid_t attr = H5Aopen(target.get(), name.c_str(), H5P_DEFAULT);
  if (attr < 0) failH5(path_, object, attrLabel(name) + ": cannot open");
  const hid_t type = H5Aget_type(attr);
  const H5T_class_t cls = type < 0 ? H5T_NO_CLASS : H5Tget_class(type);
  if (type >= 0) H5Tclose(type);
  H5Aclose(attr);
  return cls == H5T_INTEGER || cls == H5T_FLOAT;
}

void H5File::flush() {
  checkRc(H5Fflush(requireOpen(file_, path_), H5F_SCOPE_LOCAL), path_, "", "cannot flush file");
}

void H5File::close() {
  if (file_ < 0) return;
  quietHdf5();
  // Closing a row-written dataset flushes its chunk cache, so write errors can surface here.
  std::string firstError;
  for (const auto& [name, id] : rowDatasets_) {
    if (H5Dclose(static_cast<hid_t>(id)) < 0 && firstError.empty()) {
      const std::string detail = hdf5Detail();
      firstError =
          name + ": cannot close dataset" + (detail.empty() ? "" : " (HDF5: " + detail + ")");
    }
  }
  rowDatasets_.clear();
  const hid_t file = static_cast<hid_t>(file_);
  file_ = -1;
  if (H5Fclose(file) < 0) failH5(path_, "", "cannot close file");
  if (!firstError.empty()) throw H5Error(path_ + ": " + firstError);
}

// ---------------------------------------------------------------------------------------------
// AtomicH5Writer

namespace {
void removeQuietly(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
}
}  // namespace

AtomicH5Writer::AtomicH5Writer(const std::string& finalPath)
    : finalPath_(finalPath), tmpPath_(temporaryPathFor(finalPath)) {
  if (finalPath.empty()) throw H5Error("AtomicH5Writer: empty output path");
  try {
    // The folders created here are removed again if the run fails (see the destructor).
    createdDirs_ = std::make_unique<CreatedParents>(finalPath);
    checkOutputTarget(finalPath);
  } catch (const std::exception& e) {
    throw H5Error(e.what());
  }
  signalSlot_ = detail::registerTemporary(tmpPath_);
  try {
    file_ = std::make_unique<H5File>(tmpPath_, H5File::Mode::Create);
  } catch (...) {
    removeQuietly(tmpPath_);
    detail::unregisterTemporary(signalSlot_);
    throw;
  }
}

AtomicH5Writer::~AtomicH5Writer() {
  detail::unregisterTemporary(signalSlot_);
  if (committed_) return;
  try {
    file_.reset();  // closes (errors ignored)
  } catch (...) {
  }
  removeQuietly(tmpPath_);
  // createdDirs_ (destroyed after this body) removes the folders this writer created.
}

void AtomicH5Writer::commit() {
  if (committed_) throw H5Error(finalPath_ + ": already committed");
  try {
    file_->close();
  } catch (...) {
    removeQuietly(tmpPath_);
    throw;
  }
  std::error_code ec;
  fs::rename(tmpPath_, finalPath_, ec);
  if (ec) {
    removeQuietly(tmpPath_);
    throw H5Error(fmt::format("{}: cannot rename temporary file '{}' to it: {}", finalPath_,
                              tmpPath_, ec.message()));
  }
  committed_ = true;
  createdDirs_->keep();
}

}  // namespace geotps
