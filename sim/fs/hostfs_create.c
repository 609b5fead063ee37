/*
 * hostfs: its side of IRP_MJ_CREATE, IRP_MJ_CLEANUP and IRP_MJ_CLOSE, whose
 * rules (dispositions, options, share access, delete on close) are shared
 * with memfs in fs_create.c. Here: the walk that looks each component up on
 * the host case-insensitively, the control block of what it finds, creating
 * or truncating the host file, and removing the host file or directory at the
 * last handle of a delete-pending one.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostfs_internal.h"

/* Where one create's walk stands. */
struct hostfs_walk {
    const char *dir_rel; /* the directory reached: the base's path, then dir_copy */
    char *dir_copy;
    uv_stat_t dir_st;
    char *rel; /* the last component's path: the host's spelling when it exists */
    uv_stat_t st;
};

static NTSTATUS create_irp(struct fltsim__fs *core, PFLT_CALLBACK_DATA data, ULONG_PTR *information)
{
    struct hostfs_walk w;
    memset(&w, 0, sizeof(w));
    /* The host keeps no allocation apart from the data: a requested
     * allocation size is checked but not reserved. */
    NTSTATUS status = fltsim__fs_create(core, data, &w, information);
    free(w.dir_copy);
    free(w.rel);
    return status;
}

static NTSTATUS walk_start(struct fltsim__fs *core, void *walk, struct fltsim__fs_file *base)
{
    struct fltsim_hostfs *fs = hostfs_of(core);
    struct hostfs_walk *w = walk;
    int r;
    if (base != NULL) {
        w->dir_rel = hostfs_fcb_of(base)->rel;
        r = fltsim__hostfs_fcb_stat(fs, hostfs_fcb_of(base), &w->dir_st);
    } else {
        w->dir_rel = "";
        r = fltsim__hostfs_lstat(fs->root, &w->dir_st);
    }
    return fltsim__hostfs_status(r, false);
}

