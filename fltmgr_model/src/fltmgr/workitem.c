/*
 * Work items (SPEC 5.1, 5.2) and FltDoCompletionProcessingWhenSafe (SPEC
 * 4.3): routines that run later on a system worker thread at PASSIVE_LEVEL,
 * which the executor provides (libuv's thread pool, or a coroutine of the
 * deterministic executor).
 *
 * A queued item holds a rundown reference on its filter until its routine
 * returns, so FltUnregisterFilter waits for it (SPEC 5.2), and on the object
 * it was queued for (the instance of a deferred I/O item), so queuing fails
 * with STATUS_FLT_DELETING_OBJECT once that object is being torn down. Items
 * are pool allocations under FltMgr's tag, so a leak shows in the pool
 * counts as well as in the V23 report at unload.
 */
#include <stdlib.h>
#include <string.h>

#include "dispatch_internal.h"

#define WORK_ITEM_TAG 'iwMF' /* "FMwi": FltMgr work item structures */

/* What both kinds of work item start with. */
struct work_item {
    struct fltsim_task task; /* first: the executor hands it back */
    ULONG magic;
    LONG queued;               /* 1 from queue until the routine starts */
    struct _FLT_FILTER *owner; /* who allocated it (memory ref), or NULL */
    fltsim_system *sys;        /* where it was queued last, or NULL */
    /* Items a filter owns, listed (owned_lock) so that those it never frees
     * go with the system they were allocated in (after their V23 report). */
    fltsim_system *owner_sys;
    struct work_item *prev, *next;
};

static uv_once_t owned_once = UV_ONCE_INIT;
static uv_mutex_t owned_lock;
static struct work_item *owned_items; /* owned_lock */

static void owned_init(void)
{
    if (uv_mutex_init(&owned_lock) != 0)
        abort();
}

static void owned_unlink_locked(struct work_item *item)
{
    if (item->prev != NULL)
        item->prev->next = item->next;
    else
        owned_items = item->next;
    if (item->next != NULL)
        item->next->prev = item->prev;
    item->prev = item->next = NULL;
    item->owner_sys = NULL;
}

struct _FLT_DEFERRED_IO_WORKITEM {
    struct work_item item;
    struct fltsim_op *op;           /* reference held while queued */
    struct _FLT_INSTANCE *instance; /* rundown reference held while queued */
    PFLT_DEFERRED_IO_WORKITEM_ROUTINE routine;
    PVOID context;
};

struct _FLT_GENERIC_WORKITEM {
    struct work_item item;
    PVOID object;               /* filter or instance, rundown reference held */
    struct _FLT_FILTER *filter; /* rundown reference held (unregister waits) */
    PFLT_GENERIC_WORKITEM_ROUTINE routine;
    PVOID context;
};

struct item_kind {
    ULONG magic;
    const char *what; /* for messages and traces */
    const char *spec;
};

static const struct item_kind deferred_kind = {FLTSIM_MAGIC_DEFERRED_ITEM, "deferred I/O", "5.1"};
static const struct item_kind generic_kind = {FLTSIM_MAGIC_GENERIC_ITEM, "generic", "5.2"};

/* ---- shared pieces ---- */

/* Reports a wrong call; falls back to stderr outside any system. */
static void misuse(fltsim_system *sys, const char *rule, const char *spec, const char *message)
{
    struct fltsim_tls *t = fltsim__tls();
    if (sys == NULL)
        sys = t->sys;
    if (sys != NULL)
        fltsim__report(sys, t->filter, NULL, t->op, rule, spec, "%s", message);
    else
        fprintf(stderr, "fltsim: %s: %s\n", rule, message);
}

static void trace_work(fltsim_system *sys, enum fltsim_event_type type, struct _FLT_FILTER *filter,
                       const char *what, ULONG64 op_id, NTSTATUS status)
{
    if (!fltsim__tracing(sys))
        return;
    struct fltsim_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.op_id = op_id;
    ev.filter = filter != NULL ? filter->name8 : NULL;
    ev.detail = what;
    ev.status = status;
    fltsim__event_thread(&ev);
    fltsim__trace(sys, &ev);
}

/* The filter running on this thread takes ownership of a new item (its
 * count is checked at unload, V23). */
