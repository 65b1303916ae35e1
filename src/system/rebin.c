/* Detector sampling: the oversampled PSF summed over oversample × oversample blocks,
 * as POPPY does for its DET_SAMP extension (flux is conserved, not averaged). */
#include "polypsf/system.h"

pp_status pp_psf_rebin(const double *in, size_t ny, size_t nx, int factor, double *out) {
  PP_CHECK(in != NULL && out != NULL, PP_ERR_INTERNAL, "pp_psf_rebin needs an input and an output");
  PP_CHECK(factor >= 1, PP_ERR_INPUT, "rebin factor must be at least 1, got %d", factor);
  size_t f = (size_t)factor;
  PP_CHECK(ny % f == 0 && nx % f == 0, PP_ERR_INPUT,
           "a %zu × %zu PSF does not divide into %d × %d blocks", ny, nx, factor, factor);
  size_t out_ny = ny / f, out_nx = nx / f;
  for (size_t p = 0; p < out_ny * out_nx; p++) out[p] = 0.0;
  /* Row by row through the input (contiguous reads), each row adding into its output row. */
  for (size_t y = 0; y < ny; y++) {
    const double *row = in + y * nx;
    double *out_row = out + (y / f) * out_nx;
    for (size_t ox = 0; ox < out_nx; ox++) {
      double block_row_sum = 0.0;
      for (size_t k = 0; k < f; k++) block_row_sum += row[ox * f + k];
      out_row[ox] += block_row_sum;
    }
  }
  return PP_SUCCESS;
}
