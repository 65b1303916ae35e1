# FindFFTW3: double-precision FFTW3 with its MPI layer (Debian ships no CMake config).
# Defines FFTW3::fftw3, FFTW3::fftw3_mpi and FFTW3::fftw3_threads (threads inside a rank).
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_FFTW3 QUIET fftw3)
endif()
find_path(FFTW3_INCLUDE_DIR fftw3.h HINTS ${PC_FFTW3_INCLUDE_DIRS})
find_path(FFTW3_MPI_INCLUDE_DIR fftw3-mpi.h HINTS ${PC_FFTW3_INCLUDE_DIRS})
find_library(FFTW3_LIBRARY fftw3 HINTS ${PC_FFTW3_LIBRARY_DIRS})
find_library(FFTW3_MPI_LIBRARY fftw3_mpi HINTS ${PC_FFTW3_LIBRARY_DIRS})
find_library(FFTW3_THREADS_LIBRARY fftw3_threads HINTS ${PC_FFTW3_LIBRARY_DIRS})
find_package(Threads REQUIRED)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(FFTW3
  REQUIRED_VARS FFTW3_LIBRARY FFTW3_MPI_LIBRARY FFTW3_THREADS_LIBRARY FFTW3_INCLUDE_DIR
    FFTW3_MPI_INCLUDE_DIR
  FAIL_MESSAGE "FFTW3 with fftw3_mpi and fftw3_threads not found: install libfftw3-dev libfftw3-mpi-dev")
if(FFTW3_FOUND AND NOT TARGET FFTW3::fftw3)
  add_library(FFTW3::fftw3 UNKNOWN IMPORTED)
  set_target_properties(FFTW3::fftw3 PROPERTIES IMPORTED_LOCATION "${FFTW3_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${FFTW3_INCLUDE_DIR}")
  add_library(FFTW3::fftw3_mpi UNKNOWN IMPORTED)
  set_target_properties(FFTW3::fftw3_mpi PROPERTIES IMPORTED_LOCATION "${FFTW3_MPI_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${FFTW3_MPI_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "FFTW3::fftw3;MPI::MPI_C")
  add_library(FFTW3::fftw3_threads UNKNOWN IMPORTED)
  set_target_properties(FFTW3::fftw3_threads PROPERTIES IMPORTED_LOCATION "${FFTW3_THREADS_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${FFTW3_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "FFTW3::fftw3;Threads::Threads")
endif()
