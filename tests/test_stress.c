/*
 * Stress (issue 3, "How it is checked"): four requestor threads issue a few
 * thousand mixed operations (creates, reads, writes, queries, sets, overlapped
 * reads, closes) through three filters that pend at random (seeded) in pre
 * and post with deferred I/O work items, over a volume whose file system
 * completes asynchronously, while another thread detaches and reattaches the
 * lowest filter's instance. Checked: every operation that entered the stack
 * left it exactly once, every request returned or called back with a
 * status, no verifier report, FltMgr's and the filters' pool tags back to
 * zero, and no deadlock: the wait is bounded and a timeout fails (aborts)
 * instead of hanging.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define REQUESTORS 4
#define ROUNDS 100 /* each round: 9 requests -> 3600 requests in all */
#define REATTACHES 12
#define CONTEXT_TAG 'xtCS'
#define FLTMGR_WORK_ITEM_TAG 'iwMF'
#define MAX_OPS (1u << 16)

struct stress_filter {
    int index;
    ULONG64 seed;
    LONG calls;    /* decisions taken, atomic */
    LONG pending;  /* operations it keeps pended (or is about to), atomic */
    LONG stopping; /* teardown started: pend no more, atomic */
    LONG pended_pre, pended_post, fallbacks; /* statistics, atomic */
};

struct stress_context {
    ULONG magic;
    struct stress_filter *filter;
};

static ULONG64 splitmix(ULONG64 x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* A seeded choice in [0, 8). Under the deterministic executor the order of
 * calls is itself seeded, so the whole run replays. */
static unsigned roll(struct stress_filter *sf)
{
    ULONG n = (ULONG)__atomic_fetch_add(&sf->calls, 1, __ATOMIC_SEQ_CST);
    return (unsigned)(splitmix(sf->seed ^ ((ULONG64)sf->index << 40) ^ n) & 7);
}

/* Takes a pend slot unless teardown started (the order makes the check in
 * TeardownStart exact). */
static bool may_pend(struct stress_filter *sf)
{
    __atomic_add_fetch(&sf->pending, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&sf->stopping, __ATOMIC_SEQ_CST))
        return true;
    __atomic_sub_fetch(&sf->pending, 1, __ATOMIC_SEQ_CST);
    return false;
}

static void pend_done(struct stress_filter *sf)
{
    __atomic_sub_fetch(&sf->pending, 1, __ATOMIC_SEQ_CST);
}

static VOID resume_pre(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    struct stress_context *ctx = context;
    struct stress_filter *sf = ctx->filter;
    /* Resume with or without a post, handing the context on or freeing it. */
    if (roll(sf) & 1) {
        FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_WITH_CALLBACK, ctx);
    } else {
        ExFreePoolWithTag(ctx, CONTEXT_TAG);
        FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    }
    FltFreeDeferredIoWorkItem(item);
    pend_done(sf);
}

static VOID resume_post(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    struct stress_filter *sf = context;
    FltCompletePendedPostOperation(data);
    FltFreeDeferredIoWorkItem(item);
    pend_done(sf);
}

