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
 * those of operations whose buffer the instance swapped, which it waits for
 * (SPEC 2.6 step 3; cancellation is not modeled).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "exec/executor.h"

#if defined(__SANITIZE_ADDRESS__)
#define FLTSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLTSIM_ASAN 1
#endif
#endif
#ifdef FLTSIM_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct op_waiter {
    LIST_ENTRY link;
    struct fltsim_sthread *thread;
};

enum { ASYNC_OPEN, ASYNC_ISSUER_RETURNED, ASYNC_COMPLETED };

static void advance(struct fltsim_op *op);

/* How long a thread waiting for an operation spins before it parks. */
#define WAIT_SPIN_NS 20000ull

/* ---- operation memory ---- */

/* DESIGN decision 10: no allocation on the fast path. Each OS thread keeps
 * a few freed operations (with their lock still initialized) and reuses
 * them; whichever thread drops the last reference caches the memory, so an
 * operation issued on one thread and freed on another simply moves. Nothing
 * is shared between threads and nothing is locked. A thread's cache is freed
 * when the thread exits (a pthread key destructor; the main thread's stays
 * reachable until the process ends). Under AddressSanitizer cached
 * operations are poisoned, so a use after the last reference is still
 * reported. */
#define OP_CACHE_SLOTS 4

struct op_cache {
    struct fltsim_op *ops[OP_CACHE_SLOTS];
    ULONG count;
    bool registered; /* the key's destructor will run for this thread */
};

static _Thread_local struct op_cache op_cache;
static uv_once_t op_cache_once = UV_ONCE_INIT;
static pthread_key_t op_cache_key;
static bool op_cache_key_ok;

static size_t op_size(ULONG nodes)
{
    return sizeof(struct fltsim_op) + (size_t)nodes * sizeof(((struct fltsim_op *)0)->nodes[0]);
}

/* Frees operation memory for good (poisoned or not). */
static void op_release(struct fltsim_op *op)
{
    UNPOISON(&op->node_capacity, sizeof(op->node_capacity));
    UNPOISON(op, op_size(op->node_capacity));
    uv_mutex_destroy(&op->lock);
    free(op);
}

static void op_cache_destroy(void *arg)
{
    struct op_cache *c = arg;
    while (c->count > 0)
        op_release(c->ops[--c->count]);
}

static void op_cache_key_create(void)
{
    op_cache_key_ok = pthread_key_create(&op_cache_key, op_cache_destroy) == 0;
}

/* Zeroes bytes [from, to) of op in pieces of at most 64 bytes, which
 * compilers store inline; a single memset of a few hundred bytes becomes
 * `rep stos`, slow to start and to drain before the locked instruction that
 * follows. */
static inline void zero_range(struct fltsim_op *op, size_t from, size_t to)
{
    char *p = (char *)op;
    while (to - from >= 64) {
        memset(p + from, 0, 64);
        from += 64;
    }
    memset(p + from, 0, to - from);
}

/* Fresh operation memory with room for `nodes` nodes: zero but for the lock
 * (initialized) and node_capacity. NULL when out of memory. The nodes
 * themselves are left as they are: take_nodes sets what may be read. */
static struct fltsim_op *op_alloc(ULONG nodes)
{
    struct op_cache *c = &op_cache;
    struct fltsim_op *op = NULL;
    /* The smallest that fits: a pended operation holds its memory as long
     * as it stays pended. */
    ULONG best = OP_CACHE_SLOTS, best_capacity = 0;
    for (ULONG k = 0; k < c->count; k++) {
        ULONG capacity;
        /* node_capacity is read while the rest stays poisoned. */
        UNPOISON(&c->ops[k]->node_capacity, sizeof(capacity));
        capacity = c->ops[k]->node_capacity;
        POISON(&c->ops[k]->node_capacity, sizeof(capacity));
        if (capacity >= nodes && (best == OP_CACHE_SLOTS || capacity < best_capacity)) {
            best = k;
            best_capacity = capacity;
        }
    }
    ULONG capacity;
    if (best != OP_CACHE_SLOTS) {
        op = c->ops[best];
        c->ops[best] = c->ops[--c->count];
        capacity = best_capacity;
        UNPOISON(op, op_size(capacity));
    } else {
        capacity = nodes;
        op = malloc(op_size(capacity));
        if (op == NULL)
            return NULL;
        if (uv_mutex_init(&op->lock) != 0) {
            free(op);
            return NULL;
        }
    }
    zero_range(op, 0, offsetof(struct fltsim_op, lock));
    zero_range(op, offsetof(struct fltsim_op, lock) + sizeof(op->lock),
               offsetof(struct fltsim_op, nodes));
    op->node_capacity = capacity;
    return op;
}

/* Operation memory no reference points to any more. */
static void op_free(struct fltsim_op *op)
{
    op->magic = FLTSIM_MAGIC_DEAD;
    struct op_cache *c = &op_cache;
    if (!c->registered) {
        uv_once(&op_cache_once, op_cache_key_create);
        if (op_cache_key_ok && pthread_setspecific(op_cache_key, c) == 0)
            c->registered = true;
    }
    if (!c->registered || c->count == OP_CACHE_SLOTS) {
        op_release(op);
        return;
    }
    POISON(op, op_size(op->node_capacity));
    c->ops[c->count++] = op;
}

/* ---- lifetime ---- */

void fltsim__op_ref(struct fltsim_op *op)
{
    __atomic_add_fetch(&op->refs, 1, __ATOMIC_SEQ_CST);
}

/* Drops n references. When they are all that is left, no other thread
 * holds one and none can take one (references are only taken from the
 * in-flight lists, which an operation leaves before its in-flight reference
 * goes, or by a holder), so the memory goes without a locked subtract: the
 * usual end of a synchronous operation. */
static void op_unref_n(struct fltsim_op *op, LONG n)
{
    if (__atomic_load_n(&op->refs, __ATOMIC_ACQUIRE) != n &&
        __atomic_sub_fetch(&op->refs, n, __ATOMIC_SEQ_CST) != 0)
        return;
    op_free(op);
}

void fltsim__op_unref(struct fltsim_op *op)
{
    op_unref_n(op, 1);
}

static void node_done(struct fltsim_op *op, struct fltsim_node *node)
{
    /* Only DONE follows DONE: a done node needs no store (complete_op passes
     * every node here). Storing it twice (a drain and the completion) is
     * harmless. */
    if (__atomic_load_n(&node->state, __ATOMIC_ACQUIRE) == FLTSIM_NODE_DONE)
        return;
    /* Teardown waits until no node of its instance in flight is left
     * (fltsim__instance_has_ops, SPEC 2.6 step 4), looking again at each
     * broadcast. It sets the state before it looks; both sides are
     * sequentially consistent, so either it sees DONE or this sees its
     * state and wakes it. */
    __atomic_store_n(&node->state, FLTSIM_NODE_DONE, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&node->instance->state, __ATOMIC_SEQ_CST) != FLTSIM_INSTANCE_ATTACHED)
        fltsim__broadcast(op->sys);
}

