/* Unit tests of the optics module: the type table and spec helpers, then the geometry of
 * each optic against independent truth (closed-form areas, segment counts, symmetry,
 * the published Noll table, orthonormality of the Zernike basis). Serial, no MPI.
 *
 * The exact pixel agreement with POPPY itself is the physics tests' business (they compare
 * whole PSFs with ../shared/reference); here each property is checked from first
 * principles, with the tolerance written next to it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pp_test.h"
#include "polypsf/optics.h"

/* The module's exact-area helper, tested directly against closed forms. */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

/* ---- helpers ------------------------------------------------------------------------ */

static pp_optic_spec make_spec(const char *type_name) {
  pp_optic_spec spec;
  pp_optic_spec_init(&spec, pp_optic_type_find(type_name));
  return spec;
}

/* Sets a key that must be valid; a failure counts as a failed check. */
static void set_ok(pp_optic_spec *spec, const char *key, double value) {
  pp_status status = pp_optic_spec_set(spec, key, value);
  if (status != PP_SUCCESS) PP_TEST_OK(status, key);
}

/* True when the call fails with PP_ERR_INPUT (the error is released). */
static int fails_input(pp_status status) {
  int ok = status != PP_SUCCESS && pp_status_code(status) == PP_ERR_INPUT;
  pp_status_free(status);
  return ok;
}

/* A grid of n × n pixels of pixelscale_m and its amplitude (ones) and OPD (zeros). */
typedef struct {
  pp_pupil_grid grid;
  double *amplitude, *opd;
} test_plane;

static test_plane plane_new(size_t n, double pixelscale_m) {
  test_plane plane = {{n, n, pixelscale_m}, malloc(n * n * sizeof(double)),
                      calloc(n * n, sizeof(double))};
  for (size_t i = 0; i < n * n; i++) plane.amplitude[i] = 1.0;
  return plane;
}

static void plane_reset(test_plane *plane) {
  size_t n = plane->grid.nx * plane->grid.ny;
  for (size_t i = 0; i < n; i++) {
    plane->amplitude[i] = 1.0;
    plane->opd[i] = 0.0;
  }
}

static void plane_free(test_plane *plane) {
  free(plane->amplitude);
  free(plane->opd);
}

static double plane_sum(const test_plane *plane) {
  double sum = 0;
  for (size_t i = 0; i < plane->grid.nx * plane->grid.ny; i++) sum += plane->amplitude[i];
  return sum;
}

static double coordinate_m(const test_plane *plane, size_t index) {
  return ((double)index - ((double)plane->grid.nx - 1) / 2) * plane->grid.pixelscale_m;
}

/* Amplitude at the pixel nearest to (x, y) metres. */
static double value_at(const test_plane *plane, double x_m, double y_m) {
  double c = ((double)plane->grid.nx - 1) / 2;
  long ix = lround(x_m / plane->grid.pixelscale_m + c), iy = lround(y_m / plane->grid.pixelscale_m + c);
  return plane->amplitude[(size_t)iy * plane->grid.nx + (size_t)ix];
}

/* Number of 4-connected regions of nonzero amplitude (segments of a segmented pupil). */
static int count_regions(const test_plane *plane) {
  size_t n = plane->grid.nx, total = n * n;
  unsigned char *seen = calloc(total, 1);
  size_t *stack = malloc(total * sizeof *stack);
  int regions = 0;
  for (size_t start = 0; start < total; start++) {
    if (seen[start] || plane->amplitude[start] == 0) continue;
    regions++;
    size_t top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      size_t p = stack[--top], x = p % n, y = p / n;
      size_t neighbours[4] = {x > 0 ? p - 1 : p, x + 1 < n ? p + 1 : p, y > 0 ? p - n : p,
                              y + 1 < n ? p + n : p};
      for (int k = 0; k < 4; k++) {
        size_t q = neighbours[k];
        if (!seen[q] && plane->amplitude[q] != 0) {
          seen[q] = 1;
          stack[top++] = q;
        }
      }
    }
  }
  free(seen);
  free(stack);
  return regions;
}

/* ---- the table ------------------------------------------------------------------------ */

