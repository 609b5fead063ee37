/*
 * Waiting in a simulated process: the one wait every blocking Win32 and
 * fltlib routine goes through (fltsim__w32_wait_locked, which records what
 * the thread waits for so that a process's idleness and a hang's report can
 * be told, and lets an ending process take the thread out), and the
 * dispatcher objects on it: events, semaphores, threads and processes for
 * WaitForSingleObject/WaitForMultipleObjects, critical sections, Sleep. Also
 * the last error and the tick count.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec/executor.h"
#include "win32_internal.h"

/* ---- the last error ---- */

static _Thread_local DWORD other_last_error; /* threads of no process */

DWORD fltsim__w32_set_error(DWORD error)
{
    struct w32_thread *self = fltsim__w32_self();
    if (self != NULL)
        self->last_error = error;
    else
        other_last_error = error;
    return error;
}

DWORD GetLastError(void)
{
    struct w32_thread *self = fltsim__w32_self();
    return self != NULL ? self->last_error : other_last_error;
}

void SetLastError(DWORD dwErrCode)
{
    fltsim__w32_set_error(dwErrCode);
}

DWORD fltsim__w32_error_of(NTSTATUS status)
{
    switch ((ULONG)status) {
    case (ULONG)STATUS_SUCCESS:
        return ERROR_SUCCESS;
    case (ULONG)STATUS_CANCELLED:
        return ERROR_OPERATION_ABORTED;
    case (ULONG)STATUS_PORT_DISCONNECTED:
    case (ULONG)STATUS_INVALID_HANDLE:
        return ERROR_INVALID_HANDLE;
    case (ULONG)STATUS_BUFFER_TOO_SMALL:
        return ERROR_INSUFFICIENT_BUFFER;
    case (ULONG)STATUS_BUFFER_OVERFLOW:
        return ERROR_MORE_DATA;
    case (ULONG)STATUS_INSUFFICIENT_RESOURCES:
        return ERROR_NO_SYSTEM_RESOURCES;
    case (ULONG)STATUS_INVALID_PARAMETER:
        return ERROR_INVALID_PARAMETER;
    case (ULONG)STATUS_NOT_SUPPORTED:
        return ERROR_NOT_SUPPORTED;
    case (ULONG)STATUS_TIMEOUT:
        return WAIT_TIMEOUT;
    default:
        return ERROR_INVALID_FUNCTION;
    }
}

/* ---- the wait ---- */

ULONG64 fltsim__w32_deadline(DWORD ms)
{
    if (ms == INFINITE)
        return 0;
    return fltsim__now_ns() + (ULONG64)ms * 1000000u + 1; /* never 0, which is none */
}

/* What wakes a thread in fltsim__w32_wait_locked (see the loop there). */
struct w32_waker {
    struct w32_thread *self;
    bool (*ready)(void *ctx);
    void *ctx;
};

static bool w32_wakes(void *ctx)
{
    struct w32_waker *w = ctx;
    return (w->self != NULL && w->self->proc->ending) || w->ready(w->ctx);
}

enum w32_wait_result fltsim__w32_wait_locked(fltsim_system *sys, const char *api,
                                             bool (*ready)(void *ctx), void *ctx,
                                             ULONG64 deadline_ns)
{
    struct w32_thread *self = fltsim__w32_self();
    struct w32_waker waker = {self, ready, ctx};
    enum w32_wait_result result;
    bool first = true;
    for (;;) {
        /* Ending first: a thread of an ending process leaves at its next
         * call, even when what it waits for has come (it would run on in its
         * own code, and its frames, where an OVERLAPPED may be, would go). */
        if (self != NULL && self->proc->ending) {
            result = W32_ENDING;
            break;
        }
        if (ready(ctx)) {
            result = W32_READY;
            break;
        }
        if (deadline_ns != 0 && fltsim__now_ns() >= deadline_ns) {
            result = W32_TIMEOUT;
            break;
        }
        if (first && self != NULL) {
            /* Recorded for the whole wait, so that whoever looks (under the
             * lock) sees a consistent state; someone waiting for the
             * process to be idle is told once. */
            self->waiting_in = api;
            self->ready = ready;
            self->ready_ctx = ctx;
            self->deadline = deadline_ns;
            if (sys->win32 != NULL && sys->win32->idle_waiters > 0)
                fltsim__broadcast_locked(sys);
        }
        first = false;
        fltsim__sys_wait_until_locked(sys, deadline_ns, w32_wakes, &waker);
    }
    if (self != NULL)
        self->waiting_in = NULL;
    return result;
}

