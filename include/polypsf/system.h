/* polypsf system: an optical system built from a job — the pupil grid with every pupil
 * optic applied, the propagation plan to the detector — computing one monochromatic PSF
 * at a time. Everything wavelength-independent is prepared in create; pp_system_psf
 * allocates nothing.
 *
 * The pupil → detector transform is the MFT (BLAS) or the chirp-z (FFTW), which compute the
 * same numbers (to ~1e-15 of the peak) at different costs. It is chosen once per job
 * (pp_system_choose, from the cost model) before any system is built, and every system of the
 * job is then built with that method (pp_system_create_with_method), so that every rank of a
 * run computes with the same one. */
#ifndef POLYPSF_SYSTEM_H
#define POLYPSF_SYSTEM_H

#include <mpi.h>

#include "polypsf/core.h"
#include "polypsf/job.h"
#include "polypsf/propagate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_system pp_system;

/* One way of taking the pupil field to the detector, as the cost model sees it. */
typedef struct pp_system_candidate {
  pp_method method;   /* PP_METHOD_MFT or PP_METHOD_CZT */
  double seconds;     /* predicted per wavelength: per-λ set-up + transform, one thread */
  double flops;       /* of the transform (pp_mft_flops[_real], pp_czt_flops) */
  size_t bytes;       /* pp_system_bytes of a system built with it */
} pp_system_candidate;

/* The pupil → detector transform chosen for a job. Plain data: a run makes it on rank 0 and
 * broadcasts it, so every rank builds its system with the same method. */
typedef struct pp_system_choice {
  pp_method requested;        /* the job's propagation.method: auto, mft or czt */
  pp_method method;           /* what runs: PP_METHOD_MFT or PP_METHOD_CZT */
  bool complex_field;         /* OPD or an off-axis source: no real-input MFT */
  size_t n_in_y, n_in_x;      /* the transform: pupil npix × npix … */
  size_t n_out_y, n_out_x;    /* … → oversampled detector pixels */
  pp_system_candidate mft, czt;
} pp_system_choice;

/* Checks that a system can be built for job (detector, method, optics the propagator
 * supports, a source offset the pupil grid samples at the job's shortest wavelength:
 * |offset| < npix·λ/(2·D) on each axis) without allocating, and gives the pupil array
 * width (metres). PP_ERR_INPUT naming what is wrong (method fft: not available for the
 * pupil → detector transform until systems have image planes). Not collective. */
pp_status pp_system_check_job(const pp_job *job, double *pupil_diameter_m);
/* Predicts both transforms for job with rates and chooses: the job's method when it is mft
 * or czt, for auto the one predicted faster (the MFT on a tie). rates NULL: the nominal rates
 * (pp_cost_rates_nominal). Deterministic in (job, rates): no timing, no allocation. Chirp-z
 * lengths rates lacks are interpolated; measure them first (pp_cost_rates_cover with the
 * choice's n_in/n_out) for the best prediction. PP_ERR_INPUT as pp_system_check_job.
 * Not collective. */
pp_status pp_system_choose(const pp_job *job, const pp_cost_rates *rates, pp_system_choice *choice);
/* Builds the system for job (pupil, optics, plans, scratch) with the given pupil → detector
 * transform: PP_METHOD_MFT (real-input MFT when the field is real), PP_METHOD_CZT (chirp-z
 * planned with job->fft_rigor), or PP_METHOD_AUTO (pp_system_choose with the nominal rates).
 * Not collective (FFTW's planner: one thread at a time).
 * Image-plane optics and fqpm_fft_aligner make a plane sequence (padded FFTs to and from
 * each image plane, docs/propagation.md "Image planes") before the transform to the detector.
 * PP_ERR_INPUT, naming the optic with file:line:column, for an image-plane optic or an
 * aligner first in the list; for method fft, when no optic sets the pupil diameter, and when the first optic passes no
 * light under normalization 'first'. */
pp_status pp_system_create_with_method(const pp_job *job, pp_method method, pp_system **system);
/* The system of one rank of a group that shares the job's padded image planes with FFTW-MPI
 * (the scheduler's rank groups, docs/scheduler.md): every rank builds the unpadded pupil and
 * holds its rows of the padded planes; only group rank 0 builds the transform to the detector.
 * pp_system_psf on it is collective on the group and writes psf on group rank 0 only (the
 * others may pass NULL). PP_ERR_INPUT, on every rank, when the job has no image plane or its
 * padded size npix·fft_oversample is odd. Collective on group (comm duplicated); all ranks
 * return the same status. pp_system_destroy of it is collective on the group too.
 * A Fresnel job (propagation.mode: fresnel) shares its padded n × n field instead: each rank
 * holds its rows through every step, group rank 0 gathers what the detector needs
 * (docs/fresnel.md, "Scheduling and memory"); method is ignored; PP_ERR_INPUT when the job
 * asks for planes. */
