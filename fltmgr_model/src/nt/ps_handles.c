/*
 * Handles to processes and threads: ZwOpenProcess/NtOpenProcess,
 * ZwOpenThread, ObOpenObjectByPointer on a process or thread,
 * ZwDuplicateObject, ZwTerminateProcess, closing them (ZwClose/NtClose ask
 * here first) and ObReferenceObjectByHandle(PsProcessType/PsThreadType),
 * with PsProcessType and PsThreadType. Each handle belongs to a process's
 * table (a kernel handle to the System process's), holds a reference on its
 * object and keeps the access it grants, which ObReferenceObjectByHandle
 * checks for UserMode. Every handle made or duplicated asks the object
 * callbacks first (fltsim__ob_pre/post, ob_internal.h). Handle values have
 * bit 62 set, which no file or registry handle has.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "nt_internal.h"
#include "ob_internal.h"
#include "ps_internal.h"

#include "fltsim/program.h"

struct _OBJECT_TYPE {
    const char *name;
};

static struct _OBJECT_TYPE process_type = {"Process"};
static POBJECT_TYPE process_type_pointer = &process_type;
POBJECT_TYPE *PsProcessType = &process_type_pointer;
static struct _OBJECT_TYPE thread_type = {"Thread"};
static POBJECT_TYPE thread_type_pointer = &thread_type;
POBJECT_TYPE *PsThreadType = &thread_type_pointer;

#define PS_HANDLE_BIT (1ull << 62)
#define PS_KERNEL_BIT (1ull << 63)

struct ps_handle {
    HANDLE value;
    PEPROCESS owner; /* whose table (the System process: a kernel handle) */
    PVOID object;    /* a PEPROCESS or PETHREAD, referenced */
    ACCESS_MASK granted;
};

/* The open handles (the ps lock). */
static struct ps_handle *handles;
static size_t handle_count, handle_capacity;
static ULONG64 next_serial = 1;

static void free_handles(void)
{
    free(handles);
    handles = NULL;
    handle_count = handle_capacity = 0;
}

static bool is_thread(PVOID object)
{
    return *(const ULONG *)object == FLTSIM_MAGIC_THREAD;
}

bool fltsim__ps_is_object(PVOID object)
{
    if (object == NULL)
        return false;
    ULONG magic = *(const ULONG *)object;
    return magic == FLTSIM_MAGIC_PROCESS || magic == FLTSIM_MAGIC_THREAD;
}

/* The index of value in the table visible to process (its own handles; a
 * kernel-mode caller also sees the kernel ones), or -1. ps lock held. */
static ptrdiff_t find_locked(HANDLE value, PEPROCESS process, bool kernel_mode)
{
    for (size_t i = 0; i < handle_count; i++) {
        if (handles[i].value != value)
            continue;
        bool system = handles[i].owner->process_id == FLTSIM_SYSTEM_PROCESS_ID;
        if (handles[i].owner == process || (system && kernel_mode))
            return (ptrdiff_t)i;
    }
    return -1;
}

/* Makes a handle in owner's table to object (referenced here) after the
 * object callbacks; *granted: what they left of desired. */
