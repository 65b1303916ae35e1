/* fits_optical_element: transmission and OPD maps read from FITS and HDF5 files.
 *
 * Truths, each independent of the code under test:
 *   - an OPD map written from zernike_wfe's own OPD on the pupil grid gives that OPD back
 *     and the same PSF (the file is the identity when laid pixel for pixel);
 *   - a transmission map written from circular_aperture's gray pupil gives its PSF;
 *   - bilinear resampling reproduces a linear ramp exactly, at any scale, shift and turn
 *     (the ramp evaluated here from the documented geometry);
 *   - whole-pixel shifts and POPPY's pad/crop centring move pixels by whole pixels
 *     (index arithmetic done here);
 *   - each bad file is PP_ERR_INPUT naming the file, and the job parser puts it at the key.
 * Files are written here with cfitsio and HDF5 into a fresh temporary directory. Serial.
 * Over 600 lines: every truth above is checked for both formats (FITS and HDF5) and for 2-D
 * maps and cubes, and the writers of those test files are shared by all of them. */
#include <fitsio.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/formats.h"
#include "polypsf/io.h"
#include "polypsf/job.h"
#include "polypsf/optics.h"
#include "polypsf/system.h"
#include "pp_test.h"

static char test_dir[1024];

/* ---- files ------------------------------------------------------------------------------ */

static const char *in_dir(char *buf, size_t size, const char *name) {
  snprintf(buf, size, "%s/%s", test_dir, name);
  return buf;
}

typedef struct {
  const char *scale_key; /* "PIXELSCL", "PUPLSCAL" or NULL */
  double scale;
  const char *bunit;     /* or NULL */
  const char *pixunit;   /* or NULL */
  const char *extname;   /* NULL: data in the primary HDU; else an empty primary + this extension */
} fits_keys;

/* Writes naxis axes (naxes[0] = NAXIS1 = x) of doubles; returns cfitsio's status. */
static int write_fits_nd(const char *path, int naxis, const long *naxes, const double *values,
                         const fits_keys *keys) {
  unlink(path);
  fitsfile *f = NULL;
  int st = 0;
  long count = 1;
  for (int i = 0; i < naxis; i++) count *= naxes[i];
  fits_create_diskfile(&f, path, &st);
  if (keys && keys->extname) {
    fits_create_img(f, DOUBLE_IMG, 0, NULL, &st);
    fits_create_img(f, DOUBLE_IMG, naxis, (long *)naxes, &st);
    fits_write_key(f, TSTRING, "EXTNAME", (void *)keys->extname, NULL, &st);
  } else {
    fits_create_img(f, DOUBLE_IMG, naxis, (long *)naxes, &st);
  }
  if (keys && keys->scale_key) {
    double scale = keys->scale;
    fits_write_key(f, TDOUBLE, keys->scale_key, &scale, "m/pixel", &st);
  }
  if (keys && keys->bunit) fits_write_key(f, TSTRING, "BUNIT", (void *)keys->bunit, NULL, &st);
  if (keys && keys->pixunit)
    fits_write_key(f, TSTRING, "PIXUNIT", (void *)keys->pixunit, NULL, &st);
  if (count > 0) fits_write_img(f, TDOUBLE, 1, count, (double *)values, &st);
  fits_close_file(f, &st);
  return st;
}

static int write_fits(const char *path, size_t ny, size_t nx, const double *values,
                      const fits_keys *keys) {
  long naxes[2] = {(long)nx, (long)ny};
  return write_fits_nd(path, 2, naxes, values, keys);
}

/* Writes dataset `name` (rank dims) with optional attributes pixelscale_m and units. */
static int write_h5(const char *path, const char *name, int rank, const hsize_t *dims,
                    const double *values, double pixelscale_m, const char *units, bool append) {
  hid_t file = append ? H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT)
                      : H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t space = H5Screate_simple(rank, dims, NULL);
  hid_t dset = H5Dcreate2(file, name, H5T_IEEE_F64LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  herr_t ok = H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
  if (!isnan(pixelscale_m)) {
    hid_t scalar = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(dset, "pixelscale_m", H5T_IEEE_F64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
    ok |= H5Awrite(attr, H5T_NATIVE_DOUBLE, &pixelscale_m);
    H5Aclose(attr);
    H5Sclose(scalar);
  }
  if (units) {
    hid_t scalar = H5Screate(H5S_SCALAR);
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(units));
    hid_t attr = H5Acreate2(dset, "units", type, scalar, H5P_DEFAULT, H5P_DEFAULT);
    ok |= H5Awrite(attr, type, units);
    H5Aclose(attr);
    H5Tclose(type);
    H5Sclose(scalar);
  }
  H5Dclose(dset);
  H5Sclose(space);
  H5Pclose(lcpl);
  H5Fclose(file);
  return file >= 0 && dset >= 0 && ok >= 0 ? 0 : 1;
}

static int write_h5_2d(const char *path, const char *name, size_t ny, size_t nx,
                       const double *values, double pixelscale_m, const char *units) {
  hsize_t dims[2] = {ny, nx};
  return write_h5(path, name, 2, dims, values, pixelscale_m, units, false);
}

static int write_text(const char *path, const char *text, size_t length) {
  FILE *f = fopen(path, "wb");
  if (!f) return 1;
  size_t wrote = fwrite(text, 1, length, f);
  return fclose(f) != 0 || wrote != length;
}

/* ---- planes and specs --------------------------------------------------------------------- */

typedef struct {
  pp_pupil_grid grid;
  double *amplitude, *opd;
} test_plane;

static test_plane plane_new(size_t ny, size_t nx, double pixelscale_m) {
  test_plane plane = {{ny, nx, pixelscale_m}, malloc(ny * nx * sizeof(double)),
                      calloc(ny * nx, sizeof(double))};
  for (size_t i = 0; i < ny * nx; i++) plane.amplitude[i] = 1.0;
  return plane;
}

static void plane_free(test_plane *plane) {
  free(plane->amplitude);
  free(plane->opd);
}

static double coordinate(size_t index, size_t n, double pixelscale_m) {
  return ((double)index - ((double)n - 1) / 2) * pixelscale_m;
}

static pp_optic_spec map_spec(const char *key, const char *location) {
  pp_optic_spec spec;
  pp_optic_spec_init(&spec, pp_optic_type_find("fits_optical_element"));
  if (key) PP_TEST_OK(pp_optic_spec_set_text(&spec, key, location), "set map location");
  return spec;
}

static void set_ok(pp_optic_spec *spec, const char *key, double value) {
  pp_status status = pp_optic_spec_set(spec, key, value);
  if (status != PP_SUCCESS) PP_TEST_OK(status, key);
}

/* Loads and applies spec on plane; false (and a failed check) when either fails. */
static bool load_apply(pp_optic_spec *spec, test_plane *plane, const char *what) {
  pp_status status = pp_optic_spec_load_files(spec, NULL);
  if (status == PP_SUCCESS)
    status = pp_optic_apply_pupil(spec, &plane->grid, plane->amplitude, plane->opd);
  bool ok = status == PP_SUCCESS;
  if (!ok) PP_TEST_OK(status, what);
  else pp_status_free(status);
  return ok;
}

