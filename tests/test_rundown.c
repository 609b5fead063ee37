/*
 * Run-down protection (nt/rundown.c): EX_RUNDOWN_REF in the WDK's encoding,
 * Acquire/Release (and the Ex forms with a count), a run-down that refuses
 * new references and waits, parked through the executor, until the last one
 * is released, ExRundownCompleted and ExReInitializeRundownProtection, and
 * misuse (releases nobody acquired, out-of-order calls, a wait above
 * APC_LEVEL) reported from filter code. Threads run under both executors.
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define ACTIVE 1 /* EX_RUNDOWN_ACTIVE */

static void references_count_in_the_wdk_encoding(void **state)
{
    (void)state;
    EX_RUNDOWN_REF r;
    memset(&r, 0xCD, sizeof(r));
    ExInitializeRundownProtection(&r);
    assert_int_equal(r.Count, 0);
    assert_true(ExAcquireRundownProtection(&r));
    assert_int_equal(r.Count, 2);
    assert_true(ExAcquireRundownProtectionEx(&r, 3));
    assert_int_equal(r.Count, 8);
    ExReleaseRundownProtectionEx(&r, 3);
    assert_int_equal(r.Count, 2);
    ExReleaseRundownProtection(&r);
    assert_int_equal(r.Count, 0);
}

/* With nothing held the run-down completes at once; after it acquisitions
 * fail, another wait returns at once, and ReInitialize starts over. */
static void rundown_without_references_completes_at_once(void **state)
{
    (void)state;
    EX_RUNDOWN_REF r;
    ExInitializeRundownProtection(&r);
    ExWaitForRundownProtectionRelease(&r);
    assert_int_equal(r.Count, ACTIVE);
    assert_false(ExAcquireRundownProtection(&r));
    assert_false(ExAcquireRundownProtectionEx(&r, 2));
    ExWaitForRundownProtectionRelease(&r); /* already run down: allowed */
    ExRundownCompleted(&r);
    assert_int_equal(r.Count, ACTIVE);
    ExReInitializeRundownProtection(&r);
    assert_int_equal(r.Count, 0);
    assert_true(ExAcquireRundownProtection(&r));
    ExReleaseRundownProtection(&r);
}

struct waiter {
    EX_RUNDOWN_REF *ref;
    LONG *released; /* releases made so far */
    LONG released_at_return;
    LONG done;
};

static void waiter_thread(void *arg)
{
    struct waiter *w = arg;
    ExWaitForRundownProtectionRelease(w->ref);
    w->released_at_return = __atomic_load_n(w->released, __ATOMIC_SEQ_CST);
    __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
}

/* The wait parks its thread until the last reference goes; meanwhile new
 * acquisitions fail. */
static void wait_blocks_until_the_last_release(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    EX_RUNDOWN_REF r;
    LONG released = 0;
    ExInitializeRundownProtection(&r);
    assert_true(ExAcquireRundownProtectionEx(&r, 2));
    struct waiter wt = {&r, &released, -1, 0};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(w.sys, 1000, 4001, waiter_thread, &wt, &t), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 100), STATUS_TIMEOUT);
    assert_int_equal(__atomic_load_n(&wt.done, __ATOMIC_SEQ_CST), 0);
    assert_false(ExAcquireRundownProtection(&r));

    __atomic_add_fetch(&released, 1, __ATOMIC_SEQ_CST);
    ExReleaseRundownProtection(&r);
    assert_status(fltsim_system_wait_idle(w.sys, 100), STATUS_TIMEOUT);
    assert_int_equal(__atomic_load_n(&wt.done, __ATOMIC_SEQ_CST), 0);

    __atomic_add_fetch(&released, 1, __ATOMIC_SEQ_CST);
    ExReleaseRundownProtection(&r);
    fltsim_thread_join(t);
    assert_int_equal(wt.done, 1);
    assert_int_equal(wt.released_at_return, 2);
    assert_int_equal(r.Count, ACTIVE);
    world_destroy(&w);
}

struct releaser {
    EX_RUNDOWN_REF *ref;
    LONG *released;
    int count;
};

static void releaser_thread(void *arg)
{
    struct releaser *rl = arg;
    LARGE_INTEGER tick = {.QuadPart = -10}; /* 1 us */
    for (int i = 0; i < rl->count; i++) {
        KeDelayExecutionThread(KernelMode, FALSE, &tick);
        __atomic_add_fetch(rl->released, 1, __ATOMIC_SEQ_CST);
        ExReleaseRundownProtection(rl->ref);
    }
}

/* Releases racing a run-down on several threads: the waiter wakes once,
 * after the last of them, every round. */
