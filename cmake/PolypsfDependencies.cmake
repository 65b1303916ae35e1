# The libraries libpolypsf links, as imported targets: MPI::MPI_C, HDF5::HDF5 (parallel),
# CBLAS::cblas, FFTW3::fftw3, FFTW3::fftw3_mpi, FFTW3::fftw3_threads, YAML::yaml,
# PkgConfig::CFITSIO, PkgConfig::PNG.
#
# Included by polypsf's own build (CMakeLists.txt) and, installed beside it, by the package's
# polypsf-config.cmake, so that a project using the installed polypsf finds the same
# libraries the same way. Within find_package(polypsf) a missing library makes polypsf not
# found (find_dependency passes the caller's REQUIRED or QUIET on, and this file stops at the
# first one missing: the config checks polypsf_FOUND after including it); in polypsf's build
# every one is required.
if(CMAKE_FIND_PACKAGE_NAME STREQUAL "polypsf")
  include(CMakeFindDependencyMacro)
  macro(pp_find_dependency)
    find_dependency(${ARGN})
  endmacro()
  set(pp_pkg_config_mode QUIET)
else()
  macro(pp_find_dependency)
    find_package(${ARGN} REQUIRED)
  endmacro()
  set(pp_pkg_config_mode REQUIRED)
endif()

# Stops this file with polypsf not found (in a package config) or the build with an error.
macro(pp_dependency_missing message)
  if(pp_pkg_config_mode STREQUAL "QUIET")
    set(polypsf_FOUND FALSE)
    set(polypsf_NOT_FOUND_MESSAGE "${message}")
    return()
  endif()
  message(FATAL_ERROR "${message}")
endmacro()

pp_find_dependency(MPI COMPONENTS C)
set(HDF5_PREFER_PARALLEL TRUE)
pp_find_dependency(HDF5 COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  pp_dependency_missing("The HDF5 found (${HDF5_C_LIBRARIES}) is serial; polypsf needs "
                        "parallel HDF5 built with MPI. On Debian: apt-get install libhdf5-openmpi-dev")
endif()
pp_find_dependency(CBLAS)
pp_find_dependency(FFTW3)
pp_find_dependency(YAML)
pp_find_dependency(PkgConfig)
if(NOT TARGET PkgConfig::CFITSIO)
  pkg_check_modules(CFITSIO ${pp_pkg_config_mode} IMPORTED_TARGET cfitsio)   # FITS maps and export
endif()
if(NOT TARGET PkgConfig::PNG)
  pkg_check_modules(PNG ${pp_pkg_config_mode} IMPORTED_TARGET libpng)        # PNG previews
endif()
if(NOT TARGET PkgConfig::CFITSIO OR NOT TARGET PkgConfig::PNG)
  pp_dependency_missing("polypsf needs cfitsio and libpng (pkg-config modules cfitsio, libpng). "
                        "On Debian: apt-get install libcfitsio-dev libpng-dev")
endif()
