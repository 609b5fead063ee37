/*
 * ReadQuota: each file object may read READ_QUOTA bytes in all; the read that
 * goes over fails with STATUS_QUOTA_EXCEEDED. The accounting table is guarded
 * by an ERESOURCE, which can only be taken at or below APC_LEVEL, and a
 * post-read may run at DISPATCH_LEVEL (SPEC 4.2). So this filter shows the
 * pattern for work a post cannot do where it runs (SPEC 5.1):
 *
 *   post:   allocate a deferred I/O work item, queue it, return
 *           FLT_POSTOP_MORE_PROCESSING_REQUIRED;
 *   worker: (PASSIVE_LEVEL) account, maybe fail the read,
 *           FltCompletePendedPostOperation, free the item.
 *
 * Queuing fails for paging I/O and on a thread with a top-level IRP (SPEC
 * 5.1, 6.6). The pre sees that coming and synchronizes instead, so the post
 * runs at PASSIVE_LEVEL on the pre's thread and accounts in place; an
 * asynchronous read that cannot be posted cannot be synchronized either
 * (SPEC 3.2), so it goes unaccounted. While the instance is torn down the
 * post is called with FLTFL_POST_OPERATION_DRAINING and must only clean up
 * (SPEC 4.4); and if queuing fails anyway, the read goes through unaccounted
 * rather than wrong.
 *
 * A read pended in post must be completed before teardown can finish (SPEC
 * 2.6 step 2, V26), and a queued work item may not have run when the
 * instance is detached or the filter unloaded. So each pended read is listed
 * (a spin lock guards the list: posts run at DISPATCH_LEVEL) and belongs to
 * whoever claims it first: its worker, or InstanceTeardownStart, which
 * takes its instance's unclaimed reads, accounts them in place (it runs at
 * PASSIVE_LEVEL), completes them, and then waits for the workers that are
 * completing the others. A worker that finds its read taken only frees its
 * item. The entry has two references (the list's, which goes with the read,
 * and the worker's), so neither side frees it under the other.
 */
#include <fltKernel.h>

DRIVER_INITIALIZE DriverEntry;
LONG ReadQuotaUnaccounted(VOID);

#define READ_QUOTA 64 /* bytes each file object may read */
#define MAX_TRACKED 64
#define QUOTA_TAG 'atQR' /* "RQta" */

/* A read pended in post, on gPendedList from the post until it is completed. */
typedef enum _QUOTA_STATE { QuotaPended, QuotaWorking, QuotaTaken } QUOTA_STATE;
typedef struct _QUOTA_PENDED {
    LIST_ENTRY Links;
    PFLT_CALLBACK_DATA Data;
    PFLT_INSTANCE Instance;
    LONG References;   /* the list's (whoever completes the read) and the worker's */
    QUOTA_STATE State; /* gPendedLock */
} QUOTA_PENDED, *PQUOTA_PENDED;

typedef struct _QUOTA_ENTRY {
    PFILE_OBJECT FileObject;
    ULONGLONG BytesRead;
} QUOTA_ENTRY;

static PFLT_FILTER gQuotaFilter;
static ERESOURCE gQuotaLock; /* guards gQuotaTable */
static QUOTA_ENTRY gQuotaTable[MAX_TRACKED];
static LONG gUnaccounted; /* reads let through without accounting */
static KSPIN_LOCK gPendedLock; /* guards gPendedList and each entry's State */
static LIST_ENTRY gPendedList;
static KEVENT gPendedChanged; /* set when a worker finished a read */

static VOID PendedRelease(PQUOTA_PENDED Entry)
{
    if (InterlockedDecrement(&Entry->References) == 0)
        ExFreePoolWithTag(Entry, QUOTA_TAG);
}

/* The worker (or a post whose queuing failed) claims the read: TRUE when it
 * is still pended, and now the caller's to complete. */
static BOOLEAN PendedClaim(PQUOTA_PENDED Entry)
{
    KIRQL OldIrql;
    KeAcquireSpinLock(&gPendedLock, &OldIrql);
    BOOLEAN Mine = Entry->State == QuotaPended;
    if (Mine)
        Entry->State = QuotaWorking;
    KeReleaseSpinLock(&gPendedLock, OldIrql);
    return Mine;
}

/* A claimed read was completed: off the list, and a teardown that waits for
 * it looks again. */
static VOID PendedFinished(PQUOTA_PENDED Entry)
{
    KIRQL OldIrql;
    KeAcquireSpinLock(&gPendedLock, &OldIrql);
    RemoveEntryList(&Entry->Links);
    KeSetEvent(&gPendedChanged, IO_NO_INCREMENT, FALSE);
    KeReleaseSpinLock(&gPendedLock, OldIrql);
    PendedRelease(Entry); /* the list's */
}

/* PASSIVE_LEVEL or APC_LEVEL: counts the read against its file object and
 * fails it when it goes over the quota. */
