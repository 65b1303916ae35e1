/* sched: sizes as Slurm writes them, the node memory and CPU probes on fake /proc and cgroup
 * trees and Slurm variables, the plan's active-rank arithmetic and its BLAS memory per
 * thread, and the cores check (ranks × threads against CPUs). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "polypsf/polypsf.h"
#include "pp_test.h"

static const size_t MiB = (size_t)1 << 20;

static void write_file(const char *dir, const char *name, const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static void test_parse_bytes(void) {
  size_t b = 0;
  PP_TEST_TRUE(!pp_parse_bytes("512M", &b) && b == 512 * MiB, "512M");
  PP_TEST_TRUE(!pp_parse_bytes("64G", &b) && b == (size_t)64 << 30, "64G");
  PP_TEST_TRUE(!pp_parse_bytes("1.5T", &b) && b == (size_t)3 << 39, "1.5T");
  PP_TEST_TRUE(!pp_parse_bytes("2048K", &b) && b == 2 * MiB, "2048K");
  PP_TEST_TRUE(!pp_parse_bytes("100", &b) && b == 100 * MiB, "bare number is MiB (Slurm)");
  PP_TEST_TRUE(!pp_parse_bytes("4GiB", &b) && b == (size_t)4 << 30, "4GiB");
  const char *bad[] = {"", "abc", "12X", "-5M", "0", "nan", "1e30T"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    pp_status s = pp_parse_bytes(bad[i], &b);
    char what[64];
    snprintf(what, sizeof what, "'%s' refused as input", bad[i]);
    PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, what);
    pp_status_free(s);
  }
}

static void clear_slurm(void) {
  unsetenv("SLURM_MEM_PER_NODE");
  unsetenv("SLURM_MEM_PER_CPU");
  unsetenv("SLURM_CPUS_ON_NODE");
}

/* A fake system under a new temporary directory: root/proc/self (dir) and root/cgroup. */
static bool make_fake_roots(char *root, char proc[256], char cg[256], char dir[1024]) {
  if (!mkdtemp(root)) {
    PP_TEST_TRUE(false, "temporary directory");
    return false;
  }
  snprintf(proc, 256, "%.200s/proc", root);
  snprintf(cg, 256, "%.200s/cgroup", root);
  mkdir(proc, 0755);
  snprintf(dir, 1024, "%s/self", proc);
  mkdir(dir, 0755);
  mkdir(cg, 0755);
  return true;
}

