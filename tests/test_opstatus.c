/*
 * FltRequestOperationStatusCallback (SPEC 6.7, issue 15 item 4), when and
 * with what status the routine runs: on the thread that sent the IRP, once
 * IoCallDriver would have returned there, with the status it returned, the
 * context, the requesting instance's objects and the parameters as they were
 * at the call. STATUS_PENDING (an IRP the file system holds or completes
 * later) returns at once: the routine runs before the posts. An IRP the file
 * system completed in its dispatch routine completed inside IoCallDriver:
 * the sending thread's posts (a create's, a synchronized one) come first, and
 * the routine runs when they are over or left the thread (a post pended, or
 * is due on another thread); the operation completes after it (io_complete
 * follows status_callback). Tested under both executors with oplock FSCTLs,
 * as passThrough asks, and reads and creates through each path of the post
 * phase, each routine traced as a status_callback event. The rules (refused
 * calls, teardown, exceptions) are test_opstatus_rules.c; the fixture both
 * share is opstatus_fx.h.
 */
#include <string.h>

#include "opstatus_fx.h"

/* Loads a second asking filter, B, below A. */
static void load_b(struct test_world *w)
{
    tf_init(&filter_b, "B", "200000");
    filter_b.pre = asking_pre;
    filter_b.post = asking_post;
    assert_status(tf_load(w->sys, &filter_b), STATUS_SUCCESS);
}

static NTSTATUS fsctl(struct test_world *w, HANDLE h, ULONG code, IO_STATUS_BLOCK *iosb)
{
    return fltsim_io_fs_control(w->sys, h, code, NULL, 0, NULL, 0, iosb);
}

/* ---- the routine's call ---- */

/* A granted oplock: the file system holds the IRP, so IoCallDriver returns
 * STATUS_PENDING and the routine learns that before the operation
 * completes (the break), on the requestor's thread at PASSIVE_LEVEL, with
 * the context, the requesting instance's objects and the request. */
static void granted_oplock_reports_pending_before_completion(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_INLINE, ASK_IN_PRE, IRP_MJ_FILE_SYSTEM_CONTROL);
    IO_STATUS_BLOCK iosb;
    assert_status(fsctl(&w, h, FSCTL_REQUEST_OPLOCK_LEVEL_1, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, BROKEN_TO_NONE);
    assert_status(fx.request_status, STATUS_SUCCESS);
    assert_recorded("A:pre:FILE_SYSTEM_CONTROL trace:status:A A:status:begin A:status:end "
                    "A:post:FILE_SYSTEM_CONTROL trace:complete");
    const struct status_seen *s = &fx.seen;
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_PENDING, fltsim_thread_id());
    assert_int_equal(s->calls, 1);
    assert_status(s->status, STATUS_PENDING);
    assert_ptr_equal(s->context, (PVOID)context_counter);
    assert_int_equal(s->thread, fltsim_thread_id());
    assert_int_equal(s->irql, PASSIVE_LEVEL);
    assert_int_equal(s->major, IRP_MJ_FILE_SYSTEM_CONTROL);
    assert_int_equal(s->minor, IRP_MN_USER_FS_REQUEST);
    assert_int_equal(s->fsctl, FSCTL_REQUEST_OPLOCK_LEVEL_1);
    assert_ptr_equal(s->filter, filter_a.filter);
    assert_ptr_equal(s->instance, filter_a.last_instance);
    assert_ptr_equal(s->file_object, fltsim_io_file_object(w.sys, h));
    finish(&w, h, 0);
}

/* A refused oplock: the file system failed the IRP in its dispatch routine,
 * so it completed inside IoCallDriver, post included; the routine then gets
 * the failure IoCallDriver returned, before the operation completes. */
static void refused_oplock_reports_the_failure(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_INLINE, ASK_IN_PRE, IRP_MJ_FILE_SYSTEM_CONTROL);
    IO_STATUS_BLOCK iosb;
    assert_status(fsctl(&w, h, FSCTL_REQUEST_OPLOCK_LEVEL_2, &iosb), STATUS_OPLOCK_NOT_GRANTED);
    assert_recorded("A:pre:FILE_SYSTEM_CONTROL A:post:FILE_SYSTEM_CONTROL trace:status:A "
                    "A:status:begin A:status:end trace:complete");
    assert_int_equal(fx.seen.calls, 1);
    assert_status(fx.seen.status, STATUS_OPLOCK_NOT_GRANTED);
    assert_int_equal(fx.seen.fsctl, FSCTL_REQUEST_OPLOCK_LEVEL_2);
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_OPLOCK_NOT_GRANTED, fltsim_thread_id());
    /* An FSCTL the filter does not ask about gets no routine, and no event. */
    assert_status(fsctl(&w, h, FSCTL_IS_VOLUME_MOUNTED, &iosb), STATUS_SUCCESS);
    assert_int_equal(fx.seen.calls, 1);
    assert_int_equal(traced.count, 1);
    finish(&w, h, -1);
}