static void test_table(void) {
  const char *names[] = {"circular_aperture",      "square_aperture",       "rectangle_aperture",
                         "hexagon_aperture",       "multi_hexagon_aperture", "secondary_obscuration",
                         "scalar_transmission",    "zernike_wfe",           "fits_optical_element"};
  size_t n_names = sizeof names / sizeof names[0];
  /* + the FQPM aligner and 7 image-plane masks, tested in test_image_optics.c, and the
   * Fresnel mode's quadratic_lens (test_table_quadratic_lens below, and the Fresnel tests) */
  PP_TEST_TRUE(pp_optic_type_count() >= n_names + 8 + 1,
               "table holds at least the 9 pupil optic types, the 8 coronagraph types and "
               "quadratic_lens (a new optic adds a row: test_optics_docs checks every row)");
  const pp_optic_type *lens = pp_optic_type_find("quadratic_lens");
  PP_TEST_TRUE(lens && lens->plane == PP_PLANE_PUPIL, "quadratic_lens is a pupil-plane row");
  if (lens) {
    /* Its pupil function is POPPY's QuadPhase(−f): OPD = −r²/(2f), here at r² = 0.5 m². */
    pp_optic_spec spec;
    pp_optic_spec_init(&spec, lens);
    PP_TEST_OK(pp_optic_spec_set(&spec, "f_lens", 4.0), "f_lens 4 m");
    PP_TEST_TRUE(pp_optic_spec_validate(&spec) == PP_SUCCESS, "a lens of 4 m is valid");
    pp_pupil_grid grid = {.ny = 2, .nx = 2, .pixelscale_m = 1.0};
    double amplitude[4] = {1, 1, 1, 1}, opd[4] = {0, 0, 0, 0};
    PP_TEST_OK(pp_optic_apply_pupil(&spec, &grid, amplitude, opd), "lens applies");
    PP_TEST_NEAR(opd[0], -0.5 / 8.0, 1e-15, "lens OPD −r²/(2f) at a corner pixel");
    PP_TEST_NEAR(amplitude[0], 1.0, 0.0, "lens transmits everything");
    PP_TEST_OK(pp_optic_spec_set(&spec, "f_lens", 0.0), "f_lens 0 is a number");
    pp_status zero = pp_optic_spec_validate(&spec);
    PP_TEST_TRUE(zero != PP_SUCCESS, "f_lens 0 is refused");
    pp_status_free(zero);
    pp_optic_spec_clear(&spec);
  }
  for (size_t i = 0; i < n_names; i++) {
    const pp_optic_type *type = pp_optic_type_find(names[i]);
    PP_TEST_TRUE(type && strcmp(type->name, names[i]) == 0, names[i]);
    PP_TEST_TRUE(type && type->plane == PP_PLANE_PUPIL && type->poppy_name && type->doc,
                 "type is a pupil optic with a POPPY name and a doc line");
    for (size_t k = 0; type && k < type->n_params; k++)
      PP_TEST_TRUE(type->params[k].doc && type->params[k].unit &&
                       pp_optic_param_index(type, type->params[k].name) == (int)k,
                   "every parameter has doc, unit and is found by its name");
  }
  for (size_t i = 0; i < pp_optic_type_count(); i++)
    PP_TEST_TRUE(pp_optic_type_at(i) != NULL, "pp_optic_type_at inside the table");
  PP_TEST_TRUE(pp_optic_type_at(pp_optic_type_count()) == NULL, "pp_optic_type_at past the end");
  PP_TEST_TRUE(pp_optic_type_find("circular_apertur") == NULL, "unknown name gives NULL");
  PP_TEST_TRUE(pp_optic_type_find(NULL) == NULL, "NULL name gives NULL");
  PP_TEST_TRUE(pp_optic_param_index(pp_optic_type_find("circular_aperture"), "radiu") == -1,
               "unknown key gives -1");

  /* Defaults are POPPY's (poppy/optics.py, poppy/wfe.py). */
  pp_optic_spec circle = make_spec("circular_aperture");
  PP_TEST_NEAR(pp_optic_spec_get(&circle, "radius"), 1.0, 0, "CircularAperture radius default 1 m");
  PP_TEST_NEAR(pp_optic_spec_get(&circle, "gray_pixel"), 1.0, 0, "gray_pixel default true");
  PP_TEST_NEAR(pp_optic_spec_get(&circle, "shift_x"), 0.0, 0, "shift_x default 0");
  PP_TEST_TRUE(isnan(pp_optic_spec_get(&circle, "nonsense")), "unknown key reads NaN");
  PP_TEST_TRUE(strcmp(circle.name, "circular_aperture") == 0, "label defaults to the type name");
  pp_optic_spec obscuration = make_spec("secondary_obscuration");
  PP_TEST_NEAR(pp_optic_spec_get(&obscuration, "secondary_radius"), 0.5, 0, "secondary_radius 0.5 m");
  PP_TEST_NEAR(pp_optic_spec_get(&obscuration, "n_supports"), 4, 0, "n_supports default 4");
  PP_TEST_NEAR(pp_optic_spec_get(&obscuration, "support_width"), 0.01, 0, "support_width 0.01 m");
  pp_optic_spec multihex = make_spec("multi_hexagon_aperture");
  PP_TEST_NEAR(pp_optic_spec_get(&multihex, "flattoflat"), 1.0, 0, "MultiHex flattoflat 1 m");
  PP_TEST_NEAR(pp_optic_spec_get(&multihex, "gap"), 0.01, 0, "MultiHex gap 0.01 m");
  PP_TEST_NEAR(pp_optic_spec_get(&multihex, "rings"), 1, 0, "MultiHex rings 1");
  PP_TEST_NEAR(pp_optic_spec_get(&multihex, "center"), 0, 0, "MultiHex center false");
  pp_optic_spec rectangle = make_spec("rectangle_aperture");
  PP_TEST_NEAR(pp_optic_spec_get(&rectangle, "width"), 0.5, 0, "RectangleAperture width 0.5 m");
  PP_TEST_NEAR(pp_optic_spec_get(&rectangle, "height"), 1.0, 0, "RectangleAperture height 1 m");
  PP_TEST_TRUE(!pp_optic_spec_given(&rectangle, "width"), "defaults are not marked given");
  PP_TEST_OK(pp_optic_spec_validate(&circle), "all defaults validate");

  /* Ranges, kinds and relations. */
  PP_TEST_TRUE(fails_input(pp_optic_spec_set(&circle, "radius", 0.0)), "radius 0 refused (> 0)");
  PP_TEST_TRUE(fails_input(pp_optic_spec_set(&circle, "radius", NAN)), "radius NaN refused");
  PP_TEST_TRUE(fails_input(pp_optic_spec_set(&circle, "gray_pixel", 0.5)), "bool 0.5 refused");
  PP_TEST_TRUE(fails_input(pp_optic_spec_set(&circle, "radus", 1.0)), "unknown key refused");
  PP_TEST_TRUE(fails_input(pp_optic_spec_set(&multihex, "rings", 1.5)), "rings 1.5 refused");
  PP_TEST_TRUE(fails_input(pp_optic_spec_set(&multihex, "rings", -1)), "rings -1 refused");
  PP_TEST_TRUE(fails_input(pp_optic_spec_set(&obscuration, "n_supports", 2.5)),
               "n_supports 2.5 refused");
  pp_optic_spec transmission = make_spec("scalar_transmission");
  PP_TEST_TRUE(fails_input(pp_optic_spec_set(&transmission, "transmission", 1.5)),
               "transmission 1.5 refused ([0, 1])");

  pp_optic_spec hexagon = make_spec("hexagon_aperture");
  set_ok(&hexagon, "side", 1.0);
  PP_TEST_OK(pp_optic_spec_validate(&hexagon), "hexagon with side alone validates");
  set_ok(&hexagon, "flattoflat", 1.7);
  PP_TEST_TRUE(fails_input(pp_optic_spec_validate(&hexagon)), "hexagon side + flattoflat refused");
  pp_optic_spec both = make_spec("multi_hexagon_aperture");
  set_ok(&both, "side", 0.5);
  set_ok(&both, "flattoflat", 0.9);
  PP_TEST_TRUE(fails_input(pp_optic_spec_validate(&both)), "multi-hex side + flattoflat refused");

  pp_optic_spec empty = make_spec("multi_hexagon_aperture");
  set_ok(&empty, "rings", 0);
  PP_TEST_TRUE(fails_input(pp_optic_spec_validate(&empty)), "rings 0 without center refused");
  set_ok(&empty, "center", 1);
  PP_TEST_OK(pp_optic_spec_validate(&empty), "rings 0 with center: one hexagon");

  pp_optic_spec listed = make_spec("multi_hexagon_aperture");
  double good_list[] = {0, 1, 6}, bad_list[] = {0, 7}, fractional[] = {1.5};
  PP_TEST_OK(pp_optic_spec_set_list(&listed, "segmentlist", good_list, 3), "segmentlist stored");
  PP_TEST_OK(pp_optic_spec_validate(&listed), "segments 0..6 valid for 1 ring");
  PP_TEST_OK(pp_optic_spec_set_list(&listed, "segmentlist", bad_list, 2), "segmentlist replaced");
  PP_TEST_TRUE(fails_input(pp_optic_spec_validate(&listed)), "segment 7 refused for 1 ring");
  PP_TEST_OK(pp_optic_spec_set_list(&listed, "segmentlist", fractional, 1), "segmentlist replaced");
  PP_TEST_TRUE(fails_input(pp_optic_spec_validate(&listed)), "segment 1.5 refused");
  PP_TEST_OK(pp_optic_spec_set_list(&listed, "segmentlist", good_list, 3), "segmentlist replaced");
  set_ok(&listed, "center", 1);
  PP_TEST_TRUE(fails_input(pp_optic_spec_validate(&listed)), "center with segmentlist refused");
  PP_TEST_TRUE(fails_input(pp_optic_spec_set(&listed, "segmentlist", 1)), "list key given a scalar");
  PP_TEST_TRUE(fails_input(pp_optic_spec_set_list(&listed, "gap", good_list, 3)),
               "scalar key given a list");
  pp_optic_spec_clear(&listed);

  pp_optic_spec zernike = make_spec("zernike_wfe");
  PP_TEST_TRUE(fails_input(pp_optic_spec_validate(&zernike)), "zernike_wfe without radius refused");
  set_ok(&zernike, "radius", 1.0);
  PP_TEST_TRUE(fails_input(pp_optic_spec_validate(&zernike)), "zernike_wfe without coefficients");
  double coefficients[] = {0, 0, 0, 50e-9};
  PP_TEST_OK(pp_optic_spec_set_list(&zernike, "coefficients", coefficients, 4), "coefficients");
  PP_TEST_OK(pp_optic_spec_validate(&zernike), "zernike_wfe with radius and coefficients");
  double *too_many = calloc(PP_ZERNIKE_MAX_TERMS + 1, sizeof *too_many);
  PP_TEST_OK(pp_optic_spec_set_list(&zernike, "coefficients", too_many, PP_ZERNIKE_MAX_TERMS + 1),
             "long list stored");
  PP_TEST_TRUE(fails_input(pp_optic_spec_validate(&zernike)), "more than 231 terms refused");
  free(too_many);
  PP_TEST_OK(pp_optic_spec_set_list(&zernike, "coefficients", coefficients, 4), "coefficients");

  pp_optic_spec copy;
  PP_TEST_OK(pp_optic_spec_copy(&zernike, &copy), "spec copy");
  PP_TEST_TRUE(copy.list != zernike.list && copy.list_len == 4 && copy.list[3] == 50e-9,
               "copy owns a duplicate of the list");
  pp_optic_spec_clear(&copy);
  PP_TEST_TRUE(copy.list == NULL && copy.list_len == 0, "clear releases the list");
  pp_optic_spec_clear(&zernike);
  pp_optic_spec_clear(NULL); /* accepted */

  /* Pupil diameters: POPPY's pupil_diam of each class. */
  pp_optic_spec s = make_spec("circular_aperture");
  set_ok(&s, "radius", 3.25);
  PP_TEST_NEAR(pp_optic_pupil_diameter_m(&s), 6.5, 1e-15, "circle: 2·radius");
  s = make_spec("square_aperture");
  set_ok(&s, "size", 2.0);
  PP_TEST_NEAR(pp_optic_pupil_diameter_m(&s), 4.0, 1e-15, "square: 2·size");
  s = make_spec("rectangle_aperture");
  set_ok(&s, "width", 3.0);
  set_ok(&s, "height", 4.0);
  PP_TEST_NEAR(pp_optic_pupil_diameter_m(&s), 5.0, 1e-15, "rectangle: diagonal");
  s = make_spec("hexagon_aperture");
  set_ok(&s, "flattoflat", sqrt(3.0));
  PP_TEST_NEAR(pp_optic_pupil_diameter_m(&s), 2.0, 1e-15, "hexagon: 2·side (side = f/√3)");
  s = make_spec("multi_hexagon_aperture");
  set_ok(&s, "rings", 2);
  set_ok(&s, "flattoflat", 1.32);
  set_ok(&s, "gap", 0.007);
  PP_TEST_NEAR(pp_optic_pupil_diameter_m(&s), 5 * 1.327, 1e-14, "multi-hex: (2·rings+1)·(f+gap)");
  s = make_spec("secondary_obscuration");
  PP_TEST_NEAR(pp_optic_pupil_diameter_m(&s), 2.0, 1e-15, "obscuration: 4·secondary_radius");
  s = make_spec("zernike_wfe");
  set_ok(&s, "radius", 3.0);
  PP_TEST_NEAR(pp_optic_pupil_diameter_m(&s), 0.0, 0, "zernike_wfe: none (POPPY has none)");
  PP_TEST_TRUE(pp_optic_has_opd(&s), "zernike_wfe adds OPD");
  PP_TEST_TRUE(!pp_optic_has_opd(&circle), "circle adds no OPD");
}

