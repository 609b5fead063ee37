/*
 * PendReads: pends every read in its pre-operation callback and lets a worker
 * thread finish it, the pattern of SPEC 3.2 (PENDING) and 5.1:
 *
 *   pre:    allocate a deferred I/O work item, queue it, return
 *           FLT_PREOP_PENDING (FltMgr does nothing more with the read);
 *   worker: (PASSIVE_LEVEL, a system thread) FltCompletePendedPreOperation(
 *           Data, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL), free the item; the
 *           rest of the stack (lower filters, the file system) then runs on
 *           the worker's thread, and the post-read runs where the read
 *           completes.
 *
 * When queuing fails (paging I/O and a thread with a top-level IRP cannot be
 * posted, SPEC 5.1 and 6.6; the instance may be torn down) the pre must not
 * pend: it lets the read through with FLT_PREOP_SUCCESS_NO_CALLBACK. Fast I/O
 * cannot be pended at all (SPEC 3.1) and passes too.
 *
 * Hold mode: when the REG_DWORD Parameters\HoldReads under the service key is
 * nonzero (read once, in DriverEntry, with ZwOpenKey and ZwQueryValueKey's
 * KeyValuePartialInformation), pended reads are kept on a list (a spin lock guards it) until
 * PendReadsCompletePended() hands them to the worker, which lets a scenario
 * or test decide when they finish. A held read must be finished before
 * teardown can finish (SPEC 2.6, V26): InstanceTeardownStart completes the
 * reads its instance holds itself (FLT_PREOP_SUCCESS_NO_CALLBACK: no work
 * can be queued for a dying instance) and waits for the ones already on their
 * way to the worker. Each held read keeps its instance referenced
 * (FltObjectReference), which also tells the pre whether teardown has begun:
 * the reference fails then, and the read is let through instead of held.
 * A held read can be cancelled (CancelIoEx, its thread's end): each has a
 * cancel routine (FltSetCancelCompletion, set under the lock once the read
 * is on the list) that takes it off the list and completes it with
 * STATUS_CANCELLED; whoever takes a read off the list first clears the
 * routine (FltClearCancelCompletion), and a read whose routine is already
 * running is left on the list for it.
 */
#include <fltKernel.h>

DRIVER_INITIALIZE DriverEntry;
VOID PendReadsCompletePended(VOID);
LONG PendReadsHeld(VOID);
LONG PendReadsLetThrough(VOID);
LONG PendReadsCompleted(VOID);

#define PEND_TAG 'dRnP' /* "PnRd" */

typedef struct _PENDED_READ {
    LIST_ENTRY Links; /* on gHeldList while held */
    PFLT_CALLBACK_DATA Data;
    PFLT_INSTANCE Instance; /* referenced while held */
} PENDED_READ, *PPENDED_READ;

static PFLT_FILTER gPendFilter;
static BOOLEAN gHoldReads;

static KSPIN_LOCK gPendLock; /* guards the three below */
static LIST_ENTRY gHeldList;
static LONG gHeld;           /* entries on gHeldList */
static LONG gInFlight;       /* off the list (or never on it), not yet completed */
static KEVENT gNoneInFlight; /* signaled exactly when gInFlight == 0 */

static LONG gLetThrough; /* reads not pended */
static LONG gCompleted;  /* post-reads that saw a read finish */

/* Call with gPendLock held. */
static VOID InFlightAddLocked(LONG Delta)
{
    LONG Before = gInFlight;
    gInFlight += Delta;
    if (Before == 0 && gInFlight != 0)
        KeClearEvent(&gNoneInFlight);
    else if (Before != 0 && gInFlight == 0)
        KeSetEvent(&gNoneInFlight, IO_NO_INCREMENT, FALSE);
}

static VOID InFlightDone(VOID)
{
    KIRQL OldIrql;
    KeAcquireSpinLock(&gPendLock, &OldIrql);
    InFlightAddLocked(-1);
    KeReleaseSpinLock(&gPendLock, OldIrql);
}

