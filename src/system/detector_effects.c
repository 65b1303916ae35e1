/* Detector effects on a polychromatic PSF: pointing jitter and charge diffusion (Gaussian
 * blurs of the oversampled PSF, with scipy.ndimage.gaussian_filter's rules so that a jittered
 * PSF matches POPPY's Instrument._apply_jitter), then interpixel capacitance on the
 * detector-sampled PSF. docs/grids.md gives the order and the conventions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/system.h"

/* scipy's default truncate: the kernel reaches truncate·sigma pixels each side. */
#define PP_GAUSSIAN_TRUNCATE 4.0

/* Index i of an axis of n samples extended by half-sample symmetric reflection (scipy's
 * 'reflect'): period 2n, the second half mirrored. Works for any distance outside. */
static size_t pp_reflect_index(long long i, size_t n) {
  long long period = 2 * (long long)n, m = i % period;
  if (m < 0) m += period;
  return (size_t)(m < (long long)n ? m : period - 1 - m);
}

/* weights[0..radius]: the half of the normalized kernel exp(−x²/(2σ²)), x = −radius…radius,
 * divided by its sum over the whole kernel. */
static void pp_gaussian_half_kernel(double sigma_px, size_t radius, double *weights) {
  double sum = 0.0;
  for (size_t x = 0; x <= radius; x++) {
    weights[x] = exp(-0.5 / (sigma_px * sigma_px) * (double)x * (double)x);
    sum += x == 0 ? weights[x] : 2.0 * weights[x];
  }
  for (size_t x = 0; x <= radius; x++) weights[x] /= sum;
}

/* One axis: out[i] = w0·in[i] + Σ_{j=1..radius} wj·(in[i−j] + in[i+j]) along y (axis 0)
 * or x (axis 1), as scipy's correlate1d sums a symmetric kernel. */
static void pp_gaussian_pass(const double *in, size_t ny, size_t nx, int axis,
                             const double *weights, size_t radius, double *out) {
  if (axis == 0) {
    for (size_t y = 0; y < ny; y++) {
      double *row_out = out + y * nx;
      const double *centre = in + y * nx;
      for (size_t x = 0; x < nx; x++) row_out[x] = centre[x] * weights[0];
      for (size_t j = 1; j <= radius; j++) {
        const double *below = in + pp_reflect_index((long long)y - (long long)j, ny) * nx;
        const double *above = in + pp_reflect_index((long long)y + (long long)j, ny) * nx;
        for (size_t x = 0; x < nx; x++) row_out[x] += (below[x] + above[x]) * weights[j];
      }
    }
    return;
  }
  for (size_t y = 0; y < ny; y++) {
    const double *row = in + y * nx;
    double *row_out = out + y * nx;
    for (size_t x = 0; x < nx; x++) {
      double sum = row[x] * weights[0];
      for (size_t j = 1; j <= radius; j++)
        sum += (row[pp_reflect_index((long long)x - (long long)j, nx)] +
                row[pp_reflect_index((long long)x + (long long)j, nx)]) * weights[j];
      row_out[x] = sum;
    }
  }
}

pp_status pp_gaussian_filter_reflect(const double *in, size_t ny, size_t nx, double sigma_px,
                                     double *out) {
  PP_CHECK(in && out && in != out, PP_ERR_INTERNAL,
           "pp_gaussian_filter_reflect needs distinct input and output");
  PP_CHECK(isfinite(sigma_px) && sigma_px >= 0.0, PP_ERR_INPUT,
           "a Gaussian sigma must be finite and >= 0 pixels, got %g", sigma_px);
  size_t n = ny * nx;
  /* scipy skips an axis whose sigma is not above 1e-15 */
  if (sigma_px <= 1e-15) {
    memcpy(out, in, n * sizeof *out);
    return PP_SUCCESS;
  }
  size_t radius = (size_t)(PP_GAUSSIAN_TRUNCATE * sigma_px + 0.5);
  double *weights = malloc((radius + 1) * sizeof *weights);
  double *between = malloc((n ? n : 1) * sizeof *between);
  if (!weights || !between) {
    free(weights);
    free(between);
    PP_CHECK(false, PP_ERR_MEMORY, "out of memory for a %zu x %zu Gaussian filter", ny, nx);
  }
  pp_gaussian_half_kernel(sigma_px, radius, weights);
  pp_gaussian_pass(in, ny, nx, 0, weights, radius, between);
  pp_gaussian_pass(between, ny, nx, 1, weights, radius, out);
  free(weights);
  free(between);
  return PP_SUCCESS;
}

pp_status pp_ipc_convolve(const double *in, size_t ny, size_t nx, const double kernel[9],
                          double *out) {
  PP_CHECK(in && out && kernel && in != out, PP_ERR_INTERNAL,
           "pp_ipc_convolve needs distinct input and output and a kernel");
  for (size_t y = 0; y < ny; y++)
    for (size_t x = 0; x < nx; x++) {
      double sum = 0.0;
      /* convolution: kernel cell (ky, kx) carries charge from pixel (y − (ky−1), x − (kx−1)) */
      for (int ky = 0; ky < 3; ky++) {
        long long sy = (long long)y - (ky - 1);
        if (sy < 0 || sy >= (long long)ny) continue;
        for (int kx = 0; kx < 3; kx++) {
          long long sx = (long long)x - (kx - 1);
          if (sx < 0 || sx >= (long long)nx) continue;
          sum += kernel[ky * 3 + kx] * in[(size_t)sy * nx + (size_t)sx];
        }
      }
      out[y * nx + x] = sum;
    }
  return PP_SUCCESS;
}

pp_status pp_detector_effects_apply(const pp_detector_spec *detector,
                                    double psf_pixelscale_arcsec, const double *psf, size_t ny,
                                    size_t nx, double *psf_out, double *detector_out) {
  PP_CHECK(detector && psf && psf_out && detector_out && psf_pixelscale_arcsec > 0.0,
           PP_ERR_INTERNAL, "pp_detector_effects_apply: missing argument");
  int os = detector->oversample;
  size_t n = ny * nx, detector_n = (ny / (size_t)os) * (nx / (size_t)os);
  double *work = malloc((n ? n : 1) * sizeof *work);
  double *rebinned = malloc((detector_n ? detector_n : 1) * sizeof *rebinned);
  pp_status status = PP_SUCCESS;
  PP_CHECK_GOTO(status, work && rebinned, PP_ERR_MEMORY,
                "out of memory for the detector effects on a %zu x %zu PSF", ny, nx);
  /* POPPY divides the jitter sigma by the oversampled pixel scale (the PSF's PIXELSCL) */
  PP_CALL_GOTO(status, pp_gaussian_filter_reflect(
                           psf, ny, nx, detector->jitter_sigma_arcsec / psf_pixelscale_arcsec,
                           work));
  PP_CALL_GOTO(status, pp_gaussian_filter_reflect(
                           work, ny, nx, detector->charge_diffusion_sigma_px * (double)os,
                           psf_out));
  PP_CALL_GOTO(status, pp_psf_rebin(psf_out, ny, nx, os, rebinned));
  if (detector->has_ipc_kernel)
    PP_CALL_GOTO(status, pp_ipc_convolve(rebinned, ny / (size_t)os, nx / (size_t)os,
                                         detector->ipc_kernel, detector_out));
  else memcpy(detector_out, rebinned, detector_n * sizeof *detector_out);
done:
  free(work);
  free(rebinned);
  return status;
}
