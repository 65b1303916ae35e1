/* One PSF through the installed libpolypsf: a clear 2 m circular aperture at 1 µm on a field
 * of 101 × 0.05 arcsec (±24.5 λ/D). Exit 0 only when the peak is on the centre pixel and the
 * PSF (normalized to unit flux in the pupil) sums to 1 less the Airy wings outside the
 * field, 4√2/(π³·24.5) = 7.4e-3, within 2e-3: a 512-pixel pupil keeps 1.1e-3 more light
 * near the core than the continuous one (both measured in tests/physics/test_airy.c). */
#include <math.h>
#include <polypsf/polypsf.h>
#include <stdlib.h>

static const char job_text[] = "pupil: {npix: 512}\n"
                               "wavelengths: {list: [1.0e-6]}\n"
                               "optics: [{circular_aperture: {radius: 1.0}}]\n"
                               "detector: {pixelscale: 0.05, fov_pixels: 101, oversample: 1}\n"
                               "propagation: {method: mft}\n";

int main(void) {
  pp_job *job = NULL;
  pp_system *system = NULL;
  size_t ny = 0, nx = 0, peak = 0;
  pp_status status = pp_job_parse_string(job_text, sizeof job_text - 1, "psf_check", &job);
  if (!status) status = pp_system_create(job, &system);
  if (!status) pp_system_psf_shape(system, &ny, &nx);
  double *psf = malloc(ny * nx * sizeof *psf), sum = 0.0;
  if (!status && psf) status = pp_system_psf(system, job->wavelengths_m[0], psf);
  if (status || !psf) {
    pp_status_print(status, stderr, false);
    return 1;
  }
  for (size_t i = 0; i < ny * nx; i++) {
    sum += psf[i];
    if (psf[i] > psf[peak]) peak = i;
  }
  const double pi = 3.14159265358979323846;
  double expected = 1.0 - 4.0 * sqrt(2.0) / (pi * pi * pi * 24.5);
  bool ok = peak == (ny / 2) * nx + nx / 2 && fabs(sum - expected) < 2e-3;
  printf("%s: %zu x %zu PSF, peak at (%zu, %zu), sum %.6f (expected %.6f ± 2e-3)\n",
         ok ? "PASS" : "FAIL", ny, nx, peak / nx, peak % nx, sum, expected);
  free(psf);
  pp_system_destroy(&system);
  pp_job_destroy(&job);
  return ok ? 0 : 1;
}
