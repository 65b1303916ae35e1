/* Where this process's cgroup settings live (cgroup v1 and v2), for the node probes. */
#include <stdio.h>
#include <string.h>

#include "sched_private.h"

void pp_sched_cgroup_candidates(const char *proc_root, const char *cgroup_root,
                                const char *v1_controller, const char *v2_file,
                                const char *v1_file, char candidates[4][PP_CGROUP_PATH_MAX]) {
  char path[512], line[1024], v2_dir[512] = "", v1_dir[512] = "";
  snprintf(path, sizeof path, "%s/self/cgroup", proc_root);
  FILE *f = fopen(path, "r");
  if (f) {
    while (fgets(line, sizeof line, f)) {
      line[strcspn(line, "\n")] = '\0';
      char *first = strchr(line, ':'), *second = first ? strchr(first + 1, ':') : NULL;
      if (!second) continue;
      *first = '\0'; /* "ID:CONTROLLERS:PATH" → three strings */
      *second = '\0';
      const char *controllers = first + 1, *dir = second + 1;
      if (strcmp(dir, "/") == 0) dir = ""; /* the root: no path of its own */
      if (strcmp(line, "0") == 0 && *controllers == '\0')
        snprintf(v2_dir, sizeof v2_dir, "%s", dir);
      else if (strstr(controllers, v1_controller))
        snprintf(v1_dir, sizeof v1_dir, "%s", dir);
    }
    fclose(f);
  }
  snprintf(candidates[0], PP_CGROUP_PATH_MAX, "%s%s/%s", cgroup_root, v2_dir, v2_file);
  snprintf(candidates[1], PP_CGROUP_PATH_MAX, "%s/%s", cgroup_root, v2_file);
  snprintf(candidates[2], PP_CGROUP_PATH_MAX, "%s/%s%s/%s", cgroup_root, v1_controller, v1_dir,
           v1_file);
  snprintf(candidates[3], PP_CGROUP_PATH_MAX, "%s/%s/%s", cgroup_root, v1_controller, v1_file);
}
