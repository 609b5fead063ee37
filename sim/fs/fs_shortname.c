/*
 * 8.3 short names as NTFS forms them: whether a long name is already a legal
 * 8.3 name (it then gets no alternate name), and the candidates a file system
 * tries in turn for one that is not, the caller checking each against the
 * directory. The shape is NTFS's (RtlGenerate8dot3Name with extended
 * characters off): uppercased, spaces and extra periods dropped, characters
 * illegal in 8.3 names replaced by '_', six characters and ~1..~4, then two
 * characters, four hex digits of a checksum of the long name and ~1, ~2...
 * The checksum is fltsim's own: Windows's is undocumented.
 */
#include "fs_shared.h"

#define SHORT_HASH_FROM 5u        /* the attempt that switches to the checksum form */
#define SHORT_LAST_ATTEMPT 99999u /* ~1 .. ~99999 in the checksum form, then none */

/* TRUE for a character an 8.3 name may hold as it is (uppercase or not). */
static bool short_char_ok(WCHAR c)
{
    if ((c >= L'A' && c <= L'Z') || (c >= L'a' && c <= L'z') || (c >= L'0' && c <= L'9'))
        return true;
    static const WCHAR others[] = L"$%'-_@~`!(){}^#&";
    for (size_t i = 0; others[i] != 0; i++)
        if (c == others[i])
            return true;
    return false;
}

bool fltsim__fs_short_legal(const WCHAR *s, size_t n)
{
    size_t dot = n;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == L'.') {
            if (dot != n)
                return false; /* a second period */
            dot = i;
        } else if (!short_char_ok(s[i])) {
            return false;
        }
    }
    if (dot == 0 || dot > 8)
        return false;
    return dot == n || (n - dot - 1 >= 1 && n - dot - 1 <= 3);
}

/* The 8.3 form of one character of a part: uppercased, '_' when illegal. */
static WCHAR short_form(WCHAR c)
{
    WCHAR u = RtlUpcaseUnicodeChar(c);
    return short_char_ok(u) ? u : L'_';
}

/* Copies s[0..n) without spaces and periods, in 8.3 form, at most max units,
 * into out. Returns the units written. */
static size_t short_part(const WCHAR *s, size_t n, size_t max, WCHAR *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++)
        if (s[i] != L' ' && s[i] != L'.')
            out[k++] = short_form(s[i]);
    return k;
}

/* A 16-bit checksum of the upcased long name. */
static unsigned short_checksum(const WCHAR *s, size_t n)
{
    unsigned long h = 2166136261ul;
    for (size_t i = 0; i < n; i++) {
        h ^= RtlUpcaseUnicodeChar(s[i]);
        h = (h * 16777619ul) & 0xfffffffful;
    }
    return (unsigned)((h ^ (h >> 16)) & 0xffffu);
}

size_t fltsim__fs_short_candidate(const WCHAR *s, size_t n, ULONG attempt,
                                  WCHAR out[FLTSIM__FS_SHORT_MAX])
{
    static const WCHAR hex[] = L"0123456789ABCDEF";
    WCHAR base[8], ext[3], digits[8];
    size_t nd = 0;

    if (attempt == 0 || attempt >= SHORT_HASH_FROM + SHORT_LAST_ATTEMPT)
        return 0;
    /* Leading periods are skipped; the extension follows the last period. */
    size_t start = 0;
    while (start < n && s[start] == L'.')
        start++;
    size_t dot = n;
    for (size_t i = n; i > start; i--) {
        if (s[i - 1] == L'.') {
            dot = i - 1;
            break;
        }
    }
    size_t ext_len = dot < n ? short_part(s + dot + 1, n - dot - 1, 3, ext) : 0;

    ULONG number = attempt < SHORT_HASH_FROM ? attempt : attempt - SHORT_HASH_FROM + 1;
    for (ULONG v = number; v > 0; v /= 10)
        digits[nd++] = (WCHAR)(L'0' + v % 10);
    size_t keep = 8 - 1 - nd; /* room before "~N" */
    size_t base_len;
    if (attempt < SHORT_HASH_FROM) {
        base_len = short_part(s + start, dot - start, keep < 6 ? keep : 6, base);
    } else {
        unsigned sum = short_checksum(s, n);
        base_len = short_part(s + start, dot - start, 2, base);
        for (int shift = 12; shift >= 0; shift -= 4)
            base[base_len++] = hex[(sum >> shift) & 0xfu];
        if (base_len > keep)
            base_len = keep;
    }

    size_t k = 0;
    for (size_t i = 0; i < base_len; i++)
        out[k++] = base[i];
    out[k++] = L'~';
    while (nd > 0)
        out[k++] = digits[--nd];
    if (ext_len > 0) {
        out[k++] = L'.';
        for (size_t i = 0; i < ext_len; i++)
            out[k++] = ext[i];
    }
    return k;
}
