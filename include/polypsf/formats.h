/* polypsf formats: the readers of users' files (docs/design.md). The floor just above core:
 * optics read their transmission and OPD maps here, the job reader its spectrum files, and
 * nothing here knows about optics, jobs or the output file. Every reader tells the format
 * by the file's first bytes, and every failure a user can cause is PP_ERR_INPUT naming the
 * file and what is wrong. */
#ifndef POLYPSF_FORMATS_H
#define POLYPSF_FORMATS_H

#include <stdbool.h>
#include <stddef.h>

#include "polypsf/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- maps: transmission and OPD maps read for optics (map_read.c) ------------------ */

/* The most values a map may hold: 16384 × 16384 (2 GiB as float64), the largest pupil
 * array a job may ask for (PP_JOB_MAX_NPIX). A header may claim any shape; the reader
 * refuses more than this before it allocates anything. */
#define PP_MAP_MAX_VALUES ((size_t)1 << 28)

/* A 2-D map read from a FITS image or an HDF5 dataset, with what its file says about its
 * pixel scale and unit. */
typedef struct pp_map {
  size_t ny, nx;           /* rows (y) × columns (x) */
  /* [ny][nx] row-major (y, x), converted to float64, every value finite; the file's first
   * row is the lowest y (FITS and numpy order). pp_array_alloc'ed. */
  double *values;
  bool is_hdf5;            /* false: FITS */
  double pixelscale_m;     /* metres per pixel the file gives, NaN when it gives none */
  /* Where pixelscale_m came from: "PIXELSCL" or "PUPLSCAL" (FITS header, in POPPY's order
   * of preference for pupil planes), "pixelscale_m" (HDF5 attribute); "" when none. */
  char pixelscale_key[16];
  /* The unit of the values: BUNIT (FITS header) or the string attribute `units` of the
   * dataset (HDF5), surrounding blanks removed; "" when the file says none. */
  char unit[72];
  /* 0 for a 2-D map; for a cube read by pp_map_read_slice, the number of maps it holds. */
  size_t n_slices;
} pp_map;

/* Reads a whole map. `location` names the file and, optionally, the part of it:
 *   "pupil.fits"          FITS: the primary HDU, or the first extension when the primary
 *                         holds no data (as astropy's getdata, which POPPY uses)
 *   "pupil.fits[OPD]"     FITS: the image extension whose EXTNAME is OPD
 *   "pupil.fits[1]"       FITS: HDU number 1, counting the primary as 0 (cfitsio's way)
 *   "wfe.h5:/maps/opd"    HDF5: that dataset (everything after the last ':/')
 *   "wfe.h5"              HDF5: the only dataset in the root group
 * A file whose whole name ends in ']' or holds ':/' is taken as it is when it exists. The
 * format is recognized from the file's first bytes, not its name. Integer and float data
 * are converted to float64 (FITS BSCALE/BZERO applied, BLANK pixels become NaN).
 * PP_ERR_INPUT, naming the file, for: no such file or not readable; neither FITS nor
 * HDF5; a corrupt file (with cfitsio's or HDF5's words); no such HDU or dataset; a table
 * or non-numeric data; not 2-D (the message says the rank); an empty axis; more than
 * PP_MAP_MAX_VALUES values; a shape the file does not hold (truncated: its last value
 * cannot be read; HDF5: values never written); a NaN or an
 * infinity (the message gives the (y, x) of the first); a pixel scale in the header that
 * is not a positive number, or PIXUNIT other than metres. PP_ERR_MEMORY when the map does
 * not fit. On error *map is cleared. Not collective. */
pp_status pp_map_read(const char *location, pp_map *map);
/* As pp_map_read, but the location may also hold a cube of maps, one per field point of a
 * PSF grid: a FITS image with NAXIS = 3 (NAXIS3 maps of NAXIS2 × NAXIS1) or an HDF5
 * dataset of rank 3 ([map][y][x]). Reads map `slice` (counted from 0) of a cube and sets
 * map->n_slices to the number of maps; a 2-D map is read whole whatever `slice` is
 * (n_slices 0). The header facts are the file's (FITS: the HDU's; HDF5: the dataset's
 * attributes), the same for every map. PP_ERR_INPUT as pp_map_read (the last value of the
 * whole cube must be held by the file; NaN and infinities are looked for in the map read),
 * and for a slice past the cube's last map. Not collective. */
pp_status pp_map_read_slice(const char *location, size_t slice, pp_map *map);
/* Releases map->values and clears the map (accepts a cleared map). */
void pp_map_clear(pp_map *map);

/* ---- spectra: the rows of a spectrum file (spectrum_read.c) ------------------------- */

typedef enum { PP_SPECTRUM_TEXT, PP_SPECTRUM_HDF5, PP_SPECTRUM_FITS } pp_spectrum_format;

enum {
  PP_SPECTRUM_NAME_BYTES = 72, /* a FITS column or HDF5 dataset name in messages */
  PP_SPECTRUM_UNIT_BYTES = 72  /* a unit label read from a file */
};

/* The rows of a spectrum file as read, before any check of their values. */
typedef struct pp_spectrum_rows {
  pp_spectrum_format format;
  int fits_hdu;                                 /* FITS: 1-based HDU of the table */
  char wavelength_name[PP_SPECTRUM_NAME_BYTES]; /* FITS column / HDF5 dataset */
  char weight_name[PP_SPECTRUM_NAME_BYTES];
  /* The wavelength unit the file names (HDF5: attribute `units` of /wavelengths, FITS: the
   * column's TUNIT), blanks removed; "" when it names none (always for text), and where. */
  char unit[PP_SPECTRUM_UNIT_BYTES];
  char unit_origin[PP_SPECTRUM_NAME_BYTES + 40];
  size_t count, capacity;
  /* [count] as the file gives them: HDF5 and FITS in the file's unit, text already in
   * metres through options->text_exponent10 (applied to the digits, so exactly). */
  double *wavelengths, *weights;
  size_t *rows; /* text: line (1-based); HDF5: index (0-based); FITS: row (1-based) */
} pp_spectrum_rows;

typedef struct pp_spectrum_read_options {
  int max_rows;          /* more rows are refused (each wavelength is one PSF to compute) */
  int text_exponent10;   /* a text file's wavelengths are in 10^text_exponent10 m */
  /* Appended to the message when a relative path cannot be opened (NULL: nothing). */
  const char *relative_path_note;
} pp_spectrum_read_options;

/* Reads the rows of a spectrum file, telling its format by its first bytes. PP_ERR_INPUT
 * naming the file and the line, index or row for: a file that cannot be opened or read; a
 * text line without exactly two numbers; an HDF5 file without 1-D numeric /wavelengths and
 * /weights of equal length; a FITS file without a table holding WAVELENGTH and WEIGHT (or
 * FLUX) columns of one number a row; more than max_rows rows. PP_ERR_MEMORY when the rows do
 * not fit. On error *rows is released. Not collective. */
pp_status pp_spectrum_rows_read(const char *file, const pp_spectrum_read_options *options,
                                pp_spectrum_rows *rows);
/* Frees the rows' arrays and empties them (accepts empty rows and NULL). */
void pp_spectrum_rows_release(pp_spectrum_rows *rows);

#ifdef __cplusplus
}
#endif
#endif
