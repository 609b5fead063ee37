# ctest minifilter_build: configures tests/minifilter_build (a project that
# adds fltsim with add_subdirectory) and checks that fltsim_add_minifilter's
# flags are in effect:
#   Debug: `good` builds with DBG=1 (and -Wall -Wextra -Werror of its own),
#          `cxx_flags` with the C++ flags, `undeclared` fails naming the
#          routine it calls undeclared, and fltsim loads and runs good.so
#          and cxx_flags.so;
#   Release: `good` builds with DBG=0;
#   misuses (ENTRY on a MODULE, C++ sources without CXX) fail to configure,
#   saying why.
# usage: cmake -DFLTSIM_SOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=...
#        -DC_COMPILER=... [-DCXX_COMPILER=...] -DFLTSIM=... -P run.cmake
foreach(var FLTSIM_SOURCE_DIR WORK_DIR GENERATOR C_COMPILER FLTSIM)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()
set(source ${CMAKE_CURRENT_LIST_DIR})
file(REMOVE_RECURSE ${WORK_DIR})
set(compilers -DCMAKE_C_COMPILER=${C_COMPILER})
if(CXX_COMPILER)
  list(APPEND compilers -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()

# run(EXPECT ok|fail NAME ... COMMAND ...): runs the command; its output
# goes to ${out}. A wrong outcome ends the test with the output shown.
macro(run expect name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if((expect STREQUAL "ok" AND NOT rc EQUAL 0) OR (expect STREQUAL "fail" AND rc EQUAL 0))
    message(FATAL_ERROR "${name}: expected to ${expect}, exit status ${rc}:\n${out}")
  endif()
  message(STATUS "${name}: ${expect} as expected")
endmacro()

macro(configure dir)
  run(ok "configure ${dir}" ${CMAKE_COMMAND} -S ${source} -B ${WORK_DIR}/${dir} -G ${GENERATOR}
      ${compilers} -DFLTSIM_SOURCE_DIR=${FLTSIM_SOURCE_DIR} ${ARGN})
endmacro()

# Debug
configure(debug -DCMAKE_BUILD_TYPE=Debug -DFLTSIM_EXPECT_DBG=1)

# fltsim as a subproject keeps to itself: none of its tests, benchmarks or
# example filters in this project, fltsim::sim without the examples, no
# directory setting or flag of fltsim's on this project's own target.
file(READ ${WORK_DIR}/debug/leaks.txt leaks)
if(leaks)
  string(REPLACE ";" "\n  " leaks "${leaks}")
  message(FATAL_ERROR "fltsim as a subproject leaks into the project:\n  ${leaks}")
endif()
run(ok "ctest -N" ${CMAKE_CTEST_COMMAND} -N --test-dir ${WORK_DIR}/debug)
if(NOT out MATCHES "Total Tests: 0")
  message(FATAL_ERROR "fltsim's tests are in the project's ctest:\n${out}")
endif()
file(READ ${WORK_DIR}/debug/compile_commands.json commands)
string(REGEX MATCH "\"command\": \"[^\"]*plain\\.c[^\"]*\"" plain "${commands}")
if(NOT plain)
  message(FATAL_ERROR "no compile command for plain.c in compile_commands.json")
endif()
foreach(flag _POSIX_C_SOURCE _DEFAULT_SOURCE -fshort-wchar -fsanitize -std= -Werror -Wall)
  string(FIND "${plain}" "${flag}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "fltsim's ${flag} reaches the project's own target:\n${plain}")
  endif()
endforeach()
run(ok "build good (Debug, DBG=1)"
    ${CMAKE_COMMAND} --build ${WORK_DIR}/debug --target good)
run(ok "build cxx_flags" ${CMAKE_COMMAND} --build ${WORK_DIR}/debug --target cxx_flags)
run(fail "build undeclared" ${CMAKE_COMMAND} --build ${WORK_DIR}/debug --target undeclared)
if(NOT out MATCHES "FltRoutineNoHeaderDeclares" OR NOT out MATCHES "implicit-function-declaration")
  message(FATAL_ERROR "build undeclared failed, but not for the undeclared routine:\n${out}")
endif()

# The MODULE is good.so, and fltsim loads and runs it.
set(so ${WORK_DIR}/debug/good.so)
if(NOT EXISTS ${so})
  message(FATAL_ERROR "${so} was not built (a MODULE is NAME.so)")
endif()
file(WRITE ${WORK_DIR}/good.yaml
  "scenario: a filter built by fltsim_add_minifilter\n"
  "volumes: [{drive: C, files: [{path: \\\\a.txt, data: abc}]}]\n"
  "filters: [{name: Good, object: ${so}, altitude: 100000}]\n"
  "steps:\n"
  "  - {op: open, path: C:\\\\a.txt, handle: h}\n"
  "  - {op: close, handle: h}\n")
run(ok "fltsim run good.yaml" ${FLTSIM} run ${WORK_DIR}/good.yaml)

# So is the C++ one, which needs nothing of the C++ runtime.
set(so ${WORK_DIR}/debug/cxx_flags.so)
file(WRITE ${WORK_DIR}/cxx.yaml
  "scenario: a C++ filter built by fltsim_add_minifilter\n"
  "volumes: [{drive: C, files: [{path: \\\\a.txt, data: abc}]}]\n"
  "filters: [{name: CxxFlags, object: ${so}, altitude: 100000}]\n"
  "steps:\n"
  "  - {op: open, path: C:\\\\a.txt, handle: h}\n"
  "  - {op: close, handle: h}\n")
run(ok "fltsim run cxx.yaml" ${FLTSIM} run ${WORK_DIR}/cxx.yaml)

# Release: DBG=0.
configure(release -DCMAKE_BUILD_TYPE=Release -DFLTSIM_EXPECT_DBG=0)
run(ok "build good (Release, DBG=0)"
    ${CMAKE_COMMAND} --build ${WORK_DIR}/release --target good)

# Misuses.
foreach(misuse entry cxx)
  run(fail "configure with misuse ${misuse}"
      ${CMAKE_COMMAND} -S ${source} -B ${WORK_DIR}/misuse_${misuse} -G ${GENERATOR} ${compilers}
      -DFLTSIM_SOURCE_DIR=${FLTSIM_SOURCE_DIR} -DFLTSIM_EXPECT_DBG=0
      -DFLTSIM_TEST_MISUSE=${misuse})
  if(misuse STREQUAL "entry")
    set(want "ENTRY renames DriverEntry, which a MODULE must export")
  else()
    set(want "C\\+\\+ sources \\(flags.cpp\\) need the CXX option")
  endif()
  string(REGEX REPLACE "[ \t\r\n]+" " " flat "${out}") # CMake wraps its messages
  if(NOT flat MATCHES "${want}")
    message(FATAL_ERROR "misuse ${misuse}: the error does not say \"${want}\":\n${out}")
  endif()
endforeach()
