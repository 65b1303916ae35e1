/* Length: a little over 600 lines, on purpose: creation, the per-wavelength PSF and the
 * plane table share the private pp_system struct (Fresnel jobs only dispatch here, to
 * fresnel_system.c); the plane capture and the plane sequence
 * are already in their own files (plane_capture.c, planes.c). */
/* An optical system: the pupil (built once), the plan of the transform to the detector (MFT
 * or chirp-z), and the scratch one wavelength needs, so that pp_system_psf allocates nothing.
 *
 * The transform. The MFT takes a real pupil as it is (pp_mft_execute_real, half the flops of
 * the first product); the chirp-z always takes a complex field, so for a real pupil with the
 * chirp-z the field is the amplitude copied once, at create. Which one runs is decided before
 * the system is built (pp_system_choose) and given to pp_system_create_with_method, so that
 * all ranks of a run use the same one.
 *
 * Off-axis sources. Like POPPY's OpticalSystem.input_wavefront, the source offset tilts the
 * wavefront entering the system; the tilt is the OPD −(x·θx + y·θy) on the pupil grid
 * (x, y the pixel centres in metres, θ the offset in radians), the phasor
 * exp(2πi·OPD/λ). With the forward MFT's exp(+2πi·x·u) kernel the PSF then sits at
 * u = θ: +θx moves it to larger column indices, +θy to larger row indices, by exactly the
 * offset (POPPY ≥ 1.0, test_sign_conventions.test_wavefront_tilt_sign_and_direction). The
 * ramp is separable, so per wavelength only two rows of npix phasors are evaluated, from
 * path lengths computed once. A tilted field is complex: the real-pupil MFT no longer
 * applies. A zero offset keeps the on-axis code path, bit for bit. */
#define POLYPSF_SYSTEM_INTERNAL
#include "polypsf/system.h"

#include <complex.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "polypsf/propagate.h"
#include "system_private.h"
#include "system/fresnel_private.h"

struct pp_system {
  pp_pupil pupil;
  pp_geometry geometry;                /* the job's sampling (geometry.c): the oversampled
                                          detector grid psf_ny × psf_nx and its pixel */
  double fov_arcsec_y, fov_arcsec_x;   /* fov_pixels × detector pixelscale, each axis */
  pp_method method;                    /* PP_METHOD_MFT or PP_METHOD_CZT */
  pp_mft_plan *mft;                    /* method mft */
  pp_czt_plan *czt;                    /* method czt */
  pp_planes *planes;                   /* image planes and aligners (planes.c), or NULL */
  double complex *field;               /* [npix²] amplitude · phasor; NULL for a real MFT */
  pp_phasor_table *phasors;            /* the OPD's phasors (when the pupil has OPD) */
  bool field_per_wavelength;           /* OPD or tilt: the field is formed for every λ */
  double complex *image;               /* [detector_ny·detector_nx] field on the detector */
  bool has_tilt;                       /* off-axis source: the field is tilted */
  double tilt_x_rad, tilt_y_rad;       /* the source offset, + towards larger indices */
  double *tilt_path_x_m, *tilt_path_y_m; /* [npix] tilt OPD along x and y (λ-independent) */
  double complex *tilt_x, *tilt_y;     /* [npix] exp(2πi·path/λ) at the current λ */
  bool runs_transform;                 /* false on a group's ranks other than its rank 0: they
                                          hold no detector transform (pp_system_create_group) */
  /* output.planes: set by pp_system_set_plane_sink, else capture.sink is NULL */
  pp_plane_sink sink;
  pp_plane_capture capture;
  size_t *plane_slot;                  /* [n_optics + 1], capture.slot */
  size_t n_optics, leading_last;       /* the job's optics; the last leading optic */
  pp_fresnel_system *fresnel;          /* Fresnel jobs (fresnel_system.c): all the above unused
                                          but geometry.psf_ny, geometry.psf_nx and method */
};

static bool pp_job_has_tilt(const pp_job *job) {
  return job->source.offset_x_arcsec != 0.0 || job->source.offset_y_arcsec != 0.0;
}

/* A tilt is sampled while its phase changes by less than half a cycle per pupil pixel:
 * |θ| < λ/(2·pixelscale) = npix·λ/(2·D). Beyond, it aliases to another direction. */
static double pp_tilt_limit_arcsec(double wavelength_m, double pupil_pixelscale_m) {
  return wavelength_m / (2.0 * pupil_pixelscale_m) * PP_ARCSEC_PER_RADIAN;
}

/* a·b without the C99 complex multiply's inf/nan special cases (a libgcc call each). */
static inline double complex pp_complex_mul(double complex a, double complex b) {
  double ar = creal(a), ai = cimag(a), br = creal(b), bi = cimag(b);
  return CMPLX(ar * br - ai * bi, ar * bi + ai * br);
}

