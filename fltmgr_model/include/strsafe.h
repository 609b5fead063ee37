/*
 * strsafe.h for fltsim's user-mode programs: the SDK's bounded string
 * routines (StringCch* and StringCb*, A and 16-bit W, with their Ex forms)
 * returning HRESULTs: S_OK, STRSAFE_E_INSUFFICIENT_BUFFER when the result
 * was truncated, STRSAFE_E_INVALID_PARAMETER for a bad size or flag. They
 * are ntstrsafe's routines under their user-mode names (one engine,
 * fltmgr_model/src/nt/strsafe.c; the wrappers are src/win32/strsafe_user.c):
 * the same checks, truncation and fill flags; Printf formats are the CRT's.
 * Without UNICODE the unsuffixed names are the A routines, as in the SDK.
 */
#ifndef FLTSIM_STRSAFE_H
#define FLTSIM_STRSAFE_H

#include <stdarg.h>

#include "ntstrsafe.h" /* the STRSAFE_* flags, shared */
#include "fltsim/decl/winerror.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef char *STRSAFE_LPSTR;
typedef const char *STRSAFE_LPCSTR;
typedef WCHAR *STRSAFE_LPWSTR;
typedef const WCHAR *STRSAFE_LPCWSTR;
typedef const WCHAR *STRSAFE_LPCUWSTR;

#define STRSAFE_MAX_CCH 2147483647
#define STRSAFE_MAX_LENGTH (STRSAFE_MAX_CCH - 1)

#define STRSAFE_E_INSUFFICIENT_BUFFER ((HRESULT)0x8007007AL)
#define STRSAFE_E_INVALID_PARAMETER ((HRESULT)0x80070057L)
#define STRSAFE_E_END_OF_FILE ((HRESULT)0x80070026L)

/* Each routine twice, char and WCHAR: FLTSIM_STRSAFE_DECL(A, char) ... */
#define FLTSIM_STRSAFE_DECL(S, P, PC)                                                              \
    HRESULT StringCchCopy##S(P pszDest, size_t cchDest, PC pszSrc);                                \
    HRESULT StringCchCopyEx##S(P pszDest, size_t cchDest, PC pszSrc, P *ppszDestEnd,               \
                               size_t *pcchRemaining, DWORD dwFlags);                              \
    HRESULT StringCchCopyN##S(P pszDest, size_t cchDest, PC pszSrc, size_t cchToCopy);             \
    HRESULT StringCchCopyNEx##S(P pszDest, size_t cchDest, PC pszSrc, size_t cchToCopy,            \
                                P *ppszDestEnd, size_t *pcchRemaining, DWORD dwFlags);             \
    HRESULT StringCchCat##S(P pszDest, size_t cchDest, PC pszSrc);                                 \
    HRESULT StringCchCatEx##S(P pszDest, size_t cchDest, PC pszSrc, P *ppszDestEnd,                \
                              size_t *pcchRemaining, DWORD dwFlags);                               \
    HRESULT StringCchCatN##S(P pszDest, size_t cchDest, PC pszSrc, size_t cchToAppend);            \
    HRESULT StringCchCatNEx##S(P pszDest, size_t cchDest, PC pszSrc, size_t cchToAppend,           \
                               P *ppszDestEnd, size_t *pcchRemaining, DWORD dwFlags);              \
    HRESULT StringCchPrintf##S(P pszDest, size_t cchDest, PC pszFormat, ...);                      \
    HRESULT StringCchPrintfEx##S(P pszDest, size_t cchDest, P *ppszDestEnd, size_t *pcchRemaining, \
                                 DWORD dwFlags, PC pszFormat, ...);                                \
    HRESULT StringCchVPrintf##S(P pszDest, size_t cchDest, PC pszFormat, va_list argList);         \
    HRESULT StringCchVPrintfEx##S(P pszDest, size_t cchDest, P *ppszDestEnd,                       \
                                  size_t *pcchRemaining, DWORD dwFlags, PC pszFormat,              \
                                  va_list argList);                                                \
    HRESULT StringCchLength##S(PC psz, size_t cchMax, size_t *pcchLength);                         \
    HRESULT StringCbCopy##S(P pszDest, size_t cbDest, PC pszSrc);                                  \
    HRESULT StringCbCopyEx##S(P pszDest, size_t cbDest, PC pszSrc, P *ppszDestEnd,                 \
                              size_t *pcbRemaining, DWORD dwFlags);                                \
    HRESULT StringCbCopyN##S(P pszDest, size_t cbDest, PC pszSrc, size_t cbToCopy);                \
    HRESULT StringCbCopyNEx##S(P pszDest, size_t cbDest, PC pszSrc, size_t cbToCopy,               \
                               P *ppszDestEnd, size_t *pcbRemaining, DWORD dwFlags);               \
    HRESULT StringCbCat##S(P pszDest, size_t cbDest, PC pszSrc);                                   \
    HRESULT StringCbCatEx##S(P pszDest, size_t cbDest, PC pszSrc, P *ppszDestEnd,                  \
                             size_t *pcbRemaining, DWORD dwFlags);                                 \
    HRESULT StringCbCatN##S(P pszDest, size_t cbDest, PC pszSrc, size_t cbToAppend);               \
    HRESULT StringCbCatNEx##S(P pszDest, size_t cbDest, PC pszSrc, size_t cbToAppend,              \
                              P *ppszDestEnd, size_t *pcbRemaining, DWORD dwFlags);                \
    HRESULT StringCbPrintf##S(P pszDest, size_t cbDest, PC pszFormat, ...);                        \
    HRESULT StringCbPrintfEx##S(P pszDest, size_t cbDest, P *ppszDestEnd, size_t *pcbRemaining,    \
                                DWORD dwFlags, PC pszFormat, ...);                                 \
    HRESULT StringCbVPrintf##S(P pszDest, size_t cbDest, PC pszFormat, va_list argList);           \
    HRESULT StringCbVPrintfEx##S(P pszDest, size_t cbDest, P *ppszDestEnd, size_t *pcbRemaining,   \
                                 DWORD dwFlags, PC pszFormat, va_list argList);                    \
    HRESULT StringCbLength##S(PC psz, size_t cbMax, size_t *pcbLength);

