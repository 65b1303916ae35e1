/* propagate: FFTW plans, POPPY's padded-FFT propagation, padding, wisdom.
 *
 * Truths: direct O(N²) DFT sums written here from the definitions in propagate.h (FFTW's
 * sign, POPPY's shifts and unitary scale); the properties (round trip, Parseval); the MFT,
 * which samples the same image grid as the padded FFT when nlamD = npix and
 * n_out = npix·fft_oversample: derived below, the two agree with no extra factor. */
#include <complex.h>
#include <fftw3.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/propagate.h"
#include "pp_test.h"
#include "propagate_test_support.h"

static void pp_fill_random(double complex *a, size_t n, unsigned long long seed) {
  for (size_t p = 0; p < n; p++) {
    double re = pp_random(&seed), im = pp_random(&seed);
    a[p] = CMPLX(re, im);
  }
}

static double pp_energy(const double complex *a, size_t n) {
  double sum = 0.0;
  for (size_t p = 0; p < n; p++) sum += creal(a[p]) * creal(a[p]) + cimag(a[p]) * cimag(a[p]);
  return sum;
}

/* out[k] = scale · Σ_j in[j] · exp(sign·2πi·Σ_axes (j − jo)(k − ko)/n): with jo = ko = 0 and
 * scale 1 FFTW's DFT; pupil → image is sign +, ko = n/2 (fftshift), scale 1/sqrt(N); image →
 * pupil is sign −, jo = n/2 (ifftshift). Integer phases reduced exactly before cexp. */
static void pp_direct_dft(const double complex *in, double complex *out, size_t ny, size_t nx,
                          int sign, size_t jo_y, size_t jo_x, size_t ko_y, size_t ko_x,
                          double scale) {
  for (size_t ky = 0; ky < ny; ky++)
    for (size_t kx = 0; kx < nx; kx++) {
      double complex sum = 0.0;
      for (size_t jy = 0; jy < ny; jy++)
        for (size_t jx = 0; jx < nx; jx++) {
          long long py = ((long long)jy - (long long)jo_y) * ((long long)ky - (long long)ko_y);
          long long px = ((long long)jx - (long long)jo_x) * ((long long)kx - (long long)ko_x);
          long long my = ((py % (long long)ny) + (long long)ny) % (long long)ny;
          long long mx = ((px % (long long)nx) + (long long)nx) % (long long)nx;
          double cycles = (double)my / (double)ny + (double)mx / (double)nx;
          sum += in[jy * nx + jx] * cexp(sign * 2.0 * PP_PI * I * cycles);
        }
      out[ky * nx + kx] = scale * sum;
    }
}

/* pp_fft_execute against FFTW's definition, both signs, in place and out of place. */
static void pp_check_execute(size_t ny, size_t nx, pp_fft_direction direction,
                             unsigned long long seed) {
  size_t n = ny * nx;
  double complex *in = pp_field(n), *out = pp_field(n), *want = pp_field(n);
  pp_fill_random(in, n, seed);
  pp_direct_dft(in, want, ny, nx, (int)direction, 0, 0, 0, 0, 1.0);
  pp_fft_plan *plan = NULL;
  char what[200];
  snprintf(what, sizeof what, "%zu×%zu %s plan", ny, nx,
           direction == PP_FFT_FORWARD ? "forward" : "backward");
  PP_TEST_OK(pp_fft_plan_create(ny, nx, direction, PP_FFT_ESTIMATE, &plan), what);
  if (plan) {
    double complex *copy = pp_field(n);
    memcpy(copy, in, n * sizeof *in);
    PP_TEST_OK(pp_fft_execute(plan, in, out), "execute out of place");
    snprintf(what, sizeof what, "%zu×%zu %s DFT out of place vs direct sum, max|Δ|/max", ny, nx,
             direction == PP_FFT_FORWARD ? "forward" : "backward");
    PP_TEST_NEAR(pp_max_abs_diff_relative(out, want, n), 0.0, 1e-12, what);
    PP_TEST_TRUE(memcmp(in, copy, n * sizeof *in) == 0, "out of place preserves the input");
    PP_TEST_OK(pp_fft_execute(plan, copy, copy), "execute in place");
    snprintf(what, sizeof what, "%zu×%zu in place vs direct sum, max|Δ|/max", ny, nx);
    PP_TEST_NEAR(pp_max_abs_diff_relative(copy, want, n), 0.0, 1e-12, what);
    pp_array_free(&copy);
  }
  pp_fft_plan_destroy(&plan);
  PP_TEST_TRUE(plan == NULL, "destroy sets the handle to NULL");
  pp_array_free(&in);
  pp_array_free(&out);
  pp_array_free(&want);
}

