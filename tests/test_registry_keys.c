/*
 * The fake registry (DESIGN decision 7): a DriverEntry reads its parameters
 * from RegistryPath\Parameters with ZwOpenKey / ZwQueryValueKey / ZwClose as
 * a real minifilter does. Covers the KEY_VALUE_*_INFORMATION layouts, the
 * statuses (not found, too small, overflow, bad handle, access, deleted key),
 * case-insensitive names, relative opens, the IRQL rule (V28), handle leaks at
 * unload (V23 and the "CmKy" pool tag) and the fltsim_registry_* API's errors.
 * Filter code runs inside DriverEntry, on the test thread; it records what it
 * saw and the test asserts after the load returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define KEY_HANDLE_TAG 'yKmC'
#define SERVICE L"AntiVirus"
#define SERVICE_KEY FLTSIM_REGISTRY_SERVICES L"\\" SERVICE
#define PARAMETERS SERVICE_KEY L"\\Parameters"

struct fixture;
typedef void (*body_fn)(struct fixture *f, PUNICODE_STRING registry_path);

struct fixture {
    fltsim_system *sys;
    body_fn body;
    bool register_filter;
    fltsim_driver *drv;
    /* observed inside DriverEntry */
    NTSTATUS st[16];
    ULONG len[16];
    ULONG u[16];
    UCHAR buf[6][256];
    HANDLE handle;
    WCHAR path[256];
    PFLT_FILTER filter;
};

static struct fixture *current;

static NTSTATUS FLTAPI unload_cb(FLT_FILTER_UNLOAD_FLAGS flags)
{
    (void)flags;
    FltUnregisterFilter(current->filter);
    return STATUS_SUCCESS;
}

static const FLT_OPERATION_REGISTRATION no_operations[] = {{IRP_MJ_OPERATION_END}};

static NTSTATUS reg_entry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
    struct fixture *f = current;
    size_t n = registry_path->Length / sizeof(WCHAR);
    if (n < 255) {
        memcpy(f->path, registry_path->Buffer, n * sizeof(WCHAR));
        f->path[n] = 0;
    }
    f->body(f, registry_path);
    if (!f->register_filter)
        return STATUS_SUCCESS;
    static FLT_REGISTRATION reg;
    memset(&reg, 0, sizeof(reg));
    reg.Size = sizeof(reg);
    reg.Version = FLT_REGISTRATION_VERSION;
    reg.OperationRegistration = no_operations;
    reg.FilterUnloadCallback = unload_cb;
    NTSTATUS status = FltRegisterFilter(driver, &reg, &f->filter);
    if (NT_SUCCESS(status)) {
        status = FltStartFiltering(f->filter);
        if (!NT_SUCCESS(status))
            FltUnregisterFilter(f->filter);
    }
    return status;
}

static NTSTATUS load(struct fixture *f, body_fn body)
{
    static const struct fltsim_instance_def instances[] = {{L"AntiVirus Instance", L"320000", 0}};
    const struct fltsim_filter_def def = {SERVICE, L"AntiVirus Instance", instances, 1};
    f->body = body;
    current = f;
    return fltsim_driver_load(f->sys, &def, reg_entry, &f->drv);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct fltsim_system_options opts = test_options(0);
    assert_status(fltsim_system_create(&opts, &f->sys), STATUS_SUCCESS);
    assert_status(fltsim_registry_set_dword(f->sys, PARAMETERS, L"ScanLimit", 4096),
                  STATUS_SUCCESS);
    assert_status(fltsim_registry_set_string(f->sys, PARAMETERS, L"LogDir", L"C:\\av\\log"),
                  STATUS_SUCCESS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fltsim_system_destroy(f->sys);
    current = NULL;
    free(f);
    return 0;
}

/* Opens RegistryPath + suffix with OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE. */
static NTSTATUS open_under(PUNICODE_STRING base, PCWSTR suffix, ACCESS_MASK access, HANDLE *out)
{
    WCHAR buffer[300];
    UNICODE_STRING name = {0, sizeof(buffer), buffer};
    RtlCopyUnicodeString(&name, base);
    RtlAppendUnicodeToString(&name, suffix);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
    return ZwOpenKey(out, access, &oa);
}

static NTSTATUS open_path(PCWSTR path, HANDLE root, ACCESS_MASK access, HANDLE *out)
{
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, path);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, root, NULL);
    return ZwOpenKey(out, access, &oa);
}

static NTSTATUS query(HANDLE key, PCWSTR value, KEY_VALUE_INFORMATION_CLASS cls, void *buffer,
                      ULONG length, ULONG *result)
{
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, value);
    return ZwQueryValueKey(key, &name, cls, buffer, length, result);
}

/* ---- a DriverEntry reads its parameters ---- */

static void read_parameters(struct fixture *f, PUNICODE_STRING registry_path)
{
    HANDLE key = NULL;
    f->st[0] = open_under(registry_path, L"\\Parameters", KEY_READ, &key);
    f->st[1] = query(key, L"ScanLimit", KeyValuePartialInformation, f->buf[0], sizeof(f->buf[0]),
                     &f->len[1]);
    f->st[2] =
        query(key, L"LogDir", KeyValuePartialInformation, f->buf[1], sizeof(f->buf[1]), &f->len[2]);
    f->st[3] = ZwClose(key);
}

