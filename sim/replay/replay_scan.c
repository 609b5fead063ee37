/*
 * The replay's first pass (replay_internal.h), the only one that reads the
 * capture: what each row tells about the namespace the capture implies (which
 * paths existed when it began, files or directories, how large), then that
 * namespace created on the memfs volumes; and whether each row is replayed,
 * kept for the second pass (replay_rows.c stores it) or counted under the
 * reason it is not. Issuing the kept rows is replay.c's and
 * replay_request.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fltsim/memfs.h>

#include "replay_internal.h"
#include "common/sim_internal.h"

/* ------------------------------------------------------------------------- */
/* The namespace                                                             */
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
    fltsim__replay_path_key(path, key, sizeof(key));
    size_t i = fltsim__replay_smap_get(&ns->index, key);
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
    if (copy == NULL || !fltsim__replay_smap_put(&ns->index, key, ns->count)) {
        free(copy);
        return NULL;
    }
    size_t n = strlen(copy);
    while (n > 3 && copy[n - 1] == '\\')
        copy[--n] = '\0';
    ns->entries[ns->count] = (struct ns_entry){.path = copy, .size_max = UINT64_MAX};
    return &ns->entries[ns->count++];
}

void fltsim__replay_ns_free(struct ns *ns)
{
    for (size_t i = 0; i < ns->count; i++)
        free(ns->entries[i].path);
    free(ns->entries);
    fltsim__replay_smap_free(&ns->index);
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
void fltsim__replay_directory_of_query(const struct fltsim_capture_event *ev, char *dir,
                                       size_t size)
{
    snprintf(dir, size, "%s", ev->path);
    const char *filter =
        (ev->params.present & FLTSIM_CP_FILE_NAME) ? ev->params.file_name : NULL;
    char *slash = strrchr(dir, '\\');
    if (slash == NULL || slash - dir < 2)
        return;
    if ((filter != NULL && filter[0] != '\0' && strcasecmp(slash + 1, filter) == 0) ||
        fltsim__replay_has_wildcard(slash + 1)) {
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
                if (n > 0 && (size_t)n < sizeof(path) && !fltsim__replay_has_wildcard(path + 3))
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

/* What one row tells about the namespace. */
static void learn(struct ns *ns, const struct fltsim_capture_event *ev)
{
    const struct fltsim_capture_op *op = ev->op;
    if (ev->event_class != FLTSIM_CAPTURE_CLASS_FILE_SYSTEM || op == NULL ||
        !fltsim__replay_drive_path(ev->path))
        return;
    if (ev->path[2] == '\0')
        return; /* the volume itself */
    const struct fltsim_capture_params *p = &ev->params;
    NTSTATUS r = ev->result;
    bool ok = ev->has_result && NT_SUCCESS(r);

    if (op->major == IRP_MJ_DIRECTORY_CONTROL) {
        char dir[1024];
        fltsim__replay_directory_of_query(ev, dir, sizeof(dir));
        struct ns_entry *e = ns_entry(ns, dir);
        if (dir[3] != '\0') {
            ns_evidence(e, true);
            ns_kind(e, KIND_DIR);
        }
        if (ev->detail != NULL && op->sub == IRP_MN_QUERY_DIRECTORY && ok)
            listed_names(ns, dir, ev->detail);
        return;
    }
    if (fltsim__replay_has_wildcard(ev->path + 3) || strchr(ev->path + 2, ':') != NULL)
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
        } else if (fltsim__replay_is_status(ev, STATUS_OBJECT_NAME_NOT_FOUND)) {
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
        } else if (fltsim__replay_is_status(ev, STATUS_OBJECT_NAME_COLLISION) ||
                   fltsim__replay_is_status(ev, STATUS_ACCESS_DENIED) ||
                   fltsim__replay_is_status(ev, STATUS_SHARING_VIOLATION) ||
                   fltsim__replay_is_status(ev, STATUS_DELETE_PENDING)) {
            ns_evidence(e, true);
        } else if (fltsim__replay_is_status(ev, STATUS_FILE_IS_A_DIRECTORY)) {
            ns_evidence(e, true);
            ns_kind(e, KIND_DIR);
        } else if (fltsim__replay_is_status(ev, STATUS_NOT_A_DIRECTORY)) {
            ns_evidence(e, true);
            ns_kind(e, KIND_FILE);
        }
        return;
    }
    if (op->pml_op == 6) { /* QueryOpen: fast I/O on a path, no handle */
        if (ok)
            ns_evidence(e, true);
        else if (fltsim__replay_is_status(ev, STATUS_OBJECT_NAME_NOT_FOUND))
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
               (p->present & FLTSIM_CP_FILE_NAME) && fltsim__replay_drive_path(p->file_name)) {
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
NTSTATUS fltsim__replay_ns_populate(struct replay *rp)
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
                fltsim__replay_note(rp,
                                    "namespace: a file's size capped at 64 MiB (max_file_size)");
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
            fltsim__replay_note(rp, reason);
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
/* Which rows are replayed                                                   */
/* ------------------------------------------------------------------------- */

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
    if (!fltsim__replay_drive_path(ev->path))
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
/* The pass                                                                  */
/* ------------------------------------------------------------------------- */

/* Pass 1: the namespace, the drives the capture uses, the rows to keep. */
NTSTATUS fltsim__replay_scan(struct replay *rp)
{
    const struct fltsim_capture_event *ev;
    int r;
    rp->cap = fltsim_capture_open(rp->capture_path, rp->options->format, rp->error,
                                  sizeof(rp->error));
    rp->rows_this_pass = 0;
    if (rp->cap == NULL)
        return STATUS_OBJECT_NAME_NOT_FOUND;
    while ((r = fltsim_capture_next(rp->cap, &ev)) == 1) {
        rp->rows_this_pass++;
        if ((rp->rows_this_pass & 4095) == 0)
            fltsim__replay_progress(rp, 1, false);
        if (ev->event_class == FLTSIM_CAPTURE_CLASS_FILE_SYSTEM &&
            fltsim__replay_drive_path(ev->path) && !fltsim__replay_use_drive(rp, ev->path[0])) {
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
    fltsim__replay_progress(rp, 1, true);
    rp->rows_total = rp->rows_this_pass;
    fltsim__replay_rows_seal(&rp->rows);
    if (r < 0)
        fltsim__replay_fail(rp, "%s", fltsim_capture_error(rp->cap));
    fltsim_capture_close(rp->cap);
    rp->cap = NULL;
    return rp->error[0] != '\0' ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS;
}
