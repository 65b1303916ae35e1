/* Reading a 2-D map (a transmission or OPD map for fits_optical_element) from a FITS image
 * (cfitsio) or an HDF5 dataset (serial HDF5: the default driver, no MPI), with the header
 * facts an optic needs: pixel scale and unit. Every failure a user can cause is
 * PP_ERR_INPUT with the file's name and what is wrong, so a bad map stops a job at exit
 * status 2 before anything is computed. */
#include <errno.h>
#include <fitsio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "formats/formats_fits.h"
#include "formats/formats_hdf5.h"
#include "formats/formats_sniff.h"
#include "polypsf/formats.h"

enum { PP_MAP_LOCATION_BYTES = 4096, PP_MAP_NAMES_BYTES = 256 };

/* The file and the part of it a location names. */
typedef enum { PP_MAP_PART_NONE, PP_MAP_PART_FITS_HDU, PP_MAP_PART_HDF5_DATASET } pp_map_part;

typedef struct {
  char file[PP_MAP_LOCATION_BYTES];
  char part[PP_MAP_LOCATION_BYTES]; /* HDU name or number, or dataset path ("/a/b") */
  pp_map_part kind;
  /* pp_map_read_slice: a 3-D cube of maps is accepted, and map `slice` of it is read. */
  bool cube_allowed;
  size_t slice;
} pp_map_location;

/* Splits "file[HDU]" and "file:/dataset". A name that exists as it is wins, so files whose
 * names happen to end in ']' or hold ':/' can still be read. */
static pp_status pp_map_split_location(const char *location, pp_map_location *loc) {
  size_t length = strlen(location);
  PP_CHECK(length < sizeof loc->file, PP_ERR_INPUT,
           "map location of %zu characters; at most %d are allowed", length,
           PP_MAP_LOCATION_BYTES - 1);
  memcpy(loc->file, location, length + 1);
  loc->part[0] = '\0';
  loc->kind = PP_MAP_PART_NONE;
  struct stat info;
  if (stat(location, &info) == 0) return PP_SUCCESS;

  const char *open = length >= 3 && location[length - 1] == ']' ? strrchr(location, '[') : NULL;
  if (open && open > location && open + 1 < location + length - 1) {
    size_t file_length = (size_t)(open - location);
    size_t part_length = length - file_length - 2;
    loc->file[file_length] = '\0';
    memcpy(loc->part, open + 1, part_length);
    loc->part[part_length] = '\0';
    loc->kind = PP_MAP_PART_FITS_HDU;
    return PP_SUCCESS;
  }
  const char *separator = NULL;
  for (const char *p = strstr(location, ":/"); p; p = strstr(p + 1, ":/")) separator = p;
  if (separator && separator > location && separator[2] != '\0') {
    size_t file_length = (size_t)(separator - location);
    loc->file[file_length] = '\0';
    snprintf(loc->part, sizeof loc->part, "%s", separator + 1); /* keeps the leading '/' */
    loc->kind = PP_MAP_PART_HDF5_DATASET;
  }
  return PP_SUCCESS;
}

/* ---- format ------------------------------------------------------------------------- */

typedef enum { PP_MAP_FORMAT_FITS, PP_MAP_FORMAT_HDF5, PP_MAP_FORMAT_UNKNOWN } pp_map_format;

/* Opens the file to tell FITS from HDF5 by content, and to give the plain reasons (no
 * such file, permission, a directory) before a library buries them. */
static pp_status pp_map_detect_format(const char *path, pp_map_format *format) {
  *format = PP_MAP_FORMAT_UNKNOWN;
  struct stat info;
  PP_CHECK(stat(path, &info) == 0, PP_ERR_INPUT, "'%s': %s", path, strerror(errno));
  PP_CHECK(!S_ISDIR(info.st_mode), PP_ERR_INPUT, "'%s' is a directory, not a map file", path);
  FILE *file = fopen(path, "rb");
  PP_CHECK(file != NULL, PP_ERR_INPUT, "'%s': cannot open: %s", path, strerror(errno));
  pp_file_kind kind = pp_formats_sniff(file, (long long)info.st_size);
  if (kind == PP_FILE_KIND_FITS || kind == PP_FILE_KIND_FITS_GZIP)
    *format = PP_MAP_FORMAT_FITS;
  else if (kind == PP_FILE_KIND_HDF5)
    *format = PP_MAP_FORMAT_HDF5;
  fclose(file);
  PP_CHECK(*format != PP_MAP_FORMAT_UNKNOWN, PP_ERR_INPUT,
           "'%s' (%lld bytes) is neither a FITS file (which starts with 'SIMPLE  =') nor an "
           "HDF5 file",
           path, (long long)info.st_size);
  return PP_SUCCESS;
}

