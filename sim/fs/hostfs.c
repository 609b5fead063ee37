/*
 * hostfs: lifetime, the host helpers (errno mapping, paths, stat, names and
 * case-insensitive lookup), the file control blocks, and the fltsim_fs_ops
 * and store-ops tables. The NTFS rules and the entry points with their lock
 * are shared with memfs (fs_core.h); hostfs's side of them lives in
 * hostfs_create.c (the walk, new files, deletion), hostfs_io.c (file data),
 * hostfs_info.c (set information, volume information) and hostfs_dir.c
 * (directory scans). The host directory holds the data and the names.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostfs_internal.h"
#include "common/sim_internal.h"

/* ------------------------------------------------------------------------- */
/* Host helpers                                                              */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__hostfs_status(int uv_err, bool last)
{
    switch (uv_err) {
    case 0:
        return STATUS_SUCCESS;
    case UV_ENOENT:
        return last ? STATUS_OBJECT_NAME_NOT_FOUND : STATUS_OBJECT_PATH_NOT_FOUND;
    case UV_ENOTDIR:
        return STATUS_OBJECT_PATH_NOT_FOUND;
    case UV_EEXIST:
        return STATUS_OBJECT_NAME_COLLISION;
    case UV_EACCES:
    case UV_EPERM:
    case UV_ELOOP: /* a symbolic link met with O_NOFOLLOW */
        return STATUS_ACCESS_DENIED;
    case UV_ENOSPC:
    case UV_EFBIG:
        return STATUS_DISK_FULL;
    case UV_ENOTEMPTY:
        return STATUS_DIRECTORY_NOT_EMPTY;
    case UV_EROFS:
        return STATUS_MEDIA_WRITE_PROTECTED;
    case UV_ENAMETOOLONG:
        return STATUS_OBJECT_NAME_INVALID;
    case UV_EISDIR:
        return STATUS_FILE_IS_A_DIRECTORY;
    case UV_EBUSY:
        return STATUS_SHARING_VIOLATION;
    case UV_ENOMEM:
        return STATUS_INSUFFICIENT_RESOURCES;
    case UV_EMFILE:
    case UV_ENFILE:
        return STATUS_TOO_MANY_OPENED_FILES;
    case UV_EXDEV:
        return STATUS_NOT_SAME_DEVICE;
    case UV_EINVAL:
        return STATUS_INVALID_PARAMETER;
    case UV_EIO:
        return STATUS_IO_DEVICE_ERROR;
    default:
        return STATUS_UNSUCCESSFUL;
    }
}

char *fltsim__hostfs_join(const char *rel, const char *name)
{
    size_t a = strlen(rel), b = strlen(name);
    char *out = malloc(a + b + 2);
    if (out == NULL)
        return NULL;
    if (a == 0) {
        memcpy(out, name, b + 1);
        return out;
    }
    memcpy(out, rel, a);
    out[a] = '/';
    memcpy(out + a + 1, name, b + 1);
    return out;
}

char *fltsim__hostfs_abs(const struct fltsim_hostfs *fs, const char *rel, const char *name)
{
    size_t r = strlen(fs->root), a = strlen(rel), b = name != NULL ? strlen(name) : 0;
    char *out = malloc(r + a + b + 3);
    if (out == NULL)
        return NULL;
    size_t at = r;
    memcpy(out, fs->root, r);
    if (a > 0) {
        out[at++] = '/';
        memcpy(out + at, rel, a);
        at += a;
    }
    if (name != NULL) {
        out[at++] = '/';
        memcpy(out + at, name, b);
        at += b;
    }
    out[at] = '\0';
    return out;
}

int fltsim__hostfs_lstat(const char *abs, uv_stat_t *st)
{
    uv_fs_t req;
    int r = uv_fs_lstat(NULL, &req, abs, NULL);
    if (r == 0)
        *st = req.statbuf;
    uv_fs_req_cleanup(&req);
    return r;
}

int fltsim__hostfs_fstat(uv_file fd, uv_stat_t *st)
{
    uv_fs_t req;
    int r = uv_fs_fstat(NULL, &req, fd, NULL);
    if (r == 0)
        *st = req.statbuf;
    uv_fs_req_cleanup(&req);
    return r;
}

