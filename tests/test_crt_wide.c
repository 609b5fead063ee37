/*
 * The kernel C runtime's wide routines over 16-bit WCHAR (crt.h, crt_wide.c):
 * filter code binds fltsim's routines whatever it includes and however it is
 * optimized (the crt_filter_* objects, built four ways by crt_wide.cmake);
 * the string, memory, _s, case and class routines with the Microsoft CRT's
 * edge cases; and misuse as verifier reports. The wprintf family has its own
 * suite (test_crt_wprintf.c).
 */
#include <stdint.h>
#include <stdlib.h>

#include "crt_test.h"

/* The filter-like objects (tests/fixtures/crt_filter.c). */
#define CRT_FX_DECLARE(v)                                                                          \
    size_t crt_fx_wcslen_##v(void);                                                                \
    int crt_fx_build_##v(WCHAR *out, size_t size);
CRT_FX_DECLARE(first)
CRT_FX_DECLARE(first_fortify)
CRT_FX_DECLARE(after)
CRT_FX_DECLARE(after_fortify)

/* ------------------------------------------------------------------------- */
/* Binding: filter code calls fltsim's routines                               */
/* ------------------------------------------------------------------------- */

static void filter_including_wchar_first_gets_wcslen_3(void **state)
{
    (void)state;
    assert_int_equal(crt_fx_wcslen_first(), 3);
    assert_int_equal(crt_fx_wcslen_first_fortify(), 3);
}

static void filter_including_wchar_after_gets_wcslen_3(void **state)
{
    (void)state;
    assert_int_equal(crt_fx_wcslen_after(), 3);
    assert_int_equal(crt_fx_wcslen_after_fortify(), 3);
}

static void filter_routines_work_in_every_build(void **state)
{
    (void)state;
    static const WCHAR expected[] = L"abcdef|xyzz|1123567|safe!|n=42/7|\u00c9T\u00c9";
    int (*const builds[])(WCHAR *, size_t) = {crt_fx_build_first, crt_fx_build_first_fortify,
                                              crt_fx_build_after, crt_fx_build_after_fortify};
    for (size_t i = 0; i < RTL_NUMBER_OF(builds); i++) {
        WCHAR out[64];
        assert_int_equal(builds[i](out, RTL_NUMBER_OF(out)), RTL_NUMBER_OF(expected) - 1);
        assert_wstr(out, expected);
    }
}

/* ------------------------------------------------------------------------- */
/* Strings                                                                    */
/* ------------------------------------------------------------------------- */

static void wcslen_counts_16_bit_units(void **state)
{
    (void)state;
    const WCHAR pair[] = {0xD83D, 0xDE00, 0};
    assert_int_equal(wcslen(L"abc"), 3);
    assert_int_equal(wcslen(L""), 0);
    assert_int_equal(wcslen(pair), 2);
    assert_int_equal(wcsnlen(L"abcdef", 4), 4);
    assert_int_equal(wcsnlen(L"ab", 4), 2);
    /* wcsnlen reads no further than its count: no terminator needed. */
    const WCHAR unterminated[2] = {L'x', L'y'};
    assert_int_equal(wcsnlen(unterminated, 2), 2);
    assert_int_equal(wcsnlen_s(NULL, 5), 0);
    assert_int_equal(wcsnlen_s(L"abc", 2), 2);
}

static void wcscpy_and_wcscat_copy_terminators(void **state)
{
    (void)state;
    WCHAR buf[16];
    wmemset(buf, L'#', RTL_NUMBER_OF(buf));
    assert_ptr_equal(wcscpy(buf, L"ab"), buf);
    assert_wstr(buf, L"ab");
    assert_ptr_equal(wcscat(buf, L"\u00e9\u00e8"), buf);
    assert_wstr(buf, L"ab\u00e9\u00e8");
    assert_int_equal(buf[5], L'#'); /* nothing written past the terminator */
}

static void wcsncpy_pads_with_zeros_and_leaves_a_full_copy_unterminated(void **state)
{
    (void)state;
    WCHAR buf[6];
    wmemset(buf, L'#', RTL_NUMBER_OF(buf));
    wcsncpy(buf, L"ab", 5);
    assert_memory_equal(buf, ((WCHAR[]){L'a', L'b', 0, 0, 0, L'#'}), sizeof(buf));
    wmemset(buf, L'#', RTL_NUMBER_OF(buf));
    wcsncpy(buf, L"abcdefgh", 3);
    assert_memory_equal(buf, ((WCHAR[]){L'a', L'b', L'c', L'#', L'#', L'#'}), sizeof(buf));
}

