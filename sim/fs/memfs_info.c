/*
 * memfs: what its nodes report and how they change for
 * IRP_MJ_QUERY_INFORMATION, IRP_MJ_SET_INFORMATION (times and attributes, end
 * of file, allocation, rename) and IRP_MJ_QUERY_VOLUME_INFORMATION. The
 * checks, the records and the disposition rules are shared with hostfs in
 * fs_shared.c.
 */
#include <stdlib.h>
#include <string.h>

#include "memfs_internal.h"

/* ------------------------------------------------------------------------- */
/* Query                                                                     */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__memfs_facts(struct fltsim__fs *core, struct fltsim__fs_file *file,
                             struct fltsim__fs_facts *f)
{
    struct memfs_node *n = memfs_node_of(file);
    const struct memfs_node *m = memfs_main(n); /* a stream reports its file's */
    (void)core;
    memset(f, 0, sizeof(*f));
    f->creation_time = m->creation_time;
    f->last_access_time = m->last_access_time;
    f->last_write_time = m->last_write_time;
    f->change_time = m->change_time;
    /* Attributes as reported to callers: FILE_ATTRIBUTE_NORMAL when none. */
    f->attributes = m->attributes != 0 ? m->attributes : (ULONG)FILE_ATTRIBUTE_NORMAL;
    if (file->kind == FLTSIM__FS_FILE) {
        f->eof = n->eof;
        f->allocation = n->allocation;
    }
    f->file_id = n->file_id;
    f->directory = file->kind == FLTSIM__FS_DIRECTORY;
    f->delete_pending = file->delete_pending;
    if (m->reparse != NULL)
        memcpy(&f->reparse_tag, m->reparse, sizeof(f->reparse_tag));
    f->short_len = m->short_len;
    memcpy(f->short_name, m->short_name, sizeof(f->short_name));
    return STATUS_SUCCESS;
}

/* The path from the root; a named stream's is its file's with ":name" (as
 * NTFS names a stream handle). */
static WCHAR *full_path(struct fltsim__fs *core, struct fltsim__fs_file *file, size_t *units)
{
    const struct memfs_node *n = memfs_node_of(file);
    const struct memfs_node *m = n->stream_base != NULL ? n->stream_base : n;
    (void)core;
    size_t base = fltsim__memfs_path_len(m);
    *units = base + (m != n ? 1 + (size_t)n->name_len : 0);
    WCHAR *path = malloc(*units * sizeof(WCHAR));
    if (path == NULL)
        return NULL;
    fltsim__memfs_path_fill(m, path, base);
    if (m != n) {
        path[base] = L':';
        memcpy(path + base + 1, n->name, n->name_len * sizeof(WCHAR));
    }
    return path;
}

