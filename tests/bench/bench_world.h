/*
 * The world the dispatch, pend and scaling benchmarks run in (private to
 * tests/bench/): a system, one volume B: over a file system that answers
 * every request at once without touching memory (so the figures are
 * fltsim's own cost), and N minifilter drivers loaded from one registration
 * at distinct altitudes.
 */
#ifndef FLTSIM_BENCH_WORLD_H
#define FLTSIM_BENCH_WORLD_H

#include <fltKernel.h>
#include <fltsim/io.h>
#include <fltsim/model.h>

#define BENCH_MAX_FILTERS 8

struct bench_world {
    fltsim_system *sys;
    PFLT_VOLUME volume;
    PFLT_FILTER filters[BENCH_MAX_FILTERS];
    int filter_count;
};

/* The context registration of the filters bench_world_create loads next
 * (NULL: none). */
extern const FLT_CONTEXT_REGISTRATION *bench_world_contexts;

/* The file system's request handler: STATUS_SUCCESS for everything, creates
 * FILE_OPENED (FsContext: its one stream), reads and writes their whole length (the buffer
 * untouched). */
NTSTATUS bench_nullfs_irp(void *fs, PFLT_CALLBACK_DATA data);

/* Creates the world with filter_count (0..8) drivers registering ops (an
 * array ending in IRP_MJ_OPERATION_END). Prints the problem on stderr and
 * returns false on failure (nothing left allocated). */
bool bench_world_create(struct bench_world *w, enum fltsim_executor_kind executor,
                        const FLT_OPERATION_REGISTRATION *ops, int filter_count);

/* Opens B:\file for reading, synchronous (overlapped = false) or not. NULL on
 * failure, after printing it. */
HANDLE bench_world_open(struct bench_world *w, bool overlapped);

/* The IRP fltsim_io_read builds for a synchronous read of length bytes into
 * buffer on fo, as the I/O manager hands it to FltMgr. */
void bench_read_request(struct fltsim_request *req, PFILE_OBJECT fo, void *buffer, ULONG length);

/* Nanoseconds per synchronous 64-byte read of fo dispatched n times to w's
 * volume (fltsim_request_dispatch, as dispatch_N); < 0 after printing why
 * (what names the section) when one fails. */
double bench_read_ns(struct bench_world *w, PFILE_OBJECT fo, uint64_t n, const char *what);

/* Closes the handle (if any), checks the verifier saw nothing, destroys the
 * system. Returns false when the verifier reported something. */
bool bench_world_destroy(struct bench_world *w, HANDLE handle);

/* The pass-through callbacks the dispatch benchmark registers and its bare
 * chain calls through function pointers. */
FLT_PREOP_CALLBACK_STATUS bench_passthrough_pre(PFLT_CALLBACK_DATA data,
                                                PCFLT_RELATED_OBJECTS objects, PVOID *context);
FLT_POSTOP_CALLBACK_STATUS bench_passthrough_post(PFLT_CALLBACK_DATA data,
                                                  PCFLT_RELATED_OBJECTS objects, PVOID context,
                                                  FLT_POST_OPERATION_FLAGS flags);

#endif /* FLTSIM_BENCH_WORLD_H */