/* The shape a header claims, checked before anything is allocated for it: a few bytes of
 * header may claim terabytes (found by fuzzing, tests/fuzz/corpus/map/regression-*). */
static pp_status pp_map_check_shape(const char *path, const char *dataset_path, size_t ny,
                                    size_t nx, size_t *count) {
  PP_CHECK(ny <= PP_MAP_MAX_VALUES / nx, PP_ERR_INPUT,
           "'%s%s%s' has %zu × %zu values, more than a map may hold (%zu, 16384 × 16384: the "
           "largest pupil array)",
           path, dataset_path[0] ? ":" : "", dataset_path, ny, nx, PP_MAP_MAX_VALUES);
  *count = ny * nx;
  return PP_SUCCESS;
}

/* ---- FITS ----------------------------------------------------------------------------- */

static void pp_map_trim(char *text) {
  size_t start = 0, n = strlen(text);
  while (text[start] == ' ') start++;
  while (n > start && text[n - 1] == ' ') n--;
  memmove(text, text + start, n - start);
  text[n - start] = '\0';
}

/* A number keyword of the current HDU: *found false when absent. */
static pp_status pp_map_fits_number_key(fitsfile *fits, const char *path, const char *key,
                                        double *value, bool *found) {
  pp_status status = PP_SUCCESS;
  int fits_status = 0;
  *found = false;
  fits_read_key(fits, TDOUBLE, key, value, NULL, &fits_status);
  if (fits_status == KEY_NO_EXIST) {
    fits_clear_errmsg();
    return PP_SUCCESS;
  }
  PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status, "'%s': header keyword %s is not a number",
                     path, key);
  *found = true;
done:
  return status;
}

/* A text keyword of the current HDU, blanks trimmed; "" when absent. */
static pp_status pp_map_fits_text_key(fitsfile *fits, const char *path, const char *key,
                                      char value[FLEN_VALUE]) {
  pp_status status = PP_SUCCESS;
  int fits_status = 0;
  value[0] = '\0';
  fits_read_key(fits, TSTRING, key, value, NULL, &fits_status);
  if (fits_status == KEY_NO_EXIST) {
    fits_clear_errmsg();
    value[0] = '\0';
    return PP_SUCCESS;
  }
  PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status,
                     "'%s': header keyword %s cannot be read as text", path, key);
  pp_map_trim(value);
done:
  return status;
}

/* The pixel scale and unit from the header of the current HDU. POPPY's FITSOpticalElement
 * looks for PIXELSCL, then PUPLSCAL, in pupil planes (poppy/poppy_core.py). */
static pp_status pp_map_fits_header(fitsfile *fits, const char *path, pp_map *map) {
  static const char *const scale_keys[] = {"PIXELSCL", "PUPLSCAL"};
  for (size_t k = 0; k < sizeof scale_keys / sizeof scale_keys[0]; k++) {
    double value = NAN;
    bool found = false;
    PP_CALL(pp_map_fits_number_key(fits, path, scale_keys[k], &value, &found));
    if (!found) continue;
    PP_CHECK(isfinite(value) && value > 0, PP_ERR_INPUT,
             "'%s': header keyword %s = %g is not a pixel scale (metres per pixel, > 0)", path,
             scale_keys[k], value);
    map->pixelscale_m = value;
    snprintf(map->pixelscale_key, sizeof map->pixelscale_key, "%s", scale_keys[k]);
    break;
  }
  /* POPPY writes PIXUNIT = 'meter' on pupil planes and 'arcsecond' on image planes: an
   * image-plane file read as a pupil map would be wrong by orders of magnitude. */
  char pixel_unit[FLEN_VALUE];
  PP_CALL(pp_map_fits_text_key(fits, path, "PIXUNIT", pixel_unit));
  if (pixel_unit[0] && map->pixelscale_key[0]) {
    static const char *const metre_words[] = {"m", "meter", "meters", "metre", "metres"};
    bool metres = false;
    for (size_t w = 0; w < sizeof metre_words / sizeof metre_words[0]; w++)
      metres = metres || strcasecmp(pixel_unit, metre_words[w]) == 0;
    PP_CHECK(metres, PP_ERR_INPUT,
             "'%s': PIXUNIT = '%s', so %s is not in metres per pixel (is this an image-plane "
             "file?); a map for a pupil plane needs its pixel scale in metres",
             path, pixel_unit, map->pixelscale_key);
  }
  char unit[FLEN_VALUE];
  PP_CALL(pp_map_fits_text_key(fits, path, "BUNIT", unit));
  snprintf(map->unit, sizeof map->unit, "%s", unit);
  return PP_SUCCESS;
}

