/*
 * Registration and unload (SPEC 1.1-1.4, 2.7, 12.6, 12.7, 12.11): what
 * FltRegisterFilter accepts and rejects, in strict and lenient mode; when
 * FltStartFiltering and the deferred mount setup offer volumes; and the unload
 * request from FilterUnloadCallback through FltUnregisterFilter's teardown
 * and its wait for rundown references. Malformed registrations go through
 * "Raw", a hand-written DriverEntry whose FLT_REGISTRATION each case chooses;
 * the other cases use the configurable test filter.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "fltsim_test.h"

#define RAW_TAG 0x74736152u /* 'Rast' */

/* ------------------------------------------------------------------------- */
/* A log of instance events, fed by the system's trace                       */
/* ------------------------------------------------------------------------- */

/* Words such as "start:A:HarddiskVolume1:0x2" (event, filter, volume, flags).
 * Written from whatever thread runs the event, read by the test thread. */
static uv_once_t life_once = UV_ONCE_INIT;
static uv_mutex_t life_lock;
static char life_buf[16384];
static size_t life_len;
static int life_completes; /* TeardownComplete events, atomic */

static void life_init(void)
{
    if (uv_mutex_init(&life_lock) != 0)
        abort();
}

static void life_reset(void)
{
    uv_once(&life_once, life_init);
    uv_mutex_lock(&life_lock);
    life_len = 0;
    life_buf[0] = '\0';
    uv_mutex_unlock(&life_lock);
    __atomic_store_n(&life_completes, 0, __ATOMIC_SEQ_CST);
}

static const char *short_volume(const char *volume)
{
    if (volume == NULL)
        return "-";
    const char *slash = strrchr(volume, '\\');
    return slash != NULL ? slash + 1 : volume;
}

static void life_trace(void *ctx, const struct fltsim_event *ev)
{
    (void)ctx;
    const char *what;
    switch (ev->type) {
    case FLTSIM_EV_INSTANCE_SETUP:
        what = "setup";
        break;
    case FLTSIM_EV_QUERY_TEARDOWN:
        what = "query";
        break;
    case FLTSIM_EV_TEARDOWN_START:
        what = "start";
        break;
    case FLTSIM_EV_TEARDOWN_COMPLETE:
        what = "complete";
        break;
    default:
        return;
    }
    char word[256];
    snprintf(word, sizeof(word), "%s:%s:%s:0x%x", what, ev->filter != NULL ? ev->filter : "-",
             short_volume(ev->volume), (unsigned)ev->flags);
    uv_mutex_lock(&life_lock);
    size_t n = strlen(word);
    if (life_len + n + 2 < sizeof(life_buf)) {
        if (life_len != 0)
            life_buf[life_len++] = ' ';
        memcpy(life_buf + life_len, word, n + 1);
        life_len += n;
    }
    uv_mutex_unlock(&life_lock);
    if (ev->type == FLTSIM_EV_TEARDOWN_COMPLETE)
        __atomic_add_fetch(&life_completes, 1, __ATOMIC_SEQ_CST);
}

static void life_watch(fltsim_system *sys)
{
    life_reset();
    fltsim_system_set_trace(sys, life_trace, NULL);
}

/* Occurrences of word (a whole word or a prefix of words) in the log. */
static int life_count(const char *word)
{
    int n = 0;
    uv_mutex_lock(&life_lock);
    for (const char *p = strstr(life_buf, word); p != NULL; p = strstr(p + 1, word))
        n++;
    uv_mutex_unlock(&life_lock);
    return n;
}

/* Fails unless first and second are both logged, first before second. */
static void life_assert_before(const char *first, const char *second, const char *file, int line)
{
    uv_mutex_lock(&life_lock);
    const char *a = strstr(life_buf, first), *b = strstr(life_buf, second);
    bool ok = a != NULL && b != NULL && a < b;
    if (!ok)
        print_error("expected '%s' before '%s' in:\n  %s\n", first, second, life_buf);
    uv_mutex_unlock(&life_lock);
    if (!ok)
        _fail(file, line);
}
#define assert_life_before(first, second) life_assert_before((first), (second), __FILE__, __LINE__)

/* ------------------------------------------------------------------------- */
/* "Raw": a DriverEntry for registrations the test filter cannot express     */
/* ------------------------------------------------------------------------- */

struct raw_filter {
    /* what DriverEntry does */
    const FLT_REGISTRATION *reg; /* handed to FltRegisterFilter as is (may be NULL) */
    bool null_ret_filter;        /* pass RetFilter = NULL */
    int foreign_driver;          /* 1: a zeroed DRIVER_OBJECT, 2: a copy of the real one */
    bool register_twice;
    bool start;
    bool start_twice;
    /* what happened */
    NTSTATUS register_status, register2_status, start_status, start2_status;
    PFLT_FILTER filter, filter2;
};

static struct raw_filter raw;

static const struct fltsim_instance_def raw_instance = {L"Raw Instance", L"200000", 0};
static const struct fltsim_filter_def raw_def = {L"Raw", L"Raw Instance", &raw_instance, 1};

