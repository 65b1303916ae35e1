/* The output file: created collectively, each cube slice written independently by the
 * rank that computed it, the polychromatic PSF written collectively in row bands, and
 * renamed from <path>.partial to <path> on success. Layout: docs/output-format.md.
 *
 * Completion is two-phase: a slice is written at once but marked in /status/completed
 * only at the next commit (pp_output_sync, close), after H5Fflush has synced every rank's
 * bytes to storage. A flag of 1 in the file therefore always means the slice is on
 * storage, whatever crashed. Reopening a .partial file for --resume: output_resume.c.
 *
 * Parallel HDF5 rules this file follows:
 * - Everything that changes metadata (file, groups, datasets, attributes, flush, close)
 *   happens collectively in pp_output_create / pp_output_open_resume / pp_output_sync /
 *   pp_output_close_as, with the same arguments on every rank.
 * - Datasets are contiguous and allocated at creation, so the independent slice writes
 *   later are pure raw-data writes at fixed offsets: no chunk index or object header
 *   changes that a single rank is not allowed to make.
 * - Every collective step ends with pp_agree, so all ranks leave with one status and
 *   nobody waits in a collective call that another rank skipped after an error. */
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
#include "polypsf/propagate.h"

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
  out->plane_memtype = H5I_INVALID_HID;
}

bool pp_io_output_close_objects(pp_output *out) {
  hid_t *ids[] = {&out->cube_space,   &out->slice_memspace,  &out->completed_space,
                  &out->tasks_space,  &out->element_memspace, &out->psf,
                  &out->psf_detector, &out->cube,            &out->completed,
                  &out->tasks,        &out->task_memtype,    &out->dxpl_collective};
  bool ok = true;
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) ok = pp_formats_hdf5_close(ids[i]) && ok;
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
  PP_CHECK(meta->ny > 0 && meta->nx > 0, PP_ERR_INTERNAL, "output: empty PSF shape %zu × %zu",
           meta->ny, meta->nx);
  int os = job->detector.oversample;
  PP_CHECK(os >= 1, PP_ERR_INTERNAL, "output: oversample must be ≥ 1, got %d", os);
  PP_CHECK(meta->ny % (size_t)os == 0 && meta->nx % (size_t)os == 0, PP_ERR_INTERNAL,
           "output: PSF shape %zu × %zu is not a multiple of oversample %d", meta->ny, meta->nx,
           os);
  PP_CHECK(pp_io_method_name((int)job->method) != NULL, PP_ERR_INTERNAL,
           "output: unknown method %d", (int)job->method);
  PP_CHECK(pp_io_normalize_name((int)job->normalize) != NULL, PP_ERR_INTERNAL,
           "output: unknown normalization %d", (int)job->normalize);
  PP_CHECK(meta->n_planes == 0 || (meta->planes != NULL && job->planes_requested != NULL),
           PP_ERR_INTERNAL, "output: planes given without the job's request");
  for (size_t p = 0; p < meta->n_planes; p++) {
    size_t count = 0;
    PP_CALL(pp_size_mul(meta->planes[p].ny, meta->planes[p].nx, &count));
    PP_CALL(pp_size_mul(count, 2 * sizeof(double) * job->n_wavelengths, &count));
  }
  size_t slice = 0, cube = 0;
  PP_CALL(pp_size_mul(meta->ny, meta->nx, &slice));
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
  h = pp_output_hash(h, &meta->ny, sizeof meta->ny);
  h = pp_output_hash(h, &meta->nx, sizeof meta->nx);
  h = pp_output_hash(h, &meta->pixelscale_arcsec, sizeof(double));
  h = pp_output_hash(h, &meta->pupil_diameter_m, sizeof(double));
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
  out->ny = meta->ny;
  out->nx = meta->nx;
  out->oversample = (size_t)job->detector.oversample;
  out->detector_ny = meta->ny / out->oversample;
  out->detector_nx = meta->nx / out->oversample;
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

/* ---- building the file (collective) ------------------------------------------------ */

static pp_status pp_output_open_file(pp_output *out) {
  pp_status status = PP_SUCCESS;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  PP_H5_CHECK_GOTO(status, fapl >= 0 && H5Pset_fapl_mpio(fapl, out->comm, MPI_INFO_NULL) >= 0,
                   PP_ERR_LIBRARY, "cannot set up MPI-IO access for '%s'", out->partial_path);
  out->partial_created = true;
  out->file = H5Fcreate(out->partial_path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  PP_H5_CHECK_GOTO(status, out->file >= 0, PP_ERR_IO, "cannot create output file '%s'",
                   out->partial_path);
done:
  pp_formats_hdf5_close(&fapl);
  return status;
}

/* A contiguous dataset whose space is allocated now and never filled: every element is
 * written by us (or marked not written by /status/completed), and allocation at creation
 * is what lets a single rank write raw data later. */
static pp_status pp_output_dataset_create(hid_t location, const char *name, hid_t file_type,
                                          int ndims, const hsize_t *dims, hid_t *dataset) {
  pp_status status = PP_SUCCESS;
  hid_t space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
  space = H5Screate_simple(ndims, dims, NULL);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  PP_H5_CHECK_GOTO(status,
                   space >= 0 && dcpl >= 0 && H5Pset_layout(dcpl, H5D_CONTIGUOUS) >= 0 &&
                       H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) >= 0 &&
                       H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0,
                   PP_ERR_LIBRARY, "cannot set up dataset %s", name);
  *dataset = H5Dcreate2(location, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, *dataset >= 0, PP_ERR_IO, "cannot create dataset %s", name);
done:
  pp_formats_hdf5_close(&space);
  pp_formats_hdf5_close(&dcpl);
  return status;
}

/* Writes a whole 1-D dataset from rank 0's buffer; the other ranks take part in the
 * collective transfer with an empty selection. */
