/* polypsf command line: a thin layer over the library. It parses arguments, sets up
 * MPI and logging, calls the library, and turns a pp_status into an exit code:
 * 0 success, 2 bad input (job file, options, a job that cannot fit), 3 stopped by SIGTERM
 * at a checkpoint (the .partial is kept for --resume), 1 any other failure. */
#include <cblas.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char pp_cli_usage[] =
    "usage: polypsf run JOB.yaml [-o OUT.h5] [--force] [--resume] [--mem-per-node SIZE]\n"
    "                            [--checkpoint SECONDS] [--wisdom FILE] [--calibration FILE]\n"
    "                            [--recalibrate] [--threads-per-rank T] [--quiet]\n"
    "                            [--log-level LEVEL] [--trace]\n"
    "       polypsf plan JOB.yaml [--nodes N] [--ranks-per-node R] [--mem-per-node SIZE]\n"
    "                             [--threads-per-rank T] [--calibration FILE] [--recalibrate]\n"
    "       polypsf info OUT.h5 [--ee ARCSEC[,ARCSEC...]] [--job] [--all]\n"
    "       polypsf export OUT.h5 --fits PSF.fits [--cube] [--force]\n"
    "       polypsf export OUT.h5 --psf-grid GRID.fits [--force]\n"
    "       polypsf render OUT.h5 [-o PSF.png] [--colormap gray|viridis|inferno]\n"
    "                             [--scale-bar ARCSEC|auto] [--size N] [--min-decades D]\n"
    "                             [--plane NAME --wavelength I]\n"
    "       polypsf --version | --help       (also: polypsf COMMAND --help)\n"
    "\n"
    "  run JOB.yaml          compute the PSFs a job file describes into one HDF5 file;\n"
    "                        under MPI the wavelengths are spread over the ranks\n"
    "  plan JOB.yaml         print the memory and time plan without computing (no MPI)\n"
    "  info OUT.h5           what a result holds: job, wavelengths, sampling, provenance,\n"
    "                        PSF sum and peak, centroid, FWHM, encircled energy (--ee radii)\n"
    "  export OUT.h5         write a FITS file as POPPY does (--fits FILE; --cube adds the\n"
    "                        monochromatic PSFs); --force replaces an existing FITS file;\n"
    "                        --psf-grid FILE: a PSF grid as WebbPSF's psf_grid writes it\n"
    "  render OUT.h5         write a log-stretched PNG preview of the PSF (default OUT.png;\n"
    "                        --size: pixels along the longer side, --min-decades: stretch\n"
    "                        below the peak, default 6; --scale-bar: bar length in arcsec;\n"
    "                        --plane NAME --wavelength I: wavelength I of /planes/NAME, an\n"
    "                        intermediate plane the job's output.planes asked for)\n"
    "  -o, --output FILE     output file (default: the job's output.path)\n"
    "  --force               replace an existing output file, or discard the finished\n"
    "                        slices of a stopped run's FILE.partial\n"
    "  --resume              continue FILE.partial left by a stopped run (needs cube: true);\n"
    "                        with --force, an existing FILE is replaced when it finishes\n"
    "  --mem-per-node SIZE   cap each node's memory, e.g. 512M, 64G (bare number: MiB;\n"
    "                        K, M, G, T are powers of 1024, with or without B or iB)\n"
    "  --checkpoint SECONDS  mark finished slices on disk about this often (default 60;\n"
    "                        0: after every task); --resume continues from the last one\n"
    "  --wisdom FILE         FFTW wisdom: read before planning (a missing file is fine),\n"
    "                        written after; rank 0 shares it so every rank plans alike\n"
    "  --calibration FILE    this machine's speed, which propagation.method: auto chooses\n"
    "                        from (default $XDG_CACHE_HOME/polypsf/calibration.txt or\n"
    "                        ~/.cache/polypsf/calibration.txt, calibration-blas<B>-fftw<F>.txt\n"
    "                        with more threads; measured when missing)\n"
    "  --recalibrate         measure the machine again and rewrite the calibration file\n"
    "  --threads-per-rank T  FFTW and OpenBLAS threads in each rank (default: the job's\n"
    "                        propagation.threads_per_rank, else 1); ranks × T should not\n"
    "                        exceed a node's CPUs (a warning says when it does)\n"
    "  --nodes N             plan: number of nodes (default 1)\n"
    "  --ranks-per-node R    plan: ranks on each node (default: this machine's CPUs ÷ T)\n"
    "  --quiet               print errors only\n"
    "  --log-level LEVEL     error | warn | info (default) | debug\n"
    "  --trace               print the call sites of an error\n"
    "Options go anywhere after the command, as --name VALUE or --name=VALUE, whole names\n"
    "only; after -- every word is a file name.\n"
    "\n"
    "Example: mpirun -n 4 polypsf run job.yaml -o psf.h5\n"
    "Exit status: 0 success, 2 bad input, 3 stopped by SIGTERM (continue with --resume),\n"
    "1 runtime failure.\n";

