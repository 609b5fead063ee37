/*
 * Cancel-safe callback-data queues (SPEC 7.4, issue 18 item 6): filter B
 * (200000) queues the reads it sees with FltCbdqInsertIo (a list on the
 * callback data's QueueLinks under a spin lock) and returns FLT_PREOP_PENDING;
 * the test or a worker takes them out with FltCbdqRemoveNextIo or
 * FltCbdqRemoveIo; an application's cancel takes them out through RemoveIo
 * and CompleteCanceledIo; disabling refuses inserts; the verifier reports a
 * queued operation completed without removal and a queue never initialized.
 * Filter A (300000) can hold a read above B, so it arrives cancelled.
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"
#include "pending_read_fx.h"

struct queue {
    FLT_CALLBACK_DATA_QUEUE cbdq; /* first: the callbacks find the queue from it */
    KSPIN_LOCK lock;
    LIST_ENTRY list;
    LONG locked;         /* 1 while Acquire .. Release */
    LONG unlocked_calls; /* list routines called without the lock */
    LONG acquires, releases, inserts, removes, canceled;
};

struct plan {
    bool queue_reads;    /* B: FltCbdqInsertIo each IRP read */
    bool use_bogus;      /* B: insert into a queue never initialized */
    bool worker_removes; /* B: a generic work item removes the next and completes it */
    bool a_holds;        /* A: hold each read pended (no routine) */
    FLT_CALLBACK_DATA_QUEUE_IO_CONTEXT ctx[4];
    PFLT_CALLBACK_DATA queued[4];
    LONG count;
    NTSTATUS insert_status[4];
    PFLT_CALLBACK_DATA a_held;
    LONG worker_completions;
    PFLT_FILTER filter;
};

struct fixture {
    struct test_world w;
    struct tf_filter a, b;
    struct plan p;
    struct queue q;
    HANDLE h;
    char buf[4][8];
    NTSTATUS init_status;
};

static struct fixture *the_fixture;

static struct queue *queue_of(PFLT_CALLBACK_DATA_QUEUE cbdq)
{
    return CONTAINING_RECORD(cbdq, struct queue, cbdq);
}

static void check_locked(struct queue *q)
{
    if (__atomic_load_n(&q->locked, __ATOMIC_SEQ_CST) != 1)
        __atomic_add_fetch(&q->unlocked_calls, 1, __ATOMIC_SEQ_CST);
}

static NTSTATUS FLTAPI q_insert(PFLT_CALLBACK_DATA_QUEUE cbdq, PFLT_CALLBACK_DATA cbd, PVOID ic)
{
    (void)ic;
    struct queue *q = queue_of(cbdq);
    check_locked(q);
    InsertTailList(&q->list, &cbd->QueueLinks);
    q->inserts++;
    return STATUS_SUCCESS;
}

static VOID FLTAPI q_remove(PFLT_CALLBACK_DATA_QUEUE cbdq, PFLT_CALLBACK_DATA cbd)
{
    struct queue *q = queue_of(cbdq);
    check_locked(q);
    RemoveEntryList(&cbd->QueueLinks);
    q->removes++;
}

static PFLT_CALLBACK_DATA FLTAPI q_peek(PFLT_CALLBACK_DATA_QUEUE cbdq, PFLT_CALLBACK_DATA cbd,
                                        PVOID peek)
{
    (void)peek;
    struct queue *q = queue_of(cbdq);
    check_locked(q);
    PLIST_ENTRY next = cbd == NULL ? q->list.Flink : cbd->QueueLinks.Flink;
    if (next == &q->list)
        return NULL;
    return CONTAINING_RECORD(next, FLT_CALLBACK_DATA, QueueLinks);
}

static VOID FLTAPI q_acquire(PFLT_CALLBACK_DATA_QUEUE cbdq, PKIRQL irql)
{
    struct queue *q = queue_of(cbdq);
    KeAcquireSpinLock(&q->lock, irql);
    __atomic_store_n(&q->locked, 1, __ATOMIC_SEQ_CST);
    q->acquires++;
}

static VOID FLTAPI q_release(PFLT_CALLBACK_DATA_QUEUE cbdq, KIRQL irql)
{
    struct queue *q = queue_of(cbdq);
    q->releases++;
    __atomic_store_n(&q->locked, 0, __ATOMIC_SEQ_CST);
    KeReleaseSpinLock(&q->lock, irql);
}