static pp_status pp_output_write_from_root(const pp_output *out, hid_t dataset, hid_t mem_type,
                                           const void *data, const char *name) {
  pp_status status = PP_SUCCESS;
  hsize_t count = out->n_wavelengths;
  hid_t file_space = H5Dget_space(dataset);
  hid_t mem_space = H5Screate_simple(1, &count, NULL);
  PP_H5_CHECK_GOTO(status, file_space >= 0 && mem_space >= 0, PP_ERR_LIBRARY,
                   "cannot make dataspaces for %s", name);
  if (out->rank != 0)
    PP_H5_CHECK_GOTO(status, H5Sselect_none(file_space) >= 0 && H5Sselect_none(mem_space) >= 0,
                     PP_ERR_LIBRARY, "cannot select nothing in %s", name);
  PP_H5_CHECK_GOTO(status,
                   H5Dwrite(dataset, mem_type, mem_space, file_space, out->dxpl_collective,
                            data) >= 0,
                   PP_ERR_IO, "cannot write %s to '%s'", name, out->partial_path);
done:
  pp_formats_hdf5_close(&file_space);
  pp_formats_hdf5_close(&mem_space);
  return status;
}

/* UTC now as ISO 8601, made on rank 0 and broadcast: attribute values must be identical
 * on every rank, and clocks of different nodes may straddle a second. */
