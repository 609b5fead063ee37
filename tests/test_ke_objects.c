/*
 * Kernel dispatcher objects beside events (issue 15 item 4), under both
 * executors: KMUTEX (recursive ownership, exclusion across threads, normal
 * kernel APCs disabled while owned, release by a non-owner reported),
 * KSEMAPHORE (counting, the limit), KeWaitForMultipleObjects (WaitAny's
 * STATUS_WAIT_0 + n, WaitAll's all-at-once rule, timeouts, the wait-block
 * limits, mixed objects), critical and guarded regions with the APC queries,
 * and, under the deterministic executor, a deadlock between two mutex owners
 * described instead of hanging.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fltsim_test.h"

static LARGE_INTEGER zero_timeout = {.QuadPart = 0};

/* Runs fn(ctx) on a system worker (where reports reach the system) and
 * waits for it. */
static void run_in_worker(fltsim_system *sys, void (*fn)(void *ctx), void *ctx)
{
    assert_status(fltsim_system_post_work(sys, fn, ctx), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(sys, 30000), STATUS_SUCCESS);
}

static NTSTATUS poll(PVOID object)
{
    return KeWaitForSingleObject(object, Executive, KernelMode, FALSE, &zero_timeout);
}

/* ---- mutexes ---- */

/* A new mutex is signaled; its owner acquires it again and again (each wait
 * one level deeper), must release it as often, and has normal kernel APCs
 * (not all APCs) disabled while it owns it. */
