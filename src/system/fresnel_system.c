/* POPPY's FresnelOpticalSystem (poppy/fresnel.py, POPPY 1.1): the wavefront, its Gaussian
 * pilot beam, and the walk from optic to optic, one wavelength at a time. docs/fresnel.md.
 * Length: about 660 lines, on purpose: the walk with arrays and the walk without them (the
 * trace the memory model, the output's pixel scales and the planes use) must take the same
 * steps, so they sit side by side here, where a change to one is seen beside the other; the
 * propagators are in src/propagate/fresnel_steps.c and the detector in fresnel_detector.c.
 *
 * The pilot beam starts with its waist at the entrance pupil (waist radius = pupil radius,
 * Rayleigh distance z_R = π·w₀²/λ). Each propagation over a distance picks POPPY's steps:
 * within z_R of the waist plane to plane (angular spectrum), otherwise through the waist
 * (plane to waist, waist to a spherical reference surface; or spherical to waist and on),
 * src/propagate/fresnel_steps.c. A quadratic_lens moves the waist (Gaussian beam optics) and
 * applies the phase left over once the reference surface has changed. Every other optic
 * multiplies the field on the current grid, whose optical axis is pixel (N/2, N/2). */
#define POLYPSF_SYSTEM_INTERNAL
#include "system/fresnel_private.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/optics.h"

/* POPPY's FresnelWavefront(rayleigh_factor=2.0): a lens sees a spherical beam beyond twice
 * the Rayleigh distance from the waist. */
#define PP_FRESNEL_RAYLEIGH_FACTOR 2.0

struct pp_fresnel_system {
  const pp_job *job;          /* borrowed: outlives the system */
  size_t npix, n;             /* pupil pixels; padded side npix / beam_ratio */
  size_t ones_first;          /* the npix × npix block of ones starts here on both axes */
  size_t out_n;               /* the result's side: fov_pixels, or n without a detector */
  pp_fresnel_plans plans;
  double complex *field;      /* [n][n] */
  bool fft_layout;            /* field in the propagators' layout (axis at (0, 0)), not
                                 centred: a propagation leaves it so, and a lens right after
                                 applies its phase there, which spares the two quadrant swaps
                                 between consecutive propagations (pp_fresnel_layout) */
  double *amplitude, *opd_m;  /* [(n+1)²]: optics evaluated on n + 1 pixels (see apply);
                                 opd_m NULL when no optic has an OPD */
  double *entrance;           /* [n²]: the field after the entrance optics, or NULL */
  size_t entrance_count;      /* the first optics, at distance 0, amplitude only: the same at
                                 every wavelength (the pupil's pixel scale is λ's-free), so
                                 made once at create */
  double entrance_scale;      /* normalization 'first': 1/sqrt(Σ|E|² after optic 0), else 1 */
  double complex *detector;   /* [out_n²] and its scratch after it */
  double complex *detector_scratch;
  size_t bytes;
  pp_fresnel_beam beam;       /* after the last pp_fresnel_system_psf */
  pp_plane_sink sink;         /* output.planes: sink.capture NULL when none */
  size_t *plane_slot;         /* [n_optics + 1]: position in the requested planes, or SIZE_MAX */
  double field_scale;         /* undoes the normalization in a captured plane */
  pp_fresnel_plane_state *planes; /* [n_optics + 1] of the last call */
  double out_pixelscale_m;
  /* A rank group (pp_fresnel_system_create_group): the plans hold rows [row0, row0 + nrows)
   * of the field; group duplicates the caller's communicator for the sums and gathers. */
  MPI_Comm group;             /* MPI_COMM_NULL on one rank */
  int group_rank, group_size;
  unsigned long long *rows_of_rank; /* [2·group_size]: every rank's row0 and nrows */
  double complex *detector_rows; /* [ceil(n/size)][max(fov, n)] + work: this rank's rows for
                                    the detector */
  double *partial_sums;       /* [group_size]: the intensity sum's parts, in rank order */
  size_t *gather_first, *gather_end; /* [group_size] each: the rows a gather takes per rank */
  int *gather_counts, *gather_displs; /* [group_size] each: its MPI counts (rank 0's) */
};

pp_status pp_fresnel_padded_size(const pp_job *job, size_t *n) {
  PP_CHECK(job && job->mode == PP_PROPAGATION_FRESNEL, PP_ERR_INTERNAL,
           "pp_fresnel_padded_size: not a Fresnel job");
  /* POPPY: oversample = 1/beam_ratio, n = int(np.round(npix·oversample)) (half to even, as
   * nearbyint in the default rounding mode). */
  double oversample = 1.0 / job->fresnel.beam_ratio;
  double side = nearbyint((double)job->pupil_npix * oversample);
  PP_CHECK(side <= (double)PP_JOB_MAX_NPIX * 4.0, PP_ERR_INPUT,
           "npix / beam_ratio = %.0f pixels per side is more than the limit %d",
           side, PP_JOB_MAX_NPIX * 4);
  PP_CHECK(fmod(side, 2.0) == 0.0, PP_ERR_INPUT,
           "npix / beam_ratio = %.0f pixels per side must be even (the optical axis is the "
           "pixel n/2 of an FFT grid); change npix or beam_ratio",
           side);
  *n = (size_t)side;
  return PP_SUCCESS;
}

/* How many optics from the first are the same at every wavelength: at distance 0, not a
 * lens, without OPD (their product is computed once, at the pupil's pixel scale). */
static size_t pp_fresnel_entrance_count(const pp_job *job) {
  size_t k = 0;
  if (job->planes_requested) return 0; /* each optic's own plane is wanted then */
  while (k < job->n_optics && (!job->fresnel.distance_m || job->fresnel.distance_m[k] == 0.0) &&
         strcmp(job->optics[k].type->name, "quadratic_lens") != 0 &&
         !pp_optic_has_opd(&job->optics[k]))
    k++;
  return k;
}

static size_t pp_fresnel_out_side(const pp_job *job, size_t n) {
  return job->fresnel.has_detector ? job->fresnel.detector_fov_pixels : n;
}

/* How many (n + 1)² grids of doubles the optics are evaluated on: the amplitude, and the OPD
 * when an optic other than a lens (a quadratic phase, never evaluated on a grid) has one. */
static size_t pp_fresnel_optics_grids(const pp_job *job) {
  for (size_t k = 0; k < job->n_optics; k++)
    if (strcmp(job->optics[k].type->name, "quadratic_lens") != 0 &&
        pp_optic_has_opd(&job->optics[k]))
      return 2;
  return 1;
}