/* pp_fft_propagate against the definitions of both propagations, in place and out of place;
 * odd sizes tell fftshift from ifftshift. */
static void pp_check_propagate_definition(size_t ny, size_t nx, unsigned long long seed) {
  size_t n = ny * nx;
  double complex *in = pp_field(n), *out = pp_field(n), *want = pp_field(n);
  double complex *work = pp_field(n);
  pp_fill_random(in, n, seed);
  double unitary = 1.0 / sqrt((double)n);
  pp_fft_plan *to_image = NULL, *to_pupil = NULL;
  PP_TEST_OK(pp_fft_plan_create(ny, nx, PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &to_image),
             "pupil → image plan");
  PP_TEST_OK(pp_fft_plan_create(ny, nx, PP_FFT_FORWARD, PP_FFT_ESTIMATE, &to_pupil),
             "image → pupil plan");
  char what[200];
  if (to_image && to_pupil) {
    pp_direct_dft(in, want, ny, nx, +1, 0, 0, ny / 2, nx / 2, unitary);
    PP_TEST_OK(pp_fft_propagate(to_image, in, out, PP_FFT_PUPIL_TO_IMAGE), "pupil → image");
    snprintf(what, sizeof what,
             "%zu×%zu pupil → image = Σ E·exp(+2πi j(k − n/2)/n)/√N, max|Δ|/max", ny, nx);
    PP_TEST_NEAR(pp_max_abs_diff_relative(out, want, n), 0.0, 1e-12, what);
    memcpy(work, in, n * sizeof *in);
    PP_TEST_OK(pp_fft_propagate(to_image, work, work, PP_FFT_PUPIL_TO_IMAGE), "in place");
    snprintf(what, sizeof what, "%zu×%zu pupil → image in place, max|Δ|/max", ny, nx);
    PP_TEST_NEAR(pp_max_abs_diff_relative(work, want, n), 0.0, 1e-12, what);

    pp_direct_dft(in, want, ny, nx, -1, ny / 2, nx / 2, 0, 0, unitary);
    PP_TEST_OK(pp_fft_propagate(to_pupil, in, out, PP_FFT_IMAGE_TO_PUPIL), "image → pupil");
    snprintf(what, sizeof what,
             "%zu×%zu image → pupil = Σ E·exp(−2πi j(k − n/2)/n)/√N, max|Δ|/max", ny, nx);
    PP_TEST_NEAR(pp_max_abs_diff_relative(out, want, n), 0.0, 1e-12, what);
    memcpy(work, in, n * sizeof *in);
    PP_TEST_OK(pp_fft_propagate(to_pupil, work, work, PP_FFT_IMAGE_TO_PUPIL), "in place");
    snprintf(what, sizeof what, "%zu×%zu image → pupil in place, max|Δ|/max", ny, nx);
    PP_TEST_NEAR(pp_max_abs_diff_relative(work, want, n), 0.0, 1e-12, what);

    /* the zero frequency: a point at image pixel (ny/2, nx/2) is a flat pupil 1/√N */
    memset(work, 0, n * sizeof *work);
    work[(ny / 2) * nx + nx / 2] = 1.0;
    PP_TEST_OK(pp_fft_propagate(to_pupil, work, out, PP_FFT_IMAGE_TO_PUPIL), "point image");
    double worst = 0.0;
    for (size_t p = 0; p < n; p++) worst = fmax(worst, cabs(out[p] - unitary));
    snprintf(what, sizeof what, "%zu×%zu image point at (ny/2, nx/2) → flat pupil, max|Δ|·√N",
             ny, nx);
    PP_TEST_NEAR(worst / unitary, 0.0, 1e-13, what);
  }
  pp_fft_plan_destroy(&to_image);
  pp_fft_plan_destroy(&to_pupil);
  pp_array_free(&in);
  pp_array_free(&out);
  pp_array_free(&want);
  pp_array_free(&work);
}

