/* Length: about 800 lines, kept in one file on purpose: the stages below, their serial and
 * rank-group (FFTW-MPI slab) forms and the capture of intermediate planes share one private
 * struct and one loop over stages, and splitting them would expose that struct to other
 * files for no reader's benefit. */
/* The plane sequence of a system with image planes (coronagraphs, field stops): what comes
 * after the leading pupil optics, propagated as POPPY's OpticalSystem does with FFTs.
 *
 * The optics after the leading ones are cut into stages, at create, once:
 *   PUPIL     consecutive pupil optics: their amplitude product, their summed OPD and the
 *             product of the fqpm_fft_aligner phase ramps, on the current pupil grid (the
 *             unpadded npix × npix before the first image plane, the padded N × N after it)
 *   PAD       npix × npix → N × N, N = npix·fft_oversample (POPPY pads once, before the first
 *             FFT, and keeps the padding until the detector)
 *   TO_IMAGE  FFT pupil → image (unitary, zero frequency on pixel N/2)
 *   IMAGE     consecutive image-plane optics on the N × N image grid of λ/(D·fft_oversample),
 *             centred like POPPY's: between the four central pixels after a forward aligner
 *             (POPPY's 'corner'), on pixel N/2 otherwise ('pixel')
 *   TO_PUPIL  FFT image → pupil; also added at the end when the list ends in an image
 *             plane: the detector then sees that image plane through a perfect relay
 *   CROP      N × N → npix × npix before the transform to the detector (POPPY removes the
 *             padding before its MFT, so light the focal-plane mask threw outside the
 *             original pupil array goes, as in POPPY)
 * Consecutive pupil optics commute (they multiply the field), so they are merged; the aligner
 * is a product of a row and a column phase ramp (its phase is linear in x + y), kept as two
 * vectors instead of a full plane. Wavelength enters only through the OPD phasors and the
 * image grid's pixel scale, which is why the masks are sampled anew per λ
 * (pp_optic_apply_image allocates nothing). */
#define POLYPSF_SYSTEM_INTERNAL
#include "system_private.h"

#include <math.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim: see pp_planes_release_transients */
#endif

#include "polypsf/propagate.h"

typedef enum {
  PP_STAGE_PUPIL,
  PP_STAGE_PAD,
  PP_STAGE_TO_IMAGE,
  PP_STAGE_IMAGE,
  PP_STAGE_TO_PUPIL,
  PP_STAGE_CROP
} pp_stage_kind;

typedef struct pp_stage {
  pp_stage_kind kind;
  size_t first, count;           /* PUPIL, IMAGE: optics [first, first + count) of planes->optics */
  bool padded;                   /* PUPIL: on the N × N grid (after an image plane) */
  bool has_amplitude;            /* PUPIL: an optic other than an aligner (a transmission) */
  bool has_opd;                  /* PUPIL: an optic adds OPD */
  bool has_aligner;              /* PUPIL: an fqpm_fft_aligner */
  bool cropped;                  /* PUPIL, padded: applied after the crop, on the central
                                  * npix × npix (its transmission and OPD cut to that block;
                                  * the aligners keep N): pp_planes_mark_cropped */
  pp_image_centering centering;  /* IMAGE: where the optical axis lies on the N × N grid */
  double *amplitude;             /* PUPIL [n²]: product of the transmissions, or NULL */
  double *opd_m;                 /* PUPIL [n²]: summed OPD in metres, or NULL */
  double complex *aligner_y;     /* PUPIL [n]: the aligners' phasor along y, or NULL */
  double complex *aligner_x;     /* PUPIL [n]: … along x */
} pp_stage;

struct pp_planes {
  size_t npix;                   /* unpadded pupil grid */
  size_t fft_n;                  /* N = npix·fft_oversample, or 0 when nothing is padded */
  int fft_oversample;
  double pupil_diameter_m;       /* the unpadded array width D */
  double pupil_pixelscale_m;     /* D / npix, on both grids */
  pp_optic_spec *optics;         /* copies of the job's optics after the leading ones */
  size_t n_optics;
  pp_stage *stages;
  size_t n_stages;
  pp_fft_plan *to_image;         /* BACKWARD N × N, or NULL */
  pp_fft_plan *to_pupil;         /* FORWARD N × N, or NULL */
  double complex *padded;        /* [N²] the padded field, or NULL; a slab: this rank's rows */
  /* A slab of a rank group (pp_planes_create_slab; all zero otherwise): the padded planes
   * are cut into FFTW-MPI's row slabs, padded PUPIL stages hold only their rows. */
  MPI_Comm group;                /* duplicated from the caller's, or MPI_COMM_NULL */
  int group_rank, group_size;
  size_t row0, nrows;            /* this rank's rows [row0, row0 + nrows) of the N × N planes */
  pp_fft_mpi_plan *to_image_mpi; /* BACKWARD N × N over the group */
  pp_fft_mpi_plan *to_pupil_mpi; /* FORWARD N × N over the group */
  int *crop_counts, *crop_displs; /* [group_size] the crop's gather to group rank 0, elements */
  const pp_plane_capture *capture; /* output.planes: where planes go, or NULL */
  size_t leading;                /* index in the job of optics[0] (for plane names) */
  pp_corona *corona;             /* an MFT coronagraph method instead of the stages, or NULL */
  pp_fft_passes *passes_to_image; /* fft_engine passes (even N): the 1-D pass engine, else NULL */
  pp_fft_passes *passes_to_pupil;
  size_t corona_bytes;           /* its pp_corona_bytes_for_job */
  double corona_flops;
};

/* The stages for optics[0 … n_optics), without arrays. stages has room for 2·n_optics + 3
 * (each optic opens at most two stages, plus PAD, the final TO_PUPIL and CROP). */
