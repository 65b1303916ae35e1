/* Dynamic task hand-out through one MPI-3 RMA window on rank 0: slot 0 is the next position
 * (a run of them for PSF grids: run.c), slot 1 the tasks finished, slot 2 + r the peak RSS rank r last reported. A rank takes
 * a task with one atomic fetch-and-add, so no rank ever waits for another to finish. */
#include <stdint.h>
#include <stdlib.h>

#include "polypsf/sched.h"

struct pp_dispatcher {
  MPI_Win window;
  MPI_Comm comm;
  int rank, size;
  size_t n_tasks;
  int64_t *slots;   /* window memory (rank 0 only) */
};

enum { PP_SLOT_NEXT = 0, PP_SLOT_DONE = 1, PP_SLOT_PEAKS = 2 };

pp_status pp_dispatcher_create(MPI_Comm comm, size_t n_tasks, pp_dispatcher **out) {
  *out = NULL;
  pp_dispatcher *d = calloc(1, sizeof *d);
  PP_CHECK(d != NULL, PP_ERR_MEMORY, "out of memory");
  d->comm = comm;
  d->n_tasks = n_tasks;
  MPI_Comm_rank(comm, &d->rank);
  MPI_Comm_size(comm, &d->size);
  MPI_Aint bytes = d->rank == 0 ? (MPI_Aint)((PP_SLOT_PEAKS + d->size) * sizeof(int64_t)) : 0;
  int rc = MPI_Win_allocate(bytes, sizeof(int64_t), MPI_INFO_NULL, comm, &d->slots, &d->window);
  if (rc != MPI_SUCCESS) {
    free(d);
    PP_CHECK(false, PP_ERR_MPI, "MPI_Win_allocate for the task counter failed");
  }
  if (d->rank == 0) {
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, d->window);
    for (int s = 0; s < PP_SLOT_PEAKS + d->size; s++) d->slots[s] = 0;
    MPI_Win_unlock(0, d->window);
  }
  MPI_Barrier(comm); /* nobody takes a task before the counter is zeroed */
  *out = d;
  return PP_SUCCESS;
}

static pp_status pp_dispatcher_add(pp_dispatcher *d, int slot, int64_t add, int64_t *before) {
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, d->window);
  int rc = MPI_Fetch_and_op(&add, before, MPI_INT64_T, 0, slot, MPI_SUM, d->window);
  MPI_Win_unlock(0, d->window);
  PP_CHECK(rc == MPI_SUCCESS, PP_ERR_MPI, "MPI_Fetch_and_op on the task counter failed");
  return PP_SUCCESS;
}

pp_status pp_dispatcher_next(pp_dispatcher *d, size_t count, size_t *position) {
  PP_CHECK(count >= 1 && count <= d->n_tasks + 1, PP_ERR_INTERNAL,
           "pp_dispatcher_next: a run of %zu positions", count);
  int64_t before = 0;
  PP_CALL(pp_dispatcher_add(d, PP_SLOT_NEXT, (int64_t)count, &before));
  *position = (size_t)before < d->n_tasks ? (size_t)before : d->n_tasks;
  return PP_SUCCESS;
}

pp_status pp_dispatcher_record_peak(pp_dispatcher *d, size_t peak_bytes) {
  int64_t peak = (int64_t)peak_bytes;
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, d->window);
  int rc = MPI_Accumulate(&peak, 1, MPI_INT64_T, 0, PP_SLOT_PEAKS + d->rank, 1, MPI_INT64_T,
                          MPI_MAX, d->window);
  MPI_Win_unlock(0, d->window);
  PP_CHECK(rc == MPI_SUCCESS, PP_ERR_MPI, "MPI_Accumulate of the peak memory failed");
  return PP_SUCCESS;
}

pp_status pp_dispatcher_done(pp_dispatcher *d, size_t peak_bytes) {
  int64_t ignored = 0;
  PP_CALL(pp_dispatcher_record_peak(d, peak_bytes));
  PP_CALL(pp_dispatcher_add(d, PP_SLOT_DONE, 1, &ignored));
  return PP_SUCCESS;
}

pp_status pp_dispatcher_progress(pp_dispatcher *d, size_t *done, size_t *peaks) {
  int64_t no_change = 0, finished = 0;
  PP_CALL(pp_dispatcher_add(d, PP_SLOT_DONE, no_change, &finished));
  *done = (size_t)finished;
  if (!peaks) return PP_SUCCESS;
  int64_t *buffer = malloc((size_t)d->size * sizeof *buffer);
  PP_CHECK(buffer != NULL, PP_ERR_MEMORY, "out of memory");
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, d->window);
  /* MPI_Get_accumulate with MPI_NO_OP reads atomically with respect to the MAX updates. */
  int rc = MPI_Get_accumulate(NULL, 0, MPI_INT64_T, buffer, d->size, MPI_INT64_T, 0,
                              PP_SLOT_PEAKS, d->size, MPI_INT64_T, MPI_NO_OP, d->window);
  MPI_Win_unlock(0, d->window);
  for (int r = 0; r < d->size; r++) peaks[r] = (size_t)buffer[r];
  free(buffer);
  PP_CHECK(rc == MPI_SUCCESS, PP_ERR_MPI, "reading the peak memory of the ranks failed");
  return PP_SUCCESS;
}

void pp_dispatcher_destroy(pp_dispatcher **dispatcher) {
  if (!dispatcher || !*dispatcher) return;
  MPI_Win_free(&(*dispatcher)->window);
  free(*dispatcher);
  *dispatcher = NULL;
}
