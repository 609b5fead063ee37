/*
 * FltRequestOperationStatusCallback (SPEC 6.7, issue 15 item 4), the rules:
 * pre only, IRP only, not IRP_MJ_CLOSE, with a routine (else
 * STATUS_INVALID_PARAMETER), not while the instance tears down
 * (STATUS_FLT_DELETING_OBJECT); a failed allocation is
 * STATUS_INSUFFICIENT_RESOURCES; no routine for an IRP that never reached
 * the file system; a drained post leaves the routine due and unregistration
 * waits for it; a routine returning at another IRQL, or raising an exception
 * it does not handle, is a report. When and with what status the routine
 * runs is test_opstatus.c; the fixture both share is opstatus_fx.h. Both
 * executors.
 */
#include <string.h>

#include "opstatus_fx.h"

/* ---- the rules ---- */

/* An exception the routine does not handle ends the routine, not the
 * simulator: a report (SEH), and the operation completes as it would. */
static void routine_raising_is_reported(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_INLINE, ASK_IN_PRE, IRP_MJ_READ);
    fx.raise_in_routine_seh = true;
    assert_status(read5(&w, h), STATUS_SUCCESS);
    assert_recorded("A:pre:READ A:post:READ trace:status:A A:status:begin A:status:raise "
                    "trace:complete");
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "SEH"), 1);
    assert_int_equal(fltsim_system_report_count(w.sys), 1);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    finish(&w, h, -1);
}

/* A pre that completes the operation itself: no IoCallDriver, no routine,
 * and the request is freed. */
static void completed_in_pre_calls_no_routine(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_INLINE, ASK_THEN_COMPLETE, IRP_MJ_READ);
    assert_status(read5(&w, h), STATUS_ACCESS_DENIED);
    assert_status(fx.request_status, STATUS_SUCCESS);
    assert_int_equal(fx.seen.calls, 0);
    assert_int_equal(traced.count, 0);
    assert_no_request_left();
    finish(&w, h, -1);
}

struct call {
    PFLT_CALLBACK_DATA data;
    NTSTATUS status;
};

static void call_with_fake(void *ctx)
{
    struct call *c = ctx;
    c->status = FltRequestOperationStatusCallback(c->data, status_routine, NULL);
}

/* Only from a pre, only with a routine, only for IRPs, never for
 * IRP_MJ_CLOSE: STATUS_INVALID_PARAMETER, and nothing is called. */
static void wrong_calls_are_refused(void **state)
{
    (void)state;
    struct test_world w;
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);

    load_asking_filter(&w, ASK_NULL_ROUTINE, IRP_MJ_READ);
    assert_status(read5(&w, h), STATUS_SUCCESS);
    assert_status(fx.request_status, STATUS_INVALID_PARAMETER);

    set_ask(ASK_NONE, IRP_MJ_READ);
    fx.ask_in_post = true;
    assert_status(read5(&w, h), STATUS_SUCCESS);
    assert_status(fx.post_request_status, STATUS_INVALID_PARAMETER);

    set_ask(ASK_IN_PRE, IRP_MJ_READ);
    char buf[8];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(w.sys, h, buf, 5, &zero, FLTSIM_IO_FAST, &iosb), STATUS_SUCCESS);
    assert_status(fx.request_status, STATUS_INVALID_PARAMETER); /* fast I/O */

    set_ask(ASK_IN_PRE, IRP_MJ_CLOSE);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_status(fx.request_status, STATUS_INVALID_PARAMETER);
    assert_int_equal(fx.seen.calls, 0);

    /* Not callback data at all: also a verifier report. */
    static union {
        FLT_CALLBACK_DATA data;
        char room[4096]; /* fltsim looks past the structure for its own tag */
    } fake;
    memset(&fake, 0, sizeof(fake));
    struct call c = {&fake.data, STATUS_SUCCESS};
    assert_status(fltsim_driver_call(filter_a.driver, call_with_fake, &c), STATUS_SUCCESS);
    assert_status(c.status, STATUS_INVALID_PARAMETER);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V16"), 1);
    assert_int_equal(fx.seen.calls, 0);
    assert_int_equal(traced.count, 0);
    world_destroy(&w);
    assert_no_request_left();
}

/* The request's allocation is a fault point (tag "FMos"). */
static void failed_allocation_is_insufficient_resources(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_INLINE, ASK_IN_PRE, IRP_MJ_READ);
    struct fltsim_fault fault = {.kind = FLTSIM_FAULT_ALLOC, .tag = OPSTATUS_TAG};
    assert_status(fltsim_fault_add(w.sys, &fault), STATUS_SUCCESS);
    assert_status(read5(&w, h), STATUS_SUCCESS);
    assert_status(fx.request_status, STATUS_INSUFFICIENT_RESOURCES);
    assert_int_equal(fx.seen.calls, 0);
    assert_int_equal(traced.count, 0);
    finish(&w, h, -1);
}

