/*
 * Registration (SPEC 1.1-1.4, 12.11): what FltRegisterFilter accepts and
 * rejects, in strict and lenient mode: its arguments, the operation and
 * context arrays, the name provider callbacks, the instance table and the
 * driver object. Every case goes through "Raw" (raw_filter.h), whose
 * FLT_REGISTRATION each case chooses. What a registered filter then lives
 * through (FltStartFiltering, mount setup, unload) is test_lifecycle.c.
 */
#include <stdio.h>

#include "fltsim_test.h"
#include "raw_filter.h"

/* ------------------------------------------------------------------------- */
/* Loading Raw with a registration of the case's choosing                    */
/* ------------------------------------------------------------------------- */

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

/* Every case starts with Raw's plan and results cleared. */
static int raw_fresh(void **state)
{
    (void)state;
    raw_reset();
    return 0;
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

#define FX(test) cmocka_unit_test_setup_teardown(test, raw_fresh, NULL)

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
    };
    return FLTSIM_RUN_SUITE("registration", tests);
}