static VOID FLTAPI q_complete_canceled(PFLT_CALLBACK_DATA_QUEUE cbdq, PFLT_CALLBACK_DATA cbd)
{
    struct queue *q = queue_of(cbdq);
    __atomic_add_fetch(&q->canceled, 1, __ATOMIC_SEQ_CST);
    cbd->IoStatus.Status = STATUS_CANCELLED;
    cbd->IoStatus.Information = 0;
    FltCompletePendedPreOperation(cbd, FLT_PREOP_COMPLETE, NULL);
}

static VOID worker(PFLT_GENERIC_WORKITEM item, PVOID filter_object, PVOID context)
{
    (void)filter_object;
    struct fixture *f = context;
    PFLT_CALLBACK_DATA cbd = FltCbdqRemoveNextIo(&f->q.cbdq, NULL);
    if (cbd != NULL) {
        __atomic_add_fetch(&f->p.worker_completions, 1, __ATOMIC_SEQ_CST);
        FltCompletePendedPreOperation(cbd, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    }
    FltFreeGenericWorkItem(item);
}

static FLT_PREOP_CALLBACK_STATUS b_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)context;
    struct fixture *f = the_fixture;
    struct plan *p = tf->user;
    if (p == NULL || data->Iopb->MajorFunction != IRP_MJ_READ || !FLT_IS_IRP_OPERATION(data))
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    if (p->use_bogus) {
        static FLT_CALLBACK_DATA_QUEUE bogus; /* zero: never initialized */
        p->insert_status[0] = FltCbdqInsertIo(&bogus, data, NULL, NULL);
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    }
    if (!p->queue_reads)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    LONG k = __atomic_fetch_add(&p->count, 1, __ATOMIC_SEQ_CST) % 4;
    p->queued[k] = data;
    NTSTATUS st = FltCbdqInsertIo(&f->q.cbdq, data, &p->ctx[k], NULL);
    p->insert_status[k] = st;
    if (!NT_SUCCESS(st))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    if (p->worker_removes) {
        PFLT_GENERIC_WORKITEM item = FltAllocateGenericWorkItem();
        if (item != NULL && !NT_SUCCESS(FltQueueGenericWorkItem(item, objects->Instance, worker,
                                                                DelayedWorkQueue, f)))
            FltFreeGenericWorkItem(item);
    }
    return FLT_PREOP_PENDING;
}

static FLT_PREOP_CALLBACK_STATUS a_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct plan *p = tf->user;
    if (p == NULL || !p->a_holds || data->Iopb->MajorFunction != IRP_MJ_READ ||
        !FLT_IS_IRP_OPERATION(data))
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    p->a_held = data;
    return FLT_PREOP_PENDING;
}

static void b_setup(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)tf;
    struct fixture *f = the_fixture;
    if (objects->Volume != f->w.volume)
        return;
    f->init_status = FltCbdqInitialize(objects->Instance, &f->q.cbdq, q_insert, q_remove, q_peek,
                                       q_acquire, q_release, q_complete_canceled);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    the_fixture = f;
    KeInitializeSpinLock(&f->q.lock);
    InitializeListHead(&f->q.list);
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_init(&f->b, "B", "200000");
    f->a.pre = a_pre;
    f->b.pre = b_pre;
    f->b.setup_hook = b_setup;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);
    assert_status(f->init_status, STATUS_SUCCESS);
    f->h = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_READ);
    f->a.user = &f->p;
    f->b.user = &f->p;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    f->a.user = NULL;
    f->b.user = NULL;
    assert_status(fltsim_io_close(f->w.sys, f->h), STATUS_SUCCESS);
    world_destroy(&f->w);
    the_fixture = NULL;
    free(f);
    return 0;
}

/* Issues an overlapped 5-byte read at offset 0 into f->buf[k]; its status. */
static NTSTATUS read_async(struct fixture *f, int k, struct pending_read *r)
{
    return pending_read_start(f->w.sys, f->h, f->buf[k], r);
}

/* The filter's routines ran under its lock, and every Acquire was released. */
static void assert_locking(struct fixture *f)
{
    assert_int_equal(f->q.unlocked_calls, 0);
    assert_int_equal(f->q.acquires, f->q.releases);
    assert_true(f->q.acquires > 0);
}

