/*
 * The queries and sets of the simulated I/O manager: file information (with
 * the classes the I/O manager answers itself, the rename target's open and
 * delete), directory enumeration, volume information, extended attributes and
 * security descriptors. Each checks class, length and access before an IRP
 * exists, and copies through a system buffer where the I/O manager uses
 * buffered I/O; the record sizes come from sim/common.
 */
#include <stdlib.h>
#include <string.h>

#include "common/sim_internal.h"
#include "io_internal.h"

/* ---- information ---- */

/* Fixed sizes the I/O manager checks before an IRP exists (0: no check):
 * the whole record, name included, of every class the simulator knows. */
static ULONG info_min_length(FILE_INFORMATION_CLASS c)
{
    return fltsim__file_info_size(c);
}

/* Access each information class needs (NtQuery/SetInformationFile). */
static ACCESS_MASK info_access(FILE_INFORMATION_CLASS c, bool set)
{
    if (!set) {
        switch (c) {
        case FileBasicInformation:
        case FileAllInformation:
        case FileNetworkOpenInformation:
        case FileAttributeTagInformation:
            return FILE_READ_ATTRIBUTES;
        default:
            return 0;
        }
    }
    switch (c) {
    case FileBasicInformation:
        return FILE_WRITE_ATTRIBUTES;
    case FileRenameInformation:
    case FileDispositionInformation:
    case FileDispositionInformationEx:
        return DELETE;
    case FileEndOfFileInformation:
    case FileAllocationInformation:
        return FILE_WRITE_DATA;
    default:
        return 0;
    }
}

static bool valid_info_class(FILE_INFORMATION_CLASS c)
{
    return c >= FileDirectoryInformation && c < FileMaximumInformation;
}

/* Classes the I/O manager answers itself for synchronous file objects. */
static bool query_by_io_manager(struct io_file *file, FILE_INFORMATION_CLASS c, ACCESS_MASK granted,
                                void *buffer, IO_STATUS_BLOCK *iosb, NTSTATUS *status)
{
    PFILE_OBJECT fo = &file->fo;
    switch (c) {
    case FileAccessInformation: {
        FILE_ACCESS_INFORMATION v = {granted};
        memcpy(buffer, &v, sizeof(v));
        fltsim__set_iosb(iosb, STATUS_SUCCESS, sizeof(v));
        break;
    }
    case FileModeInformation: {
        FILE_MODE_INFORMATION v = {0};
        if (fo->Flags & FO_SYNCHRONOUS_IO)
            v.Mode |= (fo->Flags & FO_ALERTABLE_IO) ? FILE_SYNCHRONOUS_IO_ALERT
                                                    : FILE_SYNCHRONOUS_IO_NONALERT;
        if (fo->Flags & FO_NO_INTERMEDIATE_BUFFERING)
            v.Mode |= FILE_NO_INTERMEDIATE_BUFFERING;
        if (fo->Flags & FO_WRITE_THROUGH)
            v.Mode |= FILE_WRITE_THROUGH;
        if (fo->Flags & FO_SEQUENTIAL_ONLY)
            v.Mode |= FILE_SEQUENTIAL_ONLY;
        memcpy(buffer, &v, sizeof(v));
        fltsim__set_iosb(iosb, STATUS_SUCCESS, sizeof(v));
        break;
    }
    case FileAlignmentInformation: {
        FILE_ALIGNMENT_INFORMATION v = {0}; /* FILE_BYTE_ALIGNMENT */
        memcpy(buffer, &v, sizeof(v));
        fltsim__set_iosb(iosb, STATUS_SUCCESS, sizeof(v));
        break;
    }
    case FilePositionInformation:
        if (!(fo->Flags & FO_SYNCHRONOUS_IO))
            return false;
        FILE_POSITION_INFORMATION v = {fo->CurrentByteOffset};
        memcpy(buffer, &v, sizeof(v));
        fltsim__set_iosb(iosb, STATUS_SUCCESS, sizeof(v));
        break;
    default:
        return false;
    }
    *status = STATUS_SUCCESS;
    return true;
}

