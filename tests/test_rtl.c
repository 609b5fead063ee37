/*
 * The kernel string slice minifilters use: Rtl counted strings and case
 * mapping (rtl_string.c), UTF-16 <-> UTF-8 at the edges (unicode.c),
 * FsRtlIsNameInExpression and FsRtlDoesNameContainWildCards (fsrtl.c), and
 * DbgPrint's Windows-style formatting through a capturing sink (dbgprint.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "fltsim_test.h"

/* RtlUpcaseUnicodeString's pool tag, 'SltR' (shown as "RtlS" in pool dumps). */
#define RTL_STRING_TAG 0x536c7452u

static UNICODE_STRING ustr(const WCHAR *s)
{
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, s);
    return u;
}

/* Fills n units of buf with c and terminates it (buf holds n + 1). */
static WCHAR *wide_run(WCHAR c, size_t n)
{
    WCHAR *buf = malloc((n + 1) * sizeof(WCHAR));
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = c;
    buf[n] = UNICODE_NULL;
    return buf;
}

/* ------------------------------------------------------------------------- */
/* RtlInit*String                                                             */
/* ------------------------------------------------------------------------- */

static void init_unicode_null_source_is_empty(void **state)
{
    (void)state;
    UNICODE_STRING u = {7, 7, (PWCH)L"x"};
    RtlInitUnicodeString(&u, NULL);
    assert_int_equal(u.Length, 0);
    assert_int_equal(u.MaximumLength, 0);
    assert_null(u.Buffer);
}

static void init_unicode_literal_counts_bytes_without_terminator(void **state)
{
    (void)state;
    static const WCHAR text[] = L"abc";
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, text);
    assert_int_equal(u.Length, 6);
    assert_int_equal(u.MaximumLength, 8);
    assert_ptr_equal(u.Buffer, text);
}

static void init_unicode_empty_literal_keeps_room_for_terminator(void **state)
{
    (void)state;
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, L"");
    assert_int_equal(u.Length, 0);
    assert_int_equal(u.MaximumLength, 2);
    assert_non_null(u.Buffer);
}

static void init_unicode_too_long_is_capped(void **state)
{
    (void)state;
    WCHAR *longest = wide_run(L'a', 32766);
    WCHAR *too_long = wide_run(L'a', 40000);
    UNICODE_STRING u;

    RtlInitUnicodeString(&u, longest);
    assert_int_equal(u.Length, 65532);
    assert_int_equal(u.MaximumLength, 65534);

    RtlInitUnicodeString(&u, too_long);
    assert_int_equal(u.Length, 65532);
    assert_int_equal(u.MaximumLength, 65534);
    assert_ptr_equal(u.Buffer, too_long);
    free(longest);
    free(too_long);
}

static void init_unicode_ex_too_long_is_invalid_parameter(void **state)
{
    (void)state;
    WCHAR *longest = wide_run(L'a', 32766);
    WCHAR *too_long = wide_run(L'a', 32767);
    UNICODE_STRING u;

    assert_status(RtlInitUnicodeStringEx(&u, longest), STATUS_SUCCESS);
    assert_int_equal(u.Length, 65532);
    assert_int_equal(u.MaximumLength, 65534);

    u.Length = 99;
    assert_status(RtlInitUnicodeStringEx(&u, too_long), STATUS_NAME_TOO_LONG);
    assert_int_equal(u.Length, 0);
    assert_int_equal(u.MaximumLength, 0);
    free(longest);
    free(too_long);
}

static void init_unicode_ex_null_source_succeeds_empty(void **state)
{
    (void)state;
    UNICODE_STRING u = {4, 4, (PWCH)L"ab"};
    assert_status(RtlInitUnicodeStringEx(&u, NULL), STATUS_SUCCESS);
    assert_int_equal(u.Length, 0);
    assert_int_equal(u.MaximumLength, 0);
    assert_null(u.Buffer);
}

static void init_ansi_counts_bytes_and_caps(void **state)
{
    (void)state;
    ANSI_STRING a;
    STRING s;
    RtlInitAnsiString(&a, "hello");
    assert_int_equal(a.Length, 5);
    assert_int_equal(a.MaximumLength, 6);
    assert_string_equal(a.Buffer, "hello");

    RtlInitString(&s, NULL);
    assert_int_equal(s.Length, 0);
    assert_int_equal(s.MaximumLength, 0);
    assert_null(s.Buffer);

    char *big = malloc(70001);
    assert_non_null(big);
    memset(big, 'x', 70000);
    big[70000] = '\0';
    RtlInitString(&s, big);
    assert_int_equal(s.Length, 65534);
    assert_int_equal(s.MaximumLength, 65535);
    free(big);
}

/* ------------------------------------------------------------------------- */
/* RtlCopyUnicodeString                                                       */
/* ------------------------------------------------------------------------- */

static void copy_fits_copies_and_terminates(void **state)
{
    (void)state;
    WCHAR buf[8];
    for (size_t i = 0; i < 8; i++)
        buf[i] = L'#';
    UNICODE_STRING dst = {0, sizeof(buf), buf};
    UNICODE_STRING src = ustr(L"abc");
    RtlCopyUnicodeString(&dst, &src);
    assert_int_equal(dst.Length, 6);
    assert_memory_equal(buf, L"abc", 8); /* includes the terminator */
    assert_int_equal(buf[4], L'#');
}

static void copy_too_long_truncates_to_maximum(void **state)
{
    (void)state;
    WCHAR buf[4] = {L'#', L'#', L'#', L'#'};
    UNICODE_STRING dst = {0, 3 * sizeof(WCHAR), buf};
    UNICODE_STRING src = ustr(L"abcdef");
    RtlCopyUnicodeString(&dst, &src);
    assert_int_equal(dst.Length, 6);
    assert_memory_equal(buf, L"abc", 6);
    assert_int_equal(buf[3], L'#'); /* exactly full: no terminator written */
}

static void copy_null_source_sets_length_zero(void **state)
{
    (void)state;
    WCHAR buf[4] = L"xyz";
    UNICODE_STRING dst = {6, sizeof(buf), buf};
    RtlCopyUnicodeString(&dst, NULL);
    assert_int_equal(dst.Length, 0);
    assert_int_equal(dst.MaximumLength, sizeof(buf));
}

/* ------------------------------------------------------------------------- */
/* Comparison                                                                 */
/* ------------------------------------------------------------------------- */

static void compare_equal_strings_is_zero(void **state)
{
    (void)state;
    UNICODE_STRING a = ustr(L"abc"), b = ustr(L"abc");
    assert_int_equal(RtlCompareUnicodeString(&a, &b, FALSE), 0);
    assert_int_equal(RtlCompareUnicodeString(&a, &b, TRUE), 0);
}

static void compare_orders_by_code_unit(void **state)
{
    (void)state;
    UNICODE_STRING a = ustr(L"abc"), b = ustr(L"abd"), hi = ustr(L"\u00e9");
    assert_true(RtlCompareUnicodeString(&a, &b, FALSE) < 0);
    assert_true(RtlCompareUnicodeString(&b, &a, FALSE) > 0);
    /* U+00E9 sorts after every ASCII character. */
    assert_true(RtlCompareUnicodeString(&hi, &a, FALSE) > 0);
}