pp_status pp_system_create_group(const pp_job *job, pp_method method, MPI_Comm group,
                                 pp_system **system);
/* N of the job's padded planes (npix·fft_oversample), 0 when nothing is padded (no image-plane
 * optic): only such planes can be shared by a group. Not collective. */
size_t pp_system_padded_size_for_job(const pp_job *job);
/* How the planes around the job's focal-plane mask are propagated (propagation.coronagraph
 * resolved: fft, semi_analytic or matrix_ft), the predicted seconds per wavelength of each
 * method considered and why an MFT method is not exact, as one sentence for `plan` and the
 * log. False (text empty) when the job has no image planes. Not collective. */
bool pp_system_coronagraph_summary(const pp_job *job, char *text, size_t bytes);
/* Bytes one rank of a group of group_ranks holds at its peak for a system of job with method
 * (pp_system_create_group; counted for group rank 0, which also holds the transform):
 * pp_system_bytes_for_job with the padded planes cut to ceil(N/group_ranks) rows plus
 * FFTW-MPI's slab. PP_ERR_INPUT when nothing is padded. Not collective. */
pp_status pp_system_group_bytes_for_job(const pp_job *job, pp_method method, int group_ranks,
                                        size_t *bytes);
/* pp_system_create_with_method(job, job->method, system). Not collective. */
pp_status pp_system_create(const pp_job *job, pp_system **system);
/* The pupil → detector transform the system runs: PP_METHOD_MFT or PP_METHOD_CZT. */
pp_method pp_system_method(const pp_system *system);
/* Makes and destroys the FFTW plans a system of job with method would make, so that FFTW's
 * wisdom holds them (with a measuring rigor, the rank that plans first and hands its wisdom to
 * the others); nothing for the MFT. Not collective. */
pp_status pp_system_plan_fftw(const pp_job *job, pp_method method);
/* The monochromatic intensity PSF at wavelength_m on the oversampled detector grid,
 * written to psf[ny][nx] (see pp_system_psf_shape), normalized as the job says. For an
 * off-axis source (job->source) the PSF is centred at offset / pixelscale pixels from the
 * array centre, +x towards larger column indices, +y towards larger row indices;
 * PP_ERR_INPUT when the offset is beyond npix·λ/(2·D) at this wavelength. Allocates nothing.
 * Not collective for a system of pp_system_create*; collective on the group for one of
 * pp_system_create_group (the group agrees on the argument checks first; psf is written on
 * group rank 0 only, the others may pass NULL). */
pp_status pp_system_psf(pp_system *system, double wavelength_m, double *psf);
void pp_system_psf_shape(const pp_system *system, size_t *ny, size_t *nx);
/* Pupil array width (metres) and pixel scale (metres). */
double pp_system_pupil_diameter_m(const pp_system *system);
double pp_system_pupil_pixelscale_m(const pp_system *system);
/* Oversampled detector pixel scale (arcsec). */
double pp_system_pixelscale_arcsec(const pp_system *system);
/* Bytes one system holds (pupil arrays, plans, scratch): the per-task memory model. */
size_t pp_system_bytes(const pp_system *system);
/* The same before building anything, from the job alone (for the scheduler's plan).
 * Equals pp_system_bytes of the system pp_system_create would build (auto resolved with the
 * nominal rates; pp_system_choice holds both methods' bytes). Not collective. */
pp_status pp_system_bytes_for_job(const pp_job *job, size_t *bytes);
/* Floating-point operations of the transform in one pp_system_psf call (MFT: real-input when
 * no optic adds OPD and the source is on-axis, complex otherwise; chirp-z: complex). */
double pp_system_flops(const pp_system *system);
/* The same before building anything, from the job alone. Equals pp_system_flops of the
 * system pp_system_create would build. Not collective. */
