/*
 * Lookaside lists: NPAGED_LOOKASIDE_LIST, PAGED_LOOKASIDE_LIST and
 * LOOKASIDE_LIST_EX with their Initialize, Allocate, Free, Delete (and Flush
 * for Ex) routines. The filter's structure keeps the WDK's fields: free
 * entries are cached on its SLIST (slist.c) up to a depth fltsim adjusts with
 * use, the counters count, and entries come from the caller's allocate
 * routine or from pool with the list's tag (so pool.c counts them per tag).
 * Beside it fltsim keeps a record per list and a map of the entries handed
 * out, which is how freeing to the wrong list, after a delete or twice is
 * caught, and how a driver that unloads with a list never deleted or entries
 * never freed is reported (V23) instead of the pool blocks one by one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nt_internal.h"

#define LA_MIN_DEPTH 4                               /* where every list starts */
#define LA_MAX_DEPTH EX_MAXIMUM_LOOKASIDE_DEPTH_BASE /* 256 */
#define LA_WINDOW 128                                /* allocations between depth adjustments */
#define LA_ALIGNMENT 16                              /* MEMORY_ALLOCATION_ALIGNMENT */

enum la_kind { LA_NPAGED, LA_PAGED, LA_EX };

static const char *const kind_names[] = {"NPAGED_LOOKASIDE_LIST", "PAGED_LOOKASIDE_LIST",
                                         "LOOKASIDE_LIST_EX"};
static const char *const alloc_api[] = {"ExAllocateFromNPagedLookasideList",
                                        "ExAllocateFromPagedLookasideList",
                                        "ExAllocateFromLookasideListEx"};
static const char *const free_api[] = {"ExFreeToNPagedLookasideList", "ExFreeToPagedLookasideList",
                                       "ExFreeToLookasideListEx"};
static const char *const delete_api[] = {"ExDeleteNPagedLookasideList",
                                         "ExDeletePagedLookasideList", "ExDeleteLookasideListEx"};

/* What fltsim knows of one list. Guarded by la_lock. A deleted record stays
 * while entries it handed out are held (they may still be freed to it) or a
 * routine is busy with it outside the lock. */
struct la_record {
    LIST_ENTRY link; /* records */
    PGENERAL_LOOKASIDE list;
    enum la_kind kind;
    bool deleted;
    fltsim_system *sys;           /* the code that initialized it, for leak reports */
    struct fltsim_driver *driver; /* NULL: not a driver's code */
    const char *file;             /* initialization site; line 0: file names a routine */
    int line;
    /* copies of what Initialize set (NULL routines: pool) */
    PALLOCATE_FUNCTION allocate;
    PFREE_FUNCTION free_fn;
    PALLOCATE_FUNCTION_EX allocate_ex;
    PFREE_FUNCTION_EX free_ex;
    ULONG type, tag, size;
    bool raise; /* POOL_RAISE_IF_ALLOCATION_FAILURE / EX_..._RAISE_ON_FAIL */
    ULONG64 held;
    LONG busy; /* callers between a snapshot and the end of an allocate/free call */
    ULONG window_allocates, window_misses;
};

/* An entry handed out and not freed back: open addressing by address. */
struct la_entry {
    void *address; /* NULL: free slot */
    struct la_record *rec;
    const char *file;
    int line;
};

static uv_once_t la_once = UV_ONCE_INIT;
static uv_mutex_t la_lock;
static LIST_ENTRY records; /* la_lock */
static struct la_entry *entries;
static size_t entry_capacity, entry_count; /* la_lock */
static LONG live_records;                  /* records' length, readable without the lock */

static void la_cleanup(void)
{
    while (!IsListEmpty(&records))
        free(CONTAINING_RECORD(RemoveHeadList(&records), struct la_record, link));
    free(entries);
    entries = NULL;
    entry_capacity = entry_count = 0;
}

static void la_init(void)
{
    if (uv_mutex_init(&la_lock) != 0)
        abort();
    InitializeListHead(&records);
    atexit(la_cleanup);
}

static void la_enter(void)
{
    uv_once(&la_once, la_init);
    uv_mutex_lock(&la_lock);
}

static void la_leave(void)
{
    uv_mutex_unlock(&la_lock);
}

static void la_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void la_report(const char *fmt, ...)
{
    char message[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    fltsim__ke_report("V23", "10", "%s", message);
}

static void tag_text(ULONG tag, char out[5])
{
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)(tag >> (8 * i));
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
    }
    out[4] = '\0';
}

static struct fltsim_driver *current_driver(void)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->sys == NULL)
        return NULL;
    return t->filter != NULL ? t->filter->driver : t->loading;
}