static void mutex_owner_acquires_recursively(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    assert_int_equal(KeReadStateMutex(&m), 1);
    assert_false(KeAreApcsDisabled());
    assert_status(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_int_equal(KeReadStateMutex(&m), 0);
    assert_ptr_equal(m.OwnerThread, KeGetCurrentThread());
    assert_true(KeAreApcsDisabled());
    assert_false(KeAreAllApcsDisabled());
    assert_status(KeWaitForMutexObject(&m, Executive, KernelMode, FALSE, &zero_timeout),
                  STATUS_SUCCESS);
    assert_int_equal(KeReadStateMutex(&m), -1);
    assert_int_equal(KeReleaseMutex(&m, FALSE), -1);
    assert_int_equal(KeReadStateMutex(&m), 0);
    assert_true(KeAreApcsDisabled());               /* still owned once */
    assert_int_equal(KeReleaseMutex(&m, FALSE), 0); /* 0: it is signaled now */
    assert_int_equal(KeReadStateMutex(&m), 1);
    assert_null(m.OwnerThread);
    assert_false(KeAreApcsDisabled());
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

struct mutex_job {
    KMUTEX *mutex;
    KEVENT *owned; /* set by the main thread once it owns the mutex */
    KEVENT *polled_event;
    NTSTATUS polled; /* a zero-timeout wait while another owns it */
    NTSTATUS waited;
    LONG acquired;
    LONG state_inside;
    bool apcs_inside;
    PKTHREAD owner_inside, self;
};

static void mutex_contender(void *arg)
{
    struct mutex_job *job = arg;
    KeWaitForSingleObject(job->owned, Executive, KernelMode, FALSE, NULL);
    job->polled = poll(job->mutex);
    KeSetEvent(job->polled_event, IO_NO_INCREMENT, FALSE);
    job->waited = KeWaitForSingleObject(job->mutex, Executive, KernelMode, FALSE, NULL);
    __atomic_store_n(&job->acquired, 1, __ATOMIC_SEQ_CST);
    job->state_inside = KeReadStateMutex(job->mutex);
    job->apcs_inside = KeAreApcsDisabled();
    job->owner_inside = job->mutex->OwnerThread;
    job->self = KeGetCurrentThread();
    KeReleaseMutex(job->mutex, FALSE);
}

/* Another thread cannot take an owned mutex: a zero timeout times out and a
 * wait blocks until the owner's last release, after which that thread owns
 * it (with its APCs disabled, not the releaser's). */
static void mutex_blocks_other_threads_until_released(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    KMUTEX m;
    KEVENT owned, polled;
    KeInitializeMutex(&m, 0);
    KeInitializeEvent(&owned, NotificationEvent, FALSE);
    KeInitializeEvent(&polled, NotificationEvent, FALSE);
    struct mutex_job job = {
        .mutex = &m, .owned = &owned, .polled_event = &polled, .polled = STATUS_PENDING};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(w.sys, 1000, 4001, mutex_contender, &job, &t),
                  STATUS_SUCCESS);
    assert_status(poll(&m), STATUS_SUCCESS);
    assert_status(poll(&m), STATUS_SUCCESS); /* twice: two releases needed */
    KeSetEvent(&owned, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(&polled, Executive, KernelMode, FALSE, NULL);
    /* Let the contender run into its wait (it cannot get through). */
    assert_status(fltsim_system_wait_idle(w.sys, 50), STATUS_TIMEOUT);
    assert_int_equal(__atomic_load_n(&job.acquired, __ATOMIC_SEQ_CST), 0);
    assert_int_equal(KeReleaseMutex(&m, FALSE), -1);
    assert_status(fltsim_system_wait_idle(w.sys, 50), STATUS_TIMEOUT); /* still owned */
    assert_int_equal(__atomic_load_n(&job.acquired, __ATOMIC_SEQ_CST), 0);
    assert_int_equal(KeReleaseMutex(&m, FALSE), 0);
    assert_false(KeAreApcsDisabled());
    fltsim_thread_join(t);
    assert_status(job.polled, STATUS_TIMEOUT);
    assert_status(job.waited, STATUS_SUCCESS);
    assert_int_equal(job.state_inside, 0);
    assert_true(job.apcs_inside);
    assert_ptr_equal(job.owner_inside, job.self);
    assert_int_equal(KeReadStateMutex(&m), 1);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

struct count_job {
    KMUTEX mutex;
    KSEMAPHORE semaphore;
    bool use_semaphore;
    ULONG64 value;
    LONG inside, max_inside;
};

static void count_under_lock(void *arg)
{
    struct count_job *job = arg;
    PVOID lock = job->use_semaphore ? (PVOID)&job->semaphore : (PVOID)&job->mutex;
    for (int i = 0; i < 300; i++) {
        KeWaitForSingleObject(lock, Executive, KernelMode, FALSE, NULL);
        LONG in = __atomic_add_fetch(&job->inside, 1, __ATOMIC_SEQ_CST);
        LONG max = __atomic_load_n(&job->max_inside, __ATOMIC_SEQ_CST);
        while (in > max && !__atomic_compare_exchange_n(&job->max_inside, &max, in, false,
                                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        }
        ULONG64 v = __atomic_load_n(&job->value, __ATOMIC_RELAXED);
        if ((i & 31) == 0) {
            LARGE_INTEGER tick = {.QuadPart = -1};
            KeDelayExecutionThread(KernelMode, FALSE, &tick);
        }
        __atomic_store_n(&job->value, v + 1, __ATOMIC_RELAXED);
        __atomic_sub_fetch(&job->inside, 1, __ATOMIC_SEQ_CST);
        if (job->use_semaphore)
            KeReleaseSemaphore(&job->semaphore, IO_NO_INCREMENT, 1, FALSE);
        else
            KeReleaseMutex(&job->mutex, FALSE);
    }
}

/* A mutex, and a semaphore of limit 1, exclude each other's holders across
 * threads that block while holding them: no increment is lost. */
static void mutex_and_binary_semaphore_exclude_threads(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    for (int mode = 0; mode < 2; mode++) {
        struct count_job job;
        memset(&job, 0, sizeof(job));
        KeInitializeMutex(&job.mutex, 0);
        KeInitializeSemaphore(&job.semaphore, 1, 1);
        job.use_semaphore = mode == 1;
        fltsim_thread *t[3];
        for (int i = 0; i < 3; i++)
            assert_status(
                fltsim_thread_spawn(w.sys, 1000, 4001 + (ULONG)i, count_under_lock, &job, &t[i]),
                STATUS_SUCCESS);
        for (int i = 0; i < 3; i++)
            fltsim_thread_join(t[i]);
        assert_int_equal(job.value, 900);
        assert_int_equal(job.max_inside, 1);
        assert_int_equal(KeReadStateMutex(&job.mutex), 1);
        assert_int_equal(KeReadStateSemaphore(&job.semaphore), 1);
    }
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

struct misuse {
    KMUTEX mutex;
    LONG released;
    LONG state_after;
};

static void release_unowned(void *arg)
{
    struct misuse *m = arg;
    m->released = KeReleaseMutex(&m->mutex, FALSE);
    m->state_after = KeReadStateMutex(&m->mutex);
}

static void use_uninitialized(void *arg)
{
    KMUTEX *m = arg;
    KeReleaseMutex(m, FALSE);
    KeReadStateMutex(m);
    KSEMAPHORE *s = (KSEMAPHORE *)(m + 1);
    KeReleaseSemaphore(s, IO_NO_INCREMENT, 1, FALSE);
    KeReadStateSemaphore(s);
}

/* Only the owner may release a mutex (Windows bug checks): the release of a
 * mutex nobody owns, or that another thread owns, is reported and changes
 * nothing. So is every use of a mutex or semaphore never initialized. */
static void mutex_release_by_non_owner_is_reported(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct misuse m;
    KeInitializeMutex(&m.mutex, 0);
    run_in_worker(w.sys, release_unowned, &m);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 1);
    assert_int_equal(m.released, 1);
    assert_int_equal(m.state_after, 1);

    assert_status(poll(&m.mutex), STATUS_SUCCESS); /* the main thread owns it */
    run_in_worker(w.sys, release_unowned, &m);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 2);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(w.sys, 1, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "another thread owns"));
    assert_int_equal(m.state_after, 0);
    assert_ptr_equal(m.mutex.OwnerThread, KeGetCurrentThread());
    assert_int_equal(KeReleaseMutex(&m.mutex, FALSE), 0);
    assert_int_equal(fltsim_system_report_count(w.sys), 2);

    struct {
        KMUTEX m;
        KSEMAPHORE s;
    } zeroed;
    memset(&zeroed, 0, sizeof(zeroed));
    run_in_worker(w.sys, use_uninitialized, &zeroed.m);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 6);
    world_destroy(&w);
}

static void wait_mutex_user_mode(void *arg)
{
    struct misuse *m = arg;
    KeWaitForSingleObject(&m->mutex, Executive, UserMode, FALSE, NULL);
    KeReleaseMutex(&m->mutex, FALSE);
}

/* A wait that includes a mutex must be a KernelMode wait. */
static void mutex_user_mode_wait_is_reported(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct misuse m;
    KeInitializeMutex(&m.mutex, 0);
    run_in_worker(w.sys, wait_mutex_user_mode, &m);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 1);
    assert_int_equal(KeReadStateMutex(&m.mutex), 1);
    world_destroy(&w);
}

