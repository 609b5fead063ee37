/*
 * ExeGuard: a minifilter that asks its user-mode service whether to allow
 * each open of a .exe, the shape of Microsoft's scanner sample with a
 * decision by name. DriverEntry creates the port \ExeGuardPort (one
 * connection, the default security descriptor); ConnectNotify records the
 * service's process, whose own opens are never asked about (as scanner
 * does), and DisconnectNotify closes the client port. Pre-create sends the
 * normalized name with a timeout (Parameters\TimeoutMs, default 3000) and
 * completes the create with STATUS_ACCESS_DENIED when the reply says no.
 * With no service connected, or when the send fails or times out (the
 * service hung, or died while the open waited), Parameters\FailClosed
 * decides (a DWORD, default 0: allow).
 *
 * Why pre-create and not FltCancelFileOpen in post-create: the decision
 * needs the name only, not the opened file (scanner reads the file, so it
 * must let the open happen and cancel it after). Refusing before the file
 * system sees the create means nothing is opened, created, superseded or
 * truncated for a create that is denied, and there is nothing to undo.
 */
#include <fltKernel.h>

#include "exeguard.h"

#define EXEGUARD_TAG 'dGxE'

DRIVER_INITIALIZE DriverEntry;

typedef struct _EXEGUARD_DATA {
    PFLT_FILTER Filter;
    PFLT_PORT ServerPort;
    PFLT_PORT ClientPort;  /* the service's connection; FltSendMessage reads it */
    LONG ServiceProcessId; /* 0: no service connected */
    ULONG TimeoutMs;       /* Parameters\TimeoutMs */
    BOOLEAN FailClosed;    /* Parameters\FailClosed */
} EXEGUARD_DATA;

static EXEGUARD_DATA gExeGuard;

/* PASSIVE_LEVEL (DriverEntry): the REG_DWORD Parameters\Name under the
 * service key, or Default when the key, the value or its type is missing. */
static ULONG ReadDword(_In_ PUNICODE_STRING RegistryPath, _In_ PCWSTR Name, _In_ ULONG Default)
{
    WCHAR PathBuffer[256];
    UNICODE_STRING Path, ValueName;
    OBJECT_ATTRIBUTES Attributes;
    HANDLE Key = NULL;
    ULONG InfoBuffer[(sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(ULONG) + 3) / sizeof(ULONG)];
    PKEY_VALUE_PARTIAL_INFORMATION Info = (PKEY_VALUE_PARTIAL_INFORMATION)InfoBuffer;
    ULONG ResultLength = 0, Value = Default;

    PAGED_CODE();
    RtlInitUnicodeString(&ValueName, Name);
    RtlInitEmptyUnicodeString(&Path, PathBuffer, sizeof(PathBuffer));
    if (!NT_SUCCESS(RtlAppendUnicodeStringToString(&Path, RegistryPath)) ||
        !NT_SUCCESS(RtlAppendUnicodeToString(&Path, L"\\Parameters")))
        return Default;
    InitializeObjectAttributes(&Attributes, &Path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL,
                               NULL);
    if (!NT_SUCCESS(ZwOpenKey(&Key, KEY_READ, &Attributes)))
        return Default;
    NTSTATUS Status = ZwQueryValueKey(Key, &ValueName, KeyValuePartialInformation, Info,
                                      sizeof(InfoBuffer), &ResultLength);
    ZwClose(Key);
    if (NT_SUCCESS(Status) && Info->Type == REG_DWORD && Info->DataLength == sizeof(ULONG))
        RtlCopyMemory(&Value, Info->Data, sizeof(ULONG));
    return Value;
}

/* ------------------------------------------------------------------------- */
/* The port                                                                  */
/* ------------------------------------------------------------------------- */

