/*
 * ntstrsafe's routines for char and WCHAR buffers (strsafe.c): Copy, CopyN,
 * Cat, CatN, Printf, VPrintf and Length, counted in characters or bytes, and
 * the Ex forms' flags and end/remaining out-parameters. Most rules run over
 * all four variants (Cch and Cb, A and W) of their routine through small
 * adapters; what a failure leaves in the destination is checked byte for
 * byte, and misuse Windows faults or bugchecks on must be a KE report.
 */
#include <ntstrsafe.h>

#include "crt_test.h"

/* ------------------------------------------------------------------------- */
/* Variants and buffers                                                       */
/* ------------------------------------------------------------------------- */

struct variant {
    const char *name;
    size_t w; /* character size */
    bool cb;  /* sizes in bytes */
};

static const struct variant variants[] = {
    {"Cch A", 1, false},
    {"Cb A", 1, true},
    {"Cch W", 2, false},
    {"Cb W", 2, true},
};

#define FOR_EACH_VARIANT(v) for (const struct variant *v = variants; v < variants + 4; v++)

/* The size argument for cch characters. */
static size_t sz(const struct variant *v, size_t cch)
{
    return v->cb ? cch * v->w : cch;
}

/* ASCII text as a string of width w (W text lives in a small ring). */
static const void *text(size_t w, const char *ascii)
{
    static WCHAR ring[8][128];
    static unsigned next;
    if (w == 1)
        return ascii;
    WCHAR *out = ring[next++ % 8];
    size_t i = 0;
    for (; ascii[i] != '\0'; i++)
        out[i] = (WCHAR)(unsigned char)ascii[i];
    out[i] = 0;
    return out;
}

static unsigned unit(const void *buf, size_t w, size_t i)
{
    return w == 1 ? ((const unsigned char *)buf)[i] : ((const WCHAR *)buf)[i];
}

/* Fails unless buf holds ascii and its terminator. */
static void check_text(const void *buf, const struct variant *v, const char *ascii,
                       const char *file, int line)
{
    size_t n = strlen(ascii);
    for (size_t i = 0; i <= n; i++)
        if (unit(buf, v->w, i) != (unsigned char)ascii[i]) {
            char got[128];
            size_t k = 0;
            while (k < sizeof(got) - 1 && k < 120 && unit(buf, v->w, k) != 0) {
                unsigned u = unit(buf, v->w, k);
                got[k++] = u < 0x80 ? (char)u : '?';
            }
            got[k] = '\0';
            fail_msg("%s:%d: %s: expected \"%s\", got \"%s\"", file, line, v->name, ascii, got);
        }
}
#define assert_text(buf, v, ascii) check_text((buf), (v), (ascii), __FILE__, __LINE__)

/* A destination prefilled with '#' so that what a routine touched shows. */
struct dest {
    union {
        unsigned char b[512];
        WCHAR wc[256];
    };
};

/* What an untouched character of a fresh destination reads as. */
#define UNTOUCHED(v) ((v)->w == 1 ? 0x23u : 0x2323u)

static void *fresh(struct dest *d)
{
    memset(d->b, '#', sizeof(d->b));
    return d->b;
}

/* ------------------------------------------------------------------------- */
/* Adapters: one call shape for the four variants                             */
/* ------------------------------------------------------------------------- */

static NTSTATUS copy(const struct variant *v, void *d, size_t n, const void *s)
{
    if (v->w == 1)
        return v->cb ? RtlStringCbCopyA(d, n, s) : RtlStringCchCopyA(d, n, s);
    return v->cb ? RtlStringCbCopyW(d, n, s) : RtlStringCchCopyW(d, n, s);
}

static NTSTATUS copy_n(const struct variant *v, void *d, size_t n, const void *s, size_t c)
{
    if (v->w == 1)
        return v->cb ? RtlStringCbCopyNA(d, n, s, c) : RtlStringCchCopyNA(d, n, s, c);
    return v->cb ? RtlStringCbCopyNW(d, n, s, c) : RtlStringCchCopyNW(d, n, s, c);
}

static NTSTATUS cat(const struct variant *v, void *d, size_t n, const void *s)
{
    if (v->w == 1)
        return v->cb ? RtlStringCbCatA(d, n, s) : RtlStringCchCatA(d, n, s);
    return v->cb ? RtlStringCbCatW(d, n, s) : RtlStringCchCatW(d, n, s);
}

static NTSTATUS cat_n(const struct variant *v, void *d, size_t n, const void *s, size_t c)
{
    if (v->w == 1)
        return v->cb ? RtlStringCbCatNA(d, n, s, c) : RtlStringCchCatNA(d, n, s, c);
    return v->cb ? RtlStringCbCatNW(d, n, s, c) : RtlStringCchCatNW(d, n, s, c);
}

/* The Ex forms; end and rem keep their values when the routine leaves them. */
enum ex_op { EX_COPY, EX_COPY_N, EX_CAT, EX_CAT_N };