/* A routine must return at the IRQL it was called at (V28). */
static void routine_returning_at_another_irql_is_reported(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_INLINE, ASK_IN_PRE, IRP_MJ_READ);
    fx.raise_in_routine = true;
    assert_status(read5(&w, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 1);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    finish(&w, h, -1);
}

/* While the instance tears down: STATUS_FLT_DELETING_OBJECT. The pre waits
 * (on a requestor thread) until the filter's unload has started tearing its
 * instance down, then asks. */
static KEVENT in_pre, torn;
static NTSTATUS teardown_status;

static FLT_PREOP_CALLBACK_STATUS waiting_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                             PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    KeSetEvent(&in_pre, 0, FALSE);
    KeWaitForSingleObject(&torn, Executive, KernelMode, FALSE, NULL);
    teardown_status = FltRequestOperationStatusCallback(data, status_routine, NULL);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void tearing_down(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)tf;
    (void)objects;
    KeSetEvent(&torn, 0, FALSE);
}

struct reader {
    HANDLE handle;
    fltsim_system *sys;
    NTSTATUS status;
    ULONG thread;
};

static void read_job(void *arg)
{
    struct reader *r = arg;
    r->thread = fltsim_thread_id();
    char buf[8];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    r->status = fltsim_io_read(r->sys, r->handle, buf, 5, &zero, 0, &iosb);
}

/* Reads r->handle on a requestor thread and, once `entered` is signaled,
 * unloads A (mandatory) on another (job); both succeed. */
static void read_while_unloading(struct test_world *w, struct reader *r, PKEVENT entered,
                                 struct unload_job *job)
{
    r->sys = w->sys;
    fltsim_thread *reader;
    assert_status(
        fltsim_thread_spawn(w->sys, fltsim_thread_process_id(), 4100, read_job, r, &reader),
        STATUS_SUCCESS);
    assert_status(KeWaitForSingleObject(entered, Executive, KernelMode, FALSE, NULL),
                  STATUS_SUCCESS);
    job->drv = filter_a.driver;
    job->flags = FLTSIM_UNLOAD_MANDATORY;
    fltsim_thread *unloader = unload_in_background(w->sys, job);
    fltsim_thread_join(reader);
    fltsim_thread_join(unloader);
    assert_status(r->status, STATUS_SUCCESS);
    assert_status(job->status, STATUS_SUCCESS);
}

static void tearing_down_instance_is_refused(void **state)
{
    (void)state;
    struct test_world w;
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    memset(&fx, 0, sizeof(fx));
    tf_init(&filter_a, "A", "300000");
    filter_a.pre = waiting_pre;
    filter_a.teardown_start_hook = tearing_down;
    assert_status(tf_load(w.sys, &filter_a), STATUS_SUCCESS);
    KeInitializeEvent(&in_pre, NotificationEvent, FALSE);
    KeInitializeEvent(&torn, NotificationEvent, FALSE);
    teardown_status = STATUS_UNSUCCESSFUL;
    struct reader r = {.handle = world_open(&w, L"C:\\a.txt", GENERIC_READ)};
    struct unload_job job = {0};
    read_while_unloading(&w, &r, &in_pre, &job);
    assert_status(teardown_status, STATUS_FLT_DELETING_OBJECT);
    assert_int_equal(fx.seen.calls, 0);
    assert_int_equal(traced.count, 0);
    finish(&w, r.handle, -1);
}

/* The requesting instance is torn down while the file system holds its
 * read: its post is drained meanwhile (on the unloading thread). The
 * routine is still due: it runs on the sending thread once the file system
 * answered, and the filter's unregistration waits for it. */
static void drained_post_leaves_the_routine_due(void **state)
{
    (void)state;
    struct test_world w;
    HANDLE h = start(&w, FLTSIM_COMPLETE_INLINE, ASK_IN_PRE, IRP_MJ_READ);
    reads_block_in_fs = true;
    fx.delay_in_routine = true;
    struct reader r = {.handle = h};
    struct unload_job job = {0};
    fx.unloading = &job;
    read_while_unloading(&w, &r, &fs_entered, &job);
    assert_int_equal(fx.seen.calls, 1);
    assert_status(fx.seen.status, STATUS_SUCCESS);
    assert_int_equal(fx.seen.thread, r.thread);
    assert_int_equal(fx.seen.unload_done_at_end, 0);
    assert_in_order("A:pre:READ", "A:post:READ", "A:drained", "trace:status:A", "A:status:begin",
                    "A:status:end", "trace:complete", NULL);
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_SUCCESS, r.thread);
    finish(&w, h, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routine_raising_is_reported),
        cmocka_unit_test(completed_in_pre_calls_no_routine),
        cmocka_unit_test(wrong_calls_are_refused),
        cmocka_unit_test(failed_allocation_is_insufficient_resources),
        cmocka_unit_test(routine_returning_at_another_irql_is_reported),
        cmocka_unit_test(tearing_down_instance_is_refused),
        cmocka_unit_test(drained_post_leaves_the_routine_due),
    };
    return FLTSIM_RUN_SUITE("opstatus_rules", tests);
}
