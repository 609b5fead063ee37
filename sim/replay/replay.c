/*
 * Replaying a Process Monitor capture (replay.h): the namespace the capture
 * implies and the rows worth replaying (first pass, the only one that reads
 * the capture; replay_rows.c keeps the rows), then each of those rows as one
 * call of the test I/O API (second pass), compared with the recorded Result.
 * The calls of the second pass are also what `fltsim import` writes as
 * scenario steps (replay_import.c), so a call is described once (struct
 * rcall) and both issued and, when importing, written.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fltsim/hostfs.h>
#include <fltsim/io.h>
#include <fltsim/memfs.h>
#include <fltsim/replay.h>

#include <dlfcn.h>

#include "example_filters.h"
#include "replay_internal.h"
#include "common/sim_internal.h"

/* ------------------------------------------------------------------------- */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------- */

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static bool smap_grow(struct smap *m)
{
    size_t cap = m->cap == 0 ? 1024 : m->cap * 2;
    char **keys = calloc(cap, sizeof(*keys));
    size_t *values = calloc(cap, sizeof(*values));
    if (keys == NULL || values == NULL) {
        free(keys);
        free(values);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == NULL)
            continue;
        size_t j = hash_str(m->keys[i]) & (cap - 1);
        while (keys[j] != NULL)
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        values[j] = m->values[i];
    }
    free(m->keys);
    free(m->values);
    m->keys = keys;
    m->values = values;
    m->cap = cap;
    return true;
}

/* The value for key, or SIZE_MAX. */
static size_t smap_get(const struct smap *m, const char *key)
{
    if (m->cap == 0)
        return SIZE_MAX;
    size_t j = hash_str(key) & (m->cap - 1);
    while (m->keys[j] != NULL) {
        if (strcmp(m->keys[j], key) == 0)
            return m->values[j];
        j = (j + 1) & (m->cap - 1);
    }
    return SIZE_MAX;
}

static bool smap_put(struct smap *m, const char *key, size_t value)
{
    if ((m->count + 1) * 2 > m->cap && !smap_grow(m))
        return false;
    size_t j = hash_str(key) & (m->cap - 1);
    while (m->keys[j] != NULL) {
        if (strcmp(m->keys[j], key) == 0) {
            m->values[j] = value;
            return true;
        }
        j = (j + 1) & (m->cap - 1);
    }
    char *k = strdup(key);
    if (k == NULL)
        return false;
    m->keys[j] = k;
    m->values[j] = value;
    m->count++;
    return true;
}

static void smap_free(struct smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof(*m));
}

/* Counts by name, in a map (names are copied): adds rows rows, of which
 * matched matched. False when out of memory (nothing added). */
static bool count_add(struct smap *index, struct fltsim_replay_count **items, size_t *n,
                      size_t *cap, const char *name, uint64_t rows, uint64_t matched)
{
    size_t i = smap_get(index, name);
    if (i == SIZE_MAX) {
        if (*n == *cap) {
            size_t c = *cap == 0 ? 16 : *cap * 2;
            struct fltsim_replay_count *p = realloc(*items, c * sizeof(*p));
            if (p == NULL)
                return false;
            *items = p;
            *cap = c;
        }
        char *copy = strdup(name);
        if (copy == NULL || !smap_put(index, name, *n)) {
            free(copy);
            return false;
        }
        (*items)[*n] = (struct fltsim_replay_count){copy, 0, 0};
        i = (*n)++;
    }
    (*items)[i].count += rows;
    (*items)[i].matched += matched;
    return true;
}

/* A drive-letter path: "C:" or "C:\...". */
static bool drive_path(const char *path)
{
    char c = path[0];
    return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) && path[1] == ':' &&
           (path[2] == '\0' || path[2] == '\\');
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The comparison key of a path: ASCII upper case (NTFS compares names
 * case-insensitively), no trailing backslash but the root's ("C:\"). */
static void path_key(const char *path, char *out, size_t size)
{
    size_t n = 0;
    for (; path[n] != '\0' && n + 1 < size; n++)
        out[n] = upper(path[n]);
    while (n > 3 && out[n - 1] == '\\')
        n--;
    out[n] = '\0';
}

static bool has_wildcard(const char *s)
{
    return strpbrk(s, "*?<>\"") != NULL;
}

bool fltsim__replay_buf_reserve(struct rbuf *b, size_t size)
{
    if (b->cap >= size)
        return true;
    size_t cap = b->cap == 0 ? 4096 : b->cap;
    while (cap < size)
        cap *= 2;
    unsigned char *p = realloc(b->data, cap);
    if (p == NULL)
        return false;
    memset(p + b->cap, 0, cap - b->cap);
    b->data = p;
    b->cap = cap;
    return true;
}

/* ------------------------------------------------------------------------- */
/* The namespace (first pass)                                                */
/* ------------------------------------------------------------------------- */

enum { NS_UNKNOWN = 0, NS_YES = 1, NS_NO = 2 };
enum { KIND_UNKNOWN = 0, KIND_FILE = 1, KIND_DIR = 2 };

struct ns_entry {
    char *path;         /* as first seen, "C:\Dir\File" */
    uint8_t existed;    /* at the start of the capture: NS_* */
    uint8_t kind;       /* KIND_* */
    bool changed;       /* written, truncated or created: later size evidence is moot */
    bool size_exact;
    uint64_t size;      /* lower bound (or exact) of the size at the start */
    uint64_t size_max;  /* upper bound */
};

static struct ns_entry *ns_entry(struct ns *ns, const char *path)
{
    char key[1024];
    path_key(path, key, sizeof(key));
    size_t i = smap_get(&ns->index, key);
    if (i != SIZE_MAX)
        return &ns->entries[i];
    if (ns->count == ns->cap) {
        size_t c = ns->cap == 0 ? 256 : ns->cap * 2;
        struct ns_entry *p = realloc(ns->entries, c * sizeof(*p));
        if (p == NULL)
            return NULL;
        ns->entries = p;
        ns->cap = c;
    }
    char *copy = strdup(path);
    if (copy == NULL || !smap_put(&ns->index, key, ns->count)) {
        free(copy);
        return NULL;
    }
    size_t n = strlen(copy);
    while (n > 3 && copy[n - 1] == '\\')
        copy[--n] = '\0';
    ns->entries[ns->count] = (struct ns_entry){.path = copy, .size_max = UINT64_MAX};
    return &ns->entries[ns->count++];
}

static void ns_free(struct ns *ns)
{
    for (size_t i = 0; i < ns->count; i++)
        free(ns->entries[i].path);
    free(ns->entries);
    smap_free(&ns->index);
    memset(ns, 0, sizeof(*ns));
}

/* First evidence decides whether the path existed when the capture began. */
static void ns_evidence(struct ns_entry *e, bool exists)
{
    if (e != NULL && e->existed == NS_UNKNOWN)
        e->existed = exists ? NS_YES : NS_NO;
}

static void ns_kind(struct ns_entry *e, int kind)
{
    if (e != NULL && e->kind == KIND_UNKNOWN)
        e->kind = (uint8_t)kind;
}

/* For QueryDirectory the recorded path is the directory plus the search
 * filter: the directory's path is written to dir. */
static void directory_of_query(const struct fltsim_capture_event *ev, char *dir, size_t size)
{
    snprintf(dir, size, "%s", ev->path);
    const char *filter =
        (ev->params.present & FLTSIM_CP_FILE_NAME) ? ev->params.file_name : NULL;
    char *slash = strrchr(dir, '\\');
    if (slash == NULL || slash - dir < 2)
        return;
    if ((filter != NULL && filter[0] != '\0' && strcasecmp(slash + 1, filter) == 0) ||
        has_wildcard(slash + 1)) {
        if (slash - dir == 2)
            slash[1] = '\0'; /* "C:\*" -> "C:\" */
        else
            *slash = '\0';
    }
}

/* The names a CSV/XML QueryDirectory Detail lists ("1: name, 2: name"). */
static void listed_names(struct ns *ns, const char *dir, const char *detail)
{
    const char *p = detail;
    while (p != NULL && *p != '\0') {
        const char *q = p;
        while (*q >= '0' && *q <= '9')
            q++;
        const char *end = strstr(p, ", ");
        if (q > p && q[0] == ':' && q[1] == ' ') {
            const char *name = q + 2;
            size_t len = end != NULL ? (size_t)(end - name) : strlen(name);
            char path[1024];
            if (len > 0 && len < 256 && !(len == 1 && name[0] == '.') &&
                !(len == 2 && name[0] == '.' && name[1] == '.')) {
                size_t dl = strlen(dir);
                int n = snprintf(path, sizeof(path), "%s%s%.*s", dir,
                                 dl > 0 && dir[dl - 1] == '\\' ? "" : "\\", (int)len, name);
                /* A name that does not fit is no evidence (the path would be cut). */
                if (n > 0 && (size_t)n < sizeof(path) && !has_wildcard(path + 3))
                    ns_evidence(ns_entry(ns, path), true);
            }
        }
        p = end != NULL ? end + 2 : NULL;
    }
}

