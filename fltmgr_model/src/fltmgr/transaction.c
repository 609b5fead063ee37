/*
 * Transactions are not modeled: fltsim has no kernel transaction manager, no
 * create is ever opened in a transaction (FLT_RELATED_OBJECTS.Transaction is
 * always NULL, IoGetTransactionParameterBlock answers NULL), so no filter can
 * hold a real PKTRANSACTION. The routines the WDK samples call still link:
 * each says so with a simulator report (rule SIM) and fails with
 * STATUS_NOT_SUPPORTED, except FltGetTransactionContext, whose honest answer
 * is STATUS_NOT_FOUND (no transaction context can ever have been set).
 */
#include <stdio.h>

#include "dispatch_internal.h"

/* The rule id and SPEC section of a call to a routine fltsim does not model. */
#define NOT_MODELED_RULE "SIM"
#define NOT_MODELED_SPEC "-"

static void not_modeled(const char *routine)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, NOT_MODELED_RULE, NOT_MODELED_SPEC,
                       "%s: transactions are not modeled (no create is opened in one); the call "
                       "fails",
                       routine);
    else
        fprintf(stderr, "fltsim: %s: transactions are not modeled; the call fails\n", routine);
}

PTXN_PARAMETER_BLOCK IoGetTransactionParameterBlock(PFILE_OBJECT FileObject)
{
    (void)FileObject;
    return NULL; /* no file object is opened in a transaction */
}

NTSTATUS FltEnlistInTransaction(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                                PFLT_CONTEXT TransactionContext, NOTIFICATION_MASK NotificationMask)
{
    (void)Instance;
    (void)Transaction;
    (void)TransactionContext;
    (void)NotificationMask;
    not_modeled("FltEnlistInTransaction");
    return STATUS_NOT_SUPPORTED;
}

/* The completions and the rollback of an enlistment, which cannot exist. */
#define ENLISTMENT_ROUTINE(name)                                                                   \
    NTSTATUS name(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,                               \
                  PFLT_CONTEXT TransactionContext)                                                 \
    {                                                                                              \
        (void)Instance;                                                                            \
        (void)Transaction;                                                                         \
        (void)TransactionContext;                                                                  \
        not_modeled(#name);                                                                        \
        return STATUS_NOT_SUPPORTED;                                                               \
    }

ENLISTMENT_ROUTINE(FltRollbackEnlistment)
ENLISTMENT_ROUTINE(FltPrePrepareComplete)
ENLISTMENT_ROUTINE(FltPrepareComplete)
ENLISTMENT_ROUTINE(FltCommitComplete)
ENLISTMENT_ROUTINE(FltCommitFinalizeComplete)
ENLISTMENT_ROUTINE(FltRollbackComplete)

NTSTATUS FltSetTransactionContext(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                                  FLT_SET_CONTEXT_OPERATION Operation, PFLT_CONTEXT NewContext,
                                  PFLT_CONTEXT *OldContext)
{
    (void)Instance;
    (void)Transaction;
    (void)Operation;
    (void)NewContext;
    if (OldContext != NULL)
        *OldContext = NULL;
    not_modeled("FltSetTransactionContext");
    return STATUS_NOT_SUPPORTED; /* NewContext stays the caller's, unreferenced */
}

NTSTATUS FltGetTransactionContext(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                                  PFLT_CONTEXT *Context)
{
    (void)Instance;
    (void)Transaction;
    if (Context != NULL)
        *Context = NULL;
    not_modeled("FltGetTransactionContext");
    return STATUS_NOT_FOUND; /* none can have been set */
}

NTSTATUS FltDeleteTransactionContext(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                                     PFLT_CONTEXT *OldContext)
{
    (void)Instance;
    (void)Transaction;
    if (OldContext != NULL)
        *OldContext = NULL;
    not_modeled("FltDeleteTransactionContext");
    return STATUS_NOT_SUPPORTED;
}

NTSTATUS ZwQueryInformationTransaction(HANDLE TransactionHandle,
                                       TRANSACTION_INFORMATION_CLASS TransactionInformationClass,
                                       PVOID TransactionInformation,
                                       ULONG TransactionInformationLength, PULONG ReturnLength)
{
    (void)TransactionHandle;
    (void)TransactionInformationClass;
    (void)TransactionInformation;
    (void)TransactionInformationLength;
    if (ReturnLength != NULL)
        *ReturnLength = 0;
    not_modeled("ZwQueryInformationTransaction");
    return STATUS_NOT_SUPPORTED;
}
