/*
 * PRIVATE to fltmgr_model/src. The concrete objects behind the opaque FLT_*
 * handles, the per-thread state, and the helpers the model's files share: the
 * one internal header of fltmgr/, nt/ and exec/ alike (STYLE.md: opaque
 * handles in the public header, concrete objects in one internal header).
 * Nothing outside fltmgr_model/src includes this; the sim and tests use
 * fltsim/model.h.
 *
 * Lock order: sys->lock is the only model lock held while another is taken
 * (sys->trace_lock is taken with or without it, never the other way round).
 * No filter callback and no file-system op is ever called with sys->lock held.
 */
#ifndef FLTSIM_MODEL_INTERNAL_H
#define FLTSIM_MODEL_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "fltsim/model.h"
#include "fltsim/watch.h"

/* One callback slot per operation code: 28 IRP majors + 22 FltMgr codes (SPEC 1.3). */
#define FLTSIM_SLOT_COUNT 50
#define FLTSIM_MAX_OPERATION_ENTRIES 256 /* bound when looking for IRP_MJ_OPERATION_END */
#define FLTSIM_MAX_CONTEXT_ENTRIES 64    /* bound when looking for FLT_CONTEXT_END */
#define FLTSIM_NAME8_MAX 128             /* UTF-8 copies of names for traces */
#define FLTSIM_ALTITUDE_MAX 128          /* longest altitude string accepted, minus one */

/* Object tags, checked wherever a filter hands fltsim an opaque pointer. */
enum {
    FLTSIM_MAGIC_FILTER = 0x544c4946,        /* "FILT" */
    FLTSIM_MAGIC_VOLUME = 0x4c4f5646,        /* "FVOL" */
    FLTSIM_MAGIC_INSTANCE = 0x54534e49,      /* "INST" */
    FLTSIM_MAGIC_DRIVER = 0x56495244,        /* "DRIV" */
    FLTSIM_MAGIC_OP = 0x504f4c46,            /* "FLOP" */
    FLTSIM_MAGIC_DEFERRED_ITEM = 0x4f494446, /* "FDIO" */
    FLTSIM_MAGIC_GENERIC_ITEM = 0x4e454746,  /* "FGEN" */
    FLTSIM_MAGIC_PROCESS = 0x434f5250,       /* "PROC" */
    FLTSIM_MAGIC_THREAD = 0x44524854,        /* "THRD" */
    FLTSIM_MAGIC_OWN_CBD = 0x44424346,       /* "FCBD" */
    FLTSIM_MAGIC_ECP = 0x50434546,           /* "FECP" */
    FLTSIM_MAGIC_ECP_LIST = 0x4c434546,      /* "FECL" */
    FLTSIM_MAGIC_DEAD = 0x44414544           /* "DEAD" */
};

/* Header of filter, volume and instance objects. */
struct fltsim_object {
    ULONG magic;
    LONG refs;    /* memory references; freed at zero */
    LONG rundown; /* refs handed to filters (FltObjectReference...), each with a memory ref */
};

/* A parsed altitude (SPEC 2.1): no leading zeros in the integer, no trailing in the fraction. */
struct fltsim_altitude {
    char text[FLTSIM_ALTITUDE_MAX];     /* as given */
    char integer[FLTSIM_ALTITUDE_MAX];  /* normalized, "" for zero */
    char fraction[FLTSIM_ALTITUDE_MAX]; /* normalized, "" for none */
};

struct fltsim_callbacks {
    PFLT_PRE_OPERATION_CALLBACK pre;
    PFLT_POST_OPERATION_CALLBACK post;
    ULONG flags;        /* FLTFL_OPERATION_REGISTRATION_* */
    BOOLEAN registered; /* listed in the operation array (pre or post given) */
};

/* An instance definition as copied from the caller's table. */
struct fltsim_instance_entry {
    UNICODE_STRING name;
    struct fltsim_altitude altitude;
    ULONG flags;
};

struct fltsim_driver {
    ULONG magic;
    fltsim_system *sys;
    LIST_ENTRY link; /* sys->drivers */
    DRIVER_OBJECT driver_object;
    DRIVER_EXTENSION extension;
    UNICODE_STRING service_name;
    UNICODE_STRING registry_path;
    char name8[FLTSIM_NAME8_MAX];
    struct fltsim_instance_entry *instances;
    ULONG instance_count;
    LONG default_instance;           /* index into instances, or -1 */
    struct _FLT_FILTER *filter;      /* registered filter, NULL before/after */
    struct _FLT_FILTER *filter_keep; /* memory ref on the filter until the driver goes,
                                        so a second FltUnregisterFilter stays safe */
    bool in_driver_entry, unloading;
    bool ob_unsigned; /* loaded without /INTEGRITYCHECK: ObRegisterCallbacks denied */
    ULONG unload_flags;
    LONG object_refs; /* rundown references its code took and has not dropped (V23) */
};

enum fltsim_filter_state {
    FLTSIM_FILTER_REGISTERED,
    FLTSIM_FILTER_STARTED,
    FLTSIM_FILTER_UNREGISTERING,
    FLTSIM_FILTER_UNREGISTERED
};

struct _FLT_FILTER {
    struct fltsim_object obj;
    fltsim_system *sys;
    struct fltsim_driver *driver;
    ULONG64 serial;       /* unique per system, for "already offered" */
    LIST_ENTRY link;      /* sys->filters */
    LIST_ENTRY instances; /* struct _FLT_INSTANCE.filter_link */
    LONG state;           /* enum fltsim_filter_state, atomic */
    FLT_REGISTRATION reg; /* copy; OperationRegistration/ContextRegistration point at ours */
    struct fltsim_callbacks ops[FLTSIM_SLOT_COUNT];
    FLT_CONTEXT_REGISTRATION *contexts; /* copy, terminated */
    ULONG unload_reason;                /* teardown reason while unregistering */
    LONG work_items;                    /* work items it allocated and has not freed */
    LONG callback_data;                 /* FltAllocateCallbackData's, not freed; atomic */
    char name8[FLTSIM_NAME8_MAX];
};

enum fltsim_instance_state {
    FLTSIM_INSTANCE_INITING, /* InstanceSetup running; not in node lists */
    FLTSIM_INSTANCE_ATTACHED,
    FLTSIM_INSTANCE_TEARING_DOWN,
    FLTSIM_INSTANCE_TORN_DOWN
};

/* A count spread over shards, one per group of OS threads, each on its own
 * cache line, so that requestors on different threads do not write the same
 * line (DESIGN decision 10; Windows' cache-aware rundown references). Only
 * the sum means anything. */
