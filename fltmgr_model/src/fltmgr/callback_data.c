/*
 * Routines that read or mark the callback data of an operation (SPEC 6.2,
 * 6.7): the dirty flag, FltIsOperationSynchronous and the requestor's process
 * (Data->Thread's process object and id).
 * The callback data is the first member of the model's operation, which is how
 * these routines find the operation and check that the pointer is one fltsim
 * handed out.
 */
#include "model_internal.h"

struct fltsim_op *fltsim__op_from_data(PFLT_CALLBACK_DATA data)
{
    if (data == NULL)
        return NULL;
    struct fltsim_op *op = (struct fltsim_op *)data;
    return op->magic == FLTSIM_MAGIC_OP ? op : NULL;
}

static bool valid_data(PFLT_CALLBACK_DATA data, const char *api)
{
    if (fltsim__op_from_data(data) != NULL)
        return true;
    struct fltsim_tls *t = fltsim__tls();
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, "V16", "6.1",
                       "%s(%p): not the callback data of an operation in flight", api,
                       (void *)data);
    else
        fprintf(stderr, "fltsim: %s(%p): not the callback data of an operation in flight\n", api,
                (void *)data);
    return false;
}

void FltSetCallbackDataDirty(PFLT_CALLBACK_DATA Data)
{
    if (valid_data(Data, "FltSetCallbackDataDirty"))
        Data->Flags |= FLTFL_CALLBACK_DATA_DIRTY;
}

void FltClearCallbackDataDirty(PFLT_CALLBACK_DATA Data)
{
    if (valid_data(Data, "FltClearCallbackDataDirty"))
        Data->Flags &= ~FLTFL_CALLBACK_DATA_DIRTY;
}

BOOLEAN FltIsCallbackDataDirty(PFLT_CALLBACK_DATA Data)
{
    if (!valid_data(Data, "FltIsCallbackDataDirty"))
        return FALSE;
    return (Data->Flags & FLTFL_CALLBACK_DATA_DIRTY) ? TRUE : FALSE;
}

BOOLEAN FltIsOperationSynchronous(PFLT_CALLBACK_DATA CallbackData)
{
    if (!valid_data(CallbackData, "FltIsOperationSynchronous"))
        return FALSE;
    /* The I/O manager's view (SPEC 6.7), not whether a filter synchronized. */
    if (!FLT_IS_IRP_OPERATION(CallbackData))
        return TRUE;
    PFLT_IO_PARAMETER_BLOCK iopb = CallbackData->Iopb;
    bool rw = iopb->MajorFunction == IRP_MJ_READ || iopb->MajorFunction == IRP_MJ_WRITE;
    if (rw && (iopb->IrpFlags & IRP_PAGING_IO))
        return (iopb->IrpFlags & IRP_SYNCHRONOUS_PAGING_IO) ? TRUE : FALSE;
    if (iopb->TargetFileObject != NULL && (iopb->TargetFileObject->Flags & FO_SYNCHRONOUS_IO))
        return TRUE;
    if (iopb->IrpFlags & IRP_SYNCHRONOUS_API)
        return TRUE;
    if (iopb->MajorFunction == IRP_MJ_DEVICE_CONTROL ||
        iopb->MajorFunction == IRP_MJ_INTERNAL_DEVICE_CONTROL)
        return METHOD_FROM_CTL_CODE(iopb->Parameters.DeviceIoControl.Common.IoControlCode) ==
                       METHOD_BUFFERED
                   ? TRUE
                   : FALSE;
    if (iopb->MajorFunction == IRP_MJ_FILE_SYSTEM_CONTROL &&
        (iopb->MinorFunction == IRP_MN_USER_FS_REQUEST ||
         iopb->MinorFunction == IRP_MN_KERNEL_CALL))
        return METHOD_FROM_CTL_CODE(iopb->Parameters.FileSystemControl.Common.FsControlCode) ==
                       METHOD_BUFFERED
                   ? TRUE
                   : FALSE;
    return FALSE;
}

ULONG FltGetRequestorProcessId(PFLT_CALLBACK_DATA CallbackData)
{
    if (!valid_data(CallbackData, "FltGetRequestorProcessId"))
        return 0;
    return fltsim_thread_object_process_id(CallbackData->Thread);
}

HANDLE FltGetRequestorProcessIdEx(PFLT_CALLBACK_DATA CallbackData)
{
    return (HANDLE)(ULONG_PTR)FltGetRequestorProcessId(CallbackData);
}

PEPROCESS FltGetRequestorProcess(PFLT_CALLBACK_DATA CallbackData)
{
    if (!valid_data(CallbackData, "FltGetRequestorProcess") || CallbackData->Thread == NULL)
        return NULL;
    return IoThreadToProcess(CallbackData->Thread);
}
