/*
 * The callback engine (SPEC 3.5 and 4): one operation goes down the volume's
 * node list calling pre-operation callbacks by decreasing altitude, reaches the
 * file system unless a filter completed it, and comes back up calling the posts
 * of the nodes that asked for one, lowest altitude first. Each node keeps the
 * parameter block its pre saw, so every filter's post sees the same input
 * parameters as its pre while lower filters see dirty changes (SPEC 6.3).
 * Statuses a filter must not return are reported to the verifier and handled
 * as SPEC 12.13 says. The I/O manager (sim) calls fltsim_request_dispatch.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* ---- node selection ---- */

/* SPEC 1.2: the four skip flags, with LiberNT's predicate; SKIP_NON_DASD_IO
 * applies to every major (header comment), the others to reads and writes. */
static bool node_skips(ULONG flags, const struct fltsim_op *op)
{
    if (flags == 0)
        return false;
    PFILE_OBJECT fo = op->iopb.TargetFileObject;
    if ((flags & FLTFL_OPERATION_REGISTRATION_SKIP_NON_DASD_IO) &&
        (fo == NULL || !(fo->Flags & FO_VOLUME_OPEN)))
        return true;
    UCHAR major = op->iopb.MajorFunction;
    if (major != IRP_MJ_READ && major != IRP_MJ_WRITE)
        return false;
    bool irp = op->kind == FLTSIM_OP_IRP;
    bool fast = op->kind == FLTSIM_OP_FAST_IO;
    bool paging = irp && (op->iopb.IrpFlags & (IRP_PAGING_IO | IRP_SYNCHRONOUS_PAGING_IO));
    bool nocache = irp && (op->iopb.IrpFlags & IRP_NOCACHE);
    if ((flags & FLTFL_OPERATION_REGISTRATION_SKIP_PAGING_IO) && paging)
        return true;
    if ((flags & FLTFL_OPERATION_REGISTRATION_SKIP_CACHED_IO) && (fast || (!paging && !nocache)))
        return true;
    if ((flags & FLTFL_OPERATION_REGISTRATION_SKIP_NON_CACHED_NON_PAGING_IO) && nocache && !paging)
        return true;
    return false;
}

/* Counts the operation against the instance, unless it is tearing down. */
static bool instance_enter(struct _FLT_INSTANCE *inst)
{
    __atomic_add_fetch(&inst->ops_in_flight, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&inst->state, __ATOMIC_SEQ_CST) == FLTSIM_INSTANCE_ATTACHED)
        return true;
    if (__atomic_sub_fetch(&inst->ops_in_flight, 1, __ATOMIC_SEQ_CST) == 0)
        fltsim__broadcast(inst->volume->sys);
    return false;
}

static void node_done(struct fltsim_op *op, struct fltsim_node *node)
{
    if (node->state == FLTSIM_NODE_DONE)
        return;
    node->state = FLTSIM_NODE_DONE;
    struct _FLT_INSTANCE *inst = node->instance;
    /* Teardown waits for this count to reach zero (SPEC 2.6 step 4). */
    if (__atomic_sub_fetch(&inst->ops_in_flight, 1, __ATOMIC_SEQ_CST) == 0 &&
        __atomic_load_n(&inst->state, __ATOMIC_SEQ_CST) != FLTSIM_INSTANCE_ATTACHED)
        fltsim__broadcast(op->sys);
}

/* ---- tracing ---- */

static void trace_op(struct fltsim_op *op, enum fltsim_event_type type, ULONG depth,
                     const struct fltsim_node *node, LONG status, ULONG flags)
{
    struct fltsim_event ev;
    char file[512];
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.op_id = op->id;
    ev.kind = op->kind;
    ev.major = op->iopb.MajorFunction;
    ev.minor = op->iopb.MinorFunction;
    ev.depth = depth;
    ev.volume = op->volume->name8;
    if (node != NULL) {
        ev.filter = node->instance->filter->name8;
        ev.instance = node->instance->name8;
        ev.altitude = node->instance->altitude.text;
    }
    ev.status = status;
    ev.information = op->data.IoStatus.Information;
    ev.flags = flags;
    PFILE_OBJECT fo = op->iopb.TargetFileObject;
    if (fo != NULL && fo->FileName.Buffer != NULL) {
        fltsim__ustr_to_utf8(&fo->FileName, file, sizeof(file));
        ev.detail = file;
    }
    fltsim__event_thread(&ev);
    fltsim__trace(op->sys, &ev);
}

