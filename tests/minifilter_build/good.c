/*
 * A minifilter in WDK style, built by fltsim_add_minifilter in a project of
 * its own (tests/minifilter_build): 16-bit wide strings, a pool tag, an
 * alloc_text pragma, the registration arrays' terminators, and DBG as the
 * build configuration sets it. fltsim loads it (run.cmake).
 */
#include <fltKernel.h>

#if !defined(DBG) || DBG != FLTSIM_EXPECT_DBG
#error "DBG is not what this build configuration sets"
#endif

_Static_assert(sizeof(L"ab") == 3 * sizeof(WCHAR) && sizeof(WCHAR) == 2, "16-bit wide strings");

DRIVER_INITIALIZE DriverEntry;
static NTSTATUS GoodUnload(FLT_FILTER_UNLOAD_FLAGS Flags);

#pragma alloc_text(INIT, DriverEntry)
#pragma alloc_text(PAGE, GoodUnload)

#define GOOD_TAG 'dooG'

static PFLT_FILTER gFilter;

static const FLT_OPERATION_REGISTRATION Callbacks[] = {{IRP_MJ_OPERATION_END}};

static NTSTATUS GoodUnload(FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    FltUnregisterFilter(gFilter);
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION Registration = {
    sizeof(FLT_REGISTRATION), FLT_REGISTRATION_VERSION, 0, NULL, Callbacks, GoodUnload};

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    PVOID p = ExAllocatePoolWithTag(NonPagedPool, 16, GOOD_TAG);
    if (p == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    ExFreePoolWithTag(p, GOOD_TAG);
    NTSTATUS status = FltRegisterFilter(DriverObject, &Registration, &gFilter);
    if (!NT_SUCCESS(status))
        return status;
    status = FltStartFiltering(gFilter);
    if (!NT_SUCCESS(status))
        FltUnregisterFilter(gFilter);
    return status;
}
