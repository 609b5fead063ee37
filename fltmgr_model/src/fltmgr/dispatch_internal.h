/*
 * PRIVATE to fltmgr_model/src/fltmgr: what the parts of the callback engine
 * share. dispatch.c holds the state machine and the entry point; operation.c
 * the operations' memory and lifetime; pre.c and post.c the two halves of the
 * walk down and up the node list; pending.c the completion of pended
 * operations; inflight.c the in-flight lists that teardown drains. The
 * helpers the dispatch path calls per node or per operation are inline here,
 * as they were inline in the one file (README "Performance").
 */
#ifndef FLTSIM_DISPATCH_INTERNAL_H
#define FLTSIM_DISPATCH_INTERNAL_H

#include "exec/executor.h"

/* op->async_state: the handshake between the issuer of an asynchronous
 * request returning STATUS_PENDING and its completion (complete_op). */
enum { FLTSIM_ASYNC_OPEN, FLTSIM_ASYNC_ISSUER_RETURNED, FLTSIM_ASYNC_COMPLETED };

/* ---- the state machine and its trace (dispatch.c) ---- */

/* Advances op as far as the calling thread can, which holds the baton (see
 * struct fltsim_op); may free op. */
void fltsim__advance(struct fltsim_op *op);

/* Traces an event of op (tracing on); info: the IoStatus.Information shown. */
void fltsim__trace_op_info(struct fltsim_op *op, enum fltsim_event_type type, ULONG depth,
                           const struct fltsim_node *node, LONG status, ULONG flags,
                           ULONG_PTR info);

static inline void fltsim__trace_op(struct fltsim_op *op, enum fltsim_event_type type, ULONG depth,
                                    const struct fltsim_node *node, LONG status, ULONG flags)
{
    fltsim__trace_op_info(op, type, depth, node, status, flags, op->data.IoStatus.Information);
}

/* info: IoStatus.Information before the callback (the data are no longer
 * fltsim's to read, see call_pre). */
static inline void fltsim__trace_pend(struct fltsim_op *op, ULONG depth, struct fltsim_node *node,
                                      ULONG in_post, ULONG_PTR info)
{
    if (fltsim__tracing(op->sys))
        fltsim__trace_op_info(op, FLTSIM_EV_PEND, depth, node, 0, in_post, info);
}

/* ---- operation memory and lifetime (operation.c) ---- */

/* Fresh operation memory with room for `nodes` nodes: zero but for the lock
 * (initialized) and node_capacity. NULL when out of memory. The nodes
 * themselves are left as they are: take_nodes sets what may be read. */
struct fltsim_op *fltsim__op_alloc(ULONG nodes);
/* Operation memory no reference points to any more. */
void fltsim__op_free(struct fltsim_op *op);

/* Drops n references. When they are all that is left, no other thread
 * holds one and none can take one (references are only taken from the
 * in-flight lists, which an operation leaves before its in-flight reference
 * goes, or by a holder), so the memory goes without a locked subtract: the
 * usual end of a synchronous operation. */
static inline void fltsim__op_unref_n(struct fltsim_op *op, LONG n)
{
    if (__atomic_load_n(&op->refs, __ATOMIC_ACQUIRE) != n &&
        __atomic_sub_fetch(&op->refs, n, __ATOMIC_SEQ_CST) != 0)
        return;
    fltsim__op_free(op);
}

/* Marks node DONE (nothing more for it), waking a teardown that waits for
 * its instance's nodes. */
void fltsim__node_done(struct fltsim_op *op, struct fltsim_node *node);

static inline LONG fltsim__node_state(const struct fltsim_node *node)
{
    return __atomic_load_n(&node->state, __ATOMIC_SEQ_CST);
}

static inline bool fltsim__is_create(const struct fltsim_op *op)
{
    return op->kind == FLTSIM_OP_IRP && op->slot == IRP_MJ_CREATE;
}

/* ---- the pre path (pre.c) ---- */

/* Runs the pres from op->cursor down. true: the operation left the pre
 * phase and the baton is still here; false: a pre pended it and the baton
 * is gone. */
bool fltsim__run_pres(struct fltsim_op *op);
/* After the pre at op->cursor raised an exception it did not handle, back
 * in fltsim__advance's frame: reports it (SEH), and goes on as the pre's
 * return would, with the operation completed with the exception code (or,
 * for cleanup and close, as for FLT_PREOP_SUCCESS_NO_CALLBACK). */
