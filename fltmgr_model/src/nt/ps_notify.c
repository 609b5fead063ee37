/*
 * The process, thread and image-load notifications: PsSetCreateProcessNotifyRoutine
 * (Ex, Ex2), PsSetCreateThreadNotifyRoutine (Ex), PsRemoveCreateThreadNotifyRoutine,
 * PsSetLoadImageNotifyRoutine (Ex), PsRemoveLoadImageNotifyRoutine, and the
 * calls of the routines when a process of a system is created or exits
 * (ps_objects.c). Each routine belongs to the driver whose code registered
 * it and is called as that driver's code, in registration order, on the
 * creating or exiting thread at PASSIVE_LEVEL with no lock held. A driver
 * that unloads with routines still registered is reported (V31) and they
 * are removed.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "nt_internal.h"
#include "ps_internal.h"

/* Windows' limit for each list (64 since Windows 7 for process, thread and
 * image routines). */
#define FLTSIM_PS_NOTIFY_MAX 64

enum notify_kind {
    NOTIFY_PROCESS,    /* PCREATE_PROCESS_NOTIFY_ROUTINE */
    NOTIFY_PROCESS_EX, /* PCREATE_PROCESS_NOTIFY_ROUTINE_EX (Ex and Ex2) */
    NOTIFY_THREAD,     /* PCREATE_THREAD_NOTIFY_ROUTINE */
    NOTIFY_IMAGE,      /* PLOAD_IMAGE_NOTIFY_ROUTINE */
    NOTIFY_KINDS
};

static const char *const kind_api[NOTIFY_KINDS] = {
    "PsSetCreateProcessNotifyRoutine", "PsSetCreateProcessNotifyRoutineEx",
    "PsSetCreateThreadNotifyRoutine", "PsSetLoadImageNotifyRoutine"};

/* Any notify routine, kept as one function pointer type (each is called as
 * its own type again). */
typedef void (*notify_fn)(void);

struct notify_reg {
    fltsim_system *sys;
    struct fltsim_driver *driver;
    notify_fn routine;
};

/* The routine a PVOID NotifyInformation points at (Ex2, ThreadEx). */
static notify_fn routine_of(PVOID information)
{
    notify_fn fn;
    _Static_assert(sizeof(fn) == sizeof(information), "function and data pointers differ");
    memcpy(&fn, &information, sizeof(fn));
    return fn;
}

/* Registrations per kind, in registration order (ps lock). */
static struct notify_reg regs[NOTIFY_KINDS][FLTSIM_PS_NOTIFY_MAX];
static ULONG reg_count[NOTIFY_KINDS];

/* The driver whose code runs on this thread, or NULL. */
static struct fltsim_driver *current_driver(void)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->sys == NULL)
        return NULL;
    return t->filter != NULL ? t->filter->driver : t->loading;
}

/* Adds or removes routine on kind's list. full: the status when the list is
 * full; absent: when Remove names a routine not registered. */
static NTSTATUS set_routine(enum notify_kind kind, notify_fn routine, bool remove, NTSTATUS full,
                            const char *api)
{
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, api);
    if (routine == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: NotifyRoutine is NULL", api);
    struct fltsim_driver *drv = current_driver();
    if (drv == NULL)
        return fltsim__fail(STATUS_ACCESS_DENIED,
                            "%s: called from no driver's code (a driver registers it from "
                            "DriverEntry or a callback of its own)",
                            api);
    fltsim__ps_lock();
    ULONG found = reg_count[kind];
    for (ULONG i = 0; i < reg_count[kind]; i++)
        if (regs[kind][i].routine == routine && regs[kind][i].sys == drv->sys)
            found = i;
    NTSTATUS status = STATUS_SUCCESS;
    if (remove && found == reg_count[kind]) {
        status = STATUS_PROCEDURE_NOT_FOUND;
    } else if (remove) {
        memmove(&regs[kind][found], &regs[kind][found + 1],
                (reg_count[kind] - found - 1) * sizeof(regs[kind][0]));
        reg_count[kind]--;
    } else if (found != reg_count[kind]) {
        status = STATUS_INVALID_PARAMETER;
    } else if (reg_count[kind] == FLTSIM_PS_NOTIFY_MAX) {
        status = full;
    } else {
        regs[kind][reg_count[kind]++] = (struct notify_reg){drv->sys, drv, routine};
    }
    fltsim__ps_unlock();
    if (status == STATUS_PROCEDURE_NOT_FOUND)
        return fltsim__fail(status, "%s(remove): the routine is not registered", api);
    if (status == STATUS_INVALID_PARAMETER)
        return fltsim__fail(status, "%s: the routine is registered already", api);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: %d routines are registered, Windows' limit", api,
                            FLTSIM_PS_NOTIFY_MAX);
    return STATUS_SUCCESS;
}

