/* `polypsf render`: a log-stretched PNG preview of /psf (docs/export.md).
 *
 * The picture follows POPPY's display_psf: logarithmic stretch, y upwards (origin='lower'),
 * a perceptual colour map. The colour maps are the degree-6 polynomial fits to matplotlib's
 * viridis and inferno by Matt Zucker (CC0, shadertoy.com/view/WlfXRN), within about 1 % of
 * the 256-entry tables. */
#define POLYPSF_IO_PACKAGE
#include "io/file_stage.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/io.h"

enum { PP_PNG_MAX_SIZE = 32768 };

pp_status pp_colormap_parse(const char *name, pp_colormap *colormap) {
  static const struct {
    const char *name;
    pp_colormap colormap;
  } names[] = {{"gray", PP_COLORMAP_GRAY}, {"grey", PP_COLORMAP_GRAY},
               {"viridis", PP_COLORMAP_VIRIDIS}, {"inferno", PP_COLORMAP_INFERNO}};
  for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i].name) == 0) {
      *colormap = names[i].colormap;
      return PP_SUCCESS;
    }
  return pp_error_raise(PP_ERR_INPUT, __FILE__, __LINE__, __func__,
                        "unknown colour map '%s': use gray, viridis or inferno", name ? name : "");
}

/* t ∈ [0, 1] → 8-bit RGB. */
static void pp_colormap_rgb(pp_colormap colormap, double t, uint8_t rgb[3]) {
  static const double viridis[7][3] = {
      {0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
      {0.1050930431085774, 1.404613529898575, 1.384590162594685},
      {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
      {-4.634230498983486, -5.799100973351585, -19.33244095627987},
      {6.228269936347081, 14.17993336680509, 56.69055260068105},
      {4.776384997670288, -13.74514537774601, -65.35303263337234},
      {-5.435455855934631, 4.645852612178535, 26.3124352495832}};
  static const double inferno[7][3] = {
      {0.0002189403691192265, 0.001651004631001012, -0.01948089843709184},
      {0.1065134194856116, 0.5639564367884091, 3.932712388889277},
      {11.60249308247187, -3.972853965665698, -15.9423941062914},
      {-41.70399613139459, 17.43639888205313, 44.35414519872813},
      {77.162935699427, -33.40235894210092, -81.80730925738993},
      {-71.31942824499214, 32.62606426397723, 73.20951985803202},
      {25.13112622477341, -12.24266895238567, -23.07032500287172}};
  t = fmin(fmax(t, 0.0), 1.0);
  for (int c = 0; c < 3; c++) {
    double value = t;
    if (colormap != PP_COLORMAP_GRAY) {
      const double(*k)[3] = colormap == PP_COLORMAP_VIRIDIS ? viridis : inferno;
      value = k[6][c];
      for (int i = 5; i >= 0; i--) value = k[i][c] + t * value; /* Horner */
    }
    rgb[c] = (uint8_t)lround(255.0 * fmin(fmax(value, 0.0), 1.0));
  }
}

/* ---- area resampling ------------------------------------------------------------------- */
/* Output pixel j of n_out covers input pixels [j·n_in/n_out, (j+1)·n_in/n_out) (pixel i of the
 * input covering [i, i+1)); each input pixel weighs the length it overlaps. */
typedef struct {
  size_t first;    /* first input pixel */
  size_t count;    /* input pixels that overlap */
  size_t offset;   /* start of this output pixel's weights in the weight array */
} pp_png_taps;

static pp_status pp_png_make_taps(size_t n_in, size_t n_out, pp_png_taps **taps, double **weights) {
  double scale = (double)n_in / (double)n_out;
  size_t per_pixel = (size_t)ceil(scale) + 2, total = 0;
  PP_CALL(pp_size_mul(per_pixel, n_out, &total));
  *taps = calloc(n_out, sizeof **taps);
  *weights = calloc(total, sizeof **weights);
  PP_CHECK(*taps && *weights, PP_ERR_MEMORY, "out of memory for resampling");
  size_t offset = 0;
  for (size_t j = 0; j < n_out; j++) {
    double lo = (double)j * scale, hi = (double)(j + 1) * scale;
    size_t first = (size_t)floor(lo), last = (size_t)ceil(hi);
    if (last > n_in) last = n_in;
    if (first >= last) first = last - 1;
    pp_png_taps *t = &(*taps)[j];
    *t = (pp_png_taps){.first = first, .count = last - first, .offset = offset};
    for (size_t i = first; i < last; i++)
      (*weights)[offset + i - first] = fmin(hi, (double)(i + 1)) - fmax(lo, (double)i);
    offset += t->count;
  }
  return PP_SUCCESS;
}

/* ---- the label of the scale bar: a 3 × 5 pixel font --------------------------------------- */
/* Rows top to bottom, 3 bits each, the most significant bit on the left. */
static const uint8_t *pp_png_glyph(char c) {
  static const uint8_t digits[10][5] = {{7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7},
                                        {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1}, {7, 4, 7, 1, 7},
                                        {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7},
                                        {7, 5, 7, 1, 7}};
  static const uint8_t dot[5] = {0, 0, 0, 0, 2}, quote[5] = {5, 5, 0, 0, 0};
  static const uint8_t minus[5] = {0, 0, 7, 0, 0}, plus[5] = {0, 2, 7, 2, 0};
  static const uint8_t e[5] = {7, 4, 7, 4, 7};
  if (c >= '0' && c <= '9') return digits[c - '0'];
  switch (c) {
    case '.': return dot;
    case '"': return quote;
    case '-': return minus;
    case '+': return plus;
    case 'e': return e;
    default: return NULL;
  }
}

typedef struct {
  uint8_t *rgb;
  size_t width, height;
} pp_png_canvas;

/* A filled rectangle clipped to the canvas (x, y from the top-left corner). */
static void pp_png_fill(pp_png_canvas *canvas, long x0, long y0, long w, long h,
                        const uint8_t colour[3]) {
  for (long y = y0 < 0 ? 0 : y0; y < y0 + h && y < (long)canvas->height; y++)
    for (long x = x0 < 0 ? 0 : x0; x < x0 + w && x < (long)canvas->width; x++)
      memcpy(canvas->rgb + ((size_t)y * canvas->width + (size_t)x) * 3, colour, 3);
}

/* Text in the 3 × 5 font, each font pixel `scale` PNG pixels, with a dark outline so it
 * reads on any background. */
static void pp_png_text(pp_png_canvas *canvas, long x, long y, long scale, const char *text) {
  static const uint8_t white[3] = {255, 255, 255}, black[3] = {0, 0, 0};
  for (int pass = 0; pass < 2; pass++) {
    long cursor = x;
    for (const char *c = text; *c; c++, cursor += 4 * scale) {
      const uint8_t *glyph = pp_png_glyph(*c);
      for (int row = 0; glyph && row < 5; row++)
        for (int col = 0; col < 3; col++)
          if (glyph[row] & (4 >> col)) {
            long px = cursor + col * scale, py = y + row * scale;
            if (pass == 0)
              pp_png_fill(canvas, px - 1, py - 1, scale + 2, scale + 2, black);
            else
              pp_png_fill(canvas, px, py, scale, scale, white);
          }
    }
  }
}

/* ---- writing the PNG (libpng) ----------------------------------------------------------------- */
typedef struct {
  char message[256];
} pp_png_error_context;

static void pp_png_on_error(png_structp png, png_const_charp message) {
  pp_png_error_context *context = png_get_error_ptr(png);
  snprintf(context->message, sizeof context->message, "%s", message);
  png_longjmp(png, 1);
}

static void pp_png_on_warning(png_structp png, png_const_charp message) {
  (void)png;
  (void)message; /* warnings (e.g. about text chunks) do not make the picture wrong */
}

/* Writes an 8-bit RGB image with text chunks to fp. Returns 0, or −1 with context->message
 * set. Every variable used after a longjmp is set before setjmp and not changed after it. */
static int pp_png_write(FILE *fp, const pp_png_canvas *canvas, png_text *text, int n_text,
                        pp_png_error_context *context) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, context, pp_png_on_error,
                                            pp_png_on_warning);
  if (png == NULL) {
    snprintf(context->message, sizeof context->message, "cannot start libpng");
    return -1;
  }
  png_infop info = png_create_info_struct(png);
  if (info == NULL) {
    png_destroy_write_struct(&png, NULL);
    snprintf(context->message, sizeof context->message, "cannot start libpng");
    return -1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return -1;
  }
  png_init_io(png, fp);
  png_set_IHDR(png, info, (png_uint_32)canvas->width, (png_uint_32)canvas->height, 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_text(png, info, text, n_text);
  png_write_info(png, info);
  for (size_t y = 0; y < canvas->height; y++)
    png_write_row(png, canvas->rgb + y * canvas->width * 3);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return 0;
}

static pp_status pp_png_check_options(const pp_png_options *o) {
  PP_CHECK(o->colormap == PP_COLORMAP_GRAY || o->colormap == PP_COLORMAP_VIRIDIS ||
               o->colormap == PP_COLORMAP_INFERNO,
           PP_ERR_INPUT, "unknown colour map %d", (int)o->colormap);
  PP_CHECK(o->size_px <= PP_PNG_MAX_SIZE, PP_ERR_INPUT,
           "--size must be 1 to %d pixels, got %zu", PP_PNG_MAX_SIZE, o->size_px);
  PP_CHECK(isfinite(o->min_decades) && o->min_decades >= 0.5 && o->min_decades <= 20.0,
           PP_ERR_INPUT, "--min-decades must be 0.5 to 20, got %g", o->min_decades);
  PP_CHECK(o->scale_bar_arcsec == PP_PNG_SCALE_BAR_AUTO ||
               (isfinite(o->scale_bar_arcsec) && o->scale_bar_arcsec >= 0.0),
           PP_ERR_INPUT, "--scale-bar must be a length in arcsec > 0 or auto, got %g",
           o->scale_bar_arcsec);
  return PP_SUCCESS;
}

/* The stretched, resampled, coloured picture of /psf, with the scale bar. */
/* The longest 1, 2 or 5 × 10^k arcsec not over a fifth of the image's width; 0 (no bar)
 * when that would be shorter than 2 PNG pixels. */
static double pp_png_auto_scale_bar(double width_arcsec, double arcsec_per_png_px) {
  double target = 0.2 * width_arcsec, decade = pow(10.0, floor(log10(target)));
  double length = decade;
  if (5.0 * decade <= target) length = 5.0 * decade;
  else if (2.0 * decade <= target) length = 2.0 * decade;
  return length / arcsec_per_png_px >= 2.0 ? length : 0.0;
}

static pp_status pp_png_paint(const pp_result *r, pp_png_options *o, pp_png_canvas *canvas,
                              char *bar_label, size_t label_size) {
  pp_status status = PP_SUCCESS;
  pp_png_taps *x_taps = NULL, *y_taps = NULL;
  double *x_weights = NULL, *y_weights = NULL;
  double peak = 0.0;
  for (size_t p = 0; p < r->ny * r->nx; p++)
    if (isfinite(r->psf[p]) && r->psf[p] > peak) peak = r->psf[p];
  PP_CHECK(peak > 0.0, PP_ERR_INPUT, "/psf of '%s' has no positive value to show", r->path);

  size_t longer = r->nx > r->ny ? r->nx : r->ny;
  double zoom = o->size_px ? (double)o->size_px / (double)longer : 1.0; /* PNG px per /psf px */
  canvas->width = (size_t)fmax(1.0, round((double)r->nx * zoom));
  canvas->height = (size_t)fmax(1.0, round((double)r->ny * zoom));
  if (r->pixelscale_m > 0.0) {
    /* A Fresnel result is in metres: no arcsec scale bar to draw. */
    PP_CHECK(o->scale_bar_arcsec == PP_PNG_SCALE_BAR_AUTO || o->scale_bar_arcsec == 0.0,
             PP_ERR_INPUT,
             "--scale-bar is in arcsec, but '%s' is a Fresnel result in metres (%g m per "
             "pixel); leave --scale-bar out", r->path, r->pixelscale_m);
    o->scale_bar_arcsec = 0.0;
  }
  double arcsec_per_png_px = r->pixelscale_arcsec * (double)r->nx / (double)canvas->width;
  if (o->scale_bar_arcsec == PP_PNG_SCALE_BAR_AUTO)
    o->scale_bar_arcsec =
        pp_png_auto_scale_bar(arcsec_per_png_px * (double)canvas->width, arcsec_per_png_px);
  double bar_px = o->scale_bar_arcsec / arcsec_per_png_px;
  if (o->scale_bar_arcsec > 0.0) {
    PP_CHECK(bar_px >= 2.0, PP_ERR_INPUT,
             "a scale bar of %g arcsec would be %.2g PNG pixels long (pixels of %g arcsec); "
             "give a longer bar or a larger --size", o->scale_bar_arcsec, bar_px,
             arcsec_per_png_px);
    PP_CHECK(bar_px <= 0.8 * (double)canvas->width, PP_ERR_INPUT,
             "a scale bar of %g arcsec is longer than 80 %% of the image (%g arcsec wide)",
             o->scale_bar_arcsec, arcsec_per_png_px * (double)canvas->width);
  }

  size_t bytes = 0;
  PP_CALL(pp_size_mul(canvas->width * 3, canvas->height, &bytes));
  canvas->rgb = malloc(bytes);
  PP_CHECK(canvas->rgb != NULL, PP_ERR_MEMORY, "out of memory for a %zu x %zu PNG",
           canvas->width, canvas->height);
  PP_CALL_GOTO(status, pp_png_make_taps(r->nx, canvas->width, &x_taps, &x_weights));
  PP_CALL_GOTO(status, pp_png_make_taps(r->ny, canvas->height, &y_taps, &y_weights));

  double log_peak = log10(peak);
  for (size_t row = 0; row < canvas->height; row++) {
    /* PNG rows run downwards; the PSF's y runs upwards. */
    const pp_png_taps *ty = &y_taps[canvas->height - 1 - row];
    for (size_t col = 0; col < canvas->width; col++) {
      const pp_png_taps *tx = &x_taps[col];
      double sum = 0.0, weight = 0.0;
      for (size_t a = 0; a < ty->count; a++) {
        const double *line = r->psf + (ty->first + a) * r->nx + tx->first;
        double wy = y_weights[ty->offset + a];
        for (size_t b = 0; b < tx->count; b++) {
          double w = wy * x_weights[tx->offset + b];
          if (isfinite(line[b])) {
            sum += w * line[b];
            weight += w;
          }
        }
      }
      double value = weight > 0.0 ? sum / weight : 0.0;
      double t = value > 0.0 ? (log10(value) - log_peak + o->min_decades) / o->min_decades : 0.0;
      pp_colormap_rgb(o->colormap, t, canvas->rgb + (row * canvas->width + col) * 3);
    }
  }

  bar_label[0] = '\0';
  if (o->scale_bar_arcsec > 0.0) {
    /* Bottom left, a margin of 5 % of the width; text 5 font rows of `scale` pixels above. */
    static const uint8_t white[3] = {255, 255, 255}, black[3] = {0, 0, 0};
    long margin = (long)fmax(2.0, 0.05 * (double)canvas->width);
    long thickness = (long)fmax(2.0, (double)canvas->height / 100.0);
    long scale = (long)fmax(1.0, (double)canvas->width / 200.0);
    long length = lround(bar_px);
    long y_bar = (long)canvas->height - margin - thickness;
    pp_png_fill(canvas, margin - 1, y_bar - 1, length + 2, thickness + 2, black);
    pp_png_fill(canvas, margin, y_bar, length, thickness, white);
    snprintf(bar_label, label_size, "%g\"", o->scale_bar_arcsec);
    pp_png_text(canvas, margin, y_bar - 7 * scale, scale, bar_label);
  }
done:
  free(x_taps);
  free(y_taps);
  free(x_weights);
  free(y_weights);
  return status;
}

/* Paints r->psf (r->ny × r->nx pixels of r->pixelscale_arcsec) into png_path; `what` names
 * the image in the PNG's description ("/psf", "/planes/2_fqpm at 2e-06 m"). */
static pp_status pp_render_result(const pp_result *r, const char *png_path, pp_png_options o,
                                  const char *what, const char *title) {
  pp_status status = PP_SUCCESS;
  pp_io_stage stage = {0};
  pp_png_canvas canvas = {0};
  FILE *fp = NULL;
  char bar_label[64];
  PP_CALL_GOTO(status, pp_png_paint(r, &o, &canvas, bar_label, sizeof bar_label));

  /* A preview is derived data: an existing PNG is replaced (atomically). */
  PP_CALL_GOTO(status, pp_io_stage_begin(png_path, r->path, true, "PNG file", &stage));
  fp = fopen(stage.file_path, "wb");
  PP_CHECK_GOTO(status, fp != NULL, PP_ERR_IO, "cannot create '%s': %s", stage.file_path,
                strerror(errno));
  static const char *colormap_names[] = {"gray", "viridis", "inferno"};
  char description[1024], software[64];
  snprintf(description, sizeof description,
           "%.200s of %.300s: log10 stretch over %g decades below the peak, colour map %s, "
           "%zu x %zu pixels of %.6g arcsec, y up%s%s", what, r->path, o.min_decades,
           colormap_names[o.colormap], canvas.width, canvas.height,
           r->pixelscale_arcsec * (double)r->nx / (double)canvas.width,
           bar_label[0] ? ", scale bar " : "", bar_label);
  snprintf(software, sizeof software, "polypsf %s", pp_version());
  png_text text[3] = {
      {.compression = PNG_TEXT_COMPRESSION_NONE, .key = "Title", .text = (char *)title},
      {.compression = PNG_TEXT_COMPRESSION_NONE, .key = "Software", .text = software},
      {.compression = PNG_TEXT_COMPRESSION_NONE, .key = "Description", .text = description}};
  pp_png_error_context context = {{0}};
  PP_CHECK_GOTO(status, pp_png_write(fp, &canvas, text, 3, &context) == 0, PP_ERR_LIBRARY,
                "cannot write PNG '%s' (libpng: %s)", png_path, context.message);
  int closed = fclose(fp);
  fp = NULL;
  PP_CHECK_GOTO(status, closed == 0, PP_ERR_IO, "cannot write PNG '%s': %s", png_path,
                strerror(errno));
  PP_CALL_GOTO(status, pp_io_stage_publish(&stage, true));
done:
  if (fp) fclose(fp);
  pp_io_stage_abort(&stage);
  free(canvas.rgb);
  return status;
}

pp_status pp_render_png(const char *input_path, const char *png_path,
                        const pp_png_options *options) {
  pp_status status = PP_SUCCESS;
  pp_result *r = NULL;
  pp_png_options o = options ? *options : PP_PNG_OPTIONS_DEFAULT;
  PP_CALL_GOTO(status, pp_png_check_options(&o));
  PP_CALL_GOTO(status, pp_result_load(input_path, &r));
  PP_CALL_GOTO(status, pp_result_check_complete(r));
  PP_CALL_GOTO(status, pp_render_result(r, png_path, o, "/psf", "PSF preview"));
done:
  pp_result_destroy(&r);
  return status;
}

pp_status pp_render_png_plane(const char *input_path, const char *png_path, const char *plane,
                              size_t index, const pp_png_options *options) {
  pp_status status = PP_SUCCESS;
  pp_result *r = NULL;
  pp_plane_slice slice = {0};
  pp_png_options o = options ? *options : PP_PNG_OPTIONS_DEFAULT;
  PP_CALL_GOTO(status, pp_png_check_options(&o));
  PP_CALL_GOTO(status, pp_result_load(input_path, &r));
  PP_CALL_GOTO(status, pp_output_read_plane(input_path, plane, index, &slice));
  PP_CHECK_GOTO(status, r->completed[index], PP_ERR_INPUT,
                "wavelength %zu of '%s' is not completed: its planes are not written yet", index,
                input_path);
  bool pupil = strcmp(slice.plane_type, "pupil") == 0;
  PP_CHECK_GOTO(status, !pupil || o.scale_bar_arcsec == 0.0, PP_ERR_INPUT,
                "/planes/%s is a pupil plane (pixels of %g m): a scale bar in arcsec does not "
                "apply to it", slice.name, slice.pixelscale);
  /* the plane takes the place of /psf for the painter */
  pp_array_free(&r->psf);
  r->psf = slice.intensity;
  slice.intensity = NULL;
  r->ny = slice.ny;
  r->nx = slice.nx;
  r->pixelscale_arcsec = pupil ? 1.0 : slice.pixelscale; /* pupil: no bar, any unit */
  char what[160];
  snprintf(what, sizeof what, "/planes/%s (%s plane, intensity) at %.6g m", slice.name,
           slice.plane_type, r->wavelengths_m[index]);
  PP_CALL_GOTO(status, pp_render_result(r, png_path, o, what, "plane preview"));
done:
  pp_plane_slice_clear(&slice);
  pp_result_destroy(&r);
  return status;
}