pp_status pp_fresnel_bytes_for_job(const pp_job *job, size_t *bytes) {
  size_t n;
  PP_CALL(pp_fresnel_padded_size(job, &n));
  size_t out = pp_fresnel_out_side(job, n);
  size_t total = n * n * sizeof(double complex) +              /* the field */
                 pp_fresnel_optics_grids(job) * (n + 1) * (n + 1) * sizeof(double) +
                 (n * n * 2) * sizeof(double complex);          /* FFTW's planning arrays, transient */
  if (pp_fresnel_entrance_count(job) > 0) total += n * n * sizeof(double); /* the entrance */
  if (job->fresnel.has_detector)
    total += (out * out + pp_fresnel_detector_scratch_elements(n, out)) * sizeof(double complex);
  *bytes = total;
  return PP_SUCCESS;
}

pp_status pp_fresnel_group_bytes_for_job(const pp_job *job, int group_ranks, size_t *bytes) {
  PP_CHECK(group_ranks >= 1, PP_ERR_INTERNAL, "a rank group has at least one rank");
  size_t n;
  PP_CALL(pp_fresnel_padded_size(job, &n));
  size_t out = pp_fresnel_out_side(job, n), c = sizeof(double complex);
  /* group rank 0, the largest: FFTW-MPI's blocks of ceil(n/g) rows */
  size_t block = (n + (size_t)group_ranks - 1) / (size_t)group_ranks;
  size_t total = block * n * c +                                /* its rows of the field */
                 /* amplitude and OPD: whole, as pupil optics have no slabs */
                 pp_fresnel_optics_grids(job) * (n + 1) * (n + 1) * sizeof(double) +
                 pp_fft_mpi_plan_bytes(n, (size_t)group_ranks); /* planning / transpose slab */
  if (pp_fresnel_entrance_count(job) > 0) total += block * n * sizeof(double);
  if (job->fresnel.has_detector) {
    size_t width = out > n ? out : n;
    total += (block * width + pp_fresnel_detector_work_elements(n, out)) * c + /* its rows */
             (out * out + pp_fresnel_detector_scratch_elements(n, out)) * c; /* rank 0 gathers */
  }
  *bytes = total;
  return PP_SUCCESS;
}

void pp_fresnel_system_destroy(pp_fresnel_system **system) {
  if (!system || !*system) return;
  pp_fresnel_system *s = *system;
  pp_fresnel_plans_destroy(&s->plans); /* collective on a group */
  if (s->group != MPI_COMM_NULL) MPI_Comm_free(&s->group);
  free(s->rows_of_rank);
  free(s->partial_sums);
  free(s->gather_first);
  free(s->gather_counts);
  pp_array_free(&s->detector_rows);
  pp_array_free(&s->field);
  pp_array_free(&s->amplitude);
  pp_array_free(&s->opd_m);
  pp_array_free(&s->detector);
  pp_array_free(&s->detector_scratch);
  pp_array_free(&s->entrance);
  free(s->planes);
  free(s->plane_slot);
  free(s);
  *system = NULL;
}

static pp_status pp_fresnel_entrance_build(pp_fresnel_system *s);

/* The arrays of one rank's system: all of it on one rank, its rows of the field on a group. */
static pp_status pp_fresnel_system_allocate(pp_fresnel_system *s) {
  const pp_job *job = s->job;
  size_t n = s->n;
  s->planes = calloc(job->n_optics + 1, sizeof *s->planes);
  PP_CHECK(s->planes, PP_ERR_MEMORY, "cannot allocate %zu plane records", job->n_optics + 1);
  PP_CALL(pp_array_alloc(s->plans.local_elements * sizeof(double complex), (void **)&s->field));
  PP_CALL(pp_array_alloc((n + 1) * (n + 1) * sizeof(double), (void **)&s->amplitude));
  if (pp_fresnel_optics_grids(job) == 2)
    PP_CALL(pp_array_alloc((n + 1) * (n + 1) * sizeof(double), (void **)&s->opd_m));
  if (job->fresnel.has_detector && (s->group == MPI_COMM_NULL || s->group_rank == 0)) {
    PP_CALL(pp_array_alloc(s->out_n * s->out_n * sizeof(double complex), (void **)&s->detector));
    PP_CALL(pp_array_alloc(pp_fresnel_detector_scratch_elements(n, s->out_n) *
                               sizeof(double complex),
                           (void **)&s->detector_scratch));
  }
  if (job->fresnel.has_detector && s->group != MPI_COMM_NULL) {
    size_t block = (n + (size_t)s->group_size - 1) / (size_t)s->group_size;
    /* the resampled rows, or the crop's rows (≤ n wide when the field is narrower) */
    size_t width = s->out_n > n ? s->out_n : n;
    PP_CALL(pp_array_alloc((block * width + pp_fresnel_detector_work_elements(n, s->out_n)) *
                               sizeof(double complex),
                           (void **)&s->detector_rows));
  }
  return PP_SUCCESS;
}

/* The system's fields from the job (no arrays). */
static pp_status pp_fresnel_system_start(const pp_job *job, pp_fresnel_system **system) {
  size_t n;
  PP_CALL(pp_fresnel_padded_size(job, &n));
  pp_fresnel_system *s = calloc(1, sizeof *s);
  PP_CHECK(s, PP_ERR_MEMORY, "cannot allocate a Fresnel system");
  s->job = job;
  s->npix = job->pupil_npix;
  s->n = n;
  s->group = MPI_COMM_NULL;
  s->group_size = 1;
  /* POPPY's pad_to_oversample: n0 = round(npix·(oversample − 1)/2). */
  double oversample = 1.0 / job->fresnel.beam_ratio;
  s->ones_first = (size_t)nearbyint((double)s->npix * (oversample - 1.0) / 2.0);
  if (s->ones_first + s->npix > n) s->ones_first = n - s->npix;
  s->out_n = pp_fresnel_out_side(job, n);
  *system = s;
  return PP_SUCCESS;
}

pp_status pp_fresnel_system_create(const pp_job *job, pp_fresnel_system **system) {
  PP_CHECK(job && system, PP_ERR_INTERNAL, "pp_fresnel_system_create: NULL argument");
  *system = NULL;
  pp_fresnel_system *s = NULL;
  PP_CALL(pp_fresnel_system_start(job, &s));
  pp_status status = PP_SUCCESS;
  PP_CALL_GOTO(status, pp_fresnel_plans_create(s->n, job->fft_rigor,
                                               job->fft_engine == PP_FFT_ENGINE_PASSES, &s->plans));
  PP_CALL_GOTO(status, pp_fresnel_system_allocate(s));
  PP_CALL_GOTO(status, pp_fresnel_bytes_for_job(job, &s->bytes));
  PP_CALL_GOTO(status, pp_fresnel_entrance_build(s));
  *system = s;
  return PP_SUCCESS;
done:
  pp_fresnel_system_destroy(&s);
  return status;
}

