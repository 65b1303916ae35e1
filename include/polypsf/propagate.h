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
 * A plan holds its intermediate product: one plan must not execute in two threads at once.
 * Further down: FFTW plans and POPPY's padded-FFT propagation (fft.c), and the chirp-z
 * transform, the MFT's result at FFT cost (czt.c). Conventions and costs: docs/propagation.md. */
#ifndef POLYPSF_PROPAGATE_H
#define POLYPSF_PROPAGATE_H

#include "polypsf/complex_value.h"
#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>

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

/* ---- FFT (FFTW) ------------------------------------------------------------------------
 * Plans are made once per shape per rank and executed for every wavelength (FFTW's
 * plan → execute → destroy). Execution takes a const plan, allocates nothing in polypsf and
 * may run in several threads at once on different arrays; creating and destroying plans and
 * the wisdom calls use FFTW's planner, which is process-global and not thread-safe: call
 * them from one thread. FFTW's wisdom is global state of the process (state FFTW requires);
 * polypsf keeps none of its own. See docs/propagation.md. */

/* FFTW's sign convention: FORWARD is Σ x_j·exp(−2πi·jk/n), BACKWARD is exp(+2πi·jk/n), both
 * unnormalized. Optical pupil → image propagation uses BACKWARD (POPPY ≥ 1.0: "forward
 * propagation requires an inverse FFT", for the + sign of the MFT), image → pupil FORWARD. */
typedef enum { PP_FFT_FORWARD = -1, PP_FFT_BACKWARD = +1 } pp_fft_direction;

/* How hard FFTW's planner works. ESTIMATE (the default) picks the algorithm by heuristics:
 * the same plan, hence the same bits, in every run of a given FFTW build on a given CPU type,
 * whichever rank computes which wavelength. MEASURE and PATIENT time candidate algorithms and
 * may pick a different one run to run (machine load decides), so results may differ in the
 * last bits between runs and between ranks, unless every rank plans from the same imported
 * wisdom (pp_fft_wisdom_import before creating plans). */
typedef enum { PP_FFT_ESTIMATE = 0, PP_FFT_MEASURE, PP_FFT_PATIENT } pp_fft_rigor;

/* Optical propagation with POPPY's padded-FFT conventions (pp_fft_propagate). */
typedef enum {
  PP_FFT_PUPIL_TO_IMAGE, /* out = fftshift(BACKWARD(in)) / sqrt(ny·nx) */
  PP_FFT_IMAGE_TO_PUPIL  /* out = FORWARD(ifftshift(in)) / sqrt(ny·nx) */
} pp_fft_propagation;

typedef struct pp_fft_plan pp_fft_plan;

/* Plans a 2-D complex DFT of ny × nx (row-major, y first) in one direction, both in place
 * and out of place. The planning arrays are allocated inside and freed before returning
 * (transient peak: pp_fft_plan_bytes); the plan then executes on the caller's arrays, which
 * must be aligned like pp_array_alloc's. Not collective. Errors: PP_ERR_INPUT for a zero or
 * oversized shape, PP_ERR_MEMORY, PP_ERR_LIBRARY when FFTW returns no plan. */
pp_status pp_fft_plan_create(size_t ny, size_t nx, pp_fft_direction direction,
                             pp_fft_rigor rigor, pp_fft_plan **plan);
/* out = DFT(in) with the plan's sign, unnormalized (FFTW's definition). in == out runs in
 * place; otherwise in is preserved and the arrays must not overlap. Both arrays must be
 * aligned like pp_array_alloc's (FFTW's new-array execute requires the planning arrays'
 * alignment: checked, PP_ERR_INTERNAL otherwise). No allocation in polypsf. Not collective. */
pp_status pp_fft_execute(const pp_fft_plan *plan, const double complex *in, double complex *out);
/* One optical propagation of an already padded field (see pp_fft_propagation), unitary:
 * Σ|out|² = Σ|in|². PUPIL_TO_IMAGE needs a PP_FFT_BACKWARD plan, IMAGE_TO_PUPIL a
 * PP_FFT_FORWARD one (PP_ERR_INTERNAL otherwise). The zero frequency lands on pixel
 * (ny/2, nx/2) (integer division) of the image, like POPPY's fftshift. The shifts are done
 * without allocation: for even sizes by a quadrant swap (pupil → image) or a (−1)^(y+x)
 * modulation of the output (image → pupil); otherwise by in-place rotations. in == out is
 * allowed; alignment as for pp_fft_execute. Not collective. */
