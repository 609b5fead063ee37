/*
 * Replaying Process Monitor captures (issue 6, replay.h): the namespace a
 * capture implies, handles followed per process, rows issued through filters
 * and compared with the recorded Result, skips counted by reason, import into
 * a scenario that replays identically, and errors that name the row. Small
 * hand-written CSV captures; the real ones are replayed by the ctest entries
 * replay_<capture> (tests/CMakeLists.txt).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fltsim/replay.h>
#include <fltsim/scenario.h>

#include "fltsim_test.h"

#define HEADER "\"Time of Day\",\"Process Name\",\"PID\",\"Operation\",\"Path\",\"Result\",\"Detail\",\"TID\",\"Event Class\"\r\n"
#define ROW(pid, op, path, result, detail, tid, cls)                                               \
    "\"1:00:00.0000000 AM\",\"app.exe\",\"" pid "\",\"" op "\",\"" path "\",\"" result "\",\"" detail \
    "\",\"" tid "\",\"" cls "\"\r\n"
#define FS "File System"
#define OPEN_READ                                                                                  \
    "Desired Access: Generic Read, Disposition: Open, Options: Synchronous IO Non-Alert, "          \
    "Non-Directory File, Attributes: n/a, ShareMode: Read, Write, AllocationSize: n/a"

static const char basic_capture[] =
    HEADER
    ROW("100", "CreateFile", "C:\\docs\\a.txt", "SUCCESS", OPEN_READ ", OpenResult: Opened", "7", FS)
    ROW("100", "ReadFile", "C:\\docs\\a.txt", "SUCCESS", "Offset: 0, Length: 1,000, Priority: Normal", "7", FS)
    ROW("100", "ReadFile", "C:\\docs\\a.txt", "END OF FILE", "Offset: 1,000, Length: 4,096", "7", FS)
    ROW("100", "QueryStandardInformationFile", "C:\\docs\\a.txt", "SUCCESS", "AllocationSize: 4,096, EndOfFile: 1,000, NumberOfLinks: 1, DeletePending: False, Directory: False", "7", FS)
    ROW("100", "CloseFile", "C:\\docs\\a.txt", "SUCCESS", "", "7", FS)
    ROW("100", "CreateFile", "C:\\docs\\missing.txt", "NAME NOT FOUND", OPEN_READ, "7", FS)
    ROW("100", "CreateFile", "C:\\nodir\\x.txt", "PATH NOT FOUND", OPEN_READ, "7", FS)
    ROW("100", "RegOpenKey", "HKLM\\Software", "SUCCESS", "Desired Access: Read", "7", "Registry")
    ROW("100", "NotifyChangeDirectory", "C:\\docs", "", "Filter: FILE_NOTIFY_CHANGE_FILE_NAME", "7", FS)
    ROW("100", "CreateFile", "\\\\server\\share\\f", "BAD NETWORK PATH", OPEN_READ, "7", FS)
    ROW("100", "<Unknown>", "C:\\docs\\a.txt", "SUCCESS", "", "7", FS);

static char *write_capture(const char *text, char *path)
{
    strcpy(path, "/tmp/fltsim-replay-XXXXXX");
    test_write_temp(path, text);
    return path;
}

static uint64_t skip_count(const struct fltsim_replay_report *r, const char *prefix)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->skip_count; i++)
        if (strncmp(r->skips[i].name, prefix, strlen(prefix)) == 0)
            n += r->skips[i].count;
    return n;
}

static NTSTATUS replay(const char *text, const struct fltsim_replay_options *extra,
                       struct fltsim_replay_report *r, char *error, size_t size)
{
    char path[64];
    write_capture(text, path);
    struct fltsim_replay_options o = extra != NULL ? *extra : (struct fltsim_replay_options){0};
    o.executor = test_executor;
    NTSTATUS s = fltsim_replay_run(path, &o, r, error, size);
    remove(path);
    return s;
}

/* The namespace: a.txt existed (opened) with 1000 bytes (a read of 1000 at 0
 * succeeded, one at 1000 hit END OF FILE); missing.txt did not; every row
 * replays with its recorded status. */
