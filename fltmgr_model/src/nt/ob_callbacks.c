/*
 * Object callbacks (SPEC 9): ObRegisterCallbacks, ObUnRegisterCallbacks and
 * ObGetFilterVersion, the object types they accept (PsProcessType,
 * PsThreadType, ExDesktopObjectType), and the calls into the registered pre
 * and post callbacks the handle code makes through ob_internal.h. The
 * verifier rules V32-V36 (README's table) are checked here. Order among
 * registrations ([SIM], SPEC 12.15): pre callbacks by decreasing altitude and
 * posts in the reverse order under the concurrent executor; under the
 * deterministic executor each handle operation draws the order from the
 * seeded PRNG, so a test that depends on it fails for some seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/executor.h"
#include "model_internal.h"
#include "nt_internal.h"
#include "ob_internal.h"

struct _OBJECT_TYPE {
    const char *name;
};

/* PsProcessType and PsThreadType are nt/ps_handles.c's. */
static struct _OBJECT_TYPE desktop_type = {"Desktop"};
static POBJECT_TYPE desktop_type_pointer = &desktop_type;
POBJECT_TYPE *ExDesktopObjectType = &desktop_type_pointer;

/* Handles are not pointers: a tag and a serial never reused, so a second
 * ObUnRegisterCallbacks (or a made-up handle) is told apart safely. */
#define HANDLE_TAG ((ULONG_PTR)0x0B0C << 32)
#define HANDLE_TAG_MASK ((ULONG_PTR)0xFFFF << 32)

/* What a running callback's thread says it runs (tls->callout_what); the
 * prefix is how fltsim__ob_check_blocking knows one runs. */
#define WHAT_PREFIX "the object callback "

struct ob_entry {
    POBJECT_TYPE type;
    OB_OPERATION operations;
    POB_PRE_OPERATION_CALLBACK pre;
    POB_POST_OPERATION_CALLBACK post;
};

struct ob_reg {
    LIST_ENTRY link; /* registrations; table lock */
    fltsim_system *sys;
    struct fltsim_driver *driver; /* NULL: of no driver, or unloaded; table lock */
    ULONG64 serial;
    LONG refs; /* the list's, and each handle operation's calling it; atomic */
    struct fltsim_altitude altitude;
    PVOID context;
    char pre_what[FLTSIM_NAME8_MAX + FLTSIM_ALTITUDE_MAX + 64];
    char post_what[FLTSIM_NAME8_MAX + FLTSIM_ALTITUDE_MAX + 64];
    char driver8[FLTSIM_NAME8_MAX];
    ULONG count;
    struct ob_entry entries[];
};

/* All systems' registrations (each names its system). */
static struct {
    uv_once_t once;
    uv_mutex_t lock;
    LIST_ENTRY regs;
    ULONG64 next_serial;
} table = {.once = UV_ONCE_INIT};

static void table_init(void)
{
    if (uv_mutex_init(&table.lock) != 0)
        fltsim__ke_fatal("object callbacks: cannot create a mutex");
    InitializeListHead(&table.regs);
    table.next_serial = 1;
}

static void table_lock(void)
{
    uv_once(&table.once, table_init);
    uv_mutex_lock(&table.lock);
}

/* A handle operation's reference dropped: the last frees; the one before
 * the last wakes an ObUnRegisterCallbacks waiting for callbacks in flight. */
static void reg_unref(struct ob_reg *reg)
{
    fltsim_system *sys = reg->sys;
    LONG left = __atomic_sub_fetch(&reg->refs, 1, __ATOMIC_SEQ_CST);
    if (left == 0)
        free(reg);
    else if (left == 1)
        fltsim__broadcast(sys);
}

/* Unlisted reg: waits until no handle operation is calling it (Windows'
 * ObUnRegisterCallbacks returns once callbacks in progress have), then drops
 * the list's reference. A callback of reg unregistering it would wait for
 * itself: reported (V34) instead, and the registration freed later. */
