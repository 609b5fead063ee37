/*
 * FltRequestOperationStatusCallback (SPEC 6.7, issue 15 item 4): called from
 * a pre for an IRP, its routine runs once the request has been sent to the
 * file system, on the thread that sent it, with the status IoCallDriver
 * returned then (STATUS_PENDING for an IRP the file system holds or
 * completes later), the RequesterContext, the requesting instance's objects
 * and the parameters as they were at the call. Tested the way the
 * passThrough sample uses it: oplock FSCTLs over a file system that grants
 * level 1 oplocks (holding the IRP until a break) and refuses level 2 ones,
 * and over an asynchronously completing volume. The rules: pre only, IRP
 * only, not IRP_MJ_CLOSE (STATUS_INVALID_PARAMETER), not while the instance
 * tears down (STATUS_FLT_DELETING_OBJECT), STATUS_INSUFFICIENT_RESOURCES
 * when its allocation fails; no routine for an IRP that never reached the
 * file system; a completion racing the routine waits for it. Each call is
 * traced (FLTSIM_EV_STATUS_CALLBACK) just before the routine runs, once per
 * routine, with the status it gets and the requesting instance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define OPSTATUS_TAG 'soMF' /* "FMos" */
/* What the oplock file system answers a level 1 request's break with. */
#define BROKEN_TO_NONE 2

/* ---- a file system that grants oplocks ---- */

static fltsim_system *oplock_sys;

static void break_oplock(void *ctx)
{
    PFLT_CALLBACK_DATA data = ctx;
    data->IoStatus.Status = STATUS_SUCCESS;
    data->IoStatus.Information = BROKEN_TO_NONE;
    fltsim_fs_complete(data);
}

/* memfs, but FSCTL_REQUEST_OPLOCK_LEVEL_1 is granted (the IRP pends until a
 * work item breaks the oplock), FSCTL_REQUEST_OPLOCK_LEVEL_2 is refused,
 * and FSCTL_REQUEST_BATCH_OPLOCK is completed from within the dispatch
 * routine that then returns STATUS_PENDING (the completion runs while the
 * caller of IoCallDriver has not seen it return). */
/* Reads complete from within the dispatch routine, which then returns
 * STATUS_PENDING, as FSCTL_REQUEST_BATCH_OPLOCK does. */
static bool reads_complete_in_dispatch;

static NTSTATUS oplock_irp_cb(void *fs, PFLT_CALLBACK_DATA data)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    if (iopb->MajorFunction == IRP_MJ_READ && reads_complete_in_dispatch) {
        data->IoStatus.Status = fltsim_memfs_ops.irp_cb(fs, data);
        fltsim_fs_complete(data);
        return STATUS_PENDING;
    }
    if (iopb->MajorFunction == IRP_MJ_FILE_SYSTEM_CONTROL) {
        switch (iopb->Parameters.FileSystemControl.Common.FsControlCode) {
        case FSCTL_REQUEST_OPLOCK_LEVEL_1:
            if (!NT_SUCCESS(fltsim_system_post_work(oplock_sys, break_oplock, data)))
                return STATUS_INSUFFICIENT_RESOURCES;
            return STATUS_PENDING;
        case FSCTL_REQUEST_OPLOCK_LEVEL_2:
            data->IoStatus.Information = 0;
            return STATUS_OPLOCK_NOT_GRANTED;
        case FSCTL_REQUEST_BATCH_OPLOCK:
            data->IoStatus.Status = STATUS_SUCCESS;
            data->IoStatus.Information = BROKEN_TO_NONE;
            fltsim_fs_complete(data);
            return STATUS_PENDING;
        default:
            break;
        }
    }
    return fltsim_memfs_ops.irp_cb(fs, data);
}

static struct fltsim_fs_ops oplock_ops;

/* ---- the trace of the status callbacks ---- */

#define TRACED_MAX 4

/* A status_callback event, its strings copied. */
struct traced_event {
    struct fltsim_event ev;
    char filter[16], instance[32], altitude[16], volume[64];
};

