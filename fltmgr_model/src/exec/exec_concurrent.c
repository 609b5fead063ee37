/*
 * The concurrent executor (DESIGN decision 5): work items run on libuv's
 * thread pool at PASSIVE_LEVEL, DPCs (asynchronous completions) on the
 * executor's loop thread at DISPATCH_LEVEL, and spawned requestors are OS
 * threads. libuv loops are single-threaded, so any thread hands a DPC over
 * through a locked queue and uv_async_send; the loop thread runs it.
 *
 * Work items run in pumps: a pump is a uv_work_t on the pool that runs work
 * items from the executor's ready queue one at a time and, when the queue
 * runs dry, lingers a little for the next one before it gives its pool
 * thread back. A work item queued while a pump lingers wakes it (one thread
 * handoff, as a raw uv_queue_work has); otherwise it starts a new pump, up
 * to as many pumps as the pool has threads, so a work item waits behind
 * another that blocks only when every pool thread is taken (as a
 * uv_queue_work would). Beyond that, queued work items wait in the ready
 * queue for the next free pump: queueing many at once costs no allocation
 * and no pool request each. A pump does not linger while other pumps wait
 * for a pool thread.
 */
#include <stdlib.h>

#include "executor.h"

/* A FIFO of tasks linked through task->next. */
struct task_queue {
    struct fltsim_task *head, *tail;
};

static void queue_push(struct task_queue *q, struct fltsim_task *task)
{
    task->next = NULL;
    if (q->tail != NULL)
        q->tail->next = task;
    else
        q->head = task;
    q->tail = task;
}

static struct fltsim_task *queue_pop(struct task_queue *q)
{
    struct fltsim_task *task = q->head;
    if (task != NULL) {
        q->head = task->next;
        if (q->head == NULL)
            q->tail = NULL;
    }
    return task;
}

/* A pump's pool request: executor-owned (tasks may be freed by their run). */
struct conc_pump {
    uv_work_t req;
    struct conc_exec *ex;
};

struct conc_exec {
    struct fltsim_executor base;
    uv_loop_t loop;
    uv_async_t wake;
    uv_thread_t thread;
    uv_mutex_t lock;
    uv_cond_t idle;
    struct task_queue dpcs; /* lock: for the loop thread */
    LONG pumps_to_start;    /* lock: for the loop thread */
    bool stopping;          /* lock */
    LONG spawned;           /* spawned threads still running; lock */
    /* pumps (lock): work items ready, pumps started and not ended, pumps
     * lingering and not yet claimed, wakeups owed to claimed pumps */
    struct task_queue ready;
    LONG pumps;
    LONG max_pumps; /* the pool's size */
    uv_cond_t pump_wake;
    LONG lingering;
    LONG claims;
    LONG queued_pumps; /* started, not yet on a pool thread: no lingering then */
};

/* How long an idle pump waits for another work item. */
#define PUMP_LINGER_NS 2000000ull

struct conc_thread {
    struct conc_exec *ex;
    uv_thread_t thread;
    ULONG process_id, thread_id;
    void (*fn)(void *ctx);
    void *ctx;
};

static void finished(struct conc_exec *ex)
{
    if (__atomic_sub_fetch(&ex->base.outstanding, 1, __ATOMIC_SEQ_CST) == 0) {
        uv_mutex_lock(&ex->lock);
        uv_cond_broadcast(&ex->idle);
        uv_mutex_unlock(&ex->lock);
    }
    fltsim__task_finished(&ex->base);
}

/* The next ready work item for a pump, after lingering for one if there is
 * none; NULL when the pump should end (it is then no longer counted). lock
 * held. */
static struct fltsim_task *pump_next_locked(struct conc_exec *ex)
{
    ULONG64 deadline = uv_hrtime() + PUMP_LINGER_NS;
    for (;;) {
        struct fltsim_task *task = queue_pop(&ex->ready);
        if (task != NULL)
            return task;
        if (ex->stopping || ex->queued_pumps > 0)
            break;
        ex->lingering++;
        bool timed_out = false;
        while (ex->claims == 0 && !ex->stopping && !timed_out) {
            ULONG64 now = uv_hrtime();
            timed_out = now >= deadline ||
                        uv_cond_timedwait(&ex->pump_wake, &ex->lock, deadline - now) != 0;
        }
        if (ex->claims > 0) {
            ex->claims--; /* a submitter counted this pump out of lingering */
            continue;     /* (its work item may have gone to a busier pump: look again) */
        }
        ex->lingering--;
        if (ex->ready.head == NULL)
            break;
    }
    ex->pumps--;
    return NULL;
}