#define FLTSIM_SHARDS 8
struct fltsim_count_shard {
    LONG n;
    char pad[60];
};
ULONG fltsim__thread_shard(void); /* the calling OS thread's shard */

/* A spinlock for the in-flight shards: each dispatch takes one twice, so it
 * is acquired with one locked exchange and released with a plain store (a
 * mutex would cost two locked instructions and two calls each time). Only
 * for short sections that never call out, park or yield (a deterministic
 * executor's coroutines share an OS thread); a waiter spins a little, then
 * gives up the CPU. */
void fltsim__spin_wait(LONG *lock);
static inline void fltsim__spin_lock(LONG *lock)
{
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE) != 0)
        fltsim__spin_wait(lock);
}
static inline void fltsim__spin_unlock(LONG *lock)
{
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

/* The operations in flight on a volume (found by draining and by
 * FltCancelFileOpen), spread over shards by the issuing OS thread so that
 * requestors on different threads take different locks and write different
 * cache lines (DESIGN decision 10). An operation stays in its shard. */
struct fltsim_inflight_shard {
    LONG lock;      /* fltsim__spin_lock */
    LIST_ENTRY ops; /* lock */
    /* lock: operations ever listed and unlisted here (monotonic, so that
     * fltsim_system_wait_idle can count what is in flight without a counter
     * all threads write; see fltsim__ops_in_flight_locked) */
    ULONG64 listed, unlisted;
    char pad[64]; /* no two shards' locks on one cache line */
};

struct _FLT_INSTANCE {
    struct fltsim_object obj;
    struct _FLT_FILTER *filter; /* memory ref held */
    struct _FLT_VOLUME *volume; /* memory ref held */
    LIST_ENTRY volume_link;     /* volume->instances, highest altitude first */
    LIST_ENTRY filter_link;     /* filter->instances */
    UNICODE_STRING name;
    struct fltsim_altitude altitude;
    /* enum fltsim_instance_state, atomic. Dispatch reads it under the
     * in-flight shard lock as it lists an operation: teardown, which sets
     * TEARING_DOWN first, then finds every operation holding the instance as
     * a node in the in-flight lists (fltsim__instance_has_ops). */
    LONG state;
    char name8[FLTSIM_NAME8_MAX];
};

/* The node lists of a volume, rebuilt at attach/detach time (DESIGN decision
 * 10) and shared read-only by the operations that started under it. */
struct fltsim_stack {
    /* Operations using it, counted as Linux's percpu_ref does: while the
     * stack is current, in the shards, each add and subtract under the
     * in-flight shard lock the operation is listed under; once retired (replaced), subtracts go
     * to `central`, which starts at a bias. After a grace period over the
     * shard locks the retirer folds the shards into central and removes the
     * bias; whoever brings central to zero frees the stack. */
    struct fltsim_count_shard refs[FLTSIM_SHARDS];
    LONG retired; /* written under sys->lock and every shard lock */
    LONG central;
    ULONG first[FLTSIM_SLOT_COUNT];
    ULONG count[FLTSIM_SLOT_COUNT];
    ULONG total;
    struct _FLT_INSTANCE *nodes[]; /* per slot, highest altitude first; memory refs held */
};

struct _FLT_VOLUME {
    struct fltsim_object obj;
    fltsim_system *sys;
    LIST_ENTRY link;      /* sys->volumes */
    LIST_ENTRY instances; /* highest altitude first; sys->lock */
    UNICODE_STRING device_name;
    WCHAR drive_letter;
    const struct fltsim_fs_ops *ops;
    void *fs;
    FLT_FILESYSTEM_TYPE fs_type;
    DEVICE_TYPE device_type;
    DEVICE_OBJECT device; /* the file system's volume device */
    DEVICE_OBJECT disk;   /* the storage device under it (VPB RealDevice), if has_disk */
    VPB vpb;
    bool has_disk;              /* not a network file system */
    bool snapshot;              /* FLTSIM_VOLUME_SNAPSHOT */
    struct fltsim_stack *stack; /* current node lists; swapped under sys->lock */
    /* stack->count, a sizing hint read without a reference; atomic */
    ULONG node_room[FLTSIM_SLOT_COUNT];
    LONG open_files;
    LONG dismounting;
    int mount_setup; /* 0 pending, 1 running, 2 done; sys->lock */
    uv_thread_t mount_setup_thread;
    struct fltsim_inflight_shard inflight[FLTSIM_SHARDS];
    ULONG completion;    /* FLTSIM_COMPLETE_* */
    ULONG64 *offered;    /* serials of filters offered automatically */
    ULONG offered_count, offered_capacity;
    char name8[FLTSIM_NAME8_MAX];
};

/* How many rules one system can disable at once (V1-V36 and the others). */
#define FLTSIM_MAX_DISABLED_RULES 40

struct fltsim_report_list {
    struct fltsim_report *items;
    ULONG count, capacity;
};

struct fltsim_system {
    uv_mutex_t lock;
    LIST_ENTRY waiters;    /* simulated threads in fltsim__sys_wait_locked; lock */
    uv_mutex_t trace_lock; /* serializes trace callbacks */
    ULONG flags;
    LONG time_zone_bias; /* minutes, UTC = local + bias (fltsim_system_options) */
    LIST_ENTRY filters;
    LIST_ENTRY volumes;
    LIST_ENTRY drivers;
    fltsim_trace_cb trace_cb;
    void *trace_ctx;
    struct fltsim_report_list reports;
    /* Verifier mode and per-rule disable list (SPEC 10); lock. */
    int verifier_mode; /* enum fltsim_verifier_policy */
    char disabled_rules[FLTSIM_MAX_DISABLED_RULES][8];
    ULONG disabled_count;
    ULONG suppressed; /* reports of disabled rules, neither recorded nor traced */
    void *io_manager; /* set under lock; atomic (read without it) */
    void (*io_manager_shutdown)(void *);
    struct fltsim_executor *executor;
    /* Operations dispatched and not complete are those listed in a volume's
     * in-flight shards, plus those unlisted whose completion callback has
     * not returned yet, counted here (monotonic; atomic). */
    ULONG64 callbacks_started, callbacks_done;
    LONG idle_waiters; /* threads in fltsim_system_wait_idle's wait; atomic */
    /* Departures (an unlisting, a completion callback's return) counted
     * while someone waits for idleness, and the count at which the last
     * waiter to look asked to be woken (departures it saw pending); atomic */
    ULONG64 idle_departures, idle_wake_at;
    ULONG64 next_op_id;         /* atomic */
    ULONG64 next_filter_serial; /* sys->lock */
    /* root of the fake registry, or NULL; guarded by registry.c's lock */
    struct fltsim_regkey *registry;
    /* fault rules and points reached (fault.c), created on first use; atomic */
    struct fltsim_faults *faults;
    struct fltsim_windows_version windows; /* resolved (nt/rtl_version.c); read-only */
    struct fltsim_namespace *objects;      /* device objects and links (nt/device.c); lock */
    struct fltsim_port_table *ports;       /* communication ports (fltmgr/port.c); lock */
    struct fltsim_w32 *win32;              /* user-mode processes (win32/); lock */
    struct fltsim_fltlib *fltlib;          /* fltlib's open find handles (fltmgr/fltlib.c); lock */
    bool destroying;
};

/* Per-node state of one operation (atomic: draining races the post phase). */
enum fltsim_node_state {
    FLTSIM_NODE_IDLE,       /* pre not called yet */
    FLTSIM_NODE_PRE,        /* pre running, or the operation pended in it */
    FLTSIM_NODE_WANTS_POST, /* pre asked for the post */
    FLTSIM_NODE_POSTING,    /* post running (or pended in it, or draining) */
    FLTSIM_NODE_DONE        /* nothing more for this node */
};

struct fltsim_sthread;
struct fltsim_executor;

/* ---- tasks: what executors run (executor.h) ---- */

enum fltsim_task_kind {
    FLTSIM_TASK_WORK, /* a system worker thread, PASSIVE_LEVEL */
    FLTSIM_TASK_DPC   /* the completion context, DISPATCH_LEVEL */
};

/* A task may be freed by its own run (a work routine may free its work
 * item), so executors never touch it after run returns. */
struct fltsim_task {
    void (*run)(struct fltsim_task *task);
    enum fltsim_task_kind kind;
    struct fltsim_executor *executor;
    struct fltsim_task *next; /* the executor's, while the task waits to run */
};

struct fltsim_node {
    struct _FLT_INSTANCE *instance;
    PVOID completion_context;
    FLT_IO_PARAMETER_BLOCK view; /* parameters this node's pre saw (SPEC 6.3) */
    FLT_RELATED_OBJECTS objects;
    LONG state; /* enum fltsim_node_state, atomic */
    BOOLEAN synchronized;
    /* Its pre passed a buffer of its own down (SPEC 6.3): teardown does not
     * drain the node (SPEC 2.6 step 3). Written before state becomes
     * WANTS_POST, by the thread that ran the pre. */
    BOOLEAN swapped;
    struct fltsim_sthread *pre_thread; /* where its pre ran: SYNCHRONIZE posts go back there */
};

/* The two-party handshake between a callback that pends and the completion
 * that may arrive before it returns (SPEC 3.2: FltMgr handles that race). */
enum fltsim_pend {
    FLTSIM_PEND_NONE,
    FLTSIM_PEND_RUNNING, /* the callback runs; a completion now is early */
    FLTSIM_PEND_EARLY,   /* completed before the callback returned */
    FLTSIM_PEND_PENDED   /* the callback returned: the completer continues */
};

enum fltsim_phase { FLTSIM_PHASE_PRE, FLTSIM_PHASE_FS, FLTSIM_PHASE_POST, FLTSIM_PHASE_DONE };

/* Saved thread context around a call into filter code: the model records which
 * system, filter and operation the code belongs to (for reports and pool). */
struct fltsim_callout {
    fltsim_system *sys;
    struct _FLT_FILTER *filter;
    struct fltsim_op *op;
    bool in_post;
    struct _FLT_INSTANCE *setup_instance;
    const char *what;
};

/* One operation in flight. data must stay first: the model finds the op from
 * the PFLT_CALLBACK_DATA a filter hands back.
 *
 * One thread at a time advances an operation (holds the baton): the issuer
 * first; after a pend whoever completes it; after an asynchronous file-system
 * completion the DPC; after a handoff the thread a post must run on. */
struct fltsim_op {
    FLT_CALLBACK_DATA data;
    ULONG magic;
    ULONG node_capacity; /* nodes[] room; the memory is reused (operation.c) */
    FLT_IO_PARAMETER_BLOCK iopb;
    fltsim_system *sys;
    struct _FLT_VOLUME *volume;
    struct fltsim_stack *stack;
    enum fltsim_op_kind kind;
    ULONG slot;
    ULONG64 id;
    LONG refs;
    ULONG base_flags; /* FLTFL_CALLBACK_DATA_* the request started with */
    struct fltsim_request *req;
    struct fltsim_sthread *issuer;
    PETHREAD thread;          /* as issued (V16) */
    PFILE_OBJECT file_object; /* as issued (FltCancelFileOpen finds creates by it) */
    NTSTATUS fs_status;       /* what the file system answered; STATUS_PENDING until it has */
    NTSTATUS post_before;     /* IoStatus.Status when the running post was called */
    /* where the thread context the caller of its running pre or post had is
     * saved, which the callback's return restores: in the frame of the
     * fltsim__advance running it (dispatch.c), where an exception the
     * callback does not handle comes back and restores it from */
    struct fltsim_callout *callout;
    /* state machine; changed only by the baton holder */
    enum fltsim_phase phase;
    ULONG cursor; /* PRE: next node; POST: posts left for [0, cursor) */
    ULONG top_post;
    bool async_fs;   /* complete through a DPC */
    bool drain_copy; /* the copy a draining post gets (SPEC 4.4) */
    /* completed within the issuer's advance (the issuer's to read, see
     * complete_op in post.c) */
    bool inline_done;
    /* MDLs of the operation are recorded in fltmgr/buffers.c (FltLockUserBuffer's,
     * a pre's swapped-in ones): completion hands them back. In what was
     * padding: the dispatch path pays nothing for it. */
    bool has_mdls;
    KPROCESSOR_MODE mode; /* as issued */
    /* handshakes */
    LONG pre_pend; /* enum fltsim_pend */
    ULONG pre_pend_node;
    FLT_PREOP_CALLBACK_STATUS resume_status;
    PVOID resume_context;
    LONG post_pend; /* enum fltsim_pend */
    ULONG post_pend_node;
    /* handoffs and waiting; lock. The lock lives as long as the memory, which
     * a thread's cache of freed operations may reuse (operation.c): it is
     * initialized once, not per operation. */
    uv_mutex_t lock;
    LIST_ENTRY waiters;
    LONG handoff;             /* node index + 1 whose post waits for its thread */
    LONG done;                /* set once, atomically, when the operation completes */
    LONG waiting;             /* threads in fltsim__wait_for's park (done/waiting handshake) */
    LONG async_state;         /* issuer/completer handshake of an asynchronous request */
    /* FltRequestOperationStatusCallback's requests (fltmgr/opstatus.c), the
     * baton holder's; and, atomic, 1 while the routines run after the file
     * system took the IRP (its completion waits: post.c). */
    struct fltsim_opstatus *status_requests;
    LONG status_hold;
    /* Cancellation (fltmgr/cancel.c, cbdq.c), atomic: the IRP's Cancel bit;
     * the routine FltSetCancelCompletion (or FltCbdqInsertIo) set, taken by
     * one exchange (the canceller's, FltClearCancelCompletion's or the
     * completion's), with the filter whose code it is; the cancel-safe queue
     * holding the operation and its FltCbdqInsertIo context, or NULL. */
    LONG cancelled;
    PFLT_COMPLETE_CANCELED_CALLBACK cancel_routine;
    struct _FLT_FILTER *cancel_filter;
    PFLT_CALLBACK_DATA_QUEUE cbdq;
    PFLT_CALLBACK_DATA_QUEUE_IO_CONTEXT cbdq_context;
    struct fltsim_task dpc;   /* asynchronous completion */
    LIST_ENTRY inflight_link; /* volume->inflight[inflight_shard].ops */
    ULONG inflight_shard;
    ULONG node_count;
    struct fltsim_node nodes[];
};

/* Per-thread simulated state (DESIGN decision 4). */
struct fltsim_tls {
    KIRQL irql;
    PIRP top_level_irp;
    bool identity_set;
    ULONG process_id;
    ULONG thread_id;
    PETHREAD thread_object;
    fltsim_system *sys;         /* system whose filter code runs on this thread */
    struct _FLT_FILTER *filter; /* filter whose code runs on this thread */
    struct fltsim_op *op;       /* operation whose callback runs */
    bool in_post;               /* ... and the callback is its post */
    /* operation whose issuer runs its first advance on this thread, or NULL
     * (dispatch.c: completion within it is inline) */
    struct fltsim_op *issuing;
    /* instance whose InstanceSetupCallback runs on this thread (V30), or NULL */
    struct _FLT_INSTANCE *setup_instance;
    /* For crash and hang reports (fltsim/watch.h, fltmgr/watch.c): what the
     * running callout is ("its deferred I/O work routine"), NULL when the
     * fields above tell; and a count every entry and exit changes. */
    const char *callout_what;
    ULONG64 callout_seq;
    /* driver whose DriverEntry runs on this thread (owns key handles opened) */
    struct fltsim_driver *loading;
    /* innermost SEH frame of this thread: a __try block or a callout's (nt/seh.c) */
    struct fltsim_seh_frame *seh;
    /* GenerateFileName calls running on this thread, innermost first
     * (fltmgr/name_provider.c's struct name_frame) */
    void *name_frames;
    fltsim_system *user_sys; /* a spawned thread's: where fltUser.h calls act */
    struct w32_thread *w32;  /* the program thread this is (win32/), or NULL */
    char last_error[512];
};

/* ---- process and thread objects (exec/thread.c; the Ps routines are nt/ps.c's) ---- */

/* The System process: the executor's threads (work items, completions) are
 * its threads, and only its threads are system threads. */
#define FLTSIM_SYSTEM_PROCESS_ID 4
/* What a PEPROCESS points at: one live object per process id, made on first use;
 * its memory stays for the life of the OS process. ps: nt/ps_internal.h's. */
struct _KPROCESS {
    ULONG magic; /* FLTSIM_MAGIC_PROCESS */
    ULONG process_id;
    ULONG session_id; /* 0 for the System process, 1 (the first interactive session) else */
    bool retired;     /* deleted: its id names a new object (threads_lock) */
    struct fltsim_ps_process *ps; /* image, exit status, references */
};

/* What a PETHREAD points at: one per (process, thread id), kept the same way. */
struct _KTHREAD {
    ULONG magic; /* FLTSIM_MAGIC_THREAD */
    ULONG thread_id;
    struct _KPROCESS *process;
};

/* The live process object of an id, made on first use (NULL: out of memory); retire
 * frees its id; finds make nothing (NULL: none) but a thread of a given process. */
PEPROCESS fltsim__process_object(ULONG process_id);
void fltsim__process_object_retire(PEPROCESS process);
PEPROCESS fltsim__process_object_find(ULONG process_id);
PETHREAD fltsim__thread_object_find(ULONG thread_id, ULONG process_id_or_0);
void fltsim__ps_driver_unloaded(struct fltsim_driver *drv); /* nt/ps_notify.c (V31) */
/* The simulated thread running on this OS thread (thread.c); NULL before
 * its first use. Its struct fltsim_tls comes first (executor.h). */
extern _Thread_local struct fltsim_sthread *fltsim__current;
struct fltsim_tls *fltsim__tls_slow(void);

/* The calling simulated thread's state (never NULL). Inline: the callback
 * path reads it around every call into a filter. */
static inline struct fltsim_tls *fltsim__tls(void)
{
    struct fltsim_sthread *t = fltsim__current;
    if (__builtin_expect(t != NULL, 1))
        return (struct fltsim_tls *)(void *)t;
    return fltsim__tls_slow();
}

static inline void fltsim__enter(struct fltsim_callout *save, fltsim_system *sys,
                                 struct _FLT_FILTER *filter, struct fltsim_op *op)
{
    struct fltsim_tls *t = fltsim__tls();
    save->sys = t->sys;
    save->filter = t->filter;
    save->op = t->op;
    save->in_post = t->in_post;
    save->setup_instance = t->setup_instance;
    save->what = t->callout_what;
    t->sys = sys;
    t->filter = filter;
    t->op = op;
    t->in_post = false;
    t->setup_instance = NULL;
    t->callout_what = NULL;
    t->callout_seq++;
}

static inline void fltsim__leave(const struct fltsim_callout *save)
{
    struct fltsim_tls *t = fltsim__tls();
    t->sys = save->sys;
    t->filter = save->filter;
    t->op = save->op;
    t->in_post = save->in_post;
    t->setup_instance = save->setup_instance;
    t->callout_what = save->what;
    t->callout_seq++;
}

/* ---- structured exception handling (nt/seh.c) ---- */

/* The frame fltsim puts around a call into filter code, so that an exception
 * the filter does not handle ends that call instead of the process:
 *
 *     struct fltsim_seh_frame seh;
 *     fltsim__seh_push(&seh);
 *     if (FLTSIM_SEH_SETJMP(&seh) == 0) { call the filter; fltsim__seh_pop(&seh); }
 *     else { fltsim__seh_uncaught(&seh, ...): seh is already off the chain }
 *
 * The setjmp must be in the calling function's own body. Locals that the
 * caller changes between the setjmp and the longjmp and reads after it must
 * not be relied on there. Inline: every pre and post pays for it. */
static inline void fltsim__seh_push(struct fltsim_seh_frame *f)
{
    struct fltsim_tls *t = fltsim__tls();
    f->prev = t->seh;
    f->kind = FLTSIM_SEH_KIND_CALLOUT;
    f->jump = fltsim_seh_jump_local;
    f->irql = t->irql;
    t->seh = f;
}

static inline void fltsim__seh_pop(struct fltsim_seh_frame *f)
{
    fltsim__tls()->seh = f->prev;
}

/* The same for the calls that are not on the dispatch path: calls fn(ctx)
 * inside a callout frame f. true when fn returned; false when it raised an
 * exception it did not handle (f holds it; pass it to fltsim__seh_uncaught). */
bool fltsim__seh_call(struct fltsim_seh_frame *f, void (*fn)(void *ctx), void *ctx);

/* After a callout frame caught an exception: restores the IRQL the call began
 * at and reports (SEH) the exception, naming the routine that raised it, its
 * code, the filter and `what` (the callback: "its pre-operation callback"),
 * and `outcome` (what fltsim does instead of the bugcheck). filter, inst and
 * op may be NULL. Returns the status the callback's work fails with: the
 * exception code, or STATUS_UNHANDLED_EXCEPTION when the code is not an error
 * or warning. */
NTSTATUS fltsim__seh_uncaught(const struct fltsim_seh_frame *f, fltsim_system *sys,
                              struct _FLT_FILTER *filter, struct _FLT_INSTANCE *inst,
                              const struct fltsim_op *op, const char *what, const char *outcome);

/* Raises status as a routine of the kernel slice does (MmProbeAndLockPages):
 * a noncontinuable exception for the nearest __try of the calling thread,
 * naming raiser as the routine that raised it and address as where. */
__attribute__((noreturn)) void fltsim__raise_status(NTSTATUS status, const char *raiser,
                                                    PVOID address);

/* Reports (V30) when the calling thread runs an InstanceSetupCallback: api
 * (what) is about to block the setup (fltmgr/instance.c). */
void fltsim__check_blocking(const char *api, const char *what);

/* Reports (V28) when the caller runs above max_irql; api names the routine
 * (nt/ke_irql.c). */
void fltsim__check_irql(fltsim_system *sys, KIRQL max_irql, const char *api);

/* A warning or error status: what vetoes in setup, query-teardown and unload. */
static inline bool fltsim__is_veto(NTSTATUS status)
{
    return (ULONG)status >= 0x80000000u;
}

/* Sets fltsim_last_error() for this thread; returns status for tail calls. */
NTSTATUS fltsim__fail(NTSTATUS status, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));

