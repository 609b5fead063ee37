/*
 * The documented post-pending pattern end to end (SPEC 5.1, 4.2, 4.4, 6.6),
 * with the example filter ReadQuota (scenarios/filters/read_quota.c) over a
 * volume whose file system completes asynchronously, so post-reads run at
 * DISPATCH_LEVEL: the post queues a deferred I/O work item and returns
 * MORE_PROCESSING_REQUIRED; the routine accounts at PASSIVE_LEVEL, fails the
 * read that goes over quota, resumes completion and frees the item. Where the
 * item could not be queued (paging I/O, a top-level IRP) the pre synchronizes
 * instead; while draining, the post only cleans up. A test filter U above
 * ReadQuota sees every status it produced; L below it can hold reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <example_filters.h>

#include "fltsim_test.h"

#define FLTMGR_WORK_ITEM_TAG 'iwMF'

struct counts {
    LONG queued, pended_post, resumed_post;
};

static void count_quota_events(void *ctx, const struct fltsim_event *ev)
{
    struct counts *c = ctx;
    if (ev->filter == NULL || strcmp(ev->filter, "ReadQuota") != 0)
        return;
    if (ev->type == FLTSIM_EV_WORK_QUEUED && ev->status == STATUS_SUCCESS)
        c->queued++;
    else if (ev->type == FLTSIM_EV_PEND && ev->flags == 1)
        c->pended_post++;
    else if (ev->type == FLTSIM_EV_RESUME && ev->flags == 1)
        c->resumed_post++;
}

struct seen {
    NTSTATUS last_post_status;
    LONG posts;
    PFLT_CALLBACK_DATA held;
    bool hold;
};

static FLT_PREOP_CALLBACK_STATUS watch_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                           PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct seen *s = tf->user;
    if (s == NULL || data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    if (s->hold) {
        s->held = data;
        return FLT_PREOP_PENDING;
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS watch_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                             PCFLT_RELATED_OBJECTS objects, PVOID context,
                                             FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    (void)flags;
    struct seen *s = tf->user;
    if (s != NULL) {
        s->last_post_status = data->IoStatus.Status;
        s->posts++;
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

struct fixture {
    struct test_world w;
    fltsim_driver *quota;
    struct tf_filter upper, lower;
    struct seen su, sl;
    struct counts counts;
    HANDLE h;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create_ex(&f->w, 0, FLTSIM_COMPLETE_ASYNC);
    static const struct fltsim_instance_def instances[] = {{L"ReadQuota Instance", L"260000", 0}};
    static const struct fltsim_filter_def def = {L"ReadQuota", L"ReadQuota Instance", instances, 1};
    assert_status(fltsim_driver_load(f->w.sys, &def, ReadQuotaDriverEntry, &f->quota),
                  STATUS_SUCCESS);
    tf_init(&f->upper, "U", "300000");
    tf_init(&f->lower, "L", "100000");
    f->upper.pre = f->lower.pre = watch_pre;
    f->upper.post = f->lower.post = watch_post;
    assert_status(tf_load(f->w.sys, &f->upper), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->lower), STATUS_SUCCESS);
    f->h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    f->upper.user = &f->su;
    f->lower.user = &f->sl;
    fltsim_system_set_trace(f->w.sys, count_quota_events, &f->counts);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->h != NULL)
        assert_status(fltsim_io_close(f->w.sys, f->h), STATUS_SUCCESS);
    world_destroy(&f->w);
    free(f);
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(FLTMGR_WORK_ITEM_TAG, &st);
    assert_int_equal(st.outstanding, 0);
    return 0;
}

/* Reads all of a.txt (11 bytes) with flags; returns the status. */
static NTSTATUS read_all(struct fixture *f, ULONG flags)
{
    char buf[16];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    return fltsim_io_read(f->w.sys, f->h, buf, 11, &zero, flags, &iosb);
}

