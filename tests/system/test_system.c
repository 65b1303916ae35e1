/* system: the pupil array width is the widest optic; normalization 'first' scales the
 * light after the first optic to 1 and later optics remove light from it; the OPD path
 * equals the real path when the OPD is zero; rectangular detectors are exact sub-grids
 * of square ones; rebin sums blocks; bad systems are refused with the reason.
 * Truths: Parseval (with nlamD = n_in = n_out the MFT is unitary, so Σ PSF = Σ|pupil|²),
 * pixel-centre counts done here from DESIGN.md's rules, and the geometry of ADJUSTABLE
 * centering; a source offset is the same tilt as Zernike Z2/Z3; the chirp-z method gives the
 * MFT's PSF; `auto` picks whichever transform the cost model predicts faster. That
 * pp_system_psf allocates nothing is structural (see system.c), not tested. */
#include <string.h>

#include "polypsf/system.h"
#include "pp_test.h"

enum { PP_TEST_MAX_OPTICS = 4 };

/* A job built in C, as the parser would leave it. */
typedef struct {
  pp_job job;
  pp_optic_spec optics[PP_TEST_MAX_OPTICS];
  double wavelength_m, weight;
} pp_test_job;

static void pp_test_job_init(pp_test_job *t, size_t npix, double pixelscale_arcsec,
                             size_t fov_y, size_t fov_x, int oversample) {
  memset(t, 0, sizeof *t);
  t->wavelength_m = 1e-6;
  t->weight = 1.0;
  t->job = (pp_job){.source_name = "test_system", .pupil_npix = npix, .n_wavelengths = 1,
                    .wavelengths_m = &t->wavelength_m, .weights = &t->weight,
                    .optics = t->optics,
                    .detector = {.pixelscale_arcsec = pixelscale_arcsec, .fov_pixels_y = fov_y,
                                 .fov_pixels_x = fov_x, .oversample = oversample},
                    .method = PP_METHOD_MFT, .fft_oversample = 2,
                    .normalize = PP_NORMALIZE_FIRST};
}

/* Appends an optic by type name; returns it for setting keys. */
static pp_optic_spec *pp_test_add(pp_test_job *t, const char *type_name) {
  const pp_optic_type *type = pp_optic_type_find(type_name);
  if (!type || t->job.n_optics >= PP_TEST_MAX_OPTICS) {
    printf("FAIL cannot add optic %s\n", type_name);
    exit(1);
  }
  pp_optic_spec *spec = &t->optics[t->job.n_optics++];
  pp_optic_spec_init(spec, type);
  snprintf(spec->name, sizeof spec->name, "%s", type_name);
  return spec;
}

static void pp_test_set(pp_optic_spec *spec, const char *key, double value) {
  pp_status s = pp_optic_spec_set(spec, key, value);
  if (s) {
    printf("FAIL setting %s: %s\n", key, pp_status_message(s));
    exit(1);
  }
}

static void pp_test_job_clear(pp_test_job *t) {
  for (size_t j = 0; j < t->job.n_optics; j++) pp_optic_spec_clear(&t->optics[j]);
}

/* λ/D of the array in arcsec, computed independently of system.c's expression. */
static double pp_lambda_over_d_arcsec(double wavelength_m, double diameter_m) {
  return wavelength_m / diameter_m * (180.0 * 3600.0 / PP_PI);
}

/* Computes the PSF of t at its wavelength; returns a malloc'ed array (NULL on failure). */
static double *pp_test_psf(pp_test_job *t, size_t *ny, size_t *nx) {
  pp_system *system = NULL;
  double *psf = NULL;
  PP_TEST_OK(pp_system_create(&t->job, &system), "system builds");
  if (!system) return NULL;
  pp_system_psf_shape(system, ny, nx);
  psf = malloc(*ny * *nx * sizeof *psf);
  PP_TEST_OK(pp_system_psf(system, t->wavelength_m, psf), "PSF computes");
  pp_system_destroy(&system);
  return psf;
}

/* The same with a given pupil → detector transform. */
static double *pp_test_psf_with(pp_test_job *t, pp_method method, size_t *ny, size_t *nx) {
  pp_system *system = NULL;
  double *psf = NULL;
  PP_TEST_OK(pp_system_create_with_method(&t->job, method, &system), "system builds");
  if (!system) return NULL;
  PP_TEST_TRUE(pp_system_method(system) == method, "the system runs the transform it was given");
  pp_system_psf_shape(system, ny, nx);
  psf = malloc(*ny * *nx * sizeof *psf);
  PP_TEST_OK(pp_system_psf(system, t->wavelength_m, psf), "PSF computes");
  pp_system_destroy(&system);
  return psf;
}

static double pp_test_flops(pp_test_job *t) {
  pp_system *system = NULL;
  pp_status s = pp_system_create(&t->job, &system);
  double flops = s == PP_SUCCESS ? pp_system_flops(system) : NAN;
  pp_status_free(s);
  pp_system_destroy(&system);
  return flops;
}

