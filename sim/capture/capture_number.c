/*
 * The locale-tolerant number and time parsers the capture readers share
 * (capture_internal.h; TRACES.md 1.3): integers with any digit-group
 * separator or in 0x hex, durations in seconds with either decimal
 * separator, and times of day on a 12- or 24-hour clock. The CSV and XML
 * readers parse their columns with them, the Detail decoder
 * (capture_detail.c) its numeric values; what a value means is theirs.
 */
#include <string.h>

#include "capture_internal.h"

/* ---- numbers and times -------------------------------------------------- */

/* Length of a digit-group separator at s (0: none): , . ' space U+00A0 U+202F. */
static size_t group_separator(const char *s, const char *end)
{
    unsigned char c = (unsigned char)s[0];
    if (c == ',' || c == '.' || c == '\'' || c == ' ')
        return 1;
    if (c == 0xC2 && end - s >= 2 && (unsigned char)s[1] == 0xA0)
        return 2;
    if (c == 0xE2 && end - s >= 3 && (unsigned char)s[1] == 0x80 && (unsigned char)s[2] == 0xAF)
        return 3;
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool fltsim__capture_parse_hex(const char *s, size_t n, uint64_t *value)
{
    if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || n > 18)
        return false;
    uint64_t v = 0;
    for (size_t i = 2; i < n; i++) {
        int d = hex_digit(s[i]);
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *value = v;
    return true;
}

bool fltsim__capture_parse_int(const char *s, size_t n, int64_t *value)
{
    uint64_t hex;
    if (fltsim__capture_parse_hex(s, n, &hex)) {
        *value = (int64_t)hex;
        return true;
    }
    const char *p = s, *end = s + n;
    bool negative = p < end && *p == '-';
    if (negative)
        p++;
    if (p == end || !fltsim__capture_is_digit(*p))
        return false;
    uint64_t v = 0;
    while (p < end) {
        if (fltsim__capture_is_digit(*p)) {
            if (v > (UINT64_C(0x7FFFFFFFFFFFFFFF) - (uint64_t)(*p - '0')) / 10)
                return false;
            v = v * 10 + (uint64_t)(*p - '0');
            p++;
            continue;
        }
        size_t sep = group_separator(p, end);
        /* a separator sits between two digits */
        if (sep == 0 || p + sep >= end || !fltsim__capture_is_digit(p[sep]))
            return false;
        p += sep;
    }
    *value = negative ? -(int64_t)v : (int64_t)v;
    return true;
}

/* Digits [p, end) as a fraction of a second in 100 ns units (7 digits kept). */
static bool parse_fraction(const char *p, const char *end, uint64_t *value_100ns)
{
    if (p == end)
        return false;
    uint64_t v = 0;
    int digits = 0;
    for (; p < end; p++) {
        if (!fltsim__capture_is_digit(*p))
            return false;
        if (digits < 7) {
            v = v * 10 + (uint64_t)(*p - '0');
            digits++;
        }
    }
    for (; digits < 7; digits++)
        v *= 10;
    *value_100ns = v;
    return true;
}

bool fltsim__capture_parse_seconds(const char *s, size_t n, uint64_t *value_100ns)
{
    /* The decimal separator is the last '.' or ','; ProcMon always prints 7
     * decimals, so a last group of exactly three digits after an earlier
     * separator of the same kind is a thousands group instead. */
    const char *end = s + n, *dot = NULL;
    for (const char *p = s; p < end; p++)
        if (*p == '.' || *p == ',')
            dot = p;
    if (dot != NULL && end - dot == 4 && memchr(s, *dot, (size_t)(dot - s)) != NULL)
        dot = NULL;
    int64_t whole;
    uint64_t fraction = 0;
    if (dot == NULL) {
        if (!fltsim__capture_parse_int(s, n, &whole))
            return false;
    } else if (dot == s) {
        return false;
    } else if (!fltsim__capture_parse_int(s, (size_t)(dot - s), &whole) ||
               !parse_fraction(dot + 1, end, &fraction)) {
        return false;
    }
    if (whole < 0 || (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ||
        (uint64_t)whole > UINT64_MAX / 10000000u - 1)
        return false;
    *value_100ns = (uint64_t)whole * 10000000u + fraction;
    return true;
}

/* Case-insensitive prefix match of an ASCII word. */
static bool word_is(const char *s, size_t n, const char *word)
{
    size_t len = strlen(word);
    if (n != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != word[i])
            return false;
    }
    return true;
}

/* 1 or 2 digits at *p, advancing it. */
static bool clock_field(const char **p, const char *end, unsigned *value)
{
    if (*p >= end || !fltsim__capture_is_digit(**p))
        return false;
    unsigned v = (unsigned)(*(*p)++ - '0');
    if (*p < end && fltsim__capture_is_digit(**p))
        v = v * 10 + (unsigned)(*(*p)++ - '0');
    *value = v;
    return true;
}

bool fltsim__capture_parse_time_of_day(const char *s, size_t n, uint64_t *value_100ns)
{
    const char *p = s, *end = s + n;
    unsigned h, m, sec;
    if (!clock_field(&p, end, &h) || p >= end || *p++ != ':' || !clock_field(&p, end, &m) ||
        p >= end || *p++ != ':' || !clock_field(&p, end, &sec))
        return false;
    uint64_t fraction = 0;
    if (p < end && (*p == '.' || *p == ',')) {
        const char *f = ++p;
        while (p < end && fltsim__capture_is_digit(*p))
            p++;
        if (!parse_fraction(f, p, &fraction))
            return false;
    }
    /* A 12-hour clock ends in an AM/PM marker after a space (U+00A0 too). */
    size_t sep = p < end ? group_separator(p, end) : 0;
    if (p < end) {
        if (sep == 0 || *p == ',' || *p == '.' || *p == '\'')
            return false;
        p += sep;
        size_t rest = (size_t)(end - p);
        bool am = word_is(p, rest, "AM") || word_is(p, rest, "A.M.");
        bool pm = word_is(p, rest, "PM") || word_is(p, rest, "P.M.");
        if ((!am && !pm) || h < 1 || h > 12)
            return false;
        h = h % 12 + (pm ? 12 : 0);
    }
    if (h > 23 || m > 59 || sec > 60)
        return false;
    *value_100ns = ((uint64_t)h * 3600 + m * 60 + sec) * 10000000u + fraction;
    return true;
}
