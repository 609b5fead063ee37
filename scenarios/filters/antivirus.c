/*
 * AntiVirus: an on-access scanner. Every successful open of a file is
 * scanned before the application gets its handle; a file holding the
 * signature (by default the EICAR-style marker "X5O!P%@AP") is refused with
 * STATUS_VIRUS_INFECTED. It shows three things a real scanner does:
 *
 *   - reading the file from a post-create with FltReadFile: the read starts
 *     below this instance, so filters above never see it (SPEC 2.3);
 *   - refusing an open the file system already performed: FltCancelFileOpen
 *     closes the file below us, then the create is failed for those above
 *     (SPEC 4.5); no handle is ever made;
 *   - not scanning on the create's thread: the post pends the create
 *     (FLT_POSTOP_MORE_PROCESSING_REQUIRED) and a deferred I/O work item
 *     scans at PASSIVE_LEVEL, then FltCompletePendedPostOperation (SPEC 5.1).
 *
 * When the work item cannot be used (no memory, STATUS_FLT_NOT_SAFE_TO_POST_
 * OPERATION because the thread has a top-level IRP, STATUS_FLT_DELETING_OBJECT
 * during teardown), the scan runs in the post itself: a post-create already
 * runs at PASSIVE_LEVEL on the thread that issued the create (SPEC 4.2), so
 * the pre-create only has to tell the post, through its completion context,
 * when it already knows posting is unsafe. FLT_PREOP_SYNCHRONIZE would add
 * nothing for a create, and the verifier warns about it (V7, SPEC 3.2).
 * A draining post (SPEC 4.4) must not scan: the open goes through unscanned
 * and is counted.
 *
 * A create pended in post must be completed before teardown can finish
 * (SPEC 2.6 step 2, V26), and its work item may not have run when the
 * instance is detached or the filter unloaded. Each pended create is listed
 * (under a spin lock) and completed by whoever claims it first: its worker,
 * or InstanceTeardownStart, which lets its instance's unclaimed creates
 * through unscanned (counted, as a draining post does) and then waits for
 * the workers scanning the others. A worker that finds its create taken only
 * frees its item. The entry has two references (the list's, which goes with
 * the create, and the worker's).
 */
#include <fltKernel.h>

DRIVER_INITIALIZE DriverEntry;
VOID AntiVirusSetSignature(_In_reads_bytes_opt_(Length) const CHAR *Signature, _In_ ULONG Length);
LONG AntiVirusScanned(VOID);
LONG AntiVirusScannedInline(VOID);
LONG AntiVirusDetected(VOID);
LONG AntiVirusUnscanned(VOID);

#define AV_TAG 'vitA'
#define AV_CHUNK 512 /* one sector: non-cached reads stay aligned */
#define AV_MAX_SIGNATURE 64
#define AV_MAX_SCAN (1024 * 1024) /* bytes scanned per file at most */
#define AV_SCAN_INLINE ((PVOID)1) /* completion context: posting is not safe */

typedef enum _AV_VERDICT { AvClean, AvInfected, AvNotAFile, AvNotScanned } AV_VERDICT;

/* A create pended in post, on gPendedList from the post until it is completed. */
typedef enum _AV_STATE { AvPended, AvWorking, AvTaken } AV_STATE;
typedef struct _AV_PENDED {
    LIST_ENTRY Links;
    PFLT_CALLBACK_DATA Data;
    PFLT_INSTANCE Instance;
    LONG References; /* the list's (whoever completes the create) and the worker's */
    AV_STATE State;  /* gPendedLock */
} AV_PENDED, *PAV_PENDED;

static PFLT_FILTER gAvFilter;
static CHAR gSignature[AV_MAX_SIGNATURE] = "X5O!P%@AP";
static ULONG gSignatureLength = 9;
static LONG gScanned, gScannedInline, gDetected, gUnscanned;
static KSPIN_LOCK gPendedLock; /* guards gPendedList and each entry's State */
static LIST_ENTRY gPendedList;
static KEVENT gPendedChanged; /* set when a worker finished a create */