/* ---- slots and names ---- */

/* Slot index of an operation code, or -1 for a code FltMgr does not define. */
int fltsim__slot_of(UCHAR major);
bool fltsim__is_fast_io_code(UCHAR major);
bool fltsim__is_fs_filter_code(UCHAR major);

/* ---- altitudes (altitude.c) ---- */

bool fltsim__altitude_parse(const WCHAR *text, size_t count, struct fltsim_altitude *out);
int fltsim__altitude_compare(const struct fltsim_altitude *a, const struct fltsim_altitude *b);

/* ---- strings ---- */

/* Copies src into a fresh buffer (malloc); dst->Buffer NULL on failure. The
 * copy is NUL-terminated beyond Length. */
bool fltsim__ustr_dup(UNICODE_STRING *dst, const WCHAR *src, size_t count);
void fltsim__ustr_free(UNICODE_STRING *s);
bool fltsim__ustr_equal_ci(PCUNICODE_STRING a, PCUNICODE_STRING b);
void fltsim__ustr_to_utf8(PCUNICODE_STRING s, char *out, size_t size);

/* ---- objects (object.c) ---- */

void fltsim__filter_ref(struct _FLT_FILTER *f);
void fltsim__filter_unref(struct _FLT_FILTER *f);
void fltsim__volume_ref(struct _FLT_VOLUME *v);
void fltsim__volume_unref(struct _FLT_VOLUME *v);
void fltsim__instance_ref(struct _FLT_INSTANCE *i);
void fltsim__instance_unref(struct _FLT_INSTANCE *i);
/* A rundown reference, taken for the model's own use (not counted). */
NTSTATUS fltsim__object_reference(void *object);
/* Drops a reference fltsim__object_reference took (not counted). */
void fltsim__object_dereference(void *object);
/* Counts n references handed to the driver whose code runs on this thread
 * (FltObjectReference, the Get/Enumerate routines, FltAttachVolume); what it
 * has not dropped with FltObjectDereference at unload is reported (V23). */