static LONG node_state(const struct fltsim_node *node)
{
    return __atomic_load_n(&node->state, __ATOMIC_SEQ_CST);
}

/* ---- threads that posts must run on, and waiting for them ---- */

static bool is_create(const struct fltsim_op *op)
{
    return op->kind == FLTSIM_OP_IRP && op->slot == IRP_MJ_CREATE;
}

/* The thread node j's post must run on, or NULL for any (SPEC 4.2): creates
 * on the thread that issued them, synchronized operations on the pre's
 * thread. */
static struct fltsim_sthread *post_thread(const struct fltsim_op *op, ULONG j)
{
    if (is_create(op))
        return op->issuer;
    if (op->nodes[j].synchronized)
        return op->nodes[j].pre_thread;
    return NULL;
}

/* Whether `me` still has posts of op to run (and so must wait for them). */
static bool owes_posts(const struct fltsim_op *op, const struct fltsim_sthread *me)
{
    if (is_create(op) && op->issuer == me)
        return true;
    for (ULONG k = 0; k < op->node_count; k++) {
        const struct fltsim_node *node = &op->nodes[k];
        /* The state first: synchronized and pre_thread are written before it
         * becomes WANTS_POST, by whichever thread ran the pre. */
        LONG state = node_state(node);
        if ((state == FLTSIM_NODE_WANTS_POST || state == FLTSIM_NODE_POSTING) &&
            node->synchronized && node->pre_thread == me)
            return true;
    }
    return false;
}

/* op->lock held. */
static void wake_waiters_locked(struct fltsim_op *op)
{
    for (PLIST_ENTRY e = op->waiters.Flink; e != &op->waiters; e = e->Flink)
        fltsim__unpark(CONTAINING_RECORD(e, struct op_waiter, link)->thread);
}

static void wake_waiters(struct fltsim_op *op)
{
    uv_mutex_lock(&op->lock);
    wake_waiters_locked(op);
    uv_mutex_unlock(&op->lock);
}

/* Waits as op needs the calling thread: runs the posts handed to it, until
 * op is done (until_done) or owes this thread nothing more. The caller holds
 * a reference. */
static void wait_for(struct fltsim_op *op, bool until_done)
{
    /* The usual synchronous case: op completed inline on this thread. A done
     * operation has no handoff left. */
    if (__atomic_load_n(&op->done, __ATOMIC_ACQUIRE))
        return;
    /* A synchronous requestor whose operation another thread completes or
     * hands back (a work item completing a pended operation, a DPC): that is
     * often only microseconds away, less than a sleep and a wakeup cost. */
    if (until_done)
        fltsim__spin_until(&op->done, &op->handoff, WAIT_SPIN_NS);
    struct fltsim_sthread *me = fltsim__current_sthread();
    uv_mutex_lock(&op->lock);
    for (;;) {
        LONG h = op->handoff;
        if (h != 0 && post_thread(op, (ULONG)h - 1) == me) {
            __atomic_store_n(&op->handoff, 0, __ATOMIC_RELAXED); /* read by spinners */
            uv_mutex_unlock(&op->lock);
            advance(op);
            uv_mutex_lock(&op->lock);
            continue;
        }
        if (__atomic_load_n(&op->done, __ATOMIC_SEQ_CST))
            break;
        if (!until_done && !owes_posts(op, me))
            break;
        struct op_waiter w = {.thread = me};
        InsertTailList(&op->waiters, &w.link);
        /* complete_op sets done without the lock: announce the wait, then
         * look again (see complete_op). A wake that comes anyway leaves a
         * permit; every park here is in a loop that looks again. */
        __atomic_add_fetch(&op->waiting, 1, __ATOMIC_SEQ_CST);
        bool done = __atomic_load_n(&op->done, __ATOMIC_SEQ_CST);
        uv_mutex_unlock(&op->lock);
        if (!done)
            fltsim__park(0);
        uv_mutex_lock(&op->lock);
        __atomic_sub_fetch(&op->waiting, 1, __ATOMIC_SEQ_CST);
        RemoveEntryList(&w.link);
    }
    uv_mutex_unlock(&op->lock);
}

/* Gives the baton to the thread node j's post must run on. false: the node
 * was drained meanwhile, and the caller keeps the baton. The check is under
 * op->lock so the target cannot stop waiting between it and the handoff. */
static bool hand_off(struct fltsim_op *op, ULONG j)
{
    uv_mutex_lock(&op->lock);
    bool wanted = node_state(&op->nodes[j]) == FLTSIM_NODE_WANTS_POST;
    if (wanted) {
        __atomic_store_n(&op->handoff, (LONG)j + 1, __ATOMIC_RELEASE); /* read by spinners */
        wake_waiters_locked(op);
    }
    uv_mutex_unlock(&op->lock);
    return wanted;
}

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

/* ---- tracing ---- */

/* info: the IoStatus.Information shown. */
static void trace_op_info(struct fltsim_op *op, enum fltsim_event_type type, ULONG depth,
                          const struct fltsim_node *node, LONG status, ULONG flags,
                          ULONG_PTR info)
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

static void trace_op(struct fltsim_op *op, enum fltsim_event_type type, ULONG depth,
                     const struct fltsim_node *node, LONG status, ULONG flags)
{
    trace_op_info(op, type, depth, node, status, flags, op->data.IoStatus.Information);
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
/* V8, V9, V18 for an operation a pre completes, by returning FLT_PREOP_COMPLETE
 * or by FltCompletePendedPreOperation with it (SPEC 3.2, 3.3). */
static void check_complete(struct fltsim_op *op, const struct fltsim_node *node)
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
    if (op->iopb.TargetFileObject != node->view.TargetFileObject ||
        op->iopb.TargetInstance != node->view.TargetInstance)
        fltsim__report(sys, NULL, inst, op, "V18", "3.2",
                       "TargetFileObject or TargetInstance was changed and the operation "
                       "then completed; upper filters never see the change");
}

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
        check_complete(op, node);
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

/* Whether down, the parameters a pre passed on (after
 * take_parameter_changes), carry a buffer or MDL other than the one in view,
 * the parameters the pre received: the filter swapped the buffer (SPEC 6.3).
 * The buffer fields per major are those FLT_PARAMETERS gives a buffer and MDL
 * pair, or a lone buffer (SPEC 6.4). */
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

/* ---- pre ---- */