NTSTATUS PsSetCreateProcessNotifyRoutine(PCREATE_PROCESS_NOTIFY_ROUTINE NotifyRoutine,
                                         BOOLEAN Remove)
{
    return set_routine(NOTIFY_PROCESS, (notify_fn)NotifyRoutine, Remove != FALSE,
                       STATUS_INVALID_PARAMETER, kind_api[NOTIFY_PROCESS]);
}

NTSTATUS PsSetCreateProcessNotifyRoutineEx(PCREATE_PROCESS_NOTIFY_ROUTINE_EX NotifyRoutine,
                                           BOOLEAN Remove)
{
    return set_routine(NOTIFY_PROCESS_EX, (notify_fn)NotifyRoutine, Remove != FALSE,
                       STATUS_INVALID_PARAMETER, kind_api[NOTIFY_PROCESS_EX]);
}

/* fltsim has no subsystem (Pico) processes: a routine registered for
 * PsCreateProcessNotifySubsystems sees the same Win32 processes an Ex one
 * does, and shares its list. */
NTSTATUS PsSetCreateProcessNotifyRoutineEx2(PSCREATEPROCESSNOTIFYTYPE NotifyType,
                                            PVOID NotifyInformation, BOOLEAN Remove)
{
    static const char api[] = "PsSetCreateProcessNotifyRoutineEx2";
    if (NotifyType != PsCreateProcessNotifySubsystems)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: NotifyType %d is none Windows knows",
                            api, (int)NotifyType);
    return set_routine(NOTIFY_PROCESS_EX, routine_of(NotifyInformation), Remove != FALSE,
                       STATUS_INVALID_PARAMETER, api);
}

NTSTATUS PsSetCreateThreadNotifyRoutine(PCREATE_THREAD_NOTIFY_ROUTINE NotifyRoutine)
{
    return set_routine(NOTIFY_THREAD, (notify_fn)NotifyRoutine, false,
                       STATUS_INSUFFICIENT_RESOURCES, kind_api[NOTIFY_THREAD]);
}

NTSTATUS PsSetCreateThreadNotifyRoutineEx(PSCREATETHREADNOTIFYTYPE NotifyType,
                                          PVOID NotifyInformation)
{
    static const char api[] = "PsSetCreateThreadNotifyRoutineEx";
    if (NotifyType != PsCreateThreadNotifyNonSystem && NotifyType != PsCreateThreadNotifySubsystems)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: NotifyType %d is none Windows knows",
                            api, (int)NotifyType);
    return set_routine(NOTIFY_THREAD, routine_of(NotifyInformation), false,
                       STATUS_INSUFFICIENT_RESOURCES, api);
}

NTSTATUS PsRemoveCreateThreadNotifyRoutine(PCREATE_THREAD_NOTIFY_ROUTINE NotifyRoutine)
{
    return set_routine(NOTIFY_THREAD, (notify_fn)NotifyRoutine, true, STATUS_SUCCESS,
                       "PsRemoveCreateThreadNotifyRoutine");
}

NTSTATUS PsSetLoadImageNotifyRoutine(PLOAD_IMAGE_NOTIFY_ROUTINE NotifyRoutine)
{
    return set_routine(NOTIFY_IMAGE, (notify_fn)NotifyRoutine, false, STATUS_INSUFFICIENT_RESOURCES,
                       kind_api[NOTIFY_IMAGE]);
}