/* Set by SIGTERM (Slurm's time-limit warning, scancel, mpirun forwarding a kill): the run
 * stops at its next checkpoint. The one piece of global mutable state in polypsf: a signal
 * handler gets no argument and may do nothing but store to a volatile sig_atomic_t (C17
 * 7.14.1.1), so the flag has to be static; pp_run only reads it through
 * pp_run_options.stop_requested. */
static volatile sig_atomic_t pp_cli_stop_requested = 0;

static void pp_cli_on_stop_signal(int signal_number) {
  (void)signal_number;
  pp_cli_stop_requested = 1;
}

/* After MPI_Init, so that this handler, not one the MPI library may install, gets SIGTERM.
 * SA_RESTART: a write in progress when the signal arrives carries on. */
static void pp_cli_catch_stop_signal(void) {
  struct sigaction action = {0};
  action.sa_handler = pp_cli_on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, NULL);
}

typedef struct {
  const char *command;
  const char *job_path;
  const char *output_path;
  bool force, trace, resume;
  pp_propagation_options propagation;
  size_t mem_per_node_bytes;
  double checkpoint_seconds;
  int nodes, ranks_per_node;
  int threads_per_rank;      /* 0: not given */
  pp_log_level log_level;
} pp_cli_args;

/* --nodes and --ranks-per-node: far beyond any machine, and an int. */
enum { PP_CLI_MAX_COUNT = 1000000 };

enum {
  PP_OPT_OUTPUT, PP_OPT_FORCE, PP_OPT_CHECKPOINT, PP_OPT_RESUME, PP_OPT_WISDOM,
  PP_OPT_NODES, PP_OPT_RANKS_PER_NODE,
  PP_OPT_CALIBRATION, PP_OPT_RECALIBRATE, PP_OPT_MEM_PER_NODE, PP_OPT_THREADS_PER_RANK,
  PP_OPT_QUIET, PP_OPT_TRACE, PP_OPT_LOG_LEVEL
};

/* The options of run and plan; the first five are run's alone, the next two plan's. */
static const pp_cli_option pp_cli_run_options[] = {
    [PP_OPT_OUTPUT] = {"output", 'o', "a file name"},
    [PP_OPT_FORCE] = {"force", 0, NULL},
    [PP_OPT_CHECKPOINT] = {"checkpoint", 0, "a number of seconds"},
    [PP_OPT_RESUME] = {"resume", 0, NULL},
    [PP_OPT_WISDOM] = {"wisdom", 0, "a file name"},
    [PP_OPT_NODES] = {"nodes", 0, "a number"},
    [PP_OPT_RANKS_PER_NODE] = {"ranks-per-node", 0, "a number"},
    [PP_OPT_CALIBRATION] = {"calibration", 0, "a file name"},
    [PP_OPT_RECALIBRATE] = {"recalibrate", 0, NULL},
    [PP_OPT_MEM_PER_NODE] = {"mem-per-node", 0, "a size, e.g. 64G"},
    [PP_OPT_THREADS_PER_RANK] = {"threads-per-rank", 0, "a number"},
    [PP_OPT_QUIET] = {"quiet", 0, NULL},
    [PP_OPT_TRACE] = {"trace", 0, NULL},
    [PP_OPT_LOG_LEVEL] = {"log-level", 0, "a level"},
};