static void compare_shorter_prefix_sorts_first(void **state)
{
    (void)state;
    UNICODE_STRING shorter = ustr(L"ab"), longer = ustr(L"abc"), empty = ustr(L"");
    assert_true(RtlCompareUnicodeString(&shorter, &longer, FALSE) < 0);
    assert_true(RtlCompareUnicodeString(&longer, &shorter, FALSE) > 0);
    assert_true(RtlCompareUnicodeString(&empty, &shorter, TRUE) < 0);
}

static void compare_case_insensitive_compares_upcased(void **state)
{
    (void)state;
    UNICODE_STRING upper = ustr(L"ABC"), lower = ustr(L"abc");
    UNICODE_STRING a = ustr(L"a"), underscore = ustr(L"_");
    assert_int_equal(RtlCompareUnicodeString(&upper, &lower, TRUE), 0);
    assert_true(RtlCompareUnicodeString(&upper, &lower, FALSE) < 0);
    /* 'a' (0x61) > '_' (0x5F), but upcased 'A' (0x41) < '_'. */
    assert_true(RtlCompareUnicodeString(&a, &underscore, FALSE) > 0);
    assert_true(RtlCompareUnicodeString(&a, &underscore, TRUE) < 0);
}

static void compare_case_insensitive_folds_non_ascii(void **state)
{
    (void)state;
    /* ete/ETE with acute accents, Greek sigma, Cyrillic "da". */
    UNICODE_STRING e1 = ustr(L"\u00e9t\u00e9"), e2 = ustr(L"\u00c9T\u00c9");
    UNICODE_STRING s1 = ustr(L"\u03c3"), s2 = ustr(L"\u03a3");
    UNICODE_STRING c1 = ustr(L"\u0434\u0430"), c2 = ustr(L"\u0414\u0410");
    assert_int_equal(RtlCompareUnicodeString(&e1, &e2, TRUE), 0);
    assert_true(RtlCompareUnicodeString(&e1, &e2, FALSE) != 0);
    assert_int_equal(RtlCompareUnicodeString(&s1, &s2, TRUE), 0);
    assert_int_equal(RtlCompareUnicodeString(&c1, &c2, TRUE), 0);
    assert_true(RtlCompareUnicodeString(&c1, &c2, FALSE) > 0);
}

static void equal_different_lengths_is_false(void **state)
{
    (void)state;
    UNICODE_STRING a = ustr(L"abc"), b = ustr(L"abcd"), c = ustr(L"ABC");
    assert_false(RtlEqualUnicodeString(&a, &b, TRUE));
    assert_true(RtlEqualUnicodeString(&a, &c, TRUE));
    assert_false(RtlEqualUnicodeString(&a, &c, FALSE));
    assert_true(RtlEqualUnicodeString(&a, &a, FALSE));
}

static void equal_empty_strings_is_true(void **state)
{
    (void)state;
    UNICODE_STRING null_buffer = {0, 0, NULL}, empty = ustr(L"");
    assert_true(RtlEqualUnicodeString(&null_buffer, &empty, FALSE));
}

static void prefix_checks_first_string_against_second(void **state)
{
    (void)state;
    UNICODE_STRING dir = ustr(L"\\Windows\\"), path = ustr(L"\\WINDOWS\\system32");
    UNICODE_STRING empty = ustr(L"");
    assert_true(RtlPrefixUnicodeString(&dir, &path, TRUE));
    assert_false(RtlPrefixUnicodeString(&dir, &path, FALSE));
    assert_false(RtlPrefixUnicodeString(&path, &dir, TRUE)); /* longer than the string */
    assert_true(RtlPrefixUnicodeString(&empty, &path, FALSE));
    assert_true(RtlPrefixUnicodeString(&path, &path, FALSE));
}

static void suffix_checks_first_string_against_second(void **state)
{
    (void)state;
    UNICODE_STRING ext = ustr(L".txt"), name = ustr(L"readme.TXT"), other = ustr(L"readme.doc");
    UNICODE_STRING empty = ustr(L""), null_buffer = {0, 0, NULL};
    assert_true(RtlSuffixUnicodeString(&ext, &name, TRUE));
    assert_false(RtlSuffixUnicodeString(&ext, &name, FALSE));
    assert_false(RtlSuffixUnicodeString(&ext, &other, TRUE));
    assert_false(RtlSuffixUnicodeString(&name, &ext, TRUE)); /* longer than the string */
    assert_true(RtlSuffixUnicodeString(&empty, &name, FALSE));
    assert_true(RtlSuffixUnicodeString(&null_buffer, &null_buffer, FALSE));
}

static void compare_memory_counts_leading_equal_bytes(void **state)
{
    (void)state;
    const char a[] = "abcdef", b[] = "abcxef";
    assert_int_equal(RtlCompareMemory(a, b, 6), 3);
    assert_int_equal(RtlCompareMemory(a, a, 6), 6);
    assert_int_equal(RtlCompareMemory(a, b, 0), 0);
    assert_int_equal(RtlCompareMemory(a, b, 2), 2);
}

/* ------------------------------------------------------------------------- */
/* Appending                                                                  */
/* ------------------------------------------------------------------------- */

static void append_unicode_fits_appends_and_terminates(void **state)
{
    (void)state;
    WCHAR buf[8] = L"ab";
    buf[3] = L'#';
    UNICODE_STRING dst = {4, sizeof(buf), buf};
    assert_status(RtlAppendUnicodeToString(&dst, L"cd"), STATUS_SUCCESS);
    assert_int_equal(dst.Length, 8);
    assert_memory_equal(buf, L"abcd", 10);
}

