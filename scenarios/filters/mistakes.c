/*
 * Mistakes: a minifilter that makes, on purpose, one of the classic mistakes
 * with contexts (SPEC 7.1, 7.2) and file names (SPEC 7.3), so that a learner
 * sees what fltsim's verifier says about it (SPEC 10: V19, V21, V22, V29).
 * The REG_SZ value Parameters\Mistake under the service key, read once in
 * DriverEntry, chooses it; without the value the filter makes none.
 *
 * What it does when it makes none: its post-create gives each opened stream
 * a stream context (allocated, set with FLT_SET_CONTEXT_KEEP_IF_EXISTS, its
 * allocation reference released) and prints the file's normalized name; its
 * pre-read counts the stream's reads in that context (get, count, release);
 * FltMgr calls the context's cleanup callback when the stream goes, which
 * prints the count. Each mistake below is one change to that code, with a
 * comment saying what is wrong, what Windows does, and the fix:
 *
 *   context-in-precreate  FltSetStreamContext in pre-create           V19
 *   context-overrelease   FltReleaseContext twice in pre-read         V21
 *   context-leak          FltGetStreamContext never released          V21 at unload
 *   name-double-release   FltReleaseFileNameInformation twice         V22
 *   name-leak             FltGetFileNameInformation never released    V22 at unload
 *   name-in-paging-io     a name query in a paging read               V29
 *   name-at-dispatch      a name query in a post-read at DISPATCH     V29
 *   zw-recursion          ZwCreateFile of the same file in pre-create  (none: the
 *                         trace shows its pre-create running again)
 *
 * An unknown value fails DriverEntry (STATUS_INVALID_PARAMETER) after
 * printing the accepted ones.
 */
#include <fltKernel.h>

DRIVER_INITIALIZE DriverEntry;

#define MISTAKES_TAG 'tsiM' /* "Mist" */

typedef enum _MISTAKE {
    MistakeNone,
    MistakeContextInPreCreate,
    MistakeContextOverRelease,
    MistakeContextLeak,
    MistakeNameDoubleRelease,
    MistakeNameLeak,
    MistakeNameInPagingIo,
    MistakeNameAtDispatch,
    MistakeZwRecursion,
} MISTAKE;

static const struct {
    PCWSTR Name;
    MISTAKE Mistake;
} gMistakeNames[] = {
    {L"none", MistakeNone},
    {L"context-in-precreate", MistakeContextInPreCreate},
    {L"context-overrelease", MistakeContextOverRelease},
    {L"context-leak", MistakeContextLeak},
    {L"name-double-release", MistakeNameDoubleRelease},
    {L"name-leak", MistakeNameLeak},
    {L"name-in-paging-io", MistakeNameInPagingIo},
    {L"name-at-dispatch", MistakeNameAtDispatch},
    {L"zw-recursion", MistakeZwRecursion},
};

typedef struct _MISTAKES_STREAM_CONTEXT {
    volatile LONG Reads;
} MISTAKES_STREAM_CONTEXT, *PMISTAKES_STREAM_CONTEXT;

static PFLT_FILTER gMistakesFilter;
static MISTAKE gMistake;

/* zw-recursion's guard: the threads inside the filter's own ZwCreateFile
 * (a driver has no thread-local storage; a small table keyed by thread, under
 * a spin lock, is the usual substitute). */
#define MISTAKES_MAX_NESTED 16
static KSPIN_LOCK gNestedLock;
static PETHREAD gNested[MISTAKES_MAX_NESTED];

static VOID MistakesContextCleanup(_In_ PFLT_CONTEXT Context, _In_ FLT_CONTEXT_TYPE ContextType)
{
    UNREFERENCED_PARAMETER(ContextType);
    PMISTAKES_STREAM_CONTEXT Stream = Context;
    DbgPrint("Mistakes: a stream context goes after %ld reads\n", Stream->Reads);
}

/* A new stream context (one reference: the caller's), or NULL. */
static PMISTAKES_STREAM_CONTEXT MistakesNewContext(VOID)
{
    PMISTAKES_STREAM_CONTEXT Stream = NULL;
    NTSTATUS Status = FltAllocateContext(gMistakesFilter, FLT_STREAM_CONTEXT, sizeof(*Stream),
                                         NonPagedPoolNx, (PFLT_CONTEXT *)&Stream);
    if (!NT_SUCCESS(Status))
        return NULL;
    Stream->Reads = 0;
    return Stream;
}

/* Sets Stream on the stream of FileObject unless it has one, and drops the
 * caller's reference either way. */
