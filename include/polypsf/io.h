/* polypsf io: the output file (HDF5 opened by all ranks through MPI-IO), laid out as
 * docs/output-format.md says: /psf, /psf_detector, /cube, /wavelengths, /weights,
 * /status/completed, /provenance/tasks and root attributes.
 *
 * A run writes to a temporary name beside the final one and renames on success, so a
 * reader never sees a half-written file under the final name.
 *
 * The life of a run:
 *   pp_output_create (or pp_output_open_resume for --resume)
 *   → pp_output_write_slice per wavelength, by the rank that computed it
 *   → pp_output_sync at collective points (checkpoints: only then are slices marked completed)
 *   → pp_output_sync, then pp_output_read_cube_rows for i = 0 … nλ−1 (each rank its band),
 *     summed in wavelength order → pp_output_write_psf_rows
 *   → pp_output_close_as(PUBLISH), or KEEP_PARTIAL / DISCARD on failure. */
#ifndef POLYPSF_IO_H
#define POLYPSF_IO_H

#include <mpi.h>

#include "polypsf/core.h"
#include "polypsf/job.h"
#include "polypsf/system.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Written as the root attributes format_name and format_version; a reader that finds
 * another name or a higher version refuses the file. */
#define PP_OUTPUT_FORMAT_NAME "polypsf-psf"
#define PP_OUTPUT_FORMAT_VERSION 1

typedef struct pp_output pp_output;

/* What the file describes besides the job. */
typedef struct pp_output_meta {
  const pp_job *job;
  /* the job's sampling as pp_system_geometry derived it: /psf is psf_ny × psf_nx pixels of
   * psf_pixelscale_arcsec (Fraunhofer) or psf_pixelscale_m (Fresnel: pixelscale_m attributes
   * are written when it is > 0), binned by oversample for /psf_detector; written as given */
  pp_geometry geometry;
  int n_ranks, n_nodes;
  int threads_per_rank;               /* FFTW and OpenBLAS threads of each rank; 0: not said
                                         (no threads_per_rank attribute) */
  /* output.planes: pp_system_requested_planes(job) (NULL, 0: none); each becomes
   * /planes/<optic index>_<optic name> [nλ][ny][nx] of job->plane_quantity */
  const pp_plane_info *planes;
  size_t n_planes;
  /* [n_planes][n_wavelengths] each plane's pixel scale at each wavelength, in its unit
   * (pp_system_plane_pixelscales): written as given, never derived here. NULL without
   * planes. */
  const double *plane_pixelscales;
  /* Fresnel planes ([n_planes][n_wavelengths] each, metres) or NULL: the pilot beam's radius
   * and the reference surface's radius of curvature (infinite: planar), written as the
   * attributes beam_radius_m and reference_curvature_m of each plane. */
  const double *plane_beam_radii_m;
  const double *plane_curvatures_m;
} pp_output_meta;

/* One row of /provenance/tasks. */
typedef struct pp_task_record {
  int rank, node;
  int method;                         /* pp_method actually used */
  int unused;                         /* 0, in no dataset: it fills what would be padding, so
                                         that a row stored in this layout (/provenance/tasks)
                                         holds no uninitialised byte */
  double seconds;
  double peak_bytes;                  /* the rank's peak RSS after the task (bytes) */
} pp_task_record;

/* Refuses an existing `path` unless force; creates the temporary file and every
 * dataset and attribute. Collective on comm: all ranks get the same status.
 *   path    in: final file name; the file is written as pp_output_temp_path(path) meanwhile.
 *           Refused (PP_ERR_INPUT) when it exists and !force, when it is a directory, or
 *           when its directory does not exist or is not writable. A stale temporary file
 *           from an earlier run is overwritten.
 *   meta    in: the same values on every rank (checked: ranks that disagree get
 *           PP_ERR_INTERNAL); meta->job gives wavelengths, weights, detector, text.
 *   force   in: allow replacing an existing file; it is replaced only at a successful
 *           pp_output_close, so a failed run leaves it as it was.
 *   output  out: the open output on success, NULL on error.
 * On success the file's structure (every dataset, attribute, /wavelengths, /weights and
 * the zeroed /status/completed) is already flushed to disk. */