static NTSTATUS make_handle(fltsim_system *sys, PEPROCESS owner, PVOID object, ACCESS_MASK desired,
                            OB_OPERATION operation, PEPROCESS source, PEPROCESS target, HANDLE *out,
                            ACCESS_MASK *granted)
{
    bool kernel = owner->process_id == FLTSIM_SYSTEM_PROCESS_ID;
    struct fltsim_ob_handle_op op = {
        .operation = operation,
        .object = object,
        .type = is_thread(object) ? *PsThreadType : *PsProcessType,
        .kernel_handle = kernel,
        .desired = desired,
        .source_process = source,
        .target_process = target,
    };
    if (sys != NULL)
        fltsim__ob_pre(sys, &op);
    NTSTATUS status = STATUS_SUCCESS;
    fltsim__ps_lock();
    if (handle_count == handle_capacity) {
        size_t cap = handle_capacity ? handle_capacity * 2 : 16;
        struct ps_handle *grown = realloc(handles, cap * sizeof(*grown));
        if (grown == NULL) {
            status = STATUS_INSUFFICIENT_RESOURCES;
        } else {
            if (handles == NULL)
                atexit(free_handles);
            handles = grown;
            handle_capacity = cap;
        }
    }
    if (NT_SUCCESS(status)) {
        HANDLE value = (HANDLE)(ULONG_PTR)(PS_HANDLE_BIT | (kernel ? PS_KERNEL_BIT : 0) |
                                           (next_serial++ << 2));
        handles[handle_count++] = (struct ps_handle){value, owner, object, op.desired};
        *out = value;
        *granted = op.desired;
    }
    fltsim__ps_unlock();
    if (NT_SUCCESS(status)) {
        LONG_PTR count;
        fltsim__ps_reference(object, 1, &count);
    }
    if (sys != NULL) {
        fltsim__ob_post(sys, &op, status);
        struct fltsim_event ev = {
            .type = operation == OB_OPERATION_HANDLE_CREATE ? FLTSIM_EV_HANDLE_OPEN
                                                            : FLTSIM_EV_HANDLE_DUPLICATE,
            .status = status,
            .table_process_id = owner->process_id,
            .desired_access = desired,
            .granted_access = NT_SUCCESS(status) ? op.desired : 0,
        };
        fltsim__event_thread(&ev);
        bool thread = is_thread(object);
        ev.object_process_id =
            thread ? ((PETHREAD)object)->process->process_id : ((PEPROCESS)object)->process_id;
        ev.object_thread_id = thread ? ((PETHREAD)object)->thread_id : 0;
        fltsim__trace(sys, &ev);
    }
    return status;
}

/* The process whose table a new handle goes in: the System process's for a
 * kernel handle, else the caller's. */
static PEPROCESS table_of(bool kernel)
{
    return kernel ? fltsim__process_object(FLTSIM_SYSTEM_PROCESS_ID) : IoGetCurrentProcess();
}

/* Removes a handle from owner's (or, kernel_mode, the kernel) table and
 * drops its reference. false when there is none. */
static bool close_handle(HANDLE value, PEPROCESS process, bool kernel_mode)
{
    fltsim__ps_lock();
    ptrdiff_t i = find_locked(value, process, kernel_mode);
    PVOID object = NULL;
    if (i >= 0) {
        object = handles[i].object;
        handles[i] = handles[--handle_count];
    }
    fltsim__ps_unlock();
    if (object == NULL)
        return false;
    LONG_PTR count;
    fltsim__ps_reference(object, -1, &count);
    return true;
}

bool fltsim__ps_handle_close(HANDLE handle)
{
    if (((ULONG64)(ULONG_PTR)handle & PS_HANDLE_BIT) == 0)
        return false;
    return close_handle(handle, IoGetCurrentProcess(), true);
}

void fltsim__ps_handles_process_exited(PEPROCESS process)
{
    for (;;) {
        HANDLE value = NULL;
        fltsim__ps_lock();
        for (size_t i = 0; i < handle_count && value == NULL; i++)
            if (handles[i].owner == process)
                value = handles[i].value;
        fltsim__ps_unlock();
        if (value == NULL)
            return;
        close_handle(value, process, false);
    }
}

NTSTATUS fltsim__ps_handle_object(HANDLE handle, KPROCESSOR_MODE mode, PVOID *object,
                                  ACCESS_MASK *granted)
{
    *object = NULL;
    *granted = 0;
    PVOID found = NULL;
    if (handle == NtCurrentProcess()) {
        found = IoGetCurrentProcess();
        *granted = PROCESS_ALL_ACCESS;
    } else if (handle == NtCurrentThread()) {
        found = PsGetCurrentThread();
        *granted = THREAD_ALL_ACCESS;
    } else if (((ULONG64)(ULONG_PTR)handle & PS_HANDLE_BIT) != 0) {
        fltsim__ps_lock();
        ptrdiff_t i = find_locked(handle, IoGetCurrentProcess(), mode == KernelMode);
        if (i >= 0) {
            found = handles[i].object;
            *granted = handles[i].granted;
        }
        fltsim__ps_unlock();
    }
    if (found == NULL)
        return STATUS_INVALID_HANDLE;
    LONG_PTR count;
    fltsim__ps_reference(found, 1, &count);
    *object = found;
    return STATUS_SUCCESS;
}

