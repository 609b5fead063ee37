/*
 * Executive pool: ExAllocatePoolWithTag and friends, with every allocation
 * counted per tag so tests can see leaks (fltsim_pool_tag_stats). Each block
 * carries a header with its tag, size and a magic value, so a free of a
 * foreign or already freed pointer is caught instead of corrupting the heap.
 * Counts are process-wide: one ledger for all systems.
 *
 * Each live block also records who allocated it: the system and the driver
 * whose code ran on the thread (fltsim__tls), and the call site the WDK
 * allocation macros of wdm.h pass. When a driver unloads, the blocks it still
 * owns are reported (V23) grouped by tag and site; at system destruction, the
 * blocks of that system's filter code that no driver owned. Lookaside lists
 * (lookaside.c) report their own entries first and mark them so.
 *
 * Also here: ExAllocatePool3, the priority and quota forms,
 * FltAllocatePoolAlignedWithTag (a block aligned for the volume's device) and
 * ExInitializeDriverRuntime (a driver's NonPagedPool becomes NX).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nt_internal.h"

#define POOL_MAGIC_LIVE 0x4c4f4f50u  /* "POOL" */
#define POOL_MAGIC_FREED 0x45455246u /* "FREE" */
#define POOL_ALIGNMENT 16            /* every block's, as on 64-bit Windows */
#define CACHE_LINE 64                /* the *CacheAligned pool types' */

/* The POOL_TYPE bits that modify a request rather than name a pool. */
#define POOL_MODIFIERS                                                                             \
    (POOL_QUOTA_FAIL_INSTEAD_OF_RAISE | POOL_RAISE_IF_ALLOCATION_FAILURE | POOL_COLD_ALLOCATION |  \
     POOL_ZERO_ALLOCATION)

enum pool_kind {
    POOL_KIND_PLAIN,  /* ExAllocatePool* */
    POOL_KIND_ALIGNED /* FltAllocatePoolAlignedWithTag */
};

/* Header before every block; 16-byte aligned like the real pool on 64-bit.
 * The links and owner fields are guarded by pool_lock. */
struct pool_header {
    ULONG magic;
    ULONG tag;
    SIZE_T size;
    ULONG pool_type;
    int line;                        /* call site, 0 when unknown */
    const char *file;                /* call site (__FILE__), NULL when unknown */
    fltsim_system *sys;              /* system whose code allocated it, or NULL */
    struct fltsim_driver *driver;    /* driver whose code allocated it, or NULL */
    bool leaked;                     /* reported (V23); freed with its system */
    UCHAR kind;                      /* enum pool_kind */
    struct pool_header *prev, *next; /* live blocks with sys set */
    void *base;                      /* what malloc returned (before an aligned block's padding) */
} __attribute__((aligned(16)));

/* Blocks of filter code still live: per-driver leak accounting walks it. */
static struct pool_header *owned_head; /* pool_lock */

struct tag_entry {
    ULONG tag;
    struct fltsim_pool_stats stats;
};

static uv_once_t pool_once = UV_ONCE_INIT;
static uv_mutex_t pool_lock;
static struct tag_entry *tags; /* pool_lock; sorted by tag */
static size_t tag_count, tag_capacity;
static ULONG64 outstanding_total;
/* Drivers that called ExInitializeDriverRuntime(DrvRtPoolNxOptIn); pool_lock */
static struct fltsim_driver **nx_drivers;
static size_t nx_count, nx_capacity;

static void pool_init(void)
{
    if (uv_mutex_init(&pool_lock) != 0)
        abort();
}

static void free_tag_table(void)
{
    free(tags);
    tags = NULL;
    tag_count = tag_capacity = 0;
    free(nx_drivers);
    nx_drivers = NULL;
    nx_count = nx_capacity = 0;
}

