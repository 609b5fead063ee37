# ctest install: installs fltsim's build into a temporary root (DESTDIR) and
# checks what a user of the installed tree gets:
#   - nothing is written outside DESTDIR + prefix;
#   - every file of the layout is there (program, static libraries, fltsim's
#     headers under include/fltsim, the WDK-named ones in include/fltsim/wdk
#     and nowhere else, <fltsim/cmocka.h>, the CMake package, fltsim.pc, the
#     docs; the man page and the bash completion when the tree has them), and
#     nothing installed names fltsim's source or build tree;
#   - find_package(fltsim) works from there (project/: a filter built by
#     fltsim_add_minifilter as a static library linked with fltsim::sim into
#     a program that runs a scenario, and as a MODULE that the program and
#     the installed fltsim program load);
#   - pkg-config --cflags --libs fltsim compiles and links the same program.
# With -DDEB=ON (ctest install_deb) the tree is the Debian package instead:
# `cpack -G DEB` makes fltsim_VERSION_ARCH.deb, its control fields are
# checked (package, version, section, maintainer, the -dev and runtime
# Depends), and the same checks run over it extracted with dpkg-deb -x.
# usage: cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=...
#        -DC_COMPILER=... -DLIBDIR=... -DVERSION=... [-DSANITIZE=...] [-DDEB=ON]
#        -P run.cmake
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR C_COMPILER LIBDIR VERSION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
set(root ${WORK_DIR}/root)
set(prefix ${WORK_DIR}/prefix)
set(P ${root}${prefix})