/* ---- checks around a pre callback ---- */

static const char *pre_name(FLT_PREOP_CALLBACK_STATUS s)
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

/* Applies SPEC 3.1-3.2 to what a pre returned: reports each broken rule and
 * returns the status FltMgr acts on. */
static FLT_PREOP_CALLBACK_STATUS check_pre_status(struct fltsim_op *op, struct fltsim_node *node,
                                                  FLT_PREOP_CALLBACK_STATUS st, PVOID *ctx,
                                                  const IO_STATUS_BLOCK *iosb_before)
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
                       pre_name(st));
        *ctx = NULL;
    }
    switch (st) {
    case FLT_PREOP_PENDING:
        if (op->kind != FLTSIM_OP_IRP) {
            fltsim__report(sys, NULL, inst, op, "V4", "3.1",
                           "FLT_PREOP_PENDING for a %s operation; only IRP-based operations "
                           "can be pended; handled as FLT_PREOP_SUCCESS_NO_CALLBACK",
                           op->kind == FLTSIM_OP_FAST_IO ? "fast I/O" : "FS-filter");
        } else {
            fltsim__report(sys, NULL, inst, op, "SIM", "3.2",
                           "FLT_PREOP_PENDING is not modeled in this build of fltsim; "
                           "handled as FLT_PREOP_SUCCESS_NO_CALLBACK");
        }
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
    case FLT_PREOP_COMPLETE: {
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
        if (op->iopb.TargetFileObject != node->view.TargetFileObject ||
            op->iopb.TargetInstance != node->view.TargetInstance)
            fltsim__report(sys, NULL, inst, op, "V18", "3.2",
                           "TargetFileObject or TargetInstance was changed and the operation "
                           "then completed; upper filters never see the change");
        return st;
    }
    default:
        return st;
    }
}

/* SPEC 6.3: a pre's parameter changes reach the filters below and the file
 * system only when the filter called FltSetCallbackDataDirty; otherwise they
 * are ignored (undone here) and reported. MajorFunction never changes. */