/* ---- opening ---- */

/* The object a CLIENT_ID names (process, or a thread of it when
 * UniqueThread is set), referenced; STATUS_INVALID_CID when none. */
static NTSTATUS lookup_cid(PCLIENT_ID cid, bool thread, PVOID *object)
{
    *object = NULL;
    if (thread) {
        PETHREAD t;
        NTSTATUS status = PsLookupThreadByThreadId(cid->UniqueThread, &t);
        if (!NT_SUCCESS(status))
            return STATUS_INVALID_CID;
        if (cid->UniqueProcess != NULL && PsGetThreadProcessId(t) != cid->UniqueProcess) {
            ObDereferenceObject(t);
            return STATUS_INVALID_CID;
        }
        *object = t;
        return STATUS_SUCCESS;
    }
    PEPROCESS p;
    if (!NT_SUCCESS(PsLookupProcessByProcessId(cid->UniqueProcess, &p)))
        return STATUS_INVALID_CID;
    *object = p;
    return STATUS_SUCCESS;
}

static NTSTATUS open_by_cid(const char *api, PHANDLE handle, ACCESS_MASK desired,
                            POBJECT_ATTRIBUTES attributes, PCLIENT_ID cid, bool thread)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, api);
    if (handle == NULL || attributes == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: the handle and ObjectAttributes are "
                            "required",
                            api);
    *handle = NULL;
    if (cid == NULL || attributes->ObjectName != NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER_MIX,
                            "%s: a ClientId and no ObjectName (processes and threads have no "
                            "names)",
                            api);
    PVOID object;
    NTSTATUS status = lookup_cid(cid, thread, &object);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: no such %s (process %p, thread %p)", api,
                            thread ? "thread" : "process", cid->UniqueProcess, cid->UniqueThread);
    bool kernel = (attributes->Attributes & OBJ_KERNEL_HANDLE) != 0;
    ACCESS_MASK granted;
    status = make_handle(t->sys, table_of(kernel), object, desired, OB_OPERATION_HANDLE_CREATE,
                         NULL, NULL, handle, &granted);
    ObDereferenceObject(object);
    return status;
}

NTSTATUS ZwOpenProcess(PHANDLE ProcessHandle, ACCESS_MASK DesiredAccess,
                       POBJECT_ATTRIBUTES ObjectAttributes, PCLIENT_ID ClientId)
{
    return open_by_cid("ZwOpenProcess", ProcessHandle, DesiredAccess, ObjectAttributes, ClientId,
                       false);
}

/* Called by kernel code its previous mode is kernel: as ZwOpenProcess. */
NTSTATUS NtOpenProcess(PHANDLE ProcessHandle, ACCESS_MASK DesiredAccess,
                       POBJECT_ATTRIBUTES ObjectAttributes, PCLIENT_ID ClientId)
{
    return open_by_cid("NtOpenProcess", ProcessHandle, DesiredAccess, ObjectAttributes, ClientId,
                       false);
}

NTSTATUS ZwOpenThread(PHANDLE ThreadHandle, ACCESS_MASK DesiredAccess,
                      POBJECT_ATTRIBUTES ObjectAttributes, PCLIENT_ID ClientId)
{
    return open_by_cid("ZwOpenThread", ThreadHandle, DesiredAccess, ObjectAttributes, ClientId,
                       true);
}