static NTSTATUS ex(enum ex_op op, const struct variant *v, void *d, size_t n, const void *s,
                   size_t c, void **end, size_t *rem, DWORD f)
{
    NTSTATUS st = STATUS_NOT_IMPLEMENTED;
    if (v->w == 1) {
        char *e = end != NULL ? *end : NULL, **pe = end != NULL ? &e : NULL;
        switch (op) {
        case EX_COPY:
            st = v->cb ? RtlStringCbCopyExA(d, n, s, pe, rem, f)
                       : RtlStringCchCopyExA(d, n, s, pe, rem, f);
            break;
        case EX_COPY_N:
            st = v->cb ? RtlStringCbCopyNExA(d, n, s, c, pe, rem, f)
                       : RtlStringCchCopyNExA(d, n, s, c, pe, rem, f);
            break;
        case EX_CAT:
            st = v->cb ? RtlStringCbCatExA(d, n, s, pe, rem, f)
                       : RtlStringCchCatExA(d, n, s, pe, rem, f);
            break;
        case EX_CAT_N:
            st = v->cb ? RtlStringCbCatNExA(d, n, s, c, pe, rem, f)
                       : RtlStringCchCatNExA(d, n, s, c, pe, rem, f);
            break;
        }
        if (end != NULL)
            *end = e;
    } else {
        WCHAR *e = end != NULL ? *end : NULL, **pe = end != NULL ? &e : NULL;
        switch (op) {
        case EX_COPY:
            st = v->cb ? RtlStringCbCopyExW(d, n, s, pe, rem, f)
                       : RtlStringCchCopyExW(d, n, s, pe, rem, f);
            break;
        case EX_COPY_N:
            st = v->cb ? RtlStringCbCopyNExW(d, n, s, c, pe, rem, f)
                       : RtlStringCchCopyNExW(d, n, s, c, pe, rem, f);
            break;
        case EX_CAT:
            st = v->cb ? RtlStringCbCatExW(d, n, s, pe, rem, f)
                       : RtlStringCchCatExW(d, n, s, pe, rem, f);
            break;
        case EX_CAT_N:
            st = v->cb ? RtlStringCbCatNExW(d, n, s, c, pe, rem, f)
                       : RtlStringCchCatNExW(d, n, s, c, pe, rem, f);
            break;
        }
        if (end != NULL)
            *end = e;
    }
    return st;
}

/* VPrintf and VPrintfEx of a variant, from a variadic helper. */
static NTSTATUS vprintf_v(const struct variant *v, void *d, size_t n, const void *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    NTSTATUS st;
    if (v->w == 1)
        st = v->cb ? RtlStringCbVPrintfA(d, n, fmt, ap) : RtlStringCchVPrintfA(d, n, fmt, ap);
    else
        st = v->cb ? RtlStringCbVPrintfW(d, n, fmt, ap) : RtlStringCchVPrintfW(d, n, fmt, ap);
    va_end(ap);
    return st;
}

static NTSTATUS vprintf_ex(const struct variant *v, void *d, size_t n, void **end, size_t *rem,
                           DWORD f, const void *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    NTSTATUS st;
    if (v->w == 1) {
        char *e = end != NULL ? *end : NULL, **pe = end != NULL ? &e : NULL;
        st = v->cb ? RtlStringCbVPrintfExA(d, n, pe, rem, f, fmt, ap)
                   : RtlStringCchVPrintfExA(d, n, pe, rem, f, fmt, ap);
        if (end != NULL)
            *end = e;
    } else {
        WCHAR *e = end != NULL ? *end : NULL, **pe = end != NULL ? &e : NULL;
        st = v->cb ? RtlStringCbVPrintfExW(d, n, pe, rem, f, fmt, ap)
                   : RtlStringCchVPrintfExW(d, n, pe, rem, f, fmt, ap);
        if (end != NULL)
            *end = e;
    }
    va_end(ap);
    return st;
}

/* The character at index i of a destination, as a pointer. */
static void *at(void *buf, const struct variant *v, size_t i)
{
    return (char *)buf + i * v->w;
}

/* ------------------------------------------------------------------------- */
/* Copy and CopyN                                                             */
/* ------------------------------------------------------------------------- */

static void copy_fits_and_terminates(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d);
        assert_status(copy(v, b, sz(v, 8), text(v->w, "abc")), STATUS_SUCCESS);
        assert_text(b, v, "abc");
        assert_int_equal(unit(b, v->w, 4), UNTOUCHED(v)); /* nothing written past the terminator */
        assert_status(copy(v, b, sz(v, 8), text(v->w, "")), STATUS_SUCCESS);
        assert_text(b, v, "");
    }
}

static void copy_exact_fit_succeeds_one_more_truncates(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d);
        assert_status(copy(v, b, sz(v, 4), text(v->w, "abc")), STATUS_SUCCESS);
        assert_text(b, v, "abc");
        b = fresh(&d);
        assert_status(copy(v, b, sz(v, 4), text(v->w, "abcd")), STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "abc"); /* cut and terminated */
        assert_int_equal(unit(b, v->w, 4), UNTOUCHED(v));
        b = fresh(&d);
        assert_status(copy(v, b, sz(v, 1), text(v->w, "x")), STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "");
    }
}