/* A file system that answers synchronously: the post runs first (here a
 * synchronized one, on its pre's thread, which sent the IRP), then the
 * routine gets the status (STATUS_SUCCESS), and the parameters as they were
 * when the pre asked (the pre changed Read.Length afterwards), before the
 * operation completes. */
static void synchronous_answer_is_reported_with_the_snapshot(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_INLINE, ASK_IN_PRE, IRP_MJ_READ);
    fx.changed_length = 3;
    fx.a_synchronizes = true;
    assert_status(read5(&w, h), STATUS_SUCCESS);
    assert_recorded("A:pre:READ A:post:READ trace:status:A A:status:begin A:status:end "
                    "trace:complete");
    assert_status(fx.seen.status, STATUS_SUCCESS);
    assert_int_equal(fx.seen.read_length, 5);
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_SUCCESS, fltsim_thread_id());
    assert_int_equal(fx.seen.thread, fltsim_thread_id());
    assert_int_equal(fx.post_thread[0], fltsim_thread_id());
    finish(&w, h, 0);
}

/* An asynchronously completing volume: IoCallDriver returned STATUS_PENDING
 * (the file system completes on its completion context), and the routine
 * runs on the requestor before the posts run at DISPATCH_LEVEL. */
static void asynchronous_volume_reports_pending(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_ASYNC, ASK_IN_PRE, IRP_MJ_READ);
    assert_status(read5(&w, h), STATUS_SUCCESS);
    assert_recorded("A:pre:READ trace:status:A A:status:begin A:status:end A:post:READ "
                    "trace:complete");
    assert_status(fx.seen.status, STATUS_PENDING);
    assert_int_equal(fx.seen.thread, fltsim_thread_id());
    assert_int_equal(fx.seen.irql, PASSIVE_LEVEL);
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_PENDING, fltsim_thread_id());
    finish(&w, h, -1);
}

/* The same from within the dispatch routine of an FSCTL: the synchronous
 * requestor returns after the routine, with the status the completion set. */
static void fsctl_completed_in_dispatch_reports_pending(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_INLINE, ASK_IN_PRE, IRP_MJ_FILE_SYSTEM_CONTROL);
    IO_STATUS_BLOCK iosb;
    assert_status(fsctl(&w, h, FSCTL_REQUEST_BATCH_OPLOCK, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, BROKEN_TO_NONE);
    assert_status(fx.seen.status, STATUS_PENDING);
    assert_int_equal(fx.seen.fsctl, FSCTL_REQUEST_BATCH_OPLOCK);
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_PENDING, fltsim_thread_id());
    finish(&w, h, -1);
}

struct resume {
    PFLT_CALLBACK_DATA data;
    ULONG thread;
};

static void resume_work(void *ctx)
{
    struct resume *r = ctx;
    r->thread = fltsim_thread_id();
    FltCompletePendedPreOperation(r->data, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
}

/* A pre pended, then resumed by a work item: the work item's thread sends
 * the IRP, and the routine runs there. */
static void pended_pre_reports_on_the_resuming_thread(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_INLINE, ASK_THEN_PEND, IRP_MJ_READ);
    char buf[8] = {0};
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    HANDLE oh = open_overlapped(w.sys, L"C:\\a.txt", GENERIC_READ);
    struct fltsim_io_async io = {.event = &done};
    assert_status(fltsim_io_read_async(w.sys, oh, buf, 5, 0, 0, &io), STATUS_PENDING);
    assert_non_null(fx.held);
    assert_int_equal(fx.seen.calls, 0); /* not sent yet */
    assert_int_equal(traced.count, 0);
    struct resume r = {fx.held, 0};
    assert_status(fltsim_system_post_work(w.sys, resume_work, &r), STATUS_SUCCESS);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 0), STATUS_SUCCESS);
    assert_status(io.iosb.Status, STATUS_SUCCESS);
    assert_int_equal(fx.seen.calls, 1);
    assert_status(fx.seen.status, STATUS_SUCCESS);
    assert_int_equal(fx.seen.thread, r.thread);
    assert_int_not_equal(fx.seen.thread, fltsim_thread_id());
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_SUCCESS, r.thread);
    assert_status(fltsim_io_close(w.sys, oh), STATUS_SUCCESS);
    finish(&w, h, -1);
}

