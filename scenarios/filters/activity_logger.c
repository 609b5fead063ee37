/*
 * ActivityLogger: a pure observer. For every operation it registers it
 * appends a record in its pre (FLT_PREOP_SUCCESS_WITH_CALLBACK) and another
 * in its post (FLT_POSTOP_FINISHED_PROCESSING) with the major and minor
 * codes, the requestor's process id (FltGetRequestorProcessId) and, in the
 * post, the final status; it never changes an operation. What it teaches:
 *
 *   - posts may run at DISPATCH_LEVEL on an arbitrary thread (SPEC 4.2), so
 *     the ring is nonpaged pool guarded by a spin lock, never a resource or
 *     mutex, and the post touches nothing pageable;
 *   - a file object's FileName is only meaningful around IRP_MJ_CREATE (its
 *     pre and its PASSIVE_LEVEL post, SPEC 4.2): after the open the file
 *     system owns it. Other records carry no name (a real logger asks
 *     FltGetFileNameInformation, SPEC 7.3, in the pre). IRP_MJ_NETWORK_QUERY_OPEN
 *     is not registered at all: its file object must never be touched;
 *   - a post called while the instance is torn down carries
 *     FLTFL_POST_OPERATION_DRAINING (SPEC 4.4): the status is not final, and
 *     the record says so;
 *   - global state is allocated in DriverEntry and freed in the unload
 *     callback after FltUnregisterFilter, which returns only when no callback
 *     can run any more (SPEC 1.4).
 */
#include <fltKernel.h>

#include "activity_logger.h"

DRIVER_INITIALIZE DriverEntry;

#define LOGGER_TAG 'gLcA' /* "AcLg" */

typedef struct _ACTIVITY_LOG {
    KSPIN_LOCK Lock; /* guards everything below */
    ULONG Next;      /* sequence number of the next record */
    ULONG Counts[2][256];
    ACTIVITY_RECORD Ring[ACTIVITY_RING_SIZE];
} ACTIVITY_LOG, *PACTIVITY_LOG;

static PFLT_FILTER gLoggerFilter;
static PACTIVITY_LOG gLog; /* nonpaged; set in DriverEntry, freed at unload */

static UCHAR OpKindOf(PFLT_CALLBACK_DATA Data)
{
    if (FLT_IS_FASTIO_OPERATION(Data))
        return 1;
    if (FLT_IS_FS_FILTER_OPERATION(Data))
        return 2;
    return 0;
}

/* Any IRQL up to DISPATCH_LEVEL. */
static VOID LogAppend(PFLT_CALLBACK_DATA Data, UCHAR Kind, FLT_POST_OPERATION_FLAGS PostFlags)
{
    PFLT_IO_PARAMETER_BLOCK Iopb = Data->Iopb;
    PFILE_OBJECT FileObject = Iopb->TargetFileObject;
    KIRQL OldIrql;

    KeAcquireSpinLock(&gLog->Lock, &OldIrql);
    PACTIVITY_RECORD Record = &gLog->Ring[gLog->Next % ACTIVITY_RING_SIZE];
    RtlZeroMemory(Record, sizeof(*Record));
    Record->Sequence = gLog->Next++;
    Record->Kind = Kind;
    Record->Major = Iopb->MajorFunction;
    Record->Minor = Iopb->MinorFunction;
    Record->OpKind = OpKindOf(Data);
    Record->ProcessId = FltGetRequestorProcessId(Data);
    Record->Status = Kind == ACTIVITY_POST ? Data->IoStatus.Status : STATUS_PENDING;
    Record->Information = Kind == ACTIVITY_POST ? Data->IoStatus.Information : 0;
    Record->PostFlags = PostFlags;
    /* Only around the create is FileName the name the caller opened. */
    if (Iopb->MajorFunction == IRP_MJ_CREATE && FileObject != NULL &&
        FileObject->FileName.Buffer != NULL) {
        USHORT Chars = FileObject->FileName.Length / sizeof(WCHAR);
        if (Chars > ACTIVITY_NAME_CHARS)
            Chars = ACTIVITY_NAME_CHARS;
        RtlCopyMemory(Record->Name, FileObject->FileName.Buffer, Chars * sizeof(WCHAR));
        Record->NameLength = Chars;
    }
    gLog->Counts[Kind][Iopb->MajorFunction]++;
    KeReleaseSpinLock(&gLog->Lock, OldIrql);
}

