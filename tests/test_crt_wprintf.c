/*
 * The kernel C runtime's wide printf family (crt.h, crt_wprintf.c): the
 * Windows conversions through fltsim's one walker (shared with DbgPrint,
 * test_dbgprint.c) producing UTF-16, and each routine's truncation,
 * termination and return rules: _snwprintf, swprintf, swprintf_s,
 * _snwprintf_s, _scwprintf and their va_list forms; invalid formats and
 * parameters as verifier reports.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>

#include "crt_test.h"

/* Formats into a 128-unit buffer with _snwprintf, checks the return value
 * is the length, and returns the buffer. */
static WCHAR out[128];

static const WCHAR *fmt(const WCHAR *format, ...)
{
    va_list ap;
    va_start(ap, format);
    wmemset(out, L'#', RTL_NUMBER_OF(out));
    int r = _vsnwprintf(out, RTL_NUMBER_OF(out), format, ap);
    va_end(ap);
    assert_true(r >= 0 && (size_t)r < RTL_NUMBER_OF(out));
    assert_int_equal(out[r], 0);
    assert_int_equal((size_t)r, fltsim_wcslen(out));
    return out;
}

/* ------------------------------------------------------------------------- */
/* Conversions                                                                */
/* ------------------------------------------------------------------------- */

static void integers_take_windows_sizes(void **state)
{
    (void)state;
    assert_wstr(fmt(L"%d %i %u", -5, 7, 3000000000u), L"-5 7 3000000000");
    /* 'l' is 32 bits (LLP64): a LONG of -1 prints as -1, not as 4294967295. */
    assert_wstr(fmt(L"%ld|%lx|%lu", (LONG)-1, 0xDEADBEEFu, 4294967295u), L"-1|deadbeef|4294967295");
    assert_wstr(
        fmt(L"%I64d %lld %I64X", -1234567890123LL, 9007199254740993LL, 0x123456789ABCDEFULL),
        L"-1234567890123 9007199254740993 123456789ABCDEF");
    assert_wstr(fmt(L"%I32u %Iu %zu", 4000000000u, (size_t)SIZE_MAX, (size_t)12),
                L"4000000000 18446744073709551615 12");
    assert_wstr(fmt(L"%hd %hhu %o %X", 70000, 300, 8, 255), L"4464 44 10 FF");
}

static void flags_width_and_precision_apply(void **state)
{
    (void)state;
    assert_wstr(fmt(L"[%5d][%-5d][%05d][%+d][% d]", 42, 42, 42, 42, 42),
                L"[   42][42   ][00042][+42][ 42]");
    assert_wstr(fmt(L"[%#x][%#o][%.3d][%*d][%-*d]", 255, 8, 7, 4, 1, 4, 1),
                L"[0xff][010][007][   1][1   ]");
    assert_wstr(fmt(L"[%08x]", 0xBEEFu), L"[0000beef]");
    assert_wstr(fmt(L"%08.3f", 3.14159), L"0003.142");
}

static void strings_are_wide_by_default_in_a_wide_format(void **state)
{
    (void)state;
    UNICODE_STRING u = ustr(L"\\caf\u00e9");
    UNICODE_STRING cut = {4, 8, (PWCH)L"abcd"}; /* 2 characters, not terminated there */
    ANSI_STRING a = {3, 4, (PCHAR) "xyzw"};
    assert_wstr(fmt(L"%s|%ls|%ws|%S|%hs", L"w\u20ac", L"l", L"ws", "narrow", "hs"),
                L"w\u20ac|l|ws|narrow|hs");
    assert_wstr(fmt(L"%wZ|%wZ|%Z|%hZ", &u, &cut, &a, &a), L"\\caf\u00e9|ab|xyz|xyz");
    assert_wstr(fmt(L"%c%lc%wc%C%hc", L'\u00e9', L'l', L'w', 'C', 'h'), L"\u00e9lwCh");
    assert_wstr(fmt(L"[%6s][%-4s][%.2s][%.1wZ]", L"abc", L"ab", L"abcdef", &u),
                L"[   abc][ab  ][ab][\\]");
    /* A narrow string widens byte by byte, as the CRT's "C" locale does. */
    assert_wstr(fmt(L"%S", "caf\xe9"), L"caf\u00e9");
}

