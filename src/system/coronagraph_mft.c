/* POPPY's MFT-only coronagraph methods (poppy/special_prop.py, POPPY 1.1), in place of the
 * padded FFT planes when the job asks for them or `auto` finds them exact and faster:
 *
 *   semi_analytic (SemiAnalyticCoronagraph, Soummer et al. 2007): the occulter M is clear
 *     outside a box of half size occulter_box, so by Babinet the Lyot-plane field is
 *     E − MFT⁻¹[(1 − M)·MFT(E)], the MFTs only over the box. The box is sampled at the
 *     detector's pixel scale / coronagraph_oversample (POPPY: detector.pixelscale / oversample,
 *     fov_arcsec = 2·occulter_box, round(fov / scale) pixels), the same at every λ.
 *   matrix_ft (MatrixFTCoronagraph): the mask is opaque outside the box, so the Lyot-plane
 *     field is MFT⁻¹[M·MFT(E)]; the box is sampled at λ/(2·oversample·D₁) (D₁: the first
 *     optic's pupil diameter, as POPPY's planes[0].pupil_diam), so its pixel count changes with λ.
 *
 * Both MFTs use POPPY's _propagate_mft / _propagate_mft_inverse conventions: nlamD =
 * (pixels·scale) / (λ/D), D the pupil array width, the inverse returning to the npix × npix
 * pupil grid. The box plane is centred on the array (an MFT-made plane, PP_IMAGE_CENTER_ARRAY).
 * The pupil optics after the mask (the Lyot stop) then act on the npix × npix grid, as POPPY's.
 * Which masks each method is exact for: pp_job_coronagraph_exact (src/job). */
#define POLYPSF_SYSTEM_INTERNAL
#include "system_private.h"

#include <math.h>
#include <string.h>

#include "polypsf/propagate.h"

struct pp_corona {
  pp_coronagraph_method method;   /* SEMI_ANALYTIC or MATRIX_FT */
  size_t npix;
  double diameter_m;              /* pupil array width D (the MFTs' λ/D) */
  double box_diameter_m;          /* D₁ of matrix_ft's box sampling */
  int oversample;
  double detector_scale_arcsec;   /* the detector's pixel scale (semi_analytic's box) */
  double box_arcsec[2];           /* half sizes [y, x] */
  pp_optic_spec *image_optics;    /* copies of the mask's optics */
  size_t n_image;
  double *lyot_amplitude;         /* [npix²] the pupil optics after the mask, or NULL */
  double *lyot_opd_m;             /* [npix²] their summed OPD, or NULL */
  size_t box_ny, box_nx;          /* the box of the current plans */
  double box_scale_arcsec;        /* its pixel scale */
  pp_mft_plan *to_box, *from_box;
  double complex *box_field;      /* [box_ny·box_nx] */
  double complex *mask;           /* [box_ny·box_nx] semi_analytic: the mask sampled */
  double complex *back;           /* [npix²] the field returned from the box */
  double *real_field;             /* [npix²] the field's real part, when it has no imaginary */
};

/* POPPY's Detector: round(fov / scale) pixels (Python's round: halves to even, as rint). */
static size_t pp_corona_box_pixels(double half_arcsec, double scale_arcsec) {
  double n = rint(2.0 * half_arcsec / scale_arcsec);
  return n >= 1.0 ? (size_t)n : 0;
}

/* The box's pixel scale at wavelength_m. */
static double pp_corona_box_scale(const pp_job *job, pp_coronagraph_method method, int oversample,
                                  double box_diameter_m, double wavelength_m) {
  if (method == PP_CORONAGRAPH_SEMI_ANALYTIC)
    return job->detector.pixelscale_arcsec / (double)oversample;
  return wavelength_m / box_diameter_m * PP_ARCSEC_PER_RADIAN / (double)oversample / 2.0;
}

/* D₁: the first optic's pupil diameter, else the array width (pupil_diameter_m, or from the
 * job when that is 0). */
