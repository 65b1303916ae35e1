/* Private to src/optics: the per-type geometry functions the table points to, and the
 * coordinate helpers they share. Never installed, never included from other modules. */
#ifndef POLYPSF_OPTICS_PRIVATE_H
#define POLYPSF_OPTICS_PRIVATE_H

#ifndef POLYPSF_OPTICS_INTERNAL
#error "optics_private.h is private to src/optics; include polypsf/optics.h instead"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "polypsf/optics.h"

/* ---- the rows of the table (optic_table.c lists them; each is defined in its optic's file) */

#define PP_OPTIC_COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* Shorthands for the table: any real, a length > 0, a length ≥ 0. */
#define PP_ANY_REAL .min = -INFINITY, .max = INFINITY
#define PP_POSITIVE .min = 0.0, .max = INFINITY, .min_exclusive = true
#define PP_NONNEGATIVE .min = 0.0, .max = INFINITY

/* POPPY's AnalyticOpticalElement takes shift_x, shift_y (metres, subtracted from the pixel
 * coordinates) and rotation (degrees counterclockwise, applied after the shift). */
#define PP_SHIFT_PARAMS                                                                   \
  {.name = "shift_x", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_ANY_REAL,           \
   .unit = "m", .doc = "moves the optic along +x (POPPY's shift_x)"},                     \
  {.name = "shift_y", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_ANY_REAL,           \
   .unit = "m", .doc = "moves the optic along +y (POPPY's shift_y)"}
#define PP_ROTATION_PARAM                                                                 \
  {.name = "rotation", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_ANY_REAL,          \
   .unit = "deg", .doc = "turns the optic counterclockwise about its own centre, after the shift"}

/* In image planes POPPY takes shift_x, shift_y in arcsec (get_coordinates subtracts them from
 * the image coordinates, which are in arcsec there). */
#define PP_SKY_SHIFT_PARAMS                                                               \
  {.name = "shift_x", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_ANY_REAL,           \
   .unit = "arcsec", .doc = "moves the mask along +x on the sky (POPPY's shift_x)"},      \
  {.name = "shift_y", .kind = PP_PARAM_REAL, .default_value = 0.0, PP_ANY_REAL,           \
   .unit = "arcsec", .doc = "moves the mask along +y on the sky (POPPY's shift_y)"}

/* Every row of the optic table, declared from the one list (optic_list.h). */
#define PP_OPTIC_ROW(row) extern const pp_optic_type row;
#include "optics/optic_list.h"
#undef PP_OPTIC_ROW

/* The frame of one optic, as POPPY's AnalyticOpticalElement.get_coordinates builds it:
 * first the shift is subtracted (x − shift_x, y − shift_y), then the shifted point is
 * rotated by −rotation (x' = cos·x + sin·y, y' = −sin·x + cos·y), so the optic appears
 * shifted and turned counterclockwise by `rotation`. */
typedef struct pp_optic_frame {
  double shift_x_m, shift_y_m;
  double cos_rotation, sin_rotation;
  bool rotated; /* false: skip the rotation (POPPY with rotation 0 gives the same bits) */
} pp_optic_frame;

/* The frame from a spec's shift_x, shift_y, rotation (absent keys count as 0). */
void pp_optic_frame_from_spec(const pp_optic_spec *spec, pp_optic_frame *frame);

/* Pixel centre coordinates (metres) of column ix / row iy, exactly as POPPY's
 * Wavefront.pupil_coordinates computes them: (i − (n − 1)/2) · pixelscale. */
static inline double pp_grid_coordinate_m(size_t index, size_t count, double pixelscale_m) {
  return ((double)index - ((double)count - 1.0) / 2.0) * pixelscale_m;
}

/* The optic-frame coordinates of the pixel centre (x_m, y_m). */
static inline void pp_optic_frame_apply(const pp_optic_frame *frame, double x_m, double y_m,
                                        double *xp_m, double *yp_m) {
  double x = x_m - frame->shift_x_m;
  double y = y_m - frame->shift_y_m;
  if (frame->rotated) {
    /* Two products then one sum, in POPPY's order, so ties at edges fall the same way. */
    double xr = frame->cos_rotation * x + frame->sin_rotation * y;
    double yr = -frame->sin_rotation * x + frame->cos_rotation * y;
    x = xr;
    y = yr;
  }
  *xp_m = x;
  *yp_m = y;
}

