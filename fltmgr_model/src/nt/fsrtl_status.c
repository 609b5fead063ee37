/*
 * FsRtl's exception-status routines (ntifs.h): FsRtlIsNtstatusExpected, which
 * a file system's exception filter asks whether an exception code is one it
 * may handle and turn into the request's status, and FsRtlNormalizeNtstatus,
 * which turns a code it may not into a generic one. The codes that are not
 * expected are the processor faults that mean a bug in kernel code rather
 * than a bad request: an access violation, misaligned data, an illegal or
 * misaligned instruction (NT's list since NT 4.0).
 */
#include "model_internal.h"

BOOLEAN FsRtlIsNtstatusExpected(NTSTATUS Exception)
{
    switch (Exception) {
    case STATUS_DATATYPE_MISALIGNMENT:
    case STATUS_ACCESS_VIOLATION:
    case STATUS_ILLEGAL_INSTRUCTION:
    case STATUS_INSTRUCTION_MISALIGNMENT:
        return FALSE;
    default:
        return TRUE;
    }
}

NTSTATUS FsRtlNormalizeNtstatus(NTSTATUS Exception, NTSTATUS GenericException)
{
    return FsRtlIsNtstatusExpected(Exception) ? Exception : GenericException;
}