pp_status pp_system_check_job(const pp_job *job, double *pupil_diameter_m) {
  PP_CHECK(job != NULL, PP_ERR_INTERNAL, "pp_system_check_job needs a job");
  if (job->mode == PP_PROPAGATION_FRESNEL) return pp_fresnel_check_job(job, pupil_diameter_m);
  const pp_detector_spec *det = &job->detector;
  PP_CHECK(det->fov_pixels_y > 0 && det->fov_pixels_x > 0 && det->oversample > 0 &&
               isfinite(det->pixelscale_arcsec) && det->pixelscale_arcsec > 0.0,
           PP_ERR_INPUT,
           "detector needs positive fov_pixels, oversample and pixelscale, got %zu × %zu "
           "pixels, oversample %d, pixelscale %g arcsec",
           det->fov_pixels_y, det->fov_pixels_x, det->oversample, det->pixelscale_arcsec);
  PP_CHECK(job->method == PP_METHOD_AUTO || job->method == PP_METHOD_MFT ||
               job->method == PP_METHOD_CZT,
           PP_ERR_INPUT,
           "propagation method '%s' cannot reach the detector: use 'auto', 'mft' (matrix "
           "Fourier transform) or 'czt' (chirp-z transform, the same result by FFTs); padded "
           "FFT planes are used by themselves around image-plane optics",
           pp_method_name(job->method));
  PP_CALL(pp_pupil_diameter_for_job(job, pupil_diameter_m));
  if (pp_job_has_tilt(job) && job->n_wavelengths > 0 && job->wavelengths_m && job->pupil_npix > 0) {
    double shortest_m = job->wavelengths_m[0];
    for (size_t i = 1; i < job->n_wavelengths; i++)
      if (job->wavelengths_m[i] < shortest_m) shortest_m = job->wavelengths_m[i];
    double limit_arcsec =
        pp_tilt_limit_arcsec(shortest_m, *pupil_diameter_m / (double)job->pupil_npix);
    double largest_arcsec = fmax(fabs(job->source.offset_x_arcsec),
                                 fabs(job->source.offset_y_arcsec));
    char where[512] = "";
    if (job->source.line > 0)
      snprintf(where, sizeof where, "%s:%d:%d: source: ",
               job->source_name ? job->source_name : "job", job->source.line,
               job->source.column);
    PP_CHECK(largest_arcsec < limit_arcsec, PP_ERR_INPUT,
             "%sthe source offset (x %.6g, y %.6g arcsec) is beyond what the pupil grid "
             "samples at the shortest wavelength %.6g m: each axis must stay below "
             "npix·λ/(2·D) = %zu·λ/(2·%.6g m) = %.6g arcsec; raise pupil.npix",
             where, job->source.offset_x_arcsec, job->source.offset_y_arcsec, shortest_m,
             job->pupil_npix, *pupil_diameter_m, limit_arcsec);
  }
  return PP_SUCCESS;
}

/* Whether the pupil field is complex: an optic adds OPD, the source is off-axis, or the
 * field goes through image planes or aligners. */
static bool pp_job_complex_field(const pp_job *job) {
  bool complex_field = pp_job_has_tilt(job) || pp_planes_needed(job);
  for (size_t j = 0; j < job->n_optics; j++)
    complex_field = complex_field || pp_optic_has_opd(&job->optics[j]);
  return complex_field;
}

/* OPD in the pupil array (the leading optics; later OPD belongs to the planes' bytes). */
static bool pp_job_has_opd(const pp_job *job) {
  for (size_t j = 0; j < pp_pupil_leading_optics(job); j++)
    if (pp_optic_has_opd(&job->optics[j])) return true;
  return false;
}

/* One formula for both the built system and the job-only estimate. */
static size_t pp_system_bytes_of(size_t npix, size_t detector_ny, size_t detector_nx,
                                 bool has_opd, bool has_tilt, pp_method method,
                                 size_t planes_bytes) {
  size_t pupil_count = npix * npix, image_count = detector_ny * detector_nx;
  bool with_field = has_opd || has_tilt || planes_bytes > 0 || method == PP_METHOD_CZT;
  size_t plan_bytes = method == PP_METHOD_CZT
                          ? pp_czt_plan_bytes(npix, npix, detector_ny, detector_nx)
                          : pp_mft_plan_bytes(npix, npix, detector_ny, detector_nx);
  return sizeof(struct pp_system) + pupil_count * sizeof(double) * (has_opd ? 2u : 1u) +
         plan_bytes + (with_field ? pupil_count * sizeof(double complex) : 0) +
         (has_tilt ? 2 * npix * (sizeof(double) + sizeof(double complex)) : 0) +
         image_count * sizeof(double complex) + planes_bytes;
}

static double pp_system_flops_of(size_t npix, size_t detector_ny, size_t detector_nx,
                                 bool complex_field, pp_method method) {
  if (method == PP_METHOD_CZT) return pp_czt_flops(npix, npix, detector_ny, detector_nx);
  return complex_field ? pp_mft_flops(npix, npix, detector_ny, detector_nx)
                       : pp_mft_flops_real(npix, npix, detector_ny, detector_nx);
}

