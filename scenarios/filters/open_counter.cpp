/*
 * OpenCounter: a minifilter written in C++ the way kernel C++ is written. It
 * counts the files each process opens, in a table of per-process entries,
 * and when the REG_DWORD Parameters\MaxOpens under its service key is
 * nonzero it refuses a process's opens past that many with
 * STATUS_TOO_MANY_OPENED_FILES (FLT_PREOP_COMPLETE, SPEC 3.2). At unload it
 * prints the table.
 *
 * What it shows of C++ in the kernel:
 *   - one class whose static member functions are the callbacks, and whose
 *     static data members are the filter's globals. They are plain data with
 *     no constructors: a driver's global constructors are not run (there is
 *     no C runtime to run them), so everything starts in DriverEntry;
 *   - its own allocation functions: entries derive from PoolAllocated, whose
 *     class operator new and delete use ExAllocatePoolWithTag and
 *     ExFreePoolWithTag with the filter's tag. Kernel mode has no default
 *     operator new. They are noexcept, so `new` gives nullptr when pool runs
 *     out instead of throwing (there are no exceptions), and the caller
 *     checks. Class operators keep them the filter's own even where filters
 *     share one program, as fltsim's examples do (a filter that is a module
 *     of its own may define the global ones instead: tests/fixtures/cxx_pool.cpp);
 *   - RAII guards for the table's ERESOURCE: the destructor releases it on
 *     every way out of the scope;
 *   - C linkage for DriverEntry (the loader finds it by its C name) and the
 *     registration written positionally, in the WDK's field order.
 *
 * The lock: pre-create checks the process's count against the limit and
 * reserves an open in one step under the ERESOURCE (exclusive), so that two
 * creates racing at the limit cannot both pass; post-create (PASSIVE_LEVEL)
 * gives the reservation back with an interlocked decrement when the create
 * failed. Entries stay until unload, so the post may use the one pre handed
 * it as completion context without the lock. A process whose entry cannot be
 * allocated opens uncounted: the filter fails open, not the open.
 */
#include <fltKernel.h>

extern "C" {
DRIVER_INITIALIZE DriverEntry;
/* For tests: the opens counted and refused for a process since load (0 for
 * a process never seen, and after unload); opens let through uncounted. */
ULONG OpenCounterOpens(ULONG ProcessId);
ULONG OpenCounterRefused(ULONG ProcessId);
LONG OpenCounterUncounted(VOID);
}

namespace
{

constexpr ULONG OpenCounterTag = 'tCpO'; /* "OpCt" */

/* Objects of a class deriving from this come from pool of type Pool under
 * Tag. */
template <POOL_TYPE Pool, ULONG Tag> struct PoolAllocated {
    static void *operator new(size_t Size) noexcept
    {
        return ExAllocatePoolWithTag(Pool, Size, Tag);
    }
    static void operator delete(void *P) noexcept
    {
        if (P != nullptr)
            ExFreePoolWithTag(P, Tag);
    }
};

/* Holds an ERESOURCE for the guard's scope (IRQL <= APC_LEVEL). */
class ExclusiveLock
{
  public:
    explicit ExclusiveLock(ERESOURCE &Resource) : Held(Resource)
    {
        FltAcquireResourceExclusive(&Held);
    }
    ~ExclusiveLock()
    {
        FltReleaseResource(&Held);
    }
    ExclusiveLock(const ExclusiveLock &) = delete;
    ExclusiveLock &operator=(const ExclusiveLock &) = delete;

  private:
    ERESOURCE &Held;
};

class SharedLock
{
  public:
    explicit SharedLock(ERESOURCE &Resource) : Held(Resource)
    {
        FltAcquireResourceShared(&Held);
    }
    ~SharedLock()
    {
        FltReleaseResource(&Held);
    }
    SharedLock(const SharedLock &) = delete;
    SharedLock &operator=(const SharedLock &) = delete;

  private:
    ERESOURCE &Held;
};

/* A counter read whole, while others change it with interlocked operations. */
LONG ReadCounter(volatile LONG &Counter)
{
    return InterlockedCompareExchange(&Counter, 0, 0);
}

/* What the filter knows of one process. */
struct ProcessEntry : PoolAllocated<NonPagedPoolNx, OpenCounterTag> {
    explicit ProcessEntry(ULONG Id) : ProcessId(Id)
    {
    }

    LIST_ENTRY Links{}; /* on OpenCounter::Processes */
    const ULONG ProcessId;
    volatile LONG Opens = 0;   /* succeeded, or reserved by a create under way */
    volatile LONG Refused = 0; /* refused over the limit */
};

class OpenCounter
{
  public:
    static NTSTATUS Start(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);
    static ULONG Opens(ULONG ProcessId);
    static ULONG Refused(ULONG ProcessId);
    static LONG Uncounted()
    {
        return ReadCounter(UncountedOpens);
    }

