/*
 * The Rtl routines that turn numbers into strings and back
 * (RtlIntegerToUnicodeString, RtlInt64ToUnicodeString,
 * RtlUnicodeStringToInteger, RtlCharToInteger) and convert between UTF-8
 * and UTF-16 (RtlUTF8ToUnicodeN, RtlUnicodeToUTF8N), with Windows'
 * statuses, truncation and what a failure leaves behind. fltsim's own UTF-8
 * at the edges is unicode.c; the ANSI conversions are rtl_convert.c.
 */
#include "nt_internal.h"
#include "strings_internal.h"

#define REPLACEMENT_CHARACTER 0xFFFDu

static void check_irql(const char *api, KIRQL max)
{
    fltsim__check_irql(fltsim__tls()->sys, max, api);
}

/* ---- numbers to strings ---- */

/* RtlIntegerToChar and the conversion after it: base 0 means 10; digits
 * above 9 are upper case; the string gets the digits and a terminator, and
 * as RtlAnsiStringToUnicodeString does, Length is set even when
 * MaximumLength is too small (STATUS_BUFFER_OVERFLOW, nothing written). */
static NTSTATUS number_to_unicode(const char *api, ULONGLONG value, ULONG base,
                                  PUNICODE_STRING string)
{
    check_irql(api, PASSIVE_LEVEL);
    if (base == 0)
        base = 10;
    else if (base != 2 && base != 8 && base != 10 && base != 16)
        return STATUS_INVALID_PARAMETER;
    if (string == NULL) {
        fltsim__string_misuse(api, "the string is NULL (Windows faults on it)");
        return STATUS_INVALID_PARAMETER;
    }
    char digits[64];
    size_t n = 0;
    do {
        digits[n++] = "0123456789ABCDEF"[value % base];
        value /= base;
    } while (value != 0);
    string->Length = (USHORT)(n * sizeof(WCHAR));
    if (string->Length >= string->MaximumLength)
        return STATUS_BUFFER_OVERFLOW;
    for (size_t i = 0; i < n; i++)
        string->Buffer[i] = (WCHAR)digits[n - 1 - i];
    string->Buffer[n] = UNICODE_NULL;
    return STATUS_SUCCESS;
}

NTSTATUS RtlIntegerToUnicodeString(ULONG Value, ULONG Base, PUNICODE_STRING String)
{
    return number_to_unicode("RtlIntegerToUnicodeString", Value, Base, String);
}

NTSTATUS RtlInt64ToUnicodeString(ULONGLONG Value, ULONG Base, PUNICODE_STRING String)
{
    return number_to_unicode("RtlInt64ToUnicodeString", Value, Base, String);
}

/* ---- strings to numbers ---- */

static int digit_value(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'A' && c <= 'Z')
        return (int)(c - 'A' + 10);
    if (c >= 'a' && c <= 'z')
        return (int)(c - 'a' + 10);
    return -1;
}

/* What RtlCharToInteger and RtlUnicodeStringToInteger share, over a run of
 * units (at[i] for i < count; count stops at a terminator for the char
 * form): leading units up to ' ' skipped, one sign, a 0b/0o/0x prefix when
 * base is 0 (lower case only), then digits until the first that is not one
 * of the base, accumulated modulo 2^32; a minus negates. No digit at all is
 * still STATUS_SUCCESS with 0. */
struct units {
    const void *at;
    size_t width; /* 1: CHAR, signed as on Windows; 2: WCHAR */
    size_t count;
};

static int unit_at(const struct units *u, size_t i)
{
    if (u->width == 1)
        return ((const signed char *)u->at)[i];
    return ((const WCHAR *)u->at)[i];
}

static NTSTATUS parse_integer(const struct units *u, ULONG base, PULONG value)
{
    size_t i = 0;
    bool minus = false;
    /* CHAR is signed: bytes from 0x80 count as blanks too. */
    while (i < u->count && unit_at(u, i) <= ' ')
        i++;
    if (i < u->count && unit_at(u, i) == '+') {
        i++;
    } else if (i < u->count && unit_at(u, i) == '-') {
        minus = true;
        i++;
    }
    if (base == 0) {
        base = 10;
        if (i + 1 < u->count && unit_at(u, i) == '0') {
            int p = unit_at(u, i + 1);
            if (p == 'b' || p == 'o' || p == 'x') {
                base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
                i += 2;
            }
        }
    } else if (base != 2 && base != 8 && base != 10 && base != 16) {
        return STATUS_INVALID_PARAMETER;
    }
    if (value == NULL)
        return STATUS_ACCESS_VIOLATION; /* what Windows returns for it */
    ULONG total = 0;
    for (; i < u->count; i++) {
        int c = unit_at(u, i);
        int d = c < 0 ? -1 : digit_value((unsigned)c);
        if (d < 0 || (ULONG)d >= base)
            break;
        total = total * base + (ULONG)d;
    }
    *value = minus ? 0u - total : total;
    return STATUS_SUCCESS;
}

NTSTATUS RtlCharToInteger(PCSZ String, ULONG Base, PULONG Value)
{
    static const char api[] = "RtlCharToInteger";
    check_irql(api, PASSIVE_LEVEL);
    if (String == NULL) {
        fltsim__string_misuse(api, "the string is NULL (Windows faults on it)");
        return STATUS_ACCESS_VIOLATION;
    }
    struct units u = {String, 1, strlen(String)};
    return parse_integer(&u, Base, Value);
}

NTSTATUS RtlUnicodeStringToInteger(PCUNICODE_STRING String, ULONG Base, PULONG Value)
{
    static const char api[] = "RtlUnicodeStringToInteger";
    check_irql(api, PASSIVE_LEVEL);
    if (String == NULL || (String->Buffer == NULL && String->Length != 0)) {
        fltsim__string_misuse(api, "the string is NULL (Windows faults on it)");
        return STATUS_ACCESS_VIOLATION;
    }
    struct units u = {String->Buffer, 2, String->Length / sizeof(WCHAR)};
    return parse_integer(&u, Base, Value);
}

