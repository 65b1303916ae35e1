/* How much memory one node may use: the smallest of what the kernel says is available,
 * what the cgroup allows, what Slurm granted and what the user asked for. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/sched.h"
#include "sched_private.h"

enum { PP_MEBIBYTE = 1024 * 1024 };
/* A cgroup limit this large means "no limit" (v1 writes LONG_MAX rounded to pages). */
static const size_t pp_cgroup_unlimited_bytes = (size_t)1 << 60;

const char *pp_memory_source_name(pp_memory_source source) {
  static const char *const names[PP_MEM_N_SOURCES] = {
      "MemAvailable", "cgroup", "SLURM_MEM_PER_NODE", "SLURM_MEM_PER_CPU", "--mem-per-node"};
  return (unsigned)source < PP_MEM_N_SOURCES ? names[source] : "?";
}

pp_status pp_parse_bytes(const char *text, size_t *bytes) {
  PP_CHECK(text && *text, PP_ERR_INPUT, "empty memory size (expected e.g. 512M or 64G)");
  errno = 0;
  char *end = NULL;
  double value = strtod(text, &end);
  PP_CHECK(end != text && errno == 0 && isfinite(value) && value > 0, PP_ERR_INPUT,
           "memory size '%s' is not a positive number with an optional K, M, G or T suffix",
           text);
  double scale = PP_MEBIBYTE; /* bare numbers are MiB, as in Slurm */
  switch (toupper((unsigned char)*end)) {
    case '\0': break;
    case 'K': scale = 1024.0; end++; break;
    case 'M': scale = 1024.0 * 1024.0; end++; break;
    case 'G': scale = 1024.0 * 1024.0 * 1024.0; end++; break;
    case 'T': scale = 1024.0 * 1024.0 * 1024.0 * 1024.0; end++; break;
    default: break;
  }
  if (toupper((unsigned char)*end) == 'I' && toupper((unsigned char)end[1]) == 'B') end += 2;
  else if (toupper((unsigned char)*end) == 'B') end++;
  PP_CHECK(*end == '\0', PP_ERR_INPUT,
           "memory size '%s' has an unknown unit (allowed: K, M, G, T; a bare number is MiB)",
           text);
  PP_CHECK(value * scale < 0x1p62, PP_ERR_INPUT, "memory size '%s' is too large", text);
  *bytes = (size_t)(value * scale);
  return PP_SUCCESS;
}

/* Reads the first line of a small file; false when it cannot be read. */
static bool pp_read_line(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  if (!f) return false;
  bool ok = fgets(buf, (int)size, f) != NULL;
  fclose(f);
  return ok;
}

static bool pp_read_mem_available(const char *proc_root, size_t *bytes) {
  char path[512], line[256];
  snprintf(path, sizeof path, "%s/meminfo", proc_root);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  bool found = false;
  unsigned long long kib = 0;
  while (!found && fgets(line, sizeof line, f))
    found = sscanf(line, "MemAvailable: %llu kB", &kib) == 1;
  fclose(f);
  if (found) *bytes = (size_t)kib * 1024u;
  return found;
}

/* A cgroup limit file holds a byte count, or "max" (v2) / a huge number (v1) for none. */
static bool pp_read_cgroup_limit(const char *path, size_t *bytes) {
  char line[128];
  if (!pp_read_line(path, line, sizeof line)) return false;
  if (strncmp(line, "max", 3) == 0) return false;
  char *end = NULL;
  unsigned long long value = strtoull(line, &end, 10);
  if (end == line || value >= pp_cgroup_unlimited_bytes) return false;
  *bytes = (size_t)value;
  return true;
}

/* Finds this process's memory cgroup (from /proc/self/cgroup) and its limit. Inside a
 * container the cgroup path may not exist under the mount, so the mount's own root file
 * is tried as well; the smallest limit found wins. */
