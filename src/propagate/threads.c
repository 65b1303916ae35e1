/* Threads inside one rank: FFTW's threaded planner (libfftw3_threads) and OpenBLAS's thread
 * pool. Only the transforms run threaded — FFTW's plans (chirp-z lines, image-plane FFTs) and
 * the MFT's BLAS products; polypsf's own loops (pupil, |E|², rebinning) stay on the calling
 * thread, which is the only one that calls MPI (MPI_THREAD_FUNNELED).
 *
 * Global state: FFTW's planner thread count and OpenBLAS's pool size are process-wide (state
 * the libraries require; polypsf keeps none). fftw_init_threads guards itself against repeated
 * calls. FFTW's wisdom keys every plan by the thread count it was planned with, so wisdom
 * made with 2 threads is not used by a 1-thread planner: ranks that share wisdom must plan
 * with the same count (pp_run checks that they do). */
#include <cblas.h>
#include <complex.h> /* before fftw3.h: fftw_complex is then double complex */
#include <fftw3.h>

#include "polypsf/propagate.h"

pp_status pp_threads_init(void) {
  PP_CHECK(fftw_init_threads() != 0, PP_ERR_LIBRARY,
           "FFTW could not set up its threads (fftw_init_threads failed)");
  return PP_SUCCESS;
}

pp_status pp_threads_set(int threads) {
  PP_CHECK(threads >= 1 && threads <= PP_MAX_THREADS_PER_RANK, PP_ERR_INPUT,
           "threads per rank must be from 1 to %d, got %d", PP_MAX_THREADS_PER_RANK, threads);
  /* Without this, fftw_plan_with_nthreads would initialise threads itself after an
   * fftw_cleanup, which would invalidate any plan made before. */
  PP_CALL(pp_threads_init());
  fftw_plan_with_nthreads(threads);
  openblas_set_num_threads(threads);
  return PP_SUCCESS;
}

int pp_threads_fftw(void) { return fftw_planner_nthreads(); }

int pp_threads_blas(void) { return openblas_get_num_threads(); }
