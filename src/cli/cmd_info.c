/* `polypsf info OUT.h5 [--ee ARCSEC[,ARCSEC…]] [--job] [--all]`: what a result file holds,
 * how it was made, and the usual figures of its PSF (docs/analysis.md). No MPI; works on a
 * finished file and on the .partial file of a stopped run.
 *
 * One fact per line, a key in the first 12 columns: easy to read and to grep. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
  PP_INFO_MAX_EE_RADII = 16,
  PP_INFO_JOB_LINES = 6,   /* job lines shown without --job */
  PP_INFO_TABLE_HEAD = 20, /* wavelength rows shown first and … */
  PP_INFO_TABLE_TAIL = 10  /* … last without --all */
};

typedef struct {
  const char *input_path;
  double ee_radii_arcsec[PP_INFO_MAX_EE_RADII];
  size_t n_ee_radii; /* 0: radii of 1, 2, 5, 10 λ/D that fit in the field */
  bool whole_job, all_rows, trace;
} pp_cli_info_args;

/* Radii separated by commas, each > 0 (one message for an empty item, 0, a negative or
 * anything that is not a number). */
static pp_status pp_cli_info_parse_radii(const char *text, pp_cli_info_args *args) {
  char buffer[1024];
  PP_CHECK(strlen(text) < sizeof buffer, PP_ERR_INPUT, "option --ee: list too long");
  strcpy(buffer, text);
  char *item = buffer;
  for (bool last = false; !last; item++) {
    char *comma = strchr(item, ',');
    last = comma == NULL;
    if (comma) *comma = '\0';
    PP_CHECK(args->n_ee_radii < PP_INFO_MAX_EE_RADII, PP_ERR_INPUT,
             "option --ee takes at most %d radii", PP_INFO_MAX_EE_RADII);
    double radius = 0.0;
    pp_status number = pp_cli_parse_number("--ee", item, 0.0, 1e9, &radius);
    bool good = number == PP_SUCCESS && radius > 0.0;
    pp_status_free(number);
    PP_CHECK(good, PP_ERR_INPUT,
             "option --ee needs radii in arcsec, each > 0 and at most 1e9, separated by commas "
             "(e.g. 0.1,0.25); got '%s' in '%s'", item, text);
    args->ee_radii_arcsec[args->n_ee_radii++] = radius;
    if (comma) item = comma;
  }
  return PP_SUCCESS;
}

enum { PP_INFO_EE, PP_INFO_JOB, PP_INFO_ALL, PP_INFO_TRACE };
static const pp_cli_option pp_cli_info_options[] = {
    [PP_INFO_EE] = {"ee", 0, "radii in arcsec, e.g. 0.1,0.2"},
    [PP_INFO_JOB] = {"job", 0, NULL},
    [PP_INFO_ALL] = {"all", 0, NULL},
    [PP_INFO_TRACE] = {"trace", 0, NULL},
};

static pp_status pp_cli_info_parse(int argc, char **argv, pp_cli_info_args *args) {
  *args = (pp_cli_info_args){0};
  pp_cli_parser parser;
  PP_CALL(pp_cli_parser_init(&parser, "info", argc, argv, pp_cli_info_options,
                             sizeof pp_cli_info_options / sizeof pp_cli_info_options[0]));
  pp_cli_item item;
  do {
    PP_CALL(pp_cli_next(&parser, &item));
    switch (item.option) {
      case PP_INFO_EE: PP_CALL(pp_cli_info_parse_radii(item.value, args)); break;
      case PP_INFO_JOB: args->whole_job = true; break;
      case PP_INFO_ALL: args->all_rows = true; break;
      case PP_INFO_TRACE: args->trace = true; break;
      default:
        if (item.word) PP_CALL(pp_cli_take_word(&item, "input file", &args->input_path));
    }
  } while (item.option >= 0 || item.word);
  PP_CHECK(args->input_path != NULL, PP_ERR_INPUT, "info needs an output file: polypsf info OUT.h5");
  return PP_SUCCESS;
}

/* Name, size, digest and the first lines (or all) of the job text. */
static void pp_cli_info_job(const pp_result *r, bool whole) {
  size_t bytes = strlen(r->job_text), lines = 0;
  for (const char *c = r->job_text; *c; c++) lines += *c == '\n';
  if (bytes > 0 && r->job_text[bytes - 1] != '\n') lines++;
  char digest[65];
  pp_cli_sha256_hex(r->job_text, bytes, digest);
  printf("job         %s: %zu lines, %zu bytes, sha256 %s\n", r->job_source, lines, bytes, digest);
  const char *line = r->job_text;
  for (size_t n = 0; *line && (whole || n < PP_INFO_JOB_LINES); n++) {
    const char *end = strchr(line, '\n');
    int length = end ? (int)(end - line) : (int)strlen(line);
    printf("            | %.*s\n", length, line);
    line = end ? end + 1 : line + length;
  }
  if (*line)
    printf("            | … %zu more lines (polypsf info --job prints them all)\n",
           lines - PP_INFO_JOB_LINES);
}

