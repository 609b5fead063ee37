/*
 * The NTFS rules memfs and hostfs share (see fs_shared.h): names, access and
 * share access, offsets, query records and directory-entry packing. Each file
 * system keeps its own objects and locking and calls these with its lock held.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs_shared.h"
#include "common/sim_internal.h"

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

/* ------------------------------------------------------------------------- */
/* Read and write                                                            */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__fs_resolve_offset(PFILE_OBJECT fo, ULONG64 eof, LARGE_INTEGER offset, bool write,
                                   ULONG64 *out)
{
    if (offset.HighPart == -1 && offset.LowPart == FILE_USE_FILE_POINTER_POSITION) {
        /* The I/O manager normally substitutes the position itself. */
        if (fo->CurrentByteOffset.QuadPart < 0)
            return STATUS_INVALID_PARAMETER;
        *out = (ULONG64)fo->CurrentByteOffset.QuadPart;
        return STATUS_SUCCESS;
    }
    if (write && offset.HighPart == -1 && offset.LowPart == FILE_WRITE_TO_END_OF_FILE) {
        *out = eof;
        return STATUS_SUCCESS;
    }
    if (offset.QuadPart < 0)
        return STATUS_INVALID_PARAMETER;
    *out = (ULONG64)offset.QuadPart;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_rw_check(PFILE_OBJECT fo, ULONG irp_flags, ULONG64 eof, LARGE_INTEGER offset,
                             ULONG length, const void *buffer, bool write, ULONG64 *off)
{
    NTSTATUS status = fltsim__fs_resolve_offset(fo, eof, offset, write, off);
    if (!NT_SUCCESS(status))
        return status;
    if (fltsim__fs_misaligned(irp_flags, *off, length))
        return STATUS_INVALID_PARAMETER;
    if (length == 0) {
        fltsim__fs_update_position(fo, irp_flags, *off);
        return STATUS_SUCCESS;
    }
    if (buffer == NULL)
        return STATUS_INVALID_USER_BUFFER;
    return STATUS_SUCCESS;
}

ULONG64 fltsim__fs_span(ULONG64 eof, ULONG64 off, ULONG length)
{
    if (off >= eof)
        return 0;
    return eof - off < length ? eof - off : length;
}

bool fltsim__fs_misaligned(ULONG irp_flags, ULONG64 offset, ULONG length)
{
    if (!(irp_flags & IRP_NOCACHE) || (irp_flags & IRP_PAGING_IO))
        return false;
    return (offset % FLTSIM__FS_SECTOR_SIZE) != 0 || (length % FLTSIM__FS_SECTOR_SIZE) != 0;
}

void fltsim__fs_update_position(PFILE_OBJECT fo, ULONG irp_flags, ULONG64 end)
{
    if ((fo->Flags & FO_SYNCHRONOUS_IO) && !(irp_flags & IRP_PAGING_IO))
        fo->CurrentByteOffset.QuadPart = (LONGLONG)end;
}

ULONG64 fltsim__fs_round_alloc(ULONG64 x)
{
    const ULONG64 c = FLTSIM__FS_CLUSTER_SIZE;
    if (x > ~0ULL - (c - 1))
        return ~0ULL & ~(c - 1);
    return (x + c - 1) & ~(c - 1);
}

/* ------------------------------------------------------------------------- */
/* Query information                                                         */
/* ------------------------------------------------------------------------- */

#define NAME_INFO_FIXED ((ULONG)offsetof(FILE_NAME_INFORMATION, FileName))
#define ALL_INFO_NAME ((ULONG)offsetof(FILE_ALL_INFORMATION, NameInformation))

/* The part of each class a query fills that must fit (the record up to its
 * name); 0 = not supported. */
static ULONG query_fixed_size(FILE_INFORMATION_CLASS cls)
{
    switch (cls) {
    case FileBasicInformation:
    case FileStandardInformation:
    case FileInternalInformation:
    case FileEaInformation:
    case FileAccessInformation:
    case FileNameInformation:
    case FilePositionInformation:
    case FileAllInformation:
    case FileNetworkOpenInformation:
    case FileAttributeTagInformation:
        return fltsim__file_info_fixed_size(cls);
    default:
        return 0;
    }
}

NTSTATUS fltsim__fs_query_check(FILE_INFORMATION_CLASS cls, const void *buffer, ULONG length)
{
    ULONG fixed = query_fixed_size(cls);
    if (fixed == 0)
        return STATUS_INVALID_PARAMETER;
    if (length < fixed)
        return STATUS_INFO_LENGTH_MISMATCH;
    if (buffer == NULL)
        return STATUS_INVALID_USER_BUFFER;
    return STATUS_SUCCESS;
}

bool fltsim__fs_query_needs_name(FILE_INFORMATION_CLASS cls)
{
    return cls == FileNameInformation || cls == FileAllInformation;
}

static void basic_of(const struct fltsim__fs_facts *f, FILE_BASIC_INFORMATION *b)
{
    memset(b, 0, sizeof(*b));
    b->CreationTime.QuadPart = f->creation_time;
    b->LastAccessTime.QuadPart = f->last_access_time;
    b->LastWriteTime.QuadPart = f->last_write_time;
    b->ChangeTime.QuadPart = f->change_time;
    b->FileAttributes = f->attributes;
}

static void standard_of(const struct fltsim__fs_facts *f, FILE_STANDARD_INFORMATION *s)
{
    memset(s, 0, sizeof(*s));
    s->AllocationSize.QuadPart = (LONGLONG)f->allocation;
    s->EndOfFile.QuadPart = (LONGLONG)f->eof;
    s->NumberOfLinks = 1;
    s->DeletePending = f->delete_pending;
    s->Directory = f->directory;
}

/* FILE_MODE_INFORMATION.Mode from the file object's flags. */
static ULONG mode_of(const FILE_OBJECT *fo)
{
    ULONG mode = 0;
    if (fo->Flags & FO_SYNCHRONOUS_IO)
        mode |= (fo->Flags & FO_ALERTABLE_IO) ? FILE_SYNCHRONOUS_IO_ALERT
                                              : FILE_SYNCHRONOUS_IO_NONALERT;
    if (fo->Flags & FO_WRITE_THROUGH)
        mode |= FILE_WRITE_THROUGH;
    if (fo->Flags & FO_SEQUENTIAL_ONLY)
        mode |= FILE_SEQUENTIAL_ONLY;
    if (fo->Flags & FO_NO_INTERMEDIATE_BUFFERING)
        mode |= FILE_NO_INTERMEDIATE_BUFFERING;
    if (fo->Flags & FO_DELETE_ON_CLOSE)
        mode |= FILE_DELETE_ON_CLOSE;
    return mode;
}

/* Writes a FILE_NAME_INFORMATION holding path at buf + at (the fixed part is
 * known to fit). A name that does not fit is cut to whole characters and the
 * result is STATUS_BUFFER_OVERFLOW; FileNameLength is always the full
 * length. *end = bytes of buf used. */
static NTSTATUS put_name(const WCHAR *path, size_t units, UCHAR *buf, ULONG length, ULONG at,
                         ULONG *end)
{
    ULONG full = (ULONG)(units * sizeof(WCHAR));
    ULONG room = (length - at - NAME_INFO_FIXED) & ~1u;
    ULONG copy = full < room ? full : room;
    memcpy(buf + at, &full, sizeof(full));
    if (copy > 0)
        memcpy(buf + at + NAME_INFO_FIXED, path, copy);
    *end = at + NAME_INFO_FIXED + copy;
    return copy < full ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_query_fill(const struct fltsim__fs_facts *f, PFILE_OBJECT fo,
                               ACCESS_MASK granted, FILE_INFORMATION_CLASS cls, void *buffer,
                               ULONG length, const WCHAR *path, size_t path_units,
                               ULONG_PTR *information)
{
    UCHAR *buf = buffer;
    ULONG end = 0;
    NTSTATUS status = STATUS_SUCCESS;

    *information = 0;
    switch (cls) {
    case FileBasicInformation: {
        FILE_BASIC_INFORMATION b;
        basic_of(f, &b);
        memcpy(buf, &b, sizeof(b));
        end = sizeof(b);
        break;
    }
    case FileStandardInformation: {
        FILE_STANDARD_INFORMATION s;
        standard_of(f, &s);
        memcpy(buf, &s, sizeof(s));
        end = sizeof(s);
        break;
    }
    case FileInternalInformation: {
        FILE_INTERNAL_INFORMATION i = {{{0, 0}}};
        i.IndexNumber.QuadPart = (LONGLONG)f->file_id;
        memcpy(buf, &i, sizeof(i));
        end = sizeof(i);
        break;
    }
    case FileEaInformation: {
        FILE_EA_INFORMATION e = {0};
        memcpy(buf, &e, sizeof(e));
        end = sizeof(e);
        break;
    }
    case FileAccessInformation: {
        FILE_ACCESS_INFORMATION a = {granted};
        memcpy(buf, &a, sizeof(a));
        end = sizeof(a);
        break;
    }
    case FileNameInformation:
        status = put_name(path, path_units, buf, length, 0, &end);
        break;
    case FilePositionInformation: {
        FILE_POSITION_INFORMATION p;
        p.CurrentByteOffset = fo->CurrentByteOffset;
        memcpy(buf, &p, sizeof(p));
        end = sizeof(p);
        break;
    }
    case FileAllInformation: {
        FILE_ALL_INFORMATION all;
        memset(&all, 0, sizeof(all));
        basic_of(f, &all.BasicInformation);
        standard_of(f, &all.StandardInformation);
        all.InternalInformation.IndexNumber.QuadPart = (LONGLONG)f->file_id;
        all.AccessInformation.AccessFlags = granted;
        all.PositionInformation.CurrentByteOffset = fo->CurrentByteOffset;
        all.ModeInformation.Mode = mode_of(fo);
        all.AlignmentInformation.AlignmentRequirement = 0; /* FILE_BYTE_ALIGNMENT */
        memcpy(buf, &all, ALL_INFO_NAME);
        status = put_name(path, path_units, buf, length, ALL_INFO_NAME, &end);
        break;
    }
    case FileNetworkOpenInformation: {
        FILE_NETWORK_OPEN_INFORMATION o;
        memset(&o, 0, sizeof(o));
        o.CreationTime.QuadPart = f->creation_time;
        o.LastAccessTime.QuadPart = f->last_access_time;
        o.LastWriteTime.QuadPart = f->last_write_time;
        o.ChangeTime.QuadPart = f->change_time;
        o.AllocationSize.QuadPart = (LONGLONG)f->allocation;
        o.EndOfFile.QuadPart = (LONGLONG)f->eof;
        o.FileAttributes = f->attributes;
        memcpy(buf, &o, sizeof(o));
        end = sizeof(o);
        break;
    }
    case FileAttributeTagInformation: {
        FILE_ATTRIBUTE_TAG_INFORMATION t = {f->attributes, 0};
        memcpy(buf, &t, sizeof(t));
        end = sizeof(t);
        break;
    }
    default:
        return STATUS_INVALID_PARAMETER;
    }
    if (NT_SUCCESS(status) || status == STATUS_BUFFER_OVERFLOW)
        *information = end;
    return status;
}

/* ------------------------------------------------------------------------- */
/* Volume information                                                        */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__fs_query_volume_fill(FS_INFORMATION_CLASS cls, void *buffer, ULONG length,
                                      const struct fltsim__fs_volume_facts *v,
                                      ULONG_PTR *information)
{
    UCHAR *buf = buffer;
    ULONG fixed;

    *information = 0;
    switch (cls) {
    case FileFsVolumeInformation:
        fixed = (ULONG)offsetof(FILE_FS_VOLUME_INFORMATION, VolumeLabel);
        break;
    case FileFsSizeInformation:
        fixed = sizeof(FILE_FS_SIZE_INFORMATION);
        break;
    case FileFsDeviceInformation:
        fixed = sizeof(FILE_FS_DEVICE_INFORMATION);
        break;
    case FileFsAttributeInformation:
        fixed = (ULONG)offsetof(FILE_FS_ATTRIBUTE_INFORMATION, FileSystemName);
        break;
    case FileFsFullSizeInformation:
        fixed = sizeof(FILE_FS_FULL_SIZE_INFORMATION);
        break;
    default:
        return STATUS_INVALID_PARAMETER;
    }
    if (length < fixed)
        return STATUS_INFO_LENGTH_MISMATCH;
    if (buf == NULL)
        return STATUS_INVALID_USER_BUFFER;

    switch (cls) {
    case FileFsVolumeInformation: {
        FILE_FS_VOLUME_INFORMATION vi;
        memset(&vi, 0, sizeof(vi));
        vi.VolumeCreationTime.QuadPart = v->creation_time;
        vi.VolumeSerialNumber = v->serial;
        vi.VolumeLabelLength = 0; /* no label */
        vi.SupportsObjects = FALSE;
        memcpy(buf, &vi, fixed);
        *information = fixed;
        return STATUS_SUCCESS;
    }
    case FileFsSizeInformation: {
        FILE_FS_SIZE_INFORMATION s;
        memset(&s, 0, sizeof(s));
        s.TotalAllocationUnits.QuadPart = (LONGLONG)v->total_units;
        s.AvailableAllocationUnits.QuadPart = (LONGLONG)v->avail_units;
        s.SectorsPerAllocationUnit = FLTSIM__FS_CLUSTER_SIZE / FLTSIM__FS_SECTOR_SIZE;
        s.BytesPerSector = FLTSIM__FS_SECTOR_SIZE;
        memcpy(buf, &s, sizeof(s));
        *information = sizeof(s);
        return STATUS_SUCCESS;
    }
    case FileFsFullSizeInformation: {
        FILE_FS_FULL_SIZE_INFORMATION s;
        memset(&s, 0, sizeof(s));
        s.TotalAllocationUnits.QuadPart = (LONGLONG)v->total_units;
        s.ActualAvailableAllocationUnits.QuadPart = (LONGLONG)v->avail_units;
        s.CallerAvailableAllocationUnits = s.ActualAvailableAllocationUnits; /* no quotas */
        s.SectorsPerAllocationUnit = FLTSIM__FS_CLUSTER_SIZE / FLTSIM__FS_SECTOR_SIZE;
        s.BytesPerSector = FLTSIM__FS_SECTOR_SIZE;
        memcpy(buf, &s, sizeof(s));
        *information = sizeof(s);
        return STATUS_SUCCESS;
    }
    case FileFsDeviceInformation: {
        FILE_FS_DEVICE_INFORMATION d = {FILE_DEVICE_DISK, v->characteristics};
        memcpy(buf, &d, sizeof(d));
        *information = sizeof(d);
        return STATUS_SUCCESS;
    }
    case FileFsAttributeInformation: {
        static const WCHAR fs_name[] = {L'N', L'T', L'F', L'S'};
        FILE_FS_ATTRIBUTE_INFORMATION a;
        memset(&a, 0, sizeof(a));
        a.FileSystemAttributes = v->fs_attributes;
        a.MaximumComponentNameLength = FLTSIM__FS_NAME_MAX;
        a.FileSystemNameLength = sizeof(fs_name);
        ULONG room = (length - fixed) & ~1u;
        ULONG copy = room < sizeof(fs_name) ? room : (ULONG)sizeof(fs_name);
        memcpy(buf, &a, fixed);
        memcpy(buf + fixed, fs_name, copy);
        *information = fixed + copy;
        return copy < sizeof(fs_name) ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
    }
    default:
        return STATUS_INVALID_PARAMETER;
    }
}

/* ------------------------------------------------------------------------- */
/* Set information                                                           */
/* ------------------------------------------------------------------------- */

ULONG fltsim__fs_set_min_size(FILE_INFORMATION_CLASS cls)
{
    switch (cls) {
    case FileBasicInformation:
    case FileEndOfFileInformation:
    case FileAllocationInformation:
    case FileDispositionInformation:
    case FileDispositionInformationEx:
    case FileRenameInformation:
    case FilePositionInformation:
        return fltsim__file_info_fixed_size(cls);
    default:
        return 0;
    }
}

NTSTATUS fltsim__fs_set_check(PFLT_CALLBACK_DATA data, bool cleaned_up)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    FILE_INFORMATION_CLASS cls = iopb->Parameters.SetFileInformation.FileInformationClass;
    ULONG min = fltsim__fs_set_min_size(cls);
    if (min == 0)
        return STATUS_INVALID_PARAMETER;
    if (iopb->Parameters.SetFileInformation.Length < min)
        return STATUS_INFO_LENGTH_MISMATCH;
    if (iopb->Parameters.SetFileInformation.InfoBuffer == NULL)
        return STATUS_INVALID_USER_BUFFER;
    if (cleaned_up &&
        !(cls == FileEndOfFileInformation && iopb->Parameters.SetFileInformation.AdvanceOnly))
        return STATUS_FILE_CLOSED;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_set_position(PFILE_OBJECT fo, const void *buf)
{
    FILE_POSITION_INFORMATION p;
    memcpy(&p, buf, sizeof(p));
    if (p.CurrentByteOffset.QuadPart < 0)
        return STATUS_INVALID_PARAMETER;
    fo->CurrentByteOffset = p.CurrentByteOffset;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_basic_check(const FILE_BASIC_INFORMATION *b)
{
    if (b->CreationTime.QuadPart < -2 || b->LastAccessTime.QuadPart < -2 ||
        b->LastWriteTime.QuadPart < -2 || b->ChangeTime.QuadPart < -2)
        return STATUS_INVALID_PARAMETER;
    return STATUS_SUCCESS;
}

bool fltsim__fs_time_given(LONGLONG t)
{
    return t > 0;
}

/* ------------------------------------------------------------------------- */
/* Directory queries                                                         */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__fs_pattern_take(struct fltsim__fs_pattern *p, const UNICODE_STRING *given)
{
    size_t units = 1;
    const WCHAR *src = NULL;
    if (given != NULL && given->Length >= sizeof(WCHAR) && given->Buffer != NULL) {
        units = given->Length / sizeof(WCHAR);
        src = given->Buffer;
    }
    WCHAR *e = malloc(units * sizeof(WCHAR));
    if (e == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (src == NULL)
        e[0] = L'*';
    else
        for (size_t i = 0; i < units; i++)
            e[i] = RtlUpcaseUnicodeChar(src[i]);
    free(p->expr);
    p->expr = e;
    p->len = (USHORT)units;
    return STATUS_SUCCESS;
}

bool fltsim__fs_pattern_match(const struct fltsim__fs_pattern *p, const WCHAR *name, size_t len)
{
    UNICODE_STRING expr, n;
    expr.Buffer = p->expr;
    expr.Length = expr.MaximumLength = (USHORT)(p->len * sizeof(WCHAR));
    n.Buffer = (PWCH)name;
    n.Length = n.MaximumLength = (USHORT)(len * sizeof(WCHAR));
    return FsRtlIsNameInExpression(&expr, &n, TRUE, NULL) != FALSE;
}

void fltsim__fs_pattern_free(struct fltsim__fs_pattern *p)
{
    free(p->expr);
    p->expr = NULL;
    p->len = 0;
}

#define FILL_COMMON(e, f, name_bytes)                                                              \
    do {                                                                                           \
        (e).CreationTime.QuadPart = (f)->creation_time;                                            \
        (e).LastAccessTime.QuadPart = (f)->last_access_time;                                       \
        (e).LastWriteTime.QuadPart = (f)->last_write_time;                                         \
        (e).ChangeTime.QuadPart = (f)->change_time;                                                \
        (e).EndOfFile.QuadPart = (LONGLONG)(f)->eof;                                               \
        (e).AllocationSize.QuadPart = (LONGLONG)(f)->allocation;                                   \
        (e).FileAttributes = (f)->attributes;                                                      \
        (e).FileNameLength = (name_bytes);                                                         \
    } while (0)

/* Writes one entry's fixed part (NextEntryOffset 0, FileIndex 0, EaSize 0,
 * no short name) describing f under a name of name_bytes bytes. */
static void write_fixed(UCHAR *dst, FILE_INFORMATION_CLASS cls, const struct fltsim__fs_facts *f,
                        ULONG name_bytes)
{
    union {
        FILE_DIRECTORY_INFORMATION dir;
        FILE_FULL_DIR_INFORMATION full;
        FILE_BOTH_DIR_INFORMATION both;
        FILE_NAMES_INFORMATION names;
        FILE_ID_BOTH_DIR_INFORMATION id_both;
        FILE_ID_FULL_DIR_INFORMATION id_full;
    } e;
    memset(&e, 0, sizeof(e));
    switch (cls) {
    case FileDirectoryInformation:
        FILL_COMMON(e.dir, f, name_bytes);
        break;
    case FileFullDirectoryInformation:
        FILL_COMMON(e.full, f, name_bytes);
        break;
    case FileBothDirectoryInformation:
        FILL_COMMON(e.both, f, name_bytes);
        break;
    case FileIdBothDirectoryInformation:
        FILL_COMMON(e.id_both, f, name_bytes);
        e.id_both.FileId.QuadPart = (LONGLONG)f->file_id;
        break;
    case FileIdFullDirectoryInformation:
        FILL_COMMON(e.id_full, f, name_bytes);
        e.id_full.FileId.QuadPart = (LONGLONG)f->file_id;
        break;
    case FileNamesInformation:
    default:
        e.names.FileNameLength = name_bytes;
        break;
    }
    memcpy(dst, &e, fltsim__directory_entry_fixed_size(cls));
}

NTSTATUS fltsim__fs_scan_fill(FILE_INFORMATION_CLASS cls, UCHAR *buf, ULONG length, bool single,
                              const struct fltsim__fs_pattern *pattern,
                              const struct fltsim__fs_scan_ops *ops, void *ctx, bool *any,
                              ULONG *used)
{
    ULONG fixed = fltsim__directory_entry_fixed_size(cls);
    ULONG end = 0;  /* end of the last entry written */
    ULONG prev = 0; /* offset of the last entry written */
    bool wrote = false;
    NTSTATUS status = STATUS_SUCCESS;
    const WCHAR *name;
    USHORT name_len;
    struct fltsim__fs_facts f;

    while (ops->next_cb(ctx, &name, &name_len)) {
        if (!fltsim__fs_pattern_match(pattern, name, name_len) || !ops->facts_cb(ctx, &f)) {
            ops->consume_cb(ctx);
            continue;
        }
        ULONG name_bytes = (ULONG)name_len * sizeof(WCHAR);
        ULONG at = wrote ? (ULONG)ALIGN_UP_BY(end, 8) : 0;
        if (!wrote && fixed + name_bytes > length) {
            /* Not even the first entry fits: its fixed part and what fits of
             * the name, with the full FileNameLength; the entry is consumed. */
            ULONG copy = (length - fixed) & ~1u;
            write_fixed(buf, cls, &f, name_bytes);
            memcpy(buf + fixed, name, copy);
            ops->consume_cb(ctx);
            end = fixed + copy;
            status = STATUS_BUFFER_OVERFLOW;
            wrote = true;
            break;
        }
        if (at > length || fixed + name_bytes > length - at)
            break;
        write_fixed(buf + at, cls, &f, name_bytes);
        memcpy(buf + at + fixed, name, name_bytes);
        if (wrote) {
            ULONG next = at - prev;
            memcpy(buf + prev, &next, sizeof(next)); /* NextEntryOffset is first in every class */
        }
        prev = at;
        end = at + fixed + name_bytes;
        wrote = true;
        ops->consume_cb(ctx);
        if (single)
            break;
    }
    *any = wrote;
    *used = wrote ? end : 0;
    return status;
}

NTSTATUS fltsim__fs_dir_query_decode(PFLT_CALLBACK_DATA data, struct fltsim__fs_dir_query *q)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    q->cls = iopb->Parameters.DirectoryControl.QueryDirectory.FileInformationClass;
    q->length = iopb->Parameters.DirectoryControl.QueryDirectory.Length;
    q->buf = iopb->Parameters.DirectoryControl.QueryDirectory.DirectoryBuffer;
    q->pattern = iopb->Parameters.DirectoryControl.QueryDirectory.FileName;
    q->restart = (iopb->OperationFlags & SL_RESTART_SCAN) != 0;
    q->single = (iopb->OperationFlags & SL_RETURN_SINGLE_ENTRY) != 0;

    ULONG fixed = fltsim__directory_entry_fixed_size(q->cls);
    if (fixed == 0)
        return STATUS_INVALID_INFO_CLASS;
    if (q->length < fixed)
        return STATUS_INFO_LENGTH_MISMATCH;
    if (q->buf == NULL)
        return STATUS_INVALID_USER_BUFFER;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_dir_query_begin(const struct fltsim__fs_dir_query *q,
                                    struct fltsim__fs_pattern *pattern, BOOLEAN *active,
                                    BOOLEAN *first, bool *starts)
{
    *starts = false;
    if (!*active || (q->restart && q->pattern != NULL)) {
        NTSTATUS status = fltsim__fs_pattern_take(pattern, q->pattern);
        if (!NT_SUCCESS(status))
            return status;
    }
    if (!*active || q->restart) {
        *active = TRUE;
        *first = TRUE;
        *starts = true;
    }
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_dir_query_fill(const struct fltsim__fs_dir_query *q,
                                   const struct fltsim__fs_pattern *pattern,
                                   const struct fltsim__fs_scan_ops *ops, void *ctx, BOOLEAN *first,
                                   ULONG_PTR *information)
{
    ULONG used = 0;
    bool any = false;
    NTSTATUS status =
        fltsim__fs_scan_fill(q->cls, q->buf, q->length, q->single, pattern, ops, ctx, &any, &used);
    if (!any)
        status = *first ? STATUS_NO_SUCH_FILE : STATUS_NO_MORE_FILES;
    *first = FALSE;
    *information = any ? used : 0;
    return status;
}

bool fltsim__fs_fast_write_fits(PFLT_CALLBACK_DATA data, ULONG64 eof)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    ULONG64 offset;
    if (!NT_SUCCESS(fltsim__fs_resolve_offset(iopb->TargetFileObject, eof,
                                              iopb->Parameters.Write.ByteOffset, true, &offset)))
        return false;
    return iopb->Parameters.Write.Length == 0 ||
           (offset <= eof && iopb->Parameters.Write.Length <= eof - offset);
}

/* One acquire/release pair's count: a release with no acquire is a broken
 * pairing, reported as STATUS_INVALID_DEVICE_STATE. */
static NTSTATUS pair(bool acquire, ULONG *count)
{
    if (acquire) {
        (*count)++;
        return STATUS_SUCCESS;
    }
    if (*count == 0)
        return STATUS_INVALID_DEVICE_STATE;
    (*count)--;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_filter_callback(PFLT_CALLBACK_DATA data, struct fltsim__fs_acquires *c,
                                    const struct fltsim__fs_share *share)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    switch (iopb->MajorFunction) {
    case IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION: {
        NTSTATUS status = pair(true, &c->section);
        if (iopb->Parameters.AcquireForSectionSynchronization.SyncType != SyncTypeCreateSection)
            return status;
        /* NTFS tells the memory manager whether writers exist, so that it
         * can decide about image sections (SPEC 3.1). */
        return share->writers != 0 ? STATUS_FILE_LOCKED_WITH_WRITERS
                                   : STATUS_FILE_LOCKED_WITH_ONLY_READERS;
    }
    case IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION:
        return pair(false, &c->section);
    case IRP_MJ_ACQUIRE_FOR_MOD_WRITE:
        /* No ERESOURCE backs the file: nothing for the writer to release. */
        if (iopb->Parameters.AcquireForModifiedPageWriter.ResourceToRelease != NULL)
            *iopb->Parameters.AcquireForModifiedPageWriter.ResourceToRelease = NULL;
        return pair(true, &c->mod_write);
    case IRP_MJ_RELEASE_FOR_MOD_WRITE:
        return pair(false, &c->mod_write);
    case IRP_MJ_ACQUIRE_FOR_CC_FLUSH:
        return pair(true, &c->cc_flush);
    case IRP_MJ_RELEASE_FOR_CC_FLUSH:
        return pair(false, &c->cc_flush);
    default:
        return STATUS_SUCCESS;
    }
}

/* ------------------------------------------------------------------------- */
/* Byte-range locks                                                          */
/* ------------------------------------------------------------------------- */

/* Zero-length ranges overlap nothing (FsRtl). */
static bool overlaps(ULONG64 a_off, ULONG64 a_len, ULONG64 b_off, ULONG64 b_len)
{
    if (a_len == 0 || b_len == 0)
        return false;
    return a_off < b_off + b_len && b_off < a_off + a_len;
}

static bool same_owner(const struct fltsim__fs_lock *l, PFILE_OBJECT fo, ULONG pid, ULONG key)
{
    return l->fo == fo && l->process_id == pid && l->key == key;
}

static void lock_remove_at(struct fltsim__fs_locks *locks, ULONG i)
{
    locks->v[i] = locks->v[locks->count - 1];
    locks->count--;
}

NTSTATUS fltsim__fs_lock_control(struct fltsim__fs_locks *locks, PFLT_CALLBACK_DATA data)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    PFILE_OBJECT fo = iopb->TargetFileObject;
    ULONG pid = FltGetRequestorProcessId(data);
    ULONG key = iopb->Parameters.LockControl.Key;
    UCHAR minor = iopb->MinorFunction;

    if (minor == IRP_MN_UNLOCK_ALL || minor == IRP_MN_UNLOCK_ALL_BY_KEY) {
        for (ULONG i = locks->count; i-- > 0;) {
            const struct fltsim__fs_lock *l = &locks->v[i];
            if (l->fo == fo && l->process_id == pid &&
                (minor == IRP_MN_UNLOCK_ALL || l->key == key))
                lock_remove_at(locks, i);
        }
        return STATUS_SUCCESS;
    }
    if (minor != IRP_MN_LOCK && minor != IRP_MN_UNLOCK_SINGLE)
        return STATUS_INVALID_DEVICE_REQUEST;
    const LARGE_INTEGER *plen = iopb->Parameters.LockControl.Length;
    LONGLONG off = iopb->Parameters.LockControl.ByteOffset.QuadPart;
    if (plen == NULL || plen->QuadPart < 0 || off < 0 || plen->QuadPart > INT64_MAX - off)
        return STATUS_INVALID_PARAMETER;
    ULONG64 offset = (ULONG64)off, length = (ULONG64)plen->QuadPart;

    if (minor == IRP_MN_UNLOCK_SINGLE) {
        for (ULONG i = 0; i < locks->count; i++) {
            const struct fltsim__fs_lock *l = &locks->v[i];
            if (same_owner(l, fo, pid, key) && l->offset == offset && l->length == length) {
                lock_remove_at(locks, i);
                return STATUS_SUCCESS;
            }
        }
        return STATUS_RANGE_NOT_LOCKED;
    }

    bool exclusive, fail_immediately;
    if (FLT_IS_FASTIO_OPERATION(data)) {
        exclusive = iopb->Parameters.LockControl.ExclusiveLock != FALSE;
        fail_immediately = iopb->Parameters.LockControl.FailImmediately != FALSE;
    } else {
        exclusive = (iopb->OperationFlags & SL_EXCLUSIVE_LOCK) != 0;
        fail_immediately = (iopb->OperationFlags & SL_FAIL_IMMEDIATELY) != 0;
    }
    /* A lock that would wait is refused as if it failed immediately: no
     * waiter queue is modeled (see fs_shared.h). */
    (void)fail_immediately;
    for (ULONG i = 0; i < locks->count; i++) {
        const struct fltsim__fs_lock *l = &locks->v[i];
        if (overlaps(l->offset, l->length, offset, length) && (exclusive || l->exclusive))
            return STATUS_LOCK_NOT_GRANTED;
    }
    if (locks->count == locks->capacity) {
        ULONG cap = locks->capacity ? locks->capacity * 2 : 4;
        struct fltsim__fs_lock *grown =
            cap < (1u << 24) ? realloc(locks->v, cap * sizeof(*grown)) : NULL;
        if (grown == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        locks->v = grown;
        locks->capacity = cap;
    }
    struct fltsim__fs_lock *l = &locks->v[locks->count++];
    l->offset = offset;
    l->length = length;
    l->fo = fo;
    l->process_id = pid;
    l->key = key;
    l->exclusive = exclusive;
    return STATUS_SUCCESS;
}

void fltsim__fs_locks_release_file(struct fltsim__fs_locks *locks, PFILE_OBJECT fo)
{
    for (ULONG i = locks->count; i-- > 0;)
        if (locks->v[i].fo == fo)
            lock_remove_at(locks, i);
}

void fltsim__fs_locks_free(struct fltsim__fs_locks *locks)
{
    free(locks->v);
    memset(locks, 0, sizeof(*locks));
}

NTSTATUS fltsim__fs_lock_check_rw(const struct fltsim__fs_locks *locks, PFLT_CALLBACK_DATA data,
                                  ULONG64 eof)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    bool write = iopb->MajorFunction == IRP_MJ_WRITE;
    if (locks->count == 0 || (iopb->IrpFlags & IRP_PAGING_IO))
        return STATUS_SUCCESS;
    LARGE_INTEGER given =
        write ? iopb->Parameters.Write.ByteOffset : iopb->Parameters.Read.ByteOffset;
    ULONG length = write ? iopb->Parameters.Write.Length : iopb->Parameters.Read.Length;
    ULONG key = write ? iopb->Parameters.Write.Key : iopb->Parameters.Read.Key;
    ULONG64 offset;
    if (!NT_SUCCESS(fltsim__fs_resolve_offset(iopb->TargetFileObject, eof, given, write, &offset)))
        return STATUS_SUCCESS;
    PFILE_OBJECT fo = iopb->TargetFileObject;
    ULONG pid = FltGetRequestorProcessId(data);
    for (ULONG i = 0; i < locks->count; i++) {
        const struct fltsim__fs_lock *l = &locks->v[i];
        if (!overlaps(l->offset, l->length, offset, length))
            continue;
        bool own = same_owner(l, fo, pid, key);
        /* A shared lock keeps everyone, its owner too, from writing. */
        if ((l->exclusive && !own) || (write && !l->exclusive))
            return STATUS_FILE_LOCK_CONFLICT;
    }
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Controls, extended attributes, security                                   */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__fs_fs_control(PFLT_CALLBACK_DATA data, ULONG_PTR *information)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    *information = 0;
    if (iopb->MinorFunction != IRP_MN_USER_FS_REQUEST && iopb->MinorFunction != IRP_MN_KERNEL_CALL)
        return STATUS_INVALID_DEVICE_REQUEST;
    switch (iopb->Parameters.FileSystemControl.Common.FsControlCode) {
    case FSCTL_GET_REPARSE_POINT:
        return STATUS_NOT_A_REPARSE_POINT; /* neither file system has reparse points */
    case FSCTL_IS_VOLUME_MOUNTED:
        return STATUS_SUCCESS;
    default:
        return STATUS_INVALID_DEVICE_REQUEST;
    }
}

NTSTATUS fltsim__fs_query_ea(PFLT_CALLBACK_DATA data, ULONG_PTR *information)
{
    (void)data;
    *information = 0;
    return STATUS_NO_EAS_ON_FILE;
}

/* The fixed descriptor's SIDs: S-1-5-32-544 (BUILTIN\Administrators) and
 * S-1-5-18 (SYSTEM), as SID bytes: revision, count, authority (6 bytes, big
 * endian), sub-authorities (little endian). */
static const UCHAR owner_sid[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0};
static const UCHAR group_sid[] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};

NTSTATUS fltsim__fs_query_security(PFLT_CALLBACK_DATA data, ULONG_PTR *information)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    SECURITY_INFORMATION what = iopb->Parameters.QuerySecurity.SecurityInformation;
    ULONG length = iopb->Parameters.QuerySecurity.Length;
    UCHAR *buf = iopb->Parameters.QuerySecurity.SecurityBuffer;
    *information = 0;

    SECURITY_DESCRIPTOR_RELATIVE sd;
    memset(&sd, 0, sizeof(sd));
    sd.Revision = SECURITY_DESCRIPTOR_REVISION;
    sd.Control = SE_SELF_RELATIVE;
    ULONG size = sizeof(sd);
    if (what & OWNER_SECURITY_INFORMATION) {
        sd.Owner = size;
        size += sizeof(owner_sid);
    }
    if (what & GROUP_SECURITY_INFORMATION) {
        sd.Group = size;
        size += sizeof(group_sid);
    }
    /* DACL and SACL asked for: none present (no SE_DACL_PRESENT: no DACL,
     * which grants everyone all access, as the file systems do). */
    if (length < size) {
        *information = size;
        return STATUS_BUFFER_OVERFLOW;
    }
    if (buf == NULL)
        return STATUS_INVALID_USER_BUFFER;
    memcpy(buf, &sd, sizeof(sd));
    if (sd.Owner != 0)
        memcpy(buf + sd.Owner, owner_sid, sizeof(owner_sid));
    if (sd.Group != 0)
        memcpy(buf + sd.Group, group_sid, sizeof(group_sid));
    *information = size;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_set_security(PFLT_CALLBACK_DATA data)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    const SECURITY_DESCRIPTOR_RELATIVE *sd = iopb->Parameters.SetSecurity.SecurityDescriptor;
    SECURITY_INFORMATION what = iopb->Parameters.SetSecurity.SecurityInformation;
    const SECURITY_INFORMATION parts =
        OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION |
        SACL_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION | ATTRIBUTE_SECURITY_INFORMATION |
        SCOPE_SECURITY_INFORMATION | PROCESS_TRUST_LABEL_SECURITY_INFORMATION;
    if (sd == NULL || sd->Revision != SECURITY_DESCRIPTOR_REVISION ||
        !(sd->Control & SE_SELF_RELATIVE) || (what & parts) == 0)
        return STATUS_INVALID_SECURITY_DESCR;
    return STATUS_SUCCESS;
}
