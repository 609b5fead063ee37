/*
 * The deterministic executor (DESIGN decision 5). Everything runs on the
 * thread that created it, one simulated thread at a time: the creating thread
 * itself (the main coroutine), one coroutine per spawned requestor, and one
 * per work item or DPC while it runs. Control changes hands only where a
 * simulated thread parks or yields; the next one is chosen among the ready
 * coroutines and the queued tasks by a PRNG seeded at creation, so a seed
 * replays the same interleaving. Time is virtual: when nothing is ready the
 * clock jumps to the earliest timed wait. When nothing is ready and no timed
 * wait remains, every simulated thread is blocked for good: the executor
 * describes who waits (in which filter's callback) and hands that to the
 * deadlock hook (fltsim/watch.h), which reports and exits; without one it
 * says so on standard error and aborts rather than hang.
 *
 * Coroutines are ucontext stacks with a guard page. AddressSanitizer and
 * ThreadSanitizer are told about every switch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "executor.h"
#include "watch_hooks.h"

#if defined(__SANITIZE_ADDRESS__)
#define FLTSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLTSIM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define FLTSIM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FLTSIM_TSAN 1
#endif
#endif
#ifdef FLTSIM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef FLTSIM_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#define STACK_SIZE (512u * 1024u)
#define FIRST_THREAD_ID 100
#define SYSTEM_PROCESS_ID 4

enum co_state { CO_READY, CO_RUNNING, CO_PARKED, CO_DONE };

struct det_exec;

struct det_coroutine {
    struct fltsim_sthread st; /* first: fltsim__tls() */
    struct det_exec *ex;
    ucontext_t ctx;
    void *mapping; /* stack with its guard page; NULL for the main coroutine */
    size_t mapping_size;
    void *stack_bottom; /* for the sanitizers */
    size_t stack_size;
    enum co_state state;
    ULONG64 deadline; /* virtual ns, 0 = none, while parked */
    bool timed_out;
    /* what it runs */
    struct fltsim_task *task;
    void (*fn)(void *ctx);
    void *arg;
    ULONG process_id, thread_id;
    bool joinable;                /* a spawned thread, freed by join */
    struct det_coroutine *joiner; /* parked in join */
    LIST_ENTRY link;              /* ex->all */
#ifdef FLTSIM_ASAN
    void *fake_stack;
#endif
#ifdef FLTSIM_TSAN
    void *fiber;
#endif
};

struct det_exec {
    struct fltsim_executor base;
    uv_thread_t home;
    struct det_coroutine main;
    struct fltsim_sthread *home_native; /* the home thread's own state, restored at destroy */
    struct det_coroutine *running;
    struct det_coroutine **ready;
    ULONG ready_count, ready_capacity;
    struct fltsim_task **tasks; /* submitted, not started */
    ULONG task_count, task_capacity;
    LIST_ENTRY all; /* every coroutine but main */
    ULONG64 now;    /* virtual ns */
    ULONG64 rng;
    ULONG next_thread_id;
    LONG spawned; /* spawned threads not yet finished */
    struct det_coroutine *zombie; /* finished; freed by whoever runs next */
};

static _Thread_local struct det_coroutine *switching_from;

