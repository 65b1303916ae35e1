/* Reading a spectrum file (`wavelengths: {file: ...}`): two-column text, an HDF5 file with
 * 1-D datasets `wavelengths` and `weights`, or a FITS table with columns WAVELENGTH and
 * WEIGHT (or FLUX). The format is told by the file's first bytes (formats_sniff.h), not by
 * its name, so a misnamed file is still read as what it is.
 *
 * This reader knows files, not jobs: every problem with the file is PP_ERR_INPUT naming the
 * data file and the line (text), dataset index (HDF5, 0-based like h5py) or row (FITS,
 * 1-based like cfitsio); the job reader (job/spectrum.c) puts the job file's position in
 * front, applies the unit and checks the values. */
#include <ctype.h>
#include <errno.h>
#include <fitsio.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "formats/formats_fits.h"
#include "formats/formats_hdf5.h"
#include "formats/formats_sniff.h"
#include "polypsf/formats.h"

enum {
  PP_SPECTRUM_MESSAGE_BYTES = 768,
  PP_SPECTRUM_NUMBER_CHARS = 400 /* longer "numbers" in a text file are not numbers */
};

/* What every message needs: the data file, and the most rows a spectrum may have. */
typedef struct pp_spectrum_reader {
  const char *file;
  int max_rows;
  int text_exponent10;
} pp_spectrum_reader;

static pp_status pp_spectrum_error(const pp_spectrum_reader *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static pp_status pp_spectrum_error(const pp_spectrum_reader *c, const char *fmt, ...) {
  (void)c;
  char message[PP_SPECTRUM_MESSAGE_BYTES];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  return pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__, "%s", message);
}

void pp_spectrum_rows_release(pp_spectrum_rows *rows) {
  if (!rows) return;
  free(rows->wavelengths);
  free(rows->weights);
  free(rows->rows);
  rows->wavelengths = rows->weights = NULL;
  rows->rows = NULL;
  rows->count = rows->capacity = 0;
}

/* Makes room for capacity rows (grown geometrically by the text reader, exactly by the
 * table readers). */
static pp_status pp_spectrum_rows_reserve(pp_spectrum_rows *rows, size_t capacity) {
  if (capacity <= rows->capacity) return PP_SUCCESS;
  double *wavelengths = realloc(rows->wavelengths, capacity * sizeof *wavelengths);
  if (wavelengths) rows->wavelengths = wavelengths;
  double *weights = realloc(rows->weights, capacity * sizeof *weights);
  if (weights) rows->weights = weights;
  size_t *where = realloc(rows->rows, capacity * sizeof *where);
  if (where) rows->rows = where;
  PP_CHECK(wavelengths && weights && where, PP_ERR_MEMORY,
           "cannot allocate a spectrum of %zu rows", capacity);
  rows->capacity = capacity;
  return PP_SUCCESS;
}

/* ---- text --------------------------------------------------------------------------------- */

typedef enum { PP_NUMBER_OK, PP_NUMBER_NOT_A_NUMBER, PP_NUMBER_OUT_OF_RANGE } pp_number_result;

/* A decimal number (the YAML grammar: no hex, inf or nan) scaled by 10^exponent10 through
 * its text: "1.5" in um is read as "1.5e-6", so a file in microns gives the same bits as
 * the job file written in metres. */
static pp_number_result pp_spectrum_parse_number(const char *token, int exponent10,
                                                 double *value) {
  if (strlen(token) > PP_SPECTRUM_NUMBER_CHARS || !pp_text_is_decimal_number(token))
    return PP_NUMBER_NOT_A_NUMBER;
  if (exponent10 == 0) {
    *value = strtod(token, NULL);
  } else {
    char scaled[PP_SPECTRUM_NUMBER_CHARS + 32];
    const char *e = strpbrk(token, "eE");
    long exponent = e ? strtol(e + 1, NULL, 10) : 0; /* saturates: then out of range below */
    int mantissa_chars = e ? (int)(e - token) : (int)strlen(token);
    if (exponent > 100000) exponent = 100000;
    if (exponent < -100000) exponent = -100000;
    snprintf(scaled, sizeof scaled, "%.*se%ld", mantissa_chars, token, exponent + exponent10);
    *value = strtod(scaled, NULL);
  }
  return isfinite(*value) ? PP_NUMBER_OK : PP_NUMBER_OUT_OF_RANGE;
}

