/*
 * Protector (scenarios/filters/protector.c, issue 20 item 7), under both
 * executors: its object callback strips PROCESS_TERMINATE and the VM write
 * rights from handles other processes open or duplicate to the protected
 * process (Parameters\ProtectedImage), leaves kernel handles and other
 * processes alone; its minifilter refuses others a write open of the image
 * file; it unloads with nothing left registered. The handle operations are
 * driven through the handle code's contract (nt/ob_internal.h) directly.
 */
#include <string.h>

#include "examples_fx.h"
#include "fltsim_test.h"
#include "ob_internal.h"
#include <fltsim/memfs.h>
#include <fltsim/program.h>

#define STRIPPED (PROCESS_TERMINATE | PROCESS_VM_WRITE | PROCESS_VM_OPERATION)

struct protector_fixture {
    struct test_world w;
    fltsim_driver *drv;
    ULONG protected_pid, other_pid;
};

static void setup(struct protector_fixture *f, PCWSTR image)
{
    world_create(&f->w, 0);
    if (image != NULL)
        assert_status(fltsim_registry_set_string(
                          f->w.sys, FLTSIM_REGISTRY_SERVICES L"\\Protector\\Parameters",
                          L"ProtectedImage", image),
                      STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_directory(f->w.fs, L"\\Windows"), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(f->w.fs, L"\\Windows\\notepad.exe", "MZ", 2),
                  STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(f->w.fs, L"\\Windows\\calc.exe", "MZ", 2), STATUS_SUCCESS);
    f->drv = load_builtin(f->w.sys, "protector");
    struct fltsim_ps_params notepad = {.image = "notepad.exe"};
    assert_status(fltsim_ps_create(f->w.sys, &notepad, &f->protected_pid), STATUS_SUCCESS);
    struct fltsim_ps_params calc = {.image = "calc.exe"};
    assert_status(fltsim_ps_create(f->w.sys, &calc, &f->other_pid), STATUS_SUCCESS);
}

static void teardown(struct protector_fixture *f)
{
    assert_status(fltsim_ps_exit(f->w.sys, f->protected_pid, STATUS_SUCCESS), STATUS_SUCCESS);
    assert_status(fltsim_ps_exit(f->w.sys, f->other_pid, STATUS_SUCCESS), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(f->drv, 0), STATUS_SUCCESS);
    /* A clean unload: no callbacks left registered (V35), nothing leaked. */
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    world_destroy(&f->w);
}

/* The access a handle to process pid would get. */
static ACCESS_MASK open_process(struct protector_fixture *f, ULONG pid, ACCESS_MASK desired,
                                bool kernel, OB_OPERATION operation)
{
    struct fltsim_ob_handle_op op;
    memset(&op, 0, sizeof(op));
    op.operation = operation;
    op.object = fltsim__process_object_find(pid);
    assert_non_null(op.object);
    op.type = *PsProcessType;
    op.kernel_handle = kernel;
    op.desired = desired;
    if (operation == OB_OPERATION_HANDLE_DUPLICATE) {
        op.source_process = IoGetCurrentProcess();
        op.target_process = fltsim__process_object_find(f->other_pid);
    }
    fltsim__ob_pre(f->w.sys, &op);
    fltsim__ob_post(f->w.sys, &op, STATUS_SUCCESS);
    return op.desired;
}

static void strips_terminate_and_vm_writes(void **state)
{
    (void)state;
    struct protector_fixture f;
    setup(&f, NULL); /* notepad.exe by default */
    assert_int_equal(
        open_process(&f, f.protected_pid, PROCESS_ALL_ACCESS, false, OB_OPERATION_HANDLE_CREATE),
        PROCESS_ALL_ACCESS & ~STRIPPED);
    assert_int_equal(open_process(&f, f.protected_pid, PROCESS_TERMINATE | SYNCHRONIZE, false,
                                  OB_OPERATION_HANDLE_DUPLICATE),
                     SYNCHRONIZE);
    assert_int_equal(open_process(&f, f.protected_pid, PROCESS_QUERY_LIMITED_INFORMATION, false,
                                  OB_OPERATION_HANDLE_CREATE),
                     PROCESS_QUERY_LIMITED_INFORMATION);
    /* A kernel handle, and another process, keep everything. */
    assert_int_equal(
        open_process(&f, f.protected_pid, PROCESS_ALL_ACCESS, true, OB_OPERATION_HANDLE_CREATE),
        PROCESS_ALL_ACCESS);
    assert_int_equal(
        open_process(&f, f.other_pid, PROCESS_ALL_ACCESS, false, OB_OPERATION_HANDLE_CREATE),
        PROCESS_ALL_ACCESS);
    teardown(&f);
}

