/*
 * Scenario suite (DESIGN decision 8): small scenario files loaded and run
 * under both executors (memfs files, each operation kind, nowait and wait,
 * overlapped I/O, load/unload/attach/detach, a shared-object filter,
 * expectations that must fail), and the malformed files of
 * tests/scenarios/bad/, each of which must be refused with the one error
 * line its "# expect:" comment names.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fltsim_test.h"

#include <example_filters.h>
#include <fltsim/scenario.h>
#include <fltsim/trace.h>

static char tmpdir[256];

/* Writes text (with "@HOLD@" replaced by the fixture filter's path) into a
 * scenario file named name in the suite's temporary directory; returns its
 * path (static buffer). */
static const char *write_scenario(const char *name, const char *text)
{
    static char path[512];
    if (tmpdir[0] == '\0') {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/fltsim-scenario-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
    }
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (const char *p = text; *p != '\0';) {
        if (strncmp(p, "@HOLD@", 6) == 0) {
            fputs(FLTSIM_TEST_HOLD_READS_SO, f);
            p += 6;
        } else {
            fputc(*p++, f);
        }
    }
    fclose(f);
    return path;
}

struct outcome {
    NTSTATUS status;
    struct fltsim_scenario_result result;
    char log[8192];
};

/* Loads text (asserting it loads) and runs it under the suite's executor. */
static void run_text_with(const char *name, const char *text,
                          const struct fltsim_scenario_run_options *base, struct outcome *out)
{
    char error[512];
    struct fltsim_scenario *sc;
    const char *path = write_scenario(name, text);
    NTSTATUS st = fltsim_scenario_load(path, &sc, error, sizeof(error));
    if (!NT_SUCCESS(st))
        fail_msg("%s does not load: %s", name, error);

    char *logbuf = NULL;
    size_t logsize = 0;
    FILE *log = open_memstream(&logbuf, &logsize);
    assert_non_null(log);
    struct fltsim_scenario_run_options options = {0};
    if (base != NULL)
        options = *base;
    options.override_executor = true;
    options.executor = test_executor;
    if (test_executor == FLTSIM_EXECUTOR_CONCURRENT)
        options.skip_golden = true;
    options.log = log;
    out->status = fltsim_scenario_run(sc, &options, &out->result);
    fclose(log);
    snprintf(out->log, sizeof(out->log), "%s", logbuf ? logbuf : "");
    free(logbuf);
    fltsim_scenario_free(sc);
}

/* The same, for runs that may not be carried out: only the status is kept. */
static void run_text_with_status(const char *name, const char *text, struct outcome *out)
{
    run_text_with(name, text, NULL, out);
}

static void run_text(const char *name, const char *text, struct outcome *out)
{
    run_text_with(name, text, NULL, out);
}

/* Asserts the run succeeded, printing its log otherwise. */
static void assert_run_ok(const struct outcome *o)
{
    if (o->status != STATUS_SUCCESS || o->result.expectations_failed != 0)
        fail_msg("run failed (0x%08x, %lu failed):\n%s", (unsigned)o->status,
                 (unsigned long)o->result.expectations_failed, o->log);
}

static void assert_log_has(const struct outcome *o, const char *text)
{
    if (strstr(o->log, text) == NULL)
        fail_msg("log lacks \"%s\":\n%s", text, o->log);
}

/* ---- good scenarios ---- */

static void scenario_memfs_files_read_write_close_succeeds(void **state)
{
    (void)state;
    struct outcome o;
    run_text("files.yaml",
             "scenario: memfs files, reads and writes\n"
             "volumes:\n"
             "  - drive: C\n"
             "    files:\n"
             "      - path: \\docs\\readme.txt\n"
             "        data: \"Hello\\n\"\n"
             "      - path: \\bin.dat\n"
             "        hex: \"00 01 ff\"\n"
             "      - dir: \\empty\n"
             "steps:\n"
             "  - op: create\n"
             "    path: C:\\docs\\readme.txt\n"
             "    access: [read, write]\n"
             "    handle: h1\n"
             "    expect: {status: STATUS_SUCCESS, information: FILE_OPENED}\n"
             "  - op: read\n"
             "    handle: h1\n"
             "    offset: 0\n"
             "    length: 64\n"
             "    expect: {data: \"Hello\\n\", information: 6}\n"
             "  - op: write\n"
             "    handle: h1\n"
             "    offset: end\n"
             "    data: \"World\"\n"
             "  - op: read\n"
             "    handle: h1\n"
             "    offset: 100\n"
             "    length: 4\n"
             "    expect: {status: STATUS_END_OF_FILE}\n"
             "  - op: close\n"
             "    handle: h1\n"
             "  - op: open\n"
             "    path: C:\\bin.dat\n"
             "    handle: h2\n"
             "  - op: read\n"
             "    handle: h2\n"
             "    length: 8\n"
             "    expect: {hex: \"0001FF\"}\n"
             "  - op: close\n"
             "    handle: h2\n"
             "expect:\n"
             "  files:\n"
             "    - path: C:\\docs\\readme.txt\n"
             "      data: \"Hello\\nWorld\"\n"
             "    - path: C:\\nothing.txt\n"
             "      exists: false\n"
             "  handles: 0\n",
             &o);
    assert_run_ok(&o);
    assert_int_equal(o.result.steps_run, 8);
    assert_true(o.result.expectations_checked >= 12);
}

