/*
 * Sections "dispatch" and "scaling" (issue 7, figures 1 and 5): synchronous
 * reads through N pass-through filters onto the null file system, tracing
 * off, verifier on (strict, as by default), against the same callbacks and
 * file system called through function pointers in a loop; then the same
 * dispatch from one and from two requestor threads, and under the
 * deterministic executor.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "bench_world.h"

static const FLT_OPERATION_REGISTRATION passthrough_ops[] = {
    {IRP_MJ_READ, 0, bench_passthrough_pre, bench_passthrough_post},
    {IRP_MJ_WRITE, 0, bench_passthrough_pre, bench_passthrough_post},
    {IRP_MJ_OPERATION_END}};

/* ---- the baseline: a bare chain ---- */

/* volatile: the compiler must call through the pointers, as fltsim does. */
static PFLT_PRE_OPERATION_CALLBACK volatile chain_pre[BENCH_MAX_FILTERS];
static PFLT_POST_OPERATION_CALLBACK volatile chain_post[BENCH_MAX_FILTERS];
static NTSTATUS (*volatile chain_fs)(void *fs, PFLT_CALLBACK_DATA data) = bench_nullfs_irp;

/* Nanoseconds per operation of the bare chain of n filters: each pre in
 * altitude order, the file system, the posts of those that asked, bottom-up. */
static double bare_chain_ns(int n, uint64_t ops)
{
    for (int i = 0; i < n; i++) {
        chain_pre[i] = bench_passthrough_pre;
        chain_post[i] = bench_passthrough_post;
    }
    FLT_IO_PARAMETER_BLOCK iopb;
    memset(&iopb, 0, sizeof(iopb));
    iopb.MajorFunction = IRP_MJ_READ;
    iopb.IrpFlags = IRP_READ_OPERATION | IRP_SYNCHRONOUS_API;
    iopb.Parameters.Read.Length = 64;
    FLT_CALLBACK_DATA data;
    memset(&data, 0, sizeof(data));
    data.Flags = FLTFL_CALLBACK_DATA_IRP_OPERATION;
    memcpy((void *)&data.Iopb, &(PFLT_IO_PARAMETER_BLOCK){&iopb}, sizeof(data.Iopb));
    FLT_RELATED_OBJECTS objects;
    memset(&objects, 0, sizeof(objects));
    PVOID contexts[BENCH_MAX_FILTERS];
    bool wants_post[BENCH_MAX_FILTERS];

    uint64_t start = bench_now_ns();
    for (uint64_t k = 0; k < ops; k++) {
        int i = 0;
        for (; i < n; i++) {
            contexts[i] = NULL;
            FLT_PREOP_CALLBACK_STATUS st = chain_pre[i](&data, &objects, &contexts[i]);
            wants_post[i] = st == FLT_PREOP_SUCCESS_WITH_CALLBACK;
            if (st == FLT_PREOP_COMPLETE)
                break;
        }
        if (i == n)
            chain_fs(NULL, &data);
        while (i-- > 0)
            if (wants_post[i])
                chain_post[i](&data, &objects, contexts[i], 0);
    }
    return (double)(bench_now_ns() - start) / (double)ops;
}

/* ---- fltsim ---- */

/* Where a benchmark enters fltsim: the Filter Manager itself (an IRP as the
 * I/O manager hands it over, fltsim_request_dispatch), or the I/O manager
 * (fltsim_io_read: handle lookup, access check, building the IRP). */
enum entry { ENTRY_FLTMGR, ENTRY_IO_MANAGER };

/* Nanoseconds per synchronous read of 64 bytes through w's filters. */
static double dispatch_ns(struct bench_world *w, HANDLE handle, enum entry entry, uint64_t ops,
                          bool *ok)
{
    char buffer[64];
    LONGLONG offset = 0;
    IO_STATUS_BLOCK iosb;
    struct fltsim_request req;
    bench_read_request(&req, fltsim_io_file_object(w->sys, handle), buffer, sizeof(buffer));
    uint64_t start = bench_now_ns();
    for (uint64_t k = 0; k < ops; k++) {
        NTSTATUS status;
        if (entry == ENTRY_FLTMGR) {
            status = fltsim_request_dispatch(w->volume, &req);
            iosb = req.io_status;
        } else {
            status = fltsim_io_read(w->sys, handle, buffer, sizeof(buffer), &offset, 0, &iosb);
        }
        if (status != STATUS_SUCCESS || iosb.Information != sizeof(buffer)) {
            fprintf(stderr, "bench dispatch: read %llu: 0x%08x, %lu bytes\n",
                    (unsigned long long)k, (unsigned)status, (unsigned long)iosb.Information);
            *ok = false;
            break;
        }
    }
    return (double)(bench_now_ns() - start) / (double)ops;
}

/* One measurement of ns/op with n filters under executor; < 0 on failure. */
static double measure_fltsim(enum fltsim_executor_kind executor, enum entry entry, int n,
                             uint64_t ops)
{
    struct bench_world w;
    if (!bench_world_create(&w, executor, passthrough_ops, n))
        return -1;
    HANDLE handle = bench_world_open(&w, false);
    bool ok = handle != NULL;
    double ns = 0;
    if (ok) {
        /* warm up: caches, lazily built stacks */
        dispatch_ns(&w, handle, entry, ops / 10 + 1, &ok);
        ns = dispatch_ns(&w, handle, entry, ops, &ok);
    }
    ok &= bench_world_destroy(&w, handle);
    return ok ? ns : -1;
}

