/*
 * Section "fltio" (issue 18): a read a filter issues itself, FltReadFile of
 * 4 KiB from the top instance of three pass-through filters (so it starts
 * below that instance: two filters and the file system see it), as a ratio
 * to an application's read of the same 4 KiB through the I/O API
 * (fltsim_io_read: the I/O manager, all three filters, the file system), on
 * the same file object in the same run.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "bench_world.h"

#define FLTIO_FILTERS 3
#define FLTIO_LENGTH 4096

static const FLT_OPERATION_REGISTRATION ops[] = {
    {IRP_MJ_READ, 0, bench_passthrough_pre, bench_passthrough_post}, {IRP_MJ_OPERATION_END}};

static unsigned char buffer[FLTIO_LENGTH];

/* ns per synchronous FltReadFile of 4 KiB below inst; < 0 on failure. */
static double flt_read_ns(PFLT_INSTANCE inst, PFILE_OBJECT fo, uint64_t n)
{
    uint64_t start = bench_now_ns();
    for (uint64_t k = 0; k < n; k++) {
        LARGE_INTEGER offset;
        offset.QuadPart = 0;
        ULONG read = 0;
        NTSTATUS status =
            FltReadFile(inst, fo, &offset, FLTIO_LENGTH, buffer,
                        FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET, &read, NULL, NULL);
        if (status != STATUS_SUCCESS || read != FLTIO_LENGTH) {
            fprintf(stderr, "bench fltio: FltReadFile %llu: 0x%08x, %lu bytes: %s\n",
                    (unsigned long long)k, (unsigned)status, (unsigned long)read,
                    fltsim_last_error());
            return -1;
        }
    }
    return (double)(bench_now_ns() - start) / (double)n;
}

/* ns per synchronous application read of 4 KiB through the I/O API; < 0 on
 * failure. */
static double app_read_ns(fltsim_system *sys, HANDLE handle, uint64_t n)
{
    uint64_t start = bench_now_ns();
    for (uint64_t k = 0; k < n; k++) {
        LONGLONG offset = 0;
        IO_STATUS_BLOCK iosb;
        NTSTATUS status = fltsim_io_read(sys, handle, buffer, FLTIO_LENGTH, &offset, 0, &iosb);
        if (status != STATUS_SUCCESS || iosb.Information != FLTIO_LENGTH) {
            fprintf(stderr, "bench fltio: read %llu: 0x%08x: %s\n", (unsigned long long)k,
                    (unsigned)status, fltsim_last_error());
            return -1;
        }
    }
    return (double)(bench_now_ns() - start) / (double)n;
}

/* One run: the two figures, or false on failure (printed). */
static bool measure(uint64_t n, double *flt, double *app)
{
    struct bench_world w;
    if (!bench_world_create(&w, FLTSIM_EXECUTOR_CONCURRENT, ops, FLTIO_FILTERS))
        return false;
    HANDLE handle = bench_world_open(&w, false);
    PFILE_OBJECT fo = handle != NULL ? fltsim_io_file_object(w.sys, handle) : NULL;
    PFLT_INSTANCE inst = NULL;
    bool ok = fo != NULL && NT_SUCCESS(FltGetTopInstance(w.volume, &inst));
    if (ok) {
        flt_read_ns(inst, fo, n / 10 + 1); /* warm up */
        app_read_ns(w.sys, handle, n / 10 + 1);
        *flt = flt_read_ns(inst, fo, n);
        *app = app_read_ns(w.sys, handle, n);
        ok = *flt >= 0 && *app >= 0;
    }
    if (inst != NULL)
        FltObjectDereference(inst);
    if (!ok)
        fprintf(stderr, "bench fltio: the run failed: %s\n", fltsim_last_error());
    return bench_world_destroy(&w, handle) && ok;
}

int bench_fltio(const struct bench_opts *opts)
{
    uint64_t n = bench_count(opts, 200000, 200);
    double flt[1000], app[1000];
    for (int r = 0; r < opts->runs; r++) {
        if (!measure(n, &flt[r], &app[r]))
            return 1;
        if (opts->verbose)
            fprintf(stderr, "fltio run %d: FltReadFile %.1f ns, application read %.1f ns\n", r,
                    flt[r], app[r]);
    }
    bench_report(opts, "flt_read_4k", "ns/op", bench_median(flt, opts->runs), "app_read_4k",
                 bench_median(app, opts->runs), BENCH_NONE, 0);
    return 0;
}
