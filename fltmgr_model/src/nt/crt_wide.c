/*
 * The kernel C runtime's wide-character routines over 16-bit WCHAR (crt.h):
 * strings, memory, the _s variants, case mapping and character classes, with
 * the Microsoft CRT's semantics. Where the CRT calls its invalid-parameter
 * handler (a bugcheck in the kernel) fltsim reports and returns the
 * documented error; a NULL where a plain routine would fault, or an overlap
 * the CRT leaves undefined, is reported too and then handled safely. The
 * wprintf family is crt_wprintf.c; case mapping is rtl_string.c's.
 */
#include "crt_internal.h"
#include "nt_internal.h"

/* The macros of crt.h name fltsim's routines; the definitions below use the
 * fltsim_crt_ names themselves, and fltsim's own code below uses none of
 * the C names. */

int fltsim__crt_invalid(const char *api, int code, const char *what)
{
    fltsim__ke_report("KE", "-",
                      "%s: invalid parameter: %s (the kernel CRT's invalid-parameter handler "
                      "bugchecks; fltsim returns %s)",
                      api, what, code == ERANGE ? "ERANGE" : "EINVAL");
    errno = code;
    return code;
}

/* A NULL string where Windows would fault: reported, then read as empty. */
static void report_null(const char *api, const char *which)
{
    fltsim__ke_report("KE", "-", "%s: %s is NULL (Windows faults on it); fltsim reads it as empty",
                      api, which);
}

/* A NULL destination where Windows would fault: reported, nothing written. */
static void report_null_destination(const char *api)
{
    fltsim__ke_report("KE", "-", "%s: the destination is NULL (Windows faults on it)", api);
}

static bool overlap(const WCHAR *a, size_t a_units, const WCHAR *b, size_t b_units)
{
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return pa < pb + b_units * sizeof(WCHAR) && pb < pa + a_units * sizeof(WCHAR);
}

/* Copies n units from src to dest; the CRT leaves overlapping copies
 * undefined, so one is reported, and done as memmove would. */
static void copy_units(const char *api, WCHAR *dest, const WCHAR *src, size_t n)
{
    if (n == 0)
        return;
    if (overlap(dest, n, src, n))
        fltsim__ke_report("KE", "-",
                          "%s: the source and destination overlap (undefined in the CRT); "
                          "fltsim copies as memmove would",
                          api);
    memmove(dest, src, n * sizeof(WCHAR));
}

static size_t units_until(const WCHAR *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n] != UNICODE_NULL)
        n++;
    return n;
}

static const WCHAR empty[1] = {UNICODE_NULL};

/* ---- strings ---- */

size_t fltsim_crt_wcslen(const wchar_t *str)
{
    if (str == NULL) {
        report_null("wcslen", "the string");
        return 0;
    }
    return units_until(str, SIZE_MAX);
}

size_t fltsim_crt_wcsnlen(const wchar_t *str, size_t numberOfElements)
{
    if (str == NULL) {
        if (numberOfElements != 0)
            report_null("wcsnlen", "the string");
        return 0;
    }
    return units_until(str, numberOfElements);
}

wchar_t *fltsim_crt_wcscpy(wchar_t *strDestination, const wchar_t *strSource)
{
    if (strDestination == NULL) {
        report_null_destination("wcscpy");
        return NULL;
    }
    if (strSource == NULL) {
        report_null("wcscpy", "the source");
        strSource = empty;
    }
    copy_units("wcscpy", strDestination, strSource, units_until(strSource, SIZE_MAX) + 1);
    return strDestination;
}

wchar_t *fltsim_crt_wcsncpy(wchar_t *strDest, const wchar_t *strSource, size_t count)
{
    if (count == 0)
        return strDest;
    if (strDest == NULL) {
        report_null_destination("wcsncpy");
        return NULL;
    }
    if (strSource == NULL) {
        report_null("wcsncpy", "the source");
        strSource = empty;
    }
    /* At most count units; no terminator when the source has count or more,
     * and zeros up to count when it has fewer. */
    size_t n = units_until(strSource, count);
    copy_units("wcsncpy", strDest, strSource, n);
    for (size_t i = n; i < count; i++)
        strDest[i] = UNICODE_NULL;
    return strDest;
}

