/* The /grid group of a PSF grid: one polychromatic PSF per field point, its detector-sampled
 * image, the points, and optionally the slices as [point][λ]. Created once every task is on
 * disk (the run's finish), so a stopped grid resumes from /cube alone. Collective throughout:
 * creation is metadata, and each image is written by row bands, every rank its own. */
#define POLYPSF_IO_PACKAGE
#include <string.h>

#include "io/io_private.h"

static const char *const pp_io_grid_dataset_names[PP_IO_GRID_DATASETS] = {"psf", "psf_detector",
                                                                         "cube"};

/* Opens /grid's images once (the cube only when the file has one). Collective (metadata). */
static pp_status pp_output_grid_open(pp_output *output) {
  for (int k = 0; k < PP_IO_GRID_DATASETS; k++) {
    char path[32];
    snprintf(path, sizeof path, "grid/%s", pp_io_grid_dataset_names[k]);
    if (output->grid_datasets[k] >= 0 || H5Lexists(output->file, path, H5P_DEFAULT) <= 0) continue;
    output->grid_datasets[k] = H5Dopen2(output->file, path, H5P_DEFAULT);
    PP_CHECK(output->grid_datasets[k] >= 0, PP_ERR_IO, "cannot open /%s in '%s'", path,
             output->partial_path);
  }
  return PP_SUCCESS;
}

/* A resumed grid whose finish had begun to blur its sums (the resume cleared every flag in
 * memory): the cleared flags to storage first, then the mark away, so that a crash between
 * the two leaves the mark, never flags over blurred images. Collective. */
static pp_status pp_output_grid_clear_rewritten(pp_output *output) {
  PP_CALL(pp_io_write_from_root(output, output->completed, H5T_NATIVE_UCHAR,
                                output->completed_flags, "/status/completed"));
  PP_CHECK(H5Fflush(output->file, H5F_SCOPE_GLOBAL) >= 0 &&
               H5Adelete_by_name(output->file, "grid", PP_IO_GRID_REWRITTEN, H5P_DEFAULT) >= 0,
           PP_ERR_IO, "cannot clear the finish's mark on /grid in '%s'", output->partial_path);
  return PP_SUCCESS;
}

