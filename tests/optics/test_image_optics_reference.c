/* The image-plane optics and the FQPM aligners against POPPY 1.1's fqpm_coronagraph
 * (../shared/reference, see its README), before any system wires them: the pipeline is
 * spelled out here, plane by plane, with the optics module, the FFT of src/propagate
 * (pp_fft_pad / pp_fft_propagate / pp_fft_crop) and a direct MFT written from DESIGN.md:
 *
 *   circular_aperture r = 3 m (gray) on 256 × 256 pixels of 6 m / 256, normalized 'first'
 *   fqpm_fft_aligner forward      pp_optic_apply_pupil_fft on the 256 × 256 field, FFT size 1024
 *   pad to 1024 × 1024            pp_fft_pad (×4, fft_oversample)
 *   FFT pupil → image             pp_fft_propagate PUPIL_TO_IMAGE
 *   ideal_fqpm λ0 = 2 µm          pp_optic_apply_image, 1024 × 1024 of λ/(4·6 m) arcsec,
 *                                 PP_IMAGE_CENTER_ARRAY (POPPY 'corner', set by the aligner)
 *   FFT image → pupil             pp_fft_propagate IMAGE_TO_PUPIL
 *   fqpm_fft_aligner backward     on the padded 1024 × 1024 field
 *   circular_aperture r = 2.7 m   (the Lyot stop) on the padded grid, same 6/256 m pixels
 *   crop to 256 × 256             pp_fft_crop (POPPY removes the padding before the MFT)
 *   MFT to the detector           64 px of 0.02 arcsec × oversample 2: 128 × 128 of 0.01 arcsec
 *
 * Asks, as the reference README does for coronagraphs: max|polypsf − POPPY| ≤ 1e-9 × the
 * unocculted peak, total within 1 %; and the unocculted peak itself (the same chain without
 * the mask and the aligners) to 1e-6. Skips (77) when the reference file is not there. */
#include <complex.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pp_test.h"
#include "polypsf/optics.h"
#include "polypsf/propagate.h"

enum { PUPIL_NPIX = 256, FFT_OVERSAMPLE = 4, FFT_NPIX = PUPIL_NPIX * FFT_OVERSAMPLE, OUT_NPIX = 128 };
static const double pupil_diameter_m = 6.0, design_wavelength_m = 2e-6;
static const double out_pixelscale_arcsec = 0.02 / 2;

#define CHECK_OK(expr, what)                                                                   \
  do {                                                                                         \
    pp_status check_status_ = (expr);                                                          \
    if (check_status_ != PP_SUCCESS) {                                                         \
      PP_TEST_OK(check_status_, what);                                                         \
      goto done;                                                                               \
    }                                                                                          \
  } while (0)

static pp_optic_spec spec_with(const char *type, const char *key, double value) {
  pp_optic_spec spec;
  pp_optic_spec_init(&spec, pp_optic_type_find(type));
  if (key) {
    pp_status status = pp_optic_spec_set(&spec, key, value);
    if (status != PP_SUCCESS) PP_TEST_OK(status, key);
  }
  return spec;
}

/* out[k][l] = norm · Σ_ij A[k][j] in[j][i] A[l][i], A[k][i] = exp(+2πi·x_i·u_k) with
 * x_i = (i − n/2 + 0.5)/n, u_k = (k − m/2 + 0.5)·nlamD/m (DESIGN.md, POPPY's ADJUSTABLE). */
static void mft(const double complex *in, size_t n, size_t m, double nlamd, double complex *out) {
  double complex *kernel = malloc(m * n * sizeof *kernel), *half = calloc(m * n, sizeof *half);
  for (size_t k = 0; k < m; k++)
    for (size_t i = 0; i < n; i++) {
      double x = ((double)i - (double)n / 2 + 0.5) / (double)n;
      double u = ((double)k - (double)m / 2 + 0.5) * nlamd / (double)m;
      kernel[k * n + i] = cexp(2 * PP_PI * I * x * u);
    }
  for (size_t k = 0; k < m; k++)
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < n; i++) half[k * n + i] += kernel[k * n + j] * in[j * n + i];
  double norm = sqrt(nlamd * nlamd / ((double)n * n * m * m));
  for (size_t k = 0; k < m; k++)
    for (size_t l = 0; l < m; l++) {
      double complex sum = 0;
      for (size_t i = 0; i < n; i++) sum += half[k * n + i] * kernel[l * n + i];
      out[k * m + l] = norm * sum;
    }
  free(kernel);
  free(half);
}

