# ctest wdk_headers_extern_c: every routine the WDK headers declare has C
# linkage when a C++ filter includes them, as in the WDK, so that a C++
# filter's calls bind to fltsim's C definitions. gcc's -aux-info lists every
# function a C unit including all the headers declares (with the header and
# line); each one declared extern in a header of fltmgr_model/include is then
# redeclared with C linkage (extern "C" decltype(F) F;) after the same
# headers in a C++ unit, which the C++ compiler refuses, naming the routine,
# where the headers gave it C++ linkage. The C++ unit is compiled with
# fltsim_add_minifilter's C++ flags and -Wall -Wextra -Werror, so the headers
# are also warning-free as C++.
# usage: cmake -DINCLUDE_DIR=... -DWORK_DIR=... -DGCC=... -DCXX_COMPILER=...
#        -P extern_c.cmake
foreach(var INCLUDE_DIR WORK_DIR GCC CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "extern_c.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

# Every WDK-named header (the case variants include the same files).
file(GLOB headers RELATIVE ${INCLUDE_DIR} ${INCLUDE_DIR}/*.h)
list(SORT headers)
set(includes "")
foreach(h ${headers})
  string(APPEND includes "#include <${h}>\n")
endforeach()

file(WRITE ${WORK_DIR}/all.c "${includes}")
set(wdk_flags -fshort-wchar -Wno-unknown-pragmas -Wno-multichar -Wno-missing-field-initializers
    -I${INCLUDE_DIR})
execute_process(
  COMMAND ${GCC} -std=c11 -fsyntax-only ${wdk_flags} -aux-info ${WORK_DIR}/declared.txt
          ${WORK_DIR}/all.c
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the headers do not compile as C:\n${out}")
endif()

# Lines look like: /* DIR/fltsim/decl/ex.h:52:NC */ extern PVOID ExAllocatePoolWithTag (...);
file(STRINGS ${WORK_DIR}/declared.txt lines)
set(names "")
foreach(line IN LISTS lines)
  if(NOT line MATCHES "^/\\* ([^:]*):[0-9]+:[A-Z]+ \\*/ extern ")
    continue() # static (inline) helpers have no linkage to speak of
  endif()
  string(FIND "${CMAKE_MATCH_1}" "${INCLUDE_DIR}/" at)
  if(NOT at EQUAL 0)
    continue() # the C library's own
  endif()
  if(line MATCHES "\\*/ extern [^(]*[ *]([A-Za-z_][A-Za-z0-9_]*) \\(")
    list(APPEND names ${CMAKE_MATCH_1})
  endif()
endforeach()
list(REMOVE_DUPLICATES names)
list(LENGTH names count)
if(count LESS 300)
  message(FATAL_ERROR "only ${count} routines found in ${WORK_DIR}/declared.txt; "
                      "expected the WDK surface (hundreds)")
endif()

set(cxx "${includes}\n")
foreach(name ${names})
  string(APPEND cxx "extern \"C\" decltype(${name}) ${name};\n")
endforeach()
file(WRITE ${WORK_DIR}/all.cpp "${cxx}")
execute_process(
  COMMAND ${CXX_COMPILER} -std=gnu++17 -fno-exceptions -fno-rtti -fno-threadsafe-statics
          -fsyntax-only -Wall -Wextra -Werror ${wdk_flags} ${WORK_DIR}/all.cpp
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the headers as C++: a routine without C linkage, or a warning:\n${out}")
endif()
message(STATUS "${count} routines declared with C linkage in C++")