static struct _FLT_FILTER *adopt(void)
{
    struct _FLT_FILTER *filter = fltsim__tls()->filter;
    if (filter != NULL) {
        fltsim__filter_ref(filter);
        __atomic_add_fetch(&filter->work_items, 1, __ATOMIC_SEQ_CST);
    }
    return filter;
}

static void disown(struct _FLT_FILTER *owner)
{
    if (owner == NULL)
        return;
    __atomic_sub_fetch(&owner->work_items, 1, __ATOMIC_SEQ_CST);
    fltsim__filter_unref(owner);
}

/* Drops a rundown reference taken with fltsim__object_reference. */
static void object_release(void *object)
{
    fltsim__object_dereference(object);
}

static void *item_allocate(size_t size, const struct item_kind *kind, const char *api)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->sys != NULL)
        fltsim__check_irql(t->sys, DISPATCH_LEVEL, api);
    struct work_item *item =
        fltsim__pool_allocate_internal(NonPagedPoolNx, size, WORK_ITEM_TAG, true);
    if (item == NULL)
        return NULL;
    item->magic = kind->magic;
    item->owner = adopt();
    if (item->owner != NULL && t->sys != NULL) {
        uv_once(&owned_once, owned_init);
        uv_mutex_lock(&owned_lock);
        item->owner_sys = t->sys;
        item->next = owned_items;
        if (owned_items != NULL)
            owned_items->prev = item;
        owned_items = item;
        uv_mutex_unlock(&owned_lock);
    }
    return item;
}

static bool item_valid(const struct work_item *item, const struct item_kind *kind, const char *api)
{
    if (item != NULL && item->magic == kind->magic)
        return true;
    char message[160];
    snprintf(message, sizeof(message), "%s(%p): not a %s work item (or freed)", api,
             (const void *)item, kind->what);
    misuse(NULL, "V23", kind->spec, message);
    return false;
}

static void item_free(struct work_item *item, const struct item_kind *kind, const char *api)
{
    if (!item_valid(item, kind, api))
        return;
    struct fltsim_tls *t = fltsim__tls();
    if (t->sys != NULL)
        fltsim__check_irql(t->sys, DISPATCH_LEVEL, api);
    if (__atomic_load_n(&item->queued, __ATOMIC_SEQ_CST)) {
        char message[192];
        snprintf(message, sizeof(message),
                 "%s: the item is queued and its routine has not run; not freed (on Windows: "
                 "pool corruption)",
                 api);
        misuse(item->sys, "V23", kind->spec, message);
        return;
    }
    if (item->owner_sys != NULL) {
        uv_mutex_lock(&owned_lock);
        owned_unlink_locked(item);
        uv_mutex_unlock(&owned_lock);
    }
    item->magic = FLTSIM_MAGIC_DEAD;
    disown(item->owner);
    ExFreePoolWithTag(item, WORK_ITEM_TAG);
}

void fltsim__workitems_system_destroyed(fltsim_system *sys)
{
    uv_once(&owned_once, owned_init);
    for (;;) {
        uv_mutex_lock(&owned_lock);
        struct work_item *item = owned_items;
        while (item != NULL && item->owner_sys != sys)
            item = item->next;
        if (item != NULL)
            owned_unlink_locked(item);
        uv_mutex_unlock(&owned_lock);
        if (item == NULL)
            return;
        /* Never freed by its filter (reported, V23, at its unload): the
         * simulated machine's memory goes with it. */
        item->magic = FLTSIM_MAGIC_DEAD;
        disown(item->owner);
        ExFreePoolWithTag(item, WORK_ITEM_TAG);
    }
}

/* Marks the item queued; false (reported) when it already is. */
static bool item_claim(struct work_item *item, fltsim_system *sys, const struct item_kind *kind,
                       const char *api)
{
    LONG expected = 0;
    if (__atomic_compare_exchange_n(&item->queued, &expected, 1, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST)) {
        item->sys = sys;
        return true;
    }
    char message[192];
    snprintf(message, sizeof(message),
             "%s: the item is already queued; an item can be queued again only once its "
             "routine has started",
             api);
    misuse(sys, "V23", kind->spec, message);
    return false;
}

