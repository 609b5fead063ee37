/*
 * FltRequestOperationStatusCallback (SPEC 6.7, issue 15 item 4): the routine
 * a pre asks for runs on the thread that sent the IRP, once IoCallDriver
 * would have returned there, with the status it returned, the context, the
 * requesting instance's objects and the parameters as they were at the call.
 * STATUS_PENDING (an IRP the file system holds or completes later) returns
 * at once: the routine runs before the posts. An IRP the file system
 * completed in its dispatch routine completed inside IoCallDriver: the
 * sending thread's posts (a create's, a synchronized one) come first, and the
 * routine runs when they are over or left the thread (a post pended, or is
 * due on another thread); the operation completes after it (io_complete
 * follows status_callback). Tested with oplock FSCTLs, as passThrough asks,
 * and reads and creates through each path of the post phase. The rules: pre
 * only, IRP only, not IRP_MJ_CLOSE (STATUS_INVALID_PARAMETER), not while the
 * instance tears down (STATUS_FLT_DELETING_OBJECT), a failed allocation is
 * STATUS_INSUFFICIENT_RESOURCES; no routine for an IRP that never reached the
 * file system; unregistration waits for a routine still due; an exception
 * the routine does not handle is a report. Both executors.
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
/* Reads signal fs_entered, then wait for fs_release before they are done. */
static bool reads_block_in_fs;
static KEVENT fs_entered, fs_release;

static NTSTATUS oplock_irp_cb(void *fs, PFLT_CALLBACK_DATA data)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    if (iopb->MajorFunction == IRP_MJ_READ && reads_block_in_fs) {
        KeSetEvent(&fs_entered, IO_NO_INCREMENT, FALSE);
        KeWaitForSingleObject(&fs_release, Executive, KernelMode, FALSE, NULL);
    }
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
 * comes among the callbacks, as "trace:complete" where the operation of the
 * code asked about completes. */
static void status_trace_cb(void *ctx, const struct fltsim_event *ev)
{
    (void)ctx;
    if (ev->type == FLTSIM_EV_IO_START && ev->major == traced_major)
        traced.asked_op = ev->op_id;
    if (ev->type == FLTSIM_EV_IO_COMPLETE && ev->major == traced_major)
        rec_add("trace:complete");
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
    reads_block_in_fs = false;
    KeInitializeEvent(&fs_entered, NotificationEvent, FALSE);
    KeInitializeEvent(&fs_release, NotificationEvent, FALSE);
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
    LONG unload_done_at_end;
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
    struct tf_filter *asker; /* only this filter asks (NULL: each asking filter) */
    bool a_synchronizes;     /* A's pre returns FLT_PREOP_SYNCHRONIZE (having asked or not) */
    bool resume_in_work;     /* ASK_THEN_PEND: a deferred work item resumes the pre */
    bool pend_post;          /* the asker's post pends; a deferred work item completes it */
    bool raise_in_routine_seh;    /* the routine raises an exception it does not handle */
    struct unload_job *unloading; /* the routine looks whether it returned, at its end */
    ULONG post_thread[2];         /* where A's and B's posts of the code asked about ran */
    ULONG work_thread;            /* where the deferred work item ran */
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
    if (fx.unloading != NULL)
        s->unload_done_at_end = __atomic_load_n(&fx.unloading->done, __ATOMIC_SEQ_CST);
    if (fx.raise_in_routine) {
        KIRQL old;
        KeRaiseIrql(APC_LEVEL, &old);
    }
    if (fx.raise_in_routine_seh) {
        rec_add("%s:status:raise", who);
        ExRaiseStatus(STATUS_INVALID_DEVICE_STATE);
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

static VOID resume_pre_work(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    (void)context;
    fx.work_thread = fltsim_thread_id();
    FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    FltFreeDeferredIoWorkItem(item);
}

static VOID complete_post_work(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data,
                               PVOID context)
{
    (void)context;
    fx.work_thread = fltsim_thread_id();
    FltCompletePendedPostOperation(data);
    FltFreeDeferredIoWorkItem(item);
}

/* Queues routine for data on a deferred I/O work item. */
static void queue_work(PFLT_CALLBACK_DATA data, PFLT_DEFERRED_IO_WORKITEM_ROUTINE routine)
{
    PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
    assert_non_null(item);
    assert_status(FltQueueDeferredIoWorkItem(item, data, routine, DelayedWorkQueue, NULL),
                  STATUS_SUCCESS);
}

static FLT_PREOP_CALLBACK_STATUS asking_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    FLT_PREOP_CALLBACK_STATUS pass = fx.a_synchronizes && tf == &filter_a
                                         ? FLT_PREOP_SYNCHRONIZE
                                         : FLT_PREOP_SUCCESS_WITH_CALLBACK;
    if (fx.ask == ASK_NONE || !wants_status(data) || (fx.asker != NULL && tf != fx.asker))
        return pass;
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
        if (fx.resume_in_work)
            queue_work(data, resume_pre_work);
        return FLT_PREOP_PENDING;
    }
    return pass;
}

