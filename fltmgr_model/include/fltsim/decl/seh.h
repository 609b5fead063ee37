/*
 * Raising exceptions and probing user buffers: ExRaiseStatus and its family,
 * ProbeForRead/ProbeForWrite, and the bounds of the user address range they
 * check against. The __try statements that handle what these raise are
 * excpt.h's. Part of the WDK surface: include <wdm.h>, not this file.
 */
#ifndef FLTSIM_WDK_SEH_H
#define FLTSIM_WDK_SEH_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the user address range ----
 *
 * fltsim runs in one host process, whose memory is all "user" memory by
 * Windows' rules: on x86-64 Linux every process address lies below
 * MM_USER_PROBE_ADDRESS, which has Windows x64's value (0x7FFF'FFFF'0000).
 * Pool blocks are host heap too, so probing a kernel buffer does not raise as
 * it does on Windows. Other 64-bit hosts use the top of a 48-bit address
 * space, 32-bit hosts 0xBFFF'0000. */
extern PVOID MmHighestUserAddress;
extern PVOID MmSystemRangeStart;
extern ULONG_PTR MmUserProbeAddress;
#define MM_HIGHEST_USER_ADDRESS MmHighestUserAddress
#define MM_SYSTEM_RANGE_START MmSystemRangeStart
#define MM_USER_PROBE_ADDRESS MmUserProbeAddress
#define MM_LOWEST_USER_ADDRESS ((PVOID)(LONG_PTR)0x10000)

/* ---- raising ----
 *
 * Each raises a noncontinuable software exception that the nearest enclosing
 * __try of the calling thread handles. One that no __try handles in a filter's
 * callback is reported (SEH) and ends that callback (README "Structured
 * exception handling"); outside any callback it ends the process. */
__attribute__((noreturn)) VOID ExRaiseStatus(NTSTATUS Status);
__attribute__((noreturn)) VOID ExRaiseAccessViolation(VOID);
__attribute__((noreturn)) VOID ExRaiseDatatypeMisalignment(VOID);

/* Raise STATUS_DATATYPE_MISALIGNMENT when Address is not a multiple of
 * Alignment, STATUS_ACCESS_VIOLATION when [Address, Address + Length) wraps
 * or reaches MM_USER_PROBE_ADDRESS; nothing when Length is 0. ProbeForWrite
 * also raises STATUS_ACCESS_VIOLATION for a range that touches the first
 * 64 KB (MM_LOWEST_USER_ADDRESS), which is never mapped, where Windows'
 * write to each page would fault. Neither touches the buffer. */
VOID ProbeForRead(const volatile VOID *Address, SIZE_T Length, ULONG Alignment);
VOID ProbeForWrite(volatile VOID *Address, SIZE_T Length, ULONG Alignment);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_SEH_H */
