/* polypsf: telescope and coronagraph PSFs by physical-optics propagation over MPI ranks
 * into one parallel HDF5 file. The umbrella header: include this one. */
#ifndef POLYPSF_H
#define POLYPSF_H

#include "polypsf/analysis.h"
#include "polypsf/core.h"
#include "polypsf/formats.h"
#include "polypsf/io.h"
#include "polypsf/job.h"
#include "polypsf/optics.h"
#include "polypsf/propagate.h"
#include "polypsf/sched.h"
#include "polypsf/system.h"

#endif