/* pool_lock held. Returns the entry for tag, creating it; NULL when out of memory. */
static struct tag_entry *tag_find(ULONG tag, bool create)
{
    size_t lo = 0, hi = tag_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (tags[mid].tag == tag)
            return &tags[mid];
        if (tags[mid].tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!create)
        return NULL;
    if (tag_count == tag_capacity) {
        size_t cap = tag_capacity ? tag_capacity * 2 : 64;
        struct tag_entry *grown = realloc(tags, cap * sizeof(*grown));
        if (grown == NULL)
            return NULL;
        if (tags == NULL)
            atexit(free_tag_table);
        tags = grown;
        tag_capacity = cap;
    }
    memmove(&tags[lo + 1], &tags[lo], (tag_count - lo) * sizeof(*tags));
    memset(&tags[lo], 0, sizeof(*tags));
    tags[lo].tag = tag;
    tag_count++;
    return &tags[lo];
}

static void tag_text(ULONG tag, char out[5])
{
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)(tag >> (8 * i));
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
    }
    out[4] = '\0';
}

static void report(const char *rule, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A pool misuse: a verifier report when filter code of a system is running on
 * this thread, otherwise a line on standard error. */
static void report(const char *rule, const char *fmt, ...)
{
    struct fltsim_tls *t = fltsim__tls();
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, rule, "10", "%s", message);
    else
        fprintf(stderr, "fltsim: %s\n", message);
}

/* The driver whose code runs on this thread, or NULL. */
static struct fltsim_driver *current_driver(void)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->sys == NULL)
        return NULL;
    return t->filter != NULL ? t->filter->driver : t->loading;
}

/* pool_lock held. */
static bool nx_opted_in_locked(const struct fltsim_driver *drv)
{
    for (size_t i = 0; i < nx_count; i++)
        if (nx_drivers[i] == drv)
            return true;
    return false;
}

struct pool_request {
    ULONG type; /* POOL_TYPE, modifiers included */
    SIZE_T size;
    ULONG tag;
    bool zero;
    bool internal;    /* the model's own block: charged to no driver */
    bool raise;       /* the caller asked for an exception on failure */
    SIZE_T alignment; /* a power of two; POOL_ALIGNMENT or more */
    UCHAR kind;       /* enum pool_kind */
    const char *file; /* call site (line 0: file names a routine) */
    int line;
    const char *api; /* the routine the caller called */
};

static PVOID pool_allocate(const struct pool_request *rq)
{
    SIZE_T extra = rq->alignment > POOL_ALIGNMENT ? rq->alignment : 0;
    struct pool_header *h = NULL;
    void *raw = NULL;
    if (rq->size > (SIZE_T)-1 - sizeof(struct pool_header) - extra)
        goto failed;
    if (fltsim__fault_alloc(rq->tag)) /* an injected fault (fault.c) */
        goto failed;
    bool zero = rq->zero || (rq->type & POOL_ZERO_ALLOCATION) != 0;
    raw = zero ? calloc(1, sizeof(*h) + rq->size + extra) : malloc(sizeof(*h) + rq->size + extra);
    if (raw == NULL)
        goto failed;
    if (extra != 0) {
        uintptr_t user = ((uintptr_t)raw + sizeof(*h) + rq->alignment - 1) & ~(rq->alignment - 1);
        h = (struct pool_header *)user - 1;
    } else {
        h = raw;
    }
    h->magic = POOL_MAGIC_LIVE;
    h->tag = rq->tag;
    h->size = rq->size;
    h->pool_type = rq->type & ~(ULONG)POOL_MODIFIERS;
    h->file = rq->file;
    h->line = rq->line;
    h->sys = NULL;
    h->driver = NULL;
    h->leaked = false;
    h->kind = rq->kind;
    h->base = raw;
    h->prev = h->next = NULL;
    if (!rq->internal) {
        struct fltsim_tls *t = fltsim__tls();
        h->sys = t->sys;
        if (t->sys != NULL)
            h->driver = t->filter != NULL ? t->filter->driver : t->loading;
    }

    uv_once(&pool_once, pool_init);
    uv_mutex_lock(&pool_lock);
    /* ExInitializeDriverRuntime(DrvRtPoolNxOptIn): NonPagedPool is NX. */
    if (h->driver != NULL && (h->pool_type & ~(ULONG)NonPagedPoolCacheAligned) == 0 &&
        nx_opted_in_locked(h->driver))
        h->pool_type |= POOL_NX_ALLOCATION;
    struct tag_entry *e = tag_find(rq->tag, true);
    if (e == NULL) {
        uv_mutex_unlock(&pool_lock);
        free(raw);
        goto failed;
    }
    e->stats.outstanding++;
    e->stats.outstanding_bytes += rq->size;
    e->stats.total++;
    outstanding_total++;
    if (h->sys != NULL) {
        h->next = owned_head;
        if (owned_head != NULL)
            owned_head->prev = h;
        owned_head = h;
    }
    uv_mutex_unlock(&pool_lock);
    return h + 1;

failed:
    /* The caller asked for an exception instead of NULL; no lock is held
     * here, so the raise leaves the pool consistent. */
    if (rq->raise || (rq->type & POOL_RAISE_IF_ALLOCATION_FAILURE) != 0)
        ExRaiseStatus(STATUS_INSUFFICIENT_RESOURCES);
    return NULL;
}

