/*
 * The pre path (SPEC 3): node by node down the list, each pre is called,
 * what it returned is checked against SPEC 3.1-3.2 and acted on, and the
 * parameter changes it made are taken or undone (SPEC 6.3). A pre that pends
 * gives the baton to FltCompletePendedPreOperation (pending.c), which finishes
 * the same steps with this file's helpers. The state machine that calls the
 * pre path, and the file system below it, are dispatch.c's.
 */
#include <stddef.h>
#include <string.h>

#include "dispatch_internal.h"

/* ---- checks around a pre callback ---- */

const char *fltsim__pre_name(FLT_PREOP_CALLBACK_STATUS s)
{
    const char *n = fltsim_preop_status_name(s);
    return n != NULL ? n : "an unknown status";
}

static bool is_oplock_fsctl(const struct fltsim_op *op)
{
    if (op->iopb.MajorFunction != IRP_MJ_FILE_SYSTEM_CONTROL)
        return false;
    ULONG code = op->iopb.Parameters.FileSystemControl.Common.FsControlCode;
    return code == FSCTL_REQUEST_FILTER_OPLOCK || code == FSCTL_REQUEST_BATCH_OPLOCK ||
           code == FSCTL_REQUEST_OPLOCK_LEVEL_1 || code == FSCTL_REQUEST_OPLOCK_LEVEL_2;
}

/* V8, V9 for an operation a pre completes, by returning FLT_PREOP_COMPLETE
 * or by FltCompletePendedPreOperation with it (SPEC 3.2, 3.3); V18 is
 * fltsim__take_parameter_changes', which sees the change before undoing it. */
void fltsim__check_complete(struct fltsim_op *op, const struct fltsim_node *node)
{
    fltsim_system *sys = op->sys;
    struct _FLT_INSTANCE *inst = node->instance;
    UCHAR major = op->iopb.MajorFunction;
    NTSTATUS s = op->data.IoStatus.Status;
    if (s == STATUS_PENDING)
        fltsim__report(sys, NULL, inst, op, "V8", "3.2",
                       "FLT_PREOP_COMPLETE with IoStatus.Status STATUS_PENDING; a completed "
                       "operation needs its final status");
    else if (s == STATUS_FLT_DISALLOW_FAST_IO)
        fltsim__report(sys, NULL, inst, op, "V8", "3.2",
                       "FLT_PREOP_COMPLETE with STATUS_FLT_DISALLOW_FAST_IO; only FltMgr "
                       "produces that status");
    if (major == IRP_MJ_CLEANUP || major == IRP_MJ_CLOSE) {
        if (!NT_SUCCESS(s))
            fltsim__report(sys, NULL, inst, op, "V9", "3.2",
                           "%s completed with a failure status; cleanup and close cannot fail",
                           fltsim_major_name(major));
        else if (s != STATUS_SUCCESS)
            fltsim__report(sys, NULL, inst, op, "V9", "12.4",
                           "warning: %s completed with a success status other than "
                           "STATUS_SUCCESS",
                           fltsim_major_name(major));
    }
}

/* Applies SPEC 3.1-3.2 to what a pre returned: reports each broken rule and
 * returns the status FltMgr acts on. */