int bench_dispatch(const struct bench_opts *opts)
{
    static const int filter_counts[] = {0, 1, 3, 8};
    uint64_t ops = bench_count(opts, 200000, 200);
    for (size_t f = 0; f < sizeof(filter_counts) / sizeof(filter_counts[0]); f++) {
        int n = filter_counts[f];
        double sim[1000], io[1000], bare[1000];
        for (int r = 0; r < opts->runs; r++) {
            sim[r] = measure_fltsim(FLTSIM_EXECUTOR_CONCURRENT, ENTRY_FLTMGR, n, ops);
            io[r] = measure_fltsim(FLTSIM_EXECUTOR_CONCURRENT, ENTRY_IO_MANAGER, n, ops);
            if (sim[r] < 0 || io[r] < 0) {
                fprintf(stderr, "bench dispatch: %d filters: the run failed\n", n);
                return 1;
            }
            bare_chain_ns(n, ops); /* warm up */
            bare[r] = bare_chain_ns(n, ops * 10);
            if (opts->verbose)
                fprintf(stderr,
                        "dispatch %d filters run %d: %.1f ns/op (%.1f through the I/O "
                        "manager), bare %.2f ns/op\n",
                        n, r, sim[r], io[r], bare[r]);
        }
        char name[32], io_name[32], base[32];
        snprintf(name, sizeof(name), "dispatch_%d", n);
        snprintf(io_name, sizeof(io_name), "io_read_%d", n);
        snprintf(base, sizeof(base), "bare_chain_%d", n);
        double bare_median = bench_median(bare, opts->runs);
        bench_report(opts, name, "ns/op", bench_median(sim, opts->runs), base, bare_median,
                     n == 3 ? BENCH_LE : BENCH_NONE, 5);
        bench_report(opts, io_name, "ns/op", bench_median(io, opts->runs), base, bare_median,
                     BENCH_NONE, 0);
    }
    return 0;
}

/* ---- scaling ---- */

struct requestor {
    struct bench_world *w;
    uint64_t ops;
    const LONG *go;
    LONG *ready;
    bool ok;
};

static void requestor_main(void *arg)
{
    struct requestor *r = arg;
    HANDLE handle = bench_world_open(r->w, false);
    r->ok = handle != NULL;
    __atomic_add_fetch(r->ready, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(r->go, __ATOMIC_SEQ_CST))
        ; /* every requestor starts together */
    if (r->ok)
        dispatch_ns(r->w, handle, ENTRY_IO_MANAGER, r->ops, &r->ok);
    if (handle != NULL)
        fltsim_io_close(r->w->sys, handle);
}

/* Operations per second of `threads` requestors, each issuing ops reads
 * through 3 filters on its own handle; < 0 on failure. */
static double measure_threads(int threads, uint64_t ops)
{
    struct bench_world w;
    if (!bench_world_create(&w, FLTSIM_EXECUTOR_CONCURRENT, passthrough_ops, 3))
        return -1;
    struct requestor req[2];
    fltsim_thread *t[2] = {NULL, NULL};
    LONG go = 0, ready = 0;
    bool ok = true;
    for (int i = 0; i < threads; i++) {
        req[i] = (struct requestor){&w, ops, &go, &ready, false};
        if (!NT_SUCCESS(fltsim_thread_spawn(w.sys, 4242, 100 + (ULONG)i, requestor_main, &req[i],
                                            &t[i]))) {
            fprintf(stderr, "bench scaling: cannot spawn a requestor\n");
            ok = false;
            threads = i;
            break;
        }
    }
    while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < threads)
        ;
    uint64_t start = bench_now_ns();
    __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < threads; i++) {
        fltsim_thread_join(t[i]);
        ok &= req[i].ok;
    }
    double seconds = (double)(bench_now_ns() - start) / 1e9;
    ok &= bench_world_destroy(&w, NULL);
    return ok ? (double)ops * threads / seconds : -1;
}

int bench_scaling(const struct bench_opts *opts)
{
    uint64_t ops = bench_count(opts, 200000, 200);
    double one[1000], two[1000], det[1000], conc[1000];
    for (int r = 0; r < opts->runs; r++) {
        one[r] = measure_threads(1, ops);
        two[r] = measure_threads(2, ops);
        conc[r] = measure_fltsim(FLTSIM_EXECUTOR_CONCURRENT, ENTRY_IO_MANAGER, 3, ops);
        det[r] = measure_fltsim(FLTSIM_EXECUTOR_DETERMINISTIC, ENTRY_IO_MANAGER, 3, ops);
        if (one[r] < 0 || two[r] < 0 || conc[r] < 0 || det[r] < 0) {
            fprintf(stderr, "bench scaling: a run failed\n");
            return 1;
        }
        if (opts->verbose)
            fprintf(stderr,
                    "scaling run %d: 1 thread %.0f ops/s, 2 threads %.0f ops/s; "
                    "concurrent %.1f ns/op, deterministic %.1f ns/op\n",
                    r, one[r], two[r], conc[r], det[r]);
    }
    bench_report(opts, "threads_2", "ops/s", bench_median(two, opts->runs), "threads_1",
                 bench_median(one, opts->runs), BENCH_GE, 1.7);
    bench_report(opts, "deterministic_3", "ns/op", bench_median(det, opts->runs), "concurrent_3",
                 bench_median(conc, opts->runs), BENCH_NONE, 0);
    return 0;
}
