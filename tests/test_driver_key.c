/*
 * IoOpenDriverRegistryKey (issue 15 item 4) over the fake registry: a
 * driver's Parameters key, and the State and SharedState keys Windows keeps
 * its persistent state in, under its service key; made when missing
 * (non-volatile keys); SharedPersistentState only from Windows Server 2022
 * (build 20348) on. Flags must be 0, the type one of DRIVER_REGKEY_TYPE, the
 * object a loaded driver's (the caller's own, else a KE report). The handle
 * is the driver's: read with ZwQueryValueKey, closed with ZwClose, a V23
 * report when its driver unloads with it open. The DriverEntry here finds
 * the routine through MmGetSystemRoutineAddress, as simrep does.
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define SERVICE L"KeyProbe"
#define SERVICE_KEY FLTSIM_REGISTRY_SERVICES L"\\" SERVICE

typedef NTSTATUS (*open_fn)(PDRIVER_OBJECT, DRIVER_REGKEY_TYPE, ACCESS_MASK, ULONG, PHANDLE);

struct probe;
typedef void (*body_fn)(struct probe *p, PDRIVER_OBJECT driver);

struct probe {
    fltsim_system *sys;
    fltsim_driver *drv;
    PFLT_FILTER filter;
    body_fn body;
    PDRIVER_OBJECT driver_object;
    open_fn open;
    NTSTATUS st[8];
    ULONG value[8];
    HANDLE kept;
};

static struct probe *current;

static NTSTATUS FLTAPI probe_unload(FLT_FILTER_UNLOAD_FLAGS flags)
{
    (void)flags;
    FltUnregisterFilter(current->filter);
    return STATUS_SUCCESS;
}

static const FLT_OPERATION_REGISTRATION no_operations[] = {{IRP_MJ_OPERATION_END}};

static NTSTATUS probe_entry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
    (void)registry_path;
    struct probe *p = current;
    p->driver_object = driver;
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, L"IoOpenDriverRegistryKey");
    PVOID found = MmGetSystemRoutineAddress(&name);
    memcpy(&p->open, &found, sizeof(p->open));
    if (p->open == NULL)
        return STATUS_NOT_SUPPORTED;
    if (p->body != NULL)
        p->body(p, driver);
    static FLT_REGISTRATION reg;
    memset(&reg, 0, sizeof(reg));
    reg.Size = sizeof(reg);
    reg.Version = FLT_REGISTRATION_VERSION;
    reg.OperationRegistration = no_operations;
    reg.FilterUnloadCallback = probe_unload;
    NTSTATUS status = FltRegisterFilter(driver, &reg, &p->filter);
    if (NT_SUCCESS(status)) {
        status = FltStartFiltering(p->filter);
        if (!NT_SUCCESS(status))
            FltUnregisterFilter(p->filter);
    }
    return status;
}

static void run_body(void *ctx)
{
    struct probe *p = ctx;
    p->body(p, p->driver_object);
}

/* Runs body as the probe driver's code (after its load). */
static void as_driver(struct probe *p, body_fn body)
{
    p->body = body;
    assert_status(fltsim_driver_call(p->drv, run_body, p), STATUS_SUCCESS);
}

/* Loads the KeyProbe driver (running body in its DriverEntry) into a system
 * simulating version (NULL: the default). */
static void probe_load(struct probe *p, const struct fltsim_windows_version *version, body_fn body)
{
    memset(p, 0, sizeof(*p));
    struct fltsim_system_options opts = test_options(0);
    if (version != NULL)
        opts.windows = *version;
    assert_status(fltsim_system_create(&opts, &p->sys), STATUS_SUCCESS);
    assert_status(fltsim_registry_set_dword(p->sys, SERVICE_KEY L"\\Parameters", L"Limit", 4096),
                  STATUS_SUCCESS);
    assert_status(fltsim_registry_set_dword(p->sys, SERVICE_KEY L"\\State", L"Counter", 5),
                  STATUS_SUCCESS);
    assert_status(fltsim_registry_set_dword(p->sys, SERVICE_KEY L"\\SharedState", L"Shared", 6),
                  STATUS_SUCCESS);
    p->body = body;
    current = p;
    static const struct fltsim_instance_def instances[] = {{L"KeyProbe Instance", L"123000", 0}};
    const struct fltsim_filter_def def = {SERVICE, L"KeyProbe Instance", instances, 1};
    assert_status(fltsim_driver_load(p->sys, &def, probe_entry, &p->drv), STATUS_SUCCESS);
}