static FLT_POSTOP_CALLBACK_STATUS asking_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                              PCFLT_RELATED_OBJECTS objects, PVOID context,
                                              FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != fx.major)
        return FLT_POSTOP_FINISHED_PROCESSING;
    if (flags & FLTFL_POST_OPERATION_DRAINING) {
        rec_add("%s:drained", tf->name);
        if (reads_block_in_fs)
            KeSetEvent(&fs_release, IO_NO_INCREMENT, FALSE);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    fx.post_thread[tf == &filter_b] = fltsim_thread_id();
    if (fx.ask_in_post)
        fx.post_request_status = FltRequestOperationStatusCallback(data, status_routine, NULL);
    if (fx.pend_post && (fx.asker == NULL || tf == fx.asker)) {
        queue_work(data, complete_post_work);
        return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
    }
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

/* A world completing as given with C:\a.txt open (the handle returned) and
 * the asking filter A loaded. */
static HANDLE start(struct test_world *w, ULONG completion, enum ask ask, UCHAR major)
{
    oplock_world(w, completion);
    HANDLE h = world_open(w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(w, ask, major);
    return h;
}

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

static void assert_no_request_left(void)
{
    struct fltsim_pool_stats stats;
    fltsim_pool_tag_stats(OPSTATUS_TAG, &stats);
    assert_int_equal(stats.outstanding, 0);
}

/* Closes h (when not NULL), checks the number of verifier reports (when
 * reports is not negative), ends the world, and checks every request was
 * freed. */
static void finish(struct test_world *w, HANDLE h, int reports)
{
    if (h != NULL)
        assert_status(fltsim_io_close(w->sys, h), STATUS_SUCCESS);
    if (reports >= 0)
        assert_int_equal(fltsim_system_report_count(w->sys), reports);
    world_destroy(w);
    assert_no_request_left();
}

/* The recorded words (a NULL-terminated list) come in this order, others
 * (of threads running meanwhile) in between. */
static void assert_in_order(const char *first, ...)
{
    const char *text = rec_text();
    const char *at = text;
    va_list ap;
    va_start(ap, first);
    for (const char *word = first; word != NULL; word = va_arg(ap, const char *)) {
        size_t n = strlen(word);
        const char *found = at;
        while ((found = strstr(found, word)) != NULL &&
               ((found != text && found[-1] != ' ') || (found[n] != ' ' && found[n] != '\0')))
            found++;
        if (found == NULL)
            fail_msg("\"%s\" is not recorded after position %d in: %s", word, (int)(at - text),
                     text);
        at = found + n;
    }
    va_end(ap);
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

static NTSTATUS read5(struct test_world *w, HANDLE h)
{
    char buf[8];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    return fltsim_io_read(w->sys, h, buf, 5, &zero, 0, &iosb);
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

/* ---- the rules ---- */

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
        cmocka_unit_test(routine_raising_is_reported),
        cmocka_unit_test(completed_in_pre_calls_no_routine),
        cmocka_unit_test(wrong_calls_are_refused),
        cmocka_unit_test(failed_allocation_is_insufficient_resources),
        cmocka_unit_test(routine_returning_at_another_irql_is_reported),
        cmocka_unit_test(tearing_down_instance_is_refused),
        cmocka_unit_test(drained_post_leaves_the_routine_due),
    };
    return FLTSIM_RUN_SUITE("opstatus", tests);
}
