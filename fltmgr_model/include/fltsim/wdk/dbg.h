/*
 * Debug output and assertions.
 * Part of the WDK surface: include <wdm.h>, not this file.
 */
#ifndef FLTSIM_WDK_DBG_H
#define FLTSIM_WDK_DBG_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- debug output (%wZ, %ws, %S, %Z understood; 'l' means 32 bits, as on Windows) ---- */

#define DPFLTR_ERROR_LEVEL 0
#define DPFLTR_WARNING_LEVEL 1
#define DPFLTR_TRACE_LEVEL 2
#define DPFLTR_INFO_LEVEL 3
#define DPFLTR_MASK 0x80000000
#define DPFLTR_IHVDRIVER_ID 77

ULONG DbgPrint(PCSTR Format, ...);
ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...);
ULONG vDbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, va_list arglist);
#if defined(DBG) && DBG
#define KdPrint(x) DbgPrint x
#define KdPrintEx(x) DbgPrintEx x
#else
#define KdPrint(x) ((void)0)
#define KdPrintEx(x) ((void)0)
#endif
#define KdBreakPoint() ((void)0)

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_DBG_H */