static size_t pp_planes_walk(const pp_optic_spec *optics, size_t n_optics, pp_stage *stages) {
  size_t n = 0;
  bool padded = false, in_image = false;
  /* POPPY's image_centering of the next FFT-made image plane: 'pixel' unless a forward
   * aligner came since, 'corner' (our ARRAY) then; a backward aligner restores 'pixel'. */
  pp_image_centering next_centering = PP_IMAGE_CENTER_PIXEL;
  for (size_t j = 0; j < n_optics; j++) {
    const pp_optic_spec *spec = &optics[j];
    if (pp_optic_is_image_plane(spec)) {
      if (!in_image) {
        if (!padded) stages[n++] = (pp_stage){.kind = PP_STAGE_PAD};
        padded = true;
        stages[n++] = (pp_stage){.kind = PP_STAGE_TO_IMAGE};
        stages[n++] = (pp_stage){.kind = PP_STAGE_IMAGE, .first = j, .centering = next_centering};
        in_image = true;
      }
      stages[n - 1].count++;
      continue;
    }
    if (in_image) stages[n++] = (pp_stage){.kind = PP_STAGE_TO_PUPIL};
    in_image = false;
    if (n == 0 || stages[n - 1].kind != PP_STAGE_PUPIL)
      stages[n++] = (pp_stage){.kind = PP_STAGE_PUPIL, .first = j, .padded = padded};
    pp_stage *stage = &stages[n - 1];
    stage->count++;
    if (pp_optic_needs_fft_padding(spec)) {
      stage->has_aligner = true;
      bool forward = (int)pp_optic_spec_get(spec, "direction") == 0;
      next_centering = forward ? PP_IMAGE_CENTER_ARRAY : PP_IMAGE_CENTER_PIXEL;
    } else {
      stage->has_amplitude = true;
      stage->has_opd = stage->has_opd || pp_optic_has_opd(spec);
    }
  }
  if (in_image) stages[n++] = (pp_stage){.kind = PP_STAGE_TO_PUPIL};
  if (padded) stages[n++] = (pp_stage){.kind = PP_STAGE_CROP};
  return n;
}

/* Marks the PUPIL stages between the last transform back to the pupil and the crop as
 * cropped: those are pointwise products whose values outside the central npix × npix block
 * the crop throws away, so the crop goes first and they multiply npix² values, not N²
 * (FQPM at npix 1024 × 4: a Lyot stop of 128 MiB on the 4096² grid, kept through the run,
 * and a pass over the whole padded plane per wavelength). Not when planes are captured (the
 * padded pupil plane is then an output). A rank group applies them on group rank 0 after
 * it gathers the crop. */
static void pp_planes_mark_cropped(pp_stage *stages, size_t n_stages) {
  if (n_stages == 0 || stages[n_stages - 1].kind != PP_STAGE_CROP) return;
  for (size_t s = n_stages - 1; s-- > 0 && stages[s].kind == PP_STAGE_PUPIL;)
    stages[s].cropped = true;
}

/* The side of a cropped stage's transmission grid as filled: npix itself when the central
 * block's pixel centres are those of an npix grid, (i − (npix − 1)/2)·scale, which they are
 * when N − npix is even (every pupil optic samples at pp_grid_coordinate_m, relative to the
 * grid's centre); else N, cut to the block afterwards. tests/system/test_planes.c checks the
 * PSF is the same bits either way and as without cropping. */
static size_t pp_planes_cropped_fill_side(size_t npix, size_t fft_n) {
  return (fft_n - npix) % 2 == 0 ? npix : fft_n;
}

/* Bytes and flops of a walked sequence: one formula for the built planes and the job. */
static void pp_planes_cost(const pp_stage *stages, size_t n_stages, size_t npix, size_t fft_n,
                           bool passes, size_t *bytes, double *flops) {
  size_t steady = 0, n_ffts = 0, plane = 0, fill = 0;
  for (size_t s = 0; s < n_stages; s++) {
    const pp_stage *stage = &stages[s];
    size_t n = stage->padded ? fft_n : npix, kept = stage->cropped ? npix : n;
    if (stage->kind == PP_STAGE_PAD) plane = fft_n * fft_n * sizeof(double complex);
    if (stage->kind == PP_STAGE_TO_IMAGE || stage->kind == PP_STAGE_TO_PUPIL) n_ffts++;
    if (stage->kind != PP_STAGE_PUPIL) continue;
    size_t n_arrays = (stage->has_amplitude ? 1u : 0u) + (stage->has_opd ? 1u : 0u);
    steady += n_arrays * kept * kept * sizeof(double);
    if (stage->has_aligner) steady += 2 * n * sizeof(double complex);
    /* a cropped stage filled on the whole N × N grid first, then cut: a set-up transient */
    size_t side = stage->cropped ? pp_planes_cropped_fill_side(npix, fft_n) : 0;
    if (side > npix && n_arrays * side * side * sizeof(double) > fill)
      fill = n_arrays * side * side * sizeof(double);
  }
  steady += sizeof(struct pp_planes) + (2 * n_stages + 3) * sizeof(pp_stage);
  /* In the order pp_planes_create makes them: the plans, then the stages' fills, then the
   * padded plane; the peak is the largest of the three moments. FFTW's 2-D plans are made on
   * two arrays of N² that pp_fft_plan_create allocates and frees; the 1-D pass engine's two
   * plans on a few rows, and they keep their block buffers. */
  size_t planning = 0;
  if (n_ffts > 0 && passes) {
    steady += 2 * pp_fft_passes_bytes(fft_n);
  } else if (n_ffts > 0) {
    planning = pp_fft_plan_bytes(fft_n, fft_n);
  }
  size_t peak = steady + plane;
  if (planning > peak) peak = planning;
  if (steady + fill > peak) peak = steady + fill;
  *bytes = peak;
  *flops = (double)n_ffts * (n_ffts > 0 ? pp_fft_flops(fft_n, fft_n) : 0.0);
}

bool pp_planes_needed(const pp_job *job) { return pp_pupil_leading_optics(job) < job->n_optics; }

/* Whether job's padded transforms run on the 1-D pass engine (as pp_planes_create decides). */
static bool pp_planes_passes_for_job(const pp_job *job, size_t fft_n) {
  return job->fft_engine == PP_FFT_ENGINE_PASSES && fft_n % 2 == 0;
}

/* The stages of job (malloc'ed, *n_stages of them), for the estimates; with the cropped
 * stages marked as pp_planes_create and pp_planes_create_slab mark them when `as_built`
 * (the walks that only need the stages' kinds and sides do without). */
static pp_status pp_planes_walk_job(const pp_job *job, bool as_built, pp_stage **stages,
                                    size_t *n_stages) {
  size_t leading = pp_pupil_leading_optics(job), count = job->n_optics - leading;
  PP_CALL(pp_array_alloc((2 * count + 3) * sizeof(pp_stage), (void **)stages));
  *n_stages = pp_planes_walk(job->optics + leading, count, *stages);
  if (as_built && !job->planes_requested) pp_planes_mark_cropped(*stages, *n_stages);
  return PP_SUCCESS;
}

