/*
 * The buffers of an operation (SPEC 6.3, 6.4): FltDecodeParameters (where each
 * major keeps its MDL, buffer and length, and the access they allow),
 * FltLockUserBuffer (an MDL for the operation's buffer, which the operation
 * owns and releases when it completes), and the MDL a filter's pre passes down
 * with a buffer of its own, which FltMgr frees when that filter's post is over
 * unless it calls FltRetainSwappedBufferMdlAddress (FltGetSwappedBufferMdlAddress
 * shows it). Those MDLs are recorded here, off the operation, so that the
 * dispatch path of operations without them pays nothing. The MDL routines
 * themselves are nt/mdl.c's.
 */
#include <stdlib.h>

#include "dispatch_internal.h"

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

/* ---- the MDLs recorded for operations in flight ---- */

#define NO_NODE ((ULONG)-1)

/* An MDL FltLockUserBuffer allocated for op (node NO_NODE: the operation's,
 * released at its completion), or the one node's pre passed down with a
 * buffer of its own (released when that node's post is over, unless the
 * filter retained it; locked: it is also one of the operation's). */
struct op_mdl {
    struct op_mdl *next;
    const struct fltsim_op *op;
    ULONG node;
    PMDL mdl;
    bool retained;
    bool locked;
};

static uv_once_t records_once = UV_ONCE_INIT;
static uv_mutex_t records_lock;
static struct op_mdl *records; /* records_lock */

static void records_init(void)
{
    if (uv_mutex_init(&records_lock) != 0)
        abort();
}

static bool record(struct fltsim_op *op, ULONG node, PMDL mdl, bool locked)
{
    struct op_mdl *r = malloc(sizeof(*r));
    if (r == NULL)
        return false;
    r->op = op;
    r->node = node;
    r->mdl = mdl;
    r->retained = false;
    r->locked = locked;
    uv_once(&records_once, records_init);
    uv_mutex_lock(&records_lock);
    r->next = records;
    records = r;
    uv_mutex_unlock(&records_lock);
    op->has_mdls = true;
    return true;
}

/* records_lock held: the record of op for node (with mdl, unless NULL). */
static struct op_mdl **find_locked(const struct fltsim_op *op, ULONG node, PMDL mdl)
{
    for (struct op_mdl **p = &records; *p != NULL; p = &(*p)->next)
        if ((*p)->op == op && (*p)->node == node && (mdl == NULL || (*p)->mdl == mdl))
            return p;
    return NULL;
}

/* Whether mdl is one FltLockUserBuffer allocated for op. */
static bool owned_by(const struct fltsim_op *op, PMDL mdl)
{
    if (!op->has_mdls || mdl == NULL)
        return false;
    uv_mutex_lock(&records_lock);
    bool owned = find_locked(op, NO_NODE, mdl) != NULL;
    uv_mutex_unlock(&records_lock);
    return owned;
}

void fltsim__op_release_mdls(struct fltsim_op *op)
{
    struct op_mdl *mine = NULL;
    uv_mutex_lock(&records_lock);
    for (struct op_mdl **p = &records; *p != NULL;) {
        struct op_mdl *r = *p;
        if (r->op != op) {
            p = &r->next;
            continue;
        }
        *p = r->next;
        r->next = mine;
        mine = r;
    }
    uv_mutex_unlock(&records_lock);
    op->has_mdls = false;
    while (mine != NULL) {
        struct op_mdl *next = mine->next;
        /* A swapped-in MDL whose post never ended (none should be left)
         * goes as it would have then; the operation's own go now. */
        if (mine->node == NO_NODE || (!mine->retained && !mine->locked))
            fltsim__mdl_release(mine->mdl);
        free(mine);
        mine = next;
    }
}

/* ---- FltLockUserBuffer ---- */

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
    if (mdl == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    /* A system buffer is nonpaged pool; a user buffer is locked in the
     * requestor's mode, as the I/O manager would. */
    NTSTATUS status = STATUS_SUCCESS;
    if (CallbackData->Flags & FLTFL_CALLBACK_DATA_SYSTEM_BUFFER) {
        MmBuildMdlForNonPagedPool(mdl); /* reports a buffer that is not memory */
        if (!(mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL))
            status = STATUS_ACCESS_VIOLATION;
    } else {
        status = fltsim__mdl_lock(mdl, CallbackData->RequestorMode, d.access);
    }
    if (NT_SUCCESS(status) && !record(op, NO_NODE, mdl, true))
        status = STATUS_INSUFFICIENT_RESOURCES;
    if (!NT_SUCCESS(status)) {
        fltsim__mdl_release(mdl);
        return status;
    }
    /* The system's, not the filter's: IoFreeMdl refuses it (mdl.c). */
    mdl->MdlFlags |= MDL_INTERNAL;
    *d.mdl = mdl;
    /* From a pre (or while pended in one), the MDL goes down with the
     * operation: the data are dirty, as Microsoft Learn says. */
    if (op->phase == FLTSIM_PHASE_PRE && !op->drain_copy)
        CallbackData->Flags |= FLTFL_CALLBACK_DATA_DIRTY;
    return STATUS_SUCCESS;
}