/* The load fails with PP_ERR_INPUT and a message holding each of the words (NULL-ended). */
static void expect_load_error(pp_optic_spec *spec, const char *what, int want_param,
                              const char *word, ...) {
  int param = -2;
  pp_status status = pp_optic_spec_load_files(spec, &param);
  bool ok = status != PP_SUCCESS && pp_status_code(status) == PP_ERR_INPUT;
  const char *message = pp_status_message(status);
  va_list ap;
  va_start(ap, word);
  for (const char *w = word; w && ok; w = va_arg(ap, const char *)) ok = strstr(message, w) != NULL;
  va_end(ap);
  bool param_ok = want_param == -2 || param == want_param;
  char detail[1400];
  snprintf(detail, sizeof detail, "%s (param %d)", message, param);
  pp_test_report(ok && param_ok, __FILE__, __LINE__, what, detail);
  pp_status_free(status);
}

/* ---- 0. cubes: one map per field point ------------------------------------------------------ */

/* A FITS cube (NAXIS3 maps) and an HDF5 one ([map][y][x]): pp_map_read refuses them (a 2-D
 * map is asked for), pp_map_read_slice reads map k as the values written at k, and
 * fits_optical_element lays the map of the field point it is told, pixel for pixel. */
static void test_cubes(void) {
  enum { N = 8, MAPS = 3 };
  double cube[MAPS * N * N];
  for (size_t v = 0; v < MAPS * N * N; v++)
    cube[v] = 1e-9 * (double)(v % 97) + 1e-7 * (double)(v / (N * N));
  char fits_path[1200], h5_path[1200];
  fits_keys keys = {.scale_key = "PIXELSCL", .scale = 0.01, .bunit = "m"};
  long axes[3] = {N, N, MAPS};
  PP_TEST_TRUE(write_fits_nd(in_dir(fits_path, sizeof fits_path, "cube.fits"), 3, axes, cube,
                             &keys) == 0, "FITS cube written");
  hsize_t dims[3] = {MAPS, N, N};
  PP_TEST_TRUE(write_h5(in_dir(h5_path, sizeof h5_path, "cube.h5"), "/opd", 3, dims, cube, 0.01,
                        "m", false) == 0, "HDF5 cube written");
  const char *paths[2] = {fits_path, h5_path};
  for (int f = 0; f < 2; f++) {
    pp_map map;
    pp_status status = pp_map_read(paths[f], &map);
    PP_TEST_TRUE(status && strstr(pp_status_message(status), "2-D"),
                 "pp_map_read: a cube is not a 2-D map");
    pp_status_free(status);
    for (size_t k = 0; k < MAPS; k++) {
      status = pp_map_read_slice(paths[f], k, &map);
      PP_TEST_OK(status, "pp_map_read_slice reads map k");
      if (status) continue;
      bool same = map.ny == N && map.nx == N && map.n_slices == MAPS;
      for (size_t v = 0; same && v < N * N; v++) same = map.values[v] == cube[k * N * N + v];
      PP_TEST_TRUE(same, "map k holds the values written at k, n_slices the count");
      PP_TEST_NEAR(map.pixelscale_m, 0.01, 0.0, "the cube's pixel scale");
      pp_map_clear(&map);
    }
    status = pp_map_read_slice(paths[f], MAPS, &map);
    PP_TEST_TRUE(status && strstr(pp_status_message(status), "no map 3"), "no map past the last");
    pp_status_free(status);

    pp_optic_spec spec = map_spec("opd", paths[f]);
    PP_TEST_OK(pp_optic_spec_load_files(&spec, NULL), "a cube loads");
    PP_TEST_TRUE(pp_optic_spec_map_count(&spec, "opd") == MAPS &&
                 pp_optic_spec_map_count(&spec, "transmission") == 0, "its count of maps");
    pp_status past = pp_optic_spec_use_field_point(&spec, MAPS);
    PP_TEST_TRUE(past != PP_SUCCESS, "no field point past the cube");
    pp_status_free(past);
    PP_TEST_OK(pp_optic_spec_use_field_point(&spec, 2), "field point 2");
    test_plane plane = plane_new(N, N, 0.01);
    pp_status applied = pp_optic_apply_pupil(&spec, &plane.grid, plane.amplitude, plane.opd);
    PP_TEST_OK(applied, "apply map 2");
    if (applied == PP_SUCCESS) {
      bool same = true;
      for (size_t v = 0; v < N * N; v++) same = same && plane.opd[v] == cube[2 * N * N + v];
      PP_TEST_TRUE(same, "the OPD laid is map 2, pixel for pixel");
    }
    plane_free(&plane);
    pp_optic_spec_clear(&spec);
  }
  /* A transmission cube: the amplitude is multiplied by the point's map; a negative value in
   * a later map stops the load, naming the map. */
  double transmission[MAPS * N * N];
  for (size_t v = 0; v < MAPS * N * N; v++) transmission[v] = (double)((v * 7) % 11) / 10.0;
  PP_TEST_TRUE(write_h5(in_dir(h5_path, sizeof h5_path, "t_cube.h5"), "/t", 3, dims,
                        transmission, 0.01, NULL, false) == 0, "HDF5 transmission cube written");
  pp_optic_spec t_spec = map_spec("transmission", h5_path);
  PP_TEST_OK(pp_optic_spec_load_files(&t_spec, NULL), "a transmission cube loads");
  PP_TEST_OK(pp_optic_spec_use_field_point(&t_spec, 1), "field point 1");
  test_plane t_plane = plane_new(N, N, 0.01);
  PP_TEST_OK(pp_optic_apply_pupil(&t_spec, &t_plane.grid, t_plane.amplitude, t_plane.opd),
             "apply transmission map 1");
  bool t_same = true;
  for (size_t v = 0; v < N * N; v++)
    t_same = t_same && t_plane.amplitude[v] == transmission[N * N + v];
  PP_TEST_TRUE(t_same, "the amplitude is transmission map 1, pixel for pixel");
  plane_free(&t_plane);
  pp_optic_spec_clear(&t_spec);
  transmission[2 * N * N + 9] = -0.5;
  write_h5(h5_path, "/t", 3, dims, transmission, 0.01, NULL, false);
  t_spec = map_spec("transmission", h5_path);
  int t_index = pp_optic_param_index(pp_optic_type_find("fits_optical_element"), "transmission");
  expect_load_error(&t_spec, "negative transmission in map 2", t_index, h5_path,
                    "(1, 1) of map 2", ">= 0", NULL);
  pp_optic_spec_clear(&t_spec);

  /* A NaN in a map after the first stops the load, naming the map. */
  cube[2 * N * N + 5] = NAN;
  write_fits_nd(fits_path, 3, axes, cube, &keys);
  pp_optic_spec spec = map_spec("opd", fits_path);
  int opd_index = pp_optic_param_index(pp_optic_type_find("fits_optical_element"), "opd");
  expect_load_error(&spec, "NaN in map 2 of a cube", opd_index, fits_path, "(0, 5) of map 2",
                    "NaN", NULL);
  pp_optic_spec_clear(&spec);
}

