/* Private to src/io: HDF5 helpers shared by the writer (output.c) and the reader
 * (output_read.c). Never installed; other modules use include/polypsf/io.h only. */
#ifndef POLYPSF_IO_PRIVATE_H
#define POLYPSF_IO_PRIVATE_H

#ifndef POLYPSF_IO_PACKAGE
#error "io_private.h is private to src/io; include polypsf/io.h instead"
#endif

#include <hdf5.h>
#include <mpi.h>
#include <sys/types.h>

#include "formats/formats_hdf5.h"
#include "polypsf/core.h"
#include "polypsf/io.h"

/* The attribute of /grid that says its psf holds blurred PSFs, not the points' sums
 * (pp_output_grid_mark_rewritten): a resume then computes every point again. */
#define PP_IO_GRID_REWRITTEN "psf_rewritten_by_finish"

/* The datasets of /grid that are written image by image: "psf", "psf_detector", "cube". */
enum { PP_IO_GRID_DATASETS = 3 };

/* Value of /provenance/tasks.method for a row whose slice is not written yet. */
enum { PP_IO_METHOD_NONE = -1 };

/* The in-memory compound type of one pp_task_record (method as an HDF5 enum with the
 * names of pp_method plus "none"). The caller closes it. Not collective. */
pp_status pp_io_task_memtype_create(hid_t *type);

/* Root and dataset attributes. In parallel HDF5 attributes are metadata: every rank must
 * make the same call with the same value. Strings are variable-length UTF-8, so a long
 * job text does not hit the 64 KiB object-header limit of fixed-size attributes. */
pp_status pp_io_attr_write_string(hid_t object, const char *name, const char *value);
pp_status pp_io_attr_write_double(hid_t object, const char *name, double value);
pp_status pp_io_attr_write_int64(hid_t object, const char *name, long long value);
pp_status pp_io_attr_write_int64_array(hid_t object, const char *name, const long long *values,
                                       size_t count);

/* Writes the whole 1-D dataset of out->n_wavelengths elements from rank 0's buffer; the other
 * ranks take part in the collective transfer with an empty selection. Collective. */
pp_status pp_io_write_from_root(const pp_output *out, hid_t dataset, hid_t mem_type,
                                const void *data, const char *name);

/* Rewrites an existing int64 attribute (same type and shape); for values a resumed run
 * updates. Every rank must make the same call with the same value. */
pp_status pp_io_attr_update_int64(hid_t object, const char *name, long long value);

/* The method and normalization words (as in the job file; "none" = method not yet known)
 * used in attributes and in the provenance enum; NULL for a value out of range. */
const char *pp_io_method_name(int method);
const char *pp_io_normalize_name(int normalize);

/* ---- guards against other processes and failing storage (output_guard.c) ------------ */

/* The lock on <output>.lock that one run holds from its first check of the output until
 * it has published, kept or removed the .partial file (rank 0 only; fd −1: none). */
typedef struct pp_io_lock {
  int fd;
  char *path;
} pp_io_lock;

/* Takes the lock of output_path, or refuses (PP_ERR_INPUT, naming the holder's process and
 * host from the lock file) when another run holds it; PP_ERR_IO when the lock file cannot
 * be made. A file system without locking leaves lock->fd at −1 and succeeds. Rank 0 only. */
pp_status pp_io_lock_take(const char *output_path, pp_io_lock *lock);
/* Removes the lock file and releases the lock (accepts a lock not taken). */
void pp_io_lock_release(pp_io_lock *lock);

/* Records which file out->partial_path is (device and inode) right after this run created
 * or opened it. Rank 0 only. */
void pp_io_output_remember_partial(pp_output *out);
/* PP_ERR_IO, naming the file, when out->partial_path was deleted or replaced since then.
 * Rank 0 only. */
pp_status pp_io_output_check_partial_present(const pp_output *out);

enum { PP_IO_REASON_BYTES = 256 };
/* Why a write to `path` (or the creation of it) may have failed, as the file system states
 * it, for appending to a message: ": No space left on device (N bytes free on its file
 * system)", ": Read-only file system", ": No such file or directory (no file by that name any
 * more: deleted?)", or "" when it says nothing. Fills and returns reason. Not collective. */
const char *pp_io_storage_reason(const char *path, char reason[PP_IO_REASON_BYTES]);

/* ---- the open output: shared by output.c (create, write, sync, close) and
 * output_resume.c (open a .partial file again) ------------------------------------- */

struct pp_output {
  MPI_Comm comm; /* our own duplicate, so our collectives never match the caller's */
  int rank;
  bool force;
  bool partial_created; /* the .partial file is ours: rank 0 removes it on DISCARD */
  pp_io_lock lock;      /* rank 0: held until the file is published, kept or removed */
  bool partial_known;   /* rank 0: partial_dev/partial_ino say which file we write */
  dev_t partial_dev;
  ino_t partial_ino;
  char *final_path;
  char *partial_path;
  size_t n_wavelengths;
  size_t ny, nx;                   /* /psf and each /cube slice */
  size_t detector_ny, detector_nx; /* /psf_detector */
  size_t oversample;
  bool has_cube;
  /* [n_wavelengths], identical on every rank: 1 once the slice is on storage and its
   * /status/completed flag set (pp_output_sync, close). All 0 at create; read from the
   * file at resume. */
  unsigned char *completed_flags;
  /* [n_wavelengths], this rank only: slices it wrote since the last commit. */
  unsigned char *pending_flags;