/* Seconds between 1601-01-01 (FILETIME) and 1970-01-01 (the host's epoch). */
#define EPOCH_DIFF_SECONDS 11644473600LL

LONGLONG fltsim__hostfs_filetime(uv_timespec_t t)
{
    return ((LONGLONG)t.tv_sec + EPOCH_DIFF_SECONDS) * 10000000LL + (LONGLONG)t.tv_nsec / 100;
}

bool fltsim__hostfs_kind_shown(const uv_stat_t *st)
{
    return S_ISREG(st->st_mode) || S_ISDIR(st->st_mode);
}

void fltsim__hostfs_facts(const uv_stat_t *st, struct fltsim__fs_facts *f)
{
    memset(f, 0, sizeof(*f));
    /* Hosts without a birth time report 0: the change time stands in. */
    f->creation_time =
        fltsim__hostfs_filetime(st->st_birthtim.tv_sec != 0 ? st->st_birthtim : st->st_ctim);
    f->last_access_time = fltsim__hostfs_filetime(st->st_atim);
    f->last_write_time = fltsim__hostfs_filetime(st->st_mtim);
    f->change_time = fltsim__hostfs_filetime(st->st_ctim);
    f->file_id = st->st_ino;
    if (S_ISDIR(st->st_mode)) {
        f->directory = TRUE;
        f->attributes = FILE_ATTRIBUTE_DIRECTORY;
    } else {
        /* The host keeps no archive bit: every file reports it, as a file
         * memfs created or wrote does. Read-only is the owner's write bit. */
        f->attributes = FILE_ATTRIBUTE_ARCHIVE;
        if (!(st->st_mode & S_IWUSR))
            f->attributes |= FILE_ATTRIBUTE_READONLY;
        f->eof = st->st_size;
        f->allocation = fltsim__fs_round_alloc(st->st_size);
    }
}

NTSTATUS fltsim__hostfs_name_to_host(const WCHAR *name, size_t len,
                                     char out[HOSTFS_HOST_NAME_MAX + 1])
{
    /* fltsim_utf16_to_utf8 would turn an unpaired surrogate into U+FFFD, a
     * different name: refuse it instead. */
    for (size_t i = 0; i < len; i++) {
        WCHAR c = name[i];
        if (c >= 0xD800 && c <= 0xDBFF) {
            if (i + 1 >= len || name[i + 1] < 0xDC00 || name[i + 1] > 0xDFFF)
                return STATUS_OBJECT_NAME_INVALID;
            i++;
        } else if (c >= 0xDC00 && c <= 0xDFFF) {
            return STATUS_OBJECT_NAME_INVALID;
        }
    }
    char tmp[4 * FLTSIM__FS_NAME_MAX + 1];
    size_t n = fltsim_utf16_to_utf8(name, len, tmp, sizeof(tmp));
    if (n > HOSTFS_HOST_NAME_MAX)
        return STATUS_OBJECT_NAME_INVALID;
    memcpy(out, tmp, n + 1);
    return STATUS_SUCCESS;
}

size_t fltsim__hostfs_name_from_host(const char *name, WCHAR *out)
{
    size_t n = fltsim_utf8_to_utf16(name, out, FLTSIM__FS_NAME_MAX + 1);
    if (n == (size_t)-1 || !fltsim__fs_component_valid(out, n))
        return 0;
    return n;
}

static bool equal_ignoring_case(const WCHAR *a, size_t alen, const WCHAR *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (RtlUpcaseUnicodeChar(a[i]) != RtlUpcaseUnicodeChar(b[i]))
            return false;
    return true;
}

