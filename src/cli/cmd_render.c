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

enum {
  PP_RENDER_OUTPUT, PP_RENDER_COLORMAP, PP_RENDER_SCALE_BAR, PP_RENDER_SIZE,
  PP_RENDER_MIN_DECADES, PP_RENDER_PLANE, PP_RENDER_WAVELENGTH, PP_RENDER_TRACE
};
static const pp_cli_option pp_cli_render_options[] = {
    [PP_RENDER_OUTPUT] = {"output", 'o', "a PNG file name"},
    [PP_RENDER_COLORMAP] = {"colormap", 0, "gray, viridis or inferno"},
    [PP_RENDER_SCALE_BAR] = {"scale-bar", 0, "a length in arcsec or auto"},
    [PP_RENDER_SIZE] = {"size", 0, "a number of pixels"},
    [PP_RENDER_MIN_DECADES] = {"min-decades", 0, "a number of decades"},
    [PP_RENDER_PLANE] = {"plane", 0, "a plane: dataset name, optic index or name"},
    [PP_RENDER_WAVELENGTH] = {"wavelength", 0, "a wavelength index (0 = the first)"},
    [PP_RENDER_TRACE] = {"trace", 0, NULL},
};

static pp_status pp_cli_render_parse(int argc, char **argv, pp_cli_render_args *args) {
  *args = (pp_cli_render_args){.options = PP_PNG_OPTIONS_DEFAULT};
  pp_cli_parser parser;
  PP_CALL(pp_cli_parser_init(&parser, "render", argc, argv, pp_cli_render_options,
                             sizeof pp_cli_render_options / sizeof pp_cli_render_options[0]));
  pp_cli_item item;
  do {
    PP_CALL(pp_cli_next(&parser, &item));
    const char *value = item.value;
    switch (item.option) {
      case PP_RENDER_OUTPUT: args->png_path = value; break;
      case PP_RENDER_COLORMAP: PP_CALL(pp_colormap_parse(value, &args->options.colormap)); break;
      case PP_RENDER_SCALE_BAR:
        if (strcmp(value, "auto") == 0)
          args->options.scale_bar_arcsec = PP_PNG_SCALE_BAR_AUTO;
        else
          PP_CALL(pp_cli_parse_number(item.name, value, 1e-9, 1e9,
                                      &args->options.scale_bar_arcsec));
        break;
      case PP_RENDER_SIZE:
        PP_CALL(pp_cli_parse_size(item.name, value, 1, 32768, &args->options.size_px));
        break;
      case PP_RENDER_MIN_DECADES:
        PP_CALL(pp_cli_parse_number(item.name, value, 0.5, 20.0, &args->options.min_decades));
        break;
      case PP_RENDER_PLANE: args->plane = value; break;
      case PP_RENDER_WAVELENGTH:
        PP_CALL(pp_cli_parse_size(item.name, value, 0, (size_t)PP_JOB_MAX_WAVELENGTHS - 1,
                                  &args->wavelength));
        args->wavelength_given = true;
        break;
      case PP_RENDER_TRACE: args->trace = true; break;
      default:
        if (item.word) PP_CALL(pp_cli_take_word(&item, "input file", &args->input_path));
    }
  } while (item.option >= 0 || item.word);
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