/* A centred pupil padded by fft_oversample: round trip, Parseval, and the PSF's peak. */
static void pp_check_round_trip(size_t npix, size_t oversample, unsigned long long seed) {
  size_t big = npix * oversample, n = big * big;
  double complex *pupil = pp_field(npix * npix), *padded = pp_field(n), *image = pp_field(n);
  double complex *back = pp_field(n), *cropped = pp_field(npix * npix);
  pp_fill_random(pupil, npix * npix, seed);
  PP_TEST_OK(pp_fft_pad(pupil, npix, npix, padded, big, big), "pad");
  pp_fft_plan *to_image = NULL, *to_pupil = NULL;
  PP_TEST_OK(pp_fft_plan_create(big, big, PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &to_image), "plan");
  PP_TEST_OK(pp_fft_plan_create(big, big, PP_FFT_FORWARD, PP_FFT_ESTIMATE, &to_pupil), "plan");
  char what[200];
  if (to_image && to_pupil) {
    PP_TEST_OK(pp_fft_propagate(to_image, padded, image, PP_FFT_PUPIL_TO_IMAGE), "to image");
    snprintf(what, sizeof what, "%zu px ×%zu: Σ|image|²/Σ|pupil|² − 1 (unitary)", npix,
             oversample);
    PP_TEST_NEAR(pp_energy(image, n) / pp_energy(pupil, npix * npix) - 1.0, 0.0, 1e-12, what);
    PP_TEST_OK(pp_fft_propagate(to_pupil, image, back, PP_FFT_IMAGE_TO_PUPIL), "to pupil");
    snprintf(what, sizeof what, "%zu px ×%zu: pupil → image → pupil = pupil, max|Δ|/max",
             npix, oversample);
    PP_TEST_NEAR(pp_max_abs_diff_relative(back, padded, n), 0.0, 1e-12, what);
    PP_TEST_OK(pp_fft_crop(back, big, big, cropped, npix, npix), "crop");
    snprintf(what, sizeof what, "%zu px ×%zu: crop(round trip) = the unpadded pupil", npix,
             oversample);
    PP_TEST_NEAR(pp_max_abs_diff_relative(cropped, pupil, npix * npix), 0.0, 1e-12, what);
    /* in place, the way a system would run it on one padded array */
    PP_TEST_OK(pp_fft_propagate(to_image, padded, padded, PP_FFT_PUPIL_TO_IMAGE), "in place");
    PP_TEST_OK(pp_fft_propagate(to_pupil, padded, padded, PP_FFT_IMAGE_TO_PUPIL), "in place");
    PP_TEST_OK(pp_fft_crop(padded, big, big, cropped, npix, npix), "crop");
    snprintf(what, sizeof what, "%zu px ×%zu: in-place round trip, max|Δ|/max", npix, oversample);
    PP_TEST_NEAR(pp_max_abs_diff_relative(cropped, pupil, npix * npix), 0.0, 1e-12, what);

    /* a uniform centred pupil: the image peak, Σ pupil/√N, sits on pixel (N/2, N/2) */
    for (size_t p = 0; p < npix * npix; p++) pupil[p] = 1.0;
    PP_TEST_OK(pp_fft_pad(pupil, npix, npix, padded, big, big), "pad");
    PP_TEST_OK(pp_fft_propagate(to_image, padded, image, PP_FFT_PUPIL_TO_IMAGE), "to image");
    size_t peak = 0;
    for (size_t p = 0; p < n; p++)
      if (cabs(image[p]) > cabs(image[peak]) * (1.0 + 1e-12)) peak = p;
    snprintf(what, sizeof what, "%zu px ×%zu: PSF peak on pixel (N/2, N/2) = (%zu, %zu)", npix,
             oversample, big / 2, big / 2);
    PP_TEST_TRUE(peak == (big / 2) * big + big / 2, what);
    snprintf(what, sizeof what, "%zu px ×%zu: |peak| = npix²/N", npix, oversample);
    PP_TEST_NEAR(cabs(image[peak]), (double)(npix * npix) / (double)big, 1e-12 * npix, what);
  }
  pp_fft_plan_destroy(&to_image);
  pp_fft_plan_destroy(&to_pupil);
  pp_array_free(&pupil);
  pp_array_free(&padded);
  pp_array_free(&image);
  pp_array_free(&back);
  pp_array_free(&cropped);
}