pp_status pp_fft_propagate(const pp_fft_plan *plan, const double complex *in, double complex *out,
                           pp_fft_propagation propagation);
/* Bytes allocated at once while pp_fft_plan_create runs (two planning arrays, freed before it
 * returns; FFTW's own tables, O(ny + nx), are not counted). */
size_t pp_fft_plan_bytes(size_t ny, size_t nx);
/* Floating-point operations of one execute, by the usual 5·N·log2(N) estimate. */
double pp_fft_flops(size_t ny, size_t nx);
void pp_fft_plan_destroy(pp_fft_plan **plan);

/* ---- the padded planes' FFTs from 1-D passes (fft_passes.c) ----------------------------
 * An N × N propagation (N even) as a row pass and a column pass of FFTW plan_many 1-D plans,
 * with pp_fft_propagate's conventions. band: the rows [(N − band)/2, +band) that hold the
 * unpadded pupil. pruned (pp_fft_passes_propagate): PUPIL_TO_IMAGE then takes its input as zero
 * outside the band rows and transforms only those in its row pass; IMAGE_TO_PUPIL computes only
 * the band rows of its output (the others are left unspecified: for a result that is cropped).
 * Not pruned, all rows. In place. Plans: as pp_fft_plan_create (rigor), planned on a transient
 * array of PP_PASS_BLOCK + 1 rows; a plan holds its column block buffer (PP_PASS_BLOCK·N): one
 * plan runs in one thread at a time.
 * Not collective. */
typedef struct pp_fft_passes pp_fft_passes;
pp_status pp_fft_passes_create(size_t n, size_t band, pp_fft_direction direction,
                               pp_fft_rigor rigor, pp_fft_passes **plan);
/* Bytes one plan of side n holds (its column block buffer) plus the transient array
 * pp_fft_passes_create plans on: what the memory model counts for one direction's plan. */
size_t pp_fft_passes_bytes(size_t n);
pp_status pp_fft_passes_propagate(pp_fft_passes *plan, double complex *data,
                                  pp_fft_propagation propagation, bool pruned);
/* The whole 2-D DFT of data[n][n] in place by the same passes, nothing pruned or shifted
 * (the plan's sign; its band is unused), every element multiplied by scale on the way out of
 * the column pass: POPPY's unitary Fresnel transforms (scale 1/N). With a phasor row before
 * (or after; NULL for none), element (y, x) is first (or last) multiplied by
 * before[y]·before[x], a separable phase, as each row block enters its row transform (as the
 * column pass writes it back): the Fresnel steps' phases without a pass of their own, and
 * the same bits as one (pp_phase_row). */
pp_status pp_fft_passes_execute(pp_fft_passes *plan, double complex *data, double scale,
                                const double complex *before, const double complex *after);
void pp_fft_passes_destroy(pp_fft_passes **plan);

/* Zero-pads in[n_in_y][n_in_x] into out[n_out_y][n_out_x] (n_out ≥ n_in on both axes) with
 * the input at offset ((n_out_y − n_in_y)/2, (n_out_x − n_in_x)/2), integer division: POPPY's
 * utils.pad_to_size, and utils.pad_to_oversample whenever npix·(oversample − 1) is even. For an
 * even npix and integer oversample the pupil's centre lands on the padded array's centre,
 * (n_out − 1)/2. Writes all of out. in and out must not overlap. Not collective. */
pp_status pp_fft_pad(const double complex *in, size_t n_in_y, size_t n_in_x, double complex *out,
                     size_t n_out_y, size_t n_out_x);
/* The same for a real input (a pupil without OPD), into a complex output. */
pp_status pp_fft_pad_real(const double *in, size_t n_in_y, size_t n_in_x, double complex *out,
                          size_t n_out_y, size_t n_out_x);
/* Copies the centred n_out_y × n_out_x part of in (n_out ≤ n_in) at offset
 * ((n_in − n_out)/2) per axis: the inverse of pp_fft_pad (POPPY's pad_or_crop_to_shape). */
pp_status pp_fft_crop(const double complex *in, size_t n_in_y, size_t n_in_x, double complex *out,
                      size_t n_out_y, size_t n_out_x);
/* Image pixel scale of a padded FFT in radians: λ/(D·fft_oversample), D the full width of the
 * unpadded pupil array (POPPY's Wavefront._propagate_fft). */