void fltsim__object_refs_handed(LONG n);
bool fltsim__is_filter(const void *p);
bool fltsim__is_volume(const void *p);
bool fltsim__is_instance(const void *p);

/* ---- system (system.c) ---- */

/* A condition variable over sys->lock built on park/unpark, so that waiting
 * lets the deterministic executor run other simulated threads. Called with
 * sys->lock held; returns with it held, after a broadcast, a spurious wakeup,
 * or the deadline (ns, fltsim__now_ns; 0 = none). Callers re-check. */
void fltsim__sys_wait_locked(fltsim_system *sys, ULONG64 deadline_ns);
/* The same for a waiter that says what it waits for: a broadcast wakes it
 * only when ready(ctx) holds (called under sys->lock, on the broadcaster's
 * thread: it reads shared state only). Callers still re-check. */
void fltsim__sys_wait_until_locked(fltsim_system *sys, ULONG64 deadline_ns,
                                   bool (*ready)(void *ctx), void *ctx);
/* Wakes every waiter of sys (takes sys->lock). */
void fltsim__broadcast(fltsim_system *sys);
/* The same with sys->lock already held. */
void fltsim__broadcast_locked(fltsim_system *sys);
void fltsim__report(fltsim_system *sys, struct _FLT_FILTER *filter, struct _FLT_INSTANCE *instance,
                    const struct fltsim_op *op, const char *rule, const char *spec, const char *fmt,
                    ...) __attribute__((format(__printf__, 7, 8)));