static void copy_zero_size_is_invalid_and_untouched(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d);
        assert_status(copy(v, b, 0, text(v->w, "abc")), STATUS_INVALID_PARAMETER);
        assert_int_equal(unit(b, v->w, 0), UNTOUCHED(v));
    }
}

/* A size over NTSTRSAFE_MAX_CCH characters is refused; the WDK still writes
 * a terminator at the start, except in RtlStringCbCopyN. */
static void copy_size_over_max_is_invalid_and_empties(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        size_t huge = sz(v, (size_t)NTSTRSAFE_MAX_CCH + 1);
        void *b = fresh(&d);
        assert_status(copy(v, b, huge, text(v->w, "abc")), STATUS_INVALID_PARAMETER);
        assert_int_equal(unit(b, v->w, 0), 0);
        assert_int_equal(unit(b, v->w, 1), UNTOUCHED(v));
        b = fresh(&d);
        assert_status(copy_n(v, b, huge, text(v->w, "abc"), 2), STATUS_INVALID_PARAMETER);
        assert_int_equal(unit(b, v->w, 0), v->cb ? UNTOUCHED(v) : 0);
    }
}

static void cb_wide_sizes_count_whole_characters(void **state)
{
    (void)state;
    struct dest d;
    /* 7 bytes hold 3 WCHARs: "ab" and the terminator. */
    assert_status(RtlStringCbCopyW(fresh(&d), 7, L"abc"), STATUS_BUFFER_OVERFLOW);
    assert_wstr(d.wc, L"ab");
    /* 1 byte holds no WCHAR at all. */
    assert_status(RtlStringCbCopyW(fresh(&d), 1, L"a"), STATUS_INVALID_PARAMETER);
    assert_int_equal(d.b[0], '#');
    /* cbToCopy counts bytes: 5 bytes are 2 characters. */
    assert_status(RtlStringCbCopyNW(fresh(&d), 16, L"abcdef", 5), STATUS_SUCCESS);
    assert_wstr(d.wc, L"ab");
    assert_status(RtlStringCbCatNW(d.wc, 16, L"xyz", 3), STATUS_SUCCESS);
    assert_wstr(d.wc, L"abx");
}

static void copy_n_stops_at_count_or_terminator(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d);
        assert_status(copy_n(v, b, sz(v, 8), text(v->w, "abcdef"), sz(v, 3)), STATUS_SUCCESS);
        assert_text(b, v, "abc");
        assert_status(copy_n(v, b, sz(v, 8), text(v->w, "ab"), sz(v, 5)), STATUS_SUCCESS);
        assert_text(b, v, "ab");
        assert_status(copy_n(v, b, sz(v, 8), text(v->w, "ab"), 0), STATUS_SUCCESS);
        assert_text(b, v, "");
        /* The count may exceed the destination: truncation as usual. */
        assert_status(copy_n(v, b, sz(v, 3), text(v->w, "abcdef"), sz(v, 5)),
                      STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "ab");
    }
}

static void copy_n_count_over_max_is_invalid_and_empties(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d);
        size_t too_many = sz(v, NTSTRSAFE_MAX_LENGTH) + (v->cb ? v->w : 1);
        assert_status(copy_n(v, b, sz(v, 8), text(v->w, "abc"), too_many),
                      STATUS_INVALID_PARAMETER);
        assert_int_equal(unit(b, v->w, 0), 0);
        /* NTSTRSAFE_MAX_LENGTH itself is allowed. */
        assert_status(copy_n(v, b, sz(v, 8), text(v->w, "abc"), sz(v, NTSTRSAFE_MAX_LENGTH)),
                      STATUS_SUCCESS);
        assert_text(b, v, "abc");
    }
}

/* ------------------------------------------------------------------------- */
/* Cat and CatN                                                               */
/* ------------------------------------------------------------------------- */

static void cat_appends_and_truncates(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d);
        assert_status(copy(v, b, sz(v, 6), text(v->w, "ab")), STATUS_SUCCESS);
        assert_status(cat(v, b, sz(v, 6), text(v->w, "cd")), STATUS_SUCCESS);
        assert_text(b, v, "abcd");
        assert_status(cat(v, b, sz(v, 6), text(v->w, "efg")), STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "abcde");
        /* Full: an empty source is still a success, anything else overflows. */
        assert_status(cat(v, b, sz(v, 6), text(v->w, "")), STATUS_SUCCESS);
        assert_status(cat(v, b, sz(v, 6), text(v->w, "z")), STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "abcde");
    }
}