pp_status pp_output_grid_create(pp_output *output, size_t n_points, const double *points_arcsec,
                                const double *detector_xy, size_t n_lambda, bool with_cube) {
  pp_status status = PP_SUCCESS, local = PP_SUCCESS;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  hid_t group = H5I_INVALID_HID, dataset = H5I_INVALID_HID, points = H5I_INVALID_HID;
  hid_t file_space = H5I_INVALID_HID;
  PP_CHECK_GOTO(status, output != NULL, PP_ERR_INTERNAL, "pp_output_grid_create: no output");
  /* A resumed grid's file has it already (the same on every rank: metadata). */
  if (H5Lexists(output->file, "grid", H5P_DEFAULT) > 0) {
    local = pp_output_grid_open(output);
    if (!local && H5Aexists_by_name(output->file, "grid", PP_IO_GRID_REWRITTEN, H5P_DEFAULT) > 0)
      local = pp_output_grid_clear_rewritten(output);
    goto agree;
  }
  group = H5Gcreate2(output->file, "grid", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (group < 0) {
    local = pp_error_raise(PP_ERR_IO, __FILE__, __LINE__, __func__, "cannot create /grid in '%s'",
                           output->partial_path);
    goto agree;
  }
  local = pp_io_attr_write_string(group, "description",
                                  "a PSF grid: psf[p] is the polychromatic PSF at field point "
                                  "points[p] (x, y arcsec), each centred in its stamp");
  if (!local) local = pp_io_attr_write_int64(group, "n_points", (long long)n_points);
  if (!local) local = pp_io_attr_write_int64(group, "n_wavelengths", (long long)n_lambda);
  const hsize_t psf_dims[3] = {n_points, output->ny, output->nx};
  const hsize_t det_dims[3] = {n_points, output->detector_ny, output->detector_nx};
  const hsize_t point_dims[2] = {n_points, 2};
  const hsize_t cube_dims[4] = {n_points, n_lambda, output->ny, output->nx};
  if (!local) local = pp_output_dataset_create(group, "psf", H5T_IEEE_F64LE, 3, psf_dims, &dataset);
  if (!local)
    local = pp_io_attr_write_string(dataset, "description",
                                    "[point][y][x] polychromatic PSF of each field point, "
                                    "weighted over wavelengths as /psf, oversampled pixels, "
                                    "after the detector effects");
  pp_formats_hdf5_close(&dataset);
  if (!local)
    local = pp_output_dataset_create(group, "psf_detector", H5T_IEEE_F64LE, 3, det_dims, &dataset);
  if (!local)
    local = pp_io_attr_write_string(dataset, "description",
                                    "[point][y][x] psf rebinned to detector pixels (sums of "
                                    "oversample x oversample pixels), then IPC if any");
  pp_formats_hdf5_close(&dataset);
  if (!local && with_cube)
    local = pp_output_dataset_create(group, "cube", H5T_IEEE_F64LE, 4, cube_dims, &dataset);
  if (!local && with_cube)
    local = pp_io_attr_write_string(dataset, "description",
                                    "[point][wavelength][y][x] monochromatic PSFs, normalized "
                                    "as /cube; the same values as /cube[point * n_wavelengths "
                                    "+ wavelength]");
  pp_formats_hdf5_close(&dataset);
  const double *sources[2] = {points_arcsec, detector_xy};
  static const char *const names[2] = {"points", "detector_xy"};
  static const char *const units[2] = {"arcsec", "pixels"};
  static const char *const descriptions[2] = {
      "field point p: [x, y] on the sky",
      "field point p: [x, y] detector pixel (field.detector_pixel, else points / pixelscale)"};
  for (int k = 0; k < 2 && !local; k++) {
    local = pp_output_dataset_create(group, names[k], H5T_IEEE_F64LE, 2, point_dims, &points);
    if (!local) local = pp_io_attr_write_string(points, "units", units[k]);
    if (!local) local = pp_io_attr_write_string(points, "description", descriptions[k]);
    if (!local) {
      file_space = H5Dget_space(points);
      hid_t mem_space = H5Screate_simple(2, point_dims, NULL);
      if (output->rank != 0) {
        H5Sselect_none(file_space);
        H5Sselect_none(mem_space);
      }
      double no_data = 0.0;
      if (H5Dwrite(points, H5T_NATIVE_DOUBLE, mem_space, file_space, output->dxpl_collective,
                   output->rank == 0 ? sources[k] : &no_data) < 0)
        local = pp_error_raise(PP_ERR_IO, __FILE__, __LINE__, __func__,
                               "cannot write /grid/%s to '%s'", names[k], output->partial_path);
      pp_formats_hdf5_close(&mem_space);
      pp_formats_hdf5_close(&file_space);
    }
    pp_formats_hdf5_close(&points);
  }
  if (!local) local = pp_output_grid_open(output);
agree:
  status = pp_agree(output->comm, local);
done:
  pp_formats_hdf5_close(&file_space);
  pp_formats_hdf5_close(&points);
  pp_formats_hdf5_close(&group);
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}

/* Rows [row0, row0 + nrows) of the image at lead[0..n_lead) of /grid/<name>, read into or
 * written from rows, with transfer property list dxpl: collective (every rank calls; nrows
 * may be 0) or independent (H5P_DEFAULT: only the caller). */
static pp_status pp_output_grid_transfer(pp_output *output, const char *name, const size_t *lead,
                                         int n_lead, size_t row0, size_t nrows, double *rows,
                                         bool write, hid_t dxpl) {
  pp_status local = PP_SUCCESS;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  hid_t dataset = H5I_INVALID_HID, file_space = H5I_INVALID_HID, mem_space = H5I_INVALID_HID;
  char path[64];
  snprintf(path, sizeof path, "grid/%s", name);
  for (int k = 0; k < PP_IO_GRID_DATASETS; k++)
    if (strcmp(name, pp_io_grid_dataset_names[k]) == 0) dataset = output->grid_datasets[k];
  file_space = dataset >= 0 ? H5Dget_space(dataset) : H5I_INVALID_HID;
  if (file_space < 0) {
    local = pp_error_raise(PP_ERR_IO, __FILE__, __LINE__, __func__, "cannot open /%s", path);
    goto done;
  }
  hsize_t dims[4] = {0}, start[4] = {0}, count[4] = {1, 1, 1, 1};
  int rank = H5Sget_simple_extent_dims(file_space, dims, NULL);
  if (rank != n_lead + 2) {
    local = pp_error_raise(PP_ERR_INTERNAL, __FILE__, __LINE__, __func__,
                           "/%s has %d dimensions, not %d", path, rank, n_lead + 2);
    H5Sselect_none(file_space); /* still takes part in a collective transfer */
    nrows = 0;
  }
  for (int d = 0; d < n_lead && local == PP_SUCCESS; d++) start[d] = lead[d];
  start[n_lead] = row0;
  count[n_lead] = nrows;
  count[n_lead + 1] = dims[n_lead + 1];
  hsize_t values = nrows * dims[n_lead + 1];
  const hsize_t mem_dims[1] = {values > 0 ? values : 1};
  mem_space = H5Screate_simple(1, mem_dims, NULL);
  if (nrows > 0) {
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, count, NULL);
  } else {
    H5Sselect_none(file_space);
    H5Sselect_none(mem_space);
  }
  double no_data = 0.0;
  herr_t done_io = write ? H5Dwrite(dataset, H5T_NATIVE_DOUBLE, mem_space, file_space, dxpl,
                                    nrows > 0 ? rows : &no_data)
                         : H5Dread(dataset, H5T_NATIVE_DOUBLE, mem_space, file_space, dxpl,
                                   nrows > 0 ? rows : &no_data);
  if (done_io < 0 && local == PP_SUCCESS)
    local = pp_error_raise(PP_ERR_IO, __FILE__, __LINE__, __func__, "cannot %s /%s %s '%s'",
                           write ? "write" : "read", path, write ? "to" : "from",
                           output->partial_path);
done:
  pp_formats_hdf5_close(&mem_space);
  pp_formats_hdf5_close(&file_space);
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return local;
}