pp_status pp_output_create(const char *path, const pp_output_meta *meta, bool force,
                           MPI_Comm comm, pp_output **output);
/* Writes monochromatic slice `index` (when the cube is on) and its provenance row, and
 * notes the slice as pending on this rank. Not collective (independent I/O): only the
 * rank that computed the slice calls.
 *   psf     in: ny × nx values, row-major (y, x); ignored (may be NULL) without a cube.
 *   record  in: the provenance row for this slice.
 * /status/completed[index] is NOT set here: it is set by the next pp_output_sync or
 * pp_output_close_as (PUBLISH or KEEP_PARTIAL), after those bytes are synced to storage
 * (H5Fflush is collective, so this call cannot do it). A slice already completed (by an
 * earlier sync, or by the run a resume continues) is refused with PP_ERR_INTERNAL. */
pp_status pp_output_write_slice(pp_output *output, size_t index, const double *psf,
                                const pp_task_record *record);
/* pp_output_write_slice for `count` consecutive slices first … first + count − 1 in one
 * write each of the cube and the provenance rows (a PSF grid's run of a point's
 * wavelengths): psfs holds count × ny × nx values (may be NULL without a cube), records
 * count rows. Not collective. */
pp_status pp_output_write_slices(pp_output *output, size_t first, size_t count,
                                 const double *psfs, const pp_task_record *records);
/* Writes rows [row0, row0+nrows) of /psf (and of /psf_detector when detector_rows is not
 * NULL: rows [row0/os, (row0+nrows)/os)). Collective: every rank calls, with nrows 0 when
 * it has no rows. row0 and nrows must be multiples of os where detector_rows is given.
 *   psf_rows       in: nrows × nx values; may be NULL when nrows is 0.
 *   detector_rows  in: nrows/os × nx/os values, or NULL. If any rank passes detector rows
 *                  /psf_detector is written collectively, NULL ranks taking part with an
 *                  empty selection. */
/* Makes the buffer plane writes convert into (the largest plane, one double a pixel for
 * intensity, two for complex and amplitude_phase):
 * called once by each rank that will write planes, so that idle ranks hold none. Not
 * collective; nothing to do without planes. */
pp_status pp_output_prepare_plane_writes(pp_output *output);
/* Writes plane view->plane of wavelength `index` as job->plane_quantity (the field times
 * view->field_scale; the detector plane's intensity is view->intensity as given). Not
 * collective: the rank that computed the wavelength writes it, before its slice
 * (pp_output_write_slice), so that a completed slice always has its planes on storage.
 * Allocates nothing. */
pp_status pp_output_write_plane(pp_output *output, size_t index, const pp_plane_view *view);
/* The name of plane `plane` of job in /planes: "<optic index>_<optic name>" ('/' in a name
 * becomes '_'), "<n_optics>_detector" for the detector; cut to size. Not collective. */
void pp_output_plane_name(const pp_job *job, const pp_plane_info *plane, char *name,
                          size_t size);
pp_status pp_output_write_psf_rows(pp_output *output, size_t row0, size_t nrows,
                                   const double *psf_rows, const double *detector_rows);
/* The detector effects applied to /psf and /psf_detector (output_detector.c): rewrites their
 * descriptions and records each effect as attributes (jitter_sigma_arcsec and
 * jitter_sigma_px, charge_diffusion_sigma_detector_px and charge_diffusion_sigma_px on /psf;
 * ipc_kernel [9] on /psf_detector; `detector_effects` on the root, the effects in the order
 * applied). With unconvolved_psf (ny × nx) and unconvolved_detector (detector_ny ×
 * detector_nx) on rank 0, also writes /psf_unconvolved and /psf_detector_unconvolved (the
 * other ranks pass NULL). Collective. */
pp_status pp_output_write_detector_effects(pp_output *output, const pp_detector_spec *detector,
                                           double psf_pixelscale_arcsec, bool keep_unconvolved,
                                           const double *unconvolved_psf,
                                           const double *unconvolved_detector);

