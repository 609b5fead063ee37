/*
 * ntstrsafe's UNICODE_STRING family (strsafe_ustr.c) and
 * RtlStringCch/CbCopyUnicodeString(Ex) (strsafe.c): Init and Validate, the
 * 24 copy and cat routines through one table (each rule runs over every
 * routine it applies to), Printf and VPrintf, RemainingString, the Ex flags
 * as the UNICODE_STRING forms read them, and misuse reports. A counted
 * destination is never terminated; Length is checked after every failure.
 */
#include <stdlib.h>

#include <ntstrsafe.h>

#include "crt_test.h"

/* A destination of room characters holding initial, the rest '#' units. */
struct udest {
    WCHAR buf[64];
    UNICODE_STRING us;
};

static PUNICODE_STRING udest(struct udest *d, size_t room, const WCHAR *initial)
{
    for (size_t i = 0; i < RTL_NUMBER_OF(d->buf); i++)
        d->buf[i] = L'#';
    size_t n = initial != NULL ? fltsim_wcslen(initial) : 0;
    if (n != 0)
        memcpy(d->buf, initial, n * sizeof(WCHAR));
    d->us.Buffer = d->buf;
    d->us.Length = (USHORT)(n * sizeof(WCHAR));
    d->us.MaximumLength = (USHORT)(room * sizeof(WCHAR));
    return &d->us;
}

/* Fails unless s holds exactly the characters of expected. */
static void check_counted(PCUNICODE_STRING s, const WCHAR *expected, const char *file, int line)
{
    size_t n = fltsim_wcslen(expected);
    if (s->Length == n * sizeof(WCHAR) && memcmp(s->Buffer, expected, s->Length) == 0)
        return;
    char a[128] = "", e[128];
    fltsim_utf16_to_utf8(s->Buffer, s->Length / sizeof(WCHAR), a, sizeof(a));
    fltsim_utf16_to_utf8(expected, n, e, sizeof(e));
    _assert_string_equal(a, e, file, line);
    _fail(file, line);
}
#define assert_counted(s, expected) check_counted((s), (expected), __FILE__, __LINE__)

/* ------------------------------------------------------------------------- */
/* The copy and cat routines, one call shape                                  */
/* ------------------------------------------------------------------------- */

/* src is text: the PCWSTR itself, or a UNICODE_STRING made from it (NULL
 * stays NULL); count is in characters, converted for the Cb forms. */
struct routine {
    const char *name;
    bool cat, ex, limited, cb;
    NTSTATUS (*call)
    (PUNICODE_STRING d, const WCHAR *src, size_t count, PUNICODE_STRING rem, DWORD flags);
};

static PCUNICODE_STRING as_ustr(const WCHAR *src)
{
    static UNICODE_STRING ring[4];
    static unsigned next;
    if (src == NULL)
        return NULL;
    UNICODE_STRING *u = &ring[next++ % 4];
    RtlInitUnicodeString(u, src);
    return u;
}

#define R_PSZ(fn) return fn(d, src)
#define R_US(fn) return fn(d, as_ustr(src))
#define ADAPT(name, body)                                                                          \
    static NTSTATUS name(PUNICODE_STRING d, const WCHAR *src, size_t count, PUNICODE_STRING rem,   \
                         DWORD flags)                                                              \
    {                                                                                              \
        (void)count;                                                                               \
        (void)rem;                                                                                 \
        (void)flags;                                                                               \
        body;                                                                                      \
    }