pp_status pp_output_grid_write_rows(pp_output *output, const char *name, const size_t *lead,
                                    int n_lead, size_t row0, size_t nrows, const double *rows) {
  PP_CHECK(output != NULL && n_lead >= 1 && n_lead <= 2, PP_ERR_INTERNAL,
           "pp_output_grid_write_rows: bad arguments");
  return pp_agree(output->comm, pp_output_grid_transfer(output, name, lead, n_lead, row0, nrows,
                                                        (double *)rows, true,
                                                        output->dxpl_collective));
}

pp_status pp_output_grid_read_rows(pp_output *output, const char *name, size_t point,
                                   size_t row0, size_t nrows, double *rows) {
  PP_CHECK(output != NULL, PP_ERR_INTERNAL, "pp_output_grid_read_rows: no output");
  const size_t lead[1] = {point};
  return pp_agree(output->comm, pp_output_grid_transfer(output, name, lead, 1, row0, nrows,
                                                        rows, false, output->dxpl_collective));
}

pp_status pp_output_grid_write_image(pp_output *output, const char *name, size_t point,
                                     const double *image) {
  PP_CHECK(output != NULL && image != NULL, PP_ERR_INTERNAL,
           "pp_output_grid_write_image: NULL argument");
  const size_t lead[1] = {point};
  /* H5P_DEFAULT transfer = independent: only the rank that computed the point writes */
  return pp_output_grid_transfer(output, name, lead, 1, 0, output->ny, (double *)image, true,
                                 H5P_DEFAULT);
}

pp_status pp_output_grid_mark_rewritten(pp_output *output) {
  PP_CHECK(output != NULL, PP_ERR_INTERNAL, "pp_output_grid_mark_rewritten: no output");
  pp_status local = PP_SUCCESS;
  char reason[PP_IO_REASON_BYTES];
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  hid_t group = H5Gopen2(output->file, "grid", H5P_DEFAULT);
  if (group < 0)
    local = pp_error_raise(PP_ERR_IO, __FILE__, __LINE__, __func__, "cannot open /grid in '%s'",
                           output->partial_path);
  /* attributes are metadata: every rank makes the same call */
  if (!local && H5Aexists(group, PP_IO_GRID_REWRITTEN) <= 0)
    local = pp_io_attr_write_int64(group, PP_IO_GRID_REWRITTEN, 1);
  pp_formats_hdf5_close(&group);
  /* the flush is collective: every rank makes it, whatever happened before */
  if (H5Fflush(output->file, H5F_SCOPE_GLOBAL) < 0 && local == PP_SUCCESS)
    local = pp_formats_hdf5_error(PP_ERR_IO, __FILE__, __LINE__, __func__, "cannot flush '%s'%s",
                                  output->partial_path,
                                  pp_io_storage_reason(output->partial_path, reason));
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return pp_agree(output->comm, local);
}
