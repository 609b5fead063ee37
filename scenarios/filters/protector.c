/*
 * Protector: an object-callback driver paired with a minifilter, the shape
 * of an anti-tamper product protecting one process. DriverEntry reads the
 * REG_SZ Parameters\ProtectedImage (a file name, default notepad.exe),
 * registers a minifilter with a pre-create, and registers object callbacks
 * (ObRegisterCallbacks, SPEC 9) at altitude "1000" for handle creation and
 * duplication on processes. The pre-operation callback strips
 * PROCESS_TERMINATE, PROCESS_VM_WRITE and PROCESS_VM_OPERATION from every
 * user-mode handle another process asks for to a process running that image:
 * it can be neither killed nor written into. Kernel handles are left alone
 * (KernelHandle): drivers and the system keep what they asked for. The
 * minifilter half refuses, with STATUS_ACCESS_DENIED, any open for writing
 * (or deleting) of a file with that name by a process other than the
 * protected one, so its image cannot be replaced on disk either. Unload
 * removes the object callbacks (ObUnRegisterCallbacks) before the filter:
 * callbacks left registered would call into unloaded code.
 */
#include <fltKernel.h>

#define PROTECTOR_TAG 'tcrP'
#define STRIPPED_ACCESS (PROCESS_TERMINATE | PROCESS_VM_WRITE | PROCESS_VM_OPERATION)
#define WRITE_ACCESS                                                                               \
    (FILE_WRITE_DATA | FILE_APPEND_DATA | WRITE_DAC | WRITE_OWNER | DELETE | GENERIC_WRITE |       \
     GENERIC_ALL)

DRIVER_INITIALIZE DriverEntry;

typedef struct _PROTECTOR_DATA {
    PFLT_FILTER Filter;
    PVOID ObHandle; /* ObRegisterCallbacks' registration */
    UNICODE_STRING Image;
    WCHAR ImageBuffer[64];
} PROTECTOR_DATA;

static PROTECTOR_DATA gProtector;

/* PASSIVE_LEVEL (DriverEntry): the REG_SZ Parameters\ProtectedImage into
 * gProtector.Image, or notepad.exe when missing or too long. */
static VOID ReadProtectedImage(_In_ PUNICODE_STRING RegistryPath)
{
    WCHAR PathBuffer[256];
    UNICODE_STRING Path, ValueName = RTL_CONSTANT_STRING(L"ProtectedImage");
    OBJECT_ATTRIBUTES Attributes;
    HANDLE Key = NULL;
    ULONG InfoBuffer[(sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(gProtector.ImageBuffer)) /
                     sizeof(ULONG)];
    PKEY_VALUE_PARTIAL_INFORMATION Info = (PKEY_VALUE_PARTIAL_INFORMATION)InfoBuffer;
    ULONG ResultLength = 0;

    PAGED_CODE();
    RtlInitEmptyUnicodeString(&gProtector.Image, gProtector.ImageBuffer,
                              sizeof(gProtector.ImageBuffer));
    RtlAppendUnicodeToString(&gProtector.Image, L"notepad.exe");
    RtlInitEmptyUnicodeString(&Path, PathBuffer, sizeof(PathBuffer));
    if (!NT_SUCCESS(RtlAppendUnicodeStringToString(&Path, RegistryPath)) ||
        !NT_SUCCESS(RtlAppendUnicodeToString(&Path, L"\\Parameters")))
        return;
    InitializeObjectAttributes(&Attributes, &Path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL,
                               NULL);
    if (!NT_SUCCESS(ZwOpenKey(&Key, KEY_READ, &Attributes)))
        return;
    NTSTATUS Status = ZwQueryValueKey(Key, &ValueName, KeyValuePartialInformation, Info,
                                      sizeof(InfoBuffer), &ResultLength);
    ZwClose(Key);
    if (!NT_SUCCESS(Status) || Info->Type != REG_SZ || Info->DataLength < sizeof(WCHAR) ||
        Info->DataLength > sizeof(gProtector.ImageBuffer))
        return;
    USHORT Length = (USHORT)Info->DataLength;
    const WCHAR *Data = (const WCHAR *)Info->Data;
    while (Length >= sizeof(WCHAR) && Data[Length / sizeof(WCHAR) - 1] == L'\0')
        Length -= sizeof(WCHAR); /* REG_SZ data usually counts its terminator */
    if (Length == 0)
        return;
    RtlCopyMemory(gProtector.ImageBuffer, Data, Length);
    gProtector.Image.Length = Length;
}

/* Whether the last component of Path (after its last '\') is the protected
 * image's name, case-insensitively. */
static BOOLEAN IsProtectedName(_In_ PCUNICODE_STRING Path)
{
    USHORT Count = Path->Length / sizeof(WCHAR), Start = Count;
    while (Start > 0 && Path->Buffer[Start - 1] != L'\\')
        Start--;
    UNICODE_STRING Last;
    Last.Buffer = Path->Buffer + Start;
    Last.Length = Last.MaximumLength = (USHORT)((Count - Start) * sizeof(WCHAR));
    return RtlEqualUnicodeString(&Last, &gProtector.Image, TRUE);
}

/* PASSIVE_LEVEL: whether Process runs the protected image. */
static BOOLEAN IsProtectedProcess(_In_ PEPROCESS Process)
{
    PUNICODE_STRING ImageName = NULL;
    if (!NT_SUCCESS(SeLocateProcessImageName(Process, &ImageName)) || ImageName == NULL)
        return FALSE;
    BOOLEAN Protected = IsProtectedName(ImageName);
    ExFreePool(ImageName);
    return Protected;
}

