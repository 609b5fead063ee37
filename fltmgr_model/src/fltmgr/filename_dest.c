/*
 * The name routines around FltGetFileNameInformation (SPEC 7.3):
 * FltGetDestinationFileNameInformation (the target of a rename or a link:
 * a bare name in the file's directory, or a full path on the volume),
 * FltIsDirectory, FltGetVolumeGuidName (a GUID per simulated volume, stable
 * because made from its device name) and FltGetTunneledName (fltsim's file
 * systems tunnel nothing). Names are built by filename.c (or a name
 * provider, name_provider.c), blocks are filename_cache.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filename_internal.h"

/* ---- FltGetDestinationFileNameInformation ---- */

static bool has_prefix_ci(const WCHAR *s, size_t n, const WCHAR *prefix, size_t *plen)
{
    size_t k = 0;
    while (prefix[k] != 0)
        k++;
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (RtlUpcaseUnicodeChar(s[i]) != RtlUpcaseUnicodeChar(prefix[i]))
            return false;
    *plen = k;
    return true;
}

/* The path on the volume a full target name means, or an error: another
 * volume is STATUS_NOT_SAME_DEVICE. */
static NTSTATUS full_target(PFLT_VOLUME volume, const WCHAR *name, size_t n, size_t *skip)
{
    size_t k;
    const UNICODE_STRING *dev = &volume->device_name;
    size_t dn = dev->Length / sizeof(WCHAR);
    if (n > dn && name[dn] == L'\\') {
        UNICODE_STRING head = {(USHORT)(dn * sizeof(WCHAR)), (USHORT)(dn * sizeof(WCHAR)),
                               (PWCH)name};
        if (RtlEqualUnicodeString(&head, dev, TRUE)) {
            *skip = dn;
            return STATUS_SUCCESS;
        }
    }
    if (has_prefix_ci(name, n, L"\\??\\", &k) || has_prefix_ci(name, n, L"\\DosDevices\\", &k)) {
        if (n >= k + 3 && name[k + 1] == L':' && name[k + 2] == L'\\') {
            if (volume->drive_letter == 0 ||
                RtlUpcaseUnicodeChar(name[k]) != RtlUpcaseUnicodeChar(volume->drive_letter))
                return STATUS_NOT_SAME_DEVICE;
            *skip = k + 2;
            return STATUS_SUCCESS;
        }
    }
    if (has_prefix_ci(name, n, L"\\Device\\", &k))
        return STATUS_NOT_SAME_DEVICE;
    return STATUS_OBJECT_PATH_SYNTAX_BAD;
}

/* The target's name through the name provider below the caller
 * (name_provider.c): its NormalizeNameComponent(Ex) gets
 * FLTFL_NORMALIZE_NAME_DESTINATION_FILE_NAME. */
static NTSTATUS provider_destination(PFLT_INSTANCE provider, PFLT_INSTANCE inst, PFILE_OBJECT fo,
                                     const WCHAR *name, size_t n, FLT_FILE_NAME_OPTIONS options,
                                     const char *file, int line, PFLT_FILE_NAME_INFORMATION *out)
{
    static const char api[] = "FltGetDestinationFileNameInformation";
    PFLT_VOLUME volume = inst->volume;
    const WCHAR *target = name;
    size_t units = n;
    bool bare = name[0] != L'\\';
    NTSTATUS status = STATUS_SUCCESS;
    if (!bare) {
        size_t skip = 0;
        status = full_target(volume, name, n, &skip);
        target += skip;
        units -= skip;
    }
    for (size_t i = 0; bare && i < n; i++)
        if (name[i] == L'\\')
            status = STATUS_OBJECT_NAME_INVALID;
    WCHAR *full = NULL;
    size_t full_units = 0;
    if (NT_SUCCESS(status)) {
        struct fltsim__name_request rq = {api, fo, NULL, options, false, false};
        status = fltsim__name_provider_destination(provider, &rq, target, units, bare, &full,
                                                   &full_units);
    }
    char who[sizeof(provider->filter->name8)];
    memcpy(who, provider->filter->name8, sizeof(who));
    fltsim__name_provider_done(provider);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status,
                            "%s: the target's name through the name provider %s failed "
                            "(0x%08x)",
                            api, who, (unsigned)status);
    size_t d = volume->device_name.Length / sizeof(WCHAR);
    status = fltsim__name_make(volume->sys, FltGetFileNameFormat(options), &volume->device_name,
                               full + d, full_units - d, file, line, out);
    free(full);
    return status;
}

static NTSTATUS rooted_target(const char *api, PFLT_INSTANCE Instance, HANDLE RootDirectory,
                              const WCHAR *name, size_t *n, WCHAR **out);
