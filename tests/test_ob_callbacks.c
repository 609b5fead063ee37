/*
 * Object callbacks (issue 20 items 3 and 5, SPEC 9), under both executors:
 * ObRegisterCallbacks' rules (version, operation entries, object types,
 * altitude and its collision, the /INTEGRITYCHECK load flag, IRQL), the
 * pre and post callbacks of a handle create or duplicate as the handle code
 * calls them (fltsim__ob_pre / fltsim__ob_post, nt/ob_internal.h), their
 * order, and the verifier rules V32-V36.
 */
#include <stdio.h>
#include <string.h>

#include <fltsim/trace.h>

#include "fltsim_test.h"
#include "ob_internal.h"
#include "trace_capture.h"

/* ---- a driver that registers what a case asks ---- */

#define MAX_SEEN 8

struct seen_pre {
    PVOID context;
    OB_OPERATION operation;
    ULONG kernel_handle;
    PVOID object;
    POBJECT_TYPE type;
    PVOID call_context;
    ACCESS_MASK desired, original;
    PVOID source, target;
    KIRQL irql;
    BOOLEAN apcs_disabled;
    PKTHREAD thread;
};

struct seen_post {
    PVOID context;
    OB_OPERATION operation;
    PVOID call_context;
    NTSTATUS status;
    ACCESS_MASK granted;
    KIRQL irql;
};

static struct {
    /* what the pre does */
    ACCESS_MASK strip;
    ACCESS_MASK add;
    int pre_return;
    bool wait_in_pre;
    bool raise_in_post;
    /* what happened */
    struct seen_pre pre[MAX_SEEN];
    ULONG pres;
    struct seen_post post[MAX_SEEN];
    ULONG posts;
} cb;

static OB_PREOP_CALLBACK_STATUS pre_cb(PVOID context, POB_PRE_OPERATION_INFORMATION info)
{
    struct seen_pre *s = &cb.pre[cb.pres < MAX_SEEN ? cb.pres++ : MAX_SEEN - 1];
    s->context = context;
    s->operation = info->Operation;
    s->kernel_handle = info->KernelHandle;
    s->object = info->Object;
    s->type = info->ObjectType;
    s->call_context = info->CallContext;
    ACCESS_MASK *desired;
    if (info->Operation == OB_OPERATION_HANDLE_DUPLICATE) {
        OB_PRE_DUPLICATE_HANDLE_INFORMATION *d = &info->Parameters->DuplicateHandleInformation;
        desired = &d->DesiredAccess;
        s->original = d->OriginalDesiredAccess;
        s->source = d->SourceProcess;
        s->target = d->TargetProcess;
    } else {
        desired = &info->Parameters->CreateHandleInformation.DesiredAccess;
        s->original = info->Parameters->CreateHandleInformation.OriginalDesiredAccess;
    }
    s->desired = *desired;
    s->irql = KeGetCurrentIrql();
    s->apcs_disabled = KeAreApcsDisabled();
    s->thread = KeGetCurrentThread();
    *desired &= ~cb.strip;
    *desired |= cb.add;
    info->CallContext = context; /* handed to this registration's post */
    if (cb.wait_in_pre) {
        LARGE_INTEGER delay = {.QuadPart = -10000}; /* 1 ms */
        KeDelayExecutionThread(KernelMode, FALSE, &delay);
    }
    return (OB_PREOP_CALLBACK_STATUS)cb.pre_return;
}

static VOID post_cb(PVOID context, POB_POST_OPERATION_INFORMATION info)
{
    struct seen_post *s = &cb.post[cb.posts < MAX_SEEN ? cb.posts++ : MAX_SEEN - 1];
    s->context = context;
    s->operation = info->Operation;
    s->call_context = info->CallContext;
    s->status = info->ReturnStatus;
    s->granted = info->Operation == OB_OPERATION_HANDLE_DUPLICATE
                     ? info->Parameters->DuplicateHandleInformation.GrantedAccess
                     : info->Parameters->CreateHandleInformation.GrantedAccess;
    s->irql = KeGetCurrentIrql();
    if (cb.raise_in_post) {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
    }
}

/* What the next DriverEntry registers, and what it got. */
static struct {
    OB_CALLBACK_REGISTRATION reg;
    OB_OPERATION_REGISTRATION ops[2];
    bool unregister_in_unload;
    NTSTATUS status;
    PVOID handle;
} plan;