pp_status pp_system_choose(const pp_job *job, const pp_cost_rates *rates, pp_system_choice *choice) {
  PP_CHECK(job != NULL && choice != NULL, PP_ERR_INTERNAL, "pp_system_choose needs a job and a choice");
  *choice = (pp_system_choice){.requested = job->method};
  double diameter_m = 0.0;
  PP_CALL(pp_system_check_job(job, &diameter_m));
  if (job->mode == PP_PROPAGATION_FRESNEL) return pp_fresnel_choose(job, choice);
  if (!rates) rates = pp_cost_rates_nominal();
  size_t npix = job->pupil_npix, ny = 0, nx = 0;
  PP_CALL(pp_geometry_psf_shape(job, &ny, &nx));
  bool has_opd = pp_job_has_opd(job), has_tilt = pp_job_has_tilt(job);
  size_t planes_bytes = 0;
  double planes_flops = 0.0;
  PP_CALL(pp_planes_bytes_for_job(job, &planes_bytes));
  PP_CALL(pp_planes_flops_for_job(job, &planes_flops));
  choice->complex_field = pp_job_complex_field(job);
  choice->n_in_y = choice->n_in_x = npix;
  choice->n_out_y = ny;
  choice->n_out_x = nx;
  choice->mft = (pp_system_candidate){
      .method = PP_METHOD_MFT,
      .seconds = pp_cost_mft_seconds(rates, npix, npix, ny, nx, !choice->complex_field),
      .flops = pp_system_flops_of(npix, ny, nx, choice->complex_field, PP_METHOD_MFT) +
               planes_flops,
      .bytes = pp_system_bytes_of(npix, ny, nx, has_opd, has_tilt, PP_METHOD_MFT, planes_bytes)};
  choice->czt = (pp_system_candidate){
      .method = PP_METHOD_CZT,
      .seconds = pp_cost_czt_seconds(rates, npix, npix, ny, nx),
      .flops = pp_system_flops_of(npix, ny, nx, choice->complex_field, PP_METHOD_CZT) +
               planes_flops,
      .bytes = pp_system_bytes_of(npix, ny, nx, has_opd, has_tilt, PP_METHOD_CZT, planes_bytes)};
  if (job->method == PP_METHOD_AUTO)
    choice->method = choice->czt.seconds < choice->mft.seconds ? PP_METHOD_CZT : PP_METHOD_MFT;
  else
    choice->method = job->method;
  return PP_SUCCESS;
}

/* The method a system of job is built with: auto resolved with the nominal rates. */
static pp_status pp_system_resolve(const pp_job *job, pp_method method, pp_method *resolved) {
  *resolved = method;
  if (method != PP_METHOD_AUTO) return PP_SUCCESS;
  pp_system_choice choice;
  PP_CALL(pp_system_choose(job, NULL, &choice));
  *resolved = choice.method;
  return PP_SUCCESS;
}

pp_status pp_system_create(const pp_job *job, pp_system **system) {
  PP_CHECK(job != NULL && system != NULL, PP_ERR_INTERNAL, "pp_system_create needs a job and an output");
  PP_CALL(pp_system_create_with_method(job, job->method, system));
  return PP_SUCCESS;
}

/* A real pupil for the chirp-z: the same complex field (the amplitude) at every
 * wavelength, formed once per pupil; nothing to do when the field is formed per wavelength
 * or the MFT takes the real amplitude itself. */
static void pp_system_fill_fixed_field(pp_system *s) {
  if (s->field_per_wavelength || !s->field) return;
  size_t count = s->pupil.grid.ny * s->pupil.grid.nx;
  for (size_t p = 0; p < count; p++) s->field[p] = s->pupil.amplitude[p];
}

/* The system's detector side and per-wavelength scratch, once its pupil and planes exist:
 * the transform's plan and image (when s->runs_transform), the complex field, the tilt. */
static pp_status pp_system_build_rest(const pp_job *job, pp_method method, pp_system *s) {
  size_t bytes = 0, image_count = 0;
  PP_CALL(pp_system_geometry(job, &s->geometry));
  /* POPPY's Detector: fov_arcsec = fov_pixels · pixelscale per axis (rectangular fields). */
  s->fov_arcsec_y = (double)s->geometry.detector_ny * s->geometry.detector_pixelscale_arcsec;
  s->fov_arcsec_x = (double)s->geometry.detector_nx * s->geometry.detector_pixelscale_arcsec;

  size_t npix = s->pupil.grid.ny;
  s->method = method;
  if (s->runs_transform && method == PP_METHOD_CZT)
    PP_CALL(pp_czt_plan_create(npix, npix, s->geometry.psf_ny, s->geometry.psf_nx, PP_MFT_FORWARD,
                               job->fft_rigor, &s->czt));
  else if (s->runs_transform)
    PP_CALL(pp_mft_plan_create(npix, npix, s->geometry.psf_ny, s->geometry.psf_nx, PP_MFT_FORWARD,
                               &s->mft));
  PP_CALL(pp_size_mul(s->geometry.psf_ny, s->geometry.psf_nx, &image_count));
  PP_CALL(pp_size_mul(image_count, sizeof(double complex), &bytes));
  if (s->runs_transform) PP_CALL(pp_array_alloc(bytes, (void **)&s->image));
  s->has_tilt = pp_job_has_tilt(job);
  s->field_per_wavelength = s->pupil.opd_m || s->has_tilt || s->planes;
  if (s->field_per_wavelength || method == PP_METHOD_CZT) {
    PP_CALL(pp_size_mul(npix * npix, sizeof(double complex), &bytes));
    PP_CALL(pp_array_alloc(bytes, (void **)&s->field));
  }
  if (s->pupil.opd_m) {
    PP_CALL(pp_array_alloc(sizeof *s->phasors, (void **)&s->phasors));
    pp_phasor_table_init(s->phasors);
  }
  pp_system_fill_fixed_field(s);
  if (s->has_tilt) {
    s->tilt_x_rad = job->source.offset_x_arcsec / PP_ARCSEC_PER_RADIAN;
    s->tilt_y_rad = job->source.offset_y_arcsec / PP_ARCSEC_PER_RADIAN;
    PP_CALL(pp_array_alloc(npix * sizeof(double), (void **)&s->tilt_path_x_m));
    PP_CALL(pp_array_alloc(npix * sizeof(double), (void **)&s->tilt_path_y_m));
    PP_CALL(pp_array_alloc(npix * sizeof(double complex), (void **)&s->tilt_x));
    PP_CALL(pp_array_alloc(npix * sizeof(double complex), (void **)&s->tilt_y));
    double pixelscale_m = s->pupil.grid.pixelscale_m;
    for (size_t i = 0; i < npix; i++) {
      /* pixel centres as POPPY's Wavefront.tilt places them */
      double centre_m = ((double)i - ((double)npix - 1.0) / 2.0) * pixelscale_m;
      s->tilt_path_x_m[i] = -centre_m * s->tilt_x_rad;
      s->tilt_path_y_m[i] = -centre_m * s->tilt_y_rad;
    }
  }
  return PP_SUCCESS;
}

