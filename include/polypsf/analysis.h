/* polypsf analysis: measurements of a PSF image, the equivalents of POPPY's poppy/utils.py
 * (radial_profile, measure_ee, measure_fwhm, measure_centroid). docs/analysis.md says how
 * each is computed and where it differs from POPPY.
 *
 * Coordinates. An image is row-major [ny][nx], indexed (y, x) like POPPY. Pixel (x, y) has
 * its centre at the point (x, y) and covers [x − ½, x + ½] × [y − ½, y + ½]; the centre of
 * the array is ((nx − 1)/2, (ny − 1)/2), where an on-axis PSF sits (POPPY's default centre).
 * Everything here is in pixels of the image given (names end in _px); multiply by the pixel
 * scale for arcsec. Centres are passed x first, results come back as (x, y) pairs.
 *
 * None of these functions is collective, keeps state or writes anything but its outputs;
 * each one reads the image only. */
#ifndef POLYPSF_ANALYSIS_H
#define POLYPSF_ANALYSIS_H

#include "polypsf/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An image to measure: values[y·nx + x], borrowed (never freed here). */
typedef struct pp_image {
  const double *values;
  size_t ny, nx;
} pp_image;

/* Sum, extremes and where the peak is. */
typedef struct pp_image_stats {
  double sum;            /* Σ values */
  double peak;           /* largest value */
  double minimum;        /* smallest value */
  size_t peak_x, peak_y; /* first pixel (row-major order) holding the peak */
} pp_image_stats;

/* Sum, peak and minimum of an image. Not collective.
 *   image  in: the image; PP_ERR_INPUT when it is empty or holds a NaN or infinity.
 *   stats  out: the figures. */
pp_status pp_analysis_image_stats(const pp_image *image, pp_image_stats *stats);

/* ---- encircled energy ------------------------------------------------------------- */
/* The light inside a circle: Σ values[p] · (area of pixel p inside the circle), with the
 * area computed exactly (each pixel is taken as uniformly bright over its square, as in
 * an exact aperture photometry). Not normalized: with the job's normalization 'first'
 * the result is the fraction of the light entering the pupil; divide by the image's sum
 * for the fraction of what is in the field. (POPPY's measure_ee counts whole pixels by
 * their centres and interpolates; this is the continuous version: no jump when the
 * circle crosses a pixel centre.) Not collective.
 *   image                     in: the image.
 *   centre_x_px, centre_y_px  in: the circle's centre (pixel coordinates, see the top).
 *   radius_px                 in: the circle's radius (pixels, ≥ 0, finite).
 *   energy                    out: the light inside (same units as the values).
 * PP_ERR_INPUT for a non-finite centre or a negative or non-finite radius. */
pp_status pp_analysis_encircled_energy(const pp_image *image, double centre_x_px,
                                       double centre_y_px, double radius_px, double *energy);

/* ---- radial profile -------------------------------------------------------------------- */
/* One annulus of a radial profile: the pixels whose centres lie at r ∈ [i·binsize,
 * (i+1)·binsize) from the centre. */
typedef struct pp_radial_bin {
  double radius_px;        /* bin centre (i + ½)·binsize: POPPY's radial_profile radius */
  double mean_radius_px;   /* mean r of the pixels in the bin (NAN when empty) */
  double mean_value;       /* mean pixel value: the azimuthal average (NAN when empty) */
  size_t n_pixels;         /* pixels in the bin (0: empty) */
  double cumulative_sum;   /* Σ values of every pixel with r < (i+1)·binsize */
} pp_radial_bin;

/* Number of bins a profile about (centre_x_px, centre_y_px) needs to reach every pixel of
 * the image: floor(r_max / binsize_px) + 1. Not collective. PP_ERR_INPUT for an empty
 * image, a non-finite centre or a binsize that is not positive and finite, or more than
 * 100 million bins. */
pp_status pp_analysis_radial_profile_size(const pp_image *image, double centre_x_px,
                                          double centre_y_px, double binsize_px,
                                          size_t *n_bins);

/* The azimuthally averaged radial profile (POPPY's radial_profile with ee=True: bins of
 * binsize_px from the centre, the mean in each, and the cumulative sum). Not collective.
 *   image, centre_x_px, centre_y_px, binsize_px  in: as for pp_analysis_radial_profile_size.
 *   n_bins  in: the length of bins[]; pixels beyond the last bin are left out.
 *   bins    out: [n_bins], caller-allocated (size from pp_analysis_radial_profile_size). */
