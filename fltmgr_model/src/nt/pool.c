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
 * blocks of that system's filter code that no driver owned.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

#define POOL_MAGIC_LIVE 0x4c4f4f50u  /* "POOL" */
#define POOL_MAGIC_FREED 0x45455246u /* "FREE" */

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
    struct pool_header *prev, *next; /* live blocks with sys set */
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

static PVOID pool_allocate(ULONG pool_type, SIZE_T size, ULONG tag, bool zero, const char *file,
                           int line, bool internal)
{
    if (size > (SIZE_T)-1 - sizeof(struct pool_header))
        return NULL;
    if (fltsim__fault_alloc(tag)) /* an injected fault (fault.c) */
        return NULL;
    struct pool_header *h = zero ? calloc(1, sizeof(*h) + size) : malloc(sizeof(*h) + size);
    if (h == NULL)
        return NULL;
    h->magic = POOL_MAGIC_LIVE;
    h->tag = tag;
    h->size = size;
    h->pool_type = pool_type;
    h->file = file;
    h->line = line;
    h->sys = NULL;
    h->driver = NULL;
    h->leaked = false;
    h->prev = h->next = NULL;
    if (!internal) {
        struct fltsim_tls *t = fltsim__tls();
        h->sys = t->sys;
        if (t->sys != NULL)
            h->driver = t->filter != NULL ? t->filter->driver : t->loading;
    }

    uv_once(&pool_once, pool_init);
    uv_mutex_lock(&pool_lock);
    struct tag_entry *e = tag_find(tag, true);
    if (e == NULL) {
        uv_mutex_unlock(&pool_lock);
        free(h);
        return NULL;
    }
    e->stats.outstanding++;
    e->stats.outstanding_bytes += size;
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
}

PVOID fltsim__pool_allocate_internal(ULONG pool_type, SIZE_T size, ULONG tag, bool zero)
{
    return pool_allocate(pool_type, size, tag, zero, NULL, 0, true);
}

PVOID fltsim_ExAllocatePoolWithTag_at(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                      const char *file, int line)
{
    return pool_allocate((ULONG)PoolType, NumberOfBytes, Tag, false, file, line, false);
}

PVOID fltsim_ExAllocatePoolZero_at(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                   const char *file, int line)
{
    return pool_allocate((ULONG)PoolType, NumberOfBytes, Tag, true, file, line, false);
}

/* The function forms (a filter may take their address): the site is unknown.
 * The parentheses keep wdm.h's macros of the same names from expanding. */
PVOID(ExAllocatePoolWithTag)(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return pool_allocate((ULONG)PoolType, NumberOfBytes, Tag, false, NULL, 0, false);
}

PVOID(ExAllocatePoolZero)(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return pool_allocate((ULONG)PoolType, NumberOfBytes, Tag, true, NULL, 0, false);
}

PVOID(ExAllocatePool2)(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    return fltsim_ExAllocatePool2_at(Flags, NumberOfBytes, Tag, NULL, 0);
}

PVOID fltsim_ExAllocatePool2_at(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag, const char *file,
                                int line)
{
    const POOL_FLAGS known_required = POOL_FLAG_USE_QUOTA | POOL_FLAG_UNINITIALIZED |
                                      POOL_FLAG_SESSION | POOL_FLAG_CACHE_ALIGNED |
                                      POOL_FLAG_RAISE_ON_FAILURE | POOL_FLAG_NON_PAGED |
                                      POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED;
    const POOL_FLAGS type_flags =
        POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED;
    POOL_FLAGS required = Flags & 0xffffffffULL;
    POOL_FLAGS type = Flags & type_flags;

    /* Documented NULL cases: tag 0 or invalid flags; exactly one pool type is
     * required, and an unknown required flag fails (optional ones are ignored). */
    if (Tag == 0 || (required & ~known_required) != 0 || type == 0 || (type & (type - 1)) != 0)
        return NULL;
    if (Flags & POOL_FLAG_RAISE_ON_FAILURE) {
        /* Raising an exception is not modeled: the allocation is refused so
         * the caller sees it, and the reason is reported. */
        char t[5];
        tag_text(Tag, t);
        report("V28",
               "ExAllocatePool2('%s') with POOL_FLAG_RAISE_ON_FAILURE: raising on "
               "failure is not modeled, NULL returned",
               t);
        return NULL;
    }
    ULONG pool_type = (type == POOL_FLAG_PAGED) ? (ULONG)PagedPool : (ULONG)NonPagedPoolNx;
    return pool_allocate(pool_type, NumberOfBytes, Tag, (Flags & POOL_FLAG_UNINITIALIZED) == 0,
                         file, line, false);
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
    free(h);
}

static void pool_free(PVOID P, ULONG Tag, bool check_tag)
{
    if (P == NULL) {
        report("V23", "ExFreePool of a NULL pointer; ignored");
        return;
    }
    /* A block freed twice is normally caught here by its header; under
     * AddressSanitizer the read itself is reported first, which is as good. */
    struct pool_header *h = (struct pool_header *)P - 1;
    if (h->magic != POOL_MAGIC_LIVE) {
        report("V23",
               h->magic == POOL_MAGIC_FREED
                   ? "pool block %p freed twice; the second free is ignored"
                   : "ExFreePool of %p, which was not allocated from pool; ignored",
               P);
        return;
    }
    if (check_tag && h->tag != Tag) {
        char want[5], got[5];
        tag_text(h->tag, want);
        tag_text(Tag, got);
        report("V23", "ExFreePoolWithTag(%p, '%s'): the block was allocated with tag '%s'", P, got,
               want);
    }

    uv_once(&pool_once, pool_init);
    uv_mutex_lock(&pool_lock);
    release_locked(h);
    uv_mutex_unlock(&pool_lock);
}

void ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    pool_free(P, Tag, true);
}

void ExFreePool(PVOID P)
{
    pool_free(P, 0, false);
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

void fltsim__pool_driver_unloaded(struct fltsim_driver *drv)
{
    char who[FLTSIM_NAME8_MAX + 16];
    snprintf(who, sizeof(who), "%s unloads", drv->name8);
    report_leaks(drv->sys, drv, drv->filter_keep, who);
}

void fltsim__pool_system_destroyed(fltsim_system *sys)
{
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