static pp_status pp_cli_parse(int argc, char **argv, pp_cli_args *args) {
  *args = (pp_cli_args){.command = argv[1], .log_level = PP_LOG_INFO, .nodes = 1,
                        .checkpoint_seconds = 60.0};
  bool is_run = strcmp(args->command, "run") == 0;
  pp_cli_parser parser;
  PP_CALL(pp_cli_parser_init(&parser, args->command, argc, argv, pp_cli_run_options,
                             sizeof pp_cli_run_options / sizeof pp_cli_run_options[0]));
  pp_cli_item item;
  do {
    PP_CALL(pp_cli_next(&parser, &item));
    const char *value = item.value;
    bool run_only = item.option >= PP_OPT_OUTPUT && item.option <= PP_OPT_WISDOM;
    bool plan_only = item.option == PP_OPT_NODES || item.option == PP_OPT_RANKS_PER_NODE;
    PP_CHECK(!(run_only && !is_run) && !(plan_only && is_run), PP_ERR_INPUT,
             "unknown option '%s' for %s (see polypsf --help)", item.name, args->command);
    switch (item.option) {
      case PP_OPT_OUTPUT: args->output_path = value; break;
      case PP_OPT_FORCE: args->force = true; break;
      case PP_OPT_CHECKPOINT:
        PP_CALL(pp_cli_parse_number(item.name, value, 0.0, 1e7, &args->checkpoint_seconds));
        break;
      case PP_OPT_RESUME: args->resume = true; break;
      case PP_OPT_WISDOM: args->propagation.wisdom_path = value; break;
      case PP_OPT_NODES:
        PP_CALL(pp_cli_parse_count(item.name, value, PP_CLI_MAX_COUNT, &args->nodes));
        break;
      case PP_OPT_RANKS_PER_NODE:
        PP_CALL(pp_cli_parse_count(item.name, value, PP_CLI_MAX_COUNT, &args->ranks_per_node));
        break;
      case PP_OPT_CALIBRATION: args->propagation.calibration_path = value; break;
      case PP_OPT_RECALIBRATE: args->propagation.recalibrate = true; break;
      case PP_OPT_MEM_PER_NODE: PP_CALL(pp_parse_bytes(value, &args->mem_per_node_bytes)); break;
      case PP_OPT_THREADS_PER_RANK:
        /* the job key's limits (propagation.threads_per_rank) */
        PP_CALL(pp_cli_parse_count(item.name, value, PP_MAX_THREADS_PER_RANK,
                                   &args->threads_per_rank));
        break;
      case PP_OPT_QUIET: args->log_level = PP_LOG_ERROR; break;
      case PP_OPT_TRACE: args->trace = true; break;
      case PP_OPT_LOG_LEVEL: PP_CALL(pp_log_level_parse(value, &args->log_level)); break;
      default:
        if (item.word) PP_CALL(pp_cli_take_word(&item, "job file", &args->job_path));
    }
  } while (item.option >= 0 || item.word);
  PP_CHECK(args->job_path != NULL, PP_ERR_INPUT, "%s needs a job file: polypsf %s JOB.yaml",
           args->command, args->command);
  return PP_SUCCESS;
}

/* `polypsf plan`: the options as a plan request; sched plans and logs, here to stdout. */
static pp_status pp_cli_plan(const pp_cli_args *args, const pp_job *job) {
  pp_plan_request request = {.nodes = args->nodes, .ranks_per_node = args->ranks_per_node,
                             .threads_per_rank = args->threads_per_rank,
                             .mem_per_node_bytes = args->mem_per_node_bytes,
                             .propagation = args->propagation};
  pp_logger out;
  pp_logger_init(&out, stdout, PP_LOG_INFO, 0);
  out.plain = true;
  return pp_plan_report(job, &request, &out);
}

static int pp_cli_main(int argc, char **argv, int rank, bool with_mpi) {
  pp_cli_args args;
  pp_job *job = NULL;
  pp_logger logger;
  pp_status status = pp_cli_parse(argc, argv, &args);
  pp_logger_init(&logger, stderr, status ? PP_LOG_INFO : args.log_level, rank);
  if (!status) status = pp_job_parse_file(args.job_path, &job);
  pp_run_summary summary = {0};
  if (!status && !with_mpi) {
    status = pp_cli_plan(&args, job);
  } else if (!status) {
    pp_run_options options = {.output_path = args.output_path, .force = args.force,
                              .resume = args.resume,
                              .mem_per_node_bytes = args.mem_per_node_bytes,
                              .checkpoint_seconds = args.checkpoint_seconds,
                              .propagation = args.propagation,
                              .threads_per_rank = args.threads_per_rank, .logger = &logger,
                              .stop_requested = &pp_cli_stop_requested};
    status = pp_run(job, &options, MPI_COMM_WORLD, &summary);
  }
  if (status) {
    if (rank == 0) pp_status_print(status, stderr, args.trace);
  } else if (with_mpi && rank == 0 && args.log_level >= PP_LOG_WARN) {
    if (job->n_field_points > 0) /* a grid: its tasks, and /psf is the field's mean */
      printf("polypsf: %zu task(s) = %zu field point(s) x %zu wavelength(s) on %d rank(s) in "
             "%.2f s -> %s (/grid; mean PSF sum %.6g, peak %.6g)\n",
             summary.n_wavelengths, job->n_field_points, job->n_wavelengths, summary.n_ranks,
             summary.seconds, summary.output_path, summary.psf_sum, summary.psf_peak);
    else
      printf("polypsf: %zu wavelength(s) on %d rank(s) in %.2f s -> %s (PSF sum %.6g, peak "
             "%.6g)\n", summary.n_wavelengths, summary.n_ranks, summary.seconds,
             summary.output_path, summary.psf_sum, summary.psf_peak);
  }
  int code = pp_cli_exit_code(status);
  pp_status_free(status);
  pp_job_destroy(&job);
  return code;
}

