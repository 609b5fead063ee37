/*
 * FltMgr contexts (SPEC 7.1, 7.2): FltAllocateContext and the reference
 * counting, set, get and delete routines of volume, instance, file, stream
 * and stream-handle contexts, and their deletion when the object goes
 * (instance detach, volume dismount, filter unload, the file system's
 * stream teardown, a file object's close). Verifier rules V19 (a call at the
 * wrong time), V20 (allocation) and V21 (reference misuse, contexts still
 * referenced at unload) are checked here.
 *
 * Every context has a header of the model's own, found through a table of
 * live contexts keyed by the pointer the filter holds, so a release of
 * something that is not a context (or no longer one) is reported without
 * touching its memory. The contexts that are set are in a second table
 * keyed by the object they hang off (a stream's FsContext, its file's key
 * (stream_file.c), a file object, an instance, a volume). One process-wide
 * lock guards both tables and every count; no filter code runs with it held.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch_internal.h"
#include "section_internal.h"

#define CTX_MAGIC 0x58544346u /* "FCTX" */
#define CTX_TABLE_MIN 64

struct ctx {
    ULONG magic;
    FLT_CONTEXT_TYPE type;
    LONG refs; /* ctx_lock */
    fltsim_system *sys;
    struct _FLT_FILTER *filter; /* memory ref held */
    const FLT_CONTEXT_REGISTRATION *reg;
    PVOID user; /* what the filter holds */
    const char *file;
    int line;
    struct ctx *live_next; /* live table chain */
    /* while set (ctx_lock): the object and the owner (instance, or the
     * filter for a volume context) */
    bool linked;
    void *object;
    void *owner;
    struct ctx *set_next;    /* set table chain */
    struct fltsim_task task; /* the free, queued at DISPATCH_LEVEL */
};

struct table {
    struct ctx **buckets;
    size_t size, count;
};

static uv_once_t ctx_once = UV_ONCE_INIT;
static uv_mutex_t ctx_lock;
static struct table live_table, set_table; /* ctx_lock */

static void ctx_init(void)
{
    if (uv_mutex_init(&ctx_lock) != 0)
        abort();
}

static void lock(void)
{
    uv_once(&ctx_once, ctx_init);
    uv_mutex_lock(&ctx_lock);
}

static void unlock(void)
{
    uv_mutex_unlock(&ctx_lock);
}

static size_t hash_ptr(const void *p, size_t size)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)(x & (size - 1));
}

static struct ctx **chain_next(struct ctx *c, bool set)
{
    return set ? &c->set_next : &c->live_next;
}

static const void *key_of(const struct ctx *c, bool set)
{
    return set ? c->object : c->user;
}

