/*
 * Teardown with operations in flight (SPEC 2.6, 4.4): posts an instance still
 * owes are called at once with FLTFL_POST_OPERATION_DRAINING on a copy of the
 * callback data, exactly once; nothing can be queued for them;
 * InstanceTeardownStart must complete what the filter pended (V26 otherwise)
 * and InstanceTeardownComplete waits for every operation the instance holds.
 * An operation whose buffer the instance swapped is not drained but waited
 * for (SPEC 2.6 step 3). A (300000), B (200000) and, in some cases, C
 * (100000) over memfs; overlapped writes or spawned requestors keep
 * operations in flight while the test detaches or unloads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fltsim_test.h"

struct watch {
    UCHAR major;
    bool hold_in_pre;  /* pre: keep it pended (held) */
    bool hold_in_post; /* post: MORE_PROCESSING_REQUIRED, keep it (held) */
    bool synchronize;  /* pre: FLT_PREOP_SYNCHRONIZE */
    bool complete_in_teardown_start;
    bool block_teardown_start; /* TeardownStart waits for release_teardown */
    bool swap;        /* pre: swap the buffer (write or query information), dirty */
    bool move_offset; /* pre: change only Write.ByteOffset, dirty */
    char swap_buffer[64];
    FLT_POSTOP_CALLBACK_STATUS draining_returns;
    /* observed */
    PFLT_CALLBACK_DATA pre_data, held;
    LONG posts, draining_posts;
    ULONG post_flags, post_data_flags;
    PFLT_CALLBACK_DATA post_data;
    PVOID post_context;
    KIRQL post_irql;
    ULONG post_thread, pre_thread;
    NTSTATUS draining_queue_status;
    BOOLEAN draining_safe;
    KEVENT teardown_started;
    KEVENT release_teardown;
};

struct fixture {
    struct test_world w;
    struct tf_filter a, b, c; /* c (100000) only where a case loads it */
    struct watch wa, wb, wc;
};

static LONG teardown_completes;

static void count_events(void *ctx, const struct fltsim_event *ev)
{
    (void)ctx;
    if (ev->type == FLTSIM_EV_TEARDOWN_COMPLETE)
        __atomic_add_fetch(&teardown_completes, 1, __ATOMIC_SEQ_CST);
}

static VOID never_runs(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    (void)data;
    (void)context;
    fail_msg("a deferred item queued by a draining post ran");
    FltFreeDeferredIoWorkItem(item);
}