double pp_fft_image_pixelscale_rad(double wavelength_m, double pupil_diameter_m,
                                   double fft_oversample);
/* The smallest n ≥ minimum of the form 2^a·3^b·5^c·7^d (FFTW's fast sizes); 0 if minimum = 0
 * or there is none below SIZE_MAX. */
size_t pp_fft_fast_size(size_t minimum);

/* Loads FFTW wisdom (accumulated plans) from path into this process, before plans are made.
 * A missing file is not an error (*imported = false: the first run plans and may export);
 * a file that is not FFTW wisdom for this FFTW version and precision is PP_ERR_INPUT, an
 * unreadable one PP_ERR_IO. imported may be NULL. Not collective: in a run rank 0 imports and
 * hands its wisdom to the others as text (pp_fft_wisdom_export_string,
 * pp_fft_wisdom_replace_from_string; pp_propagation_setup). */
pp_status pp_fft_wisdom_import(const char *path, bool *imported);
/* Writes this process's wisdom to path, atomically (a temporary file renamed over path, so a
 * crash never leaves a truncated file). PP_ERR_IO on failure. Not collective: call it on one
 * rank. */
pp_status pp_fft_wisdom_export(const char *path);

/* ---- FFT over a group of ranks (FFTW-MPI, fft_mpi.c) --------------------------------------
 * One N × N padded propagation distributed over the ranks of a communicator (a scheduler's
 * rank group) with FFTW-MPI's slab decomposition: each rank holds rows [row0, row0 + nrows)
 * of the field before and after, and gets exactly what pp_fft_propagate gives on those rows
 * (same sign, shifts and 1/N scale). The shifts are (−1)^(y+x) modulations, which need no
 * data movement and are exact for even N only: odd N is refused (PP_ERR_INPUT). Plan once
 * per group and direction (collective), propagate per wavelength (collective, no allocation
 * in polypsf; FFTW-MPI's in-place transposes may take scratch of up to one slab inside
 * FFTW), destroy (collective). FFTW-MPI's solvers are registered once per process by
 * fftw_mpi_init, which create calls: state FFTW requires, guarded by FFTW itself. The planner
 * is not thread-safe: create and destroy from one thread. See docs/propagation.md. */
typedef struct pp_fft_mpi_plan pp_fft_mpi_plan;

/* Plans the in-place N × N DFT of sign direction over comm's ranks (comm is duplicated; the
 * caller may free its own). All ranks must pass the same n, direction and rigor (checked:
 * PP_ERR_INTERNAL on every rank otherwise). MEASURE and PATIENT time candidates and agree on
 * one plan across the group (FFTW-MPI's planner). Transient: one slab of
 * pp_fft_mpi_local_elements, freed before returning. Errors, on every rank alike: PP_ERR_INPUT
 * for N zero, odd or too large, PP_ERR_MEMORY, PP_ERR_LIBRARY when FFTW-MPI returns no plan,
 * PP_ERR_MPI. Collective on comm. */
pp_status pp_fft_mpi_plan_create(MPI_Comm comm, size_t n, pp_fft_direction direction,
                                 pp_fft_rigor rigor, pp_fft_mpi_plan **plan);
/* This rank's slab: global rows [*row0, *row0 + *nrows) (nrows may be 0 on some ranks, and
 * slabs may differ in size: FFTW-MPI blocks are ceil(N/ranks) rows). Either pointer may be
 * NULL. Not collective. */
void pp_fft_mpi_local_rows(const pp_fft_mpi_plan *plan, size_t *row0, size_t *nrows);
/* Elements an output slab must hold (FFTW-MPI's alloc_local, ≥ nrows·N: the transposed slab
 * may be larger on uneven decompositions); ≥ 1. Not collective. */
size_t pp_fft_mpi_local_elements(const pp_fft_mpi_plan *plan);
/* One propagation (see pp_fft_propagation) of this rank's rows: in_local [nrows][N] in,
 * out_local [nrows][N] out, out_local allocated with room for pp_fft_mpi_local_elements and
 * aligned like pp_array_alloc's (checked). in_local is preserved unless in_local == out_local
 * (allowed); other overlaps are refused. PUPIL_TO_IMAGE needs a PP_FFT_BACKWARD plan,
 * IMAGE_TO_PUPIL a PP_FFT_FORWARD one. The group agrees on the checks before FFTW's transform,
 * so a bad call on one rank fails on all of them instead of hanging. No allocation in
 * polypsf. Collective on the plan's group. */
