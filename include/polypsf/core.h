/* polypsf core: status and error reporting, logging, aligned arrays, units.
 *
 * Errors: every fallible function returns pp_status. PP_SUCCESS (NULL) means success;
 * anything else is an error object that carries a code, the sentence for the user
 * and the call sites it passed through. The caller either passes it up (PP_CALL),
 * or handles it and releases it with pp_status_free(). Nothing is global: two
 * threads or two MPI ranks never share an error. */
#ifndef POLYPSF_CORE_H
#define POLYPSF_CORE_H

#include <mpi.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error classes; the CLI maps them to exit codes (input → 2, stopped → 3, everything else
 * → 1). */
typedef enum {
  PP_ERR_NONE = 0,
  PP_ERR_INPUT,    /* bad job file, bad option, bad value: the user must change something */
  PP_ERR_IO,       /* a file could not be read or written */
  PP_ERR_MEMORY,   /* an allocation failed, or a plan does not fit the memory budget */
  PP_ERR_MPI,      /* an MPI call failed */
  PP_ERR_LIBRARY,  /* HDF5, FFTW, BLAS or libyaml failed */
  PP_ERR_INTERNAL, /* a broken invariant: a bug in polypsf */
  PP_ERR_STOPPED   /* the run stopped on request (SIGTERM) at a checkpoint; --resume continues */
} pp_error_code;

typedef struct pp_error *pp_status;
#define PP_SUCCESS ((pp_status)0)

/* Makes an error (the one function every error passes through: break here to catch all).
 * Never returns PP_SUCCESS; on allocation failure returns a shared constant error.
 * returns_nonnull tells the compiler so: a caller that returns this error has not set its
 * outputs, and the optimiser must not think the success path could be taken. */
pp_status pp_error_raise(pp_error_code code, const char *file, int line, const char *func,
                         const char *fmt, ...)
    __attribute__((format(printf, 5, 6), returns_nonnull));
/* Records one more call site on an error travelling up; returns it. */
pp_status pp_error_trace(pp_status status, const char *file, int line, const char *func);
pp_error_code pp_status_code(pp_status status);
/* The sentence for the user (never NULL; "" for PP_SUCCESS). */
const char *pp_status_message(pp_status status);
/* Writes the message and, when with_trace, the call sites (innermost first). */
void pp_status_print(pp_status status, FILE *stream, bool with_trace);
/* Releases an error (PP_SUCCESS and the shared out-of-memory constant are fine). */
void pp_status_free(pp_status status);

/* Pass a failure of expr up to the caller, adding this call site. */
#define PP_CALL(expr)                                                         \
  do {                                                                        \
    pp_status pp_call_status_ = (expr);                                       \
    if (pp_call_status_ != PP_SUCCESS)                                        \
      return pp_error_trace(pp_call_status_, __FILE__, __LINE__, __func__);   \
  } while (0)

/* Return an error of class code with a message unless cond holds. */
#define PP_CHECK(cond, code, ...)                                             \
  do {                                                                        \
    if (!(cond)) return pp_error_raise((code), __FILE__, __LINE__, __func__, __VA_ARGS__); \
  } while (0)

/* The same two for functions that own resources: store the error in `status` and
 * jump to the function's single `done:` label, where everything is released. */
#define PP_CALL_GOTO(status, expr)                                            \
  do {                                                                        \
    pp_status pp_call_status_ = (expr);                                       \
    if (pp_call_status_ != PP_SUCCESS) {                                      \
      (status) = pp_error_trace(pp_call_status_, __FILE__, __LINE__, __func__); \
      goto done;                                                              \
    }                                                                         \
  } while (0)
#define PP_CHECK_GOTO(status, cond, code, ...)                                \
  do {                                                                        \
    if (!(cond)) {                                                            \
      (status) = pp_error_raise((code), __FILE__, __LINE__, __func__, __VA_ARGS__); \
      goto done;                                                              \
    }                                                                         \
  } while (0)

/* ---- logging ------------------------------------------------------------------- */
typedef enum { PP_LOG_ERROR = 0, PP_LOG_WARN, PP_LOG_INFO, PP_LOG_DEBUG } pp_log_level;