static void test_probe(void) {
  char root[] = "/tmp/pp_sched_XXXXXX", proc[256], cg[256], dir[1024];
  if (!make_fake_roots(root, proc, cg, dir)) return;
  write_file(proc, "meminfo", "MemTotal: 4000000 kB\nMemFree: 100 kB\nMemAvailable: 2097152 kB\n");
  write_file(dir, "cgroup", "0::/job42\n");
  clear_slurm();

  pp_memory_probe_config config = {.proc_root = proc, .cgroup_root = cg, .cpus_on_node = 4};
  pp_node_memory m;
  PP_TEST_OK(pp_sched_node_memory(&config, &m), "probe with MemAvailable only");
  PP_TEST_TRUE(m.present[PP_MEM_AVAILABLE] && m.bytes[PP_MEM_AVAILABLE] == 2048 * MiB,
               "MemAvailable read in kB");
  PP_TEST_TRUE(m.limiting == PP_MEM_AVAILABLE && !m.present[PP_MEM_CGROUP], "no cgroup limit");
  PP_TEST_TRUE(m.reserve_bytes == 102 * MiB + (MiB * 4) / 10 && m.budget_bytes == m.limit_bytes - m.reserve_bytes,
               "reserve is 5 % above 64 MiB");

  snprintf(dir, sizeof dir, "%s/job42", cg);
  mkdir(dir, 0755);
  write_file(dir, "memory.max", "max\n");
  PP_TEST_OK(pp_sched_node_memory(&config, &m), "probe, v2 cgroup without limit");
  PP_TEST_TRUE(!m.present[PP_MEM_CGROUP], "v2 'max' is no limit");
  write_file(dir, "memory.max", "1073741824\n");
  PP_TEST_OK(pp_sched_node_memory(&config, &m), "probe, v2 cgroup limit");
  PP_TEST_TRUE(m.limiting == PP_MEM_CGROUP && m.limit_bytes == 1024 * MiB, "v2 memory.max wins");

  /* v1: memory controller line and memory.limit_in_bytes */
  snprintf(dir, sizeof dir, "%s/self", proc);
  write_file(dir, "cgroup", "4:memory:/slurm/uid_0/job_7\n0::/\n");
  snprintf(dir, sizeof dir, "%s/memory", cg);
  mkdir(dir, 0755);
  write_file(dir, "memory.limit_in_bytes", "9223372036854771712\n");
  snprintf(dir, sizeof dir, "%s/memory/slurm", cg);
  mkdir(dir, 0755);
  snprintf(dir, sizeof dir, "%s/memory/slurm/uid_0", cg);
  mkdir(dir, 0755);
  snprintf(dir, sizeof dir, "%s/memory/slurm/uid_0/job_7", cg);
  mkdir(dir, 0755);
  write_file(dir, "memory.limit_in_bytes", "805306368\n");
  PP_TEST_OK(pp_sched_node_memory(&config, &m), "probe, v1 cgroup");
  PP_TEST_TRUE(m.limiting == PP_MEM_CGROUP && m.limit_bytes == 768 * MiB,
               "v1 limit of the process's own cgroup; the unlimited root is ignored");

  setenv("SLURM_MEM_PER_NODE", "600", 1);
  PP_TEST_OK(pp_sched_node_memory(&config, &m), "probe with SLURM_MEM_PER_NODE");
  PP_TEST_TRUE(m.limiting == PP_MEM_SLURM_PER_NODE && m.limit_bytes == 600 * MiB,
               "SLURM_MEM_PER_NODE in MiB is the smallest");
  setenv("SLURM_MEM_PER_CPU", "100", 1);
  setenv("SLURM_CPUS_ON_NODE", "3", 1);
  PP_TEST_OK(pp_sched_node_memory(&config, &m), "probe with SLURM_MEM_PER_CPU");
  PP_TEST_TRUE(m.limiting == PP_MEM_SLURM_PER_CPU && m.limit_bytes == 300 * MiB,
               "SLURM_MEM_PER_CPU × SLURM_CPUS_ON_NODE");
  config.override_bytes = 200 * MiB;
  PP_TEST_OK(pp_sched_node_memory(&config, &m), "probe with --mem-per-node");
  PP_TEST_TRUE(m.limiting == PP_MEM_OVERRIDE && m.limit_bytes == 200 * MiB &&
                   m.reserve_bytes == 64 * MiB && m.budget_bytes == 136 * MiB,
               "--mem-per-node 200M: budget 200 − 64 MiB");
  PP_TEST_TRUE(m.present[PP_MEM_AVAILABLE] && m.present[PP_MEM_CGROUP] &&
                   m.present[PP_MEM_SLURM_PER_NODE] && m.present[PP_MEM_SLURM_PER_CPU],
               "every source is reported");
  config.override_only = true;
  PP_TEST_OK(pp_sched_node_memory(&config, &m), "probe, override only");
  PP_TEST_TRUE(m.limit_bytes == 200 * MiB && !m.present[PP_MEM_AVAILABLE] &&
                   !m.present[PP_MEM_CGROUP] && !m.present[PP_MEM_SLURM_PER_NODE],
               "override only: this machine's limits are not read (plan for other nodes)");
  config.override_only = false;
  config.override_bytes = 0;
  unsetenv("SLURM_MEM_PER_CPU");
  setenv("SLURM_MEM_PER_NODE", "0", 1);
  PP_TEST_OK(pp_sched_node_memory(&config, &m), "probe with SLURM_MEM_PER_NODE=0");
  PP_TEST_TRUE(!m.present[PP_MEM_SLURM_PER_NODE] && m.limiting == PP_MEM_CGROUP,
               "SLURM_MEM_PER_NODE=0 (--mem=0, whole node) sets no limit");
  setenv("SLURM_MEM_PER_NODE", "lots", 1);
  pp_status s = pp_sched_node_memory(&config, &m);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT &&
                   strstr(pp_status_message(s), "SLURM_MEM_PER_NODE") != NULL,
               "a malformed Slurm variable is an error naming it");
  pp_status_free(s);
  clear_slurm();

  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  PP_TEST_TRUE(system(cmd) == 0, "clean up");
}

