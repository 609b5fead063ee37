/*
 * AccessBlocker: denies opening any file whose name contains "secret". Its
 * pre-create callback completes the create itself with STATUS_ACCESS_DENIED
 * (FLT_PREOP_COMPLETE), so filters below it and the file system never see the
 * request, its own post is not called, and the posts of filters above it still
 * run and see the failure (SPEC 3.2). It registers a pre-create only: with no
 * post, returning FLT_PREOP_SUCCESS_NO_CALLBACK for every other file is the only
 * correct way to let them through.
 */
#include <fltKernel.h>

DRIVER_INITIALIZE DriverEntry;

static PFLT_FILTER gBlockerFilter;

/* Upcased, because FsRtlIsNameInExpression with IgnoreCase expects that. */
static UNICODE_STRING BlockedExpression = RTL_CONSTANT_STRING(L"*SECRET*");

static FLT_PREOP_CALLBACK_STATUS
BlockerPreCreate(_Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
                 _Flt_CompletionContext_Outptr_ PVOID *CompletionContext)
{
    UNREFERENCED_PARAMETER(CompletionContext);
    PFILE_OBJECT FileObject = FltObjects->FileObject;

    if (FileObject != NULL &&
        FsRtlIsNameInExpression(&BlockedExpression, &FileObject->FileName, TRUE, NULL)) {
        DbgPrint("AccessBlocker: denying %wZ\n", &FileObject->FileName);
        Data->IoStatus.Status = STATUS_ACCESS_DENIED;
        Data->IoStatus.Information = 0;
        return FLT_PREOP_COMPLETE;
    }
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static const FLT_OPERATION_REGISTRATION BlockerCallbacks[] = {
    {IRP_MJ_CREATE, 0, BlockerPreCreate, NULL, NULL}, {IRP_MJ_OPERATION_END}};

static NTSTATUS BlockerUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    FltUnregisterFilter(gBlockerFilter);
    return STATUS_SUCCESS;
}

static NTSTATUS BlockerQueryTeardown(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                     _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION BlockerRegistration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = BlockerCallbacks,
    .FilterUnloadCallback = BlockerUnload,
    .InstanceQueryTeardownCallback = BlockerQueryTeardown,
};

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    NTSTATUS status = FltRegisterFilter(DriverObject, &BlockerRegistration, &gBlockerFilter);
    if (!NT_SUCCESS(status))
        return status;
    status = FltStartFiltering(gBlockerFilter);
    if (!NT_SUCCESS(status))
        FltUnregisterFilter(gBlockerFilter);
    return status;
}
