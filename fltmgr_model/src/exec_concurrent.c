/*
 * The concurrent executor (DESIGN decision 5): work items run on libuv's
 * thread pool at PASSIVE_LEVEL, DPCs (asynchronous completions) on the
 * executor's loop thread at DISPATCH_LEVEL, and spawned requestors are OS
 * threads. libuv loops are single-threaded, so any thread hands a task over
 * through a locked queue and uv_async_send; the loop thread submits it.
 *
 * Work items run in pumps: a pump is a uv_work_t on the pool that runs work
 * items from the executor's ready list and, when it runs dry, lingers a
 * little for the next one before it gives its pool thread back. A work item
 * queued while a pump lingers goes straight to it (one thread handoff, as a
 * raw uv_queue_work has) instead of through the loop thread (two). Each work
 * item queued either claims one lingering pump or starts a new pump, so a
 * work item never waits behind another that blocks. A pump does not linger
 * while other pumps wait for a pool thread (bulk queueing).
 */
#include <stdlib.h>

#include "executor.h"

/* One submission: executor-owned, because the task itself may be freed by
 * its run before libuv is done with the request. */
struct conc_job {
    uv_work_t req;
    struct fltsim_task *task;
    struct conc_exec *ex;
    LIST_ENTRY link;
};

struct conc_exec {
    struct fltsim_executor base;
    uv_loop_t loop;
    uv_async_t wake;
    uv_thread_t thread;
    uv_mutex_t lock;
    uv_cond_t idle;
    LIST_ENTRY incoming; /* lock */
    bool stopping;       /* lock */
    LONG spawned;        /* spawned threads still running; lock */
    /* pumps (lock): work items ready, pumps lingering and not yet claimed,
     * wakeups owed to claimed pumps */
    LIST_ENTRY ready;
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
 * none; NULL when the pump should end. lock held. */
static struct conc_job *pump_next_locked(struct conc_exec *ex)
{
    ULONG64 deadline = uv_hrtime() + PUMP_LINGER_NS;
    for (;;) {
        if (!IsListEmpty(&ex->ready))
            return CONTAINING_RECORD(RemoveHeadList(&ex->ready), struct conc_job, link);
        if (ex->stopping || ex->queued_pumps > 0)
            return NULL;
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
        if (IsListEmpty(&ex->ready))
            return NULL;
    }
}

static void work_cb(uv_work_t *req)
{
    struct conc_job *pump = req->data;
    struct conc_exec *ex = pump->ex;
    struct conc_job *job = pump;
    uv_mutex_lock(&ex->lock);
    ex->queued_pumps--;
    uv_mutex_unlock(&ex->lock);
    do {
        fltsim__worker_enter(ex->base.sys, PASSIVE_LEVEL);
        job->task->run(job->task);
        fltsim__worker_leave(ex->base.sys, PASSIVE_LEVEL, "a work item");
        if (job != pump)
            free(job); /* the pump's own job goes in after_work_cb */
        finished(ex);
        uv_mutex_lock(&ex->lock);
        job = pump_next_locked(ex);
        uv_mutex_unlock(&ex->lock);
    } while (job != NULL);
}

static void after_work_cb(uv_work_t *req, int status)
{
    (void)status;
    free(req->data);
}

static void run_dpc(struct conc_exec *ex, struct conc_job *job)
{
    fltsim__worker_enter(ex->base.sys, DISPATCH_LEVEL);
    job->task->run(job->task);
    fltsim__worker_leave(ex->base.sys, DISPATCH_LEVEL, "a completion (DPC)");
    free(job);
    finished(ex);
}

static void wake_cb(uv_async_t *handle)
{
    struct conc_exec *ex = handle->data;
    LIST_ENTRY jobs;
    InitializeListHead(&jobs);
    uv_mutex_lock(&ex->lock);
    while (!IsListEmpty(&ex->incoming))
        InsertTailList(&jobs, RemoveHeadList(&ex->incoming));
    bool stopping = ex->stopping;
    uv_mutex_unlock(&ex->lock);

    while (!IsListEmpty(&jobs)) {
        struct conc_job *job = CONTAINING_RECORD(RemoveHeadList(&jobs), struct conc_job, link);
        if (job->task->kind == FLTSIM_TASK_DPC) {
            run_dpc(ex, job);
        } else {
            job->req.data = job;
            if (uv_queue_work(&ex->loop, &job->req, work_cb, after_work_cb) != 0)
                abort(); /* libuv refuses only a NULL callback */
        }
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
    struct conc_job *job = calloc(1, sizeof(*job));
    if (job == NULL)
        abort(); /* the task is owed a run; there is no way to fail it */
    job->task = task;
    job->ex = ex;
    uv_mutex_lock(&ex->lock);
    if (task->kind != FLTSIM_TASK_DPC && ex->lingering > 0) {
        /* Claim a lingering pump: it runs this (or an equal) work item. */
        ex->lingering--;
        ex->claims++;
        InsertTailList(&ex->ready, &job->link);
        uv_mutex_unlock(&ex->lock);
        /* After the unlock: the pump must not wake into a held lock. */
        uv_cond_signal(&ex->pump_wake);
        return;
    }
    if (task->kind != FLTSIM_TASK_DPC)
        ex->queued_pumps++;
    InsertTailList(&ex->incoming, &job->link);
    uv_mutex_unlock(&ex->lock);
    uv_async_send(&ex->wake);
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
    InitializeListHead(&ex->incoming);
    InitializeListHead(&ex->ready);
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