static void registry_driver_entry_reads_dword_and_string(void **state)
{
    struct fixture *f = *state;
    f->register_filter = true;
    assert_status(load(f, read_parameters), STATUS_SUCCESS);
    assert_true(memcmp(f->path, SERVICE_KEY, sizeof(SERVICE_KEY)) == 0);
    assert_status(f->st[0], STATUS_SUCCESS);

    assert_status(f->st[1], STATUS_SUCCESS);
    assert_int_equal(f->len[1], FIELD_OFFSET(KEY_VALUE_PARTIAL_INFORMATION, Data) + 4);
    PKEY_VALUE_PARTIAL_INFORMATION p = (PKEY_VALUE_PARTIAL_INFORMATION)f->buf[0];
    assert_int_equal(p->TitleIndex, 0);
    assert_int_equal(p->Type, REG_DWORD);
    assert_int_equal(p->DataLength, 4);
    ULONG limit;
    memcpy(&limit, p->Data, 4);
    assert_int_equal(limit, 4096);

    static const WCHAR logdir[] = L"C:\\av\\log";
    assert_status(f->st[2], STATUS_SUCCESS);
    p = (PKEY_VALUE_PARTIAL_INFORMATION)f->buf[1];
    assert_int_equal(p->Type, REG_SZ);
    assert_int_equal(p->DataLength, sizeof(logdir)); /* with the NUL, as on Windows */
    assert_memory_equal(p->Data, logdir, sizeof(logdir));
    assert_int_equal(f->len[2], 12 + sizeof(logdir));

    assert_status(f->st[3], STATUS_SUCCESS);
    assert_int_equal(fltsim_registry_open_handles(f->sys), 0);
    assert_status(fltsim_driver_unload(f->drv, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->sys), 0);
}

static void read_instances(struct fixture *f, PUNICODE_STRING registry_path)
{
    HANDLE key = NULL, inst = NULL;
    f->st[0] = open_under(registry_path, L"\\Instances", KEY_READ, &key);
    f->st[1] = query(key, L"DefaultInstance", KeyValuePartialInformation, f->buf[0],
                     sizeof(f->buf[0]), &f->len[1]);
    f->st[2] = open_path(L"AntiVirus Instance", key, KEY_READ, &inst);
    f->st[3] = query(inst, L"Altitude", KeyValuePartialInformation, f->buf[1], sizeof(f->buf[1]),
                     &f->len[3]);
    f->st[4] =
        query(inst, L"Flags", KeyValuePartialInformation, f->buf[2], sizeof(f->buf[2]), &f->len[4]);
    ZwClose(inst);
    ZwClose(key);
}

static void registry_service_key_holds_the_instance_table(void **state)
{
    struct fixture *f = *state;
    assert_status(load(f, read_instances), STATUS_SUCCESS);
    assert_status(f->st[0], STATUS_SUCCESS);
    assert_status(f->st[1], STATUS_SUCCESS);
    static const WCHAR def[] = L"AntiVirus Instance";
    PKEY_VALUE_PARTIAL_INFORMATION p = (PKEY_VALUE_PARTIAL_INFORMATION)f->buf[0];
    assert_int_equal(p->Type, REG_SZ);
    assert_int_equal(p->DataLength, sizeof(def));
    assert_memory_equal(p->Data, def, sizeof(def));
    assert_status(f->st[2], STATUS_SUCCESS);
    assert_status(f->st[3], STATUS_SUCCESS);
    p = (PKEY_VALUE_PARTIAL_INFORMATION)f->buf[1];
    assert_int_equal(p->DataLength, sizeof(L"320000"));
    assert_memory_equal(p->Data, L"320000", sizeof(L"320000"));
    assert_status(f->st[4], STATUS_SUCCESS);
    p = (PKEY_VALUE_PARTIAL_INFORMATION)f->buf[2];
    assert_int_equal(p->Type, REG_DWORD);
    assert_int_equal(p->DataLength, 4);
}

static void nothing(struct fixture *f, PUNICODE_STRING registry_path)
{
    (void)f;
    (void)registry_path;
}

static void read_other_altitude(struct fixture *f, PUNICODE_STRING registry_path)
{
    (void)registry_path;
    HANDLE key = NULL;
    f->st[0] = open_path(SERVICE_KEY L"\\Instances\\AntiVirus Instance", NULL, KEY_READ, &key);
    f->st[1] = query(key, L"Altitude", KeyValuePartialInformation, f->buf[0], sizeof(f->buf[0]),
                     &f->len[1]);
    ZwClose(key);
}

