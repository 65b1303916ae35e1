/* Minimal test harness: each check is one line with an explicit tolerance against an
 * independent truth, prints PASS/FAIL, and the program ends with "N passed, N failed".
 * Exit 0 when all passed, 1 otherwise, 77 to skip. Under MPI only rank 0 prints (include
 * <mpi.h> first to get pp_test_finish_all). */
#ifndef POLYPSF_TEST_H
#define POLYPSF_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "polypsf/core.h"

typedef struct {
  int passed, failed;
  int quiet; /* nonzero on ranks other than 0 */
} pp_test_counter;

static pp_test_counter pp_test_ = {0, 0, 0};

static inline void pp_test_report(int ok, const char *file, int line, const char *what,
                                  const char *detail) {
  if (ok) pp_test_.passed++;
  else pp_test_.failed++;
  if (!pp_test_.quiet || !ok)
    printf("%s %s:%d %s%s%s\n", ok ? "PASS" : "FAIL", file, line, what, detail[0] ? " — " : "",
           detail);
}

/* |got − want| ≤ tol */
#define PP_TEST_NEAR(got, want, tol, what)                                                 \
  do {                                                                                   \
    double g_ = (got), w_ = (want), t_ = (tol);                                          \
    char d_[256];                                                                        \
    snprintf(d_, sizeof d_, "got %.12g want %.12g (diff %.3g, tol %.3g)", g_, w_,        \
             fabs(g_ - w_), t_);                                                         \
    pp_test_report(fabs(g_ - w_) <= t_, __FILE__, __LINE__, what, d_);                   \
  } while (0)

#define PP_TEST_TRUE(cond, what) pp_test_report((cond) ? 1 : 0, __FILE__, __LINE__, what, "")

/* A call that must succeed; on failure prints the error and counts a failure. */
#define PP_TEST_OK(expr, what)                                                           \
  do {                                                                                   \
    pp_status s_ = (expr);                                                               \
    pp_test_report(s_ == PP_SUCCESS, __FILE__, __LINE__, what, pp_status_message(s_));   \
    pp_status_free(s_);                                                                  \
  } while (0)

/* Prints the closing line and returns the exit status for main. */
static inline int pp_test_finish(void) {
  if (!pp_test_.quiet) printf("%d passed, %d failed\n", pp_test_.passed, pp_test_.failed);
  return pp_test_.failed == 0 && pp_test_.passed > 0 ? 0 : 1;
}

#ifdef MPI_VERSION
/* Under MPI: the counts of every rank are added up, so that rank 0's closing line counts the
 * checks of all ranks (a failure on any of them included) and every rank returns the same
 * exit status, also a rank that made no check of its own. Collective on comm; call it before
 * MPI_Finalize. */
static inline int pp_test_finish_all(MPI_Comm comm) {
  int here[2] = {pp_test_.passed, pp_test_.failed}, all[2] = {0, 0};
  MPI_Allreduce(here, all, 2, MPI_INT, MPI_SUM, comm);
  pp_test_.passed = all[0];
  pp_test_.failed = all[1];
  return pp_test_finish();
}
#endif

#endif
