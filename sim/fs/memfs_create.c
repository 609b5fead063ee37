/*
 * memfs: its side of IRP_MJ_CREATE, IRP_MJ_CLEANUP and IRP_MJ_CLOSE, whose
 * rules (dispositions, options, share access, delete on close) are shared
 * with hostfs in fs_create.c. Here: the walk down the sorted children, new
 * nodes, an overwrite's truncation, unlinking a deleted node at its last
 * handle and freeing it at its last close. The I/O manager owns the file
 * object itself.
 */
#include <stdlib.h>
#include <string.h>

#include "memfs_internal.h"

/* Where one create's walk stands. */
struct memfs_walk {
    struct memfs_node *dir;  /* the directory reached */
    struct memfs_node *last; /* the last component in it, NULL when missing */
};

static NTSTATUS create_irp(struct fltsim__fs *core, PFLT_CALLBACK_DATA data, ULONG_PTR *information)
{
    struct memfs_walk w = {NULL, NULL};
    return fltsim__fs_create(core, data, &w, information);
}

static NTSTATUS walk_start(struct fltsim__fs *core, void *walk, struct fltsim__fs_file *base)
{
    struct memfs_walk *w = walk;
    w->dir = base != NULL ? memfs_node_of(base) : memfs_of(core)->root;
    return STATUS_SUCCESS;
}

static NTSTATUS walk(struct fltsim__fs *core, void *walk, const WCHAR *name, size_t len,
                     size_t last_start, bool *exists, size_t *stop)
{
    struct memfs_walk *w = walk;
    (void)core;
    for (size_t start = 0; start < last_start;) {
        size_t end = start;
        while (name[end] != L'\\')
            end++;
        struct memfs_node *child = fltsim__memfs_find(w->dir, name + start, end - start);
        /* A reparse point on the way (a file's too: NTFS reparses before it
         * looks at what the component is). */
        if (child != NULL && child->reparse != NULL) {
            w->dir = child;
            *stop = end;
            return STATUS_REPARSE;
        }
        if (child == NULL || child->file.kind != FLTSIM__FS_DIRECTORY)
            return STATUS_OBJECT_PATH_NOT_FOUND;
        w->dir = child;
        start = end + 1;
    }
    w->last = fltsim__memfs_find(w->dir, name + last_start, len - last_start);
    *exists = w->last != NULL;
    return STATUS_SUCCESS;
}

static NTSTATUS walk_file(struct fltsim__fs *core, void *walk, bool last,
                          struct fltsim__fs_file **file, bool *fresh)
{
    struct memfs_walk *w = walk;
    (void)core;
    *file = last ? &w->last->file : &w->dir->file; /* nodes live in the tree */
    *fresh = false;
    return STATUS_SUCCESS;
}

static struct fltsim__fs_file *walk_dir_live(struct fltsim__fs *core, void *walk)
{
    struct memfs_walk *w = walk;
    (void)core;
    return &w->dir->file;
}

static NTSTATUS create_check(struct fltsim__fs *core, void *walk, const struct fltsim__fs_create *a)
{
    struct memfs_walk *w = walk;
    (void)core;
    if (!a->dir_file && (ULONG64)a->allocation > FLTSIM_MEMFS_MAX_FILE_SIZE)
        return STATUS_DISK_FULL;
    return fltsim__memfs_reserve_child(w->dir);
}