/* ---- exact area of a rectangle inside a circle -------------------------------------- */

static void test_overlap_area(void) {
  /* Closed forms, each an independent derivation. */
  double r = 0.4;
  PP_TEST_NEAR(pp_circle_rectangle_overlap_area(r, -0.5, 0.5, -0.5, 0.5), PP_PI * r * r, 1e-15,
               "circle inside the unit pixel: πr²");
  r = sqrt(0.5);
  PP_TEST_NEAR(pp_circle_rectangle_overlap_area(r, -0.5, 0.5, -0.5, 0.5), 1.0, 1e-15,
               "pixel inscribed in the circle: 1");
  r = 0.6; /* disk minus four segments beyond the sides at distance 0.5 */
  double segment = r * r * acos(0.5 / r) - 0.5 * sqrt(r * r - 0.25);
  PP_TEST_NEAR(pp_circle_rectangle_overlap_area(r, -0.5, 0.5, -0.5, 0.5),
               PP_PI * r * r - 4 * segment, 1e-15, "r = 0.6 on the unit pixel: πr² − 4 segments");
  r = 0.8;
  PP_TEST_NEAR(pp_circle_rectangle_overlap_area(r, 0, 1, 0, 1), PP_PI * r * r / 4, 1e-15,
               "corner pixel, r < 1: a quarter disk");
  r = 1.2; /* quarter disk minus the two half-segments beyond x = 1 and y = 1 */
  double expected = PP_PI * r * r / 4 - r * r * acos(1 / r) + sqrt(r * r - 1);
  PP_TEST_NEAR(pp_circle_rectangle_overlap_area(r, 0, 1, 0, 1), expected, 1e-15,
               "corner pixel, 1 < r < √2: quarter disk minus two half-segments");
  PP_TEST_NEAR(pp_circle_rectangle_overlap_area(r, -1, 0, -1, 0), expected, 1e-15,
               "same in the third quadrant");
  /* A large circle: the pixels of a row crossing the edge sum to the exact strip area
   * ∫ (h(x) − y0) over the strip; compare with the closed form of a half-strip. */
  r = 256.3;
  double strip = 0;
  for (int ix = -300; ix <= 300; ix++)
    strip += pp_circle_rectangle_overlap_area(r, ix - 0.5, ix + 0.5, 100.5, 101.5);
  /* area of the disk between y = 100.5 and 101.5: ∫ 2·sqrt(r² − y²) dy */
  double F1 = 101.5 * sqrt(r * r - 101.5 * 101.5) + r * r * asin(101.5 / r);
  double F0 = 100.5 * sqrt(r * r - 100.5 * 100.5) + r * r * asin(100.5 / r);
  PP_TEST_NEAR(strip, F1 - F0, 1e-9, "row of pixels across a 256-px circle sums to the strip area");
}

