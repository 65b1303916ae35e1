/* Private to src/propagate: what the padded-FFT engines (fft.c: FFTW 2-D plans,
 * fft_passes.c: 1-D passes) share. Never installed. */
#ifndef POLYPSF_PROPAGATE_FFT_PRIVATE_H
#define POLYPSF_PROPAGATE_FFT_PRIVATE_H

#include <complex.h>
#include <stddef.h>

/* fftshift of an even × even array scaled by factor: fftshift is then its own inverse, a
 * swap of diagonally opposite quadrants, one pass (fft.c). */
void pp_fft_swap_quadrants_scaled(double complex *a, size_t ny, size_t nx, double factor);

#endif
