/*
 * The NTFS create rules memfs and hostfs share (fs_shared.h): name
 * components, access and its generic mapping, IoCheckShareAccess's counters,
 * the checks and IoStatus.Information of IRP_MJ_CREATE in NTFS's order, and
 * the handlers of IRP_MJ_CREATE, IRP_MJ_CLEANUP and IRP_MJ_CLOSE built on them
 * (fs_core.h). Each file system walks its own namespace, makes and removes
 * its own files and frees its own objects (struct fltsim__fs_create_ops).
 */
#include <stdlib.h>
#include <string.h>

#include "fs_core.h"

/* ------------------------------------------------------------------------- */
/* Names and access                                                          */
/* ------------------------------------------------------------------------- */

bool fltsim__fs_component_valid(const WCHAR *s, size_t n)
{
    if (n == 0 || n > FLTSIM__FS_NAME_MAX)
        return false;
    if (s[0] == L'.' && (n == 1 || (n == 2 && s[1] == L'.')))
        return false;
    for (size_t i = 0; i < n; i++) {
        WCHAR c = s[i];
        if (c < 0x20)
            return false;
        switch (c) {
        case L'<':
        case L'>':
        case L':':
        case L'"':
        case L'/':
        case L'\\':
        case L'|':
        case L'?':
        case L'*':
            return false;
        default:
            break;
        }
    }
    return true;
}

ACCESS_MASK fltsim__fs_map_generic(ACCESS_MASK a)
{
    /* The I/O manager maps generic rights before the file system sees them;
     * mapping again here is harmless and keeps hand-built requests honest. */
    if (a & GENERIC_READ)
        a |= FILE_GENERIC_READ;
    if (a & GENERIC_WRITE)
        a |= FILE_GENERIC_WRITE;
    if (a & GENERIC_EXECUTE)
        a |= FILE_GENERIC_EXECUTE;
    if (a & GENERIC_ALL)
        a |= FILE_ALL_ACCESS;
    return a & ~(ACCESS_MASK)(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL);
}

ACCESS_MASK fltsim__fs_resolve_access(ACCESS_MASK a, bool readonly_file)
{
    if (a & MAXIMUM_ALLOWED) {
        a = (a & ~(ACCESS_MASK)MAXIMUM_ALLOWED) | FILE_ALL_ACCESS;
        if (readonly_file)
            a &= ~(ACCESS_MASK)FLTSIM__FS_ACCESS_WRITE;
    }
    return a;
}

ULONG fltsim__fs_new_file_attributes(USHORT given)
{
    return ((ULONG)given & FILE_ATTRIBUTE_VALID_SET_FLAGS & ~(ULONG)FILE_ATTRIBUTE_NORMAL) |
           FILE_ATTRIBUTE_ARCHIVE;
}

bool fltsim__fs_share_conflict(const struct fltsim__fs_share *s, ACCESS_MASK access, USHORT share)
{
    bool r = (access & FLTSIM__FS_ACCESS_READ) != 0;
    bool w = (access & FLTSIM__FS_ACCESS_WRITE) != 0;
    bool d = (access & DELETE) != 0;
    if (!r && !w && !d)
        return false;
    bool sr = (share & FILE_SHARE_READ) != 0;
    bool sw = (share & FILE_SHARE_WRITE) != 0;
    bool sd = (share & FILE_SHARE_DELETE) != 0;
    return (r && s->shared_read < s->open_count) || (w && s->shared_write < s->open_count) ||
           (d && s->shared_delete < s->open_count) || (s->readers != 0 && !sr) ||
           (s->writers != 0 && !sw) || (s->deleters != 0 && !sd);
}

