/* polypsf optics: the optical elements a job file can name, and how each one acts on
 * the pupil grid or, for coronagraph masks and field stops, on an image-plane grid.
 *
 * One table (pp_optic_type) maps a job-file `type` to its element: its parameters with
 * their kinds, defaults, ranges and units. The job parser validates against the table;
 * the system module asks each spec for its pupil diameter and applies it to the grid.
 * Names and defaults follow POPPY's classes and arguments in snake_case. */
#ifndef POLYPSF_OPTICS_H
#define POLYPSF_OPTICS_H

#include "polypsf/complex_value.h"

#include "polypsf/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PP_PLANE_PUPIL, PP_PLANE_IMAGE } pp_plane_kind;

typedef enum {
  PP_PARAM_REAL,      /* a number */
  PP_PARAM_INT,       /* a whole number (stored as double, checked integral) */
  PP_PARAM_BOOL,      /* true/false (stored as 0/1) */
  PP_PARAM_REAL_LIST, /* a list of numbers (at most one such parameter per type) */
  PP_PARAM_CHOICE,    /* one word of `choices`, stored as its index */
  PP_PARAM_STRING     /* text (e.g. a file name), stored in spec->text[index] */
} pp_param_kind;

/* PP_OPTIC_MAX_TEXT_BYTES bounds one STRING value, terminating NUL included (a file path). */
enum { PP_OPTIC_MAX_PARAMS = 12, PP_OPTIC_NAME_BYTES = 64, PP_OPTIC_MAX_TEXT_BYTES = 4096 };

typedef struct pp_optic_param {
  const char *name;          /* job-file key: POPPY's argument name */
  pp_param_kind kind;
  bool required;
  double default_value;      /* used when absent and not required (REAL, INT, BOOL, CHOICE) */
  double min, max;           /* allowed range, inclusive unless *_exclusive */
  bool min_exclusive, max_exclusive;
  const char *const *choices; /* CHOICE: NULL-terminated list of allowed words */
  const char *unit;          /* "m", "deg", "" ... for docs and messages */
  const char *doc;           /* one line */
  /* STRING: the text names a file; the job parser reads a relative name relative to the
   * job file's directory and stores the joined path. */
  bool file_path;
} pp_optic_param;

struct pp_optic_spec;
/* What pp_optic_spec_load_files found in the files a spec names (shape, pixel scale,
 * unit); private to the optics module. */
struct pp_optic_files;
struct pp_pupil_grid;
struct pp_image_grid;

typedef struct pp_optic_type {
  const char *name;          /* job-file type, e.g. "circular_aperture" */
  const char *poppy_name;    /* e.g. "CircularAperture" */
  pp_plane_kind plane;
  const pp_optic_param *params;
  size_t n_params;
  const char *doc;
  /* Checks relations between parameters (e.g. side or flattoflat, not both).
   * May be NULL. Returns PP_ERR_INPUT errors; the caller adds file:line:column. */
  pp_status (*validate)(const struct pp_optic_spec *spec);
  /* What the optic does, called through pp_optic_pupil_diameter_m, pp_optic_has_opd,
   * pp_optic_spec_load_files, pp_optic_apply_pupil, pp_optic_apply_pupil_fft and
   * pp_optic_apply_image (their comments say what each does). NULL where the optic has no
   * such behaviour: no pupil size (0), no OPD, no files to read; a pupil-plane row has
   * apply_pupil or apply_pupil_fft, an image-plane row apply_image. */
  double (*pupil_diameter_m)(const struct pp_optic_spec *spec);
  bool (*has_opd)(const struct pp_optic_spec *spec);
  pp_status (*load_files)(struct pp_optic_spec *spec, int *param_index);
  pp_status (*apply_pupil)(const struct pp_optic_spec *spec, const struct pp_pupil_grid *grid,
                           double *amplitude, double *opd);
  pp_status (*apply_pupil_fft)(const struct pp_optic_spec *spec,
                               const struct pp_pupil_grid *grid, size_t fft_ny, size_t fft_nx,
                               double complex *field);
  pp_status (*apply_image)(const struct pp_optic_spec *spec, const struct pp_image_grid *grid,
                           double wavelength_m, double complex *field);
} pp_optic_type;

