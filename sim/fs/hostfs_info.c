/*
 * hostfs: IRP_MJ_QUERY_INFORMATION (also used by fast I/O for the basic,
 * standard and network-open classes), IRP_MJ_SET_INFORMATION (times and the
 * read-only attribute, end of file, allocation, disposition, rename,
 * position) and IRP_MJ_QUERY_VOLUME_INFORMATION. What a query reports comes
 * from the host's stat; the records are built by fs_shared.c as for memfs.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostfs_internal.h"

/* ------------------------------------------------------------------------- */
/* Query                                                                     */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__hostfs_query_info(struct fltsim_hostfs *fs, PFILE_OBJECT fo,
                                   struct hostfs_ccb *ccb, FILE_INFORMATION_CLASS cls, void *buffer,
                                   ULONG length, ULONG_PTR *information)
{
    struct hostfs_fcb *fcb = ccb->fcb;
    struct fltsim__fs_facts f;
    uv_stat_t st;
    WCHAR *path = NULL;
    size_t units = 0;

    *information = 0;
    if (fcb->kind == HOSTFS_VOLUME)
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = fltsim__fs_query_check(cls, buffer, length);
    if (!NT_SUCCESS(status))
        return status;
    /* Removed from the host after its last handle: no name to give. */
    if (fcb->unlinked)
        return STATUS_FILE_DELETED;
    int r = fltsim__hostfs_fcb_stat(fs, fcb, &st);
    if (r != 0)
        return fltsim__hostfs_status(r, true);
    if (fltsim__fs_query_needs_name(cls)) {
        path = fltsim__hostfs_nt_path(fcb, &units);
        if (path == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
    }
    fltsim__hostfs_facts(&st, &f);
    f.delete_pending = fcb->delete_pending;
    status =
        fltsim__fs_query_fill(&f, fo, ccb->granted, cls, buffer, length, path, units, information);
    free(path);
    return status;
}

/* ------------------------------------------------------------------------- */
/* Set                                                                       */
/* ------------------------------------------------------------------------- */

#define RENAME_FIXED ((ULONG)offsetof(FILE_RENAME_INFORMATION, FileName))

/* Seconds since 1970 (as libuv takes them) of a FILETIME. */
static double unix_seconds(LONGLONG filetime)
{
    return (double)(filetime - 116444736000000000LL) / 1e7;
}

static double stat_seconds(uv_timespec_t t)
{
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The host can set the last access and last write times (at its precision:
 * libuv passes them as double seconds) and the read-only bit; it keeps no
 * creation time, change time, or other attribute to set, so those are left
 * alone. */
static NTSTATUS set_basic(struct fltsim_hostfs *fs, struct hostfs_fcb *fcb,
                          const FILE_BASIC_INFORMATION *b)
{
    NTSTATUS status = fltsim__fs_basic_check(b);
    if (!NT_SUCCESS(status))
        return status;
    uv_stat_t st;
    int r = fltsim__hostfs_fcb_stat(fs, fcb, &st);
    if (r != 0)
        return fltsim__hostfs_status(r, true);

    bool atime = fltsim__fs_time_given(b->LastAccessTime.QuadPart);
    bool mtime = fltsim__fs_time_given(b->LastWriteTime.QuadPart);
    if (atime || mtime) {
        double a = atime ? unix_seconds(b->LastAccessTime.QuadPart) : stat_seconds(st.st_atim);
        double m = mtime ? unix_seconds(b->LastWriteTime.QuadPart) : stat_seconds(st.st_mtim);
        uv_fs_t req;
        if (fcb->fd >= 0) {
            r = uv_fs_futime(NULL, &req, fcb->fd, a, m, NULL);
        } else {
            char *abs = fltsim__hostfs_abs(fs, fcb->rel, NULL);
            if (abs == NULL)
                return STATUS_INSUFFICIENT_RESOURCES;
            r = uv_fs_lutime(NULL, &req, abs, a, m, NULL);
            free(abs);
        }
        uv_fs_req_cleanup(&req);
        if (r != 0)
            return fltsim__hostfs_status(r, true);
    }
    if (b->FileAttributes != 0 && fcb->kind == HOSTFS_FILE) {
        bool readonly = b->FileAttributes != FILE_ATTRIBUTE_NORMAL &&
                        (b->FileAttributes & FILE_ATTRIBUTE_READONLY) != 0;
        bool now = !(st.st_mode & S_IWUSR);
        if (readonly != now) {
            int mode = (int)(st.st_mode & 07777);
            mode = readonly ? mode & ~(S_IWUSR | S_IWGRP | S_IWOTH) : mode | S_IWUSR;
            uv_fs_t req;
            r = uv_fs_fchmod(NULL, &req, fcb->fd, mode, NULL);
            uv_fs_req_cleanup(&req);
            if (r != 0)
                return fltsim__hostfs_status(r, true);
        }
    }
    return STATUS_SUCCESS;
}

static NTSTATUS truncate_to(struct fltsim_hostfs *fs, PFILE_OBJECT fo, struct hostfs_fcb *fcb,
                            ULONG64 size)
{
    NTSTATUS status = fltsim__hostfs_fcb_writable(fs, fcb);
    if (!NT_SUCCESS(status))
        return status;
    uv_fs_t req;
    int r = uv_fs_ftruncate(NULL, &req, fcb->fd, (int64_t)size, NULL);
    uv_fs_req_cleanup(&req);
    if (r != 0)
        return fltsim__hostfs_status(r, true);
    fo->Flags |= FO_FILE_MODIFIED | FO_FILE_SIZE_CHANGED;
    return STATUS_SUCCESS;
}

static NTSTATUS set_end_of_file(struct fltsim_hostfs *fs, PFILE_OBJECT fo, struct hostfs_fcb *fcb,
                                const FILE_END_OF_FILE_INFORMATION *e, BOOLEAN advance_only)
{
    if (fcb->kind != HOSTFS_FILE || e->EndOfFile.QuadPart < 0)
        return STATUS_INVALID_PARAMETER;
    /* AdvanceOnly moves the valid data length, which the host does not
     * separate from the end of file (as memfs). */
    if (advance_only)
        return STATUS_SUCCESS;
    ULONG64 eof;
    NTSTATUS status = fltsim__hostfs_eof(fs, fcb, &eof);
    if (!NT_SUCCESS(status) || eof == (ULONG64)e->EndOfFile.QuadPart)
        return status;
    return truncate_to(fs, fo, fcb, (ULONG64)e->EndOfFile.QuadPart);
}

/* The host keeps no allocation apart from the data: an allocation below the
 * end of file cuts the file (as NTFS), any other is accepted and the
 * allocation reported stays the end of file rounded to a cluster. */
static NTSTATUS set_allocation(struct fltsim_hostfs *fs, PFILE_OBJECT fo, struct hostfs_fcb *fcb,
                               const FILE_ALLOCATION_INFORMATION *a)
{
    if (fcb->kind != HOSTFS_FILE || a->AllocationSize.QuadPart < 0)
        return STATUS_INVALID_PARAMETER;
    ULONG64 eof;
    NTSTATUS status = fltsim__hostfs_eof(fs, fcb, &eof);
    if (!NT_SUCCESS(status) || (ULONG64)a->AllocationSize.QuadPart >= eof)
        return status;
    return truncate_to(fs, fo, fcb, (ULONG64)a->AllocationSize.QuadPart);
}

static NTSTATUS deletable(struct fltsim_hostfs *fs, struct hostfs_fcb *fcb, bool ignore_readonly,
                          bool check_empty)
{
    if (fcb->rel[0] == '\0')
        return STATUS_CANNOT_DELETE;
    uv_stat_t st;
    int r = fltsim__hostfs_fcb_stat(fs, fcb, &st);
    if (r != 0)
        return fltsim__hostfs_status(r, true);
    if (fcb->kind == HOSTFS_FILE && !(st.st_mode & S_IWUSR) && !ignore_readonly)
        return STATUS_CANNOT_DELETE;
    if (check_empty && fcb->kind == HOSTFS_DIRECTORY) {
        bool empty;
        NTSTATUS status = fltsim__hostfs_dir_empty(fs, fcb->rel, &empty);
        if (!NT_SUCCESS(status))
            return status;
        if (!empty)
            return STATUS_DIRECTORY_NOT_EMPTY;
    }
    return STATUS_SUCCESS;
}

/* FileDispositionInformation(Ex) without ON_CLOSE (as memfs). */
static NTSTATUS set_delete_pending(struct fltsim_hostfs *fs, PFILE_OBJECT fo,
                                   struct hostfs_fcb *fcb, bool del, bool ignore_readonly)
{
    if (!del) {
        fcb->delete_pending = FALSE;
        fo->DeletePending = FALSE;
        return STATUS_SUCCESS;
    }
    NTSTATUS status = deletable(fs, fcb, ignore_readonly, true);
    if (!NT_SUCCESS(status))
        return status;
    fcb->delete_pending = TRUE;
    fo->DeletePending = TRUE;
    return STATUS_SUCCESS;
}

static NTSTATUS set_disposition_ex(struct fltsim_hostfs *fs, PFILE_OBJECT fo,
                                   struct hostfs_ccb *ccb, ULONG flags)
{
    const ULONG modeled = FILE_DISPOSITION_DELETE | FILE_DISPOSITION_ON_CLOSE |
                          FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE;
    bool del = (flags & FILE_DISPOSITION_DELETE) != 0;
    bool ignore_readonly = (flags & FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE) != 0;

    if (flags & ~modeled)
        return STATUS_INVALID_PARAMETER;
    if (!(flags & FILE_DISPOSITION_ON_CLOSE))
        return set_delete_pending(fs, fo, ccb->fcb, del, ignore_readonly);
    if (del) {
        NTSTATUS status = deletable(fs, ccb->fcb, ignore_readonly, false);
        if (!NT_SUCCESS(status))
            return status;
    }
    ccb->delete_on_close = del;
    return STATUS_SUCCESS;
}

/* TRUE when rel is below dir (dir/...). */
static bool below(const char *rel, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(rel, dir, n) == 0 && rel[n] == '/';
}

static bool has_open_descendant(struct fltsim_hostfs *fs, const struct hostfs_fcb *dir)
{
    for (LIST_ENTRY *e = fs->fcbs.Flink; e != &fs->fcbs; e = e->Flink) {
        const struct hostfs_fcb *f = CONTAINING_RECORD(e, struct hostfs_fcb, link);
        if (f->kind != HOSTFS_VOLUME && !f->unlinked && f->handles > 0 && below(f->rel, dir->rel))
            return true;
    }
    return false;
}

/* After a directory moved from old to new: the paths of control blocks below
 * it (opens whose handles are gone) follow. Out of memory leaves a stale
 * path, which only affects the name such an open reports. */
static void move_descendants(struct fltsim_hostfs *fs, const char *old_rel, const char *new_rel)
{
    size_t o = strlen(old_rel), n = strlen(new_rel);
    for (LIST_ENTRY *e = fs->fcbs.Flink; e != &fs->fcbs; e = e->Flink) {
        struct hostfs_fcb *f = CONTAINING_RECORD(e, struct hostfs_fcb, link);
        if (f->kind == HOSTFS_VOLUME || !below(f->rel, old_rel))
            continue;
        size_t rest = strlen(f->rel) - o;
        char *moved = malloc(n + rest + 1);
        if (moved == NULL)
            continue;
        memcpy(moved, new_rel, n);
        memcpy(moved + n, f->rel + o, rest + 1);
        free(f->rel);
        f->rel = moved;
    }
}

static int host_rename(struct fltsim_hostfs *fs, const char *from_rel, const char *to_rel)
{
    char *from = fltsim__hostfs_abs(fs, from_rel, NULL);
    char *to = fltsim__hostfs_abs(fs, to_rel, NULL);
    int r = UV_ENOMEM;
    if (from != NULL && to != NULL) {
        uv_fs_t req;
        r = uv_fs_rename(NULL, &req, from, to, NULL);
        uv_fs_req_cleanup(&req);
    }
    free(from);
    free(to);
    return r;
}

static int host_unlink(struct fltsim_hostfs *fs, const char *rel)
{
    char *abs = fltsim__hostfs_abs(fs, rel, NULL);
    if (abs == NULL)
        return UV_ENOMEM;
    uv_fs_t req;
    int r = uv_fs_unlink(NULL, &req, abs, NULL);
    uv_fs_req_cleanup(&req);
    free(abs);
    return r;
}

/* The directory part of rel ("" for a name in the root), malloc'ed. */
static char *parent_rel(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    size_t n = slash != NULL ? (size_t)(slash - rel) : 0;
    char *out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, rel, n);
        out[n] = '\0';
    }
    return out;
}