/* ctx_lock held: false when out of memory (the table is unchanged). */
static bool table_grow(struct table *t, bool set)
{
    if (t->count < t->size)
        return true;
    size_t size = t->size == 0 ? CTX_TABLE_MIN : t->size * 2;
    struct ctx **b = calloc(size, sizeof(*b));
    if (b == NULL)
        return t->count < t->size * 2 && t->size != 0;
    for (size_t i = 0; i < t->size; i++) {
        struct ctx *c = t->buckets[i];
        while (c != NULL) {
            struct ctx *next = *chain_next(c, set);
            size_t h = hash_ptr(key_of(c, set), size);
            *chain_next(c, set) = b[h];
            b[h] = c;
            c = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->size = size;
    return true;
}

static bool table_add(struct table *t, struct ctx *c, bool set)
{
    if (!table_grow(t, set))
        return false;
    size_t h = hash_ptr(key_of(c, set), t->size);
    *chain_next(c, set) = t->buckets[h];
    t->buckets[h] = c;
    t->count++;
    return true;
}

static void table_remove(struct table *t, struct ctx *c, bool set)
{
    struct ctx **p = &t->buckets[hash_ptr(key_of(c, set), t->size)];
    while (*p != c)
        p = chain_next(*p, set);
    *p = *chain_next(c, set);
    t->count--;
}

/* ctx_lock held: the live context the filter's pointer is, or NULL. */
static struct ctx *live_find(const void *user)
{
    if (user == NULL || live_table.size == 0)
        return NULL;
    for (struct ctx *c = live_table.buckets[hash_ptr(user, live_table.size)]; c != NULL;
         c = c->live_next)
        if (c->user == user)
            return c;
    return NULL;
}

/* ctx_lock held: the context of type set on object for owner, or NULL. */
static struct ctx *set_find(FLT_CONTEXT_TYPE type, const void *object, const void *owner)
{
    if (set_table.size == 0)
        return NULL;
    for (struct ctx *c = set_table.buckets[hash_ptr(object, set_table.size)]; c != NULL;
         c = c->set_next)
        if (c->object == object && c->owner == owner && c->type == type)
            return c;
    return NULL;
}

static const char *type_name(FLT_CONTEXT_TYPE type)
{
    switch (type) {
    case FLT_VOLUME_CONTEXT:
        return "volume";
    case FLT_INSTANCE_CONTEXT:
        return "instance";
    case FLT_FILE_CONTEXT:
        return "file";
    case FLT_STREAM_CONTEXT:
        return "stream";
    case FLT_STREAMHANDLE_CONTEXT:
        return "stream-handle";
    case FLT_TRANSACTION_CONTEXT:
        return "transaction";
    case FLT_SECTION_CONTEXT:
        return "section";
    default:
        return "unknown";
    }
}

static const char *site_file(const char *file)
{
    if (file == NULL)
        return "an unknown site (a call through a pointer)";
    const char *slash = strrchr(file, '/');
    return slash != NULL ? slash + 1 : file;
}

/* A report to the system whose filter code runs on this thread, else to
 * sys (the one the context or filter belongs to; NULL: standard error). */
static void report_to(fltsim_system *sys, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_to(fltsim_system *sys, const char *rule, const char *fmt, ...)
{
    struct fltsim_tls *t = fltsim__tls();
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, rule, "7.2", "%s", text);
    else if (sys != NULL)
        fltsim__report(sys, NULL, NULL, NULL, rule, "7.2", "%s", text);
    else
        fprintf(stderr, "fltsim: %s: %s\n", rule, text);
}

/* A context event for the trace (SPEC: a learner sees when a context dies). */
static void trace_context(fltsim_system *sys, enum fltsim_event_type type, struct _FLT_FILTER *f,
                          struct _FLT_INSTANCE *inst, FLT_CONTEXT_TYPE ctype, NTSTATUS status)
{
    if (!fltsim__tracing(sys))
        return;
    struct fltsim_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.filter = f != NULL ? f->name8 : NULL;
    if (inst != NULL) {
        ev.instance = inst->name8;
        ev.altitude = inst->altitude.text;
    }
    ev.detail = type_name(ctype);
    ev.status = status;
    fltsim__event_thread(&ev);
    fltsim__trace(sys, &ev);
}

/* ---- freeing ---- */

struct cleanup_call {
    PFLT_CONTEXT_CLEANUP_CALLBACK cleanup;
    PFLT_CONTEXT_FREE_CALLBACK free_cb;
    PVOID user;
    FLT_CONTEXT_TYPE type;
};

static void cleanup_thunk(void *p)
{
    struct cleanup_call *call = p;
    if (call->cleanup != NULL)
        call->cleanup(call->user, call->type);
    if (call->free_cb != NULL)
        call->free_cb(call->user, call->type);
}

/* The last reference is gone: the cleanup callback, once, then the memory
 * (SPEC 7.1: cleanup just before FltMgr frees it), at <= APC_LEVEL. */
static void ctx_free(struct ctx *c)
{
    struct fltsim_tls *t = fltsim__tls();
    KIRQL irql = t->irql;
    if (irql > APC_LEVEL)
        t->irql = PASSIVE_LEVEL; /* only reached from a worker: see release */
    trace_context(c->sys, FLTSIM_EV_CONTEXT_CLEANUP, c->filter, NULL, c->type, STATUS_SUCCESS);
    struct cleanup_call call = {c->reg->ContextCleanupCallback, c->reg->ContextFreeCallback,
                                c->user, c->type};
    if (call.cleanup != NULL || call.free_cb != NULL) {
        struct fltsim_callout save;
        fltsim__enter(&save, c->sys, c->filter, NULL);
        t->callout_what = "its context cleanup callback";
        struct fltsim_seh_frame seh;
        if (!fltsim__seh_call(&seh, cleanup_thunk, &call))
            fltsim__seh_uncaught(&seh, c->sys, c->filter, NULL, NULL,
                                 "its context cleanup callback",
                                 "fltsim ends the callback and frees the context");
        fltsim__leave(&save);
    }
    if (call.free_cb == NULL)
        fltsim__pool_free(c->user);
    t->irql = irql;
    fltsim__filter_unref(c->filter);
    c->magic = FLTSIM_MAGIC_DEAD;
    free(c);
}

static void ctx_free_task(struct fltsim_task *task)
{
    ctx_free(CONTAINING_RECORD(task, struct ctx, task));
}

/* Drops one reference the model holds (set, or taken for the caller). */
static void ctx_put(struct ctx *c)
{
    lock();
    bool last = --c->refs == 0;
    if (last)
        table_remove(&live_table, c, false);
    unlock();
    if (!last)
        return;
    if (fltsim__tls()->irql >= DISPATCH_LEVEL && c->sys->executor != NULL) {
        c->task.run = ctx_free_task; /* a work item frees it (SPEC 7.2) */
        c->task.kind = FLTSIM_TASK_WORK;
        fltsim__submit(c->sys->executor, &c->task);
        return;
    }
    ctx_free(c);
}

/* ---- allocation ---- */

static bool single_type(FLT_CONTEXT_TYPE type)
{
    return type == FLT_VOLUME_CONTEXT || type == FLT_INSTANCE_CONTEXT || type == FLT_FILE_CONTEXT ||
           type == FLT_STREAM_CONTEXT || type == FLT_STREAMHANDLE_CONTEXT ||
           type == FLT_TRANSACTION_CONTEXT || type == FLT_SECTION_CONTEXT;
}

/* The registration entry a request is served from (SPEC 7.1): an entry with
 * an allocate callback, else the smallest fixed-size entry that fits, else
 * the variable-size one. */
static const FLT_CONTEXT_REGISTRATION *find_entry(const struct _FLT_FILTER *f,
                                                  FLT_CONTEXT_TYPE type, SIZE_T size)
{
    const FLT_CONTEXT_REGISTRATION *best = NULL, *variable = NULL;
    for (const FLT_CONTEXT_REGISTRATION *e = f->contexts;
         e != NULL && e->ContextType != FLT_CONTEXT_END; e++) {
        if (e->ContextType != type)
            continue;
        if (e->ContextAllocateCallback != NULL)
            return e;
        if (e->Size == FLT_VARIABLE_SIZED_CONTEXTS) {
            variable = e;
            continue;
        }
        bool fits = (e->Flags & FLTFL_CONTEXT_REGISTRATION_NO_EXACT_SIZE_MATCH) ? size <= e->Size
                                                                                : size == e->Size;
        if (fits && (best == NULL || e->Size < best->Size))
            best = e;
    }
    return best != NULL ? best : variable;
}

NTSTATUS fltsim_FltAllocateContext_at(PFLT_FILTER Filter, FLT_CONTEXT_TYPE ContextType,
                                      SIZE_T ContextSize, POOL_TYPE PoolType,
                                      PFLT_CONTEXT *ReturnedContext, const char *file, int line)
{
    static const char api[] = "FltAllocateContext";
    if (ReturnedContext == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: ReturnedContext is NULL", api);
    *ReturnedContext = NULL;
    if (!fltsim__is_filter(Filter))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s(%p): not a filter", api, (void *)Filter);
    fltsim__check_irql(Filter->sys, APC_LEVEL, api);
    LONG state = __atomic_load_n(&Filter->state, __ATOMIC_SEQ_CST);
    if (state == FLTSIM_FILTER_UNREGISTERING || state == FLTSIM_FILTER_UNREGISTERED)
        return fltsim__fail(STATUS_FLT_DELETING_OBJECT, "%s: %s is unloading", api, Filter->name8);
    if (!single_type(ContextType))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: ContextType 0x%x is not one type", api,
                            (unsigned)ContextType);
    if (ContextSize == 0 || ContextSize > MAXUSHORT) {
        report_to(Filter->sys, "V20", "%s(%s, %s context): ContextSize %zu is %s", api,
                  Filter->name8, type_name(ContextType), (size_t)ContextSize,
                  ContextSize == 0 ? "zero" : "above MAXUSHORT");
        NTSTATUS s = ContextSize == 0 ? STATUS_INVALID_PARAMETER : STATUS_INVALID_BUFFER_SIZE;
        return fltsim__fail(s, "%s: ContextSize %zu out of range", api, (size_t)ContextSize);
    }
    ULONG base = (ULONG)PoolType & ~(ULONG)POOL_NX_ALLOCATION;
    if (base != NonPagedPool && base != PagedPool)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: PoolType %u is not NonPagedPool, "
                            "PagedPool or NonPagedPoolNx",
                            api, (unsigned)PoolType);
    if (ContextType == FLT_VOLUME_CONTEXT && base != NonPagedPool)
        report_to(Filter->sys, "V20",
                  "%s(%s): a volume context must come from NonPagedPool, not PagedPool", api,
                  Filter->name8);
    const FLT_CONTEXT_REGISTRATION *e = find_entry(Filter, ContextType, ContextSize);
    if (e == NULL)
        return fltsim__fail(STATUS_FLT_CONTEXT_ALLOCATION_NOT_FOUND,
                            "%s(%s): no registered %s context entry fits %zu bytes", api,
                            Filter->name8, type_name(ContextType), (size_t)ContextSize);
    struct ctx *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    PVOID user;
    if (e->ContextAllocateCallback != NULL) {
        struct fltsim_callout save;
        fltsim__enter(&save, Filter->sys, Filter, fltsim__tls()->op);
        user = e->ContextAllocateCallback(PoolType, ContextSize, ContextType);
        fltsim__leave(&save);
    } else {
        SIZE_T bytes = e->Size == FLT_VARIABLE_SIZED_CONTEXTS ? ContextSize : e->Size;
        user = fltsim__pool_allocate_at((ULONG)PoolType, bytes, e->PoolTag, file, line);
    }
    if (user == NULL) {
        free(c);
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
    }
    c->magic = CTX_MAGIC;
    c->type = ContextType;
    c->refs = 1;
    c->sys = Filter->sys;
    c->filter = Filter;
    c->reg = e;
    c->user = user;
    c->file = file;
    c->line = line;
    fltsim__filter_ref(Filter);
    lock();
    bool added = table_add(&live_table, c, false);
    unlock();
    if (!added) {
        if (e->ContextFreeCallback != NULL)
            e->ContextFreeCallback(user, ContextType);
        else
            fltsim__pool_free(user);
        fltsim__filter_unref(Filter);
        free(c);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    *ReturnedContext = user;
    return STATUS_SUCCESS;
}

#undef FltAllocateContext
NTSTATUS FltAllocateContext(PFLT_FILTER Filter, FLT_CONTEXT_TYPE ContextType, SIZE_T ContextSize,
                            POOL_TYPE PoolType, PFLT_CONTEXT *ReturnedContext)
{
    return fltsim_FltAllocateContext_at(Filter, ContextType, ContextSize, PoolType, ReturnedContext,
                                        NULL, 0);
}

/* ---- references ---- */

VOID FltReferenceContext(PFLT_CONTEXT Context)
{
    lock();
    struct ctx *c = live_find(Context);
    if (c != NULL)
        c->refs++;
    unlock();
    if (c == NULL)
        report_to(NULL, "V21",
                  "FltReferenceContext(%p): not a live context (freed already, or never "
                  "allocated by FltAllocateContext); nothing referenced",
                  Context);
}

VOID FltReleaseContext(PFLT_CONTEXT Context)
{
    lock();
    struct ctx *c = live_find(Context);
    bool over = c != NULL && c->linked && c->refs <= 1;
    unlock();
    if (c == NULL) {
        report_to(NULL, "V21",
                  "FltReleaseContext(%p): not a live context (released once too often, or "
                  "never allocated by FltAllocateContext): on Windows bugcheck 0xF5/0x6D; nothing "
                  "released",
                  Context);
        return;
    }
    if (over) { /* only the set reference is left: it is FltMgr's */
        report_to(c->sys, "V21",
                  "FltReleaseContext(%p): the %s context of %s allocated at %s:%d is released "
                  "once too often (only the reference its object holds is left; bugcheck 0xF5/0x6D "
                  "on Windows); nothing released",
                  Context, type_name(c->type), c->filter->name8, site_file(c->file), c->line);
        return;
    }
    ctx_put(c);
}

/* ---- when contexts may be used (V19) ---- */

/* Whether the running callback is this file object's pre-create or
 * post-close; reported (V19) with the routine's name. */
static bool wrong_time(fltsim_system *sys, const char *api, PFILE_OBJECT fo, bool file_bound)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->irql >= DISPATCH_LEVEL) {
        report_to(
            sys, "V19",
            "%s at DISPATCH_LEVEL: contexts cannot be got, set or deleted there (a "
            "post-operation callback at DISPATCH_LEVEL uses FltDoCompletionProcessingWhenSafe "
            "or a work item)",
            api);
        return false; /* reported; the call goes on */
    }
    if (!file_bound || t->op == NULL || t->op->data.Iopb->TargetFileObject != fo)
        return false;
    UCHAR major = t->op->data.Iopb->MajorFunction;
    if (major == IRP_MJ_CREATE && !t->in_post) {
        report_to(sys, "V19",
                  "%s in pre-create: the file object has no stream yet (allocate the context "
                  "here, pass it as the completion context and set it in post-create)",
                  api);
        return true;
    }
    if (major == IRP_MJ_CLOSE && t->in_post) {
        report_to(sys, "V19", "%s in post-close: the stream and handle contexts are already gone",
                  api);
        return true;
    }
    return false;
}

