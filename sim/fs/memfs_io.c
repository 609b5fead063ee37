/*
 * memfs: reading and writing file data, shared by IRP_MJ_READ/IRP_MJ_WRITE
 * and the fast-I/O path (memfs.c decides when fast I/O may use them). Data
 * lives in one contiguous buffer per file; MDLs do not exist in fltsim, so
 * the caller's ReadBuffer/WriteBuffer is always used.
 */
#include <string.h>

#include "memfs_internal.h"

NTSTATUS fltsim__memfs_read(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_ccb *ccb,
                            ULONG irp_flags, LARGE_INTEGER offset, ULONG length, void *buffer,
                            ULONG_PTR *information)
{
    struct memfs_node *n = ccb->node;
    bool paging = (irp_flags & IRP_PAGING_IO) != 0;
    ULONG64 off;
    NTSTATUS status;

    (void)fs;
    *information = 0;
    if (n->kind != MEMFS_FILE)
        return STATUS_INVALID_DEVICE_REQUEST;
    /* After cleanup only the memory manager may still read (NTFS answers
     * STATUS_FILE_CLOSED to anyone else). */
    if (ccb->cleaned_up && !paging)
        return STATUS_FILE_CLOSED;
    status = fltsim__fs_rw_check(fo, irp_flags, n->eof, offset, length, buffer, false, &off);
    if (!NT_SUCCESS(status) || length == 0)
        return status;
    if (off >= n->eof)
        return STATUS_END_OF_FILE;
    ULONG64 count = fltsim__fs_span(n->eof, off, length);
    memcpy(buffer, n->data + off, (size_t)count);
    *information = (ULONG_PTR)count;
    fltsim__fs_update_position(fo, irp_flags, off + count);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__memfs_write(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_ccb *ccb,
                             ULONG irp_flags, LARGE_INTEGER offset, ULONG length,
                             const void *buffer, ULONG_PTR *information)
{
    struct memfs_node *n = ccb->node;
    bool paging = (irp_flags & IRP_PAGING_IO) != 0;
    ULONG64 off;
    NTSTATUS status;

    *information = 0;
    if (n->kind != MEMFS_FILE)
        return STATUS_INVALID_DEVICE_REQUEST;
    if (ccb->cleaned_up && !paging)
        return STATUS_FILE_CLOSED;
    status = fltsim__fs_rw_check(fo, irp_flags, n->eof, offset, length, buffer, true, &off);
    if (!NT_SUCCESS(status) || length == 0)
        return status;

    if (paging) {
        /* Paging I/O never moves the end of file: what lies beyond it is
         * dropped. It carries data written earlier through the cache, whose
         * times and flags were set then, so nothing else changes. */
        ULONG64 count = fltsim__fs_span(n->eof, off, length);
        if (count == 0)
            return STATUS_SUCCESS;
        memcpy(n->data + off, buffer, (size_t)count);
        *information = (ULONG_PTR)count;
        return STATUS_SUCCESS;
    }

    ULONG64 end = off + length; /* off < 2^63 and length < 2^32: no overflow */
    bool grew = end > n->eof;
    if (grew) {
        status = fltsim__memfs_set_eof(fs, n, end);
        if (!NT_SUCCESS(status))
            return status;
    }
    memcpy(n->data + off, buffer, length);
    LONGLONG now = fltsim__memfs_now(fs);
    n->last_write_time = n->change_time = now;
    n->attributes |= FILE_ATTRIBUTE_ARCHIVE;
    fo->Flags |= FO_FILE_MODIFIED;
    if (grew)
        fo->Flags |= FO_FILE_SIZE_CHANGED;
    *information = length;
    fltsim__fs_update_position(fo, irp_flags, end);
    return STATUS_SUCCESS;
}