/* ---- a PSF grid (output_grid.c, docs/grids.md) ------------------------------------------ */
/* Creates /grid with psf [n_points][ny][nx], psf_detector [n_points][ny/os][nx/os], points
 * [n_points][2] (x, y arcsec) and detector_xy [n_points][2] (x, y detector pixels), written
 * as given on rank 0, and, when with_cube, cube [n_points][n_lambda][ny][nx]. Does nothing
 * when the file has /grid already (a resumed grid). Collective. */
pp_status pp_output_grid_create(pp_output *output, size_t n_points, const double *points_arcsec,
                                const double *detector_xy, size_t n_lambda, bool with_cube);
/* Writes rows [row0, row0 + nrows) of one image of a /grid dataset ("psf", "psf_detector" or
 * "cube"): the image at leading indices lead[0..n_lead) (the point; for the cube the point
 * and the wavelength). Collective: every rank calls with its own rows (nrows may be 0). */
pp_status pp_output_grid_write_rows(pp_output *output, const char *name, const size_t *lead,
                                    int n_lead, size_t row0, size_t nrows, const double *rows);
/* Reads rows [row0, row0 + nrows) of image `point` of /grid/<name> ("psf" or
 * "psf_detector"). Collective: every rank calls with its own rows (nrows may be 0). */
pp_status pp_output_grid_read_rows(pp_output *output, const char *name, size_t point,
                                   size_t row0, size_t nrows, double *rows);
/* Writes the whole oversampled image `point` of /grid/<name> ("psf": ny × nx values) from
 * the rank that computed it. Not collective (independent I/O); synced by the next
 * pp_output_sync, like a slice. */
pp_status pp_output_grid_write_image(pp_output *output, const char *name, size_t point,
                                     const double *image);
/* Marks /grid, durably, as being rewritten: from now on /grid/psf holds PSFs after the
 * detector effects, no longer the points' sums a stopped grid resumes from, and a resumed
 * run computes every point again (pp_output_open_resume reads the mark). Called by a
 * grid's finish before it blurs the first sum in place. Collective. */
pp_status pp_output_grid_mark_rewritten(pp_output *output);
/* Checkpoint and commit. Collective: every rank calls, at the same point. Syncs every
 * rank's written bytes to storage (H5Fflush → MPI_File_sync), and only then sets
 * /status/completed for every slice any rank wrote with pp_output_write_slice before the
 * call, and syncs those flags. After it returns PP_SUCCESS:
 *   - each of those slices, its provenance row and its flag are on storage: they survive
 *     a crash of the process or of the machine, and --resume keeps them;
 *   - every rank can read them back with pp_output_read_cube_rows (MPI-IO's
 *     sync-barrier-sync consistency), whichever rank wrote them.
 * At all times, a flag that is 1 in the file means its slice is on storage; slices
 * written after the last sync have flag 0 and are recomputed by a resumed run. */
pp_status pp_output_sync(pp_output *output);

/* Reads rows [row0, row0+nrows) of /cube[index] from the open file: the read-back half of
 * the deterministic reduction. Collective: every rank calls, normally with the same index
 * and its own band; nrows may be 0 (rows may then be NULL). One collective MPI-IO read
 * per call: each rank's band of a slice is one contiguous byte range, which a collective
 * read serves with few large requests where independent reads from many ranks would not.
 *   rows  out: nrows × nx values, row-major.
 * Refused (PP_ERR_INTERNAL, on every rank) when the file has no cube, index is out of
 * range, rows fall outside the slice, or slice index is not completed yet: call
 * pp_output_sync after the last pp_output_write_slice and before reading back. */
pp_status pp_output_read_cube_rows(pp_output *output, size_t index, size_t row0, size_t nrows,
                                   double *rows);
/* What pp_output_close_as does with the temporary file <path>.partial. */
typedef enum {
  /* The run succeeded: commit (as pp_output_sync), close, rename to the final name. */
  PP_OUTPUT_PUBLISH = 0,
  /* The run failed and cannot be resumed: close and remove <path>.partial. */
  PP_OUTPUT_DISCARD = 1,
  /* The run failed or was stopped, and can be resumed: commit every slice written so far
   * (as pp_output_sync), close, and leave <path>.partial for pp_output_open_resume. */
  PP_OUTPUT_KEEP_PARTIAL = 2
} pp_output_close_mode;