static void wcsncat_appends_at_most_count_and_terminates(void **state)
{
    (void)state;
    WCHAR buf[8] = L"ab";
    wcsncat(buf, L"cdef", 2);
    assert_wstr(buf, L"abcd");
    wcsncat(buf, L"x", 5);
    assert_wstr(buf, L"abcdx");
    wcsncat(buf, NULL, 0); /* nothing to read: no report, nothing appended */
    assert_wstr(buf, L"abcdx");
}

static void wcscmp_orders_by_unsigned_unit(void **state)
{
    (void)state;
    assert_int_equal(wcscmp(L"abc", L"abc"), 0);
    assert_true(wcscmp(L"abc", L"abd") < 0);
    assert_true(wcscmp(L"abd", L"abc") > 0);
    assert_true(wcscmp(L"ab", L"abc") < 0);
    /* U+FFFD sorts after 'a': units are unsigned 16-bit. */
    assert_true(wcscmp(L"\ufffd", L"a") > 0);
    assert_int_equal(wcsncmp(L"abcX", L"abcY", 3), 0);
    assert_true(wcsncmp(L"abcX", L"abcY", 4) < 0);
    assert_int_equal(wcsncmp(L"a", L"b", 0), 0);
}

static void wcsicmp_folds_non_ascii_letters(void **state)
{
    (void)state;
    assert_int_equal(_wcsicmp(L"\u00c9COLE", L"\u00e9cole"), 0);                 /* É, é */
    assert_int_equal(_wcsicmp(L"\u03a3\u039f\u03a6", L"\u03c3\u03bf\u03c6"), 0); /* Greek */
    assert_int_equal(_wcsicmp(L"\u0416\u0423\u041a", L"\u0436\u0443\u043a"), 0); /* Cyrillic */
    assert_true(_wcsicmp(L"abc", L"ABD") < 0);
    assert_true(_wcsicmp(L"abcd", L"ABC") > 0);
    /* The CRT compares lowercase forms: '_' (0x5F) sorts before 'a' (0x61). */
    assert_true(_wcsicmp(L"_", L"A") < 0);
    assert_int_equal(_wcsnicmp(L"\u00c0bcX", L"\u00e0BCy", 3), 0);
    assert_true(_wcsnicmp(L"\u00c0bcX", L"\u00e0BCy", 4) < 0);
    assert_int_equal(_wcsnicmp(L"x", L"y", 0), 0);
}

static void wcschr_and_wcsrchr_find_units_and_the_terminator(void **state)
{
    (void)state;
    static const WCHAR s[] = L"a.b.c";
    assert_ptr_equal(wcschr(s, L'.'), s + 1);
    assert_ptr_equal(wcsrchr(s, L'.'), s + 3);
    assert_null(wcschr(s, L'z'));
    assert_null(wcsrchr(s, L'z'));
    assert_ptr_equal(wcschr(s, 0), s + 5);
    assert_ptr_equal(wcsrchr(s, 0), s + 5);
    assert_non_null(wcschr(L"\u00e9\u20ac", 0x20AC));
}

static void wcsstr_finds_substrings(void **state)
{
    (void)state;
    static const WCHAR s[] = L"\\Device\\HarddiskVolume1\\dir";
    assert_ptr_equal(wcsstr(s, L"Volume"), s + 16);
    assert_ptr_equal(wcsstr(s, L""), s);
    assert_null(wcsstr(s, L"volume"));
    assert_null(wcsstr(L"ab", L"abc"));
    assert_non_null(wcsstr(L"aab", L"ab"));
}

static void wcspbrk_wcsspn_wcscspn_scan_sets(void **state)
{
    (void)state;
    static const WCHAR s[] = L"name.ext:stream";
    assert_ptr_equal(wcspbrk(s, L":."), s + 4);
    assert_null(wcspbrk(s, L"/"));
    assert_int_equal(wcsspn(s, L"aemn"), 4);
    assert_int_equal(wcsspn(s, L""), 0);
    assert_int_equal(wcscspn(s, L":"), 8);
    assert_int_equal(wcscspn(s, L"/"), 15);
}