/* FFT against MFT. Padded FFT, pupil j (padded index), image k, f = k − N/2 (integer
 * division, the fftshift):  FFT[k] = Σ p[j]·exp(+2πi·j·f/N)/N  per axis (√(Ny·Nx) in 2-D).
 * MFT, nlamD = npix, n_out = N:  x_i·u_k = (i − (npix − 1)/2)/npix · (k − (N − 1)/2)·npix/N
 * = (j − c)(f + δ)/N with c = off + (npix − 1)/2 the pupil centre in padded pixels and
 * δ = N/2 − (N − 1)/2 (½ for even N, 0 for odd), norm = sqrt(npix²/(npix²·N²)) = 1/N.
 * So MFT[k] = exp(−2πi·c·(f + δ)/N) · FFT[p·exp(+2πi·j·δ/N)][k]: the same normalization,
 * and for odd N (δ = 0) the same grid: |MFT| = |FFT| pixel for pixel. For even N the MFT
 * samples half a pixel off the FFT's grid (POPPY: FFT images are centred on a pixel, MFT
 * images on the array centre), which the tilt exp(2πi·j·δ/N) of the pupil accounts for. */
static void pp_check_fft_vs_mft(size_t npix_y, size_t npix_x, size_t oversample,
                                unsigned long long seed) {
  size_t ny = npix_y * oversample, nx = npix_x * oversample, n = ny * nx;
  double complex *pupil = pp_field(npix_y * npix_x), *padded = pp_field(n);
  double complex *fft_image = pp_field(n), *mft_image = pp_field(n);
  pp_fill_random(pupil, npix_y * npix_x, seed);
  pp_fft_plan *plan = NULL;
  pp_mft_plan *mft = NULL;
  PP_TEST_OK(pp_fft_plan_create(ny, nx, PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &plan), "FFT plan");
  PP_TEST_OK(pp_mft_plan_create(npix_y, npix_x, ny, nx, PP_MFT_FORWARD, &mft), "MFT plan");
  char what[240];
  if (plan && mft) {
    PP_TEST_OK(pp_mft_plan_set_nlamd(mft, (double)npix_y, (double)npix_x), "nlamD = npix");
    PP_TEST_OK(pp_mft_execute(mft, pupil, mft_image), "MFT");
    double delta_y = (double)(ny / 2) - ((double)ny - 1.0) / 2.0;
    double delta_x = (double)(nx / 2) - ((double)nx - 1.0) / 2.0;
    double centre_y = (double)((ny - npix_y) / 2) + ((double)npix_y - 1.0) / 2.0;
    double centre_x = (double)((nx - npix_x) / 2) + ((double)npix_x - 1.0) / 2.0;
    bool odd = ny % 2 == 1 && nx % 2 == 1;
    if (odd) {
      PP_TEST_OK(pp_fft_pad(pupil, npix_y, npix_x, padded, ny, nx), "pad");
      PP_TEST_OK(pp_fft_propagate(plan, padded, fft_image, PP_FFT_PUPIL_TO_IMAGE), "FFT");
      double peak = 0.0, worst = 0.0;
      for (size_t p = 0; p < n; p++) {
        double a = creal(mft_image[p] * conj(mft_image[p]));
        double b = creal(fft_image[p] * conj(fft_image[p]));
        peak = fmax(peak, a);
        worst = fmax(worst, fabs(a - b));
      }
      snprintf(what, sizeof what,
               "odd %zu×%zu ×%zu: |MFT|² = |FFT|² on the same grid, max|Δ|/peak", npix_y, npix_x,
               oversample);
      PP_TEST_NEAR(worst / peak, 0.0, 1e-10, what);
    }
    /* the pupil tilted by δ, padded, FFT-propagated, times the phase of the centre */
    PP_TEST_OK(pp_fft_pad(pupil, npix_y, npix_x, padded, ny, nx), "pad");
    for (size_t jy = 0; jy < ny; jy++)
      for (size_t jx = 0; jx < nx; jx++)
        padded[jy * nx + jx] *=
            cexp(2.0 * PP_PI * I * ((double)jy * delta_y / ny + (double)jx * delta_x / nx));
    PP_TEST_OK(pp_fft_propagate(plan, padded, fft_image, PP_FFT_PUPIL_TO_IMAGE), "FFT");
    for (size_t ky = 0; ky < ny; ky++)
      for (size_t kx = 0; kx < nx; kx++) {
        double fy = (double)ky - (double)(ny / 2), fx = (double)kx - (double)(nx / 2);
        fft_image[ky * nx + kx] *= cexp(-2.0 * PP_PI * I *
                                        (centre_y * (fy + delta_y) / ny + centre_x * (fx + delta_x) / nx));
      }
    snprintf(what, sizeof what,
             "%zu×%zu ×%zu: MFT(nlamD = npix, n_out = N) = phase·FFT(tilted pupil), no extra "
             "factor, max|Δ|/max",
             npix_y, npix_x, oversample);
    PP_TEST_NEAR(pp_max_abs_diff_relative(fft_image, mft_image, n), 0.0, 1e-10, what);
  }
  pp_fft_plan_destroy(&plan);
  pp_mft_plan_destroy(&mft);
  pp_array_free(&pupil);
  pp_array_free(&padded);
  pp_array_free(&fft_image);
  pp_array_free(&mft_image);
}

