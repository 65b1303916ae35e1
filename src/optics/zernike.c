/* zernike_wfe (POPPY ZernikeWFE, poppy/wfe.py; polynomials as poppy/zernike.py).
 *
 * OPD(x, y) = Σ_j c_j · Z_j(rho, theta), c_j in metres, j in Noll's order from 1, each Z_j
 * normalized to RMS 1 over the unit disk (Noll 1976):
 *   Z = sqrt(n+1) · R_n^0(rho)                     (m = 0)
 *   Z = sqrt(2) · sqrt(n+1) · R_n^|m|(rho) · cos(|m|·theta)   (m > 0, even j)
 *   Z = sqrt(2) · sqrt(n+1) · R_n^|m|(rho) · sin(|m|·theta)   (m < 0, odd j)
 * with rho = r/radius and theta = atan2(y/radius, x/radius) in the optic's frame. As in
 * POPPY the terms are 0 where rho > 1, and the OPD is also 0 outside the optic's own hard
 * circle r ≤ radius (POPPY's internal CircularAperture(gray_pixel=False), which takes the
 * same shift and rotation). With aperture_stop the amplitude is cut by that circle too. */
#define POLYPSF_OPTICS_INTERNAL
#include "optics/optics_private.h"

#include <math.h>
#include <stdlib.h>

void pp_zernike_noll_to_nm(int j, int *n, int *m) {
  /* Row n of the triangle holds j = n(n+1)/2 + 1 … (n+1)(n+2)/2. */
  int row = 0;
  while ((row + 1) * (row + 2) / 2 < j) row++;
  int position = j - row * (row + 1) / 2 - 1; /* 0 … row within the row */
  /* Within a row |m| rises in pairs: 0,2,2,4,4,… for even n; 1,1,3,3,… for odd n. */
  int abs_m = row % 2 == 0 ? 2 * ((position + 1) / 2) : 2 * (position / 2) + 1;
  *n = row;
  /* Noll: even j take cos (m > 0), odd j take sin (m < 0); m = 0 has no sign. */
  *m = abs_m == 0 ? 0 : (j % 2 == 1 ? -abs_m : abs_m);
}

pp_status pp_zernike_noll_indices(int j, int *n, int *m) {
  PP_CHECK(j >= 1, PP_ERR_INPUT, "Noll index j must be 1 or more (got %d)", j);
  PP_CHECK(n && m, PP_ERR_INTERNAL, "pp_zernike_noll_indices: NULL output");
  pp_zernike_noll_to_nm(j, n, m);
  return PP_SUCCESS;
}

/* Radial polynomial coefficients of R_n^|m|: coef[k] multiplies rho^(n − 2k). */
enum { PP_ZERNIKE_MAX_ORDER = 20 };

static double pp_factorial(int k) {
  double value = 1.0;
  for (int i = 2; i <= k; i++) value *= i;
  return value;
}

static int pp_radial_coefficients(int n, int abs_m, double coef[PP_ZERNIKE_MAX_ORDER / 2 + 1]) {
  int n_terms = (n - abs_m) / 2 + 1;
  for (int k = 0; k < n_terms; k++) {
    double sign = k % 2 == 0 ? 1.0 : -1.0;
    coef[k] = sign * pp_factorial(n - k) /
              (pp_factorial(k) * pp_factorial((n + abs_m) / 2 - k) *
               pp_factorial((n - abs_m) / 2 - k));
  }
  return n_terms;
}

static double pp_zernike_norm(int n, int m) {
  return m == 0 ? sqrt((double)n + 1) : sqrt(2.0) * sqrt((double)n + 1);
}

double pp_zernike_noll_value(int n, int m, double rho, double theta) {
  if (rho > 1 || n < 0 || n > PP_ZERNIKE_MAX_ORDER) return 0.0;
  int abs_m = m < 0 ? -m : m;
  if ((n - abs_m) % 2 != 0 || abs_m > n) return 0.0;
  double coef[PP_ZERNIKE_MAX_ORDER / 2 + 1];
  int n_terms = pp_radial_coefficients(n, abs_m, coef);
  double radial = 0.0;
  for (int k = 0; k < n_terms; k++) radial += coef[k] * pow(rho, n - 2 * k);
  double angular = m == 0 ? 1.0 : (m > 0 ? cos(abs_m * theta) : sin(abs_m * theta));
  return pp_zernike_norm(n, m) * radial * angular;
}

pp_status pp_zernike_validate(const pp_optic_spec *spec) {
  PP_CHECK(spec->list_len <= PP_ZERNIKE_MAX_TERMS, PP_ERR_INPUT,
           "%s: 'coefficients' lists %zu terms; at most %d are supported (Noll j ≤ %d, radial "
           "order ≤ %d)",
           spec->type->name, spec->list_len, PP_ZERNIKE_MAX_TERMS, PP_ZERNIKE_MAX_TERMS,
           PP_ZERNIKE_MAX_ORDER);
  return PP_SUCCESS;
}