/* FileStreamInformation (fs_core.h's streams_cb). */
static NTSTATUS stream_info(struct fltsim__fs *core, struct fltsim__fs_file *file, void *buffer,
                            ULONG length, ULONG_PTR *information)
{
    struct memfs_node *m = memfs_main(memfs_node_of(file));
    const ULONG fixed = (ULONG)offsetof(FILE_STREAM_INFORMATION, StreamName);
    static const WCHAR data_suffix[] = L":$DATA";
    const ULONG suffix_bytes = (ULONG)sizeof(data_suffix) - sizeof(WCHAR);
    UCHAR *buf = buffer;
    ULONG end = 0, prev = 0;
    bool any = false;
    (void)core;

    *information = 0;
    /* A directory has no default data stream; a file's comes first. */
    for (LONG i = m->file.kind == FLTSIM__FS_FILE ? -1 : 0; i < (LONG)m->stream_count; i++) {
        const struct memfs_node *s = i < 0 ? m : m->streams[i];
        ULONG name_units = i < 0 ? 0 : s->name_len;
        ULONG name_bytes = (ULONG)sizeof(WCHAR) * (1 + name_units) + suffix_bytes;
        ULONG at = any ? (ULONG)ALIGN_UP_BY(end, 8) : 0;
        if (at + fixed + name_bytes > length) {
            *information = end;
            return STATUS_BUFFER_OVERFLOW;
        }
        FILE_STREAM_INFORMATION e;
        memset(&e, 0, sizeof(e));
        e.StreamNameLength = name_bytes;
        e.StreamSize.QuadPart = (LONGLONG)s->eof;
        e.StreamAllocationSize.QuadPart = (LONGLONG)s->allocation;
        memcpy(buf + at, &e, fixed);
        WCHAR *out = (WCHAR *)(void *)(buf + at + fixed);
        out[0] = L':';
        if (name_units > 0)
            memcpy(out + 1, s->name, name_units * sizeof(WCHAR));
        memcpy(out + 1 + name_units, data_suffix, suffix_bytes);
        if (any) {
            ULONG next = at - prev;
            memcpy(buf + prev, &next, sizeof(next));
        }
        prev = at;
        end = at + fixed + name_bytes;
        any = true;
    }
    *information = end;
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Set                                                                       */
/* ------------------------------------------------------------------------- */

static NTSTATUS set_basic(struct fltsim__fs *core, struct fltsim__fs_file *file,
                          const FILE_BASIC_INFORMATION *b)
{
    struct memfs_node *n = memfs_main(memfs_node_of(file)); /* a stream's are its file's */
    const LONGLONG t[4] = {b->CreationTime.QuadPart, b->LastAccessTime.QuadPart,
                           b->LastWriteTime.QuadPart, b->ChangeTime.QuadPart};
    (void)core;
    if (fltsim__fs_time_given(t[0]))
        n->creation_time = t[0];
    if (fltsim__fs_time_given(t[1]))
        n->last_access_time = t[1];
    if (fltsim__fs_time_given(t[2]))
        n->last_write_time = t[2];
    if (fltsim__fs_time_given(t[3]))
        n->change_time = t[3];
    if (b->FileAttributes != 0) {
        ULONG a = b->FileAttributes == FILE_ATTRIBUTE_NORMAL
                      ? 0
                      : b->FileAttributes & FILE_ATTRIBUTE_VALID_SET_FLAGS &
                            ~(ULONG)FILE_ATTRIBUTE_NORMAL;
        if (n->file.kind == FLTSIM__FS_DIRECTORY)
            a |= FILE_ATTRIBUTE_DIRECTORY;
        /* only the reparse FSCTLs set or clear it */
        a |= n->attributes & FILE_ATTRIBUTE_REPARSE_POINT;
        n->attributes = a;
    }
    return STATUS_SUCCESS;
}

/* A change of a file's size: times, archive bit and file-object flags as a
 * write that changed the size would set them. */
static void size_changed(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_node *n)
{
    n = memfs_main(n);
    LONGLONG now = fltsim__memfs_now(fs);
    n->last_write_time = n->change_time = now;
    n->attributes |= FILE_ATTRIBUTE_ARCHIVE;
    fo->Flags |= FO_FILE_MODIFIED | FO_FILE_SIZE_CHANGED;
}

static NTSTATUS set_end_of_file(struct fltsim__fs *core, PFILE_OBJECT fo,
                                struct fltsim__fs_file *file, ULONG64 eof)
{
    struct fltsim_memfs *fs = memfs_of(core);
    struct memfs_node *n = memfs_node_of(file);
    bool shrink = eof < n->eof;
    NTSTATUS status = fltsim__memfs_set_eof(fs, n, eof);
    if (!NT_SUCCESS(status))
        return status;
    if (shrink)
        n->allocation = fltsim__fs_round_alloc(eof);
    size_changed(fs, fo, n);
    return STATUS_SUCCESS;
}

static NTSTATUS set_allocation(struct fltsim__fs *core, PFILE_OBJECT fo,
                               struct fltsim__fs_file *file, ULONG64 size)
{
    struct fltsim_memfs *fs = memfs_of(core);
    struct memfs_node *n = memfs_node_of(file);
    if (size > FLTSIM_MEMFS_MAX_FILE_SIZE)
        return STATUS_DISK_FULL;
    /* Allocation below the end of file cuts the file at the requested size
     * (as fastfat and NTFS do); the allocation itself is whole clusters. */
    if (size < n->eof) {
        NTSTATUS shrink = fltsim__memfs_set_eof(fs, n, size);
        (void)shrink; /* shrinking cannot fail */
        size_changed(fs, fo, n);
    }
    n->allocation = fltsim__fs_round_alloc(size);
    return STATUS_SUCCESS;
}

/* TRUE when a handle is open on n or on one of its named streams. */
static bool has_open_handle(const struct memfs_node *n)
{
    if (n->file.handles > 0)
        return true;
    for (ULONG i = 0; i < n->stream_count; i++)
        if (n->streams[i]->file.handles > 0)
            return true;
    return false;
}

static bool has_open_descendant(const struct memfs_node *dir)
{
    for (ULONG i = 0; i < dir->child_count; i++) {
        const struct memfs_node *c = dir->children[i];
        if (has_open_handle(c) || (c->file.kind == FLTSIM__FS_DIRECTORY && has_open_descendant(c)))
            return true;
    }
    return false;
}

static NTSTATUS rename_file(struct fltsim__fs *core, struct fltsim__fs_file *file,
                            struct fltsim__fs_file *target, const WCHAR *last, size_t last_len,
                            BOOLEAN replace)
{
    struct fltsim_memfs *fs = memfs_of(core);
    struct memfs_node *n = memfs_node_of(file);
    NTSTATUS status;

    /* Renaming a stream (":new") is not modeled: refused. */
    if (file->named_stream)
        return STATUS_INVALID_PARAMETER;
    struct memfs_node *dir = target != NULL ? memfs_node_of(target) : n->parent;

    if (!fltsim__fs_component_valid(last, last_len))
        return STATUS_OBJECT_NAME_INVALID;
    if (dir->file.delete_pending)
        return STATUS_DELETE_PENDING;
    if (file->kind == FLTSIM__FS_DIRECTORY) {
        /* Into its own subtree (or onto itself as the parent). */
        for (const struct memfs_node *d = dir; d != NULL; d = d->parent)
            if (d == n)
                return STATUS_INVALID_PARAMETER;
        /* Open files below would see their paths change under them. */
        if (has_open_descendant(n))
            return STATUS_ACCESS_DENIED;
    }

    struct memfs_node *existing = fltsim__memfs_lookup(dir, last, last_len, NULL);
    if (existing == NULL) {
        /* A name another file holds as its short name is taken (NTFS); the
         * file's own short name is free to become its long name. */
        existing = fltsim__memfs_lookup_short(dir, last, last_len);
        if (existing == n)
            existing = NULL;
    }
    if (existing == n) {
        /* Same directory and the same name up to case: only the spelling
         * changes, and the sort position with it stays. */
        status = fltsim__memfs_set_name(n, last, last_len);
        if (NT_SUCCESS(status))
            n->change_time = fltsim__memfs_now(fs);
        return status;
    }
    if (existing != NULL) {
        if (!replace)
            return STATUS_OBJECT_NAME_COLLISION;
        /* Replacing a read-only file is refused as well (NTFS). */
        if (existing->file.kind == FLTSIM__FS_DIRECTORY || existing->file.handles > 0 ||
            (existing->attributes & FILE_ATTRIBUTE_READONLY))
            return STATUS_ACCESS_DENIED;
    }

    /* Everything that can fail comes before the first change. */
    status = fltsim__memfs_reserve_child(dir);
    if (!NT_SUCCESS(status))
        return status;
    status = fltsim__memfs_set_name(n, last, last_len);
    if (!NT_SUCCESS(status))
        return status;
    if (existing != NULL)
        fltsim__memfs_unlink(fs, existing);
    fltsim__memfs_detach(n);
    n->parent = NULL;
    fltsim__memfs_link(dir, n);
    n->change_time = fltsim__memfs_now(fs);
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Volume information                                                        */
/* ------------------------------------------------------------------------- */

/* FileSystemAttributes bits (WDK values): FILE_CASE_PRESERVED_NAMES,
 * FILE_UNICODE_ON_DISK, FILE_SUPPORTS_REPARSE_POINTS and FILE_NAMED_STREAMS.
 * memfs does not claim FILE_CASE_SENSITIVE_SEARCH: it ignores
 * SL_CASE_SENSITIVE. */
#define MEMFS_FS_ATTRIBUTES (0x00000002u | 0x00000004u | 0x00000080u | 0x00040000u)
/* FILE_FS_DEVICE_INFORMATION.Characteristics: FILE_DEVICE_IS_MOUNTED. */
#define MEMFS_DEVICE_CHARACTERISTICS 0x00000020u
#define MEMFS_VOLUME_SERIAL 0x4d454d46u /* "FMEM" */
/* Size reported for an unlimited memfs: 1 TiB. */
#define MEMFS_UNLIMITED_BYTES (1ULL << 40)

static void volume_units(const struct fltsim_memfs *fs, ULONG64 *total, ULONG64 *avail)
{
    const ULONG64 c = FLTSIM_MEMFS_CLUSTER_SIZE;
    ULONG64 bytes = fs->capacity != 0 ? fs->capacity : MEMFS_UNLIMITED_BYTES;
    ULONG64 t = bytes / c;
    ULONG64 used = fs->data_bytes / c + (fs->data_bytes % c != 0);
    *total = t;
    *avail = used < t ? t - used : 0;
}

static NTSTATUS volume_facts(struct fltsim__fs *core, struct fltsim__fs_volume_facts *v)
{
    struct fltsim_memfs *fs = memfs_of(core);
    v->creation_time = fs->root->creation_time;
    v->serial = MEMFS_VOLUME_SERIAL;
    volume_units(fs, &v->total_units, &v->avail_units);
    v->fs_attributes = MEMFS_FS_ATTRIBUTES;
    v->characteristics = MEMFS_DEVICE_CHARACTERISTICS;
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Reparse points (checked by fs_reparse.c)                                  */
/* ------------------------------------------------------------------------- */

static void reparse_get(struct fltsim__fs *core, struct fltsim__fs_file *file, const UCHAR **data,
                        USHORT *len)
{
    const struct memfs_node *m = memfs_main(memfs_node_of(file));
    (void)core;
    *data = m->reparse;
    *len = m->reparse_len;
}

static NTSTATUS reparse_set(struct fltsim__fs *core, struct fltsim__fs_file *file, const void *data,
                            USHORT len)
{
    struct memfs_node *m = memfs_main(memfs_node_of(file));
    UCHAR *copy = NULL;
    if (len != 0) {
        copy = malloc(len);
        if (copy == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        memcpy(copy, data, len);
    }
    free(m->reparse);
    m->reparse = copy;
    m->reparse_len = len;
    if (copy != NULL)
        m->attributes |= FILE_ATTRIBUTE_REPARSE_POINT;
    else
        m->attributes &= ~(ULONG)FILE_ATTRIBUTE_REPARSE_POINT;
    m->change_time = fltsim__memfs_now(memfs_of(core));
    return STATUS_SUCCESS;
}

const struct fltsim__fs_info_ops fltsim__memfs_info_ops = {
    .reparse_get_cb = reparse_get,
    .reparse_set_cb = reparse_set,
    .facts_cb = fltsim__memfs_facts,
    .path_cb = full_path,
    .streams_cb = stream_info,
    .set_basic_cb = set_basic,
    .set_eof_cb = set_end_of_file,
    .set_allocation_cb = set_allocation,
    .rename_cb = rename_file,
    .volume_facts_cb = volume_facts,
};