NTSTATUS PsSetLoadImageNotifyRoutineEx(PLOAD_IMAGE_NOTIFY_ROUTINE NotifyRoutine, ULONG_PTR Flags)
{
    static const char api[] = "PsSetLoadImageNotifyRoutineEx";
    if ((Flags & ~(ULONG_PTR)PS_IMAGE_NOTIFY_CONFLICTING_ARCHITECTURE) != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Flags 0x%lx has unknown bits", api,
                            (unsigned long)Flags);
    return set_routine(NOTIFY_IMAGE, (notify_fn)NotifyRoutine, false, STATUS_INSUFFICIENT_RESOURCES,
                       api);
}

NTSTATUS PsRemoveLoadImageNotifyRoutine(PLOAD_IMAGE_NOTIFY_ROUTINE NotifyRoutine)
{
    return set_routine(NOTIFY_IMAGE, (notify_fn)NotifyRoutine, true, STATUS_SUCCESS,
                       "PsRemoveLoadImageNotifyRoutine");
}

/* ---- calling the routines ---- */

/* The registrations of kind for sys, copied (the lists may change while the
 * routines run). Returns the count; *out is malloc'd (NULL when none). */
static ULONG snapshot(fltsim_system *sys, enum notify_kind kind, struct notify_reg **out)
{
    *out = NULL;
    fltsim__ps_lock();
    ULONG n = 0;
    struct notify_reg *copy = reg_count[kind] > 0 ? malloc(reg_count[kind] * sizeof(*copy)) : NULL;
    for (ULONG i = 0; copy != NULL && i < reg_count[kind]; i++)
        if (regs[kind][i].sys == sys)
            copy[n++] = regs[kind][i];
    fltsim__ps_unlock();
    if (n == 0)
        free(copy);
    else
        *out = copy;
    return n;
}

struct notify_call {
    enum notify_kind kind;
    notify_fn routine;
    PEPROCESS process;
    ULONG thread_id;
    PPS_CREATE_NOTIFY_INFO info; /* NULL: an exit */
    bool create;
    PUNICODE_STRING image;
};

static void call_routine(void *ctx)
{
    struct notify_call *c = ctx;
    HANDLE pid = (HANDLE)(ULONG_PTR)c->process->process_id;
    switch (c->kind) {
    case NOTIFY_PROCESS: {
        HANDLE parent = (HANDLE)(ULONG_PTR)PsGetProcessInheritedFromUniqueProcessId(c->process);
        ((PCREATE_PROCESS_NOTIFY_ROUTINE)c->routine)(parent, pid, c->create ? TRUE : FALSE);
        break;
    }
    case NOTIFY_PROCESS_EX:
        ((PCREATE_PROCESS_NOTIFY_ROUTINE_EX)c->routine)(c->process, pid, c->info);
        break;
    case NOTIFY_THREAD:
        ((PCREATE_THREAD_NOTIFY_ROUTINE)c->routine)(pid, (HANDLE)(ULONG_PTR)c->thread_id,
                                                    c->create ? TRUE : FALSE);
        break;
    default: {
        IMAGE_INFO info;
        memset(&info, 0, sizeof(info));
        info.ImageBase = (PVOID)(ULONG_PTR)0x140000000u; /* an x64 exe's default base */
        info.ImageSize = 0x10000;
        ((PLOAD_IMAGE_NOTIFY_ROUTINE)c->routine)(c->image, pid, &info);
        break;
    }
    }
}

/* Calls kind's routines of sys as their drivers' code; for a process
 * creation, stops at the first that set a failing CreationStatus. */
