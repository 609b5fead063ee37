/*
 * FltCancellableWaitForSingleObject (issue 19 item 6, avscan's wait for a
 * scan in progress): filter B pends an application's overlapped read and,
 * from a deferred-I/O work item, waits on an event with the read's callback
 * data. CancelIoEx of the read ends the wait with STATUS_CANCELLED (and a
 * cancel that came before the wait too); the event set ends it with
 * STATUS_SUCCESS; a zero timeout gives STATUS_TIMEOUT; without callback
 * data it is a plain wait. Under both executors.
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"
#include "pending_read_fx.h"

struct fixture {
    struct test_world w;
    struct tf_filter b;
    HANDLE h;
    char buf[8];
    KEVENT gate;    /* what B waits for */
    KEVENT waiting; /* set by B just before it waits */
    KEVENT go;      /* with hold_first: B waits for it before its cancellable wait */
    bool hold_first;
    LARGE_INTEGER timeout;
    bool use_timeout, no_data;
    NTSTATUS wait_status;
};

static struct fixture *fx;

static VOID work(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    (void)context;
    FltFreeDeferredIoWorkItem(item);
    KeSetEvent(&fx->waiting, IO_NO_INCREMENT, FALSE);
    if (fx->hold_first)
        KeWaitForSingleObject(&fx->go, Executive, KernelMode, FALSE, NULL);
    fx->wait_status = FltCancellableWaitForSingleObject(
        &fx->gate, fx->use_timeout ? &fx->timeout : NULL, fx->no_data ? NULL : data);
    if (fx->wait_status == STATUS_CANCELLED) {
        data->IoStatus.Status = STATUS_CANCELLED;
        data->IoStatus.Information = 0;
        FltCompletePendedPreOperation(data, FLT_PREOP_COMPLETE, NULL);
        return;
    }
    FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
}

static FLT_PREOP_CALLBACK_STATUS pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                     PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ || !FLT_IS_IRP_OPERATION(data) ||
        (data->Iopb->IrpFlags & IRP_PAGING_IO))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
    if (item == NULL)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    if (!NT_SUCCESS(FltQueueDeferredIoWorkItem(item, data, work, DelayedWorkQueue, NULL))) {
        FltFreeDeferredIoWorkItem(item);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    return FLT_PREOP_PENDING;
}

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    fx = &f;
    tf_reset_all();
    world_create(&f.w, 0);
    tf_init(&f.b, "B", "200000");
    f.b.pre = pre;
    assert_status(tf_load(f.w.sys, &f.b), STATUS_SUCCESS);
    f.h = open_overlapped(f.w.sys, L"C:\\a.txt", GENERIC_READ);
    KeInitializeEvent(&f.gate, NotificationEvent, FALSE);
    KeInitializeEvent(&f.waiting, NotificationEvent, FALSE);
    KeInitializeEvent(&f.go, NotificationEvent, FALSE);
    f.wait_status = STATUS_PENDING;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_status(fltsim_io_close(fx->w.sys, fx->h), STATUS_SUCCESS);
    world_destroy(&fx->w);
    return 0;
}

/* The application cancels the read B waits for: STATUS_CANCELLED. */
static void test_cancel_ends_the_wait(void **state)
{
    (void)state;
    struct pending_read r;
    assert_status(pending_read_start(fx->w.sys, fx->h, fx->buf, &r), STATUS_PENDING);
    KeWaitForSingleObject(&fx->waiting, Executive, KernelMode, FALSE, NULL);
    assert_status(fltsim_io_cancel(fx->w.sys, fx->h, &r.async), STATUS_SUCCESS);
    wait_read(&r);
    assert_status(fx->wait_status, STATUS_CANCELLED);
    assert_status(r.async.iosb.Status, STATUS_CANCELLED);
    assert_int_equal(fltsim_system_report_count(fx->w.sys), 0);
}

/* The read was cancelled before B began to wait (it had no cancel routine
 * then: only the Cancel bit): the wait ends at once with STATUS_CANCELLED. */
static void test_cancel_before_the_wait(void **state)
{
    (void)state;
    fx->hold_first = true;
    struct pending_read r;
    assert_status(pending_read_start(fx->w.sys, fx->h, fx->buf, &r), STATUS_PENDING);
    KeWaitForSingleObject(&fx->waiting, Executive, KernelMode, FALSE, NULL);
    assert_status(fltsim_io_cancel(fx->w.sys, fx->h, &r.async), STATUS_SUCCESS);
    KeSetEvent(&fx->go, IO_NO_INCREMENT, FALSE);
    wait_read(&r);
    assert_status(fx->wait_status, STATUS_CANCELLED);
    assert_status(r.async.iosb.Status, STATUS_CANCELLED);
}

/* The event is set: STATUS_SUCCESS, and the read goes on. */
static void test_signal_ends_the_wait(void **state)
{
    (void)state;
    struct pending_read r;
    assert_status(pending_read_start(fx->w.sys, fx->h, fx->buf, &r), STATUS_PENDING);
    KeWaitForSingleObject(&fx->waiting, Executive, KernelMode, FALSE, NULL);
    KeSetEvent(&fx->gate, IO_NO_INCREMENT, FALSE);
    wait_read(&r);
    assert_status(fx->wait_status, STATUS_SUCCESS);
    assert_status(r.async.iosb.Status, STATUS_SUCCESS);
    assert_memory_equal(fx->buf, "hello", 5);
    /* The wait took its cancel routine back: a cancel now finds nothing. */
    assert_status(fltsim_io_cancel(fx->w.sys, fx->h, &r.async), STATUS_NOT_FOUND);
}

/* Starts a read B does not hold for long: pending, or (the work item was
 * quicker than the I/O manager's return) completed already. */
static void start_short_read(struct pending_read *r)
{
    NTSTATUS status = pending_read_start(fx->w.sys, fx->h, fx->buf, r);
    if (status != STATUS_PENDING)
        assert_status(status, STATUS_SUCCESS);
    wait_read(r);
}

/* A zero timeout, with and without callback data: STATUS_TIMEOUT. */
static void test_zero_timeout(void **state)
{
    (void)state;
    fx->use_timeout = true;
    fx->timeout.QuadPart = 0;
    struct pending_read r;
    start_short_read(&r);
    assert_status(fx->wait_status, STATUS_TIMEOUT);
    assert_status(r.async.iosb.Status, STATUS_SUCCESS);
    fx->no_data = true;
    fx->wait_status = STATUS_PENDING;
    start_short_read(&r);
    assert_status(fx->wait_status, STATUS_TIMEOUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cancel_ends_the_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_before_the_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_ends_the_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_timeout, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("cancel_wait", tests);
}
