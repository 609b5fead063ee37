/*
 * memfs: moving file data for reads and writes, whose checks (offsets,
 * alignment of non-cached I/O, paging I/O never moving the end of file, the
 * file position) are shared with hostfs in fs_rw.c. Data lives in one
 * contiguous buffer per file; the transfer buffer is the request's MDL
 * mapped, or its ReadBuffer/WriteBuffer when it has none (fs_core.c).
 */
#include <string.h>

#include "memfs_internal.h"

static NTSTATUS end_of_file(struct fltsim__fs *core, struct fltsim__fs_file *file, ULONG64 *eof)
{
    (void)core;
    *eof = memfs_node_of(file)->eof;
    return STATUS_SUCCESS;
}

static NTSTATUS read_data(struct fltsim__fs *core, struct fltsim__fs_file *file, void *buffer,
                          ULONG64 count, ULONG64 off, ULONG64 *done)
{
    (void)core;
    memcpy(buffer, memfs_node_of(file)->data + off, (size_t)count);
    *done = count;
    return STATUS_SUCCESS;
}

static NTSTATUS write_data(struct fltsim__fs *core, struct fltsim__fs_file *file,
                           const void *buffer, ULONG64 count, ULONG64 off, ULONG64 eof, bool paging,
                           ULONG64 *done)
{
    struct fltsim_memfs *fs = memfs_of(core);
    struct memfs_node *n = memfs_node_of(file);

    if (!paging && off + count > eof) {
        NTSTATUS status = fltsim__memfs_set_eof(fs, n, off + count);
        if (!NT_SUCCESS(status))
            return status;
    }
    memcpy(n->data + off, buffer, (size_t)count);
    if (!paging) {
        struct memfs_node *main_node = memfs_main(n);
        LONGLONG now = fltsim__memfs_now(fs);
        main_node->last_write_time = main_node->change_time = now;
        main_node->attributes |= FILE_ATTRIBUTE_ARCHIVE;
    }
    *done = count;
    return STATUS_SUCCESS;
}

/* Nothing is cached between memfs and its storage: no flush. */
const struct fltsim__fs_io_ops fltsim__memfs_io_ops = {
    .eof_cb = end_of_file,
    .read_cb = read_data,
    .write_cb = write_data,
};