/* How many names a QueryDirectory Detail lists (NULL: none). */
static size_t listed_count(const char *detail)
{
    size_t n = 0;
    for (const char *p = detail; p != NULL && *p != '\0';) {
        const char *q = p;
        while (*q >= '0' && *q <= '9')
            q++;
        if (q > p && q[0] == ':' && q[1] == ' ')
            n++;
        p = strstr(p, ", ");
        if (p != NULL)
            p += 2;
    }
    return n;
}

static bool is_status(const struct fltsim_capture_event *ev, NTSTATUS s)
{
    return ev->has_result && ev->result == s;
}

/* What one row tells about the namespace. */
static void learn(struct ns *ns, const struct fltsim_capture_event *ev)
{
    const struct fltsim_capture_op *op = ev->op;
    if (ev->event_class != FLTSIM_CAPTURE_CLASS_FILE_SYSTEM || op == NULL || !drive_path(ev->path))
        return;
    if (ev->path[2] == '\0')
        return; /* the volume itself */
    const struct fltsim_capture_params *p = &ev->params;
    NTSTATUS r = ev->result;
    bool ok = ev->has_result && NT_SUCCESS(r);

    if (op->major == IRP_MJ_DIRECTORY_CONTROL) {
        char dir[1024];
        directory_of_query(ev, dir, sizeof(dir));
        struct ns_entry *e = ns_entry(ns, dir);
        if (dir[3] != '\0') {
            ns_evidence(e, true);
            ns_kind(e, KIND_DIR);
        }
        if (ev->detail != NULL && op->sub == IRP_MN_QUERY_DIRECTORY && ok)
            listed_names(ns, dir, ev->detail);
        return;
    }
    if (has_wildcard(ev->path + 3) || strchr(ev->path + 2, ':') != NULL)
        return; /* a search pattern, or a named stream (not modeled) */
    struct ns_entry *e = ns_entry(ns, ev->path);
    if (e == NULL)
        return;

    if (op->major == IRP_MJ_CREATE) {
        if ((p->present & FLTSIM_CP_OPTIONS) && (p->create_options & FILE_DIRECTORY_FILE) && ok)
            ns_kind(e, KIND_DIR);
        if ((p->present & FLTSIM_CP_OPTIONS) && (p->create_options & FILE_NON_DIRECTORY_FILE) &&
            ok)
            ns_kind(e, KIND_FILE);
        if (ok) {
            ULONG disp = (p->present & FLTSIM_CP_DISPOSITION) ? p->disposition : FILE_OPEN;
            if (p->present & FLTSIM_CP_OPEN_RESULT) {
                ns_evidence(e, p->open_result != FILE_CREATED);
                if (p->open_result != FILE_OPENED)
                    e->changed = true;
            } else if (disp == FILE_OPEN || disp == FILE_OVERWRITE) {
                ns_evidence(e, true);
            } else if (disp == FILE_CREATE) {
                ns_evidence(e, false);
            }
            if (disp == FILE_OVERWRITE || disp == FILE_OVERWRITE_IF || disp == FILE_SUPERSEDE ||
                disp == FILE_CREATE)
                e->changed = true;
        } else if (is_status(ev, STATUS_OBJECT_NAME_NOT_FOUND)) {
            /* Not there, but its directory is (else PATH NOT FOUND). */
            ns_evidence(e, false);
            char parent[1024];
            snprintf(parent, sizeof(parent), "%s", e->path);
            char *slash = strrchr(parent, '\\');
            if (slash != NULL && slash - parent > 2) {
                *slash = '\0';
                struct ns_entry *pe = ns_entry(ns, parent);
                ns_evidence(pe, true);
                ns_kind(pe, KIND_DIR);
            }
        } else if (is_status(ev, STATUS_OBJECT_NAME_COLLISION) ||
                   is_status(ev, STATUS_ACCESS_DENIED) ||
                   is_status(ev, STATUS_SHARING_VIOLATION) ||
                   is_status(ev, STATUS_DELETE_PENDING)) {
            ns_evidence(e, true);
        } else if (is_status(ev, STATUS_FILE_IS_A_DIRECTORY)) {
            ns_evidence(e, true);
            ns_kind(e, KIND_DIR);
        } else if (is_status(ev, STATUS_NOT_A_DIRECTORY)) {
            ns_evidence(e, true);
            ns_kind(e, KIND_FILE);
        }
        return;
    }
    if (op->pml_op == 6) { /* QueryOpen: fast I/O on a path, no handle */
        if (ok)
            ns_evidence(e, true);
        else if (is_status(ev, STATUS_OBJECT_NAME_NOT_FOUND))
            ns_evidence(e, false);
        return;
    }
    if (!ev->has_result)
        return;
    /* Any other operation ran on an open handle: the path existed when it
     * was opened (before the capture, if the capture never opened it). */
    ns_evidence(e, true);
    if (op->major == IRP_MJ_READ && !e->changed && e->kind != KIND_DIR) {
        ns_kind(e, KIND_FILE);
        if (ok && (p->present & FLTSIM_CP_OFFSET) && p->offset >= 0) {
            bool paging = (p->present & FLTSIM_CP_IO_FLAGS) && (p->io_flags & IRP_PAGING_IO);
            uint64_t end = (uint64_t)p->offset +
                           (paging || !(p->present & FLTSIM_CP_LENGTH) ? 1 : p->length);
            if (end > e->size)
                e->size = end;
        } else if (r == STATUS_END_OF_FILE && (p->present & FLTSIM_CP_OFFSET) && p->offset >= 0 &&
                   (uint64_t)p->offset < e->size_max) {
            e->size_max = (uint64_t)p->offset;
        }
    } else if (op->major == IRP_MJ_QUERY_INFORMATION && ok && !e->changed &&
               (p->present & FLTSIM_CP_END_OF_FILE) && p->end_of_file >= 0 &&
               (op->sub == FileStandardInformation || op->sub == FileAllInformation)) {
        e->size = (uint64_t)p->end_of_file;
        e->size_exact = true;
    } else if (op->major == IRP_MJ_WRITE ||
               (op->major == IRP_MJ_SET_INFORMATION &&
                (op->sub == FileEndOfFileInformation || op->sub == FileAllocationInformation))) {
        if (op->major == IRP_MJ_WRITE)
            ns_kind(e, KIND_FILE);
        if (ok)
            e->changed = true;
    } else if (op->major == IRP_MJ_SET_INFORMATION && ok &&
               (op->sub == FileRenameInformation || op->sub == 65 /* RenameEx */) &&
               (p->present & FLTSIM_CP_FILE_NAME) && drive_path(p->file_name)) {
        struct ns_entry *target = ns_entry(ns, p->file_name);
        if (target != NULL && !(p->present & FLTSIM_CP_REPLACE && p->replace_if_exists))
            ns_evidence(target, false);
        if (target != NULL)
            target->changed = true;
    }
}

/* Creates what the namespace holds on its volumes (memfs only; a hostfs
 * volume is the host directory as it is). Parents of existing paths are
 * directories. */
static void note(struct replay *rp, const char *reason);

