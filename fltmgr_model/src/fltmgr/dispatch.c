/*
 * The callback engine (SPEC 2.3, 3, 4, 5.1, 6): one operation goes down the
 * volume's node list calling pre-operation callbacks by decreasing altitude,
 * reaches the file system unless a filter completed it, and comes back up
 * calling the posts of the nodes that asked for one, lowest altitude first.
 *
 * The operation is a resumable state machine that one thread at a time
 * advances (holds the baton). A pre that returns FLT_PREOP_PENDING or a post
 * that returns FLT_POSTOP_MORE_PROCESSING_REQUIRED gives the baton to whoever
 * completes it (FltCompletePendedPre/PostOperation), even when that completion
 * comes before the callback returned; a file system that completes
 * asynchronously gives it to a DPC at DISPATCH_LEVEL; a post that must run on
 * a given thread (SYNCHRONIZE: the pre's thread; create: the issuer) is handed
 * to that thread, which waits for it. Each node keeps the parameter block its
 * pre saw, so every filter's post sees its own view (SPEC 6.3). Teardown
 * drains the posts of an instance's operations in flight (SPEC 4.4), except
 * those of operations whose buffer the instance swapped, which it cancels
 * and waits for (SPEC 2.6 step 3; cancel.c).
 *
 * This file owns the state machine, the file system step with its DPC, the
 * entry point that sets an operation up and lists it in flight, and the
 * trace events. The phases and the rest are the other files of
 * dispatch_internal.h: pre.c, post.c, pending.c, operation.c, inflight.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch_internal.h"

/* ---- tracing ---- */

void fltsim__trace_op_info(struct fltsim_op *op, enum fltsim_event_type type, ULONG depth,
                           const struct fltsim_node *node, LONG status, ULONG flags, ULONG_PTR info)
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
    ev.information = info;
    ev.flags = flags;
    PFILE_OBJECT fo = op->iopb.TargetFileObject;
    if (fo != NULL && fo->FileName.Buffer != NULL) {
        fltsim__ustr_to_utf8(&fo->FileName, file, sizeof(file));
        ev.detail = file;
    }
    fltsim__event_thread(&ev);
    fltsim__trace(op->sys, &ev);
}

/* ---- the file system step and its DPC ---- */

static void dpc_run(struct fltsim_task *task);

/* The file system has answered: on to the posts. */
static void fs_done(struct fltsim_op *op)
{
    if (fltsim__tracing(op->sys))
        fltsim__trace_op(op, FLTSIM_EV_FS_RETURN, op->node_count, NULL, op->data.IoStatus.Status,
                         0);
    op->fs_status = op->data.IoStatus.Status;
    if (op->iopb.MajorFunction == IRP_MJ_SET_INFORMATION && NT_SUCCESS(op->fs_status))
        fltsim__names_fs_changed(&op->data, op->volume); /* renames empty the name cache */
    op->phase = FLTSIM_PHASE_POST;
    op->cursor = op->top_post;
}

static void submit_dpc(struct fltsim_op *op)
{
    fltsim__submit(op->sys->executor, &op->dpc);
}

/* run_fs for an IRP whose pres asked for status callbacks
 * (FltRequestOperationStatusCallback, opstatus.c): they run on this thread
 * once IoCallDriver would have returned to it, with what it returned. An IRP
 * the file system holds (or completes on its completion context) returns
 * STATUS_PENDING at once, and its completion, which may already run
 * elsewhere, waits for them. One it completed in its dispatch routine
 * completed inside IoCallDriver, running the posts FltMgr runs from its
 * completion routine: this thread runs its part of the post phase first,
 * here, and the routines when that is over (complete_op runs them when the
 * operation completes on this thread; otherwise they run once the posts
 * left it, a post having pended the operation or being due on another
 * thread, whose completion waits for them). Out of line: the usual IRP pays
 * one test. false: the baton is gone. */
