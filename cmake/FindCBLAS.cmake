# FindCBLAS: OpenBLAS through its CBLAS interface (cblas_zgemm), found with pkg-config.
# Defines CBLAS::cblas.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_OPENBLAS QUIET openblas)
endif()
find_path(CBLAS_INCLUDE_DIR cblas.h HINTS ${PC_OPENBLAS_INCLUDE_DIRS}
  PATH_SUFFIXES openblas openblas-pthread)
find_library(CBLAS_LIBRARY openblas HINTS ${PC_OPENBLAS_LIBRARY_DIRS})
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CBLAS REQUIRED_VARS CBLAS_LIBRARY CBLAS_INCLUDE_DIR
  FAIL_MESSAGE "OpenBLAS (cblas_zgemm) not found: install libopenblas-dev")
if(CBLAS_FOUND AND NOT TARGET CBLAS::cblas)
  add_library(CBLAS::cblas UNKNOWN IMPORTED)
  set_target_properties(CBLAS::cblas PROPERTIES IMPORTED_LOCATION "${CBLAS_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CBLAS_INCLUDE_DIR}")
endif()
