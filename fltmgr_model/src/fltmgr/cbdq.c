/*
 * Cancel-safe callback-data queues (SPEC 7.4): FltCbdqInitialize, Enable,
 * Disable, InsertIo, RemoveIo and RemoveNextIo. The filter supplies the list
 * (InsertIo, RemoveIo, PeekNextIo) and the lock (Acquire, Release); FltMgr
 * calls them under that lock and makes the queue cancel-safe by setting its
 * own cancel routine on each queued operation: whoever takes that routine
 * (a cancel, or a removal, by one atomic exchange in cancel.c's sense) takes
 * the operation out, so a cancel racing a removal hands it over once. A
 * cancelled operation leaves through RemoveIo and CompleteCanceledIo.
 */
#include <stdio.h>

#include "dispatch_internal.h"

/* The queue's private flags: a pattern that says FltCbdqInitialize ran,
 * and whether the queue is disabled. */
#define CBDQ_MAGIC 0xCBD00000u
#define CBDQ_MAGIC_MASK 0xFFFF0000u
#define CBDQ_DISABLED 0x1u

static void report(PFLT_CALLBACK_DATA_QUEUE cbdq, struct fltsim_op *op, const char *fmt,
                   const char *api)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim_system *sys = op != NULL ? op->sys : t->sys;
    if (sys != NULL) {
        fltsim__report(sys, t->filter, NULL, op, "SIM", "7.4", fmt, api, (void *)cbdq);
        return;
    }
    /* Outside any filter's code (a test, a system thread of no system). */
    char message[256];
    snprintf(message, sizeof(message), fmt, api, (void *)cbdq);
    fprintf(stderr, "fltsim: SIM (SPEC 7.4): %s\n", message);
}

/* Whether FltCbdqInitialize set the queue up; reported when not. */
static bool queue_ready(PFLT_CALLBACK_DATA_QUEUE cbdq, const char *api)
{
    if (cbdq != NULL && (cbdq->Flags & CBDQ_MAGIC_MASK) == CBDQ_MAGIC)
        return true;
    report(cbdq, NULL,
           "%s(%p): the queue was not initialized (FltCbdqInitialize) or is not a "
           "FLT_CALLBACK_DATA_QUEUE; ignored",
           api);
    return false;
}

/* The operation of a callback data a filter queues; NULL when not one
 * (reported). */
static struct fltsim_op *queued_op(PFLT_CALLBACK_DATA_QUEUE cbdq, PFLT_CALLBACK_DATA cbd,
                                   const char *api)
{
    struct fltsim_op *op = fltsim__op_from_data(cbd);
    if (op == NULL || op->drain_copy) {
        report(cbdq, op, "%s(queue %p): Cbd is not the callback data of an operation in flight",
               api);
        return NULL;
    }
    return op;
}

/* The queue's lock held: takes op out of the list and forgets the queue. */
static void unlink_locked(PFLT_CALLBACK_DATA_QUEUE cbdq, struct fltsim_op *op)
{
    cbdq->RemoveIo(cbdq, &op->data);
    PFLT_CALLBACK_DATA_QUEUE_IO_CONTEXT context = op->cbdq_context;
    if (context != NULL)
        context->Irp = NULL; /* a later FltCbdqRemoveIo with it finds nothing */
    op->cbdq_context = NULL;
    __atomic_store_n(&op->cbdq, (PFLT_CALLBACK_DATA_QUEUE)NULL, __ATOMIC_SEQ_CST);
}

/* Takes the queue's cancel routine off op: true when it was there (op is
 * the caller's to take out), false when a cancel took it first. */
static bool claim(struct fltsim_op *op)
{
    return __atomic_exchange_n(&op->cancel_routine, (PFLT_COMPLETE_CANCELED_CALLBACK)NULL,
                               __ATOMIC_SEQ_CST) != NULL;
}

/* Never called: its address marks the operations a queue holds. */
VOID FLTAPI fltsim__cbdq_cancel_routine(PFLT_CALLBACK_DATA data)
{
    (void)data;
}