static void test_plan(void) {
  const char *yaml =
      "pupil: {npix: 256}\n"
      "wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 8}\n"
      "optics:\n  - circular_aperture: {radius: 1.0}\n"
      "detector: {pixelscale: 0.02, fov_pixels: 50, oversample: 2}\n";
  pp_job *job = NULL;
  PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), "plan.yaml", &job), "job parses");
  if (!job) return;
  pp_task_model t;
  PP_TEST_OK(pp_plan_task_model(job, NULL, 4, 4, 1, &t), "task model");
  size_t system_bytes = 0;
  PP_TEST_OK(pp_system_bytes_for_job(job, &system_bytes), "system bytes");
  PP_TEST_TRUE(t.system_bytes == system_bytes && t.slice_bytes == 100 * 100 * sizeof(double),
               "model parts: system and one 100 × 100 slice");
  PP_TEST_TRUE(t.task_bytes == t.system_bytes + t.held_slices * t.slice_bytes +
                                   t.reduction_bytes + t.blas_bytes,
               "task bytes are the sum of the parts");

  size_t baseline = 30 * MiB;
  int ranks[2] = {4, 4};
  /* Node 0 fits exactly one computing rank, node 1 all four. */
  size_t budgets[2] = {4 * baseline + t.task_bytes + t.task_bytes / 2,
                       4 * baseline + 4 * t.task_bytes};
  pp_plan plan;
  PP_TEST_OK(pp_plan_create(job, NULL, 2, ranks, 1, budgets, baseline, NULL, job->n_wavelengths,
                            &plan),
             "plan for two nodes");
  PP_TEST_TRUE(plan.nodes[0].active == 1 && plan.nodes[1].active == 4 && plan.active_total == 5,
               "active = min(ranks, (budget − ranks·baseline) / task)");
  PP_TEST_TRUE(plan.nodes[0].peak_bytes <= budgets[0] && plan.nodes[1].peak_bytes <= budgets[1],
               "expected peaks within the budgets");
  PP_TEST_TRUE(plan.order[0] == 0 && plan.order[7] == 7, "equal costs keep wavelength order");
  pp_plan_destroy(&plan);

  size_t tiny[1] = {4 * baseline + t.task_bytes / 2};
  pp_status s = pp_plan_create(job, NULL, 1, ranks, 1, tiny, baseline, NULL, job->n_wavelengths,
                               &plan);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "a task larger than the node is refused");
  PP_TEST_TRUE(strstr(pp_status_message(s), "MiB") && strstr(pp_status_message(s), "oversample"),
               "the refusal gives the numbers and what to change");
  pp_status_free(s);
  pp_job_destroy(&job);
}

/* The coronagraph of test_plan_groups, npix px padded ×fft_oversample, with the given output
 * section (caller destroys). */
/* The FQPM coronagraph, padded ×fft_oversample; then_optics: optics after its Lyot stop. */
static pp_job *groups_job_then(int npix, int fft_oversample, const char *output,
                               const char *then_optics) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "pupil: {npix: %d}\n"
           "wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 6}\n"
           "optics:\n"
           "  - circular_aperture: {radius: 3.0}\n"
           "  - fqpm_fft_aligner: {direction: forward}\n"
           "  - ideal_fqpm: {wavelength: 1.5e-6}\n"
           "  - fqpm_fft_aligner: {direction: backward}\n"
           "  - circular_aperture: {radius: 2.7}\n"
           "%s"
           "detector: {pixelscale: 0.05, fov_pixels: 20, oversample: 2}\n"
           "propagation: {method: mft, fft_oversample: %d}\n"
           "output: %s\n",
           npix, then_optics, fft_oversample, output);
  pp_job *job = NULL;
  PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), "groups.yaml", &job), "coronagraph parses");
  return job;
}

static pp_job *groups_job(int npix, int fft_oversample, const char *output) {
  return groups_job_then(npix, fft_oversample, output, "");
}