static bool pp_map_is_whole_number(const char *text) {
  if (!text[0]) return false;
  for (const char *p = text; *p; p++)
    if (*p < '0' || *p > '9') return false;
  return true;
}

static pp_status pp_map_read_fits(const pp_map_location *loc, pp_map *map) {
  pp_status status = PP_SUCCESS;
  const char *path = loc->file;
  fitsfile *fits = NULL;
  int fits_status = 0, n_hdus = 0, hdu_type = 0, naxis = 0;
  /* The disk-file opener: no cfitsio extended syntax, the name is the name. */
  fits_open_diskfile(&fits, path, READONLY, &fits_status);
  PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status, "'%s' is not a readable FITS file", path);
  fits_get_num_hdus(fits, &n_hdus, &fits_status);
  PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status, "'%s': cannot count its HDUs", path);

  if (loc->kind == PP_MAP_PART_FITS_HDU && pp_map_is_whole_number(loc->part)) {
    long number = strtol(loc->part, NULL, 10);
    PP_CHECK_GOTO(status, number < n_hdus, PP_ERR_INPUT,
                  "'%s' has no HDU %s: it has %d, numbered from 0 (the primary)", path, loc->part,
                  n_hdus);
    fits_movabs_hdu(fits, (int)number + 1, &hdu_type, &fits_status);
    PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status, "'%s': cannot move to HDU %ld", path,
                       number);
  } else if (loc->kind == PP_MAP_PART_FITS_HDU) {
    char name[FLEN_VALUE];
    size_t name_length = strlen(loc->part);
    PP_CHECK_GOTO(status, name_length < sizeof name, PP_ERR_INPUT,
                  "'%s': an EXTNAME has at most %d characters, not %zu", path, FLEN_VALUE - 1,
                  name_length);
    memcpy(name, loc->part, name_length + 1);
    fits_movnam_hdu(fits, ANY_HDU, name, 0, &fits_status);
    if (fits_status == BAD_HDU_NUM) {
      fits_clear_errmsg();
      PP_CHECK_GOTO(status, false, PP_ERR_INPUT,
                    "'%s' has no extension with EXTNAME '%s' (it has %d HDUs; name one as "
                    "'file[EXTNAME]' or 'file[number]', the primary being 0)",
                    path, loc->part, n_hdus);
    }
    PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status, "'%s': cannot move to extension '%s'",
                       path, loc->part);
  } else {
    fits_get_img_dim(fits, &naxis, &fits_status);
    PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status, "'%s': cannot read the primary header",
                       path);
    /* astropy's getdata (POPPY's reader) takes the first extension when the primary HDU
     * holds no data. */
    if (naxis == 0 && n_hdus > 1) {
      fits_movabs_hdu(fits, 2, &hdu_type, &fits_status);
      PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status,
                         "'%s': cannot move to its first extension", path);
    }
  }
  fits_get_hdu_type(fits, &hdu_type, &fits_status);
  PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status, "'%s': cannot read the HDU type", path);
  PP_CHECK_GOTO(status, hdu_type == IMAGE_HDU, PP_ERR_INPUT,
                "'%s'%s%s%s is a table, not an image; a map is a 2-D image", path,
                loc->part[0] ? "[" : "", loc->part, loc->part[0] ? "]" : "");
  fits_get_img_dim(fits, &naxis, &fits_status);
  PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status, "'%s': cannot read NAXIS", path);
  PP_CHECK_GOTO(status, naxis == 2 || (loc->cube_allowed && naxis == 3), PP_ERR_INPUT,
                "'%s'%s%s%s has %d axes (NAXIS = %d); a map must be 2-D%s%s", path,
                loc->part[0] ? "[" : "", loc->part, loc->part[0] ? "]" : "", naxis, naxis,
                loc->cube_allowed ? ", or 3-D for a cube of maps" : "",
                naxis == 0 ? " (this HDU holds no data)" : "");
  long axes[3] = {0, 0, 1}; /* a 2-D map is one plane */
  fits_get_img_size(fits, naxis, axes, &fits_status);
  PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status, "'%s': cannot read NAXIS1, NAXIS2", path);
  PP_CHECK_GOTO(status, axes[0] > 0 && axes[1] > 0 && axes[2] > 0, PP_ERR_INPUT,
                "'%s' is an empty image (NAXIS1 = %ld, NAXIS2 = %ld%s)", path, axes[0], axes[1],
                axes[2] > 0 ? "" : ", NAXIS3 = 0");
  map->nx = (size_t)axes[0]; /* NAXIS1 runs fastest: x */
  map->ny = (size_t)axes[1];
  map->n_slices = naxis == 3 ? (size_t)axes[2] : 0; /* NAXIS3 runs slowest: the map */
  size_t plane = naxis == 3 ? loc->slice : 0;
  PP_CHECK_GOTO(status, plane < (size_t)axes[2], PP_ERR_INPUT,
                "'%s' holds %ld maps (NAXIS3); there is no map %zu (counted from 0)", path,
                axes[2], plane);
  size_t count = 0;
  PP_CALL_GOTO(status, pp_map_check_shape(path, "", map->ny, map->nx, &count));
  /* Undefined pixels (BLANK in integer images) become NaN, which the finite check reports. */
  double undefined = NAN, last_value = NAN;
  int any_undefined = 0;
  /* The last pixel first: a truncated file (or a header claiming more than it holds) fails
   * here, before the whole image is allocated. */
  long last_pixel[3] = {axes[0], axes[1], axes[2]};
  fits_read_pix(fits, TDOUBLE, last_pixel, 1, &undefined, &last_value, &any_undefined,
                &fits_status);
  PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status,
                     "'%s': its header says %zu × %zu pixels, but the file does not hold them "
                     "(truncated or damaged?)",
                     path, map->ny, map->nx);
  PP_CALL_GOTO(status, pp_array_alloc(count * sizeof(double), (void **)&map->values));
  long first_pixel[3] = {1, 1, (long)plane + 1};
  fits_read_pix(fits, TDOUBLE, first_pixel, (LONGLONG)count, &undefined, map->values,
                &any_undefined, &fits_status);
  PP_FITS_CHECK_GOTO(status, PP_ERR_INPUT, fits_status, "'%s': cannot read its %zu × %zu pixels",
                     path, map->ny, map->nx);
  PP_CALL_GOTO(status, pp_map_fits_header(fits, path, map));
