/*
 * FltMgr: transactions a filter enlists in (TxF and KTM), and the sections a
 * filter creates to scan a file's data (FltCreateSectionForDataScan).
 * Part of the WDK surface: include <fltKernel.h>, not this file.
 */
#ifndef FLTSIM_WDK_FLT_SECTION_H
#define FLTSIM_WDK_FLT_SECTION_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- transactions ---- */

#define FLT_MAX_TRANSACTION_NOTIFICATIONS                                                          \
    (TRANSACTION_NOTIFY_PREPREPARE | TRANSACTION_NOTIFY_PREPARE | TRANSACTION_NOTIFY_COMMIT |      \
     TRANSACTION_NOTIFY_ROLLBACK | TRANSACTION_NOTIFY_COMMIT_FINALIZE)

NTSTATUS FltEnlistInTransaction(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                                PFLT_CONTEXT TransactionContext,
                                NOTIFICATION_MASK NotificationMask);
NTSTATUS FltRollbackEnlistment(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                               PFLT_CONTEXT TransactionContext);
NTSTATUS FltPrePrepareComplete(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                               PFLT_CONTEXT TransactionContext);
NTSTATUS FltPrepareComplete(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                            PFLT_CONTEXT TransactionContext);
NTSTATUS FltCommitComplete(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                           PFLT_CONTEXT TransactionContext);
NTSTATUS FltCommitFinalizeComplete(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                                   PFLT_CONTEXT TransactionContext);
NTSTATUS FltRollbackComplete(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                             PFLT_CONTEXT TransactionContext);

/* ---- sections for data scans ---- */

NTSTATUS FltRegisterForDataScan(PFLT_INSTANCE Instance);
/* Creates a section (and its handle) over FileObject's data, tied to the
 * filter's section context; SectionFileSize gets the file size. */
NTSTATUS FltCreateSectionForDataScan(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                     PFLT_CONTEXT SectionContext, ACCESS_MASK DesiredAccess,
                                     POBJECT_ATTRIBUTES ObjectAttributes,
                                     PLARGE_INTEGER MaximumSize, ULONG SectionPageProtection,
                                     ULONG AllocationAttributes, ULONG Flags, PHANDLE SectionHandle,
                                     PVOID *SectionObject, PLARGE_INTEGER SectionFileSize);
NTSTATUS FltCloseSectionForDataScan(PFLT_CONTEXT SectionContext);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_FLT_SECTION_H */