static void probe_destroy(struct probe *p)
{
    fltsim_system_destroy(p->sys);
    current = NULL;
}

static ULONG read_dword(HANDLE key, PCWSTR value)
{
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, value);
    UCHAR buffer[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(ULONG)];
    PKEY_VALUE_PARTIAL_INFORMATION info = (PKEY_VALUE_PARTIAL_INFORMATION)buffer;
    ULONG length, v = 0;
    if (NT_SUCCESS(ZwQueryValueKey(key, &name, KeyValuePartialInformation, info, sizeof(buffer),
                                   &length)) &&
        info->DataLength == sizeof(v))
        memcpy(&v, info->Data, sizeof(v));
    return v;
}

/* Each type's key, read through the handle, then closed. */
static void open_each(struct probe *p, PDRIVER_OBJECT driver)
{
    static const PCWSTR values[] = {L"Limit", L"Counter", L"Shared"};
    for (int type = DriverRegKeyParameters; type <= DriverRegKeySharedPersistentState; type++) {
        HANDLE key = NULL;
        p->st[type] = p->open(driver, (DRIVER_REGKEY_TYPE)type, KEY_READ, 0, &key);
        if (NT_SUCCESS(p->st[type])) {
            p->value[type] = read_dword(key, values[type]);
            p->st[4 + type] = ZwClose(key);
        }
    }
}

/* Parameters, State and SharedState under the service key. */
static void keys_are_under_the_service_key(void **state)
{
    (void)state;
    struct probe p;
    probe_load(&p, NULL, open_each);
    for (int type = 0; type < 3; type++) {
        assert_status(p.st[type], STATUS_SUCCESS);
        assert_status(p.st[4 + type], STATUS_SUCCESS);
    }
    assert_int_equal(p.value[DriverRegKeyParameters], 4096);
    assert_int_equal(p.value[DriverRegKeyPersistentState], 5);
    assert_int_equal(p.value[DriverRegKeySharedPersistentState], 6);
    assert_int_equal(fltsim_registry_open_handles(p.sys), 0);
    assert_int_equal(fltsim_system_report_count(p.sys), 0);
    probe_destroy(&p);
}

/* A key that does not exist yet is made (the keys are non-volatile and the
 * routine creates them). */
static void open_state(struct probe *p, PDRIVER_OBJECT driver)
{
    HANDLE key = NULL;
    p->st[0] = p->open(driver, DriverRegKeyPersistentState, KEY_READ | KEY_WRITE, 0, &key);
    if (NT_SUCCESS(p->st[0]))
        p->st[1] = ZwClose(key);
}

static void missing_key_is_made(void **state)
{
    (void)state;
    struct probe p;
    probe_load(&p, NULL, NULL);
    assert_status(fltsim_registry_delete_key(p.sys, SERVICE_KEY L"\\State"), STATUS_SUCCESS);
    as_driver(&p, open_state);
    assert_status(p.st[0], STATUS_SUCCESS);
    assert_status(p.st[1], STATUS_SUCCESS);
    /* It exists now. */
    assert_status(fltsim_registry_delete_key(p.sys, SERVICE_KEY L"\\State"), STATUS_SUCCESS);
    probe_destroy(&p);
}

/* SharedPersistentState is Windows Server 2022's (build 20348) and later. */
static void shared_state_needs_server_2022(void **state)
{
    (void)state;
    const struct fltsim_windows_version before = {.major = 10, .build = 19045};
    const struct fltsim_windows_version from = {.major = 10, .build = 20348};
    struct probe p;
    probe_load(&p, &before, open_each);
    assert_status(p.st[DriverRegKeyParameters], STATUS_SUCCESS);
    assert_status(p.st[DriverRegKeyPersistentState], STATUS_SUCCESS);
    assert_status(p.st[DriverRegKeySharedPersistentState], STATUS_INVALID_PARAMETER);
    probe_destroy(&p);
    probe_load(&p, &from, open_each);
    assert_status(p.st[DriverRegKeySharedPersistentState], STATUS_SUCCESS);
    assert_int_equal(p.value[DriverRegKeySharedPersistentState], 6);
    probe_destroy(&p);
}