/* One term ready to evaluate: its orders, coefficient (metres) and radial polynomial. */
typedef struct {
  int n, m, abs_m, n_radial;
  double scale_m; /* coefficient × normalization */
  double radial[PP_ZERNIKE_MAX_ORDER / 2 + 1];
} pp_zernike_term;

/* The terms of spec's list (all of them, or only the nonzero ones), ready to evaluate;
 * returns how many, with the highest radial and azimuthal orders among them. */
static int pp_zernike_terms(const pp_optic_spec *spec, bool nonzero_only,
                            pp_zernike_term terms[PP_ZERNIKE_MAX_TERMS], int *max_order,
                            int *max_abs_m) {
  int n_terms = 0;
  *max_order = *max_abs_m = 0;
  for (size_t i = 0; i < spec->list_len; i++) {
    if (nonzero_only && spec->list[i] == 0.0) continue; /* adds nothing */
    pp_zernike_term *term = &terms[n_terms++];
    pp_zernike_noll_to_nm((int)i + 1, &term->n, &term->m);
    term->abs_m = term->m < 0 ? -term->m : term->m;
    term->n_radial = pp_radial_coefficients(term->n, term->abs_m, term->radial);
    term->scale_m = spec->list[i] * pp_zernike_norm(term->n, term->m);
    if (term->n > *max_order) *max_order = term->n;
    if (term->abs_m > *max_abs_m) *max_abs_m = term->abs_m;
  }
  return n_terms;
}

/* Where pixel (ix, iy) is for the optic: 0 outside its hard circle (the amplitude is cut
 * there with aperture_stop), 1 inside but where the terms are 0 (rho > 1), 2 where they
 * are evaluated, with rho and cos θ, sin θ (θ = atan2(y, x), POPPY's angle; 0 at the
 * centre). */
static int pp_zernike_pixel(const pp_optic_frame *frame, const pp_pupil_grid *grid, double radius_m,
                            size_t ix, size_t iy, double *rho, double *cos_1, double *sin_1) {
  double x_m, y_m;
  pp_optic_frame_apply(frame, pp_grid_coordinate_m(ix, grid->nx, grid->pixelscale_m),
                       pp_grid_coordinate_m(iy, grid->ny, grid->pixelscale_m), &x_m, &y_m);
  double r_m = sqrt(x_m * x_m + y_m * y_m);
  if (!(r_m <= radius_m)) return 0; /* outside POPPY's own hard circle */
  *rho = r_m / radius_m;
  if (*rho > 1) return 1; /* POPPY's terms are 0 where rho > 1 */
  *cos_1 = r_m > 0.0 ? x_m / r_m : 1.0;
  *sin_1 = r_m > 0.0 ? y_m / r_m : 0.0;
  return 2;
}

/* Each term's R(rho)·angular(θ) at one pixel, into products[t]. cos(aθ), sin(aθ) come by
 * angle addition from cos θ and sin θ: no atan2, sin or cos per pixel, which were most of
 * a grid point's pupil build. Each step adds about one rounding (≤ 20 steps, so within
 * ~1e-15 of the libm values: far below POPPY's 1e-6 and the references). */
static void pp_zernike_products(const pp_zernike_term *terms, int n_terms, int max_order,
                                int max_abs_m, double rho, double cos_1, double sin_1,
                                double *products) {
  double rho_power[PP_ZERNIKE_MAX_ORDER + 1];
  rho_power[0] = 1.0;
  for (int p = 1; p <= max_order; p++) rho_power[p] = rho_power[p - 1] * rho;
  double cos_m[PP_ZERNIKE_MAX_ORDER + 1], sin_m[PP_ZERNIKE_MAX_ORDER + 1];
  cos_m[0] = 1.0;
  sin_m[0] = 0.0;
  for (int a = 1; a <= max_abs_m; a++) {
    cos_m[a] = cos_m[a - 1] * cos_1 - sin_m[a - 1] * sin_1;
    sin_m[a] = sin_m[a - 1] * cos_1 + cos_m[a - 1] * sin_1;
  }
  for (int t = 0; t < n_terms; t++) {
    const pp_zernike_term *term = &terms[t];
    double radial = 0.0;
    for (int k = 0; k < term->n_radial; k++) radial += term->radial[k] * rho_power[term->n - 2 * k];
    double angular =
        term->m == 0 ? 1.0 : (term->m > 0 ? cos_m[term->abs_m] : sin_m[term->abs_m]);
    products[t] = radial * angular;
  }
}

