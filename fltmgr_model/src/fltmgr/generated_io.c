/*
 * I/O a minifilter initiates (SPEC 2.3, 4.5, 6.2): FltReadFile(Ex) and
 * FltWriteFile(Ex) send a read or write that starts below the initiating
 * instance (synchronously, or with a CallbackRoutine through
 * callback_data_own.c), and FltCancelFileOpen closes, below the calling instance, a file
 * the file system opened for a create whose post is running. The requests go
 * through the dispatch engine (dispatch.c) like any other, marked
 * FLTFL_CALLBACK_DATA_GENERATED_IO; file objects and handles stay the I/O
 * manager's business (sim/io/iomgr.c), which must not make a handle for a
 * cancelled open.
 */
#include <string.h>

#include "filter_io_internal.h"

#define KNOWN_IO_FLAGS                                                                             \
    (FLTFL_IO_OPERATION_NON_CACHED | FLTFL_IO_OPERATION_PAGING |                                   \
     FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET | FLTFL_IO_OPERATION_SYNCHRONOUS_PAGING)

/* The byte offset a read or write goes to: the given one, or the current
 * byte offset of a synchronous file object (NULL, or
 * FILE_USE_FILE_POINTER_POSITION). */
static NTSTATUS resolve_offset(const char *api, PFILE_OBJECT fo, const LARGE_INTEGER *given,
                               bool write, LARGE_INTEGER *out)
{
    if (given == NULL ||
        (given->HighPart == -1 && given->LowPart == FILE_USE_FILE_POINTER_POSITION)) {
        if (!(fo->Flags & FO_SYNCHRONOUS_IO))
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "%s: ByteOffset is required for a file object not opened for "
                                "synchronous I/O",
                                api);
        *out = fo->CurrentByteOffset;
        return STATUS_SUCCESS;
    }
    *out = *given;
    if (out->QuadPart < 0 &&
        !(write && out->HighPart == -1 && out->LowPart == FILE_WRITE_TO_END_OF_FILE))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: ByteOffset %lld is negative", api,
                            (long long)out->QuadPart);
    return STATUS_SUCCESS;
}

/* FltReadFile(Ex) and FltWriteFile(Ex). With a CallbackRoutine the I/O is
 * asynchronous (callback_data_own.c sends it): STATUS_PENDING, or the final
 * status when it completed at once; the routine runs once either way. */