static void reg_retire(struct ob_reg *reg)
{
    fltsim_system *sys = reg->sys;
    const char *running = fltsim__tls()->callout_what;
    if (running == reg->pre_what || running == reg->post_what) {
        fltsim__report(sys, fltsim__tls()->filter, NULL, NULL, "V34", "9",
                       "ObUnRegisterCallbacks from %s itself: it waits for that callback to "
                       "return, which never happens (a hang on Windows)",
                       running);
    } else {
        uv_mutex_lock(&sys->lock);
        while (__atomic_load_n(&reg->refs, __ATOMIC_SEQ_CST) > 1)
            fltsim__sys_wait_locked(sys, 0);
        uv_mutex_unlock(&sys->lock);
    }
    reg_unref(reg);
}

/* The driver whose code runs on this thread: its DriverEntry, or its filter's
 * callbacks and routines. NULL for code of no driver (a test). */
static struct fltsim_driver *current_driver(void)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->loading != NULL)
        return t->loading;
    if (t->filter != NULL)
        return t->filter->driver;
    return NULL;
}

static struct _FLT_FILTER *driver_filter(struct fltsim_driver *drv)
{
    return drv != NULL ? drv->filter_keep : NULL;
}

USHORT ObGetFilterVersion(VOID)
{
    return OB_FLT_REGISTRATION_VERSION;
}

static bool known_type(POBJECT_TYPE type)
{
    return type == *PsProcessType || type == *PsThreadType || type == *ExDesktopObjectType;
}

/* STATUS_SUCCESS, or STATUS_INVALID_PARAMETER with the problem in
 * fltsim_last_error. */
static NTSTATUS check_registration(const OB_CALLBACK_REGISTRATION *r, struct fltsim_altitude *alt)
{
    if (r->Version != OB_FLT_REGISTRATION_VERSION)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "ObRegisterCallbacks: Version is 0x%04x; it must be "
                            "OB_FLT_REGISTRATION_VERSION (0x%04x)",
                            (unsigned)r->Version, (unsigned)OB_FLT_REGISTRATION_VERSION);
    if (r->OperationRegistrationCount == 0 || r->OperationRegistration == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "ObRegisterCallbacks: OperationRegistrationCount must be at least 1 "
                            "and OperationRegistration must point at that many entries");
    for (ULONG i = 0; i < r->OperationRegistrationCount; i++) {
        const OB_OPERATION_REGISTRATION *e = &r->OperationRegistration[i];
        if (e->ObjectType == NULL || !known_type(*e->ObjectType))
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "ObRegisterCallbacks: OperationRegistration[%u].ObjectType must be "
                                "PsProcessType, PsThreadType or ExDesktopObjectType",
                                (unsigned)i);
        if (e->Operations == 0 ||
            (e->Operations &
             ~(OB_OPERATION)(OB_OPERATION_HANDLE_CREATE | OB_OPERATION_HANDLE_DUPLICATE)) != 0)
            return fltsim__fail(
                STATUS_INVALID_PARAMETER,
                "ObRegisterCallbacks: OperationRegistration[%u].Operations is 0x%x; "
                "it must be OB_OPERATION_HANDLE_CREATE and/or _DUPLICATE",
                (unsigned)i, (unsigned)e->Operations);
        if (e->PreOperation == NULL && e->PostOperation == NULL)
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "ObRegisterCallbacks: OperationRegistration[%u] has neither a "
                                "PreOperation nor a PostOperation",
                                (unsigned)i);
    }
    const UNICODE_STRING *a = &r->Altitude;
    if (a->Buffer == NULL || a->Length == 0 ||
        !fltsim__altitude_parse(a->Buffer, a->Length / sizeof(WCHAR), alt))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "ObRegisterCallbacks: Altitude must be a decimal altitude string "
                            "such as \"1000\"");
    return STATUS_SUCCESS;
}

