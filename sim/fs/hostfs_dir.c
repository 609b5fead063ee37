/*
 * hostfs: IRP_MJ_DIRECTORY_CONTROL. Query directory reads the host directory
 * on each request (uv_fs_scandir), walks "." and ".." (below the root) and
 * then the entries in NTFS's order (names compared upcased, as memfs keeps
 * them; host names equal but for case in byte order), and packs the ones
 * matching the handle's pattern with fs_shared.c as memfs does. The position
 * is the host name of the last entry passed, so a scan survives entries being
 * added or removed between queries. Entries NT cannot show are skipped:
 * symbolic links and special files, and names that are not valid UTF-8 or
 * not valid NT names. Change notification is not modeled.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostfs_internal.h"

/* NTFS lists a directory in the order of its upcased names. */
static int compare_nt_order(const char *a, const char *b)
{
    WCHAR wa[256], wb[256];
    size_t la = fltsim_utf8_to_utf16(a, wa, 256), lb = fltsim_utf8_to_utf16(b, wb, 256);
    if (la != (size_t)-1 && lb != (size_t)-1) {
        for (size_t i = 0; i < la && i < lb; i++) {
            WCHAR ua = RtlUpcaseUnicodeChar(wa[i]), ub = RtlUpcaseUnicodeChar(wb[i]);
            if (ua != ub)
                return ua < ub ? -1 : 1;
        }
        if (la != lb)
            return la < lb ? -1 : 1;
    }
    return strcmp(a, b);
}

static int compare_names(const void *a, const void *b)
{
    return compare_nt_order(*(char *const *)a, *(char *const *)b);
}