static void work_cb(uv_work_t *req)
{
    struct conc_pump *pump = req->data;
    struct conc_exec *ex = pump->ex;
    uv_mutex_lock(&ex->lock);
    ex->queued_pumps--;
    for (;;) {
        struct fltsim_task *task = pump_next_locked(ex);
        uv_mutex_unlock(&ex->lock);
        if (task == NULL)
            break;
        fltsim__worker_enter(ex->base.sys, PASSIVE_LEVEL);
        task->run(task);
        fltsim__worker_leave(ex->base.sys, PASSIVE_LEVEL, "a work item");
        finished(ex);
        uv_mutex_lock(&ex->lock);
    }
}

static void after_work_cb(uv_work_t *req, int status)
{
    (void)status;
    free(req->data);
}

static void run_dpc(struct conc_exec *ex, struct fltsim_task *task)
{
    fltsim__worker_enter(ex->base.sys, DISPATCH_LEVEL);
    task->run(task);
    fltsim__worker_leave(ex->base.sys, DISPATCH_LEVEL, "a completion (DPC)");
    finished(ex);
}

static void wake_cb(uv_async_t *handle)
{
    struct conc_exec *ex = handle->data;
    uv_mutex_lock(&ex->lock);
    struct task_queue dpcs = ex->dpcs;
    ex->dpcs.head = ex->dpcs.tail = NULL;
    LONG pumps = ex->pumps_to_start;
    ex->pumps_to_start = 0;
    bool stopping = ex->stopping;
    uv_mutex_unlock(&ex->lock);

    for (struct fltsim_task *task; (task = queue_pop(&dpcs)) != NULL;)
        run_dpc(ex, task);
    for (LONG i = 0; i < pumps; i++) {
        struct conc_pump *pump = calloc(1, sizeof(*pump));
        if (pump == NULL)
            abort(); /* queued work items are owed a run; there is no way to fail them */
        pump->ex = ex;
        pump->req.data = pump;
        if (uv_queue_work(&ex->loop, &pump->req, work_cb, after_work_cb) != 0)
            abort(); /* libuv refuses only a NULL callback */
    }
    if (stopping)
        uv_close((uv_handle_t *)&ex->wake, NULL);
}

static void loop_main(void *arg)
{
    struct conc_exec *ex = arg;
    /* The loop thread is the completion context: a system thread. */
    fltsim__worker_enter(ex->base.sys, PASSIVE_LEVEL);
    uv_run(&ex->loop, UV_RUN_DEFAULT);
    fltsim__worker_leave(ex->base.sys, PASSIVE_LEVEL, "the executor loop");
}

static void conc_submit(struct fltsim_executor *base, struct fltsim_task *task)
{
    struct conc_exec *ex = (struct conc_exec *)base;
    uv_mutex_lock(&ex->lock);
    if (task->kind == FLTSIM_TASK_DPC) {
        queue_push(&ex->dpcs, task);
        uv_mutex_unlock(&ex->lock);
        uv_async_send(&ex->wake);
        return;
    }
    queue_push(&ex->ready, task);
    if (ex->lingering > 0) {
        /* Claim a lingering pump: it runs this (or an equal) work item. */
        ex->lingering--;
        ex->claims++;
        uv_mutex_unlock(&ex->lock);
        /* After the unlock: the pump must not wake into a held lock. */
        uv_cond_signal(&ex->pump_wake);
        return;
    }
    if (ex->pumps < ex->max_pumps) {
        ex->pumps++;
        ex->queued_pumps++;
        ex->pumps_to_start++;
        uv_mutex_unlock(&ex->lock);
        uv_async_send(&ex->wake);
        return;
    }
    /* Every pool thread runs a pump: the first free one takes it. */
    uv_mutex_unlock(&ex->lock);
}

static void spawned_main(void *arg)
{
    struct conc_thread *t = arg;
    fltsim_thread_set_identity(t->process_id, t->thread_id);
    t->fn(t->ctx);
    struct conc_exec *ex = t->ex;
    uv_mutex_lock(&ex->lock);
    ex->spawned--;
    uv_cond_broadcast(&ex->idle);
    uv_mutex_unlock(&ex->lock);
}

