/* What every benchmark in jobs/bench needs: robust statistics over rounds, the CPU's
 * name for the record, and printing a failure. Header-only: benchmarks are single files. */
#ifndef POLYPSF_BENCH_SUPPORT_H
#define POLYPSF_BENCH_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/core.h"

static inline int pp_compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of count values (the input is left in its order). */
static inline double pp_median(const double *values, int count) {
  double *sorted = malloc((size_t)count * sizeof *sorted);
  if (!sorted || count <= 0) {
    free(sorted);
    return 0.0;
  }
  memcpy(sorted, values, (size_t)count * sizeof *values);
  qsort(sorted, (size_t)count, sizeof *sorted, pp_compare_doubles);
  double m = count % 2 ? sorted[count / 2] : 0.5 * (sorted[count / 2 - 1] + sorted[count / 2]);
  free(sorted);
  return m;
}

static inline double pp_min(const double *values, int count) {
  double best = values[0];
  for (int i = 1; i < count; i++)
    if (values[i] < best) best = values[i];
  return best;
}

/* The "model name" line of /proc/cpuinfo, for the record next to the figures. */
static inline void pp_cpu_model(char *model, size_t bytes) {
  snprintf(model, bytes, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) == 0) {
      char *colon = strchr(line, ':');
      if (colon) {
        snprintf(model, bytes, "%s", colon + 2);
        model[strcspn(model, "\n")] = '\0';
      }
      break;
    }
  }
  fclose(f);
}

/* Prints a failure with its call sites and returns the exit status 1. */
static inline int pp_fail(pp_status status) {
  pp_status_print(status, stderr, true);
  pp_status_free(status);
  return 1;
}

#endif
