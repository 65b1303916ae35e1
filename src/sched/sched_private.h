/* Private to src/sched: what the node probes (node_memory.c, node_cpus.c) share. */
#ifndef POLYPSF_SCHED_PRIVATE_H
#define POLYPSF_SCHED_PRIVATE_H

#include <stddef.h>

/* Room for one candidate path: a root, a cgroup path from /proc/self/cgroup, a file name. */
#define PP_CGROUP_PATH_MAX 1100

/* The four files where a cgroup setting of this process may be, most specific first:
 *   [0] v2, at the process's own cgroup path (the "0::PATH" line of /proc/self/cgroup)
 *   [1] v2, at the mount's root (inside a container the own path may not be visible)
 *   [2] v1, under the controller's mount at the path of the line naming v1_controller
 *   [3] v1, at that mount's root.
 * Paths of files that do not exist are still written; the caller tries each. Not collective. */
void pp_sched_cgroup_candidates(const char *proc_root, const char *cgroup_root,
                                const char *v1_controller, const char *v2_file,
                                const char *v1_file, char candidates[4][PP_CGROUP_PATH_MAX]);

#endif
