/* The output file: created collectively, each cube slice written independently by the
 * rank that computed it, the polychromatic PSF written collectively in row bands, and
 * renamed from <path>.partial to <path> on success. Layout: docs/output-format.md.
 *
 * Completion is two-phase: a slice is written at once but marked in /status/completed
 * only at the next commit (pp_output_sync, close), after H5Fflush has synced every rank's
 * bytes to storage. A flag of 1 in the file therefore always means the slice is on
 * storage, whatever crashed. Reopening a .partial file for --resume: output_resume.c.
 *
 * This file builds the file (pp_output_create); the checks and the struct before it are in
 * output_prepare.c, the writes and the cube read-back in output_write.c, commit and close
 * in output_close.c.
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

/* ---- building the file (collective) ------------------------------------------------ */

static pp_status pp_output_open_file(pp_output *out) {
  pp_status status = PP_SUCCESS;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  PP_H5_CHECK_GOTO(status, fapl >= 0 && H5Pset_fapl_mpio(fapl, out->comm, MPI_INFO_NULL) >= 0,
                   PP_ERR_LIBRARY, "cannot set up MPI-IO access for '%s'", out->partial_path);
  out->partial_created = true;
  out->file = H5Fcreate(out->partial_path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  char reason[PP_IO_REASON_BYTES];
  PP_H5_CHECK_GOTO(status, out->file >= 0, PP_ERR_IO, "cannot create output file '%s'%s",
                   out->partial_path, pp_io_storage_reason(out->partial_path, reason));
  if (out->rank == 0) pp_io_output_remember_partial(out);
done:
  pp_formats_hdf5_close(&fapl);
  return status;
}

/* A contiguous dataset whose space is allocated now and never filled: every element is
 * written by us (or marked not written by /status/completed), and allocation at creation
 * is what lets a single rank write raw data later. */
pp_status pp_output_dataset_create(hid_t location, const char *name, hid_t file_type,
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
  PP_CALL(pp_io_attr_write_double(root, "pixelscale_arcsec",
                                  meta->geometry.psf_pixelscale_arcsec));
  PP_CALL(pp_io_attr_write_string(root, "propagation_mode", pp_propagation_mode_name(job->mode)));
  if (meta->geometry.psf_pixelscale_m > 0.0) /* Fresnel: the result is in metres (docs/fresnel.md) */
    PP_CALL(pp_io_attr_write_double(root, "pixelscale_m", meta->geometry.psf_pixelscale_m));
  PP_CALL(pp_io_attr_write_double(root, "detector_pixelscale_arcsec",
                                  meta->geometry.detector_pixelscale_arcsec));
  PP_CALL(pp_io_attr_write_int64(root, "oversample", meta->geometry.oversample));
  const long long fov_pixels[2] = {(long long)meta->geometry.detector_ny,
                                   (long long)meta->geometry.detector_nx};
  PP_CALL(pp_io_attr_write_int64_array(root, "fov_pixels", fov_pixels, 2));
  PP_CALL(pp_io_attr_write_int64(root, "pupil_npix", (long long)meta->geometry.pupil_npix));
  PP_CALL(pp_io_attr_write_double(root, "pupil_diameter_m", meta->geometry.pupil_diameter_m));
  PP_CALL(pp_io_attr_write_string(root, "normalization",
                                  pp_io_normalize_name((int)job->normalize)));
  PP_CALL(pp_io_attr_write_string(root, "method", pp_io_method_name((int)job->method)));
  PP_CALL(pp_io_attr_write_int64(root, "fft_oversample", meta->geometry.fft_oversample));
  PP_CALL(pp_io_attr_write_int64(root, "n_wavelengths", (long long)job->n_wavelengths));
  PP_CALL(pp_io_attr_write_int64(root, "n_ranks", meta->n_ranks));
  PP_CALL(pp_io_attr_write_int64(root, "n_nodes", meta->n_nodes));
  if (meta->threads_per_rank > 0) /* 0: the caller does not say */
    PP_CALL(pp_io_attr_write_int64(root, "threads_per_rank", meta->threads_per_rank));
  return PP_SUCCESS;
}

static pp_status pp_output_create_image_datasets(pp_output *out, const pp_output_meta *meta) {
  const hsize_t psf_dims[2] = {out->ny, out->nx};
  PP_CALL(pp_output_dataset_create(out->file, "psf", H5T_IEEE_F64LE, 2, psf_dims, &out->psf));
  PP_CALL(pp_io_attr_write_string(out->psf, "description",
                                  "polychromatic PSF, sum over i of weights[i] * cube[i], "
                                  "oversampled detector pixels, indexed (y, x)"));
  PP_CALL(pp_io_attr_write_string(out->psf, "units", "1"));
  PP_CALL(pp_io_attr_write_double(out->psf, "pixelscale_arcsec",
                                  meta->geometry.psf_pixelscale_arcsec));
  if (meta->geometry.psf_pixelscale_m > 0.0)
    PP_CALL(pp_io_attr_write_double(out->psf, "pixelscale_m", meta->geometry.psf_pixelscale_m));
  PP_CALL(pp_io_attr_write_int64(out->psf, "oversample", meta->geometry.oversample));

  const hsize_t detector_dims[2] = {out->detector_ny, out->detector_nx};
  PP_CALL(pp_output_dataset_create(out->file, "psf_detector", H5T_IEEE_F64LE, 2, detector_dims,
                                   &out->psf_detector));
  PP_CALL(pp_io_attr_write_string(out->psf_detector, "description",
                                  "/psf rebinned to detector pixels: each value is the sum of "
                                  "oversample x oversample pixels of /psf (flux-conserving)"));
  PP_CALL(pp_io_attr_write_string(out->psf_detector, "units", "1"));
  PP_CALL(pp_io_attr_write_double(out->psf_detector, "pixelscale_arcsec",
                                  meta->geometry.detector_pixelscale_arcsec));
  if (meta->geometry.psf_pixelscale_m > 0.0)
    PP_CALL(pp_io_attr_write_double(out->psf_detector, "pixelscale_m",
                                    meta->geometry.psf_pixelscale_m));

  if (out->has_cube) {
    const hsize_t cube_dims[3] = {out->n_wavelengths, out->ny, out->nx};
    PP_CALL(pp_output_dataset_create(out->file, "cube", H5T_IEEE_F64LE, 3, cube_dims, &out->cube));
    PP_CALL(pp_io_attr_write_string(out->cube, "description",
                                    "monochromatic PSFs, cube[i] at wavelengths[i], same "
                                    "pixels as /psf; valid where status/completed[i] is 1"));
    PP_CALL(pp_io_attr_write_string(out->cube, "units", "1"));
    PP_CALL(pp_io_attr_write_double(out->cube, "pixelscale_arcsec",
                                    meta->geometry.psf_pixelscale_arcsec));
    if (meta->geometry.psf_pixelscale_m > 0.0)
      PP_CALL(pp_io_attr_write_double(out->cube, "pixelscale_m", meta->geometry.psf_pixelscale_m));
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
  PP_CALL_GOTO(status, pp_io_write_from_root(out, wavelengths, H5T_NATIVE_DOUBLE,
                                                 job->wavelengths_m, "/wavelengths"));
  PP_CALL_GOTO(status,
               pp_output_dataset_create(out->file, "weights", H5T_IEEE_F64LE, 1, dims, &weights));
  PP_CALL_GOTO(status, pp_io_attr_write_string(weights, "units", "1"));
  PP_CALL_GOTO(status, pp_io_attr_write_string(weights, "description",
                                               "spectral weights, normalized to sum 1"));
  PP_CALL_GOTO(status, pp_io_write_from_root(out, weights, H5T_NATIVE_DOUBLE, job->weights,
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
  PP_CALL_GOTO(status, pp_io_write_from_root(out, out->completed, H5T_NATIVE_UCHAR,
                                                 out->completed_flags, "/status/completed"));

  /* The file type is the memory type, padding included: HDF5 records byte order, sizes
   * and offsets, so any platform converts on read, and a write needs no conversion. (A
   * packed file type cost a compound conversion per write: 0.85 ms for 8 rows, measured,
   * more than writing a 128 KiB slice.) */
  task_filetype = H5Tcopy(out->task_memtype);
  PP_H5_CHECK_GOTO(status, task_filetype >= 0, PP_ERR_LIBRARY,
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
  PP_CALL_GOTO(status, pp_io_write_from_root(out, out->tasks, out->task_memtype, blank,
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
 * optic, the kind of plane, the quantity, and the pixel scale at each wavelength as the
 * caller gives it (image planes scale with λ). Collective. */
static pp_status pp_output_create_planes(pp_output *out, const pp_output_meta *meta) {
  if (out->n_planes == 0) return PP_SUCCESS;
  pp_status status = PP_SUCCESS;
  const pp_job *job = meta->job;
  hid_t group = H5I_INVALID_HID, file_type = H5I_INVALID_HID;
  size_t n = out->n_wavelengths;
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
    bool metres = plane->kind == PP_FIELD_PUPIL || meta->geometry.psf_pixelscale_m > 0.0; /* Fresnel */
    PP_CALL_GOTO(status, pp_io_attr_write_double_array(
                             dataset, metres ? "pixelscale_m" : "pixelscale_arcsec",
                             meta->plane_pixelscales + p * n, n));
    if (meta->plane_beam_radii_m)
      PP_CALL_GOTO(status, pp_io_attr_write_double_array(dataset, "beam_radius_m",
                                                         meta->plane_beam_radii_m + p * n, n));
    if (meta->plane_curvatures_m)
      PP_CALL_GOTO(status, pp_io_attr_write_double_array(dataset, "reference_curvature_m",
                                                         meta->plane_curvatures_m + p * n, n));
  }
  PP_CALL_GOTO(status, pp_io_output_open_planes(out, meta));
done:
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
  char reason[PP_IO_REASON_BYTES];
  PP_H5_CHECK_GOTO(status, H5Fflush(out->file, H5F_SCOPE_GLOBAL) >= 0, PP_ERR_IO,
                   "cannot flush '%s'%s", out->partial_path,
                   pp_io_storage_reason(out->partial_path, reason));
done:
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
  pp_io_lock lock = {.fd = -1, .path = NULL};
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
  /* Finished slices in a stopped run's .partial are never discarded without --force. */
  char partial[4096];
  local = rank == 0 ? pp_output_temp_path(path, partial, sizeof partial) : PP_SUCCESS;
  /* The lock before anything reads or truncates the .partial file, so a second run on the
   * same output stops here, whatever it was told (--force too); the directory is checked
   * first, for the usual messages when the lock file cannot go there. */
  if (local == PP_SUCCESS && rank == 0) local = pp_io_output_check_path(path, true);
  if (local == PP_SUCCESS && rank == 0) local = pp_io_lock_take(path, &lock);
  if (local == PP_SUCCESS && rank == 0 && !force)
    local = pp_io_output_check_partial(path, partial, meta);
  if (local == PP_SUCCESS && rank == 0) local = pp_io_output_check_path(path, force);
  if (local == PP_SUCCESS) local = pp_io_output_alloc(path, meta, force, &out);
  if (local == PP_SUCCESS) {
    out->lock = lock; /* released when out is freed, after the file's fate is settled */
    lock = (pp_io_lock){.fd = -1, .path = NULL};
  }
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
      pp_status_free(pp_io_output_finish(out, PP_OUTPUT_DISCARD));
    } else {
      pp_io_output_free(out);
    }
  }
  pp_io_lock_release(&lock); /* taken, but a later check refused: nothing was created */
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}
