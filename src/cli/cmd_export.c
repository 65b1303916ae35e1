/* `polypsf export OUT.h5 --fits PSF.fits [--cube] [--force]`: the result as the FITS file
 * POPPY/WebbPSF users open (docs/export.md). No MPI. */
#include <string.h>

#include "cli.h"

typedef struct {
  const char *input_path, *fits_path;
  pp_fits_export_options options;
  bool trace;
} pp_cli_export_args;

static pp_status pp_cli_export_parse(int argc, char **argv, pp_cli_export_args *args) {
  *args = (pp_cli_export_args){0};
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--fits") == 0) {
      PP_CALL(pp_cli_option_value(argc, argv, &i, "a FITS file name", &args->fits_path));
    } else if (strcmp(a, "--cube") == 0) {
      args->options.cube = true;
    } else if (strcmp(a, "--force") == 0) {
      args->options.force = true;
    } else if (strcmp(a, "--trace") == 0) {
      args->trace = true;
    } else if (a[0] == '-' && a[1] != '\0') {
      PP_CHECK(false, PP_ERR_INPUT, "unknown option '%s' for export (see polypsf --help)", a);
    } else {
      PP_CHECK(args->input_path == NULL, PP_ERR_INPUT,
               "more than one input file given ('%s' and '%s')", args->input_path, a);
      args->input_path = a;
    }
  }
  PP_CHECK(args->input_path != NULL, PP_ERR_INPUT,
           "export needs an output file: polypsf export OUT.h5 --fits PSF.fits");
  PP_CHECK(args->fits_path != NULL, PP_ERR_INPUT,
           "export needs --fits PSF.fits (the FITS file to write)");
  return PP_SUCCESS;
}

int pp_cli_command_export(int argc, char **argv) {
  pp_cli_export_args args;
  pp_status status = pp_cli_export_parse(argc, argv, &args);
  if (!status) status = pp_export_fits(args.input_path, args.fits_path, &args.options);
  if (status) {
    int code = pp_cli_exit_code(status);
    pp_status_print(status, stderr, args.trace);
    pp_status_free(status);
    return code;
  }
  printf("polypsf: wrote %s (HDUs OVERSAMP, DET_SAMP%s, WAVELENGTHS) from %s\n", args.fits_path,
         args.options.cube ? ", CUBE" : "", args.input_path);
  return PP_EXIT_OK;
}
