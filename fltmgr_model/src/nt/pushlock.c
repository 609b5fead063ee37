/*
 * Push locks (issue 15 item 4): ExInitializePushLock and FltMgr's
 * FltInitializePushLock, FltAcquirePushLockExclusive(Ex)/Shared(Ex),
 * FltReleasePushLock(Ex) and FltDeletePushLock. A reader/writer lock in one
 * pointer-sized word; not recursive: where Windows hangs (a thread acquiring
 * a push lock it holds exclusive, or exclusive one it holds shared, or shared
 * again while a writer waits) fltsim reports (KE) and lets the thread go on
 * as if the acquisition had succeeded, so that one bug does not end the run.
 * The Flt routines disable normal kernel APCs while the lock is held, as
 * Learn documents. Owners and waiters are dispatcher state (nt_internal.h).
 */
#include <stdlib.h>
#include <string.h>

#include "nt_internal.h"

/* The word is 0 while nobody holds or waits for the lock; otherwise it
 * points at this record, which lives in the table of live push locks until
 * the lock is free again. A nonzero word not in the table is memory no
 * initialization has seen (or a lock freed while held). */
struct holder {
    struct fltsim_sthread *thread;
    LONG shared;    /* shared acquisitions held */
    LONG exclusive; /* 0 or 1 */
    LONG phantom;   /* acquisitions that deadlock on Windows: reported, not held */
};

struct push_lock {
    LIST_ENTRY link; /* live_locks */
    PEX_PUSH_LOCK word;
    LONG shared_count;
    bool exclusive;
    LIST_ENTRY waiters; /* struct fltsim_wait_block, exclusive or not */
    struct holder *holders;
    ULONG holders_size;
};

/* dispatcher lock */
static LIST_ENTRY live_locks = {&live_locks, &live_locks};

VOID ExInitializePushLock(PEX_PUSH_LOCK PushLock)
{
    __atomic_store_n(PushLock, 0, __ATOMIC_RELAXED);
}

VOID FltInitializePushLock(PEX_PUSH_LOCK PushLock)
{
    ExInitializePushLock(PushLock);
}

/* dispatcher lock held. The record of a held or waited-for lock; NULL for a
 * free one. *corrupt: the word is neither. */
static struct push_lock *lookup_locked(PEX_PUSH_LOCK word, bool *corrupt)
{
    *corrupt = false;
    ULONG_PTR value = *word;
    if (value == 0)
        return NULL;
    for (PLIST_ENTRY e = live_locks.Flink; e != &live_locks; e = e->Flink) {
        struct push_lock *pl = CONTAINING_RECORD(e, struct push_lock, link);
        if ((ULONG_PTR)pl == value && pl->word == word)
            return pl;
    }
    *corrupt = true;
    return NULL;
}

static struct holder *holder_of(struct push_lock *pl, struct fltsim_sthread *thread, bool create)
{
    struct holder *free_slot = NULL;
    for (ULONG i = 0; i < pl->holders_size; i++) {
        struct holder *h = &pl->holders[i];
        if (h->thread == thread)
            return h;
        if (h->thread == NULL && free_slot == NULL)
            free_slot = h;
    }
    if (!create)
        return NULL;
    if (free_slot == NULL) {
        ULONG size = pl->holders_size ? pl->holders_size * 2 : 4;
        struct holder *grown = realloc(pl->holders, size * sizeof(*grown));
        if (grown == NULL)
            abort();
        memset(grown + pl->holders_size, 0, (size - pl->holders_size) * sizeof(*grown));
        free_slot = &grown[pl->holders_size];
        pl->holders = grown;
        pl->holders_size = size;
    }
    free_slot->thread = thread;
    return free_slot;
}

/* dispatcher lock held. Frees the record of a lock nobody holds or waits
 * for and zeroes its word. */
static void maybe_free_locked(struct push_lock *pl)
{
    if (pl->exclusive || pl->shared_count != 0 || !IsListEmpty(&pl->waiters))
        return;
    for (ULONG i = 0; i < pl->holders_size; i++)
        if (pl->holders[i].phantom != 0)
            return;
    __atomic_store_n(pl->word, 0, __ATOMIC_RELAXED);
    RemoveEntryList(&pl->link);
    free(pl->holders);
    free(pl);
}

static bool exclusive_waiter(struct push_lock *pl)
{
    for (PLIST_ENTRY e = pl->waiters.Flink; e != &pl->waiters; e = e->Flink)
        if (CONTAINING_RECORD(e, struct fltsim_wait_block, link)->exclusive)
            return true;
    return false;
}

/* dispatcher lock held. Grants waiters in arrival order while they can go:
 * one writer, or the readers before the next writer. */
