/*
 * Crash and hang reports (fltsim/watch.h): naming the callout a thread is in
 * from its simulated thread state, the registry of watched OS threads (a
 * fixed table of slots, each with the alternate signal stack it keeps for
 * the next thread that takes it), the live systems whose pended operations
 * a watchdog may list, and the deadlock hook. A watchdog reads other
 * threads' state without stopping them: it is only trusted once a thread has
 * shown no progress for a while, and the memory it reads is freed only after
 * fltsim__watch_barrier (the registry lock) has let it finish.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "../exec/executor.h"
#include "../exec/watch_hooks.h"
#include "../model_internal.h"
#include "../win32/win32_internal.h"

#define WATCH_SLOTS 1024
#define WATCH_SYSTEMS 64

struct watch_slot {
    bool used;                             /* registry_lock */
    ULONG64 os_thread;                     /* a number per taking; registry_lock */
    struct fltsim_sthread *const *current; /* that thread's fltsim__current */
    ULONG64 switches;                      /* atomic; written by its thread */
    void *altstack;                        /* kept for the next taker */
};

static uv_once_t watch_once = UV_ONCE_INIT;
static uv_mutex_t registry_lock;
static pthread_key_t exit_key;
static bool enabled; /* atomic; set once */
static size_t altstack_size;
static struct watch_slot slots[WATCH_SLOTS];
static ULONG64 next_os_thread = 1;               /* registry_lock */
static fltsim_system *systems[WATCH_SYSTEMS];    /* registry_lock */
static _Thread_local struct watch_slot *my_slot; /* this thread's, or NULL */
static fltsim_deadlock_hook deadlock_hook;       /* atomic */
static void *deadlock_ctx;

/* ---- naming a callout ---- */

/* A watchdog names the callout of another thread while it runs (see the top
 * of the file): ThreadSanitizer would call every read a race, which it is,
 * on purpose; and the operation a thread's state points at may meanwhile be
 * back in the operation cache, which poisons it for AddressSanitizer (the
 * memory stays allocated there), so AddressSanitizer does not check these
 * reads either. */
#define RACY_READER __attribute__((no_sanitize("thread", "address")))

/* UTF-16 to UTF-8, by hand: async-signal-safe. Cut at size - 1 bytes. */
RACY_READER static void utf8_of(const WCHAR *s, size_t count, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < count && s != NULL; i++) {
        ULONG c = s[i];
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < count && s[i + 1] >= 0xdc00 && s[i + 1] < 0xe000)
            c = 0x10000 + ((c - 0xd800) << 10) + (s[++i] - 0xdc00u);
        char b[4];
        size_t k;
        if (c < 0x80) {
            b[0] = (char)c;
            k = 1;
        } else if (c < 0x800) {
            b[0] = (char)(0xc0 | (c >> 6));
            b[1] = (char)(0x80 | (c & 0x3f));
            k = 2;
        } else if (c < 0x10000) {
            b[0] = (char)(0xe0 | (c >> 12));
            b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
            b[2] = (char)(0x80 | (c & 0x3f));
            k = 3;
        } else {
            b[0] = (char)(0xf0 | (c >> 18));
            b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
            b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
            b[3] = (char)(0x80 | (c & 0x3f));
            k = 4;
        }
        if (n + k >= size)
            break;
        for (size_t j = 0; j < k; j++)
            out[n++] = b[j];
    }
    out[n] = '\0';
}

RACY_READER static void copy_name(char *out, size_t size, const char *name)
{
    size_t n = 0;
    while (name != NULL && name[n] != '\0' && n + 1 < size) {
        out[n] = name[n];
        n++;
    }
    out[n] = '\0';
}

RACY_READER static void describe_op(const struct fltsim_op *op, struct fltsim_callout_info *info)
{
    info->op_id = op->id;
    info->major = op->iopb.MajorFunction;
    PFILE_OBJECT fo = op->file_object != NULL ? op->file_object : op->iopb.TargetFileObject;
    if (fo != NULL)
        utf8_of(fo->FileName.Buffer, fo->FileName.Length / sizeof(WCHAR), info->file,
                sizeof(info->file));
}

RACY_READER void fltsim__callout_describe(const struct fltsim_tls *t,
                                          struct fltsim_callout_info *info)
{
    memset(info, 0, sizeof(*info));
    info->thread_id = t->thread_id;
    const struct _FLT_FILTER *filter = t->filter;
    const struct fltsim_driver *drv = t->loading;
    if (filter == NULL && drv == NULL) {
        const struct w32_thread *w = t->w32;
        if (w != NULL) {
            copy_name(info->program, sizeof(info->program), w->proc->name);
            info->process_id = w->proc->pid;
        }
        return;
    }
    info->in_filter = true;
    copy_name(info->filter, sizeof(info->filter), filter != NULL ? filter->name8 : drv->name8);
    const struct fltsim_op *op = t->op;
    if (t->callout_what != NULL)
        info->callback = t->callout_what;
    else if (t->setup_instance != NULL)
        info->callback = "InstanceSetupCallback";
    else if (filter == NULL && drv->in_driver_entry)
        info->callback = "DriverEntry";
    else if (op != NULL && t->in_post)
        info->callback =
            op->drain_copy ? "draining post-operation callback" : "post-operation callback";
    else if (op != NULL)
        info->callback = "pre-operation callback";
    else
        info->callback = "callback (an instance, unload or other callback outside operations)";
    if (op != NULL)
        describe_op(op, info);
}