/* Wrong arguments. */
static void open_badly(struct probe *p, PDRIVER_OBJECT driver)
{
    HANDLE key = (HANDLE)1;
    DRIVER_OBJECT fake;
    memset(&fake, 0, sizeof(fake));
    p->st[0] = p->open(driver, DriverRegKeyParameters, KEY_READ, 1, &key);
    p->st[1] = p->open(driver, (DRIVER_REGKEY_TYPE)3, KEY_READ, 0, &key);
    p->st[2] = p->open(driver, DriverRegKeyParameters, KEY_READ, 0, NULL);
    p->st[3] = p->open(&fake, DriverRegKeyParameters, KEY_READ, 0, &key);
    p->value[0] = key == NULL; /* cleared on failure */
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    p->st[4] = p->open(driver, DriverRegKeyParameters, KEY_READ, 0, &key);
    KeLowerIrql(old);
    if (NT_SUCCESS(p->st[4]))
        ZwClose(key);
}

static void bad_arguments_are_refused(void **state)
{
    (void)state;
    struct probe p;
    probe_load(&p, NULL, open_badly);
    assert_status(p.st[0], STATUS_INVALID_PARAMETER);
    assert_status(p.st[1], STATUS_INVALID_PARAMETER);
    assert_status(p.st[2], STATUS_INVALID_PARAMETER);
    assert_status(p.st[3], STATUS_INVALID_PARAMETER);
    assert_true(p.value[0]);
    assert_status(p.st[4], STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(p.sys, "V28"), 1);
    assert_int_equal(fltsim_registry_open_handles(p.sys), 0);
    probe_destroy(&p);
}

/* Another driver's object: a KE report (it must be the caller's own), and
 * that driver's key. */
static struct probe *other;

static void open_other(void *ctx)
{
    struct probe *p = ctx;
    HANDLE key = NULL;
    p->st[0] = p->open(other->driver_object, DriverRegKeyParameters, KEY_READ, 0, &key);
    if (NT_SUCCESS(p->st[0])) {
        p->value[0] = read_dword(key, L"Limit");
        ZwClose(key);
    }
}

static void another_drivers_object_is_reported(void **state)
{
    (void)state;
    struct probe p;
    probe_load(&p, NULL, NULL);
    other = &p;
    tf_reset_all();
    struct tf_filter second;
    tf_init(&second, "B", "124000");
    assert_status(tf_load(p.sys, &second), STATUS_SUCCESS);
    struct probe caller = p;
    assert_status(fltsim_driver_call(second.driver, open_other, &caller), STATUS_SUCCESS);
    assert_status(caller.st[0], STATUS_SUCCESS);
    assert_int_equal(caller.value[0], 4096);
    assert_int_equal(fltsim_system_report_count_rule(p.sys, "KE"), 1);
    probe_destroy(&p);
    tf_reset_all();
}

/* A handle left open is the driver's leak at unload (V23). */
static void keep_one(struct probe *p, PDRIVER_OBJECT driver)
{
    p->st[0] = p->open(driver, DriverRegKeyParameters, KEY_READ, 0, &p->kept);
}

static void leaked_handle_is_reported_at_unload(void **state)
{
    (void)state;
    struct probe p;
    probe_load(&p, NULL, keep_one);
    assert_status(p.st[0], STATUS_SUCCESS);
    assert_int_equal(fltsim_registry_open_handles(p.sys), 1);
    assert_status(fltsim_driver_unload(p.drv, FLTSIM_UNLOAD_MANDATORY), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(p.sys, "V23"), 1);
    probe_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_are_under_the_service_key),
        cmocka_unit_test(missing_key_is_made),
        cmocka_unit_test(shared_state_needs_server_2022),
        cmocka_unit_test(bad_arguments_are_refused),
        cmocka_unit_test(another_drivers_object_is_reported),
        cmocka_unit_test(leaked_handle_is_reported_at_unload),
    };
    return FLTSIM_RUN_SUITE("driver_key", tests);
}