static void wcslwr_and_wcsupr_map_in_place(void **state)
{
    (void)state;
    WCHAR buf[] = L"Stra\u00dfe \u00c9t\u00e9 \u03a9";
    assert_ptr_equal(_wcsupr(buf), buf);
    /* ß has no one-character uppercase: it stays. */
    assert_wstr(buf, L"STRA\u00dfE \u00c9T\u00c9 \u03a9");
    assert_ptr_equal(_wcslwr(buf), buf);
    assert_wstr(buf, L"stra\u00dfe \u00e9t\u00e9 \u03c9");
    assert_int_equal(_wcsupr_s(buf, RTL_NUMBER_OF(buf)), 0);
    assert_wstr(buf, L"STRA\u00dfE \u00c9T\u00c9 \u03a9");
    assert_int_equal(_wcslwr_s(buf, RTL_NUMBER_OF(buf)), 0);
    assert_wstr(buf, L"stra\u00dfe \u00e9t\u00e9 \u03c9");
}

/* ------------------------------------------------------------------------- */
/* Memory                                                                     */
/* ------------------------------------------------------------------------- */

static void wmem_routines_count_units(void **state)
{
    (void)state;
    WCHAR buf[6];
    assert_ptr_equal(wmemset(buf, 0x20AC, 6), buf);
    assert_int_equal(buf[5], 0x20AC);
    assert_ptr_equal(wmemcpy(buf, L"abcdef", 3), buf);
    assert_memory_equal(buf, ((WCHAR[]){L'a', L'b', L'c', 0x20AC, 0x20AC, 0x20AC}), sizeof(buf));
    assert_int_equal(wmemcmp(buf, L"abd", 2), 0);
    assert_true(wmemcmp(buf, L"abd", 3) < 0);
    assert_true(wmemcmp(L"\ufffd", L"a", 1) > 0);
    assert_int_equal(wmemcmp(NULL, NULL, 0), 0);
    assert_ptr_equal(wmemchr(buf, 0x20AC, 6), buf + 3);
    assert_null(wmemchr(buf, 0x20AC, 3));
    /* wmemchr does not stop at a zero unit. */
    const WCHAR zeros[] = {0, 0, L'q'};
    assert_ptr_equal(wmemchr(zeros, L'q', 3), zeros + 2);
}

static void wmemmove_handles_overlap_both_ways(void **state)
{
    (void)state;
    WCHAR buf[] = L"123456";
    wmemmove(buf + 2, buf, 3);
    assert_wstr(buf, L"121236");
    wmemmove(buf, buf + 3, 3);
    assert_wstr(buf, L"236236");
    assert_int_equal(wmemmove_s(buf + 1, 5, buf, 4), 0);
    assert_wstr(buf, L"223626");
}

/* ------------------------------------------------------------------------- */
/* The _s variants                                                            */
/* ------------------------------------------------------------------------- */

static void wcscpy_s_copies_what_fits_else_empties_with_erange(void **state)
{
    (void)state;
    WCHAR buf[4];
    assert_int_equal(wcscpy_s(buf, 4, L"abc"), 0); /* exactly fits with its terminator */
    assert_wstr(buf, L"abc");
    errno = 0;
    assert_int_equal(wcscpy_s(buf, 4, L"abcd"), ERANGE);
    assert_int_equal(errno, ERANGE);
    assert_int_equal(buf[0], 0);
    assert_int_equal(wcscpy_s(buf, 4, L""), 0);
    assert_wstr(buf, L"");
}

static void wcsncpy_s_limits_by_count_and_truncates_on_request(void **state)
{
    (void)state;
    WCHAR buf[4];
    assert_int_equal(wcsncpy_s(buf, 4, L"abcdef", 2), 0);
    assert_wstr(buf, L"ab");
    assert_int_equal(wcsncpy_s(buf, 4, L"abcdef", _TRUNCATE), STRUNCATE);
    assert_wstr(buf, L"abc");
    assert_int_equal(wcsncpy_s(buf, 4, L"abc", _TRUNCATE), 0);
    assert_wstr(buf, L"abc");
    assert_int_equal(wcsncpy_s(buf, 4, L"xyz", 0), 0); /* count 0: an empty string */
    assert_wstr(buf, L"");
    assert_int_equal(wcsncpy_s(NULL, 0, NULL, 0), 0); /* nothing asked, nothing done */
    errno = 0;
    assert_int_equal(wcsncpy_s(buf, 4, L"abcdef", 4), ERANGE);
    assert_int_equal(errno, ERANGE);
    assert_int_equal(buf[0], 0);
}