/* ---- circular aperture ---------------------------------------------------------------- */

static void test_circle(void) {
  size_t n = 512;
  double radius_m = 1.0, pixelscale_m = 2.2 / n; /* circle well inside the grid */
  test_plane plane = plane_new(n, pixelscale_m);
  pp_optic_spec circle = make_spec("circular_aperture");
  set_ok(&circle, "radius", radius_m);
  PP_TEST_OK(pp_optic_apply_pupil(&circle, &plane.grid, plane.amplitude, NULL), "gray circle");
  double area_m2 = plane_sum(&plane) * pixelscale_m * pixelscale_m;
  PP_TEST_NEAR(area_m2 / (PP_PI * radius_m * radius_m), 1.0, 1e-12,
               "gray circle: Σ value × pixel area = πr² (relative)");
  PP_TEST_NEAR(value_at(&plane, 0, 0), 1.0, 0, "centre pixel fully inside = 1");
  PP_TEST_NEAR(value_at(&plane, 0.5, 0.5), 1.0, 0, "pixel at r = 0.71 m fully inside = 1");
  PP_TEST_NEAR(value_at(&plane, 1.0, 0.5), 0.0, 0, "pixel at r = 1.12 m fully outside = 0");
  double worst_xy = 0, worst_mirror = 0, min_value = 1, max_value = 0;
  int n_gray = 0;
  for (size_t iy = 0; iy < n; iy++)
    for (size_t ix = 0; ix < n; ix++) {
      double v = plane.amplitude[iy * n + ix];
      worst_xy = fmax(worst_xy, fabs(v - plane.amplitude[ix * n + iy]));
      worst_mirror = fmax(worst_mirror, fabs(v - plane.amplitude[iy * n + (n - 1 - ix)]));
      min_value = fmin(min_value, v);
      max_value = fmax(max_value, v);
      n_gray += v > 0 && v < 1;
    }
  /* The area is integrated along x, so x ↔ y agrees to rounding: pixel coordinates of
   * ~250 px carry an ulp of 3e-14, the precision the edge itself is known to. */
  PP_TEST_NEAR(worst_xy, 0, 1e-13, "gray circle symmetric under x ↔ y");
  PP_TEST_NEAR(worst_mirror, 0, 1e-13, "gray circle symmetric under x → −x");
  PP_TEST_TRUE(min_value >= 0 && max_value <= 1, "all values in [0, 1]");
  /* Edge pixels: about 2π·r/p·(4/π)… bounded by the pixels within √2/2 px of the rim. */
  double rim_px = 2 * PP_PI * radius_m / pixelscale_m;
  PP_TEST_TRUE(n_gray > rim_px && n_gray < 2 * rim_px, "gray pixels form a ring 1–2 px wide");

  /* Non-gray: 1 where r ≤ radius (POPPY's comparison, rim included). With the radius set
   * to the distance of pixel (300, 400) that pixel is on the rim and must be inside. */
  plane_reset(&plane);
  pp_optic_spec hard = make_spec("circular_aperture");
  double x_rim = coordinate_m(&plane, 400), y_rim = coordinate_m(&plane, 300);
  double r_hard = sqrt(x_rim * x_rim + y_rim * y_rim);
  set_ok(&hard, "radius", r_hard);
  set_ok(&hard, "gray_pixel", 0);
  PP_TEST_OK(pp_optic_apply_pupil(&hard, &plane.grid, plane.amplitude, NULL), "hard circle");
  PP_TEST_NEAR(plane.amplitude[300 * n + 400], 1.0, 0, "hard circle: a centre on the rim is inside");
  PP_TEST_NEAR(plane.amplitude[300 * n + 401], 0.0, 0, "hard circle: the next pixel out is 0");
  double hard_area = plane_sum(&plane) * pixelscale_m * pixelscale_m;
  PP_TEST_NEAR(hard_area / (PP_PI * r_hard * r_hard), 1.0, 2 * sqrt(2.0) * pixelscale_m / r_hard,
               "hard circle area ≈ πr² (tolerance: rim band 2πr·√2p over πr²)");

  /* Shift: the gray circle moved by +10 px in x equals the centred one moved right. */
  test_plane shifted = plane_new(n, pixelscale_m);
  pp_optic_spec moved = make_spec("circular_aperture");
  set_ok(&moved, "radius", radius_m);
  set_ok(&moved, "shift_x", 10 * pixelscale_m);
  plane_reset(&plane);
  PP_TEST_OK(pp_optic_apply_pupil(&circle, &plane.grid, plane.amplitude, NULL), "centred");
  PP_TEST_OK(pp_optic_apply_pupil(&moved, &shifted.grid, shifted.amplitude, NULL), "shifted");
  double worst_shift = 0;
  for (size_t iy = 0; iy < n; iy++)
    for (size_t ix = 10; ix < n; ix++)
      worst_shift = fmax(worst_shift, fabs(shifted.amplitude[iy * n + ix] -
                                           plane.amplitude[iy * n + ix - 10]));
  PP_TEST_NEAR(worst_shift, 0, 1e-9, "shift_x = +10 px moves the circle 10 columns to +x");
  plane_free(&shifted);
  plane_free(&plane);
}

