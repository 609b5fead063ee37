/*
 * The information rules memfs and hostfs share (fs_shared.h): the checks
 * and FILE_*_INFORMATION records of IRP_MJ_QUERY_INFORMATION, the
 * FILE_FS_*_INFORMATION records of a volume query, the checks before an
 * IRP_MJ_SET_INFORMATION, and the handlers of those requests with the
 * disposition and rename rules (fs_core.h). Each file system describes its
 * file as a struct fltsim__fs_facts and changes it through struct
 * fltsim__fs_info_ops. Create rules live in fs_create.c, offsets and locks in
 * fs_rw.c, directory entries in fs_dir.c, controls in fs_control.c.
 */
#include <stdlib.h>
#include <string.h>

#include "fs_core.h"
#include "common/sim_internal.h"

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
    case FileAlternateNameInformation:
    case FileNormalizedNameInformation:
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
    return cls == FileNameInformation || cls == FileAllInformation ||
           cls == FileAlternateNameInformation || cls == FileNormalizedNameInformation;
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

/* FileAlternateNameInformation: the 8.3 name of the file (a stream handle's
 * file); a long name that is already 8.3 is its own (NTFS keeps one name for
 * both), and a file with neither (the root too) has none:
 * STATUS_OBJECT_NAME_NOT_FOUND. */
