/* The pupil plane of a system: the array width, every pupil optic applied in job order,
 * and POPPY's 'first' normalization. */
#define POLYPSF_SYSTEM_INTERNAL
#include "system_private.h"

#include <math.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>

/* "job.yaml:12:5: " when the optic came from a file, else "". */
static void pp_optic_where(const pp_job *job, const pp_optic_spec *spec, char *where,
                           size_t bytes) {
  where[0] = '\0';
  if (spec->line > 0)
    snprintf(where, bytes, "%s:%d:%d: ", job->source_name ? job->source_name : "job",
             spec->line, spec->column);
}

size_t pp_pupil_leading_optics(const pp_job *job) {
  for (size_t j = 0; j < job->n_optics; j++) {
    const pp_optic_spec *spec = &job->optics[j];
    if (pp_optic_is_image_plane(spec) || pp_optic_needs_fft_padding(spec)) return j;
  }
  return job->n_optics;
}

pp_status pp_pupil_diameter_for_job(const pp_job *job, double *diameter_m) {
  *diameter_m = 0.0;
  double widest_m = 0.0;
  for (size_t j = 0; j < job->n_optics; j++) {
    const pp_optic_spec *spec = &job->optics[j];
    char where[512];
    pp_optic_where(job, spec, where, sizeof where);
    PP_CHECK(spec->type != NULL, PP_ERR_INTERNAL, "%soptic %zu has no type", where, j + 1);
    const char *label = spec->name[0] ? spec->name : spec->type->name;
    /* The wavefront enters in a pupil plane: an image-plane optic needs a pupil (an
     * aperture) before it to have a field to act on. */
    PP_CHECK(j > 0 || spec->type->plane == PP_PLANE_PUPIL, PP_ERR_INPUT,
             "%soptic 1 '%s' (%s) is an image-plane optic, but light enters the system in a "
             "pupil plane: put the aperture (e.g. circular_aperture) first",
             where, label, spec->type->name);
    /* Normalization 'first' scales the field after the first optic; a phase ramp there
     * would scale an unbounded all-ones field. */
    PP_CHECK(j > 0 || !pp_optic_needs_fft_padding(spec), PP_ERR_INPUT,
             "%soptic 1 '%s' (%s) is a phase tilt and cannot come first: put the aperture "
             "(e.g. circular_aperture) first, then the aligner",
             where, label, spec->type->name);
    double d_m = pp_optic_pupil_diameter_m(spec);
    PP_CHECK(isfinite(d_m) && d_m >= 0.0, PP_ERR_INPUT,
             "%soptic %zu '%s' asks for an invalid pupil diameter (%g m)", where, j + 1,
             spec->name[0] ? spec->name : spec->type->name, d_m);
    if (d_m > widest_m) widest_m = d_m;
  }
  PP_CHECK(widest_m > 0.0, PP_ERR_INPUT,
           "no optic sets the pupil diameter (%zu optics): the list needs an aperture, e.g. "
           "circular_aperture, hexagon_aperture or multi_hexagon_aperture", job->n_optics);
  if (pp_pupil_leading_optics(job) < job->n_optics) {
    PP_CHECK(job->fft_oversample > 0, PP_ERR_INPUT,
             "propagation.fft_oversample must be positive, got %d", job->fft_oversample);
    /* npix·fft_oversample squared, times the bytes of the padded planes, must not wrap */
    size_t npix = job->pupil_npix, oversample = (size_t)job->fft_oversample;
    size_t padded = npix <= SIZE_MAX / oversample ? npix * oversample : 0;
    PP_CHECK(padded > 0 && padded <= SIZE_MAX / padded / (4 * sizeof(double complex)),
             PP_ERR_INPUT,
             "the padded FFT plane npix·fft_oversample = %zu × %zu is too large to address",
             npix, oversample);
  }
  *diameter_m = widest_m;
  return PP_SUCCESS;
}