static VOID AvPendedRelease(PAV_PENDED Entry)
{
    if (InterlockedDecrement(&Entry->References) == 0)
        ExFreePoolWithTag(Entry, AV_TAG);
}

/* The worker (or a post whose queuing failed) claims the create: TRUE when
 * it is still pended, and now the caller's to complete. */
static BOOLEAN AvPendedClaim(PAV_PENDED Entry)
{
    KIRQL OldIrql;
    KeAcquireSpinLock(&gPendedLock, &OldIrql);
    BOOLEAN Mine = Entry->State == AvPended;
    if (Mine)
        Entry->State = AvWorking;
    KeReleaseSpinLock(&gPendedLock, OldIrql);
    return Mine;
}

/* A claimed create was completed (or taken back): off the list, and a
 * teardown that waits for it looks again. */
static VOID AvPendedFinished(PAV_PENDED Entry)
{
    KIRQL OldIrql;
    KeAcquireSpinLock(&gPendedLock, &OldIrql);
    RemoveEntryList(&Entry->Links);
    KeSetEvent(&gPendedChanged, IO_NO_INCREMENT, FALSE);
    KeReleaseSpinLock(&gPendedLock, OldIrql);
    AvPendedRelease(Entry); /* the list's */
}

/* Whether Buffer[0..Length) holds the signature. */
static BOOLEAN AvMatch(_In_reads_bytes_(Length) const UCHAR *Buffer, _In_ ULONG Length)
{
    for (ULONG i = 0; i + gSignatureLength <= Length; i++)
        if (RtlCompareMemory(Buffer + i, gSignature, gSignatureLength) == gSignatureLength)
            return TRUE;
    return FALSE;
}

/* PASSIVE_LEVEL: reads the file below this instance, sector by sector,
 * keeping the last bytes of each chunk so a signature that straddles two
 * chunks is found. */
static AV_VERDICT AvScanFile(_In_ PFLT_INSTANCE Instance, _In_ PFILE_OBJECT FileObject)
{
    ULONG Keep = gSignatureLength - 1;
    UCHAR *Buffer = ExAllocatePoolWithTag(NonPagedPool, AV_MAX_SIGNATURE + AV_CHUNK, AV_TAG);
    if (Buffer == NULL)
        return AvNotScanned;
    AV_VERDICT Verdict = AvClean;
    ULONG Carried = 0;
    LARGE_INTEGER Offset;
    Offset.QuadPart = 0;
    while (Offset.QuadPart < AV_MAX_SCAN) {
        ULONG BytesRead = 0;
        NTSTATUS Status = FltReadFile(Instance, FileObject, &Offset, AV_CHUNK, Buffer + Carried,
                                      FLTFL_IO_OPERATION_NON_CACHED |
                                          FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET,
                                      &BytesRead, NULL, NULL);
        if (Status == STATUS_END_OF_FILE)
            break;
        if (!NT_SUCCESS(Status)) {
            /* A directory opened without FILE_DIRECTORY_FILE cannot be read:
             * nothing to scan. Other errors: fail open, but say so. */
            if (Status != STATUS_INVALID_DEVICE_REQUEST)
                DbgPrint("AntiVirus: cannot read %wZ (0x%08x)\n", &FileObject->FileName,
                         (unsigned)Status);
            Verdict = Offset.QuadPart == 0 && Status == STATUS_INVALID_DEVICE_REQUEST
                          ? AvNotAFile
                          : AvNotScanned;
            break;
        }
        if (AvMatch(Buffer, Carried + BytesRead)) {
            Verdict = AvInfected;
            break;
        }
        if (BytesRead < AV_CHUNK)
            break;
        ULONG Total = Carried + BytesRead;
        Carried = Total < Keep ? Total : Keep;
        RtlMoveMemory(Buffer, Buffer + Total - Carried, Carried);
        Offset.QuadPart += BytesRead;
    }
    ExFreePoolWithTag(Buffer, AV_TAG);
    return Verdict;
}