NTSTATUS ObRegisterCallbacks(POB_CALLBACK_REGISTRATION CallbackRegistration,
                             PVOID *RegistrationHandle)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim_system *sys = t->sys;
    fltsim__check_irql(sys, APC_LEVEL, "ObRegisterCallbacks");
    if (RegistrationHandle != NULL)
        *RegistrationHandle = NULL;
    if (CallbackRegistration == NULL || RegistrationHandle == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "ObRegisterCallbacks: CallbackRegistration and RegistrationHandle "
                            "are required");
    if (sys == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "ObRegisterCallbacks: called outside any system's driver code");
    struct fltsim_altitude alt;
    NTSTATUS status = check_registration(CallbackRegistration, &alt);
    if (!NT_SUCCESS(status))
        return status;
    struct fltsim_driver *drv = current_driver();
    if (drv != NULL && drv->ob_unsigned)
        return fltsim__fail(STATUS_ACCESS_DENIED,
                            "ObRegisterCallbacks: %s was loaded as linked without "
                            "/INTEGRITYCHECK; object callbacks need it",
                            drv->name8);

    ULONG count = CallbackRegistration->OperationRegistrationCount;
    struct ob_reg *reg = calloc(1, sizeof(*reg) + count * sizeof(reg->entries[0]));
    if (reg == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "ObRegisterCallbacks: out of memory");
    reg->sys = sys;
    reg->driver = drv;
    reg->refs = 1;
    reg->altitude = alt;
    reg->context = CallbackRegistration->RegistrationContext;
    reg->count = count;
    snprintf(reg->driver8, sizeof(reg->driver8), "%s", drv != NULL ? drv->name8 : "(no driver)");
    snprintf(reg->pre_what, sizeof(reg->pre_what), WHAT_PREFIX "(pre) of %s at altitude %s",
             reg->driver8, alt.text);
    snprintf(reg->post_what, sizeof(reg->post_what), WHAT_PREFIX "(post) of %s at altitude %s",
             reg->driver8, alt.text);
    for (ULONG i = 0; i < count; i++) {
        const OB_OPERATION_REGISTRATION *e = &CallbackRegistration->OperationRegistration[i];
        reg->entries[i] =
            (struct ob_entry){*e->ObjectType, e->Operations, e->PreOperation, e->PostOperation};
    }

    table_lock();
    for (PLIST_ENTRY l = table.regs.Flink; l != &table.regs; l = l->Flink) {
        struct ob_reg *other = CONTAINING_RECORD(l, struct ob_reg, link);
        if (other->sys == sys && fltsim__altitude_compare(&other->altitude, &alt) == 0) {
            uv_mutex_unlock(&table.lock);
            free(reg);
            return fltsim__fail(STATUS_FLT_INSTANCE_ALTITUDE_COLLISION,
                                "ObRegisterCallbacks: altitude %s is %s's already", alt.text,
                                other->driver8);
        }
    }
    reg->serial = table.next_serial++;
    InsertTailList(&table.regs, &reg->link);
    uv_mutex_unlock(&table.lock);
    *RegistrationHandle = (PVOID)(HANDLE_TAG | (ULONG_PTR)reg->serial);
    return STATUS_SUCCESS;
}

VOID ObUnRegisterCallbacks(PVOID RegistrationHandle)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, APC_LEVEL, "ObUnRegisterCallbacks");
    ULONG_PTR value = (ULONG_PTR)RegistrationHandle;
    struct ob_reg *found = NULL;
    table_lock();
    ULONG64 next = table.next_serial;
    for (PLIST_ENTRY l = table.regs.Flink; l != &table.regs; l = l->Flink) {
        struct ob_reg *reg = CONTAINING_RECORD(l, struct ob_reg, link);
        if ((HANDLE_TAG | (ULONG_PTR)reg->serial) == value) {
            found = reg;
            RemoveEntryList(&reg->link);
            break;
        }
    }
    uv_mutex_unlock(&table.lock);
    if (found != NULL) {
        reg_retire(found);
        return;
    }
    bool ours = (value & HANDLE_TAG_MASK) == HANDLE_TAG && (value & ~HANDLE_TAG_MASK) != 0 &&
                (value & ~HANDLE_TAG_MASK) < next;
    struct fltsim_driver *drv = current_driver();
    fltsim__ke_report("V34", "9",
                      ours ? "ObUnRegisterCallbacks(%p) by %s: the registration is gone already; "
                             "unregistering twice is a double free (bugcheck 0x7E on Windows)"
                           : "ObUnRegisterCallbacks(%p) by %s: not a handle ObRegisterCallbacks "
                             "returned",
                      RegistrationHandle, drv != NULL ? drv->name8 : "(no driver)");
}