static void registry_refused_load_keeps_the_instance_table(void **state)
{
    struct fixture *f = *state;
    assert_status(load(f, nothing), STATUS_SUCCESS);
    static const struct fltsim_instance_def other[] = {{L"AntiVirus Instance", L"999", 0}};
    const struct fltsim_filter_def again = {SERVICE, L"AntiVirus Instance", other, 1};
    fltsim_driver *second = NULL;
    assert_status(fltsim_driver_load(f->sys, &again, reg_entry, &second),
                  STATUS_OBJECT_NAME_COLLISION);

    const struct fltsim_filter_def reader = {L"Reader", NULL, NULL, 0};
    f->body = read_other_altitude;
    fltsim_driver *drv = NULL;
    assert_status(fltsim_driver_load(f->sys, &reader, reg_entry, &drv), STATUS_SUCCESS);
    assert_status(f->st[0], STATUS_SUCCESS);
    assert_status(f->st[1], STATUS_SUCCESS);
    PKEY_VALUE_PARTIAL_INFORMATION p = (PKEY_VALUE_PARTIAL_INFORMATION)f->buf[0];
    assert_int_equal(p->DataLength, sizeof(L"320000"));
    assert_memory_equal(p->Data, L"320000", sizeof(L"320000"));
}

/* ---- not found ---- */

static void missing(struct fixture *f, PUNICODE_STRING registry_path)
{
    HANDLE key = (HANDLE)1;
    f->st[0] = open_under(registry_path, L"\\NoSuchKey", KEY_READ, &key);
    f->handle = key;
    f->st[1] = open_under(registry_path, L"\\NoSuch\\Deeper", KEY_READ, &key);
    f->st[2] = open_under(registry_path, L"\\Parameters", KEY_READ, &key);
    f->len[3] = 99;
    f->st[3] = query(key, L"NoSuchValue", KeyValuePartialInformation, f->buf[0], sizeof(f->buf[0]),
                     &f->len[3]);
    f->st[4] =
        query(key, L"", KeyValuePartialInformation, f->buf[0], sizeof(f->buf[0]), &f->len[4]);
    ZwClose(key);
}

