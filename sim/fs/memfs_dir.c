/*
 * memfs: IRP_MJ_DIRECTORY_CONTROL. Query directory walks "." and ".." (below
 * the root) and then the children in their sorted order, filtering with
 * FsRtlIsNameInExpression against the pattern kept on the per-open state. The
 * position is kept as the upcased name of the last child passed, so a scan
 * survives entries being added, deleted or renamed between queries, as with
 * NTFS's index. Change notification is not modeled yet.
 */
#include <stdlib.h>
#include <string.h>

#include "memfs_internal.h"

static const WCHAR dot_name[] = {L'.'};
static const WCHAR dotdot_name[] = {L'.', L'.'};

/* One candidate of the scan. */
struct candidate {
    const struct memfs_node *node; /* whose information the entry shows */
    const WCHAR *name;
    USHORT name_len; /* units */
    UCHAR phase;     /* the ccb->scan_phase that produced it */
};

/* The next candidate at or after the ccb's position, or false at the end. */
static bool next_candidate(const struct memfs_ccb *ccb, const struct memfs_node *dir,
                           struct candidate *c)
{
    switch (ccb->scan_phase) {
    case 0:
        c->node = dir;
        c->name = dot_name;
        c->name_len = 1;
        c->phase = 0;
        return true;
    case 1:
        c->node = dir->parent;
        c->name = dotdot_name;
        c->name_len = 2;
        c->phase = 1;
        return true;
    default:
        break;
    }
    ULONG pos = 0;
    if (ccb->resume_valid) {
        const struct memfs_node *found =
            fltsim__memfs_lookup(dir, ccb->resume, ccb->resume_len, &pos);
        if (found != NULL)
            pos++;
    }
    if (pos >= dir->child_count)
        return false;
    const struct memfs_node *child = dir->children[pos];
    c->node = child;
    c->name = child->name;
    c->name_len = child->name_len;
    c->phase = 2;
    return true;
}

/* Moves the ccb's position past c. */
static void consume(struct memfs_ccb *ccb, const struct candidate *c)
{
    if (c->phase < 2) {
        ccb->scan_phase = (UCHAR)(c->phase + 1);
        return;
    }
    memcpy(ccb->resume, c->node->upname, c->name_len * sizeof(WCHAR));
    ccb->resume_len = c->name_len;
    ccb->resume_valid = TRUE;
}

/* The scan as fltsim__fs_scan_fill drives it. */
struct scan {
    struct memfs_ccb *ccb;
    const struct memfs_node *dir;
    struct candidate c;
};

static bool scan_next(void *ctx, const WCHAR **name, USHORT *len)
{
    struct scan *s = ctx;
    if (!next_candidate(s->ccb, s->dir, &s->c))
        return false;
    *name = s->c.name;
    *len = s->c.name_len;
    return true;
}

static bool scan_facts(void *ctx, struct fltsim__fs_facts *f)
{
    struct scan *s = ctx;
    fltsim__memfs_facts(s->c.node, f);
    return true;
}

static void scan_consume(void *ctx)
{
    struct scan *s = ctx;
    consume(s->ccb, &s->c);
}

static const struct fltsim__fs_scan_ops scan_ops = {scan_next, scan_facts, scan_consume};

static NTSTATUS query_directory(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data,
                                ULONG_PTR *information)
{
    struct memfs_ccb *ccb = fltsim__memfs_ccb_of(fs, data->Iopb->TargetFileObject);
    struct fltsim__fs_dir_query q;
    bool starts;
    NTSTATUS status;

    if (ccb == NULL || ccb->node->kind != MEMFS_DIRECTORY)
        return STATUS_INVALID_PARAMETER;
    if (ccb->cleaned_up)
        return STATUS_FILE_CLOSED;
    struct memfs_node *dir = ccb->node;
    status = fltsim__fs_dir_query_decode(data, &q);
    if (!NT_SUCCESS(status))
        return status;

    status =
        fltsim__fs_dir_query_begin(&q, &ccb->pattern, &ccb->scan_active, &ccb->scan_first, &starts);
    if (!NT_SUCCESS(status))
        return status;
    if (starts) {
        ccb->scan_phase = dir->parent != NULL ? 0 : 2; /* the root has no "." or ".." */
        ccb->resume_valid = FALSE;
    }

    struct scan scan = {ccb, dir, {NULL, NULL, 0, 0}};
    return fltsim__fs_dir_query_fill(&q, &ccb->pattern, &scan_ops, &scan, &ccb->scan_first,
                                     information);
}

NTSTATUS fltsim__memfs_directory_control_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data,
                                             ULONG_PTR *information)
{
    *information = 0;
    switch (data->Iopb->MinorFunction) {
    case IRP_MN_QUERY_DIRECTORY:
        return query_directory(fs, data, information);
    case IRP_MN_NOTIFY_CHANGE_DIRECTORY:
        /* Change notification is not modeled yet: it needs requests that stay
         * pending until a change, which memfs cannot hold today. Refused
         * honestly rather than completed as if nothing changed. */
        return STATUS_NOT_IMPLEMENTED;
    default:
        return STATUS_INVALID_DEVICE_REQUEST;
    }
}