static NTSTATUS ns_populate(struct replay *rp)
{
    struct ns *ns = &rp->ns;
    /* Parents first: mark every ancestor of an existing path as an existing
     * directory (entries appended here are visited by the same loop). */
    for (size_t i = 0; i < ns->count; i++) {
        if (ns->entries[i].existed != NS_YES)
            continue;
        char parent[1024];
        snprintf(parent, sizeof(parent), "%s", ns->entries[i].path);
        char *slash;
        while ((slash = strrchr(parent, '\\')) != NULL && slash - parent > 2) {
            *slash = '\0';
            struct ns_entry *pe = ns_entry(ns, parent);
            if (pe == NULL)
                return STATUS_INSUFFICIENT_RESOURCES;
            pe->existed = NS_YES;
            pe->kind = KIND_DIR;
        }
    }
    for (size_t i = 0; i < ns->count; i++) {
        struct ns_entry *e = &ns->entries[i];
        if (e->existed != NS_YES || e->path[3] == '\0')
            continue;
        struct rvolume *v = fltsim__replay_volume(rp, e->path[0]);
        if (v == NULL || v->memfs == NULL)
            continue;
        WCHAR wpath[1024];
        fltsim_utf8_to_utf16(e->path + 2, wpath, sizeof(wpath) / sizeof(wpath[0]));
        NTSTATUS status;
        uint64_t size = e->size;
        if (e->kind == KIND_DIR) {
            status = fltsim_memfs_add_directory(v->memfs, wpath);
        } else {
            if (size > e->size_max)
                size = e->size_max;
            if (size > rp->max_file_size) {
                size = rp->max_file_size;
                note(rp, "namespace: a file's size capped at 64 MiB (max_file_size)");
            }
            status = fltsim_memfs_add_zero_file(v->memfs, wpath, (size_t)size);
        }
        if (status == STATUS_INSUFFICIENT_RESOURCES) {
            fltsim__replay_fail(rp, "namespace: out of memory at %s", e->path);
            return status;
        }
        if (!NT_SUCCESS(status) && status != STATUS_OBJECT_NAME_COLLISION) {
            /* E.g. a file and a directory of the same name in two rows' views. */
            char reason[128], b[48];
            snprintf(reason, sizeof(reason), "namespace: a path memfs refused (%s)",
                     fltsim_ntstatus_format(status, b, sizeof(b)));
            note(rp, reason);
            continue;
        }
        if (e->kind == KIND_DIR)
            rp->report->namespace_dirs++;
        else
            rp->report->namespace_files++;
        if (rp->import != NULL)
            fltsim__replay_import_file(rp, e->path, e->kind == KIND_DIR,
                                       e->kind == KIND_DIR ? 0 : size);
    }
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Errors, skips, progress                                                   */
/* ------------------------------------------------------------------------- */

void fltsim__replay_fail(struct replay *rp, const char *fmt, ...)
{
    if (rp->error[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rp->error, sizeof(rp->error), fmt, ap);
    va_end(ap);
}

/* A namespace remark: listed with the skip reasons, not a row. */
static void note(struct replay *rp, const char *reason)
{
    if (!count_add(&rp->skip_index, &rp->report->skips, &rp->report->skip_count, &rp->skip_cap,
                   reason, 1, 0))
        fltsim__replay_fail(rp, "out of memory");
}

/* count rows not replayed for reason. */
static void skip_rows(struct replay *rp, const char *reason, uint64_t count)
{
    rp->report->skipped += count;
    if (!count_add(&rp->skip_index, &rp->report->skips, &rp->report->skip_count, &rp->skip_cap,
                   reason, count, 0))
        fltsim__replay_fail(rp, "out of memory");
}

void fltsim__replay_skip(struct replay *rp, const char *reason)
{
    skip_rows(rp, reason, 1);
}

static void progress(struct replay *rp, int pass, bool done)
{
    if (rp->options->progress == NULL)
        return;
    /* Pass 1 reads the file; pass 2 the rows pass 1 kept. */
    uint64_t size = pass == 1 ? fltsim_capture_size(rp->cap) : rp->rows_total;
    uint64_t pos = pass == 1 ? fltsim_capture_position(rp->cap) : rp->rows_this_pass;
    unsigned pct = done ? 100 : size > 0 ? (unsigned)(pos * 100 / size) : 0;
    if (pct > 100)
        pct = 100;
    char bar[31];
    for (unsigned i = 0; i < 30; i++)
        bar[i] = i < pct * 30 / 100 ? '#' : '.';
    bar[30] = '\0';
    fprintf(rp->options->progress, "\r%s [%s] %3u%%  %llu rows%s",
            pass == 1 ? "reading namespace" : "replaying        ", bar, pct,
            (unsigned long long)rp->rows_this_pass, done ? "\n" : "");
    fflush(rp->options->progress);
}

/* ------------------------------------------------------------------------- */
/* The world: system, volumes, filters                                       */
/* ------------------------------------------------------------------------- */

struct rvolume *fltsim__replay_volume(struct replay *rp, char drive)
{
    drive = upper(drive);
    for (size_t i = 0; i < rp->volume_count; i++)
        if (rp->volumes[i].drive == drive)
            return &rp->volumes[i];
    return NULL;
}

/* Records that the capture uses drive (memfs unless mapped to hostfs). */
static bool use_drive(struct replay *rp, char drive)
{
    drive = upper(drive);
    if (fltsim__replay_volume(rp, drive) != NULL)
        return true;
    if (rp->volume_count == sizeof(rp->volumes) / sizeof(rp->volumes[0]))
        return false;
    struct rvolume *v = &rp->volumes[rp->volume_count++];
    memset(v, 0, sizeof(*v));
    v->drive = drive;
    for (size_t i = 0; i < rp->options->volume_count; i++)
        if (upper(rp->options->volumes[i].drive) == drive) {
            v->host_root = rp->options->volumes[i].host_root;
            v->read_only = rp->options->volumes[i].read_only;
        }
    return true;
}

static void trace_cb(void *ctx, const struct fltsim_event *event)
{
    struct replay *rp = ctx;
    if (rp->options->trace != NULL)
        fltsim_trace_tee_event(rp->options->trace, event);
}

static NTSTATUS create_world(struct replay *rp)
{
    char b[48];
    struct fltsim_system_options so = {.executor = rp->options->executor,
                                       .seed = rp->options->seed != 0 ? rp->options->seed : 1};
    NTSTATUS status = fltsim_system_create(&so, &rp->sys);
    if (!NT_SUCCESS(status)) {
        fltsim__replay_fail(rp, "the system cannot be created: %s",
                            fltsim_ntstatus_format(status, b, sizeof(b)));
        return status;
    }
    if (rp->options->trace != NULL)
        fltsim_system_set_trace(rp->sys, trace_cb, rp);
    for (size_t i = 0; i < rp->volume_count; i++) {
        struct rvolume *v = &rp->volumes[i];
        struct fltsim_volume_params params = {.drive_letter = (WCHAR)v->drive,
                                              .fs_type = FLT_FSTYPE_NTFS};
        params.device_name = v->device;
        if (v->host_root != NULL) {
            struct fltsim_hostfs *hfs;
            struct fltsim_hostfs_options ho = {v->read_only ? FLTSIM_HOSTFS_READ_ONLY : 0};
            status = fltsim_hostfs_create(v->host_root, &ho, &hfs);
            if (!NT_SUCCESS(status)) {
                fltsim__replay_fail(rp, "volume %c: hostfs over %s cannot be created: %s (%s)",
                                    v->drive, v->host_root,
                                    fltsim_ntstatus_format(status, b, sizeof(b)),
                                    fltsim_last_error());
                return status;
            }
            params.ops = &fltsim_hostfs_ops;
            params.fs = hfs;
        } else {
            struct fltsim_memfs_options mo = {0};
            status = fltsim_memfs_create(&mo, &v->memfs);
            if (!NT_SUCCESS(status))
                return status;
            params.ops = &fltsim_memfs_ops;
            params.fs = v->memfs;
        }
        PFLT_VOLUME volume;
        status = fltsim_volume_mount(rp->sys, &params, &volume);
        if (!NT_SUCCESS(status)) {
            params.ops->release_cb(params.fs);
            v->memfs = NULL;
            fltsim__replay_fail(rp, "volume %c: cannot be mounted: %s", v->drive,
                                fltsim_ntstatus_format(status, b, sizeof(b)));
            return status;
        }
    }
    return STATUS_SUCCESS;
}

static NTSTATUS load_filters(struct replay *rp)
{
    char b[48];
    for (size_t i = 0; i < rp->options->filter_count; i++) {
        const struct fltsim_replay_filter *f = &rp->options->filters[i];
        const char *name = f->name, *altitude = f->altitude;
        PDRIVER_INITIALIZE entry = NULL;
        char base[256];
        if (f->builtin != NULL) {
            const struct fltsim_example_filter *ex = fltsim_example_filter_find(f->builtin);
            if (ex == NULL) {
                fltsim__replay_fail(rp, "filter '%s' is not in the catalog (fltsim filters lists it)",
                                    f->builtin);
                return STATUS_UNSUCCESSFUL; /* not a capture problem */
            }
            entry = ex->entry;
            if (name == NULL) {
                fltsim_utf16_to_utf8(ex->service_name, fltsim_wcslen(ex->service_name), base,
                                     sizeof(base));
                name = base;
            }
            if (altitude == NULL) {
                static char alt[64];
                fltsim_utf16_to_utf8(ex->altitude, fltsim_wcslen(ex->altitude), alt, sizeof(alt));
                altitude = alt;
            }
        } else {
            void *so = dlopen(f->object, RTLD_NOW | RTLD_LOCAL);
            void *sym = so != NULL ? dlsym(so, "DriverEntry") : NULL;
            if (sym == NULL) {
                fltsim__replay_fail(rp, "filter %s cannot be loaded: %s", f->object,
                                    so == NULL ? dlerror() : "no DriverEntry");
                if (so != NULL)
                    dlclose(so);
                return STATUS_UNSUCCESSFUL; /* not a capture problem */
            }
            rp->objects[rp->object_count++] = so;
            memcpy(&entry, &sym, sizeof(entry));
            if (name == NULL) {
                const char *slash = strrchr(f->object, '/');
                snprintf(base, sizeof(base), "%s", slash != NULL ? slash + 1 : f->object);
                char *dot = strchr(base, '.');
                if (dot != NULL)
                    *dot = '\0';
                name = base;
            }
            if (altitude == NULL) {
                fltsim__replay_fail(rp, "filter %s: a shared object needs an altitude (%s@ALTITUDE)",
                                    f->object, f->object);
                return STATUS_UNSUCCESSFUL;
            }
        }
        WCHAR wname[256], winst[300], walt[64];
        fltsim_utf8_to_utf16(name, wname, 256);
        char inst[300];
        snprintf(inst, sizeof(inst), "%s Instance", name);
        fltsim_utf8_to_utf16(inst, winst, 300);
        fltsim_utf8_to_utf16(altitude, walt, 64);
        struct fltsim_instance_def idef = {winst, walt, 0};
        struct fltsim_filter_def def = {wname, winst, &idef, 1};
        fltsim_driver *drv;
        NTSTATUS status = fltsim_driver_load(rp->sys, &def, entry, &drv);
        if (!NT_SUCCESS(status)) {
            fltsim__replay_fail(rp, "filter '%s' did not load: %s (%s)", name,
                                fltsim_ntstatus_format(status, b, sizeof(b)), fltsim_last_error());
            return status;
        }
        if (rp->import != NULL)
            fltsim__replay_import_filter(rp, f, name, altitude);
    }
    return STATUS_SUCCESS;
}

static void device_name(WCHAR *out, size_t index)
{
    char name[48]; /* the longest index fits */
    snprintf(name, sizeof(name), "\\Device\\HarddiskVolume%zu", index);
    fltsim_utf8_to_utf16(name, out, 40);
}

/* ------------------------------------------------------------------------- */
/* Handles                                                                   */
/* ------------------------------------------------------------------------- */

static struct hlist *handles_of(struct replay *rp, uint32_t pid, const char *path, bool create)
{
    char key[1100], pk[1024];
    path_key(path, pk, sizeof(pk));
    snprintf(key, sizeof(key), "%u|%s", pid, pk);
    size_t i = smap_get(&rp->handle_index, key);
    if (i != SIZE_MAX)
        return &rp->hlists[i];
    if (!create)
        return NULL;
    if (rp->hlist_count == rp->hlist_cap) {
        size_t c = rp->hlist_cap == 0 ? 256 : rp->hlist_cap * 2;
        struct hlist *p = realloc(rp->hlists, c * sizeof(*p));
        if (p == NULL)
            return NULL;
        rp->hlists = p;
        rp->hlist_cap = c;
    }
    if (!smap_put(&rp->handle_index, key, rp->hlist_count))
        return NULL;
    rp->hlists[rp->hlist_count] = (struct hlist){0};
    return &rp->hlists[rp->hlist_count++];
}

static bool hlist_push(struct hlist *l, struct rhandle *h)
{
    if (l->count == l->cap) {
        size_t c = l->cap == 0 ? 2 : l->cap * 2;
        struct rhandle **p = realloc(l->items, c * sizeof(*p));
        if (p == NULL)
            return false;
        l->items = p;
        l->cap = c;
    }
    l->items[l->count++] = h;
    return true;
}

static void hlist_remove(struct hlist *l, struct rhandle *h)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i] == h) {
            memmove(&l->items[i], &l->items[i + 1], (l->count - i - 1) * sizeof(l->items[0]));
            l->count--;
            return;
        }
}

