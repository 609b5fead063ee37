/*
 * CfgGuard, the minifilter of the consumer project: it keeps *.cfg files
 * read-only. A write to one, or a delete, fails with STATUS_ACCESS_DENIED;
 * everything else passes. It is written as for Windows (the file builds
 * with the WDK unchanged) and names files the way a real filter does, with
 * FltGetFileNameInformation, so fltsim's verifier has something to check.
 */
#include <fltKernel.h>

static PFLT_FILTER gFilter;
static UNICODE_STRING CfgExtension = RTL_CONSTANT_STRING(L"cfg");

/* TRUE when the target of Data is a *.cfg file. A name that cannot be had is
 * not a .cfg file as far as this filter knows: it lets the operation pass. */
static BOOLEAN CfgGuardIsCfg(_In_ PFLT_CALLBACK_DATA Data)
{
    PFLT_FILE_NAME_INFORMATION name;
    BOOLEAN isCfg = FALSE;

    if (!NT_SUCCESS(FltGetFileNameInformation(
            Data, FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_DEFAULT, &name)))
        return FALSE;
    if (NT_SUCCESS(FltParseFileNameInformation(name)))
        isCfg = RtlEqualUnicodeString(&name->Extension, &CfgExtension, TRUE);
    FltReleaseFileNameInformation(name);
    return isCfg;
}

static FLT_PREOP_CALLBACK_STATUS CfgGuardDeny(_Inout_ PFLT_CALLBACK_DATA Data)
{
    Data->IoStatus.Status = STATUS_ACCESS_DENIED;
    Data->IoStatus.Information = 0;
    return FLT_PREOP_COMPLETE;
}

static FLT_PREOP_CALLBACK_STATUS CfgGuardPreWrite(_Inout_ PFLT_CALLBACK_DATA Data,
                                                  _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                                  _Flt_CompletionContext_Outptr_ PVOID *Context)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Context);
    /* The cache manager's paging writes carry data already written (and
     * refused or allowed) through the cache; no name query there. */
    if (FlagOn(Data->Iopb->IrpFlags, IRP_PAGING_IO))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    return CfgGuardIsCfg(Data) ? CfgGuardDeny(Data) : FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static FLT_PREOP_CALLBACK_STATUS
CfgGuardPreSetInformation(_Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
                          _Flt_CompletionContext_Outptr_ PVOID *Context)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Context);
    switch (Data->Iopb->Parameters.SetFileInformation.FileInformationClass) {
    case FileDispositionInformation:
    case FileDispositionInformationEx:
        return CfgGuardIsCfg(Data) ? CfgGuardDeny(Data) : FLT_PREOP_SUCCESS_NO_CALLBACK;
    default:
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
}

static const FLT_OPERATION_REGISTRATION Callbacks[] = {
    {IRP_MJ_WRITE, 0, CfgGuardPreWrite, NULL},
    {IRP_MJ_SET_INFORMATION, 0, CfgGuardPreSetInformation, NULL},
    {IRP_MJ_OPERATION_END}};

static NTSTATUS CfgGuardUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    FltUnregisterFilter(gFilter);
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION Registration = {
    sizeof(FLT_REGISTRATION), FLT_REGISTRATION_VERSION, 0, NULL, Callbacks, CfgGuardUnload,
};

DRIVER_INITIALIZE DriverEntry;

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);
    status = FltRegisterFilter(DriverObject, &Registration, &gFilter);
    if (NT_SUCCESS(status)) {
        status = FltStartFiltering(gFilter);
        if (!NT_SUCCESS(status))
            FltUnregisterFilter(gFilter);
    }
    return status;
}
