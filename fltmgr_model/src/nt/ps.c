/*
 * The calling process and thread (Ps, and Ke's KeGetCurrentThread, which
 * answers the same): PsGetCurrentProcessId, PsGetCurrentThreadId,
 * PsGetCurrentThread. The identities and the ETHREAD objects behind them are
 * per-thread state, exec/thread.c's (fltsim_thread_current and friends).
 */
#include "model_internal.h"

HANDLE PsGetCurrentProcessId(void)
{
    return (HANDLE)(ULONG_PTR)fltsim_thread_process_id();
}

HANDLE PsGetCurrentThreadId(void)
{
    return (HANDLE)(ULONG_PTR)fltsim_thread_id();
}

PKTHREAD KeGetCurrentThread(void)
{
    return fltsim_thread_current();
}

PETHREAD PsGetCurrentThread(void)
{
    return fltsim_thread_current();
}