pp_status pp_fft_mpi_propagate(const pp_fft_mpi_plan *plan, const double complex *in_local,
                               double complex *out_local, pp_fft_propagation propagation);
/* The plan's transform of this rank's rows with the array's centre (N/2, N/2) as origin on
 * both sides: out = fftshift(DFT(ifftshift(in))) / N, the DFT of the plan's direction (either;
 * a Fresnel field keeps its optical axis at (N/2, N/2) this way, docs/fresnel.md). Both
 * shifts are (−1)^(y+x) modulations (for even N, S·F·S = M·F·M), so no rows move. Slabs as
 * for pp_fft_mpi_propagate (in == out allowed). Collective on the plan's group. */
pp_status pp_fft_mpi_transform_centred(const pp_fft_mpi_plan *plan,
                                       const double complex *in_local,
                                       double complex *out_local);
/* Bytes one rank of a group of ranks needs for a plan of N × N, beyond the caller's own
 * slabs: one slab of ceil(N/ranks)·N complex (the planning slab during create, FFTW-MPI's
 * transpose scratch during a propagation). A group task's peak per rank is about this plus
 * ceil(N/ranks)·N·16 bytes per slab the caller holds. Not collective. */
size_t pp_fft_mpi_plan_bytes(size_t n, size_t ranks);
/* Releases the plan and its duplicated communicator; accepts NULL, sets *plan to NULL.
 * Collective on the plan's group (FFTW-MPI plan destruction and MPI_Comm_free are). */
void pp_fft_mpi_plan_destroy(pp_fft_mpi_plan **plan);

/* ---- chirp-z transform (Bluestein) ------------------------------------------------------
 * Computes exactly what the MFT computes (same centering, sign, normalization, any sizes,
 * nlamD per axis, forward and inverse; see the top of this header) with FFTs: separable 1-D
 * Bluestein transforms, along x for each row, then along y for each column (or the other way
 * round when that is cheaper), each a convolution with a chirp by FFTs of a fast length
 * ≥ n_in + n_out − 1. Cost O(n log n) per line instead of O(n_in·n_out). A plan holds its
 * scratch: one plan must not execute in two threads at once. */
typedef struct pp_czt_plan pp_czt_plan;

/* Allocates chirps, filters, scratch and FFTW plans for in[n_in_y][n_in_x] →
 * out[n_out_y][n_out_x]. Not collective (uses FFTW's planner: one thread at a time). */
pp_status pp_czt_plan_create(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x,
                             pp_mft_direction direction, pp_fft_rigor rigor, pp_czt_plan **plan);
/* Sets the field size in λ/D units per axis (as pp_mft_plan_set_nlamd) and recomputes the
 * chirps and the filters' spectra (no allocation). Must be called before the first execute. */
pp_status pp_czt_plan_set_nlamd(pp_czt_plan *plan, double nlamd_y, double nlamd_x);
/* out = MFT(in), computed by chirp-z. in and out must not overlap; no alignment required.
 * No allocation. Not collective. */
pp_status pp_czt_execute(pp_czt_plan *plan, const double complex *in, double complex *out);
/* Bytes held by a plan of these sizes (chirps, filter spectra, intermediate, line buffer;
 * FFTW's own twiddle tables, O(L), are not counted), for the memory model. */
size_t pp_czt_plan_bytes(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x);
/* Floating-point operations of one execute in the order the plan uses: FFTs at 5·L·log2(L),
 * complex multiplies at 6. */
double pp_czt_flops(size_t n_in_y, size_t n_in_x, size_t n_out_y, size_t n_out_x);
void pp_czt_plan_destroy(pp_czt_plan **plan);

/* ---- wisdom as text, planning rigor by name (wisdom.c) ---------------------------------- */

/* This process's FFTW wisdom as a NUL-terminated string (*text malloc'ed: free() it), for
 * sending to other ranks. PP_ERR_MEMORY when FFTW cannot make it. Not collective. */
pp_status pp_fft_wisdom_export_string(char **text);
/* Replaces this process's wisdom with text's (fftw_forget_wisdom, then import): every process
 * that imports the same text holds the same wisdom, built the same way, whatever it planned
 * before. Plans already made keep working. PP_ERR_INPUT when text is not FFTW wisdom for this
 * FFTW version and precision. Not collective. */