void fltsim__ob_driver_unloaded(struct fltsim_driver *drv)
{
    for (;;) {
        struct ob_reg *found = NULL;
        table_lock();
        for (PLIST_ENTRY l = table.regs.Flink; l != &table.regs; l = l->Flink) {
            struct ob_reg *reg = CONTAINING_RECORD(l, struct ob_reg, link);
            if (reg->driver == drv) {
                found = reg;
                RemoveEntryList(&reg->link);
                reg->driver = NULL;
                break;
            }
        }
        uv_mutex_unlock(&table.lock);
        if (found == NULL)
            return;
        fltsim__report(drv->sys, driver_filter(drv), NULL, NULL, "V35", "9",
                       "%s unloads with its object callbacks at altitude %s still registered: "
                       "ObUnRegisterCallbacks must run before unload; fltsim unregisters them",
                       drv->name8, found->altitude.text);
        reg_retire(found);
    }
}

void fltsim__ob_check_blocking(const char *api, const char *what)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->sys == NULL || t->callout_what == NULL ||
        strncmp(t->callout_what, WHAT_PREFIX, sizeof(WHAT_PREFIX) - 1) != 0)
        return;
    fltsim__report(t->sys, t->filter, NULL, NULL, "V36", "9",
                   "%s %s inside %s; object callbacks run on the opening thread with normal "
                   "kernel APCs disabled and must not block",
                   api, what, t->callout_what);
}

/* ---- calling the callbacks ---- */

struct ob_call {
    struct ob_reg *reg;         /* referenced */
    struct _FLT_FILTER *filter; /* its driver's filter, referenced, or NULL */
    const struct ob_entry *entry;
    PVOID call_context;
};

struct ob_state {
    ULONG count;
    ACCESS_MASK original;
    struct ob_call calls[];
};

