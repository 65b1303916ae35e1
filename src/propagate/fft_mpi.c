/* POPPY's padded-FFT propagation distributed over a group of ranks with FFTW's MPI layer:
 * one N × N transform, rows cut into slabs (FFTW-MPI's decomposition), each rank holding
 * rows [row0, row0 + nrows) of the field before and after the transform.
 *
 * Same result as pp_fft_propagate (fft.c) on the rows a rank holds: same sign, same shifts,
 * same 1/N scale. The shifts cannot be the serial quadrant swap: fftshift along y moves rows
 * between ranks. For even N they are modulations instead, which move no data:
 *   pupil → image: fftshift(BACKWARD(x))[k] = BACKWARD((−1)^(y+x)·x)[k]  (modulate the input)
 *   image → pupil: FORWARD(ifftshift(x))[k] = (−1)^(ky+kx)·FORWARD(x)[k] (modulate the output)
 * with y the global row index (row0 + local row). The 1/N scale rides on the modulation, so a
 * propagation is one pass over the slab plus FFTW's transform. Odd N is refused: POPPY's
 * padded sizes npix·fft_oversample are even, and an odd fftshift would need a row exchange.
 *
 * The transform is FFTW-MPI's in-place plan (fftw_mpi_plan_dft_2d, normal row order in and
 * out: FFTW transposes there and back). The input is copied (modulated) into the output slab,
 * which is then transformed in place, so the input is preserved, in == out works, and the
 * output slab must have room for pp_fft_mpi_local_elements (FFTW's alloc_local, which may
 * exceed nrows·N: the transposed slab can be larger on uneven decompositions).
 *
 * Global state. fftw_mpi_init must run once per process, after MPI_Init and before any MPI
 * plan: it registers FFTW-MPI's solvers with FFTW's process-wide planner (state FFTW
 * requires; FFTW guards it, so the call in every create is the "once"). polypsf keeps no state
 * of its own; fftw_mpi_cleanup is left to process exit. The planner is not thread-safe:
 * create and destroy from one thread. */
#include <complex.h> /* before fftw3.h: fftw_complex is then double complex */
#include <fftw3-mpi.h>
#include <fftw3.h>

#include "polypsf/propagate.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

struct pp_fft_mpi_plan {
  MPI_Comm comm;          /* duplicated: the group's own agreements never meet the caller's */
  size_t n;               /* N: the field is N × N */
  size_t row0, nrows;     /* this rank's slab */
  size_t local_elements;  /* FFTW's alloc_local: what an output slab must hold */
  pp_fft_direction direction;
  fftw_plan transform;    /* in place, made on a planning slab freed before create returns */
  int alignment;          /* fftw_alignment_of the planning slab */
};

static unsigned pp_fft_mpi_rigor_flags(pp_fft_rigor rigor) {
  switch (rigor) {
    case PP_FFT_MEASURE: return FFTW_MEASURE;
    case PP_FFT_PATIENT: return FFTW_PATIENT;
    case PP_FFT_ESTIMATE:
    default: return FFTW_ESTIMATE;
  }
}

size_t pp_fft_mpi_plan_bytes(size_t n, size_t ranks) {
  if (ranks == 0) ranks = 1;
  /* FFTW-MPI's default block is ceil(N/ranks) rows (and columns after the transpose), so
   * the largest slab, and alloc_local, is block·N elements. The planning slab lives during
   * create; FFTW-MPI's in-place transposes take a scratch slab of at most that size while
   * executing (FFTW allocates it, not polypsf): one slab either way. */
  size_t block = (n + ranks - 1) / ranks;
  return block * n * sizeof(double complex) + sizeof(struct pp_fft_mpi_plan);
}

/* The checks of create that need no communication but must give one answer on every rank:
 * they run after the ranks agreed on the arguments. */
static pp_status pp_fft_mpi_check_arguments(size_t n, pp_fft_direction direction,
                                            pp_fft_rigor rigor) {
  PP_CHECK(direction == PP_FFT_FORWARD || direction == PP_FFT_BACKWARD, PP_ERR_INTERNAL,
           "unknown FFT direction %d", (int)direction);
  PP_CHECK(rigor == PP_FFT_ESTIMATE || rigor == PP_FFT_MEASURE || rigor == PP_FFT_PATIENT,
           PP_ERR_INTERNAL, "unknown FFT rigor %d", (int)rigor);
  PP_CHECK(n > 0 && n <= (size_t)INT_MAX / 2, PP_ERR_INPUT,
           "cannot plan a distributed %zu × %zu FFT", n, n);
  PP_CHECK(n % 2 == 0, PP_ERR_INPUT,
           "the distributed FFT propagation needs an even size, got %zu × %zu: its shifts are "
           "modulations, exact for even sizes only (POPPY's padded sizes npix·fft_oversample "
           "are even); propagate an odd size on one rank with pp_fft_propagate", n, n);
  return PP_SUCCESS;
}