static bool pp_spectrum_is_separator(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == ',' || ch == '\v' ||
         ch == '\f';
}

/* One data line, already without its comment: its tokens (at most the first two kept). */
static pp_status pp_spectrum_text_line(const pp_spectrum_reader *c, char *line,
                                       size_t line_number, int exponent10,
                                       pp_spectrum_rows *rows) {
  char *tokens[2] = {NULL, NULL};
  size_t columns[2] = {0, 0}, n_tokens = 0;
  for (char *p = line; *p;) {
    if (pp_spectrum_is_separator(*p)) {
      p++;
      continue;
    }
    char *start = p;
    while (*p && !pp_spectrum_is_separator(*p)) p++;
    if (n_tokens < 2) {
      tokens[n_tokens] = start;
      columns[n_tokens] = (size_t)(start - line) + 1;
    }
    n_tokens++;
    if (*p) *p++ = '\0';
  }
  if (n_tokens == 0) return PP_SUCCESS; /* blank or comment-only */
  if (n_tokens == 1)
    return pp_spectrum_error(c,
                             "%s:%zu: has one column ('%.40s'); each data line holds two, the "
                             "wavelength and its weight",
                             c->file, line_number, tokens[0]);
  if (n_tokens > 2)
    return pp_spectrum_error(c,
                             "%s:%zu: has %zu columns; each data line holds two, the wavelength "
                             "and its weight (put notes after a '#')",
                             c->file, line_number, n_tokens);
  if (rows->count >= (size_t)c->max_rows)
    return pp_spectrum_error(c, "%s:%zu: more than %d data lines; each wavelength is one PSF "
                                "to compute (bin the spectrum first)",
                             c->file, line_number, c->max_rows);
  double values[2];
  for (size_t k = 0; k < 2; k++) {
    pp_number_result result =
        pp_spectrum_parse_number(tokens[k], k == 0 ? exponent10 : 0, &values[k]);
    if (result == PP_NUMBER_NOT_A_NUMBER)
      return pp_spectrum_error(c,
                               "%s:%zu:%zu: the %s '%.40s%s' is not a number such as 1.5e-6; "
                               "comment lines start with '#'",
                               c->file, line_number, columns[k], k == 0 ? "wavelength" : "weight",
                               tokens[k], strlen(tokens[k]) > 40 ? "..." : "");
    if (result == PP_NUMBER_OUT_OF_RANGE)
      return pp_spectrum_error(c, "%s:%zu:%zu: the %s '%.40s' is too large for a double",
                               c->file, line_number, columns[k],
                               k == 0 ? "wavelength" : "weight", tokens[k]);
  }
  if (rows->count == rows->capacity)
    PP_CALL(pp_spectrum_rows_reserve(rows, rows->capacity ? 2 * rows->capacity : 256));
  rows->wavelengths[rows->count] = values[0];
  rows->weights[rows->count] = values[1];
  rows->rows[rows->count] = line_number;
  rows->count++;
  return PP_SUCCESS;
}

static pp_status pp_spectrum_read_text(const pp_spectrum_reader *c, FILE *file,
                                       pp_spectrum_rows *rows) {
  pp_status status = PP_SUCCESS;
  /* A text file names no unit: the caller's applies, through the text (exact). */
  int exponent10 = c->text_exponent10;
  rows->format = PP_SPECTRUM_TEXT;
  char *line = NULL;
  size_t line_capacity = 0, line_number = 0;
  ssize_t length;
  errno = 0;
  while ((length = getline(&line, &line_capacity, file)) >= 0) {
    line_number++;
    if (memchr(line, '\0', (size_t)length)) {
      status = pp_spectrum_error(c, "%s:%zu: holds a NUL byte; a spectrum is a text, HDF5 or "
                                    "FITS file",
                                 c->file, line_number);
      goto done;
    }
    char *comment = strchr(line, '#');
    if (comment) *comment = '\0';
    PP_CALL_GOTO(status, pp_spectrum_text_line(c, line, line_number, exponent10, rows));
  }
  if (ferror(file))
    status = pp_spectrum_error(c, "%s: cannot read the file: %s", c->file,
                               strerror(errno ? errno : EIO));
done:
  free(line);
  return status;
}