pp_status pp_zernike_apply(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                           double *amplitude, double *opd) {
  double radius_m = pp_optic_spec_get(spec, "radius");
  bool aperture_stop = pp_optic_spec_get(spec, "aperture_stop") != 0.0;
  PP_CHECK(spec->list_len <= PP_ZERNIKE_MAX_TERMS, PP_ERR_INTERNAL,
           "%s: %zu Zernike terms passed validation", spec->name, spec->list_len);

  /* The nonzero terms, prepared once (a few kB on the stack, nothing allocated). */
  pp_zernike_term terms[PP_ZERNIKE_MAX_TERMS];
  int max_order = 0, max_abs_m = 0;
  int n_terms = pp_zernike_terms(spec, true, terms, &max_order, &max_abs_m);
  pp_optic_frame frame;
  pp_optic_frame_from_spec(spec, &frame);
  double products[PP_ZERNIKE_MAX_TERMS];
  for (size_t iy = 0; iy < grid->ny; iy++) {
    for (size_t ix = 0; ix < grid->nx; ix++) {
      size_t pixel = iy * grid->nx + ix;
      double rho = 0.0, cos_1 = 1.0, sin_1 = 0.0;
      int where = pp_zernike_pixel(&frame, grid, radius_m, ix, iy, &rho, &cos_1, &sin_1);
      if (where == 0 && aperture_stop) amplitude[pixel] = 0.0;
      if (where < 2 || n_terms == 0) continue;
      pp_zernike_products(terms, n_terms, max_order, max_abs_m, rho, cos_1, sin_1, products);
      /* coefficient × (R·angular): pp_zernike_basis_apply adds the same products */
      double sum_m = 0.0;
      for (int t = 0; t < n_terms; t++) sum_m += terms[t].scale_m * products[t];
      opd[pixel] += sum_m;
    }
  }
  return PP_SUCCESS;
}

/* ---- the terms evaluated once on a grid (pp_zernike_basis, optics.h) -------------------- */
struct pp_zernike_basis {
  pp_pupil_grid grid;
  double radius_m;
  bool aperture_stop;
  pp_optic_frame frame;
  size_t n_terms;   /* the list length it was made for: Noll 1 … n_terms */
  size_t n_inside;  /* pixels where the terms are evaluated */
  size_t n_cut;     /* pixels outside the hard circle */
  size_t *inside, *cut;
  double *products; /* [n_inside][n_terms] R·angular of every term */
};

bool pp_optic_is_zernike(const pp_optic_spec *spec) { return spec->type == &pp_zernike_type; }

static bool pp_zernike_basis_fits(const pp_zernike_basis *basis, const pp_optic_spec *spec,
                                  const pp_pupil_grid *grid) {
  pp_optic_frame frame;
  pp_optic_frame_from_spec(spec, &frame);
  return basis->grid.ny == grid->ny && basis->grid.nx == grid->nx &&
         basis->grid.pixelscale_m == grid->pixelscale_m &&
         basis->radius_m == pp_optic_spec_get(spec, "radius") &&
         basis->aperture_stop == (pp_optic_spec_get(spec, "aperture_stop") != 0.0) &&
         basis->n_terms == spec->list_len && basis->frame.shift_x_m == frame.shift_x_m &&
         basis->frame.shift_y_m == frame.shift_y_m && basis->frame.rotated == frame.rotated &&
         basis->frame.cos_rotation == frame.cos_rotation &&
         basis->frame.sin_rotation == frame.sin_rotation;
}

void pp_zernike_basis_destroy(pp_zernike_basis **basis) {
  if (!basis || !*basis) return;
  free((*basis)->inside);
  free((*basis)->cut);
  free((*basis)->products);
  free(*basis);
  *basis = NULL;
}

size_t pp_zernike_basis_bytes(size_t n_terms, const pp_pupil_grid *grid) {
  size_t pixels = grid->ny * grid->nx;
  return pixels * (n_terms * sizeof(double) + sizeof(size_t));
}