/* PASSIVE_LEVEL, in the post-create or its work item: scans, and refuses an
 * infected file (SPEC 4.5: cancel the open, then fail the create). */
static VOID AvScanAndDecide(_Inout_ PFLT_CALLBACK_DATA Data, _In_ BOOLEAN Inline)
{
    PFLT_INSTANCE Instance = Data->Iopb->TargetInstance;
    PFILE_OBJECT FileObject = Data->Iopb->TargetFileObject;
    AV_VERDICT Verdict = AvScanFile(Instance, FileObject);
    if (Verdict == AvNotAFile)
        return;
    if (Verdict == AvNotScanned) {
        InterlockedIncrement(&gUnscanned);
        return;
    }
    InterlockedIncrement(&gScanned);
    if (Inline)
        InterlockedIncrement(&gScannedInline);
    if (Verdict == AvInfected) {
        InterlockedIncrement(&gDetected);
        DbgPrint("AntiVirus: %wZ is infected; open refused\n", &FileObject->FileName);
        FltCancelFileOpen(Instance, FileObject);
        Data->IoStatus.Status = STATUS_VIRUS_INFECTED;
        Data->IoStatus.Information = 0;
    }
}

static VOID AvScanWorker(_In_ PFLT_DEFERRED_IO_WORKITEM WorkItem, _In_ PFLT_CALLBACK_DATA Data,
                         _In_opt_ PVOID Context)
{
    PAV_PENDED Entry = Context;
    /* Data is ours to touch only if teardown has not taken the create. */
    if (AvPendedClaim(Entry)) {
        AvScanAndDecide(Data, FALSE);
        FltCompletePendedPostOperation(Data);
        AvPendedFinished(Entry);
    }
    AvPendedRelease(Entry); /* ours */
    FltFreeDeferredIoWorkItem(WorkItem);
}

