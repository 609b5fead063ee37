/*
 * The Microsoft C runtime routines of winbase_extra.h that glibc lacks or
 * has with other semantics: sprintf_s (Microsoft's narrow formats through
 * fltsim's printf walker, nt/format.h, and the Universal CRT's answer to an
 * invalid parameter), _stricmp and _strnicmp (the "C" locale) and fopen_s.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "nt/format.h"
#include "win32_internal.h"

/* What the Universal CRT's default invalid-parameter handler ends a process
 * with: __fastfail(FAST_FAIL_INVALID_ARG) raises STATUS_STACK_BUFFER_OVERRUN. */
#define FLTSIM_CRT_FAST_FAIL_EXIT 0xC0000409u

/* An invalid parameter: a simulated process ends as on Windows; any other
 * thread gets errno and the routine's failure value. */
static void invalid_parameter(int error)
{
    if (fltsim__w32_self() != NULL)
        ExitProcess(FLTSIM_CRT_FAST_FAIL_EXIT);
    errno = error;
}

/* ---- sprintf_s ---- */

struct bounded_out {
    struct fltsim_fmt_out base;
    char *buf;
    size_t cap; /* room for the text, the terminator excluded */
    size_t len;
    bool overflow;
};

static void bounded_narrow(struct fltsim_fmt_out *base, const char *s, size_t n)
{
    struct bounded_out *o = (struct bounded_out *)(void *)base;
    if (n > o->cap - o->len) {
        n = o->cap - o->len;
        o->overflow = true;
        o->base.full = true;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void bounded_wide(struct fltsim_fmt_out *base, const WCHAR *s, size_t n)
{
    char chunk[256];
    while (n > 0 && !base->full) {
        size_t take = n > 60 ? 60 : n; /* 4 bytes a unit at most */
        if (take < n && s[take - 1] >= 0xd800 && s[take - 1] < 0xdc00)
            take--; /* keep a surrogate pair together */
        size_t len = fltsim_utf16_to_utf8(s, take, chunk, sizeof(chunk));
        bounded_narrow(base, chunk, len);
        s += take;
        n -= take;
    }
}

int fltsim_user_sprintf_s(char *buffer, size_t sizeOfBuffer, const char *format, ...)
{
    if (buffer == NULL || sizeOfBuffer == 0 || format == NULL) {
        if (buffer != NULL && sizeOfBuffer != 0)
            buffer[0] = '\0';
        invalid_parameter(EINVAL);
        return -1;
    }
    struct bounded_out o = {
        {bounded_narrow, bounded_wide, false}, buffer, sizeOfBuffer - 1, 0, false};
    va_list ap;
    va_start(ap, format);
    const char *invalid = fltsim__format(&o.base, FLTSIM_FMT_CRT_NARROW, format, &ap);
    va_end(ap);
    if (invalid != NULL || o.overflow) {
        buffer[0] = '\0';
        invalid_parameter(invalid != NULL ? EINVAL : ERANGE);
        return -1;
    }
    buffer[o.len] = '\0';
    return (int)o.len;
}

/* ---- case-insensitive comparisons ---- */

static int lower_ascii(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int compare_ascii(const char *string1, const char *string2, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        int a = lower_ascii((unsigned char)string1[i]);
        int b = lower_ascii((unsigned char)string2[i]);
        if (a != b || a == 0)
            return a - b;
    }
    return 0;
}

int fltsim_user_strnicmp(const char *string1, const char *string2, size_t count)
{
    if (string1 == NULL || string2 == NULL || count > INT_MAX) {
        invalid_parameter(EINVAL);
        return _NLSCMPERROR;
    }
    return compare_ascii(string1, string2, count);
}

int fltsim_user_stricmp(const char *string1, const char *string2)
{
    if (string1 == NULL || string2 == NULL) {
        invalid_parameter(EINVAL);
        return _NLSCMPERROR;
    }
    return compare_ascii(string1, string2, (size_t)-1);
}

/* ---- fopen_s ---- */

errno_t fltsim_user_fopen_s(FILE **pFile, const char *filename, const char *mode)
{
    if (pFile == NULL || filename == NULL || mode == NULL) {
        if (pFile != NULL)
            *pFile = NULL;
        invalid_parameter(EINVAL);
        return EINVAL;
    }
    errno = 0;
    *pFile = fopen(filename, mode);
    if (*pFile == NULL)
        return errno != 0 ? errno : EINVAL;
    return 0;
}
