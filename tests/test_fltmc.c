/*
 * The fltmc view (issue 19 item 4): fltsim_fltmc and fltsim_fltmc_write
 * print `fltmc filters`, `fltmc instances` and `fltmc volumes` of a known
 * system, compared as exact text laid out in the Windows tool's columns;
 * detached instances and a filter without any leave the counts; bad
 * arguments and a failing stream. Test filters: Alpha (385250.5), Beta
 * (40500), Gamma (300000, no automatic attachment).
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

struct fixture {
    struct test_world w; /* C: = \Device\HarddiskVolume1, NTFS */
    PFLT_VOLUME d;       /* D: = \Device\HarddiskVolume2, FAT */
    PFLT_VOLUME mup;     /* \Device\Mup, no letter (only in the second case) */
    struct tf_filter alpha, beta, gamma;
};

static PFLT_VOLUME mount(struct fixture *f, PCWSTR name, WCHAR letter, FLT_FILESYSTEM_TYPE type)
{
    struct fltsim_memfs *fs;
    assert_status(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = name,
                                      .drive_letter = letter,
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = type};
    PFLT_VOLUME v = NULL;
    assert_status(fltsim_volume_mount(f->w.sys, &vp, &v), STATUS_SUCCESS);
    return v;
}

static int setup(void **state)
{
    tf_reset_all();
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    f->d = mount(f, L"\\Device\\HarddiskVolume2", L'D', FLT_FSTYPE_FAT);
    tf_init(&f->alpha, "Alpha", "385250.5");
    tf_init(&f->beta, "Beta", "40500");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    return 0;
}

/* Collects the lines into one text, each ended with "\n". */
struct text {
    char buf[4096];
    size_t len;
    int lines;
};

static void collect(void *ctx, const char *line)
{
    struct text *t = ctx;
    int n = snprintf(t->buf + t->len, sizeof(t->buf) - t->len, "%s\n", line);
    assert_true(n >= 0 && (size_t)n < sizeof(t->buf) - t->len);
    t->len += (size_t)n;
    t->lines++;
}

static void assert_view(fltsim_system *sys, enum fltsim_fltmc_view view, const char *expected)
{
    struct text t = {.len = 0};
    assert_status(fltsim_fltmc(sys, view, collect, &t), STATUS_SUCCESS);
    if (strcmp(t.buf, expected) != 0)
        fail_msg("view %d:\n%s\nexpected:\n%s", (int)view, t.buf, expected);
}

#define FILTERS_HEAD                                                                               \
    "\n"                                                                                           \
    "Filter Name                     Num Instances    Altitude    Frame\n"                         \
    "------------------------------  -------------  ------------  -----\n"
#define INSTANCES_HEAD                                                                             \
    "\n"                                                                                           \
    "Filter                Volume Name                              Altitude        "              \
    "Instance Name       Frame\n"                                                                  \
    "--------------------  -------------------------------------  ------------  "                  \
    "----------------------  -----\n"
#define VOLUMES_HEAD                                                                               \
    "\n"                                                                                           \
    "Dos Name                        Volume Name                              FileSystem   "       \
    "Status\n"                                                                                     \
    "------------------------------  ---------------------------------------  ----------  "        \
    "--------\n"

static void fltmc_two_filters_two_volumes_prints_the_tables(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    /* Before any filter: empty tables under their headers. */
    assert_view(sys, FLTSIM_FLTMC_FILTERS, FILTERS_HEAD);
    assert_view(sys, FLTSIM_FLTMC_INSTANCES, INSTANCES_HEAD);

    /* Beta is loaded first: the filters table is in altitude order. */
    assert_status(tf_load(sys, &f->beta), STATUS_SUCCESS);
    assert_status(tf_load(sys, &f->alpha), STATUS_SUCCESS);
    assert_view(sys, FLTSIM_FLTMC_FILTERS,
                FILTERS_HEAD "Alpha                                   2       385250.5       0\n"
                             "Beta                                    2        40500         0\n");
    assert_view(sys, FLTSIM_FLTMC_INSTANCES,
                INSTANCES_HEAD "Alpha                 C:                                        "
                               "385250.5   Alpha Instance            0\n"
                               "Alpha                 D:                                        "
                               "385250.5   Alpha Instance            0\n"
                               "Beta                  C:                                         "
                               "40500     Beta Instance             0\n"
                               "Beta                  D:                                         "
                               "40500     Beta Instance             0\n");
    assert_view(sys, FLTSIM_FLTMC_VOLUMES,
                VOLUMES_HEAD "C:                              \\Device\\HarddiskVolume1          "
                             "        NTFS\n"
                             "D:                              \\Device\\HarddiskVolume2          "
                             "        FAT\n");
    assert_int_equal(fltsim_system_report_count(sys), 0);
}

