/*
 * Cancellation (issue 18 item 5): an application cancels its overlapped
 * reads (fltsim_io_cancel, CancelIoEx; fltsim_io_cancel_thread, a thread's
 * end); a read pended by filter B (200000) over memfs gets its Cancel bit
 * (FltIsIoCanceled) and the cancel routine B set (FltSetCancelCompletion)
 * exactly once, not after FltClearCancelCompletion or the completion; B's
 * routine completes it with STATUS_CANCELLED; a cancel racing B's own
 * completion is handled once; fast I/O and FS-filter callbacks cannot have
 * a cancel routine.
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"
#include "pending_read_fx.h"

enum mode {
    MODE_PASS,       /* SUCCESS_WITH_CALLBACK */
    MODE_HOLD,       /* set the routine (unless no_routine), hold it pended for the test */
    MODE_RACE,       /* set the routine, queue a work item that completes it unless cancelled */
    MODE_SET_AND_GO, /* set the routine and return SUCCESS_WITH_CALLBACK (a careless filter) */
};

struct plan {
    enum mode mode;
    bool no_routine;
    bool clear_first; /* MODE_HOLD: FltClearCancelCompletion right after setting */
    /* observed (atomics: written on whatever thread runs B) */
    PFLT_CALLBACK_DATA held[4];
    LONG held_count;
    LONG routine_calls;
    LONG routine_saw_cancelled;
    LONG worker_completions;
    LONG worker_lost; /* FltClearCancelCompletion said STATUS_CANCELLED */
    NTSTATUS set_status, clear_status;
    NTSTATUS fast_set_status, fsfilter_set_status;
    LONG fast_seen, fsfilter_seen;
    NTSTATUS paging_set_status;
    LONG paging_seen;
    BOOLEAN fast_canceled;
};

struct fixture {
    struct test_world w;
    struct tf_filter b;
    struct tf_filter s; /* teardown_cancels_a_swapped_operation: loaded until the world goes */
    struct plan p;
    HANDLE h;
    char buf[4][8];
};

static struct plan *plan_of(PFLT_CALLBACK_DATA data);

static VOID FLTAPI cancel_routine(PFLT_CALLBACK_DATA data)
{
    struct plan *p = plan_of(data);
    __atomic_add_fetch(&p->routine_calls, 1, __ATOMIC_SEQ_CST);
    if (FltIsIoCanceled(data))
        __atomic_add_fetch(&p->routine_saw_cancelled, 1, __ATOMIC_SEQ_CST);
    data->IoStatus.Status = STATUS_CANCELLED;
    data->IoStatus.Information = 0;
    FltCompletePendedPreOperation(data, FLT_PREOP_COMPLETE, NULL);
}

static struct plan *the_plan;

static struct plan *plan_of(PFLT_CALLBACK_DATA data)
{
    (void)data;
    return the_plan;
}

/* MODE_RACE's routine: notes the cancel; the work item, which always runs
 * while the operation is pended, completes it (the filter's own
 * synchronization, as FltSetCancelCompletion's page asks). */
static VOID FLTAPI race_routine(PFLT_CALLBACK_DATA data)
{
    struct plan *p = plan_of(data);
    __atomic_add_fetch(&p->routine_calls, 1, __ATOMIC_SEQ_CST);
    if (FltIsIoCanceled(data))
        __atomic_add_fetch(&p->routine_saw_cancelled, 1, __ATOMIC_SEQ_CST);
}

static VOID race_work(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    struct plan *p = context;
    FltFreeDeferredIoWorkItem(item);
    /* Exactly one of this and the cancel takes the routine. */
    if (FltClearCancelCompletion(data) == STATUS_SUCCESS) {
        __atomic_add_fetch(&p->worker_completions, 1, __ATOMIC_SEQ_CST);
        FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
        return;
    }
    __atomic_add_fetch(&p->worker_lost, 1, __ATOMIC_SEQ_CST);
    data->IoStatus.Status = STATUS_CANCELLED;
    data->IoStatus.Information = 0;
    FltCompletePendedPreOperation(data, FLT_PREOP_COMPLETE, NULL);
}