pp_status pp_fft_wisdom_replace_from_string(const char *text);
/* "estimate", "measure", "patient" (the job-file words of propagation.fft_rigor). */
const char *pp_fft_rigor_name(pp_fft_rigor rigor);

/* ---- threads per rank (threads.c) ------------------------------------------------------
 * FFTW's planner threads and OpenBLAS's threads for this process: the transforms (FFTW plans
 * made afterwards, the MFT's products) then run on that many threads; everything else stays
 * on the calling thread. Process-wide state of FFTW and OpenBLAS, not polypsf's; see
 * docs/propagation.md. Call from the thread that plans (FFTW's planner is not thread-safe). */
enum { PP_MAX_THREADS_PER_RANK = 1024 };
/* fftw_init_threads: once per process, before any other FFTW call and before fftw_mpi_init
 * (FFTW's order); repeated calls do nothing. PP_ERR_LIBRARY when FFTW cannot use threads.
 * Not collective. */
pp_status pp_threads_init(void);
/* Plans made from now on use `threads` FFTW threads, and OpenBLAS runs `threads` threads
 * (plans made before keep their count). Calls pp_threads_init. PP_ERR_INPUT for a count
 * outside 1..PP_MAX_THREADS_PER_RANK. Not collective. */
pp_status pp_threads_set(int threads);
/* The thread counts in force: FFTW's planner (fftw_planner_nthreads), OpenBLAS's. */
int pp_threads_fftw(void);
int pp_threads_blas(void);

/* ---- cost model: MFT or chirp-z (cost_model.c) -------------------------------------------
 * Predicted seconds of one wavelength's transform (its per-λ set-up and execute, one thread)
 * from rates measured on this machine, not from a fixed flop ratio:
 *   - zgemm and dgemm rates at a few square sizes; an MFT product runs at the rate of its
 *     smallest dimension, interpolated in log size (small products run far below peak);
 *   - the cost of one kernel exponential (pp_mft_plan_set_nlamd's cos + sin);
 *   - the cost of one chirp-z line at each FFT length L a job needs, measured on a plan with
 *     one batch of rows and one of columns at exactly that L. FFTW's speed depends on L's
 *     factors (per L·log2 L, 1280 runs 30 % slower than 1440 here), so lengths are measured,
 *     not interpolated, and accumulate in the cache like FFTW wisdom.
 * The predictions are pure functions of the rates: whoever holds the same rates predicts the
 * same. Timing happens only in pp_cost_calibrate and pp_cost_rates_cover. docs/propagation.md
 * gives the model, the cache file and the accuracy measured. */
enum {
  PP_COST_GEMM_SIZES = 5,    /* square sizes the BLAS rates are measured at */
  PP_COST_MAX_LENGTHS = 256  /* chirp-z line lengths a rates table holds */
};

typedef struct pp_cost_rates {
  char machine[512];                           /* what was measured: CPU, BLAS, threads, FFTW */
  double exp_seconds;                          /* one kernel exponential (cos and sin) */
  size_t gemm_size[PP_COST_GEMM_SIZES];        /* increasing */
  double zgemm_flops_per_s[PP_COST_GEMM_SIZES];/* complex product, 8 flops per multiply-add */
  double dgemm_flops_per_s[PP_COST_GEMM_SIZES];/* real product, 2 flops per multiply-add */
  size_t n_lengths;
  size_t length[PP_COST_MAX_LENGTHS];          /* chirp-z FFT lengths L, increasing */
  double czt_line_seconds[PP_COST_MAX_LENGTHS];/* one line of length L: chirps, FFT pair, filter */
} pp_cost_rates;

/* This process's machine key: CPU model, OpenBLAS configuration and thread count, FFTW
 * version and planner thread count. A cache measured under another key is measured again.
 * Not collective. */
void pp_cost_machine(char *key, size_t bytes);

/* True when OpenBLAS fell back to kernels older than this CPU (an unknown CPU model, as in
 * many virtual machines): `advice` then says so and which OPENBLAS_CORETYPE to set. The
 * kernels are chosen when OpenBLAS loads, so a running program cannot change them. Not
 * collective. */