/* The method checks shared by the serial and the group system. */
static pp_status pp_system_check_method(const pp_job *job, pp_method *method) {
  double diameter_m = 0.0;
  PP_CALL(pp_system_check_job(job, &diameter_m));
  PP_CALL(pp_system_resolve(job, *method, method));
  PP_CHECK(*method == PP_METHOD_MFT || *method == PP_METHOD_CZT, PP_ERR_INPUT,
           "the pupil → detector transform must be 'mft' or 'czt' (or 'auto'), got '%s'",
           pp_method_name(*method));
  return PP_SUCCESS;
}

/* A Fresnel job's system: the Fresnel system (fresnel_system.c) in a pp_system, on one rank
 * (group MPI_COMM_NULL) or as one rank of group (collective on it; the result on group
 * rank 0, which alone runs the detector's end). */
static pp_status pp_system_create_fresnel(const pp_job *job, MPI_Comm group, pp_system **system) {
  PP_CALL(pp_fresnel_check_job(job, NULL)); /* the same answer on every rank */
  int group_rank = 0;
  if (group != MPI_COMM_NULL) MPI_Comm_rank(group, &group_rank);
  pp_system *f = NULL;
  pp_status allocated = pp_array_alloc(sizeof *f, (void **)&f);
  if (group != MPI_COMM_NULL) allocated = pp_agree(group, allocated);
  if (allocated != PP_SUCCESS) {
    pp_array_free(&f); /* allocated here, failed elsewhere */
    return allocated;
  }
  f->method = PP_METHOD_FFT;
  f->runs_transform = group_rank == 0;
  pp_status made = group != MPI_COMM_NULL ? pp_fresnel_system_create_group(job, group, &f->fresnel)
                                          : pp_fresnel_system_create(job, &f->fresnel);
  if (made != PP_SUCCESS) {
    pp_array_free(&f);
    return made;
  }
  pp_fresnel_system_shape(f->fresnel, &f->geometry.psf_ny, &f->geometry.psf_nx);
  *system = f;
  return PP_SUCCESS;
}

pp_status pp_system_create_with_method(const pp_job *job, pp_method method, pp_system **system) {
  *system = NULL;
  if (job->mode == PP_PROPAGATION_FRESNEL)
    return pp_system_create_fresnel(job, MPI_COMM_NULL, system);
  PP_CALL(pp_system_check_method(job, &method));
  pp_status status = PP_SUCCESS;
  pp_system *s = NULL;
  PP_CALL_GOTO(status, pp_array_alloc(sizeof *s, (void **)&s));
  s->runs_transform = true;
  PP_CALL_GOTO(status, pp_pupil_build(job, &s->pupil));
  PP_CALL_GOTO(status, pp_planes_create(job, s->pupil.diameter_m, &s->planes));
  PP_CALL_GOTO(status, pp_system_build_rest(job, method, s));
  *system = s;
  s = NULL;
done:
  pp_system_destroy(&s);
  return status;
}

pp_status pp_system_create_group(const pp_job *job, pp_method method, MPI_Comm group,
                                 pp_system **system) {
  *system = NULL;
  if (job->mode == PP_PROPAGATION_FRESNEL) return pp_system_create_fresnel(job, group, system);
  /* the job and method checks give the same answer on every rank */
  PP_CALL(pp_system_check_method(job, &method));
  PP_CHECK(pp_planes_padded_size_for_job(job) > 0, PP_ERR_INPUT,
           "a rank group shares the padded planes of image-plane optics; this job has none");
  pp_status status = PP_SUCCESS;
  pp_system *s = NULL;
  int group_rank = 0;
  MPI_Comm_rank(group, &group_rank);
  pp_status local = pp_array_alloc(sizeof *s, (void **)&s);
  if (!local) {
    s->runs_transform = group_rank == 0;
    local = pp_pupil_build(job, &s->pupil);
  }
  PP_CALL_GOTO(status, pp_agree(group, local));
  PP_CALL_GOTO(status, pp_planes_create_slab(job, s->pupil.diameter_m, group, &s->planes));
  PP_CALL_GOTO(status, pp_agree(group, pp_system_build_rest(job, method, s)));
  *system = s;
  s = NULL;
done:
  pp_system_destroy(&s); /* every rank of the group alike: the slab planes' plans are collective */
  return status;
}