/* Rank groups (FFTW-MPI): a coronagraph (N = 256) on nodes of 4 ranks whose budgets are cut
 * from the model's own per-rank needs (task alone t1, in a group of g: tg). */
static void test_plan_groups(void) {
  pp_job *job = groups_job(64, 4, "{cube: true}");
  if (!job) return;
  pp_task_model t;
  PP_TEST_OK(pp_plan_task_model(job, NULL, 4, 12, 1, &t), "task model");
  size_t t2 = 0, t4 = 0, b = 30 * MiB;
  PP_TEST_OK(pp_plan_group_task_bytes(job, &t, 2, &t2), "group of 2");
  PP_TEST_OK(pp_plan_group_task_bytes(job, &t, 4, &t4), "group of 4");
  PP_TEST_TRUE(t4 < t2 && t2 < t.task_bytes && 2 * t2 > t.task_bytes,
               "per rank: group of 4 < group of 2 < alone < 2 × group of 2");
  int ranks[3] = {4, 4, 4};
  /* node 0: exactly one group of 4 (no pair, no single); node 1: two groups of 2 (at most 3
   * singles); node 2: two singles, or one group of 2 (a tie: singles win) */
  size_t budgets[3] = {4 * b + 4 * t4, 4 * b + 4 * t2, 4 * b + 2 * t.task_bytes};
  PP_TEST_TRUE(t4 < t2 && t2 < t.task_bytes, "the budgets force what the comments say");
  pp_plan plan;
  pp_status s = PP_SUCCESS;
  PP_TEST_OK(pp_plan_create(job, NULL, 3, ranks, 1, budgets, b, NULL, job->n_wavelengths, &plan),
             "plan for three nodes");
  if (plan.nodes) {
    PP_TEST_TRUE(plan.fft_n == 256 && plan.span_nodes == 1,
                 "the padded size N = npix·fft_oversample; groups within nodes");
    PP_TEST_TRUE(plan.nodes[0].group_ranks == 4 && plan.nodes[0].workers == 1 &&
                     plan.nodes[0].active == 4,
                 "node 0: one group of 4 ranks");
    PP_TEST_TRUE(plan.nodes[1].group_ranks == 2 && plan.nodes[1].workers == 2 &&
                     plan.nodes[1].active == 4,
                 "node 1: two groups of 2 ranks");
    PP_TEST_TRUE(plan.nodes[2].group_ranks == 1 && plan.nodes[2].workers == 2 &&
                     plan.nodes[2].active == 2,
                 "node 2: two single ranks (a tie with a group of 2 goes to single ranks)");
    PP_TEST_TRUE(plan.active_total == 10 && plan.workers_total == 5,
                 "10 ranks compute, 5 tasks at a time");
    for (int k = 0; k < 3; k++)
      PP_TEST_TRUE(plan.nodes[k].peak_bytes <= budgets[k], "expected peak within the budget");
    for (int k = 0; k < 2; k++) /* all ranks in groups: each within its share */
      PP_TEST_TRUE(b + plan.nodes[k].rank_task_bytes <= budgets[k] / 4,
                   "every rank of a grouped node within its share");
  }
  pp_plan_destroy(&plan);

  /* The same node 0 when the job asks for planes: the plane sink runs on single ranks only,
   * so the budget that held one group of 4 holds single ranks or nothing. */
  pp_job *with_planes = groups_job(64, 4, "{cube: true, planes: all}");
  if (with_planes) {
    s = pp_plan_create(with_planes, NULL, 1, ranks, 1, budgets, b, NULL,
                       with_planes->n_wavelengths, &plan);
    if (s)
      PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT &&
                       strstr(pp_status_message(s), "output.planes adds") &&
                       strstr(pp_status_message(s), "forms no rank groups"),
                   "planes asked: no group of 4, refused with the planes' share");
    else
      PP_TEST_TRUE(plan.fft_n == 0 && plan.nodes[0].group_ranks == 1 &&
                       plan.nodes[0].workers == plan.nodes[0].active &&
                       plan.nodes[0].active < 4,
                   "planes asked: no group of 4, single ranks only");
    pp_status_free(s);
    if (!s) pp_plan_destroy(&plan);
    /* room for a quarter of that group: not for a rank alone with its planes */
    size_t quarter[1] = {4 * b + t4};
    s = pp_plan_create(with_planes, NULL, 1, ranks, 1, quarter, b, NULL,
                       with_planes->n_wavelengths, &plan);
    PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && s &&
                     strstr(pp_status_message(s), "output.planes adds") &&
                     strstr(pp_status_message(s), "forms no rank groups"),
                 "planes asked, no room for a rank alone: refused with the planes' share");
    pp_status_free(s);
    pp_job_destroy(&with_planes);
  }

  /* room for neither a group of 4 nor one rank alone */
  size_t short_of_a_group[1] = {4 * b + (4 * t4 < t.task_bytes ? 4 * t4 : t.task_bytes) - 4};
  s = pp_plan_create(job, NULL, 1, ranks, 1, short_of_a_group, b, NULL, job->n_wavelengths, &plan);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "too small for a group of all 4 ranks: refused");
  PP_TEST_TRUE(s && strstr(pp_status_message(s), "a group of all 4 ranks of the node"),
               "the refusal gives the group's need");
  pp_status_free(s);
  pp_job_destroy(&job);

  /* Across nodes: two nodes of 2 ranks, each too small for a rank alone or a group of its 2
   * ranks, but holding its 2 ranks of a group of 4: one group across both nodes; a third node
   * too small even for that stays idle. The coronagraph padded ×32 (N = 2048, so that the
   * padded planes dominate the ~9 MB a task needs besides), with a second image plane after
   * its Lyot stop: the stop is then a padded plane that a rank alone holds whole (N² doubles)
   * and a group rank only its rows. (With the stop last, a rank alone applies it after the
   * crop, on npix², and two ranks' shares of a group, each a slab and FFTW-MPI's scratch of
   * the same size, hold no less than it.) */
  job = groups_job_then(64, 32, "{cube: true}",
                        "  - annular_field_stop: {radius_inner: 0.0, radius_outer: 2.0}\n"
                        "  - circular_aperture: {radius: 2.5}\n");
  size_t w2 = 0, w4 = 0;
  int two[3] = {2, 2, 2};
  if (job && pp_plan_task_model(job, NULL, 1, 6, 1, &t) == PP_SUCCESS &&
      pp_plan_group_task_bytes(job, &t, 2, &w2) == PP_SUCCESS &&
      pp_plan_group_task_bytes(job, &t, 4, &w4) == PP_SUCCESS) {
    size_t fits = 2 * b + 2 * w4 + MiB, across[3] = {fits, fits, fits / 2};
    PP_TEST_TRUE(2 * b + t.task_bytes > fits && 2 * b + 2 * w2 > fits,
                 "across nodes: the budgets force what the comment says");
    PP_TEST_OK(pp_plan_create(job, NULL, 3, two, 1, across, b, NULL, job->n_wavelengths, &plan),
               "plan across nodes");
    if (plan.nodes)
      PP_TEST_TRUE(plan.span_nodes == 2 && plan.nodes[0].group_ranks == 4 &&
                       plan.nodes[0].workers == 1 && plan.nodes[1].workers == 0 &&
                       plan.nodes[1].active == 2 && plan.nodes[2].active == 0 &&
                       plan.active_total == 4 && plan.workers_total == 1,
                   "one group of 4 ranks across nodes 0 and 1, node 2 idle");
    pp_plan_destroy(&plan);
    size_t short_across[2] = {2 * b + 2 * w4 - MiB, 2 * b + 2 * w4 - MiB};
    s = pp_plan_create(job, NULL, 2, two, 1, short_across, b, NULL, job->n_wavelengths, &plan);
    PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && s &&
                     strstr(pp_status_message(s), "a group of all 4 ranks of the 2 nodes"),
                 "too small across nodes too: refused with the group's need");
    pp_status_free(s);
  }
  pp_job_destroy(&job);

  /* an odd N (63 × 3 = 189) cannot be shared: single ranks only, refused with the reason */
  job = groups_job(63, 3, "{cube: true}");
  if (!job) return;
  PP_TEST_OK(pp_plan_task_model(job, NULL, 4, 4, 1, &t), "odd task model");
  size_t one_and_a_half[1] = {4 * b + t.task_bytes * 3 / 2};
  PP_TEST_OK(pp_plan_create(job, NULL, 1, ranks, 1, one_and_a_half, b, NULL, job->n_wavelengths,
                            &plan), "odd N with room for one rank");
  PP_TEST_TRUE(plan.nodes && plan.nodes[0].group_ranks == 1 && plan.nodes[0].active == 1,
               "odd N: one single rank, no group");
  pp_plan_destroy(&plan);
  size_t too_small[1] = {4 * b + t.task_bytes / 2};
  s = pp_plan_create(job, NULL, 1, ranks, 1, too_small, b, NULL, job->n_wavelengths, &plan);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && s &&
                   strstr(pp_status_message(s), "189 × 189 plane: its size npix·fft_oversample is odd"),
               "odd N too large for a rank: refused, saying groups need an even size");
  pp_status_free(s);
  pp_job_destroy(&job);
}