static void grant_waiters_locked(struct push_lock *pl)
{
    while (!IsListEmpty(&pl->waiters) && !pl->exclusive) {
        struct fltsim_wait_block *wb =
            CONTAINING_RECORD(pl->waiters.Flink, struct fltsim_wait_block, link);
        if (wb->exclusive && pl->shared_count != 0)
            return;
        RemoveEntryList(&wb->link);
        struct holder *h = holder_of(pl, wb->thread, true);
        if (wb->exclusive) {
            pl->exclusive = true;
            h->exclusive = 1;
        } else {
            pl->shared_count++;
            h->shared++;
        }
        wb->satisfied = true;
        fltsim__unpark(wb->thread);
    }
}

/* dispatcher lock held. The record of word, made for a free lock. */
static struct push_lock *record_locked(PEX_PUSH_LOCK word, const char *api)
{
    bool corrupt;
    struct push_lock *pl = lookup_locked(word, &corrupt);
    if (corrupt) {
        fltsim__dispatcher_unlock();
        fltsim__ke_report("KE", "-",
                          "%s on a push lock that FltInitializePushLock never initialized (or "
                          "that was freed while held); fltsim initializes it",
                          api);
        fltsim__dispatcher_lock();
        pl = lookup_locked(word, &corrupt);
        if (corrupt)
            __atomic_store_n(word, 0, __ATOMIC_RELAXED);
    }
    if (pl != NULL)
        return pl;
    pl = calloc(1, sizeof(*pl));
    if (pl == NULL)
        abort();
    pl->word = word;
    InitializeListHead(&pl->waiters);
    InsertTailList(&live_locks, &pl->link);
    __atomic_store_n(word, (ULONG_PTR)pl, __ATOMIC_RELAXED);
    return pl;
}

static void acquire(PEX_PUSH_LOCK word, bool exclusive, const char *api)
{
    struct fltsim_sthread *self = fltsim__current_sthread();
    bool checked = false; /* the V30 check for blocking has been made */
    fltsim__dispatcher_lock();
    for (;;) {
        struct push_lock *pl = record_locked(word, api);
        struct holder *mine = holder_of(pl, self, false);
        const char *hang = NULL;
        if (mine != NULL && mine->exclusive)
            hang = "it holds exclusive";
        else if (mine != NULL && mine->shared != 0 && exclusive)
            hang = "it holds shared";
        if (hang != NULL) {
            mine->phantom++;
            fltsim__dispatcher_unlock();
            fltsim__ke_report("KE", "-",
                              "%s of a push lock %s: push locks are not recursive and Windows "
                              "hangs this thread; fltsim goes on as if it were acquired",
                              api, hang);
            return;
        }
        if (mine != NULL && mine->shared != 0) {
            /* Shared again is allowed, but a writer queued between the two
             * acquisitions holds the second one back: on Windows both wait
             * for each other. The writer waits for this thread anyway, so
             * granting it changes nothing else. */
            bool writer_waits = exclusive_waiter(pl);
            pl->shared_count++;
            mine->shared++;
            fltsim__dispatcher_unlock();
            if (writer_waits)
                fltsim__ke_report("KE", "-",
                                  "%s of a push lock this thread holds shared while another "
                                  "thread waits for it exclusive: Windows hangs both; fltsim "
                                  "grants it",
                                  api);
            return;
        }
        /* A writer needs the lock free; a reader needs no writer holding
         * it or waiting for it. Either queues behind waiters already there. */
        bool free_now =
            !pl->exclusive && IsListEmpty(&pl->waiters) && (!exclusive || pl->shared_count == 0);
        if (free_now) {
            mine = holder_of(pl, self, true);
            if (exclusive) {
                pl->exclusive = true;
                mine->exclusive = 1;
            } else {
                pl->shared_count++;
                mine->shared++;
            }
            fltsim__dispatcher_unlock();
            return;
        }
        if (!checked) {
            /* The report may not be made under the dispatcher lock; the
             * lock may change (or be freed) meanwhile: look again. */
            fltsim__dispatcher_unlock();
            fltsim__check_blocking(api, "blocks on a push lock another thread holds");
            checked = true;
            fltsim__dispatcher_lock();
            continue;
        }
        struct fltsim_wait_block wb = {.thread = self, .exclusive = exclusive};
        InsertTailList(&pl->waiters, &wb.link);
        while (!wb.satisfied) {
            fltsim__dispatcher_unlock();
            fltsim__park(0);
            fltsim__dispatcher_lock();
        }
        fltsim__dispatcher_unlock();
        return;
    }
}