void fltsim__trace(fltsim_system *sys, struct fltsim_event *ev);
static inline bool fltsim__tracing(const fltsim_system *sys)
{
    return sys->trace_cb != NULL;
}
/* Fills the thread part of an event. */
void fltsim__event_thread(struct fltsim_event *ev);

/* ---- instances (instance.c) ---- */

/* Creates, sets up and attaches an instance (SPEC 2.4). collision_status is
 * what an altitude clash returns. */
NTSTATUS fltsim__instance_attach(struct _FLT_FILTER *filter, struct _FLT_VOLUME *volume,
                                 PCUNICODE_STRING name, const struct fltsim_altitude *altitude,
                                 FLT_INSTANCE_SETUP_FLAGS setup_flags, NTSTATUS collision_status,
                                 struct _FLT_INSTANCE **out);
/* Tears an instance down (SPEC 2.6). STATUS_FLT_DELETING_OBJECT when already
 * tearing down. */
NTSTATUS fltsim__instance_teardown(struct _FLT_INSTANCE *inst, FLT_INSTANCE_TEARDOWN_FLAGS reason);
/* Tears down every instance on a filter's (volume_list false) or a volume's
 * list, waiting for instances another thread is setting up or tearing down,
 * until the list is empty. sys->lock held on entry and on return. */
