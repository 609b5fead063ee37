/*
 * ntintsafe (intsafe.c): every routine ntintsafe.h declares, expanded from
 * its own lists, is driven at its types' boundaries and checked against an
 * independent oracle: exact 128-bit arithmetic and the target type's range
 * decide the status, and a failure must leave the WDK's error value (all bits
 * set; '\0' for UCHAR; for CHAR what its signedness gives). Every routine
 * must meet both outcomes. Hand-written cases pin the documented examples.
 */
#include <limits.h>

#include <ntintsafe.h>

#include "crt_test.h"

__extension__ typedef __int128 i128;

/* The range of an integer type, from the type itself. */
struct range {
    i128 min, max;
};

#define RANGE_OF(T)                                                                                \
    ((T)-1 < (T)1                                                                                  \
         ? (struct range){-((i128)1 << (sizeof(T) * 8 - 1)), ((i128)1 << (sizeof(T) * 8 - 1)) - 1} \
         : (struct range){0, ((i128)1 << (sizeof(T) * 8)) - 1})

static bool in_range(struct range r, i128 v)
{
    return v >= r.min && v <= r.max;
}

/* The boundary operands of a type: its limits and their neighbours, the
 * square roots of its range and small values. */
static size_t operands(struct range r, i128 out[24])
{
    int bits = 0;
    while (((i128)1 << bits) <= r.max)
        bits++;
    i128 root = (i128)1 << ((bits + 1) / 2);
    const i128 candidates[] = {0,
                               1,
                               -1,
                               2,
                               -2,
                               r.max,
                               r.max - 1,
                               r.max / 2,
                               r.max / 2 + 1,
                               r.min,
                               r.min + 1,
                               r.min / 2,
                               root,
                               root - 1,
                               root + 1,
                               -root,
                               -root - 1,
                               3,
                               r.max / 3 + 1};
    size_t n = 0;
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
        if (in_range(r, candidates[i]))
            out[n++] = candidates[i];
    return n;
}

/* What each routine met. */
struct seen {
    unsigned ok, overflow;
};

static void check_one(const char *name, NTSTATUS st, i128 got, bool fits, i128 exact,
                      i128 error_value, struct seen *seen)
{
    if (fits) {
        if (st != STATUS_SUCCESS || got != exact)
            fail_msg("%s: expected success with %lld, got 0x%08x with %lld", name, (long long)exact,
                     (unsigned)st, (long long)got);
        seen->ok++;
    } else {
        if (st != STATUS_INTEGER_OVERFLOW || got != error_value)
            fail_msg("%s: expected STATUS_INTEGER_OVERFLOW with %lld, got 0x%08x with %lld", name,
                     (long long)error_value, (unsigned)st, (long long)got);
        seen->overflow++;
    }
}

static void check_seen(const char *name, const struct seen *s)
{
    if (s->ok == 0 || s->overflow == 0)
        fail_msg("%s: only %u successes and %u overflows at the boundaries", name, s->ok,
                 s->overflow);
}

/* ------------------------------------------------------------------------- */
/* Add, Sub and Mult of every type                                            */
/* ------------------------------------------------------------------------- */

