/* Guards for Debian 12's HDF5 (1.10.8) against damaged users' files that make it hang or
 * crash instead of failing (formats_hdf5.h); each one found by fuzzing (tests/fuzz/).
 *
 * Global heaps. HDF5 keeps variable-length data (h5py's text attributes, such as a map's
 * `units`) in global heap collections ("GCOL"). Decoding a collection, it steps from object
 * to object by each object's stored size; an object 0 (free space) of size 0 never moves
 * the step on, and HDF5 1.10.8 loops forever; an object larger than what is left of its
 * collection steps out of it. Fuzzing found the first (tests/fuzz/corpus/map/regression-*),
 * so the readers of users' files walk the collections themselves before HDF5 reads
 * variable-length data, and refuse the file instead of hanging. A valid collection's
 * objects tile it exactly (the free-space object covers the tail), so no valid file is
 * refused.
 *
 * Dataset storage. A compact dataset whose stored size is 0 (a damaged layout message) is
 * read by HDF5 1.10.8 from a NULL buffer: a crash in H5Dread. Compact and contiguous
 * datasets hold every value, so storage smaller than shape × element size is damage. A
 * number type whose precision and bit offset do not fit its size is damage too (HDF5's
 * conversion copied bits from outside the buffer: SIGBUS). */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/formats_hdf5.h"

enum {
  PP_GCOL_HEADER_BYTES = 16,     /* "GCOL", version 1, 3 reserved, 8-byte collection size */
  PP_GCOL_OBJECT_HEADER_BYTES = 16, /* index (2), references (2), reserved (4), size (8) */
  PP_GCOL_MIN_BYTES = 4096       /* HDF5 never makes a smaller collection (H5HG_MINSIZE) */
};

static uint64_t pp_gcol_read_u64(const unsigned char *p) {
  uint64_t value = 0;
  for (int k = 7; k >= 0; k--) value = value << 8 | p[k]; /* little-endian, as HDF5 writes */
  return value;
}

/* True when the collection at `gcol` (with `available` bytes of the file from there) would
 * make HDF5 step nowhere or out of it. A collection that runs past the end of the file is
 * not judged: HDF5 refuses to read it. */
static bool pp_gcol_is_damaged(const unsigned char *gcol, size_t available) {
  /* HDF5 checks the version, not the 3 reserved bytes (a fuzzed collection with junk
   * there was read all the same) */
  if (gcol[4] != 1) return false; /* not a collection */
  uint64_t size = pp_gcol_read_u64(gcol + 8);
  if (size < PP_GCOL_MIN_BYTES || size > available) return false;
  size_t offset = PP_GCOL_HEADER_BYTES;
  while (offset < size) {
    if (offset + PP_GCOL_OBJECT_HEADER_BYTES > size) return false; /* a free-space tail */
    const unsigned char *object = gcol + offset;
    unsigned index = (unsigned)object[0] | (unsigned)object[1] << 8;
    uint64_t object_size = pp_gcol_read_u64(object + 8);
    uint64_t step = object_size;
    if (index > 0) {
      if (object_size > size) return true;
      step = PP_GCOL_OBJECT_HEADER_BYTES + ((object_size + 7) & ~(uint64_t)7); /* 8-aligned */
    }
    if (step == 0 || step > size - offset) return true;
    offset += (size_t)step;
  }
  return false;
}

pp_status pp_formats_hdf5_check_global_heaps(const char *path) {
  int descriptor = open(path, O_RDONLY | O_CLOEXEC);
  PP_CHECK(descriptor >= 0, PP_ERR_INPUT, "'%s': cannot open: %s", path, strerror(errno));
  struct stat info;
  if (fstat(descriptor, &info) != 0 || info.st_size < PP_GCOL_MIN_BYTES) {
    close(descriptor);
    return PP_SUCCESS; /* too small to hold a collection */
  }
  size_t size_bytes = (size_t)info.st_size;
  unsigned char *bytes = mmap(NULL, size_bytes, PROT_READ, MAP_PRIVATE, descriptor, 0);
  close(descriptor);
  PP_CHECK(bytes != MAP_FAILED, PP_ERR_INPUT, "'%s': cannot map it to check it: %s", path,
           strerror(errno));
  size_t damaged_at = SIZE_MAX;
  for (const unsigned char *p = bytes; damaged_at == SIZE_MAX;) {
    size_t left = size_bytes - (size_t)(p - bytes);
    if (left < PP_GCOL_MIN_BYTES) break;
    p = memmem(p, left, "GCOL", 4);
    if (!p) break;
    if (pp_gcol_is_damaged(p, size_bytes - (size_t)(p - bytes)))
      damaged_at = (size_t)(p - bytes);
    p++;
  }
  munmap(bytes, size_bytes);
  PP_CHECK(damaged_at == SIZE_MAX, PP_ERR_INPUT,
           "'%s' is a damaged HDF5 file: the global heap collection at byte %zu (where text "
           "attributes are kept) has an object whose size does not fit it",
           path, damaged_at);
  return PP_SUCCESS;
}

/* ---- dataset storage ----------------------------------------------------------------- */

pp_status pp_formats_hdf5_check_storage(hid_t dataset, const char *path, const char *name) {
  pp_status status = PP_SUCCESS;
  hid_t create = H5Dget_create_plist(dataset), space = H5Dget_space(dataset);
  hid_t type = H5Dget_type(dataset);
  H5D_layout_t layout = create >= 0 ? H5Pget_layout(create) : H5D_LAYOUT_ERROR;
  hssize_t points = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
  size_t element_bytes = type >= 0 ? H5Tget_size(type) : 0;
  PP_H5_CHECK_GOTO(status, layout != H5D_LAYOUT_ERROR && points >= 0 && element_bytes > 0,
                   PP_ERR_INPUT, "'%s': cannot read the layout of %s", path, name);
  /* A number type whose bits lie outside its bytes (or cannot be told): HDF5 1.10.8's
   * conversion to double copies those bits from outside the buffer (SIGBUS, found by
   * fuzz_spectrum). */
  H5T_class_t type_class = H5Tget_class(type);
  if (type_class == H5T_INTEGER || type_class == H5T_FLOAT) {
    size_t precision_bits = H5Tget_precision(type);
    int offset_bits = H5Tget_offset(type);
    PP_CHECK_GOTO(status,
                  precision_bits > 0 && offset_bits >= 0 &&
                      (size_t)offset_bits + precision_bits <= 8 * element_bytes,
                  PP_ERR_INPUT,
                  "'%s' is a damaged HDF5 file: the number type of %s (%zu bytes) claims %zu "
                  "bits at bit %d",
                  path, name, element_bytes, precision_bits, offset_bits);
  }
  if (layout == H5D_COMPACT || layout == H5D_CONTIGUOUS) {
    hsize_t stored_bytes = H5Dget_storage_size(dataset);
    /* points ≤ 2^63 and element_bytes small: the product is checked against overflow */
    bool fits = (hsize_t)points <= UINT64_MAX / element_bytes &&
                stored_bytes >= (hsize_t)points * element_bytes;
    PP_CHECK_GOTO(status, fits || points == 0, PP_ERR_INPUT,
                  "'%s' is a damaged HDF5 file: %s holds %lld values of %zu bytes but only %llu "
                  "bytes of storage",
                  path, name, (long long)points, element_bytes, (unsigned long long)stored_bytes);
  }
done:
  pp_formats_hdf5_close(&type);
  pp_formats_hdf5_close(&space);
  pp_formats_hdf5_close(&create);
  H5Eclear2(H5E_DEFAULT);
  return status;
}