done:
  if (fits) {
    int close_status = 0;
    fits_close_file(fits, &close_status);
    fits_clear_errmsg();
  }
  return status;
}

/* ---- HDF5 ----------------------------------------------------------------------------- */

/* A map file that cannot be read is the user's to fix: the reader's message, as
 * PP_ERR_INPUT (exit status 2), whatever class the HDF5 helper gave it. */
static pp_status pp_map_input_error(pp_status read) {
  if (read == PP_SUCCESS) return PP_SUCCESS;
  pp_status input =
      pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__, "%s", pp_status_message(read));
  pp_status_free(read);
  return input;
}

typedef struct {
  size_t count;
  char first[PP_MAP_NAMES_BYTES];
  char names[PP_MAP_NAMES_BYTES]; /* "a, b, c" for the message */
} pp_map_dataset_search;

static herr_t pp_map_visit_root(hid_t group, const char *name, const H5L_info_t *link,
                                void *data) {
  (void)link;
  pp_map_dataset_search *search = data;
  hid_t object = H5Oopen(group, name, H5P_DEFAULT);
  if (object < 0) return 0; /* a dangling link: not a dataset */
  if (H5Iget_type(object) == H5I_DATASET) {
    if (search->count == 0) snprintf(search->first, sizeof search->first, "/%s", name);
    size_t used = strlen(search->names);
    if (used + 1 < sizeof search->names)
      snprintf(search->names + used, sizeof search->names - used, "%s/%s",
               search->count ? ", " : "", name);
    search->count++;
  }
  H5Oclose(object);
  return 0;
}