ADAPT(a_copy_string, return RtlUnicodeStringCopyString(d, src))
ADAPT(a_copy_string_ex, return RtlUnicodeStringCopyStringEx(d, src, rem, flags))
ADAPT(a_copy, return RtlUnicodeStringCopy(d, as_ustr(src)))
ADAPT(a_copy_ex, return RtlUnicodeStringCopyEx(d, as_ustr(src), rem, flags))
ADAPT(a_cch_copy_string_n, return RtlUnicodeStringCchCopyStringN(d, src, count))
ADAPT(a_cch_copy_string_n_ex, return RtlUnicodeStringCchCopyStringNEx(d, src, count, rem, flags))
ADAPT(a_cb_copy_string_n, return RtlUnicodeStringCbCopyStringN(d, src, count * 2))
ADAPT(a_cb_copy_string_n_ex, return RtlUnicodeStringCbCopyStringNEx(d, src, count * 2, rem, flags))
ADAPT(a_cch_copy_n, return RtlUnicodeStringCchCopyN(d, as_ustr(src), count))
ADAPT(a_cch_copy_n_ex, return RtlUnicodeStringCchCopyNEx(d, as_ustr(src), count, rem, flags))
ADAPT(a_cb_copy_n, return RtlUnicodeStringCbCopyN(d, as_ustr(src), count * 2))
ADAPT(a_cb_copy_n_ex, return RtlUnicodeStringCbCopyNEx(d, as_ustr(src), count * 2, rem, flags))
ADAPT(a_cat_string, return RtlUnicodeStringCatString(d, src))
ADAPT(a_cat_string_ex, return RtlUnicodeStringCatStringEx(d, src, rem, flags))
ADAPT(a_cat, return RtlUnicodeStringCat(d, as_ustr(src)))
ADAPT(a_cat_ex, return RtlUnicodeStringCatEx(d, as_ustr(src), rem, flags))
ADAPT(a_cch_cat_string_n, return RtlUnicodeStringCchCatStringN(d, src, count))
ADAPT(a_cch_cat_string_n_ex, return RtlUnicodeStringCchCatStringNEx(d, src, count, rem, flags))
ADAPT(a_cb_cat_string_n, return RtlUnicodeStringCbCatStringN(d, src, count * 2))
ADAPT(a_cb_cat_string_n_ex, return RtlUnicodeStringCbCatStringNEx(d, src, count * 2, rem, flags))
ADAPT(a_cch_cat_n, return RtlUnicodeStringCchCatN(d, as_ustr(src), count))
ADAPT(a_cch_cat_n_ex, return RtlUnicodeStringCchCatNEx(d, as_ustr(src), count, rem, flags))
ADAPT(a_cb_cat_n, return RtlUnicodeStringCbCatN(d, as_ustr(src), count * 2))
ADAPT(a_cb_cat_n_ex, return RtlUnicodeStringCbCatNEx(d, as_ustr(src), count * 2, rem, flags))

static const struct routine routines[] = {
    {"CopyString", false, false, false, false, a_copy_string},
    {"CopyStringEx", false, true, false, false, a_copy_string_ex},
    {"Copy", false, false, false, false, a_copy},
    {"CopyEx", false, true, false, false, a_copy_ex},
    {"CchCopyStringN", false, false, true, false, a_cch_copy_string_n},
    {"CchCopyStringNEx", false, true, true, false, a_cch_copy_string_n_ex},
    {"CbCopyStringN", false, false, true, true, a_cb_copy_string_n},
    {"CbCopyStringNEx", false, true, true, true, a_cb_copy_string_n_ex},
    {"CchCopyN", false, false, true, false, a_cch_copy_n},
    {"CchCopyNEx", false, true, true, false, a_cch_copy_n_ex},
    {"CbCopyN", false, false, true, true, a_cb_copy_n},
    {"CbCopyNEx", false, true, true, true, a_cb_copy_n_ex},
    {"CatString", true, false, false, false, a_cat_string},
    {"CatStringEx", true, true, false, false, a_cat_string_ex},
    {"Cat", true, false, false, false, a_cat},
    {"CatEx", true, true, false, false, a_cat_ex},
    {"CchCatStringN", true, false, true, false, a_cch_cat_string_n},
    {"CchCatStringNEx", true, true, true, false, a_cch_cat_string_n_ex},
    {"CbCatStringN", true, false, true, true, a_cb_cat_string_n},
    {"CbCatStringNEx", true, true, true, true, a_cb_cat_string_n_ex},
    {"CchCatN", true, false, true, false, a_cch_cat_n},
    {"CchCatNEx", true, true, true, false, a_cch_cat_n_ex},
    {"CbCatN", true, false, true, true, a_cb_cat_n},
    {"CbCatNEx", true, true, true, true, a_cb_cat_n_ex},
};

