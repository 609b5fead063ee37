/*
 * The Io routines filter code calls that are not about a request: the
 * thread's top-level IRP (IoGetTopLevelIrp, IoSetTopLevelIrp; SPEC 6.6). The
 * value is per-thread state, exec/thread.c's; requests themselves and file
 * objects are the sim's I/O manager's (sim/io).
 */
#include "model_internal.h"

PIRP IoGetTopLevelIrp(void)
{
    return fltsim__tls()->top_level_irp;
}

void IoSetTopLevelIrp(PIRP Irp)
{
    fltsim__tls()->top_level_irp = Irp;
}