static void registry_missing_key_or_value_is_not_found(void **state)
{
    struct fixture *f = *state;
    assert_status(load(f, missing), STATUS_SUCCESS);
    assert_status(f->st[0], STATUS_OBJECT_NAME_NOT_FOUND);
    assert_null(f->handle);
    assert_status(f->st[1], STATUS_OBJECT_NAME_NOT_FOUND);
    assert_status(f->st[2], STATUS_SUCCESS);
    assert_status(f->st[3], STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(f->len[3], 0);
    assert_status(f->st[4], STATUS_OBJECT_NAME_NOT_FOUND); /* no default value */
    assert_int_equal(fltsim_registry_open_handles(f->sys), 0);
}

/* ---- buffer sizes ---- */

static void sizes(struct fixture *f, PUNICODE_STRING registry_path)
{
    HANDLE key = NULL;
    open_under(registry_path, L"\\Parameters", KEY_QUERY_VALUE, &key);
    /* size probe with no buffer */
    f->st[0] = query(key, L"LogDir", KeyValuePartialInformation, NULL, 0, &f->len[0]);
    /* one byte short of the fixed part: nothing written */
    memset(f->buf[0], 0xcc, sizeof(f->buf[0]));
    f->st[1] = query(key, L"LogDir", KeyValuePartialInformation, f->buf[0], 11, &f->len[1]);
    /* fixed part and 4 bytes of data */
    memset(f->buf[1], 0xcc, sizeof(f->buf[1]));
    f->st[2] = query(key, L"LogDir", KeyValuePartialInformation, f->buf[1], 16, &f->len[2]);
    /* exactly enough */
    f->st[3] = query(key, L"LogDir", KeyValuePartialInformation, f->buf[2], f->len[0], &f->len[3]);
    /* basic: fixed part only, the name does not fit */
    memset(f->buf[3], 0xcc, sizeof(f->buf[3]));
    f->st[4] = query(key, L"LogDir", KeyValueBasicInformation, f->buf[3], 14, &f->len[4]);
    ZwClose(key);
}

static void registry_small_buffers_give_too_small_or_overflow(void **state)
{
    struct fixture *f = *state;
    assert_status(load(f, sizes), STATUS_SUCCESS);
    const ULONG need = 12 + sizeof(L"C:\\av\\log");
    assert_status(f->st[0], STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(f->len[0], need);

    assert_status(f->st[1], STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(f->len[1], need);
    for (int i = 0; i < 16; i++)
        assert_int_equal(f->buf[0][i], 0xcc);

    assert_status(f->st[2], STATUS_BUFFER_OVERFLOW);
    assert_int_equal(f->len[2], need);
    PKEY_VALUE_PARTIAL_INFORMATION p = (PKEY_VALUE_PARTIAL_INFORMATION)f->buf[1];
    assert_int_equal(p->Type, REG_SZ);
    assert_int_equal(p->DataLength, sizeof(L"C:\\av\\log")); /* the full size */
    assert_memory_equal(p->Data, L"C:", 4);
    assert_int_equal(f->buf[1][16], 0xcc); /* nothing past Length */

    assert_status(f->st[3], STATUS_SUCCESS);
    assert_int_equal(f->len[3], need);

    assert_status(f->st[4], STATUS_BUFFER_OVERFLOW);
    assert_int_equal(f->len[4], 12 + 12); /* "LogDir" */
    PKEY_VALUE_BASIC_INFORMATION b = (PKEY_VALUE_BASIC_INFORMATION)f->buf[3];
    assert_int_equal(b->NameLength, 12);
    assert_memory_equal(b->Name, L"L", 2);
    assert_int_equal(f->buf[3][14], 0xcc);
}

/* ---- layouts ---- */

static void layouts(struct fixture *f, PUNICODE_STRING registry_path)
{
    HANDLE key = NULL;
    open_under(registry_path, L"\\Parameters", KEY_READ, &key);
    f->st[0] =
        query(key, L"ScanLimit", KeyValueFullInformation, f->buf[0], sizeof(f->buf[0]), &f->len[0]);
    f->st[1] =
        query(key, L"Empty", KeyValueFullInformation, f->buf[1], sizeof(f->buf[1]), &f->len[1]);
    f->st[2] =
        query(key, L"LogDir", KeyValueBasicInformation, f->buf[2], sizeof(f->buf[2]), &f->len[2]);
    f->st[3] = query(key, L"ScanLimit", KeyValuePartialInformationAlign64, f->buf[3],
                     sizeof(f->buf[3]), &f->len[3]);
    f->st[4] = query(key, L"ScanLimit", (KEY_VALUE_INFORMATION_CLASS)42, f->buf[3],
                     sizeof(f->buf[3]), &f->len[4]);
    /* "Mode": name ends at 28; 64-bit Windows puts the data at 32, not 28 */
    f->st[5] =
        query(key, L"Mode", KeyValueFullInformation, f->buf[4], sizeof(f->buf[4]), &f->len[5]);
    ZwClose(key);
}

static void registry_information_classes_have_wdk_layouts(void **state)
{
    struct fixture *f = *state;
    assert_status(fltsim_registry_set_value(f->sys, PARAMETERS, L"Empty", REG_BINARY, NULL, 0),
                  STATUS_SUCCESS);
    assert_status(fltsim_registry_set_dword(f->sys, PARAMETERS, L"Mode", 7), STATUS_SUCCESS);
    assert_status(load(f, layouts), STATUS_SUCCESS);

    /* WDK offsets */
    assert_int_equal(FIELD_OFFSET(KEY_VALUE_BASIC_INFORMATION, Name), 12);
    assert_int_equal(FIELD_OFFSET(KEY_VALUE_FULL_INFORMATION, Name), 20);
    assert_int_equal(FIELD_OFFSET(KEY_VALUE_PARTIAL_INFORMATION, Data), 12);
    assert_int_equal(FIELD_OFFSET(KEY_VALUE_PARTIAL_INFORMATION_ALIGN64, Data), 8);
    assert_int_equal(KeyValuePartialInformation, 2);
    assert_int_equal(KEY_READ, 0x20019);
    assert_int_equal(KEY_ALL_ACCESS, 0xF003F);

    /* full: name "ScanLimit" (18 bytes) at 20, data at ALIGN8(38) = 40 */
    assert_status(f->st[0], STATUS_SUCCESS);
    PKEY_VALUE_FULL_INFORMATION full = (PKEY_VALUE_FULL_INFORMATION)f->buf[0];
    assert_int_equal(full->Type, REG_DWORD);
    assert_int_equal(full->NameLength, 18);
    assert_memory_equal(full->Name, L"ScanLimit", 18);
    assert_int_equal(full->DataOffset, 40);
    assert_int_equal(full->DataLength, 4);
    assert_int_equal(f->len[0], 44);
    ULONG limit;
    memcpy(&limit, f->buf[0] + full->DataOffset, 4);
    assert_int_equal(limit, 4096);

    /* no data: DataOffset is -1 and nothing is added for alignment */
    assert_status(f->st[1], STATUS_SUCCESS);
    full = (PKEY_VALUE_FULL_INFORMATION)f->buf[1];
    assert_int_equal(full->DataOffset, 0xffffffffu);
    assert_int_equal(full->DataLength, 0);
    assert_int_equal(full->Type, REG_BINARY);
    assert_int_equal(f->len[1], 20 + 10);

    assert_status(f->st[2], STATUS_SUCCESS);
    PKEY_VALUE_BASIC_INFORMATION basic = (PKEY_VALUE_BASIC_INFORMATION)f->buf[2];
    assert_int_equal(basic->Type, REG_SZ);
    assert_int_equal(basic->NameLength, 12);
    assert_memory_equal(basic->Name, L"LogDir", 12);
    assert_int_equal(f->len[2], 24);

    assert_status(f->st[3], STATUS_SUCCESS);
    PKEY_VALUE_PARTIAL_INFORMATION_ALIGN64 p64 = (PKEY_VALUE_PARTIAL_INFORMATION_ALIGN64)f->buf[3];
    assert_int_equal(p64->Type, REG_DWORD);
    assert_int_equal(p64->DataLength, 4);
    assert_int_equal(f->len[3], 12);

    assert_status(f->st[4], STATUS_INVALID_PARAMETER);

    assert_status(f->st[5], STATUS_SUCCESS);
    full = (PKEY_VALUE_FULL_INFORMATION)f->buf[4];
    assert_int_equal(full->NameLength, 8);
    assert_int_equal(full->DataOffset, sizeof(void *) == 8 ? 32 : 28);
    assert_int_equal(f->len[5], full->DataOffset + 4);
    ULONG mode;
    memcpy(&mode, f->buf[4] + full->DataOffset, 4);
    assert_int_equal(mode, 7);
}

/* ---- multi-string and binary round trips ---- */

static void other_types(struct fixture *f, PUNICODE_STRING registry_path)
{
    HANDLE key = NULL;
    open_under(registry_path, L"\\Parameters", KEY_READ, &key);
    f->st[0] = query(key, L"Extensions", KeyValuePartialInformation, f->buf[0], sizeof(f->buf[0]),
                     &f->len[0]);
    f->st[1] =
        query(key, L"Blob", KeyValuePartialInformation, f->buf[1], sizeof(f->buf[1]), &f->len[1]);
    f->st[2] =
        query(key, L"Short", KeyValuePartialInformation, f->buf[2], sizeof(f->buf[2]), &f->len[2]);
    ZwClose(key);
}

static void registry_multi_sz_and_binary_round_trip(void **state)
{
    struct fixture *f = *state;
    static const WCHAR multi[] = L"exe\0dll\0sys\0"; /* plus the literal's NUL: "\0\0" at the end */
    static const UCHAR blob[] = {0xde, 0xad, 0x00, 0xbe, 0xef};
    assert_status(fltsim_registry_set_value(f->sys, PARAMETERS, L"Extensions", REG_MULTI_SZ, multi,
                                            sizeof(multi)),
                  STATUS_SUCCESS);
    assert_status(
        fltsim_registry_set_value(f->sys, PARAMETERS, L"Blob", REG_BINARY, blob, sizeof(blob)),
        STATUS_SUCCESS);
    /* A malformed DWORD is stored as given, as on Windows. */
    assert_status(fltsim_registry_set_value(f->sys, PARAMETERS, L"Short", REG_DWORD, blob, 3),
                  STATUS_SUCCESS);
    assert_status(load(f, other_types), STATUS_SUCCESS);

    assert_status(f->st[0], STATUS_SUCCESS);
    PKEY_VALUE_PARTIAL_INFORMATION p = (PKEY_VALUE_PARTIAL_INFORMATION)f->buf[0];
    assert_int_equal(p->Type, REG_MULTI_SZ);
    assert_int_equal(p->DataLength, sizeof(multi));
    assert_memory_equal(p->Data, multi, sizeof(multi));

    assert_status(f->st[1], STATUS_SUCCESS);
    p = (PKEY_VALUE_PARTIAL_INFORMATION)f->buf[1];
    assert_int_equal(p->Type, REG_BINARY);
    assert_int_equal(p->DataLength, sizeof(blob));
    assert_memory_equal(p->Data, blob, sizeof(blob));

    assert_status(f->st[2], STATUS_SUCCESS);
    p = (PKEY_VALUE_PARTIAL_INFORMATION)f->buf[2];
    assert_int_equal(p->Type, REG_DWORD);
    assert_int_equal(p->DataLength, 3);
}

/* ---- case and names ---- */

static void any_case(struct fixture *f, PUNICODE_STRING registry_path)
{
    (void)registry_path;
    HANDLE key = NULL;
    f->st[0] = open_path(L"\\REGISTRY\\machine\\SYSTEM\\currentcontrolset\\SERVICES\\antivirus"
                         L"\\pArAmEtErS\\",
                         NULL, KEY_READ, &key);
    f->st[1] = query(key, L"SCANLIMIT", KeyValuePartialInformation, f->buf[0], sizeof(f->buf[0]),
                     &f->len[1]);
    /* A name counted with its NUL, as sizeof(L"...") gives: Cm ignores it. */
    UNICODE_STRING counted = {sizeof(L"logdir"), sizeof(L"logdir"), (PWCH)L"logdir"};
    f->st[2] = ZwQueryValueKey(key, &counted, KeyValuePartialInformation, f->buf[1],
                               sizeof(f->buf[1]), &f->len[2]);
    ZwClose(key);
}

static void registry_key_and_value_names_are_case_insensitive(void **state)
{
    struct fixture *f = *state;
    assert_status(load(f, any_case), STATUS_SUCCESS);
    assert_status(f->st[0], STATUS_SUCCESS);
    assert_status(f->st[1], STATUS_SUCCESS);
    PKEY_VALUE_PARTIAL_INFORMATION p = (PKEY_VALUE_PARTIAL_INFORMATION)f->buf[0];
    assert_int_equal(p->Type, REG_DWORD);
    assert_status(f->st[2], STATUS_SUCCESS);
    p = (PKEY_VALUE_PARTIAL_INFORMATION)f->buf[1];
    assert_int_equal(p->Type, REG_SZ);
}

/* ---- relative opens, syntax and access ---- */

static void relative(struct fixture *f, PUNICODE_STRING registry_path)
{
    HANDLE service = NULL, params = NULL, h = (HANDLE)1;
    f->st[0] = open_path(registry_path->Buffer, NULL, KEY_READ, &service);
    f->st[1] = open_path(L"Parameters", service, KEY_READ, &params);
    f->st[2] = query(params, L"ScanLimit", KeyValuePartialInformation, f->buf[0], sizeof(f->buf[0]),
                     &f->len[2]);
    ZwClose(params);
    f->st[3] = open_path(L"\\Registry", service, KEY_READ, &h);         /* absolute under a root */
    f->st[4] = open_path(L"Registry\\Machine", NULL, KEY_READ, &h);     /* relative, no root */
    f->st[5] = open_path(L"\\Registry\\\\Machine", NULL, KEY_READ, &h); /* empty component */
    f->handle = h;
    /* opened with no right to query */
    f->st[6] = open_path(L"Parameters", service, 0, &params);
    f->st[7] = query(params, L"ScanLimit", KeyValuePartialInformation, f->buf[1], sizeof(f->buf[1]),
                     &f->len[7]);
    ZwClose(params);
    f->st[8] = open_path(L"Parameters", service, GENERIC_READ, &params);
    f->st[9] = query(params, L"ScanLimit", KeyValuePartialInformation, f->buf[1], sizeof(f->buf[1]),
                     &f->len[9]);
    ZwClose(params);
    f->st[10] = ZwOpenKey(&h, KEY_READ, NULL);
    OBJECT_ATTRIBUTES bad;
    memset(&bad, 0, sizeof(bad)); /* Length 0: not initialized */
    f->st[11] = ZwOpenKey(&h, KEY_READ, &bad);
    ZwClose(service);
}

static void registry_relative_opens_syntax_and_access(void **state)
{
    struct fixture *f = *state;
    assert_status(load(f, relative), STATUS_SUCCESS);
    assert_status(f->st[0], STATUS_SUCCESS);
    assert_status(f->st[1], STATUS_SUCCESS);
    assert_status(f->st[2], STATUS_SUCCESS);
    assert_status(f->st[3], STATUS_OBJECT_PATH_SYNTAX_BAD);
    assert_status(f->st[4], STATUS_OBJECT_PATH_SYNTAX_BAD);
    assert_status(f->st[5], STATUS_OBJECT_NAME_INVALID);
    assert_null(f->handle);
    assert_status(f->st[6], STATUS_SUCCESS);
    assert_status(f->st[7], STATUS_ACCESS_DENIED);
    assert_status(f->st[8], STATUS_SUCCESS);
    assert_status(f->st[9], STATUS_SUCCESS);
    assert_status(f->st[10], STATUS_INVALID_PARAMETER);
    assert_status(f->st[11], STATUS_INVALID_PARAMETER);
    assert_int_equal(fltsim_registry_open_handles(f->sys), 0);
    assert_int_equal(fltsim_system_report_count(f->sys), 0);
}

/* ---- bad handles ---- */

static void bad_handles(struct fixture *f, PUNICODE_STRING registry_path)
{
    HANDLE key = NULL;
    open_under(registry_path, L"\\Parameters", KEY_READ, &key);
    f->st[0] = query((HANDLE)0x1234, L"ScanLimit", KeyValuePartialInformation, f->buf[0],
                     sizeof(f->buf[0]), &f->len[0]);
    f->st[1] = query(NULL, L"ScanLimit", KeyValuePartialInformation, f->buf[0], sizeof(f->buf[0]),
                     &f->len[1]);
    f->st[2] = ZwClose(key);
    f->st[3] = query(key, L"ScanLimit", KeyValuePartialInformation, f->buf[0], sizeof(f->buf[0]),
                     &f->len[3]);
    f->st[4] = ZwClose(key); /* twice */
    HANDLE h = (HANDLE)1;
    f->st[5] = open_path(L"Parameters", key, KEY_READ, &h);
    f->handle = h;
}

static void registry_bad_handles_are_invalid(void **state)
{
    struct fixture *f = *state;
    assert_status(load(f, bad_handles), STATUS_SUCCESS);
    assert_status(f->st[0], STATUS_INVALID_HANDLE);
    assert_status(f->st[1], STATUS_INVALID_HANDLE);
    assert_status(f->st[2], STATUS_SUCCESS);
    assert_status(f->st[3], STATUS_INVALID_HANDLE);
    assert_status(f->st[4], STATUS_INVALID_HANDLE);
    assert_status(f->st[5], STATUS_INVALID_HANDLE);
    assert_null(f->handle);
    /* the second ZwClose is a bugcheck on Windows: reported */
    assert_int_equal(fltsim_system_report_count_rule(f->sys, "V23"), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "ZwClose"));
}

/* ---- IRQL ---- */

static void at_apc(struct fixture *f, PUNICODE_STRING registry_path)
{
    HANDLE key = NULL;
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    f->st[0] = open_under(registry_path, L"\\Parameters", KEY_READ, &key);
    f->st[1] = query(key, L"ScanLimit", KeyValuePartialInformation, f->buf[0], sizeof(f->buf[0]),
                     &f->len[1]);
    f->st[2] = ZwClose(key);
    KeLowerIrql(old);
}

static void registry_above_passive_is_reported(void **state)
{
    struct fixture *f = *state;
    assert_status(load(f, at_apc), STATUS_SUCCESS);
    /* reported, and the calls still do their work */
    assert_status(f->st[0], STATUS_SUCCESS);
    assert_status(f->st[1], STATUS_SUCCESS);
    assert_status(f->st[2], STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->sys, "V28"), 3);
    bool seen[3] = {false, false, false};
    for (ULONG i = 0; i < fltsim_system_report_count(f->sys); i++) {
        struct fltsim_report r;
        assert_status(fltsim_system_report_get(f->sys, i, &r), STATUS_SUCCESS);
        seen[0] |= strstr(r.message, "ZwOpenKey") != NULL;
        seen[1] |= strstr(r.message, "ZwQueryValueKey") != NULL;
        seen[2] |= strstr(r.message, "ZwClose") != NULL;
    }
    assert_true(seen[0] && seen[1] && seen[2]);
}

/* ---- leaks ---- */

static void leak(struct fixture *f, PUNICODE_STRING registry_path)
{
    HANDLE key = NULL;
    f->st[0] = open_under(registry_path, L"\\Parameters", KEY_READ, &key);
}

static void registry_handle_leak_is_reported_at_unload(void **state)
{
    struct fixture *f = *state;
    struct fltsim_pool_stats before, during, after;
    fltsim_pool_tag_stats(KEY_HANDLE_TAG, &before);
    f->register_filter = true;
    assert_status(load(f, leak), STATUS_SUCCESS);
    assert_status(f->st[0], STATUS_SUCCESS);
    assert_int_equal(fltsim_registry_open_handles(f->sys), 1);
    fltsim_pool_tag_stats(KEY_HANDLE_TAG, &during);
    assert_int_equal(during.outstanding, before.outstanding + 1);
    assert_int_equal(fltsim_system_report_count_rule(f->sys, "V23"), 0);

    assert_status(fltsim_driver_unload(f->drv, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->sys, "V23"), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "AntiVirus"));
    assert_non_null(strstr(r.message, "1 registry key handle"));

    /* system destruction closes it */
    fltsim_system_destroy(f->sys);
    f->sys = NULL;
    fltsim_pool_tag_stats(KEY_HANDLE_TAG, &after);
    assert_int_equal(after.outstanding, before.outstanding);
}