/* ---- 1. an OPD map equals the zernike_wfe it was written from ------------------------------- */

enum { ZN = 64 };
static const double zernike_radius_m = 1.0;
static const char *const zernike_yaml =
    "{radius: 1.0, coefficients: [0, 1.0e-7, -4.0e-8, 5.0e-8, 3.0e-8, 0, 2.0e-8, 0, 0, 1.0e-8, "
    "-2.5e-8]}";
static const double zernike_coefficients[] = {0,     1.0e-7, -4.0e-8, 5.0e-8, 3.0e-8, 0,
                                              2.0e-8, 0,     0,       1.0e-8, -2.5e-8};

static double *zernike_opd(double pixelscale_m) {
  test_plane plane = plane_new(ZN, ZN, pixelscale_m);
  pp_optic_spec z;
  pp_optic_spec_init(&z, pp_optic_type_find("zernike_wfe"));
  set_ok(&z, "radius", zernike_radius_m);
  PP_TEST_OK(pp_optic_spec_set_list(&z, "coefficients", zernike_coefficients,
                                    sizeof zernike_coefficients / sizeof zernike_coefficients[0]),
             "zernike coefficients");
  PP_TEST_OK(pp_optic_apply_pupil(&z, &plane.grid, plane.amplitude, plane.opd), "zernike OPD");
  pp_optic_spec_clear(&z);
  free(plane.amplitude);
  return plane.opd;
}

static double max_abs(const double *a, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
  return m;
}

static double max_diff(const double *a, const double *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
  return m;
}

/* PSF of a job text parsed as if it were the file <test_dir>/job.yaml. */
static double *job_psf(const char *yaml, size_t *count, double *pupil_diameter_m) {
  char name[1200];
  in_dir(name, sizeof name, "job.yaml");
  pp_job *job = NULL;
  pp_system *system = NULL;
  double *psf = NULL;
  PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), name, &job), "job parses");
  if (job) PP_TEST_OK(pp_system_create(job, &system), "system builds");
  if (system) {
    size_t ny, nx;
    pp_system_psf_shape(system, &ny, &nx);
    *count = ny * nx;
    *pupil_diameter_m = pp_system_pupil_diameter_m(system);
    psf = malloc(*count * sizeof *psf);
    PP_TEST_OK(pp_system_psf(system, job->wavelengths_m[0], psf), "PSF computes");
  }
  pp_system_destroy(&system);
  pp_job_destroy(&job);
  return psf;
}

static void compare_psfs(const char *yaml_a, const char *yaml_b, const char *what) {
  size_t count_a = 0, count_b = 0;
  double diameter_a = 0, diameter_b = 0;
  double *a = job_psf(yaml_a, &count_a, &diameter_a);
  double *b = job_psf(yaml_b, &count_b, &diameter_b);
  if (a && b && count_a == count_b) {
    double peak = max_abs(a, count_a), diff = max_diff(a, b, count_a);
    char label[200];
    snprintf(label, sizeof label, "%s: same PSF (max |diff| / peak)", what);
    PP_TEST_NEAR(diff / peak, 0, 1e-12, label);
    printf("     measured: %s: max |diff| / peak = %.3g, pupil widths %.17g and %.17g m\n", what,
           diff / peak, diameter_a, diameter_b);
  } else {
    PP_TEST_TRUE(false, what);
  }
  free(a);
  free(b);
}

static const char *const job_head =
    "pupil: {npix: 64}\nwavelengths: {list: [1.0e-6]}\n"
    "detector: {pixelscale: 0.025, fov_pixels: 24, oversample: 2}\n"
    "propagation: {method: mft}\noptics:\n";

static void test_opd_equals_zernike(void) {
  double pixelscale_m = 2.0 * zernike_radius_m / ZN;
  double *truth = zernike_opd(pixelscale_m);
  size_t n = (size_t)ZN * ZN;
  double peak = max_abs(truth, n);
  char path[1200];

  /* FITS, metres, PIXELSCL. */
  fits_keys keys = {.scale_key = "PIXELSCL", .scale = pixelscale_m, .bunit = "meter"};
  PP_TEST_TRUE(write_fits(in_dir(path, sizeof path, "wfe.fits"), ZN, ZN, truth, &keys) == 0,
               "write wfe.fits");
  pp_optic_spec spec = map_spec("opd", path);
  test_plane plane = plane_new(ZN, ZN, pixelscale_m);
  if (load_apply(&spec, &plane, "FITS OPD map")) {
    PP_TEST_NEAR(max_diff(plane.opd, truth, n) / peak, 0, 1e-12,
                 "FITS OPD map = zernike_wfe OPD (max |diff| / max |OPD|)");
    printf("     measured: FITS OPD map vs zernike_wfe: max |diff| = %.3g m\n",
           max_diff(plane.opd, truth, n));
    double amplitude_off = 0;
    for (size_t i = 0; i < n; i++) amplitude_off = fmax(amplitude_off, fabs(plane.amplitude[i] - 1));
    PP_TEST_NEAR(amplitude_off, 0, 0, "an OPD map leaves the amplitude alone");
    PP_TEST_NEAR(pp_optic_pupil_diameter_m(&spec), ZN * pixelscale_m, 0,
                 "pupil diameter = pixels × pixel scale");
  }
  pp_optic_spec_clear(&spec);
  plane_free(&plane);

  /* HDF5 in nanometres (units attribute), named dataset in a group. */
  double *nm = malloc(n * sizeof *nm);
  for (size_t i = 0; i < n; i++) nm[i] = truth[i] * 1e9;
  PP_TEST_TRUE(write_h5_2d(in_dir(path, sizeof path, "wfe.h5"), "/maps/opd", ZN, ZN, nm,
                           pixelscale_m, "nm") == 0,
               "write wfe.h5");
  char location[1300];
  snprintf(location, sizeof location, "%s:/maps/opd", path);
  spec = map_spec("opd", location);
  plane = plane_new(ZN, ZN, pixelscale_m);
  if (load_apply(&spec, &plane, "HDF5 OPD map")) {
    PP_TEST_NEAR(max_diff(plane.opd, truth, n) / peak, 0, 1e-12,
                 "HDF5 OPD map in nm = zernike_wfe OPD (max |diff| / max |OPD|)");
    printf("     measured: HDF5 nm OPD map vs zernike_wfe: max |diff| / max = %.3g\n",
           max_diff(plane.opd, truth, n) / peak);
  }
  pp_optic_spec_clear(&spec);
  plane_free(&plane);

  /* Whole systems: the same PSF. */
  char yaml_z[2048], yaml_f[2048], yaml_h[2048];
  snprintf(yaml_z, sizeof yaml_z, "%s  - circular_aperture: {radius: 1.0}\n  - zernike_wfe: %s\n",
           job_head, zernike_yaml);
  snprintf(yaml_f, sizeof yaml_f,
           "%s  - circular_aperture: {radius: 1.0}\n  - fits_optical_element: {opd: wfe.fits}\n",
           job_head);
  snprintf(yaml_h, sizeof yaml_h,
           "%s  - circular_aperture: {radius: 1.0}\n"
           "  - fits_optical_element: {opd: \"wfe.h5:/maps/opd\", opdunits: nm}\n",
           job_head);
  compare_psfs(yaml_z, yaml_f, "zernike_wfe vs FITS OPD map (path beside the job)");
  compare_psfs(yaml_z, yaml_h, "zernike_wfe vs HDF5 OPD map");
  free(nm);
  free(truth);
}

