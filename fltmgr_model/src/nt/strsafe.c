/*
 * ntstrsafe's routines for char (A) and 16-bit WCHAR (W) strings: Copy,
 * CopyN, Cat, CatN, Printf, VPrintf and Length, counted in characters (Cch)
 * or bytes (Cb), and the Ex forms with their STRSAFE_* flags and end and
 * remaining out-parameters. One engine serves both widths and follows the
 * WDK header's own order of checks, so each status and what a failure leaves
 * in the destination are Windows'. Printf formats through fltsim's one
 * Windows walker (format.h). The UNICODE_STRING family is strsafe_ustr.c.
 */
#include <ntstrsafe.h>

#include "format.h"
#include "nt_internal.h"
#include "strings_internal.h"

static const char empty_a[1] = "";
static const WCHAR empty_w[1] = {0};

/* ---- characters of either width ---- */

static unsigned char_at(const void *s, size_t width, size_t i)
{
    return width == 1 ? ((const unsigned char *)s)[i] : ((const WCHAR *)s)[i];
}

static void set_char(void *s, size_t width, size_t i, unsigned c)
{
    if (width == 1)
        ((unsigned char *)s)[i] = (unsigned char)c;
    else
        ((WCHAR *)s)[i] = (WCHAR)c;
}

/* s + i characters; s may be NULL when i is 0. */
static void *char_ptr(void *s, size_t width, size_t i)
{
    return i == 0 ? s : (char *)s + i * width;
}

/* Empties dest after a failed size check, as the WDK does when the size is
 * nonzero; a NULL dest would fault there. */
static void empty_dest(const char *api, void *dest, size_t width)
{
    if (dest == NULL) {
        fltsim__string_misuse(api, "the destination is NULL with a nonzero size (Windows faults "
                                   "writing its terminator)");
        return;
    }
    set_char(dest, width, 0, 0);
}

/* RtlStringLengthWorker: whether s is terminated within max characters, and
 * its length then. */
static bool terminated_within(const void *s, size_t width, size_t max, size_t *len)
{
    for (size_t n = 0; n < max; n++)
        if (char_at(s, width, n) == 0) {
            *len = n;
            return true;
        }
    *len = 0;
    return false;
}

/* ntstrsafe leaves overlapping strings undefined: reported; the copy then
 * goes front to back as the WDK's loop does. Reads only what the copy
 * reads. */
static void check_overlap(const char *api, const void *dest, size_t cch, size_t width,
                          const void *src, size_t to_copy)
{
    size_t n = 0;
    while (n < cch && n < to_copy && char_at(src, width, n) != 0)
        n++;
    size_t read = (n < cch && n < to_copy) ? n + 1 : n;
    size_t written = n < cch ? n + 1 : cch;
    uintptr_t s = (uintptr_t)src, d = (uintptr_t)dest;
    if (read > 0 && s < d + written * width && d < s + read * width)
        fltsim__string_misuse(api, "the source and the destination overlap (undefined in "
                                   "ntstrsafe); fltsim copies front to back");
}

/* RtlStringCopyWorker: copies src, at most to_copy characters and up to its
 * terminator (counted: exactly to_copy characters, terminators included, as
 * RtlStringCopyWideCharArrayWorker does for a UNICODE_STRING), into dest of
 * cch characters (cch >= 1), always terminating. STATUS_BUFFER_OVERFLOW when
 * dest filled up first (the result is cut). *copied: the characters before
 * the terminator. */
static NTSTATUS copy_worker(const char *api, void *dest, size_t cch, size_t width, const void *src,
                            size_t to_copy, bool counted, size_t *copied)
{
    if (!counted)
        check_overlap(api, dest, cch, width, src, to_copy);
    size_t n = 0;
    while (cch > 0 && to_copy > 0 && (counted || char_at(src, width, n) != 0)) {
        set_char(dest, width, n, char_at(src, width, n));
        n++;
        cch--;
        to_copy--;
    }
    NTSTATUS status = STATUS_SUCCESS;
    if (cch == 0) {
        n--;
        status = STATUS_BUFFER_OVERFLOW;
    }
    set_char(dest, width, n, 0);
    *copied = n;
    return status;
}

/* ---- formatting ---- */

/* Stores the first room characters the walker produces, converting to the
 * destination's width through the ANSI code page, and counts them. */
struct store_out {
    struct fltsim_fmt_out base;
    void *buf;
    size_t width;
    size_t room;
    size_t len;
};

static void store_unit(struct store_out *o, unsigned u)
{
    if (o->len < o->room)
        set_char(o->buf, o->width, o->len, u);
    if (++o->len > o->room)
        o->base.full = true; /* cut: nothing more is needed to know it */
}

static void store_narrow(struct fltsim_fmt_out *base, const char *s, size_t n)
{
    struct store_out *o = (struct store_out *)(void *)base;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        store_unit(o, o->width == 1 ? c : fltsim__ansi_to_unicode(c));
    }
}

