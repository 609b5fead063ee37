/*
 * Per-thread simulated state (DESIGN decision 4): IRQL, top-level IRP, the
 * requestor identity a thread issues I/O as, and the ETHREAD objects that
 * FLT_CALLBACK_DATA.Thread points at. Every OS thread that touches fltsim is a
 * simulated thread; its state lives in thread-local storage. The ETHREAD
 * objects outlive their threads (pended operations may still point at them)
 * and are kept in one process-wide table. The WDK routines over this state
 * are nt/'s (ke_irql.c, io.c, ps.c).
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"

/* What a PETHREAD points at. */
struct _KTHREAD {
    ULONG process_id;
    ULONG thread_id;
};

/* Every OS thread is a native simulated thread; a deterministic executor
 * points fltsim__current at one of its coroutines while that coroutine
 * runs. It is read inline (fltsim__tls, fltsim__current_sthread); NULL until
 * the thread's first use sets up native_self. */
static _Thread_local struct fltsim_sthread native_self;
_Thread_local struct fltsim_sthread *fltsim__current;

static uv_once_t threads_once = UV_ONCE_INIT;
static uv_mutex_t threads_lock;
static struct _KTHREAD **threads; /* threads_lock */
static size_t thread_count, thread_capacity;
static ULONG next_thread_id = 1000; /* threads_lock */

#define FLTSIM_DEFAULT_PROCESS_ID 1000
#define FLTSIM_SYSTEM_PROCESS_ID 4

static void threads_init(void)
{
    if (uv_mutex_init(&threads_lock) != 0)
        abort();
}

static void free_thread_table(void)
{
    for (size_t i = 0; i < thread_count; i++)
        free(threads[i]);
    free(threads);
    threads = NULL;
    thread_count = thread_capacity = 0;
}

struct fltsim_sthread *fltsim__current_sthread_slow(void)
{
    struct fltsim_sthread *t = fltsim__current;
    if (t != NULL)
        return t;
    t = &native_self;
    if (!t->sync_ready) {
        if (uv_mutex_init(&t->lock) != 0 || uv_cond_init(&t->cond) != 0)
            abort(); /* no way to run without them */
        t->kind = FLTSIM_STHREAD_NATIVE;
        t->sync_ready = true;
    }
    fltsim__current = t;
    return t;
}

void fltsim__set_current_sthread(struct fltsim_sthread *t)
{
    fltsim__current = t;
}

struct fltsim_tls *fltsim__tls_slow(void)
{
    return &fltsim__current_sthread_slow()->tls;
}

bool fltsim__park(ULONG64 deadline_ns)
{
    struct fltsim_sthread *t = fltsim__current_sthread();
    if (t->kind == FLTSIM_STHREAD_COROUTINE)
        return fltsim__det_park(t, deadline_ns);
    bool unparked = true;
    uv_mutex_lock(&t->lock);
    while (!t->permit) {
        if (deadline_ns == 0) {
            uv_cond_wait(&t->cond, &t->lock);
            continue;
        }
        ULONG64 now = uv_hrtime();
        if (now >= deadline_ns || uv_cond_timedwait(&t->cond, &t->lock, deadline_ns - now) != 0) {
            unparked = t->permit != 0;
            break;
        }
    }
    t->permit = 0;
    uv_mutex_unlock(&t->lock);
    return unparked;
}

