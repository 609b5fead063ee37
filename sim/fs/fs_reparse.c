/*
 * Reparse points as NTFS keeps them, for any file system whose info ops store
 * them (memfs): FSCTL_SET_REPARSE_POINT, FSCTL_GET_REPARSE_POINT and
 * FSCTL_DELETE_REPARSE_POINT with NTFS's checks and statuses (MS-FSA
 * 2.1.5.10), and the reparse data a create hands up with STATUS_REPARSE.
 * What a reparse point means (following a junction or a symbolic link) is
 * the I/O manager's business (sim/io/create.c), not the file system's.
 */
#include <string.h>

#include "fs_core.h"

#define REPARSE_POOL_TAG 0x70655246u /* "FRep" */

/* The GUID-buffer header: tag, length, reserved, GUID. */
#define GUID_HEADER ((ULONG)REPARSE_GUID_DATA_BUFFER_HEADER_SIZE)
#define DATA_HEADER ((ULONG)REPARSE_DATA_BUFFER_HEADER_SIZE)

static bool keeps_reparse(const struct fltsim__fs *fs)
{
    return fs->ops->info->reparse_get_cb != NULL && fs->ops->info->reparse_set_cb != NULL;
}

ULONG fltsim__fs_reparse_tag(struct fltsim__fs *fs, struct fltsim__fs_file *file)
{
    const UCHAR *data = NULL;
    USHORT len = 0;
    ULONG tag = 0;
    if (!keeps_reparse(fs) || file->kind == FLTSIM__FS_VOLUME)
        return 0;
    fs->ops->info->reparse_get_cb(fs, file, &data, &len);
    if (data != NULL && len >= sizeof(tag))
        memcpy(&tag, data, sizeof(tag));
    return tag;
}