/* What the trace showed (the callback is never concurrent for one system;
 * the test reads it after the I/O returned). */
static struct {
    int count;
    struct traced_event events[TRACED_MAX];
    ULONG64 asked_op; /* op_id of the last operation of the code asked about */
} traced;

static UCHAR traced_major; /* the operation code asked about */

static void copy_string(char *out, size_t size, const char *s)
{
    snprintf(out, size, "%s", s != NULL ? s : "(null)");
}

/* Records every status_callback event, and "trace:status:FILTER" where it
 * comes among the callbacks. */
static void status_trace_cb(void *ctx, const struct fltsim_event *ev)
{
    (void)ctx;
    if (ev->type == FLTSIM_EV_IO_START && ev->major == traced_major)
        traced.asked_op = ev->op_id;
    if (ev->type != FLTSIM_EV_STATUS_CALLBACK)
        return;
    rec_add("trace:status:%s", ev->filter != NULL ? ev->filter : "?");
    if (traced.count < TRACED_MAX) {
        struct traced_event *t = &traced.events[traced.count];
        t->ev = *ev;
        copy_string(t->filter, sizeof(t->filter), ev->filter);
        copy_string(t->instance, sizeof(t->instance), ev->instance);
        copy_string(t->altitude, sizeof(t->altitude), ev->altitude);
        copy_string(t->volume, sizeof(t->volume), ev->volume);
        t->ev.filter = t->ev.instance = t->ev.altitude = t->ev.volume = NULL;
        t->ev.detail = t->ev.rule = NULL;
    }
    traced.count++;
}

/* Event i of the trace is the status callback of the filter named `filter`
 * (its instance "<filter> Instance" at altitude, node depth) in the last
 * operation of the code asked about, with status, on thread at
 * PASSIVE_LEVEL. */
static void assert_traced(int i, const char *filter, const char *altitude, ULONG depth,
                          NTSTATUS status, ULONG thread)
{
    assert_true(i < traced.count && i < TRACED_MAX);
    const struct traced_event *t = &traced.events[i];
    char instance[32];
    snprintf(instance, sizeof(instance), "%s Instance", filter);
    assert_int_equal(t->ev.op_id, traced.asked_op);
    assert_int_equal(t->ev.kind, FLTSIM_OP_IRP);
    assert_int_equal(t->ev.major, traced_major);
    assert_int_equal(t->ev.minor, traced_major == IRP_MJ_FILE_SYSTEM_CONTROL
                                      ? IRP_MN_USER_FS_REQUEST
                                      : IRP_MN_NORMAL);
    assert_int_equal(t->ev.depth, depth);
    assert_string_equal(t->filter, filter);
    assert_string_equal(t->instance, instance);
    assert_string_equal(t->altitude, altitude);
    assert_string_equal(t->volume, "\\Device\\HarddiskVolume1");
    assert_status(t->ev.status, status);
    assert_int_equal(t->ev.thread_id, thread);
    assert_int_equal(t->ev.irql, PASSIVE_LEVEL);
}

/* A world whose C: is the oplock file system, completing as given. */
static void oplock_world(struct test_world *w, ULONG completion)
{
    memset(w, 0, sizeof(*w));
    tf_reset_all();
    rec_reset();
    reads_complete_in_dispatch = false;
    struct fltsim_system_options opts = test_options(0);
    assert_status(fltsim_system_create(&opts, &w->sys), STATUS_SUCCESS);
    oplock_sys = w->sys;
    memset(&traced, 0, sizeof(traced));
    fltsim_system_set_trace(w->sys, status_trace_cb, NULL);
    assert_status(fltsim_memfs_create(NULL, &w->fs), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(w->fs, L"\\a.txt", "hello world", 11), STATUS_SUCCESS);
    oplock_ops = fltsim_memfs_ops;
    oplock_ops.name = "oplockfs";
    oplock_ops.irp_cb = oplock_irp_cb;
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                      .drive_letter = L'C',
                                      .ops = &oplock_ops,
                                      .fs = w->fs,
                                      .fs_type = FLT_FSTYPE_NTFS,
                                      .completion = completion};
    assert_status(fltsim_volume_mount(w->sys, &vp, &w->volume), STATUS_SUCCESS);
}

