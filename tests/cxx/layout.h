/*
 * Private to test_cxx: what the suite's C and C++ translation units record
 * about the WDK surface (the same lists, layout_types.h and layout_values.h,
 * compiled once as C and once as C++) and the C++ idioms the C++ units run
 * (idioms.cpp). Included by C and C++ alike.
 */
#ifndef FLTSIM_TEST_CXX_LAYOUT_H
#define FLTSIM_TEST_CXX_LAYOUT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One check: sizeof and alignment of a type, offset and size of a member, or
 * value and size of a constant, as the translation unit's compiler saw it. */
struct layout_entry {
    const char *what; /* "sizeof(T)", "offsetof(T, M)" or the constant's name */
    unsigned long long value;
    unsigned long long size; /* alignment (types), size (members, constants) */
};

extern const struct layout_entry layout_c[];
extern const size_t layout_c_count;
extern const struct layout_entry layout_cxx[];
extern const size_t layout_cxx_count;

/* ---- idioms.cpp: kernel C++ idioms over the WDK headers ---- */

/* DEFINE_ENUM_FLAG_OPERATORS on a flags enumeration: the results of |, &, ^,
 * ~ and the assignments on values only known at run time, packed one per
 * byte (see idioms.cpp). */
unsigned long long cxx_enum_flag_results(unsigned first, unsigned second);

/* __try/__except/__finally/__leave in C++: what ran, in order, written into
 * log (a short word each, space separated). how: 0 normal exit, 1 __leave,
 * 2 ExRaiseStatus(code) in a callee, 3 ProbeForWrite on a NULL buffer.
 * Returns the code the __except filter saw (0 when none ran). */
long cxx_seh_run(int how, long code, char *log, size_t log_size);

/* A WDK macro surface in C++ (RTL_CONSTANT_STRING of both widths,
 * DECLARE_CONST_UNICODE_STRING, InitializeObjectAttributes, list macros,
 * CONTAINING_RECORD, FlagOn/SetFlag/ClearFlag, Add2Ptr, RtlCompareUnicodeString
 * ...): the number of checks that held, out of *total. */
int cxx_macros_hold(int *total);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_TEST_CXX_LAYOUT_H */