/* Reads the text attribute `units` of a dataset into out (trimmed); "" when there is none. */
static pp_status pp_spectrum_hdf5_units(const pp_spectrum_reader *c, hid_t dataset,
                                        const char *dataset_name, char *out, size_t out_bytes) {
  pp_status status = PP_SUCCESS;
  hid_t attribute = H5I_INVALID_HID, type = H5I_INVALID_HID, memory_type = H5I_INVALID_HID,
        space = H5I_INVALID_HID;
  out[0] = '\0';
  htri_t exists = H5Aexists(dataset, "units");
  if (exists <= 0) return PP_SUCCESS;
  attribute = H5Aopen(dataset, "units", H5P_DEFAULT);
  type = attribute >= 0 ? H5Aget_type(attribute) : H5I_INVALID_HID;
  space = attribute >= 0 ? H5Aget_space(attribute) : H5I_INVALID_HID;
  bool text = type >= 0 && H5Tget_class(type) == H5T_STRING && space >= 0 &&
              H5Sget_simple_extent_npoints(space) == 1;
  if (!text) {
    status = pp_spectrum_error(c, "%s: the attribute 'units' of /%s is not one text value",
                               c->file, dataset_name);
    goto done;
  }
  memory_type = H5Tcopy(H5T_C_S1);
  if (H5Tis_variable_str(type) > 0) {
    PP_CALL_GOTO(status, pp_formats_hdf5_check_global_heaps(c->file));
    char *value = NULL;
    H5Tset_size(memory_type, H5T_VARIABLE);
    if (H5Aread(attribute, memory_type, &value) >= 0 && value) {
      snprintf(out, out_bytes, "%s", value);
      H5free_memory(value);
    }
  } else {
    size_t size = H5Tget_size(type);
    char *value = calloc(size + 1, 1);
    PP_CHECK_GOTO(status, value != NULL, PP_ERR_MEMORY, "cannot read an attribute of %zu bytes",
                  size);
    H5Tset_size(memory_type, size + 1);
    if (H5Aread(attribute, memory_type, value) >= 0) snprintf(out, out_bytes, "%s", value);
    free(value);
  }
  /* fixed-length strings may be padded with spaces */
  size_t n = strlen(out);
  while (n > 0 && isspace((unsigned char)out[n - 1])) out[--n] = '\0';
done:
  if (memory_type >= 0) H5Tclose(memory_type);
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  if (attribute >= 0) H5Aclose(attribute);
  return status;
}

/* Opens the 1-D numeric dataset /name; *count gets its length. */
static pp_status pp_spectrum_hdf5_open(const pp_spectrum_reader *c, hid_t file, const char *name,
                                       hid_t *dataset, size_t *count) {
  *dataset = H5I_INVALID_HID;
  static const char layout[] =
      "a spectrum in HDF5 holds two 1-D datasets of equal length at the root, wavelengths "
      "(m, or the unit in their 'units' attribute) and weights";
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0)
    return pp_spectrum_error(c, "%s: has no dataset /%s; %s", c->file, name, layout);
  hid_t opened = H5Dopen2(file, name, H5P_DEFAULT);
  if (opened < 0)
    return pp_spectrum_error(c, "%s: /%s is not a dataset; %s", c->file, name, layout);
  hid_t space = H5Dget_space(opened), type = H5Dget_type(opened);
  int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  hsize_t dims[1] = {0};
  if (rank == 1) H5Sget_simple_extent_dims(space, dims, NULL);
  H5T_class_t type_class = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  if (rank != 1 || (type_class != H5T_FLOAT && type_class != H5T_INTEGER)) {
    H5Dclose(opened);
    return pp_spectrum_error(c, "%s: /%s is not a 1-D list of numbers (rank %d); %s", c->file,
                             name, rank, layout);
  }
  char where[PP_SPECTRUM_NAME_BYTES + 2];
  snprintf(where, sizeof where, "/%s", name);
  pp_status storage = pp_formats_hdf5_check_storage(opened, c->file, where);
  if (storage != PP_SUCCESS) {
    H5Dclose(opened);
    return storage;
  }
  if (dims[0] > (hsize_t)c->max_rows) {
    H5Dclose(opened);
    return pp_spectrum_error(c, "%s: /%s has %llu values, more than the limit %d; each "
                                "wavelength is one PSF to compute (bin the spectrum first)",
                             c->file, name, (unsigned long long)dims[0], c->max_rows);
  }
  *dataset = opened;
  *count = (size_t)dims[0];
  return PP_SUCCESS;
}

