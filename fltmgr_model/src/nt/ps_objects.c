/*
 * Processes as objects of a system: their parent, image, create time, exit
 * status and references (struct fltsim_ps_process, ps_internal.h), the Ps,
 * Se and Zw routines that read them, and the test API that creates a process
 * and ends it (fltsim_ps_create, fltsim_ps_exit, fltsim/program.h), firing
 * the notifications of ps_notify.c. A process fltsim_ps_create made holds one
 * reference of its own until it exits; an exited process stays (and
 * PsLookupProcessByProcessId finds it, with its exit status) until its last
 * reference goes, then its id names a new process. A process made by the
 * first use of its id (a scenario's requestor) never exits.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "nt_internal.h"
#include "ps_internal.h"

#include "fltsim/program.h"

static uv_once_t ps_once = UV_ONCE_INIT;
static uv_mutex_t ps_lock;
/* Ids fltsim_ps_create gives: the lowest multiple of 4 from 8000 that no
 * process or thread has (ps_lock), so that a run's ids do not depend on the
 * runs before it in the same program. */
static ULONG free_ps_id_locked(void)
{
    ULONG id = 8000;
    while (fltsim__process_object_find(id) != NULL || fltsim__thread_object_find(id, 0) != NULL)
        id += 4;
    return id;
}

static void ps_init(void)
{
    if (uv_mutex_init(&ps_lock) != 0)
        abort();
}

void fltsim__ps_lock(void)
{
    uv_once(&ps_once, ps_init);
    uv_mutex_lock(&ps_lock);
}

void fltsim__ps_unlock(void)
{
    uv_mutex_unlock(&ps_lock);
}

/* Sets the image path (UTF-16, count units) and the short name from it. */
static void set_image(struct fltsim_ps_process *ps, const WCHAR *path, size_t count)
{
    if (count >= FLTSIM_PS_IMAGE_MAX)
        count = FLTSIM_PS_IMAGE_MAX - 1;
    memcpy(ps->image_buffer, path, count * sizeof(WCHAR));
    ps->image_buffer[count] = 0;
    ps->image.Buffer = ps->image_buffer;
    ps->image.Length = (USHORT)(count * sizeof(WCHAR));
    ps->image.MaximumLength = (USHORT)(FLTSIM_PS_IMAGE_MAX * sizeof(WCHAR));
    size_t start = count;
    while (start > 0 && path[start - 1] != L'\\')
        start--;
    char name[FLTSIM_PS_IMAGE_MAX * 3];
    size_t n = fltsim_utf16_to_utf8(path + start, count - start, name, sizeof(name));
    /* EPROCESS.ImageFileName: the first 15 bytes of the file name. */
    if (n > sizeof(ps->short_name) - 1)
        n = sizeof(ps->short_name) - 1;
    memcpy(ps->short_name, name, n);
    ps->short_name[n] = '\0';
}

struct fltsim_ps_process *fltsim__ps_of_locked(PEPROCESS process)
{
    if (process->ps != NULL)
        return process->ps;
    struct fltsim_ps_process *ps = calloc(1, sizeof(*ps));
    if (ps == NULL)
        return NULL;
    ps->implicit = true;
    ps->exit_status = STATUS_PENDING;
    ps->refs = 1;
    ps->create_time = fltsim__system_time_precise();
    if (process->process_id == FLTSIM_SYSTEM_PROCESS_ID) {
        /* The System process has no image file: its name is "System". */
        set_image(ps, L"", 0);
        strcpy(ps->short_name, "System");
    } else {
        static const WCHAR image[] = FLTSIM_PS_DEFAULT_IMAGE;
        set_image(ps, image, sizeof(image) / sizeof(WCHAR) - 1);
    }
    process->ps = ps;
    return ps;
}

/* ---- references (ObfReferenceObject, ObfDereferenceObject: ob_file.c) ---- */

/* When object is a process or thread object: adds delta to its count (a
 * thread's references are its process's) and stores the count in *count;
 * the last reference of an exited process frees its id. false for any other
 * object. */
