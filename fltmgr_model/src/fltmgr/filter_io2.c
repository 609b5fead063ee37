/*
 * The rest of the Flt file services a minifilter issues below its instance
 * (SPEC 2.3, issue 18 item 2): FltFlushBuffers2, FltQueryVolumeInformation,
 * FltTagFile / FltUntagFile, FltQueryEaFile / FltSetEaFile and
 * FltQuerySecurityObject / FltSetSecurityObject. Each builds the request the
 * I/O manager would and sends it through filter_io.c's
 * fltsim__flt_send_below, so the file system below gives the answer (memfs
 * and hostfs keep no EAs and a fixed security descriptor: their statuses
 * come back unchanged).
 */
#include <stdlib.h>
#include <string.h>

#include "filter_io_internal.h"

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

/* ---- flushing ---- */

NTSTATUS FltFlushBuffers2(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, ULONG FlushType,
                          PFLT_CALLBACK_DATA CallbackData)
{
    static const char api[] = "FltFlushBuffers2";
    /* CallbackData only carries the caller's IRP extensions down
     * (FltPropagateIrpExtension); fltsim models none, so there is nothing to
     * propagate. */
    (void)CallbackData;
    UCHAR minor;
    switch (FlushType) {
    case 0:
        minor = 0;
        break;
    case FLT_FLUSH_TYPE_FLUSH_AND_PURGE:
        minor = IRP_MN_FLUSH_AND_PURGE;
        break;
    case FLT_FLUSH_TYPE_FILE_DATA_ONLY:
        minor = IRP_MN_FLUSH_DATA_ONLY;
        break;
    case FLT_FLUSH_TYPE_NO_SYNC:
        minor = IRP_MN_FLUSH_NO_SYNC;
        break;
    case FLT_FLUSH_TYPE_DATA_SYNC_ONLY:
        minor = IRP_MN_FLUSH_DATA_SYNC_ONLY;
        break;
    default:
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: FlushType 0x%x is not one FLT_FLUSH_TYPE_* value", api,
                            (unsigned)FlushType);
    }
    struct fltsim_request req;
    request(&req, IRP_MJ_FLUSH_BUFFERS, minor);
    return fltsim__flt_send_below(api, Instance, FileObject, &req, NULL);
}

/* ---- the volume, by instance ---- */

NTSTATUS FltQueryVolumeInformation(PFLT_INSTANCE Instance, PIO_STATUS_BLOCK Iosb,
                                   PVOID FsInformation, ULONG Length,
                                   FS_INFORMATION_CLASS FsInformationClass)
{
    static const char api[] = "FltQueryVolumeInformation";
    if (Iosb == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Iosb is required", api);
    Iosb->Status = STATUS_SUCCESS;
    Iosb->Information = 0;
    NTSTATUS status = STATUS_SUCCESS;
    if (!fltsim__is_instance(Instance))
        status = fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Instance is not an instance", api);
    else if (FsInformation == NULL || Length == 0)
        status = fltsim__fail(STATUS_INVALID_PARAMETER, "%s: FsInformation is required", api);
    if (!NT_SUCCESS(status)) {
        Iosb->Status = status;
        return status;
    }
    /* FltMgr asks through a volume open of its own below the instance: the
     * instances below see the open, the query, the cleanup and the close. */
    UNICODE_STRING name = *fltsim_volume_device_name(Instance->volume);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE, NULL, NULL);
    HANDLE handle = NULL;
    PFILE_OBJECT fo = NULL;
    IO_STATUS_BLOCK open_iosb;
    status = FltCreateFileEx(Instance->filter, Instance, &handle, &fo,
                             FILE_READ_ATTRIBUTES | SYNCHRONIZE, &oa, &open_iosb, NULL, 0,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN,
                             FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0, IO_IGNORE_SHARE_ACCESS_CHECK);
    if (!NT_SUCCESS(status)) {
        Iosb->Status = status;
        return fltsim__fail(status, "%s: opening the volume: 0x%08x", api, (unsigned)status);
    }
    ULONG returned = 0;
    status = FltQueryVolumeInformationFile(Instance, fo, FsInformation, Length, FsInformationClass,
                                           &returned);
    ObDereferenceObject(fo);
    (void)FltClose(handle);
    Iosb->Status = status;
    Iosb->Information = returned;
    return status;
}