static VOID MistakesSetContext(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                               _In_ PMISTAKES_STREAM_CONTEXT Stream)
{
    PFLT_CONTEXT Existing = NULL;
    NTSTATUS Status = FltSetStreamContext(FltObjects->Instance, FltObjects->FileObject,
                                          FLT_SET_CONTEXT_KEEP_IF_EXISTS, Stream, &Existing);
    if (Status == STATUS_FLT_CONTEXT_ALREADY_DEFINED)
        FltReleaseContext(Existing); /* the stream has one: ours goes below */
    FltReleaseContext(Stream);       /* set: the stream holds its own reference */
}

/* TRUE when this thread is not inside the filter's own ZwCreateFile yet, and
 * now is (MistakesLeaveNested undoes it); FALSE when it already is, or the
 * table is full. */
static BOOLEAN MistakesEnterNested(VOID)
{
    PETHREAD Thread = PsGetCurrentThread();
    ULONG Free = MISTAKES_MAX_NESTED;
    KIRQL OldIrql;
    KeAcquireSpinLock(&gNestedLock, &OldIrql);
    for (ULONG i = 0; i < MISTAKES_MAX_NESTED; i++) {
        if (gNested[i] == Thread) {
            KeReleaseSpinLock(&gNestedLock, OldIrql);
            return FALSE;
        }
        if (gNested[i] == NULL && Free == MISTAKES_MAX_NESTED)
            Free = i;
    }
    if (Free < MISTAKES_MAX_NESTED)
        gNested[Free] = Thread;
    KeReleaseSpinLock(&gNestedLock, OldIrql);
    return Free < MISTAKES_MAX_NESTED;
}

static VOID MistakesLeaveNested(VOID)
{
    PETHREAD Thread = PsGetCurrentThread();
    KIRQL OldIrql;
    KeAcquireSpinLock(&gNestedLock, &OldIrql);
    for (ULONG i = 0; i < MISTAKES_MAX_NESTED; i++)
        if (gNested[i] == Thread)
            gNested[i] = NULL;
    KeReleaseSpinLock(&gNestedLock, OldIrql);
}

/*
 * MISTAKE zw-recursion: opening the file being opened with ZwCreateFile from
 * the pre-create (to look at it before the user gets it). Zw* routines start
 * at the top of the stack: the open comes back into this filter's own
 * pre-create, which opens again, and so on. On Windows each round nests
 * another create on the same kernel stack (a few KB each) until it
 * overflows: bugcheck 0x7F (UNEXPECTED_KERNEL_MODE_TRAP, double fault) or
 * 0x2B (PANIC_STACK_SWITCH). Filters above see creates that are not the
 * user's, and a filter below that holds a lock during its pre-create
 * deadlocks against itself. So that the lesson does not crash fltsim, this
 * one is guarded: a thread already inside its own ZwCreateFile makes no
 * second one, so it recurses exactly once; the trace shows the nested create
 * entering the whole stack from the top and Mistakes' pre-create running for
 * it. (A guard like this is what some real filters ship with; it hides the
 * mistake, it does not fix it: every filter above still sees the extra I/O.)
 * FIX: FltCreateFileEx2 with this filter's Instance, which sends the open
 * only to the instances below (Scanner, scanner.c), from the post-create,
 * once the file system has opened the file.
 */
