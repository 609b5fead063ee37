/*
 * hostfs: lifetime, the host helpers (errno mapping, paths, stat, names and
 * case-insensitive lookup), the file control blocks, the fltsim_fs_ops entry
 * points with their lock, and the fast-I/O and FS-filter paths. The IRP
 * handlers live in hostfs_create.c (create, cleanup, close), hostfs_io.c
 * (read, write), hostfs_info.c (query/set information, volume information)
 * and hostfs_dir.c (directory control). The NTFS rules shared with memfs come
 * from fs_shared.c; the host directory holds the data and the names.
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
        if (fcb->kind != HOSTFS_VOLUME && !fcb->unlinked && fcb->dev == dev && fcb->ino == ino)
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
    fcb->magic = HOSTFS_FCB_MAGIC;
    fcb->kind = S_ISDIR(st->st_mode) ? HOSTFS_DIRECTORY : HOSTFS_FILE;
    fcb->dev = st->st_dev;
    fcb->ino = st->st_ino;
    fcb->fd = -1;
    if (fcb->kind == HOSTFS_FILE) {
        char *abs = fltsim__hostfs_abs(fs, rel, NULL);
        int r = UV_ENOMEM;
        if (abs != NULL) {
            /* A read-only hostfs never asks the host for write access. */
            r = (fs->flags & FLTSIM_HOSTFS_READ_ONLY) ? UV_EACCES
                                                      : open_fd(abs, UV_FS_O_RDWR, &fcb->fd);
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
    fltsim__fs_locks_free(&fcb->locks);
    fcb->magic = 0;
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
    if (fcb->unlinked)
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

struct hostfs_ccb *fltsim__hostfs_ccb_of(struct fltsim_hostfs *fs, PFILE_OBJECT fo)
{
    if (fo == NULL || fo->FsContext2 == NULL)
        return NULL;
    struct hostfs_ccb *ccb = fo->FsContext2;
    if (ccb->magic != HOSTFS_CCB_MAGIC || ccb->fs != fs || fo->FsContext != ccb->fcb)
        return NULL;
    return ccb;
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
    if (fs == NULL || volume == NULL || uv_mutex_init(&fs->lock) != 0) {
        free(fs);
        free(volume);
        free(root);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    fs->flags = options->flags;
    fs->root = root;
    InitializeListHead(&fs->fcbs);
    InitializeListHead(&fs->opens);
    volume->magic = HOSTFS_FCB_MAGIC;
    volume->kind = HOSTFS_VOLUME;
    volume->fd = -1;
    InsertTailList(&fs->fcbs, &volume->link);
    fs->volume = volume;
    *out = fs;
    return STATUS_SUCCESS;
}

void fltsim_hostfs_destroy(struct fltsim_hostfs *fs)
{
    if (fs == NULL)
        return;
    while (!IsListEmpty(&fs->opens)) {
        struct hostfs_ccb *ccb = CONTAINING_RECORD(fs->opens.Flink, struct hostfs_ccb, link);
        fltsim__hostfs_ccb_free(fs, ccb);
    }
    while (!IsListEmpty(&fs->fcbs)) {
        struct hostfs_fcb *fcb = CONTAINING_RECORD(fs->fcbs.Flink, struct hostfs_fcb, link);
        fltsim__hostfs_fcb_free(fs, fcb);
    }
    uv_mutex_destroy(&fs->lock);
    free(fs->root);
    free(fs);
}

ULONG fltsim_hostfs_open_count(struct fltsim_hostfs *fs)
{
    if (fs == NULL)
        return 0;
    uv_mutex_lock(&fs->lock);
    ULONG n = fs->open_count;
    uv_mutex_unlock(&fs->lock);
    return n;
}

/* ------------------------------------------------------------------------- */
/* Entry points                                                              */
/* ------------------------------------------------------------------------- */

static NTSTATUS flush(struct fltsim_hostfs *fs, PFILE_OBJECT fo)
{
    struct hostfs_ccb *ccb = fltsim__hostfs_ccb_of(fs, fo);
    if (ccb == NULL)
        return STATUS_INVALID_PARAMETER;
    if (ccb->fcb->fd < 0)
        return STATUS_SUCCESS; /* directories and the volume: no data of their own */
    /* hostfs caches nothing itself; the host's cache goes to its disk. */
    uv_fs_t req;
    int r = uv_fs_fsync(NULL, &req, ccb->fcb->fd, NULL);
    uv_fs_req_cleanup(&req);
    return fltsim__hostfs_status(r, true);
}

/* The lock check of a read or write (fs_shared.h): the host's end of file
 * is asked only when the file has locks. */
static NTSTATUS lock_check(struct fltsim_hostfs *fs, struct hostfs_ccb *ccb,
                           PFLT_CALLBACK_DATA data)
{
    struct hostfs_fcb *fcb = ccb->fcb;
    ULONG64 eof = 0;
    if (fcb->kind != HOSTFS_FILE || ccb->cleaned_up || fcb->locks.count == 0)
        return STATUS_SUCCESS;
    if (!NT_SUCCESS(fltsim__hostfs_eof(fs, fcb, &eof)))
        return STATUS_SUCCESS; /* the read or write reports the host's error */
    return fltsim__fs_lock_check_rw(&fcb->locks, data, eof);
}

/* Lock control, file-system controls, EAs and security: the shared NTFS
 * rules (fs_shared.h), as memfs. Locks are a file's only. */
static NTSTATUS other_irp(struct fltsim_hostfs *fs, PFLT_CALLBACK_DATA data, ULONG_PTR *information)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    struct hostfs_ccb *ccb = fltsim__hostfs_ccb_of(fs, iopb->TargetFileObject);
    if (ccb == NULL)
        return STATUS_INVALID_PARAMETER;
    switch (iopb->MajorFunction) {
    case IRP_MJ_LOCK_CONTROL:
        if (ccb->fcb->kind != HOSTFS_FILE)
            return STATUS_INVALID_DEVICE_REQUEST;
        if (ccb->cleaned_up)
            return STATUS_FILE_CLOSED;
        return fltsim__fs_lock_control(&ccb->fcb->locks, data);
    case IRP_MJ_FILE_SYSTEM_CONTROL:
        return fltsim__fs_fs_control(data, information);
    case IRP_MJ_QUERY_EA:
        return fltsim__fs_query_ea(data, information);
    case IRP_MJ_QUERY_SECURITY:
        return fltsim__fs_query_security(data, information);
    default: /* IRP_MJ_SET_SECURITY */
        return fltsim__fs_set_security(data);
    }
}