static void pp_check_pad_crop(void) {
  /* where the input lands: offset (n_out − n_in)/2, integer division */
  double complex in[4 * 3], out[8 * 7], back[4 * 3];
  for (size_t p = 0; p < 12; p++) in[p] = (double)(p + 1);
  PP_TEST_OK(pp_fft_pad(in, 4, 3, out, 8, 7), "pad 4×3 into 8×7");
  PP_TEST_TRUE(out[2 * 7 + 2] == 1.0 && out[5 * 7 + 4] == 12.0,
               "4×3 lands at offset (2, 2) in 8×7 (floor of (8−4)/2, (7−3)/2)");
  double sum = 0.0;
  for (size_t p = 0; p < 56; p++) sum += creal(out[p]);
  PP_TEST_NEAR(sum, 78.0, 0.0, "padding is zero (sum unchanged)");
  PP_TEST_OK(pp_fft_crop(out, 8, 7, back, 4, 3), "crop back");
  PP_TEST_TRUE(memcmp(in, back, sizeof in) == 0, "crop(pad(x)) = x");
  /* an even pupil padded by an integer factor: centred on the padded array's centre */
  double real_in[6 * 6];
  double complex real_out[12 * 12];
  for (size_t p = 0; p < 36; p++) real_in[p] = 1.0 + (double)p;
  PP_TEST_OK(pp_fft_pad_real(real_in, 6, 6, real_out, 12, 12), "pad real 6 into 12");
  double cy = 0.0, total = 0.0;
  for (size_t y = 0; y < 12; y++)
    for (size_t x = 0; x < 12; x++) {
      total += creal(real_out[y * 12 + x]);
      cy += (creal(real_out[y * 12 + x]) != 0.0) ? (double)y : 0.0;
    }
  PP_TEST_NEAR(cy / 36.0, 5.5, 0.0, "6 px pupil ×2: rows 3..8, centre (12 − 1)/2 = 5.5");
  PP_TEST_NEAR(total, 666.0, 0.0, "real pad keeps every value");
  pp_status s = pp_fft_pad(in, 4, 3, out, 3, 7);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "padding into a smaller array refused");
  pp_status_free(s);
  s = pp_fft_crop(in, 4, 3, out, 5, 3);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "cropping to a larger array refused");
  pp_status_free(s);
}

