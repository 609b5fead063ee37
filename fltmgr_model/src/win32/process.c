/*
 * Simulated processes (fltsim/program.h): starting a program's main on a
 * thread of its own process id, the threads it creates (CreateThread), how
 * a process ends (main's return, ExitProcess, TerminateProcess, the last
 * thread's exit, an unhandled Ctrl+C) and what is done then: its threads
 * leave their waits and their code (longjmp to their start), its handles are
 * closed, its heap is freed. Also the process's handle table.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/executor.h"
#include "fltmgr/user_side.h"
#include "fltmgr/section_internal.h"
#include "nt/ps_internal.h"
#include "win32_internal.h"

/* ---- the state ---- */

struct fltsim_w32 *fltsim__w32_locked(fltsim_system *sys)
{
    if (sys->win32 == NULL) {
        struct fltsim_w32 *w = calloc(1, sizeof(*w));
        if (w == NULL)
            return NULL;
        InitializeListHead(&w->processes);
        InitializeListHead(&w->names);
        w->next_pid = FLTSIM_W32_FIRST_PID;
        w->next_tid = FLTSIM_W32_FIRST_TID;
        w->next_handle = 0x100;
        sys->win32 = w;
    }
    return sys->win32;
}

ULONG fltsim__w32_handle_value_locked(fltsim_system *sys)
{
    struct fltsim_w32 *w = fltsim__w32_locked(sys);
    static ULONG fallback = 0x80000000u; /* out of memory: still unique enough */
    if (w == NULL)
        return fallback += 4;
    ULONG v = w->next_handle;
    w->next_handle += 4;
    return v;
}

fltsim_system *fltsim__w32_system(void)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->w32 != NULL)
        return t->w32->proc->sys;
    return t->user_sys != NULL ? t->user_sys : t->sys;
}

fltsim_system *fltsim__w32_fltlib_system(const char *api)
{
    fltsim_system *sys = fltsim__w32_system();
    fltsim__w32_checkpoint(); /* a thread of an ending process leaves before acting */
    if (sys == NULL)
        fltsim__fail(STATUS_INVALID_PARAMETER,
                     "%s: called outside any system's thread (start the caller with "
                     "fltsim_thread_spawn)",
                     api);
    return sys;
}

/* ---- handles ---- */

void fltsim__w32_ref_locked(struct w32_object *obj)
{
    obj->refs++;
}

static void iocp_free_locked(struct w32_iocp *q)
{
    while (!IsListEmpty(&q->packets))
        free(CONTAINING_RECORD(RemoveHeadList(&q->packets), struct w32_packet, link));
    free(q);
}

void fltsim__w32_unref_locked(fltsim_system *sys, struct w32_object *obj)
{
    (void)sys;
    if (--obj->refs > 0)
        return;
    if (obj->name != NULL)
        fltsim__w32_name_drop_locked(obj);
    switch (obj->kind) {
    case W32_EVENT:
    case W32_SEMAPHORE:
        free(obj);
        break;
    case W32_IOCP:
        iocp_free_locked((struct w32_iocp *)obj);
        break;
    case W32_SECTION:
        fltsim__w32_section_free_locked(obj);
        break;
    case W32_THREAD:
    case W32_PROCESS:
        break; /* fltsim_process_free's */
    }
}

HANDLE fltsim__w32_handle_new_locked(struct fltsim_process *proc, struct w32_object *obj)
{
    if (proc->handle_count == proc->handle_cap) {
        size_t cap = proc->handle_cap == 0 ? 16 : proc->handle_cap * 2;
        struct w32_handle *h = realloc(proc->handles, cap * sizeof(*h));
        if (h == NULL) {
            fltsim__w32_unref_locked(proc->sys, obj);
            return NULL;
        }
        proc->handles = h;
        proc->handle_cap = cap;
    }
    ULONG value = fltsim__w32_handle_value_locked(proc->sys);
    proc->handles[proc->handle_count++] = (struct w32_handle){value, obj};
    return (HANDLE)(ULONG_PTR)value;
}

