/*
 * Counted-string helpers for the model's own bookkeeping: owned copies of
 * names (filter, instance, volume), case-insensitive comparison with NTFS
 * upcase rules, and UTF-8 copies for traces and reports.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

bool fltsim__ustr_dup(UNICODE_STRING *dst, const WCHAR *src, size_t count)
{
    memset(dst, 0, sizeof(*dst));
    if (count > UNICODE_STRING_MAX_CHARS - 1)
        return false;
    dst->Buffer = malloc((count + 1) * sizeof(WCHAR));
    if (dst->Buffer == NULL)
        return false;
    if (count != 0)
        memcpy(dst->Buffer, src, count * sizeof(WCHAR));
    dst->Buffer[count] = 0;
    dst->Length = (USHORT)(count * sizeof(WCHAR));
    dst->MaximumLength = (USHORT)((count + 1) * sizeof(WCHAR));
    return true;
}

void fltsim__ustr_free(UNICODE_STRING *s)
{
    free(s->Buffer);
    memset(s, 0, sizeof(*s));
}

bool fltsim__ustr_equal_ci(PCUNICODE_STRING a, PCUNICODE_STRING b)
{
    return RtlEqualUnicodeString(a, b, TRUE) != FALSE;
}

void fltsim__ustr_to_utf8(PCUNICODE_STRING s, char *out, size_t size)
{
    if (s == NULL || s->Buffer == NULL) {
        if (size != 0)
            out[0] = '\0';
        return;
    }
    fltsim_utf16_to_utf8(s->Buffer, s->Length / sizeof(WCHAR), out, size);
}