#define FOR_EACH_ROUTINE(r) for (const struct routine *r = routines; r < routines + 24; r++)

/* What a routine should hold after adding src to "xy" (cat) or nothing. */
static const WCHAR *start(const struct routine *r)
{
    return r->cat ? L"xy" : NULL;
}

/* ------------------------------------------------------------------------- */
/* Copy and cat: every routine                                                */
/* ------------------------------------------------------------------------- */

static void adds_without_terminating(void **state)
{
    (void)state;
    struct udest d;
    FOR_EACH_ROUTINE(r)
    {
        PUNICODE_STRING u = udest(&d, 8, start(r));
        assert_status(r->call(u, L"abc", 10, NULL, 0), STATUS_SUCCESS);
        assert_counted(u, r->cat ? L"xyabc" : L"abc");
        assert_int_equal(d.buf[u->Length / sizeof(WCHAR)], L'#');
        /* An empty source adds nothing. */
        assert_status(r->call(u, L"", 10, NULL, 0), STATUS_SUCCESS);
        assert_counted(u, r->cat ? L"xyabc" : L"");
    }
}

static void truncates_to_the_buffer(void **state)
{
    (void)state;
    struct udest d;
    FOR_EACH_ROUTINE(r)
    {
        PUNICODE_STRING u = udest(&d, 4, start(r));
        assert_status(r->call(u, L"abcdef", 10, NULL, 0), STATUS_BUFFER_OVERFLOW);
        assert_counted(u, r->cat ? L"xyab" : L"abcd");
        assert_int_equal(d.buf[4], L'#');
        /* Exactly full is a success: no room is kept for a terminator. */
        u = udest(&d, 4, start(r));
        assert_status(r->call(u, r->cat ? L"ab" : L"abcd", 10, NULL, 0), STATUS_SUCCESS);
        assert_counted(u, r->cat ? L"xyab" : L"abcd");
    }
}

static void n_forms_take_at_most_count(void **state)
{
    (void)state;
    struct udest d;
    FOR_EACH_ROUTINE(r)
    {
        if (!r->limited)
            continue;
        PUNICODE_STRING u = udest(&d, 8, start(r));
        assert_status(r->call(u, L"abcdef", 2, NULL, 0), STATUS_SUCCESS);
        assert_counted(u, r->cat ? L"xyab" : L"ab");
        u = udest(&d, 8, start(r));
        assert_status(r->call(u, L"abc", 0, NULL, 0), STATUS_SUCCESS);
        assert_counted(u, r->cat ? L"xy" : L"");
    }
    /* Counts are limited to a UNICODE_STRING's 32767 characters; the Ex
     * forms of a string source refuse 32767 itself. */
    PUNICODE_STRING u = udest(&d, 8, L"q");
    assert_status(RtlUnicodeStringCchCopyStringN(u, L"abc", 32767), STATUS_SUCCESS);
    assert_status(RtlUnicodeStringCchCopyStringN(u, L"abc", 32768), STATUS_INVALID_PARAMETER);
    assert_int_equal(u->Length, 0); /* a copy's Length is set even then */
    u = udest(&d, 8, L"q");
    assert_status(RtlUnicodeStringCchCopyStringNEx(u, L"abc", 32767, NULL, 0),
                  STATUS_INVALID_PARAMETER);
    assert_int_equal(u->Length, 0);
    u = udest(&d, 8, L"q");
    assert_status(RtlUnicodeStringCchCatStringN(u, L"abc", 32768), STATUS_INVALID_PARAMETER);
    assert_counted(u, L"q"); /* a cat's is not */
    UNICODE_STRING src = ustr(L"abc");
    assert_status(RtlUnicodeStringCchCopyNEx(u, &src, 32767, NULL, 0), STATUS_SUCCESS);
    assert_status(RtlUnicodeStringCbCatN(u, &src, 65536), STATUS_INVALID_PARAMETER);
    assert_counted(u, L"abc");
}