static VOID QuotaAccount(_Inout_ PFLT_CALLBACK_DATA Data)
{
    PFILE_OBJECT FileObject = Data->Iopb->TargetFileObject;
    QUOTA_ENTRY *Entry = NULL;
    QUOTA_ENTRY *Free = NULL;

    FltAcquireResourceExclusive(&gQuotaLock);
    for (ULONG i = 0; i < MAX_TRACKED; i++) {
        if (gQuotaTable[i].FileObject == FileObject) {
            Entry = &gQuotaTable[i];
            break;
        }
        if (gQuotaTable[i].FileObject == NULL && Free == NULL)
            Free = &gQuotaTable[i];
    }
    if (Entry == NULL && Free != NULL) {
        Entry = Free;
        Entry->FileObject = FileObject;
        Entry->BytesRead = 0;
    }
    if (Entry == NULL) {
        InterlockedIncrement(&gUnaccounted); /* table full */
    } else {
        Entry->BytesRead += Data->IoStatus.Information;
        if (Entry->BytesRead > READ_QUOTA) {
            DbgPrint("ReadQuota: %wZ is over its quota\n", &FileObject->FileName);
            Data->IoStatus.Status = STATUS_QUOTA_EXCEEDED;
            Data->IoStatus.Information = 0;
        }
    }
    FltReleaseResource(&gQuotaLock);
}

static VOID QuotaWorker(_In_ PFLT_DEFERRED_IO_WORKITEM WorkItem, _In_ PFLT_CALLBACK_DATA Data,
                        _In_opt_ PVOID Context)
{
    PQUOTA_PENDED Entry = Context;
    /* Data is ours to touch only if teardown has not taken the read. */
    if (PendedClaim(Entry)) {
        QuotaAccount(Data);
        FltCompletePendedPostOperation(Data);
        PendedFinished(Entry);
    }
    PendedRelease(Entry); /* ours */
    FltFreeDeferredIoWorkItem(WorkItem);
}

static FLT_PREOP_CALLBACK_STATUS QuotaPreRead(_Inout_ PFLT_CALLBACK_DATA Data,
                                              _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                              _Flt_CompletionContext_Outptr_ PVOID *Context)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Context);

    if (FLT_IS_IRP_OPERATION(Data) &&
        (FlagOn(Data->Iopb->IrpFlags, IRP_PAGING_IO) || IoGetTopLevelIrp() != NULL)) {
        /* The post could not be queued: have it run here instead. */
        if (!FltIsOperationSynchronous(Data)) {
            InterlockedIncrement(&gUnaccounted);
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        }
        return FLT_PREOP_SYNCHRONIZE;
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS QuotaPostRead(_Inout_ PFLT_CALLBACK_DATA Data,
                                                _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                                _In_opt_ PVOID CompletionContext,
                                                _In_ FLT_POST_OPERATION_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(CompletionContext);

    if (FlagOn(Flags, FLTFL_POST_OPERATION_DRAINING))
        return FLT_POSTOP_FINISHED_PROCESSING; /* nothing of ours to free */
    if (!NT_SUCCESS(Data->IoStatus.Status) || Data->IoStatus.Information == 0)
        return FLT_POSTOP_FINISHED_PROCESSING;

    if (KeGetCurrentIrql() <= APC_LEVEL) {
        QuotaAccount(Data); /* synchronized, fast I/O, or a PASSIVE completion */
        return FLT_POSTOP_FINISHED_PROCESSING;
    }

    PFLT_DEFERRED_IO_WORKITEM WorkItem = FltAllocateDeferredIoWorkItem();
    PQUOTA_PENDED Entry = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*Entry), QUOTA_TAG);
    if (WorkItem == NULL || Entry == NULL) {
        if (WorkItem != NULL)
            FltFreeDeferredIoWorkItem(WorkItem);
        if (Entry != NULL)
            ExFreePoolWithTag(Entry, QUOTA_TAG);
        InterlockedIncrement(&gUnaccounted);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    /* Listed before it is queued: the worker may run at once. */
    Entry->Data = Data;
    Entry->Instance = FltObjects->Instance;
    Entry->References = 2;
    KIRQL OldIrql;
    KeAcquireSpinLock(&gPendedLock, &OldIrql);
    InsertTailList(&gPendedList, &Entry->Links);
    Entry->State = QuotaPended;
    KeReleaseSpinLock(&gPendedLock, OldIrql);
    NTSTATUS Status =
        FltQueueDeferredIoWorkItem(WorkItem, Data, QuotaWorker, DelayedWorkQueue, Entry);
    if (!NT_SUCCESS(Status)) {
        /* Refused (teardown has begun, or posting is not safe). Unless a
         * teardown took the read meanwhile (it completed it, and FltMgr
         * goes on once this returns MORE_PROCESSING_REQUIRED, SPEC 5.1),
         * it is ours again and goes through unaccounted. */
        FltFreeDeferredIoWorkItem(WorkItem);
        if (!PendedClaim(Entry)) {
            PendedRelease(Entry);                       /* the worker's, which will not run */
            return FLT_POSTOP_MORE_PROCESSING_REQUIRED; /* teardown completed it */
        }
        PendedFinished(Entry);
        PendedRelease(Entry); /* the worker's */
        InterlockedIncrement(&gUnaccounted);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    return FLT_POSTOP_MORE_PROCESSING_REQUIRED; /* the worker may have completed it already */
}

/* The file object goes: forget it. */
static FLT_PREOP_CALLBACK_STATUS QuotaPreClose(_Inout_ PFLT_CALLBACK_DATA Data,
                                               _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                               _Flt_CompletionContext_Outptr_ PVOID *Context)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Context);
    FltAcquireResourceExclusive(&gQuotaLock);
    for (ULONG i = 0; i < MAX_TRACKED; i++)
        if (gQuotaTable[i].FileObject == Data->Iopb->TargetFileObject)
            gQuotaTable[i].FileObject = NULL;
    FltReleaseResource(&gQuotaLock);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static const FLT_OPERATION_REGISTRATION QuotaCallbacks[] = {
    {IRP_MJ_READ, 0, QuotaPreRead, QuotaPostRead, NULL},
    {IRP_MJ_CLOSE, 0, QuotaPreClose, NULL, NULL},
    {IRP_MJ_OPERATION_END}};