static PVOID plain_allocate(ULONG type, SIZE_T size, ULONG tag, bool zero, const char *file,
                            int line, const char *api)
{
    struct pool_request rq = {.type = type,
                              .size = size,
                              .tag = tag,
                              .zero = zero,
                              .alignment = (type & 4) ? CACHE_LINE : POOL_ALIGNMENT,
                              .kind = POOL_KIND_PLAIN,
                              .file = file,
                              .line = line,
                              .api = api};
    return pool_allocate(&rq);
}

PVOID fltsim__pool_allocate_internal(ULONG pool_type, SIZE_T size, ULONG tag, bool zero)
{
    struct pool_request rq = {.type = pool_type,
                              .size = size,
                              .tag = tag,
                              .zero = zero,
                              .internal = true,
                              .alignment = POOL_ALIGNMENT,
                              .api = "pool"};
    return pool_allocate(&rq);
}

PVOID fltsim_pool_allocate_system(SIZE_T size, ULONG tag)
{
    return fltsim__pool_allocate_internal(NonPagedPoolNx, size, tag, true);
}

PVOID fltsim__pool_allocate_at(ULONG pool_type, SIZE_T size, ULONG tag, const char *file, int line)
{
    return plain_allocate(pool_type, size, tag, false, file, line, "ExAllocatePoolWithTag");
}

PVOID fltsim_ExAllocatePoolWithTag_at(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                      const char *file, int line)
{
    return plain_allocate((ULONG)PoolType, NumberOfBytes, Tag, false, file, line,
                          "ExAllocatePoolWithTag");
}

PVOID fltsim_ExAllocatePoolZero_at(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                   const char *file, int line)
{
    return plain_allocate((ULONG)PoolType, NumberOfBytes, Tag, true, file, line,
                          "ExAllocatePoolZero");
}

/* Pool never runs short here, so every priority is served alike (an
 * injected fault fails any of them); special pool is not modeled, which
 * AddressSanitizer's redzones stand in for. */
PVOID fltsim_ExAllocatePoolWithTagPriority_at(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                              EX_POOL_PRIORITY Priority, const char *file, int line)
{
    (void)Priority;
    return plain_allocate((ULONG)PoolType, NumberOfBytes, Tag, false, file, line,
                          "ExAllocatePoolWithTagPriority");
}

/* Quota is not charged (processes have no quota limits here): the request
 * fails only as pool does, and then raises unless the caller ORed in
 * POOL_QUOTA_FAIL_INSTEAD_OF_RAISE. */
PVOID fltsim_ExAllocatePoolWithQuotaTag_at(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                           const char *file, int line)
{
    struct pool_request rq = {.type = (ULONG)PoolType,
                              .size = NumberOfBytes,
                              .tag = Tag,
                              .raise = ((ULONG)PoolType & POOL_QUOTA_FAIL_INSTEAD_OF_RAISE) == 0,
                              .alignment = ((ULONG)PoolType & 4) ? CACHE_LINE : POOL_ALIGNMENT,
                              .kind = POOL_KIND_PLAIN,
                              .file = file,
                              .line = line,
                              .api = "ExAllocatePoolWithQuotaTag"};
    return pool_allocate(&rq);
}

