/* Whether OpenBLAS runs kernels older than the CPU it runs on (propagate.h).
 *
 * Why: OpenBLAS (Debian's 0.3.21, DYNAMIC_ARCH) picks its kernels from the CPU's model
 * number. A virtual machine often reports a model OpenBLAS does not know (here "Intel(R)
 * Xeon(R) Processor"), and OpenBLAS then falls back to its Prescott (SSE3) kernels although
 * the CPU has AVX2 and AVX-512: every zgemm of an MFT, a semi-analytic coronagraph's box
 * transforms, runs 2–4× slower (measured here: 0.70 s against 0.17 s for four wavelengths
 * of a semi-analytic Lyot). The choice is made when the library loads, before main(), so
 * polypsf can only say so; OPENBLAS_CORETYPE=<kernel> in the environment fixes it. */
#include <cblas.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "polypsf/propagate.h"

bool pp_blas_kernel_advice(char *advice, size_t bytes) {
  if (bytes > 0) advice[0] = '\0';
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  const char *core = openblas_get_corename();
  if (!core) return false;
  /* OpenBLAS's fallbacks for CPUs it does not recognise, all older than AVX2 */
  static const char *const generic[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem",
                                        "Atom", "Katmai", "Coppermine", "Northwood", NULL};
  bool fallback = false;
  for (int k = 0; generic[k]; k++) fallback = fallback || strcasecmp(core, generic[k]) == 0;
  __builtin_cpu_init();
  if (!fallback || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    return false;
  bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  snprintf(advice, bytes,
           "OpenBLAS runs its %s kernels, but this CPU has AVX2%s: matrix products (the MFT, "
           "semi-analytic coronagraphs) run several times slower than they could; set "
           "OPENBLAS_CORETYPE=%s in the environment of every rank (docs/performance.md)",
           core, avx512 ? " and AVX-512" : "", avx512 ? "SkylakeX" : "Haswell");
  return true;
#else
  return false;
#endif
}