static VOID PendWorker(_In_ PFLT_DEFERRED_IO_WORKITEM WorkItem, _In_ PFLT_CALLBACK_DATA Data,
                       _In_opt_ PVOID Context)
{
    PPENDED_READ Entry = Context;
    FltCompletePendedPreOperation(Data, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    if (Entry != NULL) {
        FltObjectDereference(Entry->Instance);
        ExFreePoolWithTag(Entry, PEND_TAG);
    }
    FltFreeDeferredIoWorkItem(WorkItem);
    InFlightDone();
}

/* Queues the worker for Data (Entry: a held read, or NULL). The caller has
 * counted it in gInFlight. FALSE when it could not be queued; the caller
 * still owns the read. */
static BOOLEAN QueueWorker(PFLT_CALLBACK_DATA Data, PPENDED_READ Entry)
{
    PFLT_DEFERRED_IO_WORKITEM WorkItem = FltAllocateDeferredIoWorkItem();
    if (WorkItem == NULL)
        return FALSE;
    NTSTATUS Status =
        FltQueueDeferredIoWorkItem(WorkItem, Data, PendWorker, DelayedWorkQueue, Entry);
    if (!NT_SUCCESS(Status)) {
        FltFreeDeferredIoWorkItem(WorkItem);
        return FALSE;
    }
    return TRUE;
}

/* PASSIVE_LEVEL: completes a taken read here instead of in the worker. */
static VOID CompleteHere(PPENDED_READ Entry, FLT_PREOP_CALLBACK_STATUS Status);

/* The cancel routine of a held read (the canceller's thread and IRQL, no
 * lock held): takes it off the list and completes it as cancelled. */
static VOID PendCancelRead(_In_ PFLT_CALLBACK_DATA Data)
{
    KIRQL OldIrql;
    PPENDED_READ Found = NULL;
    KeAcquireSpinLock(&gPendLock, &OldIrql);
    for (PLIST_ENTRY Link = gHeldList.Flink; Link != &gHeldList; Link = Link->Flink) {
        PPENDED_READ Entry = CONTAINING_RECORD(Link, PENDED_READ, Links);
        if (Entry->Data == Data) {
            RemoveEntryList(&Entry->Links);
            gHeld--;
            InFlightAddLocked(1);
            Found = Entry;
            break;
        }
    }
    KeReleaseSpinLock(&gPendLock, OldIrql);
    if (Found == NULL)
        return; /* [not reachable: the routine is set only while the read is on the list] */
    Data->IoStatus.Status = STATUS_CANCELLED;
    Data->IoStatus.Information = 0;
    CompleteHere(Found, FLT_PREOP_COMPLETE);
}

static FLT_PREOP_CALLBACK_STATUS
PendPreRead(_Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
            _Flt_CompletionContext_Outptr_ PVOID *CompletionContext)
{
    KIRQL OldIrql;
    *CompletionContext = NULL;

    if (!FLT_IS_IRP_OPERATION(Data))
        goto let_through; /* PENDING is for IRPs only */

    if (!gHoldReads) {
        KeAcquireSpinLock(&gPendLock, &OldIrql);
        InFlightAddLocked(1); /* before queuing: teardown must wait for it */
        KeReleaseSpinLock(&gPendLock, OldIrql);
        if (QueueWorker(Data, NULL))
            return FLT_PREOP_PENDING; /* the worker may have completed it already */
        InFlightDone();
        goto let_through;
    }

    /* Hold mode. The worker is queued later from another thread, where these
     * two would not be refused; a read that cannot be posted now is not held. */
    if (FlagOn(Data->Iopb->IrpFlags, IRP_PAGING_IO) || IoGetTopLevelIrp() != NULL)
        goto let_through;
    PPENDED_READ Entry = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*Entry), PEND_TAG);
    if (Entry == NULL)
        goto let_through;
    Entry->Data = Data;
    Entry->Instance = FltObjects->Instance;
    /* Under the lock, so teardown's sweep either sees the entry or has
     * already made the reference fail. */
    KeAcquireSpinLock(&gPendLock, &OldIrql);
    NTSTATUS Status = FltObjectReference(Entry->Instance);
    BOOLEAN Cancelled = FALSE;
    if (NT_SUCCESS(Status)) {
        InsertTailList(&gHeldList, &Entry->Links);
        gHeld++;
        /* On the list first, so the routine finds it; cancelled already: not
         * held, completed as cancelled below. */
        if (FltSetCancelCompletion(Data, PendCancelRead) == STATUS_CANCELLED) {
            RemoveEntryList(&Entry->Links);
            gHeld--;
            Cancelled = TRUE;
        }
    }
    KeReleaseSpinLock(&gPendLock, OldIrql);
    if (NT_SUCCESS(Status) && !Cancelled)
        return FLT_PREOP_PENDING;
    if (Cancelled)
        FltObjectDereference(Entry->Instance);
    ExFreePoolWithTag(Entry, PEND_TAG);
    if (Cancelled) {
        Data->IoStatus.Status = STATUS_CANCELLED;
        Data->IoStatus.Information = 0;
        return FLT_PREOP_COMPLETE;
    }