/* ---- dispatcher objects ---- */

static bool signaled_locked(struct w32_object *obj)
{
    switch (obj->kind) {
    case W32_EVENT:
        return ((struct w32_event *)obj)->signaled;
    case W32_SEMAPHORE:
        return ((struct w32_semaphore *)obj)->count > 0;
    case W32_THREAD:
        return ((struct w32_thread *)obj)->exited;
    case W32_PROCESS:
        return ((struct fltsim_process *)obj)->exited;
    case W32_IOCP:
    case W32_SECTION:
        break;
    }
    return false;
}

/* A wait satisfied takes what it consumes. */
static void acquire_locked(struct w32_object *obj)
{
    if (obj->kind == W32_EVENT && !((struct w32_event *)obj)->manual)
        ((struct w32_event *)obj)->signaled = false;
    else if (obj->kind == W32_SEMAPHORE)
        ((struct w32_semaphore *)obj)->count--;
}

struct multi_wait {
    struct w32_object **objects;
    DWORD count;
    bool all;
};

static bool multi_ready(void *ctx)
{
    struct multi_wait *m = ctx;
    for (DWORD i = 0; i < m->count; i++) {
        bool s = signaled_locked(m->objects[i]);
        if (s && !m->all)
            return true;
        if (!s && m->all)
            return false;
    }
    return m->all;
}

static bool waitable(const struct w32_object *obj)
{
    return obj->kind != W32_IOCP && obj->kind != W32_SECTION;
}

DWORD WaitForMultipleObjectsEx(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll,
                               DWORD dwMilliseconds, BOOL bAlertable)
{
    (void)bAlertable; /* no APCs are queued to user threads */
    fltsim_system *sys = fltsim__w32_system();
    if (sys == NULL || fltsim__w32_self() == NULL || nCount == 0 ||
        nCount > MAXIMUM_WAIT_OBJECTS || lpHandles == NULL) {
        fltsim__w32_set_error(nCount == 0 || nCount > MAXIMUM_WAIT_OBJECTS
                                  ? ERROR_INVALID_PARAMETER
                                  : ERROR_INVALID_HANDLE);
        return WAIT_FAILED;
    }
    struct w32_object *objects[MAXIMUM_WAIT_OBJECTS];
    ULONG64 deadline = fltsim__w32_deadline(dwMilliseconds);
    uv_mutex_lock(&sys->lock);
    for (DWORD i = 0; i < nCount; i++) {
        objects[i] = fltsim__w32_object_locked(lpHandles[i], 0);
        if (objects[i] == NULL || !waitable(objects[i])) {
            uv_mutex_unlock(&sys->lock);
            fltsim__w32_set_error(ERROR_INVALID_HANDLE);
            return WAIT_FAILED;
        }
    }
    for (DWORD i = 0; i < nCount; i++)
        fltsim__w32_ref_locked(objects[i]);
    struct multi_wait m = {objects, nCount, bWaitAll != 0};
    enum w32_wait_result r = fltsim__w32_wait_locked(
        sys, nCount == 1 ? "WaitForSingleObject" : "WaitForMultipleObjects", multi_ready, &m,
        deadline);
    DWORD result = WAIT_TIMEOUT;
    if (r == W32_READY) {
        for (DWORD i = 0; i < nCount; i++) {
            if (!signaled_locked(objects[i]))
                continue;
            if (!m.all) {
                acquire_locked(objects[i]);
                result = WAIT_OBJECT_0 + i;
                break;
            }
            acquire_locked(objects[i]);
            result = WAIT_OBJECT_0;
        }
    }
    for (DWORD i = 0; i < nCount; i++)
        fltsim__w32_unref_locked(sys, objects[i]);
    uv_mutex_unlock(&sys->lock);
    if (r == W32_ENDING) {
        fltsim__w32_checkpoint();
        result = WAIT_FAILED;
    }
    return result;
}

