/*
 * ip2string.h (ip2string.c): IPv4 and IPv6 addresses to text, with ports and
 * scope ids and the Ex forms' length protocol, and text back to addresses
 * with Terminator, in the narrow and wide forms; Windows' choices for "::"
 * (the first longest run of two or more zero groups) and for dotted IPv4
 * tails are pinned, and every address round-trips.
 */
#include <ip2string.h>

#include "crt_test.h"

static struct in_addr v4(UCHAR a, UCHAR b, UCHAR c, UCHAR d)
{
    struct in_addr r;
    UCHAR *p = (UCHAR *)&r;
    p[0] = a;
    p[1] = b;
    p[2] = c;
    p[3] = d;
    return r;
}

/* An IPv6 address from its eight groups, in network order. */
static struct in6_addr v6(const USHORT g[8])
{
    struct in6_addr r;
    for (int i = 0; i < 8; i++) {
        r.u.Byte[2 * i] = (UCHAR)(g[i] >> 8);
        r.u.Byte[2 * i + 1] = (UCHAR)g[i];
    }
    return r;
}

/* A port in network byte order. */
static USHORT net_port(USHORT host)
{
    USHORT r;
    UCHAR *p = (UCHAR *)&r;
    p[0] = (UCHAR)(host >> 8);
    p[1] = (UCHAR)host;
    return r;
}

/* ------------------------------------------------------------------------- */
/* To text                                                                    */
/* ------------------------------------------------------------------------- */

static void ipv4_to_string(void **state)
{
    (void)state;
    struct in_addr a = v4(192, 168, 1, 2);
    char s[32];
    WCHAR w[32];
    assert_ptr_equal(RtlIpv4AddressToStringA(&a, s), s + 11);
    assert_string_equal(s, "192.168.1.2");
    assert_ptr_equal(RtlIpv4AddressToStringW(&a, w), w + 11);
    assert_wstr(w, L"192.168.1.2");
    ULONG len = sizeof(s);
    assert_status(RtlIpv4AddressToStringExA(&a, net_port(8080), s, &len), STATUS_SUCCESS);
    assert_string_equal(s, "192.168.1.2:8080");
    assert_int_equal(len, 17); /* with the terminator */
    /* Too small: refused, and the length says what is needed. */
    len = 16;
    w[0] = L'#';
    assert_status(RtlIpv4AddressToStringExW(&a, net_port(8080), w, &len), STATUS_INVALID_PARAMETER);
    assert_int_equal(len, 17);
    assert_int_equal(w[0], L'#');
    len = 17;
    assert_status(RtlIpv4AddressToStringExW(&a, net_port(8080), w, &len), STATUS_SUCCESS);
    assert_wstr(w, L"192.168.1.2:8080");
    len = 32;
    struct in_addr zero = v4(0, 0, 0, 0);
    assert_status(RtlIpv4AddressToStringExA(&zero, 0, s, &len), STATUS_SUCCESS);
    assert_string_equal(s, "0.0.0.0");
    assert_status(RtlIpv4AddressToStringExA(NULL, 0, s, &len), STATUS_INVALID_PARAMETER);
    assert_status(RtlIpv4AddressToStringExA(&a, 0, NULL, &len), STATUS_INVALID_PARAMETER);
    assert_status(RtlIpv4AddressToStringExA(&a, 0, s, NULL), STATUS_INVALID_PARAMETER);
}

struct v6_case {
    USHORT g[8];
    const char *text;
};

static const struct v6_case v6_cases[] = {
    {{0, 0, 0, 0, 0, 0, 0, 0}, "::"},
    {{0, 0, 0, 0, 0, 0, 0, 1}, "::1"},
    {{1, 0, 0, 0, 0, 0, 0, 0}, "1::"},
    {{0x2001, 0xdb8, 0, 0, 1, 0, 0, 1}, "2001:db8::1:0:0:1"}, /* the first longest run */
    {{0x2001, 0xdb8, 0, 1, 0, 0, 0, 1}, "2001:db8:0:1::1"},
    {{0x2001, 0xdb8, 1, 2, 3, 4, 5, 0}, "2001:db8:1:2:3:4:5:0"}, /* one zero group stays */
    {{0xfe80, 0, 0, 0, 0x1234, 0xABCD, 0, 0xff}, "fe80::1234:abcd:0:ff"},
    {{0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304}, "::ffff:1.2.3.4"},           /* mapped */
    {{0, 0, 0, 0, 0, 0, 0x0102, 0x0304}, "::1.2.3.4"},                     /* compatible */
    {{0, 0, 0, 0, 0xffff, 0, 0x0102, 0x0304}, "::ffff:0:1.2.3.4"},         /* translated */
    {{0xfe80, 0, 0, 0, 0, 0x5efe, 0x0a00, 0x0001}, "fe80::5efe:10.0.0.1"}, /* ISATAP */
    {{0xfe80, 0, 0, 0, 0x0200, 0x5efe, 0x0a00, 0x0001}, "fe80::200:5efe:10.0.0.1"},
    {{0, 0, 0, 0, 0, 0xffff, 0, 0x0102}, "::ffff:0:102"}, /* 0.0.x.x stays hex */
};