static void pp_probe_cgroup(const char *proc_root, const char *cgroup_root, pp_node_memory *m) {
  char candidates[4][PP_CGROUP_PATH_MAX];
  pp_sched_cgroup_candidates(proc_root, cgroup_root, "memory", "memory.max",
                             "memory.limit_in_bytes", candidates);
  for (int c = 0; c < 4; c++) {
    size_t bytes = 0;
    if (pp_read_cgroup_limit(candidates[c], &bytes) &&
        (!m->present[PP_MEM_CGROUP] || bytes < m->bytes[PP_MEM_CGROUP])) {
      m->present[PP_MEM_CGROUP] = true;
      m->bytes[PP_MEM_CGROUP] = bytes;
      size_t len = strnlen(candidates[c], sizeof m->cgroup_file - 1);
      memcpy(m->cgroup_file, candidates[c], len);
      m->cgroup_file[len] = '\0';
    }
  }
}

/* Slurm exports sizes in MiB; 0 (from --mem=0) means the whole node, i.e. no limit of
 * its own; a malformed value is a broken environment, not ignorable. */
static pp_status pp_probe_slurm_mebibytes(const char *name, bool *present, size_t *mebibytes) {
  const char *text = getenv(name);
  *present = false;
  if (!text || !*text) return PP_SUCCESS;
  char *end = NULL;
  unsigned long long value = strtoull(text, &end, 10);
  PP_CHECK(end != text && *end == '\0' && text[0] != '-', PP_ERR_INPUT,
           "environment variable %s='%s' is not a number of MiB", name, text);
  if (value == 0) return PP_SUCCESS;
  *present = true;
  *mebibytes = (size_t)value;
  return PP_SUCCESS;
}

pp_status pp_sched_node_memory(const pp_memory_probe_config *config, pp_node_memory *m) {
  *m = (pp_node_memory){0};
  const char *proc_root = config->proc_root ? config->proc_root : "/proc";
  const char *cgroup_root = config->cgroup_root ? config->cgroup_root : "/sys/fs/cgroup";
  bool machine = !(config->override_only && config->override_bytes > 0);
  if (machine) {
    m->present[PP_MEM_AVAILABLE] = pp_read_mem_available(proc_root, &m->bytes[PP_MEM_AVAILABLE]);
    pp_probe_cgroup(proc_root, cgroup_root, m);
  }

  bool present = false;
  size_t mib = 0;
  if (machine) PP_CALL(pp_probe_slurm_mebibytes("SLURM_MEM_PER_NODE", &present, &mib));
  if (present) {
    m->present[PP_MEM_SLURM_PER_NODE] = true;
    m->bytes[PP_MEM_SLURM_PER_NODE] = mib * PP_MEBIBYTE;
  }
  present = false;
  if (machine) PP_CALL(pp_probe_slurm_mebibytes("SLURM_MEM_PER_CPU", &present, &mib));
  if (present) {
    size_t cpus = config->cpus_on_node > 0 ? (size_t)config->cpus_on_node : 1;
    const char *slurm_cpus = getenv("SLURM_CPUS_ON_NODE");
    if (slurm_cpus && atoi(slurm_cpus) > 0) cpus = (size_t)atoi(slurm_cpus);
    m->present[PP_MEM_SLURM_PER_CPU] = true;
    m->bytes[PP_MEM_SLURM_PER_CPU] = mib * PP_MEBIBYTE * cpus;
  }
  if (config->override_bytes > 0) {
    m->present[PP_MEM_OVERRIDE] = true;
    m->bytes[PP_MEM_OVERRIDE] = config->override_bytes;
  }

  bool any = false;
  for (int s = 0; s < PP_MEM_N_SOURCES; s++) {
    if (!m->present[s]) continue;
    if (!any || m->bytes[s] < m->limit_bytes) {
      m->limit_bytes = m->bytes[s];
      m->limiting = (pp_memory_source)s;
    }
    any = true;
  }
  PP_CHECK(any, PP_ERR_IO,
           "cannot tell how much memory this node has (no %s/meminfo, no cgroup limit, no "
           "SLURM_MEM_*); give --mem-per-node SIZE",
           proc_root);
  size_t five_percent = m->limit_bytes / 20, floor_bytes = (size_t)64 * PP_MEBIBYTE;
  m->reserve_bytes = five_percent > floor_bytes ? five_percent : floor_bytes;
  if (m->reserve_bytes > m->limit_bytes / 2) m->reserve_bytes = m->limit_bytes / 2;
  m->budget_bytes = m->limit_bytes - m->reserve_bytes;
  return PP_SUCCESS;
}