void fltsim__unpark(struct fltsim_sthread *t)
{
    if (t->kind == FLTSIM_STHREAD_COROUTINE) {
        fltsim__det_unpark(t);
        return;
    }
    uv_mutex_lock(&t->lock);
    t->permit = 1;
    uv_cond_signal(&t->cond);
    uv_mutex_unlock(&t->lock);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void fltsim__spin_wait(LONG *lock)
{
    /* Read-only spinning keeps the line shared until the holder releases
     * it; after a while the holder may have been preempted: yield. */
    for (ULONG k = 0; __atomic_load_n(lock, __ATOMIC_RELAXED) != 0; k++) {
        cpu_relax();
        if (k >= 64)
            sched_yield();
    }
}

bool fltsim__spin_until(const LONG *a, const LONG *b, ULONG64 budget_ns)
{
    if (fltsim__current_sthread()->kind == FLTSIM_STHREAD_COROUTINE)
        return false;
    ULONG64 deadline = 0;
    for (ULONG k = 1;; k++) {
        if (__atomic_load_n(a, __ATOMIC_ACQUIRE) != 0 ||
            (b != NULL && __atomic_load_n(b, __ATOMIC_ACQUIRE) != 0))
            return true;
        cpu_relax();
        if ((k & 63) == 0) { /* the clock is read now and then */
            ULONG64 now = uv_hrtime();
            if (deadline == 0)
                deadline = now + budget_ns;
            else if (now >= deadline)
                return false;
        }
    }
}

ULONG64 fltsim__now_ns(void)
{
    struct fltsim_sthread *t = fltsim__current_sthread();
    if (t->kind == FLTSIM_STHREAD_COROUTINE)
        return fltsim__det_now_ns(t);
    return uv_hrtime();
}

bool fltsim__is_deterministic(void)
{
    return fltsim__current_sthread()->kind == FLTSIM_STHREAD_COROUTINE;
}

static void ensure_identity(struct fltsim_tls *t)
{
    if (t->identity_set)
        return;
    uv_once(&threads_once, threads_init);
    uv_mutex_lock(&threads_lock);
    t->thread_id = next_thread_id++;
    uv_mutex_unlock(&threads_lock);
    t->process_id = FLTSIM_DEFAULT_PROCESS_ID;
    t->identity_set = true;
    t->thread_object = NULL;
}

void fltsim__worker_enter(fltsim_system *sys, KIRQL irql)
{
    struct fltsim_tls *t = fltsim__tls();
    if (!t->identity_set || t->process_id != FLTSIM_SYSTEM_PROCESS_ID) {
        /* A system worker thread belongs to the System process. */
        uv_once(&threads_once, threads_init);
        uv_mutex_lock(&threads_lock);
        t->thread_id = next_thread_id++;
        uv_mutex_unlock(&threads_lock);
        t->process_id = FLTSIM_SYSTEM_PROCESS_ID;
        t->identity_set = true;
        t->thread_object = NULL;
    }
    t->sys = sys;
    t->filter = NULL;
    t->op = NULL;
    t->irql = irql;
    t->top_level_irp = NULL;
}

void fltsim__worker_leave(fltsim_system *sys, KIRQL irql, const char *what)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->irql != irql)
        fltsim__report(sys, NULL, NULL, NULL, "V28", "5.1",
                       "%s returned at IRQL %u; it was called at %u and must return there", what,
                       (unsigned)t->irql, (unsigned)irql);
    if (t->top_level_irp != NULL)
        fltsim__report(sys, NULL, NULL, NULL, "V28", "6.6",
                       "%s returned with the thread's top-level IRP still set", what);
    t->irql = PASSIVE_LEVEL;
    t->top_level_irp = NULL;
    t->sys = NULL;
    t->filter = NULL;
    t->op = NULL;
}

void fltsim_thread_set_identity(ULONG process_id, ULONG thread_id)
{
    struct fltsim_tls *t = fltsim__tls();
    t->process_id = process_id;
    t->thread_id = thread_id;
    t->identity_set = true;
    t->thread_object = NULL;
}

ULONG fltsim_thread_process_id(void)
{
    struct fltsim_tls *t = fltsim__tls();
    ensure_identity(t);
    return t->process_id;
}

ULONG fltsim_thread_id(void)
{
    struct fltsim_tls *t = fltsim__tls();
    ensure_identity(t);
    return t->thread_id;
}

PETHREAD fltsim_thread_current(void)
{
    struct fltsim_tls *t = fltsim__tls();
    ensure_identity(t);
    if (t->thread_object != NULL)
        return t->thread_object;

    uv_once(&threads_once, threads_init);
    uv_mutex_lock(&threads_lock);
    struct _KTHREAD *found = NULL;
    for (size_t i = 0; i < thread_count; i++) {
        if (threads[i]->process_id == t->process_id && threads[i]->thread_id == t->thread_id) {
            found = threads[i];
            break;
        }
    }
    if (found == NULL) {
        if (thread_count == thread_capacity) {
            size_t cap = thread_capacity ? thread_capacity * 2 : 16;
            struct _KTHREAD **grown = realloc(threads, cap * sizeof(*grown));
            if (grown == NULL) {
                uv_mutex_unlock(&threads_lock);
                return NULL;
            }
            if (threads == NULL)
                atexit(free_thread_table);
            threads = grown;
            thread_capacity = cap;
        }
        found = malloc(sizeof(*found));
        if (found == NULL) {
            uv_mutex_unlock(&threads_lock);
            return NULL;
        }
        found->process_id = t->process_id;
        found->thread_id = t->thread_id;
        threads[thread_count++] = found;
    }
    uv_mutex_unlock(&threads_lock);
    t->thread_object = found;
    return found;
}

ULONG fltsim_thread_object_process_id(PETHREAD thread)
{
    return thread != NULL ? thread->process_id : 0;
}

ULONG fltsim_thread_object_thread_id(PETHREAD thread)
{
    return thread != NULL ? thread->thread_id : 0;
}

/* ---- errors of the fltsim API ---- */

const char *fltsim_last_error(void)
{
    return fltsim__tls()->last_error;
}

static NTSTATUS set_last_error(NTSTATUS status, const char *fmt, va_list ap)
{
    struct fltsim_tls *t = fltsim__tls();
    /* Formatted aside first: an argument may be the previous error itself
     * (a failure that wraps fltsim_last_error()). */
    char text[sizeof(t->last_error)];
    vsnprintf(text, sizeof(text), fmt, ap);
    memcpy(t->last_error, text, sizeof(text));
    return status;
}

NTSTATUS fltsim__fail(NTSTATUS status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status = set_last_error(status, fmt, ap);
    va_end(ap);
    return status;
}

NTSTATUS fltsim_last_error_set(NTSTATUS status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status = set_last_error(status, fmt, ap);
    va_end(ap);
    return status;
}
