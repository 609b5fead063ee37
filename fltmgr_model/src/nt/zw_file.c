/*
 * The Zw file routines kernel code calls (issue 18 item 3): ZwCreateFile,
 * ZwOpenFile, ZwReadFile, ZwWriteFile, ZwQueryInformationFile,
 * ZwSetInformationFile, ZwQueryDirectoryFile, ZwFsControlFile,
 * ZwDeviceIoControlFile, ZwQueryVolumeInformationFile and ZwFlushBuffersFile,
 * and file handles in ZwClose (zw_file_close, for registry.c). Unlike the Flt forms they start at
 * the top of the stack (a filter calling them from its own callback sees its
 * own I/O again), as kernel-mode requests; a file object a filter opened
 * below its instance keeps sending below it. Handles and file objects are the
 * I/O manager's, reached through fltsim_io_services. Synchronous only.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "nt_internal.h"

static const struct fltsim_io_services *services(const char *api, fltsim_system **sys)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, api);
    *sys = t->sys;
    const struct fltsim_io_services *io = fltsim_io_services();
    return t->sys != NULL ? io : NULL;
}

static void set_iosb(PIO_STATUS_BLOCK iosb, NTSTATUS status, ULONG_PTR information)
{
    if (iosb != NULL) {
        iosb->Status = status;
        iosb->Information = information;
    }
}

/* ---- opens ---- */

NTSTATUS ZwCreateFile(PHANDLE FileHandle, ACCESS_MASK DesiredAccess,
                      POBJECT_ATTRIBUTES ObjectAttributes, PIO_STATUS_BLOCK IoStatusBlock,
                      PLARGE_INTEGER AllocationSize, ULONG FileAttributes, ULONG ShareAccess,
                      ULONG CreateDisposition, ULONG CreateOptions, PVOID EaBuffer, ULONG EaLength)
{
    static const char api[] = "ZwCreateFile";
    fltsim_system *sys;
    const struct fltsim_io_services *io = services(api, &sys);
    if (FileHandle == NULL || IoStatusBlock == NULL || ObjectAttributes == NULL ||
        ObjectAttributes->ObjectName == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: FileHandle, IoStatusBlock and ObjectAttributes with an "
                            "ObjectName are required",
                            api);
    *FileHandle = NULL;
    if (io == NULL)
        return fltsim__fail(STATUS_NOT_SUPPORTED,
                            "%s: no filter code of a system with an I/O manager runs on this "
                            "thread",
                            api);
    if (EaBuffer != NULL || EaLength != 0) {
        fltsim__report(sys, NULL, NULL, NULL, "SIM", "2.3",
                       "%s with an EaBuffer: extended attributes are not modeled; returned "
                       "STATUS_EAS_NOT_SUPPORTED",
                       api);
        return fltsim__fail(STATUS_EAS_NOT_SUPPORTED, "%s: EAs are not modeled", api);
    }
    struct fltsim_kernel_create p;
    memset(&p, 0, sizeof(p));
    p.name = ObjectAttributes->ObjectName;
    p.root_directory = ObjectAttributes->RootDirectory;
    p.attributes = ObjectAttributes->Attributes;
    p.desired_access = DesiredAccess;
    p.file_attributes = FileAttributes;
    p.share_access = ShareAccess;
    p.disposition = CreateDisposition;
    p.create_options = CreateOptions;
    p.allocation_size = AllocationSize != NULL ? AllocationSize->QuadPart : 0;
    NTSTATUS status = io->create(sys, &p, FileHandle, NULL, IoStatusBlock);
    if (!NT_SUCCESS(status) && IoStatusBlock->Status != status)
        set_iosb(IoStatusBlock, status, 0);
    return status;
}

NTSTATUS ZwOpenFile(PHANDLE FileHandle, ACCESS_MASK DesiredAccess,
                    POBJECT_ATTRIBUTES ObjectAttributes, PIO_STATUS_BLOCK IoStatusBlock,
                    ULONG ShareAccess, ULONG OpenOptions)
{
    return ZwCreateFile(FileHandle, DesiredAccess, ObjectAttributes, IoStatusBlock, NULL, 0,
                        ShareAccess, FILE_OPEN, OpenOptions, NULL, 0);
}

bool fltsim__zw_file_close(HANDLE Handle)
{
    struct fltsim_tls *t = fltsim__tls();
    const struct fltsim_io_services *io = fltsim_io_services();
    return io != NULL && t->sys != NULL && NT_SUCCESS(io->close(t->sys, Handle));
}