/* ---- polygons -------------------------------------------------------------------------- */

static void test_polygons(void) {
  size_t n = 1024;
  double pixelscale_m = 2.2 / n;
  test_plane plane = plane_new(n, pixelscale_m);
  double pixel_area = pixelscale_m * pixelscale_m;
  /* A pixel is misclassified only if its centre lies within √2/2 px of an edge: the error of
   * a counted area is at most perimeter × √2 × pixelscale. */

  pp_optic_spec hexagon = make_spec("hexagon_aperture");
  double side_m = 1.0;
  set_ok(&hexagon, "side", side_m);
  PP_TEST_OK(pp_optic_apply_pupil(&hexagon, &plane.grid, plane.amplitude, NULL), "hexagon");
  double hex_area = 3 * sqrt(3.0) / 2 * side_m * side_m;
  PP_TEST_NEAR(plane_sum(&plane) * pixel_area, hex_area, 6 * side_m * sqrt(2.0) * pixelscale_m,
               "hexagon area 3√3/2·side²");
  PP_TEST_NEAR(value_at(&plane, 0.97, 0.0), 1.0, 0, "corner on +x axis is inside");
  PP_TEST_NEAR(value_at(&plane, 0.0, 0.9), 0.0, 0, "flat side at y = √3/2 = 0.866: 0.9 outside");
  PP_TEST_NEAR(value_at(&plane, 0.0, 0.84), 1.0, 0, "0.84 inside the flat side");

  /* Rotation: counterclockwise. A 1 × 0.2 m rectangle turned +45° lies along (1, 1). */
  plane_reset(&plane);
  pp_optic_spec bar = make_spec("rectangle_aperture");
  set_ok(&bar, "width", 1.0);
  set_ok(&bar, "height", 0.2);
  set_ok(&bar, "rotation", 45);
  PP_TEST_OK(pp_optic_apply_pupil(&bar, &plane.grid, plane.amplitude, NULL), "rotated bar");
  PP_TEST_NEAR(value_at(&plane, 0.3, 0.3), 1.0, 0, "rotation +45°: (0.3, 0.3) inside");
  PP_TEST_NEAR(value_at(&plane, 0.3, -0.3), 0.0, 0, "rotation +45°: (0.3, −0.3) outside");
  PP_TEST_NEAR(plane_sum(&plane) * pixel_area, 0.2, 2.4 * sqrt(2.0) * pixelscale_m,
               "rotated rectangle keeps its area");

  plane_reset(&plane);
  pp_optic_spec square = make_spec("square_aperture");
  set_ok(&square, "size", 1.3);
  set_ok(&square, "shift_y", -0.2);
  PP_TEST_OK(pp_optic_apply_pupil(&square, &plane.grid, plane.amplitude, NULL), "square");
  PP_TEST_NEAR(plane_sum(&plane) * pixel_area, 1.69, 4 * 1.3 * sqrt(2.0) * pixelscale_m,
               "square area size²");
  PP_TEST_NEAR(value_at(&plane, 0, -0.8), 1.0, 0, "shift_y −0.2 m: y = −0.8 m inside");
  PP_TEST_NEAR(value_at(&plane, 0, 0.5), 0.0, 0, "shift_y −0.2 m: y = +0.5 m outside");
  plane_free(&plane);

  /* Segmented: 2 rings, a gap of 4 pixels so the segments stay separate regions. */
  double flattoflat_m = 1.0, gap_m = 0.05;
  double spacing_m = flattoflat_m + gap_m, diameter_m = 5 * spacing_m;
  size_t n_seg = 1024;
  test_plane segmented = plane_new(n_seg, diameter_m / n_seg);
  double seg_pixel_area = segmented.grid.pixelscale_m * segmented.grid.pixelscale_m;
  pp_optic_spec multihex = make_spec("multi_hexagon_aperture");
  set_ok(&multihex, "rings", 2);
  set_ok(&multihex, "flattoflat", flattoflat_m);
  set_ok(&multihex, "gap", gap_m);
  set_ok(&multihex, "center", 1);
  PP_TEST_NEAR(pp_optic_pupil_diameter_m(&multihex), diameter_m, 1e-14, "multi-hex diameter");
  PP_TEST_OK(pp_optic_apply_pupil(&multihex, &segmented.grid, segmented.amplitude, NULL),
             "2 rings with centre");
  double segment_side_m = flattoflat_m / sqrt(3.0);
  double segment_area = 3 * sqrt(3.0) / 2 * segment_side_m * segment_side_m;
  double segment_tolerance = 6 * segment_side_m * sqrt(2.0) * segmented.grid.pixelscale_m;
  PP_TEST_TRUE(count_regions(&segmented) == 19, "rings = 2, center = true: 19 segments");
  PP_TEST_NEAR(plane_sum(&segmented) * seg_pixel_area, 19 * segment_area, 19 * segment_tolerance,
               "19 segments: 19 × one hexagon's area");
  /* Layout: segment 1 straight up at one spacing, ring-2 corner (segment 7) at 2 spacings up,
   * segment 8 between it and the next corner (clockwise: towards +x). */
  double cx, cy;
  pp_multihex_segment_center(1, spacing_m, &cx, &cy);
  PP_TEST_NEAR(hypot(cx - 0, cy - spacing_m), 0, 1e-15, "segment 1 at (0, +spacing)");
  pp_multihex_segment_center(2, spacing_m, &cx, &cy);
  PP_TEST_NEAR(hypot(cx - spacing_m * sqrt(3.0) / 2, cy - spacing_m / 2), 0, 1e-15,
               "segment 2 clockwise from it at 60°");
  pp_multihex_segment_center(7, spacing_m, &cx, &cy);
  PP_TEST_NEAR(hypot(cx, cy - 2 * spacing_m), 0, 1e-15, "segment 7: ring 2 starts at the top");
  pp_multihex_segment_center(8, spacing_m, &cx, &cy);
  PP_TEST_NEAR(hypot(cx - spacing_m * sqrt(3.0) / 2, cy - 1.5 * spacing_m), 0, 1e-15,
               "segment 8: one step clockwise along the side");
  double worst_spacing = 1e9;
  for (size_t a = 0; a < 19; a++)
    for (size_t b = a + 1; b < 19; b++) {
      double ax, ay, bx, by;
      pp_multihex_segment_center(a, spacing_m, &ax, &ay);
      pp_multihex_segment_center(b, spacing_m, &bx, &by);
      worst_spacing = fmin(worst_spacing, hypot(ax - bx, ay - by));
    }
  PP_TEST_NEAR(worst_spacing, spacing_m, 1e-12, "nearest segment centres one spacing apart");

  plane_reset(&segmented);
  pp_optic_spec no_centre = make_spec("multi_hexagon_aperture");
  set_ok(&no_centre, "rings", 2);
  set_ok(&no_centre, "flattoflat", flattoflat_m);
  set_ok(&no_centre, "gap", gap_m);
  PP_TEST_OK(pp_optic_apply_pupil(&no_centre, &segmented.grid, segmented.amplitude, NULL),
             "2 rings, POPPY default center = false");
  PP_TEST_TRUE(count_regions(&segmented) == 18, "center = false: 18 segments");
  PP_TEST_NEAR(value_at(&segmented, 0, 0), 0.0, 0, "no central segment");
  PP_TEST_NEAR(plane_sum(&segmented) * seg_pixel_area, 18 * segment_area, 18 * segment_tolerance,
               "18 segments: 18 × one hexagon's area");

  plane_reset(&segmented);
  pp_optic_spec some = make_spec("multi_hexagon_aperture");
  set_ok(&some, "rings", 2);
  set_ok(&some, "flattoflat", flattoflat_m);
  set_ok(&some, "gap", gap_m);
  double chosen[] = {0, 1, 10};
  PP_TEST_OK(pp_optic_spec_set_list(&some, "segmentlist", chosen, 3), "segmentlist");
  PP_TEST_OK(pp_optic_apply_pupil(&some, &segmented.grid, segmented.amplitude, NULL),
             "segmentlist {0, 1, 10}");
  PP_TEST_TRUE(count_regions(&segmented) == 3, "segmentlist of 3: 3 segments");
  PP_TEST_NEAR(value_at(&segmented, 0, spacing_m), 1.0, 0, "segment 1 present");
  PP_TEST_NEAR(value_at(&segmented, 0, -spacing_m), 0.0, 0, "segment 4 absent");
  pp_optic_spec_clear(&some);
  plane_free(&segmented);
}

