// geotps_h5_edit: damages a copy of an HDF5 result file the way a careless user, another tool or
// a broken disk would, for the hostile-input corpus (tests/hostile/cases.yaml). Not installed.
//
//   geotps_h5_edit FILE set-int OBJECT ATTRIBUTE VALUE   overwrite an integer attribute
//   geotps_h5_edit FILE nan DATASET                      set the first element to NaN
//   geotps_h5_edit FILE reshape DATASET D0[,D1...]       replace by a float32 dataset of zeros
//                                                        of that shape (same name)
#include <hdf5.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "engine/core/sanitizer_options.h"

namespace {
int fail(const std::string& what) {
  std::fprintf(stderr, "geotps_h5_edit: %s\n", what.c_str());
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return fail("usage: FILE set-int OBJECT ATTR VALUE | nan DATASET | reshape DATASET DIMS");
  const std::string file = argv[1], op = argv[2];
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) return fail("cannot open " + file);
  int rc = 0;
  if (op == "set-int" && argc == 6) {
    const hid_t a = H5Aopen_by_name(f, argv[3], argv[4], H5P_DEFAULT, H5P_DEFAULT);
    const long long v = std::atoll(argv[5]);
    if (a < 0 || H5Awrite(a, H5T_NATIVE_LLONG, &v) < 0) rc = fail("cannot write the attribute");
    if (a >= 0) H5Aclose(a);
  } else if (op == "nan" && argc == 4) {
    const hid_t d = H5Dopen2(f, argv[3], H5P_DEFAULT);
    const hid_t space = d >= 0 ? H5Dget_space(d) : -1;
    const hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (n <= 0) {
      rc = fail("no such dataset or empty");
    } else {
      std::vector<double> v(static_cast<std::size_t>(n));
      H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
      v[0] = std::nan("");
      if (H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
        rc = fail("cannot write the dataset");
    }
    if (space >= 0) H5Sclose(space);
    if (d >= 0) H5Dclose(d);
  } else if (op == "reshape" && argc == 5) {
    std::vector<hsize_t> dims;
    std::stringstream in(argv[4]);
    for (std::string t; std::getline(in, t, ',');) dims.push_back(std::stoull(t));
    if (H5Ldelete(f, argv[3], H5P_DEFAULT) < 0) {
      rc = fail("no such dataset");
    } else {
      const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
      const hid_t d = H5Dcreate2(f, argv[3], H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT,
                                 H5P_DEFAULT);
      std::size_t n = 1;
      for (hsize_t x : dims) n *= x;
      std::vector<float> zeros(n, 0.0f);
      if (d < 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data()) < 0)
        rc = fail("cannot create the dataset");
      if (d >= 0) H5Dclose(d);
      H5Sclose(space);
    }
  } else {
    rc = fail("unknown operation or wrong arguments: " + op);
  }
  if (H5Fclose(f) < 0) rc = fail("cannot close " + file);
  return rc;
}