static double pp_sum(const double *values, size_t count) {
  double sum = 0.0;
  for (size_t p = 0; p < count; p++) sum += values[p];
  return sum;
}

static void pp_check_pupil_diameter(void) {
  pp_test_job t;
  pp_test_job_init(&t, 64, 0.01, 8, 8, 1);
  pp_test_set(pp_test_add(&t, "circular_aperture"), "radius", 1.0);                /* 2 m */
  pp_test_set(pp_test_add(&t, "secondary_obscuration"), "secondary_radius", 0.6);  /* 4·0.6 */
  pp_system *system = NULL;
  PP_TEST_OK(pp_system_create(&t.job, &system), "circle r=1 + obscuration r=0.6 builds");
  if (system) {
    PP_TEST_NEAR(pp_system_pupil_diameter_m(system), 2.4, 1e-15,
                 "array width: the obscuration's 4×0.6 m beats the circle's 2 m");
    PP_TEST_NEAR(pp_system_pupil_pixelscale_m(system), 2.4 / 64, 1e-17, "pupil pixel = width/npix");
    PP_TEST_NEAR(pp_system_pixelscale_arcsec(system), 0.01, 1e-17, "oversample 1: detector pixel");
    size_t estimate = 0;
    PP_TEST_OK(pp_system_bytes_for_job(&t.job, &estimate), "memory estimate from the job");
    PP_TEST_TRUE(estimate == pp_system_bytes(system), "estimate equals the built system's bytes");
  }
  pp_system_destroy(&system);
  pp_test_job_clear(&t);

  pp_test_job_init(&t, 64, 0.01, 8, 8, 2);
  pp_test_set(pp_test_add(&t, "secondary_obscuration"), "secondary_radius", 0.6);
  pp_test_set(pp_test_add(&t, "circular_aperture"), "radius", 1.5);                /* 3 m */
  PP_TEST_OK(pp_system_create(&t.job, &system), "obscuration then circle r=1.5 builds");
  if (system) {
    PP_TEST_NEAR(pp_system_pupil_diameter_m(system), 3.0, 1e-15,
                 "array width: the circle's 3 m beats the obscuration's 2.4 m, in any order");
    PP_TEST_NEAR(pp_system_pixelscale_arcsec(system), 0.005, 1e-17, "oversample 2 halves the pixel");
  }
  pp_system_destroy(&system);
  pp_test_job_clear(&t);
}

/* Σ over the grid of a², and of a² where the pixel centre has r < radius_m
 * (DESIGN.md: an obscuration is zero where r < radius). */
static void pp_intensity_sums(const double *a, const pp_pupil_grid *grid, double radius_m,
                              double *total, double *inside) {
  *total = 0.0;
  *inside = 0.0;
  for (size_t iy = 0; iy < grid->ny; iy++) {
    for (size_t ix = 0; ix < grid->nx; ix++) {
      double a2 = a[iy * grid->nx + ix] * a[iy * grid->nx + ix];
      double y = ((double)iy - (grid->ny - 1) / 2.0) * grid->pixelscale_m;
      double x = ((double)ix - (grid->nx - 1) / 2.0) * grid->pixelscale_m;
      *total += a2;
      if (sqrt(x * x + y * y) < radius_m) *inside += a2;
    }
  }
}