static NTSTATUS hostfs_irp(void *ctx, PFLT_CALLBACK_DATA data)
{
    struct fltsim_hostfs *fs = ctx;
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    PFILE_OBJECT fo = iopb->TargetFileObject;
    ULONG_PTR information = 0;
    NTSTATUS status;
    struct hostfs_ccb *ccb;

    uv_mutex_lock(&fs->lock);
    switch (iopb->MajorFunction) {
    case IRP_MJ_CREATE:
        status = fltsim__hostfs_create_irp(fs, data, &information);
        break;
    case IRP_MJ_CLEANUP:
        status = fltsim__hostfs_cleanup_irp(fs, data);
        break;
    case IRP_MJ_CLOSE:
        status = fltsim__hostfs_close_irp(fs, data);
        break;
    case IRP_MJ_READ:
        ccb = fltsim__hostfs_ccb_of(fs, fo);
        if (ccb != NULL && !NT_SUCCESS(status = lock_check(fs, ccb, data)))
            break;
        status = ccb == NULL ? STATUS_INVALID_PARAMETER
                             : fltsim__hostfs_read(fs, fo, ccb, iopb->IrpFlags,
                                                   iopb->Parameters.Read.ByteOffset,
                                                   iopb->Parameters.Read.Length,
                                                   iopb->Parameters.Read.ReadBuffer, &information);
        break;
    case IRP_MJ_WRITE:
        ccb = fltsim__hostfs_ccb_of(fs, fo);
        if (ccb != NULL && !NT_SUCCESS(status = lock_check(fs, ccb, data)))
            break;
        status = ccb == NULL
                     ? STATUS_INVALID_PARAMETER
                     : fltsim__hostfs_write(fs, fo, ccb, iopb->IrpFlags,
                                            iopb->Parameters.Write.ByteOffset,
                                            iopb->Parameters.Write.Length,
                                            iopb->Parameters.Write.WriteBuffer, &information);
        break;
    case IRP_MJ_QUERY_INFORMATION:
        ccb = fltsim__hostfs_ccb_of(fs, fo);
        status = ccb == NULL
                     ? STATUS_INVALID_PARAMETER
                     : fltsim__hostfs_query_info(
                           fs, fo, ccb, iopb->Parameters.QueryFileInformation.FileInformationClass,
                           iopb->Parameters.QueryFileInformation.InfoBuffer,
                           iopb->Parameters.QueryFileInformation.Length, &information);
        break;
    case IRP_MJ_SET_INFORMATION:
        status = fltsim__hostfs_set_info_irp(fs, data);
        break;
    case IRP_MJ_QUERY_VOLUME_INFORMATION:
        status = fltsim__hostfs_query_volume_irp(fs, data, &information);
        break;
    case IRP_MJ_DIRECTORY_CONTROL:
        status = fltsim__hostfs_directory_control_irp(fs, data, &information);
        break;
    case IRP_MJ_FLUSH_BUFFERS:
        status = flush(fs, fo);
        break;
    case IRP_MJ_LOCK_CONTROL:
    case IRP_MJ_FILE_SYSTEM_CONTROL:
    case IRP_MJ_QUERY_EA:
    case IRP_MJ_QUERY_SECURITY:
    case IRP_MJ_SET_SECURITY:
        status = other_irp(fs, data, &information);
        break;
    default:
        status = STATUS_INVALID_DEVICE_REQUEST;
        break;
    }
    uv_mutex_unlock(&fs->lock);

    data->IoStatus.Status = status;
    data->IoStatus.Information = information;
    return status;
}