pp_status pp_system_change_optics(pp_system *system, const pp_job *job, size_t same_optics,
                                  bool *changed) {
  *changed = false;
  PP_CHECK(system != NULL && job != NULL, PP_ERR_INTERNAL,
           "pp_system_change_optics: NULL argument");
  pp_system *s = system;
  /* Only a plain pupil → detector system on one rank keeps its transform, and only for the
   * same pupil grid: planes, Fresnel systems and groups are made again by the caller. */
  if (s->fresnel || s->planes || !s->runs_transform || job->mode != PP_PROPAGATION_FRAUNHOFER ||
      pp_job_has_tilt(job) != s->has_tilt || !pp_pupil_same_grid(job, &s->pupil))
    return PP_SUCCESS;
  PP_CALL(pp_pupil_refill(job, &s->pupil, same_optics));
  pp_system_fill_fixed_field(s);
  *changed = true;
  return PP_SUCCESS;
}

void pp_system_destroy(pp_system **system) {
  if (!system || !*system) return;
  pp_system *s = *system;
  pp_fresnel_system_destroy(&s->fresnel);
  pp_pupil_clear(&s->pupil);
  pp_planes_destroy(&s->planes);
  pp_mft_plan_destroy(&s->mft);
  pp_czt_plan_destroy(&s->czt);
  pp_array_free(&s->field);
  pp_array_free(&s->phasors);
  pp_array_free(&s->image);
  pp_array_free(&s->tilt_path_x_m);
  pp_array_free(&s->tilt_path_y_m);
  pp_array_free(&s->tilt_x);
  pp_array_free(&s->tilt_y);
  free(s->plane_slot);
  pp_array_free(system);
}

/* exp(2πi·path/λ) for a row of path lengths; the phase in cycles is reduced to [−½, ½]
 * first (exactly) so that sin and cos see small arguments. */
static void pp_tilt_phasors(const double *path_m, size_t n, double wavelength_m,
                            double complex *phasors) {
  for (size_t i = 0; i < n; i++) {
    double cycles = path_m[i] / wavelength_m;
    double angle = 2.0 * PP_PI * (cycles - nearbyint(cycles));
    phasors[i] = CMPLX(cos(angle), sin(angle));
  }
}

/* field = amplitude · exp(2πi·OPD/λ) · tilt, skipping the dark part of the array. */
static void pp_system_fill_field(pp_system *system, double wavelength_m) {
  const double *amplitude = system->pupil.amplitude, *opd_m = system->pupil.opd_m;
  const double cycles_per_metre = 1.0 / wavelength_m;
  size_t ny = system->pupil.grid.ny, nx = system->pupil.grid.nx;
  if (system->has_tilt) {
    pp_tilt_phasors(system->tilt_path_x_m, nx, wavelength_m, system->tilt_x);
    pp_tilt_phasors(system->tilt_path_y_m, ny, wavelength_m, system->tilt_y);
  }
  for (size_t iy = 0; iy < ny; iy++) {
    double complex *field = system->field + iy * nx;
    const double *row_amplitude = amplitude + iy * nx;
    const double *row_opd_m = opd_m ? opd_m + iy * nx : NULL;
    for (size_t ix = 0; ix < nx; ix++) {
      /* Most of a pupil array is often dark (outside the aperture): no phasor there. */
      if (row_amplitude[ix] == 0.0) {
        field[ix] = 0.0;
        continue;
      }
      double complex value = row_amplitude[ix];
      if (row_opd_m) {
        double re = 0.0, im = 0.0;
        pp_phasor(system->phasors, cycles_per_metre * row_opd_m[ix], &re, &im);
        value = CMPLX(row_amplitude[ix] * re, row_amplitude[ix] * im);
      }
      if (system->has_tilt)
        value = pp_complex_mul(value, pp_complex_mul(system->tilt_y[iy], system->tilt_x[ix]));
      field[ix] = value;
    }
  }
}

/* The checks of pp_system_psf's arguments (system not NULL). */
static pp_status pp_system_psf_check(const pp_system *system, double wavelength_m,
                                     const double *psf) {
  PP_CHECK(psf != NULL || !system->runs_transform, PP_ERR_INTERNAL,
           "pp_system_psf needs an output");
  PP_CHECK(isfinite(wavelength_m) && wavelength_m > 0.0, PP_ERR_INPUT,
           "wavelength must be positive and finite, got %g m", wavelength_m);
  if (system->has_tilt) {
    double limit_arcsec = pp_tilt_limit_arcsec(wavelength_m, system->pupil.grid.pixelscale_m);
    double largest_arcsec =
        fmax(fabs(system->tilt_x_rad), fabs(system->tilt_y_rad)) * PP_ARCSEC_PER_RADIAN;
    PP_CHECK(largest_arcsec < limit_arcsec, PP_ERR_INPUT,
             "the source offset (%.6g arcsec) is beyond what the pupil grid samples at %.6g m "
             "(npix·λ/(2·D) = %.6g arcsec); raise pupil.npix",
             largest_arcsec, wavelength_m, limit_arcsec);
  }
  return PP_SUCCESS;
}