/* npix = nlamD = n_out: Σ PSF = Σ|pupil field|² exactly (Parseval). */
static void pp_check_normalization(void) {
  const size_t npix = 128;
  const double radius_m = 1.0, obscuration_m = 0.3, diameter_m = 2.0;
  double unitary_pixel_arcsec = pp_lambda_over_d_arcsec(1e-6, diameter_m);

  /* The circle's transmission alone, from the optics module, for the truths below. */
  pp_optic_spec circle;
  pp_optic_spec_init(&circle, pp_optic_type_find("circular_aperture"));
  pp_test_set(&circle, "radius", radius_m);
  double *a = malloc(npix * npix * sizeof *a), *ones = malloc(npix * npix * sizeof *ones);
  for (size_t p = 0; p < npix * npix; p++) a[p] = ones[p] = 1.0;
  pp_pupil_grid grid = {.ny = npix, .nx = npix, .pixelscale_m = diameter_m / npix};
  PP_TEST_OK(pp_optic_apply_pupil(&circle, &grid, a, NULL), "circle alone on the grid");
  pp_optic_spec_clear(&circle);
  double circle_intensity, blocked_intensity;
  pp_intensity_sums(a, &grid, obscuration_m, &circle_intensity, &blocked_intensity);

  pp_test_job t;
  size_t ny, nx;
  pp_test_job_init(&t, npix, unitary_pixel_arcsec, npix, npix, 1);
  pp_test_set(pp_test_add(&t, "circular_aperture"), "radius", radius_m);
  double *psf = pp_test_psf(&t, &ny, &nx);
  if (psf) PP_TEST_NEAR(pp_sum(psf, ny * nx), 1.0, 1e-12, "'first', circle only: Σ PSF = 1 (unitary MFT)");
  free(psf);

  pp_optic_spec *obscuration = pp_test_add(&t, "secondary_obscuration");
  pp_test_set(obscuration, "secondary_radius", obscuration_m);
  pp_test_set(obscuration, "n_supports", 0);
  psf = pp_test_psf(&t, &ny, &nx);
  if (psf) {
    double sum = pp_sum(psf, ny * nx);
    PP_TEST_NEAR(sum, 1.0 - blocked_intensity / circle_intensity, 1e-12,
                 "'first', circle then obscuration: Σ PSF = 1 − blocked/first (pixel count)");
    PP_TEST_NEAR(sum, 1.0 - (obscuration_m * obscuration_m) / (radius_m * radius_m), 3e-3,
                 "… ≈ 1 − (0.3/1)² analytically, within pixelation");
  }
  free(psf);

  t.job.normalize = PP_NORMALIZE_NONE;
  psf = pp_test_psf(&t, &ny, &nx);
  if (psf)
    PP_TEST_NEAR(pp_sum(psf, ny * nx) / (circle_intensity - blocked_intensity), 1.0, 1e-12,
                 "'none': Σ PSF = Σ|T|² of the raw pupil (ratio)");
  free(psf);
  pp_test_job_clear(&t);

  /* The first optic sets the scale whatever it is: an obscuration first (its light is
   * the count of open pixel centres, r ≥ 0.5 m), the circle second. 4·0.5 m = 2 m keeps
   * the same grid. */
  pp_test_job_init(&t, npix, unitary_pixel_arcsec, npix, npix, 1);
  obscuration = pp_test_add(&t, "secondary_obscuration");
  pp_test_set(obscuration, "secondary_radius", 0.5);
  pp_test_set(obscuration, "n_supports", 0);
  pp_test_set(pp_test_add(&t, "circular_aperture"), "radius", radius_m);
  psf = pp_test_psf(&t, &ny, &nx);
  if (psf) {
    double grid_count, disk_count, circle_total, circle_in_disk;
    pp_intensity_sums(ones, &grid, 0.5, &grid_count, &disk_count);
    pp_intensity_sums(a, &grid, 0.5, &circle_total, &circle_in_disk);
    PP_TEST_NEAR(pp_sum(psf, ny * nx), (circle_total - circle_in_disk) / (grid_count - disk_count),
                 1e-12, "'first', obscuration first: Σ PSF = light after both / light after the first");
  }
  free(psf);
  pp_test_job_clear(&t);
  free(a);
  free(ones);
}

/* A system with OPD that is zero everywhere takes the complex path; it must give the
 * real path's PSF. */
static void pp_check_opd_path(void) {
  pp_test_job t;
  size_t ny, nx, ny2, nx2;
  pp_test_job_init(&t, 96, 0.02, 9, 11, 2);
  pp_test_set(pp_test_add(&t, "circular_aperture"), "radius", 1.0);
  pp_optic_spec *obscuration = pp_test_add(&t, "secondary_obscuration");
  pp_test_set(obscuration, "secondary_radius", 0.3);
  pp_test_set(obscuration, "n_supports", 3);
  pp_test_set(obscuration, "support_width", 0.05);
  double *real_path = pp_test_psf(&t, &ny, &nx);
  double real_flops = pp_test_flops(&t);
  pp_optic_spec *zernike = pp_test_add(&t, "zernike_wfe");
  pp_test_set(zernike, "radius", 1.0);
  double zeros[4] = {0, 0, 0, 0};
  PP_TEST_OK(pp_optic_spec_set_list(zernike, "coefficients", zeros, 4), "zero Zernike coefficients");
  double *complex_path = pp_test_psf(&t, &ny2, &nx2);
  /* 96² pupil → 18 × 22: the cost model tells which path ran (real input: 4 flops per
   * multiply-add in the first product instead of 8) */
  PP_TEST_TRUE(real_flops < pp_test_flops(&t), "with an OPD optic the complex path runs (more flops)");
  if (real_path && complex_path && ny == ny2 && nx == nx2) {
    double peak = 0.0, worst = 0.0;
    for (size_t p = 0; p < ny * nx; p++) {
      if (real_path[p] > peak) peak = real_path[p];
      if (fabs(real_path[p] - complex_path[p]) > worst) worst = fabs(real_path[p] - complex_path[p]);
    }
    PP_TEST_NEAR(worst / peak, 0.0, 1e-12, "zero OPD: complex-field path = real-pupil path (max|Δ|/peak)");
  } else {
    PP_TEST_TRUE(false, "both paths computed");
  }
  free(real_path);
  free(complex_path);
  pp_test_job_clear(&t);
}

/* Max |a − b| / max a over count values. */
static double pp_relative_difference(const double *a, const double *b, size_t count) {
  double peak = 0.0, worst = 0.0;
  for (size_t p = 0; p < count; p++) {
    if (a[p] > peak) peak = a[p];
    if (fabs(a[p] - b[p]) > worst) worst = fabs(a[p] - b[p]);
  }
  return worst / peak;
}