static void replay_infers_namespace_and_matches_every_row(void **state)
{
    (void)state;
    struct fltsim_replay_report r;
    char error[512] = "";
    NTSTATUS s = replay(basic_capture, NULL, &r, error, sizeof(error));
    assert_status(s, STATUS_SUCCESS);
    assert_int_equal(r.rows, 11);
    assert_int_equal(r.fs_rows, 10);
    assert_int_equal(r.replayed, 7);
    assert_int_equal(r.matched, 7);
    assert_int_equal(r.divergence_count, 0);
    assert_int_equal(r.namespace_files, 1);
    assert_int_equal(r.namespace_dirs, 1);
    assert_int_equal(r.implied_opens, 0);
    assert_int_equal(r.skipped, 4);
    assert_int_equal(skip_count(&r, "not a file-system event: Registry"), 1);
    assert_int_equal(skip_count(&r, "no result"), 1);
    assert_int_equal(skip_count(&r, "not on a drive letter"), 1);
    assert_int_equal(skip_count(&r, "operation ProcMon could not name"), 1);
    fltsim_replay_report_free(&r);
}

/* A row whose status differs is a divergence, grouped by operation and
 * status pair, with the row as example. The second create says the file
 * exists, but the first evidence (NAME NOT FOUND) decided it did not. */