/* ---- requests on a handle ---- */

/* The file object behind a handle, referenced (kernel mode: no access
 * check), or the status and IoStatusBlock of a call that cannot start. */
static NTSTATUS begin(const char *api, HANDLE handle, PIO_STATUS_BLOCK iosb, PFILE_OBJECT *fo,
                      const struct fltsim_io_services **out)
{
    *fo = NULL;
    fltsim_system *sys;
    const struct fltsim_io_services *io = services(api, &sys);
    *out = io;
    if (iosb == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: IoStatusBlock is required", api);
    NTSTATUS status = io == NULL ? STATUS_INVALID_HANDLE
                                 : io->reference_handle(sys, handle, 0, KernelMode, fo, NULL);
    if (!NT_SUCCESS(status)) {
        set_iosb(iosb, status, 0);
        return fltsim__fail(status, "%s(%p): not an open file handle", api, handle);
    }
    return STATUS_SUCCESS;
}

/* Sends req (its major, minor and parameters filled) on fo as the I/O
 * manager would for a kernel-mode caller, waits, and drops the reference. */
static NTSTATUS send_request(const struct fltsim_io_services *io, PFILE_OBJECT fo,
                             struct fltsim_request *req, PIO_STATUS_BLOCK iosb)
{
    req->kind = FLTSIM_OP_IRP;
    if (fo->Flags & FO_SYNCHRONOUS_IO)
        req->irp_flags |= IRP_SYNCHRONOUS_API;
    NTSTATUS status = io->file_request(fo, req);
    set_iosb(iosb, status, req->io_status.Information);
    io->dereference(fo);
    return status;
}

static NTSTATUS read_write(const char *api, bool write, HANDLE FileHandle, HANDLE Event,
                           PIO_APC_ROUTINE ApcRoutine, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer,
                           ULONG Length, PLARGE_INTEGER ByteOffset, PULONG Key)
{
    if (ApcRoutine != NULL || Event != NULL) {
        fltsim_system *sys;
        (void)services(api, &sys);
        if (sys != NULL)
            fltsim__report(sys, NULL, NULL, NULL, "SIM", "2.3",
                           "%s with an Event or ApcRoutine: asynchronous Zw I/O is not modeled; "
                           "returned STATUS_NOT_SUPPORTED",
                           api);
        set_iosb(IoStatusBlock, STATUS_NOT_SUPPORTED, 0);
        return fltsim__fail(STATUS_NOT_SUPPORTED, "%s: asynchronous I/O is not modeled", api);
    }
    if (Buffer == NULL && Length != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Buffer is NULL", api);
    PFILE_OBJECT fo;
    const struct fltsim_io_services *io;
    NTSTATUS status = begin(api, FileHandle, IoStatusBlock, &fo, &io);
    if (!NT_SUCCESS(status))
        return status;
    LARGE_INTEGER where;
    bool use_pointer =
        ByteOffset == NULL ||
        (ByteOffset->HighPart == -1 && ByteOffset->LowPart == FILE_USE_FILE_POINTER_POSITION);
    if (use_pointer && !(fo->Flags & FO_SYNCHRONOUS_IO)) {
        io->dereference(fo);
        set_iosb(IoStatusBlock, STATUS_INVALID_PARAMETER, 0);
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: ByteOffset is required for a file object not opened for "
                            "synchronous I/O",
                            api);
    }
    where = use_pointer ? fo->CurrentByteOffset : *ByteOffset;
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.major = write ? IRP_MJ_WRITE : IRP_MJ_READ;
    req.irp_flags = write ? IRP_WRITE_OPERATION : IRP_READ_OPERATION;
    if (write) {
        req.parameters.Write.Length = Length;
        req.parameters.Write.ByteOffset = where;
        req.parameters.Write.WriteBuffer = Buffer;
        req.parameters.Write.Key = Key != NULL ? *Key : 0;
    } else {
        req.parameters.Read.Length = Length;
        req.parameters.Read.ByteOffset = where;
        req.parameters.Read.ReadBuffer = Buffer;
        req.parameters.Read.Key = Key != NULL ? *Key : 0;
    }
    return send_request(io, fo, &req, IoStatusBlock);
}

NTSTATUS ZwReadFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine, PVOID ApcContext,
                    PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length,
                    PLARGE_INTEGER ByteOffset, PULONG Key)
{
    (void)ApcContext;
    return read_write("ZwReadFile", false, FileHandle, Event, ApcRoutine, IoStatusBlock, Buffer,
                      Length, ByteOffset, Key);
}

