/* Telling FITS from HDF5 from anything else by a file's first bytes (formats_sniff.h). */
#include "formats/formats_sniff.h"

#include <stdbool.h>
#include <string.h>

/* HDF5's superblock signature sits at byte 0 or, after a user block, at 512·2^k. */
static bool pp_formats_has_hdf5_signature(FILE *file, long long size_bytes) {
  static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  for (long long offset = 0; offset + 8 <= size_bytes; offset = offset ? 2 * offset : 512) {
    unsigned char head[8];
    if (fseek(file, (long)offset, SEEK_SET) != 0 || fread(head, 1, 8, file) != 8) return false;
    if (memcmp(head, signature, 8) == 0) return true;
  }
  return false;
}

pp_file_kind pp_formats_sniff(FILE *file, long long size_bytes) {
  unsigned char head[9] = {0};
  if (fseek(file, 0, SEEK_SET) != 0) return PP_FILE_KIND_OTHER;
  size_t got = fread(head, 1, sizeof head, file);
  /* Every FITS file starts with the card "SIMPLE  ="; cfitsio also reads gzip'ed FITS. */
  if (got == sizeof head && memcmp(head, "SIMPLE  =", 9) == 0) return PP_FILE_KIND_FITS;
  if (got >= 2 && head[0] == 0x1f && head[1] == 0x8b) return PP_FILE_KIND_FITS_GZIP;
  if (pp_formats_has_hdf5_signature(file, size_bytes)) return PP_FILE_KIND_HDF5;
  return PP_FILE_KIND_OTHER;
}
