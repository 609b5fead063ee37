/*
 * Scanner: an on-access scanner that reads the file through a handle of its
 * own, as most real antivirus and DLP filters do. In post-create it opens the
 * file again with FltCreateFileEx2 below its own instance, reads it with
 * FltReadFile on its own file object, closes it, and refuses a file holding
 * the signature with FltCancelFileOpen and STATUS_VIRUS_INFECTED. The
 * signature is the REG_SZ Parameters\Signature under the service key (ASCII,
 * 1 to 64 characters; default the EICAR-style marker "X5O!P%@AP").
 *
 * Why its own handle, when AntiVirus (antivirus.c) reads through the user's
 * file object: the user may have opened the file without FILE_READ_DATA
 * (for attributes, or for write only), opened it for asynchronous I/O, or
 * asked for FILE_DELETE_ON_CLOSE; reading through the user's file object also
 * moves its byte offset unless told not to and is charged to the user's
 * access. A file object of its own has exactly the access the scan needs.
 *
 * Why below its own instance (SPEC 2.3, Microsoft Learn "FltCreateFileEx2"):
 * FltCreateFileEx2 with the filter's Instance sends the create, and every
 * later FltReadFile, cleanup and close of that file object, only to the
 * instances below it and the file system. ZwCreateFile would start at the top
 * of the stack: this filter's own post-create would see its own open, scan it
 * again, open again ... until the kernel stack overflows (Mistakes'
 * zw-recursion shows it), and every filter above would see I/O that is not
 * the user's.
 *
 * Why these create flags: FILE_READ_DATA only, and all of FILE_SHARE_READ,
 * _WRITE and _DELETE, so that the scan's open never makes a later open by the
 * user fail with STATUS_SHARING_VIOLATION; IO_IGNORE_SHARE_ACCESS_CHECK,
 * because the user's own open may have denied sharing (share 0) and the scan
 * must still read the file (the I/O manager neither checks nor records share
 * access for this open). Real scanners also pass FILE_COMPLETE_IF_OPLOCKED or
 * handle oplocks, so that their open never waits for an oplock break from the
 * process whose open they are scanning; fltsim does not model oplock breaks.
 *
 * Locks and deadlocks: the scan performs I/O, so the post-create must hold no
 * lock of its own across it (a spin lock would run the I/O at DISPATCH_LEVEL;
 * a resource or push lock that another create takes deadlocks when a filter
 * below blocks on the same file). It scans only at PASSIVE_LEVEL (post-create
 * runs there on the creating thread, SPEC 4.2), never in a draining post
 * (SPEC 4.4), and skips paging-file opens and a thread holding a top-level
 * IRP, where the file system may already hold the file's locks and a nested
 * open can deadlock on them. A scan that cannot be done lets the open through
 * (fail open) and counts it; the verdict is refused only on a match.
 */
#include <fltKernel.h>

DRIVER_INITIALIZE DriverEntry;
LONG ScannerScanned(VOID);
LONG ScannerDetected(VOID);
LONG ScannerUnscanned(VOID);

#define SCANNER_TAG 'nacS'
#define SCANNER_CHUNK 4096
#define SCANNER_MAX_SIGNATURE 64
#define SCANNER_MAX_SCAN (1024 * 1024) /* bytes scanned per file at most */

typedef enum _SCANNER_VERDICT { ScannerClean, ScannerInfected, ScannerNotScanned } SCANNER_VERDICT;

static PFLT_FILTER gScannerFilter;
static UCHAR gSignature[SCANNER_MAX_SIGNATURE];
static ULONG gSignatureLength;
static LONG gScanned, gDetected, gUnscanned;

/* Whether Buffer[0..Length) holds the signature. */
static BOOLEAN ScannerMatch(_In_reads_bytes_(Length) const UCHAR *Buffer, _In_ ULONG Length)
{
    for (ULONG i = 0; i + gSignatureLength <= Length; i++)
        if (RtlCompareMemory(Buffer + i, gSignature, gSignatureLength) == gSignatureLength)
            return TRUE;
    return FALSE;
}

/* PASSIVE_LEVEL: reads FileObject (the scanner's own) from the start, chunk
 * by chunk, keeping the last bytes of each chunk so that a signature that
 * straddles two chunks is found. */
