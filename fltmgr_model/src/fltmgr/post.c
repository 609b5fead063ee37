/*
 * The post path and completion (SPEC 4, 5.1): back up the node list, lowest
 * altitude first, each node that asked for a post gets it, on the thread it
 * must run on (SPEC 4.2: a create's on its issuer, a synchronized one on its
 * pre's thread, which waits here for it); what the post did is checked
 * (SPEC 4.5); then the operation completes and leaves the in-flight lists.
 * A post that pends gives the baton to FltCompletePendedPostOperation
 * (pending.c); posts drained at teardown are inflight.c's.
 */
#include <stddef.h>
#include <string.h>

#include "dispatch_internal.h"

struct op_waiter {
    LIST_ENTRY link;
    struct fltsim_sthread *thread;
};

/* How long a thread waiting for an operation spins before it parks. */
#define WAIT_SPIN_NS 20000ull

/* ---- threads that posts must run on, and waiting for them ---- */

/* The thread node j's post must run on, or NULL for any (SPEC 4.2): creates
 * on the thread that issued them, synchronized operations on the pre's
 * thread. */
static struct fltsim_sthread *post_thread(const struct fltsim_op *op, ULONG j)
{
    if (fltsim__is_create(op))
        return op->issuer;
    if (op->nodes[j].synchronized)
        return op->nodes[j].pre_thread;
    return NULL;
}

/* Whether `me` still has posts of op to run (and so must wait for them). */
static bool owes_posts(const struct fltsim_op *op, const struct fltsim_sthread *me)
{
    if (fltsim__is_create(op) && op->issuer == me)
        return true;
    for (ULONG k = 0; k < op->node_count; k++) {
        const struct fltsim_node *node = &op->nodes[k];
        /* The state first: synchronized and pre_thread are written before it
         * becomes WANTS_POST, by whichever thread ran the pre. */
        LONG state = fltsim__node_state(node);
        if ((state == FLTSIM_NODE_WANTS_POST || state == FLTSIM_NODE_POSTING) &&
            node->synchronized && node->pre_thread == me)
            return true;
    }
    return false;
}

/* op->lock held. */
static void wake_waiters_locked(struct fltsim_op *op)
{
    for (PLIST_ENTRY e = op->waiters.Flink; e != &op->waiters; e = e->Flink)
        fltsim__unpark(CONTAINING_RECORD(e, struct op_waiter, link)->thread);
}

void fltsim__wake_waiters(struct fltsim_op *op)
{
    uv_mutex_lock(&op->lock);
    wake_waiters_locked(op);
    uv_mutex_unlock(&op->lock);
}

void fltsim__wait_for(struct fltsim_op *op, bool until_done)
{
    /* The usual synchronous case: op completed inline on this thread. A done
     * operation has no handoff left. */
    if (__atomic_load_n(&op->done, __ATOMIC_ACQUIRE))
        return;
    /* A synchronous requestor whose operation another thread completes or
     * hands back (a work item completing a pended operation, a DPC): that is
     * often only microseconds away, less than a sleep and a wakeup cost. */
    if (until_done)
        fltsim__spin_until(&op->done, &op->handoff, WAIT_SPIN_NS);
    struct fltsim_sthread *me = fltsim__current_sthread();
    uv_mutex_lock(&op->lock);
    for (;;) {
        LONG h = op->handoff;
        if (h != 0 && post_thread(op, (ULONG)h - 1) == me) {
            __atomic_store_n(&op->handoff, 0, __ATOMIC_RELAXED); /* read by spinners */
            uv_mutex_unlock(&op->lock);
            fltsim__advance(op);
            uv_mutex_lock(&op->lock);
            continue;
        }
        if (__atomic_load_n(&op->done, __ATOMIC_SEQ_CST))
            break;
        if (!until_done && !owes_posts(op, me))
            break;
        struct op_waiter w = {.thread = me};
        InsertTailList(&op->waiters, &w.link);
        /* complete_op sets done without the lock: announce the wait, then
         * look again (see complete_op). A wake that comes anyway leaves a
         * permit; every park here is in a loop that looks again. */
        __atomic_add_fetch(&op->waiting, 1, __ATOMIC_SEQ_CST);
        bool done = __atomic_load_n(&op->done, __ATOMIC_SEQ_CST);
        uv_mutex_unlock(&op->lock);
        if (!done)
            fltsim__park(0);
        uv_mutex_lock(&op->lock);
        __atomic_sub_fetch(&op->waiting, 1, __ATOMIC_SEQ_CST);
        RemoveEntryList(&w.link);
    }
    uv_mutex_unlock(&op->lock);
}