static FLT_PREOP_CALLBACK_STATUS hook_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct plan *p = tf->user;
    if (p == NULL)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    UCHAR major = data->Iopb->MajorFunction;
    if (FLT_IS_FASTIO_OPERATION(data) && major == IRP_MJ_READ) {
        p->fast_set_status = FltSetCancelCompletion(data, cancel_routine);
        p->fast_canceled = FltIsIoCanceled(data);
        __atomic_add_fetch(&p->fast_seen, 1, __ATOMIC_SEQ_CST);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    if (FLT_IS_FS_FILTER_OPERATION(data)) {
        p->fsfilter_set_status = FltSetCancelCompletion(data, cancel_routine);
        __atomic_add_fetch(&p->fsfilter_seen, 1, __ATOMIC_SEQ_CST);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    if (major != IRP_MJ_READ || !FLT_IS_IRP_OPERATION(data))
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    if (data->Iopb->IrpFlags & IRP_PAGING_IO) {
        p->paging_set_status = FltSetCancelCompletion(data, cancel_routine);
        __atomic_add_fetch(&p->paging_seen, 1, __ATOMIC_SEQ_CST);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    switch (p->mode) {
    case MODE_PASS:
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    case MODE_HOLD: {
        if (!p->no_routine)
            p->set_status = FltSetCancelCompletion(data, cancel_routine);
        if (p->clear_first)
            p->clear_status = FltClearCancelCompletion(data);
        LONG k = __atomic_fetch_add(&p->held_count, 1, __ATOMIC_SEQ_CST);
        if (k < 4)
            p->held[k] = data;
        return FLT_PREOP_PENDING;
    }
    case MODE_RACE: {
        p->set_status = FltSetCancelCompletion(data, race_routine);
        PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
        if (item == NULL)
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        if (!NT_SUCCESS(FltQueueDeferredIoWorkItem(item, data, race_work, DelayedWorkQueue, p))) {
            FltFreeDeferredIoWorkItem(item);
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        }
        return FLT_PREOP_PENDING;
    }
    case MODE_SET_AND_GO:
        p->set_status = FltSetCancelCompletion(data, cancel_routine);
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    tf_init(&f->b, "B", "200000");
    f->b.pre = hook_pre;
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);
    f->h = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_READ);
    the_plan = &f->p;
    f->b.user = &f->p;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    f->b.user = NULL;
    assert_status(fltsim_io_close(f->w.sys, f->h), STATUS_SUCCESS);
    world_destroy(&f->w);
    the_plan = NULL;
    free(f);
    return 0;
}

/* Issues an overlapped 5-byte read at offset 0 into f->buf[k]; its status. */
static NTSTATUS read_async(struct fixture *f, int k, struct pending_read *r)
{
    return pending_read_start(f->w.sys, f->h, f->buf[k], r);
}

/* CancelIoEx on a read B holds with a cancel routine: the routine runs once,
 * sees FltIsIoCanceled, and the read completes with STATUS_CANCELLED. */
static void cancel_pended_read_calls_routine_and_completes_cancelled(void **state)
{
    struct fixture *f = *state;
    f->p.mode = MODE_HOLD;
    struct pending_read r;
    assert_status(read_async(f, 0, &r), STATUS_PENDING);
    assert_status(f->p.set_status, STATUS_SUCCESS);
    assert_false(FltIsIoCanceled(f->p.held[0]));
    assert_status(fltsim_io_cancel(f->w.sys, f->h, NULL), STATUS_SUCCESS);
    wait_read(&r);
    assert_status(r.async.iosb.Status, STATUS_CANCELLED);
    assert_int_equal(r.async.iosb.Information, 0);
    assert_int_equal(f->p.routine_calls, 1);
    assert_int_equal(f->p.routine_saw_cancelled, 1);
    /* Completed: a second cancel finds nothing and calls nothing. */
    assert_status(fltsim_io_cancel(f->w.sys, f->h, NULL), STATUS_NOT_FOUND);
    assert_int_equal(f->p.routine_calls, 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* CancelIoEx with one request's OVERLAPPED cancels only that one. */
static void cancel_one_request_leaves_the_other(void **state)
{
    struct fixture *f = *state;
    f->p.mode = MODE_HOLD;
    struct pending_read r0, r1;
    assert_status(read_async(f, 0, &r0), STATUS_PENDING);
    assert_status(read_async(f, 1, &r1), STATUS_PENDING);
    assert_int_equal(f->p.held_count, 2);
    assert_status(fltsim_io_cancel(f->w.sys, f->h, &r1.async), STATUS_SUCCESS);
    wait_read(&r1);
    assert_status(r1.async.iosb.Status, STATUS_CANCELLED);
    assert_int_equal(f->p.routine_calls, 1);
    assert_false(FltIsIoCanceled(f->p.held[0]));
    /* B finishes the first one itself: clearing succeeds, it reads on. */
    assert_status(FltClearCancelCompletion(f->p.held[0]), STATUS_SUCCESS);
    FltCompletePendedPreOperation(f->p.held[0], FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    wait_read(&r0);
    assert_status(r0.async.iosb.Status, STATUS_SUCCESS);
    assert_memory_equal(f->buf[0], "hello", 5);
    assert_int_equal(f->p.routine_calls, 1);
}

/* FltClearCancelCompletion first: the cancel sets the bit, calls nothing,
 * and the filter completes the read as it likes. */
static void cleared_routine_is_not_called(void **state)
{
    struct fixture *f = *state;
    f->p.mode = MODE_HOLD;
    f->p.clear_first = true;
    struct pending_read r;
    assert_status(read_async(f, 0, &r), STATUS_PENDING);
    assert_status(f->p.clear_status, STATUS_SUCCESS);
    assert_status(fltsim_io_cancel(f->w.sys, f->h, NULL), STATUS_SUCCESS);
    assert_int_equal(f->p.routine_calls, 0);
    assert_true(FltIsIoCanceled(f->p.held[0]));
    /* None set any more: STATUS_CANCELLED (Microsoft Learn). */
    assert_status(FltClearCancelCompletion(f->p.held[0]), STATUS_CANCELLED);
    FltCompletePendedPreOperation(f->p.held[0], FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    wait_read(&r);
    assert_status(r.async.iosb.Status, STATUS_SUCCESS);
    assert_int_equal(f->p.routine_calls, 0);
}

/* Cancelled while no routine was set: FltSetCancelCompletion afterwards
 * says STATUS_CANCELLED and keeps no routine (the filter completes it). */
static void set_after_cancel_returns_cancelled(void **state)
{
    struct fixture *f = *state;
    f->p.mode = MODE_HOLD;
    f->p.no_routine = true;
    struct pending_read r;
    assert_status(read_async(f, 0, &r), STATUS_PENDING);
    assert_status(fltsim_io_cancel(f->w.sys, f->h, NULL), STATUS_SUCCESS);
    assert_true(FltIsIoCanceled(f->p.held[0]));
    assert_status(FltSetCancelCompletion(f->p.held[0], cancel_routine), STATUS_CANCELLED);
    assert_int_equal(f->p.routine_calls, 0);
    /* A second cancel finds it (still in flight) but calls nothing. */
    assert_status(fltsim_io_cancel(f->w.sys, f->h, NULL), STATUS_SUCCESS);
    assert_int_equal(f->p.routine_calls, 0);
    f->p.held[0]->IoStatus.Status = STATUS_CANCELLED;
    FltCompletePendedPreOperation(f->p.held[0], FLT_PREOP_COMPLETE, NULL);
    wait_read(&r);
    assert_status(r.async.iosb.Status, STATUS_CANCELLED);
}

/* A routine left set on an operation that completed is never called; a
 * cancel after the completion is STATUS_NOT_FOUND. */
static void cancel_after_completion_is_not_found(void **state)
{
    struct fixture *f = *state;
    f->p.mode = MODE_SET_AND_GO;
    struct pending_read r;
    NTSTATUS st = read_async(f, 0, &r);
    if (st == STATUS_PENDING)
        wait_read(&r);
    assert_status(r.async.iosb.Status, STATUS_SUCCESS);
    assert_status(f->p.set_status, STATUS_SUCCESS);
    assert_status(fltsim_io_cancel(f->w.sys, f->h, NULL), STATUS_NOT_FOUND);
    assert_status(fltsim_io_cancel(f->w.sys, f->h, &r.async), STATUS_NOT_FOUND);
    assert_int_equal(f->p.routine_calls, 0);
    assert_status(fltsim_io_cancel(f->w.sys, (HANDLE)(ULONG_PTR)0x7777, NULL),
                  STATUS_INVALID_HANDLE);
}

/* A thread's end cancels its overlapped I/O (IoCancelThreadIo). */
static void thread_end_cancels_its_io(void **state)
{
    struct fixture *f = *state;
    f->p.mode = MODE_HOLD;
    struct pending_read r;
    assert_status(read_async(f, 0, &r), STATUS_PENDING);
    assert_status(fltsim_io_cancel_thread(f->w.sys, fltsim_thread_current()), STATUS_SUCCESS);
    wait_read(&r);
    assert_status(r.async.iosb.Status, STATUS_CANCELLED);
    assert_int_equal(f->p.routine_calls, 1);
    assert_status(fltsim_io_cancel_thread(f->w.sys, fltsim_thread_current()), STATUS_NOT_FOUND);
    assert_status(fltsim_io_cancel_thread(f->w.sys, NULL), STATUS_INVALID_PARAMETER);
}

/* Fast I/O and FS-filter callbacks are not IRPs, and paging I/O is not for
 * a cancel routine either: STATUS_INVALID_PARAMETER, never cancelled. A
 * callback data that is no operation's is refused too. */
static void fast_io_and_fs_filter_cannot_be_cancelled(void **state)
{
    struct fixture *f = *state;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    char buf[8];
    (void)fltsim_io_read(f->w.sys, h, buf, 5, &zero, FLTSIM_IO_FAST, &iosb);
    assert_int_equal(f->p.fast_seen, 1);
    assert_status(f->p.fast_set_status, STATUS_INVALID_PARAMETER);
    assert_false(f->p.fast_canceled);
    (void)fltsim_io_acquire_for_section_sync(f->w.sys, h, SyncTypeCreateSection, PAGE_READONLY);
    (void)fltsim_io_release_for_section_sync(f->w.sys, h);
    assert_true(f->p.fsfilter_seen >= 1);
    assert_status(f->p.fsfilter_set_status, STATUS_INVALID_PARAMETER);
    (void)fltsim_io_read(f->w.sys, h, buf, 5, &zero, FLTSIM_IO_PAGING | FLTSIM_IO_KERNEL_MODE,
                         &iosb);
    assert_int_equal(f->p.paging_seen, 1);
    assert_status(f->p.paging_set_status, STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(f->p.routine_calls, 0);
    /* Zeroed memory the size of an operation's, not an operation: fltsim
     * reads its header to tell. */
    static union {
        FLT_CALLBACK_DATA data;
        char room[4096];
    } bogus;
    memset(&bogus, 0, sizeof(bogus));
    assert_status(FltSetCancelCompletion(&bogus.data, cancel_routine), STATUS_INVALID_PARAMETER);
    assert_status(FltClearCancelCompletion(&bogus.data), STATUS_INVALID_PARAMETER);
    assert_false(FltIsIoCanceled(&bogus.data));
}

/* A cancel racing the filter's completion from a work item: for each read
 * exactly one of the cancel and FltClearCancelCompletion takes the routine
 * (called once, or not at all), many times over. */
static void cancel_racing_completion_completes_once(void **state)
{
    struct fixture *f = *state;
    f->p.mode = MODE_RACE;
    const int rounds = 200;
    int cancelled = 0, succeeded = 0;
    for (int i = 0; i < rounds; i++) {
        struct pending_read r;
        NTSTATUS st = read_async(f, 0, &r);
        if (st == STATUS_PENDING) {
            /* Every third read the worker has its way first; the others
             * are cancelled after a varying delay, racing it. */
            if (i % 3 == 0)
                wait_read(&r);
            else
                spin(i);
            NTSTATUS c = fltsim_io_cancel(f->w.sys, f->h, &r.async);
            assert_true(c == STATUS_SUCCESS || c == STATUS_NOT_FOUND);
            wait_read(&r);
        }
        if (r.async.iosb.Status == STATUS_CANCELLED)
            cancelled++;
        else if (r.async.iosb.Status == STATUS_SUCCESS)
            succeeded++;
    }
    print_message("%d cancelled, %d completed by the work item\n", cancelled, succeeded);
    assert_int_equal(cancelled + succeeded, rounds);
    assert_int_equal(f->p.routine_calls, cancelled);
    assert_int_equal(f->p.routine_saw_cancelled, cancelled);
    assert_int_equal(f->p.worker_completions, succeeded);
    assert_int_equal(f->p.worker_lost, cancelled);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_system_wait_idle(f->w.sys, 30000), STATUS_SUCCESS);
}

/* ---- a teardown cancels what the instance swapped (SPEC 2.6 step 3) ---- */

#define SWAP_TAG 0x70577343u /* "CsWp" */

static struct {
    LONG posts, draining_posts;
    NTSTATUS post_saw;
} swp;

struct swap_buf {
    PVOID buf;
    PMDL mdl;
};

/* S (300000): hands the read a buffer (and MDL) of its own, frees it in
 * its post. */
static FLT_PREOP_CALLBACK_STATUS swap_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf, (void)objects;
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    if (iopb->MajorFunction != IRP_MJ_READ || !FLT_IS_IRP_OPERATION(data) ||
        iopb->Parameters.Read.Length == 0)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    struct swap_buf *c = ExAllocatePoolZero(NonPagedPoolNx, sizeof(*c), SWAP_TAG);
    if (c == NULL)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    c->buf = ExAllocatePoolZero(NonPagedPoolNx, iopb->Parameters.Read.Length, SWAP_TAG);
    c->mdl = c->buf != NULL
                 ? IoAllocateMdl(c->buf, iopb->Parameters.Read.Length, FALSE, FALSE, NULL)
                 : NULL;
    if (c->mdl == NULL) {
        if (c->buf != NULL)
            ExFreePoolWithTag(c->buf, SWAP_TAG);
        ExFreePoolWithTag(c, SWAP_TAG);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    MmBuildMdlForNonPagedPool(c->mdl);
    iopb->Parameters.Read.ReadBuffer = c->buf;
    iopb->Parameters.Read.MdlAddress = c->mdl;
    FltSetCallbackDataDirty(data);
    *context = c;
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS swap_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf, (void)objects;
    struct swap_buf *c = context;
    if (c == NULL)
        return FLT_POSTOP_FINISHED_PROCESSING;
    __atomic_add_fetch(&swp.posts, 1, __ATOMIC_SEQ_CST);
    if (flags & FLTFL_POST_OPERATION_DRAINING)
        __atomic_add_fetch(&swp.draining_posts, 1, __ATOMIC_SEQ_CST);
    swp.post_saw = data->IoStatus.Status;
    ExFreePoolWithTag(c->buf, SWAP_TAG); /* FltMgr frees the MDL it was given */
    ExFreePoolWithTag(c, SWAP_TAG);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* S swapped the read's buffer, B below holds it with a cancel routine; S
 * detaches: its post cannot be drained, so FltMgr cancels the read (B's
 * routine completes it with STATUS_CANCELLED), S's post then runs once,
 * normally, and the detach finishes. */
static void teardown_cancels_a_swapped_operation(void **state)
{
    struct fixture *f = *state;
    memset(&swp, 0, sizeof(swp));
    struct tf_filter *s = &f->s;
    tf_init(s, "S", "300000");
    s->pre = swap_pre;
    s->post = swap_post;
    assert_status(tf_load(f->w.sys, s), STATUS_SUCCESS);
    f->p.mode = MODE_HOLD;
    struct pending_read r;
    assert_status(read_async(f, 0, &r), STATUS_PENDING);
    assert_int_equal(f->p.held_count, 1);
    assert_status(FltDetachVolume(s->filter, f->w.volume, NULL), STATUS_SUCCESS);
    wait_read(&r);
    assert_status(r.async.iosb.Status, STATUS_CANCELLED);
    assert_int_equal(f->p.routine_calls, 1);
    assert_int_equal(f->p.routine_saw_cancelled, 1);
    assert_int_equal(swp.posts, 1);
    assert_int_equal(swp.draining_posts, 0);
    assert_status(swp.post_saw, STATUS_CANCELLED);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

#define FX(test) cmocka_unit_test_setup_teardown(test, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX(cancel_pended_read_calls_routine_and_completes_cancelled),
        FX(cancel_one_request_leaves_the_other),
        FX(cleared_routine_is_not_called),
        FX(set_after_cancel_returns_cancelled),
        FX(cancel_after_completion_is_not_found),
        FX(thread_end_cancels_its_io),
        FX(fast_io_and_fs_filter_cannot_be_cancelled),
        FX(cancel_racing_completion_completes_once),
        FX(teardown_cancels_a_swapped_operation),
    };
    return fltsim_run_suite("cancel", tests, sizeof(tests) / sizeof(tests[0]));
}
