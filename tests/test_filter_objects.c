/*
 * Minifilters built as shared objects that will not load (issue 15 item 6):
 * each is refused before anything of it runs, with every routine it lacks
 * named at once, by scenario loading (tests/scenarios/refused, each file's
 * "# expect:" lines), by a run whose object changed since it was loaded (no
 * filter loads), and by replay (before the capture is read). Files that are
 * no shared object for this machine (text, truncated, another class or
 * machine) are refused without a crash. The CLI's side, exit status 4, is
 * tests/scenarios/refused/check_refused.sh.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fltsim_test.h"

#include <fltsim/replay.h>
#include <fltsim/scenario.h>

#include "scenario_fx.h"
#include "trace_capture.h"

/* A sanitizer runtime with libc interceptors (ASan, TSan) links the
 * fixtures to its own memcpy and wcslen, unversioned, instead of glibc's. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define INTERCEPTED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define INTERCEPTED 1
#endif
#endif

/* error's lines against the patterns of want (fnmatch, one per line): as
 * many, each matching. Fails the case with both printed otherwise. */
static void assert_lines_match(const char *what, const char *error, char want[][1024],
                               size_t want_count)
{
    char copy[8192];
    snprintf(copy, sizeof(copy), "%s", error);
    size_t n = 0;
    bool ok = true;
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save), n++)
        if (n >= want_count || fnmatch(want[n], line, 0) != 0)
            ok = false;
    if (!ok || n != want_count) {
        print_error("%s: the error does not match; expected %zu lines:\n", what, want_count);
        for (size_t i = 0; i < want_count; i++)
            print_error("  %s\n", want[i]);
        fail_msg("actual:\n%s", error);
    }
}

/* ---- scenario loading ---- */

/* Every generated file of tests/scenarios/refused: the status its
 * "# status:" line names and exactly the lines of its "# expect:" lines
 * (the first after "FILE:"). */
static void refused_scenarios_name_everything_their_object_lacks(void **state)
{
    (void)state;
    DIR *d = opendir(FLTSIM_TEST_REFUSED_DIR);
    assert_non_null(d);
    int checked = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        char path[1024], line[2048], want[8][1024], status_name[128] = "";
        size_t want_count = 0;
        snprintf(path, sizeof(path), "%s/%s", FLTSIM_TEST_REFUSED_DIR, e->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL && line[0] == '#') {
            line[strcspn(line, "\n")] = '\0';
            if (strncmp(line, "# expect: ", 10) == 0 && want_count < 8) {
                /* The first line names the file. */
                bool first = want_count == 0;
                int n = snprintf(want[want_count], sizeof(want[0]), "%s%s%s", first ? path : "",
                                 first ? ":" : "", line + 10);
                assert_true(n > 0 && (size_t)n < sizeof(want[0]));
                want_count++;
            } else if (strncmp(line, "# status: ", 10) == 0) {
                int n = snprintf(status_name, sizeof(status_name), "%s", line + 10);
                assert_true(n > 0 && (size_t)n < sizeof(status_name));
            }
        }
        fclose(f);
        assert_true(want_count > 0 && status_name[0] != '\0');

        char error[8192];
        struct fltsim_scenario *sc = (void *)1;
        NTSTATUS st = fltsim_scenario_load(path, &sc, error, sizeof(error));
        assert_null(sc);
        if (strcmp(fltsim_ntstatus_name(st), status_name) != 0)
            fail_msg("%s: status %s, expected %s (%s)", path, fltsim_ntstatus_name(st), status_name,
                     error);
        assert_lines_match(path, error, want, want_count);
        checked++;
    }
    closedir(d);
    assert_true(checked >= 3);
}

/* Where it came from: glibc's wcslen is named with its library and version
 * (not under a sanitizer that intercepts it: see INTERCEPTED). */