bool fltsim__ps_reference(PVOID object, LONG delta, LONG_PTR *count)
{
    ULONG magic = *(const ULONG *)object;
    PEPROCESS process;
    if (magic == FLTSIM_MAGIC_PROCESS)
        process = object;
    else if (magic == FLTSIM_MAGIC_THREAD)
        process = ((PETHREAD)object)->process;
    else
        return false;
    fltsim__ps_lock();
    struct fltsim_ps_process *ps = fltsim__ps_of_locked(process);
    bool under = ps != NULL && delta < 0 && ps->refs <= 0;
    if (ps != NULL && !under)
        ps->refs += delta;
    bool gone = ps != NULL && !ps->implicit && ps->refs == 0;
    *count = ps != NULL ? ps->refs : 1;
    fltsim__ps_unlock();
    if (under)
        fltsim__ke_report("KE", "-",
                          "ObDereferenceObject(%p): process %lu has no reference left to drop "
                          "(Windows frees the object and faults later)",
                          object, (unsigned long)process->process_id);
    if (gone)
        fltsim__process_object_retire(process);
    return true;
}

/* ---- lookups ---- */

/* The process id of a HANDLE-typed id, or 0 when it cannot be one. */
static ULONG id_of(HANDLE id)
{
    ULONG_PTR v = (ULONG_PTR)id;
    return v <= 0xFFFFFFFFu ? (ULONG)v : 0;
}