/* Reads the value at the far corner of a 2-D (or 3-D) dataset (into a scratch double). */
static pp_status pp_map_hdf5_read_last(hid_t dataset, hid_t space, const char *path,
                                       const char *dataset_path, int rank,
                                       const hsize_t extent[3]) {
  pp_status status = PP_SUCCESS;
  hid_t file_space = H5Scopy(space), memory_space = H5I_INVALID_HID;
  hsize_t start[3] = {extent[0] - 1, extent[1] - 1, rank == 3 ? extent[2] - 1 : 0};
  hsize_t one[3] = {1, 1, 1};
  double last_value = NAN;
  bool read = file_space >= 0 &&
              H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, one, NULL) >= 0 &&
              (memory_space = H5Screate_simple(rank, one, NULL)) >= 0 &&
              H5Dread(dataset, H5T_NATIVE_DOUBLE, memory_space, file_space, H5P_DEFAULT,
                      &last_value) >= 0;
  PP_H5_CHECK_GOTO(status, read, PP_ERR_INPUT,
                   "'%s:%s': its shape says %llu × %llu values, but the file does not hold them "
                   "(truncated or damaged?)",
                   path, dataset_path, (unsigned long long)extent[0],
                   (unsigned long long)extent[1]);
done:
  pp_formats_hdf5_close(&memory_space);
  pp_formats_hdf5_close(&file_space);
  return status;
}

