/*
 * Per-thread simulated state (DESIGN decision 4): IRQL, top-level IRP, the
 * requestor identity a thread issues I/O as, and the ETHREAD and EPROCESS
 * objects that FLT_CALLBACK_DATA.Thread and the Ps routines point at. Every
 * OS thread that touches fltsim is a simulated thread; its state lives in
 * thread-local storage. The objects outlive their threads (pended operations
 * may still point at them) and are kept in one process-wide table, one
 * process object per simulated process id and one thread object per (process,
 * thread id). The WDK routines over this state are nt/'s (ke_irql.c, io.c,
 * ps.c).
 */
#define _GNU_SOURCE /* pthread_getattr_np */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"
#include "watch_hooks.h"

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
static struct _KPROCESS **processes; /* threads_lock */
static size_t process_count, process_capacity;
static ULONG next_thread_id = 1000; /* threads_lock */

#define FLTSIM_DEFAULT_PROCESS_ID 1000
/* The session interactive programs run in (services and the System process
 * are session 0). */
#define FLTSIM_USER_SESSION_ID 1

static void threads_init(void)
{
    if (uv_mutex_init(&threads_lock) != 0)
        abort();
}

static void free_object_tables(void)
{
    for (size_t i = 0; i < thread_count; i++)
        free(threads[i]);
    free(threads);
    threads = NULL;
    thread_count = thread_capacity = 0;
    for (size_t i = 0; i < process_count; i++) {
        free(processes[i]->ps); /* nt/ps_objects.c's: one block */
        free(processes[i]);
    }
    free(processes);
    processes = NULL;
    process_count = process_capacity = 0;
}

/* The table of count entries of `size` bytes with room for one more (moved,
 * *capacity updated), or NULL when out of memory (table unchanged).
 * threads_lock held. */
static void *table_room(void *table, size_t size, size_t count, size_t *capacity)
{
    if (count < *capacity)
        return table;
    size_t cap = *capacity ? *capacity * 2 : 16;
    void *grown = realloc(table, cap * size);
    if (grown == NULL)
        return NULL;
    static bool registered; /* threads_lock */
    if (!registered) {
        atexit(free_object_tables);
        registered = true;
    }
    *capacity = cap;
    return grown;
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
    fltsim__watch_thread_start((struct fltsim_sthread *const *)&fltsim__current);
    return t;
}