wchar_t *fltsim_crt_wcscat(wchar_t *strDestination, const wchar_t *strSource)
{
    if (strDestination == NULL) {
        report_null_destination("wcscat");
        return NULL;
    }
    if (strSource == NULL) {
        report_null("wcscat", "the source");
        strSource = empty;
    }
    size_t at = units_until(strDestination, SIZE_MAX);
    copy_units("wcscat", strDestination + at, strSource, units_until(strSource, SIZE_MAX) + 1);
    return strDestination;
}

wchar_t *fltsim_crt_wcsncat(wchar_t *strDest, const wchar_t *strSource, size_t count)
{
    if (strDest == NULL) {
        report_null_destination("wcsncat");
        return NULL;
    }
    if (strSource == NULL) {
        if (count != 0)
            report_null("wcsncat", "the source");
        strSource = empty;
    }
    /* At most count units, then always a terminator. */
    size_t at = units_until(strDest, SIZE_MAX);
    size_t n = units_until(strSource, count);
    copy_units("wcsncat", strDest + at, strSource, n);
    strDest[at + n] = UNICODE_NULL;
    return strDest;
}

static int sign_of(int d)
{
    return (d > 0) - (d < 0);
}

/* wcsncmp's work; count SIZE_MAX compares whole strings (wcscmp). */
static int compare(const char *api, const WCHAR *string1, const WCHAR *string2, size_t count)
{
    if (count == 0)
        return 0;
    if (string1 == NULL || string2 == NULL) {
        report_null(api, "a string compared");
        string1 = string1 != NULL ? string1 : empty;
        string2 = string2 != NULL ? string2 : empty;
    }
    /* Ordered by code unit (WCHAR is unsigned). */
    for (size_t i = 0; i < count; i++) {
        if (string1[i] != string2[i] || string1[i] == UNICODE_NULL)
            return sign_of((int)string1[i] - (int)string2[i]);
    }
    return 0;
}

int fltsim_crt_wcscmp(const wchar_t *string1, const wchar_t *string2)
{
    return compare("wcscmp", string1, string2, SIZE_MAX);
}

int fltsim_crt_wcsncmp(const wchar_t *string1, const wchar_t *string2, size_t count)
{
    return compare("wcsncmp", string1, string2, count);
}

/* _wcsnicmp's work: the CRT compares lowercase forms ("_" sorts before
 * letters), here Unicode's simple lowercase of each unit. */
static int compare_lowercase(const WCHAR *a, const WCHAR *b, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        int ca = RtlDowncaseUnicodeChar(a[i]);
        int cb = RtlDowncaseUnicodeChar(b[i]);
        if (ca != cb || ca == UNICODE_NULL)
            return ca - cb;
    }
    return 0;
}

int fltsim_crt_wcsicmp(const wchar_t *string1, const wchar_t *string2)
{
    if (string1 == NULL || string2 == NULL) {
        fltsim__crt_invalid("_wcsicmp", EINVAL, "a string compared is NULL");
        return _NLSCMPERROR;
    }
    return compare_lowercase(string1, string2, SIZE_MAX);
}

int fltsim_crt_wcsnicmp(const wchar_t *string1, const wchar_t *string2, size_t count)
{
    if (string1 == NULL || string2 == NULL) {
        fltsim__crt_invalid("_wcsnicmp", EINVAL, "a string compared is NULL");
        return _NLSCMPERROR;
    }
    return compare_lowercase(string1, string2, count);
}

wchar_t *fltsim_crt_wcschr(const wchar_t *str, wchar_t c)
{
    if (str == NULL) {
        report_null("wcschr", "the string");
        return NULL;
    }
    /* The terminator is part of the string: wcschr(s, 0) finds it. */
    for (;; str++) {
        if (*str == c)
            return (wchar_t *)str;
        if (*str == UNICODE_NULL)
            return NULL;
    }
}

wchar_t *fltsim_crt_wcsrchr(const wchar_t *str, wchar_t c)
{
    if (str == NULL) {
        report_null("wcsrchr", "the string");
        return NULL;
    }
    const wchar_t *last = NULL;
    for (;; str++) {
        if (*str == c)
            last = str;
        if (*str == UNICODE_NULL)
            return (wchar_t *)last;
    }
}

