/*
 * The bug zoo (issue 5, SPEC 10): small minifilters that each break one rule,
 * every one detected with the right rule id, beside a correct twin that does
 * the same job and gets no report. Each case runs one workload through the
 * I/O API with test filter Z (250000) over memfs, once with the buggy
 * callbacks and once with the twin's, and compares the verifier's reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

struct zoo {
    struct test_world w;
    struct tf_filter z;
    bool twin;
    PFLT_CALLBACK_DATA held; /* an operation the buggy filter left pended */
    KEVENT event;            /* never signaled: something to wait on */
};

static struct zoo *zoo_of(struct tf_filter *tf)
{
    return tf->user;
}

static int setup(void **state)
{
    struct zoo *z = calloc(1, sizeof(*z));
    assert_non_null(z);
    tf_reset_all();
    rec_reset();
    KeInitializeEvent(&z->event, NotificationEvent, FALSE);
    *state = z;
    return 0;
}

static int teardown(void **state)
{
    struct zoo *z = *state;
    if (z->w.sys != NULL)
        world_destroy(&z->w);
    tf_reset_all();
    free(z);
    return 0;
}

/* Creates the world (completion mode as given) and loads Z with its pre and
 * post (either may be NULL for the test filter's default). */
static void zoo_start(struct zoo *z, ULONG completion, tf_pre_fn pre, tf_post_fn post)
{
    world_create_ex(&z->w, 0, completion);
    tf_init(&z->z, "Z", "250000");
    z->z.pre = pre;
    z->z.post = post;
    z->z.user = z;
    assert_status(tf_load(z->w.sys, &z->z), STATUS_SUCCESS);
}

/* The reports of the run: the buggy filter gets each rule of the
 * comma-separated list, and no other; its twin gets none. */
static void zoo_expect(struct zoo *z, const char *rules)
{
    ULONG count = fltsim_system_report_count(z->w.sys);
    ULONG matched = 0;
    for (ULONG i = 0; i < count; i++) {
        struct fltsim_report r;
        assert_status(fltsim_system_report_get(z->w.sys, i, &r), STATUS_SUCCESS);
        print_message("  report %s (SPEC %s) %s: %s\n", r.rule, r.spec, r.filter, r.message);
    }
    if (z->twin) {
        assert_int_equal(count, 0);
        return;
    }
    char list[64];
    snprintf(list, sizeof(list), "%s", rules);
    for (char *save = NULL, *rule = strtok_r(list, ",", &save); rule != NULL;
         rule = strtok_r(NULL, ",", &save)) {
        ULONG n = fltsim_system_report_count_rule(z->w.sys, rule);
        if (n == 0)
            fail_msg("no %s report", rule);
        matched += n;
    }
    assert_int_equal(matched, count);
}

static void read_a(struct zoo *z, ULONG flags)
{
    HANDLE h = world_open(&z->w, L"C:\\a.txt", GENERIC_READ);
    char buf[8];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(z->w.sys, h, buf, sizeof(buf), &zero, flags, &iosb),
                  STATUS_SUCCESS);
    assert_memory_equal(buf, "hello wo", 8);
    assert_status(fltsim_io_close(z->w.sys, h), STATUS_SUCCESS);
}

/* ---- V4: FLT_PREOP_PENDING for fast I/O ---- */

static FLT_PREOP_CALLBACK_STATUS pend_reads_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    /* The twin asks for the IRP, which may be pended; the bug pends fast I/O
     * too (fltsim then goes on as SUCCESS_NO_CALLBACK, as Windows does). */
    if (FLT_IS_FASTIO_OPERATION(data))
        return zoo_of(tf)->twin ? FLT_PREOP_DISALLOW_FASTIO : FLT_PREOP_PENDING;
    /* An IRP: pended and completed at once (the pend itself is the point). */
    FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    return FLT_PREOP_PENDING;
}

static void zoo_pend_from_fast_io(void **state, bool twin)
{
    struct zoo *z = *state;
    z->twin = twin;
    zoo_start(z, FLTSIM_COMPLETE_INLINE, pend_reads_pre, NULL);
    read_a(z, FLTSIM_IO_FAST);
    zoo_expect(z, "V4");
}

