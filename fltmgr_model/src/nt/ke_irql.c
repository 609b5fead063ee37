/*
 * IRQL (wdm.h): KeGetCurrentIrql, KeRaiseIrql, KeLowerIrql and
 * KeRaiseIrqlToDpcLevel over the calling thread's simulated IRQL, and the
 * verifier's IRQL rule built on it (V28): PAGED_CODE() and the ceilings the
 * model's routines check with fltsim__check_irql. The IRQL itself is per-thread
 * state, exec/thread.c's; the routines that raise it for their own work (spin
 * locks, fast mutexes) are ke_sync.c's and ex_sync.c's.
 */
#include "model_internal.h"

KIRQL KeGetCurrentIrql(void)
{
    return fltsim__tls()->irql;
}

static void irql_report(const char *what, KIRQL from, KIRQL requested)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, "V28", "10",
                       "%s from IRQL %u to %u: raising must go up and lowering must go down; "
                       "the request is ignored",
                       what, (unsigned)from, (unsigned)requested);
    else
        fprintf(stderr, "fltsim: %s from IRQL %u to %u is invalid and was ignored\n", what,
                (unsigned)from, (unsigned)requested);
}

void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql)
{
    struct fltsim_tls *t = fltsim__tls();
    if (OldIrql != NULL)
        *OldIrql = t->irql;
    if (NewIrql < t->irql) {
        irql_report("KeRaiseIrql", t->irql, NewIrql);
        return;
    }
    t->irql = NewIrql;
}

void KeLowerIrql(KIRQL NewIrql)
{
    struct fltsim_tls *t = fltsim__tls();
    if (NewIrql > t->irql) {
        irql_report("KeLowerIrql", t->irql, NewIrql);
        return;
    }
    t->irql = NewIrql;
}

KIRQL KeRaiseIrqlToDpcLevel(void)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    return old;
}

void fltsim_paged_code(const char *function)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->irql <= APC_LEVEL)
        return;
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, "V28", "10",
                       "PAGED_CODE() in %s ran at IRQL %u; pageable code must run at "
                       "APC_LEVEL or below",
                       function != NULL ? function : "?", (unsigned)t->irql);
    else
        fprintf(stderr,
                "fltsim: PAGED_CODE() in %s ran at IRQL %u (pageable code needs <= APC_LEVEL)\n",
                function != NULL ? function : "?", (unsigned)t->irql);
}

void fltsim__check_irql(fltsim_system *sys, KIRQL max_irql, const char *api)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->irql <= max_irql || sys == NULL)
        return;
    fltsim__report(sys, t->filter, NULL, t->op, "V28", "10",
                   "%s called at IRQL %u; it may be called at IRQL %u or below", api,
                   (unsigned)t->irql, (unsigned)max_irql);
}