void fltsim__set_current_sthread(struct fltsim_sthread *t)
{
    fltsim__current = t;
    fltsim__watch_switched();
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
    while (!__atomic_load_n(&t->permit, __ATOMIC_RELAXED)) {
        if (deadline_ns == 0) {
            uv_cond_wait(&t->cond, &t->lock);
            continue;
        }
        ULONG64 now = uv_hrtime();
        if (now >= deadline_ns || uv_cond_timedwait(&t->cond, &t->lock, deadline_ns - now) != 0) {
            unparked = __atomic_load_n(&t->permit, __ATOMIC_RELAXED) != 0;
            break;
        }
    }
    /* Atomic: fltsim__spin_until reads it without the lock. */
    __atomic_store_n(&t->permit, 0, __ATOMIC_RELAXED);
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
    __atomic_store_n(&t->permit, 1, __ATOMIC_RELEASE);
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

static struct _KTHREAD *thread_locked(ULONG process_id, ULONG thread_id);

/* threads_lock held. */
static struct _KPROCESS *process_locked(ULONG process_id)
{
    for (size_t i = 0; i < process_count; i++)
        if (processes[i]->process_id == process_id && !processes[i]->retired)
            return processes[i];
    struct _KPROCESS **room =
        table_room(processes, sizeof(*processes), process_count, &process_capacity);
    if (room == NULL)
        return NULL;
    processes = room;
    struct _KPROCESS *p = malloc(sizeof(*p));
    if (p == NULL)
        return NULL;
    p->magic = FLTSIM_MAGIC_PROCESS;
    p->process_id = process_id;
    p->session_id = process_id == FLTSIM_SYSTEM_PROCESS_ID ? 0 : FLTSIM_USER_SESSION_ID;
    p->retired = false;
    p->ps = NULL;
    processes[process_count++] = p;
    return p;
}

PEPROCESS fltsim__process_object_find(ULONG process_id)
{
    uv_once(&threads_once, threads_init);
    uv_mutex_lock(&threads_lock);
    struct _KPROCESS *found = NULL;
    for (size_t i = 0; i < process_count && found == NULL; i++)
        if (processes[i]->process_id == process_id && !processes[i]->retired)
            found = processes[i];
    uv_mutex_unlock(&threads_lock);
    return found;
}

void fltsim__process_object_retire(PEPROCESS process)
{
    uv_once(&threads_once, threads_init);
    uv_mutex_lock(&threads_lock);
    process->retired = true;
    uv_mutex_unlock(&threads_lock);
}

PETHREAD fltsim__thread_object_find(ULONG thread_id, ULONG process_id_or_0)
{
    uv_once(&threads_once, threads_init);
    uv_mutex_lock(&threads_lock);
    struct _KTHREAD *found = NULL;
    for (size_t i = 0; i < thread_count && found == NULL; i++) {
        struct _KTHREAD *t = threads[i];
        if (t->thread_id == thread_id && !t->process->retired &&
            (process_id_or_0 == 0 || t->process->process_id == process_id_or_0))
            found = t;
    }
    if (found == NULL && process_id_or_0 != 0)
        found = thread_locked(process_id_or_0, thread_id);
    uv_mutex_unlock(&threads_lock);
    return found;
}

PEPROCESS fltsim__process_object(ULONG process_id)
{
    uv_once(&threads_once, threads_init);
    uv_mutex_lock(&threads_lock);
    struct _KPROCESS *p = process_locked(process_id);
    uv_mutex_unlock(&threads_lock);
    return p;
}

/* threads_lock held. */
static struct _KTHREAD *thread_locked(ULONG process_id, ULONG thread_id)
{
    struct _KPROCESS *p = process_locked(process_id);
    if (p == NULL)
        return NULL;
    for (size_t i = 0; i < thread_count; i++)
        if (threads[i]->process == p && threads[i]->thread_id == thread_id)
            return threads[i];
    struct _KTHREAD **room = table_room(threads, sizeof(*threads), thread_count, &thread_capacity);
    if (room == NULL)
        return NULL;
    threads = room;
    struct _KTHREAD *t = malloc(sizeof(*t));
    if (t == NULL)
        return NULL;
    t->magic = FLTSIM_MAGIC_THREAD;
    t->thread_id = thread_id;
    t->process = p;
    threads[thread_count++] = t;
    return t;
}

PETHREAD fltsim_thread_current(void)
{
    struct fltsim_tls *t = fltsim__tls();
    ensure_identity(t);
    if (t->thread_object != NULL)
        return t->thread_object;
    uv_once(&threads_once, threads_init);
    uv_mutex_lock(&threads_lock);
    t->thread_object = thread_locked(t->process_id, t->thread_id);
    uv_mutex_unlock(&threads_lock);
    return t->thread_object;
}

ULONG fltsim_thread_object_process_id(PETHREAD thread)
{
    return thread != NULL ? thread->process->process_id : 0;
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

void fltsim__stack_limits(ULONG_PTR *low, ULONG_PTR *high)
{
    struct fltsim_sthread *t = fltsim__current_sthread();
    if (t->stack_high == 0) { /* a native thread (or a deterministic executor's own) */
        char *base = NULL;
        size_t size = 0;
#ifdef __APPLE__
        size = pthread_get_stacksize_np(pthread_self());
        base = (char *)pthread_get_stackaddr_np(pthread_self()) - size; /* the address is the top */
#else
        pthread_attr_t attr;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            void *addr = NULL;
            if (pthread_attr_getstack(&attr, &addr, &size) != 0)
                size = 0;
            base = addr;
            pthread_attr_destroy(&attr);
        }
#endif
        if (size == 0) { /* not found: the page around this frame, which is surely stack */
            ULONG_PTR here = (ULONG_PTR)__builtin_frame_address(0);
            base = (char *)(here & ~(ULONG_PTR)4095);
            size = 4096;
        }
        t->stack_low = (ULONG_PTR)base;
        t->stack_high = (ULONG_PTR)base + size;
    }
    *low = t->stack_low;
    *high = t->stack_high;
}
