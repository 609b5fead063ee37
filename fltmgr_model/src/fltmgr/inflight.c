/*
 * The in-flight lists (SPEC 2.6, 4.4): every operation dispatched and not
 * complete is listed in a shard of its volume's lists (dispatch.c lists it,
 * post.c's completion unlists it). This file owns what is asked of them:
 * whether a volume or an instance still has operations in flight, how many
 * the system has, the draining of an instance's posts at teardown, and
 * FltCancelFileOpen's question (the create in flight for a file object).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch_internal.h"

/* ---- the lists ---- */

void fltsim__inflight_init(PFLT_VOLUME v)
{
    /* Spinlocks: nothing to create, nothing to release later. */
    for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
        v->inflight[s].lock = 0;
        InitializeListHead(&v->inflight[s].ops);
    }
}

bool fltsim__inflight_empty(PFLT_VOLUME v)
{
    bool empty = true;
    for (ULONG s = 0; s < FLTSIM_SHARDS && empty; s++) {
        fltsim__spin_lock(&v->inflight[s].lock);
        empty = IsListEmpty(&v->inflight[s].ops);
        fltsim__spin_unlock(&v->inflight[s].lock);
    }
    return empty;
}

/* Whether node is in its instance (SPEC 2.6 step 4): its pre is running or
 * holds the operation pended, it is owed a post, or its post is running,
 * holds the operation pended or drains. An IDLE node is not: the operation
 * has not reached the instance (it may be held above it), and when it does
 * after teardown began, it skips the instance (pre.c). */
static bool node_in_instance(const struct fltsim_node *node)
{
    LONG state = fltsim__node_state(node);
    return state != FLTSIM_NODE_IDLE && state != FLTSIM_NODE_DONE;
}

bool fltsim__instance_has_ops(struct _FLT_INSTANCE *inst)
{
    struct _FLT_VOLUME *v = inst->volume;
    bool busy = false;
    for (ULONG s = 0; s < FLTSIM_SHARDS && !busy; s++) {
        struct fltsim_inflight_shard *shard = &v->inflight[s];
        fltsim__spin_lock(&shard->lock);
        for (PLIST_ENTRY e = shard->ops.Flink; e != &shard->ops && !busy; e = e->Flink) {
            const struct fltsim_op *op = CONTAINING_RECORD(e, struct fltsim_op, inflight_link);
            /* node_count and the instances are set before the op is listed. */
            for (ULONG j = 0; j < op->node_count && !busy; j++)
                busy = op->nodes[j].instance == inst && node_in_instance(&op->nodes[j]);
        }
        fltsim__spin_unlock(&shard->lock);
    }
    return busy;
}

/* ---- what a teardown waits for, in words ---- */

/* The node index k of op where a pend handshake (pre_pend or post_pend)
 * holds the operation pended, or -1. */
static LONG pended_at(const LONG *pend, const ULONG *node)
{
    if (__atomic_load_n(pend, __ATOMIC_SEQ_CST) != FLTSIM_PEND_PENDED)
        return -1;
    return (LONG)__atomic_load_n(node, __ATOMIC_SEQ_CST);
}

/* Appends to out (at *at, at most size) what node j of op is waited for. */
static void describe_node(const struct fltsim_op *op, ULONG j, char *out, size_t size, size_t *at)
{
    const struct fltsim_node *node = &op->nodes[j];
    const char *filter = node->instance->filter->name8;
    LONG in_pre = pended_at(&op->pre_pend, &op->pre_pend_node);
    LONG in_post = pended_at(&op->post_pend, &op->post_pend_node);
    LONG state = fltsim__node_state(node);
    char what[768];
    if (state == FLTSIM_NODE_PRE && in_pre == (LONG)j) {
        snprintf(what, sizeof(what),
                 "pended in this instance's pre-operation callback by %s; only the filter can "
                 "complete it (FltCompletePendedPreOperation, V26)",
                 filter);
    } else if (state == FLTSIM_NODE_POSTING && in_post == (LONG)j) {
        snprintf(what, sizeof(what),
                 "pended in this instance's post-operation callback by %s; only the filter can "
                 "complete it (FltCompletePendedPostOperation, V26)",
                 filter);
    } else if (state == FLTSIM_NODE_PRE) {
        snprintf(what, sizeof(what), "%s's pre-operation callback is running", filter);
    } else if (state == FLTSIM_NODE_POSTING) {
        snprintf(what, sizeof(what), "%s's post-operation callback is running (or draining)",
                 filter);
    } else {
        /* Owed a post that is not drained (SPEC 2.6 step 3: the pre swapped
         * the buffer): the operation must complete first. Where it is: */
        LONG k = in_pre >= 0 ? in_pre : in_post;
        if (k >= 0 && (ULONG)k < op->node_count)
            snprintf(what, sizeof(what),
                     "owed a post by %s that cannot be drained (its pre swapped the buffer); the "
                     "operation is held pended in the %s-operation callback of %s, %s this "
                     "instance",
                     filter, in_pre >= 0 ? "pre" : "post", op->nodes[k].instance->filter->name8,
                     (ULONG)k > j ? "below" : "above");
        else
            snprintf(what, sizeof(what),
                     "owed a post by %s that cannot be drained (its pre swapped the buffer); the "
                     "operation is in the file system or on its way back up",
                     filter);
    }
    if (*at >= size)
        return;
    int n = snprintf(out + *at, size - *at, "\n  #%llu %s: %s", (unsigned long long)op->id,
                     fltsim_major_name(op->req->major), what);
    if (n > 0)
        *at += (size_t)n;
}

