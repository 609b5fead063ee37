/*
 * BufferRewriter: changes the data of every write on its way down by
 * swapping the write buffer, as encryption and compression filters do. The
 * teaching choice of transformation is upper-casing ASCII letters: what the
 * application wrote as "hello" reaches the file system as "HELLO".
 *
 *   pre-write:  allocate a buffer from nonpaged pool under the filter's tag,
 *               copy the caller's data into it transformed, point
 *               Iopb->Parameters.Write.WriteBuffer at it (and MdlAddress at an
 *               MDL of it when the IRP has no system buffer),
 *               call FltSetCallbackDataDirty and return
 *               FLT_PREOP_SUCCESS_WITH_CALLBACK with the buffer as the
 *               completion context;
 *   post-write: free the buffer (ExFreePoolWithTag on nonpaged pool is legal
 *               at DISPATCH_LEVEL, where a post may run, SPEC 4.2).
 *
 * Teardown does not drain a write whose buffer the filter swapped: a draining
 * post would free the buffer while the filters below and the file system may
 * still use it. FltMgr cancels such an operation and waits for it to
 * complete (SPEC 2.6 step 3), so the post frees the buffer after the write is
 * over. The post
 * still frees it when called with FLTFL_POST_OPERATION_DRAINING (SPEC 4.4),
 * which costs nothing.
 *
 * The dirty rule (SPEC 6.3): a parameter changed in a pre reaches the filters
 * below and the file system only if the filter calls FltSetCallbackDataDirty;
 * without it FltMgr ignores the change (fltsim also reports it, V16). The
 * change is not seen by this filter's own post or by filters above: every
 * filter's pre and post see the same parameters, which is why the post learns
 * about the new buffer from its completion context, not from Iopb. The
 * replaced buffer belongs to the caller and is never freed here.
 *
 * Not rewritten: fast I/O (FLT_PREOP_DISALLOW_FASTIO, so the I/O manager
 * sends the write again as an IRP, SPEC 3.2), paging I/O (the pages of a
 * mapped file are not the filter's to change, and pool for them may not be
 * available), and writes described by an MDL only. A swapped buffer of an IRP
 * that has no system buffer also needs its own MDL (IoAllocateMdl,
 * MmBuildMdlForNonPagedPool): a driver below may use the MDL rather than the
 * address. FltMgr frees that MDL after this filter's post; the buffer is the
 * filter's to free.
 */
#include <fltKernel.h>

DRIVER_INITIALIZE DriverEntry;

#define REWRITER_TAG 'wRuB' /* "BuRw" */

static PFLT_FILTER gRewriterFilter;

static FLT_PREOP_CALLBACK_STATUS
RewriterPreWrite(_Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
                 _Flt_CompletionContext_Outptr_ PVOID *CompletionContext)
{
    UNREFERENCED_PARAMETER(FltObjects);
    PFLT_IO_PARAMETER_BLOCK Iopb = Data->Iopb;
    ULONG Length = Iopb->Parameters.Write.Length;
    PUCHAR OldBuffer = Iopb->Parameters.Write.WriteBuffer;

    *CompletionContext = NULL;
    if (FLT_IS_FASTIO_OPERATION(Data))
        return FLT_PREOP_DISALLOW_FASTIO; /* the write comes back as an IRP */
    if (!FLT_IS_IRP_OPERATION(Data) || FlagOn(Iopb->IrpFlags, IRP_PAGING_IO) || Length == 0 ||
        OldBuffer == NULL)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;

    PUCHAR NewBuffer = ExAllocatePool2(POOL_FLAG_NON_PAGED, Length, REWRITER_TAG);
    if (NewBuffer == NULL)
        return FLT_PREOP_SUCCESS_NO_CALLBACK; /* written unchanged rather than failed */

    /* The caller's buffer may be a user address: the copy sits in
     * __try/__except, as on Windows (fltsim handles raised exceptions; a bad
     * pointer still crashes the process). */
    __try {
        for (ULONG i = 0; i < Length; i++) {
            UCHAR c = OldBuffer[i];
            NewBuffer[i] = (c >= 'a' && c <= 'z') ? (UCHAR)(c - 'a' + 'A') : c;
        }
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        ExFreePoolWithTag(NewBuffer, REWRITER_TAG);
        Data->IoStatus.Status = GetExceptionCode();
        Data->IoStatus.Information = 0;
        return FLT_PREOP_COMPLETE;
    }

    PMDL NewMdl = NULL;
    if (!FlagOn(Data->Flags, FLTFL_CALLBACK_DATA_SYSTEM_BUFFER)) {
        NewMdl = IoAllocateMdl(NewBuffer, Length, FALSE, FALSE, NULL);
        if (NewMdl == NULL) {
            ExFreePoolWithTag(NewBuffer, REWRITER_TAG);
            return FLT_PREOP_SUCCESS_NO_CALLBACK; /* written unchanged rather than failed */
        }
        MmBuildMdlForNonPagedPool(NewMdl);
    }
    Iopb->Parameters.Write.WriteBuffer = NewBuffer;
    Iopb->Parameters.Write.MdlAddress = NewMdl;
    FltSetCallbackDataDirty(Data); /* without this the file system sees the old buffer */
    *CompletionContext = NewBuffer;
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS RewriterPostWrite(_Inout_ PFLT_CALLBACK_DATA Data,
                                                    _In_ PCFLT_RELATED_OBJECTS FltObjects,
                                                    _In_opt_ PVOID CompletionContext,
                                                    _In_ FLT_POST_OPERATION_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Data);
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    /* Draining or not, the buffer is ours to free, and nothing else is left to
     * do: the status and byte count the file system reported stand. */
    if (CompletionContext != NULL)
        ExFreePoolWithTag(CompletionContext, REWRITER_TAG);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static const FLT_OPERATION_REGISTRATION RewriterCallbacks[] = {
    {IRP_MJ_WRITE, 0, RewriterPreWrite, RewriterPostWrite, NULL}, {IRP_MJ_OPERATION_END}};

static NTSTATUS RewriterUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    FltUnregisterFilter(gRewriterFilter);
    return STATUS_SUCCESS;
}

static NTSTATUS RewriterQueryTeardown(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                      _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(Flags);
    PAGED_CODE();
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION RewriterRegistration = {
    .Size = sizeof(FLT_REGISTRATION),
    .Version = FLT_REGISTRATION_VERSION,
    .OperationRegistration = RewriterCallbacks,
    .FilterUnloadCallback = RewriterUnload,
    .InstanceQueryTeardownCallback = RewriterQueryTeardown,
};

NTSTATUS DriverEntry(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    NTSTATUS Status = FltRegisterFilter(DriverObject, &RewriterRegistration, &gRewriterFilter);
    if (NT_SUCCESS(Status)) {
        Status = FltStartFiltering(gRewriterFilter);
        if (!NT_SUCCESS(Status))
            FltUnregisterFilter(gRewriterFilter);
    }
    return Status;
}
