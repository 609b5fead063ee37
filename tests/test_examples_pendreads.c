/*
 * PendReads, the example minifilter of scenarios/filters/ that pends reads
 * in its pre and completes them from a deferred work item, and in hold mode
 * (Parameters\HoldReads) keeps them until the complete_pended hook: loaded
 * from the catalog, driven through the test I/O API over memfs with
 * recording test filters around it (examples_fx.h). Each case ends with no
 * verifier report and no pool left under PendReads' tag after unload. The
 * other examples are test_examples.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <example_filters.h>

#include "examples_fx.h"
#include "fltsim_test.h"

#define PEND_TAG 'dRnP'

/* ---- PendReads ---- */

struct read_view {
    LONG pres;
    ULONG pre_thread; /* thread of the last pre */
};

static FLT_PREOP_CALLBACK_STATUS thread_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)data;
    (void)objects;
    (void)context;
    struct read_view *v = tf->user;
    __atomic_store_n(&v->pre_thread, fltsim_thread_id(), __ATOMIC_SEQ_CST);
    add(&v->pres);
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static struct fixture *pendreads_world(ULONG completion, struct read_view *up,
                                       struct read_view *low)
{
    struct fixture *f = fixture_new(completion, "PendReads");
    f->example = load_builtin(f->w.sys, "pendreads");
    load_neighbours(f, IRP_MJ_READ);
    f->upper.pre = f->lower.pre = thread_pre;
    f->upper.user = up;
    f->lower.user = low;
    return f;
}

/* SPEC 3.2, 5.1: the read is pended in pre, a deferred work item completes
 * it (WITH_CALLBACK), the rest of the stack runs on the worker's thread, the
 * post-read runs, and the caller gets the file's data. */
static void pendreads_reads_return_the_right_data(void **state)
{
    (void)state;
    struct read_view up = {0}, low = {0};
    struct fixture *f = pendreads_world(FLTSIM_COMPLETE_INLINE, &up, &low);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    LONG let_through = PendReadsLetThrough();
    char buf[16];
    IO_STATUS_BLOCK iosb;
    for (int i = 0; i < 3; i++) {
        memset(buf, 0, sizeof(buf));
        assert_status(read_at(f->w.sys, h, buf, 5, 6, 0, &iosb), STATUS_SUCCESS);
        assert_int_equal(iosb.Information, 5);
        assert_memory_equal(buf, "world", 5);
    }
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(get(&f->tally.pend), 3);
    assert_int_equal(get(&f->tally.resume), 3);
    assert_int_equal(get(&f->tally.queued), 3);
    assert_int_equal(get(&f->tally.post[IRP_MJ_READ]), 3);
    assert_int_equal(PendReadsCompleted(), 3);
    assert_int_equal(PendReadsLetThrough(), let_through);
    assert_int_equal(get(&up.pres), 3);
    assert_int_equal(get(&low.pres), 3);
    assert_int_equal(up.pre_thread, fltsim_thread_id());
    /* low's pre runs on the worker's thread, or on this one when the work
     * item completed the read before the pre returned FLT_PREOP_PENDING
     * (SPEC 3.2: processing goes on in the thread that pended it). Both are
     * what Windows does; which one happens is timing. */
    assert_int_equal(PendReadsHeld(), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    finish(f, PEND_TAG);
}

/* Overlapped reads on a volume that completes asynchronously: each one
 * pends, and each completes with its own data. */
static void pendreads_overlapped_reads_complete(void **state)
{
    (void)state;
    struct read_view up = {0}, low = {0};
    struct fixture *f = pendreads_world(FLTSIM_COMPLETE_ASYNC, &up, &low);
    HANDLE ah = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_READ);
    enum { N = 6 };
    KEVENT done[N];
    struct fltsim_io_async io[N];
    char buf[N][8];
    for (int i = 0; i < N; i++) {
        KeInitializeEvent(&done[i], NotificationEvent, FALSE);
        memset(&io[i], 0, sizeof(io[i]));
        io[i].event = &done[i];
        memset(buf[i], 0, sizeof(buf[i]));
        NTSTATUS st = fltsim_io_read_async(f->w.sys, ah, buf[i], 2, i, 0, &io[i]);
        assert_true(st == STATUS_PENDING || st == STATUS_SUCCESS);
    }
    for (int i = 0; i < N; i++) {
        assert_status(KeWaitForSingleObject(&done[i], Executive, KernelMode, FALSE, NULL),
                      STATUS_SUCCESS);
        assert_status(io[i].iosb.Status, STATUS_SUCCESS);
        assert_int_equal(io[i].iosb.Information, 2);
        assert_memory_equal(buf[i], &"hello world"[i], 2);
    }
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(get(&f->tally.pend), N);
    assert_int_equal(PendReadsCompleted(), N);
    assert_status(fltsim_io_close(f->w.sys, ah), STATUS_SUCCESS);
    finish(f, PEND_TAG);
}