void fltsim__hostfs_names_free(char **names, size_t count)
{
    if (names == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

NTSTATUS fltsim__hostfs_list(struct fltsim_hostfs *fs, const char *rel, char ***names,
                             size_t *count)
{
    char *abs = fltsim__hostfs_abs(fs, rel, NULL);
    uv_fs_t req;
    uv_dirent_t ent;
    size_t n = 0, cap = 0;
    char **out = NULL;
    NTSTATUS status = STATUS_SUCCESS;

    *names = NULL;
    *count = 0;
    if (abs == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    int r = uv_fs_scandir(NULL, &req, abs, 0, NULL);
    free(abs);
    if (r < 0) {
        uv_fs_req_cleanup(&req);
        return fltsim__hostfs_status(r, false);
    }
    while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
        if (n == cap) {
            size_t grown_cap = cap ? cap * 2 : 16;
            char **grown = realloc(out, grown_cap * sizeof(*grown));
            if (grown == NULL) {
                status = STATUS_INSUFFICIENT_RESOURCES;
                break;
            }
            out = grown;
            cap = grown_cap;
        }
        if ((out[n] = strdup(ent.name)) == NULL) {
            status = STATUS_INSUFFICIENT_RESOURCES;
            break;
        }
        n++;
    }
    uv_fs_req_cleanup(&req);
    if (!NT_SUCCESS(status)) {
        fltsim__hostfs_names_free(out, n);
        return status;
    }
    /* Sorted here rather than trusting the host's (or libuv's) order. */
    if (n > 1)
        qsort(out, n, sizeof(*out), compare_names);
    *names = out;
    *count = n;
    return STATUS_SUCCESS;
}

static const WCHAR dot_name[] = {L'.'};
static const WCHAR dotdot_name[] = {L'.', L'.'};

/* The scan as fltsim__fs_scan_fill drives it. */
struct scan {
    struct fltsim_hostfs *fs;
    struct hostfs_ccb *ccb;
    const struct hostfs_fcb *dir;
    char **names;
    size_t count;
    size_t pos; /* the entry at the position, once phase 2 */
    WCHAR wname[FLTSIM__FS_NAME_MAX + 1];
};

/* Moves past the current entry: its host name becomes the resume point
 * (ownership passes to the ccb, so this cannot fail). */
static void pass_entry(struct scan *s)
{
    free(s->ccb->resume);
    s->ccb->resume = s->names[s->pos];
    s->names[s->pos] = NULL;
    s->pos++;
}

static bool scan_next(void *ctx, const WCHAR **name, USHORT *len)
{
    struct scan *s = ctx;
    switch (s->ccb->scan_phase) {
    case 0:
        *name = dot_name;
        *len = 1;
        return true;
    case 1:
        *name = dotdot_name;
        *len = 2;
        return true;
    default:
        break;
    }
    while (s->pos < s->count) {
        size_t units = fltsim__hostfs_name_from_host(s->names[s->pos], s->wname);
        if (units != 0) {
            *name = s->wname;
            *len = (USHORT)units;
            return true;
        }
        pass_entry(s); /* a name NT cannot show */
    }
    return false;
}

static bool scan_facts(void *ctx, struct fltsim__fs_facts *f)
{
    struct scan *s = ctx;
    char *abs;
    uv_stat_t st;

    if (s->ccb->scan_phase == 0) {
        abs = fltsim__hostfs_abs(s->fs, s->dir->rel, NULL);
    } else if (s->ccb->scan_phase == 1) {
        /* ".." describes the parent directory. */
        const char *slash = strrchr(s->dir->rel, '/');
        size_t n = slash != NULL ? (size_t)(slash - s->dir->rel) : 0;
        char *parent = malloc(n + 1);
        if (parent == NULL)
            return false;
        memcpy(parent, s->dir->rel, n);
        parent[n] = '\0';
        abs = fltsim__hostfs_abs(s->fs, parent, NULL);
        free(parent);
    } else {
        abs = fltsim__hostfs_abs(s->fs, s->dir->rel, s->names[s->pos]);
    }
    if (abs == NULL)
        return false;
    int r = fltsim__hostfs_lstat(abs, &st);
    free(abs);
    /* Gone meanwhile, a symbolic link, or a special file: not shown. */
    if (r != 0 || !fltsim__hostfs_kind_shown(&st))
        return false;
    fltsim__hostfs_facts(&st, f);
    return true;
}

static void scan_consume(void *ctx)
{
    struct scan *s = ctx;
    if (s->ccb->scan_phase < 2)
        s->ccb->scan_phase++;
    else
        pass_entry(s);
}

static const struct fltsim__fs_scan_ops scan_ops = {scan_next, scan_facts, scan_consume};

static NTSTATUS query_directory(struct fltsim_hostfs *fs, PFLT_CALLBACK_DATA data,
                                ULONG_PTR *information)
{
    struct hostfs_ccb *ccb = fltsim__hostfs_ccb_of(fs, data->Iopb->TargetFileObject);
    struct fltsim__fs_dir_query q;
    bool starts;
    NTSTATUS status;

    if (ccb == NULL || ccb->fcb->kind != HOSTFS_DIRECTORY)
        return STATUS_INVALID_PARAMETER;
    if (ccb->cleaned_up)
        return STATUS_FILE_CLOSED;
    const struct hostfs_fcb *dir = ccb->fcb;
    status = fltsim__fs_dir_query_decode(data, &q);
    if (!NT_SUCCESS(status))
        return status;
    if (dir->unlinked)
        return STATUS_FILE_DELETED;

    struct scan s;
    memset(&s, 0, sizeof(s));
    status = fltsim__hostfs_list(fs, dir->rel, &s.names, &s.count);
    if (!NT_SUCCESS(status))
        return status;

    status =
        fltsim__fs_dir_query_begin(&q, &ccb->pattern, &ccb->scan_active, &ccb->scan_first, &starts);
    if (!NT_SUCCESS(status))
        goto out;
    if (starts) {
        ccb->scan_phase = dir->rel[0] != '\0' ? 0 : 2; /* the root has no "." or ".." */
        free(ccb->resume);
        ccb->resume = NULL;
    }

    s.fs = fs;
    s.ccb = ccb;
    s.dir = dir;
    if (ccb->resume != NULL)
        while (s.pos < s.count && compare_nt_order(s.names[s.pos], ccb->resume) <= 0)
            s.pos++;

    status =
        fltsim__fs_dir_query_fill(&q, &ccb->pattern, &scan_ops, &s, &ccb->scan_first, information);
out:
    fltsim__hostfs_names_free(s.names, s.count);
    return status;
}

NTSTATUS fltsim__hostfs_directory_control_irp(struct fltsim_hostfs *fs, PFLT_CALLBACK_DATA data,
                                              ULONG_PTR *information)
{
    *information = 0;
    switch (data->Iopb->MinorFunction) {
    case IRP_MN_QUERY_DIRECTORY:
        return query_directory(fs, data, information);
    case IRP_MN_NOTIFY_CHANGE_DIRECTORY:
        /* Not modeled (as memfs): refused rather than completed as if
         * nothing changed. */
        return STATUS_NOT_IMPLEMENTED;
    default:
        return STATUS_INVALID_DEVICE_REQUEST;
    }
}