/* A source offset is the wavefront tilt OPD −(x·θx + y·θy). Noll's Z2 = 2ρ·cos θ = 2x/R and
 * Z3 = 2ρ·sin θ = 2y/R (θ = atan2(y, x), y the row axis), so Zernike coefficients
 * c2 = −θx·R/2, c3 = −θy·R/2 (metres) are the same tilt over a hard-edged aperture: the PSFs
 * agree, and the Zernike with the opposite sign cancels the offset (the OPD and tilt
 * together), giving the on-axis PSF back. The tilted path is complex: the cost and memory
 * models say so, and their job-only forms agree with the built system. */
static void pp_check_source_tilt(void) {
  const double radius_m = 1.0, offset_x_arcsec = 0.045, offset_y_arcsec = -0.02;
  const double theta_x = offset_x_arcsec / (180.0 * 3600.0 / PP_PI);
  const double theta_y = offset_y_arcsec / (180.0 * 3600.0 / PP_PI);
  size_t ny, nx, ny2, nx2;
  pp_test_job t;
  pp_test_job_init(&t, 128, 0.01, 24, 20, 2);
  pp_optic_spec *circle = pp_test_add(&t, "circular_aperture");
  pp_test_set(circle, "radius", radius_m);
  /* Hard edges: a gray edge pixel whose centre lies outside the disk passes light, but the
   * Zernike is zero there (ρ > 1), and the two tilts would differ on those pixels. */
  pp_test_set(circle, "gray_pixel", 0.0);
  double *on_axis = pp_test_psf(&t, &ny, &nx);
  double real_flops = pp_test_flops(&t);

  t.job.source = (pp_source_spec){.offset_x_arcsec = offset_x_arcsec,
                                  .offset_y_arcsec = offset_y_arcsec};
  double *tilted = pp_test_psf(&t, &ny2, &nx2);
  double tilted_flops = pp_test_flops(&t), job_flops = 0.0;
  PP_TEST_TRUE(tilted_flops > real_flops, "an off-axis source runs the complex path (more flops)");
  PP_TEST_OK(pp_system_flops_for_job(&t.job, &job_flops), "flops from the job");
  PP_TEST_TRUE(job_flops == tilted_flops, "flops from the job = the built system's (tilted)");
  pp_system *system = NULL;
  size_t estimate = 0;
  PP_TEST_OK(pp_system_create(&t.job, &system), "tilted system builds");
  PP_TEST_OK(pp_system_bytes_for_job(&t.job, &estimate), "bytes from the job");
  PP_TEST_TRUE(system && estimate == pp_system_bytes(system),
               "bytes from the job = built (tilted)");
  pp_system_destroy(&system);

  t.job.source = (pp_source_spec){0};
  pp_optic_spec *zernike = pp_test_add(&t, "zernike_wfe");
  pp_test_set(zernike, "radius", radius_m);
  double tilt_as_zernike[3] = {0.0, -theta_x * radius_m / 2.0, -theta_y * radius_m / 2.0};
  PP_TEST_OK(pp_optic_spec_set_list(zernike, "coefficients", tilt_as_zernike, 3), "Z2, Z3");
  double *zernike_tilted = pp_test_psf(&t, &ny2, &nx2);
  PP_TEST_OK(pp_system_flops_for_job(&t.job, &job_flops), "flops from the job (OPD)");
  PP_TEST_TRUE(job_flops == pp_test_flops(&t), "flops from the job = built (OPD, on-axis)");

  double opposite[3] = {0.0, theta_x * radius_m / 2.0, theta_y * radius_m / 2.0};
  PP_TEST_OK(pp_optic_spec_set_list(zernike, "coefficients", opposite, 3), "−Z2, −Z3");
  t.job.source = (pp_source_spec){.offset_x_arcsec = offset_x_arcsec,
                                  .offset_y_arcsec = offset_y_arcsec};
  double *cancelled = pp_test_psf(&t, &ny2, &nx2);

  if (on_axis && tilted && zernike_tilted && cancelled) {
    PP_TEST_TRUE(pp_relative_difference(on_axis, tilted, ny * nx) > 0.1,
                 "the offset moves the PSF (differs from on-axis by > 10 % of the peak)");
    PP_TEST_NEAR(pp_relative_difference(zernike_tilted, tilted, ny * nx), 0.0, 1e-12,
                 "source offset = the same tilt as Zernike Z2, Z3 (max|Δ|/peak)");
    PP_TEST_NEAR(pp_relative_difference(on_axis, cancelled, ny * nx), 0.0, 1e-12,
                 "offset + opposite Zernike tilt = on-axis (OPD and tilt together)");
    PP_TEST_TRUE(pp_relative_difference(tilted, cancelled, ny * nx) > 0.1,
                 "... and not the tilted PSF");
  } else {
    PP_TEST_TRUE(false, "all four PSFs computed");
  }
  free(on_axis);
  free(tilted);
  free(zernike_tilted);
  free(cancelled);

  /* The tilt must be sampled: npix·λ/(2·D) = 128 · 1e-6 / 4 rad = 6.6 arcsec. */
  t.job.source = (pp_source_spec){.offset_x_arcsec = 7.0};
  system = NULL;
  pp_status status = pp_system_create(&t.job, &system);
  PP_TEST_TRUE(pp_status_code(status) == PP_ERR_INPUT && strstr(pp_status_message(status), "6.6"),
               "offset beyond npix·λ/(2·D) refused with the limit");
  pp_status_free(status);
  pp_system_destroy(&system);
  t.job.source = (pp_source_spec){.offset_x_arcsec = 6.0};
  PP_TEST_OK(pp_system_create(&t.job, &system), "offset inside the limit builds");
  double psf_at_2um[24 * 2 * 20 * 2];
  status = system ? pp_system_psf(system, 0.5e-6, psf_at_2um) : PP_SUCCESS;
  PP_TEST_TRUE(pp_status_code(status) == PP_ERR_INPUT,
               "pp_system_psf refuses a wavelength too short for the offset (3.3 arcsec at 0.5 µm)");
  pp_status_free(status);
  pp_system_destroy(&system);
  pp_test_job_clear(&t);
}