/* The detector field of one wavelength into system->image (what pp_system_psf and
 * pp_system_psf_add share): the checks, the pupil field, the planes, the transform. */
static pp_status pp_system_detector_field(pp_system *system, double wavelength_m, double *psf,
                                          const pp_plane_capture *capture) {
  MPI_Comm group = pp_planes_group_comm(system->planes);
  pp_status checked = pp_system_psf_check(system, wavelength_m, psf);
  /* a group agrees on the checks before its collective planes, so none is left waiting */
  if (group != MPI_COMM_NULL) PP_CALL(pp_agree(group, checked));
  else PP_CALL(checked);
  /* POPPY's Wavefront._propagate_mft: lam/D of the whole pupil array in arcsec, and the
   * detector field in those units, per axis. */
  double lambda_over_d_arcsec = wavelength_m / system->pupil.diameter_m * PP_ARCSEC_PER_RADIAN;
  double nlamd_y = system->fov_arcsec_y / lambda_over_d_arcsec;
  double nlamd_x = system->fov_arcsec_x / lambda_over_d_arcsec;

  if (system->field_per_wavelength) pp_system_fill_field(system, wavelength_m);
  if (capture)
    PP_CALL(pp_plane_capture_emit(capture, system->leading_last, system->pupil.grid.ny,
                                  system->field_per_wavelength ? system->field : NULL,
                                  system->pupil.amplitude, system->pupil.grid.pixelscale_m));
  if (system->planes) PP_CALL(pp_planes_apply(system->planes, wavelength_m, system->field));
  if (!system->runs_transform) return PP_SUCCESS; /* a group member: rank 0 has the field */
  if (system->method == PP_METHOD_CZT) {
    PP_CALL(pp_czt_plan_set_nlamd(system->czt, nlamd_y, nlamd_x));
    PP_CALL(pp_czt_execute(system->czt, system->field, system->image));
  } else if (system->field) {
    PP_CALL(pp_mft_plan_set_nlamd(system->mft, nlamd_y, nlamd_x));
    PP_CALL(pp_mft_execute(system->mft, system->field, system->image));
  } else {
    PP_CALL(pp_mft_plan_set_nlamd(system->mft, nlamd_y, nlamd_x));
    PP_CALL(pp_mft_execute_real(system->mft, system->pupil.amplitude, system->image));
  }
  return PP_SUCCESS;
}

pp_status pp_system_psf(pp_system *system, double wavelength_m, double *psf) {
  PP_CHECK(system != NULL, PP_ERR_INTERNAL, "pp_system_psf needs a system");
  if (system->fresnel) return pp_fresnel_system_psf(system->fresnel, wavelength_m, psf);
  const pp_plane_capture *capture = system->capture.sink ? &system->capture : NULL;
  PP_CALL(pp_system_detector_field(system, wavelength_m, psf, capture));
  if (!system->runs_transform) return PP_SUCCESS;
  size_t image_count = system->geometry.psf_ny * system->geometry.psf_nx;
  for (size_t p = 0; p < image_count; p++) {
    double re = creal(system->image[p]), im = cimag(system->image[p]);
    psf[p] = re * re + im * im;
  }
  if (capture && system->plane_slot[system->n_optics] != SIZE_MAX) {
    pp_plane_view view = {.plane = system->plane_slot[system->n_optics],
                          .ny = system->geometry.psf_ny, .nx = system->geometry.psf_nx,
                          .field = system->image, .field_scale = 1.0, .intensity = psf,
                          .pixelscale = system->geometry.psf_pixelscale_arcsec};
    PP_CALL(capture->sink->capture(capture->sink->context, &view));
  }
  return PP_SUCCESS;
}

pp_status pp_system_psf_add(pp_system *system, double wavelength_m, double weight,
                            double *sum, bool *added) {
  *added = false;
  PP_CHECK(system != NULL && sum != NULL, PP_ERR_INTERNAL, "pp_system_psf_add: NULL argument");
  if (system->fresnel || system->capture.sink || !system->runs_transform ||
      pp_planes_group_comm(system->planes) != MPI_COMM_NULL)
    return PP_SUCCESS;
  PP_CALL(pp_system_detector_field(system, wavelength_m, sum, NULL));
  size_t image_count = system->geometry.psf_ny * system->geometry.psf_nx;
  for (size_t p = 0; p < image_count; p++) {
    double re = creal(system->image[p]), im = cimag(system->image[p]);
    /* the intensity rounded as pp_system_psf stores it, then weighted and added */
    double intensity = re * re + im * im;
    sum[p] += weight * intensity;
  }
  *added = true;
  return PP_SUCCESS;
}

void pp_system_psf_shape(const pp_system *system, size_t *ny, size_t *nx) {
  *ny = system->geometry.psf_ny;
  *nx = system->geometry.psf_nx;
}

double pp_system_pupil_diameter_m(const pp_system *system) { return system->pupil.diameter_m; }

double pp_system_pupil_pixelscale_m(const pp_system *system) {
  return system->pupil.grid.pixelscale_m;
}

