/*
 * PassThrough: the smallest useful minifilter. It registers a pre- and a
 * post-operation callback for every operation code a minifilter may register
 * (SPEC 1.3): the 26 registrable IRP majors, the seven FS-filter callbacks
 * (the section, modified-page-writer and cache-manager acquire/release pairs
 * and IRP_MJ_QUERY_OPEN) and the eight fast-I/O-only codes. It lets each
 * operation go on (FLT_PREOP_SUCCESS_WITH_CALLBACK) and finishes it in the
 * post (FLT_POSTOP_FINISHED_PROCESSING), printing a line for each so the
 * order of callbacks can be watched. What it teaches: the shape of
 * FLT_REGISTRATION and FLT_OPERATION_REGISTRATION (one routine may serve many
 * majors, listed once per major, SPEC 1.2); that IRP_MJ_SHUTDOWN may have a
 * pre but no post, so that pre must return FLT_PREOP_SUCCESS_NO_CALLBACK
 * (WITH_CALLBACK without a post is a bugcheck, SPEC 3.2); that IRP_MJ_POWER
 * and IRP_MJ_DEVICE_CHANGE cannot be registered at all; and the instance and
 * unload callbacks every filter should have.
 */
#include <fltKernel.h>

DRIVER_INITIALIZE DriverEntry;

static PFLT_FILTER gFilterHandle;

static const char *MajorName(UCHAR Major)
{
    static const char *const Names[] = {"CREATE",
                                        "CREATE_NAMED_PIPE",
                                        "CLOSE",
                                        "READ",
                                        "WRITE",
                                        "QUERY_INFORMATION",
                                        "SET_INFORMATION",
                                        "QUERY_EA",
                                        "SET_EA",
                                        "FLUSH_BUFFERS",
                                        "QUERY_VOLUME_INFORMATION",
                                        "SET_VOLUME_INFORMATION",
                                        "DIRECTORY_CONTROL",
                                        "FILE_SYSTEM_CONTROL",
                                        "DEVICE_CONTROL",
                                        "INTERNAL_DEVICE_CONTROL",
                                        "SHUTDOWN",
                                        "LOCK_CONTROL",
                                        "CLEANUP",
                                        "CREATE_MAILSLOT",
                                        "QUERY_SECURITY",
                                        "SET_SECURITY",
                                        "POWER",
                                        "SYSTEM_CONTROL",
                                        "DEVICE_CHANGE",
                                        "QUERY_QUOTA",
                                        "SET_QUOTA",
                                        "PNP"};
    if (Major <= IRP_MJ_MAXIMUM_FUNCTION)
        return Names[Major];
    switch (Major) {
    case IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION:
        return "ACQUIRE_FOR_SECTION_SYNCHRONIZATION";
    case IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION:
        return "RELEASE_FOR_SECTION_SYNCHRONIZATION";
    case IRP_MJ_ACQUIRE_FOR_MOD_WRITE:
        return "ACQUIRE_FOR_MOD_WRITE";
    case IRP_MJ_RELEASE_FOR_MOD_WRITE:
        return "RELEASE_FOR_MOD_WRITE";
    case IRP_MJ_ACQUIRE_FOR_CC_FLUSH:
        return "ACQUIRE_FOR_CC_FLUSH";
    case IRP_MJ_RELEASE_FOR_CC_FLUSH:
        return "RELEASE_FOR_CC_FLUSH";
    case IRP_MJ_QUERY_OPEN:
        return "QUERY_OPEN";
    case IRP_MJ_FAST_IO_CHECK_IF_POSSIBLE:
        return "FAST_IO_CHECK_IF_POSSIBLE";
    case IRP_MJ_NETWORK_QUERY_OPEN:
        return "NETWORK_QUERY_OPEN";
    case IRP_MJ_MDL_READ:
        return "MDL_READ";
    case IRP_MJ_MDL_READ_COMPLETE:
        return "MDL_READ_COMPLETE";
    case IRP_MJ_PREPARE_MDL_WRITE:
        return "PREPARE_MDL_WRITE";
    case IRP_MJ_MDL_WRITE_COMPLETE:
        return "MDL_WRITE_COMPLETE";
    case IRP_MJ_VOLUME_MOUNT:
        return "VOLUME_MOUNT";
    case IRP_MJ_VOLUME_DISMOUNT:
        return "VOLUME_DISMOUNT";
    default:
        return "(unknown operation)";
    }
}

