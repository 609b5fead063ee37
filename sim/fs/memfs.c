/*
 * memfs: lifetime, the namespace (nodes, sorted children, names, the
 * deterministic clock), the fltsim_fs_ops and store-ops tables, and the
 * setup/inspection helpers. The NTFS rules and the entry points with their
 * lock are shared with hostfs (fs_core.h); memfs's side of them lives in
 * memfs_create.c (the walk, new files, deletion), memfs_io.c (file data),
 * memfs_info.c (facts, set information) and memfs_dir.c (directory scans).
 * The I/O manager and the model own the file objects and callback data; memfs
 * only owns what hangs off FsContext and FsContext2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sim_internal.h"
#include "memfs_internal.h"

/* memfs's public geometry is the one the shared rules apply. */
_Static_assert(FLTSIM_MEMFS_SECTOR_SIZE == FLTSIM__FS_SECTOR_SIZE, "sector size");
_Static_assert(FLTSIM_MEMFS_CLUSTER_SIZE == FLTSIM__FS_CLUSTER_SIZE, "cluster size");

/* ------------------------------------------------------------------------- */
/* Clock and small helpers                                                   */
/* ------------------------------------------------------------------------- */

LONGLONG fltsim__memfs_now(struct fltsim_memfs *fs)
{
    LONGLONG t = fs->clock;
    fs->clock += FLTSIM_MEMFS_CLOCK_STEP;
    return t;
}

/* Ordinal comparison of an upcased key with a name upcased on the fly. */
static int compare_upcased(const WCHAR *up, size_t up_len, const WCHAR *name, size_t len)
{
    size_t n = up_len < len ? up_len : len;
    for (size_t i = 0; i < n; i++) {
        WCHAR a = up[i];
        WCHAR b = RtlUpcaseUnicodeChar(name[i]);
        if (a != b)
            return a < b ? -1 : 1;
    }
    if (up_len == len)
        return 0;
    return up_len < len ? -1 : 1;
}