/* Gives the baton to the thread node j's post must run on. false: the node
 * was drained meanwhile, and the caller keeps the baton. The check is under
 * op->lock so the target cannot stop waiting between it and the handoff. */
static bool hand_off(struct fltsim_op *op, ULONG j)
{
    uv_mutex_lock(&op->lock);
    bool wanted = fltsim__node_state(&op->nodes[j]) == FLTSIM_NODE_WANTS_POST;
    if (wanted) {
        __atomic_store_n(&op->handoff, (LONG)j + 1, __ATOMIC_RELEASE); /* read by spinners */
        wake_waiters_locked(op);
    }
    uv_mutex_unlock(&op->lock);
    return wanted;
}

/* ---- the post path ---- */

/* The rules about what a post did to IoStatus (SPEC 4.5), checked when it
 * hands the operation back: when it returns, or, after it pended the
 * operation, at FltCompletePendedPostOperation. before is the status the
 * post was called with. */
void fltsim__check_post_status(struct fltsim_op *op, struct fltsim_node *node, NTSTATUS before)
{
    fltsim_system *sys = op->sys;
    struct _FLT_INSTANCE *inst = node->instance;
    NTSTATUS after = op->data.IoStatus.Status;
    UCHAR major = node->view.MajorFunction;
    PFILE_OBJECT fo = node->view.TargetFileObject;
    /* Only a create's file object is still private to its operation: other
     * operations on an open file object may change its Flags meanwhile. */
    bool cancelled = major == IRP_MJ_CREATE && fo != NULL && (fo->Flags & FO_FILE_OPEN_CANCELLED);
    if ((major == IRP_MJ_CLEANUP || major == IRP_MJ_CLOSE) && NT_SUCCESS(before) &&
        !NT_SUCCESS(after))
        fltsim__report(sys, NULL, inst, op, "V9", "4.5",
                       "the post-operation callback turned %s into a failure; cleanup and "
                       "close cannot fail",
                       fltsim_major_name(major));
    if (major == IRP_MJ_CREATE && NT_SUCCESS(before) && before != STATUS_REPARSE &&
        !NT_SUCCESS(after) && !cancelled)
        fltsim__report(sys, NULL, inst, op, "V24", "4.5",
                       "the post-create callback failed a create the file system had opened "
                       "without FltCancelFileOpen; the open leaks in the file system");
    if (major == IRP_MJ_CREATE && cancelled && NT_SUCCESS(after)) {
        /* [SIM] The file is closed below: the create cannot succeed. */
        fltsim__report(sys, NULL, inst, op, "V24", "4.5",
                       "FltCancelFileOpen was called but the create was left with a success "
                       "status; a cancelled open must fail (set IoStatus.Status to an error); "
                       "failed with STATUS_CANCELLED");
        op->data.IoStatus.Status = STATUS_CANCELLED;
        op->data.IoStatus.Information = 0;
        after = STATUS_CANCELLED;
    }
    if (after == STATUS_FLT_DISALLOW_FAST_IO && before != STATUS_FLT_DISALLOW_FAST_IO)
        fltsim__report(sys, NULL, inst, op, "V11", "4.5",
                       "the post-operation callback set STATUS_FLT_DISALLOW_FAST_IO; only FltMgr "
                       "produces that status");
}