void fltsim__fs_share_set(struct fltsim__fs_share *s, struct fltsim__fs_share_rec *rec,
                          PFILE_OBJECT fo, ACCESS_MASK granted, USHORT share)
{
    bool r = (granted & FLTSIM__FS_ACCESS_READ) != 0;
    bool w = (granted & FLTSIM__FS_ACCESS_WRITE) != 0;
    bool d = (granted & DELETE) != 0;

    memset(rec, 0, sizeof(*rec));
    fo->ReadAccess = r;
    fo->WriteAccess = w;
    fo->DeleteAccess = d;
    if (!r && !w && !d) {
        fo->SharedRead = fo->SharedWrite = fo->SharedDelete = FALSE;
        return;
    }
    bool sr = (share & FILE_SHARE_READ) != 0;
    bool sw = (share & FILE_SHARE_WRITE) != 0;
    bool sd = (share & FILE_SHARE_DELETE) != 0;
    fo->SharedRead = sr;
    fo->SharedWrite = sw;
    fo->SharedDelete = sd;
    s->open_count++;
    s->readers += r;
    s->writers += w;
    s->deleters += d;
    s->shared_read += sr;
    s->shared_write += sw;
    s->shared_delete += sd;
    rec->counted = TRUE;
    rec->read = r;
    rec->write = w;
    rec->del = d;
    rec->shared_read = sr;
    rec->shared_write = sw;
    rec->shared_delete = sd;
}

void fltsim__fs_share_remove(struct fltsim__fs_share *s, struct fltsim__fs_share_rec *rec)
{
    if (!rec->counted)
        return;
    s->open_count--;
    s->readers -= rec->read;
    s->writers -= rec->write;
    s->deleters -= rec->del;
    s->shared_read -= rec->shared_read;
    s->shared_write -= rec->shared_write;
    s->shared_delete -= rec->shared_delete;
    rec->counted = FALSE;
}

