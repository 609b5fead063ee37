/*
 * Work items (SPEC 5.1-5.3) and FltDoCompletionProcessingWhenSafe (SPEC 4.3):
 * where routines run, the exact failures of FltQueueDeferredIoWorkItem in
 * SPEC's order, generic items and the rundown reference that makes
 * FltUnregisterFilter wait for them, misuse the verifier reports (V15, V23),
 * and FltMgr's pool tag returning to zero. One test filter A over memfs; the
 * "async" cases mount the volume with FLTSIM_COMPLETE_ASYNC so posts run at
 * DISPATCH_LEVEL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define FLTMGR_WORK_ITEM_TAG 'iwMF'

enum action {
    ACT_NONE,
    ACT_QUEUE_DEFERRED,      /* pre or post: queue a deferred item, record the status */
    ACT_PEND_PRE,            /* pre: queue; PENDING; the item resumes NO_CALLBACK */
    ACT_SAFE_POST,           /* post: FltDoCompletionProcessingWhenSafe(safe_post) */
    ACT_SAFE_IN_PRE,         /* pre: FltDoCompletionProcessingWhenSafe (wrong) */
    ACT_LEAK_ITEM,           /* pre: allocate an item and never free it */
    ACT_TOP_LEVEL_THEN_QUEUE /* pre or post: IoSetTopLevelIrp, queue, reset */
};

struct fixture {
    struct test_world w;
    struct tf_filter a;
    UCHAR major;
    enum action pre_action, post_action;
    WORK_QUEUE_TYPE queue_type;
    /* observed */
    NTSTATUS queue_status;
    LONG routine_runs;
    KIRQL routine_irql, post_irql, safe_irql;
    ULONG routine_process, routine_thread, post_thread, safe_thread;
    PVOID routine_object, routine_context;
    BOOLEAN safe_returned;
    FLT_POSTOP_CALLBACK_STATUS safe_ret;
    LONG safe_calls;
    FLT_POSTOP_CALLBACK_STATUS safe_returns; /* what safe_post returns */
    PFLT_DEFERRED_IO_WORKITEM leaked;
    KEVENT routine_started, routine_release;
    bool routine_blocks;
};

static struct fixture *current; /* routines find the fixture through it */

static VOID deferred_routine(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    struct fixture *f = context;
    (void)data;
    f->routine_irql = KeGetCurrentIrql();
    f->routine_process = fltsim_thread_process_id();
    f->routine_thread = fltsim_thread_id();
    __atomic_add_fetch(&f->routine_runs, 1, __ATOMIC_SEQ_CST);
    FltFreeDeferredIoWorkItem(item);
}

static VOID resume_routine(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    struct fixture *f = context;
    __atomic_add_fetch(&f->routine_runs, 1, __ATOMIC_SEQ_CST);
    FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    FltFreeDeferredIoWorkItem(item);
}

static VOID post_resume_routine(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data,
                                PVOID context)
{
    struct fixture *f = context;
    __atomic_add_fetch(&f->routine_runs, 1, __ATOMIC_SEQ_CST);
    FltCompletePendedPostOperation(data);
    FltFreeDeferredIoWorkItem(item);
}

static NTSTATUS queue_deferred(struct fixture *f, PFLT_CALLBACK_DATA data,
                               PFLT_DEFERRED_IO_WORKITEM_ROUTINE routine)
{
    PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
    assert_non_null(item);
    NTSTATUS status = FltQueueDeferredIoWorkItem(item, data, routine, f->queue_type, f);
    if (!NT_SUCCESS(status))
        FltFreeDeferredIoWorkItem(item);
    return status;
}

static FLT_POSTOP_CALLBACK_STATUS safe_post(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                            PVOID context, FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    (void)flags;
    struct fixture *f = current;
    f->safe_irql = KeGetCurrentIrql();
    f->safe_thread = fltsim_thread_id();
    __atomic_add_fetch(&f->safe_calls, 1, __ATOMIC_SEQ_CST);
    rec_add("safe");
    if (f->safe_returns == FLT_POSTOP_MORE_PROCESSING_REQUIRED) {
        /* Keeps the operation: a deferred item resumes it. */
        f->queue_status = queue_deferred(f, data, post_resume_routine);
        assert_status(f->queue_status, STATUS_SUCCESS);
    }
    return f->safe_returns;
}

