/* polypsf complex values: <complex.h> with C11's CMPLX on every compiler polypsf builds with.
 *
 * glibc defines CMPLX only where __GNUC_PREREQ(4, 7) holds; clang reports itself as GCC 4.2,
 * so under clang the C11 macro is missing although the compiler has the builtin it needs.
 * CMPLX (not x + I*y) keeps a signed zero or an infinite part exactly as given. */
#ifndef POLYPSF_COMPLEX_VALUE_H
#define POLYPSF_COMPLEX_VALUE_H

#include <complex.h>

#ifndef CMPLX
#define CMPLX(x, y) __builtin_complex((double)(x), (double)(y))
#endif

#endif
