/*
 * Push locks (issue 15 item 4), under both executors: readers share and a
 * writer excludes everyone, a waiting writer holds new readers back, the Flt
 * routines disable normal kernel APCs while the lock is held, no increment is
 * lost under contention; and the rules: recursive acquisition (a hang on
 * Windows) is reported and the thread goes on, as are a release of a lock
 * not held, a lock never initialized, deleting a held lock, unknown flags
 * and an IRQL above APC_LEVEL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

static void run_in_worker(fltsim_system *sys, void (*fn)(void *ctx), void *ctx)
{
    assert_status(fltsim_system_post_work(sys, fn, ctx), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(sys, 30000), STATUS_SUCCESS);
}

/* ---- sharing and excluding ---- */

struct rw_job {
    EX_PUSH_LOCK lock;
    KEVENT inside, go;
    LONG readers, max_readers, writer_in;
    bool writer_saw_readers;
};

static void reader(void *arg)
{
    struct rw_job *job = arg;
    FltAcquirePushLockShared(&job->lock);
    LONG now = __atomic_add_fetch(&job->readers, 1, __ATOMIC_SEQ_CST);
    LONG max = __atomic_load_n(&job->max_readers, __ATOMIC_SEQ_CST);
    while (now > max && !__atomic_compare_exchange_n(&job->max_readers, &max, now, false,
                                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    KeSetEvent(&job->inside, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(&job->go, Executive, KernelMode, FALSE, NULL);
    __atomic_sub_fetch(&job->readers, 1, __ATOMIC_SEQ_CST);
    FltReleasePushLock(&job->lock);
}

static void writer(void *arg)
{
    struct rw_job *job = arg;
    FltAcquirePushLockExclusive(&job->lock);
    job->writer_saw_readers = __atomic_load_n(&job->readers, __ATOMIC_SEQ_CST) != 0;
    __atomic_store_n(&job->writer_in, 1, __ATOMIC_SEQ_CST);
    FltReleasePushLock(&job->lock);
}

/* Two readers hold the lock at once; a writer waits until both have left. */
static void pushlock_readers_share_writer_excludes(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct rw_job job;
    memset(&job, 0, sizeof(job));
    FltInitializePushLock(&job.lock);
    KeInitializeEvent(&job.inside, SynchronizationEvent, FALSE);
    KeInitializeEvent(&job.go, NotificationEvent, FALSE);
    fltsim_thread *r[2], *wr;
    for (int i = 0; i < 2; i++)
        assert_status(fltsim_thread_spawn(w.sys, 1000, 4001 + (ULONG)i, reader, &job, &r[i]),
                      STATUS_SUCCESS);
    while (__atomic_load_n(&job.readers, __ATOMIC_SEQ_CST) < 2)
        KeWaitForSingleObject(&job.inside, Executive, KernelMode, FALSE, NULL);
    assert_status(fltsim_thread_spawn(w.sys, 1000, 4003, writer, &job, &wr), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 50), STATUS_TIMEOUT);
    assert_int_equal(__atomic_load_n(&job.writer_in, __ATOMIC_SEQ_CST), 0);
    KeSetEvent(&job.go, IO_NO_INCREMENT, FALSE);
    for (int i = 0; i < 2; i++)
        fltsim_thread_join(r[i]);
    fltsim_thread_join(wr);
    assert_int_equal(job.max_readers, 2);
    assert_int_equal(job.writer_in, 1);
    assert_false(job.writer_saw_readers);
    assert_int_equal(job.lock, 0); /* free again: nothing held, nothing kept */
    FltDeletePushLock(&job.lock);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

struct order_job {
    EX_PUSH_LOCK lock;
    KEVENT writer_queued;
};

static void late_writer(void *arg)
{
    struct order_job *job = arg;
    rec_add("W:wait");
    KeSetEvent(&job->writer_queued, IO_NO_INCREMENT, FALSE);
    FltAcquirePushLockExclusive(&job->lock);
    rec_add("W:in");
    FltReleasePushLock(&job->lock);
}

static void late_reader(void *arg)
{
    struct order_job *job = arg;
    FltAcquirePushLockShared(&job->lock);
    rec_add("R:in");
    FltReleasePushLock(&job->lock);
}

/* A writer waiting for a lock held shared holds new readers back: they get
 * in after it, not past it. */
static void pushlock_waiting_writer_holds_readers_back(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct order_job job;
    FltInitializePushLock(&job.lock);
    KeInitializeEvent(&job.writer_queued, NotificationEvent, FALSE);
    rec_reset();
    FltAcquirePushLockShared(&job.lock);
    fltsim_thread *wt, *rt;
    assert_status(fltsim_thread_spawn(w.sys, 1000, 4001, late_writer, &job, &wt), STATUS_SUCCESS);
    KeWaitForSingleObject(&job.writer_queued, Executive, KernelMode, FALSE, NULL);
    assert_status(fltsim_system_wait_idle(w.sys, 200), STATUS_TIMEOUT); /* W blocks */
    assert_status(fltsim_thread_spawn(w.sys, 1000, 4002, late_reader, &job, &rt), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 50), STATUS_TIMEOUT); /* R blocks too */
    assert_recorded("W:wait");
    FltReleasePushLock(&job.lock);
    fltsim_thread_join(wt);
    fltsim_thread_join(rt);
    assert_recorded("W:wait W:in R:in");
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

/* FltAcquirePushLock* disables normal kernel APCs (not special ones) until
 * the release: no KeEnterCriticalRegion is needed around it. The forms
 * without Ex (functions for targets before Windows 8.1) do the same. */
static void pushlock_disables_normal_apcs_while_held(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    EX_PUSH_LOCK lock = 1; /* ExInitializePushLock zeroes it */
    ExInitializePushLock(&lock);
    assert_int_equal(lock, 0);
    assert_false(KeAreApcsDisabled());
    FltAcquirePushLockExclusiveEx(&lock, FLT_PUSH_LOCK_DISABLE_AUTO_BOOST);
    assert_true(KeAreApcsDisabled());
    assert_false(KeAreAllApcsDisabled());
    FltReleasePushLockEx(&lock, 0);
    assert_false(KeAreApcsDisabled());
    (FltAcquirePushLockShared)(&lock);
    assert_true(KeAreApcsDisabled());
    (FltReleasePushLock)(&lock);
    (FltAcquirePushLockExclusive)(&lock);
    assert_true(KeAreApcsDisabled());
    (FltReleasePushLock)(&lock);
    assert_false(KeAreApcsDisabled());
    assert_int_equal(lock, 0);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

struct counter {
    EX_PUSH_LOCK lock;
    ULONG64 value;
    LONG torn; /* a reader saw the two halves differ */
    ULONG64 half_a, half_b;
};

static void count_thread(void *arg)
{
    struct counter *c = arg;
    for (int i = 0; i < 400; i++) {
        if (i % 3 == 0) {
            FltAcquirePushLockShared(&c->lock);
            if (__atomic_load_n(&c->half_a, __ATOMIC_RELAXED) !=
                __atomic_load_n(&c->half_b, __ATOMIC_RELAXED))
                __atomic_store_n(&c->torn, 1, __ATOMIC_RELAXED);
            FltReleasePushLock(&c->lock);
            continue;
        }
        FltAcquirePushLockExclusive(&c->lock);
        ULONG64 v = __atomic_load_n(&c->value, __ATOMIC_RELAXED);
        __atomic_store_n(&c->half_a, v + 1, __ATOMIC_RELAXED);
        if ((i & 31) == 1) {
            LARGE_INTEGER tick = {.QuadPart = -1};
            KeDelayExecutionThread(KernelMode, FALSE, &tick);
        }
        __atomic_store_n(&c->half_b, v + 1, __ATOMIC_RELAXED);
        __atomic_store_n(&c->value, v + 1, __ATOMIC_RELAXED);
        FltReleasePushLock(&c->lock);
    }
}

/* Writers that block while holding the lock exclude each other and the
 * readers: no increment is lost and no reader sees a half-done update. */
static void pushlock_contention_loses_nothing(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct counter c;
    memset(&c, 0, sizeof(c));
    FltInitializePushLock(&c.lock);
    fltsim_thread *t[4];
    for (int i = 0; i < 4; i++)
        assert_status(fltsim_thread_spawn(w.sys, 1000, 4001 + (ULONG)i, count_thread, &c, &t[i]),
                      STATUS_SUCCESS);
    for (int i = 0; i < 4; i++)
        fltsim_thread_join(t[i]);
    assert_int_equal(c.value, 4 * 266);
    assert_int_equal(c.torn, 0);
    assert_int_equal(c.lock, 0);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

/* ---- the rules ---- */

struct recursion {
    EX_PUSH_LOCK lock;
    BOOLEAN apcs_after;
    LONG reports_after_shared_twice;
    fltsim_system *sys;
};

static void recursion_worker(void *arg)
{
    struct recursion *r = arg;
    /* Exclusive, then again exclusive and shared: two hangs on Windows. */
    FltAcquirePushLockExclusive(&r->lock);
    FltAcquirePushLockExclusive(&r->lock);
    FltAcquirePushLockShared(&r->lock);
    FltReleasePushLock(&r->lock);
    FltReleasePushLock(&r->lock);
    FltReleasePushLock(&r->lock);
    /* Shared, then exclusive: a hang. */
    FltAcquirePushLockShared(&r->lock);
    FltAcquirePushLockExclusive(&r->lock);
    FltReleasePushLock(&r->lock);
    FltReleasePushLock(&r->lock);
    /* Shared twice with no writer waiting is allowed. */
    FltAcquirePushLockShared(&r->lock);
    FltAcquirePushLockShared(&r->lock);
    FltReleasePushLock(&r->lock);
    FltReleasePushLock(&r->lock);
    r->reports_after_shared_twice = (LONG)fltsim_system_report_count(r->sys);
    r->apcs_after = KeAreApcsDisabled();
}

/* Push locks are not recursive: acquiring one the thread holds exclusive,
 * or exclusive one it holds shared, hangs on Windows; fltsim reports each
 * and lets the thread go on, every acquisition matched by a release. Shared
 * again is allowed. Afterwards the lock is free and APCs are enabled. */
static void pushlock_recursion_is_reported_not_hung(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct recursion r = {.sys = w.sys};
    FltInitializePushLock(&r.lock);
    run_in_worker(w.sys, recursion_worker, &r);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 3);
    assert_int_equal(r.reports_after_shared_twice, 3);
    struct fltsim_report rep;
    assert_status(fltsim_system_report_get(w.sys, 0, &rep), STATUS_SUCCESS);
    assert_non_null(strstr(rep.message, "not recursive"));
    assert_false(r.apcs_after);
    assert_int_equal(r.lock, 0);
    /* Another thread takes it at once. */
    FltAcquirePushLockExclusive(&r.lock);
    FltReleasePushLock(&r.lock);
    world_destroy(&w);
}

struct shared_again {
    EX_PUSH_LOCK lock;
    KEVENT holding, writer_queued;
    LONG writer_in;
};

static void shared_twice_behind_writer(void *arg)
{
    struct shared_again *s = arg;
    FltAcquirePushLockShared(&s->lock);
    KeSetEvent(&s->holding, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(&s->writer_queued, Executive, KernelMode, FALSE, NULL);
    /* Let the writer reach its wait. */
    LARGE_INTEGER ms = {.QuadPart = -200 * 10000};
    KeDelayExecutionThread(KernelMode, FALSE, &ms);
    FltAcquirePushLockShared(&s->lock); /* a hang on Windows: the writer is queued */
    FltReleasePushLock(&s->lock);
    FltReleasePushLock(&s->lock);
}

static void queued_writer(void *arg)
{
    struct shared_again *s = arg;
    KeSetEvent(&s->writer_queued, IO_NO_INCREMENT, FALSE);
    FltAcquirePushLockExclusive(&s->lock);
    __atomic_store_n(&s->writer_in, 1, __ATOMIC_SEQ_CST);
    FltReleasePushLock(&s->lock);
}

/* Shared again while a writer waits: on Windows the second acquisition
 * waits behind the writer, which waits for the first: reported, granted, and
 * the writer gets in once both are released. */
static void pushlock_shared_again_behind_a_writer_is_reported(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct shared_again s;
    memset(&s, 0, sizeof(s));
    FltInitializePushLock(&s.lock);
    KeInitializeEvent(&s.holding, NotificationEvent, FALSE);
    KeInitializeEvent(&s.writer_queued, NotificationEvent, FALSE);
    assert_status(fltsim_system_post_work(w.sys, shared_twice_behind_writer, &s), STATUS_SUCCESS);
    /* The writer is a worker too. */
    KeWaitForSingleObject(&s.holding, Executive, KernelMode, FALSE, NULL);
    assert_status(fltsim_system_post_work(w.sys, queued_writer, &s), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 30000), STATUS_SUCCESS);
    assert_int_equal(s.writer_in, 1);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 1);
    struct fltsim_report rep;
    assert_status(fltsim_system_report_get(w.sys, 0, &rep), STATUS_SUCCESS);
    assert_non_null(strstr(rep.message, "waits for it exclusive"));
    assert_int_equal(s.lock, 0);
    world_destroy(&w);
}

struct misuse {
    EX_PUSH_LOCK lock, garbage, held;
    BOOLEAN apcs_after_bad_release;
};

static void misuse_worker(void *arg)
{
    struct misuse *m = arg;
    /* Released without being held: reported, nothing changes (the critical
     * region the acquisition would have entered is not left). */
    FltReleasePushLock(&m->lock);
    m->apcs_after_bad_release = KeAreApcsDisabled();
    /* Never initialized (pool garbage): reported, then it works. */
    FltAcquirePushLockExclusive(&m->garbage);
    FltReleasePushLock(&m->garbage);
    /* Unknown flags. */
    FltAcquirePushLockSharedEx(&m->lock, 0x80);
    FltReleasePushLockEx(&m->lock, 0x80);
    /* Above APC_LEVEL. */
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    FltAcquirePushLockShared(&m->lock);
    FltReleasePushLock(&m->lock);
    KeLowerIrql(old);
    /* Deleted while held: reported; it stays held until released. */
    FltAcquirePushLockShared(&m->held);
    FltDeletePushLock(&m->held);
    FltReleasePushLock(&m->held);
    FltDeletePushLock(&m->held);
}

/* A release of a lock not held, a lock never initialized, unknown flags
 * (acquire and release), IRQL above APC_LEVEL (acquire and release) and the
 * deletion of a held lock are each reported; the run goes on and every lock
 * ends free. */
static void pushlock_misuse_is_reported(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct misuse m;
    FltInitializePushLock(&m.lock);
    memset(&m.garbage, 0xa5, sizeof(m.garbage));
    FltInitializePushLock(&m.held);
    run_in_worker(w.sys, misuse_worker, &m);
    assert_false(m.apcs_after_bad_release);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 5);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 2);
    assert_int_equal(m.lock, 0);
    assert_int_equal(m.garbage, 0);
    assert_int_equal(m.held, 0);
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pushlock_readers_share_writer_excludes),
        cmocka_unit_test(pushlock_waiting_writer_holds_readers_back),
        cmocka_unit_test(pushlock_disables_normal_apcs_while_held),
        cmocka_unit_test(pushlock_contention_loses_nothing),
        cmocka_unit_test(pushlock_recursion_is_reported_not_hung),
        cmocka_unit_test(pushlock_shared_again_behind_a_writer_is_reported),
        cmocka_unit_test(pushlock_misuse_is_reported),
    };
    return FLTSIM_RUN_SUITE("pushlock", tests);
}
