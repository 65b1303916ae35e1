/* The field points of a PSF grid (`field:`) and the field-dependent wavefront error of each
 * zernike_wfe (`field_coefficients`, `field_polynomial`), read once the optics are read (the
 * tables are per point, so the points come first), and the check that each cube of maps of
 * a fits_optical_element holds one map per point. docs/grids.md describes the keys. */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The most field points a job may ask for: every point is nλ tasks and one PSF in /grid. */
enum { PP_JOB_MAX_FIELD_POINTS = 1000000 };
/* Noll indices a field term may name: the zernike_wfe optic's own limit (radial order 20). */
enum { PP_JOB_MAX_FIELD_NOLL = 231 };

static const char *const pp_job_field_keys[] = {"points", "grid", "detector_pixel", NULL};
static const char *const pp_job_field_grid_keys[] = {"nx", "ny", "x", "y", NULL};

bool pp_job_is_field_key(const char *type_name, const char *key) {
  return strcmp(type_name, "zernike_wfe") == 0 &&
         (strcmp(key, "field_coefficients") == 0 || strcmp(key, "field_polynomial") == 0);
}

/* A list of exactly `count` numbers into out[]. */
static pp_status pp_job_read_numbers(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                                     size_t count, const char *unit, const char *what,
                                     double *out) {
  char got[96];
  pp_yaml_describe(node, got, sizeof got);
  if (node->type == YAML_SEQUENCE_NODE && pp_yaml_sequence_length(node) != count)
    return PP_YAML_ERROR(doc, node, path, "expects %s, got a list of %zu", what,
                         pp_yaml_sequence_length(node));
  if (node->type != YAML_SEQUENCE_NODE)
    return PP_YAML_ERROR(doc, node, path, "expects %s, got %s", what, got);
  for (size_t i = 0; i < count; i++) {
    char item_path[PP_JOB_PATH_BYTES];
    pp_yaml_path_index(item_path, sizeof item_path, path, i);
    PP_CALL(pp_yaml_read_number(doc, pp_yaml_sequence_item(doc, node, i), item_path, unit,
                                &out[i]));
  }
  return PP_SUCCESS;
}

/* The n items of sequence `node` (at `path`), each a pair of numbers in `unit`, into
 * out[2·p], out[2·p + 1]. */
static pp_status pp_job_read_pairs(pp_yaml_doc *doc, const yaml_node_t *node, const char *path,
                                   size_t n, const char *unit, const char *what, double *out) {
  for (size_t p = 0; p < n; p++) {
    char item_path[PP_JOB_PATH_BYTES];
    pp_yaml_path_index(item_path, sizeof item_path, path, p);
    PP_CALL(pp_job_read_numbers(doc, pp_yaml_sequence_item(doc, node, p), item_path, 2, unit,
                                what, &out[2 * p]));
  }
  return PP_SUCCESS;
}

static pp_status pp_job_read_field_points(pp_yaml_doc *doc, const yaml_node_t *node,
                                          pp_job *job) {
  static const char *const path = "field.points";
  char got[96];
  pp_yaml_describe(node, got, sizeof got);
  size_t n = node->type == YAML_SEQUENCE_NODE ? pp_yaml_sequence_length(node) : 0;
  if (n == 0)
    return PP_YAML_ERROR(doc, node, path,
                         "expects a non-empty list of [x, y] pairs in arcsec, such as "
                         "[[-60, -60], [0, 0]], got %s",
                         node->type == YAML_SEQUENCE_NODE ? "an empty list" : got);
  if (n > PP_JOB_MAX_FIELD_POINTS)
    return PP_YAML_ERROR(doc, node, path, "has %zu points, more than the limit %d", n,
                         PP_JOB_MAX_FIELD_POINTS);
  job->field_points_arcsec = calloc(2 * n, sizeof *job->field_points_arcsec);
  PP_CHECK(job->field_points_arcsec, PP_ERR_MEMORY, "out of memory for %zu field points", n);
  job->n_field_points = n;
  return pp_job_read_pairs(doc, node, path, n, "arcsec", "a pair [x, y] in arcsec",
                           job->field_points_arcsec);
}

/* grid: {nx, ny, x: [a, b], y: [a, b]}: nx points from a to b (both included; one point
 * sits at (a + b)/2), row-major with y outer and x inner. */
