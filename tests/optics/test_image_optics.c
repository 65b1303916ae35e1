/* Unit tests of the image-plane optics (ideal_fqpm, band_limited_coronagraph, the occulters
 * and field stops) and of fqpm_fft_aligner: the table entries and their checks, each mask's
 * transmission at chosen points against closed forms (J1 and sin at tabulated arguments,
 * exact areas, POPPY's own pixel counts), and the aligner's half-pixel shift measured
 * through a plain DFT written here (direct sums, DESIGN.md's FFT convention: pupil → image is
 * the inverse DFT then fftshift). Serial, no MPI.
 *
 * The end-to-end agreement with POPPY's fqpm_coronagraph reference is in
 * test_image_optics_reference.c. */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pp_test.h"
#include "polypsf/optics.h"

/* ---- helpers ------------------------------------------------------------------------ */

static pp_optic_spec make_spec(const char *type_name) {
  pp_optic_spec spec;
  pp_optic_spec_init(&spec, pp_optic_type_find(type_name));
  return spec;
}

static void set_ok(pp_optic_spec *spec, const char *key, double value) {
  pp_status status = pp_optic_spec_set(spec, key, value);
  if (status != PP_SUCCESS) PP_TEST_OK(status, key);
}

static int fails_with(pp_status status, pp_error_code code) {
  int ok = status != PP_SUCCESS && pp_status_code(status) == code;
  pp_status_free(status);
  return ok;
}

/* A field of ones on an n × n image grid (caller frees). */
static double complex *ones(size_t n) {
  double complex *field = malloc(n * n * sizeof *field);
  for (size_t i = 0; i < n * n; i++) field[i] = 1.0;
  return field;
}

/* Applies an image optic to a field of ones; returns the field (caller frees). */
static double complex *sample(const pp_optic_spec *spec, const pp_image_grid *grid,
                              double wavelength_m) {
  double complex *field = malloc(grid->ny * grid->nx * sizeof *field);
  for (size_t i = 0; i < grid->ny * grid->nx; i++) field[i] = 1.0;
  PP_TEST_OK(pp_optic_apply_image(spec, grid, wavelength_m, field), spec->type->name);
  return field;
}

static double complex at(const double complex *field, const pp_image_grid *grid, size_t ix,
                         size_t iy) {
  return field[iy * grid->nx + ix];
}

static double real_sum(const double complex *field, size_t count) {
  double sum = 0;
  for (size_t i = 0; i < count; i++) sum += creal(field[i]);
  return sum;
}

/* Largest |imaginary part| (masks must be real). */
static double max_imag(const double complex *field, size_t count) {
  double worst = 0;
  for (size_t i = 0; i < count; i++) worst = fmax(worst, fabs(cimag(field[i])));
  return worst;
}

/* ---- a plain DFT with DESIGN.md's optical conventions (for the aligner tests) ----------- */

/* 1-D DFT of n values with stride, unnormalized, direct sum; roots[k] = exp(±2πi·k/n) sets
 * the sign. */
static void dft_1d(double complex *data, size_t n, size_t stride, const double complex *roots,
                   double complex *tmp) {
  for (size_t k = 0; k < n; k++) {
    double complex sum = 0;
    for (size_t j = 0; j < n; j++) sum += data[j * stride] * roots[(j * k) % n];
    tmp[k] = sum;
  }
  for (size_t k = 0; k < n; k++) data[k * stride] = tmp[k];
}

/* Swaps the halves of an even n × n array on both axes (fftshift = ifftshift for even n). */
static void shift_half(double complex *data, size_t n) {
  for (size_t y = 0; y < n / 2; y++)
    for (size_t x = 0; x < n; x++) {
      size_t a = y * n + x, b = (y + n / 2) * n + (x + n / 2) % n;
      double complex t = data[a];
      data[a] = data[b];
      data[b] = t;
    }
}

/* Pupil → image: inverse DFT then fftshift; image → pupil: ifftshift then forward DFT; both
 * unitary (DESIGN.md, POPPY ≥ 1.0 accel_math.fft_2d). */
static void propagate(double complex *data, size_t n, bool to_image) {
  double complex *tmp = malloc(n * sizeof *tmp), *roots = malloc(n * sizeof *roots);
  double sign = to_image ? +1.0 : -1.0;
  for (size_t k = 0; k < n; k++) roots[k] = cexp(sign * 2.0 * PP_PI * I * (double)k / (double)n);
  if (!to_image) shift_half(data, n);
  for (size_t y = 0; y < n; y++) dft_1d(data + y * n, n, 1, roots, tmp);
  for (size_t x = 0; x < n; x++) dft_1d(data + x, n, n, roots, tmp);
  for (size_t i = 0; i < n * n; i++) data[i] /= (double)n;
  if (to_image) shift_half(data, n);
  free(roots);
  free(tmp);
}

/* A circular pupil filling an n × n array (gray edges), as a complex field. */
static double complex *circle_pupil(size_t n) {
  pp_pupil_grid grid = {n, n, 1.0 / (double)n};
  double *amplitude = malloc(n * n * sizeof *amplitude);
  for (size_t i = 0; i < n * n; i++) amplitude[i] = 1.0;
  pp_optic_spec circle = make_spec("circular_aperture");
  set_ok(&circle, "radius", 0.5);
  PP_TEST_OK(pp_optic_apply_pupil(&circle, &grid, amplitude, NULL), "circular pupil");
  double complex *field = malloc(n * n * sizeof *field);
  for (size_t i = 0; i < n * n; i++) field[i] = amplitude[i];
  free(amplitude);
  return field;
}

/* Zero-pads n × n into the centre of padded × padded (offset (padded − n)/2, as POPPY). */
static double complex *pad(const double complex *field, size_t n, size_t padded) {
  double complex *out = calloc(padded * padded, sizeof *out);
  size_t offset = (padded - n) / 2;
  for (size_t y = 0; y < n; y++)
    for (size_t x = 0; x < n; x++) out[(y + offset) * padded + x + offset] = field[y * n + x];
  return out;
}

/* A circular pupil padded to padded × padded (caller frees). */
static double complex *padded_circle(size_t n, size_t padded) {
  double complex *pupil = circle_pupil(n);
  double complex *out = pad(pupil, n, padded);
  free(pupil);
  return out;
}