/* ---- semaphores ---- */

struct semaphore_case {
    KSEMAPHORE s;
    LONG over_limit, zero_adjustment, state_after, released_with_wait;
};

static void semaphore_misuse(void *arg)
{
    struct semaphore_case *c = arg;
    c->over_limit = KeReleaseSemaphore(&c->s, IO_NO_INCREMENT, 2, FALSE);
    c->zero_adjustment = KeReleaseSemaphore(&c->s, IO_NO_INCREMENT, 0, FALSE);
    c->state_after = KeReadStateSemaphore(&c->s);
    KSEMAPHORE bad;
    KeInitializeSemaphore(&bad, 3, 2); /* count above the limit */
    /* Wait TRUE needs PASSIVE_LEVEL (V28); the release itself happens. */
    KSEMAPHORE other;
    KeInitializeSemaphore(&other, 0, 1);
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    KeReleaseSemaphore(&other, IO_NO_INCREMENT, 1, TRUE);
    KeLowerIrql(old);
    c->released_with_wait = KeReadStateSemaphore(&other);
}

/* A semaphore counts: each satisfied wait takes one, a release adds its
 * adjustment and returns the previous count. Past the limit (Windows raises
 * STATUS_SEMAPHORE_LIMIT_EXCEEDED) the count stays, as does a release by 0;
 * both are reported, as is a count above the limit at initialization. */
