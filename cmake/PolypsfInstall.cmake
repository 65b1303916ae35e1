# What `cmake --install` puts under the prefix (GNUInstallDirs names the folders):
#   bin/polypsf                                the program
#   lib*/libpolypsf.so.N, .so, .a              the shared library (SONAME) and the static one
#   include/polypsf/*.h                        the public headers (private ones stay in src/)
#   lib*/cmake/polypsf/                        the CMake package: find_package(polypsf)
#   lib*/pkgconfig/polypsf.pc                  the pkg-config module
#   share/man/man1/polypsf.1                   the manual page
#   share/polypsf/{examples,slurm,workstation} job files and the run scripts
#   share/doc/polypsf/*.md                     the documentation
include(CMakePackageConfigHelpers)

install(TARGETS polypsf RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS polypsf_shared polypsf_lib EXPORT polypsf-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/polypsf DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

# ---- CMake package ------------------------------------------------------------------------
# polypsf-config.cmake finds the libraries libpolypsf links with the same file and Find
# modules as this build (Debian ships no CMake config for OpenBLAS, FFTW or libyaml), so both
# are installed beside it.
set(POLYPSF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/polypsf)
install(EXPORT polypsf-targets NAMESPACE polypsf:: DESTINATION ${POLYPSF_CMAKE_DIR})
configure_package_config_file(cmake/polypsf-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/polypsf-config.cmake INSTALL_DESTINATION ${POLYPSF_CMAKE_DIR})
# Before 1.0 a minor release may break the API: only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/polypsf-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/polypsf-config.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/polypsf-config-version.cmake
  cmake/PolypsfDependencies.cmake cmake/FindCBLAS.cmake cmake/FindFFTW3.cmake cmake/FindYAML.cmake
  DESTINATION ${POLYPSF_CMAKE_DIR})

# ---- pkg-config ---------------------------------------------------------------------------
# The modules of the MPI and HDF5 polypsf is built with (Debian's Open MPI and its parallel
# HDF5 by default; another MPI: e.g. -DPOLYPSF_PKGCONFIG_MPI=mpich).
set(POLYPSF_PKGCONFIG_MPI "ompi-c" CACHE STRING "pkg-config module of the MPI C library")
set(POLYPSF_PKGCONFIG_HDF5 "hdf5-openmpi" CACHE STRING "pkg-config module of parallel HDF5")
# polypsf.pc is written when installing, with the prefix being installed into (`cmake
# --install --prefix DIR` may differ from CMAKE_INSTALL_PREFIX at configure time); the
# relative folders and the version are filled in now. Each prefix gets its own copy in the
# build directory, so that installs into two prefixes at once (ctest -L install -j2) do not
# write over each other's.
set(POLYPSF_PKGCONFIG_PREFIX "@POLYPSF_PKGCONFIG_PREFIX@")   # kept for the second pass
configure_file(cmake/polypsf.pc.in ${CMAKE_CURRENT_BINARY_DIR}/polypsf.pc.in @ONLY)
install(CODE "
  set(POLYPSF_PKGCONFIG_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  string(MD5 pp_prefix_hash \"\${CMAKE_INSTALL_PREFIX}\")
  set(pp_pc_file \"${CMAKE_CURRENT_BINARY_DIR}/pkgconfig-\${pp_prefix_hash}/polypsf.pc\")
  configure_file(\"${CMAKE_CURRENT_BINARY_DIR}/polypsf.pc.in\" \"\${pp_pc_file}\" @ONLY)
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\"
       TYPE FILE FILES \"\${pp_pc_file}\")")

# ---- manual page, job files, documentation ---------------------------------------------
configure_file(docs/polypsf.1.in ${CMAKE_CURRENT_BINARY_DIR}/polypsf.1 @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/polypsf.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
# The job files and scripts users copy and run (not jobs/bench, jobs/ci: development tools).
install(DIRECTORY jobs/examples jobs/slurm jobs/workstation
  DESTINATION ${CMAKE_INSTALL_DATADIR}/polypsf USE_SOURCE_PERMISSIONS)
file(GLOB POLYPSF_DOCS CONFIGURE_DEPENDS docs/*.md)
install(FILES ${POLYPSF_DOCS} README.md LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