wchar_t *fltsim_crt_wcsstr(const wchar_t *str, const wchar_t *strSearch)
{
    if (str == NULL || strSearch == NULL) {
        report_null("wcsstr", "a string");
        return NULL;
    }
    if (*strSearch == UNICODE_NULL)
        return (wchar_t *)str;
    for (; *str != UNICODE_NULL; str++) {
        size_t i = 0;
        while (strSearch[i] != UNICODE_NULL && str[i] == strSearch[i])
            i++;
        if (strSearch[i] == UNICODE_NULL)
            return (wchar_t *)str;
    }
    return NULL;
}

static bool in_set(WCHAR c, const WCHAR *set)
{
    for (; *set != UNICODE_NULL; set++)
        if (*set == c)
            return true;
    return false;
}

/* Units of str from its start that are (want true) or are not in set. */
static size_t span(const char *api, const WCHAR *str, const WCHAR *set, bool want)
{
    if (str == NULL || set == NULL) {
        report_null(api, "a string");
        return 0;
    }
    size_t n = 0;
    while (str[n] != UNICODE_NULL && in_set(str[n], set) == want)
        n++;
    return n;
}

wchar_t *fltsim_crt_wcspbrk(const wchar_t *str, const wchar_t *strCharSet)
{
    size_t n = span("wcspbrk", str, strCharSet, false);
    return str != NULL && str[n] != UNICODE_NULL ? (wchar_t *)str + n : NULL;
}

size_t fltsim_crt_wcsspn(const wchar_t *str, const wchar_t *strCharSet)
{
    return span("wcsspn", str, strCharSet, true);
}

size_t fltsim_crt_wcscspn(const wchar_t *str, const wchar_t *strCharSet)
{
    return span("wcscspn", str, strCharSet, false);
}

static void map_case(WCHAR *s, size_t n, bool upper)
{
    for (size_t i = 0; i < n; i++)
        s[i] = upper ? RtlUpcaseUnicodeChar(s[i]) : RtlDowncaseUnicodeChar(s[i]);
}

wchar_t *fltsim_crt_wcslwr(wchar_t *str)
{
    if (str == NULL) {
        fltsim__crt_invalid("_wcslwr", EINVAL, "the string is NULL");
        return NULL;
    }
    map_case(str, units_until(str, SIZE_MAX), false);
    return str;
}

wchar_t *fltsim_crt_wcsupr(wchar_t *str)
{
    if (str == NULL) {
        fltsim__crt_invalid("_wcsupr", EINVAL, "the string is NULL");
        return NULL;
    }
    map_case(str, units_until(str, SIZE_MAX), true);
    return str;
}

/* ---- memory ---- */

wchar_t *fltsim_crt_wmemcpy(wchar_t *dest, const wchar_t *src, size_t count)
{
    if (count == 0)
        return dest;
    if (dest == NULL || src == NULL) {
        report_null_destination("wmemcpy (or its source)");
        return dest;
    }
    copy_units("wmemcpy", dest, src, count);
    return dest;
}

wchar_t *fltsim_crt_wmemmove(wchar_t *dest, const wchar_t *src, size_t count)
{
    if (count == 0)
        return dest;
    if (dest == NULL || src == NULL) {
        report_null_destination("wmemmove (or its source)");
        return dest;
    }
    memmove(dest, src, count * sizeof(WCHAR));
    return dest;
}