/* ---- targets ---- */

struct target {
    FLT_CONTEXT_TYPE type;
    void *object, *owner;
    struct _FLT_FILTER *filter;
    struct _FLT_INSTANCE *instance; /* NULL for a volume context */
    struct _FLT_VOLUME *volume;     /* for a volume context */
};

/* Resolves a target; an error status (last error set) when it is not one. */
static NTSTATUS target_of(const char *api, FLT_CONTEXT_TYPE type, PFLT_FILTER filter,
                          PFLT_VOLUME volume, PFLT_INSTANCE instance, PFILE_OBJECT fo,
                          struct target *out)
{
    memset(out, 0, sizeof(*out));
    out->type = type;
    if (type == FLT_VOLUME_CONTEXT) {
        if (!fltsim__is_filter(filter) || !fltsim__is_volume(volume))
            return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: a filter and a volume are required",
                                api);
        out->object = volume;
        out->owner = filter;
        out->filter = filter;
        out->volume = volume;
        wrong_time(volume->sys, api, NULL, false);
        if (__atomic_load_n(&volume->dismounting, __ATOMIC_SEQ_CST))
            return fltsim__fail(STATUS_FLT_DELETING_OBJECT, "%s: %s is dismounting", api,
                                volume->name8);
        return STATUS_SUCCESS;
    }
    if (!fltsim__is_instance(instance))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s(%p): not an instance", api,
                            (void *)instance);
    out->instance = instance;
    out->owner = instance;
    out->filter = instance->filter;
    if (type == FLT_INSTANCE_CONTEXT) {
        out->object = instance;
    } else {
        if (fo == NULL)
            return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: FileObject is NULL", api);
        if (wrong_time(instance->filter->sys, api, fo, true))
            return fltsim__fail(STATUS_NOT_SUPPORTED, "%s: no stream at this point", api);
        if (type == FLT_STREAMHANDLE_CONTEXT) {
            out->object = fo;
            if (fo->FsContext == NULL)
                return fltsim__fail(STATUS_NOT_SUPPORTED, "%s: the file object is not open", api);
        } else {
            out->object = fo->FsContext;
            if (out->object == NULL)
                return fltsim__fail(STATUS_NOT_SUPPORTED, "%s: the file object has no stream", api);
            if (type == FLT_FILE_CONTEXT) /* shared by the streams of the file */
                out->object = fltsim__stream_file_key(fo->FsContext);
        }
        return STATUS_SUCCESS;
    }
    wrong_time(instance->filter->sys, api, NULL, false);
    return STATUS_SUCCESS;
}