static void invalid_destination_is_refused_untouched(void **state)
{
    (void)state;
    struct udest d;
    FOR_EACH_ROUTINE(r)
    {
        PUNICODE_STRING u = udest(&d, 8, L"ab");
        u->Length = 3; /* odd */
        assert_status(r->call(u, L"c", 10, NULL, 0), STATUS_INVALID_PARAMETER);
        assert_int_equal(u->Length, 3);
        u = udest(&d, 8, L"ab");
        u->Length = 20; /* longer than the buffer */
        assert_status(r->call(u, L"c", 10, NULL, 0), STATUS_INVALID_PARAMETER);
        assert_int_equal(u->Length, 20);
        assert_int_equal(d.buf[2], L'#');
    }
}

static void invalid_counted_source_is_refused(void **state)
{
    (void)state;
    struct udest d;
    UNICODE_STRING odd = {3, 8, (PWCH)L"abcd"};
    PUNICODE_STRING u = udest(&d, 8, L"xy");
    /* A copy's Length becomes 0, a cat's stays. */
    assert_status(RtlUnicodeStringCopy(u, &odd), STATUS_INVALID_PARAMETER);
    assert_int_equal(u->Length, 0);
    u = udest(&d, 8, L"xy");
    assert_status(RtlUnicodeStringCat(u, &odd), STATUS_INVALID_PARAMETER);
    assert_counted(u, L"xy");
    u = udest(&d, 8, L"xy");
    assert_status(RtlUnicodeStringCatEx(u, &odd, NULL, 0), STATUS_INVALID_PARAMETER);
    assert_counted(u, L"xy");
    /* A counted source is copied by its Length, terminators and all. */
    UNICODE_STRING embedded = {6, 6, (PWCH)L"a\0b"};
    assert_status(RtlUnicodeStringCopy(u, &embedded), STATUS_SUCCESS);
    assert_int_equal(u->Length, 6);
    assert_int_equal(d.buf[1], 0);
    assert_int_equal(d.buf[2], L'b');
}

static void empty_buffer_overflows_or_is_invalid(void **state)
{
    (void)state;
    UNICODE_STRING none = {0, 0, NULL};
    WCHAR one[1];
    UNICODE_STRING zero = {0, 0, one};
    FOR_EACH_ROUTINE(r)
    {
        /* With nothing to add, success; else the plain forms overflow and
         * the Ex forms say INVALID when there is no Buffer at all. */
        assert_status(r->call(&none, L"", 10, NULL, 0), STATUS_SUCCESS);
        assert_status(r->call(&none, L"a", 10, NULL, 0),
                      r->ex ? STATUS_INVALID_PARAMETER : STATUS_BUFFER_OVERFLOW);
        assert_status(r->call(&zero, L"a", 10, NULL, 0), STATUS_BUFFER_OVERFLOW);
        assert_int_equal(none.Length, 0);
    }
}

/* ------------------------------------------------------------------------- */
/* The Ex forms                                                               */
/* ------------------------------------------------------------------------- */

static void ex_remaining_string_describes_the_rest(void **state)
{
    (void)state;
    struct udest d;
    FOR_EACH_ROUTINE(r)
    {
        if (!r->ex)
            continue;
        UNICODE_STRING rem = {7, 7, NULL};
        PUNICODE_STRING u = udest(&d, 8, start(r));
        assert_status(r->call(u, L"abc", 10, &rem, 0), STATUS_SUCCESS);
        size_t used = r->cat ? 5 : 3;
        assert_int_equal(rem.Length, 0);
        assert_int_equal(rem.MaximumLength, (8 - used) * 2);
        assert_ptr_equal(rem.Buffer, d.buf + used);
        /* On overflow it is the empty rest of a full buffer. */
        u = udest(&d, 4, start(r));
        assert_status(r->call(u, L"abcdef", 10, &rem, 0), STATUS_BUFFER_OVERFLOW);
        assert_int_equal(rem.MaximumLength, 0);
        assert_ptr_equal(rem.Buffer, d.buf + 4);
        /* Left alone on other failures. */
        rem.MaximumLength = 99;
        assert_status(r->call(u, L"a", 10, &rem, 0x00002000), STATUS_INVALID_PARAMETER);
        assert_int_equal(rem.MaximumLength, 99);
    }
}