static void append_unicode_too_small_leaves_destination_unchanged(void **state)
{
    (void)state;
    WCHAR buf[4] = {L'a', L'b', L'#', L'#'};
    UNICODE_STRING dst = {4, sizeof(buf), buf};
    assert_status(RtlAppendUnicodeToString(&dst, L"cde"), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(dst.Length, 4);
    assert_int_equal(dst.MaximumLength, sizeof(buf));
    assert_int_equal(buf[2], L'#');
    assert_int_equal(buf[3], L'#');
}

static void append_unicode_exactly_full_writes_no_terminator(void **state)
{
    (void)state;
    WCHAR buf[5] = {L'a', L'b', L'#', L'#', L'#'};
    UNICODE_STRING dst = {4, 4 * sizeof(WCHAR), buf};
    assert_status(RtlAppendUnicodeToString(&dst, L"cd"), STATUS_SUCCESS);
    assert_int_equal(dst.Length, 8);
    assert_memory_equal(buf, L"abcd", 8);
    assert_int_equal(buf[4], L'#');
}

static void append_unicode_null_source_succeeds_unchanged(void **state)
{
    (void)state;
    WCHAR buf[4] = L"ab";
    UNICODE_STRING dst = {4, sizeof(buf), buf};
    assert_status(RtlAppendUnicodeToString(&dst, NULL), STATUS_SUCCESS);
    assert_int_equal(dst.Length, 4);
}

static void append_string_fits_appends_and_terminates(void **state)
{
    (void)state;
    DECLARE_UNICODE_STRING_SIZE(dst, 16);
    UNICODE_STRING a = ustr(L"\\Device"), b = ustr(L"\\Volume1");
    dst_buffer[15] = L'#';
    assert_status(RtlAppendUnicodeStringToString(&dst, &a), STATUS_SUCCESS);
    assert_status(RtlAppendUnicodeStringToString(&dst, &b), STATUS_SUCCESS);
    assert_int_equal(dst.Length, 30);
    assert_memory_equal(dst.Buffer, L"\\Device\\Volume1", 32);
}

static void append_string_too_small_leaves_destination_unchanged(void **state)
{
    (void)state;
    WCHAR buf[6] = {L'a', L'#', L'#', L'#', L'#', L'#'};
    UNICODE_STRING dst = {2, sizeof(buf), buf};
    UNICODE_STRING src = ustr(L"bcdefg");
    assert_status(RtlAppendUnicodeStringToString(&dst, &src), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(dst.Length, 2);
    for (size_t i = 1; i < 6; i++)
        assert_int_equal(buf[i], L'#');
}

static void append_string_exactly_full_succeeds(void **state)
{
    (void)state;
    WCHAR buf[4] = {L'a', L'#', L'#', L'#'};
    UNICODE_STRING dst = {2, sizeof(buf), buf};
    UNICODE_STRING src = ustr(L"bcd");
    assert_status(RtlAppendUnicodeStringToString(&dst, &src), STATUS_SUCCESS);
    assert_int_equal(dst.Length, 8);
    assert_memory_equal(buf, L"abcd", 8);
}

static void append_string_empty_source_changes_nothing(void **state)
{
    (void)state;
    WCHAR buf[4] = {L'a', L'#', L'#', L'#'};
    UNICODE_STRING dst = {2, sizeof(buf), buf};
    UNICODE_STRING src = {0, 0, NULL};
    assert_status(RtlAppendUnicodeStringToString(&dst, &src), STATUS_SUCCESS);
    assert_int_equal(dst.Length, 2);
    assert_int_equal(buf[1], L'#');
}

/* ------------------------------------------------------------------------- */
/* Case mapping                                                               */
/* ------------------------------------------------------------------------- */

static void upcase_char_ascii_letters_only(void **state)
{
    (void)state;
    assert_int_equal(RtlUpcaseUnicodeChar(L'a'), L'A');
    assert_int_equal(RtlUpcaseUnicodeChar(L'z'), L'Z');
    assert_int_equal(RtlUpcaseUnicodeChar(L'A'), L'A');
    assert_int_equal(RtlUpcaseUnicodeChar(L'0'), L'0');
    assert_int_equal(RtlUpcaseUnicodeChar(L'_'), L'_');
    assert_int_equal(RtlUpcaseUnicodeChar(L'{'), L'{');
    assert_int_equal(RtlUpcaseUnicodeChar(0), 0);
}

static void upcase_char_non_ascii_maps_simple_case(void **state)
{
    (void)state;
    assert_int_equal(RtlUpcaseUnicodeChar(0x00E9), 0x00C9); /* e acute */
    assert_int_equal(RtlUpcaseUnicodeChar(0x00FF), 0x0178); /* y diaeresis */
    assert_int_equal(RtlUpcaseUnicodeChar(0x03C3), 0x03A3); /* sigma */
    assert_int_equal(RtlUpcaseUnicodeChar(0x03C2), 0x03A3); /* final sigma */
    assert_int_equal(RtlUpcaseUnicodeChar(0x0434), 0x0414); /* Cyrillic de */
    assert_int_equal(RtlUpcaseUnicodeChar(0x0451), 0x0401); /* Cyrillic io */
    assert_int_equal(RtlUpcaseUnicodeChar(0x01C6), 0x01C4); /* dz caron digraph */
    assert_int_equal(RtlUpcaseUnicodeChar(0xFF41), 0xFF21); /* fullwidth a */
    /* A delta wider than 15 bits: U+1D79 -> U+A77D. */
    assert_int_equal(RtlUpcaseUnicodeChar(0x1D79), 0xA77D);
}

static void upcase_char_without_single_mapping_is_unchanged(void **state)
{
    (void)state;
    assert_int_equal(RtlUpcaseUnicodeChar(0x00DF), 0x00DF); /* sharp s -> "SS" */
    assert_int_equal(RtlUpcaseUnicodeChar(0xFB01), 0xFB01); /* fi ligature -> "FI" */
    assert_int_equal(RtlUpcaseUnicodeChar(0x00C9), 0x00C9);
    for (unsigned u = 0xD800; u <= 0xDFFF; u++)
        assert_int_equal(RtlUpcaseUnicodeChar((WCHAR)u), u);
    assert_int_equal(RtlUpcaseUnicodeChar(0xFFFF), 0xFFFF);
}

static void downcase_char_maps_simple_case(void **state)
{
    (void)state;
    assert_int_equal(RtlDowncaseUnicodeChar(L'A'), L'a');
    assert_int_equal(RtlDowncaseUnicodeChar(L'a'), L'a');
    assert_int_equal(RtlDowncaseUnicodeChar(0x00C9), 0x00E9);
    assert_int_equal(RtlDowncaseUnicodeChar(0x03A3), 0x03C3);
    assert_int_equal(RtlDowncaseUnicodeChar(0x0414), 0x0434);
    assert_int_equal(RtlDowncaseUnicodeChar(0x212A), L'k');   /* Kelvin sign */
    assert_int_equal(RtlDowncaseUnicodeChar(0x0130), 0x0130); /* dotted I -> two units */
    assert_int_equal(RtlDowncaseUnicodeChar(0xDC00), 0xDC00);
}

static void case_mapping_round_trips_ascii_and_latin1(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 0x100; c++) {
        WCHAR up = RtlUpcaseUnicodeChar((WCHAR)c);
        bool lower_letter = (c >= 'a' && c <= 'z') ||
                            (c >= 0xE0 && c <= 0xFE && c != 0xF7); /* not the division sign */
        if (lower_letter) {
            assert_true(up != c);
            assert_int_equal(RtlDowncaseUnicodeChar(up), c);
        } else if (c != 0xB5 && c != 0xFF) {
            /* micro sign and y diaeresis upcase outside Latin-1 */
            assert_int_equal(up, c);
        }
    }
}

static void upcase_string_into_buffer_upcases(void **state)
{
    (void)state;
    WCHAR buf[8];
    UNICODE_STRING dst = {0, sizeof(buf), buf};
    UNICODE_STRING src = ustr(L"a\u00e9\u03c3z1");
    assert_status(RtlUpcaseUnicodeString(&dst, &src, FALSE), STATUS_SUCCESS);
    assert_int_equal(dst.Length, 10);
    assert_int_equal(dst.MaximumLength, sizeof(buf));
    assert_memory_equal(buf, L"A\u00c9\u03a3Z1", 10);
}

static void upcase_string_too_small_is_buffer_overflow(void **state)
{
    (void)state;
    WCHAR buf[2] = {L'#', L'#'};
    UNICODE_STRING dst = {0, sizeof(buf), buf};
    UNICODE_STRING src = ustr(L"abc");
    assert_status(RtlUpcaseUnicodeString(&dst, &src, FALSE), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(dst.Length, 0);
    assert_int_equal(buf[0], L'#');
}

static void upcase_string_in_place_upcases(void **state)
{
    (void)state;
    WCHAR buf[] = L"mixed Case";
    UNICODE_STRING s = {20, sizeof(buf), buf};
    assert_status(RtlUpcaseUnicodeString(&s, &s, FALSE), STATUS_SUCCESS);
    assert_memory_equal(buf, L"MIXED CASE", 22);
}

static void upcase_string_allocated_is_pool_tagged_and_freed(void **state)
{
    (void)state;
    struct fltsim_pool_stats before, during, after;
    fltsim_pool_tag_stats(RTL_STRING_TAG, &before);

    UNICODE_STRING dst = {0, 0, NULL};
    UNICODE_STRING src = ustr(L"abc");
    assert_status(RtlUpcaseUnicodeString(&dst, &src, TRUE), STATUS_SUCCESS);
    assert_non_null(dst.Buffer);
    assert_true(dst.Buffer != src.Buffer);
    assert_int_equal(dst.Length, 6);
    assert_int_equal(dst.MaximumLength, 6);
    assert_memory_equal(dst.Buffer, L"ABC", 6);

    fltsim_pool_tag_stats(RTL_STRING_TAG, &during);
    assert_true(during.outstanding == before.outstanding + 1);
    assert_true(during.total == before.total + 1);

    RtlFreeUnicodeString(&dst);
    assert_null(dst.Buffer);
    assert_int_equal(dst.Length, 0);
    assert_int_equal(dst.MaximumLength, 0);
    fltsim_pool_tag_stats(RTL_STRING_TAG, &after);
    assert_true(after.outstanding == before.outstanding);
}

static void free_unicode_null_buffer_is_harmless(void **state)
{
    (void)state;
    ULONG64 outstanding = fltsim_pool_outstanding();
    UNICODE_STRING s = {4, 8, NULL};
    RtlFreeUnicodeString(&s);
    assert_int_equal(s.Length, 0);
    assert_int_equal(s.MaximumLength, 0);
    assert_null(s.Buffer);
    assert_true(fltsim_pool_outstanding() == outstanding);
}

/* ------------------------------------------------------------------------- */
/* UTF-16 <-> UTF-8                                                           */
/* ------------------------------------------------------------------------- */

static void utf16_to_utf8_encodes_bmp(void **state)
{
    (void)state;
    const WCHAR in[] = {L'a', 0x00E9, 0x20AC};
    char out[16];
    assert_int_equal(fltsim_utf16_to_utf8(in, 3, out, sizeof(out)), 6);
    assert_string_equal(out, "a\xC3\xA9\xE2\x82\xAC");
}

static void utf16_to_utf8_joins_surrogate_pair(void **state)
{
    (void)state;
    const WCHAR in[] = {0xD83D, 0xDE00}; /* U+1F600 */
    char out[8];
    assert_int_equal(fltsim_utf16_to_utf8(in, 2, out, sizeof(out)), 4);
    assert_string_equal(out, "\xF0\x9F\x98\x80");
}

static void utf16_to_utf8_unpaired_surrogates_become_replacement(void **state)
{
    (void)state;
    const WCHAR high_then_letter[] = {0xD83D, L'x'};
    const WCHAR lone_low[] = {0xDE00};
    const WCHAR high_at_end[] = {L'x', 0xD83D};
    char out[16];
    assert_int_equal(fltsim_utf16_to_utf8(high_then_letter, 2, out, sizeof(out)), 4);
    assert_string_equal(out, "\xEF\xBF\xBDx");
    assert_int_equal(fltsim_utf16_to_utf8(lone_low, 1, out, sizeof(out)), 3);
    assert_string_equal(out, "\xEF\xBF\xBD");
    assert_int_equal(fltsim_utf16_to_utf8(high_at_end, 2, out, sizeof(out)), 4);
    assert_string_equal(out, "x\xEF\xBF\xBD");
}

static void utf16_to_utf8_small_buffer_cuts_at_character(void **state)
{
    (void)state;
    const WCHAR in[] = {L'a', 0x20AC, L'b'}; /* 1 + 3 + 1 bytes */
    char out[8];
    memset(out, '#', sizeof(out));
    /* Room for 3 bytes and the terminator: the euro sign does not fit whole. */
    assert_int_equal(fltsim_utf16_to_utf8(in, 3, out, 4), 1);
    assert_string_equal(out, "a");
    assert_int_equal(fltsim_utf16_to_utf8(in, 3, out, 5), 4);
    assert_string_equal(out, "a\xE2\x82\xAC");
    assert_int_equal(fltsim_utf16_to_utf8(in, 3, out, 1), 0);
    assert_string_equal(out, "");
}

static void utf16_to_utf8_zero_size_writes_nothing(void **state)
{
    (void)state;
    char out[2] = {'#', '#'};
    assert_int_equal(fltsim_utf16_to_utf8(L"abc", 3, out, 0), 0);
    assert_int_equal(out[0], '#');
}

static void utf8_to_utf16_decodes_all_lengths(void **state)
{
    (void)state;
    WCHAR out[16];
    const WCHAR expected[] = {L'a', 0x00E9, 0x20AC, 0xD83D, 0xDE00, 0};
    assert_int_equal(fltsim_utf8_to_utf16("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", out, 16), 5);
    assert_memory_equal(out, expected, sizeof(expected));
    assert_int_equal(fltsim_utf8_to_utf16("", out, 1), 0);
    assert_int_equal(out[0], 0);
}

static void utf8_to_utf16_invalid_input_is_error(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xC0\x80",         /* overlong NUL */
        "\xC1\xBF",         /* overlong */
        "\xE0\x80\xAF",     /* overlong '/' */
        "\xF0\x80\x80\x80", /* overlong */
        "\xED\xA0\x80",     /* surrogate U+D800 */
        "\xED\xBF\xBF",     /* surrogate U+DFFF */
        "\xF4\x90\x80\x80", /* above U+10FFFF */
        "\xF8\x88\x80\x80\x80",
        "\x80",      /* stray continuation */
        "a\xE2\x82", /* truncated */
        "\xE2\x82z", /* bad continuation */
        "\xFF",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        WCHAR out[16] = {L'#'};
        assert_true(fltsim_utf8_to_utf16(bad[i], out, 16) == (size_t)-1);
        assert_int_equal(out[0], 0);
    }
    WCHAR out[4];
    assert_true(fltsim_utf8_to_utf16(NULL, out, 4) == (size_t)-1);
}

static void utf8_to_utf16_no_room_is_error(void **state)
{
    (void)state;
    WCHAR out[4];
    assert_int_equal(fltsim_utf8_to_utf16("abc", out, 4), 3);
    assert_true(fltsim_utf8_to_utf16("abcd", out, 4) == (size_t)-1);
    assert_true(fltsim_utf8_to_utf16("", out, 0) == (size_t)-1);
    /* A pair needs two units. */
    assert_true(fltsim_utf8_to_utf16("ab\xF0\x9F\x98\x80", out, 4) == (size_t)-1);
}

static void wcslen_counts_units_to_terminator(void **state)
{
    (void)state;
    assert_int_equal(fltsim_wcslen(L"abc"), 3);
    assert_int_equal(fltsim_wcslen(L""), 0);
    assert_int_equal(fltsim_wcslen(NULL), 0);
    const WCHAR pair[] = {0xD83D, 0xDE00, 0};
    assert_int_equal(fltsim_wcslen(pair), 2);
}

/* ------------------------------------------------------------------------- */
/* FsRtlIsNameInExpression                                                   */
/* ------------------------------------------------------------------------- */

static BOOLEAN match(const WCHAR *expression, const WCHAR *name, BOOLEAN ignore_case)
{
    UNICODE_STRING e = ustr(expression), n = ustr(name);
    return FsRtlIsNameInExpression(&e, &n, ignore_case, NULL);
}

static void name_expression_empty_strings_match_only_each_other(void **state)
{
    (void)state;
    assert_true(match(L"", L"", FALSE));
    assert_false(match(L"", L"a", FALSE));
    assert_false(match(L"*", L"", FALSE)); /* documented: "*" does not match "" */
    assert_false(match(L"<", L"", FALSE));
}

static void name_expression_literal_matches_exactly(void **state)
{
    (void)state;
    assert_true(match(L"abc", L"abc", FALSE));
    assert_false(match(L"abc", L"abcd", FALSE));
    assert_false(match(L"abcd", L"abc", FALSE));
    assert_false(match(L"abc", L"ABC", FALSE));
}

static void name_expression_star_matches_any_sequence(void **state)
{
    (void)state;
    assert_true(match(L"*", L"anything.at.all", FALSE));
    assert_true(match(L"*.txt", L"foo.txt", FALSE));
    assert_true(match(L"*.txt", L".txt", FALSE));
    assert_true(match(L"*.txt", L"a.b.txt", FALSE));
    assert_false(match(L"*.txt", L"foo.txtx", FALSE));
    assert_false(match(L"*.txt", L"footxt", FALSE));
    assert_true(match(L"a*b*c", L"aXXbYYc", FALSE));
    assert_true(match(L"a*b*c", L"abc", FALSE));
    assert_false(match(L"a*b*c", L"acb", FALSE));
    assert_true(match(L"**", L"x", FALSE));
}

static void name_expression_plain_star_dot_star_requires_dot(void **state)
{
    (void)state;
    assert_false(match(L"*.*", L"readme", FALSE));
    assert_true(match(L"*.*", L"readme.txt", FALSE));
    assert_true(match(L"*.*", L"readme.", FALSE));
    assert_true(match(L"*.*", L".profile", FALSE));
}

static void name_expression_question_matches_exactly_one(void **state)
{
    (void)state;
    assert_true(match(L"?", L"a", FALSE));
    assert_false(match(L"?", L"ab", FALSE));
    assert_true(match(L"a?c", L"abc", FALSE));
    assert_false(match(L"a?c", L"ac", FALSE));
    assert_true(match(L"a?c", L"a.c", FALSE)); /* unlike DOS_QM, '?' takes a dot */
    assert_true(match(L"??", L"\u00e9\u00e9", FALSE));
}

static void name_expression_dos_star_stops_before_last_dot(void **state)
{
    (void)state;
    /* "*.txt" as the Win32 layer passes it down: <.txt */
    assert_true(match(L"<.txt", L"foo.txt", FALSE));
    assert_true(match(L"<.txt", L"a.b.txt", FALSE)); /* earlier dots may be eaten */
    assert_false(match(L"<.txt", L"foo.doc", FALSE));
    /* Alone it matches a name without a dot, but cannot eat the last dot. */
    assert_true(match(L"<", L"foo", FALSE));
    assert_false(match(L"<", L"foo.txt", FALSE));
    assert_true(match(L"<a", L"bba", FALSE));
    assert_true(match(L"<.b", L"a.b", FALSE));
    assert_false(match(L"<b", L"a.b", FALSE)); /* would need the last dot */
}

static void name_expression_dos_dot_matches_dot_or_end(void **state)
{
    (void)state;
    assert_true(match(L"a\"b", L"a.b", FALSE));
    assert_false(match(L"a\"b", L"ab", FALSE)); /* zero characters only at the end */
    assert_true(match(L"a\"", L"a", FALSE));
    assert_true(match(L"a\"", L"a.", FALSE));
    assert_false(match(L"a\"", L"ab", FALSE));
}

static void name_expression_dos_qm_matches_one_or_none_at_dot(void **state)
{
    (void)state;
    assert_true(match(L">>>", L"ab", FALSE));
    assert_true(match(L">>>", L"abc", FALSE));
    assert_false(match(L">>>", L"abcd", FALSE));
    assert_false(match(L">", L"", FALSE));
    assert_false(match(L"a>b", L"a.b", FALSE)); /* never takes the dot itself */
    assert_true(match(L"a>.b", L"a.b", FALSE));
    assert_true(match(L"a>.b", L"ax.b", FALSE));
    assert_false(match(L"a>.b", L"axy.b", FALSE));
    assert_false(match(L">b", L"b", FALSE)); /* not at a dot or the end: one character */
}

static void name_expression_dos_eight_dot_three_pattern(void **state)
{
    (void)state;
    /* "????????.???" as the Win32 layer passes it down. */
    const WCHAR *expr = L">>>>>>>>\">>>";
    assert_true(match(expr, L"foo.c", FALSE));
    assert_true(match(expr, L"foo", FALSE));
    assert_true(match(expr, L"12345678.abc", FALSE));
    assert_false(match(expr, L"123456789.c", FALSE));
    assert_false(match(expr, L"foo.abcd", FALSE));
}

static void name_expression_dos_star_dot_translations(void **state)
{
    (void)state;
    /* "*." as passed down, <" : names without an extension. */
    assert_true(match(L"<\"", L"readme", FALSE));
    assert_true(match(L"<\"", L"readme.", FALSE));
    assert_false(match(L"<\"", L"readme.txt", FALSE));
    /* <"* : the DOS meaning of "*.*", every name, with or without a dot. */
    assert_true(match(L"<\"*", L"readme", FALSE));
    assert_true(match(L"<\"*", L"readme.txt", FALSE));
    assert_true(match(L"<\"*", L"a.b.c", FALSE));
}

static void name_expression_ignore_case_upcases_name_only(void **state)
{
    (void)state;
    assert_true(match(L"FOO*.TXT", L"foo1.txt", TRUE));
    assert_false(match(L"FOO*.TXT", L"foo1.txt", FALSE));
    assert_true(match(L"\u00c9T\u00c9?", L"\u00e9t\u00e9s", TRUE));
    assert_true(match(L"\u0414*", L"\u0434\u0430", TRUE));
    /* The expression must already be upcased: a lower-case one never
     * matches with IgnoreCase, as on Windows. */
    assert_false(match(L"foo", L"foo", TRUE));
}

static void name_expression_upcase_table_is_ignored(void **state)
{
    (void)state;
    WCHAR table[1] = {0};
    UNICODE_STRING e = ustr(L"ABC*"), n = ustr(L"abcdef");
    /* Reported on standard error (no system is current); the default table
     * is used. */
    assert_true(FsRtlIsNameInExpression(&e, &n, TRUE, table));
}

static void name_expression_long_name_runs_in_polynomial_time(void **state)
{
    (void)state;
    WCHAR *name = wide_run(L'a', 4000);
    UNICODE_STRING n = ustr(name), e = ustr(L"*a*a*a*a*a*b");
    uint64_t start = uv_hrtime();
    /* Naive backtracking tries about C(4000, 5) ways before failing. */
    assert_false(FsRtlIsNameInExpression(&e, &n, FALSE, NULL));
    name[3999] = L'b';
    assert_true(FsRtlIsNameInExpression(&e, &n, FALSE, NULL));

    WCHAR *longest = wide_run(L'a', 32767);
    UNICODE_STRING big = {(USHORT)65534, (USHORT)65534, longest};
    UNICODE_STRING stars = ustr(L"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b");
    assert_false(FsRtlIsNameInExpression(&stars, &big, FALSE, NULL));
    uint64_t elapsed_ms = (uv_hrtime() - start) / 1000000;
    assert_true(elapsed_ms < 10000);
    free(name);
    free(longest);
}

static void wildcards_detected_in_name(void **state)
{
    (void)state;
    static const WCHAR *const wild[] = {L"a*", L"?", L"x<y", L"x>", L"\"q"};
    for (size_t i = 0; i < sizeof(wild) / sizeof(wild[0]); i++) {
        UNICODE_STRING u = ustr(wild[i]);
        assert_true(FsRtlDoesNameContainWildCards(&u));
    }
    UNICODE_STRING plain = ustr(L"plain.txt"), empty = {0, 0, NULL};
    assert_false(FsRtlDoesNameContainWildCards(&plain));
    assert_false(FsRtlDoesNameContainWildCards(&empty));
    /* Only the counted characters are looked at. */
    UNICODE_STRING cut = {4, 8, (PWCH)L"ab*"};
    assert_false(FsRtlDoesNameContainWildCards(&cut));
}

/* ------------------------------------------------------------------------- */
/* DbgPrint                                                                   */
/* ------------------------------------------------------------------------- */

struct capture {
    char text[1024];
    int calls;
};

static void capture_cb(void *ctx, const char *text)
{
    struct capture *c = ctx;
    snprintf(c->text, sizeof(c->text), "%s", text);
    c->calls++;
}

static int capture_setup(void **state)
{
    struct capture *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -1;
    fltsim_debug_set_sink(capture_cb, c);
    *state = c;
    return 0;
}

static int capture_teardown(void **state)
{
    fltsim_debug_set_sink(NULL, NULL);
    free(*state);
    return 0;
}

static void dbgprint_plain_text_reaches_sink_unchanged(void **state)
{
    struct capture *c = *state;
    assert_status(DbgPrint("hello, world\n"), STATUS_SUCCESS);
    assert_int_equal(c->calls, 1);
    assert_string_equal(c->text, "hello, world\n");
}

static void dbgprint_unicode_string_prints_utf8(void **state)
{
    struct capture *c = *state;
    UNICODE_STRING u = ustr(L"\\caf\u00e9\\x");
    UNICODE_STRING cut = {6, 8, (PWCH)L"abcd"}; /* not terminated at Length */
    assert_status(DbgPrint("[%wZ] [%wZ]", &u, &cut), STATUS_SUCCESS);
    assert_string_equal(c->text, "[\\caf\xC3\xA9\\x] [abc]");
}

static void dbgprint_null_unicode_string_prints_null(void **state)
{
    struct capture *c = *state;
    UNICODE_STRING no_buffer = {0, 0, NULL};
    DbgPrint("%wZ|%wZ|%ws|%s", (PUNICODE_STRING)NULL, &no_buffer, (PCWSTR)NULL, (char *)NULL);
    assert_string_equal(c->text, "(null)|(null)|(null)|(null)");
}

static void dbgprint_wide_strings_and_chars_print_utf8(void **state)
{
    struct capture *c = *state;
    const WCHAR pair[] = {L'<', 0xD83D, 0xDE00, L'>', 0};
    DbgPrint("%ws %S %ls %s %hs", L"w\u00e9", L"S", pair, "narrow", "h");
    assert_string_equal(c->text, "w\xC3\xA9 S <\xF0\x9F\x98\x80> narrow h");
    DbgPrint("%c%C%wc%lc%hc", 'a', (WCHAR)0x00E9, (WCHAR)L'b', (WCHAR)0x20AC, 'z');
    assert_string_equal(c->text, "a\xC3\xA9"
                                 "b\xE2\x82\xAC"
                                 "z");
}

static void dbgprint_ansi_string_prints_counted_bytes(void **state)
{
    struct capture *c = *state;
    ANSI_STRING a = {3, 6, (PCHAR) "abcdef"};
    DbgPrint("<%Z>", &a);
    assert_string_equal(c->text, "<abc>");
    DbgPrint("<%Z>", (PANSI_STRING)NULL);
    assert_string_equal(c->text, "<(null)>");
}

static void dbgprint_l_modifier_is_32_bits(void **state)
{
    struct capture *c = *state;
    ULONG big = 4000000000u;
    LONG negative = -5;
    DbgPrint("%lu %ld %lx %lX %d", big, negative, (ULONG)0xdeadbeef, (ULONG)0xabc, 7);
    assert_string_equal(c->text, "4000000000 -5 deadbeef ABC 7");
}

static void dbgprint_64_bit_prefixes_take_64_bits(void **state)
{
    struct capture *c = *state;
    ULONGLONG v = 0x123456789abcdef0ULL;
    LONGLONG neg = -1234567890123LL;
    DbgPrint("%I64x %I64d %llu %I64X|%d", v, neg, 18446744073709551615ULL, v, 9);
    assert_string_equal(c->text,
                        "123456789abcdef0 -1234567890123 18446744073709551615 123456789ABCDEF0|9");
}

static void dbgprint_pointer_sized_prefixes(void **state)
{
    struct capture *c = *state;
    SIZE_T size = (SIZE_T)1 << 40;
    ULONG_PTR uptr = 42;
    DbgPrint("%Iu %zu %Ix %I32u %hu %hhu|%d", size, size, uptr, (ULONG)3000000000u, (unsigned)70000,
             (unsigned)300, 5);
    assert_string_equal(c->text, "1099511627776 1099511627776 2a 3000000000 4464 44|5");
}

static void dbgprint_pointer_prints_all_hex_digits(void **state)
{
    struct capture *c = *state;
    char expected[64];
    void *p = (void *)(uintptr_t)0xabc123;
    snprintf(expected, sizeof(expected), "%0*" PRIXPTR "|", (int)(2 * sizeof(void *)),
             (uintptr_t)p);
    DbgPrint("%p|", p);
    assert_string_equal(c->text, expected);
    DbgPrint("%p", NULL);
    assert_int_equal(strlen(c->text), 2 * sizeof(void *));
    assert_int_equal(strspn(c->text, "0"), 2 * sizeof(void *));
}

static void dbgprint_width_and_precision_apply(void **state)
{
    struct capture *c = *state;
    DbgPrint("[%5d][%-5d][%05d][%.3d][%+d][%#x]", 42, 42, 42, 7, 3, 255u);
    assert_string_equal(c->text, "[   42][42   ][00042][007][+3][0xff]");
    DbgPrint("[%*d][%*d][%.*d][%-*s]", 4, 1, -4, 2, 3, 5, 3, "ab");
    assert_string_equal(c->text, "[   1][2   ][005][ab ]");
    DbgPrint("[%6s][%-6s][%.2s]", "abc", "abc", "abc");
    assert_string_equal(c->text, "[   abc][abc   ][ab]");
}

static void dbgprint_precision_limits_wide_characters(void **state)
{
    struct capture *c = *state;
    UNICODE_STRING u = ustr(L"\u00e9\u00e9\u00e9\u00e9");
    DbgPrint("[%.2wZ][%.3ws][%6wZ][%-3.1ws]", &u, L"abcdef", &u, L"xyz");
    /* Width counts characters, not UTF-8 bytes. */
    assert_string_equal(c->text,
                        "[\xC3\xA9\xC3\xA9][abc][  \xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9][x  ]");
}

static void dbgprint_percent_and_unknown_print_literally(void **state)
{
    struct capture *c = *state;
    DbgPrint("100%% %y %d%", 4);
    assert_string_equal(c->text, "100% %y 4%");
    /* A length modifier that does not fit the conversion: not understood,
     * printed as written, no argument taken. */
    DbgPrint("%wd|%d", 7);
    assert_string_equal(c->text, "%wd|7");
}

static void dbgprint_format_ending_inside_conversion_prints_rest(void **state)
{
    struct capture *c = *state;
    /* Heap copies of exact size, so reading past the end is caught. */
    static const char *const formats[] = {"abc%", "x%-5", "y%.", "z%ll"};
    static const char *const expected[] = {"abc%", "x%-5", "y%.", "z%ll"};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        size_t n = strlen(formats[i]) + 1;
        char *format = malloc(n);
        assert_non_null(format);
        memcpy(format, formats[i], n);
        assert_status(DbgPrint(format), STATUS_SUCCESS);
        assert_string_equal(c->text, expected[i]);
        free(format);
    }
}

