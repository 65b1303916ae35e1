# pp_add_test(NAME SOURCES <files> [RANKS <n>] [ARGS <args>] [LABELS <labels>])
# Builds one test program and registers it; with RANKS it runs under mpirun with that
# many ranks (oversubscribed, one BLAS thread each). Exit 77 means skipped.
set(POLYPSF_MPIEXEC_FLAGS --oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS=1)
function(pp_add_test name)
  cmake_parse_arguments(T "" "RANKS" "SOURCES;ARGS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE polypsf_lib)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/src)
  if(T_RANKS)
    add_test(NAME ${name} COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${T_RANKS}
             ${POLYPSF_MPIEXEC_FLAGS} $<TARGET_FILE:${name}> ${T_ARGS})
  else()
    add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
  endif()
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77
    ENVIRONMENT "OPENBLAS_NUM_THREADS=1;OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1;POLYPSF_REFERENCE_DIR=${POLYPSF_REFERENCE_DIR};POLYPSF_EXE=$<TARGET_FILE:polypsf>;POLYPSF_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
    LABELS "${T_LABELS}")
endfunction()