/* The function forms (a filter may take their address): the site is unknown.
 * The parentheses keep wdm.h's macros of the same names from expanding. */
PVOID(ExAllocatePoolWithTag)(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return fltsim_ExAllocatePoolWithTag_at(PoolType, NumberOfBytes, Tag, NULL, 0);
}

PVOID(ExAllocatePoolZero)(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return fltsim_ExAllocatePoolZero_at(PoolType, NumberOfBytes, Tag, NULL, 0);
}

PVOID(ExAllocatePoolWithTagPriority)
(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, EX_POOL_PRIORITY Priority)
{
    return fltsim_ExAllocatePoolWithTagPriority_at(PoolType, NumberOfBytes, Tag, Priority, NULL, 0);
}

PVOID(ExAllocatePoolWithQuotaTag)(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return fltsim_ExAllocatePoolWithQuotaTag_at(PoolType, NumberOfBytes, Tag, NULL, 0);
}

PVOID(ExAllocatePool2)(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    return fltsim_ExAllocatePool2_at(Flags, NumberOfBytes, Tag, NULL, 0);
}

PVOID(ExAllocatePool3)
(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag, PCPOOL_EXTENDED_PARAMETER ExtendedParameters,
 ULONG ExtendedParametersCount)
{
    return fltsim_ExAllocatePool3_at(Flags, NumberOfBytes, Tag, ExtendedParameters,
                                     ExtendedParametersCount, NULL, 0);
}

static PVOID pool2_allocate(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag, const char *file,
                            int line, const char *api)
{
    const POOL_FLAGS known_required = POOL_FLAG_USE_QUOTA | POOL_FLAG_UNINITIALIZED |
                                      POOL_FLAG_SESSION | POOL_FLAG_CACHE_ALIGNED |
                                      POOL_FLAG_RAISE_ON_FAILURE | POOL_FLAG_NON_PAGED |
                                      POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED;
    const POOL_FLAGS type_flags =
        POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED;
    POOL_FLAGS required = Flags & 0xffffffffULL;
    POOL_FLAGS type = Flags & type_flags;
    bool raise = (Flags & POOL_FLAG_RAISE_ON_FAILURE) != 0;

    /* Documented NULL cases: tag 0 or invalid flags; exactly one pool type is
     * required, and an unknown required flag fails (optional ones are ignored).
     * With POOL_FLAG_RAISE_ON_FAILURE they would raise instead. */
    if (Tag == 0 || (required & ~known_required) != 0 || type == 0 || (type & (type - 1)) != 0) {
        /* Learn: "If POOL_FLAG_RAISE_ON_FAILURE is specified, the function
         * raises an exception" for these too; it names no code, and fltsim
         * raises STATUS_INVALID_PARAMETER. */
        if (raise)
            ExRaiseStatus(STATUS_INVALID_PARAMETER);
        return NULL;
    }
    ULONG pool_type = (type == POOL_FLAG_PAGED)               ? (ULONG)PagedPool
                      : (type == POOL_FLAG_NON_PAGED_EXECUTE) ? (ULONG)NonPagedPool
                                                              : (ULONG)NonPagedPoolNx;
    struct pool_request rq = {.type = pool_type,
                              .size = NumberOfBytes,
                              .tag = Tag,
                              .zero = (Flags & POOL_FLAG_UNINITIALIZED) == 0,
                              .raise = raise,
                              .alignment =
                                  (Flags & POOL_FLAG_CACHE_ALIGNED) ? CACHE_LINE : POOL_ALIGNMENT,
                              .kind = POOL_KIND_PLAIN,
                              .file = file,
                              .line = line,
                              .api = api};
    return pool_allocate(&rq);
}

PVOID fltsim_ExAllocatePool2_at(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag, const char *file,
                                int line)
{
    return pool2_allocate(Flags, NumberOfBytes, Tag, file, line, "ExAllocatePool2");
}