static SCANNER_VERDICT ScannerReadAndMatch(_In_ PFLT_INSTANCE Instance,
                                           _In_ PFILE_OBJECT FileObject)
{
    ULONG Keep = gSignatureLength - 1;
    UCHAR *Buffer =
        ExAllocatePool2(POOL_FLAG_PAGED, SCANNER_MAX_SIGNATURE + SCANNER_CHUNK, SCANNER_TAG);
    if (Buffer == NULL)
        return ScannerNotScanned;
    SCANNER_VERDICT Verdict = ScannerClean;
    ULONG Carried = 0;
    LARGE_INTEGER Offset;
    Offset.QuadPart = 0;
    while (Offset.QuadPart < SCANNER_MAX_SCAN) {
        ULONG BytesRead = 0;
        /* The read starts below this instance too: FltReadFile sends it to
         * the instances below Instance (SPEC 2.3). */
        NTSTATUS Status =
            FltReadFile(Instance, FileObject, &Offset, SCANNER_CHUNK, Buffer + Carried,
                        FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET, &BytesRead, NULL, NULL);
        if (Status == STATUS_END_OF_FILE)
            break;
        if (!NT_SUCCESS(Status)) {
            DbgPrint("Scanner: read failed (0x%08lx): not scanned\n", (ULONG)Status);
            Verdict = ScannerNotScanned;
            break;
        }
        if (ScannerMatch(Buffer, Carried + BytesRead)) {
            Verdict = ScannerInfected;
            break;
        }
        if (BytesRead < SCANNER_CHUNK)
            break;
        ULONG Total = Carried + BytesRead;
        Carried = Total < Keep ? Total : Keep;
        RtlMoveMemory(Buffer, Buffer + Total - Carried, Carried);
        Offset.QuadPart += BytesRead;
    }
    ExFreePoolWithTag(Buffer, SCANNER_TAG);
    return Verdict;
}

/* PASSIVE_LEVEL: opens the file named Name below Instance, scans it, closes
 * it. */
static SCANNER_VERDICT ScannerScanFile(_In_ PFLT_INSTANCE Instance, _In_ PUNICODE_STRING Name)
{
    OBJECT_ATTRIBUTES Attributes;
    IO_STATUS_BLOCK IoStatus;
    HANDLE Handle = NULL;
    PFILE_OBJECT FileObject = NULL;
    /* OBJ_KERNEL_HANDLE: the handle goes in the kernel's table, not in the
     * table of whichever process this post-create runs in. */
    InitializeObjectAttributes(&Attributes, Name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL,
                               NULL);
    NTSTATUS Status = FltCreateFileEx2(
        gScannerFilter, Instance, &Handle, &FileObject, FILE_READ_DATA | SYNCHRONIZE, &Attributes,
        &IoStatus, NULL, FILE_ATTRIBUTE_NORMAL,
        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN,
        FILE_NON_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0,
        IO_IGNORE_SHARE_ACCESS_CHECK, NULL);
    if (!NT_SUCCESS(Status)) {
        DbgPrint("Scanner: cannot open %wZ (0x%08lx): not scanned\n", Name, (ULONG)Status);
        return ScannerNotScanned;
    }
    SCANNER_VERDICT Verdict = ScannerReadAndMatch(Instance, FileObject);
    /* The reference FltCreateFileEx2 returned, then the handle: the cleanup
     * and close go below this instance as the create did. */
    ObDereferenceObject(FileObject);
    FltClose(Handle);
    return Verdict;
}

