/*
 * How scenarios fail (DESIGN decision 8): runs under both executors whose
 * expectations do not hold, whose filter breaks a verifier rule (strict and
 * report mode, disabled rules), whose golden trace is missing or differs,
 * or that cannot be carried out at all; and loading errors, among them the
 * malformed files of tests/scenarios/bad/, each of which must be refused
 * with the one error line its "# expect:" comment names. Scenarios that run
 * as they should are test_scenario.c.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fltsim_test.h"

#include <fltsim/scenario.h>

#include "scenario_fx.h"

/* ---- runs that fail ---- */

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

/* Runs that cannot be carried out say why and return the setup's status. */
static void scenario_setup_failures_are_errors(void **state)
{
    (void)state;
    struct outcome o;
    char error[512];
    struct fltsim_scenario *sc;
    const char *path;

    /* A file declared twice (a file larger than the capacity is refused
     * when the scenario loads: test_scenario_limits). */
    path = write_scenario("full.yaml", "scenario: twice\n"
                                       "volumes:\n"
                                       "  - drive: C\n"
                                       "    files:\n"
                                       "      - path: \\a.txt\n"
                                       "        data: abcdef\n"
                                       "      - path: \\A.TXT\n"
                                       "steps: [{note: never}]\n");
    assert_status(fltsim_scenario_load(path, &sc, error, sizeof(error)), STATUS_SUCCESS);
    char *logbuf = NULL;
    size_t logsize = 0;
    FILE *log = open_memstream(&logbuf, &logsize);
    struct fltsim_scenario_run_options options = {.log = log};
    struct fltsim_scenario_result result;
    assert_status(fltsim_scenario_run(sc, &options, &result), STATUS_OBJECT_NAME_COLLISION);
    assert_true(result.error);
    assert_int_equal(result.steps_run, 0);
    /* update_golden needs a golden file. */
    options.update_golden = true;
    assert_status(fltsim_scenario_run(sc, &options, &result), STATUS_INVALID_PARAMETER);
    assert_true(result.error);
    fclose(log);
    /* the message names the file's line in the scenario */
    assert_non_null(strstr(
        logbuf, "full.yaml:7:9: volume C: \\A.TXT cannot be added: STATUS_OBJECT_NAME_COLLISION"));
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
    assert_log_has(&o, "twice.yaml:5:5: volume D: cannot be mounted: STATUS_OBJECT_NAME_COLLISION");

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
        cmocka_unit_test(scenario_failed_expectations_fail_the_run),
        cmocka_unit_test(scenario_verifier_report_strict_fails_report_mode_passes),
        cmocka_unit_test(scenario_golden_trace_written_then_compared),
        cmocka_unit_test(scenario_setup_failures_are_errors),
    };
    const struct CMUnitTest loading[] = {
        cmocka_unit_test(load_missing_file_is_name_not_found),
        cmocka_unit_test(load_good_scenario_gives_title),
        cmocka_unit_test(load_malformed_scenarios_give_their_error_line),
        cmocka_unit_test(load_every_prefix_of_a_scenario_is_handled),
    };
    int failed = FLTSIM_RUN_SUITE("scenario errors", behaviour);
    failed += cmocka_run_group_tests_name("scenario loading", loading, NULL, NULL);
    failed += remove_tmpdir();
    return failed;
}