pp_status pp_analysis_radial_profile(const pp_image *image, double centre_x_px,
                                     double centre_y_px, double binsize_px, size_t n_bins,
                                     pp_radial_bin *bins);

/* ---- FWHM ---------------------------------------------------------------------------------- */
/* Default profile bin for pp_analysis_fwhm (pixels): fine enough that the bins' mean radii
 * trace the profile (docs/analysis.md gives the errors measured against the Airy pattern). */
#define PP_ANALYSIS_FWHM_BINSIZE_PX 0.25

/* Full width at half maximum from the radial profile about a centre. Not collective;
 * allocates a temporary profile.
 *   1. the radial profile in bins of binsize_px, each bin placed at the mean radius of its
 *      pixels (not at the bin's middle, which biases a steep profile by up to a pixel);
 *   2. the maximum: the profile extrapolated to r = 0 by the quadratic in r² through the
 *      first three non-empty bins, so that a PSF centred between pixels (even arrays) is
 *      not measured against its lower off-centre pixels;
 *   3. the first bin below half that maximum, and the radius where the cubic through the
 *      four bins around the crossing equals it; FWHM = 2 · that radius.
 * POPPY's measure_fwhm fits a Gaussian instead, and its older measure_fwhm_radprof
 * interpolates bins placed at their middles: both are off by percents for an Airy core.
 *   image                     in: the image (a single peak near the centre).
 *   centre_x_px, centre_y_px  in: the profile's centre (pixels), e.g. the centroid.
 *   binsize_px                in: profile bin (pixels); 0 for PP_ANALYSIS_FWHM_BINSIZE_PX.
 *   fwhm_px                   out: the full width (pixels).
 *   peak_value                out (may be NULL): the maximum of step 2.
 * PP_ERR_INPUT when the profile has fewer than three non-empty bins, a maximum that is not
 * positive, or never falls below half of it inside the image. */
pp_status pp_analysis_fwhm(const pp_image *image, double centre_x_px, double centre_y_px,
                           double binsize_px, double *fwhm_px, double *peak_value);

/* ---- centroid ------------------------------------------------------------------------------ */
/* How pp_analysis_centroid works; POPPY's measure_centroid defaults with
 * PP_CENTROID_OPTIONS_DEFAULT. */
typedef struct pp_centroid_options {
  /* Half width of the box (pixels, ≥ 0). 0: the flux-weighted mean over the whole image,
   * in one pass. Otherwise the floating-box first moment JWST target acquisition uses
   * (POPPY's fwcentroid): a (2·h+1)² box about the brightest pixel first, then boxes of
   * half width h centred on the current centroid (pixels between h and h+1 from it
   * weighted by 1 − (distance − h), each axis), until the centroid moves by no more than
   * threshold_px on both axes. Pixels outside the image count as 0. */
  int halfwidth_px;
  int max_iterations;  /* iterations of the floating box (≥ 1) */
  double threshold_px; /* convergence: the largest move allowed in the last iteration */
} pp_centroid_options;

#define PP_CENTROID_OPTIONS_DEFAULT \
  ((pp_centroid_options){.halfwidth_px = 20, .max_iterations = 20, .threshold_px = 1e-4})

typedef struct pp_centroid {
  double x_px, y_px; /* centroid (pixel coordinates) */
  int iterations;    /* floating-box iterations made (0 for the whole-image mean) */
  bool converged;    /* false when max_iterations ended the floating box */
} pp_centroid;

/* The flux-weighted centroid of an image. Not collective.
 *   image     in: the image; its values in the box(es) must sum to a positive number.
 *   options   in: NULL for PP_CENTROID_OPTIONS_DEFAULT.
 *   centroid  out: the result; a floating box that did not converge still returns its last
 *             position with converged = false (POPPY warns and does the same).
 * PP_ERR_INPUT for bad options or when the weights sum to zero or less. */
pp_status pp_analysis_centroid(const pp_image *image, const pp_centroid_options *options,
                               pp_centroid *centroid);

#ifdef __cplusplus
}
#endif
#endif