/* SPEC 5.1, 6.6, 3.1: paging reads and reads on a thread with a top-level
 * IRP cannot be posted, and fast I/O cannot pend: each goes through
 * without pending, with the right data. */
static void pendreads_lets_through_what_it_cannot_post(void **state)
{
    (void)state;
    struct read_view up = {0}, low = {0};
    struct fixture *f = pendreads_world(FLTSIM_COMPLETE_INLINE, &up, &low);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    LONG let_through = PendReadsLetThrough();
    char buf[16];
    assert_status(read_at(f->w.sys, h, buf, 5, 0, FLTSIM_IO_PAGING | FLTSIM_IO_SYNC_PAGING, NULL),
                  STATUS_SUCCESS);
    assert_memory_equal(buf, "hello", 5);
    IoSetTopLevelIrp(FSRTL_CACHE_TOP_LEVEL_IRP);
    NTSTATUS st = read_at(f->w.sys, h, buf, 5, 6, 0, NULL);
    IoSetTopLevelIrp(NULL);
    assert_status(st, STATUS_SUCCESS);
    assert_memory_equal(buf, "world", 5);
    assert_status(read_at(f->w.sys, h, buf, 3, 2, FLTSIM_IO_FAST, NULL), STATUS_SUCCESS);
    assert_memory_equal(buf, "llo", 3);
    assert_int_equal(PendReadsLetThrough(), let_through + 3);
    assert_int_equal(get(&f->tally.pend), 0);
    assert_int_equal(get(&f->tally.queued), 0);
    assert_int_equal(low.pre_thread, fltsim_thread_id()); /* no worker involved */
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    finish(f, PEND_TAG);
}

/* SPEC 2.6, V26: unloading while reads are queued for the worker: teardown
 * waits in InstanceTeardownStart until the worker has completed them, so no
 * pended read is left when it returns, and each read still succeeds. */
static void pendreads_unload_waits_for_queued_reads(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(FLTSIM_COMPLETE_INLINE, "PendReads");
    f->example = load_builtin(f->w.sys, "pendreads");
    HANDLE ah = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_READ);
    enum { N = 4 };
    KEVENT done[N];
    struct fltsim_io_async io[N];
    char buf[N][8];
    for (int i = 0; i < N; i++) {
        KeInitializeEvent(&done[i], NotificationEvent, FALSE);
        memset(&io[i], 0, sizeof(io[i]));
        io[i].event = &done[i];
        NTSTATUS st = fltsim_io_read_async(f->w.sys, ah, buf[i], 3, i, 0, &io[i]);
        assert_true(st == STATUS_PENDING || st == STATUS_SUCCESS);
    }
    assert_status(fltsim_driver_unload(f->example, 0), STATUS_SUCCESS);
    f->example = NULL;
    assert_no_reports(f->w.sys); /* no V26 */
    for (int i = 0; i < N; i++) {
        assert_status(KeWaitForSingleObject(&done[i], Executive, KernelMode, FALSE, NULL),
                      STATUS_SUCCESS);
        assert_status(io[i].iosb.Status, STATUS_SUCCESS);
        assert_memory_equal(buf[i], &"hello world"[i], 3);
    }
    assert_status(fltsim_io_close(f->w.sys, ah), STATUS_SUCCESS);
    finish(f, PEND_TAG);
}

/* ---- PendReads hold mode (Parameters\HoldReads) ---- */

static struct fixture *hold_world(ULONG hold, struct read_view *up, struct read_view *low)
{
    struct fixture *f = fixture_new(FLTSIM_COMPLETE_INLINE, "PendReads");
    assert_status(fltsim_registry_set_dword(f->w.sys,
                                            FLTSIM_REGISTRY_SERVICES L"\\PendReads\\Parameters",
                                            L"HoldReads", hold),
                  STATUS_SUCCESS);
    f->example = load_builtin(f->w.sys, "pendreads");
    load_neighbours(f, IRP_MJ_READ);
    f->upper.pre = f->lower.pre = thread_pre;
    f->upper.user = up;
    f->lower.user = low;
    return f;
}

struct held_reads {
    KEVENT done[3];
    struct fltsim_io_async io[3];
    char buf[3][8];
};

/* Issues three overlapped reads of a.txt at offsets 0, 1, 2; each pends. */
static void issue_held(struct fixture *f, HANDLE ah, struct held_reads *r)
{
    for (int i = 0; i < 3; i++) {
        KeInitializeEvent(&r->done[i], NotificationEvent, FALSE);
        memset(&r->io[i], 0, sizeof(r->io[i]));
        r->io[i].event = &r->done[i];
        memset(r->buf[i], 0, sizeof(r->buf[i]));
        assert_status(fltsim_io_read_async(f->w.sys, ah, r->buf[i], 4, i, 0, &r->io[i]),
                      STATUS_PENDING);
    }
}

