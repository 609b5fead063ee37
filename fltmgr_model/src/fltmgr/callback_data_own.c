/*
 * Callback data a filter allocates and sends itself (SPEC 2.3, 6.7):
 * FltAllocateCallbackData(Ex), FltPerformSynchronousIo,
 * FltPerformAsynchronousIo, FltReuseCallbackData, FltFreeCallbackData, and
 * the sending that an asynchronous FltReadFile/FltWriteFile shares
 * (async_io.c). The request goes through the dispatch engine below the
 * initiating instance, marked GENERATED_IO; misuse (perform while in flight
 * or again without a reuse, free while in flight, data not allocated here) is
 * an "IO" report, a leak at unload V23.
 */
#include <stdlib.h>
#include <string.h>

#include "filter_io_internal.h"

struct fltsim_own_cbd *fltsim__own_cbd_alloc(struct _FLT_INSTANCE *inst, PFILE_OBJECT fo,
                                             bool internal)
{
    struct fltsim_own_cbd *own = calloc(1, sizeof(*own));
    if (own == NULL) {
        fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "callback data: out of memory");
        return NULL;
    }
    own->magic = FLTSIM_MAGIC_OWN_CBD;
    own->instance = inst;
    fltsim__instance_ref(inst);
    own->file_object = fo;
    own->internal = internal;
    own->iopb.TargetInstance = inst;
    own->iopb.TargetFileObject = fo;
    PFLT_IO_PARAMETER_BLOCK iopb = &own->iopb;
    PETHREAD thread = fltsim_thread_current();
    memcpy((void *)&own->data.Iopb, &iopb, sizeof(iopb));
    memcpy((void *)&own->data.Thread, &thread, sizeof(thread));
    own->data.Flags = FLTFL_CALLBACK_DATA_IRP_OPERATION | FLTFL_CALLBACK_DATA_GENERATED_IO;
    own->data.RequestorMode = KernelMode;
    if (!internal)
        __atomic_add_fetch(&inst->filter->callback_data, 1, __ATOMIC_SEQ_CST);
    return own;
}

static void own_free(struct fltsim_own_cbd *own)
{
    if (!own->internal)
        __atomic_sub_fetch(&own->instance->filter->callback_data, 1, __ATOMIC_SEQ_CST);
    fltsim__instance_unref(own->instance);
    own->magic = FLTSIM_MAGIC_DEAD;
    free(own);
}

/* The result is in: IoStatus, the byte offset put back, DONE. */
static void own_finish(struct fltsim_own_cbd *own, const IO_STATUS_BLOCK *iosb)
{
    own->data.IoStatus = *iosb;
    if (own->keep_offset)
        own->req.file_object->CurrentByteOffset = own->saved_offset;
    __atomic_store_n(&own->state, FLTSIM_OWN_DONE, __ATOMIC_SEQ_CST);
}

struct completion_call {
    PFLT_COMPLETED_ASYNC_IO_CALLBACK routine;
    PFLT_CALLBACK_DATA data;
    PVOID context;
};

static void completion_thunk(void *arg)
{
    struct completion_call *c = arg;
    c->routine(c->data, c->context);
}

/* Calls the filter's completion routine with the completed data (inside an
 * exception frame: an exception it does not handle ends the routine, with
 * a report); frees an internal one after it. */
static void own_call_back(struct fltsim_own_cbd *own)
{
    struct _FLT_INSTANCE *inst = own->instance;
    fltsim_system *sys = inst->volume->sys;
    bool internal = own->internal;
    struct fltsim_callout save;
    fltsim__enter(&save, sys, inst->filter, NULL);
    fltsim__tls()->callout_what = "its completion routine of asynchronous I/O";
    struct completion_call call = {own->callback, &own->data, own->callback_context};
    struct fltsim_seh_frame seh;
    if (!fltsim__seh_call(&seh, completion_thunk, &call))
        fltsim__seh_uncaught(&seh, sys, inst->filter, inst, NULL,
                             "its completion routine of asynchronous I/O",
                             "fltsim ends the routine; the I/O is complete");
    fltsim__leave(&save);
    if (internal)
        own_free(own); /* the filter never holds FltReadFile's data after its callback */
}

/* The dispatch engine's completion of an asynchronous send that pended. */
static void own_complete_cb(struct fltsim_request *req, void *ctx)
{
    struct fltsim_own_cbd *own = ctx;
    own_finish(own, &req->io_status);
    own_call_back(own);
}

