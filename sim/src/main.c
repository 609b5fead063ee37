/*
 * The fltsim program. With no arguments (or "demo") it runs the built-in demo:
 * example minifilters over memfs volumes, a few operations (one of them
 * pended in a post and finished by a work item), and the trace of every
 * callback in the order FltMgr calls them. The scenario runner and the
 * other subcommands arrive with the scenario files (README "Roadmap").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <example_filters.h>
#include <fltsim/io.h>
#include <fltsim/memfs.h>
#include <fltsim/trace.h>

static void usage(FILE *out)
{
    fputs("usage: fltsim [demo] [--threads] [--concurrent] [--seed N] [--trace FORMAT]\n"
          "\n"
          "  demo          run the built-in demo (the default): PassThrough at altitude\n"
          "                370030, AccessBlocker at 85000 and ReadQuota at 260000 over\n"
          "                memfs volumes, printing every callback as FltMgr calls it\n"
          "  --threads     show the thread and IRQL on every line (the text trace shows\n"
          "                them where they change)\n"
          "  --concurrent  run work items and completions on real threads (libuv)\n"
          "                instead of the deterministic executor\n"
          "  --seed N      seed of the deterministic executor (default 1)\n"
          "  --trace FORMAT  text (the default), jsonl, mermaid or normalized; other\n"
          "                formats than text send the filters' DbgPrint output to\n"
          "                standard error\n"
          "  -h, --help    show this help\n",
          out);
}

static void print_debug(void *ctx, const char *text)
{
    FILE *out = ctx;
    fprintf(out, "      | %s", text);
    size_t n = strlen(text);
    if (n == 0 || text[n - 1] != '\n')
        fputc('\n', out);
}

/* The demo's trace sink: steps are notes in it. */
static struct fltsim_trace_sink *demo_sink;

static void step(const char *what)
{
    fltsim_trace_sink_note(demo_sink, what);
}

static int check(NTSTATUS status, const char *what)
{
    if (NT_SUCCESS(status))
        return 0;
    char st[64];
    fprintf(stderr, "fltsim: %s failed: %s%s%s\n", what,
            fltsim_ntstatus_format(status, st, sizeof(st)), fltsim_last_error()[0] ? ": " : "",
            fltsim_last_error());
    return 1;
}

struct demo_options {
    bool show_threads;
    enum fltsim_trace_format format;
    bool concurrent;
    ULONG64 seed;
};

/* The second part: a post that pends. */
static int demo_pending_post(fltsim_system *sys, fltsim_driver **quota)
{
    static const char data[] = "forty bytes of data on a slower volume.\n";
    int failed = 0;
    struct fltsim_memfs *fs = NULL;
    PFLT_VOLUME volume = NULL;

    step("Mount D:, whose file system completes asynchronously: posts now run on the\n"
         "completion thread at DISPATCH_LEVEL. Load ReadQuota (260000), which allows 64\n"
         "bytes of reads per file object; its accounting needs PASSIVE_LEVEL, so its\n"
         "post-read pends the read and finishes it from a deferred I/O work item.");
    if (check(fltsim_memfs_create(NULL, &fs), "fltsim_memfs_create"))
        return 1;
    failed |=
        check(fltsim_memfs_add_file(fs, L"\\data.txt", data, sizeof(data) - 1), "add \\data.txt");
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume2",
                                      .drive_letter = L'D',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = FLT_FSTYPE_NTFS,
                                      .completion = FLTSIM_COMPLETE_ASYNC};
    if (failed || check(fltsim_volume_mount(sys, &vp, &volume), "mount D:")) {
        fltsim_memfs_destroy(fs);
        return 1;
    }
    static const struct fltsim_instance_def rq_instances[] = {
        {L"ReadQuota Instance", L"260000", 0}};
    static const struct fltsim_filter_def rq_def = {L"ReadQuota", L"ReadQuota Instance",
                                                    rq_instances, 1};
    if (check(fltsim_driver_load(sys, &rq_def, ReadQuotaDriverEntry, quota), "load ReadQuota"))
        return 1;

    step("Open D:\\data.txt (the filters attach to D: on its first create) and read it\n"
         "twice: 40 bytes, then 80 in all, over the quota. The work routine fails the\n"
         "second read; PassThrough's post, resumed after it, sees the failure.");
    HANDLE h = NULL;
    failed |= check(fltsim_io_open(sys, L"D:\\data.txt", GENERIC_READ, &h), "open D:");
    char buf[64];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    failed |= check(fltsim_io_read(sys, h, buf, sizeof(buf), &zero, 0, &iosb), "read D:");
    if (fltsim_io_read(sys, h, buf, sizeof(buf), &zero, 0, &iosb) != STATUS_QUOTA_EXCEEDED) {
        fprintf(stderr, "fltsim: expected STATUS_QUOTA_EXCEEDED for the second read\n");
        failed = 1;
    }
    failed |= check(fltsim_io_close(sys, h), "close D:");
    return failed;
}

