/*
 * hostfs: what a query reports of a host file (its stat and NT path), how
 * host files change for IRP_MJ_SET_INFORMATION (times and the read-only
 * attribute, end of file, allocation, rename), and what
 * IRP_MJ_QUERY_VOLUME_INFORMATION reports of the host's file system. The
 * checks, the records and the disposition rules are shared with memfs in
 * fs_shared.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostfs_internal.h"

/* ------------------------------------------------------------------------- */
/* Query                                                                     */
/* ------------------------------------------------------------------------- */

static NTSTATUS facts(struct fltsim__fs *core, struct fltsim__fs_file *file,
                      struct fltsim__fs_facts *f)
{
    uv_stat_t st;
    int r = fltsim__hostfs_fcb_stat(hostfs_of(core), hostfs_fcb_of(file), &st);
    if (r != 0)
        return fltsim__hostfs_status(r, true);
    fltsim__hostfs_facts(&st, f);
    f->delete_pending = file->delete_pending;
    return STATUS_SUCCESS;
}

static WCHAR *full_path(struct fltsim__fs *core, struct fltsim__fs_file *file, size_t *units)
{
    (void)core;
    return fltsim__hostfs_nt_path(hostfs_fcb_of(file), units);
}

/* ------------------------------------------------------------------------- */
/* Set                                                                       */
/* ------------------------------------------------------------------------- */

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
static NTSTATUS set_basic(struct fltsim__fs *core, struct fltsim__fs_file *file,
                          const FILE_BASIC_INFORMATION *b)
{
    struct fltsim_hostfs *fs = hostfs_of(core);
    struct hostfs_fcb *fcb = hostfs_fcb_of(file);
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
    if (b->FileAttributes != 0 && file->kind == FLTSIM__FS_FILE) {
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

static NTSTATUS set_end_of_file(struct fltsim__fs *core, PFILE_OBJECT fo,
                                struct fltsim__fs_file *file, ULONG64 eof)
{
    return truncate_to(hostfs_of(core), fo, hostfs_fcb_of(file), eof);
}

/* The host keeps no allocation apart from the data: an allocation below the
 * end of file cuts the file (as NTFS), any other is accepted and the
 * allocation reported stays the end of file rounded to a cluster. */
static NTSTATUS set_allocation(struct fltsim__fs *core, PFILE_OBJECT fo,
                               struct fltsim__fs_file *file, ULONG64 size)
{
    ULONG64 eof;
    NTSTATUS status = fltsim__hostfs_eof(core, file, &eof);
    if (!NT_SUCCESS(status) || size >= eof)
        return status;
    return truncate_to(hostfs_of(core), fo, hostfs_fcb_of(file), size);
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
        if (f->file.kind != FLTSIM__FS_VOLUME && !f->file.unlinked && f->file.handles > 0 &&
            below(f->rel, dir->rel))
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
        if (f->file.kind == FLTSIM__FS_VOLUME || !below(f->rel, old_rel))
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

static NTSTATUS rename_file(struct fltsim__fs *core, struct fltsim__fs_file *file,
                            struct fltsim__fs_file *target, const WCHAR *last, size_t last_len,
                            BOOLEAN replace)
{
    struct fltsim_hostfs *fs = hostfs_of(core);
    struct hostfs_fcb *fcb = hostfs_fcb_of(file);
    char *existing_rel = NULL, *target_rel = NULL;
    NTSTATUS status = STATUS_INSUFFICIENT_RESOURCES;

    /* A simple rename stays in the file's directory. */
    char *dir_rel = target != NULL ? strdup(hostfs_fcb_of(target)->rel) : parent_rel(fcb->rel);
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
    if (dir_fcb != NULL && dir_fcb->file.delete_pending)
        goto out;
    if (file->kind == FLTSIM__FS_DIRECTORY) {
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
    target_rel = fltsim__hostfs_join(dir_rel, host);
    if (target_rel == NULL)
        goto out;

    struct hostfs_fcb *victim = NULL;
    bool unlink_first = false;
    if (exists && st.st_dev == fcb->dev && st.st_ino == fcb->ino) {
        /* The same file under the same name up to case: only the spelling
         * changes (nothing at all when it is the same). */
        status = STATUS_SUCCESS;
        if (strcmp(target_rel, fcb->rel) == 0)
            goto out;
    } else if (exists) {
        status = STATUS_OBJECT_NAME_COLLISION;
        if (!replace)
            goto out;
        /* Replacing a directory, an open file or a read-only file is refused
         * (NTFS). */
        victim = fltsim__hostfs_fcb_find(fs, st.st_dev, st.st_ino);
        status = STATUS_ACCESS_DENIED;
        if (S_ISDIR(st.st_mode) || (victim != NULL && victim->file.handles > 0) ||
            !(st.st_mode & S_IWUSR))
            goto out;
        /* The host would keep the old spelling's entry beside the new one
         * when they differ only in case: the old one goes first. */
        unlink_first = strcmp(existing_rel, target_rel) != 0;
    }

    if (unlink_first) {
        r = host_unlink(fs, existing_rel);
        if (r != 0) {
            status = fltsim__hostfs_status(r, true);
            goto out;
        }
    }
    r = host_rename(fs, fcb->rel, target_rel);
    if (r != 0) {
        status = fltsim__hostfs_status(r, true);
        goto out;
    }
    if (victim != NULL)
        victim->file.unlinked = TRUE;
    if (file->kind == FLTSIM__FS_DIRECTORY)
        move_descendants(fs, fcb->rel, target_rel);
    free(fcb->rel);
    fcb->rel = target_rel;
    target_rel = NULL;
    status = STATUS_SUCCESS;
out:
    free(dir_rel);
    free(existing_rel);
    free(target_rel);
    return status;
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

static NTSTATUS volume_facts(struct fltsim__fs *core, struct fltsim__fs_volume_facts *v)
{
    struct fltsim_hostfs *fs = hostfs_of(core);
    uv_stat_t st;
    uv_fs_t req;

    int r = fltsim__hostfs_lstat(fs->root, &st);
    if (r != 0)
        return fltsim__hostfs_status(r, false);
    r = uv_fs_statfs(NULL, &req, fs->root, NULL);
    if (r == 0) {
        const uv_statfs_t *s = req.ptr;
        v->total_units = s->f_blocks * s->f_bsize / FLTSIM__FS_CLUSTER_SIZE;
        v->avail_units = s->f_bavail * s->f_bsize / FLTSIM__FS_CLUSTER_SIZE;
    }
    uv_fs_req_cleanup(&req);
    if (r != 0)
        return fltsim__hostfs_status(r, false);
    struct fltsim__fs_facts f;
    fltsim__hostfs_facts(&st, &f);
    v->creation_time = f.creation_time;
    v->serial = (ULONG)(st.st_dev ^ (st.st_dev >> 32));
    v->fs_attributes = HOSTFS_FS_ATTRIBUTES;
    v->characteristics = HOSTFS_DEVICE_CHARACTERISTICS;
    if (fs->core.read_only) {
        v->fs_attributes |= HOSTFS_FS_READ_ONLY_VOLUME;
        v->characteristics |= HOSTFS_READ_ONLY_DEVICE;
    }
    return STATUS_SUCCESS;
}

const struct fltsim__fs_info_ops fltsim__hostfs_info_ops = {
    .facts_cb = facts,
    .path_cb = full_path,
    .set_basic_cb = set_basic,
    .set_eof_cb = set_end_of_file,
    .set_allocation_cb = set_allocation,
    .rename_cb = rename_file,
    .volume_facts_cb = volume_facts,
};
