/*
 * The read/write rules memfs and hostfs share (fs_shared.h): resolving a
 * ByteOffset, the checks of a read or write, the file position, whether a fast
 * write fits, the byte-range locks of a file (FsRtl's FILE_LOCK without
 * waiters), and the read and write handlers of the IRP and fast-I/O paths
 * (fs_core.h). Moving the data is each file system's own (memory or host
 * file, struct fltsim__fs_io_ops).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs_core.h"

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
/* The read and write handlers                                               */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__fs_lock_check(struct fltsim__fs *fs, struct fltsim__fs_open *o,
                               PFLT_CALLBACK_DATA data)
{
    struct fltsim__fs_file *file = o->file;
    ULONG64 eof = 0;
    if (file->kind != FLTSIM__FS_FILE || o->cleaned_up || file->locks.count == 0)
        return STATUS_SUCCESS;
    if (!NT_SUCCESS(fs->ops->io->eof_cb(fs, file, &eof)))
        return STATUS_SUCCESS; /* the read or write reports the storage's error */
    return fltsim__fs_lock_check_rw(&file->locks, data, eof);
}

/* The checks a read and a write (write) of o share, in NTFS's order: the
 * kind of file, a handle cleaned up (only paging I/O may still come), a
 * write-protected volume, then the end of file (*eof) and
 * fltsim__fs_rw_check (*off). A length of 0 then has nothing left to do. */
static NTSTATUS rw_begin(struct fltsim__fs *fs, PFILE_OBJECT fo, struct fltsim__fs_open *o,
                         ULONG irp_flags, LARGE_INTEGER offset, ULONG length, const void *buffer,
                         bool write, ULONG64 *eof, ULONG64 *off)
{
    struct fltsim__fs_file *file = o->file;
    if (file->kind != FLTSIM__FS_FILE)
        return STATUS_INVALID_DEVICE_REQUEST;
    /* After cleanup only the memory manager may still read or write (NTFS
     * answers STATUS_FILE_CLOSED to anyone else). */
    if (o->cleaned_up && !(irp_flags & IRP_PAGING_IO))
        return STATUS_FILE_CLOSED;
    if (write && fs->read_only)
        return STATUS_MEDIA_WRITE_PROTECTED;
    NTSTATUS status = fs->ops->io->eof_cb(fs, file, eof);
    if (!NT_SUCCESS(status))
        return status;
    return fltsim__fs_rw_check(fo, irp_flags, *eof, offset, length, buffer, write, off);
}

NTSTATUS fltsim__fs_read(struct fltsim__fs *fs, PFILE_OBJECT fo, struct fltsim__fs_open *o,
                         ULONG irp_flags, LARGE_INTEGER offset, ULONG length, void *buffer,
                         ULONG_PTR *information)
{
    ULONG64 off, eof = 0, done;

    *information = 0;
    NTSTATUS status = rw_begin(fs, fo, o, irp_flags, offset, length, buffer, false, &eof, &off);
    if (!NT_SUCCESS(status) || length == 0)
        return status;
    if (off >= eof)
        return STATUS_END_OF_FILE;
    status =
        fs->ops->io->read_cb(fs, o->file, buffer, fltsim__fs_span(eof, off, length), off, &done);
    if (!NT_SUCCESS(status))
        return status;
    *information = (ULONG_PTR)done;
    fltsim__fs_update_position(fo, irp_flags, off + done);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_write(struct fltsim__fs *fs, PFILE_OBJECT fo, struct fltsim__fs_open *o,
                          ULONG irp_flags, LARGE_INTEGER offset, ULONG length, const void *buffer,
                          ULONG_PTR *information)
{
    struct fltsim__fs_file *file = o->file;
    ULONG64 off, eof = 0, done;

    *information = 0;
    NTSTATUS status = rw_begin(fs, fo, o, irp_flags, offset, length, buffer, true, &eof, &off);
    if (!NT_SUCCESS(status) || length == 0)
        return status;
    if (fs->ops->io->writable_cb != NULL) {
        status = fs->ops->io->writable_cb(fs, file);
        if (!NT_SUCCESS(status))
            return status;
    }

    if (irp_flags & IRP_PAGING_IO) {
        /* Paging I/O never moves the end of file: what lies beyond it is
         * dropped. It carries data written earlier through the cache, whose
         * times and flags were set then, so nothing else changes. */
        ULONG64 count = fltsim__fs_span(eof, off, length);
        if (count == 0)
            return STATUS_SUCCESS;
        status = fs->ops->io->write_cb(fs, file, buffer, count, off, eof, true, &done);
        if (!NT_SUCCESS(status))
            return status;
        *information = (ULONG_PTR)done;
        return STATUS_SUCCESS;
    }

    ULONG64 end = off + length; /* off < 2^63 and length < 2^32: no overflow */
    status = fs->ops->io->write_cb(fs, file, buffer, length, off, eof, false, &done);
    if (!NT_SUCCESS(status))
        return status;
    fo->Flags |= FO_FILE_MODIFIED;
    if (end > eof)
        fo->Flags |= FO_FILE_SIZE_CHANGED;
    *information = length;
    fltsim__fs_update_position(fo, irp_flags, end);
    return STATUS_SUCCESS;
}