static FLT_PREOP_CALLBACK_STATUS AvPreCreate(_Inout_ PFLT_CALLBACK_DATA Data,
                                             _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                             _Flt_CompletionContext_Outptr_ PVOID *Context)
{
    PFILE_OBJECT FileObject = FltObjects->FileObject;
    *Context = NULL;
    /* Directories, volume opens and rename targets hold no data to scan. */
    if (FlagOn(Data->Iopb->Parameters.Create.Options, FILE_DIRECTORY_FILE) ||
        FlagOn(Data->Iopb->OperationFlags, SL_OPEN_TARGET_DIRECTORY) ||
        FlagOn(FileObject->Flags, FO_VOLUME_OPEN) ||
        (FileObject->FileName.Length == 0 && FileObject->RelatedFileObject == NULL))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    /* The post could not queue a work item from this thread (SPEC 6.6): it
     * scans where it runs instead. */
    if (IoGetTopLevelIrp() != NULL || FlagOn(Data->Iopb->IrpFlags, IRP_PAGING_IO))
        *Context = AV_SCAN_INLINE;
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS AvPostCreate(_Inout_ PFLT_CALLBACK_DATA Data,
                                               _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                               _In_opt_ PVOID CompletionContext,
                                               _In_ FLT_POST_OPERATION_FLAGS Flags)
{
    if (FlagOn(Flags, FLTFL_POST_OPERATION_DRAINING)) {
        InterlockedIncrement(&gUnscanned); /* only clean up; nothing of ours to free */
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    if (!NT_SUCCESS(Data->IoStatus.Status) || Data->IoStatus.Status == STATUS_REPARSE)
        return FLT_POSTOP_FINISHED_PROCESSING; /* nothing was opened */

    PAV_PENDED Entry = NULL;
    if (CompletionContext != AV_SCAN_INLINE)
        Entry = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*Entry), AV_TAG);
    if (Entry != NULL) {
        PFLT_DEFERRED_IO_WORKITEM WorkItem = FltAllocateDeferredIoWorkItem();
        if (WorkItem != NULL) {
            /* Listed before it is queued: the worker may run at once. */
            KIRQL OldIrql;
            Entry->Data = Data;
            Entry->Instance = FltObjects->Instance;
            Entry->References = 2;
            KeAcquireSpinLock(&gPendedLock, &OldIrql);
            InsertTailList(&gPendedList, &Entry->Links);
            Entry->State = AvPended;
            KeReleaseSpinLock(&gPendedLock, OldIrql);
            NTSTATUS Status =
                FltQueueDeferredIoWorkItem(WorkItem, Data, AvScanWorker, DelayedWorkQueue, Entry);
            if (NT_SUCCESS(Status))
                return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
            /* Refused. Unless a teardown took the create meanwhile (it
             * completed it, and FltMgr goes on once this returns
             * MORE_PROCESSING_REQUIRED, SPEC 5.1), it is ours again. */
            BOOLEAN Mine = AvPendedClaim(Entry);
            AvPendedRelease(Entry); /* the worker's, which will not run */
            if (!Mine) {
                FltFreeDeferredIoWorkItem(WorkItem);
                return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
            }
            AvPendedFinished(Entry); /* and the list's: gone */
            Entry = NULL;
#ifdef ANTIVIRUS_TEACHING_BUG
            /* The classic mistake, kept for teaching (tests/ builds this
             * file with ANTIVIRUS_TEACHING_BUG as a fixture for fault
             * exploration): the author tested only the path where queuing
             * works. A failed FltQueueDeferredIoWorkItem does not take the
             * item, so it is still ours; falling through to the inline scan
             * without FltFreeDeferredIoWorkItem leaks it, once per failure
             * (the verifier reports V23 at unload). It is rare in testing,
             * since the queue fails only with a top-level IRP the pre-create
             * did not see or during teardown, which is why a fault explorer
             * finds it and a normal run does not.
             * ANTIVIRUS_TEACHING_BUG=2 is the worse form: the author also
             * returns FLT_POSTOP_MORE_PROCESSING_REQUIRED whatever the queue
             * said, so nothing ever completes the create: the requestor
             * hangs, and so does unload (SPEC 5.1). */
#if ANTIVIRUS_TEACHING_BUG == 2
            return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
#endif
#else
            FltFreeDeferredIoWorkItem(WorkItem); /* not safe, or tearing down */
#endif
        }
    }
    if (Entry != NULL)
        ExFreePoolWithTag(Entry, AV_TAG); /* no work item */
    /* Post-create runs at PASSIVE_LEVEL on the creating thread. */
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        InterlockedIncrement(&gUnscanned);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    AvScanAndDecide(Data, TRUE);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static const FLT_OPERATION_REGISTRATION AvCallbacks[] = {
    {IRP_MJ_CREATE, 0, AvPreCreate, AvPostCreate, NULL}, {IRP_MJ_OPERATION_END}};

static NTSTATUS AvUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    FltUnregisterFilter(gAvFilter);
    return STATUS_SUCCESS;
}

/* Whether a worker is scanning a create of Instance; clears gPendedChanged
 * first, under the lock, so a create finished after the look sets it again. */
static BOOLEAN AvWorkersBusy(PFLT_INSTANCE Instance)
{
    KIRQL OldIrql;
    BOOLEAN Busy = FALSE;
    KeAcquireSpinLock(&gPendedLock, &OldIrql);
    KeClearEvent(&gPendedChanged);
    for (PLIST_ENTRY Link = gPendedList.Flink; Link != &gPendedList && !Busy; Link = Link->Flink)
        Busy = CONTAINING_RECORD(Link, AV_PENDED, Links)->Instance == Instance;
    KeReleaseSpinLock(&gPendedLock, OldIrql);
    return Busy;
}