void fltsim__pre_raised(struct fltsim_op *op, const struct fltsim_seh_frame *seh);
/* Acts on what node i's pre returned (or what FltCompletePendedPreOperation
 * said to act on, SPEC 3.3). */
void fltsim__apply_pre(struct fltsim_op *op, ULONG i, FLT_PREOP_CALLBACK_STATUS st, PVOID ctx);
/* SPEC 6.3: takes or undoes (and reports) the parameter changes of node's
 * pre; thread and mode are the operation's as issued. completing: the pre
 * completes the operation (FLT_PREOP_COMPLETE), and a changed TargetInstance
 * or TargetFileObject is V18 (SPEC 3.2), seen before it is undone. */
void fltsim__take_parameter_changes(struct fltsim_op *op, struct fltsim_node *node, PETHREAD thread,
                                    KPROCESSOR_MODE mode, bool completing);
/* V8, V9 for an operation a pre completes (SPEC 3.2, 3.3). */
void fltsim__check_complete(struct fltsim_op *op, const struct fltsim_node *node);
/* The name of a pre status for reports, also of one that is not valid. */
const char *fltsim__pre_name(FLT_PREOP_CALLBACK_STATUS s);

/* ---- operation status callbacks (opstatus.c) ---- */

/* The file-system step, before the calling thread (the sender) sends op's
 * IRP, when op->status_requests is not NULL: the requests stay on op, owed
 * by the sender, with STATUS_PENDING as their status, and op's completion
 * (and a reference) is held until fltsim__opstatus_release. */
void fltsim__opstatus_hold(struct fltsim_op *op);
/* The sender: the file system answered status in its dispatch routine. */
void fltsim__opstatus_answered(struct fltsim_op *op, NTSTATUS status);
/* Runs the routines the calling thread owes for op, if it is their sender
 * and has not run them yet, with the status they hold, and lets the
 * completion go on; any thread may call it (the others do nothing). */
void fltsim__opstatus_run_owed(struct fltsim_op *op);
/* The sender, once its part of the operation is over: runs what it still
 * owes (fltsim__opstatus_run_owed) and drops the hold's reference (op may be
 * freed). */
void fltsim__opstatus_release(struct fltsim_op *op);
/* Frees the requests of an operation that never reached the file system. */
void fltsim__opstatus_discard(struct fltsim_op *op);

/* ---- the post path and completion (post.c) ---- */

/* Runs the posts from op->cursor up and completes the operation, unless the
 * baton goes to another thread first (a post that must run elsewhere, a post
 * that pended). op may be freed when this returns. */
void fltsim__run_posts(struct fltsim_op *op);
/* After the post at op->cursor raised an exception it did not handle, back
 * in fltsim__advance's frame: reports it (SEH), fails the operation with the
 * exception code (cancelling a create the file system opened; cleanup and
 * close keep their status) and goes on as the post's return would. */
void fltsim__post_raised(struct fltsim_op *op, const struct fltsim_seh_frame *seh);
/* Waits as op needs the calling thread: runs the posts handed to it, until
 * op is done (until_done) or owes this thread nothing more. The caller holds
 * a reference. */
void fltsim__wait_for(struct fltsim_op *op, bool until_done);
/* Wakes the threads waiting in op (takes op->lock). */
void fltsim__wake_waiters(struct fltsim_op *op);
/* The rules about what node's post did to IoStatus (SPEC 4.5); before is
 * the status the post was called with. */
void fltsim__check_post_status(struct fltsim_op *op, struct fltsim_node *node, NTSTATUS before);

/* ---- the operation's buffers and MDLs (buffers.c) ---- */

/* Releases the MDLs recorded for op (op->has_mdls): FltLockUserBuffer's,
 * when the operation completes or a draining post's copy goes. */
void fltsim__op_release_mdls(struct fltsim_op *op);
/* Node's pre passed on (op->iopb) a buffer or MDL other than it received:
 * records the MDL it passed down, which FltMgr frees when the node's post is
 * over, and returns true; false when the only change is an MDL
 * FltLockUserBuffer made for the operation's own buffer (no swap). */
bool fltsim__pre_swapped(struct fltsim_op *op, ULONG node);
/* Node's post is over (returned, or its pended operation completed): frees
 * the MDL its pre swapped in, unless the filter retained it (SPEC 6.3).
 * Called for swapped nodes only (fltsim__node_done). */
void fltsim__swap_post_end(struct fltsim_op *op, ULONG node);

#endif /* FLTSIM_DISPATCH_INTERNAL_H */