static pp_status pp_output_creation_date(const pp_output *out, char date[32]) {
  memset(date, 0, 32);
  if (out->rank == 0) {
    time_t now = time(NULL);
    struct tm utc;
    if (gmtime_r(&now, &utc) == NULL || strftime(date, 32, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0)
      snprintf(date, 32, "unknown");
  }
  PP_CHECK(MPI_Bcast(date, 32, MPI_CHAR, 0, out->comm) == MPI_SUCCESS, PP_ERR_MPI,
           "MPI_Bcast of the creation date failed");
  return PP_SUCCESS;
}

static pp_status pp_output_write_root_attributes(const pp_output *out,
                                                 const pp_output_meta *meta) {
  const pp_job *job = meta->job;
  hid_t root = out->file;
  char date[32];
  PP_CALL(pp_output_creation_date(out, date));
  PP_CALL(pp_io_attr_write_string(root, "format_name", PP_OUTPUT_FORMAT_NAME));
  PP_CALL(pp_io_attr_write_int64(root, "format_version", PP_OUTPUT_FORMAT_VERSION));
  PP_CALL(pp_io_attr_write_string(root, "software_version", pp_version()));
  PP_CALL(pp_io_attr_write_string(root, "creation_date_utc", date));
  PP_CALL(pp_io_attr_write_string(root, "job_text", job->text));
  PP_CALL(pp_io_attr_write_string(root, "job_source", job->source_name));
  PP_CALL(pp_io_attr_write_double(root, "pixelscale_arcsec", meta->pixelscale_arcsec));
  PP_CALL(pp_io_attr_write_double(root, "detector_pixelscale_arcsec",
                                  job->detector.pixelscale_arcsec));
  PP_CALL(pp_io_attr_write_int64(root, "oversample", job->detector.oversample));
  const long long fov_pixels[2] = {(long long)job->detector.fov_pixels_y,
                                   (long long)job->detector.fov_pixels_x};
  PP_CALL(pp_io_attr_write_int64_array(root, "fov_pixels", fov_pixels, 2));
  PP_CALL(pp_io_attr_write_int64(root, "pupil_npix", (long long)job->pupil_npix));
  PP_CALL(pp_io_attr_write_double(root, "pupil_diameter_m", meta->pupil_diameter_m));
  PP_CALL(pp_io_attr_write_string(root, "normalization",
                                  pp_io_normalize_name((int)job->normalize)));
  PP_CALL(pp_io_attr_write_string(root, "method", pp_io_method_name((int)job->method)));
  PP_CALL(pp_io_attr_write_int64(root, "fft_oversample", job->fft_oversample));
  PP_CALL(pp_io_attr_write_int64(root, "n_wavelengths", (long long)job->n_wavelengths));
  PP_CALL(pp_io_attr_write_int64(root, "n_ranks", meta->n_ranks));
  PP_CALL(pp_io_attr_write_int64(root, "n_nodes", meta->n_nodes));
  if (meta->threads_per_rank > 0) /* 0: the caller does not say */
    PP_CALL(pp_io_attr_write_int64(root, "threads_per_rank", meta->threads_per_rank));
  return PP_SUCCESS;
}

static pp_status pp_output_create_image_datasets(pp_output *out, const pp_output_meta *meta) {
  const pp_job *job = meta->job;
  const hsize_t psf_dims[2] = {out->ny, out->nx};
  PP_CALL(pp_output_dataset_create(out->file, "psf", H5T_IEEE_F64LE, 2, psf_dims, &out->psf));
  PP_CALL(pp_io_attr_write_string(out->psf, "description",
                                  "polychromatic PSF, sum over i of weights[i] * cube[i], "
                                  "oversampled detector pixels, indexed (y, x)"));
  PP_CALL(pp_io_attr_write_string(out->psf, "units", "1"));
  PP_CALL(pp_io_attr_write_double(out->psf, "pixelscale_arcsec", meta->pixelscale_arcsec));
  PP_CALL(pp_io_attr_write_int64(out->psf, "oversample", job->detector.oversample));

  const hsize_t detector_dims[2] = {out->detector_ny, out->detector_nx};
  PP_CALL(pp_output_dataset_create(out->file, "psf_detector", H5T_IEEE_F64LE, 2, detector_dims,
                                   &out->psf_detector));
  PP_CALL(pp_io_attr_write_string(out->psf_detector, "description",
                                  "/psf rebinned to detector pixels: each value is the sum of "
                                  "oversample x oversample pixels of /psf (flux-conserving)"));
  PP_CALL(pp_io_attr_write_string(out->psf_detector, "units", "1"));
  PP_CALL(pp_io_attr_write_double(out->psf_detector, "pixelscale_arcsec",
                                  job->detector.pixelscale_arcsec));

  if (out->has_cube) {
    const hsize_t cube_dims[3] = {out->n_wavelengths, out->ny, out->nx};
    PP_CALL(pp_output_dataset_create(out->file, "cube", H5T_IEEE_F64LE, 3, cube_dims, &out->cube));
    PP_CALL(pp_io_attr_write_string(out->cube, "description",
                                    "monochromatic PSFs, cube[i] at wavelengths[i], same "
                                    "pixels as /psf; valid where status/completed[i] is 1"));
    PP_CALL(pp_io_attr_write_string(out->cube, "units", "1"));
    PP_CALL(pp_io_attr_write_double(out->cube, "pixelscale_arcsec", meta->pixelscale_arcsec));
  }
  return PP_SUCCESS;
}

static pp_status pp_output_create_spectrum_datasets(pp_output *out, const pp_job *job) {
  pp_status status = PP_SUCCESS;
  hid_t wavelengths = H5I_INVALID_HID, weights = H5I_INVALID_HID;
  const hsize_t dims[1] = {out->n_wavelengths};
  PP_CALL_GOTO(status,
               pp_output_dataset_create(out->file, "wavelengths", H5T_IEEE_F64LE, 1, dims,
                                        &wavelengths));
  PP_CALL_GOTO(status, pp_io_attr_write_string(wavelengths, "units", "m"));
  PP_CALL_GOTO(status, pp_io_attr_write_string(wavelengths, "description",
                                               "vacuum wavelength of each cube slice"));
  PP_CALL_GOTO(status, pp_output_write_from_root(out, wavelengths, H5T_NATIVE_DOUBLE,
                                                 job->wavelengths_m, "/wavelengths"));
  PP_CALL_GOTO(status,
               pp_output_dataset_create(out->file, "weights", H5T_IEEE_F64LE, 1, dims, &weights));
  PP_CALL_GOTO(status, pp_io_attr_write_string(weights, "units", "1"));
  PP_CALL_GOTO(status, pp_io_attr_write_string(weights, "description",
                                               "spectral weights, normalized to sum 1"));
  PP_CALL_GOTO(status, pp_output_write_from_root(out, weights, H5T_NATIVE_DOUBLE, job->weights,
                                                 "/weights"));
done:
  pp_formats_hdf5_close(&wavelengths);
  pp_formats_hdf5_close(&weights);
  return status;
}

/* /status/completed all 0 and /provenance/tasks rows marked "not computed" (rank −1,
 * method none), written explicitly rather than by fill value so a reader of a
 * .partial file after a crash never sees garbage in them. */
static pp_status pp_output_create_bookkeeping(pp_output *out) {
  pp_status status = PP_SUCCESS;
  hid_t status_group = H5I_INVALID_HID, provenance_group = H5I_INVALID_HID;
  hid_t task_filetype = H5I_INVALID_HID;
  pp_task_record *blank = NULL;
  const hsize_t dims[1] = {out->n_wavelengths};

  blank = calloc(out->n_wavelengths, sizeof *blank);
  PP_CHECK_GOTO(status, blank, PP_ERR_MEMORY, "out of memory");
  for (size_t i = 0; i < out->n_wavelengths; i++)
    blank[i] = (pp_task_record){.rank = -1, .node = -1, .method = PP_IO_METHOD_NONE};

  status_group = H5Gcreate2(out->file, "status", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, status_group >= 0, PP_ERR_IO, "cannot create group /status");
  PP_CALL_GOTO(status, pp_output_dataset_create(status_group, "completed", H5T_STD_U8LE, 1, dims,
                                                &out->completed));
  PP_CALL_GOTO(status, pp_io_attr_write_string(out->completed, "description",
                                               "1 once cube slice i and its provenance row are "
                                               "on storage, else 0"));
  /* All 0: completed_flags is still as calloc left it. */
  PP_CALL_GOTO(status, pp_output_write_from_root(out, out->completed, H5T_NATIVE_UCHAR,
                                                 out->completed_flags, "/status/completed"));

  /* The file type is the memory type packed: no padding on disk, and HDF5 records byte
   * order and sizes so any platform converts on read. */
  task_filetype = H5Tcopy(out->task_memtype);
  PP_H5_CHECK_GOTO(status, task_filetype >= 0 && H5Tpack(task_filetype) >= 0, PP_ERR_LIBRARY,
                   "cannot make the file type of /provenance/tasks");
  provenance_group = H5Gcreate2(out->file, "provenance", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, provenance_group >= 0, PP_ERR_IO, "cannot create group /provenance");
  PP_CALL_GOTO(status, pp_output_dataset_create(provenance_group, "tasks", task_filetype, 1, dims,
                                                &out->tasks));
  PP_CALL_GOTO(status,
               pp_io_attr_write_string(out->tasks, "description",
                                       "row i: the task of wavelengths[i]: MPI rank, node "
                                       "index, method used, wall seconds, peak RSS bytes of "
                                       "the rank after the task; rank -1 = not computed"));
  PP_CALL_GOTO(status, pp_output_write_from_root(out, out->tasks, out->task_memtype, blank,
                                                 "/provenance/tasks"));
done:
  free(blank);
  pp_formats_hdf5_close(&task_filetype);
  pp_formats_hdf5_close(&status_group);
  pp_formats_hdf5_close(&provenance_group);
  return status;
}

pp_status pp_io_output_make_transfer_objects(pp_output *out) {
  pp_status status = PP_SUCCESS;
  out->dxpl_collective = H5Pcreate(H5P_DATASET_XFER);
  PP_H5_CHECK_GOTO(status,
                   out->dxpl_collective >= 0 &&
                       H5Pset_dxpl_mpio(out->dxpl_collective, H5FD_MPIO_COLLECTIVE) >= 0,
                   PP_ERR_LIBRARY, "cannot make the collective transfer property list");
  PP_CALL_GOTO(status, pp_io_task_memtype_create(&out->task_memtype));
done:
  return status;
}

pp_status pp_io_output_make_slice_spaces(pp_output *out) {
  pp_status status = PP_SUCCESS;
  const hsize_t slice_dims[2] = {out->ny, out->nx}, one[1] = {1};
  if (out->has_cube) {
    out->cube_space = H5Dget_space(out->cube);
    out->slice_memspace = H5Screate_simple(2, slice_dims, NULL);
  }
  out->completed_space = H5Dget_space(out->completed);
  out->tasks_space = H5Dget_space(out->tasks);
  out->element_memspace = H5Screate_simple(1, one, NULL);
  PP_H5_CHECK_GOTO(status,
                   (!out->has_cube || (out->cube_space >= 0 && out->slice_memspace >= 0)) &&
                       out->completed_space >= 0 && out->tasks_space >= 0 &&
                       out->element_memspace >= 0,
                   PP_ERR_LIBRARY, "cannot make the dataspaces for slice writes");
done:
  return status;
}

/* /planes and one dataset per requested plane, with what a reader needs to use it: the
 * optic, the kind of plane, the quantity, and the pixel scale at each wavelength (image
 * planes scale with λ). Collective. */
static pp_status pp_output_create_planes(pp_output *out, const pp_output_meta *meta) {
  if (out->n_planes == 0) return PP_SUCCESS;
  pp_status status = PP_SUCCESS;
  const pp_job *job = meta->job;
  hid_t group = H5I_INVALID_HID, file_type = H5I_INVALID_HID;
  double *pixelscale = NULL;
  size_t n = out->n_wavelengths;
  pixelscale = malloc(n * sizeof *pixelscale);
  PP_CHECK_GOTO(status, pixelscale != NULL, PP_ERR_MEMORY, "out of memory");
  PP_CALL_GOTO(status, pp_io_plane_memtype_create(out->plane_quantity, &out->plane_memtype));
  /* two doubles with no padding: the memory type is already packed; HDF5 records the byte
   * order, so any platform converts on read */
  file_type = H5Tcopy(out->plane_quantity == PP_PLANE_INTENSITY ? H5T_IEEE_F64LE
                                                                 : out->plane_memtype);
  PP_H5_CHECK_GOTO(status, file_type >= 0, PP_ERR_LIBRARY,
                   "cannot make the file type of the planes");
  group = H5Gcreate2(out->file, "planes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  PP_H5_CHECK_GOTO(status, group >= 0, PP_ERR_IO, "cannot create group /planes");
  PP_CALL_GOTO(status, pp_io_attr_write_string(group, "quantity",
                                               pp_plane_quantity_name(out->plane_quantity)));
  PP_CALL_GOTO(status,
               pp_io_attr_write_string(group, "description",
                                       "the field after each requested optic, [wavelength][y][x]; "
                                       "pupil and image planes for a unit-amplitude plane wave "
                                       "entering the system, the detector plane equal to /cube"));
  for (size_t p = 0; p < out->n_planes; p++) {
    const pp_plane_info *plane = &out->plane_info[p];
    char name[PP_OPTIC_NAME_BYTES + 32];
    pp_output_plane_name(job, plane, name, sizeof name);
    const hsize_t dims[3] = {n, plane->ny, plane->nx};
    PP_CALL_GOTO(status, pp_output_dataset_create(group, name, file_type, 3, dims,
                                                  &out->plane_datasets[p]));
    hid_t dataset = out->plane_datasets[p];
    bool detector = plane->kind == PP_FIELD_DETECTOR;
    PP_CALL_GOTO(status, pp_io_attr_write_string(dataset, "plane_type",
                                                 pp_plane_kind_name(plane->kind)));
    PP_CALL_GOTO(status, pp_io_attr_write_int64(dataset, "optic_index",
                                                (long long)plane->optic_index));
    PP_CALL_GOTO(status, pp_io_attr_write_string(
                             dataset, "optic_name",
                             detector ? "detector" : job->optics[plane->optic_index].name));
    PP_CALL_GOTO(status, pp_io_attr_write_string(dataset, "quantity",
                                                 pp_plane_quantity_name(out->plane_quantity)));
    for (size_t i = 0; i < n; i++) {
      if (plane->kind == PP_FIELD_PUPIL)
        pixelscale[i] = meta->pupil_diameter_m / (double)job->pupil_npix;
      else if (plane->kind == PP_FIELD_IMAGE) /* as the plane sequence computes it */
        pixelscale[i] = pp_fft_image_pixelscale_rad(job->wavelengths_m[i], meta->pupil_diameter_m,
                                                    (double)job->fft_oversample) *
                        PP_ARCSEC_PER_RADIAN;
      else
        pixelscale[i] = meta->pixelscale_arcsec;
    }
    PP_CALL_GOTO(status, pp_io_attr_write_double_array(
                             dataset,
                             plane->kind == PP_FIELD_PUPIL ? "pixelscale_m" : "pixelscale_arcsec",
                             pixelscale, n));
  }
  PP_CALL_GOTO(status, pp_io_output_open_planes(out, meta));
done:
  free(pixelscale);
  pp_formats_hdf5_close(&file_type);
  pp_formats_hdf5_close(&group);
  return status;
}

pp_status pp_io_output_open_planes(pp_output *out, const pp_output_meta *meta) {
  pp_status status = PP_SUCCESS;
  if (out->n_planes == 0) return PP_SUCCESS;
  if (out->plane_memtype < 0)
    PP_CALL_GOTO(status, pp_io_plane_memtype_create(out->plane_quantity, &out->plane_memtype));
  for (size_t p = 0; p < out->n_planes; p++) {
    const pp_plane_info *plane = &out->plane_info[p];
    if (out->plane_datasets[p] < 0) {
      char name[PP_OPTIC_NAME_BYTES + 40] = "planes/";
      pp_output_plane_name(meta->job, plane, name + 7, sizeof name - 7);
      out->plane_datasets[p] = H5Dopen2(out->file, name, H5P_DEFAULT);
      PP_H5_CHECK_GOTO(status, out->plane_datasets[p] >= 0, PP_ERR_INPUT,
                       "'%s' has no dataset /%s that the job asks for", out->partial_path, name);
    }
    const hsize_t slice[2] = {plane->ny, plane->nx};
    out->plane_spaces[p] = H5Dget_space(out->plane_datasets[p]);
    out->plane_memspaces[p] = H5Screate_simple(2, slice, NULL);
    hsize_t dims[3] = {0, 0, 0};
    PP_H5_CHECK_GOTO(status,
                     out->plane_spaces[p] >= 0 && out->plane_memspaces[p] >= 0 &&
                         H5Sget_simple_extent_ndims(out->plane_spaces[p]) == 3 &&
                         H5Sget_simple_extent_dims(out->plane_spaces[p], dims, NULL) == 3,
                     PP_ERR_LIBRARY, "cannot make the dataspaces of plane %zu", p);
    PP_CHECK_GOTO(status,
                  dims[0] == out->n_wavelengths && dims[1] == plane->ny && dims[2] == plane->nx,
                  PP_ERR_INPUT, "plane %zu of '%s' has the wrong shape", p, out->partial_path);
  }
done:
  return status;
}

/* Everything after H5Fcreate. Collective; ends with the structure flushed to disk, so
 * that later independent writes only ever touch raw data. */
static pp_status pp_output_build(pp_output *out, const pp_output_meta *meta) {
  pp_status status = PP_SUCCESS;
  PP_CALL_GOTO(status, pp_io_output_make_transfer_objects(out));
  PP_CALL_GOTO(status, pp_output_write_root_attributes(out, meta));
  PP_CALL_GOTO(status, pp_output_create_spectrum_datasets(out, meta->job));
  PP_CALL_GOTO(status, pp_output_create_image_datasets(out, meta));
  PP_CALL_GOTO(status, pp_output_create_planes(out, meta));
  PP_CALL_GOTO(status, pp_output_create_bookkeeping(out));
  PP_CALL_GOTO(status, pp_io_output_make_slice_spaces(out));
  PP_H5_CHECK_GOTO(status, H5Fflush(out->file, H5F_SCOPE_GLOBAL) >= 0, PP_ERR_IO,
                   "cannot flush '%s'", out->partial_path);
done:
  return status;
}

/* ---- finishing ------------------------------------------------------------------- */

/* Makes a rename durable: without syncing the directory, a crash soon after could bring
 * back the old name. Best effort: some file systems refuse fsync on a directory, and the
 * rename itself already happened. */
static void pp_output_sync_directory(const char *path) {
  char *copy = strdup(path);
  if (!copy) return;
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  free(copy);
}

/* Rank 0: gives the finished temporary file its final name. */
static pp_status pp_output_publish(const pp_output *out) {
  const char *partial = out->partial_path, *final = out->final_path;
  if (!out->force) {
    /* link(2) refuses an existing name atomically: a file that appeared at the final
     * name while we were running is never overwritten without --force. */
    if (link(partial, final) == 0) {
      /* If this unlink failed, both names would hold the same complete file: harmless. */
      (void)unlink(partial);
      pp_output_sync_directory(final);
      return PP_SUCCESS;
    }
    PP_CHECK(errno != EEXIST, PP_ERR_IO,
             "output '%s' appeared while this run was writing it; the result is kept in '%s'",
             final, partial);
    /* File systems without hard links (EPERM, ENOTSUP, …): check, then rename. */
    PP_CHECK(access(final, F_OK) != 0, PP_ERR_IO,
             "output '%s' appeared while this run was writing it; the result is kept in '%s'",
             final, partial);
  }
  PP_CHECK(rename(partial, final) == 0, PP_ERR_IO,
           "cannot rename '%s' to '%s': %s; the result is kept in '%s'", partial, final,
           strerror(errno), partial);
  pp_output_sync_directory(final);
  return PP_SUCCESS;
}

/* Rank 0: removes the temporary file of a run whose output is discarded. */
static pp_status pp_output_remove_partial(const pp_output *out) {
  if (!out->partial_created) return PP_SUCCESS;
  PP_CHECK(unlink(out->partial_path) == 0 || errno == ENOENT, PP_ERR_IO,
           "cannot remove the temporary file '%s': %s", out->partial_path, strerror(errno));
  return PP_SUCCESS;
}

/* Makes every slice written so far durable, then marks it completed. Collective; the same
 * status on every rank.
 * Phase 1: H5Fflush, which in parallel HDF5 ends in MPI_File_sync on every rank, so each
 * slice any rank wrote before this call is on storage. Phase 2, only if phase 1 worked on
 * every rank: the union of the ranks' pending slices joins completed_flags, rank 0 writes
 * the whole /status/completed from it, and a second flush makes the flags durable. A flag
 * on disk is thus never ahead of its slice, even after a machine crash. The barrier
 * between the two syncs (the agreement) also gives MPI-IO's sync-barrier-sync: after
 * this call every rank reads what any rank wrote before it. */
static pp_status pp_output_commit(pp_output *out) {
  pp_status local = PP_SUCCESS;
  if (H5Fflush(out->file, H5F_SCOPE_GLOBAL) < 0)
    local = pp_formats_hdf5_error(PP_ERR_IO, __FILE__, __LINE__, __func__, "cannot flush '%s'",
                             out->partial_path);
  pp_status status = pp_agree(out->comm, local);
  if (status != PP_SUCCESS) return status;

  PP_CHECK(MPI_Allreduce(MPI_IN_PLACE, out->pending_flags, (int)out->n_wavelengths,
                         MPI_UNSIGNED_CHAR, MPI_BOR, out->comm) == MPI_SUCCESS,
           PP_ERR_MPI, "MPI_Allreduce failed while marking slices completed in '%s'",
           out->partial_path);
  /* Identical on every rank: the same union applied to the same flags. */
  bool any_new = false;
  for (size_t i = 0; i < out->n_wavelengths; i++) {
    if (out->pending_flags[i] && !out->completed_flags[i]) {
      out->completed_flags[i] = 1;
      any_new = true;
    }
    out->pending_flags[i] = 0;
  }
  if (!any_new) return PP_SUCCESS;
  /* The whole array each time: a commit whose flag write failed is repaired by the next. */
  local = pp_output_write_from_root(out, out->completed, H5T_NATIVE_UCHAR, out->completed_flags,
                                    "/status/completed");
  /* The flush is collective: every rank makes it, whatever the write returned. */
  if (H5Fflush(out->file, H5F_SCOPE_GLOBAL) < 0 && local == PP_SUCCESS)
    local = pp_formats_hdf5_error(PP_ERR_IO, __FILE__, __LINE__, __func__, "cannot flush '%s'",
                             out->partial_path);
  return pp_agree(out->comm, local);
}

/* One mode for all ranks: publish only if every rank asks to; otherwise keep the .partial
 * file if any rank asks to (keeping never loses a slice), else discard. A failed Allreduce
 * keeps: neither renaming nor removing is safe when ranks cannot agree. */
static pp_output_close_mode pp_output_agree_mode(MPI_Comm comm, pp_output_close_mode mode,
                                                 pp_status *error) {
  int mine[2] = {mode != PP_OUTPUT_PUBLISH, mode == PP_OUTPUT_KEEP_PARTIAL}, all[2] = {1, 1};
  if (MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS) {
    *error = pp_error_raise(PP_ERR_MPI, __FILE__, __LINE__, __func__,
                            "MPI_Allreduce failed while closing the output");
    return PP_OUTPUT_KEEP_PARTIAL;
  }
  if (!all[0]) return PP_OUTPUT_PUBLISH;
  return all[1] ? PP_OUTPUT_KEEP_PARTIAL : PP_OUTPUT_DISCARD;
}

/* Commits (unless discarding), closes, then publishes, keeps or removes the file, then
 * frees out. Collective; every rank returns the same status, after rank 0 renamed or
 * removed. A publish that fails before the rename keeps the .partial file: its completed
 * slices are still good for --resume. */
static pp_status pp_output_finish(pp_output *out, pp_output_close_mode mode) {
  pp_status local = PP_SUCCESS;
  if (mode != PP_OUTPUT_PUBLISH && mode != PP_OUTPUT_DISCARD && mode != PP_OUTPUT_KEEP_PARTIAL) {
    local = pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                           "unknown close mode %d; keeping '%s'", (int)mode, out->partial_path);
    mode = PP_OUTPUT_KEEP_PARTIAL;
  }
  mode = pp_output_agree_mode(out->comm, mode, &local);
  /* The commit is collective and agrees by itself; the local error (if any) still wins. */
  if (mode != PP_OUTPUT_DISCARD && out->file >= 0) {
    pp_status committed = pp_output_commit(out);
    if (local == PP_SUCCESS) local = committed;
    else pp_status_free(committed);
  }
  bool closed = pp_io_output_close_objects(out);
  /* A failed close matters only for a file we keep; a discarded one is removed anyway. */
  if (mode != PP_OUTPUT_DISCARD && !closed && local == PP_SUCCESS)
    local = pp_formats_hdf5_error(PP_ERR_IO, __FILE__, __LINE__, __func__, "cannot close '%s'",
                             out->partial_path);
  H5Eclear2(H5E_DEFAULT);
  pp_status status = pp_agree(out->comm, local);

  pp_status naming = PP_SUCCESS;
  if (out->rank == 0) {
    if (mode == PP_OUTPUT_PUBLISH && status == PP_SUCCESS) naming = pp_output_publish(out);
    else if (mode == PP_OUTPUT_DISCARD) naming = pp_output_remove_partial(out);
  }
  /* The agreement doubles as the barrier: nobody returns before rank 0 renamed. */
  naming = pp_agree(out->comm, naming);
  if (status == PP_SUCCESS) status = naming;
  else pp_status_free(naming);
  pp_io_output_free(out);
  return status;
}

/* ---- public ------------------------------------------------------------------------ */

pp_status pp_io_output_attach_comm(pp_output *out, MPI_Comm comm) {
  MPI_Comm_rank(comm, &out->rank);
  pp_status local = pp_comm_dup(comm, &out->comm); /* MPI_COMM_NULL on failure */
  return pp_agree(comm, local);
}

pp_status pp_output_create(const char *path, const pp_output_meta *meta, bool force,
                           MPI_Comm comm, pp_output **output) {
  pp_status status = PP_SUCCESS;
  pp_output *out = NULL;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  if (output) *output = NULL;

  /* Each phase is local; the agreement after it makes every rank take the same branch. */
  pp_status local = output && path ? pp_io_output_check_meta(meta)
                                   : pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__,
                                                    __func__, "pp_output_create: NULL argument");
  status = pp_agree(comm, local);
  if (status != PP_SUCCESS) goto done;

  status = pp_io_output_check_ranks_agree(comm, path, meta, force);
  if (status != PP_SUCCESS) goto done;

  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  local = rank == 0 ? pp_io_output_check_path(path, force) : PP_SUCCESS;
  if (local == PP_SUCCESS) local = pp_io_output_alloc(path, meta, force, &out);
  status = pp_agree(comm, local);
  if (status != PP_SUCCESS) goto done;

  status = pp_io_output_attach_comm(out, comm);
  if (status != PP_SUCCESS) goto done;

  status = pp_agree(out->comm, pp_output_open_file(out));
  if (status != PP_SUCCESS) goto done;
  status = pp_agree(out->comm, pp_output_build(out, meta));
  if (status != PP_SUCCESS) goto done;

  *output = out;
  out = NULL;
done:
  if (out) {
    /* Reached only after an agreement, so every rank cleans up together. */
    if (out->comm != MPI_COMM_NULL) {
      pp_status_free(pp_output_finish(out, PP_OUTPUT_DISCARD));
    } else {
      pp_io_output_free(out);
    }
  }
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}