static const char *pp_cli_info_method_name(int method) {
  static const char *names[] = {"auto", "mft", "czt", "fft"};
  return method >= 0 && method < 4 ? names[method] : "-";
}

static void pp_cli_info_table_row(const pp_result *r, size_t i) {
  const pp_task_record *t = &r->tasks[i];
  if (t->rank < 0) {
    printf("  %-6zu %-14.7e %-11.7g %-4s %s\n", i, r->wavelengths_m[i], r->weights[i],
           r->completed[i] ? "yes" : "no", "-     -     -       -        -");
    return;
  }
  printf("  %-6zu %-14.7e %-11.7g %-4s %-5d %-5d %-7s %-8.3f %.1f\n", i, r->wavelengths_m[i],
         r->weights[i], r->completed[i] ? "yes" : "no", t->rank, t->node,
         pp_cli_info_method_name(t->method), t->seconds, t->peak_bytes / 1048576.0);
}

static void pp_cli_info_wavelengths(const pp_result *r, bool all_rows) {
  size_t n = r->n_wavelengths;
  double lo = r->wavelengths_m[0], hi = lo, mean = 0.0, weights = 0.0;
  for (size_t i = 0; i < n; i++) {
    lo = fmin(lo, r->wavelengths_m[i]);
    hi = fmax(hi, r->wavelengths_m[i]);
    mean += r->weights[i] * r->wavelengths_m[i];
    weights += r->weights[i];
  }
  printf("completed   %zu of %zu wavelengths%s\n", r->n_completed, n,
         r->n_completed == n ? "" : " (an unfinished run: /psf is not final)");
  printf("wavelengths %zu from %.7g to %.7g m, weighted mean %.7g m\n", n, lo, hi,
         weights > 0.0 ? mean / weights : lo);
  printf("  %-6s %-14s %-11s %-4s %-5s %-5s %-7s %-8s %s\n", "index", "wavelength_m", "weight",
         "done", "rank", "node", "method", "seconds", "peak_MiB");
  bool shorten = !all_rows && n > PP_INFO_TABLE_HEAD + PP_INFO_TABLE_TAIL;
  for (size_t i = 0; i < n; i++) {
    if (shorten && i == PP_INFO_TABLE_HEAD) {
      printf("  … %zu rows (polypsf info --all prints every wavelength)\n",
             n - PP_INFO_TABLE_HEAD - PP_INFO_TABLE_TAIL);
      i = n - PP_INFO_TABLE_TAIL;
    }
    pp_cli_info_table_row(r, i);
  }
}

static void pp_cli_info_provenance(const pp_result *r) {
  double total = 0.0, longest = 0.0, peak_bytes = 0.0;
  size_t computed = 0;
  for (size_t i = 0; i < r->n_wavelengths; i++) {
    const pp_task_record *t = &r->tasks[i];
    if (t->rank < 0) continue;
    computed++;
    total += t->seconds;
    longest = fmax(longest, t->seconds);
    peak_bytes = fmax(peak_bytes, t->peak_bytes);
  }
  if (r->threads_per_rank > 0)
    printf("ranks       %d on %d node(s), %d thread(s) each (the run that finished the file)\n",
           r->n_ranks, r->n_nodes, r->threads_per_rank);
  else
    printf("ranks       %d on %d node(s) (the run that finished the file)\n", r->n_ranks, r->n_nodes);
  printf("seconds     %.6g over %zu task(s): %.6g per task on average, longest %.6g\n", total,
         computed, computed ? total / (double)computed : 0.0, longest);
  printf("memory      peak %.6g MiB (largest resident size of a rank after a task)\n",
         peak_bytes / 1048576.0);
}

/* The centroid of /psf (floating box), or false after printing why it cannot be measured. */
static bool pp_cli_info_centroid(const pp_image *image, const pp_image_stats *stats,
                                 pp_centroid *centroid) {
  if (!(stats->peak > 0.0)) {
    printf("analysis    none: /psf has no positive value\n");
    return false;
  }
  pp_status s = pp_analysis_centroid(image, NULL, centroid);
  if (!s) return true;
  printf("centroid    not measured: %s\n", pp_status_message(s));
  pp_status_free(s);
  return false;
}

