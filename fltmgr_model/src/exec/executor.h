/*
 * PRIVATE to fltmgr_model/src: exec/ implements it, fltmgr/ and nt/ use it.
 * Simulated threads and the two executors that run them (DESIGN decisions 4
 * and 5).
 *
 * A simulated thread (struct fltsim_sthread) is whatever runs model or filter
 * code: an OS thread (a "native" thread: the test's own threads, libuv pool
 * threads, the concurrent executor's loop thread) or a coroutine of the
 * deterministic executor. Each has its own IRQL, top-level IRP and identity
 * (struct fltsim_tls), and can park and be unparked, which is all the Ke
 * dispatcher objects and the dispatch engine need to block.
 *
 * An executor runs tasks: work (a system worker thread at PASSIVE_LEVEL) and
 * DPCs (a completion context at DISPATCH_LEVEL). The concurrent executor runs
 * work on libuv's thread pool and DPCs on its loop thread; the deterministic
 * executor runs everything on the thread that created it, one coroutine at a
 * time, choosing the next ready coroutine or task with a seeded PRNG.
 *
 * Parking follows the permit model: unpark before park makes the next park
 * return at once, so no wakeup is lost.
 */
#ifndef FLTSIM_EXECUTOR_H
#define FLTSIM_EXECUTOR_H

#include <stdbool.h>

#include "model_internal.h"

struct fltsim_executor;
struct det_coroutine;

enum fltsim_sthread_kind {
    FLTSIM_STHREAD_NATIVE,   /* an OS thread; parks on its own condition variable */
    FLTSIM_STHREAD_COROUTINE /* a coroutine of a deterministic executor */
};

struct fltsim_sthread {
    struct fltsim_tls tls; /* must stay first: fltsim__tls() returns it */
    enum fltsim_sthread_kind kind;
    LONG permit; /* a pending unpark */
    /* native */
    bool sync_ready;
    uv_mutex_t lock;
    uv_cond_t cond;
    /* coroutine */
    struct fltsim_executor *executor;
    struct det_coroutine *coroutine;
    /* Ke: APC-disable counts: KeEnterCriticalRegion, KeEnterGuardedRegion,
     * KMUTEX objects owned (nt/ke_sync.c, nt/ke_wait.c) */
    LONG critical_region;
    LONG guarded_region;
    LONG mutexes_owned;
    /* The stack's bounds (IoGetStackLimits): set when a coroutine is made,
     * found on first use for a native thread; 0 until then. */
    ULONG_PTR stack_low, stack_high;
};

/* The simulated thread running now (never NULL). */
struct fltsim_sthread *fltsim__current_sthread_slow(void);
static inline struct fltsim_sthread *fltsim__current_sthread(void)
{
    struct fltsim_sthread *t = fltsim__current;
    if (__builtin_expect(t != NULL, 1))
        return t;
    return fltsim__current_sthread_slow();
}
/* Blocks the calling simulated thread until it is unparked, or until the
 * monotonic deadline (ns, from fltsim__now_ns) passes when deadline_ns != 0.
 * Returns true when unparked, false on timeout. Spurious returns do not
 * happen: callers still re-check their condition. */
bool fltsim__park(ULONG64 deadline_ns);
void fltsim__unpark(struct fltsim_sthread *t);
/* Before parking for something another thread is about to do: spins on an
 * OS thread until *a or *b (b may be NULL) is nonzero or budget_ns pass, and
 * returns whether one became nonzero (false at once on a coroutine). A
 * waiter that would otherwise sleep and be woken a few microseconds later
 * saves both context switches and, on a virtual machine, the idle CPU's halt
 * and wakeup. */
bool fltsim__spin_until(const LONG *a, const LONG *b, ULONG64 budget_ns);
void fltsim__set_current_sthread(struct fltsim_sthread *t);
/* The deterministic executor's side of park, unpark, time and yield. */
bool fltsim__det_park(struct fltsim_sthread *self, ULONG64 deadline_ns);
void fltsim__det_unpark(struct fltsim_sthread *t);
ULONG64 fltsim__det_now_ns(struct fltsim_sthread *self);
void fltsim__det_yield(struct fltsim_sthread *self);
/* Moves the virtual clock ns forward without switching (a busy wait such as
 * KeStallExecutionProcessor); timed waits that expire wake as usual. */
void fltsim__det_advance(struct fltsim_sthread *self, ULONG64 ns);

/* Monotonic time of the calling simulated thread's executor: virtual time on
 * a deterministic coroutine, real time otherwise. */
ULONG64 fltsim__now_ns(void);
/* A point where the deterministic executor may switch to another ready
 * coroutine (no-op for native threads; inline, every dispatch passes one). */
static inline void fltsim__yield(void)
{
    struct fltsim_sthread *t = fltsim__current_sthread();
    if (t->kind == FLTSIM_STHREAD_COROUTINE)
        fltsim__det_yield(t);
}
/* The lowest and one-past-highest address of the calling simulated thread's
 * stack: a coroutine's own, else the OS thread's. */
void fltsim__stack_limits(ULONG_PTR *low, ULONG_PTR *high);
/* Whether the calling thread is a coroutine of a deterministic executor. */
bool fltsim__is_deterministic(void);

/* ---- tasks ---- */

/* struct fltsim_task and its kinds live in model_internal.h (operations
 * embed one). */

/* ---- executors ---- */

struct fltsim_executor_ops {
    void (*submit)(struct fltsim_executor *ex, struct fltsim_task *task);
    /* Spawns a simulated thread that runs fn(ctx) with the given identity. */
    NTSTATUS (*spawn)
    (struct fltsim_executor *ex, ULONG process_id, ULONG thread_id, void (*fn)(void *ctx),
     void *ctx, void **handle);
    void (*join)(struct fltsim_executor *ex, void *handle);
    /* Waits until no task is queued or running and no spawned thread runs
     * (ops in flight are the system's business). false on timeout. */
    bool (*wait_idle)(struct fltsim_executor *ex, ULONG64 timeout_ns);
    void (*destroy)(struct fltsim_executor *ex);
};

struct fltsim_executor {
    const struct fltsim_executor_ops *ops;
    enum fltsim_executor_kind kind;
    fltsim_system *sys;
    LONG outstanding; /* tasks submitted and not finished */
};

NTSTATUS fltsim__executor_concurrent_create(fltsim_system *sys, struct fltsim_executor **out);
NTSTATUS fltsim__executor_deterministic_create(fltsim_system *sys, ULONG64 seed,
                                               struct fltsim_executor **out);

static inline void fltsim__submit(struct fltsim_executor *ex, struct fltsim_task *task)
{
    task->executor = ex;
    __atomic_add_fetch(&ex->outstanding, 1, __ATOMIC_SEQ_CST);
    ex->ops->submit(ex, task);
}

/* The deterministic executor's next number from its seeded PRNG (what a
 * seed varies besides the schedule); 0 under the concurrent executor. */
ULONG64 fltsim__executor_random(struct fltsim_executor *ex);

/* Called by executors when a task has run (last thing they touch of it). */
void fltsim__task_finished(struct fltsim_executor *ex);

/* Sets up the calling thread as a system worker (PASSIVE_LEVEL, System
 * process, no top-level IRP) of sys for the duration of a task, and checks on
 * return that the task left the IRQL where it found it. */
void fltsim__worker_enter(fltsim_system *sys, KIRQL irql);
void fltsim__worker_leave(fltsim_system *sys, KIRQL irql, const char *what);

#endif /* FLTSIM_EXECUTOR_H */
