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

/* What a create asks for, decoded once from the parameters. */
struct create_args {
    PFILE_OBJECT fo;
    ACCESS_MASK access; /* generic rights mapped; MAXIMUM_ALLOWED still to resolve */
    ULONG disposition;
    USHORT share;
    USHORT attributes; /* FileAttributes as given */
    LONGLONG allocation;
    bool dir_file, non_dir, delete_on_close, target_dir;
};

#define ACCESS_WRITE_BITS FLTSIM__FS_ACCESS_WRITE

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
static void finish_open(struct fltsim_memfs *fs, const struct create_args *a, struct memfs_node *n,
                        struct memfs_ccb *ccb, ACCESS_MASK granted)
{
    PFILE_OBJECT fo = a->fo;

    fltsim__fs_share_set(&n->share, &ccb->share, fo, granted, a->share);

    ccb->node = n;
    ccb->granted = granted;
    ccb->delete_on_close = a->delete_on_close && !a->target_dir;
    InsertTailList(&fs->opens, &ccb->link);
    fs->open_count++;
    n->handles++;
    n->opens++;

    fo->FsContext = n;
    fo->FsContext2 = ccb;
    fo->SectionObjectPointer = &n->section_objects;
}

/* Opens the volume itself (empty name, no related file object). */
static NTSTATUS open_volume(struct fltsim_memfs *fs, const struct create_args *a, ULONG_PTR *info)
{
    struct memfs_node *v = fs->volume;
    if (a->dir_file)
        return STATUS_NOT_A_DIRECTORY;
    if (a->target_dir)
        return STATUS_INVALID_PARAMETER;
    /* As fastfat: a volume can only be opened, never created or replaced. */
    if (a->disposition != FILE_OPEN && a->disposition != FILE_OPEN_IF)
        return STATUS_ACCESS_DENIED;
    if (a->delete_on_close)
        return STATUS_CANNOT_DELETE;
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

static NTSTATUS open_existing(struct fltsim_memfs *fs, const struct create_args *a,
                              struct memfs_node *n, ULONG_PTR *info)
{
    ULONG disp = a->disposition;
    bool overwrite = disp == FILE_SUPERSEDE || disp == FILE_OVERWRITE || disp == FILE_OVERWRITE_IF;
    ACCESS_MASK access = resolve_access(a->access, n);

    if (n->delete_pending)
        return STATUS_DELETE_PENDING;
    if (disp == FILE_CREATE) {
        *info = FILE_EXISTS;
        return STATUS_OBJECT_NAME_COLLISION;
    }
    if (n->kind == MEMFS_DIRECTORY && a->non_dir)
        return STATUS_FILE_IS_A_DIRECTORY;
    if (n->kind == MEMFS_FILE && a->dir_file)
        return STATUS_NOT_A_DIRECTORY;
    /* Assumption, mirroring fastfat: a directory cannot be overwritten or
     * superseded, and the attempt reads as a name collision. */
    if (n->kind == MEMFS_DIRECTORY && overwrite)
        return STATUS_OBJECT_NAME_COLLISION;
    if (a->delete_on_close && n == fs->root)
        return STATUS_CANNOT_DELETE;
    if (n->attributes & FILE_ATTRIBUTE_READONLY) {
        if (n->kind == MEMFS_FILE && ((access & ACCESS_WRITE_BITS) || overwrite))
            return STATUS_ACCESS_DENIED;
        if (a->delete_on_close)
            return STATUS_CANNOT_DELETE;
    }
    if (overwrite) {
        /* Overwriting must restate HIDDEN and SYSTEM (NTFS, as documented
         * for CreateFile with CREATE_ALWAYS / TRUNCATE_EXISTING). */
        ULONG keep = n->attributes & (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM);
        if ((a->attributes & keep) != keep)
            return STATUS_ACCESS_DENIED;
    }

    /* As fastfat does, the share check treats an overwrite as writing and a
     * supersede as deleting, even when those rights were not asked for: a
     * file open without FILE_SHARE_WRITE cannot be truncated by another. The
     * added rights only take part in the check; the share access recorded
     * (and the file object's ReadAccess/WriteAccess/DeleteAccess) is what the
     * open was granted, as fastfat's second IoCheckShareAccess leaves it. */
    ACCESS_MASK share_mask = access;
    if (disp == FILE_SUPERSEDE)
        share_mask |= DELETE;
    else if (overwrite)
        share_mask |= FILE_WRITE_DATA;
    if (fltsim__fs_share_conflict(&n->share, share_mask, a->share))
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
    if (!overwrite)
        *info = FILE_OPENED;
    else
        *info = disp == FILE_SUPERSEDE ? FILE_SUPERSEDED : FILE_OVERWRITTEN;
    return STATUS_SUCCESS;
}

static NTSTATUS create_new(struct fltsim_memfs *fs, const struct create_args *a,
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
static NTSTATUS open_target(struct fltsim_memfs *fs, const struct create_args *a,
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
    memmove(a->fo->FileName.Buffer, last, last_len * sizeof(WCHAR));
    a->fo->FileName.Length = (USHORT)(last_len * sizeof(WCHAR));
    *info = exists ? FILE_EXISTS : FILE_DOES_NOT_EXIST;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__memfs_create_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data, ULONG_PTR *info)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    struct create_args a;
    ULONG options = iopb->Parameters.Create.Options;

    *info = 0;
    memset(&a, 0, sizeof(a));
    a.fo = iopb->TargetFileObject;
    if (a.fo == NULL || a.fo->FsContext != NULL || a.fo->FsContext2 != NULL ||
        iopb->Parameters.Create.SecurityContext == NULL)
        return STATUS_INVALID_PARAMETER;
    a.access = fltsim__fs_map_generic(iopb->Parameters.Create.SecurityContext->DesiredAccess);
    a.disposition = options >> 24;
    a.share = iopb->Parameters.Create.ShareAccess;
    a.attributes = iopb->Parameters.Create.FileAttributes;
    a.allocation = iopb->Parameters.Create.AllocationSize.QuadPart;
    a.dir_file = (options & FILE_DIRECTORY_FILE) != 0;
    a.non_dir = (options & FILE_NON_DIRECTORY_FILE) != 0;
    a.delete_on_close = (options & FILE_DELETE_ON_CLOSE) != 0;
    a.target_dir = (iopb->OperationFlags & SL_OPEN_TARGET_DIRECTORY) != 0;

    if (a.dir_file && a.non_dir)
        return STATUS_INVALID_PARAMETER;
    if (a.disposition > FILE_MAXIMUM_DISPOSITION)
        return STATUS_INVALID_PARAMETER;
    if (a.dir_file && a.disposition != FILE_CREATE && a.disposition != FILE_OPEN &&
        a.disposition != FILE_OPEN_IF)
        return STATUS_INVALID_PARAMETER;
    if (a.allocation < 0)
        return STATUS_INVALID_PARAMETER;

    const UNICODE_STRING *fname = &a.fo->FileName;
    if ((fname->Length & 1) != 0 || (fname->Length != 0 && fname->Buffer == NULL))
        return STATUS_OBJECT_NAME_INVALID;
    const WCHAR *name = fname->Buffer;
    size_t len = fname->Length / sizeof(WCHAR);
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

    if (name[len - 1] == L'\\') {
        if (!a.dir_file)
            return STATUS_OBJECT_NAME_INVALID;
        len--;
        if (len == 0)
            return STATUS_OBJECT_NAME_INVALID; /* "\\\\" or "x\\\\"-like: empty component */
    }

    /* The whole name is checked before any lookup, so a bad component is
     * STATUS_OBJECT_NAME_INVALID wherever it sits. */
    size_t last_start = 0;
    for (size_t start = 0;;) {
        size_t end = start;
        while (end < len && name[end] != L'\\')
            end++;
        if (!fltsim__fs_component_valid(name + start, end - start))
            return STATUS_OBJECT_NAME_INVALID;
        if (end == len) {
            last_start = start;
            break;
        }
        start = end + 1;
    }

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
    fo->FsContext = NULL;
    fo->FsContext2 = NULL;
    fo->SectionObjectPointer = NULL;
    if (n->unlinked && n->opens == 0)
        fltsim__memfs_node_free(fs, n);
    return STATUS_SUCCESS;
}