/* One optic as given in a job file, validated. Values are indexed like type->params. */
typedef struct pp_optic_spec {
  const pp_optic_type *type;
  double value[PP_OPTIC_MAX_PARAMS];
  bool given[PP_OPTIC_MAX_PARAMS]; /* true where the job file set the key */
  double *list;                    /* the REAL_LIST parameter's values (owned), or NULL */
  size_t list_len;
  /* STRING parameters' values (owned, malloc'ed), indexed like value[]; NULL where not
   * given. File paths are stored as the job parser resolved them. */
  char *text[PP_OPTIC_MAX_PARAMS];
  /* Filled by pp_optic_spec_load_files for types that read files (owned); NULL before
   * that and for every other type. */
  struct pp_optic_files *files;
  char name[PP_OPTIC_NAME_BYTES];  /* optional label (`name:` key), else the type name */
  int line, column;                /* 1-based position in the job file, for messages */
} pp_optic_spec;

/* The table. Not collective. */
size_t pp_optic_type_count(void);
const pp_optic_type *pp_optic_type_at(size_t index);
/* NULL when no type has that name. */
const pp_optic_type *pp_optic_type_find(const char *name);
/* Index of a parameter of `type`, or -1. */
int pp_optic_param_index(const pp_optic_type *type, const char *key);
/* A parameter's value by name (the default when not given). Aborts nothing: an unknown
 * name is a bug and returns NaN. */
double pp_optic_spec_get(const pp_optic_spec *spec, const char *key);
/* Fills value[] with the defaults of spec->type (call before setting given keys). */
void pp_optic_spec_init(pp_optic_spec *spec, const pp_optic_type *type);
/* Runs the type's validate; PP_ERR_INPUT on a bad combination. */
pp_status pp_optic_spec_validate(const pp_optic_spec *spec);
/* Deep copy (list, texts and file facts duplicated) and release of what a spec owns. */
pp_status pp_optic_spec_copy(const pp_optic_spec *src, pp_optic_spec *dst);
void pp_optic_spec_clear(pp_optic_spec *spec);

/* Added by the optics module (helpers for the job parser and tests). Not collective. */
/* True when the job file set `key` (false for unknown keys). */
bool pp_optic_spec_given(const pp_optic_spec *spec, const char *key);
/* Checks one value against a parameter's kind and range (for REAL_LIST: one element).
 * PP_ERR_INPUT with a sentence naming the type, the key, the allowed range and unit;
 * the caller adds file:line:column. */
pp_status pp_optic_param_check(const pp_optic_type *type, const pp_optic_param *param,
                               double value);
/* Checks and stores a scalar value, marking the key given. PP_ERR_INPUT for an unknown
 * key, a list key, or a value out of range. */
pp_status pp_optic_spec_set(pp_optic_spec *spec, const char *key, double value);
/* Checks and stores (copies, with malloc) the REAL_LIST parameter, marking it given.
 * spec->list is always malloc'ed and released by pp_optic_spec_clear. */
pp_status pp_optic_spec_set_list(pp_optic_spec *spec, const char *key, const double *values,
                                 size_t count);
/* Checks and stores (copies) a STRING parameter's text, marking it given. PP_ERR_INPUT
 * for an unknown key, a key of another kind, an empty text or one of
 * PP_OPTIC_MAX_TEXT_BYTES or more. File paths are stored as given (the job parser joins
 * relative ones to the job file's directory before calling). */
pp_status pp_optic_spec_set_text(pp_optic_spec *spec, const char *key, const char *text);
/* A STRING parameter's text, or NULL when not given (or not a STRING key). */
const char *pp_optic_spec_get_text(const pp_optic_spec *spec, const char *key);

/* Reads the files a validated spec names (fits_optical_element's maps) and keeps what the
 * system needs before it reads them again: the maps' shape, their pixel scale (the job's
 * `pixelscale`, else the files' headers) and the OPD unit (`opdunits`, else the file's).
 * Checks everything a run would trip over: a missing, unreadable or corrupt file, a map
 * that is not 2-D (a 3-D cube of maps is accepted, and each of its maps checked), a NaN, a
 * negative transmission, maps of different shapes, no pixel scale, an unknown unit. Does
 * nothing (PP_SUCCESS) for types that name no file. The job parser calls it for every
 * optic, so that bad files stop a job before any output exists; code that builds specs by
 * hand calls it before pp_optic_pupil_diameter_m and pp_optic_apply_pupil. Reads each map
 * once, one at a time, and keeps none of them.
 *   param_index  out (may be NULL): on error, the index in type->params of the key whose
 *                file is at fault, or -1 when the fault is not one file's.
 * PP_ERR_INPUT with a sentence that names the type, the key and the file; PP_ERR_MEMORY.
 * Not collective. */
pp_status pp_optic_spec_load_files(pp_optic_spec *spec, int *param_index);
/* A fits_optical_element may name a cube of maps, one per field point of a PSF grid
 * (docs/grids.md). The number of maps in the cube that `key` ("transmission" or "opd")
 * names, as pp_optic_spec_load_files found it; 0 for a 2-D map (laid for every point), a
 * key not given, a spec not loaded and every other type. Not collective. */
