/*
 * Cancelling pended I/O: an operation's Cancel bit and the cancel routine a
 * filter sets on it (FltSetCancelCompletion, FltClearCancelCompletion,
 * FltIsIoCanceled), the cancel itself (fltsim__op_cancel, what IoCancelIrp
 * does; fltsim_request_cancel, what the I/O manager's CancelIoEx calls), and
 * what a completion does to a cancel that has not happened. The routine is
 * taken by exactly one atomic exchange, so a cancel racing the completion or
 * FltClearCancelCompletion calls it once or not at all. Cancel-safe queues
 * are cbdq.c's; FltCancelIo (a filter cancelling I/O it issued) is not here.
 * FltCancellableWaitForSingleObject waits with a cancel routine of its own
 * set on the operation, which ends the wait with STATUS_CANCELLED.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dispatch_internal.h"

/* The operation behind data, or NULL (reported, rule SIM). */
static struct fltsim_op *op_of(PFLT_CALLBACK_DATA data, const char *api)
{
    struct fltsim_op *op = fltsim__op_from_data(data);
    if (op == NULL || op->drain_copy) {
        struct fltsim_tls *t = fltsim__tls();
        if (t->sys != NULL)
            fltsim__report(t->sys, t->filter, NULL, op, "SIM", "7.4",
                           "%s(%p): not the callback data of an operation in flight", api,
                           (void *)data);
        else
            fprintf(stderr,
                    "fltsim: SIM (SPEC 7.4): %s(%p): not the callback data of an operation in "
                    "flight\n",
                    api, (void *)data);
        return NULL;
    }
    return op;
}

static PFLT_COMPLETE_CANCELED_CALLBACK take_routine(struct fltsim_op *op)
{
    return __atomic_exchange_n(&op->cancel_routine, (PFLT_COMPLETE_CANCELED_CALLBACK)NULL,
                               __ATOMIC_SEQ_CST);
}

BOOLEAN fltsim__op_cancel(struct fltsim_op *op)
{
    if (op->kind != FLTSIM_OP_IRP)
        return FALSE;
    if (__atomic_exchange_n(&op->cancelled, 1, __ATOMIC_SEQ_CST) != 0)
        return FALSE; /* cancelled before: its routine was taken then */
    PFLT_COMPLETE_CANCELED_CALLBACK routine = take_routine(op);
    if (routine == NULL)
        return FALSE; /* not cancelable now: the bit stays for FltIsIoCanceled */
    if (routine == fltsim__cbdq_cancel_routine) {
        fltsim__cbdq_cancel(op);
        return TRUE;
    }
    /* FltMgr calls it without the cancel spin lock or any other lock, at the
     * canceller's IRQL; the filter synchronizes with its own completion. */
    struct fltsim_callout save;
    fltsim__enter(&save, op->sys, __atomic_load_n(&op->cancel_filter, __ATOMIC_SEQ_CST), op);
    fltsim__tls()->callout_what = "its cancel routine (FltSetCancelCompletion)";
    routine(&op->data);
    fltsim__leave(&save);
    return TRUE;
}

void fltsim__cancel_completing(struct fltsim_op *op, const char *api)
{
    if (__atomic_load_n(&op->cancel_routine, __ATOMIC_SEQ_CST) == NULL &&
        __atomic_load_n(&op->cbdq, __ATOMIC_SEQ_CST) == NULL)
        return;
    PFLT_COMPLETE_CANCELED_CALLBACK routine = take_routine(op);
    if (__atomic_load_n(&op->cbdq, __ATOMIC_SEQ_CST) == NULL)
        return;
    fltsim__report(op->sys, fltsim__tls()->filter, NULL, op, "SIM", "7.4",
                   "%s for an operation still in a cancel-safe queue; remove it first "
                   "(FltCbdqRemoveIo or FltCbdqRemoveNextIo)%s",
                   api,
                   routine == fltsim__cbdq_cancel_routine
                       ? ": FltMgr takes it out of the queue (RemoveIo)"
                       : " (it is being cancelled: CompleteCanceledIo will complete it again)");
    if (routine == fltsim__cbdq_cancel_routine)
        fltsim__cbdq_evict(op);
}

NTSTATUS fltsim_request_cancel(PFLT_VOLUME volume, ULONG64 op_id)
{
    if (volume == NULL || op_id == 0)
        return STATUS_INVALID_PARAMETER;
    struct fltsim_op *op = fltsim__op_in_flight(volume, op_id);
    if (op == NULL)
        return STATUS_NOT_FOUND;
    NTSTATUS status = STATUS_SUCCESS;
    if (op->kind != FLTSIM_OP_IRP)
        status = STATUS_INVALID_PARAMETER;
    else if (__atomic_load_n(&op->done, __ATOMIC_SEQ_CST) != 0)
        status = STATUS_NOT_FOUND; /* completed, leaving the lists */
    else
        fltsim__op_cancel(op);
    fltsim__op_unref(op);
    return status;
}