pp_status pp_system_flops_for_job(const pp_job *job, double *flops);
/* sum[p] += weight × the PSF pp_system_psf would write, for every pixel p, without the PSF
 * itself (the same intensity, rounded as stored, then weighted and added: the same bits as
 * pp_system_psf followed by that sum). Only for a system on one rank that captures no plane
 * and is not Fresnel: *added false (nothing done) otherwise. Not collective. */
pp_status pp_system_psf_add(pp_system *system, double wavelength_m, double weight,
                            double *sum, bool *added);
void pp_system_destroy(pp_system **system);
/* Makes system job's in place when it can: a plain pupil → detector system on one rank (no
 * planes, not Fresnel, not a group) whose job has the same pupil grid, OPD presence and
 * source offset, as a PSF grid's next field point does: the pupil is filled again from
 * job's optics, the transform's plans and buffers are kept; the first same_optics optics,
 * the same in every job given, are evaluated once and kept (two pupil arrays). *changed
 * says whether it was done (else the caller makes a new system). The result is the same
 * bits as a new system's. On error the system must be destroyed. Not collective. */
pp_status pp_system_change_optics(pp_system *system, const pp_job *job, size_t same_optics,
                                  bool *changed);

/* ---- intermediate planes (output.planes, docs/output-format.md "Planes") -------------
 * Plane k is the field just after optic k, and plane n_optics the detector. Consecutive pupil
 * optics are merged into one multiplication (docs/propagation.md), so they share one plane:
 * the field after the last optic of the run; a request for any optic of the run gives that
 * one plane, named after the run's last optic. Image-plane optics each have their own plane.
 * Pupil and image planes are the field for a unit-amplitude plane wave entering the system
 * (the job's normalization undone): a pupil plane's intensity is its transmission squared.
 * The detector plane is the PSF slice itself, normalized as /cube. */
typedef enum { PP_FIELD_PUPIL, PP_FIELD_IMAGE, PP_FIELD_DETECTOR } pp_field_plane_kind;

/* One plane a run writes. */
typedef struct pp_plane_info {
  size_t optic_index;  /* the field after this optic; n_optics: the detector */
  pp_field_plane_kind kind;
  size_t ny, nx;       /* pupil: npix (or npix·fft_oversample after an image plane);
                          image: npix·fft_oversample; detector: the oversampled detector */
} pp_plane_info;

/* The sampling of a job, derived once (geometry.c) and handed to plan, run and output. */
typedef struct pp_geometry {
  size_t pupil_npix;                 /* pupil grid side */
  double pupil_diameter_m;           /* pupil array width: the largest an optic asks for */
  double pupil_pixelscale_m;         /* pupil_diameter_m / pupil_npix */
  int fft_oversample;
  size_t fft_n;                      /* padded side of image planes: npix·fft_oversample */
  size_t detector_ny, detector_nx;   /* detector pixels (fov_pixels) */
  int oversample;
  size_t psf_ny, psf_nx;             /* the oversampled detector grid: /psf and /cube */
  double detector_pixelscale_arcsec; /* one detector pixel */
  double psf_pixelscale_arcsec;      /* one oversampled pixel: detector pixelscale / oversample
                                        (0 in Fresnel mode: the result is in metres) */
  double psf_pixelscale_m;           /* Fresnel mode: metres per /psf pixel (the detector's, or
                                        without one the wavefront's at the first wavelength);
                                        0 in Fraunhofer mode */
} pp_geometry;

/* The geometry of job; PP_ERR_INPUT when a size would overflow, or as the pupil diameter's
 * optics say. Call after pp_system_check_job. Not collective. */
pp_status pp_system_geometry(const pp_job *job, pp_geometry *geometry);
/* The pixel scale of a plane of `kind` at wavelength_m, in the plane's unit: metres for a
 * pupil, arcsec for an image plane (λ/(D·fft_oversample), as the plane sequence samples it)
 * and for the detector (the oversampled pixel). Not collective. */
double pp_geometry_plane_pixelscale(const pp_geometry *geometry, pp_field_plane_kind kind,
                                    double wavelength_m);

/* Every requested plane's pixel scale at every wavelength of job, [n_planes][n_wavelengths]
 * (*pixelscales malloc'ed, free() it; NULL when n_planes is 0): what the output writes as
 * each plane's pixelscale attribute. Not collective. */
pp_status pp_system_plane_pixelscales(const pp_job *job, const pp_geometry *geometry,
                                      const pp_plane_info *planes, size_t n_planes,
                                      double **pixelscales);

