/*
 * Interlocked singly linked lists (SLIST_HEADER): ExInitializeSListHead,
 * ExInterlockedPush/Pop/FlushSList and ExQueryDepthSList, which wdm.h's
 * InterlockedPushEntrySList family maps onto. The header keeps the WDK's x64
 * layout (depth and sequence in the first word, the first entry in the
 * second), so a debugger's view and ExQueryDepthSList agree; the updates are
 * made under one of a few striped spin locks chosen by the header's address
 * instead of a 16-byte compare-exchange, which keeps them atomic for every
 * reader that goes through these routines. lookaside.c caches its free
 * entries here.
 */
#include <stdint.h>

#include "nt_internal.h"

#define SLIST_LOCKS 64
#define SLIST_ALIGNMENT 16 /* MEMORY_ALLOCATION_ALIGNMENT on x64 */
#define DEPTH_MASK 0xffffULL

/* One lock per stripe, each on its own cache line. */
static struct {
    LONG lock;
    char pad[60];
} stripes[SLIST_LOCKS];

static LONG *stripe_of(const SLIST_HEADER *head)
{
    uintptr_t a = (uintptr_t)head >> 4;
    a ^= a >> 9;
    return &stripes[a % SLIST_LOCKS].lock;
}

/* Word 0: Depth (16 bits) | Sequence (48 bits); word 1: the first entry's
 * address (its low four bits, Reserved, are zero for an aligned entry). */
static ULONGLONG word0(const SLIST_HEADER *h)
{
    return __atomic_load_n(&h->Alignment, __ATOMIC_RELAXED);
}

static PSLIST_ENTRY first_of(const SLIST_HEADER *h)
{
    return (PSLIST_ENTRY)(uintptr_t)__atomic_load_n(&h->Region, __ATOMIC_RELAXED);
}

/* Stripe lock held. */
static void store(PSLIST_HEADER h, PSLIST_ENTRY first, ULONGLONG depth)
{
    ULONGLONG sequence = ((word0(h) >> 16) + 1) & 0xffffffffffffULL;
    __atomic_store_n(&h->Alignment, (depth & DEPTH_MASK) | (sequence << 16), __ATOMIC_RELAXED);
    __atomic_store_n(&h->Region, (ULONGLONG)(uintptr_t)first, __ATOMIC_RELAXED);
}

/* api NULL: a caller holding a lock of its own; nothing is reported. */
static bool check_head(PSLIST_HEADER head, const char *api)
{
    if (api == NULL)
        return head != NULL;
    if (head == NULL) {
        fltsim__ke_report("KE", "-", "%s with a NULL SLIST_HEADER; nothing done", api);
        return false;
    }
    if (((uintptr_t)head & (SLIST_ALIGNMENT - 1)) != 0)
        fltsim__ke_report("KE", "-",
                          "%s: the SLIST_HEADER at %p is not 16-byte aligned (Windows faults on "
                          "its 16-byte compare-exchange); fltsim goes on",
                          api, (void *)head);
    return true;
}

VOID ExInitializeSListHead(PSLIST_HEADER SListHead)
{
    if (!check_head(SListHead, "ExInitializeSListHead"))
        return;
    __atomic_store_n(&SListHead->Alignment, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&SListHead->Region, 0, __ATOMIC_RELAXED);
}

PSLIST_ENTRY fltsim__slist_push(PSLIST_HEADER head, PSLIST_ENTRY entry, const char *api)
{
    if (!check_head(head, api))
        return NULL;
    if (entry == NULL || ((uintptr_t)entry & (SLIST_ALIGNMENT - 1)) != 0) {
        if (api == NULL)
            return NULL;
        fltsim__ke_report("KE", "-",
                          "%s of entry %p: SLIST entries must be non-NULL and 16-byte aligned "
                          "(MEMORY_ALLOCATION_ALIGNMENT); the entry was not pushed",
                          api, (void *)entry);
        return NULL;
    }
    LONG *lock = stripe_of(head);
    fltsim__spin_lock(lock);
    PSLIST_ENTRY first = first_of(head);
    if (first == entry) {
        fltsim__spin_unlock(lock);
        if (api == NULL)
            return first;
        fltsim__ke_report("KE", "-",
                          "%s of entry %p, which is already the list's first entry (pushed "
                          "twice: the list would loop); not pushed again",
                          api, (void *)entry);
        return first;
    }
    entry->Next = first;
    store(head, entry, (word0(head) & DEPTH_MASK) + 1);
    fltsim__spin_unlock(lock);
    return first;
}

PSLIST_ENTRY fltsim__slist_pop(PSLIST_HEADER head, const char *api)
{
    if (!check_head(head, api))
        return NULL;
    LONG *lock = stripe_of(head);
    fltsim__spin_lock(lock);
    PSLIST_ENTRY first = first_of(head);
    if (first != NULL)
        store(head, first->Next, (word0(head) & DEPTH_MASK) - 1);
    fltsim__spin_unlock(lock);
    return first;
}

PSLIST_ENTRY fltsim__slist_flush(PSLIST_HEADER head, const char *api)
{
    if (!check_head(head, api))
        return NULL;
    LONG *lock = stripe_of(head);
    fltsim__spin_lock(lock);
    PSLIST_ENTRY first = first_of(head);
    if (first != NULL)
        store(head, NULL, 0);
    fltsim__spin_unlock(lock);
    return first;
}

/* The spin lock of the WDK's signature serializes nothing on x64 (the list
 * is lock-free there); fltsim ignores it the same way. */
PSLIST_ENTRY ExInterlockedPushEntrySList(PSLIST_HEADER ListHead, PSLIST_ENTRY ListEntry,
                                         PKSPIN_LOCK Lock)
{
    (void)Lock;
    return fltsim__slist_push(ListHead, ListEntry, "ExInterlockedPushEntrySList");
}

PSLIST_ENTRY ExInterlockedPopEntrySList(PSLIST_HEADER ListHead, PKSPIN_LOCK Lock)
{
    (void)Lock;
    return fltsim__slist_pop(ListHead, "ExInterlockedPopEntrySList");
}

PSLIST_ENTRY ExInterlockedFlushSList(PSLIST_HEADER ListHead)
{
    return fltsim__slist_flush(ListHead, "ExInterlockedFlushSList");
}

USHORT fltsim__slist_depth(PSLIST_HEADER head)
{
    return (USHORT)(word0(head) & DEPTH_MASK);
}

USHORT ExQueryDepthSList(PSLIST_HEADER SListHead)
{
    if (!check_head(SListHead, "ExQueryDepthSList"))
        return 0;
    return fltsim__slist_depth(SListHead);
}