static void cat_unterminated_destination_is_invalid_and_untouched(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d); /* all '#': no terminator within 4 characters */
        assert_status(cat(v, b, sz(v, 4), text(v->w, "x")), STATUS_INVALID_PARAMETER);
        assert_status(cat_n(v, b, sz(v, 4), text(v->w, "x"), sz(v, 1)), STATUS_INVALID_PARAMETER);
        for (size_t i = 0; i < 5; i++)
            assert_int_equal(unit(b, v->w, i), UNTOUCHED(v));
        assert_status(cat(v, b, 0, text(v->w, "x")), STATUS_INVALID_PARAMETER);
    }
}

static void cat_n_appends_at_most_count(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d);
        assert_status(copy(v, b, sz(v, 8), text(v->w, "ab")), STATUS_SUCCESS);
        assert_status(cat_n(v, b, sz(v, 8), text(v->w, "cdef"), sz(v, 2)), STATUS_SUCCESS);
        assert_text(b, v, "abcd");
        assert_status(cat_n(v, b, sz(v, 8), text(v->w, "ef"), sz(v, 9)), STATUS_SUCCESS);
        assert_text(b, v, "abcdef");
        assert_status(cat_n(v, b, sz(v, 8), text(v->w, "ghi"), sz(v, 3)), STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "abcdefg");
        /* An oversized count is refused and the string kept. */
        assert_status(cat_n(v, b, sz(v, 8), text(v->w, "x"), sz(v, NTSTRSAFE_MAX_LENGTH + 1)),
                      STATUS_INVALID_PARAMETER);
        assert_text(b, v, "abcdefg");
    }
}

/* ------------------------------------------------------------------------- */
/* The Ex forms                                                               */
/* ------------------------------------------------------------------------- */

static void ex_reports_end_and_remaining(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d), *end = NULL;
        size_t rem = 0;
        assert_status(ex(EX_COPY, v, b, sz(v, 10), text(v->w, "abc"), 0, &end, &rem, 0),
                      STATUS_SUCCESS);
        assert_ptr_equal(end, at(b, v, 3)); /* the terminator */
        assert_int_equal(rem, sz(v, 7));    /* the terminator's place counts */
        assert_status(ex(EX_CAT, v, b, sz(v, 10), text(v->w, "de"), 0, &end, &rem, 0),
                      STATUS_SUCCESS);
        assert_ptr_equal(end, at(b, v, 5));
        assert_int_equal(rem, sz(v, 5));
        assert_status(ex(EX_CAT_N, v, b, sz(v, 10), text(v->w, "fgh"), sz(v, 1), &end, &rem, 0),
                      STATUS_SUCCESS);
        assert_text(b, v, "abcdef");
        assert_int_equal(rem, sz(v, 4));
        /* On overflow they describe the truncated string. */
        assert_status(ex(EX_COPY_N, v, b, sz(v, 4), text(v->w, "vwxyz"), sz(v, 5), &end, &rem, 0),
                      STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "vwx");
        assert_ptr_equal(end, at(b, v, 3));
        assert_int_equal(rem, sz(v, 1));
        /* Both out-parameters are optional. */
        assert_status(ex(EX_COPY, v, b, sz(v, 4), text(v->w, "q"), 0, NULL, NULL, 0),
                      STATUS_SUCCESS);
    }
    /* A Cb form's remaining count includes a trailing odd byte. */
    WCHAR *e = NULL;
    size_t rem = 0;
    assert_status(RtlStringCbCopyExW(d.wc, 9, L"ab", &e, &rem, 0), STATUS_SUCCESS);
    assert_ptr_equal(e, d.wc + 2);
    assert_int_equal(rem, 5);
}

static void ex_outputs_untouched_when_invalid(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d), *end = &d;
        size_t rem = 77;
        assert_status(ex(EX_COPY, v, b, 0, text(v->w, "a"), 0, &end, &rem, 0),
                      STATUS_INVALID_PARAMETER);
        assert_status(ex(EX_CAT, v, b, sz(v, 4), text(v->w, "a"), 0, &end, &rem, 0),
                      STATUS_INVALID_PARAMETER); /* unterminated */
        assert_ptr_equal(end, &d);
        assert_int_equal(rem, 77);
    }
}

