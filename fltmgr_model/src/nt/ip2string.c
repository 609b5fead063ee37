/*
 * ip2string.h: IPv4 and IPv6 addresses to text and back, narrow (A) and
 * wide (W), as Windows writes and reads them: dotted decimal with an
 * optional ":port"; IPv6 in lower-case hex with the first longest run of
 * two or more zero groups as "::", the last 32 bits dotted for IPv4-mapped,
 * -compatible and ISATAP addresses, "%scope" and "[...]:port". Parsing
 * accepts the forms Learn documents (the non-strict IPv4 forms with octal
 * and hex parts) and reports where it stopped through Terminator.
 */
#include <stdio.h>

#include <ip2string.h>

#include "strings_internal.h"

/* Longest texts, terminator included (INET_ADDRSTRLEN, INET6_ADDRSTRLEN). */
#define IPV4_TEXT 22 /* "255.255.255.255:65535" */
#define IPV6_TEXT 65 /* "[" + 45 + "%4294967295" + "]:65535" */

static USHORT net_to_host16(USHORT v)
{
    const UCHAR *b = (const UCHAR *)&v;
    return (USHORT)((b[0] << 8) | b[1]);
}

/* ---- to text ---- */

/* Writes text of len chars and its terminator into out as char or WCHAR. */
static void put_text(void *out, size_t width, const char *text, size_t len)
{
    for (size_t i = 0; i <= len; i++) {
        if (width == 1)
            ((char *)out)[i] = text[i];
        else
            ((WCHAR *)out)[i] = (WCHAR)(unsigned char)text[i];
    }
}