static void null_strings_print_null(void **state)
{
    (void)state;
    UNICODE_STRING empty = {0, 0, NULL};
    assert_wstr(fmt(L"%s|%S|%wZ|%wZ|%Z", (PCWSTR)NULL, (const char *)NULL, (PCUNICODE_STRING)NULL,
                    &empty, (PCANSI_STRING)NULL),
                L"(null)|(null)|(null)|(null)|(null)");
}

static void pointers_print_all_hex_digits(void **state)
{
    (void)state;
    int x;
    WCHAR expected[32];
    char narrow[32];
    snprintf(narrow, sizeof(narrow), "%016" PRIXPTR, (uintptr_t)&x);
    fltsim_utf8_to_utf16(narrow, expected, RTL_NUMBER_OF(expected));
    assert_wstr(fmt(L"%p", (void *)&x), expected);
    assert_wstr(fmt(L"%p", NULL), L"0000000000000000");
}

static void floating_point_is_formatted(void **state)
{
    (void)state;
    assert_wstr(fmt(L"%.2f %e %g %G", 2.5, 12345.678, 0.0001, 1e20),
                L"2.50 1.234568e+04 0.0001 1E+20");
    assert_wstr(fmt(L"%Lf|%lf", (long double)1.5, 0.25), L"1.500000|0.250000");
}

static void literal_text_and_percent_stay_utf16(void **state)
{
    (void)state;
    const WCHAR pair[] = {0xD83D, 0xDE00, L'%', L'%', 0};
    const WCHAR expected[] = {0xD83D, 0xDE00, L'%', 0};
    assert_wstr(fmt(pair), expected);
    assert_wstr(fmt(L"\u00e9\u20ac 100%% %d", 1), L"\u00e9\u20ac 100% 1");
    assert_wstr(fmt(L""), L"");
}

/* ------------------------------------------------------------------------- */
/* _snwprintf: count, termination, return                                     */
/* ------------------------------------------------------------------------- */

static void snwprintf_shorter_than_count_is_terminated(void **state)
{
    (void)state;
    WCHAR buf[8];
    wmemset(buf, L'#', 8);
    assert_int_equal(_snwprintf(buf, 8, L"ab%d", 1), 3);
    assert_memory_equal(buf, ((WCHAR[]){L'a', L'b', L'1', 0, L'#'}), 5 * sizeof(WCHAR));
}

static void snwprintf_exactly_count_is_not_terminated(void **state)
{
    (void)state;
    WCHAR buf[8];
    wmemset(buf, L'#', 8);
    assert_int_equal(_snwprintf(buf, 3, L"ab%d", 1), 3);
    assert_memory_equal(buf, ((WCHAR[]){L'a', L'b', L'1', L'#'}), 4 * sizeof(WCHAR));
}

static void snwprintf_longer_than_count_is_cut_and_negative(void **state)
{
    (void)state;
    WCHAR buf[8];
    wmemset(buf, L'#', 8);
    assert_int_equal(_snwprintf(buf, 2, L"ab%d", 1), -1);
    assert_memory_equal(buf, ((WCHAR[]){L'a', L'b', L'#'}), 3 * sizeof(WCHAR));
    assert_int_equal(_snwprintf(buf, 0, L"x"), -1);
    assert_int_equal(_snwprintf(buf, 0, L""), 0);
}

static void snwprintf_null_buffer_with_count_0_measures(void **state)
{
    (void)state;
    assert_int_equal(_snwprintf(NULL, 0, L"%s=%d", L"abc", 12345), 9);
    assert_int_equal(_scwprintf(L"%s=%d", L"abc", 12345), 9);
    assert_int_equal(_scwprintf(L"%500d", 1), 500);
}

