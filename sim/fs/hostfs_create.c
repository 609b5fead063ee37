/*
 * hostfs: IRP_MJ_CREATE, IRP_MJ_CLEANUP and IRP_MJ_CLOSE. Create parses
 * FileObject->FileName as memfs does, looks each component up on the host
 * case-insensitively, applies NTFS's disposition and option rules and the
 * share-access check among the opens of this hostfs, and creates, truncates
 * or opens the host file. Cleanup ends the handle (share access, delete on
 * close) and removes the host file or directory at the last handle of a
 * delete-pending one; close frees the per-open state and, at the last close,
 * the control block with its descriptor.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostfs_internal.h"

static bool read_only_fs(const struct fltsim_hostfs *fs)
{
    return (fs->flags & FLTSIM_HOSTFS_READ_ONLY) != 0;
}

static struct hostfs_ccb *ccb_new(struct fltsim_hostfs *fs)
{
    struct hostfs_ccb *ccb = calloc(1, sizeof(*ccb));
    if (ccb != NULL) {
        ccb->magic = HOSTFS_CCB_MAGIC;
        ccb->fs = fs;
    }
    return ccb;
}

void fltsim__hostfs_ccb_free(struct fltsim_hostfs *fs, struct hostfs_ccb *ccb)
{
    RemoveEntryList(&ccb->link);
    fs->open_count--;
    fltsim__fs_pattern_free(&ccb->pattern);
    free(ccb->resume);
    ccb->magic = 0;
    free(ccb);
}

/* Commits a successful create (as memfs's finish_open). Cannot fail. */
static void finish_open(struct fltsim_hostfs *fs, const struct fltsim__fs_create *a,
                        struct hostfs_fcb *fcb, struct hostfs_ccb *ccb, ACCESS_MASK granted)
{
    fltsim__fs_attach(a, &fcb->share, &ccb->share, granted, fcb, ccb, &fcb->section_objects);
    ccb->fcb = fcb;
    ccb->granted = granted;
    ccb->delete_on_close = a->delete_on_close && !a->target_dir;
    InsertTailList(&fs->opens, &ccb->link);
    fs->open_count++;
    fcb->handles++;
    fcb->opens++;
}

/* The control block of the host object rel (stat st): the live one, or a
 * new one (*fresh) that the caller frees if the open then fails. */
static NTSTATUS get_fcb(struct fltsim_hostfs *fs, const char *rel, const uv_stat_t *st,
                        struct hostfs_fcb **out, bool *fresh)
{
    NTSTATUS status = STATUS_SUCCESS;
    *fresh = false;
    *out = fltsim__hostfs_fcb_find(fs, st->st_dev, st->st_ino);
    if (*out == NULL) {
        *out = fltsim__hostfs_fcb_new(fs, rel, st, &status);
        *fresh = *out != NULL;
    }
    return status;
}

static void drop_if_unused(struct fltsim_hostfs *fs, struct hostfs_fcb *fcb, bool fresh)
{
    if (fresh && fcb->opens == 0)
        fltsim__hostfs_fcb_free(fs, fcb);
}

/* chmod of a host file: the write bits cleared (read-only) or the owner's
 * set. 0 or a UV_E* error. */
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

