/* What the detector did to /psf and /psf_detector (jitter, charge diffusion, IPC), written
 * once the convolved PSF is on disk: the attributes that record each effect, and, when the
 * job keeps it, the PSF before them. Everything here is collective: attributes and dataset
 * creation are metadata, and rank 0 writes the unconvolved images while the others take
 * part with empty selections. */
#define POLYPSF_IO_PACKAGE
#include <string.h>

#include "io/io_private.h"

/* Replaces an existing string attribute (dataset descriptions written at create). */
static pp_status pp_output_rewrite_string(hid_t object, const char *name, const char *value) {
  if (H5Aexists(object, name) > 0)
    PP_CHECK(H5Adelete(object, name) >= 0, PP_ERR_IO, "cannot replace attribute '%s'", name);
  return pp_io_attr_write_string(object, name, value);
}

/* Creates `name` [ny][nx] float64 and writes rank 0's image into it. */
static pp_status pp_output_write_whole_image(pp_output *out, const char *name, size_t ny,
                                             size_t nx, const double *image,
                                             const char *description, double pixelscale) {
  pp_status status = PP_SUCCESS;
  hid_t dataset = H5I_INVALID_HID, file_space = H5I_INVALID_HID, mem_space = H5I_INVALID_HID;
  const hsize_t dims[2] = {ny, nx};
  PP_CALL_GOTO(status, pp_output_dataset_create(out->file, name, H5T_IEEE_F64LE, 2, dims,
                                                &dataset));
  PP_CALL_GOTO(status, pp_io_attr_write_string(dataset, "description", description));
  PP_CALL_GOTO(status, pp_io_attr_write_string(dataset, "units", "1"));
  PP_CALL_GOTO(status, pp_io_attr_write_double(dataset, "pixelscale_arcsec", pixelscale));
  file_space = H5Dget_space(dataset);
  mem_space = H5Screate_simple(2, dims, NULL);
  PP_H5_CHECK_GOTO(status, file_space >= 0 && mem_space >= 0, PP_ERR_LIBRARY,
                   "cannot make the dataspaces of %s", name);
  bool writes = out->rank == 0 && image != NULL;
  if (!writes) {
    H5Sselect_none(file_space);
    H5Sselect_none(mem_space);
  }
  double no_data = 0.0;
  PP_H5_CHECK_GOTO(status,
                   H5Dwrite(dataset, H5T_NATIVE_DOUBLE, mem_space, file_space,
                            out->dxpl_collective, writes ? image : &no_data) >= 0,
                   PP_ERR_IO, "cannot write %s to '%s'", name, out->partial_path);
done:
  pp_formats_hdf5_close(&file_space);
  pp_formats_hdf5_close(&mem_space);
  pp_formats_hdf5_close(&dataset);
  return status;
}

static pp_status pp_output_detector_attributes(pp_output *out, const pp_detector_spec *detector,
                                               double psf_pixelscale_arcsec) {
  hid_t root = out->file;
  char applied[96] = "";
  if (detector->jitter_sigma_arcsec > 0.0) strcat(applied, "jitter");
  if (detector->charge_diffusion_sigma_px > 0.0)
    strcat(applied, applied[0] ? ", charge_diffusion" : "charge_diffusion");
  if (detector->has_ipc_kernel) strcat(applied, applied[0] ? ", ipc" : "ipc");
  PP_CALL(pp_io_attr_write_string(root, "detector_effects", applied));

  PP_CALL(pp_output_rewrite_string(
      out->psf, "description",
      "polychromatic PSF, sum over i of weights[i] * cube[i], oversampled detector pixels, "
      "indexed (y, x); then blurred by the detector: pointing jitter (a Gaussian of "
      "jitter_sigma_px pixels), then charge diffusion (a Gaussian of charge_diffusion_sigma_px "
      "pixels), each as scipy.ndimage.gaussian_filter (mode reflect, truncate 4.0); an effect "
      "of sigma 0 is not applied"));
  PP_CALL(pp_io_attr_write_double(out->psf, "jitter_sigma_arcsec", detector->jitter_sigma_arcsec));
  PP_CALL(pp_io_attr_write_double(out->psf, "jitter_sigma_px",
                                  detector->jitter_sigma_arcsec / psf_pixelscale_arcsec));
  PP_CALL(pp_io_attr_write_double(out->psf, "charge_diffusion_sigma_detector_px",
                                  detector->charge_diffusion_sigma_px));
  PP_CALL(pp_io_attr_write_double(out->psf, "charge_diffusion_sigma_px",
                                  detector->charge_diffusion_sigma_px * detector->oversample));
  PP_CALL(pp_output_rewrite_string(
      out->psf_detector, "description",
      detector->has_ipc_kernel
          ? "/psf rebinned to detector pixels (each value the sum of oversample x oversample "
            "pixels of /psf), then convolved with the interpixel-capacitance kernel ipc_kernel "
            "(3 x 3, row-major, pixels outside the image taken as 0)"
          : "/psf rebinned to detector pixels: each value is the sum of oversample x oversample "
            "pixels of /psf (flux-conserving)"));
  if (detector->has_ipc_kernel)
    PP_CALL(pp_io_attr_write_double_array(out->psf_detector, "ipc_kernel", detector->ipc_kernel,
                                          9));
  return PP_SUCCESS;
}

pp_status pp_output_write_detector_effects(pp_output *output, const pp_detector_spec *detector,
                                           double psf_pixelscale_arcsec, bool keep_unconvolved,
                                           const double *unconvolved_psf,
                                           const double *unconvolved_detector) {
  pp_status status = PP_SUCCESS;
  pp_formats_hdf5_quiet quiet;
  pp_formats_hdf5_quiet_begin(&quiet);
  PP_CHECK_GOTO(status, output != NULL && detector != NULL, PP_ERR_INTERNAL,
                "pp_output_write_detector_effects: no output");
  pp_status local = pp_output_detector_attributes(output, detector, psf_pixelscale_arcsec);
  if (local == PP_SUCCESS && keep_unconvolved)
    local = pp_output_write_whole_image(
        output, "psf_unconvolved", output->ny, output->nx, unconvolved_psf,
        "/psf before the detector effects: the sum over i of weights[i] * cube[i]",
        psf_pixelscale_arcsec);
  if (local == PP_SUCCESS && keep_unconvolved)
    local = pp_output_write_whole_image(
        output, "psf_detector_unconvolved", output->detector_ny, output->detector_nx,
        unconvolved_detector, "/psf_unconvolved rebinned to detector pixels (sums of "
        "oversample x oversample pixels), no interpixel capacitance",
        psf_pixelscale_arcsec * (double)output->oversample);
  status = pp_agree(output->comm, local);
done:
  H5Eclear2(H5E_DEFAULT);
  pp_formats_hdf5_quiet_end(&quiet);
  return status;
}