double pp_system_pixelscale_arcsec(const pp_system *system) { return system->geometry.psf_pixelscale_arcsec; }

pp_method pp_system_method(const pp_system *system) { return system->method; }

double pp_system_flops(const pp_system *system) {
  if (system->fresnel) {
    double flops = 0.0;
    return pp_fresnel_flops_for_job(pp_fresnel_system_job(system->fresnel), &flops) == PP_SUCCESS
               ? flops : 0.0;
  }
  return pp_system_flops_of(system->pupil.grid.ny, system->geometry.psf_ny, system->geometry.psf_nx,
                            system->field_per_wavelength, system->method) +
         pp_planes_flops(system->planes);
}

pp_status pp_system_flops_for_job(const pp_job *job, double *flops) {
  *flops = 0.0;
  PP_CHECK(job != NULL, PP_ERR_INTERNAL, "pp_system_flops_for_job needs a job");
  if (job->mode == PP_PROPAGATION_FRESNEL) return pp_fresnel_flops_for_job(job, flops);
  pp_method method = PP_METHOD_MFT;
  size_t ny = 0, nx = 0;
  PP_CALL(pp_system_resolve(job, job->method, &method));
  PP_CALL(pp_geometry_psf_shape(job, &ny, &nx));
  double planes_flops = 0.0;
  PP_CALL(pp_planes_flops_for_job(job, &planes_flops));
  *flops = pp_system_flops_of(job->pupil_npix, ny, nx, pp_job_complex_field(job), method) +
           planes_flops;
  return PP_SUCCESS;
}

size_t pp_system_bytes(const pp_system *system) {
  if (system->fresnel) return pp_fresnel_system_bytes(system->fresnel);
  return pp_system_bytes_of(system->pupil.grid.ny, system->geometry.psf_ny, system->geometry.psf_nx,
                            system->pupil.opd_m != NULL, system->has_tilt, system->method,
                            pp_planes_bytes(system->planes));
}

pp_status pp_system_bytes_for_job(const pp_job *job, size_t *bytes) {
  *bytes = 0;
  PP_CHECK(job != NULL, PP_ERR_INTERNAL, "pp_system_bytes_for_job needs a job");
  if (job->mode == PP_PROPAGATION_FRESNEL) return pp_fresnel_bytes_for_job(job, bytes);
  pp_method method = PP_METHOD_MFT;
  size_t ny = 0, nx = 0;
  PP_CALL(pp_system_resolve(job, job->method, &method));
  PP_CALL(pp_geometry_psf_shape(job, &ny, &nx));
  size_t planes_bytes = 0;
  PP_CALL(pp_planes_bytes_for_job(job, &planes_bytes));
  *bytes = pp_system_bytes_of(job->pupil_npix, ny, nx, pp_job_has_opd(job), pp_job_has_tilt(job),
                              method, planes_bytes);
  return PP_SUCCESS;
}

size_t pp_system_padded_size_for_job(const pp_job *job) {
  /* Fresnel: the padded n × n field a group shares (docs/fresnel.md) */
  size_t n = 0;
  if (job && job->mode == PP_PROPAGATION_FRESNEL)
    return pp_fresnel_padded_size(job, &n) == PP_SUCCESS ? n : 0;
  return job ? pp_planes_padded_size_for_job(job) : 0;
}

pp_status pp_system_group_bytes_for_job(const pp_job *job, pp_method method, int group_ranks,
                                        size_t *bytes) {
  *bytes = 0;
  PP_CHECK(job != NULL && group_ranks >= 1, PP_ERR_INTERNAL,
           "pp_system_group_bytes_for_job needs a job and a group size");
  if (job->mode == PP_PROPAGATION_FRESNEL)
    return pp_fresnel_group_bytes_for_job(job, group_ranks, bytes);
  PP_CALL(pp_system_resolve(job, method, &method));
  PP_CHECK(pp_planes_padded_size_for_job(job) > 0, PP_ERR_INPUT,
           "a rank group shares padded image planes; this job has none");
  size_t ny = 0, nx = 0, planes_bytes = 0;
  PP_CALL(pp_geometry_psf_shape(job, &ny, &nx));
  PP_CALL(pp_planes_slab_bytes_for_job(job, group_ranks, &planes_bytes));
  /* the group's rank 0, which also holds the transform: the largest rank of the group */
  *bytes = pp_system_bytes_of(job->pupil_npix, ny, nx, pp_job_has_opd(job), pp_job_has_tilt(job),
                              method, planes_bytes);
  return PP_SUCCESS;
}

pp_status pp_system_plan_fftw(const pp_job *job, pp_method method) {
  PP_CHECK(job != NULL, PP_ERR_INTERNAL, "pp_system_plan_fftw needs a job");
  if (job->mode == PP_PROPAGATION_FRESNEL) return pp_fresnel_plan_fftw(job);
  PP_CALL(pp_system_resolve(job, method, &method));
  PP_CALL(pp_planes_plan_fftw(job)); /* the padded FFTs of image planes, any method */
  if (method != PP_METHOD_CZT) return PP_SUCCESS;
  size_t ny = 0, nx = 0;
  pp_czt_plan *czt = NULL;
  PP_CALL(pp_geometry_psf_shape(job, &ny, &nx));
  PP_CALL(pp_czt_plan_create(job->pupil_npix, job->pupil_npix, ny, nx, PP_MFT_FORWARD,
                             job->fft_rigor, &czt));
  pp_czt_plan_destroy(&czt);
  return PP_SUCCESS;
}