static FLT_PREOP_CALLBACK_STATUS ScannerPreCreate(_Inout_ PFLT_CALLBACK_DATA Data,
                                                  _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                                  _Flt_CompletionContext_Outptr_ PVOID *Context)
{
    PFILE_OBJECT FileObject = FltObjects->FileObject;
    *Context = NULL;
    /* Directories, volume opens, rename targets and paging files hold no data
     * to scan; a thread with a top-level IRP may hold file-system locks. */
    if (FlagOn(Data->Iopb->Parameters.Create.Options, FILE_DIRECTORY_FILE) ||
        FlagOn(Data->Iopb->OperationFlags, SL_OPEN_TARGET_DIRECTORY | SL_OPEN_PAGING_FILE) ||
        FlagOn(FileObject->Flags, FO_VOLUME_OPEN) ||
        (FileObject->FileName.Length == 0 && FileObject->RelatedFileObject == NULL) ||
        IoGetTopLevelIrp() != NULL)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS ScannerPostCreate(_Inout_ PFLT_CALLBACK_DATA Data,
                                                    _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                                    _In_opt_ PVOID CompletionContext,
                                                    _In_ FLT_POST_OPERATION_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(CompletionContext);
    if (FlagOn(Flags, FLTFL_POST_OPERATION_DRAINING)) {
        InterlockedIncrement(&gUnscanned);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    if (!NT_SUCCESS(Data->IoStatus.Status) || Data->IoStatus.Status == STATUS_REPARSE)
        return FLT_POSTOP_FINISHED_PROCESSING; /* nothing was opened */
    BOOLEAN Directory = FALSE;
    if (!NT_SUCCESS(FltIsDirectory(FltObjects->FileObject, FltObjects->Instance, &Directory)) ||
        Directory)
        return FLT_POSTOP_FINISHED_PROCESSING;
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        InterlockedIncrement(&gUnscanned);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    /* The opened name, as the file system resolved it: the scan opens the
     * same file whatever relative name or short name the user gave. */
    PFLT_FILE_NAME_INFORMATION NameInfo;
    NTSTATUS Status = FltGetFileNameInformation(
        Data, FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_DEFAULT, &NameInfo);
    if (!NT_SUCCESS(Status)) {
        InterlockedIncrement(&gUnscanned);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    SCANNER_VERDICT Verdict = ScannerScanFile(FltObjects->Instance, &NameInfo->Name);
    if (Verdict == ScannerNotScanned) {
        InterlockedIncrement(&gUnscanned);
    } else {
        InterlockedIncrement(&gScanned);
        if (Verdict == ScannerInfected) {
            InterlockedIncrement(&gDetected);
            DbgPrint("Scanner: %wZ is infected; open refused\n", &NameInfo->Name);
            /* SPEC 4.5: the file system has opened the file; FltCancelFileOpen
             * closes it below this instance, then the create fails for the
             * filters above and the user. */
            FltCancelFileOpen(FltObjects->Instance, FltObjects->FileObject);
            Data->IoStatus.Status = STATUS_VIRUS_INFECTED;
            Data->IoStatus.Information = 0;
        }
    }
    FltReleaseFileNameInformation(NameInfo);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static const FLT_OPERATION_REGISTRATION ScannerCallbacks[] = {
    {IRP_MJ_CREATE, 0, ScannerPreCreate, ScannerPostCreate, NULL}, {IRP_MJ_OPERATION_END}};

static NTSTATUS ScannerUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    FltUnregisterFilter(gScannerFilter);
    return STATUS_SUCCESS;
}

static NTSTATUS ScannerQueryTeardown(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                     _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION ScannerRegistration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = ScannerCallbacks,
    .FilterUnloadCallback = ScannerUnload,
    .InstanceQueryTeardownCallback = ScannerQueryTeardown,
};

/* PASSIVE_LEVEL (DriverEntry): the signature from the REG_SZ
 * Parameters\Signature under the service key. A missing key or value keeps
 * the default; STATUS_INVALID_PARAMETER for a value that is not a REG_SZ of 1
 * to 64 ASCII characters. */
static NTSTATUS ScannerReadSignature(_In_ PUNICODE_STRING RegistryPath)
{
    WCHAR PathBuffer[256];
    UNICODE_STRING Path;
    UNICODE_STRING ValueName = RTL_CONSTANT_STRING(L"Signature");
    OBJECT_ATTRIBUTES Attributes;
    HANDLE Key = NULL;
    /* ULONGs, so the structure in it is aligned; room for 64 characters. */
    ULONG InfoBuffer[(sizeof(KEY_VALUE_PARTIAL_INFORMATION) +
                      (SCANNER_MAX_SIGNATURE + 1) * sizeof(WCHAR) + 3) /
                     sizeof(ULONG)];
    PKEY_VALUE_PARTIAL_INFORMATION Info = (PKEY_VALUE_PARTIAL_INFORMATION)InfoBuffer;
    ULONG ResultLength = 0;

    PAGED_CODE();
    RtlCopyMemory(gSignature, "X5O!P%@AP", 9);
    gSignatureLength = 9;
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
        DbgPrint("Scanner: Parameters\\Signature is not a REG_SZ of at most %u characters "
                 "(0x%08lx)\n",
                 (unsigned)SCANNER_MAX_SIGNATURE, (ULONG)Status);
        return STATUS_INVALID_PARAMETER;
    }
    const WCHAR *Chars = (const WCHAR *)Info->Data;
    ULONG Count = Info->DataLength / sizeof(WCHAR);
    while (Count > 0 && Chars[Count - 1] == 0)
        Count--; /* the terminating NUL */
    if (Count == 0 || Count > SCANNER_MAX_SIGNATURE) {
        DbgPrint("Scanner: Parameters\\Signature must have 1 to %u characters\n",
                 (unsigned)SCANNER_MAX_SIGNATURE);
        return STATUS_INVALID_PARAMETER;
    }
    for (ULONG i = 0; i < Count; i++) {
        if (Chars[i] == 0 || Chars[i] > 0x7F) {
            DbgPrint("Scanner: Parameters\\Signature must be ASCII\n");
            return STATUS_INVALID_PARAMETER;
        }
        gSignature[i] = (UCHAR)Chars[i];
    }
    gSignatureLength = Count;
    return STATUS_SUCCESS;
}

/* Counters since DriverEntry (the tests look): files scanned, opens refused,
 * opens let through unscanned (no memory, a failed open or read, draining). */
LONG ScannerScanned(VOID)
{
    return InterlockedCompareExchange(&gScanned, 0, 0);
}

LONG ScannerDetected(VOID)
{
    return InterlockedCompareExchange(&gDetected, 0, 0);
}

LONG ScannerUnscanned(VOID)
{
    return InterlockedCompareExchange(&gUnscanned, 0, 0);
}

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    gScanned = gDetected = gUnscanned = 0;
    NTSTATUS Status = ScannerReadSignature(RegistryPath);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = FltRegisterFilter(DriverObject, &ScannerRegistration, &gScannerFilter);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = FltStartFiltering(gScannerFilter);
    if (!NT_SUCCESS(Status))
        FltUnregisterFilter(gScannerFilter);
    return Status;
}
