/*
 * The verifier's records and modes (issue 5, SPEC 10): what a report carries,
 * strict and report-only modes, per-rule disable with a suppressed count, the
 * IRQL ceilings of the object routines and of executive resources (V28),
 * PAGED_CODE() above APC_LEVEL, and blocking inside InstanceSetupCallback
 * (V30). Each check has a case that breaks the rule and a correct twin that
 * produces no report. One test filter A (300000) over memfs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

/* What A's pre on IRP_MJ_READ does. */
enum pre_action {
    PRE_PASS,              /* SUCCESS_NO_CALLBACK */
    PRE_BAD_STATUS,        /* return 42 (V1) */
    PRE_VOLUME_AT,         /* FltGetVolumeFromInstance at `irql` */
    PRE_VOLUME_BY_NAME_AT, /* FltGetVolumeFromName at `irql` */
    PRE_REFERENCE_AT,      /* FltObjectReference/Dereference at `irql` */
    PRE_RESOURCE_AT,       /* ExAcquireResourceExclusiveLite at `irql` */
    PRE_PAGED_CODE_AT,     /* a routine with PAGED_CODE() at `irql` */
    PRE_WAIT,              /* KeWaitForSingleObject with a 1 ms timeout */
    PRE_DISALLOW_FSFILTER, /* return FLT_PREOP_DISALLOW_FSFILTER_IO (V6 for a read) */
    PRE_RETARGET_INSTANCE, /* TargetInstance = `other`, dirty (V17 unless legal) */
    PRE_RETARGET_COMPLETE, /* the same, then FLT_PREOP_COMPLETE (V18) */
    PRE_POST_FAILS         /* SUCCESS_WITH_CALLBACK; the post sets `post_status` */
};

struct fixture {
    struct test_world w;
    struct tf_filter a;
    struct tf_filter b; /* loaded only by the V17 case */
    enum pre_action action;
    KIRQL irql;
    UCHAR minor_seen;
    PFLT_INSTANCE other;
    NTSTATUS post_status;
    ULONG reports_traced;
    HANDLE h;
};

static struct fixture *current;

static void setup_waits(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects);

static void paged_routine(void)
{
    PAGED_CODE();
}