static void fltmc_detach_and_unattached_filter_change_the_counts(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    f->mup = mount(f, L"\\Device\\Mup", 0, FLT_FSTYPE_LANMAN);
    tf_init(&f->gamma, "Gamma", "300000");
    f->gamma.instance_flags = FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC;
    assert_status(tf_load(sys, &f->alpha), STATUS_SUCCESS);
    assert_status(tf_load(sys, &f->beta), STATUS_SUCCESS);
    assert_status(tf_load(sys, &f->gamma), STATUS_SUCCESS);
    UNICODE_STRING a = ustr(L"Alpha Instance"), b = ustr(L"Beta Instance");
    assert_status(FltDetachVolume(f->alpha.filter, f->mup, &a), STATUS_SUCCESS);
    assert_status(FltDetachVolume(f->beta.filter, f->d, &b), STATUS_SUCCESS);

    assert_view(sys, FLTSIM_FLTMC_FILTERS,
                FILTERS_HEAD "Alpha                                   2       385250.5       0\n"
                             "Gamma                                   0       300000         0\n"
                             "Beta                                    2        40500         0\n");
    assert_view(sys, FLTSIM_FLTMC_INSTANCES,
                INSTANCES_HEAD "Alpha                 C:                                        "
                               "385250.5   Alpha Instance            0\n"
                               "Alpha                 D:                                        "
                               "385250.5   Alpha Instance            0\n"
                               "Beta                  C:                                         "
                               "40500     Beta Instance             0\n"
                               "Beta                  \\Device\\Mup                                "
                               "40500     Beta Instance             0\n");
    assert_view(sys, FLTSIM_FLTMC_VOLUMES,
                VOLUMES_HEAD "C:                              \\Device\\HarddiskVolume1          "
                             "        NTFS\n"
                             "D:                              \\Device\\HarddiskVolume2          "
                             "        FAT\n"
                             "                                \\Device\\Mup                      "
                             "        Remote\n");

    /* An unloaded filter leaves the tables. */
    assert_status(fltsim_driver_unload(f->alpha.driver, FLTSIM_UNLOAD_MANDATORY), STATUS_SUCCESS);
    assert_view(sys, FLTSIM_FLTMC_FILTERS,
                FILTERS_HEAD "Gamma                                   0       300000         0\n"
                             "Beta                                    2        40500         0\n");
    assert_int_equal(fltsim_system_report_count(sys), 0);
}

static void fltmc_write_matches_the_callback_and_reports_a_failed_stream(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    assert_status(tf_load(sys, &f->alpha), STATUS_SUCCESS);
    struct text t = {.len = 0};
    assert_status(fltsim_fltmc(sys, FLTSIM_FLTMC_INSTANCES, collect, &t), STATUS_SUCCESS);
    assert_int_equal(t.lines, 5);

    FILE *out = tmpfile();
    assert_non_null(out);
    assert_status(fltsim_fltmc_write(sys, FLTSIM_FLTMC_INSTANCES, out), STATUS_SUCCESS);
    char written[4096] = "";
    rewind(out);
    size_t n = fread(written, 1, sizeof(written) - 1, out);
    written[n] = '\0';
    fclose(out);
    assert_string_equal(written, t.buf);

    FILE *ro = fopen("/dev/null", "r");
    assert_non_null(ro);
    assert_status(fltsim_fltmc_write(sys, FLTSIM_FLTMC_FILTERS, ro), STATUS_UNSUCCESSFUL);
    assert_non_null(strstr(fltsim_last_error(), "fltsim_fltmc_write"));
    fclose(ro);
}

static void fltmc_bad_arguments_are_refused(void **state)
{
    struct fixture *f = *state;
    struct text t = {.len = 0};
    assert_status(fltsim_fltmc(NULL, FLTSIM_FLTMC_FILTERS, collect, &t), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_fltmc(f->w.sys, FLTSIM_FLTMC_FILTERS, NULL, &t), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_fltmc(f->w.sys, (enum fltsim_fltmc_view)7, collect, &t),
                  STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "it is 7"));
    assert_int_equal(t.lines, 0);
    assert_status(fltsim_fltmc_write(f->w.sys, FLTSIM_FLTMC_FILTERS, NULL),
                  STATUS_INVALID_PARAMETER);

    enum fltsim_fltmc_view v = FLTSIM_FLTMC_FILTERS;
    assert_true(fltsim_fltmc_view_parse("Volumes", &v));
    assert_int_equal(v, FLTSIM_FLTMC_VOLUMES);
    assert_true(fltsim_fltmc_view_parse("instances", &v));
    assert_int_equal(v, FLTSIM_FLTMC_INSTANCES);
    assert_false(fltsim_fltmc_view_parse("filter", &v));
    assert_false(fltsim_fltmc_view_parse(NULL, &v));
    assert_int_equal(v, FLTSIM_FLTMC_INSTANCES);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(fltmc_two_filters_two_volumes_prints_the_tables),
        CASE(fltmc_detach_and_unattached_filter_change_the_counts),
        CASE(fltmc_write_matches_the_callback_and_reports_a_failed_stream),
        CASE(fltmc_bad_arguments_are_refused),
    };
    return FLTSIM_RUN_SUITE("fltmc", tests);
}
