/* The physics tests' one measure of agreement with a reference: the largest absolute
 * difference over the reference's peak (the acceptance rule of ../shared/reference/README). */
#ifndef POLYPSF_TESTS_COMPARE_H
#define POLYPSF_TESTS_COMPARE_H

#include <math.h>
#include <stddef.h>

/* max |got − want| / max(want) over n values. */
static inline double pp_worst_relative(const double *got, const double *want, size_t n) {
  double peak = 0.0, worst = 0.0;
  for (size_t p = 0; p < n; p++) {
    if (want[p] > peak) peak = want[p];
    if (fabs(got[p] - want[p]) > worst) worst = fabs(got[p] - want[p]);
  }
  return worst / peak;
}

#endif
