/*
 * Scenario suite (DESIGN decision 8): small scenario files loaded and run
 * under both executors, each doing what it says: memfs files, each
 * operation kind, nowait and wait, overlapped I/O, load/unload/attach/detach,
 * a shared-object filter, registry values, a hostfs volume, read flags,
 * FileDispositionInformationEx and the README's example. How scenarios fail (malformed files,
 * expectations that do not hold, verifier reports, golden traces that differ, runs that cannot be
 * carried out) is test_scenario_errors.c.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fltsim_test.h"

#include <example_filters.h>
#include <fltsim/scenario.h>
#include <fltsim/trace.h>

#include "scenario_fx.h"

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

/* integrity_check: false loads the filter as an image linked without
 * /INTEGRITYCHECK (its object callbacks would be refused); PassThrough
 * registers none, so it loads and runs either way. */
static void scenario_integrity_check_key(void **state)
{
    (void)state;
    struct outcome o;
    run_text("integrity.yaml",
             "scenario: a filter without the integrity flag\n"
             "volumes:\n"
             "  - drive: C\n"
             "filters:\n"
             "  - name: PassThrough\n"
             "    builtin: passthrough\n"
             "    integrity_check: false\n"
             "  - name: AccessBlocker\n"
             "    builtin: accessblocker\n"
             "    integrity_check: true\n"
             "steps:\n"
             "  - unload: PassThrough\n",
             &o);
    assert_run_ok(&o);
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
/* The name forms users type, short names, streams and a root directory
 * handle (issue 17, item 5) reach memfs from a scenario. */
static void scenario_name_forms_root_and_streams(void **state)
{
    (void)state;
    struct outcome o;
    run_text("names.yaml",
             "scenario: name forms, a root handle, short names and streams\n"
             "volumes:\n"
             "  - drive: C\n"
             "    files:\n"
             "      - path: \\Program Files\\app.txt\n"
             "        data: \"app\"\n"
             "steps:\n"
             "  - op: create\n"
             "    path: \\??\\C:\\PROGRA~1\\app.txt\n"
             "    handle: h1\n"
             "  - op: read\n"
             "    handle: h1\n"
             "    length: 8\n"
             "    expect: {data: \"app\"}\n"
             "  - op: close\n"
             "    handle: h1\n"
             "  - op: create\n"
             "    path: \\Device\\HarddiskVolume1\\Program Files\n"
             "    options: [FILE_DIRECTORY_FILE, FILE_SYNCHRONOUS_IO_NONALERT]\n"
             "    handle: dir\n"
             "  - op: create\n"
             "    path: app.txt:tag\n"
             "    root: dir\n"
             "    access: [write]\n"
             "    disposition: FILE_CREATE\n"
             "    handle: s\n"
             "    expect: {information: FILE_CREATED}\n"
             "  - op: write\n"
             "    handle: s\n"
             "    offset: 0\n"
             "    data: \"tagged\"\n"
             "  - op: close\n"
             "    handle: s\n"
             "  - op: create\n"
             "    path: app.txt\n"
             "    root: dir\n"
             "    handle: h2\n"
             "  - op: read\n"
             "    handle: h2\n"
             "    length: 8\n"
             "    expect: {data: \"app\"}\n"
             "  - op: close\n"
             "    handle: h2\n"
             "  - op: close\n"
             "    handle: dir\n"
             "  - op: open\n"
             "    path: C:\\PROGRA~1\\app.txt:tag:$DATA\n"
             "    handle: h3\n"
             "  - op: read\n"
             "    handle: h3\n"
             "    length: 8\n"
             "    expect: {data: \"tagged\"}\n"
             "  - op: query_information\n"
             "    handle: h3\n"
             "    class: FileStreamInformation\n"
             "  - op: query_information\n"
             "    handle: h3\n"
             "    class: FileAlternateNameInformation\n"
             "  - op: query_information\n"
             "    handle: h3\n"
             "    class: FileNormalizedNameInformation\n"
             "  - op: close\n"
             "    handle: h3\n"
             "expect:\n"
             "  handles: 0\n",
             &o);
    assert_run_ok(&o);
    assert_int_equal(o.result.steps_run, 17);
}

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

/* set_information FileDispositionInformationEx with its flags: DELETE marks
 * the file delete-pending (gone once its last handle goes; absent for the
 * end-of-run check while another is open), DO_NOT_DELETE ([]) clears it;
 * POSIX semantics are refused (memfs does not model them). */
static void scenario_disposition_ex_sets_its_flags(void **state)
{
    (void)state;
    struct outcome o;
    run_text("disposition_ex.yaml",
             "scenario: FileDispositionInformationEx\n"
             "volumes:\n"
             "  - drive: C\n"
             "    files:\n"
             "      - path: \\posix.txt\n"
             "        data: \"p\"\n"
             "      - path: \\kept.txt\n"
             "        data: \"k\"\n"
             "steps:\n"
             "  - op: create\n"
             "    path: C:\\posix.txt\n"
             "    access: [read, delete]\n"
             "    share: [read, write, delete]\n"
             "    handle: p\n"
             "  - op: open\n"
             "    path: C:\\posix.txt\n"
             "    handle: other\n"
             "  - op: set_information\n"
             "    handle: p\n"
             "    class: FileDispositionInformationEx\n"
             "    flags: [FILE_DISPOSITION_DELETE, FILE_DISPOSITION_POSIX_SEMANTICS]\n"
             "    expect: {status: STATUS_INVALID_PARAMETER}\n"
             "  - op: set_information\n"
             "    handle: p\n"
             "    class: FileDispositionInformationEx\n"
             "    flags: [FILE_DISPOSITION_DELETE]\n"
             "  - op: close\n"
             "    handle: p\n"
             "  - op: create\n"
             "    path: C:\\kept.txt\n"
             "    access: [read, delete]\n"
             "    handle: k\n"
             "  - op: set_information\n"
             "    handle: k\n"
             "    class: FileDispositionInformationEx\n"
             "    flags: [FILE_DISPOSITION_DELETE]\n"
             "  - op: set_information\n"
             "    handle: k\n"
             "    class: FileDispositionInformationEx\n"
             "    flags: []\n"
             "  - op: close\n"
             "    handle: k\n"
             "expect:\n"
             "  files:\n"
             "    - path: C:\\posix.txt\n"
             "      exists: false\n"
             "    - path: C:\\kept.txt\n"
             "      data: \"k\"\n"
             "  handles: 1\n",
             &o);
    assert_run_ok(&o);
    assert_int_equal(o.result.steps_run, 9);
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
        cmocka_unit_test(scenario_integrity_check_key),
        cmocka_unit_test(scenario_registry_value_makes_pendreads_hold),
        cmocka_unit_test(scenario_hostfs_volume_reads_and_writes_host_files),
        cmocka_unit_test(scenario_name_forms_root_and_streams),
        cmocka_unit_test(scenario_readme_example_runs),
        cmocka_unit_test(scenario_read_flags_reach_the_request),
        cmocka_unit_test(scenario_disposition_ex_sets_its_flags),
    };
    int failed = FLTSIM_RUN_SUITE("scenario", behaviour);
    failed += remove_tmpdir();
    return failed;
}