static PFLT_FILTER entry_filter;

static NTSTATUS unload_cb(FLT_FILTER_UNLOAD_FLAGS flags)
{
    (void)flags;
    if (plan.unregister_in_unload && plan.handle != NULL)
        ObUnRegisterCallbacks(plan.handle);
    FltUnregisterFilter(entry_filter);
    return STATUS_SUCCESS;
}

static const FLT_OPERATION_REGISTRATION no_ops[] = {{IRP_MJ_OPERATION_END}};
static const FLT_REGISTRATION filter_reg = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = no_ops,
    .FilterUnloadCallback = unload_cb,
};

static NTSTATUS entry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
    (void)registry_path;
    NTSTATUS status = FltRegisterFilter(driver, &filter_reg, &entry_filter);
    if (!NT_SUCCESS(status))
        return status;
    plan.status = ObRegisterCallbacks(&plan.reg, &plan.handle);
    return STATUS_SUCCESS;
}

/* A plan for one process entry at altitude with pre and post. */
static void plan_reset(PCWSTR altitude, PVOID context)
{
    memset(&plan, 0, sizeof(plan));
    plan.ops[0] = (OB_OPERATION_REGISTRATION){
        PsProcessType, OB_OPERATION_HANDLE_CREATE | OB_OPERATION_HANDLE_DUPLICATE, pre_cb, post_cb};
    plan.reg.Version = OB_FLT_REGISTRATION_VERSION;
    plan.reg.OperationRegistrationCount = 1;
    RtlInitUnicodeString(&plan.reg.Altitude, altitude);
    plan.reg.RegistrationContext = context;
    plan.reg.OperationRegistration = plan.ops;
    plan.unregister_in_unload = true;
}

static fltsim_driver *load(fltsim_system *sys, PCWSTR name, ULONG flags)
{
    static const struct fltsim_instance_def instance = {L"Instance", L"300000", 0};
    struct fltsim_filter_def def = {name, L"Instance", &instance, 1};
    fltsim_driver *drv = NULL;
    assert_status(fltsim_driver_load_ex(sys, &def, entry, flags, &drv), STATUS_SUCCESS);
    return drv;
}

/* Unloads drv; its unload callback unregisters plan.handle (when the plan
 * says so) and drv's filter. */
static void unload(fltsim_driver *drv)
{
    entry_filter = fltsim_driver_filter(drv);
    assert_status(fltsim_driver_unload(drv, 0), STATUS_SUCCESS);
}

static struct fltsim_ob_handle_op process_open(ACCESS_MASK desired, bool kernel)
{
    struct fltsim_ob_handle_op op;
    memset(&op, 0, sizeof(op));
    op.operation = OB_OPERATION_HANDLE_CREATE;
    op.object = fltsim__process_object(1234);
    op.type = *PsProcessType;
    op.kernel_handle = kernel;
    op.desired = desired;
    return op;
}

static void open_process(fltsim_system *sys, struct fltsim_ob_handle_op *op, NTSTATUS status)
{
    memset(cb.pre, 0, sizeof(cb.pre));
    memset(cb.post, 0, sizeof(cb.post));
    cb.pres = cb.posts = 0;
    fltsim__ob_pre(sys, op);
    fltsim__ob_post(sys, op, status);
}

static void cb_reset(void)
{
    memset(&cb, 0, sizeof(cb));
}

/* ---- registration ---- */

static NTSTATUS try_register(fltsim_system *sys)
{
    fltsim_driver *drv = load(sys, L"Ob", 0);
    NTSTATUS status = plan.status;
    unload(drv);
    return status;
}