/* Intensity-weighted mean pixel index of an n × n array along x and y. */
static void centroid(const double complex *field, size_t n, double *cx, double *cy) {
  double sum = 0, sx = 0, sy = 0;
  for (size_t y = 0; y < n; y++)
    for (size_t x = 0; x < n; x++) {
      double w = creal(field[y * n + x]) * creal(field[y * n + x]) +
                 cimag(field[y * n + x]) * cimag(field[y * n + x]);
      sum += w;
      sx += w * (double)x;
      sy += w * (double)y;
    }
  *cx = sx / sum;
  *cy = sy / sum;
}

/* Largest |I(y, x) − I(m − y, m − x)| / max I: zero when the image is point-symmetric about
 * (m/2, m/2) (indices taken modulo n). */
static double asymmetry(const double complex *field, size_t n, size_t m) {
  double peak = 0, worst = 0;
  for (size_t i = 0; i < n * n; i++) peak = fmax(peak, cabs(field[i]) * cabs(field[i]));
  for (size_t y = 0; y < n; y++)
    for (size_t x = 0; x < n; x++) {
      size_t my = (m + n - y) % n, mx = (m + n - x) % n;
      double a = cabs(field[y * n + x]), b = cabs(field[my * n + mx]);
      worst = fmax(worst, fabs(a * a - b * b));
    }
  return worst / peak;
}

/* ---- the table ------------------------------------------------------------------------- */