static void wcscat_s_appends_what_fits_else_empties_with_erange(void **state)
{
    (void)state;
    WCHAR buf[6] = L"ab";
    assert_int_equal(wcscat_s(buf, 6, L"cde"), 0);
    assert_wstr(buf, L"abcde");
    assert_int_equal(wcscat_s(buf, 6, L""), 0);
    assert_int_equal(wcscat_s(buf, 6, L"f"), ERANGE);
    assert_int_equal(buf[0], 0);
}

static void wcsncat_s_appends_count_or_truncates(void **state)
{
    (void)state;
    WCHAR buf[6] = L"ab";
    assert_int_equal(wcsncat_s(buf, 6, L"cdef", 1), 0);
    assert_wstr(buf, L"abc");
    assert_int_equal(wcsncat_s(buf, 6, L"defgh", _TRUNCATE), STRUNCATE);
    assert_wstr(buf, L"abcde");
    assert_int_equal(wcsncat_s(buf, 6, L"x", 0), 0);
    assert_wstr(buf, L"abcde");
    assert_int_equal(wcsncat_s(NULL, 0, NULL, 0), 0);
    assert_int_equal(wcsncat_s(buf, 6, L"xy", 2), ERANGE);
    assert_int_equal(buf[0], 0);
}

static void wmemcpy_s_clears_a_short_destination(void **state)
{
    (void)state;
    WCHAR buf[4] = {L'a', L'b', L'c', L'd'};
    assert_int_equal(wmemcpy_s(buf, 4, L"wxyz", 2), 0);
    assert_memory_equal(buf, ((WCHAR[]){L'w', L'x', L'c', L'd'}), sizeof(buf));
    assert_int_equal(wmemcpy_s(buf, 4, NULL, 0), 0);
    assert_int_equal(wmemcpy_s(buf, 3, L"wxyz", 4), ERANGE);
    assert_memory_equal(buf, ((WCHAR[]){0, 0, 0, L'd'}), sizeof(buf));
    assert_int_equal(wmemmove_s(buf, 2, L"12", 3), ERANGE);
    assert_int_equal(buf[3], L'd'); /* wmemmove_s leaves it alone */
}

/* ------------------------------------------------------------------------- */
/* Case and class                                                             */
/* ------------------------------------------------------------------------- */

static void towupper_and_towlower_use_unicode_simple_mapping(void **state)
{
    (void)state;
    assert_int_equal(towupper(L'a'), L'A');
    assert_int_equal(towupper(L'A'), L'A');
    assert_int_equal(towupper(0x00E9), 0x00C9); /* é */
    assert_int_equal(towupper(0x03C9), 0x03A9); /* ω */
    assert_int_equal(towupper(0x0439), 0x0419); /* й */
    assert_int_equal(towupper(0x00DF), 0x00DF); /* ß: no single-character mapping */
    assert_int_equal(towlower(0x0410), 0x0430); /* Cyrillic A */
    assert_int_equal(towlower(0xFF21), 0xFF41); /* fullwidth A */
    assert_int_equal(towlower(L'1'), L'1');
    assert_true(towupper(WEOF) == WEOF);
    assert_true(towlower(0x1F600) == 0x1F600); /* beyond the BMP: unchanged */
}

