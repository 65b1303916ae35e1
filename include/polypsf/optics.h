/* polypsf optics: the optical elements a job file can name, and how each one acts on
 * the pupil grid.
 *
 * One table (pp_optic_type) maps a job-file `type` to its element: its parameters with
 * their kinds, defaults, ranges and units. The job parser validates against the table;
 * the system module asks each spec for its pupil diameter and applies it to the grid.
 * Names and defaults follow POPPY's classes and arguments in snake_case. */
#ifndef POLYPSF_OPTICS_H
#define POLYPSF_OPTICS_H

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
  PP_PARAM_CHOICE     /* one word of `choices`, stored as its index */
} pp_param_kind;

enum { PP_OPTIC_MAX_PARAMS = 12, PP_OPTIC_NAME_BYTES = 64 };

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
} pp_optic_param;

struct pp_optic_spec;

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
} pp_optic_type;

/* One optic as given in a job file, validated. Values are indexed like type->params. */
typedef struct pp_optic_spec {
  const pp_optic_type *type;
  double value[PP_OPTIC_MAX_PARAMS];
  bool given[PP_OPTIC_MAX_PARAMS]; /* true where the job file set the key */
  double *list;                    /* the REAL_LIST parameter's values (owned), or NULL */
  size_t list_len;
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
/* Deep copy (list duplicated) and release of the owned list. */
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
 * Not collective; allocates nothing large. */
pp_status pp_optic_apply_pupil(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                               double *amplitude, double *opd);

#ifdef __cplusplus
}
#endif
#endif