/* Whether one extended parameter of ExAllocatePool3 is acceptable: a
 * required one fltsim cannot honour fails the request, an optional one is
 * ignored (POOL_EXTENDED_PARAMETER's rules). There is one NUMA node, 0. */
static bool extended_parameter_ok(const POOL_EXTENDED_PARAMETER *p, POOL_FLAGS flags)
{
    bool optional = p->Optional != 0;
    switch (p->Type) {
    case PoolExtendedParameterPriority:
        switch (p->Priority) {
        case LowPoolPriority:
        case LowPoolPrioritySpecialPoolOverrun:
        case LowPoolPrioritySpecialPoolUnderrun:
        case NormalPoolPriority:
        case NormalPoolPrioritySpecialPoolOverrun:
        case NormalPoolPrioritySpecialPoolUnderrun:
        case HighPoolPriority:
        case HighPoolPrioritySpecialPoolOverrun:
        case HighPoolPrioritySpecialPoolUnderrun:
            return true;
        }
        return optional;
    case PoolExtendedParameterNumaNode: {
        ULONG node = p->PreferredNode & ~(ULONG)MM_ANY_NODE_OK;
        if ((flags & POOL_FLAG_PAGED) || node == 0 || (p->PreferredNode & MM_ANY_NODE_OK))
            return true;
        return optional;
    }
    case PoolExtendedParameterSecurePool:
        if (!optional)
            fltsim__ke_report("SIM", "-",
                              "ExAllocatePool3 with a required secure-pool parameter: secure "
                              "pool is not modeled, NULL returned");
        return optional;
    default:
        return optional;
    }
}

PVOID fltsim_ExAllocatePool3_at(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag,
                                PCPOOL_EXTENDED_PARAMETER ExtendedParameters,
                                ULONG ExtendedParametersCount, const char *file, int line)
{
    if (ExtendedParametersCount > 0 && ExtendedParameters == NULL)
        return NULL;
    for (ULONG i = 0; i < ExtendedParametersCount; i++)
        if (!extended_parameter_ok(&ExtendedParameters[i], Flags))
            return NULL;
    return pool2_allocate(Flags, NumberOfBytes, Tag, file, line, "ExAllocatePool3");
}

VOID ExInitializeDriverRuntime(ULONG RuntimeFlags)
{
    struct fltsim_driver *drv = current_driver();
    if (drv == NULL) {
        fltsim__ke_report("SIM", "-",
                          "ExInitializeDriverRuntime outside a driver's code: the opt-in belongs "
                          "to a driver image; ignored");
        return;
    }
    if ((RuntimeFlags & DrvRtPoolNxOptIn) == 0)
        return;
    uv_once(&pool_once, pool_init);
    uv_mutex_lock(&pool_lock);
    if (!nx_opted_in_locked(drv)) {
        if (nx_count == nx_capacity) {
            size_t cap = nx_capacity ? nx_capacity * 2 : 8;
            struct fltsim_driver **grown = realloc(nx_drivers, cap * sizeof(*grown));
            if (grown == NULL) {
                uv_mutex_unlock(&pool_lock);
                return;
            }
            if (nx_drivers == NULL && tags == NULL)
                atexit(free_tag_table);
            nx_drivers = grown;
            nx_capacity = cap;
        }
        nx_drivers[nx_count++] = drv;
    }
    uv_mutex_unlock(&pool_lock);
}

bool fltsim__pool_nx_opted_in(void)
{
    struct fltsim_driver *drv = current_driver();
    if (drv == NULL)
        return false;
    uv_once(&pool_once, pool_init);
    uv_mutex_lock(&pool_lock);
    bool in = nx_opted_in_locked(drv);
    uv_mutex_unlock(&pool_lock);
    return in;
}

/* Takes a live block out of the counts (and the owned list) and frees it.
 * pool_lock held. */