/* ADJUSTABLE centering with odd sizes puts pixel k at (k − (n−1)/2)·pixel on each axis,
 * so a 5×7-pixel detector is rows 3…17 of the 7×7 one (oversample 3: 15×21 in 21×21). */
static void pp_check_rectangular_detector(void) {
  pp_test_job t;
  size_t ny, nx, sy, sx;
  pp_test_job_init(&t, 128, 0.015, 5, 7, 3);
  pp_test_set(pp_test_add(&t, "circular_aperture"), "radius", 1.0);
  pp_optic_spec *obscuration = pp_test_add(&t, "secondary_obscuration");
  pp_test_set(obscuration, "secondary_radius", 0.25);
  pp_test_set(obscuration, "n_supports", 3); /* three vanes: no x ↔ y symmetry to hide a swap */
  pp_test_set(obscuration, "support_width", 0.08);
  double *rect = pp_test_psf(&t, &ny, &nx);
  PP_TEST_TRUE(ny == 15 && nx == 21, "5 × 7 detector pixels × oversample 3 → 15 × 21");
  t.job.detector.fov_pixels_y = 7;
  double *square = pp_test_psf(&t, &sy, &sx);
  PP_TEST_TRUE(sy == 21 && sx == 21, "7 × 7 × 3 → 21 × 21");
  if (rect && square && ny == 15 && nx == 21 && sy == 21 && sx == 21) {
    double peak = 0.0, worst = 0.0;
    for (size_t y = 0; y < ny; y++)
      for (size_t x = 0; x < nx; x++) {
        double want = square[(y + 3) * sx + x], got = rect[y * nx + x];
        if (want > peak) peak = want;
        if (fabs(got - want) > worst) worst = fabs(got - want);
      }
    PP_TEST_NEAR(worst / peak, 0.0, 1e-12, "15×21 PSF = rows 3…17 of the 21×21 PSF (max|Δ|/peak)");
    /* the vanes are not symmetric under x ↔ y, so the transposed crop must differ */
    double transposed_worst = 0.0;
    for (size_t y = 0; y < ny; y++)
      for (size_t x = 0; x < nx; x++) {
        double d = fabs(rect[y * nx + x] - square[x * sx + (y + 3)]);
        if (d > transposed_worst) transposed_worst = d;
      }
    PP_TEST_TRUE(transposed_worst / peak > 1e-3, "… and not the transposed crop (axes not swapped)");
  }
  free(rect);
  free(square);
  pp_test_job_clear(&t);
}

static void pp_check_rebin(void) {
  /* 4 × 6 → 2 × 3 blocks of 2 × 2, values 0…23: block sums by hand */
  double in[24], out[6];
  for (int p = 0; p < 24; p++) in[p] = p;
  PP_TEST_OK(pp_psf_rebin(in, 4, 6, 2, out), "rebin 4×6 by 2");
  const double want[6] = {0 + 1 + 6 + 7, 2 + 3 + 8 + 9, 4 + 5 + 10 + 11,
                          12 + 13 + 18 + 19, 14 + 15 + 20 + 21, 16 + 17 + 22 + 23};
  double worst = 0.0;
  for (int p = 0; p < 6; p++) worst = fmax(worst, fabs(out[p] - want[p]));
  PP_TEST_NEAR(worst, 0.0, 0.0, "rebin: each output is its block's sum");
  double copy[24];
  PP_TEST_OK(pp_psf_rebin(in, 4, 6, 1, copy), "factor 1 is allowed");
  PP_TEST_NEAR(copy[23], 23.0, 0.0, "factor 1 copies");
  pp_status s = pp_psf_rebin(in, 4, 6, 4, out);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "6 columns do not divide by 4: refused");
  pp_status_free(s);
  s = pp_psf_rebin(in, 4, 6, 0, out);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "factor 0 refused");
  pp_status_free(s);
}