pp_status pp_planes_bytes_for_job(const pp_job *job, size_t *bytes) {
  *bytes = 0;
  if (!pp_planes_needed(job)) return PP_SUCCESS;
  pp_coronagraph_method method = pp_corona_method_for_job(job, NULL);
  if (method != PP_CORONAGRAPH_FFT) {
    *bytes = pp_corona_bytes_for_job(job, method);
    return PP_SUCCESS;
  }
  pp_stage *stages = NULL;
  size_t n_stages = 0;
  double flops = 0.0;
  PP_CALL(pp_planes_walk_job(job, true, &stages, &n_stages));
  size_t fft_n = job->pupil_npix * (size_t)job->fft_oversample;
  pp_planes_cost(stages, n_stages, job->pupil_npix, fft_n, pp_planes_passes_for_job(job, fft_n),
                 bytes, &flops);
  pp_array_free(&stages);
  return PP_SUCCESS;
}

pp_status pp_planes_flops_for_job(const pp_job *job, double *flops) {
  *flops = 0.0;
  if (!pp_planes_needed(job)) return PP_SUCCESS;
  pp_coronagraph_method method = pp_corona_method_for_job(job, NULL);
  if (method != PP_CORONAGRAPH_FFT) {
    *flops = pp_corona_flops_for_job(job, method);
    return PP_SUCCESS;
  }
  pp_stage *stages = NULL;
  size_t n_stages = 0, bytes = 0;
  PP_CALL(pp_planes_walk_job(job, true, &stages, &n_stages));
  size_t fft_n = job->pupil_npix * (size_t)job->fft_oversample;
  pp_planes_cost(stages, n_stages, job->pupil_npix, fft_n, pp_planes_passes_for_job(job, fft_n),
                 &bytes, flops);
  pp_array_free(&stages);
  return PP_SUCCESS;
}

size_t pp_planes_bytes(const pp_planes *planes) {
  if (!planes) return 0;
  if (planes->corona) return planes->corona_bytes;
  size_t bytes = 0;
  double flops = 0.0;
  pp_planes_cost(planes->stages, planes->n_stages, planes->npix, planes->fft_n,
                 planes->passes_to_image != NULL, &bytes, &flops);
  return bytes;
}

double pp_planes_flops(const pp_planes *planes) {
  if (!planes) return 0.0;
  if (planes->corona) return planes->corona_flops;
  size_t bytes = 0;
  double flops = 0.0;
  pp_planes_cost(planes->stages, planes->n_stages, planes->npix, planes->fft_n,
                 planes->passes_to_image != NULL, &bytes, &flops);
  return flops;
}

/* Rows of the central npix × npix block of the N × N plane: [c0, c0 + npix), the offset
 * pp_fft_pad and pp_fft_crop use ((N − npix)/2, integer division). */
static size_t pp_planes_crop_offset(const pp_planes *p) { return (p->fft_n - p->npix) / 2; }

/* Cuts a filled padded PUPIL stage's transmission and OPD (N × N) to the block of rows
 * [row0, row0 + nrows) and columns [col0, col0 + ncols), the full arrays freed: a rank
 * group's slab (its rows, all columns) or a cropped stage (the central npix × npix). The
 * pupil optics sample whole grids, so the full arrays are a set-up transient that the memory
 * model counts (pp_planes_cost, pp_planes_slab_bytes_for_job). */
static pp_status pp_planes_cut_stage(pp_stage *stage, size_t n, size_t row0, size_t nrows,
                                     size_t col0, size_t ncols) {
  double **arrays[2] = {&stage->amplitude, &stage->opd_m};
  for (int a = 0; a < 2; a++) {
    double *block = NULL;
    if (!*arrays[a]) continue;
    PP_CALL(pp_array_alloc((nrows * ncols + 1) * sizeof(double), (void **)&block));
    for (size_t y = 0; y < nrows; y++)
      memcpy(block + y * ncols, *arrays[a] + (row0 + y) * n + col0, ncols * sizeof(double));
    pp_array_free(arrays[a]);
    *arrays[a] = block;
  }
  return PP_SUCCESS;
}

/* Fills a PUPIL stage's arrays: the optics' transmission and OPD on its grid (a cropped
 * stage: on its central npix × npix block), and the aligners' ramps as a column and a row
 * (the ramp's phase is linear in x + y, so applying it to a 1 × n and an n × 1 grid gives
 * the two factors; a cropped stage's keep N). */
static pp_status pp_planes_fill_pupil(pp_planes *planes, pp_stage *stage) {
  size_t n = stage->padded ? planes->fft_n : planes->npix;
  size_t side = stage->cropped ? pp_planes_cropped_fill_side(planes->npix, planes->fft_n) : n;
  size_t count = side * side;
  pp_pupil_grid grid = {.ny = side, .nx = side, .pixelscale_m = planes->pupil_pixelscale_m};
  pp_pupil_grid row = {.ny = 1, .nx = n, .pixelscale_m = planes->pupil_pixelscale_m};
  pp_pupil_grid column = {.ny = n, .nx = 1, .pixelscale_m = planes->pupil_pixelscale_m};
  size_t fft_n = planes->npix * (size_t)planes->fft_oversample;
  if (stage->has_amplitude) {
    PP_CALL(pp_array_alloc(count * sizeof(double), (void **)&stage->amplitude));
    for (size_t p = 0; p < count; p++) stage->amplitude[p] = 1.0;
  }
  /* zero-filled: no OPD until an optic adds some */
  if (stage->has_opd) PP_CALL(pp_array_alloc(count * sizeof(double), (void **)&stage->opd_m));
  if (stage->has_aligner) {
    PP_CALL(pp_array_alloc(n * sizeof(double complex), (void **)&stage->aligner_y));
    PP_CALL(pp_array_alloc(n * sizeof(double complex), (void **)&stage->aligner_x));
    for (size_t i = 0; i < n; i++) stage->aligner_y[i] = stage->aligner_x[i] = 1.0;
  }
  for (size_t j = stage->first; j < stage->first + stage->count; j++) {
    const pp_optic_spec *spec = &planes->optics[j];
    if (pp_optic_needs_fft_padding(spec)) {
      PP_CALL(pp_optic_apply_pupil_fft(spec, &column, fft_n, fft_n, stage->aligner_y));
      PP_CALL(pp_optic_apply_pupil_fft(spec, &row, fft_n, fft_n, stage->aligner_x));
    } else {
      double *opd_m = pp_optic_has_opd(spec) ? stage->opd_m : NULL;
      PP_CALL(pp_optic_apply_pupil(spec, &grid, stage->amplitude, opd_m));
    }
  }
  if (stage->cropped && side != planes->npix) {
    size_t c0 = pp_planes_crop_offset(planes);
    PP_CALL(pp_planes_cut_stage(stage, side, c0, planes->npix, c0, planes->npix));
  }
  return PP_SUCCESS;
}