static int pp_compare_lines(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* FFTW exports wisdom entries in hash-table order, which an import may permute: two exports
 * hold the same wisdom when they have the same lines in any order. */
static bool pp_same_wisdom(const char *a, const char *b) {
  if (!a || !b) return false;
  char *copies[2] = {strdup(a), strdup(b)};
  char **lines[2] = {NULL, NULL};
  size_t counts[2] = {0, 0};
  for (int w = 0; w < 2; w++) {
    size_t capacity = 1;
    for (const char *c = copies[w]; *c; c++) capacity += *c == '\n';
    lines[w] = malloc(capacity * sizeof *lines[w]);
    char *save = NULL;
    for (char *line = strtok_r(copies[w], "\n", &save); line; line = strtok_r(NULL, "\n", &save))
      lines[w][counts[w]++] = line;
    qsort(lines[w], counts[w], sizeof *lines[w], pp_compare_lines);
  }
  bool same = counts[0] == counts[1] && counts[0] > 2;
  for (size_t i = 0; same && i < counts[0]; i++) same = strcmp(lines[0][i], lines[1][i]) == 0;
  for (int w = 0; w < 2; w++) {
    free(lines[w]);
    free(copies[w]);
  }
  return same;
}

static void pp_check_wisdom(void) {
  char dir[] = "/tmp/pp_test_fft_XXXXXX";
  if (!mkdtemp(dir)) {
    PP_TEST_TRUE(false, "temporary directory");
    return;
  }
  char path[128], corrupt[128], missing[128], nowhere[160];
  snprintf(path, sizeof path, "%s/wisdom", dir);
  snprintf(corrupt, sizeof corrupt, "%s/corrupt", dir);
  snprintf(missing, sizeof missing, "%s/missing", dir);
  snprintf(nowhere, sizeof nowhere, "%s/no/such/dir/wisdom", dir);
  const size_t ny = 48, nx = 40, n = ny * nx;
  double complex *in = pp_field(n), *measured = pp_field(n), *replayed = pp_field(n);
  pp_fill_random(in, n, 99);

  fftw_forget_wisdom();
  bool imported = true;
  PP_TEST_OK(pp_fft_wisdom_import(missing, &imported), "a missing wisdom file is not an error");
  PP_TEST_TRUE(!imported, "… and reports nothing imported");

  pp_fft_plan *plan = NULL;
  PP_TEST_OK(pp_fft_plan_create(ny, nx, PP_FFT_BACKWARD, PP_FFT_MEASURE, &plan), "measure plan");
  if (plan) PP_TEST_OK(pp_fft_execute(plan, in, measured), "execute measured plan");
  pp_fft_plan_destroy(&plan);
  PP_TEST_OK(pp_fft_wisdom_export(path), "export wisdom");
  char *before = fftw_export_wisdom_to_string();

  fftw_forget_wisdom();
  double complex *a = pp_field(n), *b = pp_field(n);
  fftw_plan probe = fftw_plan_dft_2d((int)ny, (int)nx, a, b, FFTW_BACKWARD,
                                     FFTW_MEASURE | FFTW_WISDOM_ONLY | FFTW_PRESERVE_INPUT);
  PP_TEST_TRUE(probe == NULL, "after forgetting, FFTW has no wisdom for the shape");
  if (probe) fftw_destroy_plan(probe);
  PP_TEST_OK(pp_fft_wisdom_import(path, &imported), "import wisdom");
  PP_TEST_TRUE(imported, "… and reports it imported");
  char *after = fftw_export_wisdom_to_string();
  PP_TEST_TRUE(pp_same_wisdom(before, after),
               "export then import round trip: the same wisdom entries");
  probe = fftw_plan_dft_2d((int)ny, (int)nx, a, b, FFTW_BACKWARD,
                           FFTW_MEASURE | FFTW_WISDOM_ONLY | FFTW_PRESERVE_INPUT);
  PP_TEST_TRUE(probe != NULL, "after import, the measured plan comes from wisdom");
  if (probe) fftw_destroy_plan(probe);
  /* FFTW_ESTIMATE uses wisdom of any rigor: the replayed plan is the measured one, bit for bit */
  PP_TEST_OK(pp_fft_plan_create(ny, nx, PP_FFT_BACKWARD, PP_FFT_ESTIMATE, &plan), "estimate plan");
  if (plan) PP_TEST_OK(pp_fft_execute(plan, in, replayed), "execute replayed plan");
  pp_fft_plan_destroy(&plan);
  PP_TEST_TRUE(memcmp(measured, replayed, n * sizeof *in) == 0,
               "a plan replayed from imported wisdom gives the measured plan's bits");

  FILE *f = fopen(corrupt, "w");
  if (f) {
    fputs("(fftw-3.3.10 fftw_wisdom #x0 truncated\n", f);
    fclose(f);
  }
  pp_status s = pp_fft_wisdom_import(corrupt, &imported);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && !imported, "a corrupt wisdom file is PP_ERR_INPUT");
  pp_status_free(s);
  char *kept = fftw_export_wisdom_to_string();
  PP_TEST_TRUE(pp_same_wisdom(kept, after),
               "a refused import leaves the accumulated wisdom unchanged");
  s = pp_fft_wisdom_export(nowhere);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_IO, "export into a missing directory is PP_ERR_IO");
  pp_status_free(s);

  free(before);
  free(after);
  free(kept);
  fftw_forget_wisdom();
  remove(path);
  remove(corrupt);
  rmdir(dir);
  pp_array_free(&in);
  pp_array_free(&measured);
  pp_array_free(&replayed);
  pp_array_free(&a);
  pp_array_free(&b);
}