/* Area of the part of the axis-aligned rectangle [x0, x1] × [y0, y1] that lies inside
 * the circle of radius r centred at the origin (all in the same unit). Exact up to
 * rounding (a few ulp of r²·angle). */
double pp_circle_rectangle_overlap_area(double r, double x0, double x1, double y0, double y1);

/* Hexagon with corners on the ±x axis (POPPY's HexagonAperture orientation), side s,
 * centred at the origin: POPPY's inside test with its exact comparisons. */
bool pp_hexagon_contains(double x, double y, double side);

/* MultiHexagonAperture segment layout. */
size_t pp_multihex_segment_count(int rings); /* 1 + 3·rings·(rings + 1) */
/* Centre (metres) of segment `index` (0 = centre, 1 = straight up, then clockwise round
 * each ring) for centre spacing `spacing_m` = flat-to-flat + gap. */
void pp_multihex_segment_center(size_t index, double spacing_m, double *x_m, double *y_m);

/* Zernike helpers. */
/* Noll index j ≥ 1 → radial order n and signed azimuthal order m (m > 0: cos, m < 0: sin). */
void pp_zernike_noll_to_nm(int j, int *n, int *m);
/* Noll-normalized Zernike term at (rho ≤ 1, theta); 0 for rho > 1. */
double pp_zernike_noll_value(int n, int m, double rho, double theta);

/* Per-type geometry (each in its own file). Each returns the pupil diameter the optic
 * asks for, tells whether it adds OPD, and applies itself to the grid. */
double pp_circle_pupil_diameter_m(const pp_optic_spec *spec);
pp_status pp_circle_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                          double *amplitude, double *opd);

double pp_square_pupil_diameter_m(const pp_optic_spec *spec);
double pp_rectangle_pupil_diameter_m(const pp_optic_spec *spec);
pp_status pp_rectangle_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                             double *amplitude, double *opd);

double pp_hexagon_side_m(const pp_optic_spec *spec);
double pp_hexagon_pupil_diameter_m(const pp_optic_spec *spec);
pp_status pp_hexagon_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                           double *amplitude, double *opd);

double pp_multihex_side_m(const pp_optic_spec *spec);
double pp_multihex_pupil_diameter_m(const pp_optic_spec *spec);
pp_status pp_multihex_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                            double *amplitude, double *opd);

double pp_obscuration_pupil_diameter_m(const pp_optic_spec *spec);
pp_status pp_obscuration_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                               double *amplitude, double *opd);

pp_status pp_transmission_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                                double *amplitude, double *opd);

pp_status pp_zernike_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                           double *amplitude, double *opd);
bool pp_zernike_has_opd(const pp_optic_spec *spec);

/* Validators used by the table (PP_ERR_INPUT on a bad combination). */
pp_status pp_hexagon_validate(const pp_optic_spec *spec);
pp_status pp_multihex_validate(const pp_optic_spec *spec);
pp_status pp_zernike_validate(const pp_optic_spec *spec);
pp_status pp_fits_element_validate(const pp_optic_spec *spec);

/* ---- fits_optical_element (fits_element.c) ------------------------------------------ */

/* What pp_optic_spec_load_files found in the map files; apply reads the maps again and
 * checks they still agree. */
struct pp_optic_files {
  size_t ny, nx;       /* shape of the map(s): both maps have the same */
  double pixelscale_m; /* metres per map pixel: the job's `pixelscale`, else the files' */
  double opd_to_m;     /* metres per unit of the OPD map's values (1 without an OPD map) */
  /* Per key (transmission, opd): 0 for a 2-D map (laid for every field point), else the
   * number of maps in its cube, one per field point (docs/grids.md). */
  size_t n_maps[2];
  size_t field_point; /* the map of a cube that apply lays (pp_optic_spec_use_field_point) */
};

