/*
 * The Flt forms of the file services a minifilter issues on a file object
 * (SPEC 2.3): FltQueryInformationFile, FltSetInformationFile,
 * FltQueryDirectoryFile(Ex), FltQueryVolumeInformationFile, FltFsControlFile,
 * FltDeviceIoControlFile and FltFlushBuffers. Each builds its request as the
 * I/O manager would for a kernel-mode caller and sends it, marked
 * FLTFL_CALLBACK_DATA_GENERATED_IO, only to the instances below the calling
 * one (as FltReadFile in generated_io.c); the file object must be one of the
 * instance's volume.
 */
#include <stdlib.h>
#include <string.h>

#include "filter_io_internal.h"

NTSTATUS fltsim__flt_send_below(const char *api, PFLT_INSTANCE inst, PFILE_OBJECT fo,
                                struct fltsim_request *req, ULONG_PTR *information)
{
    if (information != NULL)
        *information = 0;
    if (!fltsim__is_instance(inst))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Instance is not an instance", api);
    if (fltsim__tls()->irql > PASSIVE_LEVEL) {
        fltsim__check_irql(inst->volume->sys, PASSIVE_LEVEL, api);
        return fltsim__fail(STATUS_INVALID_DEVICE_STATE, "%s: called above PASSIVE_LEVEL", api);
    }
    if (fo == NULL || fltsim_volume_of_file_object(fo) != inst->volume)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: FileObject must be a file object on the instance's volume", api);
    req->kind = FLTSIM_OP_IRP;
    req->irp_flags |= IRP_SYNCHRONOUS_API; /* the caller waits for it */
    req->callback_flags |= FLTFL_CALLBACK_DATA_GENERATED_IO;
    req->file_object = fo;
    req->requestor_mode = KernelMode;
    NTSTATUS status = fltsim__request_dispatch_below(inst->volume, req, inst);
    if (req->op_id == 0) /* refused before it reached the stack */
        return status;
    if (information != NULL)
        *information = req->io_status.Information;
    return req->io_status.Status;
}

static void request(struct fltsim_request *req, UCHAR major, UCHAR minor)
{
    memset(req, 0, sizeof(*req));
    req->major = major;
    req->minor = minor;
}

static ULONG to_ulong(ULONG_PTR v)
{
    return v > 0xffffffffu ? 0xffffffffu : (ULONG)v;
}

