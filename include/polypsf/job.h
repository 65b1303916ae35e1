/* polypsf job: the YAML job file parsed (libyaml) into a validated pp_job.
 * Any error names file:line:column and the key, and what is allowed. */
#ifndef POLYPSF_JOB_H
#define POLYPSF_JOB_H

#include "polypsf/core.h"
#include "polypsf/optics.h"
#include "polypsf/propagate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PP_METHOD_AUTO, PP_METHOD_MFT, PP_METHOD_CZT, PP_METHOD_FFT } pp_method;
typedef enum { PP_NORMALIZE_FIRST, PP_NORMALIZE_NONE } pp_normalize;
/* propagation.coronagraph: how the planes around one focal-plane mask are propagated
 * (docs/propagation.md, "Coronagraph methods"). FFT is 0 so that a pp_job built in code
 * keeps the padded FFTs; a parsed job defaults to AUTO. */
/* propagation.fft_engine: how the padded planes' FFTs run. PASSES (0, the default) is the 1-D
 * pass engine that skips the padding's zero rows (pp_fft_passes_*), FFTW2D FFTW's 2-D plans. */
typedef enum { PP_FFT_ENGINE_PASSES, PP_FFT_ENGINE_FFTW2D } pp_fft_engine;
typedef enum {
  PP_CORONAGRAPH_FFT,           /* POPPY's OpticalSystem: padded FFTs (fft_oversample) */
  PP_CORONAGRAPH_AUTO,          /* an MFT method where exact and predicted faster, else FFT */
  PP_CORONAGRAPH_SEMI_ANALYTIC, /* POPPY's SemiAnalyticCoronagraph (Babinet, MFTs only) */
  PP_CORONAGRAPH_MATRIX_FT      /* POPPY's MatrixFTCoronagraph (bounded mask, MFT and back) */
} pp_coronagraph_method;
/* output.plane_quantity: what each intermediate-plane dataset holds (docs/output-format.md). */
typedef enum {
  PP_PLANE_INTENSITY,        /* |E|², float64 */
  PP_PLANE_COMPLEX,          /* E as {r, i} float64 pairs (h5py reads complex128) */
  PP_PLANE_AMPLITUDE_PHASE   /* {amplitude, phase_rad}: |E| and arg E in radians */
} pp_plane_quantity;

/* Limits the parser enforces; docs/job-file.md explains each. */
enum {
  PP_JOB_MAX_NPIX = 16384,             /* pupil.npix */
  PP_JOB_MAX_WAVELENGTHS = 100000,     /* wavelengths count or list length */
  PP_JOB_MAX_OPTICS = 256,             /* items in optics */
  PP_JOB_MAX_OVERSAMPLE = 64,          /* detector.oversample */
  PP_JOB_MAX_FFT_OVERSAMPLE = 32,      /* propagation.fft_oversample */
  PP_JOB_MAX_DETECTOR_PIXELS = 131072, /* per axis, fov_pixels x oversample */
  PP_JOB_MAX_FILE_BYTES = 16 << 20     /* a job file is text of a few lines */
};
#define PP_JOB_MIN_WAVELENGTH_M 1.0e-8 /* 10 nm */
#define PP_JOB_MAX_WAVELENGTH_M 1.0e-3 /* 1 mm */
#define PP_JOB_MIN_BLACKBODY_K 1.0     /* wavelengths.blackbody temperature */
#define PP_JOB_MAX_BLACKBODY_K 1.0e9

typedef struct pp_detector_spec {
  double pixelscale_arcsec;   /* detector pixel (arcsec), before oversampling */
  /* detector pixels; from fov_arcsec: round(fov/pixelscale), halves to even, like POPPY's
   * Detector (numpy.round) */
  size_t fov_pixels_y, fov_pixels_x;
  int oversample;             /* computed pixels per detector pixel, each axis */
  /* Detector effects on the polychromatic PSF, in this order (docs/grids.md); 0 / false is
   * none. jitter: a Gaussian of this sigma (arcsec per axis) on the oversampled PSF, as
   * POPPY's Instrument._apply_jitter; charge diffusion: a Gaussian of this sigma (detector
   * pixels) on the oversampled PSF; IPC: this 3 x 3 kernel (row-major, sums to 1) convolved
   * with the detector-sampled PSF. */
  double jitter_sigma_arcsec;
  double charge_diffusion_sigma_px;
  bool has_ipc_kernel;
  double ipc_kernel[9];
} pp_detector_spec;

