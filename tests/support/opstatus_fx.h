/*
 * PRIVATE to the FltRequestOperationStatusCallback suites (test_opstatus.c,
 * test_opstatus_rules.c): the oplock file system (memfs granting, refusing or
 * completing oplock FSCTLs, reads that block or complete in dispatch), the
 * trace of the status_callback events, the asking test filter A and its
 * status routine with what it saw (fx), and the helpers both suites use to
 * start a world, read, check the order of what was recorded and finish.
 * Static inline, because the short names (fx, start, finish, read5) mean
 * other things in other suites.
 */
#ifndef FLTSIM_OPSTATUS_FX_H
#define FLTSIM_OPSTATUS_FX_H

#include <stdio.h>
#include <string.h>

#include "fltsim_test.h"

#define OPSTATUS_TAG 'soMF' /* "FMos" */
/* What the oplock file system answers a level 1 request's break with. */
#define BROKEN_TO_NONE 2

/* ---- a file system that grants oplocks ---- */

static fltsim_system *oplock_sys;

static inline void break_oplock(void *ctx)
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

static inline NTSTATUS oplock_irp_cb(void *fs, PFLT_CALLBACK_DATA data)
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

static inline void copy_string(char *out, size_t size, const char *s)
{
    snprintf(out, size, "%s", s != NULL ? s : "(null)");
}

/* Records every status_callback event, and "trace:status:FILTER" where it
 * comes among the callbacks, as "trace:complete" where the operation of the
 * code asked about completes. */
static inline void status_trace_cb(void *ctx, const struct fltsim_event *ev)
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
static inline void assert_traced(int i, const char *filter, const char *altitude, ULONG depth,
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
static inline void oplock_world(struct test_world *w, ULONG completion)
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
    bool delay_in_routine;        /* the routine waits 20 ms */
    PKEVENT request_done;         /* the routine looks whether it is signaled at its end */
    bool raise_in_routine;        /* the routine returns at APC_LEVEL */
    ULONG changed_length;         /* the pre changes Read.Length after asking (dirty) */
    PFLT_CALLBACK_DATA held;      /* ASK_THEN_PEND */
    struct tf_filter *asker;      /* only this filter asks (NULL: each asking filter) */
    bool a_synchronizes;          /* A's pre returns FLT_PREOP_SYNCHRONIZE (having asked or not) */
    bool resume_in_work;          /* ASK_THEN_PEND: a deferred work item resumes the pre */
    bool pend_post;               /* the asker's post pends; a deferred work item completes it */
    bool raise_in_routine_seh;    /* the routine raises an exception it does not handle */
    struct unload_job *unloading; /* the routine looks whether it returned, at its end */
    ULONG post_thread[2];         /* where A's and B's posts of the code asked about ran */
    ULONG work_thread;            /* where the deferred work item ran */
    struct status_seen seen;
} fx;

static ULONG_PTR context_counter = 100;

static struct tf_filter filter_a, filter_b;

static inline VOID status_routine(PCFLT_RELATED_OBJECTS objects, PFLT_IO_PARAMETER_BLOCK snapshot,
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
static inline bool wants_status(PFLT_CALLBACK_DATA data)
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

static inline VOID resume_pre_work(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data,
                                   PVOID context)
{
    (void)context;
    fx.work_thread = fltsim_thread_id();
    FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    FltFreeDeferredIoWorkItem(item);
}

static inline VOID complete_post_work(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data,
                                      PVOID context)
{
    (void)context;
    fx.work_thread = fltsim_thread_id();
    FltCompletePendedPostOperation(data);
    FltFreeDeferredIoWorkItem(item);
}

/* Queues routine for data on a deferred I/O work item. */
static inline void queue_work(PFLT_CALLBACK_DATA data, PFLT_DEFERRED_IO_WORKITEM_ROUTINE routine)
{
    PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
    assert_non_null(item);
    assert_status(FltQueueDeferredIoWorkItem(item, data, routine, DelayedWorkQueue, NULL),
                  STATUS_SUCCESS);
}

static inline FLT_PREOP_CALLBACK_STATUS asking_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
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

static inline FLT_POSTOP_CALLBACK_STATUS asking_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
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
static inline void set_ask(enum ask ask, UCHAR major)
{
    memset(&fx, 0, sizeof(fx));
    fx.ask = ask;
    fx.major = major;
    traced_major = major;
    fx.request_status = STATUS_UNSUCCESSFUL;
}

static inline void load_asking_filter(struct test_world *w, enum ask ask, UCHAR major)
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
static inline HANDLE start(struct test_world *w, ULONG completion, enum ask ask, UCHAR major)
{
    oplock_world(w, completion);
    HANDLE h = world_open(w, L"C:\\a.txt", GENERIC_READ);
    load_asking_filter(w, ask, major);
    return h;
}
static inline void assert_no_request_left(void)
{
    struct fltsim_pool_stats stats;
    fltsim_pool_tag_stats(OPSTATUS_TAG, &stats);
    assert_int_equal(stats.outstanding, 0);
}

/* Closes h (when not NULL), checks the number of verifier reports (when
 * reports is not negative), ends the world, and checks every request was
 * freed. */
static inline void finish(struct test_world *w, HANDLE h, int reports)
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
static inline void assert_in_order(const char *first, ...)
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

static inline NTSTATUS read5(struct test_world *w, HANDLE h)
{
    char buf[8];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    return fltsim_io_read(w->sys, h, buf, 5, &zero, 0, &iosb);
}

#endif /* FLTSIM_OPSTATUS_FX_H */