static void ex_ignore_nulls_allows_null_strings(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d), *end = &d;
        size_t rem = 77;
        /* A NULL source is an empty string. */
        assert_status(ex(EX_COPY, v, b, sz(v, 4), NULL, 0, &end, &rem, STRSAFE_IGNORE_NULLS),
                      STATUS_SUCCESS);
        assert_text(b, v, "");
        assert_int_equal(rem, sz(v, 4));
        assert_status(ex(EX_CAT_N, v, b, sz(v, 4), NULL, 5, NULL, NULL, STRSAFE_IGNORE_NULLS),
                      STATUS_SUCCESS);
        /* A NULL destination of size 0: fine while nothing is to be added. */
        end = &d;
        assert_status(ex(EX_COPY, v, NULL, 0, text(v->w, ""), 0, &end, &rem, STRSAFE_IGNORE_NULLS),
                      STATUS_SUCCESS);
        assert_null(end);
        assert_int_equal(rem, 0);
        assert_status(ex(EX_COPY, v, NULL, 0, text(v->w, "a"), 0, NULL, NULL, STRSAFE_IGNORE_NULLS),
                      STATUS_INVALID_PARAMETER);
        assert_status(ex(EX_CAT, v, NULL, 0, NULL, 0, NULL, NULL, STRSAFE_IGNORE_NULLS),
                      STATUS_SUCCESS);
        /* A real destination of size 0 overflows instead. */
        b = fresh(&d);
        assert_status(ex(EX_COPY, v, b, 0, text(v->w, "a"), 0, NULL, NULL, STRSAFE_IGNORE_NULLS),
                      STATUS_BUFFER_OVERFLOW);
        assert_int_equal(unit(b, v->w, 0), UNTOUCHED(v));
        /* A NULL destination with a size is refused, as without the flag. */
        assert_status(
            ex(EX_CAT, v, NULL, sz(v, 4), text(v->w, "a"), 0, NULL, NULL, STRSAFE_IGNORE_NULLS),
            STATUS_INVALID_PARAMETER);
    }
}

static void ex_unknown_flag_is_invalid(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d);
        assert_status(copy(v, b, sz(v, 8), text(v->w, "abc")), STATUS_SUCCESS);
        /* A copy empties its destination; a cat leaves it. */
        assert_status(ex(EX_CAT, v, b, sz(v, 8), text(v->w, "d"), 0, NULL, NULL, 0x00002000),
                      STATUS_INVALID_PARAMETER);
        assert_text(b, v, "abc");
        assert_status(ex(EX_COPY, v, b, sz(v, 8), text(v->w, "d"), 0, NULL, NULL, 0x00002000),
                      STATUS_INVALID_PARAMETER);
        assert_text(b, v, "");
    }
}

static void fill_behind_null_fills_after_the_terminator(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d);
        assert_status(
            ex(EX_COPY, v, b, sz(v, 6), text(v->w, "ab"), 0, NULL, NULL, STRSAFE_FILL_BYTE(0x5A)),
            STATUS_SUCCESS);
        assert_text(b, v, "ab");
        for (size_t i = 3 * v->w; i < 6 * v->w; i++)
            assert_int_equal(d.b[i], 0x5A);
        assert_int_equal(d.b[6 * v->w], '#');
        /* Not on failure. */
        b = fresh(&d);
        assert_status(
            ex(EX_COPY, v, b, sz(v, 3), text(v->w, "abc"), 0, NULL, NULL, STRSAFE_FILL_BYTE(0x5A)),
            STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "ab");
        assert_int_equal(d.b[3 * v->w], '#');
    }
    /* A Cb form fills a trailing odd byte too. */
    memset(d.b, '#', sizeof(d.b));
    assert_status(RtlStringCbCopyExW(d.wc, 5, L"a", NULL, NULL, STRSAFE_FILL_BYTE(0x11)),
                  STATUS_SUCCESS);
    assert_int_equal(d.b[4], 0x11);
    assert_int_equal(d.b[5], '#');
}

static void fill_on_failure_fills_and_terminates_the_last_character(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d), *end = NULL;
        size_t rem = 0;
        assert_status(ex(EX_COPY, v, b, sz(v, 4), text(v->w, "abcdef"), 0, &end, &rem,
                         STRSAFE_FAILURE_BYTE('Q')),
                      STATUS_BUFFER_OVERFLOW);
        for (size_t i = 0; i < 3 * v->w; i++)
            assert_int_equal(d.b[i], 'Q');
        assert_int_equal(unit(b, v->w, 3), 0);
        assert_ptr_equal(end, at(b, v, 3));
        assert_int_equal(rem, sz(v, 1));
        /* A zero pattern leaves an empty string and all the room. */
        b = fresh(&d);
        assert_status(ex(EX_COPY, v, b, sz(v, 4), text(v->w, "abcdef"), 0, &end, &rem,
                         STRSAFE_FAILURE_BYTE(0)),
                      STATUS_BUFFER_OVERFLOW);
        for (size_t i = 0; i < 4 * v->w; i++)
            assert_int_equal(d.b[i], 0);
        assert_ptr_equal(end, b);
        assert_int_equal(rem, sz(v, 4));
        /* Not on success. */
        b = fresh(&d);
        assert_status(
            ex(EX_COPY, v, b, sz(v, 4), text(v->w, "a"), 0, NULL, NULL, STRSAFE_FAILURE_BYTE('Q')),
            STATUS_SUCCESS);
        assert_int_equal(unit(b, v->w, 2), UNTOUCHED(v));
    }
}