static void semaphore_counts_to_its_limit(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct semaphore_case c;
    KeInitializeSemaphore(&c.s, 2, 3);
    assert_int_equal(KeReadStateSemaphore(&c.s), 2);
    assert_status(poll(&c.s), STATUS_SUCCESS);
    assert_status(poll(&c.s), STATUS_SUCCESS);
    assert_status(poll(&c.s), STATUS_TIMEOUT);
    assert_int_equal(KeReadStateSemaphore(&c.s), 0);
    assert_int_equal(KeReleaseSemaphore(&c.s, IO_NO_INCREMENT, 1, FALSE), 0);
    assert_int_equal(KeReleaseSemaphore(&c.s, IO_NO_INCREMENT, 2, FALSE), 1);
    assert_int_equal(KeReadStateSemaphore(&c.s), 3);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    run_in_worker(w.sys, semaphore_misuse, &c);
    assert_int_equal(c.over_limit, 3);
    assert_int_equal(c.zero_adjustment, 3);
    assert_int_equal(c.state_after, 3);
    assert_int_equal(c.released_with_wait, 1);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 3);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 1);
    world_destroy(&w);
}

struct sem_waiters {
    KSEMAPHORE s;
    LONG woke;
};

static void sem_waiter(void *arg)
{
    struct sem_waiters *sw = arg;
    KeWaitForSingleObject(&sw->s, Executive, KernelMode, FALSE, NULL);
    __atomic_add_fetch(&sw->woke, 1, __ATOMIC_SEQ_CST);
}

/* A release by n lets exactly n waiters through. */
static void semaphore_release_wakes_as_many_waiters(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct sem_waiters sw = {.woke = 0};
    KeInitializeSemaphore(&sw.s, 0, 10);
    fltsim_thread *t[3];
    for (int i = 0; i < 3; i++)
        assert_status(fltsim_thread_spawn(w.sys, 1000, 4001 + (ULONG)i, sem_waiter, &sw, &t[i]),
                      STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 100), STATUS_TIMEOUT);
    assert_int_equal(__atomic_load_n(&sw.woke, __ATOMIC_SEQ_CST), 0);
    KeReleaseSemaphore(&sw.s, IO_NO_INCREMENT, 2, FALSE);
    assert_status(fltsim_system_wait_idle(w.sys, 200), STATUS_TIMEOUT);
    assert_int_equal(__atomic_load_n(&sw.woke, __ATOMIC_SEQ_CST), 2);
    assert_int_equal(KeReadStateSemaphore(&sw.s), 0);
    KeReleaseSemaphore(&sw.s, IO_NO_INCREMENT, 3, FALSE);
    for (int i = 0; i < 3; i++)
        fltsim_thread_join(t[i]);
    assert_int_equal(sw.woke, 3);
    assert_int_equal(KeReadStateSemaphore(&sw.s), 2);
    world_destroy(&w);
}

/* ---- waits on several objects ---- */

struct multi_job {
    PVOID objects[4];
    ULONG count;
    WAIT_TYPE type;
    LARGE_INTEGER *timeout;
    KMUTEX *release; /* a mutex among the objects, released after the wait */
    NTSTATUS status;
    LONG done;
    LONG mutex_state_inside;
    bool apcs_inside;
};

static void multi_waiter(void *arg)
{
    struct multi_job *job = arg;
    job->status = KeWaitForMultipleObjects(job->count, job->objects, job->type, Executive,
                                           KernelMode, FALSE, job->timeout, NULL);
    __atomic_store_n(&job->done, 1, __ATOMIC_SEQ_CST);
    if (job->release != NULL && job->status == STATUS_SUCCESS) {
        job->mutex_state_inside = KeReadStateMutex(job->release);
        job->apcs_inside = KeAreApcsDisabled();
        KeReleaseMutex(job->release, FALSE);
    }
}

/* WaitAny: STATUS_WAIT_0 + the index of the object that satisfied it (the
 * lowest when several are signaled), whose state alone is consumed; a zero
 * timeout with none signaled is STATUS_TIMEOUT; a blocked WaitAny wakes
 * with the index of the object set later. */