/* ---- intermediate planes ---------------------------------------------------------------- */

const char *pp_plane_kind_name(pp_field_plane_kind kind) {
  switch (kind) {
    case PP_FIELD_PUPIL: return "pupil";
    case PP_FIELD_IMAGE: return "image";
    case PP_FIELD_DETECTOR: return "detector";
  }
  return "unknown";
}

/* wanted[r] for every representative r of a requested optic (the detector at n_optics). */
static pp_status pp_system_plane_table(const pp_job *job, bool *wanted, pp_field_plane_kind *kind,
                                       size_t *side) {
  pp_status status = PP_SUCCESS;
  size_t n = job->n_optics;
  size_t *representative = calloc(n + 1, sizeof *representative);
  PP_CHECK(representative != NULL, PP_ERR_MEMORY, "out of memory");
  PP_CALL_GOTO(status, pp_planes_describe_job(job, representative, kind, side));
  for (size_t k = 0; k <= n; k++) wanted[k] = false;
  for (size_t k = 0; k < n; k++)
    if (job->planes_requested[k]) wanted[representative[k]] = true;
  wanted[n] = job->planes_requested[n];
done:
  free(representative);
  return status;
}

pp_status pp_system_requested_planes(const pp_job *job, pp_plane_info **planes,
                                     size_t *n_planes) {
  PP_CHECK(job != NULL && planes != NULL && n_planes != NULL, PP_ERR_INTERNAL,
           "pp_system_requested_planes: NULL argument");
  *planes = NULL;
  *n_planes = 0;
  if (!job->planes_requested) return PP_SUCCESS;
  if (job->mode == PP_PROPAGATION_FRESNEL) return pp_fresnel_requested_planes(job, planes, n_planes);
  pp_status status = PP_SUCCESS;
  size_t n = job->n_optics, count = 0, ny = 0, nx = 0;
  bool *wanted = calloc(n + 1, sizeof *wanted);
  pp_field_plane_kind *kind = calloc(n + 1, sizeof *kind);
  size_t *side = calloc(n + 1, sizeof *side);
  pp_plane_info *list = calloc(n + 1, sizeof *list);
  PP_CHECK_GOTO(status, wanted && kind && side && list, PP_ERR_MEMORY, "out of memory");
  PP_CALL_GOTO(status, pp_geometry_psf_shape(job, &ny, &nx));
  PP_CALL_GOTO(status, pp_system_plane_table(job, wanted, kind, side));
  for (size_t k = 0; k < n; k++)
    if (wanted[k])
      list[count++] = (pp_plane_info){.optic_index = k, .kind = kind[k], .ny = side[k],
                                      .nx = side[k]};
  if (wanted[n])
    list[count++] = (pp_plane_info){.optic_index = n, .kind = PP_FIELD_DETECTOR, .ny = ny,
                                    .nx = nx};
  *planes = list;
  *n_planes = count;
  list = NULL;
done:
  free(wanted);
  free(kind);
  free(side);
  free(list);
  return status;
}

pp_status pp_system_set_plane_sink(pp_system *system, const pp_job *job,
                                   const pp_plane_sink *sink) {
  PP_CHECK(system != NULL && job != NULL, PP_ERR_INTERNAL,
           "pp_system_set_plane_sink: NULL argument");
  if (system->fresnel) return pp_fresnel_system_set_sink(system->fresnel, sink);
  system->capture = (pp_plane_capture){0};
  pp_planes_set_capture(system->planes, NULL, 0);
  free(system->plane_slot);
  system->plane_slot = NULL;
  if (!sink || !job->planes_requested) return PP_SUCCESS;
  pp_status status = PP_SUCCESS;
  size_t n = job->n_optics;
  bool *wanted = calloc(n + 1, sizeof *wanted);
  pp_field_plane_kind *kind = calloc(n + 1, sizeof *kind);
  size_t *side = calloc(n + 1, sizeof *side);
  system->plane_slot = calloc(n + 1, sizeof *system->plane_slot);
  PP_CHECK_GOTO(status, wanted && kind && side && system->plane_slot, PP_ERR_MEMORY,
                "out of memory");
  PP_CALL_GOTO(status, pp_system_plane_table(job, wanted, kind, side));
  /* the same order as pp_system_requested_planes */
  size_t position = 0;
  for (size_t k = 0; k <= n; k++) system->plane_slot[k] = wanted[k] ? position++ : SIZE_MAX;
  system->sink = *sink;
  system->n_optics = n;
  system->leading_last = pp_pupil_leading_optics(job) - 1;
  system->capture = (pp_plane_capture){.sink = &system->sink, .slot = system->plane_slot,
                                       .field_scale = 1.0 / system->pupil.normalization};
  pp_planes_set_capture(system->planes, &system->capture, pp_pupil_leading_optics(job));
done:
  free(wanted);
  free(kind);
  free(side);
  if (status) {
    free(system->plane_slot);
    system->plane_slot = NULL;
  }
  return status;
}