static pp_status pp_map_read_hdf5(const pp_map_location *loc, pp_map *map) {
  pp_status status = PP_SUCCESS;
  const char *path = loc->file;
  hid_t file = H5I_INVALID_HID, dataset = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hid_t type = H5I_INVALID_HID, memory_space = H5I_INVALID_HID;
  char *units = NULL;
  char dataset_path[PP_MAP_LOCATION_BYTES];
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);

  pp_status opened = pp_formats_hdf5_open_read(path, &file);
  if (opened != PP_SUCCESS) {
    /* A file with HDF5's signature that HDF5 cannot open is a bad input, not an I/O fault. */
    status = pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__,
                            "'%s' looks like HDF5 but cannot be read: %s", path,
                            pp_status_message(opened));
    pp_status_free(opened);
    goto done;
  }
  if (loc->kind == PP_MAP_PART_HDF5_DATASET) {
    snprintf(dataset_path, sizeof dataset_path, "%s", loc->part);
  } else {
    pp_map_dataset_search search = {0};
    hsize_t index = 0;
    PP_H5_CHECK_GOTO(status,
                     H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, &index, pp_map_visit_root,
                                &search) >= 0,
                     PP_ERR_INPUT, "'%s': cannot list its root group", path);
    PP_CHECK_GOTO(status, search.count == 1, PP_ERR_INPUT,
                  "'%s' has %zu datasets in its root group%s%s; name the map's dataset as "
                  "'%s:/dataset'",
                  path, search.count, search.count ? ": " : "", search.names, path);
    snprintf(dataset_path, sizeof dataset_path, "%s", search.first);
  }
  dataset = H5Dopen2(file, dataset_path, H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, dataset >= 0, PP_ERR_INPUT, "'%s' has no dataset '%s'", path,
                   dataset_path);
  type = H5Dget_type(dataset);
  H5T_class_t type_class = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
  PP_CHECK_GOTO(status, type_class == H5T_INTEGER || type_class == H5T_FLOAT, PP_ERR_INPUT,
                "'%s:%s' is not numeric; a map holds integers or floating-point numbers", path,
                dataset_path);
  space = H5Dget_space(dataset);
  int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  PP_CHECK_GOTO(status, rank == 2 || (loc->cube_allowed && rank == 3), PP_ERR_INPUT,
                "'%s:%s' has %d dimensions (rank %d); a map must be 2-D%s", path, dataset_path,
                rank, rank, loc->cube_allowed ? ", or 3-D ([map][y][x]) for a cube of maps" : "");
  hsize_t extent[3] = {0, 0, 1};
  PP_H5_CHECK_GOTO(status, H5Sget_simple_extent_dims(space, extent, NULL) == rank, PP_ERR_INPUT,
                   "'%s:%s': cannot read its shape", path, dataset_path);
  PP_CHECK_GOTO(status, extent[0] > 0 && extent[1] > 0 && extent[2] > 0, PP_ERR_INPUT,
                "'%s:%s' is empty (%llu × %llu%s)", path, dataset_path,
                (unsigned long long)extent[0], (unsigned long long)extent[1],
                rank == 3 ? " × …" : "");
  /* C order: the last dimension runs fastest: x; a cube's first is the map */
  map->n_slices = rank == 3 ? (size_t)extent[0] : 0;
  map->ny = (size_t)extent[rank - 2];
  map->nx = (size_t)extent[rank - 1];
  size_t plane = rank == 3 ? loc->slice : 0;
  PP_CHECK_GOTO(status, rank == 2 || plane < map->n_slices, PP_ERR_INPUT,
                "'%s:%s' holds %zu maps ([map][y][x]); there is no map %zu (counted from 0)",
                path, dataset_path, map->n_slices, plane);
  size_t count = 0;
  PP_CALL_GOTO(status, pp_map_check_shape(path, dataset_path, map->ny, map->nx, &count));
  /* A dataset whose values were never written reads as its fill value: not a map, and its
   * shape could be anything. Then the last value first, as for FITS: storage the file does
   * not hold fails here, before the whole map is allocated. */
  H5D_space_status_t allocation = H5D_SPACE_STATUS_ERROR;
  PP_H5_CHECK_GOTO(status, H5Dget_space_status(dataset, &allocation) >= 0, PP_ERR_INPUT,
                   "'%s:%s': cannot tell whether its values were written", path, dataset_path);
  PP_CHECK_GOTO(status, allocation == H5D_SPACE_STATUS_ALLOCATED, PP_ERR_INPUT,
                "'%s:%s': its values were %s written (HDF5 allocated %s of its storage)", path,
                dataset_path, allocation == H5D_SPACE_STATUS_NOT_ALLOCATED ? "never" : "not all",
                allocation == H5D_SPACE_STATUS_NOT_ALLOCATED ? "none" : "part");
  PP_CALL_GOTO(status, pp_formats_hdf5_check_storage(dataset, path, dataset_path));
  PP_CALL_GOTO(status, pp_map_hdf5_read_last(dataset, space, path, dataset_path, rank, extent));
  PP_CALL_GOTO(status, pp_array_alloc(count * sizeof(double), (void **)&map->values));
  if (rank == 3) { /* map `plane` only: [plane][0..ny)[0..nx) */
    hsize_t start[3] = {plane, 0, 0}, block[3] = {1, extent[1], extent[2]};
    hsize_t flat = (hsize_t)count;
    PP_H5_CHECK_GOTO(status,
                     H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, block, NULL) >= 0 &&
                         (memory_space = H5Screate_simple(1, &flat, NULL)) >= 0,
                     PP_ERR_INPUT, "'%s:%s': cannot select its map %zu", path, dataset_path,
                     plane);
  }
  PP_H5_CHECK_GOTO(status,
                   H5Dread(dataset, H5T_NATIVE_DOUBLE, rank == 3 ? memory_space : H5S_ALL,
                           rank == 3 ? space : H5S_ALL, H5P_DEFAULT, map->values) >= 0,
                   PP_ERR_INPUT, "'%s:%s': cannot read its %zu × %zu values", path, dataset_path,
                   map->ny, map->nx);

  if (H5Aexists(dataset, "pixelscale_m") > 0) {
    double value = NAN;
    PP_CALL_GOTO(status, pp_map_input_error(pp_formats_hdf5_read_number_attribute(
                             file, path, dataset_path, "pixelscale_m", &value)));
    PP_CHECK_GOTO(status, isfinite(value) && value > 0, PP_ERR_INPUT,
                  "'%s:%s': attribute pixelscale_m = %g is not a pixel scale (metres per pixel, "
                  "> 0)",
                  path, dataset_path, value);
    map->pixelscale_m = value;
    snprintf(map->pixelscale_key, sizeof map->pixelscale_key, "pixelscale_m");
  }
  if (H5Aexists(dataset, "units") > 0) {
    PP_CALL_GOTO(status, pp_formats_hdf5_check_global_heaps(path));
    PP_CALL_GOTO(status, pp_map_input_error(pp_formats_hdf5_read_string_attribute(
                             file, path, dataset_path, "units", &units)));
    snprintf(map->unit, sizeof map->unit, "%s", units);
    pp_map_trim(map->unit);
  }