/* The file system completes the IRP while the routine still runs (it
 * completed it before returning STATUS_PENDING), on a thread that is not the
 * requestor's (a work item resumed the pended pre of an overlapped read):
 * the completion may run the posts meanwhile, but the request completes to
 * its requestor only once the routine returned, as Windows keeps the file
 * object referenced for it. */
static void completion_waits_for_a_running_routine(void **state)
{
    (void)state;
    struct test_world w;
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    reads_complete_in_dispatch = true;
    HANDLE h = open_overlapped(w.sys, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_THEN_PEND, IRP_MJ_READ);
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    fx.delay_in_routine = true;
    fx.request_done = &done;
    char buf[8] = {0};
    struct fltsim_io_async io = {.event = &done};
    assert_status(fltsim_io_read_async(w.sys, h, buf, 5, 0, 0, &io), STATUS_PENDING);
    struct resume r = {fx.held, 0};
    assert_status(fltsim_system_post_work(w.sys, resume_work, &r), STATUS_SUCCESS);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 0), STATUS_SUCCESS);
    assert_status(io.iosb.Status, STATUS_SUCCESS);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(fx.seen.calls, 1);
    assert_status(fx.seen.status, STATUS_PENDING);
    assert_int_equal(fx.seen.thread, r.thread);
    assert_int_equal(fx.seen.done_at_end, 0);
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_PENDING, r.thread);
    assert_non_null(strstr(rec_text(), "A:post:READ"));
    finish(&w, h, 0);
}

/* Two filters ask for the status of one IRP the file system answers in its
 * dispatch routine: both posts run, then each routine, in the order asked
 * (the upper pre asks first), each traced just before it runs with its own
 * instance and depth and the one status IoCallDriver returned. */
static void each_requesting_instance_gets_its_routine_and_event(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_INLINE, ASK_IN_PRE, IRP_MJ_FILE_SYSTEM_CONTROL);
    load_b(&w);
    rec_reset();
    IO_STATUS_BLOCK iosb;
    assert_status(fsctl(&w, h, FSCTL_REQUEST_OPLOCK_LEVEL_2, &iosb), STATUS_OPLOCK_NOT_GRANTED);
    assert_recorded("A:pre:FILE_SYSTEM_CONTROL B:pre:FILE_SYSTEM_CONTROL "
                    "B:post:FILE_SYSTEM_CONTROL A:post:FILE_SYSTEM_CONTROL trace:status:A "
                    "A:status:begin A:status:end trace:status:B B:status:begin B:status:end "
                    "trace:complete");
    assert_int_equal(fx.seen.calls, 2);
    assert_int_equal(traced.count, 2);
    assert_traced(0, "A", "300000", 0, STATUS_OPLOCK_NOT_GRANTED, fltsim_thread_id());
    assert_traced(1, "B", "200000", 1, STATUS_OPLOCK_NOT_GRANTED, fltsim_thread_id());
    finish(&w, h, 0);
}

/* ---- where the routine comes among the posts ---- */

/* A create the file system answers in its dispatch routine: its post runs
 * on the thread that issued it, which sent the IRP; the routine follows it
 * there, with the status, and the create then completes. */
static void create_post_comes_before_the_routine(void **state)
{
    (void)state;
    struct test_world w;
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    HANDLE first = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_IN_PRE, IRP_MJ_CREATE);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    assert_recorded("A:pre:CREATE A:post:CREATE trace:status:A A:status:begin A:status:end "
                    "trace:complete");
    assert_int_equal(fx.seen.calls, 1);
    assert_status(fx.seen.status, STATUS_SUCCESS);
    assert_int_equal(fx.seen.thread, fltsim_thread_id());
    assert_int_equal(fx.post_thread[0], fltsim_thread_id());
    assert_int_equal(fx.seen.major, IRP_MJ_CREATE);
    assert_ptr_equal(fx.seen.file_object, fltsim_io_file_object(w.sys, h));
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_SUCCESS, fltsim_thread_id());
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(w.sys, first), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
    assert_no_request_left();
}