static void take_parameter_changes(struct fltsim_op *op, struct fltsim_node *node, PETHREAD thread,
                                   KPROCESSOR_MODE mode)
{
    fltsim_system *sys = op->sys;
    struct _FLT_INSTANCE *inst = node->instance;
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
        if (memcmp(&op->iopb, &node->view, sizeof(op->iopb)) != 0) {
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
        else
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

/* ---- the phases ---- */

static FLT_PREOP_CALLBACK_STATUS call_pre(struct fltsim_op *op, ULONG depth,
                                          struct fltsim_node *node, PFLT_PRE_OPERATION_CALLBACK pre,
                                          PVOID *ctx)
{
    bool tracing = fltsim__tracing(op->sys);
    if (tracing)
        trace_op(op, FLTSIM_EV_PRE, depth, node, 0, 0);
    struct fltsim_callout save;
    fltsim__enter(&save, op->sys, node->instance->filter, op);
    FLT_PREOP_CALLBACK_STATUS st = pre(&op->data, &node->objects, ctx);
    fltsim__leave(&save);
    if (tracing)
        trace_op(op, FLTSIM_EV_PRE_RETURN, depth, node, (LONG)st, 0);
    return st;
}

static void call_post(struct fltsim_op *op, ULONG depth, struct fltsim_node *node)
{
    fltsim_system *sys = op->sys;
    struct _FLT_INSTANCE *inst = node->instance;
    PFLT_POST_OPERATION_CALLBACK post = inst->filter->ops[op->slot].post;

    /* This node's view of the parameters: what its pre saw (SPEC 6.3). */
    memcpy(&op->iopb, &node->view, sizeof(op->iopb));
    op->data.Flags |= FLTFL_CALLBACK_DATA_POST_OPERATION;
    NTSTATUS before = op->data.IoStatus.Status;

    bool tracing = fltsim__tracing(sys);
    if (tracing)
        trace_op(op, FLTSIM_EV_POST, depth, node, 0, 0);
    struct fltsim_callout save;
    fltsim__enter(&save, sys, inst->filter, op);
    FLT_POSTOP_CALLBACK_STATUS st = post(&op->data, &node->objects, node->completion_context, 0);
    fltsim__leave(&save);
    if (tracing)
        trace_op(op, FLTSIM_EV_POST_RETURN, depth, node, (LONG)st, 0);

    switch (st) {
    case FLT_POSTOP_FINISHED_PROCESSING:
        break;
    case FLT_POSTOP_MORE_PROCESSING_REQUIRED:
        if (op->kind != FLTSIM_OP_IRP)
            fltsim__report(sys, NULL, inst, op, "V10", "4.1",
                           "FLT_POSTOP_MORE_PROCESSING_REQUIRED for a non-IRP operation; "
                           "handled as FLT_POSTOP_FINISHED_PROCESSING");
        else
            fltsim__report(sys, NULL, inst, op, "SIM", "4.1",
                           "FLT_POSTOP_MORE_PROCESSING_REQUIRED is not modeled in this build "
                           "of fltsim; handled as FLT_POSTOP_FINISHED_PROCESSING");
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

    NTSTATUS after = op->data.IoStatus.Status;
    UCHAR major = op->iopb.MajorFunction;
    if ((major == IRP_MJ_CLEANUP || major == IRP_MJ_CLOSE) && NT_SUCCESS(before) &&
        !NT_SUCCESS(after))
        fltsim__report(sys, NULL, inst, op, "V9", "4.5",
                       "the post-operation callback turned %s into a failure; cleanup and "
                       "close cannot fail",
                       fltsim_major_name(major));
    if (major == IRP_MJ_CREATE && NT_SUCCESS(before) && before != STATUS_REPARSE &&
        !NT_SUCCESS(after))
        fltsim__report(sys, NULL, inst, op, "V24", "4.5",
                       "the post-create callback failed a create the file system had opened "
                       "without FltCancelFileOpen; the open leaks in the file system");
    if (after == STATUS_FLT_DISALLOW_FAST_IO && before != STATUS_FLT_DISALLOW_FAST_IO)
        fltsim__report(sys, NULL, inst, op, "V11", "4.5",
                       "the post-operation callback set STATUS_FLT_DISALLOW_FAST_IO; only FltMgr "
                       "produces that status");
    op->data.Flags &= ~FLTFL_CALLBACK_DATA_DIRTY;
    node_done(op, node);
}

/* Calls the file system below the last node. */
static void call_fs(struct fltsim_op *op)
{
    PFLT_VOLUME v = op->volume;
    bool tracing = fltsim__tracing(op->sys);
    op->iopb.TargetInstance = NULL;
    if (tracing)
        trace_op(op, FLTSIM_EV_FS, op->node_count, NULL, 0, 0);

    struct fltsim_callout save;
    fltsim__enter(&save, op->sys, NULL, op);
    switch (op->kind) {
    case FLTSIM_OP_IRP:
        op->data.IoStatus.Status = v->ops->irp_cb(v->fs, &op->data);
        break;
    case FLTSIM_OP_FAST_IO:
        /* [SIM] A file system that declines fast I/O shows up to the posts as
         * STATUS_FLT_DISALLOW_FAST_IO, and the I/O manager then sends an IRP. */
        if (v->ops->fast_io_cb == NULL || !v->ops->fast_io_cb(v->fs, &op->data)) {
            op->data.IoStatus.Status = STATUS_FLT_DISALLOW_FAST_IO;
            op->data.IoStatus.Information = 0;
        }
        break;
    case FLTSIM_OP_FS_FILTER:
        if (v->ops->fs_filter_cb != NULL)
            op->data.IoStatus.Status = v->ops->fs_filter_cb(v->fs, &op->data);
        else
            op->data.IoStatus.Status = STATUS_SUCCESS;
        break;
    }
    fltsim__leave(&save);
    if (tracing)
        trace_op(op, FLTSIM_EV_FS_RETURN, op->node_count, NULL, op->data.IoStatus.Status, 0);
}

/* Runs the operation from its first node to its completion. */
static void run(struct fltsim_op *op)
{
    ULONG top_post = op->node_count; /* posts run for nodes [0, top_post) */
    PETHREAD thread = op->data.Thread;
    KPROCESSOR_MODE mode = op->data.RequestorMode;

    for (ULONG i = 0; i < op->node_count; i++) {
        struct fltsim_node *node = &op->nodes[i];
        struct _FLT_INSTANCE *inst = node->instance;
        const struct fltsim_callbacks *cbs = &inst->filter->ops[op->slot];

        op->iopb.TargetInstance = inst;
        fltsim__fill_objects(&node->objects, inst->filter, op->volume, inst,
                             op->iopb.TargetFileObject);
        memcpy(&node->view, &op->iopb, sizeof(node->view));
        IO_STATUS_BLOCK iosb_before = op->data.IoStatus;

        PVOID ctx = NULL;
        FLT_PREOP_CALLBACK_STATUS st = FLT_PREOP_SUCCESS_WITH_CALLBACK;
        if (cbs->pre != NULL) {
            st = call_pre(op, i, node, cbs->pre, &ctx);
            take_parameter_changes(op, node, thread, mode);
            st = check_pre_status(op, node, st, &ctx, &iosb_before);
        }
        /* else: a post without a pre counts as SUCCESS_WITH_CALLBACK (SPEC 2.3). */

        switch (st) {
        case FLT_PREOP_SUCCESS_WITH_CALLBACK:
        case FLT_PREOP_SYNCHRONIZE:
            if (cbs->post == NULL) {
                fltsim__report(op->sys, NULL, inst, op, "V2", "3.2",
                               "%s but no post-operation callback is registered for %s (on "
                               "Windows: bugcheck 0xF5, parameter 0x66)",
                               pre_name(st), fltsim_major_name(op->iopb.MajorFunction));
                node_done(op, node);
                break;
            }
            node->state = FLTSIM_NODE_WANTS_POST;
            node->completion_context = ctx;
            node->synchronized = st == FLT_PREOP_SYNCHRONIZE;
            break;
        case FLT_PREOP_COMPLETE:
            /* Lower filters and the file system are skipped, this node's post
             * too; the posts above run (SPEC 3.2). */
            node_done(op, node);
            top_post = i;
            goto posts;
        case FLT_PREOP_DISALLOW_FASTIO:
        case FLT_PREOP_DISALLOW_FSFILTER_IO:
            op->data.IoStatus.Status = STATUS_FLT_DISALLOW_FAST_IO; /* same value as FSFILTER_IO */
            op->data.IoStatus.Information = 0;
            node_done(op, node);
            top_post = i;
            goto posts;
        default:
            node_done(op, node);
            break;
        }
    }
    call_fs(op);

posts:
    for (ULONG j = top_post; j-- > 0;) {
        struct fltsim_node *node = &op->nodes[j];
        if (node->state == FLTSIM_NODE_WANTS_POST) {
            op->iopb.TargetInstance = node->instance;
            call_post(op, j, node);
        }
    }
}

/* ---- the entry point ---- */

static bool kind_fits(enum fltsim_op_kind kind, UCHAR major)
{
    switch (kind) {
    case FLTSIM_OP_IRP:
        return major <= IRP_MJ_MAXIMUM_FUNCTION;
    case FLTSIM_OP_FAST_IO:
        /* SPEC 1.3: these majors can arrive as fast I/O, plus FltMgr's fast-I/O codes. */
        return major == IRP_MJ_READ || major == IRP_MJ_WRITE || major == IRP_MJ_QUERY_INFORMATION ||
               major == IRP_MJ_DEVICE_CONTROL || major == IRP_MJ_LOCK_CONTROL ||
               fltsim__is_fast_io_code(major);
    case FLTSIM_OP_FS_FILTER:
        return fltsim__is_fs_filter_code(major);
    }
    return false;
}

NTSTATUS fltsim_request_dispatch(PFLT_VOLUME volume, struct fltsim_request *req)
{
    if (!fltsim__is_volume(volume) || req == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_request_dispatch: volume and req are required");
    int slot = fltsim__slot_of(req->major);
    if (slot < 0 || !kind_fits(req->kind, req->major))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_request_dispatch: operation code 0x%02x cannot be a "
                            "request of kind %d",
                            req->major, (int)req->kind);
    const ULONG allowed_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER |
                                FLTFL_CALLBACK_DATA_GENERATED_IO | FLTFL_CALLBACK_DATA_REISSUED_IO;
    if ((req->callback_flags & ~allowed_flags) != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_request_dispatch: callback_flags may hold only SYSTEM_BUFFER, "
                            "GENERATED_IO and REISSUED_IO");
    if (__atomic_load_n(&volume->dismounting, __ATOMIC_SEQ_CST)) {
        req->io_status.Status = STATUS_VOLUME_DISMOUNTED;
        req->io_status.Information = 0;
        return STATUS_VOLUME_DISMOUNTED;
    }

    fltsim__volume_mount_setup(volume, req->major);

    struct fltsim_stack *stack = fltsim__volume_get_stack(volume);
    ULONG candidates = stack != NULL ? stack->count[slot] : 0;
    struct fltsim_op *op = calloc(1, sizeof(*op) + candidates * sizeof(op->nodes[0]));
    if (op == NULL) {
        fltsim__stack_unref(stack);
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES,
                            "fltsim_request_dispatch: out of memory");
    }
    op->magic = FLTSIM_MAGIC_OP;
    op->sys = volume->sys;
    op->volume = volume;
    op->stack = stack;
    op->kind = req->kind;
    op->slot = (ULONG)slot;
    op->id = __atomic_fetch_add(&volume->sys->next_op_id, 1, __ATOMIC_SEQ_CST);

    op->iopb.IrpFlags = req->kind == FLTSIM_OP_IRP ? req->irp_flags : 0;
    op->iopb.MajorFunction = req->major;
    op->iopb.MinorFunction = req->minor;
    op->iopb.OperationFlags = req->operation_flags;
    op->iopb.TargetFileObject = req->file_object;
    op->iopb.Parameters = req->parameters;

    static const ULONG kind_flag[] = {FLTFL_CALLBACK_DATA_IRP_OPERATION,
                                      FLTFL_CALLBACK_DATA_FAST_IO_OPERATION,
                                      FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION};
    op->data.Flags = kind_flag[req->kind] | req->callback_flags;
    PETHREAD thread = fltsim_thread_current();
    PFLT_IO_PARAMETER_BLOCK iopb = &op->iopb;
    memcpy((void *)&op->data.Thread, &thread, sizeof(thread));
    memcpy((void *)&op->data.Iopb, &iopb, sizeof(iopb));
    op->data.RequestorMode = req->requestor_mode;

    for (ULONG k = 0; k < candidates; k++) {
        struct _FLT_INSTANCE *inst = stack->nodes[stack->first[slot] + k];
        if (node_skips(inst->filter->ops[slot].flags, op))
            continue;
        if (!instance_enter(inst))
            continue; /* tearing down: no new operations (SPEC 2.6 step 1) */
        op->nodes[op->node_count].instance = inst;
        op->nodes[op->node_count].state = FLTSIM_NODE_IDLE;
        op->node_count++;
    }

    bool tracing = fltsim__tracing(op->sys);
    if (tracing)
        trace_op(op, FLTSIM_EV_IO_START, 0, NULL, 0, 0);
    run(op);

    /* The I/O manager sees the parameters as it issued them. */
    if (op->node_count != 0)
        memcpy(&op->iopb, &op->nodes[0].view, sizeof(op->iopb));
    req->io_status = op->data.IoStatus;
    req->op_id = op->id;
    if (tracing)
        trace_op(op, FLTSIM_EV_IO_COMPLETE, 0, NULL, op->data.IoStatus.Status, 0);

    for (ULONG k = 0; k < op->node_count; k++)
        node_done(op, &op->nodes[k]);
    op->magic = FLTSIM_MAGIC_DEAD;
    fltsim__stack_unref(stack);
    NTSTATUS status = op->data.IoStatus.Status;
    free(op);
    return status;
}