done:
  free(units);
  pp_formats_hdf5_close(&memory_space);
  pp_formats_hdf5_close(&type);
  pp_formats_hdf5_close(&space);
  pp_formats_hdf5_close(&dataset);
  pp_formats_hdf5_read_end(&file, &quiet);
  return status;
}

/* pp_map_read_hdf5 as a pp_formats_hdf5_reader, for the trial read in a child process. */
typedef struct {
  const pp_map_location *loc;
  pp_map *map;
} pp_map_hdf5_read_call;

static pp_status pp_map_read_hdf5_call(void *context) {
  pp_map_hdf5_read_call *call = context;
  return pp_map_read_hdf5(call->loc, call->map);
}

/* ---- the map ---------------------------------------------------------------------------- */

/* A NaN would poison every PSF pixel through the transform; say where the first one is. */
static pp_status pp_map_check_finite(const pp_map *map, const char *location, size_t slice) {
  size_t count = map->ny * map->nx;
  for (size_t p = 0; p < count; p++) {
    double value = map->values[p];
    if (isfinite(value)) continue;
    size_t y = p / map->nx, x = p % map->nx;
    char plane[48] = "";
    if (map->n_slices) snprintf(plane, sizeof plane, " of map %zu", slice);
    return pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__,
                          "'%s': the value at (y, x) = (%zu, %zu)%s (counted from 0, numpy order) "
                          "is %s; a map must hold finite numbers only (give 0 outside the pupil)",
                          location, y, x, plane,
                          isnan(value) ? "NaN" : value > 0 ? "+inf" : "-inf");
  }
  return PP_SUCCESS;
}

/* pp_map_read, and pp_map_read_slice when cube_allowed. */
static pp_status pp_map_read_part(const char *location, bool cube_allowed, size_t slice,
                                  pp_map *map) {
  PP_CHECK(map != NULL, PP_ERR_INTERNAL, "pp_map_read: NULL map");
  *map = (pp_map){.pixelscale_m = NAN};
  PP_CHECK(location != NULL && location[0] != '\0', PP_ERR_INPUT, "no map file named");
  pp_status status = PP_SUCCESS;
  pp_map_location *loc = malloc(sizeof *loc); /* 8 KiB: kept off the stack */
  PP_CHECK(loc != NULL, PP_ERR_MEMORY, "no memory to read map '%s'", location);
  PP_CALL_GOTO(status, pp_map_split_location(location, loc));
  loc->cube_allowed = cube_allowed;
  loc->slice = slice;
  pp_map_format format;
  PP_CALL_GOTO(status, pp_map_detect_format(loc->file, &format));
  if (format == PP_MAP_FORMAT_FITS) {
    PP_CHECK_GOTO(status, loc->kind != PP_MAP_PART_HDF5_DATASET, PP_ERR_INPUT,
                  "'%s' is a FITS file: name an extension as '%s[EXTNAME]', not a dataset "
                  "':%s'",
                  loc->file, loc->file, loc->part);
    PP_CALL_GOTO(status, pp_map_read_fits(loc, map));
  } else {
    PP_CHECK_GOTO(status, loc->kind != PP_MAP_PART_FITS_HDU, PP_ERR_INPUT,
                  "'%s' is an HDF5 file: name a dataset as '%s:/dataset', not an extension "
                  "'[%s]'",
                  loc->file, loc->file, loc->part);
    map->is_hdf5 = true;
    pp_map_hdf5_read_call call = {.loc = loc, .map = map};
    PP_CALL_GOTO(status, pp_formats_hdf5_trial_read(loc->file, pp_map_read_hdf5_call, &call));
  }
  PP_CALL_GOTO(status, pp_map_check_finite(map, location, slice));
done:
  free(loc);
  if (status != PP_SUCCESS) pp_map_clear(map);
  return status;
}

pp_status pp_map_read(const char *location, pp_map *map) {
  return pp_map_read_part(location, false, 0, map);
}

pp_status pp_map_read_slice(const char *location, size_t slice, pp_map *map) {
  return pp_map_read_part(location, true, slice, map);
}

void pp_map_clear(pp_map *map) {
  if (!map) return;
  pp_array_free(&map->values);
  *map = (pp_map){.pixelscale_m = NAN};
}