#define MATH_OP(Name, Type, What, op)                                                              \
    do {                                                                                           \
        struct seen seen = {0, 0};                                                                 \
        for (size_t i = 0; i < n; i++)                                                             \
            for (size_t j = 0; j < n; j++) {                                                       \
                Type result = (Type)0x5A;                                                          \
                NTSTATUS st = Rtl##Name##What((Type)v[i], (Type)v[j], &result);                    \
                i128 exact;                                                                        \
                bool fits = !__builtin_##op##_overflow(v[i], v[j], &exact) && in_range(r, exact);  \
                check_one("Rtl" #Name #What, st, (i128)result, fits, exact, (i128)(Type)-1,        \
                          &seen);                                                                  \
            }                                                                                      \
        check_seen("Rtl" #Name #What, &seen);                                                      \
    } while (0)

#define MATH_TEST(Name, Type)                                                                      \
    static void math_##Name(void)                                                                  \
    {                                                                                              \
        struct range r = RANGE_OF(Type);                                                           \
        i128 v[24];                                                                                \
        size_t n = operands(r, v);                                                                 \
        MATH_OP(Name, Type, Add, add);                                                             \
        MATH_OP(Name, Type, Sub, sub);                                                             \
        MATH_OP(Name, Type, Mult, mul);                                                            \
    }
FLTSIM_INTSAFE_MATH_LIST(MATH_TEST)

static void math_is_exact_or_overflows_to_all_ones(void **state)
{
    (void)state;
#define CALL_MATH(Name, Type) math_##Name();
    FLTSIM_INTSAFE_MATH_LIST(CALL_MATH)
#undef CALL_MATH
}

/* ------------------------------------------------------------------------- */
/* Conversions                                                                */
/* ------------------------------------------------------------------------- */

/* The documented error value of a result type, by its name. */
static i128 error_value(const char *to, struct range r)
{
    if (strcmp(to, "UCHAR") == 0)
        return 0;
    if (strcmp(to, "CHAR") == 0)
        return r.min < 0 ? -1 : 0;
    return r.min < 0 ? -1 : r.max; /* all bits set */
}

#define CONVERSION_TEST(Name, From, To)                                                            \
    static void conversion_##Name(void)                                                            \
    {                                                                                              \
        struct range from = RANGE_OF(From), to = RANGE_OF(To);                                     \
        i128 v[48];                                                                                \
        size_t n = operands(from, v);                                                              \
        /* The target's limits and one past them, where the source has them. */                    \
        const i128 edges[] = {to.min, to.min - 1, to.max, to.max + 1};                             \
        for (size_t k = 0; k < 4; k++)                                                             \
            if (in_range(from, edges[k]))                                                          \
                v[n++] = edges[k];                                                                 \
        struct seen seen = {0, 0};                                                                 \
        for (size_t i = 0; i < n; i++) {                                                           \
            To result = (To)0x5A;                                                                  \
            NTSTATUS st = Rtl##Name((From)v[i], &result);                                          \
            check_one("Rtl" #Name, st, (i128)result, in_range(to, v[i]), v[i],                     \
                      error_value(#To, to), &seen);                                                \
        }                                                                                          \
        /* A widening conversion cannot fail: only check the successes. */                         \
        if (from.min >= to.min && from.max <= to.max) {                                            \
            if (seen.overflow != 0)                                                                \
                fail_msg("Rtl" #Name ": a widening conversion overflowed");                        \
        } else {                                                                                   \
            check_seen("Rtl" #Name, &seen);                                                        \
        }                                                                                          \
    }
FLTSIM_INTSAFE_CONVERSION_LIST(CONVERSION_TEST)

static void conversions_keep_the_value_or_set_the_error_value(void **state)
{
    (void)state;
#define CALL_CONVERSION(Name, From, To) conversion_##Name();
    FLTSIM_INTSAFE_CONVERSION_LIST(CALL_CONVERSION)
#undef CALL_CONVERSION
}

/* ------------------------------------------------------------------------- */
/* Documented examples                                                        */
/* ------------------------------------------------------------------------- */

static void documented_examples(void **state)
{
    (void)state;
    ULONG ul = 0;
    ULONGLONG ull = 0;
    SIZE_T st = 0;
    LONG l = 0;
    SHORT s = 0;
    UCHAR uc = 7;
    UINT8 u8 = 7;
    CHAR c = 7;

    assert_status(RtlULongAdd(0xFFFFFFFEu, 1, &ul), STATUS_SUCCESS);
    assert_int_equal(ul, 0xFFFFFFFFu);
    assert_status(RtlULongAdd(0xFFFFFFFFu, 1, &ul), STATUS_INTEGER_OVERFLOW);
    assert_int_equal(ul, 0xFFFFFFFFu); /* ULONG_ERROR */
    assert_status(RtlULongSub(1, 2, &ul), STATUS_INTEGER_OVERFLOW);
    assert_int_equal(ul, 0xFFFFFFFFu);
    assert_status(RtlULongLongMult(0x100000000ULL, 0x100000000ULL, &ull), STATUS_INTEGER_OVERFLOW);
    assert_true(ull == ~0ULL);
    assert_status(RtlULongLongMult(0xFFFFFFFFULL, 0x100000001ULL, &ull), STATUS_SUCCESS);
    assert_true(ull == ~0ULL);
    assert_status(RtlSizeTSub(0, 1, &st), STATUS_INTEGER_OVERFLOW);
    assert_true(st == (SIZE_T)-1);
    assert_status(RtlULongLongToULong(0x100000000ULL, &ul), STATUS_INTEGER_OVERFLOW);
    assert_int_equal(ul, 0xFFFFFFFFu);
    assert_status(RtlULongLongToULong(0xFFFFFFFFULL, &ul), STATUS_SUCCESS);
    assert_status(RtlLongToULong(-1, &ul), STATUS_INTEGER_OVERFLOW);
    assert_status(RtlLongMult(0x10000, 0x8000, &l), STATUS_INTEGER_OVERFLOW);
    assert_int_equal(l, -1); /* LONG_ERROR */
    assert_status(RtlLongMult(-0x10000, 0x8000, &l), STATUS_SUCCESS);
    assert_int_equal(l, INT_MIN);
    assert_status(RtlShortAdd(32767, 1, &s), STATUS_INTEGER_OVERFLOW);
    assert_int_equal(s, -1);
    assert_status(RtlIntToUChar(-1, &uc), STATUS_INTEGER_OVERFLOW);
    assert_int_equal(uc, 0); /* '\0', not 0xFF */
    assert_status(RtlIntToUInt8(-1, &u8), STATUS_INTEGER_OVERFLOW);
    assert_int_equal(u8, 0xFF); /* UINT8_ERROR */
    assert_status(RtlUInt8ToChar(200, &c), CHAR_MIN < 0 ? STATUS_INTEGER_OVERFLOW : STATUS_SUCCESS);
    /* The WDK's second names are the same routines. */
    assert_status(RtlUInt64Add(~0ULL, 1, &ull), STATUS_INTEGER_OVERFLOW);
    assert_status(RtlSIZETMult((SIZE_T)1 << 33, (SIZE_T)1 << 31, &st), STATUS_INTEGER_OVERFLOW);
    LONGLONG ll = 0;
    assert_status(RtlInt64Sub(LLONG_MIN, 1, &ll), STATUS_INTEGER_OVERFLOW);
    assert_true(ll == -1);
}

static bool null_result(void)
{
    return RtlULongAdd(1, 2, NULL) == STATUS_INVALID_PARAMETER;
}

static bool null_conversion_result(void)
{
    return RtlLongLongToInt(5, NULL) == STATUS_INVALID_PARAMETER;
}

static void null_result_is_reported(void **state)
{
    (void)state;
    static const struct crt_misuse cases[] = {
        {"RtlULongAdd", null_result},
        {"RtlLongLongToInt", null_conversion_result},
    };
    crt_run_misuses(cases, RTL_NUMBER_OF(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(math_is_exact_or_overflows_to_all_ones),
        cmocka_unit_test(conversions_keep_the_value_or_set_the_error_value),
        cmocka_unit_test(documented_examples),
        cmocka_unit_test(null_result_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
