/*
 * Private to test_cxx: the layout lists (layout_types.h, layout_values.h) as
 * the C compiler sees them, with the WDK flags a C filter is built with.
 * layout_cxx.cpp is the same, compiled as C++.
 */
#include <fltKernel.h>
#include <ntstrsafe.h>

#include "layout.h"

#define SIZE(T) {"sizeof(" #T ")", sizeof(T), __alignof__(T)},
#define OFFSET(T, M) {"offsetof(" #T ", " #M ")", offsetof(T, M), sizeof(((T *)0)->M)},
#define NAMED(text, V) {text, (unsigned long long)(V), sizeof(V)},
#define VALUE(V) NAMED(#V, V)

const struct layout_entry layout_c[] = {
#include "layout_types.h"
#include "layout_values.h"
};
const size_t layout_c_count = sizeof(layout_c) / sizeof(layout_c[0]);