/* The planes of job without arrays or plans: the optics copied, the stages walked. */
static pp_status pp_planes_create_stages(const pp_job *job, double pupil_diameter_m,
                                         pp_planes **planes) {
  pp_status status = PP_SUCCESS;
  pp_planes *p = NULL;
  size_t leading = pp_pupil_leading_optics(job), count = job->n_optics - leading;
  PP_CALL_GOTO(status, pp_array_alloc(sizeof *p, (void **)&p));
  p->group = MPI_COMM_NULL;
  p->npix = job->pupil_npix;
  p->fft_oversample = job->fft_oversample;
  p->pupil_diameter_m = pupil_diameter_m;
  p->pupil_pixelscale_m = pupil_diameter_m / (double)job->pupil_npix;
  /* copies: a system may outlive the job it was built from */
  PP_CALL_GOTO(status, pp_array_alloc(count * sizeof(pp_optic_spec), (void **)&p->optics));
  for (size_t j = 0; j < count; j++) {
    PP_CALL_GOTO(status, pp_optic_spec_copy(&job->optics[leading + j], &p->optics[j]));
    p->n_optics = j + 1;
  }
  PP_CALL_GOTO(status, pp_array_alloc((2 * count + 3) * sizeof(pp_stage), (void **)&p->stages));
  p->n_stages = pp_planes_walk(p->optics, p->n_optics, p->stages);
  *planes = p;
  p = NULL;
done:
  pp_planes_destroy(&p);
  return status;
}

pp_status pp_planes_create(const pp_job *job, double pupil_diameter_m, pp_planes **planes) {
  *planes = NULL;
  if (!pp_planes_needed(job)) return PP_SUCCESS;
  pp_status status = PP_SUCCESS;
  pp_planes *p = NULL;
  PP_CALL_GOTO(status, pp_planes_create_stages(job, pupil_diameter_m, &p));
  if (!job->planes_requested) pp_planes_mark_cropped(p->stages, p->n_stages);
  pp_coronagraph_method method = pp_corona_method_for_job(job, NULL);
  if (method != PP_CORONAGRAPH_FFT) { /* the stages stay unfilled: the MFTs replace them */
    PP_CALL_GOTO(status, pp_corona_create(job, method, pupil_diameter_m, &p->corona));
    p->corona_bytes = pp_corona_bytes_for_job(job, method);
    p->corona_flops = pp_corona_flops_for_job(job, method);
    *planes = p;
    p = NULL;
    goto done;
  }

  bool any_fft = false;
  for (size_t s = 0; s < p->n_stages; s++) any_fft = any_fft || p->stages[s].kind == PP_STAGE_PAD;
  if (any_fft) {
    p->fft_n = p->npix * (size_t)p->fft_oversample;
    /* plans first: the planner's transient arrays are freed before the planes' own */
    if (pp_planes_passes_for_job(job, p->fft_n)) {
      PP_CALL_GOTO(status, pp_fft_passes_create(p->fft_n, p->npix, PP_FFT_BACKWARD,
                                                job->fft_rigor, &p->passes_to_image));
      PP_CALL_GOTO(status, pp_fft_passes_create(p->fft_n, p->npix, PP_FFT_FORWARD,
                                                job->fft_rigor, &p->passes_to_pupil));
    } else {
      PP_CALL_GOTO(status, pp_fft_plan_create(p->fft_n, p->fft_n, PP_FFT_BACKWARD,
                                              job->fft_rigor, &p->to_image));
      PP_CALL_GOTO(status, pp_fft_plan_create(p->fft_n, p->fft_n, PP_FFT_FORWARD,
                                              job->fft_rigor, &p->to_pupil));
    }
  }
  /* the fills before the padded plane: a cropped stage's full-grid transient is freed first */
  for (size_t s = 0; s < p->n_stages; s++)
    if (p->stages[s].kind == PP_STAGE_PUPIL) PP_CALL_GOTO(status, pp_planes_fill_pupil(p, &p->stages[s]));
  if (any_fft)
    PP_CALL_GOTO(status, pp_array_alloc(p->fft_n * p->fft_n * sizeof(double complex),
                                        (void **)&p->padded));
  *planes = p;
  p = NULL;
done:
  pp_planes_destroy(&p);
  return status;
}

void pp_planes_destroy(pp_planes **planes) {
  if (!planes || !*planes) return;
  pp_planes *p = *planes;
  for (size_t s = 0; p->stages && s < p->n_stages; s++) {
    pp_array_free(&p->stages[s].amplitude);
    pp_array_free(&p->stages[s].opd_m);
    pp_array_free(&p->stages[s].aligner_y);
    pp_array_free(&p->stages[s].aligner_x);
  }
  for (size_t j = 0; j < p->n_optics; j++) pp_optic_spec_clear(&p->optics[j]);
  pp_array_free(&p->optics);
  pp_array_free(&p->stages);
  pp_fft_plan_destroy(&p->to_image);
  pp_fft_plan_destroy(&p->to_pupil);
  pp_corona_destroy(&p->corona);
  pp_fft_passes_destroy(&p->passes_to_image);
  pp_fft_passes_destroy(&p->passes_to_pupil);
  pp_fft_mpi_plan_destroy(&p->to_image_mpi);
  pp_fft_mpi_plan_destroy(&p->to_pupil_mpi);
  if (p->group != MPI_COMM_NULL) MPI_Comm_free(&p->group);
  pp_array_free(&p->crop_counts);
  pp_array_free(&p->crop_displs);
  pp_array_free(&p->padded);
  pp_array_free(planes);
}