static void libc_wide_routine_is_named_with_its_library(void **state)
{
    (void)state;
#if defined(INTERCEPTED)
    skip();
#else
    char error[8192];
    struct fltsim_scenario *sc;
    const char *path = FLTSIM_TEST_REFUSED_DIR "/libc_wcslen.yaml";
    assert_status(fltsim_scenario_load(path, &sc, error, sizeof(error)),
                  STATUS_DRIVER_ENTRYPOINT_NOT_FOUND);
    if (strstr(error, "\n  wcslen (libc.so.6 GLIBC_") == NULL)
        fail_msg("wcslen's library is not named: %s", error);
#endif
}

/* A caller's small buffer gets a terminated prefix of the same error. */
static void refused_object_error_fits_a_small_buffer(void **state)
{
    (void)state;
    char full[8192], small[40];
    struct fltsim_scenario *sc;
    const char *path = FLTSIM_TEST_REFUSED_DIR "/missing_routines.yaml";
    assert_status(fltsim_scenario_load(path, &sc, full, sizeof(full)),
                  STATUS_DRIVER_ENTRYPOINT_NOT_FOUND);
    memset(small, 'x', sizeof(small));
    assert_status(fltsim_scenario_load(path, &sc, small, sizeof(small)),
                  STATUS_DRIVER_ENTRYPOINT_NOT_FOUND);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, full, sizeof(small) - 1);
}

/* The good fixture still loads and runs, its DriverEntry found. */
static void good_object_loads_and_runs(void **state)
{
    (void)state;
    struct outcome o;
    run_text("good.yaml",
             "scenario: a good shared object\n"
             "volumes: [{drive: C, files: [{path: \\a.txt, data: abc}]}]\n"
             "filters: [{name: Held, object: @HOLD@, altitude: 100000}]\n"
             "steps:\n"
             "  - {op: open, path: C:\\a.txt, handle: h}\n"
             "  - {op: close, handle: h}\n",
             &o);
    assert_run_ok(&o);
    assert_int_equal(o.result.steps_run, 2);
}

/* A routine may come from a library the object names: found through its
 * runpath ($ORIGIN) beside the library, the library and the routine named
 * when the object is copied away from it, found again with the library
 * copied beside it. */
static void object_routine_from_its_own_library(void **state)
{
    (void)state;
    char text[1024], error[8192];
    snprintf(text, sizeof(text),
             "scenario: a filter using a library of its own\n"
             "volumes: [{drive: C}]\n"
             "filters: [{name: Needs, object: %s, altitude: 100000}]\n"
             "steps: [{note: hi}]\n",
             FLTSIM_TEST_NEEDS_HELPER_SO);
    struct outcome o;
    run_text("needs.yaml", text, &o);
    assert_run_ok(&o);

    char dir[600], cmd[1400];
    snprintf(dir, sizeof(dir), "%s/alone", tmpdir);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp '%s' '%s/needs.so'", dir,
             FLTSIM_TEST_NEEDS_HELPER_SO, dir);
    assert_int_equal(system(cmd), 0);
    const char *path = write_scenario("alone.yaml", "scenario: alone\n"
                                                    "volumes: [{drive: C}]\n"
                                                    "filters:\n"
                                                    "  - name: Needs\n"
                                                    "    object: alone/needs.so\n"
                                                    "    altitude: 100000\n"
                                                    "steps: [{note: hi}]\n");
    struct fltsim_scenario *sc;
    assert_status(fltsim_scenario_load(path, &sc, error, sizeof(error)),
                  STATUS_DRIVER_ENTRYPOINT_NOT_FOUND);
    const char *library = strrchr(FLTSIM_TEST_HELPER_SO, '/') + 1;
    char want[3][1024];
    snprintf(want[0], sizeof(want[0]),
             "%s:5:13: shared object 'alone/needs.so' cannot be loaded: it needs 1 library that "
             "cannot be opened and 1 routine that fltsim does not provide:",
             path);
    snprintf(want[1], sizeof(want[1]),
             "  %s (a library it needs): cannot open shared object file: No such file or "
             "directory",
             library);
    snprintf(want[2], sizeof(want[2]), "  fltsim_fixture_helper_add");
    assert_lines_match("alone.yaml", error, want, 3);

    snprintf(cmd, sizeof(cmd), "cp '%s' '%s/'", FLTSIM_TEST_HELPER_SO, dir);
    assert_int_equal(system(cmd), 0);
    assert_status(fltsim_scenario_load(path, &sc, error, sizeof(error)), STATUS_SUCCESS);
    fltsim_scenario_free(sc);
}

