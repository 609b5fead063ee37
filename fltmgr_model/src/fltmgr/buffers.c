/*
 * The buffers of an operation (SPEC 6.3, 6.4): FltDecodeParameters (where each
 * major keeps its MDL, buffer and length, and the access they allow),
 * FltLockUserBuffer (an MDL for the operation's buffer, which the operation
 * owns and releases when it completes), and the MDL a filter passes down with
 * a buffer of its own, which FltMgr frees after that filter's post unless it
 * calls FltRetainSwappedBufferMdlAddress (FltGetSwappedBufferMdlAddress shows
 * it). The MDL routines themselves are nt/mdl.c's; the post path calls the
 * swap hooks (post.c, pending.c), completion releases the operation's MDLs.
 */
#include <stdlib.h>

#include "dispatch_internal.h"

/* An MDL FltLockUserBuffer allocated for an operation (op->locked_mdls). */
struct fltsim_op_mdl {
    struct fltsim_op_mdl *next;
    PMDL mdl;
};

static void report(fltsim_system *sys, struct fltsim_op *op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A misuse by the filter code running on this thread. */
static void report(fltsim_system *sys, struct fltsim_op *op, const char *fmt, ...)
{
    struct fltsim_tls *t = fltsim__tls();
    char message[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (sys == NULL)
        sys = t->sys;
    if (sys != NULL)
        fltsim__report(sys, t->filter, NULL, op != NULL ? op : t->op, "MM", "6.4", "%s", message);
    else
        fprintf(stderr, "fltsim: MM: %s\n", message);
}

/* ---- where the parameters keep their buffers ---- */

struct decoded {
    PMDL *mdl;     /* NULL: the parameters have no MDL member */
    PVOID *buffer; /* NULL: no buffer parameter at all */
    PULONG length; /* NULL: no length member */
    LOCK_OPERATION access;
};

/* The output side of an FSCTL or IOCTL, as its transfer method lays it out. */
static void decode_control(ULONG code, PULONG output_length, PVOID *system_buffer,
                           PVOID *direct_buffer, PMDL *direct_mdl, PVOID *neither_buffer,
                           PMDL *neither_mdl, struct decoded *d)
{
    d->length = output_length;
    d->access = IoWriteAccess;
    switch (METHOD_FROM_CTL_CODE(code)) {
    case METHOD_BUFFERED:
        d->buffer = system_buffer;
        break;
    case METHOD_IN_DIRECT: /* the "output" buffer is read by the driver */
        d->access = IoReadAccess;
        d->buffer = direct_buffer;
        d->mdl = direct_mdl;
        break;
    case METHOD_OUT_DIRECT:
        d->buffer = direct_buffer;
        d->mdl = direct_mdl;
        break;
    default:
        d->buffer = neither_buffer;
        d->mdl = neither_mdl;
        break;
    }
}

/* The buffer members of iopb's parameters, as FltDecodeParameters gives them
 * (Microsoft Learn): the buffer a callback can read or write, its length and
 * MDL where the parameters have them, and IoWriteAccess where the operation
 * writes the buffer, IoReadAccess where it only reads it. false for an
 * operation without a buffer parameter, and for FS-filter callbacks. */
static bool decode(PFLT_IO_PARAMETER_BLOCK iopb, ULONG data_flags, struct decoded *d)
{
    FLT_PARAMETERS *p = &iopb->Parameters;
    memset(d, 0, sizeof(*d));
    d->access = IoReadAccess;
    if (data_flags & FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION)
        return false;
    switch (iopb->MajorFunction) {
    case IRP_MJ_READ:
        d->mdl = &p->Read.MdlAddress;
        d->buffer = &p->Read.ReadBuffer;
        d->length = &p->Read.Length;
        d->access = IoWriteAccess;
        return true;
    case IRP_MJ_WRITE:
        d->mdl = &p->Write.MdlAddress;
        d->buffer = &p->Write.WriteBuffer;
        d->length = &p->Write.Length;
        return true;
    case IRP_MJ_QUERY_INFORMATION:
        d->buffer = &p->QueryFileInformation.InfoBuffer;
        d->length = &p->QueryFileInformation.Length;
        d->access = IoWriteAccess;
        return true;
    case IRP_MJ_SET_INFORMATION:
        d->buffer = &p->SetFileInformation.InfoBuffer;
        d->length = &p->SetFileInformation.Length;
        return true;
    case IRP_MJ_QUERY_EA:
        d->mdl = &p->QueryEa.MdlAddress;
        d->buffer = &p->QueryEa.EaBuffer;
        d->length = &p->QueryEa.Length;
        d->access = IoWriteAccess;
        return true;
    case IRP_MJ_SET_EA:
        d->mdl = &p->SetEa.MdlAddress;
        d->buffer = &p->SetEa.EaBuffer;
        d->length = &p->SetEa.Length;
        return true;
    case IRP_MJ_QUERY_VOLUME_INFORMATION:
        d->buffer = &p->QueryVolumeInformation.VolumeBuffer;
        d->length = &p->QueryVolumeInformation.Length;
        d->access = IoWriteAccess;
        return true;
    case IRP_MJ_SET_VOLUME_INFORMATION:
        d->buffer = &p->SetVolumeInformation.VolumeBuffer;
        d->length = &p->SetVolumeInformation.Length;
        return true;
    case IRP_MJ_DIRECTORY_CONTROL:
        d->access = IoWriteAccess;
        if (iopb->MinorFunction == IRP_MN_QUERY_DIRECTORY) {
            d->mdl = &p->DirectoryControl.QueryDirectory.MdlAddress;
            d->buffer = &p->DirectoryControl.QueryDirectory.DirectoryBuffer;
            d->length = &p->DirectoryControl.QueryDirectory.Length;
            return true;
        }
        if (iopb->MinorFunction == IRP_MN_NOTIFY_CHANGE_DIRECTORY ||
            iopb->MinorFunction == IRP_MN_NOTIFY_CHANGE_DIRECTORY_EX) {
            d->mdl = &p->DirectoryControl.NotifyDirectory.MdlAddress;
            d->buffer = &p->DirectoryControl.NotifyDirectory.DirectoryBuffer;
            d->length = &p->DirectoryControl.NotifyDirectory.Length;
            return true;
        }
        return false;
    case IRP_MJ_FILE_SYSTEM_CONTROL:
        /* Mount and verify carry a VPB and a device, not buffers. */
        if (iopb->MinorFunction != IRP_MN_USER_FS_REQUEST &&
            iopb->MinorFunction != IRP_MN_KERNEL_CALL)
            return false;
        decode_control(p->FileSystemControl.Common.FsControlCode,
                       &p->FileSystemControl.Common.OutputBufferLength,
                       &p->FileSystemControl.Buffered.SystemBuffer,
                       &p->FileSystemControl.Direct.OutputBuffer,
                       &p->FileSystemControl.Direct.OutputMdlAddress,
                       &p->FileSystemControl.Neither.OutputBuffer,
                       &p->FileSystemControl.Neither.OutputMdlAddress, d);
        return true;
    case IRP_MJ_DEVICE_CONTROL:
    case IRP_MJ_INTERNAL_DEVICE_CONTROL:
        if (data_flags & FLTFL_CALLBACK_DATA_FAST_IO_OPERATION) {
            /* FastIoDeviceControl: the caller's buffers, never an MDL. */
            d->buffer = &p->DeviceIoControl.FastIo.OutputBuffer;
            d->length = &p->DeviceIoControl.FastIo.OutputBufferLength;
            d->access = IoWriteAccess;
            return true;
        }
        decode_control(
            p->DeviceIoControl.Common.IoControlCode, &p->DeviceIoControl.Common.OutputBufferLength,
            &p->DeviceIoControl.Buffered.SystemBuffer, &p->DeviceIoControl.Direct.OutputBuffer,
            &p->DeviceIoControl.Direct.OutputMdlAddress, &p->DeviceIoControl.Neither.OutputBuffer,
            &p->DeviceIoControl.Neither.OutputMdlAddress, d);
        return true;
    case IRP_MJ_QUERY_SECURITY:
        d->mdl = &p->QuerySecurity.MdlAddress;
        d->buffer = &p->QuerySecurity.SecurityBuffer;
        d->length = &p->QuerySecurity.Length;
        d->access = IoWriteAccess;
        return true;
    case IRP_MJ_SET_SECURITY:
        /* A descriptor with no length member. */
        d->buffer = &p->SetSecurity.SecurityDescriptor;
        return true;
    case IRP_MJ_QUERY_QUOTA:
        d->mdl = &p->QueryQuota.MdlAddress;
        d->buffer = &p->QueryQuota.QuotaBuffer;
        d->length = &p->QueryQuota.Length;
        d->access = IoWriteAccess;
        return true;
    case IRP_MJ_SET_QUOTA:
        d->mdl = &p->SetQuota.MdlAddress;
        d->buffer = &p->SetQuota.QuotaBuffer;
        d->length = &p->SetQuota.Length;
        return true;
    default:
        return false;
    }
}

NTSTATUS FltDecodeParameters(PFLT_CALLBACK_DATA CallbackData, PMDL **MdlAddressPointer,
                             PVOID **Buffer, PULONG *Length, LOCK_OPERATION *DesiredAccess)
{
    struct decoded d;
    memset(&d, 0, sizeof(d));
    NTSTATUS status = STATUS_INVALID_PARAMETER;
    if (fltsim__op_from_data(CallbackData) == NULL)
        report(NULL, NULL,
               "FltDecodeParameters(%p): not the callback data of an operation in flight; "
               "STATUS_INVALID_PARAMETER",
               (void *)CallbackData);
    else if (decode(CallbackData->Iopb, CallbackData->Flags, &d))
        status = STATUS_SUCCESS;
    else
        memset(&d, 0, sizeof(d));
    if (MdlAddressPointer != NULL)
        *MdlAddressPointer = d.mdl;
    if (Buffer != NULL)
        *Buffer = d.buffer;
    if (Length != NULL)
        *Length = d.length;
    if (DesiredAccess != NULL && NT_SUCCESS(status))
        *DesiredAccess = d.access;
    return status;
}

/* ---- FltLockUserBuffer ---- */

static bool owned_by(const struct fltsim_op *op, PMDL mdl)
{
    for (const struct fltsim_op_mdl *m = op->locked_mdls; m != NULL; m = m->next)
        if (m->mdl == mdl)
            return true;
    return false;
}

NTSTATUS FltLockUserBuffer(PFLT_CALLBACK_DATA CallbackData)
{
    static const char api[] = "FltLockUserBuffer";
    struct fltsim_op *op = fltsim__op_from_data(CallbackData);
    if (op == NULL) {
        report(NULL, NULL,
               "%s(%p): not the callback data of an operation in flight; "
               "STATUS_INVALID_PARAMETER",
               api, (void *)CallbackData);
        return STATUS_INVALID_PARAMETER;
    }
    fltsim__check_irql(op->sys, APC_LEVEL, api);
    PFLT_IO_PARAMETER_BLOCK iopb = CallbackData->Iopb;
    struct decoded d;
    /* Only the operations whose parameters have an MDL member (Microsoft
     * Learn's list); an MDL read or write has its MDL from the file system. */
    if (!decode(iopb, CallbackData->Flags, &d) || d.mdl == NULL ||
        ((iopb->MajorFunction == IRP_MJ_READ || iopb->MajorFunction == IRP_MJ_WRITE) &&
         (iopb->MinorFunction & IRP_MN_MDL)))
        return STATUS_INVALID_PARAMETER;
    if (*d.mdl != NULL)
        return STATUS_SUCCESS; /* locked already */
    PVOID buffer = *d.buffer;
    ULONG length = d.length != NULL ? *d.length : 0;
    if (buffer == NULL)
        return STATUS_INVALID_PARAMETER; /* nothing to lock */

    PMDL mdl = fltsim__mdl_allocate_internal(buffer, length);
    struct fltsim_op_mdl *own = malloc(sizeof(*own));
    if (mdl == NULL || own == NULL) {
        if (mdl != NULL)
            fltsim__mdl_release(mdl);
        free(own);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    /* A system buffer is nonpaged pool; a user buffer is locked in the
     * requestor's mode, as the I/O manager would. */
    if (CallbackData->Flags & FLTFL_CALLBACK_DATA_SYSTEM_BUFFER) {
        MmBuildMdlForNonPagedPool(mdl); /* reports a buffer that is not memory */
        if (!(mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL)) {
            fltsim__mdl_release(mdl);
            free(own);
            return STATUS_ACCESS_VIOLATION;
        }
    } else {
        NTSTATUS status = fltsim__mdl_lock(mdl, CallbackData->RequestorMode, d.access);
        if (!NT_SUCCESS(status)) {
            fltsim__mdl_release(mdl);
            free(own);
            return status;
        }
    }
    /* The system's, not the filter's: IoFreeMdl refuses it (mdl.c). */
    mdl->MdlFlags |= MDL_INTERNAL;
    *d.mdl = mdl;
    own->mdl = mdl;
    own->next = op->locked_mdls;
    op->locked_mdls = own;
    /* From a pre (or while pended in one), the MDL goes down with the
     * operation: the data are dirty, as Microsoft Learn says. */
    if (op->phase == FLTSIM_PHASE_PRE && !op->drain_copy)
        CallbackData->Flags |= FLTFL_CALLBACK_DATA_DIRTY;
    return STATUS_SUCCESS;
}

void fltsim__op_release_mdls(struct fltsim_op *op)
{
    struct fltsim_op_mdl *m = op->locked_mdls;
    op->locked_mdls = NULL;
    while (m != NULL) {
        struct fltsim_op_mdl *next = m->next;
        fltsim__mdl_release(m->mdl);
        free(m);
        m = next;
    }
}

bool fltsim__lock_only(const struct fltsim_op *op, PFLT_IO_PARAMETER_BLOCK down,
                       PFLT_IO_PARAMETER_BLOCK view)
{
    struct decoded dd, vd;
    if (!decode(down, op->data.Flags, &dd) || !decode(view, op->data.Flags, &vd) ||
        dd.mdl == NULL || vd.mdl == NULL)
        return false;
    return *dd.buffer == *vd.buffer && *vd.mdl == NULL && owned_by(op, *dd.mdl);
}

/* ---- swapped buffers' MDLs ---- */

void fltsim__swap_post_begin(struct fltsim_op *op, ULONG node)
{
    struct decoded below, mine;
    PMDL down = NULL, received = NULL;
    /* op->iopb is still what the layer below left (the next node's view,
     * or what the file system saw): the MDL there describes the buffer this
     * node passed down, whoever made it. */
    if (decode(&op->iopb, op->data.Flags, &below) && below.mdl != NULL)
        down = *below.mdl;
    if (decode(&op->nodes[node].view, op->data.Flags, &mine) && mine.mdl != NULL)
        received = *mine.mdl;
    op->swap_node = node;
    op->swap_active = true;
    op->swap_retained = false;
    op->swap_mdl = down != received ? down : NULL;
    if (op->swap_mdl == NULL || !owned_by(op, op->swap_mdl))
        return;
    /* FltLockUserBuffer's MDL of the swapped buffer, made below: FltMgr
     * frees it after this post now (or the filter does, if it retains it). */
    for (struct fltsim_op_mdl **m = &op->locked_mdls; *m != NULL; m = &(*m)->next) {
        if ((*m)->mdl != op->swap_mdl)
            continue;
        struct fltsim_op_mdl *gone = *m;
        *m = gone->next;
        free(gone);
        break;
    }
    op->swap_mdl->MdlFlags &= (CSHORT)~MDL_INTERNAL;
}

void fltsim__swap_post_end(struct fltsim_op *op)
{
    if (!op->swap_active)
        return;
    PMDL mdl = op->swap_mdl;
    bool retained = op->swap_retained;
    op->swap_active = false;
    op->swap_retained = false;
    op->swap_mdl = NULL;
    if (mdl == NULL || retained)
        return;
    if (!fltsim__mdl_release(mdl))
        fltsim__report(op->sys, NULL, op->nodes[op->swap_node].instance, op, "MM", "6.3",
                       "the MDL %p the pre-operation callback passed down with its buffer was not "
                       "allocated by IoAllocateMdl: FltMgr frees a swapped-in MDL with IoFreeMdl "
                       "after the post (on Windows: bugcheck 0xC2, BAD_POOL_CALLER); call "
                       "FltRetainSwappedBufferMdlAddress in the post and release it yourself; "
                       "fltsim leaves it alone",
                       (void *)mdl);
}

/* The operation whose post runs on this thread for data, with its swap
 * state for that post; NULL (reported) when none. */
static struct fltsim_op *swap_owner(PFLT_CALLBACK_DATA data, const char *api, bool *active)
{
    struct fltsim_op *op;
    ULONG node;
    if (!fltsim__in_post(data, &op, &node)) {
        report(NULL, NULL,
               "%s outside the post-operation callback of the operation (%p): it may be called "
               "only from one; nothing done",
               api, (void *)data);
        return NULL;
    }
    *active = op->swap_active && op->swap_node == node && op->kind != FLTSIM_OP_FAST_IO;
    return op;
}

PMDL FltGetSwappedBufferMdlAddress(PFLT_CALLBACK_DATA CallbackData)
{
    bool active = false;
    struct fltsim_op *op = swap_owner(CallbackData, "FltGetSwappedBufferMdlAddress", &active);
    return op != NULL && active ? op->swap_mdl : NULL;
}

VOID FltRetainSwappedBufferMdlAddress(PFLT_CALLBACK_DATA CallbackData)
{
    bool active = false;
    struct fltsim_op *op = swap_owner(CallbackData, "FltRetainSwappedBufferMdlAddress", &active);
    if (op != NULL && active)
        op->swap_retained = true;
}
