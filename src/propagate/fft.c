/* FFTW plans, wisdom, and POPPY's padded-FFT propagation.
 *
 * Plans. One pp_fft_plan holds two FFTW plans of one shape and sign, one in place and one out
 * of place, made on planning arrays allocated here and freed before create returns; execute
 * uses FFTW's new-array interface (fftw_execute_dft) on the caller's arrays. FFTW allows that
 * when the new arrays have the planning arrays' alignment (fftw_alignment_of) and the same
 * in-place-ness, both of which execute checks. Executing never touches the planning arrays,
 * so they need not outlive create: the plan keeps no array memory.
 *
 * Global state. FFTW's planner keeps process-wide wisdom and is not thread-safe; the planner
 * calls here (create, destroy, wisdom import and export) must run in one thread at a time.
 * That is state FFTW requires; polypsf adds none. fftw_execute_dft is thread-safe.
 *
 * Propagation (POPPY ≥ 1.0, accel_math.fft_2d and Wavefront._propagate_fft):
 *   pupil → image: out = fftshift(ifft2(in))·n  in numpy terms (numpy's ifft2 includes 1/n²):
 *                  FFTW's BACKWARD (+ sign), then fftshift, scaled by 1/sqrt(ny·nx);
 *   image → pupil: out = fft2(ifftshift(in))/n: ifftshift, FFTW's FORWARD, 1/sqrt(ny·nx).
 * POPPY scales by shape[0] on square arrays; 1/sqrt(ny·nx) is the same number there and keeps
 * rectangular arrays unitary too. No shift precedes the pupil → image transform (POPPY's
 * fft_2d shifts after an inverse FFT and before a forward one only), so the image carries the
 * pupil's position as a phase ramp; image → pupil undoes it exactly. */
#include <complex.h> /* before fftw3.h: fftw_complex is then double complex */
#include <fftw3.h>

#include "polypsf/propagate.h"
#include "propagate/fft_private.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Static_assert(PP_FFT_FORWARD == FFTW_FORWARD && PP_FFT_BACKWARD == FFTW_BACKWARD,
               "pp_fft_direction uses FFTW's sign values");

struct pp_fft_plan {
  size_t ny, nx;
  pp_fft_direction direction;
  fftw_plan in_place;     /* requires in == out */
  fftw_plan out_of_place; /* requires in != out, preserves in */
  int alignment;          /* fftw_alignment_of the planning arrays */
};

static unsigned pp_fft_rigor_flags(pp_fft_rigor rigor) {
  switch (rigor) {
    case PP_FFT_MEASURE: return FFTW_MEASURE;
    case PP_FFT_PATIENT: return FFTW_PATIENT;
    case PP_FFT_ESTIMATE:
    default: return FFTW_ESTIMATE;
  }
}

size_t pp_fft_plan_bytes(size_t ny, size_t nx) {
  return 2 * ny * nx * sizeof(double complex) + sizeof(struct pp_fft_plan);
}

double pp_fft_flops(size_t ny, size_t nx) {
  double n = (double)ny * (double)nx;
  return n > 1.0 ? 5.0 * n * log2(n) : 0.0;
}

