/* What kind of file a user gave, told by its first bytes, never by its name: one sniffer
 * for every reader of users' files (maps, spectra), so a misnamed file is still read as what
 * it is and every reader agrees on what FITS and HDF5 look like. Internal to libpolypsf. */
#ifndef POLYPSF_FORMATS_SNIFF_H
#define POLYPSF_FORMATS_SNIFF_H

#include <stdio.h>

typedef enum {
  PP_FILE_KIND_OTHER = 0, /* neither FITS nor HDF5 (text, or something unknown) */
  PP_FILE_KIND_FITS,      /* starts with the card "SIMPLE  =" */
  PP_FILE_KIND_FITS_GZIP, /* gzip's magic bytes: cfitsio reads gzip'ed FITS */
  PP_FILE_KIND_HDF5       /* HDF5's superblock signature at 0 or 512·2^k (after a user block) */
} pp_file_kind;

/* Reads from the open `file` (of size_bytes) to tell its kind; the position afterwards is
 * unspecified (rewind before reading it as text). Not collective. */
pp_file_kind pp_formats_sniff(FILE *file, long long size_bytes);

#endif