static NTSTATUS set_rename(struct fltsim_hostfs *fs, struct hostfs_ccb *ccb, const UCHAR *buf,
                           ULONG length, PFILE_OBJECT parent_of_target, BOOLEAN replace)
{
    struct hostfs_fcb *fcb = ccb->fcb;
    ULONG name_bytes;
    char *dir_rel = NULL, *existing_rel = NULL, *target = NULL;
    WCHAR *name = NULL;
    NTSTATUS status;

    memcpy(&name_bytes, buf + offsetof(FILE_RENAME_INFORMATION, FileNameLength),
           sizeof(name_bytes));
    if (name_bytes > length - RENAME_FIXED)
        return STATUS_INFO_LENGTH_MISMATCH;
    if (fcb->rel[0] == '\0')
        return STATUS_INVALID_PARAMETER;
    if ((name_bytes & 1) != 0 || name_bytes == 0)
        return STATUS_OBJECT_NAME_INVALID;

    size_t units = name_bytes / sizeof(WCHAR);
    name = malloc(name_bytes);
    if (name == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(name, buf + RENAME_FIXED, name_bytes);

    const WCHAR *last = name;
    size_t last_len = units;
    status = STATUS_INSUFFICIENT_RESOURCES;
    if (parent_of_target == NULL) {
        /* A simple rename: a new name in the same directory. */
        for (size_t i = 0; i < units; i++) {
            if (name[i] == L'\\') {
                status = STATUS_INVALID_PARAMETER;
                goto out;
            }
        }
        dir_rel = parent_rel(fcb->rel);
    } else {
        /* A move: ParentOfTarget is the target directory, opened with
         * SL_OPEN_TARGET_DIRECTORY; the new name is FileName's last component. */
        struct hostfs_ccb *tccb = fltsim__hostfs_ccb_of(fs, parent_of_target);
        if (tccb == NULL) {
            const struct hostfs_ccb *other = parent_of_target->FsContext2;
            status = (other != NULL && other->magic == HOSTFS_CCB_MAGIC && other->fs != fs)
                         ? STATUS_NOT_SAME_DEVICE
                         : STATUS_INVALID_PARAMETER;
            goto out;
        }
        if (tccb->fcb->kind != HOSTFS_DIRECTORY) {
            status = STATUS_INVALID_PARAMETER;
            goto out;
        }
        for (size_t i = units; i > 0; i--) {
            if (name[i - 1] == L'\\') {
                last = name + i;
                last_len = units - i;
                break;
            }
        }
        dir_rel = strdup(tccb->fcb->rel);
    }
    if (dir_rel == NULL)
        goto out;
    status = STATUS_OBJECT_NAME_INVALID;
    if (!fltsim__fs_component_valid(last, last_len))
        goto out;

    char *dir_abs = fltsim__hostfs_abs(fs, dir_rel, NULL);
    uv_stat_t dir_st, st;
    int r = dir_abs != NULL ? fltsim__hostfs_lstat(dir_abs, &dir_st) : UV_ENOMEM;
    free(dir_abs);
    if (r != 0) {
        status = fltsim__hostfs_status(r, false);
        goto out;
    }
    struct hostfs_fcb *dir_fcb = fltsim__hostfs_fcb_find(fs, dir_st.st_dev, dir_st.st_ino);
    status = STATUS_DELETE_PENDING;
    if (dir_fcb != NULL && dir_fcb->delete_pending)
        goto out;
    if (fcb->kind == HOSTFS_DIRECTORY) {
        /* Into its own subtree (or onto itself as the parent). */
        status = STATUS_INVALID_PARAMETER;
        if (strcmp(dir_rel, fcb->rel) == 0 || below(dir_rel, fcb->rel))
            goto out;
        /* Open files below would see their paths change under them. */
        status = STATUS_ACCESS_DENIED;
        if (has_open_descendant(fs, fcb))
            goto out;
    }

    bool exists;
    status = fltsim__hostfs_lookup(fs, dir_rel, last, last_len, &exists, &existing_rel, &st);
    if (!NT_SUCCESS(status))
        goto out;
    char host[HOSTFS_HOST_NAME_MAX + 1];
    status = fltsim__hostfs_name_to_host(last, last_len, host);
    if (!NT_SUCCESS(status))
        goto out;
    status = STATUS_INSUFFICIENT_RESOURCES;
    target = fltsim__hostfs_join(dir_rel, host);
    if (target == NULL)
        goto out;

    struct hostfs_fcb *victim = NULL;
    bool unlink_first = false;
    if (exists && st.st_dev == fcb->dev && st.st_ino == fcb->ino) {
        /* The same file under the same name up to case: only the spelling
         * changes (nothing at all when it is the same). */
        status = STATUS_SUCCESS;
        if (strcmp(target, fcb->rel) == 0)
            goto out;
    } else if (exists) {
        status = STATUS_OBJECT_NAME_COLLISION;
        if (!replace)
            goto out;
        /* Replacing a directory, an open file or a read-only file is refused
         * (NTFS). */
        victim = fltsim__hostfs_fcb_find(fs, st.st_dev, st.st_ino);
        status = STATUS_ACCESS_DENIED;
        if (S_ISDIR(st.st_mode) || (victim != NULL && victim->handles > 0) ||
            !(st.st_mode & S_IWUSR))
            goto out;
        /* The host would keep the old spelling's entry beside the new one
         * when they differ only in case: the old one goes first. */
        unlink_first = strcmp(existing_rel, target) != 0;
    }

    if (unlink_first) {
        r = host_unlink(fs, existing_rel);
        if (r != 0) {
            status = fltsim__hostfs_status(r, true);
            goto out;
        }
    }
    r = host_rename(fs, fcb->rel, target);
    if (r != 0) {
        status = fltsim__hostfs_status(r, true);
        goto out;
    }
    if (victim != NULL)
        victim->unlinked = TRUE;
    if (fcb->kind == HOSTFS_DIRECTORY)
        move_descendants(fs, fcb->rel, target);
    free(fcb->rel);
    fcb->rel = target;
    target = NULL;
    status = STATUS_SUCCESS;
out:
    free(name);
    free(dir_rel);
    free(existing_rel);
    free(target);
    return status;
}

NTSTATUS fltsim__hostfs_set_info_irp(struct fltsim_hostfs *fs, PFLT_CALLBACK_DATA data)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    PFILE_OBJECT fo = iopb->TargetFileObject;
    struct hostfs_ccb *ccb = fltsim__hostfs_ccb_of(fs, fo);
    FILE_INFORMATION_CLASS cls = iopb->Parameters.SetFileInformation.FileInformationClass;
    ULONG length = iopb->Parameters.SetFileInformation.Length;
    const UCHAR *buf = iopb->Parameters.SetFileInformation.InfoBuffer;

    if (ccb == NULL || ccb->fcb->kind == HOSTFS_VOLUME)
        return STATUS_INVALID_PARAMETER;
    struct hostfs_fcb *fcb = ccb->fcb;
    NTSTATUS status = fltsim__fs_set_check(data, ccb->cleaned_up);
    if (!NT_SUCCESS(status))
        return status;
    /* The position belongs to the file object, not the volume. */
    if ((fs->flags & FLTSIM_HOSTFS_READ_ONLY) && cls != FilePositionInformation)
        return STATUS_MEDIA_WRITE_PROTECTED;

    switch (cls) {
    case FileBasicInformation: {
        FILE_BASIC_INFORMATION b;
        memcpy(&b, buf, sizeof(b));
        return set_basic(fs, fcb, &b);
    }
    case FileEndOfFileInformation: {
        FILE_END_OF_FILE_INFORMATION e;
        memcpy(&e, buf, sizeof(e));
        return set_end_of_file(fs, fo, fcb, &e, iopb->Parameters.SetFileInformation.AdvanceOnly);
    }
    case FileAllocationInformation: {
        FILE_ALLOCATION_INFORMATION a;
        memcpy(&a, buf, sizeof(a));
        return set_allocation(fs, fo, fcb, &a);
    }
    case FileDispositionInformation: {
        FILE_DISPOSITION_INFORMATION d;
        memcpy(&d, buf, sizeof(d));
        return set_delete_pending(fs, fo, fcb, d.DeleteFile != FALSE, false);
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

/* FileSystemAttributes (WDK values): FILE_CASE_PRESERVED_NAMES,
 * FILE_UNICODE_ON_DISK, and FILE_READ_ONLY_VOLUME when read-only. */
#define HOSTFS_FS_ATTRIBUTES (0x00000002u | 0x00000004u)
#define HOSTFS_FS_READ_ONLY_VOLUME 0x00080000u
/* FILE_FS_DEVICE_INFORMATION.Characteristics: FILE_DEVICE_IS_MOUNTED, and
 * FILE_READ_ONLY_DEVICE when read-only. */
#define HOSTFS_DEVICE_CHARACTERISTICS 0x00000020u
#define HOSTFS_READ_ONLY_DEVICE 0x00000002u

NTSTATUS fltsim__hostfs_query_volume_irp(struct fltsim_hostfs *fs, PFLT_CALLBACK_DATA data,
                                         ULONG_PTR *information)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    struct fltsim__fs_volume_facts v;
    uv_stat_t st;
    uv_fs_t req;

    *information = 0;
    if (fltsim__hostfs_ccb_of(fs, iopb->TargetFileObject) == NULL)
        return STATUS_INVALID_PARAMETER;
    int r = fltsim__hostfs_lstat(fs->root, &st);
    if (r != 0)
        return fltsim__hostfs_status(r, false);
    memset(&v, 0, sizeof(v));
    r = uv_fs_statfs(NULL, &req, fs->root, NULL);
    if (r == 0) {
        const uv_statfs_t *s = req.ptr;
        v.total_units = s->f_blocks * s->f_bsize / FLTSIM__FS_CLUSTER_SIZE;
        v.avail_units = s->f_bavail * s->f_bsize / FLTSIM__FS_CLUSTER_SIZE;
    }
    uv_fs_req_cleanup(&req);
    if (r != 0)
        return fltsim__hostfs_status(r, false);
    struct fltsim__fs_facts f;
    fltsim__hostfs_facts(&st, &f);
    v.creation_time = f.creation_time;
    v.serial = (ULONG)(st.st_dev ^ (st.st_dev >> 32));
    v.fs_attributes = HOSTFS_FS_ATTRIBUTES;
    v.characteristics = HOSTFS_DEVICE_CHARACTERISTICS;
    if (fs->flags & FLTSIM_HOSTFS_READ_ONLY) {
        v.fs_attributes |= HOSTFS_FS_READ_ONLY_VOLUME;
        v.characteristics |= HOSTFS_READ_ONLY_DEVICE;
    }
    return fltsim__fs_query_volume_fill(iopb->Parameters.QueryVolumeInformation.FsInformationClass,
                                        iopb->Parameters.QueryVolumeInformation.VolumeBuffer,
                                        iopb->Parameters.QueryVolumeInformation.Length, &v,
                                        information);
}