pp_status pp_fft_plan_create(size_t ny, size_t nx, pp_fft_direction direction,
                             pp_fft_rigor rigor, pp_fft_plan **plan) {
  *plan = NULL;
  PP_CHECK(ny > 0 && nx > 0, PP_ERR_INPUT, "FFT size must be positive, got %zu × %zu", ny, nx);
  PP_CHECK(ny <= INT_MAX && nx <= INT_MAX, PP_ERR_INPUT,
           "FFT size %zu × %zu exceeds what FFTW can index (%d per axis)", ny, nx, INT_MAX);
  PP_CHECK(direction == PP_FFT_FORWARD || direction == PP_FFT_BACKWARD, PP_ERR_INTERNAL,
           "FFT direction must be forward (-1) or backward (+1), got %d", (int)direction);
  PP_CHECK(rigor == PP_FFT_ESTIMATE || rigor == PP_FFT_MEASURE || rigor == PP_FFT_PATIENT,
           PP_ERR_INTERNAL, "unknown FFT planning rigor %d", (int)rigor);

  pp_status status = PP_SUCCESS;
  pp_fft_plan *p = NULL;
  double complex *a = NULL, *b = NULL;
  size_t elements = 0, bytes = 0;
  PP_CALL_GOTO(status, pp_size_mul(ny, nx, &elements));
  PP_CALL_GOTO(status, pp_size_mul(elements, sizeof(double complex), &bytes));
  PP_CALL_GOTO(status, pp_array_alloc(sizeof *p, (void **)&p));
  *p = (struct pp_fft_plan){.ny = ny, .nx = nx, .direction = direction};
  /* Planning arrays from the same allocator as the caller's arrays, so that the alignment
   * FFTW records is the one pp_array_alloc gives (64 bytes: fftw_alignment_of = 0). MEASURE
   * and PATIENT overwrite them; they are freed below. */
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&a));
  PP_CALL_GOTO(status, pp_array_alloc(bytes, (void **)&b));
  unsigned flags = pp_fft_rigor_flags(rigor);
  p->out_of_place = fftw_plan_dft_2d((int)ny, (int)nx, a, b, (int)direction,
                                     flags | FFTW_PRESERVE_INPUT);
  PP_CHECK_GOTO(status, p->out_of_place != NULL, PP_ERR_LIBRARY,
                "FFTW could not plan an out-of-place %zu × %zu transform", ny, nx);
  p->in_place = fftw_plan_dft_2d((int)ny, (int)nx, a, a, (int)direction, flags);
  PP_CHECK_GOTO(status, p->in_place != NULL, PP_ERR_LIBRARY,
                "FFTW could not plan an in-place %zu × %zu transform", ny, nx);
  p->alignment = fftw_alignment_of((double *)a);
  PP_CHECK_GOTO(status, fftw_alignment_of((double *)b) == p->alignment, PP_ERR_INTERNAL,
                "planning arrays differ in alignment");
  *plan = p;
  p = NULL;
done:
  pp_array_free(&a);
  pp_array_free(&b);
  pp_fft_plan_destroy(&p);
  return status;
}

void pp_fft_plan_destroy(pp_fft_plan **plan) {
  if (!plan || !*plan) return;
  if ((*plan)->in_place) fftw_destroy_plan((*plan)->in_place);
  if ((*plan)->out_of_place) fftw_destroy_plan((*plan)->out_of_place);
  pp_array_free(plan);
}

/* The plan's transform on the caller's arrays, after the checks FFTW's new-array execute
 * requires (it would silently compute garbage or crash otherwise). */
static pp_status pp_fft_run(const pp_fft_plan *plan, const double complex *in,
                            double complex *out) {
  PP_CHECK(plan != NULL && in != NULL && out != NULL, PP_ERR_INTERNAL,
           "FFT execute needs a plan, an input and an output");
  /* FFTW's prototypes take non-const arrays; the out-of-place plan was made with
   * FFTW_PRESERVE_INPUT, and in place in == out is the caller's writable array. */
  double complex *in_rw = (double complex *)(uintptr_t)in;
  PP_CHECK(fftw_alignment_of((double *)in_rw) == plan->alignment &&
               fftw_alignment_of((double *)out) == plan->alignment,
           PP_ERR_INTERNAL,
           "FFT arrays must be aligned like pp_array_alloc's (FFTW alignment %d, got %d and %d)",
           plan->alignment, fftw_alignment_of((double *)in_rw), fftw_alignment_of((double *)out));
  fftw_execute_dft(in == out ? plan->in_place : plan->out_of_place, in_rw, out);
  return PP_SUCCESS;
}

pp_status pp_fft_execute(const pp_fft_plan *plan, const double complex *in, double complex *out) {
  PP_CALL(pp_fft_run(plan, in, out));
  return PP_SUCCESS;
}

