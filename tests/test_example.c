/*
 * The example test from the README, kept here so it always compiles and
 * passes: a small minifilter (LogGuard, denying writes to *.log files) and a
 * CMocka test that loads it over memfs and acts as an application, twice: in
 * the long form, which spells out the raw API (system, memfs, volume, the
 * registry stand-in), and in the short form with <fltsim/cmocka.h>'s fixture
 * and assertions. It uses only the public headers, as a user's own test would.
 */
#include <fltsim/cmocka.h>

/* ---- the filter under test, written as for Windows ---- */

static PFLT_FILTER gLogGuard;
static UNICODE_STRING LogExpression = RTL_CONSTANT_STRING(L"*.LOG");

static FLT_PREOP_CALLBACK_STATUS LogGuardPreWrite(_Inout_ PFLT_CALLBACK_DATA Data,
                                                  _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                                  _Flt_CompletionContext_Outptr_ PVOID *Context)
{
    UNREFERENCED_PARAMETER(Context);
    if (FsRtlIsNameInExpression(&LogExpression, &FltObjects->FileObject->FileName, TRUE, NULL)) {
        Data->IoStatus.Status = STATUS_ACCESS_DENIED;
        Data->IoStatus.Information = 0;
        return FLT_PREOP_COMPLETE;
    }
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static const FLT_OPERATION_REGISTRATION LogGuardCallbacks[] = {
    {IRP_MJ_WRITE, 0, LogGuardPreWrite, NULL}, {IRP_MJ_OPERATION_END}};

static NTSTATUS LogGuardUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    FltUnregisterFilter(gLogGuard);
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION LogGuardRegistration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = LogGuardCallbacks,
    .FilterUnloadCallback = LogGuardUnload,
};

static NTSTATUS LogGuardEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    NTSTATUS status = FltRegisterFilter(DriverObject, &LogGuardRegistration, &gLogGuard);
    if (NT_SUCCESS(status)) {
        status = FltStartFiltering(gLogGuard);
        if (!NT_SUCCESS(status))
            FltUnregisterFilter(gLogGuard);
    }
    return status;
}

/* ---- the test, short: <fltsim/cmocka.h> ---- */

static void logguard_denies_log_writes(void **state)
{
    struct fltsim_test_world *w = *state; /* C: on memfs, from fltsim_cmocka_setup_memfs */
    fltsim_world_add_file(w, L"\\app.log", "");
    fltsim_world_add_file(w, L"\\notes.txt", "");
    fltsim_driver *logguard = fltsim_world_load(w, L"LogGuard", L"370100", LogGuardEntry);

    HANDLE log, notes;
    assert_nt_success(fltsim_io_open(w->sys, L"C:\\app.log", GENERIC_WRITE, &log));
    assert_ntstatus_equal(fltsim_io_write(w->sys, log, "x", 1, NULL, 0, NULL),
                          STATUS_ACCESS_DENIED);
    assert_nt_success(fltsim_io_open(w->sys, L"C:\\notes.txt", GENERIC_WRITE, &notes));
    assert_nt_success(fltsim_io_write(w->sys, notes, "x", 1, NULL, 0, NULL));
    assert_nt_success(fltsim_driver_unload(logguard, 0));
    assert_no_reports(w->sys); /* no rule broken, nothing leaked at unload */
}

/* ---- the test, long: the raw API ---- */

static void logguard_write_to_log_is_denied(void **state)
{
    (void)state;
    fltsim_system *sys;
    struct fltsim_memfs *fs;
    PFLT_VOLUME volume;
    fltsim_driver *driver;

    /* A machine with one NTFS-like volume C: holding two files. */
    assert_int_equal(fltsim_system_create(NULL, &sys), STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_add_file(fs, L"\\app.log", "", 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_add_file(fs, L"\\notes.txt", "", 0), STATUS_SUCCESS);
    struct fltsim_volume_params c = {.device_name = L"\\Device\\HarddiskVolume1",
                                     .drive_letter = L'C',
                                     .ops = &fltsim_memfs_ops, /* the volume owns fs */
                                     .fs = fs,
                                     .fs_type = FLT_FSTYPE_NTFS};
    assert_int_equal(fltsim_volume_mount(sys, &c, &volume), STATUS_SUCCESS);

    /* The registry stand-in: the filter's default instance and its altitude. */
    static const struct fltsim_instance_def instances[] = {{L"LogGuard Instance", L"370100", 0}};
    static const struct fltsim_filter_def def = {L"LogGuard", L"LogGuard Instance", instances, 1};
    assert_int_equal(fltsim_driver_load(sys, &def, LogGuardEntry, &driver), STATUS_SUCCESS);

    /* Act as an application. */
    HANDLE log, notes;
    assert_int_equal(fltsim_io_open(sys, L"C:\\app.log", GENERIC_WRITE, &log), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_write(sys, log, "x", 1, NULL, 0, NULL), STATUS_ACCESS_DENIED);
    assert_int_equal(fltsim_io_open(sys, L"C:\\notes.txt", GENERIC_WRITE, &notes), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_write(sys, notes, "x", 1, NULL, 0, NULL), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_close(sys, log), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_close(sys, notes), STATUS_SUCCESS);

    /* The filter broke no rule, and unloads cleanly. */
    assert_int_equal(fltsim_system_report_count(sys), 0);
    assert_int_equal(fltsim_driver_unload(driver, 0), STATUS_SUCCESS);
    fltsim_system_destroy(sys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(logguard_denies_log_writes, fltsim_cmocka_setup_memfs,
                                        fltsim_cmocka_teardown),
        cmocka_unit_test(logguard_write_to_log_is_denied),
    };
    return cmocka_run_group_tests_name("example", tests, NULL, NULL);
}