static NTSTATUS read_write(const char *api, bool write, PFLT_INSTANCE inst, PFILE_OBJECT fo,
                           PLARGE_INTEGER offset, ULONG length, PVOID buffer,
                           FLT_IO_OPERATION_FLAGS flags, PULONG bytes,
                           PFLT_COMPLETED_ASYNC_IO_CALLBACK callback, PVOID callback_context,
                           PULONG key, PMDL mdl)
{
    if (bytes != NULL)
        *bytes = 0;
    if (!fltsim__is_instance(inst))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: InitiatingInstance is not an instance",
                            api);
    fltsim_system *sys = inst->volume->sys;
    /* Synchronous I/O is waited for: PASSIVE_LEVEL (SPEC 10, V28); the
     * asynchronous form may be issued up to APC_LEVEL. */
    KIRQL ceiling = callback != NULL ? APC_LEVEL : PASSIVE_LEVEL;
    if (fltsim__tls()->irql > ceiling) {
        fltsim__check_irql(sys, ceiling, api);
        return fltsim__fail(STATUS_INVALID_DEVICE_STATE, "%s: called above %s", api,
                            ceiling == PASSIVE_LEVEL ? "PASSIVE_LEVEL" : "APC_LEVEL");
    }
    if (fo == NULL || fltsim_volume_of_file_object(fo) != inst->volume)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: FileObject must be a file object on the instance's volume", api);
    if (buffer == NULL && mdl == NULL && length != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Buffer is NULL", api);
    if ((flags & ~(ULONG)KNOWN_IO_FLAGS) != 0 ||
        ((flags & FLTFL_IO_OPERATION_SYNCHRONOUS_PAGING) && !(flags & FLTFL_IO_OPERATION_PAGING)))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: Flags 0x%x: unknown bits, or SYNCHRONOUS_PAGING without PAGING",
                            api, (unsigned)flags);
    LARGE_INTEGER where;
    NTSTATUS status = resolve_offset(api, fo, offset, write, &where);
    if (!NT_SUCCESS(status))
        return status;

    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = write ? IRP_MJ_WRITE : IRP_MJ_READ;
    req.irp_flags = write ? IRP_WRITE_OPERATION : IRP_READ_OPERATION;
    if (flags & FLTFL_IO_OPERATION_NON_CACHED)
        req.irp_flags |= IRP_NOCACHE;
    if (flags & FLTFL_IO_OPERATION_PAGING) {
        req.irp_flags |= IRP_PAGING_IO | IRP_NOCACHE;
        if (flags & FLTFL_IO_OPERATION_SYNCHRONOUS_PAGING)
            req.irp_flags |= IRP_SYNCHRONOUS_PAGING_IO;
    } else if (callback == NULL) {
        req.irp_flags |= IRP_SYNCHRONOUS_API; /* the caller waits for it */
    }
    req.callback_flags = FLTFL_CALLBACK_DATA_GENERATED_IO;
    req.file_object = fo;
    req.requestor_mode = KernelMode;
    if (write) {
        req.parameters.Write.Length = length;
        req.parameters.Write.ByteOffset = where;
        req.parameters.Write.WriteBuffer = buffer;
        req.parameters.Write.Key = key != NULL ? *key : 0;
        req.parameters.Write.MdlAddress = mdl;
    } else {
        req.parameters.Read.Length = length;
        req.parameters.Read.ByteOffset = where;
        req.parameters.Read.ReadBuffer = buffer;
        req.parameters.Read.Key = key != NULL ? *key : 0;
        req.parameters.Read.MdlAddress = mdl;
    }

    /* The file system moves the byte offset of a synchronous file object;
     * FltMgr puts it back when asked to. */
    bool keep_offset = (flags & FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET) != 0;
    if (callback != NULL) {
        struct fltsim_own_cbd *own = fltsim__own_cbd_alloc(inst, fo, true);
        if (own == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        own->req = req;
        own->iopb.IrpFlags = req.irp_flags;
        own->iopb.MajorFunction = req.major;
        own->iopb.Parameters = req.parameters;
        own->keep_offset = keep_offset;
        own->callback = callback;
        own->callback_context = callback_context;
        status = fltsim__own_cbd_send(own, true); /* own may be gone */
        return status;
    }
    LARGE_INTEGER saved = fo->CurrentByteOffset;
    status = fltsim__request_dispatch_below(inst->volume, &req, inst);
    if (keep_offset)
        fo->CurrentByteOffset = saved;
    if (req.op_id == 0) /* refused before it reached the stack */
        return status;
    if (bytes != NULL)
        *bytes = (ULONG)req.io_status.Information;
    return req.io_status.Status;
}

NTSTATUS FltReadFile(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject,
                     PLARGE_INTEGER ByteOffset, ULONG Length, PVOID Buffer,
                     FLT_IO_OPERATION_FLAGS Flags, PULONG BytesRead,
                     PFLT_COMPLETED_ASYNC_IO_CALLBACK CallbackRoutine, PVOID CallbackContext)
{
    return read_write("FltReadFile", false, InitiatingInstance, FileObject, ByteOffset, Length,
                      Buffer, Flags, BytesRead, CallbackRoutine, CallbackContext, NULL, NULL);
}

NTSTATUS FltWriteFile(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject,
                      PLARGE_INTEGER ByteOffset, ULONG Length, PVOID Buffer,
                      FLT_IO_OPERATION_FLAGS Flags, PULONG BytesWritten,
                      PFLT_COMPLETED_ASYNC_IO_CALLBACK CallbackRoutine, PVOID CallbackContext)
{
    return read_write("FltWriteFile", true, InitiatingInstance, FileObject, ByteOffset, Length,
                      Buffer, Flags, BytesWritten, CallbackRoutine, CallbackContext, NULL, NULL);
}

