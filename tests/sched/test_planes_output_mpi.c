/* output.planes end to end (ctest runs it with mpiexec -n 3): a coronagraph job (gray circular
 * pupil, fqpm between its aligners, Lyot stop) run on 3 ranks and on 1, every plane written.
 * Truths, independent of the plane code:
 *   - the two runs' /planes datasets hold the same bytes (a plane does not depend on which
 *     rank computed it);
 *   - the pupil plane's intensity is the aperture's transmission squared, the transmission
 *     evaluated by the optics API on its own grid (and 1 well inside the rim, 0 well outside);
 *   - the detector plane is /cube, bit for bit;
 *   - the FFT to the image plane is unitary and the fqpm a pure phase mask: the image plane
 *     holds the energy of the pupil plane before it (Parseval);
 *   - plane_quantity complex and amplitude_phase hold the same field: |E|² and amplitude²
 *     equal the intensity run's planes;
 *   - a resumed run keeps the planes of completed wavelengths (planted zeros) and writes the
 *     others as an uninterrupted run does.
 * The files are read with HDF5 directly, not with polypsf's reader. */
#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "polypsf/polypsf.h"
#include "pp_test.h"

enum { PP_NPIX = 64, PP_N_WAVELENGTHS = 4 };

static pp_job *pp_make_job(const char *quantity) {
  char yaml[2048];
  snprintf(yaml, sizeof yaml,
           "pupil: {npix: %d}\n"
           "wavelengths: {min: 1.8e-6, max: 2.2e-6, count: %d}\n"
           "optics:\n"
           "  - circular_aperture: {radius: 3.0, name: pupil}\n"
           "  - fqpm_fft_aligner: {direction: forward}\n"
           "  - ideal_fqpm: {wavelength: 2.0e-6, name: fqpm}\n"
           "  - fqpm_fft_aligner: {direction: backward}\n"
           "  - circular_aperture: {radius: 2.7, name: lyot}\n"
           "detector: {pixelscale: 0.05, fov_pixels: 32, oversample: 2}\n"
           "propagation: {method: mft, fft_oversample: 2}\n"
           "output: {planes: all, plane_quantity: %s}\n",
           PP_NPIX, PP_N_WAVELENGTHS, quantity);
  pp_job *job = NULL;
  PP_TEST_OK(pp_job_parse_string(yaml, strlen(yaml), "planes.yaml", &job), "job parses");
  return job;
}

/* The raw bytes of a dataset and its element count (NULL on failure). */
static unsigned char *pp_read_raw(const char *path, const char *name, size_t *bytes,
                                  size_t *count) {
  unsigned char *data = NULL;
  *bytes = *count = 0;
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t dataset = file >= 0 ? H5Dopen2(file, name, H5P_DEFAULT) : -1;
  if (dataset >= 0) {
    hid_t type = H5Dget_type(dataset), space = H5Dget_space(dataset);
    *count = (size_t)H5Sget_simple_extent_npoints(space);
    *bytes = *count * H5Tget_size(type);
    data = malloc(*bytes ? *bytes : 1);
    if (data && H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
      free(data);
      data = NULL;
    }
    H5Tclose(type);
    H5Sclose(space);
    H5Dclose(dataset);
  }
  if (file >= 0) H5Fclose(file);
  return data;
}

/* A float64 dataset (or the pair of doubles of a compound one) as doubles. */
static double *pp_read_doubles(const char *path, const char *name, size_t *count) {
  size_t bytes = 0;
  double *data = (double *)pp_read_raw(path, name, &bytes, count);
  return data;
}

static const char *const pp_planes[] = {"0_pupil", "1_fqpm_fft_aligner", "2_fqpm", "4_lyot",
                                        "5_detector"};
enum { PP_N_PLANES = 5 };

static void pp_check_same_bytes(const char *a, const char *b) {
  for (int p = 0; p < PP_N_PLANES; p++) {
    char name[64];
    snprintf(name, sizeof name, "/planes/%s", pp_planes[p]);
    size_t bytes_a = 0, bytes_b = 0, count = 0;
    unsigned char *da = pp_read_raw(a, name, &bytes_a, &count);
    unsigned char *db = pp_read_raw(b, name, &bytes_b, &count);
    char what[128];
    snprintf(what, sizeof what, "%s: 3 ranks and 1 rank write the same bytes", name);
    PP_TEST_TRUE(da && db && bytes_a == bytes_b && bytes_a > 0 && memcmp(da, db, bytes_a) == 0,
                 what);
    free(da);
    free(db);
  }
}