void fltsim__cbdq_cancel(struct fltsim_op *op)
{
    PFLT_CALLBACK_DATA_QUEUE cbdq = __atomic_load_n(&op->cbdq, __ATOMIC_SEQ_CST);
    struct fltsim_callout save;
    fltsim__enter(&save, op->sys, cbdq->Instance != NULL ? cbdq->Instance->filter : NULL, op);
    fltsim__tls()->callout_what = "its cancel-safe queue's callbacks (a cancel)";
    KIRQL irql;
    cbdq->Acquire(cbdq, &irql);
    unlink_locked(cbdq, op);
    cbdq->Release(cbdq, irql);
    cbdq->CompleteCanceledIo(cbdq, &op->data);
    fltsim__leave(&save);
}

void fltsim__cbdq_evict(struct fltsim_op *op)
{
    PFLT_CALLBACK_DATA_QUEUE cbdq = __atomic_load_n(&op->cbdq, __ATOMIC_SEQ_CST);
    KIRQL irql;
    cbdq->Acquire(cbdq, &irql);
    unlink_locked(cbdq, op);
    cbdq->Release(cbdq, irql);
}

NTSTATUS FltCbdqInitialize(PFLT_INSTANCE Instance, PFLT_CALLBACK_DATA_QUEUE Cbdq,
                           PFLT_CALLBACK_DATA_QUEUE_INSERT_IO CbdqInsertIo,
                           PFLT_CALLBACK_DATA_QUEUE_REMOVE_IO CbdqRemoveIo,
                           PFLT_CALLBACK_DATA_QUEUE_PEEK_NEXT_IO CbdqPeekNextIo,
                           PFLT_CALLBACK_DATA_QUEUE_ACQUIRE CbdqAcquire,
                           PFLT_CALLBACK_DATA_QUEUE_RELEASE CbdqRelease,
                           PFLT_CALLBACK_DATA_QUEUE_COMPLETE_CANCELED_IO CbdqCompleteCanceledIo)
{
    if (Cbdq == NULL || CbdqInsertIo == NULL || CbdqRemoveIo == NULL || CbdqPeekNextIo == NULL ||
        CbdqAcquire == NULL || CbdqRelease == NULL || CbdqCompleteCanceledIo == NULL) {
        report(Cbdq, NULL, "%s(queue %p): every callback is required; STATUS_INVALID_PARAMETER",
               "FltCbdqInitialize");
        return STATUS_INVALID_PARAMETER;
    }
    RtlZeroMemory(&Cbdq->Csq, sizeof(Cbdq->Csq));
    Cbdq->Csq.Type = IO_TYPE_CSQ_EX;
    Cbdq->Instance = Instance;
    Cbdq->InsertIo = CbdqInsertIo;
    Cbdq->RemoveIo = CbdqRemoveIo;
    Cbdq->PeekNextIo = CbdqPeekNextIo;
    Cbdq->Acquire = CbdqAcquire;
    Cbdq->Release = CbdqRelease;
    Cbdq->CompleteCanceledIo = CbdqCompleteCanceledIo;
    Cbdq->Flags = CBDQ_MAGIC; /* enabled */
    return STATUS_SUCCESS;
}

static void set_disabled(PFLT_CALLBACK_DATA_QUEUE cbdq, bool disabled, const char *api)
{
    if (!queue_ready(cbdq, api))
        return;
    KIRQL irql;
    cbdq->Acquire(cbdq, &irql);
    cbdq->Flags = disabled ? (cbdq->Flags | CBDQ_DISABLED) : (cbdq->Flags & ~CBDQ_DISABLED);
    cbdq->Release(cbdq, irql);
}

VOID FltCbdqEnable(PFLT_CALLBACK_DATA_QUEUE Cbdq)
{
    set_disabled(Cbdq, false, "FltCbdqEnable");
}

VOID FltCbdqDisable(PFLT_CALLBACK_DATA_QUEUE Cbdq)
{
    set_disabled(Cbdq, true, "FltCbdqDisable");
}

