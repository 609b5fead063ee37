/*
 * Instances (SPEC 2.1-2.6, 12.8-12.10): altitudes and how they order the
 * stack, FltAttachVolume(AtAltitude) with the instance table standing in for
 * the registry, FltDetachVolume and InstanceQueryTeardown, and teardown on
 * detach and dismount. Test filters A, B and C register IRP_MJ_CREATE only,
 * so the recorder shows exactly which instances a create reaches; "M" is a
 * hand-written filter with several instance definitions. The lookups that
 * hand out references to instances, volumes and filters are test_lookups.c.
 */
#include <string.h>

#include "instances_fx.h"

/* ------------------------------------------------------------------------- */
/* "M": a filter with several instance definitions                           */
/* ------------------------------------------------------------------------- */

struct m_filter {
    bool attach_before_start; /* DriverEntry tries to attach before FltStartFiltering */
    PFLT_VOLUME volume;       /* ... to this volume */
    PFLT_FILTER filter;
    ULONG setup_calls, last_setup_flags;
    PFLT_INSTANCE last_instance;
    NTSTATUS early_attach, early_attach_at, late_attach;
    PFLT_INSTANCE early_instance, early_instance_at;
};

static struct m_filter m;

/* DefaultInstance is the second definition, so "the first one" is wrong. */
static const struct fltsim_instance_def m_instances[] = {
    {L"M Low", L"100000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC},
    {L"M Default", L"300000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC},
    {L"M NoManual", L"260000", FLTSIM_INSTANCE_SUPPRESS_MANUAL},
};
static const struct fltsim_filter_def m_def = {L"M", L"M Default", m_instances, 3};

static FLT_PREOP_CALLBACK_STATUS m_pre(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                       PVOID *context)
{
    (void)objects;
    rec_add("M:pre:%s", tf_major(data->Iopb->MajorFunction));
    *context = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static NTSTATUS m_setup(PCFLT_RELATED_OBJECTS objects, FLT_INSTANCE_SETUP_FLAGS flags,
                        DEVICE_TYPE device_type, FLT_FILESYSTEM_TYPE fs_type)
{
    (void)device_type;
    (void)fs_type;
    rec_add("M:setup");
    m.setup_calls++;
    m.last_setup_flags = flags;
    m.last_instance = objects->Instance;
    return STATUS_SUCCESS;
}

static NTSTATUS m_query_teardown(PCFLT_RELATED_OBJECTS objects,
                                 FLT_INSTANCE_QUERY_TEARDOWN_FLAGS flags)
{
    (void)objects;
    (void)flags;
    return STATUS_SUCCESS;
}

static NTSTATUS m_unload(FLT_FILTER_UNLOAD_FLAGS flags)
{
    (void)flags;
    FltUnregisterFilter(m.filter);
    return STATUS_SUCCESS;
}

static const FLT_OPERATION_REGISTRATION m_operations[] = {
    {IRP_MJ_CREATE, 0, m_pre, NULL, NULL}, {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL}};

static const FLT_REGISTRATION m_registration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = m_operations,
    .FilterUnloadCallback = m_unload,
    .InstanceSetupCallback = m_setup,
    .InstanceQueryTeardownCallback = m_query_teardown,
};

static NTSTATUS m_entry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
    (void)registry_path;
    NTSTATUS status = FltRegisterFilter(driver, &m_registration, &m.filter);
    if (!NT_SUCCESS(status))
        return status;
    if (m.attach_before_start) {
        UNICODE_STRING altitude = RTL_CONSTANT_STRING(L"123456");
        m.early_attach = FltAttachVolume(m.filter, m.volume, NULL, &m.early_instance);
        m.early_attach_at =
            FltAttachVolumeAtAltitude(m.filter, m.volume, &altitude, NULL, &m.early_instance_at);
    }
    status = FltStartFiltering(m.filter);
    if (!NT_SUCCESS(status)) {
        FltUnregisterFilter(m.filter);
        return status;
    }
    if (m.attach_before_start) {
        PFLT_INSTANCE instance = NULL;
        m.late_attach = FltAttachVolume(m.filter, m.volume, NULL, &instance);
        if (NT_SUCCESS(m.late_attach))
            FltObjectDereference(instance);
    }
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Fixture and helpers                                                       */
/* ------------------------------------------------------------------------- */

/* The shared fixture (instances_fx.h), with M's record cleared. */
static int m_fx_setup(void **state)
{
    memset(&m, 0, sizeof(m));
    return fx_setup(state);
}

static fltsim_driver *load_m(struct fx *f)
{
    fltsim_driver *drv = NULL;
    assert_status(fltsim_driver_load(f->w.sys, &m_def, m_entry, &drv), STATUS_SUCCESS);
    return drv;
}

static NTSTATUS attach_at(PFLT_FILTER filter, PFLT_VOLUME volume, PCWSTR altitude, PCWSTR name,
                          PFLT_INSTANCE *out)
{
    UNICODE_STRING a, n;
    RtlInitUnicodeString(&a, altitude);
    if (name != NULL)
        RtlInitUnicodeString(&n, name);
    return FltAttachVolumeAtAltitude(filter, volume, &a, name != NULL ? &n : NULL, out);
}

static NTSTATUS attach_named(PFLT_FILTER filter, PFLT_VOLUME volume, PCWSTR name,
                             PFLT_INSTANCE *out)
{
    UNICODE_STRING n;
    if (name != NULL)
        RtlInitUnicodeString(&n, name);
    return FltAttachVolume(filter, volume, name != NULL ? &n : NULL, out);
}

static NTSTATUS detach(PFLT_FILTER filter, PFLT_VOLUME volume, PCWSTR name)
{
    UNICODE_STRING n;
    if (name != NULL)
        RtlInitUnicodeString(&n, name);
    return FltDetachVolume(filter, volume, name != NULL ? &n : NULL);
}

/* Whether filter has an instance called name on volume. */
static bool has_instance(PFLT_FILTER filter, PFLT_VOLUME volume, PCWSTR name)
{
    NTSTATUS status;
    PFLT_INSTANCE i = find_instance(filter, volume, name, &status);
    if (i != NULL)
        FltObjectDereference(i);
    return NT_SUCCESS(status) && i != NULL;
}

/* Number of instances of filter on volume (either may be NULL). */
static ULONG instance_count(PFLT_VOLUME volume, PFLT_FILTER filter)
{
    PFLT_INSTANCE list[16];
    ULONG n = 0;
    NTSTATUS status = FltEnumerateInstances(volume, filter, list, 16, &n);
    assert_status(status, STATUS_SUCCESS);
    for (ULONG i = 0; i < n; i++)
        FltObjectDereference(list[i]);
    return n;
}

/* ========================================================================= */
/* Altitudes (SPEC 2.1, 2.3, 12.9)                                           */
/* ========================================================================= */

/* SPEC 2.1: leading zeros do not count, so "03333" is higher than
 * "100.123456"; pre callbacks run highest first, posts lowest first (2.3). */
static void altitude_03333_is_higher_than_100_123456(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    load(f, &f->b, "B", "200000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    PFLT_INSTANCE ia = NULL, ib = NULL;
    /* The higher one attaches second, so list order alone would be wrong. */
    assert_status(attach_at(f->a.filter, f->w.volume, L"100.123456", L"A low", &ia),
                  STATUS_SUCCESS);
    assert_status(attach_at(f->b.filter, f->w.volume, L"03333", L"B high", &ib), STATUS_SUCCESS);
    assert_non_null(ia);
    assert_non_null(ib);
    assert_int_equal(f->a.last_setup_flags, FLTFL_INSTANCE_SETUP_MANUAL_ATTACHMENT);

    LONG ba = FltCompareInstanceAltitudes(ib, ia), ab = FltCompareInstanceAltitudes(ia, ib);
    touch(f, L"C:\\a.txt");
    FltObjectDereference(ia);
    FltObjectDereference(ib);
    assert_true(ba > 0);
    assert_true(ab < 0);
    assert_recorded("B:pre:CREATE A:pre:CREATE A:post:CREATE B:post:CREATE");
}

/* SPEC 2.1, 12.9: trailing zeros of the fraction (and leading zeros of the
 * integer part) do not count: "100.10", "100.1" and "0100.100" are one
 * altitude, which only one instance may hold. */
static void altitude_trailing_fraction_zeros_collide(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    load(f, &f->b, "B", "200000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    PFLT_INSTANCE ia = NULL, ib = NULL, ib2 = NULL;
    assert_status(attach_at(f->a.filter, f->w.volume, L"100.10", L"A one", &ia), STATUS_SUCCESS);
    NTSTATUS s1 = attach_at(f->b.filter, f->w.volume, L"100.1", L"B one", &ib);
    NTSTATUS s2 = attach_at(f->b.filter, f->w.volume, L"0100.100", L"B two", &ib2);
    ULONG count = instance_count(f->w.volume, NULL);
    FltObjectDereference(ia);
    if (ib != NULL)
        FltObjectDereference(ib);
    if (ib2 != NULL)
        FltObjectDereference(ib2);
    assert_status(s1, STATUS_FLT_INSTANCE_ALTITUDE_COLLISION);
    assert_status(s2, STATUS_FLT_INSTANCE_ALTITUDE_COLLISION);
    assert_null(ib);
    assert_null(ib2);
    assert_int_equal(f->b.setup_calls, 0);
    assert_int_equal(count, 1);
}

/* SPEC 12.9: zeros at the end of the integer part count: "100" and "1000"
 * are different altitudes, "1000" the higher. */
static void altitude_100_and_1000_differ(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    load(f, &f->b, "B", "200000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    load(f, &f->c, "C", "100000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    PFLT_INSTANCE ia = NULL, ib = NULL, ic = NULL;
    assert_status(attach_at(f->a.filter, f->w.volume, L"100", L"A", &ia), STATUS_SUCCESS);
    assert_status(attach_at(f->b.filter, f->w.volume, L"1000", L"B", &ib), STATUS_SUCCESS);
    assert_status(attach_at(f->c.filter, f->w.volume, L"10", L"C", &ic), STATUS_SUCCESS);
    LONG ba = FltCompareInstanceAltitudes(ib, ia), ac = FltCompareInstanceAltitudes(ia, ic);
    touch(f, L"C:\\a.txt");
    FltObjectDereference(ia);
    FltObjectDereference(ib);
    FltObjectDereference(ic);
    assert_true(ba > 0);
    assert_true(ac > 0);
    assert_recorded("B:pre:CREATE A:pre:CREATE C:pre:CREATE C:post:CREATE A:post:CREATE "
                    "B:post:CREATE");
}

/* SPEC 2.1: an altitude is digits with at most one point; anything else makes
 * FltAttachVolumeAtAltitude fail with STATUS_INVALID_PARAMETER before any
 * setup. */
static void altitude_invalid_string_is_invalid_parameter(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    static const PCWSTR bad[] = {L"", L".", L"1.2.3", L"12a", L"-5", L"+5", L" 5", L"5 "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        PFLT_INSTANCE inst = NULL;
        NTSTATUS status = attach_at(f->a.filter, f->w.volume, bad[i], NULL, &inst);
        if (inst != NULL)
            FltObjectDereference(inst);
        if ((ULONG)status != (ULONG)STATUS_INVALID_PARAMETER) {
            char s[64];
            fltsim_ntstatus_format(status, s, sizeof(s));
            fail_msg("altitude #%u: %s, expected STATUS_INVALID_PARAMETER", (unsigned)i, s);
        }
        assert_null(inst);
    }
    PFLT_INSTANCE inst = NULL;
    assert_status(FltAttachVolumeAtAltitude(f->a.filter, f->w.volume, NULL, NULL, &inst),
                  STATUS_INVALID_PARAMETER);
    assert_null(inst);
    assert_int_equal(f->a.setup_calls, 0);
    assert_int_equal(instance_count(f->w.volume, NULL), 0);
}

/* SPEC 2.1: FltCompareInstanceAltitudes is 0 only for the same instance and
 * for instances on different volumes. */
static void compare_altitudes_same_instance_or_other_volume_is_zero(void **state)
{
    struct fx *f = *state;
    mount_d(f);
    load(f, &f->a, "A", "300000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    load(f, &f->b, "B", "200000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    PFLT_INSTANCE ia = NULL, ibd = NULL, ibc = NULL;
    assert_status(attach_at(f->a.filter, f->w.volume, L"1000", L"A", &ia), STATUS_SUCCESS);
    assert_status(attach_at(f->b.filter, f->d, L"2000", L"B", &ibd), STATUS_SUCCESS);
    assert_status(attach_at(f->b.filter, f->w.volume, L"500", L"B", &ibc), STATUS_SUCCESS);
    LONG same = FltCompareInstanceAltitudes(ia, ia);
    LONG other1 = FltCompareInstanceAltitudes(ia, ibd);
    LONG other2 = FltCompareInstanceAltitudes(ibd, ia);
    LONG lower = FltCompareInstanceAltitudes(ibc, ia);
    FltObjectDereference(ia);
    FltObjectDereference(ibd);
    FltObjectDereference(ibc);
    assert_int_equal(same, 0);
    assert_int_equal(other1, 0);
    assert_int_equal(other2, 0);
    assert_true(lower < 0);
}

/* ========================================================================= */
/* FltAttachVolume (SPEC 1.4, 2.4, 12.8)                                     */
/* ========================================================================= */

/* SPEC 1.4, 2.4: attaching before FltStartFiltering fails with
 * STATUS_FLT_FILTER_NOT_READY (both routines); after it, it works. */
static void attach_before_start_filtering_is_filter_not_ready(void **state)
{
    struct fx *f = *state;
    m.attach_before_start = true;
    m.volume = f->w.volume;
    load_m(f);
    assert_status(m.early_attach, STATUS_FLT_FILTER_NOT_READY);
    assert_status(m.early_attach_at, STATUS_FLT_FILTER_NOT_READY);
    assert_null(m.early_instance);
    assert_null(m.early_instance_at);
    assert_status(m.late_attach, STATUS_SUCCESS);
    assert_int_equal(m.setup_calls, 1);
    assert_int_equal(m.last_setup_flags, FLTFL_INSTANCE_SETUP_MANUAL_ATTACHMENT);
}

/* SPEC 2.4: with InstanceName NULL, FltAttachVolume uses DefaultInstance's
 * name and altitude (here not the first definition). */
static void attach_null_name_uses_default_instance(void **state)
{
    struct fx *f = *state;
    load_m(f);
    assert_int_equal(m.setup_calls, 0); /* every M definition suppresses automatic */
    load(f, &f->a, "A", "310000", 0);
    load(f, &f->b, "B", "290000", 0);

    PFLT_INSTANCE inst = NULL;
    assert_status(attach_named(m.filter, f->w.volume, NULL, &inst), STATUS_SUCCESS);
    assert_non_null(inst);
    assert_int_equal(m.setup_calls, 1);
    assert_int_equal(m.last_setup_flags, FLTFL_INSTANCE_SETUP_MANUAL_ATTACHMENT);
    assert_ptr_equal(m.last_instance, inst);

    NTSTATUS status;
    PFLT_INSTANCE named = find_instance(m.filter, f->w.volume, L"M Default", &status);
    bool low = has_instance(m.filter, f->w.volume, L"M Low");
    /* At 300000: between A (310000) and B (290000). */
    touch(f, L"C:\\a.txt");
    if (named != NULL)
        FltObjectDereference(named);
    FltObjectDereference(inst);
    assert_status(status, STATUS_SUCCESS);
    assert_ptr_equal(named, inst);
    assert_false(low);
    assert_recorded("A:pre:CREATE M:pre:CREATE B:pre:CREATE B:post:CREATE A:post:CREATE");
}

/* SPEC 2.4: a named instance takes that definition's altitude; a name the
 * instance table lacks is STATUS_OBJECT_NAME_NOT_FOUND ([SIM] registry key
 * missing). */
static void attach_unknown_instance_name_is_object_name_not_found(void **state)
{
    struct fx *f = *state;
    load_m(f);
    load(f, &f->a, "A", "200000", 0);
    PFLT_INSTANCE inst = NULL;
    NTSTATUS missing = attach_named(m.filter, f->w.volume, L"M Nope", &inst);
    assert_null(inst);
    assert_status(attach_named(m.filter, f->w.volume, L"M Low", &inst), STATUS_SUCCESS);
    touch(f, L"C:\\a.txt");
    FltObjectDereference(inst);
    assert_status(missing, STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(m.setup_calls, 1);
    /* "M Low" is at 100000, below A. */
    assert_recorded("A:pre:CREATE M:pre:CREATE A:post:CREATE");
}

/* SPEC 2.4: FltAttachVolume at the altitude of another instance on the volume
 * fails with STATUS_OBJECT_NAME_COLLISION, without calling InstanceSetup. */
static void attach_same_altitude_is_object_name_collision(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", 0);
    load_m(f);
    PFLT_INSTANCE inst = NULL;
    NTSTATUS status = attach_named(m.filter, f->w.volume, NULL, &inst);
    if (inst != NULL)
        FltObjectDereference(inst);
    assert_status(status, STATUS_OBJECT_NAME_COLLISION);
    assert_null(inst);
    assert_int_equal(m.setup_calls, 0);
    assert_int_equal(instance_count(f->w.volume, NULL), 1);
}

/* SPEC 2.4, 12.8: an instance name is unique per volume (for any filter):
 * STATUS_FLT_INSTANCE_NAME_COLLISION; the same name on another volume is fine. */
static void attach_same_instance_name_is_instance_name_collision(void **state)
{
    struct fx *f = *state;
    mount_d(f);
    load(f, &f->a, "A", "300000", 0); /* "A Instance" on C: and D: */
    load(f, &f->b, "B", "200000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    PFLT_INSTANCE i1 = NULL, i2 = NULL, i3 = NULL, i4 = NULL;
    NTSTATUS own = attach_at(f->a.filter, f->w.volume, L"250000", L"A Instance", &i1);
    NTSTATUS other = attach_at(f->b.filter, f->w.volume, L"260000", L"A Instance", &i2);
    NTSTATUS b_first = attach_at(f->b.filter, f->w.volume, L"270000", L"Shared", &i3);
    NTSTATUS b_other_volume = attach_at(f->b.filter, f->d, L"270000", L"Shared", &i4);
    PFLT_INSTANCE list[4] = {i1, i2, i3, i4};
    for (int k = 0; k < 4; k++)
        if (list[k] != NULL)
            FltObjectDereference(list[k]);
    assert_status(own, STATUS_FLT_INSTANCE_NAME_COLLISION);
    assert_status(other, STATUS_FLT_INSTANCE_NAME_COLLISION);
    assert_status(b_first, STATUS_SUCCESS);
    assert_status(b_other_volume, STATUS_SUCCESS);
    assert_null(i1);
    assert_null(i2);
    assert_int_equal(f->b.setup_calls, 2);
}

/* SPEC 2.4 [SIM]: an instance definition with FLTSIM_INSTANCE_SUPPRESS_MANUAL
 * cannot be attached manually: STATUS_FLT_DO_NOT_ATTACH, no setup call. It
 * still attaches automatically. */
static void attach_suppress_manual_is_do_not_attach(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", FLTSIM_INSTANCE_SUPPRESS_MANUAL);
    assert_int_equal(f->a.setup_calls, 1); /* automatic, at FltStartFiltering */
    mount_d(f);
    load_m(f);
    PFLT_INSTANCE ia = NULL, im = NULL;
    NTSTATUS sa = attach_named(f->a.filter, f->d, NULL, &ia);
    NTSTATUS sm = attach_named(m.filter, f->w.volume, L"M NoManual", &im);
    if (ia != NULL)
        FltObjectDereference(ia);
    if (im != NULL)
        FltObjectDereference(im);
    assert_status(sa, STATUS_FLT_DO_NOT_ATTACH);
    assert_status(sm, STATUS_FLT_DO_NOT_ATTACH);
    assert_null(ia);
    assert_null(im);
    assert_int_equal(f->a.setup_calls, 1);
    assert_int_equal(m.setup_calls, 0);
}

/* SPEC 2.4 [SIM]: FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC: neither filter start nor
 * a new mount attaches; a manual attach still does. */
static void attach_suppress_automatic_skips_automatic_attach(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    mount_d(f);
    touch(f, L"C:\\a.txt");
    assert_recorded("");
    touch(f, L"D:\\d.txt");
    assert_recorded("");
    assert_int_equal(f->a.setup_calls, 0);
    assert_int_equal(instance_count(NULL, f->a.filter), 0);

    PFLT_INSTANCE inst = NULL;
    assert_status(attach_named(f->a.filter, f->w.volume, NULL, &inst), STATUS_SUCCESS);
    FltObjectDereference(inst);
    touch(f, L"C:\\a.txt");
    assert_recorded("A:pre:CREATE A:post:CREATE");
}

/* SPEC 2.4: a warning or error from InstanceSetup means no attachment, and
 * [SIM] FltAttachVolume returns that status; the filter sees no I/O there. */
static void attach_setup_veto_returns_status_and_no_instance(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    f->a.setup_status = STATUS_FLT_DO_NOT_ATTACH;
    PFLT_INSTANCE inst = NULL;
    NTSTATUS error = attach_named(f->a.filter, f->w.volume, NULL, &inst);
    PFLT_INSTANCE inst2 = NULL;
    f->a.setup_status = STATUS_BUFFER_OVERFLOW; /* a warning vetoes too */
    NTSTATUS warning = attach_at(f->a.filter, f->w.volume, L"123", L"A two", &inst2);
    if (inst != NULL)
        FltObjectDereference(inst);
    if (inst2 != NULL)
        FltObjectDereference(inst2);
    assert_status(error, STATUS_FLT_DO_NOT_ATTACH);
    assert_status(warning, STATUS_BUFFER_OVERFLOW);
    assert_null(inst);
    assert_null(inst2);
    assert_int_equal(f->a.setup_calls, 2);
    assert_int_equal(instance_count(f->w.volume, NULL), 0);
    assert_false(has_instance(f->a.filter, f->w.volume, L"A Instance"));
    touch(f, L"C:\\a.txt");
    assert_recorded("");
}

/* SPEC 2.4: the same for automatic attachment at FltStartFiltering. */
static void automatic_setup_veto_leaves_volume_unfiltered(void **state)
{
    struct fx *f = *state;
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.setup_status = STATUS_FLT_DO_NOT_ATTACH;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_int_equal(f->a.setup_calls, 1);
    assert_int_equal(instance_count(NULL, f->a.filter), 0);
    touch(f, L"C:\\a.txt");
    assert_recorded("");
}

/* SPEC 2.4, 11: an informational status from InstanceSetup
 * (STATUS_OBJECT_NAME_EXISTS, 0x40000000) counts as success: attached. */
static void attach_setup_informational_status_attaches(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    f->a.setup_status = STATUS_OBJECT_NAME_EXISTS;
    PFLT_INSTANCE inst = NULL;
    NTSTATUS status = attach_named(f->a.filter, f->w.volume, NULL, &inst);
    ULONG count = instance_count(f->w.volume, f->a.filter);
    touch(f, L"C:\\a.txt");
    if (inst != NULL)
        FltObjectDereference(inst);
    assert_true(NT_SUCCESS(status));
    assert_non_null(inst);
    assert_int_equal(count, 1);
    assert_recorded("A:pre:CREATE A:post:CREATE");
}

/* SPEC 2.4: RetInstance carries a rundown reference: FltEnumerateInstances
 * sees the instance, one FltObjectDereference balances it (no V23), a second
 * one is unbalanced (V23). */
static void attach_ret_instance_holds_one_reference(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    PFLT_INSTANCE inst = NULL;
    assert_status(attach_named(f->a.filter, f->w.volume, NULL, &inst), STATUS_SUCCESS);
    PFLT_INSTANCE list[4] = {0};
    ULONG n = 0;
    assert_status(FltEnumerateInstances(f->w.volume, f->a.filter, list, 4, &n), STATUS_SUCCESS);
    for (ULONG k = 0; k < n; k++)
        FltObjectDereference(list[k]);
    assert_int_equal(n, 1);
    assert_ptr_equal(list[0], inst);

    FltObjectDereference(inst);
    assert_int_equal(v23(f), 0);
    FltObjectDereference(inst); /* one too many: still attached, so the memory is there */
    assert_int_equal(v23(f), 1);
}

/* SPEC 2.6 step 5: a held instance reference does not delay teardown; it
 * keeps the object (FltObjectReference on it now says DELETING_OBJECT) until
 * released. */
static void attach_reference_does_not_delay_detach(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC);
    PFLT_INSTANCE inst = NULL;
    assert_status(attach_named(f->a.filter, f->w.volume, NULL, &inst), STATUS_SUCCESS);
    NTSTATUS detached = detach(f->a.filter, f->w.volume, NULL);
    ULONG completes_now = f->a.teardown_complete_calls;
    NTSTATUS again = FltObjectReference(inst);
    if (NT_SUCCESS(again))
        FltObjectDereference(inst);
    FltObjectDereference(inst);
    assert_status(detached, STATUS_SUCCESS);
    assert_int_equal(completes_now, 1);
    assert_status(again, STATUS_FLT_DELETING_OBJECT);
    assert_int_equal(v23(f), 0);
}

static void attach_from_teardown_hook(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    UNICODE_STRING altitude = RTL_CONSTANT_STRING(L"123456");
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"Late");
    PFLT_INSTANCE inst = NULL;
    NTSTATUS status =
        FltAttachVolumeAtAltitude(tf->filter, objects->Volume, &altitude, &name, &inst);
    if (inst != NULL)
        FltObjectDereference(inst);
    *(NTSTATUS *)tf->user = status;
}

/* SPEC 2.4: attaching while the filter is being torn down fails with
 * STATUS_FLT_DELETING_OBJECT. */
static void attach_while_unregistering_is_deleting_object(void **state)
{
    struct fx *f = *state;
    NTSTATUS *seen = &f->seen;
    *seen = STATUS_PENDING;
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.user = seen;
    f->a.teardown_start_hook = attach_from_teardown_hook;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_status(*seen, STATUS_FLT_DELETING_OBJECT);
    assert_int_equal(f->a.setup_calls, 1);
}

static void attach_during_dismount_hook(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    struct late_calls *r = tf->user;
    UNICODE_STRING altitude = RTL_CONSTANT_STRING(L"123456");
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"Late");
    PFLT_INSTANCE inst = NULL;
    r->attach = FltAttachVolumeAtAltitude(tf->filter, objects->Volume, &altitude, &name, &inst);
    if (inst != NULL)
        FltObjectDereference(inst);
    r->volume_reference = FltObjectReference(objects->Volume);
    if (NT_SUCCESS(r->volume_reference))
        FltObjectDereference(objects->Volume);
}

/* SPEC 2.4 (FltAttachVolume errors), 2.6: once a volume is dismounting,
 * attaching to it and referencing it fail with STATUS_FLT_DELETING_OBJECT. */
static void attach_to_dismounting_volume_is_deleting_object(void **state)
{
    struct fx *f = *state;
    struct late_calls *r = &f->late;
    r->attach = r->volume_reference = STATUS_PENDING;
    mount_d(f);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.user = r;
    f->a.teardown_start_hook = attach_during_dismount_hook;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(fltsim_volume_dismount(f->d), STATUS_SUCCESS);
    f->d = NULL;
    assert_int_equal(f->a.teardown_start_calls, 1);
    assert_status(r->attach, STATUS_FLT_DELETING_OBJECT);
    assert_status(r->volume_reference, STATUS_FLT_DELETING_OBJECT);
    assert_int_equal(f->a.setup_calls, 2);
}

/* ========================================================================= */
/* FltDetachVolume (SPEC 2.5, 2.6)                                           */
/* ========================================================================= */

/* SPEC 2.5: no matching instance: STATUS_FLT_INSTANCE_NOT_FOUND, and
 * InstanceQueryTeardown is not called. */
static void detach_unknown_instance_is_instance_not_found(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", 0);
    load(f, &f->b, "B", "200000", 0);
    mount_d(f); /* no create yet: nobody is attached to D: */
    assert_status(detach(f->a.filter, f->w.volume, L"Nope"), STATUS_FLT_INSTANCE_NOT_FOUND);
    assert_status(detach(f->a.filter, f->w.volume, L"B Instance"), STATUS_FLT_INSTANCE_NOT_FOUND);
    assert_status(detach(f->a.filter, f->d, NULL), STATUS_FLT_INSTANCE_NOT_FOUND);
    assert_int_equal(f->a.query_teardown_calls, 0);
    assert_int_equal(f->b.query_teardown_calls, 0);
    assert_int_equal(f->b.teardown_start_calls, 0);
    assert_int_equal(instance_count(f->w.volume, NULL), 2);
}

/* SPEC 2.5: without InstanceQueryTeardownCallback manual detach is impossible:
 * [SIM] STATUS_FLT_DO_NOT_DETACH, and the instance stays. */
static void detach_without_query_teardown_is_do_not_detach(void **state)
{
    struct fx *f = *state;
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.no_query_teardown_callback = true;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(detach(f->a.filter, f->w.volume, L"A Instance"), STATUS_FLT_DO_NOT_DETACH);
    assert_status(detach(f->a.filter, f->w.volume, NULL), STATUS_FLT_DO_NOT_DETACH);
    assert_int_equal(f->a.teardown_start_calls, 0);
    assert_true(has_instance(f->a.filter, f->w.volume, L"A Instance"));
    touch(f, L"C:\\a.txt");
    assert_recorded("A:pre:CREATE A:post:CREATE");
}

/* SPEC 2.5: a warning or error from InstanceQueryTeardown vetoes the detach;
 * [SIM] FltDetachVolume returns the callback's status and the instance stays. */
static void detach_vetoed_returns_callback_status(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", 0);
    f->a.query_teardown_status = STATUS_ACCESS_DENIED;
    assert_status(detach(f->a.filter, f->w.volume, NULL), STATUS_ACCESS_DENIED);
    f->a.query_teardown_status = STATUS_BUFFER_OVERFLOW;
    assert_status(detach(f->a.filter, f->w.volume, NULL), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(f->a.query_teardown_calls, 2);
    assert_int_equal(f->a.teardown_start_calls, 0);
    assert_true(has_instance(f->a.filter, f->w.volume, L"A Instance"));
    touch(f, L"C:\\a.txt");
    assert_recorded("A:pre:CREATE A:post:CREATE");
}

/* SPEC 2.5, 2.6: a detach that InstanceQueryTeardown allows (success or an
 * informational status) runs QueryTeardown, TeardownStart, TeardownComplete
 * with FLTFL_INSTANCE_TEARDOWN_MANUAL; later I/O skips the instance. */
static void detach_runs_query_start_complete_with_manual_reason(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", 0);
    load(f, &f->b, "B", "200000", 0);
    rec_reset();
    assert_status(detach(f->a.filter, f->w.volume, L"A Instance"), STATUS_SUCCESS);
    assert_recorded("A:query_teardown A:teardown_start A:teardown_complete");
    assert_int_equal(f->a.last_teardown_reason, FLTFL_INSTANCE_TEARDOWN_MANUAL);
    assert_false(has_instance(f->a.filter, f->w.volume, L"A Instance"));
    touch(f, L"C:\\a.txt");
    assert_recorded("B:pre:CREATE B:post:CREATE");

    f->b.query_teardown_status = STATUS_OBJECT_NAME_EXISTS;
    rec_reset();
    assert_status(detach(f->b.filter, f->w.volume, NULL), STATUS_SUCCESS);
    assert_recorded("B:query_teardown B:teardown_start B:teardown_complete");
    assert_int_equal(f->b.last_teardown_reason, FLTFL_INSTANCE_TEARDOWN_MANUAL);
    touch(f, L"C:\\a.txt");
    assert_recorded("");
}

static void detach_again_hook(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"A Instance");
    *(NTSTATUS *)tf->user = FltDetachVolume(tf->filter, objects->Volume, &name);
}

/* SPEC 2.5: FltDetachVolume for an instance already being torn down fails
 * with STATUS_FLT_DELETING_OBJECT (and asks no InstanceQueryTeardown). */
static void detach_instance_being_torn_down_is_deleting_object(void **state)
{
    struct fx *f = *state;
    NTSTATUS *seen = &f->seen;
    *seen = STATUS_PENDING;
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.user = seen;
    f->a.teardown_start_hook = detach_again_hook;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(detach(f->a.filter, f->w.volume, L"A Instance"), STATUS_SUCCESS);
    assert_status(*seen, STATUS_FLT_DELETING_OBJECT);
    assert_int_equal(f->a.query_teardown_calls, 1);
    assert_int_equal(f->a.teardown_complete_calls, 1);
}

/* SPEC 2.5 [SIM]: with InstanceName NULL, FltDetachVolume detaches the
 * filter's highest instance on the volume (not another filter's). */
static void detach_null_name_detaches_filters_highest_instance(void **state)
{
    struct fx *f = *state;
    load(f, &f->b, "B", "500000", 0);
    load(f, &f->a, "A", "300000", 0);
    PFLT_INSTANCE low = NULL, high = NULL;
    assert_status(attach_at(f->a.filter, f->w.volume, L"100000", L"A Low", &low), STATUS_SUCCESS);
    assert_status(attach_at(f->a.filter, f->w.volume, L"400000", L"A High", &high), STATUS_SUCCESS);
    FltObjectDereference(low);
    FltObjectDereference(high);

    assert_status(detach(f->a.filter, f->w.volume, NULL), STATUS_SUCCESS);
    assert_false(has_instance(f->a.filter, f->w.volume, L"A High"));
    assert_true(has_instance(f->a.filter, f->w.volume, L"A Instance"));
    assert_true(has_instance(f->a.filter, f->w.volume, L"A Low"));
    assert_int_equal(f->b.teardown_start_calls, 0);

    assert_status(detach(f->a.filter, f->w.volume, NULL), STATUS_SUCCESS);
    assert_false(has_instance(f->a.filter, f->w.volume, L"A Instance"));
    assert_true(has_instance(f->a.filter, f->w.volume, L"A Low"));
}

/* SPEC 2.5: InstanceQueryTeardown is called for manual detach only, never for
 * a dismount (reason VOLUME_DISMOUNT) or an unload (FILTER_UNLOAD). */
static void query_teardown_not_called_for_dismount_or_unload(void **state)
{
    struct fx *f = *state;
    mount_d(f);
    load(f, &f->a, "A", "300000", 0);
    assert_int_equal(f->a.setup_calls, 2);
    assert_status(fltsim_volume_dismount(f->d), STATUS_SUCCESS);
    f->d = NULL;
    assert_int_equal(f->a.teardown_complete_calls, 1);
    assert_int_equal(f->a.last_teardown_reason, FLTFL_INSTANCE_TEARDOWN_VOLUME_DISMOUNT);
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_int_equal(f->a.teardown_complete_calls, 2);
    assert_int_equal(f->a.last_teardown_reason, FLTFL_INSTANCE_TEARDOWN_FILTER_UNLOAD);
    assert_int_equal(f->a.query_teardown_calls, 0);
}

/* ========================================================================= */
/* Teardown (SPEC 2.6)                                                       */
/* ========================================================================= */

static void reference_instance_hook(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    NTSTATUS status = FltObjectReference(objects->Instance);
    if (NT_SUCCESS(status))
        FltObjectDereference(objects->Instance);
    *(NTSTATUS *)tf->user = status;
}

/* SPEC 2.6 step 1 (R-OBJREF): from TeardownStart on, FltObjectReference on
 * the instance fails with STATUS_FLT_DELETING_OBJECT. */
static void reference_instance_in_teardown_start_is_deleting_object(void **state)
{
    struct fx *f = *state;
    NTSTATUS *seen = &f->seen;
    *seen = STATUS_PENDING;
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.user = seen;
    f->a.teardown_start_hook = reference_instance_hook;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    PFLT_INSTANCE inst = f->a.last_instance;
    NTSTATUS before = FltObjectReference(inst);
    if (NT_SUCCESS(before))
        FltObjectDereference(inst);
    assert_status(before, STATUS_SUCCESS);
    assert_status(detach(f->a.filter, f->w.volume, NULL), STATUS_SUCCESS);
    assert_int_equal(f->a.teardown_start_calls, 1);
    assert_status(*seen, STATUS_FLT_DELETING_OBJECT);
}

/* model.h, SPEC 2.6: a volume with an open file object cannot be dismounted
 * (STATUS_DEVICE_BUSY, nothing changes); once closed, the dismount tears the
 * instances down with FLTFL_INSTANCE_TEARDOWN_VOLUME_DISMOUNT. */
static void dismount_busy_then_tears_down_with_dismount_reason(void **state)
{
    struct fx *f = *state;
    tf_init(&f->a, "A", "300000");
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    load(f, &f->b, "B", "200000", 0);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);

    assert_status(fltsim_volume_dismount(f->w.volume), STATUS_DEVICE_BUSY);
    assert_int_equal(f->a.teardown_start_calls, 0);
    assert_int_equal(f->b.teardown_start_calls, 0);
    assert_ptr_equal(fltsim_volume_find(f->w.sys, L"C:"), f->w.volume);
    rec_reset();
    char buf[5];
    LONGLONG offset = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &offset, 0, NULL), STATUS_SUCCESS);
    assert_non_null(strstr(rec_text(), "A:pre:READ"));
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    assert_status(fltsim_volume_dismount(f->w.volume), STATUS_SUCCESS);
    assert_int_equal(f->a.teardown_complete_calls, 1);
    assert_int_equal(f->b.teardown_complete_calls, 1);
    assert_int_equal(f->a.last_teardown_reason, FLTFL_INSTANCE_TEARDOWN_VOLUME_DISMOUNT);
    assert_int_equal(f->b.last_teardown_reason, FLTFL_INSTANCE_TEARDOWN_VOLUME_DISMOUNT);
    assert_int_equal(f->a.query_teardown_calls, 0);
    assert_null(fltsim_volume_find(f->w.sys, L"C:"));
    UNICODE_STRING c = RTL_CONSTANT_STRING(L"C:");
    PFLT_VOLUME v = NULL;
    assert_status(FltGetVolumeFromName(f->a.filter, &c, &v), STATUS_FLT_VOLUME_NOT_FOUND);
    assert_null(v);
    f->w.volume = NULL;
}

#define FX(test) cmocka_unit_test_setup_teardown(test, m_fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX(altitude_03333_is_higher_than_100_123456),
        FX(altitude_trailing_fraction_zeros_collide),
        FX(altitude_100_and_1000_differ),
        FX(altitude_invalid_string_is_invalid_parameter),
        FX(compare_altitudes_same_instance_or_other_volume_is_zero),
        FX(attach_before_start_filtering_is_filter_not_ready),
        FX(attach_null_name_uses_default_instance),
        FX(attach_unknown_instance_name_is_object_name_not_found),
        FX(attach_same_altitude_is_object_name_collision),
        FX(attach_same_instance_name_is_instance_name_collision),
        FX(attach_suppress_manual_is_do_not_attach),
        FX(attach_suppress_automatic_skips_automatic_attach),
        FX(attach_setup_veto_returns_status_and_no_instance),
        FX(automatic_setup_veto_leaves_volume_unfiltered),
        FX(attach_setup_informational_status_attaches),
        FX(attach_ret_instance_holds_one_reference),
        FX(attach_reference_does_not_delay_detach),
        FX(attach_while_unregistering_is_deleting_object),
        FX(attach_to_dismounting_volume_is_deleting_object),
        FX(detach_unknown_instance_is_instance_not_found),
        FX(detach_without_query_teardown_is_do_not_detach),
        FX(detach_vetoed_returns_callback_status),
        FX(detach_runs_query_start_complete_with_manual_reason),
        FX(detach_instance_being_torn_down_is_deleting_object),
        FX(detach_null_name_detaches_filters_highest_instance),
        FX(query_teardown_not_called_for_dismount_or_unload),
        FX(reference_instance_in_teardown_start_is_deleting_object),
        FX(dismount_busy_then_tears_down_with_dismount_reason),
    };
    return FLTSIM_RUN_SUITE("instances", tests);
}
