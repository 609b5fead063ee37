/*
 * Replaying a Process Monitor capture through minifilters (issue 6).
 *
 * Two passes, the capture read once. The first streams it and infers the
 * starting namespace the capture implies: a path that a create opened, that
 * a query answered, or that a directory listing named existed; a path a
 * create reported as created, or NAME NOT FOUND, did not; directories from
 * path prefixes, directory options and directory queries; a file's size
 * from the reads that succeeded and the END OF FILE they hit. It also keeps
 * the rows to replay in memory, compactly (about 70 bytes a row, each
 * distinct path once; consecutive skipped rows as one reason and a count).
 * The second pass issues every replayable file-system row, in recorded
 * order, through the loaded filters onto memfs (or hostfs) volumes mapped
 * from the drive letters, as the recorded process and thread (each recorded
 * thread is a requestor identity), following handles from CreateFile to
 * CloseFile; a row on a file the capture never opened gets an implied open
 * first (kernel mode, not counted). It compares each status returned to the
 * requestor with the recorded Result.
 *
 * fltsim import writes the calls of the second pass as a scenario file
 * (volumes with the inferred namespace, one thread per recorded thread, the
 * steps with the statuses the replay saw) that `fltsim run` replays
 * identically.
 */
#ifndef FLTSIM_REPLAY_H
#define FLTSIM_REPLAY_H

#include <stdio.h>

#include <fltsim/capture.h>
#include <fltsim/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A drive letter mapped onto hostfs instead of memfs. */
struct fltsim_replay_volume {
    char drive;            /* 'C' */
    const char *host_root; /* an existing host directory */
    bool read_only;
};

/* A filter to load: a catalog name or a shared object exporting DriverEntry. */
struct fltsim_replay_filter {
    const char *builtin;  /* catalog name, or NULL */
    const char *object;   /* path of a .so, or NULL */
    const char *name;     /* service name; NULL: the catalog's, or the object's file name */
    const char *altitude; /* NULL: the catalog's suggestion (required for an object) */
};

struct fltsim_replay_options {
    const struct fltsim_replay_volume *volumes;
    size_t volume_count;
    const struct fltsim_replay_filter *filters;
    size_t filter_count;
    enum fltsim_executor_kind executor;
    ULONG64 seed;
    enum fltsim_capture_format format; /* AUTO by default */
    struct fltsim_trace_tee *trace;    /* every callback of the replay, or NULL */
    FILE *progress;                    /* a progress bar is drawn there, or NULL */
    FILE *import;        /* when set: the scenario is written there (fltsim import) */
    const char *import_name; /* the capture's name for the scenario's title */
    size_t max_examples; /* examples kept per divergence group (0: 3) */
    uint64_t max_file_size; /* largest file the namespace creates (0: 64 MiB) */
};

/* Counts by name (skip reasons, operations). */
struct fltsim_replay_count {
    char *name;
    uint64_t count;
    uint64_t matched; /* operations: rows whose status matched */
};

struct fltsim_replay_example {
    uint64_t index; /* the row's 0-based index in the capture */
    uint64_t line;  /* CSV/XML line, 0 for PML */
    char *path;
};

/* Rows of one operation whose simulated status differed the same way. */
struct fltsim_replay_divergence {
    char *operation;
    NTSTATUS recorded;
    NTSTATUS simulated;
    uint64_t count;
    size_t example_count;
    struct fltsim_replay_example *examples;
};

struct fltsim_replay_report {
    uint64_t rows;            /* events read (every class) */
    uint64_t fs_rows;         /* file-system events */
    uint64_t replayed;        /* file-system rows issued */
    uint64_t matched;         /* of those, simulated status == recorded Result */
    uint64_t skipped;         /* rows not replayed (all classes), by reason below */
    uint64_t implied_opens;   /* opens issued for files the capture never opened */
    uint64_t namespace_files; /* files and directories the first pass created */
    uint64_t namespace_dirs;
    struct fltsim_replay_count *skips; /* by reason, most frequent first */
    size_t skip_count;
    struct fltsim_replay_count *operations; /* replayed rows by operation name */
    size_t operation_count;
    struct fltsim_replay_divergence *divergences; /* most frequent first */
    size_t divergence_count;
    ULONG reports; /* verifier reports during the replay */
};

/* Replays the capture at path. Returns STATUS_SUCCESS when the replay ran to
 * the end (divergences are results, not errors); otherwise a failure with a
 * one-line message in error ("PATH: row 12 (line 14): problem", a filter
 * that would not load, ...); the report then holds what was counted so far.
 * fltsim_replay_report_free frees the report in either case. */
NTSTATUS fltsim_replay_run(const char *path, const struct fltsim_replay_options *options,
                           struct fltsim_replay_report *report, char *error, size_t error_size);
void fltsim_replay_report_free(struct fltsim_replay_report *report);

/* Writes the report for people: totals, fidelity, per-operation counts, skip
 * reasons, divergences with their first examples. */
void fltsim_replay_report_print(const struct fltsim_replay_report *report, const char *path,
                                FILE *out);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_REPLAY_H */
