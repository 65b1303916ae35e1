/* polypsf propagate: transforms between planes.
 * MFT: E_out = norm · A_y · E_in · A_x with two cblas_zgemm calls, POPPY's ADJUSTABLE
 * (symmetric) centering: input coordinates (i − n_in/2 + 0.5)/n_in of the array width,
 * output (k − n_out/2 + 0.5)·nlamD/n_out, A[k,i] = exp(±2πi·x_i·u_k) (+ forward),
 * norm = sqrt(nlamD_y·nlamD_x / (n_in_y·n_in_x·n_out_y·n_out_x)).
 * The sign is POPPY ≥ 1.0's (spacetelescope/poppy PR #384 flipped it to + for forward;
 * POPPY 0.x used −). An inverse transform uses − and, like POPPY's matrix_idft, puts the
 * λ/D scale on its input (the image plane): input (i − n_in/2 + 0.5)·nlamD/n_in, output
 * (k − n_out/2 + 0.5)/n_out, same norm; with nlamD = n_in = n_out both are unitary and
 * inverse(forward(E)) = E.
 * Plans are made once per shape and reused for every wavelength (FFTW's lifecycle).
 * A plan holds its intermediate product: one plan must not execute in two threads at once. */
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
/* out = MFT(in) for a real input (a pupil without OPD): the first product is a real
 * dgemm on the complex kernel viewed as real, half the flops of the complex one.
 * Same result as pp_mft_execute on in + 0i. No allocation. Not collective. */
pp_status pp_mft_execute_real(pp_mft_plan *plan, const double *in, double complex *out);
/* Bytes held by a plan of these sizes (kernels + scratch), for the memory model. */
size_t pp_mft_plan_bytes(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x);
/* Floating-point operations of one execute (complex multiply-add = 8 flops), in the
 * cheaper of the two product orders, which is the one the plan uses. */
double pp_mft_flops(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x);
/* The same for pp_mft_execute_real (real × complex multiply-add = 4 flops). */
double pp_mft_flops_real(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x);
void pp_mft_plan_destroy(pp_mft_plan **plan);

#ifdef __cplusplus
}
#endif
#endif