/* ---- reparse tags ---- */

/* The FSCTL_SET/DELETE_REPARSE_POINT buffer FltTagFile and FltUntagFile
 * send: REPARSE_DATA_BUFFER's header for a Microsoft tag, else
 * REPARSE_GUID_DATA_BUFFER's with the GUID (then required); data after it.
 * NULL with *status set when it cannot be built. */
static UCHAR *tag_buffer(const char *api, ULONG tag, const GUID *guid, const void *data,
                         USHORT data_length, ULONG *length, NTSTATUS *status)
{
    bool microsoft = IsReparseTagMicrosoft(tag) != 0;
    if (!microsoft && guid == NULL) {
        *status = fltsim__fail(STATUS_INVALID_PARAMETER,
                               "%s: FileTag 0x%08x is not a Microsoft tag and Guid is NULL", api,
                               (unsigned)tag);
        return NULL;
    }
    if (data == NULL && data_length != 0) {
        *status = fltsim__fail(STATUS_INVALID_PARAMETER, "%s: DataBuffer is NULL", api);
        return NULL;
    }
    ULONG header = microsoft ? (ULONG)REPARSE_DATA_BUFFER_HEADER_SIZE
                             : (ULONG)REPARSE_GUID_DATA_BUFFER_HEADER_SIZE;
    *length = header + data_length;
    UCHAR *buf = calloc(1, *length);
    if (buf == NULL) {
        *status = fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
        return NULL;
    }
    memcpy(buf, &tag, sizeof(tag));
    memcpy(buf + FIELD_OFFSET(REPARSE_DATA_BUFFER, ReparseDataLength), &data_length,
           sizeof(data_length));
    if (!microsoft)
        memcpy(buf + FIELD_OFFSET(REPARSE_GUID_DATA_BUFFER, ReparseGuid), guid, sizeof(*guid));
    if (data_length != 0)
        memcpy(buf + header, data, data_length);
    *status = STATUS_SUCCESS;
    return buf;
}

NTSTATUS FltTagFile(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject, ULONG FileTag,
                    GUID *Guid, PVOID DataBuffer, USHORT DataBufferLength)
{
    static const char api[] = "FltTagFile";
    ULONG length;
    NTSTATUS status;
    UCHAR *buf = tag_buffer(api, FileTag, Guid, DataBuffer, DataBufferLength, &length, &status);
    if (buf == NULL)
        return status;
    status = fltsim__flt_control(api, IRP_MJ_FILE_SYSTEM_CONTROL, InitiatingInstance, FileObject,
                                 FSCTL_SET_REPARSE_POINT, buf, length, NULL, 0, NULL);
    free(buf);
    return status;
}

NTSTATUS FltUntagFile(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject, ULONG FileTag,
                      GUID *Guid)
{
    static const char api[] = "FltUntagFile";
    ULONG length;
    NTSTATUS status;
    UCHAR *buf = tag_buffer(api, FileTag, Guid, NULL, 0, &length, &status);
    if (buf == NULL)
        return status;
    status = fltsim__flt_control(api, IRP_MJ_FILE_SYSTEM_CONTROL, InitiatingInstance, FileObject,
                                 FSCTL_DELETE_REPARSE_POINT, buf, length, NULL, 0, NULL);
    free(buf);
    return status;
}

/* ---- extended attributes ---- */