static int by_altitude_descending(const void *a, const void *b)
{
    const struct ob_call *x = a, *y = b;
    int c = fltsim__altitude_compare(&y->reg->altitude, &x->reg->altitude);
    if (c != 0)
        return c;
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* The registrations of sys for op, referenced, in pre order. NULL when none
 * (or out of memory, reported). */
static struct ob_state *collect(fltsim_system *sys, const struct fltsim_ob_handle_op *op)
{
    table_lock();
    ULONG n = 0;
    for (PLIST_ENTRY l = table.regs.Flink; l != &table.regs; l = l->Flink) {
        struct ob_reg *reg = CONTAINING_RECORD(l, struct ob_reg, link);
        for (ULONG i = 0; reg->sys == sys && i < reg->count; i++)
            if (reg->entries[i].type == op->type && (reg->entries[i].operations & op->operation))
                n++;
    }
    struct ob_state *st = n > 0 ? calloc(1, sizeof(*st) + n * sizeof(st->calls[0])) : NULL;
    if (st != NULL)
        for (PLIST_ENTRY l = table.regs.Flink; l != &table.regs; l = l->Flink) {
            struct ob_reg *reg = CONTAINING_RECORD(l, struct ob_reg, link);
            for (ULONG i = 0; reg->sys == sys && i < reg->count; i++) {
                const struct ob_entry *e = &reg->entries[i];
                if (e->type != op->type || !(e->operations & op->operation))
                    continue;
                /* The driver cannot go while its registration is listed
                 * (fltsim__ob_driver_unloaded takes this lock first). */
                struct _FLT_FILTER *filter = driver_filter(reg->driver);
                if (filter != NULL)
                    fltsim__filter_ref(filter);
                __atomic_add_fetch(&reg->refs, 1, __ATOMIC_SEQ_CST);
                st->calls[st->count++] = (struct ob_call){reg, filter, e, NULL};
            }
        }
    uv_mutex_unlock(&table.lock);
    if (n > 0 && st == NULL) {
        fltsim__report(sys, NULL, NULL, NULL, "SIM", "-",
                       "out of memory: the object callbacks of a handle operation are skipped");
        return NULL;
    }
    if (st == NULL)
        return NULL;
    qsort(st->calls, st->count, sizeof(st->calls[0]), by_altitude_descending);
    /* The order is undocumented: the deterministic executor shuffles it
     * (Fisher-Yates over its seeded PRNG). */
    for (ULONG i = st->count; i > 1; i--) {
        ULONG64 r = fltsim__executor_random(sys->executor);
        if (sys->executor->kind != FLTSIM_EXECUTOR_DETERMINISTIC)
            break;
        ULONG j = (ULONG)(r % i);
        struct ob_call tmp = st->calls[i - 1];
        st->calls[i - 1] = st->calls[j];
        st->calls[j] = tmp;
    }
    return st;
}

/* Runs one callback as its driver's code: PASSIVE_LEVEL, normal kernel APCs
 * disabled, what the thread runs named; a callback that returns at another
 * IRQL is reported (V36) and the IRQL put back. */
struct callout {
    struct fltsim_callout save;
    const char *what_before;
    KIRQL irql_before;
};

static void callout_enter(struct callout *c, fltsim_system *sys, const struct ob_call *call,
                          const char *what)
{
    fltsim__enter(&c->save, sys, call->filter, NULL);
    struct fltsim_tls *t = fltsim__tls();
    c->what_before = t->callout_what;
    c->irql_before = t->irql;
    t->callout_what = what;
    t->callout_seq++;
    t->irql = PASSIVE_LEVEL;
    fltsim__critical_region_enter();
}

static void callout_leave(struct callout *c, fltsim_system *sys)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->irql != PASSIVE_LEVEL) {
        fltsim__report(sys, t->filter, NULL, NULL, "V36", "9",
                       "%s returned at IRQL %u; it is called at PASSIVE_LEVEL and must return "
                       "there",
                       t->callout_what, (unsigned)t->irql);
        t->irql = PASSIVE_LEVEL;
    }
    fltsim__critical_region_leave("an object callback");
    t->callout_what = c->what_before;
    t->callout_seq++;
    t->irql = c->irql_before;
    fltsim__leave(&c->save);
}

/* The process a process or thread object is or belongs to; 0 for another. */
static ULONG object_pid(PVOID object)
{
    const struct _KPROCESS *p = object;
    const struct _KTHREAD *t = object;
    if (object == NULL)
        return 0;
    if (p->magic == FLTSIM_MAGIC_PROCESS)
        return p->process_id;
    if (t->magic == FLTSIM_MAGIC_THREAD && t->process != NULL)
        return t->process->process_id;
    return 0;
}

static void trace_call(fltsim_system *sys, enum fltsim_event_type type, const struct ob_reg *reg,
                       const struct fltsim_ob_handle_op *op, ACCESS_MASK desired,
                       ACCESS_MASK granted, NTSTATUS status)
{
    if (!fltsim__tracing(sys))
        return;
    struct fltsim_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.filter = reg->driver8;
    ev.altitude = reg->altitude.text;
    ev.ob_operation = op->operation;
    ev.object_type = op->type->name;
    ev.object_process_id = object_pid(op->object);
    ev.flags = op->kernel_handle ? 1 : 0;
    ev.desired_access = desired;
    ev.granted_access = granted;
    ev.status = status;
    fltsim__event_thread(&ev);
    fltsim__trace(sys, &ev);
}