static void test_table(void) {
  static const struct {
    const char *name, *poppy;
    pp_plane_kind plane;
  } expected[] = {
      {"fqpm_fft_aligner", "FQPM_FFT_aligner", PP_PLANE_PUPIL},
      {"ideal_fqpm", "IdealFQPM", PP_PLANE_IMAGE},
      {"band_limited_coronagraph", "BandLimitedCoronagraph", PP_PLANE_IMAGE},
      {"circular_occulter", "CircularOcculter", PP_PLANE_IMAGE},
      {"annular_field_stop", "AnnularFieldStop", PP_PLANE_IMAGE},
      {"bar_occulter", "BarOcculter", PP_PLANE_IMAGE},
      {"square_field_stop", "SquareFieldStop", PP_PLANE_IMAGE},
      {"rectangular_field_stop", "RectangularFieldStop", PP_PLANE_IMAGE},
  };
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    const pp_optic_type *type = pp_optic_type_find(expected[i].name);
    char what[160];
    snprintf(what, sizeof what, "%s is in the table as POPPY's %s, %s plane", expected[i].name,
             expected[i].poppy, expected[i].plane == PP_PLANE_IMAGE ? "image" : "pupil");
    PP_TEST_TRUE(type && strcmp(type->poppy_name, expected[i].poppy) == 0 &&
                     type->plane == expected[i].plane,
                 what);
    if (!type) continue;
    pp_optic_spec spec = make_spec(expected[i].name);
    snprintf(what, sizeof what, "%s: defaults validate, pupil diameter 0, image plane %s",
             expected[i].name, expected[i].plane == PP_PLANE_IMAGE ? "yes" : "no");
    pp_status status = pp_optic_spec_validate(&spec);
    PP_TEST_TRUE(status == PP_SUCCESS && pp_optic_pupil_diameter_m(&spec) == 0.0 &&
                     pp_optic_is_image_plane(&spec) == (expected[i].plane == PP_PLANE_IMAGE) &&
                     pp_optic_needs_fft_padding(&spec) == (i == 0) && !pp_optic_has_opd(&spec),
                 what);
    pp_status_free(status);
  }
  PP_TEST_TRUE(!pp_optic_is_image_plane(NULL) && !pp_optic_needs_fft_padding(NULL),
               "NULL specs are neither image-plane nor FFT-padded optics");

  /* POPPY's defaults (poppy/optics.py). */
  pp_optic_spec fqpm = make_spec("ideal_fqpm"), blc = make_spec("band_limited_coronagraph");
  pp_optic_spec occulter = make_spec("circular_occulter"), ring = make_spec("annular_field_stop");
  pp_optic_spec bar = make_spec("bar_occulter"), square = make_spec("square_field_stop");
  pp_optic_spec rect = make_spec("rectangular_field_stop"), aligner = make_spec("fqpm_fft_aligner");
  PP_TEST_NEAR(pp_optic_spec_get(&fqpm, "wavelength"), 10.65e-6, 0, "IdealFQPM wavelength 10.65 µm");
  PP_TEST_NEAR(pp_optic_spec_get(&blc, "sigma"), 1.0, 0, "BandLimitedCoronagraph sigma 1");
  PP_TEST_NEAR(pp_optic_spec_get(&blc, "kind"), 0, 0, "BandLimitedCoronagraph kind circular");
  PP_TEST_TRUE(isnan(pp_optic_spec_get(&blc, "wavelength")), "BandLimitedCoronagraph wavelength None");
  PP_TEST_NEAR(pp_optic_spec_get(&occulter, "radius"), 1.0, 0, "CircularOcculter radius 1 arcsec");
  PP_TEST_NEAR(pp_optic_spec_get(&ring, "radius_inner"), 0.0, 0, "AnnularFieldStop radius_inner 0");
  PP_TEST_NEAR(pp_optic_spec_get(&ring, "radius_outer"), 1.0, 0, "AnnularFieldStop radius_outer 1");
  PP_TEST_NEAR(pp_optic_spec_get(&bar, "width"), 1.0, 0, "BarOcculter width 1 arcsec");
  PP_TEST_NEAR(pp_optic_spec_get(&bar, "height"), 10.0, 0, "BarOcculter height 10 arcsec");
  PP_TEST_NEAR(pp_optic_spec_get(&square, "size"), 20.0, 0, "SquareFieldStop size 20 arcsec");
  PP_TEST_NEAR(pp_optic_spec_get(&rect, "width"), 0.5, 0, "RectangularFieldStop width 0.5");
  PP_TEST_NEAR(pp_optic_spec_get(&rect, "height"), 5.0, 0, "RectangularFieldStop height 5");
  PP_TEST_NEAR(pp_optic_spec_get(&aligner, "direction"), 0, 0, "FQPM_FFT_aligner forward");

  /* CHOICE words, in the order of their stored indices. */
  const pp_optic_param *direction = &aligner.type->params[pp_optic_param_index(aligner.type, "direction")];
  const pp_optic_param *kind = &blc.type->params[pp_optic_param_index(blc.type, "kind")];
  PP_TEST_TRUE(direction->kind == PP_PARAM_CHOICE && strcmp(direction->choices[0], "forward") == 0 &&
                   strcmp(direction->choices[1], "backward") == 0 && !direction->choices[2],
               "direction: forward | backward");
  PP_TEST_TRUE(kind->kind == PP_PARAM_CHOICE && strcmp(kind->choices[0], "circular") == 0 &&
                   strcmp(kind->choices[1], "linear") == 0 && !kind->choices[2],
               "kind: circular | linear");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&aligner, "direction", 2), PP_ERR_INPUT),
               "direction index 2 refused");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&aligner, "direction", 0.5), PP_ERR_INPUT),
               "direction 0.5 refused");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&blc, "kind", 2), PP_ERR_INPUT), "kind index 2 refused");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&blc, "sigma", 0), PP_ERR_INPUT), "sigma 0 refused");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&blc, "wavelength", -1e-6), PP_ERR_INPUT),
               "negative BLC wavelength refused");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&fqpm, "wavelength", 0), PP_ERR_INPUT),
               "FQPM wavelength 0 refused");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&fqpm, "shift_x", INFINITY), PP_ERR_INPUT),
               "infinite shift refused");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&occulter, "radius", 0), PP_ERR_INPUT),
               "occulter radius 0 refused");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&occulter, "rotation", 10), PP_ERR_INPUT),
               "a circle has no rotation key");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&ring, "radius_inner", -0.1), PP_ERR_INPUT),
               "negative radius_inner refused");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&bar, "width", -1), PP_ERR_INPUT), "bar width < 0 refused");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&square, "size", 0), PP_ERR_INPUT), "stop size 0 refused");
  PP_TEST_TRUE(fails_with(pp_optic_spec_set(&aligner, "shift_x", 1), PP_ERR_INPUT),
               "the aligner has no shift key");
  set_ok(&ring, "radius_inner", 2.0);
  PP_TEST_TRUE(fails_with(pp_optic_spec_validate(&ring), PP_ERR_INPUT),
               "radius_inner ≥ radius_outer refused");
  set_ok(&ring, "radius_outer", 0.0);
  PP_TEST_OK(pp_optic_spec_validate(&ring), "radius_outer 0 (no outer edge) with radius_inner 2");
  set_ok(&aligner, "direction", 1);
  PP_TEST_NEAR(pp_optic_spec_get(&aligner, "direction"), 1, 0, "direction backward stored as 1");

  /* The apply functions refuse what is not theirs. */
  pp_image_grid grid = {.ny = 4, .nx = 4, .pixelscale_arcsec = 0.1, .centering = PP_IMAGE_CENTER_ARRAY};
  pp_pupil_grid pupil = {4, 4, 0.1};
  double complex field[16];
  double amplitude[16];
  for (int i = 0; i < 16; i++) field[i] = amplitude[i] = 1.0;
  pp_optic_spec circle = make_spec("circular_aperture");
  PP_TEST_TRUE(fails_with(pp_optic_apply_pupil(&aligner, &pupil, amplitude, NULL), PP_ERR_INPUT),
               "pp_optic_apply_pupil refuses the aligner (it needs the FFT size)");
  PP_TEST_TRUE(fails_with(pp_optic_apply_pupil(&fqpm, &pupil, amplitude, NULL), PP_ERR_INTERNAL),
               "pp_optic_apply_pupil refuses an image-plane optic");
  PP_TEST_TRUE(fails_with(pp_optic_apply_image(&circle, &grid, 1e-6, field), PP_ERR_INTERNAL),
               "pp_optic_apply_image refuses a pupil optic");
  PP_TEST_TRUE(fails_with(pp_optic_apply_image(&aligner, &grid, 1e-6, field), PP_ERR_INTERNAL),
               "pp_optic_apply_image refuses the aligner");
  PP_TEST_TRUE(fails_with(pp_optic_apply_pupil_fft(&circle, &pupil, 8, 8, field), PP_ERR_INTERNAL),
               "pp_optic_apply_pupil_fft refuses other optics");
  PP_TEST_TRUE(fails_with(pp_optic_apply_pupil_fft(&aligner, &pupil, 0, 8, field), PP_ERR_INTERNAL),
               "pp_optic_apply_pupil_fft refuses an FFT size of 0");
  PP_TEST_TRUE(fails_with(pp_optic_apply_image(&fqpm, &grid, 0.0, field), PP_ERR_INTERNAL),
               "pp_optic_apply_image refuses λ = 0");
  pp_image_grid bad = {.ny = 4, .nx = 4, .pixelscale_arcsec = 0.0, .centering = PP_IMAGE_CENTER_ARRAY};
  PP_TEST_TRUE(fails_with(pp_optic_apply_image(&fqpm, &bad, 1e-6, field), PP_ERR_INTERNAL),
               "pp_optic_apply_image refuses a pixel scale of 0");
  PP_TEST_TRUE(fails_with(pp_optic_apply_image(&fqpm, &grid, 1e-6, NULL), PP_ERR_INTERNAL),
               "pp_optic_apply_image refuses a NULL field");
  int untouched = 1;
  for (int i = 0; i < 16; i++) untouched = untouched && field[i] == 1.0 && amplitude[i] == 1.0;
  PP_TEST_TRUE(untouched, "refused calls leave the arrays untouched");
}

/* ---- ideal_fqpm ------------------------------------------------------------------------ */