/* info: IoStatus.Information before the call (see below). */
static FLT_PREOP_CALLBACK_STATUS call_pre(struct fltsim_op *op, ULONG depth,
                                          struct fltsim_node *node, PFLT_PRE_OPERATION_CALLBACK pre,
                                          PVOID *ctx, ULONG_PTR info)
{
    bool tracing = fltsim__tracing(op->sys);
    if (tracing)
        trace_op(op, FLTSIM_EV_PRE, depth, node, 0, 0);
    struct fltsim_callout save;
    fltsim__enter(&save, op->sys, node->instance->filter, op);
    FLT_PREOP_CALLBACK_STATUS st = pre(&op->data, &node->objects, ctx);
    fltsim__leave(&save);
    /* A pended operation's callback data belong to whoever completes it,
     * maybe already on another thread: the trace shows what was there. */
    if (tracing)
        trace_op_info(op, FLTSIM_EV_PRE_RETURN, depth, node, (LONG)st, 0,
                      st == FLT_PREOP_PENDING ? info : op->data.IoStatus.Information);
    return st;
}

/* Acts on what a pre returned (or what FltCompletePendedPreOperation said to
 * act on, SPEC 3.3). */
static void apply_pre(struct fltsim_op *op, ULONG i, FLT_PREOP_CALLBACK_STATUS st, PVOID ctx)
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
                           pre_name(st), fltsim_major_name(op->iopb.MajorFunction));
            node_done(op, node);
        } else {
            node->completion_context = ctx;
            node->synchronized = st == FLT_PREOP_SYNCHRONIZE;
            /* op->iopb is what the pre passed down: take_parameter_changes
             * ran on both ways here (return and FltCompletePendedPre). */
            node->swapped = buffers_swapped(&op->iopb, &node->view);
            __atomic_store_n(&node->state, FLTSIM_NODE_WANTS_POST, __ATOMIC_RELEASE);
        }
        op->cursor = i + 1;
        return;
    case FLT_PREOP_COMPLETE:
        /* Lower filters, the file system and this node's post are skipped;
         * the posts above run (SPEC 3.2). */
        node_done(op, node);
        op->top_post = i;
        op->phase = FLTSIM_PHASE_POST;
        op->cursor = i;
        return;
    case FLT_PREOP_DISALLOW_FASTIO:
    case FLT_PREOP_DISALLOW_FSFILTER_IO:
        op->data.IoStatus.Status = STATUS_FLT_DISALLOW_FAST_IO; /* same value as FSFILTER_IO */
        op->data.IoStatus.Information = 0;
        node_done(op, node);
        op->top_post = i;
        op->phase = FLTSIM_PHASE_POST;
        op->cursor = i;
        return;
    default:
        node_done(op, node);
        op->cursor = i + 1;
        return;
    }
}

/* info: IoStatus.Information before the callback (the data are no longer
 * fltsim's to read, see call_pre). */
static void trace_pend(struct fltsim_op *op, ULONG depth, struct fltsim_node *node, ULONG in_post,
                       ULONG_PTR info)
{
    if (fltsim__tracing(op->sys))
        trace_op_info(op, FLTSIM_EV_PEND, depth, node, 0, in_post, info);
}