/* ---- 2. a transmission map equal to circular_aperture's ----------------------------------- */

static void test_transmission_equals_circle(void) {
  double pixelscale_m = 2.0 / ZN; /* radius 1 m fills the array, as circular_aperture asks */
  test_plane plane = plane_new(ZN, ZN, pixelscale_m);
  pp_optic_spec circle;
  pp_optic_spec_init(&circle, pp_optic_type_find("circular_aperture"));
  set_ok(&circle, "radius", 1.0);
  PP_TEST_OK(pp_optic_apply_pupil(&circle, &plane.grid, plane.amplitude, NULL), "circle");
  char path[1200];
  fits_keys keys = {.scale_key = "PUPLSCAL", .scale = pixelscale_m, .extname = "PUPIL"};
  PP_TEST_TRUE(write_fits(in_dir(path, sizeof path, "pupil.fits"), ZN, ZN, plane.amplitude,
                          &keys) == 0,
               "write pupil.fits (map in an extension, PUPLSCAL)");
  double *truth = plane.amplitude;
  plane.amplitude = NULL;
  plane_free(&plane);

  /* Primary empty → the first extension (astropy's getdata); by name; by number. */
  const char *locations[] = {"pupil.fits", "pupil.fits[PUPIL]", "pupil.fits[1]"};
  for (size_t k = 0; k < 3; k++) {
    char location[1300];
    snprintf(location, sizeof location, "%s/%s", test_dir, locations[k]);
    pp_optic_spec spec = map_spec("transmission", location);
    test_plane p = plane_new(ZN, ZN, pixelscale_m);
    char what[200];
    snprintf(what, sizeof what, "transmission '%s' = circular_aperture pixel for pixel",
             locations[k]);
    if (load_apply(&spec, &p, what))
      PP_TEST_NEAR(max_diff(p.amplitude, truth, (size_t)ZN * ZN), 0, 0, what);
    PP_TEST_TRUE(!pp_optic_has_opd(&spec), "a transmission-only map adds no OPD");
    pp_optic_spec_clear(&spec);
    plane_free(&p);
  }
  /* A gzip'ed FITS file (cfitsio unpacks it; recognized by its first bytes). */
  char command[2600];
  snprintf(command, sizeof command, "gzip -c '%s' > '%s.gz' 2>/dev/null", path, path);
  if (system(command) == 0) {
    char location[1300];
    snprintf(location, sizeof location, "%s.gz", path);
    pp_optic_spec spec = map_spec("transmission", location);
    test_plane p = plane_new(ZN, ZN, pixelscale_m);
    if (load_apply(&spec, &p, "gzip'ed FITS"))
      PP_TEST_NEAR(max_diff(p.amplitude, truth, (size_t)ZN * ZN), 0, 0, "gzip'ed FITS map read");
    pp_optic_spec_clear(&spec);
    plane_free(&p);
  } else {
    printf("SKIP gzip'ed FITS: no gzip program\n");
  }
  char yaml_c[1024], yaml_t[1024];
  snprintf(yaml_c, sizeof yaml_c, "%s  - circular_aperture: {radius: 1.0}\n", job_head);
  snprintf(yaml_t, sizeof yaml_t, "%s  - fits_optical_element: {transmission: pupil.fits}\n",
           job_head);
  compare_psfs(yaml_c, yaml_t, "circular_aperture vs transmission map");
  free(truth);
}

/* ---- 3. resampling: a linear ramp is exact for bilinear ---------------------------------- */

static double ramp(double x_m, double y_m) { return 1e-7 * (0.3 + 2.0 * x_m + 5.0 * y_m); }

static void test_resampling_ramp(void) {
  enum { MY = 30, MX = 40, G = 48 };
  const double map_scale = 0.01, grid_scale = 0.0075;
  double values[MY * MX];
  for (size_t iy = 0; iy < MY; iy++)
    for (size_t ix = 0; ix < MX; ix++)
      values[iy * MX + ix] = ramp(coordinate(ix, MX, map_scale), coordinate(iy, MY, map_scale));
  char path[1200];
  PP_TEST_TRUE(write_h5_2d(in_dir(path, sizeof path, "ramp.h5"), "/ramp", MY, MX, values, map_scale,
                           "m") == 0,
               "write ramp.h5");

  /* Plain resampling at 4/3 the map's sampling; the only dataset is found by itself. */
  pp_optic_spec spec = map_spec("opd", path);
  test_plane plane = plane_new(G, G, grid_scale);
  double worst_inside = 0, worst_border = 0, worst_outside = 0;
  size_t n_inside = 0;
  if (load_apply(&spec, &plane, "ramp resampled")) {
    PP_TEST_NEAR(pp_optic_pupil_diameter_m(&spec), MX * map_scale, 1e-15,
                 "rectangular map: pupil diameter from its larger side");
    for (size_t iy = 0; iy < G; iy++)
      for (size_t ix = 0; ix < G; ix++) {
        double x = coordinate(ix, G, grid_scale), y = coordinate(iy, G, grid_scale);
        double u = x / map_scale + (MX - 1) / 2.0, v = y / map_scale + (MY - 1) / 2.0;
        double got = plane.opd[iy * G + ix];
        if (u < -0.5 || u >= MX - 0.5 || v < -0.5 || v >= MY - 0.5) {
          worst_outside = fmax(worst_outside, fabs(got));
        } else if (u >= 0 && u <= MX - 1 && v >= 0 && v <= MY - 1) {
          worst_inside = fmax(worst_inside, fabs(got - ramp(x, y)));
          n_inside++;
        } else { /* the outer half pixel holds the edge value */
          double uc = fmin(fmax(u, 0), MX - 1), vc = fmin(fmax(v, 0), MY - 1);
          double xc = (uc - (MX - 1) / 2.0) * map_scale, yc = (vc - (MY - 1) / 2.0) * map_scale;
          worst_border = fmax(worst_border, fabs(got - ramp(xc, yc)));
        }
      }
    PP_TEST_NEAR(worst_inside, 0, 1e-12 * 1e-7, "bilinear ramp exact inside the map");
    PP_TEST_NEAR(worst_border, 0, 1e-12 * 1e-7, "outer half pixel holds the edge value");
    PP_TEST_NEAR(worst_outside, 0, 0, "OPD 0 outside the map");
    PP_TEST_TRUE(n_inside > 1000, "most of the map is sampled inside");
    printf("     measured: ramp at scale 0.0075/0.01: max error inside %.3g m (%zu pixels)\n",
           worst_inside, n_inside);
  }
  pp_optic_spec_clear(&spec);
  plane_free(&plane);

  /* Fractional shift and a turn: still exact for a ramp, positions from the documented
   * frame (x − shift, then turned by −rotation). */
  spec = map_spec("opd", path);
  const double shift_x = 0.0123, shift_y = -0.007, angle_deg = 30.0;
  set_ok(&spec, "shift_x", shift_x);
  set_ok(&spec, "shift_y", shift_y);
  set_ok(&spec, "rotation", angle_deg);
  plane = plane_new(G, G, grid_scale);
  worst_inside = 0;
  n_inside = 0;
  if (load_apply(&spec, &plane, "ramp shifted and turned")) {
    double c = cos(angle_deg * PP_PI / 180), s = sin(angle_deg * PP_PI / 180);
    for (size_t iy = 0; iy < G; iy++)
      for (size_t ix = 0; ix < G; ix++) {
        double x = coordinate(ix, G, grid_scale) - shift_x;
        double y = coordinate(iy, G, grid_scale) - shift_y;
        double xm = c * x + s * y, ym = -s * x + c * y;
        double u = xm / map_scale + (MX - 1) / 2.0, v = ym / map_scale + (MY - 1) / 2.0;
        if (u < 0 || u > MX - 1 || v < 0 || v > MY - 1) continue;
        worst_inside = fmax(worst_inside, fabs(plane.opd[iy * G + ix] - ramp(xm, ym)));
        n_inside++;
      }
    PP_TEST_NEAR(worst_inside, 0, 1e-12 * 1e-7, "ramp exact after shift 12.3, -7 mm and 30°");
    PP_TEST_TRUE(n_inside > 1000, "shifted, turned map still sampled");
  }
  pp_optic_spec_clear(&spec);
  plane_free(&plane);
}