size_t fltsim__describe_instance_ops(struct _FLT_INSTANCE *inst, char *out, size_t size)
{
    enum { SHOWN = 8 };
    struct _FLT_VOLUME *v = inst->volume;
    size_t at = 0;
    ULONG count = 0;
    if (size != 0)
        out[0] = '\0';
    for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
        struct fltsim_inflight_shard *shard = &v->inflight[s];
        fltsim__spin_lock(&shard->lock);
        for (PLIST_ENTRY e = shard->ops.Flink; e != &shard->ops; e = e->Flink) {
            const struct fltsim_op *op = CONTAINING_RECORD(e, struct fltsim_op, inflight_link);
            for (ULONG j = 0; j < op->node_count; j++) {
                if (op->nodes[j].instance != inst || !node_in_instance(&op->nodes[j]))
                    continue;
                if (count++ < SHOWN)
                    describe_node(op, j, out, size, &at);
            }
        }
        fltsim__spin_unlock(&shard->lock);
    }
    if (count > SHOWN && at < size) {
        int n = snprintf(out + at, size - at, "\n  and %lu more", (unsigned long)(count - SHOWN));
        if (n > 0)
            at += (size_t)n;
    }
    return count;
}

LONG fltsim__ops_in_flight_locked(fltsim_system *sys)
{
    /* Every departure first, then every arrival: an operation whose
     * departure is seen has its arrival seen too (it happened before), so
     * equal sums mean that when the first pass ended every operation that
     * had arrived had also left (SRCU's two-pass count). */
    ULONG64 left = __atomic_load_n(&sys->callbacks_done, __ATOMIC_SEQ_CST);
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink) {
        PFLT_VOLUME v = CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
        for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
            fltsim__spin_lock(&v->inflight[s].lock);
            left += v->inflight[s].unlisted;
            fltsim__spin_unlock(&v->inflight[s].lock);
        }
    }
    ULONG64 arrived = __atomic_load_n(&sys->callbacks_started, __ATOMIC_SEQ_CST);
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink) {
        PFLT_VOLUME v = CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
        for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
            fltsim__spin_lock(&v->inflight[s].lock);
            arrived += v->inflight[s].listed;
            fltsim__spin_unlock(&v->inflight[s].lock);
        }
    }
    return (LONG)(arrived - left);
}

/* Takes a reference on each operation in flight on the volume. */
static struct fltsim_op **inflight_snapshot(PFLT_VOLUME volume, ULONG *count)
{
    struct fltsim_op **ops = NULL;
    ULONG n = 0, capacity = 0;
    bool lost = false;
    for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
        struct fltsim_inflight_shard *shard = &volume->inflight[s];
        fltsim__spin_lock(&shard->lock);
        for (PLIST_ENTRY e = shard->ops.Flink; e != &shard->ops; e = e->Flink) {
            if (n == capacity) {
                ULONG grown = capacity ? capacity * 2 : 16;
                struct fltsim_op **more = realloc(ops, grown * sizeof(*ops));
                if (more == NULL) {
                    lost = true;
                    break;
                }
                ops = more;
                capacity = grown;
            }
            struct fltsim_op *op = CONTAINING_RECORD(e, struct fltsim_op, inflight_link);
            fltsim__op_ref(op);
            ops[n++] = op;
        }
        fltsim__spin_unlock(&shard->lock);
    }
    if (lost)
        fprintf(stderr, "fltsim: out of memory draining volume %s\n", volume->name8);
    *count = n;
    return ops;
}

/* ---- draining (SPEC 2.6 step 3, 4.4) ---- */