NTSTATUS ZwWriteFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine, PVOID ApcContext,
                     PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length,
                     PLARGE_INTEGER ByteOffset, PULONG Key)
{
    (void)ApcContext;
    return read_write("ZwWriteFile", true, FileHandle, Event, ApcRoutine, IoStatusBlock, Buffer,
                      Length, ByteOffset, Key);
}

NTSTATUS ZwQueryInformationFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock,
                                PVOID FileInformation, ULONG Length,
                                FILE_INFORMATION_CLASS FileInformationClass)
{
    static const char api[] = "ZwQueryInformationFile";
    if (FileInformation == NULL && Length != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: FileInformation is NULL", api);
    PFILE_OBJECT fo;
    const struct fltsim_io_services *io;
    NTSTATUS status = begin(api, FileHandle, IoStatusBlock, &fo, &io);
    if (!NT_SUCCESS(status))
        return status;
    if (FileInformationClass == FilePositionInformation && (fo->Flags & FO_SYNCHRONOUS_IO)) {
        /* The I/O manager answers it from the file object, as on Windows. */
        status = Length < sizeof(FILE_POSITION_INFORMATION) ? STATUS_INFO_LENGTH_MISMATCH
                                                            : STATUS_SUCCESS;
        if (NT_SUCCESS(status))
            ((PFILE_POSITION_INFORMATION)FileInformation)->CurrentByteOffset =
                fo->CurrentByteOffset;
        io->dereference(fo);
        set_iosb(IoStatusBlock, status, NT_SUCCESS(status) ? sizeof(FILE_POSITION_INFORMATION) : 0);
        return status;
    }
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.major = IRP_MJ_QUERY_INFORMATION;
    req.irp_flags = IRP_BUFFERED_IO;
    req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
    req.parameters.QueryFileInformation.Length = Length;
    req.parameters.QueryFileInformation.FileInformationClass = FileInformationClass;
    req.parameters.QueryFileInformation.InfoBuffer = FileInformation;
    return send_request(io, fo, &req, IoStatusBlock);
}

NTSTATUS ZwSetInformationFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock,
                              PVOID FileInformation, ULONG Length,
                              FILE_INFORMATION_CLASS FileInformationClass)
{
    static const char api[] = "ZwSetInformationFile";
    if (FileInformation == NULL || Length == 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: FileInformation is required", api);
    PFILE_OBJECT fo;
    const struct fltsim_io_services *io;
    NTSTATUS status = begin(api, FileHandle, IoStatusBlock, &fo, &io);
    if (!NT_SUCCESS(status))
        return status;
    if (FileInformationClass == FilePositionInformation && (fo->Flags & FO_SYNCHRONOUS_IO)) {
        const FILE_POSITION_INFORMATION *pos = FileInformation;
        status = Length < sizeof(*pos)                 ? STATUS_INFO_LENGTH_MISMATCH
                 : pos->CurrentByteOffset.QuadPart < 0 ? STATUS_INVALID_PARAMETER
                                                       : STATUS_SUCCESS;
        if (NT_SUCCESS(status))
            fo->CurrentByteOffset = pos->CurrentByteOffset;
        io->dereference(fo);
        set_iosb(IoStatusBlock, status, 0);
        return status;
    }
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.major = IRP_MJ_SET_INFORMATION;
    req.irp_flags = IRP_BUFFERED_IO;
    req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
    req.parameters.SetFileInformation.Length = Length;
    req.parameters.SetFileInformation.FileInformationClass = FileInformationClass;
    req.parameters.SetFileInformation.InfoBuffer = FileInformation;
    HANDLE target = NULL;
    PFILE_OBJECT dir = NULL;
    fltsim_system *sys = fltsim__tls()->sys;
    if (FileInformationClass == FileRenameInformation ||
        FileInformationClass == FileLinkInformation) {
        /* The I/O manager opens the target directory first (from the top). */
        const FILE_RENAME_INFORMATION *r = FileInformation;
        status = fltsim__open_rename_target(sys, NULL, fo, r, Length, &target, &dir);
        if (!NT_SUCCESS(status)) {
            io->dereference(fo);
            set_iosb(IoStatusBlock, status, 0);
            return fltsim__fail(status, "%s: opening the target directory: 0x%08x", api,
                                (unsigned)status);
        }
        req.parameters.SetFileInformation.ReplaceIfExists = r->ReplaceIfExists;
        req.parameters.SetFileInformation.ParentOfTarget = dir;
    }
    status = send_request(io, fo, &req, IoStatusBlock);
    if (dir != NULL)
        fltsim__close_rename_target(sys, target, dir);
    return status;
}

NTSTATUS ZwQueryDirectoryFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine,
                              PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock,
                              PVOID FileInformation, ULONG Length,
                              FILE_INFORMATION_CLASS FileInformationClass,
                              BOOLEAN ReturnSingleEntry, PUNICODE_STRING FileName,
                              BOOLEAN RestartScan)
{
    static const char api[] = "ZwQueryDirectoryFile";
    (void)ApcContext;
    if (Event != NULL || ApcRoutine != NULL)
        return fltsim__fail(STATUS_NOT_SUPPORTED, "%s: asynchronous I/O is not modeled", api);
    if (FileInformation == NULL || Length == 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: FileInformation is required", api);
    PFILE_OBJECT fo;
    const struct fltsim_io_services *io;
    NTSTATUS status = begin(api, FileHandle, IoStatusBlock, &fo, &io);
    if (!NT_SUCCESS(status))
        return status;
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.major = IRP_MJ_DIRECTORY_CONTROL;
    req.minor = IRP_MN_QUERY_DIRECTORY;
    req.operation_flags = (UCHAR)((ReturnSingleEntry ? SL_RETURN_SINGLE_ENTRY : 0) |
                                  (RestartScan ? SL_RESTART_SCAN : 0));
    req.parameters.DirectoryControl.QueryDirectory.Length = Length;
    req.parameters.DirectoryControl.QueryDirectory.FileName = FileName;
    req.parameters.DirectoryControl.QueryDirectory.FileInformationClass = FileInformationClass;
    req.parameters.DirectoryControl.QueryDirectory.DirectoryBuffer = FileInformation;
    return send_request(io, fo, &req, IoStatusBlock);
}

NTSTATUS ZwQueryVolumeInformationFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock,
                                      PVOID FsInformation, ULONG Length,
                                      FS_INFORMATION_CLASS FsInformationClass)
{
    static const char api[] = "ZwQueryVolumeInformationFile";
    if (FsInformation == NULL || Length == 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: FsInformation is required", api);
    PFILE_OBJECT fo;
    const struct fltsim_io_services *io;
    NTSTATUS status = begin(api, FileHandle, IoStatusBlock, &fo, &io);
    if (!NT_SUCCESS(status))
        return status;
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.major = IRP_MJ_QUERY_VOLUME_INFORMATION;
    req.irp_flags = IRP_BUFFERED_IO;
    req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
    req.parameters.QueryVolumeInformation.Length = Length;
    req.parameters.QueryVolumeInformation.FsInformationClass = FsInformationClass;
    req.parameters.QueryVolumeInformation.VolumeBuffer = FsInformation;
    return send_request(io, fo, &req, IoStatusBlock);
}

NTSTATUS ZwFlushBuffersFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock)
{
    PFILE_OBJECT fo;
    const struct fltsim_io_services *io;
    NTSTATUS status = begin("ZwFlushBuffersFile", FileHandle, IoStatusBlock, &fo, &io);
    if (!NT_SUCCESS(status))
        return status;
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.major = IRP_MJ_FLUSH_BUFFERS;
    return send_request(io, fo, &req, IoStatusBlock);
}

