/*
 * hostfs: host directories and its side of IRP_MJ_DIRECTORY_CONTROL, whose
 * checks, pattern and entry packing are shared with memfs in fs_dir.c. Each
 * query reads the host directory (uv_fs_scandir); the scan walks "." and ".."
 * (below the root) and then the entries in NTFS's order (names compared
 * upcased, as memfs keeps them; host names equal but for case in byte order).
 * The position is the host name of the last entry passed, so a scan survives
 * entries being added or removed between queries. Entries NT cannot show are
 * skipped: symbolic links and special files, and names that are not valid
 * UTF-8 or not valid NT names.
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

static NTSTATUS dir_empty(struct fltsim__fs *core, struct fltsim__fs_file *file, bool *empty)
{
    return fltsim__hostfs_dir_empty(hostfs_of(core), hostfs_fcb_of(file)->rel, empty);
}

static void open_fini(struct fltsim__fs *core, struct fltsim__fs_open *o)
{
    (void)core;
    free(CONTAINING_RECORD(o, struct hostfs_ccb, open)->resume);
}

static NTSTATUS scan_begin(struct fltsim__fs *core, struct fltsim__fs_open *o)
{
    struct hostfs_ccb *ccb = CONTAINING_RECORD(o, struct hostfs_ccb, open);
    if (o->file->unlinked)
        return STATUS_FILE_DELETED;
    NTSTATUS status =
        fltsim__hostfs_list(hostfs_of(core), hostfs_fcb_of(o->file)->rel, &ccb->names, &ccb->count);
    if (!NT_SUCCESS(status))
        return status;
    ccb->pos = 0;
    if (ccb->resume != NULL)
        while (ccb->pos < ccb->count && compare_nt_order(ccb->names[ccb->pos], ccb->resume) <= 0)
            ccb->pos++;
    return STATUS_SUCCESS;
}

static void scan_restart(struct fltsim__fs *core, struct fltsim__fs_open *o)
{
    struct hostfs_ccb *ccb = CONTAINING_RECORD(o, struct hostfs_ccb, open);
    (void)core;
    o->scan_phase = o->file->root ? 2 : 0; /* the root has no "." or ".." */
    free(ccb->resume);
    ccb->resume = NULL;
    ccb->pos = 0;
}

static void scan_end(struct fltsim__fs *core, struct fltsim__fs_open *o)
{
    struct hostfs_ccb *ccb = CONTAINING_RECORD(o, struct hostfs_ccb, open);
    (void)core;
    fltsim__hostfs_names_free(ccb->names, ccb->count);
    ccb->names = NULL;
    ccb->count = 0;
}

static const WCHAR dot_name[] = {L'.'};
static const WCHAR dotdot_name[] = {L'.', L'.'};

/* Moves past the current entry: its host name becomes the resume point
 * (ownership passes from the names, so this cannot fail). */
static void pass_entry(struct hostfs_ccb *ccb)
{
    free(ccb->resume);
    ccb->resume = ccb->names[ccb->pos];
    ccb->names[ccb->pos] = NULL;
    ccb->pos++;
}

static bool scan_next(void *ctx, const WCHAR **name, USHORT *len)
{
    struct hostfs_ccb *ccb = ctx;
    switch (ccb->open.scan_phase) {
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
    while (ccb->pos < ccb->count) {
        size_t units = fltsim__hostfs_name_from_host(ccb->names[ccb->pos], ccb->wname);
        if (units != 0) {
            *name = ccb->wname;
            *len = (USHORT)units;
            return true;
        }
        pass_entry(ccb); /* a name NT cannot show */
    }
    return false;
}

static bool scan_facts(void *ctx, struct fltsim__fs_facts *f)
{
    struct hostfs_ccb *ccb = ctx;
    struct fltsim_hostfs *fs = hostfs_of(ccb->open.fs);
    const struct hostfs_fcb *dir = hostfs_fcb_of(ccb->open.file);
    char *abs;
    uv_stat_t st;

    if (ccb->open.scan_phase == 0) {
        abs = fltsim__hostfs_abs(fs, dir->rel, NULL);
    } else if (ccb->open.scan_phase == 1) {
        /* ".." describes the parent directory. */
        const char *slash = strrchr(dir->rel, '/');
        size_t n = slash != NULL ? (size_t)(slash - dir->rel) : 0;
        char *parent = malloc(n + 1);
        if (parent == NULL)
            return false;
        memcpy(parent, dir->rel, n);
        parent[n] = '\0';
        abs = fltsim__hostfs_abs(fs, parent, NULL);
        free(parent);
    } else {
        abs = fltsim__hostfs_abs(fs, dir->rel, ccb->names[ccb->pos]);
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
    struct hostfs_ccb *ccb = ctx;
    if (ccb->open.scan_phase < 2)
        ccb->open.scan_phase++;
    else
        pass_entry(ccb);
}

const struct fltsim__fs_dir_ops fltsim__hostfs_dir_ops = {
    .dir_empty_cb = dir_empty,
    .open_fini_cb = open_fini,
    .scan_begin_cb = scan_begin,
    .scan_restart_cb = scan_restart,
    .scan_end_cb = scan_end,
    .scan = {scan_next, scan_facts, scan_consume, false},
};