static pp_status pp_job_read_field_grid(pp_yaml_doc *doc, const yaml_node_t *node,
                                        const yaml_node_t *key, pp_job *job) {
  PP_CALL(pp_yaml_check_mapping(doc, node, "field.grid", pp_job_field_grid_keys,
                                "a mapping such as {nx: 5, ny: 5, x: [-60, 60], y: [-60, 60]}"));
  long long count[2];
  double range[2][2];
  static const char *const names[2][2] = {{"nx", "x"}, {"ny", "y"}};
  for (int axis = 0; axis < 2; axis++) {
    char path[PP_JOB_PATH_BYTES];
    yaml_node_t *n_node = pp_yaml_mapping_get(doc, node, names[axis][0], NULL);
    yaml_node_t *r_node = pp_yaml_mapping_get(doc, node, names[axis][1], NULL);
    pp_yaml_path(path, sizeof path, "field.grid", names[axis][0]);
    if (!n_node)
      return pp_job_missing(doc, key, path, names[axis][0], "the number of points on that axis");
    PP_CALL(pp_yaml_read_integer(doc, n_node, path, 1, PP_JOB_MAX_FIELD_POINTS, &count[axis]));
    pp_yaml_path(path, sizeof path, "field.grid", names[axis][1]);
    if (!r_node)
      return pp_job_missing(doc, key, path, names[axis][1],
                            "the first and last coordinate on that axis, [a, b] in arcsec");
    PP_CALL(pp_job_read_numbers(doc, r_node, path, 2, "arcsec",
                                "[first, last] in arcsec", range[axis]));
  }
  if ((double)count[0] * (double)count[1] > PP_JOB_MAX_FIELD_POINTS)
    return PP_YAML_ERROR(doc, node, "field.grid", "has %lld x %lld points, more than the limit %d",
                         count[0], count[1], PP_JOB_MAX_FIELD_POINTS);
  size_t nx = (size_t)count[0], ny = (size_t)count[1];
  job->field_points_arcsec = calloc(2 * nx * ny, sizeof *job->field_points_arcsec);
  PP_CHECK(job->field_points_arcsec, PP_ERR_MEMORY, "out of memory for the field grid");
  job->n_field_points = nx * ny;
  for (size_t iy = 0; iy < ny; iy++)
    for (size_t ix = 0; ix < nx; ix++) {
      double fx = nx > 1 ? (double)ix / (double)(nx - 1) : 0.5;
      double fy = ny > 1 ? (double)iy / (double)(ny - 1) : 0.5;
      double *point = &job->field_points_arcsec[2 * (iy * nx + ix)];
      point[0] = range[0][0] + (range[0][1] - range[0][0]) * fx;
      point[1] = range[1][0] + (range[1][1] - range[1][0]) * fy;
    }
  return PP_SUCCESS;
}

/* detector_pixel: one [x, y] detector pixel per field point, in the order of the points. */
static pp_status pp_job_read_field_detector_pixels(pp_yaml_doc *doc, const yaml_node_t *node,
                                                   pp_job *job) {
  static const char *const path = "field.detector_pixel";
  size_t n = job->n_field_points;
  char got[96];
  pp_yaml_describe(node, got, sizeof got);
  if (node->type == YAML_SEQUENCE_NODE && pp_yaml_sequence_length(node) != n)
    snprintf(got, sizeof got, "%zu pairs", pp_yaml_sequence_length(node));
  if (node->type != YAML_SEQUENCE_NODE || pp_yaml_sequence_length(node) != n)
    return PP_YAML_ERROR(doc, node, path,
                         "expects one [x, y] detector pixel per field point (%zu), got %s", n,
                         got);
  job->field_detector_pixels = calloc(2 * n, sizeof *job->field_detector_pixels);
  PP_CHECK(job->field_detector_pixels, PP_ERR_MEMORY, "out of memory");
  return pp_job_read_pairs(doc, node, path, n, "pixels", "a pair [x, y] of detector pixels",
                           job->field_detector_pixels);
}

