/*
 * hostfs: moving file data for reads and writes through the control block's
 * host descriptor (positional uv_fs_read/uv_fs_write). The checks (offsets,
 * alignment of non-cached I/O, paging I/O never moving the end of file, the
 * file position) are shared with memfs in fs_rw.c; the end of file is the
 * host's.
 */
#include <stdlib.h>
#include <string.h>

#include "hostfs_internal.h"

NTSTATUS fltsim__hostfs_eof(struct fltsim__fs *core, struct fltsim__fs_file *file, ULONG64 *eof)
{
    uv_stat_t st;
    int r = fltsim__hostfs_fcb_stat(hostfs_of(core), hostfs_fcb_of(file), &st);
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

static NTSTATUS read_data(struct fltsim__fs *core, struct fltsim__fs_file *file, void *buffer,
                          ULONG64 count, ULONG64 off, ULONG64 *done)
{
    (void)core;
    int r = transfer(hostfs_fcb_of(file)->fd, false, buffer, count, off, done);
    return r != 0 ? fltsim__hostfs_status(r, true) : STATUS_SUCCESS;
}

static NTSTATUS writable(struct fltsim__fs *core, struct fltsim__fs_file *file)
{
    return fltsim__hostfs_fcb_writable(hostfs_of(core), hostfs_fcb_of(file));
}

static NTSTATUS write_data(struct fltsim__fs *core, struct fltsim__fs_file *file,
                           const void *buffer, ULONG64 count, ULONG64 off, ULONG64 eof, bool paging,
                           ULONG64 *done)
{
    uv_file fd = hostfs_fcb_of(file)->fd;
    (void)core;
    int r = transfer(fd, true, (void *)buffer, count, off, done);
    if (paging || (r == 0 && *done == count))
        return r != 0 ? fltsim__hostfs_status(r, true) : STATUS_SUCCESS;
    /* A write the host only partly took (a full disk) takes back the growth,
     * so a failed write does not move the end of file. */
    if (off + count > eof) {
        uv_fs_t req;
        uv_fs_ftruncate(NULL, &req, fd, (int64_t)eof, NULL);
        uv_fs_req_cleanup(&req);
    }
    return r != 0 ? fltsim__hostfs_status(r, true) : STATUS_DISK_FULL;
}

static NTSTATUS flush(struct fltsim__fs *core, struct fltsim__fs_file *file)
{
    struct hostfs_fcb *fcb = hostfs_fcb_of(file);
    (void)core;
    if (fcb->fd < 0)
        return STATUS_SUCCESS; /* directories and the volume: no data of their own */
    /* hostfs caches nothing itself; the host's cache goes to its disk. */
    uv_fs_t req;
    int r = uv_fs_fsync(NULL, &req, fcb->fd, NULL);
    uv_fs_req_cleanup(&req);
    return fltsim__hostfs_status(r, true);
}

const struct fltsim__fs_io_ops fltsim__hostfs_io_ops = {
    .eof_cb = fltsim__hostfs_eof,
    .read_cb = read_data,
    .writable_cb = writable,
    .write_cb = write_data,
    .flush_cb = flush,
};