static void release_locked(struct pool_header *h)
{
    struct tag_entry *e = tag_find(h->tag, false);
    if (e != NULL) {
        e->stats.outstanding--;
        e->stats.outstanding_bytes -= h->size;
    }
    outstanding_total--;
    if (h->sys != NULL) {
        if (h->prev != NULL)
            h->prev->next = h->next;
        else
            owned_head = h->next;
        if (h->next != NULL)
            h->next->prev = h->prev;
    }
    h->magic = POOL_MAGIC_FREED;
    free(h->base);
}

static const char *const kind_allocator[] = {"ExAllocatePool*", "FltAllocatePoolAlignedWithTag"};
static const char *const kind_freer[] = {"ExFreePool(WithTag)", "FltFreePoolAlignedWithTag"};

static void pool_free(PVOID P, ULONG Tag, bool check_tag, UCHAR kind, const char *api)
{
    if (P == NULL) {
        report("V23", "%s of a NULL pointer; ignored", api);
        return;
    }
    /* A block freed twice is normally caught here by its header; under
     * AddressSanitizer the read itself is reported first, which is as good. */
    struct pool_header *h = (struct pool_header *)P - 1;
    if (h->magic != POOL_MAGIC_LIVE) {
        if (h->magic == POOL_MAGIC_FREED)
            report("V23", "pool block %p freed twice; the second free is ignored", P);
        else
            report("V23", "%s of %p, which was not allocated from pool; ignored", api, P);
        return;
    }
    if (check_tag && h->tag != Tag) {
        char want[5], got[5];
        tag_text(h->tag, want);
        tag_text(Tag, got);
        report("V23", "%s(%p, '%s'): the block was allocated with tag '%s'", api, P, got, want);
    }
    if (h->kind != kind)
        report("V23", "%s(%p): the block was allocated by %s and must be freed by %s; freed", api,
               P, kind_allocator[h->kind], kind_freer[h->kind]);
    /* A lookaside entry, or a lookaside list inside the block, lets go of it. */
    fltsim__lookaside_pool_freed(P, h->size);

    uv_once(&pool_once, pool_init);
    uv_mutex_lock(&pool_lock);
    release_locked(h);
    uv_mutex_unlock(&pool_lock);
}

void ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    pool_free(P, Tag, true, POOL_KIND_PLAIN, "ExFreePoolWithTag");
}

void ExFreePool(PVOID P)
{
    pool_free(P, 0, false, POOL_KIND_PLAIN, "ExFreePool");
}

void fltsim__pool_free(PVOID block)
{
    pool_free(block, 0, false, POOL_KIND_PLAIN, "ExFreePool");
}

/* ---- device-aligned pool (FltMgr) ---- */

/* The alignment the instance's volume device asks for (AlignmentRequirement
 * is a mask, FILE_*_ALIGNMENT), never below the pool's own 16 bytes, nor
 * below a cache line for the CacheAligned types. */
static SIZE_T device_alignment(PFLT_INSTANCE Instance, POOL_TYPE PoolType)
{
    SIZE_T alignment = (SIZE_T)Instance->volume->device.AlignmentRequirement + 1;
    if (alignment < POOL_ALIGNMENT)
        alignment = POOL_ALIGNMENT;
    if (((ULONG)PoolType & 4) && alignment < CACHE_LINE)
        alignment = CACHE_LINE;
    SIZE_T power = POOL_ALIGNMENT;
    while (power < alignment && power < ((SIZE_T)1 << 20))
        power <<= 1;
    return power;
}

PVOID FltAllocatePoolAlignedWithTag(PFLT_INSTANCE Instance, POOL_TYPE PoolType,
                                    SIZE_T NumberOfBytes, ULONG Tag)
{
    const char *api = "FltAllocatePoolAlignedWithTag";
    struct fltsim_tls *t = fltsim__tls();
    if (!fltsim__is_instance(Instance)) {
        report("V23", "%s(%p): Instance is required and must be an instance; NULL returned", api,
               (void *)Instance);
        return NULL;
    }
    if (Tag == 0) {
        report("V23", "%s: Tag is required and cannot be zero; NULL returned", api);
        return NULL;
    }
    fltsim__check_irql(t->sys, ((ULONG)PoolType & 1) ? APC_LEVEL : DISPATCH_LEVEL, api);
    SIZE_T alignment = device_alignment(Instance, PoolType);
    /* Zero bytes: the least memory that satisfies the alignment. */
    struct pool_request rq = {.type = (ULONG)PoolType,
                              .size = NumberOfBytes != 0 ? NumberOfBytes : alignment,
                              .tag = Tag,
                              .alignment = alignment,
                              .kind = POOL_KIND_ALIGNED,
                              .file = api,
                              .line = 0,
                              .api = api};
    return pool_allocate(&rq);
}

