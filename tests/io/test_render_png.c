/* io, PNG preview: a known output file (a Gaussian off the centre of a non-square field)
 * rendered and decoded with libpng. The PNG has the requested size, the PSF's peak lands
 * where y-up orientation puts it and is brighter than a corner, a scale bar is drawn;
 * bad options and a missing directory write nothing. One MPI process. */
#include <mpi.h>
#include <png.h>

#include "pp_test.h"
#include "result_test_support.h"

typedef struct {
  png_uint_32 width, height;
  unsigned char *rgb; /* [height][width][3], row 0 at the top */
} decoded_png;

static bool decode_png(const char *path, decoded_png *out) {
  png_image image;
  memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  memset(out, 0, sizeof *out);
  if (!png_image_begin_read_from_file(&image, path)) return false;
  image.format = PNG_FORMAT_RGB;
  out->rgb = malloc(PNG_IMAGE_SIZE(image));
  if (!out->rgb || !png_image_finish_read(&image, NULL, out->rgb, 0, NULL)) {
    png_image_free(&image);
    free(out->rgb);
    out->rgb = NULL;
    return false;
  }
  out->width = image.width;
  out->height = image.height;
  return true;
}

static int brightness(const decoded_png *png, size_t row, size_t col) {
  const unsigned char *p = png->rgb + (row * png->width + col) * 3;
  return p[0] + p[1] + p[2];
}

static void test_render(const char *dir) {
  char h5[4096], png[4096], missing[4096];
  IO_TEST_PATH(h5, "%s/result.h5", dir);
  IO_TEST_PATH(png, "%s/psf.png", dir);
  /* fov 12 (y) × 15 (x) detector pixels, oversample 2: /psf is 24 × 30, peak at (x 12, y 9) */
  result_test_file rf;
  result_test_init(&rf, 2, 12, 15, 2, false, "job: text\n", 12.0, 9.0, 2.0);
  PP_TEST_TRUE(result_test_write(&rf, h5, 2, false), "known output file written");

  /* native size, gray: one PNG pixel per /psf pixel, y up */
  pp_png_options gray = PP_PNG_OPTIONS_DEFAULT;
  gray.colormap = PP_COLORMAP_GRAY;
  PP_TEST_OK(pp_render_png(h5, png, &gray), "render gray at native size");
  decoded_png d;
  PP_TEST_TRUE(decode_png(png, &d), "libpng decodes the PNG");
  PP_TEST_TRUE(d.width == 30 && d.height == 24, "native size: 30 x 24 (nx by ny)");
  if (d.rgb && d.width == 30 && d.height == 24) {
    size_t peak_row = 24 - 1 - 9, peak_col = 12;
    PP_TEST_TRUE(brightness(&d, peak_row, peak_col) == 3 * 255,
                 "the peak pixel (x 12, y 9) is white at PNG row ny−1−y = 14 (y up)");
    PP_TEST_TRUE(brightness(&d, 9, 12) < 3 * 255, "the mirrored row 9 is not the peak (no y flip missing)");
    PP_TEST_TRUE(brightness(&d, peak_row, peak_col) > brightness(&d, 0, 0) &&
                     brightness(&d, peak_row, peak_col) > brightness(&d, 23, 29),
                 "the peak is brighter than the corners");
    /* the log stretch: a pixel of value v·peak is grey level 255·(1 + log10(v)/6) */
    double ratio = rf.psf[9 * 30 + 15] / rf.psf[9 * 30 + 12];
    double want = 255.0 * (1.0 + log10(ratio) / 6.0);
    PP_TEST_NEAR(d.rgb[(peak_row * 30 + 15) * 3], want, 0.5 + 1e-9,
                 "grey level of (x 15, y 9) = 255·(1 + log10(I/I_peak)/6), rounded");
  }
  free(d.rgb);

  /* upsampled, inferno, with a scale bar */
  pp_png_options big = PP_PNG_OPTIONS_DEFAULT;
  big.size_px = 120;
  big.scale_bar_arcsec = PP_PNG_SCALE_BAR_AUTO;
  PP_TEST_OK(pp_render_png(h5, png, &big), "render 120 px inferno with an automatic scale bar "
                                           "(replacing the PNG)");
  PP_TEST_TRUE(decode_png(png, &d), "libpng decodes the second PNG");
  PP_TEST_TRUE(d.width == 120 && d.height == 96, "--size 120: 120 x 96 (aspect kept)");
  if (d.rgb && d.width == 120 && d.height == 96) {
    /* /psf pixel (12, 9) covers PNG columns 48–51 and rows (23−9)·4 … +3 = 56–59 */
    PP_TEST_TRUE(brightness(&d, 57, 49) > brightness(&d, 0, 0) + 200 &&
                     brightness(&d, 57, 49) > brightness(&d, 0, 119) + 200,
                 "the peak region is much brighter than the top corners");
    bool white_bar = false;
    for (size_t row = 48; row < 96; row++)
      for (size_t col = 0; col < 60; col++)
        if (brightness(&d, row, col) == 3 * 255) white_bar = true;
    PP_TEST_TRUE(white_bar, "a white scale bar in the bottom-left quarter");
  }
  free(d.rgb);

  /* refusals write nothing */
  IO_TEST_PATH(missing, "%s/no/such/dir/psf.png", dir);
  pp_status s = pp_render_png(h5, missing, NULL);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "does not exist"),
               "PNG path in a missing directory: PP_ERR_INPUT");
  pp_status_free(s);
  IO_TEST_PATH(png, "%s/other.png", dir);
  pp_png_options bad = PP_PNG_OPTIONS_DEFAULT;
  bad.size_px = 40000;
  s = pp_render_png(h5, png, &bad);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && !io_test_exists(png), "size 40000: PP_ERR_INPUT");
  pp_status_free(s);
  bad = PP_PNG_OPTIONS_DEFAULT;
  bad.min_decades = 0.1;
  s = pp_render_png(h5, png, &bad);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && !io_test_exists(png), "0.1 decades: PP_ERR_INPUT");
  pp_status_free(s);
  bad = PP_PNG_OPTIONS_DEFAULT;
  bad.scale_bar_arcsec = 100.0;
  s = pp_render_png(h5, png, &bad);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "scale bar") &&
                   !io_test_exists(png),
               "a scale bar longer than the image: PP_ERR_INPUT");
  pp_status_free(s);
  IO_TEST_PATH(missing, "%s/nothing.h5", dir);
  s = pp_render_png(missing, png, NULL);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && !io_test_exists(png),
               "missing input: PP_ERR_INPUT, nothing written");
  pp_status_free(s);
  pp_colormap colormap;
  s = pp_colormap_parse("jet", &colormap);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "viridis"),
               "colour map 'jet': PP_ERR_INPUT naming the choices");
  pp_status_free(s);
  PP_TEST_OK(pp_colormap_parse("viridis", &colormap), "colour map 'viridis'");
  PP_TEST_TRUE(colormap == PP_COLORMAP_VIRIDIS, "viridis parsed");
  PP_TEST_TRUE(io_test_count_entries(dir) == 2, "only result.h5 and psf.png in the directory");
  IO_TEST_PATH(png, "%s/psf.png", dir);
  unlink(png);
  unlink(h5);
  result_test_free(&rf);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  char dir[4096];
  if (!io_test_make_dir(dir, sizeof dir)) {
    printf("FAIL cannot make a temporary directory\n");
    MPI_Finalize();
    return 1;
  }
  test_render(dir);
  io_test_remove_dir(dir);
  MPI_Finalize();
  return pp_test_finish();
}