static void null_on_failure_and_no_truncation_empty_or_restore(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d), *end = NULL;
        size_t rem = 0;
        assert_status(ex(EX_COPY, v, b, sz(v, 4), text(v->w, "abcdef"), 0, &end, &rem,
                         STRSAFE_NULL_ON_FAILURE),
                      STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "");
        assert_ptr_equal(end, b);
        assert_int_equal(rem, sz(v, 4));
        /* NO_TRUNCATION: a copy leaves an empty string ... */
        b = fresh(&d);
        assert_status(
            ex(EX_COPY, v, b, sz(v, 4), text(v->w, "abcdef"), 0, &end, &rem, STRSAFE_NO_TRUNCATION),
            STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "");
        assert_ptr_equal(end, b);
        /* ... a cat the string it started from. */
        assert_status(copy(v, b, sz(v, 6), text(v->w, "ab")), STATUS_SUCCESS);
        assert_status(
            ex(EX_CAT, v, b, sz(v, 6), text(v->w, "cdefgh"), 0, &end, &rem, STRSAFE_NO_TRUNCATION),
            STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "ab");
        assert_ptr_equal(end, at(b, v, 2));
        assert_int_equal(rem, sz(v, 4));
        /* NULL_ON_FAILURE wins over FILL_ON_FAILURE: filled, then emptied. */
        b = fresh(&d);
        assert_status(ex(EX_COPY, v, b, sz(v, 3), text(v->w, "abc"), 0, NULL, NULL,
                         STRSAFE_FAILURE_BYTE('Q') | STRSAFE_NULL_ON_FAILURE),
                      STATUS_BUFFER_OVERFLOW);
        assert_int_equal(unit(b, v->w, 0), 0);
        assert_int_equal(unit(b, v->w, 1), v->w == 1 ? 'Q' : 0x5151);
        /* The failure flags do not apply when the size itself is bad. */
        b = fresh(&d);
        assert_status(
            ex(EX_COPY, v, b, 0, text(v->w, "abc"), 0, NULL, NULL, STRSAFE_FAILURE_BYTE('Q')),
            STATUS_INVALID_PARAMETER);
        assert_int_equal(unit(b, v->w, 0), UNTOUCHED(v));
    }
}

/* ------------------------------------------------------------------------- */
/* Printf and VPrintf                                                         */
/* ------------------------------------------------------------------------- */

static void printf_formats_windows_conversions(void **state)
{
    (void)state;
    char a[64];
    WCHAR w[64];
    UNICODE_STRING us = ustr(L"\\dir");
    ANSI_STRING as = {3, 4, (PCHAR) "abc"};
    assert_status(RtlStringCchPrintfA(a, 64, "%d|%s|%ws|%wZ|%I64x|%c|%Z", -7, "n", L"w", &us,
                                      0x123456789ULL, 'q', &as),
                  STATUS_SUCCESS);
    assert_string_equal(a, "-7|n|w|\\dir|123456789|q|abc");
    assert_status(RtlStringCbPrintfA(a, sizeof(a), "%lu %5.2s|", 4294967295u, "xyz"),
                  STATUS_SUCCESS);
    assert_string_equal(a, "4294967295    xy|");
    assert_status(RtlStringCchPrintfW(w, 64, L"%d|%s|%hs|%wZ|%S|%%", 42, L"wide", "hs", &us, "S"),
                  STATUS_SUCCESS);
    assert_wstr(w, L"42|wide|hs|\\dir|S|%");
    assert_status(RtlStringCbPrintfW(w, sizeof(w), L"%08X", 0xBEEFu), STATUS_SUCCESS);
    assert_wstr(w, L"0000BEEF");
}

static void printf_truncates_at_the_size(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d);
        assert_status(vprintf_v(v, b, sz(v, 6), text(v->w, "%d-%d"), 12, 34), STATUS_SUCCESS);
        assert_text(b, v, "12-34"); /* exactly fits */
        b = fresh(&d);
        assert_status(vprintf_v(v, b, sz(v, 6), text(v->w, "%d-%d"), 123, 456),
                      STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "123-4");
        assert_int_equal(unit(b, v->w, 6), UNTOUCHED(v));
        b = fresh(&d);
        assert_status(vprintf_v(v, b, 0, text(v->w, "x")), STATUS_INVALID_PARAMETER);
        assert_int_equal(unit(b, v->w, 0), UNTOUCHED(v));
    }
}