bool pp_blas_kernel_advice(char *advice, size_t bytes);
/* Measures this machine (≤ 0.5 s, with whatever BLAS threading the process has; polypsf runs
 * one thread): the BLAS rates, the exponential, and chirp-z lines at a few lengths. Creates
 * FFTW_ESTIMATE plans (which add ESTIMATE wisdom). Not collective: one rank measures, the
 * others receive its results. */
pp_status pp_cost_calibrate(pp_cost_rates *rates);
/* Measures the chirp-z line lengths a transform in[n_in_y][n_in_x] → out[n_out_y][n_out_x]
 * needs and rates lacks, and adds them; *added (may be NULL) counts them. When the table is
 * full a length is not added and predictions interpolate it. Not collective. */
pp_status pp_cost_rates_cover(pp_cost_rates *rates, size_t n_in_y, size_t n_in_x, size_t n_out_y,
                              size_t n_out_x, size_t *added);
/* Rates measured on the development machine (docs/propagation.md), for library calls that
 * resolve `auto` without a calibration (pp_system_create): deterministic, no timing. */
const pp_cost_rates *pp_cost_rates_nominal(void);

/* Predicted seconds of one wavelength by the MFT (pp_mft_plan_set_nlamd + execute, real_input:
 * pp_mft_execute_real) and by the chirp-z (pp_czt_plan_set_nlamd + execute, complex input).
 * A chirp-z length missing from rates is interpolated from the nearest measured ones. */
double pp_cost_mft_seconds(const pp_cost_rates *rates, size_t n_in_y, size_t n_in_x,
                           size_t n_out_y, size_t n_out_x, bool real_input);
double pp_cost_czt_seconds(const pp_cost_rates *rates, size_t n_in_y, size_t n_in_x,
                           size_t n_out_y, size_t n_out_x);

/* Predicted seconds of one n × n 2-D FFT (2n lines of length n, from the chirp-z line rates):
 * the padded FFT planes' cost, against which the MFT coronagraph methods are weighed. */
double pp_cost_fft2d_seconds(const pp_cost_rates *rates, size_t n);

/* The calibration cache, a small text file (format in docs/propagation.md).
 * Where it lives by default: $XDG_CACHE_HOME/polypsf/calibration.txt when XDG_CACHE_HOME is an
 * absolute path, else $HOME/.cache/polypsf/calibration.txt; with more than one OpenBLAS or FFTW
 * thread (the process's counts now) the file is calibration-blas<B>-fftw<F>.txt beside it, since
 * the rates depend on them. PP_ERR_INPUT when neither is set or the path does not fit in bytes.
 * Not collective. */
pp_status pp_cost_default_path(char *path, size_t bytes);
/* Reads a cache. PP_ERR_IO when it cannot be opened (errno ENOENT: missing), PP_ERR_INPUT with
 * path:line and the reason when it is not a complete, valid cache. Does not check the machine
 * key (compare rates->machine with pp_cost_machine). Not collective. */
pp_status pp_cost_rates_read(const char *path, pp_cost_rates *rates);
/* Writes a cache atomically (a temporary file renamed over path), creating the directories
 * above it. PP_ERR_IO on failure. Not collective. */
pp_status pp_cost_rates_write(const char *path, const pp_cost_rates *rates);

/* What pp_cost_rates_load did, for the log. */
typedef struct pp_cost_load_report {
  bool from_cache;          /* the cache was read and used as it was */
  bool measured;            /* the machine was measured (see reason) */
  double measure_seconds;   /* time spent measuring */
  bool written;             /* the cache was (re)written */
  char path[4096];          /* the cache used ("" when there is none: no HOME) */
  char reason[768];         /* why it was measured, or why it could not be written: a sentence */
} pp_cost_load_report;

/* The rates for this machine: read from the cache at path (NULL: pp_cost_default_path);
 * measured (pp_cost_calibrate) and written back when the cache is missing, corrupt, from
 * another machine key, or when recalibrate is set. A cache that cannot be written is not an
 * error (report->reason says why; the measured rates are used). Not collective. */
pp_status pp_cost_rates_load(const char *path, bool recalibrate, pp_cost_rates *rates,
                             pp_cost_load_report *report);

/* ---- Fresnel steps (fresnel_steps.c): POPPY's FresnelWavefront propagators ---------------
 * On a square n × n field (n even) whose optical axis is element (0, 0) (POPPY's fftshifted
 * layout inside propagate_fresnel; pp_fresnel_fftshift moves it there and back). Unitary
 * FFTs (POPPY's: FFTW's transform / n); docs/fresnel.md. Not collective. */