wchar_t *fltsim_crt_wmemset(wchar_t *dest, wchar_t c, size_t count)
{
    if (count == 0)
        return dest;
    if (dest == NULL) {
        report_null_destination("wmemset");
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        dest[i] = c;
    return dest;
}

int fltsim_crt_wmemcmp(const wchar_t *buffer1, const wchar_t *buffer2, size_t count)
{
    if (count == 0)
        return 0;
    if (buffer1 == NULL || buffer2 == NULL) {
        report_null("wmemcmp", "a buffer compared");
        return 0;
    }
    for (size_t i = 0; i < count; i++)
        if (buffer1[i] != buffer2[i])
            return sign_of((int)buffer1[i] - (int)buffer2[i]);
    return 0;
}

wchar_t *fltsim_crt_wmemchr(const wchar_t *buffer, wchar_t c, size_t count)
{
    if (count == 0)
        return NULL;
    if (buffer == NULL) {
        report_null("wmemchr", "the buffer");
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        if (buffer[i] == c)
            return (wchar_t *)buffer + i;
    return NULL;
}

/* ---- the _s variants ---- */

errno_t fltsim_crt_wcscpy_s(wchar_t *dest, rsize_t dest_size, const wchar_t *src)
{
    if (dest == NULL || dest_size == 0)
        return fltsim__crt_invalid("wcscpy_s", EINVAL, "the destination is NULL or has size 0");
    if (src == NULL) {
        dest[0] = UNICODE_NULL;
        return fltsim__crt_invalid("wcscpy_s", EINVAL, "the source is NULL");
    }
    size_t n = units_until(src, dest_size);
    if (n == dest_size) {
        dest[0] = UNICODE_NULL;
        return fltsim__crt_invalid("wcscpy_s", ERANGE, "the destination is too small");
    }
    copy_units("wcscpy_s", dest, src, n + 1);
    return 0;
}

errno_t fltsim_crt_wcsncpy_s(wchar_t *strDest, size_t numberOfElements, const wchar_t *strSource,
                             size_t count)
{
    if (count == 0 && strDest == NULL && numberOfElements == 0)
        return 0;
    if (strDest == NULL || numberOfElements == 0)
        return fltsim__crt_invalid("wcsncpy_s", EINVAL, "the destination is NULL or has size 0");
    if (count == 0) {
        strDest[0] = UNICODE_NULL;
        return 0;
    }
    if (strSource == NULL) {
        strDest[0] = UNICODE_NULL;
        return fltsim__crt_invalid("wcsncpy_s", EINVAL, "the source is NULL");
    }
    if (count == _TRUNCATE) {
        size_t n = units_until(strSource, numberOfElements);
        bool truncated = n == numberOfElements;
        if (truncated)
            n = numberOfElements - 1;
        copy_units("wcsncpy_s", strDest, strSource, n);
        strDest[n] = UNICODE_NULL;
        return truncated ? STRUNCATE : 0;
    }
    size_t n = units_until(strSource, count < numberOfElements ? count : numberOfElements);
    if (n == numberOfElements) {
        strDest[0] = UNICODE_NULL;
        return fltsim__crt_invalid("wcsncpy_s", ERANGE, "the destination is too small");
    }
    copy_units("wcsncpy_s", strDest, strSource, n);
    strDest[n] = UNICODE_NULL;
    return 0;
}

/* wcscat_s and wcsncat_s: appends at most count units of src (SIZE_MAX: all;
 * _TRUNCATE: what fits) to the terminated string in dest[size]. */
static errno_t cat_s(const char *api, WCHAR *dest, size_t size, const WCHAR *src, size_t count,
                     bool truncate)
{
    if (dest == NULL || size == 0)
        return fltsim__crt_invalid(api, EINVAL, "the destination is NULL or has size 0");
    if (src == NULL && count != 0) {
        dest[0] = UNICODE_NULL;
        return fltsim__crt_invalid(api, EINVAL, "the source is NULL");
    }
    size_t at = units_until(dest, size);
    if (at == size) {
        dest[0] = UNICODE_NULL;
        return fltsim__crt_invalid(api, EINVAL,
                                   "the destination is not terminated within its size");
    }
    size_t room = size - at; /* units left, the terminator's included */
    size_t n = src != NULL ? units_until(src, count < room ? count : room) : 0;
    bool truncated = false;
    if (n == room) {
        if (!truncate) {
            dest[0] = UNICODE_NULL;
            return fltsim__crt_invalid(api, ERANGE, "the destination is too small");
        }
        n = room - 1;
        truncated = true;
    }
    copy_units(api, dest + at, src, n);
    dest[at + n] = UNICODE_NULL;
    return truncated ? STRUNCATE : 0;
}

errno_t fltsim_crt_wcscat_s(wchar_t *strDestination, size_t numberOfElements,
                            const wchar_t *strSource)
{
    return cat_s("wcscat_s", strDestination, numberOfElements, strSource, SIZE_MAX, false);
}

errno_t fltsim_crt_wcsncat_s(wchar_t *strDest, size_t numberOfElements, const wchar_t *strSource,
                             size_t count)
{
    if (count == 0 && strDest == NULL && numberOfElements == 0)
        return 0;
    return cat_s("wcsncat_s", strDest, numberOfElements, strSource, count, count == _TRUNCATE);
}

size_t fltsim_crt_wcsnlen_s(const wchar_t *str, size_t numberOfElements)
{
    /* Documented: a NULL string has length 0. */
    return str != NULL ? units_until(str, numberOfElements) : 0;
}

static errno_t map_case_s(const char *api, WCHAR *str, size_t size, bool upper)
{
    if (str == NULL)
        return fltsim__crt_invalid(api, EINVAL, "the string is NULL");
    size_t n = units_until(str, size);
    if (n == size) {
        if (size != 0)
            str[0] = UNICODE_NULL;
        return fltsim__crt_invalid(api, EINVAL, "the string is not terminated within its size");
    }
    map_case(str, n, upper);
    return 0;
}

errno_t fltsim_crt_wcslwr_s(wchar_t *str, size_t numberOfElements)
{
    return map_case_s("_wcslwr_s", str, numberOfElements, false);
}

errno_t fltsim_crt_wcsupr_s(wchar_t *str, size_t numberOfElements)
{
    return map_case_s("_wcsupr_s", str, numberOfElements, true);
}

errno_t fltsim_crt_wmemcpy_s(wchar_t *dest, rsize_t destSize, const wchar_t *src, rsize_t count)
{
    if (count == 0)
        return 0;
    if (dest == NULL)
        return fltsim__crt_invalid("wmemcpy_s", EINVAL, "the destination is NULL");
    /* On a bad source or a short destination the CRT clears the destination. */
    if (src == NULL) {
        memset(dest, 0, destSize * sizeof(WCHAR));
        return fltsim__crt_invalid("wmemcpy_s", EINVAL, "the source is NULL");
    }
    if (destSize < count) {
        memset(dest, 0, destSize * sizeof(WCHAR));
        return fltsim__crt_invalid("wmemcpy_s", ERANGE, "the destination is too small");
    }
    copy_units("wmemcpy_s", dest, src, count);
    return 0;
}

errno_t fltsim_crt_wmemmove_s(wchar_t *dest, rsize_t destSize, const wchar_t *src, rsize_t count)
{
    if (count == 0)
        return 0;
    if (dest == NULL || src == NULL)
        return fltsim__crt_invalid("wmemmove_s", EINVAL, "the destination or source is NULL");
    if (destSize < count)
        return fltsim__crt_invalid("wmemmove_s", ERANGE, "the destination is too small");
    memmove(dest, src, count * sizeof(WCHAR));
    return 0;
}

/* ---- case and class ---- */

struct wctype_range {
    WCHAR lo, hi;
};

#include "wctype_table.inc"

static bool in_ranges(wint_t c, const struct wctype_range *r, size_t count)
{
    if (c > 0xFFFF)
        return false;
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < r[mid].lo)
            hi = mid;
        else if (c > r[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

#define IN_CLASS(c, name) in_ranges(c, name##_ranges, RTL_NUMBER_OF(name##_ranges))

wint_t fltsim_crt_towupper(wint_t c)
{
    /* WEOF and anything past the BMP map to themselves. */
    return c > 0xFFFF ? c : RtlUpcaseUnicodeChar((WCHAR)c);
}

wint_t fltsim_crt_towlower(wint_t c)
{
    return c > 0xFFFF ? c : RtlDowncaseUnicodeChar((WCHAR)c);
}

int fltsim_crt_iswalpha(wint_t c)
{
    return IN_CLASS(c, alpha);
}

int fltsim_crt_iswdigit(wint_t c)
{
    return IN_CLASS(c, digit);
}

int fltsim_crt_iswxdigit(wint_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int fltsim_crt_iswalnum(wint_t c)
{
    return IN_CLASS(c, alpha) || IN_CLASS(c, digit);
}

int fltsim_crt_iswspace(wint_t c)
{
    /* Unicode's White_Space characters of the BMP. */
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

int fltsim_crt_iswupper(wint_t c)
{
    return IN_CLASS(c, upper);
}

int fltsim_crt_iswlower(wint_t c)
{
    return IN_CLASS(c, lower);
}

int fltsim_crt_iswpunct(wint_t c)
{
    return IN_CLASS(c, punct);
}

int fltsim_crt_iswcntrl(wint_t c)
{
    return c <= 0x1F || (c >= 0x7F && c <= 0x9F);
}