VOID FltFreePoolAlignedWithTag(PFLT_INSTANCE Instance, PVOID Buffer, ULONG Tag)
{
    const char *api = "FltFreePoolAlignedWithTag";
    if (!fltsim__is_instance(Instance))
        report("V23", "%s(%p, %p): Instance is required and must be an instance; freed anyway", api,
               (void *)Instance, Buffer);
    pool_free(Buffer, Tag, true, POOL_KIND_ALIGNED, api);
}

void fltsim_pool_tag_stats(ULONG tag, struct fltsim_pool_stats *out)
{
    memset(out, 0, sizeof(*out));
    uv_once(&pool_once, pool_init);
    uv_mutex_lock(&pool_lock);
    struct tag_entry *e = tag_find(tag, false);
    if (e != NULL)
        *out = e->stats;
    uv_mutex_unlock(&pool_lock);
}

ULONG64 fltsim_pool_outstanding(void)
{
    uv_once(&pool_once, pool_init);
    uv_mutex_lock(&pool_lock);
    ULONG64 n = outstanding_total;
    uv_mutex_unlock(&pool_lock);
    return n;
}

/* ---- leak accounting per driver and per system ---- */

struct leak_group {
    ULONG tag;
    int line;
    const char *file;
    ULONG64 count, bytes;
};

/* pool_lock held. Adds h to its group (same tag and site); false when out of memory. */
static bool group_add(struct leak_group **groups, size_t *count, size_t *capacity,
                      const struct pool_header *h)
{
    for (size_t i = 0; i < *count; i++) {
        struct leak_group *g = &(*groups)[i];
        if (g->tag == h->tag && g->line == h->line &&
            (g->file == h->file ||
             (g->file != NULL && h->file != NULL && strcmp(g->file, h->file) == 0))) {
            g->count++;
            g->bytes += h->size;
            return true;
        }
    }
    if (*count == *capacity) {
        size_t cap = *capacity ? *capacity * 2 : 8;
        struct leak_group *grown = realloc(*groups, cap * sizeof(*grown));
        if (grown == NULL)
            return false;
        *groups = grown;
        *capacity = cap;
    }
    struct leak_group *g = &(*groups)[(*count)++];
    g->tag = h->tag;
    g->line = h->line;
    g->file = h->file;
    g->count = 1;
    g->bytes = h->size;
    return true;
}

/* Reports the live blocks of sys owned by drv (every block of sys when drv
 * is NULL) not reported yet, one V23 per tag and site, and marks them leaked:
 * they stay allocated, as on Windows, until the system is destroyed. The
 * sites are copied first: a shared object's strings go with it. */