static void character_classes_follow_unicode_categories(void **state)
{
    (void)state;
    assert_true(iswalpha(L'q') && iswalpha(0x00E9) && iswalpha(0x4E2D) && iswalpha(0x05D0));
    assert_false(iswalpha(L'1') || iswalpha(L'_') || iswalpha(0x2603) || iswalpha(WEOF));
    assert_true(iswdigit(L'0') && iswdigit(L'9') && iswdigit(0x0663)); /* Arabic-Indic 3 */
    assert_false(iswdigit(L'a') || iswdigit(0x00B2) || iswdigit(L'/'));
    assert_true(iswxdigit(L'F') && iswxdigit(L'a') && iswxdigit(L'7'));
    assert_false(iswxdigit(L'g') || iswxdigit(0xFF21));
    assert_true(iswalnum(L'z') && iswalnum(L'5') && !iswalnum(L'-'));
    assert_true(iswspace(L' ') && iswspace(L'\t') && iswspace(L'\r') && iswspace(0x00A0) &&
                iswspace(0x3000) && iswspace(0x2028));
    assert_false(iswspace(L'x') || iswspace(0x200B) || iswspace(0));
    assert_true(iswupper(L'Q') && iswupper(0x00C9) && iswupper(0x0391));
    assert_false(iswupper(L'q') || iswupper(L'1'));
    assert_true(iswlower(L'q') && iswlower(0x00DF) && iswlower(0x03B1));
    assert_false(iswlower(L'Q') || iswlower(0x4E2D));
    assert_true(iswpunct(L'!') && iswpunct(L'_') && iswpunct(0x00A7) && iswpunct(0x20AC));
    assert_false(iswpunct(L'a') || iswpunct(L' '));
    assert_true(iswcntrl(0) && iswcntrl(0x1F) && iswcntrl(0x7F) && iswcntrl(0x9F));
    assert_false(iswcntrl(L' ') || iswcntrl(0xA0));
}

/* ------------------------------------------------------------------------- */
/* Misuse is a verifier report, never a crash                                 */
/* ------------------------------------------------------------------------- */

static bool misuse_wcscpy_s_null_destination(void)
{
    return wcscpy_s(NULL, 4, L"a") == EINVAL && errno == EINVAL;
}

static bool misuse_wcscpy_s_zero_size(void)
{
    WCHAR buf[2] = {L'x', 0};
    return wcscpy_s(buf, 0, L"a") == EINVAL && buf[0] == L'x';
}

static bool misuse_wcscpy_s_null_source(void)
{
    WCHAR buf[2] = {L'x', 0};
    return wcscpy_s(buf, 2, NULL) == EINVAL && buf[0] == 0;
}

static bool misuse_wcscpy_s_too_small(void)
{
    WCHAR buf[2] = {L'x', 0};
    return wcscpy_s(buf, 2, L"ab") == ERANGE && buf[0] == 0 && errno == ERANGE;
}

static bool misuse_wcsncpy_s_null_source(void)
{
    WCHAR buf[2] = {L'x', 0};
    return wcsncpy_s(buf, 2, NULL, 1) == EINVAL && buf[0] == 0;
}

static bool misuse_wcscat_s_unterminated(void)
{
    WCHAR buf[2] = {L'x', L'y'};
    return wcscat_s(buf, 2, L"a") == EINVAL && buf[0] == 0;
}

static bool misuse_wcsncat_s_too_small(void)
{
    WCHAR buf[3] = L"a";
    return wcsncat_s(buf, 3, L"bc", 2) == ERANGE && buf[0] == 0;
}

static bool misuse_wcslwr_s_unterminated(void)
{
    WCHAR buf[2] = {L'X', L'Y'};
    return _wcslwr_s(buf, 2) == EINVAL && buf[0] == 0;
}

static bool misuse_wcsupr_null(void)
{
    return _wcsupr(NULL) == NULL && errno == EINVAL;
}

static bool misuse_wcsicmp_null(void)
{
    return _wcsicmp(NULL, L"a") == _NLSCMPERROR && errno == EINVAL;
}

static bool misuse_wcsnicmp_null(void)
{
    return _wcsnicmp(L"a", NULL, 1) == _NLSCMPERROR;
}

static bool misuse_wmemcpy_s_null_source(void)
{
    WCHAR buf[2] = {L'x', L'y'};
    return wmemcpy_s(buf, 2, NULL, 1) == EINVAL && buf[0] == 0 && buf[1] == 0;
}

static bool misuse_wmemmove_s_null(void)
{
    return wmemmove_s(NULL, 2, L"a", 1) == EINVAL;
}

/* Plain routines: where Windows would fault, a report and an empty string. */
static bool misuse_wcslen_null(void)
{
    return wcslen(NULL) == 0;
}

static bool misuse_wcscmp_null(void)
{
    return wcscmp(NULL, L"a") < 0;
}

static bool misuse_wcscpy_null_destination(void)
{
    return wcscpy(NULL, L"a") == NULL;
}

static bool misuse_wcscat_null_source(void)
{
    WCHAR buf[4] = L"ab";
    return wcscat(buf, NULL) == buf && buf[2] == 0;
}