/* ------------------------------------------------------------------------- */
/* Issuing calls                                                             */
/* ------------------------------------------------------------------------- */

static ULONG to_wide(const char *s, WCHAR *out, size_t count)
{
    return (ULONG)fltsim_utf8_to_utf16(s, out, count);
}

/* Waits for an overlapped read or write. */
static NTSTATUS wait_async(struct fltsim_io_async *a, KEVENT *event, NTSTATUS status)
{
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(event, Executive, KernelMode, FALSE, NULL);
        status = a->iosb.Status;
    }
    return status;
}

static NTSTATUS issue(struct replay *rp, struct rcall *c)
{
    fltsim_system *sys = rp->sys;
    IO_STATUS_BLOCK iosb = {0};
    HANDLE h = c->handle != NULL ? c->handle->h : NULL;
    WCHAR wide[1024];
    fltsim_thread_set_identity(c->pid, c->tid);
    switch (c->kind) {
    case RC_CREATE: {
        to_wide(c->path, wide, 1024);
        struct fltsim_create_params p = {.path = wide,
                                         .desired_access = c->access,
                                         .file_attributes = c->attributes,
                                         .share_access = c->share,
                                         .disposition = c->disposition,
                                         .create_options = c->options,
                                         .allocation_size = c->allocation,
                                         .flags = c->io_flags};
        return fltsim_io_create(sys, &p, &c->handle->h, &iosb);
    }
    case RC_READ:
    case RC_WRITE: {
        if (!fltsim__replay_buf_reserve(&rp->io, c->length) ||
            !fltsim__replay_buf_reserve(&rp->zeros, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        if (c->handle->asynchronous) {
            KEVENT event;
            KeInitializeEvent(&event, NotificationEvent, FALSE);
            struct fltsim_io_async a = {.event = &event};
            NTSTATUS s = c->kind == RC_READ
                             ? fltsim_io_read_async(sys, h, rp->io.data, c->length, c->offset,
                                                    c->io_flags, &a)
                             : fltsim_io_write_async(sys, h, rp->zeros.data, c->length, c->offset,
                                                     c->io_flags, &a);
            return wait_async(&a, &event, s);
        }
        return c->kind == RC_READ ? fltsim_io_read(sys, h, rp->io.data, c->length, &c->offset,
                                                   c->io_flags, &iosb)
                                  : fltsim_io_write(sys, h, rp->zeros.data, c->length, &c->offset,
                                                    c->io_flags, &iosb);
    }
    case RC_QUERY_INFO:
        if (!fltsim__replay_buf_reserve(&rp->io, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        return fltsim_io_query_information(sys, h, rp->io.data, c->length,
                                           (FILE_INFORMATION_CLASS)c->info_class, c->io_flags,
                                           &iosb);
    case RC_SET_INFO: {
        union {
            FILE_END_OF_FILE_INFORMATION eof;
            FILE_ALLOCATION_INFORMATION alloc;
            FILE_POSITION_INFORMATION pos;
            FILE_BASIC_INFORMATION basic;
        } u;
        memset(&u, 0, sizeof(u));
        ULONG len = 0;
        switch (c->info_class) {
        case FileEndOfFileInformation:
            u.eof.EndOfFile.QuadPart = c->value;
            len = sizeof(u.eof);
            break;
        case FileAllocationInformation:
            u.alloc.AllocationSize.QuadPart = c->value;
            len = sizeof(u.alloc);
            break;
        case FilePositionInformation:
            u.pos.CurrentByteOffset.QuadPart = c->value;
            len = sizeof(u.pos);
            break;
        default: /* FileBasicInformation: times unchanged */
            u.basic.FileAttributes = c->attributes;
            len = sizeof(u.basic);
            break;
        }
        return fltsim_io_set_information(sys, h, &u, len, (FILE_INFORMATION_CLASS)c->info_class,
                                         &iosb);
    }
    case RC_RENAME:
        to_wide(c->new_name, wide, 1024);
        return fltsim_io_rename(sys, h, wide, c->replace, &iosb);
    case RC_DELETE:
        return fltsim_io_delete(sys, h, c->delete_file);
    case RC_QUERY_DIR: {
        if (!fltsim__replay_buf_reserve(&rp->io, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        WCHAR *pattern = NULL;
        if (c->pattern != NULL) {
            to_wide(c->pattern, wide, 1024);
            pattern = wide;
        }
        UCHAR flags = (UCHAR)((c->restart ? SL_RESTART_SCAN : 0) |
                              (c->single ? SL_RETURN_SINGLE_ENTRY : 0));
        return fltsim_io_query_directory(sys, h, rp->io.data, c->length,
                                         (FILE_INFORMATION_CLASS)c->info_class, pattern, flags,
                                         &iosb);
    }
    case RC_FLUSH:
        return fltsim_io_flush(sys, h, &iosb);
    case RC_ACQUIRE_SECTION:
        return fltsim_io_acquire_for_section_sync(sys, h, (FS_FILTER_SECTION_SYNC_TYPE)c->sync_type,
                                                  c->protection);
    case RC_RELEASE_SECTION:
        return fltsim_io_release_for_section_sync(sys, h);
    case RC_CLOSE:
        return fltsim_io_close(sys, h);
    case RC_QUERY_OPEN:
        if (!fltsim__replay_buf_reserve(&rp->io, sizeof(FILE_NETWORK_OPEN_INFORMATION)))
            return STATUS_INSUFFICIENT_RESOURCES;
        to_wide(c->path, wide, 1024);
        return fltsim_io_query_open(sys, wide, (FILE_INFORMATION_CLASS)c->info_class,
                                    rp->io.data, c->length, &iosb);
    case RC_QUERY_VOLUME:
        if (!fltsim__replay_buf_reserve(&rp->io, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        return fltsim_io_query_volume_information(sys, h, rp->io.data, c->length,
                                                  (FS_INFORMATION_CLASS)c->info_class, &iosb);
    case RC_LOCK:
        return fltsim_io_lock(sys, h, c->offset, c->value, 0, c->fail_immediately, c->exclusive,
                              c->io_flags, &iosb);
    case RC_UNLOCK:
        return fltsim_io_unlock(sys, h, c->minor, c->offset, c->value, 0, c->io_flags, &iosb);
    case RC_FS_CONTROL:
    case RC_DEVICE_CONTROL:
        if (!fltsim__replay_buf_reserve(&rp->io, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        if (c->kind == RC_FS_CONTROL)
            return fltsim_io_fs_control(sys, h, c->code, NULL, 0, rp->io.data, c->length, &iosb);
        return fltsim_io_device_control(sys, h, c->code, NULL, 0, rp->io.data, c->length,
                                        c->io_flags, &iosb);
    case RC_QUERY_EA:
        if (!fltsim__replay_buf_reserve(&rp->io, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        return fltsim_io_query_ea(sys, h, rp->io.data, c->length, c->restart, &iosb);
    case RC_QUERY_SECURITY:
        if (!fltsim__replay_buf_reserve(&rp->io, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        return fltsim_io_query_security(sys, h, c->security_information, rp->io.data, c->length,
                                        &iosb);
    case RC_ACQUIRE_MOD_WRITE:
        return fltsim_io_acquire_for_mod_write(sys, h, c->value);
    case RC_RELEASE_MOD_WRITE:
        return fltsim_io_release_for_mod_write(sys, h);
    case RC_ACQUIRE_CC_FLUSH:
        return fltsim_io_acquire_for_cc_flush(sys, h);
    case RC_RELEASE_CC_FLUSH:
        return fltsim_io_release_for_cc_flush(sys, h);
    }
    return STATUS_NOT_IMPLEMENTED;
}

/* Issues a call (and writes it as a step when importing). */
static NTSTATUS perform(struct replay *rp, struct rcall *c)
{
    if (c->event != NULL)
        fltsim__replay_observe(c->event->op->major);
    c->status = issue(rp, c);
    if (c->event == NULL || !fltsim__replay_observed(&c->seen))
        c->seen = c->status;
    if (rp->import != NULL)
        fltsim__replay_import_call(rp, c);
    return c->seen;
}

/* What an implied open asks for: enough for the row's operation. Paging I/O
 * is checked against no access (the section's file object does it), so a
 * paging write does not make the file look open for writing (which would
 * change what AcquireForSectionSynchronization answers). */
static ACCESS_MASK implied_access(const struct fltsim_capture_event *ev)
{
    const struct fltsim_capture_params *p = &ev->params;
    bool paging = (p->present & FLTSIM_CP_IO_FLAGS) && (p->io_flags & IRP_PAGING_IO);
    ACCESS_MASK a = FILE_READ_ATTRIBUTES | SYNCHRONIZE;
    switch (ev->op->major) {
    case IRP_MJ_READ:
        if (!paging)
            a |= FILE_READ_DATA;
        break;
    case IRP_MJ_WRITE:
        if (!paging)
            a |= FILE_WRITE_DATA | FILE_APPEND_DATA;
        break;
    case IRP_MJ_FLUSH_BUFFERS:
        a |= FILE_WRITE_DATA | FILE_APPEND_DATA;
        break;
    case IRP_MJ_SET_INFORMATION:
        a |= FILE_WRITE_ATTRIBUTES | FILE_WRITE_DATA | DELETE;
        break;
    case IRP_MJ_DIRECTORY_CONTROL:
        a |= FILE_LIST_DIRECTORY;
        break;
    case IRP_MJ_QUERY_EA:
        a |= FILE_READ_EA;
        break;
    case IRP_MJ_LOCK_CONTROL:
        a |= FILE_READ_DATA;
        break;
    case IRP_MJ_FILE_SYSTEM_CONTROL:
    case IRP_MJ_DEVICE_CONTROL:
        /* The access the control code names (CTL_CODE bits 14-15). */
        if (p->present & FLTSIM_CP_CONTROL) {
            if ((p->control_code >> 14) & 1)
                a |= FILE_READ_DATA;
            if ((p->control_code >> 14) & 2)
                a |= FILE_WRITE_DATA;
        }
        break;
    case IRP_MJ_QUERY_SECURITY:
        a |= READ_CONTROL | ACCESS_SYSTEM_SECURITY;
        break;
    default:
        break;
    }
    return a;
}

/* The handle a row on (pid, path) runs on: the most recent one the capture
 * opened, else an implied open (kernel mode, sharing everything) that stays
 * until a CloseFile row or the end. NULL with *status set when the implied
 * open fails. */
static struct rhandle *handle_for(struct replay *rp, const struct fltsim_capture_event *ev,
                                  const char *path, NTSTATUS *status)
{
    struct hlist *l = handles_of(rp, ev->pid, path, true);
    if (l == NULL) {
        *status = STATUS_INSUFFICIENT_RESOURCES;
        return NULL;
    }
    ACCESS_MASK need = implied_access(ev);
    for (size_t i = l->count; i > 0; i--) {
        struct rhandle *h = l->items[i - 1];
        if (!h->implied || (h->access & need) == need)
            return h;
    }
    struct rhandle *h = calloc(1, sizeof(*h));
    if (h == NULL || !hlist_push(l, h)) {
        free(h);
        *status = STATUS_INSUFFICIENT_RESOURCES;
        return NULL;
    }
    h->pid = ev->pid;
    h->tid = ev->tid;
    h->id = ++rp->next_handle_id;
    h->implied = true;
    h->access = need;
    struct rcall c = {.kind = RC_CREATE,
                      .pid = ev->pid,
                      .tid = ev->tid,
                      .handle = h,
                      .path = path,
                      .implied = true,
                      .access = need,
                      .share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                      .disposition = FILE_OPEN,
                      .options = FILE_SYNCHRONOUS_IO_NONALERT,
                      .io_flags = FLTSIM_IO_KERNEL_MODE};
    rp->report->implied_opens++;
    *status = perform(rp, &c);
    if (!NT_SUCCESS(*status)) {
        hlist_remove(l, h);
        free(h);
        return NULL;
    }
    return h;
}

/* Closes h (a CloseFile row ev, or an implied close when ev is NULL), forgets
 * it, and returns the status the call is judged by. */
static NTSTATUS close_handle(struct replay *rp, struct rhandle *h,
                             const struct fltsim_capture_event *ev, uint32_t tid,
                             const char *path)
{
    struct rcall c = {.kind = RC_CLOSE,
                      .pid = h->pid,
                      .tid = tid,
                      .handle = h,
                      .implied = ev == NULL,
                      .event = ev};
    NTSTATUS status = perform(rp, &c);
    struct hlist *l = handles_of(rp, h->pid, path, false);
    if (l != NULL)
        hlist_remove(l, h);
    free(h);
    return status;
}

/* ------------------------------------------------------------------------- */
/* Rows                                                                      */
/* ------------------------------------------------------------------------- */

static void record_result(struct replay *rp, const struct fltsim_capture_event *ev,
                          NTSTATUS simulated)
{
    struct fltsim_replay_report *r = rp->report;
    bool match = simulated == ev->result;
    r->replayed++;
    if (match)
        r->matched++;
    if (!count_add(&rp->op_index, &r->operations, &r->operation_count, &rp->op_cap, ev->operation,
                   1, match)) {
        fltsim__replay_fail(rp, "out of memory");
        return;
    }
    if (match)
        return;
    char key[256];
    snprintf(key, sizeof(key), "%s|%08X|%08X", ev->operation, (unsigned)ev->result,
             (unsigned)simulated);
    size_t i = smap_get(&rp->div_index, key);
    if (i == SIZE_MAX) {
        if (r->divergence_count == rp->div_cap) {
            size_t c = rp->div_cap == 0 ? 16 : rp->div_cap * 2;
            struct fltsim_replay_divergence *p = realloc(r->divergences, c * sizeof(*p));
            if (p == NULL) {
                fltsim__replay_fail(rp, "out of memory");
                return;
            }
            r->divergences = p;
            rp->div_cap = c;
        }
        struct fltsim_replay_divergence *d = &r->divergences[r->divergence_count];
        memset(d, 0, sizeof(*d));
        d->operation = strdup(ev->operation);
        d->recorded = ev->result;
        d->simulated = simulated;
        d->examples = calloc(rp->options->max_examples != 0 ? rp->options->max_examples : 3,
                             sizeof(*d->examples));
        if (d->operation == NULL || d->examples == NULL ||
            !smap_put(&rp->div_index, key, r->divergence_count)) {
            free(d->operation);
            free(d->examples);
            fltsim__replay_fail(rp, "out of memory");
            return;
        }
        i = r->divergence_count++;
    }
    struct fltsim_replay_divergence *d = &r->divergences[i];
    d->count++;
    size_t max = rp->options->max_examples != 0 ? rp->options->max_examples : 3;
    if (d->example_count < max) {
        struct fltsim_replay_example *x = &d->examples[d->example_count];
        x->index = ev->index;
        x->line = ev->line;
        x->path = strdup(ev->path);
        if (x->path != NULL)
            d->example_count++;
    }
}

static const char *class_name(enum fltsim_capture_class c)
{
    switch (c) {
    case FLTSIM_CAPTURE_CLASS_PROCESS:
        return "not a file-system event: Process";
    case FLTSIM_CAPTURE_CLASS_REGISTRY:
        return "not a file-system event: Registry";
    case FLTSIM_CAPTURE_CLASS_PROFILING:
        return "not a file-system event: Profiling";
    case FLTSIM_CAPTURE_CLASS_NETWORK:
        return "not a file-system event: Network";
    default:
        return "not a file-system event: unknown class";
    }
}

/* Why a mapped file-system operation is not replayed, or NULL. */
static const char *not_replayable(const struct fltsim_capture_event *ev)
{
    const struct fltsim_capture_op *op = ev->op;
    switch (op->major) {
    case IRP_MJ_CREATE:
    case IRP_MJ_CLEANUP:
    case IRP_MJ_FLUSH_BUFFERS:
    case IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION:
    case IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION:
        return NULL;
    case IRP_MJ_READ:
    case IRP_MJ_WRITE:
    case IRP_MJ_LOCK_CONTROL:
    case IRP_MJ_FILE_SYSTEM_CONTROL:
    case IRP_MJ_DEVICE_CONTROL:
    case IRP_MJ_QUERY_EA:
    case IRP_MJ_QUERY_SECURITY:
    case IRP_MJ_QUERY_VOLUME_INFORMATION:
    case IRP_MJ_NETWORK_QUERY_OPEN:
    case IRP_MJ_ACQUIRE_FOR_MOD_WRITE:
    case IRP_MJ_RELEASE_FOR_MOD_WRITE:
    case IRP_MJ_ACQUIRE_FOR_CC_FLUSH:
    case IRP_MJ_RELEASE_FOR_CC_FLUSH:
        if (op->major == IRP_MJ_FILE_SYSTEM_CONTROL && !(ev->params.present & FLTSIM_CP_CONTROL))
            return "not replayable: a control without its code";
        if (op->major == IRP_MJ_DEVICE_CONTROL && !(ev->params.present & FLTSIM_CP_CONTROL))
            return "not replayable: a control without its code";
        if (op->major == IRP_MJ_LOCK_CONTROL && op->sub == IRP_MN_UNLOCK_ALL_BY_KEY)
            return "not replayable: unlock by key (the key is not recorded)";
        return NULL;
    case IRP_MJ_QUERY_INFORMATION:
        if (fltsim__file_info_size((FILE_INFORMATION_CLASS)op->sub) == 0)
            return "not replayable: an information class fltsim does not model";
        return NULL;
    case IRP_MJ_SET_INFORMATION:
        switch (op->sub) {
        case FileEndOfFileInformation:
        case FileAllocationInformation:
        case FilePositionInformation:
        case FileDispositionInformation:
        case FileBasicInformation:
        case FileRenameInformation:
            return NULL;
        default:
            return "not replayable: a set-information class fltsim does not model";
        }
    case IRP_MJ_DIRECTORY_CONTROL:
        if (op->sub == IRP_MN_NOTIFY_CHANGE_DIRECTORY)
            return "not replayable: change notification is not modeled";
        return NULL;
    case IRP_MJ_CLOSE:
        return "IRP_MJ_CLOSE: issued with the handle's close (CloseFile row)";
    default:
        return "not replayable yet: an operation fltsim's I/O API does not issue";
    }
}

static ULONG io_flags_of(const struct fltsim_capture_params *p)
{
    ULONG f = 0;
    if (!(p->present & FLTSIM_CP_IO_FLAGS))
        return 0;
    if (p->io_flags & IRP_PAGING_IO) {
        f |= FLTSIM_IO_PAGING;
        if (p->io_flags & IRP_SYNCHRONOUS_PAGING_IO)
            f |= FLTSIM_IO_SYNC_PAGING;
    } else if (p->io_flags & IRP_NOCACHE) {
        f |= FLTSIM_IO_NONCACHED;
    }
    return f;
}

/* The buffer a query row is given: the recorded length (PML), else the
 * fixed part of the record when the real one overflowed (the application's
 * buffer was too small for the name), else a page. */
static ULONG query_length(const struct fltsim_capture_event *ev, ULONG info_class)
{
    if (ev->params.present & FLTSIM_CP_LENGTH)
        return ev->params.length;
    if (is_status(ev, STATUS_BUFFER_OVERFLOW)) {
        /* The record with room for one character of its name. */
        ULONG size = fltsim__file_info_size((FILE_INFORMATION_CLASS)info_class);
        if (size != 0)
            return size;
    }
    return 4096;
}

static void replay_create(struct replay *rp, const struct fltsim_capture_event *ev)
{
    const struct fltsim_capture_params *p = &ev->params;
    struct rhandle *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        fltsim__replay_fail(rp, "out of memory");
        return;
    }
    h->pid = ev->pid;
    h->tid = ev->tid;
    h->id = ++rp->next_handle_id;
    struct rcall c = {
        .kind = RC_CREATE,
        .pid = ev->pid,
        .tid = ev->tid,
        .handle = h,
        .path = ev->path,
        .access = (p->present & FLTSIM_CP_ACCESS) ? p->desired_access : FILE_GENERIC_READ,
        .share = (p->present & FLTSIM_CP_SHARE) ? p->share_access
                                                 : FILE_SHARE_READ | FILE_SHARE_WRITE,
        .disposition = (p->present & FLTSIM_CP_DISPOSITION) ? p->disposition : FILE_OPEN,
        .options = (p->present & FLTSIM_CP_OPTIONS) ? p->create_options
                                                     : FILE_SYNCHRONOUS_IO_NONALERT,
        .attributes = (p->present & FLTSIM_CP_ATTRIBUTES) ? p->file_attributes : 0,
        .allocation = (p->present & FLTSIM_CP_ALLOCATION) ? p->allocation_size : 0,
        .event = ev};
    h->access = c.access;
    h->asynchronous = !(c.options & (FILE_SYNCHRONOUS_IO_ALERT | FILE_SYNCHRONOUS_IO_NONALERT));
    record_result(rp, ev, perform(rp, &c));
    if (!NT_SUCCESS(c.status)) {
        free(h);
        return;
    }
    if (!NT_SUCCESS(ev->result)) {
        /* The application never got this handle: give it back at once. */
        close_handle(rp, h, NULL, ev->tid, ev->path);
        return;
    }
    struct hlist *l = handles_of(rp, ev->pid, ev->path, true);
    if (l == NULL || !hlist_push(l, h)) {
        fltsim__replay_fail(rp, "out of memory");
        free(h);
    }
}

static void replay_row(struct replay *rp, const struct rrow *row)
{
    const struct fltsim_capture_event *ev = &row->ev;
    const struct fltsim_capture_op *op = ev->op;
    const struct fltsim_capture_params *p = &ev->params;
    if (op->major == IRP_MJ_CREATE) {
        replay_create(rp, ev);
        return;
    }
    char dir[1024];
    const char *path = ev->path;
    if (op->major == IRP_MJ_DIRECTORY_CONTROL) {
        directory_of_query(ev, dir, sizeof(dir));
        path = dir;
    }
    if (op->major == IRP_MJ_NETWORK_QUERY_OPEN) {
        struct rcall q = {.kind = RC_QUERY_OPEN,
                          .pid = ev->pid,
                          .tid = ev->tid,
                          .path = ev->path,
                          .info_class = FileNetworkOpenInformation,
                          .length = sizeof(FILE_NETWORK_OPEN_INFORMATION),
                          .event = ev};
        record_result(rp, ev, perform(rp, &q));
        return;
    }
    NTSTATUS s;
    struct rhandle *h = handle_for(rp, ev, path, &s);
    if (op->major == IRP_MJ_CLEANUP) {
        /* The most recent handle (a cleanup needs no access beyond what
         * every handle has), or an implied open's. */
        record_result(rp, ev, h != NULL ? close_handle(rp, h, ev, ev->tid, path) : s);
        return;
    }
    if (h != NULL && op->major == IRP_MJ_DIRECTORY_CONTROL && h->implied && h->dir_queries > 0 &&
        ((p->present & FLTSIM_CP_FILE_NAME) || h->exhausted || h->exact || row->lists_dot_first)) {
        /* A query naming a filter, one after the enumeration ended or after
         * a one-name lookup, or one listing "." first, starts an
         * enumeration: FindFirstFile opens the directory anew. The
         * capture never opened it, so neither the previous enumeration's
         * handle nor this one is in it. */
        close_handle(rp, h, NULL, ev->tid, path);
        h = handle_for(rp, ev, path, &s);
    }
    if (h == NULL) {
        record_result(rp, ev, s); /* the implied open's failure is the row's */
        return;
    }
    struct rcall c = {.pid = ev->pid, .tid = ev->tid, .handle = h, .event = ev};
    switch (op->major) {
    case IRP_MJ_READ:
    case IRP_MJ_WRITE:
        c.kind = op->major == IRP_MJ_READ ? RC_READ : RC_WRITE;
        c.offset = (p->present & FLTSIM_CP_OFFSET) ? p->offset : 0;
        c.length = (p->present & FLTSIM_CP_LENGTH) ? p->length : 0;
        if (c.length > 64u * 1024 * 1024)
            c.length = 64u * 1024 * 1024;
        c.io_flags = io_flags_of(p);
        break;
    case IRP_MJ_QUERY_INFORMATION:
        c.kind = RC_QUERY_INFO;
        c.info_class = (ULONG)op->sub;
        c.length = query_length(ev, c.info_class);
        break;
    case IRP_MJ_SET_INFORMATION:
        c.info_class = (ULONG)op->sub;
        if (op->sub == FileRenameInformation) {
            if (!(p->present & FLTSIM_CP_FILE_NAME)) {
                fltsim__replay_skip(rp, "not replayable: a rename without its target name");
                return;
            }
            c.kind = RC_RENAME;
            c.new_name = p->file_name;
            c.replace = (p->present & FLTSIM_CP_REPLACE) && p->replace_if_exists;
        } else if (op->sub == FileDispositionInformation) {
            c.kind = RC_DELETE;
            c.delete_file = !(p->present & FLTSIM_CP_DELETE) || p->delete_file;
        } else {
            c.kind = RC_SET_INFO;
            c.value = (p->present & FLTSIM_CP_END_OF_FILE) ? p->end_of_file : 0;
            c.attributes = (p->present & FLTSIM_CP_ATTRIBUTES) ? p->file_attributes : 0;
        }
        break;
    case IRP_MJ_DIRECTORY_CONTROL:
        c.kind = RC_QUERY_DIR;
        c.info_class = (p->present & FLTSIM_CP_INFO_CLASS) ? p->info_class
                                                           : FileBothDirectoryInformation;
        c.length = (p->present & FLTSIM_CP_LENGTH) ? p->length : 65536;
        c.restart = h->dir_queries == 0;
        if (h->dir_queries == 0 && (p->present & FLTSIM_CP_FILE_NAME))
            c.pattern = p->file_name;
        h->exact = c.pattern != NULL && !has_wildcard(c.pattern);
        /* FindFirstFile asks for one entry: a first query whose Detail lists
         * exactly one name. */
        c.single = h->dir_queries == 0 && row->lists_one;
        h->dir_queries++;
        break;
    case IRP_MJ_FLUSH_BUFFERS:
        c.kind = RC_FLUSH;
        break;
    case IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION:
        c.kind = RC_ACQUIRE_SECTION;
        c.sync_type = (p->present & FLTSIM_CP_SYNC_TYPE) ? p->sync_type : SyncTypeOther;
        c.protection = (p->present & FLTSIM_CP_SYNC_TYPE) && p->page_protection != 0
                           ? p->page_protection
                           : PAGE_READONLY;
        break;
    case IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION:
        c.kind = RC_RELEASE_SECTION;
        break;
    case IRP_MJ_QUERY_VOLUME_INFORMATION:
        c.kind = RC_QUERY_VOLUME;
        c.info_class = (ULONG)op->sub;
        c.length = (p->present & FLTSIM_CP_LENGTH) ? p->length : 4096;
        break;
    case IRP_MJ_LOCK_CONTROL:
        c.offset = (p->present & FLTSIM_CP_OFFSET) ? p->offset : 0;
        c.value = (p->present & FLTSIM_CP_LENGTH) ? (LONGLONG)p->length : 0;
        if (op->sub == IRP_MN_LOCK) {
            c.kind = RC_LOCK;
            c.exclusive = (p->present & FLTSIM_CP_LOCK) && p->exclusive;
            c.fail_immediately = !(p->present & FLTSIM_CP_LOCK) || p->fail_immediately;
        } else {
            c.kind = RC_UNLOCK;
            c.minor = (UCHAR)op->sub;
        }
        break;
    case IRP_MJ_FILE_SYSTEM_CONTROL:
    case IRP_MJ_DEVICE_CONTROL:
        c.kind = op->major == IRP_MJ_FILE_SYSTEM_CONTROL ? RC_FS_CONTROL : RC_DEVICE_CONTROL;
        c.code = p->control_code;
        c.length = (p->present & FLTSIM_CP_LENGTH) ? p->length : 4096;
        break;
    case IRP_MJ_QUERY_EA:
        c.kind = RC_QUERY_EA;
        c.length = (p->present & FLTSIM_CP_LENGTH) ? p->length : 4096;
        c.restart = true;
        break;
    case IRP_MJ_QUERY_SECURITY:
        c.kind = RC_QUERY_SECURITY;
        c.security_information = (p->present & FLTSIM_CP_SECURITY_INFO)
                                     ? p->security_information
                                     : OWNER_SECURITY_INFORMATION |
                                           GROUP_SECURITY_INFORMATION |
                                           DACL_SECURITY_INFORMATION;
        /* The recorded length (PML); else a buffer too small when the real
         * one was (BUFFER OVERFLOW), a page otherwise. */
        c.length = (p->present & FLTSIM_CP_LENGTH) ? p->length
                   : is_status(ev, STATUS_BUFFER_OVERFLOW) ? 0
                                                          : 4096;
        break;
    case IRP_MJ_ACQUIRE_FOR_MOD_WRITE:
        c.kind = RC_ACQUIRE_MOD_WRITE;
        c.value = (p->present & FLTSIM_CP_ENDING_OFFSET) ? p->ending_offset : 0;
        break;
    case IRP_MJ_RELEASE_FOR_MOD_WRITE:
        c.kind = RC_RELEASE_MOD_WRITE;
        break;
    case IRP_MJ_ACQUIRE_FOR_CC_FLUSH:
        c.kind = RC_ACQUIRE_CC_FLUSH;
        break;
    case IRP_MJ_RELEASE_FOR_CC_FLUSH:
        c.kind = RC_RELEASE_CC_FLUSH;
        break;
    default:
        fltsim__replay_skip(rp, "not replayable yet: an operation fltsim's I/O API does not issue");
        return;
    }
    /* A refused fast I/O attempt: the fast path alone (its IRP retry is the
     * capture's next row). */
    if (is_status(ev, STATUS_FLT_DISALLOW_FAST_IO) &&
        (c.kind == RC_READ || c.kind == RC_WRITE || c.kind == RC_QUERY_INFO ||
         c.kind == RC_LOCK || c.kind == RC_UNLOCK || c.kind == RC_DEVICE_CONTROL))
        c.io_flags |= FLTSIM_IO_FAST_ONLY;
    NTSTATUS seen = perform(rp, &c);
    if (c.kind == RC_QUERY_DIR &&
        (c.status == STATUS_NO_MORE_FILES || c.status == STATUS_NO_SUCH_FILE))
        h->exhausted = true;
    record_result(rp, ev, seen);
}

/* Why the second pass does not replay an event (the reason it is counted
 * under), or NULL: it is replayed. */
static const char *skip_reason(const struct fltsim_capture_event *ev)
{
    if (ev->event_class != FLTSIM_CAPTURE_CLASS_FILE_SYSTEM)
        return class_name(ev->event_class);
    if (ev->op == NULL)
        return strcmp(ev->operation, "<Unknown>") == 0
                   ? "operation ProcMon could not name (<Unknown>)"
                   : "unknown operation name";
    if (!ev->has_result)
        return "no result: still pending when the capture stopped";
    if (!drive_path(ev->path))
        return "not on a drive letter (pipe, mailslot, network or device path)";
    if (strchr(ev->path + 2, ':') != NULL)
        return "not replayable: a named stream (file:stream) is not modeled";
    const char *why = not_replayable(ev);
    if (why != NULL)
        return why;
    if (ev->path[2] == '\0' &&
        (ev->op->major == IRP_MJ_READ || ev->op->major == IRP_MJ_WRITE ||
         ev->op->path == FLTSIM_CAPTURE_FS_FILTER)) {
        /* ProcMon shows I/O on NTFS's metadata files ($Mft, $LogFile ...) as
         * the volume "C:"; memfs has no metadata files. */
        return "not replayable: I/O on NTFS metadata (shown as the volume)";
    }
    return NULL;
}

/* Pass 1 keeps what pass 2 needs of an event: the row to replay, or the
 * reason it is skipped. The Detail of a directory query is reduced to the
 * two facts replay_row asks of it. False when out of memory. */
static bool keep_event(struct replay *rp, const struct fltsim_capture_event *ev)
{
    const char *why = skip_reason(ev);
    if (why != NULL)
        return fltsim__replay_rows_skip(&rp->rows, why,
                                        ev->event_class == FLTSIM_CAPTURE_CLASS_FILE_SYSTEM);
    bool lists_one = false, lists_dot_first = false;
    if (ev->op->major == IRP_MJ_DIRECTORY_CONTROL && ev->detail != NULL) {
        lists_one = listed_count(ev->detail) == 1;
        lists_dot_first = strncmp(ev->detail, "0: ., ", 6) == 0;
    }
    return fltsim__replay_rows_keep(&rp->rows, ev, lists_one, lists_dot_first);
}

/* ------------------------------------------------------------------------- */
/* The run                                                                   */
/* ------------------------------------------------------------------------- */

static bool open_capture(struct replay *rp)
{
    rp->cap = fltsim_capture_open(rp->capture_path, rp->options->format, rp->error,
                                  sizeof(rp->error));
    rp->rows_this_pass = 0;
    return rp->cap != NULL;
}

static int by_count(const void *a, const void *b)
{
    const struct fltsim_replay_count *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->name, y->name);
}

static int by_divergence(const void *a, const void *b)
{
    const struct fltsim_replay_divergence *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->operation, y->operation);
}

static void close_everything(struct replay *rp)
{
    for (size_t i = 0; i < rp->hlist_count; i++) {
        struct hlist *l = &rp->hlists[i];
        while (l->count > 0) {
            struct rhandle *h = l->items[l->count - 1];
            struct rcall c = {.kind = RC_CLOSE, .pid = h->pid, .tid = h->tid, .handle = h,
                              .implied = true};
            if (rp->sys != NULL)
                perform(rp, &c);
            l->count--;
            free(h);
        }
        free(l->items);
    }
    free(rp->hlists);
    rp->hlists = NULL;
    rp->hlist_count = rp->hlist_cap = 0;
}

NTSTATUS fltsim_replay_run(const char *path, const struct fltsim_replay_options *options,
                           struct fltsim_replay_report *report, char *error, size_t error_size)
{
    static const struct fltsim_replay_options defaults = {0};
    struct replay *rp = calloc(1, sizeof(*rp));
    memset(report, 0, sizeof(*report));
    if (rp == NULL) {
        snprintf(error, error_size, "out of memory");
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    rp->options = options != NULL ? options : &defaults;
    rp->report = report;
    rp->capture_path = path;
    rp->import = rp->options->import;
    rp->max_file_size =
        rp->options->max_file_size != 0 ? rp->options->max_file_size : 64ull * 1024 * 1024;
    NTSTATUS status = STATUS_SUCCESS;
    ULONG caller_process = fltsim_thread_process_id(), caller_thread = fltsim_thread_id();

    /* Pass 1: the namespace, and the drives the capture uses. */
    const struct fltsim_capture_event *ev;
    int r;
    if (!open_capture(rp)) {
        status = STATUS_OBJECT_NAME_NOT_FOUND;
        goto out;
    }
    while ((r = fltsim_capture_next(rp->cap, &ev)) == 1) {
        rp->rows_this_pass++;
        if ((rp->rows_this_pass & 4095) == 0)
            progress(rp, 1, false);
        if (ev->event_class == FLTSIM_CAPTURE_CLASS_FILE_SYSTEM && drive_path(ev->path) &&
            !use_drive(rp, ev->path[0])) {
            fltsim__replay_fail(rp, "too many drives");
            break;
        }
        learn(&rp->ns, ev);
        if (!keep_event(rp, ev)) {
            fltsim__replay_fail(rp, "out of memory keeping row %llu for the second pass",
                                (unsigned long long)ev->index);
            break;
        }
    }
    progress(rp, 1, true);
    rp->rows_total = rp->rows_this_pass;
    fltsim__replay_rows_seal(&rp->rows);
    if (r < 0)
        fltsim__replay_fail(rp, "%s", fltsim_capture_error(rp->cap));
    fltsim_capture_close(rp->cap);
    rp->cap = NULL;
    if (rp->error[0] != '\0') {
        status = STATUS_INVALID_PARAMETER;
        goto out;
    }
    for (size_t i = 0; i < rp->options->volume_count; i++)
        use_drive(rp, rp->options->volumes[i].drive);
    if (rp->volume_count == 0)
        use_drive(rp, 'C');
    for (size_t i = 0; i < rp->volume_count; i++)
        device_name(rp->volumes[i].device, i + 1);

    if (rp->import != NULL)
        fltsim__replay_import_begin(rp);
    status = create_world(rp);
    if (NT_SUCCESS(status))
        status = ns_populate(rp);
    if (NT_SUCCESS(status)) {
        status = fltsim__replay_observer_load(rp->sys);
        if (!NT_SUCCESS(status))
            fltsim__replay_fail(rp, "the observer at altitude 385200 did not load: %s",
                                fltsim_last_error());
    }
    if (NT_SUCCESS(status))
        status = load_filters(rp);
    if (!NT_SUCCESS(status))
        goto out;

    /* Pass 2: the rows, as pass 1 kept them (the capture is not read again). */
    rp->rows_this_pass = 0;
    size_t pos = 0;
    struct rrow row;
    const char *reason;
    bool fs;
    uint32_t count;
    while (rp->error[0] == '\0' &&
           (r = fltsim__replay_rows_next(&rp->rows, &pos, &row, &reason, &fs, &count)) != 0) {
        uint64_t n = r == 1 ? 1 : count;
        if (((rp->rows_this_pass + n) >> 10) != (rp->rows_this_pass >> 10))
            progress(rp, 2, false);
        if (r == 1) {
            rp->rows_this_pass++;
            report->rows++;
            report->fs_rows++;
            replay_row(rp, &row);
            continue;
        }
        /* A run: its first row may add a new reason (and fail for want of
         * memory, ending the replay after that row, as a row at a time
         * would); the rest only count. */
        rp->rows_this_pass++;
        report->rows++;
        report->fs_rows += fs ? 1 : 0;
        fltsim__replay_skip(rp, reason);
        if (n > 1 && rp->error[0] == '\0') {
            rp->rows_this_pass += n - 1;
            report->rows += n - 1;
            report->fs_rows += fs ? n - 1 : 0;
            skip_rows(rp, reason, n - 1);
        }
    }
    progress(rp, 2, true);
    if (rp->error[0] != '\0')
        status = STATUS_INVALID_PARAMETER;

out:
    close_everything(rp);
    if (rp->sys != NULL) {
        fltsim_thread_set_identity(caller_process, caller_thread);
        fltsim_system_wait_idle(rp->sys, 0);
        report->reports = fltsim_system_report_count(rp->sys);
        fltsim_system_destroy(rp->sys);
    }
    if (rp->import != NULL)
        fltsim__replay_import_end(rp);
    fltsim_thread_set_identity(caller_process, caller_thread);
    if (rp->cap != NULL)
        fltsim_capture_close(rp->cap);
    for (size_t i = 0; i < rp->object_count; i++)
        dlclose(rp->objects[i]);
    if (report->skip_count > 0)
        qsort(report->skips, report->skip_count, sizeof(report->skips[0]), by_count);
    if (report->operation_count > 0)
        qsort(report->operations, report->operation_count, sizeof(report->operations[0]),
              by_count);
    if (report->divergence_count > 0)
        qsort(report->divergences, report->divergence_count, sizeof(report->divergences[0]),
              by_divergence);
    if (rp->error[0] != '\0')
        snprintf(error, error_size, "%s", rp->error);
    ns_free(&rp->ns);
    fltsim__replay_rows_free(&rp->rows);
    smap_free(&rp->skip_index);
    smap_free(&rp->op_index);
    smap_free(&rp->div_index);
    smap_free(&rp->handle_index);
    free(rp->zeros.data);
    free(rp->io.data);
    free(rp);
    return status;
}

void fltsim_replay_report_free(struct fltsim_replay_report *report)
{
    for (size_t i = 0; i < report->skip_count; i++)
        free(report->skips[i].name);
    for (size_t i = 0; i < report->operation_count; i++)
        free(report->operations[i].name);
    for (size_t i = 0; i < report->divergence_count; i++) {
        struct fltsim_replay_divergence *d = &report->divergences[i];
        for (size_t j = 0; j < d->example_count; j++)
            free(d->examples[j].path);
        free(d->examples);
        free(d->operation);
    }
    free(report->skips);
    free(report->operations);
    free(report->divergences);
    memset(report, 0, sizeof(*report));
}

static double pct(uint64_t a, uint64_t b)
{
    return b == 0 ? 0.0 : 100.0 * (double)a / (double)b;
}

void fltsim_replay_report_print(const struct fltsim_replay_report *r, const char *path, FILE *out)
{
    char b1[48], b2[48];
    fprintf(out, "replay of %s\n", path);
    fprintf(out, "  rows read            %llu\n", (unsigned long long)r->rows);
    fprintf(out, "  file-system rows     %llu\n", (unsigned long long)r->fs_rows);
    fprintf(out, "  replayed             %llu (%.1f%% of file-system rows)\n",
            (unsigned long long)r->replayed, pct(r->replayed, r->fs_rows));
    fprintf(out, "  status as recorded   %llu  fidelity %.1f%%\n", (unsigned long long)r->matched,
            pct(r->matched, r->replayed));
    fprintf(out, "  skipped              %llu\n", (unsigned long long)r->skipped);
    fprintf(out, "  namespace            %llu files, %llu directories; %llu implied opens\n",
            (unsigned long long)r->namespace_files, (unsigned long long)r->namespace_dirs,
            (unsigned long long)r->implied_opens);
    fprintf(out, "  verifier reports     %u\n", (unsigned)r->reports);
    if (r->operation_count > 0) {
        fprintf(out, "\nreplayed by operation (rows, status as recorded):\n");
        for (size_t i = 0; i < r->operation_count; i++)
            fprintf(out, "  %-40s %8llu %8llu  %5.1f%%\n", r->operations[i].name,
                    (unsigned long long)r->operations[i].count,
                    (unsigned long long)r->operations[i].matched,
                    pct(r->operations[i].matched, r->operations[i].count));
    }
    if (r->skip_count > 0) {
        fprintf(out, "\nskipped by reason:\n");
        for (size_t i = 0; i < r->skip_count; i++)
            fprintf(out, "  %8llu  %s\n", (unsigned long long)r->skips[i].count,
                    r->skips[i].name);
    }
    if (r->divergence_count > 0) {
        fprintf(out, "\ndivergences (operation: recorded -> simulated, rows, first examples):\n");
        for (size_t i = 0; i < r->divergence_count; i++) {
            const struct fltsim_replay_divergence *d = &r->divergences[i];
            fprintf(out, "  %s: %s -> %s  %llu\n", d->operation,
                    fltsim_capture_status_name(d->recorded, b1, sizeof(b1)),
                    fltsim_capture_status_name(d->simulated, b2, sizeof(b2)),
                    (unsigned long long)d->count);
            for (size_t j = 0; j < d->example_count; j++) {
                if (d->examples[j].line != 0)
                    fprintf(out, "      row %llu (line %llu) %s\n",
                            (unsigned long long)d->examples[j].index + 1,
                            (unsigned long long)d->examples[j].line, d->examples[j].path);
                else
                    fprintf(out, "      event %llu %s\n",
                            (unsigned long long)d->examples[j].index, d->examples[j].path);
            }
        }
    }
}