size_t pp_optic_spec_map_count(const pp_optic_spec *spec, const char *key);
/* Makes a loaded spec lay map `point` of its cubes from then on (its 2-D maps stay as they
 * are). PP_ERR_INTERNAL for a spec without maps or a point past a cube's last map. Not
 * collective. */
pp_status pp_optic_spec_use_field_point(pp_optic_spec *spec, size_t point);

/* Noll's single index j ≥ 1 → radial order n and azimuthal order m (Noll 1976, as POPPY's
 * zernike.noll_indices): m > 0 multiplies cos(m·θ) (even j), m < 0 sin(|m|·θ) (odd j).
 * PP_ERR_INPUT for j < 1. */
pp_status pp_zernike_noll_indices(int j, int *n, int *m);

/* The sampling of the pupil plane: ny × nx pixels of pixelscale_m metres; pixel centres
 * at ((i − (n−1)/2)·pixelscale_m), y first, like POPPY's Wavefront.coordinates(). */
typedef struct pp_pupil_grid {
  size_t ny, nx;
  double pixelscale_m;
} pp_pupil_grid;

/* The diameter (metres) this optic asks of the pupil array (POPPY's pupil_diam);
 * 0 for optics that do not set it. The array width is the largest over pupil optics. */
double pp_optic_pupil_diameter_m(const pp_optic_spec *spec);
/* True when the optic adds optical path difference (its phase depends on λ). */
bool pp_optic_has_opd(const pp_optic_spec *spec);
/* Applies a pupil-plane optic on the grid: multiplies amplitude[ny·nx] by its amplitude
 * transmission and adds its OPD (metres) to opd[ny·nx] (opd may be NULL when
 * pp_optic_has_opd is false). Wavelength-independent, so done once per run.
 * Not collective. Allocates nothing large, except fits_optical_element, which reads its
 * maps again (one at a time: ny·nx doubles each) and releases them before returning;
 * a map file that changed since pp_optic_spec_load_files is PP_ERR_INPUT. */
pp_status pp_optic_apply_pupil(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                               double *amplitude, double *opd);

/* ---- a zernike_wfe's terms evaluated once on a grid ---------------------------------------
 * For a PSF grid, whose field points differ only in their Zernike coefficients: each term's
 * R(rho)·angular(θ) at every pixel, kept (pp_zernike_basis_bytes), so that a point's OPD is
 * the coefficients times them, the same products added in the same order as
 * pp_optic_apply_pupil does (the same bits). Not collective. */
typedef struct pp_zernike_basis pp_zernike_basis;
bool pp_optic_is_zernike(const pp_optic_spec *spec);
/* The basis of spec's terms (all spec->list_len of them, zero or not) on grid. */
pp_status pp_zernike_basis_create(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                                  pp_zernike_basis **basis);
/* Applies spec through basis, as pp_optic_apply_pupil would; *applied false (nothing done)
 * when basis was made for another radius, frame, term count or grid. */
pp_status pp_zernike_basis_apply(const pp_zernike_basis *basis, const pp_optic_spec *spec,
                                 const pp_pupil_grid *grid, double *amplitude, double *opd,
                                 bool *applied);
/* Bytes a basis of n_terms terms takes on grid (at most). */
size_t pp_zernike_basis_bytes(size_t n_terms, const pp_pupil_grid *grid);
void pp_zernike_basis_destroy(pp_zernike_basis **basis);

/* ---- FFT-aware pupil optics: fqpm_fft_aligner ------------------------------------------ */

/* True for pupil-plane optics that act on the complex field and need the size of the padded
 * FFT (today only fqpm_fft_aligner). The system applies them with pp_optic_apply_pupil_fft,
 * at their place in the optics list, on the complex pupil field of each wavelength;
 * pp_optic_apply_pupil refuses them. Not collective. */
bool pp_optic_needs_fft_padding(const pp_optic_spec *spec);

