/*
 * memfs: IRP_MJ_CREATE, IRP_MJ_CLEANUP and IRP_MJ_CLOSE. Create parses
 * FileObject->FileName, applies the disposition and option rules of NTFS,
 * checks share access the way IoCheckShareAccess does, and on success hangs
 * the node and a new per-open state off the file object. Cleanup ends the
 * handle (share access, delete on close, deletion at the last handle) and
 * close frees the per-open state, and the node once it is deleted and
 * unreferenced. The I/O manager owns the file object itself.
 */
#include <stdlib.h>
#include <string.h>

#include "memfs_internal.h"

/* memfs keeps no security descriptors: every right asked for is granted.
 * MAXIMUM_ALLOWED becomes FILE_ALL_ACCESS, less the data-writing rights on a
 * read-only file (as NTFS grants it). */
static ACCESS_MASK resolve_access(ACCESS_MASK a, const struct memfs_node *n)
{
    return fltsim__fs_resolve_access(a, n != NULL && n->kind == MEMFS_FILE &&
                                            (n->attributes & FILE_ATTRIBUTE_READONLY) != 0);
}

static struct memfs_ccb *ccb_new(struct fltsim_memfs *fs)
{
    struct memfs_ccb *ccb = calloc(1, sizeof(*ccb));
    if (ccb != NULL) {
        ccb->magic = MEMFS_CCB_MAGIC;
        ccb->fs = fs;
    }
    return ccb;
}

void fltsim__memfs_ccb_free(struct fltsim_memfs *fs, struct memfs_ccb *ccb)
{
    RemoveEntryList(&ccb->link);
    fs->open_count--;
    fltsim__fs_pattern_free(&ccb->pattern);
    ccb->magic = 0;
    free(ccb);
}

/* Commits a successful create: IoSetShareAccess with the access granted (never
 * the wider mask an overwrite or supersede was checked with), the file
 * object's fields, and the counts. Cannot fail. */
static void finish_open(struct fltsim_memfs *fs, const struct fltsim__fs_create *a,
                        struct memfs_node *n, struct memfs_ccb *ccb, ACCESS_MASK granted)
{
    fltsim__fs_attach(a, &n->share, &ccb->share, granted, n, ccb, &n->section_objects);
    ccb->node = n;
    ccb->granted = granted;
    ccb->delete_on_close = a->delete_on_close && !a->target_dir;
    InsertTailList(&fs->opens, &ccb->link);
    fs->open_count++;
    n->handles++;
    n->opens++;
}