NTSTATUS fltsim__hostfs_lookup(struct fltsim_hostfs *fs, const char *dir_rel, const WCHAR *name,
                               size_t len, bool *exists, char **out_rel, uv_stat_t *st)
{
    char host[HOSTFS_HOST_NAME_MAX + 1];
    char *rel = NULL, *abs = NULL;
    char **names = NULL;
    size_t count = 0;
    NTSTATUS status = fltsim__hostfs_name_to_host(name, len, host);
    if (!NT_SUCCESS(status))
        return status;

    *exists = false;
    *out_rel = NULL;
    status = STATUS_INSUFFICIENT_RESOURCES;
    rel = fltsim__hostfs_join(dir_rel, host);
    abs = rel != NULL ? fltsim__hostfs_abs(fs, rel, NULL) : NULL;
    if (abs == NULL)
        goto out;
    int r = fltsim__hostfs_lstat(abs, st);
    if (r == UV_ENOENT) {
        /* No exact match: the first entry equal ignoring case, in byte order
         * so the choice among several is the same on every run. */
        status = fltsim__hostfs_list(fs, dir_rel, &names, &count);
        if (!NT_SUCCESS(status))
            goto out;
        for (size_t i = 0; i < count; i++) {
            WCHAR w[FLTSIM__FS_NAME_MAX + 1];
            size_t units = fltsim__hostfs_name_from_host(names[i], w);
            if (units == 0 || !equal_ignoring_case(w, units, name, len))
                continue;
            char *found = fltsim__hostfs_join(dir_rel, names[i]);
            char *found_abs = found != NULL ? fltsim__hostfs_abs(fs, found, NULL) : NULL;
            if (found_abs == NULL) {
                free(found);
                status = STATUS_INSUFFICIENT_RESOURCES;
                goto out;
            }
            r = fltsim__hostfs_lstat(found_abs, st);
            free(found_abs);
            if (r == UV_ENOENT) { /* gone meanwhile: keep looking */
                free(found);
                continue;
            }
            free(rel);
            rel = found;
            break;
        }
    }
    if (r == UV_ENOENT) {
        status = STATUS_SUCCESS; /* not there: rel keeps the name as given */
    } else if (r != 0) {
        status = fltsim__hostfs_status(r, true);
    } else if (!fltsim__hostfs_kind_shown(st)) {
        /* Symbolic links (which could lead out of the root) and special
         * files are not modeled: nothing may be opened through them. */
        status = STATUS_ACCESS_DENIED;
    } else {
        *exists = true;
        status = STATUS_SUCCESS;
    }
out:
    fltsim__hostfs_names_free(names, count);
    free(abs);
    if (NT_SUCCESS(status))
        *out_rel = rel;
    else
        free(rel);
    return status;
}

