/*
 * strsafe.h's user-mode routines (StringCch* and StringCb*, A and W, plain
 * and Ex): each is ntstrsafe's routine of the same name with Rtl before it
 * (fltmgr_model/src/nt/strsafe.c: one engine, the same checks, truncation
 * and fill flags), its NTSTATUS turned into the HRESULT user-mode strsafe
 * returns.
 */
#include <strsafe.h>

#include "win32_internal.h"

/* STATUS_BUFFER_OVERFLOW is STRSAFE_E_INSUFFICIENT_BUFFER and
 * STATUS_INVALID_PARAMETER STRSAFE_E_INVALID_PARAMETER, as the SDK's
 * strsafe.h returns them; ntstrsafe returns nothing else. */
static HRESULT hr_of(NTSTATUS status)
{
    switch ((ULONG)status) {
    case (ULONG)STATUS_SUCCESS:
        return S_OK;
    case (ULONG)STATUS_BUFFER_OVERFLOW:
        return STRSAFE_E_INSUFFICIENT_BUFFER;
    case (ULONG)STATUS_INVALID_PARAMETER:
        return STRSAFE_E_INVALID_PARAMETER;
    default:
        return (HRESULT)((ULONG)status | 0x10000000u); /* HRESULT_FROM_NT */
    }
}

/* The routines of one width S (A or W) and unit (Cch or Cb). */
#define FLTSIM_STRSAFE_DEFINE(U, S, P, PC)                                                         \
    HRESULT String##U##Copy##S(P d, size_t n, PC s)                                                \
    {                                                                                              \
        return hr_of(RtlString##U##Copy##S(d, n, s));                                              \
    }                                                                                              \
    HRESULT String##U##CopyEx##S(P d, size_t n, PC s, P *end, size_t *rem, DWORD f)                \
    {                                                                                              \
        return hr_of(RtlString##U##CopyEx##S(d, n, s, end, rem, f));                               \
    }                                                                                              \
    HRESULT String##U##CopyN##S(P d, size_t n, PC s, size_t m)                                     \
    {                                                                                              \
        return hr_of(RtlString##U##CopyN##S(d, n, s, m));                                          \
    }                                                                                              \
    HRESULT String##U##CopyNEx##S(P d, size_t n, PC s, size_t m, P *end, size_t *rem, DWORD f)     \
    {                                                                                              \
        return hr_of(RtlString##U##CopyNEx##S(d, n, s, m, end, rem, f));                           \
    }                                                                                              \
    HRESULT String##U##Cat##S(P d, size_t n, PC s)                                                 \
    {                                                                                              \
        return hr_of(RtlString##U##Cat##S(d, n, s));                                               \
    }                                                                                              \
    HRESULT String##U##CatEx##S(P d, size_t n, PC s, P *end, size_t *rem, DWORD f)                 \
    {                                                                                              \
        return hr_of(RtlString##U##CatEx##S(d, n, s, end, rem, f));                                \
    }                                                                                              \
    HRESULT String##U##CatN##S(P d, size_t n, PC s, size_t m)                                      \
    {                                                                                              \
        return hr_of(RtlString##U##CatN##S(d, n, s, m));                                           \
    }                                                                                              \
    HRESULT String##U##CatNEx##S(P d, size_t n, PC s, size_t m, P *end, size_t *rem, DWORD f)      \
    {                                                                                              \
        return hr_of(RtlString##U##CatNEx##S(d, n, s, m, end, rem, f));                            \
    }                                                                                              \
    HRESULT String##U##VPrintf##S(P d, size_t n, PC fmt, va_list ap)                               \
    {                                                                                              \
        return hr_of(RtlString##U##VPrintf##S(d, n, fmt, ap));                                     \
    }                                                                                              \
    HRESULT String##U##VPrintfEx##S(P d, size_t n, P *end, size_t *rem, DWORD f, PC fmt,           \
                                    va_list ap)                                                    \
    {                                                                                              \
        return hr_of(RtlString##U##VPrintfEx##S(d, n, end, rem, f, fmt, ap));                      \
    }                                                                                              \
    HRESULT String##U##Printf##S(P d, size_t n, PC fmt, ...)                                       \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        NTSTATUS status = RtlString##U##VPrintf##S(d, n, fmt, ap);                                 \
        va_end(ap);                                                                                \
        return hr_of(status);                                                                      \
    }                                                                                              \
    HRESULT String##U##PrintfEx##S(P d, size_t n, P *end, size_t *rem, DWORD f, PC fmt, ...)       \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        NTSTATUS status = RtlString##U##VPrintfEx##S(d, n, end, rem, f, fmt, ap);                  \
        va_end(ap);                                                                                \
        return hr_of(status);                                                                      \
    }                                                                                              \
    HRESULT String##U##Length##S(PC s, size_t max, size_t *len)                                    \
    {                                                                                              \
        return hr_of(RtlString##U##Length##S(s, max, len));                                        \
    }

FLTSIM_STRSAFE_DEFINE(Cch, A, STRSAFE_LPSTR, STRSAFE_LPCSTR)
FLTSIM_STRSAFE_DEFINE(Cb, A, STRSAFE_LPSTR, STRSAFE_LPCSTR)
FLTSIM_STRSAFE_DEFINE(Cch, W, STRSAFE_LPWSTR, STRSAFE_LPCWSTR)
FLTSIM_STRSAFE_DEFINE(Cb, W, STRSAFE_LPWSTR, STRSAFE_LPCWSTR)
