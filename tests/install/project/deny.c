/*
 * A minifilter written only against <fltKernel.h>, as a user's would be:
 * refuses every open of a name with "DENY" in it (STATUS_ACCESS_DENIED).
 * tests/install builds it against an installed fltsim, as a static library
 * (ENTRY DenyDriverEntry) and as a shared object.
 */
#include <fltKernel.h>

DRIVER_INITIALIZE DriverEntry;

static PFLT_FILTER gDenyFilter;
static UNICODE_STRING DenyExpression = RTL_CONSTANT_STRING(L"*DENY*");

static FLT_PREOP_CALLBACK_STATUS DenyPreCreate(_Inout_ PFLT_CALLBACK_DATA Data,
                                               _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                               _Flt_CompletionContext_Outptr_ PVOID *Context)
{
    UNREFERENCED_PARAMETER(Context);
    if (FltObjects->FileObject != NULL &&
        FsRtlIsNameInExpression(&DenyExpression, &FltObjects->FileObject->FileName, TRUE, NULL)) {
        Data->IoStatus.Status = STATUS_ACCESS_DENIED;
        Data->IoStatus.Information = 0;
        return FLT_PREOP_COMPLETE;
    }
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static const FLT_OPERATION_REGISTRATION DenyCallbacks[] = {
    {IRP_MJ_CREATE, 0, DenyPreCreate, NULL, NULL}, {IRP_MJ_OPERATION_END}};

static NTSTATUS DenyUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    FltUnregisterFilter(gDenyFilter);
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION DenyRegistration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = DenyCallbacks,
    .FilterUnloadCallback = DenyUnload,
};

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    NTSTATUS status = FltRegisterFilter(DriverObject, &DenyRegistration, &gDenyFilter);
    if (!NT_SUCCESS(status))
        return status;
    status = FltStartFiltering(gDenyFilter);
    if (!NT_SUCCESS(status))
        FltUnregisterFilter(gDenyFilter);
    return status;
}