pp_status pp_fresnel_system_create_group(const pp_job *job, MPI_Comm group,
                                         pp_fresnel_system **system) {
  PP_CHECK(job && system, PP_ERR_INTERNAL, "pp_fresnel_system_create_group: NULL argument");
  *system = NULL;
  pp_fresnel_system *s = NULL;
  /* the same job on every rank: these fail everywhere or nowhere */
  PP_CALL(pp_fresnel_system_start(job, &s));
  pp_status status = PP_SUCCESS;
  PP_CHECK_GOTO(status,
                s->n * s->n <= (size_t)INT_MAX && (s->n + 2) * s->out_n <= (size_t)INT_MAX &&
                    !job->planes_requested,
                PP_ERR_INPUT,
                "a Fresnel rank group needs n² and (n + 2)·fov ≤ %d elements (MPI counts) and "
                "no output.planes", INT_MAX);
  PP_CALL_GOTO(status, pp_fresnel_plans_create_group(group, s->n, job->fft_rigor, &s->plans));
  PP_CALL_GOTO(status, pp_comm_dup(group, &s->group));
  MPI_Comm_rank(s->group, &s->group_rank);
  MPI_Comm_size(s->group, &s->group_size);
  pp_status local = PP_SUCCESS;
  s->rows_of_rank = malloc(2 * (size_t)s->group_size * sizeof *s->rows_of_rank);
  size_t g = (size_t)s->group_size;
  s->partial_sums = malloc(g * sizeof *s->partial_sums);
  s->gather_first = malloc(2 * g * sizeof *s->gather_first);
  s->gather_counts = malloc(2 * g * sizeof *s->gather_counts);
  if (s->gather_first) s->gather_end = s->gather_first + g;
  if (s->gather_counts) s->gather_displs = s->gather_counts + g;
  if (!s->rows_of_rank || !s->partial_sums || !s->gather_first || !s->gather_counts)
    local = pp_error_raise(PP_ERR_MEMORY, __FILE__, __LINE__, __func__, "out of memory");
  if (local == PP_SUCCESS) local = pp_fresnel_system_allocate(s);
  PP_CALL_GOTO(status, pp_agree(s->group, local));
  unsigned long long mine[2] = {s->plans.row0, s->plans.nrows};
  PP_CHECK_GOTO(status, MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG_LONG, s->rows_of_rank, 2,
                                      MPI_UNSIGNED_LONG_LONG, s->group) == MPI_SUCCESS,
                PP_ERR_MPI, "MPI_Allgather of the group's rows failed");
  PP_CALL_GOTO(status, pp_agree(s->group, pp_fresnel_group_bytes_for_job(job, s->group_size,
                                                                         &s->bytes)));
  PP_CALL_GOTO(status, pp_agree(s->group, pp_fresnel_entrance_build(s)));
  *system = s;
  return PP_SUCCESS;
done:
  pp_fresnel_system_destroy(&s); /* collective: the plans' destruction is */
  return status;
}

/* ---- the pilot beam (POPPY's FresnelWavefront properties) ------------------------------ */

static double pp_beam_rayleigh_m(const pp_fresnel_beam *beam) {
  return PP_PI * beam->waist_m * beam->waist_m / beam->wavelength_m;
}

/* Beam radius at the current z: w₀·sqrt(1 + ((z − z_w0)/z_R)²). */
static double pp_beam_spot_radius_m(const pp_fresnel_beam *beam) {
  double ratio = (beam->z_m - beam->z_waist_m) / pp_beam_rayleigh_m(beam);
  return beam->waist_m * sqrt(1.0 + ratio * ratio);
}

/* Radius of curvature at the current z: dz·(1 + (z_R/dz)²), infinite at the waist. */
static double pp_beam_curvature_m(const pp_fresnel_beam *beam) {
  double dz = beam->z_m - beam->z_waist_m;
  if (dz == 0.0) return INFINITY;
  double ratio = pp_beam_rayleigh_m(beam) / dz;
  return dz * (1.0 + ratio * ratio);
}

/* ---- one propagation over a distance (POPPY's propagate_fresnel) ----------------------- */

static pp_status pp_fresnel_ptp(pp_fresnel_system *s, double dz_m) {
  pp_fresnel_beam *b = &s->beam;
  if (fabs(dz_m) < PP_FRESNEL_MIN_STEP_M) return PP_SUCCESS; /* z unchanged, as POPPY */
  PP_CALL(pp_fresnel_plane_to_plane(&s->plans, s->field, s->n, b->pixelscale_m,
                                    b->wavelength_m, dz_m));
  b->z_m += dz_m;
  return PP_SUCCESS;
}

static pp_status pp_fresnel_wts(pp_fresnel_system *s, double dz_m) {
  pp_fresnel_beam *b = &s->beam;
  if (dz_m == 0.0) return PP_SUCCESS;
  PP_CALL(pp_fresnel_waist_to_spherical(&s->plans, s->field, s->n, &b->pixelscale_m,
                                        b->wavelength_m, dz_m));
  b->z_m += dz_m;
  b->spherical = true;
  return PP_SUCCESS;
}

static pp_status pp_fresnel_stw(pp_fresnel_system *s, double dz_m) {
  pp_fresnel_beam *b = &s->beam;
  if (dz_m == 0.0) return PP_SUCCESS;
  PP_CALL(pp_fresnel_spherical_to_waist(&s->plans, s->field, s->n, &b->pixelscale_m,
                                        b->wavelength_m, dz_m));
  b->z_m += dz_m;
  b->spherical = false;
  return PP_SUCCESS;
}

/* The field into the propagators' layout (fft true) or centred, by a quadrant swap when it is
 * in the other one (nothing on a group, whose field stays centred). Every element keeps its
 * value and coordinate, so the layout a step runs in changes no bit of the result. */
static void pp_fresnel_layout(pp_fresnel_system *s, bool fft) {
  if (s->fft_layout == fft) return;
  pp_fresnel_to_fft_layout(&s->plans, s->field);
  s->fft_layout = fft;
}

/* One distance; leaves the field in the propagators' layout. */
static pp_status pp_fresnel_propagate(pp_fresnel_system *s, double distance_m) {
  pp_fresnel_beam *b = &s->beam;
  double z_target = b->z_m + distance_m;
  /* POPPY's planar_range: within one Rayleigh distance of the waist. */
  bool target_planar = fabs(b->z_waist_m - z_target) < pp_beam_rayleigh_m(b);
  pp_fresnel_layout(s, true);
  if (!b->spherical) {
    if (target_planar) {
      PP_CALL(pp_fresnel_ptp(s, distance_m));
    } else {
      PP_CALL(pp_fresnel_ptp(s, b->z_waist_m - b->z_m));
      PP_CALL(pp_fresnel_wts(s, z_target - b->z_waist_m));
    }
  } else {
    PP_CALL(pp_fresnel_stw(s, b->z_waist_m - b->z_m));
    if (target_planar) PP_CALL(pp_fresnel_ptp(s, z_target - b->z_waist_m));
    else PP_CALL(pp_fresnel_wts(s, z_target - b->z_waist_m));
  }
  return PP_SUCCESS;
}

