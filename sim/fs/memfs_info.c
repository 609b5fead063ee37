/*
 * memfs: IRP_MJ_QUERY_INFORMATION (also used by fast I/O for the basic,
 * standard and network-open classes), IRP_MJ_SET_INFORMATION (times and
 * attributes, end of file, allocation, disposition, rename, position) and
 * IRP_MJ_QUERY_VOLUME_INFORMATION. Results are built in local structures and
 * copied out, so callers' buffers need no particular alignment.
 */
#include <stdlib.h>
#include <string.h>

#include "memfs_internal.h"

/* ------------------------------------------------------------------------- */
/* Query                                                                     */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__memfs_query_info(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_ccb *ccb,
                                  FILE_INFORMATION_CLASS cls, void *buffer, ULONG length,
                                  ULONG_PTR *information)
{
    struct memfs_node *n = ccb->node;
    struct fltsim__fs_facts f;
    WCHAR *path = NULL;
    size_t units = 0;

    (void)fs;
    *information = 0;
    if (n->kind == MEMFS_VOLUME)
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = fltsim__fs_query_check(cls, buffer, length);
    if (!NT_SUCCESS(status))
        return status;
    /* Deleted for good (unlinked after its last handle): no name to give. */
    if (n->unlinked)
        return STATUS_FILE_DELETED;
    if (fltsim__fs_query_needs_name(cls)) {
        units = fltsim__memfs_path_len(n);
        path = malloc(units * sizeof(WCHAR));
        if (path == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        fltsim__memfs_path_fill(n, path, units);
    }
    fltsim__memfs_facts(n, &f);
    status =
        fltsim__fs_query_fill(&f, fo, ccb->granted, cls, buffer, length, path, units, information);
    free(path);
    return status;
}

/* ------------------------------------------------------------------------- */
/* Set                                                                       */
/* ------------------------------------------------------------------------- */

#define RENAME_FIXED ((ULONG)offsetof(FILE_RENAME_INFORMATION, FileName))

static NTSTATUS set_basic(struct memfs_node *n, const FILE_BASIC_INFORMATION *b)
{
    const LONGLONG t[4] = {b->CreationTime.QuadPart, b->LastAccessTime.QuadPart,
                           b->LastWriteTime.QuadPart, b->ChangeTime.QuadPart};
    NTSTATUS status = fltsim__fs_basic_check(b);
    if (!NT_SUCCESS(status))
        return status;
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
        if (n->kind == MEMFS_DIRECTORY)
            a |= FILE_ATTRIBUTE_DIRECTORY;
        n->attributes = a;
    }
    return STATUS_SUCCESS;
}

/* A change of a file's size: times, archive bit and file-object flags as a
 * write that changed the size would set them. */
static void size_changed(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_node *n)
{
    LONGLONG now = fltsim__memfs_now(fs);
    n->last_write_time = n->change_time = now;
    n->attributes |= FILE_ATTRIBUTE_ARCHIVE;
    fo->Flags |= FO_FILE_MODIFIED | FO_FILE_SIZE_CHANGED;
}

static NTSTATUS set_end_of_file(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_node *n,
                                const FILE_END_OF_FILE_INFORMATION *e, BOOLEAN advance_only)
{
    if (n->kind != MEMFS_FILE || e->EndOfFile.QuadPart < 0)
        return STATUS_INVALID_PARAMETER;
    /* AdvanceOnly (the cache manager's lazy writer) moves the valid data
     * length forward, never the file size, as NTFS does. memfs has no valid
     * data length apart from the end of file (every byte below it is valid),
     * so there is nothing to advance. */
    if (advance_only)
        return STATUS_SUCCESS;
    ULONG64 eof = (ULONG64)e->EndOfFile.QuadPart;
    if (eof == n->eof)
        return STATUS_SUCCESS;
    bool shrink = eof < n->eof;
    NTSTATUS status = fltsim__memfs_set_eof(fs, n, eof);
    if (!NT_SUCCESS(status))
        return status;
    if (shrink)
        n->allocation = fltsim__fs_round_alloc(eof);
    size_changed(fs, fo, n);
    return STATUS_SUCCESS;
}

