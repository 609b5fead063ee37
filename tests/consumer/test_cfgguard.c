/*
 * The consumer's test of CfgGuard (cfgguard.c), written as a minifilter
 * developer would: plain CMocka, the filter linked in with its DriverEntry
 * renamed CfgGuardEntry, a simulated machine with one memfs volume, and the
 * test acting as an application through <fltsim/io.h>. Each case runs under
 * both executors (one seeded interleaving, and real threads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <fltKernel.h>
#include <fltsim/io.h>
#include <fltsim/memfs.h>
#include <fltsim/model.h>

DRIVER_INITIALIZE CfgGuardEntry; /* cfgguard.c's DriverEntry, renamed by the build */

struct world {
    fltsim_system *sys;
    fltsim_driver *driver;
};

static struct fltsim_system_options deterministic = {.executor = FLTSIM_EXECUTOR_DETERMINISTIC,
                                                     .seed = 21};
static struct fltsim_system_options concurrent = {.executor = FLTSIM_EXECUTOR_CONCURRENT};

/* A machine with C: holding app.cfg and notes.txt, and CfgGuard loaded. */
static int setup(void **state)
{
    static struct world w;
    const struct fltsim_system_options *opts = *state;
    struct fltsim_memfs *fs;
    PFLT_VOLUME volume;

    memset(&w, 0, sizeof(w));
    assert_int_equal(fltsim_system_create(opts, &w.sys), STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_add_file(fs, L"\\app.cfg", "debug=0", 7), STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_add_file(fs, L"\\notes.txt", "", 0), STATUS_SUCCESS);
    struct fltsim_volume_params c = {.device_name = L"\\Device\\HarddiskVolume1",
                                     .drive_letter = L'C',
                                     .ops = &fltsim_memfs_ops,
                                     .fs = fs,
                                     .fs_type = FLT_FSTYPE_NTFS};
    assert_int_equal(fltsim_volume_mount(w.sys, &c, &volume), STATUS_SUCCESS);
    static const struct fltsim_instance_def instances[] = {{L"CfgGuard Instance", L"370200", 0}};
    static const struct fltsim_filter_def def = {L"CfgGuard", L"CfgGuard Instance", instances, 1};
    assert_int_equal(fltsim_driver_load(w.sys, &def, CfgGuardEntry, &w.driver), STATUS_SUCCESS);
    *state = &w;
    return 0;
}

/* CfgGuard unloads, and broke no verifier rule on the way (a name it never
 * released is reported at its unload); each report is printed. */
static int teardown(void **state)
{
    struct world *w = *state;
    NTSTATUS unloaded = fltsim_driver_unload(w->driver, 0);
    ULONG reports = fltsim_system_report_count(w->sys);
    for (ULONG i = 0; i < reports; i++) {
        struct fltsim_report r;
        char line[512];
        if (fltsim_system_report_get(w->sys, i, &r) == STATUS_SUCCESS)
            print_error("verifier: %s\n", fltsim_report_format(&r, line, sizeof(line)));
    }
    fltsim_system_destroy(w->sys); /* first: the next case makes a system of its own */
    assert_int_equal(unloaded, STATUS_SUCCESS);
    assert_int_equal(reports, 0);
    return 0;
}

static void writes_to_cfg_are_denied(void **state)
{
    struct world *w = *state;
    HANDLE cfg, notes;
    char data[16] = {0};
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;

    assert_int_equal(fltsim_io_open(w->sys, L"C:\\app.cfg", GENERIC_READ | GENERIC_WRITE, &cfg),
                     STATUS_SUCCESS);
    assert_int_equal(fltsim_io_write(w->sys, cfg, "debug=1", 7, &zero, 0, NULL),
                     STATUS_ACCESS_DENIED);
    /* The file still holds what it held. */
    assert_int_equal(fltsim_io_read(w->sys, cfg, data, sizeof(data), &zero, 0, &iosb),
                     STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 7);
    assert_string_equal(data, "debug=0");

    assert_int_equal(fltsim_io_open(w->sys, L"C:\\notes.txt", GENERIC_WRITE, &notes),
                     STATUS_SUCCESS);
    assert_int_equal(fltsim_io_write(w->sys, notes, "x", 1, &zero, 0, NULL), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_close(w->sys, cfg), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_close(w->sys, notes), STATUS_SUCCESS);
}

static void deletes_of_cfg_are_denied(void **state)
{
    struct world *w = *state;
    HANDLE cfg, notes;

    assert_int_equal(fltsim_io_open(w->sys, L"C:\\APP.CFG", DELETE, &cfg), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_delete(w->sys, cfg, TRUE), STATUS_ACCESS_DENIED);
    assert_int_equal(fltsim_io_close(w->sys, cfg), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_open(w->sys, L"C:\\app.cfg", GENERIC_READ, &cfg), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_close(w->sys, cfg), STATUS_SUCCESS);

    assert_int_equal(fltsim_io_open(w->sys, L"C:\\notes.txt", DELETE, &notes), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_delete(w->sys, notes, TRUE), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_close(w->sys, notes), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_open(w->sys, L"C:\\notes.txt", GENERIC_READ, &notes),
                     STATUS_OBJECT_NAME_NOT_FOUND);
}

#define BOTH(test)                                                                                 \
    {#test " (deterministic)", test, setup, teardown, &deterministic},                             \
    {                                                                                              \
#test " (concurrent)", test, setup, teardown, &concurrent                                  \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(writes_to_cfg_are_denied),
        BOTH(deletes_of_cfg_are_denied),
    };
    return cmocka_run_group_tests_name("cfgguard", tests, NULL, NULL);
}
