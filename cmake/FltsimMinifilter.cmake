# fltsim_add_minifilter: builds a minifilter's own sources the way the WDK
# builds a driver, against fltsim's WDK-named headers. fltsim's top-level
# CMakeLists.txt includes this file, so a project that adds fltsim with
# add_subdirectory (or FetchContent) can call the function, and so does
# fltsimConfig.cmake for a project that finds an installed fltsim
# (find_package(fltsim)); nothing here depends on where that project's
# source or build tree is. The functions name only fltsim:: targets, which
# both ways define (ALIAS targets in fltsim's build, imported ones when
# installed).
#
#   fltsim_add_minifilter(NAME SOURCES src.c ... [MODULE | STATIC | OBJECT]
#                         [CXX] [ENTRY symbol])
#
# MODULE (the default) builds NAME.so (no "lib" prefix), a loadable object
# for a scenario's `object:` or `fltsim replay --filter NAME.so@ALTITUDE`.
# It is compiled with fltsim's headers and flags but not linked against the
# model: the program that loads it (the fltsim program, or a test linked with
# fltsim_export_model) exports the model to it, and refuses it when it calls
# a routine fltsim does not provide, naming every such routine.
#
# STATIC builds a library and OBJECT an object library that a C test links,
# with the model; ENTRY renames the filter's DriverEntry (-DDriverEntry=symbol,
# on its sources only) so that several filters fit in one program. A MODULE
# keeps DriverEntry: that is the symbol a loader looks for.
#
# The WDK flags (the fltsim_wdk interface target, which the function links):
#   -fshort-wchar                     WCHAR and L"..." are 16-bit, as on Windows
#   -Werror=implicit-function-declaration
#                                     a routine no header declares is a build
#                                     error (C; in C++ it is one anyway)
#   -Wno-unknown-pragmas              #pragma alloc_text and friends
#   -Wno-multichar                    'Tag1' pool tags
#   -Wno-missing-field-initializers   {IRP_MJ_OPERATION_END} and the other
#                                     WDK array terminators
#   -fcommon (C)                      a global defined without an initializer in
#                                     a header that several sources include is
#                                     one variable, as MSVC links it (gcc 10
#                                     and clang 11 made -fno-common the default)
#   DBG=1 in the Debug configuration, DBG=0 in the others (as the WDK's
#   build sets it per configuration: KdPrint prints only when DBG is 1)
# and the include directory of fltsim's WDK headers (<fltKernel.h> ...).
#
# CXX: the sources include C++ (.cpp, .cc, .cxx); they get -std=gnu++17,
# -fno-exceptions, -fno-rtti and -fno-threadsafe-statics on top (the kernel
# has no C++ runtime: no exceptions, no type information, no guard for a
# static local's initialization, as in the WDK's kernel C++). A filter
# defines its own operator new and delete (over pool); fltsim's loader
# refuses a MODULE that needs the C++ runtime's (operator new, __cxa_*,
# _Unwind_* ...), naming each, whoever could provide them. A MODULE is
# linked --as-needed, so one that needs nothing of the C++ runtime does not
# name libstdc++, and -Bsymbolic: its own definitions (operator new ...)
# bind before any of the program's, as in a driver image of its own. The
# project must enable the CXX language first.
#
#   fltsim_add_user_program(NAME SOURCES src.c ... [INCLUDE_DIRS dir ...])
#
# builds the user-mode half of a filter's product (a service, a scanner's
# user program) as NAME.so, for a scenario's `programs: - object:`: sources
# that include <windows.h> and <fltUser.h> and define main or wmain (exactly
# one), compiled with the WDK flags above (16-bit WCHAR: L"..." and %ws as on
# Windows) and linked like a MODULE minifilter: not against the model (the
# loading program exports it: windows.h's Win32 slice, fltlib's Filter*,
# the process's console and heap), --as-needed and -Bsymbolic (its own main
# and helpers bind to themselves, never to the loader's). The loader refuses
# it, naming every routine, when it calls one fltsim does not provide or one
# of libc's wide-character routines. INCLUDE_DIRS adds include directories
# (a header shared with the filter, as scanner's scanuk.h).
#
#   fltsim_export_model(TARGET)
#
# makes the program TARGET (a test, a tool) able to load MODULE filters and
# user programs: every object of the model is linked in (whole archive) and
# the executable's symbols are exported to the objects it loads.
include_guard(GLOBAL)

# fltsim's build defines fltsim::wdk here; an installed fltsim's comes from
# fltsimTargets.cmake, which fltsimConfig.cmake includes first.
if(NOT TARGET fltsim::wdk)
  # fltsim's WDK-named headers and its own (<fltsim/...>), beside this file's
  # folder; installed, include/fltsim/wdk and include.
  cmake_path(SET _fltsim_wdk_include NORMALIZE "${CMAKE_CURRENT_LIST_DIR}/../fltmgr_model/include")
  set(_fltsim_includedir "${CMAKE_INSTALL_INCLUDEDIR}") # GNUInstallDirs' in fltsim's build
  if(NOT _fltsim_includedir)
    set(_fltsim_includedir include)
  endif()
  add_library(fltsim_wdk INTERFACE)
  add_library(fltsim::wdk ALIAS fltsim_wdk)
  set_target_properties(fltsim_wdk PROPERTIES EXPORT_NAME wdk)
  target_include_directories(fltsim_wdk INTERFACE
    "$<BUILD_INTERFACE:${_fltsim_wdk_include}>"
    "$<INSTALL_INTERFACE:${_fltsim_includedir}/fltsim/wdk>"
    "$<INSTALL_INTERFACE:${_fltsim_includedir}>")
  target_compile_options(fltsim_wdk INTERFACE
    -fshort-wchar
    $<$<COMPILE_LANGUAGE:C>:-Werror=implicit-function-declaration -fcommon>
    -Wno-unknown-pragmas -Wno-multichar -Wno-missing-field-initializers)
  target_compile_definitions(fltsim_wdk INTERFACE $<IF:$<CONFIG:Debug>,DBG=1,DBG=0>)