static __attribute__((noinline)) bool run_fs_reporting_status(struct fltsim_op *op)
{
    PFLT_VOLUME v = op->volume;
    fltsim__opstatus_hold(op);
    struct fltsim_callout save;
    fltsim__enter(&save, op->sys, NULL, op);
    NTSTATUS status = v->ops->irp_cb(v->fs, &op->data);
    if (status == STATUS_PENDING) {
        fltsim__leave(&save);
        fltsim__opstatus_release(op);
        return false;
    }
    op->data.IoStatus.Status = status;
    fltsim__leave(&save);
    if (op->async_fs) {
        /* Completing on its completion context, the file system returned
         * STATUS_PENDING to IoCallDriver; that completion comes after. */
        fltsim__opstatus_release(op);
        submit_dpc(op);
        return false;
    }
    fltsim__opstatus_answered(op, status);
    fs_done(op);
    fltsim__advance(op); /* its own callout frame for the posts */
    fltsim__opstatus_release(op);
    return false;
}

/* Calls the file system below the last node. false: it completes later
 * (asynchronously) and the baton is gone. */
static bool run_fs(struct fltsim_op *op)
{
    PFLT_VOLUME v = op->volume;
    op->top_post = op->node_count;
    op->iopb.TargetInstance = NULL;
    if (fltsim__tracing(op->sys))
        fltsim__trace_op(op, FLTSIM_EV_FS, op->node_count, NULL, 0, 0);

    struct fltsim_callout save;
    fltsim__enter(&save, op->sys, NULL, op);
    switch (op->kind) {
    case FLTSIM_OP_IRP: {
        if (op->status_requests != NULL) {
            fltsim__leave(&save);
            return run_fs_reporting_status(op);
        }
        NTSTATUS status = v->ops->irp_cb(v->fs, &op->data);
        if (status == STATUS_PENDING) {
            /* The file system calls fltsim_fs_complete; the op may already be
             * past this point on another thread, so nothing more touches it. */
            fltsim__leave(&save);
            return false;
        }
        op->data.IoStatus.Status = status;
        fltsim__leave(&save);
        if (op->async_fs) {
            submit_dpc(op);
            return false;
        }
        break;
    }
    case FLTSIM_OP_FAST_IO:
        /* [SIM] A file system that declines fast I/O shows up to the posts as
         * STATUS_FLT_DISALLOW_FAST_IO, and the I/O manager then sends an IRP. */
        if (v->ops->fast_io_cb == NULL || !v->ops->fast_io_cb(v->fs, &op->data)) {
            op->data.IoStatus.Status = STATUS_FLT_DISALLOW_FAST_IO;
            op->data.IoStatus.Information = 0;
        }
        fltsim__leave(&save);
        break;
    case FLTSIM_OP_FS_FILTER:
        if (v->ops->fs_filter_cb != NULL)
            op->data.IoStatus.Status = v->ops->fs_filter_cb(v->fs, &op->data);
        else
            op->data.IoStatus.Status = STATUS_SUCCESS;
        fltsim__leave(&save);
        break;
    }
    fs_done(op);
    return true;
}

static void dpc_run(struct fltsim_task *task)
{
    struct fltsim_op *op = CONTAINING_RECORD(task, struct fltsim_op, dpc);
    fs_done(op);
    fltsim__advance(op); /* the last touch: fltsim__advance may free op */
}

void fltsim_fs_complete(PFLT_CALLBACK_DATA data)
{
    struct fltsim_op *op = fltsim__op_from_data(data);
    if (op == NULL || op->drain_copy || op->phase != FLTSIM_PHASE_FS) {
        fprintf(stderr, "fltsim: fltsim_fs_complete for an IRP the file system does not hold\n");
        return;
    }
    submit_dpc(op);
}

/* ---- the state machine ---- */

/* The pre and post phases walk their nodes themselves (pre.c, post.c): what
 * comes back here is a change of phase, or the baton going elsewhere. */
static inline void advance(struct fltsim_op *op)
{
    for (;;) {
        switch (op->phase) {
        case FLTSIM_PHASE_PRE:
            if (!fltsim__run_pres(op))
                return;
            continue;
        case FLTSIM_PHASE_FS:
            if (!run_fs(op))
                return;
            continue;
        case FLTSIM_PHASE_POST:
            fltsim__run_posts(op);
            return;
        case FLTSIM_PHASE_DONE:
            return;
        }
    }
}