/* Applies fqpm_fft_aligner (POPPY FQPM_FFT_aligner) to a complex pupil field: the tilt that
 * moves the image of the next FFT by half a pixel of the padded FFT along x and y:
 *   field[iy][ix] *= exp(s·iπ·((ix − (nx − 1)/2)/fft_nx + (iy − (ny − 1)/2)/fft_ny))
 * with s = +1 for direction forward and −1 for backward. Forward moves the PSF of the
 * following pupil → image FFT (DESIGN.md's convention: inverse DFT, then fftshift) from pixel
 * fft_n/2 to (fft_n − 1)/2, the corner between the four central pixels, where an image grid
 * with PP_IMAGE_CENTER_ARRAY has its origin; backward undoes it after the image → pupil FFT.
 *   grid     in: the field's own array: the unpadded npix × npix pupil (before the padding) or
 *            the padded array (after the FFT back to a pupil); the phase is linear and
 *            centred on the array, so padding before or after gives the same numbers
 *   fft_ny, fft_nx  in: the padded FFT size, npix·fft_oversample (also in an MFT-only system:
 *            POPPY tilts by half a pixel of λ/(D·oversample) whether or not it then uses FFTs)
 *   field    in/out: ny·nx complex amplitudes, row-major [y][x]
 * POPPY computes the tilt angle ±½·λ/(D·oversample) and the phase 2π·x·angle/λ: λ and D
 * cancel, so the factor is the same at every wavelength. Allocates nothing.
 * PP_ERR_INTERNAL for another type, an empty grid or fft size, or NULL. Not collective. */
pp_status pp_optic_apply_pupil_fft(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                                   size_t fft_ny, size_t fft_nx, double complex *field);

/* ---- image planes ---------------------------------------------------------------------- */

/* Where the optical axis (x = y = 0) of an image plane lies on its pixels. POPPY's
 * Wavefront.image_coordinates (poppy/poppy_core.py) decides it from how the plane was made:
 *   PP_IMAGE_CENTER_ARRAY  pixel centres at (i − (n − 1)/2)·pixelscale: the axis between the
 *       four central pixels (n even). POPPY's 'array_center' and 'corner': MFT-made planes,
 *       and FFT-made planes after a forward fqpm_fft_aligner.
 *   PP_IMAGE_CENTER_PIXEL  pixel centres at (i − n/2)·pixelscale: the axis on pixel n/2, where
 *       the FFT's zero frequency lands. POPPY's 'pixel': FFT-made planes without a forward
 *       aligner before them, or after a backward one. */
typedef enum { PP_IMAGE_CENTER_ARRAY = 0, PP_IMAGE_CENTER_PIXEL } pp_image_centering;

/* The sampling of an image plane: ny × nx pixels of pixelscale_arcsec, row-major [y][x],
 * +x to the right (increasing ix), +y up (increasing iy), as POPPY. For an FFT-made plane
 * pixelscale_arcsec is λ/(D·fft_oversample) in arcsec, so it changes with λ. */
typedef struct pp_image_grid {
  size_t ny, nx;
  double pixelscale_arcsec;
  pp_image_centering centering; /* zero-initialized: PP_IMAGE_CENTER_ARRAY */
  /* The field holds rows [row0, row0 + nrows) of the ny-row plane, field[iy − row0][ix]
   * (a slab of a rank group's FFTW-MPI plane); nrows 0 (zero-initialized): all ny rows. */
  size_t row0, nrows;
} pp_image_grid;

/* True when the optic acts in an image plane (ideal_fqpm, band_limited_coronagraph, the
 * occulters and field stops): apply it with pp_optic_apply_image. Not collective. */
bool pp_optic_is_image_plane(const pp_optic_spec *spec);

/* Multiplies an image-plane field by the optic's complex transmission at wavelength_m:
 * field[iy][ix] *= T(x, y)·exp(i·2π·OPD(x, y)/λ), (x, y) the pixel centre in arcsec from
 * grid (its centering), then moved by the optic's shift_x, shift_y (arcsec) and turned by
 * its rotation (degrees), as POPPY's AnalyticOpticalElement.get_coordinates.
 *   wavelength_m  in: only ideal_fqpm's phase depends on it (the masks ignore it)
 *   field         in/out: ny·nx complex amplitudes, or nrows·nx for a slab (grid->nrows)
 * Design: nothing is kept between calls and nothing is allocated. An FFT-made image plane
 * has a pixel scale ∝ λ, so a mask sampled on it differs at every wavelength and there is
 * nothing to precompute across λ; what is constant within a call (radii in pixels, the
 * rotation, ideal_fqpm's three possible phasors) is computed once per call, before the loop
 * over pixels. Cost: a few flops per pixel, one Bessel J1 per pixel for a circular
 * band_limited_coronagraph, one sine per pixel (per row when not rotated) for a linear one
 * (measured on 2048 × 2048, -O2: 36 ns per pixel for the circular mask, ≤ 4 ns for the rest,
 * against ~70 ns per pixel for the FFT of that size).
 * PP_ERR_INTERNAL for a pupil-plane optic, an empty grid, a pixel scale ≤ 0, λ ≤ 0, NULL.
 * Not collective. */
pp_status pp_optic_apply_image(const pp_optic_spec *spec, const pp_image_grid *grid,
                               double wavelength_m, double complex *field);

#ifdef __cplusplus
}
#endif
#endif