static pp_status pp_spectrum_read_hdf5_file(const pp_spectrum_reader *c,
                                            pp_spectrum_rows *rows) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID, wavelengths = H5I_INVALID_HID, weights = H5I_INVALID_HID;
  size_t n_wavelengths = 0, n_weights = 0;
  file = H5Fopen(c->file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0)
    return pp_spectrum_error(c, "%s: cannot open it as an HDF5 file (damaged or truncated?)",
                             c->file);
  PP_CALL_GOTO(status, pp_spectrum_hdf5_open(c, file, "wavelengths", &wavelengths,
                                             &n_wavelengths));
  PP_CALL_GOTO(status, pp_spectrum_hdf5_open(c, file, "weights", &weights, &n_weights));
  if (n_wavelengths != n_weights) {
    status = pp_spectrum_error(c, "%s: /wavelengths has %zu values but /weights has %zu; give "
                                  "one weight per wavelength",
                               c->file, n_wavelengths, n_weights);
    goto done;
  }
  PP_CALL_GOTO(status, pp_spectrum_hdf5_units(c, wavelengths, "wavelengths", rows->unit,
                                              sizeof rows->unit));
  snprintf(rows->unit_origin, sizeof rows->unit_origin, "attribute 'units' of /wavelengths");
  if (n_wavelengths > 0) {
    PP_CALL_GOTO(status, pp_spectrum_rows_reserve(rows, n_wavelengths));
    if (H5Dread(wavelengths, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                rows->wavelengths) < 0 ||
        H5Dread(weights, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows->weights) < 0) {
      status = pp_spectrum_error(c, "%s: cannot read /wavelengths and /weights as numbers",
                                 c->file);
      goto done;
    }
  }
  rows->count = n_wavelengths;
  for (size_t i = 0; i < rows->count; i++) rows->rows[i] = i;
done:
  if (weights >= 0) H5Dclose(weights);
  if (wavelengths >= 0) H5Dclose(wavelengths);
  if (file >= 0) H5Fclose(file);
  return status;
}

static pp_status pp_spectrum_read_hdf5(const pp_spectrum_reader *c, pp_spectrum_rows *rows) {
  pp_status status = PP_SUCCESS;
  rows->format = PP_SPECTRUM_HDF5;
  snprintf(rows->wavelength_name, sizeof rows->wavelength_name, "wavelengths");
  snprintf(rows->weight_name, sizeof rows->weight_name, "weights");
  /* HDF5's own error printing is off while reading and restored after: a missing dataset
   * is the user's mistake, reported once, in our words. */
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  status = pp_spectrum_read_hdf5_file(c, rows);
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}

/* pp_spectrum_read_hdf5 as a pp_formats_hdf5_reader, for the trial read in a child process. */
typedef struct {
  const pp_spectrum_reader *reader;
  pp_spectrum_rows *rows;
} pp_spectrum_hdf5_read_call;

static pp_status pp_spectrum_read_hdf5_call(void *context) {
  pp_spectrum_hdf5_read_call *call = context;
  return pp_spectrum_read_hdf5(call->reader, call->rows);
}

/* A numeric single-value column of the current table HDU, by name (case-insensitive);
 * *column = 0 when the table has no such column. */
