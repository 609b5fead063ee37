/*
 * Section "names" (issue 17): FltGetFileNameInformation of a normalized name
 * found in the name cache (through FltGetFileNameInformationUnsafe, with its
 * FltReleaseFileNameInformation), against one read dispatched through one
 * pass-through filter onto the null file system; a cached name query should
 * cost no more than that dispatch. The names come from a memfs volume
 * mounted beside the null one.
 */
#include <stdio.h>
#include <string.h>

#include <fltsim/memfs.h>

#include "bench.h"
#include "bench_world.h"

static const FLT_OPERATION_REGISTRATION names_ops[] = {
    {IRP_MJ_READ, 0, bench_passthrough_pre, bench_passthrough_post}, {IRP_MJ_OPERATION_END}};

/* ns per cached normalized name query and release; < 0 on failure. */
static double name_ns(PFILE_OBJECT fo, PFLT_INSTANCE inst, uint64_t ops)
{
    const FLT_FILE_NAME_OPTIONS options = FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_DEFAULT;
    uint64_t start = bench_now_ns();
    for (uint64_t k = 0; k < ops; k++) {
        PFLT_FILE_NAME_INFORMATION info;
        NTSTATUS status = FltGetFileNameInformationUnsafe(fo, inst, options, &info);
        if (status != STATUS_SUCCESS) {
            fprintf(stderr, "bench names: query %llu: 0x%08x %s\n", (unsigned long long)k,
                    (unsigned)status, fltsim_last_error());
            return -1;
        }
        FltReleaseFileNameInformation(info);
    }
    return (double)(bench_now_ns() - start) / (double)ops;
}

/* One run: both figures, or false. */
static bool measure(uint64_t ops, double *read, double *name)
{
    struct bench_world w;
    if (!bench_world_create(&w, FLTSIM_EXECUTOR_CONCURRENT, names_ops, 1))
        return false;
    struct fltsim_memfs *fs = NULL;
    PFLT_VOLUME memvol = NULL;
    PFLT_INSTANCE inst = NULL;
    HANDLE null_handle = bench_world_open(&w, false), mem_handle = NULL;
    bool ok = null_handle != NULL && NT_SUCCESS(fltsim_memfs_create(NULL, &fs)) &&
              NT_SUCCESS(fltsim_memfs_add_file(fs, L"\\dir\\a.txt", "hello", 5));
    if (ok) {
        struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume7",
                                          .drive_letter = L'N',
                                          .ops = &fltsim_memfs_ops,
                                          .fs = fs,
                                          .fs_type = FLT_FSTYPE_NTFS};
        ok = NT_SUCCESS(fltsim_volume_mount(w.sys, &vp, &memvol)) &&
             NT_SUCCESS(fltsim_io_open(w.sys, L"N:\\dir\\a.txt", GENERIC_READ, &mem_handle)) &&
             NT_SUCCESS(FltGetTopInstance(memvol, &inst));
        if (!ok)
            fprintf(stderr, "bench names: the memfs volume: %s\n", fltsim_last_error());
    }
    if (ok) {
        PFILE_OBJECT fo = fltsim_io_file_object(w.sys, mem_handle);
        *read = bench_read_ns(&w, fltsim_io_file_object(w.sys, null_handle), ops / 10 + 1,
                              "names"); /* warm up */
        *read = bench_read_ns(&w, fltsim_io_file_object(w.sys, null_handle), ops, "names");
        *name = name_ns(fo, inst, ops / 10 + 1); /* fills the cache */
        *name = name_ns(fo, inst, ops);
        ok = *read > 0 && *name > 0;
    }
    if (inst != NULL)
        FltObjectDereference(inst);
    if (mem_handle != NULL)
        fltsim_io_close(w.sys, mem_handle);
    /* the system destroys the memfs volume's file system with it */
    ok &= bench_world_destroy(&w, null_handle);
    return ok;
}

int bench_names(const struct bench_opts *opts)
{
    uint64_t ops = bench_count(opts, 200000, 100);
    double reads[1000], names[1000]; /* main caps --runs as bench_dispatch expects */
    int runs = opts->runs < 1000 ? opts->runs : 1000;
    for (int r = 0; r < runs; r++) {
        if (!measure(ops, &reads[r], &names[r])) {
            fprintf(stderr, "bench names: run %d failed\n", r);
            return 1;
        }
        if (opts->verbose)
            fprintf(stderr, "names run %d: %.1f ns/query, %.1f ns/read through 1 filter\n", r,
                    names[r], reads[r]);
    }
    double read = bench_median(reads, runs), name = bench_median(names, runs);
    bench_report(opts, "name_cached_normalized", "ns/op", name, "dispatch_1", read, BENCH_LE, 1);
    return 0;
}