static void pp_check_pupil_plane(const char *path, const pp_job *job) {
  size_t count = 0;
  double *plane = pp_read_doubles(path, "/planes/0_pupil", &count);
  PP_TEST_TRUE(plane && count == (size_t)PP_N_WAVELENGTHS * PP_NPIX * PP_NPIX,
               "pupil plane: [nλ][npix][npix]");
  if (!plane || count != (size_t)PP_N_WAVELENGTHS * PP_NPIX * PP_NPIX) {
    free(plane);
    return;
  }
  /* the array width is the largest pupil diameter: the r = 3 m aperture */
  const double diameter_m = 6.0, pixel_m = diameter_m / PP_NPIX;
  double transmission[PP_NPIX * PP_NPIX];
  for (size_t p = 0; p < PP_NPIX * PP_NPIX; p++) transmission[p] = 1.0;
  pp_pupil_grid grid = {.ny = PP_NPIX, .nx = PP_NPIX, .pixelscale_m = pixel_m};
  PP_TEST_OK(pp_optic_apply_pupil(&job->optics[0], &grid, transmission, NULL),
             "the aperture's transmission");
  double worst = 0.0, inside = 0.0, outside = 0.0;
  for (size_t i = 0; i < PP_N_WAVELENGTHS; i++)
    for (size_t y = 0; y < PP_NPIX; y++)
      for (size_t x = 0; x < PP_NPIX; x++) {
        size_t p = y * PP_NPIX + x;
        double got = plane[i * PP_NPIX * PP_NPIX + p];
        worst = fmax(worst, fabs(got - transmission[p] * transmission[p]));
        /* pixel centres as the optics place them: symmetric about the array centre */
        double r_m = hypot(((double)x - (PP_NPIX - 1) / 2.0) * pixel_m,
                           ((double)y - (PP_NPIX - 1) / 2.0) * pixel_m);
        if (r_m < 3.0 - pixel_m) inside = fmax(inside, fabs(got - 1.0));
        if (r_m > 3.0 + pixel_m) outside = fmax(outside, fabs(got));
      }
  PP_TEST_NEAR(worst, 0.0, 1e-12, "pupil plane intensity = transmission², every wavelength");
  PP_TEST_NEAR(inside, 0.0, 1e-12, "pupil plane: 1 a pixel inside the rim");
  PP_TEST_NEAR(outside, 0.0, 0.0, "pupil plane: 0 a pixel outside the rim");
  free(plane);
}

static void pp_check_detector_is_cube(const char *path) {
  size_t bytes_plane = 0, bytes_cube = 0, count = 0;
  unsigned char *plane = pp_read_raw(path, "/planes/5_detector", &bytes_plane, &count);
  unsigned char *cube = pp_read_raw(path, "/cube", &bytes_cube, &count);
  PP_TEST_TRUE(plane && cube && bytes_plane == bytes_cube && bytes_cube > 0 &&
                   memcmp(plane, cube, bytes_cube) == 0,
               "detector plane = /cube, bit for bit");
  free(plane);
  free(cube);
}

/* Σ|E|² before and after the FFT to the image plane, per wavelength. */
static void pp_check_parseval(const char *path) {
  size_t n_pupil = 0, n_image = 0;
  double *pupil = pp_read_doubles(path, "/planes/1_fqpm_fft_aligner", &n_pupil);
  double *image = pp_read_doubles(path, "/planes/2_fqpm", &n_image);
  double worst = 0.0;
  bool ok = pupil && image && n_pupil == PP_N_WAVELENGTHS * (size_t)PP_NPIX * PP_NPIX &&
            n_image == PP_N_WAVELENGTHS * (size_t)4 * PP_NPIX * PP_NPIX;
  for (size_t i = 0; ok && i < PP_N_WAVELENGTHS; i++) {
    double sum_pupil = 0.0, sum_image = 0.0;
    for (size_t p = 0; p < (size_t)PP_NPIX * PP_NPIX; p++)
      sum_pupil += pupil[i * PP_NPIX * PP_NPIX + p];
    for (size_t p = 0; p < (size_t)4 * PP_NPIX * PP_NPIX; p++)
      sum_image += image[i * 4 * PP_NPIX * PP_NPIX + p];
    worst = fmax(worst, fabs(sum_image / sum_pupil - 1.0));
  }
  PP_TEST_TRUE(ok, "aligner and image planes: [nλ][npix][npix] and [nλ][2·npix][2·npix]");
  PP_TEST_NEAR(worst, 0.0, 1e-12, "image plane energy = pupil plane energy (Parseval)");
  free(pupil);
  free(image);
}