/* ---- a filter that asks for the status, as passThrough does ---- */

enum ask { ASK_NONE, ASK_IN_PRE, ASK_NULL_ROUTINE, ASK_THEN_COMPLETE, ASK_THEN_PEND };

struct status_seen {
    int calls;
    NTSTATUS status;
    PVOID context;
    ULONG thread;
    KIRQL irql;
    UCHAR major, minor;
    ULONG fsctl, read_length;
    PFLT_INSTANCE instance;
    PFLT_FILTER filter;
    PFILE_OBJECT file_object;
    LONG done_at_end;
};

static struct {
    enum ask ask;
    UCHAR major;                  /* the operation asked about */
    NTSTATUS request_status;      /* what FltRequestOperationStatusCallback returned */
    NTSTATUS post_request_status; /* ... when a post asked */
    bool ask_in_post;
    bool delay_in_routine;   /* the routine waits 20 ms */
    PKEVENT request_done;    /* the routine looks whether it is signaled at its end */
    bool raise_in_routine;   /* the routine returns at APC_LEVEL */
    ULONG changed_length;    /* the pre changes Read.Length after asking (dirty) */
    PFLT_CALLBACK_DATA held; /* ASK_THEN_PEND */
    struct status_seen seen;
} fx;

static ULONG_PTR context_counter = 100;

static struct tf_filter filter_a, filter_b;

static VOID status_routine(PCFLT_RELATED_OBJECTS objects, PFLT_IO_PARAMETER_BLOCK snapshot,
                           NTSTATUS status, PVOID context)
{
    struct status_seen *s = &fx.seen;
    const char *who = filter_b.filter != NULL && objects->Filter == filter_b.filter ? "B" : "A";
    rec_add("%s:status:begin", who);
    s->calls++;
    s->status = status;
    s->context = context;
    s->thread = fltsim_thread_id();
    s->irql = KeGetCurrentIrql();
    s->major = snapshot->MajorFunction;
    s->minor = snapshot->MinorFunction;
    s->fsctl = snapshot->Parameters.FileSystemControl.Common.FsControlCode;
    s->read_length = snapshot->Parameters.Read.Length;
    s->instance = objects->Instance;
    s->filter = objects->Filter;
    s->file_object = objects->FileObject;
    if (fx.delay_in_routine) {
        LARGE_INTEGER wait = {.QuadPart = -20 * 10000};
        KeDelayExecutionThread(KernelMode, FALSE, &wait);
    }
    if (fx.request_done != NULL)
        s->done_at_end = KeReadStateEvent(fx.request_done);
    if (fx.raise_in_routine) {
        KIRQL old;
        KeRaiseIrql(APC_LEVEL, &old);
    }
    rec_add("%s:status:end", who);
}

/* passThrough's PtDoRequestOperationStatus: oplock requests and directory
 * change notifications. */
static bool wants_status(PFLT_CALLBACK_DATA data)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    if (iopb->MajorFunction != fx.major)
        return false;
    if (iopb->MajorFunction != IRP_MJ_FILE_SYSTEM_CONTROL)
        return true;
    ULONG code = iopb->Parameters.FileSystemControl.Common.FsControlCode;
    return code == FSCTL_REQUEST_FILTER_OPLOCK || code == FSCTL_REQUEST_BATCH_OPLOCK ||
           code == FSCTL_REQUEST_OPLOCK_LEVEL_1 || code == FSCTL_REQUEST_OPLOCK_LEVEL_2;
}