static void registration_rules(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    assert_int_equal(ObGetFilterVersion(), OB_FLT_REGISTRATION_VERSION);

    plan_reset(L"1000", NULL);
    plan.reg.Version = 0x0200;
    assert_status(try_register(w.sys), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "Version"));
    plan_reset(L"1000", NULL);
    plan.reg.OperationRegistrationCount = 0;
    assert_status(try_register(w.sys), STATUS_INVALID_PARAMETER);
    plan_reset(L"1000", NULL);
    plan.reg.OperationRegistration = NULL;
    assert_status(try_register(w.sys), STATUS_INVALID_PARAMETER);
    plan_reset(L"1000", NULL);
    plan.ops[0].ObjectType = NULL;
    assert_status(try_register(w.sys), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "ObjectType"));
    plan_reset(L"1000", NULL);
    plan.ops[0].ObjectType = IoFileObjectType; /* no callback support */
    assert_status(try_register(w.sys), STATUS_INVALID_PARAMETER);
    plan_reset(L"1000", NULL);
    plan.ops[0].Operations = 0;
    assert_status(try_register(w.sys), STATUS_INVALID_PARAMETER);
    plan_reset(L"1000", NULL);
    plan.ops[0].PreOperation = NULL;
    plan.ops[0].PostOperation = NULL;
    assert_status(try_register(w.sys), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "neither"));
    plan_reset(L"1000", NULL);
    plan.reg.OperationRegistrationCount = 2; /* the second entry has no type */
    assert_status(try_register(w.sys), STATUS_INVALID_PARAMETER);
    plan_reset(L"not an altitude", NULL);
    assert_status(try_register(w.sys), STATUS_INVALID_PARAMETER);

    /* Each accepted type, a post-only and a pre-only entry. */
    plan_reset(L"1000", NULL);
    plan.reg.OperationRegistrationCount = 2;
    plan.ops[0].ObjectType = ExDesktopObjectType;
    plan.ops[0].PreOperation = NULL;
    plan.ops[1] =
        (OB_OPERATION_REGISTRATION){PsThreadType, OB_OPERATION_HANDLE_CREATE, pre_cb, NULL};
    assert_status(try_register(w.sys), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

static void altitude_collision(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    plan_reset(L"1000", NULL);
    fltsim_driver *a = load(w.sys, L"ObA", 0);
    assert_status(plan.status, STATUS_SUCCESS);
    PVOID a_handle = plan.handle;
    plan_reset(L"1000.0", NULL); /* the same altitude (SPEC 12.9) */
    fltsim_driver *b = load(w.sys, L"ObB", 0);
    assert_status(plan.status, STATUS_FLT_INSTANCE_ALTITUDE_COLLISION);
    assert_null(plan.handle);
    assert_non_null(strstr(fltsim_last_error(), "ObA"));
    unload(b);
    plan_reset(L"1001", NULL);
    b = load(w.sys, L"ObB", 0);
    assert_status(plan.status, STATUS_SUCCESS);
    unload(b);
    plan.handle = a_handle;
    unload(a);
    /* Free again once A is gone. */
    plan_reset(L"1000", NULL);
    assert_status(try_register(w.sys), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

static void integrity_check_flag(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    plan_reset(L"1000", NULL);
    fltsim_driver *drv = load(w.sys, L"Unsigned", FLTSIM_LOAD_NO_INTEGRITY_CHECK);
    assert_status(plan.status, STATUS_ACCESS_DENIED);
    assert_non_null(strstr(fltsim_last_error(), "INTEGRITYCHECK"));
    unload(drv);
    static const struct fltsim_filter_def def = {L"Bad", NULL, NULL, 0};
    drv = NULL;
    assert_status(fltsim_driver_load_ex(w.sys, &def, entry, 0x80, &drv), STATUS_INVALID_PARAMETER);
    assert_null(drv);
    plan_reset(L"1000", NULL);
    assert_status(try_register(w.sys), STATUS_SUCCESS); /* on by default */
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

static void register_at_dispatch(void *ctx)
{
    (void)ctx;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    PVOID handle = NULL;
    plan_reset(L"2000", NULL);
    plan.status = ObRegisterCallbacks(&plan.reg, &handle);
    KeLowerIrql(old);
    ObUnRegisterCallbacks(handle);
}

static void registration_irql(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    plan_reset(L"1000", NULL);
    fltsim_driver *drv = load(w.sys, L"Ob", 0);
    PVOID handle = plan.handle;
    assert_status(fltsim_driver_call(drv, register_at_dispatch, NULL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 1);
    plan.handle = handle;
    unload(drv);
    world_destroy(&w);
}

/* ---- calling the callbacks ---- */

static void pre_strips_and_post_sees_it(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    int ctx_a;
    plan_reset(L"1000", &ctx_a);
    fltsim_driver *drv = load(w.sys, L"Ob", 0);
    assert_status(plan.status, STATUS_SUCCESS);

    cb_reset();
    cb.strip = PROCESS_TERMINATE | PROCESS_VM_WRITE;
    struct fltsim_ob_handle_op op = process_open(PROCESS_ALL_ACCESS, false);
    open_process(w.sys, &op, STATUS_SUCCESS);
    assert_int_equal(cb.pres, 1);
    assert_int_equal(cb.posts, 1);
    assert_int_equal(op.desired, PROCESS_ALL_ACCESS & ~(PROCESS_TERMINATE | PROCESS_VM_WRITE));
    struct seen_pre *p = &cb.pre[0];
    assert_ptr_equal(p->context, &ctx_a);
    assert_int_equal(p->operation, OB_OPERATION_HANDLE_CREATE);
    assert_int_equal(p->kernel_handle, 0);
    assert_ptr_equal(p->object, fltsim__process_object(1234));
    assert_ptr_equal(p->type, *PsProcessType);
    assert_null(p->call_context);
    assert_int_equal(p->desired, PROCESS_ALL_ACCESS);
    assert_int_equal(p->original, PROCESS_ALL_ACCESS);
    assert_int_equal(p->irql, PASSIVE_LEVEL);
    assert_true(p->apcs_disabled);
    assert_ptr_equal(p->thread, KeGetCurrentThread()); /* the opening thread */
    assert_false(KeAreApcsDisabled());                 /* and enabled again after */
    struct seen_post *q = &cb.post[0];
    assert_ptr_equal(q->context, &ctx_a);
    assert_ptr_equal(q->call_context, &ctx_a); /* what the pre stored */
    assert_status(q->status, STATUS_SUCCESS);
    assert_int_equal(q->granted, op.desired);
    assert_int_equal(q->irql, PASSIVE_LEVEL);

    /* A kernel handle: the flag is set (the driver decides what to do). */
    struct fltsim_ob_handle_op kop = process_open(PROCESS_TERMINATE, true);
    open_process(w.sys, &kop, STATUS_SUCCESS);
    assert_int_equal(cb.pre[0].kernel_handle, 1);

    /* A failed open: the post sees the status and no access. */
    struct fltsim_ob_handle_op fop = process_open(PROCESS_QUERY_INFORMATION, false);
    open_process(w.sys, &fop, STATUS_ACCESS_DENIED);
    assert_int_equal(cb.posts, 1);
    assert_status(cb.post[0].status, STATUS_ACCESS_DENIED);
    assert_int_equal(cb.post[0].granted, 0);

    /* Threads are another type: nobody registered for them. */
    struct fltsim_ob_handle_op top = process_open(THREAD_TERMINATE, false);
    top.type = *PsThreadType;
    open_process(w.sys, &top, STATUS_SUCCESS);
    assert_int_equal(cb.pres, 0);
    assert_int_equal(top.desired, THREAD_TERMINATE);
    assert_null(top.state);
    unload(drv);

    /* Unregistered: nothing runs. */
    struct fltsim_ob_handle_op after = process_open(PROCESS_TERMINATE, false);
    open_process(w.sys, &after, STATUS_SUCCESS);
    assert_int_equal(cb.pres + cb.posts, 0);
    assert_int_equal(after.desired, PROCESS_TERMINATE);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

static void duplicate_parameters(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    plan_reset(L"1000", NULL);
    fltsim_driver *drv = load(w.sys, L"Ob", 0);
    cb_reset();
    cb.strip = PROCESS_VM_OPERATION;
    struct fltsim_ob_handle_op op = process_open(PROCESS_VM_OPERATION | PROCESS_VM_READ, false);
    op.operation = OB_OPERATION_HANDLE_DUPLICATE;
    op.source_process = fltsim__process_object(100);
    op.target_process = fltsim__process_object(200);
    open_process(w.sys, &op, STATUS_SUCCESS);
    assert_int_equal(cb.pres, 1);
    assert_int_equal(cb.pre[0].operation, OB_OPERATION_HANDLE_DUPLICATE);
    assert_ptr_equal(cb.pre[0].source, fltsim__process_object(100));
    assert_ptr_equal(cb.pre[0].target, fltsim__process_object(200));
    assert_int_equal(cb.pre[0].original, PROCESS_VM_OPERATION | PROCESS_VM_READ);
    assert_int_equal(op.desired, PROCESS_VM_READ);
    assert_int_equal(cb.post[0].operation, OB_OPERATION_HANDLE_DUPLICATE);
    assert_int_equal(cb.post[0].granted, PROCESS_VM_READ);
    unload(drv);

    /* Registered for creation only: a duplicate passes it by. */
    plan_reset(L"1000", NULL);
    plan.ops[0].Operations = OB_OPERATION_HANDLE_CREATE;
    drv = load(w.sys, L"Ob", 0);
    struct fltsim_ob_handle_op dup = process_open(PROCESS_VM_OPERATION, false);
    dup.operation = OB_OPERATION_HANDLE_DUPLICATE;
    open_process(w.sys, &dup, STATUS_SUCCESS);
    assert_int_equal(cb.pres + cb.posts, 0);
    assert_int_equal(dup.desired, PROCESS_VM_OPERATION);
    unload(drv);
    world_destroy(&w);
}

/* ---- order ---- */

struct order_drivers {
    fltsim_driver *drv[3];
    PVOID handle[3];
};

static int ctx_low, ctx_mid, ctx_high;

static void load_three(fltsim_system *sys, struct order_drivers *d)
{
    static const PCWSTR alts[3] = {L"1000", L"3000", L"2000"};
    static const PCWSTR names[3] = {L"Low", L"High", L"Mid"};
    PVOID ctxs[3] = {&ctx_low, &ctx_high, &ctx_mid};
    for (int i = 0; i < 3; i++) {
        plan_reset(alts[i], ctxs[i]);
        d->drv[i] = load(sys, names[i], 0);
        assert_status(plan.status, STATUS_SUCCESS);
        d->handle[i] = plan.handle;
    }
}

static void unload_three(struct order_drivers *d)
{
    for (int i = 0; i < 3; i++) {
        plan.handle = d->handle[i];
        unload(d->drv[i]);
    }
}

/* The pre order of one open, as "HML" letters; posts checked reverse. */
static void one_order(fltsim_system *sys, char out[4])
{
    cb_reset();
    struct fltsim_ob_handle_op op = process_open(PROCESS_TERMINATE, false);
    open_process(sys, &op, STATUS_SUCCESS);
    assert_int_equal(cb.pres, 3);
    assert_int_equal(cb.posts, 3);
    for (int i = 0; i < 3; i++) {
        PVOID c = cb.pre[i].context;
        out[i] = c == &ctx_high ? 'H' : c == &ctx_mid ? 'M' : 'L';
        assert_ptr_equal(cb.post[2 - i].context, c);
    }
    out[3] = '\0';
}

static void order_among_registrations(void **state)
{
    (void)state;
    if (test_executor == FLTSIM_EXECUTOR_CONCURRENT) {
        struct test_world w;
        world_create(&w, 0);
        struct order_drivers d;
        load_three(w.sys, &d);
        char order[4];
        one_order(w.sys, order);
        assert_string_equal(order, "HML"); /* decreasing altitude, posts increasing */
        unload_three(&d);
        world_destroy(&w);
        return;
    }
    /* Deterministic: the seed varies the order; the same seed repeats it. */
    ULONG64 saved = test_seed;
    bool seen_other = false, seen_altitude = false;
    for (ULONG64 seed = 1; seed <= 30; seed++) {
        char first[4], again[4];
        for (int round = 0; round < 2; round++) {
            test_seed = seed;
            struct test_world w;
            world_create(&w, 0);
            struct order_drivers d;
            load_three(w.sys, &d);
            one_order(w.sys, round == 0 ? first : again);
            unload_three(&d);
            world_destroy(&w);
        }
        assert_string_equal(first, again);
        if (strcmp(first, "HML") == 0)
            seen_altitude = true;
        else
            seen_other = true;
    }
    test_seed = saved;
    assert_true(seen_other);    /* some seed changes the order */
    assert_true(seen_altitude); /* and some keeps it */
}

/* ---- the verifier ---- */

static void pre_adding_access_is_v32(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    plan_reset(L"1000", NULL);
    fltsim_driver *drv = load(w.sys, L"Ob", 0);
    cb_reset();
    cb.add = PROCESS_TERMINATE;
    struct fltsim_ob_handle_op op = process_open(PROCESS_QUERY_INFORMATION, false);
    open_process(w.sys, &op, STATUS_SUCCESS);
    assert_int_equal(op.desired, PROCESS_QUERY_INFORMATION); /* not granted */
    assert_int_equal(cb.post[0].granted, PROCESS_QUERY_INFORMATION);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V32"), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "Ob at altitude 1000"));
    unload(drv);
    world_destroy(&w);
}

static void pre_returning_other_than_success_is_v33(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    plan_reset(L"1000", NULL);
    fltsim_driver *drv = load(w.sys, L"Ob", 0);
    cb_reset();
    cb.pre_return = 1;
    struct fltsim_ob_handle_op op = process_open(PROCESS_TERMINATE, false);
    open_process(w.sys, &op, STATUS_SUCCESS);
    assert_int_equal(op.desired, PROCESS_TERMINATE);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V33"), 1);
    cb.pre_return = 0;
    unload(drv);
    assert_int_equal(fltsim_system_report_count(w.sys), 1);
    world_destroy(&w);
}

static PVOID unregister_handle;

static void unregister_it(void *ctx)
{
    (void)ctx;
    ObUnRegisterCallbacks(unregister_handle);
}

static void unregister_twice_or_bogus_is_v34(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    plan_reset(L"1000", NULL);
    plan.unregister_in_unload = false;
    fltsim_driver *drv = load(w.sys, L"Ob", 0);
    unregister_handle = plan.handle;
    assert_status(fltsim_driver_call(drv, unregister_it, NULL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    assert_status(fltsim_driver_call(drv, unregister_it, NULL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V34"), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "twice"));
    assert_non_null(strstr(r.message, "Ob"));
    static int not_a_handle;
    unregister_handle = &not_a_handle;
    assert_status(fltsim_driver_call(drv, unregister_it, NULL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V34"), 2);
    assert_status(fltsim_system_report_get(w.sys, 1, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "not a handle"));
    unload(drv);
    assert_int_equal(fltsim_system_report_count(w.sys), 2); /* nothing left at unload */
    world_destroy(&w);
}

static void unload_with_callbacks_registered_is_v35(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    plan_reset(L"1000", NULL);
    plan.unregister_in_unload = false;
    fltsim_driver *drv = load(w.sys, L"Leaky", 0);
    unload(drv);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V35"), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "Leaky"));
    /* Unregistered by fltsim: no callback runs, the altitude is free. */
    cb_reset();
    struct fltsim_ob_handle_op op = process_open(PROCESS_TERMINATE, false);
    open_process(w.sys, &op, STATUS_SUCCESS);
    assert_int_equal(cb.pres + cb.posts, 0);
    plan_reset(L"1000", NULL);
    assert_status(try_register(w.sys), STATUS_SUCCESS);
    world_destroy(&w);
}

static void blocking_or_raising_callback_is_v36(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    plan_reset(L"1000", NULL);
    fltsim_driver *drv = load(w.sys, L"Ob", 0);
    cb_reset();
    cb.wait_in_pre = true;
    struct fltsim_ob_handle_op op = process_open(PROCESS_TERMINATE, false);
    open_process(w.sys, &op, STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V36"), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "KeDelayExecutionThread"));
    assert_non_null(strstr(r.message, "(pre) of Ob"));
    cb_reset();
    cb.raise_in_post = true;
    open_process(w.sys, &op, STATUS_SUCCESS);
    cb.raise_in_post = false;
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V36"), 2);
    assert_status(fltsim_system_report_get(w.sys, 1, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "IRQL 2"));
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL); /* put back */
    unload(drv);
    world_destroy(&w);
}

/* ---- concurrency ---- */

struct opener {
    fltsim_system *sys;
    LONG wrong; /* opens where the strip of the stable registration was missing */
};

static OB_PREOP_CALLBACK_STATUS strip_terminate(PVOID context, POB_PRE_OPERATION_INFORMATION info)
{
    (void)context;
    info->Parameters->CreateHandleInformation.DesiredAccess &= ~(ACCESS_MASK)PROCESS_TERMINATE;
    return OB_PREOP_SUCCESS;
}

static OB_PREOP_CALLBACK_STATUS strip_nothing(PVOID context, POB_PRE_OPERATION_INFORMATION info)
{
    (void)context, (void)info;
    return OB_PREOP_SUCCESS;
}

static void opener_work(void *ctx)
{
    struct opener *o = ctx;
    for (int i = 0; i < 200; i++) {
        struct fltsim_ob_handle_op op = process_open(PROCESS_TERMINATE | SYNCHRONIZE, false);
        fltsim__ob_pre(o->sys, &op);
        fltsim__ob_post(o->sys, &op, STATUS_SUCCESS);
        if (op.desired != SYNCHRONIZE)
            __atomic_add_fetch(&o->wrong, 1, __ATOMIC_SEQ_CST);
    }
}

/* Handle operations on worker threads while another registration comes
 * and goes: each sees the stable one, none crashes or races. */
static void opens_race_registrations(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    plan_reset(L"1000", NULL);
    plan.ops[0].PreOperation = strip_terminate;
    plan.ops[0].PostOperation = NULL;
    fltsim_driver *stable = load(w.sys, L"Stable", 0);
    assert_status(plan.status, STATUS_SUCCESS);
    PVOID stable_handle = plan.handle;
    struct opener o = {w.sys, 0};
    for (int i = 0; i < 4; i++)
        assert_status(fltsim_system_post_work(w.sys, opener_work, &o), STATUS_SUCCESS);
    for (int i = 0; i < 20; i++) {
        plan_reset(L"2000", NULL);
        plan.ops[0].PreOperation = strip_nothing;
        plan.ops[0].PostOperation = NULL;
        fltsim_driver *d = load(w.sys, L"Churn", 0);
        assert_status(plan.status, STATUS_SUCCESS);
        unload(d);
    }
    assert_status(fltsim_system_wait_idle(w.sys, 30000), STATUS_SUCCESS);
    assert_int_equal(o.wrong, 0);
    plan.handle = stable_handle;
    unload(stable);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

struct in_flight {
    fltsim_system *sys;
    KEVENT pre_done;
    LONG post_done;
};

/* A handle operation whose pre has run and whose post comes 50 ms later. */
static void slow_open(void *ctx)
{
    struct in_flight *f = ctx;
    struct fltsim_ob_handle_op op = process_open(PROCESS_TERMINATE, false);
    fltsim__ob_pre(f->sys, &op);
    KeSetEvent(&f->pre_done, 0, FALSE);
    LARGE_INTEGER delay = {.QuadPart = -500000}; /* 50 ms, outside any callback */
    KeDelayExecutionThread(KernelMode, FALSE, &delay);
    __atomic_store_n(&f->post_done, 1, __ATOMIC_SEQ_CST);
    fltsim__ob_post(f->sys, &op, STATUS_SUCCESS);
}

/* ObUnRegisterCallbacks (here in the unload) returns only once the handle
 * operations calling the registration are done with it. */
static void unregister_waits_for_callbacks_in_flight(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    plan_reset(L"1000", NULL);
    fltsim_driver *drv = load(w.sys, L"Ob", 0);
    cb_reset();
    struct in_flight f = {.sys = w.sys};
    KeInitializeEvent(&f.pre_done, NotificationEvent, FALSE);
    assert_status(fltsim_system_post_work(w.sys, slow_open, &f), STATUS_SUCCESS);
    assert_status(KeWaitForSingleObject(&f.pre_done, Executive, KernelMode, FALSE, NULL),
                  STATUS_SUCCESS);
    unload(drv);
    assert_int_equal(__atomic_load_n(&f.post_done, __ATOMIC_SEQ_CST), 1);
    assert_status(fltsim_system_wait_idle(w.sys, 30000), STATUS_SUCCESS);
    assert_int_equal(cb.posts, 1);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

static PVOID self_handle;

static OB_PREOP_CALLBACK_STATUS unregister_self(PVOID context, POB_PRE_OPERATION_INFORMATION info)
{
    (void)context, (void)info;
    ObUnRegisterCallbacks(self_handle);
    return OB_PREOP_SUCCESS;
}

/* A callback unregistering its own registration would wait for itself. */
static void unregister_from_own_callback_is_v34(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    plan_reset(L"1000", NULL);
    plan.ops[0].PreOperation = unregister_self;
    plan.unregister_in_unload = false;
    fltsim_driver *drv = load(w.sys, L"Ob", 0);
    self_handle = plan.handle;
    cb_reset();
    struct fltsim_ob_handle_op op = process_open(PROCESS_TERMINATE, false);
    open_process(w.sys, &op, STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V34"), 1);
    assert_int_equal(cb.posts, 1); /* its post still runs for this operation */
    unload(drv);
    assert_int_equal(fltsim_system_report_count(w.sys), 1); /* no V35: it is gone */
    world_destroy(&w);
}

/* ---- traces ---- */

/* One open stripped by Ob at 1000 and one kernel duplicate left alone,
 * traced in format; what the sink wrote. */
static const char *traced(struct capture *c, enum fltsim_trace_format format)
{
    struct test_world w;
    world_create(&w, 0);
    capture_open(c, format, 0);
    fltsim_system_set_trace(w.sys, fltsim_trace_sink_event, c->sink);
    plan_reset(L"1000", NULL);
    fltsim_driver *drv = load(w.sys, L"Ob", 0);
    cb_reset();
    cb.strip = PROCESS_TERMINATE | PROCESS_VM_WRITE;
    struct fltsim_ob_handle_op op = process_open(PROCESS_ALL_ACCESS, false);
    open_process(w.sys, &op, STATUS_SUCCESS);
    cb.strip = 0;
    struct fltsim_ob_handle_op dup = process_open(PROCESS_TERMINATE, true);
    dup.operation = OB_OPERATION_HANDLE_DUPLICATE;
    open_process(w.sys, &dup, STATUS_ACCESS_DENIED);
    unload(drv);
    fltsim_system_set_trace(w.sys, NULL, NULL);
    world_destroy(&w);
    return capture_text(c);
}

static void expect_in(const char *text, const char *what)
{
    if (strstr(text, what) == NULL)
        fail_msg("expected \"%s\" in:\n%s", what, text);
}

static void events_in_every_trace_format(void **state)
{
    (void)state;
    struct capture c;
    const char *text = traced(&c, FLTSIM_TRACE_TEXT);
    expect_in(text, "[ob] Ob (1000) pre: process ");
    expect_in(text, " opens a handle to Process 1234, desired 0x1FFFFF -> 0x1FFFDE");
    expect_in(text, "[ob] Ob (1000) post: process ");
    expect_in(text, " opens a handle to Process 1234: STATUS_SUCCESS, granted 0x1FFFDE of "
                    "0x1FFFFF");
    expect_in(text, " duplicates a kernel handle to Process 1234, desired 0x1 -> 0x1");
    expect_in(text, "STATUS_ACCESS_DENIED, granted 0x0 of 0x1");
    capture_close(&c);

    text = traced(&c, FLTSIM_TRACE_JSONL);
    expect_in(text, "\"type\":\"ob_pre\"");
    expect_in(text, "\"type\":\"ob_post\"");
    expect_in(text, "\"altitude\":\"1000\"");
    expect_in(text, "\"ob_operation\":1,\"ob_operation_name\":\"create\",\"object_type\":"
                    "\"Process\",\"object_process_id\":1234,\"desired_access\":2097151,\"granted_"
                    "access\":2097118");
    expect_in(text, "\"ob_operation\":2,\"ob_operation_name\":\"duplicate\"");
    capture_close(&c);

    text = traced(&c, FLTSIM_TRACE_NORMALIZED);
    expect_in(text, "ob_pre");
    expect_in(text, "operation=create object=\"Process\" object_pid=1234 desired=0x1FFFFF "
                    "granted=0x1FFFDE");
    expect_in(text, "status=STATUS_ACCESS_DENIED");
    expect_in(text, "flags=0x1");
    capture_close(&c);

    text = traced(&c, FLTSIM_TRACE_MERMAID);
    expect_in(text, "object pre");
    expect_in(text, "create handle to Process 1234, desired 0x1FFFFF → 0x1FFFDE");
    expect_in(text, "duplicate kernel handle to Process 1234");
    expect_in(text, "object post");
    capture_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registration_rules),
        cmocka_unit_test(altitude_collision),
        cmocka_unit_test(integrity_check_flag),
        cmocka_unit_test(registration_irql),
        cmocka_unit_test(pre_strips_and_post_sees_it),
        cmocka_unit_test(duplicate_parameters),
        cmocka_unit_test(order_among_registrations),
        cmocka_unit_test(pre_adding_access_is_v32),
        cmocka_unit_test(pre_returning_other_than_success_is_v33),
        cmocka_unit_test(unregister_twice_or_bogus_is_v34),
        cmocka_unit_test(unload_with_callbacks_registered_is_v35),
        cmocka_unit_test(blocking_or_raising_callback_is_v36),
        cmocka_unit_test(opens_race_registrations),
        cmocka_unit_test(unregister_waits_for_callbacks_in_flight),
        cmocka_unit_test(unregister_from_own_callback_is_v34),
        cmocka_unit_test(events_in_every_trace_format),
    };
    return FLTSIM_RUN_SUITE("ob_callbacks", tests);
}
