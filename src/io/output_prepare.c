/* The output file before it exists: the checks every rank makes (the description, that
 * all ranks were given the same one, the final path), the pp_output struct's lifetime, and
 * the names of the plane datasets. Split from output.c, which builds the file. */
#define POLYPSF_IO_PACKAGE
#include "io/io_private.h"

#include <complex.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "polypsf/io.h"

static const char pp_output_temp_suffix[] = ".partial";

pp_status pp_output_temp_path(const char *path, char *buf, size_t size) {
  PP_CHECK(path != NULL && buf != NULL, PP_ERR_INTERNAL, "pp_output_temp_path: NULL argument");
  int written = snprintf(buf, size, "%s%s", path, pp_output_temp_suffix);
  PP_CHECK(written >= 0 && (size_t)written < size, PP_ERR_INPUT,
           "output path '%s' is too long (%zu bytes available)", path, size);
  return PP_SUCCESS;
}

/* ---- lifetime of the struct -------------------------------------------------------- */

static void pp_output_init_ids(pp_output *out) {
  hid_t *ids[] = {&out->file,         &out->dxpl_collective, &out->task_memtype, &out->psf,
                  &out->psf_detector, &out->cube,            &out->completed,    &out->tasks,
                  &out->cube_space,   &out->slice_memspace,  &out->completed_space,
                  &out->tasks_space,  &out->element_memspace};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) *ids[i] = H5I_INVALID_HID;
  for (int k = 0; k < PP_IO_GRID_DATASETS; k++) out->grid_datasets[k] = H5I_INVALID_HID;
  out->plane_memtype = H5I_INVALID_HID;
}

bool pp_io_output_close_objects(pp_output *out) {
  hid_t *ids[] = {&out->cube_space,   &out->slice_memspace,  &out->completed_space,
                  &out->tasks_space,  &out->element_memspace, &out->psf,
                  &out->psf_detector, &out->cube,            &out->completed,
                  &out->tasks,        &out->task_memtype,    &out->dxpl_collective};
  bool ok = true;
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) ok = pp_formats_hdf5_close(ids[i]) && ok;
  for (int k = 0; k < PP_IO_GRID_DATASETS; k++)
    ok = pp_formats_hdf5_close(&out->grid_datasets[k]) && ok;
  for (size_t p = 0; p < out->n_planes; p++) {
    if (out->plane_datasets) ok = pp_formats_hdf5_close(&out->plane_datasets[p]) && ok;
    if (out->plane_spaces) ok = pp_formats_hdf5_close(&out->plane_spaces[p]) && ok;
    if (out->plane_memspaces) ok = pp_formats_hdf5_close(&out->plane_memspaces[p]) && ok;
  }
  ok = pp_formats_hdf5_close(&out->plane_memtype) && ok;
  ok = pp_formats_hdf5_close(&out->file) && ok;
  return ok;
}

void pp_io_output_free(pp_output *out) {
  if (!out) return;
  /* Last, after the .partial file was published, kept or removed (pp_io_output_finish). */
  pp_io_lock_release(&out->lock);
  if (out->comm != MPI_COMM_NULL) MPI_Comm_free(&out->comm);
  free(out->completed_flags);
  free(out->pending_flags);
  free(out->final_path);
  free(out->partial_path);
  free(out->plane_info);
  free(out->plane_datasets);
  free(out->plane_spaces);
  free(out->plane_memspaces);
  pp_array_free(&out->plane_buffer);
  free(out);
}

/* ---- checks before anything is created --------------------------------------------- */