static FLT_PREOP_CALLBACK_STATUS asking_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)objects;
    (void)context;
    if (fx.ask == ASK_NONE || !wants_status(data))
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    fx.request_status = FltRequestOperationStatusCallback(
        data, fx.ask == ASK_NULL_ROUTINE ? NULL : status_routine, (PVOID)(++context_counter));
    if (fx.changed_length != 0) {
        data->Iopb->Parameters.Read.Length = fx.changed_length;
        FltSetCallbackDataDirty(data);
    }
    if (fx.ask == ASK_THEN_COMPLETE) {
        data->IoStatus.Status = STATUS_ACCESS_DENIED;
        data->IoStatus.Information = 0;
        return FLT_PREOP_COMPLETE;
    }
    if (fx.ask == ASK_THEN_PEND) {
        fx.held = data;
        return FLT_PREOP_PENDING;
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS asking_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                              PCFLT_RELATED_OBJECTS objects, PVOID context,
                                              FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf;
    (void)objects;
    (void)context;
    (void)flags;
    if (fx.ask_in_post && data->Iopb->MajorFunction == fx.major)
        fx.post_request_status = FltRequestOperationStatusCallback(data, status_routine, NULL);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* What the loaded filter asks from now on (and nothing seen yet). */
static void set_ask(enum ask ask, UCHAR major)
{
    memset(&fx, 0, sizeof(fx));
    fx.ask = ask;
    fx.major = major;
    traced_major = major;
    fx.request_status = STATUS_UNSUCCESSFUL;
}

static void load_asking_filter(struct test_world *w, enum ask ask, UCHAR major)
{
    set_ask(ask, major);
    memset(&filter_b, 0, sizeof(filter_b));
    tf_init(&filter_a, "A", "300000");
    filter_a.pre = asking_pre;
    filter_a.post = asking_post;
    assert_status(tf_load(w->sys, &filter_a), STATUS_SUCCESS);
    rec_reset();
}

static NTSTATUS fsctl(struct test_world *w, HANDLE h, ULONG code, IO_STATUS_BLOCK *iosb)
{
    return fltsim_io_fs_control(w->sys, h, code, NULL, 0, NULL, 0, iosb);
}

static void assert_no_request_left(void)
{
    struct fltsim_pool_stats stats;
    fltsim_pool_tag_stats(OPSTATUS_TAG, &stats);
    assert_int_equal(stats.outstanding, 0);
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
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_IN_PRE, IRP_MJ_FILE_SYSTEM_CONTROL);
    IO_STATUS_BLOCK iosb;
    assert_status(fsctl(&w, h, FSCTL_REQUEST_OPLOCK_LEVEL_1, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, BROKEN_TO_NONE);
    assert_status(fx.request_status, STATUS_SUCCESS);
    assert_recorded("A:pre:FILE_SYSTEM_CONTROL trace:status:A A:status:begin A:status:end "
                    "A:post:FILE_SYSTEM_CONTROL");
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
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
    assert_no_request_left();
}

/* A refused oplock: the routine gets the failure the file system returned,
 * before the post sees it. */
static void refused_oplock_reports_the_failure(void **state)
{
    (void)state;
    struct test_world w;
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_IN_PRE, IRP_MJ_FILE_SYSTEM_CONTROL);
    IO_STATUS_BLOCK iosb;
    assert_status(fsctl(&w, h, FSCTL_REQUEST_OPLOCK_LEVEL_2, &iosb), STATUS_OPLOCK_NOT_GRANTED);
    assert_recorded("A:pre:FILE_SYSTEM_CONTROL trace:status:A A:status:begin A:status:end "
                    "A:post:FILE_SYSTEM_CONTROL");
    assert_int_equal(fx.seen.calls, 1);
    assert_status(fx.seen.status, STATUS_OPLOCK_NOT_GRANTED);
    assert_int_equal(fx.seen.fsctl, FSCTL_REQUEST_OPLOCK_LEVEL_2);
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_OPLOCK_NOT_GRANTED, fltsim_thread_id());
    /* An FSCTL the filter does not ask about gets no routine, and no event. */
    assert_status(fsctl(&w, h, FSCTL_IS_VOLUME_MOUNTED, &iosb), STATUS_SUCCESS);
    assert_int_equal(fx.seen.calls, 1);
    assert_int_equal(traced.count, 1);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
    assert_no_request_left();
}