/* cp from to: a new file (rename over the old one, which a loader may still
 * map) with from's bytes. */
static void copy_file(const char *from, const char *to)
{
    char tmp[600], cmd[1400];
    snprintf(tmp, sizeof(tmp), "%s.new", to);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, tmp);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(rename(tmp, to), 0);
}

static NTSTATUS run_traced(struct fltsim_scenario *sc, struct capture *trace, char **log)
{
    size_t size = 0;
    FILE *out = open_memstream(log, &size);
    assert_non_null(out);
    capture_open(trace, FLTSIM_TRACE_TEXT, 0);
    struct fltsim_trace_tee tee = {{trace->sink}};
    struct fltsim_scenario_run_options options = {
        .override_executor = true, .executor = test_executor, .trace = &tee, .log = out};
    struct fltsim_scenario_result result;
    NTSTATUS status = fltsim_scenario_run(sc, &options, &result);
    fclose(out);
    if (!NT_SUCCESS(status))
        assert_true(result.error);
    return status;
}

/* The object a scenario names is checked again when it runs, and every
 * object opens before any filter loads: PassThrough (a builtin listed
 * first) is never loaded when the object after it is refused. */
static void object_changed_since_load_is_refused_before_any_filter_loads(void **state)
{
    (void)state;
    char so[600], error[512];
    const char *path =
        write_scenario("swap.yaml", "scenario: an object that changes\n"
                                    "volumes: [{drive: C}]\n"
                                    "filters:\n"
                                    "  - {name: PassThrough, builtin: passthrough}\n"
                                    "  - {name: Swap, object: swap.so, altitude: 100000}\n"
                                    "steps: [{note: hi}]\n");
    snprintf(so, sizeof(so), "%s/swap.so", tmpdir);
    copy_file(FLTSIM_TEST_HOLD_READS_SO, so);
    struct fltsim_scenario *sc;
    assert_status(fltsim_scenario_load(path, &sc, error, sizeof(error)), STATUS_SUCCESS);

    /* As loaded, both filters load (the trace shows PassThrough's setup). */
    struct capture trace;
    char *log = NULL;
    assert_status(run_traced(sc, &trace, &log), STATUS_SUCCESS);
    assert_non_null(strstr(capture_text(&trace), "PassThrough"));
    capture_close(&trace);
    free(log);

    copy_file(FLTSIM_TEST_MISSING_ROUTINES_SO, so);
    log = NULL;
    assert_status(run_traced(sc, &trace, &log), STATUS_DRIVER_ENTRYPOINT_NOT_FOUND);
    char want[2048];
    int n = snprintf(want, sizeof(want),
                     "%s: filter 'Swap': shared object '%s' cannot be loaded: it needs 2 routines "
                     "that fltsim does not provide:\n"
                     "  FltFixtureOtherRoutineFltsimLacks\n"
                     "  FltFixtureRoutineFltsimLacks\n",
                     path, so);
    assert_true(n > 0 && (size_t)n < sizeof(want));
    assert_string_equal(log, want);
    if (strstr(capture_text(&trace), "PassThrough") != NULL)
        fail_msg("a filter loaded before the refusal:\n%s", capture_text(&trace));
    capture_close(&trace);
    free(log);
    fltsim_scenario_free(sc);
}