/* [SIM] SPEC 5.3: only the two documented queues are served. */
static NTSTATUS check_queue_type(WORK_QUEUE_TYPE type, const char *api)
{
    if (type == CriticalWorkQueue || type == DelayedWorkQueue)
        return STATUS_SUCCESS;
    return fltsim__fail(STATUS_INVALID_PARAMETER,
                        "%s: QueueType %d; only CriticalWorkQueue and DelayedWorkQueue are served",
                        api, (int)type);
}

/* ---- deferred I/O work items (SPEC 5.1) ---- */

PFLT_DEFERRED_IO_WORKITEM FltAllocateDeferredIoWorkItem(VOID)
{
    return item_allocate(sizeof(struct _FLT_DEFERRED_IO_WORKITEM), &deferred_kind,
                         "FltAllocateDeferredIoWorkItem");
}

VOID FltFreeDeferredIoWorkItem(PFLT_DEFERRED_IO_WORKITEM FltWorkItem)
{
    item_free((struct work_item *)FltWorkItem, &deferred_kind, "FltFreeDeferredIoWorkItem");
}

/* ---- work routines that raise (SEH) ---- */

struct deferred_call {
    PFLT_DEFERRED_IO_WORKITEM_ROUTINE routine;
    PFLT_DEFERRED_IO_WORKITEM item;
    PFLT_CALLBACK_DATA data;
    PVOID context;
};

static void deferred_thunk(void *ctx)
{
    struct deferred_call *c = ctx;
    c->routine(c->item, c->data, c->context);
}

/* A deferred work routine of inst raised an exception it did not handle: the
 * operation it was given, if inst still keeps it pended, completes with the
 * exception's status, as the routine would have completed it (cleanup and
 * close, which cannot fail, with their status). Runs in the routine's
 * context, where the completion routines expect their caller. */