/* Opens the volume itself (empty name, no related file object), as memfs. */
static NTSTATUS open_volume(struct fltsim_hostfs *fs, const struct fltsim__fs_create *a,
                            ULONG_PTR *info)
{
    struct hostfs_fcb *v = fs->volume;
    NTSTATUS status = fltsim__fs_open_volume_check(a);
    if (!NT_SUCCESS(status))
        return status;
    ACCESS_MASK access = fltsim__fs_resolve_access(a->access, false);
    if (fltsim__fs_share_conflict(&v->share, access, a->share))
        return STATUS_SHARING_VIOLATION;
    struct hostfs_ccb *ccb = ccb_new(fs);
    if (ccb == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    finish_open(fs, a, v, ccb, access);
    *info = FILE_OPENED;
    return STATUS_SUCCESS;
}

static NTSTATUS open_existing(struct fltsim_hostfs *fs, const struct fltsim__fs_create *a,
                              struct hostfs_fcb *fcb, ULONG_PTR *info)
{
    bool overwrite = fltsim__fs_overwrites(a->disposition);
    uv_stat_t st;
    int r;

    NTSTATUS status = fltsim__fs_open_existing_check(
        a, fcb->kind == HOSTFS_DIRECTORY, fcb->delete_pending, fcb->rel[0] == '\0', info);
    if (!NT_SUCCESS(status))
        return status;
    r = fltsim__hostfs_fcb_stat(fs, fcb, &st);
    if (r != 0)
        return fltsim__hostfs_status(r, true);
    /* The host holds the read-only attribute of files only. */
    bool readonly = fcb->kind == HOSTFS_FILE && !(st.st_mode & S_IWUSR);
    ACCESS_MASK access = fltsim__fs_resolve_access(a->access, readonly);
    if (readonly) {
        status = fltsim__fs_readonly_check(a, true, access);
        if (!NT_SUCCESS(status))
            return status;
    }
    if (read_only_fs(fs) && (overwrite || a->delete_on_close))
        return STATUS_MEDIA_WRITE_PROTECTED;

    if (fltsim__fs_share_conflict(&fcb->share, fltsim__fs_create_share_mask(a, access), a->share))
        return STATUS_SHARING_VIOLATION;

    struct hostfs_ccb *ccb = ccb_new(fs);
    if (ccb == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (overwrite) {
        status = fltsim__hostfs_fcb_writable(fs, fcb);
        if (NT_SUCCESS(status)) {
            uv_fs_t req;
            r = uv_fs_ftruncate(NULL, &req, fcb->fd, 0, NULL);
            uv_fs_req_cleanup(&req);
            /* The overwritten file takes the attributes given; the host
             * can only hold the read-only one. */
            if (r == 0 && (a->attributes & FILE_ATTRIBUTE_READONLY))
                r = set_host_readonly(fs, fcb, true);
            status = fltsim__hostfs_status(r, true);
        }
        if (!NT_SUCCESS(status)) {
            free(ccb);
            return status;
        }
    }
    finish_open(fs, a, fcb, ccb, access);
    *info = fltsim__fs_opened_info(a->disposition);
    return STATUS_SUCCESS;
}

/* Removes what create_new made on the host when the open cannot finish. */
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

static NTSTATUS create_new(struct fltsim_hostfs *fs, const struct fltsim__fs_create *a,
                           const uv_stat_t *parent_st, const char *rel, ULONG_PTR *info)
{
    bool dir = a->dir_file;
    struct hostfs_fcb *parent = fltsim__hostfs_fcb_find(fs, parent_st->st_dev, parent_st->st_ino);
    NTSTATUS status;
    uv_fs_t req;
    int r;

    /* Nothing new may appear in a delete-pending directory (as memfs). */
    if (parent != NULL && parent->delete_pending)
        return STATUS_DELETE_PENDING;
    if (!dir && a->delete_on_close && (a->attributes & FILE_ATTRIBUTE_READONLY))
        return STATUS_CANNOT_DELETE;
    if (read_only_fs(fs))
        return STATUS_MEDIA_WRITE_PROTECTED;

    struct hostfs_ccb *ccb = ccb_new(fs);
    char *abs = fltsim__hostfs_abs(fs, rel, NULL);
    if (ccb == NULL || abs == NULL) {
        free(ccb);
        free(abs);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
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
    if (r != 0) {
        free(ccb);
        return fltsim__hostfs_status(r, true);
    }
    struct hostfs_fcb *fcb = fltsim__hostfs_fcb_new(fs, rel, &st, &status);
    if (fcb != NULL && !dir && (a->attributes & FILE_ATTRIBUTE_READONLY)) {
        r = set_host_readonly(fs, fcb, true);
        if (r != 0) {
            status = fltsim__hostfs_status(r, true);
            fltsim__hostfs_fcb_free(fs, fcb);
            fcb = NULL;
        }
    }
    if (fcb == NULL) {
        free(ccb);
        undo_create(fs, rel, dir);
        return status;
    }
    /* A new file has no other opens, so there is nothing to conflict with. */
    finish_open(fs, a, fcb, ccb, fltsim__fs_resolve_access(a->access, false));
    *info = FILE_CREATED;
    return STATUS_SUCCESS;
}

/* SL_OPEN_TARGET_DIRECTORY: opens the directory that holds, or would hold,
 * the last component and leaves only that component in FileName (as memfs). */
static NTSTATUS open_target(struct fltsim_hostfs *fs, const struct fltsim__fs_create *a,
                            struct hostfs_fcb *parent, const WCHAR *last, size_t last_len,
                            bool exists, ULONG_PTR *info)
{
    if (parent->delete_pending)
        return STATUS_DELETE_PENDING;
    ACCESS_MASK access = fltsim__fs_resolve_access(a->access, false);
    if (fltsim__fs_share_conflict(&parent->share, access, a->share))
        return STATUS_SHARING_VIOLATION;
    struct hostfs_ccb *ccb = ccb_new(fs);
    if (ccb == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    finish_open(fs, a, parent, ccb, access);
    fltsim__fs_target_name(a->fo, last, last_len);
    *info = exists ? FILE_EXISTS : FILE_DOES_NOT_EXIST;
    return STATUS_SUCCESS;
}

/* Opens the host object rel (stat st) as an existing file or directory. */
static NTSTATUS open_at(struct fltsim_hostfs *fs, const struct fltsim__fs_create *a,
                        const char *rel, const uv_stat_t *st, ULONG_PTR *info)
{
    struct hostfs_fcb *fcb;
    bool fresh;
    NTSTATUS status = get_fcb(fs, rel, st, &fcb, &fresh);
    if (!NT_SUCCESS(status))
        return status;
    status = open_existing(fs, a, fcb, info);
    drop_if_unused(fs, fcb, fresh);
    return status;
}

/* Walks name[0..len) (components checked) from the directory base_rel (stat
 * base_st) and carries out the create. */
static NTSTATUS create_path(struct fltsim_hostfs *fs, const struct fltsim__fs_create *a,
                            const char *base_rel, const uv_stat_t *base_st, const WCHAR *name,
                            size_t len, size_t last_start, ULONG_PTR *info)
{
    char *dir_rel = strdup(base_rel);
    char *rel = NULL;
    uv_stat_t dir_st = *base_st, st;
    bool exists;
    NTSTATUS status = STATUS_INSUFFICIENT_RESOURCES;

    if (dir_rel == NULL)
        return status;
    for (size_t start = 0; start < last_start;) {
        size_t end = start;
        while (name[end] != L'\\')
            end++;
        status = fltsim__hostfs_lookup(fs, dir_rel, name + start, end - start, &exists, &rel, &st);
        if (!NT_SUCCESS(status))
            goto out;
        if (!exists || !S_ISDIR(st.st_mode)) {
            status = STATUS_OBJECT_PATH_NOT_FOUND;
            goto out;
        }
        free(dir_rel);
        dir_rel = rel;
        rel = NULL;
        dir_st = st;
        start = end + 1;
    }

    const WCHAR *last = name + last_start;
    size_t last_len = len - last_start;
    status = fltsim__hostfs_lookup(fs, dir_rel, last, last_len, &exists, &rel, &st);
    if (!NT_SUCCESS(status))
        goto out;

    if (a->target_dir) {
        struct hostfs_fcb *parent;
        bool fresh;
        status = get_fcb(fs, dir_rel, &dir_st, &parent, &fresh);
        if (NT_SUCCESS(status)) {
            status = open_target(fs, a, parent, last, last_len, exists, info);
            drop_if_unused(fs, parent, fresh);
        }
    } else if (exists) {
        status = open_at(fs, a, rel, &st, info);
    } else if (a->disposition == FILE_OPEN || a->disposition == FILE_OVERWRITE) {
        *info = FILE_DOES_NOT_EXIST;
        status = STATUS_OBJECT_NAME_NOT_FOUND;
    } else {
        status = create_new(fs, a, &dir_st, rel, info);
    }
out:
    free(dir_rel);
    free(rel);
    return status;
}

NTSTATUS fltsim__hostfs_create_irp(struct fltsim_hostfs *fs, PFLT_CALLBACK_DATA data,
                                   ULONG_PTR *info)
{
    struct fltsim__fs_create a;

    *info = 0;
    /* The host keeps no allocation apart from the data: a requested
     * allocation size is checked but not reserved. */
    NTSTATUS status = fltsim__fs_create_decode(data, &a);
    if (!NT_SUCCESS(status))
        return status;
    const WCHAR *name = a.name;
    size_t len = a.len;
    const char *base_rel;
    uv_stat_t base_st;

    if (a.fo->RelatedFileObject != NULL) {
        struct hostfs_ccb *rccb = fltsim__hostfs_ccb_of(fs, a.fo->RelatedFileObject);
        if (rccb == NULL)
            return STATUS_OBJECT_PATH_NOT_FOUND;
        struct hostfs_fcb *base = rccb->fcb;
        if (len == 0) {
            /* An empty name relative to a file object opens what it names. */
            if (base->kind == HOSTFS_VOLUME)
                return open_volume(fs, &a, info);
            if (a.target_dir)
                return STATUS_INVALID_PARAMETER;
            return open_existing(fs, &a, base, info);
        }
        if (base->kind != HOSTFS_DIRECTORY || base->unlinked)
            return STATUS_OBJECT_PATH_NOT_FOUND;
        if (name[0] == L'\\')
            return STATUS_OBJECT_NAME_INVALID;
        int r = fltsim__hostfs_fcb_stat(fs, base, &base_st);
        if (r != 0)
            return fltsim__hostfs_status(r, false);
        base_rel = base->rel;
    } else {
        if (len == 0)
            return open_volume(fs, &a, info);
        if (name[0] != L'\\')
            return STATUS_OBJECT_NAME_INVALID;
        name++;
        len--;
        base_rel = "";
        int r = fltsim__hostfs_lstat(fs->root, &base_st);
        if (r != 0)
            return fltsim__hostfs_status(r, false);
        if (len == 0) {
            /* The root has no parent to open (as fastfat). */
            if (a.target_dir)
                return STATUS_INVALID_PARAMETER;
            return open_at(fs, &a, "", &base_st, info);
        }
    }

    size_t last_start;
    status = fltsim__fs_create_path_check(&a, name, &len, &last_start);
    if (!NT_SUCCESS(status))
        return status;
    return create_path(fs, &a, base_rel, &base_st, name, len, last_start, info);
}

/* Removes a delete-pending object from the host at its last handle. A host
 * that refuses (a directory something else filled meanwhile) keeps it; the
 * cleanup itself cannot fail. */
static void remove_from_host(struct fltsim_hostfs *fs, struct hostfs_fcb *fcb)
{
    char *abs = fltsim__hostfs_abs(fs, fcb->rel, NULL);
    if (abs == NULL)
        return;
    uv_fs_t req;
    int r = fcb->kind == HOSTFS_DIRECTORY ? uv_fs_rmdir(NULL, &req, abs, NULL)
                                          : uv_fs_unlink(NULL, &req, abs, NULL);
    uv_fs_req_cleanup(&req);
    free(abs);
    if (r == 0)
        fcb->unlinked = TRUE;
}

static void do_cleanup(struct fltsim_hostfs *fs, PFILE_OBJECT fo, struct hostfs_ccb *ccb)
{
    struct hostfs_fcb *fcb = ccb->fcb;
    bool is_root = fcb->kind != HOSTFS_VOLUME && fcb->rel[0] == '\0';

    fltsim__fs_share_remove(&fcb->share, &ccb->share);
    fltsim__fs_locks_release_file(&fcb->locks, fo);
    /* As NTFS (and memfs): FILE_DELETE_ON_CLOSE on a non-empty directory is
     * silently not honored. */
    if (ccb->delete_on_close && fcb->kind != HOSTFS_VOLUME && !is_root && !fcb->unlinked) {
        bool empty = true;
        if (fcb->kind == HOSTFS_DIRECTORY &&
            !NT_SUCCESS(fltsim__hostfs_dir_empty(fs, fcb->rel, &empty)))
            empty = false;
        if (empty)
            fcb->delete_pending = TRUE;
    }
    fcb->handles--;
    ccb->cleaned_up = TRUE;
    fo->Flags |= FO_CLEANUP_COMPLETE;

    if (fcb->handles == 0 && fcb->delete_pending && !fcb->unlinked && !is_root)
        remove_from_host(fs, fcb);
}

NTSTATUS fltsim__hostfs_cleanup_irp(struct fltsim_hostfs *fs, PFLT_CALLBACK_DATA data)
{
    PFILE_OBJECT fo = data->Iopb->TargetFileObject;
    struct hostfs_ccb *ccb = fltsim__hostfs_ccb_of(fs, fo);
    if (ccb == NULL)
        return STATUS_INVALID_PARAMETER;
    if (ccb->cleaned_up)
        return STATUS_FILE_CLOSED;
    do_cleanup(fs, fo, ccb);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__hostfs_close_irp(struct fltsim_hostfs *fs, PFLT_CALLBACK_DATA data)
{
    PFILE_OBJECT fo = data->Iopb->TargetFileObject;
    struct hostfs_ccb *ccb = fltsim__hostfs_ccb_of(fs, fo);
    if (ccb == NULL)
        return STATUS_INVALID_PARAMETER;
    if (!ccb->cleaned_up)
        do_cleanup(fs, fo, ccb);
    struct hostfs_fcb *fcb = ccb->fcb;
    fcb->opens--;
    fltsim__hostfs_ccb_free(fs, ccb);
    fltsim__fs_detach(fo);
    if (fcb->opens == 0 && fcb->kind != HOSTFS_VOLUME)
        fltsim__hostfs_fcb_free(fs, fcb);
    return STATUS_SUCCESS;
}