pp_status pp_planes_plan_fftw(const pp_job *job) {
  if (!pp_planes_needed(job)) return PP_SUCCESS;
  if (pp_corona_method_for_job(job, NULL) != PP_CORONAGRAPH_FFT) return PP_SUCCESS; /* no FFT */
  pp_status status = PP_SUCCESS;
  pp_stage *stages = NULL;
  size_t n_stages = 0;
  pp_fft_plan *to_image = NULL, *to_pupil = NULL;
  PP_CALL_GOTO(status, pp_planes_walk_job(job, false, &stages, &n_stages));
  bool any_fft = false;
  for (size_t s = 0; s < n_stages; s++) any_fft = any_fft || stages[s].kind == PP_STAGE_PAD;
  if (any_fft) {
    size_t fft_n = job->pupil_npix * (size_t)job->fft_oversample;
    if (pp_planes_passes_for_job(job, fft_n)) {
      pp_fft_passes *passes = NULL; /* the 1-D plans into the wisdom, one direction at a time */
      PP_CALL_GOTO(status, pp_fft_passes_create(fft_n, job->pupil_npix, PP_FFT_BACKWARD,
                                                job->fft_rigor, &passes));
      pp_fft_passes_destroy(&passes);
      PP_CALL_GOTO(status, pp_fft_passes_create(fft_n, job->pupil_npix, PP_FFT_FORWARD,
                                                job->fft_rigor, &passes));
      pp_fft_passes_destroy(&passes);
      goto done;
    }
    PP_CALL_GOTO(status, pp_fft_plan_create(fft_n, fft_n, PP_FFT_BACKWARD, job->fft_rigor, &to_image));
    PP_CALL_GOTO(status, pp_fft_plan_create(fft_n, fft_n, PP_FFT_FORWARD, job->fft_rigor, &to_pupil));
  }
done:
  pp_fft_plan_destroy(&to_image);
  pp_fft_plan_destroy(&to_pupil);
  pp_array_free(&stages);
  return status;
}

/* a·b without the C99 complex multiply's inf/nan special cases (a libgcc call each). */
static inline double complex pp_planes_mul(double complex a, double complex b) {
  double ar = creal(a), ai = cimag(a), br = creal(b), bi = cimag(b);
  return CMPLX(ar * br - ai * bi, ar * bi + ai * br);
}

/* The block of rows [row0, row0 + nrows) and columns [col0, col0 + n) of a pupil plane,
 * held as field[nrows][n] with the stage's amplitude and OPD cut to the same block:
 * field[iy][ix] *= amplitude · exp(2πi·OPD/λ) · aligner_y[row0 + iy] · aligner_x[col0 + ix]. */
static void pp_planes_apply_pupil_rows(const pp_stage *stage, size_t row0, size_t nrows,
                                       size_t col0, size_t n, double wavelength_m,
                                       double complex *field) {
  const double radians_per_metre = 2.0 * PP_PI / wavelength_m;
  for (size_t iy = 0; iy < nrows; iy++) {
    double complex *row = field + iy * n;
    const double *amplitude = stage->amplitude ? stage->amplitude + iy * n : NULL;
    const double *opd_m = stage->opd_m ? stage->opd_m + iy * n : NULL;
    for (size_t ix = 0; ix < n; ix++) {
      double complex value = row[ix];
      if (amplitude) {
        /* a stop is mostly dark on the padded grid: no phasors there */
        if (amplitude[ix] == 0.0) {
          row[ix] = 0.0;
          continue;
        }
        value = CMPLX(creal(value) * amplitude[ix], cimag(value) * amplitude[ix]);
      }
      if (opd_m && opd_m[ix] != 0.0) {
        double phase = radians_per_metre * opd_m[ix];
        value = pp_planes_mul(value, CMPLX(cos(phase), sin(phase)));
      }
      if (stage->aligner_x)
        value = pp_planes_mul(value, pp_planes_mul(stage->aligner_y[row0 + iy],
                                                   stage->aligner_x[col0 + ix]));
      row[ix] = value;
    }
  }
}

/* field[n][n] *= amplitude · exp(2πi·OPD/λ) · aligner_y[iy] · aligner_x[ix]. */
static void pp_planes_apply_pupil(const pp_stage *stage, size_t n, double wavelength_m,
                                  double complex *field) {
  pp_planes_apply_pupil_rows(stage, 0, n, 0, n, wavelength_m, field);
}

static pp_status pp_planes_apply_slab(const pp_planes *planes, double wavelength_m,
                                      double complex *field);

/* Whether only the central rows of stage s's result are ever used: the stages up to the crop
 * are pupil multiplications (pointwise: the other rows' values never reach a kept row) and no
 * padded plane is captured. */
static bool pp_planes_cropped_next(const pp_planes *planes, size_t s) {
  if (planes->capture) return false;
  for (size_t t = s + 1; t < planes->n_stages; t++) {
    if (planes->stages[t].kind == PP_STAGE_CROP) return true;
    if (planes->stages[t].kind != PP_STAGE_PUPIL) return false;
  }
  return false;
}