pp_status pp_output_write_slice(pp_output *output, size_t index, const double *psf,
                                const pp_task_record *record) {
  pp_status status = PP_SUCCESS;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, output != NULL && record != NULL, PP_ERR_INTERNAL,
                "pp_output_write_slice: NULL argument");
  PP_CHECK_GOTO(status, index < output->n_wavelengths, PP_ERR_INTERNAL,
                "slice %zu is out of range: the file has %zu wavelengths", index,
                output->n_wavelengths);
  PP_CHECK_GOTO(status, !output->has_cube || psf != NULL, PP_ERR_INTERNAL,
                "slice %zu: no PSF given but the file has a cube", index);
  PP_CHECK_GOTO(status,
                record->method != PP_IO_METHOD_NONE && pp_io_method_name(record->method) != NULL,
                PP_ERR_INTERNAL, "slice %zu: unknown method %d in the task record", index,
                record->method);
  /* Rewriting would leave a completed flag over bytes in flux until the next commit. */
  PP_CHECK_GOTO(status, !output->completed_flags[index], PP_ERR_INTERNAL,
                "slice %zu is already completed in '%s'; a resumed run must skip it", index,
                output->partial_path);

  const hsize_t element_start[1] = {index}, element_count[1] = {1};
  if (output->has_cube) {
    const hsize_t start[3] = {index, 0, 0}, count[3] = {1, output->ny, output->nx};
    /* select_all: pp_output_read_cube_rows leaves a band selected in the memory space. */
    PP_H5_CHECK_GOTO(status,
                     H5Sselect_all(output->slice_memspace) >= 0 &&
                         H5Sselect_hyperslab(output->cube_space, H5S_SELECT_SET, start, NULL,
                                             count, NULL) >= 0,
                     PP_ERR_LIBRARY, "cannot select slice %zu of /cube", index);
    /* H5P_DEFAULT transfer = independent: only this rank writes. */
    PP_H5_CHECK_GOTO(status,
                     H5Dwrite(output->cube, H5T_NATIVE_DOUBLE, output->slice_memspace,
                              output->cube_space, H5P_DEFAULT, psf) >= 0,
                     PP_ERR_IO, "cannot write slice %zu of /cube to '%s'", index,
                     output->partial_path);
  }
  PP_H5_CHECK_GOTO(status,
                   H5Sselect_hyperslab(output->tasks_space, H5S_SELECT_SET, element_start, NULL,
                                       element_count, NULL) >= 0,
                   PP_ERR_LIBRARY, "cannot select row %zu of /provenance/tasks", index);
  PP_H5_CHECK_GOTO(status,
                   H5Dwrite(output->tasks, output->task_memtype, output->element_memspace,
                            output->tasks_space, H5P_DEFAULT, record) >= 0,
                   PP_ERR_IO, "cannot write row %zu of /provenance/tasks to '%s'", index,
                   output->partial_path);
  /* The flag itself waits for the next commit, which first syncs these bytes. */
  output->pending_flags[index] = 1;