static const pp_optic_type pp_fake_image_mask = {
    .name = "fake_image_mask", .poppy_name = "FakeImageMask", .plane = PP_PLANE_IMAGE,
    .params = NULL, .n_params = 0, .doc = "an image-plane optic for this test"};

static void pp_check_refusals(void) {
  pp_test_job t;
  pp_system *system = NULL;
  pp_status s;

  /* light enters in a pupil plane: an image-plane optic cannot come first */
  pp_test_job_init(&t, 64, 0.01, 8, 8, 1);
  pp_optic_spec *mask = &t.optics[t.job.n_optics++];
  pp_optic_spec_init(mask, &pp_fake_image_mask);
  snprintf(mask->name, sizeof mask->name, "my_focal_mask");
  mask->line = 7;
  mask->column = 5;
  pp_test_set(pp_test_add(&t, "circular_aperture"), "radius", 1.0);
  s = pp_system_create(&t.job, &system);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && system == NULL, "image-plane optic first refused (input error)");
  PP_TEST_TRUE(strstr(pp_status_message(s), "my_focal_mask") != NULL, "… the message names the optic");
  PP_TEST_TRUE(strstr(pp_status_message(s), "test_system:7:5") != NULL, "… and where it is in the job");
  PP_TEST_TRUE(strstr(pp_status_message(s), "pupil plane") != NULL, "… and says light enters in a pupil plane");
  pp_status_free(s);
  pp_test_job_clear(&t);

  pp_test_job_init(&t, 64, 0.01, 8, 8, 1);
  pp_test_set(pp_test_add(&t, "scalar_transmission"), "transmission", 0.5);
  s = pp_system_create(&t.job, &system);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "no optic sets a pupil diameter: refused");
  pp_status_free(s);
  t.job.n_optics = 0;
  s = pp_system_create(&t.job, &system);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "no optics at all: refused");
  pp_status_free(s);
  pp_test_job_clear(&t);

  pp_test_job_init(&t, 64, 0.01, 8, 8, 1);
  pp_optic_spec *circle = pp_test_add(&t, "circular_aperture");
  pp_test_set(circle, "radius", 1.0);
  pp_test_set(circle, "shift_x", 5.0); /* entirely off the 2 m array */
  s = pp_system_create(&t.job, &system);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "'first' with a first optic passing no light: refused");
  pp_status_free(s);
  pp_test_job_clear(&t);

  pp_test_job_init(&t, 64, 0.01, 8, 8, 1);
  pp_test_set(pp_test_add(&t, "circular_aperture"), "radius", 1.0);
  t.job.method = PP_METHOD_FFT;
  s = pp_system_create(&t.job, &system);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT &&
                   strstr(pp_status_message(s), "cannot reach the detector") &&
                   strstr(pp_status_message(s), "'czt'"),
               "method fft (no pupil → detector transform) refused, naming what to use");
  pp_status_free(s);
  t.job.method = PP_METHOD_AUTO;
  PP_TEST_OK(pp_system_create(&t.job, &system), "method auto builds");
  if (system) {
    double psf[64];
    s = pp_system_psf(system, -1e-6, psf);
    PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "negative wavelength refused");
    pp_status_free(s);
  }
  pp_system_destroy(&system);
  PP_TEST_TRUE(system == NULL, "destroy sets the handle to NULL");
  pp_system_destroy(&system);
  pp_test_job_clear(&t);
}

/* The chirp-z method against the MFT, max|Δ|/peak over the PSF, and the job-only memory and
 * flops models against the built czt system. */
static void pp_compare_methods(pp_test_job *t, const char *what) {
  size_t ny = 0, nx = 0, ny2 = 0, nx2 = 0;
  double *mft = pp_test_psf_with(t, PP_METHOD_MFT, &ny, &nx);
  double *czt = pp_test_psf_with(t, PP_METHOD_CZT, &ny2, &nx2);
  char label[256];
  snprintf(label, sizeof label, "%s: chirp-z PSF = MFT PSF (max|Δ|/peak)", what);
  if (mft && czt && ny == ny2 && nx == nx2) {
    double peak = 0.0, worst = 0.0;
    for (size_t p = 0; p < ny * nx; p++) {
      peak = fmax(peak, mft[p]);
      worst = fmax(worst, fabs(mft[p] - czt[p]));
    }
    PP_TEST_NEAR(worst / peak, 0.0, 1e-12, label);
  } else {
    PP_TEST_TRUE(false, label);
  }
  free(mft);
  free(czt);
  pp_method requested = t->job.method;
  t->job.method = PP_METHOD_CZT;
  pp_system *system = NULL;
  size_t bytes = 0;
  double flops = 0.0;
  PP_TEST_OK(pp_system_create(&t->job, &system), "method czt from the job builds");
  PP_TEST_OK(pp_system_bytes_for_job(&t->job, &bytes), "czt bytes from the job");
  PP_TEST_OK(pp_system_flops_for_job(&t->job, &flops), "czt flops from the job");
  snprintf(label, sizeof label, "%s: czt bytes and flops from the job = the built system's", what);
  PP_TEST_TRUE(system && pp_system_method(system) == PP_METHOD_CZT &&
                   bytes == pp_system_bytes(system) && flops == pp_system_flops(system),
               label);
  /* the choice carries each candidate's memory and flops, as the scheduler's model uses them */
  pp_system_choice choice;
  pp_system *mft_system = NULL;
  PP_TEST_OK(pp_system_choose(&t->job, NULL, &choice), "choose");
  PP_TEST_OK(pp_system_create_with_method(&t->job, PP_METHOD_MFT, &mft_system), "mft builds");
  snprintf(label, sizeof label, "%s: the choice's bytes and flops = the built systems'", what);
  PP_TEST_TRUE(system && mft_system && choice.czt.bytes == pp_system_bytes(system) &&
                   choice.mft.bytes == pp_system_bytes(mft_system) &&
                   choice.czt.flops == pp_system_flops(system) &&
                   choice.mft.flops == pp_system_flops(mft_system),
               label);
  pp_system_destroy(&mft_system);
  pp_system_destroy(&system);
  t->job.method = requested;
}