/* "pupil", "image", "detector". Not collective. */
const char *pp_plane_kind_name(pp_field_plane_kind kind);
/* The distinct planes job->planes_requested asks for, in the order light meets them
 * (*planes malloc'ed, NULL and 0 when none is asked for). Not collective. */
pp_status pp_system_requested_planes(const pp_job *job, pp_plane_info **planes,
                                     size_t *n_planes);

/* What a system hands to a plane sink: one plane at the wavelength being computed. The
 * arrays are the system's own, valid during the call only. */
typedef struct pp_plane_view {
  size_t plane;                 /* position in pp_system_requested_planes' list */
  size_t ny, nx;
  const double complex *field;  /* [ny][nx], or NULL: the field is real_field */
  const double *real_field;     /* [ny][nx] a real field, when field is NULL */
  double field_scale;           /* multiply the field by this (undoes the normalization) */
  const double *intensity;      /* detector only: the PSF slice, bit for bit /cube's */
  double pixelscale;            /* metres (pupil) or arcsec (image, detector) at this λ */
} pp_plane_view;

/* Called by pp_system_psf for each requested plane, as soon as the plane exists; an error
 * it returns ends pp_system_psf with that error. Must not keep the view's pointers. */
typedef struct pp_plane_sink {
  pp_status (*capture)(void *context, const pp_plane_view *view);
  void *context;
} pp_plane_sink;

/* Makes pp_system_psf hand the planes job asks for (those of pp_system_requested_planes, same
 * order) to sink; NULL stops it. The sink is borrowed: it must outlive its use. job must be
 * the one the system was built from. Allocates (once); not collective. */
pp_status pp_system_set_plane_sink(pp_system *system, const pp_job *job,
                                   const pp_plane_sink *sink);

/* Flux-conserving rebin: out[ny/factor][nx/factor] = sums over factor × factor blocks. */
pp_status pp_psf_rebin(const double *in, size_t ny, size_t nx, int factor, double *out);

/* ---- Fresnel systems (fresnel_system.c; propagation.mode: fresnel, docs/fresnel.md) -------
 * POPPY's FresnelOpticalSystem: a pilot Gaussian beam, plane-to-plane or spherical steps, on an
 * n × n array, n = npix / beam_ratio (even). Plans are made once per system and reused for
 * every wavelength (the array's size does not change with λ, only its pixel scale). */
typedef struct pp_fresnel_system pp_fresnel_system;
/* POPPY's FresnelWavefront bookkeeping: the pilot beam and the current sampling. */
typedef struct pp_fresnel_beam {
  double wavelength_m;
  double z_m;             /* position along the axis (metres from the entrance pupil) */
  double z_waist_m;       /* the latest waist's position */
  double waist_m;         /* its radius */
  double focal_length_m;  /* the beam's effective focal length (infinite before any lens) */
  bool spherical;         /* the field is relative to a spherical reference surface */
  double pixelscale_m;    /* metres per pixel of the field */
} pp_fresnel_beam;
/* The state right after an optic (or at the detector) in the last pp_fresnel_system_psf. */
typedef struct pp_fresnel_plane_state {
  double z_m;
  double beam_radius_m;       /* the pilot beam's radius there (POPPY's spot_radius) */
  double curvature_radius_m;  /* of the reference surface (z − z_waist), infinite if planar */
  double pixelscale_m;        /* of the field there (the detector's after resampling) */
  pp_fresnel_beam beam;
} pp_fresnel_plane_state;
/* n (the padded side) of a Fresnel job; PP_ERR_INPUT when odd or too large. */
pp_status pp_fresnel_padded_size(const pp_job *job, size_t *n);
/* Bytes one system of job holds at its peak (field, optic scratch, detector, FFTW's transient
 * planning arrays): the memory model's count of the padded planes. */
pp_status pp_fresnel_bytes_for_job(const pp_job *job, size_t *bytes);
/* Builds the system (job borrowed: it must outlive the system). Not collective (FFTW planner). */
pp_status pp_fresnel_system_create(const pp_job *job, pp_fresnel_system **system);
/* The intensity at wavelength_m: the detector's fov × fov (resampled as POPPY's Fresnel
 * detector does), or the whole n × n wavefront after the last optic without a detector;
 * normalized as the job says. Allocates nothing. Not collective. */