done:
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}

/* The plane in the file's quantity, into out->plane_buffer (not for a detector intensity,
 * written from view->intensity as it is). */
static void pp_output_convert_plane(const pp_output *out, const pp_plane_view *view) {
  size_t count = view->ny * view->nx;
  double scale = view->field_scale, *buffer = out->plane_buffer;
  for (size_t p = 0; p < count; p++) {
    double re = view->field ? creal(view->field[p]) * scale : view->real_field[p] * scale;
    double im = view->field ? cimag(view->field[p]) * scale : 0.0;
    switch (out->plane_quantity) {
      case PP_PLANE_INTENSITY:
        buffer[p] = re * re + im * im;
        break;
      case PP_PLANE_COMPLEX:
        buffer[2 * p] = re;
        buffer[2 * p + 1] = im;
        break;
      case PP_PLANE_AMPLITUDE_PHASE:
        buffer[2 * p] = hypot(re, im);
        buffer[2 * p + 1] = atan2(im, re);
        break;
    }
  }
}

pp_status pp_output_prepare_plane_writes(pp_output *output) {
  PP_CHECK(output != NULL, PP_ERR_INTERNAL, "pp_output_prepare_plane_writes: no output");
  if (output->n_planes == 0 || output->plane_buffer) return PP_SUCCESS;
  PP_CALL(pp_array_alloc(output->plane_buffer_count * sizeof(double),
                         (void **)&output->plane_buffer));
  return PP_SUCCESS;
}

