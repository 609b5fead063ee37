/*
 * Section "pend" (issue 7, figures 2 and 3). Round trip: a post callback
 * queues a deferred I/O work item and returns FLT_POSTOP_MORE_PROCESSING_
 * REQUIRED, the work routine completes the operation
 * (FltCompletePendedPostOperation) and the requestor, waiting in a
 * synchronous read, sees it; one at a time, against a raw uv_queue_work round
 * trip (queue, run on the pool, back on the loop). Bulk: 100,000 overlapped
 * reads pended in their pre (FLT_PREOP_PENDING) at once, then each completed
 * from a deferred work item on the pool, against 100,000 raw uv_queue_work
 * requests; and the heap bytes each pended operation holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <uv.h>

#include "bench.h"
#include "bench_world.h"

/* ---- round trip ---- */

static VOID complete_post_routine(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data,
                                  PVOID context)
{
    (void)context;
    FltFreeDeferredIoWorkItem(item);
    FltCompletePendedPostOperation(data);
}

static FLT_POSTOP_CALLBACK_STATUS pend_post(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                           PVOID context, FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    if (flags & FLTFL_POST_OPERATION_DRAINING)
        return FLT_POSTOP_FINISHED_PROCESSING;
    PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
    if (item == NULL)
        return FLT_POSTOP_FINISHED_PROCESSING;
    if (!NT_SUCCESS(FltQueueDeferredIoWorkItem(item, data, complete_post_routine,
                                               CriticalWorkQueue, NULL))) {
        FltFreeDeferredIoWorkItem(item);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
}

static const FLT_OPERATION_REGISTRATION round_trip_ops[] = {
    {IRP_MJ_READ, 0, bench_passthrough_pre, pend_post}, {IRP_MJ_OPERATION_END}};

double bench_pend_round_trip_us(uint64_t ops)
{
    struct bench_world w;
    if (!bench_world_create(&w, FLTSIM_EXECUTOR_CONCURRENT, round_trip_ops, 1))
        return -1;
    HANDLE handle = bench_world_open(&w, false);
    bool ok = handle != NULL;
    uint64_t start = 0;
    char buffer[64];
    LONGLONG offset = 0;
    IO_STATUS_BLOCK iosb;
    for (uint64_t k = 0; ok && k < ops + ops / 10; k++) {
        if (k == ops / 10)
            start = bench_now_ns(); /* after a tenth to warm up */
        NTSTATUS status = fltsim_io_read(w.sys, handle, buffer, sizeof(buffer), &offset, 0, &iosb);
        if (status != STATUS_SUCCESS) {
            fprintf(stderr, "bench pend: read %llu: 0x%08x\n", (unsigned long long)k,
                    (unsigned)status);
            ok = false;
        }
    }
    double us = (double)(bench_now_ns() - start) / 1e3 / (double)ops;
    ok &= bench_world_destroy(&w, handle);
    return ok ? us : -1;
}

static void raw_work(uv_work_t *req)
{
    (void)req;
}

static void raw_after(uv_work_t *req, int status)
{
    (void)status;
    (*(uint64_t *)req->loop->data)++;
}

/* Microseconds per raw uv_queue_work round trip; < 0 on failure. */
static double raw_round_trip_us(uint64_t ops)
{
    uv_loop_t loop;
    uint64_t done = 0;
    if (uv_loop_init(&loop) != 0)
        return -1;
    loop.data = &done;
    uv_work_t req;
    uint64_t start = 0;
    for (uint64_t k = 0; k < ops + ops / 10; k++) {
        if (k == ops / 10)
            start = bench_now_ns();
        if (uv_queue_work(&loop, &req, raw_work, raw_after) != 0)
            break;
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    double us = (double)(bench_now_ns() - start) / 1e3 / (double)ops;
    uv_loop_close(&loop);
    return done == ops + ops / 10 ? us : -1;
}

/* ---- bulk ---- */

struct pended {
    PFLT_CALLBACK_DATA data;
    PFLT_DEFERRED_IO_WORKITEM item;
};
static struct pended *bulk;  /* one per operation, allocated before measuring */
static uint64_t bulk_count;  /* pended so far; the requestor's thread only */
static uint64_t bulk_capacity;

static FLT_PREOP_CALLBACK_STATUS pend_pre(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                          PVOID *context)
{
    (void)objects;
    *context = NULL;
    if (bulk_count == bulk_capacity)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
    if (item == NULL)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    bulk[bulk_count++] = (struct pended){data, item};
    return FLT_PREOP_PENDING;
}

static VOID complete_pre_routine(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data,
                                 PVOID context)
{
    (void)context;
    FltFreeDeferredIoWorkItem(item);
    FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
}

static const FLT_OPERATION_REGISTRATION bulk_ops[] = {{IRP_MJ_READ, 0, pend_pre, NULL},
                                                      {IRP_MJ_OPERATION_END}};

static size_t heap_in_use(void)
{
#ifdef __GLIBC__
    return mallinfo2().uordblks;
#else
    return 0;
#endif
}

struct bulk_result {
    double ops_per_s;
    double bytes_per_op;
};

/* Pends ops overlapped reads, then completes them all from the pool. */
static bool fltsim_bulk(uint64_t ops, struct bulk_result *out)
{
    struct bench_world w;
    if (!bench_world_create(&w, FLTSIM_EXECUTOR_CONCURRENT, bulk_ops, 1))
        return false;
    HANDLE handle = bench_world_open(&w, true);
    struct fltsim_io_async *async = calloc(ops, sizeof(*async));
    bulk = calloc(ops, sizeof(*bulk));
    bulk_count = 0;
    bulk_capacity = ops;
    bool ok = handle != NULL && async != NULL && bulk != NULL;
    static char buffer[64];
    size_t heap_before = heap_in_use();
    for (uint64_t k = 0; ok && k < ops; k++) {
        NTSTATUS status = fltsim_io_read_async(w.sys, handle, buffer, sizeof(buffer),
                                               (LONGLONG)k * 64, 0, &async[k]);
        if (status != STATUS_PENDING) {
            fprintf(stderr, "bench pend: overlapped read %llu: 0x%08x, not pended\n",
                    (unsigned long long)k, (unsigned)status);
            ok = false;
        }
    }
    size_t heap_pended = heap_in_use();
    uint64_t start = bench_now_ns();
    for (uint64_t k = 0; k < bulk_count; k++)
        if (!NT_SUCCESS(FltQueueDeferredIoWorkItem(bulk[k].item, bulk[k].data,
                                                   complete_pre_routine, DelayedWorkQueue, NULL))) {
            fprintf(stderr, "bench pend: FltQueueDeferredIoWorkItem failed\n");
            FltFreeDeferredIoWorkItem(bulk[k].item);
            FltCompletePendedPreOperation(bulk[k].data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
            ok = false;
        }
    fltsim_system_wait_idle(w.sys, 0);
    double seconds = (double)(bench_now_ns() - start) / 1e9;
    for (uint64_t k = 0; ok && k < ops; k++)
        if (async[k].iosb.Status != STATUS_SUCCESS || async[k].iosb.Information != 64) {
            fprintf(stderr, "bench pend: overlapped read %llu completed with 0x%08x\n",
                    (unsigned long long)k, (unsigned)async[k].iosb.Status);
            ok = false;
        }
    ok &= bench_world_destroy(&w, handle);
    free(async);
    free(bulk);
    bulk = NULL;
    out->ops_per_s = (double)ops / seconds;
    out->bytes_per_op = (double)(heap_pended - heap_before) / (double)ops;
    return ok;
}

/* The same number of raw uv_queue_work requests, queued at once. */
static bool raw_bulk(uint64_t ops, double *ops_per_s)
{
    uv_loop_t loop;
    uint64_t done = 0;
    uv_work_t *reqs = calloc(ops, sizeof(*reqs));
    if (reqs == NULL || uv_loop_init(&loop) != 0) {
        free(reqs);
        return false;
    }
    loop.data = &done;
    uint64_t start = bench_now_ns();
    for (uint64_t k = 0; k < ops; k++)
        if (uv_queue_work(&loop, &reqs[k], raw_work, raw_after) != 0)
            break;
    uv_run(&loop, UV_RUN_DEFAULT);
    double seconds = (double)(bench_now_ns() - start) / 1e9;
    uv_loop_close(&loop);
    free(reqs);
    *ops_per_s = (double)ops / seconds;
    return done == ops;
}

int bench_pend(const struct bench_opts *opts)
{
    uint64_t trips = bench_count(opts, 20000, 20);
    uint64_t ops = bench_count(opts, 100000, 100);
    double sim_us[1000], raw_us[1000], sim_rate[1000], raw_rate[1000], bytes[1000];
    for (int r = 0; r < opts->runs; r++) {
        struct bulk_result sim;
        sim_us[r] = bench_pend_round_trip_us(trips);
        raw_us[r] = raw_round_trip_us(trips);
        if (sim_us[r] < 0 || raw_us[r] < 0 || !fltsim_bulk(ops, &sim) ||
            !raw_bulk(ops, &raw_rate[r])) {
            fprintf(stderr, "bench pend: run %d failed\n", r);
            return 1;
        }
        sim_rate[r] = sim.ops_per_s;
        bytes[r] = sim.bytes_per_op;
        if (opts->verbose)
            fprintf(stderr,
                    "pend run %d: round trip %.2f us (raw %.2f us); bulk %.0f ops/s (raw %.0f), "
                    "%.0f bytes per pended op\n",
                    r, sim_us[r], raw_us[r], sim_rate[r], raw_rate[r], bytes[r]);
    }
    bench_report(opts, "pend_round_trip", "us", bench_median(sim_us, opts->runs),
                 "uv_queue_work_round_trip", bench_median(raw_us, opts->runs), BENCH_LE, 1.5);
    char name[48];
    snprintf(name, sizeof(name), "pended_%llu_completed", (unsigned long long)ops);
    bench_report(opts, name, "ops/s", bench_median(sim_rate, opts->runs), "uv_queue_work_bulk",
                 bench_median(raw_rate, opts->runs), BENCH_GE, 0.5);
#ifdef __GLIBC__
    /* Against an absolute target: ratio is value / 1024. */
    bench_report(opts, "pended_op_memory", "bytes", bench_median(bytes, opts->runs), NULL, 0,
                 BENCH_LE, 1024);
#else
    printf("bench name=pended_op_memory skipped=needs-glibc-mallinfo2\n");
#endif
    return 0;
}
