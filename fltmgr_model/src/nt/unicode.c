/*
 * UTF-16 <-> UTF-8 conversion at fltsim's edges (DESIGN decision 2): scenario
 * files, traces, reports and the CLI speak UTF-8, minifilters speak 16-bit
 * WCHAR. Conversion is strict where fltsim reads text (invalid UTF-8 is an
 * error) and forgiving where it writes text (an unpaired surrogate becomes
 * U+FFFD). The counted-string routines themselves live in rtl_string.c.
 */
#include "model_internal.h"

#define REPLACEMENT_CHARACTER 0xFFFDu

static bool is_high_surrogate(uint32_t u)
{
    return u >= 0xD800 && u <= 0xDBFF;
}

static bool is_low_surrogate(uint32_t u)
{
    return u >= 0xDC00 && u <= 0xDFFF;
}

/* Encodes a Unicode scalar value as UTF-8 into buf; returns its length (1-4). */
static size_t utf8_encode(uint32_t cp, char buf[4])
{
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18));
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t fltsim_utf16_to_utf8(const WCHAR *in, size_t count, char *out, size_t size)
{
    if (size == 0)
        return 0;
    size_t used = 0;
    size_t i = 0;
    while (i < count) {
        uint32_t cp = in[i++];
        if (is_high_surrogate(cp) && i < count && is_low_surrogate(in[i])) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)in[i] - 0xDC00);
            i++;
        } else if (is_high_surrogate(cp) || is_low_surrogate(cp)) {
            cp = REPLACEMENT_CHARACTER;
        }
        char buf[4];
        size_t n = utf8_encode(cp, buf);
        /* Stop before a character that does not fit whole, keeping room for
         * the terminator. */
        if (n > size - 1 - used)
            break;
        memcpy(out + used, buf, n);
        used += n;
    }
    out[used] = '\0';
    return used;
}

/* Decodes one UTF-8 sequence at *p (not at the terminator) and advances *p.
 * Returns the scalar value, or (uint32_t)-1 for an invalid sequence: a stray
 * continuation byte, a truncated sequence, an overlong form, a surrogate, or a
 * value above U+10FFFF. */
static uint32_t utf8_decode(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t cp;
    size_t extra;
    uint32_t min;

    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }
    if ((s[0] & 0xE0) == 0xC0) {
        cp = s[0] & 0x1Fu;
        extra = 1;
        min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        cp = s[0] & 0x0Fu;
        extra = 2;
        min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        cp = s[0] & 0x07u;
        extra = 3;
        min = 0x10000;
    } else {
        return (uint32_t)-1;
    }
    for (size_t k = 1; k <= extra; k++) {
        /* The terminator is not a continuation byte, so a truncated sequence
         * stops here without reading past the string. */
        if ((s[k] & 0xC0) != 0x80)
            return (uint32_t)-1;
        cp = (cp << 6) | (s[k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return (uint32_t)-1;
    *p = s + 1 + extra;
    return cp;
}

size_t fltsim_utf8_to_utf16(const char *in, WCHAR *out, size_t size)
{
    if (size == 0)
        return (size_t)-1; /* not even room for the terminator */
    size_t used = 0;
    const unsigned char *p = (const unsigned char *)in;
    if (p == NULL)
        goto fail;
    while (*p != '\0') {
        uint32_t cp = utf8_decode(&p);
        if (cp == (uint32_t)-1)
            goto fail;
        size_t units = cp >= 0x10000 ? 2 : 1;
        if (units > size - 1 - used)
            goto fail;
        if (units == 2) {
            cp -= 0x10000;
            out[used++] = (WCHAR)(0xD800 + (cp >> 10));
            out[used++] = (WCHAR)(0xDC00 + (cp & 0x3FF));
        } else {
            out[used++] = (WCHAR)cp;
        }
    }
    out[used] = UNICODE_NULL;
    return used;

fail:
    /* Whatever was converted is discarded: out holds an empty string. */
    out[0] = UNICODE_NULL;
    return (size_t)-1;
}

size_t fltsim_wcslen(const WCHAR *s)
{
    size_t n = 0;
    if (s == NULL)
        return 0;
    while (s[n] != UNICODE_NULL)
        n++;
    return n;
}