/* ---- shifts without allocation ----------------------------------------------------------- */

static void pp_reverse(double complex *a, size_t n) {
  for (size_t i = 0, j = n; i + 1 < j; i++) {
    j--;
    double complex t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/* a[k] ← a[(k + s) mod n], in place by three reversals (O(n), no buffer). */
static void pp_rotate_left(double complex *a, size_t n, size_t s) {
  s %= n;
  if (s == 0) return;
  pp_reverse(a, s);
  pp_reverse(a + s, n - s);
  pp_reverse(a, n);
}

/* a[y][x] ← a[(y + sy) mod ny][(x + sx) mod nx]: moving whole rows is one rotation of the
 * flat array by sy·nx elements (contiguous, cache-friendly); then each row by sx. */
static void pp_rotate_left_2d(double complex *a, size_t ny, size_t nx, size_t sy, size_t sx) {
  pp_rotate_left(a, ny * nx, (sy % ny) * nx);
  if (sx % nx != 0)
    for (size_t y = 0; y < ny; y++) pp_rotate_left(a + y * nx, nx, sx);
}

static void pp_scale(double complex *a, size_t n, double factor) {
  for (size_t i = 0; i < n; i++) a[i] *= factor;
}

void pp_fft_swap_quadrants_scaled(double complex *a, size_t ny, size_t nx, double factor) {
  size_t hy = ny / 2, hx = nx / 2;
  for (size_t y = 0; y < hy; y++) {
    double complex *top = a + y * nx, *bottom = a + (y + hy) * nx;
    for (size_t x = 0; x < hx; x++) {
      double complex t = top[x];
      top[x] = bottom[x + hx] * factor;
      bottom[x + hx] = t * factor;
      t = top[x + hx];
      top[x + hx] = bottom[x] * factor;
      bottom[x] = t * factor;
    }
  }
}

/* out[y][x] = in[(y + sy) mod ny][(x + sx) mod nx]: a shifted copy, two memcpy per row. */
static void pp_copy_rotated(const double complex *in, double complex *out, size_t ny, size_t nx,
                            size_t sy, size_t sx) {
  for (size_t y = 0; y < ny; y++) {
    const double complex *src = in + ((y + sy) % ny) * nx;
    double complex *dst = out + y * nx;
    memcpy(dst, src + sx, (nx - sx) * sizeof *dst);
    memcpy(dst + nx - sx, src, sx * sizeof *dst);
  }
}

pp_status pp_fft_propagate(const pp_fft_plan *plan, const double complex *in, double complex *out,
                           pp_fft_propagation propagation) {
  PP_CHECK(plan != NULL, PP_ERR_INTERNAL, "FFT propagation needs a plan");
  PP_CHECK(propagation == PP_FFT_PUPIL_TO_IMAGE || propagation == PP_FFT_IMAGE_TO_PUPIL,
           PP_ERR_INTERNAL, "unknown FFT propagation %d", (int)propagation);
  pp_fft_direction needed =
      propagation == PP_FFT_PUPIL_TO_IMAGE ? PP_FFT_BACKWARD : PP_FFT_FORWARD;
  PP_CHECK(plan->direction == needed, PP_ERR_INTERNAL,
           "%s propagation needs a %s FFT plan",
           propagation == PP_FFT_PUPIL_TO_IMAGE ? "pupil → image" : "image → pupil",
           needed == PP_FFT_BACKWARD ? "PP_FFT_BACKWARD" : "PP_FFT_FORWARD");
  const size_t ny = plan->ny, nx = plan->nx, n = ny * nx;
  const double unitary = 1.0 / sqrt((double)ny * (double)nx);
  const bool even = ny % 2 == 0 && nx % 2 == 0;
  /* numpy's fftshift moves index k to (k + n/2) mod n, i.e. a left rotation by n − n/2;
   * ifftshift is the left rotation by n/2. They coincide for even n only. */
  if (propagation == PP_FFT_PUPIL_TO_IMAGE) {
    PP_CALL(pp_fft_run(plan, in, out));
    if (even) {
      pp_fft_swap_quadrants_scaled(out, ny, nx, unitary);
    } else {
      pp_rotate_left_2d(out, ny, nx, ny - ny / 2, nx - nx / 2);
      pp_scale(out, n, unitary);
    }
  } else if (even) {
    /* For even n, FORWARD(ifftshift(x))[k] = (−1)^k · FORWARD(x)[k]: the input shift by n/2
     * is a modulation of the output, so the (possibly const) input is never rearranged. */
    PP_CALL(pp_fft_run(plan, in, out));
    for (size_t y = 0; y < ny; y++) {
      double complex *row = out + y * nx;
      double sign = y % 2 ? -unitary : unitary;
      for (size_t x = 0; x < nx; x += 2) {
        row[x] *= sign;
        row[x + 1] *= -sign;
      }
    }
  } else {
    if (in == out) pp_rotate_left_2d(out, ny, nx, ny / 2, nx / 2);
    else pp_copy_rotated(in, out, ny, nx, ny / 2, nx / 2);
    PP_CALL(pp_fft_run(plan, out, out));
    pp_scale(out, n, unitary);
  }
  return PP_SUCCESS;
}

/* ---- padding and cropping ------------------------------------------------------------------ */

static pp_status pp_fft_check_pad(const void *in, size_t n_in_y, size_t n_in_x, const void *out,
                                  size_t n_out_y, size_t n_out_x) {
  PP_CHECK(in != NULL && out != NULL, PP_ERR_INTERNAL, "padding needs an input and an output");
  PP_CHECK(n_in_y > 0 && n_in_x > 0 && n_out_y >= n_in_y && n_out_x >= n_in_x, PP_ERR_INPUT,
           "cannot pad %zu × %zu into %zu × %zu", n_in_y, n_in_x, n_out_y, n_out_x);
  return PP_SUCCESS;
}

pp_status pp_fft_pad(const double complex *in, size_t n_in_y, size_t n_in_x, double complex *out,
                     size_t n_out_y, size_t n_out_x) {
  PP_CALL(pp_fft_check_pad(in, n_in_y, n_in_x, out, n_out_y, n_out_x));
  const size_t y0 = (n_out_y - n_in_y) / 2, x0 = (n_out_x - n_in_x) / 2;
  memset(out, 0, y0 * n_out_x * sizeof *out);
  for (size_t y = 0; y < n_in_y; y++) {
    double complex *row = out + (y0 + y) * n_out_x;
    memset(row, 0, x0 * sizeof *row);
    memcpy(row + x0, in + y * n_in_x, n_in_x * sizeof *row);
    memset(row + x0 + n_in_x, 0, (n_out_x - x0 - n_in_x) * sizeof *row);
  }
  memset(out + (y0 + n_in_y) * n_out_x, 0, (n_out_y - y0 - n_in_y) * n_out_x * sizeof *out);
  return PP_SUCCESS;
}

pp_status pp_fft_pad_real(const double *in, size_t n_in_y, size_t n_in_x, double complex *out,
                          size_t n_out_y, size_t n_out_x) {
  PP_CALL(pp_fft_check_pad(in, n_in_y, n_in_x, out, n_out_y, n_out_x));
  const size_t y0 = (n_out_y - n_in_y) / 2, x0 = (n_out_x - n_in_x) / 2;
  memset(out, 0, y0 * n_out_x * sizeof *out);
  for (size_t y = 0; y < n_in_y; y++) {
    double complex *row = out + (y0 + y) * n_out_x;
    const double *src = in + y * n_in_x;
    memset(row, 0, x0 * sizeof *row);
    for (size_t x = 0; x < n_in_x; x++) row[x0 + x] = src[x];
    memset(row + x0 + n_in_x, 0, (n_out_x - x0 - n_in_x) * sizeof *row);
  }
  memset(out + (y0 + n_in_y) * n_out_x, 0, (n_out_y - y0 - n_in_y) * n_out_x * sizeof *out);
  return PP_SUCCESS;
}

pp_status pp_fft_crop(const double complex *in, size_t n_in_y, size_t n_in_x, double complex *out,
                      size_t n_out_y, size_t n_out_x) {
  PP_CHECK(in != NULL && out != NULL, PP_ERR_INTERNAL, "cropping needs an input and an output");
  PP_CHECK(n_out_y > 0 && n_out_x > 0 && n_out_y <= n_in_y && n_out_x <= n_in_x, PP_ERR_INPUT,
           "cannot crop %zu × %zu out of %zu × %zu", n_out_y, n_out_x, n_in_y, n_in_x);
  const size_t y0 = (n_in_y - n_out_y) / 2, x0 = (n_in_x - n_out_x) / 2;
  for (size_t y = 0; y < n_out_y; y++)
    memcpy(out + y * n_out_x, in + (y0 + y) * n_in_x + x0, n_out_x * sizeof *out);
  return PP_SUCCESS;
}

double pp_fft_image_pixelscale_rad(double wavelength_m, double pupil_diameter_m,
                                   double fft_oversample) {
  return wavelength_m / (pupil_diameter_m * fft_oversample);
}

size_t pp_fft_fast_size(size_t minimum) {
  if (minimum == 0) return 0;
  for (size_t n = minimum; n != 0; n++) {
    size_t rest = n;
    static const size_t primes[] = {2, 3, 5, 7};
    for (size_t p = 0; p < 4; p++)
      while (rest % primes[p] == 0) rest /= primes[p];
    if (rest == 1) return n;
  }
  return 0;
}

/* ---- wisdom --------------------------------------------------------------------------------- */

pp_status pp_fft_wisdom_import(const char *path, bool *imported) {
  if (imported) *imported = false;
  PP_CHECK(path != NULL && path[0] != '\0', PP_ERR_INPUT, "FFTW wisdom path is empty");
  /* FFTW's import says only "failed"; opening the file first tells a first run (no file yet:
   * plan, then export) from an unreadable file and from one that is not wisdom. */
  FILE *f = fopen(path, "r");
  if (!f) {
    int error = errno;
    if (error == ENOENT) return PP_SUCCESS;
    PP_CHECK(false, PP_ERR_IO, "cannot read FFTW wisdom file %s: %s", path, strerror(error));
  }
  /* FFTW keeps the wisdom it had when an import fails (it restores its table). */
  int ok = fftw_import_wisdom_from_file(f);
  fclose(f);
  PP_CHECK(ok != 0, PP_ERR_INPUT,
           "%s is not FFTW wisdom for this FFTW (%s, double precision); delete it to plan afresh",
           path, fftw_version);
  if (imported) *imported = true;
  return PP_SUCCESS;
}

pp_status pp_fft_wisdom_export(const char *path) {
  PP_CHECK(path != NULL && path[0] != '\0', PP_ERR_INPUT, "FFTW wisdom path is empty");
  pp_status status = PP_SUCCESS;
  /* The temporary name carries the process id so that ranks writing at once never share it;
   * rename() then replaces path atomically. */
  size_t bytes = strlen(path) + 32;
  char *temporary = malloc(bytes);
  PP_CHECK(temporary != NULL, PP_ERR_MEMORY, "cannot allocate %zu bytes", bytes);
  snprintf(temporary, bytes, "%s.tmp.%ld", path, (long)getpid());
  PP_CHECK_GOTO(status, fftw_export_wisdom_to_filename(temporary) != 0, PP_ERR_IO,
                "cannot write FFTW wisdom to %s", temporary);
  if (rename(temporary, path) != 0) {
    int error = errno;
    PP_CHECK_GOTO(status, false, PP_ERR_IO, "cannot rename %s to %s: %s", temporary, path,
                  strerror(error));
  }
done:
  if (status != PP_SUCCESS) remove(temporary); /* a partial file, if any; ENOENT is fine */
  free(temporary);
  return status;
}