static double pp_corona_box_diameter(const pp_job *job, double pupil_diameter_m) {
  double first = job->n_optics > 0 ? pp_optic_pupil_diameter_m(&job->optics[0]) : 0.0;
  if (first > 0.0) return first;
  if (pupil_diameter_m <= 0.0) {
    pp_status status = pp_pupil_diameter_for_job(job, &pupil_diameter_m);
    if (status) { /* create reports the same error; an estimate only needs a number */
      pp_status_free(status);
      pupil_diameter_m = 1.0;
    }
  }
  return pupil_diameter_m;
}

/* The largest box of the job's wavelengths (matrix_ft's grows with λ), [y, x] pixels. */
static void pp_corona_largest_box(const pp_job *job, pp_coronagraph_method method,
                                  double box_diameter_m, size_t box[2]) {
  double half[2];
  int oversample = pp_job_coronagraph_oversample(job, method);
  pp_job_coronagraph_box(job, method, half);
  box[0] = box[1] = 0;
  for (size_t l = 0; l < job->n_wavelengths; l++) {
    double scale = pp_corona_box_scale(job, method, oversample, box_diameter_m, job->wavelengths_m[l]);
    for (int a = 0; a < 2; a++) {
      size_t n = pp_corona_box_pixels(half[a], scale);
      if (n > box[a]) box[a] = n;
    }
  }
}

/* Predicted seconds of one wavelength by method (FFT: the two padded FFTs). */
static double pp_corona_seconds(const pp_job *job, pp_coronagraph_method method,
                                const pp_cost_rates *rates) {
  size_t npix = job->pupil_npix;
  if (method == PP_CORONAGRAPH_FFT) {
    size_t n = npix * (size_t)job->fft_oversample;
    /* the 1-D pass engine runs N + npix lines per transform of a padded plane, not 2N */
    double lines = job->fft_engine == PP_FFT_ENGINE_PASSES && n % 2 == 0
                       ? (double)(n + npix) / (2.0 * (double)n) : 1.0;
    return 2.0 * lines * pp_cost_fft2d_seconds(rates, n);
  }
  size_t box[2];
  pp_corona_largest_box(job, method, pp_corona_box_diameter(job, 0.0), box);
  if (box[0] == 0 || box[1] == 0) return INFINITY;
  return pp_cost_mft_seconds(rates, npix, npix, box[0], box[1], false) +
         pp_cost_mft_seconds(rates, box[0], box[1], npix, npix, false);
}

pp_coronagraph_method pp_corona_method_for_job(const pp_job *job, double *seconds) {
  const pp_cost_rates *rates = pp_cost_rates_nominal(); /* every rank and run alike */
  pp_coronagraph_method chosen = PP_CORONAGRAPH_FFT;
  if (seconds) *seconds = 0.0;
  if (pp_pupil_leading_optics(job) >= job->n_optics) return chosen; /* no planes at all */
  double best = pp_corona_seconds(job, PP_CORONAGRAPH_FFT, rates);
  if (job->coronagraph == PP_CORONAGRAPH_SEMI_ANALYTIC || job->coronagraph == PP_CORONAGRAPH_MATRIX_FT) {
    chosen = job->coronagraph; /* the parser refused it where it is not exact */
    best = pp_corona_seconds(job, chosen, rates);
  } else if (job->coronagraph == PP_CORONAGRAPH_AUTO) {
    const pp_coronagraph_method candidates[] = {PP_CORONAGRAPH_SEMI_ANALYTIC, PP_CORONAGRAPH_MATRIX_FT};
    for (size_t c = 0; c < 2; c++) {
      if (!pp_job_coronagraph_exact(job, candidates[c], NULL, 0)) continue;
      double s = pp_corona_seconds(job, candidates[c], rates);
      if (s < best) best = s, chosen = candidates[c];
    }
  }
  if (seconds) *seconds = best;
  return chosen;
}