NTSTATUS fltsim_io_query_information(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                                     FILE_INFORMATION_CLASS info_class, ULONG flags,
                                     IO_STATUS_BLOCK *iosb)
{
    NTSTATUS status;
    if (!valid_info_class(info_class)) {
        status = STATUS_INVALID_INFO_CLASS;
    } else if (length < info_min_length(info_class) || (buffer == NULL && length != 0)) {
        status = STATUS_INFO_LENGTH_MISMATCH;
    } else if ((flags & ~(ULONG)(FLTSIM_IO_FAST | FLTSIM_IO_FAST_ONLY | FLTSIM_IO_KERNEL_MODE)) !=
                   0 ||
               ((flags & FLTSIM_IO_FAST_ONLY) && !fltsim__fast_query_class(info_class))) {
        /* Fast I/O has routines for the basic, standard and network-open classes only. */
        status = STATUS_INVALID_PARAMETER;
    } else {
        struct io_file *file;
        ACCESS_MASK granted = 0;
        status = fltsim__io_begin_granted(sys, handle, info_access(info_class, false), flags, &file,
                                          &granted);
        if (NT_SUCCESS(status)) {
            if (!(flags & FLTSIM_IO_FAST_ONLY) &&
                query_by_io_manager(file, info_class, granted, buffer, iosb, &status)) {
                fltsim__file_unref(file);
                return status;
            }
            struct fltsim_request req;
            bool fast_class = info_class == FileBasicInformation ||
                              info_class == FileStandardInformation ||
                              info_class == FileNetworkOpenInformation;
            if ((flags & FLTSIM_IO_FAST_ONLY) ||
                ((flags & FLTSIM_IO_FAST) && fast_class && (file->fo.Flags & FO_SYNCHRONOUS_IO))) {
                memset(&req, 0, sizeof(req));
                req.kind = FLTSIM_OP_FAST_IO;
                req.major = IRP_MJ_QUERY_INFORMATION;
                req.parameters.QueryFileInformation.Length = length;
                req.parameters.QueryFileInformation.FileInformationClass = info_class;
                req.parameters.QueryFileInformation.InfoBuffer = buffer;
                status = fltsim__io_dispatch(file, &req, flags, iosb);
                if (status != STATUS_FLT_DISALLOW_FAST_IO || (flags & FLTSIM_IO_FAST_ONLY)) {
                    fltsim__file_unref(file);
                    return status;
                }
            }
            /* Buffered I/O: the file system works on a system buffer that is
             * copied back to the caller (FLTFL_CALLBACK_DATA_SYSTEM_BUFFER). */
            void *system_buffer = malloc(length ? length : 1);
            if (system_buffer == NULL) {
                fltsim__file_unref(file);
                fltsim__set_iosb(iosb, STATUS_INSUFFICIENT_RESOURCES, 0);
                return STATUS_INSUFFICIENT_RESOURCES;
            }
            memset(system_buffer, 0, length);
            fltsim__irp_request(&req, file, IRP_MJ_QUERY_INFORMATION,
                                IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION |
                                    IRP_DEFER_IO_COMPLETION);
            req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
            req.parameters.QueryFileInformation.Length = length;
            req.parameters.QueryFileInformation.FileInformationClass = info_class;
            req.parameters.QueryFileInformation.InfoBuffer = system_buffer;
            status = fltsim__io_dispatch(file, &req, flags, iosb);
            ULONG_PTR copied = req.io_status.Information;
            if (!NT_ERROR(status) && length != 0)
                memcpy(buffer, system_buffer, copied < length ? copied : length);
            free(system_buffer);
            fltsim__file_unref(file);
            return status;
        }
    }
    fltsim__set_iosb(iosb, status, 0);
    return status;
}

/* FileRenameInformation to a fully qualified name: the I/O manager opens the
 * target's directory (SL_OPEN_TARGET_DIRECTORY) and hands it to the file system
 * as ParentOfTarget. Returns the opened directory through *target. */