static void test_fqpm(void) {
  const double design_m = 2e-6;
  pp_optic_spec fqpm = make_spec("ideal_fqpm");
  set_ok(&fqpm, "wavelength", design_m);

  /* 8 × 8, origin between the four central pixels: no pixel on an axis. */
  pp_image_grid grid = {.ny = 8, .nx = 8, .pixelscale_arcsec = 0.1, .centering = PP_IMAGE_CENTER_ARRAY};
  double complex *field = sample(&fqpm, &grid, design_m);
  double worst_modulus = 0;
  for (size_t i = 0; i < 64; i++) worst_modulus = fmax(worst_modulus, fabs(cabs(field[i]) - 1.0));
  PP_TEST_NEAR(worst_modulus, 0, 1e-15, "FQPM: |T| = 1 everywhere");
  /* ix, iy = 6 → +0.25 arcsec; 1 → −0.45 arcsec. */
  PP_TEST_NEAR(carg(at(field, &grid, 6, 6)), 0, 1e-15, "FQPM: x > 0, y > 0 quadrant: phase 0");
  PP_TEST_NEAR(carg(at(field, &grid, 1, 1)), 0, 1e-15, "FQPM: x < 0, y < 0 quadrant: phase 0");
  PP_TEST_NEAR(fabs(carg(at(field, &grid, 1, 6))), PP_PI, 1e-15,
               "FQPM: x < 0, y > 0 quadrant: phase π at the design wavelength");
  PP_TEST_NEAR(fabs(carg(at(field, &grid, 6, 1))), PP_PI, 1e-15,
               "FQPM: x > 0, y < 0 quadrant: phase π at the design wavelength");
  double complex sum = 0;
  for (size_t i = 0; i < 64; i++) sum += field[i];
  PP_TEST_NEAR(cabs(sum), 0, 1e-13, "FQPM: the four quadrants cancel (sum of T over the grid)");
  free(field);

  /* Chromatic: phase π·λ0/λ (POPPY: a fixed OPD of λ0/2). */
  field = sample(&fqpm, &grid, 2 * design_m);
  PP_TEST_NEAR(carg(at(field, &grid, 1, 6)), PP_PI / 2, 1e-15, "FQPM at 2·λ0: phase π/2");
  PP_TEST_NEAR(carg(at(field, &grid, 6, 6)), 0, 1e-15, "FQPM at 2·λ0: phase 0 stays 0");
  free(field);
  field = sample(&fqpm, &grid, 0.8 * design_m);
  PP_TEST_NEAR(carg(at(field, &grid, 6, 1)), remainder(PP_PI / 0.8, 2 * PP_PI), 1e-14,
               "FQPM at 0.8·λ0: phase π/0.8 (mod 2π)");
  free(field);

  /* Centred on a pixel (FFT plane without the aligner): the row and column through the
   * origin have sign 0, hence a quarter wave, as numpy's sign gives in POPPY. */
  pp_image_grid on_pixel = {.ny = 8, .nx = 8, .pixelscale_arcsec = 0.1, .centering = PP_IMAGE_CENTER_PIXEL};
  field = sample(&fqpm, &on_pixel, design_m);
  PP_TEST_NEAR(carg(at(field, &on_pixel, 4, 4)), PP_PI / 2, 1e-15,
               "FQPM, pixel-centred grid: the origin pixel gets a quarter wave (π/2)");
  PP_TEST_NEAR(carg(at(field, &on_pixel, 4, 1)), PP_PI / 2, 1e-15,
               "FQPM, pixel-centred grid: x = 0 column gets π/2");
  PP_TEST_NEAR(carg(at(field, &on_pixel, 7, 4)), PP_PI / 2, 1e-15,
               "FQPM, pixel-centred grid: y = 0 row gets π/2");
  PP_TEST_NEAR(carg(at(field, &on_pixel, 5, 5)), 0, 1e-15,
               "FQPM, pixel-centred grid: (+0.1, +0.1) arcsec phase 0");
  PP_TEST_NEAR(fabs(carg(at(field, &on_pixel, 3, 5))), PP_PI, 1e-15,
               "FQPM, pixel-centred grid: (−0.1, +0.1) arcsec phase π");
  free(field);

  /* shift_x 0.3 arcsec: the pixel at x = +0.25 now lies left of the mask's centre. */
  set_ok(&fqpm, "shift_x", 0.3);
  field = sample(&fqpm, &grid, design_m);
  PP_TEST_NEAR(fabs(carg(at(field, &grid, 6, 6))), PP_PI, 1e-15,
               "FQPM shifted +0.3 arcsec in x: (0.25, 0.25) is now in a π quadrant");
  PP_TEST_NEAR(carg(at(field, &grid, 7, 6)), 0, 1e-15,
               "FQPM shifted +0.3 arcsec in x: (0.35, 0.25) stays at phase 0");
  free(field);

  /* rotation 90°: the quadrant pattern turns by 90°, which swaps the phases. */
  set_ok(&fqpm, "shift_x", 0.0);
  set_ok(&fqpm, "rotation", 90.0);
  field = sample(&fqpm, &grid, design_m);
  PP_TEST_NEAR(fabs(carg(at(field, &grid, 6, 6))), PP_PI, 1e-15,
               "FQPM turned 90°: the (+, +) quadrant gets π");
  PP_TEST_NEAR(carg(at(field, &grid, 1, 6)), 0, 1e-15, "FQPM turned 90°: (−, +) gets 0");
  free(field);
}

/* ---- band_limited_coronagraph ---------------------------------------------------------- */

