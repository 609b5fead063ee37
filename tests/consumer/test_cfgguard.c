/*
 * The consumer's test of CfgGuard (cfgguard.c), written as a minifilter
 * developer would: CMocka with fltsim's helpers (<fltsim/cmocka.h>), the
 * filter linked in with its DriverEntry renamed CfgGuardEntry, a world with a
 * memfs volume as C:, and the test acting as an application through
 * <fltsim/io.h>. Each case runs under both executors (one seeded
 * interleaving, and real threads).
 */
#include <fltsim/cmocka.h>

DRIVER_INITIALIZE CfgGuardEntry; /* cfgguard.c's DriverEntry, renamed by the build */

static struct fltsim_system_options deterministic = {.executor = FLTSIM_EXECUTOR_DETERMINISTIC,
                                                     .seed = 21};
static struct fltsim_system_options concurrent = {.executor = FLTSIM_EXECUTOR_CONCURRENT};

/* C: holding app.cfg and notes.txt, and CfgGuard loaded; *state comes in as
 * the system options and leaves as the world. */
static int setup(void **state)
{
    fltsim_cmocka_setup_memfs(state);
    struct fltsim_test_world *w = *state;
    fltsim_world_add_file(w, L"\\app.cfg", "debug=0");
    fltsim_world_add_file(w, L"\\notes.txt", "");
    fltsim_world_load(w, L"CfgGuard", L"370200", CfgGuardEntry);
    return 0;
}

/* Each case ends here: CfgGuard unloads, and broke no verifier rule on the
 * way (a name it never released is reported at its unload, and printed). The
 * teardown, fltsim_cmocka_teardown, destroys the world whatever happened. */
static void unloads_cleanly(struct fltsim_test_world *w)
{
    assert_nt_success(fltsim_driver_unload(fltsim_driver_find(w->sys, L"CfgGuard"), 0));
    assert_no_reports(w->sys);
}

static void writes_to_cfg_are_denied(void **state)
{
    struct fltsim_test_world *w = *state;
    HANDLE cfg, notes;
    char data[16] = {0};
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;

    assert_nt_success(fltsim_io_open(w->sys, L"C:\\app.cfg", GENERIC_READ | GENERIC_WRITE, &cfg));
    assert_ntstatus_equal(fltsim_io_write(w->sys, cfg, "debug=1", 7, &zero, 0, NULL),
                          STATUS_ACCESS_DENIED);
    /* The file still holds what it held. */
    assert_nt_success(fltsim_io_read(w->sys, cfg, data, sizeof(data), &zero, 0, &iosb));
    assert_int_equal(iosb.Information, 7);
    assert_string_equal(data, "debug=0");

    assert_nt_success(fltsim_io_open(w->sys, L"C:\\notes.txt", GENERIC_WRITE, &notes));
    assert_nt_success(fltsim_io_write(w->sys, notes, "x", 1, &zero, 0, NULL));
    assert_nt_success(fltsim_io_close(w->sys, cfg));
    assert_nt_success(fltsim_io_close(w->sys, notes));
    unloads_cleanly(w);
}

static void deletes_of_cfg_are_denied(void **state)
{
    struct fltsim_test_world *w = *state;
    HANDLE cfg, notes;

    assert_nt_success(fltsim_io_open(w->sys, L"C:\\APP.CFG", DELETE, &cfg));
    assert_ntstatus_equal(fltsim_io_delete(w->sys, cfg, TRUE), STATUS_ACCESS_DENIED);
    assert_nt_success(fltsim_io_close(w->sys, cfg));
    assert_nt_success(fltsim_io_open(w->sys, L"C:\\app.cfg", GENERIC_READ, &cfg));
    assert_nt_success(fltsim_io_close(w->sys, cfg));

    assert_nt_success(fltsim_io_open(w->sys, L"C:\\notes.txt", DELETE, &notes));
    assert_nt_success(fltsim_io_delete(w->sys, notes, TRUE));
    assert_nt_success(fltsim_io_close(w->sys, notes));
    assert_ntstatus_equal(fltsim_io_open(w->sys, L"C:\\notes.txt", GENERIC_READ, &notes),
                          STATUS_OBJECT_NAME_NOT_FOUND);
    unloads_cleanly(w);
}

/* Each case twice: one seeded interleaving, and real threads. */
/* clang-format off */
#define BOTH(test)                                                                    \
    {#test " (deterministic)", test, setup, fltsim_cmocka_teardown, &deterministic}, \
    {#test " (concurrent)", test, setup, fltsim_cmocka_teardown, &concurrent}
/* clang-format on */

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(writes_to_cfg_are_denied),
        BOTH(deletes_of_cfg_are_denied),
    };
    return cmocka_run_group_tests_name("cfgguard", tests, NULL, NULL);
}