void fltsim__teardown_all_locked(fltsim_system *sys, PLIST_ENTRY head, bool volume_list,
                                 FLT_INSTANCE_TEARDOWN_FLAGS reason);
/* Offers a volume to a started filter automatically (default instance). */
void fltsim__offer_volume(struct _FLT_FILTER *filter, struct _FLT_VOLUME *volume,
                          FLT_INSTANCE_SETUP_FLAGS setup_flags);
/* Rebuilds the volume's node lists; sys->lock held. */
void fltsim__volume_rebuild_stack_locked(struct _FLT_VOLUME *volume);
/* volume->inflight[s].lock held: the current node lists (NULL for none),
 * with a reference counted in shard s. */
struct fltsim_stack *fltsim__stack_get_locked(struct _FLT_VOLUME *volume, ULONG s);
/* volume->inflight[s].lock held: drops a reference fltsim__stack_get_locked
 * took in shard s. true when the lists were retired meanwhile: the caller
 * then calls fltsim__stack_put_retired once the lock is released. */
bool fltsim__stack_put_locked(struct fltsim_stack *stack, ULONG s);
void fltsim__stack_put_retired(struct fltsim_stack *stack);
/* sys->lock held: makes stack (may be NULL) the volume's current lists and
 * retires the old ones. */
void fltsim__volume_set_stack_locked(struct _FLT_VOLUME *volume, struct fltsim_stack *stack);
/* Inline: dispatch fills one per node. */
static inline void fltsim__fill_objects(FLT_RELATED_OBJECTS *objects, struct _FLT_FILTER *filter,
                                        struct _FLT_VOLUME *volume, struct _FLT_INSTANCE *instance,
                                        PFILE_OBJECT file_object)
{
    /* The members are const for filters: fltsim copies each in. Member by
     * member, not a value built on the stack and copied whole, which the
     * CPU would reload in wider pieces than it stored (a store-forwarding
     * stall on every node). */
    char *o = (char *)objects;
    USHORT size = (USHORT)sizeof(FLT_RELATED_OBJECTS), none = 0;
    PVOID no_transaction = NULL;
    memset(o, 0, offsetof(FLT_RELATED_OBJECTS, Filter));
    memcpy(o + offsetof(FLT_RELATED_OBJECTS, Size), &size, sizeof(size));
    memcpy(o + offsetof(FLT_RELATED_OBJECTS, TransactionContext), &none, sizeof(none));
    memcpy(o + offsetof(FLT_RELATED_OBJECTS, Filter), &filter, sizeof(filter));
    memcpy(o + offsetof(FLT_RELATED_OBJECTS, Volume), &volume, sizeof(volume));
    memcpy(o + offsetof(FLT_RELATED_OBJECTS, Instance), &instance, sizeof(instance));
    memcpy(o + offsetof(FLT_RELATED_OBJECTS, FileObject), &file_object, sizeof(file_object));
    memcpy(o + offsetof(FLT_RELATED_OBJECTS, Transaction), &no_transaction, sizeof(no_transaction));
}

/* ---- volumes (volume.c) ---- */

/* Runs the deferred instance setup of a newly mounted volume if it is due. */
void fltsim__volume_mount_setup(struct _FLT_VOLUME *volume, UCHAR major);
/* volume_query.c: the volume whose file-system or disk device object this
 * is (FltGetDeviceObject's, FltGetDiskDeviceObject's), or NULL. Those live
 * as long as the volume; ObDereferenceObject on them drops nothing. */
struct _FLT_VOLUME *fltsim__volume_of_device(PDEVICE_OBJECT device);
/* Dismounts a volume at system destruction even if file objects are open. */
void fltsim__volume_remove(struct _FLT_VOLUME *volume);

/* ---- drivers (driver.c) ---- */

/* Removes a driver at system destruction: a mandatory unload, or, when the
 * filter cannot be unloaded, a forced unregistration without its callback. */
void fltsim__driver_remove(struct fltsim_driver *drv);
/* The loaded driver a DRIVER_OBJECT belongs to, or NULL. */
struct fltsim_driver *fltsim__driver_from_object(PDRIVER_OBJECT driver_object);

void fltsim__ob_driver_unloaded(struct fltsim_driver *drv);        /* nt/ob_callbacks.c: V35 */
void fltsim__ob_check_blocking(const char *api, const char *what); /* V36 in a callback */
/* Frees a driver record kept after its unload for its device objects
 * (nt/device.c calls it when the last one goes). */
void fltsim__driver_release(struct fltsim_driver *drv);

/* ---- device objects and the object namespace (nt/device.c, nt/irp.c) ---- */

/* After a successful DriverEntry: clears DO_DEVICE_INITIALIZING of the
 * devices it created, as the I/O manager does. */
void fltsim__devices_driver_loaded(struct fltsim_driver *drv);
/* As a driver goes (its filter unregistered): reports (V23) the device
 * objects it never deleted, deleting them, and the symbolic links it left.
 * true when one of its devices is still open: drv is then kept (its magic
 * no longer a driver's) and released when the last one goes. */
bool fltsim__devices_driver_unloaded(struct fltsim_driver *drv);
/* sys->lock held: whether a device object or symbolic link has name, or
 * \GLOBAL??\<drive_letter>: (drive_letter 0: none). */
bool fltsim__object_name_taken_locked(fltsim_system *sys, PCUNICODE_STRING name,
                                      WCHAR drive_letter);
/* sys->lock held: nt/namespace.c's canonical name (malloc'd) of an object
 * about to be created; STATUS_OBJECT_NAME_COLLISION when a device or link has it. */
NTSTATUS fltsim__ns_new_name_locked(fltsim_system *sys, const WCHAR *name, size_t len,
                                    UNICODE_STRING *out);
/* At system destruction, the executor gone: the IRPs never completed
 * (reported, cancelled), then what is left of devices and links. */
