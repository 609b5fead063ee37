/*
 * Run-down protection (EX_RUNDOWN_REF): ExInitialize/ReInitialize, Acquire,
 * Release (and their Ex forms with a count), ExWaitForRundownProtectionRelease
 * and ExRundownCompleted. The structure holds the WDK's encoding: twice the
 * number of references, or, once a run-down has begun, the address of the
 * waiter's wait block with EX_RUNDOWN_ACTIVE (bit 0) set, and EX_RUNDOWN_ACTIVE
 * alone once it has completed. The waiter parks through the executor (as
 * ke_sync.c's waits do), and the last releaser wakes it under the dispatcher
 * lock, so the wait block on the waiter's stack is never touched after the
 * waiter returns. Misuse Windows bugchecks on is a report and a defined outcome.
 */
#include <stdint.h>

#include "nt_internal.h"

#define RUNDOWN_ACTIVE ((ULONG_PTR)1)
#define RUNDOWN_SHIFT 1

/* On the waiter's stack while references are outstanding; 8-byte aligned, so
 * its address leaves bit 0 for EX_RUNDOWN_ACTIVE. */
struct rundown_wait {
    ULONG_PTR count;               /* references still to release; atomic */
    struct fltsim_sthread *thread; /* the waiter */
    bool satisfied;                /* dispatcher lock */
};

static ULONG_PTR load(PEX_RUNDOWN_REF r)
{
    return __atomic_load_n(&r->Count, __ATOMIC_ACQUIRE);
}

static bool swap(PEX_RUNDOWN_REF r, ULONG_PTR *expected, ULONG_PTR desired)
{
    return __atomic_compare_exchange_n(&r->Count, expected, desired, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

static void check_irql(KIRQL max, const char *api)
{
    fltsim__check_irql(fltsim__tls()->sys, max, api);
}

VOID ExInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    __atomic_store_n(&RunRef->Count, 0, __ATOMIC_RELEASE);
}

VOID ExReInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    check_irql(APC_LEVEL, "ExReInitializeRundownProtection");
    ULONG_PTR c = load(RunRef);
    if (c != RUNDOWN_ACTIVE && (c & RUNDOWN_ACTIVE) != 0) {
        fltsim__ke_report("KE", "-",
                          "ExReInitializeRundownProtection while a run-down of the same "
                          "EX_RUNDOWN_REF still waits for references; not reinitialized");
        return;
    }
    if (c != RUNDOWN_ACTIVE)
        fltsim__ke_report("KE", "-",
                          "ExReInitializeRundownProtection on an EX_RUNDOWN_REF that was not run "
                          "down (%lu reference(s) held); it must follow "
                          "ExWaitForRundownProtectionRelease. Reinitialized anyway, the "
                          "references are forgotten",
                          (unsigned long)(c >> RUNDOWN_SHIFT));
    __atomic_store_n(&RunRef->Count, 0, __ATOMIC_RELEASE);
}

BOOLEAN ExAcquireRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
    check_irql(DISPATCH_LEVEL, "ExAcquireRundownProtection(Ex)");
    ULONG_PTR add = (ULONG_PTR)Count << RUNDOWN_SHIFT;
    ULONG_PTR c = load(RunRef);
    for (;;) {
        if (c & RUNDOWN_ACTIVE)
            return FALSE;
        if (c + add < c) {
            fltsim__ke_report("KE", "-",
                              "ExAcquireRundownProtectionEx(%lu) would overflow the reference "
                              "count; refused",
                              (unsigned long)Count);
            return FALSE;
        }
        if (swap(RunRef, &c, c + add))
            return TRUE;
    }
}

BOOLEAN ExAcquireRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    return ExAcquireRundownProtectionEx(RunRef, 1);
}

/* The last reference of a run-down in progress is gone: wake the waiter. */
static void wake(struct rundown_wait *wb)
{
    fltsim__dispatcher_lock();
    wb->satisfied = true;
    fltsim__unpark(wb->thread);
    fltsim__dispatcher_unlock();
}