/* ---- 4. whole pixels: shift, centring, turn, flip ------------------------------------------- */

static void fill_pattern(double *values, size_t n) {
  for (size_t i = 0; i < n; i++) values[i] = 0.25 + (double)((i * 7919) % 1000) / 1000.0;
}

static void test_whole_pixels(void) {
  enum { N = 15 };
  const double scale = 0.01;
  double values[N * N];
  fill_pattern(values, N * N);
  char path[1200];
  fits_keys keys = {.scale_key = "PIXELSCL", .scale = scale, .pixunit = "meter"};
  PP_TEST_TRUE(write_fits(in_dir(path, sizeof path, "pattern.fits"), N, N, values, &keys) == 0,
               "write pattern.fits");

  /* shift_x = +2 px, shift_y = −1 px: grid[y][x] = map[y + 1][x − 2], 0 where there is none. */
  pp_optic_spec spec = map_spec("transmission", path);
  set_ok(&spec, "shift_x", 2 * scale);
  set_ok(&spec, "shift_y", -1 * scale);
  test_plane plane = plane_new(N, N, scale);
  if (load_apply(&spec, &plane, "whole-pixel shift")) {
    double worst = 0;
    for (long y = 0; y < N; y++)
      for (long x = 0; x < N; x++) {
        long my = y + 1, mx = x - 2;
        double want = my >= 0 && my < N && mx >= 0 && mx < N ? values[my * N + mx] : 0.0;
        worst = fmax(worst, fabs(plane.amplitude[y * N + x] - want));
      }
    PP_TEST_NEAR(worst, 0, 0, "shift by whole pixels moves the map by whole pixels, exactly");
  }
  pp_optic_spec_clear(&spec);
  plane_free(&plane);

  /* A scale within POPPY's 0.1% counts as the same: pixel for pixel. */
  spec = map_spec("transmission", path);
  plane = plane_new(N, N, scale * (1 + 4e-4));
  if (load_apply(&spec, &plane, "scale within 0.1%"))
    PP_TEST_NEAR(max_diff(plane.amplitude, values, N * N), 0, 0,
                 "scale 0.04% off: used pixel for pixel (POPPY's tolerance)");
  pp_optic_spec_clear(&spec);
  plane_free(&plane);

  /* POPPY's pad_or_crop_to_shape: map pixel i on grid pixel i + trunc((n_grid − n_map)/2). */
  const size_t grid_sizes[] = {8, 5, 20, 15};
  const size_t map_sizes[] = {5, 8, 15, 20};
  for (size_t c = 0; c < 4; c++) {
    size_t ng = grid_sizes[c], nm = map_sizes[c];
    double *map = malloc(nm * nm * sizeof *map);
    fill_pattern(map, nm * nm);
    char name[64], location[1300];
    snprintf(name, sizeof name, "centre_%zu.h5", nm);
    in_dir(location, sizeof location, name);
    PP_TEST_TRUE(write_h5_2d(location, "/t", nm, nm, map, scale, NULL) == 0, "write centre map");
    spec = map_spec("transmission", location);
    plane = plane_new(ng, ng, scale);
    long offset = ((long)ng - (long)nm) / 2; /* C truncates: POPPY's floor(|d|/2) with sign */
    if (load_apply(&spec, &plane, "centring")) {
      double worst = 0;
      for (long y = 0; y < (long)ng; y++)
        for (long x = 0; x < (long)ng; x++) {
          long my = y - offset, mx = x - offset;
          double want = my >= 0 && my < (long)nm && mx >= 0 && mx < (long)nm ? map[my * nm + mx]
                                                                          : 0.0;
          worst = fmax(worst, fabs(plane.amplitude[y * ng + x] - want));
        }
      char what[160];
      snprintf(what, sizeof what, "map %zu px on grid %zu px: pixel i → i + %ld (POPPY's pad/crop)",
               nm, ng, offset);
      PP_TEST_NEAR(worst, 0, 0, what);
    }
    pp_optic_spec_clear(&spec);
    plane_free(&plane);
    free(map);
  }

  /* An OPD map alone bounds the light to its footprint (POPPY pads the phasor with 0). */
  spec = map_spec("opd", path);
  set_ok(&spec, "opdunits", 0);
  plane = plane_new(N + 4, N + 4, scale);
  if (load_apply(&spec, &plane, "OPD map on a larger grid")) {
    double worst_amplitude = 0, worst_opd = 0;
    for (size_t y = 0; y < N + 4; y++)
      for (size_t x = 0; x < N + 4; x++) {
        bool inside = y >= 2 && y < N + 2 && x >= 2 && x < N + 2;
        size_t p = y * (N + 4) + x;
        worst_amplitude = fmax(worst_amplitude, fabs(plane.amplitude[p] - (inside ? 1.0 : 0.0)));
        double want = inside ? values[(y - 2) * N + (x - 2)] : 0.0;
        worst_opd = fmax(worst_opd, fabs(plane.opd[p] - want));
      }
    PP_TEST_NEAR(worst_amplitude, 0, 0, "an OPD map alone: amplitude 1 on it, 0 around it");
    PP_TEST_NEAR(worst_opd, 0, 0, "an OPD map alone: OPD copied, 0 around it");
  }
  pp_optic_spec_clear(&spec);
  plane_free(&plane);

  /* One bright pixel 4 px along +x: rotation 90 (counterclockwise) takes it to +y; flip_x to
   * −x. */
  double dot[N * N] = {0};
  dot[7 * N + 11] = 1.0;
  PP_TEST_TRUE(write_fits(in_dir(path, sizeof path, "dot.fits"), N, N, dot, &keys) == 0,
               "write dot.fits");
  spec = map_spec("transmission", path);
  set_ok(&spec, "rotation", 90);
  plane = plane_new(N, N, scale);
  if (load_apply(&spec, &plane, "turned dot")) {
    double sum = 0;
    for (size_t i = 0; i < N * N; i++) sum += plane.amplitude[i];
    PP_TEST_NEAR(plane.amplitude[11 * N + 7], 1.0, 0, "rotation 90: +x goes to +y (counterclockwise)");
    PP_TEST_NEAR(sum, 1.0, 1e-15, "rotation 90 by whole pixels moves, does not blur");
  }
  pp_optic_spec_clear(&spec);
  plane_free(&plane);
  spec = map_spec("transmission", path);
  set_ok(&spec, "flip_x", 1);
  plane = plane_new(N, N, scale);
  if (load_apply(&spec, &plane, "flipped dot"))
    PP_TEST_NEAR(plane.amplitude[7 * N + 3], 1.0, 0, "flip_x mirrors +x to −x");
  pp_optic_spec_clear(&spec);
  plane_free(&plane);
  spec = map_spec("transmission", path);
  set_ok(&spec, "flip_y", 1);
  set_ok(&spec, "rotation", 90);
  plane = plane_new(N, N, scale);
  if (load_apply(&spec, &plane, "flipped then turned dot"))
    PP_TEST_NEAR(plane.amplitude[11 * N + 7], 1.0, 0,
                 "flip_y first (a dot on the x axis stays), then the turn");
  pp_optic_spec_clear(&spec);
  plane_free(&plane);
}