static int pp_cli_command_plan(int argc, char **argv) {
  /* The run's BLAS threading, so that plan and run share one calibration (its key names the
   * thread count) and predict the same. */
  if (!getenv("OPENBLAS_NUM_THREADS")) openblas_set_num_threads(1);
  return pp_cli_main(argc, argv, 0, false);
}

/* FUNNELED: FFTW's and OpenBLAS's threads never call MPI, only the main thread does. An MPI
 * that offers less still runs polypsf correctly in practice (those threads make no MPI
 * calls), so a shortfall is reported, not fatal. */
static void pp_cli_init_mpi(int *argc, char ***argv) {
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (provided < MPI_THREAD_FUNNELED && rank == 0)
    fprintf(stderr, "polypsf: warning: this MPI provides thread level %d, less than "
            "MPI_THREAD_FUNNELED; threads per rank run without MPI calls anyway\n", provided);
}

static int pp_cli_command_run(int argc, char **argv) {
  /* One BLAS thread per rank unless the user asked otherwise through OpenBLAS's own
   * variable or --threads-per-rank (which pp_run applies to FFTW and OpenBLAS alike). */
  if (!getenv("OPENBLAS_NUM_THREADS")) openblas_set_num_threads(1);
  pp_cli_init_mpi(&argc, &argv);
  pp_cli_catch_stop_signal();
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  /* FFTW's threads are set up before any other FFTW call (fftw_mpi_init among them), as FFTW
   * asks; the count is set later, once the job says how many (pp_run). */
  pp_status threads = pp_threads_init();
  if (threads) {
    if (rank == 0) pp_status_print(threads, stderr, false);
    pp_status_free(threads);
    MPI_Finalize();
    return PP_EXIT_FAILURE;
  }
  int code = pp_cli_main(argc, argv, rank, true);
  if (!pp_output_can_finalize()) {
    /* The error is printed; MPI_Finalize would crash inside HDF5 (see the function). */
    fflush(NULL);
    _exit(code != PP_EXIT_OK ? code : PP_EXIT_FAILURE);
  }
  MPI_Finalize();
  return code;
}

/* Every subcommand; only `run` starts MPI, the others work on a login node. */
static const struct {
  const char *name;
  pp_cli_command_fn function;
} pp_cli_commands[] = {
    {"run", pp_cli_command_run},
    {"plan", pp_cli_command_plan},
    {"info", pp_cli_command_info},
    {"export", pp_cli_command_export},
    {"render", pp_cli_command_render},
};

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(pp_cli_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? PP_EXIT_BAD_INPUT : PP_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("polypsf %s\n", pp_version());
    return PP_EXIT_OK;
  }
  for (size_t c = 0; c < sizeof pp_cli_commands / sizeof pp_cli_commands[0]; c++) {
    if (strcmp(argv[1], pp_cli_commands[c].name) != 0) continue;
    /* `polypsf run --help`: the usage, before any file is read or MPI started */
    for (int i = 2; i < argc; i++) {
      if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
        fputs(pp_cli_usage, stdout);
        return PP_EXIT_OK;
      }
    }
    return pp_cli_commands[c].function(argc, argv);
  }
  fprintf(stderr, "polypsf: error: unknown command '%s'\n%s", argv[1], pp_cli_usage);
  return PP_EXIT_BAD_INPUT;
}