/* Closes the file and publishes, discards or keeps it. Collective. Sets *output to NULL
 * (accepts *output == NULL). The mode is combined over ranks: PUBLISH only if every rank
 * says PUBLISH; otherwise KEEP_PARTIAL if any rank says so (keeping never loses a slice);
 * otherwise DISCARD. For PUBLISH the file is committed, synced, every HDF5 object closed,
 * then rank 0 renames (atomic: rename(2) with force; link(2)+unlink(2) without, so a file
 * that appeared at the final name during the run is never overwritten: then the result
 * stays at the temporary name and PP_ERR_IO says so). If the commit or the close fails,
 * the error is returned and <path>.partial is kept, as for KEEP_PARTIAL. Every rank
 * returns after the rename or removal. Returns PP_SUCCESS for DISCARD and KEEP_PARTIAL
 * when the cleanup itself worked. */
pp_status pp_output_close_as(pp_output **output, pp_output_close_mode mode);
/* pp_output_close_as with PUBLISH when success, else DISCARD. Collective. */
pp_status pp_output_close(pp_output **output, bool success);

/* Whether this process may end MPI normally: false when HDF5 still holds a file that it
 * failed to close because its storage refused the last writes (a file system turned
 * read-only, a dead disk). HDF5 1.10 closes such a file again inside MPI_Finalize and
 * crashes there; a program should then print its error and end without MPI_Finalize
 * (_exit). Not collective. */
bool pp_output_can_finalize(void);

/* ---- resume ---------------------------------------------------------------------- */
/* Opens the output of a killed run again, for `polypsf run --resume`, or starts a fresh
 * one when there is nothing to resume. Collective on comm: all ranks get the same status,
 * *resumed and completed[].
 *   path      in: final file name (the .partial is pp_output_temp_path(path)).
 *   meta      in: as for pp_output_create; meta->job must have the cube on
 *             (output: {cube: true}), else PP_ERR_INPUT: a resumed run keeps slices.
 *   force     in: as for pp_output_create: allow replacing an existing file at `path` at
 *             the successful close.
 *   output    out: the open output, NULL on error.
 *   completed out: [meta->job->n_wavelengths] 1 for each slice already in the file (skip
 *             it), else 0; all 0 when starting fresh.
 *   resumed   out (may be NULL): true when <path>.partial was opened, false when a fresh
 *             file was created.
 * What is found decides:
 *   - <path>.partial exists: it is opened read-write through MPI-IO after checking, on
 *     rank 0, that it is a polypsf-psf file of format version PP_OUTPUT_FORMAT_VERSION
 *     written for this job: same job text, wavelengths and weights (bit for bit), /psf
 *     shape, pixel scale and pupil width, and that it has /cube; otherwise PP_ERR_INPUT
 *     ("'OUT.h5.partial' was written for a different job (…); remove it or run without
 *     --resume"). The root attributes n_ranks and n_nodes are set to meta's values: they
 *     describe the run that finishes the file. Also refused, before any work, when a file
 *     exists at `path` and !force (the successful close would have to replace it).
 *   - only `path` exists: PP_ERR_INPUT, "'OUT.h5' is already complete; nothing to resume
 *     (use --force to recompute)" when it is this job's finished output, "… exists; use
 *     --force to overwrite" otherwise. With force: a fresh start that replaces it at the
 *     successful close.
 *   - neither exists: a fresh start, exactly pp_output_create(path, meta, force, …): what
 *     a requeued batch job that never got to write anything wants.
 * The .partial file is never modified or removed by a refusal. Do not resume a run that
 * is still running: nothing can detect that. */
pp_status pp_output_open_resume(const char *path, const pp_output_meta *meta, bool force,
                                MPI_Comm comm, pp_output **output, unsigned char *completed,
                                bool *resumed);