static inline __attribute__((always_inline)) bool
post_returned(struct fltsim_op *op, ULONG j, FLT_POSTOP_CALLBACK_STATUS st, ULONG_PTR info);

/* Runs node j's post (its state already POSTING). false: the post pended
 * the operation and the baton is gone. */
static bool run_post(struct fltsim_op *op, ULONG j)
{
    fltsim_system *sys = op->sys;
    struct fltsim_node *node = &op->nodes[j];
    struct _FLT_INSTANCE *inst = node->instance;
    PFLT_POST_OPERATION_CALLBACK post = inst->filter->ops[op->slot].post;

    /* This node's view of the parameters: what its pre saw (SPEC 6.3). */
    memcpy(&op->iopb, &node->view, sizeof(op->iopb));
    op->data.Flags |= FLTFL_CALLBACK_DATA_POST_OPERATION;
    NTSTATUS before = op->data.IoStatus.Status;
    op->post_before = before;

    bool tracing = fltsim__tracing(sys);
    ULONG_PTR info = op->data.IoStatus.Information;
    if (tracing)
        fltsim__trace_op(op, FLTSIM_EV_POST, j, node, 0, 0);
    __atomic_store_n(&op->post_pend_node, j, __ATOMIC_RELEASE);
    __atomic_store_n(&op->post_pend, FLTSIM_PEND_RUNNING, __ATOMIC_RELEASE);
    /* Saved in the operation, as for a pre (see call_pre in pre.c). */
    fltsim__enter(op->callout, sys, inst->filter, op);
    fltsim__tls()->in_post = true;
    FLT_POSTOP_CALLBACK_STATUS st = post(&op->data, &node->objects, node->completion_context, 0);
    fltsim__leave(op->callout);
    if (tracing) /* as in call_pre: a pended operation is not ours to read */
        fltsim__trace_op_info(
            op, FLTSIM_EV_POST_RETURN, j, node, (LONG)st, 0,
            st == FLT_POSTOP_MORE_PROCESSING_REQUIRED ? info : op->data.IoStatus.Information);
    return post_returned(op, j, st, info);
}

void fltsim__post_raised(struct fltsim_op *op, const struct fltsim_seh_frame *seh)
{
    ULONG j = op->cursor;
    struct fltsim_node *node = &op->nodes[j];
    UCHAR major = node->view.MajorFunction;
    /* Reported, and the create cancelled, in the post's own context (which
     * FltCancelFileOpen requires); it is left only then. */
    if (major == IRP_MJ_CLEANUP || major == IRP_MJ_CLOSE) {
        fltsim__seh_uncaught(seh, op->sys, NULL, node->instance, op, "its post-operation callback",
                             "cleanup and close cannot fail: fltsim ends the callback and the "
                             "completion goes on with the status it had");
    } else {
        NTSTATUS status = fltsim__seh_uncaught(
            seh, op->sys, NULL, node->instance, op, "its post-operation callback",
            "fltsim ends the callback and fails the operation with that status (a create the "
            "file system opened is cancelled first, as FltCancelFileOpen does)");
        PFILE_OBJECT fo = node->view.TargetFileObject;
        NTSTATUS opened = op->fs_status;
        if (major == IRP_MJ_CREATE && fo != NULL && NT_SUCCESS(opened) &&
            opened != STATUS_PENDING && opened != STATUS_REPARSE &&
            !(fo->Flags & FO_FILE_OPEN_CANCELLED) && NT_SUCCESS(op->data.IoStatus.Status))
            FltCancelFileOpen(node->instance, fo);
        op->data.IoStatus.Status = status;
        op->data.IoStatus.Information = 0;
    }
    fltsim__leave(op->callout);
    if (fltsim__tracing(op->sys))
        fltsim__trace_op(op, FLTSIM_EV_POST_RETURN, j, node, FLT_POSTOP_FINISHED_PROCESSING, 0);
    post_returned(op, j, FLT_POSTOP_FINISHED_PROCESSING, op->data.IoStatus.Information);
}

