/* Private to src/propagate: what the padded-FFT engines (fft.c: FFTW 2-D plans,
 * fft_passes.c: 1-D passes) share. Never installed. */
#ifndef POLYPSF_PROPAGATE_FFT_PRIVATE_H
#define POLYPSF_PROPAGATE_FFT_PRIVATE_H

#include <complex.h>
#include <stddef.h>

/* fftshift of an even × even array scaled by factor: fftshift is then its own inverse, a
 * swap of diagonally opposite quadrants, one pass (fft.c). */
void pp_fft_swap_quadrants_scaled(double complex *a, size_t ny, size_t nx, double factor);

/* line[x] *= py · phasor[x] for x < count: one row of a separable phase exp(i·a·(x² + y²))
 * (the Fresnel steps' quadratic phases and transfer functions). Written in real arithmetic:
 * C's complex `*` checks every result for NaN (Annex G), which keeps the loop from being
 * vectorised; the phasors and the field are finite, and the operations are the same ones in
 * the same order, so whether a pass of its own or the FFT's passes apply it (fft_passes.c),
 * the bits are the same. */
static inline void pp_phase_row(double complex *line, const double complex *phasor,
                                double complex py, size_t count) {
  double *f = (double *)line;
  const double *p = (const double *)phasor;
  double pr = creal(py), pi = cimag(py);
  for (size_t x = 0; x < count; x++) {
    double qr = pr * p[2 * x] - pi * p[2 * x + 1];
    double qi = pr * p[2 * x + 1] + pi * p[2 * x];
    double fr = f[2 * x], fi = f[2 * x + 1];
    f[2 * x] = fr * qr - fi * qi;
    f[2 * x + 1] = fr * qi + fi * qr;
  }
}

#endif
