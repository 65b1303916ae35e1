/* Spectrum data files for `wavelengths: {file: ..., units: ...}`: two-column text, an HDF5
 * file with datasets `wavelengths` and `weights`, or a FITS table with columns WAVELENGTH and
 * WEIGHT (or FLUX). The format is told by the file's first bytes, not by its name, so a
 * misnamed file is still read as what it is.
 *
 * Every problem is PP_ERR_INPUT at the `file:` value in the job file, and names the data
 * file and the line (text), dataset index (HDF5, 0-based like h5py) or row (FITS, 1-based
 * like cfitsio) of the offending value:
 *   job.yaml:3:22: wavelengths.file: spectra/vega.txt:17: weight -0.2 is negative; ...
 *
 * Rules the three formats share (docs/job-file.md): wavelengths from 10 nm to 1 mm after
 * the unit is applied, strictly increasing (a wavelength listed twice or out of order is
 * almost always two spectra pasted together); weights ≥ 0 with a positive finite sum,
 * normalized to 1; at least one and at most PP_JOB_MAX_WAVELENGTHS rows. */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <ctype.h>
#include <errno.h>
#include <fitsio.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

typedef enum { PP_SPECTRUM_TEXT, PP_SPECTRUM_HDF5, PP_SPECTRUM_FITS } pp_spectrum_format;

enum {
  PP_SPECTRUM_MESSAGE_BYTES = 768,
  PP_SPECTRUM_NAME_BYTES = 72,   /* a FITS column or HDF5 dataset name in messages */
  PP_SPECTRUM_UNIT_BYTES = 72,   /* a unit label read from a file */
  PP_SPECTRUM_NUMBER_CHARS = 400 /* longer "numbers" in a text file are not numbers */
};

/* What every error needs: where in the job file, and which data file. */
typedef struct pp_spectrum_context {
  pp_yaml_doc *doc;
  const yaml_node_t *file_node;
  const char *path;              /* "wavelengths.file" */
  const char *file;              /* the data file as opened */
  const yaml_node_t *units_node; /* NULL when the job gives no `units` */
  int units_exponent10;
} pp_spectrum_context;

/* The rows of a file as read, before the shared checks. */
typedef struct pp_spectrum_rows {
  pp_spectrum_format format;
  int fits_hdu;                                  /* FITS: 1-based HDU of the table */
  char wavelength_name[PP_SPECTRUM_NAME_BYTES];  /* FITS column / HDF5 dataset */
  char weight_name[PP_SPECTRUM_NAME_BYTES];
  size_t count, capacity;
  double *wavelengths_m, *weights;
  size_t *rows; /* text: line (1-based); HDF5: index (0-based); FITS: row (1-based) */
} pp_spectrum_rows;

static pp_status pp_spectrum_error(const pp_spectrum_context *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static pp_status pp_spectrum_error(const pp_spectrum_context *c, const char *fmt, ...) {
  char message[PP_SPECTRUM_MESSAGE_BYTES];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  return PP_YAML_ERROR(c->doc, c->file_node, c->path, "%s", message);
}

static void pp_spectrum_rows_release(pp_spectrum_rows *rows) {
  free(rows->wavelengths_m);
  free(rows->weights);
  free(rows->rows);
  rows->wavelengths_m = rows->weights = NULL;
  rows->rows = NULL;
  rows->count = rows->capacity = 0;
}

/* Makes room for capacity rows (grown geometrically by the text reader, exactly by the
 * table readers). */
static pp_status pp_spectrum_rows_reserve(pp_spectrum_rows *rows, size_t capacity) {
  if (capacity <= rows->capacity) return PP_SUCCESS;
  double *wavelengths = realloc(rows->wavelengths_m, capacity * sizeof *wavelengths);
  if (wavelengths) rows->wavelengths_m = wavelengths;
  double *weights = realloc(rows->weights, capacity * sizeof *weights);
  if (weights) rows->weights = weights;
  size_t *where = realloc(rows->rows, capacity * sizeof *where);
  if (where) rows->rows = where;
  PP_CHECK(wavelengths && weights && where, PP_ERR_MEMORY,
           "cannot allocate a spectrum of %zu rows", capacity);
  rows->capacity = capacity;
  return PP_SUCCESS;
}

/* "spectra/vega.txt:17", "s.h5: /weights[16]", "s.fits: HDU 2, row 17 (FLUX)". */
static void pp_spectrum_where(const pp_spectrum_context *c, const pp_spectrum_rows *rows,
                              size_t i, bool weight, char *out, size_t out_bytes) {
  const char *name = weight ? rows->weight_name : rows->wavelength_name;
  switch (rows->format) {
    case PP_SPECTRUM_TEXT: snprintf(out, out_bytes, "%s:%zu", c->file, rows->rows[i]); break;
    case PP_SPECTRUM_HDF5:
      snprintf(out, out_bytes, "%s: /%s[%zu]", c->file, name, rows->rows[i]);
      break;
    case PP_SPECTRUM_FITS:
      snprintf(out, out_bytes, "%s: HDU %d, row %zu (%s)", c->file, rows->fits_hdu,
               rows->rows[i], name);
      break;
  }
}

/* ---- units -------------------------------------------------------------------------------- */

bool pp_spectrum_unit_exponent(const char *label, int *exponent10) {
  static const struct {
    const char *label;
    int exponent10;
  } units[] = {
      {"m", 0},           {"meter", 0},        {"meters", 0},       {"metre", 0},
      {"metres", 0},      {"um", -6},          {"micron", -6},      {"microns", -6},
      {"micrometer", -6}, {"micrometers", -6}, {"micrometre", -6},  {"micrometres", -6},
      {"\xC2\xB5m", -6},  {"\xCE\xBCm", -6},   {"nm", -9},          {"nanometer", -9},
      {"nanometers", -9}, {"nanometre", -9},   {"nanometres", -9},  {"angstrom", -10},
      {"angstroms", -10}, {"aa", -10},         {"\xC3\x85", -10},   {"0.1nm", -10}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcasecmp(label, units[i].label) == 0) {
      *exponent10 = units[i].exponent10;
      return true;
    }
  }
  return false;
}