void fltsim__objects_system_destroyed(fltsim_system *sys);
/* IopInvalidDeviceRequest: what a driver object's MajorFunction[] holds
 * until the driver sets its own (completes with STATUS_INVALID_DEVICE_REQUEST). */
NTSTATUS fltsim__invalid_device_request(PDEVICE_OBJECT device, PIRP irp);

/* ---- pool (pool.c) ---- */

/* A pool block for the model's own use (work items, key handles): counted per
 * tag but owned by no driver, since its own rule reports its leaks. */
PVOID fltsim__pool_allocate_internal(ULONG pool_type, SIZE_T size, ULONG tag, bool zero);
/* Reports (V23) the pool blocks drv's code allocated and never freed, one
 * report per tag and site, and stops tracking them. */
void fltsim__pool_driver_unloaded(struct fltsim_driver *drv);
/* The same for blocks of sys's filter code that no driver owned. */
void fltsim__pool_system_destroyed(fltsim_system *sys);
/* ExAllocatePoolWithTag with a call site (line 0: file names a routine):
 * charged to the driver whose code runs on this thread. NULL on failure. */
PVOID fltsim__pool_allocate_at(ULONG pool_type, SIZE_T size, ULONG tag, const char *file, int line);
/* ExFreePool. */
void fltsim__pool_free(PVOID block);
/* Marks the live blocks of sys among blocks[0, count) as reported, so the
 * pool's own leak report skips them (lookaside.c and context.c reported them
 * as their entries and contexts). Sorts blocks. Takes the pool lock. */
void fltsim__pool_mark_reported(fltsim_system *sys, PVOID *blocks, size_t count);
/* Frees the work items filters of sys allocated and never freed (workitem.c). */
void fltsim__workitems_system_destroyed(fltsim_system *sys);

/* ---- contexts (fltmgr/context.c) ---- */

/* The objects contexts hang off going away: each deletes the contexts set
 * on it (their set reference dropped; cleanup runs at the last one). */
void fltsim__contexts_file_object_closed(PFILE_OBJECT fo);
/* stream_file.c: the file a stream was declared to belong to
 * (fltsim_stream_file), else the stream itself; forgetting ends the
 * declaration (fltsim_stream_teardown). */
void *fltsim__stream_file_key(void *fs_context);
void fltsim__stream_file_forget(void *fs_context);
void fltsim__contexts_instance_gone(struct _FLT_INSTANCE *inst);
void fltsim__contexts_volume_gone(struct _FLT_VOLUME *volume);
/* After its instances are gone: the filter's volume contexts, then a report
 * (V21) of every context its code still holds, with where it was allocated. */
void fltsim__contexts_filter_gone(struct _FLT_FILTER *filter);
/* Frees the model's records of contexts sys's filters leaked. */
void fltsim__contexts_system_destroyed(fltsim_system *sys);

/* ---- file names (filename.c) ---- */

/* Reports (V22) the FLT_FILE_NAME_INFORMATION references drv's code still
 * holds, one report per site, and drops them. */
void fltsim__names_driver_unloaded(struct fltsim_driver *drv);
/* The name cache forgets a file object (its close), an instance (its
 * end), and, after a successful IRP_MJ_SET_INFORMATION that renames, links
 * or deletes, the names of the volume. */
void fltsim__names_forget_file(PFILE_OBJECT fo);
void fltsim__names_forget_instance(struct _FLT_INSTANCE *inst);
void fltsim__names_fs_changed(PFLT_CALLBACK_DATA data, struct _FLT_VOLUME *volume);
/* Frees the name blocks of sys still referenced (by code of no driver). */
void fltsim__names_system_destroyed(fltsim_system *sys);

/* ---- registry (registry.c) ---- */

/* Creates the driver's service key and writes its instance table there.
 * STATUS_INSUFFICIENT_RESOURCES (last error set) when out of memory. */
NTSTATUS fltsim__registry_add_service(struct fltsim_driver *drv);
/* Called as a driver goes: its key handles still open lose their owner and
 * their number is returned (the caller reports the leak, V23). */
ULONG fltsim__registry_disown(struct fltsim_driver *drv);
/* Closes every handle of sys and frees its registry (system destruction). */
void fltsim__registry_destroy(fltsim_system *sys);

/* ---- dynamic lookup (nt/routines.c) ---- */

/* The address of the WDK routine (or variable) fltsim implements under the
 * export name `name`, in FltMgr's export table (fltmgr true: Flt routines
 * only) or the kernel's (false: no Flt routine), or NULL. Any thread. */
void *fltsim__routine_address(const char *name, bool fltmgr);

/* ---- the simulated Windows version (nt/rtl_version.c) ---- */

/* Checks in (NULL or all zero: the default) and writes the version it means
 * to out, the default filled in. STATUS_INVALID_PARAMETER with the last
 * error set when fltsim_windows_version_check refuses it. */
NTSTATUS fltsim__windows_version_resolve(const struct fltsim_windows_version *in,
                                         struct fltsim_windows_version *out);

/* ---- registration (registration.c) ---- */

NTSTATUS fltsim__filter_unregister(struct _FLT_FILTER *filter);

/* ---- callback data (callback_data.c) ---- */

struct fltsim_op *fltsim__op_from_data(PFLT_CALLBACK_DATA data);

/* ---- callback data a filter allocates (callback_data_own.c) ---- */

/* The operation in flight that a callback data the filter allocated was
 * performed as, with a reference the caller drops (fltsim__op_unref), or NULL
 * (not such data, not performed, complete, or not listed yet); *sys gets the
 * system of any data FltAllocateCallbackData made, else NULL. For
 * FltCancelIo (cancel.c). */
struct fltsim_op *fltsim__own_cbd_in_flight(PFLT_CALLBACK_DATA data, fltsim_system **sys);

/* ---- dispatch (dispatch.c; its parts share fltmgr/dispatch_internal.h) ---- */

/* fltsim_request_dispatch for I/O a filter generates (SPEC 2.3): only the
 * instances below `below` (lower altitude) and the file system see it. below
 * NULL starts at the top, as fltsim_request_dispatch does. */
NTSTATUS fltsim__request_dispatch_below(PFLT_VOLUME volume, struct fltsim_request *req,
                                        struct _FLT_INSTANCE *below);
/* filter_create.c: for a rename or link to a fully qualified name (or one
 * relative to RootDirectory), opens its target directory as the I/O manager
 * does (IO_OPEN_TARGET_DIRECTORY), below `below` when not NULL: a kernel
 * handle and the referenced file object to pass as ParentOfTarget; *dir
 * stays NULL for a name in the same directory. STATUS_NOT_SAME_DEVICE for
 * another volume, STATUS_OBJECT_NAME_COLLISION when the target exists and
 * ReplaceIfExists is FALSE. fltsim__close_rename_target releases it. */