/* ---- optics ------------------------------------------------------------------------------ */

/* POPPY's apply_lens_power on the beam alone: the new waist and focal length, and the
 * radius z_eff whose QuadPhase(−z_eff) is the phase left to apply (the reference surface
 * changes with the beam). Updates beam->spherical as POPPY does. */
static double pp_fresnel_lens_beam(pp_fresnel_beam *b, double f_lens_m) {
  double spot_m = pp_beam_spot_radius_m(b);
  double r_input_m, r_output_m;
  if (fabs(b->z_waist_m - b->z_m) > PP_FRESNEL_RAYLEIGH_FACTOR * pp_beam_rayleigh_m(b)) {
    r_input_m = b->z_m - b->z_waist_m;
    r_output_m = 1.0 / (1.0 / pp_beam_curvature_m(b) - 1.0 / f_lens_m);
  } else {
    r_input_m = INFINITY; /* at a focus or a pupil: the lens alone curves the beam */
    r_output_m = -f_lens_m;
  }
  if (pp_beam_curvature_m(b) == f_lens_m) {
    b->z_waist_m = b->z_m;
    b->waist_m = spot_m;
  } else {
    double q = b->wavelength_m * r_output_m / (PP_PI * spot_m * spot_m);
    b->z_waist_m = -r_output_m / (1.0 + q * q) + b->z_m;
    double p = PP_PI * spot_m * spot_m / (b->wavelength_m * r_output_m);
    b->waist_m = spot_m / sqrt(1.0 + p * p);
  }
  if (!isfinite(b->focal_length_m)) b->focal_length_m = f_lens_m;
  else b->focal_length_m *= r_output_m / r_input_m;
  /* The phase to apply: with the new waist, relative to the reference surface. */
  double rayleigh_m = pp_beam_rayleigh_m(b);
  double from_waist_m = b->z_m - b->z_waist_m;
  double z_eff_m;
  if (!b->spherical) {
    if (fabs(b->z_waist_m - b->z_m) < rayleigh_m) {
      z_eff_m = f_lens_m;
    } else {
      z_eff_m = 1.0 / (1.0 / f_lens_m + 1.0 / from_waist_m);
      b->spherical = true;
    }
  } else {
    if (fabs(b->z_waist_m - b->z_m) > rayleigh_m) {
      z_eff_m = 1.0 / (1.0 / f_lens_m + 1.0 / from_waist_m - 1.0 / r_input_m);
    } else {
      z_eff_m = 1.0 / (1.0 / f_lens_m - 1.0 / r_input_m);
      b->spherical = false;
    }
  }
  return z_eff_m;
}

/* The lens on the field: POPPY's QuadPhase(−z_eff) about the optical axis, in whichever
 * layout the field is (the same phase at every element's coordinate). */
static pp_status pp_fresnel_apply_lens(pp_fresnel_system *s, double f_lens_m) {
  double z_eff_m = pp_fresnel_lens_beam(&s->beam, f_lens_m);
  return pp_fresnel_quadratic_phase(&s->plans, s->field, s->n, s->fft_layout,
                                    s->beam.pixelscale_m, s->beam.wavelength_m, -z_eff_m);
}

/* Any other optic: its amplitude and OPD on the current grid. The optics module puts pixel
 * centres at (i − (count − 1)/2)·pixelscale; on count = n + 1 pixels that is (i − n/2)·
 * pixelscale, POPPY's Fresnel coordinates, so the first n × n of an (n+1)² evaluation is
 * exactly the Fresnel grid. */
static pp_status pp_fresnel_apply_optic(pp_fresnel_system *s, const pp_optic_spec *spec) {
  size_t n = s->n, m = n + 1;
  pp_pupil_grid grid = {.ny = m, .nx = m, .pixelscale_m = s->beam.pixelscale_m};
  bool has_opd = pp_optic_has_opd(spec);
  for (size_t i = 0; i < m * m; i++) s->amplitude[i] = 1.0;
  if (has_opd) memset(s->opd_m, 0, m * m * sizeof *s->opd_m);
  PP_CALL(pp_optic_apply_pupil(spec, &grid, s->amplitude, has_opd ? s->opd_m : NULL));
  double k = 2.0 * PP_PI / s->beam.wavelength_m;
  /* the whole grid is evaluated (pupil optics have no slabs), this rank's rows are used */
  size_t row0 = s->plans.row0;
  for (size_t iy = 0; iy < s->plans.nrows; iy++)
    for (size_t ix = 0; ix < n; ix++) {
      double complex factor = s->amplitude[(row0 + iy) * m + ix];
      if (has_opd) {
        double phase = s->opd_m[(row0 + iy) * m + ix] * k;
        factor *= cos(phase) + I * sin(phase);
      }
      s->field[iy * n + ix] *= factor;
    }
  return PP_SUCCESS;
}

/* On a group, the ranks agree on a step that may fail on one rank alone (an optic reads its
 * map files again at every plane) before the next collective one; on one rank, status. */
static pp_status pp_fresnel_agree(const pp_fresnel_system *s, pp_status status) {
  return s->group != MPI_COMM_NULL ? pp_agree(s->group, status) : status;
}

/* Σ|E|² over the field: in order on one rank; on a group each rank's rows in order, then the
 * ranks' sums added in rank order on every rank (the same bits everywhere, whatever the
 * timing; a group of another size rounds differently). */
static pp_status pp_fresnel_total_intensity(const pp_fresnel_system *s, double *total_out) {
  const double complex *field = s->field;
  size_t count = s->plans.nrows * s->n;
  double total = 0.0;
  for (size_t i = 0; i < count; i++) {
    double re = creal(field[i]), im = cimag(field[i]);
    total += re * re + im * im;
  }
  if (s->group != MPI_COMM_NULL) {
    PP_CHECK(MPI_Allgather(&total, 1, MPI_DOUBLE, s->partial_sums, 1, MPI_DOUBLE, s->group) ==
                 MPI_SUCCESS,
             PP_ERR_MPI, "MPI_Allgather of the intensity's parts failed");
    total = 0.0;
    for (int r = 0; r < s->group_size; r++) total += s->partial_sums[r];
  }
  *total_out = total;
  return PP_SUCCESS;
}