static FLT_PREOP_CALLBACK_STATUS raw_pre(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                         PVOID *context)
{
    (void)data;
    (void)objects;
    *context = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS raw_post(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                           PVOID context, FLT_POST_OPERATION_FLAGS flags)
{
    (void)data;
    (void)objects;
    (void)context;
    (void)flags;
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static NTSTATUS raw_setup(PCFLT_RELATED_OBJECTS objects, FLT_INSTANCE_SETUP_FLAGS flags,
                          DEVICE_TYPE device_type, FLT_FILESYSTEM_TYPE fs_type)
{
    (void)objects;
    (void)device_type;
    (void)fs_type;
    rec_add("raw:setup:0x%x", (unsigned)flags);
    return STATUS_SUCCESS;
}

static NTSTATUS raw_unload(FLT_FILTER_UNLOAD_FLAGS flags)
{
    (void)flags;
    FltUnregisterFilter(raw.filter);
    return STATUS_SUCCESS;
}

static NTSTATUS raw_generate(PFLT_INSTANCE instance, PFILE_OBJECT file_object,
                             PFLT_CALLBACK_DATA data, FLT_FILE_NAME_OPTIONS options, PBOOLEAN cache,
                             PFLT_NAME_CONTROL name)
{
    (void)instance;
    (void)file_object;
    (void)data;
    (void)options;
    (void)cache;
    (void)name;
    return STATUS_NOT_SUPPORTED;
}

static NTSTATUS raw_normalize(PFLT_INSTANCE instance, PCUNICODE_STRING parent,
                              USHORT volume_name_length, PCUNICODE_STRING component,
                              PFILE_NAMES_INFORMATION expand, ULONG expand_length,
                              FLT_NORMALIZE_NAME_FLAGS flags, PVOID *context)
{
    (void)instance;
    (void)parent;
    (void)volume_name_length;
    (void)component;
    (void)expand;
    (void)expand_length;
    (void)flags;
    (void)context;
    return STATUS_NOT_SUPPORTED;
}

static NTSTATUS raw_normalize_ex(PFLT_INSTANCE instance, PFILE_OBJECT file_object,
                                 PCUNICODE_STRING parent, USHORT volume_name_length,
                                 PCUNICODE_STRING component, PFILE_NAMES_INFORMATION expand,
                                 ULONG expand_length, FLT_NORMALIZE_NAME_FLAGS flags,
                                 PVOID *context)
{
    (void)file_object;
    return raw_normalize(instance, parent, volume_name_length, component, expand, expand_length,
                         flags, context);
}

static void raw_cleanup(PVOID *context)
{
    (void)context;
}

static PVOID raw_ctx_alloc(POOL_TYPE pool_type, SIZE_T size, FLT_CONTEXT_TYPE type)
{
    (void)type;
    return ExAllocatePoolWithTag(pool_type, size, RAW_TAG);
}

static void raw_ctx_free(PVOID pool, FLT_CONTEXT_TYPE type)
{
    (void)type;
    ExFreePoolWithTag(pool, RAW_TAG);
}

static void raw_ctx_cleanup(PFLT_CONTEXT context, FLT_CONTEXT_TYPE type)
{
    (void)context;
    (void)type;
}

static NTSTATUS raw_entry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
    (void)registry_path;
    DRIVER_OBJECT forged;
    static DRIVER_OBJECT zeroed;
    PDRIVER_OBJECT use = driver;
    if (raw.foreign_driver == 1) {
        use = &zeroed;
    } else if (raw.foreign_driver == 2) {
        memcpy(&forged, driver, sizeof(forged));
        use = &forged;
    }
    raw.register_status = FltRegisterFilter(use, raw.reg, raw.null_ret_filter ? NULL : &raw.filter);
    if (!NT_SUCCESS(raw.register_status))
        return raw.register_status;
    if (raw.register_twice)
        raw.register2_status = FltRegisterFilter(driver, raw.reg, &raw.filter2);
    if (raw.start) {
        raw.start_status = FltStartFiltering(raw.filter);
        rec_add("entry:started");
        if (raw.start_twice)
            raw.start2_status = FltStartFiltering(raw.filter);
    }
    return STATUS_SUCCESS;
}

/* A registration every check accepts: Raw's unload and setup callbacks, no
 * operations, no contexts. */
static FLT_REGISTRATION raw_registration(void)
{
    FLT_REGISTRATION reg;
    memset(&reg, 0, sizeof(reg));
    reg.Size = sizeof(reg);
    reg.Version = FLT_REGISTRATION_VERSION;
    reg.FilterUnloadCallback = raw_unload;
    reg.InstanceSetupCallback = raw_setup;
    return reg;
}

static void raw_reset(void)
{
    memset(&raw, 0, sizeof(raw));
}

static fltsim_system *system_new(ULONG flags)
{
    struct fltsim_system_options options = test_options(flags);
    fltsim_system *sys = NULL;
    assert_status(fltsim_system_create(&options, &sys), STATUS_SUCCESS);
    return sys;
}

/* Loads Raw with reg into a fresh system (strict or lenient per
 * system_flags) and checks what FltRegisterFilter returned, that the driver
 * is loaded exactly when that succeeded, and, unless v12 is -1, how many V12
 * reports the registration produced. label names the case on failure. */
static void expect_registration(const char *label, ULONG system_flags, const FLT_REGISTRATION *reg,
                                NTSTATUS expected, int v12)
{
    fltsim_system *sys = system_new(system_flags);
    raw_reset();
    raw.reg = reg;
    fltsim_driver *drv = NULL;
    NTSTATUS load = fltsim_driver_load(sys, &raw_def, raw_entry, &drv);
    NTSTATUS got = raw.register_status;
    int reports = (int)fltsim_system_report_count_rule(sys, "V12");
    bool found = fltsim_driver_find(sys, L"Raw") != NULL;
    fltsim_system_destroy(sys);

    char g[64], e[64], l[64];
    fltsim_ntstatus_format(got, g, sizeof(g));
    fltsim_ntstatus_format(expected, e, sizeof(e));
    fltsim_ntstatus_format(load, l, sizeof(l));
    if ((ULONG)got != (ULONG)expected)
        fail_msg("%s: FltRegisterFilter returned %s, expected %s", label, g, e);
    if ((ULONG)load != (ULONG)expected || (drv != NULL) != NT_SUCCESS(expected) ||
        found != NT_SUCCESS(expected))
        fail_msg("%s: fltsim_driver_load returned %s, driver %s", label, l,
                 found ? "loaded" : "not loaded");
    if (v12 >= 0 && reports != v12)
        fail_msg("%s: %d V12 reports, expected %d", label, reports, v12);
}

#define STRICT 0
#define LENIENT FLTSIM_SYSTEM_LENIENT_REGISTRATION

/* Expects strict mode to reject ops with STATUS_INVALID_PARAMETER. */
static void expect_ops_rejected(const char *label, const FLT_OPERATION_REGISTRATION *ops)
{
    FLT_REGISTRATION reg = raw_registration();
    reg.OperationRegistration = ops;
    expect_registration(label, STRICT, &reg, STATUS_INVALID_PARAMETER, -1);
}

/* ------------------------------------------------------------------------- */
/* Fixture for the cases that need a world                                   */
/* ------------------------------------------------------------------------- */

/* seen is written by filter hooks, which can run again while world_destroy
 * unloads the filters, after the test returned: it must not be on its stack. */
struct fx {
    struct test_world w;
    struct tf_filter a, b;
    NTSTATUS seen;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    raw_reset();
    life_reset();
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    if (f->w.sys != NULL)
        world_destroy(&f->w);
    free(f);
    return 0;
}

/* Opens and closes C:\a.txt (or path), so that filters see a create. */
static void touch(struct fx *f, PCWSTR path)
{
    HANDLE h = world_open(&f->w, path, GENERIC_READ);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* Mounts a second memfs volume, D: = \Device\HarddiskVolume2, holding \d.txt. */
static PFLT_VOLUME mount_d(fltsim_system *sys)
{
    struct fltsim_memfs *fs = NULL;
    assert_status(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(fs, L"\\d.txt", "delta", 5), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume2",
                                      .drive_letter = L'D',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = FLT_FSTYPE_FAT};
    PFLT_VOLUME v = NULL;
    assert_status(fltsim_volume_mount(sys, &vp, &v), STATUS_SUCCESS);
    return v;
}

/* A file system that answers every IRP with STATUS_SUCCESS. */
static NTSTATUS tiny_irp(void *fs, PFLT_CALLBACK_DATA data)
{
    (void)fs;
    rec_add("TINY:%s", tf_major(data->Iopb->MajorFunction));
    data->IoStatus.Status = STATUS_SUCCESS;
    data->IoStatus.Information = 0;
    return STATUS_SUCCESS;
}

static const struct fltsim_fs_ops tiny_ops = {"tiny", tiny_irp, NULL, NULL, NULL};

static PFLT_VOLUME mount_tiny(fltsim_system *sys)
{
    struct fltsim_volume_params vp = {
        .device_name = L"\\Device\\Tiny", .ops = &tiny_ops, .fs_type = FLT_FSTYPE_UNKNOWN};
    PFLT_VOLUME v = NULL;
    assert_status(fltsim_volume_mount(sys, &vp, &v), STATUS_SUCCESS);
    return v;
}

static NTSTATUS send_flush(PFLT_VOLUME volume)
{
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_FLUSH_BUFFERS;
    req.file_object = NULL;
    req.requestor_mode = KernelMode;
    return fltsim_request_dispatch(volume, &req);
}

/* ========================================================================= */
/* FltRegisterFilter: arguments (SPEC 1.4)                                   */
/* ========================================================================= */

/* SPEC 1.4: Registration is required. */
static void register_null_registration_is_invalid_parameter(void **state)
{
    (void)state;
    expect_registration("NULL Registration", STRICT, NULL, STATUS_INVALID_PARAMETER, -1);
}

/* SPEC 1.4: RetFilter is required. */
static void register_null_ret_filter_is_invalid_parameter(void **state)
{
    (void)state;
    fltsim_system *sys = system_new(STRICT);
    raw_reset();
    FLT_REGISTRATION reg = raw_registration();
    raw.reg = &reg;
    raw.null_ret_filter = true;
    fltsim_driver *drv = NULL;
    NTSTATUS load = fltsim_driver_load(sys, &raw_def, raw_entry, &drv);
    fltsim_system_destroy(sys);
    assert_status(raw.register_status, STATUS_INVALID_PARAMETER);
    assert_status(load, STATUS_INVALID_PARAMETER);
    assert_null(drv);
}

/* SPEC 1.1 (Size must be sizeof(FLT_REGISTRATION)), 1.4 / 12.11: strict mode
 * rejects a wrong Size. */
static void register_wrong_size_strict_is_invalid_parameter(void **state)
{
    (void)state;
    FLT_REGISTRATION reg = raw_registration();
    reg.Size = (USHORT)(sizeof(reg) - sizeof(PVOID));
    expect_registration("Size - 8", STRICT, &reg, STATUS_INVALID_PARAMETER, -1);
    reg.Size = 0;
    expect_registration("Size 0", STRICT, &reg, STATUS_INVALID_PARAMETER, -1);
}

/* SPEC 1.4 / 12.11: lenient mode accepts a wrong Size with a V12 report. */
static void register_wrong_size_lenient_is_accepted_with_v12(void **state)
{
    (void)state;
    FLT_REGISTRATION reg = raw_registration();
    reg.Size = (USHORT)(sizeof(reg) - sizeof(PVOID));
    expect_registration("Size - 8, lenient", LENIENT, &reg, STATUS_SUCCESS, 1);
}

/* SPEC 1.1: FltMgr checks the major byte of Version only; a changed minor
 * byte registers. */
static void register_version_minor_changed_is_accepted(void **state)
{
    (void)state;
    static const USHORT versions[] = {0x0200, 0x0201, 0x0202, 0x0203, 0x0204, 0x02ff};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        FLT_REGISTRATION reg = raw_registration();
        reg.Version = versions[i];
        char label[32];
        snprintf(label, sizeof(label), "Version 0x%04x", versions[i]);
        expect_registration(label, STRICT, &reg, STATUS_SUCCESS, 0);
    }
}

/* SPEC 1.1, 1.4: a changed major byte does not register. */
static void register_version_major_changed_is_invalid_parameter(void **state)
{
    (void)state;
    static const USHORT versions[] = {0x0003, 0x0103, 0x0303, 0xff03};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        FLT_REGISTRATION reg = raw_registration();
        reg.Version = versions[i];
        char label[32];
        snprintf(label, sizeof(label), "Version 0x%04x", versions[i]);
        expect_registration(label, STRICT, &reg, STATUS_INVALID_PARAMETER, -1);
    }
}

