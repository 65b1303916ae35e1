/* Private to src/system: the pupil plane a system is built on, shared by system.c
 * (which owns it) and pupil.c (which builds it). Never installed. */
#ifndef POLYPSF_SYSTEM_PRIVATE_H
#define POLYPSF_SYSTEM_PRIVATE_H

#ifndef POLYPSF_SYSTEM_INTERNAL
#error "system_private.h is private to src/system; include polypsf/system.h instead"

#endif

#include <mpi.h>

#include "polypsf/job.h"
#include "polypsf/optics.h"
#include <math.h>
#include <stddef.h>

#include "polypsf/system.h"

/* The pupil plane with every pupil optic applied, normalized as the job asks.
 * Wavelength-independent: built once per system. */
typedef struct pp_pupil {
  pp_pupil_grid grid;       /* npix × npix, pixelscale_m = diameter_m / npix */
  double diameter_m;        /* array width: the largest pupil diameter any optic asks for */
  double *amplitude;        /* [ny·nx] product of the transmissions, times the normalization */
  double *opd_m;            /* [ny·nx] summed OPD (metres), or NULL when no optic adds OPD */
  double first_intensity;   /* Σ|T|² right after the first optic (before normalization) */
  double normalization;     /* factor applied to amplitude: 1/sqrt(first_intensity), or 1 */
  /* pp_pupil_refill's cache: amplitude and OPD after the first prefix_optics optics, which
   * are the same at every field point of a grid (NULL until a refill made them) */
  size_t prefix_optics;
  double *prefix_amplitude, *prefix_opd_m;
  double prefix_first_intensity;
  /* … and the terms of the first zernike_wfe after them, evaluated once (its coefficients
   * change from point to point), or NULL */
  pp_zernike_basis *field_basis;
  size_t field_basis_optic;
} pp_pupil;

/* Checks the job's optics for what the system can propagate and returns the pupil array
 * width (the largest pupil diameter of any pupil optic, before or after image planes).
 * PP_ERR_INPUT naming the optic (file:line:column) for an image-plane optic or an
 * fqpm_fft_aligner first in the list, and for a padded FFT size npix·fft_oversample that
 * overflows. */
pp_status pp_pupil_diameter_for_job(const pp_job *job, double *diameter_m);
/* The oversampled detector grid (fov_pixels × oversample), with the products that size
 * allocations checked against wrapping around (geometry.c). */
pp_status pp_geometry_psf_shape(const pp_job *job, size_t *ny, size_t *nx);
/* How many optics, from the first, are plain pupil optics (amplitude and OPD, applied once
 * into pp_pupil): all of them unless an image-plane optic or an fqpm_fft_aligner comes, in
 * which case the rest of the list belongs to the plane sequence (planes.c). */
size_t pp_pupil_leading_optics(const pp_job *job);
/* Builds the pupil for job from its leading optics: allocates and fills *pupil (cleared
 * first). */
pp_status pp_pupil_build(const pp_job *job, pp_pupil *pupil);
/* ---- phasors exp(2πi·cycles) (phasor_table.c) --------------------------------------------
 * The OPD's phasor at every pupil pixel and wavelength: libm's sin and cos took a fifth of a
 * PSF grid's compute. cycles = k/N + r/N with k the nearest multiple (N = 1024 points of the
 * circle, tabulated once per system) and |r| ≤ ½, so that the step angle θ = 2πr/N is at
 * most 0.0031 rad: cos θ to θ⁴ and sin θ to θ⁵ leave 1e-18 (the next terms), and the
 * product with the table's point is within a few units in the last place of the true value,
 * as sin and cos of a reduced angle are. */
enum { PP_PHASOR_TABLE_SIZE = 1024 };
typedef struct pp_phasor_table {
  double cos_k[PP_PHASOR_TABLE_SIZE], sin_k[PP_PHASOR_TABLE_SIZE]; /* of 2πk/N */
} pp_phasor_table;
void pp_phasor_table_init(pp_phasor_table *table);
/* (*re, *im) = exp(2πi·cycles); |cycles| < 2⁵¹/N (an OPD of 10⁹ waves). */
static inline void pp_phasor(const pp_phasor_table *table, double cycles, double *re,
                             double *im) {
  /* nearest integer by the 1.5·2⁵² shift (round to nearest even, exact for |x| < 2⁵¹):
   * nearbyint is a library call on the x86-64 baseline */
  const double shift = 6755399441055744.0;
  double scaled = cycles * PP_PHASOR_TABLE_SIZE, nearest = (scaled + shift) - shift;
  double theta = (scaled - nearest) * (2.0 * PP_PI / PP_PHASOR_TABLE_SIZE), t2 = theta * theta;
  double c = 1.0 - t2 * (0.5 - t2 * (1.0 / 24.0));
  double s = theta * (1.0 - t2 * (1.0 / 6.0 - t2 * (1.0 / 120.0)));
  size_t k = (size_t)((long long)nearest & (PP_PHASOR_TABLE_SIZE - 1));
  *re = table->cos_k[k] * c - table->sin_k[k] * s;
  *im = table->sin_k[k] * c + table->cos_k[k] * s;
}