/* (Re)makes the plans and box arrays for a box of ny × nx pixels; nothing when unchanged. */
static pp_status pp_corona_size_box(pp_corona *c, size_t ny, size_t nx) {
  if (c->to_box && c->box_ny == ny && c->box_nx == nx) return PP_SUCCESS;
  PP_CHECK(ny > 0 && nx > 0, PP_ERR_INPUT,
           "propagation.occulter_box: the box holds no pixel at this sampling (half sizes "
           "%g × %g arcsec)", c->box_arcsec[0], c->box_arcsec[1]);
  pp_mft_plan_destroy(&c->to_box);
  pp_mft_plan_destroy(&c->from_box);
  pp_array_free(&c->box_field);
  pp_array_free(&c->mask);
  c->box_ny = ny;
  c->box_nx = nx;
  PP_CALL(pp_mft_plan_create(c->npix, c->npix, ny, nx, PP_MFT_FORWARD, &c->to_box));
  PP_CALL(pp_mft_plan_create(ny, nx, c->npix, c->npix, PP_MFT_INVERSE, &c->from_box));
  PP_CALL(pp_array_alloc(ny * nx * sizeof(double complex), (void **)&c->box_field));
  if (c->method == PP_CORONAGRAPH_SEMI_ANALYTIC)
    PP_CALL(pp_array_alloc(ny * nx * sizeof(double complex), (void **)&c->mask));
  return PP_SUCCESS;
}

/* The pupil optics after the mask, on the npix × npix grid of D/npix. */
static pp_status pp_corona_fill_lyot(pp_corona *c, const pp_job *job, size_t after_mask) {
  size_t count = c->npix * c->npix;
  pp_pupil_grid grid = {.ny = c->npix, .nx = c->npix,
                        .pixelscale_m = c->diameter_m / (double)c->npix};
  for (size_t j = after_mask; j < job->n_optics; j++) {
    const pp_optic_spec *spec = &job->optics[j];
    if (!c->lyot_amplitude) {
      PP_CALL(pp_array_alloc(count * sizeof(double), (void **)&c->lyot_amplitude));
      for (size_t p = 0; p < count; p++) c->lyot_amplitude[p] = 1.0;
    }
    if (pp_optic_has_opd(spec) && !c->lyot_opd_m)
      PP_CALL(pp_array_alloc(count * sizeof(double), (void **)&c->lyot_opd_m));
    PP_CALL(pp_optic_apply_pupil(spec, &grid, c->lyot_amplitude,
                                 pp_optic_has_opd(spec) ? c->lyot_opd_m : NULL));
  }
  return PP_SUCCESS;
}

pp_status pp_corona_create(const pp_job *job, pp_coronagraph_method method, double pupil_diameter_m,
                           pp_corona **corona) {
  *corona = NULL;
  pp_status status = PP_SUCCESS;
  pp_corona *c = NULL;
  PP_CHECK(method == PP_CORONAGRAPH_SEMI_ANALYTIC || method == PP_CORONAGRAPH_MATRIX_FT,
           PP_ERR_INTERNAL, "pp_corona_create takes an MFT coronagraph method");
  PP_CALL_GOTO(status, pp_array_alloc(sizeof *c, (void **)&c));
  c->method = method;
  c->npix = job->pupil_npix;
  c->diameter_m = pupil_diameter_m;
  c->box_diameter_m = pp_corona_box_diameter(job, pupil_diameter_m);
  c->oversample = pp_job_coronagraph_oversample(job, method);
  c->detector_scale_arcsec = job->detector.pixelscale_arcsec;
  pp_job_coronagraph_box(job, method, c->box_arcsec);
  size_t first = pp_pupil_leading_optics(job), end = first;
  while (end < job->n_optics && pp_optic_is_image_plane(&job->optics[end])) end++;
  PP_CALL_GOTO(status, pp_array_alloc((end - first + 1) * sizeof(pp_optic_spec),
                                      (void **)&c->image_optics));
  for (size_t j = first; j < end; j++) {
    PP_CALL_GOTO(status, pp_optic_spec_copy(&job->optics[j], &c->image_optics[j - first]));
    c->n_image = j - first + 1;
  }
  PP_CALL_GOTO(status, pp_corona_fill_lyot(c, job, end));
  PP_CALL_GOTO(status, pp_array_alloc(c->npix * c->npix * sizeof(double complex), (void **)&c->back));
  PP_CALL_GOTO(status, pp_array_alloc(c->npix * c->npix * sizeof(double), (void **)&c->real_field));
  /* the first wavelength's box now, so that a box without pixels fails at create */
  double scale = pp_corona_box_scale(job, method, c->oversample, c->box_diameter_m,
                                     job->wavelengths_m[0]);
  PP_CALL_GOTO(status, pp_corona_size_box(c, pp_corona_box_pixels(c->box_arcsec[0], scale),
                                          pp_corona_box_pixels(c->box_arcsec[1], scale)));
  *corona = c;
  c = NULL;
done:
  pp_corona_destroy(&c);
  return status;
}