/* The callout frame of every pre and post this advance calls (README
 * "Performance": one frame per advance, not one per callback). An exception
 * one of them does not handle comes back here, at the callback op->cursor
 * names; the callback's return is played out with the exception's outcome
 * and the advance goes on. */
__attribute__((noinline)) static void advance_caught(struct fltsim_op *op)
{
    struct fltsim_seh_frame seh;
    /* The caller's context around each of them (op->callout): here rather
     * than in the operation, which stays smaller; an operation is advanced
     * by one thread at a time, and a pend hands it over only once the
     * callback has returned and restored it. */
    struct fltsim_callout callout;
    op->callout = &callout;
    fltsim__seh_push(&seh);
    if (FLTSIM_SEH_SETJMP(&seh) != 0) {
        /* Only filter code raises, and only a pre or a post of op runs
         * filter code under this frame (a nested operation has its own). */
        if (op->phase == FLTSIM_PHASE_PRE) {
            fltsim__pre_raised(op, &seh);
        } else if (op->phase == FLTSIM_PHASE_POST) {
            fltsim__post_raised(op, &seh);
        } else {
            fprintf(stderr, "fltsim: exception 0x%08X raised outside a pre or a post (phase %d)\n",
                    (unsigned)seh.record.ExceptionCode, (int)op->phase);
            abort();
        }
        fltsim__seh_push(&seh);
    }
    advance(op);
    fltsim__seh_pop(&seh);
}

void fltsim__advance(struct fltsim_op *op)
{
    if (op->node_count == 0) {
        advance(op); /* no filter code runs for it */
        return;
    }
    advance_caught(op);
}

/* ---- the entry point ---- */

/* OS threads take shards in turn as they first ask. */
ULONG fltsim__thread_shard(void)
{
    static ULONG next_shard;
    static _Thread_local ULONG shard_plus_one;
    if (shard_plus_one == 0)
        shard_plus_one = __atomic_fetch_add(&next_shard, 1, __ATOMIC_RELAXED) % FLTSIM_SHARDS + 1;
    return shard_plus_one - 1;
}

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
    /* IRP_SYNCHRONOUS_PAGING_IO (0x40, also IRP_INPUT_OPERATION) only
     * qualifies IRP_PAGING_IO. */
    bool paging = irp && (op->iopb.IrpFlags & IRP_PAGING_IO);
    bool nocache = irp && (op->iopb.IrpFlags & IRP_NOCACHE);
    if ((flags & FLTFL_OPERATION_REGISTRATION_SKIP_PAGING_IO) && paging)
        return true;
    if ((flags & FLTFL_OPERATION_REGISTRATION_SKIP_CACHED_IO) && (fast || (!paging && !nocache)))
        return true;
    if ((flags & FLTFL_OPERATION_REGISTRATION_SKIP_NON_CACHED_NON_PAGING_IO) && nocache && !paging)
        return true;
    return false;
}

/* Whether the instance takes new operations; called under the in-flight
 * shard lock the operation is listed under (see struct _FLT_INSTANCE). */
static bool instance_enter(struct _FLT_INSTANCE *inst)
{
    return __atomic_load_n(&inst->state, __ATOMIC_ACQUIRE) == FLTSIM_INSTANCE_ATTACHED;
}

/* Sets up op's nodes: the instances of the volume's current stack that
 * registered for the operation, are not skipped by its flags and are not
 * tearing down (SPEC 3.5 step 1), and, for I/O a filter generated, sit below
 * the instance that generated it (SPEC 2.3). Called with the in-flight shard
 * lock held that op is listed under in the same critical section. */
static void take_nodes(struct fltsim_op *op, struct fltsim_stack *stack, ULONG candidates,
                       const struct fltsim_altitude *below)
{
    ULONG slot = op->slot;
    ULONG k = 0;
    if (below != NULL) /* the nodes are highest altitude first */
        while (k < candidates && fltsim__altitude_compare(
                                     &stack->nodes[stack->first[slot] + k]->altitude, below) >= 0)
            k++;
    for (; k < candidates; k++) {
        struct _FLT_INSTANCE *inst = stack->nodes[stack->first[slot] + k];
        if (node_skips(inst->filter->ops[slot].flags, op))
            continue;
        if (!instance_enter(inst))
            continue; /* tearing down: no new operations (SPEC 2.6 step 1) */
        /* The memory may be reused (fltsim__op_alloc): what can be read before the
         * pre fills in the rest. */
        struct fltsim_node *node = &op->nodes[op->node_count++];
        node->instance = inst;
        node->completion_context = NULL;
        node->state = FLTSIM_NODE_IDLE;
        node->synchronized = FALSE;
        node->swapped = FALSE;
        node->pre_thread = NULL;
    }
}

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

