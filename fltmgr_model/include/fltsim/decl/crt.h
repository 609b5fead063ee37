/*
 * The kernel C runtime's wide-character routines over a 16-bit wchar_t:
 * strings, memory, case and class, the _s variants and the wprintf family,
 * with the Microsoft CRT's semantics. Part of the WDK surface: include
 * <ntdef.h> (or any WDK header), not this file.
 *
 * Binding: glibc's versions assume a 4-byte wchar_t, so each name here is a
 * macro for fltsim's own routine (fltsim_crt_*, fltmgr_model/src/nt/crt_*.c):
 * a filter object never references the libc name, and fltsim replaces
 * nothing of glibc's for the rest of the process. glibc's <wchar.h> and
 * <wctype.h> (<cwchar>, <cwctype> in C++) are included first, so a filter
 * including them again, before or after, changes nothing; under
 * -D_FORTIFY_SOURCE their inline wrappers (__wcscpy_chk ...) keep glibc's
 * names and are never called.
 *
 * Where Microsoft's CRT calls its invalid-parameter handler (a bugcheck in
 * the kernel), fltsim makes a verifier report (rule KE), sets errno and
 * returns the documented error (EINVAL, ERANGE, -1). A NULL string where the
 * plain routines would fault is reported too and reads as an empty string
 * (or writes nothing). Case mapping is Unicode's simple mapping, as
 * RtlUpcaseUnicodeChar; wint_t is glibc's (4 bytes, not Windows' 2).
 */
#ifndef FLTSIM_WDK_CRT_H
#define FLTSIM_WDK_CRT_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C++" {
#include <cwchar>
#include <cwctype>
}
#else
#include <wchar.h>
#include <wctype.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifndef _ERRNO_T_DEFINED
#define _ERRNO_T_DEFINED
typedef int errno_t;
#endif
#ifndef _RSIZE_T_DEFINED
#define _RSIZE_T_DEFINED
typedef size_t rsize_t;
#endif
/* count of the _s routines: copy what fits and report STRUNCATE. */
#define _TRUNCATE ((size_t)-1)
/* Microsoft's errno value for a truncated _s copy (EINVAL and ERANGE are
 * the same numbers on both systems). */
#ifndef STRUNCATE
#define STRUNCATE 80
#endif
/* What _wcsicmp and _wcsnicmp return for an invalid parameter. */
#define _NLSCMPERROR 2147483647

/* ---- strings ---- */

#undef wcslen
#define wcslen fltsim_crt_wcslen
size_t fltsim_crt_wcslen(const wchar_t *str);
#undef wcsnlen
#define wcsnlen fltsim_crt_wcsnlen
size_t fltsim_crt_wcsnlen(const wchar_t *str, size_t numberOfElements);
#undef wcscpy
#define wcscpy fltsim_crt_wcscpy
wchar_t *fltsim_crt_wcscpy(wchar_t *strDestination, const wchar_t *strSource);
#undef wcsncpy
#define wcsncpy fltsim_crt_wcsncpy
wchar_t *fltsim_crt_wcsncpy(wchar_t *strDest, const wchar_t *strSource, size_t count);
#undef wcscat
#define wcscat fltsim_crt_wcscat
wchar_t *fltsim_crt_wcscat(wchar_t *strDestination, const wchar_t *strSource);
#undef wcsncat
#define wcsncat fltsim_crt_wcsncat
wchar_t *fltsim_crt_wcsncat(wchar_t *strDest, const wchar_t *strSource, size_t count);
#undef wcscmp
#define wcscmp fltsim_crt_wcscmp
int fltsim_crt_wcscmp(const wchar_t *string1, const wchar_t *string2);
#undef wcsncmp
#define wcsncmp fltsim_crt_wcsncmp
int fltsim_crt_wcsncmp(const wchar_t *string1, const wchar_t *string2, size_t count);
#undef _wcsicmp
#define _wcsicmp fltsim_crt_wcsicmp
int fltsim_crt_wcsicmp(const wchar_t *string1, const wchar_t *string2);
#undef _wcsnicmp
#define _wcsnicmp fltsim_crt_wcsnicmp
int fltsim_crt_wcsnicmp(const wchar_t *string1, const wchar_t *string2, size_t count);
#undef wcschr
#define wcschr fltsim_crt_wcschr
wchar_t *fltsim_crt_wcschr(const wchar_t *str, wchar_t c);
#undef wcsrchr
#define wcsrchr fltsim_crt_wcsrchr
wchar_t *fltsim_crt_wcsrchr(const wchar_t *str, wchar_t c);
#undef wcsstr
#define wcsstr fltsim_crt_wcsstr
wchar_t *fltsim_crt_wcsstr(const wchar_t *str, const wchar_t *strSearch);
#undef wcspbrk
#define wcspbrk fltsim_crt_wcspbrk
wchar_t *fltsim_crt_wcspbrk(const wchar_t *str, const wchar_t *strCharSet);
#undef wcsspn
#define wcsspn fltsim_crt_wcsspn
size_t fltsim_crt_wcsspn(const wchar_t *str, const wchar_t *strCharSet);
#undef wcscspn
#define wcscspn fltsim_crt_wcscspn
size_t fltsim_crt_wcscspn(const wchar_t *str, const wchar_t *strCharSet);
#undef _wcslwr
#define _wcslwr fltsim_crt_wcslwr
wchar_t *fltsim_crt_wcslwr(wchar_t *str);
#undef _wcsupr
#define _wcsupr fltsim_crt_wcsupr
wchar_t *fltsim_crt_wcsupr(wchar_t *str);