static void scenario_every_op_kind_runs(void **state)
{
    (void)state;
    struct outcome o;
    run_text("ops.yaml",
             "scenario: every operation kind\n"
             "volumes:\n"
             "  - drive: C\n"
             "    files:\n"
             "      - path: \\d\\a.txt\n"
             "        data: \"abcdef\"\n"
             "      - path: \\d\\b.txt\n"
             "        data: \"b\"\n"
             "      - path: \\gone.txt\n"
             "filters:\n"
             "  - name: PassThrough\n"
             "    builtin: passthrough\n"
             "steps:\n"
             "  - op: create\n"
             "    path: C:\\d\\a.txt\n"
             "    access: [GENERIC_READ, GENERIC_WRITE, DELETE]\n"
             "    share: [read, write, delete]\n"
             "    disposition: FILE_OPEN\n"
             "    options: [FILE_SYNCHRONOUS_IO_NONALERT, FILE_NON_DIRECTORY_FILE]\n"
             "    handle: a\n"
             "  - op: query_information\n"
             "    handle: a\n"
             "    class: FileStandardInformation\n"
             "    expect: {information: 24}\n"
             "  - op: set_information\n"
             "    handle: a\n"
             "    class: FileEndOfFileInformation\n"
             "    end_of_file: 3\n"
             "  - op: flush\n"
             "    handle: a\n"
             "  - op: acquire_for_section_sync\n"
             "    handle: a\n"
             "    protection: PAGE_READONLY\n"
             "  - op: release_for_section_sync\n"
             "    handle: a\n"
             "  - op: map_section\n"
             "    handle: a\n"
             "  - op: rename\n"
             "    handle: a\n"
             "    new_name: c.txt\n"
             "  - op: close\n"
             "    handle: a\n"
             "  - op: open\n"
             "    path: C:\\gone.txt\n"
             "    access: [DELETE]\n"
             "    handle: g\n"
             "  - op: delete\n"
             "    handle: g\n"
             "  - op: close\n"
             "    handle: g\n"
             "  - op: create\n"
             "    path: C:\\d\n"
             "    options: [FILE_DIRECTORY_FILE, FILE_SYNCHRONOUS_IO_NONALERT]\n"
             "    access: [FILE_LIST_DIRECTORY, SYNCHRONIZE]\n"
             "    handle: dir\n"
             "  - op: query_directory\n"
             "    handle: dir\n"
             "    class: FileNamesInformation\n"
             "    pattern: \"*.txt\"\n"
             "    expect: {names: [b.txt, c.txt]}\n"
             "  - op: query_directory\n"
             "    handle: dir\n"
             "    expect: {status: STATUS_NO_MORE_FILES}\n"
             "  - op: close\n"
             "    handle: dir\n"
             "  - op: create\n"
             "    path: C:\\d\\new.txt\n"
             "    disposition: create\n"
             "    access: [FILE_WRITE_DATA, SYNCHRONIZE]\n"
             "    attributes: [hidden]\n"
             "    handle: n\n"
             "    expect: {information: FILE_CREATED}\n"
             "  - op: set_information\n"
             "    handle: n\n"
             "    class: FileBasicInformation\n"
             "    attributes: [readonly]\n"
             "    expect: {status: STATUS_ACCESS_DENIED}\n"
             "  - op: create\n"
             "    path: C:\\d\\new.txt\n"
             "    disposition: create\n"
             "    expect: {status: STATUS_OBJECT_NAME_COLLISION}\n"
             "  - note: \"the end\"\n"
             "expect:\n"
             "  files:\n"
             "    - path: C:\\d\\c.txt\n"
             "      data: \"abc\"\n"
             "    - path: C:\\d\\a.txt\n"
             "      exists: false\n"
             "    - path: C:\\gone.txt\n"
             "      exists: false\n"
             "  handles: 1\n",
             &o);
    assert_run_ok(&o);
    assert_int_equal(o.result.steps_run, 20);
}

static void scenario_builtin_filter_denies_and_threads_identify(void **state)
{
    (void)state;
    struct outcome o;
    run_text("blocker.yaml",
             "scenario: AccessBlocker denies secrets\n"
             "volumes:\n"
             "  - drive: C\n"
             "    files:\n"
             "      - path: \\secret.txt\n"
             "      - path: \\open.txt\n"
             "filters:\n"
             "  - name: AccessBlocker\n"
             "    builtin: accessblocker\n"
             "threads:\n"
             "  - name: app\n"
             "    process: 2000\n"
             "steps:\n"
             "  - op: open\n"
             "    path: C:\\secret.txt\n"
             "    thread: app\n"
             "    expect: {status: STATUS_ACCESS_DENIED}\n"
             "  - op: open\n"
             "    path: C:\\open.txt\n"
             "    thread: app\n"
             "    handle: h\n"
             "  - op: close\n"
             "    handle: h\n"
             "    thread: app\n",
             &o);
    assert_run_ok(&o);
}

