/* Blackbody weights for `wavelengths: {min, max, count, blackbody: T}`: photon counts of a
 * Planck spectrum integrated over equal-width wavelength bins.
 *
 * Why photons: a detector counts photons, and synphot (which POPPY and WebbPSF users weigh
 * their wavelengths with) integrates count rates, i.e. B_λ·λ/(h·c). The integral over a bin
 * [λ1, λ2] of the photon spectral radiance 2c/λ⁴ / (exp(a/λ) − 1), a = h·c/(k·T), becomes
 * with x = a/λ (dλ = −a/x² dx)
 *     2c/a³ · ∫ from a/λ2 to a/λ1 of x²/(eˣ − 1) dx,
 * and 2c/a³ is common to all bins, so it drops out when the weights are normalized.
 *
 * How: Gauss–Legendre with 20 points on panels at most 2 wide in x. x²/(eˣ − 1) is analytic
 * with its nearest poles at ±2πi, so on such a panel the rule is exact to rounding; narrow
 * bins cost one panel, wide ones a few. Everything is scaled by exp(x_ref), x_ref = a/max
 * (the bin edge with the most photons per unit x), and written in t = x − x_ref computed
 * without cancellation, so that cold sources far in the Wien tail (x of hundreds or
 * thousands, exp(−x) below the smallest double) still get their relative weights; a bin
 * more than 800 e-folds below the brightest edge holds less than 1e-340 of the light and
 * gets exactly 0. */
#define POLYPSF_JOB_PACKAGE
#include "job/job_private.h"

#include <math.h>

enum { PP_GL_POINTS = 20 };

/* CODATA 2018 / SI 2019 exact values. */
#define PP_PLANCK_J_S 6.62607015e-34
#define PP_SPEED_OF_LIGHT_M_S 299792458.0
#define PP_BOLTZMANN_J_K 1.380649e-23

/* e-folds below the brightest edge beyond which a bin's light is below any double's
 * resolution of the total. */
#define PP_BLACKBODY_MAX_EFOLDS 800.0
/* Widest panel in x: the rule is exact to rounding well beyond this width (see above). */
#define PP_BLACKBODY_PANEL_WIDTH 2.0

/* Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1]: Newton's method on
 * P_n from the usual cosine first guess, P_n and P_n' by the three-term recurrence. */
static void pp_gauss_legendre(double nodes[PP_GL_POINTS], double weights[PP_GL_POINTS]) {
  const int n = PP_GL_POINTS;
  for (int i = 0; i < (n + 1) / 2; i++) {
    double x = cos(PP_PI * ((double)i + 0.75) / ((double)n + 0.5));
    double derivative = 1.0;
    for (int iteration = 0; iteration < 100; iteration++) {
      double p_previous = 1.0, p = x;
      for (int k = 2; k <= n; k++) {
        double p_next = ((2.0 * k - 1.0) * x * p - (k - 1.0) * p_previous) / k;
        p_previous = p;
        p = p_next;
      }
      derivative = n * (x * p - p_previous) / (x * x - 1.0);
      double step = p / derivative;
      x -= step;
      if (fabs(step) <= 1e-16) break;
    }
    nodes[i] = -x;
    nodes[n - 1 - i] = x;
    weights[i] = weights[n - 1 - i] = 2.0 / ((1.0 - x * x) * derivative * derivative);
  }
}

/* exp(x_ref) · x²/(eˣ − 1) at x = x_ref + t, written so that nothing overflows:
 * x²·exp(−t)/(1 − exp(−x)). */
static double pp_photons_per_x_scaled(double x_ref, double t) {
  double x = x_ref + t;
  return x * x * exp(-t) / -expm1(-x);
}

/* ∫ from t_lo to t_hi of pp_photons_per_x_scaled dt. */
static double pp_photons_in_t(double x_ref, double t_lo, double t_hi, const double *nodes,
                              const double *weights) {
  if (t_lo >= PP_BLACKBODY_MAX_EFOLDS) return 0.0;
  if (t_hi > PP_BLACKBODY_MAX_EFOLDS) t_hi = PP_BLACKBODY_MAX_EFOLDS;
  double width = t_hi - t_lo;
  if (!(width > 0.0)) return 0.0;
  /* at most 400 panels: width ≤ PP_BLACKBODY_MAX_EFOLDS */
  size_t panels = (size_t)ceil(width / PP_BLACKBODY_PANEL_WIDTH);
  double panel_width = width / (double)panels;
  double total = 0.0;
  for (size_t j = 0; j < panels; j++) {
    double a = t_lo + (double)j * panel_width;
    double b = j + 1 < panels ? a + panel_width : t_hi;
    double half = 0.5 * (b - a), middle = 0.5 * (a + b), sum = 0.0;
    for (int k = 0; k < PP_GL_POINTS; k++)
      sum += weights[k] * pp_photons_per_x_scaled(x_ref, middle + half * nodes[k]);
    total += half * sum;
  }
  return total;
}

void pp_blackbody_photon_bins(double temperature_k, double min_m, double max_m, size_t count,
                              double *centres_m, double *photons) {
  double nodes[PP_GL_POINTS], weights[PP_GL_POINTS];
  pp_gauss_legendre(nodes, weights);
  /* a = h·c/(k·T): x = a/λ is hν/kT. */
  double a_m = PP_PLANCK_J_S * PP_SPEED_OF_LIGHT_M_S / (PP_BOLTZMANN_J_K * temperature_k);
  double x_ref = a_m / max_m;
  double step_m = (max_m - min_m) / (double)count;
  for (size_t i = 0; i < count; i++) {
    double lambda_lo_m = min_m + (double)i * step_m;
    double lambda_hi_m = i + 1 == count ? max_m : min_m + (double)(i + 1) * step_m;
    centres_m[i] = min_m + ((double)i + 0.5) * step_m;
    /* t = a/λ − a/max = a·(max − λ)/(λ·max): no difference of two large numbers. */
    double t_lo = a_m * (max_m - lambda_hi_m) / (lambda_hi_m * max_m);
    double t_hi = a_m * (max_m - lambda_lo_m) / (lambda_lo_m * max_m);
    photons[i] = pp_photons_in_t(x_ref, t_lo, t_hi, nodes, weights);
  }
}