/* Hands plane k (the field after optic k, n × n in metres) to the sink when it is asked for. */
static pp_status pp_fresnel_capture(pp_fresnel_system *s, size_t k) {
  if (!s->sink.capture || !s->plane_slot || s->plane_slot[k] == SIZE_MAX) return PP_SUCCESS;
  pp_fresnel_layout(s, false);
  pp_plane_view view = {.plane = s->plane_slot[k], .ny = s->n, .nx = s->n, .field = s->field,
                        .field_scale = s->field_scale, .pixelscale = s->beam.pixelscale_m};
  return s->sink.capture(s->sink.context, &view);
}

static void pp_fresnel_record(pp_fresnel_system *s, size_t plane) {
  pp_fresnel_plane_state *state = &s->planes[plane];
  state->z_m = s->beam.z_m;
  state->beam_radius_m = pp_beam_spot_radius_m(&s->beam);
  state->curvature_radius_m = s->beam.spherical ? s->beam.z_m - s->beam.z_waist_m : INFINITY;
  state->pixelscale_m = s->beam.pixelscale_m;
  state->beam = s->beam;
}

/* POPPY's FresnelWavefront: the pilot beam's waist the pupil's radius, at the pupil; and,
 * with fill, its field: ones on npix × npix, zero-padded (without, the caller writes every
 * element of the field). */
static void pp_fresnel_start(pp_fresnel_system *s, double wavelength_m, bool fill) {
  size_t n = s->n, row0 = s->plans.row0, nrows = s->plans.nrows;
  if (fill) {
    memset(s->field, 0, nrows * n * sizeof *s->field);
    for (size_t y = s->ones_first; y < s->ones_first + s->npix; y++) {
      if (y < row0 || y >= row0 + nrows) continue; /* another rank's row */
      for (size_t x = 0; x < s->npix; x++) s->field[(y - row0) * n + x + s->ones_first] = 1.0;
    }
  }
  s->beam = (pp_fresnel_beam){.wavelength_m = wavelength_m,
                              .z_m = 0.0,
                              .z_waist_m = 0.0,
                              .waist_m = s->job->fresnel.pupil_diameter_m / 2.0,
                              .focal_length_m = INFINITY,
                              .spherical = false,
                              .pixelscale_m = s->job->fresnel.pupil_diameter_m / (double)s->npix};
}

/* The entrance optics' product at the pupil's pixel scale (real: no OPD), and the 'first'
 * normalization from the intensity right after optic 0, as POPPY normalizes there. */
static pp_status pp_fresnel_entrance_build(pp_fresnel_system *s) {
  const pp_job *job = s->job;
  s->entrance_count = pp_fresnel_entrance_count(job);
  s->entrance_scale = 1.0;
  if (s->entrance_count == 0) return PP_SUCCESS;
  size_t count = s->plans.nrows * s->n; /* this rank's elements */
  pp_fresnel_start(s, 1.0e-6, true); /* any λ: these optics do not depend on it */
  for (size_t k = 0; k < s->entrance_count; k++) {
    PP_CALL(pp_fresnel_agree(s, pp_fresnel_apply_optic(s, &job->optics[k])));
    if (k == 0 && job->normalize == PP_NORMALIZE_FIRST) {
      double total = 0.0;
      PP_CALL(pp_fresnel_total_intensity(s, &total));
      PP_CHECK(total > 0.0, PP_ERR_INPUT,
               "%s:%d:%d: the first optic passes no light, so normalization 'first' "
               "cannot scale it to 1", job->source_name, job->optics[0].line,
               job->optics[0].column);
      s->entrance_scale = 1.0 / sqrt(total);
    }
  }
  PP_CALL(pp_array_alloc((count ? count : 1) * sizeof *s->entrance, (void **)&s->entrance));
  for (size_t i = 0; i < count; i++) s->entrance[i] = creal(s->field[i]);
  return PP_SUCCESS;
}

/* The field rows of each rank r within [lo, hi) into gather_first[r], gather_end[r]. */
static void pp_fresnel_gather_ranges(pp_fresnel_system *s, size_t lo, size_t hi) {
  for (int r = 0; r < s->group_size; r++) {
    size_t row0 = (size_t)s->rows_of_rank[2 * r], nrows = (size_t)s->rows_of_rank[2 * r + 1];
    size_t first = row0 > lo ? row0 : lo, end = row0 + nrows < hi ? row0 + nrows : hi;
    s->gather_first[r] = first;
    s->gather_end[r] = end > first ? end : first;
  }
}

/* Gathers each rank's rows [gather_first, gather_end) (send: this rank's, width elements of
 * type each) into recv on group rank 0, row y at (y − offset)·width. Collective. */
static pp_status pp_fresnel_gather_rows(pp_fresnel_system *s, const void *send,
                                        MPI_Datatype type, void *recv, size_t width,
                                        size_t offset) {
  for (int r = 0; r < s->group_size; r++) { /* within INT_MAX: checked at create */
    s->gather_counts[r] = (int)((s->gather_end[r] - s->gather_first[r]) * width);
    s->gather_displs[r] = (int)((s->gather_first[r] - offset) * width);
  }
  int mine = s->gather_counts[s->group_rank];
  PP_CHECK(MPI_Gatherv(send, mine, type, recv, s->gather_counts, s->gather_displs, type, 0,
                       s->group) == MPI_SUCCESS,
           PP_ERR_MPI, "MPI_Gatherv of the detector's rows failed");
  return PP_SUCCESS;
}

/* A group's detector, into s->detector on group rank 0. Resampled: each rank resamples its
 * rows along x (the first pass is per row), rank 0 gathers the (n + 2) × fov rows (its own
 * margin rows added) and runs the pass along y: the serial numbers, (n + 2)·fov complex on
 * rank 0 instead of the field. Cropped: rank 0 gathers the rows the crop reads. */