/* ---- 5. both maps, units, scale precedence, spec lifecycle --------------------------------- */

static void test_both_maps(void) {
  enum { N = 16 };
  const double scale = 0.02;
  double trans[N * N], opd_um[N * N];
  fill_pattern(trans, N * N);
  for (size_t i = 0; i < N * N; i++) opd_um[i] = 0.1 * (double)(i % 17) - 0.8;
  char tpath[1200], opath[1200];
  fits_keys tkeys = {.scale_key = "PUPLSCAL", .scale = scale};
  fits_keys okeys = {.scale_key = "PIXELSCL", .scale = scale * (1 + 2e-4), .bunit = "MICRONS"};
  PP_TEST_TRUE(write_fits(in_dir(tpath, sizeof tpath, "both_t.fits"), N, N, trans, &tkeys) == 0 &&
                   write_fits(in_dir(opath, sizeof opath, "both_o.fits"), N, N, opd_um, &okeys) == 0,
               "write both maps");
  pp_optic_spec spec = map_spec("transmission", tpath);
  PP_TEST_OK(pp_optic_spec_set_text(&spec, "opd", opath), "set opd");
  PP_TEST_OK(pp_optic_spec_validate(&spec), "both maps validate");
  test_plane plane = plane_new(N, N, scale);
  if (load_apply(&spec, &plane, "both maps")) {
    PP_TEST_TRUE(pp_optic_has_opd(&spec), "an OPD map adds OPD");
    PP_TEST_NEAR(max_diff(plane.amplitude, trans, N * N), 0, 0, "transmission applied");
    double worst = 0;
    for (size_t i = 0; i < N * N; i++) worst = fmax(worst, fabs(plane.opd[i] - opd_um[i] * 1e-6));
    PP_TEST_NEAR(worst, 0, 1e-21, "BUNIT 'MICRONS' read as micrometres (any case, plural)");
    /* POPPY prefers PIXELSCL (here the OPD's) over PUPLSCAL, whichever header holds it. */
    PP_TEST_NEAR(pp_optic_pupil_diameter_m(&spec), N * scale * (1 + 2e-4), 1e-15,
                 "PIXELSCL wins over PUPLSCAL");
  }
  /* opdunits wins over BUNIT; the job's pixelscale over the headers. */
  set_ok(&spec, "opdunits", 10); /* "nanometers" */
  set_ok(&spec, "pixelscale", 0.5);
  if (load_apply(&spec, &plane, "opdunits and pixelscale given")) {
    PP_TEST_NEAR(pp_optic_pupil_diameter_m(&spec), N * 0.5, 0, "job pixelscale wins");
  }
  /* Copy owns its texts and file facts. */
  pp_optic_spec copy;
  PP_TEST_OK(pp_optic_spec_copy(&spec, &copy), "copy a map spec");
  PP_TEST_TRUE(copy.text[0] != spec.text[0] && strcmp(pp_optic_spec_get_text(&copy, "opd"), opath) == 0 &&
                   copy.files != spec.files &&
                   pp_optic_pupil_diameter_m(&copy) == pp_optic_pupil_diameter_m(&spec),
               "copy duplicates texts and file facts");
  pp_optic_spec_clear(&spec);
  PP_TEST_TRUE(spec.files == NULL && spec.text[0] == NULL, "clear releases texts and facts");
  PP_TEST_NEAR(pp_optic_pupil_diameter_m(&copy), N * 0.5, 0, "copy outlives the original");
  pp_optic_spec_clear(&copy);
  plane_free(&plane);

  /* Before loading: no diameter, and apply refuses (a bug in the caller). */
  spec = map_spec("opd", opath);
  plane = plane_new(N, N, scale);
  PP_TEST_TRUE(isnan(pp_optic_pupil_diameter_m(&spec)), "no diameter before loading");
  pp_status s = pp_optic_apply_pupil(&spec, &plane.grid, plane.amplitude, plane.opd);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INTERNAL, "apply before load is refused");
  pp_status_free(s);
  pp_optic_spec_clear(&spec);
  plane_free(&plane);

  /* A text key takes text only, a number key no text. */
  spec = map_spec(NULL, NULL);
  s = pp_optic_spec_set(&spec, "opd", 1.0);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "opd refuses a number");
  pp_status_free(s);
  s = pp_optic_spec_set_text(&spec, "pixelscale", "0.1");
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "pixelscale refuses text");
  pp_status_free(s);
  s = pp_optic_spec_set_text(&spec, "opd", "");
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "an empty file name is refused");
  pp_status_free(s);
  s = pp_optic_spec_validate(&spec);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "'opd'"),
               "neither transmission nor opd is refused");
  pp_status_free(s);
  PP_TEST_OK(pp_optic_spec_set_text(&spec, "transmission", tpath), "set transmission");
  set_ok(&spec, "opdunits", 0);
  s = pp_optic_spec_validate(&spec);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT, "opdunits without opd is refused");
  pp_status_free(s);
  pp_optic_spec_clear(&spec);
}

/* ---- 6. errors: each PP_ERR_INPUT naming the file --------------------------------------------- */