/* Temporary name used while writing (path + ".partial"), into buf of size bytes.
 * Not collective. */
pp_status pp_output_temp_path(const char *path, char *buf, size_t size);

/* ---- reading (serial: HDF5's default driver, no MPI needed) ------------------------ */
/* Reads a whole numeric dataset (e.g. "/psf", "/cube", "/status/completed") converted to
 * float64. Not collective.
 *   data   out: allocated with pp_array_alloc; free with pp_array_free(data).
 *   dims   out: extents, slowest first; unused entries set to 1.
 *   ndims  out: 1 to 3 (datasets of higher rank are refused). */
pp_status pp_output_read_dataset(const char *path, const char *name, double **data,
                                 size_t dims[3], int *ndims);
/* Reads /provenance/tasks. records out: malloc'ed, free() it; count out: rows. Not
 * collective. */
pp_status pp_output_read_tasks(const char *path, pp_task_record **records, size_t *count);
/* Reads a string attribute (fixed or variable length) of `object` ("/" for the root, or a
 * dataset path). value out: malloc'ed and NUL-terminated, free() it. Not collective. */
pp_status pp_output_read_string_attribute(const char *path, const char *object,
                                          const char *name, char **value);
/* Reads a numeric scalar attribute converted to double. Not collective. */
pp_status pp_output_read_number_attribute(const char *path, const char *object,
                                          const char *name, double *value);

/* One wavelength of one /planes dataset, as an intensity. */
typedef struct pp_plane_slice {
  char name[PP_OPTIC_NAME_BYTES + 32]; /* the dataset in /planes, "<index>_<name>" */
  char plane_type[16];                 /* "pupil", "image" or "detector" */
  size_t ny, nx;
  double pixelscale;                   /* metres (pupil; every plane of a Fresnel result) or
                                          arcsec (image, detector) at λ */
  double *intensity;                   /* [ny][nx] |E|², pp_array_alloc'ed */
} pp_plane_slice;

/* Reads wavelength `index` of the plane `plane` names: the dataset name ("4_lyot"), the
 * optic's index ("4") or its name ("lyot"). Converted to intensity whatever the file's
 * plane_quantity. Not collective. PP_ERR_INPUT, listing the planes the file has, for a
 * file without /planes, an unknown or ambiguous plane, an index beyond the wavelengths.
 * slice out: release with pp_plane_slice_clear. */
pp_status pp_output_read_plane(const char *path, const char *plane, size_t index,
                               pp_plane_slice *slice);
void pp_plane_slice_clear(pp_plane_slice *slice);
/* One line on the file's /planes for `polypsf info`: "<count> (<quantity>): <name> <type>
 * <nx> x <ny>, …". text out: malloc'ed (free it), NULL when the file has no /planes. Not
 * collective. */
pp_status pp_output_describe_planes(const char *path, char **text);

/* ---- a finished output read back: export, render, info (serial, no MPI) ------------ */
/* Everything `polypsf export`, `render` and `info` need from an output file, in memory:
 * the root attributes, /psf, /psf_detector, /wavelengths, /weights, /status/completed and
 * /provenance/tasks (not /cube: see pp_result_read_cube_slice). Arrays are [y][x]
 * row-major as in the file. */
typedef struct pp_result {
  char *path;                        /* the file read */
  long long format_version;          /* root attribute format_version */
  char *software_version;            /* polypsf that wrote the file */
  char *creation_date_utc;           /* ISO 8601 UTC, e.g. 2025-03-01T17:04:12Z */
  char *job_text, *job_source;       /* the job file's text and its path as given */
  char *normalization, *method;      /* "first" | "none"; "auto" | "mft" | "czt" | "fft" */
  double pixelscale_arcsec;          /* /psf pixel (arcsec); 0 in a Fresnel result */
  double detector_pixelscale_arcsec; /* /psf_detector pixel (arcsec); 0 in a Fresnel result */
  double pixelscale_m;               /* Fresnel results (root pixelscale_m): /psf pixel in
                                        metres, the same for /psf_detector; 0 otherwise */
  double pupil_diameter_m;           /* pupil array width (metres) */
  int oversample, fft_oversample;
  size_t pupil_npix;
  int n_ranks, n_nodes;              /* of the run that finished the file */
  int threads_per_rank;              /* … and its threads per rank; 0: not recorded (older file) */
  size_t ny, nx;                     /* /psf */
  double *psf;                       /* [ny][nx] */
  size_t detector_ny, detector_nx;   /* /psf_detector */
  double *psf_detector;              /* [detector_ny][detector_nx] */
  size_t n_wavelengths;
  double *wavelengths_m, *weights;   /* [n_wavelengths]; metres; normalized weights */
  unsigned char *completed;          /* [n_wavelengths] /status/completed (0 or 1) */
  size_t n_completed;                /* how many are 1 */
  pp_task_record *tasks;             /* [n_wavelengths] /provenance/tasks */
  bool has_cube;                     /* the file has /cube [n_wavelengths][ny][nx] */
} pp_result;