/* Returns false (after a report) when the thread does not hold the lock. */
static bool release(PEX_PUSH_LOCK word, const char *api)
{
    struct fltsim_sthread *self = fltsim__current_sthread();
    fltsim__dispatcher_lock();
    bool corrupt;
    struct push_lock *pl = lookup_locked(word, &corrupt);
    struct holder *mine = pl != NULL ? holder_of(pl, self, false) : NULL;
    if (mine == NULL || (mine->phantom == 0 && mine->exclusive == 0 && mine->shared == 0)) {
        fltsim__dispatcher_unlock();
        fltsim__ke_report("KE", "-",
                          "%s of a push lock this thread does not hold%s; the release is ignored",
                          api, corrupt ? " (the lock was never initialized)" : "");
        return false;
    }
    /* The most recent acquisition goes first: a phantom one (reported when
     * made) was nested inside a real one. */
    if (mine->phantom != 0) {
        mine->phantom--;
    } else if (mine->exclusive) {
        mine->exclusive = 0;
        pl->exclusive = false;
    } else {
        mine->shared--;
        pl->shared_count--;
    }
    if (mine->phantom == 0 && mine->exclusive == 0 && mine->shared == 0)
        mine->thread = NULL;
    grant_waiters_locked(pl);
    maybe_free_locked(pl);
    fltsim__dispatcher_unlock();
    return true;
}

/* ---- FltMgr's push lock routines ---- */

static void flt_acquire(PEX_PUSH_LOCK PushLock, ULONG Flags, bool exclusive, const char *api)
{
    if ((Flags & ~(ULONG)FLT_PUSH_LOCK_VALID_FLAGS) != 0)
        fltsim__ke_report("KE", "-", "%s with unknown flags 0x%lx", api,
                          (unsigned long)(Flags & ~(ULONG)FLT_PUSH_LOCK_VALID_FLAGS));
    if (KeGetCurrentIrql() > APC_LEVEL)
        fltsim__ke_report("V28", "10", "%s at IRQL %u; it may be called at APC_LEVEL or below", api,
                          (unsigned)KeGetCurrentIrql());
    /* FltAcquirePushLock* disables normal kernel APCs itself (its release
     * enables them again): no KeEnterCriticalRegion is needed around it. */
    fltsim__critical_region_enter();
    acquire(PushLock, exclusive, api);
}

VOID FltAcquirePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    flt_acquire(PushLock, Flags, true, "FltAcquirePushLockExclusive");
}

VOID FltAcquirePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    flt_acquire(PushLock, Flags, false, "FltAcquirePushLockShared");
}

VOID FltReleasePushLockEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    if ((Flags & ~(ULONG)FLT_PUSH_LOCK_VALID_FLAGS) != 0)
        fltsim__ke_report("KE", "-", "FltReleasePushLock with unknown flags 0x%lx",
                          (unsigned long)(Flags & ~(ULONG)FLT_PUSH_LOCK_VALID_FLAGS));
    if (KeGetCurrentIrql() > APC_LEVEL)
        fltsim__ke_report("V28", "10",
                          "FltReleasePushLock at IRQL %u; it may be called at APC_LEVEL or below",
                          (unsigned)KeGetCurrentIrql());
    if (release(PushLock, "FltReleasePushLock"))
        fltsim__critical_region_leave("FltReleasePushLock");
}

/* The WDK's plain forms are macros over the Ex forms for Windows 8.1 and
 * later (flt_support.h); the functions exist for older targets. */
#undef FltAcquirePushLockExclusive
#undef FltAcquirePushLockShared
#undef FltReleasePushLock

VOID FltAcquirePushLockExclusive(PEX_PUSH_LOCK PushLock)
{
    FltAcquirePushLockExclusiveEx(PushLock, 0);
}

VOID FltAcquirePushLockShared(PEX_PUSH_LOCK PushLock)
{
    FltAcquirePushLockSharedEx(PushLock, 0);
}

VOID FltReleasePushLock(PEX_PUSH_LOCK PushLock)
{
    FltReleasePushLockEx(PushLock, 0);
}

VOID FltDeletePushLock(PEX_PUSH_LOCK PushLock)
{
    if (KeGetCurrentIrql() > APC_LEVEL)
        fltsim__ke_report("V28", "10",
                          "FltDeletePushLock at IRQL %u; it may be called at APC_LEVEL or below",
                          (unsigned)KeGetCurrentIrql());
    fltsim__dispatcher_lock();
    bool corrupt;
    struct push_lock *pl = lookup_locked(PushLock, &corrupt);
    if (pl == NULL && !corrupt) {
        fltsim__dispatcher_unlock();
        return; /* free: nothing to delete, the memory may go */
    }
    if (corrupt)
        __atomic_store_n(PushLock, 0, __ATOMIC_RELAXED);
    fltsim__dispatcher_unlock();
    /* A held lock stays held (its holders and waiters still refer to it);
     * its memory must not be freed before they are done. */
    fltsim__ke_report("KE", "-", "FltDeletePushLock of a push lock %s",
                      corrupt ? "that FltInitializePushLock never initialized"
                              : "that is held or waited for");
}