static pp_status pp_fresnel_group_detector(pp_fresnel_system *s) {
  const pp_job *job = s->job;
  size_t n = s->n, fov = s->out_n, row0 = s->plans.row0, p = n + 2;
  double pixelscale_m = s->beam.pixelscale_m, detector_m = job->fresnel.detector_pixelscale_m;
  if (pp_fresnel_detector_crops(pixelscale_m, detector_m)) {
    size_t lo, hi;
    pp_fresnel_detector_crop_rows(n, fov, &lo, &hi);
    pp_fresnel_gather_ranges(s, lo, hi);
    size_t first = s->gather_first[s->group_rank];
    /* rank 0 gathers into its scratch ((n + 2)·fov ≥ the (hi − lo)·n elements read) */
    const double complex *send =
        s->gather_end[s->group_rank] > first ? s->field + (first - row0) * n : s->field;
    PP_CALL(pp_fresnel_gather_rows(s, send, MPI_C_DOUBLE_COMPLEX, s->detector_scratch, n, lo));
    if (s->group_rank == 0) pp_fresnel_detector_crop(s->detector_scratch, lo, n, fov, s->detector);
    s->out_pixelscale_m = pixelscale_m;
    return PP_SUCCESS;
  }
  /* every rank resamples its rows into detector_rows [nrows][fov], with its work after them
   * (the serial scratch's parts) */
  size_t g = (size_t)s->group_size, block = (n + g - 1) / g, width = fov > n ? fov : n;
  double complex *work = s->detector_rows + block * width;
  pp_fresnel_detector_positions(n, pixelscale_m, fov, detector_m, work);
  for (size_t y = 0; y < s->plans.nrows; y++)
    pp_fresnel_detector_row(s->field + y * n, n, fov, work, s->detector_rows + y * fov);
  /* field row y is padded row y + 1: gathered from row 1 of rank 0's [p][fov] */
  pp_fresnel_gather_ranges(s, 0, n);
  double complex *rows = s->detector_scratch;
  PP_CALL(pp_fresnel_gather_rows(s, s->detector_rows, MPI_C_DOUBLE_COMPLEX,
                                 rows ? rows + fov : NULL, fov, 0));
  if (s->group_rank == 0) {
    pp_fresnel_detector_row(NULL, n, fov, work, rows); /* the margin's zero rows */
    pp_fresnel_detector_row(NULL, n, fov, work, rows + (p - 1) * fov);
    pp_fresnel_detector_columns(n, fov, pixelscale_m / detector_m, rows, work, s->detector);
  }
  s->out_pixelscale_m = detector_m;
  return PP_SUCCESS;
}

/* A group's intensity without a detector: each rank's rows, gathered into psf on rank 0
 * (the n × n result the leader holds anyway); amplitude is the rows' buffer. */
static pp_status pp_fresnel_group_intensity(pp_fresnel_system *s, double *psf) {
  size_t n = s->n, count = s->plans.nrows * n;
  for (size_t i = 0; i < count; i++) {
    double re = creal(s->field[i]), im = cimag(s->field[i]);
    s->amplitude[i] = re * re + im * im;
  }
  pp_fresnel_gather_ranges(s, 0, n);
  return pp_fresnel_gather_rows(s, s->amplitude, MPI_DOUBLE, psf, n, 0);
}

pp_status pp_fresnel_system_psf(pp_fresnel_system *s, double wavelength_m, double *psf) {
  PP_CHECK(s && wavelength_m > 0.0, PP_ERR_INTERNAL, "pp_fresnel_system_psf: bad call");
  bool leader = s->group == MPI_COMM_NULL || s->group_rank == 0;
  if (s->group != MPI_COMM_NULL) /* the group agrees before its collective steps */
    PP_CALL(pp_agree(s->group, leader && !psf ? pp_error_raise(PP_ERR_INTERNAL, __FILE__,
                                                              __LINE__, __func__,
                                                              "pp_fresnel_system_psf needs an output")
                                              : PP_SUCCESS));
  else
    PP_CHECK(psf, PP_ERR_INTERNAL, "pp_fresnel_system_psf: bad call");
  const pp_job *job = s->job;
  size_t n = s->n, count = s->plans.nrows * n; /* this rank's elements */
  pp_fresnel_start(s, wavelength_m, !s->entrance); /* the entrance writes every element */
  s->fft_layout = false;
  s->field_scale = 1.0;
  size_t first = 0;
  if (s->entrance) {
    for (size_t i = 0; i < count; i++) s->field[i] = s->entrance[i] * s->entrance_scale;
    for (first = 0; first < s->entrance_count; first++) pp_fresnel_record(s, first);
  }
  for (size_t k = first; k < job->n_optics; k++) {
    double distance_m = job->fresnel.distance_m ? job->fresnel.distance_m[k] : 0.0;
    if (distance_m != 0.0) PP_CALL(pp_fresnel_propagate(s, distance_m));
    const pp_optic_spec *spec = &job->optics[k];
    if (strcmp(spec->type->name, "quadratic_lens") == 0) {
      PP_CALL(pp_fresnel_apply_lens(s, pp_optic_spec_get(spec, "f_lens")));
    } else {
      pp_fresnel_layout(s, false); /* the optics module evaluates on the centred grid */
      PP_CALL(pp_fresnel_agree(s, pp_fresnel_apply_optic(s, spec)));
    }
    if (k == 0 && job->normalize == PP_NORMALIZE_FIRST) {
      pp_fresnel_layout(s, false); /* the sum in the centred order, as always */
      /* POPPY's calc_psf default: total intensity 1 right after the first optic. */
      double total = 0.0;
      PP_CALL(pp_fresnel_total_intensity(s, &total));
      PP_CHECK(total > 0.0, PP_ERR_INPUT,
               "%s:%d:%d: the first optic passes no light, so normalization 'first' "
               "cannot scale it to 1", job->source_name, spec->line, spec->column);
      double scale = 1.0 / sqrt(total);
      for (size_t i = 0; i < count; i++) s->field[i] *= scale;
      s->field_scale = 1.0 / scale;
    }
    pp_fresnel_record(s, k);
    PP_CALL(pp_fresnel_capture(s, k));
  }
  if (job->fresnel.has_detector && job->fresnel.detector_distance_m != 0.0)
    PP_CALL(pp_fresnel_propagate(s, job->fresnel.detector_distance_m));
  pp_fresnel_layout(s, false); /* the detector and the intensity read the centred field */
  if (s->group != MPI_COMM_NULL) { /* no planes on a group (create refuses them) */
    if (job->fresnel.has_detector) {
      pp_fresnel_record(s, job->n_optics);
      PP_CALL(pp_fresnel_group_detector(s));
      s->planes[job->n_optics].pixelscale_m = s->out_pixelscale_m;
      for (size_t i = 0; leader && i < s->out_n * s->out_n; i++) {
        double re = creal(s->detector[i]), im = cimag(s->detector[i]);
        psf[i] = re * re + im * im;
      }
    } else {
      pp_fresnel_record(s, job->n_optics);
      s->out_pixelscale_m = s->beam.pixelscale_m;
      PP_CALL(pp_fresnel_group_intensity(s, psf));
    }
    return PP_SUCCESS;
  }
  if (job->fresnel.has_detector) {
    pp_fresnel_record(s, job->n_optics);
    PP_CALL(pp_fresnel_detector_resample(s->field, n, s->beam.pixelscale_m, s->out_n,
                                         job->fresnel.detector_pixelscale_m,
                                         s->detector_scratch, s->detector,
                                         &s->out_pixelscale_m));
    s->planes[job->n_optics].pixelscale_m = s->out_pixelscale_m;
    for (size_t i = 0; i < s->out_n * s->out_n; i++) {
      double re = creal(s->detector[i]), im = cimag(s->detector[i]);
      psf[i] = re * re + im * im;
    }
    if (s->sink.capture && s->plane_slot && s->plane_slot[job->n_optics] != SIZE_MAX) {
      pp_plane_view view = {.plane = s->plane_slot[job->n_optics], .ny = s->out_n,
                            .nx = s->out_n, .field = s->detector, .field_scale = 1.0,
                            .intensity = psf, .pixelscale = s->out_pixelscale_m};
      PP_CALL(s->sink.capture(s->sink.context, &view));
    }
  } else {
    pp_fresnel_record(s, job->n_optics);
    s->out_pixelscale_m = s->beam.pixelscale_m;
    for (size_t i = 0; i < n * n; i++) {
      double re = creal(s->field[i]), im = cimag(s->field[i]);
      psf[i] = re * re + im * im;
    }
    if (s->sink.capture && s->plane_slot && s->plane_slot[job->n_optics] != SIZE_MAX) {
      pp_plane_view view = {.plane = s->plane_slot[job->n_optics], .ny = n, .nx = n,
                            .field = s->field, .field_scale = 1.0, .intensity = psf,
                            .pixelscale = s->out_pixelscale_m};
      PP_CALL(s->sink.capture(s->sink.context, &view));
    }
  }
  return PP_SUCCESS;
}