/* What follows node j's post returning st (a post that raised included).
 * info: IoStatus.Information when the post was called. false: the post
 * pended the operation and the baton is gone. */
static inline __attribute__((always_inline)) bool
post_returned(struct fltsim_op *op, ULONG j, FLT_POSTOP_CALLBACK_STATUS st, ULONG_PTR info)
{
    fltsim_system *sys = op->sys;
    struct fltsim_node *node = &op->nodes[j];
    struct _FLT_INSTANCE *inst = node->instance;
    NTSTATUS before = op->post_before;
    bool tracing = fltsim__tracing(sys);
    bool resumed_early = false;
    switch (st) {
    case FLT_POSTOP_FINISHED_PROCESSING:
        break;
    case FLT_POSTOP_MORE_PROCESSING_REQUIRED:
        if (op->kind != FLTSIM_OP_IRP) {
            fltsim__report(sys, NULL, inst, op, "V10", "4.1",
                           "FLT_POSTOP_MORE_PROCESSING_REQUIRED for a non-IRP operation; "
                           "handled as FLT_POSTOP_FINISHED_PROCESSING");
            break;
        }
        fltsim__trace_pend(op, j, node, 1, info);
        LONG expected = FLTSIM_PEND_RUNNING;
        if (__atomic_compare_exchange_n(&op->post_pend, &expected, FLTSIM_PEND_PENDED, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return false; /* FltCompletePendedPostOperation continues it */
        /* Completed before the post returned: go on here. */
        resumed_early = true;
        if (tracing)
            fltsim__trace_op(op, FLTSIM_EV_RESUME, j, node, op->data.IoStatus.Status, 1);
        break;
    case FLT_POSTOP_DISALLOW_FSFILTER_IO:
        if (op->iopb.MajorFunction != IRP_MJ_QUERY_OPEN)
            fltsim__report(sys, NULL, inst, op, "V6", "4.1",
                           "FLT_POSTOP_DISALLOW_FSFILTER_IO is only for IRP_MJ_QUERY_OPEN; "
                           "handled as FLT_POSTOP_FINISHED_PROCESSING");
        else
            op->data.IoStatus.Status = STATUS_FLT_DISALLOW_FSFILTER_IO;
        break;
    default:
        fltsim__report(sys, NULL, inst, op, "V10", "4.1",
                       "post-operation callback returned %d, which is not an "
                       "FLT_POSTOP_CALLBACK_STATUS; handled as FLT_POSTOP_FINISHED_PROCESSING",
                       (int)st);
        break;
    }
    if (!resumed_early && __atomic_load_n(&op->post_pend, __ATOMIC_SEQ_CST) == FLTSIM_PEND_EARLY)
        fltsim__report(sys, NULL, inst, op, "V14", "5.1",
                       "FltCompletePendedPostOperation was called during a post that did not "
                       "return FLT_POSTOP_MORE_PROCESSING_REQUIRED; the completion is ignored");
    __atomic_store_n(&op->post_pend, FLTSIM_PEND_NONE, __ATOMIC_RELEASE);

    fltsim__check_post_status(op, node, before);
    op->data.Flags &= ~FLTFL_CALLBACK_DATA_DIRTY;
    fltsim__node_done(op, node);
    return true;
}

/* ---- completion ---- */

/* Waits until no node of op is POSTING and no status callback of op runs
 * or is owed. At completion every post of the completion itself has
 * returned, so a POSTING node is one a teardown on another thread is
 * draining right now; its post, like a status callback of the thread that
 * sent the IRP (opstatus.c), still uses the operation's file object, which
 * the I/O manager may free once the request completes. */
static bool any_draining(const struct fltsim_op *op)
{
    if (__atomic_load_n(&op->status_hold, __ATOMIC_SEQ_CST) != 0)
        return true;
    for (ULONG k = 0; k < op->node_count; k++)
        if (fltsim__node_state(&op->nodes[k]) == FLTSIM_NODE_POSTING)
            return true;
    return false;
}

static void wait_for_drains(struct fltsim_op *op)
{
    if (!any_draining(op)) /* the usual case: no lock on the completion path */
        return;
    /* Completing on the thread that sent the IRP, which the file system
     * completed in its dispatch routine: the posts are over, and the
     * status callbacks it owes run now, before the requestor learns of the
     * completion (on another thread this does nothing; the sender runs
     * them, and this waits). */
    if (__atomic_load_n(&op->status_hold, __ATOMIC_SEQ_CST) != 0)
        fltsim__opstatus_run_owed(op);
    struct fltsim_sthread *me = fltsim__current_sthread();
    uv_mutex_lock(&op->lock);
    for (;;) {
        if (!any_draining(op))
            break;
        struct op_waiter w = {.thread = me};
        InsertTailList(&op->waiters, &w.link);
        uv_mutex_unlock(&op->lock);
        fltsim__park(0);
        uv_mutex_lock(&op->lock);
        RemoveEntryList(&w.link);
    }
    uv_mutex_unlock(&op->lock);
}

static void complete_op(struct fltsim_op *op)
{
    fltsim_system *sys = op->sys;
    struct fltsim_request *req = op->req;
    wait_for_drains(op);
    op->phase = FLTSIM_PHASE_DONE;
    /* A cancel from now on calls no routine a filter left set. */
    if (__atomic_load_n(&op->cancel_routine, __ATOMIC_RELAXED) != NULL)
        __atomic_store_n(&op->cancel_routine, (PFLT_COMPLETE_CANCELED_CALLBACK)NULL,
                         __ATOMIC_SEQ_CST);
    /* The trace shows the parameters as the I/O manager issued them. */
    if (op->node_count != 0)
        memcpy(&op->iopb, &op->nodes[0].view, sizeof(op->iopb));
    if (fltsim__tracing(sys))
        fltsim__trace_op(op, FLTSIM_EV_IO_COMPLETE, 0, NULL, op->data.IoStatus.Status, 0);
    if (op->has_mdls)
        fltsim__op_release_mdls(op); /* FltLockUserBuffer's, freed with the request */
    /* Every node below top_post ran its pre and is done by now (its post
     * returned, or teardown drained it, or it wanted none); the nodes a pre
     * that completed the operation kept from running are left to mark. */
    for (ULONG k = op->top_post; k < op->node_count; k++)
        fltsim__node_done(op, &op->nodes[k]);
    /* Unlisted and off the node lists in one critical section; the volume
     * is not touched after it (a dismount waits for its lists to empty and
     * the volume may go right after). */
    PFLT_VOLUME volume = op->volume;
    struct fltsim_stack *stack = op->stack;
    ULONG s = op->inflight_shard;
    struct fltsim_inflight_shard *shard = &volume->inflight[s];
    /* With a completion callback to call the operation stays counted in
     * flight until it returns (waiting for idleness covers it): counted
     * here before it leaves the lists. */
    void (*cb)(struct fltsim_request *, void *) = req->complete_cb;
    if (cb != NULL)
        __atomic_add_fetch(&sys->callbacks_started, 1, __ATOMIC_SEQ_CST);
    fltsim__spin_lock(&shard->lock);
    RemoveEntryList(&op->inflight_link);
    shard->unlisted++;
    bool retired = fltsim__stack_put_locked(stack, s);
    bool dismounting = __atomic_load_n(&volume->dismounting, __ATOMIC_SEQ_CST) != 0;
    fltsim__spin_unlock(&shard->lock);
    op->stack = NULL;
    if (retired)
        fltsim__stack_put_retired(stack);
    if (dismounting)
        fltsim__broadcast(sys);

    req->io_status = op->data.IoStatus;
    req->fs_answered = op->fs_status != STATUS_PENDING;
    if (req->request_flags & FLTSIM_REQUEST_TAG_DATA) {
        req->tag_data = op->data.TagData; /* the issuer's now */
        op->data.TagData = NULL;
    }
    /* An asynchronous request whose issuer already returned STATUS_PENDING
     * learns of the completion through its callback (req may be gone after
     * it). The operation stays counted in flight until then, so waiting for
     * idleness covers the callback. */
    if (cb != NULL) {
        void *ctx = req->complete_ctx;
        LONG expected = FLTSIM_ASYNC_OPEN;
        if (!__atomic_compare_exchange_n(&op->async_state, &expected, FLTSIM_ASYNC_COMPLETED, false,
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            struct fltsim_callout save;
            fltsim__enter(&save, sys, NULL, NULL);
            cb(req, ctx);
            fltsim__leave(&save);
        }
    }
    /* Completed inline: this thread runs the issuer's own fltsim__advance of op
     * (fltsim__request_dispatch_below), so the baton never left it and no
     * other thread can wait for op (only the issuer and threads the baton
     * went to ever do). The issuer reads done and drops the in-flight
     * reference along with its own once fltsim__advance returns. */
    bool inline_done = fltsim__current_sthread()->tls.issuing == op;
    if (inline_done) {
        op->inline_done = true;
        __atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
    } else {
        /* The done/waiting handshake with fltsim__wait_for: either the
         * waiter sees done before it parks, or this sees it waiting and
         * wakes it. No lock when nobody waits. */
        __atomic_store_n(&op->done, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&op->waiting, __ATOMIC_SEQ_CST) != 0)
            fltsim__wake_waiters(op);
    }
    if (cb != NULL)
        __atomic_add_fetch(&sys->callbacks_done, 1, __ATOMIC_SEQ_CST);
    /* fltsim_system_wait_idle announces itself before it counts (the same
     * handshake; the unlisting above is under the shard lock it takes to
     * count): nothing more when nobody waits for idleness. A waiter asks to
     * be woken once as many departures as it found pending have happened,
     * when it looks again. */
    if (__atomic_load_n(&sys->idle_waiters, __ATOMIC_SEQ_CST) != 0) {
        ULONG64 seen =
            __atomic_add_fetch(&sys->idle_departures, cb != NULL ? 2 : 1, __ATOMIC_SEQ_CST);
        if (seen >= __atomic_load_n(&sys->idle_wake_at, __ATOMIC_SEQ_CST))
            fltsim__broadcast(sys);
    }
    if (inline_done)
        return;
    fltsim__op_unref(op); /* the in-flight reference: the last touch */
}

/* ---- the post phase ---- */

void fltsim__run_posts(struct fltsim_op *op)
{
    for (;;) {
        if (op->cursor == 0) {
            complete_op(op);
            return;
        }
        ULONG j = op->cursor - 1;
        struct fltsim_node *node = &op->nodes[j];
        if (fltsim__node_state(node) != FLTSIM_NODE_WANTS_POST) {
            op->cursor = j;
            continue;
        }
        struct fltsim_sthread *target = post_thread(op, j);
        if (target != NULL && target != fltsim__current_sthread()) {
            if (hand_off(op, j))
                return;
            continue; /* drained meanwhile */
        }
        op->cursor = j;
        LONG expected = FLTSIM_NODE_WANTS_POST;
        if (!__atomic_compare_exchange_n(&node->state, &expected, FLTSIM_NODE_POSTING, false,
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            continue; /* drained meanwhile */
        if (!run_post(op, j))
            return;
    }
}

/* ---- what other routines ask of an operation ---- */

bool fltsim__in_post(PFLT_CALLBACK_DATA data, struct fltsim_op **out, ULONG *node)
{
    struct fltsim_op *op = fltsim__op_from_data(data);
    struct fltsim_tls *t = fltsim__tls();
    if (op == NULL || t->op != op || !t->in_post)
        return false;
    *out = op;
    *node = op->drain_copy ? 0 : op->post_pend_node;
    return true;
}