static void ex_failure_flags(void **state)
{
    (void)state;
    struct udest d;
    FOR_EACH_ROUTINE(r)
    {
        if (!r->ex)
            continue;
        /* NO_TRUNCATION: the string as it was (a copy's was empty). */
        PUNICODE_STRING u = udest(&d, 4, start(r));
        assert_status(r->call(u, L"abcdef", 10, NULL, STRSAFE_NO_TRUNCATION),
                      STATUS_BUFFER_OVERFLOW);
        assert_counted(u, r->cat ? L"xy" : L"");
        /* ZERO_LENGTH_ON_FAILURE: empty, the buffer as written. */
        u = udest(&d, 4, start(r));
        assert_status(r->call(u, L"abcdef", 10, NULL, STRSAFE_ZERO_LENGTH_ON_FAILURE),
                      STATUS_BUFFER_OVERFLOW);
        assert_int_equal(u->Length, 0);
        assert_int_equal(d.buf[3], r->cat ? L'b' : L'd');
        /* FILL_ON_FAILURE: the whole buffer filled, empty. */
        u = udest(&d, 4, start(r));
        assert_status(r->call(u, L"abcdef", 10, NULL, STRSAFE_FAILURE_BYTE(0x2A)),
                      STATUS_BUFFER_OVERFLOW);
        assert_int_equal(u->Length, 0);
        assert_int_equal(d.buf[0], 0x2A2A);
        assert_int_equal(d.buf[3], 0x2A2A);
        assert_int_equal(d.buf[4], L'#');
        /* An unknown flag: a copy's Length becomes 0, a cat's stays. */
        u = udest(&d, 4, start(r));
        assert_status(r->call(u, L"a", 10, NULL, 0x00002000), STATUS_INVALID_PARAMETER);
        assert_counted(u, r->cat ? L"xy" : L"");
    }
}

static void ex_fill_behind_fills_the_rest_on_success(void **state)
{
    (void)state;
    struct udest d;
    FOR_EACH_ROUTINE(r)
    {
        if (!r->ex)
            continue;
        PUNICODE_STRING u = udest(&d, 6, start(r));
        assert_status(r->call(u, L"a", 10, NULL, STRSAFE_FILL_BEHIND | 0x11), STATUS_SUCCESS);
        size_t used = r->cat ? 3 : 1;
        for (size_t i = used; i < 6; i++)
            assert_int_equal(d.buf[i], 0x1111);
        assert_int_equal(d.buf[6], L'#');
    }
}

static void ex_ignore_nulls(void **state)
{
    (void)state;
    struct udest d;
    FOR_EACH_ROUTINE(r)
    {
        if (!r->ex)
            continue;
        PUNICODE_STRING u = udest(&d, 4, start(r));
        assert_status(r->call(u, NULL, 10, NULL, STRSAFE_IGNORE_NULLS), STATUS_SUCCESS);
        assert_counted(u, r->cat ? L"xy" : L"");
        UNICODE_STRING rem = {1, 1, (PWCH)L"x"};
        assert_status(r->call(NULL, L"", 10, &rem, STRSAFE_IGNORE_NULLS), STATUS_SUCCESS);
        assert_null(rem.Buffer);
        assert_int_equal(rem.MaximumLength, 0);
        assert_status(r->call(NULL, L"a", 10, NULL, STRSAFE_IGNORE_NULLS),
                      STATUS_INVALID_PARAMETER);
    }
}

/* ------------------------------------------------------------------------- */
/* Printf                                                                     */
/* ------------------------------------------------------------------------- */