static NTSTATUS destination(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, PWSTR FileName,
                            size_t n, FLT_FILE_NAME_OPTIONS NameOptions, const char *file, int line,
                            PFLT_FILE_NAME_INFORMATION *Out);

NTSTATUS fltsim_FltGetDestinationFileNameInformation_at(
    PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, HANDLE RootDirectory, PWSTR FileName,
    ULONG FileNameLength, FLT_FILE_NAME_OPTIONS NameOptions, PFLT_FILE_NAME_INFORMATION *Out,
    const char *file, int line)
{
    static const char api[] = "FltGetDestinationFileNameInformation";
    if (Out != NULL)
        *Out = NULL;
    FLT_FILE_NAME_OPTIONS format = FltGetFileNameFormat(NameOptions);
    FLT_FILE_NAME_OPTIONS method = FltGetFileNameQueryMethod(NameOptions);
    if (Out == NULL || !fltsim__is_instance(Instance) || FileObject == NULL ||
        fltsim_volume_of_file_object(FileObject) != Instance->volume || FileName == NULL ||
        FileNameLength == 0 || FileNameLength % sizeof(WCHAR) != 0 || FileNameLength > MAXUSHORT)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: Instance, a FileObject on its volume, FileName and an even, "
                            "non-zero FileNameLength are required",
                            api);
    if ((format != FLT_FILE_NAME_NORMALIZED && format != FLT_FILE_NAME_OPENED) ||
        method < FLT_FILE_NAME_QUERY_DEFAULT ||
        method > FLT_FILE_NAME_QUERY_ALWAYS_ALLOW_CACHE_LOOKUP || (method & 0xff) != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: NameOptions 0x%08x: one format (NORMALIZED or OPENED, not SHORT) "
                            "and one query method",
                            api, (unsigned)NameOptions);
    PFLT_VOLUME volume = Instance->volume;
    if (fltsim__tls()->irql > APC_LEVEL) {
        fltsim__report(volume->sys, NULL, Instance, NULL, "V29", "7.3",
                       "%s above APC_LEVEL: a name query is unsafe there; returned "
                       "STATUS_FLT_INVALID_NAME_REQUEST",
                       api);
        return fltsim__fail(STATUS_FLT_INVALID_NAME_REQUEST, "%s: above APC_LEVEL", api);
    }
    /* The destination has no file object: nothing of it is cached. */
    if (method == FLT_FILE_NAME_QUERY_CACHE_ONLY)
        return fltsim__fail(STATUS_FLT_NAME_CACHE_MISS, "%s: the name is not in the cache", api);

    size_t n = FileNameLength / sizeof(WCHAR);
    WCHAR *rooted = NULL;
    if (RootDirectory != NULL) {
        NTSTATUS status = rooted_target(api, Instance, RootDirectory, FileName, &n, &rooted);
        if (!NT_SUCCESS(status))
            return status;
        FileName = rooted;
    }
    NTSTATUS status = destination(Instance, FileObject, FileName, n, NameOptions, file, line, Out);
    free(rooted);
    return status;
}

/* Where a name relative to RootDirectory (the directory handle of a
 * FILE_RENAME_INFORMATION or FILE_LINK_INFORMATION, the requestor's)
 * leads: the directory's device and path, a separator, the name. */
static NTSTATUS rooted_target(const char *api, PFLT_INSTANCE Instance, HANDLE RootDirectory,
                              const WCHAR *name, size_t *n, WCHAR **out)
{
    *out = NULL;
    const struct fltsim_io_services *io = fltsim_io_services();
    if (io == NULL)
        return fltsim__fail(STATUS_NOT_SUPPORTED,
                            "%s: no I/O manager is linked to resolve RootDirectory", api);
    PFILE_OBJECT dir = NULL;
    ACCESS_MASK granted = 0;
    NTSTATUS status =
        io->reference_handle(Instance->volume->sys, RootDirectory, 0, KernelMode, &dir, &granted);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: RootDirectory is not a file handle of the caller", api);
    WCHAR *path = NULL;
    size_t units = 0;
    if (fltsim_volume_of_file_object(dir) != Instance->volume)
        status = STATUS_NOT_SAME_DEVICE;
    else
        status = fltsim__name_query_fs(Instance, dir, FileNameInformation, &path, &units);
    io->dereference(dir);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: the RootDirectory's name (0x%08x)", api, (unsigned)status);
    const UNICODE_STRING *dev = &Instance->volume->device_name;
    size_t dn = dev->Length / sizeof(WCHAR);
    bool sep = units == 0 || path[units - 1] != L'\\';
    WCHAR *full = malloc((dn + units + 1 + *n) * sizeof(WCHAR));
    if (full == NULL) {
        free(path);
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
    }
    memcpy(full, dev->Buffer, dn * sizeof(WCHAR));
    if (units != 0)
        memcpy(full + dn, path, units * sizeof(WCHAR));
    size_t at = dn + units;
    if (sep)
        full[at++] = L'\\';
    memcpy(full + at, name, *n * sizeof(WCHAR));
    *n = at + *n;
    free(path);
    *out = full;
    return STATUS_SUCCESS;
}