/* Fills a built pupil again from job's leading optics, in its arrays (a PSF grid's next
 * field point: the same grid, other OPD): the same values pp_pupil_build would give. The
 * first same_optics optics are the same for every job it is called with: their product
 * and OPD are kept after the first call (two more pupil arrays) and start the next ones,
 * which then evaluate only the rest (the same operations in the same order, so the same
 * bits). PP_ERR_INTERNAL when job's pupil grid or OPD presence differs from the pupil's. */
pp_status pp_pupil_refill(const pp_job *job, pp_pupil *pupil, size_t same_optics);
/* Whether job's pupil is built on pupil's grid (size, diameter) with OPD as pupil has. */
bool pp_pupil_same_grid(const pp_job *job, const pp_pupil *pupil);
/* Releases the pupil's arrays (accepts a cleared or half-built pupil). */
void pp_pupil_clear(pp_pupil *pupil);

/* ---- the plane sequence after the leading pupil optics (planes.c) ---------------------
 * For jobs with image-plane optics or an fqpm_fft_aligner: the optics after the leading ones,
 * in order, as POPPY propagates them: pupil optics (and aligners) on the current pupil grid,
 * and for each run of image-plane optics: pad to N = npix·fft_oversample, FFT pupil → image,
 * the image optics on the N × N image grid of λ/(D·fft_oversample), FFT image → pupil; the
 * pupil optics after that on the padded N × N grid; at the end, crop back to npix × npix for
 * the transform to the detector. Everything wavelength-independent (pupil transmissions and
 * OPD, the aligners' phase ramps, the FFT plans, the padded scratch) is made at create;
 * pp_planes_apply allocates nothing. docs/propagation.md, "Image planes". */
typedef struct pp_planes pp_planes;

/* True when job needs a plane sequence (pp_pupil_leading_optics < n_optics). */
bool pp_planes_needed(const pp_job *job);
/* Builds the plane sequence of job (NULL in *planes when none is needed): copies the optics
 * after the leading ones, precomputes their transmissions, plans the FFTs with
 * job->fft_rigor. pupil_diameter_m: the unpadded pupil array width. Not collective (FFTW's
 * planner). */
pp_status pp_planes_create(const pp_job *job, double pupil_diameter_m, pp_planes **planes);
/* Takes the npix × npix complex pupil field (the leading optics applied, normalized) through
 * the sequence at wavelength_m, in place: on return it is the npix × npix pupil field the
 * transform to the detector takes. No allocation. Not collective (slab planes: collective on their group). */
pp_status pp_planes_apply(const pp_planes *planes, double wavelength_m, double complex *field);
/* Bytes the planes hold at their peak (0 for NULL): the padded scratch, the padded
 * transmissions, or the FFT planner's transient arrays if larger. */
size_t pp_planes_bytes(const pp_planes *planes);
/* Floating-point operations of one pp_planes_apply (the FFTs; 0 for NULL). */
double pp_planes_flops(const pp_planes *planes);
/* The same two from the job alone (0 when no sequence is needed); equal to the built
 * planes'. */
pp_status pp_planes_bytes_for_job(const pp_job *job, size_t *bytes);
pp_status pp_planes_flops_for_job(const pp_job *job, double *flops);
/* Makes and destroys the FFT plans the sequence of job needs, so that FFTW's wisdom holds
 * them (nothing when none is needed). Not collective. */
pp_status pp_planes_plan_fftw(const pp_job *job);
/* Frees the planes; collective on the group for slab planes (their FFTW-MPI plans). */
void pp_planes_destroy(pp_planes **planes);

/* ---- the same sequence over a rank group (FFTW-MPI slabs, planes.c) -------------------
 * Every rank holds the unpadded npix × npix field and rows [row0, row0 + nrows) of each
 * padded N × N plane (FFTW-MPI's slab); the crop gathers the pupil field to group rank 0.
 * docs/propagation.md, "Image planes over a rank group". */