pp_status pp_zernike_basis_create(const pp_optic_spec *spec, const pp_pupil_grid *grid,
                                  pp_zernike_basis **basis) {
  *basis = NULL;
  PP_CHECK(pp_optic_is_zernike(spec) && spec->list_len <= PP_ZERNIKE_MAX_TERMS, PP_ERR_INTERNAL,
           "pp_zernike_basis_create: not a valid zernike_wfe");
  pp_zernike_basis *b = calloc(1, sizeof *b);
  size_t pixels = grid->ny * grid->nx, n = spec->list_len;
  pp_zernike_term terms[PP_ZERNIKE_MAX_TERMS];
  int max_order = 0, max_abs_m = 0;
  pp_zernike_terms(spec, false, terms, &max_order, &max_abs_m);
  if (b) {
    *b = (pp_zernike_basis){.grid = *grid, .radius_m = pp_optic_spec_get(spec, "radius"),
                            .aperture_stop = pp_optic_spec_get(spec, "aperture_stop") != 0.0,
                            .n_terms = n};
    pp_optic_frame_from_spec(spec, &b->frame);
    b->inside = malloc(pixels * sizeof *b->inside);
    b->cut = malloc(pixels * sizeof *b->cut);
    b->products = malloc((pixels * n + 1) * sizeof *b->products);
  }
  if (!b || !b->inside || !b->cut || !b->products) {
    pp_zernike_basis_destroy(&b);
    PP_CHECK(false, PP_ERR_MEMORY, "out of memory for the Zernike terms on %zu × %zu pixels",
             grid->ny, grid->nx);
  }
  for (size_t iy = 0; iy < grid->ny; iy++) {
    for (size_t ix = 0; ix < grid->nx; ix++) {
      double rho = 0.0, cos_1 = 1.0, sin_1 = 0.0;
      int where = pp_zernike_pixel(&b->frame, grid, b->radius_m, ix, iy, &rho, &cos_1, &sin_1);
      if (where == 0) b->cut[b->n_cut++] = iy * grid->nx + ix;
      if (where < 2) continue;
      pp_zernike_products(terms, (int)n, max_order, max_abs_m, rho, cos_1, sin_1,
                          b->products + b->n_inside * n);
      b->inside[b->n_inside++] = iy * grid->nx + ix;
    }
  }
  *basis = b;
  return PP_SUCCESS;
}

pp_status pp_zernike_basis_apply(const pp_zernike_basis *basis, const pp_optic_spec *spec,
                                 const pp_pupil_grid *grid, double *amplitude, double *opd,
                                 bool *applied) {
  *applied = false;
  if (!basis || !pp_optic_is_zernike(spec) || !pp_zernike_basis_fits(basis, spec, grid))
    return PP_SUCCESS;
  if (basis->aperture_stop)
    for (size_t k = 0; k < basis->n_cut; k++) amplitude[basis->cut[k]] = 0.0;
  /* the nonzero terms, in order, as pp_zernike_apply adds them */
  int which[PP_ZERNIKE_MAX_TERMS];
  double scale_m[PP_ZERNIKE_MAX_TERMS];
  int n_nonzero = 0;
  for (size_t i = 0; i < spec->list_len; i++) {
    if (spec->list[i] == 0.0) continue;
    int n = 0, m = 0;
    pp_zernike_noll_to_nm((int)i + 1, &n, &m);
    which[n_nonzero] = (int)i;
    scale_m[n_nonzero++] = spec->list[i] * pp_zernike_norm(n, m);
  }
  *applied = true;
  if (n_nonzero == 0) return PP_SUCCESS;
  for (size_t k = 0; k < basis->n_inside; k++) {
    const double *products = basis->products + k * basis->n_terms;
    double sum_m = 0.0;
    for (int t = 0; t < n_nonzero; t++) sum_m += scale_m[t] * products[which[t]];
    opd[basis->inside[k]] += sum_m;
  }
  return PP_SUCCESS;
}

/* Every zernike_wfe adds OPD, even with all coefficients 0: the row says what it is. */
bool pp_zernike_has_opd(const pp_optic_spec *spec) {
  (void)spec;
  return true;
}

/* ---- the table row ----------------------------------------------------------- */

static const pp_optic_param pp_zernike_params[] = {
    {.name = "radius", .kind = PP_PARAM_REAL, .required = true, .default_value = NAN,
     PP_POSITIVE, .unit = "m", .doc = "radius of the unit disk on which the terms are normalized"},
    {.name = "coefficients", .kind = PP_PARAM_REAL_LIST, .required = true, .default_value = NAN,
     PP_ANY_REAL, .unit = "m",
     .doc = "OPD of each term in metres RMS, Noll order from j = 1 (piston)"},
    {.name = "aperture_stop", .kind = PP_PARAM_BOOL, .default_value = 0.0, .min = 0, .max = 1,
     .unit = "", .doc = "also block light outside radius (hard edge)"},
    PP_SHIFT_PARAMS,
    PP_ROTATION_PARAM,
};

/* The row of the table of optics (optic_table.c) for `zernike_wfe`. */
const pp_optic_type pp_zernike_type = {
    .name = "zernike_wfe", .poppy_name = "ZernikeWFE", .plane = PP_PLANE_PUPIL,
    .params = pp_zernike_params, .n_params = PP_OPTIC_COUNT(pp_zernike_params),
    .doc = "wavefront error as Noll-ordered Zernike terms, metres RMS each",
    .validate = pp_zernike_validate,
    .has_opd = pp_zernike_has_opd,
    .apply_pupil = pp_zernike_apply};