struct w32_object *fltsim__w32_object_locked(HANDLE h, enum w32_kind kind)
{
    struct w32_thread *self = fltsim__w32_self();
    if (self == NULL)
        return NULL;
    struct fltsim_process *proc = self->proc;
    if (h == (HANDLE)(LONG_PTR)-1) /* GetCurrentProcess() */
        return kind == 0 || kind == W32_PROCESS ? &proc->h : NULL;
    if (h == (HANDLE)(LONG_PTR)-2) /* GetCurrentThread() */
        return kind == 0 || kind == W32_THREAD ? &self->h : NULL;
    for (size_t i = 0; i < proc->handle_count; i++)
        if ((ULONG_PTR)proc->handles[i].value == (ULONG_PTR)h)
            return kind == 0 || proc->handles[i].obj->kind == kind ? proc->handles[i].obj : NULL;
    return NULL;
}

/* sys->lock held: what closing a handle does to its object. */
static void close_object_locked(fltsim_system *sys, struct w32_object *obj)
{
    if (obj->kind == W32_IOCP) {
        ((struct w32_iocp *)obj)->closed = true;
        fltsim__broadcast_locked(sys);
    }
    fltsim__w32_unref_locked(sys, obj);
}

/* Closes a handle of proc's table (of kind, 0: any); false when there is
 * none. */
static bool close_handle_locked(struct fltsim_process *proc, HANDLE h, enum w32_kind kind)
{
    for (size_t i = 0; i < proc->handle_count; i++) {
        if ((ULONG_PTR)proc->handles[i].value != (ULONG_PTR)h ||
            (kind != 0 && proc->handles[i].obj->kind != kind))
            continue;
        struct w32_object *obj = proc->handles[i].obj;
        memmove(&proc->handles[i], &proc->handles[i + 1],
                (proc->handle_count - i - 1) * sizeof(proc->handles[0]));
        proc->handle_count--;
        close_object_locked(proc->sys, obj);
        return true;
    }
    return false;
}

bool fltsim__w32_close_kind(HANDLE h, enum w32_kind kind)
{
    struct w32_thread *self = fltsim__w32_self();
    if (self == NULL)
        return false;
    fltsim_system *sys = self->proc->sys;
    uv_mutex_lock(&sys->lock);
    bool done = close_handle_locked(self->proc, h, kind);
    uv_mutex_unlock(&sys->lock);
    return done;
}