static void wait_any_returns_the_signaled_index(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    KEVENT ev0, ev2;
    KSEMAPHORE sem1;
    KeInitializeEvent(&ev0, SynchronizationEvent, FALSE);
    KeInitializeSemaphore(&sem1, 0, 5);
    KeInitializeEvent(&ev2, SynchronizationEvent, FALSE);
    PVOID objects[3] = {&ev0, &sem1, &ev2};
    assert_status(KeWaitForMultipleObjects(3, objects, WaitAny, Executive, KernelMode, FALSE,
                                           &zero_timeout, NULL),
                  STATUS_TIMEOUT);
    KeReleaseSemaphore(&sem1, IO_NO_INCREMENT, 1, FALSE);
    KeSetEvent(&ev2, IO_NO_INCREMENT, FALSE);
    assert_status(KeWaitForMultipleObjects(3, objects, WaitAny, Executive, KernelMode, FALSE,
                                           &zero_timeout, NULL),
                  STATUS_WAIT_0 + 1);
    assert_int_equal(KeReadStateSemaphore(&sem1), 0);
    assert_int_equal(KeReadStateEvent(&ev2), 1); /* untouched */
    assert_status(KeWaitForMultipleObjects(3, objects, WaitAny, Executive, KernelMode, FALSE,
                                           &zero_timeout, NULL),
                  STATUS_WAIT_0 + 2);
    assert_int_equal(KeReadStateEvent(&ev2), 0);

    struct multi_job job = {.objects = {&ev0, &sem1, &ev2}, .count = 3, .type = WaitAny};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(w.sys, 1000, 4001, multi_waiter, &job, &t), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 100), STATUS_TIMEOUT);
    assert_int_equal(__atomic_load_n(&job.done, __ATOMIC_SEQ_CST), 0);
    KeSetEvent(&ev2, IO_NO_INCREMENT, FALSE);
    fltsim_thread_join(t);
    assert_status(job.status, STATUS_WAIT_0 + 2);
    assert_int_equal(KeReadStateEvent(&ev2), 0); /* a synchronization event resets */
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

/* WaitAll is satisfied only while every object is signaled at once, and
 * consumes nothing before: a synchronization event set first stays set while
 * the waiter still waits for the semaphore; then both are consumed together.
 * A mutex among them is acquired with the rest. */
static void wait_all_needs_every_object_at_once(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    KEVENT ev;
    KSEMAPHORE sem;
    KMUTEX mutex;
    KeInitializeEvent(&ev, SynchronizationEvent, FALSE);
    KeInitializeSemaphore(&sem, 0, 1);
    KeInitializeMutex(&mutex, 0);
    struct multi_job job = {
        .objects = {&ev, &sem, &mutex}, .count = 3, .type = WaitAll, .release = &mutex};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(w.sys, 1000, 4001, multi_waiter, &job, &t), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 100), STATUS_TIMEOUT);
    KeSetEvent(&ev, IO_NO_INCREMENT, FALSE);
    assert_status(fltsim_system_wait_idle(w.sys, 100), STATUS_TIMEOUT);
    assert_int_equal(__atomic_load_n(&job.done, __ATOMIC_SEQ_CST), 0);
    assert_int_equal(KeReadStateEvent(&ev), 1);
    assert_int_equal(KeReadStateMutex(&mutex), 1);
    KeReleaseSemaphore(&sem, IO_NO_INCREMENT, 1, FALSE);
    fltsim_thread_join(t);
    assert_status(job.status, STATUS_SUCCESS);
    assert_int_equal(KeReadStateEvent(&ev), 0);
    assert_int_equal(KeReadStateSemaphore(&sem), 0);
    /* The waiter returned owning the mutex, with normal kernel APCs
     * disabled, and released it. */
    assert_int_equal(job.mutex_state_inside, 0);
    assert_true(job.apcs_inside);
    assert_int_equal(KeReadStateMutex(&mutex), 1);

    /* Every object already signaled: satisfied at once. */
    KEVENT n1, n2;
    KeInitializeEvent(&n1, NotificationEvent, TRUE);
    KeInitializeEvent(&n2, NotificationEvent, TRUE);
    PVOID both[2] = {&n1, &n2};
    assert_status(KeWaitForMultipleObjects(2, both, WaitAll, Executive, KernelMode, FALSE,
                                           &zero_timeout, NULL),
                  STATUS_SUCCESS);
    assert_int_equal(KeReadStateEvent(&n1), 1); /* notification events stay set */
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

/* A timed wait on several objects ends with STATUS_TIMEOUT, consuming
 * nothing and leaving no wait block behind (setting the objects afterwards
 * touches no freed memory). */