/* ---- UTF-8 <-> UTF-16 ---- */

/* Decodes the UTF-8 sequence at s[0..n) (n >= 1) into *cp and returns its
 * length; an ill-formed one gives U+FFFD and the length of its maximal
 * subpart (at least 1), as Unicode recommends, with *valid false. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp, bool *valid)
{
    unsigned b = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
    *valid = false;
    *cp = REPLACEMENT_CHARACTER;
    if (b < 0x80) {
        *cp = b;
        *valid = true;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        if (b == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (b == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F; /* nothing past U+10FFFF */
    } else {
        return 1;
    }
    uint32_t value = b & (0x3Fu >> need);
    for (size_t k = 1; k <= need; k++) {
        unsigned c = k < n ? s[k] : 0;
        unsigned min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
        if (k >= n || c < min || c > max)
            return k; /* the well-formed prefix is replaced as one */
        value = (value << 6) | (c & 0x3F);
    }
    *cp = value;
    *valid = true;
    return need + 1;
}

NTSTATUS RtlUTF8ToUnicodeN(PWSTR UnicodeStringDestination, ULONG UnicodeStringMaxByteCount,
                           PULONG UnicodeStringActualByteCount, PCCH UTF8StringSource,
                           ULONG UTF8StringByteCount)
{
    check_irql("RtlUTF8ToUnicodeN", APC_LEVEL);
    if (UTF8StringSource == NULL)
        return STATUS_INVALID_PARAMETER_4;
    if (UnicodeStringActualByteCount == NULL)
        return STATUS_INVALID_PARAMETER;
    const unsigned char *src = (const unsigned char *)UTF8StringSource;
    size_t room = UnicodeStringMaxByteCount / sizeof(WCHAR), out = 0;
    bool replaced = false, cut = false;
    for (size_t i = 0; i < UTF8StringByteCount;) {
        uint32_t cp;
        bool valid;
        size_t len = utf8_decode(src + i, UTF8StringByteCount - i, &cp, &valid);
        replaced |= !valid;
        size_t units = cp >= 0x10000 ? 2 : 1;
        if (UnicodeStringDestination != NULL) {
            if (out + units > room) {
                cut = true; /* a pair is never split */
                break;
            }
            if (units == 2) {
                UnicodeStringDestination[out] = (WCHAR)(0xD800 + ((cp - 0x10000) >> 10));
                UnicodeStringDestination[out + 1] = (WCHAR)(0xDC00 + ((cp - 0x10000) & 0x3FF));
            } else {
                UnicodeStringDestination[out] = (WCHAR)cp;
            }
        }
        out += units;
        i += len;
    }
    *UnicodeStringActualByteCount = (ULONG)(out * sizeof(WCHAR));
    if (cut)
        return STATUS_BUFFER_TOO_SMALL;
    return replaced ? STATUS_SOME_NOT_MAPPED : STATUS_SUCCESS;
}

NTSTATUS RtlUnicodeToUTF8N(PCHAR UTF8StringDestination, ULONG UTF8StringMaxByteCount,
                           PULONG UTF8StringActualByteCount, PCWCH UnicodeStringSource,
                           ULONG UnicodeStringByteCount)
{
    check_irql("RtlUnicodeToUTF8N", APC_LEVEL);
    if (UnicodeStringSource == NULL)
        return STATUS_INVALID_PARAMETER_4;
    if (UTF8StringActualByteCount == NULL)
        return STATUS_INVALID_PARAMETER;
    if (UnicodeStringByteCount % sizeof(WCHAR) != 0)
        return STATUS_INVALID_PARAMETER_5;
    size_t count = UnicodeStringByteCount / sizeof(WCHAR), out = 0;
    bool replaced = false, cut = false;
    for (size_t i = 0; i < count;) {
        uint32_t cp = UnicodeStringSource[i++];
        if (cp >= 0xD800 && cp <= 0xDBFF && i < count && UnicodeStringSource[i] >= 0xDC00 &&
            UnicodeStringSource[i] <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)UnicodeStringSource[i++] - 0xDC00);
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = REPLACEMENT_CHARACTER; /* an unpaired surrogate */
            replaced = true;
        }
        unsigned char bytes[4];
        size_t len;
        if (cp < 0x80) {
            bytes[0] = (unsigned char)cp;
            len = 1;
        } else if (cp < 0x800) {
            bytes[0] = (unsigned char)(0xC0 | (cp >> 6));
            bytes[1] = (unsigned char)(0x80 | (cp & 0x3F));
            len = 2;
        } else if (cp < 0x10000) {
            bytes[0] = (unsigned char)(0xE0 | (cp >> 12));
            bytes[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            bytes[2] = (unsigned char)(0x80 | (cp & 0x3F));
            len = 3;
        } else {
            bytes[0] = (unsigned char)(0xF0 | (cp >> 18));
            bytes[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
            bytes[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            bytes[3] = (unsigned char)(0x80 | (cp & 0x3F));
            len = 4;
        }
        if (UTF8StringDestination != NULL) {
            if (out + len > UTF8StringMaxByteCount) {
                cut = true; /* a character is never split */
                break;
            }
            memcpy(UTF8StringDestination + out, bytes, len);
        }
        out += len;
    }
    *UTF8StringActualByteCount = (ULONG)out;
    if (cut)
        return STATUS_BUFFER_TOO_SMALL;
    return replaced ? STATUS_SOME_NOT_MAPPED : STATUS_SUCCESS;
}