/* The chain above at wavelength_m; with_mask false drops the FQPM and both aligners. */
static int fqpm_psf(double wavelength_m, bool with_mask, double *psf) {
  int ok = 0;
  double *amplitude = NULL, *lyot = NULL;
  double complex *pupil = NULL, *padded = NULL, *detector = NULL;
  pp_fft_plan *to_image = NULL, *to_pupil = NULL;
  size_t n = PUPIL_NPIX, big = FFT_NPIX;
  pp_pupil_grid pupil_grid = {n, n, pupil_diameter_m / (double)n};
  pp_pupil_grid padded_grid = {big, big, pupil_diameter_m / (double)n};
  pp_image_grid image_grid = {
      .ny = big, .nx = big,
      .pixelscale_arcsec = pp_fft_image_pixelscale_rad(wavelength_m, pupil_diameter_m,
                                                       FFT_OVERSAMPLE) * PP_ARCSEC_PER_RADIAN,
      .centering = PP_IMAGE_CENTER_ARRAY};
  pp_optic_spec aperture = spec_with("circular_aperture", "radius", 3.0);
  pp_optic_spec stop = spec_with("circular_aperture", "radius", 2.7);
  pp_optic_spec forward = spec_with("fqpm_fft_aligner", NULL, 0);
  pp_optic_spec backward = spec_with("fqpm_fft_aligner", "direction", 1);
  pp_optic_spec mask = spec_with("ideal_fqpm", "wavelength", design_wavelength_m);

  CHECK_OK(pp_array_alloc(n * n * sizeof *amplitude, (void **)&amplitude), "alloc");
  CHECK_OK(pp_array_alloc(big * big * sizeof *lyot, (void **)&lyot), "alloc");
  CHECK_OK(pp_array_alloc(n * n * sizeof *pupil, (void **)&pupil), "alloc");
  CHECK_OK(pp_array_alloc(big * big * sizeof *padded, (void **)&padded), "alloc");
  CHECK_OK(pp_array_alloc(OUT_NPIX * OUT_NPIX * sizeof *detector, (void **)&detector), "alloc");
  CHECK_OK(pp_fft_plan_create(big, big, PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &to_image), "plan");
  CHECK_OK(pp_fft_plan_create(big, big, PP_FFT_FORWARD, PP_FFT_ESTIMATE, &to_pupil), "plan");

  for (size_t p = 0; p < n * n; p++) amplitude[p] = 1.0;
  CHECK_OK(pp_optic_apply_pupil(&aperture, &pupil_grid, amplitude, NULL), "aperture");
  double first = 0;
  for (size_t p = 0; p < n * n; p++) first += amplitude[p] * amplitude[p];
  for (size_t p = 0; p < n * n; p++) pupil[p] = amplitude[p] / sqrt(first);
  if (with_mask) CHECK_OK(pp_optic_apply_pupil_fft(&forward, &pupil_grid, big, big, pupil), "fwd");
  CHECK_OK(pp_fft_pad(pupil, n, n, padded, big, big), "pad");
  CHECK_OK(pp_fft_propagate(to_image, padded, padded, PP_FFT_PUPIL_TO_IMAGE), "to image");
  if (with_mask) CHECK_OK(pp_optic_apply_image(&mask, &image_grid, wavelength_m, padded), "fqpm");
  CHECK_OK(pp_fft_propagate(to_pupil, padded, padded, PP_FFT_IMAGE_TO_PUPIL), "to pupil");
  if (with_mask) CHECK_OK(pp_optic_apply_pupil_fft(&backward, &padded_grid, big, big, padded), "bwd");
  for (size_t p = 0; p < big * big; p++) lyot[p] = 1.0;
  CHECK_OK(pp_optic_apply_pupil(&stop, &padded_grid, lyot, NULL), "Lyot stop");
  for (size_t p = 0; p < big * big; p++) padded[p] *= lyot[p];
  CHECK_OK(pp_fft_crop(padded, big, big, pupil, n, n), "crop");
  double lambda_over_d_arcsec = wavelength_m / pupil_diameter_m * PP_ARCSEC_PER_RADIAN;
  mft(pupil, n, OUT_NPIX, OUT_NPIX * out_pixelscale_arcsec / lambda_over_d_arcsec, detector);
  for (size_t p = 0; p < OUT_NPIX * OUT_NPIX; p++)
    psf[p] = creal(detector[p]) * creal(detector[p]) + cimag(detector[p]) * cimag(detector[p]);
  ok = 1;
done:
  pp_fft_plan_destroy(&to_image);
  pp_fft_plan_destroy(&to_pupil);
  pp_array_free(&amplitude);
  pp_array_free(&lyot);
  pp_array_free(&pupil);
  pp_array_free(&padded);
  pp_array_free(&detector);
  return ok;
}