/* ---- memory (counts in wchar_t units) ---- */

#undef wmemcpy
#define wmemcpy fltsim_crt_wmemcpy
wchar_t *fltsim_crt_wmemcpy(wchar_t *dest, const wchar_t *src, size_t count);
#undef wmemmove
#define wmemmove fltsim_crt_wmemmove
wchar_t *fltsim_crt_wmemmove(wchar_t *dest, const wchar_t *src, size_t count);
#undef wmemset
#define wmemset fltsim_crt_wmemset
wchar_t *fltsim_crt_wmemset(wchar_t *dest, wchar_t c, size_t count);
#undef wmemcmp
#define wmemcmp fltsim_crt_wmemcmp
int fltsim_crt_wmemcmp(const wchar_t *buffer1, const wchar_t *buffer2, size_t count);
#undef wmemchr
#define wmemchr fltsim_crt_wmemchr
wchar_t *fltsim_crt_wmemchr(const wchar_t *buffer, wchar_t c, size_t count);

/* ---- the _s variants (sizes in wchar_t units) ---- */

#undef wcscpy_s
#define wcscpy_s fltsim_crt_wcscpy_s
errno_t fltsim_crt_wcscpy_s(wchar_t *dest, rsize_t dest_size, const wchar_t *src);
#undef wcsncpy_s
#define wcsncpy_s fltsim_crt_wcsncpy_s
errno_t fltsim_crt_wcsncpy_s(wchar_t *strDest, size_t numberOfElements, const wchar_t *strSource,
                             size_t count);
#undef wcscat_s
#define wcscat_s fltsim_crt_wcscat_s
errno_t fltsim_crt_wcscat_s(wchar_t *strDestination, size_t numberOfElements,
                            const wchar_t *strSource);
#undef wcsncat_s
#define wcsncat_s fltsim_crt_wcsncat_s
errno_t fltsim_crt_wcsncat_s(wchar_t *strDest, size_t numberOfElements, const wchar_t *strSource,
                             size_t count);
#undef wcsnlen_s
#define wcsnlen_s fltsim_crt_wcsnlen_s
size_t fltsim_crt_wcsnlen_s(const wchar_t *str, size_t numberOfElements);
#undef _wcslwr_s
#define _wcslwr_s fltsim_crt_wcslwr_s
errno_t fltsim_crt_wcslwr_s(wchar_t *str, size_t numberOfElements);
#undef _wcsupr_s
#define _wcsupr_s fltsim_crt_wcsupr_s
errno_t fltsim_crt_wcsupr_s(wchar_t *str, size_t numberOfElements);
#undef wmemcpy_s
#define wmemcpy_s fltsim_crt_wmemcpy_s
errno_t fltsim_crt_wmemcpy_s(wchar_t *dest, rsize_t destSize, const wchar_t *src, rsize_t count);
#undef wmemmove_s
#define wmemmove_s fltsim_crt_wmemmove_s
errno_t fltsim_crt_wmemmove_s(wchar_t *dest, rsize_t destSize, const wchar_t *src, rsize_t count);

/* ---- case and class (Unicode, BMP) ---- */

#undef towupper
#define towupper fltsim_crt_towupper
wint_t fltsim_crt_towupper(wint_t c);
#undef towlower
#define towlower fltsim_crt_towlower
wint_t fltsim_crt_towlower(wint_t c);
#undef iswalpha
#define iswalpha fltsim_crt_iswalpha
int fltsim_crt_iswalpha(wint_t c);
#undef iswdigit
#define iswdigit fltsim_crt_iswdigit
int fltsim_crt_iswdigit(wint_t c);
#undef iswxdigit
#define iswxdigit fltsim_crt_iswxdigit
int fltsim_crt_iswxdigit(wint_t c);
#undef iswalnum
#define iswalnum fltsim_crt_iswalnum
int fltsim_crt_iswalnum(wint_t c);
#undef iswspace
#define iswspace fltsim_crt_iswspace
int fltsim_crt_iswspace(wint_t c);
#undef iswupper
#define iswupper fltsim_crt_iswupper
int fltsim_crt_iswupper(wint_t c);
#undef iswlower
#define iswlower fltsim_crt_iswlower
int fltsim_crt_iswlower(wint_t c);
#undef iswpunct
#define iswpunct fltsim_crt_iswpunct
int fltsim_crt_iswpunct(wint_t c);
#undef iswcntrl
#define iswcntrl fltsim_crt_iswcntrl
int fltsim_crt_iswcntrl(wint_t c);