static inline __attribute__((always_inline)) FLT_PREOP_CALLBACK_STATUS
check_pre_status(struct fltsim_op *op, struct fltsim_node *node, FLT_PREOP_CALLBACK_STATUS st,
                 PVOID *ctx, const IO_STATUS_BLOCK *iosb_before)
{
    fltsim_system *sys = op->sys;
    struct _FLT_INSTANCE *inst = node->instance;
    UCHAR major = op->iopb.MajorFunction;

    if ((unsigned)st > (unsigned)FLT_PREOP_DISALLOW_FSFILTER_IO) {
        fltsim__report(sys, NULL, inst, op, "V1", "3.2",
                       "pre-operation callback returned %d, which is not an "
                       "FLT_PREOP_CALLBACK_STATUS; handled as FLT_PREOP_SUCCESS_NO_CALLBACK",
                       (int)st);
        st = FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    if (*ctx != NULL && st != FLT_PREOP_SUCCESS_WITH_CALLBACK && st != FLT_PREOP_SYNCHRONIZE) {
        fltsim__report(sys, NULL, inst, op, "V3", "3.1",
                       "pre-operation callback set CompletionContext with %s; it must be NULL "
                       "unless the status is SUCCESS_WITH_CALLBACK or SYNCHRONIZE",
                       fltsim__pre_name(st));
        *ctx = NULL;
    }
    switch (st) {
    case FLT_PREOP_PENDING:
        if (op->kind == FLTSIM_OP_IRP)
            return st;
        fltsim__report(sys, NULL, inst, op, "V4", "3.1",
                       "FLT_PREOP_PENDING for a %s operation; only IRP-based operations can be "
                       "pended; handled as FLT_PREOP_SUCCESS_NO_CALLBACK",
                       op->kind == FLTSIM_OP_FAST_IO ? "fast I/O" : "FS-filter");
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    case FLT_PREOP_DISALLOW_FASTIO:
        if (op->kind != FLTSIM_OP_FAST_IO || major == IRP_MJ_SHUTDOWN ||
            major == IRP_MJ_VOLUME_MOUNT || major == IRP_MJ_VOLUME_DISMOUNT) {
            fltsim__report(sys, NULL, inst, op, "V5", "3.1",
                           "FLT_PREOP_DISALLOW_FASTIO for an operation that is not fast I/O "
                           "(or is SHUTDOWN, VOLUME_MOUNT or VOLUME_DISMOUNT); handled as "
                           "FLT_PREOP_SUCCESS_NO_CALLBACK");
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        }
        if (memcmp(&op->data.IoStatus, iosb_before, sizeof(*iosb_before)) != 0)
            fltsim__report(sys, NULL, inst, op, "V8", "3.2",
                           "the filter set IoStatus before returning FLT_PREOP_DISALLOW_FASTIO; "
                           "FltMgr sets it to STATUS_FLT_DISALLOW_FAST_IO");
        return st;
    case FLT_PREOP_DISALLOW_FSFILTER_IO:
        if (major != IRP_MJ_QUERY_OPEN) {
            fltsim__report(sys, NULL, inst, op, "V6", "3.1",
                           "FLT_PREOP_DISALLOW_FSFILTER_IO is only for IRP_MJ_QUERY_OPEN; "
                           "handled as FLT_PREOP_SUCCESS_NO_CALLBACK");
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        }
        return st;
    case FLT_PREOP_SYNCHRONIZE:
        if (op->kind != FLTSIM_OP_IRP) {
            fltsim__report(sys, NULL, inst, op, "V7", "3.1",
                           "warning: FLT_PREOP_SYNCHRONIZE for a non-IRP operation is handled "
                           "as FLT_PREOP_SUCCESS_WITH_CALLBACK");
            return FLT_PREOP_SUCCESS_WITH_CALLBACK;
        }
        if (major == IRP_MJ_CREATE)
            fltsim__report(sys, NULL, inst, op, "V7", "3.2",
                           "warning: FLT_PREOP_SYNCHRONIZE for IRP_MJ_CREATE; creates are "
                           "already synchronized and post-create runs at PASSIVE_LEVEL");
        else if ((major == IRP_MJ_READ || major == IRP_MJ_WRITE) &&
                 !FltIsOperationSynchronous(&op->data))
            fltsim__report(sys, NULL, inst, op, "V7", "3.2",
                           "FLT_PREOP_SYNCHRONIZE for an asynchronous read or write; check "
                           "FltIsOperationSynchronous first");
        else if (is_oplock_fsctl(op) ||
                 (major == IRP_MJ_DIRECTORY_CONTROL &&
                  op->iopb.MinorFunction == IRP_MN_NOTIFY_CHANGE_DIRECTORY) ||
                 (major == IRP_MJ_LOCK_CONTROL && op->iopb.MinorFunction == IRP_MN_LOCK))
            fltsim__report(sys, NULL, inst, op, "V7", "3.2",
                           "FLT_PREOP_SYNCHRONIZE cannot be used for oplock requests, directory "
                           "change notifications or IRP_MN_LOCK");
        return st;
    case FLT_PREOP_COMPLETE:
        fltsim__check_complete(op, node);
        return st;
    default:
        return st;
    }
}

static inline ULONG64 word_at(const FLT_IO_PARAMETER_BLOCK *p, size_t k)
{
    ULONG64 w;
    memcpy(&w, (const unsigned char *)p + k * sizeof(w), sizeof(w));
    return w;
}

/* memcmp(a, b, sizeof(*a)) != 0, inline and unrolled (it runs after every
 * pre). */
static bool iopb_differs(const FLT_IO_PARAMETER_BLOCK *a, const FLT_IO_PARAMETER_BLOCK *b)
{
    if (sizeof(*a) != 9 * sizeof(ULONG64)) /* not the LP64 layout */
        return memcmp(a, b, sizeof(*a)) != 0;
#define DIFF(k) (word_at(a, k) ^ word_at(b, k))
    return (DIFF(0) | DIFF(1) | DIFF(2) | DIFF(3) | DIFF(4) | DIFF(5) | DIFF(6) | DIFF(7) |
            DIFF(8)) != 0;
#undef DIFF
}

/* SPEC 6.3: a pre's parameter changes reach the filters below and the file
 * system only when the filter called FltSetCallbackDataDirty; otherwise they
 * are ignored (undone here) and reported. MajorFunction never changes. */
void fltsim__take_parameter_changes(struct fltsim_op *op, struct fltsim_node *node, PETHREAD thread,
                                    KPROCESSOR_MODE mode, bool completing)
{
    fltsim_system *sys = op->sys;
    struct _FLT_INSTANCE *inst = node->instance;
    /* V18 (SPEC 3.2, COMPLETE): looked at before anything is restored. */
    bool retargeted = op->iopb.TargetFileObject != node->view.TargetFileObject ||
                      op->iopb.TargetInstance != node->view.TargetInstance;
    if (__builtin_expect(completing && retargeted, 0))
        fltsim__report(sys, NULL, inst, op, "V18", "3.2",
                       "TargetFileObject or TargetInstance was changed and the operation "
                       "then completed (FLT_PREOP_COMPLETE); upper filters never see the change");
    if (op->data.Thread != thread || op->data.RequestorMode != mode) {
        fltsim__report(sys, NULL, inst, op, "V16", "6.1",
                       "the filter changed Data->Thread or Data->RequestorMode; filters must "
                       "not change them (restored)");
        memcpy((void *)&op->data.Thread, &thread, sizeof(thread));
        op->data.RequestorMode = mode;
    }
    if (op->iopb.MajorFunction != node->view.MajorFunction) {
        fltsim__report(sys, NULL, inst, op, "V16", "6.3",
                       "the filter changed MajorFunction; it must never change (restored)");
        op->iopb.MajorFunction = node->view.MajorFunction;
    }
    bool dirty = (op->data.Flags & FLTFL_CALLBACK_DATA_DIRTY) != 0;
    if (!dirty) {
        if (iopb_differs(&op->iopb, &node->view)) {
            fltsim__report(sys, NULL, inst, op, "V16", "6.1",
                           "the pre-operation callback changed the parameters without "
                           "FltSetCallbackDataDirty; the change is ignored");
            memcpy(&op->iopb, &node->view, sizeof(op->iopb));
        }
        return;
    }
    /* Taken over: clear the flag (SPEC 3.5 step 3). */
    op->data.Flags &= ~FLTFL_CALLBACK_DATA_DIRTY;
    if (op->iopb.TargetInstance != node->view.TargetInstance) {
        PFLT_INSTANCE target = op->iopb.TargetInstance;
        bool legal = fltsim__is_instance(target) && target->filter == inst->filter &&
                     target->volume != inst->volume &&
                     fltsim__altitude_compare(&target->altitude, &inst->altitude) == 0;
        if (!legal)
            fltsim__report(sys, NULL, inst, op, "V17", "6.3",
                           "TargetInstance may only become an instance of the same filter at "
                           "the same altitude on another volume (restored)");
        else if (!completing) /* a completed operation goes nowhere: V18 said so */
            fltsim__report(sys, NULL, inst, op, "SIM", "6.3",
                           "redirecting an operation to another volume is not modeled in this "
                           "build of fltsim (TargetInstance restored)");
        op->iopb.TargetInstance = node->view.TargetInstance;
    }
    PFILE_OBJECT fo = op->iopb.TargetFileObject;
    if (fo != node->view.TargetFileObject && fltsim_volume_of_file_object(fo) != op->volume) {
        fltsim__report(sys, NULL, inst, op, "V17", "6.3",
                       "TargetFileObject must stay on the volume of TargetInstance (restored)");
        op->iopb.TargetFileObject = node->view.TargetFileObject;
    }
}

/* Whether down, the parameters a pre passed on (after
 * fltsim__take_parameter_changes), carry a buffer or MDL other than the one
 * in view, the parameters the pre received: the filter swapped the buffer
 * (SPEC 6.3). The buffer fields per major are those FLT_PARAMETERS gives a
 * buffer and MDL pair, or a lone buffer (SPEC 6.4). */
static bool buffers_swapped(const FLT_IO_PARAMETER_BLOCK *down, const FLT_IO_PARAMETER_BLOCK *view)
{
    const FLT_PARAMETERS *d = &down->Parameters;
    const FLT_PARAMETERS *v = &view->Parameters;
#define CHANGED(field) (d->field != v->field)
    switch (view->MajorFunction) {
    case IRP_MJ_READ:
        return CHANGED(Read.ReadBuffer) || CHANGED(Read.MdlAddress);
    case IRP_MJ_WRITE:
        return CHANGED(Write.WriteBuffer) || CHANGED(Write.MdlAddress);
    case IRP_MJ_QUERY_INFORMATION:
        return CHANGED(QueryFileInformation.InfoBuffer);
    case IRP_MJ_SET_INFORMATION:
        return CHANGED(SetFileInformation.InfoBuffer);
    case IRP_MJ_QUERY_EA:
        return CHANGED(QueryEa.EaBuffer) || CHANGED(QueryEa.MdlAddress);
    case IRP_MJ_SET_EA:
        return CHANGED(SetEa.EaBuffer) || CHANGED(SetEa.MdlAddress);
    case IRP_MJ_QUERY_VOLUME_INFORMATION:
        return CHANGED(QueryVolumeInformation.VolumeBuffer);
    case IRP_MJ_SET_VOLUME_INFORMATION:
        return CHANGED(SetVolumeInformation.VolumeBuffer);
    case IRP_MJ_DIRECTORY_CONTROL:
        if (view->MinorFunction == IRP_MN_QUERY_DIRECTORY)
            return CHANGED(DirectoryControl.QueryDirectory.DirectoryBuffer) ||
                   CHANGED(DirectoryControl.QueryDirectory.MdlAddress);
        if (view->MinorFunction == IRP_MN_NOTIFY_CHANGE_DIRECTORY ||
            view->MinorFunction == IRP_MN_NOTIFY_CHANGE_DIRECTORY_EX)
            return CHANGED(DirectoryControl.NotifyDirectory.DirectoryBuffer) ||
                   CHANGED(DirectoryControl.NotifyDirectory.MdlAddress);
        return false;
    case IRP_MJ_FILE_SYSTEM_CONTROL:
        /* Mount and verify carry a VPB and a device, not buffers. Neither's
         * three pointers overlay those of Buffered and Direct. */
        if (view->MinorFunction != IRP_MN_USER_FS_REQUEST &&
            view->MinorFunction != IRP_MN_KERNEL_CALL)
            return false;
        return CHANGED(FileSystemControl.Neither.InputBuffer) ||
               CHANGED(FileSystemControl.Neither.OutputBuffer) ||
               CHANGED(FileSystemControl.Neither.OutputMdlAddress);
    case IRP_MJ_DEVICE_CONTROL:
    case IRP_MJ_INTERNAL_DEVICE_CONTROL:
        return CHANGED(DeviceIoControl.Neither.InputBuffer) ||
               CHANGED(DeviceIoControl.Neither.OutputBuffer) ||
               CHANGED(DeviceIoControl.Neither.OutputMdlAddress);
    case IRP_MJ_QUERY_SECURITY:
        return CHANGED(QuerySecurity.SecurityBuffer) || CHANGED(QuerySecurity.MdlAddress);
    case IRP_MJ_QUERY_QUOTA:
        return CHANGED(QueryQuota.QuotaBuffer) || CHANGED(QueryQuota.MdlAddress);
    case IRP_MJ_SET_QUOTA:
        return CHANGED(SetQuota.QuotaBuffer) || CHANGED(SetQuota.MdlAddress);
    default:
        return false;
    }
#undef CHANGED
}

_Static_assert(offsetof(FLT_PARAMETERS, FileSystemControl.Buffered.SystemBuffer) ==
                       offsetof(FLT_PARAMETERS, FileSystemControl.Neither.InputBuffer) &&
                   offsetof(FLT_PARAMETERS, FileSystemControl.Direct.OutputMdlAddress) ==
                       offsetof(FLT_PARAMETERS, FileSystemControl.Neither.OutputMdlAddress) &&
                   offsetof(FLT_PARAMETERS, DeviceIoControl.Buffered.SystemBuffer) ==
                       offsetof(FLT_PARAMETERS, DeviceIoControl.Neither.InputBuffer) &&
                   offsetof(FLT_PARAMETERS, DeviceIoControl.Direct.OutputMdlAddress) ==
                       offsetof(FLT_PARAMETERS, DeviceIoControl.Neither.OutputMdlAddress),
               "the buffered and direct views of the control codes overlay the neither view");

/* ---- the pre path ---- */

/* info: IoStatus.Information before the call (see below). The thread
 * context is saved in the operation: an exception the pre does not handle
 * comes back to fltsim__advance's frame, and fltsim__pre_raised restores it
 * from there. */
static FLT_PREOP_CALLBACK_STATUS call_pre(struct fltsim_op *op, ULONG depth,
                                          struct fltsim_node *node, PFLT_PRE_OPERATION_CALLBACK pre,
                                          PVOID *ctx, ULONG_PTR info)
{
    bool tracing = fltsim__tracing(op->sys);
    if (tracing)
        fltsim__trace_op(op, FLTSIM_EV_PRE, depth, node, 0, 0);
    fltsim__enter(op->callout, op->sys, node->instance->filter, op);
    FLT_PREOP_CALLBACK_STATUS st = pre(&op->data, &node->objects, ctx);
    fltsim__leave(op->callout);
    /* A pended operation's callback data belong to whoever completes it,
     * maybe already on another thread: the trace shows what was there. */
    if (tracing)
        fltsim__trace_op_info(op, FLTSIM_EV_PRE_RETURN, depth, node, (LONG)st, 0,
                              st == FLT_PREOP_PENDING ? info : op->data.IoStatus.Information);
    return st;
}

void fltsim__apply_pre(struct fltsim_op *op, ULONG i, FLT_PREOP_CALLBACK_STATUS st, PVOID ctx)
{
    struct fltsim_node *node = &op->nodes[i];
    const struct fltsim_callbacks *cbs = &node->instance->filter->ops[op->slot];
    switch (st) {
    case FLT_PREOP_SUCCESS_WITH_CALLBACK:
    case FLT_PREOP_SYNCHRONIZE:
        if (cbs->post == NULL) {
            fltsim__report(op->sys, NULL, node->instance, op, "V2", "3.2",
                           "%s but no post-operation callback is registered for %s (on "
                           "Windows: bugcheck 0xF5, parameter 0x66)",
                           fltsim__pre_name(st), fltsim_major_name(op->iopb.MajorFunction));
            fltsim__node_done(op, node);
        } else {
            node->completion_context = ctx;
            node->synchronized = st == FLT_PREOP_SYNCHRONIZE;
            /* op->iopb is what the pre passed down: the parameter changes
             * were taken on both ways here (return and
             * FltCompletePendedPre). */
            bool swapped = buffers_swapped(&op->iopb, &node->view);
            if (__builtin_expect(swapped, 0))
                swapped = fltsim__pre_swapped(op, i); /* records a swapped-in MDL */
            node->swapped = swapped;
            __atomic_store_n(&node->state, FLTSIM_NODE_WANTS_POST, __ATOMIC_RELEASE);
        }
        op->cursor = i + 1;
        return;
    case FLT_PREOP_COMPLETE:
        /* Lower filters, the file system and this node's post are skipped;
         * the posts above run (SPEC 3.2). No IoCallDriver: no status
         * callback (opstatus.c). */
        if (op->status_requests != NULL)
            fltsim__opstatus_discard(op);
        fltsim__node_done(op, node);
        op->top_post = i;
        op->phase = FLTSIM_PHASE_POST;
        op->cursor = i;
        return;
    case FLT_PREOP_DISALLOW_FASTIO:
    case FLT_PREOP_DISALLOW_FSFILTER_IO:
        op->data.IoStatus.Status = STATUS_FLT_DISALLOW_FAST_IO; /* same value as FSFILTER_IO */
        op->data.IoStatus.Information = 0;
        fltsim__node_done(op, node);
        op->top_post = i;
        op->phase = FLTSIM_PHASE_POST;
        op->cursor = i;
        return;
    default:
        fltsim__node_done(op, node);
        op->cursor = i + 1;
        return;
    }
}

/* What follows node i's pre returning st (a pre that raised included).
 * false: the operation pended and the baton is gone. */
static inline __attribute__((always_inline)) bool pre_returned(struct fltsim_op *op, ULONG i,
                                                               FLT_PREOP_CALLBACK_STATUS st,
                                                               PVOID ctx, ULONG_PTR info,
                                                               const IO_STATUS_BLOCK *iosb_before)
{
    struct fltsim_node *node = &op->nodes[i];
    /* A pended IRP's callback data belong to the filter until it calls
     * FltCompletePendedPreOperation, maybe on another thread right now: its
     * parameter changes are taken there (or below, when that call came
     * first). check_pre_status reads nothing of them for it. */
    bool pended = st == FLT_PREOP_PENDING && op->kind == FLTSIM_OP_IRP;
    if (!pended)
        fltsim__take_parameter_changes(op, node, op->thread, op->mode, st == FLT_PREOP_COMPLETE);
    st = check_pre_status(op, node, st, &ctx, iosb_before);
    if (st == FLT_PREOP_PENDING) {
        fltsim__trace_pend(op, i, node, 0, info);
        LONG expected = FLTSIM_PEND_RUNNING;
        if (__atomic_compare_exchange_n(&op->pre_pend, &expected, FLTSIM_PEND_PENDED, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return false; /* FltCompletePendedPreOperation continues it */
        /* Completed before the pre returned (SPEC 3.2): continue here. */
        st = op->resume_status;
        ctx = op->resume_context;
        fltsim__take_parameter_changes(op, node, op->thread, op->mode, st == FLT_PREOP_COMPLETE);
        if (fltsim__tracing(op->sys))
            fltsim__trace_op(op, FLTSIM_EV_RESUME, i, node, (LONG)st, 0);
        if (st == FLT_PREOP_COMPLETE)
            fltsim__check_complete(op, node);
    } else if (__atomic_load_n(&op->pre_pend, __ATOMIC_SEQ_CST) == FLTSIM_PEND_EARLY) {
        fltsim__report(op->sys, NULL, node->instance, op, "V13", "3.3",
                       "FltCompletePendedPreOperation was called during a pre that then "
                       "returned %s, not FLT_PREOP_PENDING; the completion is ignored",
                       fltsim__pre_name(st));
    }
    __atomic_store_n(&op->pre_pend, FLTSIM_PEND_NONE, __ATOMIC_RELEASE);
    fltsim__apply_pre(op, i, st, ctx);
    return true;
}

/* Runs node i's pre. false: the operation pended and the baton is gone. */
static bool run_pre(struct fltsim_op *op, ULONG i)
{
    struct fltsim_node *node = &op->nodes[i];
    struct _FLT_INSTANCE *inst = node->instance;
    const struct fltsim_callbacks *cbs = &inst->filter->ops[op->slot];

    /* SPEC 2.6 step 1: the operation enters the instance (PRE), then looks
     * whether its teardown has begun; teardown sets that first, then looks
     * for nodes in the instance (fltsim__instance_has_ops). Both sides are
     * sequentially consistent: either teardown sees the node and waits for
     * it, or the node sees the teardown and skips the instance, as a
     * detached one (teardown waits only for what reached the instance). */
    __atomic_store_n(&node->state, FLTSIM_NODE_PRE, __ATOMIC_SEQ_CST);
    if (__builtin_expect(
            __atomic_load_n(&inst->state, __ATOMIC_SEQ_CST) != FLTSIM_INSTANCE_ATTACHED, 0)) {
        fltsim__node_done(op, node); /* wakes a teardown that saw it */
        op->cursor = i + 1;
        return true;
    }

    /* The view is copied before TargetInstance is set in both: copying the
     * block right after storing one of its members would reload that member
     * in wider pieces than were stored (a store-forwarding stall per node). */
    memcpy(&node->view, &op->iopb, sizeof(node->view));
    node->view.TargetInstance = inst;
    op->iopb.TargetInstance = inst;
    fltsim__fill_objects(&node->objects, inst->filter, op->volume, inst, op->iopb.TargetFileObject);
    IO_STATUS_BLOCK iosb_before = op->data.IoStatus;
    node->pre_thread = fltsim__current_sthread();

    if (cbs->pre == NULL) {
        /* A post without a pre counts as SUCCESS_WITH_CALLBACK (SPEC 2.3). */
        fltsim__apply_pre(op, i, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
        return true;
    }
    __atomic_store_n(&op->pre_pend_node, i, __ATOMIC_RELEASE);
    __atomic_store_n(&op->pre_pend, FLTSIM_PEND_RUNNING, __ATOMIC_RELEASE);
    ULONG_PTR info = op->data.IoStatus.Information;
    PVOID ctx = NULL;
    FLT_PREOP_CALLBACK_STATUS st = call_pre(op, i, node, cbs->pre, &ctx, info);
    return pre_returned(op, i, st, ctx, info, &iosb_before);
}

void fltsim__pre_raised(struct fltsim_op *op, const struct fltsim_seh_frame *seh)
{
    ULONG i = op->cursor;
    struct fltsim_node *node = &op->nodes[i];
    UCHAR major = node->view.MajorFunction;
    bool cannot_fail = major == IRP_MJ_CLEANUP || major == IRP_MJ_CLOSE;
    /* Reported in the pre's own context, which is left only then. */
    NTSTATUS status = fltsim__seh_uncaught(
        seh, op->sys, NULL, node->instance, op, "its pre-operation callback",
        cannot_fail ? "cleanup and close cannot fail: fltsim ends the callback and lets the "
                      "operation go on without this filter (as for FLT_PREOP_SUCCESS_NO_CALLBACK)"
                    : "fltsim ends the callback and completes the operation with that status (as "
                      "for FLT_PREOP_COMPLETE)");
    fltsim__leave(op->callout);
    FLT_PREOP_CALLBACK_STATUS st = FLT_PREOP_SUCCESS_NO_CALLBACK;
    if (!cannot_fail) {
        op->data.IoStatus.Status = status;
        op->data.IoStatus.Information = 0;
        st = FLT_PREOP_COMPLETE;
    }
    IO_STATUS_BLOCK iosb = op->data.IoStatus; /* read only for DISALLOW_FASTIO */
    if (fltsim__tracing(op->sys))
        fltsim__trace_op(op, FLTSIM_EV_PRE_RETURN, i, node, (LONG)st, 0);
    pre_returned(op, i, st, NULL, iosb.Information, &iosb);
}

bool fltsim__run_pres(struct fltsim_op *op)
{
    /* A pre that completes the operation turns it to the post phase. */
    while (op->phase == FLTSIM_PHASE_PRE) {
        if (op->cursor >= op->node_count) {
            op->phase = FLTSIM_PHASE_FS;
            break;
        }
        if (!run_pre(op, op->cursor))
            return false;
    }
    return true;
}
