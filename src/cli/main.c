/* polypsf command line: a thin layer over the library. It parses arguments, sets up
 * MPI and logging, calls pp_run, and turns a pp_status into an exit code:
 * 0 success, 2 bad input (job file, options), 1 any other failure. */
#include <cblas.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polypsf/polypsf.h"

enum { PP_EXIT_OK = 0, PP_EXIT_FAILURE = 1, PP_EXIT_BAD_INPUT = 2 };

static const char pp_cli_usage[] =
    "usage: polypsf run JOB.yaml [-o OUT.h5] [--force] [--quiet] [--log-level LEVEL]\n"
    "       polypsf --version | --help\n"
    "\n"
    "  run JOB.yaml        compute the PSFs a job file describes into one HDF5 file\n"
    "  -o, --output FILE   output file (default: the job's output.path)\n"
    "  --force             replace an existing output file\n"
    "  --quiet             print errors only\n"
    "  --log-level LEVEL   error | warn | info (default) | debug\n"
    "  --trace             print the call sites of an error\n"
    "\n"
    "Run it under MPI to spread wavelengths over ranks: mpirun -n 4 polypsf run job.yaml\n"
    "Exit status: 0 success, 2 bad input, 1 runtime failure.\n";

typedef struct {
  const char *job_path;
  const char *output_path;
  bool force, trace;
  pp_log_level log_level;
} pp_cli_run_args;

static pp_status pp_cli_parse_run(int argc, char **argv, pp_cli_run_args *args) {
  *args = (pp_cli_run_args){.log_level = PP_LOG_INFO};
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
      PP_CHECK(i + 1 < argc, PP_ERR_INPUT, "option %s needs a file name", a);
      args->output_path = argv[++i];
    } else if (strcmp(a, "--force") == 0) {
      args->force = true;
    } else if (strcmp(a, "--quiet") == 0) {
      args->log_level = PP_LOG_ERROR;
    } else if (strcmp(a, "--trace") == 0) {
      args->trace = true;
    } else if (strcmp(a, "--log-level") == 0) {
      PP_CHECK(i + 1 < argc, PP_ERR_INPUT, "option --log-level needs a level");
      PP_CALL(pp_log_level_parse(argv[++i], &args->log_level));
    } else if (a[0] == '-' && a[1] != '\0') {
      PP_CHECK(false, PP_ERR_INPUT, "unknown option '%s' (see polypsf --help)", a);
    } else {
      PP_CHECK(args->job_path == NULL, PP_ERR_INPUT,
               "more than one job file given ('%s' and '%s')", args->job_path, a);
      args->job_path = a;
    }
  }
  PP_CHECK(args->job_path != NULL, PP_ERR_INPUT, "run needs a job file: polypsf run JOB.yaml");
  return PP_SUCCESS;
}

static int pp_cli_exit_code(pp_status status) {
  switch (pp_status_code(status)) {
    case PP_ERR_NONE: return PP_EXIT_OK;
    case PP_ERR_INPUT: return PP_EXIT_BAD_INPUT;
    default: return PP_EXIT_FAILURE;
  }
}

static int pp_cli_run(int argc, char **argv, int rank) {
  pp_cli_run_args args;
  pp_job *job = NULL;
  pp_logger logger;
  pp_status status = pp_cli_parse_run(argc, argv, &args);
  pp_logger_init(&logger, stderr, args.log_level, rank);
  if (!status) status = pp_job_parse_file(args.job_path, &job);
  pp_run_summary summary = {0};
  if (!status) {
    pp_run_options options = {.output_path = args.output_path, .force = args.force,
                              .logger = &logger};
    status = pp_run(job, &options, MPI_COMM_WORLD, &summary);
  }
  if (status) {
    if (rank == 0) pp_status_print(status, stderr, args.trace);
  } else if (rank == 0 && args.log_level >= PP_LOG_WARN) {
    printf("polypsf: %zu wavelength(s) on %d rank(s) in %.2f s -> %s (PSF sum %.6g, peak %.6g)\n",
           summary.n_wavelengths, summary.n_ranks, summary.seconds, summary.output_path,
           summary.psf_sum, summary.psf_peak);
  }
  int code = pp_cli_exit_code(status);
  pp_status_free(status);
  pp_job_destroy(&job);
  return code;
}

int main(int argc, char **argv) {
  /* --help and --version work without MPI, e.g. on a login node. */
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(pp_cli_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? PP_EXIT_BAD_INPUT : PP_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("polypsf %s\n", pp_version());
    return PP_EXIT_OK;
  }
  if (strcmp(argv[1], "run") != 0) {
    fprintf(stderr, "polypsf: error: unknown command '%s'\n%s", argv[1], pp_cli_usage);
    return PP_EXIT_BAD_INPUT;
  }
  /* Ranks, not threads, are the unit of parallelism: one BLAS thread per rank unless
   * the user asked otherwise through OpenBLAS's own variable. */
  if (!getenv("OPENBLAS_NUM_THREADS")) openblas_set_num_threads(1);
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int code = pp_cli_run(argc, argv, rank);
  MPI_Finalize();
  return code;
}