void fltsim__ob_pre(fltsim_system *sys, struct fltsim_ob_handle_op *op)
{
    struct ob_state *st = collect(sys, op);
    op->state = st;
    if (st == NULL)
        return;
    st->original = op->desired;
    bool duplicate = op->operation == OB_OPERATION_HANDLE_DUPLICATE;
    for (ULONG i = 0; i < st->count; i++) {
        struct ob_call *call = &st->calls[i];
        if (call->entry->pre == NULL)
            continue;
        OB_PRE_OPERATION_PARAMETERS params;
        memset(&params, 0, sizeof(params));
        if (duplicate) {
            params.DuplicateHandleInformation.DesiredAccess = op->desired;
            params.DuplicateHandleInformation.OriginalDesiredAccess = st->original;
            params.DuplicateHandleInformation.SourceProcess = op->source_process;
            params.DuplicateHandleInformation.TargetProcess = op->target_process;
        } else {
            params.CreateHandleInformation.DesiredAccess = op->desired;
            params.CreateHandleInformation.OriginalDesiredAccess = st->original;
        }
        OB_PRE_OPERATION_INFORMATION info;
        memset(&info, 0, sizeof(info));
        info.Operation = op->operation;
        info.KernelHandle = op->kernel_handle ? 1 : 0;
        info.Object = op->object;
        info.ObjectType = op->type;
        info.CallContext = NULL;
        info.Parameters = &params;

        struct callout c;
        callout_enter(&c, sys, call, call->reg->pre_what);
        OB_PREOP_CALLBACK_STATUS result = call->entry->pre(call->reg->context, &info);
        if (result != OB_PREOP_SUCCESS)
            fltsim__report(sys, fltsim__tls()->filter, NULL, NULL, "V33", "9",
                           "%s returned %d; OB_PREOP_SUCCESS is the only value a pre callback "
                           "may return",
                           call->reg->pre_what, (int)result);
        ACCESS_MASK left = duplicate ? params.DuplicateHandleInformation.DesiredAccess
                                     : params.CreateHandleInformation.DesiredAccess;
        if ((left & ~op->desired) != 0)
            fltsim__report(sys, fltsim__tls()->filter, NULL, NULL, "V32", "9",
                           "%s added access 0x%x to DesiredAccess 0x%x; a pre callback may "
                           "only clear bits, and the added ones are not granted",
                           call->reg->pre_what, (unsigned)(left & ~op->desired),
                           (unsigned)op->desired);
        callout_leave(&c, sys);
        trace_call(sys, FLTSIM_EV_OB_PRE, call->reg, op, op->desired, op->desired & left,
                   STATUS_SUCCESS);
        op->desired &= left;
        call->call_context = info.CallContext;
    }
}

void fltsim__ob_post(fltsim_system *sys, struct fltsim_ob_handle_op *op, NTSTATUS status)
{
    struct ob_state *st = op->state;
    op->state = NULL;
    if (st == NULL)
        return;
    for (ULONG k = st->count; k-- > 0;) {
        struct ob_call *call = &st->calls[k];
        if (call->entry->post == NULL)
            continue;
        OB_POST_OPERATION_PARAMETERS params;
        memset(&params, 0, sizeof(params));
        /* Valid only when ReturnStatus is a success (SPEC 9). */
        ACCESS_MASK granted = NT_SUCCESS(status) ? op->desired : 0;
        if (op->operation == OB_OPERATION_HANDLE_DUPLICATE)
            params.DuplicateHandleInformation.GrantedAccess = granted;
        else
            params.CreateHandleInformation.GrantedAccess = granted;
        OB_POST_OPERATION_INFORMATION info;
        memset(&info, 0, sizeof(info));
        info.Operation = op->operation;
        info.KernelHandle = op->kernel_handle ? 1 : 0;
        info.Object = op->object;
        info.ObjectType = op->type;
        info.CallContext = call->call_context;
        info.ReturnStatus = status;
        info.Parameters = &params;
        trace_call(sys, FLTSIM_EV_OB_POST, call->reg, op, st->original, granted, status);
        struct callout c;
        callout_enter(&c, sys, call, call->reg->post_what);
        call->entry->post(call->reg->context, &info);
        callout_leave(&c, sys);
    }
    for (ULONG k = 0; k < st->count; k++) {
        if (st->calls[k].filter != NULL)
            fltsim__filter_unref(st->calls[k].filter);
        reg_unref(st->calls[k].reg);
    }
    free(st);
}