static void complete_abandoned(struct fltsim_op *op, struct _FLT_INSTANCE *inst, NTSTATUS status)
{
    if (__atomic_load_n(&op->pre_pend, __ATOMIC_SEQ_CST) == FLTSIM_PEND_PENDED) {
        struct fltsim_node *node =
            &op->nodes[__atomic_load_n(&op->pre_pend_node, __ATOMIC_SEQ_CST)];
        if (node->instance != inst)
            return;
        UCHAR major = node->view.MajorFunction;
        if (major == IRP_MJ_CLEANUP || major == IRP_MJ_CLOSE) {
            FltCompletePendedPreOperation(&op->data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
            return;
        }
        op->data.IoStatus.Status = status;
        op->data.IoStatus.Information = 0;
        FltCompletePendedPreOperation(&op->data, FLT_PREOP_COMPLETE, NULL);
        return;
    }
    if (__atomic_load_n(&op->post_pend, __ATOMIC_SEQ_CST) != FLTSIM_PEND_PENDED)
        return;
    struct fltsim_node *node = &op->nodes[__atomic_load_n(&op->post_pend_node, __ATOMIC_SEQ_CST)];
    if (node->instance != inst)
        return;
    UCHAR major = node->view.MajorFunction;
    if (major != IRP_MJ_CLEANUP && major != IRP_MJ_CLOSE) {
        PFILE_OBJECT fo = node->view.TargetFileObject;
        NTSTATUS opened = op->fs_status;
        if (major == IRP_MJ_CREATE && fo != NULL && NT_SUCCESS(opened) &&
            opened != STATUS_REPARSE && !(fo->Flags & FO_FILE_OPEN_CANCELLED) &&
            NT_SUCCESS(op->data.IoStatus.Status))
            FltCancelFileOpen(inst, fo);
        op->data.IoStatus.Status = status;
        op->data.IoStatus.Information = 0;
    }
    FltCompletePendedPostOperation(&op->data);
}

static void deferred_run(struct fltsim_task *task)
{
    PFLT_DEFERRED_IO_WORKITEM item = (PFLT_DEFERRED_IO_WORKITEM)task;
    /* The routine usually frees the item: take what we need first. */
    struct fltsim_op *op = item->op;
    struct _FLT_INSTANCE *inst = item->instance;
    struct _FLT_FILTER *filter = inst->filter;
    PFLT_DEFERRED_IO_WORKITEM_ROUTINE routine = item->routine;
    PVOID context = item->context;
    fltsim_system *sys = op->sys;

    trace_work(sys, FLTSIM_EV_WORK_RUN, filter, deferred_kind.what, op->id, 0);
    __atomic_store_n(&item->item.queued, 0, __ATOMIC_SEQ_CST);
    struct fltsim_callout save;
    fltsim__enter(&save, sys, filter, NULL);
    fltsim__tls()->callout_what = "deferred I/O work routine";
    struct deferred_call call = {routine, item, &op->data, context};
    struct fltsim_seh_frame seh;
    if (!fltsim__seh_call(&seh, deferred_thunk, &call))
        complete_abandoned(
            op, inst,
            fltsim__seh_uncaught(&seh, sys, filter, inst, op, "its deferred I/O work routine",
                                 "fltsim ends the routine on its worker thread, and an "
                                 "operation the instance still keeps pended completes with "
                                 "that status"));
    fltsim__leave(&save);
    fltsim__op_unref(op);
    object_release(inst);
    object_release(filter);
}

NTSTATUS FltQueueDeferredIoWorkItem(PFLT_DEFERRED_IO_WORKITEM FltWorkItem, PFLT_CALLBACK_DATA Data,
                                    PFLT_DEFERRED_IO_WORKITEM_ROUTINE WorkerRoutine,
                                    WORK_QUEUE_TYPE QueueType, PVOID Context)
{
    static const char api[] = "FltQueueDeferredIoWorkItem";
    if (!item_valid((struct work_item *)FltWorkItem, &deferred_kind, api))
        return STATUS_INVALID_PARAMETER;
    struct fltsim_op *op = fltsim__op_from_data(Data);
    if (op == NULL || WorkerRoutine == NULL) {
        misuse(NULL, "V23", "5.1",
               "FltQueueDeferredIoWorkItem: Data must be the callback data of an operation in "
               "flight and WorkerRoutine must not be NULL");
        return STATUS_INVALID_PARAMETER;
    }
    fltsim_system *sys = op->sys;
    fltsim__check_irql(sys, DISPATCH_LEVEL, api);
    struct _FLT_FILTER *caller = fltsim__tls()->filter;
    NTSTATUS status = check_queue_type(QueueType, api);
    if (!NT_SUCCESS(status))
        goto out;
    /* A fault point (fault.c): an injected failure comes before the real checks. */
    if (fltsim_fault_point_reach(sys, FLTSIM_FAULT_DEFERRED_QUEUE, 0, &status))
        goto out;
    /* SPEC 5.1 ([RE LiberNT] order): the not-safe causes, then teardown. */
    /* IRP_SYNCHRONOUS_PAGING_IO only qualifies IRP_PAGING_IO: alone, its
     * value (0x40) is IRP_INPUT_OPERATION. */
    if (op->kind != FLTSIM_OP_IRP || (op->iopb.IrpFlags & IRP_PAGING_IO) != 0 ||
        IoGetTopLevelIrp() != NULL) {
        status = STATUS_FLT_NOT_SAFE_TO_POST_OPERATION;
        goto out;
    }
    PFLT_INSTANCE inst = Data->Iopb->TargetInstance;
    if (!fltsim__is_instance(inst) || inst->volume != op->volume) {
        status = fltsim__fail(STATUS_INVALID_PARAMETER,
                              "%s: Data->Iopb->TargetInstance is not an instance on the "
                              "operation's volume",
                              api);
        goto out;
    }
    if (op->drain_copy || !NT_SUCCESS(fltsim__object_reference(inst))) {
        status = STATUS_FLT_DELETING_OBJECT;
        goto out;
    }
    if (!NT_SUCCESS(fltsim__object_reference(inst->filter))) {
        object_release(inst);
        status = STATUS_FLT_DELETING_OBJECT;
        goto out;
    }
    if (!item_claim((struct work_item *)FltWorkItem, sys, &deferred_kind, api)) {
        object_release(inst->filter);
        object_release(inst);
        status = STATUS_INVALID_PARAMETER;
        goto out;
    }
    fltsim__op_ref(op);
    FltWorkItem->op = op;
    FltWorkItem->instance = inst;
    FltWorkItem->routine = WorkerRoutine;
    FltWorkItem->context = Context;
    FltWorkItem->item.task.run = deferred_run;
    FltWorkItem->item.task.kind = FLTSIM_TASK_WORK;
    trace_work(sys, FLTSIM_EV_WORK_QUEUED, caller, deferred_kind.what, op->id, STATUS_SUCCESS);
    fltsim__submit(sys->executor, &FltWorkItem->item.task);
    return STATUS_SUCCESS;
out:
    trace_work(sys, FLTSIM_EV_WORK_QUEUED, caller, deferred_kind.what, op->id, status);
    return status;
}

/* ---- generic work items (SPEC 5.2) ---- */

PFLT_GENERIC_WORKITEM FltAllocateGenericWorkItem(VOID)
{
    return item_allocate(sizeof(struct _FLT_GENERIC_WORKITEM), &generic_kind,
                         "FltAllocateGenericWorkItem");
}

VOID FltFreeGenericWorkItem(PFLT_GENERIC_WORKITEM FltWorkItem)
{
    item_free((struct work_item *)FltWorkItem, &generic_kind, "FltFreeGenericWorkItem");
}

struct generic_call {
    PFLT_GENERIC_WORKITEM_ROUTINE routine;
    PFLT_GENERIC_WORKITEM item;
    PVOID object;
    PVOID context;
};

static void generic_thunk(void *ctx)
{
    struct generic_call *c = ctx;
    c->routine(c->item, c->object, c->context);
}

static void generic_run(struct fltsim_task *task)
{
    PFLT_GENERIC_WORKITEM item = (PFLT_GENERIC_WORKITEM)task;
    fltsim_system *sys = item->item.sys;
    PVOID object = item->object;
    struct _FLT_FILTER *filter = item->filter;
    PFLT_GENERIC_WORKITEM_ROUTINE routine = item->routine;
    PVOID context = item->context;

    trace_work(sys, FLTSIM_EV_WORK_RUN, filter, generic_kind.what, 0, 0);
    __atomic_store_n(&item->item.queued, 0, __ATOMIC_SEQ_CST);
    struct fltsim_callout save;
    fltsim__enter(&save, sys, filter, NULL);
    fltsim__tls()->callout_what = "generic work routine";
    struct generic_call call = {routine, item, object, context};
    struct fltsim_seh_frame seh;
    if (!fltsim__seh_call(&seh, generic_thunk, &call))
        fltsim__seh_uncaught(&seh, sys, filter, NULL, NULL, "its generic work routine",
                             "fltsim ends the routine on its worker thread");
    fltsim__leave(&save);
    if (object != filter)
        object_release(object);
    object_release(filter); /* FltUnregisterFilter may go on */
}

NTSTATUS FltQueueGenericWorkItem(PFLT_GENERIC_WORKITEM FltWorkItem, PVOID FltObject,
                                 PFLT_GENERIC_WORKITEM_ROUTINE WorkerRoutine,
                                 WORK_QUEUE_TYPE QueueType, PVOID Context)
{
    static const char api[] = "FltQueueGenericWorkItem";
    if (!item_valid((struct work_item *)FltWorkItem, &generic_kind, api))
        return STATUS_INVALID_PARAMETER;
    bool is_filter = fltsim__is_filter(FltObject);
    if ((!is_filter && !fltsim__is_instance(FltObject)) || WorkerRoutine == NULL) {
        misuse(NULL, "V23", "5.2",
               "FltQueueGenericWorkItem: FltObject must be a filter or an instance and "
               "WorkerRoutine must not be NULL");
        return STATUS_INVALID_PARAMETER;
    }
    struct _FLT_FILTER *filter =
        is_filter ? (struct _FLT_FILTER *)FltObject : ((struct _FLT_INSTANCE *)FltObject)->filter;
    fltsim_system *sys = filter->sys;
    fltsim__check_irql(sys, DISPATCH_LEVEL, api);
    NTSTATUS status = check_queue_type(QueueType, api);
    if (!NT_SUCCESS(status))
        goto out;
    /* A fault point (fault.c): fails as if the object were being torn down. */
    if (fltsim_fault_point_reach(sys, FLTSIM_FAULT_GENERIC_QUEUE, 0, &status))
        goto out;
    /* The reference on the object passed fails while it is torn down or its
     * filter unloads (SPEC 5.2, [RE LiberNT]); the one on the filter keeps
     * FltUnregisterFilter waiting for the routine. */
    if (!NT_SUCCESS(fltsim__object_reference(FltObject))) {
        status = STATUS_FLT_DELETING_OBJECT;
        goto out;
    }
    if (!is_filter && !NT_SUCCESS(fltsim__object_reference(filter))) {
        object_release(FltObject);
        status = STATUS_FLT_DELETING_OBJECT;
        goto out;
    }
    if (!item_claim((struct work_item *)FltWorkItem, sys, &generic_kind, api)) {
        if (!is_filter)
            object_release(filter);
        object_release(FltObject);
        status = STATUS_INVALID_PARAMETER;
        goto out;
    }
    FltWorkItem->object = FltObject;
    FltWorkItem->filter = filter;
    FltWorkItem->routine = WorkerRoutine;
    FltWorkItem->context = Context;
    FltWorkItem->item.task.run = generic_run;
    FltWorkItem->item.task.kind = FLTSIM_TASK_WORK;
    trace_work(sys, FLTSIM_EV_WORK_QUEUED, filter, generic_kind.what, 0, STATUS_SUCCESS);
    fltsim__submit(sys->executor, &FltWorkItem->item.task);
    return STATUS_SUCCESS;
out:
    trace_work(sys, FLTSIM_EV_WORK_QUEUED, filter, generic_kind.what, 0, status);
    return status;
}

/* ---- FltDoCompletionProcessingWhenSafe (SPEC 4.3) ---- */

struct safe_work {
    struct fltsim_task task;
    struct fltsim_op *op; /* reference held */
    ULONG node;
    PFLT_POST_OPERATION_CALLBACK callback;
    PVOID context;
    FLT_POST_OPERATION_FLAGS flags;
};

struct safe_call {
    PFLT_POST_OPERATION_CALLBACK callback;
    struct fltsim_op *op;
    struct fltsim_node *node;
    PVOID context;
    FLT_POST_OPERATION_FLAGS flags;
    FLT_POSTOP_CALLBACK_STATUS status;
};

static void safe_thunk(void *ctx)
{
    struct safe_call *c = ctx;
    c->status = c->callback(&c->op->data, &c->node->objects, c->context, c->flags);
}

static void safe_run(struct fltsim_task *task)
{
    struct safe_work *w = (struct safe_work *)task;
    struct fltsim_op *op = w->op;
    struct fltsim_node *node = &op->nodes[w->node];
    struct _FLT_FILTER *filter = node->instance->filter;
    fltsim_system *sys = op->sys;
    trace_work(sys, FLTSIM_EV_WORK_RUN, filter, "completion when safe", op->id, 0);

    struct fltsim_callout save;
    fltsim__enter(&save, sys, filter, op);
    fltsim__tls()->in_post = true; /* SafePostCallback is the post, continued */
    fltsim__tls()->callout_what = "SafePostCallback (FltDoCompletionProcessingWhenSafe)";
    struct safe_call call = {w->callback, op,       node,
                             w->context,  w->flags, FLT_POSTOP_FINISHED_PROCESSING};
    struct fltsim_seh_frame seh;
    if (!fltsim__seh_call(&seh, safe_thunk, &call)) {
        UCHAR major = node->view.MajorFunction;
        bool cannot_fail = major == IRP_MJ_CLEANUP || major == IRP_MJ_CLOSE;
        NTSTATUS status = fltsim__seh_uncaught(
            &seh, sys, NULL, node->instance, op,
            "its SafePostCallback (FltDoCompletionProcessingWhenSafe)",
            cannot_fail ? "cleanup and close cannot fail: fltsim ends the callback and the "
                          "completion goes on with the status it had"
                        : "fltsim ends the callback and fails the operation with that status");
        if (!cannot_fail) {
            op->data.IoStatus.Status = status;
            op->data.IoStatus.Information = 0;
        }
        call.status = FLT_POSTOP_FINISHED_PROCESSING;
    }
    FLT_POSTOP_CALLBACK_STATUS st = call.status;
    fltsim__leave(&save);
    free(w);
    if (st != FLT_POSTOP_FINISHED_PROCESSING && st != FLT_POSTOP_MORE_PROCESSING_REQUIRED)
        fltsim__report(sys, NULL, node->instance, op, "V10", "4.3",
                       "the SafePostCallback returned %d; handled as "
                       "FLT_POSTOP_FINISHED_PROCESSING",
                       (int)st);
    /* FltMgr resumes completion itself unless the callback kept the
     * operation (SPEC 4.3). */
    if (st != FLT_POSTOP_MORE_PROCESSING_REQUIRED)
        FltCompletePendedPostOperation(&op->data);
    fltsim__op_unref(op);
}

BOOLEAN FltDoCompletionProcessingWhenSafe(PFLT_CALLBACK_DATA Data, PCFLT_RELATED_OBJECTS FltObjects,
                                          PVOID CompletionContext, FLT_POST_OPERATION_FLAGS Flags,
                                          PFLT_POST_OPERATION_CALLBACK SafePostCallback,
                                          PFLT_POSTOP_CALLBACK_STATUS RetPostOperationStatus)
{
    static const char api[] = "FltDoCompletionProcessingWhenSafe";
    if (RetPostOperationStatus == NULL || SafePostCallback == NULL) {
        misuse(NULL, "V15", "4.3",
               "FltDoCompletionProcessingWhenSafe: SafePostCallback and RetPostOperationStatus "
               "are required");
        return FALSE;
    }
    *RetPostOperationStatus = FLT_POSTOP_FINISHED_PROCESSING;
    struct fltsim_op *op;
    ULONG node;
    if (!fltsim__in_post(Data, &op, &node)) {
        misuse(NULL, "V15", "4.3",
               "FltDoCompletionProcessingWhenSafe called outside the post-operation callback of "
               "its operation");
        return FALSE;
    }
    fltsim_system *sys = op->sys;
    if ((Flags & FLTFL_POST_OPERATION_DRAINING) || op->drain_copy) {
        misuse(sys, "V15", "4.4",
               "FltDoCompletionProcessingWhenSafe called while draining; a draining post only "
               "cleans up and returns FLT_POSTOP_FINISHED_PROCESSING");
        return FALSE;
    }
    if (op->kind != FLTSIM_OP_IRP) {
        misuse(sys, "V15", "4.3",
               "FltDoCompletionProcessingWhenSafe for a non-IRP operation; its post already runs "
               "at a safe IRQL");
        return FALSE;
    }
    if (KeGetCurrentIrql() < DISPATCH_LEVEL) {
        /* Safe already: the callback runs now (SPEC 4.3). */
        *RetPostOperationStatus = SafePostCallback(Data, FltObjects, CompletionContext, Flags);
        return TRUE;
    }
    /* [SIM] Not safe to post: paging I/O or a top-level IRP (SPEC 4.3, 12). */
    if ((op->iopb.IrpFlags & IRP_PAGING_IO) != 0 || IoGetTopLevelIrp() != NULL) {
        trace_work(sys, FLTSIM_EV_WORK_QUEUED, op->nodes[node].instance->filter,
                   "completion when safe", op->id, STATUS_FLT_NOT_SAFE_TO_POST_OPERATION);
        return FALSE;
    }
    struct safe_work *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        fprintf(stderr, "fltsim: %s: out of memory\n", api);
        return FALSE;
    }
    fltsim__op_ref(op);
    w->op = op;
    w->node = node;
    w->callback = SafePostCallback;
    w->context = CompletionContext;
    w->flags = Flags;
    w->task.run = safe_run;
    w->task.kind = FLTSIM_TASK_WORK;
    trace_work(sys, FLTSIM_EV_WORK_QUEUED, op->nodes[node].instance->filter, "completion when safe",
               op->id, STATUS_SUCCESS);
    *RetPostOperationStatus = FLT_POSTOP_MORE_PROCESSING_REQUIRED;
    fltsim__submit(sys->executor, &w->task);
    return TRUE;
}