/* A complex or amplitude_phase run against the intensity run, plane by plane. */
static void pp_check_quantity(const char *path, const char *intensity_path, bool complex_pairs) {
  double worst = 0.0, phase_range = 0.0;
  bool ok = true;
  for (int p = 0; p < PP_N_PLANES; p++) {
    char name[64];
    snprintf(name, sizeof name, "/planes/%s", pp_planes[p]);
    size_t count_pairs = 0, count = 0;
    double *pairs = pp_read_doubles(path, name, &count_pairs);
    double *intensity = pp_read_doubles(intensity_path, name, &count);
    ok = ok && pairs && intensity && count_pairs == count;
    double peak = 0.0;
    for (size_t k = 0; ok && k < count; k++) peak = fmax(peak, intensity[k]);
    for (size_t k = 0; ok && k < count; k++) {
      double a = pairs[2 * k], b = pairs[2 * k + 1];
      double got = complex_pairs ? a * a + b * b : a * a;
      worst = fmax(worst, fabs(got - intensity[k]) / peak);
      if (!complex_pairs) phase_range = fmax(phase_range, fabs(b));
    }
    free(pairs);
    free(intensity);
  }
  PP_TEST_TRUE(ok, complex_pairs ? "complex planes read as pairs" : "amplitude_phase planes read");
  PP_TEST_NEAR(worst, 0.0, 1e-12,
               complex_pairs ? "complex: |E|² = the intensity planes (relative to the peak)"
                             : "amplitude_phase: amplitude² = the intensity planes");
  if (!complex_pairs) PP_TEST_TRUE(phase_range <= PP_PI, "amplitude_phase: phase in [−π, π]");
}

/* A stopped run's file: wavelength 0 completed with zero planes and a zero slice (values
 * no computation gives), the others not. A resumed run must keep wavelength 0's planes and
 * write the other wavelengths' planes as an uninterrupted run does (`reference`). */