pp_status pp_io_output_check_meta(const pp_output_meta *meta) {
  PP_CHECK(meta != NULL && meta->job != NULL, PP_ERR_INTERNAL, "output: no job description");
  const pp_job *job = meta->job;
  PP_CHECK(job->n_wavelengths > 0 && job->wavelengths_m != NULL && job->weights != NULL,
           PP_ERR_INTERNAL, "output: the job has no wavelengths");
  /* The completion flags travel in one MPI message (int count). */
  PP_CHECK(job->n_wavelengths <= (size_t)INT_MAX, PP_ERR_INTERNAL,
           "output: %zu wavelengths are more than one MPI message can carry",
           job->n_wavelengths);
  PP_CHECK(meta->geometry.psf_ny > 0 && meta->geometry.psf_nx > 0, PP_ERR_INTERNAL, "output: empty PSF shape %zu × %zu",
           meta->geometry.psf_ny, meta->geometry.psf_nx);
  int os = meta->geometry.oversample;
  PP_CHECK(os >= 1, PP_ERR_INTERNAL, "output: oversample must be ≥ 1, got %d", os);
  PP_CHECK(meta->geometry.psf_ny % (size_t)os == 0 && meta->geometry.psf_nx % (size_t)os == 0, PP_ERR_INTERNAL,
           "output: PSF shape %zu × %zu is not a multiple of oversample %d", meta->geometry.psf_ny, meta->geometry.psf_nx,
           os);
  PP_CHECK(pp_io_method_name((int)job->method) != NULL, PP_ERR_INTERNAL,
           "output: unknown method %d", (int)job->method);
  PP_CHECK(pp_io_normalize_name((int)job->normalize) != NULL, PP_ERR_INTERNAL,
           "output: unknown normalization %d", (int)job->normalize);
  PP_CHECK(meta->n_planes == 0 || (meta->planes != NULL && job->planes_requested != NULL),
           PP_ERR_INTERNAL, "output: planes given without the job's request");
  PP_CHECK(meta->n_planes == 0 || meta->plane_pixelscales != NULL, PP_ERR_INTERNAL,
           "output: planes given without their pixel scales");
  for (size_t p = 0; p < meta->n_planes; p++) {
    size_t count = 0;
    PP_CALL(pp_size_mul(meta->planes[p].ny, meta->planes[p].nx, &count));
    PP_CALL(pp_size_mul(count, 2 * sizeof(double) * job->n_wavelengths, &count));
  }
  size_t slice = 0, cube = 0;
  PP_CALL(pp_size_mul(meta->geometry.psf_ny, meta->geometry.psf_nx, &slice));
  PP_CALL(pp_size_mul(slice, job->n_wavelengths, &cube));
  PP_CALL(pp_size_mul(cube, sizeof(double), &cube));
  return PP_SUCCESS;
}

static uint64_t pp_output_hash(uint64_t hash, const void *data, size_t bytes) {
  const unsigned char *p = data;
  for (size_t i = 0; i < bytes; i++) hash = (hash ^ p[i]) * 1099511628211u; /* FNV-1a */
  return hash;
}

static uint64_t pp_output_hash_string(uint64_t hash, const char *text) {
  return text ? pp_output_hash(hash, text, strlen(text) + 1) : pp_output_hash(hash, "\x01", 1);
}

/* Everything that shapes the file's metadata, field by field (no struct padding). Ranks
 * must agree on it: HDF5 metadata calls with different arguments corrupt the file. */