static FLT_PREOP_CALLBACK_STATUS hook_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)context;
    struct fixture *f = tf->user;
    if (f == NULL || data->Iopb->MajorFunction != f->major)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    switch (f->pre_action) {
    case ACT_QUEUE_DEFERRED:
        f->queue_status = queue_deferred(f, data, deferred_routine);
        break;
    case ACT_TOP_LEVEL_THEN_QUEUE:
        IoSetTopLevelIrp(FSRTL_CACHE_TOP_LEVEL_IRP);
        f->queue_status = queue_deferred(f, data, deferred_routine);
        IoSetTopLevelIrp(NULL);
        break;
    case ACT_PEND_PRE:
        f->queue_status = queue_deferred(f, data, resume_routine);
        if (NT_SUCCESS(f->queue_status))
            return FLT_PREOP_PENDING;
        break;
    case ACT_SAFE_IN_PRE: {
        FLT_POSTOP_CALLBACK_STATUS st;
        f->safe_returned =
            FltDoCompletionProcessingWhenSafe(data, objects, NULL, 0, safe_post, &st);
        f->safe_ret = st;
        break;
    }
    case ACT_LEAK_ITEM:
        f->leaked = FltAllocateDeferredIoWorkItem();
        break;
    default:
        break;
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS hook_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    struct fixture *f = tf->user;
    if (f == NULL || data->Iopb->MajorFunction != f->major)
        return FLT_POSTOP_FINISHED_PROCESSING;
    f->post_irql = KeGetCurrentIrql();
    f->post_thread = fltsim_thread_id();
    switch (f->post_action) {
    case ACT_QUEUE_DEFERRED:
        f->queue_status = queue_deferred(f, data, post_resume_routine);
        return NT_SUCCESS(f->queue_status) ? FLT_POSTOP_MORE_PROCESSING_REQUIRED
                                           : FLT_POSTOP_FINISHED_PROCESSING;
    case ACT_TOP_LEVEL_THEN_QUEUE:
        IoSetTopLevelIrp(FSRTL_MOD_WRITE_TOP_LEVEL_IRP);
        f->queue_status = queue_deferred(f, data, post_resume_routine);
        IoSetTopLevelIrp(NULL);
        return NT_SUCCESS(f->queue_status) ? FLT_POSTOP_MORE_PROCESSING_REQUIRED
                                           : FLT_POSTOP_FINISHED_PROCESSING;
    case ACT_SAFE_POST: {
        FLT_POSTOP_CALLBACK_STATUS st = (FLT_POSTOP_CALLBACK_STATUS)77;
        f->safe_returned =
            FltDoCompletionProcessingWhenSafe(data, objects, context, flags, safe_post, &st);
        f->safe_ret = st;
        return st;
    }
    default:
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
}

static int setup_with(void **state, ULONG completion)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create_ex(&f->w, 0, completion);
    tf_init(&f->a, "A", "300000");
    f->a.pre = hook_pre;
    f->a.post = hook_post;
    f->major = IRP_MJ_READ;
    f->queue_type = DelayedWorkQueue;
    KeInitializeEvent(&f->routine_started, NotificationEvent, FALSE);
    KeInitializeEvent(&f->routine_release, NotificationEvent, FALSE);
    current = f;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, FLTSIM_COMPLETE_INLINE);
}

static int setup_async(void **state)
{
    return setup_with(state, FLTSIM_COMPLETE_ASYNC);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    current = NULL;
    free(f);
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(FLTMGR_WORK_ITEM_TAG, &st);
    assert_int_equal(st.outstanding, 0); /* every work item went back */
    return 0;
}

static HANDLE load_and_open(struct fixture *f)
{
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE);
    f->a.user = f;
    rec_reset();
    return h;
}

static NTSTATUS read_flags(struct fixture *f, HANDLE h, ULONG flags)
{
    char buf[8];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    return fltsim_io_read(f->w.sys, h, buf, 5, &zero, flags, &iosb);
}

/* SPEC 5.1: the routine runs once, on a system worker thread (System
 * process) at PASSIVE_LEVEL, with the context it was queued with. */
