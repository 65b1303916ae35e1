/* Log lines stamped with elapsed seconds, filtered by level and rank. */
#include "polypsf/core.h"

#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

double pp_wtime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

size_t pp_peak_rss_bytes(void) {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return (size_t)usage.ru_maxrss * 1024u; /* Linux reports kilobytes */
}

void pp_logger_init(pp_logger *logger, FILE *stream, pp_log_level level, int rank) {
  *logger = (pp_logger){.stream = stream, .level = level, .rank = rank, .all_ranks = false,
                        .plain = false, .start_seconds = pp_wtime()};
}

void pp_log(const pp_logger *logger, pp_log_level level, const char *fmt, ...) {
  if (!logger || !logger->stream || level > logger->level) return;
  if (logger->rank != 0 && !logger->all_ranks && level > PP_LOG_ERROR) return;
  static const char *const names[] = {"error", "warn", "info", "debug"};
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  /* One fprintf per line so that lines of different ranks do not interleave mid-line. */
  if (logger->plain)
    fprintf(logger->stream, "%s\n", line);
  else
    fprintf(logger->stream, "[%9.3f s] %-5s %s\n", pp_wtime() - logger->start_seconds,
            names[level], line);
  fflush(logger->stream);
}

pp_status pp_log_level_parse(const char *text, pp_log_level *level) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  for (int i = 0; i <= PP_LOG_DEBUG; i++) {
    if (strcasecmp(text, names[i]) == 0) {
      *level = (pp_log_level)i;
      return PP_SUCCESS;
    }
  }
  PP_CHECK(false, PP_ERR_INPUT, "unknown log level '%s' (allowed: error, warn, info, debug)",
           text);
  return PP_SUCCESS;
}