  private:
    static FLT_PREOP_CALLBACK_STATUS
    PreCreate(PFLT_CALLBACK_DATA Data, PCFLT_RELATED_OBJECTS FltObjects, PVOID *CompletionContext);
    static FLT_POSTOP_CALLBACK_STATUS PostCreate(PFLT_CALLBACK_DATA Data,
                                                 PCFLT_RELATED_OBJECTS FltObjects,
                                                 PVOID CompletionContext,
                                                 FLT_POST_OPERATION_FLAGS Flags);
    static NTSTATUS Unload(FLT_FILTER_UNLOAD_FLAGS Flags);
    static NTSTATUS QueryTeardown(PCFLT_RELATED_OBJECTS FltObjects,
                                  FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags);
    static ProcessEntry *FindLocked(ULONG ProcessId);
    static ULONG ReadMaxOpens(PUNICODE_STRING RegistryPath);

    static const FLT_OPERATION_REGISTRATION Callbacks[];
    static const FLT_REGISTRATION Registration;

    static PFLT_FILTER Filter;
    static ERESOURCE Lock;       /* guards Processes (membership) */
    static LIST_ENTRY Processes; /* of ProcessEntry */
    static bool Started;         /* Lock and Processes are initialized */
    static ULONG MaxOpens;       /* 0: count only */
    static volatile LONG UncountedOpens;
};

PFLT_FILTER OpenCounter::Filter;
ERESOURCE OpenCounter::Lock;
LIST_ENTRY OpenCounter::Processes;
bool OpenCounter::Started;
ULONG OpenCounter::MaxOpens;
volatile LONG OpenCounter::UncountedOpens;

const FLT_OPERATION_REGISTRATION OpenCounter::Callbacks[] = {
    {IRP_MJ_CREATE, 0, PreCreate, PostCreate, nullptr}, {IRP_MJ_OPERATION_END}};

const FLT_REGISTRATION OpenCounter::Registration = {
    sizeof(FLT_REGISTRATION), /* Size */
    FLT_REGISTRATION_VERSION, /* Version */
    0,                        /* Flags */
    nullptr,                  /* ContextRegistration */
    Callbacks,                /* OperationRegistration */
    Unload,                   /* FilterUnloadCallback */
    nullptr,                  /* InstanceSetupCallback: attach everywhere */
    QueryTeardown,            /* InstanceQueryTeardownCallback */
};

/* The entry of ProcessId, or nullptr; the caller holds Lock. */
ProcessEntry *OpenCounter::FindLocked(ULONG ProcessId)
{
    for (PLIST_ENTRY Link = Processes.Flink; Link != &Processes; Link = Link->Flink) {
        ProcessEntry *Entry = CONTAINING_RECORD(Link, ProcessEntry, Links);
        if (Entry->ProcessId == ProcessId)
            return Entry;
    }
    return nullptr;
}

FLT_PREOP_CALLBACK_STATUS OpenCounter::PreCreate(PFLT_CALLBACK_DATA Data,
                                                 PCFLT_RELATED_OBJECTS FltObjects,
                                                 PVOID *CompletionContext)
{
    UNREFERENCED_PARAMETER(FltObjects);
    ULONG ProcessId = FltGetRequestorProcessId(Data);

    ExclusiveLock Guard(Lock);
    ProcessEntry *Entry = FindLocked(ProcessId);
    if (Entry == nullptr) {
        Entry = new ProcessEntry(ProcessId);
        if (Entry == nullptr) {
            InterlockedIncrement(&UncountedOpens);
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        }
        InsertTailList(&Processes, &Entry->Links);
    }
    if (MaxOpens != 0 && (ULONG)ReadCounter(Entry->Opens) >= MaxOpens) {
        InterlockedIncrement(&Entry->Refused);
        DbgPrint("OpenCounter: process %lu may open %lu files; refused\n", ProcessId, MaxOpens);
        Data->IoStatus.Status = STATUS_TOO_MANY_OPENED_FILES;
        Data->IoStatus.Information = 0;
        return FLT_PREOP_COMPLETE;
    }
    InterlockedIncrement(&Entry->Opens); /* reserved; the post gives it back on failure */
    *CompletionContext = Entry;
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

/* Also while draining: giving a reservation back is all it does. */
FLT_POSTOP_CALLBACK_STATUS OpenCounter::PostCreate(PFLT_CALLBACK_DATA Data,
                                                   PCFLT_RELATED_OBJECTS FltObjects,
                                                   PVOID CompletionContext,
                                                   FLT_POST_OPERATION_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    auto *Entry = static_cast<ProcessEntry *>(CompletionContext);
    if (!NT_SUCCESS(Data->IoStatus.Status) || Data->IoStatus.Status == STATUS_REPARSE)
        InterlockedDecrement(&Entry->Opens);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

NTSTATUS OpenCounter::QueryTeardown(PCFLT_RELATED_OBJECTS FltObjects,
                                    FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    return STATUS_SUCCESS;
}

/* FltUnregisterFilter returns when no callback of the filter runs any more,
 * so the table is the unload's alone after it. */
NTSTATUS OpenCounter::Unload(FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    FltUnregisterFilter(Filter);
    {
        ExclusiveLock Guard(Lock);
        while (!IsListEmpty(&Processes)) {
            ProcessEntry *Entry =
                CONTAINING_RECORD(RemoveHeadList(&Processes), ProcessEntry, Links);
            DbgPrint("OpenCounter: process %lu opened %ld files, %ld refused\n", Entry->ProcessId,
                     ReadCounter(Entry->Opens), ReadCounter(Entry->Refused));
            delete Entry;
        }
        Started = false;
    }
    ExDeleteResourceLite(&Lock);
    return STATUS_SUCCESS;
}

ULONG OpenCounter::Opens(ULONG ProcessId)
{
    if (!Started)
        return 0;
    SharedLock Guard(Lock);
    ProcessEntry *Entry = FindLocked(ProcessId);
    return Entry != nullptr ? (ULONG)ReadCounter(Entry->Opens) : 0;
}

ULONG OpenCounter::Refused(ULONG ProcessId)
{
    if (!Started)
        return 0;
    SharedLock Guard(Lock);
    ProcessEntry *Entry = FindLocked(ProcessId);
    return Entry != nullptr ? (ULONG)ReadCounter(Entry->Refused) : 0;
}

/* PASSIVE_LEVEL: the REG_DWORD Parameters\MaxOpens under the service key; a
 * missing key or value, or one that is not a 4-byte REG_DWORD, means 0. */
ULONG OpenCounter::ReadMaxOpens(PUNICODE_STRING RegistryPath)
{
    WCHAR PathBuffer[256];
    UNICODE_STRING Path;
    UNICODE_STRING ValueName = RTL_CONSTANT_STRING(L"MaxOpens");
    OBJECT_ATTRIBUTES Attributes;
    HANDLE Key = nullptr;
    /* ULONGs, so the structure in it is aligned. */
    ULONG InfoBuffer[(sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(ULONG) + 3) / sizeof(ULONG)];
    auto *Info = reinterpret_cast<PKEY_VALUE_PARTIAL_INFORMATION>(InfoBuffer);
    ULONG ResultLength = 0;
    ULONG Value = 0;

    PAGED_CODE();
    RtlInitEmptyUnicodeString(&Path, PathBuffer, sizeof(PathBuffer));
    if (!NT_SUCCESS(RtlAppendUnicodeStringToString(&Path, RegistryPath)) ||
        !NT_SUCCESS(RtlAppendUnicodeToString(&Path, L"\\Parameters")))
        return 0;
    InitializeObjectAttributes(&Attributes, &Path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
                               nullptr, nullptr);
    if (!NT_SUCCESS(ZwOpenKey(&Key, KEY_READ, &Attributes)))
        return 0;
    NTSTATUS Status = ZwQueryValueKey(Key, &ValueName, KeyValuePartialInformation, Info,
                                      sizeof(InfoBuffer), &ResultLength);
    if (NT_SUCCESS(Status) && Info->Type == REG_DWORD && Info->DataLength == sizeof(ULONG))
        RtlCopyMemory(&Value, Info->Data, sizeof(ULONG));
    ZwClose(Key);
    return Value;
}

NTSTATUS OpenCounter::Start(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    InitializeListHead(&Processes);
    UncountedOpens = 0;
    MaxOpens = ReadMaxOpens(RegistryPath);
    if (MaxOpens != 0)
        DbgPrint("OpenCounter: each process may open %lu files\n", MaxOpens);
    NTSTATUS Status = ExInitializeResourceLite(&Lock);
    if (!NT_SUCCESS(Status))
        return Status;
    Started = true;
    Status = FltRegisterFilter(DriverObject, &Registration, &Filter);
    if (NT_SUCCESS(Status)) {
        Status = FltStartFiltering(Filter);
        if (!NT_SUCCESS(Status))
            FltUnregisterFilter(Filter);
    }
    if (!NT_SUCCESS(Status)) {
        Started = false;
        ExDeleteResourceLite(&Lock);
    }
    return Status;
}

} // namespace

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    return OpenCounter::Start(DriverObject, RegistryPath);
}

ULONG OpenCounterOpens(ULONG ProcessId)
{
    return OpenCounter::Opens(ProcessId);
}

ULONG OpenCounterRefused(ULONG ProcessId)
{
    return OpenCounter::Refused(ProcessId);
}

LONG OpenCounterUncounted(VOID)
{
    return OpenCounter::Uncounted();
}