bool fltsim_callout_current(struct fltsim_callout_info *out)
{
    struct fltsim_sthread *st = fltsim__current;
    if (st == NULL) {
        memset(out, 0, sizeof(*out));
        return false;
    }
    fltsim__callout_describe(&st->tls, out);
    out->stack_low = st->stack_low;
    out->stack_high = st->stack_high;
    return out->in_filter;
}

/* ---- the thread registry ---- */

static void watch_init(void)
{
    if (uv_mutex_init(&registry_lock) != 0)
        abort();
}

/* A thread's exit: its slot is free again (its alternate stack with it). */
static void thread_exit(void *arg)
{
    struct watch_slot *slot = arg;
    if (slot->altstack != NULL) {
        stack_t off = {.ss_flags = SS_DISABLE};
        sigaltstack(&off, NULL);
    }
    uv_mutex_lock(&registry_lock);
    slot->current = NULL;
    slot->used = false;
    uv_mutex_unlock(&registry_lock);
    my_slot = NULL;
}

static void register_thread(struct fltsim_sthread *const *current)
{
    if (my_slot != NULL)
        return;
    struct watch_slot *slot = NULL;
    uv_mutex_lock(&registry_lock);
    for (size_t i = 0; i < WATCH_SLOTS && slot == NULL; i++)
        if (!slots[i].used)
            slot = &slots[i];
    if (slot != NULL) {
        slot->used = true;
        slot->os_thread = next_os_thread++;
        slot->current = current;
        if (slot->altstack == NULL && altstack_size != 0)
            slot->altstack = malloc(altstack_size);
    }
    uv_mutex_unlock(&registry_lock);
    if (slot == NULL)
        return; /* more threads than slots: this one goes unwatched */
    my_slot = slot;
    if (slot->altstack != NULL) {
        stack_t ss = {.ss_sp = slot->altstack, .ss_size = altstack_size};
        sigaltstack(&ss, NULL);
    }
    pthread_setspecific(exit_key, slot);
}

void fltsim_watch_enable(size_t altstack)
{
    uv_once(&watch_once, watch_init);
    uv_mutex_lock(&registry_lock);
    bool first = !__atomic_load_n(&enabled, __ATOMIC_SEQ_CST);
    if (first) {
        if (pthread_key_create(&exit_key, thread_exit) != 0) {
            uv_mutex_unlock(&registry_lock);
            return;
        }
        altstack_size = altstack;
        __atomic_store_n(&enabled, true, __ATOMIC_SEQ_CST);
    }
    uv_mutex_unlock(&registry_lock);
    if (first) {
        fltsim__current_sthread(); /* the calling thread's own state exists */
        register_thread((struct fltsim_sthread *const *)&fltsim__current);
    }
}

void fltsim__watch_thread_start(struct fltsim_sthread *const *current)
{
    if (__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
        register_thread(current);
}

void fltsim__watch_switched(void)
{
    struct watch_slot *slot = my_slot;
    if (slot != NULL)
        __atomic_add_fetch(&slot->switches, 1, __ATOMIC_RELAXED);
}

void fltsim__watch_barrier(void)
{
    if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
        return;
    uv_mutex_lock(&registry_lock);
    uv_mutex_unlock(&registry_lock);
}

RACY_READER size_t fltsim_watch_sample(struct fltsim_watch_thread *out, size_t cap)
{
    if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
        return 0;
    size_t n = 0;
    uv_mutex_lock(&registry_lock);
    for (size_t i = 0; i < WATCH_SLOTS; i++) {
        struct watch_slot *slot = &slots[i];
        if (!slot->used || slot->current == NULL)
            continue;
        const struct fltsim_sthread *st = *(struct fltsim_sthread *const volatile *)slot->current;
        if (st == NULL)
            continue;
        if (n < cap) {
            struct fltsim_watch_thread *w = &out[n];
            w->os_thread = slot->os_thread;
            ULONG64 seq = *(const volatile ULONG64 *)&st->tls.callout_seq;
            w->progress = (__atomic_load_n(&slot->switches, __ATOMIC_RELAXED) << 32) ^ seq ^
                          (ULONG64)(ULONG_PTR)st;
            fltsim__callout_describe(&st->tls, &w->callout);
        }
        n++;
    }
    uv_mutex_unlock(&registry_lock);
    return n;
}

/* ---- systems and their pended operations ---- */

void fltsim__watch_system_created(fltsim_system *sys)
{
    if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
        return;
    uv_mutex_lock(&registry_lock);
    for (size_t i = 0; i < WATCH_SYSTEMS; i++)
        if (systems[i] == NULL) {
            systems[i] = sys;
            break;
        }
    uv_mutex_unlock(&registry_lock);
}

void fltsim__watch_system_destroyed(fltsim_system *sys)
{
    if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
        return;
    uv_mutex_lock(&registry_lock);
    for (size_t i = 0; i < WATCH_SYSTEMS; i++)
        if (systems[i] == sys)
            systems[i] = NULL;
    uv_mutex_unlock(&registry_lock);
}

static bool try_spin(LONG *lock)
{
    for (int i = 0; i < 1000; i++) {
        if (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE) == 0)
            return true;
        sched_yield();
    }
    return false;
}