static void snwprintf_source_that_is_the_destination_copies(void **state)
{
    (void)state;
    /* minispy's idiom: the buffer is printed into itself, then extended. */
    WCHAR buf[32] = L"[2 ECPs:";
    assert_int_equal(_snwprintf(buf, 31, L"%s OPLOCK;", buf), 16);
    assert_wstr(buf, L"[2 ECPs: OPLOCK;");
}

static void wide_fields_longer_than_any_scratch_are_whole(void **state)
{
    (void)state;
    WCHAR *buf = calloc(2001, sizeof(WCHAR));
    assert_non_null(buf);
    assert_int_equal(_snwprintf(buf, 2001, L"%2000d", 7), 2000);
    assert_int_equal(buf[0], L' ');
    assert_int_equal(buf[1999], L'7');
    assert_int_equal(buf[2000], 0);
    assert_int_equal(_snwprintf(buf, 2001, L"%-1500s|", L"x"), 1501);
    assert_int_equal(buf[1500], L'|');
    free(buf);
}

/* ------------------------------------------------------------------------- */
/* swprintf, swprintf_s, _snwprintf_s                                         */
/* ------------------------------------------------------------------------- */

static void swprintf_is_always_terminated_and_negative_when_cut(void **state)
{
    (void)state;
    WCHAR buf[8];
    assert_int_equal(swprintf(buf, 8, L"%d-%s", 12, L"ab"), 5);
    assert_wstr(buf, L"12-ab");
    assert_int_equal(swprintf(buf, 4, L"%d-%s", 12, L"ab"), -1);
    assert_wstr(buf, L"12-");
    assert_int_equal(swprintf(buf, 0, L"x"), -1);
}

static void swprintf_s_too_small_empties_the_buffer_with_erange(void **state)
{
    (void)state;
    WCHAR buf[6];
    assert_int_equal(swprintf_s(buf, 6, L"%s%d", L"ab", 123), 5);
    assert_wstr(buf, L"ab123");
    errno = 0;
    assert_int_equal(swprintf_s(buf, 5, L"%s%d", L"ab", 123), -1);
    assert_int_equal(errno, ERANGE);
    assert_wstr(buf, L"");
}

static void snwprintf_s_count_and_truncate(void **state)
{
    (void)state;
    WCHAR buf[8];
    /* count below the size: cut at count, terminated, -1, no error. */
    assert_int_equal(_snwprintf_s(buf, 8, 3, L"abcdef"), -1);
    assert_wstr(buf, L"abc");
    assert_int_equal(_snwprintf_s(buf, 8, 6, L"abcdef"), 6);
    assert_wstr(buf, L"abcdef");
    /* _TRUNCATE: what fits, terminated, -1. */
    assert_int_equal(_snwprintf_s(buf, 4, _TRUNCATE, L"abcdef"), -1);
    assert_wstr(buf, L"abc");
    assert_int_equal(_snwprintf_s(buf, 8, _TRUNCATE, L"abc"), 3);
    assert_wstr(buf, L"abc");
    assert_int_equal(_snwprintf_s(NULL, 0, 0, L"abc"), 0);
    /* count at or over the size: the whole output must fit. */
    errno = 0;
    assert_int_equal(_snwprintf_s(buf, 4, 10, L"abcdef"), -1);
    assert_int_equal(errno, ERANGE);
    assert_wstr(buf, L"");
}

/* ------------------------------------------------------------------------- */
/* Invalid formats and parameters                                             */
/* ------------------------------------------------------------------------- */

static bool misuse_percent_n(void)
{
    WCHAR buf[8];
    int n = 0;
    return _snwprintf(buf, 8, L"ab%n", &n) == -1 && n == 0 && errno == EINVAL;
}

static bool misuse_unknown_conversion(void)
{
    WCHAR buf[8];
    return swprintf_s(buf, 8, L"%y", 1) == -1 && buf[0] == 0 && errno == EINVAL;
}