pp_status pp_fft_mpi_plan_create(MPI_Comm comm, size_t n, pp_fft_direction direction,
                                 pp_fft_rigor rigor, pp_fft_mpi_plan **plan) {
  PP_CHECK(plan != NULL, PP_ERR_INTERNAL, "pp_fft_mpi_plan_create needs an output");
  *plan = NULL;
  pp_status status = PP_SUCCESS;
  pp_fft_mpi_plan *p = NULL;
  double complex *planning = NULL;
  MPI_Comm group = MPI_COMM_NULL;

  /* Agree on the arguments first: ranks planning different transforms would wait in FFTW's
   * collective planner forever. */
  long long args[3] = {(long long)n, (long long)direction, (long long)rigor}, lo[3], hi[3];
  PP_CHECK(MPI_Allreduce(args, lo, 3, MPI_LONG_LONG, MPI_MIN, comm) == MPI_SUCCESS &&
               MPI_Allreduce(args, hi, 3, MPI_LONG_LONG, MPI_MAX, comm) == MPI_SUCCESS,
           PP_ERR_MPI, "MPI_Allreduce failed while planning a distributed FFT");
  PP_CHECK(memcmp(lo, hi, sizeof lo) == 0, PP_ERR_INTERNAL,
           "the ranks of an FFTW-MPI group asked for different transforms (sizes %lld to %lld)",
           lo[0], hi[0]);
  /* identical arguments: these fail on every rank or on none */
  PP_CALL(pp_fft_mpi_check_arguments(n, direction, rigor));

  fftw_mpi_init(); /* FFTW-required process state; FFTW makes repeated calls no-ops */
  PP_CALL(pp_comm_dup(comm, &group));

  ptrdiff_t local_n0 = 0, local_0_start = 0;
  ptrdiff_t alloc_local =
      fftw_mpi_local_size_2d((ptrdiff_t)n, (ptrdiff_t)n, group, &local_n0, &local_0_start);
  pp_status local = pp_array_alloc(sizeof *p, (void **)&p);
  if (local == PP_SUCCESS) {
    *p = (struct pp_fft_mpi_plan){.comm = MPI_COMM_NULL, .n = n, .row0 = (size_t)local_0_start,
                                  .nrows = (size_t)local_n0,
                                  .local_elements = (size_t)(alloc_local > 0 ? alloc_local : 1),
                                  .direction = direction};
    /* Planning slab from the caller's allocator, so that FFTW records the alignment
     * pp_array_alloc gives; MEASURE and PATIENT overwrite it; freed below. */
    local = pp_array_alloc(p->local_elements * sizeof(double complex), (void **)&planning);
  }
  PP_CALL_GOTO(status, pp_agree(group, local));
  p->comm = group; /* owned by p now */
  group = MPI_COMM_NULL;

  p->transform = fftw_mpi_plan_dft_2d((ptrdiff_t)n, (ptrdiff_t)n, planning, planning, p->comm,
                                      (int)direction, pp_fft_mpi_rigor_flags(rigor));
  /* FFTW-MPI's planner agrees across the ranks, so a missing plan is missing everywhere;
   * agreeing again costs one Allreduce and guards the rule anyway. */
  local = PP_SUCCESS;
  if (p->transform == NULL)
    local = pp_error_raise(PP_ERR_LIBRARY, __FILE__, __LINE__, __func__,
                           "FFTW-MPI could not plan a %zu × %zu transform", n, n);
  else
    p->alignment = fftw_alignment_of((double *)planning);
  PP_CALL_GOTO(status, pp_agree(p->comm, local));
  *plan = p;
  p = NULL;
done:
  pp_array_free(&planning);
  pp_fft_mpi_plan_destroy(&p);
  if (group != MPI_COMM_NULL) MPI_Comm_free(&group);
  return status;
}

void pp_fft_mpi_local_rows(const pp_fft_mpi_plan *plan, size_t *row0, size_t *nrows) {
  if (row0) *row0 = plan ? plan->row0 : 0;
  if (nrows) *nrows = plan ? plan->nrows : 0;
}

size_t pp_fft_mpi_local_elements(const pp_fft_mpi_plan *plan) {
  return plan ? plan->local_elements : 0;
}

void pp_fft_mpi_plan_destroy(pp_fft_mpi_plan **plan) {
  if (!plan || !*plan) return;
  if ((*plan)->transform) fftw_destroy_plan((*plan)->transform);
  if ((*plan)->comm != MPI_COMM_NULL) MPI_Comm_free(&(*plan)->comm);
  pp_array_free(plan);
}