/* ========================================================================= */
/* FltRegisterFilter: the operation array (SPEC 1.2, 1.3, 1.4, 12.11)       */
/* ========================================================================= */

static const FLT_OPERATION_REGISTRATION ops_power[] = {{IRP_MJ_CREATE, 0, raw_pre, NULL, NULL},
                                                       {IRP_MJ_POWER, 0, raw_pre, NULL, NULL},
                                                       {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};
static const FLT_OPERATION_REGISTRATION ops_power_post[] = {
    {IRP_MJ_POWER, 0, NULL, raw_post, NULL}, {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};
static const FLT_OPERATION_REGISTRATION ops_device_change[] = {
    {IRP_MJ_DEVICE_CHANGE, 0, raw_pre, raw_post, NULL},
    {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};
static const FLT_OPERATION_REGISTRATION ops_device_change_post[] = {
    {IRP_MJ_DEVICE_CHANGE, 0, NULL, raw_post, NULL}, {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};
static const FLT_OPERATION_REGISTRATION ops_shutdown_pre_post[] = {
    {IRP_MJ_SHUTDOWN, 0, raw_pre, raw_post, NULL}, {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};
static const FLT_OPERATION_REGISTRATION ops_shutdown_post_only[] = {
    {IRP_MJ_SHUTDOWN, 0, NULL, raw_post, NULL}, {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};
static const FLT_OPERATION_REGISTRATION ops_shutdown_pre[] = {
    {IRP_MJ_SHUTDOWN, 0, raw_pre, NULL, NULL}, {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};
static int reserved_target;
static const FLT_OPERATION_REGISTRATION ops_reserved1[] = {
    {IRP_MJ_CREATE, 0, raw_pre, raw_post, &reserved_target},
    {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};
static const FLT_OPERATION_REGISTRATION ops_code_1c[] = {
    {0x1c, 0, raw_pre, NULL, NULL}, {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};
static const FLT_OPERATION_REGISTRATION ops_code_7f[] = {
    {0x7f, 0, raw_pre, NULL, NULL}, {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};
static const FLT_OPERATION_REGISTRATION ops_code_f5[] = {
    {0xf5, 0, raw_pre, NULL, NULL}, {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};
static const FLT_OPERATION_REGISTRATION ops_code_f8[] = {
    {0xf8, 0, raw_pre, NULL, NULL}, {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};
static const FLT_OPERATION_REGISTRATION ops_duplicate[] = {
    {IRP_MJ_READ, 0, raw_pre, raw_post, NULL},
    {IRP_MJ_WRITE, 0, raw_pre, raw_post, NULL},
    {IRP_MJ_READ, 0, raw_pre, raw_post, NULL},
    {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};

/* SPEC 1.3: neither a pre nor a post may be registered for IRP_MJ_POWER. */
static void register_power_strict_is_invalid_parameter(void **state)
{
    (void)state;
    expect_ops_rejected("POWER pre", ops_power);
    expect_ops_rejected("POWER post", ops_power_post);
}

/* SPEC 1.3: nor for IRP_MJ_DEVICE_CHANGE. */
static void register_device_change_strict_is_invalid_parameter(void **state)
{
    (void)state;
    expect_ops_rejected("DEVICE_CHANGE pre+post", ops_device_change);
    expect_ops_rejected("DEVICE_CHANGE post", ops_device_change_post);
}

/* SPEC 1.3, 1.4: IRP_MJ_SHUTDOWN may have a pre but not a post. */
static void register_shutdown_post_strict_is_invalid_parameter(void **state)
{
    (void)state;
    expect_ops_rejected("SHUTDOWN pre+post", ops_shutdown_pre_post);
    expect_ops_rejected("SHUTDOWN post only", ops_shutdown_post_only);
}

/* SPEC 1.3: a SHUTDOWN pre alone is legal, even in strict mode. */
static void register_shutdown_pre_only_is_accepted(void **state)
{
    (void)state;
    FLT_REGISTRATION reg = raw_registration();
    reg.OperationRegistration = ops_shutdown_pre;
    expect_registration("SHUTDOWN pre", STRICT, &reg, STATUS_SUCCESS, 0);
}

/* SPEC 1.2, 1.4: Reserved1 must be NULL. */
static void register_reserved1_strict_is_invalid_parameter(void **state)
{
    (void)state;
    expect_ops_rejected("Reserved1", ops_reserved1);
}

/* SPEC 1.3, 1.4: codes FltMgr does not define (0x1c is one past IRP_MJ_PNP;
 * 0xF8 and 0xF5 are in the reserved -8 ... -12 range) are rejected. */
static void register_unknown_code_strict_is_invalid_parameter(void **state)
{
    (void)state;
    expect_ops_rejected("code 0x1c", ops_code_1c);
    expect_ops_rejected("code 0x7f", ops_code_7f);
    expect_ops_rejected("code 0xf5", ops_code_f5);
    expect_ops_rejected("code 0xf8", ops_code_f8);
}

/* SPEC 1.4, 12.11: a major listed twice is rejected in strict mode. */
static void register_duplicate_major_strict_is_invalid_parameter(void **state)
{
    (void)state;
    expect_ops_rejected("READ twice", ops_duplicate);
}

/* SPEC 1.2: an array without IRP_MJ_OPERATION_END is rejected, in lenient
 * mode too. The 300 entries are all IRP_MJ_READ, so in lenient mode (where
 * duplicates pass) the missing terminator is the only fault. */
static void register_unterminated_operations_is_invalid_parameter(void **state)
{
    (void)state;
    static FLT_OPERATION_REGISTRATION ops[300];
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        FLT_OPERATION_REGISTRATION e = {IRP_MJ_READ, 0, raw_pre, NULL, NULL};
        ops[i] = e;
    }
    FLT_REGISTRATION reg = raw_registration();
    reg.OperationRegistration = ops;
    expect_registration("unterminated, strict", STRICT, &reg, STATUS_INVALID_PARAMETER, -1);
    expect_registration("unterminated, lenient", LENIENT, &reg, STATUS_INVALID_PARAMETER, -1);
}

/* SPEC 1.4, 12.11: lenient mode accepts each invalid operation registration
 * with one V12 report. */
static void register_invalid_operations_lenient_are_accepted_with_v12(void **state)
{
    (void)state;
    static const struct {
        const char *label;
        const FLT_OPERATION_REGISTRATION *ops;
    } cases[] = {
        {"POWER pre", ops_power},
        {"POWER post", ops_power_post},
        {"DEVICE_CHANGE", ops_device_change},
        {"SHUTDOWN pre+post", ops_shutdown_pre_post},
        {"SHUTDOWN post only", ops_shutdown_post_only},
        {"Reserved1", ops_reserved1},
        {"code 0x1c", ops_code_1c},
        {"code 0xf5", ops_code_f5},
        {"READ twice", ops_duplicate},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        FLT_REGISTRATION reg = raw_registration();
        reg.OperationRegistration = cases[i].ops;
        expect_registration(cases[i].label, LENIENT, &reg, STATUS_SUCCESS, 1);
    }
}

/* SPEC 1.2, 1.3: every registrable code (IRP majors but POWER and
 * DEVICE_CHANGE, FltMgr's own codes; SHUTDOWN without a post) is accepted in
 * strict mode without a report. */
static void register_every_registrable_code_is_accepted(void **state)
{
    (void)state;
    static FLT_OPERATION_REGISTRATION ops[64];
    size_t n = 0;
    for (int major = 0; major < 256; major++) {
        if (fltsim_major_name((UCHAR)major) == NULL || major == IRP_MJ_POWER ||
            major == IRP_MJ_DEVICE_CHANGE)
            continue;
        FLT_OPERATION_REGISTRATION e = {(UCHAR)major, 0, raw_pre,
                                        major == IRP_MJ_SHUTDOWN ? NULL : raw_post, NULL};
        ops[n++] = e;
    }
    assert_int_equal(n, 26 + 15); /* 28 majors - 2, and the 15 FltMgr codes of SPEC 1.3 */
    ops[n].MajorFunction = IRP_MJ_OPERATION_END;
    FLT_REGISTRATION reg = raw_registration();
    reg.OperationRegistration = ops;
    expect_registration("every registrable code", STRICT, &reg, STATUS_SUCCESS, 0);
}

/* ========================================================================= */
/* FltRegisterFilter: name provider (SPEC 1.1)                               */
/* ========================================================================= */

/* SPEC 1.1: NormalizeNameComponent without GenerateFileName, cleanup without
 * normalize, and GenerateFileName without any normalize routine are rejected. */
static void register_inconsistent_name_provider_is_invalid_parameter(void **state)
{
    (void)state;
    FLT_REGISTRATION reg = raw_registration();
    reg.NormalizeNameComponentCallback = raw_normalize;
    expect_registration("normalize without generate", STRICT, &reg, STATUS_INVALID_PARAMETER, -1);

    reg = raw_registration();
    reg.NormalizeNameComponentExCallback = raw_normalize_ex;
    expect_registration("normalize-ex without generate", STRICT, &reg, STATUS_INVALID_PARAMETER,
                        -1);

    reg = raw_registration();
    reg.NormalizeContextCleanupCallback = raw_cleanup;
    expect_registration("cleanup without normalize", STRICT, &reg, STATUS_INVALID_PARAMETER, -1);

    reg = raw_registration();
    reg.GenerateFileNameCallback = raw_generate;
    expect_registration("generate without normalize", STRICT, &reg, STATUS_INVALID_PARAMETER, -1);
}

/* SPEC 1.1: a complete name provider registers; either normalize routine
 * satisfies "at least one of the two". */
static void register_complete_name_provider_is_accepted(void **state)
{
    (void)state;
    FLT_REGISTRATION reg = raw_registration();
    reg.GenerateFileNameCallback = raw_generate;
    reg.NormalizeNameComponentCallback = raw_normalize;
    reg.NormalizeContextCleanupCallback = raw_cleanup;
    expect_registration("generate+normalize+cleanup", STRICT, &reg, STATUS_SUCCESS, 0);

    reg = raw_registration();
    reg.GenerateFileNameCallback = raw_generate;
    reg.NormalizeNameComponentExCallback = raw_normalize_ex;
    expect_registration("generate+normalize-ex", STRICT, &reg, STATUS_SUCCESS, 0);
}

/* ========================================================================= */
/* FltRegisterFilter: context registration (SPEC 7.1)                        */
/* ========================================================================= */

static const FLT_CONTEXT_REGISTRATION ctx_no_tag[] = {
    {FLT_STREAM_CONTEXT, 0, NULL, 16, 0, NULL, NULL, NULL},
    {FLT_CONTEXT_END, 0, NULL, 0, 0, NULL, NULL, NULL}};
static const FLT_CONTEXT_REGISTRATION ctx_alloc_without_free[] = {
    {FLT_STREAM_CONTEXT, 0, NULL, 16, RAW_TAG, raw_ctx_alloc, NULL, NULL},
    {FLT_CONTEXT_END, 0, NULL, 0, 0, NULL, NULL, NULL}};
static const FLT_CONTEXT_REGISTRATION ctx_two_variable[] = {
    {FLT_STREAM_CONTEXT, 0, NULL, FLT_VARIABLE_SIZED_CONTEXTS, RAW_TAG, NULL, NULL, NULL},
    {FLT_STREAM_CONTEXT, 0, raw_ctx_cleanup, FLT_VARIABLE_SIZED_CONTEXTS, RAW_TAG, NULL, NULL,
     NULL},
    {FLT_CONTEXT_END, 0, NULL, 0, 0, NULL, NULL, NULL}};
static const FLT_CONTEXT_REGISTRATION ctx_alloc_not_alone[] = {
    {FLT_STREAM_CONTEXT, 0, NULL, 16, RAW_TAG, raw_ctx_alloc, raw_ctx_free, NULL},
    {FLT_STREAM_CONTEXT, 0, NULL, 32, RAW_TAG, NULL, NULL, NULL},
    {FLT_CONTEXT_END, 0, NULL, 0, 0, NULL, NULL, NULL}};
static const FLT_CONTEXT_REGISTRATION ctx_too_big[] = {
    {FLT_STREAM_CONTEXT, 0, NULL, (SIZE_T)MAXUSHORT + 1, RAW_TAG, NULL, NULL, NULL},
    {FLT_CONTEXT_END, 0, NULL, 0, 0, NULL, NULL, NULL}};
static const FLT_CONTEXT_REGISTRATION ctx_four_fixed[] = {
    {FLT_STREAM_CONTEXT, 0, NULL, 16, RAW_TAG, NULL, NULL, NULL},
    {FLT_STREAM_CONTEXT, 0, NULL, 32, RAW_TAG, NULL, NULL, NULL},
    {FLT_STREAM_CONTEXT, 0, NULL, 48, RAW_TAG, NULL, NULL, NULL},
    {FLT_STREAM_CONTEXT, 0, NULL, 64, RAW_TAG, NULL, NULL, NULL},
    {FLT_CONTEXT_END, 0, NULL, 0, 0, NULL, NULL, NULL}};
/* The limits exactly: three fixed sizes and one variable entry for a type, an
 * exact duplicate (ignored), sizes 0 and MAXUSHORT, and an allocate/free pair
 * alone for its type with PoolTag 0. */
static const FLT_CONTEXT_REGISTRATION ctx_valid[] = {
    {FLT_VOLUME_CONTEXT, 0, raw_ctx_cleanup, 32, RAW_TAG, NULL, NULL, NULL},
    {FLT_VOLUME_CONTEXT, 0, NULL, 0, RAW_TAG, NULL, NULL, NULL},
    {FLT_VOLUME_CONTEXT, 0, NULL, MAXUSHORT, RAW_TAG, NULL, NULL, NULL},
    {FLT_STREAM_CONTEXT, 0, NULL, 16, RAW_TAG, NULL, NULL, NULL},
    {FLT_STREAM_CONTEXT, 0, NULL, 32, RAW_TAG, NULL, NULL, NULL},
    {FLT_STREAM_CONTEXT, FLTFL_CONTEXT_REGISTRATION_NO_EXACT_SIZE_MATCH, NULL, 64, RAW_TAG, NULL,
     NULL, NULL},
    {FLT_STREAM_CONTEXT, 0, NULL, FLT_VARIABLE_SIZED_CONTEXTS, RAW_TAG, NULL, NULL, NULL},
    {FLT_STREAM_CONTEXT, 0, NULL, 16, RAW_TAG, NULL, NULL, NULL},
    {FLT_INSTANCE_CONTEXT, 0, NULL, 24, 0, raw_ctx_alloc, raw_ctx_free, NULL},
    {FLT_CONTEXT_END, 0, NULL, 0, 0, NULL, NULL, NULL}};

static void expect_contexts(const char *label, const FLT_CONTEXT_REGISTRATION *contexts,
                            NTSTATUS expected)
{
    FLT_REGISTRATION reg = raw_registration();
    reg.ContextRegistration = contexts;
    expect_registration(label, STRICT, &reg, expected, -1);
}

/* SPEC 7.1: PoolTag is required without an allocate callback. */
static void register_context_without_pool_tag_is_invalid_context_registration(void **state)
{
    (void)state;
    expect_contexts("PoolTag 0", ctx_no_tag, STATUS_FLT_INVALID_CONTEXT_REGISTRATION);
}

/* SPEC 7.1: an allocate callback comes with a free callback. */
static void register_context_alloc_without_free_is_invalid_context_registration(void **state)
{
    (void)state;
    expect_contexts("allocate without free", ctx_alloc_without_free,
                    STATUS_FLT_INVALID_CONTEXT_REGISTRATION);
}

/* SPEC 7.1: at most three fixed-size entries per type. */
static void register_context_four_fixed_sizes_is_invalid_context_registration(void **state)
{
    (void)state;
    expect_contexts("four fixed sizes", ctx_four_fixed, STATUS_FLT_INVALID_CONTEXT_REGISTRATION);
}

/* SPEC 7.1: at most one variable-size entry per type. */
static void register_context_two_variable_sizes_is_invalid_context_registration(void **state)
{
    (void)state;
    expect_contexts("two variable sizes", ctx_two_variable,
                    STATUS_FLT_INVALID_CONTEXT_REGISTRATION);
}

/* SPEC 7.1: an entry with an allocate callback must be the only one for its
 * type. */
static void register_context_alloc_entry_not_alone_is_invalid_context_registration(void **state)
{
    (void)state;
    expect_contexts("allocate entry with another", ctx_alloc_not_alone,
                    STATUS_FLT_INVALID_CONTEXT_REGISTRATION);
}

/* SPEC 7.1: the largest context is MAXUSHORT bytes. */
static void register_context_size_over_maxushort_is_invalid_context_registration(void **state)
{
    (void)state;
    expect_contexts("Size MAXUSHORT + 1", ctx_too_big, STATUS_FLT_INVALID_CONTEXT_REGISTRATION);
}

/* SPEC 7.1: the array ends with FLT_CONTEXT_END. The 300 entries are
 * identical valid ones (exact duplicates are ignored), so the missing
 * terminator is the only fault. */
static void register_context_unterminated_is_invalid_context_registration(void **state)
{
    (void)state;
    static FLT_CONTEXT_REGISTRATION contexts[300];
    for (size_t i = 0; i < sizeof(contexts) / sizeof(contexts[0]); i++) {
        FLT_CONTEXT_REGISTRATION e = {FLT_STREAM_CONTEXT, 0, NULL, 16, RAW_TAG, NULL, NULL, NULL};
        contexts[i] = e;
    }
    expect_contexts("unterminated", contexts, STATUS_FLT_INVALID_CONTEXT_REGISTRATION);
}

/* SPEC 7.1: an array at the limits is accepted. */
static void register_context_valid_array_is_accepted(void **state)
{
    (void)state;
    expect_contexts("valid contexts", ctx_valid, STATUS_SUCCESS);
}

/* ========================================================================= */
/* FltRegisterFilter: the driver and its registry (SPEC 1.4, 10 V27)         */
/* ========================================================================= */

/* SPEC 1.4 [SIM]: no DefaultInstance in the instance table (or one that names
 * no instance) fails registration with STATUS_OBJECT_NAME_NOT_FOUND; DriverEntry
 * returns it, and the driver is not loaded. */
static void register_without_default_instance_is_object_name_not_found(void **state)
{
    (void)state;
    const struct fltsim_filter_def defs[] = {
        {L"Raw", NULL, &raw_instance, 1},
        {L"Raw", L"Missing Instance", &raw_instance, 1},
        {L"Raw", NULL, NULL, 0},
    };
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
        fltsim_system *sys = system_new(STRICT);
        raw_reset();
        FLT_REGISTRATION reg = raw_registration();
        raw.reg = &reg;
        fltsim_driver *drv = NULL;
        NTSTATUS load = fltsim_driver_load(sys, &defs[i], raw_entry, &drv);
        bool found = fltsim_driver_find(sys, L"Raw") != NULL;
        fltsim_system_destroy(sys);
        assert_status(raw.register_status, STATUS_OBJECT_NAME_NOT_FOUND);
        assert_status(load, STATUS_OBJECT_NAME_NOT_FOUND);
        assert_null(drv);
        assert_false(found);
    }
}

/* SPEC 1.4, 10 (V27): a driver registers only itself; a DRIVER_OBJECT that
 * fltsim did not load (zeroed, or a copy of the real one) is refused with
 * STATUS_INVALID_PARAMETER and a V27 report. */
static void register_foreign_driver_object_is_invalid_parameter_with_v27(void **state)
{
    (void)state;
    for (int forged = 1; forged <= 2; forged++) {
        fltsim_system *sys = system_new(STRICT);
        raw_reset();
        FLT_REGISTRATION reg = raw_registration();
        raw.reg = &reg;
        raw.foreign_driver = forged;
        fltsim_driver *drv = NULL;
        NTSTATUS load = fltsim_driver_load(sys, &raw_def, raw_entry, &drv);
        ULONG v27 = fltsim_system_report_count_rule(sys, "V27");
        fltsim_system_destroy(sys);
        assert_status(raw.register_status, STATUS_INVALID_PARAMETER);
        assert_null(raw.filter);
        assert_status(load, STATUS_INVALID_PARAMETER);
        assert_null(drv);
        assert_int_equal(v27, 1);
    }
}

/* SPEC 1.4: a driver registers one filter; a second FltRegisterFilter fails
 * ([SIM] STATUS_INVALID_PARAMETER) and the first filter stays registered. */
static void register_twice_from_one_driver_fails(void **state)
{
    (void)state;
    fltsim_system *sys = system_new(STRICT);
    raw_reset();
    FLT_REGISTRATION reg = raw_registration();
    raw.reg = &reg;
    raw.register_twice = true;
    fltsim_driver *drv = NULL;
    NTSTATUS load = fltsim_driver_load(sys, &raw_def, raw_entry, &drv);
    PFLT_FILTER kept = drv != NULL ? fltsim_driver_filter(drv) : NULL;
    fltsim_system_destroy(sys);
    assert_status(load, STATUS_SUCCESS);
    assert_status(raw.register_status, STATUS_SUCCESS);
    assert_status(raw.register2_status, STATUS_INVALID_PARAMETER);
    assert_null(raw.filter2);
    assert_non_null(raw.filter);
    assert_ptr_equal(kept, raw.filter);
}

/* ========================================================================= */
/* FltStartFiltering (SPEC 1.4, 2.4, 12.5)                                   */
/* ========================================================================= */

/* SPEC 1.4: a second FltStartFiltering returns STATUS_INVALID_PARAMETER and
 * does not offer the volumes again. */
static void start_filtering_twice_is_invalid_parameter(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    FLT_REGISTRATION reg = raw_registration();
    raw.reg = &reg;
    raw.start = true;
    raw.start_twice = true;
    fltsim_driver *drv = NULL;
    assert_status(fltsim_driver_load(f->w.sys, &raw_def, raw_entry, &drv), STATUS_SUCCESS);
    assert_status(raw.start_status, STATUS_SUCCESS);
    assert_status(raw.start2_status, STATUS_INVALID_PARAMETER);
    assert_recorded("raw:setup:0x1 entry:started");
}

/* SPEC 1.4 [SIM], 2.4: InstanceSetup for volumes already mounted runs inside
 * FltStartFiltering, with AUTOMATIC_ATTACHMENT and without NEWLY_MOUNTED; the
 * next create on them offers nothing again. */
static void start_filtering_sets_up_mounted_volumes_before_returning(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    mount_d(f->w.sys);
    FLT_REGISTRATION reg = raw_registration();
    raw.reg = &reg;
    raw.start = true;
    fltsim_driver *drv = NULL;
    assert_status(fltsim_driver_load(f->w.sys, &raw_def, raw_entry, &drv), STATUS_SUCCESS);
    assert_recorded("raw:setup:0x1 raw:setup:0x1 entry:started");

    rec_reset();
    touch(f, L"C:\\a.txt");
    touch(f, L"D:\\d.txt");
    assert_recorded("");
}

/* SPEC 2.4, 12.5: a volume mounted after the filter started is set up only at
 * its first create, with AUTOMATIC_ATTACHMENT | NEWLY_MOUNTED_VOLUME, before
 * the create reaches the filter; the mount alone calls nothing. */
static void mount_after_start_sets_up_at_first_create(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_int_equal(f->a.setup_calls, 1);
    assert_int_equal(f->a.last_setup_flags, FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT);

    rec_reset();
    mount_d(f->w.sys);
    assert_int_equal(f->a.setup_calls, 1);
    touch(f, L"C:\\a.txt");
    assert_int_equal(f->a.setup_calls, 1);
    assert_recorded("A:pre:CREATE A:post:CREATE");

    rec_reset();
    touch(f, L"D:\\d.txt");
    assert_recorded("A:setup A:pre:CREATE A:post:CREATE");
    assert_int_equal(f->a.setup_calls, 2);
    assert_int_equal(f->a.last_setup_flags, FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT |
                                                FLTFL_INSTANCE_SETUP_NEWLY_MOUNTED_VOLUME);

    rec_reset();
    touch(f, L"D:\\d.txt");
    assert_recorded("A:pre:CREATE A:post:CREATE");
    assert_int_equal(f->a.setup_calls, 2);
}

/* SPEC 12.5: with FLTSIM_SYSTEM_SETUP_ON_FIRST_IO a non-create operation (a
 * flush without a file object) triggers the deferred setup. */
static void mount_setup_on_first_io_triggers_on_flush(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, FLTSIM_SYSTEM_SETUP_ON_FIRST_IO);
    tf_init(&f->a, "A", "300000");
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_int_equal(f->a.setup_calls, 1);

    PFLT_VOLUME tiny = mount_tiny(f->w.sys);
    assert_int_equal(f->a.setup_calls, 1);
    rec_reset();
    assert_status(send_flush(tiny), STATUS_SUCCESS);
    assert_recorded("A:setup A:pre:FLUSH_BUFFERS TINY:FLUSH_BUFFERS A:post:FLUSH_BUFFERS");
    assert_int_equal(f->a.setup_calls, 2);
    assert_int_equal(f->a.last_setup_flags, FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT |
                                                FLTFL_INSTANCE_SETUP_NEWLY_MOUNTED_VOLUME);
}

/* SPEC 12.5: without the switch, the same flush does not trigger setup (only
 * a create does), so the filter does not see it. */
static void mount_setup_default_ignores_flush(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_int_equal(f->a.setup_calls, 1);

    PFLT_VOLUME tiny = mount_tiny(f->w.sys);
    rec_reset();
    assert_status(send_flush(tiny), STATUS_SUCCESS);
    assert_status(send_flush(tiny), STATUS_SUCCESS);
    assert_recorded("TINY:FLUSH_BUFFERS TINY:FLUSH_BUFFERS");
    assert_int_equal(f->a.setup_calls, 1);
}

/* ========================================================================= */
/* Unload (SPEC 1.4, 2.6, 2.7, 12.6, 12.7)                                   */
/* ========================================================================= */

/* SPEC 1.4: a non-mandatory unload calls FilterUnloadCallback with Flags 0
 * and the driver goes. */
static void unload_non_mandatory_calls_callback_with_zero(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    f->a.last_unload_flags = 0xdead;

    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL; /* gone: a callback for it now fails the test */
    assert_int_equal(f->a.unload_calls, 1);
    assert_int_equal(f->a.last_unload_flags, 0);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("");
}

/* SPEC 1.4, 11: only a warning or error vetoes; an informational status
 * (STATUS_OBJECT_NAME_EXISTS, 0x40000000) from FilterUnloadCallback lets the
 * unload proceed. */
static void unload_informational_status_is_not_a_veto(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.unload_status = STATUS_OBJECT_NAME_EXISTS;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    NTSTATUS status = fltsim_driver_unload(f->a.driver, 0);
    f->a.filter = NULL;
    assert_true(NT_SUCCESS(status));
    assert_int_equal(f->a.unload_calls, 1);
    assert_int_equal(f->a.teardown_complete_calls, 1);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
}

/* SPEC 1.4: a warning or error from a non-mandatory unload vetoes it; the
 * status is returned, nothing is torn down, the filter keeps seeing I/O. */
static void unload_veto_is_returned_and_filter_stays(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.unload_status = STATUS_FLT_DO_NOT_DETACH;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);

    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_FLT_DO_NOT_DETACH);
    assert_int_equal(f->a.unload_calls, 1);
    assert_int_equal(f->a.teardown_start_calls, 0);
    assert_ptr_equal(fltsim_driver_find(f->w.sys, L"A"), f->a.driver);
    assert_ptr_equal(fltsim_driver_filter(f->a.driver), f->a.filter);
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("A:pre:CREATE A:post:CREATE");

    /* A warning vetoes as well (SPEC 11: warning or error). */
    f->a.unload_status = STATUS_BUFFER_OVERFLOW;
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_BUFFER_OVERFLOW);
    assert_ptr_equal(fltsim_driver_find(f->w.sys, L"A"), f->a.driver);
}

/* SPEC 1.4, 12.7: a mandatory unload passes FLTFL_FILTER_UNLOAD_MANDATORY and
 * ignores a veto. */
static void unload_mandatory_passes_flag_and_ignores_veto(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.unload_status = STATUS_FLT_DO_NOT_DETACH;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);

    assert_status(fltsim_driver_unload(f->a.driver, FLTSIM_UNLOAD_MANDATORY), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_int_equal(f->a.unload_calls, 1);
    assert_int_equal(f->a.last_unload_flags, FLTFL_FILTER_UNLOAD_MANDATORY);
    assert_int_equal(f->a.teardown_complete_calls, 1);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("");
}

/* SPEC 1.1, 2.7 [SIM]: without FilterUnloadCallback the filter can never be
 * unloaded: both kinds fail with STATUS_INVALID_DEVICE_REQUEST. */
static void unload_without_callback_is_invalid_device_request(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.no_unload_callback = true;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);

    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_INVALID_DEVICE_REQUEST);
    assert_status(fltsim_driver_unload(f->a.driver, FLTSIM_UNLOAD_MANDATORY),
                  STATUS_INVALID_DEVICE_REQUEST);
    assert_int_equal(f->a.teardown_start_calls, 0);
    assert_ptr_equal(fltsim_driver_find(f->w.sys, L"A"), f->a.driver);
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("A:pre:CREATE A:post:CREATE");
}

/* SPEC 1.4: with FLTFL_REGISTRATION_DO_NOT_SUPPORT_SERVICE_STOP a mandatory
 * unload fails without calling the callback; a non-mandatory one proceeds. */
static void unload_do_not_support_service_stop_refuses_mandatory_only(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.registration_flags = FLTFL_REGISTRATION_DO_NOT_SUPPORT_SERVICE_STOP;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);

    assert_status(fltsim_driver_unload(f->a.driver, FLTSIM_UNLOAD_MANDATORY),
                  STATUS_INVALID_DEVICE_REQUEST);
    assert_int_equal(f->a.unload_calls, 0);
    assert_int_equal(f->a.teardown_start_calls, 0);
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("A:pre:CREATE A:post:CREATE");

    f->a.last_unload_flags = 0xdead;
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_int_equal(f->a.unload_calls, 1);
    assert_int_equal(f->a.last_unload_flags, 0);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
}

/* SPEC 2.6, 2.7, 12.6: unloading tears every instance down, TeardownStart
 * before TeardownComplete for each, with FILTER_UNLOAD for a non-mandatory
 * and MANDATORY_FILTER_UNLOAD for a mandatory unload. */
static void unload_tears_down_every_instance_with_unload_reason(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    mount_d(f->w.sys);
    tf_init(&f->a, "A", "300000");
    tf_init(&f->b, "B", "200000");
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);
    assert_int_equal(f->a.setup_calls, 2);
    assert_int_equal(f->b.setup_calls, 2);
    life_watch(f->w.sys);

    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_int_equal(life_count("start:A:"), 2);
    assert_int_equal(life_count("complete:A:"), 2);
    assert_life_before("start:A:HarddiskVolume1:0x2", "complete:A:HarddiskVolume1:0x2");
    assert_life_before("start:A:HarddiskVolume2:0x2", "complete:A:HarddiskVolume2:0x2");
    assert_int_equal(life_count(":B:"), 0);

    life_reset();
    assert_status(fltsim_driver_unload(f->b.driver, FLTSIM_UNLOAD_MANDATORY), STATUS_SUCCESS);
    f->b.filter = NULL;
    assert_int_equal(life_count("start:B:"), 2);
    assert_int_equal(life_count("complete:B:"), 2);
    assert_life_before("start:B:HarddiskVolume1:0x4", "complete:B:HarddiskVolume1:0x4");
    assert_life_before("start:B:HarddiskVolume2:0x4", "complete:B:HarddiskVolume2:0x4");
    assert_int_equal(f->b.query_teardown_calls, 0);
    assert_int_equal(f->a.query_teardown_calls, 0);
}

/* SPEC 2.7, 10 (V23): an unload callback that returns without calling
 * FltUnregisterFilter is reported, and the filter is unregistered anyway. */
static void unload_without_unregister_is_reported_and_filter_goes(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.unload_forgets_unregister = true;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V23"), 0);

    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V23"), 1);
    assert_int_equal(f->a.teardown_complete_calls, 1);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("");
}

/* SPEC 1.4: when DriverEntry fails the driver is not loaded and
 * FilterUnloadCallback is not called. */
static void driver_entry_failure_unloads_without_callback(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    f->a.entry_status = STATUS_ACCESS_DENIED;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_ACCESS_DENIED);
    assert_null(f->a.driver);
    assert_int_equal(f->a.unload_calls, 0);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
    assert_recorded("");
}

static void unregister_other_hook(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    struct tf_filter *other = tf->user;
    FltUnregisterFilter(other->filter);
}

/* SPEC 1.4 (a driver may only unregister itself), 10 (V27): filter A's code
 * calling FltUnregisterFilter on B's filter is reported as V27. [Assumed, as
 * for FltRegisterFilter with a foreign driver object: the call is then
 * refused and B stays registered and attached.]
 * MODEL BUG (reported): FltUnregisterFilter in registration.c checks only that
 * Filter is a filter object, not that the calling filter owns it, so B is
 * unregistered and nothing is reported. */
static void unregister_other_drivers_filter_is_reported_v27(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    tf_init(&f->b, "B", "200000");
    tf_only(&f->b, IRP_MJ_CREATE);
    f->a.user = &f->b;
    f->a.teardown_start_hook = unregister_other_hook;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);

    UNICODE_STRING name = RTL_CONSTANT_STRING(L"A Instance");
    assert_status(FltDetachVolume(f->a.filter, f->w.volume, &name), STATUS_SUCCESS);
    ULONG v27 = fltsim_system_report_count_rule(f->w.sys, "V27");
    PFLT_FILTER b_now = fltsim_driver_filter(f->b.driver);
    ULONG b_teardowns = f->b.teardown_start_calls;
    if (b_now == NULL)
        f->b.filter = NULL; /* B is gone: its callbacks must not arrive any more */
    assert_int_equal(v27, 1);
    assert_ptr_equal(b_now, f->b.filter);
    assert_int_equal(b_teardowns, 0);
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("B:pre:CREATE B:post:CREATE");
}

/* SPEC 1.4 (FltUnregisterFilter step 4): unregistration blocks until a
 * rundown reference taken with FltObjectReference is released. The unload
 * runs on another thread; once its instance is torn down it must still be
 * waiting 200 ms later, and finish after FltObjectDereference. */
static void unregister_waits_for_filter_reference(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    life_watch(f->w.sys);

    PFLT_FILTER filter = f->a.filter;
    assert_status(FltObjectReference(filter), STATUS_SUCCESS);
    struct unload_job job = {.drv = f->a.driver, .status = STATUS_PENDING};
    fltsim_thread *thread = unload_in_background(f->w.sys, &job);

    /* The unload runs until it blocks on the reference: the deterministic
     * executor runs it inside this wait, the concurrent one in parallel. */
    assert_status(fltsim_system_wait_idle(f->w.sys, 300), STATUS_TIMEOUT);
    bool torn_down = __atomic_load_n(&life_completes, __ATOMIC_SEQ_CST) >= 1;
    int done_while_referenced = __atomic_load_n(&job.done, __ATOMIC_SEQ_CST);

    FltObjectDereference(filter);
    fltsim_thread_join(thread);
    f->a.filter = NULL;

    assert_true(torn_down);
    assert_int_equal(done_while_referenced, 0);
    assert_int_equal(job.done, 1);
    assert_status(job.status, STATUS_SUCCESS);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
}

static void reference_filter_hook(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    NTSTATUS status = FltObjectReference(tf->filter);
    if (NT_SUCCESS(status))
        FltObjectDereference(tf->filter); /* else unregistration would wait forever */
    *(NTSTATUS *)tf->user = status;
}

/* SPEC 1.4, 2.6 (R-OBJREF): while the filter unregisters, FltObjectReference
 * on it fails with STATUS_FLT_DELETING_OBJECT. */
static void reference_unregistering_filter_is_deleting_object(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    f->seen = STATUS_PENDING;
    f->a.user = &f->seen;
    f->a.teardown_start_hook = reference_filter_hook;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(FltObjectReference(f->a.filter), STATUS_SUCCESS);
    FltObjectDereference(f->a.filter);

    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_int_equal(f->a.teardown_start_calls, 1);
    assert_status(f->seen, STATUS_FLT_DELETING_OBJECT);
}

/* SPEC 1.4, 2.7 (model.h fltsim_system_destroy): destroying a system closes
 * open handles through the filters, then unloads each filter (mandatory), and
 * leaves no pool behind. */
static void system_destroy_unloads_filters_mandatory(void **state)
{
    struct fx *f = *state;
    ULONG64 pool_before = fltsim_pool_outstanding();
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_init(&f->b, "B", "200000");
    f->a.unload_status = STATUS_FLT_DO_NOT_DETACH; /* ignored: mandatory */
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    (void)h;
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 1);

    rec_reset();
    world_destroy(&f->w);
    assert_int_equal(f->a.unload_calls, 1);
    assert_int_equal(f->b.unload_calls, 1);
    assert_int_equal(f->a.last_unload_flags, FLTFL_FILTER_UNLOAD_MANDATORY);
    assert_int_equal(f->b.last_unload_flags, FLTFL_FILTER_UNLOAD_MANDATORY);
    assert_int_equal(f->a.teardown_complete_calls, 1);
    assert_int_equal(f->b.teardown_complete_calls, 1);
    assert_int_equal(f->a.last_teardown_reason, FLTFL_INSTANCE_TEARDOWN_MANDATORY_FILTER_UNLOAD);
    assert_int_equal(f->b.last_teardown_reason, FLTFL_INSTANCE_TEARDOWN_MANDATORY_FILTER_UNLOAD);

    const char *text = rec_text();
    const char *cleanup = strstr(text, "A:pre:CLEANUP");
    const char *close = strstr(text, "A:pre:CLOSE");
    const char *unload = strstr(text, "A:unload");
    assert_non_null(cleanup);
    assert_non_null(close);
    assert_non_null(unload);
    assert_true(cleanup < close && close < unload);
    assert_true(fltsim_pool_outstanding() == pool_before);
}