void pp_fresnel_system_shape(const pp_fresnel_system *s, size_t *ny, size_t *nx) {
  *ny = *nx = s->out_n;
}

size_t pp_fresnel_system_padded_side(const pp_fresnel_system *s) { return s->n; }

double pp_fresnel_system_pixelscale_m(const pp_fresnel_system *s) { return s->out_pixelscale_m; }

const pp_fresnel_plane_state *pp_fresnel_system_planes(const pp_fresnel_system *s) {
  return s->planes;
}

size_t pp_fresnel_system_bytes(const pp_fresnel_system *s) { return s->bytes; }

const pp_job *pp_fresnel_system_job(const pp_fresnel_system *s) { return s->job; }

pp_status pp_fresnel_system_set_sink(pp_fresnel_system *s, const pp_plane_sink *sink) {
  free(s->plane_slot);
  s->plane_slot = NULL;
  s->sink = (pp_plane_sink){0};
  const pp_job *job = s->job;
  if (!sink || !job->planes_requested) return PP_SUCCESS;
  PP_CHECK(s->group == MPI_COMM_NULL, PP_ERR_INTERNAL,
           "a Fresnel rank group writes no planes (the plan forms no group for them)");
  s->plane_slot = malloc((job->n_optics + 1) * sizeof *s->plane_slot);
  PP_CHECK(s->plane_slot, PP_ERR_MEMORY, "out of memory");
  /* every optic has its own plane (no merging as in Fraunhofer pupils): the order of
   * pp_system_requested_planes */
  size_t position = 0;
  for (size_t k = 0; k <= job->n_optics; k++)
    s->plane_slot[k] = job->planes_requested[k] ? position++ : SIZE_MAX;
  s->sink = *sink;
  return PP_SUCCESS;
}

double complex *pp_fresnel_system_field(pp_fresnel_system *s) { return s->field; }

/* ---- from the job alone: checks, the pixel scale of the result, the work ------------------ */

pp_status pp_fresnel_check_job(const pp_job *job, double *pupil_diameter_m) {
  size_t n;
  PP_CALL(pp_fresnel_padded_size(job, &n));
  PP_CHECK(job->fresnel.pupil_diameter_m > 0.0 && job->fresnel.beam_ratio > 0.0 &&
               job->fresnel.beam_ratio <= 1.0,
           PP_ERR_INPUT, "a Fresnel job needs pupil.diameter > 0 and beam_ratio in (0, 1]");
  PP_CHECK(job->source.offset_x_arcsec == 0.0 && job->source.offset_y_arcsec == 0.0,
           PP_ERR_INPUT,
           "an off-axis source is not available in Fresnel mode (POPPY's Fresnel wavefront "
           "does not tilt either)");
  if (pupil_diameter_m) *pupil_diameter_m = job->fresnel.pupil_diameter_m;
  return PP_SUCCESS;
}

/* The beam walk alone (POPPY's steps with their pixel-scale changes, no array): the pixel
 * scale of the result at wavelength_m and the number of FFTs one wavelength runs. */
typedef struct pp_fresnel_dry {
  pp_fresnel_beam beam;
  size_t n;
  size_t ffts;
} pp_fresnel_dry;

static void pp_fresnel_dry_step(pp_fresnel_dry *d, int kind, double dz_m) {
  /* kind 0: plane to plane, 1: waist to spherical, 2: spherical to waist */
  pp_fresnel_beam *b = &d->beam;
  if (kind == 0) {
    if (fabs(dz_m) < PP_FRESNEL_MIN_STEP_M) return;
    d->ffts += 2;
  } else {
    if (dz_m == 0.0) return;
    d->ffts += 1;
    b->pixelscale_m = b->wavelength_m * fabs(dz_m) / ((double)d->n * b->pixelscale_m);
    b->spherical = kind == 1;
  }
  b->z_m += dz_m;
}

static void pp_fresnel_dry_propagate(pp_fresnel_dry *d, double distance_m) {
  pp_fresnel_beam *b = &d->beam;
  double z_target = b->z_m + distance_m;
  bool target_planar = fabs(b->z_waist_m - z_target) < pp_beam_rayleigh_m(b);
  if (!b->spherical) {
    if (target_planar) {
      pp_fresnel_dry_step(d, 0, distance_m);
    } else {
      pp_fresnel_dry_step(d, 0, b->z_waist_m - b->z_m);
      pp_fresnel_dry_step(d, 1, z_target - b->z_waist_m);
    }
  } else {
    pp_fresnel_dry_step(d, 2, b->z_waist_m - b->z_m);
    pp_fresnel_dry_step(d, target_planar ? 0 : 1, z_target - b->z_waist_m);
  }
}

/* The state of the dry beam at a plane, as pp_fresnel_record keeps the real one's. */
static void pp_fresnel_dry_state(const pp_fresnel_beam *b, pp_fresnel_plane_state *state) {
  state->z_m = b->z_m;
  state->beam_radius_m = pp_beam_spot_radius_m(b);
  state->curvature_radius_m = b->spherical ? b->z_m - b->z_waist_m : INFINITY;
  state->pixelscale_m = b->pixelscale_m;
  state->beam = *b;
}