BOOL CloseHandle(HANDLE hObject)
{
    fltsim_system *sys = fltsim__w32_system();
    if (sys == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    struct w32_thread *self = fltsim__w32_self();
    bool done = false;
    if (self != NULL) {
        uv_mutex_lock(&sys->lock);
        done = close_handle_locked(self->proc, hObject, 0);
        uv_mutex_unlock(&sys->lock);
    }
    if (!done)
        done = fltsim__port_close_handle(sys, hObject);
    if (!done)
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
    fltsim__w32_checkpoint();
    return done ? TRUE : FALSE;
}

/* ---- threads ---- */

void fltsim__w32_checkpoint(void)
{
    struct w32_thread *self = fltsim__w32_self();
    if (self == NULL)
        return;
    fltsim_system *sys = self->proc->sys;
    uv_mutex_lock(&sys->lock);
    bool ending = self->proc->ending;
    uv_mutex_unlock(&sys->lock);
    if (ending) {
        fltsim__port_thread_gets_end(sys, self, true); /* its OVERLAPPEDs still exist here */
        longjmp(self->unwind, 1);
    }
}

/* sys->lock held: the process ends with code (the first end's code stays). */
static void end_locked(struct fltsim_process *proc, DWORD code)
{
    if (proc->ending)
        return;
    proc->ending = true;
    proc->exit_code = code;
    fltsim__broadcast_locked(proc->sys);
}

/* The last thread finished: handles closed, heap freed, then exited. */
static void process_finish(struct fltsim_process *proc)
{
    fltsim_system *sys = proc->sys;
    fltsim__ps_program_exited(sys, proc->pid, proc->exit_code); /* its exit is notified */
    uv_mutex_lock(&sys->lock);
    while (proc->handle_count > 0) {
        struct w32_object *obj = proc->handles[0].obj;
        memmove(&proc->handles[0], &proc->handles[1],
                (proc->handle_count - 1) * sizeof(proc->handles[0]));
        proc->handle_count--;
        close_object_locked(sys, obj);
    }
    uv_mutex_unlock(&sys->lock);
    fltsim__port_close_process(sys, proc);
    fltsim__fltlib_close_process(sys, proc);
    fltsim__sections_process_end(sys, proc->pid);
    fltsim__w32_heap_release(proc);
    uv_mutex_lock(&sys->lock);
    proc->exited = true;
    fltsim__broadcast_locked(sys);
    uv_mutex_unlock(&sys->lock);
}

static bool resumed(void *ctx)
{
    return !((struct w32_thread *)ctx)->suspended;
}

/* Runs main or wmain; returns its result. */
static DWORD run_main(struct fltsim_process *proc)
{
    if (proc->main != NULL)
        return (DWORD)proc->main(proc->argc, proc->argv);
    return (DWORD)proc->wmain(proc->argc, proc->wargv);
}

/* The body of a thread; returns its exit code, or leaves by longjmp. */
static DWORD thread_body(struct w32_thread *t)
{
    fltsim_system *sys = t->proc->sys;
    uv_mutex_lock(&sys->lock);
    enum w32_wait_result r = fltsim__w32_wait_locked(sys, "its start (CREATE_SUSPENDED)",
                                                     resumed, t, 0);
    uv_mutex_unlock(&sys->lock);
    if (r == W32_ENDING)
        fltsim__w32_checkpoint();
    fltsim__w32_checkpoint();
    if (!t->is_main)
        return t->start(t->arg);
    DWORD code = run_main(t->proc);
    uv_mutex_lock(&sys->lock);
    end_locked(t->proc, code); /* returning from main is ExitProcess */
    uv_mutex_unlock(&sys->lock);
    return code;
}

/* Runs t's body until it returns or leaves (longjmp to here). Its own
 * function, with t volatile, so that nothing in a register lives across
 * the setjmp. */
static void thread_run(struct w32_thread *volatile t)
{
    if (setjmp(t->unwind) == 0) {
        DWORD code = thread_body(t);
        fltsim_system *sys = t->proc->sys;
        uv_mutex_lock(&sys->lock);
        t->exit_code = code;
        t->exit_set = true;
        uv_mutex_unlock(&sys->lock);
    }
}

static void thread_main(void *arg)
{
    struct w32_thread *t = arg;
    struct fltsim_process *proc = t->proc;
    fltsim_system *sys = proc->sys;
    fltsim__tls()->w32 = t;
    fltsim__tls()->user_sys = sys;
    thread_run(t);
    /* Its thread-exit routines run on it (the first thread's with its
     * process's exit). */
    if (!t->is_main)
        fltsim__ps_notify_thread(sys, proc->pid, t->tid, false);
    /* Returned, or left (ExitThread set the code; an ending process's is
     * the process's). */
    uv_mutex_lock(&sys->lock);
    if (!t->exit_set)
        t->exit_code = proc->exit_code;
    t->exited = true;
    bool last = --proc->live == 0;
    if (last)
        end_locked(proc, t->exit_code); /* the last thread's exit ends it */
    fltsim__broadcast_locked(sys);
    uv_mutex_unlock(&sys->lock);
    if (last)
        process_finish(proc);
    fltsim__tls()->w32 = NULL;
}

/* sys->lock held: a new thread of proc (not started). */
static struct w32_thread *thread_new_locked(struct fltsim_process *proc,
                                            LPTHREAD_START_ROUTINE start, void *arg,
                                            bool suspended)
{
    struct w32_thread *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    struct fltsim_w32 *w = fltsim__w32_locked(proc->sys);
    t->h.kind = W32_THREAD;
    t->h.refs = 1; /* the process's list */
    t->proc = proc;
    t->tid = w->next_tid;
    w->next_tid += 4;
    t->start = start;
    t->arg = arg;
    t->suspended = suspended;
    InsertTailList(&proc->threads, &t->link);
    proc->live++;
    return t;
}

/* Starts t (sys->lock not held); false when no thread could be made (t is
 * then finished, as if it had returned at once). */
static bool thread_start(struct w32_thread *t)
{
    fltsim_system *sys = t->proc->sys;
    /* A thread after the first: the drivers' thread-create routines run on
     * the creating thread (the first is notified with its process). */
    if (!t->is_main)
        fltsim__ps_notify_thread(sys, t->proc->pid, t->tid, true);
    NTSTATUS status = fltsim_thread_spawn(sys, t->proc->pid, t->tid, thread_main, t, &t->os);
    if (NT_SUCCESS(status))
        return true;
    uv_mutex_lock(&sys->lock);
    t->exited = true;
    t->exit_code = (DWORD)status;
    bool last = --t->proc->live == 0;
    if (last)
        end_locked(t->proc, (DWORD)status);
    uv_mutex_unlock(&sys->lock);
    if (last)
        process_finish(t->proc);
    return false;
}

HANDLE CreateThread(LPSECURITY_ATTRIBUTES lpThreadAttributes, SIZE_T dwStackSize,
                    LPTHREAD_START_ROUTINE lpStartAddress, LPVOID lpParameter,
                    DWORD dwCreationFlags, LPDWORD lpThreadId)
{
    (void)lpThreadAttributes;
    (void)dwStackSize;
    struct w32_thread *self = fltsim__w32_self();
    if (self == NULL || lpStartAddress == NULL) {
        fltsim__w32_set_error(self == NULL ? ERROR_INVALID_HANDLE : ERROR_INVALID_PARAMETER);
        return NULL;
    }
    struct fltsim_process *proc = self->proc;
    fltsim_system *sys = proc->sys;
    uv_mutex_lock(&sys->lock);
    struct w32_thread *t =
        proc->ending ? NULL
                     : thread_new_locked(proc, lpStartAddress, lpParameter,
                                         (dwCreationFlags & CREATE_SUSPENDED) != 0);
    HANDLE h = NULL;
    if (t != NULL) {
        t->h.refs++;
        h = fltsim__w32_handle_new_locked(proc, &t->h);
    }
    uv_mutex_unlock(&sys->lock);
    if (t == NULL) {
        fltsim__w32_set_error(ERROR_NOT_ENOUGH_MEMORY);
        fltsim__w32_checkpoint();
        return NULL;
    }
    if (lpThreadId != NULL)
        *lpThreadId = t->tid;
    if (!thread_start(t)) {
        fltsim__w32_set_error(ERROR_NOT_ENOUGH_MEMORY);
        return NULL; /* the handle stays, to a thread that has exited */
    }
    if (h == NULL)
        fltsim__w32_set_error(ERROR_NOT_ENOUGH_MEMORY);
    fltsim__w32_checkpoint();
    return h;
}

DWORD ResumeThread(HANDLE hThread)
{
    fltsim_system *sys = fltsim__w32_system();
    if (sys == NULL)
        return (DWORD)-1;
    uv_mutex_lock(&sys->lock);
    struct w32_thread *t = (struct w32_thread *)fltsim__w32_object_locked(hThread, W32_THREAD);
    DWORD previous = (DWORD)-1;
    if (t != NULL) {
        previous = t->suspended ? 1 : 0;
        t->suspended = false;
        fltsim__broadcast_locked(sys);
    }
    uv_mutex_unlock(&sys->lock);
    if (t == NULL)
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
    return previous;
}

static BOOL exit_code_of(HANDLE h, enum w32_kind kind, LPDWORD out)
{
    fltsim_system *sys = fltsim__w32_system();
    if (sys == NULL || out == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    uv_mutex_lock(&sys->lock);
    struct w32_object *obj = fltsim__w32_object_locked(h, kind);
    if (obj != NULL && kind == W32_THREAD) {
        struct w32_thread *t = (struct w32_thread *)obj;
        *out = t->exited ? t->exit_code : STILL_ACTIVE;
    } else if (obj != NULL) {
        struct fltsim_process *p = (struct fltsim_process *)obj;
        *out = p->exited ? p->exit_code : STILL_ACTIVE;
    }
    uv_mutex_unlock(&sys->lock);
    if (obj == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    return TRUE;
}

BOOL GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode)
{
    return exit_code_of(hThread, W32_THREAD, lpExitCode);
}

BOOL GetExitCodeProcess(HANDLE hProcess, LPDWORD lpExitCode)
{
    return exit_code_of(hProcess, W32_PROCESS, lpExitCode);
}

void ExitThread(DWORD dwExitCode)
{
    struct w32_thread *self = fltsim__w32_self();
    if (self == NULL) {
        fltsim__fail(STATUS_INVALID_PARAMETER, "ExitThread: called outside a simulated process");
        abort();
    }
    fltsim_system *sys = self->proc->sys;
    uv_mutex_lock(&sys->lock);
    self->exit_code = dwExitCode;
    self->exit_set = true;
    uv_mutex_unlock(&sys->lock);
    fltsim__port_thread_gets_end(sys, self, false); /* a thread's I/O ends with it */
    longjmp(self->unwind, 1);
}

void ExitProcess(UINT uExitCode)
{
    struct w32_thread *self = fltsim__w32_self();
    if (self == NULL) {
        fltsim__fail(STATUS_INVALID_PARAMETER, "ExitProcess: called outside a simulated process");
        abort();
    }
    fltsim_system *sys = self->proc->sys;
    uv_mutex_lock(&sys->lock);
    end_locked(self->proc, uExitCode);
    uv_mutex_unlock(&sys->lock);
    fltsim__port_thread_gets_end(sys, self, true);
    longjmp(self->unwind, 1);
}

BOOL TerminateProcess(HANDLE hProcess, UINT uExitCode)
{
    fltsim_system *sys = fltsim__w32_system();
    if (sys == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    uv_mutex_lock(&sys->lock);
    struct fltsim_process *p =
        (struct fltsim_process *)fltsim__w32_object_locked(hProcess, W32_PROCESS);
    if (p != NULL)
        end_locked(p, uExitCode);
    uv_mutex_unlock(&sys->lock);
    if (p == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    fltsim__w32_checkpoint(); /* its own process: it leaves here */
    return TRUE;
}

DWORD GetCurrentThreadId(void)
{
    struct w32_thread *self = fltsim__w32_self();
    return self != NULL ? self->tid : fltsim_thread_id();
}

DWORD GetCurrentProcessId(void)
{
    struct w32_thread *self = fltsim__w32_self();
    return self != NULL ? self->proc->pid : fltsim_thread_process_id();
}

HANDLE GetCurrentProcess(void)
{
    return (HANDLE)(LONG_PTR)-1;
}

HANDLE GetCurrentThread(void)
{
    return (HANDLE)(LONG_PTR)-2;
}

BOOL SetConsoleCtrlHandler(PHANDLER_ROUTINE HandlerRoutine, BOOL Add)
{
    struct w32_thread *self = fltsim__w32_self();
    if (self == NULL || HandlerRoutine == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    struct fltsim_process *proc = self->proc;
    uv_mutex_lock(&proc->sys->lock);
    BOOL ok = FALSE;
    if (Add && proc->ctrl_handler_count < W32_MAX_CTRL_HANDLERS) {
        proc->ctrl_handlers[proc->ctrl_handler_count++] = HandlerRoutine;
        ok = TRUE;
    } else if (!Add) {
        for (int i = proc->ctrl_handler_count - 1; i >= 0 && !ok; i--)
            if (proc->ctrl_handlers[i] == HandlerRoutine) {
                memmove(&proc->ctrl_handlers[i], &proc->ctrl_handlers[i + 1],
                        (size_t)(proc->ctrl_handler_count - i - 1) * sizeof(PHANDLER_ROUTINE));
                proc->ctrl_handler_count--;
                ok = TRUE;
            }
    }
    uv_mutex_unlock(&proc->sys->lock);
    if (!ok)
        fltsim__w32_set_error(Add ? ERROR_NOT_ENOUGH_MEMORY : ERROR_INVALID_PARAMETER);
    return ok;
}

/* The thread a Ctrl+C makes: the handlers, last added first. */
static DWORD WINAPI ctrl_c_thread(LPVOID arg)
{
    struct fltsim_process *proc = arg;
    fltsim_system *sys = proc->sys;
    for (int i = W32_MAX_CTRL_HANDLERS - 1; i >= 0; i--) {
        uv_mutex_lock(&sys->lock);
        PHANDLER_ROUTINE h = i < proc->ctrl_handler_count ? proc->ctrl_handlers[i] : NULL;
        uv_mutex_unlock(&sys->lock);
        if (h != NULL && h(CTRL_C_EVENT))
            return 0;
    }
    ExitProcess((UINT)STATUS_CONTROL_C_EXIT);
}

/* ---- the C API ---- */

static char *copy_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c != NULL)
        memcpy(c, s, n);
    return c;
}

/* argv's UTF-16 copy for wmain (malloc'd; UTF-8 never has fewer bytes than
 * UTF-16 units), or NULL with *invalid set for invalid UTF-8. */
static WCHAR *wide_of(const char *s, bool *invalid)
{
    size_t n = strlen(s) + 1;
    WCHAR *w = malloc(n * sizeof(WCHAR));
    if (w != NULL && fltsim_utf8_to_utf16(s, w, n) == (size_t)-1) {
        free(w);
        w = NULL;
        *invalid = true;
    }
    return w;
}

static void process_free_memory(struct fltsim_process *p)
{
    for (int i = 0; i < p->argc + 1; i++) {
        if (p->argv != NULL)
            free(p->argv[i]);
        if (p->wargv != NULL)
            free(p->wargv[i]);
    }
    free(p->argv);
    free(p->wargv);
    free(p->handles);
    free(p->out);
    free(p->in);
    fltsim__w32_heap_unregister(p);
    free(p->blocks);
    uv_mutex_destroy(&p->out_lock);
    uv_mutex_destroy(&p->heap_lock);
    free(p);
}

NTSTATUS fltsim_process_start(fltsim_system *sys, const struct fltsim_process_params *params,
                              fltsim_process **out)
{
    const char *api = "fltsim_process_start";
    if (out != NULL)
        *out = NULL;
    if (sys == NULL || params == NULL || out == NULL || params->name == NULL ||
        (params->main == NULL) == (params->wmain == NULL) || params->argc < 0 ||
        (params->argc > 0 && params->argv == NULL))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: sys, params with a name and exactly one of main and wmain, and "
                            "out are required",
                            api);
    struct fltsim_process *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (uv_mutex_init(&p->out_lock) != 0) {
        free(p);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    if (uv_mutex_init(&p->heap_lock) != 0) {
        uv_mutex_destroy(&p->out_lock);
        free(p);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    p->h.kind = W32_PROCESS;
    p->h.refs = 1;
    p->sys = sys;
    snprintf(p->name, sizeof(p->name), "%s", params->name);
    p->main = params->main;
    p->wmain = params->wmain;
    p->output = params->output;
    p->output_ctx = params->output_ctx;
    InitializeListHead(&p->threads);
    InitializeListHead(&p->link);
    InitializeListHead(&p->heap_link);
    p->argc = params->argc + 1;
    bool ok = true;
    p->argv = calloc((size_t)p->argc + 1, sizeof(char *));
    p->wargv = p->wmain != NULL ? calloc((size_t)p->argc + 1, sizeof(WCHAR *)) : NULL;
    ok = p->argv != NULL && (p->wmain == NULL || p->wargv != NULL);
    int invalid_arg = -1; /* the argument that is no UTF-8 */
    for (int i = 0; ok && i < p->argc; i++) {
        const char *a = i == 0 ? params->name : params->argv[i - 1];
        p->argv[i] = copy_str(a != NULL ? a : "");
        ok = p->argv[i] != NULL;
        if (ok && p->wargv != NULL) {
            bool invalid = false;
            p->wargv[i] = wide_of(p->argv[i], &invalid);
            ok = p->wargv[i] != NULL;
            if (invalid)
                invalid_arg = i;
        }
    }
    if (!ok) {
        process_free_memory(p);
        if (invalid_arg >= 0)
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "%s: %s: argv[%d] is not UTF-8 (wmain's arguments are "
                                "converted to UTF-16)",
                                api, params->name, invalid_arg);
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
    }

    uv_mutex_lock(&sys->lock);
    struct fltsim_w32 *w = fltsim__w32_locked(sys);
    NTSTATUS status = w == NULL ? STATUS_INSUFFICIENT_RESOURCES : STATUS_SUCCESS;
    if (NT_SUCCESS(status)) {
        ULONG pid = params->process_id;
        bool taken;
        do {
            if (params->process_id == 0) {
                pid = w->next_pid;
                w->next_pid += 4;
            }
            taken = pid == FLTSIM_SYSTEM_PROCESS_ID;
            for (PLIST_ENTRY e = w->processes.Flink; e != &w->processes && !taken; e = e->Flink)
                taken = CONTAINING_RECORD(e, struct fltsim_process, link)->pid == pid;
        } while (taken && params->process_id == 0);
        if (taken)
            status = fltsim__fail(STATUS_OBJECT_NAME_COLLISION,
                                  "%s: process id %lu is taken (a live process or the System "
                                  "process)",
                                  api, (unsigned long)pid);
        p->pid = pid;
    }
    struct w32_thread *t = NT_SUCCESS(status) ? thread_new_locked(p, NULL, NULL, false) : NULL;
    if (NT_SUCCESS(status) && t == NULL)
        status = STATUS_INSUFFICIENT_RESOURCES;
    if (!NT_SUCCESS(status)) {
        uv_mutex_unlock(&sys->lock);
        process_free_memory(p);
        return status;
    }
    t->is_main = true;
    InsertTailList(&w->processes, &p->link);
    uv_mutex_unlock(&sys->lock);
    fltsim__w32_heap_register(p);
    /* Its creation is notified (nt/ps_objects.c); a driver's denial ends it
     * before main runs, and the start fails with that status. */
    NTSTATUS denied = fltsim__ps_program_created(sys, p->pid, t->tid, params->name);
    if (!NT_SUCCESS(denied)) {
        uv_mutex_lock(&sys->lock);
        end_locked(p, (DWORD)denied);
        uv_mutex_unlock(&sys->lock);
    }
    thread_start(t); /* a failure ends the process at once, with its status */
    if (!NT_SUCCESS(denied)) {
        fltsim_process_free(p);
        return denied;
    }
    *out = p;
    return STATUS_SUCCESS;
}

/* sys->lock held: whether thread t waits for what it has not got. */
static bool thread_idle_locked(struct w32_thread *t)
{
    if (t->exited)
        return true;
    return t->waiting_in != NULL && t->deadline == 0 && !t->ready(t->ready_ctx);
}

static bool output_has(struct fltsim_process *p, const char *text)
{
    uv_mutex_lock(&p->out_lock);
    bool found = p->out != NULL && strstr(p->out, text) != NULL;
    uv_mutex_unlock(&p->out_lock);
    return found;
}

/* sys->lock held: whether the wait is over, and with what status. */
static bool until_met_locked(struct fltsim_process *p, enum fltsim_process_until until,
                             const char *text, NTSTATUS *status)
{
    *status = STATUS_SUCCESS;
    if (until == FLTSIM_PROCESS_OUTPUT && output_has(p, text))
        return true;
    if (p->exited) {
        if (until != FLTSIM_PROCESS_EXIT)
            *status = STATUS_PROCESS_IS_TERMINATING;
        return true;
    }
    if (until != FLTSIM_PROCESS_IDLE)
        return false;
    for (PLIST_ENTRY e = p->threads.Flink; e != &p->threads; e = e->Flink)
        if (!thread_idle_locked(CONTAINING_RECORD(e, struct w32_thread, link)))
            return false;
    return true;
}

NTSTATUS fltsim_process_wait(fltsim_process *process, enum fltsim_process_until until,
                             const char *text, ULONG timeout_ms)
{
    if (process == NULL || (until == FLTSIM_PROCESS_OUTPUT && text == NULL) ||
        until > FLTSIM_PROCESS_OUTPUT)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_process_wait: a process, and text for OUTPUT, are required");
    fltsim_system *sys = process->sys;
    ULONG64 deadline = timeout_ms != 0 ? fltsim__now_ns() + (ULONG64)timeout_ms * 1000000u : 0;
    uv_mutex_lock(&sys->lock);
    sys->win32->idle_waiters++;
    /* Not through fltsim__w32_wait_locked: a program thread waiting here for
     * another process is busy, not idle, for that one's waiters. */
    NTSTATUS status;
    for (;;) {
        if (until_met_locked(process, until, text, &status))
            break;
        if (deadline != 0 && fltsim__now_ns() >= deadline) {
            status = STATUS_TIMEOUT;
            break;
        }
        fltsim__sys_wait_locked(sys, deadline);
    }
    sys->win32->idle_waiters--;
    uv_mutex_unlock(&sys->lock);
    return status;
}

NTSTATUS fltsim_process_terminate(fltsim_process *process, ULONG exit_code)
{
    if (process == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "fltsim_process_terminate: no process");
    fltsim_system *sys = process->sys;
    uv_mutex_lock(&sys->lock);
    bool ending = process->ending;
    end_locked(process, exit_code);
    uv_mutex_unlock(&sys->lock);
    return ending ? STATUS_PROCESS_IS_TERMINATING : STATUS_SUCCESS;
}

NTSTATUS fltsim_process_ctrl_c(fltsim_process *process)
{
    if (process == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "fltsim_process_ctrl_c: no process");
    fltsim_system *sys = process->sys;
    uv_mutex_lock(&sys->lock);
    struct w32_thread *t =
        process->ending ? NULL : thread_new_locked(process, ctrl_c_thread, process, false);
    bool ending = process->ending;
    uv_mutex_unlock(&sys->lock);
    if (t == NULL)
        return ending ? STATUS_PROCESS_IS_TERMINATING : STATUS_INSUFFICIENT_RESOURCES;
    thread_start(t);
    return STATUS_SUCCESS;
}

bool fltsim_process_exited(fltsim_process *process, ULONG *exit_code)
{
    if (process == NULL)
        return false;
    uv_mutex_lock(&process->sys->lock);
    bool exited = process->exited;
    if (exited && exit_code != NULL)
        *exit_code = process->exit_code;
    uv_mutex_unlock(&process->sys->lock);
    return exited;
}

ULONG fltsim_process_id(const fltsim_process *process)
{
    return process->pid;
}

const char *fltsim_process_name(const fltsim_process *process)
{
    return process->name;
}

size_t fltsim_process_output(fltsim_process *process, char *buf, size_t size)
{
    if (process == NULL || (buf == NULL && size > 0)) {
        if (buf != NULL && size > 0)
            buf[0] = '\0';
        return 0;
    }
    uv_mutex_lock(&process->out_lock);
    size_t len = process->out_len;
    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        if (n > 0)
            memcpy(buf, process->out, n);
        buf[n] = '\0';
    }
    uv_mutex_unlock(&process->out_lock);
    return len;
}

size_t fltsim_process_describe(fltsim_process *process, char *buf, size_t size)
{
    size_t used = 0;
    char line[160];
    if (process == NULL || (buf == NULL && size > 0)) {
        if (buf != NULL && size > 0)
            buf[0] = '\0';
        return 0;
    }
    uv_mutex_lock(&process->sys->lock);
    for (PLIST_ENTRY e = process->threads.Flink; e != &process->threads; e = e->Flink) {
        struct w32_thread *t = CONTAINING_RECORD(e, struct w32_thread, link);
        if (t->exited)
            continue;
        int n = snprintf(line, sizeof(line), "%sthread %lu: %s%s", used > 0 ? "; " : "",
                         (unsigned long)t->tid, t->waiting_in != NULL ? "in " : "",
                         t->waiting_in != NULL ? t->waiting_in : "running its own code");
        if (n <= 0)
            continue;
        /* What fits of it: the text stays one prefix of the whole. */
        if (used + 1 < size) {
            size_t room = size - 1 - used;
            memcpy(buf + used, line, (size_t)n < room ? (size_t)n : room);
        }
        used += (size_t)n;
    }
    uv_mutex_unlock(&process->sys->lock);
    if (size > 0)
        buf[used < size - 1 ? used : size - 1] = '\0';
    return used;
}

void fltsim_process_free(fltsim_process *process)
{
    if (process == NULL)
        return;
    fltsim_system *sys = process->sys;
    fltsim_process_terminate(process, 1);
    fltsim_process_wait(process, FLTSIM_PROCESS_EXIT, NULL, 0);
    /* Every thread has finished; join them (ctrl_c threads may still be
     * returning from thread_main). */
    uv_mutex_lock(&sys->lock);
    RemoveEntryList(&process->link);
    uv_mutex_unlock(&sys->lock);
    while (!IsListEmpty(&process->threads)) {
        struct w32_thread *t =
            CONTAINING_RECORD(RemoveHeadList(&process->threads), struct w32_thread, link);
        if (t->os != NULL)
            fltsim_thread_join(t->os);
        free(t);
    }
    process_free_memory(process);
}

void fltsim__w32_shutdown(fltsim_system *sys)
{
    for (;;) {
        uv_mutex_lock(&sys->lock);
        struct fltsim_w32 *w = sys->win32;
        struct fltsim_process *p =
            w == NULL || IsListEmpty(&w->processes)
                ? NULL
                : CONTAINING_RECORD(w->processes.Flink, struct fltsim_process, link);
        uv_mutex_unlock(&sys->lock);
        if (p == NULL)
            break;
        fltsim_process_free(p);
    }
    free(sys->win32);
    sys->win32 = NULL;
}