static void wait_multiple_times_out(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    KEVENT a, b;
    KeInitializeEvent(&a, SynchronizationEvent, TRUE);
    KeInitializeEvent(&b, SynchronizationEvent, FALSE);
    LARGE_INTEGER timeout = {.QuadPart = -20 * 10000}; /* 20 ms */
    struct multi_job job = {.objects = {&a, &b}, .count = 2, .type = WaitAll, .timeout = &timeout};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(w.sys, 1000, 4001, multi_waiter, &job, &t), STATUS_SUCCESS);
    fltsim_thread_join(t);
    assert_status(job.status, STATUS_TIMEOUT);
    assert_int_equal(KeReadStateEvent(&a), 1);
    KeSetEvent(&b, IO_NO_INCREMENT, FALSE);
    assert_int_equal(KeReadStateEvent(&b), 1);
    world_destroy(&w);
}

struct limits {
    KEVENT events[MAXIMUM_WAIT_OBJECTS + 1];
    PVOID objects[MAXIMUM_WAIT_OBJECTS + 1];
    KWAIT_BLOCK blocks[MAXIMUM_WAIT_OBJECTS + 1];
    NTSTATUS four_without_array, too_many, none, bad_type, null_object, null_array;
    NTSTATUS three_without_array, all_sixty_four;
    NTSTATUS not_an_object;
    NTSTATUS above_apc;
};

static void wait_limits_worker(void *arg)
{
    struct limits *l = arg;
    l->four_without_array = KeWaitForMultipleObjects(4, l->objects, WaitAll, Executive, KernelMode,
                                                     FALSE, &zero_timeout, NULL);
    l->too_many = KeWaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS + 1, l->objects, WaitAll, Executive,
                                           KernelMode, FALSE, &zero_timeout, l->blocks);
    l->none = KeWaitForMultipleObjects(0, l->objects, WaitAll, Executive, KernelMode, FALSE,
                                       &zero_timeout, NULL);
    l->bad_type = KeWaitForMultipleObjects(2, l->objects, WaitNotification, Executive, KernelMode,
                                           FALSE, &zero_timeout, NULL);
    l->null_array = KeWaitForMultipleObjects(2, NULL, WaitAny, Executive, KernelMode, FALSE,
                                             &zero_timeout, NULL);
    PVOID with_null[2] = {l->objects[0], NULL};
    l->null_object = KeWaitForMultipleObjects(2, with_null, WaitAny, Executive, KernelMode, FALSE,
                                              &zero_timeout, NULL);
    /* A KTIMER-shaped object: not modeled. */
    DISPATCHER_HEADER timer_like = {.Type = 8, .Size = 16};
    InitializeListHead(&timer_like.WaitListHead);
    l->not_an_object =
        KeWaitForSingleObject(&timer_like, Executive, KernelMode, FALSE, &zero_timeout);
    /* Above APC_LEVEL a wait may only poll: V28, and it polls. */
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    PVOID unsignaled[1] = {&l->events[MAXIMUM_WAIT_OBJECTS]};
    l->above_apc =
        KeWaitForMultipleObjects(1, unsignaled, WaitAny, Executive, KernelMode, FALSE, NULL, NULL);
    KeLowerIrql(old);
    /* Within the limits. */
    l->three_without_array = KeWaitForMultipleObjects(3, l->objects, WaitAll, Executive, KernelMode,
                                                      FALSE, &zero_timeout, NULL);
    l->all_sixty_four =
        KeWaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS, l->objects, WaitAll, Executive, KernelMode,
                                 FALSE, &zero_timeout, l->blocks);
}

/* THREAD_WAIT_OBJECTS without a wait-block array, MAXIMUM_WAIT_OBJECTS with
 * one: beyond them Windows bug checks (0xC), fltsim reports and fails the
 * call; so for no objects, a NULL object, a wait type other than WaitAll or
 * WaitAny, and an object fltsim does not model. Within them the caller's
 * array is filled as the kernel's record of the wait. */