DWORD WaitForMultipleObjects(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll,
                             DWORD dwMilliseconds)
{
    return WaitForMultipleObjectsEx(nCount, lpHandles, bWaitAll, dwMilliseconds, FALSE);
}

DWORD WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds, BOOL bAlertable)
{
    return WaitForMultipleObjectsEx(1, &hHandle, FALSE, dwMilliseconds, bAlertable);
}

DWORD WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds)
{
    return WaitForMultipleObjectsEx(1, &hHandle, FALSE, dwMilliseconds, FALSE);
}

static bool never(void *ctx)
{
    (void)ctx;
    return false;
}

DWORD SleepEx(DWORD dwMilliseconds, BOOL bAlertable)
{
    (void)bAlertable;
    fltsim_system *sys = fltsim__w32_system();
    if (sys == NULL) {
        /* A thread of no system: a plain sleep. */
        struct timespec ts = {(time_t)(dwMilliseconds / 1000),
                              (long)(dwMilliseconds % 1000) * 1000000L};
        if (dwMilliseconds != INFINITE)
            nanosleep(&ts, NULL);
        return 0;
    }
    if (dwMilliseconds == 0) {
        fltsim__yield();
        fltsim__w32_checkpoint();
        return 0;
    }
    uv_mutex_lock(&sys->lock);
    enum w32_wait_result r =
        fltsim__w32_wait_locked(sys, "Sleep", never, NULL, fltsim__w32_deadline(dwMilliseconds));
    uv_mutex_unlock(&sys->lock);
    if (r == W32_ENDING)
        fltsim__w32_checkpoint();
    return 0;
}

void Sleep(DWORD dwMilliseconds)
{
    SleepEx(dwMilliseconds, FALSE);
}

ULONGLONG GetTickCount64(void)
{
    return fltsim__now_ns() / 1000000u;
}

DWORD GetTickCount(void)
{
    return (DWORD)GetTickCount64();
}

/* ---- events and semaphores ---- */

static HANDLE new_object(struct w32_object *obj)
{
    struct w32_thread *self = fltsim__w32_self();
    if (self == NULL || obj == NULL) {
        free(obj);
        fltsim__w32_set_error(self == NULL ? ERROR_INVALID_HANDLE : ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    fltsim_system *sys = self->proc->sys;
    uv_mutex_lock(&sys->lock);
    HANDLE h = fltsim__w32_handle_new_locked(self->proc, obj);
    uv_mutex_unlock(&sys->lock);
    fltsim__w32_set_error(h == NULL ? ERROR_NOT_ENOUGH_MEMORY : ERROR_SUCCESS);
    return h;
}

HANDLE CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset, BOOL bInitialState,
                    LPCWSTR lpName)
{
    (void)lpEventAttributes;
    struct w32_event *ev = calloc(1, sizeof(*ev));
    if (ev != NULL) {
        ev->h.kind = W32_EVENT;
        ev->h.refs = 1;
        ev->manual = bManualReset != 0;
        ev->signaled = bInitialState != 0;
    }
    if (lpName != NULL && lpName[0] != 0) /* an empty name is no name */
        return fltsim__w32_create_named(ev != NULL ? &ev->h : NULL, lpName);
    return new_object(ev != NULL ? &ev->h : NULL);
}

HANDLE CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset, BOOL bInitialState,
                    LPCSTR lpName)
{
    if (lpName == NULL)
        return CreateEventW(lpEventAttributes, bManualReset, bInitialState, NULL);
    LPWSTR wide = fltsim__w32_wide_name(lpName);
    HANDLE h = wide != NULL ? CreateEventW(lpEventAttributes, bManualReset, bInitialState, wide)
                            : NULL;
    free(wide);
    return h;
}