static void wait_held(struct held_reads *r)
{
    for (int i = 0; i < 3; i++) {
        assert_status(KeWaitForSingleObject(&r->done[i], Executive, KernelMode, FALSE, NULL),
                      STATUS_SUCCESS);
        assert_status(r->io[i].iosb.Status, STATUS_SUCCESS);
        assert_int_equal(r->io[i].iosb.Information, 4);
        assert_memory_equal(r->buf[i], &"hello world"[i], 4);
    }
}

/* Held reads go nowhere (nothing below sees them) until the complete_pended
 * hook hands them to the worker; then each completes with its data. */
static void pendreads_held_reads_complete_only_after_the_hook(void **state)
{
    (void)state;
    struct read_view up = {0}, low = {0};
    struct fixture *f = hold_world(1, &up, &low);
    PendReadsCompletePended(); /* nothing held: nothing happens */
    HANDLE ah = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_READ);
    struct held_reads r;
    issue_held(f, ah, &r);
    assert_int_equal(PendReadsHeld(), 3);
    assert_int_equal(get(&up.pres), 3);
    assert_int_equal(get(&low.pres), 0);
    assert_int_equal(get(&f->tally.pend), 3);
    assert_int_equal(get(&f->tally.queued_any), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(KeReadStateEvent(&r.done[i]), 0);

    /* A paging read is not held: it could not be posted. */
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[8];
    LONG let_through = PendReadsLetThrough();
    assert_status(read_at(f->w.sys, h, buf, 5, 6, FLTSIM_IO_PAGING | FLTSIM_IO_SYNC_PAGING, NULL),
                  STATUS_SUCCESS);
    assert_memory_equal(buf, "world", 5);
    assert_int_equal(PendReadsLetThrough(), let_through + 1);
    assert_int_equal(PendReadsHeld(), 3);

    PendReadsCompletePended();
    wait_held(&r);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(PendReadsHeld(), 0);
    assert_int_equal(get(&low.pres), 4);
    assert_int_equal(get(&f->tally.queued_any), 3); /* by the hook, outside callbacks */
    assert_int_equal(get(&f->tally.resume), 3);
    assert_int_equal(PendReadsCompleted(), 3);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, ah), STATUS_SUCCESS);
    finish(f, PEND_TAG);
}

/* SPEC 2.6, V26: unloading with reads held: InstanceTeardownStart completes
 * them (they go on down, unpended), so no report, and each read succeeds. */
static void pendreads_teardown_completes_held_reads(void **state)
{
    (void)state;
    struct read_view up = {0}, low = {0};
    struct fixture *f = hold_world(1, &up, &low);
    HANDLE ah = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_READ);
    struct held_reads r;
    issue_held(f, ah, &r);
    assert_int_equal(PendReadsHeld(), 3);
    assert_int_equal(tag_outstanding(PEND_TAG), 3);
    assert_status(fltsim_driver_unload(f->example, 0), STATUS_SUCCESS);
    f->example = NULL;
    assert_no_reports(f->w.sys);
    wait_held(&r);
    assert_int_equal(get(&low.pres), 3);
    assert_int_equal(get(&f->tally.resume), 3);
    assert_int_equal(tag_outstanding(PEND_TAG), 0);
    assert_status(fltsim_io_close(f->w.sys, ah), STATUS_SUCCESS);
    finish(f, PEND_TAG);
}

/* HoldReads = 0 is the same as no value: reads are not held. */
static void pendreads_hold_reads_zero_does_not_hold(void **state)
{
    (void)state;
    struct read_view up = {0}, low = {0};
    struct fixture *f = hold_world(0, &up, &low);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[8];
    assert_status(read_at(f->w.sys, h, buf, 5, 0, 0, NULL), STATUS_SUCCESS);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(PendReadsHeld(), 0);
    assert_int_equal(get(&f->tally.queued), 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    finish(f, PEND_TAG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pendreads_reads_return_the_right_data),
        cmocka_unit_test(pendreads_overlapped_reads_complete),
        cmocka_unit_test(pendreads_lets_through_what_it_cannot_post),
        cmocka_unit_test(pendreads_unload_waits_for_queued_reads),
        cmocka_unit_test(pendreads_held_reads_complete_only_after_the_hook),
        cmocka_unit_test(pendreads_teardown_completes_held_reads),
        cmocka_unit_test(pendreads_hold_reads_zero_does_not_hold),
    };
    return FLTSIM_RUN_SUITE("examples pendreads", tests);
}