/* ---- formatted output (the format is UTF-16: %s is wide, %S and %hs narrow,
 * %wZ a UNICODE_STRING, %Z an ANSI_STRING, 'l' 32 bits, I64 64 bits) ---- */

#undef _snwprintf
#define _snwprintf fltsim_crt_snwprintf
int fltsim_crt_snwprintf(wchar_t *buffer, size_t count, const wchar_t *format, ...);
#undef _vsnwprintf
#define _vsnwprintf fltsim_crt_vsnwprintf
int fltsim_crt_vsnwprintf(wchar_t *buffer, size_t count, const wchar_t *format, va_list argptr);
#undef swprintf
#define swprintf fltsim_crt_swprintf
int fltsim_crt_swprintf(wchar_t *buffer, size_t count, const wchar_t *format, ...);
#undef vswprintf
#define vswprintf fltsim_crt_vswprintf
int fltsim_crt_vswprintf(wchar_t *buffer, size_t count, const wchar_t *format, va_list argptr);
#undef swprintf_s
#define swprintf_s fltsim_crt_swprintf_s
int fltsim_crt_swprintf_s(wchar_t *buffer, size_t sizeOfBuffer, const wchar_t *format, ...);
#undef vswprintf_s
#define vswprintf_s fltsim_crt_vswprintf_s
int fltsim_crt_vswprintf_s(wchar_t *buffer, size_t numberOfElements, const wchar_t *format,
                           va_list argptr);
#undef _snwprintf_s
#define _snwprintf_s fltsim_crt_snwprintf_s
int fltsim_crt_snwprintf_s(wchar_t *buffer, size_t sizeOfBuffer, size_t count,
                           const wchar_t *format, ...);
#undef _vsnwprintf_s
#define _vsnwprintf_s fltsim_crt_vsnwprintf_s
int fltsim_crt_vsnwprintf_s(wchar_t *buffer, size_t sizeOfBuffer, size_t count,
                            const wchar_t *format, va_list argptr);
#undef _scwprintf
#define _scwprintf fltsim_crt_scwprintf
int fltsim_crt_scwprintf(const wchar_t *format, ...);
#undef _vscwprintf
#define _vscwprintf fltsim_crt_vscwprintf
int fltsim_crt_vscwprintf(const wchar_t *format, va_list argptr);

#ifdef __cplusplus
}

/* std::wcslen and friends (and libstdc++'s own uses, std::to_wstring's
 * std::vswprintf) name the same routines. */
namespace std
{
using ::fltsim_crt_iswalnum;
using ::fltsim_crt_iswalpha;
using ::fltsim_crt_iswcntrl;
using ::fltsim_crt_iswdigit;
using ::fltsim_crt_iswlower;
using ::fltsim_crt_iswpunct;
using ::fltsim_crt_iswspace;
using ::fltsim_crt_iswupper;
using ::fltsim_crt_iswxdigit;
using ::fltsim_crt_scwprintf;
using ::fltsim_crt_snwprintf;
using ::fltsim_crt_snwprintf_s;
using ::fltsim_crt_swprintf;
using ::fltsim_crt_swprintf_s;
using ::fltsim_crt_towlower;
using ::fltsim_crt_towupper;
using ::fltsim_crt_vscwprintf;
using ::fltsim_crt_vsnwprintf;
using ::fltsim_crt_vsnwprintf_s;
using ::fltsim_crt_vswprintf;
using ::fltsim_crt_vswprintf_s;
using ::fltsim_crt_wcscat;
using ::fltsim_crt_wcscat_s;
using ::fltsim_crt_wcschr;
using ::fltsim_crt_wcscmp;
using ::fltsim_crt_wcscpy;
using ::fltsim_crt_wcscpy_s;
using ::fltsim_crt_wcscspn;
using ::fltsim_crt_wcsicmp;
using ::fltsim_crt_wcslen;
using ::fltsim_crt_wcslwr;
using ::fltsim_crt_wcslwr_s;
using ::fltsim_crt_wcsncat;
using ::fltsim_crt_wcsncat_s;
using ::fltsim_crt_wcsncmp;
using ::fltsim_crt_wcsncpy;
using ::fltsim_crt_wcsncpy_s;
using ::fltsim_crt_wcsnicmp;
using ::fltsim_crt_wcsnlen;
using ::fltsim_crt_wcsnlen_s;
using ::fltsim_crt_wcspbrk;
using ::fltsim_crt_wcsrchr;
using ::fltsim_crt_wcsspn;
using ::fltsim_crt_wcsstr;
using ::fltsim_crt_wcsupr;
using ::fltsim_crt_wcsupr_s;
using ::fltsim_crt_wmemchr;
using ::fltsim_crt_wmemcmp;
using ::fltsim_crt_wmemcpy;
using ::fltsim_crt_wmemcpy_s;
using ::fltsim_crt_wmemmove;
using ::fltsim_crt_wmemmove_s;
using ::fltsim_crt_wmemset;
} // namespace std
#endif

#endif /* FLTSIM_WDK_CRT_H */
