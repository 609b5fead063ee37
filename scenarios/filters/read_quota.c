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
 */
#include <fltKernel.h>

DRIVER_INITIALIZE DriverEntry;
LONG ReadQuotaUnaccounted(VOID);

#define READ_QUOTA 64 /* bytes each file object may read */
#define MAX_TRACKED 64

typedef struct _QUOTA_ENTRY {
    PFILE_OBJECT FileObject;
    ULONGLONG BytesRead;
} QUOTA_ENTRY;

static PFLT_FILTER gQuotaFilter;
static ERESOURCE gQuotaLock; /* guards gQuotaTable */
static QUOTA_ENTRY gQuotaTable[MAX_TRACKED];
static LONG gUnaccounted; /* reads let through without accounting */

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
    UNREFERENCED_PARAMETER(Context);
    QuotaAccount(Data);
    FltCompletePendedPostOperation(Data);
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
    UNREFERENCED_PARAMETER(FltObjects);
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
    if (WorkItem == NULL) {
        InterlockedIncrement(&gUnaccounted);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    NTSTATUS Status =
        FltQueueDeferredIoWorkItem(WorkItem, Data, QuotaWorker, DelayedWorkQueue, NULL);
    if (!NT_SUCCESS(Status)) {
        FltFreeDeferredIoWorkItem(WorkItem);
        InterlockedIncrement(&gUnaccounted);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
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