/* The destination name of a bare or full target name. */
static NTSTATUS destination(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, PWSTR FileName,
                            size_t n, FLT_FILE_NAME_OPTIONS NameOptions, const char *file, int line,
                            PFLT_FILE_NAME_INFORMATION *Out)
{
    static const char api[] = "FltGetDestinationFileNameInformation";
    PFLT_VOLUME volume = Instance->volume;
    FLT_FILE_NAME_OPTIONS format = FltGetFileNameFormat(NameOptions);
    PFLT_INSTANCE provider = fltsim__name_provider_below(
        Instance, (NameOptions & FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER) != 0);
    if (provider != NULL)
        return provider_destination(provider, Instance, FileObject, FileName, n, NameOptions, file,
                                    line, Out);
    WCHAR *path = NULL;
    size_t units = 0;
    NTSTATUS status;
    if (FileName[0] == L'\\') {
        size_t skip = 0;
        status = full_target(volume, FileName, n, &skip);
        if (!NT_SUCCESS(status))
            return fltsim__fail(status, "%s: the full target name is not on the instance's volume",
                                api);
        units = n - skip;
        path = malloc((units + 1) * sizeof(WCHAR));
        if (path == NULL)
            return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
        memcpy(path, FileName + skip, units * sizeof(WCHAR));
    } else {
        /* A bare name: in the directory the file is in now. */
        for (size_t i = 0; i < n; i++)
            if (FileName[i] == L'\\')
                return fltsim__fail(STATUS_OBJECT_NAME_INVALID,
                                    "%s: a relative target name without RootDirectory must be a "
                                    "bare name",
                                    api);
        WCHAR *current;
        size_t cur;
        status = fltsim__name_query_fs(Instance, FileObject, FileNameInformation, &current, &cur);
        if (!NT_SUCCESS(status))
            return fltsim__fail(status, "%s: the file system's name query failed (0x%08x)", api,
                                (unsigned)status);
        while (cur > 0 && current[cur - 1] != L'\\')
            cur--;
        units = cur + n;
        path = malloc((units + 1) * sizeof(WCHAR));
        if (path == NULL) {
            free(current);
            return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
        }
        memcpy(path, current, cur * sizeof(WCHAR));
        memcpy(path + cur, FileName, n * sizeof(WCHAR));
        free(current);
    }
    if (format == FLT_FILE_NAME_NORMALIZED) {
        WCHAR *normalized;
        status = fltsim__name_normalize_path(Instance, path, units, false, &normalized, &units);
        free(path);
        if (!NT_SUCCESS(status))
            return fltsim__fail(status, "%s: the target's directory could not be opened (0x%08x)",
                                api, (unsigned)status);
        path = normalized;
    }
    status =
        fltsim__name_make(volume->sys, format, &volume->device_name, path, units, file, line, Out);
    free(path);
    return status;
}

NTSTATUS(FltGetDestinationFileNameInformation)
(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, HANDLE RootDirectory, PWSTR FileName,
 ULONG FileNameLength, FLT_FILE_NAME_OPTIONS NameOptions, PFLT_FILE_NAME_INFORMATION *Out)
{
    return fltsim_FltGetDestinationFileNameInformation_at(
        Instance, FileObject, RootDirectory, FileName, FileNameLength, NameOptions, Out, NULL, 0);
}

/* ---- FltIsDirectory ---- */