static void wait_multiple_limits_are_enforced(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct limits *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    for (int i = 0; i <= MAXIMUM_WAIT_OBJECTS; i++) {
        KeInitializeEvent(&l->events[i], NotificationEvent, i < MAXIMUM_WAIT_OBJECTS);
        l->objects[i] = &l->events[i];
    }
    run_in_worker(w.sys, wait_limits_worker, l);
    assert_status(l->four_without_array, STATUS_INVALID_PARAMETER);
    assert_status(l->too_many, STATUS_INVALID_PARAMETER);
    assert_status(l->none, STATUS_INVALID_PARAMETER);
    assert_status(l->bad_type, STATUS_INVALID_PARAMETER);
    assert_status(l->null_array, STATUS_INVALID_PARAMETER);
    assert_status(l->null_object, STATUS_INVALID_PARAMETER);
    assert_status(l->not_an_object, STATUS_INVALID_PARAMETER);
    assert_status(l->above_apc, STATUS_TIMEOUT);
    assert_status(l->three_without_array, STATUS_SUCCESS);
    assert_status(l->all_sixty_four, STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 6);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "SIM"), 1);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "0xC"));
    for (int i = 0; i < MAXIMUM_WAIT_OBJECTS; i++) {
        assert_ptr_equal(l->blocks[i].Object, &l->events[i]);
        assert_int_equal(l->blocks[i].WaitKey, i);
        assert_int_equal(l->blocks[i].WaitType, WaitAll);
    }
    free(l);
    world_destroy(&w);
}

/* ---- critical and guarded regions ---- */

struct regions {
    BOOLEAN plain, critical, critical_all, guarded, guarded_all, apc, apc_all, nested_guarded;
    BOOLEAN resource_in_guarded, resource_with_mutex;
    KMUTEX mutex;
    ERESOURCE resource;
};

static void regions_worker(void *arg)
{
    struct regions *r = arg;
    r->plain = KeAreApcsDisabled() || KeAreAllApcsDisabled();
    KeEnterCriticalRegion();
    r->critical = KeAreApcsDisabled();
    r->critical_all = KeAreAllApcsDisabled();
    KeLeaveCriticalRegion();
    KeEnterGuardedRegion();
    KeEnterGuardedRegion();
    KeLeaveGuardedRegion();
    r->nested_guarded = KeAreAllApcsDisabled(); /* still inside the outer one */
    r->guarded = KeAreApcsDisabled();
    r->guarded_all = KeAreAllApcsDisabled();
    /* ERESOURCE needs normal kernel APCs disabled: a guarded region will do. */
    ExAcquireResourceExclusiveLite(&r->resource, TRUE);
    r->resource_in_guarded = ExIsResourceAcquiredExclusiveLite(&r->resource);
    ExReleaseResourceLite(&r->resource);
    KeLeaveGuardedRegion();
    /* ... and so does owning a mutex. */
    KeWaitForSingleObject(&r->mutex, Executive, KernelMode, FALSE, NULL);
    ExAcquireResourceSharedLite(&r->resource, TRUE);
    r->resource_with_mutex = ExIsResourceAcquiredSharedLite(&r->resource) == 1;
    ExReleaseResourceLite(&r->resource);
    KeReleaseMutex(&r->mutex, FALSE);
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    r->apc = KeAreApcsDisabled();
    r->apc_all = KeAreAllApcsDisabled();
    KeLowerIrql(old);
    /* Misuse: leaving regions never entered; a guarded region at DISPATCH. */
    KeLeaveGuardedRegion();
    KeLeaveCriticalRegion();
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeEnterGuardedRegion();
    KeLeaveGuardedRegion();
    KeLowerIrql(old);
    /* Without any of them, a resource is a report. */
    ExAcquireResourceExclusiveLite(&r->resource, TRUE);
    ExReleaseResourceLite(&r->resource);
}

/* KeAreApcsDisabled: a critical or guarded region, a mutex owned, APC_LEVEL;
 * KeAreAllApcsDisabled: a guarded region or APC_LEVEL only. Regions nest;
 * leaving one never entered is reported, as is a guarded region entered
 * above APC_LEVEL; a resource is acquired without a report whenever normal
 * kernel APCs are disabled. */
static void regions_and_apc_queries(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct regions r;
    memset(&r, 0, sizeof(r));
    KeInitializeMutex(&r.mutex, 0);
    assert_status(ExInitializeResourceLite(&r.resource), STATUS_SUCCESS);
    run_in_worker(w.sys, regions_worker, &r);
    assert_false(r.plain);
    assert_true(r.critical);
    assert_false(r.critical_all);
    assert_true(r.nested_guarded);
    assert_true(r.guarded);
    assert_true(r.guarded_all);
    assert_true(r.resource_in_guarded);
    assert_true(r.resource_with_mutex);
    assert_true(r.apc);
    assert_true(r.apc_all);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 2);
    /* guarded region at DISPATCH (enter and leave), the bare resource */
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 3);
    assert_int_equal(fltsim_system_report_count(w.sys), 5);
    assert_status(ExDeleteResourceLite(&r.resource), STATUS_SUCCESS);
    world_destroy(&w);
}