/* ZwFsControlFile and ZwDeviceIoControlFile: the buffers as the code's
 * method says, as the I/O manager builds them for a kernel-mode caller. */
static NTSTATUS control(const char *api, UCHAR major, HANDLE FileHandle, HANDLE Event,
                        PIO_APC_ROUTINE ApcRoutine, PIO_STATUS_BLOCK IoStatusBlock, ULONG code,
                        PVOID InputBuffer, ULONG InputBufferLength, PVOID OutputBuffer,
                        ULONG OutputBufferLength)
{
    if (Event != NULL || ApcRoutine != NULL)
        return fltsim__fail(STATUS_NOT_SUPPORTED, "%s: asynchronous I/O is not modeled", api);
    if ((InputBuffer == NULL && InputBufferLength != 0) ||
        (OutputBuffer == NULL && OutputBufferLength != 0))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: a buffer is NULL with a length", api);
    PFILE_OBJECT fo;
    const struct fltsim_io_services *io;
    NTSTATUS status = begin(api, FileHandle, IoStatusBlock, &fo, &io);
    if (!NT_SUCCESS(status))
        return status;
    ULONG method = METHOD_FROM_CTL_CODE(code);
    ULONG sys_length =
        method == METHOD_BUFFERED
            ? (InputBufferLength > OutputBufferLength ? InputBufferLength : OutputBufferLength)
            : (method == METHOD_NEITHER ? 0 : InputBufferLength);
    void *system_buffer = NULL;
    PMDL mdl = NULL;
    if (sys_length != 0 && (system_buffer = calloc(1, sys_length)) == NULL)
        status = STATUS_INSUFFICIENT_RESOURCES;
    if (NT_SUCCESS(status) && method != METHOD_BUFFERED && method != METHOD_NEITHER &&
        OutputBufferLength != 0) {
        mdl = IoAllocateMdl(OutputBuffer, OutputBufferLength, FALSE, FALSE, NULL);
        if (mdl == NULL)
            status = STATUS_INSUFFICIENT_RESOURCES;
        else
            MmProbeAndLockPages(mdl, KernelMode,
                                method == METHOD_IN_DIRECT ? IoReadAccess : IoWriteAccess);
    }
    if (!NT_SUCCESS(status)) {
        free(system_buffer);
        io->dereference(fo);
        set_iosb(IoStatusBlock, status, 0);
        return fltsim__fail(status, "%s: out of memory", api);
    }
    if (system_buffer != NULL && InputBufferLength != 0)
        memcpy(system_buffer, InputBuffer, InputBufferLength);
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.major = major;
    req.minor = major == IRP_MJ_FILE_SYSTEM_CONTROL ? IRP_MN_USER_FS_REQUEST : 0;
    req.parameters.DeviceIoControl.Neither.OutputBufferLength = OutputBufferLength;
    req.parameters.DeviceIoControl.Neither.InputBufferLength = InputBufferLength;
    req.parameters.DeviceIoControl.Neither.IoControlCode = code;
    switch (method) {
    case METHOD_BUFFERED:
        req.irp_flags = IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
        if (OutputBufferLength != 0)
            req.irp_flags |= IRP_INPUT_OPERATION;
        req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
        req.parameters.DeviceIoControl.Buffered.SystemBuffer = system_buffer;
        break;
    case METHOD_NEITHER:
        req.parameters.DeviceIoControl.Neither.InputBuffer = InputBuffer;
        req.parameters.DeviceIoControl.Neither.OutputBuffer = OutputBuffer;
        break;
    default:
        req.parameters.DeviceIoControl.Direct.InputSystemBuffer = system_buffer;
        req.parameters.DeviceIoControl.Direct.OutputBuffer = OutputBuffer;
        req.parameters.DeviceIoControl.Direct.OutputMdlAddress = mdl;
        break;
    }
    status = send_request(io, fo, &req, IoStatusBlock);
    if (mdl != NULL) {
        MmUnlockPages(mdl);
        IoFreeMdl(mdl);
    }
    ULONG_PTR copied = IoStatusBlock->Information;
    if (method == METHOD_BUFFERED && system_buffer != NULL && !NT_ERROR(status) &&
        OutputBufferLength != 0)
        memcpy(OutputBuffer, system_buffer,
               copied < OutputBufferLength ? copied : OutputBufferLength);
    free(system_buffer);
    return status;
}

NTSTATUS ZwFsControlFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine,
                         PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock, ULONG FsControlCode,
                         PVOID InputBuffer, ULONG InputBufferLength, PVOID OutputBuffer,
                         ULONG OutputBufferLength)
{
    (void)ApcContext;
    return control("ZwFsControlFile", IRP_MJ_FILE_SYSTEM_CONTROL, FileHandle, Event, ApcRoutine,
                   IoStatusBlock, FsControlCode, InputBuffer, InputBufferLength, OutputBuffer,
                   OutputBufferLength);
}

NTSTATUS ZwDeviceIoControlFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine,
                               PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock,
                               ULONG IoControlCode, PVOID InputBuffer, ULONG InputBufferLength,
                               PVOID OutputBuffer, ULONG OutputBufferLength)
{
    (void)ApcContext;
    return control("ZwDeviceIoControlFile", IRP_MJ_DEVICE_CONTROL, FileHandle, Event, ApcRoutine,
                   IoStatusBlock, IoControlCode, InputBuffer, InputBufferLength, OutputBuffer,
                   OutputBufferLength);
}