static NTSTATUS vprintf_ex(PUNICODE_STRING d, PUNICODE_STRING rem, DWORD f, const WCHAR *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    NTSTATUS st = RtlUnicodeStringVPrintfEx(d, rem, f, fmt, ap);
    va_end(ap);
    return st;
}

static NTSTATUS vprintf_plain(PUNICODE_STRING d, const WCHAR *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    NTSTATUS st = RtlUnicodeStringVPrintf(d, fmt, ap);
    va_end(ap);
    return st;
}

static void printf_sets_length_and_truncates(void **state)
{
    (void)state;
    struct udest d;
    UNICODE_STRING name = ustr(L"\\f.txt");
    PUNICODE_STRING u = udest(&d, 16, L"old");
    assert_status(RtlUnicodeStringPrintf(u, L"%wZ:%d", &name, 7), STATUS_SUCCESS);
    assert_counted(u, L"\\f.txt:7");
    assert_int_equal(d.buf[8], L'#'); /* not terminated */
    u = udest(&d, 4, NULL);
    assert_status(vprintf_plain(u, L"%s", L"abcdef"), STATUS_BUFFER_OVERFLOW);
    assert_counted(u, L"abcd");
    u = udest(&d, 4, NULL);
    assert_status(vprintf_plain(u, L"%s", L"abcd"), STATUS_SUCCESS); /* exactly full */
    assert_counted(u, L"abcd");
    UNICODE_STRING rem;
    u = udest(&d, 8, NULL);
    assert_status(RtlUnicodeStringPrintfEx(u, &rem, 0, L"%u", 123u), STATUS_SUCCESS);
    assert_counted(u, L"123");
    assert_ptr_equal(rem.Buffer, d.buf + 3);
    assert_int_equal(rem.MaximumLength, 10);
    u = udest(&d, 2, NULL);
    assert_status(vprintf_ex(u, &rem, STRSAFE_ZERO_LENGTH_ON_FAILURE, L"%u", 123u),
                  STATUS_BUFFER_OVERFLOW);
    assert_int_equal(u->Length, 0);
    assert_ptr_equal(rem.Buffer, d.buf);
    assert_int_equal(rem.MaximumLength, 4);
    assert_status(vprintf_ex(NULL, NULL, STRSAFE_IGNORE_NULLS, NULL), STATUS_SUCCESS);
}

/* ------------------------------------------------------------------------- */
/* Init and Validate                                                          */
/* ------------------------------------------------------------------------- */

static void init_points_at_the_source(void **state)
{
    (void)state;
    static const WCHAR text[] = L"abc";
    UNICODE_STRING u = {1, 1, NULL};
    assert_status(RtlUnicodeStringInit(&u, text), STATUS_SUCCESS);
    assert_ptr_equal(u.Buffer, text);
    assert_int_equal(u.Length, 6);
    assert_int_equal(u.MaximumLength, 8);
    assert_status(RtlUnicodeStringInit(&u, NULL), STATUS_SUCCESS);
    assert_true(u.Buffer == NULL && u.Length == 0 && u.MaximumLength == 0);
    /* 32766 characters fit; 32767 do not (no room for the terminator). */
    WCHAR *longest = wide_run(L'a', 32766), *too_long = wide_run(L'a', 32767);
    assert_status(RtlUnicodeStringInit(&u, longest), STATUS_SUCCESS);
    assert_int_equal(u.Length, 65532);
    assert_int_equal(u.MaximumLength, 65534);
    assert_status(RtlUnicodeStringInit(&u, too_long), STATUS_INVALID_PARAMETER);
    assert_true(u.Buffer == NULL && u.Length == 0 && u.MaximumLength == 0);
    assert_status(RtlUnicodeStringInitEx(&u, text, 0x00002000), STATUS_INVALID_PARAMETER);
    assert_true(u.Buffer == NULL && u.Length == 0);
    assert_status(RtlUnicodeStringInitEx(NULL, NULL, STRSAFE_IGNORE_NULLS), STATUS_SUCCESS);
    assert_status(RtlUnicodeStringInitEx(NULL, text, STRSAFE_IGNORE_NULLS),
                  STATUS_INVALID_PARAMETER);
    assert_status(RtlUnicodeStringInitEx(&u, text, STRSAFE_IGNORE_NULLS), STATUS_SUCCESS);
    assert_int_equal(u.Length, 6);
    free(longest);
    free(too_long);
}

