/* Private to src/job/: the loaded YAML document and its typed readers.
 *
 * Every reader takes the node it reads and the key path that leads to it
 * ("detector.oversample", "optics[1].zernike_wfe.coefficients"), so that each error
 * it raises reads `file:line:column: path: what is wrong, what is allowed`
 * (PP_ERR_INPUT, 1-based line and column of the offending key or value). */
#ifndef POLYPSF_JOB_PRIVATE_H
#define POLYPSF_JOB_PRIVATE_H

#ifndef POLYPSF_JOB_PACKAGE
#error "job_private.h is private to src/job/; include polypsf/job.h instead"
#endif

#include <yaml.h>

#include "polypsf/job.h"

/* Key paths are short ("optics[12].secondary_obscuration.support_angle_offset"). */
enum { PP_JOB_PATH_BYTES = 192 };

/* One parsed YAML document plus the name that stands for its file in messages. */
typedef struct pp_yaml_doc {
  yaml_document_t document;
  bool loaded;      /* document must be deleted */
  const char *name; /* borrowed */
} pp_yaml_doc;

/* Parses text (length bytes, need not be NUL-terminated) as exactly one YAML document.
 * Syntax errors, an empty file and a second document are PP_ERR_INPUT with position.
 * On error the document is released. */
pp_status pp_yaml_doc_load(const char *text, size_t length, const char *name, pp_yaml_doc *doc);
void pp_yaml_doc_release(pp_yaml_doc *doc);
/* The root node (never NULL after a successful load). */
yaml_node_t *pp_yaml_doc_root(pp_yaml_doc *doc);

/* Writes "parent.key" (or "key" when parent is empty) into out. */
void pp_yaml_path(char *out, size_t out_bytes, const char *parent, const char *key);
/* Writes "parent[index]" into out. */
void pp_yaml_path_index(char *out, size_t out_bytes, const char *parent, size_t index);

/* Makes the PP_ERR_INPUT error `name:line:col: path: message` at a node's start. */
pp_status pp_yaml_error_at(const char *file, int line, const char *func, pp_yaml_doc *doc,
                           const yaml_node_t *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 7, 8), returns_nonnull));
#define PP_YAML_ERROR(doc, node, path, ...) \
  pp_yaml_error_at(__FILE__, __LINE__, __func__, (doc), (node), (path), __VA_ARGS__)

/* ---- shape ------------------------------------------------------------------------- */
bool pp_yaml_is_null(const yaml_node_t *node);
/* "a list", "a mapping", "nothing (null)", "the text 'abc'" — for messages. */
void pp_yaml_describe(const yaml_node_t *node, char *out, size_t out_bytes);

/* words[] (NULL-terminated) joined by ", " into out, truncated to out_bytes. */
void pp_yaml_join_words(char *out, size_t out_bytes, const char *const *words);
/* Into out: " (did you mean 'WORD'?)" when text is one edit away from one of words[]
 * (NULL-terminated: a letter added, dropped, changed, or two neighbours swapped) or is, in
 * snake_case, one of them (POPPY's class names: CircularAperture → circular_aperture,
 * IdealFQPM → ideal_fqpm); else the empty text. */
void pp_yaml_suggest(const char *text, const char *const *words, char *out, size_t out_bytes);

/* Checks that node is a mapping (a null node counts as an empty mapping), that every key
 * is a plain word, that no key appears twice, and that every key is one of allowed[]
 * (NULL-terminated); an unknown key's error lists the allowed ones.
 * what_expected describes the mapping for the wrong-type message. */
pp_status pp_yaml_check_mapping(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                                const char *const *allowed, const char *what_expected);
/* The value of key in a mapping checked by pp_yaml_check_mapping; NULL when absent.
 * key_node (may be NULL) receives the key's node. */
yaml_node_t *pp_yaml_mapping_get(pp_yaml_doc *doc, const yaml_node_t *mapping, const char *key,
                                 yaml_node_t **key_node);
