/* Private to src/io: writing a file under a temporary name and renaming it into place, for
 * the FITS export and the PNG preview. Never installed. */
#ifndef POLYPSF_IO_FILE_STAGE_H
#define POLYPSF_IO_FILE_STAGE_H

#ifndef POLYPSF_IO_PACKAGE
#error "file_stage.h is private to src/io"
#endif

#include <stdbool.h>

#include "polypsf/core.h"

/* A file being written: `file_path` inside a private directory made beside the final name
 * (".<name>.partial-XXXXXX", mode 0700), so its name is unique, no other process can
 * collide with it, and the file itself is created with the usual permissions (umask). */
typedef struct pp_io_stage {
  char *final_path;
  char *dir_path;  /* the private directory */
  char *file_path; /* dir_path/<final name>: write here */
} pp_io_stage;

/* Checks final_path (not a directory; not the file input_path names, under any name, when
 * input_path is not NULL; its directory exists and is writable; unless force, nothing there
 * yet) and makes the private directory. PP_ERR_INPUT for the checks, with `what` naming the
 * file's kind in the message ("FITS file"); PP_ERR_IO when the directory cannot be made. On
 * error the stage is left empty. Not collective. */
pp_status pp_io_stage_begin(const char *final_path, const char *input_path, bool force,
                            const char *what, pp_io_stage *stage);
/* Syncs the written file to storage and gives it its final name: rename(2) with force
 * (atomic replacement), link(2) + unlink(2) without, which refuses (PP_ERR_INPUT) if a
 * file appeared at the final name meanwhile; then syncs the directory and removes the
 * private one. The stage is emptied whatever happens; on error nothing is left behind. */
pp_status pp_io_stage_publish(pp_io_stage *stage, bool force);
/* Removes the file and the private directory, empties the stage (accepts an empty one). */
void pp_io_stage_abort(pp_io_stage *stage);

#endif