#define FX(test) cmocka_unit_test_setup_teardown(test, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX(register_null_registration_is_invalid_parameter),
        FX(register_null_ret_filter_is_invalid_parameter),
        FX(register_wrong_size_strict_is_invalid_parameter),
        FX(register_wrong_size_lenient_is_accepted_with_v12),
        FX(register_version_minor_changed_is_accepted),
        FX(register_version_major_changed_is_invalid_parameter),
        FX(register_power_strict_is_invalid_parameter),
        FX(register_device_change_strict_is_invalid_parameter),
        FX(register_shutdown_post_strict_is_invalid_parameter),
        FX(register_shutdown_pre_only_is_accepted),
        FX(register_reserved1_strict_is_invalid_parameter),
        FX(register_unknown_code_strict_is_invalid_parameter),
        FX(register_duplicate_major_strict_is_invalid_parameter),
        FX(register_unterminated_operations_is_invalid_parameter),
        FX(register_invalid_operations_lenient_are_accepted_with_v12),
        FX(register_every_registrable_code_is_accepted),
        FX(register_inconsistent_name_provider_is_invalid_parameter),
        FX(register_complete_name_provider_is_accepted),
        FX(register_context_without_pool_tag_is_invalid_context_registration),
        FX(register_context_alloc_without_free_is_invalid_context_registration),
        FX(register_context_four_fixed_sizes_is_invalid_context_registration),
        FX(register_context_two_variable_sizes_is_invalid_context_registration),
        FX(register_context_alloc_entry_not_alone_is_invalid_context_registration),
        FX(register_context_size_over_maxushort_is_invalid_context_registration),
        FX(register_context_unterminated_is_invalid_context_registration),
        FX(register_context_valid_array_is_accepted),
        FX(register_without_default_instance_is_object_name_not_found),
        FX(register_foreign_driver_object_is_invalid_parameter_with_v27),
        FX(register_twice_from_one_driver_fails),
        FX(start_filtering_twice_is_invalid_parameter),
        FX(start_filtering_sets_up_mounted_volumes_before_returning),
        FX(mount_after_start_sets_up_at_first_create),
        FX(mount_setup_on_first_io_triggers_on_flush),
        FX(mount_setup_default_ignores_flush),
        FX(unload_non_mandatory_calls_callback_with_zero),
        FX(unload_informational_status_is_not_a_veto),
        FX(unload_veto_is_returned_and_filter_stays),
        FX(unload_mandatory_passes_flag_and_ignores_veto),
        FX(unload_without_callback_is_invalid_device_request),
        FX(unload_do_not_support_service_stop_refuses_mandatory_only),
        FX(unload_tears_down_every_instance_with_unload_reason),
        FX(unload_without_unregister_is_reported_and_filter_goes),
        FX(driver_entry_failure_unloads_without_callback),
        FX(unregister_waits_for_filter_reference),
        FX(unregister_other_drivers_filter_is_reported_v27),
        FX(reference_unregistering_filter_is_deleting_object),
        FX(system_destroy_unloads_filters_mandatory),
    };
    return FLTSIM_RUN_SUITE("registration", tests);
}
