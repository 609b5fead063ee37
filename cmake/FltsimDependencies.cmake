# The libraries fltsim's static libraries link, found the same way by
# fltsim's own build (the top-level CMakeLists.txt) and by a project that
# uses an installed fltsim (fltsimConfig.cmake), so that the names in the
# exported targets (PkgConfig::LIBUV, ZLIB::ZLIB, fltsim::libcsv ...) exist
# in both. libcsv has no pkg-config file: found by name.
include_guard(DIRECTORY)
include(CMakeFindDependencyMacro)
# In fltsim's own build a missing library is an error at once; through
# find_package(fltsim) it makes fltsim not found, saying which.
macro(_fltsim_find_dependency name)
  if(CMAKE_FIND_PACKAGE_NAME STREQUAL "fltsim")
    find_dependency(${name})
  else()
    find_package(${name} REQUIRED)
  endif()
endmacro()
_fltsim_find_dependency(Threads)
_fltsim_find_dependency(PkgConfig)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv>=1.44)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
# Process Monitor captures (issue 6): libxml2's streaming reader for XML
# exports, zlib for .gz captures, libcsv for CSV exports.
pkg_check_modules(XML2 REQUIRED IMPORTED_TARGET libxml-2.0)
_fltsim_find_dependency(ZLIB)
if(NOT TARGET fltsim::libcsv)
  find_path(FLTSIM_CSV_INCLUDE_DIR csv.h)
  find_library(FLTSIM_CSV_LIBRARY csv)
  if(NOT FLTSIM_CSV_INCLUDE_DIR OR NOT FLTSIM_CSV_LIBRARY)
    message(FATAL_ERROR "fltsim needs libcsv (csv.h and libcsv; Debian: libcsv-dev), "
                        "not found: FLTSIM_CSV_INCLUDE_DIR=${FLTSIM_CSV_INCLUDE_DIR} "
                        "FLTSIM_CSV_LIBRARY=${FLTSIM_CSV_LIBRARY}")
  endif()
  add_library(fltsim::libcsv UNKNOWN IMPORTED)
  set_target_properties(fltsim::libcsv PROPERTIES
    IMPORTED_LOCATION "${FLTSIM_CSV_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${FLTSIM_CSV_INCLUDE_DIR}")
endif()