pp_status pp_planes_apply(const pp_planes *planes, double wavelength_m, double complex *field) {
  PP_CHECK(planes != NULL && field != NULL, PP_ERR_INTERNAL, "pp_planes_apply needs planes and a field");
  if (planes->group != MPI_COMM_NULL) return pp_planes_apply_slab(planes, wavelength_m, field);
  if (planes->corona) return pp_corona_apply(planes->corona, wavelength_m, field);
  size_t npix = planes->npix, fft_n = planes->fft_n;
  for (size_t s = 0; s < planes->n_stages; s++) {
    const pp_stage *stage = &planes->stages[s];
    switch (stage->kind) {
      case PP_STAGE_PUPIL:
        if (stage->cropped) { /* on the central block the crop already made (TO_PUPIL) */
          PP_CHECK(!planes->capture, PP_ERR_INTERNAL, "a cropped pupil stage cannot be captured");
          size_t c0 = pp_planes_crop_offset(planes);
          pp_planes_apply_pupil_rows(stage, c0, npix, c0, npix, wavelength_m, field);
          break;
        }
        pp_planes_apply_pupil(stage, stage->padded ? fft_n : npix, wavelength_m,
                              stage->padded ? planes->padded : field);
        if (planes->capture)
          PP_CALL(pp_plane_capture_emit(planes->capture,
                                        planes->leading + stage->first + stage->count - 1,
                                        stage->padded ? fft_n : npix,
                                        stage->padded ? planes->padded : field, NULL,
                                        planes->pupil_pixelscale_m));
        break;
      case PP_STAGE_PAD:
        PP_CALL(pp_fft_pad(field, npix, npix, planes->padded, fft_n, fft_n));
        break;
      case PP_STAGE_TO_IMAGE:
        if (planes->passes_to_image)
          /* right after the padding only the pupil's rows are non-zero */
          PP_CALL(pp_fft_passes_propagate(planes->passes_to_image, planes->padded,
                                          PP_FFT_PUPIL_TO_IMAGE,
                                          s > 0 && planes->stages[s - 1].kind == PP_STAGE_PAD));
        else
          PP_CALL(pp_fft_propagate(planes->to_image, planes->padded, planes->padded,
                                   PP_FFT_PUPIL_TO_IMAGE));
        break;
      case PP_STAGE_IMAGE: {
        /* POPPY's Wavefront._propagate_fft: λ/(D·oversample), D the unpadded array width */
        double pixelscale_rad = pp_fft_image_pixelscale_rad(wavelength_m, planes->pupil_diameter_m,
                                                            (double)planes->fft_oversample);
        pp_image_grid grid = {.ny = fft_n, .nx = fft_n,
                              .pixelscale_arcsec = pixelscale_rad * PP_ARCSEC_PER_RADIAN,
                              .centering = stage->centering};
        for (size_t j = stage->first; j < stage->first + stage->count; j++) {
          PP_CALL(pp_optic_apply_image(&planes->optics[j], &grid, wavelength_m, planes->padded));
          if (planes->capture)
            PP_CALL(pp_plane_capture_emit(planes->capture, planes->leading + j, fft_n,
                                          planes->padded, NULL, grid.pixelscale_arcsec));
        }
        break;
      }
      case PP_STAGE_TO_PUPIL:
        if (planes->passes_to_pupil)
          PP_CALL(pp_fft_passes_propagate(planes->passes_to_pupil, planes->padded,
                                          PP_FFT_IMAGE_TO_PUPIL,
                                          pp_planes_cropped_next(planes, s)));
        else
          PP_CALL(pp_fft_propagate(planes->to_pupil, planes->padded, planes->padded,
                                   PP_FFT_IMAGE_TO_PUPIL));
        /* cropped stages next: the crop first (pp_planes_mark_cropped) */
        if (s + 1 < planes->n_stages && planes->stages[s + 1].cropped)
          PP_CALL(pp_fft_crop(planes->padded, fft_n, fft_n, field, npix, npix));
        break;
      case PP_STAGE_CROP:
        if (s == 0 || !planes->stages[s - 1].cropped)
          PP_CALL(pp_fft_crop(planes->padded, fft_n, fft_n, field, npix, npix));
        break;
    }
  }
  return PP_SUCCESS;
}

/* ---- the plane sequence over a rank group (FFTW-MPI slabs) -----------------------------
 * Every rank of the group holds the whole unpadded npix × npix field (the leading optics and
 * the unpadded PUPIL stages are computed redundantly: npix² work, no scatter) and rows
 * [row0, row0 + nrows) of every padded N × N plane: PAD writes only those rows, padded PUPIL
 * stages hold their transmissions cut to them, IMAGE optics sample them (pp_image_grid's
 * row0/nrows), TO_IMAGE and TO_PUPIL are pp_fft_mpi_propagate, and CROP gathers the central
 * npix rows to group rank 0 (MPI_Gatherv), which alone runs the transform to the detector.
 * Every operation on a pixel is the serial one; only FFTW-MPI's transform may round
 * differently from the serial FFT (measured: it does not, at N = 90, 256 and 2048). */

/* A padded PUPIL stage's arrays cut to this rank's rows (unpadded and cropped stages stay
 * whole: npix²). */
static pp_status pp_planes_fill_pupil_slab(pp_planes *p, pp_stage *stage) {
  PP_CALL(pp_planes_fill_pupil(p, stage));
  if (!stage->padded || stage->cropped) return PP_SUCCESS; /* cropped: group rank 0's, npix² */
  return pp_planes_cut_stage(stage, p->fft_n, p->row0, p->nrows, 0, p->fft_n);
}

MPI_Comm pp_planes_group_comm(const pp_planes *planes) {
  return planes ? planes->group : MPI_COMM_NULL;
}

size_t pp_planes_padded_size_for_job(const pp_job *job) {
  if (!pp_planes_needed(job)) return 0;
  if (pp_corona_method_for_job(job, NULL) != PP_CORONAGRAPH_FFT) return 0; /* MFTs only */
  for (size_t j = pp_pupil_leading_optics(job); j < job->n_optics; j++)
    if (pp_optic_is_image_plane(&job->optics[j]))
      return job->pupil_npix * (size_t)job->fft_oversample;
  return 0; /* aligners only: nothing is padded */
}

pp_status pp_planes_slab_bytes_for_job(const pp_job *job, int group_ranks, size_t *bytes) {
  *bytes = 0;
  size_t fft_n = pp_planes_padded_size_for_job(job), npix = job->pupil_npix;
  PP_CHECK(group_ranks >= 1 && fft_n > 0, PP_ERR_INTERNAL,
           "slab planes need a padded plane and a group of ranks");
  pp_stage *stages = NULL;
  size_t n_stages = 0;
  PP_CALL(pp_planes_walk_job(job, true, &stages, &n_stages));
  size_t block = (fft_n + (size_t)group_ranks - 1) / (size_t)group_ranks;
  size_t arrays = sizeof(struct pp_planes) + (2 * n_stages + 3) * sizeof(pp_stage) +
                  2 * (size_t)group_ranks * sizeof(int);
  size_t fill = 0; /* the largest full N × N transient of a padded stage's fill */
  for (size_t s = 0; s < n_stages; s++) {
    const pp_stage *stage = &stages[s];
    if (stage->kind != PP_STAGE_PUPIL) continue;
    size_t n = stage->padded ? fft_n : npix;
    size_t side = stage->cropped ? npix : n, rows = stage->padded && !stage->cropped ? block : side;
    size_t per_array = rows * side * sizeof(double);
    size_t n_arrays = (stage->has_amplitude ? 1u : 0u) + (stage->has_opd ? 1u : 0u);
    arrays += n_arrays * per_array + (stage->has_aligner ? 2 * n * sizeof(double complex) : 0);
    /* filled on the whole N × N grid, then cut to the rank's rows (or a cropped stage's block
     * when its fill is not direct): a set-up transient */
    size_t filled = stage->cropped ? pp_planes_cropped_fill_side(npix, fft_n) : n;
    if (stage->padded && filled == fft_n && n_arrays * fft_n * fft_n * sizeof(double) > fill)
      fill = n_arrays * fft_n * fft_n * sizeof(double);
  }
  pp_array_free(&stages);
  /* the slab and FFTW-MPI's planning slab or transpose scratch, after the fills */
  size_t slab = block * fft_n * sizeof(double complex) +
                pp_fft_mpi_plan_bytes(fft_n, (size_t)group_ranks);
  *bytes = arrays + (slab > fill ? slab : fill);
  return PP_SUCCESS;
}