NTSTATUS FltQueryInformationFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                 PVOID FileInformation, ULONG Length,
                                 FILE_INFORMATION_CLASS FileInformationClass, PULONG LengthReturned)
{
    static const char api[] = "FltQueryInformationFile";
    if (LengthReturned != NULL)
        *LengthReturned = 0;
    if (FileInformation == NULL && Length != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: FileInformation is NULL", api);
    struct fltsim_request req;
    request(&req, IRP_MJ_QUERY_INFORMATION, 0);
    req.irp_flags = IRP_BUFFERED_IO;
    req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
    req.parameters.QueryFileInformation.Length = Length;
    req.parameters.QueryFileInformation.FileInformationClass = FileInformationClass;
    req.parameters.QueryFileInformation.InfoBuffer = FileInformation;
    ULONG_PTR info;
    NTSTATUS status = fltsim__flt_send_below(api, Instance, FileObject, &req, &info);
    if (LengthReturned != NULL && !NT_ERROR(status))
        *LengthReturned = to_ulong(info);
    return status;
}

NTSTATUS FltSetInformationFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                               PVOID FileInformation, ULONG Length,
                               FILE_INFORMATION_CLASS FileInformationClass)
{
    static const char api[] = "FltSetInformationFile";
    if (FileInformation == NULL || Length == 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: FileInformation is required", api);
    struct fltsim_request req;
    request(&req, IRP_MJ_SET_INFORMATION, 0);
    req.irp_flags = IRP_BUFFERED_IO;
    req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
    req.parameters.SetFileInformation.Length = Length;
    req.parameters.SetFileInformation.FileInformationClass = FileInformationClass;
    req.parameters.SetFileInformation.InfoBuffer = FileInformation;
    HANDLE target = NULL;
    PFILE_OBJECT dir = NULL;
    if (FileInformationClass == FileRenameInformation ||
        FileInformationClass == FileLinkInformation) {
        /* The target directory is opened below the instance first, and
         * passed as ParentOfTarget, as FltMgr does. */
        if (!fltsim__is_instance(Instance) || FileObject == NULL)
            return fltsim__flt_send_below(api, Instance, FileObject, &req, NULL); /* its refusal */
        const FILE_RENAME_INFORMATION *r = FileInformation;
        NTSTATUS status = fltsim__open_rename_target(Instance->volume->sys, Instance, FileObject, r,
                                                     Length, &target, &dir);
        if (!NT_SUCCESS(status))
            return fltsim__fail(status, "%s: opening the target directory: 0x%08x", api,
                                (unsigned)status);
        req.parameters.SetFileInformation.ReplaceIfExists = r->ReplaceIfExists;
        req.parameters.SetFileInformation.ParentOfTarget = dir;
    }
    NTSTATUS status = fltsim__flt_send_below(api, Instance, FileObject, &req, NULL);
    if (dir != NULL)
        fltsim__close_rename_target(Instance->volume->sys, target, dir);
    return status;
}

static NTSTATUS query_directory(const char *api, PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                PVOID FileInformation, ULONG Length,
                                FILE_INFORMATION_CLASS FileInformationClass, UCHAR flags,
                                PUNICODE_STRING FileName, PULONG LengthReturned)
{
    if (LengthReturned != NULL)
        *LengthReturned = 0;
    if (FileInformation == NULL || Length == 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: FileInformation is required", api);
    struct fltsim_request req;
    request(&req, IRP_MJ_DIRECTORY_CONTROL, IRP_MN_QUERY_DIRECTORY);
    req.operation_flags = flags;
    req.parameters.DirectoryControl.QueryDirectory.Length = Length;
    req.parameters.DirectoryControl.QueryDirectory.FileName = FileName;
    req.parameters.DirectoryControl.QueryDirectory.FileInformationClass = FileInformationClass;
    req.parameters.DirectoryControl.QueryDirectory.DirectoryBuffer = FileInformation;
    ULONG_PTR info;
    NTSTATUS status = fltsim__flt_send_below(api, Instance, FileObject, &req, &info);
    if (LengthReturned != NULL && !NT_ERROR(status))
        *LengthReturned = to_ulong(info);
    return status;
}

NTSTATUS FltQueryDirectoryFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                               PVOID FileInformation, ULONG Length,
                               FILE_INFORMATION_CLASS FileInformationClass,
                               BOOLEAN ReturnSingleEntry, PUNICODE_STRING FileName,
                               BOOLEAN RestartScan, PULONG LengthReturned)
{
    UCHAR flags = (UCHAR)((ReturnSingleEntry ? SL_RETURN_SINGLE_ENTRY : 0) |
                          (RestartScan ? SL_RESTART_SCAN : 0));
    return query_directory("FltQueryDirectoryFile", Instance, FileObject, FileInformation, Length,
                           FileInformationClass, flags, FileName, LengthReturned);
}

NTSTATUS FltQueryDirectoryFileEx(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                 PVOID FileInformation, ULONG Length,
                                 FILE_INFORMATION_CLASS FileInformationClass, ULONG QueryFlags,
                                 PUNICODE_STRING FileName, PULONG LengthReturned)
{
    /* SL_QUERY_DIRECTORY_MASK: the flags travel as the IRP's. */
    const ULONG known = SL_RESTART_SCAN | SL_RETURN_SINGLE_ENTRY | SL_INDEX_SPECIFIED |
                        SL_RETURN_ON_DISK_ENTRIES_ONLY;
    if (QueryFlags & ~known)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltQueryDirectoryFileEx: QueryFlags 0x%x has unknown bits",
                            (unsigned)QueryFlags);
    return query_directory("FltQueryDirectoryFileEx", Instance, FileObject, FileInformation, Length,
                           FileInformationClass, (UCHAR)QueryFlags, FileName, LengthReturned);
}

NTSTATUS FltQueryVolumeInformationFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                       PVOID FsInformation, ULONG Length,
                                       FS_INFORMATION_CLASS FsInformationClass,
                                       PULONG LengthReturned)
{
    static const char api[] = "FltQueryVolumeInformationFile";
    if (LengthReturned != NULL)
        *LengthReturned = 0;
    if (FsInformation == NULL || Length == 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: FsInformation is required", api);
    struct fltsim_request req;
    request(&req, IRP_MJ_QUERY_VOLUME_INFORMATION, 0);
    req.irp_flags = IRP_BUFFERED_IO;
    req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
    req.parameters.QueryVolumeInformation.Length = Length;
    req.parameters.QueryVolumeInformation.FsInformationClass = FsInformationClass;
    req.parameters.QueryVolumeInformation.VolumeBuffer = FsInformation;
    ULONG_PTR info;
    NTSTATUS status = fltsim__flt_send_below(api, Instance, FileObject, &req, &info);
    if (LengthReturned != NULL && !NT_ERROR(status))
        *LengthReturned = to_ulong(info);
    return status;
}

NTSTATUS FltFlushBuffers(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject)
{
    struct fltsim_request req;
    request(&req, IRP_MJ_FLUSH_BUFFERS, 0);
    return fltsim__flt_send_below("FltFlushBuffers", Instance, FileObject, &req, NULL);
}

NTSTATUS fltsim__flt_control(const char *api, UCHAR major, PFLT_INSTANCE Instance,
                             PFILE_OBJECT FileObject, ULONG code, PVOID in, ULONG in_length,
                             PVOID out, ULONG out_length, PULONG LengthReturned)
{
    if (LengthReturned != NULL)
        *LengthReturned = 0;
    if ((in == NULL && in_length != 0) || (out == NULL && out_length != 0))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: a buffer is NULL with a length", api);
    ULONG method = METHOD_FROM_CTL_CODE(code);
    ULONG sys_length = method == METHOD_BUFFERED ? (in_length > out_length ? in_length : out_length)
                                                 : (method == METHOD_NEITHER ? 0 : in_length);
    void *system_buffer = NULL;
    if (sys_length != 0 && (system_buffer = calloc(1, sys_length)) == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
    if (system_buffer != NULL && in_length != 0)
        memcpy(system_buffer, in, in_length);
    struct fltsim_request req;
    request(&req, major, major == IRP_MJ_FILE_SYSTEM_CONTROL ? IRP_MN_USER_FS_REQUEST : 0);
    req.parameters.DeviceIoControl.Neither.OutputBufferLength = out_length;
    req.parameters.DeviceIoControl.Neither.InputBufferLength = in_length;
    req.parameters.DeviceIoControl.Neither.IoControlCode = code;
    PMDL mdl = NULL;
    switch (method) {
    case METHOD_BUFFERED:
        req.irp_flags = IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
        if (out_length != 0)
            req.irp_flags |= IRP_INPUT_OPERATION;
        req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
        req.parameters.DeviceIoControl.Buffered.SystemBuffer = system_buffer;
        break;
    case METHOD_NEITHER:
        req.parameters.DeviceIoControl.Neither.InputBuffer = in;
        req.parameters.DeviceIoControl.Neither.OutputBuffer = out;
        break;
    default:
        if (out_length != 0) {
            mdl = IoAllocateMdl(out, out_length, FALSE, FALSE, NULL);
            if (mdl == NULL) {
                free(system_buffer);
                return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
            }
            MmProbeAndLockPages(mdl, KernelMode,
                                method == METHOD_IN_DIRECT ? IoReadAccess : IoWriteAccess);
        }
        req.parameters.DeviceIoControl.Direct.InputSystemBuffer = system_buffer;
        req.parameters.DeviceIoControl.Direct.OutputBuffer = out;
        req.parameters.DeviceIoControl.Direct.OutputMdlAddress = mdl;
        break;
    }
    ULONG_PTR info;
    NTSTATUS status = fltsim__flt_send_below(api, Instance, FileObject, &req, &info);
    if (mdl != NULL) {
        MmUnlockPages(mdl);
        IoFreeMdl(mdl);
    }
    if (method == METHOD_BUFFERED && !NT_ERROR(status) && out_length != 0 && system_buffer != NULL)
        memcpy(out, system_buffer, info < out_length ? info : out_length);
    free(system_buffer);
    if (LengthReturned != NULL && !NT_ERROR(status))
        *LengthReturned = to_ulong(info);
    return status;
}

NTSTATUS FltFsControlFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, ULONG FsControlCode,
                          PVOID InputBuffer, ULONG InputBufferLength, PVOID OutputBuffer,
                          ULONG OutputBufferLength, PULONG LengthReturned)
{
    return fltsim__flt_control("FltFsControlFile", IRP_MJ_FILE_SYSTEM_CONTROL, Instance, FileObject,
                               FsControlCode, InputBuffer, InputBufferLength, OutputBuffer,
                               OutputBufferLength, LengthReturned);
}

NTSTATUS FltDeviceIoControlFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                ULONG IoControlCode, PVOID InputBuffer, ULONG InputBufferLength,
                                PVOID OutputBuffer, ULONG OutputBufferLength, PULONG LengthReturned)
{
    return fltsim__flt_control("FltDeviceIoControlFile", IRP_MJ_DEVICE_CONTROL, Instance,
                               FileObject, IoControlCode, InputBuffer, InputBufferLength,
                               OutputBuffer, OutputBufferLength, LengthReturned);
}