/* ---- secondary obscuration ------------------------------------------------------------ */

/* ∫_0^w/2 sqrt(a² − y²) dy for the strip area calculations. */
static double half_chord_integral(double a, double half_width) {
  return 0.5 * (half_width * sqrt(a * a - half_width * half_width) + a * a * asin(half_width / a));
}

static void test_obscuration(void) {
  size_t n = 1024;
  double outer_m = 2.0, pixelscale_m = 2 * outer_m * 1.1 / n;
  test_plane plane = plane_new(n, pixelscale_m);
  double radius_m = 0.5, width_m = 0.1;
  int supports = 3;
  pp_optic_spec obscuration = make_spec("secondary_obscuration");
  set_ok(&obscuration, "secondary_radius", radius_m);
  set_ok(&obscuration, "n_supports", supports);
  set_ok(&obscuration, "support_width", width_m);
  PP_TEST_OK(pp_optic_apply_pupil(&obscuration, &plane.grid, plane.amplitude, NULL),
             "obscuration");
  /* Blocked area inside r < outer: the disk plus, per vane, the strip |y'| < w/2, x' > 0
   * between the disk and the outer circle (vanes meet only inside the disk here). */
  double blocked = 0;
  for (size_t iy = 0; iy < n; iy++)
    for (size_t ix = 0; ix < n; ix++) {
      double x = coordinate_m(&plane, ix), y = coordinate_m(&plane, iy);
      if (hypot(x, y) < outer_m && plane.amplitude[iy * n + ix] == 0) blocked += 1;
    }
  blocked *= pixelscale_m * pixelscale_m;
  double strip = 2 * (half_chord_integral(outer_m, width_m / 2) -
                      half_chord_integral(radius_m, width_m / 2));
  double expected = PP_PI * radius_m * radius_m + supports * strip;
  double edge_length = 2 * PP_PI * radius_m + 2 * PP_PI * outer_m + supports * 2 * outer_m;
  PP_TEST_NEAR(blocked, expected, edge_length * sqrt(2.0) * pixelscale_m,
               "blocked area = πr² + n·strip (tolerance: edges × √2·pixel)");
  /* Vane 0 points along +x (support_angle_offset 0), vanes at 120° steps. */
  PP_TEST_NEAR(value_at(&plane, 1.5, 0), 0.0, 0, "vane 0 along +x");
  PP_TEST_NEAR(value_at(&plane, -1.5, 0), 1.0, 0, "no vane along −x (3 vanes)");
  PP_TEST_NEAR(value_at(&plane, 1.5 * cos(2 * PP_PI / 3), 1.5 * sin(2 * PP_PI / 3)), 0.0, 0,
               "vane 1 at +120°");
  PP_TEST_NEAR(value_at(&plane, 0.0, 0.45), 0.0, 0, "inside the disk blocked");
  PP_TEST_NEAR(value_at(&plane, 0.0, 0.56), 1.0, 0, "just outside the disk clear");

  plane_reset(&plane);
  set_ok(&obscuration, "support_angle_offset", 90);
  PP_TEST_OK(pp_optic_apply_pupil(&obscuration, &plane.grid, plane.amplitude, NULL), "offset 90");
  PP_TEST_NEAR(value_at(&plane, 0, 1.5), 0.0, 0, "offset 90°: vane 0 along +y");
  PP_TEST_NEAR(value_at(&plane, 1.5, 0), 1.0, 0, "offset 90°: none along +x");
  plane_free(&plane);

  /* scalar_transmission multiplies the amplitude. */
  test_plane small = plane_new(8, 0.1);
  pp_optic_spec nd = make_spec("scalar_transmission");
  set_ok(&nd, "transmission", 0.25);
  PP_TEST_OK(pp_optic_apply_pupil(&nd, &small.grid, small.amplitude, NULL), "transmission");
  PP_TEST_NEAR(plane_sum(&small), 64 * 0.25, 1e-15, "scalar_transmission 0.25 on every pixel");
  plane_free(&small);
}

