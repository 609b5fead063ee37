/*
 * FltRequestOperationStatusCallback (SPEC 6.7): a pre-operation callback asks
 * to learn the status the file system returned when the IRP was sent to it
 * (IoCallDriver's, which is STATUS_PENDING for an IRP the file system holds,
 * such as a granted oplock, or completes later). The request records the
 * filter's routine, context, related objects and a snapshot of the parameter
 * block. The routines run on the thread that sent the IRP, once IoCallDriver
 * would have returned there: at once for STATUS_PENDING; for an IRP the file
 * system completed in its dispatch routine, after the completion (the posts)
 * that thread runs within the call, just before the operation completes, or
 * when the completion left the thread (a post pended it or must run on
 * another thread), with the completion waiting for them as Windows' reference
 * on the file object keeps it alive. An operation that never reaches the file
 * system (completed in a pre) calls none of them. Each call is traced
 * (FLTSIM_EV_STATUS_CALLBACK) just before the routine runs.
 */
#include <stdio.h>

#include "dispatch_internal.h"

#define OPSTATUS_TAG 'soMF' /* "FMos": FltMgr operation status requests */

struct fltsim_opstatus {
    struct fltsim_opstatus *next;
    /* The first request of an operation's list, from the file-system step
     * on: the thread that sent the IRP (which runs the routines) and the
     * status they get. */
    struct fltsim_sthread *sender;
    NTSTATUS status;
    PFLT_GET_OPERATION_STATUS_CALLBACK routine;
    PVOID context;
    struct _FLT_INSTANCE *instance; /* memory reference held; and one on its filter's rundown */
    ULONG depth;                    /* the instance's node in the operation */
    FLT_RELATED_OBJECTS objects;
    FLT_IO_PARAMETER_BLOCK snapshot;
};

/* STATUS_INVALID_PARAMETER without a report: the routine documents it. */
static NTSTATUS refuse(const char *why)
{
    return fltsim__fail(STATUS_INVALID_PARAMETER, "FltRequestOperationStatusCallback: %s", why);
}

NTSTATUS FltRequestOperationStatusCallback(PFLT_CALLBACK_DATA Data,
                                           PFLT_GET_OPERATION_STATUS_CALLBACK CallbackRoutine,
                                           PVOID RequesterContext)
{
    struct fltsim_tls *t = fltsim__tls();
    struct fltsim_op *op = fltsim__op_from_data(Data);
    if (op == NULL) {
        if (t->sys != NULL)
            fltsim__report(t->sys, t->filter, NULL, t->op, "V16", "6.1",
                           "FltRequestOperationStatusCallback(%p): not the callback data of an "
                           "operation in flight",
                           (void *)Data);
        return refuse("Data is not the callback data of an operation in flight");
    }
    fltsim__check_irql(op->sys, APC_LEVEL, "FltRequestOperationStatusCallback");
    if (CallbackRoutine == NULL)
        return refuse("CallbackRoutine is NULL");
    /* Only from the pre of a node of this operation, while it runs. */
    if (op->drain_copy || t->op != op || t->in_post || op->phase != FLTSIM_PHASE_PRE ||
        op->cursor >= op->node_count || t->filter != op->nodes[op->cursor].instance->filter)
        return refuse("not called from a pre-operation callback of the operation");
    if (op->kind != FLTSIM_OP_IRP)
        return refuse("the operation is not IRP-based");
    if (op->iopb.MajorFunction == IRP_MJ_CLOSE)
        return refuse("the operation is IRP_MJ_CLOSE");
    struct fltsim_node *node = &op->nodes[op->cursor];
    struct _FLT_INSTANCE *inst = node->instance;
    if (__atomic_load_n(&inst->state, __ATOMIC_ACQUIRE) != FLTSIM_INSTANCE_ATTACHED)
        return fltsim__fail(STATUS_FLT_DELETING_OBJECT,
                            "FltRequestOperationStatusCallback: the instance is being torn down");

    struct fltsim_opstatus *r =
        fltsim__pool_allocate_internal(NonPagedPoolNx, sizeof(*r), OPSTATUS_TAG, false);
    if (r == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES,
                            "FltRequestOperationStatusCallback: out of memory");
    /* The filter's code runs until the routine returned: its unregistration
     * waits for that (a rundown reference, as a queued work item holds). */
    if (!NT_SUCCESS(fltsim__object_reference(inst->filter))) {
        ExFreePoolWithTag(r, OPSTATUS_TAG);
        return fltsim__fail(STATUS_FLT_DELETING_OBJECT,
                            "FltRequestOperationStatusCallback: the filter is unregistering");
    }
    r->next = NULL;
    r->sender = NULL;
    r->status = STATUS_PENDING;
    r->routine = CallbackRoutine;
    r->context = RequesterContext;
    r->instance = inst;
    r->depth = op->cursor;
    fltsim__instance_ref(inst);
    memcpy((void *)&r->objects, &node->objects, sizeof(r->objects));
    /* The parameters as they are now: later changes of the pre do not show. */
    memcpy(&r->snapshot, &op->iopb, sizeof(r->snapshot));
    /* Called in the order requested. */
    struct fltsim_opstatus **tail = &op->status_requests;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = r;
    return STATUS_SUCCESS;
}