static void store_wide(struct fltsim_fmt_out *base, const WCHAR *s, size_t n)
{
    struct store_out *o = (struct store_out *)(void *)base;
    for (size_t i = 0; i < n; i++)
        store_unit(o, o->width == 2 ? s[i] : (unsigned char)fltsim__unicode_to_ansi(s[i], NULL));
}

NTSTATUS fltsim__strsafe_vprintf(const char *api, void *dest, size_t width, size_t room,
                                 const void *format, va_list *ap, size_t *written)
{
    struct store_out o = {{store_narrow, store_wide, false}, dest, width, room, 0};
    va_list copy;
    va_copy(copy, *ap);
    const char *invalid = fltsim__format(
        &o.base, width == 1 ? FLTSIM_FMT_CRT_NARROW : FLTSIM_FMT_CRT_WIDE, format, &copy);
    va_end(copy);
    if (invalid != NULL) {
        fltsim__string_misuse(api,
                              "%s (the kernel C runtime's invalid-parameter handler bugchecks; "
                              "fltsim returns STATUS_INVALID_PARAMETER)",
                              invalid);
        *written = 0;
        return STATUS_INVALID_PARAMETER;
    }
    *written = o.len < room ? o.len : room;
    return o.len > room ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

/* RtlStringVPrintfWorker: formats into dest of cch characters (cch >= 1),
 * always terminating; *len is the characters before the terminator. */
static NTSTATUS printf_worker(const char *api, void *dest, size_t cch, size_t width,
                              const void *format, va_list *ap, size_t *len)
{
    NTSTATUS status = fltsim__strsafe_vprintf(api, dest, width, cch - 1, format, ap, len);
    set_char(dest, width, *len, 0);
    return status;
}

/* ---- the engine ---- */

/* JOB_COPY_USTR: RtlStringCch/CbCopyUnicodeString(Ex), whose source is a
 * PCUNICODE_STRING and whose destination may hold at most
 * NTSTRSAFE_UNICODE_STRING_MAX_CCH characters. */
enum job { JOB_COPY, JOB_COPY_N, JOB_CAT, JOB_CAT_N, JOB_PRINTF, JOB_COPY_USTR };

/* One call: its destination in characters and in bytes (cb is cch * width
 * for the Cch forms, the caller's count for the Cb forms), its source or
 * format, and the N forms' limit in characters. */
struct job_args {
    const char *api;
    enum job job;
    size_t width;
    void *dest;
    size_t cch;
    size_t cb;
    const void *src;
    size_t to_copy;
    va_list *ap;
    /* Whether a size over the maximum still empties the destination: true
     * for all but RtlStringCbCopyN(Ex), RtlStringCbVPrintfEx and the
     * CopyUnicodeString forms, whose WDK bodies lack that step. */
    bool empty_on_bad_size;
};

static size_t max_cch(const struct job_args *a)
{
    return a->job == JOB_COPY_USTR ? NTSTRSAFE_UNICODE_STRING_MAX_CCH : NTSTRSAFE_MAX_CCH;
}

static bool is_cat(const struct job_args *a)
{
    return a->job == JOB_CAT || a->job == JOB_CAT_N;
}

static bool is_limited(const struct job_args *a)
{
    return a->job == JOB_COPY_N || a->job == JOB_CAT_N;
}

/* The plain forms (RtlStringCchCopyW ...). */
static NTSTATUS run_plain(const struct job_args *a)
{
    const size_t w = a->width;
    size_t len = 0;
    if (a->cch == 0 || a->cch > max_cch(a)) {
        if (!is_cat(a) && a->cch > 0 && a->empty_on_bad_size)
            empty_dest(a->api, a->dest, w);
        return STATUS_INVALID_PARAMETER;
    }
    if (a->dest == NULL) {
        fltsim__string_misuse(a->api, "the destination is NULL (Windows faults on it)");
        return STATUS_INVALID_PARAMETER;
    }
    if (is_cat(a) && !terminated_within(a->dest, w, a->cch, &len))
        return STATUS_INVALID_PARAMETER; /* not a string of that size: untouched */
    if (is_limited(a) && a->to_copy > NTSTRSAFE_MAX_LENGTH) {
        if (!is_cat(a))
            set_char(a->dest, w, 0, 0);
        return STATUS_INVALID_PARAMETER;
    }
    if (a->job == JOB_COPY_USTR) {
        PCUNICODE_STRING us = a->src;
        NTSTATUS status = fltsim__ustr_validate(a->api, us, 0);
        if (!NT_SUCCESS(status)) {
            set_char(a->dest, w, 0, 0);
            return status;
        }
        size_t n;
        return copy_worker(a->api, a->dest, a->cch, w, us->Buffer, us->Length / sizeof(WCHAR), true,
                           &n);
    }
    if (a->src == NULL) {
        fltsim__string_misuse(a->api, "the %s is NULL (Windows faults on it)",
                              a->job == JOB_PRINTF ? "format" : "source");
        if (!is_cat(a))
            set_char(a->dest, w, 0, 0);
        return STATUS_INVALID_PARAMETER;
    }
    size_t n;
    if (a->job == JOB_PRINTF)
        return printf_worker(a->api, a->dest, a->cch, w, a->src, a->ap, &n);
    return copy_worker(a->api, char_ptr(a->dest, w, len), a->cch - len, w, a->src,
                       is_limited(a) ? a->to_copy : NTSTRSAFE_MAX_LENGTH, false, &n);
}

/* What an Ex form reports besides its status, in its own units. */
struct ex_out {
    bool set; /* only on success or STATUS_BUFFER_OVERFLOW */
    void *end;
    size_t remaining; /* characters, or bytes for the Cb forms */
};

/* RtlStringExHandleOtherFlags: STRSAFE_NO_TRUNCATION restores the original
 * string (orig_len characters), STRSAFE_FILL_ON_FAILURE fills all cb bytes
 * with the pattern and terminates the last character (or leaves the zeros),
 * STRSAFE_NULL_ON_FAILURE empties it; later flags win. */
static void other_flags(const struct job_args *a, DWORD flags, size_t orig_len, void **end,
                        size_t *rem)
{
    const size_t w = a->width, cch = a->cb / w;
    if (a->dest == NULL) {
        fltsim__string_misuse(a->api, "the destination is NULL with a nonzero size (Windows "
                                      "faults handling the failure flags)");
        return;
    }
    if (cch > 0 && (flags & STRSAFE_NO_TRUNCATION)) {
        *end = char_ptr(a->dest, w, orig_len);
        *rem = cch - orig_len;
        set_char(a->dest, w, orig_len, 0);
    }
    if (flags & STRSAFE_FILL_ON_FAILURE) {
        memset(a->dest, STRSAFE_GET_FILL_PATTERN(flags), a->cb);
        if (STRSAFE_GET_FILL_PATTERN(flags) == 0) {
            *end = a->dest;
            *rem = cch;
        } else if (cch > 0) {
            *end = char_ptr(a->dest, w, cch - 1);
            *rem = 1;
            set_char(a->dest, w, cch - 1, 0);
        }
    }
    if (cch > 0 && (flags & STRSAFE_NULL_ON_FAILURE)) {
        *end = a->dest;
        *rem = cch;
        set_char(a->dest, w, 0, 0);
    }
}

/* The Ex forms. remaining_in_bytes: the Cb forms'. */
static NTSTATUS run_ex(const struct job_args *a, DWORD flags, bool remaining_in_bytes,
                       struct ex_out *out)
{
    const size_t w = a->width, cch = a->cch;
    const bool cat = is_cat(a), limited = is_limited(a);
    const bool ignore_nulls = (flags & STRSAFE_IGNORE_NULLS) != 0;
    size_t len = 0;
    out->set = false;

    /* RtlStringExValidateDest(AndLength): with STRSAFE_IGNORE_NULLS a NULL
     * destination of size 0 is allowed. */
    bool bad_size = ignore_nulls ? ((a->dest == NULL && cch != 0) || cch > max_cch(a))
                                 : (cch == 0 || cch > max_cch(a));
    if (bad_size) {
        if (!cat && cch > 0 && a->empty_on_bad_size)
            empty_dest(a->api, a->dest, w);
        return STATUS_INVALID_PARAMETER;
    }
    if (a->dest == NULL && cch != 0) {
        fltsim__string_misuse(a->api, "the destination is NULL (Windows faults on it)");
        return STATUS_INVALID_PARAMETER;
    }
    if (cat && cch != 0 && !terminated_within(a->dest, w, cch, &len))
        return STATUS_INVALID_PARAMETER;

    void *end = char_ptr(a->dest, w, len);
    size_t rem = cch - len;
    const void *src = a->src;
    size_t to_copy = a->to_copy;
    NTSTATUS status = STATUS_SUCCESS;

    /* RtlStringExValidateSrc, or RtlUnicodeStringValidateSrcWorker */
    if (a->job == JOB_COPY_USTR) {
        PCUNICODE_STRING us = a->src;
        status = fltsim__ustr_validate(a->api, us, flags);
        src = us != NULL ? us->Buffer : NULL;
        to_copy = us != NULL ? us->Length / sizeof(WCHAR) : 0;
        if (NT_SUCCESS(status) && src == NULL)
            src = empty_w; /* only reached with STRSAFE_IGNORE_NULLS, or an empty string */
    } else if (limited && to_copy >= NTSTRSAFE_MAX_CCH) {
        status = STATUS_INVALID_PARAMETER;
    } else if (src == NULL && ignore_nulls) {
        src = w == 1 ? (const void *)empty_a : (const void *)empty_w;
        to_copy = 0;
    } else if (src == NULL) {
        fltsim__string_misuse(a->api,
                              "the %s is NULL without STRSAFE_IGNORE_NULLS (Windows "
                              "faults on it)",
                              a->job == JOB_PRINTF ? "format" : "source");
        status = STATUS_INVALID_PARAMETER;
    }

    if (NT_SUCCESS(status)) {
        if (flags & ~(DWORD)STRSAFE_VALID_FLAGS) {
            status = STATUS_INVALID_PARAMETER;
            if (!cat && cch != 0)
                set_char(a->dest, w, 0, 0);
        } else if (cat ? rem <= 1 : cch == 0) {
            /* No room: only a failure when there was something to add. */
            bool data = a->job == JOB_COPY_USTR
                            ? to_copy != 0
                            : (!limited || to_copy != 0) && char_at(src, w, 0) != 0;
            if (data)
                status = a->dest == NULL ? STATUS_INVALID_PARAMETER : STATUS_BUFFER_OVERFLOW;
        } else {
            size_t n;
            if (a->job == JOB_PRINTF)
                status = printf_worker(a->api, a->dest, cch, w, src, a->ap, &n);
            else if (a->job == JOB_COPY_USTR)
                status = copy_worker(a->api, end, rem, w, src, to_copy, true, &n);
            else
                status = copy_worker(a->api, end, rem, w, src,
                                     limited ? to_copy : NTSTRSAFE_MAX_LENGTH, false, &n);
            end = char_ptr(end, w, n);
            rem -= n;
            /* STRSAFE_FILL_BEHIND_NULL: the bytes after the terminator. */
            size_t cb_rem = rem * w + a->cb % w;
            if (NT_SUCCESS(status) && (flags & STRSAFE_FILL_BEHIND_NULL) && cb_rem > w)
                memset((char *)end + w, STRSAFE_GET_FILL_PATTERN(flags), cb_rem - w);
        }
    } else if (!cat && cch != 0) {
        set_char(a->dest, w, 0, 0);
    }

    if (!NT_SUCCESS(status) &&
        (flags & (STRSAFE_NO_TRUNCATION | STRSAFE_FILL_ON_FAILURE | STRSAFE_NULL_ON_FAILURE)) &&
        a->cb != 0)
        other_flags(a, flags, cat ? len : 0, &end, &rem);

    if (NT_SUCCESS(status) || status == STATUS_BUFFER_OVERFLOW) {
        out->set = true;
        out->end = end;
        out->remaining = remaining_in_bytes ? rem * w + a->cb % w : rem;
    }
    return status;
}

/* ---- Length ---- */

static NTSTATUS length_of(const void *psz, size_t width, size_t cch_max, size_t *len)
{
    /* A NULL string or a zero maximum is a documented failure, not a fault. */
    if (psz == NULL || cch_max > NTSTRSAFE_MAX_CCH ||
        !terminated_within(psz, width, cch_max, len)) {
        *len = 0;
        return STATUS_INVALID_PARAMETER;
    }
    return STATUS_SUCCESS;
}

/* ---- the routines, once per width ---- */

/* Byte counts: the Cch forms' (checked before use), the Cb forms' own. */
#define CCH_BYTES(cch, CH) ((cch) <= NTSTRSAFE_MAX_CCH ? (cch) * sizeof(CH) : 0)

#define EX_RESULT(r, ppEnd, pRem)                                                                  \
    do {                                                                                           \
        if ((r).set) {                                                                             \
            if ((ppEnd) != NULL)                                                                   \
                *(ppEnd) = (r).end;                                                                \
            if ((pRem) != NULL)                                                                    \
                *(pRem) = (r).remaining;                                                           \
        }                                                                                          \
    } while (0)

#define FLTSIM_STRSAFE_DEFINE(S, CH)                                                               \
    NTSTATUS RtlStringCchCopy##S(CH *pszDest, size_t cchDest, const CH *pszSrc)                    \
    {                                                                                              \
        struct job_args a = {"RtlStringCchCopy" #S,  JOB_COPY, sizeof(CH), pszDest, cchDest,       \
                             CCH_BYTES(cchDest, CH), pszSrc,   0,          NULL,    true};         \
        return run_plain(&a);                                                                      \
    }                                                                                              \
    NTSTATUS RtlStringCbCopy##S(CH *pszDest, size_t cbDest, const CH *pszSrc)                      \
    {                                                                                              \
        struct job_args a = {"RtlStringCbCopy" #S,                                                 \
                             JOB_COPY,                                                             \
                             sizeof(CH),                                                           \
                             pszDest,                                                              \
                             cbDest / sizeof(CH),                                                  \
                             cbDest,                                                               \
                             pszSrc,                                                               \
                             0,                                                                    \
                             NULL,                                                                 \
                             true};                                                                \
        return run_plain(&a);                                                                      \
    }                                                                                              \
    NTSTATUS RtlStringCchCopyEx##S(CH *pszDest, size_t cchDest, const CH *pszSrc,                  \
                                   CH **ppszDestEnd, size_t *pcchRemaining, DWORD dwFlags)         \
    {                                                                                              \
        struct job_args a = {"RtlStringCchCopyEx" #S, JOB_COPY, sizeof(CH), pszDest, cchDest,      \
                             CCH_BYTES(cchDest, CH),  pszSrc,   0,          NULL,    true};        \
        struct ex_out r;                                                                           \
        NTSTATUS status = run_ex(&a, dwFlags, false, &r);                                          \
        EX_RESULT(r, ppszDestEnd, pcchRemaining);                                                  \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCbCopyEx##S(CH *pszDest, size_t cbDest, const CH *pszSrc, CH **ppszDestEnd,  \
                                  size_t *pcbRemaining, DWORD dwFlags)                             \
    {                                                                                              \
        struct job_args a = {"RtlStringCbCopyEx" #S,                                               \
                             JOB_COPY,                                                             \
                             sizeof(CH),                                                           \
                             pszDest,                                                              \
                             cbDest / sizeof(CH),                                                  \
                             cbDest,                                                               \
                             pszSrc,                                                               \
                             0,                                                                    \
                             NULL,                                                                 \
                             true};                                                                \
        struct ex_out r;                                                                           \
        NTSTATUS status = run_ex(&a, dwFlags, true, &r);                                           \
        EX_RESULT(r, ppszDestEnd, pcbRemaining);                                                   \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCchCopyN##S(CH *pszDest, size_t cchDest, const CH *pszSrc, size_t cchToCopy) \
    {                                                                                              \
        struct job_args a = {"RtlStringCchCopyN" #S, JOB_COPY_N, sizeof(CH), pszDest, cchDest,     \
                             CCH_BYTES(cchDest, CH), pszSrc,     cchToCopy,  NULL,    true};       \
        return run_plain(&a);                                                                      \
    }                                                                                              \
    NTSTATUS RtlStringCbCopyN##S(CH *pszDest, size_t cbDest, const CH *pszSrc, size_t cbToCopy)    \
    {                                                                                              \
        struct job_args a = {"RtlStringCbCopyN" #S,                                                \
                             JOB_COPY_N,                                                           \
                             sizeof(CH),                                                           \
                             pszDest,                                                              \
                             cbDest / sizeof(CH),                                                  \
                             cbDest,                                                               \
                             pszSrc,                                                               \
                             cbToCopy / sizeof(CH),                                                \
                             NULL,                                                                 \
                             false};                                                               \
        return run_plain(&a);                                                                      \
    }                                                                                              \
    NTSTATUS RtlStringCchCopyNEx##S(CH *pszDest, size_t cchDest, const CH *pszSrc,                 \
                                    size_t cchToCopy, CH **ppszDestEnd, size_t *pcchRemaining,     \
                                    DWORD dwFlags)                                                 \
    {                                                                                              \
        struct job_args a = {"RtlStringCchCopyNEx" #S, JOB_COPY_N, sizeof(CH), pszDest, cchDest,   \
                             CCH_BYTES(cchDest, CH),   pszSrc,     cchToCopy,  NULL,    true};     \
        struct ex_out r;                                                                           \
        NTSTATUS status = run_ex(&a, dwFlags, false, &r);                                          \
        EX_RESULT(r, ppszDestEnd, pcchRemaining);                                                  \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCbCopyNEx##S(CH *pszDest, size_t cbDest, const CH *pszSrc, size_t cbToCopy,  \
                                   CH **ppszDestEnd, size_t *pcbRemaining, DWORD dwFlags)          \
    {                                                                                              \
        struct job_args a = {"RtlStringCbCopyNEx" #S,                                              \
                             JOB_COPY_N,                                                           \
                             sizeof(CH),                                                           \
                             pszDest,                                                              \
                             cbDest / sizeof(CH),                                                  \
                             cbDest,                                                               \
                             pszSrc,                                                               \
                             cbToCopy / sizeof(CH),                                                \
                             NULL,                                                                 \
                             false};                                                               \
        struct ex_out r;                                                                           \
        NTSTATUS status = run_ex(&a, dwFlags, true, &r);                                           \
        EX_RESULT(r, ppszDestEnd, pcbRemaining);                                                   \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCchCat##S(CH *pszDest, size_t cchDest, const CH *pszSrc)                     \
    {                                                                                              \
        struct job_args a = {"RtlStringCchCat" #S,   JOB_CAT, sizeof(CH), pszDest, cchDest,        \
                             CCH_BYTES(cchDest, CH), pszSrc,  0,          NULL,    true};          \
        return run_plain(&a);                                                                      \
    }                                                                                              \
    NTSTATUS RtlStringCbCat##S(CH *pszDest, size_t cbDest, const CH *pszSrc)                       \
    {                                                                                              \
        struct job_args a = {"RtlStringCbCat" #S,                                                  \
                             JOB_CAT,                                                              \
                             sizeof(CH),                                                           \
                             pszDest,                                                              \
                             cbDest / sizeof(CH),                                                  \
                             cbDest,                                                               \
                             pszSrc,                                                               \
                             0,                                                                    \
                             NULL,                                                                 \
                             true};                                                                \
        return run_plain(&a);                                                                      \
    }                                                                                              \
    NTSTATUS RtlStringCchCatEx##S(CH *pszDest, size_t cchDest, const CH *pszSrc, CH **ppszDestEnd, \
                                  size_t *pcchRemaining, DWORD dwFlags)                            \
    {                                                                                              \
        struct job_args a = {"RtlStringCchCatEx" #S, JOB_CAT, sizeof(CH), pszDest, cchDest,        \
                             CCH_BYTES(cchDest, CH), pszSrc,  0,          NULL,    true};          \
        struct ex_out r;                                                                           \
        NTSTATUS status = run_ex(&a, dwFlags, false, &r);                                          \
        EX_RESULT(r, ppszDestEnd, pcchRemaining);                                                  \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCbCatEx##S(CH *pszDest, size_t cbDest, const CH *pszSrc, CH **ppszDestEnd,   \
                                 size_t *pcbRemaining, DWORD dwFlags)                              \
    {                                                                                              \
        struct job_args a = {"RtlStringCbCatEx" #S,                                                \
                             JOB_CAT,                                                              \
                             sizeof(CH),                                                           \
                             pszDest,                                                              \
                             cbDest / sizeof(CH),                                                  \
                             cbDest,                                                               \
                             pszSrc,                                                               \
                             0,                                                                    \
                             NULL,                                                                 \
                             true};                                                                \
        struct ex_out r;                                                                           \
        NTSTATUS status = run_ex(&a, dwFlags, true, &r);                                           \
        EX_RESULT(r, ppszDestEnd, pcbRemaining);                                                   \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCchCatN##S(CH *pszDest, size_t cchDest, const CH *pszSrc,                    \
                                 size_t cchToAppend)                                               \
    {                                                                                              \
        struct job_args a = {"RtlStringCchCatN" #S,  JOB_CAT_N, sizeof(CH),  pszDest, cchDest,     \
                             CCH_BYTES(cchDest, CH), pszSrc,    cchToAppend, NULL,    true};       \
        return run_plain(&a);                                                                      \
    }                                                                                              \
    NTSTATUS RtlStringCbCatN##S(CH *pszDest, size_t cbDest, const CH *pszSrc, size_t cbToAppend)   \
    {                                                                                              \
        struct job_args a = {"RtlStringCbCatN" #S,                                                 \
                             JOB_CAT_N,                                                            \
                             sizeof(CH),                                                           \
                             pszDest,                                                              \
                             cbDest / sizeof(CH),                                                  \
                             cbDest,                                                               \
                             pszSrc,                                                               \
                             cbToAppend / sizeof(CH),                                              \
                             NULL,                                                                 \
                             true};                                                                \
        return run_plain(&a);                                                                      \
    }                                                                                              \
    NTSTATUS RtlStringCchCatNEx##S(CH *pszDest, size_t cchDest, const CH *pszSrc,                  \
                                   size_t cchToAppend, CH **ppszDestEnd, size_t *pcchRemaining,    \
                                   DWORD dwFlags)                                                  \
    {                                                                                              \
        struct job_args a = {"RtlStringCchCatNEx" #S, JOB_CAT_N, sizeof(CH),  pszDest, cchDest,    \
                             CCH_BYTES(cchDest, CH),  pszSrc,    cchToAppend, NULL,    true};      \
        struct ex_out r;                                                                           \
        NTSTATUS status = run_ex(&a, dwFlags, false, &r);                                          \
        EX_RESULT(r, ppszDestEnd, pcchRemaining);                                                  \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCbCatNEx##S(CH *pszDest, size_t cbDest, const CH *pszSrc, size_t cbToAppend, \
                                  CH **ppszDestEnd, size_t *pcbRemaining, DWORD dwFlags)           \
    {                                                                                              \
        struct job_args a = {"RtlStringCbCatNEx" #S,                                               \
                             JOB_CAT_N,                                                            \
                             sizeof(CH),                                                           \
                             pszDest,                                                              \
                             cbDest / sizeof(CH),                                                  \
                             cbDest,                                                               \
                             pszSrc,                                                               \
                             cbToAppend / sizeof(CH),                                              \
                             NULL,                                                                 \
                             true};                                                                \
        struct ex_out r;                                                                           \
        NTSTATUS status = run_ex(&a, dwFlags, true, &r);                                           \
        EX_RESULT(r, ppszDestEnd, pcbRemaining);                                                   \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCchVPrintf##S(CH *pszDest, size_t cchDest, const CH *pszFormat,              \
                                    va_list argList)                                               \
    {                                                                                              \
        va_list ap;                                                                                \
        va_copy(ap, argList);                                                                      \
        struct job_args a = {"RtlStringCchVPrintf" #S, JOB_PRINTF, sizeof(CH), pszDest, cchDest,   \
                             CCH_BYTES(cchDest, CH),   pszFormat,  0,          &ap,     true};     \
        NTSTATUS status = run_plain(&a);                                                           \
        va_end(ap);                                                                                \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCbVPrintf##S(CH *pszDest, size_t cbDest, const CH *pszFormat,                \
                                   va_list argList)                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_copy(ap, argList);                                                                      \
        struct job_args a = {"RtlStringCbVPrintf" #S,                                              \
                             JOB_PRINTF,                                                           \
                             sizeof(CH),                                                           \
                             pszDest,                                                              \
                             cbDest / sizeof(CH),                                                  \
                             cbDest,                                                               \
                             pszFormat,                                                            \
                             0,                                                                    \
                             &ap,                                                                  \
                             true};                                                                \
        NTSTATUS status = run_plain(&a);                                                           \
        va_end(ap);                                                                                \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCchPrintf##S(CH *pszDest, size_t cchDest, const CH *pszFormat, ...)          \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, pszFormat);                                                                   \
        struct job_args a = {"RtlStringCchPrintf" #S, JOB_PRINTF, sizeof(CH), pszDest, cchDest,    \
                             CCH_BYTES(cchDest, CH),  pszFormat,  0,          &ap,     true};      \
        NTSTATUS status = run_plain(&a);                                                           \
        va_end(ap);                                                                                \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCbPrintf##S(CH *pszDest, size_t cbDest, const CH *pszFormat, ...)            \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, pszFormat);                                                                   \
        struct job_args a = {"RtlStringCbPrintf" #S,                                               \
                             JOB_PRINTF,                                                           \
                             sizeof(CH),                                                           \
                             pszDest,                                                              \
                             cbDest / sizeof(CH),                                                  \
                             cbDest,                                                               \
                             pszFormat,                                                            \
                             0,                                                                    \
                             &ap,                                                                  \
                             true};                                                                \
        NTSTATUS status = run_plain(&a);                                                           \
        va_end(ap);                                                                                \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCchVPrintfEx##S(CH *pszDest, size_t cchDest, CH **ppszDestEnd,               \
                                      size_t *pcchRemaining, DWORD dwFlags, const CH *pszFormat,   \
                                      va_list argList)                                             \
    {                                                                                              \
        va_list ap;                                                                                \
        va_copy(ap, argList);                                                                      \
        struct job_args a = {"RtlStringCchVPrintfEx" #S, JOB_PRINTF, sizeof(CH), pszDest, cchDest, \
                             CCH_BYTES(cchDest, CH),     pszFormat,  0,          &ap,     true};   \
        struct ex_out r;                                                                           \
        NTSTATUS status = run_ex(&a, dwFlags, false, &r);                                          \
        va_end(ap);                                                                                \
        EX_RESULT(r, ppszDestEnd, pcchRemaining);                                                  \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCbVPrintfEx##S(CH *pszDest, size_t cbDest, CH **ppszDestEnd,                 \
                                     size_t *pcbRemaining, DWORD dwFlags, const CH *pszFormat,     \
                                     va_list argList)                                              \
    {                                                                                              \
        va_list ap;                                                                                \
        va_copy(ap, argList);                                                                      \
        struct job_args a = {"RtlStringCbVPrintfEx" #S,                                            \
                             JOB_PRINTF,                                                           \
                             sizeof(CH),                                                           \
                             pszDest,                                                              \
                             cbDest / sizeof(CH),                                                  \
                             cbDest,                                                               \
                             pszFormat,                                                            \
                             0,                                                                    \
                             &ap,                                                                  \
                             false};                                                               \
        struct ex_out r;                                                                           \
        NTSTATUS status = run_ex(&a, dwFlags, true, &r);                                           \
        va_end(ap);                                                                                \
        EX_RESULT(r, ppszDestEnd, pcbRemaining);                                                   \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCchPrintfEx##S(CH *pszDest, size_t cchDest, CH **ppszDestEnd,                \
                                     size_t *pcchRemaining, DWORD dwFlags, const CH *pszFormat,    \
                                     ...)                                                          \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, pszFormat);                                                                   \
        struct job_args a = {"RtlStringCchPrintfEx" #S, JOB_PRINTF, sizeof(CH), pszDest, cchDest,  \
                             CCH_BYTES(cchDest, CH),    pszFormat,  0,          &ap,     true};    \
        struct ex_out r;                                                                           \
        NTSTATUS status = run_ex(&a, dwFlags, false, &r);                                          \
        va_end(ap);                                                                                \
        EX_RESULT(r, ppszDestEnd, pcchRemaining);                                                  \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCbPrintfEx##S(CH *pszDest, size_t cbDest, CH **ppszDestEnd,                  \
                                    size_t *pcbRemaining, DWORD dwFlags, const CH *pszFormat, ...) \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, pszFormat);                                                                   \
        struct job_args a = {"RtlStringCbPrintfEx" #S,                                             \
                             JOB_PRINTF,                                                           \
                             sizeof(CH),                                                           \
                             pszDest,                                                              \
                             cbDest / sizeof(CH),                                                  \
                             cbDest,                                                               \
                             pszFormat,                                                            \
                             0,                                                                    \
                             &ap,                                                                  \
                             true};                                                                \
        struct ex_out r;                                                                           \
        NTSTATUS status = run_ex(&a, dwFlags, true, &r);                                           \
        va_end(ap);                                                                                \
        EX_RESULT(r, ppszDestEnd, pcbRemaining);                                                   \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCchLength##S(const CH *psz, size_t cchMax, size_t *pcchLength)               \
    {                                                                                              \
        size_t len;                                                                                \
        NTSTATUS status = length_of(psz, sizeof(CH), cchMax, &len);                                \
        if (pcchLength != NULL)                                                                    \
            *pcchLength = len;                                                                     \
        return status;                                                                             \
    }                                                                                              \
    NTSTATUS RtlStringCbLength##S(const CH *psz, size_t cbMax, size_t *pcbLength)                  \
    {                                                                                              \
        size_t len;                                                                                \
        NTSTATUS status = length_of(psz, sizeof(CH), cbMax / sizeof(CH), &len);                    \
        if (pcbLength != NULL)                                                                     \
            *pcbLength = len * sizeof(CH);                                                         \
        return status;                                                                             \
    }