/* field_coefficients: one Noll list (metres) per field point, added into table[p][j]. */
static pp_status pp_job_read_field_coefficients(pp_yaml_doc *doc, const yaml_node_t *node,
                                                const char *path, pp_job *job, size_t optic) {
  char got[96];
  pp_yaml_describe(node, got, sizeof got);
  size_t n = job->n_field_points;
  if (node->type != YAML_SEQUENCE_NODE || pp_yaml_sequence_length(node) != n)
  {
    if (node->type == YAML_SEQUENCE_NODE)
      snprintf(got, sizeof got, "%zu lists", pp_yaml_sequence_length(node));
    return PP_YAML_ERROR(doc, node, path,
                         "expects one list of Noll coefficients (metres) per field point: %zu "
                         "lists for the %zu points of `field`, got %s",
                         n, n, got);
  }
  double **rows = calloc(n, sizeof *rows);
  size_t *lengths = calloc(n, sizeof *lengths), width = job->field_terms[optic];
  pp_status status = PP_SUCCESS;
  PP_CHECK_GOTO(status, rows && lengths, PP_ERR_MEMORY, "out of memory");
  for (size_t p = 0; p < n; p++) {
    char item_path[PP_JOB_PATH_BYTES];
    pp_yaml_path_index(item_path, sizeof item_path, path, p);
    PP_CALL_GOTO(status, pp_yaml_read_number_list(doc, pp_yaml_sequence_item(doc, node, p),
                                                  item_path, "m", &rows[p], &lengths[p]));
    if (lengths[p] > PP_JOB_MAX_FIELD_NOLL) {
      status = PP_YAML_ERROR(doc, pp_yaml_sequence_item(doc, node, p), item_path,
                             "lists %zu terms; at most %d (Noll j <= %d)", lengths[p],
                             PP_JOB_MAX_FIELD_NOLL, PP_JOB_MAX_FIELD_NOLL);
      goto done;
    }
    if (lengths[p] > width) width = lengths[p];
  }
  /* widen the optic's table to the longest list, keeping what field_polynomial put there */
  double *table = calloc(n * width, sizeof *table);
  PP_CHECK_GOTO(status, table, PP_ERR_MEMORY, "out of memory");
  for (size_t p = 0; p < n; p++) {
    for (size_t j = 0; j < job->field_terms[optic]; j++)
      table[p * width + j] = job->field_zernike[optic][p * job->field_terms[optic] + j];
    for (size_t j = 0; j < lengths[p]; j++) table[p * width + j] += rows[p][j];
  }
  free(job->field_zernike[optic]);
  job->field_zernike[optic] = table;
  job->field_terms[optic] = width;
done:
  for (size_t p = 0; rows && p < n; p++) free(rows[p]);
  free(rows);
  free(lengths);
  return status;
}

/* field_polynomial: terms [j, a, b, c], each adding c·x^a·y^b (x, y in arcsec) to Noll j. */
static pp_status pp_job_read_field_polynomial(pp_yaml_doc *doc, const yaml_node_t *node,
                                              const char *path, pp_job *job, size_t optic) {
  static const char *const what =
      "a list of terms [noll, x_power, y_power, coefficient_m], e.g. [[4, 2, 0, 2.0e-11]]";
  char got[96];
  pp_yaml_describe(node, got, sizeof got);
  size_t n_terms = node->type == YAML_SEQUENCE_NODE ? pp_yaml_sequence_length(node) : 0;
  if (n_terms == 0)
    return PP_YAML_ERROR(doc, node, path, "expects %s, got %s", what,
                         node->type == YAML_SEQUENCE_NODE ? "an empty list" : got);
  size_t width = job->field_terms[optic];
  for (size_t t = 0; t < n_terms; t++) {
    char item_path[PP_JOB_PATH_BYTES], noll_path[PP_JOB_PATH_BYTES];
    pp_yaml_path_index(item_path, sizeof item_path, path, t);
    yaml_node_t *term = pp_yaml_sequence_item(doc, node, t);
    double values[4];
    PP_CALL(pp_job_read_numbers(doc, term, item_path, 4, "", what, values));
    long long noll, power[2];
    pp_yaml_path_index(noll_path, sizeof noll_path, item_path, 0);
    PP_CALL(pp_yaml_read_integer(doc, pp_yaml_sequence_item(doc, term, 0), noll_path, 1,
                                 PP_JOB_MAX_FIELD_NOLL, &noll));
    for (int k = 0; k < 2; k++) {
      pp_yaml_path_index(noll_path, sizeof noll_path, item_path, (size_t)k + 1);
      PP_CALL(pp_yaml_read_integer(doc, pp_yaml_sequence_item(doc, term, (size_t)k + 1),
                                   noll_path, 0, 20, &power[k]));
    }
    if ((size_t)noll > width) width = (size_t)noll;
  }
  size_t n = job->n_field_points, old_width = job->field_terms[optic];
  double *table = calloc(n * width, sizeof *table);
  PP_CHECK(table, PP_ERR_MEMORY, "out of memory");
  for (size_t p = 0; p < n; p++)
    for (size_t j = 0; j < old_width; j++)
      table[p * width + j] = job->field_zernike[optic][p * old_width + j];
  for (size_t t = 0; t < n_terms; t++) {
    yaml_node_t *term = pp_yaml_sequence_item(doc, node, t);
    double values[4];
    pp_status status = pp_job_read_numbers(doc, term, path, 4, "", what, values);
    if (status) {
      free(table);
      return status;
    }
    size_t j = (size_t)values[0] - 1;
    for (size_t p = 0; p < n; p++) {
      const double *point = &job->field_points_arcsec[2 * p];
      table[p * width + j] += values[3] * pow(point[0], values[1]) * pow(point[1], values[2]);
    }
  }
  free(job->field_zernike[optic]);
  job->field_zernike[optic] = table;
  job->field_terms[optic] = width;
  return PP_SUCCESS;
}