static VOID MistakesOpenAgain(_In_ PFLT_CALLBACK_DATA Data)
{
    if (!MistakesEnterNested())
        return; /* the guard: this create is our own */
    PFLT_FILE_NAME_INFORMATION NameInfo;
    NTSTATUS Status = FltGetFileNameInformation(
        Data, FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_DEFAULT, &NameInfo);
    if (NT_SUCCESS(Status)) {
        OBJECT_ATTRIBUTES Attributes;
        IO_STATUS_BLOCK IoStatus;
        HANDLE Handle = NULL;
        InitializeObjectAttributes(&Attributes, &NameInfo->Name,
                                   OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
        Status = ZwCreateFile(&Handle, FILE_READ_ATTRIBUTES | SYNCHRONIZE, &Attributes, &IoStatus,
                              NULL, FILE_ATTRIBUTE_NORMAL,
                              FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN,
                              FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0);
        DbgPrint("Mistakes: ZwCreateFile of %wZ from pre-create: 0x%08lx\n", &NameInfo->Name,
                 (ULONG)Status);
        if (NT_SUCCESS(Status))
            ZwClose(Handle);
        FltReleaseFileNameInformation(NameInfo);
    }
    MistakesLeaveNested();
}

static FLT_PREOP_CALLBACK_STATUS
MistakesPreCreate(_Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
                  _Flt_CompletionContext_Outptr_ PVOID *CompletionContext)
{
    *CompletionContext = NULL;
    if (gMistake == MistakeZwRecursion && !FlagOn(FltObjects->FileObject->Flags, FO_VOLUME_OPEN) &&
        !FlagOn(Data->Iopb->Parameters.Create.Options, FILE_DIRECTORY_FILE))
        MistakesOpenAgain(Data);
    if (gMistake != MistakeContextInPreCreate)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    /*
     * MISTAKE context-in-precreate: setting the stream context in pre-create.
     * The file object is not open yet: the file system has not chosen its
     * stream (FsContext is NULL), so there is nothing to attach a stream,
     * file or stream-handle context to. On Windows the call fails and a
     * filter that ignores the status silently tracks nothing; fltsim reports
     * V19 and fails the call with STATUS_NOT_SUPPORTED.
     * FIX: allocate the context here if it must be ready early, hand it to
     * the post-create as the CompletionContext, and set it in post-create
     * once the create has succeeded (the SwapBuffers and ctx samples do so).
     */
    PMISTAKES_STREAM_CONTEXT Stream = MistakesNewContext();
    if (Stream != NULL) {
        NTSTATUS Status = FltSetStreamContext(FltObjects->Instance, FltObjects->FileObject,
                                              FLT_SET_CONTEXT_KEEP_IF_EXISTS, Stream, NULL);
        DbgPrint("Mistakes: FltSetStreamContext in pre-create: 0x%08lx\n", (ULONG)Status);
        FltReleaseContext(Stream);
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

/* Prints the file's normalized name; the name mistakes are made here. */
static VOID MistakesPrintName(_In_ PFLT_CALLBACK_DATA Data)
{
    PFLT_FILE_NAME_INFORMATION NameInfo;
    NTSTATUS Status = FltGetFileNameInformation(
        Data, FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_DEFAULT, &NameInfo);
    if (!NT_SUCCESS(Status))
        return;
    DbgPrint("Mistakes: opened %wZ\n", &NameInfo->Name);
    if (gMistake == MistakeNameLeak) {
        /*
         * MISTAKE name-leak: the name information is never released. Each
         * FltGetFileNameInformation (and FltReferenceFileNameInformation)
         * hands out a reference the caller must drop with
         * FltReleaseFileNameInformation. On Windows the block stays in paged
         * pool for good (each open leaks another when the name is not
         * cached); Driver Verifier's filter-manager checks report the leaked
         * references at unload. fltsim reports V22 at unload, naming the
         * line that obtained it.
         * FIX: release on every path, as below.
         */
        return;
    }
    FltReleaseFileNameInformation(NameInfo);
    if (gMistake == MistakeNameDoubleRelease) {
        /*
         * MISTAKE name-double-release: released a second time (typically once
         * in an error path and again at the end). The block is shared (FltMgr
         * caches it and hands it to every caller asking for the same name): a
         * second release drops someone else's reference. On Windows: bugcheck
         * 0xF5 (FLTMGR_FILE_SYSTEM), parameter 0x68, or a use after free in
         * another filter later; fltsim reports V22 and ignores the release.
         * FIX: one release per reference; set the pointer to NULL after it.
         */
        FltReleaseFileNameInformation(NameInfo);
    }
}

static FLT_POSTOP_CALLBACK_STATUS MistakesPostCreate(_Inout_ PFLT_CALLBACK_DATA Data,
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
    MistakesPrintName(Data);
    PMISTAKES_STREAM_CONTEXT Stream = MistakesNewContext();
    if (Stream != NULL)
        MistakesSetContext(FltObjects, Stream);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static FLT_PREOP_CALLBACK_STATUS
MistakesPreRead(_Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
                _Flt_CompletionContext_Outptr_ PVOID *CompletionContext)
{
    *CompletionContext = NULL;
    if (gMistake == MistakeNameInPagingIo) {
        /*
         * MISTAKE name-in-paging-io: asking for a name in every read, paging
         * reads included. A paging read comes from the memory manager or the
         * cache manager, often with file-system locks held; asking the file
         * system for the name there can deadlock. On Windows FltMgr refuses
         * (STATUS_FLT_INVALID_NAME_REQUEST) unless the name is in its cache, so
         * the filter fails now and then, depending on what was cached; fltsim
         * reports V29 and refuses the same way.
         * FIX: skip paging I/O (FlagOn(Data->Iopb->IrpFlags, IRP_PAGING_IO),
         * or FLTFL_OPERATION_REGISTRATION_SKIP_PAGING_IO), or ask with
         * FLT_FILE_NAME_QUERY_ALWAYS_ALLOW_CACHE_LOOKUP, or take the name at
         * create and keep it in a stream context.
         */
        PFLT_FILE_NAME_INFORMATION NameInfo;
        NTSTATUS Status = FltGetFileNameInformation(
            Data, FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_DEFAULT, &NameInfo);
        if (NT_SUCCESS(Status))
            FltReleaseFileNameInformation(NameInfo);
        else
            DbgPrint("Mistakes: name query in a read: 0x%08lx\n", (ULONG)Status);
    }

    PMISTAKES_STREAM_CONTEXT Stream;
    if (NT_SUCCESS(FltGetStreamContext(FltObjects->Instance, FltObjects->FileObject,
                                       (PFLT_CONTEXT *)&Stream))) {
        InterlockedIncrement(&Stream->Reads);
        if (gMistake == MistakeContextLeak) {
            /*
             * MISTAKE context-leak: the reference FltGetStreamContext returned
             * is never released. The stream's teardown drops only the
             * reference the stream holds; the leaked one keeps the context
             * alive. On Windows FltUnregisterFilter waits for every context of
             * the filter to go: the unload hangs for good. fltsim reports V21
             * at unload with the context's type and the file and line of its
             * FltAllocateContext.
             * FIX: release every reference a Get, Allocate, Reference or Set
             * (OldContext) returned, on every path.
             */
        } else {
            FltReleaseContext(Stream);
            if (gMistake == MistakeContextOverRelease) {
                /*
                 * MISTAKE context-overrelease: released twice (a second
                 * cleanup path, or a release of a context that was never
                 * referenced). It drops the reference the stream holds, so
                 * the context is freed while still set and a later get uses
                 * freed memory. On Windows: bugcheck 0xF5 (FLTMGR_FILE_SYSTEM),
                 * parameter 0x6D, with Driver Verifier, else pool corruption;
                 * fltsim reports V21 and leaves the reference in place.
                 * FIX: one release per reference taken.
                 */
                FltReleaseContext(Stream);
            }
        }
    }
    return gMistake == MistakeNameAtDispatch ? FLT_PREOP_SUCCESS_WITH_CALLBACK
                                             : FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS MistakesPostRead(_Inout_ PFLT_CALLBACK_DATA Data,
                                                   _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                                   _In_opt_ PVOID CompletionContext,
                                                   _In_ FLT_POST_OPERATION_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(CompletionContext);
    if (FlagOn(Flags, FLTFL_POST_OPERATION_DRAINING))
        return FLT_POSTOP_FINISHED_PROCESSING;
    /*
     * MISTAKE name-at-dispatch: asking for a name in a post-operation
     * callback. A post may run at DISPATCH_LEVEL, in the completion routine
     * of whoever completed the I/O (a disk's DPC); a name query must run at
     * or below APC_LEVEL. On Windows the query is refused
     * (STATUS_FLT_INVALID_NAME_REQUEST) or, with paged pool touched at
     * DISPATCH_LEVEL, bugcheck 0xA (IRQL_NOT_LESS_OR_EQUAL); fltsim reports
     * V29 and refuses it.
     * FIX: ask in the pre-operation and pass the name as the completion
     * context, or finish in FltDoCompletionProcessingWhenSafe (which calls the
     * post at PASSIVE_LEVEL when it can).
     */
    PFLT_FILE_NAME_INFORMATION NameInfo;
    NTSTATUS Status = FltGetFileNameInformation(
        Data, FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_DEFAULT, &NameInfo);
    if (NT_SUCCESS(Status))
        FltReleaseFileNameInformation(NameInfo);
    else
        DbgPrint("Mistakes: name query in post-read at IRQL %u: 0x%08lx\n",
                 (unsigned)KeGetCurrentIrql(), (ULONG)Status);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static const FLT_OPERATION_REGISTRATION MistakesCallbacks[] = {
    {IRP_MJ_CREATE, 0, MistakesPreCreate, MistakesPostCreate, NULL},
    {IRP_MJ_READ, 0, MistakesPreRead, MistakesPostRead, NULL},
    {IRP_MJ_OPERATION_END}};

static const FLT_CONTEXT_REGISTRATION MistakesContexts[] = {
    {FLT_STREAM_CONTEXT, 0, MistakesContextCleanup, sizeof(MISTAKES_STREAM_CONTEXT), MISTAKES_TAG,
     NULL, NULL, NULL},
    {FLT_CONTEXT_END}};

static NTSTATUS MistakesUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    FltUnregisterFilter(gMistakesFilter);
    return STATUS_SUCCESS;
}

static NTSTATUS MistakesQueryTeardown(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                      _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION MistakesRegistration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .ContextRegistration = MistakesContexts,
    .OperationRegistration = MistakesCallbacks,
    .FilterUnloadCallback = MistakesUnload,
    .InstanceQueryTeardownCallback = MistakesQueryTeardown,
};

/* PASSIVE_LEVEL (DriverEntry): the REG_SZ Parameters\Mistake under the
 * service key into *Mistake. A missing key or value is MistakeNone;
 * STATUS_INVALID_PARAMETER for a value that is not a REG_SZ naming one. */
static NTSTATUS ReadMistake(_In_ PUNICODE_STRING RegistryPath, _Out_ MISTAKE *Mistake)
{
    WCHAR PathBuffer[256];
    UNICODE_STRING Path;
    UNICODE_STRING ValueName = RTL_CONSTANT_STRING(L"Mistake");
    OBJECT_ATTRIBUTES Attributes;
    HANDLE Key = NULL;
    /* ULONGs, so the structure in it is aligned; room for 63 characters. */
    ULONG InfoBuffer[(sizeof(KEY_VALUE_PARTIAL_INFORMATION) + 64 * sizeof(WCHAR) + 3) /
                     sizeof(ULONG)];
    PKEY_VALUE_PARTIAL_INFORMATION Info = (PKEY_VALUE_PARTIAL_INFORMATION)InfoBuffer;
    ULONG ResultLength = 0;

    PAGED_CODE();
    *Mistake = MistakeNone;
    RtlInitEmptyUnicodeString(&Path, PathBuffer, sizeof(PathBuffer));
    if (!NT_SUCCESS(RtlAppendUnicodeStringToString(&Path, RegistryPath)) ||
        !NT_SUCCESS(RtlAppendUnicodeToString(&Path, L"\\Parameters")))
        return STATUS_SUCCESS;
    InitializeObjectAttributes(&Attributes, &Path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL,
                               NULL);
    if (!NT_SUCCESS(ZwOpenKey(&Key, KEY_READ, &Attributes)))
        return STATUS_SUCCESS;
    NTSTATUS Status = ZwQueryValueKey(Key, &ValueName, KeyValuePartialInformation, Info,
                                      sizeof(InfoBuffer), &ResultLength);
    ZwClose(Key);
    if (Status == STATUS_OBJECT_NAME_NOT_FOUND)
        return STATUS_SUCCESS;
    if (!NT_SUCCESS(Status) || Info->Type != REG_SZ) {
        DbgPrint("Mistakes: Parameters\\Mistake is not a short REG_SZ (0x%08lx)\n", (ULONG)Status);
        return STATUS_INVALID_PARAMETER;
    }
    UNICODE_STRING Value;
    Value.Buffer = (PWCH)Info->Data;
    Value.Length = (USHORT)(Info->DataLength & ~1u);
    while (Value.Length >= sizeof(WCHAR) && Value.Buffer[Value.Length / sizeof(WCHAR) - 1] == 0)
        Value.Length -= sizeof(WCHAR); /* the terminating NUL */
    Value.MaximumLength = Value.Length;
    for (ULONG i = 0; i < RTL_NUMBER_OF(gMistakeNames); i++) {
        UNICODE_STRING Name;
        RtlInitUnicodeString(&Name, gMistakeNames[i].Name);
        if (RtlEqualUnicodeString(&Value, &Name, TRUE)) {
            *Mistake = gMistakeNames[i].Mistake;
            DbgPrint("Mistakes: making the mistake %wZ\n", &Name);
            return STATUS_SUCCESS;
        }
    }
    WCHAR ListBuffer[256];
    UNICODE_STRING List;
    RtlInitEmptyUnicodeString(&List, ListBuffer, sizeof(ListBuffer));
    for (ULONG i = 0; i < RTL_NUMBER_OF(gMistakeNames); i++) {
        RtlAppendUnicodeToString(&List, L" ");
        RtlAppendUnicodeToString(&List, gMistakeNames[i].Name);
    }
    DbgPrint("Mistakes: Parameters\\Mistake '%wZ' is none of:%wZ\n", &Value, &List);
    return STATUS_INVALID_PARAMETER;
}

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    KeInitializeSpinLock(&gNestedLock);
    RtlZeroMemory(gNested, sizeof(gNested));
    NTSTATUS Status = ReadMistake(RegistryPath, &gMistake);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = FltRegisterFilter(DriverObject, &MistakesRegistration, &gMistakesFilter);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = FltStartFiltering(gMistakesFilter);
    if (!NT_SUCCESS(Status))
        FltUnregisterFilter(gMistakesFilter);
    return Status;
}