static NTSTATUS read5(struct test_world *w, HANDLE h)
{
    char buf[8];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    return fltsim_io_read(w->sys, h, buf, 5, &zero, 0, &iosb);
}

/* A file system that answers synchronously: the routine gets its status
 * (here STATUS_SUCCESS), and the parameters as they were when the pre asked
 * (the pre changed Read.Length afterwards). */
static void synchronous_answer_is_reported_with_the_snapshot(void **state)
{
    (void)state;
    struct test_world w;
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_IN_PRE, IRP_MJ_READ);
    fx.changed_length = 3;
    assert_status(read5(&w, h), STATUS_SUCCESS);
    assert_recorded("A:pre:READ trace:status:A A:status:begin A:status:end A:post:READ");
    assert_status(fx.seen.status, STATUS_SUCCESS);
    assert_int_equal(fx.seen.read_length, 5);
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_SUCCESS, fltsim_thread_id());
    assert_int_equal(fx.seen.thread, fltsim_thread_id());
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
}

/* An asynchronously completing volume: IoCallDriver returned STATUS_PENDING
 * (the file system completes on its completion context), and the routine
 * runs on the requestor before the posts run at DISPATCH_LEVEL. */
static void asynchronous_volume_reports_pending(void **state)
{
    (void)state;
    struct test_world w;
    oplock_world(&w, FLTSIM_COMPLETE_ASYNC);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_IN_PRE, IRP_MJ_READ);
    assert_status(read5(&w, h), STATUS_SUCCESS);
    assert_recorded("A:pre:READ trace:status:A A:status:begin A:status:end A:post:READ");
    assert_status(fx.seen.status, STATUS_PENDING);
    assert_int_equal(fx.seen.thread, fltsim_thread_id());
    assert_int_equal(fx.seen.irql, PASSIVE_LEVEL);
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_PENDING, fltsim_thread_id());
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
}

/* The same from within the dispatch routine of an FSCTL: the synchronous
 * requestor returns after the routine, with the status the completion set. */
static void fsctl_completed_in_dispatch_reports_pending(void **state)
{
    (void)state;
    struct test_world w;
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_IN_PRE, IRP_MJ_FILE_SYSTEM_CONTROL);
    IO_STATUS_BLOCK iosb;
    assert_status(fsctl(&w, h, FSCTL_REQUEST_BATCH_OPLOCK, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, BROKEN_TO_NONE);
    assert_status(fx.seen.status, STATUS_PENDING);
    assert_int_equal(fx.seen.fsctl, FSCTL_REQUEST_BATCH_OPLOCK);
    assert_int_equal(traced.count, 1);
    assert_traced(0, "A", "300000", 0, STATUS_PENDING, fltsim_thread_id());
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
    assert_no_request_left();
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
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_THEN_PEND, IRP_MJ_READ);
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
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
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
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
    assert_no_request_left();
}

/* Two filters ask for the status of one IRP: each routine is called, in
 * the order asked (the upper pre asks first), each traced just before it
 * runs with its own instance and depth and the one status IoCallDriver
 * returned. */
static void each_requesting_instance_gets_its_routine_and_event(void **state)
{
    (void)state;
    struct test_world w;
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_IN_PRE, IRP_MJ_FILE_SYSTEM_CONTROL);
    tf_init(&filter_b, "B", "200000");
    filter_b.pre = asking_pre;
    filter_b.post = asking_post;
    assert_status(tf_load(w.sys, &filter_b), STATUS_SUCCESS);
    rec_reset();
    IO_STATUS_BLOCK iosb;
    assert_status(fsctl(&w, h, FSCTL_REQUEST_OPLOCK_LEVEL_2, &iosb), STATUS_OPLOCK_NOT_GRANTED);
    assert_recorded("A:pre:FILE_SYSTEM_CONTROL B:pre:FILE_SYSTEM_CONTROL trace:status:A "
                    "A:status:begin A:status:end trace:status:B B:status:begin B:status:end "
                    "B:post:FILE_SYSTEM_CONTROL A:post:FILE_SYSTEM_CONTROL");
    assert_int_equal(fx.seen.calls, 2);
    assert_int_equal(traced.count, 2);
    assert_traced(0, "A", "300000", 0, STATUS_OPLOCK_NOT_GRANTED, fltsim_thread_id());
    assert_traced(1, "B", "200000", 1, STATUS_OPLOCK_NOT_GRANTED, fltsim_thread_id());
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
    assert_no_request_left();
}

