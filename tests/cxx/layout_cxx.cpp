/*
 * Private to test_cxx: the layout lists (layout_types.h, layout_values.h) as
 * the C++ compiler sees them, with the flags fltsim_add_minifilter(... CXX)
 * gives a C++ filter. layout_c.c is the same, compiled as C.
 */
#include <fltKernel.h>
#include <ntstrsafe.h>

#include "layout.h"

#define SIZE(T) {"sizeof(" #T ")", sizeof(T), alignof(T)},
#define OFFSET(T, M) {"offsetof(" #T ", " #M ")", offsetof(T, M), sizeof(((T *)0)->M)},
#define NAMED(text, V) {text, (unsigned long long)(V), sizeof(V)},
#define VALUE(V) NAMED(#V, V)

extern "C" const struct layout_entry layout_cxx[] = {
#include "layout_types.h"
#include "layout_values.h"
};
extern "C" const size_t layout_cxx_count = sizeof(layout_cxx) / sizeof(layout_cxx[0]);