/* ---- the Flt routines ---- */

NTSTATUS FltSetCancelCompletion(PFLT_CALLBACK_DATA CallbackData,
                                PFLT_COMPLETE_CANCELED_CALLBACK CanceledCallback)
{
    static const char api[] = "FltSetCancelCompletion";
    struct fltsim_op *op = op_of(CallbackData, api);
    if (op == NULL)
        return STATUS_INVALID_PARAMETER;
    fltsim__check_irql(op->sys, DISPATCH_LEVEL, api);
    /* IRP-based, not paging I/O, a routine (Microsoft Learn); [SIM] the
     * status for the rest is STATUS_INVALID_PARAMETER. */
    if (op->kind != FLTSIM_OP_IRP || (op->iopb.IrpFlags & IRP_PAGING_IO) ||
        CanceledCallback == NULL)
        return STATUS_INVALID_PARAMETER;
    if (__atomic_load_n(&op->cbdq, __ATOMIC_SEQ_CST) != NULL) {
        fltsim__report(op->sys, fltsim__tls()->filter, NULL, op, "SIM", "7.4",
                       "%s for an operation in a cancel-safe queue; the queue cancels it "
                       "(CompleteCanceledIo): STATUS_INVALID_PARAMETER",
                       api);
        return STATUS_INVALID_PARAMETER;
    }
    __atomic_store_n(&op->cancel_filter, fltsim__tls()->filter, __ATOMIC_SEQ_CST);
    __atomic_store_n(&op->cancel_routine, CanceledCallback, __ATOMIC_SEQ_CST);
    /* Cancelled before the routine was there (IoSetCancelRoutine's rule):
     * whoever takes it back owns the cancel; when the canceller got it, it
     * calls it. */
    if (__atomic_load_n(&op->cancelled, __ATOMIC_SEQ_CST) != 0 && take_routine(op) != NULL)
        return STATUS_CANCELLED;
    return STATUS_SUCCESS;
}

NTSTATUS FltClearCancelCompletion(PFLT_CALLBACK_DATA CallbackData)
{
    static const char api[] = "FltClearCancelCompletion";
    struct fltsim_op *op = op_of(CallbackData, api);
    if (op == NULL)
        return STATUS_INVALID_PARAMETER;
    if (op->kind != FLTSIM_OP_IRP)
        return STATUS_INVALID_PARAMETER;
    if (__atomic_load_n(&op->cbdq, __ATOMIC_SEQ_CST) != NULL) {
        fltsim__report(op->sys, fltsim__tls()->filter, NULL, op, "SIM", "7.4",
                       "%s for an operation in a cancel-safe queue; take it out with "
                       "FltCbdqRemoveIo: STATUS_INVALID_PARAMETER",
                       api);
        return STATUS_INVALID_PARAMETER;
    }
    /* None set, or a cancel took it (and calls it): STATUS_CANCELLED. */
    return take_routine(op) != NULL ? STATUS_SUCCESS : STATUS_CANCELLED;
}

BOOLEAN FltIsIoCanceled(PFLT_CALLBACK_DATA CallbackData)
{
    struct fltsim_op *op = op_of(CallbackData, "FltIsIoCanceled");
    if (op == NULL || op->kind != FLTSIM_OP_IRP)
        return FALSE;
    return __atomic_load_n(&op->cancelled, __ATOMIC_SEQ_CST) != 0;
}

/* A filter cancels I/O it issued (FltAllocateCallbackData +
 * FltPerformAsynchronousIo): the Cancel bit is set and the cancel routine,
 * if one is set, called; TRUE only when a routine was called (Microsoft
 * Learn). Cancelling an operation someone else issued has unpredictable
 * results on Windows: reported (IO), then done as Windows does it. */