FLTSIM_STRSAFE_DECL(A, STRSAFE_LPSTR, STRSAFE_LPCSTR)
FLTSIM_STRSAFE_DECL(W, STRSAFE_LPWSTR, STRSAFE_LPCWSTR)

#ifdef UNICODE
#define FLTSIM_STRSAFE_T(name) name##W
#else
#define FLTSIM_STRSAFE_T(name) name##A
#endif
#define StringCchCopy FLTSIM_STRSAFE_T(StringCchCopy)
#define StringCchCopyEx FLTSIM_STRSAFE_T(StringCchCopyEx)
#define StringCchCopyN FLTSIM_STRSAFE_T(StringCchCopyN)
#define StringCchCopyNEx FLTSIM_STRSAFE_T(StringCchCopyNEx)
#define StringCchCat FLTSIM_STRSAFE_T(StringCchCat)
#define StringCchCatEx FLTSIM_STRSAFE_T(StringCchCatEx)
#define StringCchCatN FLTSIM_STRSAFE_T(StringCchCatN)
#define StringCchCatNEx FLTSIM_STRSAFE_T(StringCchCatNEx)
#define StringCchPrintf FLTSIM_STRSAFE_T(StringCchPrintf)
#define StringCchPrintfEx FLTSIM_STRSAFE_T(StringCchPrintfEx)
#define StringCchVPrintf FLTSIM_STRSAFE_T(StringCchVPrintf)
#define StringCchVPrintfEx FLTSIM_STRSAFE_T(StringCchVPrintfEx)
#define StringCchLength FLTSIM_STRSAFE_T(StringCchLength)
#define StringCbCopy FLTSIM_STRSAFE_T(StringCbCopy)
#define StringCbCopyEx FLTSIM_STRSAFE_T(StringCbCopyEx)
#define StringCbCopyN FLTSIM_STRSAFE_T(StringCbCopyN)
#define StringCbCopyNEx FLTSIM_STRSAFE_T(StringCbCopyNEx)
#define StringCbCat FLTSIM_STRSAFE_T(StringCbCat)
#define StringCbCatEx FLTSIM_STRSAFE_T(StringCbCatEx)
#define StringCbCatN FLTSIM_STRSAFE_T(StringCbCatN)
#define StringCbCatNEx FLTSIM_STRSAFE_T(StringCbCatNEx)
#define StringCbPrintf FLTSIM_STRSAFE_T(StringCbPrintf)
#define StringCbPrintfEx FLTSIM_STRSAFE_T(StringCbPrintfEx)
#define StringCbVPrintf FLTSIM_STRSAFE_T(StringCbVPrintf)
#define StringCbVPrintfEx FLTSIM_STRSAFE_T(StringCbVPrintfEx)
#define StringCbLength FLTSIM_STRSAFE_T(StringCbLength)

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_STRSAFE_H */