/* OpenBLAS packs per thread: the MFT's BLAS bytes grow with the threads, nothing else does;
 * the chirp-z runs no BLAS, so its threads add nothing. */
static void test_plan_threads(void) {
  const char *yaml =
      "pupil: {npix: 128}\n"
      "wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 4}\n"
      "optics:\n  - circular_aperture: {radius: 1.0}\n"
      "detector: {pixelscale: 0.02, fov_pixels: 40, oversample: 2}\n"
      "propagation: {method: %s, threads_per_rank: 3}\n";
  const char *methods[2] = {"mft", "czt"};
  for (int m = 0; m < 2; m++) {
    char text[512];
    snprintf(text, sizeof text, yaml, methods[m]);
    pp_job *job = NULL;
    PP_TEST_OK(pp_job_parse_string(text, strlen(text), "threads.yaml", &job), "job parses");
    if (!job) return;
    PP_TEST_TRUE(job->threads_per_rank == 3, "propagation.threads_per_rank read");
    pp_task_model one, four;
    PP_TEST_OK(pp_plan_task_model(job, NULL, 2, 2, 1, &one), "task model, 1 thread");
    PP_TEST_OK(pp_plan_task_model(job, NULL, 2, 2, 4, &four), "task model, 4 threads");
    bool mft = m == 0;
    PP_TEST_TRUE(mft ? four.blas_bytes == 4 * one.blas_bytes && one.blas_bytes > 0
                     : four.blas_bytes == 0 && one.blas_bytes == 0,
                 mft ? "MFT: BLAS buffers × threads" : "chirp-z: no BLAS buffers");
    PP_TEST_TRUE(four.task_bytes - four.blas_bytes == one.task_bytes - one.blas_bytes,
                 "threads share the rank's arrays: nothing else grows");
    pp_status s = pp_plan_task_model(job, NULL, 2, 2, 0, &one);
    PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL, "0 threads refused");
    pp_status_free(s);
    pp_run_options options = {.threads_per_rank = 2};
    PP_TEST_TRUE(pp_run_threads_per_rank(job, &options) == 2 &&
                     pp_run_threads_per_rank(job, NULL) == 3,
                 "the option overrides the job's threads_per_rank");
    pp_job_destroy(&job);
  }
}