/* ---- V2: SUCCESS_WITH_CALLBACK without a post ---- */

static FLT_PREOP_CALLBACK_STATUS wants_post_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)data;
    (void)objects;
    (void)context;
    return zoo_of(tf)->twin ? FLT_PREOP_SUCCESS_NO_CALLBACK : FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static void zoo_with_callback_without_post(void **state, bool twin)
{
    struct zoo *z = *state;
    z->twin = twin;
    world_create_ex(&z->w, 0, FLTSIM_COMPLETE_INLINE);
    tf_init(&z->z, "Z", "250000");
    tf_only(&z->z, IRP_MJ_READ);
    z->z.ops[IRP_MJ_READ].post = false; /* a pre-only filter */
    z->z.pre = wants_post_pre;
    z->z.user = z;
    assert_status(tf_load(z->w.sys, &z->z), STATUS_SUCCESS);
    read_a(z, 0);
    zoo_expect(z, "V2");
}

/* ---- V3: a completion context with SUCCESS_NO_CALLBACK ---- */

static FLT_PREOP_CALLBACK_STATUS context_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                             PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    static int cookie;
    if (data->Iopb->MajorFunction == IRP_MJ_READ && !zoo_of(tf)->twin)
        *context = &cookie; /* handed out, but no post will receive it */
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void zoo_context_with_no_callback(void **state, bool twin)
{
    struct zoo *z = *state;
    z->twin = twin;
    zoo_start(z, FLTSIM_COMPLETE_INLINE, context_pre, NULL);
    read_a(z, 0);
    zoo_expect(z, "V3");
}

/* ---- V9: failing IRP_MJ_CLEANUP ---- */

static FLT_PREOP_CALLBACK_STATUS fail_cleanup_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                  PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_CLEANUP || zoo_of(tf)->twin)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    data->IoStatus.Status = STATUS_ACCESS_DENIED;
    data->IoStatus.Information = 0;
    return FLT_PREOP_COMPLETE;
}

static void zoo_fail_cleanup(void **state, bool twin)
{
    struct zoo *z = *state;
    z->twin = twin;
    zoo_start(z, FLTSIM_COMPLETE_INLINE, fail_cleanup_pre, NULL);
    read_a(z, 0); /* open, read, close: cleanup and close */
    zoo_expect(z, "V9");
}

/* ---- V13: FltCompletePendedPreOperation twice ---- */

static FLT_PREOP_CALLBACK_STATUS complete_twice_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                    PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    if (!zoo_of(tf)->twin)
        FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    return FLT_PREOP_PENDING;
}

static void zoo_complete_twice(void **state, bool twin)
{
    struct zoo *z = *state;
    z->twin = twin;
    zoo_start(z, FLTSIM_COMPLETE_INLINE, complete_twice_pre, NULL);
    read_a(z, 0);
    zoo_expect(z, "V13");
}

/* ---- V26: a post pended and never completed at teardown ---- */

static FLT_POSTOP_CALLBACK_STATUS hold_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ || (flags & FLTFL_POST_OPERATION_DRAINING))
        return FLT_POSTOP_FINISHED_PROCESSING;
    zoo_of(tf)->held = data; /* "a worker will finish it" */
    return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
}

/* The twin remembers to finish what it holds when its instance goes. */
static void complete_held(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    struct zoo *z = zoo_of(tf);
    PFLT_CALLBACK_DATA held = z->held;
    z->held = NULL;
    if (held != NULL && z->twin)
        FltCompletePendedPostOperation(held);
    else
        z->held = held;
}