static NTSTATUS new_file(struct fltsim__fs *core, void *walk, const struct fltsim__fs_create *a,
                         const WCHAR *last, size_t last_len, struct fltsim__fs_file **file)
{
    struct fltsim_memfs *fs = memfs_of(core);
    struct memfs_walk *w = walk;
    bool dir = a->dir_file;
    LONGLONG now = fltsim__memfs_now(fs);
    struct memfs_node *n = fltsim__memfs_node_new(fs, dir ? FLTSIM__FS_DIRECTORY : FLTSIM__FS_FILE,
                                                  last, last_len, now);
    if (n == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (dir) {
        n->attributes = FILE_ATTRIBUTE_DIRECTORY |
                        (a->attributes & (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM));
    } else {
        n->attributes = fltsim__fs_new_file_attributes(a->attributes);
        n->allocation = fltsim__fs_round_alloc((ULONG64)a->allocation);
    }
    fltsim__memfs_link(w->dir, n); /* room reserved by create_check */
    *file = &n->file;
    return STATUS_SUCCESS;
}

/* The named stream name[0..len) of base (fs_core.h's stream_cb). */
static NTSTATUS stream(struct fltsim__fs *core, struct fltsim__fs_file *base_file,
                       const WCHAR *name, size_t len, bool create, struct fltsim__fs_file **out)
{
    struct fltsim_memfs *fs = memfs_of(core);
    struct memfs_node *base = memfs_node_of(base_file);
    *out = NULL;
    for (ULONG i = 0; i < base->stream_count; i++) {
        struct memfs_node *s = base->streams[i];
        if (s->name_len == len && fltsim__memfs_name_equal(s->upname, name, len)) {
            *out = &s->file;
            return STATUS_SUCCESS;
        }
    }
    if (!create)
        return STATUS_SUCCESS;
    if (base->stream_count == base->stream_capacity) {
        ULONG cap = base->stream_capacity ? base->stream_capacity * 2 : 4;
        struct memfs_node **grown = realloc(base->streams, cap * sizeof(*grown));
        if (grown == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        base->streams = grown;
        base->stream_capacity = cap;
    }
    struct memfs_node *s =
        fltsim__memfs_node_new(fs, FLTSIM__FS_FILE, name, len, fltsim__memfs_now(fs));
    if (s == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    s->file.named_stream = TRUE;
    /* a stream of base's file: one set of file contexts (never opened yet,
     * so its own record has no declaration to move) */
    fltsim__memfs_perfile_put(s->file.perfile);
    s->file.perfile = base->file.perfile;
    s->file.perfile->refs++;
    s->file_id = base->file_id; /* one file */
    s->stream_base = base;
    base->streams[base->stream_count++] = s;
    base->change_time = s->creation_time;
    *out = &s->file;
    return STATUS_SUCCESS;
}

static NTSTATUS overwrite(struct fltsim__fs *core, struct fltsim__fs_file *file,
                          const struct fltsim__fs_create *a)
{
    struct fltsim_memfs *fs = memfs_of(core);
    struct memfs_node *n = memfs_node_of(file);
    LONGLONG now = fltsim__memfs_now(fs);
    NTSTATUS shrink = fltsim__memfs_set_eof(fs, n, 0);
    (void)shrink; /* shrinking cannot fail */
    n->allocation = 0;
    n = memfs_main(n); /* a stream's attributes are its file's */
    n->attributes = fltsim__fs_new_file_attributes(a->attributes);
    n->last_write_time = n->change_time = now;
    return STATUS_SUCCESS;
}

static void remove_deleted(struct fltsim__fs *core, struct fltsim__fs_file *file)
{
    struct memfs_node *n = memfs_node_of(file);
    if (n->stream_base != NULL) {
        /* A deleted stream goes alone; its file stays. */
        struct memfs_node *base = n->stream_base;
        for (ULONG i = 0; i < base->stream_count; i++) {
            if (base->streams[i] == n) {
                memmove(&base->streams[i], &base->streams[i + 1],
                        (base->stream_count - i - 1) * sizeof(*base->streams));
                base->stream_count--;
                break;
            }
        }
        n->stream_base = NULL;
        n->file.unlinked = TRUE;
        memfs_of(core)->data_bytes -= n->eof;
        return; /* the open being cleaned up still references it */
    }
    /* Nothing can be created in a delete-pending directory, so it is empty
     * here; the child check only guards that invariant. */
    if (n->parent != NULL && n->child_count == 0)
        fltsim__memfs_unlink(memfs_of(core), n);
}

static void file_unused(struct fltsim__fs *core, struct fltsim__fs_file *file)
{
    /* A linked node stays in the tree; an unlinked one has nothing left. */
    if (file->unlinked)
        fltsim__memfs_node_free(memfs_of(core), memfs_node_of(file));
}

const struct fltsim__fs_create_ops fltsim__memfs_create_ops = {
    .create_cb = create_irp,
    .walk_start_cb = walk_start,
    .walk_cb = walk,
    .walk_file_cb = walk_file,
    .walk_dir_live_cb = walk_dir_live,
    .create_check_cb = create_check,
    .new_file_cb = new_file,
    .stream_cb = stream,
    .overwrite_cb = overwrite,
    .remove_cb = remove_deleted,
    .unused_cb = file_unused,
};