static pp_status pp_spectrum_fits_column(const pp_spectrum_reader *c, fitsfile *fits, int hdu,
                                         const char *name, int *column) {
  int fits_status = 0;
  *column = 0;
  char template[PP_SPECTRUM_NAME_BYTES];
  snprintf(template, sizeof template, "%s", name);
  fits_get_colnum(fits, CASEINSEN, template, column, &fits_status);
  if (fits_status == COL_NOT_FOUND) {
    fits_clear_errmsg();
    *column = 0;
    return PP_SUCCESS;
  }
  if (fits_status == COL_NOT_UNIQUE)
    return pp_spectrum_error(c, "%s: HDU %d has more than one column named %s", c->file, hdu,
                             name);
  int type_code = 0;
  long repeat = 0, width = 0;
  if (!fits_status) fits_get_eqcoltype(fits, *column, &type_code, &repeat, &width, &fits_status);
  if (fits_status) {
    char text[FLEN_STATUS + FLEN_ERRMSG + 32];
    pp_formats_fits_describe(fits_status, text, sizeof text);
    return pp_spectrum_error(c, "%s: HDU %d: cannot read column %s: %s", c->file, hdu, name,
                             text);
  }
  bool numeric = type_code == TBYTE || type_code == TSBYTE || type_code == TSHORT ||
                 type_code == TUSHORT || type_code == TINT || type_code == TUINT ||
                 type_code == TLONG || type_code == TULONG || type_code == TLONGLONG ||
                 type_code == TFLOAT || type_code == TDOUBLE;
  if (!numeric || repeat != 1)
    return pp_spectrum_error(c, "%s: HDU %d: column %s must hold one number per row%s", c->file,
                             hdu, name, numeric ? " (it holds a vector)" : " (it is not numeric)");
  return PP_SUCCESS;
}

/* The first table HDU with a WAVELENGTH column. */
static pp_status pp_spectrum_fits_find_table(const pp_spectrum_reader *c, fitsfile *fits,
                                             int *hdu, int *wavelength_column) {
  int fits_status = 0, n_hdus = 0;
  fits_get_num_hdus(fits, &n_hdus, &fits_status);
  for (int k = 1; !fits_status && k <= n_hdus; k++) {
    int hdu_type = 0;
    fits_movabs_hdu(fits, k, &hdu_type, &fits_status);
    if (fits_status || (hdu_type != BINARY_TBL && hdu_type != ASCII_TBL)) continue;
    PP_CALL(pp_spectrum_fits_column(c, fits, k, "WAVELENGTH", wavelength_column));
    if (*wavelength_column > 0) {
      *hdu = k;
      return PP_SUCCESS;
    }
  }
  if (fits_status) {
    char text[FLEN_STATUS + FLEN_ERRMSG + 32];
    pp_formats_fits_describe(fits_status, text, sizeof text);
    return pp_spectrum_error(c, "%s: cannot read the FITS file: %s", c->file, text);
  }
  return pp_spectrum_error(c, "%s: no table in its %d HDU(s) has a WAVELENGTH column; a "
                              "spectrum in FITS is a table with columns WAVELENGTH and WEIGHT "
                              "(or FLUX)",
                           c->file, n_hdus);
}