static void pp_check_errors(void) {
  pp_fft_plan *plan = NULL;
  pp_status s = pp_fft_plan_create(0, 8, PP_FFT_FORWARD, PP_FFT_ESTIMATE, &plan);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && plan == NULL, "zero size refused");
  pp_status_free(s);
  PP_TEST_OK(pp_fft_plan_create(8, 8, PP_FFT_FORWARD, PP_FFT_ESTIMATE, &plan), "8×8 plan");
  if (!plan) return;
  double complex *a = pp_field(8 * 8 + 1), *b = pp_field(8 * 8);
  /* 8 bytes off: still a valid double complex pointer, but not FFTW's SIMD alignment */
  double complex *shifted = (double complex *)((char *)a + sizeof(double));
  s = pp_fft_execute(plan, shifted, b);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL, "a misaligned array is refused");
  pp_status_free(s);
  s = pp_fft_propagate(plan, a, b, PP_FFT_PUPIL_TO_IMAGE);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL,
               "pupil → image with a forward plan is refused (needs PP_FFT_BACKWARD)");
  pp_status_free(s);
  pp_fft_plan_destroy(&plan);
  pp_fft_plan_destroy(&plan); /* a second destroy on NULL is fine */
  pp_array_free(&a);
  pp_array_free(&b);
}

int main(void) {
  pp_check_execute(6, 5, PP_FFT_FORWARD, 1);
  pp_check_execute(8, 8, PP_FFT_BACKWARD, 2);
  /* even, odd, mixed parity, rectangular */
  pp_check_propagate_definition(8, 8, 3);
  pp_check_propagate_definition(7, 9, 4);
  pp_check_propagate_definition(6, 5, 5);
  pp_check_propagate_definition(5, 10, 6);

  pp_check_round_trip(128, 2, 7);
  pp_check_round_trip(33, 3, 8);

  pp_check_fft_vs_mft(32, 32, 2, 9);  /* even: half a pixel apart */
  pp_check_fft_vs_mft(33, 33, 3, 10); /* odd: the same grid */
  pp_check_fft_vs_mft(24, 20, 2, 11); /* rectangular */
  pp_check_fft_vs_mft(25, 15, 3, 12); /* rectangular, odd */

  pp_check_pad_crop();
  PP_TEST_NEAR(pp_fft_image_pixelscale_rad(1e-6, 6.5, 2.0), 1e-6 / 13.0, 1e-22,
               "image pixel scale λ/(D·fft_oversample)");
  PP_TEST_TRUE(pp_fft_fast_size(1427) == 1440, "fast size ≥ 1427 is 1440 = 2^5·3^2·5");
  PP_TEST_TRUE(pp_fft_fast_size(11) == 12 && pp_fft_fast_size(13) == 14 &&
                   pp_fft_fast_size(1) == 1 && pp_fft_fast_size(0) == 0,
               "fast sizes 11 → 12, 13 → 14, 1 → 1, 0 → 0");
  bool smooth = true;
  for (size_t m = 1; m < 5000 && smooth; m++) {
    size_t f = pp_fft_fast_size(m);
    for (size_t q = m; q <= f; q++) { /* f is 7-smooth, nothing in [m, f) is */
      size_t r = q;
      for (size_t p = 2; p <= 7; p++)
        while (r % p == 0) r /= p;
      if ((r == 1) != (q == f)) smooth = false;
    }
  }
  PP_TEST_TRUE(smooth, "fast sizes below 5000: the smallest 7-smooth number ≥ the request");
  PP_TEST_NEAR(pp_fft_flops(1024, 1024), 5.0 * 1048576.0 * 20.0, 1e-3, "flops 5·N·log2 N");
  pp_check_wisdom();
  pp_check_errors();
  return pp_test_finish();
}
