/* FFTW wisdom as text, so that one rank can hand its wisdom to the others (an MPI broadcast
 * of a string), and the names of the planning rigors.
 *
 * Why replace instead of merge: FFTW's wisdom is a hash table, and a process that planned
 * something before (rank 0 calibrating, say) holds entries the others lack, inserted in another
 * order. Forgetting everything and importing the one text gives every process the same table,
 * built the same way, so the same problem is looked up to the same solution everywhere.
 * Global state: the wisdom is FFTW's process-wide table (state FFTW requires); polypsf keeps
 * none. The planner is not thread-safe: call these from one thread. */
#include <complex.h> /* before fftw3.h: fftw_complex is then double complex */
#include <fftw3.h>

#include "polypsf/propagate.h"

#include <stdlib.h>

pp_status pp_fft_wisdom_export_string(char **text) {
  PP_CHECK(text != NULL, PP_ERR_INTERNAL, "pp_fft_wisdom_export_string needs an output");
  *text = fftw_export_wisdom_to_string();
  PP_CHECK(*text != NULL, PP_ERR_MEMORY, "FFTW could not write its wisdom to a string");
  return PP_SUCCESS;
}

pp_status pp_fft_wisdom_replace_from_string(const char *text) {
  PP_CHECK(text != NULL, PP_ERR_INTERNAL, "pp_fft_wisdom_replace_from_string needs a text");
  fftw_forget_wisdom();
  PP_CHECK(fftw_import_wisdom_from_string(text) != 0, PP_ERR_INPUT,
           "the FFTW wisdom received is not wisdom for this FFTW (%s, double precision)",
           fftw_version);
  return PP_SUCCESS;
}

const char *pp_fft_rigor_name(pp_fft_rigor rigor) {
  switch (rigor) {
    case PP_FFT_ESTIMATE: return "estimate";
    case PP_FFT_MEASURE: return "measure";
    case PP_FFT_PATIENT: return "patient";
  }
  return "unknown";
}