/* Calls node's post on a copy of the callback data with
 * FLTFL_POST_OPERATION_DRAINING; node's state is POSTING (we won it). */
struct post_call {
    PFLT_POST_OPERATION_CALLBACK post;
    struct fltsim_op *op;
    PVOID context;
    FLT_POST_OPERATION_FLAGS flags;
    FLT_POSTOP_CALLBACK_STATUS status;
};

static void post_thunk(void *ctx)
{
    struct post_call *c = ctx;
    c->status = c->post(&c->op->data, &c->op->nodes[0].objects, c->context, c->flags);
}

static void drain_post(struct fltsim_op *op, struct fltsim_node *node, ULONG j)
{
    fltsim_system *sys = op->sys;
    struct _FLT_INSTANCE *inst = node->instance;
    PFLT_POST_OPERATION_CALLBACK post = inst->filter->ops[op->slot].post;
    struct fltsim_op *copy = fltsim__op_alloc(1);
    if (copy == NULL) {
        fltsim__report(sys, NULL, inst, op, "SIM", "4.4",
                       "out of memory draining the operation; its post is skipped");
        return;
    }
    /* Only what never changes after the pre is read from op: another thread
     * may be completing it right now. */
    copy->magic = FLTSIM_MAGIC_OP;
    copy->sys = sys;
    copy->volume = op->volume;
    copy->kind = op->kind;
    copy->slot = op->slot;
    copy->id = op->id;
    copy->refs = 1;
    copy->drain_copy = true;
    copy->thread = op->thread;
    copy->mode = op->mode;
    copy->phase = FLTSIM_PHASE_DONE;
    copy->node_count = 1;
    /* Field by field: the state is the claim other threads still try
     * (atomically) to take; the copy's own is POSTING, as claimed. */
    struct fltsim_node *mine = &copy->nodes[0];
    mine->instance = node->instance;
    mine->completion_context = node->completion_context;
    mine->view = node->view;
    memcpy((void *)&mine->objects, &node->objects, sizeof(mine->objects));
    mine->state = FLTSIM_NODE_POSTING;
    mine->synchronized = node->synchronized;
    mine->swapped = node->swapped;
    mine->pre_thread = node->pre_thread;
    InitializeListHead(&copy->waiters);
    InitializeListHead(&copy->inflight_link);
    memcpy(&copy->iopb, &node->view, sizeof(copy->iopb));
    copy->data.Flags =
        op->base_flags | FLTFL_CALLBACK_DATA_DRAINING_IO | FLTFL_CALLBACK_DATA_POST_OPERATION;
    PFLT_IO_PARAMETER_BLOCK iopb = &copy->iopb;
    memcpy((void *)&copy->data.Thread, &copy->thread, sizeof(copy->thread));
    memcpy((void *)&copy->data.Iopb, &iopb, sizeof(iopb));
    copy->data.RequestorMode = copy->mode;

    bool tracing = fltsim__tracing(sys);
    if (tracing)
        fltsim__trace_op(copy, FLTSIM_EV_POST, j, node, 0, FLTFL_POST_OPERATION_DRAINING);
    struct fltsim_callout save;
    fltsim__enter(&save, sys, inst->filter, copy);
    fltsim__tls()->in_post = true;
    struct post_call call = {post, copy, node->completion_context, FLTFL_POST_OPERATION_DRAINING,
                             FLT_POSTOP_FINISHED_PROCESSING};
    struct fltsim_seh_frame seh;
    if (!fltsim__seh_call(&seh, post_thunk, &call))
        fltsim__seh_uncaught(
            &seh, sys, NULL, inst, op, "its draining post-operation callback",
            "fltsim ends the callback (a draining post cannot fail the operation)");
    FLT_POSTOP_CALLBACK_STATUS st = call.status;
    fltsim__leave(&save);
    if (tracing)
        fltsim__trace_op(copy, FLTSIM_EV_POST_RETURN, j, node, (LONG)st,
                         FLTFL_POST_OPERATION_DRAINING);
    if (copy->has_mdls)
        fltsim__op_release_mdls(copy); /* FltLockUserBuffer's on the copy */
    if (st != FLT_POSTOP_FINISHED_PROCESSING)
        fltsim__report(sys, NULL, inst, op, "V10", "4.4",
                       "a draining post-operation callback returned %d; it must return "
                       "FLT_POSTOP_FINISHED_PROCESSING (the operation is not pended)",
                       (int)st);
    fltsim__op_unref(copy);
}