static bool misuse_wcschr_null(void)
{
    return wcschr(NULL, L'a') == NULL;
}

static bool misuse_wcsstr_null(void)
{
    return wcsstr(L"a", NULL) == NULL;
}

static bool misuse_wmemset_null(void)
{
    return wmemset(NULL, L'a', 2) == NULL;
}

static bool misuse_wcscpy_overlapping(void)
{
    /* Undefined in the CRT: reported, then copied as memmove would. */
    WCHAR buf[8] = L"abc";
    return wcscpy(buf + 1, buf) == buf + 1 && wcscmp(buf, L"aabc") == 0;
}

static bool misuse_wmemcpy_overlapping(void)
{
    WCHAR buf[4] = {L'1', L'2', L'3', L'4'};
    return wmemcpy(buf + 1, buf, 3) == buf + 1 && buf[3] == L'3';
}

static void misuse_is_reported_and_returns_the_documented_error(void **state)
{
    (void)state;
    static const struct crt_misuse cases[] = {
        {"wcscpy_s", misuse_wcscpy_s_null_destination},
        {"wcscpy_s", misuse_wcscpy_s_zero_size},
        {"wcscpy_s", misuse_wcscpy_s_null_source},
        {"wcscpy_s", misuse_wcscpy_s_too_small},
        {"wcsncpy_s", misuse_wcsncpy_s_null_source},
        {"wcscat_s", misuse_wcscat_s_unterminated},
        {"wcsncat_s", misuse_wcsncat_s_too_small},
        {"_wcslwr_s", misuse_wcslwr_s_unterminated},
        {"_wcsupr", misuse_wcsupr_null},
        {"_wcsicmp", misuse_wcsicmp_null},
        {"_wcsnicmp", misuse_wcsnicmp_null},
        {"wmemcpy_s", misuse_wmemcpy_s_null_source},
        {"wmemmove_s", misuse_wmemmove_s_null},
        {"wcslen", misuse_wcslen_null},
        {"wcscmp", misuse_wcscmp_null},
        {"wcscpy", misuse_wcscpy_null_destination},
        {"wcscat", misuse_wcscat_null_source},
        {"wcschr", misuse_wcschr_null},
        {"wcsstr", misuse_wcsstr_null},
        {"wmemset", misuse_wmemset_null},
        {"wcscpy", misuse_wcscpy_overlapping},
        {"wmemcpy", misuse_wmemcpy_overlapping},
    };
    crt_run_misuses(cases, RTL_NUMBER_OF(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(filter_including_wchar_first_gets_wcslen_3),
        cmocka_unit_test(filter_including_wchar_after_gets_wcslen_3),
        cmocka_unit_test(filter_routines_work_in_every_build),
        cmocka_unit_test(wcslen_counts_16_bit_units),
        cmocka_unit_test(wcscpy_and_wcscat_copy_terminators),
        cmocka_unit_test(wcsncpy_pads_with_zeros_and_leaves_a_full_copy_unterminated),
        cmocka_unit_test(wcsncat_appends_at_most_count_and_terminates),
        cmocka_unit_test(wcscmp_orders_by_unsigned_unit),
        cmocka_unit_test(wcsicmp_folds_non_ascii_letters),
        cmocka_unit_test(wcschr_and_wcsrchr_find_units_and_the_terminator),
        cmocka_unit_test(wcsstr_finds_substrings),
        cmocka_unit_test(wcspbrk_wcsspn_wcscspn_scan_sets),
        cmocka_unit_test(wcslwr_and_wcsupr_map_in_place),
        cmocka_unit_test(wmem_routines_count_units),
        cmocka_unit_test(wmemmove_handles_overlap_both_ways),
        cmocka_unit_test(wcscpy_s_copies_what_fits_else_empties_with_erange),
        cmocka_unit_test(wcsncpy_s_limits_by_count_and_truncates_on_request),
        cmocka_unit_test(wcscat_s_appends_what_fits_else_empties_with_erange),
        cmocka_unit_test(wcsncat_s_appends_count_or_truncates),
        cmocka_unit_test(wmemcpy_s_clears_a_short_destination),
        cmocka_unit_test(towupper_and_towlower_use_unicode_simple_mapping),
        cmocka_unit_test(character_classes_follow_unicode_categories),
        cmocka_unit_test(misuse_is_reported_and_returns_the_documented_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