struct memfs_node *fltsim__memfs_lookup(const struct memfs_node *dir, const WCHAR *name, size_t len,
                                        ULONG *pos)
{
    ULONG lo = 0, hi = dir->child_count;
    while (lo < hi) {
        ULONG mid = lo + (hi - lo) / 2;
        const struct memfs_node *c = dir->children[mid];
        int cmp = compare_upcased(c->upname, c->name_len, name, len);
        if (cmp == 0) {
            if (pos != NULL)
                *pos = mid;
            return dir->children[mid];
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos != NULL)
        *pos = lo;
    return NULL;
}

bool fltsim__memfs_name_equal(const WCHAR *up, const WCHAR *name, size_t len)
{
    return compare_upcased(up, len, name, len) == 0;
}

struct memfs_node *fltsim__memfs_lookup_short(const struct memfs_node *dir, const WCHAR *name,
                                              size_t len)
{
    if (len == 0 || len > FLTSIM__FS_SHORT_MAX)
        return NULL;
    for (ULONG i = 0; i < dir->child_count; i++) {
        struct memfs_node *c = dir->children[i];
        if (c->short_len == len && compare_upcased(c->short_name, len, name, len) == 0)
            return c;
    }
    return NULL;
}

struct memfs_node *fltsim__memfs_find(const struct memfs_node *dir, const WCHAR *name, size_t len)
{
    struct memfs_node *n = fltsim__memfs_lookup(dir, name, len, NULL);
    return n != NULL ? n : fltsim__memfs_lookup_short(dir, name, len);
}

/* Gives child, about to be linked in dir, the first short name candidate no
 * name in dir holds, long or short. The candidates run out only after a
 * hundred thousand collisions; the file then has no short name, as NTFS
 * would refuse it. */
static void give_short_name(const struct memfs_node *dir, struct memfs_node *child)
{
    child->short_len = 0;
    if (fltsim__fs_short_legal(child->name, child->name_len))
        return;
    WCHAR cand[FLTSIM__FS_SHORT_MAX];
    size_t len;
    for (ULONG attempt = 1;
         (len = fltsim__fs_short_candidate(child->name, child->name_len, attempt, cand)) > 0;
         attempt++) {
        if (fltsim__memfs_lookup(dir, cand, len, NULL) == NULL &&
            fltsim__memfs_lookup_short(dir, cand, len) == NULL) {
            memcpy(child->short_name, cand, len * sizeof(WCHAR));
            child->short_len = (USHORT)len;
            return;
        }
    }
}

/* ------------------------------------------------------------------------- */
/* Nodes                                                                     */
/* ------------------------------------------------------------------------- */

static NTSTATUS copy_name(const WCHAR *name, size_t len, WCHAR **out_name, WCHAR **out_up)
{
    WCHAR *n = malloc(len * sizeof(WCHAR) + sizeof(WCHAR));
    WCHAR *u = malloc(len * sizeof(WCHAR) + sizeof(WCHAR));
    if (n == NULL || u == NULL) {
        free(n);
        free(u);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    for (size_t i = 0; i < len; i++) {
        n[i] = name[i];
        u[i] = RtlUpcaseUnicodeChar(name[i]);
    }
    n[len] = u[len] = 0;
    *out_name = n;
    *out_up = u;
    return STATUS_SUCCESS;
}

struct memfs_node *fltsim__memfs_node_new(struct fltsim_memfs *fs, enum fltsim__fs_kind kind,
                                          const WCHAR *name, size_t len, LONGLONG now)
{
    struct memfs_node *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    if (name != NULL && !NT_SUCCESS(copy_name(name, len, &n->name, &n->upname))) {
        free(n);
        return NULL;
    }
    n->file.perfile = calloc(1, sizeof(*n->file.perfile));
    if (n->file.perfile == NULL) {
        free(n->name);
        free(n->upname);
        free(n);
        return NULL;
    }
    n->file.perfile->refs = 1;
    n->file.magic = MEMFS_NODE_MAGIC;
    n->file.kind = kind;
    n->name_len = (USHORT)len;
    n->attributes = kind == FLTSIM__FS_DIRECTORY ? FILE_ATTRIBUTE_DIRECTORY : 0;
    n->creation_time = n->last_access_time = n->last_write_time = n->change_time = now;
    n->file_id = kind == FLTSIM__FS_VOLUME ? 0 : fs->next_file_id++;
    InsertTailList(&fs->nodes, &n->all_link);
    return n;
}

void fltsim__memfs_perfile_put(struct fltsim__fs_perfile *pf)
{
    if (--pf->refs == 0)
        free(pf);
}

void fltsim__memfs_node_free(struct fltsim_memfs *fs, struct memfs_node *n)
{
    (void)fs;
    RemoveEntryList(&n->all_link);
    free(n->name);
    free(n->upname);
    free(n->data);
    free(n->reparse);
    free(n->children);
    free(n->streams);
    fltsim__fs_locks_free(&n->file.locks);
    fltsim__memfs_perfile_put(n->file.perfile);
    n->file.magic = 0;
    free(n);
}

NTSTATUS fltsim__memfs_reserve_child(struct memfs_node *dir)
{
    if (dir->child_count < dir->child_capacity)
        return STATUS_SUCCESS;
    ULONG cap = dir->child_capacity ? dir->child_capacity * 2 : 8;
    struct memfs_node **grown = realloc(dir->children, cap * sizeof(*grown));
    if (grown == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    dir->children = grown;
    dir->child_capacity = cap;
    return STATUS_SUCCESS;
}

void fltsim__memfs_link(struct memfs_node *dir, struct memfs_node *child)
{
    ULONG pos;
    struct memfs_node *dup = fltsim__memfs_lookup(dir, child->name, child->name_len, &pos);
    if (dup != NULL || dir->child_count >= dir->child_capacity) {
        fprintf(stderr, "fltsim: memfs: linking a duplicate name or without room\n");
        abort();
    }
    give_short_name(dir, child);
    memmove(&dir->children[pos + 1], &dir->children[pos],
            (dir->child_count - pos) * sizeof(*dir->children));
    dir->children[pos] = child;
    dir->child_count++;
    child->parent = dir;
}

void fltsim__memfs_detach(struct memfs_node *child)
{
    struct memfs_node *dir = child->parent;
    for (ULONG i = 0; i < dir->child_count; i++) {
        if (dir->children[i] == child) {
            memmove(&dir->children[i], &dir->children[i + 1],
                    (dir->child_count - i - 1) * sizeof(*dir->children));
            dir->child_count--;
            return;
        }
    }
    fprintf(stderr, "fltsim: memfs: node missing from its parent\n");
    abort();
}

void fltsim__memfs_drop_streams(struct fltsim_memfs *fs, struct memfs_node *n)
{
    for (ULONG i = 0; i < n->stream_count; i++) {
        struct memfs_node *s = n->streams[i];
        s->stream_base = NULL;
        s->file.unlinked = TRUE;
        fs->data_bytes -= s->eof;
        if (s->file.opens == 0)
            fltsim__memfs_node_free(fs, s);
    }
    n->stream_count = 0;
}

void fltsim__memfs_unlink(struct fltsim_memfs *fs, struct memfs_node *n)
{
    fltsim__memfs_drop_streams(fs, n);
    fltsim__memfs_detach(n);
    n->parent = NULL;
    n->file.unlinked = TRUE;
    if (n->file.perfile != NULL)
        n->file.perfile->deleted = TRUE; /* its streams' opens see it too */
    if (n->file.kind == FLTSIM__FS_FILE)
        fs->data_bytes -= n->eof;
    if (n->file.opens == 0)
        fltsim__memfs_node_free(fs, n);
}

NTSTATUS fltsim__memfs_set_name(struct memfs_node *n, const WCHAR *name, size_t len)
{
    WCHAR *nn, *uu;
    NTSTATUS status = copy_name(name, len, &nn, &uu);
    if (!NT_SUCCESS(status))
        return status;
    free(n->name);
    free(n->upname);
    n->name = nn;
    n->upname = uu;
    n->name_len = (USHORT)len;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__memfs_set_eof(struct fltsim_memfs *fs, struct memfs_node *n, ULONG64 eof)
{
    if (eof <= n->eof) {
        if (!n->file.unlinked)
            fs->data_bytes -= n->eof - eof;
        n->eof = eof;
        return STATUS_SUCCESS;
    }
    ULONG64 grow = eof - n->eof;
    if (eof > FLTSIM_MEMFS_MAX_FILE_SIZE)
        return STATUS_DISK_FULL;
    if (fs->capacity != 0 && !n->file.unlinked &&
        (fs->data_bytes > fs->capacity || grow > fs->capacity - fs->data_bytes))
        return STATUS_DISK_FULL;
    if (eof > n->data_capacity) {
        ULONG64 cap = n->data_capacity ? n->data_capacity * 2 : 4096;
        if (cap < eof)
            cap = eof;
        if (cap > FLTSIM_MEMFS_MAX_FILE_SIZE)
            cap = FLTSIM_MEMFS_MAX_FILE_SIZE;
        if (cap > (ULONG64)SIZE_MAX)
            return STATUS_INSUFFICIENT_RESOURCES;
        UCHAR *grown = realloc(n->data, (size_t)cap);
        if (grown == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        n->data = grown;
        n->data_capacity = cap;
    }
    /* Bytes past the old end may hold data of an earlier, longer file. */
    memset(n->data + n->eof, 0, (size_t)grow);
    n->eof = eof;
    if (!n->file.unlinked)
        fs->data_bytes += grow;
    ULONG64 alloc = fltsim__fs_round_alloc(eof);
    if (n->allocation < alloc)
        n->allocation = alloc;
    return STATUS_SUCCESS;
}

size_t fltsim__memfs_path_len(const struct memfs_node *n)
{
    if (n->parent == NULL)
        return 1;
    size_t len = 0;
    for (; n->parent != NULL; n = n->parent)
        len += 1 + (size_t)n->name_len;
    return len;
}

void fltsim__memfs_path_fill(const struct memfs_node *n, WCHAR *out, size_t len)
{
    if (n->parent == NULL) {
        out[0] = L'\\';
        return;
    }
    size_t end = len;
    for (; n->parent != NULL; n = n->parent) {
        end -= n->name_len;
        memcpy(out + end, n->name, n->name_len * sizeof(WCHAR));
        out[--end] = L'\\';
    }
}

/* ------------------------------------------------------------------------- */
/* Create and destroy                                                        */
/* ------------------------------------------------------------------------- */

static const struct fltsim__fs_store_ops store_ops = {
    .open_size = sizeof(struct memfs_ccb),
    .unlinked_base_not_found = false, /* an unlinked directory is an empty one */
    .create = &fltsim__memfs_create_ops,
    .io = &fltsim__memfs_io_ops,
    .info = &fltsim__memfs_info_ops,
    .dir = &fltsim__memfs_dir_ops,
};

NTSTATUS fltsim_memfs_create(const struct fltsim_memfs_options *options, struct fltsim_memfs **out)
{
    struct fltsim_memfs_options defaults = {0, 0, 0};
    if (out == NULL)
        return STATUS_INVALID_PARAMETER;
    *out = NULL;
    if (options == NULL)
        options = &defaults;
    if ((options->flags & ~(ULONG)FLTSIM_MEMFS_NO_FAST_IO) != 0 || options->start_time < 0)
        return STATUS_INVALID_PARAMETER;

    struct fltsim_memfs *fs = calloc(1, sizeof(*fs));
    if (fs == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (!NT_SUCCESS(fltsim__fs_init(&fs->core, &store_ops, MEMFS_CCB_MAGIC))) {
        free(fs);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    fs->core.no_fast_io = (options->flags & FLTSIM_MEMFS_NO_FAST_IO) != 0;
    fs->clock = options->start_time != 0 ? options->start_time : FLTSIM_MEMFS_DEFAULT_START_TIME;
    fs->capacity = options->capacity_bytes;
    fs->next_file_id = FLTSIM_MEMFS_ROOT_FILE_ID;
    InitializeListHead(&fs->nodes);

    LONGLONG now = fltsim__memfs_now(fs);
    fs->root = fltsim__memfs_node_new(fs, FLTSIM__FS_DIRECTORY, NULL, 0, now);
    struct memfs_node *volume = fltsim__memfs_node_new(fs, FLTSIM__FS_VOLUME, NULL, 0, now);
    if (fs->root == NULL || volume == NULL) {
        fltsim_memfs_destroy(fs);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    fs->root->file.root = TRUE;
    fs->core.volume = &volume->file;
    *out = fs;
    return STATUS_SUCCESS;
}

void fltsim_memfs_destroy(struct fltsim_memfs *fs)
{
    if (fs == NULL)
        return;
    fltsim__fs_fini(&fs->core);
    /* Every node is on fs->nodes, linked or not, so no tree walk is needed. */
    while (!IsListEmpty(&fs->nodes)) {
        struct memfs_node *n = CONTAINING_RECORD(fs->nodes.Flink, struct memfs_node, all_link);
        fltsim__memfs_node_free(fs, n);
    }
    free(fs);
}

/* ------------------------------------------------------------------------- */
/* Entry points                                                              */
/* ------------------------------------------------------------------------- */

/* The shared handlers (fs_core.h) answer every request; the fs pointer they
 * get is the memfs, whose first member is its core. */
_Static_assert(offsetof(struct fltsim_memfs, core) == 0, "the fs pointer is the core's");

static void memfs_release(void *ctx)
{
    fltsim_memfs_destroy(ctx);
}

const struct fltsim_fs_ops fltsim_memfs_ops = {
    .name = "memfs",
    .irp_cb = fltsim__fs_irp_cb,
    .fast_io_cb = fltsim__fs_fast_io_cb,
    .fs_filter_cb = fltsim__fs_filter_cb,
    .release_cb = memfs_release,
};

/* ------------------------------------------------------------------------- */
/* Setup and inspection helpers                                              */
/* ------------------------------------------------------------------------- */

/* Checks a helper path (L"\\a\\b", trailing backslash allowed when
 * allow_trailing) and returns the part after the leading backslash, without
 * a trailing one. The result may be empty (the root). */
static NTSTATUS helper_path(PCWSTR path, bool allow_trailing, const WCHAR **rest, size_t *len)
{
    size_t n = fltsim_wcslen(path);
    if (n == 0 || path[0] != L'\\')
        return STATUS_OBJECT_NAME_INVALID;
    const WCHAR *p = path + 1;
    n--;
    if (n > 0 && p[n - 1] == L'\\') {
        if (!allow_trailing)
            return STATUS_OBJECT_NAME_INVALID;
        n--;
        if (n == 0)
            return STATUS_OBJECT_NAME_INVALID; /* "\\\\" */
    }
    for (size_t start = 0; n > 0;) {
        size_t end = start;
        while (end < n && p[end] != L'\\')
            end++;
        if (!fltsim__fs_component_valid(p + start, end - start))
            return STATUS_OBJECT_NAME_INVALID;
        if (end == n)
            break;
        start = end + 1;
    }
    *rest = p;
    *len = n;
    return STATUS_SUCCESS;
}

/* Walks a checked helper path. *node gets the node it names, or NULL; then
 * *parent is the deepest existing directory, *missing the index in p where the
 * first missing component starts. STATUS_OBJECT_PATH_NOT_FOUND when an
 * intermediate component is a file (*parent then is that file). */
static NTSTATUS helper_walk(struct fltsim_memfs *fs, const WCHAR *p, size_t n,
                            struct memfs_node **node, struct memfs_node **parent, size_t *missing)
{
    struct memfs_node *cur = fs->root;
    size_t start = 0;
    *node = NULL;
    while (start < n) {
        size_t end = start;
        while (end < n && p[end] != L'\\')
            end++;
        if (cur->file.kind != FLTSIM__FS_DIRECTORY) {
            *parent = cur;
            *missing = start;
            return STATUS_OBJECT_PATH_NOT_FOUND;
        }
        struct memfs_node *child = fltsim__memfs_find(cur, p + start, end - start);
        if (child == NULL) {
            *parent = cur;
            *missing = start;
            return STATUS_SUCCESS;
        }
        cur = child;
        start = end + 1;
    }
    *node = cur;
    *parent = cur->parent;
    *missing = n;
    return STATUS_SUCCESS;
}

/* Creates the missing components p[missing..n) under parent: directories,
 * and a file for the last one when data_file. All nodes are allocated before
 * any is linked, so failure leaves the namespace as it was. */
static NTSTATUS helper_create(struct fltsim_memfs *fs, struct memfs_node *parent, const WCHAR *p,
                              size_t n, size_t missing, bool data_file, const void *data,
                              size_t size)
{
    NTSTATUS status = STATUS_SUCCESS;
    struct memfs_node *first = NULL, *last = NULL;
    LONGLONG now;

    if (parent->file.delete_pending)
        return STATUS_DELETE_PENDING;
    if (data_file) {
        if (size > FLTSIM_MEMFS_MAX_FILE_SIZE)
            return STATUS_DISK_FULL;
        if (fs->capacity != 0 &&
            (fs->data_bytes > fs->capacity || size > fs->capacity - fs->data_bytes))
            return STATUS_DISK_FULL;
    }
    status = fltsim__memfs_reserve_child(parent);
    if (!NT_SUCCESS(status))
        return status;

    now = fltsim__memfs_now(fs);
    /* Build the chain of new nodes; each new directory gets room for one child. */
    struct memfs_node *prev = NULL;
    size_t start = missing;
    while (start < n) {
        size_t end = start;
        while (end < n && p[end] != L'\\')
            end++;
        bool is_file = data_file && end == n;
        struct memfs_node *nn = fltsim__memfs_node_new(
            fs, is_file ? FLTSIM__FS_FILE : FLTSIM__FS_DIRECTORY, p + start, end - start, now);
        if (nn == NULL) {
            status = STATUS_INSUFFICIENT_RESOURCES;
            goto fail;
        }
        if (is_file) {
            nn->attributes = FILE_ATTRIBUTE_ARCHIVE;
            if (size > 0) {
                /* No data: zeros. calloc leaves large blocks as untouched
                 * zero pages, so a big file costs no time or memory until
                 * it is written (the replay's namespace holds many). */
                nn->data = data != NULL ? malloc(size) : calloc(1, size);
                if (nn->data == NULL) {
                    fltsim__memfs_node_free(fs, nn);
                    status = STATUS_INSUFFICIENT_RESOURCES;
                    goto fail;
                }
                if (data != NULL)
                    memcpy(nn->data, data, size);
            }
            nn->eof = nn->data_capacity = size;
            nn->allocation = fltsim__fs_round_alloc(size);
        } else if (end < n && !NT_SUCCESS(fltsim__memfs_reserve_child(nn))) {
            fltsim__memfs_node_free(fs, nn);
            status = STATUS_INSUFFICIENT_RESOURCES;
            goto fail;
        }
        /* Temporarily chain through parent; linked for real below. */
        nn->parent = prev;
        if (first == NULL)
            first = nn;
        prev = last = nn;
        start = end + 1;
    }

    /* Commit: link each new node into the one above it, the first into parent. */
    for (struct memfs_node *cur = last, *below = NULL; cur != NULL;) {
        struct memfs_node *above = cur->parent;
        cur->parent = NULL;
        if (below != NULL)
            fltsim__memfs_link(cur, below);
        below = cur;
        cur = above;
    }
    fltsim__memfs_link(parent, first);
    if (data_file)
        fs->data_bytes += size;
    return STATUS_SUCCESS;

fail:
    for (struct memfs_node *cur = last; cur != NULL;) {
        struct memfs_node *above = cur->parent;
        fltsim__memfs_node_free(fs, cur);
        cur = above;
    }
    return status;
}

NTSTATUS fltsim_memfs_add_directory(struct fltsim_memfs *fs, PCWSTR path)
{
    const WCHAR *p;
    size_t n, missing;
    struct memfs_node *node, *parent;
    NTSTATUS status;

    if (fs == NULL || path == NULL)
        return STATUS_INVALID_PARAMETER;
    status = helper_path(path, true, &p, &n);
    if (!NT_SUCCESS(status))
        return status;

    uv_mutex_lock(&fs->core.lock);
    status = helper_walk(fs, p, n, &node, &parent, &missing);
    if (status == STATUS_OBJECT_PATH_NOT_FOUND)
        status = STATUS_OBJECT_NAME_COLLISION; /* an intermediate component is a file */
    else if (node != NULL)
        status =
            node->file.kind == FLTSIM__FS_DIRECTORY ? STATUS_SUCCESS : STATUS_OBJECT_NAME_COLLISION;
    else
        status = helper_create(fs, parent, p, n, missing, false, NULL, 0);
    uv_mutex_unlock(&fs->core.lock);
    return status;
}

/* add_file and add_zero_file: data NULL means size zero bytes. */
static NTSTATUS add_file(struct fltsim_memfs *fs, PCWSTR path, const void *data, size_t size)
{
    const WCHAR *p;
    size_t n, missing;
    struct memfs_node *node, *parent;
    NTSTATUS status;

    if (fs == NULL || path == NULL)
        return STATUS_INVALID_PARAMETER;
    status = helper_path(path, false, &p, &n);
    if (!NT_SUCCESS(status))
        return status;
    if (n == 0)
        return STATUS_OBJECT_NAME_INVALID; /* the root is a directory */

    uv_mutex_lock(&fs->core.lock);
    status = helper_walk(fs, p, n, &node, &parent, &missing);
    if (status == STATUS_OBJECT_PATH_NOT_FOUND || node != NULL)
        status = STATUS_OBJECT_NAME_COLLISION;
    else
        status = helper_create(fs, parent, p, n, missing, true, data, size);
    uv_mutex_unlock(&fs->core.lock);
    return status;
}

NTSTATUS fltsim_memfs_add_file(struct fltsim_memfs *fs, PCWSTR path, const void *data, size_t size)
{
    if (data == NULL && size > 0)
        return STATUS_INVALID_PARAMETER;
    return add_file(fs, path, data, size);
}

NTSTATUS fltsim_memfs_add_zero_file(struct fltsim_memfs *fs, PCWSTR path, size_t size)
{
    return add_file(fs, path, NULL, size);
}

/* Finds the node a helper path names: STATUS_OBJECT_NAME_NOT_FOUND when only
 * the last component is missing, STATUS_OBJECT_PATH_NOT_FOUND otherwise. */
static NTSTATUS helper_find(struct fltsim_memfs *fs, const WCHAR *p, size_t n,
                            struct memfs_node **out)
{
    struct memfs_node *node, *parent;
    size_t missing;
    NTSTATUS status = helper_walk(fs, p, n, &node, &parent, &missing);
    if (!NT_SUCCESS(status))
        return status;
    if (node == NULL) {
        for (size_t i = missing; i < n; i++)
            if (p[i] == L'\\')
                return STATUS_OBJECT_PATH_NOT_FOUND;
        return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    *out = node;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim_memfs_read_file(struct fltsim_memfs *fs, PCWSTR path, void *buf, size_t size,
                                size_t *out_size)
{
    const WCHAR *p;
    size_t n;
    struct memfs_node *node;
    NTSTATUS status;

    if (fs == NULL || path == NULL || out_size == NULL || (buf == NULL && size > 0))
        return STATUS_INVALID_PARAMETER;
    /* A file's path: a trailing backslash is refused, as create refuses it
     * without FILE_DIRECTORY_FILE. */
    status = helper_path(path, false, &p, &n);
    if (!NT_SUCCESS(status))
        return status;

    uv_mutex_lock(&fs->core.lock);
    status = helper_find(fs, p, n, &node);
    if (NT_SUCCESS(status)) {
        if (node->file.kind != FLTSIM__FS_FILE) {
            status = STATUS_FILE_IS_A_DIRECTORY;
        } else {
            *out_size = (size_t)node->eof;
            if (node->eof > size)
                status = STATUS_BUFFER_TOO_SMALL;
            else if (node->eof > 0)
                memcpy(buf, node->data, (size_t)node->eof);
        }
    }
    uv_mutex_unlock(&fs->core.lock);
    return status;
}

NTSTATUS fltsim_memfs_stat(struct fltsim_memfs *fs, PCWSTR path, struct fltsim_memfs_stat *st)
{
    const WCHAR *p;
    size_t n;
    struct memfs_node *node;
    NTSTATUS status;

    if (st != NULL)
        memset(st, 0, sizeof(*st));
    if (fs == NULL || path == NULL || st == NULL)
        return STATUS_INVALID_PARAMETER;
    status = helper_path(path, true, &p, &n);
    if (!NT_SUCCESS(status))
        return status;

    uv_mutex_lock(&fs->core.lock);
    status = helper_find(fs, p, n, &node);
    if (NT_SUCCESS(status)) {
        st->exists = TRUE;
        st->directory = node->file.kind == FLTSIM__FS_DIRECTORY;
        st->delete_pending = node->file.delete_pending;
        st->attributes = node->attributes;
        st->size = node->file.kind == FLTSIM__FS_FILE ? node->eof : 0;
        st->file_id = node->file_id;
        st->handles = node->file.handles;
        st->opens = node->file.opens;
    }
    uv_mutex_unlock(&fs->core.lock);
    return status;
}

NTSTATUS fltsim_memfs_set_reparse_point(struct fltsim_memfs *fs, PCWSTR path, const void *buffer,
                                        size_t length)
{
    const WCHAR *p;
    size_t n;
    struct memfs_node *node;
    if (fs == NULL || path == NULL || (buffer == NULL && length != 0))
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = helper_path(path, true, &p, &n);
    if (!NT_SUCCESS(status))
        return status;
    uv_mutex_lock(&fs->core.lock);
    status = helper_find(fs, p, n, &node);
    if (NT_SUCCESS(status))
        status = length > MAXIMUM_REPARSE_DATA_BUFFER_SIZE
                     ? STATUS_IO_REPARSE_DATA_INVALID
                     : fltsim__fs_reparse_set(&fs->core, &node->file, buffer, (ULONG)length);
    uv_mutex_unlock(&fs->core.lock);
    return status;
}

ULONG fltsim_memfs_open_count(struct fltsim_memfs *fs)
{
    return fs != NULL ? fltsim__fs_open_count(&fs->core) : 0;
}