static void dbgprint_float_is_unsupported_but_keeps_arguments_aligned(void **state)
{
    struct capture *c = *state;
    DbgPrint("%f %d %.2e %d", 1.5, 11, 2.5, 12);
    assert_string_equal(c->text, "%f 11 %.2e 12");
    /* Enough arguments that the last double and int share the stack (on
     * x86-64 the first eight doubles travel in registers apart from the
     * integers), so a double left unconsumed would shift the int. */
    DbgPrint("%d%d%d%d%d %f%f%f%f%f%f%f%f %g %d", 1, 2, 3, 4, 5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0,
             8.0, 9.0, 42);
    assert_string_equal(c->text, "12345 %f%f%f%f%f%f%f%f %g 42");
}

static void dbgprint_exactly_512_bytes_is_success(void **state)
{
    struct capture *c = *state;
    char text[513];
    memset(text, 'x', 512);
    text[512] = '\0';
    assert_status(DbgPrint("%s", text), STATUS_SUCCESS);
    assert_int_equal(strlen(c->text), 512);
}

static void dbgprint_longer_than_512_bytes_is_truncated_with_overflow(void **state)
{
    struct capture *c = *state;
    char text[601];
    memset(text, 'y', 600);
    text[600] = '\0';
    assert_status(DbgPrint("%s and more", text), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(strlen(c->text), 512);
    assert_int_equal(strspn(c->text, "y"), 512);

    assert_status(DbgPrint("%700d|", 1), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(strlen(c->text), 512);
}

static void dbgprint_truncation_keeps_whole_utf8_characters(void **state)
{
    struct capture *c = *state;
    char text[512];
    memset(text, 'z', 511);
    text[511] = '\0';
    /* 511 bytes, then a two-byte character that does not fit. */
    assert_status(DbgPrint("%s%wc", text, (WCHAR)0x00E9), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(strlen(c->text), 511);
}

static void dbgprintex_prints_every_level(void **state)
{
    struct capture *c = *state;
    ULONG levels[] = {
        DPFLTR_ERROR_LEVEL, DPFLTR_WARNING_LEVEL, DPFLTR_TRACE_LEVEL, DPFLTR_INFO_LEVEL, 31,
        DPFLTR_MASK | 0x10};
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        char expected[32];
        snprintf(expected, sizeof(expected), "level %u\n", levels[i]);
        assert_status(DbgPrintEx(DPFLTR_IHVDRIVER_ID, levels[i], "level %u\n", levels[i]),
                      STATUS_SUCCESS);
        assert_string_equal(c->text, expected);
    }
    assert_int_equal(c->calls, (int)(sizeof(levels) / sizeof(levels[0])));
}

static ULONG call_vdbgprintex(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    ULONG r = vDbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, format, ap);
    va_end(ap);
    return r;
}

static void vdbgprintex_formats_va_list(void **state)
{
    struct capture *c = *state;
    UNICODE_STRING u = ustr(L"vol");
    assert_status(call_vdbgprintex("%wZ=%lu", &u, (ULONG)17), STATUS_SUCCESS);
    assert_string_equal(c->text, "vol=17");
}

static void debug_sink_null_restores_default(void **state)
{
    struct capture *c = *state;
    fltsim_debug_set_sink(NULL, NULL);
    DbgPrint("fltsim test_rtl: this line goes to standard error\n");
    assert_int_equal(c->calls, 0);
    fltsim_debug_set_sink(capture_cb, c);
    DbgPrint("back");
    assert_int_equal(c->calls, 1);
    assert_string_equal(c->text, "back");
}

/* ------------------------------------------------------------------------- */
/* Misuse inside a filter callback becomes a verifier report                 */
/* ------------------------------------------------------------------------- */

static FLT_PREOP_CALLBACK_STATUS pre_dbgprint_unicode_at_dispatch(struct tf_filter *tf,
                                                                  PFLT_CALLBACK_DATA data,
                                                                  PCFLT_RELATED_OBJECTS objects,
                                                                  PVOID *context)
{
    (void)tf;
    (void)data;
    (void)objects;
    (void)context;
    UNICODE_STRING u = ustr(L"name");
    KIRQL old;
    DbgPrint("passive %wZ\n", &u); /* allowed */
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    DbgPrint("dispatch %wZ\n", &u);      /* Unicode conversion above PASSIVE_LEVEL */
    DbgPrint("dispatch %s\n", "narrow"); /* allowed at any IRQL */
    KeLowerIrql(old);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void dbgprint_unicode_above_passive_is_reported(void **state)
{
    struct capture *c = *state;
    struct test_world w;
    struct tf_filter tf;
    world_create(&w, 0);
    tf_init(&tf, "A", "370000");
    tf_only(&tf, IRP_MJ_CREATE);
    tf.pre = pre_dbgprint_unicode_at_dispatch;
    assert_status(tf_load(w.sys, &tf), STATUS_SUCCESS);
    ULONG before = fltsim_system_report_count_rule(w.sys, "V28");

    HANDLE h = world_open(&w, L"C:\\a.txt", FILE_READ_DATA);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), before + 1);
    assert_string_equal(c->text, "dispatch narrow\n"); /* still printed */
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
}