static NTSTATUS check_request(PFLT_VOLUME volume, const struct fltsim_request *req, int *slot)
{
    if (!fltsim__is_volume(volume) || req == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_request_dispatch: volume and req are required");
    *slot = fltsim__slot_of(req->major);
    if (*slot < 0 || !kind_fits(req->kind, req->major))
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
    if ((req->request_flags & ~(ULONG)(FLTSIM_REQUEST_ASYNC_FS | FLTSIM_REQUEST_TAG_DATA)) != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_request_dispatch: unknown request_flags 0x%x",
                            (unsigned)req->request_flags);
    return STATUS_SUCCESS;
}

/* Fills in what op takes from the request (not its id, stack or nodes). */
static void op_setup(struct fltsim_op *op, PFLT_VOLUME volume, struct fltsim_request *req,
                     ULONG slot)
{
    op->magic = FLTSIM_MAGIC_OP;
    op->sys = volume->sys;
    op->volume = volume;
    op->kind = req->kind;
    op->slot = slot;
    op->refs = 2; /* in flight (complete_op drops it) and the issuer's */
    op->req = req;
    op->issuer = fltsim__current_sthread();
    op->async_fs = req->kind == FLTSIM_OP_IRP && (volume->completion == FLTSIM_COMPLETE_ASYNC ||
                                                  (req->request_flags & FLTSIM_REQUEST_ASYNC_FS));
    InitializeListHead(&op->waiters);
    op->dpc.run = dpc_run;
    op->dpc.kind = FLTSIM_TASK_DPC;

    op->iopb.IrpFlags = req->kind == FLTSIM_OP_IRP ? req->irp_flags : 0;
    op->iopb.MajorFunction = req->major;
    op->iopb.MinorFunction = req->minor;
    op->iopb.OperationFlags = req->operation_flags;
    op->iopb.TargetFileObject = req->file_object;
    op->iopb.Parameters = req->parameters;

    static const ULONG kind_flag[] = {FLTFL_CALLBACK_DATA_IRP_OPERATION,
                                      FLTFL_CALLBACK_DATA_FAST_IO_OPERATION,
                                      FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION};
    op->base_flags = kind_flag[req->kind] | req->callback_flags;
    op->data.Flags = op->base_flags;
    op->thread = fltsim_thread_current();
    op->mode = req->requestor_mode;
    op->file_object = req->file_object;
    op->fs_status = STATUS_PENDING;
    PFLT_IO_PARAMETER_BLOCK iopb = &op->iopb;
    memcpy((void *)&op->data.Thread, &op->thread, sizeof(op->thread));
    memcpy((void *)&op->data.Iopb, &iopb, sizeof(iopb));
    op->data.RequestorMode = req->requestor_mode;
}

NTSTATUS fltsim_request_dispatch(PFLT_VOLUME volume, struct fltsim_request *req)
{
    return fltsim__request_dispatch_below(volume, req, NULL);
}

NTSTATUS fltsim__request_dispatch_below(PFLT_VOLUME volume, struct fltsim_request *req,
                                        struct _FLT_INSTANCE *below)
{
    return fltsim__request_dispatch_below_altitude(volume, req,
                                                   below != NULL ? &below->altitude : NULL);
}

NTSTATUS fltsim_request_dispatch_below(PFLT_VOLUME volume, struct fltsim_request *req,
                                       PCWSTR altitude)
{
    if (altitude == NULL)
        return fltsim__request_dispatch_below_altitude(volume, req, NULL);
    struct fltsim_altitude parsed;
    if (!fltsim__altitude_parse(altitude, fltsim_wcslen(altitude), &parsed))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_request_dispatch_below: the altitude does not parse");
    return fltsim__request_dispatch_below_altitude(volume, req, &parsed);
}

NTSTATUS fltsim__request_dispatch_below_altitude(PFLT_VOLUME volume, struct fltsim_request *req,
                                                 const struct fltsim_altitude *below)
{
    int slot = -1;
    NTSTATUS status = check_request(volume, req, &slot);
    if (!NT_SUCCESS(status))
        return status;
    if (__atomic_load_n(&volume->dismounting, __ATOMIC_SEQ_CST)) {
        req->io_status.Status = STATUS_VOLUME_DISMOUNTED;
        req->io_status.Information = 0;
        return STATUS_VOLUME_DISMOUNTED;
    }

    /* The deferred setup of a new volume runs once: afterwards only this
     * check is left on the path. */
    if (__atomic_load_n(&volume->mount_setup, __ATOMIC_ACQUIRE) != 2)
        fltsim__volume_mount_setup(volume, req->major);

    /* One critical section on the thread's in-flight shard lists the
     * operation, counts its reference on the node lists and takes its nodes
     * (see struct _FLT_INSTANCE for why the last goes with the listing). The
     * memory is taken first, sized by the lists' hint; lists rebuilt
     * meanwhile with more nodes make it look again. */
    fltsim_system *sys = volume->sys;
    ULONG s = fltsim__thread_shard();
    struct fltsim_inflight_shard *shard = &volume->inflight[s];
    ULONG room = __atomic_load_n(&volume->node_room[slot], __ATOMIC_RELAXED);
    struct fltsim_op *op;
    struct fltsim_stack *stack;
    ULONG candidates;
    for (;;) {
        op = fltsim__op_alloc(room);
        if (op == NULL)
            return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES,
                                "fltsim_request_dispatch: out of memory");
        op_setup(op, volume, req, (ULONG)slot);
        fltsim__spin_lock(&shard->lock);
        stack = fltsim__stack_get_locked(volume, s);
        candidates = stack != NULL ? stack->count[slot] : 0;
        if (candidates <= op->node_capacity)
            break;
        bool retired = fltsim__stack_put_locked(stack, s);
        fltsim__spin_unlock(&shard->lock);
        if (retired)
            fltsim__stack_put_retired(stack);
        fltsim__op_free(op);
        room = candidates;
    }
    op->stack = stack;
    op->id = __atomic_fetch_add(&sys->next_op_id, 1, __ATOMIC_SEQ_CST);
    take_nodes(op, stack, candidates, below);
    op->phase = FLTSIM_PHASE_PRE;
    op->inflight_shard = s;
    InsertTailList(&shard->ops, &op->inflight_link);
    shard->listed++;
    fltsim__spin_unlock(&shard->lock);
    __atomic_store_n(&req->op_id, op->id, __ATOMIC_SEQ_CST); /* a canceller reads it */

    fltsim__yield(); /* the deterministic executor may interleave here */
    if (fltsim__tracing(sys))
        fltsim__trace_op(op, FLTSIM_EV_IO_START, 0, NULL, 0, 0);
    /* complete_op knows by `issuing` that it runs within this call (nested
     * dispatches from callbacks save and restore it). */
    struct fltsim_tls *tls = &op->issuer->tls;
    struct fltsim_op *outer = tls->issuing;
    tls->issuing = op;
    fltsim__advance(op);
    tls->issuing = outer;

    if (req->complete_cb == NULL) {
        /* Synchronous: the requestor waits (serving the posts that must run
         * on its thread) until the operation completes. */
        fltsim__wait_for(op, true);
        status = req->io_status.Status;
    } else {
        fltsim__wait_for(op, false);
        LONG expected = FLTSIM_ASYNC_OPEN;
        if (__atomic_compare_exchange_n(&op->async_state, &expected, FLTSIM_ASYNC_ISSUER_RETURNED,
                                        false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            status = STATUS_PENDING; /* complete_cb will run */
        else
            status = req->io_status.Status; /* completed before we returned */
    }
    /* Ours, and the in-flight reference when complete_op left it to us. */
    fltsim__op_unref_n(op, op->inline_done ? 2 : 1);
    return status;
}
