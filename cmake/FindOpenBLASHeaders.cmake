# Locates cblas.h from OpenBLAS (Debian: libopenblas-dev).
find_path(OpenBLASHeaders_INCLUDE_DIR cblas.h
  PATH_SUFFIXES openblas openblas-pthread x86_64-linux-gnu/openblas-pthread
  HINTS /usr/include /usr/include/x86_64-linux-gnu/openblas-pthread)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenBLASHeaders REQUIRED_VARS OpenBLASHeaders_INCLUDE_DIR)
if(OpenBLASHeaders_FOUND AND NOT TARGET OpenBLAS::headers)
  add_library(OpenBLAS::headers INTERFACE IMPORTED)
  set_target_properties(OpenBLAS::headers PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenBLASHeaders_INCLUDE_DIR}")
endif()