static NTSTATUS set_allocation(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_node *n,
                               const FILE_ALLOCATION_INFORMATION *a)
{
    if (n->kind != MEMFS_FILE || a->AllocationSize.QuadPart < 0)
        return STATUS_INVALID_PARAMETER;
    ULONG64 size = (ULONG64)a->AllocationSize.QuadPart;
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

/* FileDispositionInformation(Ex) without ON_CLOSE: marks or clears delete
 * pending on the node (the file object's DeletePending mirrors it). */
static NTSTATUS set_delete_pending(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_node *n,
                                   bool del, bool ignore_readonly)
{
    if (!del) {
        n->delete_pending = FALSE;
        fo->DeletePending = FALSE;
        return STATUS_SUCCESS;
    }
    if (n == fs->root)
        return STATUS_CANNOT_DELETE;
    if ((n->attributes & FILE_ATTRIBUTE_READONLY) && !ignore_readonly)
        return STATUS_CANNOT_DELETE;
    if (n->kind == MEMFS_DIRECTORY && n->child_count > 0)
        return STATUS_DIRECTORY_NOT_EMPTY;
    n->delete_pending = TRUE;
    fo->DeletePending = TRUE;
    return STATUS_SUCCESS;
}

static NTSTATUS set_disposition_ex(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_ccb *ccb,
                                   ULONG flags)
{
    const ULONG modeled = FILE_DISPOSITION_DELETE | FILE_DISPOSITION_ON_CLOSE |
                          FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE;
    struct memfs_node *n = ccb->node;
    bool del = (flags & FILE_DISPOSITION_DELETE) != 0;
    bool ignore_readonly = (flags & FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE) != 0;

    /* POSIX semantics (unlinking the name while handles stay open) and the
     * image-section check are not modeled: refused rather than ignored. */
    if (flags & ~modeled)
        return STATUS_INVALID_PARAMETER;
    if (!(flags & FILE_DISPOSITION_ON_CLOSE))
        return set_delete_pending(fs, fo, n, del, ignore_readonly);
    if (del) {
        if (n == fs->root)
            return STATUS_CANNOT_DELETE;
        if ((n->attributes & FILE_ATTRIBUTE_READONLY) && !ignore_readonly)
            return STATUS_CANNOT_DELETE;
    }
    /* As for FILE_DELETE_ON_CLOSE at create, a non-empty directory is only
     * found out at cleanup. */
    ccb->delete_on_close = del;
    return STATUS_SUCCESS;
}

static bool has_open_descendant(const struct memfs_node *dir)
{
    for (ULONG i = 0; i < dir->child_count; i++) {
        const struct memfs_node *c = dir->children[i];
        if (c->handles > 0 || (c->kind == MEMFS_DIRECTORY && has_open_descendant(c)))
            return true;
    }
    return false;
}

static NTSTATUS set_rename(struct fltsim_memfs *fs, struct memfs_ccb *ccb, const UCHAR *buf,
                           ULONG length, PFILE_OBJECT parent_of_target, BOOLEAN replace)
{
    struct memfs_node *n = ccb->node;
    ULONG name_bytes;
    NTSTATUS status;

    memcpy(&name_bytes, buf + offsetof(FILE_RENAME_INFORMATION, FileNameLength),
           sizeof(name_bytes));
    if (name_bytes > length - RENAME_FIXED)
        return STATUS_INFO_LENGTH_MISMATCH;
    if (n == fs->root)
        return STATUS_INVALID_PARAMETER;
    if ((name_bytes & 1) != 0 || name_bytes == 0)
        return STATUS_OBJECT_NAME_INVALID;

    size_t units = name_bytes / sizeof(WCHAR);
    WCHAR *name = malloc(name_bytes);
    if (name == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(name, buf + RENAME_FIXED, name_bytes);

    struct memfs_node *dir;
    const WCHAR *last = name;
    size_t last_len = units;
    if (parent_of_target == NULL) {
        /* A simple rename: a new name in the same directory. */
        status = STATUS_INVALID_PARAMETER;
        for (size_t i = 0; i < units; i++)
            if (name[i] == L'\\')
                goto out;
        dir = n->parent;
    } else {
        /* A move: ParentOfTarget is the target directory, opened with
         * SL_OPEN_TARGET_DIRECTORY; the new name is FileName's last component. */
        struct memfs_ccb *tccb = fltsim__memfs_ccb_of(fs, parent_of_target);
        if (tccb == NULL) {
            const struct memfs_ccb *other = parent_of_target->FsContext2;
            status = (other != NULL && other->magic == MEMFS_CCB_MAGIC && other->fs != fs)
                         ? STATUS_NOT_SAME_DEVICE
                         : STATUS_INVALID_PARAMETER;
            goto out;
        }
        dir = tccb->node;
        status = STATUS_INVALID_PARAMETER;
        if (dir->kind != MEMFS_DIRECTORY)
            goto out;
        for (size_t i = units; i > 0; i--) {
            if (name[i - 1] == L'\\') {
                last = name + i;
                last_len = units - i;
                break;
            }
        }
    }
    status = STATUS_OBJECT_NAME_INVALID;
    if (!fltsim__fs_component_valid(last, last_len))
        goto out;
    status = STATUS_DELETE_PENDING;
    if (dir->delete_pending)
        goto out;
    if (n->kind == MEMFS_DIRECTORY) {
        /* Into its own subtree (or onto itself as the parent). */
        status = STATUS_INVALID_PARAMETER;
        for (const struct memfs_node *d = dir; d != NULL; d = d->parent)
            if (d == n)
                goto out;
        /* Open files below would see their paths change under them. */
        status = STATUS_ACCESS_DENIED;
        if (has_open_descendant(n))
            goto out;
    }

    struct memfs_node *existing = fltsim__memfs_lookup(dir, last, last_len, NULL);
    if (existing == n) {
        /* Same directory and the same name up to case: only the spelling
         * changes, and the sort position with it stays. */
        status = fltsim__memfs_set_name(n, last, last_len);
        if (NT_SUCCESS(status))
            n->change_time = fltsim__memfs_now(fs);
        goto out;
    }
    if (existing != NULL) {
        status = STATUS_OBJECT_NAME_COLLISION;
        if (!replace)
            goto out;
        /* Replacing a read-only file is refused as well (NTFS). */
        status = STATUS_ACCESS_DENIED;
        if (existing->kind == MEMFS_DIRECTORY || existing->handles > 0 ||
            (existing->attributes & FILE_ATTRIBUTE_READONLY))
            goto out;
    }

    /* Everything that can fail comes before the first change. */
    status = fltsim__memfs_reserve_child(dir);
    if (!NT_SUCCESS(status))
        goto out;
    status = fltsim__memfs_set_name(n, last, last_len);
    if (!NT_SUCCESS(status))
        goto out;
    if (existing != NULL)
        fltsim__memfs_unlink(fs, existing);
    fltsim__memfs_detach(n);
    n->parent = NULL;
    fltsim__memfs_link(dir, n);
    n->change_time = fltsim__memfs_now(fs);
    status = STATUS_SUCCESS;
out:
    free(name);
    return status;
}

NTSTATUS fltsim__memfs_set_info_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    PFILE_OBJECT fo = iopb->TargetFileObject;
    struct memfs_ccb *ccb = fltsim__memfs_ccb_of(fs, fo);
    FILE_INFORMATION_CLASS cls = iopb->Parameters.SetFileInformation.FileInformationClass;
    ULONG length = iopb->Parameters.SetFileInformation.Length;
    const UCHAR *buf = iopb->Parameters.SetFileInformation.InfoBuffer;

    if (ccb == NULL || ccb->node->kind == MEMFS_VOLUME)
        return STATUS_INVALID_PARAMETER;
    struct memfs_node *n = ccb->node;
    NTSTATUS status = fltsim__fs_set_check(data, ccb->cleaned_up);
    if (!NT_SUCCESS(status))
        return status;

    switch (cls) {
    case FileBasicInformation: {
        FILE_BASIC_INFORMATION b;
        memcpy(&b, buf, sizeof(b));
        return set_basic(n, &b);
    }
    case FileEndOfFileInformation: {
        FILE_END_OF_FILE_INFORMATION e;
        memcpy(&e, buf, sizeof(e));
        return set_end_of_file(fs, fo, n, &e, iopb->Parameters.SetFileInformation.AdvanceOnly);
    }
    case FileAllocationInformation: {
        FILE_ALLOCATION_INFORMATION a;
        memcpy(&a, buf, sizeof(a));
        return set_allocation(fs, fo, n, &a);
    }
    case FileDispositionInformation: {
        FILE_DISPOSITION_INFORMATION d;
        memcpy(&d, buf, sizeof(d));
        return set_delete_pending(fs, fo, n, d.DeleteFile != FALSE, false);
    }
    case FileDispositionInformationEx: {
        FILE_DISPOSITION_INFORMATION_EX d;
        memcpy(&d, buf, sizeof(d));
        return set_disposition_ex(fs, fo, ccb, d.Flags);
    }
    case FileRenameInformation:
        return set_rename(fs, ccb, buf, length, iopb->Parameters.SetFileInformation.ParentOfTarget,
                          iopb->Parameters.SetFileInformation.ReplaceIfExists);
    case FilePositionInformation:
        return fltsim__fs_set_position(fo, buf);
    default:
        return STATUS_INVALID_PARAMETER;
    }
}

/* ------------------------------------------------------------------------- */
/* Volume information                                                        */
/* ------------------------------------------------------------------------- */

/* FileSystemAttributes bits (WDK values): FILE_CASE_PRESERVED_NAMES and
 * FILE_UNICODE_ON_DISK. memfs does not claim FILE_CASE_SENSITIVE_SEARCH: it
 * ignores SL_CASE_SENSITIVE. */
#define MEMFS_FS_ATTRIBUTES (0x00000002u | 0x00000004u)
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

NTSTATUS fltsim__memfs_query_volume_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data,
                                        ULONG_PTR *information)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    struct fltsim__fs_volume_facts v;

    *information = 0;
    if (fltsim__memfs_ccb_of(fs, iopb->TargetFileObject) == NULL)
        return STATUS_INVALID_PARAMETER;
    memset(&v, 0, sizeof(v));
    v.creation_time = fs->root->creation_time;
    v.serial = MEMFS_VOLUME_SERIAL;
    volume_units(fs, &v.total_units, &v.avail_units);
    v.fs_attributes = MEMFS_FS_ATTRIBUTES;
    v.characteristics = MEMFS_DEVICE_CHARACTERISTICS;
    return fltsim__fs_query_volume_fill(iopb->Parameters.QueryVolumeInformation.FsInformationClass,
                                        iopb->Parameters.QueryVolumeInformation.VolumeBuffer,
                                        iopb->Parameters.QueryVolumeInformation.Length, &v,
                                        information);
}
