/*
 * FltMgr's support routines that are about neither an operation nor an
 * object: FltGetIrpName, the printable name of an operation code, and
 * FltGetRoutineAddress, the lookup in FltMgr's export table (the table and
 * its search are nt/routines.c's: the Flt routines fltsim implements).
 */
#include "model_internal.h"

PCHAR FltGetIrpName(UCHAR IrpMajorCode)
{
    /* IRP_MJ_* and FltMgr's own codes (fast I/O, FS-filter callbacks). */
    const char *name = fltsim_major_name(IrpMajorCode);
    return (PCHAR)(name != NULL ? name : "<invalid IRP code>");
}

PVOID FltGetRoutineAddress(PCSTR FltMgrRoutineName)
{
    fltsim__check_irql(fltsim__tls()->sys, DISPATCH_LEVEL, "FltGetRoutineAddress");
    if (FltMgrRoutineName == NULL) {
        struct fltsim_tls *t = fltsim__tls();
        if (t->sys != NULL)
            fltsim__report(t->sys, t->filter, NULL, t->op, "KE", "-",
                           "FltGetRoutineAddress(NULL): FltMgrRoutineName is required (Windows "
                           "faults on NULL)");
        return NULL;
    }
    return fltsim__routine_address(FltMgrRoutineName, true);
}