/* Queued, taken out by FltCbdqRemoveNextIo, completed by the filter. */
static void cbdq_remove_next_then_complete(void **state)
{
    struct fixture *f = *state;
    f->p.queue_reads = true;
    struct pending_read r;
    assert_status(read_async(f, 0, &r), STATUS_PENDING);
    assert_status(f->p.insert_status[0], STATUS_SUCCESS);
    assert_int_equal(f->q.inserts, 1);
    PFLT_CALLBACK_DATA cbd = FltCbdqRemoveNextIo(&f->q.cbdq, NULL);
    assert_ptr_equal(cbd, f->p.queued[0]);
    assert_true(IsListEmpty(&f->q.list));
    assert_null(FltCbdqRemoveNextIo(&f->q.cbdq, NULL));
    /* Removed: its context finds nothing any more. */
    assert_null(FltCbdqRemoveIo(&f->q.cbdq, &f->p.ctx[0]));
    FltCompletePendedPreOperation(cbd, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    wait_read(&r);
    assert_status(r.async.iosb.Status, STATUS_SUCCESS);
    assert_memory_equal(f->buf[0], "hello", 5);
    assert_int_equal(f->q.canceled, 0);
    assert_locking(f);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* An application's cancel: RemoveIo under the lock, then CompleteCanceledIo,
 * which completes it with STATUS_CANCELLED. */
static void cbdq_cancelled_read_leaves_through_complete_canceled(void **state)
{
    struct fixture *f = *state;
    f->p.queue_reads = true;
    struct pending_read r;
    assert_status(read_async(f, 0, &r), STATUS_PENDING);
    assert_status(fltsim_io_cancel(f->w.sys, f->h, NULL), STATUS_SUCCESS);
    wait_read(&r);
    assert_status(r.async.iosb.Status, STATUS_CANCELLED);
    assert_int_equal(f->q.removes, 1);
    assert_int_equal(f->q.canceled, 1);
    assert_true(IsListEmpty(&f->q.list));
    assert_null(FltCbdqRemoveNextIo(&f->q.cbdq, NULL));
    assert_null(FltCbdqRemoveIo(&f->q.cbdq, &f->p.ctx[0]));
    assert_status(fltsim_io_cancel(f->w.sys, f->h, NULL), STATUS_NOT_FOUND);
    assert_locking(f);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* FltCbdqRemoveIo finds one operation by its context, once. */
static void cbdq_remove_io_by_context(void **state)
{
    struct fixture *f = *state;
    f->p.queue_reads = true;
    struct pending_read r0, r1;
    assert_status(read_async(f, 0, &r0), STATUS_PENDING);
    assert_status(read_async(f, 1, &r1), STATUS_PENDING);
    PFLT_CALLBACK_DATA second = FltCbdqRemoveIo(&f->q.cbdq, &f->p.ctx[1]);
    assert_ptr_equal(second, f->p.queued[1]);
    assert_null(FltCbdqRemoveIo(&f->q.cbdq, &f->p.ctx[1]));
    /* The other one is still there and cancelable. */
    FltCompletePendedPreOperation(second, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    wait_read(&r1);
    assert_status(r1.async.iosb.Status, STATUS_SUCCESS);
    assert_status(fltsim_io_cancel(f->w.sys, f->h, &r0.async), STATUS_SUCCESS);
    wait_read(&r0);
    assert_status(r0.async.iosb.Status, STATUS_CANCELLED);
    assert_int_equal(f->q.canceled, 1);
    assert_locking(f);
}

/* Disabled: STATUS_FLT_CBDQ_DISABLED, nothing queued; enabled again: queued. */
static void cbdq_disabled_refuses_insert(void **state)
{
    struct fixture *f = *state;
    f->p.queue_reads = true;
    FltCbdqDisable(&f->q.cbdq);
    struct pending_read r;
    NTSTATUS st = read_async(f, 0, &r);
    if (st == STATUS_PENDING)
        wait_read(&r);
    assert_status(f->p.insert_status[0], STATUS_FLT_CBDQ_DISABLED);
    assert_status(r.async.iosb.Status, STATUS_SUCCESS);
    assert_int_equal(f->q.inserts, 0);
    FltCbdqEnable(&f->q.cbdq);
    assert_status(read_async(f, 1, &r), STATUS_PENDING);
    assert_status(f->p.insert_status[1], STATUS_SUCCESS);
    PFLT_CALLBACK_DATA cbd = FltCbdqRemoveNextIo(&f->q.cbdq, NULL);
    assert_non_null(cbd);
    FltCompletePendedPreOperation(cbd, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    wait_read(&r);
    assert_status(r.async.iosb.Status, STATUS_SUCCESS);
}

/* Cancelled before it reaches B (A held it): the insert sends it straight to
 * the cancel path (SPEC 7.4 [SIM]). */
static void cbdq_insert_of_cancelled_goes_to_cancel_path(void **state)
{
    struct fixture *f = *state;
    f->p.queue_reads = true;
    f->p.a_holds = true;
    struct pending_read r;
    assert_status(read_async(f, 0, &r), STATUS_PENDING);
    assert_non_null(f->p.a_held);
    assert_status(fltsim_io_cancel(f->w.sys, f->h, NULL), STATUS_SUCCESS);
    assert_true(FltIsIoCanceled(f->p.a_held));
    FltCompletePendedPreOperation(f->p.a_held, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    wait_read(&r);
    assert_status(f->p.insert_status[0], STATUS_SUCCESS);
    assert_status(r.async.iosb.Status, STATUS_CANCELLED);
    assert_int_equal(f->q.inserts, 1);
    assert_int_equal(f->q.removes, 1);
    assert_int_equal(f->q.canceled, 1);
    assert_true(IsListEmpty(&f->q.list));
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* Completed while still queued: reported (SIM, 7.4), and FltMgr takes it out
 * of the queue (RemoveIo), so nothing is left pointing at it. */
static void cbdq_completed_while_queued_is_reported(void **state)
{
    struct fixture *f = *state;
    f->p.queue_reads = true;
    struct pending_read r;
    assert_status(read_async(f, 0, &r), STATUS_PENDING);
    FltCompletePendedPreOperation(f->p.queued[0], FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    wait_read(&r);
    assert_status(r.async.iosb.Status, STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "SIM"), 1);
    assert_int_equal(f->q.removes, 1);
    assert_true(IsListEmpty(&f->q.list));
    assert_null(FltCbdqRemoveIo(&f->q.cbdq, &f->p.ctx[0]));
    assert_status(fltsim_io_cancel(f->w.sys, f->h, NULL), STATUS_NOT_FOUND);
    assert_int_equal(f->q.canceled, 0);
}

/* A queue FltCbdqInitialize never saw: reported, refused, no crash. */
static void cbdq_uninitialized_queue_is_reported(void **state)
{
    struct fixture *f = *state;
    f->p.use_bogus = true;
    struct pending_read r;
    NTSTATUS st = read_async(f, 0, &r);
    if (st == STATUS_PENDING)
        wait_read(&r);
    assert_status(r.async.iosb.Status, STATUS_SUCCESS);
    assert_status(f->p.insert_status[0], STATUS_INVALID_PARAMETER);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "SIM"), 1);
}

/* A worker taking reads out (FltCbdqRemoveNextIo) racing the application's
 * cancel: each read leaves the queue once, through one of them. */
static void cbdq_cancel_racing_remove_next(void **state)
{
    struct fixture *f = *state;
    f->p.queue_reads = true;
    f->p.worker_removes = true;
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
    assert_status(fltsim_system_wait_idle(f->w.sys, 30000), STATUS_SUCCESS);
    print_message("%d cancelled, %d removed by the worker\n", cancelled, succeeded);
    assert_int_equal(cancelled + succeeded, rounds);
    assert_int_equal(f->q.canceled, cancelled);
    assert_int_equal(f->p.worker_completions, succeeded);
    assert_int_equal(f->q.inserts, rounds);
    assert_int_equal(f->q.removes, rounds);
    assert_true(IsListEmpty(&f->q.list));
    assert_locking(f);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

#define FX(test) cmocka_unit_test_setup_teardown(test, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX(cbdq_remove_next_then_complete),
        FX(cbdq_cancelled_read_leaves_through_complete_canceled),
        FX(cbdq_remove_io_by_context),
        FX(cbdq_disabled_refuses_insert),
        FX(cbdq_insert_of_cancelled_goes_to_cancel_path),
        FX(cbdq_completed_while_queued_is_reported),
        FX(cbdq_uninitialized_queue_is_reported),
        FX(cbdq_cancel_racing_remove_next),
    };
    return fltsim_run_suite("cbdq", tests, sizeof(tests) / sizeof(tests[0]));
}