/* PASSIVE_LEVEL (SPEC 2.6 step 2): lets the creates this instance holds
 * pended in post through unscanned (their workers, still queued, will find
 * them taken), then waits for the workers scanning the others, so that
 * none is left pended when this returns (V26). */
static VOID AvTeardownStart(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                            _In_ FLT_INSTANCE_TEARDOWN_FLAGS Reason)
{
    UNREFERENCED_PARAMETER(Reason);
    PAGED_CODE();
    LIST_ENTRY Taken;
    KIRQL OldIrql;
    InitializeListHead(&Taken);
    KeAcquireSpinLock(&gPendedLock, &OldIrql);
    PLIST_ENTRY Link = gPendedList.Flink;
    while (Link != &gPendedList) {
        PAV_PENDED Entry = CONTAINING_RECORD(Link, AV_PENDED, Links);
        Link = Link->Flink;
        if (Entry->Instance != FltObjects->Instance || Entry->State != AvPended)
            continue;
        RemoveEntryList(&Entry->Links);
        Entry->State = AvTaken;
        InsertTailList(&Taken, &Entry->Links); /* the list's reference comes along */
    }
    KeReleaseSpinLock(&gPendedLock, OldIrql);
    while (!IsListEmpty(&Taken)) {
        PAV_PENDED Entry = CONTAINING_RECORD(RemoveHeadList(&Taken), AV_PENDED, Links);
        InterlockedIncrement(&gUnscanned);
        FltCompletePendedPostOperation(Entry->Data);
        AvPendedRelease(Entry);
    }
    while (AvWorkersBusy(FltObjects->Instance))
        KeWaitForSingleObject(&gPendedChanged, Executive, KernelMode, FALSE, NULL);
}

static NTSTATUS AvQueryTeardown(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION AvRegistration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = AvCallbacks,
    .FilterUnloadCallback = AvUnload,
    .InstanceQueryTeardownCallback = AvQueryTeardown,
    .InstanceTeardownStartCallback = AvTeardownStart,
};

/* Sets the byte pattern to look for (NULL restores the default marker).
 * Call before loading the filter. A length of 0 or over 64 is ignored. */
VOID AntiVirusSetSignature(_In_reads_bytes_opt_(Length) const CHAR *Signature, _In_ ULONG Length)
{
    if (Signature == NULL) {
        RtlCopyMemory(gSignature, "X5O!P%@AP", 9);
        gSignatureLength = 9;
        return;
    }
    if (Length == 0 || Length > AV_MAX_SIGNATURE)
        return;
    RtlCopyMemory(gSignature, Signature, Length);
    gSignatureLength = Length;
}

/* Counters since DriverEntry (the tests and the demo look). */
LONG AntiVirusScanned(VOID)
{
    return InterlockedCompareExchange(&gScanned, 0, 0);
}

LONG AntiVirusScannedInline(VOID)
{
    return InterlockedCompareExchange(&gScannedInline, 0, 0);
}

LONG AntiVirusDetected(VOID)
{
    return InterlockedCompareExchange(&gDetected, 0, 0);
}

LONG AntiVirusUnscanned(VOID)
{
    return InterlockedCompareExchange(&gUnscanned, 0, 0);
}

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    gScanned = gScannedInline = gDetected = gUnscanned = 0;
    KeInitializeSpinLock(&gPendedLock);
    InitializeListHead(&gPendedList);
    KeInitializeEvent(&gPendedChanged, NotificationEvent, FALSE);
    NTSTATUS Status = FltRegisterFilter(DriverObject, &AvRegistration, &gAvFilter);
    if (NT_SUCCESS(Status)) {
        Status = FltStartFiltering(gAvFilter);
        if (!NT_SUCCESS(Status))
            FltUnregisterFilter(gAvFilter);
    }
    return Status;
}