NTSTATUS fltsim__fs_reparse_create(struct fltsim__fs *fs, struct fltsim__fs_file *file,
                                   PFLT_CALLBACK_DATA data, size_t unparsed_units,
                                   ULONG_PTR *information)
{
    const UCHAR *stored = NULL;
    USHORT len = 0;
    fs->ops->info->reparse_get_cb(fs, file, &stored, &len);
    /* FLT_TAG_DATA_BUFFER is REPARSE_DATA_BUFFER (or, for a tag of another
     * vendor, REPARSE_GUID_DATA_BUFFER) with Reserved read as
     * UnparsedNameLength. */
    PFLT_TAG_DATA_BUFFER tag = fltsim_pool_allocate_system(len, REPARSE_POOL_TAG);
    if (tag == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(tag, stored, len);
    tag->UnparsedNameLength = (USHORT)(unparsed_units * sizeof(WCHAR));
    if (data->TagData != NULL)
        ExFreePool(data->TagData);
    data->TagData = tag;
    *information = tag->FileTag;
    return STATUS_REPARSE;
}

/* The checks SET and DELETE share (MS-FSA phase 1) on the buffer in[0..n):
 * *tag and, for another vendor's tag, *guid (else zeroed). */
static NTSTATUS check_buffer(const UCHAR *in, ULONG n, bool deleting, ULONG *tag, GUID *guid)
{
    USHORT data_len;
    memset(guid, 0, sizeof(*guid));
    if (in == NULL || n < DATA_HEADER || n > MAXIMUM_REPARSE_DATA_BUFFER_SIZE)
        return STATUS_IO_REPARSE_DATA_INVALID;
    memcpy(tag, in, sizeof(*tag));
    memcpy(&data_len, in + FIELD_OFFSET(REPARSE_DATA_BUFFER, ReparseDataLength), sizeof(data_len));
    if (n != data_len + DATA_HEADER && n != data_len + GUID_HEADER)
        return STATUS_IO_REPARSE_DATA_INVALID;
    if (deleting && data_len != 0)
        return STATUS_IO_REPARSE_DATA_INVALID;
    if (*tag == IO_REPARSE_TAG_RESERVED_ZERO || *tag == IO_REPARSE_TAG_RESERVED_ONE)
        return STATUS_IO_REPARSE_TAG_INVALID;
    if (!IsReparseTagMicrosoft(*tag)) {
        /* Another vendor's tag comes with its GUID (REPARSE_GUID_DATA_BUFFER). */
        if (n != data_len + GUID_HEADER)
            return STATUS_IO_REPARSE_DATA_INVALID;
        memcpy(guid, in + FIELD_OFFSET(REPARSE_GUID_DATA_BUFFER, ReparseGuid), sizeof(*guid));
    } else if (n != data_len + DATA_HEADER) {
        return STATUS_IO_REPARSE_DATA_INVALID; /* a Microsoft tag carries no GUID */
    }
    return STATUS_SUCCESS;
}

/* The stored reparse point against the caller's tag and GUID (MS-FSA phase
 * 2 of SET with one present, and of DELETE). */
static NTSTATUS match_stored(const UCHAR *stored, USHORT stored_len, ULONG tag, const GUID *guid)
{
    ULONG have;
    GUID have_guid;
    memcpy(&have, stored, sizeof(have));
    if (have != tag)
        return STATUS_IO_REPARSE_TAG_MISMATCH;
    if (!IsReparseTagMicrosoft(tag)) {
        if (stored_len < GUID_HEADER)
            return STATUS_REPARSE_ATTRIBUTE_CONFLICT;
        memcpy(&have_guid, stored + FIELD_OFFSET(REPARSE_GUID_DATA_BUFFER, ReparseGuid),
               sizeof(have_guid));
        if (memcmp(&have_guid, guid, sizeof(have_guid)) != 0)
            return STATUS_REPARSE_ATTRIBUTE_CONFLICT;
    }
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_reparse_set(struct fltsim__fs *fs, struct fltsim__fs_file *file,
                                const UCHAR *in, ULONG n)
{
    ULONG tag;
    GUID guid;
    NTSTATUS status = check_buffer(in, n, false, &tag, &guid);
    if (!NT_SUCCESS(status))
        return status;
    if (tag == IO_REPARSE_TAG_MOUNT_POINT && file->kind != FLTSIM__FS_DIRECTORY)
        return STATUS_NOT_A_DIRECTORY;
    const UCHAR *stored = NULL;
    USHORT stored_len = 0;
    fs->ops->info->reparse_get_cb(fs, file, &stored, &stored_len);
    if (stored != NULL) {
        status = match_stored(stored, stored_len, tag, &guid);
        if (!NT_SUCCESS(status))
            return status;
    } else if (file->kind == FLTSIM__FS_DIRECTORY && !IsReparseTagDirectory(tag)) {
        /* Only a tag with the directory bit may sit on a directory that has
         * entries (Learn, "Reparse Points"). */
        bool empty = false;
        status = fs->ops->dir->dir_empty_cb(fs, file, &empty);
        if (!NT_SUCCESS(status))
            return status;
        if (!empty)
            return STATUS_DIRECTORY_NOT_EMPTY;
    }
    return fs->ops->info->reparse_set_cb(fs, file, in, (USHORT)n);
}

static NTSTATUS delete_reparse(struct fltsim__fs *fs, struct fltsim__fs_file *file, const UCHAR *in,
                               ULONG n)
{
    ULONG tag;
    GUID guid;
    NTSTATUS status = check_buffer(in, n, true, &tag, &guid);
    if (!NT_SUCCESS(status))
        return status;
    const UCHAR *stored = NULL;
    USHORT stored_len = 0;
    fs->ops->info->reparse_get_cb(fs, file, &stored, &stored_len);
    if (stored == NULL)
        return STATUS_NOT_A_REPARSE_POINT;
    status = match_stored(stored, stored_len, tag, &guid);
    if (!NT_SUCCESS(status))
        return status;
    return fs->ops->info->reparse_set_cb(fs, file, NULL, 0);
}

/* FSCTL_GET_REPARSE_POINT into out[0..n): the fixed part must fit
 * (STATUS_BUFFER_TOO_SMALL, *information = the size needed, as Learn says),
 * the rest is cut with STATUS_BUFFER_OVERFLOW. */
static NTSTATUS get_reparse(struct fltsim__fs *fs, struct fltsim__fs_file *file, UCHAR *out,
                            ULONG n, ULONG_PTR *information)
{
    const UCHAR *stored = NULL;
    USHORT len = 0;
    fs->ops->info->reparse_get_cb(fs, file, &stored, &len);
    if (stored == NULL)
        return STATUS_NOT_A_REPARSE_POINT;
    ULONG tag;
    memcpy(&tag, stored, sizeof(tag));
    ULONG fixed = IsReparseTagMicrosoft(tag) ? DATA_HEADER : GUID_HEADER;
    if (n < fixed) {
        *information = len;
        return STATUS_BUFFER_TOO_SMALL;
    }
    if (out == NULL)
        return STATUS_INVALID_USER_BUFFER;
    ULONG copy = n < len ? n : len;
    memcpy(out, stored, copy);
    *information = copy;
    return copy < len ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_reparse_control(struct fltsim__fs *fs, struct fltsim__fs_open *o,
                                    PFLT_CALLBACK_DATA data, ULONG_PTR *information)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    ULONG code = iopb->Parameters.FileSystemControl.Common.FsControlCode;
    UCHAR *buffer = iopb->Parameters.FileSystemControl.Buffered.SystemBuffer;
    *information = 0;
    if (!keeps_reparse(fs))
        return code == FSCTL_GET_REPARSE_POINT ? STATUS_NOT_A_REPARSE_POINT
                                               : STATUS_INVALID_DEVICE_REQUEST;
    if (o == NULL || o->file->kind == FLTSIM__FS_VOLUME)
        return STATUS_INVALID_PARAMETER; /* not a file or directory */
    if (code == FSCTL_GET_REPARSE_POINT)
        return get_reparse(fs, o->file, buffer,
                           iopb->Parameters.FileSystemControl.Buffered.OutputBufferLength,
                           information);
    if (!(o->granted & (FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES)))
        return STATUS_ACCESS_DENIED;
    if (fs->read_only)
        return STATUS_MEDIA_WRITE_PROTECTED;
    ULONG n = iopb->Parameters.FileSystemControl.Buffered.InputBufferLength;
    if (code == FSCTL_SET_REPARSE_POINT)
        return fltsim__fs_reparse_set(fs, o->file, buffer, n);
    if (iopb->Parameters.FileSystemControl.Buffered.OutputBufferLength != 0)
        return STATUS_INVALID_PARAMETER; /* DELETE takes no output (MS-FSCC 2.3.6) */
    return delete_reparse(fs, o->file, buffer, n);
}
