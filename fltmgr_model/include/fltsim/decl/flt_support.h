/*
 * FltMgr: general support routines: push locks, oplocks and byte-range locks
 * kept for a filter, cancellable waits, requestor identity, I/O priority and
 * activity ids, redirection checks, loading filters, dynamic routine lookup
 * (FltGetRoutineAddress) and debug names.
 * Part of the WDK surface: include <fltKernel.h>, not this file.
 */
#ifndef FLTSIM_WDK_FLT_SUPPORT_H
#define FLTSIM_WDK_FLT_SUPPORT_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- push locks (with KeEnterCriticalRegion/KeLeaveCriticalRegion) ---- */

#define FLT_PUSH_LOCK_ENABLE_AUTO_BOOST (0x1)
#define FLT_PUSH_LOCK_DISABLE_AUTO_BOOST (0x2)
#define FLT_PUSH_LOCK_VALID_FLAGS (0x3)

VOID FltInitializePushLock(PEX_PUSH_LOCK PushLock);
VOID FltDeletePushLock(PEX_PUSH_LOCK PushLock);
VOID FltAcquirePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags);
VOID FltAcquirePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags);
VOID FltReleasePushLockEx(PEX_PUSH_LOCK PushLock, ULONG Flags);
VOID FltAcquirePushLockExclusive(PEX_PUSH_LOCK PushLock);
VOID FltAcquirePushLockShared(PEX_PUSH_LOCK PushLock);
VOID FltReleasePushLock(PEX_PUSH_LOCK PushLock);

/* As the WDK does for Windows 8.1 and later: the plain forms call the Ex forms. */
#if FLT_MGR_WINBLUE && !defined(FLT_MGR_LEGACY_PUSH_LOCKS) &&                                      \
    !defined(FLT_SKIP_PUSH_LOCK_REDIRECTION)
#define FltAcquirePushLockExclusive(Lock) FltAcquirePushLockExclusiveEx(Lock, 0)
#define FltAcquirePushLockShared(Lock) FltAcquirePushLockSharedEx(Lock, 0)
#define FltReleasePushLock(Lock) FltReleasePushLockEx(Lock, 0)
#endif

/* ---- oplocks ---- */

typedef VOID(FLTAPI *PFLTOPLOCK_WAIT_COMPLETE_ROUTINE)(PFLT_CALLBACK_DATA CallbackData,
                                                       PVOID Context);
typedef VOID(FLTAPI *PFLTOPLOCK_PREPOST_CALLBACKDATA_ROUTINE)(PFLT_CALLBACK_DATA CallbackData,
                                                              PVOID Context);

VOID FltInitializeOplock(POPLOCK Oplock);
VOID FltUninitializeOplock(POPLOCK Oplock);
FLT_PREOP_CALLBACK_STATUS FltOplockFsctrl(POPLOCK Oplock, PFLT_CALLBACK_DATA CallbackData,
                                          ULONG OpenCount);
FLT_PREOP_CALLBACK_STATUS FltOplockFsctrlEx(POPLOCK Oplock, PFLT_CALLBACK_DATA CallbackData,
                                            ULONG OpenCount, ULONG Flags);
FLT_PREOP_CALLBACK_STATUS
FltCheckOplock(POPLOCK Oplock, PFLT_CALLBACK_DATA CallbackData, PVOID Context,
               PFLTOPLOCK_WAIT_COMPLETE_ROUTINE WaitCompletionRoutine,
               PFLTOPLOCK_PREPOST_CALLBACKDATA_ROUTINE PrePostCallbackDataRoutine);
FLT_PREOP_CALLBACK_STATUS
FltCheckOplockEx(POPLOCK Oplock, PFLT_CALLBACK_DATA CallbackData, ULONG Flags, PVOID Context,
                 PFLTOPLOCK_WAIT_COMPLETE_ROUTINE WaitCompletionRoutine,
                 PFLTOPLOCK_PREPOST_CALLBACKDATA_ROUTINE PrePostCallbackDataRoutine);
FLT_PREOP_CALLBACK_STATUS
FltOplockBreakH(POPLOCK Oplock, PFLT_CALLBACK_DATA CallbackData, ULONG Flags, PVOID Context,
                PFLTOPLOCK_WAIT_COMPLETE_ROUTINE WaitCompletionRoutine,
                PFLTOPLOCK_PREPOST_CALLBACKDATA_ROUTINE PrePostCallbackDataRoutine);
FLT_PREOP_CALLBACK_STATUS
FltOplockBreakToNone(POPLOCK Oplock, PFLT_CALLBACK_DATA CallbackData, PVOID Context,
                     PFLTOPLOCK_WAIT_COMPLETE_ROUTINE WaitCompletionRoutine,
                     PFLTOPLOCK_PREPOST_CALLBACKDATA_ROUTINE PrePostCallbackDataRoutine);
FLT_PREOP_CALLBACK_STATUS
FltOplockBreakToNoneEx(POPLOCK Oplock, PFLT_CALLBACK_DATA CallbackData, ULONG Flags, PVOID Context,
                       PFLTOPLOCK_WAIT_COMPLETE_ROUTINE WaitCompletionRoutine,
                       PFLTOPLOCK_PREPOST_CALLBACKDATA_ROUTINE PrePostCallbackDataRoutine);
BOOLEAN FltOplockIsFastIoPossible(POPLOCK Oplock);
BOOLEAN FltCurrentBatchOplock(POPLOCK Oplock);
BOOLEAN FltCurrentOplock(POPLOCK Oplock);
BOOLEAN FltCurrentOplockH(POPLOCK Oplock);
BOOLEAN FltOplockIsSharedRequest(PFLT_CALLBACK_DATA CallbackData);
BOOLEAN FltOplockKeysEqual(PFILE_OBJECT Fo1, PFILE_OBJECT Fo2);