static const char *pp_spectrum_unit_word(int exponent10) {
  switch (exponent10) {
    case 0: return "m";
    case -6: return "um";
    case -9: return "nm";
    case -10: return "Angstrom";
  }
  return "?";
}

/* A unit label from the file wins when present; the job's `units:` fills in when the file
 * has none and must agree when it has one (two labels that disagree mean one is wrong). */
static pp_status pp_spectrum_pick_unit(const pp_spectrum_context *c, const char *file_label,
                                       const char *label_origin, int *exponent10) {
  if (!file_label || !file_label[0]) {
    *exponent10 = c->units_node ? c->units_exponent10 : 0;
    return PP_SUCCESS;
  }
  int from_file = 0;
  if (!pp_spectrum_unit_exponent(file_label, &from_file))
    return pp_spectrum_error(c,
                             "%s: the wavelength unit '%s' (%s) is not one polypsf knows; "
                             "allowed: m, um (micron), nm, Angstrom",
                             c->file, file_label, label_origin);
  if (c->units_node && from_file != c->units_exponent10)
    return pp_spectrum_error(c,
                             "%s: the file gives its wavelengths in %s (%s) but the job says "
                             "units: %s; remove units: or make the two agree",
                             c->file, file_label, label_origin,
                             pp_spectrum_unit_word(c->units_exponent10));
  *exponent10 = from_file;
  return PP_SUCCESS;
}

/* A binary value in 10^exponent10 m to metres; the powers of ten are exact doubles, so this
 * is the correctly rounded quotient. */
static double pp_spectrum_to_metres(double value, int exponent10) {
  switch (exponent10) {
    case -6: return value / 1e6;
    case -9: return value / 1e9;
    case -10: return value / 1e10;
  }
  return value;
}

/* ---- text --------------------------------------------------------------------------------- */

typedef enum { PP_NUMBER_OK, PP_NUMBER_NOT_A_NUMBER, PP_NUMBER_OUT_OF_RANGE } pp_number_result;

/* A decimal number (the YAML grammar: no hex, inf or nan) scaled by 10^exponent10 through
 * its text: "1.5" in um is read as "1.5e-6", so a file in microns gives the same bits as
 * the job file written in metres. */