/* ---- Zernike ---------------------------------------------------------------------------- */

/* The OPD map of each Noll term j = 1..n_terms alone (coefficient 1 m) on the plane's grid;
 * returns the number of pixels with r ≤ radius. */
static size_t zernike_maps(test_plane *plane, double radius_m, int n_terms, double *maps) {
  size_t n_pixels = plane->grid.nx * plane->grid.ny;
  for (int j = 1; j <= n_terms; j++) {
    pp_optic_spec zernike = make_spec("zernike_wfe");
    set_ok(&zernike, "radius", radius_m);
    double coefficients[64] = {0};
    coefficients[j - 1] = 1.0;
    PP_TEST_OK(pp_optic_spec_set_list(&zernike, "coefficients", coefficients, (size_t)j), "list");
    plane_reset(plane);
    PP_TEST_OK(pp_optic_apply_pupil(&zernike, &plane->grid, plane->amplitude, plane->opd),
               "zernike_wfe apply");
    memcpy(maps + (size_t)(j - 1) * n_pixels, plane->opd, n_pixels * sizeof(double));
    pp_optic_spec_clear(&zernike);
  }
  size_t n_inside = 0;
  for (size_t iy = 0; iy < plane->grid.ny; iy++)
    for (size_t ix = 0; ix < plane->grid.nx; ix++) {
      double x = coordinate_m(plane, ix), y = coordinate_m(plane, iy);
      n_inside += sqrt(x * x + y * y) <= radius_m;
    }
  return n_inside;
}

/* Worst |RMS − 1| over all terms and worst |mean(Z_a·Z_b)| over a ≠ b, a, b ≥ 2. */
static void orthonormality(const double *maps, size_t n_pixels, size_t n_inside, int n_terms,
                           double *worst_rms, double *worst_cross) {
  *worst_rms = 0;
  *worst_cross = 0;
  for (int a = 0; a < n_terms; a++)
    for (int b = a; b < n_terms; b++) {
      double sum = 0;
      for (size_t i = 0; i < n_pixels; i++)
        sum += maps[(size_t)a * n_pixels + i] * maps[(size_t)b * n_pixels + i];
      double mean = sum / (double)n_inside;
      if (a == b) *worst_rms = fmax(*worst_rms, fabs(sqrt(mean) - 1));
      else if (a >= 1) *worst_cross = fmax(*worst_cross, fabs(mean));
    }
}