HANDLE OpenEventW(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCWSTR lpName)
{
    (void)dwDesiredAccess; /* no security descriptors: every access is granted */
    (void)bInheritHandle;  /* no child processes */
    return fltsim__w32_open_named(W32_EVENT, lpName);
}

HANDLE OpenEventA(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCSTR lpName)
{
    if (lpName == NULL)
        return OpenEventW(dwDesiredAccess, bInheritHandle, NULL);
    LPWSTR wide = fltsim__w32_wide_name(lpName);
    HANDLE h = wide != NULL ? OpenEventW(dwDesiredAccess, bInheritHandle, wide) : NULL;
    free(wide);
    return h;
}

void fltsim__w32_event_set_locked(fltsim_system *sys, struct w32_event *ev, bool signaled)
{
    ev->signaled = signaled;
    if (signaled)
        fltsim__broadcast_locked(sys);
}

static BOOL event_set(HANDLE h, bool signaled)
{
    fltsim_system *sys = fltsim__w32_system();
    if (sys == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    uv_mutex_lock(&sys->lock);
    struct w32_event *ev = (struct w32_event *)fltsim__w32_object_locked(h, W32_EVENT);
    if (ev != NULL)
        fltsim__w32_event_set_locked(sys, ev, signaled);
    uv_mutex_unlock(&sys->lock);
    if (ev == NULL)
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
    return ev != NULL;
}

BOOL SetEvent(HANDLE hEvent)
{
    return event_set(hEvent, true);
}

BOOL ResetEvent(HANDLE hEvent)
{
    return event_set(hEvent, false);
}

HANDLE CreateSemaphoreW(LPSECURITY_ATTRIBUTES lpSemaphoreAttributes, LONG lInitialCount,
                        LONG lMaximumCount, LPCWSTR lpName)
{
    (void)lpSemaphoreAttributes;
    if (lMaximumCount <= 0 || lInitialCount < 0 || lInitialCount > lMaximumCount) {
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    struct w32_semaphore *s = calloc(1, sizeof(*s));
    if (s != NULL) {
        s->h.kind = W32_SEMAPHORE;
        s->h.refs = 1;
        s->count = lInitialCount;
        s->max = lMaximumCount;
    }
    if (lpName != NULL && lpName[0] != 0) /* an empty name is no name */
        return fltsim__w32_create_named(s != NULL ? &s->h : NULL, lpName);
    return new_object(s != NULL ? &s->h : NULL);
}

HANDLE CreateSemaphoreA(LPSECURITY_ATTRIBUTES lpSemaphoreAttributes, LONG lInitialCount,
                        LONG lMaximumCount, LPCSTR lpName)
{
    if (lpName == NULL)
        return CreateSemaphoreW(lpSemaphoreAttributes, lInitialCount, lMaximumCount, NULL);
    LPWSTR wide = fltsim__w32_wide_name(lpName);
    HANDLE h = wide != NULL
                   ? CreateSemaphoreW(lpSemaphoreAttributes, lInitialCount, lMaximumCount, wide)
                   : NULL;
    free(wide);
    return h;
}

HANDLE OpenSemaphoreW(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCWSTR lpName)
{
    (void)dwDesiredAccess; /* no security descriptors: every access is granted */
    (void)bInheritHandle;  /* no child processes */
    return fltsim__w32_open_named(W32_SEMAPHORE, lpName);
}

HANDLE OpenSemaphoreA(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCSTR lpName)
{
    if (lpName == NULL)
        return OpenSemaphoreW(dwDesiredAccess, bInheritHandle, NULL);
    LPWSTR wide = fltsim__w32_wide_name(lpName);
    HANDLE h = wide != NULL ? OpenSemaphoreW(dwDesiredAccess, bInheritHandle, wide) : NULL;
    free(wide);
    return h;
}

BOOL ReleaseSemaphore(HANDLE hSemaphore, LONG lReleaseCount, LPLONG lpPreviousCount)
{
    fltsim_system *sys = fltsim__w32_system();
    if (sys == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    uv_mutex_lock(&sys->lock);
    struct w32_semaphore *s =
        (struct w32_semaphore *)fltsim__w32_object_locked(hSemaphore, W32_SEMAPHORE);
    DWORD error = ERROR_SUCCESS;
    if (s == NULL)
        error = ERROR_INVALID_HANDLE;
    else if (lReleaseCount <= 0)
        error = ERROR_INVALID_PARAMETER;
    else if (lReleaseCount > s->max - s->count)
        error = ERROR_TOO_MANY_POSTS;
    if (error == ERROR_SUCCESS) {
        if (lpPreviousCount != NULL)
            *lpPreviousCount = s->count;
        s->count += lReleaseCount;
        fltsim__broadcast_locked(sys);
    }
    uv_mutex_unlock(&sys->lock);
    if (error != ERROR_SUCCESS) {
        fltsim__w32_set_error(error);
        return FALSE;
    }
    return TRUE;
}

/* ---- critical sections ---- */

/* The owner is a thread id in OwningThread, the depth in RecursionCount;
 * LockCount counts the threads waiting. State under the system's lock. */

void InitializeCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    memset(lpCriticalSection, 0, sizeof(*lpCriticalSection));
}

BOOL InitializeCriticalSectionAndSpinCount(LPCRITICAL_SECTION lpCriticalSection,
                                           DWORD dwSpinCount)
{
    InitializeCriticalSection(lpCriticalSection);
    lpCriticalSection->SpinCount = dwSpinCount;
    return TRUE;
}

void DeleteCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    memset(lpCriticalSection, 0, sizeof(*lpCriticalSection));
}

static bool cs_free(void *ctx)
{
    return ((LPCRITICAL_SECTION)ctx)->OwningThread == NULL;
}

void EnterCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    fltsim_system *sys = fltsim__w32_system();
    HANDLE me = (HANDLE)(ULONG_PTR)GetCurrentThreadId();
    if (sys == NULL) {
        fltsim__fail(STATUS_INVALID_PARAMETER,
                     "EnterCriticalSection: called outside any simulated thread");
        return;
    }
    uv_mutex_lock(&sys->lock);
    if (lpCriticalSection->OwningThread == me) {
        lpCriticalSection->RecursionCount++;
        uv_mutex_unlock(&sys->lock);
        return;
    }
    lpCriticalSection->LockCount++;
    enum w32_wait_result r =
        fltsim__w32_wait_locked(sys, "EnterCriticalSection", cs_free, lpCriticalSection, 0);
    lpCriticalSection->LockCount--;
    if (r == W32_READY) {
        lpCriticalSection->OwningThread = me;
        lpCriticalSection->RecursionCount = 1;
    }
    uv_mutex_unlock(&sys->lock);
    if (r == W32_ENDING)
        fltsim__w32_checkpoint();
}