size_t pp_yaml_sequence_length(const yaml_node_t *node);
yaml_node_t *pp_yaml_sequence_item(pp_yaml_doc *doc, const yaml_node_t *node, size_t index);
size_t pp_yaml_mapping_length(const yaml_node_t *node);
void pp_yaml_mapping_pair(pp_yaml_doc *doc, const yaml_node_t *node, size_t index,
                          yaml_node_t **key, yaml_node_t **value);

/* ---- typed readers -------------------------------------------------------------------- */
/* A finite number written as a plain YAML 1.2 int or float (1024, 1.0e-6, 1e-6, -.5);
 * quoted text, hex, .inf, .nan and anything else are refused. unit ("m", "arcsec", "")
 * goes into the message. */
pp_status pp_yaml_read_number(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                              const char *unit, double *out);
/* A number that is a whole number (1024 or 1024.0) within [min, max]. */
pp_status pp_yaml_read_integer(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                               long long min, long long max, long long *out);
/* true or false (plain, lower case) only. */
pp_status pp_yaml_read_bool(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                            bool *out);
/* Any non-null scalar's text (borrowed from the document). */
pp_status pp_yaml_read_text(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                            const char *what_expected, const char **out);
/* A word from choices (NULL-terminated); *index is its position. */
pp_status pp_yaml_read_choice(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                              const char *const *choices, int *index);
/* A non-empty list of numbers (a flow [..] or block list); *values is malloc'ed. */
pp_status pp_yaml_read_number_list(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                                   const char *unit, double **values, size_t *count);
/* Checks min ≤ value ≤ max (strict where *_exclusive); infinite bounds are open. */
pp_status pp_yaml_check_range(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                              double value, double min, bool min_exclusive, double max,
                              bool max_exclusive, const char *unit);

/* ---- spectra (spectrum.c, blackbody.c) ----------------------------------------------------- */
/* The power of ten of a metre that a wavelength unit label names: "m" 0, "um"/"micron" −6,
 * "nm" −9, "Angstrom" −10 (case-insensitive, singular or plural, also "µm", "AA", "Å").
 * Returns false for any other label. */
bool pp_spectrum_unit_exponent(const char *label, int *exponent10);

/* Divides raw[count] by their sum into normalized[count] (the two may be the same array),
 * summing in index order, so that equal inputs give equal bits whatever form they came
 * in. *sum gets the sum; returns false, leaving normalized untouched, when the sum is not
 * positive and finite. */
bool pp_job_normalize_weights(const double *raw, size_t count, double *normalized, double *sum);

/* The path to open for a data file the job names: `given` itself when absolute, else
 * joined to the directory of job_name (the job file as named; `given` alone when job_name
 * has no '/'). *path is malloc'ed. */
pp_status pp_job_data_file_path(const char *job_name, const char *given, char **path);

/* Reads a spectrum data file into job->wavelengths_m, job->weights (normalized) and
 * job->n_wavelengths. The format is told by content: HDF5 (datasets wavelengths and weights),
 * FITS (a table with columns WAVELENGTH and WEIGHT or FLUX), else text (two columns,
 * wavelength and weight, '#' comments). file_path is the path to open (already resolved
 * against the job file's directory). units_exponent10 is the `units` key's power of ten of
 * a metre when units_node is not NULL. Every problem is PP_ERR_INPUT at file_node,
 * `path: <file_path>:<line, dataset index or row>: what`. */
pp_status pp_spectrum_read_file(pp_yaml_doc *doc, const yaml_node_t *file_node, const char *path,
                                const char *file_path, const yaml_node_t *units_node,
                                int units_exponent10, pp_job *job);

/* Photon counts of a blackbody at temperature_k in count equal-width bins from min_m to
 * max_m (count ≥ 1, 0 < min_m < max_m): centres_m[i] is bin i's centre and photons[i] the
 * integral of the photon spectral radiance B_λ·λ/(h·c) over the bin, up to one common
 * factor (the caller normalizes). Never negative; bins far in the Wien tail may be 0. */
void pp_blackbody_photon_bins(double temperature_k, double min_m, double max_m, size_t count,
                              double *centres_m, double *photons);