static void pp_check_resume(const pp_job *job, MPI_Comm alone, const char *path,
                            const char *reference) {
  pp_plane_info *planes = NULL;
  size_t n_planes = 0;
  double diameter_m = 0.0;
  PP_TEST_OK(pp_system_check_job(job, &diameter_m), "pupil diameter");
  PP_TEST_OK(pp_system_requested_planes(job, &planes, &n_planes), "plane list");
  pp_geometry geometry;
  double *pixelscales = NULL;
  PP_TEST_OK(pp_system_geometry(job, &geometry), "geometry");
  PP_TEST_OK(pp_system_plane_pixelscales(job, &geometry, planes, n_planes, &pixelscales),
             "plane pixel scales");
  pp_output_meta meta = {.job = job, .geometry = geometry, .n_ranks = 1, .n_nodes = 1,
                         .planes = planes, .n_planes = n_planes,
                         .plane_pixelscales = pixelscales};
  pp_output *out = NULL;
  double *zeros = calloc(4 * PP_NPIX * PP_NPIX, sizeof *zeros);
  PP_TEST_OK(pp_output_create(path, &meta, true, alone, &out), "stopped run: create");
  if (out && zeros) {
    PP_TEST_OK(pp_output_prepare_plane_writes(out), "stopped run: plane buffer");
    for (size_t p = 0; p < n_planes; p++) {
      pp_plane_view view = {.plane = p, .ny = planes[p].ny, .nx = planes[p].nx,
                            .real_field = zeros, .field_scale = 1.0};
      PP_TEST_OK(pp_output_write_plane(out, 0, &view), "stopped run: zero planes of λ 0");
    }
    pp_task_record record = {.rank = 0, .node = 0, .method = PP_METHOD_MFT};
    PP_TEST_OK(pp_output_write_slice(out, 0, zeros, &record), "stopped run: slice 0");
    PP_TEST_OK(pp_output_sync(out), "stopped run: checkpoint");
    PP_TEST_OK(pp_output_close_as(&out, PP_OUTPUT_KEEP_PARTIAL), "stopped run: keep .partial");
  }
  pp_run_options options = {.output_path = path, .resume = true};
  pp_run_summary summary = {0};
  PP_TEST_OK(pp_run(job, &options, alone, &summary), "resumed run");
  PP_TEST_TRUE(summary.n_computed == PP_N_WAVELENGTHS - 1, "the resumed run computed 3 of 4");
  for (int p = 0; p < PP_N_PLANES; p++) {
    char name[64];
    snprintf(name, sizeof name, "/planes/%s", pp_planes[p]);
    size_t bytes = 0, bytes_ref = 0, count = 0;
    unsigned char *got = pp_read_raw(path, name, &bytes, &count);
    unsigned char *want = pp_read_raw(reference, name, &bytes_ref, &count);
    size_t slice_bytes = bytes / PP_N_WAVELENGTHS;
    bool kept = got && bytes == bytes_ref && bytes > 0;
    for (size_t b = 0; kept && b < slice_bytes; b++) kept = got[b] == 0;
    char what[128];
    snprintf(what, sizeof what, "%s: the completed wavelength's plane is kept", name);
    PP_TEST_TRUE(kept, what);
    snprintf(what, sizeof what, "%s: the others equal an uninterrupted run's bytes", name);
    PP_TEST_TRUE(got && want && bytes == bytes_ref && bytes > 0 &&
                     memcmp(got + slice_bytes, want + slice_bytes, bytes - slice_bytes) == 0,
                 what);
    free(got);
    free(want);
  }
  free(zeros);
  free(planes);
  free(pixelscales);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  pp_test_.quiet = rank != 0;
  char dir[] = "/tmp/pp_test_planes_XXXXXX";
  int made = rank == 0 && mkdtemp(dir) != NULL;
  MPI_Bcast(&made, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Bcast(dir, (int)sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
  PP_TEST_TRUE(made, "temporary directory");
  char three[256], one[256], complex_path[256], amplitude_path[256];
  snprintf(three, sizeof three, "%s/three.h5", dir);
  snprintf(one, sizeof one, "%s/one.h5", dir);
  snprintf(complex_path, sizeof complex_path, "%s/complex.h5", dir);
  snprintf(amplitude_path, sizeof amplitude_path, "%s/amplitude.h5", dir);

  pp_job *job = pp_make_job("intensity");
  pp_run_options options = {.force = true, .output_path = three};
  pp_run_summary summary;
  if (made && job) PP_TEST_OK(pp_run(job, &options, MPI_COMM_WORLD, &summary), "run on 3 ranks");

  /* the same job on rank 0 alone, then the other quantities */
  MPI_Comm alone = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, rank == 0 ? 0 : MPI_UNDEFINED, 0, &alone);
  if (rank == 0 && made && job) {
    options.output_path = one;
    PP_TEST_OK(pp_run(job, &options, alone, &summary), "run on 1 rank");
    pp_job *complex_job = pp_make_job("complex"), *amplitude_job = pp_make_job("amplitude_phase");
    options.output_path = complex_path;
    if (complex_job) PP_TEST_OK(pp_run(complex_job, &options, alone, &summary), "complex run");
    options.output_path = amplitude_path;
    if (amplitude_job)
      PP_TEST_OK(pp_run(amplitude_job, &options, alone, &summary), "amplitude_phase run");
    pp_job_destroy(&complex_job);
    pp_job_destroy(&amplitude_job);

    /* which ranks computed what (the hand-out depends on timing): for the record */
    pp_task_record *records = NULL;
    size_t n_records = 0;
    PP_TEST_OK(pp_output_read_tasks(three, &records, &n_records), "provenance of the 3-rank run");
    printf("3-rank run: wavelengths computed by ranks");
    for (size_t i = 0; i < n_records; i++) printf(" %d", records[i].rank);
    printf("\n");
    free(records);
    pp_check_same_bytes(three, one);
    pp_check_pupil_plane(three, job);
    pp_check_detector_is_cube(three);
    pp_check_detector_is_cube(one);
    pp_check_parseval(three);
    pp_check_quantity(complex_path, one, true);
    pp_check_quantity(amplitude_path, one, false);
    char resumed[256];
    snprintf(resumed, sizeof resumed, "%s/resumed.h5", dir);
    pp_check_resume(job, alone, resumed, one);
    unlink(resumed);

    unlink(three);
    unlink(one);
    unlink(complex_path);
    unlink(amplitude_path);
    rmdir(dir);
  }
  if (alone != MPI_COMM_NULL) MPI_Comm_free(&alone);
  pp_job_destroy(&job);
  int code = pp_test_finish_all(MPI_COMM_WORLD);
  MPI_Finalize();
  return code;
}