static NTSTATUS own_send(struct fltsim_own_cbd *own, bool async, bool io_complete)
{
    struct _FLT_INSTANCE *inst = own->instance;
    own->req.op_id = 0;
    memset(&own->req.io_status, 0, sizeof(own->req.io_status));
    own->req.complete_cb = async ? own_complete_cb : NULL;
    own->req.complete_ctx = async ? own : NULL;
    own->data.IoStatus.Status = STATUS_PENDING;
    own->data.IoStatus.Information = 0;
    if (own->keep_offset)
        own->saved_offset = own->req.file_object->CurrentByteOffset;
    __atomic_store_n(&own->state, FLTSIM_OWN_IN_FLIGHT, __ATOMIC_SEQ_CST);
    NTSTATUS status = fltsim__request_dispatch_below(inst->volume, &own->req, inst);
    if (status == STATUS_PENDING && async)
        return STATUS_PENDING; /* own_complete_cb runs (or ran) where it completes */
    IO_STATUS_BLOCK iosb = own->req.io_status;
    if (own->req.op_id == 0) { /* refused before it reached the stack */
        iosb.Status = status;
        iosb.Information = 0;
    }
    own_finish(own, &iosb);
    NTSTATUS returned = iosb.Status;
    if (io_complete && own->req.op_id != 0 && !own->req.fs_answered)
        returned = STATUS_FLT_IO_COMPLETE; /* a pre-operation callback below completed it */
    if (async)
        own_call_back(own); /* own may be gone now */
    return returned;
}

NTSTATUS fltsim__own_cbd_send(struct fltsim_own_cbd *own, bool async)
{
    return own_send(own, async, false);
}

NTSTATUS fltsim__own_cbd_send_perform(struct fltsim_own_cbd *own)
{
    return own_send(own, true, true);
}

struct fltsim_op *fltsim__own_cbd_in_flight(PFLT_CALLBACK_DATA data, fltsim_system **sys)
{
    struct fltsim_own_cbd *own = (struct fltsim_own_cbd *)data;
    *sys = NULL;
    if (own == NULL || own->magic != FLTSIM_MAGIC_OWN_CBD)
        return NULL;
    *sys = own->instance->volume->sys;
    if (__atomic_load_n(&own->state, __ATOMIC_SEQ_CST) != FLTSIM_OWN_IN_FLIGHT)
        return NULL;
    ULONG64 id = __atomic_load_n(&own->req.op_id, __ATOMIC_SEQ_CST);
    return id != 0 ? fltsim__op_in_flight(own->instance->volume, id) : NULL;
}

/* ---- the routines ---- */

/* The data as FltAllocateCallbackData's, or NULL after a report naming api. */
static struct fltsim_own_cbd *own_of(PFLT_CALLBACK_DATA data, const char *api)
{
    struct fltsim_own_cbd *own = (struct fltsim_own_cbd *)data;
    if (own != NULL && own->magic == FLTSIM_MAGIC_OWN_CBD && !own->internal)
        return own;
    struct fltsim_tls *t = fltsim__tls();
    const char *what = own == NULL ? "NULL"
                       : fltsim__op_from_data(data) != NULL
                           ? "the callback data of an operation FltMgr issued, not one "
                             "FltAllocateCallbackData allocated"
                       : own->magic == FLTSIM_MAGIC_OWN_CBD
                           ? "the callback data of an asynchronous FltReadFile/FltWriteFile, "
                             "which FltMgr frees itself"
                           : "not a callback data FltAllocateCallbackData allocated (freed?)";
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, "IO", "6.7", "%s(%p): %s; ignored", api,
                       (void *)data, what);
    else
        fprintf(stderr, "fltsim: IO: %s(%p): %s; ignored\n", api, (void *)data, what);
    return NULL;
}