/* ctx_lock held: whether the target is going away (set then fails). */
static bool target_deleting(const struct target *tg)
{
    if (tg->volume != NULL)
        return __atomic_load_n(&tg->volume->dismounting, __ATOMIC_SEQ_CST) != 0 ||
               __atomic_load_n(&tg->filter->state, __ATOMIC_SEQ_CST) >= FLTSIM_FILTER_UNREGISTERING;
    return __atomic_load_n(&tg->instance->state, __ATOMIC_SEQ_CST) != FLTSIM_INSTANCE_ATTACHED &&
           __atomic_load_n(&tg->instance->state, __ATOMIC_SEQ_CST) != FLTSIM_INSTANCE_INITING;
}

static NTSTATUS set_context(const char *api, const struct target *tg, FLT_SET_CONTEXT_OPERATION op,
                            PFLT_CONTEXT new_ctx, PFLT_CONTEXT *old_ctx)
{
    if (old_ctx != NULL)
        *old_ctx = NULL;
    if (op != FLT_SET_CONTEXT_REPLACE_IF_EXISTS && op != FLT_SET_CONTEXT_KEEP_IF_EXISTS)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: Operation %d is not one of "
                            "FLT_SET_CONTEXT_OPERATION",
                            api, (int)op);
    struct ctx *drop = NULL;
    NTSTATUS status = STATUS_SUCCESS;
    lock();
    struct ctx *c = live_find(new_ctx);
    if (c == NULL || c->type != tg->type || c->filter != tg->filter) {
        unlock();
        report_to(tg->filter->sys, "V21", "%s(%p): %s", api, new_ctx,
                  c == NULL             ? "NewContext is not a live context"
                  : c->type != tg->type ? "NewContext is a context of another type"
                                        : "NewContext belongs to another filter");
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: bad NewContext", api);
    }
    struct ctx *existing = set_find(tg->type, tg->object, tg->owner);
    if (c->linked) {
        status = STATUS_FLT_CONTEXT_ALREADY_LINKED;
    } else if (target_deleting(tg)) {
        status = STATUS_FLT_DELETING_OBJECT;
    } else if (existing != NULL && op == FLT_SET_CONTEXT_KEEP_IF_EXISTS) {
        status = STATUS_FLT_CONTEXT_ALREADY_DEFINED;
        if (old_ctx != NULL) {
            existing->refs++;
            *old_ctx = existing->user;
        }
    } else {
        if (existing != NULL) {
            table_remove(&set_table, existing, true);
            existing->linked = false;
            if (old_ctx != NULL)
                *old_ctx = existing->user; /* the set reference becomes the caller's */
            else
                drop = existing;
        }
        c->object = tg->object;
        c->owner = tg->owner;
        if (table_add(&set_table, c, true)) {
            c->linked = true;
            c->refs++;
        } else {
            status = STATUS_INSUFFICIENT_RESOURCES;
        }
    }
    unlock();
    trace_context(tg->filter->sys, FLTSIM_EV_CONTEXT_SET, tg->filter, tg->instance, tg->type,
                  status);
    if (drop != NULL)
        ctx_put(drop);
    if (!NT_SUCCESS(status))
        fltsim__fail(status, "%s: 0x%08x", api, (unsigned)status);
    return status;
}