NTSTATUS PsLookupProcessByProcessId(HANDLE ProcessId, PEPROCESS *Process)
{
    static const char api[] = "PsLookupProcessByProcessId";
    fltsim__check_irql(fltsim__tls()->sys, APC_LEVEL, api);
    if (Process == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Process is NULL", api);
    *Process = NULL;
    ULONG id = id_of(ProcessId);
    /* A lookup makes no process, but the System process and the caller's
     * own exist as soon as anything runs. */
    PEPROCESS process = NULL;
    if (id == FLTSIM_SYSTEM_PROCESS_ID || (id != 0 && id == fltsim_thread_process_id()))
        process = fltsim__process_object(id);
    else if (id != 0)
        process = fltsim__process_object_find(id);
    fltsim__ps_lock();
    struct fltsim_ps_process *ps = process != NULL ? fltsim__ps_of_locked(process) : NULL;
    if (ps != NULL)
        ps->refs++;
    fltsim__ps_unlock();
    if (ps == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s(%p): no such process", api, ProcessId);
    *Process = process;
    return STATUS_SUCCESS;
}

NTSTATUS PsLookupThreadByThreadId(HANDLE ThreadId, PETHREAD *Thread)
{
    static const char api[] = "PsLookupThreadByThreadId";
    fltsim__check_irql(fltsim__tls()->sys, APC_LEVEL, api);
    if (Thread == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Thread is NULL", api);
    *Thread = NULL;
    ULONG id = id_of(ThreadId);
    PETHREAD thread = NULL;
    if (id != 0 && id == fltsim_thread_id())
        thread = fltsim_thread_current();
    else if (id != 0)
        thread = fltsim__thread_object_find(id, 0);
    bool live = false;
    if (thread != NULL) {
        fltsim__ps_lock();
        struct fltsim_ps_process *ps = fltsim__ps_of_locked(thread->process);
        /* An exited process's threads have exited: their ids are gone. */
        live = ps != NULL && ps->exit_status == STATUS_PENDING;
        if (live)
            ps->refs++;
        fltsim__ps_unlock();
    }
    if (!live)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s(%p): no such thread", api, ThreadId);
    *Thread = thread;
    return STATUS_SUCCESS;
}

/* ---- what a process object tells ---- */

PCHAR PsGetProcessImageFileName(PEPROCESS Process)
{
    if (fltsim__ps_valid_process(Process, "PsGetProcessImageFileName") == NULL)
        return NULL;
    fltsim__ps_lock();
    struct fltsim_ps_process *ps = fltsim__ps_of_locked(Process);
    fltsim__ps_unlock();
    return ps != NULL ? ps->short_name : NULL; /* fixed once made */
}

NTSTATUS PsGetProcessExitStatus(PEPROCESS Process)
{
    if (fltsim__ps_valid_process(Process, "PsGetProcessExitStatus") == NULL)
        return STATUS_INVALID_PARAMETER;
    fltsim__ps_lock();
    struct fltsim_ps_process *ps = fltsim__ps_of_locked(Process);
    NTSTATUS status = ps != NULL ? ps->exit_status : STATUS_PENDING;
    fltsim__ps_unlock();
    return status;
}

LONGLONG PsGetProcessCreateTimeQuadPart(PEPROCESS Process)
{
    if (fltsim__ps_valid_process(Process, "PsGetProcessCreateTimeQuadPart") == NULL)
        return 0;
    fltsim__ps_lock();
    struct fltsim_ps_process *ps = fltsim__ps_of_locked(Process);
    LONGLONG time = ps != NULL ? ps->create_time : 0;
    fltsim__ps_unlock();
    return time;
}

HANDLE PsGetProcessInheritedFromUniqueProcessId(PEPROCESS Process)
{
    if (fltsim__ps_valid_process(Process, "PsGetProcessInheritedFromUniqueProcessId") == NULL)
        return NULL;
    fltsim__ps_lock();
    struct fltsim_ps_process *ps = fltsim__ps_of_locked(Process);
    ULONG parent = ps != NULL ? ps->parent_id : 0;
    fltsim__ps_unlock();
    return (HANDLE)(ULONG_PTR)parent;
}

/* A copy of the image path in one pool block: a UNICODE_STRING followed by
 * its characters (what SeLocateProcessImageName and ProcessImageFileName
 * hand out). */
static void copy_image(struct fltsim_ps_process *ps, PUNICODE_STRING out, PWCH buffer)
{
    memcpy(buffer, ps->image.Buffer, ps->image.Length);
    out->Buffer = buffer;
    out->Length = ps->image.Length;
    out->MaximumLength = ps->image.Length;
}

NTSTATUS SeLocateProcessImageName(PEPROCESS Process, PUNICODE_STRING *pImageFileName)
{
    static const char api[] = "SeLocateProcessImageName";
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, api);
    if (pImageFileName == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: pImageFileName is NULL", api);
    *pImageFileName = NULL;
    if (fltsim__ps_valid_process(Process, api) == NULL)
        return STATUS_INVALID_PARAMETER;
    struct fltsim_ps_process copy;
    fltsim__ps_lock();
    struct fltsim_ps_process *ps = fltsim__ps_of_locked(Process);
    if (ps != NULL)
        copy = *ps;
    fltsim__ps_unlock();
    if (ps == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    copy.image.Buffer = copy.image_buffer;
    /* The caller frees it with ExFreePool. */
    PUNICODE_STRING name =
        ExAllocatePoolWithTag(PagedPool, sizeof(UNICODE_STRING) + copy.image.Length, 'mIeS');
    if (name == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    copy_image(&copy, name, (PWCH)(name + 1));
    *pImageFileName = name;
    return STATUS_SUCCESS;
}

/* The process a handle ZwQueryInformationProcess takes names: the calling
 * process (NtCurrentProcess()), or NULL. */
static PEPROCESS process_of_handle(HANDLE handle)
{
    PVOID object;
    ACCESS_MASK granted;
    if (!NT_SUCCESS(fltsim__ps_handle_object(handle, KernelMode, &object, &granted)))
        return NULL;
    ObfDereferenceObject(object); /* the handle holds one */
    return *(const ULONG *)object == FLTSIM_MAGIC_PROCESS ? object : NULL;
}

NTSTATUS ZwQueryInformationProcess(HANDLE ProcessHandle, PROCESSINFOCLASS ProcessInformationClass,
                                   PVOID ProcessInformation, ULONG ProcessInformationLength,
                                   PULONG ReturnLength)
{
    static const char api[] = "ZwQueryInformationProcess";
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, api);
    PEPROCESS process = process_of_handle(ProcessHandle);
    if (process == NULL)
        return fltsim__fail(STATUS_INVALID_HANDLE, "%s(%p): not a process handle", api,
                            ProcessHandle);
    struct fltsim_ps_process copy;
    fltsim__ps_lock();
    struct fltsim_ps_process *ps = fltsim__ps_of_locked(process);
    if (ps != NULL)
        copy = *ps;
    fltsim__ps_unlock();
    if (ps == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    ULONG need;
    switch (ProcessInformationClass) {
    case ProcessBasicInformation:
        need = sizeof(PROCESS_BASIC_INFORMATION);
        break;
    case ProcessSessionInformation:
        need = sizeof(PROCESS_SESSION_INFORMATION);
        break;
    case ProcessImageFileName:
        need = (ULONG)(sizeof(UNICODE_STRING) + copy.image.Length);
        break;
    default:
        return fltsim__fail(STATUS_INVALID_INFO_CLASS, "%s: class %d is not modeled", api,
                            (int)ProcessInformationClass);
    }
    if (ReturnLength != NULL)
        *ReturnLength = need;
    /* Fixed-size classes want the exact size; the name wants room for it. */
    bool fits = ProcessInformationClass == ProcessImageFileName ? ProcessInformationLength >= need
                                                                : ProcessInformationLength == need;
    if (!fits)
        return STATUS_INFO_LENGTH_MISMATCH;
    if (ProcessInformation == NULL)
        return fltsim__fail(STATUS_ACCESS_VIOLATION, "%s: ProcessInformation is NULL", api);
    switch (ProcessInformationClass) {
    case ProcessBasicInformation: {
        PPROCESS_BASIC_INFORMATION info = ProcessInformation;
        memset(info, 0, sizeof(*info));
        info->ExitStatus = copy.exit_status;
        info->BasePriority = 8; /* NORMAL_PRIORITY_CLASS */
        info->UniqueProcessId = process->process_id;
        info->InheritedFromUniqueProcessId = copy.parent_id;
        break;
    }
    case ProcessSessionInformation:
        ((PPROCESS_SESSION_INFORMATION)ProcessInformation)->SessionId = process->session_id;
        break;
    default:
        copy.image.Buffer = copy.image_buffer;
        copy_image(&copy, ProcessInformation, (PWCH)((PUNICODE_STRING)ProcessInformation + 1));
        break;
    }
    return STATUS_SUCCESS;
}

/* ---- creating and ending processes (fltsim/program.h) ---- */

/* The image path of params->image in out (UTF-16, terminated); false when it
 * is empty, no UTF-8 or too long. A bare file name is under \Windows. */
static bool image_path(const char *image, WCHAR out[FLTSIM_PS_IMAGE_MAX], size_t *count)
{
    static const WCHAR windows[] = L"\\Device\\HarddiskVolume1\\Windows\\";
    size_t prefix = 0;
    if (image == NULL || image[0] == '\0')
        return false;
    if (image[0] != '\\') {
        prefix = sizeof(windows) / sizeof(WCHAR) - 1;
        memcpy(out, windows, prefix * sizeof(WCHAR));
    }
    size_t n = fltsim_utf8_to_utf16(image, out + prefix, FLTSIM_PS_IMAGE_MAX - prefix);
    if (n == (size_t)-1)
        return false;
    *count = prefix + n;
    return true;
}

/* The process caller code on this thread runs in (a live one), for the
 * default parent. */
static ULONG caller_process_id(void)
{
    return fltsim_thread_process_id();
}

/* A PROCESS_* trace event about process (its image as detail). */
static void trace_process(fltsim_system *sys, enum fltsim_event_type type, PEPROCESS process,
                          const struct fltsim_ps_process *ps, NTSTATUS status)
{
    char image[FLTSIM_PS_IMAGE_MAX * 3];
    fltsim__ustr_to_utf8(&ps->image, image, sizeof(image));
    struct fltsim_event ev = {.type = type, .status = status, .detail = image};
    fltsim__event_thread(&ev);
    ev.object_process_id = process->process_id;
    ev.object_thread_id = ps->main_thread_id;
    ev.parent_process_id = ps->parent_id;
    fltsim__trace(sys, &ev);
}

/* What a new process is made of (fltsim_ps_create, a program's start). */
struct new_process {
    fltsim_system *sys;
    const WCHAR *image;
    size_t image_count;
    const WCHAR *command; /* NULL: the image path */
    size_t command_count;
    ULONG parent, pid, tid; /* pid, tid 0: the next free ones */
    bool program;           /* a program's: its id is its, whatever had it before */
    const char *name;       /* for messages */
};

/* Makes the process and notifies its creation; a denial ends it at once
 * (its exit notified). STATUS_OBJECT_NAME_COLLISION for a taken id (not a
 * program's). *pid: the id. */
static NTSTATUS create_process(const struct new_process *np, ULONG *out_pid)
{
    static const char api[] = "fltsim_ps_create";
    fltsim_system *sys = np->sys;
    ULONG pid = np->pid;
    struct fltsim_ps_process *ps = calloc(1, sizeof(*ps));
    if (ps == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    fltsim__ps_lock();
    PEPROCESS old = pid != 0 ? fltsim__process_object_find(pid) : NULL;
    if (pid == 0) {
        pid = free_ps_id_locked();
    } else if (old != NULL && np->program) {
        fltsim__process_object_retire(old);
    } else if (old != NULL) {
        fltsim__ps_unlock();
        free(ps);
        return fltsim__fail(STATUS_OBJECT_NAME_COLLISION,
                            "%s: process id %lu is taken (a process not yet deleted)", api,
                            (unsigned long)pid);
    }
    ULONG tid = np->tid;
    if (tid == 0) {
        tid = pid + 4;
        while (fltsim__process_object_find(tid) != NULL ||
               fltsim__thread_object_find(tid, 0) != NULL)
            tid += 4;
    }
    PEPROCESS process = fltsim__process_object(pid);
    PETHREAD thread = process != NULL ? fltsim__thread_object_find(tid, pid) : NULL;
    if (thread == NULL) {
        fltsim__ps_unlock();
        free(ps);
        if (process != NULL)
            fltsim__process_object_retire(process);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    ps->sys = sys;
    ps->program = np->program;
    ps->parent_id = np->parent;
    ps->main_thread_id = tid;
    ps->create_time = fltsim__system_time_precise();
    ps->exit_status = STATUS_PENDING;
    ps->refs = 1; /* its own, until it exits */
    set_image(ps, np->image, np->image_count);
    process->ps = ps;
    fltsim__ps_unlock();

    UNICODE_STRING command_line = {
        .Buffer = np->command != NULL ? (PWCH)np->command : ps->image.Buffer,
        .Length =
            np->command != NULL ? (USHORT)(np->command_count * sizeof(WCHAR)) : ps->image.Length,
    };
    command_line.MaximumLength = command_line.Length;
    PS_CREATE_NOTIFY_INFO info = {
        .Size = sizeof(info),
        .ParentProcessId = (HANDLE)(ULONG_PTR)np->parent,
        .CreatingThreadId = {PsGetCurrentProcessId(), PsGetCurrentThreadId()},
        .ImageFileName = &ps->image,
        .CommandLine = &command_line,
        .CreationStatus = STATUS_SUCCESS,
    };
    info.FileOpenNameAvailable = 1;
    NTSTATUS status = fltsim__ps_notify_create(sys, process, tid, &info);
    trace_process(sys, FLTSIM_EV_PROCESS_CREATE, process, ps, status);
    if (!NT_SUCCESS(status)) {
        /* Denied: the process ends at once with that status, and its exit
         * is notified as any other. */
        fltsim_ps_exit(sys, pid, status);
        return fltsim__fail(status, "%s: %s: a process-notify routine denied the creation (0x%08x)",
                            api, np->name, (unsigned)status);
    }
    *out_pid = pid;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim_ps_create(fltsim_system *sys, const struct fltsim_ps_params *params,
                          ULONG *process_id)
{
    static const char api[] = "fltsim_ps_create";
    if (process_id != NULL)
        *process_id = 0;
    if (sys == NULL || params == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: a system and params are required", api);
    WCHAR image[FLTSIM_PS_IMAGE_MAX];
    size_t image_count = 0;
    if (!image_path(params->image, image, &image_count))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: image '%s' must be a file name or an NT path, UTF-8, of at "
                            "most %d characters",
                            api, params->image != NULL ? params->image : "(null)",
                            FLTSIM_PS_IMAGE_MAX - 1);
    WCHAR command[FLTSIM_PS_IMAGE_MAX];
    size_t command_count = 0;
    if (params->command_line != NULL) {
        command_count = fltsim_utf8_to_utf16(params->command_line, command, FLTSIM_PS_IMAGE_MAX);
        if (command_count == (size_t)-1)
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "%s: the command line is no UTF-8 or longer than %d characters",
                                api, FLTSIM_PS_IMAGE_MAX - 1);
    }
    ULONG parent = params->parent_id != 0 ? params->parent_id : caller_process_id();
    if (params->parent_id != 0 && params->parent_id != FLTSIM_SYSTEM_PROCESS_ID) {
        PEPROCESS p = fltsim__process_object_find(params->parent_id);
        fltsim__ps_lock();
        struct fltsim_ps_process *pps = p != NULL ? fltsim__ps_of_locked(p) : NULL;
        bool live = pps != NULL && pps->exit_status == STATUS_PENDING;
        fltsim__ps_unlock();
        if (!live)
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "%s: parent process %lu is no live process", api,
                                (unsigned long)params->parent_id);
    }
    ULONG pid = params->process_id;
    if (pid != 0 && (pid % 4 != 0 || pid == FLTSIM_SYSTEM_PROCESS_ID))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: process id %lu: ids are multiples of 4, and 4 is the System "
                            "process",
                            api, (unsigned long)pid);
    struct new_process np = {
        .sys = sys,
        .image = image,
        .image_count = image_count,
        .command = params->command_line != NULL ? command : NULL,
        .command_count = command_count,
        .parent = parent,
        .pid = pid,
        .name = params->image,
    };
    ULONG made = 0;
    NTSTATUS status = create_process(&np, &made);
    if (NT_SUCCESS(status) && process_id != NULL)
        *process_id = made;
    return status;
}

NTSTATUS fltsim_ps_exit(fltsim_system *sys, ULONG process_id, NTSTATUS exit_status)
{
    static const char api[] = "fltsim_ps_exit";
    if (sys == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: a system is required", api);
    if (exit_status == STATUS_PENDING)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: STATUS_PENDING is the status of a running process", api);
    PEPROCESS process = fltsim__process_object_find(process_id);
    fltsim__ps_lock();
    struct fltsim_ps_process *ps = process != NULL ? process->ps : NULL;
    bool ours = ps != NULL && !ps->implicit && ps->sys == sys;
    bool running = ours && ps->exit_status == STATUS_PENDING;
    if (running)
        ps->exit_status = exit_status;
    ULONG tid = ours ? ps->main_thread_id : 0;
    fltsim__ps_unlock();
    if (!ours)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: process %lu is no process fltsim_ps_create made in this system",
                            api, (unsigned long)process_id);
    if (!running)
        return fltsim__fail(STATUS_PROCESS_IS_TERMINATING, "%s: process %lu has exited", api,
                            (unsigned long)process_id);
    fltsim__ps_notify_exit(sys, process, tid);
    trace_process(sys, FLTSIM_EV_PROCESS_EXIT, process, ps, exit_status);
    fltsim__ps_handles_process_exited(process);
    LONG_PTR left;
    fltsim__ps_reference(process, -1, &left); /* its own */
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__ps_program_created(fltsim_system *sys, ULONG process_id, ULONG thread_id,
                                    const char *name)
{
    WCHAR image[FLTSIM_PS_IMAGE_MAX];
    size_t image_count = 0;
    if (!image_path(name, image, &image_count))
        image_path("program.exe", image, &image_count); /* the name was checked: too long */
    struct new_process np = {
        .sys = sys,
        .image = image,
        .image_count = image_count,
        .parent = caller_process_id(),
        .pid = process_id,
        .tid = thread_id,
        .program = true,
        .name = name,
    };
    ULONG made;
    return create_process(&np, &made);
}

void fltsim__ps_program_exited(fltsim_system *sys, ULONG process_id, ULONG exit_code)
{
    /* A denied start has exited already: nothing more to notify. */
    PEPROCESS process = fltsim__process_object_find(process_id);
    fltsim__ps_lock();
    bool running = process != NULL && process->ps != NULL && !process->ps->implicit &&
                   process->ps->sys == sys && process->ps->exit_status == STATUS_PENDING;
    fltsim__ps_unlock();
    if (running)
        fltsim_ps_exit(sys, process_id,
                       exit_code == (ULONG)STATUS_PENDING ? 0 : (NTSTATUS)exit_code);
}