/* The local checks of the slabs of a transform (before the group agrees on them). */
static pp_status pp_fft_mpi_check_slabs(const pp_fft_mpi_plan *plan,
                                        const double complex *in_local,
                                        const double complex *out_local) {
  PP_CHECK(in_local != NULL && out_local != NULL, PP_ERR_INTERNAL,
           "distributed FFT propagation needs an input and an output slab");
  int alignment = fftw_alignment_of((double *)(uintptr_t)out_local);
  PP_CHECK(alignment == plan->alignment, PP_ERR_INTERNAL,
           "the output slab must be aligned like pp_array_alloc's (FFTW alignment %d, got %d)",
           plan->alignment, alignment);
  /* An overlap other than in == out would be overwritten by the copy before it is read. */
  size_t slab = plan->nrows * plan->n;
  PP_CHECK(in_local == out_local || in_local + slab <= out_local ||
               out_local + plan->local_elements <= in_local,
           PP_ERR_INTERNAL, "input and output slabs overlap");
  return PP_SUCCESS;
}

/* The local checks of a propagation: its kind against the plan's direction, then the slabs. */
static pp_status pp_fft_mpi_check_propagate(const pp_fft_mpi_plan *plan,
                                            const double complex *in_local,
                                            const double complex *out_local,
                                            pp_fft_propagation propagation) {
  PP_CHECK(propagation == PP_FFT_PUPIL_TO_IMAGE || propagation == PP_FFT_IMAGE_TO_PUPIL,
           PP_ERR_INTERNAL, "unknown FFT propagation %d", (int)propagation);
  pp_fft_direction needed =
      propagation == PP_FFT_PUPIL_TO_IMAGE ? PP_FFT_BACKWARD : PP_FFT_FORWARD;
  PP_CHECK(plan->direction == needed, PP_ERR_INTERNAL, "%s propagation needs a %s FFT plan",
           propagation == PP_FFT_PUPIL_TO_IMAGE ? "pupil → image" : "image → pupil",
           needed == PP_FFT_BACKWARD ? "PP_FFT_BACKWARD" : "PP_FFT_FORWARD");
  return pp_fft_mpi_check_slabs(plan, in_local, out_local);
}

/* out[y][x] = (−1)^(row0 + y + x)·scale·in[y][x] over the slab; in == out allowed. */
static void pp_fft_mpi_modulate(const double complex *in, double complex *out, size_t row0,
                                size_t nrows, size_t n, double scale) {
  for (size_t y = 0; y < nrows; y++) {
    const double complex *src = in + y * n;
    double complex *dst = out + y * n;
    double sign = (row0 + y) % 2 ? -scale : scale;
    for (size_t x = 0; x < n; x += 2) { /* n is even */
      dst[x] = src[x] * sign;
      dst[x + 1] = src[x + 1] * -sign;
    }
  }
}

pp_status pp_fft_mpi_propagate(const pp_fft_mpi_plan *plan, const double complex *in_local,
                               double complex *out_local, pp_fft_propagation propagation) {
  /* Without a plan there is no group to tell: the caller's bug, on this rank. */
  PP_CHECK(plan != NULL, PP_ERR_INTERNAL, "distributed FFT propagation needs a plan");
  /* Agree before FFTW's collective execute, so one rank's bad call never leaves the others
   * waiting in the transposes. */
  PP_CALL(pp_agree(plan->comm,
                           pp_fft_mpi_check_propagate(plan, in_local, out_local, propagation)));
  const size_t n = plan->n;
  const double unitary = 1.0 / (double)n; /* 1/sqrt(N·N) */
  if (propagation == PP_FFT_PUPIL_TO_IMAGE) {
    pp_fft_mpi_modulate(in_local, out_local, plan->row0, plan->nrows, n, unitary);
    fftw_mpi_execute_dft(plan->transform, out_local, out_local);
  } else {
    if (in_local != out_local) memcpy(out_local, in_local, plan->nrows * n * sizeof *out_local);
    fftw_mpi_execute_dft(plan->transform, out_local, out_local);
    pp_fft_mpi_modulate(out_local, out_local, plan->row0, plan->nrows, n, unitary);
  }
  return PP_SUCCESS;
}

pp_status pp_fft_mpi_transform_centred(const pp_fft_mpi_plan *plan,
                                       const double complex *in_local,
                                       double complex *out_local) {
  PP_CHECK(plan != NULL, PP_ERR_INTERNAL, "distributed centred FFT needs a plan");
  PP_CALL(pp_agree(plan->comm, pp_fft_mpi_check_slabs(plan, in_local, out_local)));
  /* Both shifts as modulations (the propagations' identities on each side): the input's
   * sign flip is exact, the output's carries the 1/N. */
  const size_t n = plan->n;
  pp_fft_mpi_modulate(in_local, out_local, plan->row0, plan->nrows, n, 1.0);
  fftw_mpi_execute_dft(plan->transform, out_local, out_local);
  pp_fft_mpi_modulate(out_local, out_local, plan->row0, plan->nrows, n, 1.0 / (double)n);
  return PP_SUCCESS;
}