static uint64_t pp_output_fingerprint(const char *path, const pp_output_meta *meta, bool force) {
  const pp_job *job = meta->job;
  uint64_t h = 14695981039346656037u;
  h = pp_output_hash_string(h, path);
  h = pp_output_hash(h, &force, sizeof force);
  h = pp_output_hash(h, &meta->geometry.psf_ny, sizeof meta->geometry.psf_ny);
  h = pp_output_hash(h, &meta->geometry.psf_nx, sizeof meta->geometry.psf_nx);
  h = pp_output_hash(h, &meta->geometry.psf_pixelscale_arcsec, sizeof(double));
  h = pp_output_hash(h, &meta->geometry.pupil_diameter_m, sizeof(double));
  h = pp_output_hash(h, &meta->n_ranks, sizeof(int));
  h = pp_output_hash(h, &meta->n_nodes, sizeof(int));
  h = pp_output_hash(h, &meta->threads_per_rank, sizeof(int));
  h = pp_output_hash(h, &job->n_wavelengths, sizeof job->n_wavelengths);
  h = pp_output_hash(h, job->wavelengths_m, job->n_wavelengths * sizeof(double));
  h = pp_output_hash(h, job->weights, job->n_wavelengths * sizeof(double));
  h = pp_output_hash_string(h, job->text);
  h = pp_output_hash_string(h, job->source_name);
  h = pp_output_hash(h, &job->pupil_npix, sizeof job->pupil_npix);
  h = pp_output_hash(h, &job->detector.pixelscale_arcsec, sizeof(double));
  h = pp_output_hash(h, &job->detector.fov_pixels_y, sizeof(size_t));
  h = pp_output_hash(h, &job->detector.fov_pixels_x, sizeof(size_t));
  h = pp_output_hash(h, &job->detector.oversample, sizeof(int));
  int method = (int)job->method, normalize = (int)job->normalize;
  h = pp_output_hash(h, &method, sizeof method);
  h = pp_output_hash(h, &normalize, sizeof normalize);
  h = pp_output_hash(h, &job->fft_oversample, sizeof(int));
  h = pp_output_hash(h, &job->output_cube, sizeof job->output_cube);
  int quantity = (int)job->plane_quantity;
  h = pp_output_hash(h, &quantity, sizeof quantity);
  h = pp_output_hash(h, &meta->n_planes, sizeof meta->n_planes);
  for (size_t p = 0; p < meta->n_planes; p++) {
    const pp_plane_info *plane = &meta->planes[p];
    int kind = (int)plane->kind;
    h = pp_output_hash(h, &plane->optic_index, sizeof plane->optic_index);
    h = pp_output_hash(h, &kind, sizeof kind);
    h = pp_output_hash(h, &plane->ny, sizeof plane->ny);
    h = pp_output_hash(h, &plane->nx, sizeof plane->nx);
  }
  return h;
}

pp_status pp_io_output_check_ranks_agree(MPI_Comm comm, const char *path,
                                         const pp_output_meta *meta, bool force) {
  uint64_t fingerprint = pp_output_fingerprint(path, meta, force);
  /* min(h) and min(~h) = ~max(h) in one reduction: all equal iff min == max. */
  uint64_t mine[2] = {fingerprint, ~fingerprint}, all[2] = {0, 0};
  PP_CHECK(MPI_Allreduce(mine, all, 2, MPI_UINT64_T, MPI_MIN, comm) == MPI_SUCCESS, PP_ERR_MPI,
           "MPI_Allreduce failed while comparing the output description across ranks");
  PP_CHECK(all[0] == ~all[1], PP_ERR_INTERNAL,
           "ranks disagree about the output (path, job text, wavelengths or sizes differ "
           "between ranks): parse the job once and broadcast it");
  return PP_SUCCESS;
}

/* Rank 0 only: the others see the same file system. */
pp_status pp_io_output_check_path(const char *path, bool force) {
  pp_status status = PP_SUCCESS;
  char *copy = NULL;
  PP_CHECK_GOTO(status, path != NULL && path[0] != '\0', PP_ERR_INPUT, "output path is empty");

  struct stat info;
  /* lstat: a dangling symbolic link is something at that name too (link(2) at close would
   * refuse it), so it counts as existing. */
  if (lstat(path, &info) == 0) {
    struct stat target;
    bool is_directory = stat(path, &target) == 0 && S_ISDIR(target.st_mode);
    PP_CHECK_GOTO(status, !is_directory, PP_ERR_INPUT,
                  "output '%s' is a directory; give a file name", path);
    PP_CHECK_GOTO(status, force, PP_ERR_INPUT, "output '%s' exists; use --force to overwrite",
                  path);
  } else {
    PP_CHECK_GOTO(status, errno == ENOENT, PP_ERR_INPUT, "cannot use output '%s': %s", path,
                  strerror(errno));
  }

  copy = strdup(path);
  PP_CHECK_GOTO(status, copy != NULL, PP_ERR_MEMORY, "out of memory");
  const char *dir = dirname(copy);
  if (stat(dir, &info) != 0) {
    PP_CHECK_GOTO(status, errno != ENOENT, PP_ERR_INPUT,
                  "output directory '%s' does not exist (output '%s')", dir, path);
    PP_CHECK_GOTO(status, false, PP_ERR_INPUT, "cannot use output directory '%s': %s", dir,
                  strerror(errno));
  }
  PP_CHECK_GOTO(status, S_ISDIR(info.st_mode), PP_ERR_INPUT,
                "'%s' is not a directory (output '%s')", dir, path);
  PP_CHECK_GOTO(status, access(dir, W_OK | X_OK) == 0, PP_ERR_INPUT,
                "output directory '%s' is not writable: %s", dir, strerror(errno));
done:
  free(copy);
  return status;
}