BOOLEAN FltCancelIo(PFLT_CALLBACK_DATA CallbackData)
{
    static const char api[] = "FltCancelIo";
    fltsim_system *own_sys;
    struct fltsim_op *op = fltsim__own_cbd_in_flight(CallbackData, &own_sys);
    if (op == NULL) {
        struct fltsim_op *other =
            CallbackData != NULL && own_sys == NULL ? fltsim__op_from_data(CallbackData) : NULL;
        struct fltsim_tls *t = fltsim__tls();
        if (other == NULL || other->drain_copy) {
            fltsim_system *sys = own_sys != NULL ? own_sys : t->sys;
            if (sys != NULL)
                fltsim__report(sys, t->filter, NULL, t->op, "IO", "6.7",
                               "%s(%p): not the callback data of an operation in flight (the "
                               "filter's own, performed asynchronously); FALSE",
                               api, (void *)CallbackData);
            else
                fprintf(stderr,
                        "fltsim: IO: %s(%p): not the callback data of an operation in flight\n",
                        api, (void *)CallbackData);
            return FALSE;
        }
        fltsim__report(other->sys, t->filter, NULL, other, "IO", "6.7",
                       "%s of an operation the filter did not issue: on Windows the results "
                       "are unpredictable (it may still complete with success); cancelled",
                       api);
        fltsim__check_irql(other->sys, DISPATCH_LEVEL, api);
        return __atomic_load_n(&other->done, __ATOMIC_SEQ_CST) == 0 ? fltsim__op_cancel(other)
                                                                    : FALSE;
    }
    fltsim__check_irql(op->sys, DISPATCH_LEVEL, api);
    BOOLEAN cancelled = FALSE;
    if (__atomic_load_n(&op->done, __ATOMIC_SEQ_CST) == 0)
        cancelled = fltsim__op_cancel(op);
    fltsim__op_unref(op);
    return cancelled;
}

/* ---- FltCancellableWaitForSingleObject ---- */

/* A wait in progress on an operation's behalf: the cancel routine it sets
 * finds it by the callback data and signals its event. */
struct cancellable_wait {
    LIST_ENTRY link; /* waits */
    PFLT_CALLBACK_DATA data;
    KEVENT cancelled;
};

static uv_once_t waits_once = UV_ONCE_INIT;
static uv_mutex_t waits_lock; /* a leaf */
static LIST_ENTRY waits;

static void waits_init(void)
{
    if (uv_mutex_init(&waits_lock) != 0)
        abort();
    InitializeListHead(&waits);
}

/* The cancel routine the wait sets: the operation is cancelled, the wait
 * ends (the filter, not FltMgr, completes the operation afterwards). */
static VOID FLTAPI wake_cancelled(PFLT_CALLBACK_DATA data)
{
    uv_mutex_lock(&waits_lock);
    for (PLIST_ENTRY e = waits.Flink; e != &waits; e = e->Flink) {
        struct cancellable_wait *w = CONTAINING_RECORD(e, struct cancellable_wait, link);
        if (w->data == data)
            KeSetEvent(&w->cancelled, IO_NO_INCREMENT, FALSE);
    }
    uv_mutex_unlock(&waits_lock);
}

NTSTATUS FltCancellableWaitForSingleObject(PVOID Object, PLARGE_INTEGER Timeout,
                                           PFLT_CALLBACK_DATA CallbackData)
{
    static const char api[] = "FltCancellableWaitForSingleObject";
    fltsim__check_irql(fltsim__tls()->sys, APC_LEVEL, api);
    /* Only an IRP-based operation's cancel ends the wait (Microsoft Learn);
     * without one it is a plain wait. */
    if (CallbackData == NULL || !FLT_IS_IRP_OPERATION(CallbackData))
        return KeWaitForSingleObject(Object, Executive, KernelMode, FALSE, Timeout);
    if (op_of(CallbackData, api) == NULL)
        return STATUS_INVALID_PARAMETER;
    uv_once(&waits_once, waits_init);
    struct cancellable_wait w = {.data = CallbackData};
    KeInitializeEvent(&w.cancelled, NotificationEvent, FALSE);
    uv_mutex_lock(&waits_lock);
    InsertTailList(&waits, &w.link);
    uv_mutex_unlock(&waits_lock);
    /* The I/O must have no cancel routine of the filter's own (Learn):
     * FltSetCancelCompletion refuses an operation in a cancel-safe queue. */
    NTSTATUS status = FltSetCancelCompletion(CallbackData, wake_cancelled);
    if (status == STATUS_SUCCESS) {
        PVOID objects[2] = {Object, &w.cancelled};
        status = KeWaitForMultipleObjects(2, objects, WaitAny, Executive, KernelMode, FALSE,
                                          Timeout, NULL);
        if (status == STATUS_WAIT_0 + 1) /* the cancel event */
            status = STATUS_CANCELLED;
        /* A cancel that took the routine calls it (or has): the entry goes
         * under the lock, so its event is never touched after. */
        (void)FltClearCancelCompletion(CallbackData);
    } else if (status != STATUS_CANCELLED) {
        status = fltsim__fail(status, "%s: the operation cannot be made cancellable (0x%08x)", api,
                              (unsigned)status);
    }
    uv_mutex_lock(&waits_lock);
    RemoveEntryList(&w.link);
    uv_mutex_unlock(&waits_lock);
    return status;
}