/* N of the padded planes of job (npix·fft_oversample), or 0 when nothing is padded (no
 * image plane). Not collective. */
size_t pp_planes_padded_size_for_job(const pp_job *job);
/* Bytes one rank of a group of group_ranks holds at its peak for the slab planes of job:
 * the unpadded stages' arrays, its rows of the padded ones, its slab and FFTW-MPI's
 * planning/transpose slab, or the full N × N transmissions a padded stage is filled from at
 * set-up if larger. PP_ERR_INTERNAL when nothing is padded. Not collective. */
pp_status pp_planes_slab_bytes_for_job(const pp_job *job, int group_ranks, size_t *bytes);
/* Builds the slab planes of job over group (FFTW-MPI plans with job->fft_rigor; refused on
 * every rank for an odd N, PP_ERR_INPUT). pp_planes_apply on them is collective on the group:
 * every rank passes its own npix × npix field, which on return is the pupil field on group
 * rank 0 only (the others' are scratch). Collective on group; every rank returns the same
 * status. */
pp_status pp_planes_create_slab(const pp_job *job, double pupil_diameter_m, MPI_Comm group,
                                pp_planes **planes);
/* Every rank of group leaves with a failure when any failed (its own, or one naming the first
 * failing rank), so that no rank enters a collective step the others have left. Takes
 * ownership of local. Collective on group. */
/* The group of slab planes (their own duplicate), MPI_COMM_NULL for serial planes or NULL.
 * Not collective. */
MPI_Comm pp_planes_group_comm(const pp_planes *planes);
/* ---- intermediate planes (output.planes) ---------------------------------------------- */
/* Which plane stands for each optic of job: representative[k] is the optic whose plane
 * holds the field after optic k (the last optic of k's run of merged pupil optics, k itself
 * for an image-plane optic), kind[k] and side[k] that plane's kind and grid side. Arrays of
 * job->n_optics; PP_ERR_MEMORY for the walk's stages. Not collective. */
pp_status pp_planes_describe_job(const pp_job *job, size_t *representative,
                                 pp_field_plane_kind *kind, size_t *side);
/* What the system and its plane sequence need to hand planes to a sink. */
typedef struct pp_plane_capture {
  const pp_plane_sink *sink;
  const size_t *slot;   /* [n_optics + 1] position in the requested list, SIZE_MAX if not asked */
  double field_scale;   /* 1 / the pupil's normalization */
} pp_plane_capture;
/* Hands the field after optic optic_index to the sink if that plane is asked for. */
pp_status pp_plane_capture_emit(const pp_plane_capture *capture, size_t optic_index, size_t n,
                                const double complex *field, const double *real_field,
                                double pixelscale);
/* The plane sequence hands its planes to capture (borrowed; NULL: none). leading: the index
 * in the job of the sequence's first optic. */
void pp_planes_set_capture(pp_planes *planes, const pp_plane_capture *capture, size_t leading);

/* ---- POPPY's MFT coronagraph methods (coronagraph_mft.c) -------------------------------
 * semi_analytic and matrix_ft in place of the padded FFT planes; docs/propagation.md,
 * "Coronagraph methods". pp_planes holds one when its job's method resolves to either. */
typedef struct pp_corona pp_corona;
/* The method job's planes use: propagation.coronagraph when it names an MFT method (the parser
 * refused it where not exact), for auto the exact MFT method predicted fastest if faster than
 * the two padded FFTs (nominal cost rates: every rank and run alike), else FFT. seconds (may
 * be NULL): the chosen method's predicted seconds per wavelength. Not collective. */
pp_coronagraph_method pp_corona_method_for_job(const pp_job *job, double *seconds);
/* Builds the method's plans for the first wavelength's box, copies the mask's optics and
 * fills the pupil optics after the mask on the npix × npix grid. Not collective. */
pp_status pp_corona_create(const pp_job *job, pp_coronagraph_method method,
                           double pupil_diameter_m, pp_corona **corona);
/* The npix × npix pupil field after the leading optics → the field after the Lyot-plane
 * optics, in place. matrix_ft remakes its plans when the box's pixel count changes with λ
 * (the only allocation). Not collective. */
pp_status pp_corona_apply(pp_corona *corona, double wavelength_m, double complex *field);
/* Peak bytes (the largest box of the job's wavelengths) and flops of one wavelength. */
size_t pp_corona_bytes_for_job(const pp_job *job, pp_coronagraph_method method);
double pp_corona_flops_for_job(const pp_job *job, pp_coronagraph_method method);
void pp_corona_destroy(pp_corona **corona);

#endif
