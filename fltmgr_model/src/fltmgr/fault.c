/*
 * Fault injection: the rules a test or scenario sets on a system
 * (fltsim_fault_add) and the ledger of fault points the system reaches. The
 * pool (pool.c), the work-item queues (workitem.c) and fault-injecting file
 * systems outside the model (sim's faultfs, through fltsim_fault_point_reach)
 * ask here at each point whether to fail. Every point is recorded in order,
 * injected or not, so an explorer can enumerate a run's points and address
 * each one again by kind and index (model.h, "Fault injection").
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

struct fault_rule {
    struct fltsim_fault def;
    ULONG64 matched; /* points of this rule's kind (and tag) seen since it was added */
    ULONG64 rng;     /* splitmix64 state, probabilistic rules only */
};

struct fltsim_faults {
    uv_mutex_t lock; /* guards everything below */
    struct fault_rule *rules;
    size_t rule_count;
    struct fltsim_fault_point *points;
    size_t point_count, point_capacity;
    ULONG64 kind_count[FLTSIM_FAULT_KIND_COUNT];
    ULONG64 injected;
};

static const char *const kind_names[FLTSIM_FAULT_KIND_COUNT] = {"alloc", "deferred_queue",
                                                                "generic_queue", "fs"};

const char *fltsim_fault_kind_name(enum fltsim_fault_kind kind)
{
    return ((unsigned)kind < FLTSIM_FAULT_KIND_COUNT) ? kind_names[kind] : NULL;
}

/* The system's fault state, created on first use (NULL when out of memory).
 * Two threads racing to create it agree through the compare-and-swap. */