static void protected_image_comes_from_the_registry(void **state)
{
    (void)state;
    struct protector_fixture f;
    setup(&f, L"CALC.EXE");
    assert_int_equal(
        open_process(&f, f.protected_pid, PROCESS_TERMINATE, false, OB_OPERATION_HANDLE_CREATE),
        PROCESS_TERMINATE);
    assert_int_equal(
        open_process(&f, f.other_pid, PROCESS_TERMINATE, false, OB_OPERATION_HANDLE_CREATE), 0);
    teardown(&f);
}

static void image_file_write_is_refused(void **state)
{
    (void)state;
    struct protector_fixture f;
    setup(&f, NULL);
    HANDLE h = NULL;
    assert_status(fltsim_io_open(f.w.sys, L"C:\\Windows\\notepad.exe", GENERIC_WRITE, &h),
                  STATUS_ACCESS_DENIED);
    assert_status(fltsim_io_open(f.w.sys, L"C:\\Windows\\NOTEPAD.EXE", DELETE, &h),
                  STATUS_ACCESS_DENIED);
    h = world_open(&f.w, L"C:\\Windows\\notepad.exe", GENERIC_READ);
    assert_status(fltsim_io_close(f.w.sys, h), STATUS_SUCCESS);
    h = world_open(&f.w, L"C:\\Windows\\calc.exe", GENERIC_WRITE);
    assert_status(fltsim_io_close(f.w.sys, h), STATUS_SUCCESS);
    teardown(&f);
}

/* The same through the handle code: a user-mode open of the protected
 * process (fltsim_ps_open, what NtOpenProcess does) gets the stripped
 * access, a kernel-mode one all it asked for. */
static void open_through_the_handle_code(void **state)
{
    (void)state;
    struct protector_fixture f;
    setup(&f, NULL);
    HANDLE h = NULL;
    ACCESS_MASK granted = 0;
    assert_status(
        fltsim_ps_open(f.w.sys, f.protected_pid, 0, PROCESS_ALL_ACCESS, false, &h, &granted),
        STATUS_SUCCESS);
    assert_int_equal(granted, PROCESS_ALL_ACCESS & ~STRIPPED);
    assert_status(fltsim_ps_close(f.w.sys, h), STATUS_SUCCESS);
    assert_status(
        fltsim_ps_open(f.w.sys, f.protected_pid, 0, PROCESS_TERMINATE, true, &h, &granted),
        STATUS_SUCCESS);
    assert_int_equal(granted, PROCESS_TERMINATE);
    assert_status(fltsim_ps_close(f.w.sys, h), STATUS_SUCCESS);
    teardown(&f);
}

/* Loaded as an image linked without /INTEGRITYCHECK: ObRegisterCallbacks
 * is denied and DriverEntry fails with that status, having unregistered
 * its filter (nothing reported, nothing left). */
static void refused_without_integrity_check(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    const struct fltsim_builtin_filter *ex = fltsim_example_filter_find("protector");
    assert_non_null(ex);
    struct fltsim_instance_def instance = {L"Example Instance", ex->altitude, 0};
    struct fltsim_filter_def def = {ex->service_name, L"Example Instance", &instance, 1};
    fltsim_driver *drv = NULL;
    assert_status(
        fltsim_driver_load_ex(w.sys, &def, ex->entry, FLTSIM_LOAD_NO_INTEGRITY_CHECK, &drv),
        STATUS_ACCESS_DENIED);
    assert_null(drv);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    drv = load_builtin(w.sys, "protector"); /* and loads when linked with it */
    assert_status(fltsim_driver_unload(drv, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strips_terminate_and_vm_writes),
        cmocka_unit_test(protected_image_comes_from_the_registry),
        cmocka_unit_test(image_file_write_is_refused),
        cmocka_unit_test(open_through_the_handle_code),
        cmocka_unit_test(refused_without_integrity_check),
    };
    return FLTSIM_RUN_SUITE("protector", tests);
}