/* A fits_optical_element's cubes: one map per field point, in the order of `field`. The
 * error points at the key whose file is the cube. */
static pp_status pp_job_check_optic_field_maps(pp_yaml_doc *doc, const yaml_node_t *item,
                                               size_t k, const pp_job *job) {
  static const char *const keys[] = {"transmission", "opd"};
  const pp_optic_spec *spec = &job->optics[k];
  yaml_node_t *type_key, *params;
  pp_yaml_mapping_pair(doc, item, 0, &type_key, &params);
  for (int m = 0; m < 2; m++) {
    size_t n_maps = pp_optic_spec_map_count(spec, keys[m]);
    if (n_maps == 0) continue;
    yaml_node_t *key = NULL;
    pp_yaml_mapping_get(doc, params, keys[m], &key);
    char item_path[PP_JOB_PATH_BYTES], type_path[PP_JOB_PATH_BYTES], path[PP_JOB_PATH_BYTES];
    pp_yaml_path_index(item_path, sizeof item_path, "optics", k);
    pp_yaml_path(type_path, sizeof type_path, item_path, spec->type->name);
    pp_yaml_path(path, sizeof path, type_path, keys[m]);
    const char *location = pp_optic_spec_get_text(spec, keys[m]);
    if (job->n_field_points == 0)
      return PP_YAML_ERROR(doc, key ? key : type_key, path,
                           "'%s' is a cube of %zu maps, one per field point of a PSF grid, but "
                           "the job has no `field:`; add a `field:` section with %zu points, or "
                           "give a 2-D map",
                           location, n_maps, n_maps);
    if (n_maps != job->n_field_points)
      return PP_YAML_ERROR(doc, key ? key : type_key, path,
                           "'%s' holds %zu maps but `field` has %zu points; a cube needs one map "
                           "per field point, in the order of `field`",
                           location, n_maps, job->n_field_points);
  }
  return PP_SUCCESS;
}

/* The field keys of optic k's parameters, if any. */
static pp_status pp_job_read_optic_field_terms(pp_yaml_doc *doc, const yaml_node_t *item,
                                               size_t k, pp_job *job) {
  yaml_node_t *type_key, *params;
  pp_yaml_mapping_pair(doc, item, 0, &type_key, &params);
  const char *type_name = job->optics[k].type->name;
  if (!pp_job_is_field_key(type_name, "field_coefficients") || pp_yaml_is_null(params))
    return PP_SUCCESS;
  static const char *const keys[] = {"field_polynomial", "field_coefficients"};
  for (int f = 0; f < 2; f++) {
    yaml_node_t *key = NULL;
    yaml_node_t *value = pp_yaml_mapping_get(doc, params, keys[f], &key);
    if (!value) continue;
    char item_path[PP_JOB_PATH_BYTES], type_path[PP_JOB_PATH_BYTES], path[PP_JOB_PATH_BYTES];
    pp_yaml_path_index(item_path, sizeof item_path, "optics", k);
    pp_yaml_path(type_path, sizeof type_path, item_path, type_name);
    pp_yaml_path(path, sizeof path, type_path, keys[f]);
    if (job->n_field_points == 0)
      return PP_YAML_ERROR(doc, key, path,
                           "needs field points: add a `field:` section with points or grid");
    if (!job->field_zernike) {
      job->field_zernike = calloc(job->n_optics, sizeof *job->field_zernike);
      job->field_terms = calloc(job->n_optics, sizeof *job->field_terms);
      PP_CHECK(job->field_zernike && job->field_terms, PP_ERR_MEMORY, "out of memory");
    }
    if (f == 0) PP_CALL(pp_job_read_field_polynomial(doc, value, path, job, k));
    else PP_CALL(pp_job_read_field_coefficients(doc, value, path, job, k));
  }
  return PP_SUCCESS;
}