static size_t ipv4_text(const struct in_addr *a, USHORT port, char *text)
{
    const UCHAR *b = (const UCHAR *)a;
    int n = snprintf(text, IPV4_TEXT, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    if (port != 0)
        n += snprintf(text + n, (size_t)(IPV4_TEXT - n), ":%u", net_to_host16(port));
    return (size_t)n;
}

static USHORT word_at(const struct in6_addr *a, int i)
{
    return (USHORT)((a->u.Byte[2 * i] << 8) | a->u.Byte[2 * i + 1]);
}

/* The last 32 bits print dotted for IPv4-compatible (::a.b.c.d), -mapped
 * (::ffff:a.b.c.d), -translated (::ffff:0:a.b.c.d) and ISATAP
 * (...:0:5efe:a.b.c.d, or 200:5efe) addresses, unless they start with 0.0. */
static bool ipv4_inside(const struct in6_addr *a)
{
    USHORT w4 = word_at(a, 4), w5 = word_at(a, 5);
    if (w5 == 0x5efe && (w4 & ~0x0200) == 0)
        return true;
    for (int i = 0; i < 4; i++)
        if (word_at(a, i) != 0)
            return false;
    if (w4 != 0 && w4 != 0xffff)
        return false;
    if (w4 == 0 && w5 != 0 && w5 != 0xffff)
        return false;
    if (w4 == 0xffff && w5 != 0)
        return false;
    return word_at(a, 6) != 0;
}

static size_t ipv6_text(const struct in6_addr *a, ULONG scope, USHORT port, char *text)
{
    int words = ipv4_inside(a) ? 6 : 8;
    int gap = -1, gap_len = 1; /* a single zero group stays "0" */
    for (int i = 0; i < words;) {
        int run = 0;
        while (i + run < words && word_at(a, i + run) == 0)
            run++;
        if (run > gap_len) {
            gap = i;
            gap_len = run;
        }
        i += run > 0 ? run : 1;
    }
    size_t n = 0;
    if (port != 0)
        text[n++] = '[';
    for (int i = 0; i < words;) {
        if (i == gap) {
            text[n++] = ':';
            i += gap_len;
            if (i == words)
                text[n++] = ':';
            continue;
        }
        if (i > 0)
            text[n++] = ':';
        n += (size_t)snprintf(text + n, IPV6_TEXT - n, "%x", word_at(a, i));
        i++;
    }
    if (words == 6) {
        if (text[n - 1] != ':')
            text[n++] = ':';
        const UCHAR *b = a->u.Byte + 12;
        n += (size_t)snprintf(text + n, IPV6_TEXT - n, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    }
    if (scope != 0)
        n += (size_t)snprintf(text + n, IPV6_TEXT - n, "%%%u", (unsigned)scope);
    if (port != 0)
        n += (size_t)snprintf(text + n, IPV6_TEXT - n, "]:%u", net_to_host16(port));
    text[n] = '\0';
    return n;
}

/* A NULL argument is a documented STATUS_INVALID_PARAMETER. */

/* The Ex forms: on input *length is the buffer's size in characters; on
 * output it is the characters the text needs, terminator included, whether
 * or not it fit (STATUS_INVALID_PARAMETER when it did not). */
static NTSTATUS to_string_ex(const char *text, size_t len, void *out, size_t width, PULONG length)
{
    ULONG needed = (ULONG)len + 1;
    NTSTATUS status = STATUS_INVALID_PARAMETER;
    if (*length >= needed) {
        put_text(out, width, text, len);
        status = STATUS_SUCCESS;
    }
    *length = needed;
    return status;
}

#define IP_NULL_CHECK(a, b, c)                                                                     \
    do {                                                                                           \
        if ((a) == NULL || (b) == NULL || (c) == NULL)                                             \
            return STATUS_INVALID_PARAMETER;                                                       \
    } while (0)

NTSTATUS RtlIpv4AddressToStringExA(const struct in_addr *Address, USHORT Port, PSTR AddressString,
                                   PULONG AddressStringLength)
{
    IP_NULL_CHECK(Address, AddressString, AddressStringLength);
    char text[IPV4_TEXT];
    return to_string_ex(text, ipv4_text(Address, Port, text), AddressString, 1,
                        AddressStringLength);
}

NTSTATUS RtlIpv4AddressToStringExW(const struct in_addr *Address, USHORT Port, PWSTR AddressString,
                                   PULONG AddressStringLength)
{
    IP_NULL_CHECK(Address, AddressString, AddressStringLength);
    char text[IPV4_TEXT];
    return to_string_ex(text, ipv4_text(Address, Port, text), AddressString, 2,
                        AddressStringLength);
}

NTSTATUS RtlIpv6AddressToStringExA(const struct in6_addr *Address, ULONG ScopeId, USHORT Port,
                                   PSTR AddressString, PULONG AddressStringLength)
{
    IP_NULL_CHECK(Address, AddressString, AddressStringLength);
    char text[IPV6_TEXT];
    return to_string_ex(text, ipv6_text(Address, ScopeId, Port, text), AddressString, 1,
                        AddressStringLength);
}

NTSTATUS RtlIpv6AddressToStringExW(const struct in6_addr *Address, ULONG ScopeId, USHORT Port,
                                   PWSTR AddressString, PULONG AddressStringLength)
{
    IP_NULL_CHECK(Address, AddressString, AddressStringLength);
    char text[IPV6_TEXT];
    return to_string_ex(text, ipv6_text(Address, ScopeId, Port, text), AddressString, 2,
                        AddressStringLength);
}

/* The plain forms write into a buffer the caller promises is big enough
 * (16 characters for IPv4, 46 for IPv6) and return its terminator. */
PSTR RtlIpv4AddressToStringA(const struct in_addr *Addr, PSTR S)
{
    if (Addr == NULL || S == NULL) {
        fltsim__string_misuse("RtlIpv4AddressToStringA", "a NULL argument (Windows faults on it)");
        return S;
    }
    char text[IPV4_TEXT];
    size_t len = ipv4_text(Addr, 0, text);
    put_text(S, 1, text, len);
    return S + len;
}

PWSTR RtlIpv4AddressToStringW(const struct in_addr *Addr, PWSTR S)
{
    if (Addr == NULL || S == NULL) {
        fltsim__string_misuse("RtlIpv4AddressToStringW", "a NULL argument (Windows faults on it)");
        return S;
    }
    char text[IPV4_TEXT];
    size_t len = ipv4_text(Addr, 0, text);
    put_text(S, 2, text, len);
    return S + len;
}

PSTR RtlIpv6AddressToStringA(const struct in6_addr *Addr, PSTR S)
{
    if (Addr == NULL || S == NULL) {
        fltsim__string_misuse("RtlIpv6AddressToStringA", "a NULL argument (Windows faults on it)");
        return S;
    }
    char text[IPV6_TEXT];
    size_t len = ipv6_text(Addr, 0, 0, text);
    put_text(S, 1, text, len);
    return S + len;
}

PWSTR RtlIpv6AddressToStringW(const struct in6_addr *Addr, PWSTR S)
{
    if (Addr == NULL || S == NULL) {
        fltsim__string_misuse("RtlIpv6AddressToStringW", "a NULL argument (Windows faults on it)");
        return S;
    }
    char text[IPV6_TEXT];
    size_t len = ipv6_text(Addr, 0, 0, text);
    put_text(S, 2, text, len);
    return S + len;
}

/* ---- from text ---- */

/* A terminated string of either width; reading stops at its terminator,
 * which no rule below accepts. */
struct text {
    const void *s;
    size_t width;
};

static unsigned ch(const struct text *t, size_t i)
{
    return t->width == 1 ? ((const unsigned char *)t->s)[i] : ((const WCHAR *)t->s)[i];
}

static int hex_digit(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/* One IPv4 part at *i: decimal, or when not strict octal (leading 0) or hex
 * (0x); it must fit 32 bits. */
static bool ipv4_part(const struct text *t, size_t *i, bool strict, ULONG *value)
{
    unsigned base = 10;
    if (ch(t, *i) == '0' && (ch(t, *i + 1) == 'x' || ch(t, *i + 1) == 'X')) {
        *i += 2;
        if (strict)
            return false;
        base = 16;
    } else if (ch(t, *i) == '0' && ch(t, *i + 1) >= '0' && ch(t, *i + 1) <= '9') {
        *i += 1;
        if (strict)
            return false;
        base = 8;
    }
    ULONGLONG v = 0;
    bool any = false;
    for (int d; (d = hex_digit(ch(t, *i))) >= 0 && (unsigned)d < base; (*i)++) {
        v = v * base + (unsigned)d;
        if (v > 0xFFFFFFFFu)
            return false;
        any = true;
    }
    *value = (ULONG)v;
    return any;
}

/* One to four parts; with fewer than four the last fills the remaining
 * bytes ("net.host" forms). Strict: exactly four decimal parts. */
static NTSTATUS parse_ipv4(const struct text *t, bool strict, size_t *end, struct in_addr *addr)
{
    ULONG part[4];
    size_t i = 0;
    int n = 0;
    for (;;) {
        if (!ipv4_part(t, &i, strict, &part[n]))
            goto fail;
        n++;
        if (ch(t, i) != '.')
            break;
        if (n == 4)
            goto fail;
        i++;
    }
    if (strict && n < 4)
        goto fail;
    for (int k = 0; k < n - 1; k++)
        if (part[k] > 0xFF)
            goto fail;
    ULONG last_max = n == 1 ? 0xFFFFFFFFu : 0xFFFFFFFFu >> (8 * (n - 1));
    if (part[n - 1] > last_max)
        goto fail;
    UCHAR *b = (UCHAR *)addr;
    for (int k = 0; k < n - 1; k++)
        b[k] = (UCHAR)part[k];
    for (int k = n - 1; k < 4; k++)
        b[k] = (UCHAR)(part[n - 1] >> (8 * (3 - k)));
    *end = i;
    return STATUS_SUCCESS;
fail:
    *end = i;
    return STATUS_INVALID_PARAMETER;
}

/* A dotted quad inside an IPv6 address: four decimal parts of at most three
 * digits and 255. */
static bool ipv6_dotted(const struct text *t, size_t *i, UCHAR out[4])
{
    for (int k = 0; k < 4; k++) {
        if (k > 0 && ch(t, (*i)++) != '.')
            return false;
        unsigned v = 0, digits = 0;
        while (ch(t, *i) >= '0' && ch(t, *i) <= '9' && digits < 4) {
            v = v * 10 + (ch(t, (*i)++) - '0');
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255)
            return false;
        out[k] = (UCHAR)v;
    }
    return true;
}

/* Whether the text at i is a dotted quad: decimal digits, then a dot. */
static bool dotted_ahead(const struct text *t, size_t i)
{
    while (ch(t, i) >= '0' && ch(t, i) <= '9')
        i++;
    return ch(t, i) == '.';
}

static NTSTATUS parse_ipv6(const struct text *t, size_t *end, struct in6_addr *addr)
{
    USHORT words[8];
    int n = 0, gap = -1;
    size_t i = 0;
    if (ch(t, 0) == ':') {
        if (ch(t, 1) != ':')
            goto fail;
        gap = 0;
        i = 2;
        if (hex_digit(ch(t, i)) < 0)
            goto done; /* "::" */
    }
    while (n < 8) {
        if (dotted_ahead(t, i)) {
            UCHAR q[4];
            if (n > 6 || (gap < 0 && n != 6) || !ipv6_dotted(t, &i, q))
                goto fail;
            words[n++] = (USHORT)((q[0] << 8) | q[1]);
            words[n++] = (USHORT)((q[2] << 8) | q[3]);
            break;
        }
        unsigned v = 0, digits = 0;
        for (int d; (d = hex_digit(ch(t, i))) >= 0; i++, digits++)
            v = (v << 4) | (unsigned)d;
        if (digits == 0 || digits > 4)
            goto fail;
        words[n++] = (USHORT)v;
        if (ch(t, i) != ':' || n == 8)
            break;
        if (ch(t, i + 1) == ':') {
            if (gap >= 0)
                goto fail; /* a second "::" */
            gap = n;
            i += 2;
            if (hex_digit(ch(t, i)) < 0)
                break; /* a trailing "::" */
        } else {
            i++;
            if (hex_digit(ch(t, i)) < 0)
                goto fail;
        }
    }
done:
    if ((gap < 0 && n != 8) || (gap >= 0 && n == 8))
        goto fail;
    memset(addr, 0, sizeof(*addr));
    int tail = gap < 0 ? 0 : n - gap;
    for (int k = 0; k < n; k++) {
        int at = (gap >= 0 && k >= gap) ? 8 - tail + (k - gap) : k;
        addr->u.Byte[2 * at] = (UCHAR)(words[k] >> 8);
        addr->u.Byte[2 * at + 1] = (UCHAR)words[k];
    }
    *end = i;
    return STATUS_SUCCESS;
fail:
    *end = i;
    return STATUS_INVALID_PARAMETER;
}

#define PARSE_ARGS_CHECK(api, S, Addr)                                                             \
    do {                                                                                           \
        if ((S) == NULL || (Addr) == NULL) {                                                       \
            fltsim__string_misuse(api, "a NULL argument (Windows faults on it)");                  \
            return STATUS_INVALID_PARAMETER;                                                       \
        }                                                                                          \
    } while (0)

NTSTATUS RtlIpv4StringToAddressA(PCSTR S, BOOLEAN Strict, PCSTR *Terminator, struct in_addr *Addr)
{
    PARSE_ARGS_CHECK("RtlIpv4StringToAddressA", S, Addr);
    struct text t = {S, 1};
    size_t end;
    struct in_addr a;
    NTSTATUS status = parse_ipv4(&t, Strict != FALSE, &end, &a);
    if (NT_SUCCESS(status))
        *Addr = a;
    if (Terminator != NULL)
        *Terminator = S + end;
    return status;
}

NTSTATUS RtlIpv4StringToAddressW(PCWSTR S, BOOLEAN Strict, PCWSTR *Terminator, struct in_addr *Addr)
{
    PARSE_ARGS_CHECK("RtlIpv4StringToAddressW", S, Addr);
    struct text t = {S, 2};
    size_t end;
    struct in_addr a;
    NTSTATUS status = parse_ipv4(&t, Strict != FALSE, &end, &a);
    if (NT_SUCCESS(status))
        *Addr = a;
    if (Terminator != NULL)
        *Terminator = S + end;
    return status;
}

NTSTATUS RtlIpv6StringToAddressA(PCSTR S, PCSTR *Terminator, struct in6_addr *Addr)
{
    PARSE_ARGS_CHECK("RtlIpv6StringToAddressA", S, Addr);
    struct text t = {S, 1};
    size_t end;
    struct in6_addr a;
    NTSTATUS status = parse_ipv6(&t, &end, &a);
    if (NT_SUCCESS(status))
        *Addr = a;
    if (Terminator != NULL)
        *Terminator = S + end;
    return status;
}

NTSTATUS RtlIpv6StringToAddressW(PCWSTR S, PCWSTR *Terminator, struct in6_addr *Addr)
{
    PARSE_ARGS_CHECK("RtlIpv6StringToAddressW", S, Addr);
    struct text t = {S, 2};
    size_t end;
    struct in6_addr a;
    NTSTATUS status = parse_ipv6(&t, &end, &a);
    if (NT_SUCCESS(status))
        *Addr = a;
    if (Terminator != NULL)
        *Terminator = S + end;
    return status;
}