/* ---- replay ---- */

/* The objects open before the capture is read (it does not even exist
 * here), a good one first: the refused one is named with all it lacks. */
static void replay_refuses_an_object_before_reading_the_capture(void **state)
{
    (void)state;
    const struct fltsim_replay_filter filters[] = {
        {.object = FLTSIM_TEST_HOLD_READS_SO, .altitude = "100000"},
        {.object = FLTSIM_TEST_MISSING_ROUTINES_SO, .altitude = "200000"},
    };
    struct fltsim_replay_options options = {.filters = filters, .filter_count = 2};
    struct fltsim_replay_report report;
    char error[8192];
    assert_status(
        fltsim_replay_run("/nonexistent/capture.csv", &options, &report, error, sizeof(error)),
        STATUS_DRIVER_ENTRYPOINT_NOT_FOUND);
    assert_string_equal(error, "shared object '" FLTSIM_TEST_MISSING_ROUTINES_SO
                               "' cannot be loaded: it needs 2 routines that fltsim does not "
                               "provide:\n"
                               "  FltFixtureOtherRoutineFltsimLacks\n"
                               "  FltFixtureRoutineFltsimLacks");
    assert_true(report.rows == 0);
    fltsim_replay_report_free(&report);
}

/* ---- files that are no shared object ---- */

/* Writes data into tmpdir/name.so and loads a scenario naming it; returns
 * the status, error holding the message. */
static NTSTATUS load_object_bytes(const void *data, size_t size, char *error, size_t error_size)
{
    const char *path =
        write_scenario("bytes.yaml", "scenario: bytes\n"
                                     "volumes: [{drive: C}]\n"
                                     "filters: [{name: Bytes, object: bytes.so, altitude: 1}]\n"
                                     "steps: [{note: never}]\n");
    char so[600];
    snprintf(so, sizeof(so), "%s/bytes.so", tmpdir); /* beside it */
    FILE *f = fopen(so, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
    struct fltsim_scenario *sc = (void *)1;
    NTSTATUS st = fltsim_scenario_load(path, &sc, error, error_size);
    if (NT_SUCCESS(st))
        fltsim_scenario_free(sc);
    else
        assert_null(sc);
    return st;
}

static unsigned char *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > (long)sizeof(Elf64_Ehdr));
    rewind(f);
    unsigned char *data = malloc((size_t)n);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return data;
}

static void assert_refused_as(const void *data, size_t size, const char *what)
{
    char error[1024];
    NTSTATUS st = load_object_bytes(data, size, error, sizeof(error));
    if (st != STATUS_INVALID_IMAGE_FORMAT || strstr(error, what) == NULL)
        fail_msg("%zu bytes: %s (%s); expected STATUS_INVALID_IMAGE_FORMAT and \"%s\"", size,
                 fltsim_ntstatus_name(st), error, what);
}

/* A routine the process has in another version than the object needs:
 * a copy of missing_routines whose glibc versions (memcpy's) read
 * GLIBC_9.x (not under a sanitizer that intercepts memcpy). */
static void routine_in_another_version_is_named(void **state)
{
    (void)state;
#if defined(INTERCEPTED)
    skip();
#else
    size_t size;
    unsigned char *data = read_whole(FLTSIM_TEST_MISSING_ROUTINES_SO, &size);
    int patched = 0;
    for (size_t i = 0; i + 8 <= size; i++)
        if (memcmp(data + i, "GLIBC_2.", 8) == 0) {
            data[i + 6] = '9';
            patched++;
        }
    assert_true(patched > 0);
    char error[8192], want[4][1024];
    assert_status(load_object_bytes(data, size, error, sizeof(error)),
                  STATUS_DRIVER_ENTRYPOINT_NOT_FOUND);
    snprintf(want[0], sizeof(want[0]),
             "%s/bytes.yaml:3:33: shared object 'bytes.so' cannot be loaded: it needs 3 routines "
             "that fltsim does not provide:",
             tmpdir);
    snprintf(want[1], sizeof(want[1]), "  FltFixtureOtherRoutineFltsimLacks");
    snprintf(want[2], sizeof(want[2]), "  FltFixtureRoutineFltsimLacks");
    snprintf(want[3], sizeof(want[3]),
             "  memcpy (libc.so.6 GLIBC_9.*): this process has it in another version only "
             "(built against a newer library?)");
    assert_lines_match("bytes.so", error, want, 4);
    free(data);
#endif
}

