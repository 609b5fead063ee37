/*
 * FltRequestOperationStatusCallback (SPEC 6.7): a pre-operation callback asks
 * to learn the status the file system returned when the IRP was sent to it
 * (IoCallDriver's, which is STATUS_PENDING for an IRP the file system holds,
 * such as a granted oplock, or completes later). The request records the
 * filter's routine, context, related objects and a snapshot of the parameter
 * block; dispatch.c's file-system step runs the routines on the thread that
 * sent the IRP, once the file system returned and before the operation goes
 * on (or, for an IRP completing elsewhere, before its completion reaches the
 * requestor: post.c's completion waits for them, as Windows' reference on the
 * file object keeps it alive). An operation that never reaches the file
 * system (completed in a pre) calls none of them. Each call is traced
 * (FLTSIM_EV_STATUS_CALLBACK) just before the routine runs.
 */
#include "dispatch_internal.h"

#define OPSTATUS_TAG 'soMF' /* "FMos": FltMgr operation status requests */

struct fltsim_opstatus {
    struct fltsim_opstatus *next;
    PFLT_GET_OPERATION_STATUS_CALLBACK routine;
    PVOID context;
    struct _FLT_INSTANCE *instance; /* memory reference held */
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
    r->next = NULL;
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
    fltsim__instance_unref(r->instance);
    ExFreePoolWithTag(r, OPSTATUS_TAG);
}

struct fltsim_opstatus *fltsim__opstatus_take(struct fltsim_op *op)
{
    struct fltsim_opstatus *list = op->status_requests;
    op->status_requests = NULL;
    /* The completion, on whatever thread, now waits until the routines ran;
     * the reference keeps op's memory for the release below. */
    fltsim__op_ref(op);
    __atomic_store_n(&op->status_hold, 1, __ATOMIC_SEQ_CST);
    return list;
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

void fltsim__opstatus_run(struct fltsim_op *op, struct fltsim_opstatus *list, NTSTATUS status)
{
    fltsim_system *sys = op->sys;
    while (list != NULL) {
        struct fltsim_opstatus *r = list;
        list = r->next;
        struct fltsim_callout save;
        fltsim__enter(&save, sys, r->instance->filter, NULL);
        struct fltsim_tls *t = fltsim__tls();
        KIRQL irql = t->irql;
        if (fltsim__tracing(sys))
            trace_status(op, r, status);
        r->routine(&r->objects, &r->snapshot, status, r->context);
        if (t->irql != irql) {
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
