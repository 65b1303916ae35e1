/* Writing into the open output file and reading its cube back: one slice by the rank that
 * computed it (independent I/O), intermediate planes, the rows of /cube each rank reads
 * for the reduction, and /psf written collectively in row bands. Split from output.c. */
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

pp_status pp_output_write_slices(pp_output *output, size_t first, size_t count,
                                 const double *psfs, const pp_task_record *records) {
  pp_status status = PP_SUCCESS;
  char reason[PP_IO_REASON_BYTES]; /* filled only when a write fails */
  hid_t mem_space = H5I_INVALID_HID;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, output != NULL && records != NULL && count >= 1, PP_ERR_INTERNAL,
                "pp_output_write_slices: NULL argument or no slice");
  PP_CHECK_GOTO(status, first < output->n_wavelengths && count <= output->n_wavelengths - first,
                PP_ERR_INTERNAL, "slices %zu + %zu are out of range: the file has %zu wavelengths",
                first, count, output->n_wavelengths);
  PP_CHECK_GOTO(status, !output->has_cube || psfs != NULL, PP_ERR_INTERNAL,
                "slices %zu + %zu: no PSF given but the file has a cube", first, count);
  for (size_t k = 0; k < count; k++) {
    size_t index = first + k;
    PP_CHECK_GOTO(status,
                  records[k].method != PP_IO_METHOD_NONE &&
                      pp_io_method_name(records[k].method) != NULL,
                  PP_ERR_INTERNAL, "slice %zu: unknown method %d in the task record", index,
                  records[k].method);
    /* Rewriting would leave a completed flag over bytes in flux until the next commit. */
    PP_CHECK_GOTO(status, !output->completed_flags[index], PP_ERR_INTERNAL,
                  "slice %zu is already completed in '%s'; a resumed run must skip it", index,
                  output->partial_path);
  }

  const hsize_t element_start[1] = {first}, element_count[1] = {count};
  if (output->has_cube) {
    const hsize_t start[3] = {first, 0, 0}, extent[3] = {count, output->ny, output->nx};
    /* one slice: the memory space made once (nothing allocated per task); several: the
     * run's slices as one block */
    if (count > 1) mem_space = H5Screate_simple(3, extent, NULL);
    hid_t memory = count > 1 ? mem_space : output->slice_memspace;
    /* select_all: pp_output_read_cube_rows leaves a band selected in the memory space. */
    PP_H5_CHECK_GOTO(status,
                     memory >= 0 && H5Sselect_all(memory) >= 0 &&
                         H5Sselect_hyperslab(output->cube_space, H5S_SELECT_SET, start, NULL,
                                             extent, NULL) >= 0,
                     PP_ERR_LIBRARY, "cannot select slices %zu + %zu of /cube", first, count);
    /* H5P_DEFAULT transfer = independent: only this rank writes. */
    PP_H5_CHECK_GOTO(status,
                     H5Dwrite(output->cube, H5T_NATIVE_DOUBLE, memory, output->cube_space,
                              H5P_DEFAULT, psfs) >= 0,
                     PP_ERR_IO, "cannot write slices %zu + %zu of /cube to '%s'%s", first, count,
                     output->partial_path, pp_io_storage_reason(output->partial_path, reason));
    pp_formats_hdf5_close(&mem_space);
  }
  if (count > 1) mem_space = H5Screate_simple(1, element_count, NULL);
  hid_t memory = count > 1 ? mem_space : output->element_memspace;
  PP_H5_CHECK_GOTO(status,
                   memory >= 0 && H5Sselect_hyperslab(output->tasks_space, H5S_SELECT_SET,
                                                      element_start, NULL, element_count,
                                                      NULL) >= 0,
                   PP_ERR_LIBRARY, "cannot select rows %zu + %zu of /provenance/tasks", first,
                   count);
  PP_H5_CHECK_GOTO(status,
                   H5Dwrite(output->tasks, output->task_memtype, memory, output->tasks_space,
                            H5P_DEFAULT, records) >= 0,
                   PP_ERR_IO, "cannot write rows %zu + %zu of /provenance/tasks to '%s'%s",
                   first, count, output->partial_path,
                   pp_io_storage_reason(output->partial_path, reason));
  /* The flags themselves wait for the next commit, which first syncs these bytes. */
  memset(output->pending_flags + first, 1, count);
done:
  pp_formats_hdf5_close(&mem_space);
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}

pp_status pp_output_write_slice(pp_output *output, size_t index, const double *psf,
                                const pp_task_record *record) {
  return pp_output_write_slices(output, index, 1, psf, record);
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
  char reason[PP_IO_REASON_BYTES]; /* filled only when a write fails */
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
                   PP_ERR_IO, "cannot write wavelength %zu of plane %zu to '%s'%s", index,
                   view->plane, output->partial_path,
                   pp_io_storage_reason(output->partial_path, reason));
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
  char reason[PP_IO_REASON_BYTES]; /* filled only when a write fails */
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
                   PP_ERR_IO, "cannot write %s to '%s'%s", name, out->partial_path,
                   pp_io_storage_reason(out->partial_path, reason));
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

