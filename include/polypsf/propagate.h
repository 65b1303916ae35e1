/* polypsf propagate: transforms between planes.
 * MFT: E_out = norm · A_y · E_in · A_x with two cblas_zgemm calls, POPPY's ADJUSTABLE
 * (symmetric) centering: input coordinates (i − n_in/2 + 0.5)/n_in of the array width,
 * output (k − n_out/2 + 0.5)·nlamD/n_out, A[k,i] = exp(±2πi·x_i·u_k) (+ forward),
 * norm = sqrt(nlamD_y·nlamD_x / (n_in_y·n_in_x·n_out_y·n_out_x)).
 * Plans are made once per shape and reused for every wavelength (FFTW's lifecycle). */
#ifndef POLYPSF_PROPAGATE_H
#define POLYPSF_PROPAGATE_H

#include <complex.h>

#include "polypsf/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PP_MFT_FORWARD = +1, PP_MFT_INVERSE = -1 } pp_mft_direction;

typedef struct pp_mft_plan pp_mft_plan;

/* Allocates kernels and scratch for in[n_in_y][n_in_x] → out[n_out_y][n_out_x].
 * Not collective. */
pp_status pp_mft_plan_create(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x,
                             pp_mft_direction direction, pp_mft_plan **plan);
/* Sets the output field size in λ/D units (each axis) and recomputes the kernels
 * (no allocation). Must be called before the first execute. */
pp_status pp_mft_plan_set_nlamd(pp_mft_plan *plan, double nlamd_y, double nlamd_x);
/* out = MFT(in). in and out must not overlap. No allocation. */
pp_status pp_mft_execute(pp_mft_plan *plan, const double complex *in, double complex *out);
/* Bytes held by a plan of these sizes (kernels + scratch), for the memory model. */
size_t pp_mft_plan_bytes(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x);
/* Floating-point operations of one execute (complex multiply-add = 8 flops). */
double pp_mft_flops(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x);
void pp_mft_plan_destroy(pp_mft_plan **plan);

#ifdef __cplusplus
}
#endif
#endif