static void release(struct fltsim_opstatus *r)
{
    struct _FLT_FILTER *filter = r->instance->filter;
    fltsim__instance_unref(r->instance);
    ExFreePoolWithTag(r, OPSTATUS_TAG);
    fltsim__object_dereference(filter);
}

void fltsim__opstatus_hold(struct fltsim_op *op)
{
    struct fltsim_opstatus *list = op->status_requests;
    list->sender = fltsim__current_sthread();
    list->status = STATUS_PENDING;
    /* The completion, on whatever thread, now waits until the routines ran;
     * the reference keeps op's memory for fltsim__opstatus_release. */
    fltsim__op_ref(op);
    __atomic_store_n(&op->status_hold, 1, __ATOMIC_SEQ_CST);
}

void fltsim__opstatus_answered(struct fltsim_op *op, NTSTATUS status)
{
    op->status_requests->status = status;
}

/* FLTSIM_EV_STATUS_CALLBACK for r, on the thread about to call its routine.
 * Only what cannot change under a completion running on another thread
 * meanwhile: the operation's id and kind, the request's snapshot (codes, file
 * object, which the status hold keeps alive) and the requesting instance. */
static void trace_status(struct fltsim_op *op, const struct fltsim_opstatus *r, NTSTATUS status)
{
    struct fltsim_event ev;
    char file[512];
    memset(&ev, 0, sizeof(ev));
    ev.type = FLTSIM_EV_STATUS_CALLBACK;
    ev.op_id = op->id;
    ev.kind = op->kind;
    ev.major = r->snapshot.MajorFunction;
    ev.minor = r->snapshot.MinorFunction;
    ev.depth = r->depth;
    ev.filter = r->instance->filter->name8;
    ev.instance = r->instance->name8;
    ev.altitude = r->instance->altitude.text;
    ev.volume = op->volume->name8;
    ev.status = status;
    PFILE_OBJECT fo = r->snapshot.TargetFileObject;
    if (fo != NULL && fo->FileName.Buffer != NULL) {
        fltsim__ustr_to_utf8(&fo->FileName, file, sizeof(file));
        ev.detail = file;
    }
    fltsim__event_thread(&ev);
    fltsim__trace(op->sys, &ev);
}

struct status_call {
    struct fltsim_opstatus *r;
    NTSTATUS status;
};

static void call_routine(void *ctx)
{
    struct status_call *c = ctx;
    struct fltsim_opstatus *r = c->r;
    r->routine(&r->objects, &r->snapshot, c->status, r->context);
}

/* Calls the routines of list (op's, which may be completing on another
 * thread: only what trace_status names is read of it), frees them, and
 * releases the completion. */
static void run_list(struct fltsim_op *op, struct fltsim_opstatus *list, NTSTATUS status)
{
    fltsim_system *sys = op->sys;
    while (list != NULL) {
        struct fltsim_opstatus *r = list;
        list = r->next;
        struct fltsim_callout save;
        fltsim__enter(&save, sys, r->instance->filter, NULL);
        struct fltsim_tls *t = fltsim__tls();
        t->callout_what = "operation status callback";
        KIRQL irql = t->irql;
        if (fltsim__tracing(sys))
            trace_status(op, r, status);
        struct status_call call = {r, status};
        struct fltsim_seh_frame seh;
        if (!fltsim__seh_call(&seh, call_routine, &call)) {
            char what[96];
            snprintf(what, sizeof(what), "its operation status callback for %s",
                     fltsim_major_name(r->snapshot.MajorFunction));
            fltsim__seh_uncaught(&seh, sys, r->instance->filter, r->instance, NULL, what,
                                 "fltsim ends the routine; the operation goes on");
        } else if (t->irql != irql) {
            fltsim__report(sys, NULL, r->instance, NULL, "V28", "5.1",
                           "the operation status callback returned at IRQL %u; it was called "
                           "at %u and must return there",
                           (unsigned)t->irql, (unsigned)irql);
            t->irql = irql;
        }
        fltsim__leave(&save);
        release(r);
    }
    /* Under the lock, which the completion waiting in post.c checks under. */
    uv_mutex_lock(&op->lock);
    __atomic_store_n(&op->status_hold, 0, __ATOMIC_SEQ_CST);
    uv_mutex_unlock(&op->lock);
    fltsim__wake_waiters(op);
}

void fltsim__opstatus_run_owed(struct fltsim_op *op)
{
    /* Only the sender takes the list, under the lock that a completion on
     * another thread looks at it under. */
    struct fltsim_sthread *me = fltsim__current_sthread();
    uv_mutex_lock(&op->lock);
    struct fltsim_opstatus *list = op->status_requests;
    if (list != NULL && list->sender == me)
        op->status_requests = NULL;
    else
        list = NULL;
    uv_mutex_unlock(&op->lock);
    if (list != NULL)
        run_list(op, list, list->status);
}

void fltsim__opstatus_release(struct fltsim_op *op)
{
    fltsim__opstatus_run_owed(op);
    fltsim__op_unref(op);
}

void fltsim__opstatus_discard(struct fltsim_op *op)
{
    struct fltsim_opstatus *list = op->status_requests;
    op->status_requests = NULL;
    while (list != NULL) {
        struct fltsim_opstatus *r = list;
        list = r->next;
        release(r);
    }
}