pp_status pp_output_write_plane(pp_output *output, size_t index, const pp_plane_view *view) {
  pp_status status = PP_SUCCESS;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, output != NULL && view != NULL, PP_ERR_INTERNAL,
                "pp_output_write_plane: NULL argument");
  PP_CHECK_GOTO(status, index < output->n_wavelengths && view->plane < output->n_planes,
                PP_ERR_INTERNAL, "plane %zu of wavelength %zu is out of range (%zu planes, %zu "
                "wavelengths)", view->plane, index, output->n_planes, output->n_wavelengths);
  const pp_plane_info *plane = &output->plane_info[view->plane];
  PP_CHECK_GOTO(status, view->ny == plane->ny && view->nx == plane->nx &&
                            (view->field || view->real_field || view->intensity),
                PP_ERR_INTERNAL, "plane %zu: %zu × %zu given, the file has %zu × %zu", view->plane,
                view->ny, view->nx, plane->ny, plane->nx);
  PP_CHECK_GOTO(status, output->plane_buffer != NULL, PP_ERR_INTERNAL,
                "plane writes need pp_output_prepare_plane_writes first");
  const void *data = output->plane_buffer;
  if (output->plane_quantity == PP_PLANE_INTENSITY && view->intensity) data = view->intensity;
  else pp_output_convert_plane(output, view);
  const hsize_t start[3] = {index, 0, 0}, count[3] = {1, plane->ny, plane->nx};
  hid_t space = output->plane_spaces[view->plane];
  PP_H5_CHECK_GOTO(status,
                   H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0,
                   PP_ERR_LIBRARY, "cannot select wavelength %zu of plane %zu", index,
                   view->plane);
  /* independent: only this rank writes */
  PP_H5_CHECK_GOTO(status,
                   H5Dwrite(output->plane_datasets[view->plane], output->plane_memtype,
                            output->plane_memspaces[view->plane], space, H5P_DEFAULT, data) >= 0,
                   PP_ERR_IO, "cannot write wavelength %zu of plane %zu to '%s'", index,
                   view->plane, output->partial_path);