static FLT_PREOP_CALLBACK_STATUS LoggerPre(_Inout_ PFLT_CALLBACK_DATA Data,
                                           _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                           _Flt_CompletionContext_Outptr_ PVOID *CompletionContext)
{
    UNREFERENCED_PARAMETER(FltObjects);
    *CompletionContext = NULL;
    LogAppend(Data, ACTIVITY_PRE, 0);
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS LoggerPost(_Inout_ PFLT_CALLBACK_DATA Data,
                                             _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                             _In_opt_ PVOID CompletionContext,
                                             _In_ FLT_POST_OPERATION_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(CompletionContext);
    LogAppend(Data, ACTIVITY_POST, Flags);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static const FLT_OPERATION_REGISTRATION LoggerCallbacks[] = {
    {IRP_MJ_CREATE, 0, LoggerPre, LoggerPost, NULL},
    {IRP_MJ_CLOSE, 0, LoggerPre, LoggerPost, NULL},
    {IRP_MJ_READ, 0, LoggerPre, LoggerPost, NULL},
    {IRP_MJ_WRITE, 0, LoggerPre, LoggerPost, NULL},
    {IRP_MJ_QUERY_INFORMATION, 0, LoggerPre, LoggerPost, NULL},
    {IRP_MJ_SET_INFORMATION, 0, LoggerPre, LoggerPost, NULL},
    {IRP_MJ_FLUSH_BUFFERS, 0, LoggerPre, LoggerPost, NULL},
    {IRP_MJ_DIRECTORY_CONTROL, 0, LoggerPre, LoggerPost, NULL},
    {IRP_MJ_CLEANUP, 0, LoggerPre, LoggerPost, NULL},
    {IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, 0, LoggerPre, LoggerPost, NULL},
    {IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION, 0, LoggerPre, LoggerPost, NULL},
    {IRP_MJ_OPERATION_END}};

static NTSTATUS LoggerUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    /* Returns after every instance is torn down: no callback runs after it. */
    FltUnregisterFilter(gLoggerFilter);
    ExFreePoolWithTag(gLog, LOGGER_TAG);
    gLog = NULL;
    return STATUS_SUCCESS;
}

static NTSTATUS LoggerQueryTeardown(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                    _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION LoggerRegistration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = LoggerCallbacks,
    .FilterUnloadCallback = LoggerUnload,
    .InstanceQueryTeardownCallback = LoggerQueryTeardown,
};

ULONG ActivityLoggerTotal(VOID)
{
    KIRQL OldIrql;
    ULONG Total = 0;
    if (gLog == NULL)
        return 0;
    KeAcquireSpinLock(&gLog->Lock, &OldIrql);
    Total = gLog->Next;
    KeReleaseSpinLock(&gLog->Lock, OldIrql);
    return Total;
}

ULONG ActivityLoggerCount(UCHAR Major, UCHAR Kind)
{
    KIRQL OldIrql;
    ULONG Count = 0;
    if (gLog == NULL || Kind > ACTIVITY_POST)
        return 0;
    KeAcquireSpinLock(&gLog->Lock, &OldIrql);
    Count = gLog->Counts[Kind][Major];
    KeReleaseSpinLock(&gLog->Lock, OldIrql);
    return Count;
}

BOOLEAN ActivityLoggerRecord(ULONG Sequence, PACTIVITY_RECORD Record)
{
    KIRQL OldIrql;
    BOOLEAN Found = FALSE;
    if (gLog == NULL || Record == NULL)
        return FALSE;
    KeAcquireSpinLock(&gLog->Lock, &OldIrql);
    if (Sequence < gLog->Next && gLog->Next - Sequence <= ACTIVITY_RING_SIZE) {
        *Record = gLog->Ring[Sequence % ACTIVITY_RING_SIZE];
        Found = TRUE;
    }
    KeReleaseSpinLock(&gLog->Lock, OldIrql);
    return Found;
}

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    PACTIVITY_LOG Log = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(ACTIVITY_LOG), LOGGER_TAG);
    if (Log == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    KeInitializeSpinLock(&Log->Lock);
    gLog = Log; /* before FltStartFiltering: callbacks may come during it */

    NTSTATUS Status = FltRegisterFilter(DriverObject, &LoggerRegistration, &gLoggerFilter);
    if (NT_SUCCESS(Status)) {
        Status = FltStartFiltering(gLoggerFilter);
        if (!NT_SUCCESS(Status))
            FltUnregisterFilter(gLoggerFilter);
    }
    if (!NT_SUCCESS(Status)) {
        gLog = NULL;
        ExFreePoolWithTag(Log, LOGGER_TAG);
    }
    return Status;
}
