/*
 * ntstrsafe's UNICODE_STRING family: RtlUnicodeStringInit and Validate, and
 * Copy, Cat and Printf into a counted destination (RtlUnicodeStringCopy,
 * CopyString, CchCopyStringN, CbCopyN, Cat, CatString ..., Printf, VPrintf)
 * with their Ex forms, STRSAFE_* flags and RemainingString. A counted
 * destination is never terminated; Length says what it holds, and after a
 * failure it holds what the WDK leaves there. One engine follows the WDK
 * header's order of checks. The char and WCHAR buffer routines are strsafe.c.
 */
#include <ntstrsafe.h>

#include "nt_internal.h"
#include "strings_internal.h"

/* The most characters a UNICODE_STRING holds. */
#define UMAX ((size_t)NTSTRSAFE_UNICODE_STRING_MAX_CCH)

static const WCHAR empty_w[1] = {0};

NTSTATUS fltsim__ustr_validate(const char *api, PCUNICODE_STRING s, DWORD flags)
{
    if (s == NULL) {
        if (flags & STRSAFE_IGNORE_NULLS)
            return STATUS_SUCCESS;
        fltsim__string_misuse(api, "a UNICODE_STRING pointer is NULL without STRSAFE_IGNORE_NULLS "
                                   "(Windows faults on it)");
        return STATUS_INVALID_PARAMETER;
    }
    if ((s->Length % sizeof(WCHAR)) != 0 || (s->MaximumLength % sizeof(WCHAR)) != 0 ||
        s->Length > s->MaximumLength || s->MaximumLength > UMAX * sizeof(WCHAR))
        return STATUS_INVALID_PARAMETER;
    if (s->Buffer == NULL && (s->Length != 0 || s->MaximumLength != 0))
        return STATUS_INVALID_PARAMETER;
    return STATUS_SUCCESS;
}

/* ---- Init and Validate ---- */

static NTSTATUS init_worker(const char *api, PUNICODE_STRING dest, PCWSTR src, DWORD flags)
{
    if (dest != NULL)
        memset(dest, 0, sizeof(*dest));
    else if (!(flags & STRSAFE_IGNORE_NULLS)) {
        fltsim__string_misuse(api, "the destination is NULL (Windows faults on it)");
        return STATUS_INVALID_PARAMETER;
    }
    if (src == NULL)
        return STATUS_SUCCESS;
    size_t len = 0;
    while (len < UMAX && src[len] != UNICODE_NULL)
        len++;
    if (len == UMAX || dest == NULL)
        return STATUS_INVALID_PARAMETER; /* too long, or nowhere to put it */
    dest->Length = (USHORT)(len * sizeof(WCHAR));
    dest->MaximumLength = (USHORT)((len + 1) * sizeof(WCHAR));
    dest->Buffer = (PWCH)src;
    return STATUS_SUCCESS;
}

NTSTATUS RtlUnicodeStringInit(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc)
{
    return init_worker("RtlUnicodeStringInit", DestinationString, pszSrc, 0);
}

NTSTATUS RtlUnicodeStringInitEx(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc,
                                DWORD dwFlags)
{
    NTSTATUS status = STATUS_INVALID_PARAMETER;
    if (!(dwFlags & ~(DWORD)STRSAFE_UNICODE_STRING_VALID_FLAGS))
        status = init_worker("RtlUnicodeStringInitEx", DestinationString, pszSrc, dwFlags);
    if (!NT_SUCCESS(status) && DestinationString != NULL)
        memset(DestinationString, 0, sizeof(*DestinationString));
    return status;
}

NTSTATUS RtlUnicodeStringValidate(PCUNICODE_STRING SourceString)
{
    return fltsim__ustr_validate("RtlUnicodeStringValidate", SourceString, 0);
}

NTSTATUS RtlUnicodeStringValidateEx(PCUNICODE_STRING SourceString, DWORD dwFlags)
{
    if (dwFlags & ~(DWORD)STRSAFE_UNICODE_STRING_VALID_FLAGS)
        return STATUS_INVALID_PARAMETER;
    return fltsim__ustr_validate("RtlUnicodeStringValidateEx", SourceString, dwFlags);
}

/* ---- the workers ---- */

/* RtlWideCharArrayCopyStringWorker: up to to_copy characters of src, to its
 * terminator, into dest of cch characters; never terminates. Overflow when
 * dest filled up with source left. */