static void scenario_shared_object_nowait_complete_pended_wait(void **state)
{
    (void)state;
    struct outcome o;
    run_text("hold.yaml",
             "scenario: reads held by a shared-object filter\n"
             "volumes:\n"
             "  - drive: C\n"
             "    files:\n"
             "      - path: \\a.txt\n"
             "        data: \"held data\"\n"
             "filters:\n"
             "  - name: HoldReads\n"
             "    object: @HOLD@\n"
             "    altitude: 150000\n"
             "threads:\n"
             "  - name: reader\n"
             "steps:\n"
             "  - op: open\n"
             "    path: C:\\a.txt\n"
             "    handle: h\n"
             "    thread: reader\n"
             "  - op: read\n"
             "    id: r1\n"
             "    handle: h\n"
             "    offset: 0\n"
             "    length: 4\n"
             "    thread: reader\n"
             "    nowait: true\n"
             "    expect: {data: \"held\"}\n"
             "  - complete_pended: HoldReads\n"
             "  - wait: [r1]\n"
             "  - op: read\n"
             "    handle: h\n"
             "    offset: 5\n"
             "    length: 4\n"
             "    thread: reader\n"
             "    nowait: true\n"
             "    expect: {data: \"data\"}\n"
             "  - complete_pended: HoldReads\n"
             "  - wait: all\n"
             "  - op: close\n"
             "    handle: h\n"
             "    thread: reader\n",
             &o);
    assert_run_ok(&o);
    assert_int_equal(o.result.reports, 0);
}

static void scenario_async_read_returns_pending_then_completes(void **state)
{
    (void)state;
    struct outcome o;
    run_text("async.yaml",
             "scenario: overlapped read pended by a filter\n"
             "volumes:\n"
             "  - drive: C\n"
             "    completion: async\n"
             "    files:\n"
             "      - path: \\a.txt\n"
             "        data: \"0123456789\"\n"
             "filters:\n"
             "  - name: HoldReads\n"
             "    object: @HOLD@\n"
             "    instances:\n"
             "      - name: Hold Instance\n"
             "        altitude: \"150000.5\"\n"
             "steps:\n"
             "  - op: create\n"
             "    path: C:\\a.txt\n"
             "    options: []\n"
             "    access: [FILE_READ_DATA]\n"
             "    handle: h\n"
             "  - op: read\n"
             "    id: r\n"
             "    handle: h\n"
             "    offset: 2\n"
             "    length: 3\n"
             "    async: true\n"
             "    nowait: true\n"
             "    expect: {returned: STATUS_PENDING, status: STATUS_SUCCESS, data: \"234\"}\n"
             "  - complete_pended: HoldReads\n"
             "  - wait: [r]\n"
             "  - op: close\n"
             "    handle: h\n",
             &o);
    assert_run_ok(&o);
}

static void scenario_load_unload_attach_detach(void **state)
{
    (void)state;
    struct outcome o;
    run_text("lifecycle.yaml",
             "scenario: filter lifecycle steps\n"
             "volumes:\n"
             "  - drive: C\n"
             "  - drive: D\n"
             "    device: \\Device\\Data\n"
             "filters:\n"
             "  - name: PassThrough\n"
             "    builtin: passthrough\n"
             "    load: false\n"
             "    instances:\n"
             "      - name: PT Auto\n"
             "        altitude: 370030\n"
             "      - name: PT Manual\n"
             "        altitude: 370031\n"
             "        suppress: [automatic]\n"
             "    default_instance: PT Auto\n"
             "steps:\n"
             "  - load: PassThrough\n"
             "  - detach: {filter: PassThrough, volume: C}\n"
             "  - detach: {filter: PassThrough, volume: C}\n"
             "    expect: {status: STATUS_FLT_INSTANCE_NOT_FOUND}\n"
             "  - attach: {filter: PassThrough, volume: C, instance: PT Manual}\n"
             "  - attach: {filter: PassThrough, volume: \"D:\", altitude: 123456}\n"
             "  - op: open\n"
             "    path: D:\\\n"
             "    handle: d\n"
             "  - op: close\n"
             "    handle: d\n"
             "  - unload: PassThrough\n"
             "  - unload: PassThrough\n"
             "    expect: {status: STATUS_FLT_FILTER_NOT_FOUND}\n"
             "  - load: PassThrough\n"
             "  - unload: PassThrough\n"
             "    mandatory: true\n",
             &o);
    assert_run_ok(&o);
}

