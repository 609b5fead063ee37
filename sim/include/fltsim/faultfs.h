/*
 * faultfs: a file system that wraps another one (memfs, hostfs, any struct
 * fltsim_fs_ops) and injects the faults a real disk or file system produces:
 * it fails chosen operations with a chosen NTSTATUS, completes them
 * asynchronously (STATUS_PENDING now, fltsim_fs_complete later from a system
 * worker thread), or delays their completion (KeDelayExecutionThread: virtual
 * time under the deterministic executor). The idea is SQLite's test_vfs: the
 * wrapper counts operations and applies per-operation rules, the inner file
 * system does the real work. Each operation is also a fault point of the
 * system (FLTSIM_FAULT_FS, model.h), so fltsim_fault_add rules and an explorer
 * reach it too.
 *
 * What is counted: every IRP and fast-I/O request the volume sends
 * (FS-filter callbacks pass through uncounted). IRP_MJ_CLOSE is counted and
 * may be delayed or completed asynchronously but never fails (it cannot on
 * Windows, and the inner file system must free its per-open state). A failed
 * fast-I/O request is declined instead (FALSE: the I/O manager sends an IRP),
 * which is how fast I/O fails. A failed IRP never reaches the inner file
 * system; its IoStatus is {status, 0}.
 */
#ifndef FLTSIM_FAULTFS_H
#define FLTSIM_FAULTFS_H

#include <fltsim/model.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fltsim_faultfs;

/* One rule. An operation matches when its major function is major (or major
 * is -1) and its file object's FileName matches path (or path is NULL); of
 * the matching operations the rule applies to the nth (1-based, counted by
 * the rule) or, with nth 0, to every one. The first rule that applies to an
 * operation decides what happens to it. */
struct fltsim_faultfs_rule {
    ULONG64 nth;
    /* UTF-8 expression for FsRtlIsNameInExpression, compared ignoring case
     * with the whole name ("\dir\*.txt", "*secret*"); NULL = any name. */
    const char *path;
    int major;       /* IRP_MJ_*, or -1 for every major */
    NTSTATUS status; /* fail with it (a warning or error status); STATUS_SUCCESS = do not fail */
    BOOLEAN async;   /* IRPs: return STATUS_PENDING and complete from a worker */
    ULONG delay_ms;  /* wait this long before the operation completes */
};

/* Creates a wrapper around inner_ops/inner_fs. sys (required) is the system
 * the volume will be mounted in: async completions run on its workers and
 * operations count as its fault points. Mount it with fltsim_faultfs_ops and
 * fs = *out; the volume then owns it, and its release releases the inner file
 * system too. STATUS_INVALID_PARAMETER (NULL argument, inner_ops without
 * irp_cb), STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS fltsim_faultfs_create(fltsim_system *sys, const struct fltsim_fs_ops *inner_ops,
                               void *inner_fs, struct fltsim_faultfs **out);

/* Frees a wrapper that was never mounted, releasing the inner file system. */
void fltsim_faultfs_destroy(struct fltsim_faultfs *ffs);

/* Adds a rule (the strings are copied). STATUS_INVALID_PARAMETER for a major
 * outside -1..IRP_MJ_MAXIMUM_FUNCTION, a success status other than
 * STATUS_SUCCESS, a path that is not valid UTF-8, or a rule
 * that does nothing (no status, not async, no delay); see fltsim_last_error.
 * Any thread; rules apply to operations that start after it returns. */
NTSTATUS fltsim_faultfs_add_rule(struct fltsim_faultfs *ffs,
                                 const struct fltsim_faultfs_rule *rule);

/* Operations seen, and operations a rule or a system fault failed. */
ULONG64 fltsim_faultfs_op_count(struct fltsim_faultfs *ffs);
ULONG64 fltsim_faultfs_failed_count(struct fltsim_faultfs *ffs);

/* The wrapped file system (inner_fs as given to fltsim_faultfs_create). */
void *fltsim_faultfs_inner(struct fltsim_faultfs *ffs);

/* The table to mount a faultfs with (name "faultfs"). */
extern const struct fltsim_fs_ops fltsim_faultfs_ops;

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_FAULTFS_H */