static NTSTATUS QuotaUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    FltUnregisterFilter(gQuotaFilter);
    ExDeleteResourceLite(&gQuotaLock);
    return STATUS_SUCCESS;
}

/* Whether a worker is completing a read of Instance; clears gPendedChanged
 * first, under the lock, so a read finished after the look sets it again. */
static BOOLEAN WorkersBusy(PFLT_INSTANCE Instance)
{
    KIRQL OldIrql;
    BOOLEAN Busy = FALSE;
    KeAcquireSpinLock(&gPendedLock, &OldIrql);
    KeClearEvent(&gPendedChanged);
    for (PLIST_ENTRY Link = gPendedList.Flink; Link != &gPendedList && !Busy; Link = Link->Flink)
        Busy = CONTAINING_RECORD(Link, QUOTA_PENDED, Links)->Instance == Instance;
    KeReleaseSpinLock(&gPendedLock, OldIrql);
    return Busy;
}

/* PASSIVE_LEVEL (SPEC 2.6 step 2): completes the reads this instance holds
 * pended in post (accounted here, as the worker would have), whose workers,
 * still queued, will find them taken; then waits for the workers already
 * completing one, so that none is left pended when this returns (V26). */
static VOID QuotaTeardownStart(_In_ PCFLT_RELATED_OBJECTS FltObjects,
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
        PQUOTA_PENDED Entry = CONTAINING_RECORD(Link, QUOTA_PENDED, Links);
        Link = Link->Flink;
        if (Entry->Instance != FltObjects->Instance || Entry->State != QuotaPended)
            continue;
        RemoveEntryList(&Entry->Links);
        Entry->State = QuotaTaken;
        InsertTailList(&Taken, &Entry->Links); /* the list's reference comes along */
    }
    KeReleaseSpinLock(&gPendedLock, OldIrql);
    while (!IsListEmpty(&Taken)) {
        PQUOTA_PENDED Entry = CONTAINING_RECORD(RemoveHeadList(&Taken), QUOTA_PENDED, Links);
        QuotaAccount(Entry->Data);
        FltCompletePendedPostOperation(Entry->Data);
        PendedRelease(Entry);
    }
    while (WorkersBusy(FltObjects->Instance))
        KeWaitForSingleObject(&gPendedChanged, Executive, KernelMode, FALSE, NULL);
}

static NTSTATUS QuotaQueryTeardown(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                   _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION QuotaRegistration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = QuotaCallbacks,
    .FilterUnloadCallback = QuotaUnload,
    .InstanceQueryTeardownCallback = QuotaQueryTeardown,
    .InstanceTeardownStartCallback = QuotaTeardownStart,
};

/* How many reads went through unaccounted (the test and demo look). */
LONG ReadQuotaUnaccounted(VOID)
{
    return InterlockedCompareExchange(&gUnaccounted, 0, 0);
}

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    RtlZeroMemory(gQuotaTable, sizeof(gQuotaTable));
    gUnaccounted = 0;
    KeInitializeSpinLock(&gPendedLock);
    InitializeListHead(&gPendedList);
    KeInitializeEvent(&gPendedChanged, NotificationEvent, FALSE);
    NTSTATUS Status = ExInitializeResourceLite(&gQuotaLock);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = FltRegisterFilter(DriverObject, &QuotaRegistration, &gQuotaFilter);
    if (NT_SUCCESS(Status)) {
        Status = FltStartFiltering(gQuotaFilter);
        if (!NT_SUCCESS(Status))
            FltUnregisterFilter(gQuotaFilter);
    }
    if (!NT_SUCCESS(Status))
        ExDeleteResourceLite(&gQuotaLock);
    return Status;
}