/* Whether inst keeps op pended in its pre or its post. */
static bool pended_by(const struct fltsim_op *op, const struct _FLT_INSTANCE *inst)
{
    if (__atomic_load_n(&op->pre_pend, __ATOMIC_SEQ_CST) == FLTSIM_PEND_PENDED &&
        op->nodes[__atomic_load_n(&op->pre_pend_node, __ATOMIC_SEQ_CST)].instance == inst)
        return true;
    return __atomic_load_n(&op->post_pend, __ATOMIC_SEQ_CST) == FLTSIM_PEND_PENDED &&
           op->nodes[__atomic_load_n(&op->post_pend_node, __ATOMIC_SEQ_CST)].instance == inst;
}

void fltsim__drain_instance(struct _FLT_INSTANCE *inst)
{
    ULONG count;
    struct fltsim_op **ops = inflight_snapshot(inst->volume, &count);
    ULONG pended = 0;
    for (ULONG k = 0; k < count; k++) {
        struct fltsim_op *op = ops[k];
        if (pended_by(op, inst))
            pended++;
    }
    if (pended != 0)
        fltsim__report(inst->volume->sys, NULL, inst, NULL, "V26", "2.6",
                       "InstanceTeardownStartCallback returned with %lu operation(s) still "
                       "pended by the instance; it must complete them (FltCompletePended"
                       "PreOperation / FltCompletePendedPostOperation) or teardown cannot finish",
                       (unsigned long)pended);
    for (ULONG k = 0; k < count; k++) {
        struct fltsim_op *op = ops[k];
        for (ULONG j = 0; j < op->node_count; j++) {
            struct fltsim_node *node = &op->nodes[j];
            if (node->instance != inst || fltsim__node_state(node) != FLTSIM_NODE_WANTS_POST)
                continue;
            /* SPEC 2.6 step 3: an operation whose buffer this filter swapped
             * is not drained (its post would free the buffer while the
             * layers below may still use it); FltMgr cancels it and waits
             * for it to complete: the cancel routine a filter below holding
             * it set is called here, on the tearing-down thread (cancel.c),
             * and the node is left to its normal post, which runs when the
             * operation completes (callbacks still run for operations that
             * started before teardown, SPEC 2.6 step 1); teardown waits for
             * that in step 4 (the node is not done until then). Its state
             * was read first: swapped is written before WANTS_POST. */
            if (node->swapped) {
                fltsim__op_cancel(op);
                continue;
            }
            LONG expected = FLTSIM_NODE_WANTS_POST;
            if (!__atomic_compare_exchange_n(&node->state, &expected, FLTSIM_NODE_POSTING, false,
                                             __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                continue;
            drain_post(op, node, j);
            fltsim__node_done(op, node); /* exactly once: the completion skips it */
            fltsim__wake_waiters(op);
        }
        fltsim__op_unref(op);
    }
    free(ops);
}

/* ---- FltCancelFileOpen's question (SPEC 4.5) ---- */

struct fltsim_op *fltsim__create_in_flight(struct _FLT_INSTANCE *inst, PFILE_OBJECT fo,
                                           bool *in_post)
{
    ULONG count;
    struct fltsim_op **ops = inflight_snapshot(inst->volume, &count);
    struct fltsim_op *found = NULL;
    *in_post = false;
    for (ULONG k = 0; k < count; k++) {
        struct fltsim_op *op = ops[k];
        /* kind, slot and file_object are set before the op is listed. */
        if (found == NULL && fltsim__is_create(op) && op->file_object == fo) {
            found = op;
            for (ULONG j = 0; j < op->node_count; j++)
                if (op->nodes[j].instance == inst &&
                    fltsim__node_state(&op->nodes[j]) == FLTSIM_NODE_POSTING)
                    *in_post = true;
            continue; /* keeps its reference for the caller */
        }
        fltsim__op_unref(op);
    }
    free(ops);
    return found;
}

/* ---- a cancel's question: the operation of an id ---- */

struct fltsim_op *fltsim__op_in_flight(struct _FLT_VOLUME *v, ULONG64 op_id)
{
    for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
        struct fltsim_inflight_shard *shard = &v->inflight[s];
        struct fltsim_op *found = NULL;
        fltsim__spin_lock(&shard->lock);
        for (PLIST_ENTRY e = shard->ops.Flink; e != &shard->ops; e = e->Flink) {
            struct fltsim_op *op = CONTAINING_RECORD(e, struct fltsim_op, inflight_link);
            /* id is set before the op is listed. */
            if (op->id == op_id) {
                fltsim__op_ref(op);
                found = op;
                break;
            }
        }
        fltsim__spin_unlock(&shard->lock);
        if (found != NULL)
            return found;
    }
    return NULL;
}
