/*
 * Altitude strings (SPEC 2.1): arbitrary-precision decimals, one optional
 * point, compared numerically. Leading zeros of the integer part and trailing
 * zeros of the fraction do not count (SPEC 12.9), so "03333" > "100.123456"
 * and "100.10" == "100.1".
 */
#include <string.h>

#include "model_internal.h"

bool fltsim__altitude_parse(const WCHAR *text, size_t count, struct fltsim_altitude *out)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL || count == 0 || count >= FLTSIM_ALTITUDE_MAX)
        return false;

    size_t digits = 0, dots = 0, dot_at = count;
    for (size_t i = 0; i < count; i++) {
        WCHAR c = text[i];
        if (c >= L'0' && c <= L'9') {
            digits++;
        } else if (c == L'.') {
            if (++dots > 1)
                return false;
            dot_at = i;
        } else {
            return false;
        }
        out->text[i] = (char)c;
    }
    if (digits == 0)
        return false;

    size_t start = 0;
    while (start < dot_at && out->text[start] == '0')
        start++;
    memcpy(out->integer, out->text + start, dot_at - start);

    if (dot_at < count) {
        size_t end = count;
        while (end > dot_at + 1 && out->text[end - 1] == '0')
            end--;
        memcpy(out->fraction, out->text + dot_at + 1, end - dot_at - 1);
    }
    return true;
}

int fltsim__altitude_compare(const struct fltsim_altitude *a, const struct fltsim_altitude *b)
{
    size_t la = strlen(a->integer), lb = strlen(b->integer);
    if (la != lb)
        return la < lb ? -1 : 1;
    int c = strcmp(a->integer, b->integer);
    if (c != 0)
        return c < 0 ? -1 : 1;
    /* Fractions without trailing zeros compare digit by digit; a prefix is smaller. */
    c = strcmp(a->fraction, b->fraction);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}