static bool try_mutex(uv_mutex_t *m)
{
    for (int i = 0; i < 100; i++) {
        if (uv_mutex_trylock(m) == 0)
            return true;
        uv_sleep(1);
    }
    return false;
}

static void pended_line(const struct fltsim_op *op, ULONG node, const char *where,
                        void (*line)(void *ctx, const char *text), void *ctx)
{
    const struct _FLT_INSTANCE *inst = op->nodes[node].instance;
    struct fltsim_callout_info info;
    memset(&info, 0, sizeof(info));
    describe_op(op, &info);
    const char *major = fltsim_major_name(info.major);
    /* Teardown waits for it: what rule V26 is about (SPEC 2.6). */
    bool teardown = __atomic_load_n(&inst->state, __ATOMIC_SEQ_CST) >= FLTSIM_INSTANCE_TEARING_DOWN;
    char text[1024];
    snprintf(text, sizeof(text),
             "%soperation #%llu %s %s pended in its %s callback by %s (instance %s) and never "
             "completed%s",
             teardown ? "V26: " : "pended: ", (unsigned long long)info.op_id,
             major != NULL ? major : "?", info.file, where, inst->filter->name8, inst->name8,
             teardown ? "; the instance's teardown waits for it" : "");
    line(ctx, text);
}

static ULONG pended_on_volume(PFLT_VOLUME v, void (*line)(void *ctx, const char *text), void *ctx)
{
    ULONG count = 0;
    for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
        struct fltsim_inflight_shard *shard = &v->inflight[s];
        if (!try_spin(&shard->lock)) {
            char text[256];
            snprintf(text, sizeof(text), "(the operations in flight on %s could not be read)",
                     v->name8);
            line(ctx, text);
            continue;
        }
        for (PLIST_ENTRY e = shard->ops.Flink; e != &shard->ops; e = e->Flink) {
            const struct fltsim_op *op = CONTAINING_RECORD(e, struct fltsim_op, inflight_link);
            if (__atomic_load_n(&op->pre_pend, __ATOMIC_SEQ_CST) == FLTSIM_PEND_PENDED) {
                pended_line(op, __atomic_load_n(&op->pre_pend_node, __ATOMIC_SEQ_CST),
                            "pre-operation", line, ctx);
                count++;
            }
            if (__atomic_load_n(&op->post_pend, __ATOMIC_SEQ_CST) == FLTSIM_PEND_PENDED) {
                pended_line(op, __atomic_load_n(&op->post_pend_node, __ATOMIC_SEQ_CST),
                            "post-operation", line, ctx);
                count++;
            }
        }
        fltsim__spin_unlock(&shard->lock);
    }
    return count;
}

ULONG fltsim_watch_pended(void (*line)(void *ctx, const char *text), void *ctx)
{
    if (!__atomic_load_n(&enabled, __ATOMIC_ACQUIRE) || line == NULL)
        return 0;
    ULONG count = 0;
    uv_mutex_lock(&registry_lock);
    for (size_t i = 0; i < WATCH_SYSTEMS; i++) {
        fltsim_system *sys = systems[i];
        if (sys == NULL)
            continue;
        if (!try_mutex(&sys->lock)) {
            line(ctx, "(a system is busy: its pended operations could not be read)");
            continue;
        }
        for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink)
            count += pended_on_volume(CONTAINING_RECORD(e, struct _FLT_VOLUME, link), line, ctx);
        uv_mutex_unlock(&sys->lock);
    }
    uv_mutex_unlock(&registry_lock);
    return count;
}

/* ---- the deadlock hook ---- */

void fltsim_set_deadlock_hook(fltsim_deadlock_hook hook, void *ctx)
{
    __atomic_store_n(&deadlock_ctx, ctx, __ATOMIC_SEQ_CST);
    __atomic_store_n(&deadlock_hook, hook, __ATOMIC_SEQ_CST);
}

fltsim_deadlock_hook fltsim__deadlock_hook(void **ctx)
{
    *ctx = __atomic_load_n(&deadlock_ctx, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&deadlock_hook, __ATOMIC_SEQ_CST);
}