done:
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}

/* Selects rows [row0, row0+nrows) of cube slice `index` in the file and the first nrows
 * rows of the slice-shaped memory space, or nothing in both. Not collective. */
static pp_status pp_output_select_cube_rows(pp_output *out, size_t index, size_t row0,
                                            size_t nrows) {
  pp_status status = PP_SUCCESS;
  if (nrows == 0) {
    PP_H5_CHECK_GOTO(status,
                     H5Sselect_none(out->cube_space) >= 0 &&
                         H5Sselect_none(out->slice_memspace) >= 0,
                     PP_ERR_LIBRARY, "cannot make an empty selection of /cube");
    goto done;
  }
  const hsize_t file_start[3] = {index, row0, 0}, file_count[3] = {1, nrows, out->nx};
  const hsize_t mem_start[2] = {0, 0}, mem_count[2] = {nrows, out->nx};
  PP_H5_CHECK_GOTO(status,
                   H5Sselect_hyperslab(out->cube_space, H5S_SELECT_SET, file_start, NULL,
                                       file_count, NULL) >= 0 &&
                       H5Sselect_hyperslab(out->slice_memspace, H5S_SELECT_SET, mem_start,
                                           NULL, mem_count, NULL) >= 0,
                   PP_ERR_LIBRARY, "cannot select rows %zu to %zu of slice %zu of /cube", row0,
                   row0 + nrows - 1, index);
done:
  return status;
}