static NTSTATUS copy_string(WCHAR *dest, size_t cch, size_t *copied, const WCHAR *src,
                            size_t to_copy)
{
    size_t n = 0;
    while (cch > 0 && to_copy > 0 && src[n] != UNICODE_NULL) {
        dest[n] = src[n];
        n++;
        cch--;
        to_copy--;
    }
    *copied = n;
    return (cch == 0 && to_copy != 0 && src[n] != UNICODE_NULL) ? STATUS_BUFFER_OVERFLOW
                                                                : STATUS_SUCCESS;
}

/* RtlWideCharArrayCopyWorker: exactly count characters of src, as many as
 * fit in cch; never terminates. */
static NTSTATUS copy_array(WCHAR *dest, size_t cch, size_t *copied, const WCHAR *src, size_t count)
{
    size_t n = count < cch ? count : cch;
    if (n != 0)
        memmove(dest, src, n * sizeof(WCHAR));
    *copied = n;
    return count > cch ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

/* ---- the engine ---- */

enum us_job { US_COPY, US_CAT, US_PRINTF };
enum us_src { SRC_PSZ, SRC_USTR, SRC_FORMAT };

struct us_args {
    const char *api;
    enum us_job job;
    enum us_src src_kind;
    bool limited; /* an N form: to_copy limits the source */
    PUNICODE_STRING dest;
    const void *src; /* PCWSTR, PCUNICODE_STRING or the format */
    size_t to_copy;  /* characters */
    va_list *ap;
};

/* The plain forms. A failure after the destination was found valid leaves
 * Length as the WDK does: a copy's is set (0 on a bad source), a cat's only
 * when something was appended. */
static NTSTATUS us_plain(const struct us_args *a)
{
    NTSTATUS status = fltsim__ustr_validate(a->api, a->dest, 0);
    if (!NT_SUCCESS(status))
        return status;
    const bool cat = a->job == US_CAT;
    WCHAR *dest = a->dest->Buffer;
    size_t cch = a->dest->MaximumLength / sizeof(WCHAR);
    size_t len = cat ? a->dest->Length / sizeof(WCHAR) : 0, n = 0;
    WCHAR *tail = len != 0 ? dest + len : dest; /* dest is NULL when empty */

    if (a->src_kind == SRC_FORMAT) {
        if (a->src == NULL) {
            fltsim__string_misuse(a->api, "the format is NULL (Windows faults on it)");
            return STATUS_INVALID_PARAMETER;
        }
        status = fltsim__strsafe_vprintf(a->api, dest, sizeof(WCHAR), cch, a->src, a->ap, &n);
    } else if (a->src_kind == SRC_PSZ) {
        if (a->limited && a->to_copy > UMAX) {
            if (!cat)
                a->dest->Length = 0;
            return STATUS_INVALID_PARAMETER;
        }
        if (a->src == NULL) {
            fltsim__string_misuse(a->api, "the source is NULL (Windows faults on it)");
            return STATUS_INVALID_PARAMETER;
        }
        status = copy_string(tail, cch - len, &n, a->src, a->limited ? a->to_copy : UMAX);
    } else {
        PCUNICODE_STRING us = a->src;
        status = fltsim__ustr_validate(a->api, us, 0);
        if (NT_SUCCESS(status) && a->limited && a->to_copy > UMAX)
            status = STATUS_INVALID_PARAMETER;
        if (!NT_SUCCESS(status)) {
            if (!cat)
                a->dest->Length = 0;
            return status;
        }
        size_t count = us->Length / sizeof(WCHAR);
        if (a->limited && a->to_copy < count)
            count = a->to_copy;
        status = copy_array(tail, cch - len, &n, us->Buffer, count);
    }
    a->dest->Length = (USHORT)((len + n) * sizeof(WCHAR));
    return status;
}

/* RtlUnicodeStringExHandleOtherFlags: STRSAFE_NO_TRUNCATION restores the
 * original length, STRSAFE_FILL_ON_FAILURE fills the whole buffer and
 * STRSAFE_ZERO_LENGTH_ON_FAILURE empties the string; later flags win. */
static void us_other_flags(WCHAR *dest, size_t cch, size_t orig_len, DWORD flags, size_t *newlen,
                           WCHAR **end, size_t *rem)
{
    if (flags & STRSAFE_NO_TRUNCATION) {
        *end = dest + orig_len;
        *rem = cch - orig_len;
        *newlen = orig_len;
    }
    if (flags & STRSAFE_FILL_ON_FAILURE) {
        memset(dest, STRSAFE_GET_FILL_PATTERN(flags), cch * sizeof(WCHAR));
        *end = dest;
        *rem = cch;
        *newlen = 0;
    }
    if (flags & STRSAFE_ZERO_LENGTH_ON_FAILURE) {
        *end = dest;
        *rem = cch;
        *newlen = 0;
    }
}

static NTSTATUS us_ex(const struct us_args *a, DWORD flags, PUNICODE_STRING remaining)
{
    NTSTATUS status = fltsim__ustr_validate(a->api, a->dest, flags);
    if (!NT_SUCCESS(status))
        return status;
    const bool cat = a->job == US_CAT;
    const bool ignore_nulls = (flags & STRSAFE_IGNORE_NULLS) != 0;
    WCHAR *dest = a->dest != NULL ? a->dest->Buffer : NULL;
    size_t cch = a->dest != NULL ? a->dest->MaximumLength / sizeof(WCHAR) : 0;
    size_t len = cat && a->dest != NULL ? a->dest->Length / sizeof(WCHAR) : 0;
    WCHAR *end = len != 0 ? dest + len : dest;
    size_t rem = cch - len, newlen = len;
    const WCHAR *src = NULL;
    size_t count = a->to_copy;

    if (a->src_kind == SRC_USTR) {
        PCUNICODE_STRING us = a->src;
        status = fltsim__ustr_validate(a->api, us, flags);
        if (NT_SUCCESS(status)) {
            src = us != NULL && us->Buffer != NULL ? us->Buffer : empty_w;
            size_t src_len = us != NULL ? us->Length / sizeof(WCHAR) : 0;
            if (!a->limited)
                count = src_len;
            else if (a->to_copy > UMAX)
                status = STATUS_INVALID_PARAMETER;
            else if (src_len < count)
                count = src_len;
        }
    } else if (a->limited && count >= UMAX) { /* RtlStringExValidateSrc */
        status = STATUS_INVALID_PARAMETER;
    } else if (a->src == NULL && ignore_nulls) {
        src = empty_w;
        count = 0;
    } else if (a->src == NULL) {
        fltsim__string_misuse(a->api,
                              "the %s is NULL without STRSAFE_IGNORE_NULLS (Windows "
                              "faults on it)",
                              a->src_kind == SRC_FORMAT ? "format" : "source");
        status = STATUS_INVALID_PARAMETER;
    } else {
        src = a->src;
    }

    if (NT_SUCCESS(status)) {
        if (flags & ~(DWORD)STRSAFE_UNICODE_STRING_VALID_FLAGS) {
            status = STATUS_INVALID_PARAMETER;
        } else if (rem == 0) {
            /* No room: only a failure when there was something to add. */
            bool data =
                a->src_kind == SRC_USTR ? count != 0 : (!a->limited || count != 0) && src[0] != 0;
            if (data)
                status = dest == NULL ? STATUS_INVALID_PARAMETER : STATUS_BUFFER_OVERFLOW;
        } else {
            size_t n;
            if (a->src_kind == SRC_FORMAT)
                status = fltsim__strsafe_vprintf(a->api, dest, sizeof(WCHAR), cch, src, a->ap, &n);
            else if (a->src_kind == SRC_PSZ)
                status = copy_string(end, rem, &n, src, a->limited ? count : UMAX);
            else
                status = copy_array(end, rem, &n, src, count);
            end += n;
            rem -= n;
            newlen = len + n;
            if (NT_SUCCESS(status) && (flags & STRSAFE_FILL_BEHIND) && rem != 0)
                memset(end, STRSAFE_GET_FILL_PATTERN(flags), rem * sizeof(WCHAR));
        }
    }

    if (!NT_SUCCESS(status) &&
        (flags &
         (STRSAFE_NO_TRUNCATION | STRSAFE_FILL_ON_FAILURE | STRSAFE_ZERO_LENGTH_ON_FAILURE)) &&
        cch != 0)
        us_other_flags(dest, cch, len, flags, &newlen, &end, &rem);
    if (a->dest != NULL)
        a->dest->Length = (USHORT)(newlen * sizeof(WCHAR));
    if ((NT_SUCCESS(status) || status == STATUS_BUFFER_OVERFLOW) && remaining != NULL) {
        remaining->Length = 0;
        remaining->MaximumLength = (USHORT)(rem * sizeof(WCHAR));
        remaining->Buffer = end;
    }
    return status;
}

/* ---- the routines ---- */

#define US_PLAIN(Name, Job, Kind, Limited, Src, ToCopy)                                            \
    do {                                                                                           \
        struct us_args a = {Name, Job, Kind, Limited, DestinationString, Src, ToCopy, NULL};       \
        return us_plain(&a);                                                                       \
    } while (0)

#define US_EX(Name, Job, Kind, Limited, Src, ToCopy)                                               \
    do {                                                                                           \
        struct us_args a = {Name, Job, Kind, Limited, DestinationString, Src, ToCopy, NULL};       \
        return us_ex(&a, dwFlags, RemainingString);                                                \
    } while (0)

NTSTATUS RtlUnicodeStringCopyString(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc)
{
    US_PLAIN("RtlUnicodeStringCopyString", US_COPY, SRC_PSZ, false, pszSrc, 0);
}

NTSTATUS RtlUnicodeStringCopyStringEx(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc,
                                      PUNICODE_STRING RemainingString, DWORD dwFlags)
{
    US_EX("RtlUnicodeStringCopyStringEx", US_COPY, SRC_PSZ, false, pszSrc, 0);
}

NTSTATUS RtlUnicodeStringCopy(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
    US_PLAIN("RtlUnicodeStringCopy", US_COPY, SRC_USTR, false, SourceString, 0);
}

NTSTATUS RtlUnicodeStringCopyEx(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                PUNICODE_STRING RemainingString, DWORD dwFlags)
{
    US_EX("RtlUnicodeStringCopyEx", US_COPY, SRC_USTR, false, SourceString, 0);
}

NTSTATUS RtlUnicodeStringCchCopyStringN(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc,
                                        size_t cchToCopy)
{
    US_PLAIN("RtlUnicodeStringCchCopyStringN", US_COPY, SRC_PSZ, true, pszSrc, cchToCopy);
}

NTSTATUS RtlUnicodeStringCchCopyStringNEx(PUNICODE_STRING DestinationString,
                                          NTSTRSAFE_PCWSTR pszSrc, size_t cchToCopy,
                                          PUNICODE_STRING RemainingString, DWORD dwFlags)
{
    US_EX("RtlUnicodeStringCchCopyStringNEx", US_COPY, SRC_PSZ, true, pszSrc, cchToCopy);
}

NTSTATUS RtlUnicodeStringCbCopyStringN(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc,
                                       size_t cbToCopy)
{
    US_PLAIN("RtlUnicodeStringCbCopyStringN", US_COPY, SRC_PSZ, true, pszSrc,
             cbToCopy / sizeof(WCHAR));
}

NTSTATUS RtlUnicodeStringCbCopyStringNEx(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc,
                                         size_t cbToCopy, PUNICODE_STRING RemainingString,
                                         DWORD dwFlags)
{
    US_EX("RtlUnicodeStringCbCopyStringNEx", US_COPY, SRC_PSZ, true, pszSrc,
          cbToCopy / sizeof(WCHAR));
}

NTSTATUS RtlUnicodeStringCchCopyN(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                  size_t cchToCopy)
{
    US_PLAIN("RtlUnicodeStringCchCopyN", US_COPY, SRC_USTR, true, SourceString, cchToCopy);
}

NTSTATUS RtlUnicodeStringCchCopyNEx(PUNICODE_STRING DestinationString,
                                    PCUNICODE_STRING SourceString, size_t cchToCopy,
                                    PUNICODE_STRING RemainingString, DWORD dwFlags)
{
    US_EX("RtlUnicodeStringCchCopyNEx", US_COPY, SRC_USTR, true, SourceString, cchToCopy);
}

NTSTATUS RtlUnicodeStringCbCopyN(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                 size_t cbToCopy)
{
    US_PLAIN("RtlUnicodeStringCbCopyN", US_COPY, SRC_USTR, true, SourceString,
             cbToCopy / sizeof(WCHAR));
}

NTSTATUS RtlUnicodeStringCbCopyNEx(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                   size_t cbToCopy, PUNICODE_STRING RemainingString, DWORD dwFlags)
{
    US_EX("RtlUnicodeStringCbCopyNEx", US_COPY, SRC_USTR, true, SourceString,
          cbToCopy / sizeof(WCHAR));
}

NTSTATUS RtlUnicodeStringCatString(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc)
{
    US_PLAIN("RtlUnicodeStringCatString", US_CAT, SRC_PSZ, false, pszSrc, 0);
}

NTSTATUS RtlUnicodeStringCatStringEx(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc,
                                     PUNICODE_STRING RemainingString, DWORD dwFlags)
{
    US_EX("RtlUnicodeStringCatStringEx", US_CAT, SRC_PSZ, false, pszSrc, 0);
}

NTSTATUS RtlUnicodeStringCat(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
    US_PLAIN("RtlUnicodeStringCat", US_CAT, SRC_USTR, false, SourceString, 0);
}

NTSTATUS RtlUnicodeStringCatEx(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                               PUNICODE_STRING RemainingString, DWORD dwFlags)
{
    US_EX("RtlUnicodeStringCatEx", US_CAT, SRC_USTR, false, SourceString, 0);
}

NTSTATUS RtlUnicodeStringCchCatStringN(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc,
                                       size_t cchToAppend)
{
    US_PLAIN("RtlUnicodeStringCchCatStringN", US_CAT, SRC_PSZ, true, pszSrc, cchToAppend);
}

NTSTATUS RtlUnicodeStringCchCatStringNEx(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc,
                                         size_t cchToAppend, PUNICODE_STRING RemainingString,
                                         DWORD dwFlags)
{
    US_EX("RtlUnicodeStringCchCatStringNEx", US_CAT, SRC_PSZ, true, pszSrc, cchToAppend);
}

NTSTATUS RtlUnicodeStringCbCatStringN(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc,
                                      size_t cbToAppend)
{
    US_PLAIN("RtlUnicodeStringCbCatStringN", US_CAT, SRC_PSZ, true, pszSrc,
             cbToAppend / sizeof(WCHAR));
}

NTSTATUS RtlUnicodeStringCbCatStringNEx(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc,
                                        size_t cbToAppend, PUNICODE_STRING RemainingString,
                                        DWORD dwFlags)
{
    US_EX("RtlUnicodeStringCbCatStringNEx", US_CAT, SRC_PSZ, true, pszSrc,
          cbToAppend / sizeof(WCHAR));
}

NTSTATUS RtlUnicodeStringCchCatN(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                 size_t cchToAppend)
{
    US_PLAIN("RtlUnicodeStringCchCatN", US_CAT, SRC_USTR, true, SourceString, cchToAppend);
}

NTSTATUS RtlUnicodeStringCchCatNEx(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                   size_t cchToAppend, PUNICODE_STRING RemainingString,
                                   DWORD dwFlags)
{
    US_EX("RtlUnicodeStringCchCatNEx", US_CAT, SRC_USTR, true, SourceString, cchToAppend);
}

NTSTATUS RtlUnicodeStringCbCatN(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                size_t cbToAppend)
{
    US_PLAIN("RtlUnicodeStringCbCatN", US_CAT, SRC_USTR, true, SourceString,
             cbToAppend / sizeof(WCHAR));
}

NTSTATUS RtlUnicodeStringCbCatNEx(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                  size_t cbToAppend, PUNICODE_STRING RemainingString, DWORD dwFlags)
{
    US_EX("RtlUnicodeStringCbCatNEx", US_CAT, SRC_USTR, true, SourceString,
          cbToAppend / sizeof(WCHAR));
}

NTSTATUS RtlUnicodeStringVPrintf(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszFormat,
                                 va_list argList)
{
    va_list ap;
    va_copy(ap, argList);
    struct us_args a = {"RtlUnicodeStringVPrintf", US_PRINTF, SRC_FORMAT, false,
                        DestinationString,         pszFormat, 0,          &ap};
    NTSTATUS status = us_plain(&a);
    va_end(ap);
    return status;
}

NTSTATUS RtlUnicodeStringPrintf(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszFormat, ...)
{
    va_list ap;
    va_start(ap, pszFormat);
    struct us_args a = {"RtlUnicodeStringPrintf", US_PRINTF, SRC_FORMAT, false,
                        DestinationString,        pszFormat, 0,          &ap};
    NTSTATUS status = us_plain(&a);
    va_end(ap);
    return status;
}

NTSTATUS RtlUnicodeStringVPrintfEx(PUNICODE_STRING DestinationString,
                                   PUNICODE_STRING RemainingString, DWORD dwFlags,
                                   NTSTRSAFE_PCWSTR pszFormat, va_list argList)
{
    va_list ap;
    va_copy(ap, argList);
    struct us_args a = {"RtlUnicodeStringVPrintfEx", US_PRINTF, SRC_FORMAT, false,
                        DestinationString,           pszFormat, 0,          &ap};
    NTSTATUS status = us_ex(&a, dwFlags, RemainingString);
    va_end(ap);
    return status;
}

NTSTATUS RtlUnicodeStringPrintfEx(PUNICODE_STRING DestinationString,
                                  PUNICODE_STRING RemainingString, DWORD dwFlags,
                                  NTSTRSAFE_PCWSTR pszFormat, ...)
{
    va_list ap;
    va_start(ap, pszFormat);
    struct us_args a = {"RtlUnicodeStringPrintfEx", US_PRINTF, SRC_FORMAT, false,
                        DestinationString,          pszFormat, 0,          &ap};
    NTSTATUS status = us_ex(&a, dwFlags, RemainingString);
    va_end(ap);
    return status;
}