/* The light source's position on the sky relative to the optical axis, as POPPY's
 * OpticalSystem.source_offset_r/_theta: the PSF lands offset by this much on the detector.
 * Signs follow the detector array's (y, x) indexing: +x moves the PSF towards larger column
 * indices, +y towards larger row indices (up in an image shown with origin 'lower').
 * Both zero (the default) is on-axis. */
typedef struct pp_source_spec {
  double offset_x_arcsec;
  double offset_y_arcsec;
  int line, column;           /* of the `source` key in the job file; 0 when absent */
} pp_source_spec;

/* propagation.mode: how light goes from optic to optic. */
typedef enum {
  PP_PROPAGATION_FRAUNHOFER = 0, /* pupil and image planes related by Fourier transforms */
  PP_PROPAGATION_FRESNEL         /* POPPY's FresnelOpticalSystem: finite distances (docs/fresnel.md) */
} pp_propagation_mode;

/* What a Fresnel job (propagation.mode: fresnel) adds; docs/fresnel.md, docs/job-file.md. */
typedef struct pp_fresnel_spec {
  double pupil_diameter_m;    /* pupil.diameter: POPPY's pupil_diameter (metres) */
  double beam_ratio;          /* propagation.beam_ratio in (0, 1]: the padded array is
                                 npix / beam_ratio pixels (POPPY's default 0.5) */
  double *distance_m;         /* [n_optics]: each optic's `distance` after the previous one
                                 (metres), 0 where absent */
  bool has_detector;          /* a detector section: resample there; else the whole wavefront */
  double detector_pixelscale_m; /* detector.pixelscale_m: metres per detector pixel */
  size_t detector_fov_pixels;   /* detector.fov_pixels: square detector */
  double detector_distance_m;   /* detector.distance after the last optic (metres) */
} pp_fresnel_spec;

typedef struct pp_job {
  char *source_name;          /* the job file's path as given (for messages) */
  char *text;                 /* the job file's full text (stored in the output) */
  size_t pupil_npix;          /* pupil array is npix × npix */
  size_t n_wavelengths;
  double *wavelengths_m;      /* [n_wavelengths], metres */
  double *weights;            /* [n_wavelengths], normalized to sum 1 */
  pp_source_spec source;      /* off-axis position of the source; zero = on-axis */
  size_t n_optics;
  pp_optic_spec *optics;      /* in the order light meets them */
  pp_detector_spec detector;
  pp_method method;
  pp_fft_rigor fft_rigor;     /* propagation.fft_rigor: how hard FFTW plans (default estimate) */
  int fft_oversample;
  int threads_per_rank;       /* propagation.threads_per_rank: FFTW and OpenBLAS threads of each
                                 rank; 0 when the key is absent (one FFTW thread, OpenBLAS as
                                 OPENBLAS_NUM_THREADS says, else one) */
  pp_normalize normalize;
  pp_coronagraph_method coronagraph; /* propagation.coronagraph (parsed default AUTO) */
  pp_fft_engine fft_engine;    /* propagation.fft_engine (default passes) */
  int coronagraph_oversample;  /* propagation.coronagraph_oversample; 0: the method's own
                                  default (POPPY's: 8 semi_analytic, 4 matrix_ft) */
  double occulter_box_arcsec[2]; /* propagation.occulter_box [y, x], half sizes in arcsec;
                                    0: the mask's own extent (pp_job_coronagraph_box) */
  int coronagraph_line, coronagraph_column; /* of propagation.coronagraph; 0 when absent */
  char *output_path;          /* output.path; may be overridden by the CLI */
  bool output_cube;           /* write /cube */
  bool keep_unconvolved;      /* output.keep_unconvolved: also write the PSF before the
                                 detector effects (/psf_unconvolved, /psf_detector_unconvolved) */
  /* output.planes: [k] for k < n_optics asks for the plane after optic k, [n_optics] for
   * the detector plane; NULL when no plane is asked for (the default). docs/job-file.md. */
  bool *planes_requested;     /* [n_optics + 1] or NULL */
  pp_plane_quantity plane_quantity; /* output.plane_quantity (default intensity) */
  pp_propagation_mode mode;   /* propagation.mode (default fraunhofer) */
  pp_fresnel_spec fresnel;    /* mode fresnel only; zero otherwise */
  /* field: the field points of a PSF grid (docs/grids.md); 0 and NULL without the section,
   * and then the job is a single PSF as before. */
  size_t n_field_points;
  double *field_points_arcsec;  /* [n_field_points][2]: x, y in arcsec, in grid order */
  /* field.detector_pixel: [n_field_points][2] the detector pixel (x, y) of each point, for
   * `export --psf-grid`; NULL when not given (then x / pixelscale, y / pixelscale). */
  double *field_detector_pixels;
  /* Per optic (NULL, or [n_optics]): a zernike_wfe with field_coefficients or
   * field_polynomial gets [n_field_points][field_terms[k]] Noll coefficients (metres) that
   * point p adds to its `coefficients` (pp_job_field_point_optics). */
  double **field_zernike;
  size_t *field_terms;
} pp_job;