static void test_errors(void) {
  enum { N = 8 };
  double values[N * N];
  fill_pattern(values, N * N);
  char path[1200], other[1200];
  fits_keys keys = {.scale_key = "PIXELSCL", .scale = 0.01, .bunit = "m"};
  int opd_index = pp_optic_param_index(pp_optic_type_find("fits_optical_element"), "opd");
  int t_index = pp_optic_param_index(pp_optic_type_find("fits_optical_element"), "transmission");

  /* Missing file. */
  in_dir(path, sizeof path, "no_such_map.fits");
  pp_optic_spec spec = map_spec("opd", path);
  expect_load_error(&spec, "missing file", opd_index, path, "No such file", NULL);
  pp_optic_spec_clear(&spec);

  /* NaN: the first one's (y, x). */
  double with_nan[N * N];
  memcpy(with_nan, values, sizeof values);
  with_nan[3 * N + 4] = NAN;
  with_nan[5 * N + 1] = NAN;
  write_fits(in_dir(path, sizeof path, "nan.fits"), N, N, with_nan, &keys);
  spec = map_spec("opd", path);
  expect_load_error(&spec, "NaN in a FITS map", opd_index, path, "(y, x) = (3, 4)", "NaN", NULL);
  pp_optic_spec_clear(&spec);
  write_h5_2d(in_dir(path, sizeof path, "nan.h5"), "/opd", N, N, with_nan, 0.01, "m");
  spec = map_spec("opd", path);
  expect_load_error(&spec, "NaN in an HDF5 map", opd_index, path, "(y, x) = (3, 4)", NULL);
  pp_optic_spec_clear(&spec);

  /* Wrong rank (a 3-D cube of maps is one map per field point: test_cubes). */
  long hyper_axes[4] = {N, N, 2, 1};
  double hyper[2 * N * N];
  fill_pattern(hyper, 2 * N * N);
  write_fits_nd(in_dir(path, sizeof path, "hyper.fits"), 4, hyper_axes, hyper, &keys);
  spec = map_spec("transmission", path);
  expect_load_error(&spec, "4-D FITS refused", t_index, path, "4 axes", "2-D", NULL);
  pp_optic_spec_clear(&spec);
  hsize_t line_dims[1] = {N};
  write_h5(in_dir(path, sizeof path, "line.h5"), "/t", 1, line_dims, values, 0.01, NULL, false);
  spec = map_spec("transmission", path);
  expect_load_error(&spec, "1-D HDF5 refused", t_index, path, "rank 1", NULL);
  pp_optic_spec_clear(&spec);

  /* Missing pixel scale (and fine once the job gives one). */
  fits_keys bare = {.bunit = "nm"};
  write_fits(in_dir(path, sizeof path, "bare.fits"), N, N, values, &bare);
  spec = map_spec("opd", path);
  expect_load_error(&spec, "no pixel scale anywhere", opd_index, path, "no pixel scale",
                    "PIXELSCL", "'pixelscale'", NULL);
  set_ok(&spec, "pixelscale", 0.01);
  PP_TEST_OK(pp_optic_spec_load_files(&spec, NULL), "the job's pixelscale fills in");
  pp_optic_spec_clear(&spec);
  write_h5_2d(in_dir(path, sizeof path, "bare.h5"), "/t", N, N, values, NAN, NULL);
  spec = map_spec("transmission", path);
  expect_load_error(&spec, "no pixelscale_m attribute", t_index, path, "pixelscale_m", NULL);
  pp_optic_spec_clear(&spec);

  /* Corrupt FITS (a header card, then garbage), and a file that is neither format. */
  char junk[300];
  memset(junk, 'x', sizeof junk);
  memcpy(junk, "SIMPLE  =                    T", 30);
  write_text(in_dir(path, sizeof path, "corrupt.fits"), junk, sizeof junk);
  spec = map_spec("opd", path);
  expect_load_error(&spec, "corrupt FITS", opd_index, path, "cfitsio", NULL);
  pp_optic_spec_clear(&spec);
  write_text(in_dir(path, sizeof path, "notes.txt"), "just text\n", 10);
  spec = map_spec("opd", path);
  expect_load_error(&spec, "neither FITS nor HDF5", opd_index, path, "neither a FITS file", NULL);
  pp_optic_spec_clear(&spec);
  char hdf5_junk[64] = "\x89HDF\r\n\x1a\n and then nothing an HDF5 library can read";
  write_text(in_dir(path, sizeof path, "corrupt.h5"), hdf5_junk, sizeof hdf5_junk);
  spec = map_spec("opd", path);
  expect_load_error(&spec, "corrupt HDF5", opd_index, path, "cannot be read", NULL);
  pp_optic_spec_clear(&spec);

  /* Units: unknown, absent, radians. */
  fits_keys furlong = {.scale_key = "PIXELSCL", .scale = 0.01, .bunit = "furlong"};
  write_fits(in_dir(path, sizeof path, "furlong.fits"), N, N, values, &furlong);
  spec = map_spec("opd", path);
  expect_load_error(&spec, "unknown BUNIT", opd_index, path, "'furlong'", "opdunits", NULL);
  set_ok(&spec, "opdunits", 0);
  PP_TEST_OK(pp_optic_spec_load_files(&spec, NULL), "opdunits overrides a bad BUNIT");
  pp_optic_spec_clear(&spec);
  write_h5_2d(in_dir(path, sizeof path, "unitless.h5"), "/opd", N, N, values, 0.01, NULL);
  spec = map_spec("opd", path);
  expect_load_error(&spec, "no unit at all", opd_index, path, "does not say its unit", NULL);
  pp_optic_spec_clear(&spec);
  write_h5_2d(in_dir(path, sizeof path, "radian.h5"), "/opd", N, N, values, 0.01, "radians");
  spec = map_spec("opd", path);
  expect_load_error(&spec, "radian OPD refused", opd_index, path, "radians", NULL);
  pp_optic_spec_clear(&spec);

  /* Negative transmission. */
  double negative[N * N];
  memcpy(negative, values, sizeof values);
  negative[2 * N + 1] = -0.25;
  write_fits(in_dir(path, sizeof path, "negative.fits"), N, N, negative, &keys);
  spec = map_spec("transmission", path);
  expect_load_error(&spec, "negative transmission", t_index, path, "(y, x) = (2, 1)", "-0.25",
                    NULL);
  pp_optic_spec_clear(&spec);

  /* HDU, dataset, shapes, scales, image-plane files. */
  write_fits(in_dir(path, sizeof path, "good.fits"), N, N, values, &keys);
  char location[1300];
  snprintf(location, sizeof location, "%s[NOPE]", path);
  spec = map_spec("transmission", location);
  expect_load_error(&spec, "no such FITS extension", t_index, path, "EXTNAME 'NOPE'", NULL);
  pp_optic_spec_clear(&spec);
  snprintf(location, sizeof location, "%s[3]", path);
  spec = map_spec("transmission", location);
  expect_load_error(&spec, "no such FITS HDU number", t_index, path, "no HDU 3", NULL);
  pp_optic_spec_clear(&spec);
  snprintf(location, sizeof location, "%s:/opd", path);
  spec = map_spec("transmission", location);
  expect_load_error(&spec, "dataset syntax on a FITS file", t_index, path, "is a FITS file", NULL);
  pp_optic_spec_clear(&spec);
  write_h5_2d(in_dir(other, sizeof other, "two.h5"), "/a", N, N, values, 0.01, "m");
  hsize_t dims[2] = {N, N};
  write_h5(other, "/b", 2, dims, values, 0.01, "m", true);
  spec = map_spec("opd", other);
  expect_load_error(&spec, "two datasets, none named", opd_index, other, "2 datasets", "/a, /b",
                    NULL);
  pp_optic_spec_clear(&spec);
  snprintf(location, sizeof location, "%s:/c", other);
  spec = map_spec("opd", location);
  expect_load_error(&spec, "no such dataset", opd_index, other, "no dataset '/c'", NULL);
  pp_optic_spec_clear(&spec);
  snprintf(location, sizeof location, "%s:/b", other);
  spec = map_spec("opd", location);
  PP_TEST_OK(pp_optic_spec_load_files(&spec, NULL), "a named dataset among several");
  pp_optic_spec_clear(&spec);

  double small[4 * 4];
  fill_pattern(small, 16);
  write_fits(in_dir(other, sizeof other, "small.fits"), 4, 4, small, &keys);
  spec = map_spec("transmission", path);
  PP_TEST_OK(pp_optic_spec_set_text(&spec, "opd", other), "set opd");
  expect_load_error(&spec, "maps of different shapes", -1, path, other, "same shape", NULL);
  pp_optic_spec_clear(&spec);
  fits_keys far = {.scale_key = "PIXELSCL", .scale = 0.02, .bunit = "m"};
  write_fits(in_dir(other, sizeof other, "coarse.fits"), N, N, values, &far);
  spec = map_spec("transmission", path);
  PP_TEST_OK(pp_optic_spec_set_text(&spec, "opd", other), "set opd");
  expect_load_error(&spec, "maps disagree on the scale", -1, path, other, "disagree", NULL);
  pp_optic_spec_clear(&spec);
  fits_keys image_plane = {.scale_key = "PIXELSCL", .scale = 0.01, .pixunit = "arcsecond"};
  write_fits(in_dir(path, sizeof path, "image_plane.fits"), N, N, values, &image_plane);
  spec = map_spec("transmission", path);
  expect_load_error(&spec, "an image-plane file (PIXUNIT arcsecond)", t_index, path, "PIXUNIT",
                    NULL);
  pp_optic_spec_clear(&spec);

  /* A map that changes shape between the job check and the build is caught. */
  write_fits(in_dir(path, sizeof path, "changing.fits"), N, N, values, &keys);
  spec = map_spec("transmission", path);
  PP_TEST_OK(pp_optic_spec_load_files(&spec, NULL), "load before the change");
  write_fits(path, 4, 4, small, &keys);
  test_plane plane = plane_new(N, N, 0.01);
  pp_status s = pp_optic_apply_pupil(&spec, &plane.grid, plane.amplitude, plane.opd);
  PP_TEST_TRUE(pp_status_code(s) == PP_ERR_INPUT && strstr(pp_status_message(s), "changed"),
               "a map that changed since the job was read is refused");
  pp_status_free(s);
  plane_free(&plane);
  pp_optic_spec_clear(&spec);
}

