/*
 * The information records memfs and hostfs share (fs_shared.h): the checks
 * and FILE_*_INFORMATION records of IRP_MJ_QUERY_INFORMATION, the
 * FILE_FS_*_INFORMATION records of a volume query, and the checks before an
 * IRP_MJ_SET_INFORMATION. Create rules live in fs_create.c, offsets and locks
 * in fs_rw.c, directory entries in fs_dir.c, controls in fs_control.c; each
 * file system describes its file as a struct fltsim__fs_facts.
 */
#include <string.h>

#include "fs_shared.h"
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