static NTSTATUS put_alternate(const struct fltsim__fs_facts *f, const WCHAR *path, size_t units,
                              UCHAR *buf, ULONG length, ULONG *end)
{
    if (f->short_len > 0)
        return put_name(f->short_name, f->short_len, buf, length, 0, end);
    size_t last = units;
    while (last > 0 && path[last - 1] != L'\\')
        last--;
    for (size_t i = last; i < units; i++)
        if (path[i] == L':')
            units = i; /* a stream's handle: its file's name */
    if (last == units || !fltsim__fs_short_legal(path + last, units - last))
        return STATUS_OBJECT_NAME_NOT_FOUND;
    return put_name(path + last, units - last, buf, length, 0, end);
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
    case FileNormalizedNameInformation:
        /* Paths are kept in their long form: the normalized name is the one
         * FileNameInformation gives. */
        status = put_name(path, path_units, buf, length, 0, &end);
        break;
    case FileAlternateNameInformation:
        status = put_alternate(f, path, path_units, buf, length, &end);
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
        FILE_ATTRIBUTE_TAG_INFORMATION t = {f->attributes, f->reparse_tag};
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
/* The query and set information handlers                                    */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__fs_query_info(struct fltsim__fs *fs, PFILE_OBJECT fo, struct fltsim__fs_open *o,
                               FILE_INFORMATION_CLASS cls, void *buffer, ULONG length,
                               ULONG_PTR *information)
{
    struct fltsim__fs_file *file = o->file;
    struct fltsim__fs_facts f;
    WCHAR *path = NULL;
    size_t units = 0;

    *information = 0;
    if (file->kind == FLTSIM__FS_VOLUME)
        return STATUS_INVALID_PARAMETER;
    if (cls == FileStreamInformation) {
        if (fs->ops->info->streams_cb == NULL)
            return STATUS_INVALID_PARAMETER;
        if (length < fltsim__file_info_fixed_size(cls))
            return STATUS_INFO_LENGTH_MISMATCH;
        if (buffer == NULL)
            return STATUS_INVALID_USER_BUFFER;
        if (file->unlinked)
            return STATUS_FILE_DELETED;
        return fs->ops->info->streams_cb(fs, file, buffer, length, information);
    }
    NTSTATUS status = fltsim__fs_query_check(cls, buffer, length);
    if (!NT_SUCCESS(status))
        return status;
    /* Deleted for good (unlinked after its last handle): no name to give. */
    if (file->unlinked)
        return STATUS_FILE_DELETED;
    status = fs->ops->info->facts_cb(fs, file, &f);
    if (!NT_SUCCESS(status))
        return status;
    if (fltsim__fs_query_needs_name(cls)) {
        path = fs->ops->info->path_cb(fs, file, &units);
        if (path == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
    }
    status =
        fltsim__fs_query_fill(&f, fo, o->granted, cls, buffer, length, path, units, information);
    free(path);
    return status;
}

NTSTATUS fltsim__fs_query_volume(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data,
                                 ULONG_PTR *information)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    struct fltsim__fs_volume_facts v;

    *information = 0;
    if (fltsim__fs_open_of(fs, iopb->TargetFileObject) == NULL)
        return STATUS_INVALID_PARAMETER;
    memset(&v, 0, sizeof(v));
    NTSTATUS status = fs->ops->info->volume_facts_cb(fs, &v);
    if (!NT_SUCCESS(status))
        return status;
    return fltsim__fs_query_volume_fill(iopb->Parameters.QueryVolumeInformation.FsInformationClass,
                                        iopb->Parameters.QueryVolumeInformation.VolumeBuffer,
                                        iopb->Parameters.QueryVolumeInformation.Length, &v,
                                        information);
}

static NTSTATUS set_end_of_file(struct fltsim__fs *fs, PFILE_OBJECT fo,
                                struct fltsim__fs_file *file, const FILE_END_OF_FILE_INFORMATION *e,
                                BOOLEAN advance_only)
{
    if (file->kind != FLTSIM__FS_FILE || e->EndOfFile.QuadPart < 0)
        return STATUS_INVALID_PARAMETER;
    /* AdvanceOnly (the cache manager's lazy writer) moves the valid data
     * length forward, never the file size, as NTFS does. Neither file system
     * keeps a valid data length apart from the end of file (every byte below
     * it is valid), so there is nothing to advance. */
    if (advance_only)
        return STATUS_SUCCESS;
    ULONG64 eof;
    NTSTATUS status = fs->ops->io->eof_cb(fs, file, &eof);
    if (!NT_SUCCESS(status) || eof == (ULONG64)e->EndOfFile.QuadPart)
        return status;
    return fs->ops->info->set_eof_cb(fs, fo, file, (ULONG64)e->EndOfFile.QuadPart);
}

/* Whether file may become delete pending (ignore_readonly:
 * FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE; check_empty: a non-empty
 * directory is STATUS_DIRECTORY_NOT_EMPTY now rather than at cleanup). */
static NTSTATUS deletable(struct fltsim__fs *fs, struct fltsim__fs_file *file, bool ignore_readonly,
                          bool check_empty)
{
    struct fltsim__fs_facts f;
    if (file->root)
        return STATUS_CANNOT_DELETE;
    NTSTATUS status = fs->ops->info->facts_cb(fs, file, &f);
    if (!NT_SUCCESS(status))
        return status;
    if ((f.attributes & FILE_ATTRIBUTE_READONLY) && !ignore_readonly)
        return STATUS_CANNOT_DELETE;
    if (check_empty && file->kind == FLTSIM__FS_DIRECTORY) {
        bool empty;
        status = fs->ops->dir->dir_empty_cb(fs, file, &empty);
        if (!NT_SUCCESS(status))
            return status;
        if (!empty)
            return STATUS_DIRECTORY_NOT_EMPTY;
    }
    return STATUS_SUCCESS;
}

/* FileDispositionInformation(Ex) without ON_CLOSE: marks or clears delete
 * pending on the file (the file object's DeletePending mirrors it). */
static NTSTATUS set_delete_pending(struct fltsim__fs *fs, PFILE_OBJECT fo,
                                   struct fltsim__fs_file *file, bool del, bool ignore_readonly)
{
    if (!del) {
        file->delete_pending = FALSE;
        fo->DeletePending = FALSE;
        return STATUS_SUCCESS;
    }
    NTSTATUS status = deletable(fs, file, ignore_readonly, true);
    if (!NT_SUCCESS(status))
        return status;
    file->delete_pending = TRUE;
    fo->DeletePending = TRUE;
    return STATUS_SUCCESS;
}

static NTSTATUS set_disposition_ex(struct fltsim__fs *fs, PFILE_OBJECT fo,
                                   struct fltsim__fs_open *o, ULONG flags)
{
    const ULONG modeled = FILE_DISPOSITION_DELETE | FILE_DISPOSITION_ON_CLOSE |
                          FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE;
    bool del = (flags & FILE_DISPOSITION_DELETE) != 0;
    bool ignore_readonly = (flags & FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE) != 0;

    /* POSIX semantics (unlinking the name while handles stay open) and the
     * image-section check are not modeled: refused rather than ignored. */
    if (flags & ~modeled)
        return STATUS_INVALID_PARAMETER;
    if (!(flags & FILE_DISPOSITION_ON_CLOSE))
        return set_delete_pending(fs, fo, o->file, del, ignore_readonly);
    if (del) {
        NTSTATUS status = deletable(fs, o->file, ignore_readonly, false);
        if (!NT_SUCCESS(status))
            return status;
    }
    /* As for FILE_DELETE_ON_CLOSE at create, a non-empty directory is only
     * found out at cleanup. */
    o->delete_on_close = del;
    return STATUS_SUCCESS;
}

#define RENAME_FIXED ((ULONG)offsetof(FILE_RENAME_INFORMATION, FileName))

/* FileRenameInformation: decodes the new name and the target directory, then
 * the file system moves the file (rename_cb). */
static NTSTATUS set_rename(struct fltsim__fs *fs, struct fltsim__fs_open *o, const UCHAR *buf,
                           ULONG length, PFILE_OBJECT parent_of_target, BOOLEAN replace)
{
    struct fltsim__fs_file *file = o->file, *dir = NULL;
    ULONG name_bytes;
    NTSTATUS status;

    memcpy(&name_bytes, buf + offsetof(FILE_RENAME_INFORMATION, FileNameLength),
           sizeof(name_bytes));
    if (name_bytes > length - RENAME_FIXED)
        return STATUS_INFO_LENGTH_MISMATCH;
    if (file->root)
        return STATUS_INVALID_PARAMETER;
    if ((name_bytes & 1) != 0 || name_bytes == 0)
        return STATUS_OBJECT_NAME_INVALID;

    size_t units = name_bytes / sizeof(WCHAR);
    WCHAR *name = malloc(name_bytes);
    if (name == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(name, buf + RENAME_FIXED, name_bytes);

    const WCHAR *last = name;
    size_t last_len = units;
    status = STATUS_INVALID_PARAMETER;
    if (parent_of_target == NULL) {
        /* A simple rename: a new name in the same directory. */
        for (size_t i = 0; i < units; i++)
            if (name[i] == L'\\')
                goto out;
    } else {
        /* A move: ParentOfTarget is the target directory, opened with
         * SL_OPEN_TARGET_DIRECTORY; the new name is FileName's last component. */
        struct fltsim__fs_open *target = fltsim__fs_open_of(fs, parent_of_target);
        if (target == NULL) {
            const struct fltsim__fs_open *other = parent_of_target->FsContext2;
            if (other != NULL && other->magic == fs->open_magic && other->fs != fs)
                status = STATUS_NOT_SAME_DEVICE;
            goto out;
        }
        dir = target->file;
        if (dir->kind != FLTSIM__FS_DIRECTORY)
            goto out;
        for (size_t i = units; i > 0; i--) {
            if (name[i - 1] == L'\\') {
                last = name + i;
                last_len = units - i;
                break;
            }
        }
    }
    status = fs->ops->info->rename_cb(fs, file, dir, last, last_len, replace);
out:
    free(name);
    return status;
}

NTSTATUS fltsim__fs_set_info(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    PFILE_OBJECT fo = iopb->TargetFileObject;
    struct fltsim__fs_open *o = fltsim__fs_open_of(fs, fo);
    FILE_INFORMATION_CLASS cls = iopb->Parameters.SetFileInformation.FileInformationClass;
    ULONG length = iopb->Parameters.SetFileInformation.Length;
    const UCHAR *buf = iopb->Parameters.SetFileInformation.InfoBuffer;

    if (o == NULL || o->file->kind == FLTSIM__FS_VOLUME)
        return STATUS_INVALID_PARAMETER;
    struct fltsim__fs_file *file = o->file;
    NTSTATUS status = fltsim__fs_set_check(data, o->cleaned_up);
    if (!NT_SUCCESS(status))
        return status;
    /* The position belongs to the file object, not the volume. */
    if (fs->read_only && cls != FilePositionInformation)
        return STATUS_MEDIA_WRITE_PROTECTED;

    switch (cls) {
    case FileBasicInformation: {
        FILE_BASIC_INFORMATION b;
        memcpy(&b, buf, sizeof(b));
        status = fltsim__fs_basic_check(&b);
        return NT_SUCCESS(status) ? fs->ops->info->set_basic_cb(fs, file, &b) : status;
    }
    case FileEndOfFileInformation: {
        FILE_END_OF_FILE_INFORMATION e;
        memcpy(&e, buf, sizeof(e));
        return set_end_of_file(fs, fo, file, &e, iopb->Parameters.SetFileInformation.AdvanceOnly);
    }
    case FileAllocationInformation: {
        FILE_ALLOCATION_INFORMATION a;
        memcpy(&a, buf, sizeof(a));
        if (file->kind != FLTSIM__FS_FILE || a.AllocationSize.QuadPart < 0)
            return STATUS_INVALID_PARAMETER;
        return fs->ops->info->set_allocation_cb(fs, fo, file, (ULONG64)a.AllocationSize.QuadPart);
    }
    case FileDispositionInformation: {
        FILE_DISPOSITION_INFORMATION d;
        memcpy(&d, buf, sizeof(d));
        return set_delete_pending(fs, fo, file, d.DeleteFile != FALSE, false);
    }
    case FileDispositionInformationEx: {
        FILE_DISPOSITION_INFORMATION_EX d;
        memcpy(&d, buf, sizeof(d));
        return set_disposition_ex(fs, fo, o, d.Flags);
    }
    case FileRenameInformation:
        return set_rename(fs, o, buf, length, iopb->Parameters.SetFileInformation.ParentOfTarget,
                          iopb->Parameters.SetFileInformation.ReplaceIfExists);
    case FilePositionInformation:
        return fltsim__fs_set_position(fo, buf);
    default:
        return STATUS_INVALID_PARAMETER;
    }
}