/* Parses and validates a job file. Not collective (call on every rank, or parse on
 * one and broadcast the text). On error *job is NULL and the error is PP_ERR_INPUT
 * (also for a missing or unreadable file) with the message `path:line:column: key: what
 * is wrong and what is allowed`; PP_ERR_MEMORY when memory runs out. */
pp_status pp_job_parse_file(const char *path, pp_job **job);
/* The same from text in memory (length bytes, need not end in NUL); `name` stands for
 * the file in messages and becomes source_name, and data files the job names with a
 * relative path (wavelengths.file) are looked for in name's directory (the working
 * directory when name has no '/'). Not collective. */
pp_status pp_job_parse_string(const char *text, size_t length, const char *name, pp_job **job);
/* Releases a job and sets *job to NULL; accepts NULL and *job == NULL. */
void pp_job_destroy(pp_job **job);

/* The optics of field point `point` (< n_field_points): a copy of job->optics (*optics
 * [job->n_optics], release with pp_job_field_point_optics_free) in which each zernike_wfe
 * with field terms has its coefficients plus the point's (the list as long as the longer of
 * the two), and each fits_optical_element with a cube of maps lays the point's map. Not
 * collective. */
pp_status pp_job_field_point_optics(const pp_job *job, size_t point, pp_optic_spec **optics);
void pp_job_field_point_optics_free(const pp_job *job, pp_optic_spec **optics);
/* Whether optic k of a grid's job differs from one field point to the next: field Zernike
 * terms, or a cube of maps. Not collective. */
bool pp_job_optic_varies_over_field(const pp_job *job, size_t k);

/* Whether the detector applies any effect (jitter, charge diffusion or IPC). */
bool pp_detector_has_effects(const pp_detector_spec *detector);
/* Whether the detector blurs the oversampled PSF (jitter or charge diffusion; IPC acts on
 * detector pixels only). */
bool pp_detector_blurs_psf(const pp_detector_spec *detector);
/* Whether a stopped run of job can be resumed: its finished tasks stay in the output file,
 * as /cube slices (output.cube) or, for a PSF grid, as its points' sums in /grid/psf
 * (docs/grids.md). */
bool pp_job_resumable(const pp_job *job);

/* "auto", "mft", "czt", "fft" (the job-file words). */
const char *pp_method_name(pp_method method);
/* "fraunhofer", "fresnel" (the job-file words). */
const char *pp_propagation_mode_name(pp_propagation_mode mode);
/* "fft", "auto", "semi_analytic", "matrix_ft" (the job-file words); NULL out of range. */
const char *pp_coronagraph_method_name(pp_coronagraph_method method);
/* Whether method (SEMI_ANALYTIC or MATRIX_FT) computes this job's planes exactly: one run of
 * image-plane optics after the leading pupil optics, only pupil optics after it, no
 * fqpm_fft_aligner, no intermediate planes asked for, and the mask bounded by the box —
 * SEMI_ANALYTIC: every image optic is clear (transmission 1) outside it (circular_occulter,
 * bar_occulter, annular_field_stop without an outer edge); MATRIX_FT: some image optic is
 * opaque outside it (annular, square and rectangular field stops with an outer edge) and none
 * is an ideal_fqpm. Edges count at their nominal size: a gray edge pixel may straddle the box.
 * When not exact, why (if not NULL) gets the reason as a sentence. Not collective. */
bool pp_job_coronagraph_exact(const pp_job *job, pp_coronagraph_method method, char *why,
                              size_t why_bytes);
/* The half sizes [y, x] in arcsec of the box the MFT methods sample: occulter_box when given,
 * else the mask's bounded part and two box pixels (its gray edge), method SEMI_ANALYTIC or MATRIX_FT.
 * Not collective. */
void pp_job_coronagraph_box(const pp_job *job, pp_coronagraph_method method, double box[2]);
/* The oversampling the method uses: coronagraph_oversample, else POPPY's default. */
int pp_job_coronagraph_oversample(const pp_job *job, pp_coronagraph_method method);

/* "first", "none" (the job-file words). */
const char *pp_normalize_name(pp_normalize normalize);
/* "intensity", "complex", "amplitude_phase" (the job-file words); NULL out of range. */
const char *pp_plane_quantity_name(pp_plane_quantity quantity);

#ifdef __cplusplus
}
#endif
#endif