macro(run name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: exit status ${rc}:\n${out}")
  endif()
  message(STATUS "${name}: ok")
endmacro()

if(DEB)
  # The package, extracted into root: its prefix is /usr.
  set(prefix /usr)
  set(P ${root}${prefix})
  find_program(DPKG_DEB dpkg-deb REQUIRED)
  find_program(DPKG dpkg REQUIRED)
  run("dpkg --print-architecture" ${DPKG} --print-architecture)
  string(STRIP "${out}" arch)
  # gzip rather than the release's xz: the same package, made in seconds.
  run("cpack -G DEB" ${CMAKE_CPACK_COMMAND} -G DEB --config ${BUILD_DIR}/CPackConfig.cmake
      -B ${WORK_DIR}/package -D CPACK_DEBIAN_COMPRESSION_TYPE=gzip)
  set(deb ${WORK_DIR}/package/fltsim_${VERSION}_${arch}.deb)
  if(NOT EXISTS ${deb})
    message(FATAL_ERROR "cpack made no ${deb}")
  endif()
  foreach(field Package Version Section Maintainer Depends)
    run("dpkg-deb -f ${field}" ${DPKG_DEB} -f ${deb} ${field})
    string(STRIP "${out}" ${field})
  endforeach()
  if(NOT Package STREQUAL "fltsim" OR NOT Version STREQUAL VERSION OR NOT Section STREQUAL "devel"
     OR NOT Maintainer MATCHES "<.+@.+>")
    message(FATAL_ERROR "control: Package '${Package}', Version '${Version}', Section "
                        "'${Section}', Maintainer '${Maintainer}'")
  endif()
  # The -dev packages the static libraries need to link, the runtime
  # libraries of the program (dpkg-shlibdeps).
  foreach(dep libuv1-dev libyaml-dev libxml2-dev zlib1g-dev libcsv-dev libuv1 libyaml-0-2
              libxml2 zlib1g libcsv3 libc6)
    if(NOT ", ${Depends}," MATCHES ", ${dep}[ ,]")
      message(FATAL_ERROR "Depends lacks ${dep}: ${Depends}")
    endif()
  endforeach()
  run("dpkg-deb -x" ${DPKG_DEB} -x ${deb} ${root})
else()
  # Install into DESTDIR; nothing may land anywhere else.
  run("cmake --install" ${CMAKE_COMMAND} -E env DESTDIR=${root}
      ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
endif()
if(NOT DEB AND EXISTS ${prefix})
  message(FATAL_ERROR "cmake --install wrote ${prefix} itself, not under DESTDIR")
endif()
file(GLOB_RECURSE installed LIST_DIRECTORIES false RELATIVE ${root} ${root}/*)
foreach(f ${installed})
  if(NOT "/${f}" MATCHES "^${prefix}/")
    message(FATAL_ERROR "installed outside the prefix: /${f}")
  endif()
endforeach()

# The layout.
set(want bin/fltsim ${LIBDIR}/libfltsim_model.a ${LIBDIR}/libfltsim_sim.a
  include/fltsim/model.h include/fltsim/io.h include/fltsim/memfs.h include/fltsim/scenario.h
  include/fltsim/catalog.h include/fltsim/version.h include/fltsim/decl/io.h
  include/fltsim/cmocka.h
  include/fltsim/wdk/fltKernel.h include/fltsim/wdk/ntifs.h include/fltsim/wdk/windows.h
  include/fltsim/wdk/fltUser.h
  ${LIBDIR}/cmake/fltsim/fltsimConfig.cmake ${LIBDIR}/cmake/fltsim/fltsimConfigVersion.cmake
  ${LIBDIR}/cmake/fltsim/fltsimTargets.cmake ${LIBDIR}/cmake/fltsim/FltsimMinifilter.cmake
  ${LIBDIR}/pkgconfig/fltsim.pc share/doc/fltsim/README.md share/doc/fltsim/CHANGELOG.md)
if(EXISTS ${SOURCE_DIR}/sim/cli/fltsim.1)
  list(APPEND want share/man/man1/fltsim.1)
endif()
if(EXISTS ${SOURCE_DIR}/sim/cli/fltsim.bash-completion)
  list(APPEND want share/bash-completion/completions/fltsim)
endif()
# Every header of fltsim's own (the model's, the sim's) under include/fltsim.
foreach(dir fltmgr_model/include/fltsim sim/include/fltsim)
  file(GLOB_RECURSE headers RELATIVE ${SOURCE_DIR}/${dir} ${SOURCE_DIR}/${dir}/*.h)
  list(TRANSFORM headers PREPEND include/fltsim/)
  list(APPEND want ${headers})
endforeach()
foreach(f ${want})
  if(NOT EXISTS ${P}/${f})
    message(FATAL_ERROR "not installed: ${prefix}/${f}")
  endif()
endforeach()
# The WDK-named headers are include/fltsim/wdk's, all of it, and never at
# the top of include/ (where <ntifs.h> would shadow a system's).
file(GLOB wdk_source RELATIVE ${SOURCE_DIR}/fltmgr_model/include
     ${SOURCE_DIR}/fltmgr_model/include/*.h)
file(GLOB wdk_installed RELATIVE ${P}/include/fltsim/wdk ${P}/include/fltsim/wdk/*)
list(SORT wdk_source)
list(SORT wdk_installed)
if(NOT wdk_source STREQUAL wdk_installed)
  message(FATAL_ERROR "include/fltsim/wdk holds '${wdk_installed}';\nexpected the WDK-named "
                      "headers '${wdk_source}'")
endif()
file(GLOB top RELATIVE ${P}/include ${P}/include/*)
if(NOT top STREQUAL "fltsim")
  message(FATAL_ERROR "include/ holds '${top}'; expected only the fltsim directory")
endif()
# Nothing installed points back into fltsim's source or build tree.
foreach(f ${LIBDIR}/pkgconfig/fltsim.pc ${LIBDIR}/cmake/fltsim/fltsimConfig.cmake
          ${LIBDIR}/cmake/fltsim/fltsimTargets.cmake)
  file(READ ${P}/${f} text)
  foreach(tree ${SOURCE_DIR} ${BUILD_DIR})
    string(FIND "${text}" "${tree}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${f} names ${tree}")
    endif()
  endforeach()
endforeach()

set(flags "")
if(SANITIZE)
  set(flags "-fsanitize=${SANITIZE}")
endif()

# The scenarios the user's program and the installed fltsim run.
file(WRITE ${WORK_DIR}/builtin.yaml
  "scenario: a user's filter registered as a builtin of the user's program\n"
  "volumes: [{drive: C, files: [{path: \\a.txt, data: abc}, {path: \\deny.txt, data: no}]}]\n"
  "filters: [{name: Deny, builtin: deny, altitude: 100000}]\n"
  "steps:\n"
  "  - {op: open, path: C:\\a.txt, handle: h, expect: {status: STATUS_SUCCESS}}\n"
  "  - {op: close, handle: h}\n"
  "  - {op: open, path: C:\\deny.txt, handle: d, expect: {status: STATUS_ACCESS_DENIED}}\n")
macro(object_scenario so)
  file(WRITE ${WORK_DIR}/object.yaml
    "scenario: a user's filter as a shared object\n"
    "volumes: [{drive: C, files: [{path: \\a.txt, data: abc}, {path: \\deny.txt, data: no}]}]\n"
    "filters: [{name: DenyObject, object: ${so}, altitude: 100000}]\n"
    "steps:\n"
    "  - {op: open, path: C:\\a.txt, handle: h, expect: {status: STATUS_SUCCESS}}\n"
    "  - {op: close, handle: h}\n"
    "  - {op: open, path: C:\\deny.txt, handle: d, expect: {status: STATUS_ACCESS_DENIED}}\n")
endmacro()

# find_package(fltsim) from the installed tree.
set(project ${WORK_DIR}/project)
run("configure the find_package project" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/project
    -B ${project} -G ${GENERATOR} -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_BUILD_TYPE=Debug
    -DCMAKE_PREFIX_PATH=${P} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    "-DCMAKE_C_FLAGS=${flags}" "-DCMAKE_EXE_LINKER_FLAGS=${flags}"
    "-DCMAKE_MODULE_LINKER_FLAGS=${flags}")
run("build the find_package project" ${CMAKE_COMMAND} --build ${project})
run("find_package: run_scenario builtin.yaml" ${project}/run_scenario ${WORK_DIR}/builtin.yaml)
if(NOT out MATCHES "version ${VERSION}: passed [1-9][0-9]* expectations")
  message(FATAL_ERROR "run_scenario builtin.yaml printed:\n${out}")
endif()
run("find_package: run_scenario_direct builtin.yaml" ${project}/run_scenario_direct
    ${WORK_DIR}/builtin.yaml)
object_scenario(${project}/deny.so)
run("find_package: run_scenario object.yaml" ${project}/run_scenario ${WORK_DIR}/object.yaml)
file(READ ${project}/fltsim_program.txt fltsim)
if(NOT fltsim STREQUAL "${P}/bin/fltsim")
  message(FATAL_ERROR "fltsim::fltsim is ${fltsim}; expected the installed ${P}/bin/fltsim")
endif()
run("installed fltsim run object.yaml" ${fltsim} run ${WORK_DIR}/object.yaml)
run("installed fltsim --version" ${fltsim} --version)
if(NOT out STREQUAL "fltsim ${VERSION}\n")
  message(FATAL_ERROR "fltsim --version printed '${out}'; expected 'fltsim ${VERSION}'")
endif()

# pkg-config, with nothing but the installed fltsim.pc.
find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${P}/${LIBDIR}/pkgconfig)
macro(pc var)
  execute_process(COMMAND ${PKG_CONFIG} ${ARGN} fltsim RESULT_VARIABLE rc OUTPUT_VARIABLE ${var}
                  ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config ${ARGN} fltsim: exit status ${rc}:\n${err}")
  endif()
  separate_arguments(${var} UNIX_COMMAND "${${var}}")
endmacro()
pc(modversion --modversion)
if(NOT modversion STREQUAL VERSION)
  message(FATAL_ERROR "pkg-config --modversion fltsim: '${modversion}'; expected ${VERSION}")
endif()
pc(cflags --cflags)
pc(libs --libs)
pc(wdk --variable=wdk_cflags)
pc(export --variable=export_model_ldflags)
separate_arguments(flags UNIX_COMMAND "${flags}")
set(pcdir ${WORK_DIR}/pkg-config)
file(MAKE_DIRECTORY ${pcdir})
set(src ${CMAKE_CURRENT_LIST_DIR}/project)
run("pkg-config: compile deny.c" ${C_COMPILER} ${flags} ${cflags} ${wdk} -DDriverEntry=DenyDriverEntry
    -c ${src}/deny.c -o ${pcdir}/deny.o)
run("pkg-config: compile run_scenario.c" ${C_COMPILER} ${flags} ${cflags}
    -c ${src}/run_scenario.c -o ${pcdir}/run_scenario.o)
run("pkg-config: compile deny_direct.c (--cflags alone, -Wall -Wextra -Werror)" ${C_COMPILER}
    ${flags} ${cflags} -Wall -Wextra -Werror -c ${src}/deny_direct.c -o ${pcdir}/deny_direct.o)
run("pkg-config: link" ${C_COMPILER} ${flags} ${pcdir}/run_scenario.o ${pcdir}/deny.o ${export}
    ${libs} -o ${pcdir}/run_scenario)
run("pkg-config: compile deny.so" ${C_COMPILER} ${flags} ${cflags} ${wdk} -fPIC -shared
    ${src}/deny.c -o ${pcdir}/deny.so)
run("pkg-config: run_scenario builtin.yaml" ${pcdir}/run_scenario ${WORK_DIR}/builtin.yaml)
if(NOT out MATCHES "version ${VERSION}: passed [1-9][0-9]* expectations")
  message(FATAL_ERROR "run_scenario builtin.yaml printed:\n${out}")
endif()
object_scenario(${pcdir}/deny.so)
run("pkg-config: run_scenario object.yaml" ${pcdir}/run_scenario ${WORK_DIR}/object.yaml)