/* POPPY's _propagate_ptp skips steps shorter than 1 Å. */
#define PP_FRESNEL_MIN_STEP_M 1.0e-10

/* One forward and one backward n × n plan, made once and reused for every wavelength, and a
 * row of scratch for the separable phases (n doubles, n complex). On one rank the plans are
 * the 1-D pass engine's (fft_engine: passes, n even) or FFTW's 2-D ones and the field is all
 * n rows; over a rank group (FFTW-MPI) each rank holds
 * rows [row0, row0 + nrows) in a slab of local_elements, and the field stays with its axis at
 * (n/2, n/2) throughout: the steps' FFTs are then pp_fft_mpi_transform_centred, the same
 * numbers as the serial fftshift, FFT, fftshift but for the FFTs' rounding. */
typedef struct pp_fresnel_plans {
  size_t n;
  pp_fft_passes *passes_forward, *passes_backward;  /* one rank, fft_engine passes */
  pp_fft_plan *forward, *backward;                  /* one rank, fftw2d (or n odd) */
  pp_fft_mpi_plan *group_forward, *group_backward;  /* a rank group; NULL on one rank */
  size_t row0, nrows;                               /* this rank's rows: 0 and n on one rank */
  size_t local_elements;                            /* a field slab's size: n² on one rank */
  double *axis;
  double complex *row;
} pp_fresnel_plans;
/* passes: the 1-D pass engine where n is even (job: fft_engine passes), else 2-D plans. */
pp_status pp_fresnel_plans_create(size_t n, pp_fft_rigor rigor, bool passes,
                                  pp_fresnel_plans *plans);
/* The plans of one rank of group (FFTW-MPI, n even). Collective on group; every rank returns
 * the same status. pp_fresnel_plans_destroy of them is collective too. */
pp_status pp_fresnel_plans_create_group(MPI_Comm group, size_t n, pp_fft_rigor rigor,
                                        pp_fresnel_plans *plans);
bool pp_fresnel_plans_ready(const pp_fresnel_plans *plans);
void pp_fresnel_plans_destroy(pp_fresnel_plans *plans);
/* Swaps diagonal quadrants: centre (n/2, n/2) ↔ (0, 0) (numpy's fftshift for even n). */
void pp_fresnel_fftshift(double complex *field, size_t n);
/* Before and after a propagation: pp_fresnel_fftshift on one rank, nothing on a group (its
 * transforms are centred). */
void pp_fresnel_to_fft_layout(const pp_fresnel_plans *plans, double complex *field);
/* Multiplies by POPPY's QuadPhase(radius_m): exp(i·(2π/λ)·r²/(2·radius)), r from the axis,
 * the axis at (0, 0) (axis_at_origin) or at (n/2, n/2); nothing for an infinite radius.
 * Separable (x and y phasors multiplied, in the plans' scratch row). */
pp_status pp_fresnel_quadratic_phase(const pp_fresnel_plans *plans, double complex *field,
                                     size_t n, bool axis_at_origin, double pixelscale_m,
                                     double wavelength_m, double radius_m);
/* Angular spectrum plane to plane over dz_m (any sign): FFT, exp(−iπλ·dz·ρ²), inverse FFT.
 * Pixel scale unchanged; energy conserved. |dz| < 1 Å does nothing. */
pp_status pp_fresnel_plane_to_plane(const pp_fresnel_plans *plans, double complex *field,
                                    size_t n, double pixelscale_m, double wavelength_m,
                                    double dz_m);
/* Waist to spherical reference surface: QuadPhase(dz), then one FFT (backward for dz > 0);
 * *pixelscale_m becomes λ·|dz|/(n·pixelscale). dz = 0 does nothing. */
pp_status pp_fresnel_waist_to_spherical(const pp_fresnel_plans *plans, double complex *field,
                                        size_t n, double *pixelscale_m, double wavelength_m,
                                        double dz_m);
/* Spherical reference surface to waist: one FFT (backward for dz > 0), the new pixel scale
 * λ·|dz|/(n·pixelscale), then QuadPhase(dz) on it. dz = 0 does nothing. */
pp_status pp_fresnel_spherical_to_waist(const pp_fresnel_plans *plans, double complex *field,
                                        size_t n, double *pixelscale_m, double wavelength_m,
                                        double dz_m);

#ifdef __cplusplus
}
#endif
#endif
