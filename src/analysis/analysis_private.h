/* Private to src/analysis: the argument checks the helpers share. */
#ifndef POLYPSF_ANALYSIS_PRIVATE_H
#define POLYPSF_ANALYSIS_PRIVATE_H

#include "polypsf/analysis.h"

/* PP_ERR_INPUT unless image is non-NULL, has values and is not empty (and ny·nx fits). */
pp_status pp_analysis_check_image(const pp_image *image);

#endif