VOID ExReleaseRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
    check_irql(DISPATCH_LEVEL, "ExReleaseRundownProtection(Ex)");
    ULONG_PTR sub = (ULONG_PTR)Count << RUNDOWN_SHIFT;
    ULONG_PTR c = load(RunRef);
    for (;;) {
        if ((c & RUNDOWN_ACTIVE) == 0) {
            if (c < sub) {
                fltsim__ke_report("KE", "-",
                                  "ExReleaseRundownProtection(Ex) of %lu reference(s) when %lu "
                                  "are held; only those are released",
                                  (unsigned long)Count, (unsigned long)(c >> RUNDOWN_SHIFT));
                sub = c;
            }
            if (swap(RunRef, &c, c - sub))
                return;
            sub = (ULONG_PTR)Count << RUNDOWN_SHIFT;
            continue;
        }
        if (c == RUNDOWN_ACTIVE) {
            fltsim__ke_report("KE", "-",
                              "ExReleaseRundownProtection(Ex) after the run-down completed: "
                              "no reference is held; ignored");
            return;
        }
        /* A run-down waits: the references left are counted in its block,
         * which stays valid until this release (if it is the last) wakes it. */
        struct rundown_wait *wb = (struct rundown_wait *)(c & ~RUNDOWN_ACTIVE);
        ULONG_PTR left = __atomic_load_n(&wb->count, __ATOMIC_ACQUIRE);
        ULONG_PTR n = Count;
        for (;;) {
            if (left < n) {
                fltsim__ke_report("KE", "-",
                                  "ExReleaseRundownProtection(Ex) of %lu reference(s) when %lu "
                                  "are held during a run-down; only those are released",
                                  (unsigned long)Count, (unsigned long)left);
                n = left;
            }
            if (n == 0)
                return;
            if (__atomic_compare_exchange_n(&wb->count, &left, left - n, false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE))
                break;
            n = Count;
        }
        if (left == n)
            wake(wb);
        return;
    }
}

VOID ExReleaseRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    ExReleaseRundownProtectionEx(RunRef, 1);
}

VOID ExWaitForRundownProtectionRelease(PEX_RUNDOWN_REF RunRef)
{
    check_irql(APC_LEVEL, "ExWaitForRundownProtectionRelease");
    struct rundown_wait wb = {.thread = fltsim__current_sthread()};
    ULONG_PTR c = load(RunRef);
    bool reported = false;
    for (;;) {
        if (c == RUNDOWN_ACTIVE)
            return; /* already run down: allowed, and nothing to wait for */
        if (c & RUNDOWN_ACTIVE) {
            /* Another thread's run-down waits: Windows would build a second
             * wait block over the first one's address. fltsim waits for the
             * first to complete instead. */
            if (!reported)
                fltsim__ke_report("KE", "-",
                                  "ExWaitForRundownProtectionRelease while another thread's "
                                  "run-down of the same EX_RUNDOWN_REF is waiting; this one "
                                  "waits for it to complete");
            reported = true;
            fltsim__park(fltsim__now_ns() + 1000000);
            c = load(RunRef);
            continue;
        }
        if (c == 0) {
            if (swap(RunRef, &c, RUNDOWN_ACTIVE))
                return;
            continue;
        }
        __atomic_store_n(&wb.count, c >> RUNDOWN_SHIFT, __ATOMIC_RELAXED);
        if (swap(RunRef, &c, (ULONG_PTR)&wb | RUNDOWN_ACTIVE))
            break;
    }
    fltsim__check_blocking("ExWaitForRundownProtectionRelease", "waits");
    fltsim__dispatcher_lock();
    while (!wb.satisfied) {
        fltsim__dispatcher_unlock();
        fltsim__park(0);
        fltsim__dispatcher_lock();
    }
    fltsim__dispatcher_unlock();
    /* Windows leaves the block's (now stale) address in the structure until
     * ExRundownCompleted; fltsim clears it at once, which is what
     * ExRundownCompleted would do. */
    __atomic_store_n(&RunRef->Count, RUNDOWN_ACTIVE, __ATOMIC_RELEASE);
}

VOID ExRundownCompleted(PEX_RUNDOWN_REF RunRef)
{
    check_irql(APC_LEVEL, "ExRundownCompleted");
    ULONG_PTR c = load(RunRef);
    if ((c & RUNDOWN_ACTIVE) == 0) {
        fltsim__ke_report("KE", "-",
                          "ExRundownCompleted on an EX_RUNDOWN_REF that was not run down "
                          "(ExWaitForRundownProtectionRelease must come first); it is marked "
                          "run down now, and its %lu reference(s) forgotten",
                          (unsigned long)(c >> RUNDOWN_SHIFT));
    } else if (c != RUNDOWN_ACTIVE) {
        fltsim__ke_report("KE", "-",
                          "ExRundownCompleted while the run-down still waits for references; "
                          "ignored");
        return;
    }
    __atomic_store_n(&RunRef->Count, RUNDOWN_ACTIVE, __ATOMIC_RELEASE);
}