static pp_status pp_spectrum_read_fits(const pp_spectrum_reader *c, pp_spectrum_rows *rows) {
  pp_status status = PP_SUCCESS;
  fitsfile *fits = NULL;
  int fits_status = 0, hdu = 0, wavelength_column = 0, weight_column = 0;
  char text[FLEN_STATUS + FLEN_ERRMSG + 32];
  rows->format = PP_SPECTRUM_FITS;
  /* diskfile: the name is a plain path, never cfitsio's extended syntax ("f.fits[2]"). */
  fits_open_diskfile(&fits, c->file, READONLY, &fits_status);
  if (fits_status) {
    pp_formats_fits_describe(fits_status, text, sizeof text);
    return pp_spectrum_error(c, "%s: cannot open it as a FITS file: %s", c->file, text);
  }
  PP_CALL_GOTO(status, pp_spectrum_fits_find_table(c, fits, &hdu, &wavelength_column));
  rows->fits_hdu = hdu;
  snprintf(rows->wavelength_name, sizeof rows->wavelength_name, "WAVELENGTH");
  /* WEIGHT is polypsf's own name; FLUX is synphot's, read as the weight as it is. */
  static const char *const weight_names[] = {"WEIGHT", "FLUX"};
  for (size_t k = 0; k < 2 && weight_column == 0; k++) {
    PP_CALL_GOTO(status, pp_spectrum_fits_column(c, fits, hdu, weight_names[k], &weight_column));
    if (weight_column > 0)
      snprintf(rows->weight_name, sizeof rows->weight_name, "%s", weight_names[k]);
  }
  if (weight_column == 0) {
    status = pp_spectrum_error(c, "%s: HDU %d has a WAVELENGTH column but no WEIGHT or FLUX "
                                  "column for the weights",
                               c->file, hdu);
    goto done;
  }

  char key[FLEN_KEYWORD], unit[FLEN_VALUE] = "";
  snprintf(key, sizeof key, "TUNIT%d", wavelength_column);
  snprintf(rows->unit_origin, sizeof rows->unit_origin, "%s in HDU %d", key, hdu);
  fits_read_key(fits, TSTRING, key, unit, NULL, &fits_status);
  if (fits_status == KEY_NO_EXIST) {
    fits_status = 0;
    fits_clear_errmsg();
    unit[0] = '\0';
  }
  snprintf(rows->unit, sizeof rows->unit, "%s", unit);

  LONGLONG n_rows = 0;
  fits_get_num_rowsll(fits, &n_rows, &fits_status);
  if (!fits_status && n_rows > (LONGLONG)c->max_rows) {
    status = pp_spectrum_error(c, "%s: HDU %d has %lld rows, more than the limit %d; each "
                                  "wavelength is one PSF to compute (bin the spectrum first)",
                               c->file, hdu, (long long)n_rows, c->max_rows);
    goto done;
  }
  if (!fits_status && n_rows > 0) {
    PP_CALL_GOTO(status, pp_spectrum_rows_reserve(rows, (size_t)n_rows));
    /* An undefined value (TNULL) comes back as NaN and is refused with its row below. */
    double undefined = NAN;
    int any_undefined = 0;
    fits_read_col(fits, TDOUBLE, wavelength_column, 1, 1, n_rows, &undefined,
                  rows->wavelengths, &any_undefined, &fits_status);
    fits_read_col(fits, TDOUBLE, weight_column, 1, 1, n_rows, &undefined, rows->weights,
                  &any_undefined, &fits_status);
  }
  if (fits_status) {
    pp_formats_fits_describe(fits_status, text, sizeof text);
    status = pp_spectrum_error(c, "%s: HDU %d: cannot read the table: %s", c->file, hdu, text);
    goto done;
  }
  rows->count = (size_t)n_rows;
  for (size_t i = 0; i < rows->count; i++) rows->rows[i] = i + 1;
done:
  fits_status = 0;
  fits_close_file(fits, &fits_status);
  fits_clear_errmsg();
  return status;
}

/* ---- the file ----------------------------------------------------------------------------- */

pp_status pp_spectrum_rows_read(const char *file_path, const pp_spectrum_read_options *options,
                                pp_spectrum_rows *rows) {
  PP_CHECK(file_path && options && rows, PP_ERR_INTERNAL, "pp_spectrum_rows_read: NULL argument");
  *rows = (pp_spectrum_rows){.format = PP_SPECTRUM_TEXT};
  pp_spectrum_reader c = {.file = file_path, .max_rows = options->max_rows,
                          .text_exponent10 = options->text_exponent10};
  pp_status status = PP_SUCCESS;
  FILE *file = fopen(file_path, "rb");
  if (!file)
    return pp_spectrum_error(&c, "cannot open the spectrum file '%s': %s%s", file_path,
                             strerror(errno),
                             file_path[0] != '/' && options->relative_path_note
                                 ? options->relative_path_note
                                 : "");
  struct stat info;
  long long size_bytes = fstat(fileno(file), &info) == 0 ? (long long)info.st_size : 0;
  /* A gzip'ed file is read as text here, as before: spectra are small and never gzip'ed. */
  pp_file_kind kind = pp_formats_sniff(file, size_bytes);
  if (kind == PP_FILE_KIND_HDF5) {
    fclose(file);
    file = NULL;
    pp_spectrum_hdf5_read_call call = {.reader = &c, .rows = rows};
    PP_CALL_GOTO(status,
                 pp_formats_hdf5_trial_read(c.file, pp_spectrum_read_hdf5_call, &call));
  } else if (kind == PP_FILE_KIND_FITS) {
    fclose(file);
    file = NULL;
    PP_CALL_GOTO(status, pp_spectrum_read_fits(&c, rows));
  } else {
    rewind(file);
    PP_CALL_GOTO(status, pp_spectrum_read_text(&c, file, rows));
  }
done:
  if (file) fclose(file);
  if (status != PP_SUCCESS) pp_spectrum_rows_release(rows);
  return status;
}