static bool misuse_format_ending_in_conversion(void)
{
    WCHAR buf[8];
    return _snwprintf(buf, 8, L"abc%-") == -1;
}

static bool misuse_wrong_size_prefix(void)
{
    WCHAR buf[8];
    return swprintf(buf, 8, L"%wd", 1) == -1 && buf[0] == 0;
}

static bool misuse_null_format(void)
{
    WCHAR buf[8];
    return _snwprintf(buf, 8, NULL) == -1 && errno == EINVAL;
}

static bool misuse_null_buffer_with_count(void)
{
    return _snwprintf(NULL, 4, L"x") == -1;
}

static bool misuse_swprintf_s_null_buffer(void)
{
    return swprintf_s(NULL, 4, L"x") == -1 && errno == EINVAL;
}

static bool misuse_swprintf_s_too_small(void)
{
    WCHAR buf[2] = {L'q', L'q'};
    return swprintf_s(buf, 2, L"xy") == -1 && buf[0] == 0 && errno == ERANGE;
}

static bool misuse_snwprintf_s_zero_size(void)
{
    WCHAR buf[2];
    return _snwprintf_s(buf, 0, 1, L"x") == -1;
}

static bool misuse_snwprintf_s_too_small(void)
{
    WCHAR buf[2] = {L'q', L'q'};
    return _snwprintf_s(buf, 2, 5, L"xyz") == -1 && buf[0] == 0;
}

static bool misuse_swprintf_null_buffer(void)
{
    return swprintf(NULL, 4, L"x") == -1;
}

static bool misuse_scwprintf_null_format(void)
{
    return _scwprintf(NULL) == -1;
}

static void invalid_formats_and_parameters_are_reported(void **state)
{
    (void)state;
    static const struct crt_misuse cases[] = {
        {"_vsnwprintf", misuse_percent_n},
        {"vswprintf_s", misuse_unknown_conversion},
        {"_vsnwprintf", misuse_format_ending_in_conversion},
        {"vswprintf", misuse_wrong_size_prefix},
        {"_vsnwprintf", misuse_null_format},
        {"_vsnwprintf", misuse_null_buffer_with_count},
        {"vswprintf_s", misuse_swprintf_s_null_buffer},
        {"vswprintf_s", misuse_swprintf_s_too_small},
        {"_vsnwprintf_s", misuse_snwprintf_s_zero_size},
        {"_vsnwprintf_s", misuse_snwprintf_s_too_small},
        {"vswprintf", misuse_swprintf_null_buffer},
        {"_vscwprintf", misuse_scwprintf_null_format},
    };
    crt_run_misuses(cases, RTL_NUMBER_OF(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(integers_take_windows_sizes),
        cmocka_unit_test(flags_width_and_precision_apply),
        cmocka_unit_test(strings_are_wide_by_default_in_a_wide_format),
        cmocka_unit_test(null_strings_print_null),
        cmocka_unit_test(pointers_print_all_hex_digits),
        cmocka_unit_test(floating_point_is_formatted),
        cmocka_unit_test(literal_text_and_percent_stay_utf16),
        cmocka_unit_test(snwprintf_shorter_than_count_is_terminated),
        cmocka_unit_test(snwprintf_exactly_count_is_not_terminated),
        cmocka_unit_test(snwprintf_longer_than_count_is_cut_and_negative),
        cmocka_unit_test(snwprintf_null_buffer_with_count_0_measures),
        cmocka_unit_test(snwprintf_source_that_is_the_destination_copies),
        cmocka_unit_test(wide_fields_longer_than_any_scratch_are_whole),
        cmocka_unit_test(swprintf_is_always_terminated_and_negative_when_cut),
        cmocka_unit_test(swprintf_s_too_small_empties_the_buffer_with_erange),
        cmocka_unit_test(snwprintf_s_count_and_truncate),
        cmocka_unit_test(invalid_formats_and_parameters_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