NTSTATUS FltCbdqInsertIo(PFLT_CALLBACK_DATA_QUEUE Cbdq, PFLT_CALLBACK_DATA Cbd,
                         PFLT_CALLBACK_DATA_QUEUE_IO_CONTEXT Context, PVOID InsertContext)
{
    static const char api[] = "FltCbdqInsertIo";
    if (!queue_ready(Cbdq, api))
        return STATUS_INVALID_PARAMETER;
    struct fltsim_op *op = queued_op(Cbdq, Cbd, api);
    if (op == NULL)
        return STATUS_INVALID_PARAMETER;
    if (op->kind != FLTSIM_OP_IRP) {
        report(Cbdq, op,
               "%s(queue %p): only IRP-based operations can be queued (FLT_IS_IRP_OPERATION); "
               "STATUS_INVALID_PARAMETER",
               api);
        return STATUS_INVALID_PARAMETER;
    }
    if (__atomic_load_n(&op->cbdq, __ATOMIC_SEQ_CST) != NULL ||
        __atomic_load_n(&op->cancel_routine, __ATOMIC_SEQ_CST) != NULL) {
        report(Cbdq, op,
               "%s(queue %p): the operation is already in a cancel-safe queue or has a cancel "
               "routine (FltSetCancelCompletion); STATUS_INVALID_PARAMETER",
               api);
        return STATUS_INVALID_PARAMETER;
    }
    KIRQL irql;
    Cbdq->Acquire(Cbdq, &irql);
    if (Cbdq->Flags & CBDQ_DISABLED) {
        Cbdq->Release(Cbdq, irql);
        return STATUS_FLT_CBDQ_DISABLED;
    }
    NTSTATUS status = Cbdq->InsertIo(Cbdq, Cbd, InsertContext);
    if (!NT_SUCCESS(status)) {
        Cbdq->Release(Cbdq, irql);
        return status;
    }
    if (Context != NULL) {
        Context->Type = IO_TYPE_CSQ_IRP_CONTEXT;
        Context->Irp = (PIRP)(void *)Cbd; /* what FltCbdqRemoveIo finds (NULL: gone) */
        Context->Csq = &Cbdq->Csq;
    }
    op->cbdq_context = Context;
    __atomic_store_n(&op->cbdq, Cbdq, __ATOMIC_SEQ_CST);
    __atomic_store_n(&op->cancel_routine, fltsim__cbdq_cancel_routine, __ATOMIC_SEQ_CST);
    /* Cancelled already (SPEC 7.4 [SIM]): the queue's cancel path at once,
     * unless a cancel racing this insert took the routine (it waits for the
     * lock and does the same). */
    if (__atomic_load_n(&op->cancelled, __ATOMIC_SEQ_CST) != 0 && claim(op)) {
        unlink_locked(Cbdq, op);
        Cbdq->Release(Cbdq, irql);
        Cbdq->CompleteCanceledIo(Cbdq, Cbd);
        return status;
    }
    Cbdq->Release(Cbdq, irql);
    return status;
}

PFLT_CALLBACK_DATA FltCbdqRemoveIo(PFLT_CALLBACK_DATA_QUEUE Cbdq,
                                   PFLT_CALLBACK_DATA_QUEUE_IO_CONTEXT Context)
{
    if (!queue_ready(Cbdq, "FltCbdqRemoveIo") || Context == NULL)
        return NULL;
    PFLT_CALLBACK_DATA found = NULL;
    KIRQL irql;
    Cbdq->Acquire(Cbdq, &irql);
    PFLT_CALLBACK_DATA cbd = (PFLT_CALLBACK_DATA)(void *)Context->Irp;
    if (cbd != NULL) {
        struct fltsim_op *op = fltsim__op_from_data(cbd);
        /* A cancel that took the routine takes it out itself. */
        if (op != NULL && claim(op)) {
            unlink_locked(Cbdq, op);
            found = cbd;
        }
    }
    Cbdq->Release(Cbdq, irql);
    return found;
}

PFLT_CALLBACK_DATA FltCbdqRemoveNextIo(PFLT_CALLBACK_DATA_QUEUE Cbdq, PVOID PeekContext)
{
    if (!queue_ready(Cbdq, "FltCbdqRemoveNextIo"))
        return NULL;
    KIRQL irql;
    Cbdq->Acquire(Cbdq, &irql);
    PFLT_CALLBACK_DATA cbd = Cbdq->PeekNextIo(Cbdq, NULL, PeekContext);
    while (cbd != NULL) {
        struct fltsim_op *op = fltsim__op_from_data(cbd);
        /* Skips what a cancel is taking out. */
        if (op != NULL && claim(op)) {
            unlink_locked(Cbdq, op);
            break;
        }
        cbd = Cbdq->PeekNextIo(Cbdq, cbd, PeekContext);
    }
    Cbdq->Release(Cbdq, irql);
    return cbd;
}
