/* POPPY's Fresnel propagators (src/propagate/fresnel_steps.c) against invariants and an
 * analytic beam:
 *   - a plane-to-plane step conserves Σ|E|² to 1e-12 (the transfer function has modulus 1
 *     and the FFTs are unitary);
 *   - plane to plane over dz then −dz returns the field to 1e-10 of its peak; waist to
 *     spherical over dz then spherical to waist over −dz likewise, and gives back the pixel
 *     scale;
 *   - a Gaussian beam of waist w₀ propagated plane to plane has the second moment of a
 *     Gaussian of radius w(z) = w₀·sqrt(1 + (z/z_R)²), z_R = π·w₀²/λ (to 1e-6);
 * each with the 1-D pass engine (fft_engine: passes) and with FFTW's 2-D plans, and the two
 * engines' plane-to-plane results equal to 1e-12 of the peak. */
#include <complex.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/propagate.h"
#include "pp_test.h"

enum { N = 256 };

static double pp_energy(const double complex *f) {
  double e = 0.0;
  for (size_t i = 0; i < (size_t)N * N; i++) e += creal(f[i] * conj(f[i]));
  return e;
}

static double pp_max_difference(const double complex *a, const double complex *b) {
  double worst = 0.0, peak = 0.0;
  for (size_t i = 0; i < (size_t)N * N; i++) {
    worst = fmax(worst, cabs(a[i] - b[i]));
    peak = fmax(peak, cabs(b[i]));
  }
  return worst / peak;
}

/* An aperture of radius 0.3 m with a deterministic rough phase (a simple LCG), axis at (0, 0). */
static void pp_rough_field(double complex *f, double pixelscale_m) {
  unsigned long long state = 12345;
  for (size_t iy = 0; iy < N; iy++)
    for (size_t ix = 0; ix < N; ix++) {
      double y = (iy < N / 2 ? (double)iy : (double)iy - N) * pixelscale_m;
      double x = (ix < N / 2 ? (double)ix : (double)ix - N) * pixelscale_m;
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      double phase = (double)(state >> 11) / 9007199254740992.0 * 0.5;
      f[iy * N + ix] = x * x + y * y < 0.09 ? cexp(I * phase) : 0.0;
    }
}

/* The checks above with one engine; the rough field after its 250 m step into step_250. */
static void pp_check_steps(bool passes, double complex *step_250) {
  printf("engine: %s\n", passes ? "1-D passes" : "FFTW 2-D plans");
  pp_fresnel_plans plans;
  PP_TEST_OK(pp_fresnel_plans_create(N, PP_FFT_ESTIMATE, passes, &plans), "plans");
  double complex *field = NULL, *start = NULL;
  PP_TEST_OK(pp_array_alloc((size_t)N * N * sizeof *field, (void **)&field), "alloc");
  PP_TEST_OK(pp_array_alloc((size_t)N * N * sizeof *start, (void **)&start), "alloc");
  double pixelscale_m = 1.0 / 128.0, wavelength_m = 1.0e-6;

  pp_rough_field(field, pixelscale_m);
  memcpy(start, field, (size_t)N * N * sizeof *field);
  double before = pp_energy(field);
  PP_TEST_OK(pp_fresnel_plane_to_plane(&plans, field, N, pixelscale_m, wavelength_m, 250.0),
             "plane to plane 250 m");
  PP_TEST_NEAR(pp_energy(field) / before, 1.0, 1e-12, "plane to plane conserves energy");
  PP_TEST_TRUE(pp_max_difference(field, start) > 1e-3, "the step changed the field");
  memcpy(step_250, field, (size_t)N * N * sizeof *field);
  PP_TEST_OK(pp_fresnel_plane_to_plane(&plans, field, N, pixelscale_m, wavelength_m, -250.0),
             "plane to plane back");
  PP_TEST_NEAR(pp_max_difference(field, start), 0.0, 1e-10,
               "plane to plane forward then back returns the field");

  double scale = pixelscale_m;
  PP_TEST_OK(pp_fresnel_waist_to_spherical(&plans, field, N, &scale, wavelength_m, 5000.0),
             "waist to spherical 5 km");
  PP_TEST_NEAR(scale, wavelength_m * 5000.0 / (N * pixelscale_m), 1e-18,
               "spherical pixel scale is λ·dz/(N·dx)");
  PP_TEST_NEAR(pp_energy(field) / before, 1.0, 1e-12, "waist to spherical conserves energy");
  PP_TEST_OK(pp_fresnel_spherical_to_waist(&plans, field, N, &scale, wavelength_m, -5000.0),
             "spherical to waist back");
  PP_TEST_NEAR(scale / pixelscale_m, 1.0, 1e-15, "the pixel scale comes back");
  PP_TEST_NEAR(pp_max_difference(field, start), 0.0, 1e-10,
               "waist to spherical then back returns the field");

  /* The analytic Gaussian beam. */
  double waist_m = 0.1, dz_m = 30000.0, step_m = 0.005;
  double rayleigh_m = PP_PI * waist_m * waist_m / wavelength_m;
  for (size_t iy = 0; iy < N; iy++)
    for (size_t ix = 0; ix < N; ix++) {
      double y = (iy < N / 2 ? (double)iy : (double)iy - N) * step_m;
      double x = (ix < N / 2 ? (double)ix : (double)ix - N) * step_m;
      field[iy * N + ix] = exp(-(x * x + y * y) / (waist_m * waist_m));
    }
  PP_TEST_OK(pp_fresnel_plane_to_plane(&plans, field, N, step_m, wavelength_m, dz_m),
             "Gaussian beam over 30 km");
  double moment = 0.0, total = 0.0;
  for (size_t iy = 0; iy < N; iy++)
    for (size_t ix = 0; ix < N; ix++) {
      double x = (ix < N / 2 ? (double)ix : (double)ix - N) * step_m;
      double intensity = creal(field[iy * N + ix] * conj(field[iy * N + ix]));
      moment += x * x * intensity;
      total += intensity;
    }
  double w_z = waist_m * sqrt(1.0 + (dz_m / rayleigh_m) * (dz_m / rayleigh_m));
  /* |E|² = exp(−2r²/w²): ⟨x²⟩ = w²/4 */
  PP_TEST_NEAR(sqrt(4.0 * moment / total) / w_z, 1.0, 1e-6,
               "Gaussian beam radius after plane to plane is w0·sqrt(1 + (z/zR)²)");

  pp_array_free(&field);
  pp_array_free(&start);
  pp_fresnel_plans_destroy(&plans);
}

int main(void) {
  double complex *by_passes = NULL, *by_2d = NULL;
  PP_TEST_OK(pp_array_alloc((size_t)N * N * sizeof *by_passes, (void **)&by_passes), "alloc");
  PP_TEST_OK(pp_array_alloc((size_t)N * N * sizeof *by_2d, (void **)&by_2d), "alloc");
  pp_check_steps(true, by_passes);
  pp_check_steps(false, by_2d);
  PP_TEST_NEAR(pp_max_difference(by_passes, by_2d), 0.0, 1e-12,
               "the 1-D passes and the 2-D plans give the same plane-to-plane step");
  pp_array_free(&by_passes);
  pp_array_free(&by_2d);
  return pp_test_finish();
}