pp_status pp_output_read_cube_rows(pp_output *output, size_t index, size_t row0, size_t nrows,
                                   double *rows) {
  pp_status status = PP_SUCCESS;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  /* Without the output there is no communicator to agree on: this rank can only report. */
  PP_CHECK_GOTO(status, output != NULL, PP_ERR_INTERNAL, "pp_output_read_cube_rows: no output");

  pp_status local = PP_SUCCESS;
  if (!output->has_cube)
    local = pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                           "'%s' has no /cube to read back (the job has cube: false)",
                           output->partial_path);
  else if (index >= output->n_wavelengths)
    local = pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                           "slice %zu is out of range: the file has %zu wavelengths", index,
                           output->n_wavelengths);
  else if (!output->completed_flags[index])
    local = pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                           "slice %zu of /cube is not completed: write it, then "
                           "pp_output_sync, before reading it back",
                           index);
  else if (row0 > output->ny || nrows > output->ny - row0)
    local = pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                           "cube rows %zu + %zu are out of range: a slice has %zu rows", row0,
                           nrows, output->ny);
  else if (nrows > 0 && rows == NULL)
    local = pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                           "cube rows %zu + %zu: no buffer given", row0, nrows);

  /* has_cube is the same on every rank, so either all ranks read or none does. A rank
   * whose arguments are bad still takes part, with nothing selected, so that no rank is
   * left alone in the collective read; the agreement below reports its error to all. */
  if (output->has_cube) {
    bool take_part_empty = local != PP_SUCCESS || nrows == 0;
    pp_status selected = pp_output_select_cube_rows(output, index, take_part_empty ? 0 : row0,
                                                    take_part_empty ? 0 : nrows);
    if (selected != PP_SUCCESS) {
      if (local == PP_SUCCESS) local = selected;
      else pp_status_free(selected);
      take_part_empty = true;
      pp_status_free(pp_output_select_cube_rows(output, 0, 0, 0));
    }
    double no_data = 0.0; /* H5Dread wants a buffer even for an empty selection */
    if (H5Dread(output->cube, H5T_NATIVE_DOUBLE, output->slice_memspace, output->cube_space,
                output->dxpl_collective, take_part_empty ? &no_data : rows) < 0 &&
        local == PP_SUCCESS)
      local = pp_formats_hdf5_error(PP_ERR_IO, __FILE__, __LINE__, __func__,
                               "cannot read %zu rows from row %zu of slice %zu of /cube from "
                               "'%s'",
                               nrows, row0, index, output->partial_path);
  }
  status = pp_agree(output->comm, local);
done:
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}

/* One rank's band of a 2-D dataset in a collective write; an empty band selects nothing
 * but still takes part, as collective I/O requires. */
static pp_status pp_output_write_band(const pp_output *out, hid_t dataset, const char *name,
                                      size_t row_length, size_t row0, size_t nrows,
                                      const double *rows) {
  pp_status status = PP_SUCCESS;
  hid_t file_space = H5I_INVALID_HID, mem_space = H5I_INVALID_HID;
  const double no_data = 0.0; /* H5Dwrite wants a buffer even for an empty selection */
  file_space = H5Dget_space(dataset);
  PP_H5_CHECK_GOTO(status, file_space >= 0, PP_ERR_LIBRARY, "cannot get the dataspace of %s",
                   name);
  if (nrows > 0) {
    const hsize_t start[2] = {row0, 0}, count[2] = {nrows, row_length};
    mem_space = H5Screate_simple(2, count, NULL);
    PP_H5_CHECK_GOTO(status,
                     mem_space >= 0 && H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start,
                                                           NULL, count, NULL) >= 0,
                     PP_ERR_LIBRARY, "cannot select rows %zu to %zu of %s", row0,
                     row0 + nrows - 1, name);
  } else {
    const hsize_t one[1] = {1};
    mem_space = H5Screate_simple(1, one, NULL);
    PP_H5_CHECK_GOTO(status,
                     mem_space >= 0 && H5Sselect_none(mem_space) >= 0 &&
                         H5Sselect_none(file_space) >= 0,
                     PP_ERR_LIBRARY, "cannot make an empty selection of %s", name);
  }
  PP_H5_CHECK_GOTO(status,
                   H5Dwrite(dataset, H5T_NATIVE_DOUBLE, mem_space, file_space,
                            out->dxpl_collective, nrows > 0 ? rows : &no_data) >= 0,
                   PP_ERR_IO, "cannot write %s to '%s'", name, out->partial_path);
done:
  pp_formats_hdf5_close(&file_space);
  pp_formats_hdf5_close(&mem_space);
  return status;
}

pp_status pp_output_write_psf_rows(pp_output *output, size_t row0, size_t nrows,
                                   const double *psf_rows, const double *detector_rows) {
  pp_status status = PP_SUCCESS;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  /* Without the output there is no communicator to agree on: this rank can only report. */
  PP_CHECK_GOTO(status, output != NULL, PP_ERR_INTERNAL, "pp_output_write_psf_rows: no output");

  pp_status local = PP_SUCCESS;
  size_t os = output->oversample;
  if (row0 > output->ny || nrows > output->ny - row0)
    local = pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                           "PSF rows %zu + %zu are out of range: /psf has %zu rows", row0, nrows,
                           output->ny);
  else if (nrows > 0 && psf_rows == NULL)
    local = pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                           "PSF rows %zu + %zu: no data given", row0, nrows);
  else if (detector_rows && nrows > 0 && (row0 % os != 0 || nrows % os != 0))
    local = pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                           "PSF rows %zu + %zu do not cover whole detector rows (oversample %zu)",
                           row0, nrows, os);
  status = pp_agree(output->comm, local);
  if (status != PP_SUCCESS) goto done;

  int mine = detector_rows != NULL, any_detector = 0;
  PP_CHECK_GOTO(status,
                MPI_Allreduce(&mine, &any_detector, 1, MPI_INT, MPI_LOR, output->comm) ==
                    MPI_SUCCESS,
                PP_ERR_MPI, "MPI_Allreduce failed while writing /psf");

  /* Both collective writes are always made, whatever the first returned, so that no rank
   * is left alone inside the second one. */
  local = pp_output_write_band(output, output->psf, "/psf", output->nx, row0, nrows, psf_rows);
  if (any_detector) {
    size_t detector_nrows = detector_rows ? nrows / os : 0;
    pp_status detector_status =
        pp_output_write_band(output, output->psf_detector, "/psf_detector", output->detector_nx,
                             row0 / os, detector_nrows, detector_rows);
    if (local == PP_SUCCESS) local = detector_status;
    else pp_status_free(detector_status);
  }
  status = pp_agree(output->comm, local);
done:
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}

pp_status pp_output_sync(pp_output *output) {
  pp_status status = PP_SUCCESS;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, output != NULL, PP_ERR_INTERNAL, "pp_output_sync: no output");
  status = pp_output_commit(output);
done:
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}

pp_status pp_output_close_as(pp_output **output, pp_output_close_mode mode) {
  if (output == NULL || *output == NULL) return PP_SUCCESS;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  pp_output *out = *output;
  *output = NULL;
  pp_status status = pp_output_finish(out, mode);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}

pp_status pp_output_close(pp_output **output, bool success) {
  return pp_output_close_as(output, success ? PP_OUTPUT_PUBLISH : PP_OUTPUT_DISCARD);
}
