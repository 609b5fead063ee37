/*
 * The built-in demo (`fltsim` with no command): example minifilters over memfs
 * volumes, a few operations (one of them pended in a post and finished by a
 * work item), and the trace of every callback in the order FltMgr calls them,
 * in any trace format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <example_filters.h>
#include <fltsim/io.h>
#include <fltsim/memfs.h>

#include "cli.h"

static void print_debug(void *ctx, const char *text)
{
    FILE *out = ctx;
    fprintf(out, "      | %s", text);
    size_t n = strlen(text);
    if (n == 0 || text[n - 1] != '\n')
        fputc('\n', out);
}

static struct fltsim_trace_sink *demo_sink;
static struct cli_trace demo_trace;

/* A step of the demo: a paragraph in the text trace, a note elsewhere. */
static void step(const char *what)
{
    if (demo_sink != NULL)
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

int cli_demo(const struct cli_options *options)
{
    static const char readme[] = "Hello from memfs, below two minifilters.\n";
    fltsim_system *sys = NULL;
    struct fltsim_memfs *fs = NULL;
    PFLT_VOLUME volume = NULL;
    fltsim_driver *passthrough = NULL, *blocker = NULL, *quota = NULL;
    int failed = 0;

    if (!cli_trace_open(options, FLTSIM_TRACE_TEXT, &demo_trace))
        return CLI_EXIT_ERROR;
    demo_sink = demo_trace.sink;
    FILE *trace_out = demo_trace.stream;
    /* The filters' DbgPrint output goes between the text trace's lines; the
     * other formats are for programs, so it goes to standard error there. */
    bool text =
        demo_sink != NULL && (!options->trace_set || options->trace_format == FLTSIM_TRACE_TEXT);
    fltsim_debug_set_sink(print_debug, text ? trace_out : stderr);

    struct fltsim_system_options sys_options = {
        .executor = options->executor_set ? options->executor : FLTSIM_EXECUTOR_DETERMINISTIC,
        .seed = options->seed_set ? options->seed : 1};
    if (check(fltsim_system_create(&sys_options, &sys), "fltsim_system_create")) {
        cli_trace_close(&demo_trace, true);
        demo_sink = NULL;
        fltsim_debug_set_sink(NULL, NULL);
        return CLI_EXIT_ERROR;
    }
    if (demo_sink != NULL)
        fltsim_system_set_trace(sys, fltsim_trace_sink_event, demo_sink);
    for (size_t i = 0; i < options->verifier_disable_count; i++)
        failed |= check(fltsim_system_verifier_disable(sys, options->verifier_disable[i]),
                        "fltsim_system_verifier_disable");
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
    char summary[64];
    snprintf(summary, sizeof(summary), "verifier reports: %u", (unsigned)reports);
    step(summary);
    if (reports != 0)
        fprintf(stderr, "fltsim: the demo's filters got %u verifier reports\n", (unsigned)reports);
    failed |= reports != 0;

out:
    fltsim_system_destroy(sys);
    fltsim_debug_set_sink(NULL, NULL);
    bool written = cli_trace_close(&demo_trace, true);
    demo_sink = NULL;
    return !written ? CLI_EXIT_ERROR : failed ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}