static FLT_PREOP_CALLBACK_STATUS stress_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    struct stress_filter *sf = tf->user;
    if (sf == NULL || !FLT_IS_IRP_OPERATION(data))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    struct stress_context *ctx = ExAllocatePoolZero(NonPagedPoolNx, sizeof(*ctx), CONTEXT_TAG);
    if (ctx == NULL)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    ctx->magic = 0x5354u;
    ctx->filter = sf;
    unsigned r = roll(sf);
    if (r < 2 && may_pend(sf)) {
        PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
        if (item != NULL && FltQueueDeferredIoWorkItem(item, data, resume_pre, DelayedWorkQueue,
                                                       ctx) == STATUS_SUCCESS) {
            __atomic_add_fetch(&sf->pended_pre, 1, __ATOMIC_SEQ_CST);
            return FLT_PREOP_PENDING;
        }
        /* Cannot post (paging I/O, tearing down): the fallback is to go on
         * without pending. */
        if (item != NULL)
            FltFreeDeferredIoWorkItem(item);
        pend_done(sf);
        __atomic_add_fetch(&sf->fallbacks, 1, __ATOMIC_SEQ_CST);
    }
    if (r == 7) {
        ExFreePoolWithTag(ctx, CONTEXT_TAG);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    *context = ctx;
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS stress_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                              PCFLT_RELATED_OBJECTS objects, PVOID context,
                                              FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    struct stress_filter *sf = tf->user;
    struct stress_context *ctx = context;
    if (ctx == NULL || ctx->magic != 0x5354u || ctx->filter != sf)
        fail_msg("post of filter %d got a completion context that is not its own", tf->name[1]);
    ctx->magic = 0;
    ExFreePoolWithTag(ctx, CONTEXT_TAG);
    if (flags & FLTFL_POST_OPERATION_DRAINING)
        return FLT_POSTOP_FINISHED_PROCESSING; /* only clean up (SPEC 4.4) */
    if (roll(sf) < 2 && may_pend(sf)) {
        PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
        if (item != NULL && FltQueueDeferredIoWorkItem(item, data, resume_post, CriticalWorkQueue,
                                                       sf) == STATUS_SUCCESS) {
            __atomic_add_fetch(&sf->pended_post, 1, __ATOMIC_SEQ_CST);
            return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
        }
        if (item != NULL)
            FltFreeDeferredIoWorkItem(item);
        pend_done(sf);
        __atomic_add_fetch(&sf->fallbacks, 1, __ATOMIC_SEQ_CST);
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* InstanceTeardownStart: stop pending, then wait until everything this
 * filter pended was resumed by its work items (SPEC 2.6 step 2). */
static void stress_teardown_start(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    struct stress_filter *sf = tf->user;
    __atomic_store_n(&sf->stopping, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&sf->pending, __ATOMIC_SEQ_CST) != 0) {
        LARGE_INTEGER tick = {.QuadPart = -10000};
        KeDelayExecutionThread(KernelMode, FALSE, &tick);
    }
}

/* ---- bookkeeping from the trace ---- */

static unsigned char starts[MAX_OPS], completes[MAX_OPS];
static LONG ops_seen, ops_overflow;

static void stress_trace(void *ctx, const struct fltsim_event *ev)
{
    (void)ctx;
    if (ev->type != FLTSIM_EV_IO_START && ev->type != FLTSIM_EV_IO_COMPLETE)
        return;
    if (ev->op_id >= MAX_OPS) {
        ops_overflow++;
        return;
    }
    if (ev->type == FLTSIM_EV_IO_START) {
        starts[ev->op_id]++;
        ops_seen++;
    } else {
        completes[ev->op_id]++;
    }
}

/* ---- the threads ---- */

struct requestor {
    fltsim_system *sys;
    int index;
    LONG issued, returned, failures;
    LONG async_pending, async_callbacks, reads_after_cleanup;
    NTSTATUS first_failure;
    const char *failed_call;
};

static void note(struct requestor *r, NTSTATUS status, const char *call)
{
    __atomic_add_fetch(&r->returned, 1, __ATOMIC_SEQ_CST);
    if (NT_SUCCESS(status))
        return;
    if (r->failures++ == 0) {
        r->first_failure = status;
        r->failed_call = call;
    }
}

static void async_done(struct fltsim_io_async *io, void *ctx)
{
    struct requestor *r = ctx;
    /* The handle was closed right after the read was issued: if the
     * cleanup reached the file system first, the read finds the file
     * closed, as on Windows. */
    if (io->iosb.Status == STATUS_FILE_CLOSED)
        __atomic_add_fetch(&r->reads_after_cleanup, 1, __ATOMIC_SEQ_CST);
    else if (!NT_SUCCESS(io->iosb.Status))
        note(r, io->iosb.Status, "overlapped read (completion)");
    __atomic_add_fetch(&r->async_callbacks, 1, __ATOMIC_SEQ_CST);
}

static void requestor_main(void *arg)
{
    struct requestor *r = arg;
    static const PCWSTR names[REQUESTORS] = {L"C:\\s0.txt", L"C:\\s1.txt", L"C:\\s2.txt",
                                             L"C:\\s3.txt"};
    struct fltsim_io_async *ios = calloc(ROUNDS, sizeof(*ios));
    char(*bufs)[16] = calloc(ROUNDS, sizeof(*bufs));
    assert_non_null(ios);
    assert_non_null(bufs);
    for (int round = 0; round < ROUNDS; round++) {
        struct fltsim_create_params cp = {.path = names[r->index],
                                          .desired_access = GENERIC_READ | GENERIC_WRITE,
                                          .share_access = FILE_SHARE_READ | FILE_SHARE_WRITE,
                                          .disposition = FILE_OPEN_IF,
                                          .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
        HANDLE h = NULL, ah = NULL;
        IO_STATUS_BLOCK iosb;
        r->issued++;
        NTSTATUS status = fltsim_io_create(r->sys, &cp, &h, &iosb);
        note(r, status, "create");
        if (!NT_SUCCESS(status))
            continue;
        char buf[16];
        LONGLONG off = round % 7;
        r->issued++;
        note(r, fltsim_io_write(r->sys, h, "0123456789", 10, &off, 0, &iosb), "write");
        r->issued++;
        note(r, fltsim_io_read(r->sys, h, buf, 8, &off, 0, &iosb), "read");
        FILE_STANDARD_INFORMATION std;
        r->issued++;
        note(r,
             fltsim_io_query_information(r->sys, h, &std, sizeof(std), FileStandardInformation, 0,
                                         &iosb),
             "query");
        FILE_END_OF_FILE_INFORMATION eof = {{.QuadPart = 16 + round % 5}};
        r->issued++;
        note(r,
             fltsim_io_set_information(r->sys, h, &eof, sizeof(eof), FileEndOfFileInformation,
                                       &iosb),
             "set");
        /* An overlapped read on an asynchronous handle. */
        cp.create_options = 0;
        cp.desired_access = GENERIC_READ;
        r->issued++;
        status = fltsim_io_create(r->sys, &cp, &ah, &iosb);
        note(r, status, "create (overlapped handle)");
        if (NT_SUCCESS(status)) {
            ios[round].callback = async_done;
            ios[round].ctx = r;
            r->issued++;
            status = fltsim_io_read_async(r->sys, ah, bufs[round], 8, 0, 0, &ios[round]);
            if (status == STATUS_PENDING)
                __atomic_add_fetch(&r->async_pending, 1, __ATOMIC_SEQ_CST);
            else
                note(r, status, "overlapped read");
            /* Closing while the read may be in flight: the I/O manager keeps
             * the file object until it completes. */
            r->issued++;
            note(r, fltsim_io_close(r->sys, ah), "close (overlapped handle)");
        }
        r->issued++;
        note(r, fltsim_io_close(r->sys, h), "close");
    }
    /* Wait for the overlapped reads' callbacks before the buffers go. */
    while (__atomic_load_n(&r->async_callbacks, __ATOMIC_SEQ_CST) <
           __atomic_load_n(&r->async_pending, __ATOMIC_SEQ_CST)) {
        LARGE_INTEGER tick = {.QuadPart = -10000};
        KeDelayExecutionThread(KernelMode, FALSE, &tick);
    }
    free(ios);
    free(bufs);
}

struct chaos {
    fltsim_system *sys;
    PFLT_VOLUME volume;
    struct tf_filter *victim;
    struct stress_filter *sf;
    LONG cycles;
    NTSTATUS failure;
};

static void chaos_main(void *arg)
{
    struct chaos *c = arg;
    for (int i = 0; i < REATTACHES; i++) {
        LARGE_INTEGER pause = {.QuadPart = -20000 * (1 + i % 3)};
        KeDelayExecutionThread(KernelMode, FALSE, &pause);
        NTSTATUS status = FltDetachVolume(c->victim->filter, c->volume, NULL);
        if (!NT_SUCCESS(status)) {
            c->failure = status;
            return;
        }
        KeDelayExecutionThread(KernelMode, FALSE, &pause);
        __atomic_store_n(&c->sf->stopping, 0, __ATOMIC_SEQ_CST);
        status = FltAttachVolume(c->victim->filter, c->volume, NULL, NULL);
        if (!NT_SUCCESS(status)) {
            c->failure = status;
            return;
        }
        c->cycles++;
    }
}

static void stress_mixed_operations_with_random_pending_and_reattach(void **state)
{
    (void)state;
    struct test_world w;
    world_create_ex(&w, 0, FLTSIM_COMPLETE_ASYNC);
    memset(starts, 0, sizeof(starts));
    memset(completes, 0, sizeof(completes));
    ops_seen = ops_overflow = 0;

    struct tf_filter filters[3];
    struct stress_filter sfs[3];
    static const char *names[3] = {"F1", "F2", "F3"};
    static const char *altitudes[3] = {"300000", "200000", "100000"};
    for (int i = 0; i < 3; i++) {
        memset(&sfs[i], 0, sizeof(sfs[i]));
        sfs[i].index = i;
        sfs[i].seed = test_seed;
        tf_init(&filters[i], names[i], altitudes[i]);
        filters[i].pre = stress_pre;
        filters[i].post = stress_post;
        filters[i].teardown_start_hook = stress_teardown_start;
        filters[i].user = &sfs[i];
        assert_status(tf_load(w.sys, &filters[i]), STATUS_SUCCESS);
    }
    fltsim_system_set_trace(w.sys, stress_trace, NULL);

    struct requestor req[REQUESTORS];
    fltsim_thread *threads[REQUESTORS + 1];
    for (int i = 0; i < REQUESTORS; i++) {
        memset(&req[i], 0, sizeof(req[i]));
        req[i].sys = w.sys;
        req[i].index = i;
        assert_status(fltsim_thread_spawn(w.sys, 3000 + (ULONG)i, 6000 + (ULONG)i, requestor_main,
                                          &req[i], &threads[i]),
                      STATUS_SUCCESS);
    }
    /* The instances attach on the first create; detach/reattach after. */
    struct chaos chaos = {w.sys, w.volume, &filters[2], &sfs[2], 0, STATUS_SUCCESS};
    assert_status(fltsim_thread_spawn(w.sys, 4, 7000, chaos_main, &chaos, &threads[REQUESTORS]),
                  STATUS_SUCCESS);

    /* Bounded: a deadlock under the concurrent executor shows up as a
     * timeout here (the deterministic one detects it and aborts itself). */
    NTSTATUS idle = fltsim_system_wait_idle(w.sys, 120000);
    if (idle != STATUS_SUCCESS) {
        fprintf(stderr, "stress: not idle after 120 s (%s); operations started %d\n",
                fltsim_last_error(), (int)ops_seen);
        abort(); /* a hang would be worse: fail loudly */
    }
    for (int i = 0; i <= REQUESTORS; i++)
        fltsim_thread_join(threads[i]);
    fltsim_system_set_trace(w.sys, NULL, NULL);

    assert_status(chaos.failure, STATUS_SUCCESS);
    assert_int_equal(chaos.cycles, REATTACHES);
    LONG total = 0, pended = 0, fallbacks = 0;
    for (int i = 0; i < REQUESTORS; i++) {
        if (req[i].failures != 0)
            fail_msg("requestor %d: %d failures, first %s: 0x%08x", i, (int)req[i].failures,
                     req[i].failed_call, (unsigned)req[i].first_failure);
        /* Every request returned (or called back) exactly once. */
        assert_int_equal(req[i].issued, req[i].returned + req[i].async_pending);
        assert_int_equal(req[i].async_callbacks, req[i].async_pending);
        total += req[i].issued;
    }
    assert_int_equal(total, REQUESTORS * ROUNDS * 9);
    assert_int_equal(ops_overflow, 0);
    for (ULONG id = 0; id < MAX_OPS; id++)
        if (starts[id] != completes[id] || starts[id] > 1)
            fail_msg("operation #%u started %u times and completed %u times", (unsigned)id,
                     (unsigned)starts[id], (unsigned)completes[id]);
    assert_true(ops_seen >= total); /* overlapped closes add cleanup/close */
    for (int i = 0; i < 3; i++) {
        pended += sfs[i].pended_pre + sfs[i].pended_post;
        fallbacks += sfs[i].fallbacks;
        assert_int_equal(sfs[i].pending, 0);
    }
    assert_true(pended > total / 10); /* the filters did pend, a lot */
    /* Only the instance that tears down may be refused a work item. */
    assert_int_equal(sfs[0].fallbacks, 0);
    assert_int_equal(sfs[1].fallbacks, 0);
    ULONG reports = fltsim_system_report_count(w.sys);
    if (reports != 0) {
        struct fltsim_report rep;
        for (ULONG i = 0; i < reports && i < 5; i++)
            if (NT_SUCCESS(fltsim_system_report_get(w.sys, i, &rep)))
                fprintf(stderr, "report %s: %s\n", rep.rule, rep.message);
        fail_msg("%u verifier reports", (unsigned)reports);
    }
    world_destroy(&w);

    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(CONTEXT_TAG, &st);
    assert_int_equal(st.outstanding, 0);
    assert_true(st.total > 0);
    fltsim_pool_tag_stats(FLTMGR_WORK_ITEM_TAG, &st);
    assert_int_equal(st.outstanding, 0);
    LONG closed_first = 0;
    for (int i = 0; i < REQUESTORS; i++)
        closed_first += req[i].reads_after_cleanup;
    print_message("stress: %d requests, %d operations, %d pended, %d fallbacks, %d reattaches, "
                  "%d overlapped reads found their file closed\n",
                  (int)total, (int)ops_seen, (int)pended, (int)fallbacks, (int)chaos.cycles,
                  (int)closed_first);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stress_mixed_operations_with_random_pending_and_reattach),
    };
    return FLTSIM_RUN_SUITE("stress", tests);
}
