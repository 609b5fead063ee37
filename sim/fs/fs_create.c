/*
 * The NTFS create rules memfs and hostfs share (fs_shared.h): name
 * components, access and its generic mapping, IoCheckShareAccess's counters,
 * and the checks and IoStatus.Information of IRP_MJ_CREATE in NTFS's order.
 * Each file system walks its own namespace and keeps its own objects; the
 * information records are in fs_shared.c, offsets and locks in fs_rw.c.
 */
#include <string.h>

#include "fs_shared.h"

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
    fltsim__fs_share_set(s, rec, a->fo, granted, a->share);
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
