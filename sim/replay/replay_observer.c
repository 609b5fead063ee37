/*
 * The replay's observer: a minifilter at Process Monitor's altitude (385200)
 * that records the status the post-operation callback sees for the operation
 * a row represents. ProcMon is such a minifilter, so this is the status the
 * capture would have recorded (the requestor may see another: the I/O
 * manager turns a query-security STATUS_BUFFER_OVERFLOW into
 * STATUS_BUFFER_TOO_SMALL; a filter above 385200 may change it). It changes
 * nothing. One replay at a time per process (a minifilter's state is global).
 */
#include <stdatomic.h>

#include <fltKernel.h>

#include "replay_internal.h"

static PFLT_FILTER observer;
static atomic_int watched = -1; /* the major the current row represents, -1: none */
static atomic_bool seen;
static atomic_int observed;

static FLT_PREOP_CALLBACK_STATUS ObsPre(PFLT_CALLBACK_DATA Data, PCFLT_RELATED_OBJECTS FltObjects,
                                        PVOID *CompletionContext)
{
    UNREFERENCED_PARAMETER(Data);
    UNREFERENCED_PARAMETER(FltObjects);
    *CompletionContext = NULL;
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS ObsPost(PFLT_CALLBACK_DATA Data,
                                          PCFLT_RELATED_OBJECTS FltObjects,
                                          PVOID CompletionContext, FLT_POST_OPERATION_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(CompletionContext);
    UNREFERENCED_PARAMETER(Flags);
    /* The first operation of the watched major during the call is the row's. */
    if (atomic_load(&watched) == (int)Data->Iopb->MajorFunction && !atomic_exchange(&seen, true))
        atomic_store(&observed, (int)Data->IoStatus.Status);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static NTSTATUS ObsUnload(FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    FltUnregisterFilter(observer);
    observer = NULL;
    return STATUS_SUCCESS;
}

#define OBS(major) {major, 0, ObsPre, ObsPost, NULL}
static const FLT_OPERATION_REGISTRATION callbacks[] = {
    OBS(IRP_MJ_CREATE),
    OBS(IRP_MJ_CLOSE),
    OBS(IRP_MJ_READ),
    OBS(IRP_MJ_WRITE),
    OBS(IRP_MJ_QUERY_INFORMATION),
    OBS(IRP_MJ_SET_INFORMATION),
    OBS(IRP_MJ_QUERY_EA),
    OBS(IRP_MJ_SET_EA),
    OBS(IRP_MJ_FLUSH_BUFFERS),
    OBS(IRP_MJ_QUERY_VOLUME_INFORMATION),
    OBS(IRP_MJ_SET_VOLUME_INFORMATION),
    OBS(IRP_MJ_DIRECTORY_CONTROL),
    OBS(IRP_MJ_FILE_SYSTEM_CONTROL),
    OBS(IRP_MJ_DEVICE_CONTROL),
    OBS(IRP_MJ_LOCK_CONTROL),
    OBS(IRP_MJ_CLEANUP),
    OBS(IRP_MJ_QUERY_SECURITY),
    OBS(IRP_MJ_SET_SECURITY),
    OBS(IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION),
    OBS(IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION),
    OBS(IRP_MJ_ACQUIRE_FOR_MOD_WRITE),
    OBS(IRP_MJ_RELEASE_FOR_MOD_WRITE),
    OBS(IRP_MJ_ACQUIRE_FOR_CC_FLUSH),
    OBS(IRP_MJ_RELEASE_FOR_CC_FLUSH),
    OBS(IRP_MJ_NETWORK_QUERY_OPEN),
    {IRP_MJ_OPERATION_END, 0, NULL, NULL, NULL},
};

static const FLT_REGISTRATION registration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = callbacks,
    .FilterUnloadCallback = ObsUnload,
};

static NTSTATUS ObsDriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    NTSTATUS status = FltRegisterFilter(DriverObject, &registration, &observer);
    if (!NT_SUCCESS(status))
        return status;
    status = FltStartFiltering(observer);
    if (!NT_SUCCESS(status)) {
        FltUnregisterFilter(observer);
        observer = NULL;
    }
    return status;
}

NTSTATUS fltsim__replay_observer_load(fltsim_system *sys)
{
    static const struct fltsim_instance_def instance = {L"ProcMon Instance", L"385200", 0};
    static const struct fltsim_filter_def def = {L"ProcMon", L"ProcMon Instance", &instance, 1};
    fltsim_driver *drv;
    return fltsim_driver_load(sys, &def, ObsDriverEntry, &drv);
}

void fltsim__replay_observe(UCHAR major)
{
    atomic_store(&seen, false);
    atomic_store(&watched, (int)major);
}

bool fltsim__replay_observed(NTSTATUS *status)
{
    atomic_store(&watched, -1);
    if (!atomic_load(&seen))
        return false;
    *status = (NTSTATUS)atomic_load(&observed);
    return true;
}