static void async_read_held_then_unload(struct zoo *z)
{
    HANDLE h = open_overlapped(z->w.sys, L"C:\\a.txt", GENERIC_READ);
    char buf[8];
    struct fltsim_io_async async;
    memset(&async, 0, sizeof(async));
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    async.event = &done;
    assert_status(fltsim_io_read_async(z->w.sys, h, buf, sizeof(buf), 0, 0, &async),
                  STATUS_PENDING);
    struct unload_job job = {.drv = z->z.driver};
    fltsim_thread *t = unload_in_background(z->w.sys, &job);
    /* The buggy filter's teardown cannot finish: wait for the report, then
     * rescue the operation as a debugger would. */
    LARGE_INTEGER step = {.QuadPart = -10000}; /* 1 ms */
    for (int i = 0; i < 5000 && !__atomic_load_n(&job.done, __ATOMIC_SEQ_CST) &&
                    fltsim_system_report_count_rule(z->w.sys, "V26") == 0;
         i++)
        KeDelayExecutionThread(KernelMode, FALSE, &step);
    if (!z->twin) {
        assert_int_equal(__atomic_load_n(&job.done, __ATOMIC_SEQ_CST), 0);
        assert_non_null(z->held);
        FltCompletePendedPostOperation(z->held);
        z->held = NULL;
    }
    fltsim_thread_join(t);
    assert_status(job.status, STATUS_SUCCESS);
    z->z.driver = NULL;
    KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
    assert_status(async.iosb.Status, STATUS_SUCCESS);
    assert_status(fltsim_io_close(z->w.sys, h), STATUS_SUCCESS);
}

static void zoo_forget_complete_pended_post(void **state, bool twin)
{
    struct zoo *z = *state;
    z->twin = twin;
    zoo_start(z, FLTSIM_COMPLETE_INLINE, NULL, hold_post);
    z->z.teardown_start_hook = complete_held;
    async_read_held_then_unload(z);
    zoo_expect(z, "V26");
}

/* ---- V26 + V23: queuing a work item for paging I/O, ignoring the failure ---- */

static VOID never_runs(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    (void)context;
    FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    FltFreeDeferredIoWorkItem(item);
}

static FLT_PREOP_CALLBACK_STATUS post_paging_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                 PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct zoo *z = zoo_of(tf);
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
    if (item == NULL)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    NTSTATUS st = FltQueueDeferredIoWorkItem(item, data, never_runs, DelayedWorkQueue, NULL);
    if (NT_SUCCESS(st))
        return FLT_PREOP_PENDING;
    if (z->twin) {
        /* Paging I/O cannot be posted (SPEC 5.1): do the work here, or skip it. */
        FltFreeDeferredIoWorkItem(item);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    /* The bug: pended anyway, and the item is forgotten. (The test, on
     * another thread, watches held.) */
    __atomic_store_n(&z->held, data, __ATOMIC_SEQ_CST);
    return FLT_PREOP_PENDING;
}

static void paging_read_thread(void *ctx)
{
    struct zoo *z = ctx;
    HANDLE h = world_open(&z->w, L"C:\\a.txt", GENERIC_READ);
    char buf[512];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(z->w.sys, h, buf, sizeof(buf), &zero, FLTSIM_IO_PAGING, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(z->w.sys, h), STATUS_SUCCESS);
}