/* SPEC 5.1: post -> deferred item -> MORE_PROCESSING_REQUIRED -> routine
 * completes and frees; the sixth read (66 bytes > 64) fails, and the filter
 * above sees the failure the routine set (SPEC 4.1). */
static void pattern_post_defers_to_a_work_item(void **state)
{
    struct fixture *f = *state;
    LONG before = ReadQuotaUnaccounted();
    for (int i = 0; i < 5; i++) {
        assert_status(read_all(f, 0), STATUS_SUCCESS);
        assert_status(f->su.last_post_status, STATUS_SUCCESS);
    }
    assert_status(read_all(f, 0), STATUS_QUOTA_EXCEEDED);
    assert_status(f->su.last_post_status, STATUS_QUOTA_EXCEEDED);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(f->counts.queued, 6);
    assert_int_equal(f->counts.pended_post, 6);
    assert_int_equal(f->counts.resumed_post, 6);
    assert_int_equal(ReadQuotaUnaccounted(), before);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 5.1, 3.2: synchronous paging reads cannot be posted, so the pre
 * synchronizes them and the post accounts at PASSIVE_LEVEL on the
 * requestor's thread; an asynchronous paging read can be neither posted nor
 * synchronized, and goes unaccounted. */
static void pattern_paging_io_synchronizes_instead(void **state)
{
    struct fixture *f = *state;
    LONG before = ReadQuotaUnaccounted();
    for (int i = 0; i < 5; i++)
        assert_status(read_all(f, FLTSIM_IO_PAGING | FLTSIM_IO_SYNC_PAGING), STATUS_SUCCESS);
    assert_status(read_all(f, FLTSIM_IO_PAGING | FLTSIM_IO_SYNC_PAGING), STATUS_QUOTA_EXCEEDED);
    assert_int_equal(f->counts.queued, 0);
    assert_int_equal(f->counts.pended_post, 0);
    assert_int_equal(ReadQuotaUnaccounted(), before);

    assert_status(read_all(f, FLTSIM_IO_PAGING), STATUS_SUCCESS); /* unaccounted */
    assert_int_equal(ReadQuotaUnaccounted(), before + 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0); /* no V7 */
}

/* SPEC 6.6: on a thread with a top-level IRP the pre synchronizes too. */
static void pattern_top_level_irp_synchronizes_instead(void **state)
{
    struct fixture *f = *state;
    IoSetTopLevelIrp(FSRTL_CACHE_TOP_LEVEL_IRP);
    NTSTATUS last = STATUS_SUCCESS;
    for (int i = 0; i < 6; i++)
        last = read_all(f, 0);
    IoSetTopLevelIrp(NULL);
    assert_status(last, STATUS_QUOTA_EXCEEDED);
    assert_int_equal(f->counts.queued, 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 4.4: while ReadQuota is detached with a read held below it, its
 * post is drained: it only cleans up, queues nothing, and the read later
 * completes normally. */
static void pattern_draining_only_cleans_up(void **state)
{
    struct fixture *f = *state;
    f->sl.hold = true;
    HANDLE ah = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_READ);
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    char buf[16];
    struct fltsim_io_async io = {.event = &done};
    assert_status(fltsim_io_read_async(f->w.sys, ah, buf, 11, 0, 0, &io), STATUS_PENDING);
    assert_non_null(f->sl.held);
    assert_status(FltDetachVolume(fltsim_driver_filter(f->quota), f->w.volume, NULL),
                  STATUS_SUCCESS);
    FltCompletePendedPreOperation(f->sl.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_status(io.iosb.Status, STATUS_SUCCESS);
    assert_int_equal(io.iosb.Information, 11);
    assert_int_equal(f->counts.queued, 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, ah), STATUS_SUCCESS);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(pattern_post_defers_to_a_work_item),
        CASE(pattern_paging_io_synchronizes_instead),
        CASE(pattern_top_level_irp_synchronizes_instead),
        CASE(pattern_draining_only_cleans_up),
    };
    return FLTSIM_RUN_SUITE("pattern", tests);
}
