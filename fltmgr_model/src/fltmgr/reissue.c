/*
 * FltReissueSynchronousIo (SPEC 6.7, V25): from a post callback, an
 * operation the calling instance synchronized (creates always are) is sent
 * again below that instance with the parameters its Iopb holds now, marked
 * GENERATED_IO and REISSUED_IO, and its IoStatus becomes the new result; a
 * callback data the filter allocated and performed synchronously is sent
 * again from anywhere (callback_data_own.c). Misuse is reported (V25) and
 * nothing is sent.
 */
#include <string.h>

#include "filter_io_internal.h"

static const char api[] = "FltReissueSynchronousIo";

/* Reissues the operation whose post of node runs on this thread. */
static void reissue_op(struct _FLT_INSTANCE *inst, struct fltsim_op *op, ULONG node)
{
    fltsim_system *sys = op->sys;
    PFLT_CALLBACK_DATA data = &op->data;
    if (op->kind != FLTSIM_OP_IRP) {
        fltsim__report(sys, NULL, inst, op, "V25", "6.7",
                       "%s of a %s operation; only IRP-based I/O can be reissued; ignored", api,
                       op->kind == FLTSIM_OP_FAST_IO ? "fast I/O" : "file-system filter");
        return;
    }
    if (op->nodes[node].instance != inst) {
        fltsim__report(sys, NULL, inst, op, "V25", "6.7",
                       "%s with InitiatingInstance %s, not the instance whose post-operation "
                       "callback is running (%s); ignored",
                       api, inst->name8, op->nodes[node].instance->name8);
        return;
    }
    if (op->drain_copy || (data->Flags & FLTFL_CALLBACK_DATA_DRAINING_IO)) {
        fltsim__report(sys, NULL, inst, op, "V25", "6.7",
                       "%s from a draining post-operation callback; ignored", api);
        return;
    }
    UCHAR major = data->Iopb->MajorFunction;
    if (major != IRP_MJ_CREATE && !op->nodes[node].synchronized) {
        fltsim__report(sys, NULL, inst, op, "V25", "6.7",
                       "%s of an operation the instance did not synchronize (its pre-operation "
                       "callback must return FLT_PREOP_SYNCHRONIZE); ignored",
                       api);
        return;
    }
    PFILE_OBJECT fo = data->Iopb->TargetFileObject;
    if (major == IRP_MJ_CREATE && fo != NULL && (fo->Flags & FO_FILE_OPEN_CANCELLED)) {
        fltsim__report(sys, NULL, inst, op, "V25", "6.7",
                       "%s of a create the filter cancelled with FltCancelFileOpen; completed "
                       "with STATUS_CANCELLED",
                       api);
        data->IoStatus.Status = STATUS_CANCELLED;
        data->IoStatus.Information = 0;
        return;
    }
    struct fltsim_tls *t = fltsim__tls();
    if (t->irql > APC_LEVEL ||
        (t->irql > PASSIVE_LEVEL && !(data->Iopb->IrpFlags & IRP_PAGING_IO))) {
        fltsim__check_irql(sys, (data->Iopb->IrpFlags & IRP_PAGING_IO) ? APC_LEVEL : PASSIVE_LEVEL,
                           api);
        return;
    }

    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = major;
    req.minor = data->Iopb->MinorFunction;
    req.operation_flags = data->Iopb->OperationFlags;
    req.irp_flags = data->Iopb->IrpFlags | IRP_SYNCHRONOUS_API;
    req.callback_flags = FLTFL_CALLBACK_DATA_GENERATED_IO | FLTFL_CALLBACK_DATA_REISSUED_IO;
    req.file_object = fo;
    req.parameters = data->Iopb->Parameters;
    req.requestor_mode = data->RequestorMode;
    req.ecp_list = op->req != NULL ? op->req->ecp_list : NULL; /* a create's, reissued */
    NTSTATUS status = fltsim__request_dispatch_below(op->volume, &req, inst);
    if (req.op_id == 0) { /* refused before it reached the stack */
        data->IoStatus.Status = status;
        data->IoStatus.Information = 0;
    } else {
        data->IoStatus = req.io_status;
    }
    op->fs_status = data->IoStatus.Status; /* what FltCancelFileOpen now finds opened */
}

VOID FltReissueSynchronousIo(PFLT_INSTANCE InitiatingInstance, PFLT_CALLBACK_DATA CallbackData)
{
    struct fltsim_tls *t = fltsim__tls();
    if (!fltsim__is_instance(InitiatingInstance) || CallbackData == NULL) {
        if (t->sys != NULL)
            fltsim__report(t->sys, t->filter, NULL, t->op, "V25", "6.7",
                           "%s(%p, %p): InitiatingInstance and CallbackData are required; ignored",
                           api, (void *)InitiatingInstance, (void *)CallbackData);
        else
            fprintf(stderr, "fltsim: V25: %s: InitiatingInstance and CallbackData are required\n",
                    api);
        return;
    }
    fltsim_system *sys = InitiatingInstance->volume->sys;
    struct fltsim_own_cbd *own = (struct fltsim_own_cbd *)CallbackData;
    if (own->magic == FLTSIM_MAGIC_OWN_CBD && !own->internal) {
        /* I/O the filter generated: sent again, wherever it is called. */
        LONG state = __atomic_load_n(&own->state, __ATOMIC_SEQ_CST);
        if (state != FLTSIM_OWN_DONE || own->callback != NULL) {
            fltsim__report(sys, NULL, InitiatingInstance, NULL, "V25", "6.7",
                           "%s of a callback data that FltPerformSynchronousIo has not "
                           "completed (%s); ignored",
                           api,
                           state == FLTSIM_OWN_IN_FLIGHT ? "in flight"
                           : state == FLTSIM_OWN_IDLE    ? "never performed"
                                                         : "performed asynchronously");
            return;
        }
        if (own->instance != InitiatingInstance) {
            fltsim__report(sys, NULL, InitiatingInstance, NULL, "V25", "6.7",
                           "%s with InitiatingInstance %s, not the instance the callback data "
                           "was allocated for (%s); ignored",
                           api, InitiatingInstance->name8, own->instance->name8);
            return;
        }
        __atomic_store_n(&own->state, FLTSIM_OWN_IDLE, __ATOMIC_SEQ_CST);
        FltPerformSynchronousIo(CallbackData);
        return;
    }
    struct fltsim_op *op;
    ULONG node;
    if (!fltsim__in_post(CallbackData, &op, &node)) {
        fltsim__report(sys, NULL, InitiatingInstance, fltsim__op_from_data(CallbackData), "V25",
                       "6.7",
                       "%s outside the post-operation callback of the operation (it may only "
                       "reissue the operation whose post is running, or callback data of its "
                       "own); ignored",
                       api);
        return;
    }
    reissue_op(InitiatingInstance, op, node);
}
