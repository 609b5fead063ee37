/*
 * The replay section of fltsim-bench (issue 7): fltsim_replay_run on a real
 * Process Monitor capture against the capture reader alone on the same file,
 * once for the CSV export and once for the PML log of the same capture.
 * Both rates count every event of the capture (all classes), so the ratio is
 * what the replay (namespace inference, the calls through the filter stack,
 * the comparison) costs on top of parsing. The captures themselves belong to
 * ../shared/traces; this file only picks a pair and times it.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <fltsim/capture.h>
#include <fltsim/replay.h>

#include "bench.h"

/* A capture pair: STEM.csv[.gz] and STEM.pml[.gz] in the traces folder. */
struct pair {
    char csv[4096];
    char pml[4096];
    long long csv_size; /* bytes of the .csv(.gz) file: how the pair is chosen */
};

static bool file_size(const char *path, long long *size)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    *size = (long long)st.st_size;
    return true;
}

/* The .pml log beside a .csv export (compressed or not), written to out. */
static bool pml_beside(const char *dir, const char *stem, char *out, size_t size)
{
    static const char *const suffixes[] = {".pml.gz", ".pml"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        long long ignored;
        int n = snprintf(out, size, "%s/%s%s", dir, stem, suffixes[i]);
        if (n > 0 && (size_t)n < size && file_size(out, &ignored))
            return true;
    }
    return false;
}

/* The largest pair (by the CSV file), or the smallest when want_smallest:
 * the smoke run only checks that the section runs. False when the folder
 * holds no complete pair. */
static bool find_pair(const char *dir, bool want_smallest, struct pair *best)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    bool found = false;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        size_t len = strlen(name);
        size_t stem_len;
        if (len > 7 && strcmp(name + len - 7, ".csv.gz") == 0)
            stem_len = len - 7;
        else if (len > 4 && strcmp(name + len - 4, ".csv") == 0)
            stem_len = len - 4;
        else
            continue;
        struct pair p;
        char stem[1024];
        int n = snprintf(p.csv, sizeof(p.csv), "%s/%s", dir, name);
        if (n < 0 || (size_t)n >= sizeof(p.csv) || stem_len >= sizeof(stem) ||
            !file_size(p.csv, &p.csv_size))
            continue;
        memcpy(stem, name, stem_len);
        stem[stem_len] = '\0';
        if (!pml_beside(dir, stem, p.pml, sizeof(p.pml)))
            continue;
        /* Ties by name so the choice does not depend on readdir's order. */
        bool better = !found ||
                      (want_smallest ? p.csv_size < best->csv_size : p.csv_size > best->csv_size) ||
                      (p.csv_size == best->csv_size && strcmp(p.csv, best->csv) < 0);
        if (better) {
            *best = p;
            found = true;
        }
    }
    closedir(d);
    return found;
}

/* Events per second of the reader alone over the whole capture; 0 after
 * printing why on stderr. */
static double reader_rate(const char *path)
{
    char error[1024];
    uint64_t start = bench_now_ns();
    struct fltsim_capture *cap =
        fltsim_capture_open(path, FLTSIM_CAPTURE_AUTO, error, sizeof(error));
    if (cap == NULL) {
        fprintf(stderr, "fltsim-bench: replay: reader: %s\n", error);
        return 0;
    }
    const struct fltsim_capture_event *ev;
    uint64_t events = 0;
    int r;
    while ((r = fltsim_capture_next(cap, &ev)) == 1)
        events++;
    if (r < 0)
        fprintf(stderr, "fltsim-bench: replay: reader: %s\n", fltsim_capture_error(cap));
    fltsim_capture_close(cap);
    uint64_t elapsed = bench_now_ns() - start;
    if (r < 0 || events == 0 || elapsed == 0) {
        if (r == 0)
            fprintf(stderr, "fltsim-bench: replay: reader: %s: no events\n", path);
        return 0;
    }
    return (double)events * 1e9 / (double)elapsed;
}

/* Rows per second of fltsim_replay_run with no filters on the concurrent
 * executor; 0 after printing why on stderr. */
static double replay_rate(const char *path)
{
    struct fltsim_replay_options options = {.executor = FLTSIM_EXECUTOR_CONCURRENT};
    struct fltsim_replay_report report;
    char error[1024] = "";
    uint64_t start = bench_now_ns();
    NTSTATUS status = fltsim_replay_run(path, &options, &report, error, sizeof(error));
    uint64_t elapsed = bench_now_ns() - start;
    uint64_t rows = report.rows;
    fltsim_replay_report_free(&report);
    if (!NT_SUCCESS(status)) {
        /* Capture errors start with the path already; others (a system
         * that cannot be created) do not. */
        if (strncmp(error, path, strlen(path)) == 0)
            fprintf(stderr, "fltsim-bench: replay: %s\n", error);
        else
            fprintf(stderr, "fltsim-bench: replay: %s: %s\n", path, error);
        return 0;
    }
    if (rows == 0 || elapsed == 0) {
        fprintf(stderr, "fltsim-bench: replay: %s: no rows replayed\n", path);
        return 0;
    }
    return (double)rows * 1e9 / (double)elapsed;
}

/* The median reader and replay rates of one file; reported as NAME_FORMAT. */
static int measure(const struct bench_opts *opts, const char *format, const char *path)
{
    int status = 1;
    double *reader = calloc((size_t)opts->runs, sizeof(*reader));
    double *replay = calloc((size_t)opts->runs, sizeof(*replay));
    if (reader == NULL || replay == NULL) {
        fprintf(stderr, "fltsim-bench: replay: out of memory\n");
        goto out;
    }
    for (int i = 0; i < opts->runs; i++) {
        reader[i] = reader_rate(path);
        if (reader[i] == 0)
            goto out;
        replay[i] = replay_rate(path);
        if (replay[i] == 0)
            goto out;
        if (opts->verbose)
            fprintf(stderr, "replay_%s run %d: %s reader %.0f events/s, replay %.0f events/s\n",
                    format, i + 1, path, reader[i], replay[i]);
    }
    char name[32], baseline[32];
    snprintf(name, sizeof(name), "replay_%s", format);
    snprintf(baseline, sizeof(baseline), "reader_%s", format);
    bench_report(opts, name, "events/s", bench_median(replay, opts->runs), baseline,
                 bench_median(reader, opts->runs), BENCH_GE, 0.5);
    status = 0;
out:
    free(reader);
    free(replay);
    return status;
}

int bench_replay(const struct bench_opts *opts)
{
    struct pair p;
    if (!find_pair(opts->traces_dir, opts->scale < 1, &p)) {
        /* Not an error: the captures are a separate download. */
        printf("bench name=replay_csv skipped=no-captures-in-%s\n", opts->traces_dir);
        printf("bench name=replay_pml skipped=no-captures-in-%s\n", opts->traces_dir);
        fflush(stdout);
        return 0;
    }
    if (opts->verbose)
        fprintf(stderr, "replay: %s and %s\n", p.csv, p.pml);
    if (measure(opts, "csv", p.csv) != 0)
        return 1;
    return measure(opts, "pml", p.pml);
}