/* Where log lines go. Made by the caller (the CLI), passed down by pointer; a NULL
 * logger is silent. Only rank 0 logs unless all_ranks is set. */
typedef struct pp_logger {
  FILE *stream;
  pp_log_level level;
  int rank;
  bool all_ranks;
  bool plain;           /* lines without time stamp and level (for `polypsf plan`) */
  double start_seconds; /* pp_wtime() at start: lines are stamped with elapsed seconds */
} pp_logger;

void pp_logger_init(pp_logger *logger, FILE *stream, pp_log_level level, int rank);
void pp_log(const pp_logger *logger, pp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parses "error|warn|info|debug". */
pp_status pp_log_level_parse(const char *text, pp_log_level *level);

/* Monotonic wall-clock seconds. */
double pp_wtime(void);
/* Peak resident set size of this process in bytes (getrusage). */
size_t pp_peak_rss_bytes(void);

/* ---- aligned arrays --------------------------------------------------------------- */
/* 64-byte aligned allocation (for SIMD and FFTW); zero-filled. */
pp_status pp_array_alloc(size_t bytes, void **out);
/* Frees an array from pp_array_alloc and sets *ptr to NULL (accepts NULL). */
void pp_array_free(void *ptr_to_ptr);

/* Checked size arithmetic for allocations: errors instead of wrapping around. */
pp_status pp_size_mul(size_t a, size_t b, size_t *out);

/* YAML 1.2 core-schema decimal number: [-+]? (digits [. digits?] | . digits) ([eE] [-+]?
 * digits)?; no hex, inf or nan, no blanks (stricter than strtod). The grammar of numbers in
 * job files and spectrum text files. Not collective. */
bool pp_text_is_decimal_number(const char *text);

/* ---- agreeing across ranks ------------------------------------------------------------ */
/* The one way a collective step decides its outcome: every rank of comm leaves with the same
 * verdict. Takes ownership of `local`. PP_SUCCESS when `local` is PP_SUCCESS on every rank;
 * otherwise a failing rank keeps its own status (with its call sites) and every other rank
 * gets an error of the lowest failing rank's code and message, so that rank 0, which prints,
 * says what went wrong wherever it went wrong. When the agreement itself fails no rank can
 * know what the others do: the message goes to stderr and MPI_Abort ends the run.
 * Collective on comm. */
pp_status pp_agree(MPI_Comm comm, pp_status local);

/* An MPI return code turned into a PP_ERR_MPI error with the call site, the sentence and
 * MPI's own words (MPI_Error_string); PP_SUCCESS for MPI_SUCCESS. Not collective. */
pp_status pp_mpi_status(int mpi_code, const char *file, int line, const char *func,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define PP_MPI_CHECK(call, ...) \
  PP_CALL(pp_mpi_status((call), __FILE__, __LINE__, __func__, __VA_ARGS__))
#define PP_MPI_CHECK_GOTO(status, call, ...) \
  PP_CALL_GOTO(status, pp_mpi_status((call), __FILE__, __LINE__, __func__, __VA_ARGS__))

/* Communicators polypsf creates: a duplicate of comm (MPI_Comm_dup), a split of it by colour
 * (MPI_Comm_split; MPI_UNDEFINED gives MPI_COMM_NULL), or its ranks that share memory, one
 * node (MPI_Comm_split_type, MPI_COMM_TYPE_SHARED); each with MPI_ERRORS_RETURN, so that a
 * failing MPI call on it comes back as a pp_status instead of aborting every rank. On failure
 * *out is MPI_COMM_NULL. Collective on comm. */
pp_status pp_comm_dup(MPI_Comm comm, MPI_Comm *out);
pp_status pp_comm_split(MPI_Comm comm, int color, int key, MPI_Comm *out);
pp_status pp_comm_split_shared(MPI_Comm comm, int key, MPI_Comm *out);

/* ---- units -------------------------------------------------------------------------- */
/* The constant astropy uses (180·3600/π), so that sky angles agree with POPPY. */
#define PP_ARCSEC_PER_RADIAN 206264.80624709636
#define PP_PI 3.14159265358979323846

/* The library version string ("0.1.0"). */
const char *pp_version(void);

#ifdef __cplusplus
}
#endif
#endif