static void zoo_paging_queue_failure_ignored(void **state, bool twin)
{
    struct zoo *z = *state;
    z->twin = twin;
    zoo_start(z, FLTSIM_COMPLETE_INLINE, post_paging_pre, NULL);
    fltsim_thread *reader;
    assert_status(fltsim_thread_spawn(z->w.sys, 1000, 4101, paging_read_thread, z, &reader),
                  STATUS_SUCCESS);
    if (twin) {
        fltsim_thread_join(reader);
        assert_status(fltsim_driver_unload(z->z.driver, 0), STATUS_SUCCESS);
        z->z.driver = NULL;
        zoo_expect(z, "V26,V23");
        return;
    }
    /* The read hangs in the buggy filter; unloading it cannot finish. */
    LARGE_INTEGER step = {.QuadPart = -10000}; /* 1 ms */
    for (int i = 0; i < 5000 && __atomic_load_n(&z->held, __ATOMIC_SEQ_CST) == NULL; i++)
        KeDelayExecutionThread(KernelMode, FALSE, &step);
    assert_non_null(z->held);
    struct unload_job job = {.drv = z->z.driver};
    fltsim_thread *unloader = unload_in_background(z->w.sys, &job);
    for (int i = 0; i < 5000 && fltsim_system_report_count_rule(z->w.sys, "V26") == 0; i++)
        KeDelayExecutionThread(KernelMode, FALSE, &step);
    assert_int_equal(__atomic_load_n(&job.done, __ATOMIC_SEQ_CST), 0);
    /* Rescue the read as a debugger would; the unload then reports the item. */
    FltCompletePendedPreOperation(z->held, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    z->held = NULL;
    fltsim_thread_join(reader);
    fltsim_thread_join(unloader);
    assert_status(job.status, STATUS_SUCCESS);
    z->z.driver = NULL;
    zoo_expect(z, "V26,V23");
    /* The forgotten item stays until the simulated machine goes. */
    struct fltsim_pool_stats stats;
    fltsim_pool_tag_stats('iwMF', &stats);
    assert_int_equal(stats.outstanding, 1);
    world_destroy(&z->w);
    z->w.sys = NULL;
    fltsim_pool_tag_stats('iwMF', &stats);
    assert_int_equal(stats.outstanding, 0);
}

/* ---- V23: a pool block never freed ---- */

static FLT_PREOP_CALLBACK_STATUS leaky_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                           PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    /* A scratch buffer for the request; the twin gives it back. */
    PVOID scratch = ExAllocatePoolWithTag(NonPagedPool, 64, 'kaeL');
    if (scratch != NULL && zoo_of(tf)->twin)
        ExFreePoolWithTag(scratch, 'kaeL');
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void zoo_leak_pool_block(void **state, bool twin)
{
    struct zoo *z = *state;
    z->twin = twin;
    zoo_start(z, FLTSIM_COMPLETE_INLINE, leaky_pre, NULL);
    read_a(z, 0);
    assert_status(fltsim_driver_unload(z->z.driver, 0), STATUS_SUCCESS);
    z->z.driver = NULL;
    zoo_expect(z, "V23");
    /* The leaked block stays until the simulated machine goes. */
    struct fltsim_pool_stats stats;
    fltsim_pool_tag_stats('kaeL', &stats);
    assert_int_equal(stats.outstanding, twin ? 0 : 1);
    world_destroy(&z->w);
    z->w.sys = NULL;
    fltsim_pool_tag_stats('kaeL', &stats);
    assert_int_equal(stats.outstanding, 0);
}

/* ---- V28: waiting in a post that runs at DISPATCH_LEVEL ---- */

static VOID wait_briefly(struct zoo *z)
{
    LARGE_INTEGER timeout = {.QuadPart = -10000}; /* 1 ms: may block */
    KeWaitForSingleObject(&z->event, Executive, KernelMode, FALSE, &timeout);
}

static FLT_POSTOP_CALLBACK_STATUS wait_when_safe(PFLT_CALLBACK_DATA data,
                                                 PCFLT_RELATED_OBJECTS objects, PVOID context,
                                                 FLT_POST_OPERATION_FLAGS flags)
{
    (void)data;
    (void)objects;
    (void)flags;
    wait_briefly(context);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static FLT_POSTOP_CALLBACK_STATUS waiting_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                               PCFLT_RELATED_OBJECTS objects, PVOID context,
                                               FLT_POST_OPERATION_FLAGS flags)
{
    (void)context;
    struct zoo *z = zoo_of(tf);
    if (data->Iopb->MajorFunction != IRP_MJ_READ || (flags & FLTFL_POST_OPERATION_DRAINING))
        return FLT_POSTOP_FINISHED_PROCESSING;
    if (!z->twin) {
        wait_briefly(z); /* at DISPATCH_LEVEL on an asynchronous volume */
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    FLT_POSTOP_CALLBACK_STATUS st;
    if (!FltDoCompletionProcessingWhenSafe(data, objects, z, flags, wait_when_safe, &st))
        fail_msg("FltDoCompletionProcessingWhenSafe refused a cached read");
    return st;
}

static void zoo_wait_at_dispatch(void **state, bool twin)
{
    struct zoo *z = *state;
    z->twin = twin;
    zoo_start(z, FLTSIM_COMPLETE_ASYNC, NULL, waiting_post);
    read_a(z, 0);
    fltsim_system_wait_idle(z->w.sys, 10000);
    zoo_expect(z, "V28");
}

/* ---- V28: a PASSIVE_LEVEL-only routine in a post at DISPATCH_LEVEL ---- */

/* FltGetVolumeFromName may only be called at PASSIVE_LEVEL. */
static void look_up_volume(struct tf_filter *tf)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\HarddiskVolume1");
    PFLT_VOLUME volume = NULL;
    if (NT_SUCCESS(FltGetVolumeFromName(tf->filter, &name, &volume)))
        FltObjectDereference(volume);
}

static FLT_POSTOP_CALLBACK_STATUS look_up_when_safe(PFLT_CALLBACK_DATA data,
                                                    PCFLT_RELATED_OBJECTS objects, PVOID context,
                                                    FLT_POST_OPERATION_FLAGS flags)
{
    (void)data;
    (void)objects;
    (void)flags;
    look_up_volume(context);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static FLT_POSTOP_CALLBACK_STATUS lookup_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                              PCFLT_RELATED_OBJECTS objects, PVOID context,
                                              FLT_POST_OPERATION_FLAGS flags)
{
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ || (flags & FLTFL_POST_OPERATION_DRAINING))
        return FLT_POSTOP_FINISHED_PROCESSING;
    if (!zoo_of(tf)->twin) {
        look_up_volume(tf); /* at DISPATCH_LEVEL on an asynchronous volume */
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    FLT_POSTOP_CALLBACK_STATUS st;
    if (!FltDoCompletionProcessingWhenSafe(data, objects, tf, flags, look_up_when_safe, &st))
        fail_msg("FltDoCompletionProcessingWhenSafe refused a cached read");
    return st;
}

static void zoo_passive_routine_at_dispatch(void **state, bool twin)
{
    struct zoo *z = *state;
    z->twin = twin;
    zoo_start(z, FLTSIM_COMPLETE_ASYNC, NULL, lookup_post);
    read_a(z, 0);
    fltsim_system_wait_idle(z->w.sys, 10000);
    zoo_expect(z, "V28");
}

/* ---- the cases: each bug, then its twin ---- */

#define ZOO_CASE(name)                                                                             \
    static void name##_bug(void **state)                                                           \
    {                                                                                              \
        zoo_##name(state, false);                                                                  \
    }                                                                                              \
    static void name##_twin(void **state)                                                          \
    {                                                                                              \
        zoo_##name(state, true);                                                                   \
    }

ZOO_CASE(pend_from_fast_io)
ZOO_CASE(with_callback_without_post)
ZOO_CASE(context_with_no_callback)
ZOO_CASE(fail_cleanup)
ZOO_CASE(complete_twice)
ZOO_CASE(forget_complete_pended_post)
ZOO_CASE(paging_queue_failure_ignored)
ZOO_CASE(leak_pool_block)
ZOO_CASE(wait_at_dispatch)
ZOO_CASE(passive_routine_at_dispatch)

#define ZOO_TESTS(name)                                                                            \
    cmocka_unit_test_setup_teardown(name##_bug, setup, teardown),                                  \
        cmocka_unit_test_setup_teardown(name##_twin, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        ZOO_TESTS(pend_from_fast_io),
        ZOO_TESTS(with_callback_without_post),
        ZOO_TESTS(context_with_no_callback),
        ZOO_TESTS(fail_cleanup),
        ZOO_TESTS(complete_twice),
        ZOO_TESTS(forget_complete_pended_post),
        ZOO_TESTS(paging_queue_failure_ignored),
        ZOO_TESTS(leak_pool_block),
        ZOO_TESTS(wait_at_dispatch),
        ZOO_TESTS(passive_routine_at_dispatch),
    };
    return FLTSIM_RUN_SUITE("zoo", tests);
}