FLTSIM_STRSAFE_DEFINE(A, char)
FLTSIM_STRSAFE_DEFINE(W, WCHAR)

/* ---- a UNICODE_STRING into a WCHAR buffer ---- */

NTSTATUS RtlStringCchCopyUnicodeString(PWSTR pszDest, size_t cchDest, PCUNICODE_STRING SourceString)
{
    struct job_args a = {"RtlStringCchCopyUnicodeString",
                         JOB_COPY_USTR,
                         sizeof(WCHAR),
                         pszDest,
                         cchDest,
                         CCH_BYTES(cchDest, WCHAR),
                         SourceString,
                         0,
                         NULL,
                         false};
    return run_plain(&a);
}

NTSTATUS RtlStringCbCopyUnicodeString(PWSTR pszDest, size_t cbDest, PCUNICODE_STRING SourceString)
{
    struct job_args a = {"RtlStringCbCopyUnicodeString",
                         JOB_COPY_USTR,
                         sizeof(WCHAR),
                         pszDest,
                         cbDest / sizeof(WCHAR),
                         cbDest,
                         SourceString,
                         0,
                         NULL,
                         false};
    return run_plain(&a);
}

NTSTATUS RtlStringCchCopyUnicodeStringEx(PWSTR pszDest, size_t cchDest,
                                         PCUNICODE_STRING SourceString, PWSTR *ppszDestEnd,
                                         size_t *pcchRemaining, DWORD dwFlags)
{
    struct job_args a = {"RtlStringCchCopyUnicodeStringEx",
                         JOB_COPY_USTR,
                         sizeof(WCHAR),
                         pszDest,
                         cchDest,
                         CCH_BYTES(cchDest, WCHAR),
                         SourceString,
                         0,
                         NULL,
                         false};
    struct ex_out r;
    NTSTATUS status = run_ex(&a, dwFlags, false, &r);
    EX_RESULT(r, ppszDestEnd, pcchRemaining);
    return status;
}

NTSTATUS RtlStringCbCopyUnicodeStringEx(PWSTR pszDest, size_t cbDest, PCUNICODE_STRING SourceString,
                                        PWSTR *ppszDestEnd, size_t *pcbRemaining, DWORD dwFlags)
{
    struct job_args a = {"RtlStringCbCopyUnicodeStringEx",
                         JOB_COPY_USTR,
                         sizeof(WCHAR),
                         pszDest,
                         cbDest / sizeof(WCHAR),
                         cbDest,
                         SourceString,
                         0,
                         NULL,
                         false};
    struct ex_out r;
    NTSTATUS status = run_ex(&a, dwFlags, true, &r);
    EX_RESULT(r, ppszDestEnd, pcbRemaining);
    return status;
}