NTSTATUS fltsim__ps_open_by_pointer(PVOID Object, ULONG HandleAttributes, ACCESS_MASK DesiredAccess,
                                    POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode,
                                    PHANDLE Handle)
{
    static const char api[] = "ObOpenObjectByPointer";
    if (Handle == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Handle is NULL", api);
    POBJECT_TYPE type = is_thread(Object) ? *PsThreadType : *PsProcessType;
    if (ObjectType != NULL && ObjectType != type)
        return fltsim__fail(STATUS_OBJECT_TYPE_MISMATCH, "%s: the object is a %s", api, type->name);
    bool kernel = (HandleAttributes & OBJ_KERNEL_HANDLE) != 0 && AccessMode == KernelMode;
    ACCESS_MASK granted;
    return make_handle(fltsim__tls()->sys, table_of(kernel), Object, DesiredAccess,
                       OB_OPERATION_HANDLE_CREATE, NULL, NULL, Handle, &granted);
}

/* ---- duplicating, terminating ---- */

/* The process a process handle names, referenced, when it grants need (kernel
 * mode: any access). */
static NTSTATUS process_of(HANDLE handle, ACCESS_MASK need, PEPROCESS *out)
{
    PVOID object;
    ACCESS_MASK granted;
    *out = NULL;
    NTSTATUS status = fltsim__ps_handle_object(handle, KernelMode, &object, &granted);
    if (!NT_SUCCESS(status))
        return status;
    if (is_thread(object)) {
        ObDereferenceObject(object);
        return STATUS_OBJECT_TYPE_MISMATCH;
    }
    (void)need; /* a kernel-mode caller is not checked */
    *out = object;
    return STATUS_SUCCESS;
}

NTSTATUS ZwDuplicateObject(HANDLE SourceProcessHandle, HANDLE SourceHandle,
                           HANDLE TargetProcessHandle, PHANDLE TargetHandle,
                           ACCESS_MASK DesiredAccess, ULONG HandleAttributes, ULONG Options)
{
    static const char api[] = "ZwDuplicateObject";
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, api);
    if (TargetHandle != NULL)
        *TargetHandle = NULL;
    if ((Options &
         ~(ULONG)(DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS | DUPLICATE_SAME_ATTRIBUTES)) != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Options 0x%x has unknown bits", api,
                            (unsigned)Options);
    PEPROCESS source, target = NULL;
    NTSTATUS status = process_of(SourceProcessHandle, PROCESS_DUP_HANDLE, &source);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: SourceProcessHandle %p is no process handle", api,
                            SourceProcessHandle);
    /* The handle in the source's table, or a kernel handle (the caller is
     * kernel code). */
    fltsim__ps_lock();
    ptrdiff_t i = find_locked(SourceHandle, source, true);
    PVOID object = i >= 0 ? handles[i].object : NULL;
    ACCESS_MASK source_access = i >= 0 ? handles[i].granted : 0;
    fltsim__ps_unlock();
    if (object == NULL) {
        ObDereferenceObject(source);
        return fltsim__fail(STATUS_INVALID_HANDLE,
                            "%s: SourceHandle %p is no process or thread handle of process %lu "
                            "(fltsim duplicates those only)",
                            api, SourceHandle, (unsigned long)source->process_id);
    }
    LONG_PTR count;
    fltsim__ps_reference(object, 1, &count);
    if (TargetProcessHandle != NULL && TargetHandle != NULL) {
        status = process_of(TargetProcessHandle, PROCESS_DUP_HANDLE, &target);
        if (!NT_SUCCESS(status))
            fltsim__fail(status, "%s: TargetProcessHandle %p is no process handle", api,
                         TargetProcessHandle);
    }
    if (NT_SUCCESS(status) && target != NULL) {
        bool kernel = (HandleAttributes & OBJ_KERNEL_HANDLE) != 0 ||
                      target->process_id == FLTSIM_SYSTEM_PROCESS_ID;
        ACCESS_MASK desired = (Options & DUPLICATE_SAME_ACCESS) ? source_access : DesiredAccess;
        ACCESS_MASK granted;
        status = make_handle(t->sys, kernel ? table_of(true) : target, object, desired,
                             OB_OPERATION_HANDLE_DUPLICATE, source, target, TargetHandle, &granted);
    }
    if (Options & DUPLICATE_CLOSE_SOURCE) /* closed even when the duplicate failed */
        close_handle(SourceHandle, source, true);
    fltsim__ps_reference(object, -1, &count);
    if (target != NULL)
        ObDereferenceObject(target);
    ObDereferenceObject(source);
    return status;
}