/* The FWHM in pixels about the centroid, or false after printing why it cannot be measured. */
static bool pp_cli_info_fwhm_px(const pp_image *image, const pp_centroid *centroid,
                                double *fwhm_px) {
  pp_status s = pp_analysis_fwhm(image, centroid->x_px, centroid->y_px, 0.0, fwhm_px, NULL);
  if (!s) return true;
  printf("fwhm        not measured: %s\n", pp_status_message(s));
  pp_status_free(s);
  return false;
}

/* A Fresnel result (metres per pixel, optical axis on pixel (n/2, n/2)): centroid and FWHM
 * in metres; encircled energies are not measured (their radii are asked in arcsec). */
static void pp_cli_info_analysis_metres(const pp_result *r, const pp_image_stats *stats) {
  pp_image image = {.values = r->psf, .ny = r->ny, .nx = r->nx};
  double scale = r->pixelscale_m;
  pp_centroid centroid;
  if (!pp_cli_info_centroid(&image, stats, &centroid)) return;
  printf("centroid    x %+.6g y %+.6g m from the optical axis, pixel (%zu, %zu) (floating box of "
         "half width %d px%s)\n", (centroid.x_px - (double)(r->nx / 2)) * scale,
         (centroid.y_px - (double)(r->ny / 2)) * scale, r->nx / 2, r->ny / 2,
         PP_CENTROID_OPTIONS_DEFAULT.halfwidth_px, centroid.converged ? "" : ", NOT converged");
  double fwhm_px = 0.0;
  if (pp_cli_info_fwhm_px(&image, &centroid, &fwhm_px))
    printf("fwhm        %.6g m (radial profile about the centroid)\n", fwhm_px * scale);
  printf("ee          not measured: a Fresnel result is in metres, --ee radii are arcsec\n");
}

/* Centroid, FWHM and encircled energies of /psf. A figure that cannot be measured is
 * reported as such; info still succeeds. */
static void pp_cli_info_analysis(const pp_result *r, const pp_cli_info_args *args,
                                 const pp_image_stats *stats) {
  pp_image image = {.values = r->psf, .ny = r->ny, .nx = r->nx};
  double scale = r->pixelscale_arcsec;
  double centre_x = 0.5 * (double)(r->nx - 1), centre_y = 0.5 * (double)(r->ny - 1);
  double mean = 0.0, weights = 0.0;
  for (size_t i = 0; i < r->n_wavelengths; i++) {
    mean += r->weights[i] * r->wavelengths_m[i];
    weights += r->weights[i];
  }
  double lambda_over_d_arcsec =
      (weights > 0.0 ? mean / weights : r->wavelengths_m[0]) / r->pupil_diameter_m *
      PP_ARCSEC_PER_RADIAN;
  pp_centroid centroid;
  if (!pp_cli_info_centroid(&image, stats, &centroid)) return;
  printf("centroid    x %+.6g y %+.6g arcsec from the array centre (floating box of half width "
         "%d px%s)\n", (centroid.x_px - centre_x) * scale, (centroid.y_px - centre_y) * scale,
         PP_CENTROID_OPTIONS_DEFAULT.halfwidth_px, centroid.converged ? "" : ", NOT converged");

  double fwhm_px = 0.0;
  if (pp_cli_info_fwhm_px(&image, &centroid, &fwhm_px)) {
    printf("fwhm        %.6g arcsec = %.4g λ/D at the weighted mean wavelength (radial profile "
           "about the centroid)\n", fwhm_px * scale, fwhm_px * scale / lambda_over_d_arcsec);
  }

  /* Radii: as asked, else 1, 2, 5, 10 λ/D where the circle stays inside the field. */
  double radii[PP_INFO_MAX_EE_RADII], multiples[PP_INFO_MAX_EE_RADII];
  size_t n_radii = 0;
  /* How far the field reaches from the centroid on its nearest side (arcsec). */
  double room_arcsec = scale * fmin(fmin(centroid.x_px + 0.5, (double)r->nx - 0.5 - centroid.x_px),
                                    fmin(centroid.y_px + 0.5, (double)r->ny - 0.5 - centroid.y_px));
  if (args->n_ee_radii > 0) {
    for (size_t i = 0; i < args->n_ee_radii; i++) {
      radii[n_radii] = args->ee_radii_arcsec[i];
      multiples[n_radii++] = args->ee_radii_arcsec[i] / lambda_over_d_arcsec;
    }
  } else {
    static const double defaults[] = {1.0, 2.0, 5.0, 10.0};
    for (size_t i = 0; i < 4; i++)
      if (defaults[i] * lambda_over_d_arcsec <= room_arcsec) {
        radii[n_radii] = defaults[i] * lambda_over_d_arcsec;
        multiples[n_radii++] = defaults[i];
      }
  }
  bool first_normalization = strcmp(r->normalization, "first") == 0;
  for (size_t i = 0; i < n_radii; i++) {
    double energy = 0.0;
    pp_status s = pp_analysis_encircled_energy(&image, centroid.x_px, centroid.y_px,
                                               radii[i] / scale, &energy);
    if (s) {
      printf("ee          r %.6g arcsec: not measured: %s\n", radii[i], pp_status_message(s));
      pp_status_free(s);
      continue;
    }
    printf("ee          r %.6g arcsec (%.3g λ/D): %.6f%s, %.6f of /psf's sum%s\n", radii[i],
           multiples[i], energy, first_normalization ? " of the light entering the pupil" : "",
           stats->sum > 0.0 ? energy / stats->sum : 0.0,
           radii[i] > room_arcsec ? " (the circle reaches past the field)" : "");
  }
  if (n_radii == 0) printf("ee          none: the field is narrower than 2 λ/D (use --ee)\n");
}

