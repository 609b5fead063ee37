/*
 * The Rtl conversions and string routines of rtl_convert.c, rtl_number.c and
 * rtl_guid.c: ANSI <-> Unicode through fltsim's ANSI code page (1252), ANSI
 * STRING compare/copy/append, strings allocated for the caller (create,
 * duplicate, downcase, GUID text) with pool accounting, leaks and injected
 * allocation failures, hashing, numbers to text and back, UTF-8, and GUIDs.
 */
#include <stdlib.h>

#include "crt_test.h"

/* The Rtl string routines' pool tag, 'SltR' ("RtlS" in pool dumps). */
#define RTL_STRING_TAG 0x536c7452u

static ULONG64 rtl_outstanding(void)
{
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(RTL_STRING_TAG, &st);
    return st.outstanding;
}

/* ------------------------------------------------------------------------- */
/* ANSI <-> Unicode                                                           */
/* ------------------------------------------------------------------------- */

static void unicode_to_ansi_allocates_through_code_page_1252(void **state)
{
    (void)state;
    UNICODE_STRING u = ustr(L"caf\u00e9\u20ac\u4e2d");
    ANSI_STRING a = {0, 0, NULL};
    ULONG64 before = rtl_outstanding();
    assert_int_equal(RtlxUnicodeStringToAnsiSize(&u), 7);
    assert_int_equal(RtlUnicodeStringToAnsiSize(&u), 7);
    assert_status(RtlUnicodeStringToAnsiString(&a, &u, TRUE), STATUS_SUCCESS);
    assert_int_equal(a.Length, 6);
    assert_int_equal(a.MaximumLength, 7);
    assert_memory_equal(a.Buffer, "caf\xe9\x80?", 7); /* terminated; U+4E2D unmappable */
    assert_int_equal(rtl_outstanding(), before + 1);
    RtlFreeAnsiString(&a);
    assert_true(a.Buffer == NULL && a.Length == 0 && a.MaximumLength == 0);
    assert_int_equal(rtl_outstanding(), before);
    RtlFreeAnsiString(&a); /* a second free of the emptied string is harmless */
}