static void test_zernike(void) {
  /* Noll (1976) Table 1, j = 1…11: (n, m) with m < 0 for the sin terms (odd j). */
  const int noll[11][2] = {{0, 0},  {1, 1},  {1, -1}, {2, 0},  {2, -2}, {2, 2},
                           {3, -1}, {3, 1},  {3, -3}, {3, 3},  {4, 0}};
  int all_match = 1;
  for (int j = 1; j <= 11; j++) {
    int n, m;
    PP_TEST_OK(pp_zernike_noll_indices(j, &n, &m), "noll indices");
    if (n != noll[j - 1][0] || m != noll[j - 1][1]) {
      all_match = 0;
      printf("  j = %d gave (%d, %d), Noll has (%d, %d)\n", j, n, m, noll[j - 1][0],
             noll[j - 1][1]);
    }
  }
  PP_TEST_TRUE(all_match, "Noll j → (n, m) for j = 1..11 matches Noll's table");
  int n22, m22;
  PP_TEST_OK(pp_zernike_noll_indices(22, &n22, &m22), "j = 22");
  PP_TEST_TRUE(n22 == 6 && m22 == 0, "j = 22 is (6, 0), secondary spherical");
  int n_dummy, m_dummy;
  PP_TEST_TRUE(fails_input(pp_zernike_noll_indices(0, &n_dummy, &m_dummy)), "j = 0 refused");

  /* Values at known points: Z2 = 2ρ cos θ, Z4 = √3 (2ρ² − 1), Z11 = √5 (6ρ⁴ − 6ρ² + 1). */
  PP_TEST_NEAR(pp_zernike_noll_value(1, 1, 0.5, 0.0), 1.0, 1e-15, "Z2(ρ=0.5, θ=0) = 1");
  PP_TEST_NEAR(pp_zernike_noll_value(2, 0, 0.0, 0.0), -sqrt(3.0), 1e-15, "Z4 centre = −√3");
  PP_TEST_NEAR(pp_zernike_noll_value(4, 0, 1.0, 0.3), sqrt(5.0), 1e-14, "Z11 rim = √5");
  PP_TEST_NEAR(pp_zernike_noll_value(2, -2, 1.0, PP_PI / 4), sqrt(6.0), 1e-14,
               "Z5 = √6 ρ² sin 2θ at θ = 45°");
  PP_TEST_NEAR(pp_zernike_noll_value(2, 0, 1.01, 0.0), 0.0, 0, "zero outside the unit disk");

  /* Orthonormality on a 256-px disk: the OPD map of each term alone, j = 1..11. */
  enum { N_TERMS = 11 };
  size_t n = 256;
  double radius_m = 1.0;
  test_plane plane = plane_new(n, 2 * radius_m / n);
  double *maps = malloc(N_TERMS * n * n * sizeof *maps);
  size_t n_inside = zernike_maps(&plane, radius_m, N_TERMS, maps);
  PP_TEST_NEAR(plane_sum(&plane), (double)(n * n), 0, "zernike_wfe leaves the amplitude alone");
  double worst_rms, worst_cross;
  orthonormality(maps, n * n, n_inside, N_TERMS, &worst_rms, &worst_cross);
  printf("  Zernike on a 256-px disk: worst |RMS - 1| = %.2e, worst |cross term| = %.2e\n",
         worst_rms, worst_cross);
  /* The square grid has 4-fold symmetry, so the product of two terms whose angular parts
   * combine into cos 4θ (Z8·Z10: cos θ·cos 3θ = (cos 2θ + cos 4θ)/2) does not average out:
   * 1.26e-3 at 256 px, halving with each doubling of the sampling (checked at 512 px). */
  PP_TEST_NEAR(worst_rms, 0, 1e-3, "Z1..Z11 have RMS 1 over a 256-px disk (sampling error)");
  {
    /* Up to Z8 (tilt, defocus, astigmatism, coma: the terms of the POPPY reference cases)
     * no product has a cos 4θ part, and the 1e-3 holds at 256 px. */
    double low_rms, low_cross;
    orthonormality(maps, n * n, n_inside, 8, &low_rms, &low_cross);
    printf("  Z1..Z8 on a 256-px disk: worst |RMS - 1| = %.2e, worst |cross term| = %.2e\n",
           low_rms, low_cross);
    PP_TEST_NEAR(low_cross, 0, 1e-3, "cross terms of Z2..Z8 < 1e-3 on a 256-px disk");
  }
  PP_TEST_NEAR(worst_cross, 0, 2e-3, "cross terms of Z2..Z11 vanish on a 256-px disk");
  {
    size_t n_fine = 512;
    test_plane fine = plane_new(n_fine, 2 * radius_m / n_fine);
    double *fine_maps = malloc(N_TERMS * n_fine * n_fine * sizeof *fine_maps);
    size_t fine_inside = zernike_maps(&fine, radius_m, N_TERMS, fine_maps);
    double fine_rms, fine_cross;
    orthonormality(fine_maps, n_fine * n_fine, fine_inside, N_TERMS, &fine_rms, &fine_cross);
    printf("  Zernike on a 512-px disk: worst |RMS - 1| = %.2e, worst |cross term| = %.2e\n",
           fine_rms, fine_cross);
    PP_TEST_NEAR(fine_rms, 0, 5e-4, "Z1..Z11 have RMS 1 over a 512-px disk");
    PP_TEST_NEAR(fine_cross, 0, 1e-3, "cross terms of Z2..Z11 < 1e-3 on a 512-px disk");
    free(fine_maps);
    plane_free(&fine);
  }
  int zero_outside = 1;
  for (size_t iy = 0; iy < n; iy++)
    for (size_t ix = 0; ix < n; ix++)
      if (hypot(coordinate_m(&plane, ix), coordinate_m(&plane, iy)) > radius_m * (1 + 1e-12))
        for (int a = 0; a < N_TERMS; a++) zero_outside &= maps[(size_t)a * n * n + iy * n + ix] == 0;
  PP_TEST_TRUE(zero_outside, "OPD is 0 outside the radius");

  /* Tilt sign and scale: Z2 with 1e-7 m is +2e-7·x/R. */
  int tilt_ok = 1;
  for (size_t ix = 0; ix < n; ix += 17) {
    double x = coordinate_m(&plane, ix), y = coordinate_m(&plane, n / 2);
    if (hypot(x, y) < radius_m)
      tilt_ok &= fabs(1e-7 * maps[1 * n * n + (n / 2) * n + ix] - 2e-7 * x / radius_m) < 1e-20;
  }
  PP_TEST_TRUE(tilt_ok, "Z2 = 2·x/R: OPD rises towards +x");

  /* Coefficients add: the map of {0, 0, 0, 1e-7, 0, 5e-8} is the weighted sum. */
  pp_optic_spec mixed = make_spec("zernike_wfe");
  set_ok(&mixed, "radius", radius_m);
  double mix[] = {0, 0, 0, 1e-7, 0, 5e-8};
  PP_TEST_OK(pp_optic_spec_set_list(&mixed, "coefficients", mix, 6), "list");
  plane_reset(&plane);
  PP_TEST_OK(pp_optic_apply_pupil(&mixed, &plane.grid, plane.amplitude, plane.opd), "apply");
  double worst_sum = 0;
  for (size_t i = 0; i < n * n; i++)
    worst_sum = fmax(worst_sum, fabs(plane.opd[i] - (1e-7 * maps[3 * n * n + i] +
                                                     5e-8 * maps[5 * n * n + i])));
  PP_TEST_NEAR(worst_sum, 0, 1e-21, "terms add linearly, coefficients in metres");
  pp_status missing_opd = pp_optic_apply_pupil(&mixed, &plane.grid, plane.amplitude, NULL);
  PP_TEST_TRUE(missing_opd != PP_SUCCESS && pp_status_code(missing_opd) == PP_ERR_INTERNAL,
               "an OPD optic without an opd array is refused");
  pp_status_free(missing_opd);

  /* aperture_stop cuts the amplitude at the radius (hard edge). */
  set_ok(&mixed, "aperture_stop", 1);
  plane_reset(&plane);
  PP_TEST_OK(pp_optic_apply_pupil(&mixed, &plane.grid, plane.amplitude, plane.opd), "stop");
  PP_TEST_NEAR(plane_sum(&plane), (double)n_inside, 0, "aperture_stop keeps r ≤ radius only");

  /* Shift: +8 px in x moves the map 8 columns to +x. */
  set_ok(&mixed, "aperture_stop", 0);
  set_ok(&mixed, "shift_x", 8 * plane.grid.pixelscale_m);
  plane_reset(&plane);
  PP_TEST_OK(pp_optic_apply_pupil(&mixed, &plane.grid, plane.amplitude, plane.opd), "shifted");
  double worst_shift = 0;
  for (size_t iy = 0; iy < n; iy++)
    for (size_t ix = 8; ix < n; ix++) {
      double unshifted = 1e-7 * maps[3 * n * n + iy * n + ix - 8] +
                         5e-8 * maps[5 * n * n + iy * n + ix - 8];
      double x = coordinate_m(&plane, ix - 8), y = coordinate_m(&plane, iy);
      if (fabs(hypot(x, y) - radius_m) > 1e-9) /* away from the rim, where rounding decides */
        worst_shift = fmax(worst_shift, fabs(plane.opd[iy * n + ix] - unshifted));
    }
  PP_TEST_NEAR(worst_shift, 0, 1e-20, "shift_x moves the OPD map towards +x");
  pp_optic_spec_clear(&mixed);
  free(maps);
  plane_free(&plane);
}

int main(void) {
  test_table();
  test_overlap_area();
  test_circle();
  test_polygons();
  test_obscuration();
  test_zernike();
  return pp_test_finish();
}