static NTSTATUS get_context(const char *api, const struct target *tg, PFLT_CONTEXT *out)
{
    lock();
    struct ctx *c = set_find(tg->type, tg->object, tg->owner);
    if (c != NULL)
        c->refs++;
    unlock();
    *out = c != NULL ? c->user : NULL;
    if (c == NULL)
        return fltsim__fail(STATUS_NOT_FOUND, "%s: no %s context is set", api, type_name(tg->type));
    return STATUS_SUCCESS;
}

static NTSTATUS delete_context(const char *api, const struct target *tg, PFLT_CONTEXT *old_ctx)
{
    if (old_ctx != NULL)
        *old_ctx = NULL;
    lock();
    struct ctx *c = set_find(tg->type, tg->object, tg->owner);
    if (c != NULL) {
        table_remove(&set_table, c, true);
        c->linked = false;
    }
    unlock();
    if (c == NULL)
        return fltsim__fail(STATUS_NOT_FOUND, "%s: no %s context is set", api, type_name(tg->type));
    if (old_ctx != NULL)
        *old_ctx = c->user;
    else
        ctx_put(c);
    return STATUS_SUCCESS;
}

bool fltsim__context_is_section(PFLT_CONTEXT ctx, const struct _FLT_FILTER *filter)
{
    lock();
    struct ctx *c = live_find(ctx);
    bool is = c != NULL && c->type == FLT_SECTION_CONTEXT && c->filter == filter;
    unlock();
    return is;
}