static pp_number_result pp_spectrum_parse_number(const char *token, int exponent10,
                                                 double *value) {
  if (strlen(token) > PP_SPECTRUM_NUMBER_CHARS || !pp_yaml_is_decimal_number(token))
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
static pp_status pp_spectrum_text_line(const pp_spectrum_context *c, char *line,
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
  if (rows->count >= (size_t)PP_JOB_MAX_WAVELENGTHS)
    return pp_spectrum_error(c, "%s:%zu: more than %d data lines; each wavelength is one PSF "
                                "to compute (bin the spectrum first)",
                             c->file, line_number, PP_JOB_MAX_WAVELENGTHS);
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
  rows->wavelengths_m[rows->count] = values[0];
  rows->weights[rows->count] = values[1];
  rows->rows[rows->count] = line_number;
  rows->count++;
  return PP_SUCCESS;
}

static pp_status pp_spectrum_read_text(const pp_spectrum_context *c, FILE *file,
                                       pp_spectrum_rows *rows) {
  pp_status status = PP_SUCCESS;
  int exponent10 = 0;
  PP_CALL(pp_spectrum_pick_unit(c, NULL, NULL, &exponent10));
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

/* ---- HDF5 --------------------------------------------------------------------------------- */

/* Reads the text attribute `units` of a dataset into out (trimmed); "" when there is none. */
static pp_status pp_spectrum_hdf5_units(const pp_spectrum_context *c, hid_t dataset,
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
static pp_status pp_spectrum_hdf5_open(const pp_spectrum_context *c, hid_t file, const char *name,
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
  if (dims[0] > (hsize_t)PP_JOB_MAX_WAVELENGTHS) {
    H5Dclose(opened);
    return pp_spectrum_error(c, "%s: /%s has %llu values, more than the limit %d; each "
                                "wavelength is one PSF to compute (bin the spectrum first)",
                             c->file, name, (unsigned long long)dims[0], PP_JOB_MAX_WAVELENGTHS);
  }
  *dataset = opened;
  *count = (size_t)dims[0];
  return PP_SUCCESS;
}

static pp_status pp_spectrum_read_hdf5_file(const pp_spectrum_context *c,
                                            pp_spectrum_rows *rows) {
  pp_status status = PP_SUCCESS;
  hid_t file = H5I_INVALID_HID, wavelengths = H5I_INVALID_HID, weights = H5I_INVALID_HID;
  size_t n_wavelengths = 0, n_weights = 0;
  char unit[PP_SPECTRUM_UNIT_BYTES];
  int exponent10 = 0;
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
  PP_CALL_GOTO(status, pp_spectrum_hdf5_units(c, wavelengths, "wavelengths", unit, sizeof unit));
  PP_CALL_GOTO(status,
               pp_spectrum_pick_unit(c, unit, "attribute 'units' of /wavelengths", &exponent10));
  if (n_wavelengths > 0) {
    PP_CALL_GOTO(status, pp_spectrum_rows_reserve(rows, n_wavelengths));
    if (H5Dread(wavelengths, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                rows->wavelengths_m) < 0 ||
        H5Dread(weights, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows->weights) < 0) {
      status = pp_spectrum_error(c, "%s: cannot read /wavelengths and /weights as numbers",
                                 c->file);
      goto done;
    }
  }
  rows->count = n_wavelengths;
  for (size_t i = 0; i < rows->count; i++) {
    rows->rows[i] = i;
    rows->wavelengths_m[i] = pp_spectrum_to_metres(rows->wavelengths_m[i], exponent10);
  }
done:
  if (weights >= 0) H5Dclose(weights);
  if (wavelengths >= 0) H5Dclose(wavelengths);
  if (file >= 0) H5Fclose(file);
  return status;
}

static pp_status pp_spectrum_read_hdf5(const pp_spectrum_context *c, pp_spectrum_rows *rows) {
  pp_status status = PP_SUCCESS;
  rows->format = PP_SPECTRUM_HDF5;
  snprintf(rows->wavelength_name, sizeof rows->wavelength_name, "wavelengths");
  snprintf(rows->weight_name, sizeof rows->weight_name, "weights");
  /* HDF5's own error printing is off while reading and restored after: a missing dataset
   * is the user's mistake, reported once, in our words. */
  H5E_BEGIN_TRY { status = pp_spectrum_read_hdf5_file(c, rows); }
  H5E_END_TRY;
  H5Eclear2(H5E_DEFAULT);
  return status;
}

/* ---- FITS --------------------------------------------------------------------------------- */

static void pp_fits_status_text(int fits_status, char *out, size_t out_bytes) {
  char text[FLEN_STATUS];
  fits_get_errstatus(fits_status, text);
  snprintf(out, out_bytes, "%s (cfitsio status %d)", text, fits_status);
}

/* A numeric single-value column of the current table HDU, by name (case-insensitive);
 * *column = 0 when the table has no such column. */
static pp_status pp_spectrum_fits_column(const pp_spectrum_context *c, fitsfile *fits, int hdu,
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
    char text[96];
    pp_fits_status_text(fits_status, text, sizeof text);
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
static pp_status pp_spectrum_fits_find_table(const pp_spectrum_context *c, fitsfile *fits,
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
    char text[96];
    pp_fits_status_text(fits_status, text, sizeof text);
    return pp_spectrum_error(c, "%s: cannot read the FITS file: %s", c->file, text);
  }
  return pp_spectrum_error(c, "%s: no table in its %d HDU(s) has a WAVELENGTH column; a "
                              "spectrum in FITS is a table with columns WAVELENGTH and WEIGHT "
                              "(or FLUX)",
                           c->file, n_hdus);
}

static pp_status pp_spectrum_read_fits(const pp_spectrum_context *c, pp_spectrum_rows *rows) {
  pp_status status = PP_SUCCESS;
  fitsfile *fits = NULL;
  int fits_status = 0, hdu = 0, wavelength_column = 0, weight_column = 0, exponent10 = 0;
  char text[96];
  rows->format = PP_SPECTRUM_FITS;
  /* diskfile: the name is a plain path, never cfitsio's extended syntax ("f.fits[2]"). */
  fits_open_diskfile(&fits, c->file, READONLY, &fits_status);
  if (fits_status) {
    pp_fits_status_text(fits_status, text, sizeof text);
    fits_clear_errmsg();
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

  char key[FLEN_KEYWORD], unit[FLEN_VALUE] = "", origin[FLEN_KEYWORD + 32];
  snprintf(key, sizeof key, "TUNIT%d", wavelength_column);
  snprintf(origin, sizeof origin, "%s in HDU %d", key, hdu);
  fits_read_key(fits, TSTRING, key, unit, NULL, &fits_status);
  if (fits_status == KEY_NO_EXIST) {
    fits_status = 0;
    fits_clear_errmsg();
    unit[0] = '\0';
  }
  PP_CALL_GOTO(status, pp_spectrum_pick_unit(c, unit, origin, &exponent10));

  LONGLONG n_rows = 0;
  fits_get_num_rowsll(fits, &n_rows, &fits_status);
  if (!fits_status && n_rows > (LONGLONG)PP_JOB_MAX_WAVELENGTHS) {
    status = pp_spectrum_error(c, "%s: HDU %d has %lld rows, more than the limit %d; each "
                                  "wavelength is one PSF to compute (bin the spectrum first)",
                               c->file, hdu, (long long)n_rows, PP_JOB_MAX_WAVELENGTHS);
    goto done;
  }
  if (!fits_status && n_rows > 0) {
    PP_CALL_GOTO(status, pp_spectrum_rows_reserve(rows, (size_t)n_rows));
    /* An undefined value (TNULL) comes back as NaN and is refused with its row below. */
    double undefined = NAN;
    int any_undefined = 0;
    fits_read_col(fits, TDOUBLE, wavelength_column, 1, 1, n_rows, &undefined,
                  rows->wavelengths_m, &any_undefined, &fits_status);
    fits_read_col(fits, TDOUBLE, weight_column, 1, 1, n_rows, &undefined, rows->weights,
                  &any_undefined, &fits_status);
  }
  if (fits_status) {
    pp_fits_status_text(fits_status, text, sizeof text);
    status = pp_spectrum_error(c, "%s: HDU %d: cannot read the table: %s", c->file, hdu, text);
    goto done;
  }
  rows->count = (size_t)n_rows;
  for (size_t i = 0; i < rows->count; i++) {
    rows->rows[i] = i + 1;
    rows->wavelengths_m[i] = pp_spectrum_to_metres(rows->wavelengths_m[i], exponent10);
  }
done:
  fits_status = 0;
  fits_close_file(fits, &fits_status);
  fits_clear_errmsg();
  return status;
}

/* ---- the shared checks -------------------------------------------------------------------- */

bool pp_job_normalize_weights(const double *raw, size_t count, double *normalized, double *sum) {
  double total = 0.0;
  for (size_t i = 0; i < count; i++) total += raw[i];
  *sum = total;
  if (!(total > 0.0 && isfinite(total))) return false;
  for (size_t i = 0; i < count; i++) normalized[i] = raw[i] / total;
  return true;
}

static pp_status pp_spectrum_check(const pp_spectrum_context *c, pp_spectrum_rows *rows) {
  char where[PP_SPECTRUM_MESSAGE_BYTES / 2], before[PP_SPECTRUM_MESSAGE_BYTES / 2];
  if (rows->count == 0)
    return pp_spectrum_error(c, "%s: holds no data%s", c->file,
                             rows->format == PP_SPECTRUM_TEXT
                                 ? "; each data line is 'wavelength weight', '#' starts a comment"
                                 : "");
  for (size_t i = 0; i < rows->count; i++) {
    double wavelength_m = rows->wavelengths_m[i], weight = rows->weights[i];
    pp_spectrum_where(c, rows, i, false, where, sizeof where);
    if (!(wavelength_m >= PP_JOB_MIN_WAVELENGTH_M && wavelength_m <= PP_JOB_MAX_WAVELENGTH_M))
      return pp_spectrum_error(c,
                               "%s: wavelength %.10g m is outside 10 nm ... 1 mm; the "
                               "wavelengths are in %s%s",
                               where, wavelength_m,
                               c->units_node ? pp_spectrum_unit_word(c->units_exponent10) : "m",
                               c->units_node ? "" : " unless the file or units: (um, nm) says "
                                                    "otherwise");
    if (i > 0 && !(wavelength_m > rows->wavelengths_m[i - 1])) {
      pp_spectrum_where(c, rows, i - 1, false, before, sizeof before);
      return pp_spectrum_error(c,
                               "%s: wavelength %.10g m %s the one before it (%.10g m at %s); "
                               "list each wavelength once, in increasing order",
                               where, wavelength_m,
                               wavelength_m == rows->wavelengths_m[i - 1] ? "repeats"
                                                                          : "is smaller than",
                               rows->wavelengths_m[i - 1], before);
    }
    pp_spectrum_where(c, rows, i, true, where, sizeof where);
    if (!isfinite(weight))
      return pp_spectrum_error(c, "%s: the weight is undefined (NaN or null)", where);
    if (!(weight >= 0.0))
      return pp_spectrum_error(c, "%s: weight %.10g is negative; weights are relative amounts "
                                  "of light, >= 0",
                               where, weight);
  }
  double sum = 0.0;
  if (!pp_job_normalize_weights(rows->weights, rows->count, rows->weights, &sum))
    return pp_spectrum_error(c, "%s: %s; at least one weight must be positive and their sum "
                                "finite",
                             c->file, sum > 0.0 ? "the weights add up to more than a double "
                                                  "can hold"
                                                : "all weights are 0");
  return PP_SUCCESS;
}

/* ---- the file ----------------------------------------------------------------------------- */

/* HDF5's signature sits at 0 or, after a user block, at 512, 1024, 2048, ... */
static bool pp_spectrum_is_hdf5(const unsigned char *head, size_t length) {
  static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  for (size_t offset = 0; offset + 8 <= length; offset = offset ? 2 * offset : 512)
    if (memcmp(head + offset, signature, 8) == 0) return true;
  return false;
}

pp_status pp_spectrum_read_file(pp_yaml_doc *doc, const yaml_node_t *file_node, const char *path,
                                const char *file_path, const yaml_node_t *units_node,
                                int units_exponent10, pp_job *job) {
  pp_spectrum_context c = {.doc = doc, .file_node = file_node, .path = path, .file = file_path,
                           .units_node = units_node, .units_exponent10 = units_exponent10};
  pp_spectrum_rows rows = {.format = PP_SPECTRUM_TEXT};
  pp_status status = PP_SUCCESS;
  FILE *file = fopen(file_path, "rb");
  if (!file)
    return pp_spectrum_error(&c, "cannot open the spectrum file '%s': %s%s", file_path,
                             strerror(errno),
                             file_path[0] != '/' ? " (a relative path is taken from the job "
                                                   "file's directory)"
                                                 : "");
  /* Enough bytes for HDF5 signatures after user blocks of up to 2 KiB. */
  unsigned char head[2048 + 8];
  size_t head_length = fread(head, 1, sizeof head, file);
  if (ferror(file)) {
    status = pp_spectrum_error(&c, "cannot read the spectrum file '%s': %s", file_path,
                               strerror(errno ? errno : EIO));
    goto done;
  }
  if (pp_spectrum_is_hdf5(head, head_length)) {
    fclose(file);
    file = NULL;
    PP_CALL_GOTO(status, pp_spectrum_read_hdf5(&c, &rows));
  } else if (head_length >= 9 && memcmp(head, "SIMPLE  =", 9) == 0) {
    fclose(file);
    file = NULL;
    PP_CALL_GOTO(status, pp_spectrum_read_fits(&c, &rows));
  } else {
    rewind(file);
    PP_CALL_GOTO(status, pp_spectrum_read_text(&c, file, &rows));
  }
  PP_CALL_GOTO(status, pp_spectrum_check(&c, &rows));
  job->n_wavelengths = rows.count;
  job->wavelengths_m = rows.wavelengths_m;
  job->weights = rows.weights;
  rows.wavelengths_m = rows.weights = NULL; /* the job owns them now */
done:
  if (file) fclose(file);
  pp_spectrum_rows_release(&rows);
  return status;
}