NTSTATUS fltsim__open_rename_target(fltsim_system *sys, struct _FLT_INSTANCE *below,
                                    PFILE_OBJECT file, const FILE_RENAME_INFORMATION *info,
                                    ULONG length, HANDLE *handle, PFILE_OBJECT *dir);
void fltsim__close_rename_target(fltsim_system *sys, HANDLE handle, PFILE_OBJECT dir);
/* The same below an altitude (NULL: the whole stack): what the I/O manager
 * uses for the file objects a filter opened below its instance. */
NTSTATUS fltsim__request_dispatch_below_altitude(PFLT_VOLUME volume, struct fltsim_request *req,
                                                 const struct fltsim_altitude *below);
/* operation.c */
void fltsim__op_ref(struct fltsim_op *op);
void fltsim__op_unref(struct fltsim_op *op);
/* post.c: whether data is an operation whose post runs on this thread now;
 * gives the op and the node (FltDoCompletionProcessingWhenSafe's rule, V15). */
bool fltsim__in_post(PFLT_CALLBACK_DATA data, struct fltsim_op **op, ULONG *node);

/* ---- cancellation (cancel.c) and cancel-safe queues (cbdq.c) ---- */

/* Cancels op, as IoCancelIrp does for its IRP: sets its Cancel bit (once:
 * a second cancel does nothing) and calls the cancel routine a filter set
 * (FltSetCancelCompletion, or a cancel-safe queue's), exactly once, on the
 * calling thread at its IRQL. TRUE when a routine was called. Non-IRP
 * operations are not cancelled (FALSE). The caller holds a reference on op.
 * The entry point for FltCancelIo, which gives the operation a filter issued. */
BOOLEAN fltsim__op_cancel(struct fltsim_op *op);
/* A pended op is completed (FltCompletePendedPre/PostOperation): its cancel
 * routine can no longer be called, and an op still in a cancel-safe queue
 * is reported (SIM, SPEC 7.4) and taken out of it. */
void fltsim__cancel_completing(struct fltsim_op *op, const char *api);
/* cbdq.c: the queue's part of a cancel (op->cancel_routine was the queue's):
 * under the queue's lock RemoveIo, then CompleteCanceledIo. */
void fltsim__cbdq_cancel(struct fltsim_op *op);
/* cbdq.c: op completed while still in its queue: takes it out (RemoveIo
 * under the queue's lock); the caller reported it. */
void fltsim__cbdq_evict(struct fltsim_op *op);
/* The cancel routine a cancel-safe queue sets on the operations it holds. */
VOID FLTAPI fltsim__cbdq_cancel_routine(PFLT_CALLBACK_DATA data);

/* ---- operations in flight (inflight.c) ---- */

/* Reports the operations the instance still keeps pended (V26), then calls
 * the posts of its operations in flight with FLTFL_POST_OPERATION_DRAINING
 * (SPEC 2.6 step 3, 4.4), except where its pre swapped a buffer: those
 * operations are cancelled (fltsim__op_cancel) and their posts run when they
 * complete, which teardown waits for. */
void fltsim__drain_instance(struct _FLT_INSTANCE *inst);
/* The volume's in-flight shards: init (nothing to release later), and
 * whether no operation is in flight (each shard checked under its lock). */
void fltsim__inflight_init(struct _FLT_VOLUME *v);
bool fltsim__inflight_empty(struct _FLT_VOLUME *v);
/* sys->lock held: how many operations are dispatched and not complete (the
 * completion callback of an asynchronous request included); 0 only if at
 * some moment during the call none was. */
LONG fltsim__ops_in_flight_locked(fltsim_system *sys);
/* Whether an operation in flight on inst's volume holds inst as a node that
 * is not done (SPEC 2.6 step 4 waits until none does). Each shard is looked
 * at under its lock; sys->lock may be held. */
bool fltsim__instance_has_ops(struct _FLT_INSTANCE *inst);
/* What a teardown of inst waits for, in words, into out (size bytes, always
 * terminated): a line per operation ("\n  #12 IRP_MJ_READ: pended in this
 * instance's pre-operation callback by PendReads ..."), the first few of
 * them. Returns how many nodes of inst are waited for. */
size_t fltsim__describe_instance_ops(struct _FLT_INSTANCE *inst, char *out, size_t size);
/* The IRP_MJ_CREATE in flight on inst's volume that was issued for fo, with a
 * reference the caller drops (fltsim__op_unref), or NULL. *in_post tells
 * whether inst's post for it is running or holds it pended (SPEC 4.5). */
struct fltsim_op *fltsim__create_in_flight(struct _FLT_INSTANCE *inst, PFILE_OBJECT fo,
                                           bool *in_post);
/* The operation in flight on volume whose id is id (struct fltsim_request's
 * op_id, the trace's), with a reference the caller drops, or NULL. */
struct fltsim_op *fltsim__op_in_flight(PFLT_VOLUME volume, ULONG64 id);

/* ---- MDLs (nt/mdl.c) ---- */

/* An MDL for [va, va + length) as IoAllocateMdl makes one, from pool that no
 * driver owns (the system's own: FltLockUserBuffer's); NULL when out of
 * memory or longer than IoAllocateMdl allows. */
PMDL fltsim__mdl_allocate_internal(PVOID va, ULONG length);
/* MmProbeAndLockPages without its checks of the MDL's state and without the
 * raise: STATUS_ACCESS_VIOLATION, the MDL unchanged, when the range cannot be
 * locked in mode. */
NTSTATUS fltsim__mdl_lock(PMDL mdl, KPROCESSOR_MODE mode, LOCK_OPERATION operation);
/* What the system does with an MDL it frees (I/O completion, FltMgr after a
 * swapping filter's post): unlocks its pages if locked, drops its mappings
 * and frees it, without reports. false, nothing done, for an MDL that
 * IoAllocateMdl did not make. */
bool fltsim__mdl_release(PMDL mdl);

/* ---- fault injection (fault.c) ---- */

/* The pool's hook: true when the allocation of tag being made now must fail
 * (only for filter code running on this thread; a fault point is counted). */
bool fltsim__fault_alloc(ULONG tag);
/* Frees the system's fault state (fltsim_system_destroy). */
void fltsim__faults_destroy(fltsim_system *sys);

/* section.c: ZwClose of section handles; delta +1/-1 on a section: count, -1: none. */
bool fltsim__section_close_handle(HANDLE h);
LONG_PTR fltsim__section_object_ref(PVOID object, int delta);
#endif /* FLTSIM_MODEL_INTERNAL_H */