static void non_objects_are_refused_without_a_crash(void **state)
{
    (void)state;
    assert_refused_as("", 0, "cannot be loaded: it is not an ELF file");
    assert_refused_as("scenario: not an object\n", 24, "it is not an ELF file");

    size_t size;
    unsigned char *good = read_whole(FLTSIM_TEST_HOLD_READS_SO, &size);
    unsigned char *bad = malloc(size);
    assert_non_null(bad);
    char error[1024];
    assert_status(load_object_bytes(good, size, error, sizeof(error)), STATUS_SUCCESS);

    /* Every prefix (a truncated copy): refused, never mapped past its end. */
    for (size_t n = 0; n < size; n += n < 256 ? 1 : 61)
        assert_refused_as(good, n, "cannot be loaded: it");

    /* Headers of another kind of file. */
    Elf64_Ehdr eh;
    memcpy(&eh, good, sizeof(eh));
    const struct {
        size_t offset, width;
        uint64_t value;
        const char *what;
    } edits[] = {
        {EI_CLASS, 1, ELFCLASS32, "it is a 32-bit ELF object and this fltsim is 64-bit"},
        {EI_DATA, 1, ELFDATA2MSB, "its byte order is not this machine's"},
        {offsetof(Elf64_Ehdr, e_machine), 2, EM_AARCH64 + EM_X86_64 - eh.e_machine,
         "it is built for another machine"},
        {offsetof(Elf64_Ehdr, e_type), 2, ET_REL, "it is not a shared object (ELF type 1)"},
        {offsetof(Elf64_Ehdr, e_shoff), 8, (uint64_t)size, "section headers are truncated"},
        {offsetof(Elf64_Ehdr, e_shentsize), 2, 12, "section headers are truncated or corrupt"},
        {offsetof(Elf64_Ehdr, e_phoff), 8, (uint64_t)size - 8, "program headers are truncated"},
        {offsetof(Elf64_Ehdr, e_shnum), 2, 0xFFFF, "section headers are truncated"},
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        memcpy(bad, good, size);
        uint64_t v = edits[i].value;
        memcpy(bad + edits[i].offset, &v, edits[i].width); /* little-endian host */
        assert_refused_as(bad, size, edits[i].what);
    }
    free(bad);
    free(good);
}

int main(void)
{
    const struct CMUnitTest loading[] = {
        cmocka_unit_test(refused_scenarios_name_everything_their_object_lacks),
        cmocka_unit_test(libc_wide_routine_is_named_with_its_library),
        cmocka_unit_test(refused_object_error_fits_a_small_buffer),
        cmocka_unit_test(routine_in_another_version_is_named),
        cmocka_unit_test(non_objects_are_refused_without_a_crash),
        cmocka_unit_test(object_routine_from_its_own_library),
        cmocka_unit_test(replay_refuses_an_object_before_reading_the_capture),
    };
    const struct CMUnitTest running[] = {
        cmocka_unit_test(good_object_loads_and_runs),
        cmocka_unit_test(object_changed_since_load_is_refused_before_any_filter_loads),
    };
    int failed = cmocka_run_group_tests_name("filter objects: loading", loading, NULL, NULL);
    failed += FLTSIM_RUN_SUITE("filter objects: running", running);
    failed += remove_tmpdir();
    return failed;
}