pp_status pp_fresnel_system_psf(pp_fresnel_system *system, double wavelength_m, double *psf);
void pp_fresnel_system_shape(const pp_fresnel_system *system, size_t *ny, size_t *nx);
size_t pp_fresnel_system_padded_side(const pp_fresnel_system *system);
/* Metres per pixel of the last result. */
double pp_fresnel_system_pixelscale_m(const pp_fresnel_system *system);
/* [n_optics + 1]: after each optic, then at the detector (or the end), for the last call. */
const pp_fresnel_plane_state *pp_fresnel_system_planes(const pp_fresnel_system *system);
size_t pp_fresnel_system_bytes(const pp_fresnel_system *system);
const pp_job *pp_fresnel_system_job(const pp_fresnel_system *system);
/* The n × n field after the last call (before the detector's resampling). */
double complex *pp_fresnel_system_field(pp_fresnel_system *system);
void pp_fresnel_system_destroy(pp_fresnel_system **system);
/* What the system can run: the padded size, no source offset.
 * *pupil_diameter_m (may be NULL): pupil.diameter. PP_ERR_INPUT otherwise. */
pp_status pp_fresnel_check_job(const pp_job *job, double *pupil_diameter_m);
/* The pilot beam's walk alone (no arrays): the result's metres per pixel at wavelength_m
 * and the FFTs one wavelength runs (either may be NULL). */
pp_status pp_fresnel_trace(const pp_job *job, double wavelength_m, double *pixelscale_m,
                           size_t *ffts);
/* The same walk with the state at every plane into states[n_optics + 1] (after each optic,
 * then at the detector or the end; the detector's pixel scale after its resampling):
 * what the output writes for output.planes. */
pp_status pp_fresnel_trace_states(const pp_job *job, double wavelength_m,
                                  pp_fresnel_plane_state *states, double *pixelscale_m,
                                  size_t *ffts);
/* Makes pp_fresnel_system_psf hand the planes job->planes_requested asks for to sink (each
 * optic its own plane, n × n in metres; the detector the result); NULL stops it. */
pp_status pp_fresnel_system_set_sink(pp_fresnel_system *system, const pp_plane_sink *sink);
/* For the requested planes of a Fresnel job, [n_planes][n_wavelengths] each: the pixel scale
 * (metres), the pilot beam's radius and the reference surface's radius of curvature (metres,
 * infinite where planar); any output may be NULL. */
pp_status pp_fresnel_plane_table(const pp_job *job, const pp_plane_info *planes, size_t n_planes,
                                 double *pixelscales, double *beam_radii, double *curvatures);
/* FFT flops of one wavelength (at the job's first wavelength). */
pp_status pp_fresnel_flops_for_job(const pp_job *job, double *flops);
/* ---- detector effects (detector_effects.c, docs/grids.md) ------------------------------- */
/* scipy.ndimage.gaussian_filter(in, sigma_px) with its defaults (mode 'reflect', truncate
 * 4.0): the normalized Gaussian kernel of radius int(4·sigma_px + 0.5) pixels, correlated
 * with each axis in turn (y, then x), the image extended by half-sample symmetric
 * reflection (d c b a | a b c d | d c b a). sigma_px 0 copies. in and out [ny][nx] must not
 * overlap. Not collective. */
pp_status pp_gaussian_filter_reflect(const double *in, size_t ny, size_t nx, double sigma_px,
                                     double *out);
/* Interpixel capacitance: out = in convolved with kernel[3][3] (row-major, row 0 is y − 1
 * of the kernel's centre, flipped as a convolution does), pixels outside the image taken as
 * 0 (astropy.convolution.convolve's default boundary 'fill', as WebbPSF applies its IPC
 * kernels). in and out [ny][nx] must not overlap. Not collective. */
pp_status pp_ipc_convolve(const double *in, size_t ny, size_t nx, const double kernel[9],
                          double *out);
/* The detector's effects on a whole polychromatic PSF psf[ny][nx] of psf_pixelscale_arcsec
 * (oversampled by detector->oversample): psf_out = charge diffusion (sigma ·oversample
 * pixels) after jitter (jitter_sigma / psf_pixelscale pixels), both
 * pp_gaussian_filter_reflect; detector_out[ny/os][nx/os] = IPC of psf_out rebinned (or
 * psf_out rebinned without a kernel). Not collective. */
pp_status pp_detector_effects_apply(const pp_detector_spec *detector,
                                    double psf_pixelscale_arcsec, const double *psf, size_t ny,
                                    size_t nx, double *psf_out, double *detector_out);

#ifdef __cplusplus
}
#endif
#endif