/* Gives the pages of freed set-up transients (full-grid transmissions, FFTW-MPI's planning
 * slab) back to the system. The memory model takes a group rank's peak as the larger of the
 * transients and the slabs that follow them (pp_planes_slab_bytes_for_job); glibc keeps freed
 * heap pages resident, and whether the next allocation reuses them depends on the heap's
 * layout, so without this a rank's measured peak was at times their sum (+16 MiB at N = 2048
 * on 4 ranks, in about half of the runs). */
static void pp_planes_release_transients(void) {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

pp_status pp_planes_create_slab(const pp_job *job, double pupil_diameter_m, MPI_Comm group,
                                pp_planes **planes) {
  *planes = NULL;
  pp_status status = PP_SUCCESS;
  pp_planes *p = NULL;
  size_t fft_n = pp_planes_padded_size_for_job(job), npix = job->pupil_npix;
  /* the same answer on every rank: the same job */
  PP_CHECK(fft_n > 0, PP_ERR_INTERNAL, "slab planes need a job with an image plane");
  PP_CHECK(npix <= 46340, PP_ERR_INPUT, /* npix² elements must fit MPI's int counts */
           "a rank group gathers the %zu × %zu pupil field with int counts: too large", npix,
           npix);
  pp_status local = pp_planes_create_stages(job, pupil_diameter_m, &p);
  if (!local) {
    if (!job->planes_requested) pp_planes_mark_cropped(p->stages, p->n_stages);
    p->fft_n = fft_n;
    MPI_Comm_rank(group, &p->group_rank);
    MPI_Comm_size(group, &p->group_size);
    /* FFTW-MPI's slab: blocks of ceil(N/size) rows (pp_fft_mpi_local_rows gives the same
     * once the plans exist; checked below) */
    size_t block = (fft_n + (size_t)p->group_size - 1) / (size_t)p->group_size;
    size_t first = block * (size_t)p->group_rank;
    p->row0 = first < fft_n ? first : fft_n;
    p->nrows = first < fft_n ? (fft_n - first < block ? fft_n - first : block) : 0;
    /* the transmissions first: their full-grid transients are freed before the slabs exist */
    for (size_t s = 0; s < p->n_stages && !local; s++)
      if (p->stages[s].kind == PP_STAGE_PUPIL) local = pp_planes_fill_pupil_slab(p, &p->stages[s]);
  }
  PP_CALL_GOTO(status, pp_agree(group, local));
  pp_planes_release_transients();
  PP_CALL_GOTO(status, pp_fft_mpi_plan_create(group, fft_n, PP_FFT_BACKWARD, job->fft_rigor,
                                              &p->to_image_mpi));
  PP_CALL_GOTO(status, pp_fft_mpi_plan_create(group, fft_n, PP_FFT_FORWARD, job->fft_rigor,
                                              &p->to_pupil_mpi));
  pp_planes_release_transients();
  size_t row0 = 0, nrows = 0;
  pp_fft_mpi_local_rows(p->to_image_mpi, &row0, &nrows);
  local = PP_SUCCESS;
  if (nrows != p->nrows || (nrows > 0 && row0 != p->row0)) /* an empty slab has no start */
    local = pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                           "FFTW-MPI gave rows [%zu, +%zu), the planes expected [%zu, +%zu)",
                           row0, nrows, p->row0, p->nrows);
  if (!local)
    local = pp_array_alloc(pp_fft_mpi_local_elements(p->to_image_mpi) * sizeof(double complex),
                           (void **)&p->padded);
  if (!local) local = pp_array_alloc((size_t)p->group_size * sizeof(int), (void **)&p->crop_counts);
  if (!local) local = pp_array_alloc((size_t)p->group_size * sizeof(int), (void **)&p->crop_displs);
  if (!local) local = pp_comm_dup(group, &p->group);
  PP_CALL_GOTO(status, pp_agree(group, local));
  /* Which rows of the central block each rank holds: the crop's gather counts. */
  size_t c0 = pp_planes_crop_offset(p);
  size_t first = p->row0 > c0 ? p->row0 : c0;
  size_t end = p->row0 + p->nrows < c0 + npix ? p->row0 + p->nrows : c0 + npix;
  int mine[2] = {end > first ? (int)((end - first) * npix) : 0,
                 end > first ? (int)((first - c0) * npix) : 0};
  int *both = NULL;
  local = pp_array_alloc(2 * (size_t)p->group_size * sizeof(int), (void **)&both);
  PP_CALL_GOTO(status, pp_agree(group, local));
  if (MPI_Allgather(mine, 2, MPI_INT, both, 2, MPI_INT, group) != MPI_SUCCESS)
    local = pp_error_raise(PP_ERR_MPI, __FILE__, __LINE__, __func__, "MPI_Allgather failed");
  for (int r = 0; r < p->group_size && !local; r++) {
    p->crop_counts[r] = both[2 * r];
    p->crop_displs[r] = both[2 * r + 1];
  }
  pp_array_free(&both);
  PP_CALL_GOTO(status, pp_agree(group, local));
  *planes = p;
  p = NULL;
done:
  pp_planes_destroy(&p); /* collective on the group like the plans it may hold */
  return status;
}

/* Rows [row0, row0 + nrows) of pp_fft_pad(field): zeros around the central npix × npix. */
static void pp_planes_pad_rows(const pp_planes *p, const double complex *field) {
  size_t n = p->fft_n, npix = p->npix, c0 = pp_planes_crop_offset(p);
  for (size_t iy = 0; iy < p->nrows; iy++) {
    double complex *row = p->padded + iy * n;
    size_t y = p->row0 + iy;
    memset(row, 0, n * sizeof *row);
    if (y >= c0 && y < c0 + npix) memcpy(row + c0, field + (y - c0) * npix, npix * sizeof *row);
  }
}