int main(void) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  const char *dir = getenv("POLYPSF_REFERENCE_DIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/fqpm_coronagraph.h5", dir ? dir : "");
  hid_t file = dir && dir[0] ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
  if (file < 0) {
    printf("SKIP: %s not readable (POLYPSF_REFERENCE_DIR)\n", path);
    return 77;
  }
  double *reference = malloc(OUT_NPIX * OUT_NPIX * sizeof *reference);
  double *psf = malloc(OUT_NPIX * OUT_NPIX * sizeof *psf);
  double wavelength_m = 0, unocculted_peak = 0;
  hsize_t dims[3] = {0, 0, 0};
  hid_t cube = H5Dopen2(file, "cube_oversampled", H5P_DEFAULT);
  hid_t space = cube >= 0 ? H5Dget_space(cube) : -1;
  int rank = space >= 0 ? H5Sget_simple_extent_dims(space, dims, NULL) : -1;
  PP_TEST_TRUE(rank == 3 && dims[0] == 1 && dims[1] == OUT_NPIX && dims[2] == OUT_NPIX,
               "reference cube is 1 × 128 × 128");
  PP_TEST_TRUE(rank == 3 && H5Dread(cube, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                    reference) >= 0, "reference cube read");
  hid_t wavelengths = H5Dopen2(file, "wavelengths", H5P_DEFAULT);
  PP_TEST_TRUE(wavelengths >= 0 && H5Dread(wavelengths, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                                           H5P_DEFAULT, &wavelength_m) >= 0,
               "reference wavelength read");
  hid_t peak_attr = H5Aopen(file, "unocculted_peak", H5P_DEFAULT);
  PP_TEST_TRUE(peak_attr >= 0 && H5Aread(peak_attr, H5T_NATIVE_DOUBLE, &unocculted_peak) >= 0,
               "unocculted_peak read");
  if (peak_attr >= 0) H5Aclose(peak_attr);
  if (wavelengths >= 0) H5Dclose(wavelengths);
  if (space >= 0) H5Sclose(space);
  if (cube >= 0) H5Dclose(cube);
  H5Fclose(file);
  if (pp_test_.failed) return pp_test_finish();

  PP_TEST_TRUE(fqpm_psf(wavelength_m, false, psf), "the chain without mask and aligners runs");
  double peak = 0;
  for (size_t p = 0; p < OUT_NPIX * OUT_NPIX; p++) peak = fmax(peak, psf[p]);
  PP_TEST_NEAR(peak / unocculted_peak, 1.0, 1e-6, "unocculted peak / POPPY's unocculted_peak");

  PP_TEST_TRUE(fqpm_psf(wavelength_m, true, psf), "the FQPM chain runs");
  double worst = 0, total = 0, reference_total = 0;
  for (size_t p = 0; p < OUT_NPIX * OUT_NPIX; p++) {
    worst = fmax(worst, fabs(psf[p] - reference[p]));
    total += psf[p];
    reference_total += reference[p];
  }
  printf("fqpm_coronagraph: max|polypsf − POPPY| / unocculted peak = %.3g; total %.9g vs POPPY "
         "%.9g\n", worst / unocculted_peak, total, reference_total);
  PP_TEST_NEAR(worst / unocculted_peak, 0, 1e-9,
               "fqpm_coronagraph: max|polypsf − POPPY| / unocculted peak");
  PP_TEST_NEAR(total / reference_total, 1.0, 1e-2, "fqpm_coronagraph: total within 1 %");
  free(reference);
  free(psf);
  return pp_test_finish();
}