/* ---- schema (job_parse.c) ------------------------------------------------------------ */
/* Fills job (whose text and source_name are already set) from the document. On error
 * the job may be partly filled; the caller destroys it. */
pp_status pp_job_fill(pp_yaml_doc *doc, pp_job *job);
/* The `wavelengths:` and `optics:` sections (job_wavelengths.c, job_optics.c), called by
 * pp_job_fill. */
pp_status pp_job_read_wavelengths(pp_yaml_doc *doc, const yaml_node_t *section,
                                  const yaml_node_t *section_key, pp_job *job);
pp_status pp_job_read_optics(pp_yaml_doc *doc, const yaml_node_t *section,
                             const yaml_node_t *section_key, pp_job *job);
/* detector.jitter_sigma, detector.charge_diffusion_sigma and detector.ipc_kernel
 * (job_detector_effects.c), called by the detector reader; the keys are optional. */
pp_status pp_job_read_detector_effects(pp_yaml_doc *doc, const yaml_node_t *section,
                                       pp_job *job);
/* The `field:` section and the field terms of each zernike_wfe in `optics:` (job_field.c),
 * called after the optics are read. */
pp_status pp_job_read_field(pp_yaml_doc *doc, const yaml_node_t *section,
                            const yaml_node_t *section_key, const yaml_node_t *optics_section,
                            pp_job *job);
/* Whether `key` is a field key of optic type `type_name` (zernike_wfe's field_coefficients
 * and field_polynomial): the optic reader lets these through for pp_job_read_field. */
bool pp_job_is_field_key(const char *type_name, const char *key);
/* propagation.coronagraph, coronagraph_oversample, occulter_box (job_coronagraph.c), after
 * every other section: an MFT method asked for where it is not exact is refused here. */
pp_status pp_job_read_coronagraph(pp_yaml_doc *doc, const yaml_node_t *section, pp_job *job);
/* A missing required key, reported at `where` (its section's key when the section exists,
 * else the start of the document). */
pp_status pp_job_missing(pp_yaml_doc *doc, const yaml_node_t *where, const char *path,
                         const char *key, const char *what);

/* ---- Fresnel mode (job_fresnel.c) ------------------------------------------------------ */
/* propagation.mode (read first: other sections depend on it); job->mode, and beam_ratio's
 * default in Fresnel mode. The rest of `propagation` is checked by its own reader. */
pp_status pp_job_read_mode(pp_yaml_doc *doc, const yaml_node_t *propagation, pp_job *job);
/* propagation.beam_ratio: in (0, 1], Fresnel mode only. */
pp_status pp_job_read_beam_ratio(pp_yaml_doc *doc, const yaml_node_t *propagation, pp_job *job);
/* pupil.diameter: required in Fresnel mode, refused in Fraunhofer mode. */
pp_status pp_job_read_pupil_diameter(pp_yaml_doc *doc, const yaml_node_t *pupil,
                                     const yaml_node_t *pupil_key, pp_job *job);
/* An optic's `distance` (metres after the previous optic) into
 * job->fresnel.distance_m[item_index]; refused in Fraunhofer mode. */
pp_status pp_job_read_optic_distance(pp_yaml_doc *doc, const yaml_node_t *params,
                                     const char *type_path, size_t item_index, pp_job *job);
/* quadratic_lens only in Fresnel mode; only field-multiplying pupil optics in Fresnel mode. */
pp_status pp_job_check_optic_mode(pp_yaml_doc *doc, const yaml_node_t *type_key,
                                  const char *item_path, const pp_optic_type *type,
                                  const pp_job *job);
/* Fraunhofer mode: detector.pixelscale_m and detector.distance refused with the reason. */
pp_status pp_job_refuse_fresnel_detector_keys(pp_yaml_doc *doc, const yaml_node_t *detector);
/* The Fresnel detector {pixelscale_m, fov_pixels, distance}; optional (NULL section). */
pp_status pp_job_read_fresnel_detector(pp_yaml_doc *doc, const yaml_node_t *section,
                                       const yaml_node_t *section_key, pp_job *job);

#endif