VOID FltDeleteContext(PFLT_CONTEXT Context)
{
    lock();
    struct ctx *c = live_find(Context);
    bool section = c != NULL && c->type == FLT_SECTION_CONTEXT;
    /* Only the set reference left: the caller holds none (V21). */
    bool unheld = c != NULL && c->linked && c->refs <= 1;
    fltsim_system *sys = c != NULL ? c->sys : NULL;
    bool unlinked = c != NULL && c->linked && !section;
    if (unlinked) {
        table_remove(&set_table, c, true);
        c->linked = false;
    }
    unlock();
    if (c == NULL || unheld)
        report_to(sys, "V21",
                  "FltDeleteContext(%p): %s; the caller must hold a reference to what it "
                  "deletes",
                  Context, c == NULL ? "not a live context" : "no reference is held");
    else if (section)
        report_to(sys, "V21",
                  "FltDeleteContext(%p): a section context is deleted with "
                  "FltCloseSectionForDataScan, not FltDeleteContext",
                  Context);
    if (unlinked)
        ctx_put(c); /* the set reference; the caller's stays */
}

/* ---- the routines per type ---- */

#define TARGET(api, type, f, v, i, fo)                                                             \
    struct target tg;                                                                              \
    NTSTATUS status = target_of(api, type, f, v, i, fo, &tg);                                      \
    if (!NT_SUCCESS(status))                                                                       \
    return status