/* ---- the rules ---- */

/* A pre that completes the operation itself: no IoCallDriver, no routine,
 * and the request is freed. */
static void completed_in_pre_calls_no_routine(void **state)
{
    (void)state;
    struct test_world w;
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_THEN_COMPLETE, IRP_MJ_READ);
    assert_status(read5(&w, h), STATUS_ACCESS_DENIED);
    assert_status(fx.request_status, STATUS_SUCCESS);
    assert_int_equal(fx.seen.calls, 0);
    assert_int_equal(traced.count, 0);
    assert_no_request_left();
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
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
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_IN_PRE, IRP_MJ_READ);
    struct fltsim_fault fault = {.kind = FLTSIM_FAULT_ALLOC, .tag = OPSTATUS_TAG};
    assert_status(fltsim_fault_add(w.sys, &fault), STATUS_SUCCESS);
    assert_status(read5(&w, h), STATUS_SUCCESS);
    assert_status(fx.request_status, STATUS_INSUFFICIENT_RESOURCES);
    assert_int_equal(fx.seen.calls, 0);
    assert_int_equal(traced.count, 0);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
}

/* A routine must return at the IRQL it was called at (V28). */
static void routine_returning_at_another_irql_is_reported(void **state)
{
    (void)state;
    struct test_world w;
    oplock_world(&w, FLTSIM_COMPLETE_INLINE);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(&w, ASK_IN_PRE, IRP_MJ_READ);
    fx.raise_in_routine = true;
    assert_status(read5(&w, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 1);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
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
};

static void read_job(void *arg)
{
    struct reader *r = arg;
    char buf[8];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    r->status = fltsim_io_read(r->sys, r->handle, buf, 5, &zero, 0, &iosb);
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
    struct reader r = {.handle = world_open(&w, L"C:\\a.txt", GENERIC_READ), .sys = w.sys};
    fltsim_thread *reader;
    assert_status(
        fltsim_thread_spawn(w.sys, fltsim_thread_process_id(), 4100, read_job, &r, &reader),
        STATUS_SUCCESS);
    assert_status(KeWaitForSingleObject(&in_pre, Executive, KernelMode, FALSE, NULL),
                  STATUS_SUCCESS);
    struct unload_job job = {.drv = filter_a.driver, .flags = FLTSIM_UNLOAD_MANDATORY};
    fltsim_thread *unloader = unload_in_background(w.sys, &job);
    fltsim_thread_join(reader);
    fltsim_thread_join(unloader);
    assert_status(r.status, STATUS_SUCCESS);
    assert_status(job.status, STATUS_SUCCESS);
    assert_status(teardown_status, STATUS_FLT_DELETING_OBJECT);
    assert_int_equal(fx.seen.calls, 0);
    assert_int_equal(traced.count, 0);
    assert_status(fltsim_io_close(w.sys, r.handle), STATUS_SUCCESS);
    world_destroy(&w);
    assert_no_request_left();
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
        cmocka_unit_test(completed_in_pre_calls_no_routine),
        cmocka_unit_test(wrong_calls_are_refused),
        cmocka_unit_test(failed_allocation_is_insufficient_resources),
        cmocka_unit_test(routine_returning_at_another_irql_is_reported),
        cmocka_unit_test(tearing_down_instance_is_refused),
    };
    return FLTSIM_RUN_SUITE("opstatus", tests);
}