static void unicode_to_ansi_too_small_converts_what_fits(void **state)
{
    (void)state;
    UNICODE_STRING u = ustr(L"abcdef");
    char buf[8];
    memset(buf, '#', sizeof(buf));
    ANSI_STRING a = {0, 4, buf};
    assert_status(RtlUnicodeStringToAnsiString(&a, &u, FALSE), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(a.Length, 3);
    assert_memory_equal(buf, "abc\0#", 5);
    a = (ANSI_STRING){0, 7, buf};
    assert_status(RtlUnicodeStringToAnsiString(&a, &u, FALSE), STATUS_SUCCESS);
    assert_string_equal(buf, "abcdef");
    /* Nothing fits at all: Length still says how long it would be. */
    a = (ANSI_STRING){0, 0, buf};
    assert_status(RtlUnicodeStringToAnsiString(&a, &u, FALSE), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(a.Length, 6);
}

static void ansi_to_unicode_needs_room_for_all(void **state)
{
    (void)state;
    ANSI_STRING a;
    RtlInitAnsiString(&a, "caf\xe9\x80");
    UNICODE_STRING u = {0, 0, NULL};
    assert_int_equal(RtlxAnsiStringToUnicodeSize(&a), 12);
    assert_status(RtlAnsiStringToUnicodeString(&u, &a, TRUE), STATUS_SUCCESS);
    assert_int_equal(u.Length, 10);
    assert_int_equal(u.MaximumLength, 12);
    assert_wstr(u.Buffer, L"caf\u00e9\u20ac");
    RtlFreeUnicodeString(&u);
    /* Too small: nothing converted, Length already the needed one. */
    WCHAR buf[8];
    buf[0] = L'#';
    u = (UNICODE_STRING){0, 10, buf};
    assert_status(RtlAnsiStringToUnicodeString(&u, &a, FALSE), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(u.Length, 10);
    assert_int_equal(buf[0], L'#');
    u = (UNICODE_STRING){0, 12, buf};
    assert_status(RtlAnsiStringToUnicodeString(&u, &a, FALSE), STATUS_SUCCESS);
    assert_wstr(buf, L"caf\u00e9\u20ac");
    /* A result over 65535 bytes is refused as a bad second parameter. */
    char *big = malloc(40000);
    memset(big, 'x', 40000);
    ANSI_STRING huge = {32767, 32767, big};
    assert_status(RtlAnsiStringToUnicodeString(&u, &huge, TRUE), STATUS_INVALID_PARAMETER_2);
    free(big);
}

static void init_ansi_ex_refuses_too_long(void **state)
{
    (void)state;
    ANSI_STRING a = {1, 1, NULL};
    assert_status(RtlInitAnsiStringEx(&a, "abc"), STATUS_SUCCESS);
    assert_true(a.Length == 3 && a.MaximumLength == 4);
    assert_status(RtlInitStringEx(&a, NULL), STATUS_SUCCESS);
    assert_true(a.Length == 0 && a.MaximumLength == 0 && a.Buffer == NULL);
    char *big = malloc(70000);
    memset(big, 'x', 65535);
    big[65535] = '\0';
    a = (ANSI_STRING){1, 2, NULL};
    assert_status(RtlInitAnsiStringEx(&a, big), STATUS_NAME_TOO_LONG);
    assert_true(a.Length == 1 && a.MaximumLength == 2); /* untouched */
    big[65534] = '\0';
    assert_status(RtlInitAnsiStringEx(&a, big), STATUS_SUCCESS);
    assert_int_equal(a.Length, 65534);
    assert_int_equal(a.MaximumLength, 65535);
    free(big);
    char storage[4];
    RtlInitEmptyAnsiString(&a, storage, sizeof(storage));
    assert_true(a.Length == 0 && a.MaximumLength == 4 && a.Buffer == storage);
}

/* ------------------------------------------------------------------------- */
/* ANSI STRINGs                                                               */
/* ------------------------------------------------------------------------- */

static STRING str(const char *s)
{
    STRING r;
    RtlInitString(&r, s);
    return r;
}

static void compare_string_orders_signed_bytes(void **state)
{
    (void)state;
    STRING abc = str("abc"), ABC = str("ABC"), ab = str("ab"), abd = str("abd");
    STRING e_acute = str("\xe9"), E_acute = str("\xc9"), a = str("a");
    STRING y_diaeresis = str("\xff"), Y_diaeresis = str("\x9f");
    assert_int_equal(RtlCompareString(&abc, &abc, FALSE), 0);
    assert_true(RtlCompareString(&abc, &abd, FALSE) < 0);
    assert_true(RtlCompareString(&abd, &abc, FALSE) > 0);
    assert_true(RtlCompareString(&ab, &abc, FALSE) < 0); /* shorter first */
    assert_true(RtlCompareString(&abc, &ABC, FALSE) > 0);
    assert_int_equal(RtlCompareString(&abc, &ABC, TRUE), 0);
    /* CHAR is signed: 0xE9 sorts before 'a'. */
    assert_true(RtlCompareString(&e_acute, &a, FALSE) < 0);
    /* Case-insensitive through the code page: é = É, ÿ = Ÿ (0x9F). */
    assert_int_equal(RtlCompareString(&e_acute, &E_acute, TRUE), 0);
    assert_int_equal(RtlCompareString(&y_diaeresis, &Y_diaeresis, TRUE), 0);
    assert_true(RtlEqualString(&abc, &ABC, TRUE));
    assert_false(RtlEqualString(&abc, &ABC, FALSE));
    assert_false(RtlEqualString(&ab, &abc, TRUE));
}

static void copy_and_append_string(void **state)
{
    (void)state;
    char buf[8];
    memset(buf, '#', sizeof(buf));
    STRING d = {0, 6, buf}, src = str("abc");
    RtlCopyString(&d, &src);
    assert_int_equal(d.Length, 3);
    assert_memory_equal(buf, "abc\0", 4);
    /* Append: no terminator; too small changes nothing. */
    memset(buf + 4, '#', 4);
    STRING two = str("de");
    assert_status(RtlAppendStringToString(&d, &two), STATUS_SUCCESS);
    assert_int_equal(d.Length, 5);
    assert_memory_equal(buf, "abcde#", 6);
    assert_status(RtlAppendStringToString(&d, &two), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(d.Length, 5);
    STRING none = str("");
    assert_status(RtlAppendStringToString(&d, &none), STATUS_SUCCESS);
    /* Copy truncates to MaximumLength and then has no room to terminate. */
    STRING longer = str("0123456789");
    RtlCopyString(&d, &longer);
    assert_int_equal(d.Length, 6);
    assert_memory_equal(buf, "012345#", 7);
    RtlCopyString(&d, NULL);
    assert_int_equal(d.Length, 0);
}

/* ------------------------------------------------------------------------- */
/* Strings allocated for the caller                                           */
/* ------------------------------------------------------------------------- */

static void create_unicode_string_copies_with_terminator(void **state)
{
    (void)state;
    static const WCHAR text[] = L"new";
    UNICODE_STRING u;
    ULONG64 before = rtl_outstanding();
    assert_true(RtlCreateUnicodeString(&u, text));
    assert_ptr_not_equal(u.Buffer, text);
    assert_int_equal(u.Length, 6);
    assert_int_equal(u.MaximumLength, 8);
    assert_wstr(u.Buffer, L"new");
    assert_int_equal(rtl_outstanding(), before + 1);
    RtlFreeUnicodeString(&u);
    WCHAR *longest = wide_run(L'a', 32766), *too_long = wide_run(L'a', 32767);
    assert_true(RtlCreateUnicodeString(&u, longest));
    assert_int_equal(u.MaximumLength, 65534);
    RtlFreeUnicodeString(&u);
    assert_false(RtlCreateUnicodeString(&u, too_long));
    assert_int_equal(rtl_outstanding(), before);
    free(longest);
    free(too_long);
}

static void duplicate_unicode_string_flags(void **state)
{
    (void)state;
    UNICODE_STRING in = ustr(L"dup"), out;
    UNICODE_STRING empty = {0, 0, NULL};
    const ULONG term = RTL_DUPLICATE_UNICODE_STRING_NULL_TERMINATE;
    const ULONG alloc_null = RTL_DUPLICATE_UNICODE_STRING_ALLOCATE_NULL_STRING;
    assert_status(RtlDuplicateUnicodeString(0, &in, &out), STATUS_SUCCESS);
    assert_true(out.Length == 6 && out.MaximumLength == 6 && out.Buffer != in.Buffer);
    assert_memory_equal(out.Buffer, L"dup", 6);
    RtlFreeUnicodeString(&out);
    assert_status(RtlDuplicateUnicodeString(term, &in, &out), STATUS_SUCCESS);
    assert_int_equal(out.MaximumLength, 8);
    assert_wstr(out.Buffer, L"dup");
    RtlFreeUnicodeString(&out);
    /* An empty string: nothing allocated, unless both flags ask for "". */
    assert_status(RtlDuplicateUnicodeString(term, &empty, &out), STATUS_SUCCESS);
    assert_true(out.Buffer == NULL && out.Length == 0 && out.MaximumLength == 0);
    assert_status(RtlDuplicateUnicodeString(term | alloc_null, &empty, &out), STATUS_SUCCESS);
    assert_true(out.Buffer != NULL && out.Length == 0 && out.MaximumLength == 2);
    assert_int_equal(out.Buffer[0], 0);
    RtlFreeUnicodeString(&out);
    /* Refused: ALLOCATE_NULL_STRING alone, unknown flags, bad strings. */
    UNICODE_STRING bad = {8, 4, (PWCH)L"ab"};
    assert_status(RtlDuplicateUnicodeString(alloc_null, &in, &out), STATUS_INVALID_PARAMETER);
    assert_status(RtlDuplicateUnicodeString(4, &in, &out), STATUS_INVALID_PARAMETER);
    assert_status(RtlDuplicateUnicodeString(0, &bad, &out), STATUS_INVALID_PARAMETER);
    assert_status(RtlDuplicateUnicodeString(0, NULL, &out), STATUS_INVALID_PARAMETER);
    assert_status(RtlDuplicateUnicodeString(0, &in, NULL), STATUS_INVALID_PARAMETER);
}

static void downcase_unicode_string(void **state)
{
    (void)state;
    UNICODE_STRING src = ustr(L"ABC\u00c9\u0391z"), out;
    assert_status(RtlDowncaseUnicodeString(&out, &src, TRUE), STATUS_SUCCESS);
    assert_int_equal(out.MaximumLength, out.Length); /* no room for a terminator */
    assert_memory_equal(out.Buffer, L"abc\u00e9\u03b1z", 12);
    RtlFreeUnicodeString(&out);
    WCHAR buf[4];
    UNICODE_STRING small = {0, sizeof(buf), buf};
    assert_status(RtlDowncaseUnicodeString(&small, &src, FALSE), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(small.Length, 0);
    WCHAR in_place[] = L"MiXeD";
    UNICODE_STRING s = {10, 12, in_place};
    assert_status(RtlDowncaseUnicodeString(&s, &s, FALSE), STATUS_SUCCESS);
    assert_wstr(in_place, L"mixed");
}

static void hash_unicode_string_is_x65599(void **state)
{
    (void)state;
    UNICODE_STRING ab = ustr(L"ab"), AB = ustr(L"AB");
    ULONG h = 0, h2 = 0;
    assert_status(RtlHashUnicodeString(&ab, FALSE, HASH_STRING_ALGORITHM_X65599, &h),
                  STATUS_SUCCESS);
    assert_int_equal(h, 97u * 65599u + 98u);
    assert_status(RtlHashUnicodeString(&ab, TRUE, HASH_STRING_ALGORITHM_DEFAULT, &h),
                  STATUS_SUCCESS);
    assert_status(RtlHashUnicodeString(&AB, FALSE, HASH_STRING_ALGORITHM_DEFAULT, &h2),
                  STATUS_SUCCESS);
    assert_int_equal(h, h2); /* case-insensitive hashes the upcased string */
    UNICODE_STRING long_name = ustr(L"\\Device\\HarddiskVolume1\\Windows");
    ULONG expect = 0;
    for (size_t i = 0; i < long_name.Length / 2; i++)
        expect = expect * 65599u + long_name.Buffer[i];
    assert_status(RtlHashUnicodeString(&long_name, FALSE, 0, &h), STATUS_SUCCESS);
    assert_int_equal(h, expect); /* wraps modulo 2^32 */
    assert_status(RtlHashUnicodeString(&ab, FALSE, 2, &h), STATUS_INVALID_PARAMETER);
    assert_status(RtlHashUnicodeString(&ab, FALSE, HASH_STRING_ALGORITHM_INVALID, &h),
                  STATUS_INVALID_PARAMETER);
    assert_status(RtlHashUnicodeString(NULL, FALSE, 0, &h), STATUS_INVALID_PARAMETER);
    assert_status(RtlHashUnicodeString(&ab, FALSE, 0, NULL), STATUS_INVALID_PARAMETER);
}

/* ------------------------------------------------------------------------- */
/* Numbers                                                                    */
/* ------------------------------------------------------------------------- */

static void integer_to_unicode_string(void **state)
{
    (void)state;
    WCHAR buf[80];
    UNICODE_STRING s = {0, sizeof(buf), buf};
    assert_status(RtlIntegerToUnicodeString(123, 0, &s), STATUS_SUCCESS);
    assert_wstr(buf, L"123");
    assert_int_equal(s.Length, 6);
    assert_status(RtlIntegerToUnicodeString(255, 16, &s), STATUS_SUCCESS);
    assert_wstr(buf, L"FF");
    assert_status(RtlIntegerToUnicodeString(5, 2, &s), STATUS_SUCCESS);
    assert_wstr(buf, L"101");
    assert_status(RtlIntegerToUnicodeString(8, 8, &s), STATUS_SUCCESS);
    assert_wstr(buf, L"10");
    assert_status(RtlIntegerToUnicodeString(0xFFFFFFFFu, 10, &s), STATUS_SUCCESS);
    assert_wstr(buf, L"4294967295");
    assert_status(RtlIntegerToUnicodeString(0, 10, &s), STATUS_SUCCESS);
    assert_wstr(buf, L"0");
    assert_status(RtlIntegerToUnicodeString(1, 3, &s), STATUS_INVALID_PARAMETER);
    assert_status(RtlInt64ToUnicodeString(~0ULL, 16, &s), STATUS_SUCCESS);
    assert_wstr(buf, L"FFFFFFFFFFFFFFFF");
    assert_status(RtlInt64ToUnicodeString(9223372036854775808ULL, 10, &s), STATUS_SUCCESS);
    assert_wstr(buf, L"9223372036854775808");
    assert_status(RtlInt64ToUnicodeString(~0ULL, 2, &s), STATUS_SUCCESS);
    assert_int_equal(s.Length, 128);
    /* The terminator must fit; Length is set anyway. */
    buf[0] = L'#';
    s = (UNICODE_STRING){0, 6, buf};
    assert_status(RtlIntegerToUnicodeString(123, 10, &s), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(s.Length, 6);
    assert_int_equal(buf[0], L'#');
    s.MaximumLength = 8;
    assert_status(RtlIntegerToUnicodeString(123, 10, &s), STATUS_SUCCESS);
}

static ULONG to_integer(const WCHAR *text, ULONG base, NTSTATUS expected)
{
    UNICODE_STRING s = ustr(text);
    ULONG v = 0xDEAD;
    assert_status(RtlUnicodeStringToInteger(&s, base, &v), expected);
    return v;
}

static void unicode_string_to_integer(void **state)
{
    (void)state;
    assert_int_equal(to_integer(L" \t-12", 10, STATUS_SUCCESS), 0xFFFFFFF4u);
    assert_int_equal(to_integer(L"+7", 0, STATUS_SUCCESS), 7);
    assert_int_equal(to_integer(L"0x1F", 0, STATUS_SUCCESS), 31);
    assert_int_equal(to_integer(L"0b101", 0, STATUS_SUCCESS), 5);
    assert_int_equal(to_integer(L"0o17", 0, STATUS_SUCCESS), 15);
    assert_int_equal(to_integer(L"0X1F", 0, STATUS_SUCCESS), 0); /* prefixes are lower case */
    assert_int_equal(to_integer(L"12abc", 10, STATUS_SUCCESS), 12);
    assert_int_equal(to_integer(L"fF", 16, STATUS_SUCCESS), 255);
    assert_int_equal(to_integer(L"777", 8, STATUS_SUCCESS), 511);
    assert_int_equal(to_integer(L"", 10, STATUS_SUCCESS), 0);
    assert_int_equal(to_integer(L"z", 10, STATUS_SUCCESS), 0);
    assert_int_equal(to_integer(L"4294967296", 10, STATUS_SUCCESS), 0); /* wraps */
    to_integer(L"1", 3, STATUS_INVALID_PARAMETER);
    /* The counted length, not a terminator, ends the string. */
    UNICODE_STRING s = {4, 8, (PWCH)L"1234"};
    ULONG v = 0;
    assert_status(RtlUnicodeStringToInteger(&s, 10, &v), STATUS_SUCCESS);
    assert_int_equal(v, 12);
    assert_status(RtlUnicodeStringToInteger(&s, 10, NULL), STATUS_ACCESS_VIOLATION);
}

static void char_to_integer(void **state)
{
    (void)state;
    ULONG v = 0;
    assert_status(RtlCharToInteger("  -0x10", 0, &v), STATUS_SUCCESS);
    assert_int_equal(v, 0xFFFFFFF0u);
    assert_status(RtlCharToInteger("101", 2, &v), STATUS_SUCCESS);
    assert_int_equal(v, 5);
    /* CHAR is signed: bytes from 0x80 are skipped as blanks. */
    assert_status(RtlCharToInteger("\xa0\xff"
                                   "42",
                                   10, &v),
                  STATUS_SUCCESS);
    assert_int_equal(v, 42);
    assert_status(RtlCharToInteger("9", 8, &v), STATUS_SUCCESS);
    assert_int_equal(v, 0);
    assert_status(RtlCharToInteger("1", 7, &v), STATUS_INVALID_PARAMETER);
    assert_status(RtlCharToInteger("1", 10, NULL), STATUS_ACCESS_VIOLATION);
}

/* ------------------------------------------------------------------------- */
/* UTF-8                                                                      */
/* ------------------------------------------------------------------------- */

static void unicode_to_utf8(void **state)
{
    (void)state;
    static const WCHAR text[] = L"a\u00e9\u20ac\U0001F600";
    char out[16];
    ULONG n = 0;
    assert_status(RtlUnicodeToUTF8N(NULL, 0, &n, text, sizeof(text) - 2), STATUS_SUCCESS);
    assert_int_equal(n, 10);
    assert_status(RtlUnicodeToUTF8N(out, sizeof(out), &n, text, sizeof(text)), STATUS_SUCCESS);
    assert_int_equal(n, 11);
    assert_string_equal(out, "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    /* Too small: whole characters only. */
    memset(out, '#', sizeof(out));
    assert_status(RtlUnicodeToUTF8N(out, 8, &n, text, sizeof(text) - 2), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(n, 6);
    assert_int_equal(out[6], '#');
    /* An unpaired surrogate becomes U+FFFD. */
    static const WCHAR lone[] = {L'x', 0xD800, L'y'};
    assert_status(RtlUnicodeToUTF8N(out, sizeof(out), &n, lone, sizeof(lone)),
                  STATUS_SOME_NOT_MAPPED);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "x\xef\xbf\xbdy", 5);
    assert_status(RtlUnicodeToUTF8N(out, sizeof(out), &n, text, 3), STATUS_INVALID_PARAMETER_5);
    assert_status(RtlUnicodeToUTF8N(out, sizeof(out), &n, NULL, 2), STATUS_INVALID_PARAMETER_4);
    assert_status(RtlUnicodeToUTF8N(out, sizeof(out), NULL, text, 2), STATUS_INVALID_PARAMETER);
}

static NTSTATUS from_utf8(const char *in, size_t len, WCHAR *out, ULONG room, ULONG *n)
{
    return RtlUTF8ToUnicodeN(out, room, n, in, (ULONG)len);
}

static void utf8_to_unicode(void **state)
{
    (void)state;
    static const char text[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    WCHAR out[16];
    ULONG n = 0;
    assert_status(from_utf8(text, sizeof(text), NULL, 0, &n), STATUS_SUCCESS);
    assert_int_equal(n, 12); /* 5 units and the terminator */
    assert_status(from_utf8(text, sizeof(text), out, sizeof(out), &n), STATUS_SUCCESS);
    assert_wstr(out, L"a\u00e9\u20ac\U0001F600");
    /* A surrogate pair is never split. */
    assert_status(from_utf8(text, sizeof(text) - 1, out, 8, &n), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(n, 6);
    /* Ill-formed input: U+FFFD per maximal subpart. */
    struct {
        const char *in;
        size_t len;
        size_t units;
        WCHAR expect[4];
    } bad[] = {
        {"\xc3", 1, 1, {0xFFFD}},                         /* cut short */
        {"\xe0\x80\x80", 3, 3, {0xFFFD, 0xFFFD, 0xFFFD}}, /* overlong */
        {"\xed\xa0\x80", 3, 3, {0xFFFD, 0xFFFD, 0xFFFD}}, /* a surrogate */
        {"\xe2\x82"
         "a",
         3,
         2,
         {0xFFFD, L'a'}},                                             /* a prefix, then ASCII */
        {"\xf4\x90\x80\x80", 4, 4, {0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}}, /* past U+10FFFF */
        {"\xff", 1, 1, {0xFFFD}},
    };
    for (size_t i = 0; i < RTL_NUMBER_OF(bad); i++) {
        assert_status(from_utf8(bad[i].in, bad[i].len, out, sizeof(out), &n),
                      STATUS_SOME_NOT_MAPPED);
        assert_int_equal(n, bad[i].units * 2);
        assert_memory_equal(out, bad[i].expect, bad[i].units * 2);
    }
    assert_status(from_utf8(NULL, 1, out, sizeof(out), &n), STATUS_INVALID_PARAMETER_4);
    assert_status(from_utf8("a", 1, out, sizeof(out), NULL), STATUS_INVALID_PARAMETER);
}

/* ------------------------------------------------------------------------- */
/* GUIDs                                                                      */
/* ------------------------------------------------------------------------- */

static const GUID dns_namespace = {
    0x6ba7b810, 0x9dad, 0x11d1, {0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}};

static void guid_to_string_and_back(void **state)
{
    (void)state;
    UNICODE_STRING s;
    ULONG64 before = rtl_outstanding();
    assert_status(RtlStringFromGUID(&dns_namespace, &s), STATUS_SUCCESS);
    assert_int_equal(s.Length, 76);
    assert_int_equal(s.MaximumLength, 78);
    assert_wstr(s.Buffer, L"{6BA7B810-9DAD-11D1-80B4-00C04FD430C8}");
    assert_int_equal(rtl_outstanding(), before + 1);
    GUID g;
    memset(&g, 0, sizeof(g));
    assert_status(RtlGUIDFromString(&s, &g), STATUS_SUCCESS);
    assert_memory_equal(&g, &dns_namespace, sizeof(g));
    RtlFreeUnicodeString(&s);
    assert_int_equal(rtl_outstanding(), before);

    UNICODE_STRING lower = ustr(L"{6ba7b810-9dad-11d1-80b4-00c04fd430c8}");
    memset(&g, 0, sizeof(g));
    assert_status(RtlGUIDFromString(&lower, &g), STATUS_SUCCESS);
    assert_memory_equal(&g, &dns_namespace, sizeof(g));
    const WCHAR *bad[] = {
        L"6ba7b810-9dad-11d1-80b4-00c04fd430c8",   L"{6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        L"{6ba7b810-9dad-11d1-80b400c04fd430c8}",  L"{6ba7b810-9dad-11d1-80b4-00c04fd430cg}",
        L"{6ba7b810 9dad-11d1-80b4-00c04fd430c8}", L"{6ba7b810-9dad-11d1-80b4-00c04fd430c8}x",
    };
    for (size_t i = 0; i < RTL_NUMBER_OF(bad); i++) {
        UNICODE_STRING b = ustr(bad[i]);
        GUID untouched = {1, 2, 3, {4}};
        assert_status(RtlGUIDFromString(&b, &untouched), STATUS_INVALID_PARAMETER);
        assert_int_equal(untouched.Data1, 1);
    }
}

/* ------------------------------------------------------------------------- */
/* 8.3 names                                                                  */
/* ------------------------------------------------------------------------- */

static bool legal83(const WCHAR *name, BOOLEAN *spaces)
{
    UNICODE_STRING u = ustr(name);
    return RtlIsNameLegalDOS8Dot3(&u, NULL, spaces) != FALSE;
}

static void is_name_legal_dos_8dot3(void **state)
{
    (void)state;
    BOOLEAN spaces = 7;
    const WCHAR *legal[] = {L"README.TXT", L"readme.txt", L"12345678.123",     L"A", L"x.y", L".",
                            L"..",         L"~1.$$$",     L"\u00e9t\u00e9.doc"};
    for (size_t i = 0; i < RTL_NUMBER_OF(legal); i++)
        if (!legal83(legal[i], &spaces) || spaces)
            fail_msg("name %zu should be a legal 8.3 name without spaces", i);
    assert_true(legal83(L"a b.txt", &spaces));
    assert_true(spaces);
    const WCHAR *illegal[] = {L"longfilename.txt",
                              L"123456789",
                              L"a.b.c",
                              L"file.text",
                              L".x",
                              L"...",
                              L" ab",
                              L"ab ",
                              L"ab .txt",
                              L"ab.",
                              L"a*b",
                              L"a+b",
                              L"a[1]",
                              L"tab\t",
                              L"\u4e2d.txt",
                              L""};
    for (size_t i = 0; i < RTL_NUMBER_OF(illegal); i++)
        if (legal83(illegal[i], NULL))
            fail_msg("name %zu should not be a legal 8.3 name", i);
    /* OemName receives the upcased OEM (437) form. */
    char oem[12];
    OEM_STRING o = {0, sizeof(oem), oem};
    UNICODE_STRING u = ustr(L"\u00e9t\u00e9.doc");
    assert_true(RtlIsNameLegalDOS8Dot3(&u, &o, NULL));
    assert_int_equal(o.Length, 7);
    assert_memory_equal(oem, "\x90T\x90.DOC", 7);
    OEM_STRING small = {0, 4, oem};
    assert_false(RtlIsNameLegalDOS8Dot3(&u, &small, NULL));
}

/* ------------------------------------------------------------------------- */
/* Inside a filter: pool accounting, leaks, allocation failures, misuse       */
/* ------------------------------------------------------------------------- */

static FLT_PREOP_CALLBACK_STATUS leaking_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                             PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)data;
    (void)objects;
    (void)context;
    /* One conversion kept (the leak), one freed. */
    ANSI_STRING a;
    RtlInitAnsiString(&a, "kept");
    static UNICODE_STRING kept;
    if (!NT_SUCCESS(RtlAnsiStringToUnicodeString(&kept, &a, TRUE)))
        tf->user = (void *)"conversion failed";
    UNICODE_STRING freed;
    if (RtlCreateUnicodeString(&freed, L"freed"))
        RtlFreeUnicodeString(&freed);
    else
        tf->user = (void *)"create failed";
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void allocations_leaked_by_a_filter_are_reported_at_unload(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter tf;
    world_create(&w, 0);
    tf_init(&tf, "A", "370000");
    tf_only(&tf, IRP_MJ_CREATE);
    tf.pre = leaking_pre;
    assert_status(tf_load(w.sys, &tf), STATUS_SUCCESS);
    HANDLE h = world_open(&w, L"C:\\a.txt", FILE_READ_DATA);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_null(tf.user);
    struct fltsim_pool_stats st;
    fltsim_driver_pool_stats(tf.driver, RTL_STRING_TAG, &st);
    assert_int_equal(st.outstanding, 1);
    assert_status(fltsim_driver_unload(tf.driver, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V23"), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "'RtlS'"));
    assert_non_null(strstr(r.message, "RtlAnsiStringToUnicodeString"));
    world_destroy(&w);
}

static FLT_PREOP_CALLBACK_STATUS failing_alloc_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                   PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)data;
    (void)objects;
    (void)context;
    static const char *failed;
    failed = NULL;
    UNICODE_STRING u = {1, 1, NULL}, src = ustr(L"Abc");
    ANSI_STRING a = {1, 1, NULL}, as;
    RtlInitAnsiString(&as, "abc");
    if (RtlCreateUnicodeString(&u, L"x") || u.Buffer != NULL)
        failed = "RtlCreateUnicodeString";
    else if (RtlAnsiStringToUnicodeString(&u, &as, TRUE) != STATUS_NO_MEMORY)
        failed = "RtlAnsiStringToUnicodeString";
    else if (RtlUnicodeStringToAnsiString(&a, &src, TRUE) != STATUS_NO_MEMORY || a.Buffer != NULL)
        failed = "RtlUnicodeStringToAnsiString";
    else if (RtlDuplicateUnicodeString(1, &src, &u) != STATUS_NO_MEMORY || u.Buffer != NULL)
        failed = "RtlDuplicateUnicodeString";
    else if (RtlDowncaseUnicodeString(&u, &src, TRUE) != STATUS_NO_MEMORY || u.Buffer != NULL)
        failed = "RtlDowncaseUnicodeString";
    else if (RtlStringFromGUID(&dns_namespace, &u) != STATUS_NO_MEMORY || u.Buffer != NULL)
        failed = "RtlStringFromGUID";
    tf->user = (void *)failed;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void allocation_failures_return_no_memory(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter tf;
    world_create(&w, 0);
    tf_init(&tf, "A", "370000");
    tf_only(&tf, IRP_MJ_CREATE);
    tf.pre = failing_alloc_pre;
    tf.user = (void *)"not run";
    struct fltsim_fault f = {.kind = FLTSIM_FAULT_ALLOC, .tag = RTL_STRING_TAG};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_SUCCESS);
    assert_status(tf_load(w.sys, &tf), STATUS_SUCCESS);
    HANDLE h = world_open(&w, L"C:\\a.txt", FILE_READ_DATA);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    if (tf.user != NULL)
        fail_msg("%s did not fail cleanly", (const char *)tf.user);
    world_destroy(&w);
}

/* At DISPATCH_LEVEL: each PASSIVE_LEVEL (or APC_LEVEL) routine is one V28,
 * and still does its work. */
static FLT_PREOP_CALLBACK_STATUS dispatch_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                              PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)data;
    (void)objects;
    (void)context;
    KIRQL old;
    ULONG v = 0, n = 0;
    WCHAR w[4];
    UNICODE_STRING s = ustr(L"42");
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    bool ok = NT_SUCCESS(RtlUnicodeStringToInteger(&s, 10, &v)) && v == 42 &&
              NT_SUCCESS(RtlUTF8ToUnicodeN(w, sizeof(w), &n, "ab", 2)) && n == 4;
    KeLowerIrql(old);
    tf->user = ok ? NULL : (void *)"the routines did not work";
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void conversions_above_their_irql_are_reported(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter tf;
    world_create(&w, 0);
    tf_init(&tf, "A", "370000");
    tf_only(&tf, IRP_MJ_CREATE);
    tf.pre = dispatch_pre;
    assert_status(tf_load(w.sys, &tf), STATUS_SUCCESS);
    HANDLE h = world_open(&w, L"C:\\a.txt", FILE_READ_DATA);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_null(tf.user);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 2);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "RtlUnicodeStringToInteger"));
    assert_status(fltsim_system_report_get(w.sys, 1, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "RtlUTF8ToUnicodeN"));
    world_destroy(&w);
}

static bool null_conversion_destination(void)
{
    UNICODE_STRING u = ustr(L"a");
    return RtlUnicodeStringToAnsiString(NULL, &u, TRUE) == STATUS_INVALID_PARAMETER;
}

static bool null_string_compare(void)
{
    STRING s = str("a");
    return RtlCompareString(&s, NULL, FALSE) == 0;
}

static bool null_char_to_integer(void)
{
    ULONG v;
    return RtlCharToInteger(NULL, 10, &v) == STATUS_ACCESS_VIOLATION;
}

static bool null_guid(void)
{
    UNICODE_STRING s;
    return RtlStringFromGUID(NULL, &s) == STATUS_INVALID_PARAMETER;
}

static bool null_create_source(void)
{
    UNICODE_STRING s;
    return !RtlCreateUnicodeString(&s, NULL);
}

static bool null_8dot3_name(void)
{
    return !RtlIsNameLegalDOS8Dot3(NULL, NULL, NULL);
}

static void misuse_is_reported_with_the_documented_error(void **state)
{
    (void)state;
    static const struct crt_misuse cases[] = {
        {"RtlUnicodeStringToAnsiString", null_conversion_destination},
        {"RtlCompareString", null_string_compare},
        {"RtlCharToInteger", null_char_to_integer},
        {"RtlStringFromGUID", null_guid},
        {"RtlCreateUnicodeString", null_create_source},
        {"RtlIsNameLegalDOS8Dot3", null_8dot3_name},
    };
    crt_run_misuses(cases, RTL_NUMBER_OF(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unicode_to_ansi_allocates_through_code_page_1252),
        cmocka_unit_test(unicode_to_ansi_too_small_converts_what_fits),
        cmocka_unit_test(ansi_to_unicode_needs_room_for_all),
        cmocka_unit_test(init_ansi_ex_refuses_too_long),
        cmocka_unit_test(compare_string_orders_signed_bytes),
        cmocka_unit_test(copy_and_append_string),
        cmocka_unit_test(create_unicode_string_copies_with_terminator),
        cmocka_unit_test(duplicate_unicode_string_flags),
        cmocka_unit_test(downcase_unicode_string),
        cmocka_unit_test(hash_unicode_string_is_x65599),
        cmocka_unit_test(integer_to_unicode_string),
        cmocka_unit_test(unicode_string_to_integer),
        cmocka_unit_test(char_to_integer),
        cmocka_unit_test(unicode_to_utf8),
        cmocka_unit_test(utf8_to_unicode),
        cmocka_unit_test(guid_to_string_and_back),
        cmocka_unit_test(is_name_legal_dos_8dot3),
        cmocka_unit_test(allocations_leaked_by_a_filter_are_reported_at_unload),
        cmocka_unit_test(allocation_failures_return_no_memory),
        cmocka_unit_test(conversions_above_their_irql_are_reported),
        cmocka_unit_test(misuse_is_reported_with_the_documented_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