/* The lower filter pends its pre and a work item resumes it, so the work
 * item's thread sends the IRP and runs the lower post; the upper filter
 * synchronized, so its post is handed back to its pre's thread (the
 * requestor's). The routine runs on the sending thread once the post phase
 * left it, and the operation completes only after the routine returned. */
static void post_handed_to_another_thread_leaves_the_routine_to_the_sender(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_INLINE, ASK_THEN_PEND, IRP_MJ_READ);
    load_b(&w);
    fx.asker = &filter_b;
    fx.a_synchronizes = true;
    fx.resume_in_work = true;
    fx.delay_in_routine = true;
    rec_reset();
    assert_status(read5(&w, h), STATUS_SUCCESS);
    assert_int_equal(fx.seen.calls, 1);
    assert_status(fx.seen.status, STATUS_SUCCESS);
    assert_int_not_equal(fx.work_thread, 0);
    assert_int_not_equal(fx.work_thread, fltsim_thread_id());
    assert_int_equal(fx.seen.thread, fx.work_thread);
    assert_int_equal(fx.seen.irql, PASSIVE_LEVEL);
    assert_int_equal(fx.post_thread[1], fx.work_thread);
    assert_int_equal(fx.post_thread[0], fltsim_thread_id());
    assert_in_order("A:pre:READ", "B:pre:READ", "B:post:READ", "trace:status:B", "B:status:begin",
                    "B:status:end", "trace:complete", NULL);
    assert_in_order("B:post:READ", "A:post:READ", "trace:complete", NULL);
    assert_int_equal(traced.count, 1);
    assert_traced(0, "B", "200000", 1, STATUS_SUCCESS, fx.work_thread);
    finish(&w, h, 0);
}

/* A post that pends the operation (FLT_POSTOP_MORE_PROCESSING_REQUIRED, a
 * work item completes it): the routine runs on the sending thread once the
 * post returned, and the completion, which the work item may reach
 * meanwhile, waits for it: the requestor learns of it after the routine. */
static void pended_post_is_followed_by_the_routine(void **state)
{
    (void)state;
    struct test_world w;
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    HANDLE h = open_overlapped(w.sys, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_IN_PRE, IRP_MJ_READ);
    fx.pend_post = true;
    fx.delay_in_routine = true;
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    fx.request_done = &done;
    char buf[8] = {0};
    struct fltsim_io_async io = {.event = &done};
    NTSTATUS issued = fltsim_io_read_async(w.sys, h, buf, 5, 0, 0, &io);
    assert_true(issued == STATUS_PENDING || issued == STATUS_SUCCESS);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 0), STATUS_SUCCESS);
    assert_status(io.iosb.Status, STATUS_SUCCESS);
    assert_memory_equal(buf, "hello", 5);
    assert_recorded("A:pre:READ A:post:READ trace:status:A A:status:begin A:status:end "
                    "trace:complete");
    assert_int_equal(fx.seen.calls, 1);
    assert_status(fx.seen.status, STATUS_SUCCESS);
    assert_int_equal(fx.seen.thread, fltsim_thread_id());
    assert_int_equal(fx.seen.done_at_end, 0);
    assert_int_not_equal(fx.work_thread, 0);
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_SUCCESS, fltsim_thread_id());
    finish(&w, h, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(granted_oplock_reports_pending_before_completion),
        cmocka_unit_test(refused_oplock_reports_the_failure),
        cmocka_unit_test(synchronous_answer_is_reported_with_the_snapshot),
        cmocka_unit_test(asynchronous_volume_reports_pending),
        cmocka_unit_test(completion_waits_for_a_running_routine),
        cmocka_unit_test(fsctl_completed_in_dispatch_reports_pending),
        cmocka_unit_test(pended_pre_reports_on_the_resuming_thread),
        cmocka_unit_test(each_requesting_instance_gets_its_routine_and_event),
        cmocka_unit_test(create_post_comes_before_the_routine),
        cmocka_unit_test(post_handed_to_another_thread_leaves_the_routine_to_the_sender),
        cmocka_unit_test(pended_post_is_followed_by_the_routine),
    };
    return FLTSIM_RUN_SUITE("opstatus", tests);
}