static int run_demo(const struct demo_options *options)
{
    static const char readme[] = "Hello from memfs, below two minifilters.\n";
    fltsim_system *sys = NULL;
    struct fltsim_memfs *fs = NULL;
    PFLT_VOLUME volume = NULL;
    fltsim_driver *passthrough = NULL, *blocker = NULL, *quota = NULL;
    int failed = 0;

    /* DbgPrint lines go between the text trace's lines, where they were
     * printed; they would break the other formats. */
    bool text = options->format == FLTSIM_TRACE_TEXT;
    fltsim_debug_set_sink(print_debug, text ? stdout : stderr);
    if (check(fltsim_trace_sink_create(options->format, stdout,
                                       options->show_threads ? FLTSIM_TRACE_SHOW_THREADS : 0,
                                       &demo_sink),
              "fltsim_trace_sink_create"))
        return 1;

    struct fltsim_system_options sys_options = {.executor = options->concurrent
                                                                ? FLTSIM_EXECUTOR_CONCURRENT
                                                                : FLTSIM_EXECUTOR_DETERMINISTIC,
                                                .seed = options->seed};
    if (check(fltsim_system_create(&sys_options, &sys), "fltsim_system_create")) {
        fltsim_trace_sink_destroy(demo_sink);
        return 1;
    }
    fltsim_system_set_trace(sys, fltsim_trace_sink_event, demo_sink);
    if (check(fltsim_memfs_create(NULL, &fs), "fltsim_memfs_create"))
        goto out;
    failed |= check(fltsim_memfs_add_file(fs, L"\\readme.txt", readme, sizeof(readme) - 1),
                    "add \\readme.txt");
    failed |= check(fltsim_memfs_add_file(fs, L"\\docs\\secret-plan.txt", "x", 1),
                    "add \\docs\\secret-plan.txt");
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                      .drive_letter = L'C',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = FLT_FSTYPE_NTFS};
    if (failed || check(fltsim_volume_mount(sys, &vp, &volume), "mount C:")) {
        fltsim_memfs_destroy(fs);
        failed = 1;
        goto out;
    }

    step("Load PassThrough (370030, Activity Monitor) and AccessBlocker (85000, Security "
         "Enhancer).\nC: is already mounted, so each filter is offered it inside "
         "FltStartFiltering.");
    static const struct fltsim_instance_def pt_instances[] = {
        {L"PassThrough Instance", L"370030", 0}};
    static const struct fltsim_filter_def pt_def = {L"PassThrough", L"PassThrough Instance",
                                                    pt_instances, 1};
    static const struct fltsim_instance_def ab_instances[] = {
        {L"AccessBlocker Instance", L"85000", 0}};
    static const struct fltsim_filter_def ab_def = {L"AccessBlocker", L"AccessBlocker Instance",
                                                    ab_instances, 1};
    if (check(fltsim_driver_load(sys, &pt_def, PassThroughDriverEntry, &passthrough),
              "load PassThrough") ||
        check(fltsim_driver_load(sys, &ab_def, AccessBlockerDriverEntry, &blocker),
              "load AccessBlocker")) {
        failed = 1;
        goto out;
    }

    step("Open C:\\readme.txt for reading. AccessBlocker lets it through without asking "
         "for a post.");
    HANDLE h = NULL;
    failed |= check(fltsim_io_open(sys, L"C:\\readme.txt", GENERIC_READ, &h), "open");

    step("Read it (an IRP), then again through fast I/O.");
    char buf[128];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    failed |= check(fltsim_io_read(sys, h, buf, sizeof(buf), &zero, 0, &iosb), "read");
    failed |= check(fltsim_io_read(sys, h, buf, 5, &zero, FLTSIM_IO_FAST, &iosb), "fast read");

    step("Query its basic information.");
    FILE_BASIC_INFORMATION basic;
    failed |= check(
        fltsim_io_query_information(sys, h, &basic, sizeof(basic), FileBasicInformation, 0, &iosb),
        "query");

    step("Open C:\\docs\\secret-plan.txt: AccessBlocker completes the create with "
         "STATUS_ACCESS_DENIED. The file system never sees it; PassThrough's post does.");
    HANDLE denied = NULL;
    NTSTATUS st = fltsim_io_open(sys, L"C:\\docs\\secret-plan.txt", GENERIC_READ, &denied);
    if (st != STATUS_ACCESS_DENIED) {
        fprintf(stderr, "fltsim: expected STATUS_ACCESS_DENIED for the secret file\n");
        failed = 1;
    }

    step("Close the handle: IRP_MJ_CLEANUP, then IRP_MJ_CLOSE.");
    failed |= check(fltsim_io_close(sys, h), "close");

    failed |= demo_pending_post(sys, &quota);

    step("Unload the filters: each instance is torn down.");
    if (quota != NULL)
        failed |= check(fltsim_driver_unload(quota, 0), "unload ReadQuota");
    failed |= check(fltsim_driver_unload(blocker, 0), "unload AccessBlocker");
    failed |= check(fltsim_driver_unload(passthrough, 0), "unload PassThrough");

    ULONG reports = fltsim_system_report_count(sys);
    fprintf(text ? stdout : stderr, "\nverifier reports: %u\n", (unsigned)reports);
    failed |= reports != 0;

out:
    fltsim_system_destroy(sys);
    fltsim_debug_set_sink(NULL, NULL);
    failed |= check(fltsim_trace_sink_finish(demo_sink), "writing the trace");
    fltsim_trace_sink_destroy(demo_sink);
    demo_sink = NULL;
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct demo_options options = {.seed = 1, .format = FLTSIM_TRACE_TEXT};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--threads") == 0) {
            options.show_threads = true;
        } else if (strcmp(argv[i], "--concurrent") == 0) {
            options.concurrent = true;
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            char *end;
            options.seed = strtoull(argv[++i], &end, 0);
            if (*end != '\0') {
                fprintf(stderr, "fltsim: --seed needs a number, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) {
            if (!fltsim_trace_format_parse(argv[++i], &options.format)) {
                fprintf(stderr,
                        "fltsim: --trace: unknown format '%s' (text, jsonl, mermaid, "
                        "normalized)\n",
                        argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "demo") != 0) {
            fprintf(stderr, "fltsim: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    return run_demo(&options);
}