/* pp_fft_crop on the group: the central npix × npix block to group rank 0's field. Each rank
 * packs its part of the block to the front of its slab (the slab is dead after the crop;
 * moving rows forward never overwrites a row still to move), then one MPI_Gatherv. */
static pp_status pp_planes_gather_crop(const pp_planes *p, double complex *field) {
  size_t n = p->fft_n, npix = p->npix, c0 = pp_planes_crop_offset(p);
  size_t first = p->row0 > c0 ? p->row0 : c0;
  size_t end = p->row0 + p->nrows < c0 + npix ? p->row0 + p->nrows : c0 + npix;
  for (size_t y = first; y < end; y++)
    memmove(p->padded + (y - first) * npix, p->padded + (y - p->row0) * n + c0,
            npix * sizeof *field);
  int rc = MPI_Gatherv(p->padded, p->crop_counts[p->group_rank], MPI_C_DOUBLE_COMPLEX, field,
                       p->crop_counts, p->crop_displs, MPI_C_DOUBLE_COMPLEX, 0, p->group);
  PP_CHECK(rc == MPI_SUCCESS, PP_ERR_MPI, "MPI_Gatherv of the cropped pupil field failed");
  return PP_SUCCESS;
}

/* The sequence on the group (see above). Local stages fail alike on every rank (same job,
 * same λ), but a failure is agreed on before each collective step anyway, so that one rank's
 * error never leaves the others in a transpose. Collective on the group. */
static pp_status pp_planes_apply_slab(const pp_planes *planes, double wavelength_m,
                                      double complex *field) {
  size_t npix = planes->npix, fft_n = planes->fft_n;
  pp_status local = PP_SUCCESS;
  for (size_t s = 0; s < planes->n_stages; s++) {
    const pp_stage *stage = &planes->stages[s];
    switch (stage->kind) {
      case PP_STAGE_PUPIL:
        if (stage->cropped) break; /* after the gather, on group rank 0 (CROP) */
        if (stage->padded)
          pp_planes_apply_pupil_rows(stage, planes->row0, planes->nrows, 0, fft_n, wavelength_m,
                                     planes->padded);
        else
          pp_planes_apply_pupil(stage, npix, wavelength_m, field);
        break;
      case PP_STAGE_PAD:
        pp_planes_pad_rows(planes, field);
        break;
      case PP_STAGE_TO_IMAGE:
        PP_CALL(pp_agree(planes->group, local));
        PP_CALL(pp_fft_mpi_propagate(planes->to_image_mpi, planes->padded, planes->padded,
                                     PP_FFT_PUPIL_TO_IMAGE));
        break;
      case PP_STAGE_IMAGE: {
        if (planes->nrows == 0 || local) break; /* nrows 0 would mean the whole plane */
        double pixelscale_rad = pp_fft_image_pixelscale_rad(wavelength_m, planes->pupil_diameter_m,
                                                            (double)planes->fft_oversample);
        pp_image_grid grid = {.ny = fft_n, .nx = fft_n,
                              .pixelscale_arcsec = pixelscale_rad * PP_ARCSEC_PER_RADIAN,
                              .centering = stage->centering, .row0 = planes->row0,
                              .nrows = planes->nrows};
        for (size_t j = stage->first; j < stage->first + stage->count && !local; j++)
          local = pp_optic_apply_image(&planes->optics[j], &grid, wavelength_m, planes->padded);
        break;
      }
      case PP_STAGE_TO_PUPIL:
        PP_CALL(pp_agree(planes->group, local));
        PP_CALL(pp_fft_mpi_propagate(planes->to_pupil_mpi, planes->padded, planes->padded,
                                     PP_FFT_IMAGE_TO_PUPIL));
        break;
      case PP_STAGE_CROP:
        PP_CALL(pp_agree(planes->group, local));
        PP_CALL(pp_planes_gather_crop(planes, field));
        /* the cropped stages, which come right before the crop, on the gathered field */
        for (size_t t = 0; t < s && planes->group_rank == 0; t++)
          if (planes->stages[t].cropped) {
            size_t c0 = pp_planes_crop_offset(planes);
            pp_planes_apply_pupil_rows(&planes->stages[t], c0, npix, c0, npix, wavelength_m,
                                       field);
          }
        break;
    }
  }
  return pp_agree(planes->group, local);
}

/* ---- intermediate planes ---------------------------------------------------------------- */

void pp_planes_set_capture(pp_planes *planes, const pp_plane_capture *capture, size_t leading) {
  if (!planes) return;
  planes->capture = capture;
  planes->leading = leading;
}

pp_status pp_planes_describe_job(const pp_job *job, size_t *representative,
                                 pp_field_plane_kind *kind, size_t *side) {
  size_t leading = pp_pupil_leading_optics(job), npix = job->pupil_npix;
  size_t fft_n = npix * (size_t)job->fft_oversample;
  /* the leading optics are one multiplication (pp_pupil): one plane, after the last */
  for (size_t k = 0; k < leading; k++) {
    representative[k] = leading - 1;
    kind[k] = PP_FIELD_PUPIL;
    side[k] = npix;
  }
  if (leading == job->n_optics) return PP_SUCCESS;
  pp_stage *stages = NULL;
  size_t n_stages = 0;
  /* the walk pp_planes_create makes (a captured plane is never cropped) */
  PP_CALL(pp_planes_walk_job(job, false, &stages, &n_stages));
  for (size_t s = 0; s < n_stages; s++) {
    const pp_stage *stage = &stages[s];
    if (stage->kind != PP_STAGE_PUPIL && stage->kind != PP_STAGE_IMAGE) continue;
    for (size_t j = stage->first; j < stage->first + stage->count; j++) {
      size_t k = leading + j;
      bool pupil = stage->kind == PP_STAGE_PUPIL;
      representative[k] = pupil ? leading + stage->first + stage->count - 1 : k;
      kind[k] = pupil ? PP_FIELD_PUPIL : PP_FIELD_IMAGE;
      side[k] = pupil && !stage->padded ? npix : fft_n;
    }
  }
  pp_array_free(&stages);
  return PP_SUCCESS;
}