static NTSTATUS FLTAPI ExeGuardConnect(_In_ PFLT_PORT ClientPort, _In_opt_ PVOID ServerPortCookie,
                                       _In_reads_bytes_opt_(SizeOfContext) PVOID ConnectionContext,
                                       _In_ ULONG SizeOfContext,
                                       _Outptr_result_maybenull_ PVOID *ConnectionCookie)
{
    UNREFERENCED_PARAMETER(ServerPortCookie);
    UNREFERENCED_PARAMETER(ConnectionContext);
    UNREFERENCED_PARAMETER(SizeOfContext);
    PAGED_CODE();
    /* One connection (MaxConnections 1): no other ConnectNotify runs now. */
    gExeGuard.ClientPort = ClientPort;
    InterlockedExchange(&gExeGuard.ServiceProcessId, (LONG)(ULONG_PTR)PsGetCurrentProcessId());
    *ConnectionCookie = NULL;
    DbgPrint("ExeGuard: service connected (process %lu)\n",
             (ULONG)InterlockedCompareExchange(&gExeGuard.ServiceProcessId, 0, 0));
    return STATUS_SUCCESS;
}

static VOID FLTAPI ExeGuardDisconnect(_In_opt_ PVOID ConnectionCookie)
{
    UNREFERENCED_PARAMETER(ConnectionCookie);
    PAGED_CODE();
    InterlockedExchange(&gExeGuard.ServiceProcessId, 0);
    /* Sends in flight see the port gone (STATUS_PORT_DISCONNECTED). */
    FltCloseClientPort(gExeGuard.Filter, &gExeGuard.ClientPort);
    DbgPrint("ExeGuard: service disconnected\n");
}

/* ------------------------------------------------------------------------- */
/* The decision                                                              */
/* ------------------------------------------------------------------------- */

/* PASSIVE_LEVEL: asks the service about Name; TRUE to allow. */
static BOOLEAN ExeGuardAsk(_In_ PCUNICODE_STRING Name, _In_ ULONG ProcessId)
{
    if (InterlockedCompareExchange(&gExeGuard.ServiceProcessId, 0, 0) == 0) {
        DbgPrint("ExeGuard: no service for %wZ; %s\n", Name,
                 gExeGuard.FailClosed ? "denied" : "allowed");
        return !gExeGuard.FailClosed;
    }
    PEXEGUARD_NOTIFICATION Notification =
        ExAllocatePoolZero(NonPagedPoolNx, sizeof(EXEGUARD_NOTIFICATION), EXEGUARD_TAG);
    if (Notification == NULL)
        return !gExeGuard.FailClosed;
    Notification->ProcessId = ProcessId;
    Notification->NameLength = min(Name->Length, (ULONG)sizeof(Notification->Name));
    RtlCopyMemory(Notification->Name, Name->Buffer, Notification->NameLength);

    EXEGUARD_REPLY Reply = {0};
    ULONG ReplyLength = sizeof(Reply);
    LARGE_INTEGER Timeout;
    Timeout.QuadPart = -10000LL * (LONGLONG)gExeGuard.TimeoutMs;
    NTSTATUS Status = FltSendMessage(gExeGuard.Filter, &gExeGuard.ClientPort, Notification,
                                     sizeof(EXEGUARD_NOTIFICATION), &Reply, &ReplyLength, &Timeout);
    ExFreePoolWithTag(Notification, EXEGUARD_TAG);
    /* STATUS_TIMEOUT is a success code: only STATUS_SUCCESS is an answer. */
    if (Status == STATUS_SUCCESS && ReplyLength >= sizeof(Reply))
        return Reply.Allow != 0;
    DbgPrint("ExeGuard: no answer for %wZ (0x%08lx); %s\n", Name, (ULONG)Status,
             gExeGuard.FailClosed ? "denied" : "allowed");
    return !gExeGuard.FailClosed;
}