/* The words `opdunits` accepts (the table's choices, NULL-terminated; POPPY's spellings)
 * and the metres per unit of each. */
extern const char *const pp_opd_unit_words[];
double pp_opd_unit_to_m(size_t word_index);

pp_status pp_fits_element_load(pp_optic_spec *spec, int *param_index);
bool pp_fits_element_has_opd(const pp_optic_spec *spec);
double pp_fits_element_pupil_diameter_m(const pp_optic_spec *spec);
pp_status pp_fits_element_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                                double *amplitude, double *opd);

/* The largest Noll index a zernike_wfe accepts (n ≤ 20): beyond it the explicit radial
 * sum loses digits to cancellation, as POPPY's does. */
enum { PP_ZERNIKE_MAX_TERMS = 231 };

/* ---- image-plane optics (fqpm.c, band_limited.c, field_stops.c) ------------------------- */

/* Image-plane optics use the same frame, in arcsec instead of metres: POPPY's
 * get_coordinates subtracts shift_x, shift_y in the plane's own unit (arcsec in image
 * planes) and turns by −rotation, exactly as for pupils. */

/* Pixel centre coordinate (arcsec) of column ix / row iy, as POPPY's
 * Wavefront.image_coordinates: (i − (n − 1)/2)·scale, or (i − n/2)·scale for an FFT-made
 * plane centred on a pixel. The subtraction comes first, then the product, like POPPY. */
static inline double pp_image_coordinate_arcsec(size_t index, size_t count,
                                                pp_image_centering centering,
                                                double pixelscale_arcsec) {
  double centre = centering == PP_IMAGE_CENTER_PIXEL ? (double)count / 2.0
                                                     : ((double)count - 1.0) / 2.0;
  return ((double)index - centre) * pixelscale_arcsec;
}

/* The rows of an image plane the field holds, [*first, *end): all ny rows, or the slab
 * grid->row0 + [0, grid->nrows); field row iy is field[(iy − *first)·nx]. */
static inline void pp_image_grid_rows(const pp_image_grid *grid, size_t *first, size_t *end) {
  *first = grid->nrows ? grid->row0 : 0;
  *end = grid->nrows ? grid->row0 + grid->nrows : grid->ny;
}

/* The words of the CHOICE parameters (NULL-terminated, in the order of their indices). */
extern const char *const pp_aligner_direction_words[]; /* forward, backward */
extern const char *const pp_blc_kind_words[];          /* circular, linear */
enum { PP_ALIGNER_FORWARD = 0, PP_ALIGNER_BACKWARD = 1 };
enum { PP_BLC_CIRCULAR = 0, PP_BLC_LINEAR = 1 };

pp_status pp_fqpm_apply(const pp_optic_spec *spec, const pp_image_grid *grid,
                        double wavelength_m, double complex *field);
pp_status pp_fqpm_aligner_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                                size_t fft_ny, size_t fft_nx, double complex *field);
pp_status pp_band_limited_apply(const pp_optic_spec *spec, const pp_image_grid *grid,
                                double wavelength_m, double complex *field);
/* circular_occulter and annular_field_stop: gray-edged circles. */
pp_status pp_annular_stop_apply(const pp_optic_spec *spec, const pp_image_grid *grid,
                                double wavelength_m, double complex *field);
/* rectangular_field_stop, square_field_stop (clear inside) and bar_occulter (opaque
 * inside): hard-edged rectangles. */
pp_status pp_rectangular_stop_apply(const pp_optic_spec *spec, const pp_image_grid *grid,
                                    bool opaque_inside, double complex *field);
/* bar_occulter (opaque inside) and the square and rectangular field stops (clear inside) as
 * their rows call them (the wavelength is not used). */
pp_status pp_bar_occulter_apply(const pp_optic_spec *spec, const pp_image_grid *grid,
                                double wavelength_m, double complex *field);
pp_status pp_rectangular_field_stop_apply(const pp_optic_spec *spec, const pp_image_grid *grid,
                                          double wavelength_m, double complex *field);
pp_status pp_annular_stop_validate(const pp_optic_spec *spec);

#endif
