/*
 * memfs: its side of IRP_MJ_DIRECTORY_CONTROL, whose checks, pattern and
 * entry packing are shared with hostfs in fs_dir.c. The scan walks "." and
 * ".." (below the root) and then the children in their sorted order. The
 * position is kept as the upcased name of the last child passed, so a scan
 * survives entries being added, deleted or renamed between queries, as with
 * NTFS's index.
 */
#include <string.h>

#include "memfs_internal.h"

static NTSTATUS dir_empty(struct fltsim__fs *core, struct fltsim__fs_file *file, bool *empty)
{
    (void)core;
    *empty = memfs_node_of(file)->child_count == 0;
    return STATUS_SUCCESS;
}

static void scan_restart(struct fltsim__fs *core, struct fltsim__fs_open *o)
{
    struct memfs_ccb *ccb = CONTAINING_RECORD(o, struct memfs_ccb, open);
    (void)core;
    /* the root has no "." or ".." */
    o->scan_phase = memfs_node_of(o->file)->parent != NULL ? 0 : 2;
    ccb->resume_valid = FALSE;
}

static const WCHAR dot_name[] = {L'.'};
static const WCHAR dotdot_name[] = {L'.', L'.'};

/* The next candidate at or after the ccb's position (its cand_* fields), or
 * false at the end. */
static bool next_candidate(struct memfs_ccb *ccb)
{
    struct memfs_node *dir = memfs_node_of(ccb->open.file);
    switch (ccb->open.scan_phase) {
    case 0:
        ccb->cand_node = dir;
        ccb->cand_name = dot_name;
        ccb->cand_len = 1;
        ccb->cand_phase = 0;
        return true;
    case 1:
        ccb->cand_node = dir->parent;
        ccb->cand_name = dotdot_name;
        ccb->cand_len = 2;
        ccb->cand_phase = 1;
        return true;
    default:
        break;
    }
    ULONG pos = 0;
    if (ccb->resume_valid) {
        struct memfs_node *found = fltsim__memfs_lookup(dir, ccb->resume, ccb->resume_len, &pos);
        if (found != NULL)
            pos++;
    }
    if (pos >= dir->child_count)
        return false;
    struct memfs_node *child = dir->children[pos];
    ccb->cand_node = child;
    ccb->cand_name = child->name;
    ccb->cand_len = child->name_len;
    ccb->cand_phase = 2;
    return true;
}

static bool scan_next(void *ctx, const WCHAR **name, USHORT *len)
{
    struct memfs_ccb *ccb = ctx;
    if (!next_candidate(ccb))
        return false;
    *name = ccb->cand_name;
    *len = ccb->cand_len;
    return true;
}

static bool scan_facts(void *ctx, struct fltsim__fs_facts *f)
{
    struct memfs_ccb *ccb = ctx;
    fltsim__memfs_facts(ccb->open.fs, &ccb->cand_node->file, f);
    if (ccb->cand_phase < 2)
        f->short_len = 0; /* "." and ".." have no short name */
    return true;
}

/* Moves the ccb's position past its candidate. */
static void scan_consume(void *ctx)
{
    struct memfs_ccb *ccb = ctx;
    if (ccb->cand_phase < 2) {
        ccb->open.scan_phase = (UCHAR)(ccb->cand_phase + 1);
        return;
    }
    memcpy(ccb->resume, ccb->cand_node->upname, ccb->cand_len * sizeof(WCHAR));
    ccb->resume_len = ccb->cand_len;
    ccb->resume_valid = TRUE;
}

const struct fltsim__fs_dir_ops fltsim__memfs_dir_ops = {
    .dir_empty_cb = dir_empty,
    .scan_restart_cb = scan_restart,
    .scan = {scan_next, scan_facts, scan_consume, true},
};