static NTSTATUS open_rename_target(fltsim_system *sys, struct io_file *file,
                                   const FILE_RENAME_INFORMATION *info, ULONG length,
                                   struct io_file **target)
{
    *target = NULL;
    ULONG chars = info->FileNameLength / sizeof(WCHAR);
    if (info->FileNameLength > length - offsetof(FILE_RENAME_INFORMATION, FileName) || chars == 0)
        return STATUS_INVALID_PARAMETER;
    bool qualified = info->FileName[0] == L'\\' || (chars >= 2 && info->FileName[1] == L':') ||
                     info->RootDirectory != NULL;
    if (!qualified) {
        for (ULONG i = 0; i < chars; i++)
            if (info->FileName[i] == L'\\')
                return STATUS_INVALID_PARAMETER;
        return STATUS_SUCCESS; /* a simple rename in the same directory */
    }
    WCHAR *path = malloc((chars + 1) * sizeof(WCHAR));
    if (path == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(path, info->FileName, chars * sizeof(WCHAR));
    path[chars] = 0;

    struct fltsim_create_params p;
    memset(&p, 0, sizeof(p));
    p.path = path;
    p.root_directory = info->RootDirectory;
    p.desired_access = FILE_WRITE_DATA | SYNCHRONIZE;
    p.share_access = FILE_SHARE_READ | FILE_SHARE_WRITE;
    p.disposition = FILE_OPEN;
    p.create_options = FILE_SYNCHRONOUS_IO_NONALERT;
    p.operation_flags = SL_OPEN_TARGET_DIRECTORY;
    p.flags = FLTSIM_IO_KERNEL_MODE;
    IO_STATUS_BLOCK iosb;
    memset(&iosb, 0, sizeof(iosb));
    struct io_file *dir;
    NTSTATUS status = fltsim__create_file(sys, &p, &dir, &iosb);
    free(path);
    if (dir == NULL)
        return status;
    if (dir->volume != file->volume || dir->device != file->device) {
        dir->handles = 1;
        fltsim__file_handle_closed(dir);
        return STATUS_NOT_SAME_DEVICE;
    }
    if (iosb.Information == FILE_EXISTS && !info->ReplaceIfExists) {
        /* The I/O manager refuses before the file system sees the rename. */
        dir->handles = 1;
        fltsim__file_handle_closed(dir);
        return STATUS_OBJECT_NAME_COLLISION;
    }
    dir->handles = 1;
    *target = dir;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim_io_set_information(fltsim_system *sys, HANDLE handle, const void *buffer,
                                   ULONG length, FILE_INFORMATION_CLASS info_class,
                                   IO_STATUS_BLOCK *iosb)
{
    NTSTATUS status;
    if (!valid_info_class(info_class)) {
        fltsim__set_iosb(iosb, STATUS_INVALID_INFO_CLASS, 0);
        return STATUS_INVALID_INFO_CLASS;
    }
    if (length < info_min_length(info_class) || buffer == NULL) {
        fltsim__set_iosb(iosb, STATUS_INFO_LENGTH_MISMATCH, 0);
        return STATUS_INFO_LENGTH_MISMATCH;
    }
    struct io_file *file;
    status = fltsim__io_begin(sys, handle, info_access(info_class, true), 0, &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    if (info_class == FilePositionInformation && (file->fo.Flags & FO_SYNCHRONOUS_IO)) {
        FILE_POSITION_INFORMATION pos;
        memcpy(&pos, buffer, sizeof(pos));
        if (pos.CurrentByteOffset.QuadPart < 0 ||
            ((file->fo.Flags & FO_NO_INTERMEDIATE_BUFFERING) &&
             (pos.CurrentByteOffset.QuadPart % SECTOR_SIZE) != 0)) {
            status = STATUS_INVALID_PARAMETER;
        } else {
            file->fo.CurrentByteOffset = pos.CurrentByteOffset;
            status = STATUS_SUCCESS;
        }
        fltsim__file_unref(file);
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }

    void *system_buffer = malloc(length);
    if (system_buffer == NULL) {
        fltsim__file_unref(file);
        fltsim__set_iosb(iosb, STATUS_INSUFFICIENT_RESOURCES, 0);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    memcpy(system_buffer, buffer, length);

    struct fltsim_request req;
    fltsim__irp_request(&req, file, IRP_MJ_SET_INFORMATION,
                        IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_DEFER_IO_COMPLETION);
    req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
    req.parameters.SetFileInformation.Length = length;
    req.parameters.SetFileInformation.FileInformationClass = info_class;
    req.parameters.SetFileInformation.InfoBuffer = system_buffer;

    struct io_file *target = NULL;
    if (info_class == FileRenameInformation) {
        const FILE_RENAME_INFORMATION *info = system_buffer;
        status = open_rename_target(sys, file, info, length, &target);
        if (!NT_SUCCESS(status)) {
            free(system_buffer);
            fltsim__file_unref(file);
            fltsim__set_iosb(iosb, status, 0);
            return status;
        }
        req.parameters.SetFileInformation.ReplaceIfExists = info->ReplaceIfExists;
        req.parameters.SetFileInformation.ParentOfTarget = target != NULL ? &target->fo : NULL;
    }
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    if (target != NULL)
        fltsim__file_handle_closed(target);
    free(system_buffer);
    fltsim__file_unref(file);
    return status;
}

NTSTATUS fltsim_io_rename(fltsim_system *sys, HANDLE handle, PCWSTR new_name,
                          BOOLEAN replace_if_exists, IO_STATUS_BLOCK *iosb)
{
    if (new_name == NULL) {
        fltsim__set_iosb(iosb, STATUS_INVALID_PARAMETER, 0);
        return STATUS_INVALID_PARAMETER;
    }
    /* A drive-letter path (C:\dir\x) reaches the stack as the NT path
     * \??\C:\dir\x, as MoveFileEx converts it: filters find the target
     * with FltGetDestinationFileNameInformation, which takes NT paths. */
    static const WCHAR dos_devices[] = L"\\??\\";
    size_t prefix = 0;
    if (new_name[0] != 0 && new_name[1] == L':' && new_name[2] == L'\\')
        prefix = sizeof(dos_devices) / sizeof(WCHAR) - 1;
    size_t chars = prefix + fltsim_wcslen(new_name);
    ULONG length = (ULONG)(offsetof(FILE_RENAME_INFORMATION, FileName) + chars * sizeof(WCHAR));
    if (length < sizeof(FILE_RENAME_INFORMATION))
        length = sizeof(FILE_RENAME_INFORMATION);
    FILE_RENAME_INFORMATION *info = calloc(1, length);
    if (info == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    info->ReplaceIfExists = replace_if_exists;
    info->FileNameLength = (ULONG)(chars * sizeof(WCHAR));
    memcpy(info->FileName, dos_devices, prefix * sizeof(WCHAR));
    memcpy(info->FileName + prefix, new_name, (chars - prefix) * sizeof(WCHAR));
    NTSTATUS status =
        fltsim_io_set_information(sys, handle, info, length, FileRenameInformation, iosb);
    free(info);
    return status;
}

NTSTATUS fltsim_io_delete(fltsim_system *sys, HANDLE handle, BOOLEAN delete_file)
{
    FILE_DISPOSITION_INFORMATION info = {delete_file};
    return fltsim_io_set_information(sys, handle, &info, sizeof(info), FileDispositionInformation,
                                     NULL);
}

/* ---- directories ---- */

NTSTATUS fltsim_io_query_directory(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                                   FILE_INFORMATION_CLASS info_class, PCWSTR pattern,
                                   UCHAR scan_flags, IO_STATUS_BLOCK *iosb)
{
    NTSTATUS status;
    ULONG min = fltsim__directory_entry_fixed_size(info_class);
    if (!valid_info_class(info_class) || min == 0)
        status = STATUS_INVALID_INFO_CLASS;
    else if (length < min || buffer == NULL)
        status = STATUS_INFO_LENGTH_MISMATCH;
    else if (scan_flags & ~(SL_RESTART_SCAN | SL_RETURN_SINGLE_ENTRY))
        status = STATUS_INVALID_PARAMETER;
    else
        status = STATUS_SUCCESS;
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    struct io_file *file;
    status = fltsim__io_begin(sys, handle, FILE_LIST_DIRECTORY, 0, &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    UNICODE_STRING name;
    if (pattern != NULL)
        RtlInitUnicodeString(&name, pattern);

    struct fltsim_request req;
    fltsim__irp_request(&req, file, IRP_MJ_DIRECTORY_CONTROL, 0);
    req.minor = IRP_MN_QUERY_DIRECTORY;
    req.operation_flags = scan_flags;
    req.parameters.DirectoryControl.QueryDirectory.Length = length;
    req.parameters.DirectoryControl.QueryDirectory.FileName = pattern != NULL ? &name : NULL;
    req.parameters.DirectoryControl.QueryDirectory.FileInformationClass = info_class;
    req.parameters.DirectoryControl.QueryDirectory.DirectoryBuffer = buffer;
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    fltsim__file_unref(file);
    return status;
}

/* ---- volume information ---- */

/* The fixed records the I/O manager checks (0: no check). */
static ULONG fs_info_min_length(FS_INFORMATION_CLASS c)
{
    switch (c) {
    case FileFsVolumeInformation:
        return offsetof(FILE_FS_VOLUME_INFORMATION, VolumeLabel);
    case FileFsSizeInformation:
        return sizeof(FILE_FS_SIZE_INFORMATION);
    case FileFsDeviceInformation:
        return sizeof(FILE_FS_DEVICE_INFORMATION);
    case FileFsAttributeInformation:
        return offsetof(FILE_FS_ATTRIBUTE_INFORMATION, FileSystemName);
    case FileFsFullSizeInformation:
        return sizeof(FILE_FS_FULL_SIZE_INFORMATION);
    default:
        return 0;
    }
}

NTSTATUS fltsim_io_query_volume_information(fltsim_system *sys, HANDLE handle, void *buffer,
                                            ULONG length, FS_INFORMATION_CLASS info_class,
                                            IO_STATUS_BLOCK *iosb)
{
    NTSTATUS status;
    if (info_class < FileFsVolumeInformation || info_class >= FileFsMaximumInformation)
        status = STATUS_INVALID_INFO_CLASS;
    else if (length < fs_info_min_length(info_class) || (buffer == NULL && length != 0))
        status = STATUS_INFO_LENGTH_MISMATCH;
    else
        status = STATUS_SUCCESS;
    struct io_file *file = NULL;
    if (NT_SUCCESS(status))
        status = fltsim__io_begin(sys, handle, 0, 0, &file);
    void *system_buffer = NULL;
    if (NT_SUCCESS(status) && (system_buffer = calloc(1, length ? length : 1)) == NULL)
        status = STATUS_INSUFFICIENT_RESOURCES;
    if (!NT_SUCCESS(status)) {
        if (file != NULL)
            fltsim__file_unref(file);
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    struct fltsim_request req;
    fltsim__irp_request(&req, file, IRP_MJ_QUERY_VOLUME_INFORMATION,
                        IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION);
    req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
    req.parameters.QueryVolumeInformation.Length = length;
    req.parameters.QueryVolumeInformation.FsInformationClass = info_class;
    req.parameters.QueryVolumeInformation.VolumeBuffer = system_buffer;
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    ULONG_PTR copied = req.io_status.Information;
    if (!NT_ERROR(status) && length != 0)
        memcpy(buffer, system_buffer, copied < length ? copied : length);
    free(system_buffer);
    fltsim__file_unref(file);
    return status;
}

/* ---- extended attributes and security ---- */

NTSTATUS fltsim_io_query_ea(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                            BOOLEAN restart_scan, IO_STATUS_BLOCK *iosb)
{
    struct io_file *file;
    NTSTATUS status = buffer == NULL && length != 0
                          ? STATUS_INVALID_PARAMETER
                          : fltsim__io_begin(sys, handle, FILE_READ_EA, 0, &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    struct fltsim_request req;
    fltsim__irp_request(&req, file, IRP_MJ_QUERY_EA, 0);
    req.operation_flags = restart_scan ? SL_RESTART_SCAN : 0;
    req.parameters.QueryEa.Length = length;
    req.parameters.QueryEa.EaBuffer = buffer;
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    fltsim__file_unref(file);
    return status;
}

/* The rights a query (SeQuerySecurityAccessMask) or a set
 * (SeSetSecurityAccessMask) of these parts needs. */
static ACCESS_MASK security_access(SECURITY_INFORMATION what, bool set)
{
    const SECURITY_INFORMATION owner_parts =
        OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION;
    const SECURITY_INFORMATION dac_parts =
        DACL_SECURITY_INFORMATION | ATTRIBUTE_SECURITY_INFORMATION;
    ACCESS_MASK a = 0;
    if (what & SACL_SECURITY_INFORMATION)
        a |= ACCESS_SYSTEM_SECURITY;
    if (!set) {
        if (what & (owner_parts | dac_parts | SCOPE_SECURITY_INFORMATION))
            a |= READ_CONTROL;
        return a;
    }
    if (what & owner_parts)
        a |= WRITE_OWNER;
    if (what & dac_parts)
        a |= WRITE_DAC;
    if (what & SCOPE_SECURITY_INFORMATION)
        a |= ACCESS_SYSTEM_SECURITY;
    return a;
}

/* Every right in needed is granted to the handle (unless kernel mode). */
static NTSTATUS begin_all(fltsim_system *sys, HANDLE handle, ACCESS_MASK needed,
                          struct io_file **out)
{
    ACCESS_MASK granted = 0;
    NTSTATUS status = fltsim__io_begin_granted(sys, handle, 0, 0, out, &granted);
    if (NT_SUCCESS(status) && (granted & needed) != needed) {
        fltsim__file_unref(*out);
        *out = NULL;
        status = STATUS_ACCESS_DENIED;
    }
    return status;
}

NTSTATUS fltsim_io_query_security(fltsim_system *sys, HANDLE handle, ULONG security_information,
                                  void *buffer, ULONG length, IO_STATUS_BLOCK *iosb)
{
    struct io_file *file = NULL;
    NTSTATUS status =
        buffer == NULL && length != 0
            ? STATUS_INVALID_PARAMETER
            : begin_all(sys, handle, security_access(security_information, false), &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    struct fltsim_request req;
    fltsim__irp_request(&req, file, IRP_MJ_QUERY_SECURITY, 0);
    req.parameters.QuerySecurity.SecurityInformation = security_information;
    req.parameters.QuerySecurity.Length = length;
    req.parameters.QuerySecurity.SecurityBuffer = buffer;
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    fltsim__file_unref(file);
    if (status == STATUS_BUFFER_OVERFLOW) {
        /* NtQuerySecurityObject reports the length needed this way. */
        status = STATUS_BUFFER_TOO_SMALL;
        fltsim__set_iosb(iosb, status, req.io_status.Information);
    }
    return status;
}

NTSTATUS fltsim_io_set_security(fltsim_system *sys, HANDLE handle, ULONG security_information,
                                const void *descriptor, ULONG length, IO_STATUS_BLOCK *iosb)
{
    struct io_file *file = NULL;
    NTSTATUS status =
        !fltsim__security_descriptor_valid(descriptor, length)
            ? STATUS_INVALID_SECURITY_DESCR
            : begin_all(sys, handle, security_access(security_information, true), &file);
    void *captured = NULL;
    if (NT_SUCCESS(status) && (captured = malloc(length)) == NULL) {
        fltsim__file_unref(file);
        status = STATUS_INSUFFICIENT_RESOURCES;
    }
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    memcpy(captured, descriptor, length);
    struct fltsim_request req;
    fltsim__irp_request(&req, file, IRP_MJ_SET_SECURITY, 0);
    req.parameters.SetSecurity.SecurityInformation = security_information;
    req.parameters.SetSecurity.SecurityDescriptor = captured;
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    free(captured);
    fltsim__file_unref(file);
    return status;
}
