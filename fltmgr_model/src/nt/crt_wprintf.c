/*
 * The kernel C runtime's wide printf family (crt.h): _snwprintf, swprintf,
 * swprintf_s, _snwprintf_s, _scwprintf and their va_list forms, each with
 * the Microsoft CRT's truncation, termination and return rules. Formatting is
 * fltsim's one Windows-style walker (format.h, shared with DbgPrint) writing
 * UTF-16 straight into the caller's buffer, as Windows does; a narrow string
 * argument (%S, %hs, %Z) widens byte by byte, as the CRT's "C" locale does.
 * Invalid parameters are reported (crt_internal.h) and return -1.
 */
#include <limits.h>

#include "crt_internal.h"
#include "format.h"

/* Stores the first room units produced and counts all of them. */
struct wide_out {
    struct fltsim_fmt_out base;
    WCHAR *buf;
    size_t room;
    size_t len;
};

static void wide_out_narrow(struct fltsim_fmt_out *base, const char *s, size_t n)
{
    struct wide_out *o = (struct wide_out *)(void *)base;
    for (size_t i = 0; i < n; i++, o->len++)
        if (o->len < o->room)
            o->buf[o->len] = (WCHAR)(unsigned char)s[i];
}

static void wide_out_wide(struct fltsim_fmt_out *base, const WCHAR *s, size_t n)
{
    struct wide_out *o = (struct wide_out *)(void *)base;
    /* One unit at a time, front to back: a source that is the destination
     * itself (minispy's "%s ..." idiom) copies as it does on Windows. */
    for (size_t i = 0; i < n; i++, o->len++)
        if (o->len < o->room)
            o->buf[o->len] = s[i];
}

/* Formats into buf, storing at most room units (no terminator). Returns
 * false for an invalid format, reported for api; *len is the whole length. */
static bool format_units(const char *api, WCHAR *buf, size_t room, const WCHAR *format, va_list ap,
                         size_t *len)
{
    struct wide_out o = {{wide_out_narrow, wide_out_wide, false}, buf, room, 0};
    va_list copy;
    va_copy(copy, ap);
    const char *invalid = fltsim__format(&o.base, FLTSIM_FMT_CRT_WIDE, format, &copy);
    va_end(copy);
    *len = o.len;
    if (invalid != NULL) {
        fltsim__crt_invalid(api, EINVAL, invalid);
        return false;
    }
    if (o.len > INT_MAX) {
        /* The count does not fit the int these return. */
        errno = EOVERFLOW;
        return false;
    }
    return true;
}

int fltsim_crt_vsnwprintf(wchar_t *buffer, size_t count, const wchar_t *format, va_list argptr)
{
    if (format == NULL) {
        fltsim__crt_invalid("_vsnwprintf", EINVAL, "the format is NULL");
        return -1;
    }
    if (buffer == NULL && count != 0) {
        fltsim__crt_invalid("_vsnwprintf", EINVAL, "the buffer is NULL with a nonzero count");
        return -1;
    }
    size_t len;
    if (!format_units("_vsnwprintf", buffer, count, format, argptr, &len))
        return -1;
    /* A NULL buffer with count 0 asks for the length. Otherwise: shorter
     * than count is terminated; exactly count is not; longer is cut at
     * count, not terminated, and -1. */
    if (buffer == NULL)
        return (int)len;
    if (len < count)
        buffer[len] = UNICODE_NULL;
    return len <= count ? (int)len : -1;
}

int fltsim_crt_snwprintf(wchar_t *buffer, size_t count, const wchar_t *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = fltsim_crt_vsnwprintf(buffer, count, format, ap);
    va_end(ap);
    return r;
}

int fltsim_crt_vswprintf(wchar_t *buffer, size_t count, const wchar_t *format, va_list argptr)
{
    if (format == NULL || buffer == NULL) {
        fltsim__crt_invalid("vswprintf", EINVAL, "the buffer or the format is NULL");
        return -1;
    }
    if (count == 0)
        return -1; /* not even the terminator fits */
    size_t len;
    if (!format_units("vswprintf", buffer, count - 1, format, argptr, &len)) {
        buffer[0] = UNICODE_NULL;
        return -1;
    }
    /* ISO swprintf: always terminated; -1 when count or more units were
     * needed. */
    if (len >= count) {
        buffer[count - 1] = UNICODE_NULL;
        return -1;
    }
    buffer[len] = UNICODE_NULL;
    return (int)len;
}

