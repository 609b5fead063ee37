/*
 * hostfs: reading and writing file data through the control block's host
 * descriptor (positional uv_fs_read/uv_fs_write), shared by IRP_MJ_READ,
 * IRP_MJ_WRITE and the fast-I/O path. The rules (offsets, alignment of
 * non-cached I/O, paging I/O never moving the end of file, the file position)
 * are memfs's, from fs_shared.c; the end of file is the host's.
 */
#include <stdlib.h>
#include <string.h>

#include "hostfs_internal.h"

NTSTATUS fltsim__hostfs_eof(struct fltsim_hostfs *fs, struct hostfs_fcb *fcb, ULONG64 *eof)
{
    uv_stat_t st;
    int r = fltsim__hostfs_fcb_stat(fs, fcb, &st);
    if (r != 0)
        return fltsim__hostfs_status(r, true);
    *eof = st.st_size;
    return STATUS_SUCCESS;
}

/* Reads or writes exactly count bytes at off, looping over short transfers.
 * *done gets the bytes moved (fewer on a read reaching the host's end).
 * 0 or a UV_E* error. */
static int transfer(uv_file fd, bool write, void *buffer, ULONG64 count, ULONG64 off, ULONG64 *done)
{
    *done = 0;
    while (*done < count) {
        uv_fs_t req;
        uv_buf_t b = uv_buf_init((char *)buffer + *done, (unsigned int)(count - *done));
        int r = write ? uv_fs_write(NULL, &req, fd, &b, 1, (int64_t)(off + *done), NULL)
                      : uv_fs_read(NULL, &req, fd, &b, 1, (int64_t)(off + *done), NULL);
        uv_fs_req_cleanup(&req);
        if (r < 0)
            return r;
        if (r == 0)
            break; /* a read at the host's end of file */
        *done += (ULONG64)r;
    }
    return 0;
}

NTSTATUS fltsim__hostfs_read(struct fltsim_hostfs *fs, PFILE_OBJECT fo, struct hostfs_ccb *ccb,
                             ULONG irp_flags, LARGE_INTEGER offset, ULONG length, void *buffer,
                             ULONG_PTR *information)
{
    struct hostfs_fcb *fcb = ccb->fcb;
    bool paging = (irp_flags & IRP_PAGING_IO) != 0;
    ULONG64 off, eof = 0;
    NTSTATUS status;

    *information = 0;
    if (fcb->kind != HOSTFS_FILE)
        return STATUS_INVALID_DEVICE_REQUEST;
    /* After cleanup only the memory manager may still read (as NTFS). */
    if (ccb->cleaned_up && !paging)
        return STATUS_FILE_CLOSED;
    status = fltsim__hostfs_eof(fs, fcb, &eof);
    if (!NT_SUCCESS(status))
        return status;
    status = fltsim__fs_rw_check(fo, irp_flags, eof, offset, length, buffer, false, &off);
    if (!NT_SUCCESS(status) || length == 0)
        return status;
    if (off >= eof)
        return STATUS_END_OF_FILE;
    ULONG64 count = fltsim__fs_span(eof, off, length), done;
    int r = transfer(fcb->fd, false, buffer, count, off, &done);
    if (r != 0)
        return fltsim__hostfs_status(r, true);
    *information = (ULONG_PTR)done;
    fltsim__fs_update_position(fo, irp_flags, off + done);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__hostfs_write(struct fltsim_hostfs *fs, PFILE_OBJECT fo, struct hostfs_ccb *ccb,
                              ULONG irp_flags, LARGE_INTEGER offset, ULONG length,
                              const void *buffer, ULONG_PTR *information)
{
    struct hostfs_fcb *fcb = ccb->fcb;
    bool paging = (irp_flags & IRP_PAGING_IO) != 0;
    ULONG64 off, eof = 0, done;
    NTSTATUS status;
    int r;

    *information = 0;
    if (fcb->kind != HOSTFS_FILE)
        return STATUS_INVALID_DEVICE_REQUEST;
    if (ccb->cleaned_up && !paging)
        return STATUS_FILE_CLOSED;
    if (fs->flags & FLTSIM_HOSTFS_READ_ONLY)
        return STATUS_MEDIA_WRITE_PROTECTED;
    status = fltsim__hostfs_eof(fs, fcb, &eof);
    if (!NT_SUCCESS(status))
        return status;
    status = fltsim__fs_rw_check(fo, irp_flags, eof, offset, length, buffer, true, &off);
    if (!NT_SUCCESS(status) || length == 0)
        return status;
    status = fltsim__hostfs_fcb_writable(fs, fcb);
    if (!NT_SUCCESS(status))
        return status;

    if (paging) {
        /* Paging I/O never moves the end of file: what lies beyond it is
         * dropped, and it changes no flags (as memfs). */
        ULONG64 count = fltsim__fs_span(eof, off, length);
        if (count == 0)
            return STATUS_SUCCESS;
        r = transfer(fcb->fd, true, (void *)buffer, count, off, &done);
        if (r != 0)
            return fltsim__hostfs_status(r, true);
        *information = (ULONG_PTR)done;
        return STATUS_SUCCESS;
    }

    ULONG64 end = off + length;
    r = transfer(fcb->fd, true, (void *)buffer, length, off, &done);
    if (r != 0 || done != length) {
        /* A write the host only partly took (a full disk) takes back the
         * growth, so a failed write does not move the end of file. */
        if (end > eof) {
            uv_fs_t req;
            uv_fs_ftruncate(NULL, &req, fcb->fd, (int64_t)eof, NULL);
            uv_fs_req_cleanup(&req);
        }
        return r != 0 ? fltsim__hostfs_status(r, true) : STATUS_DISK_FULL;
    }
    fo->Flags |= FO_FILE_MODIFIED;
    if (end > eof)
        fo->Flags |= FO_FILE_SIZE_CHANGED;
    *information = length;
    fltsim__fs_update_position(fo, irp_flags, end);
    return STATUS_SUCCESS;
}
