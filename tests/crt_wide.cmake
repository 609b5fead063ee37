# The kernel C runtime's wide routines (issue 15 item 5): test_crt_wide links
# four builds of one filter-like source (tests/fixtures/crt_filter.c):
# <wchar.h> included before or after fltsim's headers, each at -O0 and at
# -O2 -D_FORTIFY_SOURCE=2. crt_filter_symbols checks with nm that none of
# them references a libc wide-character routine, against a control object
# that does (fixtures/crt_libc_control.c).
set(FLTSIM_CRT_FILTER_OBJECTS "")
foreach(variant first first_fortify after after_fortify)
  set(target crt_filter_${variant})
  add_library(${target} OBJECT fixtures/crt_filter.c)
  target_include_directories(${target} PRIVATE
    $<TARGET_PROPERTY:fltsim_model,INTERFACE_INCLUDE_DIRECTORIES>)
  target_compile_options(${target} PRIVATE
    $<TARGET_PROPERTY:fltsim_model,INTERFACE_COMPILE_OPTIONS>)
  target_link_libraries(${target} PRIVATE fltsim_warnings)
  string(REGEX MATCH "^first" first "${variant}")
  target_compile_definitions(${target} PRIVATE CRT_VARIANT=${variant}
    CRT_WCHAR_FIRST=$<BOOL:${first}>)
  if(variant MATCHES "_fortify$")
    target_compile_options(${target} PRIVATE -O2 -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2)
  endif()
  set_target_properties(${target} PROPERTIES FLTSIM_MINIFILTER ON)
  target_sources(test_crt_wide PRIVATE $<TARGET_OBJECTS:${target}>)
  list(APPEND FLTSIM_CRT_FILTER_OBJECTS $<TARGET_OBJECTS:${target}>)
endforeach()
add_library(crt_libc_control OBJECT fixtures/crt_libc_control.c)
target_compile_options(crt_libc_control PRIVATE -fshort-wchar)
add_test(NAME crt_filter_symbols
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/crt_symbols.sh ${CMAKE_NM}
          $<TARGET_OBJECTS:crt_libc_control> ${FLTSIM_CRT_FILTER_OBJECTS})