static void test_band_limited(void) {
  /* Tabulated (Abramowitz & Stegun 9.1, 4.3): J1(1), J1(2), sin(1.5). */
  const double j1_of_1 = 0.44005058574493351596, j1_of_2 = 0.57672480775687338720;
  const double sin_of_1_5 = 0.99749498660405443094;

  pp_optic_spec blc = make_spec("band_limited_coronagraph");
  set_ok(&blc, "sigma", 2.0);
  /* 11 × 11, 0.1 arcsec: pixel 5 is the origin exactly. */
  pp_image_grid grid = {.ny = 11, .nx = 11, .pixelscale_arcsec = 0.1, .centering = PP_IMAGE_CENTER_ARRAY};
  double complex *field = sample(&blc, &grid, 1e-6);
  PP_TEST_TRUE(at(field, &grid, 5, 5) == 0.0, "circular BLC: exactly 0 at the centre");
  /* (x, y) = (0.3, 0.4) and (−0.4, −0.3): r = 0.5, σr = 1. */
  double want = 1 - (2 * j1_of_1) * (2 * j1_of_1);
  PP_TEST_NEAR(creal(at(field, &grid, 8, 9)), want, 1e-13, "circular BLC at σr = 1: 1 − (2·J1(1))²");
  PP_TEST_NEAR(creal(at(field, &grid, 1, 2)), want, 1e-13, "circular BLC: the same at (−0.4, −0.3)");
  PP_TEST_NEAR(max_imag(field, 121), 0, 0, "circular BLC: real transmission");
  free(field);
  set_ok(&blc, "sigma", 4.0);
  field = sample(&blc, &grid, 1e-6);
  want = 1 - j1_of_2 * j1_of_2;
  PP_TEST_NEAR(creal(at(field, &grid, 8, 9)), want, 1e-13, "circular BLC at σr = 2: 1 − J1(2)²");
  free(field);

  /* Far from the centre it is clear: (2·J1(s)/s)² ≤ 8/(π·s³) for large s. */
  set_ok(&blc, "sigma", 20.0);
  field = sample(&blc, &grid, 1e-6);
  double t = creal(at(field, &grid, 0, 5)); /* r = 0.5, σr = 10 */
  PP_TEST_TRUE(t < 1.0 && t > 1.0 - 8.0 / (PP_PI * 1000.0),
               "circular BLC at σr = 10: within 8/(π·(σr)³) below 1");
  free(field);

  /* Even grid: no pixel at r = 0 and the four central pixels equal (POPPY's test). */
  set_ok(&blc, "sigma", 1.0);
  pp_image_grid even = {.ny = 10, .nx = 10, .pixelscale_arcsec = 1.0, .centering = PP_IMAGE_CENTER_ARRAY};
  field = sample(&blc, &even, 1e-6);
  PP_TEST_TRUE(at(field, &even, 5, 5) != 0.0 && at(field, &even, 4, 4) == at(field, &even, 5, 5) &&
                   at(field, &even, 4, 5) == at(field, &even, 5, 5) &&
                   at(field, &even, 5, 4) == at(field, &even, 5, 5),
               "circular BLC on an even grid: the four central pixels are equal and nonzero");
  free(field);

  /* Linear: depends on y alone; 0 on the x axis. */
  pp_optic_spec linear = make_spec("band_limited_coronagraph");
  set_ok(&linear, "kind", 1);
  set_ok(&linear, "sigma", 3.0);
  field = sample(&linear, &grid, 1e-6);
  PP_TEST_TRUE(at(field, &grid, 0, 5) == 0.0 && at(field, &grid, 9, 5) == 0.0,
               "linear BLC: 0 all along y = 0");
  /* y = 0.5: σ|y| = 1.5. */
  want = 1 - (sin_of_1_5 / 1.5) * (sin_of_1_5 / 1.5);
  PP_TEST_NEAR(creal(at(field, &grid, 2, 10)), want, 1e-13, "linear BLC at σy = 1.5: 1 − (sin 1.5/1.5)²");
  PP_TEST_NEAR(creal(at(field, &grid, 9, 0)), want, 1e-13, "linear BLC at y = −0.5: the same");
  free(field);
  /* Turned by 90°: now a function of x (the rotated path, pixel by pixel). */
  set_ok(&linear, "rotation", 90.0);
  field = sample(&linear, &grid, 1e-6);
  PP_TEST_NEAR(creal(at(field, &grid, 10, 3)), want, 1e-13, "linear BLC turned 90°: σ|x| = 1.5 at x = 0.5");
  PP_TEST_NEAR(creal(at(field, &grid, 5, 0)), 0.0, 1e-15, "linear BLC turned 90°: 0 on the y axis");
  free(field);
  /* shift_y moves the band (unrotated: the per-row path): the zero row is now y = 0.2. */
  set_ok(&linear, "rotation", 0.0);
  set_ok(&linear, "shift_y", 0.2);
  field = sample(&linear, &grid, 1e-6);
  PP_TEST_TRUE(at(field, &grid, 3, 7) == 0.0 && at(field, &grid, 10, 7) == 0.0,
               "linear BLC shifted +0.2 arcsec in y: 0 along y = 0.2");
  PP_TEST_NEAR(creal(at(field, &grid, 3, 2)), want, 1e-13,
               "linear BLC shifted: σ|y − 0.2| = 1.5 at y = −0.3");
  free(field);
}

/* ---- occulters and field stops ---------------------------------------------------------- */