static struct fltsim_faults *faults_of(fltsim_system *sys)
{
    struct fltsim_faults *f = __atomic_load_n(&sys->faults, __ATOMIC_ACQUIRE);
    if (f != NULL)
        return f;
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    if (uv_mutex_init(&f->lock) != 0) {
        free(f);
        return NULL;
    }
    struct fltsim_faults *expected = NULL;
    if (!__atomic_compare_exchange_n(&sys->faults, &expected, f, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        uv_mutex_destroy(&f->lock);
        free(f);
        return expected;
    }
    return f;
}

void fltsim__faults_destroy(fltsim_system *sys)
{
    struct fltsim_faults *f = sys->faults;
    if (f == NULL)
        return;
    sys->faults = NULL;
    free(f->rules);
    free(f->points);
    uv_mutex_destroy(&f->lock);
    free(f);
}

static ULONG64 splitmix64(ULONG64 *state)
{
    ULONG64 z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static NTSTATUS default_status(enum fltsim_fault_kind kind)
{
    switch (kind) {
    case FLTSIM_FAULT_DEFERRED_QUEUE:
        return STATUS_FLT_NOT_SAFE_TO_POST_OPERATION;
    case FLTSIM_FAULT_GENERIC_QUEUE:
        return STATUS_FLT_DELETING_OBJECT;
    case FLTSIM_FAULT_FS:
        return STATUS_IO_DEVICE_ERROR;
    case FLTSIM_FAULT_ALLOC:
        break;
    }
    return STATUS_INSUFFICIENT_RESOURCES;
}

NTSTATUS fltsim_fault_add(fltsim_system *sys, const struct fltsim_fault *fault)
{
    static const char api[] = "fltsim_fault_add";
    if (sys == NULL || fault == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: sys and fault are required", api);
    if (fltsim_fault_kind_name(fault->kind) == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: unknown fault kind %d", api,
                            (int)fault->kind);
    if (fault->tag != 0 && fault->kind != FLTSIM_FAULT_ALLOC)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: a tag applies to alloc faults only",
                            api);
    /* Written so that NaN fails too. */
    if (!(fault->probability >= 0.0 && fault->probability <= 1.0))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: probability %g is outside [0, 1]", api,
                            fault->probability);
    if (fault->probability > 0.0 && fault->nth != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: nth and probability cannot be combined",
                            api);
    NTSTATUS st = fault->status;
    switch (fault->kind) {
    case FLTSIM_FAULT_ALLOC:
        if (st != 0)
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "%s: an alloc fault returns NULL; status must be 0", api);
        break;
    case FLTSIM_FAULT_DEFERRED_QUEUE:
        if (st != 0 && st != STATUS_FLT_NOT_SAFE_TO_POST_OPERATION &&
            st != STATUS_FLT_DELETING_OBJECT)
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "%s: FltQueueDeferredIoWorkItem fails only with "
                                "STATUS_FLT_NOT_SAFE_TO_POST_OPERATION or "
                                "STATUS_FLT_DELETING_OBJECT, not 0x%08X",
                                api, (unsigned)st);
        break;
    case FLTSIM_FAULT_GENERIC_QUEUE:
        if (st != 0 && st != STATUS_FLT_DELETING_OBJECT)
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "%s: FltQueueGenericWorkItem fails only with "
                                "STATUS_FLT_DELETING_OBJECT, not 0x%08X",
                                api, (unsigned)st);
        break;
    case FLTSIM_FAULT_FS:
        if (st != 0 && NT_SUCCESS(st))
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "%s: an fs fault needs a failure status, not 0x%08X", api,
                                (unsigned)st);
        break;
    }

    struct fltsim_faults *f = faults_of(sys);
    if (f == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
    uv_mutex_lock(&f->lock);
    struct fault_rule *grown = realloc(f->rules, (f->rule_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        uv_mutex_unlock(&f->lock);
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
    }
    f->rules = grown;
    struct fault_rule *r = &f->rules[f->rule_count++];
    memset(r, 0, sizeof(*r));
    r->def = *fault;
    if (r->def.status == 0)
        r->def.status = default_status(fault->kind);
    r->rng = fault->seed;
    uv_mutex_unlock(&f->lock);
    return STATUS_SUCCESS;
}

void fltsim_faults_clear(fltsim_system *sys)
{
    struct fltsim_faults *f = sys != NULL ? faults_of(sys) : NULL;
    if (f == NULL)
        return;
    uv_mutex_lock(&f->lock);
    free(f->rules);
    f->rules = NULL;
    f->rule_count = 0;
    uv_mutex_unlock(&f->lock);
}

/* f->lock held. Whether rule r fails this point; advances its counters. */
static bool rule_fires(struct fault_rule *r, enum fltsim_fault_kind kind, ULONG detail)
{
    if (r->def.kind != kind)
        return false;
    if (kind == FLTSIM_FAULT_ALLOC && r->def.tag != 0 && r->def.tag != detail)
        return false;
    ULONG64 n = ++r->matched;
    if (r->def.nth != 0)
        return n == r->def.nth;
    if (r->def.probability > 0.0) {
        /* 53 random bits as a double in [0, 1). */
        double u = (double)(splitmix64(&r->rng) >> 11) * (1.0 / 9007199254740992.0);
        return u < r->def.probability;
    }
    return true;
}

BOOLEAN fltsim_fault_point_reach(fltsim_system *sys, enum fltsim_fault_kind kind, ULONG detail,
                                 NTSTATUS *status)
{
    if (sys == NULL || fltsim_fault_kind_name(kind) == NULL)
        return FALSE;
    struct fltsim_faults *f = faults_of(sys);
    if (f == NULL)
        return FALSE; /* out of memory: the point goes uncounted, nothing fails */
    bool fire = false;
    NTSTATUS st = STATUS_SUCCESS;
    uv_mutex_lock(&f->lock);
    /* Every rule sees the point (each keeps its own count); the first that
     * fires decides the status. */
    for (size_t i = 0; i < f->rule_count; i++) {
        if (rule_fires(&f->rules[i], kind, detail) && !fire) {
            fire = true;
            st = f->rules[i].def.status;
        }
    }
    if (f->point_count == f->point_capacity) {
        size_t cap = f->point_capacity ? f->point_capacity * 2 : 256;
        struct fltsim_fault_point *grown = realloc(f->points, cap * sizeof(*grown));
        if (grown != NULL) {
            f->points = grown;
            f->point_capacity = cap;
        }
    }
    /* When the ledger cannot grow the point still happens (and counts in its
     * kind) but is not listed; fltsim_fault_point_count then stays short. */
    if (f->point_count < f->point_capacity) {
        struct fltsim_fault_point *p = &f->points[f->point_count++];
        p->kind = kind;
        p->kind_index = f->kind_count[kind];
        p->detail = detail;
        p->injected = fire ? TRUE : FALSE;
    }
    f->kind_count[kind]++;
    if (fire)
        f->injected++;
    uv_mutex_unlock(&f->lock);
    if (fire && status != NULL)
        *status = st;
    return fire ? TRUE : FALSE;
}

bool fltsim__fault_alloc(ULONG tag)
{
    struct fltsim_tls *t = fltsim__tls();
    /* Filter code: a callback or work routine (a filter is set) or
     * DriverEntry (a driver is loading). The file system and fltsim's own
     * completion paths run with no filter and are not points. */
    if (t->sys == NULL || (t->filter == NULL && t->loading == NULL))
        return false;
    return fltsim_fault_point_reach(t->sys, FLTSIM_FAULT_ALLOC, tag, NULL) != FALSE;
}

ULONG64 fltsim_fault_point_count(fltsim_system *sys)
{
    struct fltsim_faults *f = sys != NULL ? faults_of(sys) : NULL;
    if (f == NULL)
        return 0;
    uv_mutex_lock(&f->lock);
    ULONG64 n = f->point_count;
    uv_mutex_unlock(&f->lock);
    return n;
}

ULONG64 fltsim_fault_injected_count(fltsim_system *sys)
{
    struct fltsim_faults *f = sys != NULL ? faults_of(sys) : NULL;
    if (f == NULL)
        return 0;
    uv_mutex_lock(&f->lock);
    ULONG64 n = f->injected;
    uv_mutex_unlock(&f->lock);
    return n;
}

NTSTATUS fltsim_fault_point_get(fltsim_system *sys, ULONG64 index, struct fltsim_fault_point *out)
{
    struct fltsim_faults *f = sys != NULL ? faults_of(sys) : NULL;
    if (f == NULL || out == NULL)
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = STATUS_INVALID_PARAMETER;
    uv_mutex_lock(&f->lock);
    if (index < f->point_count) {
        *out = f->points[index];
        status = STATUS_SUCCESS;
    }
    uv_mutex_unlock(&f->lock);
    return status;
}