/* ---- 7. the job parser: relative paths and errors at the key ------------------------------- */

/* Parses yaml as <test_dir>/job.yaml; checks the error starts with "<job>:line:col: key". */
static void expect_job_error(const char *yaml, int line, int column, const char *key,
                             const char *word, const char *what) {
  char name[1200], want[1500];
  in_dir(name, sizeof name, "job.yaml");
  snprintf(want, sizeof want, "%s:%d:%d: %s", name, line, column, key);
  pp_job *job = NULL;
  pp_status s = pp_job_parse_string(yaml, strlen(yaml), name, &job);
  const char *message = pp_status_message(s);
  bool ok = s != PP_SUCCESS && pp_status_code(s) == PP_ERR_INPUT &&
            strncmp(message, want, strlen(want)) == 0 && (!word || strstr(message, word));
  pp_test_report(ok, __FILE__, __LINE__, what, message);
  pp_status_free(s);
  pp_job_destroy(&job);
}

static void test_job_parser(void) {
  char yaml[2048], path[1200];
  snprintf(yaml, sizeof yaml,
           "%s  - circular_aperture: {radius: 1.0}\n  - fits_optical_element: {opd: nan.fits}\n",
           job_head);
  in_dir(path, sizeof path, "nan.fits");
  expect_job_error(yaml, 7, 33, "optics[1].fits_optical_element.opd: '", path,
                   "a NaN map: error at the opd value, path read beside the job");
  snprintf(yaml, sizeof yaml,
           "%s  - fits_optical_element: {transmission: no_such_map.fits}\n", job_head);
  expect_job_error(yaml, 6, 42, "optics[0].fits_optical_element.transmission", "No such file",
                   "a missing map: error at the transmission value");
  snprintf(yaml, sizeof yaml, "%s  - fits_optical_element: {pixelscale: 0.01}\n", job_head);
  expect_job_error(yaml, 6, 5, "optics[0].fits_optical_element", "'transmission', 'opd'",
                   "no map at all: error at the type");
  snprintf(yaml, sizeof yaml,
           "%s  - fits_optical_element: {opd: good.fits, opdunits: furlongs}\n", job_head);
  expect_job_error(yaml, 6, 54, "optics[0].fits_optical_element.opdunits", "nm",
                   "a bad opdunits word: error at its value, listing the words");
  snprintf(yaml, sizeof yaml, "%s  - fits_optical_element: {opd: [a.fits]}\n", job_head);
  expect_job_error(yaml, 6, 33, "optics[0].fits_optical_element.opd", "a file name",
                   "a list for a file name");
  snprintf(yaml, sizeof yaml, "%s  - fits_optical_element: {opd: bare.fits}\n", job_head);
  expect_job_error(yaml, 6, 33, "optics[0].fits_optical_element.opd", "no pixel scale",
                   "one map without a scale: error at its key");

  /* An absolute path is kept as written; parsing works for a job given as a bare name. */
  snprintf(yaml, sizeof yaml, "%s  - fits_optical_element: {transmission: \"%s/good.fits\"}\n",
           job_head, test_dir);
  pp_job *job = NULL;
  PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), "job.yaml", &job), "absolute map path");
  if (job) {
    char want[1300];
    snprintf(want, sizeof want, "%s/good.fits", test_dir);
    PP_TEST_TRUE(strcmp(pp_optic_spec_get_text(&job->optics[0], "transmission"), want) == 0,
                 "absolute path stored as written");
    double diameter = 0;
    PP_TEST_OK(pp_system_check_job(job, &diameter), "check the job");
    PP_TEST_NEAR(diameter, 8 * 0.01, 1e-17, "the map sets the pupil array width");
  }
  pp_job_destroy(&job);
}

static void remove_dir(void) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
  PP_TEST_TRUE(system(cmd) == 0, "clean up the temporary directory");
}

int main(void) {
  const char *base = getenv("TMPDIR");
  snprintf(test_dir, sizeof test_dir, "%s/polypsf-maps-XXXXXX", base && base[0] ? base : "/tmp");
  if (!mkdtemp(test_dir)) {
    printf("FAIL cannot make a temporary directory\n");
    return 1;
  }
  test_cubes();
  test_opd_equals_zernike();
  test_transmission_equals_circle();
  test_resampling_ramp();
  test_whole_pixels();
  test_both_maps();
  test_errors();
  test_job_parser();
  remove_dir();
  return pp_test_finish();
}
