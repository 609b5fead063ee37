/*
 * What a scenario file may cost and what it may ask of a volume (issue 16):
 * nesting deeper than 64 levels is refused while the file is parsed (100,000
 * levels took libyaml a minute), a golden trace that is not a regular file or
 * is larger than 64 MiB is refused at load with its line and never read past
 * the limit at run time, and volume files that no volume could hold (. or ..
 * components, names over 255 and paths over 32,767 characters, more data
 * than the capacity) are refused at load with their line, not at run time.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario_fx.h"

/* Loads text as NAME: the load must fail with STATUS_INVALID_PARAMETER and
 * the error "PATH:" + expected. */
static void expect_load_error(const char *name, const char *text, const char *expected)
{
    char error[1024];
    struct fltsim_scenario *sc = (void *)1;
    const char *path = write_scenario(name, text);
    char want[1200];
    snprintf(want, sizeof(want), "%s:%s", path, expected);
    assert_status(fltsim_scenario_load(path, &sc, error, sizeof(error)), STATUS_INVALID_PARAMETER);
    assert_null(sc);
    assert_string_equal(error, want);
}

static void deep_nesting_is_refused_at_the_limit(void **state)
{
    (void)state;
    /* 100,000 nested flow lists: refused at the 65th level, at once */
    enum { DEPTH = 100000 };
    static const char head[] = "scenario: deep\nvolumes: [{drive: C}]\nsteps: ";
    char *text = malloc(sizeof(head) + 2 * DEPTH + 2);
    assert_non_null(text);
    memcpy(text, head, sizeof(head) - 1);
    memset(text + sizeof(head) - 1, '[', DEPTH);
    memset(text + sizeof(head) - 1 + DEPTH, ']', DEPTH);
    memcpy(text + sizeof(head) - 1 + 2 * DEPTH, "\n", 2);
    expect_load_error("deep_flow.yaml", text,
                      "3:71: a list nested 65 levels deep; expected at most 64 levels (a "
                      "scenario needs a few)");
    free(text);

    /* block mappings, one level per line */
    char *block = malloc(200 * 210 + 100), *p = block;
    assert_non_null(block);
    p += sprintf(p, "scenario: deep\nvolumes: [{drive: C}]\nsteps:\n");
    for (int i = 0; i < 200; i++)
        p += sprintf(p, "%*sk%d:\n", i, "", i);
    expect_load_error("deep_block.yaml", block,
                      "68:65: a mapping nested 65 levels deep; expected at most 64 levels (a "
                      "scenario needs a few)");
    free(block);

    /* 64 levels are within the limit: the schema, not the depth, refuses it */
    char error[512];
    struct fltsim_scenario *sc;
    char ok[400];
    snprintf(ok, sizeof(ok), "scenario: deep\nvolumes: [{drive: C}]\nsteps: %.63s%.63s\n",
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    assert_status(
        fltsim_scenario_load(write_scenario("deep_ok.yaml", ok), &sc, error, sizeof(error)),
        STATUS_INVALID_PARAMETER);
    assert_null(strstr(error, "nested"));
}

#define GOLDEN_SCENARIO(golden)                                                                    \
    "scenario: golden\n"                                                                           \
    "golden: " golden "\n"                                                                         \
    "volumes: [{drive: C}]\n"                                                                      \
    "steps: [{note: one}]\n"

static void golden_that_is_no_regular_file_or_too_large_is_refused(void **state)
{
    (void)state;
    expect_load_error("zero.yaml", GOLDEN_SCENARIO("/dev/zero"),
                      "2:9: golden trace '/dev/zero' is a device, not a regular file; expected a "
                      "file that --update-golden writes");
    char dir[600];
    write_scenario("x", "");
    snprintf(dir, sizeof(dir), "%s/dir.golden", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    expect_load_error("dir.yaml", GOLDEN_SCENARIO("dir.golden"),
                      "2:9: golden trace 'dir.golden' is a directory, not a regular file; "
                      "expected a file that --update-golden writes");
    rmdir(dir);
    /* 64 MiB + 1 (sparse: no disk is used) */
    char big[600];
    snprintf(big, sizeof(big), "%s/big.golden", tmpdir);
    int fd = open(big, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (64 << 20) + 1), 0);
    close(fd);
    expect_load_error("big.yaml", GOLDEN_SCENARIO("big.golden"),
                      "2:9: golden trace 'big.golden' is 67108865 bytes; expected at most 64 MiB "
                      "(a scenario's golden trace takes a few KiB)");

    /* A golden file that grows past the limit after the load: the run stops
     * reading at the limit and is an error naming it. */
    if (test_executor != FLTSIM_EXECUTOR_DETERMINISTIC) {
        unlink(big);
        return;
    }
    assert_int_equal(truncate(big, 10), 0);
    char error[512];
    struct fltsim_scenario *sc;
    const char *path = write_scenario("grows.yaml", GOLDEN_SCENARIO("big.golden"));
    assert_status(fltsim_scenario_load(path, &sc, error, sizeof(error)), STATUS_SUCCESS);
    assert_int_equal(truncate(big, 80 << 20), 0);
    char *logbuf = NULL;
    size_t logsize = 0;
    FILE *log = open_memstream(&logbuf, &logsize);
    struct fltsim_scenario_run_options options = {.log = log};
    struct fltsim_scenario_result result;
    assert_status(fltsim_scenario_run(sc, &options, &result), STATUS_UNSUCCESSFUL);
    assert_true(result.error);
    fclose(log);
    char want[1400];
    snprintf(want, sizeof(want), "%s: golden trace %s is larger than 64 MiB", path, big);
    if (strstr(logbuf, want) == NULL)
        fail_msg("log lacks \"%s\":\n%s", want, logbuf);
    free(logbuf);
    fltsim_scenario_free(sc);
    unlink(big);
}

#define VOLUME_FILE(path)                                                                          \
    "scenario: volume files\n"                                                                     \
    "volumes:\n"                                                                                   \
    "  - drive: C\n"                                                                               \
    "    files:\n"                                                                                 \
    "      - path: " path "\n"                                                                     \
    "steps: [{note: one}]\n"

static void volume_files_no_volume_could_hold_are_refused_at_load(void **state)
{
    (void)state;
    expect_load_error("dotdot.yaml", VOLUME_FILE("\\docs\\..\\a.txt"),
                      "5:15: path '\\docs\\..\\a.txt' has a '..' component; expected a path "
                      "from the volume root without . or ..");
    expect_load_error("dot.yaml", VOLUME_FILE("\\.\\a.txt"),
                      "5:15: path '\\.\\a.txt' has a '.' component; expected a path from the "
                      "volume root without . or ..");
    expect_load_error("empty.yaml", VOLUME_FILE("\\docs\\\\a.txt"),
                      "5:15: path '\\docs\\\\a.txt' has an empty name (two backslashes in a row "
                      "or a trailing one); expected names between single backslashes");
    expect_load_error("star.yaml", VOLUME_FILE("\\a*.txt"),
                      "5:15: path '\\a*.txt' has a character a file name cannot hold (U+002A); "
                      "expected none of < > : \" / | ? * or control characters");

    /* a name of 256 characters, then a path of 32,766 + the drive */
    char text[40000];
    char name[300];
    memset(name, 'n', 256);
    name[256] = '\0';
    snprintf(text, sizeof(text), VOLUME_FILE("\\%s"), name);
    expect_load_error("long_name.yaml", text,
                      "5:15: path '...' has a name of 256 characters; expected at most 255 (the "
                      "longest name NTFS stores)");
    char *p = text + sprintf(text, "scenario: long path\nvolumes:\n  - drive: C\n    files:\n"
                                   "      - path: ");
    for (int i = 0; i < 163; i++) /* 163 * 201 = 32,763 */
        p += sprintf(p, "\\%.200s", name);
    p += sprintf(p, "\\abc\nsteps: [{note: one}]\n"); /* + 4 = 32,767 */
    expect_load_error("long_path.yaml", text,
                      "5:15: path is 32769 characters long with its drive; expected at most 32767 "
                      "(the longest path Windows accepts)");

    /* more data than the capacity: refused at the file that does not fit */
    expect_load_error("capacity.yaml",
                      "scenario: full\n"
                      "volumes:\n"
                      "  - drive: C\n"
                      "    capacity: 8\n"
                      "    files:\n"
                      "      - {path: \\a.txt, data: abcdef}\n"
                      "      - {dir: \\docs}\n"
                      "      - {path: \\docs\\b.txt, data: abc}\n"
                      "steps: [{note: never}]\n",
                      "8:16: \\docs\\b.txt holds 3 bytes, more than the 2 bytes left of the "
                      "volume's capacity (8); expected a larger capacity or smaller files");

    /* what the limits allow loads: a directory with a trailing backslash,
     * a name of 255, data that fills the capacity exactly */
    name[255] = '\0';
    snprintf(text, sizeof(text),
             "scenario: fits\n"
             "volumes:\n"
             "  - drive: C\n"
             "    capacity: 6\n"
             "    files:\n"
             "      - {dir: \\docs\\}\n"
             "      - {path: \\docs\\%s, data: abcdef}\n"
             "steps: [{op: open, path: 'C:\\docs\\%s', handle: h},\n"
             "        {op: read, handle: h, length: 6, expect: {data: abcdef}}]\n",
             name, name);
    struct outcome o;
    run_text("fits.yaml", text, &o);
    assert_run_ok(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deep_nesting_is_refused_at_the_limit),
        cmocka_unit_test(golden_that_is_no_regular_file_or_too_large_is_refused),
        cmocka_unit_test(volume_files_no_volume_could_hold_are_refused_at_load),
    };
    int failed = FLTSIM_RUN_SUITE("scenario limits", tests);
    return failed + remove_tmpdir();
}