static FLT_PREOP_CALLBACK_STATUS
PtPreOperation(_Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
               _Flt_CompletionContext_Outptr_ PVOID *CompletionContext)
{
    UNREFERENCED_PARAMETER(FltObjects);
    *CompletionContext = NULL;
    /* IRP_MJ_NETWORK_QUERY_OPEN's file object lives on the caller's stack and
     * must never be referenced (SPEC 1.3), not even for its name. */
    PFILE_OBJECT FileObject = Data->Iopb->MajorFunction == IRP_MJ_NETWORK_QUERY_OPEN
                                  ? NULL
                                  : Data->Iopb->TargetFileObject;
    DbgPrint("PassThrough: pre  %s%s %wZ\n", MajorName(Data->Iopb->MajorFunction),
             FLT_IS_FASTIO_OPERATION(Data) ? " (fast I/O)" : "",
             FileObject != NULL ? &FileObject->FileName : NULL);
    /* No post is registered for SHUTDOWN, so asking for one would be a
     * bugcheck (0xF5/0x66, SPEC 3.2). */
    if (Data->Iopb->MajorFunction == IRP_MJ_SHUTDOWN)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS PtPostOperation(_Inout_ PFLT_CALLBACK_DATA Data,
                                                  _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                                  _In_opt_ PVOID CompletionContext,
                                                  _In_ FLT_POST_OPERATION_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(CompletionContext);
    DbgPrint("PassThrough: post %s status 0x%08lx%s\n", MajorName(Data->Iopb->MajorFunction),
             (ULONG)Data->IoStatus.Status,
             (Flags & FLTFL_POST_OPERATION_DRAINING) ? " (draining)" : "");
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* Every operation a minifilter may register, in SPEC 1.3's order. Left out,
 * because registering them is an error: IRP_MJ_POWER and IRP_MJ_DEVICE_CHANGE
 * (file systems never see them) and a post for IRP_MJ_SHUTDOWN. */
static const FLT_OPERATION_REGISTRATION Callbacks[] = {
    {IRP_MJ_CREATE, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_CREATE_NAMED_PIPE, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_CLOSE, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_READ, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_WRITE, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_QUERY_INFORMATION, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_SET_INFORMATION, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_QUERY_EA, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_SET_EA, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_FLUSH_BUFFERS, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_QUERY_VOLUME_INFORMATION, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_SET_VOLUME_INFORMATION, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_DIRECTORY_CONTROL, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_FILE_SYSTEM_CONTROL, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_DEVICE_CONTROL, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_INTERNAL_DEVICE_CONTROL, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_SHUTDOWN, 0, PtPreOperation, NULL, NULL},
    {IRP_MJ_LOCK_CONTROL, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_CLEANUP, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_CREATE_MAILSLOT, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_QUERY_SECURITY, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_SET_SECURITY, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_SYSTEM_CONTROL, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_QUERY_QUOTA, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_SET_QUOTA, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_PNP, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_ACQUIRE_FOR_MOD_WRITE, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_RELEASE_FOR_MOD_WRITE, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_ACQUIRE_FOR_CC_FLUSH, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_RELEASE_FOR_CC_FLUSH, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_QUERY_OPEN, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_FAST_IO_CHECK_IF_POSSIBLE, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_NETWORK_QUERY_OPEN, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_MDL_READ, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_MDL_READ_COMPLETE, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_PREPARE_MDL_WRITE, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_MDL_WRITE_COMPLETE, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_VOLUME_MOUNT, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_VOLUME_DISMOUNT, 0, PtPreOperation, PtPostOperation, NULL},
    {IRP_MJ_OPERATION_END}};

static NTSTATUS PtInstanceSetup(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                _In_ FLT_INSTANCE_SETUP_FLAGS Flags,
                                _In_ DEVICE_TYPE VolumeDeviceType,
                                _In_ FLT_FILESYSTEM_TYPE VolumeFilesystemType)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(VolumeDeviceType);
    PAGED_CODE();
    DbgPrint("PassThrough: InstanceSetup flags 0x%lx, file system type %d\n", (ULONG)Flags,
             (int)VolumeFilesystemType);
    return STATUS_SUCCESS;
}

static NTSTATUS PtInstanceQueryTeardown(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                        _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    return STATUS_SUCCESS;
}

static NTSTATUS PtUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    FltUnregisterFilter(gFilterHandle);
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION FilterRegistration = {
    sizeof(FLT_REGISTRATION),
    FLT_REGISTRATION_VERSION,
    0,                       /* Flags */
    NULL,                    /* ContextRegistration */
    Callbacks,               /* OperationRegistration */
    PtUnload,                /* FilterUnloadCallback */
    PtInstanceSetup,         /* InstanceSetupCallback */
    PtInstanceQueryTeardown, /* InstanceQueryTeardownCallback */
    NULL,                    /* InstanceTeardownStartCallback */
    NULL,                    /* InstanceTeardownCompleteCallback */
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL};

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    NTSTATUS status = FltRegisterFilter(DriverObject, &FilterRegistration, &gFilterHandle);
    FLT_ASSERT(NT_SUCCESS(status));
    if (NT_SUCCESS(status)) {
        status = FltStartFiltering(gFilterHandle);
        if (!NT_SUCCESS(status))
            FltUnregisterFilter(gFilterHandle);
    }
    return status;
}