static FLT_PREOP_CALLBACK_STATUS pre_match_with_upcase_table(struct tf_filter *tf,
                                                             PFLT_CALLBACK_DATA data,
                                                             PCFLT_RELATED_OBJECTS objects,
                                                             PVOID *context)
{
    (void)data;
    (void)objects;
    (void)context;
    WCHAR table[1] = {0};
    UNICODE_STRING e = ustr(L"*.TXT"), n = ustr(L"a.txt");
    /* The result must be as with the default table. */
    tf->user = (void *)(uintptr_t)FsRtlIsNameInExpression(&e, &n, TRUE, table);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void name_expression_upcase_table_in_callback_is_reported(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter tf;
    world_create(&w, 0);
    tf_init(&tf, "A", "370000");
    tf_only(&tf, IRP_MJ_CREATE);
    tf.pre = pre_match_with_upcase_table;
    assert_status(tf_load(w.sys, &tf), STATUS_SUCCESS);

    HANDLE h = world_open(&w, L"C:\\a.txt", FILE_READ_DATA);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "SIM"), 1);
    assert_true((uintptr_t)tf.user == TRUE);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
}

#define DBG_TEST(f) cmocka_unit_test_setup_teardown(f, capture_setup, capture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_unicode_null_source_is_empty),
        cmocka_unit_test(init_unicode_literal_counts_bytes_without_terminator),
        cmocka_unit_test(init_unicode_empty_literal_keeps_room_for_terminator),
        cmocka_unit_test(init_unicode_too_long_is_capped),
        cmocka_unit_test(init_unicode_ex_too_long_is_invalid_parameter),
        cmocka_unit_test(init_unicode_ex_null_source_succeeds_empty),
        cmocka_unit_test(init_ansi_counts_bytes_and_caps),
        cmocka_unit_test(copy_fits_copies_and_terminates),
        cmocka_unit_test(copy_too_long_truncates_to_maximum),
        cmocka_unit_test(copy_null_source_sets_length_zero),
        cmocka_unit_test(compare_equal_strings_is_zero),
        cmocka_unit_test(compare_orders_by_code_unit),
        cmocka_unit_test(compare_shorter_prefix_sorts_first),
        cmocka_unit_test(compare_case_insensitive_compares_upcased),
        cmocka_unit_test(compare_case_insensitive_folds_non_ascii),
        cmocka_unit_test(equal_different_lengths_is_false),
        cmocka_unit_test(equal_empty_strings_is_true),
        cmocka_unit_test(prefix_checks_first_string_against_second),
        cmocka_unit_test(suffix_checks_first_string_against_second),
        cmocka_unit_test(compare_memory_counts_leading_equal_bytes),
        cmocka_unit_test(append_unicode_fits_appends_and_terminates),
        cmocka_unit_test(append_unicode_too_small_leaves_destination_unchanged),
        cmocka_unit_test(append_unicode_exactly_full_writes_no_terminator),
        cmocka_unit_test(append_unicode_null_source_succeeds_unchanged),
        cmocka_unit_test(append_string_fits_appends_and_terminates),
        cmocka_unit_test(append_string_too_small_leaves_destination_unchanged),
        cmocka_unit_test(append_string_exactly_full_succeeds),
        cmocka_unit_test(append_string_empty_source_changes_nothing),
        cmocka_unit_test(upcase_char_ascii_letters_only),
        cmocka_unit_test(upcase_char_non_ascii_maps_simple_case),
        cmocka_unit_test(upcase_char_without_single_mapping_is_unchanged),
        cmocka_unit_test(downcase_char_maps_simple_case),
        cmocka_unit_test(case_mapping_round_trips_ascii_and_latin1),
        cmocka_unit_test(upcase_string_into_buffer_upcases),
        cmocka_unit_test(upcase_string_too_small_is_buffer_overflow),
        cmocka_unit_test(upcase_string_in_place_upcases),
        cmocka_unit_test(upcase_string_allocated_is_pool_tagged_and_freed),
        cmocka_unit_test(free_unicode_null_buffer_is_harmless),
        cmocka_unit_test(utf16_to_utf8_encodes_bmp),
        cmocka_unit_test(utf16_to_utf8_joins_surrogate_pair),
        cmocka_unit_test(utf16_to_utf8_unpaired_surrogates_become_replacement),
        cmocka_unit_test(utf16_to_utf8_small_buffer_cuts_at_character),
        cmocka_unit_test(utf16_to_utf8_zero_size_writes_nothing),
        cmocka_unit_test(utf8_to_utf16_decodes_all_lengths),
        cmocka_unit_test(utf8_to_utf16_invalid_input_is_error),
        cmocka_unit_test(utf8_to_utf16_no_room_is_error),
        cmocka_unit_test(wcslen_counts_units_to_terminator),
        cmocka_unit_test(name_expression_empty_strings_match_only_each_other),
        cmocka_unit_test(name_expression_literal_matches_exactly),
        cmocka_unit_test(name_expression_star_matches_any_sequence),
        cmocka_unit_test(name_expression_plain_star_dot_star_requires_dot),
        cmocka_unit_test(name_expression_question_matches_exactly_one),
        cmocka_unit_test(name_expression_dos_star_stops_before_last_dot),
        cmocka_unit_test(name_expression_dos_dot_matches_dot_or_end),
        cmocka_unit_test(name_expression_dos_qm_matches_one_or_none_at_dot),
        cmocka_unit_test(name_expression_dos_eight_dot_three_pattern),
        cmocka_unit_test(name_expression_dos_star_dot_translations),
        cmocka_unit_test(name_expression_ignore_case_upcases_name_only),
        cmocka_unit_test(name_expression_upcase_table_is_ignored),
        cmocka_unit_test(name_expression_long_name_runs_in_polynomial_time),
        cmocka_unit_test(wildcards_detected_in_name),
        DBG_TEST(dbgprint_plain_text_reaches_sink_unchanged),
        DBG_TEST(dbgprint_unicode_string_prints_utf8),
        DBG_TEST(dbgprint_null_unicode_string_prints_null),
        DBG_TEST(dbgprint_wide_strings_and_chars_print_utf8),
        DBG_TEST(dbgprint_ansi_string_prints_counted_bytes),
        DBG_TEST(dbgprint_l_modifier_is_32_bits),
        DBG_TEST(dbgprint_64_bit_prefixes_take_64_bits),
        DBG_TEST(dbgprint_pointer_sized_prefixes),
        DBG_TEST(dbgprint_pointer_prints_all_hex_digits),
        DBG_TEST(dbgprint_width_and_precision_apply),
        DBG_TEST(dbgprint_precision_limits_wide_characters),
        DBG_TEST(dbgprint_percent_and_unknown_print_literally),
        DBG_TEST(dbgprint_format_ending_inside_conversion_prints_rest),
        DBG_TEST(dbgprint_float_is_unsupported_but_keeps_arguments_aligned),
        DBG_TEST(dbgprint_exactly_512_bytes_is_success),
        DBG_TEST(dbgprint_longer_than_512_bytes_is_truncated_with_overflow),
        DBG_TEST(dbgprint_truncation_keeps_whole_utf8_characters),
        DBG_TEST(dbgprintex_prints_every_level),
        DBG_TEST(vdbgprintex_formats_va_list),
        DBG_TEST(debug_sink_null_restores_default),
        DBG_TEST(dbgprint_unicode_above_passive_is_reported),
        cmocka_unit_test(name_expression_upcase_table_in_callback_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