static void registry_failed_driver_entry_reports_its_open_handle(void **state)
{
    struct fixture *f = *state;
    /* DriverEntry fails after the leak: the driver goes at once. */
    f->register_filter = true;
    assert_status(fltsim_registry_delete_value(f->sys, PARAMETERS, L"ScanLimit"), STATUS_SUCCESS);
    static const struct fltsim_instance_def none[] = {{L"Other", L"1", 0}};
    const struct fltsim_filter_def def = {SERVICE, NULL, none, 1};
    f->body = leak;
    current = f;
    /* no default instance: FltRegisterFilter fails, DriverEntry returns it */
    assert_status(fltsim_driver_load(f->sys, &def, reg_entry, &f->drv),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(fltsim_system_report_count_rule(f->sys, "V23"), 1);
}

/* ---- deletion ---- */

static void deleted(struct fixture *f, PUNICODE_STRING registry_path)
{
    HANDLE key = NULL;
    f->st[0] = open_under(registry_path, L"\\Parameters", KEY_READ, &key);
    f->st[1] = fltsim_registry_delete_value(f->sys, PARAMETERS, L"LOGDIR");
    f->st[2] =
        query(key, L"LogDir", KeyValuePartialInformation, f->buf[0], sizeof(f->buf[0]), &f->len[2]);
    f->st[3] = fltsim_registry_delete_key(f->sys, SERVICE_KEY);
    f->st[4] = query(key, L"ScanLimit", KeyValuePartialInformation, f->buf[0], sizeof(f->buf[0]),
                     &f->len[4]);
    HANDLE h = NULL;
    f->st[5] = open_path(L"Sub", key, KEY_READ, &h);
    f->st[6] = open_under(registry_path, L"\\Parameters", KEY_READ, &h);
    f->st[7] = ZwClose(key);
}

static void registry_deleted_values_and_keys(void **state)
{
    struct fixture *f = *state;
    assert_status(load(f, deleted), STATUS_SUCCESS);
    assert_status(f->st[0], STATUS_SUCCESS);
    assert_status(f->st[1], STATUS_SUCCESS);
    assert_status(f->st[2], STATUS_OBJECT_NAME_NOT_FOUND);
    assert_status(f->st[3], STATUS_SUCCESS);
    assert_status(f->st[4], STATUS_KEY_DELETED);
    assert_status(f->st[5], STATUS_KEY_DELETED);
    assert_status(f->st[6], STATUS_OBJECT_NAME_NOT_FOUND);
    assert_status(f->st[7], STATUS_SUCCESS);
    assert_status(fltsim_registry_delete_key(f->sys, SERVICE_KEY), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_status(fltsim_registry_delete_key(f->sys, L"\\Registry"), STATUS_CANNOT_DELETE);
    assert_status(fltsim_registry_delete_value(f->sys, L"\\Registry\\Nope", L"x"),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_non_null(strstr(fltsim_last_error(), "no such key"));
}

/* ---- outside filter code ---- */

static void registry_open_outside_filter_code_fails(void **state)
{
    (void)state;
    HANDLE h = (HANDLE)1;
    assert_status(open_path(PARAMETERS, NULL, KEY_READ, &h), STATUS_INVALID_DEVICE_STATE);
    assert_null(h);
    assert_non_null(strstr(fltsim_last_error(), "no filter code"));
}

/* ---- the fltsim API's errors ---- */

static void registry_api_rejects_bad_input(void **state)
{
    struct fixture *f = *state;
    ULONG one = 1;
    assert_status(fltsim_registry_set_dword(NULL, PARAMETERS, L"x", 1), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "sys is NULL"));
    assert_status(fltsim_registry_set_dword(f->sys, NULL, L"x", 1), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_registry_set_dword(f->sys, L"\\Machine\\Foo", L"x", 1),
                  STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "'\\Machine\\Foo' does not start with"));
    assert_status(fltsim_registry_set_dword(f->sys, L"\\RegistryX\\Foo", L"x", 1),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_registry_set_dword(f->sys, L"\\Registry\\Machine\\\\Foo", L"x", 1),
                  STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "empty component"));
    assert_status(fltsim_registry_set_value(f->sys, PARAMETERS, L"x", REG_DWORD, NULL, 4),
                  STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "data is NULL"));
    assert_status(
        fltsim_registry_set_value(f->sys, PARAMETERS, L"x", REG_BINARY, &one, (64u << 20) + 1),
        STATUS_INVALID_PARAMETER);
    assert_status(fltsim_registry_set_string(f->sys, PARAMETERS, L"x", NULL),
                  STATUS_INVALID_PARAMETER);
    WCHAR longname[300];
    for (int i = 0; i < 299; i++)
        longname[i] = L'a';
    memcpy(longname, L"\\Registry\\", 10 * sizeof(WCHAR));
    longname[299] = 0;
    assert_status(fltsim_registry_create_key(f->sys, longname), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "over 255"));
    assert_status(fltsim_registry_delete_value(f->sys, PARAMETERS, L"missing"),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_non_null(strstr(fltsim_last_error(), "no such value"));

    /* overwriting keeps one value and changes its type */
    assert_status(fltsim_registry_set_string(f->sys, PARAMETERS, L"scanlimit", L"big"),
                  STATUS_SUCCESS);
    assert_status(fltsim_registry_create_key(f->sys, L"\\Registry"), STATUS_SUCCESS);
}