/* ---- byte-range locks ---- */

typedef NTSTATUS (*PFLT_COMPLETE_LOCK_CALLBACK_DATA_ROUTINE)(PVOID Context,
                                                             PFLT_CALLBACK_DATA CallbackData);

VOID FltInitializeFileLock(PFILE_LOCK FileLock);
VOID FltUninitializeFileLock(PFILE_LOCK FileLock);
PFILE_LOCK
FltAllocateFileLock(PFLT_COMPLETE_LOCK_CALLBACK_DATA_ROUTINE CompleteLockCallbackDataRoutine,
                    PUNLOCK_ROUTINE UnlockRoutine);
VOID FltFreeFileLock(PFILE_LOCK FileLock);
FLT_PREOP_CALLBACK_STATUS FltProcessFileLock(PFILE_LOCK FileLock, PFLT_CALLBACK_DATA CallbackData,
                                             PVOID Context);
BOOLEAN FltCheckLockForReadAccess(PFILE_LOCK FileLock, PFLT_CALLBACK_DATA CallbackData);
BOOLEAN FltCheckLockForWriteAccess(PFILE_LOCK FileLock, PFLT_CALLBACK_DATA CallbackData);

/* ---- waits the I/O's cancellation ends ---- */

/* STATUS_CANCELLED when the operation of CallbackData is cancelled first. */
NTSTATUS FltCancellableWaitForSingleObject(PVOID Object, PLARGE_INTEGER Timeout,
                                           PFLT_CALLBACK_DATA CallbackData);
NTSTATUS FltCancellableWaitForMultipleObjects(ULONG Count, PVOID ObjectArray[], WAIT_TYPE WaitType,
                                              PLARGE_INTEGER Timeout, PKWAIT_BLOCK WaitBlockArray,
                                              PFLT_CALLBACK_DATA CallbackData);

/* ---- the requestor ---- */

BOOLEAN FltIs32bitProcess(PFLT_CALLBACK_DATA CallbackData);
PEPROCESS FltGetRequestorProcess(PFLT_CALLBACK_DATA CallbackData);
NTSTATUS FltGetRequestorSessionId(PFLT_CALLBACK_DATA CallbackData, PULONG SessionId);

/* ---- I/O priority and activity ids ---- */

typedef enum _IO_PRIORITY_HINT {
    IoPriorityVeryLow = 0,
    IoPriorityLow,
    IoPriorityNormal,
    IoPriorityHigh,
    IoPriorityCritical,
    MaxIoPriorityTypes
} IO_PRIORITY_HINT;

IO_PRIORITY_HINT FltGetIoPriorityHint(PFLT_CALLBACK_DATA Data);
IO_PRIORITY_HINT FltGetIoPriorityHintFromCallbackData(PFLT_CALLBACK_DATA Data);
NTSTATUS FltSetIoPriorityHintIntoCallbackData(PFLT_CALLBACK_DATA Data,
                                              IO_PRIORITY_HINT PriorityHint);
IO_PRIORITY_HINT FltGetIoPriorityHintFromFileObject(PFILE_OBJECT FileObject);
NTSTATUS FltSetIoPriorityHintIntoFileObject(PFILE_OBJECT FileObject, IO_PRIORITY_HINT PriorityHint);
IO_PRIORITY_HINT FltGetIoPriorityHintFromThread(PETHREAD Thread);
NTSTATUS FltSetIoPriorityHintIntoThread(PETHREAD Thread, IO_PRIORITY_HINT PriorityHint);
NTSTATUS FltGetActivityIdCallbackData(PFLT_CALLBACK_DATA CallbackData, LPGUID Guid);
NTSTATUS FltSetActivityIdCallbackData(PFLT_CALLBACK_DATA CallbackData, LPCGUID Guid);
NTSTATUS FltPropagateActivityIdToThread(PFLT_CALLBACK_DATA CallbackData, LPGUID PropagateId,
                                        LPCGUID *OriginalId);

/* ---- redirection between instances ---- */

NTSTATUS FltAdjustDeviceStackSizeForIoRedirection(PFLT_INSTANCE SourceInstance,
                                                  PFLT_INSTANCE TargetInstance,
                                                  PBOOLEAN SourceDeviceStackSizeModified);
NTSTATUS FltIsIoRedirectionAllowed(PFLT_INSTANCE SourceInstance, PFLT_INSTANCE TargetInstance,
                                   PBOOLEAN RedirectionAllowed);
NTSTATUS FltIsIoRedirectionAllowedForOperation(PFLT_CALLBACK_DATA Data,
                                               PFLT_INSTANCE TargetInstance,
                                               PBOOLEAN RedirectionAllowedThisIo,
                                               PBOOLEAN RedirectionAllowedAllIo);

/* ---- filters, dynamic lookup and debugging ---- */

NTSTATUS FltLoadFilter(PCUNICODE_STRING FilterName);
NTSTATUS FltUnloadFilter(PCUNICODE_STRING FilterName);
/* FltGetRoutineAddress: the address of the named FltMgr routine, or NULL when
 * the running FltMgr has none. */
PVOID FltGetRoutineAddress(PCSTR FltMgrRoutineName);
/* FltGetIrpName: "IRP_MJ_CREATE" ... for a major code, FltMgr's own
 * operations included. */
PCHAR FltGetIrpName(UCHAR IrpMajorCode);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_FLT_SUPPORT_H */