BOOL TryEnterCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    fltsim_system *sys = fltsim__w32_system();
    HANDLE me = (HANDLE)(ULONG_PTR)GetCurrentThreadId();
    if (sys == NULL)
        return FALSE;
    uv_mutex_lock(&sys->lock);
    BOOL got = FALSE;
    if (lpCriticalSection->OwningThread == NULL || lpCriticalSection->OwningThread == me) {
        lpCriticalSection->OwningThread = me;
        lpCriticalSection->RecursionCount++;
        got = TRUE;
    }
    uv_mutex_unlock(&sys->lock);
    return got;
}

void LeaveCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    fltsim_system *sys = fltsim__w32_system();
    HANDLE me = (HANDLE)(ULONG_PTR)GetCurrentThreadId();
    if (sys == NULL)
        return;
    uv_mutex_lock(&sys->lock);
    if (lpCriticalSection->OwningThread != me) {
        uv_mutex_unlock(&sys->lock);
        fltsim__fail(STATUS_INVALID_PARAMETER,
                     "LeaveCriticalSection: thread %lu does not own the critical section",
                     (unsigned long)(ULONG_PTR)me);
        return;
    }
    if (--lpCriticalSection->RecursionCount == 0) {
        lpCriticalSection->OwningThread = NULL;
        fltsim__broadcast_locked(sys);
    }
    uv_mutex_unlock(&sys->lock);
}
