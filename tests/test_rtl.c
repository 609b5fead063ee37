/*
 * The kernel string slice minifilters use: Rtl counted strings and case
 * mapping (rtl_string.c) and UTF-16 <-> UTF-8 at the edges (unicode.c).
 * FsRtl's name matching has its own suite (test_fsrtl.c), and so has
 * DbgPrint's formatting (test_dbgprint.c).
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

/* RtlUpcaseUnicodeString's pool tag, 'SltR' (shown as "RtlS" in pool dumps). */
#define RTL_STRING_TAG 0x536c7452u

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