/* ---- a deadlock the deterministic executor describes ---- */

struct crossed {
    KMUTEX *first, *second;
    KEVENT *holding, *go;
};

static void take_both(void *arg)
{
    struct crossed *c = arg;
    KeWaitForSingleObject(c->first, Executive, KernelMode, FALSE, NULL);
    KeSetEvent(c->holding, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(c->go, Executive, KernelMode, FALSE, NULL);
    KeWaitForSingleObject(c->second, Executive, KernelMode, FALSE, NULL); /* never */
}

static void deadlock_child(void)
{
    struct fltsim_system_options opts = {.executor = FLTSIM_EXECUTOR_DETERMINISTIC, .seed = 9};
    fltsim_system *sys;
    if (!NT_SUCCESS(fltsim_system_create(&opts, &sys)))
        _exit(2);
    static KMUTEX a, b;
    static KEVENT held_a, held_b, go;
    KeInitializeMutex(&a, 0);
    KeInitializeMutex(&b, 0);
    KeInitializeEvent(&held_a, NotificationEvent, FALSE);
    KeInitializeEvent(&held_b, NotificationEvent, FALSE);
    KeInitializeEvent(&go, NotificationEvent, FALSE);
    static struct crossed one = {&a, &b, &held_a, &go}, two = {&b, &a, &held_b, &go};
    fltsim_thread *t1, *t2;
    fltsim_thread_spawn(sys, 1000, 4001, take_both, &one, &t1);
    fltsim_thread_spawn(sys, 1000, 4002, take_both, &two, &t2);
    PVOID both[2] = {&held_a, &held_b};
    KeWaitForMultipleObjects(2, both, WaitAll, Executive, KernelMode, FALSE, NULL, NULL);
    KeSetEvent(&go, IO_NO_INCREMENT, FALSE);
    fltsim_thread_join(t1); /* never returns */
    _exit(4);
}

/* Two threads each owning the mutex the other waits for: the deterministic
 * executor ends the process with a description instead of hanging. */
static void mutex_deadlock_is_described(void **state)
{
    (void)state;
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        deadlock_child();
    }
    close(pipefd[1]);
    char text[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(text) - 1 && (n = read(pipefd[0], text + len, sizeof(text) - 1 - len)) > 0)
        len += (size_t)n;
    text[len] = '\0';
    close(pipefd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    if (strstr(text, "deadlock") == NULL ||
        strstr(text, "requestor thread 4001: blocked") == NULL ||
        strstr(text, "requestor thread 4002: blocked") == NULL)
        fail_msg("the deadlock report says:\n%s", text);
}

int main(void)
{
    const struct CMUnitTest both[] = {
        cmocka_unit_test(mutex_owner_acquires_recursively),
        cmocka_unit_test(mutex_blocks_other_threads_until_released),
        cmocka_unit_test(mutex_and_binary_semaphore_exclude_threads),
        cmocka_unit_test(mutex_release_by_non_owner_is_reported),
        cmocka_unit_test(mutex_user_mode_wait_is_reported),
        cmocka_unit_test(semaphore_counts_to_its_limit),
        cmocka_unit_test(semaphore_release_wakes_as_many_waiters),
        cmocka_unit_test(wait_any_returns_the_signaled_index),
        cmocka_unit_test(wait_all_needs_every_object_at_once),
        cmocka_unit_test(wait_multiple_times_out),
        cmocka_unit_test(wait_multiple_limits_are_enforced),
        cmocka_unit_test(regions_and_apc_queries),
    };
    const struct CMUnitTest deterministic[] = {
        cmocka_unit_test(mutex_deadlock_is_described),
    };
    int failed = FLTSIM_RUN_SUITE("ke_objects", both);
    failed +=
        cmocka_run_group_tests_name("ke_objects (deterministic only)", deterministic, NULL, NULL);
    return failed;
}
