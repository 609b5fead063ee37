/*
 * Section "context" (issue 17): FltGetStreamContext on a hit, with its
 * FltReleaseContext, through the instance of one pass-through filter, as a
 * ratio to one synchronous read dispatched through that filter
 * (fltsim_request_dispatch, as the dispatch section's dispatch_1).
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "bench_world.h"

static const FLT_OPERATION_REGISTRATION ops[] = {
    {IRP_MJ_READ, 0, bench_passthrough_pre, bench_passthrough_post}, {IRP_MJ_OPERATION_END}};

static const FLT_CONTEXT_REGISTRATION contexts[] = {
    {FLT_STREAM_CONTEXT, 0, NULL, 16, 'hcnB', NULL, NULL, NULL}, {FLT_CONTEXT_END}};

/* ns per FltGetStreamContext hit and its release; < 0 on failure. */
static double get_ns(PFLT_INSTANCE inst, PFILE_OBJECT fo, PFLT_CONTEXT expected, uint64_t n)
{
    uint64_t start = bench_now_ns();
    for (uint64_t k = 0; k < n; k++) {
        PFLT_CONTEXT c = NULL;
        if (FltGetStreamContext(inst, fo, &c) != STATUS_SUCCESS || c != expected)
            return -1;
        FltReleaseContext(c);
    }
    return (double)(bench_now_ns() - start) / (double)n;
}

/* One run: the two figures, or false on failure (printed). */
static bool measure(uint64_t n, double *get, double *read)
{
    struct bench_world w;
    bench_world_contexts = contexts;
    bool made = bench_world_create(&w, FLTSIM_EXECUTOR_CONCURRENT, ops, 1);
    bench_world_contexts = NULL;
    if (!made)
        return false;
    HANDLE handle = bench_world_open(&w, false);
    PFILE_OBJECT fo = handle != NULL ? fltsim_io_file_object(w.sys, handle) : NULL;
    PFLT_INSTANCE inst = NULL;
    PFLT_CONTEXT ctx = NULL;
    bool ok = fo != NULL && NT_SUCCESS(FltGetTopInstance(w.volume, &inst)) &&
              NT_SUCCESS(FltAllocateContext(w.filters[0], FLT_STREAM_CONTEXT, 16, PagedPool, &ctx));
    if (ok) {
        ok = NT_SUCCESS(FltSetStreamContext(inst, fo, FLT_SET_CONTEXT_KEEP_IF_EXISTS, ctx, NULL));
        FltReleaseContext(ctx); /* the set reference keeps it */
    }
    if (ok) {
        get_ns(inst, fo, ctx, n / 10 + 1); /* warm up */
        bench_read_ns(&w, fo, n / 10 + 1, "context");
        *get = get_ns(inst, fo, ctx, n);
        *read = bench_read_ns(&w, fo, n, "context");
        ok = *get >= 0 && *read >= 0;
    }
    if (inst != NULL)
        FltObjectDereference(inst);
    if (!ok)
        fprintf(stderr, "bench context: the run failed: %s\n", fltsim_last_error());
    /* the instance's detach deletes the context */
    return bench_world_destroy(&w, handle) && ok;
}

int bench_context(const struct bench_opts *opts)
{
    uint64_t n = bench_count(opts, 1000000, 200);
    double get[1000], read[1000];
    for (int r = 0; r < opts->runs; r++) {
        if (!measure(n, &get[r], &read[r]))
            return 1;
        if (opts->verbose)
            fprintf(stderr, "context run %d: get+release %.1f ns, read %.1f ns\n", r, get[r],
                    read[r]);
    }
    bench_report(opts, "stream_context_get", "ns/op", bench_median(get, opts->runs), "dispatch_1",
                 bench_median(read, opts->runs), BENCH_NONE, 0);
    return 0;
}