static void printf_ex_reports_end_and_flags(void **state)
{
    (void)state;
    struct dest d;
    FOR_EACH_VARIANT(v)
    {
        void *b = fresh(&d), *end = NULL;
        size_t rem = 0;
        assert_status(
            vprintf_ex(v, b, sz(v, 8), &end, &rem, STRSAFE_FILL_BYTE(0x33), text(v->w, "<%u>"), 5u),
            STATUS_SUCCESS);
        assert_text(b, v, "<5>");
        assert_ptr_equal(end, at(b, v, 3));
        assert_int_equal(rem, sz(v, 5));
        assert_int_equal(d.b[4 * v->w], 0x33);
        /* A NULL format with STRSAFE_IGNORE_NULLS prints nothing. */
        assert_status(vprintf_ex(v, b, sz(v, 8), &end, &rem, STRSAFE_IGNORE_NULLS, NULL),
                      STATUS_SUCCESS);
        assert_text(b, v, "");
        assert_status(vprintf_ex(v, b, sz(v, 3), &end, &rem, STRSAFE_NULL_ON_FAILURE,
                                 text(v->w, "%s"), text(v->w, "long")),
                      STATUS_BUFFER_OVERFLOW);
        assert_text(b, v, "");
        assert_int_equal(rem, sz(v, 3));
    }
    /* The variadic Ex forms. */
    char a[8];
    WCHAR w[8];
    char *ea = NULL;
    WCHAR *ew = NULL;
    size_t rem = 0;
    assert_status(RtlStringCchPrintfExA(a, 8, &ea, &rem, 0, "%s", "ab"), STATUS_SUCCESS);
    assert_true(ea == a + 2 && rem == 6);
    assert_status(RtlStringCbPrintfExA(a, 8, &ea, &rem, 0, "%d", 123), STATUS_SUCCESS);
    assert_true(ea == a + 3 && rem == 5);
    assert_status(RtlStringCchPrintfExW(w, 8, &ew, &rem, 0, L"%s", L"abcd"), STATUS_SUCCESS);
    assert_true(ew == w + 4 && rem == 4);
    assert_status(RtlStringCbPrintfExW(w, 16, &ew, &rem, 0, L"%d", 12345678),
                  STATUS_BUFFER_OVERFLOW);
    assert_wstr(w, L"1234567");
    assert_true(ew == w + 7 && rem == 2);
}

/* Narrow and wide arguments cross through the ANSI code page (1252). */
static void printf_crosses_the_ansi_code_page(void **state)
{
    (void)state;
    char a[16];
    WCHAR w[16];
    assert_status(RtlStringCchPrintfA(a, 16, "%ws", L"\u00e9\u20ac\u4e2d"), STATUS_SUCCESS);
    assert_memory_equal(a, "\xe9\x80?", 4);
    assert_status(RtlStringCchPrintfW(w, 16, L"%hs", "\x80\xe9\x81"), STATUS_SUCCESS);
    static const WCHAR expected[] = {0x20AC, 0x00E9, 0x0081, 0};
    assert_wstr(w, expected);
}

/* minispy's idiom: the destination is also an argument; as on Windows the
 * string is measured first and copies onto itself. */
static void printf_destination_as_argument_appends(void **state)
{
    (void)state;
    WCHAR w[32] = L"name";
    assert_status(RtlStringCchPrintfW(w, 32, L"%s:tail", w), STATUS_SUCCESS);
    assert_wstr(w, L"name:tail");
}

/* ------------------------------------------------------------------------- */
/* Length                                                                     */
/* ------------------------------------------------------------------------- */

static void length_counts_without_the_terminator(void **state)
{
    (void)state;
    size_t len = 99;
    assert_status(RtlStringCchLengthA("abc", 4, &len), STATUS_SUCCESS);
    assert_int_equal(len, 3);
    assert_status(RtlStringCbLengthA("abc", 4, &len), STATUS_SUCCESS);
    assert_int_equal(len, 3);
    assert_status(RtlStringCchLengthW(L"abc", 10, &len), STATUS_SUCCESS);
    assert_int_equal(len, 3);
    assert_status(RtlStringCbLengthW(L"abc", 9, &len), STATUS_SUCCESS); /* 4 characters */
    assert_int_equal(len, 6);
    assert_status(RtlStringCchLengthW(L"", 1, NULL), STATUS_SUCCESS);
    assert_status(RtlUnalignedStringCchLengthW(L"ab", 3, &len), STATUS_SUCCESS);
    assert_int_equal(len, 2);
}

static void length_beyond_the_maximum_is_invalid_and_zero(void **state)
{
    (void)state;
    size_t len = 99;
    /* The terminator must be within the maximum. */
    assert_status(RtlStringCchLengthA("abc", 3, &len), STATUS_INVALID_PARAMETER);
    assert_int_equal(len, 0);
    len = 99;
    assert_status(RtlStringCbLengthW(L"abc", 7, &len), STATUS_INVALID_PARAMETER);
    assert_int_equal(len, 0);
    len = 99;
    assert_status(RtlStringCchLengthW(L"a", 0, &len), STATUS_INVALID_PARAMETER);
    assert_int_equal(len, 0);
    /* A NULL string is a documented failure, not a fault. */
    len = 99;
    assert_status(RtlStringCbLengthA(NULL, 8, &len), STATUS_INVALID_PARAMETER);
    assert_int_equal(len, 0);
    assert_status(RtlStringCchLengthA("a", (size_t)NTSTRSAFE_MAX_CCH + 1, &len),
                  STATUS_INVALID_PARAMETER);
    assert_status(RtlStringCchLengthA("a", NTSTRSAFE_MAX_CCH, &len), STATUS_SUCCESS);
}

/* ------------------------------------------------------------------------- */
/* Misuse: a report and the documented error                                  */
/* ------------------------------------------------------------------------- */

