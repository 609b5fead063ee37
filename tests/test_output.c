/*
 * Output files written whole or not at all (sim/common/output.c, issue 16
 * item 1): a commit replaces the target in one rename and leaves no temporary
 * file; an abort or a failed write (a file-size limit, /dev/full) leaves the
 * target as it was and names the errno; a link stays a link and a file keeps
 * its mode; the same-file check sees links and hard links. The program's
 * side (refusals, exit statuses) is tests/cli/outputs.sh.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fltsim_test.h"

#include "common/output.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/fltsim-output-XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char p[512];
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
    return 0;
}

static void path_of(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void assert_file_holds(const char *path, const char *text)
{
    char buf[256] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_string_equal(buf, text);
}

/* How many names the directory holds: a temporary file left behind counts. */
static int entries(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void output_commit_replaces_the_whole_file_and_leaves_no_temp(void **state)
{
    (void)state;
    char target[128];
    path_of(target, sizeof(target), "trace.txt");
    write_file(target, "the old trace\n");
    struct fltsim__output out;
    assert_int_equal(fltsim__output_open(&out, target), 0);
    fputs("the new ", out.stream);
    /* Until the commit, the target is the old file. */
    assert_file_holds(target, "the old trace\n");
    assert_int_equal(entries(), 2);
    fputs("trace\n", out.stream);
    assert_int_equal(fltsim__output_commit(&out), 0);
    assert_null(out.stream);
    assert_file_holds(target, "the new trace\n");
    assert_int_equal(entries(), 1);
}

static void output_abort_leaves_the_target_as_it_was(void **state)
{
    (void)state;
    char target[128], fresh[128];
    path_of(target, sizeof(target), "golden.trace");
    path_of(fresh, sizeof(fresh), "never.trace");
    write_file(target, "kept\n");
    struct fltsim__output a, b;
    assert_int_equal(fltsim__output_open(&a, target), 0);
    assert_int_equal(fltsim__output_open(&b, fresh), 0);
    fputs("half of it", a.stream);
    fputs("half of it", b.stream);
    fltsim__output_abort(&a);
    fltsim__output_abort(&b);
    fltsim__output_abort(&b); /* a finished output is ignored */
    assert_file_holds(target, "kept\n");
    assert_int_equal(access(fresh, F_OK), -1);
    assert_int_equal(entries(), 1);
}

static void output_write_error_keeps_the_target_and_names_errno(void **state)
{
    (void)state;
    char target[128];
    path_of(target, sizeof(target), "import.yaml");
    write_file(target, "the earlier import\n");
    /* A file-size limit of 4 KiB, its signal ignored: writes fail with EFBIG. */
    struct rlimit old, small = {4096, 4096};
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_max = old.rlim_max;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    struct fltsim__output out;
    int opened = fltsim__output_open(&out, target);
    int err = opened;
    if (opened == 0) {
        for (int i = 0; i < 1000; i++)
            fputs("a line of the scenario, written again and again\n", out.stream);
        err = fltsim__output_commit(&out);
    }
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(opened, 0);
    assert_int_equal(err, EFBIG);
    assert_file_holds(target, "the earlier import\n");
    assert_int_equal(entries(), 1);
}

static void output_remove_temps_after_a_crash_leaves_targets_as_they_were(void **state)
{
    (void)state;
    char target[128], fresh[128];
    path_of(target, sizeof(target), "trace.txt");
    path_of(fresh, sizeof(fresh), "import.yaml");
    write_file(target, "the old trace\n");
    struct fltsim__output a, b;
    assert_int_equal(fltsim__output_open(&a, target), 0);
    assert_int_equal(fltsim__output_open(&b, fresh), 0);
    fputs("half a trace", a.stream);
    fflush(a.stream);
    assert_int_equal(entries(), 3);
    /* What a fatal signal's handler calls before the process ends. */
    fltsim__output_remove_temps();
    assert_int_equal(entries(), 1);
    assert_file_holds(target, "the old trace\n");
    fltsim__output_abort(&a);
    fltsim__output_abort(&b);
    assert_int_equal(entries(), 1);
}

static void output_device_is_written_in_place_and_reports_enospc(void **state)
{
    (void)state;
    struct stat st;
    if (stat("/dev/full", &st) != 0 || !S_ISCHR(st.st_mode))
        skip();
    struct fltsim__output out;
    assert_int_equal(fltsim__output_open(&out, "/dev/full"), 0);
    assert_null(out.temp);
    fputs("nowhere to go\n", out.stream);
    assert_int_equal(fltsim__output_commit(&out), ENOSPC);
    assert_int_equal(stat("/dev/full", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(fltsim__output_open(&out, "/dev/null"), 0);
    fputs("gone\n", out.stream);
    assert_int_equal(fltsim__output_commit(&out), 0);
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

static void output_directory_or_missing_directory_is_refused(void **state)
{
    (void)state;
    char missing[128];
    path_of(missing, sizeof(missing), "no/such/dir/trace.txt");
    struct fltsim__output out;
    assert_int_equal(fltsim__output_open(&out, dir), EISDIR);
    assert_null(out.stream);
    assert_int_equal(fltsim__output_open(&out, missing), ENOENT);
    assert_int_equal(entries(), 0);
}

static void output_through_a_link_keeps_the_link_and_the_mode(void **state)
{
    (void)state;
    char target[128], link[128], fresh[128];
    path_of(target, sizeof(target), "kept.txt");
    path_of(link, sizeof(link), "kept.link");
    path_of(fresh, sizeof(fresh), "fresh.txt");
    write_file(target, "old\n");
    assert_int_equal(chmod(target, 0640), 0);
    assert_int_equal(symlink("kept.txt", link), 0);
    struct fltsim__output out;
    assert_int_equal(fltsim__output_open(&out, link), 0);
    fputs("new\n", out.stream);
    assert_int_equal(fltsim__output_commit(&out), 0);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_file_holds(target, "new\n");
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    /* A new file gets what any new file gets: 0666 less the umask. */
    mode_t mask = umask(022);
    assert_int_equal(fltsim__output_open(&out, fresh), 0);
    assert_int_equal(fltsim__output_commit(&out), 0);
    umask(mask);
    assert_int_equal(stat(fresh, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(entries(), 3);
}

static void output_same_file_sees_links_hard_links_and_names(void **state)
{
    (void)state;
    char a[128], hard[128], soft[128], other[128], new1[128], new2[128];
    path_of(a, sizeof(a), "scenario.yaml");
    path_of(hard, sizeof(hard), "hard.yaml");
    path_of(soft, sizeof(soft), "soft.yaml");
    path_of(other, sizeof(other), "other.yaml");
    path_of(new1, sizeof(new1), "new.trace");
    snprintf(new2, sizeof(new2), "%s/./new.trace", dir);
    write_file(a, "scenario: a\n");
    write_file(other, "scenario: a\n"); /* the same content is not the same file */
    assert_int_equal(link(a, hard), 0);
    assert_int_equal(symlink(a, soft), 0);
    assert_true(fltsim__output_same_file(a, a));
    assert_true(fltsim__output_same_file(hard, a));
    assert_true(fltsim__output_same_file(soft, a));
    assert_false(fltsim__output_same_file(other, a));
    /* Neither exists: the same name in the same directory. */
    assert_true(fltsim__output_same_file(new1, new2));
    assert_false(fltsim__output_same_file(new1, a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(output_commit_replaces_the_whole_file_and_leaves_no_temp,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(output_abort_leaves_the_target_as_it_was, setup, teardown),
        cmocka_unit_test_setup_teardown(output_write_error_keeps_the_target_and_names_errno, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            output_remove_temps_after_a_crash_leaves_targets_as_they_were, setup, teardown),
        cmocka_unit_test_setup_teardown(output_device_is_written_in_place_and_reports_enospc, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(output_directory_or_missing_directory_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(output_through_a_link_keeps_the_link_and_the_mode, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(output_same_file_sees_links_hard_links_and_names, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