/* CZT = MFT on a real pupil, a complex one (OPD), a tilted source and a rectangular detector. */
static void pp_check_czt_method(void) {
  pp_test_job t;
  pp_test_job_init(&t, 96, 0.02, 9, 11, 2);
  pp_test_set(pp_test_add(&t, "circular_aperture"), "radius", 1.0);
  pp_optic_spec *obscuration = pp_test_add(&t, "secondary_obscuration");
  pp_test_set(obscuration, "secondary_radius", 0.3);
  pp_test_set(obscuration, "n_supports", 3);
  pp_test_set(obscuration, "support_width", 0.05);
  pp_compare_methods(&t, "real pupil 96 px → 18 × 22");

  t.job.source = (pp_source_spec){.offset_x_arcsec = 0.05, .offset_y_arcsec = -0.03};
  pp_compare_methods(&t, "tilted source, 96 px → 18 × 22");
  t.job.source = (pp_source_spec){0};

  pp_optic_spec *zernike = pp_test_add(&t, "zernike_wfe");
  pp_test_set(zernike, "radius", 1.0);
  double coefficients[8] = {0, 0, 0, 1.0e-7, 0, 5.0e-8, 0, 3.0e-8};
  PP_TEST_OK(pp_optic_spec_set_list(zernike, "coefficients", coefficients, 8), "Zernike WFE");
  pp_compare_methods(&t, "complex pupil (Zernike WFE), 96 px → 18 × 22");
  pp_test_job_clear(&t);

  /* rectangular and wider than the pupil: 64 px → 105 × 39 (fov 35 × 13, oversample 3) */
  pp_test_job_init(&t, 64, 0.04, 35, 13, 3);
  pp_test_set(pp_test_add(&t, "circular_aperture"), "radius", 1.0);
  pp_test_set(pp_test_add(&t, "secondary_obscuration"), "secondary_radius", 0.25);
  t.job.source = (pp_source_spec){.offset_x_arcsec = 0.3};
  pp_compare_methods(&t, "rectangular 64 px → 105 × 39, tilted");
  pp_test_job_clear(&t);
}

/* `auto` follows the cost model: the choice is the candidate with the smaller prediction, for
 * tiny and large shapes alike, and rates that favour one side move the choice there (so the
 * answer comes from the model, not from a rule about sizes). Explicit methods are kept. */
static void pp_check_auto_choice(void) {
  pp_cost_rates rates;
  double start = pp_wtime();
  PP_TEST_OK(pp_cost_calibrate(&rates), "calibration");
  printf("calibration took %.3f s\n", pp_wtime() - start);
  /* {npix, fov pixels, oversample}: a tiny system, small ones, obscured_poly's 1024 → 404 */
  const size_t shapes[][3] = {{16, 4, 1}, {32, 8, 2}, {64, 16, 2}, {128, 32, 2}, {256, 64, 2},
                              {1024, 101, 4}};
  for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
    pp_test_job t;
    pp_test_job_init(&t, shapes[k][0], 0.0311, shapes[k][1], shapes[k][1], (int)shapes[k][2]);
    pp_test_set(pp_test_add(&t, "circular_aperture"), "radius", 3.25);
    t.job.method = PP_METHOD_AUTO;
    pp_system_choice choice;
    PP_TEST_OK(pp_system_choose(&t.job, &rates, &choice), "choose");
    size_t added = 0;
    PP_TEST_OK(pp_cost_rates_cover(&rates, choice.n_in_y, choice.n_in_x, choice.n_out_y,
                                   choice.n_out_x, &added), "the job's chirp-z lengths measured");
    PP_TEST_OK(pp_system_choose(&t.job, &rates, &choice), "choose on measured lengths");
    pp_method predicted = choice.czt.seconds < choice.mft.seconds ? PP_METHOD_CZT : PP_METHOD_MFT;
    char label[256];
    snprintf(label, sizeof label,
             "auto, %zu px → %zu²: %s as predicted (mft %.3g s, czt %.3g s per wavelength)",
             shapes[k][0], shapes[k][1] * shapes[k][2], pp_method_name(choice.method),
             choice.mft.seconds, choice.czt.seconds);
    PP_TEST_TRUE(choice.method == predicted && !choice.complex_field, label);
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)
    /* What the model says on any machine of today in an optimized build. (Unoptimized or
     * sanitized builds slow polypsf's own chirp-z loops, not OpenBLAS: there the model may
     * rightly say otherwise, and only "as predicted" above is asked.) */
    if (k == 0)
      PP_TEST_TRUE(choice.method == PP_METHOD_MFT,
                   "a 16 px pupil onto 4 × 4 pixels: the model says zgemm wins");
    if (shapes[k][0] == 1024)
      PP_TEST_TRUE(choice.method == PP_METHOD_CZT && choice.mft.seconds > 2.0 * choice.czt.seconds,
                   "obscured_poly's 1024 → 404: the chirp-z, predicted > 2× faster");
