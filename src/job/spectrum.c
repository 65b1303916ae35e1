/* Spectrum data files for `wavelengths: {file: ..., units: ...}`: the file is read by
 * formats/spectrum_read.c (text, HDF5 or FITS, told by its first bytes); here its unit is
 * settled against the job's `units:` and its values checked.
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
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "polypsf/formats.h"

enum { PP_SPECTRUM_MESSAGE_BYTES = 768 };

/* What every error needs: where in the job file, and which data file. */
typedef struct pp_spectrum_context {
  pp_yaml_doc *doc;
  const yaml_node_t *file_node;
  const char *path;              /* "wavelengths.file" */
  const char *file;              /* the data file as opened */
  const yaml_node_t *units_node; /* NULL when the job gives no `units` */
  int units_exponent10;
} pp_spectrum_context;

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
    double wavelength_m = rows->wavelengths[i], weight = rows->weights[i];
    pp_spectrum_where(c, rows, i, false, where, sizeof where);
    if (!(wavelength_m >= PP_JOB_MIN_WAVELENGTH_M && wavelength_m <= PP_JOB_MAX_WAVELENGTH_M))
      return pp_spectrum_error(c,
                               "%s: wavelength %.10g m is outside 10 nm ... 1 mm; the "
                               "wavelengths are in %s%s",
                               where, wavelength_m,
                               c->units_node ? pp_spectrum_unit_word(c->units_exponent10) : "m",
                               c->units_node ? "" : " unless the file or units: (um, nm) says "
                                                    "otherwise");
    if (i > 0 && !(wavelength_m > rows->wavelengths[i - 1])) {
      pp_spectrum_where(c, rows, i - 1, false, before, sizeof before);
      return pp_spectrum_error(c,
                               "%s: wavelength %.10g m %s the one before it (%.10g m at %s); "
                               "list each wavelength once, in increasing order",
                               where, wavelength_m,
                               wavelength_m == rows->wavelengths[i - 1] ? "repeats"
                                                                          : "is smaller than",
                               rows->wavelengths[i - 1], before);
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

pp_status pp_spectrum_read_file(pp_yaml_doc *doc, const yaml_node_t *file_node, const char *path,
                                const char *file_path, const yaml_node_t *units_node,
                                int units_exponent10, pp_job *job) {
  pp_spectrum_context c = {.doc = doc, .file_node = file_node, .path = path, .file = file_path,
                           .units_node = units_node, .units_exponent10 = units_exponent10};
  pp_spectrum_rows rows = {.format = PP_SPECTRUM_TEXT};
  pp_status status = PP_SUCCESS;
  int text_exponent10 = 0;
  PP_CALL(pp_spectrum_pick_unit(&c, NULL, NULL, &text_exponent10));
  pp_spectrum_read_options options = {
      .max_rows = PP_JOB_MAX_WAVELENGTHS, .text_exponent10 = text_exponent10,
      .relative_path_note = " (a relative path is taken from the job file's directory)"};
  pp_status read = pp_spectrum_rows_read(file_path, &options, &rows);
  if (read != PP_SUCCESS && pp_status_code(read) != PP_ERR_INPUT) return read;
  if (read != PP_SUCCESS) {
    /* The file's problem, said at the `file:` value in the job file. */
    status = pp_spectrum_error(&c, "%s", pp_status_message(read));
    pp_status_free(read);
    return status;
  }
  if (rows.format != PP_SPECTRUM_TEXT) {
    int exponent10 = 0;
    PP_CALL_GOTO(status, pp_spectrum_pick_unit(&c, rows.unit, rows.unit_origin, &exponent10));
    for (size_t i = 0; i < rows.count; i++)
      rows.wavelengths[i] = pp_spectrum_to_metres(rows.wavelengths[i], exponent10);
  }
  PP_CALL_GOTO(status, pp_spectrum_check(&c, &rows));
  job->n_wavelengths = rows.count;
  job->wavelengths_m = rows.wavelengths;
  job->weights = rows.weights;
  rows.wavelengths = rows.weights = NULL; /* the job owns them now */
done:
  pp_spectrum_rows_release(&rows);
  return status;
}