pp_status pp_fresnel_trace_states(const pp_job *job, double wavelength_m,
                                  pp_fresnel_plane_state *states, double *pixelscale_m,
                                  size_t *ffts) {
  pp_fresnel_dry d = {.ffts = 0};
  PP_CALL(pp_fresnel_padded_size(job, &d.n));
  /* A system without arrays: the lens update needs only the beam. */
  pp_fresnel_system s = {.job = job, .n = d.n};
  s.beam = (pp_fresnel_beam){.wavelength_m = wavelength_m, .waist_m =
                                 job->fresnel.pupil_diameter_m / 2.0,
                             .focal_length_m = INFINITY,
                             .pixelscale_m =
                                 job->fresnel.pupil_diameter_m / (double)job->pupil_npix};
  for (size_t k = 0; k < job->n_optics; k++) {
    double distance_m = job->fresnel.distance_m ? job->fresnel.distance_m[k] : 0.0;
    d.beam = s.beam;
    if (distance_m != 0.0) pp_fresnel_dry_propagate(&d, distance_m);
    s.beam = d.beam;
    if (strcmp(job->optics[k].type->name, "quadratic_lens") == 0)
      pp_fresnel_lens_beam(&s.beam, pp_optic_spec_get(&job->optics[k], "f_lens"));
    if (states) pp_fresnel_dry_state(&s.beam, &states[k]);
  }
  d.beam = s.beam;
  if (job->fresnel.has_detector) {
    if (job->fresnel.detector_distance_m != 0.0)
      pp_fresnel_dry_propagate(&d, job->fresnel.detector_distance_m);
    if (states) pp_fresnel_dry_state(&d.beam, &states[job->n_optics]);
    double ratio = d.beam.pixelscale_m / job->fresnel.detector_pixelscale_m;
    if (!(fabs(ratio - 1.0) < 1e-3)) d.beam.pixelscale_m = job->fresnel.detector_pixelscale_m;
    if (states) states[job->n_optics].pixelscale_m = d.beam.pixelscale_m;
  } else if (states) {
    pp_fresnel_dry_state(&d.beam, &states[job->n_optics]);
  }
  if (pixelscale_m) *pixelscale_m = d.beam.pixelscale_m;
  if (ffts) *ffts = d.ffts;
  return PP_SUCCESS;
}

pp_status pp_fresnel_trace(const pp_job *job, double wavelength_m, double *pixelscale_m,
                           size_t *ffts) {
  return pp_fresnel_trace_states(job, wavelength_m, NULL, pixelscale_m, ffts);
}

pp_status pp_fresnel_flops_for_job(const pp_job *job, double *flops) {
  size_t n = 0, ffts = 0;
  PP_CALL(pp_fresnel_padded_size(job, &n));
  PP_CALL(pp_fresnel_trace(job, job->wavelengths_m ? job->wavelengths_m[0] : 1e-6, NULL, &ffts));
  *flops = (double)ffts * pp_fft_flops(n, n);
  return PP_SUCCESS;
}

/* A Fresnel job has one way: its FFTs (method fft), sized by the padded array. */
pp_status pp_fresnel_choose(const pp_job *job, pp_system_choice *choice) {
  size_t n = 0, ny = 0, nx = 0, bytes = 0;
  double flops = 0.0;
  PP_CALL(pp_fresnel_padded_size(job, &n));
  /* the result's side: the detector's fov_pixels, or n without a detector (the parser
   * puts either into job->detector, oversample 1) */
  ny = job->detector.fov_pixels_y;
  nx = job->detector.fov_pixels_x;
  PP_CALL(pp_fresnel_bytes_for_job(job, &bytes));
  PP_CALL(pp_fresnel_flops_for_job(job, &flops));
  choice->method = PP_METHOD_FFT;
  choice->complex_field = true;
  choice->n_in_y = choice->n_in_x = n;
  choice->n_out_y = ny;
  choice->n_out_x = nx;
  /* a nominal 1 Gflop/s: there is nothing to choose between, the number only orders tasks */
  pp_system_candidate fft = {.method = PP_METHOD_FFT, .seconds = flops / 1e9, .flops = flops,
                             .bytes = bytes};
  choice->mft = choice->czt = fft;
  return PP_SUCCESS;
}

pp_status pp_fresnel_plan_fftw(const pp_job *job) {
  size_t n = 0;
  pp_fresnel_plans plans;
  PP_CALL(pp_fresnel_padded_size(job, &n));
  PP_CALL(pp_fresnel_plans_create(n, job->fft_rigor, job->fft_engine == PP_FFT_ENGINE_PASSES,
                                  &plans));
  pp_fresnel_plans_destroy(&plans);
  return PP_SUCCESS;
}

pp_status pp_fresnel_requested_planes(const pp_job *job, pp_plane_info **planes,
                                      size_t *n_planes) {
  size_t n = 0, count = 0;
  PP_CALL(pp_fresnel_padded_size(job, &n));
  pp_plane_info *list = calloc(job->n_optics + 1, sizeof *list);
  PP_CHECK(list, PP_ERR_MEMORY, "out of memory");
  for (size_t k = 0; k < job->n_optics; k++)
    if (job->planes_requested[k])
      list[count++] = (pp_plane_info){.optic_index = k, .kind = PP_FIELD_PUPIL, .ny = n, .nx = n};
  if (job->planes_requested[job->n_optics])
    list[count++] = (pp_plane_info){.optic_index = job->n_optics, .kind = PP_FIELD_DETECTOR,
                                    .ny = job->detector.fov_pixels_y,
                                    .nx = job->detector.fov_pixels_x};
  *planes = list;
  *n_planes = count;
  return PP_SUCCESS;
}

pp_status pp_fresnel_plane_table(const pp_job *job, const pp_plane_info *planes, size_t n_planes,
                                 double *pixelscales, double *beam_radii, double *curvatures) {
  size_t n_lambda = job->n_wavelengths;
  pp_fresnel_plane_state *states = calloc(job->n_optics + 1, sizeof *states);
  PP_CHECK(states, PP_ERR_MEMORY, "out of memory");
  pp_status status = PP_SUCCESS;
  for (size_t i = 0; i < n_lambda && status == PP_SUCCESS; i++) {
    status = pp_fresnel_trace_states(job, job->wavelengths_m[i], states, NULL, NULL);
    for (size_t p = 0; p < n_planes && status == PP_SUCCESS; p++) {
      const pp_fresnel_plane_state *state = &states[planes[p].optic_index];
      if (pixelscales) pixelscales[p * n_lambda + i] = state->pixelscale_m;
      if (beam_radii) beam_radii[p * n_lambda + i] = state->beam_radius_m;
      if (curvatures) curvatures[p * n_lambda + i] = state->curvature_radius_m;
    }
  }
  free(states);
  return status;
}