  hid_t file;
  hid_t dxpl_collective;
  hid_t task_memtype;
  hid_t psf, psf_detector, cube, completed, tasks;
  /* Dataspaces made once and only re-selected by the per-slice calls (write_slice,
   * read_cube_rows), so those allocate nothing. */
  hid_t cube_space, slice_memspace, completed_space, tasks_space, element_memspace;
  /* A PSF grid's images, opened once by pp_output_grid_create (opening a dataset costs more
   * than writing a 128 KiB image into it): pp_io_grid_dataset_names order. */
  hid_t grid_datasets[3];
  /* output.planes: one dataset per plane, /planes/<index>_<name>, with its file space
   * and one-slice memory space made once; the conversion buffer holds the largest plane
   * (one double a pixel for intensity, two for the pairs), so a plane write allocates
   * nothing. */
  size_t n_planes;
  pp_plane_info *plane_info;          /* [n_planes] */
  hid_t *plane_datasets, *plane_spaces, *plane_memspaces; /* [n_planes] each */
  hid_t plane_memtype;                /* double, or the {r, i} / {amplitude, phase_rad} pair */
  pp_plane_quantity plane_quantity;
  double *plane_buffer;               /* computing ranks: pp_output_prepare_plane_writes */
  size_t plane_buffer_count;          /* its doubles */
};

/* A contiguous dataset, allocated at creation and never filled (every byte is written).
 * Collective (metadata). */
pp_status pp_output_dataset_create(hid_t location, const char *name, hid_t file_type,
                                   int ndims, const hsize_t *dims, hid_t *dataset);

/* The description must make sense; a failure here is a bug in the caller. Not collective. */
pp_status pp_io_output_check_meta(const pp_output_meta *meta);
/* All ranks were given the same path, force and description (a hash compared with one
 * Allreduce; PP_ERR_INTERNAL when they differ). Collective; same status on every rank. */
pp_status pp_io_output_check_ranks_agree(MPI_Comm comm, const char *path,
                                         const pp_output_meta *meta, bool force);
/* The final path is usable: not a directory, in an existing writable directory, and (unless
 * force) nothing there yet. Run by rank 0 only. */
pp_status pp_io_output_check_path(const char *path, bool force);
/* How a file on disk relates to the job about to run (output_match.c). */
typedef enum {
  PP_RESUME_SAME_JOB,  /* a polypsf-psf file of this format version, for this job */
  PP_RESUME_FOREIGN,   /* not a polypsf-psf file, or another format version */
  PP_RESUME_OTHER_JOB  /* a polypsf-psf file written for another job */
} pp_resume_match;

enum { PP_IO_WHY_BYTES = 512 };

/* Whether the open file was written by this job. Checked in this order, the first
 * difference going into `why`: format name and version, job text, wavelengths, weights,
 * /psf shape, pixel scale, pupil width. Errors only when memory runs out. Not collective. */
pp_status pp_io_output_compare(hid_t file, const char *path, const pp_output_meta *meta,
                               pp_resume_match *match, char why[PP_IO_WHY_BYTES]);
/* Run without --resume and without --force: refuses (PP_ERR_INPUT) when `partial`
 * (pp_output_temp_path(path)) holds finished slices, which a fresh start would lose, saying
 * how many and which options keep or discard them (output_match.c). Rank 0 only. */
pp_status pp_io_output_check_partial(const char *path, const char *partial,
                                     const pp_output_meta *meta);
/* A pp_output with every id invalid, no communicator, names and flag arrays allocated.
 * Not collective. */
pp_status pp_io_output_alloc(const char *path, const pp_output_meta *meta, bool force,
                             pp_output **output);
/* The collective transfer property list and the task record type. Not collective. */
pp_status pp_io_output_make_transfer_objects(pp_output *out);
/* The dataspaces the per-slice calls re-select. Not collective. */
pp_status pp_io_output_make_slice_spaces(pp_output *out);
/* Closes every HDF5 object, the file last. Collective when the file is open (H5Fclose):
 * every rank calls it at the same point. Returns false if any close failed. */
bool pp_io_output_close_objects(pp_output *out);
/* Ends an open output as pp_output_close_as does (mode agreed over ranks, commit, close,
 * publish, keep or discard) and frees it. Collective on out->comm. */
pp_status pp_io_output_finish(pp_output *out, pp_output_close_mode mode);
/* Frees the struct and its communicator; HDF5 objects must be closed already. */
void pp_io_output_free(pp_output *out);
/* Gives out its own duplicate of comm and its rank there. Collective on comm: every rank
 * returns the same status (on failure out->comm is MPI_COMM_NULL). */
pp_status pp_io_output_attach_comm(pp_output *out, MPI_Comm comm);

/* The in-memory type of one plane element for quantity (the caller closes it): native
 * double, or a compound of two doubles {r, i} or {amplitude, phase_rad}. Not collective. */
pp_status pp_io_plane_memtype_create(pp_plane_quantity quantity, hid_t *type);
/* Opens (resume) the plane datasets of meta in out->file and makes their spaces. */
pp_status pp_io_output_open_planes(pp_output *out, const pp_output_meta *meta);
pp_status pp_io_attr_write_double_array(hid_t object, const char *name, const double *values,
                                        size_t count);

/* ---- serial reading helpers (output_read.c) ----------------------------------------- */

/* Shape of dataset `name` (1 to 3 dimensions; unused extents 1). PP_ERR_IO when there is
 * no such dataset, PP_ERR_INPUT when it has more dimensions. */
pp_status pp_io_dataset_shape(hid_t file, const char *path, const char *name, int *ndims,
                              size_t dims[3]);
/* Reads the whole of dataset `name`, `count` elements converted to mem_type, into data
 * (PP_ERR_INPUT when it does not hold exactly count elements). */
pp_status pp_io_read_whole(hid_t file, const char *path, const char *name, hid_t mem_type,
                           size_t count, void *data);

#endif