/* Runs node i's pre. false: the operation pended and the baton is gone. */
static bool run_pre(struct fltsim_op *op, ULONG i)
{
    struct fltsim_node *node = &op->nodes[i];
    struct _FLT_INSTANCE *inst = node->instance;
    const struct fltsim_callbacks *cbs = &inst->filter->ops[op->slot];

    /* The view is copied before TargetInstance is set in both: copying the
     * block right after storing one of its members would reload that member
     * in wider pieces than were stored (a store-forwarding stall per node). */
    memcpy(&node->view, &op->iopb, sizeof(node->view));
    node->view.TargetInstance = inst;
    op->iopb.TargetInstance = inst;
    fltsim__fill_objects(&node->objects, inst->filter, op->volume, inst, op->iopb.TargetFileObject);
    IO_STATUS_BLOCK iosb_before = op->data.IoStatus;
    node->pre_thread = fltsim__current_sthread();
    __atomic_store_n(&node->state, FLTSIM_NODE_PRE, __ATOMIC_RELEASE);

    PVOID ctx = NULL;
    FLT_PREOP_CALLBACK_STATUS st = FLT_PREOP_SUCCESS_WITH_CALLBACK;
    if (cbs->pre != NULL) {
        __atomic_store_n(&op->pre_pend_node, i, __ATOMIC_RELEASE);
        __atomic_store_n(&op->pre_pend, FLTSIM_PEND_RUNNING, __ATOMIC_RELEASE);
        ULONG_PTR info = op->data.IoStatus.Information;
        st = call_pre(op, i, node, cbs->pre, &ctx, info);
        /* A pended IRP's callback data belong to the filter until it calls
         * FltCompletePendedPreOperation, maybe on another thread right now:
         * its parameter changes are taken there (or below, when that call
         * came first). check_pre_status reads nothing of them for it. */
        bool pended = st == FLT_PREOP_PENDING && op->kind == FLTSIM_OP_IRP;
        if (!pended)
            take_parameter_changes(op, node, op->thread, op->mode);
        st = check_pre_status(op, node, st, &ctx, &iosb_before);
        if (st == FLT_PREOP_PENDING) {
            trace_pend(op, i, node, 0, info);
            LONG expected = FLTSIM_PEND_RUNNING;
            if (__atomic_compare_exchange_n(&op->pre_pend, &expected, FLTSIM_PEND_PENDED, false,
                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                return false; /* FltCompletePendedPreOperation continues it */
            /* Completed before the pre returned (SPEC 3.2): continue here. */
            take_parameter_changes(op, node, op->thread, op->mode);
            st = op->resume_status;
            ctx = op->resume_context;
            if (fltsim__tracing(op->sys))
                trace_op(op, FLTSIM_EV_RESUME, i, node, (LONG)st, 0);
            if (st == FLT_PREOP_COMPLETE)
                check_complete(op, node);
        } else if (__atomic_load_n(&op->pre_pend, __ATOMIC_SEQ_CST) == FLTSIM_PEND_EARLY) {
            fltsim__report(op->sys, NULL, inst, op, "V13", "3.3",
                           "FltCompletePendedPreOperation was called during a pre that then "
                           "returned %s, not FLT_PREOP_PENDING; the completion is ignored",
                           pre_name(st));
        }
        __atomic_store_n(&op->pre_pend, FLTSIM_PEND_NONE, __ATOMIC_RELEASE);
    }
    /* else: a post without a pre counts as SUCCESS_WITH_CALLBACK (SPEC 2.3). */
    apply_pre(op, i, st, ctx);
    return true;
}

/* ---- the file system ---- */

static void dpc_run(struct fltsim_task *task);

/* The file system has answered: on to the posts. */
static void fs_done(struct fltsim_op *op)
{
    if (fltsim__tracing(op->sys))
        trace_op(op, FLTSIM_EV_FS_RETURN, op->node_count, NULL, op->data.IoStatus.Status, 0);
    op->fs_status = op->data.IoStatus.Status;
    op->phase = FLTSIM_PHASE_POST;
    op->cursor = op->top_post;
}

static void submit_dpc(struct fltsim_op *op)
{
    fltsim__submit(op->sys->executor, &op->dpc);
}

/* Calls the file system below the last node. false: it completes later
 * (asynchronously) and the baton is gone. */
static bool run_fs(struct fltsim_op *op)
{
    PFLT_VOLUME v = op->volume;
    op->top_post = op->node_count;
    op->iopb.TargetInstance = NULL;
    if (fltsim__tracing(op->sys))
        trace_op(op, FLTSIM_EV_FS, op->node_count, NULL, 0, 0);

    struct fltsim_callout save;
    fltsim__enter(&save, op->sys, NULL, op);
    switch (op->kind) {
    case FLTSIM_OP_IRP: {
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
    advance(op); /* the last touch: advance may free op */
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

/* ---- post ---- */

/* The rules about what a post did to IoStatus (SPEC 4.5), checked when it
 * hands the operation back: when it returns, or, after it pended the
 * operation, at FltCompletePendedPostOperation. before is the status the
 * post was called with. */
static void check_post_status(struct fltsim_op *op, struct fltsim_node *node, NTSTATUS before)
{
    fltsim_system *sys = op->sys;
    struct _FLT_INSTANCE *inst = node->instance;
    NTSTATUS after = op->data.IoStatus.Status;
    UCHAR major = node->view.MajorFunction;
    PFILE_OBJECT fo = node->view.TargetFileObject;
    /* Only a create's file object is still private to its operation: other
     * operations on an open file object may change its Flags meanwhile. */
    bool cancelled =
        major == IRP_MJ_CREATE && fo != NULL && (fo->Flags & FO_FILE_OPEN_CANCELLED);
    if ((major == IRP_MJ_CLEANUP || major == IRP_MJ_CLOSE) && NT_SUCCESS(before) &&
        !NT_SUCCESS(after))
        fltsim__report(sys, NULL, inst, op, "V9", "4.5",
                       "the post-operation callback turned %s into a failure; cleanup and "
                       "close cannot fail",
                       fltsim_major_name(major));
    if (major == IRP_MJ_CREATE && NT_SUCCESS(before) && before != STATUS_REPARSE &&
        !NT_SUCCESS(after) && !cancelled)
        fltsim__report(sys, NULL, inst, op, "V24", "4.5",
                       "the post-create callback failed a create the file system had opened "
                       "without FltCancelFileOpen; the open leaks in the file system");
    if (major == IRP_MJ_CREATE && cancelled && NT_SUCCESS(after)) {
        /* [SIM] The file is closed below: the create cannot succeed. */
        fltsim__report(sys, NULL, inst, op, "V24", "4.5",
                       "FltCancelFileOpen was called but the create was left with a success "
                       "status; a cancelled open must fail (set IoStatus.Status to an error); "
                       "failed with STATUS_CANCELLED");
        op->data.IoStatus.Status = STATUS_CANCELLED;
        op->data.IoStatus.Information = 0;
        after = STATUS_CANCELLED;
    }
    if (after == STATUS_FLT_DISALLOW_FAST_IO && before != STATUS_FLT_DISALLOW_FAST_IO)
        fltsim__report(sys, NULL, inst, op, "V11", "4.5",
                       "the post-operation callback set STATUS_FLT_DISALLOW_FAST_IO; only FltMgr "
                       "produces that status");
}

/* Runs node j's post (its state already POSTING). false: the post pended
 * the operation and the baton is gone. */
static bool run_post(struct fltsim_op *op, ULONG j)
{
    fltsim_system *sys = op->sys;
    struct fltsim_node *node = &op->nodes[j];
    struct _FLT_INSTANCE *inst = node->instance;
    PFLT_POST_OPERATION_CALLBACK post = inst->filter->ops[op->slot].post;

    /* This node's view of the parameters: what its pre saw (SPEC 6.3). */
    memcpy(&op->iopb, &node->view, sizeof(op->iopb));
    op->data.Flags |= FLTFL_CALLBACK_DATA_POST_OPERATION;
    NTSTATUS before = op->data.IoStatus.Status;
    op->post_before = before;

    bool tracing = fltsim__tracing(sys);
    ULONG_PTR info = op->data.IoStatus.Information;
    if (tracing)
        trace_op(op, FLTSIM_EV_POST, j, node, 0, 0);
    __atomic_store_n(&op->post_pend_node, j, __ATOMIC_RELEASE);
    __atomic_store_n(&op->post_pend, FLTSIM_PEND_RUNNING, __ATOMIC_RELEASE);
    struct fltsim_callout save;
    fltsim__enter(&save, sys, inst->filter, op);
    fltsim__tls()->in_post = true;
    FLT_POSTOP_CALLBACK_STATUS st = post(&op->data, &node->objects, node->completion_context, 0);
    bool resumed_early = false;
    fltsim__leave(&save);
    if (tracing) /* as in call_pre: a pended operation is not ours to read */
        trace_op_info(op, FLTSIM_EV_POST_RETURN, j, node, (LONG)st, 0,
                      st == FLT_POSTOP_MORE_PROCESSING_REQUIRED ? info
                                                                : op->data.IoStatus.Information);

    switch (st) {
    case FLT_POSTOP_FINISHED_PROCESSING:
        break;
    case FLT_POSTOP_MORE_PROCESSING_REQUIRED:
        if (op->kind != FLTSIM_OP_IRP) {
            fltsim__report(sys, NULL, inst, op, "V10", "4.1",
                           "FLT_POSTOP_MORE_PROCESSING_REQUIRED for a non-IRP operation; "
                           "handled as FLT_POSTOP_FINISHED_PROCESSING");
            break;
        }
        trace_pend(op, j, node, 1, info);
        LONG expected = FLTSIM_PEND_RUNNING;
        if (__atomic_compare_exchange_n(&op->post_pend, &expected, FLTSIM_PEND_PENDED, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return false; /* FltCompletePendedPostOperation continues it */
        /* Completed before the post returned: go on here. */
        resumed_early = true;
        if (tracing)
            trace_op(op, FLTSIM_EV_RESUME, j, node, op->data.IoStatus.Status, 1);
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
    if (!resumed_early && __atomic_load_n(&op->post_pend, __ATOMIC_SEQ_CST) == FLTSIM_PEND_EARLY)
        fltsim__report(sys, NULL, inst, op, "V14", "5.1",
                       "FltCompletePendedPostOperation was called during a post that did not "
                       "return FLT_POSTOP_MORE_PROCESSING_REQUIRED; the completion is ignored");
    __atomic_store_n(&op->post_pend, FLTSIM_PEND_NONE, __ATOMIC_RELEASE);

    check_post_status(op, node, before);
    op->data.Flags &= ~FLTFL_CALLBACK_DATA_DIRTY;
    node_done(op, node);
    return true;
}

/* ---- completion ---- */

/* Waits until no node of op is POSTING. At completion every post of the
 * completion itself has returned, so a POSTING node is one a teardown on
 * another thread is draining right now; its post still uses the operation's
 * file object, which the I/O manager may free once the request completes. */
static bool any_draining(const struct fltsim_op *op)
{
    for (ULONG k = 0; k < op->node_count; k++)
        if (node_state(&op->nodes[k]) == FLTSIM_NODE_POSTING)
            return true;
    return false;
}

static void wait_for_drains(struct fltsim_op *op)
{
    if (!any_draining(op)) /* the usual case: no lock on the completion path */
        return;
    struct fltsim_sthread *me = fltsim__current_sthread();
    uv_mutex_lock(&op->lock);
    for (;;) {
        if (!any_draining(op))
            break;
        struct op_waiter w = {.thread = me};
        InsertTailList(&op->waiters, &w.link);
        uv_mutex_unlock(&op->lock);
        fltsim__park(0);
        uv_mutex_lock(&op->lock);
        RemoveEntryList(&w.link);
    }
    uv_mutex_unlock(&op->lock);
}

static void complete_op(struct fltsim_op *op)
{
    fltsim_system *sys = op->sys;
    struct fltsim_request *req = op->req;
    wait_for_drains(op);
    op->phase = FLTSIM_PHASE_DONE;
    /* The trace shows the parameters as the I/O manager issued them. */
    if (op->node_count != 0)
        memcpy(&op->iopb, &op->nodes[0].view, sizeof(op->iopb));
    if (fltsim__tracing(sys))
        trace_op(op, FLTSIM_EV_IO_COMPLETE, 0, NULL, op->data.IoStatus.Status, 0);
    for (ULONG k = 0; k < op->node_count; k++)
        node_done(op, &op->nodes[k]);
    /* Unlisted and off the node lists in one critical section; the volume
     * is not touched after it (a dismount waits for its lists to empty and
     * the volume may go right after). */
    PFLT_VOLUME volume = op->volume;
    struct fltsim_stack *stack = op->stack;
    ULONG s = op->inflight_shard;
    struct fltsim_inflight_shard *shard = &volume->inflight[s];
    /* With a completion callback to call the operation stays counted in
     * flight until it returns (waiting for idleness covers it): counted
     * here before it leaves the lists. */
    void (*cb)(struct fltsim_request *, void *) = req->complete_cb;
    if (cb != NULL)
        __atomic_add_fetch(&sys->callbacks_started, 1, __ATOMIC_SEQ_CST);
    fltsim__spin_lock(&shard->lock);
    RemoveEntryList(&op->inflight_link);
    shard->unlisted++;
    bool retired = fltsim__stack_put_locked(stack, s);
    bool dismounting = __atomic_load_n(&volume->dismounting, __ATOMIC_SEQ_CST) != 0;
    fltsim__spin_unlock(&shard->lock);
    op->stack = NULL;
    if (retired)
        fltsim__stack_put_retired(stack);
    if (dismounting)
        fltsim__broadcast(sys);

    req->io_status = op->data.IoStatus;
    /* An asynchronous request whose issuer already returned STATUS_PENDING
     * learns of the completion through its callback (req may be gone after
     * it). The operation stays counted in flight until then, so waiting for
     * idleness covers the callback. */
    if (cb != NULL) {
        void *ctx = req->complete_ctx;
        LONG expected = ASYNC_OPEN;
        if (!__atomic_compare_exchange_n(&op->async_state, &expected, ASYNC_COMPLETED, false,
                                         __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            struct fltsim_callout save;
            fltsim__enter(&save, sys, NULL, NULL);
            cb(req, ctx);
            fltsim__leave(&save);
        }
    }
    /* Completed inline: this thread runs the issuer's own advance of op
     * (fltsim__request_dispatch_below), so the baton never left it and no
     * other thread can wait for op (only the issuer and threads the baton
     * went to ever do). The issuer reads done and drops the in-flight
     * reference along with its own once advance returns. */
    bool inline_done = fltsim__current_sthread()->tls.issuing == op;
    if (inline_done) {
        op->inline_done = true;
        __atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
    } else {
        /* The done/waiting handshake with wait_for: either the waiter sees
         * done before it parks, or this sees it waiting and wakes it. No
         * lock when nobody waits. */
        __atomic_store_n(&op->done, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&op->waiting, __ATOMIC_SEQ_CST) != 0)
            wake_waiters(op);
    }
    if (cb != NULL)
        __atomic_add_fetch(&sys->callbacks_done, 1, __ATOMIC_SEQ_CST);
    /* fltsim_system_wait_idle announces itself before it counts (the same
     * handshake; the unlisting above is under the shard lock it takes to
     * count): nothing more when nobody waits for idleness. A waiter asks to
     * be woken once as many departures as it found pending have happened,
     * when it looks again. */
    if (__atomic_load_n(&sys->idle_waiters, __ATOMIC_SEQ_CST) != 0) {
        ULONG64 seen =
            __atomic_add_fetch(&sys->idle_departures, cb != NULL ? 2 : 1, __ATOMIC_SEQ_CST);
        if (seen >= __atomic_load_n(&sys->idle_wake_at, __ATOMIC_SEQ_CST))
            fltsim__broadcast(sys);
    }
    if (inline_done)
        return;
    fltsim__op_unref(op); /* the in-flight reference: the last touch */
}

/* ---- the state machine ---- */

static void advance(struct fltsim_op *op)
{
    for (;;) {
        switch (op->phase) {
        case FLTSIM_PHASE_PRE:
            if (op->cursor >= op->node_count) {
                op->phase = FLTSIM_PHASE_FS;
                continue;
            }
            if (!run_pre(op, op->cursor))
                return;
            continue;
        case FLTSIM_PHASE_FS:
            if (!run_fs(op))
                return;
            continue;
        case FLTSIM_PHASE_POST: {
            if (op->cursor == 0) {
                complete_op(op);
                return;
            }
            ULONG j = op->cursor - 1;
            struct fltsim_node *node = &op->nodes[j];
            if (node_state(node) != FLTSIM_NODE_WANTS_POST) {
                op->cursor = j;
                continue;
            }
            struct fltsim_sthread *target = post_thread(op, j);
            if (target != NULL && target != fltsim__current_sthread()) {
                if (hand_off(op, j))
                    return;
                continue; /* drained meanwhile */
            }
            op->cursor = j;
            LONG expected = FLTSIM_NODE_WANTS_POST;
            if (!__atomic_compare_exchange_n(&node->state, &expected, FLTSIM_NODE_POSTING, false,
                                             __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                continue; /* drained meanwhile */
            if (!run_post(op, j))
                return;
            continue;
        }
        case FLTSIM_PHASE_DONE:
            return;
        }
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

/* Sets up op's nodes: the instances of the volume's current stack that
 * registered for the operation, are not skipped by its flags and are not
 * tearing down (SPEC 3.5 step 1), and, for I/O a filter generated, sit below
 * the instance that generated it (SPEC 2.3). Called with the in-flight shard
 * lock held that op is listed under in the same critical section. */
static void take_nodes(struct fltsim_op *op, struct fltsim_stack *stack, ULONG candidates,
                       const struct _FLT_INSTANCE *below)
{
    ULONG slot = op->slot;
    ULONG k = 0;
    if (below != NULL) /* the nodes are highest altitude first */
        while (k < candidates &&
               fltsim__altitude_compare(&stack->nodes[stack->first[slot] + k]->altitude,
                                        &below->altitude) >= 0)
            k++;
    for (; k < candidates; k++) {
        struct _FLT_INSTANCE *inst = stack->nodes[stack->first[slot] + k];
        if (node_skips(inst->filter->ops[slot].flags, op))
            continue;
        if (!instance_enter(inst))
            continue; /* tearing down: no new operations (SPEC 2.6 step 1) */
        /* The memory may be reused (op_alloc): what can be read before the
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
    if ((req->request_flags & ~(ULONG)FLTSIM_REQUEST_ASYNC_FS) != 0)
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
        op = op_alloc(room);
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
        op_free(op);
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
    req->op_id = op->id;

    fltsim__yield(); /* the deterministic executor may interleave here */
    if (fltsim__tracing(sys))
        trace_op(op, FLTSIM_EV_IO_START, 0, NULL, 0, 0);
    /* complete_op knows by `issuing` that it runs within this call (nested
     * dispatches from callbacks save and restore it). */
    struct fltsim_tls *tls = &op->issuer->tls;
    struct fltsim_op *outer = tls->issuing;
    tls->issuing = op;
    advance(op);
    tls->issuing = outer;

    if (req->complete_cb == NULL) {
        /* Synchronous: the requestor waits (serving the posts that must run
         * on its thread) until the operation completes. */
        wait_for(op, true);
        status = req->io_status.Status;
    } else {
        wait_for(op, false);
        LONG expected = ASYNC_OPEN;
        if (__atomic_compare_exchange_n(&op->async_state, &expected, ASYNC_ISSUER_RETURNED, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            status = STATUS_PENDING; /* complete_cb will run */
        else
            status = req->io_status.Status; /* completed before we returned */
    }
    /* Ours, and the in-flight reference when complete_op left it to us. */
    op_unref_n(op, op->inline_done ? 2 : 1);
    return status;
}

/* ---- completing pended operations (SPEC 3.3, 5.1) ---- */

/* Reports a wrong call about op (which may be NULL). */
static void bad_call(struct fltsim_op *op, const char *rule, const char *spec, const char *fmt,
                     const char *api, const void *data)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim_system *sys = op != NULL ? op->sys : t->sys;
    char message[256];
    snprintf(message, sizeof(message), fmt, api, data);
    if (sys != NULL)
        fltsim__report(sys, t->filter, NULL, op, rule, spec, "%s", message);
    else
        fprintf(stderr, "fltsim: %s: %s\n", rule, message);
}

/* The operation behind data when it is a real one (not a draining copy). */
static struct fltsim_op *pended_op(PFLT_CALLBACK_DATA data, const char *api, const char *rule,
                                   const char *spec)
{
    struct fltsim_op *op = fltsim__op_from_data(data);
    if (op == NULL) {
        bad_call(NULL, rule, spec, "%s(%p): not the callback data of an operation in flight", api,
                 data);
        return NULL;
    }
    if (op->drain_copy) {
        bad_call(op, rule, spec,
                 "%s(%p): the copy of the callback data a draining post gets cannot be pended "
                 "or completed (SPEC 4.4)",
                 api, data);
        return NULL;
    }
    return op;
}

enum claim { CLAIM_EARLY, CLAIM_TAKEN, CLAIM_NONE };

/* The completer's side of a pend handshake (SPEC 3.2): EARLY when the
 * callback is still running (it goes on by itself once it returns), TAKEN
 * when it had returned (the caller now advances the operation), NONE when
 * nothing is pended. Exactly one completer gets EARLY or TAKEN. */
static enum claim claim_pend(LONG *pend)
{
    LONG expected = FLTSIM_PEND_RUNNING;
    if (__atomic_compare_exchange_n(pend, &expected, FLTSIM_PEND_EARLY, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
        return CLAIM_EARLY;
    if (expected == FLTSIM_PEND_PENDED &&
        __atomic_compare_exchange_n(pend, &expected, FLTSIM_PEND_NONE, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
        return CLAIM_TAKEN;
    return CLAIM_NONE;
}

/* Advances a resumed operation on the completing thread (outside any
 * filter's context), then serves the posts it owes this thread. Drops the
 * caller's reference. */
static void continue_here(struct fltsim_op *op)
{
    struct fltsim_callout save;
    fltsim__enter(&save, op->sys, NULL, NULL);
    advance(op);
    wait_for(op, false);
    fltsim__leave(&save);
    fltsim__op_unref(op);
}

VOID FltCompletePendedPreOperation(PFLT_CALLBACK_DATA CallbackData,
                                   FLT_PREOP_CALLBACK_STATUS CallbackStatus, PVOID Context)
{
    static const char api[] = "FltCompletePendedPreOperation";
    struct fltsim_op *op = pended_op(CallbackData, api, "V13", "3.3");
    if (op == NULL)
        return;
    fltsim_system *sys = op->sys;
    fltsim__check_irql(sys, CallbackStatus == FLT_PREOP_COMPLETE ? DISPATCH_LEVEL : APC_LEVEL, api);
    if (CallbackStatus != FLT_PREOP_COMPLETE && CallbackStatus != FLT_PREOP_SUCCESS_NO_CALLBACK &&
        CallbackStatus != FLT_PREOP_SUCCESS_WITH_CALLBACK) {
        fltsim__report(sys, fltsim__tls()->filter, NULL, op, "V13", "3.3",
                       "%s with %s; only FLT_PREOP_COMPLETE, FLT_PREOP_SUCCESS_NO_CALLBACK and "
                       "FLT_PREOP_SUCCESS_WITH_CALLBACK are allowed; handled as "
                       "FLT_PREOP_SUCCESS_NO_CALLBACK",
                       api, pre_name(CallbackStatus));
        CallbackStatus = FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    if (Context != NULL && CallbackStatus != FLT_PREOP_SUCCESS_WITH_CALLBACK) {
        fltsim__report(sys, fltsim__tls()->filter, NULL, op, "V13", "3.3",
                       "%s with a Context for %s; the context is only for "
                       "FLT_PREOP_SUCCESS_WITH_CALLBACK (ignored)",
                       api, pre_name(CallbackStatus));
        Context = NULL;
    }

    /* Read by run_pre when the completion beats the pre's return. */
    op->resume_status = CallbackStatus;
    op->resume_context = Context;
    enum claim claim = claim_pend(&op->pre_pend);
    if (claim == CLAIM_EARLY)
        return; /* the pre has not returned yet: run_pre continues */
    if (claim == CLAIM_TAKEN) {
        /* Continue the dispatch on this thread as if the pre had returned
         * CallbackStatus (SPEC 3.3). */
        fltsim__op_ref(op);
        ULONG i = op->pre_pend_node;
        if (fltsim__tracing(sys))
            trace_op(op, FLTSIM_EV_RESUME, i, &op->nodes[i], (LONG)CallbackStatus, 0);
        /* The work routine may have changed the parameters: the same rule
         * as at a pre's return (SPEC 6.3). */
        take_parameter_changes(op, &op->nodes[i], op->thread, op->mode);
        if (CallbackStatus == FLT_PREOP_COMPLETE)
            check_complete(op, &op->nodes[i]);
        apply_pre(op, i, CallbackStatus, Context);
        continue_here(op);
        return;
    }
    fltsim__report(sys, fltsim__tls()->filter, NULL, op, "V13", "3.3",
                   "%s for an operation that is not pended in a pre-operation callback (or "
                   "completed twice); ignored",
                   api);
}

VOID FltCompletePendedPostOperation(PFLT_CALLBACK_DATA CallbackData)
{
    static const char api[] = "FltCompletePendedPostOperation";
    struct fltsim_op *op = pended_op(CallbackData, api, "V14", "5.1");
    if (op == NULL)
        return;
    fltsim_system *sys = op->sys;
    fltsim__check_irql(sys, DISPATCH_LEVEL, api);

    enum claim claim = claim_pend(&op->post_pend);
    if (claim == CLAIM_EARLY)
        return; /* the post has not returned yet: run_post continues */
    if (claim == CLAIM_TAKEN) {
        /* Completion resumes with the next filter up, on this thread,
         * whatever IoStatus the filter left (SPEC 4.1, 5.1). */
        fltsim__op_ref(op);
        ULONG j = op->post_pend_node;
        if (fltsim__tracing(sys))
            trace_op(op, FLTSIM_EV_RESUME, j, &op->nodes[j], op->data.IoStatus.Status, 1);
        check_post_status(op, &op->nodes[j], op->post_before);
        op->data.Flags &= ~FLTFL_CALLBACK_DATA_DIRTY;
        node_done(op, &op->nodes[j]);
        op->cursor = j;
        continue_here(op);
        return;
    }
    fltsim__report(sys, fltsim__tls()->filter, NULL, op, "V14", "5.1",
                   "%s for an operation that is not pended in a post-operation callback (or "
                   "completed twice); ignored",
                   api);
}

/* ---- what other routines ask of an operation ---- */

bool fltsim__in_post(PFLT_CALLBACK_DATA data, struct fltsim_op **out, ULONG *node)
{
    struct fltsim_op *op = fltsim__op_from_data(data);
    struct fltsim_tls *t = fltsim__tls();
    if (op == NULL || t->op != op || !t->in_post)
        return false;
    *out = op;
    *node = op->drain_copy ? 0 : op->post_pend_node;
    return true;
}

/* ---- draining (SPEC 2.6 step 3, 4.4) ---- */

/* Calls node's post on a copy of the callback data with
 * FLTFL_POST_OPERATION_DRAINING; node's state is POSTING (we won it). */
static void drain_post(struct fltsim_op *op, struct fltsim_node *node, ULONG j)
{
    fltsim_system *sys = op->sys;
    struct _FLT_INSTANCE *inst = node->instance;
    PFLT_POST_OPERATION_CALLBACK post = inst->filter->ops[op->slot].post;
    struct fltsim_op *copy = op_alloc(1);
    if (copy == NULL) {
        fltsim__report(sys, NULL, inst, op, "SIM", "4.4",
                       "out of memory draining the operation; its post is skipped");
        return;
    }
    /* Only what never changes after the pre is read from op: another thread
     * may be completing it right now. */
    copy->magic = FLTSIM_MAGIC_OP;
    copy->sys = sys;
    copy->volume = op->volume;
    copy->kind = op->kind;
    copy->slot = op->slot;
    copy->id = op->id;
    copy->refs = 1;
    copy->drain_copy = true;
    copy->thread = op->thread;
    copy->mode = op->mode;
    copy->phase = FLTSIM_PHASE_DONE;
    copy->node_count = 1;
    /* Field by field: the state is the claim other threads still try
     * (atomically) to take; the copy's own is POSTING, as claimed. */
    struct fltsim_node *mine = &copy->nodes[0];
    mine->instance = node->instance;
    mine->completion_context = node->completion_context;
    mine->view = node->view;
    memcpy((void *)&mine->objects, &node->objects, sizeof(mine->objects));
    mine->state = FLTSIM_NODE_POSTING;
    mine->synchronized = node->synchronized;
    mine->swapped = node->swapped;
    mine->pre_thread = node->pre_thread;
    InitializeListHead(&copy->waiters);
    InitializeListHead(&copy->inflight_link);
    memcpy(&copy->iopb, &node->view, sizeof(copy->iopb));
    copy->data.Flags =
        op->base_flags | FLTFL_CALLBACK_DATA_DRAINING_IO | FLTFL_CALLBACK_DATA_POST_OPERATION;
    PFLT_IO_PARAMETER_BLOCK iopb = &copy->iopb;
    memcpy((void *)&copy->data.Thread, &copy->thread, sizeof(copy->thread));
    memcpy((void *)&copy->data.Iopb, &iopb, sizeof(iopb));
    copy->data.RequestorMode = copy->mode;

    bool tracing = fltsim__tracing(sys);
    if (tracing)
        trace_op(copy, FLTSIM_EV_POST, j, node, 0, FLTFL_POST_OPERATION_DRAINING);
    struct fltsim_callout save;
    fltsim__enter(&save, sys, inst->filter, copy);
    fltsim__tls()->in_post = true;
    FLT_POSTOP_CALLBACK_STATUS st = post(&copy->data, &copy->nodes[0].objects,
                                         node->completion_context, FLTFL_POST_OPERATION_DRAINING);
    fltsim__leave(&save);
    if (tracing)
        trace_op(copy, FLTSIM_EV_POST_RETURN, j, node, (LONG)st, FLTFL_POST_OPERATION_DRAINING);
    if (st != FLT_POSTOP_FINISHED_PROCESSING)
        fltsim__report(sys, NULL, inst, op, "V10", "4.4",
                       "a draining post-operation callback returned %d; it must return "
                       "FLT_POSTOP_FINISHED_PROCESSING (the operation is not pended)",
                       (int)st);
    fltsim__op_unref(copy);
}

/* Takes a reference on each operation in flight on the volume. */
static struct fltsim_op **inflight_snapshot(PFLT_VOLUME volume, ULONG *count)
{
    struct fltsim_op **ops = NULL;
    ULONG n = 0, capacity = 0;
    bool lost = false;
    for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
        struct fltsim_inflight_shard *shard = &volume->inflight[s];
        fltsim__spin_lock(&shard->lock);
        for (PLIST_ENTRY e = shard->ops.Flink; e != &shard->ops; e = e->Flink) {
            if (n == capacity) {
                ULONG grown = capacity ? capacity * 2 : 16;
                struct fltsim_op **more = realloc(ops, grown * sizeof(*ops));
                if (more == NULL) {
                    lost = true;
                    break;
                }
                ops = more;
                capacity = grown;
            }
            struct fltsim_op *op = CONTAINING_RECORD(e, struct fltsim_op, inflight_link);
            fltsim__op_ref(op);
            ops[n++] = op;
        }
        fltsim__spin_unlock(&shard->lock);
    }
    if (lost)
        fprintf(stderr, "fltsim: out of memory draining volume %s\n", volume->name8);
    *count = n;
    return ops;
}

void fltsim__inflight_init(PFLT_VOLUME v)
{
    /* Spinlocks: nothing to create, nothing to release later. */
    for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
        v->inflight[s].lock = 0;
        InitializeListHead(&v->inflight[s].ops);
    }
}

bool fltsim__inflight_empty(PFLT_VOLUME v)
{
    bool empty = true;
    for (ULONG s = 0; s < FLTSIM_SHARDS && empty; s++) {
        fltsim__spin_lock(&v->inflight[s].lock);
        empty = IsListEmpty(&v->inflight[s].ops);
        fltsim__spin_unlock(&v->inflight[s].lock);
    }
    return empty;
}

bool fltsim__instance_has_ops(struct _FLT_INSTANCE *inst)
{
    struct _FLT_VOLUME *v = inst->volume;
    bool busy = false;
    for (ULONG s = 0; s < FLTSIM_SHARDS && !busy; s++) {
        struct fltsim_inflight_shard *shard = &v->inflight[s];
        fltsim__spin_lock(&shard->lock);
        for (PLIST_ENTRY e = shard->ops.Flink; e != &shard->ops && !busy; e = e->Flink) {
            const struct fltsim_op *op = CONTAINING_RECORD(e, struct fltsim_op, inflight_link);
            /* node_count and the instances are set before the op is listed. */
            for (ULONG j = 0; j < op->node_count && !busy; j++)
                busy =
                    op->nodes[j].instance == inst && node_state(&op->nodes[j]) != FLTSIM_NODE_DONE;
        }
        fltsim__spin_unlock(&shard->lock);
    }
    return busy;
}

LONG fltsim__ops_in_flight_locked(fltsim_system *sys)
{
    /* Every departure first, then every arrival: an operation whose
     * departure is seen has its arrival seen too (it happened before), so
     * equal sums mean that when the first pass ended every operation that
     * had arrived had also left (SRCU's two-pass count). */
    ULONG64 left = __atomic_load_n(&sys->callbacks_done, __ATOMIC_SEQ_CST);
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink) {
        PFLT_VOLUME v = CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
        for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
            fltsim__spin_lock(&v->inflight[s].lock);
            left += v->inflight[s].unlisted;
            fltsim__spin_unlock(&v->inflight[s].lock);
        }
    }
    ULONG64 arrived = __atomic_load_n(&sys->callbacks_started, __ATOMIC_SEQ_CST);
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink) {
        PFLT_VOLUME v = CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
        for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
            fltsim__spin_lock(&v->inflight[s].lock);
            arrived += v->inflight[s].listed;
            fltsim__spin_unlock(&v->inflight[s].lock);
        }
    }
    return (LONG)(arrived - left);
}

/* Whether inst keeps op pended in its pre or its post. */
static bool pended_by(const struct fltsim_op *op, const struct _FLT_INSTANCE *inst)
{
    if (__atomic_load_n(&op->pre_pend, __ATOMIC_SEQ_CST) == FLTSIM_PEND_PENDED &&
        op->nodes[__atomic_load_n(&op->pre_pend_node, __ATOMIC_SEQ_CST)].instance == inst)
        return true;
    return __atomic_load_n(&op->post_pend, __ATOMIC_SEQ_CST) == FLTSIM_PEND_PENDED &&
           op->nodes[__atomic_load_n(&op->post_pend_node, __ATOMIC_SEQ_CST)].instance == inst;
}

void fltsim__drain_instance(struct _FLT_INSTANCE *inst)
{
    ULONG count;
    struct fltsim_op **ops = inflight_snapshot(inst->volume, &count);
    ULONG pended = 0;
    for (ULONG k = 0; k < count; k++) {
        struct fltsim_op *op = ops[k];
        if (pended_by(op, inst))
            pended++;
    }
    if (pended != 0)
        fltsim__report(inst->volume->sys, NULL, inst, NULL, "V26", "2.6",
                       "InstanceTeardownStartCallback returned with %lu operation(s) still "
                       "pended by the instance; it must complete them (FltCompletePended"
                       "PreOperation / FltCompletePendedPostOperation) or teardown cannot finish",
                       (unsigned long)pended);
    for (ULONG k = 0; k < count; k++) {
        struct fltsim_op *op = ops[k];
        for (ULONG j = 0; j < op->node_count; j++) {
            struct fltsim_node *node = &op->nodes[j];
            if (node->instance != inst || node_state(node) != FLTSIM_NODE_WANTS_POST)
                continue;
            /* SPEC 2.6 step 3: an operation whose buffer this filter swapped
             * is not drained (its post would free the buffer while the
             * layers below may still use it); FltMgr cancels it and waits
             * for it to complete. fltsim does not model I/O cancellation: the
             * node is left to its normal post, which runs when the operation
             * completes (callbacks still run for operations that started
             * before teardown, SPEC 2.6 step 1), and teardown waits for that
             * in step 4 (the node is not done until then). Its
             * state was read first: swapped is written before WANTS_POST. */
            if (node->swapped)
                continue;
            LONG expected = FLTSIM_NODE_WANTS_POST;
            if (!__atomic_compare_exchange_n(&node->state, &expected, FLTSIM_NODE_POSTING, false,
                                             __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                continue;
            drain_post(op, node, j);
            node_done(op, node); /* exactly once: the completion skips it */
            wake_waiters(op);
        }
        fltsim__op_unref(op);
    }
    free(ops);
}

/* ---- FltCancelFileOpen's question (SPEC 4.5) ---- */

struct fltsim_op *fltsim__create_in_flight(struct _FLT_INSTANCE *inst, PFILE_OBJECT fo,
                                           bool *in_post)
{
    ULONG count;
    struct fltsim_op **ops = inflight_snapshot(inst->volume, &count);
    struct fltsim_op *found = NULL;
    *in_post = false;
    for (ULONG k = 0; k < count; k++) {
        struct fltsim_op *op = ops[k];
        /* kind, slot and file_object are set before the op is listed. */
        if (found == NULL && is_create(op) && op->file_object == fo) {
            found = op;
            for (ULONG j = 0; j < op->node_count; j++)
                if (op->nodes[j].instance == inst &&
                    node_state(&op->nodes[j]) == FLTSIM_NODE_POSTING)
                    *in_post = true;
            continue; /* keeps its reference for the caller */
        }
        fltsim__op_unref(op);
    }
    free(ops);
    return found;
}