NTSTATUS FltIsDirectory(PFILE_OBJECT FileObject, PFLT_INSTANCE Instance, PBOOLEAN IsDirectory)
{
    static const char api[] = "FltIsDirectory";
    if (IsDirectory == NULL || !fltsim__is_instance(Instance) || FileObject == NULL ||
        fltsim_volume_of_file_object(FileObject) != Instance->volume)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: FileObject on the Instance's volume and IsDirectory are required",
                            api);
    *IsDirectory = FALSE;
    if (fltsim__tls()->irql > APC_LEVEL) {
        fltsim__check_irql(Instance->volume->sys, APC_LEVEL, api);
        return fltsim__fail(STATUS_INVALID_DEVICE_STATE, "%s: above APC_LEVEL", api);
    }
    FILE_STANDARD_INFORMATION info;
    memset(&info, 0, sizeof(info));
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_QUERY_INFORMATION;
    req.irp_flags = IRP_SYNCHRONOUS_API;
    req.callback_flags = FLTFL_CALLBACK_DATA_GENERATED_IO;
    req.file_object = FileObject;
    req.requestor_mode = KernelMode;
    req.parameters.QueryFileInformation.Length = sizeof(info);
    req.parameters.QueryFileInformation.FileInformationClass = FileStandardInformation;
    req.parameters.QueryFileInformation.InfoBuffer = &info;
    NTSTATUS status = fltsim__request_dispatch_below(Instance->volume, &req, Instance);
    if (req.op_id != 0)
        status = req.io_status.Status;
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: the file system's query failed (0x%08x)", api,
                            (unsigned)status);
    *IsDirectory = info.Directory ? TRUE : FALSE;
    return STATUS_SUCCESS;
}

/* ---- FltGetVolumeGuidName ---- */

/* "\??\Volume{" 36 "}" */
#define GUID_NAME_UNITS 48u

NTSTATUS FltGetVolumeGuidName(PFLT_VOLUME Volume, PUNICODE_STRING VolumeGuidName,
                              PULONG BufferSizeNeeded)
{
    static const char api[] = "FltGetVolumeGuidName";
    if (!fltsim__is_volume(Volume) || (VolumeGuidName == NULL && BufferSizeNeeded == NULL))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: Volume is required, and VolumeGuidName or BufferSizeNeeded", api);
    if (Volume->fs_type == FLT_FSTYPE_LANMAN || Volume->fs_type == FLT_FSTYPE_MUP ||
        Volume->fs_type == FLT_FSTYPE_WEBDAV || Volume->fs_type == FLT_FSTYPE_RDPDR ||
        Volume->fs_type == FLT_FSTYPE_NFS)
        return fltsim__fail(STATUS_INVALID_DEVICE_REQUEST, "%s: a network volume has no GUID", api);
    ULONG need = GUID_NAME_UNITS * sizeof(WCHAR);
    if (VolumeGuidName == NULL || VolumeGuidName->MaximumLength < need ||
        VolumeGuidName->Buffer == NULL) {
        if (BufferSizeNeeded != NULL)
            *BufferSizeNeeded = need;
        return fltsim__fail(STATUS_BUFFER_TOO_SMALL, "%s: %u bytes are needed", api,
                            (unsigned)need);
    }
    /* A version-4-shaped GUID from two FNV-1a hashes of the device name:
     * the same volume name gives the same GUID in every run. */
    ULONG64 h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;
    const UNICODE_STRING *dev = &Volume->device_name;
    for (USHORT i = 0; i < dev->Length / sizeof(WCHAR); i++) {
        WCHAR c = RtlUpcaseUnicodeChar(dev->Buffer[i]);
        h1 = (h1 ^ c) * 0x100000001b3ull;
        h2 = (h2 ^ (c + 0x55u)) * 0x100000001b3ull;
    }
    char text[GUID_NAME_UNITS + 1];
    snprintf(text, sizeof(text), "\\??\\Volume{%08x-%04x-4%03x-%04x-%012llx}", (unsigned)(h1 >> 32),
             (unsigned)((h1 >> 16) & 0xffff), (unsigned)(h1 & 0xfff),
             (unsigned)(0x8000 | ((h2 >> 48) & 0x3fff)),
             (unsigned long long)(h2 & 0xffffffffffffull));
    for (ULONG i = 0; i < GUID_NAME_UNITS; i++)
        VolumeGuidName->Buffer[i] = (WCHAR)text[i];
    VolumeGuidName->Length = (USHORT)need;
    if (BufferSizeNeeded != NULL)
        *BufferSizeNeeded = need;
    return STATUS_SUCCESS;
}

/* ---- FltGetTunneledName ---- */

NTSTATUS FltGetTunneledName(PFLT_CALLBACK_DATA CallbackData, PFLT_FILE_NAME_INFORMATION Info,
                            PFLT_FILE_NAME_INFORMATION *RetTunneledFileNameInformation)
{
    static const char api[] = "FltGetTunneledName";
    if (RetTunneledFileNameInformation != NULL)
        *RetTunneledFileNameInformation = NULL;
    if (CallbackData == NULL || fltsim__op_from_data(CallbackData) == NULL || Info == NULL ||
        RetTunneledFileNameInformation == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: CallbackData, FileNameInformation and "
                            "RetTunneledFileNameInformation are required",
                            api);
    /* fltsim's file systems keep no tunnel cache: no name was tunneled, so
     * the name the filter got stays valid, as Windows says when nothing was
     * tunneled. */
    return STATUS_SUCCESS;
}