/* Reads an output file into memory. Not collective.
 *   path    in: the file (a finished one, or a .partial to inspect).
 *   result  out: the contents, NULL on error; release with pp_result_destroy.
 * PP_ERR_INPUT, naming the file, when it does not exist or cannot be read, is not HDF5 or
 * is damaged (with HDF5's words), is not a polypsf-psf file (format_name) or has a newer
 * format_version, or lacks a dataset or attribute of docs/output-format.md or has one of
 * the wrong shape. PP_ERR_MEMORY when it does not fit. */
pp_status pp_result_load(const char *path, pp_result **result);
/* PP_ERR_INPUT unless every wavelength of the result is completed, i.e. /psf is final
 * ("… has 3 of 6 wavelengths completed: …"): what export and render require. Not
 * collective. */
pp_status pp_result_check_complete(const pp_result *result);
/* Reads /cube[index] of the result's file into slice[ny][nx] (caller-allocated).
 * PP_ERR_INPUT when the file has no cube or index is out of range. Not collective. */
pp_status pp_result_read_cube_slice(const pp_result *result, size_t index, double *slice);
/* A PSF grid's /grid/psf and /grid/points (export_grid.c). */
typedef struct pp_result_grid {
  size_t n_points, ny, nx;
  double *psf;      /* [n_points][ny][nx] */
  double *points;   /* [n_points][2] x, y arcsec */
} pp_result_grid;
/* Reads the grid of a result's file; n_points 0 (and no arrays) when the file has no /grid.
 * PP_ERR_INPUT for a damaged /grid. Release with pp_result_grid_free. Not collective. */
pp_status pp_result_read_grid(const pp_result *result, pp_result_grid *grid);
void pp_result_grid_free(pp_result_grid *grid);
/* Releases a result and sets *result to NULL (accepts NULL and *result == NULL). */
void pp_result_destroy(pp_result **result);

/* ---- FITS export (docs/export.md) ------------------------------------------------------ */
typedef struct pp_fits_export_options {
  bool cube;  /* add the CUBE extension with /cube (the file must have one) */
  bool force; /* replace an existing FITS file */
} pp_fits_export_options;

/* Writes an output file as a FITS file laid out as POPPY's calc_psf writes one: primary
 * HDU the oversampled PSF (EXTNAME OVERSAMP), extension DET_SAMP the detector-sampled PSF,
 * optionally extension CUBE [nλ][ny][nx], and a last binary table WAVELENGTHS; POPPY's
 * header keywords (PIXELSCL, OVERSAMP, DET_SAMP, WAVELEN, NWAVES, WAVE<i>, WGHT<i>,
 * DIFFLMT, NORMALIZ, DATE, …). Data are float64 and come back from astropy's getdata as
 * the [y][x] arrays h5py gives for the datasets, bit for bit. Not collective.
 *   input_path  in: a finished polypsf output file (every wavelength completed).
 *   fits_path   in: the FITS file to write; it is written as a temporary file in a
 *               private directory beside it and renamed into place when complete.
 *   options     in: NULL for no cube, no force.
 * PP_ERR_INPUT, with nothing written, for a bad input file (see pp_result_load and
 * pp_result_check_complete), --cube without /cube, an existing fits_path without force,
 * a fits_path that is a directory or whose directory does not exist or is not writable.
 * PP_ERR_LIBRARY (cfitsio's words) or PP_ERR_IO when writing fails: the temporary file is
 * removed and an existing fits_path is left as it was. */