NTSTATUS FltSetVolumeContext(PFLT_VOLUME Volume, FLT_SET_CONTEXT_OPERATION Operation,
                             PFLT_CONTEXT NewContext, PFLT_CONTEXT *OldContext)
{
    /* The filter is the context's own. */
    lock();
    struct ctx *c = live_find(NewContext);
    PFLT_FILTER f = c != NULL ? c->filter : NULL;
    unlock();
    if (OldContext != NULL)
        *OldContext = NULL;
    if (f == NULL) {
        report_to(NULL, "V21", "FltSetVolumeContext(%p): NewContext is not a live context",
                  NewContext);
        return fltsim__fail(STATUS_INVALID_PARAMETER, "FltSetVolumeContext: bad NewContext");
    }
    TARGET("FltSetVolumeContext", FLT_VOLUME_CONTEXT, f, Volume, NULL, NULL);
    return set_context("FltSetVolumeContext", &tg, Operation, NewContext, OldContext);
}

NTSTATUS FltGetVolumeContext(PFLT_FILTER Filter, PFLT_VOLUME Volume, PFLT_CONTEXT *Context)
{
    *Context = NULL;
    TARGET("FltGetVolumeContext", FLT_VOLUME_CONTEXT, Filter, Volume, NULL, NULL);
    return get_context("FltGetVolumeContext", &tg, Context);
}

NTSTATUS FltDeleteVolumeContext(PFLT_FILTER Filter, PFLT_VOLUME Volume, PFLT_CONTEXT *OldContext)
{
    TARGET("FltDeleteVolumeContext", FLT_VOLUME_CONTEXT, Filter, Volume, NULL, NULL);
    return delete_context("FltDeleteVolumeContext", &tg, OldContext);
}