static void test_stops(void) {
  const double scale = 0.1; /* arcsec per pixel */
  pp_image_grid grid = {.ny = 40, .nx = 40, .pixelscale_arcsec = scale, .centering = PP_IMAGE_CENTER_ARRAY};
  size_t count = grid.nx * grid.ny;

  /* circular_occulter: the blocked light is exactly the disk's area (gray pixels are exact
   * areas), 0 well inside, 1 well outside. */
  pp_optic_spec occulter = make_spec("circular_occulter");
  set_ok(&occulter, "radius", 0.73);
  double complex *field = sample(&occulter, &grid, 1e-6);
  double radius_px = 0.73 / scale;
  PP_TEST_NEAR((double)count - real_sum(field, count), PP_PI * radius_px * radius_px, 1e-9,
               "circular_occulter: Σ(1 − T) = π·(r/pixel)² (exact gray edges)");
  PP_TEST_TRUE(at(field, &grid, 20, 20) == 0.0 && at(field, &grid, 24, 22) == 0.0,
               "circular_occulter: 0 inside the radius (r = 0.07, 0.47 arcsec)");
  PP_TEST_TRUE(at(field, &grid, 29, 20) == 1.0 && at(field, &grid, 0, 0) == 1.0,
               "circular_occulter: 1 outside (r = 0.85 arcsec and the corner)");
  double edge = creal(at(field, &grid, 27, 20)); /* r = 0.75 arcsec: on the rim */
  PP_TEST_TRUE(edge > 0.0 && edge < 1.0, "circular_occulter: gray on the rim");
  PP_TEST_NEAR(max_imag(field, count), 0, 0, "circular_occulter: real transmission");
  free(field);

  /* Shifted: same area, centre moved by the shift (intensity-weighted mean of 1 − T). */
  set_ok(&occulter, "shift_x", 0.5);
  set_ok(&occulter, "shift_y", -0.3);
  field = sample(&occulter, &grid, 1e-6);
  double sum = 0, sx = 0, sy = 0;
  for (size_t iy = 0; iy < grid.ny; iy++)
    for (size_t ix = 0; ix < grid.nx; ix++) {
      double w = 1.0 - creal(at(field, &grid, ix, iy));
      sum += w;
      sx += w * ((double)ix - 19.5) * scale;
      sy += w * ((double)iy - 19.5) * scale;
    }
  PP_TEST_NEAR(sum, PP_PI * radius_px * radius_px, 1e-9, "shifted occulter: same blocked area");
  PP_TEST_NEAR(sx / sum, 0.5, 1e-12, "shifted occulter: centre at x = +0.5 arcsec");
  PP_TEST_NEAR(sy / sum, -0.3, 1e-12, "shifted occulter: centre at y = −0.3 arcsec");
  free(field);

  /* annular_field_stop: the clear ring's area; 1 in the ring, 0 inside and outside. */
  pp_optic_spec ring = make_spec("annular_field_stop");
  set_ok(&ring, "radius_inner", 0.42);
  set_ok(&ring, "radius_outer", 1.37);
  field = sample(&ring, &grid, 1e-6);
  double inner_px = 4.2, outer_px = 13.7;
  PP_TEST_NEAR(real_sum(field, count), PP_PI * (outer_px * outer_px - inner_px * inner_px), 1e-9,
               "annular_field_stop: ΣT = π·(r_out² − r_in²) in pixels");
  PP_TEST_TRUE(at(field, &grid, 20, 20) == 0.0, "annular_field_stop: 0 at the centre");
  PP_TEST_TRUE(at(field, &grid, 28, 20) == 1.0, "annular_field_stop: 1 in the ring (r = 0.85)");
  PP_TEST_TRUE(at(field, &grid, 39, 20) == 0.0 && at(field, &grid, 0, 0) == 0.0,
               "annular_field_stop: 0 beyond radius_outer");
  free(field);
  /* The defaults: a clear disk of 1 arcsec (a circular field stop). */
  pp_optic_spec disk = make_spec("annular_field_stop");
  field = sample(&disk, &grid, 1e-6);
  PP_TEST_NEAR(real_sum(field, count), PP_PI * 100.0, 1e-9,
               "annular_field_stop defaults: a clear disk of 1 arcsec radius");
  PP_TEST_TRUE(at(field, &grid, 20, 20) == 1.0 && at(field, &grid, 39, 39) == 0.0,
               "circular field stop: 1 inside, 0 outside");
  free(field);

  /* POPPY's own counts (poppy/tests/test_optics.py): 100 × 100 pixels of 0.1 arcsec. */
  pp_image_grid big = {.ny = 100, .nx = 100, .pixelscale_arcsec = 0.1, .centering = PP_IMAGE_CENTER_ARRAY};
  pp_optic_spec bar = make_spec("bar_occulter");
  field = sample(&bar, &big, 1e-6);
  PP_TEST_NEAR(real_sum(field, 10000), 9000, 0, "bar_occulter width 1: 9000 of 10000 pixels clear");
  PP_TEST_TRUE(at(field, &big, 45, 10) == 0.0 && at(field, &big, 54, 90) == 0.0,
               "bar_occulter: 0 within width/2 of the y axis (x = ±0.45)");
  PP_TEST_TRUE(at(field, &big, 44, 50) == 1.0 && at(field, &big, 55, 50) == 1.0,
               "bar_occulter: 1 beyond width/2 (x = ±0.55)");
  free(field);
  set_ok(&bar, "height", 2.0);
  field = sample(&bar, &big, 1e-6);
  PP_TEST_NEAR(real_sum(field, 10000), 10000 - 10 * 20, 0, "bar_occulter 1 × 2 arcsec: 200 pixels blocked");
  PP_TEST_TRUE(at(field, &big, 50, 70) == 1.0, "bar_occulter: clear beyond height/2");
  free(field);

  pp_optic_spec square = make_spec("square_field_stop");
  set_ok(&square, "size", 2.0);
  field = sample(&square, &big, 1e-6);
  PP_TEST_NEAR(real_sum(field, 10000), 400, 0, "square_field_stop size 2: 400 pixels clear");
  PP_TEST_TRUE(at(field, &big, 50, 50) == 1.0 && at(field, &big, 40, 59) == 1.0,
               "square_field_stop: 1 inside");
  PP_TEST_TRUE(at(field, &big, 39, 50) == 0.0 && at(field, &big, 50, 60) == 0.0,
               "square_field_stop: 0 outside");
  free(field);

  pp_optic_spec rect = make_spec("rectangular_field_stop");
  set_ok(&rect, "width", 1.0);
  set_ok(&rect, "height", 10.0);
  field = sample(&rect, &big, 1e-6);
  PP_TEST_NEAR(real_sum(field, 10000), 1000, 0, "rectangular_field_stop 1 × 10: 1000 pixels clear");
  /* POPPY's test_rotations: 10 × 1 turned by 90° is 1 × 10. */
  pp_optic_spec turned = make_spec("rectangular_field_stop");
  set_ok(&turned, "width", 10.0);
  set_ok(&turned, "height", 1.0);
  set_ok(&turned, "rotation", 90.0);
  double complex *turned_field = sample(&turned, &big, 1e-6);
  int same = 1;
  for (size_t i = 0; i < 10000; i++) same = same && turned_field[i] == field[i];
  PP_TEST_TRUE(same, "rectangular_field_stop 10 × 1 turned 90° equals 1 × 10");
  free(turned_field);
  free(field);

  /* A pixel-centred grid moves the masks by half a pixel: the square's 2 arcsec now spans
   * indices 40 … 60 (edges included), 21 × 21 pixels. */
  pp_image_grid on_pixel = {.ny = 100, .nx = 100, .pixelscale_arcsec = 0.1, .centering = PP_IMAGE_CENTER_PIXEL};
  field = sample(&square, &on_pixel, 1e-6);
  PP_TEST_NEAR(real_sum(field, 10000), 21 * 21, 0,
               "square_field_stop on a pixel-centred grid: 21 × 21 pixels (edges at ±1.0 included)");
  free(field);
}

/* ---- fqpm_fft_aligner -------------------------------------------------------------------- */

