/*
 * WriteCounter: counts the writes to each stream in a stream context (SPEC
 * 7.1, 7.2). Its post-create finds the stream's context or allocates one,
 * holding the file's normalized name (FltGetFileNameInformation, SPEC 7.3),
 * and sets it with FLT_SET_CONTEXT_KEEP_IF_EXISTS: when another create set
 * one first, it uses that one and releases its own. Its pre-write passes the
 * context to its post-write, which counts the writes that succeeded. It never
 * deletes a context: FltMgr calls its cleanup callback when the stream goes
 * (the last close of the stream, or the detach), which prints the name and
 * the count and frees the name. A cleanup callback has no callback data to
 * ask a name with, hence the copy taken at create.
 */
#include <fltKernel.h>

DRIVER_INITIALIZE DriverEntry;

#define WRITE_COUNTER_TAG 'tnCW'

typedef struct _WRITE_COUNTER_CONTEXT {
    volatile LONG Writes;
    UNICODE_STRING Name; /* normalized; the buffer is the filter's, tagged */
} WRITE_COUNTER_CONTEXT, *PWRITE_COUNTER_CONTEXT;

static PFLT_FILTER gCounterFilter;

static VOID CounterContextCleanup(_In_ PFLT_CONTEXT Context, _In_ FLT_CONTEXT_TYPE ContextType)
{
    UNREFERENCED_PARAMETER(ContextType);
    PWRITE_COUNTER_CONTEXT Counter = Context;
    if (Counter->Name.Buffer == NULL)
        return; /* never named: released by CounterNewContext */
    DbgPrint("WriteCounter: %wZ: %ld writes\n", &Counter->Name, Counter->Writes);
    ExFreePoolWithTag(Counter->Name.Buffer, WRITE_COUNTER_TAG);
}

/* A new context naming the file of Data; NULL when there is no memory or
 * no name. */
static PWRITE_COUNTER_CONTEXT CounterNewContext(_In_ PFLT_CALLBACK_DATA Data)
{
    PFLT_FILE_NAME_INFORMATION NameInfo;
    NTSTATUS status = FltGetFileNameInformation(
        Data, FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_DEFAULT, &NameInfo);
    if (!NT_SUCCESS(status))
        return NULL;
    PWRITE_COUNTER_CONTEXT Counter = NULL;
    status = FltAllocateContext(gCounterFilter, FLT_STREAM_CONTEXT, sizeof(*Counter),
                                NonPagedPoolNx, (PFLT_CONTEXT *)&Counter);
    if (NT_SUCCESS(status)) {
        RtlZeroMemory(Counter, sizeof(*Counter));
        Counter->Name.Buffer = ExAllocatePoolZero(
            NonPagedPoolNx, NameInfo->Name.Length + sizeof(WCHAR), WRITE_COUNTER_TAG);
        if (Counter->Name.Buffer == NULL) {
            FltReleaseContext(Counter); /* the cleanup callback frees nothing */
            Counter = NULL;
        } else {
            Counter->Name.MaximumLength = NameInfo->Name.Length + sizeof(WCHAR);
            RtlCopyUnicodeString(&Counter->Name, &NameInfo->Name);
        }
    }
    FltReleaseFileNameInformation(NameInfo);
    return Counter;
}

static FLT_POSTOP_CALLBACK_STATUS CounterPostCreate(_Inout_ PFLT_CALLBACK_DATA Data,
                                                    _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                                    _In_opt_ PVOID CompletionContext,
                                                    _In_ FLT_POST_OPERATION_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(CompletionContext);
    if (!NT_SUCCESS(Data->IoStatus.Status) || FlagOn(Flags, FLTFL_POST_OPERATION_DRAINING))
        return FLT_POSTOP_FINISHED_PROCESSING;
    BOOLEAN Directory = FALSE;
    if (!NT_SUCCESS(FltIsDirectory(FltObjects->FileObject, FltObjects->Instance, &Directory)) ||
        Directory)
        return FLT_POSTOP_FINISHED_PROCESSING;

    PFLT_CONTEXT Existing = NULL;
    if (NT_SUCCESS(FltGetStreamContext(FltObjects->Instance, FltObjects->FileObject, &Existing))) {
        FltReleaseContext(Existing); /* the stream already counts */
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    PWRITE_COUNTER_CONTEXT Counter = CounterNewContext(Data);
    if (Counter == NULL)
        return FLT_POSTOP_FINISHED_PROCESSING; /* this stream goes uncounted */
    NTSTATUS status = FltSetStreamContext(FltObjects->Instance, FltObjects->FileObject,
                                          FLT_SET_CONTEXT_KEEP_IF_EXISTS, Counter, &Existing);
    if (status == STATUS_FLT_CONTEXT_ALREADY_DEFINED)
        FltReleaseContext(Existing); /* another create won; ours goes below */
    /* Set: the stream holds its reference; not set: this frees it. */
    FltReleaseContext(Counter);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* The pre hands the stream's context to the post, which counts the write if
 * it succeeded (a fast I/O write the file system declines comes back as an
 * IRP: counted once). The post may run at DISPATCH_LEVEL, where
 * FltGetStreamContext may not be called; releasing the context may. */
static FLT_PREOP_CALLBACK_STATUS
CounterPreWrite(_Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
                _Flt_CompletionContext_Outptr_ PVOID *CompletionContext)
{
    UNREFERENCED_PARAMETER(Data);
    PFLT_CONTEXT Counter;
    if (!NT_SUCCESS(FltGetStreamContext(FltObjects->Instance, FltObjects->FileObject, &Counter)))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    *CompletionContext = Counter;
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS CounterPostWrite(_Inout_ PFLT_CALLBACK_DATA Data,
                                                   _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                                   _In_opt_ PVOID CompletionContext,
                                                   _In_ FLT_POST_OPERATION_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    PWRITE_COUNTER_CONTEXT Counter = CompletionContext;
    if (NT_SUCCESS(Data->IoStatus.Status))
        InterlockedIncrement(&Counter->Writes);
    FltReleaseContext(Counter);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static const FLT_OPERATION_REGISTRATION CounterCallbacks[] = {
    {IRP_MJ_CREATE, 0, NULL, CounterPostCreate, NULL},
    {IRP_MJ_WRITE, FLTFL_OPERATION_REGISTRATION_SKIP_PAGING_IO, CounterPreWrite, CounterPostWrite,
     NULL},
    {IRP_MJ_OPERATION_END}};

static const FLT_CONTEXT_REGISTRATION CounterContexts[] = {
    {FLT_STREAM_CONTEXT, 0, CounterContextCleanup, sizeof(WRITE_COUNTER_CONTEXT), WRITE_COUNTER_TAG,
     NULL, NULL, NULL},
    {FLT_CONTEXT_END}};

static NTSTATUS CounterUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    FltUnregisterFilter(gCounterFilter);
    return STATUS_SUCCESS;
}

static NTSTATUS CounterQueryTeardown(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                     _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION CounterRegistration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .ContextRegistration = CounterContexts,
    .OperationRegistration = CounterCallbacks,
    .FilterUnloadCallback = CounterUnload,
    .InstanceQueryTeardownCallback = CounterQueryTeardown,
};

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    NTSTATUS status = FltRegisterFilter(DriverObject, &CounterRegistration, &gCounterFilter);
    if (!NT_SUCCESS(status))
        return status;
    status = FltStartFiltering(gCounterFilter);
    if (!NT_SUCCESS(status))
        FltUnregisterFilter(gCounterFilter);
    return status;
}