/* ------------------------------------------------------------------------- */
/* Create                                                                    */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__fs_create_decode(PFLT_CALLBACK_DATA data, struct fltsim__fs_create *a)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    ULONG options = iopb->Parameters.Create.Options;

    memset(a, 0, sizeof(*a));
    a->fo = iopb->TargetFileObject;
    if (a->fo == NULL || a->fo->FsContext != NULL || a->fo->FsContext2 != NULL ||
        iopb->Parameters.Create.SecurityContext == NULL)
        return STATUS_INVALID_PARAMETER;
    a->access = fltsim__fs_map_generic(iopb->Parameters.Create.SecurityContext->DesiredAccess);
    a->disposition = options >> 24;
    a->share = iopb->Parameters.Create.ShareAccess;
    a->attributes = iopb->Parameters.Create.FileAttributes;
    a->allocation = iopb->Parameters.Create.AllocationSize.QuadPart;
    a->dir_file = (options & FILE_DIRECTORY_FILE) != 0;
    a->non_dir = (options & FILE_NON_DIRECTORY_FILE) != 0;
    a->delete_on_close = (options & FILE_DELETE_ON_CLOSE) != 0;
    a->target_dir = (iopb->OperationFlags & SL_OPEN_TARGET_DIRECTORY) != 0;
    a->ignore_share = IoIsFileObjectIgnoringSharing(a->fo);

    if (a->dir_file && a->non_dir)
        return STATUS_INVALID_PARAMETER;
    if (a->disposition > FILE_MAXIMUM_DISPOSITION)
        return STATUS_INVALID_PARAMETER;
    if (a->dir_file && a->disposition != FILE_CREATE && a->disposition != FILE_OPEN &&
        a->disposition != FILE_OPEN_IF)
        return STATUS_INVALID_PARAMETER;
    if (a->allocation < 0)
        return STATUS_INVALID_PARAMETER;

    const UNICODE_STRING *fname = &a->fo->FileName;
    if ((fname->Length & 1) != 0 || (fname->Length != 0 && fname->Buffer == NULL))
        return STATUS_OBJECT_NAME_INVALID;
    a->name = fname->Buffer;
    a->len = fname->Length / sizeof(WCHAR);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_create_path_check(const struct fltsim__fs_create *a, const WCHAR *name,
                                      size_t *len, size_t *last_start)
{
    size_t n = *len;
    if (name[n - 1] == L'\\') {
        if (!a->dir_file)
            return STATUS_OBJECT_NAME_INVALID;
        n--;
        if (n == 0)
            return STATUS_OBJECT_NAME_INVALID; /* "\\\\" or "x\\\\"-like: empty component */
    }
    for (size_t start = 0;;) {
        size_t end = start;
        while (end < n && name[end] != L'\\')
            end++;
        if (!fltsim__fs_component_valid(name + start, end - start))
            return STATUS_OBJECT_NAME_INVALID;
        if (end == n) {
            *last_start = start;
            break;
        }
        start = end + 1;
    }
    *len = n;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_open_volume_check(const struct fltsim__fs_create *a)
{
    if (a->dir_file)
        return STATUS_NOT_A_DIRECTORY;
    if (a->target_dir)
        return STATUS_INVALID_PARAMETER;
    if (a->disposition != FILE_OPEN && a->disposition != FILE_OPEN_IF)
        return STATUS_ACCESS_DENIED;
    if (a->delete_on_close)
        return STATUS_CANNOT_DELETE;
    return STATUS_SUCCESS;
}

bool fltsim__fs_overwrites(ULONG disposition)
{
    return disposition == FILE_SUPERSEDE || disposition == FILE_OVERWRITE ||
           disposition == FILE_OVERWRITE_IF;
}

NTSTATUS fltsim__fs_open_existing_check(const struct fltsim__fs_create *a, bool directory,
                                        bool delete_pending, bool is_root, ULONG_PTR *info)
{
    if (delete_pending)
        return STATUS_DELETE_PENDING;
    if (a->disposition == FILE_CREATE) {
        *info = FILE_EXISTS;
        return STATUS_OBJECT_NAME_COLLISION;
    }
    if (directory && a->non_dir)
        return STATUS_FILE_IS_A_DIRECTORY;
    if (!directory && a->dir_file)
        return STATUS_NOT_A_DIRECTORY;
    /* Assumption, mirroring fastfat: a directory cannot be overwritten or
     * superseded, and the attempt reads as a name collision. */
    if (directory && fltsim__fs_overwrites(a->disposition))
        return STATUS_OBJECT_NAME_COLLISION;
    if (a->delete_on_close && is_root)
        return STATUS_CANNOT_DELETE;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_readonly_check(const struct fltsim__fs_create *a, bool file, ACCESS_MASK access)
{
    if (file && ((access & FLTSIM__FS_ACCESS_WRITE) || fltsim__fs_overwrites(a->disposition)))
        return STATUS_ACCESS_DENIED;
    if (a->delete_on_close)
        return STATUS_CANNOT_DELETE;
    return STATUS_SUCCESS;
}

ACCESS_MASK fltsim__fs_create_share_mask(const struct fltsim__fs_create *a, ACCESS_MASK access)
{
    /* As fastfat does, the share check treats an overwrite as writing and a
     * supersede as deleting, even when those rights were not asked for: a
     * file open without FILE_SHARE_WRITE cannot be truncated by another. The
     * added rights only take part in the check; the share access recorded
     * (and the file object's ReadAccess/WriteAccess/DeleteAccess) is what the
     * open was granted, as fastfat's second IoCheckShareAccess leaves it. */
    if (a->disposition == FILE_SUPERSEDE)
        return access | DELETE;
    if (fltsim__fs_overwrites(a->disposition))
        return access | FILE_WRITE_DATA;
    return access;
}

ULONG_PTR fltsim__fs_opened_info(ULONG disposition)
{
    if (!fltsim__fs_overwrites(disposition))
        return FILE_OPENED;
    return disposition == FILE_SUPERSEDE ? FILE_SUPERSEDED : FILE_OVERWRITTEN;
}

void fltsim__fs_attach(const struct fltsim__fs_create *a, struct fltsim__fs_share *s,
                       struct fltsim__fs_share_rec *rec, ACCESS_MASK granted, void *fcb, void *ccb,
                       PSECTION_OBJECT_POINTERS section)
{
    if (a->ignore_share) {
        /* IO_IGNORE_SHARE_ACCESS_CHECK (IoCheckShareAccessEx and
         * IoSetShareAccessEx skip such a file object): nothing is counted. */
        memset(rec, 0, sizeof(*rec));
        a->fo->ReadAccess = (granted & FLTSIM__FS_ACCESS_READ) != 0;
        a->fo->WriteAccess = (granted & FLTSIM__FS_ACCESS_WRITE) != 0;
        a->fo->DeleteAccess = (granted & DELETE) != 0;
    } else {
        fltsim__fs_share_set(s, rec, a->fo, granted, a->share);
    }
    a->fo->FsContext = fcb;
    a->fo->FsContext2 = ccb;
    a->fo->SectionObjectPointer = section;
}

void fltsim__fs_target_name(PFILE_OBJECT fo, const WCHAR *last, size_t last_len)
{
    memmove(fo->FileName.Buffer, last, last_len * sizeof(WCHAR));
    fo->FileName.Length = (USHORT)(last_len * sizeof(WCHAR));
}

void fltsim__fs_detach(PFILE_OBJECT fo)
{
    fo->FsContext = NULL;
    fo->FsContext2 = NULL;
    fo->SectionObjectPointer = NULL;
}

/* ------------------------------------------------------------------------- */
/* The create, cleanup and close handlers                                    */
/* ------------------------------------------------------------------------- */

/* Commits a successful create: IoSetShareAccess with the access granted (never
 * the wider mask an overwrite or supersede was checked with), the file
 * object's fields, and the counts. Cannot fail. */
static void finish_open(struct fltsim__fs *fs, const struct fltsim__fs_create *a,
                        struct fltsim__fs_file *file, struct fltsim__fs_open *o,
                        ACCESS_MASK granted)
{
    fltsim__fs_attach(a, &file->share, &o->share, granted, file, o, &file->section_objects);
    o->file = file;
    o->granted = granted;
    o->delete_on_close = a->delete_on_close && !a->target_dir;
    InsertTailList(&fs->opens, &o->link);
    fs->open_count++;
    file->handles++;
    if (file->opens++ == 0 && file->perfile != NULL) {
        /* the stream's control block comes to life: say which file it is of */
        fltsim_stream_file(file, file->perfile);
        file->perfile->open_streams++;
    }
}

/* A control block the walk made for this create goes again when no open
 * took it. */
static void drop_if_unused(struct fltsim__fs *fs, struct fltsim__fs_file *file, bool fresh)
{
    if (fresh && file->opens == 0)
        fs->ops->create->unused_cb(fs, file);
}

/* Opens the volume itself (empty name, no related file object). With no
 * security descriptors every right asked for is granted. */
static NTSTATUS open_volume(struct fltsim__fs *fs, const struct fltsim__fs_create *a,
                            ULONG_PTR *info)
{
    struct fltsim__fs_file *v = fs->volume;
    NTSTATUS status = fltsim__fs_open_volume_check(a);
    if (!NT_SUCCESS(status))
        return status;
    ACCESS_MASK access = fltsim__fs_resolve_access(a->access, false);
    if (!a->ignore_share && fltsim__fs_share_conflict(&v->share, access, a->share))
        return STATUS_SHARING_VIOLATION;
    struct fltsim__fs_open *o = fltsim__fs_open_new(fs);
    if (o == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    finish_open(fs, a, v, o, access);
    *info = FILE_OPENED;
    return STATUS_SUCCESS;
}

static NTSTATUS open_existing(struct fltsim__fs *fs, const struct fltsim__fs_create *a,
                              struct fltsim__fs_file *file, ULONG_PTR *info)
{
    bool overwrite = fltsim__fs_overwrites(a->disposition);
    struct fltsim__fs_facts f;

    NTSTATUS status = fltsim__fs_open_existing_check(a, file->kind == FLTSIM__FS_DIRECTORY,
                                                     file->delete_pending, file->root, info);
    if (NT_SUCCESS(status))
        status = fs->ops->info->facts_cb(fs, file, &f);
    if (!NT_SUCCESS(status))
        return status;
    /* MAXIMUM_ALLOWED leaves out the data-writing rights of a read-only
     * file (as NTFS grants it). */
    bool readonly = (f.attributes & FILE_ATTRIBUTE_READONLY) != 0;
    bool file_kind = file->kind == FLTSIM__FS_FILE;
    ACCESS_MASK access = fltsim__fs_resolve_access(a->access, readonly && file_kind);
    if (readonly) {
        status = fltsim__fs_readonly_check(a, file_kind, access);
        if (!NT_SUCCESS(status))
            return status;
    }
    if (overwrite) {
        /* Overwriting must restate HIDDEN and SYSTEM (NTFS, as documented
         * for CreateFile with CREATE_ALWAYS / TRUNCATE_EXISTING). */
        ULONG keep = f.attributes & (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM);
        if ((a->attributes & keep) != keep)
            return STATUS_ACCESS_DENIED;
    }
    if (fs->read_only && (overwrite || a->delete_on_close))
        return STATUS_MEDIA_WRITE_PROTECTED;
    if (!a->ignore_share &&
        fltsim__fs_share_conflict(&file->share, fltsim__fs_create_share_mask(a, access), a->share))
        return STATUS_SHARING_VIOLATION;

    struct fltsim__fs_open *o = fltsim__fs_open_new(fs);
    if (o == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (overwrite) {
        status = fs->ops->create->overwrite_cb(fs, file, a);
        if (!NT_SUCCESS(status)) {
            free(o);
            return status;
        }
    }
    finish_open(fs, a, file, o, access);
    *info = fltsim__fs_opened_info(a->disposition);
    return STATUS_SUCCESS;
}

/* Opens the walk's directory (last false) or its existing last component as
 * an existing file or directory. */
static NTSTATUS open_found(struct fltsim__fs *fs, const struct fltsim__fs_create *a, void *walk,
                           bool last, ULONG_PTR *info)
{
    struct fltsim__fs_file *file;
    bool fresh;
    NTSTATUS status = fs->ops->create->walk_file_cb(fs, walk, last, &file, &fresh);
    if (!NT_SUCCESS(status))
        return status;
    status = open_existing(fs, a, file, info);
    drop_if_unused(fs, file, fresh);
    return status;
}

static NTSTATUS create_new(struct fltsim__fs *fs, const struct fltsim__fs_create *a, void *walk,
                           const WCHAR *last, size_t last_len, ULONG_PTR *info)
{
    bool dir = a->dir_file;
    struct fltsim__fs_file *parent = fs->ops->create->walk_dir_live_cb(fs, walk);
    struct fltsim__fs_file *file;
    NTSTATUS status;

    /* A delete-pending directory is empty and about to go: nothing new may
     * appear in it (assumption; NTFS refuses such creates too). */
    if (parent != NULL && parent->delete_pending)
        return STATUS_DELETE_PENDING;
    if (!dir && a->delete_on_close && (a->attributes & FILE_ATTRIBUTE_READONLY))
        return STATUS_CANNOT_DELETE;
    if (fs->read_only)
        return STATUS_MEDIA_WRITE_PROTECTED;
    if (fs->ops->create->create_check_cb != NULL) {
        status = fs->ops->create->create_check_cb(fs, walk, a);
        if (!NT_SUCCESS(status))
            return status;
    }
    struct fltsim__fs_open *o = fltsim__fs_open_new(fs);
    if (o == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    status = fs->ops->create->new_file_cb(fs, walk, a, last, last_len, &file);
    if (!NT_SUCCESS(status)) {
        free(o);
        return status;
    }
    /* A new file has no other opens, so there is nothing to conflict with. */
    finish_open(fs, a, file, o, fltsim__fs_resolve_access(a->access, false));
    *info = FILE_CREATED;
    return STATUS_SUCCESS;
}

/* SL_OPEN_TARGET_DIRECTORY: opens the walk's directory (the one that holds,
 * or would hold, the last component) and leaves only the last component in
 * FileName, which is what a rename or link reads from the file object. */
static NTSTATUS open_target(struct fltsim__fs *fs, const struct fltsim__fs_create *a, void *walk,
                            const WCHAR *last, size_t last_len, bool exists, ULONG_PTR *info)
{
    struct fltsim__fs_file *parent;
    bool fresh;
    NTSTATUS status = fs->ops->create->walk_file_cb(fs, walk, false, &parent, &fresh);
    if (!NT_SUCCESS(status))
        return status;
    status = STATUS_DELETE_PENDING;
    if (parent->delete_pending)
        goto out;
    ACCESS_MASK access = fltsim__fs_resolve_access(a->access, false);
    status = STATUS_SHARING_VIOLATION;
    if (!a->ignore_share && fltsim__fs_share_conflict(&parent->share, access, a->share))
        goto out;
    struct fltsim__fs_open *o = fltsim__fs_open_new(fs);
    status = STATUS_INSUFFICIENT_RESOURCES;
    if (o == NULL)
        goto out;
    finish_open(fs, a, parent, o, access);
    fltsim__fs_target_name(a->fo, last, last_len);
    *info = exists ? FILE_EXISTS : FILE_DOES_NOT_EXIST;
    status = STATUS_SUCCESS;
out:
    drop_if_unused(fs, parent, fresh);
    return status;
}

/* The stream part of a create's last component (file.txt:name[:$DATA]). */
struct stream_part {
    const WCHAR *name; /* NULL: none, or the default stream "::$DATA" */
    size_t len;
};

/* TRUE when type[0..n) is "$DATA" in any case, the only stream type a file
 * opens by. */
static bool is_data_type(const WCHAR *type, size_t n)
{
    static const WCHAR data_type[] = L"$DATA";
    if (n != 5)
        return false;
    for (size_t i = 0; i < n; i++)
        if (RtlUpcaseUnicodeChar(type[i]) != data_type[i])
            return false;
    return true;
}

/* Splits the stream part off the last component of name[0..*len): *len
 * becomes the file's part. "::$DATA" names the default stream (sp->name
 * NULL). STATUS_OBJECT_NAME_INVALID for an empty file or stream name, a type
 * other than $DATA, a stream name with a character names cannot hold, and
 * any stream part on a file system without named streams (streams false). */
static NTSTATUS split_stream(const WCHAR *name, size_t *len, bool streams, struct stream_part *sp)
{
    size_t n = *len, last = n, colon = n;
    sp->name = NULL;
    sp->len = 0;
    while (last > 0 && name[last - 1] != L'\\')
        last--;
    for (size_t i = last; i < n; i++) {
        if (name[i] == L':') {
            colon = i;
            break;
        }
    }
    if (colon == n)
        return STATUS_SUCCESS;
    if (!streams || colon == last)
        return STATUS_OBJECT_NAME_INVALID;
    size_t start = colon + 1, end = start;
    while (end < n && name[end] != L':')
        end++;
    if (end < n && !is_data_type(name + end + 1, n - end - 1))
        return STATUS_OBJECT_NAME_INVALID;
    if (end == start) {
        if (end == n)
            return STATUS_OBJECT_NAME_INVALID; /* "file:" */
        *len = colon;                          /* "file::$DATA": the default stream */
        return STATUS_SUCCESS;
    }
    if (!fltsim__fs_component_valid(name + start, end - start))
        return STATUS_OBJECT_NAME_INVALID;
    sp->name = name + start;
    sp->len = end - start;
    *len = colon;
    return STATUS_SUCCESS;
}

/* A create of a named stream: the file (made first when missing and the
 * disposition creates, as NTFS does), then the stream opened or created
 * under the create rules of a file. */
static NTSTATUS open_stream(struct fltsim__fs *fs, const struct fltsim__fs_create *a, void *walk,
                            bool exists, const WCHAR *last, size_t last_len,
                            const struct stream_part *sp, ULONG_PTR *info)
{
    bool creates = a->disposition != FILE_OPEN && a->disposition != FILE_OVERWRITE;
    struct fltsim__fs_file *base, *stream;
    bool fresh = false;
    NTSTATUS status;

    if (a->target_dir)
        return STATUS_OBJECT_NAME_INVALID;
    if (a->dir_file)
        return STATUS_NOT_A_DIRECTORY; /* a stream is never a directory */
    if (!exists) {
        *info = FILE_DOES_NOT_EXIST;
        if (!creates)
            return STATUS_OBJECT_NAME_NOT_FOUND;
        struct fltsim__fs_file *parent = fs->ops->create->walk_dir_live_cb(fs, walk);
        if (parent != NULL && parent->delete_pending)
            return STATUS_DELETE_PENDING;
        if (fs->read_only)
            return STATUS_MEDIA_WRITE_PROTECTED;
        if (fs->ops->create->create_check_cb != NULL) {
            status = fs->ops->create->create_check_cb(fs, walk, a);
            if (!NT_SUCCESS(status))
                return status;
        }
        status = fs->ops->create->new_file_cb(fs, walk, a, last, last_len, &base);
    } else {
        status = fs->ops->create->walk_file_cb(fs, walk, true, &base, &fresh);
    }
    if (!NT_SUCCESS(status))
        return status;
    status = STATUS_DELETE_PENDING;
    if (base->delete_pending)
        goto out;
    status = fs->ops->create->stream_cb(fs, base, sp->name, sp->len, false, &stream);
    if (NT_SUCCESS(status) && stream != NULL) {
        status = open_existing(fs, a, stream, info);
        goto out;
    }
    if (!NT_SUCCESS(status))
        goto out;
    *info = FILE_DOES_NOT_EXIST;
    status = STATUS_OBJECT_NAME_NOT_FOUND;
    if (!creates)
        goto out;
    status = STATUS_MEDIA_WRITE_PROTECTED;
    if (fs->read_only)
        goto out;
    /* A read-only file takes no new stream, as it takes no new data. */
    struct fltsim__fs_facts f;
    status = fs->ops->info->facts_cb(fs, base, &f);
    if (NT_SUCCESS(status) && (f.attributes & FILE_ATTRIBUTE_READONLY))
        status = STATUS_ACCESS_DENIED;
    if (!NT_SUCCESS(status))
        goto out;
    struct fltsim__fs_open *o = fltsim__fs_open_new(fs);
    status = STATUS_INSUFFICIENT_RESOURCES;
    if (o == NULL)
        goto out;
    status = fs->ops->create->stream_cb(fs, base, sp->name, sp->len, true, &stream);
    if (!NT_SUCCESS(status)) {
        free(o);
        goto out;
    }
    finish_open(fs, a, stream, o, fltsim__fs_resolve_access(a->access, false));
    *info = FILE_CREATED;
out:
    drop_if_unused(fs, base, fresh);
    return status;
}

/* STATUS_REPARSE at the walk's directory (last false) or its last component,
 * with unparsed units of the name after it. */
static NTSTATUS reparse_at(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data, void *walk, bool last,
                           size_t unparsed, ULONG_PTR *info)
{
    struct fltsim__fs_file *file;
    bool fresh;
    NTSTATUS status = fs->ops->create->walk_file_cb(fs, walk, last, &file, &fresh);
    if (!NT_SUCCESS(status))
        return status;
    status = fltsim__fs_reparse_create(fs, file, data, unparsed, info);
    drop_if_unused(fs, file, fresh);
    return status;
}

NTSTATUS fltsim__fs_create(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data, void *walk,
                           ULONG_PTR *info)
{
    struct fltsim__fs_create a;

    *info = 0;
    NTSTATUS status = fltsim__fs_create_decode(data, &a);
    if (!NT_SUCCESS(status))
        return status;
    const WCHAR *name = a.name;
    size_t len = a.len;

    if (a.fo->RelatedFileObject != NULL) {
        struct fltsim__fs_open *related = fltsim__fs_open_of(fs, a.fo->RelatedFileObject);
        if (related == NULL)
            return STATUS_OBJECT_PATH_NOT_FOUND;
        struct fltsim__fs_file *base = related->file;
        if (len == 0) {
            /* An empty name relative to a file object opens what it names. */
            if (base->kind == FLTSIM__FS_VOLUME)
                return open_volume(fs, &a, info);
            if (a.target_dir)
                return STATUS_INVALID_PARAMETER;
            return open_existing(fs, &a, base, info);
        }
        if (base->kind != FLTSIM__FS_DIRECTORY ||
            (base->unlinked && fs->ops->unlinked_base_not_found))
            return STATUS_OBJECT_PATH_NOT_FOUND;
        if (name[0] == L'\\')
            return STATUS_OBJECT_NAME_INVALID;
        status = fs->ops->create->walk_start_cb(fs, walk, base);
        if (!NT_SUCCESS(status))
            return status;
    } else {
        if (len == 0)
            return open_volume(fs, &a, info);
        if (name[0] != L'\\')
            return STATUS_OBJECT_NAME_INVALID;
        name++;
        len--;
        status = fs->ops->create->walk_start_cb(fs, walk, NULL);
        if (!NT_SUCCESS(status))
            return status;
        if (len == 0) {
            /* The root has no parent to open (as fastfat). */
            if (a.target_dir)
                return STATUS_INVALID_PARAMETER;
            return open_found(fs, &a, walk, false, info);
        }
    }

    size_t last_start, stop = 0;
    bool exists;
    struct stream_part sp;
    status = split_stream(name, &len, fs->ops->create->stream_cb != NULL, &sp);
    if (!NT_SUCCESS(status))
        return status;
    status = fltsim__fs_create_path_check(&a, name, &len, &last_start);
    if (NT_SUCCESS(status))
        status = fs->ops->create->walk_cb(fs, walk, name, len, last_start, &exists, &stop);
    const WCHAR *name_end = a.name + a.len; /* the name as sent, stream part included */
    if (status == STATUS_REPARSE)           /* a reparse point on the way */
        return reparse_at(fs, data, walk, false, (size_t)(name_end - (name + stop)), info);
    if (!NT_SUCCESS(status))
        return status;

    const WCHAR *last = name + last_start;
    size_t last_len = len - last_start;
    /* The last component a reparse point: reparsed unless the caller opens
     * the reparse point itself (or its directory, SL_OPEN_TARGET_DIRECTORY). */
    if (exists && !a.target_dir &&
        !(data->Iopb->Parameters.Create.Options & FILE_OPEN_REPARSE_POINT)) {
        struct fltsim__fs_file *file;
        bool fresh;
        status = fs->ops->create->walk_file_cb(fs, walk, true, &file, &fresh);
        if (!NT_SUCCESS(status))
            return status;
        bool reparse = fltsim__fs_reparse_tag(fs, file) != 0;
        drop_if_unused(fs, file, fresh);
        if (reparse)
            return reparse_at(fs, data, walk, true, (size_t)(name_end - (name + len)), info);
    }
    if (sp.name != NULL)
        return open_stream(fs, &a, walk, exists, last, last_len, &sp, info);
    if (a.target_dir)
        return open_target(fs, &a, walk, last, last_len, exists, info);
    if (exists)
        return open_found(fs, &a, walk, true, info);
    if (a.disposition == FILE_OPEN || a.disposition == FILE_OVERWRITE) {
        *info = FILE_DOES_NOT_EXIST;
        return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    return create_new(fs, &a, walk, last, last_len, info);
}

/* The handle is gone: IoRemoveShareAccess, the byte-range locks of the file
 * object, delete on close, and the file's removal when this was the last
 * handle of a delete-pending one. */
static void do_cleanup(struct fltsim__fs *fs, PFILE_OBJECT fo, struct fltsim__fs_open *o)
{
    struct fltsim__fs_file *file = o->file;

    fltsim__fs_share_remove(&file->share, &o->share);
    fltsim__fs_locks_release_file(&file->locks, fo);
    /* NTFS accepts FILE_DELETE_ON_CLOSE on a non-empty directory at create
     * and then silently does not delete it here. */
    if (o->delete_on_close && file->kind != FLTSIM__FS_VOLUME && !file->root && !file->unlinked) {
        bool empty = true;
        if (file->kind == FLTSIM__FS_DIRECTORY &&
            !NT_SUCCESS(fs->ops->dir->dir_empty_cb(fs, file, &empty)))
            empty = false;
        if (empty)
            file->delete_pending = TRUE;
    }
    file->handles--;
    o->cleaned_up = TRUE;
    fo->Flags |= FO_CLEANUP_COMPLETE;

    if (file->handles == 0 && file->delete_pending && !file->unlinked && !file->root)
        fs->ops->create->remove_cb(fs, file); /* this open still references it: not freed */
}

NTSTATUS fltsim__fs_cleanup(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data)
{
    PFILE_OBJECT fo = data->Iopb->TargetFileObject;
    struct fltsim__fs_open *o = fltsim__fs_open_of(fs, fo);
    if (o == NULL)
        return STATUS_INVALID_PARAMETER;
    if (o->cleaned_up)
        return STATUS_FILE_CLOSED; /* a second cleanup: nothing left to end */
    do_cleanup(fs, fo, o);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_close(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data)
{
    PFILE_OBJECT fo = data->Iopb->TargetFileObject;
    struct fltsim__fs_open *o = fltsim__fs_open_of(fs, fo);
    if (o == NULL)
        return STATUS_INVALID_PARAMETER;
    /* A close without a cleanup (a file object whose handle never existed)
     * still has to give back its handle count and share access. */
    if (!o->cleaned_up)
        do_cleanup(fs, fo, o);
    struct fltsim__fs_file *file = o->file;
    file->opens--;
    fltsim__fs_open_free(fs, o);
    fltsim__fs_detach(fo);
    if (file->opens == 0) {
        fltsim_stream_teardown(file); /* FsRtlTeardownPerStreamContexts */
        /* FsRtlTeardownPerFileContexts when this was the file's last stream */
        if (file->perfile == NULL)
            fltsim_file_teardown(file);
        else if (--file->perfile->open_streams == 0)
            fltsim_file_teardown(file->perfile);
        fs->ops->create->unused_cb(fs, file);
    }
    return STATUS_SUCCESS;
}