static void test_aligner(void) {
  const size_t n = 16, padded = 32; /* fft_oversample 2 */
  pp_optic_spec forward = make_spec("fqpm_fft_aligner"), backward = make_spec("fqpm_fft_aligner");
  set_ok(&backward, "direction", 1);

  /* The phase ramp itself: π/fft_n per pixel, centred on the array, backward undoes forward. */
  pp_pupil_grid small = {n, n, 0.5};
  double complex *field = ones(n);
  PP_TEST_OK(pp_optic_apply_pupil_fft(&forward, &small, padded, padded, field), "forward aligner");
  PP_TEST_NEAR(carg(field[0]), -PP_PI * 7.5 / 32 * 2, 1e-15,
               "forward aligner: phase π·((0 − 7.5)/32 + (0 − 7.5)/32) at pixel (0, 0)");
  PP_TEST_NEAR(carg(field[n * n - 1]), PP_PI * 7.5 / 32 * 2, 1e-15,
               "forward aligner: the opposite phase at pixel (15, 15)");
  PP_TEST_NEAR(carg(field[3]), PP_PI * (-4.5 - 7.5) / 32, 1e-15,
               "forward aligner: phase π·(−4.5 − 7.5)/32 at pixel (x 3, y 0)");
  PP_TEST_OK(pp_optic_apply_pupil_fft(&backward, &small, padded, padded, field), "backward aligner");
  double worst = 0;
  for (size_t i = 0; i < n * n; i++) worst = fmax(worst, cabs(field[i] - 1.0));
  PP_TEST_NEAR(worst, 0, 1e-15, "backward aligner undoes forward");
  free(field);

  /* Applying before or after the padding gives the same field (the ramp is centred on the
   * array and the padding keeps the centre). */
  double complex *pupil = circle_pupil(n);
  double complex *pad_then_tilt = pad(pupil, n, padded);
  pp_pupil_grid big = {padded, padded, 0.5};
  PP_TEST_OK(pp_optic_apply_pupil_fft(&forward, &big, padded, padded, pad_then_tilt), "tilt padded");
  PP_TEST_OK(pp_optic_apply_pupil_fft(&forward, &small, padded, padded, pupil), "tilt unpadded");
  double complex *tilt_then_pad = pad(pupil, n, padded);
  worst = 0;
  for (size_t i = 0; i < padded * padded; i++)
    worst = fmax(worst, cabs(tilt_then_pad[i] - pad_then_tilt[i]));
  PP_TEST_NEAR(worst, 0, 1e-15, "aligner: tilting before or after the padding agrees");

  /* Through the FFT: the PSF's symmetry centre moves from pixel N/2 (16) to (N − 1)/2
   * (15.5), the corner between the four central pixels. */
  double complex *image = tilt_then_pad;
  propagate(image, padded, true);
  double cx, cy;
  centroid(image, padded, &cx, &cy);
  double about_corner = asymmetry(image, padded, padded - 1), about_pixel = asymmetry(image, padded, padded);
  printf("aligned PSF: centroid (%.15g, %.15g); asymmetry about 15.5: %.3g, about 16: %.3g\n", cx,
         cy, about_corner, about_pixel);
  PP_TEST_NEAR(about_corner, 0, 1e-13, "forward aligner + FFT: PSF symmetric about (N−1)/2 = 15.5");
  PP_TEST_TRUE(about_pixel > 1e-2, "forward aligner + FFT: PSF no longer symmetric about N/2");
  PP_TEST_NEAR(cx, 15.5, 1e-12, "forward aligner + FFT: centroid x = 15.5 (moved −½ pixel)");
  PP_TEST_NEAR(cy, 15.5, 1e-12, "forward aligner + FFT: centroid y = 15.5 (moved −½ pixel)");
  double peak = 0;
  size_t peak_at = 0;
  for (size_t i = 0; i < padded * padded; i++)
    if (cabs(image[i]) > peak) peak = cabs(image[i]), peak_at = i;
  size_t peak_x = peak_at % padded, peak_y = peak_at / padded;
  PP_TEST_TRUE((peak_x == 15 || peak_x == 16) && (peak_y == 15 || peak_y == 16),
               "forward aligner + FFT: the peak is one of the four central pixels");
  double centre_spread = 0, centre_value = cabs(image[15 * padded + 15]);
  for (size_t y = 15; y <= 16; y++)
    for (size_t x = 15; x <= 16; x++)
      centre_spread = fmax(centre_spread, fabs(cabs(image[y * padded + x]) - centre_value));
  PP_TEST_NEAR(centre_spread / centre_value, 0, 1e-14,
               "forward aligner + FFT: the four central pixels are equally bright");

  double complex *plain = padded_circle(n, padded);
  propagate(plain, padded, true);
  centroid(plain, padded, &cx, &cy);
  printf("plain PSF: centroid (%.15g, %.15g); asymmetry about 16: %.3g\n", cx, cy,
         asymmetry(plain, padded, padded));
  PP_TEST_NEAR(asymmetry(plain, padded, padded), 0, 1e-13,
               "no aligner: the FFT PSF is symmetric about pixel N/2 = 16");
  free(plain);

  /* Back to the pupil and the backward aligner: the original padded pupil again. */
  propagate(image, padded, false);
  PP_TEST_OK(pp_optic_apply_pupil_fft(&backward, &big, padded, padded, image), "backward, padded");
  double complex *original = padded_circle(n, padded);
  worst = 0;
  for (size_t i = 0; i < padded * padded; i++) worst = fmax(worst, cabs(image[i] - original[i]));
  PP_TEST_NEAR(worst, 0, 1e-13, "FFT there and back with forward/backward aligners: the pupil again");
  free(original);
  free(image);
  free(pad_then_tilt);
  free(pupil);
}

/* Lyot-plane light of an FQPM coronagraph (circular pupil filling n × n, FFT padding
 * ×4, Lyot stop of 0.9 the pupil radius), relative to the same without the mask. */