static void call_all(fltsim_system *sys, struct notify_call *c)
{
    struct notify_reg *list;
    ULONG n = snapshot(sys, c->kind, &list);
    for (ULONG i = 0; i < n; i++) {
        struct fltsim_driver *drv = list[i].driver;
        c->routine = list[i].routine;
        struct fltsim_callout save;
        fltsim__enter(&save, sys, drv->filter, NULL);
        struct fltsim_tls *t = fltsim__tls();
        struct fltsim_driver *outer = t->loading;
        KIRQL irql = t->irql;
        t->loading = drv;
        t->irql = PASSIVE_LEVEL;
        t->callout_what = "its process notify routine";
        struct fltsim_seh_frame seh;
        if (!fltsim__seh_call(&seh, call_routine, c)) {
            char where[FLTSIM_NAME8_MAX + 64];
            snprintf(where, sizeof(where), "%s routine of %s", kind_api[c->kind], drv->name8);
            NTSTATUS code = fltsim__seh_uncaught(&seh, sys, drv->filter, NULL, NULL, where,
                                                 "fltsim goes on with the next routine");
            if (c->info != NULL && c->kind == NOTIFY_PROCESS_EX)
                c->info->CreationStatus = code;
        }
        t->irql = irql;
        t->loading = outer;
        fltsim__leave(&save);
        if (c->info != NULL && c->kind == NOTIFY_PROCESS_EX && !NT_SUCCESS(c->info->CreationStatus))
            break;
    }
    free(list);
}

NTSTATUS fltsim__ps_notify_create(fltsim_system *sys, PEPROCESS process, ULONG thread_id,
                                  PPS_CREATE_NOTIFY_INFO info)
{
    /* Windows maps the image first, then inserts the first thread, calling
     * the process routines, then the thread routines. */
    struct notify_call c = {.process = process, .thread_id = thread_id, .create = true};
    c.kind = NOTIFY_IMAGE;
    c.image = (PUNICODE_STRING)info->ImageFileName;
    call_all(sys, &c);
    c.kind = NOTIFY_PROCESS_EX;
    c.info = info;
    call_all(sys, &c);
    if (!NT_SUCCESS(info->CreationStatus))
        return info->CreationStatus;
    c.info = NULL;
    c.kind = NOTIFY_PROCESS;
    call_all(sys, &c);
    c.kind = NOTIFY_THREAD;
    call_all(sys, &c);
    return STATUS_SUCCESS;
}

void fltsim__ps_notify_exit(fltsim_system *sys, PEPROCESS process, ULONG thread_id)
{
    struct notify_call c = {.process = process, .thread_id = thread_id, .create = false};
    c.kind = NOTIFY_THREAD;
    call_all(sys, &c);
    c.kind = NOTIFY_PROCESS_EX;
    call_all(sys, &c);
    c.kind = NOTIFY_PROCESS;
    call_all(sys, &c);
}

void fltsim__ps_notify_thread(fltsim_system *sys, ULONG process_id, ULONG thread_id, bool create)
{
    PEPROCESS process;
    if (!NT_SUCCESS(PsLookupProcessByProcessId((HANDLE)(ULONG_PTR)process_id, &process)))
        return;
    struct notify_call c = {
        .kind = NOTIFY_THREAD, .process = process, .thread_id = thread_id, .create = create};
    call_all(sys, &c);
    ObDereferenceObject(process);
}

/* ---- unload (V31) ---- */

void fltsim__ps_driver_unloaded(struct fltsim_driver *drv)
{
    ULONG left[NOTIFY_KINDS] = {0};
    ULONG total = 0;
    fltsim__ps_lock();
    for (int kind = 0; kind < NOTIFY_KINDS; kind++) {
        ULONG kept = 0;
        for (ULONG i = 0; i < reg_count[kind]; i++) {
            if (regs[kind][i].driver == drv) {
                left[kind]++;
                total++;
            } else {
                regs[kind][kept++] = regs[kind][i];
            }
        }
        reg_count[kind] = kept;
    }
    fltsim__ps_unlock();
    if (total == 0)
        return;
    char names[256] = "";
    size_t used = 0;
    for (int kind = 0; kind < NOTIFY_KINDS; kind++)
        if (left[kind] > 0 && used < sizeof(names))
            used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%u %s",
                                     used > 0 ? ", " : "", (unsigned)left[kind], kind_api[kind]);
    fltsim__report(drv->sys, drv->filter_keep, NULL, NULL, "V31", "10",
                   "%s unloads with notify routine(s) still registered (%s): a driver removes "
                   "them before it unloads; fltsim removes them",
                   drv->name8, names);
}