static FLT_PREOP_CALLBACK_STATUS pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                     PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)context;
    struct fixture *f = current;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    f->minor_seen = data->Iopb->MinorFunction;
    KIRQL old;
    KeRaiseIrql(f->irql, &old);
    switch (f->action) {
    case PRE_PASS:
        break;
    case PRE_BAD_STATUS:
        KeLowerIrql(old);
        return (FLT_PREOP_CALLBACK_STATUS)42;
    case PRE_VOLUME_AT: {
        PFLT_VOLUME v = NULL;
        assert_status(FltGetVolumeFromInstance(objects->Instance, &v), STATUS_SUCCESS);
        FltObjectDereference(v);
        break;
    }
    case PRE_VOLUME_BY_NAME_AT: {
        UNICODE_STRING name;
        RtlInitUnicodeString(&name, L"C:");
        PFLT_VOLUME v = NULL;
        assert_status(FltGetVolumeFromName(objects->Filter, &name, &v), STATUS_SUCCESS);
        FltObjectDereference(v);
        break;
    }
    case PRE_REFERENCE_AT:
        assert_status(FltObjectReference(objects->Instance), STATUS_SUCCESS);
        FltObjectDereference(objects->Instance);
        break;
    case PRE_RESOURCE_AT: {
        ERESOURCE r;
        ExInitializeResourceLite(&r);
        KeEnterCriticalRegion();
        assert_true(ExAcquireResourceExclusiveLite(&r, TRUE));
        ExReleaseResourceLite(&r);
        KeLeaveCriticalRegion();
        ExDeleteResourceLite(&r);
        break;
    }
    case PRE_PAGED_CODE_AT:
        paged_routine();
        break;
    case PRE_WAIT:
        setup_waits(tf, objects);
        break;
    case PRE_DISALLOW_FSFILTER:
        KeLowerIrql(old);
        return FLT_PREOP_DISALLOW_FSFILTER_IO;
    case PRE_RETARGET_INSTANCE:
        data->Iopb->TargetInstance = f->other;
        FltSetCallbackDataDirty(data);
        break;
    case PRE_RETARGET_COMPLETE:
        data->Iopb->TargetInstance = f->other;
        FltSetCallbackDataDirty(data);
        data->IoStatus.Status = STATUS_SUCCESS;
        data->IoStatus.Information = 0;
        KeLowerIrql(old);
        return FLT_PREOP_COMPLETE;
    case PRE_POST_FAILS:
        KeLowerIrql(old);
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    }
    KeLowerIrql(old);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID context,
                                       FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf;
    (void)objects;
    (void)context;
    (void)flags;
    struct fixture *f = current;
    if (data->Iopb->MajorFunction == IRP_MJ_READ && f->action == PRE_POST_FAILS) {
        data->IoStatus.Status = f->post_status;
        data->IoStatus.Information = 0;
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static void count_reports(void *ctx, const struct fltsim_event *ev)
{
    struct fixture *f = ctx;
    if (ev->type == FLTSIM_EV_REPORT)
        __atomic_add_fetch(&f->reports_traced, 1, __ATOMIC_SEQ_CST);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    f->a.pre = pre;
    f->a.post = post;
    current = f;
    fltsim_system_set_trace(f->w.sys, count_reports, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->h != NULL)
        assert_status(fltsim_io_close(f->w.sys, f->h), STATUS_SUCCESS);
    world_destroy(&f->w);
    current = NULL;
    free(f);
    return 0;
}

/* Loads A and opens C:\a.txt (the create attaches A). */
static void load(struct fixture *f)
{
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    f->h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* Reads 4 bytes through A with the pre doing action at irql. */
static NTSTATUS read_with(struct fixture *f, enum pre_action action, KIRQL irql)
{
    f->action = action;
    f->irql = irql;
    char buf[8];
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    NTSTATUS status = fltsim_io_read(f->w.sys, f->h, buf, 4, &zero, 0, &iosb);
    f->action = PRE_PASS;
    f->irql = PASSIVE_LEVEL;
    return status;
}

/* ---- the report record ---- */

/* issue 5 item 1: rule, SPEC section, filter, instance, altitude, operation
 * (major, minor, kind, id), thread and process, and the message. */
static void verifier_report_record_names_everything(void **state)
{
    struct fixture *f = *state;
    load(f);
    assert_status(read_with(f, PRE_BAD_STATUS, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &r), STATUS_SUCCESS);
    assert_string_equal(r.rule, "V1");
    assert_string_equal(r.spec, "3.2");
    assert_string_equal(r.filter, "A");
    assert_string_equal(r.instance, "A Instance");
    assert_string_equal(r.altitude, "300000");
    assert_int_equal(r.major, IRP_MJ_READ);
    assert_int_equal(r.minor, f->minor_seen);
    assert_int_equal(r.op_kind, FLTSIM_OP_IRP);
    assert_true(r.op_id != 0);
    assert_int_equal(r.thread_id, fltsim_thread_id());
    assert_int_equal(r.process_id, fltsim_thread_process_id());
    assert_non_null(strstr(r.message, "not an FLT_PREOP_CALLBACK_STATUS"));

    char text[1024];
    fltsim_report_format(&r, text, sizeof(text));
    assert_non_null(strstr(text, "V1 (SPEC 3.2) in filter 'A' (instance 'A Instance', "
                                 "altitude 300000), IRP_MJ_READ/IRP_MN_NORMAL IRP, thread "));
    assert_non_null(strstr(text, r.message));
    /* Truncation keeps the string terminated. */
    char small[12];
    fltsim_report_format(&r, small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_int_equal(f->reports_traced, 1);
}

/* ---- modes ---- */

/* Strict (the default): a report is a failure. Report-only: recorded and
 * traced, not a failure. Either way fltsim goes on as Windows does (the
 * unknown status is handled as SUCCESS_NO_CALLBACK and the read succeeds). */
static void verifier_strict_by_default_report_mode_is_not_a_failure(void **state)
{
    struct fixture *f = *state;
    load(f);
    assert_int_equal(fltsim_system_verifier_mode(f->w.sys), FLTSIM_VERIFIER_MODE_STRICT);
    assert_false(fltsim_system_verifier_failed(f->w.sys));
    assert_status(read_with(f, PRE_BAD_STATUS, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_true(fltsim_system_verifier_failed(f->w.sys));

    assert_status(fltsim_system_set_verifier_mode(f->w.sys, FLTSIM_VERIFIER_MODE_REPORT),
                  STATUS_SUCCESS);
    assert_false(fltsim_system_verifier_failed(f->w.sys));
    assert_status(read_with(f, PRE_BAD_STATUS, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V1"), 2);
    assert_int_equal(f->reports_traced, 2);
    assert_false(fltsim_system_verifier_failed(f->w.sys));

    assert_status(fltsim_system_set_verifier_mode(f->w.sys, (enum fltsim_verifier_policy)7),
                  STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "mode 7"));
    assert_int_equal(fltsim_system_verifier_mode(f->w.sys), FLTSIM_VERIFIER_MODE_REPORT);
}

/* A disabled rule is neither recorded nor traced, only counted; enabling it
 * again reports it again; other rules are unaffected. */
static void verifier_disabled_rule_is_counted_not_recorded(void **state)
{
    struct fixture *f = *state;
    load(f);
    assert_status(fltsim_system_verifier_disable(f->w.sys, "V1"), STATUS_SUCCESS);
    assert_status(fltsim_system_verifier_disable(f->w.sys, "V1"), STATUS_SUCCESS);
    assert_true(fltsim_system_verifier_is_disabled(f->w.sys, "V1"));
    assert_false(fltsim_system_verifier_is_disabled(f->w.sys, "V28"));
    assert_status(read_with(f, PRE_BAD_STATUS, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_int_equal(fltsim_system_report_suppressed_count(f->w.sys), 1);
    assert_int_equal(f->reports_traced, 0);
    assert_false(fltsim_system_verifier_failed(f->w.sys));

    /* Another rule still reports. */
    assert_status(read_with(f, PRE_VOLUME_AT, DISPATCH_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V28"), 1);

    assert_status(fltsim_system_verifier_enable(f->w.sys, "V1"), STATUS_SUCCESS);
    assert_false(fltsim_system_verifier_is_disabled(f->w.sys, "V1"));
    assert_status(read_with(f, PRE_BAD_STATUS, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V1"), 1);
    assert_int_equal(fltsim_system_report_suppressed_count(f->w.sys), 1);
    assert_int_equal(f->reports_traced, 2);

    fltsim_system_reports_clear(f->w.sys);
    assert_int_equal(fltsim_system_report_suppressed_count(f->w.sys), 0);
}

/* Only the rule ids fltsim reports under can be disabled. */
static void verifier_disable_rejects_unknown_rules(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {"V0", "V37", "V100", "v1", "V", "X", "", "V1 ", "V07"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_status(fltsim_system_verifier_disable(f->w.sys, bad[i]), STATUS_INVALID_PARAMETER);
        assert_non_null(strstr(fltsim_last_error(), "is not a verifier rule"));
        assert_false(fltsim_verifier_rule_valid(bad[i]));
    }
    assert_status(fltsim_system_verifier_disable(f->w.sys, NULL), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_system_verifier_enable(f->w.sys, "V37"), STATUS_INVALID_PARAMETER);
    static const char *const good[] = {"V1",  "V9",     "V10", "V30", "V31",
                                       "V36", "ASSERT", "KE",  "SIM"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_status(fltsim_system_verifier_disable(f->w.sys, good[i]), STATUS_SUCCESS);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_status(fltsim_system_verifier_enable(f->w.sys, good[i]), STATUS_SUCCESS);
    assert_false(fltsim_system_verifier_is_disabled(f->w.sys, "KE"));
}

/* ---- callback results (V6, V11, V17) ---- */

/* V6: DISALLOW_FSFILTER_IO is only for IRP_MJ_QUERY_OPEN; handled as
 * SUCCESS_NO_CALLBACK, so the read still succeeds. */
static void verifier_disallow_fsfilter_for_a_read_is_reported(void **state)
{
    struct fixture *f = *state;
    load(f);
    assert_status(read_with(f, PRE_DISALLOW_FSFILTER, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V6"), 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
}

/* V11: a post that fails the operation with STATUS_FLT_DISALLOW_FAST_IO,
 * which only FltMgr produces; failing it with STATUS_ACCESS_DENIED is fine. */
static void verifier_post_producing_disallow_fast_io_is_reported(void **state)
{
    struct fixture *f = *state;
    load(f);
    f->post_status = STATUS_ACCESS_DENIED;
    assert_status(read_with(f, PRE_POST_FAILS, PASSIVE_LEVEL), STATUS_ACCESS_DENIED);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    f->post_status = STATUS_FLT_DISALLOW_FAST_IO;
    read_with(f, PRE_POST_FAILS, PASSIVE_LEVEL);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V11"), 1);
}

/* V17: TargetInstance may only become an instance of the same filter at the
 * same altitude on another volume; the change is undone. Setting it to the
 * instance it already is stays clean. */
static void verifier_target_instance_of_another_filter_is_reported(void **state)
{
    struct fixture *f = *state;
    tf_init(&f->b, "B", "100000");
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);
    load(f);
    f->other = f->a.last_instance;
    assert_status(read_with(f, PRE_RETARGET_INSTANCE, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    f->other = f->b.last_instance;
    assert_non_null(f->other);
    assert_status(read_with(f, PRE_RETARGET_INSTANCE, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V17"), 1);
}

/* V18 (SPEC 3.2, issue 16): a pre that retargets the operation to another
 * instance of its own filter (legal: same altitude, another volume) and then
 * completes it is reported, once, and nothing else is (the change is
 * undone, as the operation goes nowhere). Completing without the change is
 * clean. */
static void verifier_retarget_then_complete_is_reported(void **state)
{
    struct fixture *f = *state;
    load(f);
    struct fltsim_memfs *fs;
    assert_status(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume2",
                                      .drive_letter = L'D',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = FLT_FSTYPE_NTFS};
    PFLT_VOLUME d;
    assert_status(fltsim_volume_mount(f->w.sys, &vp, &d), STATUS_SUCCESS);
    PFLT_INSTANCE on_d = NULL;
    assert_status(FltAttachVolume(f->a.filter, d, NULL, &on_d), STATUS_SUCCESS);

    f->other = on_d;
    assert_status(read_with(f, PRE_RETARGET_COMPLETE, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V18"), 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &r), STATUS_SUCCESS);
    assert_string_equal(r.filter, "A");
    assert_int_equal(r.major, IRP_MJ_READ);
    assert_non_null(strstr(r.message, "TargetInstance"));

    /* The twin: completing with TargetInstance as it came (C:'s). */
    assert_status(FltGetVolumeInstanceFromName(f->a.filter, f->w.volume, NULL, &f->other),
                  STATUS_SUCCESS);
    FltObjectDereference(f->other);
    assert_status(read_with(f, PRE_RETARGET_COMPLETE, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
    FltObjectDereference(on_d);
}

/* ---- IRQL ceilings (V28) ---- */

static void expect_one_v28_naming(struct fixture *f, const char *api)
{
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &r), STATUS_SUCCESS);
    assert_string_equal(r.rule, "V28");
    assert_string_equal(r.filter, "A");
    assert_non_null(strstr(r.message, api));
}

/* FltGetVolumeFromInstance: APC_LEVEL at most. */
static void verifier_object_routine_above_its_ceiling_is_reported(void **state)
{
    struct fixture *f = *state;
    load(f);
    assert_status(read_with(f, PRE_VOLUME_AT, APC_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(read_with(f, PRE_VOLUME_AT, DISPATCH_LEVEL), STATUS_SUCCESS);
    expect_one_v28_naming(f, "FltGetVolumeFromInstance");
}

/* FltGetVolumeFromName: PASSIVE_LEVEL only. */
static void verifier_volume_from_name_above_passive_is_reported(void **state)
{
    struct fixture *f = *state;
    load(f);
    assert_status(read_with(f, PRE_VOLUME_BY_NAME_AT, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(read_with(f, PRE_VOLUME_BY_NAME_AT, APC_LEVEL), STATUS_SUCCESS);
    expect_one_v28_naming(f, "FltGetVolumeFromName");
}

/* FltObjectReference / FltObjectDereference: DISPATCH_LEVEL at most. */
static void verifier_object_reference_above_dispatch_is_reported(void **state)
{
    struct fixture *f = *state;
    load(f);
    assert_status(read_with(f, PRE_REFERENCE_AT, DISPATCH_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(read_with(f, PRE_REFERENCE_AT, CLOCK_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V28"), 2);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "FltObjectReference"));
    assert_status(fltsim_system_report_get(f->w.sys, 1, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "FltObjectDereference"));
}

/* ExAcquireResource*Lite: APC_LEVEL at most (a resource can block). */
static void verifier_resource_above_apc_is_reported(void **state)
{
    struct fixture *f = *state;
    load(f);
    assert_status(read_with(f, PRE_RESOURCE_AT, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(read_with(f, PRE_RESOURCE_AT, DISPATCH_LEVEL), STATUS_SUCCESS);
    expect_one_v28_naming(f, "ExAcquireResourceExclusiveLite");
}

/* PAGED_CODE() in a routine running at DISPATCH_LEVEL. */
static void verifier_paged_code_at_dispatch_is_reported(void **state)
{
    struct fixture *f = *state;
    load(f);
    assert_status(read_with(f, PRE_PAGED_CODE_AT, APC_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(read_with(f, PRE_PAGED_CODE_AT, DISPATCH_LEVEL), STATUS_SUCCESS);
    expect_one_v28_naming(f, "PAGED_CODE() in paged_routine");
}

/* ---- blocking in InstanceSetupCallback (V30) ---- */

static void setup_delays(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)tf;
    (void)objects;
    LARGE_INTEGER interval;
    interval.QuadPart = -10 * 1000; /* 1 ms, relative */
    assert_status(KeDelayExecutionThread(KernelMode, FALSE, &interval), STATUS_SUCCESS);
}

static void setup_waits(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)tf;
    (void)objects;
    KEVENT never;
    KeInitializeEvent(&never, NotificationEvent, FALSE);
    LARGE_INTEGER timeout;
    timeout.QuadPart = -10 * 1000;
    assert_status(KeWaitForSingleObject(&never, Executive, KernelMode, FALSE, &timeout),
                  STATUS_TIMEOUT);
}

/* The twin: polls an event and takes an uncontended resource. */
static void setup_does_not_block(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)tf;
    (void)objects;
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    LARGE_INTEGER zero;
    zero.QuadPart = 0;
    assert_status(KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &zero),
                  STATUS_TIMEOUT);
    ERESOURCE r;
    ExInitializeResourceLite(&r);
    FltAcquireResourceExclusive(&r);
    FltReleaseResource(&r);
    ExDeleteResourceLite(&r);
}

static void expect_setup(struct fixture *f, void (*hook)(struct tf_filter *, PCFLT_RELATED_OBJECTS),
                         ULONG v30)
{
    f->a.setup_hook = hook;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    f->h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_int_equal(f->a.setup_calls, 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), v30);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V30"), v30);
    if (v30 == 0)
        return;
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &r), STATUS_SUCCESS);
    assert_string_equal(r.filter, "A");
    assert_string_equal(r.altitude, "300000");
    assert_non_null(strstr(r.message, "InstanceSetupCallback"));
}

static void verifier_delay_in_instance_setup_is_reported(void **state)
{
    expect_setup(*state, setup_delays, 1);
}

static void verifier_wait_in_instance_setup_is_reported(void **state)
{
    expect_setup(*state, setup_waits, 1);
}

static void verifier_instance_setup_without_blocking_is_clean(void **state)
{
    expect_setup(*state, setup_does_not_block, 0);
}

/* The same wait in a pre (not in setup) is no V30. */
static void verifier_wait_outside_setup_is_no_v30(void **state)
{
    struct fixture *f = *state;
    load(f);
    assert_status(read_with(f, PRE_WAIT, PASSIVE_LEVEL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(verifier_report_record_names_everything),
        CASE(verifier_strict_by_default_report_mode_is_not_a_failure),
        CASE(verifier_disabled_rule_is_counted_not_recorded),
        CASE(verifier_disable_rejects_unknown_rules),
        CASE(verifier_disallow_fsfilter_for_a_read_is_reported),
        CASE(verifier_post_producing_disallow_fast_io_is_reported),
        CASE(verifier_target_instance_of_another_filter_is_reported),
        CASE(verifier_retarget_then_complete_is_reported),
        CASE(verifier_object_routine_above_its_ceiling_is_reported),
        CASE(verifier_volume_from_name_above_passive_is_reported),
        CASE(verifier_object_reference_above_dispatch_is_reported),
        CASE(verifier_resource_above_apc_is_reported),
        CASE(verifier_paged_code_at_dispatch_is_reported),
        CASE(verifier_delay_in_instance_setup_is_reported),
        CASE(verifier_wait_in_instance_setup_is_reported),
        CASE(verifier_instance_setup_without_blocking_is_clean),
        CASE(verifier_wait_outside_setup_is_no_v30),
    };
    return FLTSIM_RUN_SUITE("verifier", tests);
}