static void ipv6_to_string(void **state)
{
    (void)state;
    char s[64];
    WCHAR w[64];
    for (size_t i = 0; i < RTL_NUMBER_OF(v6_cases); i++) {
        struct in6_addr a = v6(v6_cases[i].g);
        const char *end = RtlIpv6AddressToStringA(&a, s);
        assert_string_equal(s, v6_cases[i].text);
        assert_ptr_equal(end, s + strlen(s));
        WCHAR *wend = RtlIpv6AddressToStringW(&a, w);
        assert_int_equal(wend - w, (ptrdiff_t)strlen(v6_cases[i].text));
        for (size_t k = 0; k <= strlen(s); k++)
            assert_int_equal(w[k], (WCHAR)s[k]);
    }
}

static void ipv6_to_string_ex_scope_and_port(void **state)
{
    (void)state;
    static const USHORT g[8] = {0xfe80, 0, 0, 0, 0, 0, 0, 1};
    struct in6_addr a = v6(g);
    char s[80];
    WCHAR w[80];
    ULONG len = sizeof(s);
    assert_status(RtlIpv6AddressToStringExA(&a, 5, 0, s, &len), STATUS_SUCCESS);
    assert_string_equal(s, "fe80::1%5");
    assert_int_equal(len, 10);
    len = RTL_NUMBER_OF(w);
    assert_status(RtlIpv6AddressToStringExW(&a, 5, net_port(443), w, &len), STATUS_SUCCESS);
    assert_wstr(w, L"[fe80::1%5]:443");
    assert_int_equal(len, 16);
    len = RTL_NUMBER_OF(w);
    assert_status(RtlIpv6AddressToStringExW(&a, 0, net_port(65535), w, &len), STATUS_SUCCESS);
    assert_wstr(w, L"[fe80::1]:65535");
    len = 15;
    assert_status(RtlIpv6AddressToStringExW(&a, 0, net_port(65535), w, &len),
                  STATUS_INVALID_PARAMETER);
    assert_int_equal(len, 16);
    /* The longest form fits INET6_ADDRSTRLEN-style buffers of 65. */
    static const USHORT full[8] = {0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff};
    a = v6(full);
    len = 65;
    assert_status(RtlIpv6AddressToStringExA(&a, 0xFFFFFFFFu, net_port(65535), s, &len),
                  STATUS_SUCCESS);
    assert_string_equal(s, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535");
    assert_status(RtlIpv6AddressToStringExA(NULL, 0, 0, s, &len), STATUS_INVALID_PARAMETER);
}

/* ------------------------------------------------------------------------- */
/* From text                                                                  */
/* ------------------------------------------------------------------------- */

/* Parses text (narrow and wide must agree) and checks the status, the
 * address when it succeeds, and where Terminator points. */
static void parse4(const char *text, BOOLEAN strict, NTSTATUS expected, ULONG expected_addr,
                   size_t terminator_at)
{
    struct in_addr a = v4(9, 9, 9, 9), aw = v4(9, 9, 9, 9);
    const char *term = NULL;
    assert_status(RtlIpv4StringToAddressA(text, strict, &term, &a), expected);
    WCHAR w[64];
    size_t n = strlen(text);
    for (size_t i = 0; i <= n; i++)
        w[i] = (WCHAR)(unsigned char)text[i];
    const WCHAR *wterm = NULL;
    assert_status(RtlIpv4StringToAddressW(w, strict, &wterm, &aw), expected);
    if (term != text + terminator_at || wterm != w + terminator_at)
        fail_msg("\"%s\": terminator at %td/%td, expected %zu", text, term - text, wterm - w,
                 terminator_at);
    const UCHAR *b = (const UCHAR *)&a;
    ULONG got = ((ULONG)b[0] << 24) | ((ULONG)b[1] << 16) | ((ULONG)b[2] << 8) | b[3];
    if (NT_SUCCESS(expected)) {
        if (got != expected_addr)
            fail_msg("\"%s\": address %08x, expected %08x", text, (unsigned)got,
                     (unsigned)expected_addr);
    } else {
        assert_int_equal(got, 0x09090909u); /* untouched */
    }
    assert_memory_equal(&a, &aw, sizeof(a));
}

static void ipv4_from_string(void **state)
{
    (void)state;
    parse4("1.2.3.4", TRUE, STATUS_SUCCESS, 0x01020304, 7);
    parse4("192.168.1.1:80", TRUE, STATUS_SUCCESS, 0xC0A80101, 11);
    parse4("255.255.255.255", TRUE, STATUS_SUCCESS, 0xFFFFFFFF, 15);
    parse4("1.2.3", TRUE, STATUS_INVALID_PARAMETER, 0, 5);
    parse4("1.2.3", FALSE, STATUS_SUCCESS, 0x01020003, 5); /* last part: 16 bits */
    parse4("10.65535", FALSE, STATUS_SUCCESS, 0x0A00FFFF, 8);
    parse4("3232235777", FALSE, STATUS_SUCCESS, 0xC0A80101, 10);
    parse4("0x7f.1", FALSE, STATUS_SUCCESS, 0x7F000001, 6);
    parse4("010.0.0.1", FALSE, STATUS_SUCCESS, 0x08000001, 9);
    parse4("010.0.0.1", TRUE, STATUS_INVALID_PARAMETER, 0, 1);
    parse4("0x10.0.0.1", TRUE, STATUS_INVALID_PARAMETER, 0, 2);
    parse4("0.0.0.0", TRUE, STATUS_SUCCESS, 0, 7);
    parse4("256.1.1.1", TRUE, STATUS_INVALID_PARAMETER, 0, 9);
    parse4("1.2.256", FALSE, STATUS_SUCCESS, 0x01020100, 7);
    parse4("1.2.65536", FALSE, STATUS_INVALID_PARAMETER, 0, 9);
    parse4("1.2.3.4.5", FALSE, STATUS_INVALID_PARAMETER, 0, 7);
    parse4("1..2", FALSE, STATUS_INVALID_PARAMETER, 0, 2);
    parse4("", TRUE, STATUS_INVALID_PARAMETER, 0, 0);
    parse4("4294967296", FALSE, STATUS_INVALID_PARAMETER, 0, 9);
    parse4("09", FALSE, STATUS_INVALID_PARAMETER, 0, 1);
    struct in_addr a;
    assert_status(RtlIpv4StringToAddressA("1.2.3.4", TRUE, NULL, &a), STATUS_SUCCESS);
}

static void parse6(const char *text, NTSTATUS expected, const USHORT g[8], size_t terminator_at)
{
    struct in6_addr a, aw;
    memset(&a, 0x99, sizeof(a));
    memset(&aw, 0x99, sizeof(aw));
    const char *term = NULL;
    assert_status(RtlIpv6StringToAddressA(text, &term, &a), expected);
    WCHAR w[80];
    size_t n = strlen(text);
    for (size_t i = 0; i <= n; i++)
        w[i] = (WCHAR)(unsigned char)text[i];
    const WCHAR *wterm = NULL;
    assert_status(RtlIpv6StringToAddressW(w, &wterm, &aw), expected);
    if (term != text + terminator_at || wterm != w + terminator_at)
        fail_msg("\"%s\": terminator at %td/%td, expected %zu", text, term - text, wterm - w,
                 terminator_at);
    assert_memory_equal(&a, &aw, sizeof(a));
    if (NT_SUCCESS(expected)) {
        struct in6_addr want = v6(g);
        if (memcmp(&a, &want, sizeof(a)) != 0)
            fail_msg("\"%s\": wrong address", text);
    } else {
        assert_int_equal(a.u.Byte[0], 0x99); /* untouched */
    }
}

static void ipv6_from_string(void **state)
{
    (void)state;
    static const USHORT zero[8] = {0}, one[8] = {0, 0, 0, 0, 0, 0, 0, 1},
                        lead[8] = {1, 0, 0, 0, 0, 0, 0, 0},
                        doc[8] = {0x2001, 0xdb8, 0, 0, 1, 0, 0, 1},
                        full[8] = {1, 2, 3, 4, 5, 6, 7, 8},
                        mapped[8] = {0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304},
                        tail[8] = {1, 2, 3, 4, 5, 6, 0x0102, 0x0304},
                        link[8] = {0xfe80, 0, 0, 0, 0, 0, 0, 1},
                        seven[8] = {1, 2, 3, 4, 5, 6, 7, 0};
    parse6("::", STATUS_SUCCESS, zero, 2);
    parse6("::1", STATUS_SUCCESS, one, 3);
    parse6("1::", STATUS_SUCCESS, lead, 3);
    parse6("2001:DB8::1:0:0:1", STATUS_SUCCESS, doc, 17);
    parse6("1:2:3:4:5:6:7:8", STATUS_SUCCESS, full, 15);
    parse6("::ffff:1.2.3.4", STATUS_SUCCESS, mapped, 14);
    parse6("1:2:3:4:5:6:1.2.3.4", STATUS_SUCCESS, tail, 19);
    parse6("fe80::1%5", STATUS_SUCCESS, link, 7); /* the scope is left to the caller */
    parse6("1:2:3:4:5:6:7::", STATUS_SUCCESS, seven, 15);
    parse6("1:2:3:4:5:6:7", STATUS_INVALID_PARAMETER, NULL, 13);
    parse6("1::2::3", STATUS_INVALID_PARAMETER, NULL, 4);
    parse6("12345::", STATUS_INVALID_PARAMETER, NULL, 5);
    parse6(":1", STATUS_INVALID_PARAMETER, NULL, 0);
    parse6("1:2:3:4:5:6:7::8", STATUS_INVALID_PARAMETER, NULL, 16);
    parse6("1.2.3.4", STATUS_INVALID_PARAMETER, NULL, 0);
    parse6("::256.1.1.1", STATUS_INVALID_PARAMETER, NULL, 5);
    parse6("1:", STATUS_INVALID_PARAMETER, NULL, 2);
    parse6("", STATUS_INVALID_PARAMETER, NULL, 0);
}

/* Every address written can be read back. */
static void addresses_round_trip(void **state)
{
    (void)state;
    char s[64];
    for (size_t i = 0; i < RTL_NUMBER_OF(v6_cases); i++) {
        struct in6_addr a = v6(v6_cases[i].g), back;
        RtlIpv6AddressToStringA(&a, s);
        const char *term;
        assert_status(RtlIpv6StringToAddressA(s, &term, &back), STATUS_SUCCESS);
        assert_int_equal(*term, '\0');
        assert_memory_equal(&a, &back, sizeof(a));
    }
    for (unsigned v = 0; v < 256; v += 17) {
        struct in_addr a = v4((UCHAR)v, (UCHAR)(255 - v), 0, (UCHAR)(v / 2)), back;
        RtlIpv4AddressToStringA(&a, s);
        assert_status(RtlIpv4StringToAddressA(s, TRUE, NULL, &back), STATUS_SUCCESS);
        assert_memory_equal(&a, &back, sizeof(a));
    }
}

static bool null_address_to_string(void)
{
    char s[16];
    return RtlIpv4AddressToStringA(NULL, s) == s;
}

static bool null_string_to_address(void)
{
    struct in6_addr a;
    return RtlIpv6StringToAddressW(NULL, NULL, &a) == STATUS_INVALID_PARAMETER;
}

static void misuse_is_reported(void **state)
{
    (void)state;
    static const struct crt_misuse cases[] = {
        {"RtlIpv4AddressToStringA", null_address_to_string},
        {"RtlIpv6StringToAddressW", null_string_to_address},
    };
    crt_run_misuses(cases, RTL_NUMBER_OF(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_to_string),
        cmocka_unit_test(ipv6_to_string),
        cmocka_unit_test(ipv6_to_string_ex_scope_and_port),
        cmocka_unit_test(ipv4_from_string),
        cmocka_unit_test(ipv6_from_string),
        cmocka_unit_test(addresses_round_trip),
        cmocka_unit_test(misuse_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