/* splitmix64: small, fast, and the same everywhere. */
static ULONG64 next_random(struct det_exec *ex)
{
    ULONG64 z = (ex->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

ULONG64 fltsim__executor_random(struct fltsim_executor *base)
{
    if (base == NULL || base->kind != FLTSIM_EXECUTOR_DETERMINISTIC)
        return 0;
    return next_random((struct det_exec *)base);
}

static void check_home(struct det_exec *ex)
{
    uv_thread_t self = uv_thread_self();
    if (!uv_thread_equal(&self, &ex->home)) {
        fprintf(stderr, "fltsim: a deterministic system was used from a thread other than the "
                        "one that created it; it runs everything on that one thread\n");
        abort();
    }
}

static void grow(void **array, ULONG *capacity, size_t element)
{
    ULONG cap = *capacity ? *capacity * 2 : 16;
    void *grown = realloc(*array, cap * element);
    if (grown == NULL)
        abort();
    *array = grown;
    *capacity = cap;
}

static void make_ready(struct det_exec *ex, struct det_coroutine *co)
{
    if (ex->ready_count == ex->ready_capacity)
        grow((void **)&ex->ready, &ex->ready_capacity, sizeof(*ex->ready));
    co->state = CO_READY;
    ex->ready[ex->ready_count++] = co;
}

/* ---- coroutine life ---- */

static void free_coroutine(struct det_coroutine *co)
{
    fltsim__watch_barrier(); /* a watchdog reading its state is done */
#ifdef FLTSIM_TSAN
    __tsan_destroy_fiber(co->fiber);
#endif
#ifdef FLTSIM_ASAN
    /* The frames that died on this stack left their poison behind; a new
     * mapping at the same address must not inherit it. */
    __asan_unpoison_memory_region(co->mapping, co->mapping_size);
#endif
    munmap(co->mapping, co->mapping_size);
    free(co);
}

static void coroutine_entry(void);

static struct det_coroutine *new_coroutine(struct det_exec *ex)
{
    struct det_coroutine *co = calloc(1, sizeof(*co));
    if (co == NULL)
        abort();
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    co->mapping_size = STACK_SIZE + page;
    co->mapping = mmap(NULL, co->mapping_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
    if (co->mapping == MAP_FAILED)
        abort();
    /* The lowest page is the guard: a stack overflow faults instead of
     * corrupting memory. */
    if (mprotect(co->mapping, page, PROT_NONE) != 0)
        abort();
    co->stack_bottom = (char *)co->mapping + page;
#ifdef FLTSIM_ASAN
    __asan_unpoison_memory_region(co->stack_bottom, STACK_SIZE);
#endif
    co->stack_size = STACK_SIZE;
    co->st.stack_low = (ULONG_PTR)co->stack_bottom;
    co->st.stack_high = co->st.stack_low + STACK_SIZE;
    co->ex = ex;
    co->st.kind = FLTSIM_STHREAD_COROUTINE;
    co->st.executor = &ex->base;
    co->st.coroutine = co;
    if (getcontext(&co->ctx) != 0)
        abort();
    co->ctx.uc_stack.ss_sp = co->stack_bottom;
    co->ctx.uc_stack.ss_size = co->stack_size;
    co->ctx.uc_link = NULL;
    makecontext(&co->ctx, coroutine_entry, 0);
#ifdef FLTSIM_TSAN
    co->fiber = __tsan_create_fiber(0);
#endif
    InsertTailList(&ex->all, &co->link);
    return co;
}

/* Switches from the running coroutine to `to`; returns when `from` runs
 * again. A finishing coroutine passes dying = true and never returns. */
static void switch_to(struct det_exec *ex, struct det_coroutine *from, struct det_coroutine *to,
                      bool dying)
{
    ex->running = to;
    to->state = CO_RUNNING;
    fltsim__set_current_sthread(&to->st);
    switching_from = from;
#ifdef FLTSIM_ASAN
    __sanitizer_start_switch_fiber(dying ? NULL : &from->fake_stack, to->stack_bottom,
                                   to->stack_size);
#endif
#ifdef FLTSIM_TSAN
    __tsan_switch_to_fiber(to->fiber, 0);
#endif
    if (dying) {
        setcontext(&to->ctx);
        abort(); /* setcontext does not return */
    }
    if (swapcontext(&from->ctx, &to->ctx) != 0)
        abort();
    /* `from` runs again. */
#ifdef FLTSIM_ASAN
    const void *prev_bottom;
    size_t prev_size;
    __sanitizer_finish_switch_fiber(from->fake_stack, &prev_bottom, &prev_size);
    if (switching_from != NULL && switching_from->mapping == NULL) {
        switching_from->stack_bottom = (void *)prev_bottom;
        switching_from->stack_size = prev_size;
    }
#endif
    if (ex->zombie != NULL && ex->zombie != from) {
        free_coroutine(ex->zombie);
        ex->zombie = NULL;
    }
}

/* One line of the deadlock description: who co is and where it waits. */
static void describe_blocked(char *text, size_t size, size_t *used, const char *who,
                             const struct det_coroutine *co)
{
    if (*used >= size)
        return;
    struct fltsim_callout_info info;
    fltsim__callout_describe(&co->st.tls, &info);
    int n = snprintf(text + *used, size - *used, "  %s thread %u: blocked", who,
                     (unsigned)co->st.tls.thread_id);
    if (n > 0)
        *used += (size_t)n;
    if (info.in_filter && *used < size) {
        n = snprintf(text + *used, size - *used, " in %s's %s", info.filter, info.callback);
        if (n > 0)
            *used += (size_t)n;
        if (info.op_id != 0 && *used < size) {
            const char *major = fltsim_major_name(info.major);
            n = snprintf(text + *used, size - *used, " for operation #%llu %s %s",
                         (unsigned long long)info.op_id, major != NULL ? major : "?", info.file);
            if (n > 0)
                *used += (size_t)n;
        }
    }
    if (*used < size) {
        n = snprintf(text + *used, size - *used, "\n");
        if (n > 0)
            *used += (size_t)n;
    }
    if (*used >= size)
        *used = size - 1;
}

/* Every simulated thread is blocked for good: the sim's hook reports it (and
 * exits); without one, or if it returns, the description and an abort. */
static void deadlock(struct det_exec *ex)
{
    static char text[16384];
    size_t used = 0;
    if (ex->main.state == CO_PARKED)
        describe_blocked(text, sizeof(text), &used, "main", &ex->main);
    for (PLIST_ENTRY e = ex->all.Flink; e != &ex->all; e = e->Flink) {
        struct det_coroutine *co = CONTAINING_RECORD(e, struct det_coroutine, link);
        if (co->state == CO_PARKED)
            describe_blocked(text, sizeof(text), &used,
                             co->task != NULL
                                 ? (co->task->kind == FLTSIM_TASK_DPC ? "completion" : "worker")
                                 : "requestor",
                             co);
    }
    void *ctx;
    fltsim_deadlock_hook hook = fltsim__deadlock_hook(&ctx);
    if (hook != NULL)
        hook(ctx, ex->base.sys, text);
    fprintf(stderr,
            "fltsim: deterministic executor: deadlock - every simulated thread is blocked and "
            "nothing is queued or timed:\n%s",
            text);
    abort();
}

/* Chooses what runs next: a ready coroutine or a queued task (started on a
 * new coroutine). Advances virtual time when only timed waits remain.
 * NULL: nothing can ever run again. */
static struct det_coroutine *pick(struct det_exec *ex)
{
    for (;;) {
        ULONG n = ex->ready_count + ex->task_count;
        if (n != 0) {
            ULONG r = (ULONG)(next_random(ex) % n);
            if (r < ex->ready_count) {
                struct det_coroutine *co = ex->ready[r];
                ex->ready[r] = ex->ready[--ex->ready_count];
                return co;
            }
            r -= ex->ready_count;
            struct fltsim_task *task = ex->tasks[r];
            ex->tasks[r] = ex->tasks[--ex->task_count];
            struct det_coroutine *co = new_coroutine(ex);
            co->task = task;
            co->process_id = SYSTEM_PROCESS_ID;
            co->thread_id = ex->next_thread_id++;
            return co;
        }
        ULONG64 earliest = 0;
        if (ex->main.state == CO_PARKED && ex->main.deadline != 0)
            earliest = ex->main.deadline;
        for (PLIST_ENTRY e = ex->all.Flink; e != &ex->all; e = e->Flink) {
            struct det_coroutine *co = CONTAINING_RECORD(e, struct det_coroutine, link);
            if (co->state == CO_PARKED && co->deadline != 0 &&
                (earliest == 0 || co->deadline < earliest))
                earliest = co->deadline;
        }
        if (earliest == 0)
            return NULL;
        if (earliest > ex->now)
            ex->now = earliest;
        if (ex->main.state == CO_PARKED && ex->main.deadline != 0 &&
            ex->main.deadline <= ex->now) {
            ex->main.deadline = 0;
            ex->main.timed_out = true;
            make_ready(ex, &ex->main);
        }
        for (PLIST_ENTRY e = ex->all.Flink; e != &ex->all; e = e->Flink) {
            struct det_coroutine *co = CONTAINING_RECORD(e, struct det_coroutine, link);
            if (co->state == CO_PARKED && co->deadline != 0 && co->deadline <= ex->now) {
                co->deadline = 0;
                co->timed_out = true;
                make_ready(ex, co);
            }
        }
    }
}

static void coroutine_entry(void)
{
    struct det_exec *ex;
    struct det_coroutine *self;
#ifdef FLTSIM_ASAN
    const void *prev_bottom;
    size_t prev_size;
    __sanitizer_finish_switch_fiber(NULL, &prev_bottom, &prev_size);
    if (switching_from != NULL && switching_from->mapping == NULL) {
        switching_from->stack_bottom = (void *)prev_bottom;
        switching_from->stack_size = prev_size;
    }
#endif
    self = (struct det_coroutine *)fltsim__current_sthread();
    ex = self->ex;
    if (ex->zombie != NULL && ex->zombie != self) {
        free_coroutine(ex->zombie);
        ex->zombie = NULL;
    }

    fltsim_thread_set_identity(self->process_id, self->thread_id);
    if (self->task != NULL) {
        struct fltsim_task *task = self->task;
        KIRQL irql = task->kind == FLTSIM_TASK_DPC ? DISPATCH_LEVEL : PASSIVE_LEVEL;
        fltsim__worker_enter(ex->base.sys, irql);
        task->run(task);
        fltsim__worker_leave(ex->base.sys, irql,
                             irql == DISPATCH_LEVEL ? "a completion (DPC)" : "a work item");
        __atomic_sub_fetch(&ex->base.outstanding, 1, __ATOMIC_SEQ_CST);
        fltsim__task_finished(&ex->base);
    } else {
        self->fn(self->arg);
        ex->spawned--;
        if (self->joiner != NULL)
            fltsim__det_unpark(&self->joiner->st);
    }

    self->state = CO_DONE;
    struct det_coroutine *next = pick(ex);
    if (next == NULL)
        deadlock(ex);
    if (!self->joinable) {
        RemoveEntryList(&self->link);
        ex->zombie = self; /* freed once off this stack */
    }
    switch_to(ex, self, next, true);
}

/* ---- the sthread side ---- */

bool fltsim__det_park(struct fltsim_sthread *st, ULONG64 deadline_ns)
{
    struct det_coroutine *self = st->coroutine;
    struct det_exec *ex = self->ex;
    check_home(ex);
    if (st->permit) {
        st->permit = 0;
        return true;
    }
    self->state = CO_PARKED;
    self->deadline = deadline_ns;
    self->timed_out = false;
    struct det_coroutine *next = pick(ex);
    if (next == NULL)
        deadlock(ex);
    if (next != self)
        switch_to(ex, self, next, false);
    self->state = CO_RUNNING;
    self->deadline = 0;
    if (st->permit) {
        st->permit = 0;
        return true;
    }
    return !self->timed_out;
}

void fltsim__det_unpark(struct fltsim_sthread *st)
{
    struct det_coroutine *co = st->coroutine;
    struct det_exec *ex = co->ex;
    check_home(ex);
    st->permit = 1;
    if (co->state == CO_PARKED) {
        co->deadline = 0;
        make_ready(ex, co);
    }
}

ULONG64 fltsim__det_now_ns(struct fltsim_sthread *st)
{
    return st->coroutine->ex->now;
}

void fltsim__det_yield(struct fltsim_sthread *st)
{
    struct det_coroutine *self = st->coroutine;
    struct det_exec *ex = self->ex;
    make_ready(ex, self);
    struct det_coroutine *next = pick(ex);
    if (next != self)
        switch_to(ex, self, next, false);
    self->state = CO_RUNNING;
}

void fltsim__det_advance(struct fltsim_sthread *st, ULONG64 ns)
{
    struct det_exec *ex = st->coroutine->ex;
    check_home(ex);
    ex->now += ns;
    /* Waits that expired meanwhile become ready, as pick() would make them
     * when it moves the clock itself. */
    struct det_coroutine *self = st->coroutine;
    if (&ex->main != self && ex->main.state == CO_PARKED && ex->main.deadline != 0 &&
        ex->main.deadline <= ex->now) {
        ex->main.deadline = 0;
        ex->main.timed_out = true;
        make_ready(ex, &ex->main);
    }
    for (PLIST_ENTRY e = ex->all.Flink; e != &ex->all; e = e->Flink) {
        struct det_coroutine *co = CONTAINING_RECORD(e, struct det_coroutine, link);
        if (co != self && co->state == CO_PARKED && co->deadline != 0 && co->deadline <= ex->now) {
            co->deadline = 0;
            co->timed_out = true;
            make_ready(ex, co);
        }
    }
}

/* ---- the executor ---- */

static void det_submit(struct fltsim_executor *base, struct fltsim_task *task)
{
    struct det_exec *ex = (struct det_exec *)base;
    check_home(ex);
    if (ex->task_count == ex->task_capacity)
        grow((void **)&ex->tasks, &ex->task_capacity, sizeof(*ex->tasks));
    ex->tasks[ex->task_count++] = task;
}

static NTSTATUS det_spawn(struct fltsim_executor *base, ULONG process_id, ULONG thread_id,
                          void (*fn)(void *ctx), void *ctx, void **handle)
{
    struct det_exec *ex = (struct det_exec *)base;
    check_home(ex);
    struct det_coroutine *co = new_coroutine(ex);
    co->fn = fn;
    co->arg = ctx;
    co->process_id = process_id;
    co->thread_id = thread_id;
    co->joinable = true;
    ex->spawned++;
    make_ready(ex, co);
    *handle = co;
    return STATUS_SUCCESS;
}

static void det_join(struct fltsim_executor *base, void *handle)
{
    struct det_exec *ex = (struct det_exec *)base;
    struct det_coroutine *co = handle;
    struct det_coroutine *self = (struct det_coroutine *)fltsim__current_sthread();
    check_home(ex);
    while (co->state != CO_DONE) {
        co->joiner = self;
        fltsim__park(0);
    }
    RemoveEntryList(&co->link);
    if (ex->zombie == co)
        ex->zombie = NULL;
    free_coroutine(co);
}

/* The earliest deadline of a timed wait other than the caller's, or 0. */
static ULONG64 earliest_other_deadline(struct det_exec *ex, struct det_coroutine *self)
{
    ULONG64 earliest = 0;
    if (&ex->main != self && ex->main.state == CO_PARKED && ex->main.deadline != 0)
        earliest = ex->main.deadline;
    for (PLIST_ENTRY e = ex->all.Flink; e != &ex->all; e = e->Flink) {
        struct det_coroutine *co = CONTAINING_RECORD(e, struct det_coroutine, link);
        if (co != self && co->state == CO_PARKED && co->deadline != 0 &&
            (earliest == 0 || co->deadline < earliest))
            earliest = co->deadline;
    }
    return earliest;
}

static bool det_wait_idle(struct fltsim_executor *base, ULONG64 timeout_ns)
{
    struct det_exec *ex = (struct det_exec *)base;
    struct fltsim_sthread *self = fltsim__current_sthread();
    check_home(ex);
    ULONG64 deadline = timeout_ns ? ex->now + timeout_ns : 0;
    /* Let everything else run until nothing is left to run. */
    while (ex->ready_count != 0 || ex->task_count != 0 || ex->spawned != 0 ||
           __atomic_load_n(&ex->base.outstanding, __ATOMIC_SEQ_CST) != 0) {
        if (deadline != 0 && ex->now >= deadline)
            return false;
        if (ex->ready_count != 0 || ex->task_count != 0) {
            fltsim__det_yield(self);
            continue;
        }
        /* Only blocked threads are left: sleep until the earliest timed one
         * wakes, or give up when none is timed (blocked for good). */
        ULONG64 wake = earliest_other_deadline(ex, self->coroutine);
        if (wake == 0)
            return false;
        if (deadline != 0 && deadline < wake)
            wake = deadline;
        fltsim__park(wake);
    }
    return true;
}

static void det_destroy(struct fltsim_executor *base)
{
    struct det_exec *ex = (struct det_exec *)base;
    det_wait_idle(base, 0);
    if (ex->zombie != NULL) {
        free_coroutine(ex->zombie);
        ex->zombie = NULL;
    }
    while (!IsListEmpty(&ex->all)) {
        struct det_coroutine *co =
            CONTAINING_RECORD(RemoveHeadList(&ex->all), struct det_coroutine, link);
        fprintf(stderr, "fltsim: deterministic executor destroyed with simulated thread %u still "
                        "blocked\n",
                (unsigned)co->st.tls.thread_id);
        free_coroutine(co);
    }
    /* The home thread becomes its own native self again. */
    struct fltsim_sthread *home = ex->home_native;
    home->tls = ex->main.st.tls;
    home->permit = 0;
    fltsim__set_current_sthread(home);
    fltsim__watch_barrier(); /* ex->main is gone with ex */
    free(ex->ready);
    free(ex->tasks);
    free(ex);
}

static const struct fltsim_executor_ops det_ops = {
    det_submit, det_spawn, det_join, det_wait_idle, det_destroy,
};

NTSTATUS fltsim__executor_deterministic_create(fltsim_system *sys, ULONG64 seed,
                                               struct fltsim_executor **out)
{
    struct fltsim_sthread *home = fltsim__current_sthread();
    if (home->kind != FLTSIM_STHREAD_NATIVE)
        return fltsim__fail(STATUS_INVALID_DEVICE_STATE,
                            "fltsim_system_create: this thread already runs a deterministic "
                            "system; one at a time per thread");
    struct det_exec *ex = calloc(1, sizeof(*ex));
    if (ex == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    ex->base.ops = &det_ops;
    ex->base.kind = FLTSIM_EXECUTOR_DETERMINISTIC;
    ex->base.sys = sys;
    ex->home = uv_thread_self();
    ex->rng = seed;
    ex->next_thread_id = FIRST_THREAD_ID;
    InitializeListHead(&ex->all);

    /* The creating thread becomes the main coroutine, keeping its state. */
    ex->home_native = home;
    ex->main.ex = ex;
    ex->main.st.tls = home->tls;
    ex->main.st.kind = FLTSIM_STHREAD_COROUTINE;
    ex->main.st.executor = &ex->base;
    ex->main.st.coroutine = &ex->main;
    ex->main.state = CO_RUNNING;
#ifdef FLTSIM_TSAN
    ex->main.fiber = __tsan_get_current_fiber();
#endif
    ex->running = &ex->main;
    fltsim__set_current_sthread(&ex->main.st);
    *out = &ex->base;
    return STATUS_SUCCESS;
}