void pp_corona_destroy(pp_corona **corona) {
  if (!corona || !*corona) return;
  pp_corona *c = *corona;
  for (size_t j = 0; j < c->n_image; j++) pp_optic_spec_clear(&c->image_optics[j]);
  pp_array_free(&c->image_optics);
  pp_array_free(&c->lyot_amplitude);
  pp_array_free(&c->lyot_opd_m);
  pp_mft_plan_destroy(&c->to_box);
  pp_mft_plan_destroy(&c->from_box);
  pp_array_free(&c->box_field);
  pp_array_free(&c->mask);
  pp_array_free(&c->back);
  pp_array_free(&c->real_field);
  pp_array_free(corona);
}

/* The image optics on the box grid: field[box] *= M. */
static pp_status pp_corona_apply_mask(const pp_corona *c, double wavelength_m, double complex *field) {
  pp_image_grid grid = {.ny = c->box_ny, .nx = c->box_nx, .pixelscale_arcsec = c->box_scale_arcsec,
                        .centering = PP_IMAGE_CENTER_ARRAY};
  for (size_t j = 0; j < c->n_image; j++)
    PP_CALL(pp_optic_apply_image(&c->image_optics[j], &grid, wavelength_m, field));
  return PP_SUCCESS;
}

pp_status pp_corona_apply(pp_corona *c, double wavelength_m, double complex *field) {
  double scale = c->method == PP_CORONAGRAPH_SEMI_ANALYTIC
                     ? c->detector_scale_arcsec / (double)c->oversample
                     : wavelength_m / c->box_diameter_m * PP_ARCSEC_PER_RADIAN /
                           (double)c->oversample / 2.0;
  size_t ny = pp_corona_box_pixels(c->box_arcsec[0], scale);
  size_t nx = pp_corona_box_pixels(c->box_arcsec[1], scale);
  /* matrix_ft's box changes with λ: new plans then (an allocation per distinct size) */
  PP_CALL(pp_corona_size_box(c, ny, nx));
  c->box_scale_arcsec = scale;
  /* POPPY: fov = pixels·scale, nlamD = fov / (λ/D in arcsec), for both MFTs */
  double lambda_over_d_arcsec = wavelength_m / c->diameter_m * PP_ARCSEC_PER_RADIAN;
  double nlamd_y = (double)ny * scale / lambda_over_d_arcsec;
  double nlamd_x = (double)nx * scale / lambda_over_d_arcsec;
  PP_CALL(pp_mft_plan_set_nlamd(c->to_box, nlamd_y, nlamd_x));
  PP_CALL(pp_mft_plan_set_nlamd(c->from_box, nlamd_y, nlamd_x));
  size_t box_count = ny * nx, count = c->npix * c->npix;
  /* a pupil without OPD or tilt is real: the forward MFT's first product then runs as a real
   * dgemm (pp_mft_execute_real), half its flops */
  bool real = true;
  for (size_t p = 0; p < count && real; p++) real = cimag(field[p]) == 0.0;
  if (real) {
    for (size_t p = 0; p < count; p++) c->real_field[p] = creal(field[p]);
    PP_CALL(pp_mft_execute_real(c->to_box, c->real_field, c->box_field));
  } else {
    PP_CALL(pp_mft_execute(c->to_box, field, c->box_field));
  }
  if (c->method == PP_CORONAGRAPH_SEMI_ANALYTIC) {
    for (size_t p = 0; p < box_count; p++) c->mask[p] = 1.0;
    PP_CALL(pp_corona_apply_mask(c, wavelength_m, c->mask));
    for (size_t p = 0; p < box_count; p++) c->box_field[p] *= 1.0 - c->mask[p];
    PP_CALL(pp_mft_execute(c->from_box, c->box_field, c->back));
    for (size_t p = 0; p < count; p++) field[p] -= c->back[p];
  } else {
    PP_CALL(pp_corona_apply_mask(c, wavelength_m, c->box_field));
    PP_CALL(pp_mft_execute(c->from_box, c->box_field, field));
  }
  const double radians_per_metre = 2.0 * PP_PI / wavelength_m;
  if (c->lyot_amplitude)
    for (size_t p = 0; p < count; p++) {
      double complex value = field[p] * c->lyot_amplitude[p];
      if (c->lyot_opd_m && c->lyot_opd_m[p] != 0.0) {
        double phase = radians_per_metre * c->lyot_opd_m[p];
        value *= CMPLX(cos(phase), sin(phase));
      }
      field[p] = value;
    }
  return PP_SUCCESS;
}