/* Fast I/O is an optimisation: declining is always correct, so anything
 * unusual goes to the IRP path, where the full rules apply (as memfs). */
static BOOLEAN hostfs_fast_io(void *ctx, PFLT_CALLBACK_DATA data)
{
    struct fltsim_hostfs *fs = ctx;
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    PFILE_OBJECT fo = iopb->TargetFileObject;
    ULONG_PTR information = 0;
    NTSTATUS status = STATUS_SUCCESS;
    BOOLEAN handled = FALSE;

    if (fo == NULL || (fo->Flags & FO_NO_INTERMEDIATE_BUFFERING))
        return FALSE;

    uv_mutex_lock(&fs->lock);
    struct hostfs_ccb *ccb = fltsim__hostfs_ccb_of(fs, fo);
    if (ccb == NULL || ccb->cleaned_up || ccb->fcb->kind == HOSTFS_VOLUME)
        goto out;
    struct hostfs_fcb *fcb = ccb->fcb;

    switch (iopb->MajorFunction) {
    case IRP_MJ_FAST_IO_CHECK_IF_POSSIBLE:
        handled = TRUE;
        break;
    case IRP_MJ_READ:
        /* A lock conflict takes the IRP path, which fails it. */
        if (fcb->kind != HOSTFS_FILE || !NT_SUCCESS(lock_check(fs, ccb, data)))
            break;
        /* Fast I/O carries no IRP flags: it is cached, never paging. */
        status = fltsim__hostfs_read(fs, fo, ccb, 0, iopb->Parameters.Read.ByteOffset,
                                     iopb->Parameters.Read.Length, iopb->Parameters.Read.ReadBuffer,
                                     &information);
        handled = TRUE;
        break;
    case IRP_MJ_WRITE: {
        ULONG64 eof;
        /* Extending a file takes the IRP path. */
        if (fcb->kind != HOSTFS_FILE || (fs->flags & FLTSIM_HOSTFS_READ_ONLY) ||
            !NT_SUCCESS(fltsim__hostfs_eof(fs, fcb, &eof)) ||
            !fltsim__fs_fast_write_fits(data, eof) || !NT_SUCCESS(lock_check(fs, ccb, data)))
            break;
        status = fltsim__hostfs_write(fs, fo, ccb, 0, iopb->Parameters.Write.ByteOffset,
                                      iopb->Parameters.Write.Length,
                                      iopb->Parameters.Write.WriteBuffer, &information);
        handled = TRUE;
        break;
    }
    case IRP_MJ_QUERY_INFORMATION: {
        FILE_INFORMATION_CLASS cls = iopb->Parameters.QueryFileInformation.FileInformationClass;
        if (!fltsim__fast_query_class(cls))
            break;
        status = fltsim__hostfs_query_info(
            fs, fo, ccb, cls, iopb->Parameters.QueryFileInformation.InfoBuffer,
            iopb->Parameters.QueryFileInformation.Length, &information);
        handled = TRUE;
        break;
    }
    case IRP_MJ_LOCK_CONTROL:
        if (fcb->kind != HOSTFS_FILE)
            break;
        status = fltsim__fs_lock_control(&fcb->locks, data);
        handled = TRUE;
        break;
    default: /* device control, IRP_MJ_NETWORK_QUERY_OPEN ...: declined, as NTFS */
        break;
    }
out:
    uv_mutex_unlock(&fs->lock);
    if (handled) {
        data->IoStatus.Status = status;
        data->IoStatus.Information = information;
    }
    return handled;
}

static NTSTATUS hostfs_fs_filter(void *ctx, PFLT_CALLBACK_DATA data)
{
    struct fltsim_hostfs *fs = ctx;
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    NTSTATUS status;

    uv_mutex_lock(&fs->lock);
    /* As memfs: no resources to hold; the counts check that acquires and
     * releases pair up. */
    struct hostfs_ccb *ccb = fltsim__hostfs_ccb_of(fs, iopb->TargetFileObject);
    if (ccb == NULL || ccb->fcb->kind == HOSTFS_VOLUME)
        status = STATUS_INVALID_PARAMETER;
    else
        status = fltsim__fs_filter_callback(data, &ccb->fcb->acquires, &ccb->fcb->share);
    uv_mutex_unlock(&fs->lock);

    data->IoStatus.Status = status;
    data->IoStatus.Information = 0;
    return status;
}

static void hostfs_release(void *ctx)
{
    fltsim_hostfs_destroy(ctx);
}

const struct fltsim_fs_ops fltsim_hostfs_ops = {
    .name = "hostfs",
    .irp_cb = hostfs_irp,
    .fast_io_cb = hostfs_fast_io,
    .fs_filter_cb = hostfs_fs_filter,
    .release_cb = hostfs_release,
};
