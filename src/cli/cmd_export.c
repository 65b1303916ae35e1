/* `polypsf export OUT.h5 --fits PSF.fits [--cube] [--force]`: the result as the FITS file
 * POPPY/WebbPSF users open (docs/export.md). No MPI. */
#include "cli.h"

typedef struct {
  const char *input_path, *fits_path, *grid_path;
  pp_fits_export_options options;
  bool trace;
} pp_cli_export_args;

enum { PP_EXPORT_FITS, PP_EXPORT_CUBE, PP_EXPORT_FORCE, PP_EXPORT_TRACE, PP_EXPORT_GRID };
static const pp_cli_option pp_cli_export_options[] = {
    [PP_EXPORT_FITS] = {"fits", 0, "a FITS file name"},
    [PP_EXPORT_CUBE] = {"cube", 0, NULL},
    [PP_EXPORT_FORCE] = {"force", 0, NULL},
    [PP_EXPORT_TRACE] = {"trace", 0, NULL},
    [PP_EXPORT_GRID] = {"psf-grid", 0, "a FITS file name"},
};

static pp_status pp_cli_export_parse(int argc, char **argv, pp_cli_export_args *args) {
  *args = (pp_cli_export_args){0};
  pp_cli_parser parser;
  PP_CALL(pp_cli_parser_init(&parser, "export", argc, argv, pp_cli_export_options,
                             sizeof pp_cli_export_options / sizeof pp_cli_export_options[0]));
  pp_cli_item item;
  do {
    PP_CALL(pp_cli_next(&parser, &item));
    switch (item.option) {
      case PP_EXPORT_FITS: args->fits_path = item.value; break;
      case PP_EXPORT_CUBE: args->options.cube = true; break;
      case PP_EXPORT_FORCE: args->options.force = true; break;
      case PP_EXPORT_TRACE: args->trace = true; break;
      case PP_EXPORT_GRID: args->grid_path = item.value; break;
      default:
        if (item.word) PP_CALL(pp_cli_take_word(&item, "input file", &args->input_path));
    }
  } while (item.option >= 0 || item.word);
  PP_CHECK(args->input_path != NULL, PP_ERR_INPUT,
           "export needs an output file: polypsf export OUT.h5 --fits PSF.fits");
  PP_CHECK(!(args->fits_path && args->grid_path), PP_ERR_INPUT,
           "export writes one file: give --fits PSF.fits or --psf-grid GRID.fits, not both");
  PP_CHECK(!(args->grid_path && args->options.cube), PP_ERR_INPUT,
           "--cube adds /cube to a --fits file; a --psf-grid file holds /grid/psf only");
  PP_CHECK(args->fits_path != NULL || args->grid_path != NULL, PP_ERR_INPUT,
           "export needs --fits PSF.fits (the FITS file to write) or --psf-grid GRID.fits");
  return PP_SUCCESS;
}

int pp_cli_command_export(int argc, char **argv) {
  pp_cli_export_args args;
  pp_status status = pp_cli_export_parse(argc, argv, &args);
  if (!status && args.grid_path)
    status = pp_export_psf_grid(args.input_path, args.grid_path, args.options.force);
  else if (!status)
    status = pp_export_fits(args.input_path, args.fits_path, &args.options);
  if (status) {
    int code = pp_cli_exit_code(status);
    pp_status_print(status, stderr, args.trace);
    pp_status_free(status);
    return code;
  }
  if (args.grid_path) {
    printf("polypsf: wrote %s (a PSF grid as WebbPSF's psf_grid writes it) from %s\n",
           args.grid_path, args.input_path);
    return PP_EXIT_OK;
  }
  printf("polypsf: wrote %s (HDUs OVERSAMP, DET_SAMP%s, WAVELENGTHS) from %s\n", args.fits_path,
         args.options.cube ? ", CUBE" : "", args.input_path);
  return PP_EXIT_OK;
}