NTSTATUS fltsim__hostfs_dir_empty(struct fltsim_hostfs *fs, const char *rel, bool *empty)
{
    char **names;
    size_t count;
    NTSTATUS status = fltsim__hostfs_list(fs, rel, &names, &count);
    if (!NT_SUCCESS(status))
        return status;
    *empty = count == 0;
    fltsim__hostfs_names_free(names, count);
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Control blocks                                                            */
/* ------------------------------------------------------------------------- */

struct hostfs_fcb *fltsim__hostfs_fcb_find(struct fltsim_hostfs *fs, ULONG64 dev, ULONG64 ino)
{
    for (LIST_ENTRY *e = fs->fcbs.Flink; e != &fs->fcbs; e = e->Flink) {
        struct hostfs_fcb *fcb = CONTAINING_RECORD(e, struct hostfs_fcb, link);
        if (fcb->file.kind != FLTSIM__FS_VOLUME && !fcb->file.unlinked && fcb->dev == dev &&
            fcb->ino == ino)
            return fcb;
    }
    return NULL;
}

static int open_fd(const char *abs, int flags, uv_file *fd)
{
    uv_fs_t req;
    int r = uv_fs_open(NULL, &req, abs, flags | UV_FS_O_NOFOLLOW, 0, NULL);
    uv_fs_req_cleanup(&req);
    if (r >= 0)
        *fd = r;
    return r < 0 ? r : 0;
}

static void close_fd(uv_file fd)
{
    uv_fs_t req;
    uv_fs_close(NULL, &req, fd, NULL);
    uv_fs_req_cleanup(&req);
}

struct hostfs_fcb *fltsim__hostfs_fcb_new(struct fltsim_hostfs *fs, const char *rel,
                                          const uv_stat_t *st, NTSTATUS *status)
{
    struct hostfs_fcb *fcb = calloc(1, sizeof(*fcb));
    if (fcb == NULL || (fcb->rel = strdup(rel)) == NULL) {
        free(fcb);
        *status = STATUS_INSUFFICIENT_RESOURCES;
        return NULL;
    }
    fcb->file.magic = HOSTFS_FCB_MAGIC;
    fcb->file.kind = S_ISDIR(st->st_mode) ? FLTSIM__FS_DIRECTORY : FLTSIM__FS_FILE;
    fcb->file.root = rel[0] == '\0';
    fcb->dev = st->st_dev;
    fcb->ino = st->st_ino;
    fcb->fd = -1;
    if (fcb->file.kind == FLTSIM__FS_FILE) {
        char *abs = fltsim__hostfs_abs(fs, rel, NULL);
        int r = UV_ENOMEM;
        if (abs != NULL) {
            /* A read-only hostfs never asks the host for write access. */
            r = fs->core.read_only ? UV_EACCES : open_fd(abs, UV_FS_O_RDWR, &fcb->fd);
            if (r == 0)
                fcb->fd_writable = true;
            else if (r == UV_EACCES || r == UV_EPERM || r == UV_EROFS)
                r = open_fd(abs, UV_FS_O_RDONLY, &fcb->fd);
        }
        free(abs);
        if (r != 0) {
            free(fcb->rel);
            free(fcb);
            *status = fltsim__hostfs_status(r, true);
            return NULL;
        }
    }
    InsertTailList(&fs->fcbs, &fcb->link);
    *status = STATUS_SUCCESS;
    return fcb;
}

void fltsim__hostfs_fcb_free(struct fltsim_hostfs *fs, struct hostfs_fcb *fcb)
{
    (void)fs;
    RemoveEntryList(&fcb->link);
    if (fcb->fd >= 0)
        close_fd(fcb->fd);
    free(fcb->rel);
    fltsim__fs_locks_free(&fcb->file.locks);
    fcb->file.magic = 0;
    free(fcb);
}

int fltsim__hostfs_fcb_stat(struct fltsim_hostfs *fs, const struct hostfs_fcb *fcb, uv_stat_t *st)
{
    if (fcb->fd >= 0)
        return fltsim__hostfs_fstat(fcb->fd, st);
    char *abs = fltsim__hostfs_abs(fs, fcb->rel, NULL);
    if (abs == NULL)
        return UV_ENOMEM;
    int r = fltsim__hostfs_lstat(abs, st);
    free(abs);
    return r;
}

NTSTATUS fltsim__hostfs_fcb_writable(struct fltsim_hostfs *fs, struct hostfs_fcb *fcb)
{
    if (fcb->fd_writable)
        return STATUS_SUCCESS;
    if (fcb->file.unlinked)
        return STATUS_FILE_DELETED;
    /* The permissions may have changed since the file was opened (a
     * read-only attribute cleared through this hostfs). */
    char *abs = fltsim__hostfs_abs(fs, fcb->rel, NULL);
    if (abs == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    uv_file fd;
    int r = open_fd(abs, UV_FS_O_RDWR, &fd);
    free(abs);
    if (r != 0)
        return fltsim__hostfs_status(r, true);
    if (fcb->fd >= 0)
        close_fd(fcb->fd);
    fcb->fd = fd;
    fcb->fd_writable = true;
    return STATUS_SUCCESS;
}

WCHAR *fltsim__hostfs_nt_path(const struct hostfs_fcb *fcb, size_t *units)
{
    size_t n = strlen(fcb->rel);
    WCHAR *out = malloc((n + 2) * sizeof(WCHAR));
    if (out == NULL)
        return NULL;
    out[0] = L'\\';
    /* rel is made of names converted from UTF-16, so it converts back. */
    size_t got = fltsim_utf8_to_utf16(fcb->rel, out + 1, n + 1);
    if (got == (size_t)-1)
        got = 0;
    for (size_t i = 1; i <= got; i++)
        if (out[i] == L'/')
            out[i] = L'\\';
    *units = got + 1;
    return out;
}

/* ------------------------------------------------------------------------- */
/* Create and destroy                                                        */
/* ------------------------------------------------------------------------- */

static const struct fltsim__fs_store_ops store_ops = {
    .open_size = sizeof(struct hostfs_ccb),
    .unlinked_base_not_found = true, /* its host path is gone */
    .create = &fltsim__hostfs_create_ops,
    .io = &fltsim__hostfs_io_ops,
    .info = &fltsim__hostfs_info_ops,
    .dir = &fltsim__hostfs_dir_ops,
};

NTSTATUS fltsim_hostfs_create(const char *root_dir, const struct fltsim_hostfs_options *options,
                              struct fltsim_hostfs **out)
{
    struct fltsim_hostfs_options defaults = {0};
    uv_fs_t req;
    uv_stat_t st;
    int r;

    if (out == NULL)
        return fltsim_last_error_set(STATUS_INVALID_PARAMETER, "fltsim_hostfs_create: out is NULL");
    *out = NULL;
    if (root_dir == NULL)
        return fltsim_last_error_set(STATUS_INVALID_PARAMETER,
                                     "fltsim_hostfs_create: root_dir is NULL");
    if (options == NULL)
        options = &defaults;
    if ((options->flags & ~(ULONG)FLTSIM_HOSTFS_READ_ONLY) != 0)
        return fltsim_last_error_set(
            STATUS_INVALID_PARAMETER, "fltsim_hostfs_create: unknown flags 0x%lx in options",
            (unsigned long)(options->flags & ~(ULONG)FLTSIM_HOSTFS_READ_ONLY));

    r = uv_fs_realpath(NULL, &req, root_dir, NULL);
    char *root = r == 0 ? strdup(req.ptr) : NULL;
    uv_fs_req_cleanup(&req);
    if (r != 0)
        return fltsim_last_error_set(STATUS_OBJECT_PATH_NOT_FOUND,
                                     "fltsim_hostfs_create: root directory '%s': %s", root_dir,
                                     uv_strerror(r));
    if (root == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    r = fltsim__hostfs_lstat(root, &st);
    if (r != 0 || !S_ISDIR(st.st_mode)) {
        NTSTATUS status = fltsim_last_error_set(
            STATUS_OBJECT_PATH_NOT_FOUND, "fltsim_hostfs_create: root directory '%s': %s", root_dir,
            r != 0 ? uv_strerror(r) : "not a directory");
        free(root);
        return status;
    }

    struct fltsim_hostfs *fs = calloc(1, sizeof(*fs));
    struct hostfs_fcb *volume = calloc(1, sizeof(*volume));
    if (fs == NULL || volume == NULL ||
        !NT_SUCCESS(fltsim__fs_init(&fs->core, &store_ops, HOSTFS_CCB_MAGIC))) {
        free(fs);
        free(volume);
        free(root);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    fs->core.read_only = (options->flags & FLTSIM_HOSTFS_READ_ONLY) != 0;
    fs->root = root;
    InitializeListHead(&fs->fcbs);
    volume->file.magic = HOSTFS_FCB_MAGIC;
    volume->file.kind = FLTSIM__FS_VOLUME;
    volume->fd = -1;
    InsertTailList(&fs->fcbs, &volume->link);
    fs->core.volume = &volume->file;
    *out = fs;
    return STATUS_SUCCESS;
}

void fltsim_hostfs_destroy(struct fltsim_hostfs *fs)
{
    if (fs == NULL)
        return;
    fltsim__fs_fini(&fs->core);
    while (!IsListEmpty(&fs->fcbs)) {
        struct hostfs_fcb *fcb = CONTAINING_RECORD(fs->fcbs.Flink, struct hostfs_fcb, link);
        fltsim__hostfs_fcb_free(fs, fcb);
    }
    free(fs->root);
    free(fs);
}

ULONG fltsim_hostfs_open_count(struct fltsim_hostfs *fs)
{
    return fs != NULL ? fltsim__fs_open_count(&fs->core) : 0;
}

/* ------------------------------------------------------------------------- */
/* Entry points                                                              */
/* ------------------------------------------------------------------------- */

/* The shared handlers (fs_core.h) answer every request; the fs pointer they
 * get is the hostfs, whose first member is its core. */
_Static_assert(offsetof(struct fltsim_hostfs, core) == 0, "the fs pointer is the core's");

static void hostfs_release(void *ctx)
{
    fltsim_hostfs_destroy(ctx);
}

const struct fltsim_fs_ops fltsim_hostfs_ops = {
    .name = "hostfs",
    .irp_cb = fltsim__fs_irp_cb,
    .fast_io_cb = fltsim__fs_fast_io_cb,
    .fs_filter_cb = fltsim__fs_filter_cb,
    .release_cb = hostfs_release,
};