pp_status pp_export_fits(const char *input_path, const char *fits_path,
                         const pp_fits_export_options *options);
/* Writes a PSF grid's /grid/psf as WebbPSF's psf_grid writes its FITS file (export_grid.c,
 * docs/grids.md): the primary HDU [point][y][x] the oversampled PSFs times oversample², with
 * NUM_PSFS, DET_YX<i> = "(y, x)" from /grid/detector_xy, OVERSAMP, DET_SAMP, FOVPIXEL,
 * WAVELEN, NWAVES, DIFFLMT, NORMALIZ, DATE. The same checks and staging as pp_export_fits;
 * PP_ERR_INPUT, nothing written, when the file has no /grid. Not collective. */
pp_status pp_export_psf_grid(const char *input_path, const char *fits_path, bool force);

/* ---- PNG preview (docs/export.md) ------------------------------------------------------ */
typedef enum {
  PP_COLORMAP_GRAY = 0,
  PP_COLORMAP_VIRIDIS = 1, /* matplotlib's viridis (a polynomial fit to it) */
  PP_COLORMAP_INFERNO = 2  /* matplotlib's inferno (a polynomial fit to it) */
} pp_colormap;

/* "gray", "viridis" or "inferno" → colormap; PP_ERR_INPUT naming the choices otherwise. */
pp_status pp_colormap_parse(const char *name, pp_colormap *colormap);

typedef struct pp_png_options {
  pp_colormap colormap;
  /* Length of a labelled scale bar (arcsec); 0: no bar; PP_PNG_SCALE_BAR_AUTO: the longest
   * 1, 2 or 5 × 10^k arcsec up to a fifth of the image's width (none if under 2 pixels). */
  double scale_bar_arcsec;
  size_t size_px;          /* PNG pixels along the longer side; 0: one per /psf pixel */
  double min_decades;      /* the log stretch spans this many decades below the peak */
} pp_png_options;

#define PP_PNG_SCALE_BAR_AUTO (-1.0)

#define PP_PNG_OPTIONS_DEFAULT                                                            \
  ((pp_png_options){.colormap = PP_COLORMAP_INFERNO, .scale_bar_arcsec = 0.0, .size_px = 0, \
                    .min_decades = 6.0})

/* Renders /psf as an 8-bit RGB PNG: log10 of the intensity from peak·10^−min_decades (and
 * below, including zero) to the peak, through the colour map; y increases upwards (the
 * PSF's row 0 is the PNG's bottom row, as POPPY's display_psf shows it); resampled by
 * area averaging to size_px. An existing png_path is replaced (a preview is derived data),
 * atomically: the PNG is written to a temporary file and renamed. Not collective.
 *   input_path  in: a finished polypsf output file.
 *   png_path    in: the PNG to write.
 *   options     in: NULL for PP_PNG_OPTIONS_DEFAULT.
 * PP_ERR_INPUT, with nothing written, for a bad input file, a /psf without a positive
 * value, bad options (size 1–32768, 0.5–20 decades, a scale bar that is not shorter than
 * the image or shorter than 2 PNG pixels), or a png_path whose directory does not exist
 * or is not writable, or that is a directory. PP_ERR_LIBRARY (libpng's words) or
 * PP_ERR_IO when writing fails (nothing is left behind). */
pp_status pp_render_png(const char *input_path, const char *png_path,
                        const pp_png_options *options);
/* The same for wavelength `index` of an intermediate plane (pp_output_read_plane names it);
 * the wavelength must be completed in the file. A pupil plane's pixels are metres: no scale
 * bar there (PP_ERR_INPUT if one is asked for). Not collective. */
pp_status pp_render_png_plane(const char *input_path, const char *png_path, const char *plane,
                              size_t index, const pp_png_options *options);

#ifdef __cplusplus
}
#endif
#endif