static void scenario_failed_expectations_fail_the_run(void **state)
{
    (void)state;
    struct outcome o;
    run_text("wrong.yaml",
             "scenario: expectations that do not hold\n"
             "volumes:\n"
             "  - drive: C\n"
             "    files:\n"
             "      - path: \\a.txt\n"
             "        data: \"abc\"\n"
             "steps:\n"
             "  - op: open\n"
             "    id: o1\n"
             "    path: C:\\a.txt\n"
             "    handle: h\n"
             "    expect: {status: STATUS_ACCESS_DENIED}\n"
             "  - op: read\n"
             "    handle: h\n"
             "    length: 10\n"
             "    expect: {data: \"abd\", information: 4}\n"
             "  - op: open\n"
             "    path: C:\\missing.txt\n"
             "    handle: m\n"
             "expect:\n"
             "  files:\n"
             "    - path: C:\\a.txt\n"
             "      data: \"xyz\"\n"
             "  handles: 0\n",
             &o);
    assert_status(o.status, STATUS_UNSUCCESSFUL);
    assert_int_equal(o.result.expectations_failed, 6);
    assert_false(o.result.error);
    char want[512];
    snprintf(want, sizeof(want),
             "%s/wrong.yaml:8: step 1 'o1' (open): status: expected STATUS_ACCESS_DENIED, actual "
             "STATUS_SUCCESS",
             tmpdir);
    assert_log_has(&o, want);
    assert_log_has(&o, ":13: step 2 (read): data: expected \"abd\" (3 bytes), actual \"abc\" (3 "
                       "bytes)");
    assert_log_has(&o, ":13: step 2 (read): information: expected 4, actual 3");
    assert_log_has(&o, ":17: step 3 (open): status: expected success, actual "
                       "STATUS_OBJECT_NAME_NOT_FOUND");
    assert_log_has(&o, ":22: end of run: C:\\a.txt: expected \"xyz\" (3 bytes), actual \"abc\"");
    assert_log_has(&o, "end of run: handles: expected 0 open, actual 1");
}

static void scenario_verifier_report_strict_fails_report_mode_passes(void **state)
{
    (void)state;
    static const char text[] = "scenario: a filter breaks a rule\n"
                               "verifier: %s\n"
                               "volumes:\n"
                               "  - drive: C\n"
                               "    files:\n"
                               "      - path: \\badstatus.txt\n"
                               "filters:\n"
                               "  - name: HoldReads\n"
                               "    object: @HOLD@\n"
                               "    altitude: 150000\n"
                               "steps:\n"
                               "  - op: open\n"
                               "    path: C:\\badstatus.txt\n"
                               "    handle: h\n"
                               "%s";
    char buf[1024];
    struct outcome o;

    snprintf(buf, sizeof(buf), text, "strict", "");
    run_text("strict.yaml", buf, &o);
    assert_status(o.status, STATUS_UNSUCCESSFUL);
    assert_int_equal(o.result.reports, 1);
    assert_log_has(&o, "verifier reports: expected [], actual [V1]");

    snprintf(buf, sizeof(buf), text, "strict", "expect:\n  reports: [V1]\n");
    run_text("strict_expected.yaml", buf, &o);
    assert_run_ok(&o);

    snprintf(buf, sizeof(buf), text, "report", "");
    run_text("report.yaml", buf, &o);
    assert_run_ok(&o);
    assert_int_equal(o.result.reports, 1);
    assert_log_has(&o, "verifier report V1");

    /* The options override the file. */
    snprintf(buf, sizeof(buf), text, "report", "");
    struct fltsim_scenario_run_options strict = {.verifier = FLTSIM_VERIFIER_STRICT};
    run_text_with("report_overridden.yaml", buf, &strict, &o);
    assert_status(o.status, STATUS_UNSUCCESSFUL);

    /* issue 5: a disabled rule is an accepted finding, from the file... */
    snprintf(buf, sizeof(buf), text, "strict\nverifier_disable: [V7, V1]", "");
    run_text("disabled.yaml", buf, &o);
    assert_run_ok(&o);
    assert_int_equal(o.result.reports, 0);
    assert_int_equal(o.result.reports_suppressed, 1);

    /* ... or from the options, on top of the file's. */
    static const char *const v1[] = {"V1"};
    struct fltsim_scenario_run_options disable = {.verifier_disable = v1,
                                                  .verifier_disable_count = 1};
    snprintf(buf, sizeof(buf), text, "strict", "");
    run_text_with("disabled_by_option.yaml", buf, &disable, &o);
    assert_run_ok(&o);
    assert_int_equal(o.result.reports_suppressed, 1);

    /* Disabling another rule does not hide this one. */
    static const char *const v2[] = {"V2"};
    struct fltsim_scenario_run_options other = {.verifier_disable = v2,
                                                .verifier_disable_count = 1};
    run_text_with("other_disabled.yaml", buf, &other, &o);
    assert_status(o.status, STATUS_UNSUCCESSFUL);
    assert_int_equal(o.result.reports, 1);

    /* An unknown rule id in the options makes the run an error. */
    static const char *const bad[] = {"V99"};
    struct fltsim_scenario_run_options wrong = {.verifier_disable = bad,
                                                .verifier_disable_count = 1};
    run_text_with("bad_rule.yaml", buf, &wrong, &o);
    assert_true(o.result.error);
    assert_log_has(&o, "'V99' is not a verifier rule");
}