#define PER_INSTANCE(Name, TYPE, FOPARAM, FOARG)                                                   \
    NTSTATUS FltSet##Name##Context(PFLT_INSTANCE Instance FOPARAM,                                 \
                                   FLT_SET_CONTEXT_OPERATION Operation, PFLT_CONTEXT NewContext,   \
                                   PFLT_CONTEXT *OldContext)                                       \
    {                                                                                              \
        if (OldContext != NULL)                                                                    \
            *OldContext = NULL;                                                                    \
        TARGET("FltSet" #Name "Context", TYPE, NULL, NULL, Instance, FOARG);                       \
        return set_context("FltSet" #Name "Context", &tg, Operation, NewContext, OldContext);      \
    }                                                                                              \
    NTSTATUS FltGet##Name##Context(PFLT_INSTANCE Instance FOPARAM, PFLT_CONTEXT *Context)          \
    {                                                                                              \
        *Context = NULL;                                                                           \
        TARGET("FltGet" #Name "Context", TYPE, NULL, NULL, Instance, FOARG);                       \
        return get_context("FltGet" #Name "Context", &tg, Context);                                \
    }                                                                                              \
    NTSTATUS FltDelete##Name##Context(PFLT_INSTANCE Instance FOPARAM, PFLT_CONTEXT *OldContext)    \
    {                                                                                              \
        if (OldContext != NULL)                                                                    \
            *OldContext = NULL;                                                                    \
        TARGET("FltDelete" #Name "Context", TYPE, NULL, NULL, Instance, FOARG);                    \
        return delete_context("FltDelete" #Name "Context", &tg, OldContext);                       \
    }

#define COMMA ,
PER_INSTANCE(Instance, FLT_INSTANCE_CONTEXT, , NULL)
PER_INSTANCE(File, FLT_FILE_CONTEXT, COMMA PFILE_OBJECT FileObject, FileObject)
PER_INSTANCE(Stream, FLT_STREAM_CONTEXT, COMMA PFILE_OBJECT FileObject, FileObject)
PER_INSTANCE(StreamHandle, FLT_STREAMHANDLE_CONTEXT, COMMA PFILE_OBJECT FileObject, FileObject)

/* ---- objects going away ---- */

/* Unlinks every set context match() accepts and drops its set reference. */
static void unlink_where(bool (*match)(const struct ctx *c, const void *arg), const void *arg,
                         bool one_bucket)
{
    struct ctx *gone = NULL;
    lock();
    size_t first = 0, last = set_table.size;
    if (one_bucket && set_table.size != 0) {
        first = hash_ptr(arg, set_table.size);
        last = first + 1;
    }
    for (size_t i = first; i < last; i++) {
        struct ctx **p = &set_table.buckets[i];
        while (*p != NULL) {
            struct ctx *c = *p;
            if (!match(c, arg)) {
                p = &c->set_next;
                continue;
            }
            *p = c->set_next;
            set_table.count--;
            c->linked = false;
            c->set_next = gone;
            gone = c;
        }
    }
    unlock();
    while (gone != NULL) {
        struct ctx *next = gone->set_next;
        ctx_put(gone);
        gone = next;
    }
}

static bool on_stream(const struct ctx *c, const void *fs_context)
{
    return c->object == fs_context && c->type == FLT_STREAM_CONTEXT;
}

static bool on_file(const struct ctx *c, const void *file_key)
{
    return c->object == file_key && c->type == FLT_FILE_CONTEXT;
}

static bool on_handle(const struct ctx *c, const void *fo)
{
    return c->object == fo && c->type == FLT_STREAMHANDLE_CONTEXT;
}

static bool of_instance(const struct ctx *c, const void *inst)
{
    return c->owner == inst;
}

static bool on_volume(const struct ctx *c, const void *volume)
{
    return c->object == volume && c->type == FLT_VOLUME_CONTEXT;
}

static bool volume_of_filter(const struct ctx *c, const void *filter)
{
    return c->owner == filter && c->type == FLT_VOLUME_CONTEXT;
}

void fltsim_stream_teardown(void *fs_context)
{
    if (fs_context == NULL)
        return;
    unlink_where(on_stream, fs_context, true);
    fltsim__stream_file_forget(fs_context);
}

void fltsim_file_teardown(void *file_key)
{
    if (file_key != NULL)
        unlink_where(on_file, file_key, true);
}

void fltsim__contexts_file_object_closed(PFILE_OBJECT fo)
{
    unlink_where(on_handle, fo, true);
}

void fltsim__contexts_instance_gone(struct _FLT_INSTANCE *inst)
{
    unlink_where(of_instance, inst, false);
}

void fltsim__contexts_volume_gone(struct _FLT_VOLUME *volume)
{
    unlink_where(on_volume, volume, true);
}

/* The filter unregisters: its volume contexts go, then what its code still
 * holds is reported (V21), one report per context, naming where it was
 * allocated (Windows waits for them: the unload hangs). */
void fltsim__contexts_filter_gone(struct _FLT_FILTER *filter)
{
    unlink_where(volume_of_filter, filter, false);
    PVOID *blocks = NULL;
    size_t count = 0, capacity = 0;
    lock();
    for (size_t i = 0; i < live_table.size; i++)
        for (struct ctx *c = live_table.buckets[i]; c != NULL; c = c->live_next) {
            if (c->filter != filter)
                continue;
            /* Its pool block is this report's, not a second one (V23). */
            if (c->user != NULL && count == capacity) {
                size_t grown = capacity != 0 ? capacity * 2 : 16;
                PVOID *more = realloc(blocks, grown * sizeof(*more));
                if (more != NULL) {
                    blocks = more;
                    capacity = grown;
                }
            }
            if (c->user != NULL && count < capacity)
                blocks[count++] = c->user;
            if (c->file != NULL)
                fltsim__report(filter->sys, filter, NULL, NULL, "V21", "7.2",
                               "%s unloads with a %s context still referenced (%d reference(s)), "
                               "allocated at %s:%d; on Windows FltUnregisterFilter waits for it "
                               "forever",
                               filter->name8, type_name(c->type), (int)c->refs, site_file(c->file),
                               c->line);
            else
                fltsim__report(filter->sys, filter, NULL, NULL, "V21", "7.2",
                               "%s unloads with a %s context still referenced (%d reference(s)), "
                               "allocated through a pointer to FltAllocateContext; on Windows "
                               "FltUnregisterFilter waits for it forever",
                               filter->name8, type_name(c->type), (int)c->refs);
        }
    unlock();
    fltsim__pool_mark_reported(filter->sys, blocks, count);
    free(blocks);
}

/* System destruction: the headers of the contexts its filters leaked go
 * (their pool blocks were reported and go with the pool's ledger). */
void fltsim__contexts_system_destroyed(fltsim_system *sys)
{
    struct ctx *gone = NULL;
    lock();
    for (size_t i = 0; i < live_table.size; i++) {
        struct ctx **p = &live_table.buckets[i];
        while (*p != NULL) {
            struct ctx *c = *p;
            if (c->sys != sys) {
                p = &c->live_next;
                continue;
            }
            *p = c->live_next;
            live_table.count--;
            if (c->linked)
                table_remove(&set_table, c, true);
            c->live_next = gone;
            gone = c;
        }
    }
    unlock();
    while (gone != NULL) {
        struct ctx *next = gone->live_next;
        fltsim__filter_unref(gone->filter);
        gone->magic = FLTSIM_MAGIC_DEAD;
        free(gone);
        gone = next;
    }
}