pp_status pp_job_read_field(pp_yaml_doc *doc, const yaml_node_t *section,
                            const yaml_node_t *section_key, const yaml_node_t *optics_section,
                            pp_job *job) {
  if (section) {
    PP_CALL(pp_yaml_check_mapping(doc, section, "field", pp_job_field_keys,
                                  "a mapping such as {points: [[-60, -60], [0, 0]]} or "
                                  "{grid: {nx: 5, ny: 5, x: [-60, 60], y: [-60, 60]}}"));
    yaml_node_t *points_key = NULL, *grid_key = NULL;
    yaml_node_t *points = pp_yaml_mapping_get(doc, section, "points", &points_key);
    yaml_node_t *grid = pp_yaml_mapping_get(doc, section, "grid", &grid_key);
    if (points && grid) {
      bool grid_later = grid_key->start_mark.index > points_key->start_mark.index;
      return PP_YAML_ERROR(doc, grid_later ? grid_key : points_key,
                           grid_later ? "field.grid" : "field.points",
                           "give the field points either as points or as grid, not both");
    }
    if (!points && !grid)
      return pp_job_missing(doc, section_key, "field.points", "points",
                            "the field points, as points: [[x, y], ...] or grid: {nx, ny, x, y} "
                            "(arcsec)");
    if (points) PP_CALL(pp_job_read_field_points(doc, points, job));
    else PP_CALL(pp_job_read_field_grid(doc, grid, grid_key, job));
    yaml_node_t *pixels = pp_yaml_mapping_get(doc, section, "detector_pixel", NULL);
    if (pixels) PP_CALL(pp_job_read_field_detector_pixels(doc, pixels, job));
  }
  for (size_t k = 0; k < job->n_optics; k++) {
    const yaml_node_t *item = pp_yaml_sequence_item(doc, optics_section, k);
    PP_CALL(pp_job_check_optic_field_maps(doc, item, k, job));
    PP_CALL(pp_job_read_optic_field_terms(doc, item, k, job));
  }
  return PP_SUCCESS;
}

bool pp_job_optic_varies_over_field(const pp_job *job, size_t k) {
  return (job->field_zernike && job->field_zernike[k]) ||
         pp_optic_spec_map_count(&job->optics[k], "transmission") > 0 ||
         pp_optic_spec_map_count(&job->optics[k], "opd") > 0;
}

pp_status pp_job_field_point_optics(const pp_job *job, size_t point, pp_optic_spec **optics) {
  PP_CHECK(point < job->n_field_points, PP_ERR_INTERNAL, "field point %zu of %zu", point,
           job->n_field_points);
  pp_optic_spec *copy = calloc(job->n_optics, sizeof *copy);
  PP_CHECK(copy, PP_ERR_MEMORY, "out of memory");
  /* optics that do not vary over the field are shared, not copied: only their pointers are
   * read */
  memcpy(copy, job->optics, job->n_optics * sizeof *copy);
  for (size_t k = 0; k < job->n_optics; k++) {
    if (!pp_job_optic_varies_over_field(job, k)) continue;
    bool zernike = job->field_zernike && job->field_zernike[k];
    size_t width = zernike ? job->field_terms[k] : 0, base = job->optics[k].list_len;
    size_t len = width > base ? width : base;
    double *list = zernike ? calloc(len, sizeof *list) : NULL;
    pp_status status = list || !zernike ? pp_optic_spec_copy(&job->optics[k], &copy[k])
                                        : pp_error_raise(PP_ERR_MEMORY, __FILE__, __LINE__,
                                                         __func__, "out of memory");
    if (status == PP_SUCCESS && !zernike) {
      /* a cube of maps: this point's map */
      status = pp_optic_spec_use_field_point(&copy[k], point);
      if (status) pp_optic_spec_clear(&copy[k]);
    }
    if (status) {
      free(list);
      for (size_t q = 0; q < k; q++)
        if (pp_job_optic_varies_over_field(job, q)) pp_optic_spec_clear(&copy[q]);
      free(copy);
      return status;
    }
    if (!zernike) continue;
    for (size_t j = 0; j < base; j++) list[j] = job->optics[k].list[j];
    for (size_t j = 0; j < width; j++) list[j] += job->field_zernike[k][point * width + j];
    free(copy[k].list);
    copy[k].list = list;
    copy[k].list_len = len;
  }
  *optics = copy;
  return PP_SUCCESS;
}

void pp_job_field_point_optics_free(const pp_job *job, pp_optic_spec **optics) {
  if (!optics || !*optics) return;
  for (size_t k = 0; k < job->n_optics; k++)
    if (pp_job_optic_varies_over_field(job, k)) pp_optic_spec_clear(&(*optics)[k]);
  free(*optics);
  *optics = NULL;
}