static void replay_groups_divergences_with_examples(void **state)
{
    (void)state;
    static const char text[] =
        HEADER
        ROW("100", "CreateFile", "C:\\x.txt", "NAME NOT FOUND", OPEN_READ, "7", FS)
        ROW("100", "CreateFile", "C:\\x.txt", "SUCCESS", OPEN_READ ", OpenResult: Opened", "7", FS)
        ROW("100", "CreateFile", "C:\\x.txt", "SUCCESS", OPEN_READ ", OpenResult: Opened", "7", FS);
    struct fltsim_replay_report r;
    char error[512] = "";
    assert_status(replay(text, NULL, &r, error, sizeof(error)), STATUS_SUCCESS);
    assert_int_equal(r.replayed, 3);
    assert_int_equal(r.matched, 1);
    assert_int_equal(r.divergence_count, 1);
    struct fltsim_replay_divergence *d = &r.divergences[0];
    assert_string_equal(d->operation, "CreateFile");
    assert_status(d->recorded, STATUS_SUCCESS);
    assert_status(d->simulated, STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(d->count, 2);
    assert_int_equal(d->example_count, 2);
    assert_int_equal(d->examples[0].index, 1);
    assert_int_equal(d->examples[0].line, 3);
    assert_string_equal(d->examples[0].path, "C:\\x.txt");
    fltsim_replay_report_free(&r);
}

/* Rows on a file the capture never opened get an implied open; a CloseFile
 * closes the handle of its own process only. */
static void replay_follows_handles_per_process(void **state)
{
    (void)state;
    static const char text[] =
        HEADER
        ROW("100", "CreateFile", "C:\\f.txt", "SUCCESS", OPEN_READ ", OpenResult: Opened", "7", FS)
        ROW("200", "ReadFile", "C:\\f.txt", "SUCCESS", "Offset: 0, Length: 10", "9", FS)
        ROW("200", "CloseFile", "C:\\f.txt", "SUCCESS", "", "9", FS)
        ROW("100", "ReadFile", "C:\\f.txt", "SUCCESS", "Offset: 0, Length: 10", "7", FS)
        ROW("100", "CloseFile", "C:\\f.txt", "SUCCESS", "", "7", FS);
    struct fltsim_replay_report r;
    char error[512] = "";
    assert_status(replay(text, NULL, &r, error, sizeof(error)), STATUS_SUCCESS);
    assert_int_equal(r.replayed, 5);
    assert_int_equal(r.matched, 5);
    assert_int_equal(r.implied_opens, 1); /* process 200's */
    fltsim_replay_report_free(&r);
}

/* A filter changes what the requestor gets: AccessBlocker denies names with
 * "secret", so the recorded SUCCESS diverges. */
static void replay_through_a_filter_shows_its_effect(void **state)
{
    (void)state;
    static const char text[] =
        HEADER
        ROW("100", "CreateFile", "C:\\secret.txt", "SUCCESS", OPEN_READ ", OpenResult: Opened", "7", FS)
        ROW("100", "CloseFile", "C:\\secret.txt", "SUCCESS", "", "7", FS);
    struct fltsim_replay_filter f = {.builtin = "accessblocker"};
    struct fltsim_replay_options o = {.filters = &f, .filter_count = 1};
    struct fltsim_replay_report r;
    char error[512] = "";
    assert_status(replay(text, &o, &r, error, sizeof(error)), STATUS_SUCCESS);
    /* The create is denied; the CloseFile then needs an implied open, which
     * the filter denies too: both rows diverge the same way. */
    assert_int_equal(r.divergence_count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_status(r.divergences[i].recorded, STATUS_SUCCESS);
        assert_status(r.divergences[i].simulated, STATUS_ACCESS_DENIED);
    }
    assert_int_equal(r.implied_opens, 1);
    assert_int_equal(r.reports, 0);
    fltsim_replay_report_free(&r);

    struct fltsim_replay_filter bad = {.builtin = "nosuchfilter"};
    o.filters = &bad;
    NTSTATUS s = replay(text, &o, &r, error, sizeof(error));
    assert_false(NT_SUCCESS(s));
    assert_non_null(strstr(error, "nosuchfilter"));
    fltsim_replay_report_free(&r);
}

/* A malformed capture stops the replay with the row in the message. */
static void replay_of_malformed_capture_names_the_row(void **state)
{
    (void)state;
    static const char text[] =
        HEADER
        ROW("100", "CreateFile", "C:\\f.txt", "SUCCESS", OPEN_READ ", OpenResult: Opened", "7", FS)
        "\"1:00:00 AM\",\"app.exe\",\"notanumber\",\"ReadFile\",\"C:\\f.txt\",\"SUCCESS\",\"\",\"7\",\"File System\"\r\n";
    struct fltsim_replay_report r;
    char error[512] = "";
    NTSTATUS s = replay(text, NULL, &r, error, sizeof(error));
    assert_status(s, STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(error, "row 2"));
    assert_non_null(strstr(error, "line 3"));
    fltsim_replay_report_free(&r);

    s = fltsim_replay_run("/nonexistent/capture.csv", NULL, &r, error, sizeof(error));
    assert_false(NT_SUCCESS(s));
    assert_non_null(strstr(error, "/nonexistent/capture.csv"));
    fltsim_replay_report_free(&r);
}

/* fltsim import: the scenario it writes loads and runs with every step's
 * status as the replay saw it. */
static void import_and_run(const char *capture)
{
    char cpath[64], spath[64];
    write_capture(capture, cpath);
    strcpy(spath, "/tmp/fltsim-import-XXXXXX");
    test_write_temp(spath, "");
    FILE *out = fopen(spath, "w");
    assert_non_null(out);
    struct fltsim_replay_options o = {.executor = test_executor, .import = out};
    struct fltsim_replay_report r;
    char error[512] = "";
    assert_status(fltsim_replay_run(cpath, &o, &r, error, sizeof(error)), STATUS_SUCCESS);
    assert_int_equal(fclose(out), 0);
    uint64_t replayed = r.replayed;
    fltsim_replay_report_free(&r);

    struct fltsim_scenario *sc = NULL;
    NTSTATUS s = fltsim_scenario_load(spath, &sc, error, sizeof(error));
    if (!NT_SUCCESS(s))
        fail_msg("%s", error);
    struct fltsim_scenario_run_options ro = {.override_executor = true,
                                             .executor = test_executor,
                                             .skip_golden = true};
    struct fltsim_scenario_result res;
    assert_status(fltsim_scenario_run(sc, &ro, &res), STATUS_SUCCESS);
    assert_false(res.error);
    assert_int_equal(res.expectations_failed, 0);
    assert_true(res.steps_run >= replayed);
    fltsim_scenario_free(sc);
    remove(cpath);
    remove(spath);
}



/* The operations beyond create/read/write: QueryOpen refused as fast I/O,
 * a fast write refused then its IRP, locks, section sync with NTFS's
 * statuses, an FSCTL, a security query whose buffer overflowed (the filter
 * at 385200 sees BUFFER OVERFLOW, the requestor BUFFER TOO SMALL), the
 * modified page writer's callbacks. Every row matches, and the import of the
 * capture replays with the requestor's statuses. */
static const char more_ops_capture[] =
    HEADER
    ROW("100", "QueryOpen", "C:\\f.txt", "FAST IO DISALLOWED", "", "7", FS)
    ROW("100", "CreateFile", "C:\\f.txt", "SUCCESS", OPEN_READ ", OpenResult: Opened", "7", FS)
    ROW("100", "CreateFileMapping", "C:\\f.txt", "FILE LOCKED WITH ONLY READERS", "SyncType: SyncTypeCreateSection, PageProtection: PAGE_READONLY", "7", FS)
    ROW("100", "FASTIO_RELEASE_FOR_SECTION_SYNCHRONIZATION", "C:\\f.txt", "SUCCESS", "", "7", FS)
    ROW("100", "LockFile", "C:\\f.txt", "SUCCESS", "Exclusive: False, Offset: 123, Length: 1, Fail Immediately: True", "7", FS)
    ROW("100", "UnlockFileSingle", "C:\\f.txt", "SUCCESS", "Offset: 123, Length: 1", "7", FS)
    ROW("100", "UnlockFileSingle", "C:\\f.txt", "RANGE NOT LOCKED", "Offset: 123, Length: 1", "7", FS)
    ROW("100", "FileSystemControl", "C:\\f.txt", "NOT REPARSE POINT", "Control: FSCTL_GET_REPARSE_POINT", "7", FS)
    ROW("100", "QuerySecurityFile", "C:\\f.txt", "BUFFER OVERFLOW", "Information: Owner, Group, DACL", "7", FS)
    ROW("100", "QuerySecurityFile", "C:\\f.txt", "SUCCESS", "Information: Owner, Group, DACL", "7", FS)
    ROW("100", "CloseFile", "C:\\f.txt", "SUCCESS", "", "7", FS)
    ROW("4", "WriteFile", "C:\\log.txt", "FAST IO DISALLOWED", "Offset: 0, Length: 10", "8", FS)
    ROW("4", "FASTIO_ACQUIRE_FOR_MOD_WRITE", "C:\\log.txt", "SUCCESS", "EndingOffset: 4,096", "8", FS)
    ROW("4", "FASTIO_RELEASE_FOR_MOD_WRITE", "C:\\log.txt", "SUCCESS", "", "8", FS)
    ROW("4", "FASTIO_ACQUIRE_FOR_CC_FLUSH", "C:\\log.txt", "SUCCESS", "", "8", FS)
    ROW("4", "FASTIO_RELEASE_FOR_CC_FLUSH", "C:\\log.txt", "SUCCESS", "", "8", FS)
    ROW("4", "QueryInformationVolume", "C:", "SUCCESS", "", "8", FS);

static void replay_issues_fast_io_locks_controls_and_fs_filter_callbacks(void **state)
{
    (void)state;
    struct fltsim_replay_report r;
    char error[512] = "";
    assert_status(replay(more_ops_capture, NULL, &r, error, sizeof(error)), STATUS_SUCCESS);
    for (size_t i = 0; i < r.divergence_count; i++) {
        char a[48], b[48];
        print_message("divergence %s: %s -> %s\n", r.divergences[i].operation,
                      fltsim_capture_status_name(r.divergences[i].recorded, a, sizeof(a)),
                      fltsim_capture_status_name(r.divergences[i].simulated, b, sizeof(b)));
    }
    assert_int_equal(r.fs_rows, 17);
    assert_int_equal(r.replayed, 17);
    assert_int_equal(r.matched, 17);
    assert_int_equal(r.reports, 0);
    fltsim_replay_report_free(&r);
}

static void import_writes_a_scenario_that_replays_identically(void **state)
{
    (void)state;
    import_and_run(basic_capture);
    import_and_run(more_ops_capture);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replay_infers_namespace_and_matches_every_row),
        cmocka_unit_test(replay_groups_divergences_with_examples),
        cmocka_unit_test(replay_follows_handles_per_process),
        cmocka_unit_test(replay_through_a_filter_shows_its_effect),
        cmocka_unit_test(replay_of_malformed_capture_names_the_row),
        cmocka_unit_test(import_writes_a_scenario_that_replays_identically),
        cmocka_unit_test(replay_issues_fast_io_locks_controls_and_fs_filter_callbacks),
    };
    return FLTSIM_RUN_SUITE("replay", tests);
}