static double pp_sum_of_squares(const double *values, size_t count) {
  double sum = 0.0;
  for (size_t p = 0; p < count; p++) sum += values[p] * values[p];
  return sum;
}

/* Whether any of the leading optics adds OPD (then the pupil holds an OPD array). */
static bool pp_pupil_has_opd(const pp_job *job) {
  size_t leading = pp_pupil_leading_optics(job);
  bool any_opd = false;
  for (size_t j = 0; j < leading; j++) any_opd = any_opd || pp_optic_has_opd(&job->optics[j]);
  return any_opd;
}

static pp_status pp_pupil_fill(const pp_job *job, pp_pupil *pupil, size_t same_optics,
                               bool for_grid);

pp_status pp_pupil_build(const pp_job *job, pp_pupil *pupil) {
  *pupil = (pp_pupil){.normalization = 1.0};
  pp_status status = PP_SUCCESS;
  PP_CHECK_GOTO(status, job->pupil_npix > 0, PP_ERR_INPUT, "pupil npix must be positive");
  PP_CALL_GOTO(status, pp_pupil_diameter_for_job(job, &pupil->diameter_m));
  size_t npix = job->pupil_npix, count = 0, bytes = 0;
  pupil->grid = (pp_pupil_grid){.ny = npix, .nx = npix,
                                .pixelscale_m = pupil->diameter_m / (double)npix};
  PP_CALL_GOTO(status, pp_size_mul(npix, npix, &count));
  PP_CALL_GOTO(status, pp_size_mul(count, sizeof(double), &bytes));
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&pupil->amplitude));
  if (pp_pupil_has_opd(job)) PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&pupil->opd_m));
  PP_CALL_GOTO(status, pp_pupil_fill(job, pupil, 0, false));
done:
  if (status != PP_SUCCESS) pp_pupil_clear(pupil);
  return status;
}

bool pp_pupil_same_grid(const pp_job *job, const pp_pupil *pupil) {
  double diameter_m = 0.0;
  pp_status status = pp_pupil_diameter_for_job(job, &diameter_m);
  if (status != PP_SUCCESS) {
    pp_status_free(status);
    return false;
  }
  return pupil->amplitude != NULL && job->pupil_npix == pupil->grid.ny &&
         diameter_m == pupil->diameter_m && pp_pupil_has_opd(job) == (pupil->opd_m != NULL);
}

pp_status pp_pupil_refill(const pp_job *job, pp_pupil *pupil, size_t same_optics) {
  PP_CHECK(pp_pupil_same_grid(job, pupil), PP_ERR_INTERNAL,
           "pp_pupil_refill: the job's pupil grid differs from the pupil's");
  return pp_pupil_fill(job, pupil, same_optics, true);
}

/* A grid's first zernike_wfe after the optics every point shares, through its terms
 * evaluated once (made at the first call): *applied false when it is not that optic. */
static pp_status pp_pupil_apply_field_zernike(pp_pupil *pupil, size_t j,
                                              const pp_optic_spec *spec, bool *applied) {
  *applied = false;
  if (!pp_optic_is_zernike(spec) || (pupil->field_basis && pupil->field_basis_optic != j))
    return PP_SUCCESS;
  if (!pupil->field_basis) {
    PP_CALL(pp_zernike_basis_create(spec, &pupil->grid, &pupil->field_basis));
    pupil->field_basis_optic = j;
  }
  return pp_zernike_basis_apply(pupil->field_basis, spec, &pupil->grid, pupil->amplitude,
                                pupil->opd_m, applied);
}

/* The pupil from job's leading optics, in its arrays (pp_pupil_build, pp_pupil_refill);
 * for_grid keeps what every field point shares (the prefix, the Zernike terms). */
