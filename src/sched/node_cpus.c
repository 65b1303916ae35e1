/* How many CPUs one node's ranks and their threads may use: the smallest of the CPUs online,
 * the cgroup's cpuset and what Slurm granted; and how many this process itself may run on
 * (its affinity mask, which mpirun's binding narrows). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/sched.h"
#include "sched_private.h"

const char *pp_cpu_source_name(pp_cpu_source source) {
  static const char *const names[PP_CPU_N_SOURCES] = {"online", "cpuset", "SLURM_CPUS_ON_NODE"};
  return (unsigned)source < PP_CPU_N_SOURCES ? names[source] : "?";
}

pp_status pp_parse_cpu_list(const char *text, int *count) {
  PP_CHECK(text != NULL && count != NULL, PP_ERR_INTERNAL, "pp_parse_cpu_list needs a text");
  const char *p = text;
  long total = 0;
  while (*p && *p != '\n') {
    char *end = NULL;
    long first = strtol(p, &end, 10);
    PP_CHECK(end != p && first >= 0, PP_ERR_INPUT, "CPU list '%s' is not like 0-3,8,10-11", text);
    long last = first;
    p = end;
    if (*p == '-') {
      last = strtol(p + 1, &end, 10);
      PP_CHECK(end != p + 1 && last >= first, PP_ERR_INPUT, "CPU list '%s' has a bad range", text);
      p = end;
    }
    total += last - first + 1;
    PP_CHECK(total <= 1 << 24, PP_ERR_INPUT, "CPU list '%s' is too long", text);
    if (*p == ',') p++;
    else PP_CHECK(*p == '\0' || *p == '\n', PP_ERR_INPUT, "CPU list '%s' is not like 0-3,8,10-11",
                  text);
  }
  *count = (int)total;
  return PP_SUCCESS;
}

/* The cpuset of this process's cgroup, v2 (cpuset.cpus.effective) or v1
 * (cpuset.effective_cpus), at the path /proc/self/cgroup names or at the mount's root (a
 * container may not see its own path); the smallest found. 0 when none. */
static int pp_probe_cpuset(const char *proc_root, const char *cgroup_root) {
  char line[1024], candidates[4][PP_CGROUP_PATH_MAX];
  pp_sched_cgroup_candidates(proc_root, cgroup_root, "cpuset", "cpuset.cpus.effective",
                             "cpuset.effective_cpus", candidates);
  int best = 0;
  for (int c = 0; c < 4; c++) {
    FILE *cf = fopen(candidates[c], "r");
    if (!cf) continue;
    int count = 0;
    bool ok = fgets(line, sizeof line, cf) != NULL;
    fclose(cf);
    pp_status status = ok ? pp_parse_cpu_list(line, &count) : PP_SUCCESS;
    /* an unreadable or empty cpuset file says nothing about the limit */
    if (ok && !status && count > 0 && (best == 0 || count < best)) best = count;
    pp_status_free(status);
  }
  return best;
}

pp_status pp_sched_node_cpus(const pp_cpu_probe_config *config, pp_node_cpus *cpus) {
  static const pp_cpu_probe_config defaults = {0};
  if (!config) config = &defaults;
  *cpus = (pp_node_cpus){0};
  const char *proc_root = config->proc_root ? config->proc_root : "/proc";
  const char *cgroup_root = config->cgroup_root ? config->cgroup_root : "/sys/fs/cgroup";
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (online > 0) {
    cpus->present[PP_CPU_ONLINE] = true;
    cpus->count[PP_CPU_ONLINE] = (int)online;
  }
  int cpuset = pp_probe_cpuset(proc_root, cgroup_root);
  if (cpuset > 0) {
    cpus->present[PP_CPU_CGROUP] = true;
    cpus->count[PP_CPU_CGROUP] = cpuset;
  }
  const char *slurm = getenv("SLURM_CPUS_ON_NODE");
  if (slurm && *slurm) {
    char *end = NULL;
    long value = strtol(slurm, &end, 10);
    PP_CHECK(end != slurm && *end == '\0' && value >= 1 && value <= 1 << 24, PP_ERR_INPUT,
             "environment variable SLURM_CPUS_ON_NODE='%s' is not a number of CPUs", slurm);
    cpus->present[PP_CPU_SLURM] = true;
    cpus->count[PP_CPU_SLURM] = (int)value;
  }
  for (int s = 0; s < PP_CPU_N_SOURCES; s++) {
    if (!cpus->present[s]) continue;
    if (cpus->available == 0 || cpus->count[s] < cpus->available) {
      cpus->available = cpus->count[s];
      cpus->limiting = (pp_cpu_source)s;
    }
  }
  if (cpus->available == 0) { /* nothing readable: assume one CPU rather than refuse to run */
    cpus->available = 1;
    cpus->limiting = PP_CPU_ONLINE;
  }
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) cpus->affinity = CPU_COUNT(&mask);
  return PP_SUCCESS;
}