/* ---- swapped buffers' MDLs ---- */

bool fltsim__pre_swapped(struct fltsim_op *op, ULONG node)
{
    struct decoded down, mine;
    PFLT_IO_PARAMETER_BLOCK view = &op->nodes[node].view;
    if (!decode(&op->iopb, op->data.Flags, &down) || !decode(view, op->data.Flags, &mine) ||
        down.mdl == NULL || mine.mdl == NULL)
        return true; /* a buffer without an MDL member: nothing to record */
    PMDL passed = *down.mdl, received = *mine.mdl;
    if (passed == received || passed == NULL)
        return true;
    bool locked = owned_by(op, passed);
    /* FltLockUserBuffer's MDL for the operation's own buffer: no swap. */
    if (locked && *down.buffer == *mine.buffer && received == NULL)
        return false;
    if (!record(op, node, passed, locked))
        fltsim__report(op->sys, NULL, op->nodes[node].instance, op, "SIM", "6.3",
                       "out of memory recording the MDL %p the pre-operation callback swapped "
                       "in: FltMgr will not free it after the post",
                       (void *)passed);
    return true;
}

void fltsim__swap_post_end(struct fltsim_op *op, ULONG node)
{
    if (!op->has_mdls)
        return;
    uv_mutex_lock(&records_lock);
    struct op_mdl **p = find_locked(op, node, NULL);
    struct op_mdl *r = p != NULL ? *p : NULL;
    if (r != NULL)
        *p = r->next;
    uv_mutex_unlock(&records_lock);
    if (r == NULL)
        return;
    if (!r->retained && !r->locked && !fltsim__mdl_release(r->mdl))
        fltsim__report(op->sys, NULL, op->nodes[node].instance, op, "MM", "6.3",
                       "the MDL %p the pre-operation callback passed down with its buffer was not "
                       "allocated by IoAllocateMdl: FltMgr frees a swapped-in MDL with IoFreeMdl "
                       "after the post (on Windows: bugcheck 0xC2, BAD_POOL_CALLER); call "
                       "FltRetainSwappedBufferMdlAddress in the post and release it yourself; "
                       "fltsim leaves it alone",
                       (void *)r->mdl);
    free(r);
}

/* The swapped-in MDL record of the post running on this thread for data;
 * NULL when it has none (or is not a post: reported). Returns with
 * records_lock held when op is set. */
static struct op_mdl *swap_record(PFLT_CALLBACK_DATA data, const char *api, struct fltsim_op **out)
{
    struct fltsim_op *op;
    ULONG node;
    *out = NULL;
    if (!fltsim__in_post(data, &op, &node)) {
        report(NULL, NULL,
               "%s outside the post-operation callback of the operation (%p): it may be called "
               "only from one; nothing done",
               api, (void *)data);
        return NULL;
    }
    /* A fast I/O operation's buffer never has an MDL (Microsoft Learn). */
    if (!op->has_mdls || !op->nodes[node].swapped || op->kind == FLTSIM_OP_FAST_IO)
        return NULL;
    uv_mutex_lock(&records_lock);
    *out = op;
    struct op_mdl **p = find_locked(op, node, NULL);
    return p != NULL ? *p : NULL;
}

PMDL FltGetSwappedBufferMdlAddress(PFLT_CALLBACK_DATA CallbackData)
{
    struct fltsim_op *op;
    struct op_mdl *r = swap_record(CallbackData, "FltGetSwappedBufferMdlAddress", &op);
    PMDL mdl = r != NULL ? r->mdl : NULL;
    if (op != NULL)
        uv_mutex_unlock(&records_lock);
    return mdl;
}

VOID FltRetainSwappedBufferMdlAddress(PFLT_CALLBACK_DATA CallbackData)
{
    struct fltsim_op *op;
    struct op_mdl *r = swap_record(CallbackData, "FltRetainSwappedBufferMdlAddress", &op);
    struct op_mdl *gone = NULL;
    if (r != NULL && !r->retained) {
        r->retained = true;
        if (r->locked) {
            /* FltLockUserBuffer's: the filter's now, to free with IoFreeMdl. */
            struct op_mdl **p = find_locked(op, NO_NODE, r->mdl);
            if (p != NULL) {
                gone = *p;
                *p = gone->next;
            }
            r->mdl->MdlFlags &= (CSHORT)~MDL_INTERNAL;
            r->locked = false;
        }
    }
    if (op != NULL)
        uv_mutex_unlock(&records_lock);
    free(gone);
}