static double fqpm_leak(bool aligners, pp_image_centering centering) {
  const size_t n = 32, padded = 128;
  const double wavelength_m = 1e-6, pupil_diameter_m = 1.0;
  pp_optic_spec fqpm = make_spec("ideal_fqpm"), forward = make_spec("fqpm_fft_aligner"),
                backward = make_spec("fqpm_fft_aligner");
  set_ok(&fqpm, "wavelength", wavelength_m);
  set_ok(&backward, "direction", 1);
  pp_pupil_grid small = {n, n, pupil_diameter_m / n}, big = {padded, padded, pupil_diameter_m / n};
  pp_image_grid image_grid = {
      .ny = padded, .nx = padded,
      .pixelscale_arcsec = wavelength_m / (pupil_diameter_m * 4) * PP_ARCSEC_PER_RADIAN,
      .centering = centering};
  double lyot_light[2];
  for (int with_mask = 0; with_mask < 2; with_mask++) {
    double complex *pupil = circle_pupil(n);
    if (aligners) PP_TEST_OK(pp_optic_apply_pupil_fft(&forward, &small, padded, padded, pupil), "fwd");
    double complex *field = pad(pupil, n, padded);
    propagate(field, padded, true);
    if (with_mask) PP_TEST_OK(pp_optic_apply_image(&fqpm, &image_grid, wavelength_m, field), "fqpm");
    propagate(field, padded, false);
    if (aligners) PP_TEST_OK(pp_optic_apply_pupil_fft(&backward, &big, padded, padded, field), "bwd");
    double light = 0;
    for (size_t y = 0; y < padded; y++)
      for (size_t x = 0; x < padded; x++) {
        double px = ((double)x - (padded - 1) / 2.0) / n, py = ((double)y - (padded - 1) / 2.0) / n;
        if (sqrt(px * px + py * py) < 0.9 * 0.5)
          light += creal(field[y * padded + x]) * creal(field[y * padded + x]) +
                   cimag(field[y * padded + x]) * cimag(field[y * padded + x]);
      }
    lyot_light[with_mask] = light;
    free(field);
    free(pupil);
  }
  return lyot_light[1] / lyot_light[0];
}

static void test_fqpm_null(void) {
  double aligned = fqpm_leak(true, PP_IMAGE_CENTER_ARRAY);
  double plain = fqpm_leak(false, PP_IMAGE_CENTER_PIXEL);
  double mismatched = fqpm_leak(true, PP_IMAGE_CENTER_PIXEL);
  double wrong_grid = fqpm_leak(false, PP_IMAGE_CENTER_ARRAY);
  printf("FQPM Lyot-plane leak: aligners + array-centred grid %.3g, no aligners + pixel-centred "
         "%.3g, aligners + pixel-centred %.3g, no aligners + array-centred %.3g\n",
         aligned, plain, mismatched, wrong_grid);
  /* Measured: 9.7e-4 (the residual of a 32-pixel gray-edged pupil), 0.157, 0.172, 0.027. */
  PP_TEST_TRUE(aligned < 2e-3, "FQPM with aligners, origin between pixels: deep null (< 2e-3)");
  PP_TEST_TRUE(plain > 20 * aligned, "FQPM without aligners (origin on a pixel) leaks > 20× more");
  PP_TEST_TRUE(mismatched > 20 * aligned && wrong_grid > 20 * aligned,
               "FQPM centred half a pixel off the PSF leaks > 20× more");
}

/* A slab of rows (a rank group's FFTW-MPI rows: pp_image_grid's row0/nrows) gets exactly the
 * rows of the full plane, for every image optic, shifted and rotated, both centerings; rows
 * outside the plane are refused. */
static void test_slab_rows(void) {
  const char *types[] = {"ideal_fqpm", "band_limited_coronagraph", "band_limited_coronagraph",
                         "annular_field_stop", "bar_occulter", "square_field_stop"};
  pp_image_grid full = {.ny = 14, .nx = 12, .pixelscale_arcsec = 0.1};
  for (size_t k = 0; k < sizeof types / sizeof *types; k++) {
    pp_optic_spec spec = make_spec(types[k]);
    if (k == 0) set_ok(&spec, "wavelength", 1.5e-6);
    if (k == 1) set_ok(&spec, "sigma", 3.0);
    if (k == 2) {
      set_ok(&spec, "kind", 1);
      set_ok(&spec, "sigma", 3.0);
    }
    if (k == 3) set_ok(&spec, "radius_outer", 0.45);
    if (k == 4) set_ok(&spec, "width", 0.25);
    if (k == 5) set_ok(&spec, "size", 0.8);
    set_ok(&spec, "shift_y", 0.07);
    if (k != 2 && k != 3) set_ok(&spec, "rotation", 20.0); /* annular stops have no rotation */
    for (int c = 0; c < 2; c++) {
      full.centering = c ? PP_IMAGE_CENTER_PIXEL : PP_IMAGE_CENTER_ARRAY;
      double complex *whole = sample(&spec, &full, 1.2e-6);
      bool same = true;
      for (size_t row0 = 0; row0 < full.ny; row0 += 5) {
        pp_image_grid slab = full;
        slab.row0 = row0;
        slab.nrows = row0 + 5 <= full.ny ? 5 : full.ny - row0;
        double complex *rows = malloc(slab.nrows * full.nx * sizeof *rows);
        for (size_t i = 0; i < slab.nrows * full.nx; i++) rows[i] = 1.0;
        PP_TEST_OK(pp_optic_apply_image(&spec, &slab, 1.2e-6, rows), "slab applies");
        same = same && memcmp(rows, whole + row0 * full.nx, slab.nrows * full.nx * sizeof *rows) == 0;
        free(rows);
      }
      char what[160];
      snprintf(what, sizeof what, "%s (%s centering): slabs of 5 rows equal the full plane's rows",
               types[k], c ? "pixel" : "array");
      PP_TEST_TRUE(same, what);
      free(whole);
    }
    pp_image_grid outside = full;
    outside.row0 = 10;
    outside.nrows = 5;
    double complex *rows = ones(full.nx);
    PP_TEST_TRUE(fails_with(pp_optic_apply_image(&spec, &outside, 1.2e-6, rows), PP_ERR_INTERNAL),
                 "rows past the plane are refused");
    free(rows);
    pp_optic_spec_clear(&spec);
  }
}

int main(void) {
  test_slab_rows();
  test_table();
  test_fqpm();
  test_band_limited();
  test_stops();
  test_aligner();
  test_fqpm_null();
  return pp_test_finish();
}