static FLT_POSTOP_CALLBACK_STATUS never_safe(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                             PVOID context, FLT_POST_OPERATION_FLAGS flags)
{
    (void)data;
    (void)objects;
    (void)context;
    (void)flags;
    fail_msg("FltDoCompletionProcessingWhenSafe ran a callback for a draining post");
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static FLT_PREOP_CALLBACK_STATUS hook_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    struct watch *w = tf->user;
    if (w == NULL || data->Iopb->MajorFunction != w->major)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    w->pre_data = data;
    w->pre_thread = fltsim_thread_id();
    *context = (PVOID)0xC0FFEE;
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    if (w->swap && w->major == IRP_MJ_WRITE) {
        /* The filter's own buffer goes down, with other data; the post
         * "frees" it (SPEC 6.3, as BufferRewriter does). */
        memcpy(w->swap_buffer, "SWAPD", 5);
        iopb->Parameters.Write.WriteBuffer = w->swap_buffer;
        iopb->Parameters.Write.MdlAddress = NULL;
        FltSetCallbackDataDirty(data);
        *context = w->swap_buffer;
    } else if (w->swap && w->major == IRP_MJ_QUERY_INFORMATION) {
        memset(w->swap_buffer, 0, sizeof(w->swap_buffer));
        iopb->Parameters.QueryFileInformation.InfoBuffer = w->swap_buffer;
        FltSetCallbackDataDirty(data);
        *context = w->swap_buffer;
    } else if (w->move_offset) {
        iopb->Parameters.Write.ByteOffset.QuadPart += 6; /* no buffer of its own */
        FltSetCallbackDataDirty(data);
    }
    if (w->hold_in_pre) {
        *context = NULL;
        __atomic_store_n(&w->held, data, __ATOMIC_SEQ_CST);
        return FLT_PREOP_PENDING;
    }
    return w->synchronize ? FLT_PREOP_SYNCHRONIZE : FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS hook_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    struct watch *w = tf->user;
    if (w == NULL || data->Iopb->MajorFunction != w->major)
        return FLT_POSTOP_FINISHED_PROCESSING;
    __atomic_add_fetch(&w->posts, 1, __ATOMIC_SEQ_CST);
    w->post_flags = flags;
    w->post_data_flags = data->Flags;
    w->post_data = data;
    w->post_context = context;
    w->post_irql = KeGetCurrentIrql();
    w->post_thread = fltsim_thread_id();
    if (flags & FLTFL_POST_OPERATION_DRAINING) {
        __atomic_add_fetch(&w->draining_posts, 1, __ATOMIC_SEQ_CST);
        if (w->swap && context == w->swap_buffer)
            memset(w->swap_buffer, 'x', sizeof(w->swap_buffer)); /* its clean-up: "free" */
        /* No work may be queued for a draining operation (SPEC 4.4). */
        PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
        w->draining_queue_status =
            FltQueueDeferredIoWorkItem(item, data, never_runs, DelayedWorkQueue, NULL);
        if (!NT_SUCCESS(w->draining_queue_status))
            FltFreeDeferredIoWorkItem(item);
        FLT_POSTOP_CALLBACK_STATUS st;
        w->draining_safe =
            FltDoCompletionProcessingWhenSafe(data, objects, context, flags, never_safe, &st);
        return w->draining_returns;
    }
    if (w->hold_in_post) {
        w->held = data;
        return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
    }
    if (w->swap && context == w->swap_buffer) {
        /* The post sees the parameters its pre received: hand the answer to
         * the caller's buffer, then "free" the swapped one (poisoned, so a
         * file system still using it would show). */
        if (w->major == IRP_MJ_QUERY_INFORMATION && NT_SUCCESS(data->IoStatus.Status))
            memcpy(data->Iopb->Parameters.QueryFileInformation.InfoBuffer, w->swap_buffer,
                   data->IoStatus.Information);
        memset(w->swap_buffer, 'x', sizeof(w->swap_buffer));
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static void teardown_start(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    struct watch *w = tf->user;
    if (w == NULL)
        return;
    KeSetEvent(&w->teardown_started, IO_NO_INCREMENT, FALSE);
    if (w->block_teardown_start)
        KeWaitForSingleObject(&w->release_teardown, Executive, KernelMode, FALSE, NULL);
    if (!w->complete_in_teardown_start || w->held == NULL)
        return;
    PFLT_CALLBACK_DATA held = w->held;
    w->held = NULL;
    if (w->hold_in_post)
        FltCompletePendedPostOperation(held);
    else
        FltCompletePendedPreOperation(held, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
}

static void watch_init(struct watch *w)
{
    memset(w, 0, sizeof(*w));
    w->major = IRP_MJ_WRITE;
    w->draining_returns = FLT_POSTOP_FINISHED_PROCESSING;
    KeInitializeEvent(&w->teardown_started, NotificationEvent, FALSE);
    KeInitializeEvent(&w->release_teardown, NotificationEvent, FALSE);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_init(&f->b, "B", "200000");
    tf_init(&f->c, "C", "100000");
    struct tf_filter *all[] = {&f->a, &f->b, &f->c};
    struct watch *watches[] = {&f->wa, &f->wb, &f->wc};
    for (int i = 0; i < 3; i++) {
        all[i]->pre = hook_pre;
        all[i]->post = hook_post;
        all[i]->teardown_start_hook = teardown_start;
        watch_init(watches[i]);
    }
    teardown_completes = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    return 0;
}

static void load_both(struct fixture *f)
{
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    f->a.user = &f->wa;
    f->b.user = &f->wb;
    fltsim_system_set_trace(f->w.sys, count_events, NULL);
}

/* An overlapped write on an asynchronous handle, left in flight. */
struct inflight {
    HANDLE handle;
    KEVENT done;
    struct fltsim_io_async io;
};

static void start_write(struct fixture *f, struct inflight *in)
{
    in->handle = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_WRITE);
    KeInitializeEvent(&in->done, NotificationEvent, FALSE);
    memset(&in->io, 0, sizeof(in->io));
    in->io.event = &in->done;
    assert_status(fltsim_io_write_async(f->w.sys, in->handle, "HELLO", 5, 0, 0, &in->io),
                  STATUS_PENDING);
}

static void finish_write(struct fixture *f, struct inflight *in)
{
    assert_status(KeWaitForSingleObject(&in->done, Executive, KernelMode, FALSE, NULL),
                  STATUS_SUCCESS);
    assert_status(in->io.iosb.Status, STATUS_SUCCESS);
    assert_int_equal(in->io.iosb.Information, 5);
    assert_status(fltsim_io_close(f->w.sys, in->handle), STATUS_SUCCESS);
}

/* SPEC 2.6 step 3, 4.4: detaching A while B holds the operation below it
 * calls A's post at once with FLTFL_POST_OPERATION_DRAINING, on a copy of the
 * callback data flagged FLTFL_CALLBACK_DATA_DRAINING_IO, with A's completion
 * context, at <= APC_LEVEL; queuing work fails (STATUS_FLT_DELETING_OBJECT),
 * FltDoCompletionProcessingWhenSafe is refused (V15). When the I/O completes
 * later, A's post is not called again. */
static void teardown_drains_owed_posts_once(void **state)
{
    struct fixture *f = *state;
    f->wb.hold_in_pre = true;
    load_both(f);
    struct inflight in;
    start_write(f, &in);
    assert_non_null(f->wb.held);
    assert_status(FltDetachVolume(f->a.filter, f->w.volume, NULL), STATUS_SUCCESS);
    assert_int_equal(teardown_completes, 1);
    assert_int_equal(f->wa.posts, 1);
    assert_int_equal(f->wa.draining_posts, 1);
    assert_int_equal(f->wa.post_flags, FLTFL_POST_OPERATION_DRAINING);
    assert_true(f->wa.post_data_flags & FLTFL_CALLBACK_DATA_DRAINING_IO);
    assert_true(f->wa.post_data_flags & FLTFL_CALLBACK_DATA_IRP_OPERATION);
    assert_ptr_not_equal(f->wa.post_data, f->wa.pre_data); /* a copy */
    assert_ptr_equal(f->wa.post_context, (PVOID)0xC0FFEE);
    assert_true(f->wa.post_irql <= APC_LEVEL);
    assert_status(f->wa.draining_queue_status, STATUS_FLT_DELETING_OBJECT);
    assert_false(f->wa.draining_safe);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V15"), 1);

    FltCompletePendedPreOperation(f->wb.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    finish_write(f, &in);
    assert_int_equal(f->wa.posts, 1); /* exactly once */
    assert_int_equal(f->wb.posts, 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
}

/* SPEC 4.4, V10: a draining post must return FINISHED_PROCESSING. */
static void teardown_draining_post_must_finish(void **state)
{
    struct fixture *f = *state;
    f->wb.hold_in_pre = true;
    f->wa.draining_returns = FLT_POSTOP_MORE_PROCESSING_REQUIRED;
    load_both(f);
    struct inflight in;
    start_write(f, &in);
    assert_status(FltDetachVolume(f->a.filter, f->w.volume, NULL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V10"), 1);
    assert_int_equal(teardown_completes, 1);
    FltCompletePendedPreOperation(f->wb.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    finish_write(f, &in);
    assert_int_equal(f->wa.posts, 1);
}

/* SPEC 2.6 step 2, 5.1: an operation the filter pended in post is completed
 * by its InstanceTeardownStart; completion goes on up (A's post) on the
 * teardown thread, and teardown finishes without a report. */
static void teardown_start_completes_what_was_pended_in_post(void **state)
{
    struct fixture *f = *state;
    f->wb.hold_in_post = true;
    f->wb.complete_in_teardown_start = true;
    load_both(f);
    struct inflight in;
    start_write(f, &in);
    assert_non_null(f->wb.held);
    assert_int_equal(f->wa.posts, 0);
    assert_status(FltDetachVolume(f->b.filter, f->w.volume, NULL), STATUS_SUCCESS);
    assert_int_equal(teardown_completes, 1);
    assert_int_equal(f->wa.posts, 1);
    assert_int_equal(f->wa.post_flags, 0);
    assert_int_equal(f->wa.post_thread, fltsim_thread_id());
    finish_write(f, &in);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* The same through a filter unload (reason FILTER_UNLOAD). */
static void teardown_unload_completes_what_was_pended_in_pre(void **state)
{
    struct fixture *f = *state;
    f->wb.hold_in_pre = true;
    f->wb.complete_in_teardown_start = true;
    load_both(f);
    struct inflight in;
    start_write(f, &in);
    assert_status(fltsim_driver_unload(f->b.driver, 0), STATUS_SUCCESS);
    f->b.filter = NULL;
    assert_int_equal(teardown_completes, 1);
    finish_write(f, &in);
    assert_int_equal(f->wa.posts, 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

struct detach_job {
    struct fixture *f;
    PFLT_FILTER filter;
    NTSTATUS status;
    LONG done;
};

static void detach_thread(void *arg)
{
    struct detach_job *job = arg;
    job->status = FltDetachVolume(job->filter, job->f->w.volume, NULL);
    __atomic_store_n(&job->done, 1, __ATOMIC_SEQ_CST);
}

/* Detaches job->filter on a spawned thread and returns once the
 * InstanceTeardownStartCallback watched by w ran. */
static fltsim_thread *detach_in_background(struct detach_job *job, struct watch *w)
{
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(job->f->w.sys, 1000, 4001, detach_thread, job, &t),
                  STATUS_SUCCESS);
    assert_status(KeWaitForSingleObject(&w->teardown_started, Executive, KernelMode, FALSE, NULL),
                  STATUS_SUCCESS);
    return t;
}

static fltsim_thread *detach_b_in_background(struct detach_job *job)
{
    return detach_in_background(job, &job->f->wb);
}

/* SPEC 2.6 steps 2 and 4, V26: when InstanceTeardownStart leaves an
 * operation pended, the verifier says so and InstanceTeardownComplete waits
 * until the operation is completed. */
static void teardown_waits_for_pended_operation_and_reports(void **state)
{
    struct fixture *f = *state;
    f->wb.hold_in_pre = true;
    load_both(f);
    struct inflight in;
    start_write(f, &in);
    struct detach_job job = {f, f->b.filter, STATUS_PENDING, 0};
    fltsim_thread *t = detach_b_in_background(&job);
    /* The detach blocks on the pended operation. */
    assert_status(fltsim_system_wait_idle(f->w.sys, 200), STATUS_TIMEOUT);
    assert_int_equal(__atomic_load_n(&job.done, __ATOMIC_SEQ_CST), 0);
    assert_int_equal(__atomic_load_n(&teardown_completes, __ATOMIC_SEQ_CST), 0);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V26"), 1);

    FltCompletePendedPreOperation(f->wb.held, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    fltsim_thread_join(t);
    assert_status(job.status, STATUS_SUCCESS);
    assert_int_equal(teardown_completes, 1);
    finish_write(f, &in);
    assert_int_equal(f->wa.posts, 1);
}

/* A synchronous requestor blocked in its read while A synchronized it. */
struct read_job {
    struct fixture *f;
    HANDLE handle;
    NTSTATUS status;
    ULONG thread;
};

static void read_thread(void *arg)
{
    struct read_job *job = arg;
    char buf[8];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    job->thread = fltsim_thread_id();
    job->status = fltsim_io_read(job->f->w.sys, job->handle, buf, 5, &zero, 0, &iosb);
}

/* SPEC 4.4: a synchronized operation's draining post is not switched back to
 * the pre's thread; it runs on the teardown thread, once. */
static void teardown_drains_synchronized_post_on_teardown_thread(void **state)
{
    struct fixture *f = *state;
    f->wa.major = f->wb.major = IRP_MJ_READ;
    f->wa.synchronize = true;
    f->wb.hold_in_pre = true;
    load_both(f);
    struct read_job job = {f, NULL, STATUS_PENDING, 0};
    job.handle = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(f->w.sys, 1000, 4002, read_thread, &job, &t), STATUS_SUCCESS);
    /* Wait until B holds the read. */
    for (int i = 0; i < 1000 && __atomic_load_n(&f->wb.held, __ATOMIC_SEQ_CST) == NULL; i++) {
        LARGE_INTEGER ms = {.QuadPart = -10000};
        KeDelayExecutionThread(KernelMode, FALSE, &ms);
    }
    assert_non_null(f->wb.held);
    assert_status(FltDetachVolume(f->a.filter, f->w.volume, NULL), STATUS_SUCCESS);
    assert_int_equal(f->wa.draining_posts, 1);
    assert_int_equal(f->wa.post_thread, fltsim_thread_id());
    assert_int_not_equal(f->wa.post_thread, f->wa.pre_thread);
    FltCompletePendedPreOperation(f->wb.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    fltsim_thread_join(t);
    assert_status(job.status, STATUS_SUCCESS);
    assert_int_equal(f->wa.posts, 1);
    assert_int_equal(f->wb.posts, 1);
    assert_status(fltsim_io_close(f->w.sys, job.handle), STATUS_SUCCESS);
}

static void file_is(struct fixture *f, const char *expected);

/* SPEC 2.6 step 1: operations that start after teardown began skip the
 * instance. B's InstanceTeardownStart waits while the test writes. */
static void teardown_new_operations_skip_the_instance(void **state)
{
    struct fixture *f = *state;
    f->wb.block_teardown_start = true;
    load_both(f);
    struct detach_job job = {f, f->b.filter, STATUS_PENDING, 0};
    fltsim_thread *t = detach_b_in_background(&job);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_WRITE);
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_status(fltsim_io_write(f->w.sys, h, "x", 1, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_null(f->wb.pre_data); /* B's pre never ran */
    assert_int_equal(f->wa.posts, 1);
    assert_int_equal(__atomic_load_n(&job.done, __ATOMIC_SEQ_CST), 0);
    KeSetEvent(&f->wb.release_teardown, IO_NO_INCREMENT, FALSE);
    fltsim_thread_join(t);
    assert_status(job.status, STATUS_SUCCESS);
    assert_int_equal(f->wb.posts, 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 2.6 steps 1 and 4 (issue 16): a teardown waits for what is in the
 * instance, not for an operation held above it that has not reached it.
 * A (above) holds a write pended in its pre; detaching B (below) finishes at
 * once, without a report; when A lets the write go, it skips B, as it would
 * skip an instance that was never attached, and completes. */
static void teardown_does_not_wait_for_operations_held_above(void **state)
{
    struct fixture *f = *state;
    f->wa.hold_in_pre = true;
    load_both(f);
    struct inflight in;
    start_write(f, &in);
    assert_non_null(f->wa.held);
    assert_status(FltDetachVolume(f->b.filter, f->w.volume, NULL), STATUS_SUCCESS);
    assert_int_equal(teardown_completes, 1);
    assert_int_equal(f->wb.posts, 0);
    FltCompletePendedPreOperation(f->wa.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    finish_write(f, &in);
    file_is(f, "HELLO world");
    assert_null(f->wb.pre_data); /* the write skipped B */
    assert_int_equal(f->wb.posts, 0);
    assert_int_equal(f->wa.posts, 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* The same through an unload of B's driver (FILTER_UNLOAD). */
static void teardown_unload_below_held_operations(void **state)
{
    struct fixture *f = *state;
    f->wa.hold_in_pre = true;
    load_both(f);
    struct inflight in;
    start_write(f, &in);
    PFLT_CALLBACK_DATA first = f->wa.held;
    assert_non_null(first);
    assert_status(fltsim_driver_unload(f->b.driver, 0), STATUS_SUCCESS);
    f->b.filter = NULL;
    assert_int_equal(teardown_completes, 1);
    FltCompletePendedPreOperation(first, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    finish_write(f, &in);
    assert_null(f->wb.pre_data);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* The three filters A, B and C, each watched. */
static void load_three(struct fixture *f)
{
    assert_status(tf_load(f->w.sys, &f->c), STATUS_SUCCESS);
    load_both(f);
    f->c.user = &f->wc;
}

static void file_is(struct fixture *f, const char *expected)
{
    char data[64];
    size_t size = 0;
    assert_status(fltsim_memfs_read_file(f->w.fs, L"\\a.txt", data, sizeof(data), &size),
                  STATUS_SUCCESS);
    assert_int_equal(size, strlen(expected));
    assert_memory_equal(data, expected, size);
}

/* SPEC 2.6 step 3: an operation whose write buffer A swapped is not drained
 * when A detaches (its post would free the buffer the layers below still
 * use). A's teardown cancels it (C, which holds it, set no cancel routine:
 * only its Cancel bit changes) and waits for the operation; the file system writes from A's buffer
 * and A's post then runs once, normally. B, which did not swap, is drained from the same operation
 * as before, exactly once. */
static void teardown_waits_for_swapped_write_instead_of_draining(void **state)
{
    struct fixture *f = *state;
    f->wa.swap = true;
    f->wc.hold_in_pre = true;
    load_three(f);
    struct inflight in;
    start_write(f, &in);
    assert_non_null(f->wc.held);

    assert_status(FltDetachVolume(f->b.filter, f->w.volume, NULL), STATUS_SUCCESS);
    assert_int_equal(f->wb.posts, 1);
    assert_int_equal(f->wb.draining_posts, 1);
    assert_int_equal(f->wb.post_flags, FLTFL_POST_OPERATION_DRAINING);
    assert_int_equal(teardown_completes, 1);

    struct detach_job job = {f, f->a.filter, STATUS_PENDING, 0};
    fltsim_thread *t = detach_in_background(&job, &f->wa);
    /* The detach blocks on the operation instead of draining A's post.
     * Observed now, asserted once the operation and the detach are over. */
    NTSTATUS idle = fltsim_system_wait_idle(f->w.sys, 200);
    LONG done_while_held = __atomic_load_n(&job.done, __ATOMIC_SEQ_CST);
    LONG posts_while_held = __atomic_load_n(&f->wa.posts, __ATOMIC_SEQ_CST);
    LONG completes_while_held = __atomic_load_n(&teardown_completes, __ATOMIC_SEQ_CST);

    FltCompletePendedPreOperation(f->wc.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    fltsim_thread_join(t);
    assert_status(idle, STATUS_TIMEOUT);
    assert_int_equal(done_while_held, 0);
    assert_int_equal(posts_while_held, 0);
    assert_int_equal(completes_while_held, 1);
    assert_status(job.status, STATUS_SUCCESS);
    assert_int_equal(teardown_completes, 2);
    finish_write(f, &in);
    file_is(f, "SWAPD world"); /* written from A's buffer while it was alive */
    assert_int_equal(f->wa.posts, 1);
    assert_int_equal(f->wa.draining_posts, 0);
    assert_int_equal(f->wa.post_flags, 0);
    assert_false(f->wa.post_data_flags & FLTFL_CALLBACK_DATA_DRAINING_IO);
    assert_ptr_equal(f->wa.post_data, f->wa.pre_data); /* the operation, not a copy */
    assert_ptr_equal(f->wa.post_context, f->wa.swap_buffer);
    assert_int_equal(f->wb.posts, 1); /* exactly once */
    assert_int_equal(f->wc.posts, 1);
    /* B's draining post tried FltDoCompletionProcessingWhenSafe (V15). */
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V15"), 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
}

/* Only a buffer counts: a pre that changed other parameters (dirty) is
 * drained as usual. */
static void teardown_drains_dirty_operation_without_swapped_buffer(void **state)
{
    struct fixture *f = *state;
    f->wa.move_offset = true;
    f->wb.hold_in_pre = true;
    load_both(f);
    struct inflight in;
    start_write(f, &in);
    assert_non_null(f->wb.held);
    assert_status(FltDetachVolume(f->a.filter, f->w.volume, NULL), STATUS_SUCCESS);
    assert_int_equal(f->wa.draining_posts, 1);
    assert_int_equal(teardown_completes, 1);
    FltCompletePendedPreOperation(f->wb.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    finish_write(f, &in);
    file_is(f, "hello HELLO"); /* the moved offset reached the file system */
    assert_int_equal(f->wa.posts, 1);
    assert_int_equal(f->wb.posts, 1);
}

struct query_job {
    struct fixture *f;
    HANDLE handle;
    FILE_STANDARD_INFORMATION info;
    IO_STATUS_BLOCK iosb;
    NTSTATUS status;
};

static void query_thread(void *arg)
{
    struct query_job *job = arg;
    job->status =
        fltsim_io_query_information(job->f->w.sys, job->handle, &job->info, sizeof(job->info),
                                    FileStandardInformation, 0, &job->iosb);
}

/* SPEC 2.6 step 3 for a query's InfoBuffer: A's post, run when the query
 * completes, copies what the file system put in A's buffer to the caller's;
 * a drained post could not have (the file system had not answered yet). */
static void teardown_waits_for_swapped_query_information(void **state)
{
    struct fixture *f = *state;
    f->wa.major = f->wb.major = f->wc.major = IRP_MJ_QUERY_INFORMATION;
    f->wa.swap = true;
    f->wc.hold_in_pre = true;
    load_three(f);
    struct query_job query = {f, NULL, {{{0}}}, {{0}}, STATUS_PENDING};
    query.handle = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    fltsim_thread *requestor;
    assert_status(fltsim_thread_spawn(f->w.sys, 1000, 4002, query_thread, &query, &requestor),
                  STATUS_SUCCESS);
    for (int i = 0; i < 1000 && __atomic_load_n(&f->wc.held, __ATOMIC_SEQ_CST) == NULL; i++) {
        LARGE_INTEGER ms = {.QuadPart = -10000};
        KeDelayExecutionThread(KernelMode, FALSE, &ms);
    }
    assert_non_null(f->wc.held);

    struct detach_job job = {f, f->a.filter, STATUS_PENDING, 0};
    fltsim_thread *t = detach_in_background(&job, &f->wa);
    NTSTATUS idle = fltsim_system_wait_idle(f->w.sys, 200);
    LONG done_while_held = __atomic_load_n(&job.done, __ATOMIC_SEQ_CST);
    LONG posts_while_held = __atomic_load_n(&f->wa.posts, __ATOMIC_SEQ_CST);

    FltCompletePendedPreOperation(f->wc.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    fltsim_thread_join(requestor);
    fltsim_thread_join(t);
    assert_status(idle, STATUS_TIMEOUT);
    assert_int_equal(done_while_held, 0);
    assert_int_equal(posts_while_held, 0);
    assert_status(job.status, STATUS_SUCCESS);
    assert_status(query.status, STATUS_SUCCESS);
    assert_int_equal(query.iosb.Information, sizeof(query.info));
    assert_int_equal(query.info.EndOfFile.QuadPart, 11);
    assert_int_equal(f->wa.posts, 1);
    assert_int_equal(f->wa.draining_posts, 0);
    assert_int_equal(f->wa.post_flags, 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, query.handle), STATUS_SUCCESS);
}

/* B's teardown waits for the write it holds (it does not complete it: V26)
 * while A, above, holds another. Detaches B with stderr captured and returns
 * what it printed; a thread completes B's write 30 s (virtual) later. */
struct late_completer {
    PFLT_CALLBACK_DATA held;
};

static void complete_late(void *ctx)
{
    struct late_completer *c = ctx;
    LARGE_INTEGER half_minute = {.QuadPart = -300000000LL};
    KeDelayExecutionThread(KernelMode, FALSE, &half_minute);
    FltCompletePendedPreOperation(c->held, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
}

static void detach_capturing_stderr(struct fixture *f, char *text, size_t size)
{
    char path[] = "/tmp/fltsim-teardown-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved_err = dup(2);
    dup2(fd, 2);
    NTSTATUS detached = FltDetachVolume(f->b.filter, f->w.volume, NULL);
    fflush(stderr);
    dup2(saved_err, 2);
    close(saved_err);
    ssize_t got = pread(fd, text, size - 1, 0);
    close(fd);
    unlink(path);
    text[got > 0 ? got : 0] = '\0';
    fprintf(stderr, "%s", text);
    assert_status(detached, STATUS_SUCCESS);
}

/* SPEC 2.6 step 4 (issue 16): the warning of a teardown that has waited
 * 10 s names what it waits for: the operation, its major and why (pended
 * in this instance's pre by the filter), and not an operation held above
 * that never reached the instance. Deterministic executor: virtual time. */
static void teardown_warning_names_what_it_waits_for(void **state)
{
    struct fixture *f = *state;
    f->wb.hold_in_pre = true;
    load_both(f);
    struct inflight mine, above;
    start_write(f, &mine);
    struct late_completer c = {f->wb.held};
    assert_non_null(c.held);
    f->wa.hold_in_pre = true;
    start_write(f, &above);
    assert_non_null(f->wa.held);
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(f->w.sys, 4, 77, complete_late, &c, &t), STATUS_SUCCESS);

    char text[4096];
    detach_capturing_stderr(f, text, sizeof(text));
    fltsim_thread_join(t);
    static const char head[] = "it waits for:\n  #";
    const char *list = strstr(text, head);
    assert_non_null(list);
    list += sizeof(head) - 1;
    assert_non_null(strstr(list, " IRP_MJ_WRITE: pended in this instance's pre-operation "
                                 "callback by B; only the filter can complete it "
                                 "(FltCompletePendedPreOperation, V26)"));
    assert_null(strstr(list, "\n  #")); /* one line: A's write is not B's to wait for */
    assert_null(strstr(text, "by A"));
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V26"), 1);

    FltCompletePendedPreOperation(f->wa.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    finish_write(f, &mine);
    finish_write(f, &above);
    assert_int_equal(f->wb.posts, 0); /* neither write came back through B */
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(teardown_drains_owed_posts_once),
        CASE(teardown_draining_post_must_finish),
        CASE(teardown_start_completes_what_was_pended_in_post),
        CASE(teardown_unload_completes_what_was_pended_in_pre),
        CASE(teardown_waits_for_pended_operation_and_reports),
        CASE(teardown_drains_synchronized_post_on_teardown_thread),
        CASE(teardown_new_operations_skip_the_instance),
        CASE(teardown_does_not_wait_for_operations_held_above),
        CASE(teardown_unload_below_held_operations),
        CASE(teardown_waits_for_swapped_write_instead_of_draining),
        CASE(teardown_drains_dirty_operation_without_swapped_buffer),
        CASE(teardown_waits_for_swapped_query_information),
    };
    const struct CMUnitTest deterministic[] = {
        CASE(teardown_warning_names_what_it_waits_for),
    };
    int failed = FLTSIM_RUN_SUITE("teardown", tests);
    test_executor = FLTSIM_EXECUTOR_DETERMINISTIC;
    failed +=
        cmocka_run_group_tests_name("teardown (deterministic only)", deterministic, NULL, NULL);
    return failed;
}
