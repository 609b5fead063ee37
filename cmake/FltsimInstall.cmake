# What `cmake --install` puts under the prefix P, and the Debian package
# (`cpack -G DEB`) made of it (the contract of issue 21):
#   P/bin/fltsim
#   P/lib/libfltsim_model.a, libfltsim_sim.a
#   P/include/fltsim/*.h            fltsim's own API (model.h, io.h, version.h ...)
#   P/include/fltsim/decl/*.h       the per-family pieces the WDK-named headers include
#   P/include/fltsim/wdk/*.h        the WDK-named headers (fltKernel.h, ntifs.h, windows.h ...)
#   P/lib/cmake/fltsim/             fltsimConfig.cmake, version file, targets, functions
#   P/lib/pkgconfig/fltsim.pc
#   P/share/man/man1/fltsim.1, P/share/bash-completion/completions/fltsim
#   P/share/doc/fltsim/             README.md, CHANGELOG.md
# (lib is CMAKE_INSTALL_LIBDIR: lib/<multiarch> for the /usr prefix on Debian.)
# Included by the top-level CMakeLists.txt when FLTSIM_INSTALL is on.
include(CMakePackageConfigHelpers)

set(FLTSIM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/fltsim)
set(FLTSIM_INSTALL_TARGETS fltsim_model fltsim_sim fltsim_wdk)
if(TARGET fltsim)
  list(APPEND FLTSIM_INSTALL_TARGETS fltsim)
endif()
install(TARGETS ${FLTSIM_INSTALL_TARGETS} EXPORT fltsimTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# Headers: the WDK-named ones (fltmgr_model/include/*.h) in a directory of
# their own; fltsim's (the model's, the sim's, the generated version.h)
# under include/fltsim.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/fltmgr_model/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fltsim/wdk
  FILES_MATCHING PATTERN "*.h" PATTERN "fltsim" EXCLUDE)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/fltmgr_model/include/fltsim/
                  ${PROJECT_SOURCE_DIR}/sim/include/fltsim/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fltsim FILES_MATCHING PATTERN "*.h")
install(FILES ${FLTSIM_GENERATED_INCLUDE}/fltsim/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fltsim)

# The CMake package.
install(EXPORT fltsimTargets NAMESPACE fltsim:: DESTINATION ${FLTSIM_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/fltsimConfig.cmake.in
  ${PROJECT_BINARY_DIR}/fltsimConfig.cmake INSTALL_DESTINATION ${FLTSIM_CMAKE_DIR})
# 0.x: a minor version may break the C API (CHANGELOG.md), so only the
# same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/fltsimConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/fltsimConfig.cmake ${PROJECT_BINARY_DIR}/fltsimConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FltsimMinifilter.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FltsimDependencies.cmake
  DESTINATION ${FLTSIM_CMAKE_DIR})

# pkg-config.
file(RELATIVE_PATH FLTSIM_PC_PREFIX_FROM_PCDIR
  ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" FLTSIM_PC_PREFIX_FROM_PCDIR "${FLTSIM_PC_PREFIX_FROM_PCDIR}")
set(FLTSIM_PC_DL "")
foreach(lib ${CMAKE_DL_LIBS})
  string(APPEND FLTSIM_PC_DL " -l${lib}")
endforeach()
string(STRIP "${FLTSIM_PC_DL}" FLTSIM_PC_DL)
configure_file(${PROJECT_SOURCE_DIR}/cmake/fltsim.pc.in ${PROJECT_BINARY_DIR}/fltsim.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/fltsim.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The man page and the bash completion (sim/cli), when present.
if(EXISTS ${PROJECT_SOURCE_DIR}/sim/cli/fltsim.1)
  install(FILES ${PROJECT_SOURCE_DIR}/sim/cli/fltsim.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()
if(EXISTS ${PROJECT_SOURCE_DIR}/sim/cli/fltsim.bash-completion)
  install(FILES ${PROJECT_SOURCE_DIR}/sim/cli/fltsim.bash-completion
    DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME fltsim)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Debian package: cpack -G DEB in a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr gives fltsim_<version>_<arch>.deb. It depends on
# the -dev packages the static libraries need to link, and on the runtime
# libraries of the program (dpkg-shlibdeps finds those).
set(FLTSIM_PACKAGE_MAINTAINER "fltsim maintainers <maintainers@users.noreply.h-seed-dcc43240.example>"
  CACHE STRING "The Debian package's Maintainer")
set(CPACK_PACKAGE_NAME fltsim)
set(CPACK_PACKAGE_VENDOR fltsim)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${FLTSIM_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "user-mode simulator of the Windows Filter Manager for testing minifilters")
set(CPACK_PACKAGE_DESCRIPTION
  "fltsim runs a Windows file-system minifilter's own C or C++ source on Linux against a\n"
  "model of the Filter Manager: YAML scenarios (fltsim run, check), fault exploration\n"
  "(fltsim explore) and replay of Process Monitor captures (fltsim replay, import).\n"
  "This package has the fltsim program, the static libraries, the WDK-named headers\n"
  "(under /usr/include/fltsim/wdk), the CMake package (find_package(fltsim)) and\n"
  "fltsim.pc for pkg-config.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libuv1-dev (>= 1.44), libyaml-dev, libxml2-dev, zlib1g-dev, libcsv-dev")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "pkg-config | pkgconf, cmake (>= 3.21), libcmocka-dev")
set(CPACK_STRIP_FILES OFF)
include(CPack)