static void validate_checks_the_shape(void **state)
{
    (void)state;
    WCHAR b[4];
    UNICODE_STRING ok = {4, 8, b}, odd_len = {3, 8, b}, odd_max = {4, 7, b}, over = {8, 4, b},
                   no_buffer = {0, 8, NULL}, empty = {0, 0, NULL};
    assert_status(RtlUnicodeStringValidate(&ok), STATUS_SUCCESS);
    assert_status(RtlUnicodeStringValidate(&empty), STATUS_SUCCESS);
    assert_status(RtlUnicodeStringValidate(&odd_len), STATUS_INVALID_PARAMETER);
    assert_status(RtlUnicodeStringValidate(&odd_max), STATUS_INVALID_PARAMETER);
    assert_status(RtlUnicodeStringValidate(&over), STATUS_INVALID_PARAMETER);
    assert_status(RtlUnicodeStringValidate(&no_buffer), STATUS_INVALID_PARAMETER);
    assert_status(RtlUnicodeStringValidateEx(NULL, STRSAFE_IGNORE_NULLS), STATUS_SUCCESS);
    assert_status(RtlUnicodeStringValidateEx(&ok, 0x00002000), STATUS_INVALID_PARAMETER);
    assert_status(RtlUnicodeStringValidateEx(&ok, STRSAFE_FILL_BEHIND), STATUS_SUCCESS);
}

/* ------------------------------------------------------------------------- */
/* A UNICODE_STRING into a WCHAR buffer                                       */
/* ------------------------------------------------------------------------- */

static void copy_unicode_string_to_buffer(void **state)
{
    (void)state;
    WCHAR w[8];
    UNICODE_STRING src = ustr(L"abcdef");
    UNICODE_STRING embedded = {6, 6, (PWCH)L"a\0b"};
    assert_status(RtlStringCchCopyUnicodeString(w, 8, &src), STATUS_SUCCESS);
    assert_wstr(w, L"abcdef");
    assert_status(RtlStringCbCopyUnicodeString(w, 8, &src), STATUS_BUFFER_OVERFLOW);
    assert_wstr(w, L"abc");
    /* Counted: embedded terminators are copied as characters. */
    assert_status(RtlStringCchCopyUnicodeString(w, 8, &embedded), STATUS_SUCCESS);
    assert_true(w[0] == L'a' && w[1] == 0 && w[2] == L'b' && w[3] == 0);
    /* A bad source empties the buffer; a size over 32767 leaves it. */
    UNICODE_STRING odd = {3, 8, (PWCH)L"abcd"};
    w[0] = L'q';
    assert_status(RtlStringCchCopyUnicodeString(w, 8, &odd), STATUS_INVALID_PARAMETER);
    assert_int_equal(w[0], 0);
    w[0] = L'q';
    assert_status(RtlStringCchCopyUnicodeString(w, 32768, &src), STATUS_INVALID_PARAMETER);
    assert_int_equal(w[0], L'q');

    WCHAR *end = NULL;
    size_t rem = 0;
    assert_status(RtlStringCchCopyUnicodeStringEx(w, 8, &src, &end, &rem, 0), STATUS_SUCCESS);
    assert_true(end == w + 6 && rem == 2);
    assert_status(RtlStringCbCopyUnicodeStringEx(w, 9, &src, &end, &rem, 0),
                  STATUS_BUFFER_OVERFLOW);
    assert_wstr(w, L"abc");
    assert_true(end == w + 3 && rem == 3); /* one character and the odd byte */
    assert_status(RtlStringCchCopyUnicodeStringEx(w, 8, NULL, &end, &rem, STRSAFE_IGNORE_NULLS),
                  STATUS_SUCCESS);
    assert_wstr(w, L"");
    assert_status(RtlStringCbCopyUnicodeStringEx(w, 16, &src, NULL, NULL, STRSAFE_FILL_BYTE(0x7F)),
                  STATUS_SUCCESS);
    assert_int_equal(w[7], 0x7F7F);
    assert_status(RtlStringCchCopyUnicodeStringEx(w, 4, &src, NULL, NULL, STRSAFE_NULL_ON_FAILURE),
                  STATUS_BUFFER_OVERFLOW);
    assert_wstr(w, L"");
}