static FLT_PREOP_CALLBACK_STATUS FLTAPI
ExeGuardPreCreate(_Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
                  _Flt_CompletionContext_Outptr_ PVOID *CompletionContext)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(CompletionContext);
    PAGED_CODE();
    if (FlagOn(Data->Iopb->Parameters.Create.Options, FILE_DIRECTORY_FILE) ||
        FlagOn(Data->Iopb->OperationFlags, SL_OPEN_PAGING_FILE) ||
        FlagOn(Data->Iopb->TargetFileObject->Flags, FO_VOLUME_OPEN))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    ULONG ProcessId = FltGetRequestorProcessId(Data);
    /* The service's own opens: asking it about them could deadlock it. */
    if ((LONG)ProcessId == InterlockedCompareExchange(&gExeGuard.ServiceProcessId, 0, 0))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;

    PFLT_FILE_NAME_INFORMATION NameInfo = NULL;
    NTSTATUS Status = FltGetFileNameInformation(
        Data, FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_DEFAULT, &NameInfo);
    if (!NT_SUCCESS(Status))
        return FLT_PREOP_SUCCESS_NO_CALLBACK; /* no name, no decision: the file system answers */
    BOOLEAN Allow = TRUE;
    UNICODE_STRING Exe = RTL_CONSTANT_STRING(L"exe");
    if (NT_SUCCESS(FltParseFileNameInformation(NameInfo)) &&
        RtlEqualUnicodeString(&NameInfo->Extension, &Exe, TRUE))
        Allow = ExeGuardAsk(&NameInfo->Name, ProcessId);
    FltReleaseFileNameInformation(NameInfo);
    if (Allow)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    Data->IoStatus.Status = STATUS_ACCESS_DENIED;
    Data->IoStatus.Information = 0;
    return FLT_PREOP_COMPLETE;
}

/* ------------------------------------------------------------------------- */
/* Registration                                                              */
/* ------------------------------------------------------------------------- */

static NTSTATUS FLTAPI ExeGuardUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    FltCloseCommunicationPort(gExeGuard.ServerPort);
    FltUnregisterFilter(gExeGuard.Filter);
    return STATUS_SUCCESS;
}

static const FLT_OPERATION_REGISTRATION gCallbacks[] = {{IRP_MJ_CREATE, 0, ExeGuardPreCreate, NULL},
                                                        {IRP_MJ_OPERATION_END}};

static const FLT_REGISTRATION gRegistration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = gCallbacks,
    .FilterUnloadCallback = ExeGuardUnload,
};

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    PSECURITY_DESCRIPTOR Sd = NULL;
    OBJECT_ATTRIBUTES Attributes;
    UNICODE_STRING PortName = RTL_CONSTANT_STRING(EXEGUARD_PORT_NAME);

    RtlZeroMemory(&gExeGuard, sizeof(gExeGuard));
    gExeGuard.TimeoutMs = ReadDword(RegistryPath, L"TimeoutMs", 3000);
    gExeGuard.FailClosed = ReadDword(RegistryPath, L"FailClosed", 0) != 0;

    NTSTATUS Status = FltRegisterFilter(DriverObject, &gRegistration, &gExeGuard.Filter);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = FltBuildDefaultSecurityDescriptor(&Sd, FLT_PORT_ALL_ACCESS);
    if (NT_SUCCESS(Status)) {
        InitializeObjectAttributes(&Attributes, &PortName, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
                                   NULL, Sd);
        Status = FltCreateCommunicationPort(gExeGuard.Filter, &gExeGuard.ServerPort, &Attributes,
                                            NULL, ExeGuardConnect, ExeGuardDisconnect, NULL, 1);
        FltFreeSecurityDescriptor(Sd);
    }
    if (NT_SUCCESS(Status)) {
        Status = FltStartFiltering(gExeGuard.Filter);
        if (!NT_SUCCESS(Status))
            FltCloseCommunicationPort(gExeGuard.ServerPort);
    }
    if (!NT_SUCCESS(Status))
        FltUnregisterFilter(gExeGuard.Filter);
    return Status;
}