static NTSTATUS conc_spawn(struct fltsim_executor *base, ULONG process_id, ULONG thread_id,
                           void (*fn)(void *ctx), void *ctx, void **handle)
{
    struct conc_exec *ex = (struct conc_exec *)base;
    struct conc_thread *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    t->ex = ex;
    t->process_id = process_id;
    t->thread_id = thread_id;
    t->fn = fn;
    t->ctx = ctx;
    uv_mutex_lock(&ex->lock);
    ex->spawned++;
    uv_mutex_unlock(&ex->lock);
    if (uv_thread_create(&t->thread, spawned_main, t) != 0) {
        uv_mutex_lock(&ex->lock);
        ex->spawned--;
        uv_mutex_unlock(&ex->lock);
        free(t);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    *handle = t;
    return STATUS_SUCCESS;
}

static void conc_join(struct fltsim_executor *base, void *handle)
{
    (void)base;
    struct conc_thread *t = handle;
    uv_thread_join(&t->thread);
    free(t);
}

static bool conc_wait_idle(struct fltsim_executor *base, ULONG64 timeout_ns)
{
    struct conc_exec *ex = (struct conc_exec *)base;
    ULONG64 deadline = timeout_ns ? uv_hrtime() + timeout_ns : 0;
    bool idle = true;
    uv_mutex_lock(&ex->lock);
    while (__atomic_load_n(&ex->base.outstanding, __ATOMIC_SEQ_CST) != 0 || ex->spawned != 0) {
        if (deadline == 0) {
            uv_cond_wait(&ex->idle, &ex->lock);
            continue;
        }
        ULONG64 now = uv_hrtime();
        if (now >= deadline || uv_cond_timedwait(&ex->idle, &ex->lock, deadline - now) != 0) {
            idle =
                __atomic_load_n(&ex->base.outstanding, __ATOMIC_SEQ_CST) == 0 && ex->spawned == 0;
            break;
        }
    }
    uv_mutex_unlock(&ex->lock);
    return idle;
}

static void conc_destroy(struct fltsim_executor *base)
{
    struct conc_exec *ex = (struct conc_exec *)base;
    conc_wait_idle(base, 0);
    uv_mutex_lock(&ex->lock);
    ex->stopping = true;
    uv_cond_broadcast(&ex->pump_wake); /* lingering pumps end now */
    uv_mutex_unlock(&ex->lock);
    uv_async_send(&ex->wake);
    uv_thread_join(&ex->thread);
    uv_loop_close(&ex->loop);
    uv_cond_destroy(&ex->pump_wake);
    uv_cond_destroy(&ex->idle);
    uv_mutex_destroy(&ex->lock);
    free(ex);
}

static const struct fltsim_executor_ops conc_ops = {
    conc_submit, conc_spawn, conc_join, conc_wait_idle, conc_destroy,
};

/* libuv's pool has 4 threads unless UV_THREADPOOL_SIZE says otherwise, read
 * once when the pool starts. Windows has far more system worker threads, and
 * work routines that wait (on an event, a resource, a synchronized post)
 * would exhaust 4 quickly; the default here is 16, and a value the user set
 * wins. */
#define WORKER_THREADS_DEFAULT "16"

static void pool_size_once(void)
{
    setenv("UV_THREADPOOL_SIZE", WORKER_THREADS_DEFAULT, 0);
}

/* The pool's size as libuv 1.x reads it when the pool starts: 4 unless
 * UV_THREADPOOL_SIZE says otherwise, 0 meaning 1, at most 1024. */
static LONG pool_threads(void)
{
    const char *v = getenv("UV_THREADPOOL_SIZE");
    long n = v != NULL ? atol(v) : 4;
    if (n == 0)
        n = 1;
    return n < 0 || n > 1024 ? 1024 : (LONG)n;
}

NTSTATUS fltsim__executor_concurrent_create(fltsim_system *sys, struct fltsim_executor **out)
{
    static uv_once_t pool_size = UV_ONCE_INIT;
    uv_once(&pool_size, pool_size_once);
    struct conc_exec *ex = calloc(1, sizeof(*ex));
    if (ex == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    ex->base.ops = &conc_ops;
    ex->base.kind = FLTSIM_EXECUTOR_CONCURRENT;
    ex->base.sys = sys;
    ex->max_pumps = pool_threads();
    if (uv_mutex_init(&ex->lock) != 0)
        goto fail_lock;
    if (uv_cond_init(&ex->idle) != 0)
        goto fail_cond;
    if (uv_cond_init(&ex->pump_wake) != 0)
        goto fail_pump;
    if (uv_loop_init(&ex->loop) != 0)
        goto fail_loop;
    if (uv_async_init(&ex->loop, &ex->wake, wake_cb) != 0)
        goto fail_async;
    ex->wake.data = ex;
    if (uv_thread_create(&ex->thread, loop_main, ex) != 0)
        goto fail_thread;
    *out = &ex->base;
    return STATUS_SUCCESS;

fail_thread:
    uv_close((uv_handle_t *)&ex->wake, NULL);
    uv_run(&ex->loop, UV_RUN_DEFAULT);
fail_async:
    uv_loop_close(&ex->loop);
fail_loop:
    uv_cond_destroy(&ex->pump_wake);
fail_pump:
    uv_cond_destroy(&ex->idle);
fail_cond:
    uv_mutex_destroy(&ex->lock);
fail_lock:
    free(ex);
    return STATUS_INSUFFICIENT_RESOURCES;
}