#endif

    /* the same job under rates that favour one side */
    pp_cost_rates fast_blas = rates, fast_fft = rates;
    for (int s = 0; s < PP_COST_GEMM_SIZES; s++) {
      fast_blas.zgemm_flops_per_s[s] *= 1e6;
      fast_blas.dgemm_flops_per_s[s] *= 1e6;
    }
    fast_blas.exp_seconds *= 1e-6;
    for (size_t l = 0; l < fast_fft.n_lengths; l++) fast_fft.czt_line_seconds[l] *= 1e-6;
    fast_fft.exp_seconds *= 1e-6;
    pp_system_choice blas_choice, fft_choice;
    PP_TEST_OK(pp_system_choose(&t.job, &fast_blas, &blas_choice), "choose (fast BLAS)");
    PP_TEST_OK(pp_system_choose(&t.job, &fast_fft, &fft_choice), "choose (fast FFT)");
    PP_TEST_TRUE(blas_choice.method == PP_METHOD_MFT && fft_choice.method == PP_METHOD_CZT,
                 "… rates a million times faster for BLAS choose mft, for FFTs czt");

    t.job.method = PP_METHOD_MFT;
    PP_TEST_OK(pp_system_choose(&t.job, &fast_fft, &fft_choice), "choose (mft asked)");
    t.job.method = PP_METHOD_CZT;
    PP_TEST_OK(pp_system_choose(&t.job, &fast_blas, &blas_choice), "choose (czt asked)");
    PP_TEST_TRUE(fft_choice.method == PP_METHOD_MFT && blas_choice.method == PP_METHOD_CZT &&
                     fft_choice.requested == PP_METHOD_MFT,
                 "… an explicit method is kept whatever the model says");
    pp_test_job_clear(&t);
  }

  /* a complex field costs the MFT its real-input path: predicted slower, flagged. On the
   * nominal rates, not this machine's: a measurement on a loaded machine (or under ASan) can
   * put dgemm's rate below half of zgemm's, and then the real path is rightly predicted
   * slower; the test is of the flag and of the cost's form, not of this machine. */
  pp_test_job t;
  pp_test_job_init(&t, 256, 0.0311, 64, 64, 2);
  pp_test_set(pp_test_add(&t, "circular_aperture"), "radius", 3.25);
  pp_system_choice real_choice, tilted_choice;
  PP_TEST_OK(pp_system_choose(&t.job, pp_cost_rates_nominal(), &real_choice), "choose (real)");
  t.job.source = (pp_source_spec){.offset_x_arcsec = 0.1};
  PP_TEST_OK(pp_system_choose(&t.job, pp_cost_rates_nominal(), &tilted_choice),
             "choose (tilted)");
  PP_TEST_TRUE(tilted_choice.complex_field && !real_choice.complex_field &&
                   tilted_choice.mft.seconds > real_choice.mft.seconds &&
                   tilted_choice.czt.seconds == real_choice.czt.seconds,
               "a tilted source: complex-input MFT predicted slower, chirp-z unchanged");
  /* without rates, auto resolves with the nominal ones, the same way every time */
  t.job.method = PP_METHOD_AUTO;
  pp_system_choice nominal;
  PP_TEST_OK(pp_system_choose(&t.job, NULL, &nominal), "choose (nominal rates)");
  pp_system *system = NULL;
  PP_TEST_OK(pp_system_create(&t.job, &system), "auto builds with the nominal choice");
  PP_TEST_TRUE(system && pp_system_method(system) == nominal.method,
               "pp_system_create resolves auto as pp_system_choose with the nominal rates");
  pp_system_destroy(&system);
  pp_test_job_clear(&t);
}

int main(void) {
  pp_check_pupil_diameter();
  pp_check_normalization();
  pp_check_opd_path();
  pp_check_source_tilt();
  pp_check_rectangular_detector();
  pp_check_rebin();
  pp_check_refusals();
  pp_check_czt_method();
  pp_check_auto_choice();
  return pp_test_finish();
}
