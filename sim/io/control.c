/*
 * The operations of the simulated I/O manager that act on a file rather than
 * read or describe it: flush, byte-range locks, file-system and device
 * controls (FSCTL/IOCTL with their buffering methods), and the FS-filter
 * callbacks around sections, the modified page writer and the cache manager's
 * flush. Locks and device controls try fast I/O first when the caller asks, as
 * the I/O manager does.
 */
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

/* ---- flush ---- */

NTSTATUS fltsim_io_flush(fltsim_system *sys, HANDLE handle, IO_STATUS_BLOCK *iosb)
{
    struct io_file *file;
    NTSTATUS status = fltsim__io_begin(sys, handle, FILE_WRITE_DATA | FILE_APPEND_DATA, 0, &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    struct fltsim_request req;
    fltsim__irp_request(&req, file, IRP_MJ_FLUSH_BUFFERS, 0);
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    fltsim__file_unref(file);
    return status;
}

/* ---- sections ---- */

static NTSTATUS section_sync(fltsim_system *sys, HANDLE handle, UCHAR major,
                             FS_FILTER_SECTION_SYNC_TYPE sync_type, ULONG page_protection)
{
    struct io_file *file;
    NTSTATUS status = fltsim__io_begin(sys, handle, 0, 0, &file);
    if (!NT_SUCCESS(status))
        return status;
    FS_FILTER_SECTION_SYNC_OUTPUT output;
    memset(&output, 0, sizeof(output));
    output.StructureSize = sizeof(output);
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_FS_FILTER;
    req.major = major;
    if (major == IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION) {
        req.parameters.AcquireForSectionSynchronization.SyncType = sync_type;
        req.parameters.AcquireForSectionSynchronization.PageProtection = page_protection;
        req.parameters.AcquireForSectionSynchronization.OutputInformation = &output;
    }
    status = fltsim__io_dispatch(file, &req, FLTSIM_IO_KERNEL_MODE, NULL);
    fltsim__file_unref(file);
    return status;
}

NTSTATUS fltsim_io_acquire_for_section_sync(fltsim_system *sys, HANDLE handle,
                                            FS_FILTER_SECTION_SYNC_TYPE sync_type,
                                            ULONG page_protection)
{
    return section_sync(sys, handle, IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, sync_type,
                        page_protection);
}

NTSTATUS fltsim_io_release_for_section_sync(fltsim_system *sys, HANDLE handle)
{
    return section_sync(sys, handle, IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION, SyncTypeOther, 0);
}

NTSTATUS fltsim_io_map_section(fltsim_system *sys, HANDLE handle, ULONG page_protection)
{
    NTSTATUS status =
        fltsim_io_acquire_for_section_sync(sys, handle, SyncTypeCreateSection, page_protection);
    if (!NT_SUCCESS(status))
        return status;
    NTSTATUS release = fltsim_io_release_for_section_sync(sys, handle);
    return NT_SUCCESS(release) ? status : release;
}

/* ---- the modified page writer and the cache manager's flush ---- */

static NTSTATUS fs_filter_callback(fltsim_system *sys, HANDLE handle, UCHAR major,
                                   const FLT_PARAMETERS *parameters)
{
    struct io_file *file;
    NTSTATUS status = fltsim__io_begin(sys, handle, 0, 0, &file);
    if (!NT_SUCCESS(status))
        return status;
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_FS_FILTER;
    req.major = major;
    if (parameters != NULL)
        req.parameters = *parameters;
    status = fltsim__io_dispatch(file, &req, FLTSIM_IO_KERNEL_MODE, NULL);
    fltsim__file_unref(file);
    return status;
}

NTSTATUS fltsim_io_acquire_for_mod_write(fltsim_system *sys, HANDLE handle, LONGLONG ending_offset)
{
    LARGE_INTEGER ending = {.QuadPart = ending_offset};
    PERESOURCE resource = NULL;
    FLT_PARAMETERS p;
    memset(&p, 0, sizeof(p));
    p.AcquireForModifiedPageWriter.EndingOffset = &ending;
    p.AcquireForModifiedPageWriter.ResourceToRelease = &resource;
    return fs_filter_callback(sys, handle, IRP_MJ_ACQUIRE_FOR_MOD_WRITE, &p);
}

NTSTATUS fltsim_io_release_for_mod_write(fltsim_system *sys, HANDLE handle)
{
    FLT_PARAMETERS p;
    memset(&p, 0, sizeof(p));
    p.ReleaseForModifiedPageWriter.ResourceToRelease = NULL; /* not kept from the acquire */
    return fs_filter_callback(sys, handle, IRP_MJ_RELEASE_FOR_MOD_WRITE, &p);
}

NTSTATUS fltsim_io_acquire_for_cc_flush(fltsim_system *sys, HANDLE handle)
{
    return fs_filter_callback(sys, handle, IRP_MJ_ACQUIRE_FOR_CC_FLUSH, NULL);
}

NTSTATUS fltsim_io_release_for_cc_flush(fltsim_system *sys, HANDLE handle)
{
    return fs_filter_callback(sys, handle, IRP_MJ_RELEASE_FOR_CC_FLUSH, NULL);
}

/* ---- byte-range locks ---- */

static NTSTATUS lock_control(fltsim_system *sys, HANDLE handle, UCHAR minor, LONGLONG offset,
                             LONGLONG length, ULONG key, BOOLEAN fail_immediately,
                             BOOLEAN exclusive, ULONG flags, IO_STATUS_BLOCK *iosb)
{
    bool single = minor == IRP_MN_LOCK || minor == IRP_MN_UNLOCK_SINGLE;
    if ((flags & ~(ULONG)(FLTSIM_IO_FAST | FLTSIM_IO_FAST_ONLY | FLTSIM_IO_KERNEL_MODE)) != 0 ||
        (single && (offset < 0 || length < 0))) {
        fltsim__set_iosb(iosb, STATUS_INVALID_PARAMETER, 0);
        return STATUS_INVALID_PARAMETER;
    }
    struct io_file *file;
    NTSTATUS status = fltsim__io_begin(sys, handle, FILE_READ_DATA | FILE_WRITE_DATA, flags, &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    LARGE_INTEGER len = {.QuadPart = length};
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.major = IRP_MJ_LOCK_CONTROL;
    req.minor = minor;
    req.parameters.LockControl.Length = single ? &len : NULL;
    req.parameters.LockControl.Key = key;
    req.parameters.LockControl.ByteOffset.QuadPart = single ? offset : 0;
    req.parameters.LockControl.ProcessId = NULL; /* no EPROCESS objects (io.h) */
    if (flags & (FLTSIM_IO_FAST | FLTSIM_IO_FAST_ONLY)) {
        /* FastIoLock / FastIoUnlockSingle / FastIoUnlockAll(ByKey). */
        req.kind = FLTSIM_OP_FAST_IO;
        if (minor == IRP_MN_LOCK) {
            req.parameters.LockControl.FailImmediately = fail_immediately;
            req.parameters.LockControl.ExclusiveLock = exclusive;
        }
        status = fltsim__io_dispatch(file, &req, flags, iosb);
        if (status != STATUS_FLT_DISALLOW_FAST_IO || (flags & FLTSIM_IO_FAST_ONLY)) {
            fltsim__file_unref(file);
            return status;
        }
        memset(&req.parameters, 0, sizeof(req.parameters));
        req.parameters.LockControl.Length = single ? &len : NULL;
        req.parameters.LockControl.Key = key;
        req.parameters.LockControl.ByteOffset.QuadPart = single ? offset : 0;
        req.op_id = 0;
        memset(&req.io_status, 0, sizeof(req.io_status));
    }
    req.kind = FLTSIM_OP_IRP;
    if (minor == IRP_MN_LOCK)
        req.operation_flags = (UCHAR)((fail_immediately ? SL_FAIL_IMMEDIATELY : 0) |
                                      (exclusive ? SL_EXCLUSIVE_LOCK : 0));
    if (file->fo.Flags & FO_SYNCHRONOUS_IO)
        req.irp_flags |= IRP_SYNCHRONOUS_API;
    status = fltsim__io_dispatch(file, &req, flags, iosb);
    fltsim__file_unref(file);
    return status;
}

NTSTATUS fltsim_io_lock(fltsim_system *sys, HANDLE handle, LONGLONG offset, LONGLONG length,
                        ULONG key, BOOLEAN fail_immediately, BOOLEAN exclusive, ULONG flags,
                        IO_STATUS_BLOCK *iosb)
{
    return lock_control(sys, handle, IRP_MN_LOCK, offset, length, key, fail_immediately, exclusive,
                        flags, iosb);
}

NTSTATUS fltsim_io_unlock(fltsim_system *sys, HANDLE handle, UCHAR minor, LONGLONG offset,
                          LONGLONG length, ULONG key, ULONG flags, IO_STATUS_BLOCK *iosb)
{
    if (minor != IRP_MN_UNLOCK_SINGLE && minor != IRP_MN_UNLOCK_ALL &&
        minor != IRP_MN_UNLOCK_ALL_BY_KEY) {
        fltsim__set_iosb(iosb, STATUS_INVALID_PARAMETER, 0);
        return STATUS_INVALID_PARAMETER;
    }
    return lock_control(sys, handle, minor, offset, length, key, FALSE, FALSE, flags, iosb);
}

/* ---- file-system and device controls ---- */

/* The access a control code names in its access bits. */
static ACCESS_MASK control_access(ULONG code)
{
    ACCESS_MASK a = 0;
    if ((code >> 14) & FILE_READ_ACCESS)
        a |= FILE_READ_DATA;
    if ((code >> 14) & FILE_WRITE_ACCESS)
        a |= FILE_WRITE_DATA;
    return a;
}

static NTSTATUS control(fltsim_system *sys, HANDLE handle, UCHAR major, ULONG code, const void *in,
                        ULONG in_length, void *out, ULONG out_length, ULONG flags,
                        IO_STATUS_BLOCK *iosb)
{
    if ((flags & ~(ULONG)(FLTSIM_IO_FAST | FLTSIM_IO_FAST_ONLY | FLTSIM_IO_KERNEL_MODE)) != 0 ||
        (in == NULL && in_length != 0) || (out == NULL && out_length != 0)) {
        fltsim__set_iosb(iosb, STATUS_INVALID_PARAMETER, 0);
        return STATUS_INVALID_PARAMETER;
    }
    struct io_file *file = NULL;
    ACCESS_MASK needed = control_access(code), granted = 0;
    NTSTATUS status = fltsim__io_begin_granted(sys, handle, 0, flags, &file, &granted);
    /* Every right the code names is needed (IopXxxControlFile). */
    if (NT_SUCCESS(status) && !(flags & FLTSIM_IO_KERNEL_MODE) && (granted & needed) != needed) {
        fltsim__file_unref(file);
        status = STATUS_ACCESS_DENIED;
    }
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    /* The parameters cannot be const in the WDK's layout. */
    void *input;
    memcpy(&input, &in, sizeof(input));
    struct fltsim_request req;
    bool dev = major == IRP_MJ_DEVICE_CONTROL;
    if (dev && (flags & (FLTSIM_IO_FAST | FLTSIM_IO_FAST_ONLY))) {
        /* FastIoDeviceControl: the caller's buffers as they are. */
        memset(&req, 0, sizeof(req));
        req.kind = FLTSIM_OP_FAST_IO;
        req.major = major;
        req.parameters.DeviceIoControl.FastIo.OutputBufferLength = out_length;
        req.parameters.DeviceIoControl.FastIo.InputBufferLength = in_length;
        req.parameters.DeviceIoControl.FastIo.IoControlCode = code;
        req.parameters.DeviceIoControl.FastIo.InputBuffer = input;
        req.parameters.DeviceIoControl.FastIo.OutputBuffer = out;
        status = fltsim__io_dispatch(file, &req, flags, iosb);
        if (status != STATUS_FLT_DISALLOW_FAST_IO || (flags & FLTSIM_IO_FAST_ONLY)) {
            fltsim__file_unref(file);
            return status;
        }
    }
    ULONG method = METHOD_FROM_CTL_CODE(code);
    ULONG sys_length = method == METHOD_BUFFERED ? (in_length > out_length ? in_length : out_length)
                                                 : (method == METHOD_NEITHER ? 0 : in_length);
    void *system_buffer = NULL;
    PMDL mdl = NULL;
    if (sys_length != 0 && (system_buffer = calloc(1, sys_length)) == NULL) {
        fltsim__file_unref(file);
        fltsim__set_iosb(iosb, STATUS_INSUFFICIENT_RESOURCES, 0);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    if (system_buffer != NULL && in_length != 0)
        memcpy(system_buffer, in, in_length);

    fltsim__irp_request(&req, file, major, 0);
    req.minor = dev ? 0 : IRP_MN_USER_FS_REQUEST;
    /* FileSystemControl and DeviceIoControl share one layout: the three
     * lengths, then the Neither view's pointers, which the Buffered and
     * Direct views overlay (dispatch.c checks it). */
    _Static_assert(offsetof(FLT_PARAMETERS, FileSystemControl.Neither.OutputBuffer) ==
                       offsetof(FLT_PARAMETERS, DeviceIoControl.Neither.OutputBuffer),
                   "control layouts");
    req.parameters.DeviceIoControl.Neither.OutputBufferLength = out_length;
    req.parameters.DeviceIoControl.Neither.InputBufferLength = in_length;
    req.parameters.DeviceIoControl.Neither.IoControlCode = code;
    switch (method) {
    case METHOD_BUFFERED:
        req.irp_flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
        if (out_length != 0)
            req.irp_flags |= IRP_INPUT_OPERATION;
        req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
        req.parameters.DeviceIoControl.Buffered.SystemBuffer = system_buffer;
        break;
    case METHOD_NEITHER:
        req.parameters.DeviceIoControl.Neither.InputBuffer = input;
        req.parameters.DeviceIoControl.Neither.OutputBuffer = out;
        break;
    default:
        /* Direct: the output buffer locked into an MDL, for the driver to
         * read (METHOD_IN_DIRECT) or to write (METHOD_OUT_DIRECT). */
        status = fltsim__io_lock_buffer(
            out, out_length, method == METHOD_IN_DIRECT ? IoReadAccess : IoWriteAccess,
            (flags & FLTSIM_IO_KERNEL_MODE) ? KernelMode : UserMode, &mdl);
        if (!NT_SUCCESS(status)) {
            free(system_buffer);
            fltsim__file_unref(file);
            fltsim__set_iosb(iosb, status, 0);
            return status;
        }
        req.parameters.DeviceIoControl.Direct.InputSystemBuffer = system_buffer;
        req.parameters.DeviceIoControl.Direct.OutputBuffer = out;
        req.parameters.DeviceIoControl.Direct.OutputMdlAddress = mdl;
        break;
    }
    status = fltsim__io_dispatch(file, &req, flags, iosb);
    fltsim__io_unlock_buffer(mdl);
    ULONG_PTR copied = req.io_status.Information;
    if (method == METHOD_BUFFERED && !NT_ERROR(status) && out_length != 0 && system_buffer != NULL)
        memcpy(out, system_buffer, copied < out_length ? copied : out_length);
    free(system_buffer);
    fltsim__file_unref(file);
    return status;
}

NTSTATUS fltsim_io_fs_control(fltsim_system *sys, HANDLE handle, ULONG code, const void *in,
                              ULONG in_length, void *out, ULONG out_length, IO_STATUS_BLOCK *iosb)
{
    return control(sys, handle, IRP_MJ_FILE_SYSTEM_CONTROL, code, in, in_length, out, out_length, 0,
                   iosb);
}

NTSTATUS fltsim_io_device_control(fltsim_system *sys, HANDLE handle, ULONG code, const void *in,
                                  ULONG in_length, void *out, ULONG out_length, ULONG flags,
                                  IO_STATUS_BLOCK *iosb)
{
    return control(sys, handle, IRP_MJ_DEVICE_CONTROL, code, in, in_length, out, out_length, flags,
                   iosb);
}