/* ------------------------------------------------------------------------- */
/* The object callback                                                       */
/* ------------------------------------------------------------------------- */

/* PASSIVE_LEVEL, normal kernel APCs disabled, on the opening thread. It only
 * clears bits of DesiredAccess (adding some would be ignored, and reported
 * by fltsim's verifier as V32) and always returns OB_PREOP_SUCCESS. */
static OB_PREOP_CALLBACK_STATUS ProtectorPreOperation(_In_ PVOID RegistrationContext,
                                                      _Inout_ POB_PRE_OPERATION_INFORMATION Info)
{
    UNREFERENCED_PARAMETER(RegistrationContext);
    if (Info->ObjectType != *PsProcessType || Info->KernelHandle)
        return OB_PREOP_SUCCESS; /* kernel handles are the system's business */
    PEPROCESS Target = (PEPROCESS)Info->Object;
    if (Target == PsGetCurrentProcess() || !IsProtectedProcess(Target))
        return OB_PREOP_SUCCESS; /* a process may do what it likes to itself */
    PACCESS_MASK Desired = Info->Operation == OB_OPERATION_HANDLE_DUPLICATE
                               ? &Info->Parameters->DuplicateHandleInformation.DesiredAccess
                               : &Info->Parameters->CreateHandleInformation.DesiredAccess;
    if (*Desired & STRIPPED_ACCESS)
        DbgPrint("Protector: process %lu asked for 0x%lx to process %lu; stripped 0x%lx\n",
                 (ULONG)(ULONG_PTR)PsGetCurrentProcessId(), (ULONG)*Desired,
                 (ULONG)(ULONG_PTR)PsGetProcessId(Target), (ULONG)(*Desired & STRIPPED_ACCESS));
    *Desired &= ~(ACCESS_MASK)STRIPPED_ACCESS;
    return OB_PREOP_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* The minifilter                                                            */
/* ------------------------------------------------------------------------- */

static FLT_PREOP_CALLBACK_STATUS FLTAPI
ProtectorPreCreate(_Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
                   _Flt_CompletionContext_Outptr_ PVOID *CompletionContext)
{
    UNREFERENCED_PARAMETER(FltObjects);
    *CompletionContext = NULL;
    ACCESS_MASK Access = Data->Iopb->Parameters.Create.SecurityContext->DesiredAccess;
    ULONG Disposition = (Data->Iopb->Parameters.Create.Options >> 24) & 0xFF;
    BOOLEAN Writes = (Access & WRITE_ACCESS) != 0 || Disposition == FILE_SUPERSEDE ||
                     Disposition == FILE_OVERWRITE || Disposition == FILE_OVERWRITE_IF ||
                     FlagOn(Data->Iopb->Parameters.Create.Options, FILE_DELETE_ON_CLOSE);
    if (!Writes || !IsProtectedName(&Data->Iopb->TargetFileObject->FileName))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    if (IsProtectedProcess(PsGetCurrentProcess()))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    DbgPrint("Protector: process %lu may not write %wZ\n",
             (ULONG)(ULONG_PTR)PsGetCurrentProcessId(), &Data->Iopb->TargetFileObject->FileName);
    Data->IoStatus.Status = STATUS_ACCESS_DENIED;
    Data->IoStatus.Information = 0;
    return FLT_PREOP_COMPLETE;
}

static NTSTATUS FLTAPI ProtectorUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    if (gProtector.ObHandle != NULL) {
        ObUnRegisterCallbacks(gProtector.ObHandle);
        gProtector.ObHandle = NULL;
    }
    FltUnregisterFilter(gProtector.Filter);
    return STATUS_SUCCESS;
}

static const FLT_OPERATION_REGISTRATION Callbacks[] = {
    {IRP_MJ_CREATE, 0, ProtectorPreCreate, NULL},
    {IRP_MJ_OPERATION_END},
};

static const FLT_REGISTRATION FilterRegistration = {
    sizeof(FLT_REGISTRATION),
    FLT_REGISTRATION_VERSION,
    0,
    NULL,
    Callbacks,
    ProtectorUnload,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    ReadProtectedImage(RegistryPath);
    NTSTATUS Status = FltRegisterFilter(DriverObject, &FilterRegistration, &gProtector.Filter);
    if (!NT_SUCCESS(Status))
        return Status;

    OB_OPERATION_REGISTRATION Operations[] = {
        {PsProcessType, OB_OPERATION_HANDLE_CREATE | OB_OPERATION_HANDLE_DUPLICATE,
         ProtectorPreOperation, NULL},
    };
    OB_CALLBACK_REGISTRATION Registration = {OB_FLT_REGISTRATION_VERSION, 1,
                                             RTL_CONSTANT_STRING(L"1000"), NULL, Operations};
    /* The registration is copied: the arrays on this stack may go. */
    Status = ObRegisterCallbacks(&Registration, &gProtector.ObHandle);
    if (!NT_SUCCESS(Status)) {
        DbgPrint("Protector: ObRegisterCallbacks failed 0x%08lx\n", (ULONG)Status);
        FltUnregisterFilter(gProtector.Filter);
        return Status;
    }
    Status = FltStartFiltering(gProtector.Filter);
    if (!NT_SUCCESS(Status)) {
        ObUnRegisterCallbacks(gProtector.ObHandle);
        gProtector.ObHandle = NULL;
        FltUnregisterFilter(gProtector.Filter);
    }
    return Status;
}