int fltsim_crt_swprintf(wchar_t *buffer, size_t count, const wchar_t *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = fltsim_crt_vswprintf(buffer, count, format, ap);
    va_end(ap);
    return r;
}

int fltsim_crt_vswprintf_s(wchar_t *buffer, size_t numberOfElements, const wchar_t *format,
                           va_list argptr)
{
    if (format == NULL) {
        fltsim__crt_invalid("vswprintf_s", EINVAL, "the format is NULL");
        return -1;
    }
    if (buffer == NULL || numberOfElements == 0) {
        fltsim__crt_invalid("vswprintf_s", EINVAL, "the buffer is NULL or has size 0");
        return -1;
    }
    size_t len;
    if (!format_units("vswprintf_s", buffer, numberOfElements - 1, format, argptr, &len)) {
        buffer[0] = UNICODE_NULL;
        return -1;
    }
    if (len >= numberOfElements) {
        /* The buffer becomes an empty string. */
        buffer[0] = UNICODE_NULL;
        fltsim__crt_invalid("vswprintf_s", ERANGE, "the buffer is too small");
        return -1;
    }
    buffer[len] = UNICODE_NULL;
    return (int)len;
}

int fltsim_crt_swprintf_s(wchar_t *buffer, size_t sizeOfBuffer, const wchar_t *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = fltsim_crt_vswprintf_s(buffer, sizeOfBuffer, format, ap);
    va_end(ap);
    return r;
}

int fltsim_crt_vsnwprintf_s(wchar_t *buffer, size_t sizeOfBuffer, size_t count,
                            const wchar_t *format, va_list argptr)
{
    if (format == NULL) {
        fltsim__crt_invalid("_vsnwprintf_s", EINVAL, "the format is NULL");
        return -1;
    }
    if (count == 0 && buffer == NULL && sizeOfBuffer == 0)
        return 0;
    if (buffer == NULL || sizeOfBuffer == 0) {
        fltsim__crt_invalid("_vsnwprintf_s", EINVAL, "the buffer is NULL or has size 0");
        return -1;
    }
    /* count below the size (or _TRUNCATE) limits what is written and
     * truncation is an ordinary -1; otherwise the buffer must hold it all. */
    bool cut_is_error = count != _TRUNCATE && count >= sizeOfBuffer;
    size_t room = cut_is_error || count == _TRUNCATE ? sizeOfBuffer - 1 : count;
    size_t len;
    if (!format_units("_vsnwprintf_s", buffer, room, format, argptr, &len)) {
        buffer[0] = UNICODE_NULL;
        return -1;
    }
    if (len <= room) {
        buffer[len] = UNICODE_NULL;
        return (int)len;
    }
    if (cut_is_error) {
        buffer[0] = UNICODE_NULL;
        fltsim__crt_invalid("_vsnwprintf_s", ERANGE, "the buffer is too small");
        return -1;
    }
    buffer[room] = UNICODE_NULL;
    return -1;
}

int fltsim_crt_snwprintf_s(wchar_t *buffer, size_t sizeOfBuffer, size_t count,
                           const wchar_t *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = fltsim_crt_vsnwprintf_s(buffer, sizeOfBuffer, count, format, ap);
    va_end(ap);
    return r;
}

int fltsim_crt_vscwprintf(const wchar_t *format, va_list argptr)
{
    if (format == NULL) {
        fltsim__crt_invalid("_vscwprintf", EINVAL, "the format is NULL");
        return -1;
    }
    size_t len;
    if (!format_units("_vscwprintf", NULL, 0, format, argptr, &len))
        return -1;
    return (int)len;
}

int fltsim_crt_scwprintf(const wchar_t *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int r = fltsim_crt_vscwprintf(format, ap);
    va_end(ap);
    return r;
}