size_t pp_corona_bytes_for_job(const pp_job *job, pp_coronagraph_method method) {
  size_t npix = job->pupil_npix, box[2];
  pp_corona_largest_box(job, method, pp_corona_box_diameter(job, 0.0), box);
  size_t box_count = box[0] * box[1];
  size_t bytes = sizeof(struct pp_corona) + pp_mft_plan_bytes(npix, npix, box[0], box[1]) +
                 pp_mft_plan_bytes(box[0], box[1], npix, npix) +
                 box_count * sizeof(double complex) * (method == PP_CORONAGRAPH_SEMI_ANALYTIC ? 2 : 1) +
                 npix * npix * (sizeof(double complex) + sizeof(double));
  /* the Lyot stop's transmission and OPD, when there are pupil optics after the mask */
  return bytes + 2 * npix * npix * sizeof(double);
}

double pp_corona_flops_for_job(const pp_job *job, pp_coronagraph_method method) {
  size_t npix = job->pupil_npix, box[2];
  pp_corona_largest_box(job, method, pp_corona_box_diameter(job, 0.0), box);
  return pp_mft_flops(npix, npix, box[0], box[1]) + pp_mft_flops(box[0], box[1], npix, npix);
}

bool pp_system_coronagraph_summary(const pp_job *job, char *text, size_t bytes) {
  text[0] = '\0';
  bool any_image = false;
  for (size_t j = 0; j < job->n_optics; j++) any_image = any_image || pp_optic_is_image_plane(&job->optics[j]);
  if (!any_image) return false;
  const pp_cost_rates *rates = pp_cost_rates_nominal();
  pp_coronagraph_method chosen = pp_corona_method_for_job(job, NULL);
  size_t n = job->pupil_npix * (size_t)job->fft_oversample;
  int len = snprintf(text, bytes, "coronagraph: %s (asked: %s); predicted per wavelength: fft "
                     "(two padded %zu × %zu FFTs) %.3g s",
                     pp_coronagraph_method_name(chosen), pp_coronagraph_method_name(job->coronagraph),
                     n, n, pp_corona_seconds(job, PP_CORONAGRAPH_FFT, rates));
  const pp_coronagraph_method mft[] = {PP_CORONAGRAPH_SEMI_ANALYTIC, PP_CORONAGRAPH_MATRIX_FT};
  for (size_t m = 0; m < 2 && len > 0 && (size_t)len < bytes; m++) {
    char why[320];
    if (pp_job_coronagraph_exact(job, mft[m], why, sizeof why)) {
      size_t box[2];
      pp_corona_largest_box(job, mft[m], pp_corona_box_diameter(job, 0.0), box);
      len += snprintf(text + len, bytes - (size_t)len, ", %s (MFTs to a box of %zu × %zu px) %.3g s",
                      pp_coronagraph_method_name(mft[m]), box[0], box[1],
                      pp_corona_seconds(job, mft[m], rates));
    } else {
      len += snprintf(text + len, bytes - (size_t)len, "; %s not exact: %s",
                      pp_coronagraph_method_name(mft[m]), why);
    }
  }
  return true;
}