/* ---- the entry map (la_lock held) ---- */

static size_t slot_of(const void *address, size_t capacity)
{
    ULONG64 h = (ULONG64)(uintptr_t)address;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & (capacity - 1);
}

static struct la_entry *map_find(const void *address)
{
    if (entry_capacity == 0)
        return NULL;
    for (size_t i = slot_of(address, entry_capacity);; i = (i + 1) & (entry_capacity - 1)) {
        if (entries[i].address == address)
            return &entries[i];
        if (entries[i].address == NULL)
            return NULL;
    }
}

static bool map_grow(void)
{
    size_t capacity = entry_capacity ? entry_capacity * 2 : 256;
    struct la_entry *grown = calloc(capacity, sizeof(*grown));
    if (grown == NULL)
        return false;
    for (size_t i = 0; i < entry_capacity; i++) {
        if (entries[i].address == NULL)
            continue;
        size_t j = slot_of(entries[i].address, capacity);
        while (grown[j].address != NULL)
            j = (j + 1) & (capacity - 1);
        grown[j] = entries[i];
    }
    free(entries);
    entries = grown;
    entry_capacity = capacity;
    return true;
}

/* Removes a slot, shifting back the entries after it (no tombstones). */
static void map_remove(struct la_entry *slot)
{
    size_t mask = entry_capacity - 1;
    size_t i = (size_t)(slot - entries);
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (entries[j].address == NULL)
            break;
        size_t home = slot_of(entries[j].address, entry_capacity);
        /* entries[j] may move to i unless its home lies in (i, j] cyclically */
        bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        entries[i] = entries[j];
        i = j;
    }
    entries[i].address = NULL;
    entry_count--;
}

static void record_maybe_free(struct la_record *rec)
{
    if (rec->deleted && rec->held == 0 && rec->busy == 0) {
        RemoveEntryList(&rec->link);
        free(rec);
        __atomic_sub_fetch(&live_records, 1, __ATOMIC_RELAXED);
    }
}

/* An entry goes back (freed or forgotten): its record holds one less. */
static void entry_release(struct la_entry *slot)
{
    struct la_record *rec = slot->rec;
    map_remove(slot);
    rec->held--;
    record_maybe_free(rec);
}

/* false when out of memory. An address still mapped is a stale mapping
 * (the memory went back through ExFreePool and came out again): replaced. */
static bool map_insert(void *address, struct la_record *rec, const char *file, int line)
{
    struct la_entry *old = map_find(address);
    if (old != NULL)
        entry_release(old);
    if ((entry_count + 1) * 2 > entry_capacity && !map_grow())
        return false;
    size_t i = slot_of(address, entry_capacity);
    while (entries[i].address != NULL)
        i = (i + 1) & (entry_capacity - 1);
    entries[i] = (struct la_entry){address, rec, file, line};
    entry_count++;
    rec->held++;
    return true;
}

static struct la_record *find_live(const void *list)
{
    for (PLIST_ENTRY e = records.Flink; e != &records; e = e->Flink) {
        struct la_record *rec = CONTAINING_RECORD(e, struct la_record, link);
        if (rec->list == list && !rec->deleted)
            return rec;
    }
    return NULL;
}

static KIRQL max_irql(const struct la_record *rec)
{
    return (rec->type & 1) ? APC_LEVEL : DISPATCH_LEVEL; /* odd base types are paged */
}

/* ---- allocate and free through a list's routines (no lock held) ---- */

static PVOID call_allocate(const struct la_record *snap, PGENERAL_LOOKASIDE list, const char *file,
                           int line)
{
    if (snap->kind == LA_EX && snap->allocate_ex != NULL)
        return snap->allocate_ex((POOL_TYPE)snap->type, snap->size, snap->tag,
                                 (PLOOKASIDE_LIST_EX)(void *)list);
    if (snap->kind != LA_EX && snap->allocate != NULL)
        return snap->allocate((POOL_TYPE)snap->type, snap->size, snap->tag);
    /* The list raises (la_allocate) once its own state is restored, so the
     * pool must not raise from under it. */
    return fltsim__pool_allocate_at(snap->type & ~(ULONG)POOL_RAISE_IF_ALLOCATION_FAILURE,
                                    snap->size, snap->tag,
                                    file != NULL ? file : alloc_api[snap->kind], line);
}

static void call_free(const struct la_record *snap, PGENERAL_LOOKASIDE list, PVOID entry)
{
    if (snap->kind == LA_EX && snap->free_ex != NULL)
        snap->free_ex(entry, (PLOOKASIDE_LIST_EX)(void *)list);
    else if (snap->kind != LA_EX && snap->free_fn != NULL)
        snap->free_fn(entry);
    else
        fltsim__pool_free(entry);
}