static void test_cpus(void) {
  int n = 0;
  PP_TEST_TRUE(!pp_parse_cpu_list("0-3,8,10-11\n", &n) && n == 7, "CPU list 0-3,8,10-11 is 7");
  PP_TEST_TRUE(!pp_parse_cpu_list("5", &n) && n == 1, "CPU list 5 is 1");
  const char *bad[] = {"x", "3-1", "0-", "1,,2", "-1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    pp_status s = pp_parse_cpu_list(bad[i], &n);
    char what[64];
    snprintf(what, sizeof what, "CPU list '%s' refused", bad[i]);
    PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, what);
    pp_status_free(s);
  }

  char root[] = "/tmp/pp_cpus_XXXXXX", proc[256], cg[256], dir[1024];
  if (!make_fake_roots(root, proc, cg, dir)) return;
  write_file(dir, "cgroup", "0::/job7\n");
  unsetenv("SLURM_CPUS_ON_NODE");
  pp_cpu_probe_config config = {.proc_root = proc, .cgroup_root = cg};
  pp_node_cpus c;
  PP_TEST_OK(pp_sched_node_cpus(&config, &c), "CPU probe without cpuset");
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  PP_TEST_TRUE(c.present[PP_CPU_ONLINE] && c.count[PP_CPU_ONLINE] == online &&
                   !c.present[PP_CPU_CGROUP] && c.available == online,
               "no cpuset: the CPUs online");
  PP_TEST_TRUE(c.affinity >= 1 && c.affinity <= online, "affinity within the CPUs online");
  snprintf(dir, sizeof dir, "%s/job7", cg);
  mkdir(dir, 0755);
  write_file(dir, "cpuset.cpus.effective", "0\n");
  PP_TEST_OK(pp_sched_node_cpus(&config, &c), "CPU probe, v2 cpuset");
  PP_TEST_TRUE(c.present[PP_CPU_CGROUP] && c.count[PP_CPU_CGROUP] == 1 && c.available == 1 &&
                   c.limiting == PP_CPU_CGROUP,
               "v2 cpuset.cpus.effective of the process's cgroup limits the node");
  write_file(dir, "cpuset.cpus.effective", "0-511\n");
  setenv("SLURM_CPUS_ON_NODE", "1", 1);
  PP_TEST_OK(pp_sched_node_cpus(&config, &c), "CPU probe, Slurm");
  PP_TEST_TRUE(c.present[PP_CPU_SLURM] && c.available == 1 && c.limiting == PP_CPU_SLURM,
               "SLURM_CPUS_ON_NODE=1 is the smallest");
  setenv("SLURM_CPUS_ON_NODE", "two", 1);
  pp_status s = pp_sched_node_cpus(&config, &c);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "SLURM_CPUS_ON_NODE"),
               "a malformed SLURM_CPUS_ON_NODE is refused, named");
  pp_status_free(s);
  unsetenv("SLURM_CPUS_ON_NODE");
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  PP_TEST_TRUE(system(cmd) == 0, "temporary tree removed");

  char line[384];
  PP_TEST_TRUE(!pp_cores_oversubscribed(2, 2, 4, line, sizeof line) && line[0] == '\0',
               "2 ranks × 2 threads fit 4 CPUs");
  PP_TEST_TRUE(pp_cores_oversubscribed(2, 4, 4, line, sizeof line) && strstr(line, "8 cores") &&
                   strstr(line, "4 CPU(s)") && strstr(line, "--threads-per-rank 2"),
               "2 ranks × 4 threads on 4 CPUs: oversubscribed, the numbers and the fix");
  /* advice that fits the case */
  PP_TEST_TRUE(pp_cores_oversubscribed(8, 1, 4, line, sizeof line) &&
                   strstr(line, "at most 4 rank(s)") && !strstr(line, "--threads-per-rank"),
               "8 ranks × 1 thread on 4 CPUs: fewer ranks, no --threads-per-rank advice");
  PP_TEST_TRUE(pp_cores_oversubscribed(1, 8, 4, line, sizeof line) &&
                   strstr(line, "--threads-per-rank 4") && !strstr(line, "rank(s) per node"),
               "1 rank × 8 threads on 4 CPUs: fewer threads, no fewer-ranks advice");
  PP_TEST_TRUE(pp_cores_oversubscribed(8, 2, 4, line, sizeof line) &&
                   strstr(line, "at most 4 rank(s) per node with --threads-per-rank 1"),
               "8 ranks × 2 threads on 4 CPUs: both, fitting");
  PP_TEST_TRUE(pp_cores_oversubscribed(2, 4, 4, line, sizeof line) &&
                   strstr(line, "or at most 1 rank(s) per node"),
               "2 ranks × 4 threads on 4 CPUs: either remedy, each fitting");
}

int main(void) {
  test_parse_bytes();
  test_probe();
  test_plan();
  test_plan_groups();
  test_plan_threads();
  test_cpus();
  return pp_test_finish();
}