static void report_leaks(fltsim_system *sys, struct fltsim_driver *drv, struct _FLT_FILTER *filter,
                         const char *who)
{
    struct leak_group *groups = NULL;
    size_t count = 0, capacity = 0;
    ULONG64 unlisted = 0;
    char(*sites)[96] = NULL;

    uv_once(&pool_once, pool_init);
    uv_mutex_lock(&pool_lock);
    struct pool_header *h = owned_head;
    while (h != NULL) {
        struct pool_header *next = h->next;
        if (h->sys == sys && !h->leaked && (drv == NULL || h->driver == drv)) {
            if (!group_add(&groups, &count, &capacity, h))
                unlisted++;
            h->leaked = true;
            h->driver = NULL;
        }
        h = next;
    }
    if (count > 0)
        sites = calloc(count, sizeof(*sites));
    for (size_t i = 0; i < count; i++) {
        const char *file = groups[i].file;
        if (sites == NULL)
            break;
        if (file == NULL) {
            snprintf(sites[i], sizeof(sites[i]), "an unknown site (a call through a pointer)");
            continue;
        }
        if (groups[i].line == 0) { /* a routine allocating for the filter */
            snprintf(sites[i], sizeof(sites[i]), "%s", file);
            continue;
        }
        const char *slash = strrchr(file, '/');
        snprintf(sites[i], sizeof(sites[i]), "%s:%d", slash != NULL ? slash + 1 : file,
                 groups[i].line);
    }
    uv_mutex_unlock(&pool_lock);

    for (size_t i = 0; i < count; i++) {
        char t[5];
        tag_text(groups[i].tag, t);
        fltsim__report(sys, filter, NULL, NULL, "V23", "10",
                       "%s: %llu pool block(s) of tag '%s' (%llu bytes) allocated at %s never "
                       "freed",
                       who, (unsigned long long)groups[i].count, t,
                       (unsigned long long)groups[i].bytes,
                       sites != NULL ? sites[i] : "(site unknown: out of memory)");
    }
    if (unlisted > 0)
        fltsim__report(sys, filter, NULL, NULL, "V23", "10",
                       "%s: %llu more pool block(s) never freed (out of memory grouping them)", who,
                       (unsigned long long)unlisted);
    free(sites);
    free(groups);
}

static int compare_pointers(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

void fltsim__pool_mark_reported(fltsim_system *sys, PVOID *blocks, size_t count)
{
    if (count == 0)
        return;
    qsort(blocks, count, sizeof(*blocks), compare_pointers);
    uv_once(&pool_once, pool_init);
    uv_mutex_lock(&pool_lock);
    for (struct pool_header *h = owned_head; h != NULL; h = h->next) {
        PVOID user = h + 1;
        if (h->sys == sys && !h->leaked &&
            bsearch(&user, blocks, count, sizeof(*blocks), compare_pointers) != NULL) {
            h->leaked = true;
            h->driver = NULL;
        }
    }
    uv_mutex_unlock(&pool_lock);
}

void fltsim__pool_driver_unloaded(struct fltsim_driver *drv)
{
    /* Lookaside lists first: their entries are reported as theirs. */
    fltsim__lookaside_driver_unloaded(drv);
    uv_once(&pool_once, pool_init);
    uv_mutex_lock(&pool_lock);
    for (size_t i = 0; i < nx_count; i++) {
        if (nx_drivers[i] == drv) {
            nx_drivers[i] = nx_drivers[--nx_count];
            break;
        }
    }
    uv_mutex_unlock(&pool_lock);

    char who[FLTSIM_NAME8_MAX + 16];
    snprintf(who, sizeof(who), "%s unloads", drv->name8);
    report_leaks(drv->sys, drv, drv->filter_keep, who);
}

void fltsim__pool_system_destroyed(fltsim_system *sys)
{
    fltsim__lookaside_system_destroyed(sys);
    report_leaks(sys, NULL, NULL, "system destroyed (filter code outside any driver)");
    /* The simulated machine is gone, and with it the pool its filters
     * leaked (reported above or at their unload). */
    uv_mutex_lock(&pool_lock);
    struct pool_header *h = owned_head;
    while (h != NULL) {
        struct pool_header *next = h->next;
        if (h->sys == sys)
            release_locked(h);
        h = next;
    }
    uv_mutex_unlock(&pool_lock);
}

void fltsim_driver_pool_stats(fltsim_driver *drv, ULONG tag, struct fltsim_pool_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (drv == NULL || drv->magic != FLTSIM_MAGIC_DRIVER)
        return;
    uv_once(&pool_once, pool_init);
    uv_mutex_lock(&pool_lock);
    for (struct pool_header *h = owned_head; h != NULL; h = h->next) {
        if (h->driver != drv || (tag != 0 && h->tag != tag))
            continue;
        out->outstanding++;
        out->outstanding_bytes += h->size;
    }
    uv_mutex_unlock(&pool_lock);
}
