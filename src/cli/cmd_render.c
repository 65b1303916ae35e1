/* `polypsf render OUT.h5 [-o PSF.png] [--colormap gray|viridis|inferno]
 * [--scale-bar ARCSEC|auto] [--size N] [--min-decades D] [--plane NAME --wavelength I]`:
 * a log-stretched PNG preview of /psf, or of one wavelength of an intermediate plane
 * (docs/export.md). No MPI. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct {
  const char *input_path, *png_path;
  char *default_png_path; /* OUT.png beside OUT.h5 when -o is not given */
  pp_png_options options;
  const char *plane;      /* --plane: a /planes dataset, optic index or optic name */
  size_t wavelength;      /* --wavelength: index into /wavelengths */
  bool wavelength_given;
  bool trace;
} pp_cli_render_args;

/* OUT.h5 → OUT.png (any other name: name + ".png"). */
static pp_status pp_cli_render_default_path(const char *input, char **png_path) {
  size_t length = strlen(input);
  bool h5 = length > 3 && strcmp(input + length - 3, ".h5") == 0;
  size_t stem = h5 ? length - 3 : length;
  *png_path = malloc(stem + 5);
  PP_CHECK(*png_path != NULL, PP_ERR_MEMORY, "out of memory");
  memcpy(*png_path, input, stem);
  memcpy(*png_path + stem, ".png", 5);
  return PP_SUCCESS;
}

static pp_status pp_cli_render_parse(int argc, char **argv, pp_cli_render_args *args) {
  *args = (pp_cli_render_args){.options = PP_PNG_OPTIONS_DEFAULT};
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *value = NULL;
    if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
      PP_CALL(pp_cli_option_value(argc, argv, &i, "a PNG file name", &args->png_path));
    } else if (strcmp(a, "--colormap") == 0) {
      PP_CALL(pp_cli_option_value(argc, argv, &i, "gray, viridis or inferno", &value));
      PP_CALL(pp_colormap_parse(value, &args->options.colormap));
    } else if (strcmp(a, "--scale-bar") == 0) {
      PP_CALL(pp_cli_option_value(argc, argv, &i, "a length in arcsec or auto", &value));
      if (strcmp(value, "auto") == 0)
        args->options.scale_bar_arcsec = PP_PNG_SCALE_BAR_AUTO;
      else
        PP_CALL(pp_cli_parse_number(a, value, 1e-9, 1e9, &args->options.scale_bar_arcsec));
    } else if (strcmp(a, "--size") == 0) {
      PP_CALL(pp_cli_option_value(argc, argv, &i, "a number of pixels", &value));
      PP_CALL(pp_cli_parse_size(a, value, 1, 32768, &args->options.size_px));
    } else if (strcmp(a, "--min-decades") == 0) {
      PP_CALL(pp_cli_option_value(argc, argv, &i, "a number of decades", &value));
      PP_CALL(pp_cli_parse_number(a, value, 0.5, 20.0, &args->options.min_decades));
    } else if (strcmp(a, "--plane") == 0) {
      PP_CALL(pp_cli_option_value(argc, argv, &i, "a plane: dataset name, optic index or name",
                                  &args->plane));
    } else if (strcmp(a, "--wavelength") == 0) {
      PP_CALL(pp_cli_option_value(argc, argv, &i, "a wavelength index (0 = the first)", &value));
      PP_CALL(pp_cli_parse_size(a, value, 0, (size_t)PP_JOB_MAX_WAVELENGTHS - 1,
                                &args->wavelength));
      args->wavelength_given = true;
    } else if (strcmp(a, "--trace") == 0) {
      args->trace = true;
    } else if (a[0] == '-' && a[1] != '\0') {
      PP_CHECK(false, PP_ERR_INPUT, "unknown option '%s' for render (see polypsf --help)", a);
    } else {
      PP_CHECK(args->input_path == NULL, PP_ERR_INPUT,
               "more than one input file given ('%s' and '%s')", args->input_path, a);
      args->input_path = a;
    }
  }
  PP_CHECK(args->input_path != NULL, PP_ERR_INPUT,
           "render needs an output file: polypsf render OUT.h5 -o PSF.png");
  PP_CHECK(!args->wavelength_given || args->plane, PP_ERR_INPUT,
           "--wavelength picks a wavelength of a plane: give --plane NAME too");
  PP_CHECK(!args->plane || args->wavelength_given, PP_ERR_INPUT,
           "--plane %s needs --wavelength I (0 = the first wavelength)", args->plane);
  if (args->png_path == NULL) {
    PP_CALL(pp_cli_render_default_path(args->input_path, &args->default_png_path));
    args->png_path = args->default_png_path;
  }
  return PP_SUCCESS;
}

int pp_cli_command_render(int argc, char **argv) {
  pp_cli_render_args args;
  pp_status status = pp_cli_render_parse(argc, argv, &args);
  if (!status && args.plane)
    status = pp_render_png_plane(args.input_path, args.png_path, args.plane, args.wavelength,
                                 &args.options);
  else if (!status)
    status = pp_render_png(args.input_path, args.png_path, &args.options);
  int code = pp_cli_exit_code(status);
  if (status) {
    pp_status_print(status, stderr, args.trace);
    pp_status_free(status);
  } else {
    printf("polypsf: wrote %s from %s\n", args.png_path, args.input_path);
  }
  free(args.default_png_path);
  return code;
}