static void racing_releases_wake_the_waiter_after_the_last(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    EX_RUNDOWN_REF r;
    ExInitializeRundownProtection(&r);
    for (int round = 0; round < 20; round++) {
        LONG released = 0;
        assert_true(ExAcquireRundownProtectionEx(&r, 4 * 5));
        struct releaser rl = {&r, &released, 5};
        struct waiter wt = {&r, &released, -1, 0};
        fltsim_thread *t[5];
        for (int i = 0; i < 4; i++)
            assert_status(
                fltsim_thread_spawn(w.sys, 1000, 4001 + (ULONG)i, releaser_thread, &rl, &t[i]),
                STATUS_SUCCESS);
        assert_status(fltsim_thread_spawn(w.sys, 1000, 4010, waiter_thread, &wt, &t[4]),
                      STATUS_SUCCESS);
        for (int i = 0; i < 5; i++)
            fltsim_thread_join(t[i]);
        assert_int_equal(wt.done, 1);
        assert_int_equal(wt.released_at_return, 20);
        assert_int_equal(r.Count, ACTIVE);
        ExRundownCompleted(&r);
        ExReInitializeRundownProtection(&r);
    }
    world_destroy(&w);
}

/* A second run-down while one waits: Windows would overwrite the first wait
 * block; fltsim makes the second wait for the first to complete. */
static void second_waiter_waits_for_the_first(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    EX_RUNDOWN_REF r;
    LONG released = 0;
    ExInitializeRundownProtection(&r);
    assert_true(ExAcquireRundownProtection(&r));
    struct waiter w1 = {&r, &released, -1, 0}, w2 = {&r, &released, -1, 0};
    fltsim_thread *t1, *t2;
    assert_status(fltsim_thread_spawn(w.sys, 1000, 4001, waiter_thread, &w1, &t1), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 50), STATUS_TIMEOUT);
    assert_status(fltsim_thread_spawn(w.sys, 1000, 4002, waiter_thread, &w2, &t2), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 50), STATUS_TIMEOUT);
    assert_int_equal(__atomic_load_n(&w1.done, __ATOMIC_SEQ_CST), 0);
    assert_int_equal(__atomic_load_n(&w2.done, __ATOMIC_SEQ_CST), 0);
    __atomic_add_fetch(&released, 1, __ATOMIC_SEQ_CST);
    ExReleaseRundownProtection(&r);
    fltsim_thread_join(t1);
    fltsim_thread_join(t2);
    assert_int_equal(w1.released_at_return, 1);
    assert_int_equal(w2.released_at_return, 1);
    assert_int_equal(r.Count, ACTIVE);
    world_destroy(&w);
}

/* ---- misuse from filter code ---- */

static ULONG_PTR seen[8];

static FLT_PREOP_CALLBACK_STATUS misuse_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)data;
    (void)objects;
    *context = NULL;
    EX_RUNDOWN_REF r;
    ExInitializeRundownProtection(&r);
    ExReleaseRundownProtection(&r); /* 1: nothing held */
    seen[0] = r.Count;
    ExAcquireRundownProtectionEx(&r, 2);
    ExReleaseRundownProtectionEx(&r, 5); /* 2: more than held */
    seen[1] = r.Count;
    ExRundownCompleted(&r); /* 3: no run-down before */
    seen[2] = r.Count;
    ExReleaseRundownProtection(&r); /* 4: after the run-down */
    ExReInitializeRundownProtection(&r);
    ExAcquireRundownProtection(&r);
    ExReInitializeRundownProtection(&r); /* 5: not run down */
    seen[3] = r.Count;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ExWaitForRundownProtectionRelease(&r); /* V28 */
    KeLowerIrql(old);
    seen[4] = r.Count;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void misuse_is_reported_with_a_defined_outcome(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    tf_reset_all();
    world_create(&w, 0);
    tf_init(&a, "A", "300000");
    tf_only(&a, IRP_MJ_CREATE);
    a.pre = misuse_pre;
    assert_status(tf_load(w.sys, &a), STATUS_SUCCESS);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_int_equal(seen[0], 0);
    assert_int_equal(seen[1], 0);
    assert_int_equal(seen[2], ACTIVE);
    assert_int_equal(seen[3], 0);
    assert_int_equal(seen[4], ACTIVE);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 5);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 1);
    const char *expect[] = {"when 0 are held", "of 5 reference(s) when 2 are held",
                            "ExRundownCompleted on an EX_RUNDOWN_REF that was not run down",
                            "after the run-down completed", "that was not run down (1 reference"};
    for (ULONG i = 0; i < 5; i++) {
        struct fltsim_report rep;
        assert_status(fltsim_system_report_get(w.sys, i, &rep), STATUS_SUCCESS);
        if (strstr(rep.message, expect[i]) == NULL)
            fail_msg("report %lu \"%s\" lacks \"%s\"", (unsigned long)i, rep.message, expect[i]);
    }
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(references_count_in_the_wdk_encoding),
        cmocka_unit_test(rundown_without_references_completes_at_once),
        cmocka_unit_test(wait_blocks_until_the_last_release),
        cmocka_unit_test(racing_releases_wake_the_waiter_after_the_last),
        cmocka_unit_test(second_waiter_waits_for_the_first),
        cmocka_unit_test(misuse_is_reported_with_a_defined_outcome),
    };
    return FLTSIM_RUN_SUITE("rundown", tests);
}
