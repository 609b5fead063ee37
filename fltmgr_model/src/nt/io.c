/*
 * The Io routines filter code calls that are not about a request: the
 * thread's top-level IRP (IoGetTopLevelIrp, IoSetTopLevelIrp; SPEC 6.6) and
 * its stack (IoGetStackLimits, IoGetRemainingStackSize), and the I/O
 * manager's cancel spin lock (one for the process, as Windows has one for
 * the machine; FltMgr's own cancel paths do not hold it). The values are
 * per-thread state, exec/thread.c's; requests themselves and file objects
 * are the sim's I/O manager's (sim/io).
 */
#include "exec/executor.h"

PIRP IoGetTopLevelIrp(void)
{
    return fltsim__tls()->top_level_irp;
}

void IoSetTopLevelIrp(PIRP Irp)
{
    fltsim__tls()->top_level_irp = Irp;
}

VOID IoGetStackLimits(PULONG_PTR LowLimit, PULONG_PTR HighLimit)
{
    fltsim__stack_limits(LowLimit, HighLimit);
}

ULONG_PTR IoGetRemainingStackSize(VOID)
{
    ULONG_PTR low, high;
    fltsim__stack_limits(&low, &high);
    return (ULONG_PTR)__builtin_frame_address(0) - low;
}

/* The cancel spin lock: legacy drivers guard their cancel routines with it;
 * NameChanger takes it around its own cancel bookkeeping. */
static KSPIN_LOCK cancel_lock;

VOID IoAcquireCancelSpinLock(PKIRQL Irql)
{
    *Irql = KeAcquireSpinLockRaiseToDpc(&cancel_lock);
}

VOID IoReleaseCancelSpinLock(KIRQL Irql)
{
    KeReleaseSpinLock(&cancel_lock, Irql);
}