static void overwritten(struct fixture *f, PUNICODE_STRING registry_path)
{
    HANDLE key = NULL;
    open_under(registry_path, L"\\Parameters", KEY_READ, &key);
    f->st[0] =
        query(key, L"ScanLimit", KeyValueFullInformation, f->buf[0], sizeof(f->buf[0]), &f->len[0]);
    ZwClose(key);
}

static void registry_set_overwrites_a_value_in_any_case(void **state)
{
    struct fixture *f = *state;
    assert_status(fltsim_registry_set_string(f->sys, PARAMETERS, L"SCANLIMIT", L"big"),
                  STATUS_SUCCESS);
    assert_status(load(f, overwritten), STATUS_SUCCESS);
    assert_status(f->st[0], STATUS_SUCCESS);
    PKEY_VALUE_FULL_INFORMATION full = (PKEY_VALUE_FULL_INFORMATION)f->buf[0];
    assert_int_equal(full->Type, REG_SZ);
    assert_int_equal(full->DataLength, sizeof(L"big"));
    /* the name keeps the case it was created with */
    assert_memory_equal(full->Name, L"ScanLimit", 18);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(registry_driver_entry_reads_dword_and_string),
        CASE(registry_service_key_holds_the_instance_table),
        CASE(registry_refused_load_keeps_the_instance_table),
        CASE(registry_missing_key_or_value_is_not_found),
        CASE(registry_small_buffers_give_too_small_or_overflow),
        CASE(registry_information_classes_have_wdk_layouts),
        CASE(registry_multi_sz_and_binary_round_trip),
        CASE(registry_key_and_value_names_are_case_insensitive),
        CASE(registry_relative_opens_syntax_and_access),
        CASE(registry_bad_handles_are_invalid),
        CASE(registry_above_passive_is_reported),
        CASE(registry_handle_leak_is_reported_at_unload),
        CASE(registry_failed_driver_entry_reports_its_open_handle),
        CASE(registry_deleted_values_and_keys),
        CASE(registry_open_outside_filter_code_fails),
        CASE(registry_api_rejects_bad_input),
        CASE(registry_set_overwrites_a_value_in_any_case),
    };
    return FLTSIM_RUN_SUITE("registry_keys", tests);
}