static void pp_cli_info_print(const pp_result *r, const pp_cli_info_args *args) {
  printf("file        %s: %s format %lld, written by polypsf %s, created %s\n", r->path,
         PP_OUTPUT_FORMAT_NAME, r->format_version, r->software_version, r->creation_date_utc);
  pp_cli_info_job(r, args->whole_job);
  pp_cli_info_wavelengths(r, args->all_rows);
  printf("pupil       %zu x %zu px across %.6g m (%.6g m/px), normalization %s, method %s\n",
         r->pupil_npix, r->pupil_npix, r->pupil_diameter_m,
         r->pupil_diameter_m / (double)r->pupil_npix, r->normalization, r->method);
  if (r->pixelscale_m > 0.0)
    printf("sampling    Fresnel: /psf %zu x %zu px of %.7g m (/psf_detector the same); field "
           "%.6g x %.6g m (x by y)\n", r->nx, r->ny, r->pixelscale_m,
           r->pixelscale_m * (double)r->nx, r->pixelscale_m * (double)r->ny);
  else
    printf("sampling    /psf %zu x %zu px of %.7g arcsec (oversample %d); /psf_detector %zu x "
           "%zu px of %.7g arcsec; field %.6g x %.6g arcsec (x by y)\n",
           r->nx, r->ny, r->pixelscale_arcsec, r->oversample, r->detector_nx, r->detector_ny,
           r->detector_pixelscale_arcsec, r->pixelscale_arcsec * (double)r->nx,
           r->pixelscale_arcsec * (double)r->ny);
  printf("cube        %s\n", r->has_cube ? "yes (/cube, one slice per wavelength)" : "no");
  char *planes = NULL;
  pp_status described = pp_output_describe_planes(r->path, &planes);
  if (described) printf("planes      not read: %s\n", pp_status_message(described));
  else if (planes) printf("planes      %s (x by y; render --plane NAME --wavelength I)\n", planes);
  pp_status_free(described);
  free(planes);
  pp_cli_info_provenance(r);

  pp_image image = {.values = r->psf, .ny = r->ny, .nx = r->nx};
  pp_image_stats stats;
  pp_status s = pp_analysis_image_stats(&image, &stats);
  if (s) {
    printf("psf         not measured: %s\n", pp_status_message(s));
    pp_status_free(s);
    return;
  }
  printf("psf         sum %.9g, peak %.9g at (x %zu, y %zu), minimum %.6g\n", stats.sum, stats.peak,
         stats.peak_x, stats.peak_y, stats.minimum);
  if (r->n_completed < r->n_wavelengths) {
    printf("analysis    skipped: /psf is written only when every wavelength is done\n");
    return;
  }
  if (r->pixelscale_m > 0.0) pp_cli_info_analysis_metres(r, &stats);
  else pp_cli_info_analysis(r, args, &stats);
  pp_cli_info_grid(r, args->n_ee_radii > 0 ? args->ee_radii_arcsec[0] : 0.0);
}

int pp_cli_command_info(int argc, char **argv) {
  pp_cli_info_args args;
  pp_result *result = NULL;
  pp_status status = pp_cli_info_parse(argc, argv, &args);
  if (!status) status = pp_result_load(args.input_path, &result);
  if (!status) pp_cli_info_print(result, &args);
  int code = pp_cli_exit_code(status);
  if (status) {
    pp_status_print(status, stderr, args.trace);
    pp_status_free(status);
  }
  pp_result_destroy(&result);
  return code;
}