/* Gives every cached entry back through the list's free routine. */
static void flush_cached(const struct la_record *snap, PGENERAL_LOOKASIDE list, const char *api)
{
    PSLIST_ENTRY e = fltsim__slist_flush(&list->ListHead, api);
    while (e != NULL) {
        PSLIST_ENTRY next = e->Next;
        call_free(snap, list, e);
        e = next;
    }
}

/* The depth fltsim lets a list cache: doubled after a window of allocations
 * with many misses, lowered by one after a window without any. Windows
 * adjusts it once a second by its own rule; only the bounds are the same. */
static void adjust_depth(struct la_record *rec, PGENERAL_LOOKASIDE list, bool miss)
{
    rec->window_allocates++;
    if (miss)
        rec->window_misses++;
    if (rec->window_allocates < LA_WINDOW)
        return;
    USHORT depth = __atomic_load_n(&list->Depth, __ATOMIC_RELAXED);
    USHORT max = __atomic_load_n(&list->MaximumDepth, __ATOMIC_RELAXED);
    if (rec->window_misses >= LA_WINDOW / 8)
        depth = (USHORT)(depth * 2 > max ? max : depth * 2);
    else if (rec->window_misses == 0 && depth > LA_MIN_DEPTH)
        depth--;
    __atomic_store_n(&list->Depth, depth, __ATOMIC_RELAXED);
    __atomic_store_n(&list->LastTotalAllocates,
                     __atomic_load_n(&list->TotalAllocates, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
    __atomic_store_n(&list->LastAllocateMisses,
                     __atomic_load_n(&list->AllocateMisses, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
    rec->window_allocates = rec->window_misses = 0;
}

static PVOID la_allocate(PGENERAL_LOOKASIDE list, enum la_kind kind, const char *file, int line)
{
    const char *api = alloc_api[kind];
    if (list == NULL) {
        la_report("%s(NULL); NULL returned", api);
        return NULL;
    }
    la_enter();
    struct la_record *rec = find_live(list);
    if (rec == NULL) {
        la_leave();
        la_report("%s(%p): the list was never initialized or was deleted; NULL returned", api,
                  (void *)list);
        return NULL;
    }
    struct la_record snap = *rec;
    __atomic_add_fetch(&list->TotalAllocates, 1, __ATOMIC_RELAXED);
    PVOID entry = fltsim__slist_pop(&list->ListHead, NULL);
    if (entry != NULL) {
        bool tracked = map_insert(entry, rec, file, line);
        adjust_depth(rec, list, false);
        la_leave();
        if (!tracked) {
            call_free(&snap, list, entry);
            return NULL;
        }
        goto checks;
    }
    rec->busy++;
    la_leave();

    __atomic_add_fetch(&list->AllocateMisses, 1, __ATOMIC_RELAXED);
    entry = call_allocate(&snap, list, file, line);
    la_enter();
    rec->busy--;
    bool tracked = entry != NULL && map_insert(entry, rec, file, line);
    adjust_depth(rec, list, true);
    record_maybe_free(rec);
    la_leave();
    if (entry == NULL) {
        if (snap.raise)
            ExRaiseStatus(STATUS_INSUFFICIENT_RESOURCES);
        return NULL;
    }
    if (!tracked) {
        call_free(&snap, list, entry);
        return NULL;
    }
    if (((uintptr_t)entry & (LA_ALIGNMENT - 1)) != 0)
        la_report("%s(%p): the list's allocate routine returned %p, which is not 16-byte aligned "
                  "(Windows caches entries on an SLIST that requires it); fltsim never caches it",
                  api, (void *)list, entry);

checks:
    if (kind != snap.kind)
        la_report("%s on a %s (initialized by the other family's routine); it works as one", api,
                  kind_names[snap.kind]);
    fltsim__check_irql(fltsim__tls()->sys, max_irql(&snap), api);
    return entry;
}

static void la_free(PGENERAL_LOOKASIDE list, PVOID entry, enum la_kind kind)
{
    const char *api = free_api[kind];
    char note[300] = "";
    if (list == NULL || entry == NULL) {
        la_report("%s(%p, %p): NULL list or entry; ignored", api, (void *)list, entry);
        return;
    }
    la_enter();
    struct la_record *rec = find_live(list);
    struct la_entry *slot = map_find(entry);
    if (slot == NULL) {
        la_leave();
        la_report("%s(%p, %p): the entry was not allocated from a lookaside list, or was already "
                  "freed; ignored",
                  api, (void *)list, entry);
        return;
    }
    struct la_record *target = slot->rec;
    if (target != rec) {
        char want[5];
        tag_text(target->tag, want);
        if (rec != NULL && target->deleted && target->list == list) {
            /* Freed to the same structure reinitialized since: as on Windows,
             * the new list takes it. */
            slot->rec = rec;
            rec->held++;
            target->held--;
            record_maybe_free(target);
            target = rec;
        } else if (target->deleted && target->list == list) {
            snprintf(note, sizeof(note),
                     "%s(%p, %p): the list was deleted before the entry came back (entries "
                     "still held must be freed before the delete); it is freed through the "
                     "list's free routine",
                     api, (void *)list, entry);
        } else if (target->deleted) {
            snprintf(note, sizeof(note),
                     "%s(%p, %p): the entry comes from lookaside list %p ('%s'), which was "
                     "deleted; it is freed through that list's free routine",
                     api, (void *)list, entry, (void *)target->list, want);
        } else {
            snprintf(note, sizeof(note),
                     "%s(%p, %p): the entry was allocated from lookaside list %p ('%s', %u-byte "
                     "entries), not from this one%s; it goes back to its own list",
                     api, (void *)list, entry, (void *)target->list, want, target->size,
                     rec == NULL ? " (which was never initialized or was deleted)" : "");
        }
    }
    struct la_record snap = *target;
    PGENERAL_LOOKASIDE home = target->list;
    map_remove(slot);
    target->held--;
    bool cached = false;
    if (!target->deleted) {
        __atomic_add_fetch(&home->TotalFrees, 1, __ATOMIC_RELAXED);
        USHORT depth = __atomic_load_n(&home->Depth, __ATOMIC_RELAXED);
        if (((uintptr_t)entry & (LA_ALIGNMENT - 1)) == 0 &&
            fltsim__slist_depth(&home->ListHead) < depth) {
            fltsim__slist_push(&home->ListHead, entry, NULL);
            cached = true;
        } else {
            __atomic_add_fetch(&home->FreeMisses, 1, __ATOMIC_RELAXED);
        }
    }
    if (!cached)
        target->busy++;
    la_leave();

    if (!cached) {
        call_free(&snap, home, entry);
        la_enter();
        target->busy--;
        record_maybe_free(target);
        la_leave();
    }
    if (kind != snap.kind)
        la_report("%s on a %s (initialized by the other family's routine); it works as one", api,
                  kind_names[snap.kind]);
    if (note[0] != '\0')
        la_report("%s", note);
    fltsim__check_irql(fltsim__tls()->sys, max_irql(&snap), api);
}

/* ---- initialize and delete ---- */

static void la_delete(PGENERAL_LOOKASIDE list, enum la_kind kind)
{
    const char *api = delete_api[kind];
    if (list == NULL) {
        la_report("%s(NULL); ignored", api);
        return;
    }
    la_enter();
    struct la_record *rec = find_live(list);
    if (rec == NULL) {
        la_leave();
        la_report("%s(%p): the list was never initialized or was already deleted; ignored", api,
                  (void *)list);
        return;
    }
    rec->deleted = true;
    rec->busy++;
    struct la_record snap = *rec;
    la_leave();

    fltsim__check_irql(fltsim__tls()->sys, max_irql(&snap), api);
    if (kind != snap.kind)
        la_report("%s on a %s (initialized by the other family's routine); deleted anyway", api,
                  kind_names[snap.kind]);
    flush_cached(&snap, list, api);
    la_enter();
    rec->busy--;
    record_maybe_free(rec);
    la_leave();
}

static NTSTATUS la_initialize(PGENERAL_LOOKASIDE list, enum la_kind kind, const char *api,
                              const struct la_record *init)
{
    if (list == NULL) {
        la_report("%s(NULL); nothing initialized", api);
        return STATUS_INVALID_PARAMETER;
    }
    if (((uintptr_t)list & (LA_ALIGNMENT - 1)) != 0)
        la_report("%s(%p): lookaside lists must be 16-byte aligned on 64-bit Windows; fltsim goes "
                  "on",
                  api, (void *)list);
    la_enter();
    struct la_record *old = find_live(list);
    enum la_kind old_kind = old != NULL ? old->kind : kind;
    la_leave();
    if (old != NULL) {
        la_report("%s(%p): the list is initialized already and was never deleted; fltsim deletes "
                  "it first (on Windows the system's list of lookaside lists would be corrupted)",
                  api, (void *)list);
        la_delete(list, old_kind);
    }

    struct la_record *rec = calloc(1, sizeof(*rec));
    if (rec == NULL) {
        fltsim__ke_report("SIM", "-", "%s: out of memory for fltsim's record of the list", api);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    *rec = *init;
    rec->list = list;
    rec->kind = kind;
    rec->sys = fltsim__tls()->sys;
    rec->driver = current_driver();

    memset(list, 0, sizeof(*list));
    ExInitializeSListHead(&list->ListHead);
    list->Depth = LA_MIN_DEPTH;
    list->MaximumDepth = LA_MAX_DEPTH;
    list->Type = (POOL_TYPE)rec->type;
    list->Tag = rec->tag;
    list->Size = rec->size;
    if (kind == LA_EX) {
        list->AllocateEx = rec->allocate_ex;
        list->FreeEx = rec->free_ex;
    } else {
        /* As Windows records them: pool's routines when the caller has none. */
        list->Allocate = rec->allocate != NULL ? rec->allocate : (ExAllocatePoolWithTag);
        list->Free = rec->free_fn != NULL ? rec->free_fn : ExFreePool;
    }
    la_enter();
    InsertTailList(&records, &rec->link);
    __atomic_add_fetch(&live_records, 1, __ATOMIC_RELAXED);
    la_leave();
    return STATUS_SUCCESS;
}

/* LOOKASIDE_LIST_EX holds a GENERAL_LOOKASIDE_POOL, GENERAL_LOOKASIDE's twin
 * (the same fields in the same order). */
static PGENERAL_LOOKASIDE ex_list(PLOOKASIDE_LIST_EX Lookaside)
{
    _Static_assert(sizeof(GENERAL_LOOKASIDE_POOL) == sizeof(GENERAL_LOOKASIDE), "twins");
    return Lookaside != NULL ? (PGENERAL_LOOKASIDE)(void *)&Lookaside->L : NULL;
}

/* The entry size a list gets: at least what an SLIST_ENTRY needs. */
static ULONG entry_size(SIZE_T size, const char *api)
{
    if (size < LOOKASIDE_MINIMUM_BLOCK_SIZE) {
        la_report("%s: entry size %zu is below LOOKASIDE_MINIMUM_BLOCK_SIZE (%zu); fltsim uses %zu",
                  api, (size_t)size, (size_t)LOOKASIDE_MINIMUM_BLOCK_SIZE,
                  (size_t)LOOKASIDE_MINIMUM_BLOCK_SIZE);
        return (ULONG)LOOKASIDE_MINIMUM_BLOCK_SIZE;
    }
    if (size > 0xffffffffu) {
        la_report("%s: entry size %zu does not fit the list's ULONG Size; nothing initialized", api,
                  (size_t)size);
        return 0;
    }
    return (ULONG)size;
}

VOID fltsim_ExInitializeNPagedLookasideList_at(PNPAGED_LOOKASIDE_LIST Lookaside,
                                               PALLOCATE_FUNCTION Allocate, PFREE_FUNCTION Free,
                                               ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth,
                                               const char *file, int line)
{
    const char *api = "ExInitializeNPagedLookasideList";
    (void)Depth; /* reserved: the system determines the depth */
    fltsim__check_irql(fltsim__tls()->sys, DISPATCH_LEVEL, api);
    const ULONG known = POOL_RAISE_IF_ALLOCATION_FAILURE | POOL_NX_ALLOCATION;
    if (Flags & ~known)
        la_report("%s: unknown flag bits 0x%lx ignored (POOL_NX_ALLOCATION and "
                  "POOL_RAISE_IF_ALLOCATION_FAILURE are the only ones)",
                  api, (unsigned long)(Flags & ~known));
    struct la_record init = {.allocate = Allocate, .free_fn = Free, .file = file, .line = line};
    init.size = entry_size(Size, api);
    if (init.size == 0)
        return;
    init.tag = Tag;
    init.type = (ULONG)NonPagedPool | (Flags & known);
    /* A driver built with POOL_NX_OPTIN gets NX lists (wdm.h does it inline). */
    if (fltsim__pool_nx_opted_in())
        init.type |= POOL_NX_ALLOCATION;
    init.raise = (Flags & POOL_RAISE_IF_ALLOCATION_FAILURE) != 0;
    la_initialize(Lookaside != NULL ? &Lookaside->L : NULL, LA_NPAGED, api, &init);
}

VOID fltsim_ExInitializePagedLookasideList_at(PPAGED_LOOKASIDE_LIST Lookaside,
                                              PALLOCATE_FUNCTION Allocate, PFREE_FUNCTION Free,
                                              ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth,
                                              const char *file, int line)
{
    const char *api = "ExInitializePagedLookasideList";
    (void)Depth;
    fltsim__check_irql(fltsim__tls()->sys, APC_LEVEL, api);
    /* POOL_NX_ALLOCATION is accepted and has no effect: paged pool is NX. */
    const ULONG known = POOL_RAISE_IF_ALLOCATION_FAILURE | POOL_NX_ALLOCATION;
    if (Flags & ~known)
        la_report("%s: unknown flag bits 0x%lx ignored (POOL_RAISE_IF_ALLOCATION_FAILURE is the "
                  "only one)",
                  api, (unsigned long)(Flags & ~known));
    struct la_record init = {.allocate = Allocate, .free_fn = Free, .file = file, .line = line};
    init.size = entry_size(Size, api);
    if (init.size == 0)
        return;
    init.tag = Tag;
    init.type = (ULONG)PagedPool | (Flags & POOL_RAISE_IF_ALLOCATION_FAILURE);
    init.raise = (Flags & POOL_RAISE_IF_ALLOCATION_FAILURE) != 0;
    la_initialize(Lookaside != NULL ? &Lookaside->L : NULL, LA_PAGED, api, &init);
}

NTSTATUS fltsim_ExInitializeLookasideListEx_at(PLOOKASIDE_LIST_EX Lookaside,
                                               PALLOCATE_FUNCTION_EX Allocate,
                                               PFREE_FUNCTION_EX Free, POOL_TYPE PoolType,
                                               ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth,
                                               const char *file, int line)
{
    const char *api = "ExInitializeLookasideListEx";
    (void)Depth;
    const ULONG both =
        EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL | EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE;
    /* The two flags exclude each other, and no other bit is defined. */
    if ((Flags & ~both) != 0 || Flags == both)
        return STATUS_INVALID_PARAMETER_5;
    fltsim__check_irql(fltsim__tls()->sys, DISPATCH_LEVEL, api);
    struct la_record init = {.allocate_ex = Allocate, .free_ex = Free, .file = file, .line = line};
    init.size = entry_size(Size, api);
    if (init.size == 0)
        return STATUS_INVALID_PARAMETER_6;
    init.tag = Tag;
    /* The flags reach the allocate routine as pool-type modifiers. */
    init.type = (ULONG)PoolType;
    if (Flags & EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL)
        init.type |= POOL_RAISE_IF_ALLOCATION_FAILURE;
    if (Flags & EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE)
        init.type |= POOL_QUOTA_FAIL_INSTEAD_OF_RAISE;
    init.raise = (Flags & EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL) != 0;
    return la_initialize(ex_list(Lookaside), LA_EX, api, &init);
}

VOID(ExInitializeNPagedLookasideList)
(PNPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate, PFREE_FUNCTION Free, ULONG Flags,
 SIZE_T Size, ULONG Tag, USHORT Depth)
{
    fltsim_ExInitializeNPagedLookasideList_at(Lookaside, Allocate, Free, Flags, Size, Tag, Depth,
                                              "ExInitializeNPagedLookasideList", 0);
}

VOID(ExInitializePagedLookasideList)
(PPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate, PFREE_FUNCTION Free, ULONG Flags,
 SIZE_T Size, ULONG Tag, USHORT Depth)
{
    fltsim_ExInitializePagedLookasideList_at(Lookaside, Allocate, Free, Flags, Size, Tag, Depth,
                                             "ExInitializePagedLookasideList", 0);
}

NTSTATUS(ExInitializeLookasideListEx)
(PLOOKASIDE_LIST_EX Lookaside, PALLOCATE_FUNCTION_EX Allocate, PFREE_FUNCTION_EX Free,
 POOL_TYPE PoolType, ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth)
{
    return fltsim_ExInitializeLookasideListEx_at(Lookaside, Allocate, Free, PoolType, Flags, Size,
                                                 Tag, Depth, "ExInitializeLookasideListEx", 0);
}

PVOID fltsim_ExAllocateFromNPagedLookasideList_at(PNPAGED_LOOKASIDE_LIST Lookaside,
                                                  const char *file, int line)
{
    return la_allocate(Lookaside != NULL ? &Lookaside->L : NULL, LA_NPAGED, file, line);
}

PVOID fltsim_ExAllocateFromPagedLookasideList_at(PPAGED_LOOKASIDE_LIST Lookaside, const char *file,
                                                 int line)
{
    return la_allocate(Lookaside != NULL ? &Lookaside->L : NULL, LA_PAGED, file, line);
}

PVOID fltsim_ExAllocateFromLookasideListEx_at(PLOOKASIDE_LIST_EX Lookaside, const char *file,
                                              int line)
{
    return la_allocate(ex_list(Lookaside), LA_EX, file, line);
}

PVOID(ExAllocateFromNPagedLookasideList)(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    return fltsim_ExAllocateFromNPagedLookasideList_at(Lookaside, NULL, 0);
}

PVOID(ExAllocateFromPagedLookasideList)(PPAGED_LOOKASIDE_LIST Lookaside)
{
    return fltsim_ExAllocateFromPagedLookasideList_at(Lookaside, NULL, 0);
}

PVOID(ExAllocateFromLookasideListEx)(PLOOKASIDE_LIST_EX Lookaside)
{
    return fltsim_ExAllocateFromLookasideListEx_at(Lookaside, NULL, 0);
}

VOID ExFreeToNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry)
{
    la_free(Lookaside != NULL ? &Lookaside->L : NULL, Entry, LA_NPAGED);
}

VOID ExFreeToPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry)
{
    la_free(Lookaside != NULL ? &Lookaside->L : NULL, Entry, LA_PAGED);
}

VOID ExFreeToLookasideListEx(PLOOKASIDE_LIST_EX Lookaside, PVOID Entry)
{
    la_free(ex_list(Lookaside), Entry, LA_EX);
}

VOID ExDeleteNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    la_delete(Lookaside != NULL ? &Lookaside->L : NULL, LA_NPAGED);
}

VOID ExDeletePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside)
{
    la_delete(Lookaside != NULL ? &Lookaside->L : NULL, LA_PAGED);
}

VOID ExDeleteLookasideListEx(PLOOKASIDE_LIST_EX Lookaside)
{
    la_delete(ex_list(Lookaside), LA_EX);
}

VOID ExFlushLookasideListEx(PLOOKASIDE_LIST_EX Lookaside)
{
    const char *api = "ExFlushLookasideListEx";
    PGENERAL_LOOKASIDE list = ex_list(Lookaside);
    la_enter();
    struct la_record *rec = list != NULL ? find_live(list) : NULL;
    if (rec == NULL) {
        la_leave();
        la_report("%s(%p): the list was never initialized or was deleted; ignored", api,
                  (void *)list);
        return;
    }
    rec->busy++;
    struct la_record snap = *rec;
    la_leave();
    fltsim__check_irql(fltsim__tls()->sys, max_irql(&snap), api);
    flush_cached(&snap, list, api);
    la_enter();
    rec->busy--;
    record_maybe_free(rec);
    la_leave();
}

/* ---- pool's hooks ---- */

void fltsim__lookaside_pool_freed(PVOID block, SIZE_T size)
{
    if (__atomic_load_n(&live_records, __ATOMIC_RELAXED) == 0)
        return;
    la_enter();
    /* A held entry given back with ExFreePool is no longer the list's. */
    struct la_entry *slot = map_find(block);
    if (slot != NULL)
        entry_release(slot);
    /* A live list inside the freed memory was never deleted. */
    struct la_record *dead = NULL;
    for (PLIST_ENTRY e = records.Flink; e != &records; e = e->Flink) {
        struct la_record *rec = CONTAINING_RECORD(e, struct la_record, link);
        if (!rec->deleted && (char *)rec->list >= (char *)block &&
            (char *)rec->list < (char *)block + size) {
            dead = rec;
            break;
        }
    }
    la_leave();
    if (dead != NULL) {
        char t[5];
        tag_text(dead->tag, t);
        la_report("pool block %p freed while it holds lookaside list %p ('%s') that was never "
                  "deleted (%s); fltsim deletes it now",
                  block, (void *)dead->list, t, delete_api[dead->kind]);
        la_delete(dead->list, dead->kind);
        fltsim__lookaside_pool_freed(block, size); /* another list in the same block */
    }
}

struct leaked_list {
    PGENERAL_LOOKASIDE list;
    enum la_kind kind;
    bool deleted;
    ULONG tag, size;
    char init_site[96];
    char held_sites[200];
    ULONG64 cached, held;
};

static void site_text(const char *file, int line, char *out, size_t size)
{
    if (file == NULL) {
        snprintf(out, size, "an unknown site");
    } else if (line == 0) {
        snprintf(out, size, "%s", file);
    } else {
        const char *slash = strrchr(file, '/');
        snprintf(out, size, "%s:%d", slash != NULL ? slash + 1 : file, line);
    }
}

/* la_lock held: everything rec's list caches or handed out, into *blocks
 * (for pool), and the leak's description; the record and its entries go. */
static bool collect_record(struct la_record *rec, struct leaked_list *out, PVOID **blocks,
                           size_t *count, size_t *capacity)
{
    memset(out, 0, sizeof(*out));
    out->list = rec->list;
    out->kind = rec->kind;
    out->deleted = rec->deleted;
    out->tag = rec->tag;
    out->size = rec->size;
    site_text(rec->file, rec->line, out->init_site, sizeof(out->init_site));
    size_t need =
        *count + rec->held + (rec->deleted ? 0 : fltsim__slist_depth(&rec->list->ListHead));
    if (need > *capacity) {
        PVOID *grown = realloc(*blocks, need * sizeof(PVOID));
        if (grown == NULL)
            return false;
        *blocks = grown;
        *capacity = need;
    }
    if (!rec->deleted) {
        /* The cached entries stay with the unloaded driver's structure. */
        for (PSLIST_ENTRY e = fltsim__slist_flush(&rec->list->ListHead, NULL);
             e != NULL && *count < *capacity; e = e->Next) {
            (*blocks)[(*count)++] = e;
            out->cached++;
        }
    }
    int sites = 0;
    for (size_t i = 0; i < entry_capacity;) {
        struct la_entry *slot = &entries[i];
        if (slot->address == NULL || slot->rec != rec) {
            i++;
            continue;
        }
        char site[96];
        site_text(slot->file, slot->line, site, sizeof(site));
        if (sites < 3 && strstr(out->held_sites, site) == NULL) {
            size_t used = strlen(out->held_sites);
            snprintf(out->held_sites + used, sizeof(out->held_sites) - used, "%s%s",
                     sites > 0 ? ", " : "", site);
            sites++;
        }
        if (*count < *capacity)
            (*blocks)[(*count)++] = slot->address;
        out->held++;
        map_remove(slot); /* shifts a later entry into slot i: look at it again */
    }
    rec->held = 0;
    return true;
}

static void report_lists(fltsim_system *sys, struct fltsim_driver *drv, struct _FLT_FILTER *filter,
                         const char *who)
{
    struct leaked_list *lists = NULL;
    size_t list_count = 0, list_capacity = 0;
    PVOID *blocks = NULL;
    size_t block_count = 0, block_capacity = 0;

    la_enter();
    PLIST_ENTRY e = records.Flink;
    while (e != &records) {
        struct la_record *rec = CONTAINING_RECORD(e, struct la_record, link);
        e = e->Flink;
        if (rec->sys != sys || rec->driver != drv)
            continue;
        if (list_count == list_capacity) {
            size_t cap = list_capacity ? list_capacity * 2 : 4;
            struct leaked_list *grown = realloc(lists, cap * sizeof(*grown));
            if (grown == NULL)
                break;
            lists = grown;
            list_capacity = cap;
        }
        if (!collect_record(rec, &lists[list_count], &blocks, &block_count, &block_capacity))
            break;
        if (!lists[list_count].deleted || lists[list_count].held > 0)
            list_count++;
        rec->deleted = true;
        rec->sys = NULL;
        rec->driver = NULL;
        record_maybe_free(rec);
    }
    la_leave();

    /* Their pool blocks are reported here, as the list's, not again by pool. */
    fltsim__pool_mark_reported(sys, blocks, block_count);
    for (size_t i = 0; i < list_count; i++) {
        struct leaked_list *l = &lists[i];
        char t[5], held[300] = "";
        tag_text(l->tag, t);
        if (l->held > 0)
            snprintf(held, sizeof(held), "%s%llu entr%s allocated at %s never freed (%s)",
                     l->deleted ? "" : "; ", (unsigned long long)l->held,
                     l->held == 1 ? "y" : "ies", l->held_sites, free_api[l->kind]);
        if (!l->deleted)
            fltsim__report(sys, filter, NULL, NULL, "V23", "10",
                           "%s: lookaside list %p ('%s', %s of %u-byte entries) initialized at %s "
                           "was never deleted (%s); %llu cached entr%s%s",
                           who, (void *)l->list, t, kind_names[l->kind], l->size, l->init_site,
                           delete_api[l->kind], (unsigned long long)l->cached,
                           l->cached == 1 ? "y" : "ies", held);
        else
            fltsim__report(sys, filter, NULL, NULL, "V23", "10",
                           "%s: lookaside list %p ('%s', %s of %u-byte entries, initialized at "
                           "%s, deleted): %s",
                           who, (void *)l->list, t, kind_names[l->kind], l->size, l->init_site,
                           held);
    }
    free(blocks);
    free(lists);
}

void fltsim__lookaside_driver_unloaded(struct fltsim_driver *drv)
{
    char who[FLTSIM_NAME8_MAX + 16];
    snprintf(who, sizeof(who), "%s unloads", drv->name8);
    report_lists(drv->sys, drv, drv->filter_keep, who);
}

void fltsim__lookaside_system_destroyed(fltsim_system *sys)
{
    report_lists(sys, NULL, NULL, "system destroyed (filter code outside any driver)");
}