let_through:
    InterlockedIncrement(&gLetThrough);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS PendPostRead(_Inout_ PFLT_CALLBACK_DATA Data,
                                               _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                               _In_opt_ PVOID CompletionContext,
                                               _In_ FLT_POST_OPERATION_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Data);
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(CompletionContext);
    /* May run at DISPATCH_LEVEL: an interlocked count is all it does. */
    if (!FlagOn(Flags, FLTFL_POST_OPERATION_DRAINING))
        InterlockedIncrement(&gCompleted);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* Moves the held reads of Instance (all of them when NULL) to Out and counts
 * them in flight. */
static VOID TakeHeld(PFLT_INSTANCE Instance, PLIST_ENTRY Out)
{
    KIRQL OldIrql;
    InitializeListHead(Out);
    KeAcquireSpinLock(&gPendLock, &OldIrql);
    PLIST_ENTRY Link = gHeldList.Flink;
    while (Link != &gHeldList) {
        PPENDED_READ Entry = CONTAINING_RECORD(Link, PENDED_READ, Links);
        Link = Link->Flink;
        if (Instance != NULL && Entry->Instance != Instance)
            continue;
        if (FltClearCancelCompletion(Entry->Data) != STATUS_SUCCESS)
            continue; /* being cancelled: PendCancelRead takes it off */
        RemoveEntryList(&Entry->Links);
        InsertTailList(Out, &Entry->Links);
        gHeld--;
        InFlightAddLocked(1);
    }
    KeReleaseSpinLock(&gPendLock, OldIrql);
}

static VOID CompleteHere(PPENDED_READ Entry, FLT_PREOP_CALLBACK_STATUS Status)
{
    FltCompletePendedPreOperation(Entry->Data, Status, NULL);
    FltObjectDereference(Entry->Instance);
    ExFreePoolWithTag(Entry, PEND_TAG);
    InFlightDone();
}

/* The hook a scenario's complete_pended step (or a test) calls, at
 * PASSIVE_LEVEL: every held read goes to the worker. */
VOID PendReadsCompletePended(VOID)
{
    LIST_ENTRY Taken;
    TakeHeld(NULL, &Taken);
    while (!IsListEmpty(&Taken)) {
        PPENDED_READ Entry = CONTAINING_RECORD(RemoveHeadList(&Taken), PENDED_READ, Links);
        if (!QueueWorker(Entry->Data, Entry))
            CompleteHere(Entry, FLT_PREOP_SUCCESS_WITH_CALLBACK); /* e.g. teardown began */
    }
}

static VOID PendTeardownStart(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                              _In_ FLT_INSTANCE_TEARDOWN_FLAGS Reason)
{
    UNREFERENCED_PARAMETER(Reason);
    PAGED_CODE();
    LIST_ENTRY Taken;
    TakeHeld(FltObjects->Instance, &Taken);
    while (!IsListEmpty(&Taken))
        CompleteHere(CONTAINING_RECORD(RemoveHeadList(&Taken), PENDED_READ, Links),
                     FLT_PREOP_SUCCESS_NO_CALLBACK);
    /* Reads on their way to (or in) the worker finish on their own; teardown
     * may not go on before they have. */
    KeWaitForSingleObject(&gNoneInFlight, Executive, KernelMode, FALSE, NULL);
}