NTSTATUS ZwTerminateProcess(HANDLE ProcessHandle, NTSTATUS ExitStatus)
{
    static const char api[] = "ZwTerminateProcess";
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, api);
    PEPROCESS process;
    NTSTATUS status = process_of(ProcessHandle, PROCESS_TERMINATE, &process);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: %p is no process handle", api, ProcessHandle);
    fltsim__ps_lock();
    struct fltsim_ps_process *ps = fltsim__ps_of_locked(process);
    fltsim_system *sys = ps != NULL && !ps->implicit ? ps->sys : NULL;
    bool exited = ps != NULL && ps->exit_status != STATUS_PENDING;
    fltsim__ps_unlock();
    ULONG pid = process->process_id;
    ObDereferenceObject(process);
    if (exited)
        return STATUS_PROCESS_IS_TERMINATING;
    if (sys == NULL)
        return fltsim__fail(STATUS_NOT_SUPPORTED,
                            "%s: process %lu runs the simulation's own threads (made by the "
                            "first use of its id); fltsim ends only processes it created",
                            api, (unsigned long)pid);
    return fltsim_ps_exit(sys, pid, ExitStatus);
}

NTSTATUS NtClose(HANDLE Handle)
{
    return ZwClose(Handle);
}

/* ---- the test API ---- */

NTSTATUS fltsim_ps_open(fltsim_system *sys, ULONG process_id, ULONG thread_id, ACCESS_MASK desired,
                        bool kernel, HANDLE *handle, ACCESS_MASK *granted)
{
    static const char api[] = "fltsim_ps_open";
    if (handle != NULL)
        *handle = NULL;
    if (granted != NULL)
        *granted = 0;
    if (sys == NULL || handle == NULL || granted == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: sys, handle and granted are required",
                            api);
    CLIENT_ID cid = {(HANDLE)(ULONG_PTR)process_id, (HANDLE)(ULONG_PTR)thread_id};
    PVOID object;
    NTSTATUS status = lookup_cid(&cid, thread_id != 0, &object);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: no such %s (process %lu, thread %lu)", api,
                            thread_id != 0 ? "thread" : "process", (unsigned long)process_id,
                            (unsigned long)thread_id);
    status = make_handle(sys, table_of(kernel), object, desired, OB_OPERATION_HANDLE_CREATE, NULL,
                         NULL, handle, granted);
    ObDereferenceObject(object);
    return status;
}

NTSTATUS fltsim_ps_close(fltsim_system *sys, HANDLE handle)
{
    (void)sys;
    if (!close_handle(handle, IoGetCurrentProcess(), true))
        return fltsim__fail(STATUS_INVALID_HANDLE,
                            "fltsim_ps_close(%p): not an open process or "
                            "thread handle of this process",
                            handle);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim_ps_duplicate(fltsim_system *sys, HANDLE handle, ULONG target_process_id,
                             ACCESS_MASK desired, bool same_access, HANDLE *out,
                             ACCESS_MASK *granted)
{
    static const char api[] = "fltsim_ps_duplicate";
    if (out != NULL)
        *out = NULL;
    if (granted != NULL)
        *granted = 0;
    if (sys == NULL || out == NULL || granted == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: sys, out and granted are required", api);
    PEPROCESS source = IoGetCurrentProcess();
    fltsim__ps_lock();
    ptrdiff_t i = find_locked(handle, source, true);
    PVOID object = i >= 0 ? handles[i].object : NULL;
    ACCESS_MASK source_access = i >= 0 ? handles[i].granted : 0;
    fltsim__ps_unlock();
    if (object == NULL)
        return fltsim__fail(STATUS_INVALID_HANDLE,
                            "%s(%p): not an open process or thread handle of this process", api,
                            handle);
    LONG_PTR count;
    fltsim__ps_reference(object, 1, &count); /* as ZwDuplicateObject does */
    CLIENT_ID cid = {(HANDLE)(ULONG_PTR)target_process_id, NULL};
    PVOID target;
    NTSTATUS status = lookup_cid(&cid, false, &target);
    if (!NT_SUCCESS(status)) {
        fltsim__fail(status, "%s: no such process %lu", api, (unsigned long)target_process_id);
    } else {
        bool kernel = target_process_id == FLTSIM_SYSTEM_PROCESS_ID;
        status = make_handle(sys, kernel ? table_of(true) : target, object,
                             same_access ? source_access : desired, OB_OPERATION_HANDLE_DUPLICATE,
                             source, target, out, granted);
        ObDereferenceObject(target);
    }
    fltsim__ps_reference(object, -1, &count);
    return status;
}
