/* Private to src/system: the Fresnel detector's resampling (fresnel_detector.c), used by
 * fresnel_system.c. Never installed. */
#ifndef POLYPSF_SYSTEM_FRESNEL_PRIVATE_H
#define POLYPSF_SYSTEM_FRESNEL_PRIVATE_H

#ifndef POLYPSF_SYSTEM_INTERNAL
#error "fresnel_private.h is private to src/system; include polypsf/system.h instead"
#endif

#include "polypsf/system.h"

/* Complex elements of scratch pp_fresnel_detector_resample needs for an n × n field and a
 * fov × fov detector: the (n + 2) padded rows resampled at the fov columns, [n + 2][fov],
 * then one padded row and the spline's work. */
size_t pp_fresnel_detector_scratch_elements(size_t n, size_t fov);
/* True when the detector only pads or crops (scales within 1e-3, POPPY's test). */
bool pp_fresnel_detector_crops(double pixelscale_m, double detector_pixelscale_m);
/* The field rows [*first, *end) the crop reads. */
void pp_fresnel_detector_crop_rows(size_t n, size_t fov, size_t *first, size_t *end);
/* The crop from rows (field rows from first_row on, n wide: those of crop_rows at least). */
void pp_fresnel_detector_crop(const double complex *rows, size_t first_row, size_t n,
                              size_t fov, double complex *out);
/* The spline resampling in its three parts, which a rank group splits (fresnel_system.c),
 * with a work of pp_fresnel_detector_work_elements (one padded row, the spline's scratch,
 * the positions; the serial scratch's part after its [n + 2][fov] rows): the detector's
 * positions (and the spline's factors, which depend on n only) into work; one padded row
 * (field_row [n], NULL for the margin's zero rows) resampled at the fov columns into
 * out_row [fov]; then the columns of rows [n + 2][fov]
 * times 1/ratio (ratio = wavefront scale / detector scale) into out [fov][fov]. */
size_t pp_fresnel_detector_work_elements(size_t n, size_t fov);
void pp_fresnel_detector_positions(size_t n, double pixelscale_m, size_t fov,
                                   double detector_pixelscale_m, double complex *work);
void pp_fresnel_detector_row(const double complex *field_row, size_t n, size_t fov,
                             double complex *work, double complex *out_row);
void pp_fresnel_detector_columns(size_t n, size_t fov, double ratio,
                                 const double complex *rows, double complex *work,
                                 double complex *out);
/* POPPY's Fresnel detector: field[n][n] (axis at (n/2, n/2), pixelscale_m) resampled into
 * out[fov][fov] (axis at (fov/2, fov/2)) of detector_pixelscale_m, or padded/cropped when
 * the scales agree within 1e-3 (then *out_pixelscale_m stays the wavefront's, as in POPPY).
 * n even and ≥ 2. Allocates nothing. */
pp_status pp_fresnel_detector_resample(const double complex *field, size_t n,
                                       double pixelscale_m, size_t fov,
                                       double detector_pixelscale_m, double complex *scratch,
                                       double complex *out, double *out_pixelscale_m);

/* The transform "choice" of a Fresnel job: method fft, both candidates the Fresnel system's
 * bytes and flops, n_in the padded side, n_out the result's. */
pp_status pp_fresnel_choose(const pp_job *job, pp_system_choice *choice);
/* Makes and destroys the two n × n plans (FFTW's wisdom keeps them). Not collective. */
pp_status pp_fresnel_plan_fftw(const pp_job *job);
/* pp_system_requested_planes of a Fresnel job: each requested optic its own n × n plane
 * (kind pupil: metres), the detector (or the end) as the result. */
pp_status pp_fresnel_requested_planes(const pp_job *job, pp_plane_info **planes,
                                      size_t *n_planes);
/* One rank of a Fresnel rank group (fresnel_system.c): the system of pp_system_create_group.
 * Collective on group. */
pp_status pp_fresnel_system_create_group(const pp_job *job, MPI_Comm group,
                                         pp_fresnel_system **system);
/* Bytes group rank 0 (the largest) of a group of group_ranks holds for a Fresnel job. */
pp_status pp_fresnel_group_bytes_for_job(const pp_job *job, int group_ranks, size_t *bytes);

#endif