static void scenario_golden_trace_written_then_compared(void **state)
{
    (void)state;
    if (test_executor != FLTSIM_EXECUTOR_DETERMINISTIC)
        skip();
    static const char text[] = "scenario: golden\n"
                               "golden: golden.trace\n"
                               "seed: 7\n"
                               "volumes:\n"
                               "  - drive: C\n"
                               "    files:\n"
                               "      - path: \\a.txt\n"
                               "        data: abc\n"
                               "filters:\n"
                               "  - name: PassThrough\n"
                               "    builtin: passthrough\n"
                               "steps:\n"
                               "  - op: open\n"
                               "    path: C:\\a.txt\n"
                               "    handle: h\n"
                               "  - op: read\n"
                               "    handle: h\n"
                               "    length: 3\n";
    struct outcome o;
    struct fltsim_scenario_run_options update = {.update_golden = true};
    run_text_with("golden.yaml", text, &update, &o);
    assert_run_ok(&o);
    assert_true(o.result.golden_checked); /* written */
    assert_false(o.result.golden_mismatch);

    run_text("golden.yaml", text, &o);
    assert_run_ok(&o);
    assert_true(o.result.golden_checked);
    assert_false(o.result.golden_mismatch);

    /* Each step leaves a note in the trace. */
    char path[600], line[1024];
    snprintf(path, sizeof(path), "%s/golden.trace", tmpdir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    bool saw_note = false;
    char *all = NULL;
    size_t all_size = 0;
    FILE *copy = open_memstream(&all, &all_size);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, "step 2: read h") != NULL)
            saw_note = true;
        fputs(line, copy);
    }
    fclose(f);
    fclose(copy);
    assert_true(saw_note);

    /* A changed golden line is reported with both versions. */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("# a line that the run does not produce\n", f);
    fputs(all, f);
    fclose(f);
    free(all);
    run_text("golden.yaml", text, &o);
    assert_status(o.status, STATUS_UNSUCCESSFUL);
    assert_true(o.result.golden_mismatch);
    assert_log_has(&o, "golden.trace:1: golden trace differs:");
    assert_log_has(&o, "expected: # a line that the run does not produce");

    /* A missing golden file is a failure that says how to write it. */
    unlink(path);
    run_text("golden.yaml", text, &o);
    assert_status(o.status, STATUS_UNSUCCESSFUL);
    assert_log_has(&o, "--update-golden");
}

/* PendReads holds reads when the registry says Parameters\HoldReads = 1: the
 * read completes only after the complete_pended step, which the user's trace
 * (with the runner's step notes) shows in that order. */
static void scenario_registry_value_makes_pendreads_hold(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    assert_non_null(mem);
    struct fltsim_trace_sink *sink;
    assert_status(fltsim_trace_sink_create(FLTSIM_TRACE_NORMALIZED, mem, 0, &sink), STATUS_SUCCESS);
    struct fltsim_trace_tee tee = {{sink}};
    struct fltsim_scenario_run_options options = {.trace = &tee};
    struct outcome o;
    run_text_with("registry.yaml",
                  "scenario: held reads\n"
                  "registry:\n"
                  "  - key: Services\\PendReads\\Parameters\n"
                  "    values:\n"
                  "      HoldReads: 1\n"
                  "      Comment: held\n"
                  "volumes:\n"
                  "  - drive: C\n"
                  "    files:\n"
                  "      - path: \\a.txt\n"
                  "        data: \"abc\"\n"
                  "filters:\n"
                  "  - name: PendReads\n"
                  "    builtin: pendreads\n"
                  "threads:\n"
                  "  - name: app\n"
                  "steps:\n"
                  "  - op: open\n"
                  "    path: C:\\a.txt\n"
                  "    handle: h\n"
                  "  - op: read\n"
                  "    id: r1\n"
                  "    handle: h\n"
                  "    length: 3\n"
                  "    thread: app\n"
                  "    nowait: true\n"
                  "    expect: {data: abc}\n"
                  "  - note: before completion\n"
                  "  - complete_pended: PendReads\n"
                  "  - wait: [r1]\n"
                  "  - op: close\n"
                  "    handle: h\n",
                  &options, &o);
    assert_status(fltsim_trace_sink_finish(sink), STATUS_SUCCESS);
    fltsim_trace_sink_destroy(sink);
    fclose(mem);
    assert_run_ok(&o);
    const char *note = strstr(text, "# step 4: complete_pended PendReads");
    const char *read_done = strstr(text, "io_complete op=2 kind=irp major=IRP_MJ_READ");
    if (note == NULL || read_done == NULL || read_done < note)
        fail_msg("the read did not wait for complete_pended:\n%s", text);
    assert_non_null(strstr(text, "# step 3: note before completion"));
    free(text);
}