pp_status pp_io_output_alloc(const char *path, const pp_output_meta *meta, bool force,
                             pp_output **output) {
  *output = NULL;
  pp_output *out = calloc(1, sizeof *out);
  PP_CHECK(out != NULL, PP_ERR_MEMORY, "out of memory");
  pp_output_init_ids(out);
  out->comm = MPI_COMM_NULL;
  out->lock = (pp_io_lock){.fd = -1, .path = NULL};
  size_t length = strlen(path);
  const pp_job *job = meta->job;
  out->final_path = strdup(path);
  out->partial_path = malloc(length + sizeof pp_output_temp_suffix);
  out->completed_flags = calloc(job->n_wavelengths, 1);
  out->pending_flags = calloc(job->n_wavelengths, 1);
  if (!out->final_path || !out->partial_path || !out->completed_flags || !out->pending_flags) {
    pp_io_output_free(out);
    PP_CHECK(false, PP_ERR_MEMORY, "out of memory");
  }
  memcpy(out->partial_path, path, length);
  memcpy(out->partial_path + length, pp_output_temp_suffix, sizeof pp_output_temp_suffix);
  out->force = force;
  out->n_wavelengths = job->n_wavelengths;
  out->ny = meta->geometry.psf_ny;
  out->nx = meta->geometry.psf_nx;
  out->oversample = (size_t)meta->geometry.oversample;
  out->detector_ny = meta->geometry.psf_ny / out->oversample;
  out->detector_nx = meta->geometry.psf_nx / out->oversample;
  out->has_cube = job->output_cube;
  out->plane_quantity = job->plane_quantity;
  if (meta->n_planes > 0) {
    size_t n = meta->n_planes, largest = 0;
    out->plane_info = calloc(n, sizeof *out->plane_info);
    out->plane_datasets = malloc(n * sizeof *out->plane_datasets);
    out->plane_spaces = malloc(n * sizeof *out->plane_spaces);
    out->plane_memspaces = malloc(n * sizeof *out->plane_memspaces);
    bool ok = out->plane_info && out->plane_datasets && out->plane_spaces && out->plane_memspaces;
    if (ok) {
      out->n_planes = n;
      for (size_t p = 0; p < n; p++) {
        out->plane_info[p] = meta->planes[p];
        out->plane_datasets[p] = out->plane_spaces[p] = out->plane_memspaces[p] = H5I_INVALID_HID;
        size_t count = meta->planes[p].ny * meta->planes[p].nx; /* checked in check_meta */
        if (count > largest) largest = count;
      }
    }
    /* one double a pixel for intensity, two for the pairs */
    out->plane_buffer_count = (job->plane_quantity == PP_PLANE_INTENSITY ? 1 : 2) * largest;
    if (!ok) {
      pp_io_output_free(out);
      PP_CHECK(false, PP_ERR_MEMORY, "out of memory for the plane buffers");
    }
  }
  *output = out;
  return PP_SUCCESS;
}

void pp_output_plane_name(const pp_job *job, const pp_plane_info *plane, char *name,
                          size_t size) {
  const char *optic = plane->optic_index < job->n_optics ? job->optics[plane->optic_index].name
                                                         : "detector";
  snprintf(name, size, "%zu_%s", plane->optic_index, optic);
  /* a '/' would make a group path in HDF5 */
  for (char *c = name; *c; c++)
    if (*c == '/') *c = '_';
}