/* Opens the volume itself (empty name, no related file object). */
static NTSTATUS open_volume(struct fltsim_memfs *fs, const struct fltsim__fs_create *a,
                            ULONG_PTR *info)
{
    struct memfs_node *v = fs->volume;
    NTSTATUS status = fltsim__fs_open_volume_check(a);
    if (!NT_SUCCESS(status))
        return status;
    ACCESS_MASK access = resolve_access(a->access, v);
    if (fltsim__fs_share_conflict(&v->share, access, a->share))
        return STATUS_SHARING_VIOLATION;
    struct memfs_ccb *ccb = ccb_new(fs);
    if (ccb == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    finish_open(fs, a, v, ccb, access);
    *info = FILE_OPENED;
    return STATUS_SUCCESS;
}

static NTSTATUS open_existing(struct fltsim_memfs *fs, const struct fltsim__fs_create *a,
                              struct memfs_node *n, ULONG_PTR *info)
{
    bool overwrite = fltsim__fs_overwrites(a->disposition);
    ACCESS_MASK access = resolve_access(a->access, n);
    NTSTATUS status = fltsim__fs_open_existing_check(a, n->kind == MEMFS_DIRECTORY,
                                                     n->delete_pending, n == fs->root, info);
    if (NT_SUCCESS(status) && (n->attributes & FILE_ATTRIBUTE_READONLY))
        status = fltsim__fs_readonly_check(a, n->kind == MEMFS_FILE, access);
    if (!NT_SUCCESS(status))
        return status;
    if (overwrite) {
        /* Overwriting must restate HIDDEN and SYSTEM (NTFS, as documented
         * for CreateFile with CREATE_ALWAYS / TRUNCATE_EXISTING). */
        ULONG keep = n->attributes & (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM);
        if ((a->attributes & keep) != keep)
            return STATUS_ACCESS_DENIED;
    }
    if (fltsim__fs_share_conflict(&n->share, fltsim__fs_create_share_mask(a, access), a->share))
        return STATUS_SHARING_VIOLATION;

    struct memfs_ccb *ccb = ccb_new(fs);
    if (ccb == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (overwrite) {
        LONGLONG now = fltsim__memfs_now(fs);
        NTSTATUS shrink = fltsim__memfs_set_eof(fs, n, 0);
        (void)shrink; /* shrinking cannot fail */
        n->allocation = 0;
        n->attributes = fltsim__fs_new_file_attributes(a->attributes);
        n->last_write_time = n->change_time = now;
    }
    finish_open(fs, a, n, ccb, access);
    *info = fltsim__fs_opened_info(a->disposition);
    return STATUS_SUCCESS;
}

static NTSTATUS create_new(struct fltsim_memfs *fs, const struct fltsim__fs_create *a,
                           struct memfs_node *parent, const WCHAR *name, size_t len,
                           ULONG_PTR *info)
{
    bool dir = a->dir_file;
    NTSTATUS status;

    /* A delete-pending directory is empty and about to go: nothing new may
     * appear in it (assumption; NTFS refuses such creates too). */
    if (parent->delete_pending)
        return STATUS_DELETE_PENDING;
    if (!dir && a->delete_on_close && (a->attributes & FILE_ATTRIBUTE_READONLY))
        return STATUS_CANNOT_DELETE;
    if (!dir && (ULONG64)a->allocation > FLTSIM_MEMFS_MAX_FILE_SIZE)
        return STATUS_DISK_FULL;

    status = fltsim__memfs_reserve_child(parent);
    if (!NT_SUCCESS(status))
        return status;
    struct memfs_ccb *ccb = ccb_new(fs);
    if (ccb == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    LONGLONG now = fltsim__memfs_now(fs);
    struct memfs_node *n =
        fltsim__memfs_node_new(fs, dir ? MEMFS_DIRECTORY : MEMFS_FILE, name, len, now);
    if (n == NULL) {
        free(ccb);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    if (dir) {
        n->attributes = FILE_ATTRIBUTE_DIRECTORY |
                        (a->attributes & (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM));
    } else {
        n->attributes = fltsim__fs_new_file_attributes(a->attributes);
        n->allocation = fltsim__fs_round_alloc((ULONG64)a->allocation);
    }
    fltsim__memfs_link(parent, n);

    /* A new file has no other opens, so there is nothing to conflict with. */
    ACCESS_MASK access = resolve_access(a->access, NULL);
    finish_open(fs, a, n, ccb, access);
    *info = FILE_CREATED;
    return STATUS_SUCCESS;
}

/* SL_OPEN_TARGET_DIRECTORY: opens parent (the directory that holds, or would
 * hold, the last component) and leaves only the last component in FileName,
 * which is what a rename or link reads from the file object. */
static NTSTATUS open_target(struct fltsim_memfs *fs, const struct fltsim__fs_create *a,
                            struct memfs_node *parent, const WCHAR *last, size_t last_len,
                            bool exists, ULONG_PTR *info)
{
    if (parent->delete_pending)
        return STATUS_DELETE_PENDING;
    ACCESS_MASK access = resolve_access(a->access, parent);
    if (fltsim__fs_share_conflict(&parent->share, access, a->share))
        return STATUS_SHARING_VIOLATION;
    struct memfs_ccb *ccb = ccb_new(fs);
    if (ccb == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    finish_open(fs, a, parent, ccb, access);
    fltsim__fs_target_name(a->fo, last, last_len);
    *info = exists ? FILE_EXISTS : FILE_DOES_NOT_EXIST;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__memfs_create_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data, ULONG_PTR *info)
{
    struct fltsim__fs_create a;

    *info = 0;
    NTSTATUS status = fltsim__fs_create_decode(data, &a);
    if (!NT_SUCCESS(status))
        return status;
    const WCHAR *name = a.name;
    size_t len = a.len;
    struct memfs_node *base;

    if (a.fo->RelatedFileObject != NULL) {
        struct memfs_ccb *rccb = fltsim__memfs_ccb_of(fs, a.fo->RelatedFileObject);
        if (rccb == NULL)
            return STATUS_OBJECT_PATH_NOT_FOUND;
        base = rccb->node;
        if (len == 0) {
            /* An empty name relative to a file object opens what it names. */
            if (base->kind == MEMFS_VOLUME)
                return open_volume(fs, &a, info);
            if (a.target_dir)
                return STATUS_INVALID_PARAMETER;
            return open_existing(fs, &a, base, info);
        }
        if (base->kind != MEMFS_DIRECTORY)
            return STATUS_OBJECT_PATH_NOT_FOUND;
        if (name[0] == L'\\')
            return STATUS_OBJECT_NAME_INVALID;
    } else {
        if (len == 0)
            return open_volume(fs, &a, info);
        if (name[0] != L'\\')
            return STATUS_OBJECT_NAME_INVALID;
        base = fs->root;
        name++;
        len--;
        if (len == 0) {
            /* The root has no parent to open (as fastfat). */
            if (a.target_dir)
                return STATUS_INVALID_PARAMETER;
            return open_existing(fs, &a, base, info);
        }
    }

    size_t last_start;
    status = fltsim__fs_create_path_check(&a, name, &len, &last_start);
    if (!NT_SUCCESS(status))
        return status;

    struct memfs_node *parent = base;
    for (size_t start = 0; start < last_start;) {
        size_t end = start;
        while (name[end] != L'\\')
            end++;
        struct memfs_node *child = fltsim__memfs_lookup(parent, name + start, end - start, NULL);
        if (child == NULL || child->kind != MEMFS_DIRECTORY)
            return STATUS_OBJECT_PATH_NOT_FOUND;
        parent = child;
        start = end + 1;
    }

    const WCHAR *last = name + last_start;
    size_t last_len = len - last_start;
    struct memfs_node *n = fltsim__memfs_lookup(parent, last, last_len, NULL);

    if (a.target_dir)
        return open_target(fs, &a, parent, last, last_len, n != NULL, info);
    if (n != NULL)
        return open_existing(fs, &a, n, info);
    if (a.disposition == FILE_OPEN || a.disposition == FILE_OVERWRITE) {
        *info = FILE_DOES_NOT_EXIST;
        return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    return create_new(fs, &a, parent, last, last_len, info);
}

/* The handle is gone: IoRemoveShareAccess, delete on close, and deletion when
 * this was the last handle of a delete-pending node. */
static void do_cleanup(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_ccb *ccb)
{
    struct memfs_node *n = ccb->node;

    fltsim__fs_share_remove(&n->share, &ccb->share);
    fltsim__fs_locks_release_file(&n->locks, fo);
    /* NTFS accepts FILE_DELETE_ON_CLOSE on a non-empty directory at create
     * and then silently does not delete it here. */
    if (ccb->delete_on_close && n->kind != MEMFS_VOLUME && n != fs->root && !n->unlinked &&
        !(n->kind == MEMFS_DIRECTORY && n->child_count > 0))
        n->delete_pending = TRUE;
    n->handles--;
    ccb->cleaned_up = TRUE;
    fo->Flags |= FO_CLEANUP_COMPLETE;

    /* Nothing can be created in a delete-pending directory, so it is empty
     * here; the child check only guards that invariant. */
    if (n->handles == 0 && n->delete_pending && !n->unlinked && n->parent != NULL &&
        n->child_count == 0)
        fltsim__memfs_unlink(fs, n); /* this open still references it: not freed */
}

NTSTATUS fltsim__memfs_cleanup_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data)
{
    PFILE_OBJECT fo = data->Iopb->TargetFileObject;
    struct memfs_ccb *ccb = fltsim__memfs_ccb_of(fs, fo);
    if (ccb == NULL)
        return STATUS_INVALID_PARAMETER;
    if (ccb->cleaned_up)
        return STATUS_FILE_CLOSED; /* a second cleanup: nothing left to end */
    do_cleanup(fs, fo, ccb);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__memfs_close_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data)
{
    PFILE_OBJECT fo = data->Iopb->TargetFileObject;
    struct memfs_ccb *ccb = fltsim__memfs_ccb_of(fs, fo);
    if (ccb == NULL)
        return STATUS_INVALID_PARAMETER;
    /* A close without a cleanup (a file object whose handle never existed)
     * still has to give back its handle count and share access. */
    if (!ccb->cleaned_up)
        do_cleanup(fs, fo, ccb);
    struct memfs_node *n = ccb->node;
    n->opens--;
    fltsim__memfs_ccb_free(fs, ccb);
    fltsim__fs_detach(fo);
    if (n->unlinked && n->opens == 0)
        fltsim__memfs_node_free(fs, n);
    return STATUS_SUCCESS;
}