endif()

function(fltsim_add_minifilter name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "MODULE;STATIC;OBJECT;CXX" "ENTRY" "SOURCES")
  set(where "fltsim_add_minifilter(${name})")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${where}: unexpected arguments '${arg_UNPARSED_ARGUMENTS}'; expected "
                        "SOURCES, MODULE, STATIC, OBJECT, CXX or ENTRY")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "${where}: no SOURCES; expected the filter's source files")
  endif()
  set(kind "")
  foreach(k MODULE STATIC OBJECT)
    if(arg_${k})
      list(APPEND kind ${k})
    endif()
  endforeach()
  list(LENGTH kind kinds)
  if(kinds GREATER 1)
    message(FATAL_ERROR "${where}: '${kind}' given; expected one of MODULE, STATIC, OBJECT")
  elseif(kinds EQUAL 0)
    set(kind MODULE)
  endif()
  if(kind STREQUAL "MODULE" AND DEFINED arg_ENTRY)
    message(FATAL_ERROR "${where}: ENTRY renames DriverEntry, which a MODULE must export "
                        "(a loader looks it up by that name); use STATIC or OBJECT")
  endif()
  if(DEFINED arg_ENTRY AND NOT arg_ENTRY MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "${where}: ENTRY '${arg_ENTRY}' is not a C identifier")
  endif()
  set(cxx_sources ${arg_SOURCES})
  list(FILTER cxx_sources INCLUDE REGEX "\\.(cpp|cc|cxx|C|c\\+\\+)$")
  if(cxx_sources AND NOT arg_CXX)
    message(FATAL_ERROR "${where}: C++ sources (${cxx_sources}) need the CXX option")
  endif()
  if(arg_CXX)
    get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
    if(NOT "CXX" IN_LIST languages)
      message(FATAL_ERROR "${where}: CXX needs the C++ language; enable it first "
                          "(project(... LANGUAGES C CXX) or enable_language(CXX))")
    endif()
  endif()

  add_library(${name} ${kind} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE fltsim::wdk)
  if(kind STREQUAL "MODULE")
    # name.so, as a scenario names it; the model comes from the loader.
    set_target_properties(${name} PROPERTIES PREFIX "")
    if(APPLE) # Mach-O refuses undefined symbols at link time unless told
      target_link_options(${name} PRIVATE "LINKER:-undefined,dynamic_lookup")
    else()
      # A driver's own functions bind to themselves, as in a .sys: a filter
      # that names one FilterUnload (swapBuffers does) must not get fltlib's
      # from the program (ELF would let the program's interpose; Mach-O binds
      # an object's own first already).
      target_link_options(${name} PRIVATE "LINKER:-Bsymbolic")
    endif()
  else()
    target_link_libraries(${name} PUBLIC fltsim::model)
  endif()
  if(DEFINED arg_ENTRY)
    target_compile_definitions(${name} PRIVATE DriverEntry=${arg_ENTRY})
  endif()
  if(arg_CXX)
    set_target_properties(${name} PROPERTIES
      CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS ON)
    target_compile_options(${name} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti -fno-threadsafe-statics>)
    if(kind STREQUAL "MODULE" AND NOT APPLE) # Mach-O binds an object's own first already
      target_link_options(${name} PRIVATE "LINKER:--as-needed" "LINKER:-Bsymbolic")
    endif()
  endif()
  # fltsim's own warning set (fltsim_warnings) keeps the WDK idioms quiet
  # in targets marked so.
  set_target_properties(${name} PROPERTIES FLTSIM_MINIFILTER ON)
endfunction()

function(fltsim_add_user_program name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;INCLUDE_DIRS")
  set(where "fltsim_add_user_program(${name})")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${where}: unexpected arguments '${arg_UNPARSED_ARGUMENTS}'; expected "
                        "SOURCES or INCLUDE_DIRS")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "${where}: no SOURCES; expected the program's source files")
  endif()
  add_library(${name} MODULE ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE fltsim::wdk)
  if(arg_INCLUDE_DIRS)
    target_include_directories(${name} PRIVATE ${arg_INCLUDE_DIRS})
  endif()
  set_target_properties(${name} PROPERTIES PREFIX "")
  if(APPLE)
    target_link_options(${name} PRIVATE "LINKER:-undefined,dynamic_lookup")
  else()
    target_link_options(${name} PRIVATE "LINKER:--as-needed" "LINKER:-Bsymbolic")
  endif()
  set_target_properties(${name} PROPERTIES FLTSIM_MINIFILTER ON)
endfunction()

function(fltsim_export_model target)
  if(NOT TARGET ${target})
    message(FATAL_ERROR "fltsim_export_model(${target}): no such target")
  endif()
  set_target_properties(${target} PROPERTIES ENABLE_EXPORTS ON)
  if(TARGET fltsim_model) # fltsim's own build (installed, the library is there already)
    add_dependencies(${target} fltsim_model)
  endif()
  # Ahead of the program's own objects, so that the ordinary link of the
  # archive later adds nothing twice.
  if(APPLE)
    target_link_options(${target} PRIVATE "LINKER:-force_load,$<TARGET_FILE:fltsim::model>")
  else()
    target_link_options(${target} PRIVATE
      "LINKER:--whole-archive" "$<TARGET_FILE:fltsim::model>" "LINKER:--no-whole-archive")
  endif()
endfunction()