NTSTATUS FltQueryEaFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, PVOID ReturnedEaData,
                        ULONG Length, BOOLEAN ReturnSingleEntry, PVOID EaList, ULONG EaListLength,
                        PULONG EaIndex, BOOLEAN RestartScan, PULONG LengthReturned)
{
    static const char api[] = "FltQueryEaFile";
    if (LengthReturned != NULL)
        *LengthReturned = 0;
    if (ReturnedEaData == NULL || Length == 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: ReturnedEaData is required", api);
    if (EaList == NULL && EaListLength != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: EaList is NULL with a length", api);
    struct fltsim_request req;
    request(&req, IRP_MJ_QUERY_EA, 0);
    req.operation_flags =
        (UCHAR)((ReturnSingleEntry ? SL_RETURN_SINGLE_ENTRY : 0) |
                (RestartScan ? SL_RESTART_SCAN : 0) | (EaIndex != NULL ? SL_INDEX_SPECIFIED : 0));
    req.parameters.QueryEa.Length = Length;
    req.parameters.QueryEa.EaList = EaList;
    req.parameters.QueryEa.EaListLength = EaListLength;
    req.parameters.QueryEa.EaIndex = EaIndex != NULL ? *EaIndex : 0;
    req.parameters.QueryEa.EaBuffer = ReturnedEaData;
    ULONG_PTR info;
    NTSTATUS status = fltsim__flt_send_below(api, Instance, FileObject, &req, &info);
    if (LengthReturned != NULL && !NT_ERROR(status))
        *LengthReturned = to_ulong(info);
    return status;
}

NTSTATUS FltSetEaFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, PVOID EaBuffer, ULONG Length)
{
    static const char api[] = "FltSetEaFile";
    if (EaBuffer == NULL || Length == 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: EaBuffer is required", api);
    struct fltsim_request req;
    request(&req, IRP_MJ_SET_EA, 0);
    req.parameters.SetEa.Length = Length;
    req.parameters.SetEa.EaBuffer = EaBuffer;
    return fltsim__flt_send_below(api, Instance, FileObject, &req, NULL);
}

/* ---- security ---- */

NTSTATUS FltQuerySecurityObject(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                SECURITY_INFORMATION SecurityInformation,
                                PSECURITY_DESCRIPTOR SecurityDescriptor, ULONG Length,
                                PULONG LengthNeeded)
{
    static const char api[] = "FltQuerySecurityObject";
    if (LengthNeeded != NULL)
        *LengthNeeded = 0;
    if (SecurityDescriptor == NULL && Length != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: SecurityDescriptor is NULL", api);
    struct fltsim_request req;
    request(&req, IRP_MJ_QUERY_SECURITY, 0);
    req.parameters.QuerySecurity.SecurityInformation = SecurityInformation;
    req.parameters.QuerySecurity.Length = Length;
    req.parameters.QuerySecurity.SecurityBuffer = SecurityDescriptor;
    ULONG_PTR info;
    NTSTATUS status = fltsim__flt_send_below(api, Instance, FileObject, &req, &info);
    /* As the I/O manager does for NtQuerySecurityObject: the file system's
     * STATUS_BUFFER_OVERFLOW, with the size it needs in Information, is the
     * caller's STATUS_BUFFER_TOO_SMALL and LengthNeeded. */
    if (status == STATUS_BUFFER_OVERFLOW)
        status = STATUS_BUFFER_TOO_SMALL;
    if (LengthNeeded != NULL && (NT_SUCCESS(status) || status == STATUS_BUFFER_TOO_SMALL))
        *LengthNeeded = to_ulong(info);
    return status;
}

NTSTATUS FltSetSecurityObject(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                              SECURITY_INFORMATION SecurityInformation,
                              PSECURITY_DESCRIPTOR SecurityDescriptor)
{
    static const char api[] = "FltSetSecurityObject";
    if (SecurityDescriptor == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: SecurityDescriptor is required", api);
    struct fltsim_request req;
    request(&req, IRP_MJ_SET_SECURITY, 0);
    req.parameters.SetSecurity.SecurityInformation = SecurityInformation;
    req.parameters.SetSecurity.SecurityDescriptor = SecurityDescriptor;
    return fltsim__flt_send_below(api, Instance, FileObject, &req, NULL);
}