static void workitem_deferred_runs_on_a_worker_at_passive(void **state)
{
    struct fixture *f = *state;
    f->pre_action = ACT_QUEUE_DEFERRED;
    HANDLE h = load_and_open(f);
    assert_status(read_flags(f, h, 0), STATUS_SUCCESS);
    assert_status(f->queue_status, STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(f->routine_runs, 1);
    assert_int_equal(f->routine_irql, PASSIVE_LEVEL);
    assert_int_equal(f->routine_process, 4);
    assert_int_not_equal(f->routine_thread, fltsim_thread_id());
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 5.3: CriticalWorkQueue and DelayedWorkQueue are served; the other
 * queue types are refused with STATUS_INVALID_PARAMETER. */
static void workitem_queue_types(void **state)
{
    struct fixture *f = *state;
    f->pre_action = ACT_QUEUE_DEFERRED;
    HANDLE h = load_and_open(f);
    const struct {
        WORK_QUEUE_TYPE type;
        NTSTATUS expected;
    } rows[] = {
        {CriticalWorkQueue, STATUS_SUCCESS},
        {DelayedWorkQueue, STATUS_SUCCESS},
        {HyperCriticalWorkQueue, STATUS_INVALID_PARAMETER},
        {NormalWorkQueue, STATUS_INVALID_PARAMETER},
        {BackgroundWorkQueue, STATUS_INVALID_PARAMETER},
        {RealTimeWorkQueue, STATUS_INVALID_PARAMETER},
        {SuperCriticalWorkQueue, STATUS_INVALID_PARAMETER},
        {CustomPriorityWorkQueue, STATUS_INVALID_PARAMETER},
    };
    LONG expected_runs = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        f->queue_type = rows[i].type;
        assert_status(read_flags(f, h, 0), STATUS_SUCCESS);
        assert_status(f->queue_status, rows[i].expected);
        if (NT_SUCCESS(rows[i].expected))
            expected_runs++;
        /* One routine at a time: they record into the same fixture. */
        assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    }
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(f->routine_runs, expected_runs);
    /* The generic queue refuses the same types. */
    PFLT_GENERIC_WORKITEM g = FltAllocateGenericWorkItem();
    assert_non_null(g);
    assert_status(FltQueueGenericWorkItem(g, f->a.filter, NULL, DelayedWorkQueue, NULL),
                  STATUS_INVALID_PARAMETER);
    FltFreeGenericWorkItem(g);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 5.1: a fast-I/O operation cannot be posted. */
static void workitem_deferred_refused_for_fast_io(void **state)
{
    struct fixture *f = *state;
    f->pre_action = ACT_QUEUE_DEFERRED;
    HANDLE h = load_and_open(f);
    assert_status(read_flags(f, h, FLTSIM_IO_FAST), STATUS_SUCCESS);
    assert_status(f->queue_status, STATUS_FLT_NOT_SAFE_TO_POST_OPERATION);
    assert_int_equal(f->routine_runs, 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 5.1: paging I/O cannot be posted, synchronous paging I/O neither. */
static void workitem_deferred_refused_for_paging_io(void **state)
{
    struct fixture *f = *state;
    f->pre_action = ACT_QUEUE_DEFERRED;
    HANDLE h = load_and_open(f);
    assert_status(read_flags(f, h, FLTSIM_IO_PAGING), STATUS_SUCCESS);
    assert_status(f->queue_status, STATUS_FLT_NOT_SAFE_TO_POST_OPERATION);
    f->queue_status = 0;
    assert_status(read_flags(f, h, FLTSIM_IO_PAGING | FLTSIM_IO_SYNC_PAGING), STATUS_SUCCESS);
    assert_status(f->queue_status, STATUS_FLT_NOT_SAFE_TO_POST_OPERATION);
    assert_int_equal(f->routine_runs, 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 5.1: only IRP_PAGING_IO makes an IRP paging I/O. A buffered query
 * carries IRP_INPUT_OPERATION, whose value IRP_SYNCHRONOUS_PAGING_IO shares;
 * it can be posted. */
static void workitem_deferred_accepted_for_buffered_query(void **state)
{
    struct fixture *f = *state;
    f->pre_action = ACT_QUEUE_DEFERRED;
    f->major = IRP_MJ_QUERY_INFORMATION;
    HANDLE h = load_and_open(f);
    FILE_STANDARD_INFORMATION std;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_query_information(f->w.sys, h, &std, sizeof(std),
                                              FileStandardInformation, 0, &iosb),
                  STATUS_SUCCESS);
    assert_status(f->queue_status, STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(f->routine_runs, 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 5.1, 6.6: a thread whose TopLevelIrp is set cannot post, whether the
 * filter or the requestor (the cache manager, say) set it. */
static void workitem_deferred_refused_with_top_level_irp(void **state)
{
    struct fixture *f = *state;
    f->pre_action = ACT_TOP_LEVEL_THEN_QUEUE;
    HANDLE h = load_and_open(f);
    assert_status(read_flags(f, h, 0), STATUS_SUCCESS);
    assert_status(f->queue_status, STATUS_FLT_NOT_SAFE_TO_POST_OPERATION);

    f->pre_action = ACT_QUEUE_DEFERRED;
    f->queue_status = 0;
    IoSetTopLevelIrp(FSRTL_CACHE_TOP_LEVEL_IRP);
    NTSTATUS status = read_flags(f, h, 0);
    IoSetTopLevelIrp(NULL);
    assert_status(status, STATUS_SUCCESS);
    assert_status(f->queue_status, STATUS_FLT_NOT_SAFE_TO_POST_OPERATION);

    /* In post, too: the filter falls back to finishing inline. */
    f->pre_action = ACT_NONE;
    f->post_action = ACT_TOP_LEVEL_THEN_QUEUE;
    f->queue_status = 0;
    assert_status(read_flags(f, h, 0), STATUS_SUCCESS);
    assert_status(f->queue_status, STATUS_FLT_NOT_SAFE_TO_POST_OPERATION);
    assert_int_equal(f->routine_runs, 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 5.1: a deferred item pends the operation in pre; its routine resumes
 * it; the item goes back to the pool. */
static void workitem_deferred_pend_and_resume(void **state)
{
    struct fixture *f = *state;
    f->pre_action = ACT_PEND_PRE;
    HANDLE h = load_and_open(f);
    assert_status(read_flags(f, h, 0), STATUS_SUCCESS);
    assert_status(f->queue_status, STATUS_SUCCESS);
    assert_int_equal(f->routine_runs, 1);
    /* The routine frees the item after resuming the operation. */
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(FLTMGR_WORK_ITEM_TAG, &st);
    assert_int_equal(st.outstanding, 0);
    assert_true(st.total >= 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* ---- teardown: queuing fails with STATUS_FLT_DELETING_OBJECT ---- */

static PFLT_CALLBACK_DATA held_data;
static NTSTATUS teardown_queue_status, teardown_generic_status, teardown_generic_filter_status;

static FLT_PREOP_CALLBACK_STATUS hold_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_WRITE)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    held_data = data;
    return FLT_PREOP_PENDING;
}

static VOID generic_routine(PFLT_GENERIC_WORKITEM item, PVOID object, PVOID context)
{
    struct fixture *f = context;
    f->routine_object = object;
    f->routine_context = context;
    f->routine_irql = KeGetCurrentIrql();
    f->routine_process = fltsim_thread_process_id();
    __atomic_add_fetch(&f->routine_runs, 1, __ATOMIC_SEQ_CST);
    if (f->routine_blocks) {
        KeSetEvent(&f->routine_started, IO_NO_INCREMENT, FALSE);
        KeWaitForSingleObject(&f->routine_release, Executive, KernelMode, FALSE, NULL);
    }
    FltFreeGenericWorkItem(item);
}

/* In TeardownStart the instance is being torn down: a deferred item for an
 * operation it holds, and a generic item on it, are refused; the filter then
 * completes what it pended, as it must. */
static void teardown_start_queues(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    struct fixture *f = current;
    PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
    teardown_queue_status =
        FltQueueDeferredIoWorkItem(item, held_data, deferred_routine, DelayedWorkQueue, f);
    FltFreeDeferredIoWorkItem(item);
    PFLT_GENERIC_WORKITEM g = FltAllocateGenericWorkItem();
    teardown_generic_status =
        FltQueueGenericWorkItem(g, objects->Instance, generic_routine, DelayedWorkQueue, f);
    teardown_generic_filter_status =
        FltQueueGenericWorkItem(g, tf->filter, generic_routine, DelayedWorkQueue, f);
    if (!NT_SUCCESS(teardown_generic_filter_status))
        FltFreeGenericWorkItem(g);
    FltCompletePendedPreOperation(held_data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
}

struct detach_job {
    struct fixture *f;
    NTSTATUS status;
};

static void detach_thread(void *arg)
{
    struct detach_job *job = arg;
    job->status = FltDetachVolume(job->f->a.filter, job->f->w.volume, NULL);
}

/* SPEC 2.6 step 1, 5.1, 5.2: during a manual detach, queuing for the
 * instance fails with STATUS_FLT_DELETING_OBJECT, a generic item on the
 * filter (not unloading) is still served. */
static void workitem_refused_while_instance_tears_down(void **state)
{
    struct fixture *f = *state;
    f->a.pre = hold_pre;
    f->a.teardown_start_hook = teardown_start_queues;
    held_data = NULL;
    HANDLE h = load_and_open(f);
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    HANDLE ah = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_WRITE);
    struct fltsim_io_async io = {.event = &done};
    assert_status(fltsim_io_write_async(f->w.sys, ah, "HELLO", 5, 0, 0, &io), STATUS_PENDING);
    assert_non_null(held_data);

    struct detach_job job = {f, STATUS_PENDING};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(f->w.sys, 1000, 4001, detach_thread, &job, &t),
                  STATUS_SUCCESS);
    fltsim_thread_join(t);
    assert_status(job.status, STATUS_SUCCESS);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_status(io.iosb.Status, STATUS_SUCCESS);
    assert_status(teardown_queue_status, STATUS_FLT_DELETING_OBJECT);
    assert_status(teardown_generic_status, STATUS_FLT_DELETING_OBJECT);
    assert_status(teardown_generic_filter_status, STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(f->routine_runs, 1);
    assert_ptr_equal(f->routine_object, f->a.filter);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, ah), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 5.2: generic items run at PASSIVE_LEVEL in the System process with
 * the object and context they were queued with, for a filter or an
 * instance. */
static void workitem_generic_on_filter_and_instance(void **state)
{
    struct fixture *f = *state;
    HANDLE h = load_and_open(f);
    PVOID objects[2] = {f->a.filter, f->a.last_instance};
    for (int i = 0; i < 2; i++) {
        PFLT_GENERIC_WORKITEM g = FltAllocateGenericWorkItem();
        assert_non_null(g);
        f->routine_object = NULL;
        assert_status(FltQueueGenericWorkItem(g, objects[i], generic_routine, CriticalWorkQueue, f),
                      STATUS_SUCCESS);
        assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
        assert_ptr_equal(f->routine_object, objects[i]);
        assert_ptr_equal(f->routine_context, f);
        assert_int_equal(f->routine_irql, PASSIVE_LEVEL);
        assert_int_equal(f->routine_process, 4);
    }
    assert_int_equal(f->routine_runs, 2);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

static LONG teardown_completes;

static void count_teardown_completes(void *ctx, const struct fltsim_event *ev)
{
    (void)ctx;
    if (ev->type == FLTSIM_EV_TEARDOWN_COMPLETE)
        __atomic_add_fetch(&teardown_completes, 1, __ATOMIC_SEQ_CST);
}

/* SPEC 5.2, 2.7: FltUnregisterFilter waits for a generic item's routine. */
static void workitem_unregister_waits_for_generic_item(void **state)
{
    struct fixture *f = *state;
    HANDLE h = load_and_open(f);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    teardown_completes = 0;
    fltsim_system_set_trace(f->w.sys, count_teardown_completes, NULL);
    f->routine_blocks = true;
    PFLT_GENERIC_WORKITEM g = FltAllocateGenericWorkItem();
    assert_status(FltQueueGenericWorkItem(g, f->a.filter, generic_routine, DelayedWorkQueue, f),
                  STATUS_SUCCESS);
    assert_status(KeWaitForSingleObject(&f->routine_started, Executive, KernelMode, FALSE, NULL),
                  STATUS_SUCCESS);
    struct unload_job job = {.drv = f->a.driver, .status = STATUS_PENDING};
    fltsim_thread *t = unload_in_background(f->w.sys, &job);
    /* The unload runs until it blocks on the item's reference. */
    assert_status(fltsim_system_wait_idle(f->w.sys, 200), STATUS_TIMEOUT);
    LONG done_while_running = __atomic_load_n(&job.done, __ATOMIC_SEQ_CST);
    LONG completes = __atomic_load_n(&teardown_completes, __ATOMIC_SEQ_CST);
    KeSetEvent(&f->routine_release, IO_NO_INCREMENT, FALSE);
    fltsim_thread_join(t);
    f->a.filter = NULL;
    assert_int_equal(done_while_running, 0);
    assert_int_equal(completes, 1); /* instances went; the filter waited */
    assert_status(job.status, STATUS_SUCCESS);
    assert_int_equal(f->routine_runs, 1);
}

/* SPEC 5.2: while the filter unloads, queuing on it fails. */
static void teardown_start_queue_on_filter(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    PFLT_GENERIC_WORKITEM g = FltAllocateGenericWorkItem();
    teardown_generic_filter_status =
        FltQueueGenericWorkItem(g, tf->filter, generic_routine, DelayedWorkQueue, current);
    if (!NT_SUCCESS(teardown_generic_filter_status))
        FltFreeGenericWorkItem(g);
}

static void workitem_generic_refused_while_unloading(void **state)
{
    struct fixture *f = *state;
    f->a.teardown_start_hook = teardown_start_queue_on_filter;
    teardown_generic_filter_status = STATUS_PENDING;
    HANDLE h = load_and_open(f);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_status(teardown_generic_filter_status, STATUS_FLT_DELETING_OBJECT);
    assert_int_equal(f->routine_runs, 0);
}

/* V23: an item allocated by the filter and never freed is reported at
 * unload (and stays counted under FltMgr's tag until freed). */
static void workitem_leak_reported_at_unload(void **state)
{
    struct fixture *f = *state;
    f->pre_action = ACT_LEAK_ITEM;
    HANDLE h = load_and_open(f);
    assert_status(read_flags(f, h, 0), STATUS_SUCCESS);
    assert_non_null(f->leaked);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(FLTMGR_WORK_ITEM_TAG, &st);
    assert_int_equal(st.outstanding, 1);
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V23"), 1);
    FltFreeDeferredIoWorkItem(f->leaked);
}

/* V23: freeing a queued item is refused (it would corrupt the pool on
 * Windows); the item is freed by its routine later. Only the deterministic
 * executor can hold the item queued for sure. */
static void workitem_free_while_queued_is_refused(void **state)
{
    struct fixture *f = *state;
    if (test_executor != FLTSIM_EXECUTOR_DETERMINISTIC)
        skip();
    HANDLE h = load_and_open(f);
    PFLT_GENERIC_WORKITEM g = FltAllocateGenericWorkItem();
    assert_status(FltQueueGenericWorkItem(g, f->a.filter, generic_routine, DelayedWorkQueue, f),
                  STATUS_SUCCESS);
    FltFreeGenericWorkItem(g); /* still queued: the routine has not started */
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V23"), 1);
    assert_status(FltQueueGenericWorkItem(g, f->a.filter, generic_routine, DelayedWorkQueue, f),
                  STATUS_INVALID_PARAMETER);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V23"), 2);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(f->routine_runs, 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* ---- FltDoCompletionProcessingWhenSafe (SPEC 4.3) ---- */

/* Below DISPATCH_LEVEL the callback runs at once, on the post's thread. */
static void safe_below_dispatch_calls_at_once(void **state)
{
    struct fixture *f = *state;
    f->post_action = ACT_SAFE_POST;
    f->safe_returns = FLT_POSTOP_FINISHED_PROCESSING;
    HANDLE h = load_and_open(f);
    assert_status(read_flags(f, h, 0), STATUS_SUCCESS);
    assert_int_equal(f->post_irql, PASSIVE_LEVEL);
    assert_true(f->safe_returned);
    assert_int_equal(f->safe_ret, FLT_POSTOP_FINISHED_PROCESSING);
    assert_int_equal(f->safe_calls, 1);
    assert_int_equal(f->safe_thread, f->post_thread);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* At DISPATCH_LEVEL the callback is posted to a worker: TRUE with
 * MORE_PROCESSING_REQUIRED; FltMgr resumes completion after it. */
static void safe_at_dispatch_posts_to_a_worker(void **state)
{
    struct fixture *f = *state;
    f->post_action = ACT_SAFE_POST;
    f->safe_returns = FLT_POSTOP_FINISHED_PROCESSING;
    HANDLE h = load_and_open(f);
    rec_trace_system(f->w.sys);
    rec_reset();
    assert_status(read_flags(f, h, 0), STATUS_SUCCESS);
    assert_int_equal(f->post_irql, DISPATCH_LEVEL);
    assert_true(f->safe_returned);
    assert_int_equal(f->safe_ret, FLT_POSTOP_MORE_PROCESSING_REQUIRED);
    assert_int_equal(f->safe_calls, 1);
    assert_int_equal(f->safe_irql, PASSIVE_LEVEL);
    assert_int_not_equal(f->safe_thread, f->post_thread);
    assert_recorded("A:pre:READ FS:READ A:post:READ safe");
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* A posted callback that returns MORE_PROCESSING_REQUIRED keeps the
 * operation until the filter completes it. */
static void safe_callback_may_keep_the_operation(void **state)
{
    struct fixture *f = *state;
    f->post_action = ACT_SAFE_POST;
    f->safe_returns = FLT_POSTOP_MORE_PROCESSING_REQUIRED;
    HANDLE h = load_and_open(f);
    assert_status(read_flags(f, h, 0), STATUS_SUCCESS);
    assert_int_equal(f->safe_calls, 1);
    assert_int_equal(f->routine_runs, 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* Paging I/O at DISPATCH_LEVEL cannot be posted: FALSE, FINISHED, and the
 * callback never runs. */
static void safe_not_safe_for_paging_io(void **state)
{
    struct fixture *f = *state;
    f->post_action = ACT_SAFE_POST;
    HANDLE h = load_and_open(f);
    assert_status(read_flags(f, h, FLTSIM_IO_PAGING), STATUS_SUCCESS);
    assert_int_equal(f->post_irql, DISPATCH_LEVEL);
    assert_false(f->safe_returned);
    assert_int_equal(f->safe_ret, FLT_POSTOP_FINISHED_PROCESSING);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(f->safe_calls, 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* V15: only from a post callback, not while draining, IRP only. */
static void safe_outside_a_post_is_reported(void **state)
{
    struct fixture *f = *state;
    f->pre_action = ACT_SAFE_IN_PRE;
    HANDLE h = load_and_open(f);
    assert_status(read_flags(f, h, 0), STATUS_SUCCESS);
    assert_false(f->safe_returned);
    assert_int_equal(f->safe_ret, FLT_POSTOP_FINISHED_PROCESSING);
    assert_int_equal(f->safe_calls, 0);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V15"), 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

static void safe_for_fast_io_is_reported(void **state)
{
    struct fixture *f = *state;
    f->post_action = ACT_SAFE_POST;
    HANDLE h = load_and_open(f);
    assert_status(read_flags(f, h, FLTSIM_IO_FAST), STATUS_SUCCESS);
    assert_false(f->safe_returned);
    assert_int_equal(f->safe_calls, 0);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V15"), 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define ASYNC_CASE(name) cmocka_unit_test_setup_teardown(name, setup_async, teardown)
    const struct CMUnitTest tests[] = {
        CASE(workitem_deferred_runs_on_a_worker_at_passive),
        CASE(workitem_queue_types),
        CASE(workitem_deferred_refused_for_fast_io),
        CASE(workitem_deferred_refused_for_paging_io),
        CASE(workitem_deferred_accepted_for_buffered_query),
        CASE(workitem_deferred_refused_with_top_level_irp),
        CASE(workitem_deferred_pend_and_resume),
        CASE(workitem_refused_while_instance_tears_down),
        CASE(workitem_generic_on_filter_and_instance),
        CASE(workitem_unregister_waits_for_generic_item),
        CASE(workitem_generic_refused_while_unloading),
        CASE(workitem_leak_reported_at_unload),
        CASE(workitem_free_while_queued_is_refused),
        CASE(safe_below_dispatch_calls_at_once),
        ASYNC_CASE(safe_at_dispatch_posts_to_a_worker),
        ASYNC_CASE(safe_callback_may_keep_the_operation),
        ASYNC_CASE(safe_not_safe_for_paging_io),
        CASE(safe_outside_a_post_is_reported),
        CASE(safe_for_fast_io_is_reported),
    };
    return FLTSIM_RUN_SUITE("workitem", tests);
}
