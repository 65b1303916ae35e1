# FindYAML: libyaml. Defines YAML::yaml.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_YAML QUIET yaml-0.1)
endif()
find_path(YAML_INCLUDE_DIR yaml.h HINTS ${PC_YAML_INCLUDE_DIRS})
find_library(YAML_LIBRARY yaml HINTS ${PC_YAML_LIBRARY_DIRS})
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(YAML REQUIRED_VARS YAML_LIBRARY YAML_INCLUDE_DIR
  FAIL_MESSAGE "libyaml not found: install libyaml-dev")
if(YAML_FOUND AND NOT TARGET YAML::yaml)
  add_library(YAML::yaml UNKNOWN IMPORTED)
  set_target_properties(YAML::yaml PROPERTIES IMPORTED_LOCATION "${YAML_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${YAML_INCLUDE_DIR}")
endif()