static NTSTATUS PendUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    FltUnregisterFilter(gPendFilter); /* teardown has completed every held read */
    return STATUS_SUCCESS;
}

static NTSTATUS PendQueryTeardown(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                  _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    return STATUS_SUCCESS;
}

static const FLT_OPERATION_REGISTRATION PendCallbacks[] = {
    {IRP_MJ_READ, 0, PendPreRead, PendPostRead, NULL}, {IRP_MJ_OPERATION_END}};

static const FLT_REGISTRATION PendRegistration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = PendCallbacks,
    .FilterUnloadCallback = PendUnload,
    .InstanceQueryTeardownCallback = PendQueryTeardown,
    .InstanceTeardownStartCallback = PendTeardownStart,
};

/* Reads held now, waiting for PendReadsCompletePended. */
LONG PendReadsHeld(VOID)
{
    KIRQL OldIrql;
    KeAcquireSpinLock(&gPendLock, &OldIrql);
    LONG Held = gHeld;
    KeReleaseSpinLock(&gPendLock, OldIrql);
    return Held;
}

/* Reads let through without pending since load. */
LONG PendReadsLetThrough(VOID)
{
    return InterlockedCompareExchange(&gLetThrough, 0, 0);
}

/* Pended reads whose post-read saw them finish, since load. */
LONG PendReadsCompleted(VOID)
{
    return InterlockedCompareExchange(&gCompleted, 0, 0);
}

/* PASSIVE_LEVEL (DriverEntry): the REG_DWORD Parameters\HoldReads under the
 * service key. A missing key or value, or one that is not a 4-byte
 * REG_DWORD, means 0. */
static BOOLEAN ReadHoldReads(_In_ PUNICODE_STRING RegistryPath)
{
    WCHAR PathBuffer[256];
    UNICODE_STRING Path;
    UNICODE_STRING ValueName = RTL_CONSTANT_STRING(L"HoldReads");
    OBJECT_ATTRIBUTES Attributes;
    HANDLE Key = NULL;
    /* ULONGs, so the structure in it is aligned. */
    ULONG InfoBuffer[(sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(ULONG) + 3) / sizeof(ULONG)];
    PKEY_VALUE_PARTIAL_INFORMATION Info = (PKEY_VALUE_PARTIAL_INFORMATION)InfoBuffer;
    ULONG ResultLength = 0;
    ULONG Value = 0;

    PAGED_CODE();
    RtlInitEmptyUnicodeString(&Path, PathBuffer, sizeof(PathBuffer));
    if (!NT_SUCCESS(RtlAppendUnicodeStringToString(&Path, RegistryPath)) ||
        !NT_SUCCESS(RtlAppendUnicodeToString(&Path, L"\\Parameters")))
        return FALSE;
    InitializeObjectAttributes(&Attributes, &Path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL,
                               NULL);
    if (!NT_SUCCESS(ZwOpenKey(&Key, KEY_READ, &Attributes)))
        return FALSE;
    NTSTATUS Status = ZwQueryValueKey(Key, &ValueName, KeyValuePartialInformation, Info,
                                      sizeof(InfoBuffer), &ResultLength);
    if (NT_SUCCESS(Status) && Info->Type == REG_DWORD && Info->DataLength == sizeof(ULONG))
        RtlCopyMemory(&Value, Info->Data, sizeof(ULONG));
    ZwClose(Key);
    return Value != 0;
}

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    KeInitializeSpinLock(&gPendLock);
    InitializeListHead(&gHeldList);
    KeInitializeEvent(&gNoneInFlight, NotificationEvent, TRUE);
    gHeld = gInFlight = gLetThrough = gCompleted = 0;
    gHoldReads = ReadHoldReads(RegistryPath);
    if (gHoldReads)
        DbgPrint("PendReads: holding reads until complete_pended\n");

    NTSTATUS Status = FltRegisterFilter(DriverObject, &PendRegistration, &gPendFilter);
    if (NT_SUCCESS(Status)) {
        Status = FltStartFiltering(gPendFilter);
        if (!NT_SUCCESS(Status))
            FltUnregisterFilter(gPendFilter);
    }
    return Status;
}