static char mbuf[16];
static WCHAR mwbuf[16];

static bool null_destination_copy(void)
{
    return RtlStringCchCopyW(NULL, 8, L"a") == STATUS_INVALID_PARAMETER;
}

static bool null_source_copy(void)
{
    memset(mbuf, '#', sizeof(mbuf));
    return RtlStringCbCopyA(mbuf, 8, NULL) == STATUS_INVALID_PARAMETER && mbuf[0] == 0;
}

static bool null_source_cat_ex_without_flag(void)
{
    mwbuf[0] = L'k';
    mwbuf[1] = 0;
    return RtlStringCchCatExW(mwbuf, 8, NULL, NULL, NULL, 0) == STATUS_INVALID_PARAMETER &&
           mwbuf[0] == L'k';
}

static bool null_format(void)
{
    return RtlStringCchPrintfA(mbuf, 8, NULL) == STATUS_INVALID_PARAMETER && mbuf[0] == 0;
}

static bool percent_n(void)
{
    int count = 0;
    memset(mbuf, '#', sizeof(mbuf));
    return RtlStringCchPrintfA(mbuf, 16, "ab%n", &count) == STATUS_INVALID_PARAMETER &&
           mbuf[0] == 0 && count == 0;
}

static bool unknown_conversion(void)
{
    return RtlStringCbPrintfW(mwbuf, sizeof(mwbuf), L"%y", 1) == STATUS_INVALID_PARAMETER &&
           mwbuf[0] == 0;
}

static bool percent_n_ex_with_failure_fill(void)
{
    int count = 0;
    return RtlStringCchPrintfExW(mwbuf, 4, NULL, NULL, STRSAFE_FAILURE_BYTE(0x41), L"%n", &count) ==
               STATUS_INVALID_PARAMETER &&
           mwbuf[0] == 0x4141 && mwbuf[3] == 0;
}

static bool overlapping_copy(void)
{
    strcpy(mbuf, "abc");
    return RtlStringCchCopyA(mbuf + 1, 8, mbuf) == STATUS_BUFFER_OVERFLOW;
}

static bool null_destination_with_huge_size(void)
{
    return RtlStringCchCopyA(NULL, (size_t)NTSTRSAFE_MAX_CCH + 1, "a") == STATUS_INVALID_PARAMETER;
}

static void misuse_is_reported_with_the_documented_error(void **state)
{
    (void)state;
    static const struct crt_misuse cases[] = {
        {"RtlStringCchCopyW", null_destination_copy},
        {"RtlStringCbCopyA", null_source_copy},
        {"RtlStringCchCatExW", null_source_cat_ex_without_flag},
        {"RtlStringCchPrintfA", null_format},
        {"RtlStringCchPrintfA", percent_n},
        {"RtlStringCbPrintfW", unknown_conversion},
        {"RtlStringCchPrintfExW", percent_n_ex_with_failure_fill},
        {"RtlStringCchCopyA", overlapping_copy},
        {"RtlStringCchCopyA", null_destination_with_huge_size},
    };
    crt_run_misuses(cases, RTL_NUMBER_OF(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copy_fits_and_terminates),
        cmocka_unit_test(copy_exact_fit_succeeds_one_more_truncates),
        cmocka_unit_test(copy_zero_size_is_invalid_and_untouched),
        cmocka_unit_test(copy_size_over_max_is_invalid_and_empties),
        cmocka_unit_test(cb_wide_sizes_count_whole_characters),
        cmocka_unit_test(copy_n_stops_at_count_or_terminator),
        cmocka_unit_test(copy_n_count_over_max_is_invalid_and_empties),
        cmocka_unit_test(cat_appends_and_truncates),
        cmocka_unit_test(cat_unterminated_destination_is_invalid_and_untouched),
        cmocka_unit_test(cat_n_appends_at_most_count),
        cmocka_unit_test(ex_reports_end_and_remaining),
        cmocka_unit_test(ex_outputs_untouched_when_invalid),
        cmocka_unit_test(ex_ignore_nulls_allows_null_strings),
        cmocka_unit_test(ex_unknown_flag_is_invalid),
        cmocka_unit_test(fill_behind_null_fills_after_the_terminator),
        cmocka_unit_test(fill_on_failure_fills_and_terminates_the_last_character),
        cmocka_unit_test(null_on_failure_and_no_truncation_empty_or_restore),
        cmocka_unit_test(printf_formats_windows_conversions),
        cmocka_unit_test(printf_truncates_at_the_size),
        cmocka_unit_test(printf_ex_reports_end_and_flags),
        cmocka_unit_test(printf_crosses_the_ansi_code_page),
        cmocka_unit_test(printf_destination_as_argument_appends),
        cmocka_unit_test(length_counts_without_the_terminator),
        cmocka_unit_test(length_beyond_the_maximum_is_invalid_and_zero),
        cmocka_unit_test(misuse_is_reported_with_the_documented_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
