/* What the transform tests share: reproducible random fields, aligned arrays, and the error
 * measure every accuracy check uses. Header-only, for tests/propagate. */
#ifndef POLYPSF_PROPAGATE_TEST_SUPPORT_H
#define POLYPSF_PROPAGATE_TEST_SUPPORT_H

#include <complex.h>
#include <stdio.h>
#include <stdlib.h>

#include "polypsf/core.h"

/* Deterministic uniform numbers in [−1, 1) (xorshift64*), one state per caller. */
static inline double pp_random(unsigned long long *state) {
  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  unsigned long long r = *state * 2685821657736338717ULL;
  return (double)(r >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* n complex values, aligned as the library's own arrays; the test ends on failure (under
 * mpirun a rank exiting early ends the job). */
static inline double complex *pp_field(size_t n) {
  double complex *a = NULL;
  pp_status s = pp_array_alloc(n * sizeof *a, (void **)&a);
  if (s) {
    pp_status_print(s, stdout, false);
    pp_status_free(s);
    exit(1);
  }
  return a;
}

/* max |got − want| / max |want|: the error relative to the true result's peak. */
static inline double pp_max_abs_diff_relative(const double complex *got,
                                              const double complex *want, size_t n) {
  double peak = 0.0, worst = 0.0;
  for (size_t p = 0; p < n; p++) {
    if (cabs(want[p]) > peak) peak = cabs(want[p]);
    if (cabs(got[p] - want[p]) > worst) worst = cabs(got[p] - want[p]);
  }
  return worst / peak;
}

#endif