/* A hostfs volume over a directory beside the scenario file. */
static void scenario_hostfs_volume_reads_and_writes_host_files(void **state)
{
    (void)state;
    write_scenario("host-root-marker", "");
    char dir[600], file[700];
    snprintf(dir, sizeof(dir), "%s/host", tmpdir);
    mkdir(dir, 0700);
    snprintf(file, sizeof(file), "%s/host/Readme.txt", tmpdir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("from the host", f);
    fclose(f);
    struct outcome o;
    run_text("hostfs.yaml",
             "scenario: hostfs\n"
             "volumes:\n"
             "  - drive: H\n"
             "    fs: hostfs\n"
             "    root: host\n"
             "steps:\n"
             "  - op: open\n"
             "    path: H:\\README.TXT\n"
             "    access: [read, write]\n"
             "    handle: h\n"
             "  - op: read\n"
             "    handle: h\n"
             "    length: 100\n"
             "    expect: {data: from the host}\n"
             "  - op: write\n"
             "    handle: h\n"
             "    offset: 0\n"
             "    data: FROM\n"
             "  - op: close\n"
             "    handle: h\n"
             "  - op: create\n"
             "    path: H:\\new.txt\n"
             "    disposition: create\n"
             "    access: write\n"
             "    handle: n\n"
             "  - op: write\n"
             "    handle: n\n"
             "    data: fresh\n"
             "  - op: close\n"
             "    handle: n\n"
             "expect:\n"
             "  files:\n"
             "    - path: H:\\Readme.txt\n"
             "      data: FROM the host\n"
             "    - path: H:\\new.txt\n"
             "      data: fresh\n"
             "    - path: H:\\absent.txt\n"
             "      exists: false\n",
             &o);
    assert_run_ok(&o);
    unlink(file);
    snprintf(file, sizeof(file), "%s/host/new.txt", tmpdir);
    unlink(file);
    rmdir(dir);
}

/* The complete example of scenarios/README.md loads and runs (its golden
 * trace written first, then compared, under the deterministic executor). */
static void scenario_readme_example_runs(void **state)
{
    (void)state;
    FILE *f = fopen(FLTSIM_TEST_README, "r");
    assert_non_null(f);
    char line[1024], *yaml = NULL;
    size_t yaml_size = 0;
    FILE *out = open_memstream(&yaml, &yaml_size);
    int phase = 0; /* 0 before the first ```yaml fence, 1 inside, 2 after */
    while (phase < 2 && fgets(line, sizeof(line), f) != NULL) {
        if (phase == 0 && strncmp(line, "```yaml", 7) == 0)
            phase = 1;
        else if (phase == 1 && strncmp(line, "```", 3) == 0)
            phase = 2;
        else if (phase == 1)
            fputs(line, out);
    }
    fclose(f);
    fclose(out);
    assert_int_equal(phase, 2);
    struct outcome o;
    if (test_executor == FLTSIM_EXECUTOR_DETERMINISTIC) {
        struct fltsim_scenario_run_options update = {.update_golden = true};
        run_text_with("readme.yaml", yaml, &update, &o);
        assert_run_ok(&o);
    }
    run_text("readme.yaml", yaml, &o);
    assert_run_ok(&o);
    assert_int_equal(o.result.steps_run, 11);
    assert_int_equal(o.result.golden_checked, test_executor == FLTSIM_EXECUTOR_DETERMINISTIC);
    free(yaml);
}

/* Read flags reach the I/O manager: a non-cached read must be sector-aligned
 * (memfs refuses it otherwise); PendReads pends a plain read but lets one
 * through when the thread has a top-level IRP (it cannot post it). */
static void scenario_read_flags_reach_the_request(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    assert_non_null(mem);
    struct fltsim_trace_sink *sink;
    assert_status(fltsim_trace_sink_create(FLTSIM_TRACE_NORMALIZED, mem, 0, &sink), STATUS_SUCCESS);
    struct fltsim_trace_tee tee = {{sink}};
    struct fltsim_scenario_run_options options = {.trace = &tee};
    struct outcome o;
    run_text_with("flags.yaml",
                  "scenario: read flags\n"
                  "volumes:\n"
                  "  - drive: C\n"
                  "    files:\n"
                  "      - path: \\a.txt\n"
                  "        data: abcdef\n"
                  "filters:\n"
                  "  - name: PendReads\n"
                  "    builtin: pendreads\n"
                  "steps:\n"
                  "  - op: open\n"
                  "    path: C:\\a.txt\n"
                  "    handle: h\n"
                  "  - op: read\n"
                  "    handle: h\n"
                  "    offset: 1\n"
                  "    length: 3\n"
                  "    flags: [noncached]\n"
                  "    expect: {status: STATUS_INVALID_PARAMETER}\n"
                  "  - op: read\n"
                  "    handle: h\n"
                  "    offset: 0\n"
                  "    length: 3\n"
                  "    flags: [top_level_irp]\n"
                  "    expect: {data: abc}\n"
                  "  - op: read\n"
                  "    handle: h\n"
                  "    offset: 3\n"
                  "    length: 3\n"
                  "    flags: fast\n"
                  "    expect: {data: def}\n"
                  "  - op: read\n"
                  "    handle: h\n"
                  "    offset: 0\n"
                  "    length: 2\n"
                  "    expect: {data: ab}\n"
                  "  - op: close\n"
                  "    handle: h\n",
                  &options, &o);
    assert_status(fltsim_trace_sink_finish(sink), STATUS_SUCCESS);
    fltsim_trace_sink_destroy(sink);
    fclose(mem);
    assert_run_ok(&o);
    /* Operations: 1 create, 2 non-cached read (pended; the file system
     * refuses it afterwards), 3 top-level IRP read (cannot be posted: let
     * through), 4 fast I/O read (never pended), 5 plain read (pended). */
    if (strstr(text, "\npend op=2 ") == NULL || strstr(text, "\npend op=3 ") != NULL ||
        strstr(text, "\npend op=4 ") != NULL || strstr(text, "\npend op=5 ") == NULL)
        fail_msg("unexpected pends:\n%s", text);
    assert_non_null(strstr(text, "kind=fast_io major=IRP_MJ_READ"));
    free(text);
}

/* Runs that cannot be carried out say why and return the setup's status. */
static void scenario_setup_failures_are_errors(void **state)
{
    (void)state;
    struct outcome o;
    char error[512];
    struct fltsim_scenario *sc;
    const char *path;

    /* A file larger than the volume's capacity. */
    path = write_scenario("full.yaml", "scenario: full\n"
                                       "volumes:\n"
                                       "  - drive: C\n"
                                       "    capacity: 2\n"
                                       "    files:\n"
                                       "      - path: \\a.txt\n"
                                       "        data: abcdef\n"
                                       "steps: [{note: never}]\n");
    assert_status(fltsim_scenario_load(path, &sc, error, sizeof(error)), STATUS_SUCCESS);
    char *logbuf = NULL;
    size_t logsize = 0;
    FILE *log = open_memstream(&logbuf, &logsize);
    struct fltsim_scenario_run_options options = {.log = log};
    struct fltsim_scenario_result result;
    assert_status(fltsim_scenario_run(sc, &options, &result), STATUS_DISK_FULL);
    assert_true(result.error);
    assert_int_equal(result.steps_run, 0);
    /* update_golden needs a golden file. */
    options.update_golden = true;
    assert_status(fltsim_scenario_run(sc, &options, &result), STATUS_INVALID_PARAMETER);
    assert_true(result.error);
    fclose(log);
    assert_non_null(strstr(logbuf, "volume C: \\a.txt cannot be added: STATUS_DISK_FULL"));
    assert_non_null(strstr(logbuf, "names no golden trace"));
    free(logbuf);
    fltsim_scenario_free(sc);

    /* Two volumes on one device name. */
    run_text_with_status("twice.yaml",
                         "scenario: one device twice\n"
                         "volumes:\n"
                         "  - drive: C\n"
                         "    device: \\Device\\Same\n"
                         "  - drive: D\n"
                         "    device: \\Device\\Same\n"
                         "steps: [{note: never}]\n",
                         &o);
    assert_status(o.status, STATUS_OBJECT_NAME_COLLISION);
    assert_log_has(&o, "volume D: cannot be mounted: STATUS_OBJECT_NAME_COLLISION");

    /* A shared object that is gone by the time the scenario runs. */
    char so[600], cmd[1400];
    snprintf(so, sizeof(so), "%s/gone.so", tmpdir);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", FLTSIM_TEST_HOLD_READS_SO, so);
    assert_int_equal(system(cmd), 0);
    path = write_scenario("gone.yaml", "scenario: gone\n"
                                       "volumes: [{drive: C}]\n"
                                       "filters: [{name: Gone, object: gone.so, altitude: 1}]\n"
                                       "steps: [{note: never}]\n");
    assert_status(fltsim_scenario_load(path, &sc, error, sizeof(error)), STATUS_SUCCESS);
    unlink(so);
    logbuf = NULL;
    log = open_memstream(&logbuf, &logsize);
    options = (struct fltsim_scenario_run_options){.log = log};
    assert_status(fltsim_scenario_run(sc, &options, &result), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_true(result.error);
    fclose(log);
    assert_non_null(strstr(logbuf, "filter 'Gone': shared object"));
    free(logbuf);
    fltsim_scenario_free(sc);
}

/* ---- loading errors ---- */

static void load_missing_file_is_name_not_found(void **state)
{
    (void)state;
    char error[256];
    struct fltsim_scenario *sc = (void *)1;
    assert_status(fltsim_scenario_load("/nonexistent/x.yaml", &sc, error, sizeof(error)),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_null(sc);
    assert_string_equal(error, "/nonexistent/x.yaml:1:1: cannot open the file: No such file or "
                               "directory");
    assert_status(fltsim_scenario_load(NULL, &sc, error, sizeof(error)), STATUS_INVALID_PARAMETER);
    /* A tiny error buffer is still terminated. */
    assert_status(fltsim_scenario_load("/nonexistent/x.yaml", &sc, error, 4),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_string_equal(error, "/no");
}

static void load_good_scenario_gives_title(void **state)
{
    (void)state;
    char error[256];
    struct fltsim_scenario *sc;
    const char *path = write_scenario("title.yaml", "scenario: The title\n"
                                                    "description: |\n"
                                                    "  two lines\n"
                                                    "  of text\n"
                                                    "volumes: [{drive: \"C:\"}]\n"
                                                    "steps: [{note: hi}]\n");
    assert_status(fltsim_scenario_load(path, &sc, error, sizeof(error)), STATUS_SUCCESS);
    assert_string_equal(fltsim_scenario_title(sc), "The title");
    fltsim_scenario_free(sc);
}

/* Every file of dir ending in .yaml must fail to load with the error its
 * first line announces ("# expect: LINE:COLUMN: message"; a message ending
 * in "..." is a prefix). Returns the number of files checked. */
static int check_bad_dir(const char *dir, int *mismatches)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        fail_msg("cannot open %s", dir);
    int checked = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".yaml") != 0)
            continue;
        char path[1024], first[2048], want[4096], error[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        if (fgets(first, sizeof(first), f) == NULL)
            first[0] = '\0';
        fclose(f);
        first[strcspn(first, "\n")] = '\0';
        if (strncmp(first, "# expect: ", 10) != 0)
            fail_msg("%s: first line is not '# expect: ...'", path);
        snprintf(want, sizeof(want), "%s:%s", path, first + 10);

        struct fltsim_scenario *sc = (void *)1;
        NTSTATUS st = fltsim_scenario_load(path, &sc, error, sizeof(error));
        if (NT_SUCCESS(st))
            fail_msg("%s loads, but should fail with: %s", path, want);
        assert_null(sc);
        size_t wn = strlen(want);
        bool prefix = wn > 3 && strcmp(want + wn - 3, "...") == 0;
        if (prefix ? strncmp(error, want, wn - 3) != 0 : strcmp(error, want) != 0) {
            print_error("%s:\n  expected: %s\n  actual:   %s\n", path, want, error);
            (*mismatches)++;
        }
        if (strchr(error, '\n') != NULL)
            fail_msg("%s: the error is more than one line: %s", path, error);
        checked++;
    }
    closedir(d);
    return checked;
}

static void load_malformed_scenarios_give_their_error_line(void **state)
{
    (void)state;
    int mismatches = 0;
    int n = check_bad_dir(FLTSIM_TEST_BAD_DIR, &mismatches);
    n += check_bad_dir(FLTSIM_TEST_BAD_GENERATED_DIR, &mismatches);
    assert_int_equal(mismatches, 0);
    assert_true(n >= 15);
}

/* Every prefix of a valid scenario (the README example) either loads or is
 * refused with one "FILE:LINE:COLUMN: ..." line: no crash, no leak (the
 * suite runs under ASan in CI). */
static void load_every_prefix_of_a_scenario_is_handled(void **state)
{
    (void)state;
    FILE *f = fopen(FLTSIM_TEST_README, "r");
    assert_non_null(f);
    char line[1024], *yaml = NULL;
    size_t yaml_size = 0;
    FILE *out = open_memstream(&yaml, &yaml_size);
    int phase = 0;
    while (phase < 2 && fgets(line, sizeof(line), f) != NULL) {
        if (phase == 0 && strncmp(line, "```yaml", 7) == 0)
            phase = 1;
        else if (phase == 1 && strncmp(line, "```", 3) == 0)
            phase = 2;
        else if (phase == 1)
            fputs(line, out);
    }
    fclose(f);
    fclose(out);
    char *prefix = malloc(yaml_size + 1);
    assert_non_null(prefix);
    size_t loaded = 0, refused = 0;
    for (size_t n = 0; n <= yaml_size; n++) {
        memcpy(prefix, yaml, n);
        prefix[n] = '\0';
        const char *path = write_scenario("prefix.yaml", prefix);
        char error[1024];
        struct fltsim_scenario *sc = NULL;
        NTSTATUS st = fltsim_scenario_load(path, &sc, error, sizeof(error));
        if (NT_SUCCESS(st)) {
            loaded++;
            fltsim_scenario_free(sc);
            continue;
        }
        refused++;
        assert_null(sc);
        if (strncmp(error, path, strlen(path)) != 0 || error[strlen(path)] != ':' ||
            strchr(error, '\n') != NULL)
            fail_msg("prefix of %zu bytes: malformed error: %s", n, error);
    }
    free(prefix);
    free(yaml);
    assert_true(loaded >= 1); /* at least the whole file */
    assert_true(refused > yaml_size / 2);
}

int main(void)
{
    const struct CMUnitTest behaviour[] = {
        cmocka_unit_test(scenario_memfs_files_read_write_close_succeeds),
        cmocka_unit_test(scenario_every_op_kind_runs),
        cmocka_unit_test(scenario_builtin_filter_denies_and_threads_identify),
        cmocka_unit_test(scenario_shared_object_nowait_complete_pended_wait),
        cmocka_unit_test(scenario_async_read_returns_pending_then_completes),
        cmocka_unit_test(scenario_load_unload_attach_detach),
        cmocka_unit_test(scenario_failed_expectations_fail_the_run),
        cmocka_unit_test(scenario_verifier_report_strict_fails_report_mode_passes),
        cmocka_unit_test(scenario_golden_trace_written_then_compared),
        cmocka_unit_test(scenario_registry_value_makes_pendreads_hold),
        cmocka_unit_test(scenario_hostfs_volume_reads_and_writes_host_files),
        cmocka_unit_test(scenario_readme_example_runs),
        cmocka_unit_test(scenario_read_flags_reach_the_request),
        cmocka_unit_test(scenario_setup_failures_are_errors),
    };
    const struct CMUnitTest loading[] = {
        cmocka_unit_test(load_missing_file_is_name_not_found),
        cmocka_unit_test(load_good_scenario_gives_title),
        cmocka_unit_test(load_malformed_scenarios_give_their_error_line),
        cmocka_unit_test(load_every_prefix_of_a_scenario_is_handled),
    };
    int failed = FLTSIM_RUN_SUITE("scenario", behaviour);
    failed += cmocka_run_group_tests_name("scenario loading", loading, NULL, NULL);
    if (tmpdir[0] != '\0') {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            failed++;
    }
    return failed;
}