NTSTATUS FltReadFileEx(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject,
                       PLARGE_INTEGER ByteOffset, ULONG Length, PVOID Buffer, ULONG Flags,
                       PULONG BytesRead, PFLT_COMPLETED_ASYNC_IO_CALLBACK CallbackRoutine,
                       PVOID CallbackContext, PULONG Key, PMDL Mdl)
{
    return read_write("FltReadFileEx", false, InitiatingInstance, FileObject, ByteOffset, Length,
                      Buffer, Flags, BytesRead, CallbackRoutine, CallbackContext, Key, Mdl);
}

NTSTATUS FltWriteFileEx(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject,
                        PLARGE_INTEGER ByteOffset, ULONG Length, PVOID Buffer, ULONG Flags,
                        PULONG BytesWritten, PFLT_COMPLETED_ASYNC_IO_CALLBACK CallbackRoutine,
                        PVOID CallbackContext, PULONG Key, PMDL Mdl)
{
    return read_write("FltWriteFileEx", true, InitiatingInstance, FileObject, ByteOffset, Length,
                      Buffer, Flags, BytesWritten, CallbackRoutine, CallbackContext, Key, Mdl);
}

/* ---- FltCancelFileOpen (SPEC 4.5, V24) ---- */

VOID FltCancelFileOpen(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject)
{
    static const char api[] = "FltCancelFileOpen";
    struct fltsim_tls *t = fltsim__tls();
    if (!fltsim__is_instance(Instance) || FileObject == NULL) {
        if (t->sys != NULL)
            fltsim__report(t->sys, t->filter, NULL, t->op, "V24", "4.5",
                           "%s(%p, %p): Instance and FileObject are required; ignored", api,
                           (void *)Instance, (void *)FileObject);
        else
            fprintf(stderr, "fltsim: V24: %s: Instance and FileObject are required\n", api);
        return;
    }
    fltsim_system *sys = Instance->volume->sys;
    if (t->irql > PASSIVE_LEVEL) {
        fltsim__check_irql(sys, PASSIVE_LEVEL, api);
        return; /* the close it sends waits: not above PASSIVE_LEVEL */
    }
    bool in_post;
    struct fltsim_op *op = fltsim__create_in_flight(Instance, FileObject, &in_post);
    if (op == NULL || !in_post) {
        fltsim__report(sys, NULL, Instance, op, "V24", "4.5",
                       "%s outside the instance's post-create callback for this file object "
                       "(it may only cancel the create its post is processing); ignored",
                       api);
        goto out;
    }
    if (FileObject->Flags & FO_HANDLE_CREATED) {
        fltsim__report(sys, NULL, Instance, op, "V24", "4.5",
                       "%s after a handle was created for the file object (on Windows: bugcheck "
                       "0xF5, parameter 0x6A); ignored",
                       api);
        goto out;
    }
    if (FileObject->Flags & FO_FILE_OPEN_CANCELLED) {
        fltsim__report(sys, NULL, Instance, op, "V24", "4.5",
                       "%s twice for the same create; ignored", api);
        goto out;
    }
    NTSTATUS opened = op->fs_status;
    if (!NT_SUCCESS(opened) || opened == STATUS_PENDING || opened == STATUS_REPARSE) {
        fltsim__report(sys, NULL, Instance, op, "V24", "4.5",
                       "%s for a create the file system did not open (status 0x%08x); there is "
                       "nothing to close; ignored",
                       api, (unsigned)opened);
        goto out;
    }

    /* Below the caller the file was opened and is now closed; above it the
     * create fails with the status the filter sets. */
    FileObject->Flags |= FO_FILE_OPEN_CANCELLED;
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_CLOSE;
    req.irp_flags = IRP_CLOSE_OPERATION | IRP_SYNCHRONOUS_API;
    req.file_object = FileObject;
    req.requestor_mode = KernelMode;
    NTSTATUS status = fltsim__request_dispatch_below(Instance->volume, &req, Instance);
    if (!NT_SUCCESS(status))
        fltsim__report(sys, NULL, Instance, op, "SIM", "4.5",
                       "%s: the IRP_MJ_CLOSE it sent failed with 0x%08x", api, (unsigned)status);
out:
    if (op != NULL)
        fltsim__op_unref(op);
}