/* ------------------------------------------------------------------------- */
/* Misuse                                                                     */
/* ------------------------------------------------------------------------- */

static WCHAR mbuf[8];
static UNICODE_STRING mdest = {0, sizeof(mbuf), mbuf};

static bool null_destination_plain(void)
{
    return RtlUnicodeStringCopyString(NULL, L"a") == STATUS_INVALID_PARAMETER;
}

static bool null_destination_ex_without_flag(void)
{
    return RtlUnicodeStringCatEx(NULL, NULL, NULL, 0) == STATUS_INVALID_PARAMETER;
}

static bool null_string_source(void)
{
    mdest.Length = 2;
    return RtlUnicodeStringCatString(&mdest, NULL) == STATUS_INVALID_PARAMETER && mdest.Length == 2;
}

static bool null_counted_source(void)
{
    mdest.Length = 2;
    return RtlUnicodeStringCopy(&mdest, NULL) == STATUS_INVALID_PARAMETER && mdest.Length == 0;
}

static bool percent_n(void)
{
    int n = 0;
    mdest.Length = 4;
    return RtlUnicodeStringPrintf(&mdest, L"ab%n", &n) == STATUS_INVALID_PARAMETER &&
           mdest.Length == 0 && n == 0;
}

static bool null_init_destination(void)
{
    return RtlUnicodeStringInit(NULL, L"a") == STATUS_INVALID_PARAMETER;
}

static bool null_validate(void)
{
    return RtlUnicodeStringValidate(NULL) == STATUS_INVALID_PARAMETER;
}

static bool null_source_to_buffer(void)
{
    mbuf[0] = L'q';
    return RtlStringCchCopyUnicodeString(mbuf, 8, NULL) == STATUS_INVALID_PARAMETER && mbuf[0] == 0;
}

static void misuse_is_reported_with_the_documented_error(void **state)
{
    (void)state;
    static const struct crt_misuse cases[] = {
        {"RtlUnicodeStringCopyString", null_destination_plain},
        {"RtlUnicodeStringCatEx", null_destination_ex_without_flag},
        {"RtlUnicodeStringCatString", null_string_source},
        {"RtlUnicodeStringCopy", null_counted_source},
        {"RtlUnicodeStringPrintf", percent_n},
        {"RtlUnicodeStringInit", null_init_destination},
        {"RtlUnicodeStringValidate", null_validate},
        {"RtlStringCchCopyUnicodeString", null_source_to_buffer},
    };
    crt_run_misuses(cases, RTL_NUMBER_OF(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adds_without_terminating),
        cmocka_unit_test(truncates_to_the_buffer),
        cmocka_unit_test(n_forms_take_at_most_count),
        cmocka_unit_test(invalid_destination_is_refused_untouched),
        cmocka_unit_test(invalid_counted_source_is_refused),
        cmocka_unit_test(empty_buffer_overflows_or_is_invalid),
        cmocka_unit_test(ex_remaining_string_describes_the_rest),
        cmocka_unit_test(ex_failure_flags),
        cmocka_unit_test(ex_fill_behind_fills_the_rest_on_success),
        cmocka_unit_test(ex_ignore_nulls),
        cmocka_unit_test(printf_sets_length_and_truncates),
        cmocka_unit_test(init_points_at_the_source),
        cmocka_unit_test(validate_checks_the_shape),
        cmocka_unit_test(copy_unicode_string_to_buffer),
        cmocka_unit_test(misuse_is_reported_with_the_documented_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