NTSTATUS FltAllocateCallbackDataEx(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                   FLT_ALLOCATE_CALLBACK_DATA_FLAGS Flags,
                                   PFLT_CALLBACK_DATA *RetNewCallbackData)
{
    static const char api[] = "FltAllocateCallbackData";
    if (RetNewCallbackData == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: RetNewCallbackData is NULL", api);
    *RetNewCallbackData = NULL;
    if (!fltsim__is_instance(Instance))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Instance is not an instance", api);
    fltsim__check_irql(Instance->volume->sys, APC_LEVEL, api);
    if ((Flags & ~(ULONG)FLT_ALLOCATE_CALLBACK_DATA_PREALLOCATE_ALL_MEMORY) != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Flags 0x%x has unknown bits", api,
                            (unsigned)Flags);
    if (FileObject != NULL && fltsim_volume_of_file_object(FileObject) != Instance->volume)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: FileObject is not a file object on the instance's volume", api);
    struct fltsim_own_cbd *own = fltsim__own_cbd_alloc(Instance, FileObject, false);
    if (own == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    *RetNewCallbackData = &own->data;
    return STATUS_SUCCESS;
}

NTSTATUS FltAllocateCallbackData(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                 PFLT_CALLBACK_DATA *RetNewCallbackData)
{
    return FltAllocateCallbackDataEx(Instance, FileObject, 0, RetNewCallbackData);
}

VOID FltFreeCallbackData(PFLT_CALLBACK_DATA CallbackData)
{
    struct fltsim_own_cbd *own = own_of(CallbackData, "FltFreeCallbackData");
    if (own == NULL)
        return;
    fltsim_system *sys = own->instance->volume->sys;
    fltsim__check_irql(sys, DISPATCH_LEVEL, "FltFreeCallbackData");
    if (__atomic_load_n(&own->state, __ATOMIC_SEQ_CST) == FLTSIM_OWN_IN_FLIGHT) {
        fltsim__report(sys, own->instance->filter, own->instance, NULL, "IO", "6.7",
                       "FltFreeCallbackData(%p) while the I/O it was performed for is in "
                       "flight; ignored (the memory is kept)",
                       (void *)CallbackData);
        return;
    }
    own_free(own);
}

VOID FltReuseCallbackData(PFLT_CALLBACK_DATA CallbackData)
{
    struct fltsim_own_cbd *own = own_of(CallbackData, "FltReuseCallbackData");
    if (own == NULL)
        return;
    fltsim_system *sys = own->instance->volume->sys;
    if (__atomic_load_n(&own->state, __ATOMIC_SEQ_CST) == FLTSIM_OWN_IN_FLIGHT) {
        fltsim__report(sys, own->instance->filter, own->instance, NULL, "IO", "6.7",
                       "FltReuseCallbackData(%p) while the I/O it was performed for is in "
                       "flight; ignored",
                       (void *)CallbackData);
        return;
    }
    /* As freshly allocated, for the same instance and file object. */
    memset(&own->iopb, 0, sizeof(own->iopb));
    own->iopb.TargetInstance = own->instance;
    own->iopb.TargetFileObject = own->file_object;
    memset(&own->data.IoStatus, 0, sizeof(own->data.IoStatus));
    own->data.Flags = FLTFL_CALLBACK_DATA_IRP_OPERATION | FLTFL_CALLBACK_DATA_GENERATED_IO;
    own->keep_offset = false;
    own->callback = NULL;
    own->callback_context = NULL;
    __atomic_store_n(&own->state, FLTSIM_OWN_IDLE, __ATOMIC_SEQ_CST);
}

/* Checks a perform and builds own->req from the Iopb the filter filled.
 * STATUS_SUCCESS to send; else the status the data completes with. */
static NTSTATUS prepare(struct fltsim_own_cbd *own, bool async, const char *api)
{
    fltsim_system *sys = own->instance->volume->sys;
    struct _FLT_FILTER *filter = own->instance->filter;
    LONG state = __atomic_load_n(&own->state, __ATOMIC_SEQ_CST);
    if (state == FLTSIM_OWN_IN_FLIGHT) {
        fltsim__report(sys, filter, own->instance, NULL, "IO", "6.7",
                       "%s(%p) while the data's previous I/O is still in flight; refused", api,
                       (void *)&own->data);
        return STATUS_INVALID_DEVICE_STATE;
    }
    if (state == FLTSIM_OWN_DONE)
        fltsim__report(sys, filter, own->instance, NULL, "IO", "6.7",
                       "%s(%p) of a callback data whose I/O already completed, without "
                       "FltReuseCallbackData first; sent as it is",
                       api, (void *)&own->data);
    if (fltsim__tls()->irql > APC_LEVEL) {
        fltsim__check_irql(sys, APC_LEVEL, api);
        return fltsim__fail(STATUS_INVALID_DEVICE_STATE, "%s: called above APC_LEVEL", api);
    }
    PFLT_IO_PARAMETER_BLOCK iopb = &own->iopb;
    UCHAR major = iopb->MajorFunction;
    if (major > IRP_MJ_MAXIMUM_FUNCTION)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: Iopb->MajorFunction 0x%02x is not an IRP major function (a "
                            "filter can only initiate IRP-based I/O)",
                            api, major);
    if (major == IRP_MJ_CREATE) {
        if (async)
            return fltsim__fail(STATUS_FLT_INVALID_ASYNCHRONOUS_REQUEST,
                                "%s: an IRP_MJ_CREATE cannot be performed asynchronously", api);
        fltsim__report(sys, filter, own->instance, NULL, "SIM", "2.3",
                       "%s of an IRP_MJ_CREATE is not modeled (use FltCreateFile); completed "
                       "with STATUS_NOT_SUPPORTED",
                       api);
        return fltsim__fail(STATUS_NOT_SUPPORTED, "%s: IRP_MJ_CREATE is not modeled", api);
    }
    PFILE_OBJECT fo = iopb->TargetFileObject;
    if (fo == NULL || fltsim_volume_of_file_object(fo) != own->instance->volume)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: Iopb->TargetFileObject must be a file object on the initiating "
                            "instance's volume",
                            api);
    struct fltsim_request *req = &own->req;
    memset(req, 0, sizeof(*req));
    req->kind = FLTSIM_OP_IRP;
    req->major = major;
    req->minor = iopb->MinorFunction;
    req->operation_flags = iopb->OperationFlags;
    req->irp_flags = iopb->IrpFlags;
    if (major == IRP_MJ_READ)
        req->irp_flags |= IRP_READ_OPERATION;
    else if (major == IRP_MJ_WRITE)
        req->irp_flags |= IRP_WRITE_OPERATION;
    if (!async)
        req->irp_flags |= IRP_SYNCHRONOUS_API;
    req->callback_flags = FLTFL_CALLBACK_DATA_GENERATED_IO;
    req->file_object = fo;
    req->parameters = iopb->Parameters;
    req->requestor_mode = KernelMode;
    own->keep_offset = false;
    return STATUS_SUCCESS;
}

VOID FltPerformSynchronousIo(PFLT_CALLBACK_DATA CallbackData)
{
    static const char api[] = "FltPerformSynchronousIo";
    struct fltsim_own_cbd *own = own_of(CallbackData, api);
    if (own == NULL)
        return;
    NTSTATUS status = prepare(own, false, api);
    if (status == STATUS_INVALID_DEVICE_STATE &&
        __atomic_load_n(&own->state, __ATOMIC_SEQ_CST) == FLTSIM_OWN_IN_FLIGHT)
        return; /* the I/O in flight owns IoStatus */
    if (!NT_SUCCESS(status)) {
        IO_STATUS_BLOCK iosb = {.Status = status};
        own_finish(own, &iosb);
        return;
    }
    own->callback = NULL;
    fltsim__own_cbd_send(own, false);
}

NTSTATUS FltPerformAsynchronousIo(PFLT_CALLBACK_DATA CallbackData,
                                  PFLT_COMPLETED_ASYNC_IO_CALLBACK CallbackRoutine,
                                  PVOID CallbackContext)
{
    static const char api[] = "FltPerformAsynchronousIo";
    struct fltsim_own_cbd *own = own_of(CallbackData, api);
    if (own == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: not a callback data FltAllocateCallbackData allocated", api);
    if (CallbackRoutine == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: CallbackRoutine is NULL", api);
    NTSTATUS status = prepare(own, true, api);
    if (status == STATUS_INVALID_DEVICE_STATE &&
        __atomic_load_n(&own->state, __ATOMIC_SEQ_CST) == FLTSIM_OWN_IN_FLIGHT)
        return status; /* the I/O in flight owns the data and its callback */
    own->callback = CallbackRoutine;
    own->callback_context = CallbackContext;
    if (!NT_SUCCESS(status)) {
        /* FltMgr calls the routine even when the call fails. */
        IO_STATUS_BLOCK iosb = {.Status = status};
        own_finish(own, &iosb);
        own_call_back(own);
        return status;
    }
    return fltsim__own_cbd_send_perform(own);
}