static NTSTATUS walk(struct fltsim__fs *core, void *walk, const WCHAR *name, size_t len,
                     size_t last_start, bool *exists, size_t *stop)
{
    (void)stop; /* hostfs keeps no reparse points */
    struct fltsim_hostfs *fs = hostfs_of(core);
    struct hostfs_walk *w = walk;
    NTSTATUS status;

    w->dir_copy = strdup(w->dir_rel);
    if (w->dir_copy == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    w->dir_rel = w->dir_copy;
    for (size_t start = 0; start < last_start;) {
        size_t end = start;
        while (name[end] != L'\\')
            end++;
        status = fltsim__hostfs_lookup(fs, w->dir_copy, name + start, end - start, exists, &w->rel,
                                       &w->st);
        if (!NT_SUCCESS(status))
            return status;
        if (!*exists || !S_ISDIR(w->st.st_mode))
            return STATUS_OBJECT_PATH_NOT_FOUND;
        free(w->dir_copy);
        w->dir_rel = w->dir_copy = w->rel;
        w->rel = NULL;
        w->dir_st = w->st;
        start = end + 1;
    }
    return fltsim__hostfs_lookup(fs, w->dir_copy, name + last_start, len - last_start, exists,
                                 &w->rel, &w->st);
}

static NTSTATUS walk_file(struct fltsim__fs *core, void *walk, bool last,
                          struct fltsim__fs_file **file, bool *fresh)
{
    struct fltsim_hostfs *fs = hostfs_of(core);
    struct hostfs_walk *w = walk;
    const char *rel = last ? w->rel : w->dir_rel;
    const uv_stat_t *st = last ? &w->st : &w->dir_st;
    NTSTATUS status = STATUS_SUCCESS;

    /* The live control block of the host object, or a new one. */
    struct hostfs_fcb *fcb = fltsim__hostfs_fcb_find(fs, st->st_dev, st->st_ino);
    *fresh = false;
    if (fcb == NULL) {
        fcb = fltsim__hostfs_fcb_new(fs, rel, st, &status);
        *fresh = fcb != NULL;
    }
    if (fcb != NULL)
        *file = &fcb->file;
    return status;
}

static struct fltsim__fs_file *walk_dir_live(struct fltsim__fs *core, void *walk)
{
    struct hostfs_walk *w = walk;
    struct hostfs_fcb *fcb =
        fltsim__hostfs_fcb_find(hostfs_of(core), w->dir_st.st_dev, w->dir_st.st_ino);
    return fcb != NULL ? &fcb->file : NULL;
}

static int set_host_readonly(struct fltsim_hostfs *fs, struct hostfs_fcb *fcb, bool readonly)
{
    uv_stat_t st;
    int r = fltsim__hostfs_fcb_stat(fs, fcb, &st);
    if (r != 0)
        return r;
    int mode = (int)(st.st_mode & 07777);
    mode = readonly ? mode & ~(S_IWUSR | S_IWGRP | S_IWOTH) : mode | S_IWUSR;
    uv_fs_t req;
    if (fcb->fd >= 0) {
        r = uv_fs_fchmod(NULL, &req, fcb->fd, mode, NULL);
    } else {
        char *abs = fltsim__hostfs_abs(fs, fcb->rel, NULL);
        if (abs == NULL)
            return UV_ENOMEM;
        r = uv_fs_chmod(NULL, &req, abs, mode, NULL);
        free(abs);
    }
    uv_fs_req_cleanup(&req);
    return r;
}

static NTSTATUS overwrite(struct fltsim__fs *core, struct fltsim__fs_file *file,
                          const struct fltsim__fs_create *a)
{
    struct fltsim_hostfs *fs = hostfs_of(core);
    struct hostfs_fcb *fcb = hostfs_fcb_of(file);
    NTSTATUS status = fltsim__hostfs_fcb_writable(fs, fcb);
    if (!NT_SUCCESS(status))
        return status;
    uv_fs_t req;
    int r = uv_fs_ftruncate(NULL, &req, fcb->fd, 0, NULL);
    uv_fs_req_cleanup(&req);
    /* The overwritten file takes the attributes given; the host can only hold
     * the read-only one. */
    if (r == 0 && (a->attributes & FILE_ATTRIBUTE_READONLY))
        r = set_host_readonly(fs, fcb, true);
    return fltsim__hostfs_status(r, true);
}

/* Removes what new_file made on the host when the open cannot
 * finish. */
static void undo_create(struct fltsim_hostfs *fs, const char *rel, bool dir)
{
    char *abs = fltsim__hostfs_abs(fs, rel, NULL);
    if (abs == NULL)
        return;
    uv_fs_t req;
    if (dir)
        uv_fs_rmdir(NULL, &req, abs, NULL);
    else
        uv_fs_unlink(NULL, &req, abs, NULL);
    uv_fs_req_cleanup(&req);
    free(abs);
}

static NTSTATUS new_file(struct fltsim__fs *core, void *walk, const struct fltsim__fs_create *a,
                         const WCHAR *last, size_t last_len, struct fltsim__fs_file **file)
{
    struct fltsim_hostfs *fs = hostfs_of(core);
    struct hostfs_walk *w = walk;
    bool dir = a->dir_file;
    NTSTATUS status;
    uv_fs_t req;
    int r;

    (void)last; /* the walk holds its host path */
    (void)last_len;
    char *abs = fltsim__hostfs_abs(fs, w->rel, NULL);
    if (abs == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (dir) {
        r = uv_fs_mkdir(NULL, &req, abs, 0777, NULL);
    } else {
        /* Created writable so the control block's descriptor can write
         * (NTFS lets the creating handle write a new read-only file); the
         * read-only bit goes on afterwards. */
        r = uv_fs_open(NULL, &req, abs,
                       UV_FS_O_CREAT | UV_FS_O_EXCL | UV_FS_O_RDWR | UV_FS_O_NOFOLLOW, 0666, NULL);
        if (r >= 0) {
            uv_fs_t c;
            uv_fs_close(NULL, &c, (uv_file)r, NULL);
            uv_fs_req_cleanup(&c);
            r = 0;
        }
    }
    uv_fs_req_cleanup(&req);
    uv_stat_t st;
    if (r == 0)
        r = fltsim__hostfs_lstat(abs, &st);
    free(abs);
    if (r != 0)
        return fltsim__hostfs_status(r, true);
    struct hostfs_fcb *fcb = fltsim__hostfs_fcb_new(fs, w->rel, &st, &status);
    if (fcb != NULL && !dir && (a->attributes & FILE_ATTRIBUTE_READONLY)) {
        r = set_host_readonly(fs, fcb, true);
        if (r != 0) {
            status = fltsim__hostfs_status(r, true);
            fltsim__hostfs_fcb_free(fs, fcb);
            fcb = NULL;
        }
    }
    if (fcb == NULL) {
        undo_create(fs, w->rel, dir);
        return status;
    }
    *file = &fcb->file;
    return STATUS_SUCCESS;
}

static void remove_deleted(struct fltsim__fs *core, struct fltsim__fs_file *file)
{
    struct fltsim_hostfs *fs = hostfs_of(core);
    struct hostfs_fcb *fcb = hostfs_fcb_of(file);
    /* A host that refuses (a directory something else filled meanwhile) keeps
     * it; the cleanup itself cannot fail. */
    char *abs = fltsim__hostfs_abs(fs, fcb->rel, NULL);
    if (abs == NULL)
        return;
    uv_fs_t req;
    int r = file->kind == FLTSIM__FS_DIRECTORY ? uv_fs_rmdir(NULL, &req, abs, NULL)
                                               : uv_fs_unlink(NULL, &req, abs, NULL);
    uv_fs_req_cleanup(&req);
    free(abs);
    if (r == 0)
        file->unlinked = TRUE;
}

static void file_unused(struct fltsim__fs *core, struct fltsim__fs_file *file)
{
    /* Only the volume's control block lives as long as the hostfs. */
    if (file->kind != FLTSIM__FS_VOLUME)
        fltsim__hostfs_fcb_free(hostfs_of(core), hostfs_fcb_of(file));
}

const struct fltsim__fs_create_ops fltsim__hostfs_create_ops = {
    .create_cb = create_irp,
    .walk_start_cb = walk_start,
    .walk_cb = walk,
    .walk_file_cb = walk_file,
    .walk_dir_live_cb = walk_dir_live,
    .new_file_cb = new_file,
    .overwrite_cb = overwrite,
    .remove_cb = remove_deleted,
    .unused_cb = file_unused,
};