static pp_status pp_pupil_fill(const pp_job *job, pp_pupil *pupil, size_t same_optics,
                               bool for_grid) {
  size_t count = pupil->grid.ny * pupil->grid.nx, leading = pp_pupil_leading_optics(job);
  if (same_optics > leading) same_optics = leading;
  /* a cache of another prefix (not expected: one grid, one prefix) is dropped */
  if (pupil->prefix_amplitude && pupil->prefix_optics != same_optics) {
    pp_array_free(&pupil->prefix_amplitude);
    pp_array_free(&pupil->prefix_opd_m);
  }
  size_t first = 0;
  if (same_optics > 0 && pupil->prefix_amplitude) {
    memcpy(pupil->amplitude, pupil->prefix_amplitude, count * sizeof *pupil->amplitude);
    if (pupil->opd_m) memcpy(pupil->opd_m, pupil->prefix_opd_m, count * sizeof *pupil->opd_m);
    pupil->first_intensity = pupil->prefix_first_intensity;
    first = same_optics;
  } else {
    pupil->first_intensity = 0.0;
    for (size_t p = 0; p < count; p++) pupil->amplitude[p] = 1.0;
    /* no OPD until an optic adds some */
    if (pupil->opd_m) memset(pupil->opd_m, 0, count * sizeof *pupil->opd_m);
  }
  pupil->normalization = 1.0;

  /* The optics after the leading ones act after an image plane or on the complex field
   * (planes.c); here only the leading ones, which are all that touch the unpadded pupil
   * before any FFT. */
  for (size_t j = first; j < leading; j++) {
    const pp_optic_spec *spec = &job->optics[j];
    double *opd_m = pp_optic_has_opd(spec) ? pupil->opd_m : NULL;
    bool applied = false;
    if (for_grid && j >= same_optics)
      PP_CALL(pp_pupil_apply_field_zernike(pupil, j, spec, &applied));
    if (!applied) PP_CALL(pp_optic_apply_pupil(spec, &pupil->grid, pupil->amplitude, opd_m));
    if (j == 0) {
      /* The field is all ones before the first optic, so the amplitude now is the first
       * optic alone; its OPD is a pure phase and does not change the intensity. */
      pupil->first_intensity = pp_sum_of_squares(pupil->amplitude, count);
    }
    if (j + 1 == same_optics && !pupil->prefix_amplitude) {
      size_t bytes = count * sizeof(double);
      PP_CALL(pp_array_alloc(bytes, (void **)&pupil->prefix_amplitude));
      memcpy(pupil->prefix_amplitude, pupil->amplitude, bytes);
      if (pupil->opd_m) {
        PP_CALL(pp_array_alloc(bytes, (void **)&pupil->prefix_opd_m));
        memcpy(pupil->prefix_opd_m, pupil->opd_m, bytes);
      }
      pupil->prefix_optics = same_optics;
      pupil->prefix_first_intensity = pupil->first_intensity;
    }
  }
  if (job->normalize == PP_NORMALIZE_FIRST) {
    char where[512] = "";
    if (job->n_optics > 0) pp_optic_where(job, &job->optics[0], where, sizeof where);
    PP_CHECK(pupil->first_intensity > 0.0, PP_ERR_INPUT,
             "%sthe first optic '%s' transmits no light on the %zu × %zu pupil grid "
             "(%g m pixels), so normalization 'first' cannot scale it to 1",
             where, job->optics[0].name[0] ? job->optics[0].name : job->optics[0].type->name,
             pupil->grid.ny, pupil->grid.nx, pupil->grid.pixelscale_m);
    /* POPPY scales right after the first optic; scaling at the end is the same product
     * (later optics are linear in the field) and needs one pass instead of two. */
    pupil->normalization = 1.0 / sqrt(pupil->first_intensity);
    for (size_t p = 0; p < count; p++) pupil->amplitude[p] *= pupil->normalization;
  }
  return PP_SUCCESS;
}

void pp_pupil_clear(pp_pupil *pupil) {
  if (!pupil) return;
  pp_array_free(&pupil->amplitude);
  pp_array_free(&pupil->opd_m);
  pp_array_free(&pupil->prefix_amplitude);
  pp_array_free(&pupil->prefix_opd_m);
  pp_zernike_basis_destroy(&pupil->field_basis);
}
