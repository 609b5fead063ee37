/*
 * The I/O manager's requests to a driver's own device objects (a control
 * device object is not a volume: FltMgr is not involved): the IRP built
 * from a request, with the stack location a dispatch routine reads and the
 * buffers its device's DO_BUFFERED_IO / DO_DIRECT_IO flags ask for; the call
 * to DriverObject->MajorFunction[]; IofCompleteRequest and the handshake
 * with a dispatch routine that returns STATUS_PENDING and completes the IRP
 * later on another thread; fast I/O through DriverObject->FastIoDispatch;
 * the Driver Verifier checks on the way (IO reports). Device objects and
 * their names are device.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"

/* ---- traces ---- */

static const char *major_name(UCHAR major)
{
    const char *name = fltsim_major_name(major);
    return name != NULL ? name : "an unknown major function";
}

/* What the trace says of a request, taken when it starts: a request that
 * pends may be gone (its file object too) by the time the driver's return
 * or its completion is traced. The detail is the full name opened: the
 * device's, then the file object's FileName below it. */
static void view_of(struct fltsim_req_view *v, const struct fltsim_device *dev,
                    const struct fltsim_request *req)
{
    v->op_id = req->op_id;
    v->kind = req->kind;
    v->major = req->major;
    v->minor = req->minor;
    size_t n = strlen(dev->name8);
    if (n >= sizeof(v->file))
        n = sizeof(v->file) - 1;
    memcpy(v->file, dev->name8, n);
    v->file[n] = 0;
    PFILE_OBJECT fo = req->file_object;
    if (fo != NULL && fo->FileName.Buffer != NULL)
        fltsim__ustr_to_utf8(&fo->FileName, v->file + n, sizeof(v->file) - n);
}

static void trace(struct fltsim_device *dev, const struct fltsim_req_view *v,
                  enum fltsim_event_type type, LONG status, ULONG_PTR information)
{
    if (!fltsim__tracing(dev->sys))
        return;
    struct fltsim_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.op_id = v->op_id;
    ev.kind = v->kind;
    ev.major = v->major;
    ev.minor = v->minor;
    ev.volume = dev->name8;
    ev.status = status;
    ev.information = information;
    ev.detail = v->file;
    fltsim__event_thread(&ev);
    fltsim__trace(dev->sys, &ev);
}

/* ---- calling the driver ---- */

bool fltsim__device_call(struct fltsim_device *dev, void (*fn)(void *ctx), void *ctx,
                         const char *what, NTSTATUS *code)
{
    fltsim_system *sys = dev->sys;
    struct fltsim_driver *drv = dev->driver;
    /* Charged to the driver while it is loaded; after its unload (its
     * devices still open) to nobody, as its pool was accounted then. */
    bool loaded = fltsim__device_driver_loaded(dev);
    struct _FLT_FILTER *filter = loaded ? drv->filter : NULL;
    struct fltsim_callout save;
    fltsim__enter(&save, sys, filter, NULL);
    struct fltsim_tls *t = fltsim__tls();
    struct fltsim_driver *outer = t->loading;
    t->loading = loaded ? drv : NULL;
    t->callout_what = what;
    struct fltsim_seh_frame seh;
    bool returned = fltsim__seh_call(&seh, fn, ctx);
    if (!returned) {
        char where[FLTSIM_NAME8_MAX + 64];
        snprintf(where, sizeof(where), "%s of %s", what, drv->name8);
        *code = fltsim__seh_uncaught(&seh, sys, filter, NULL, NULL, where,
                                     "fltsim ends it and the request fails with that status");
    }
    t->loading = outer;
    fltsim__leave(&save);
    return returned;
}

NTSTATUS fltsim__invalid_device_request(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    (void)DeviceObject;
    Irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
    Irp->IoStatus.Information = 0;
    IofCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_INVALID_DEVICE_REQUEST;
}

/* ---- building an IRP ---- */

/* The buffer of a read or write as the device takes it: a system buffer
 * (DO_BUFFERED_IO), an MDL of the caller's buffer (DO_DIRECT_IO), or the
 * caller's buffer itself (neither). */
static NTSTATUS read_write_buffer(struct fltsim_irp *r, struct fltsim_device *dev,
                                  const struct fltsim_request *req)
{
    PIRP irp = &r->irp;
    bool read = req->major == IRP_MJ_READ;
    ULONG length = req->parameters.Read.Length;
    void *buffer = req->parameters.Read.ReadBuffer;
    irp->UserBuffer = buffer;
    if (dev->object.Flags & DO_BUFFERED_IO) {
        irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | (read ? IRP_INPUT_OPERATION : 0);
        if (length == 0)
            return STATUS_SUCCESS;
        r->system_buffer = calloc(1, length);
        if (r->system_buffer == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        if (!read)
            memcpy(r->system_buffer, buffer, length);
        r->copy_back = read;
        irp->AssociatedIrp.SystemBuffer = r->system_buffer;
    } else if (dev->object.Flags & DO_DIRECT_IO) {
        if (req->parameters.Read.MdlAddress != NULL) {
            irp->MdlAddress = req->parameters.Read.MdlAddress; /* paging I/O's */
            return STATUS_SUCCESS;
        }
        if (length == 0)
            return STATUS_SUCCESS;
        PMDL mdl = fltsim__mdl_allocate_internal(buffer, length);
        if (mdl == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        NTSTATUS status =
            fltsim__mdl_lock(mdl, req->requestor_mode, read ? IoWriteAccess : IoReadAccess);
        if (!NT_SUCCESS(status)) {
            fltsim__mdl_release(mdl);
            return status;
        }
        r->mdl = mdl;
        irp->MdlAddress = mdl;
    }
    return STATUS_SUCCESS;
}

/* Fills r's IRP and stack location from req as the system service would:
 * the stack location's Parameters are the request's, and its buffers go
 * where the IRP keeps them for this major function. */
static NTSTATUS irp_build(struct fltsim_irp *r, struct fltsim_device *dev,
                          struct fltsim_request *req)
{
    PIRP irp = &r->irp;
    PIO_STACK_LOCATION sp = &r->stack[0];
    const FLT_PARAMETERS *p = &req->parameters;
    r->magic = FLTSIM_MAGIC_IRP;
    r->sys = dev->sys;
    r->dev = dev;
    r->req = req;
    irp->Type = FLTSIM_IO_TYPE_IRP;
    irp->Size = IoSizeOfIrp(1);
    irp->StackCount = 1;
    irp->CurrentLocation = 1; /* IoCallDriver has moved it to the device's location */
    irp->Tail.Overlay.CurrentStackLocation = sp;
    irp->Tail.Overlay.Thread = fltsim_thread_current();
    irp->Tail.Overlay.OriginalFileObject = req->file_object;
    irp->RequestorMode = req->requestor_mode;
    irp->Flags = req->irp_flags;
    irp->UserIosb = &r->user_iosb;
    InitializeListHead(&irp->ThreadListEntry);
    sp->MajorFunction = req->major;
    sp->MinorFunction = req->minor;
    sp->Flags = req->operation_flags;
    sp->DeviceObject = &dev->object;
    sp->FileObject = req->file_object;

    switch (req->major) {
    case IRP_MJ_CREATE:
        sp->Parameters.Create.SecurityContext = p->Create.SecurityContext;
        sp->Parameters.Create.Options = p->Create.Options;
        sp->Parameters.Create.FileAttributes = p->Create.FileAttributes;
        sp->Parameters.Create.ShareAccess = p->Create.ShareAccess;
        sp->Parameters.Create.EaLength = p->Create.EaLength;
        irp->AssociatedIrp.SystemBuffer = p->Create.EaBuffer;
        irp->Overlay.AllocationSize = p->Create.AllocationSize;
        break;
    case IRP_MJ_READ:
    case IRP_MJ_WRITE:
        sp->Parameters.Read.Length = p->Read.Length;
        sp->Parameters.Read.Key = p->Read.Key;
        sp->Parameters.Read.ByteOffset = p->Read.ByteOffset;
        return read_write_buffer(r, dev, req);
    case IRP_MJ_QUERY_INFORMATION:
        sp->Parameters.QueryFile.Length = p->QueryFileInformation.Length;
        sp->Parameters.QueryFile.FileInformationClass =
            p->QueryFileInformation.FileInformationClass;
        irp->AssociatedIrp.SystemBuffer = p->QueryFileInformation.InfoBuffer;
        break;
    case IRP_MJ_SET_INFORMATION:
        sp->Parameters.SetFile.Length = p->SetFileInformation.Length;
        sp->Parameters.SetFile.FileInformationClass = p->SetFileInformation.FileInformationClass;
        sp->Parameters.SetFile.FileObject = p->SetFileInformation.ParentOfTarget;
        sp->Parameters.SetFile.DeleteHandle = p->SetFileInformation.DeleteHandle; /* the union */
        irp->AssociatedIrp.SystemBuffer = p->SetFileInformation.InfoBuffer;
        break;
    case IRP_MJ_QUERY_EA:
        sp->Parameters.QueryEa.Length = p->QueryEa.Length;
        sp->Parameters.QueryEa.EaList = p->QueryEa.EaList;
        sp->Parameters.QueryEa.EaListLength = p->QueryEa.EaListLength;
        sp->Parameters.QueryEa.EaIndex = p->QueryEa.EaIndex;
        irp->UserBuffer = p->QueryEa.EaBuffer;
        irp->MdlAddress = p->QueryEa.MdlAddress;
        break;
    case IRP_MJ_SET_EA:
        sp->Parameters.SetEa.Length = p->SetEa.Length;
        irp->UserBuffer = p->SetEa.EaBuffer;
        irp->MdlAddress = p->SetEa.MdlAddress;
        break;
    case IRP_MJ_QUERY_VOLUME_INFORMATION:
    case IRP_MJ_SET_VOLUME_INFORMATION:
        sp->Parameters.QueryVolume.Length = p->QueryVolumeInformation.Length;
        sp->Parameters.QueryVolume.FsInformationClass =
            p->QueryVolumeInformation.FsInformationClass;
        irp->AssociatedIrp.SystemBuffer = p->QueryVolumeInformation.VolumeBuffer;
        break;
    case IRP_MJ_DIRECTORY_CONTROL:
        if (req->minor == IRP_MN_QUERY_DIRECTORY) {
            sp->Parameters.QueryDirectory.Length = p->DirectoryControl.QueryDirectory.Length;
            sp->Parameters.QueryDirectory.FileName = p->DirectoryControl.QueryDirectory.FileName;
            sp->Parameters.QueryDirectory.FileInformationClass =
                p->DirectoryControl.QueryDirectory.FileInformationClass;
            sp->Parameters.QueryDirectory.FileIndex = p->DirectoryControl.QueryDirectory.FileIndex;
        } else {
            sp->Parameters.NotifyDirectory.Length = p->DirectoryControl.NotifyDirectory.Length;
            sp->Parameters.NotifyDirectory.CompletionFilter =
                p->DirectoryControl.NotifyDirectory.CompletionFilter;
        }
        irp->UserBuffer = p->DirectoryControl.QueryDirectory.DirectoryBuffer;
        irp->MdlAddress = p->DirectoryControl.QueryDirectory.MdlAddress;
        break;
    case IRP_MJ_FILE_SYSTEM_CONTROL:
    case IRP_MJ_DEVICE_CONTROL:
    case IRP_MJ_INTERNAL_DEVICE_CONTROL: {
        /* The two control majors share one layout in both structures. */
        ULONG code = p->DeviceIoControl.Common.IoControlCode;
        sp->Parameters.DeviceIoControl.OutputBufferLength =
            p->DeviceIoControl.Common.OutputBufferLength;
        sp->Parameters.DeviceIoControl.InputBufferLength =
            p->DeviceIoControl.Common.InputBufferLength;
        sp->Parameters.DeviceIoControl.IoControlCode = code;
        switch (METHOD_FROM_CTL_CODE(code)) {
        case METHOD_BUFFERED:
            irp->AssociatedIrp.SystemBuffer = p->DeviceIoControl.Buffered.SystemBuffer;
            break;
        case METHOD_NEITHER:
            sp->Parameters.DeviceIoControl.Type3InputBuffer =
                p->DeviceIoControl.Neither.InputBuffer;
            irp->UserBuffer = p->DeviceIoControl.Neither.OutputBuffer;
            break;
        default:
            irp->AssociatedIrp.SystemBuffer = p->DeviceIoControl.Direct.InputSystemBuffer;
            irp->UserBuffer = p->DeviceIoControl.Direct.OutputBuffer;
            irp->MdlAddress = p->DeviceIoControl.Direct.OutputMdlAddress;
            break;
        }
        break;
    }
    case IRP_MJ_LOCK_CONTROL:
        sp->Parameters.LockControl.Length = p->LockControl.Length;
        sp->Parameters.LockControl.Key = p->LockControl.Key;
        sp->Parameters.LockControl.ByteOffset = p->LockControl.ByteOffset;
        break;
    case IRP_MJ_QUERY_SECURITY:
        sp->Parameters.QuerySecurity.SecurityInformation = p->QuerySecurity.SecurityInformation;
        sp->Parameters.QuerySecurity.Length = p->QuerySecurity.Length;
        irp->UserBuffer = p->QuerySecurity.SecurityBuffer;
        irp->MdlAddress = p->QuerySecurity.MdlAddress;
        break;
    case IRP_MJ_SET_SECURITY:
        sp->Parameters.SetSecurity.SecurityInformation = p->SetSecurity.SecurityInformation;
        sp->Parameters.SetSecurity.SecurityDescriptor = p->SetSecurity.SecurityDescriptor;
        break;
    default:
        break; /* cleanup, close, flush, shutdown: no parameters */
    }
    return STATUS_SUCCESS;
}

/* Hands an IRP back: its buffers and record go, and its device may go. */
static void irp_release(struct fltsim_irp *r)
{
    fltsim__io_registry_remove_irp(r);
    free(r->system_buffer);
    if (r->mdl != NULL)
        fltsim__mdl_release(r->mdl);
    struct fltsim_device *dev = r->dev;
    r->magic = FLTSIM_MAGIC_DEAD;
    free(r);
    fltsim__device_irp_done(dev);
}

/* Registry lock held: a buffered read's data goes to the caller's buffer. */
static void copy_back_locked(struct fltsim_irp *r)
{
    if (!r->copy_back || NT_ERROR(r->final.Status))
        return;
    ULONG_PTR n = r->final.Information;
    ULONG length = r->req->parameters.Read.Length;
    memcpy(r->req->parameters.Read.ReadBuffer, r->system_buffer, n < length ? n : length);
}

/* ---- completion ---- */

VOID IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    (void)PriorityBoost; /* no scheduler to boost */
    fltsim__io_registry_lock();
    struct fltsim_irp *r = Irp != NULL ? fltsim__io_registry_find_irp_locked(Irp) : NULL;
    bool twice = r != NULL && r->completing;
    if (r != NULL)
        r->completing = true;
    fltsim__io_registry_unlock();
    if (r == NULL) {
        fltsim__io_report(
            NULL,
            "IofCompleteRequest called with %s (Windows: MULTIPLE_IRP_COMPLETE_REQUESTS, "
            "bugcheck 0x44, or a crash); fltsim ignores it",
            Irp == NULL ? "NULL"
                        : "an IRP the I/O manager does not have out: one completed and "
                          "handed back already, or not an IRP");
        return;
    }
    fltsim_system *sys = r->sys;
    if (twice) {
        fltsim__io_report(
            sys,
            "IofCompleteRequest called twice for the %s IRP of %s (Windows: "
            "MULTIPLE_IRP_COMPLETE_REQUESTS, bugcheck 0x44); fltsim ignores the second",
            major_name(r->stack[0].MajorFunction), r->dev->name8);
        return;
    }
    fltsim__check_irql(sys, DISPATCH_LEVEL, "IofCompleteRequest");
    if (Irp->IoStatus.Status == STATUS_PENDING) {
        fltsim__io_report(
            sys,
            "the %s IRP of %s was completed with IoStatus.Status STATUS_PENDING (a completed "
            "IRP needs its final status); fltsim completes it with STATUS_UNSUCCESSFUL",
            major_name(r->stack[0].MajorFunction), r->dev->name8);
        Irp->IoStatus.Status = STATUS_UNSUCCESSFUL;
    }
    if (Irp->CancelRoutine != NULL) {
        fltsim__io_report(
            sys,
            "the %s IRP of %s was completed with its cancel routine still set (IoSetCancelRoutine "
            "NULL first); fltsim clears it",
            major_name(r->stack[0].MajorFunction), r->dev->name8);
        Irp->CancelRoutine = NULL;
    }
    Irp->PendingReturned = (r->stack[0].Control & SL_PENDING_RETURNED) != 0;

    fltsim__io_registry_lock();
    r->final = Irp->IoStatus;
    r->completed = true;
    enum fltsim_irp_state state = r->state;
    if (state == FLTSIM_IRP_DISPATCHING || state == FLTSIM_IRP_PENDED)
        copy_back_locked(r); /* the caller's buffer is there until it is told */
    if (state != FLTSIM_IRP_DISPATCHING)
        r->state = FLTSIM_IRP_FINISHING;
    fltsim__io_registry_unlock();

    switch (state) {
    case FLTSIM_IRP_DISPATCHING:
        return; /* the dispatch routine's caller hands it back */
    case FLTSIM_IRP_ABANDONED:
        irp_release(r); /* its requestor has gone on long ago */
        return;
    default:
        break;
    }
    /* Pended: this thread finishes the request. */
    struct fltsim_request *req = r->req;
    req->io_status = r->final;
    trace(r->dev, &r->view, FLTSIM_EV_IO_COMPLETE, r->final.Status, r->final.Information);
    if (req->complete_cb != NULL) {
        irp_release(r);
        req->complete_cb(req, req->complete_ctx);
        return;
    }
    /* The requestor waits in fltsim_device_dispatch and frees it. */
    uv_mutex_lock(&sys->lock);
    r->waiter_done = true;
    fltsim__broadcast_locked(sys);
    uv_mutex_unlock(&sys->lock);
}

/* ---- sending an IRP ---- */

struct dispatch_call {
    PDRIVER_DISPATCH routine;
    PDEVICE_OBJECT device;
    PIRP irp;
    NTSTATUS status;
};

static void dispatch_thunk(void *ctx)
{
    struct dispatch_call *c = ctx;
    c->status = c->routine(c->device, c->irp);
}

static NTSTATUS fast_io(struct fltsim_device *dev, struct fltsim_request *req);

NTSTATUS fltsim_device_dispatch(PDEVICE_OBJECT device, struct fltsim_request *req)
{
    struct fltsim_device *dev = fltsim__device_lookup(device);
    if (dev == NULL || req == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_device_dispatch: a device object and a request are required");
    fltsim_system *sys = dev->sys;
    req->op_id = 0;
    memset(&req->io_status, 0, sizeof(req->io_status));
    if (req->kind == FLTSIM_OP_FAST_IO)
        return fast_io(dev, req);
    if (req->kind == FLTSIM_OP_FS_FILTER) {
        /* The callbacks of a file system's FCB: a device's file object has
         * none (no section, no cache map), so nothing acquires for it. */
        req->op_id = __atomic_add_fetch(&sys->next_op_id, 1, __ATOMIC_SEQ_CST);
        struct fltsim_req_view view;
        view_of(&view, dev, req);
        trace(dev, &view, FLTSIM_EV_IO_START, 0, 0);
        req->io_status.Status = STATUS_INVALID_DEVICE_REQUEST;
        trace(dev, &view, FLTSIM_EV_IO_COMPLETE, STATUS_INVALID_DEVICE_REQUEST, 0);
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    if (req->kind != FLTSIM_OP_IRP || req->major > IRP_MJ_MAXIMUM_FUNCTION)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_device_dispatch: an IRP needs a major function up to "
                            "IRP_MJ_MAXIMUM_FUNCTION");

    struct fltsim_irp *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS status = irp_build(r, dev, req);
    if (!NT_SUCCESS(status)) {
        free(r->system_buffer);
        if (r->mdl != NULL)
            fltsim__mdl_release(r->mdl);
        free(r);
        return status;
    }
    uv_mutex_lock(&sys->lock);
    dev->irps++;
    uv_mutex_unlock(&sys->lock);
    r->state = FLTSIM_IRP_DISPATCHING;
    fltsim__io_registry_add_irp(r);
    req->op_id = __atomic_add_fetch(&sys->next_op_id, 1, __ATOMIC_SEQ_CST);
    view_of(&r->view, dev, req);
    const struct fltsim_req_view *view = &r->view;
    struct fltsim_req_view after; /* what is traced once the IRP may be gone */
    trace(dev, view, FLTSIM_EV_IO_START, 0, 0);
    trace(dev, view, FLTSIM_EV_FS, 0, 0);

    PDRIVER_DISPATCH routine = dev->object.DriverObject->MajorFunction[req->major];
    if (routine == NULL) {
        fltsim__io_report(
            sys,
            "MajorFunction[%s] of %s is NULL: the I/O manager calls it for %s (Windows: a "
            "crash); fltsim fails the request as IopInvalidDeviceRequest does",
            major_name(req->major), dev->driver->name8, dev->name8);
        routine = fltsim__invalid_device_request;
    }
    struct dispatch_call call = {routine, device, &r->irp, STATUS_SUCCESS};
    NTSTATUS code = STATUS_SUCCESS;
    if (!fltsim__device_call(dev, dispatch_thunk, &call, "the dispatch routine", &code)) {
        call.status = code;
        fltsim__io_registry_lock();
        bool completing = r->completing;
        fltsim__io_registry_unlock();
        if (!completing) { /* the request fails with the exception's code */
            r->irp.IoStatus.Status = code;
            r->irp.IoStatus.Information = 0;
            IofCompleteRequest(&r->irp, IO_NO_INCREMENT);
        }
    }
    status = call.status;
    bool marked = (r->stack[0].Control & SL_PENDING_RETURNED) != 0;
    after = *view;
    view = &after;
    fltsim__io_registry_lock();
    bool completed = r->completed;
    r->state = completed                  ? FLTSIM_IRP_FINISHING
               : status == STATUS_PENDING ? FLTSIM_IRP_PENDED
                                          : FLTSIM_IRP_ABANDONED;
    ULONG_PTR information = completed ? r->final.Information : 0;
    fltsim__io_registry_unlock();
    /* After the unlock a pended IRP belongs to its completer, and an
     * overlapped request may be gone with it: only `after` and dev (which a
     * file object of the requestor holds) are used below. */
    trace(dev, view, FLTSIM_EV_FS_RETURN, status, information);
    if (status == STATUS_PENDING && !marked)
        fltsim__io_report(
            sys,
            "the dispatch routine of %s returned STATUS_PENDING for a %s IRP without calling "
            "IoMarkIrpPending (MarkIrpPending2)",
            dev->driver->name8, major_name(view->major));
    else if (status != STATUS_PENDING && marked) {
        char name[64];
        fltsim__io_report(
            sys,
            "the dispatch routine of %s called IoMarkIrpPending for a %s IRP and returned %s, "
            "not STATUS_PENDING (MarkIrpPending)",
            dev->driver->name8, major_name(view->major),
            fltsim_ntstatus_format(status, name, sizeof(name)));
    }

    if (completed) {
        req->io_status = r->final;
        trace(dev, view, FLTSIM_EV_IO_COMPLETE, r->final.Status, r->final.Information);
        irp_release(r);
        if (status == STATUS_PENDING && req->complete_cb != NULL) {
            /* Completed, but the caller was told it pends: it hears of it
             * as of a later completion. */
            req->complete_cb(req, req->complete_ctx);
            return STATUS_PENDING;
        }
        return req->io_status.Status;
    }
    if (status == STATUS_PENDING) {
        if (req->complete_cb != NULL)
            return STATUS_PENDING; /* IofCompleteRequest calls complete_cb */
        uv_mutex_lock(&sys->lock);
        while (!r->waiter_done)
            fltsim__sys_wait_locked(sys, 0);
        uv_mutex_unlock(&sys->lock);
        irp_release(r);
        return req->io_status.Status;
    }
    char name[64];
    fltsim__io_report(
        sys,
        "the dispatch routine of %s returned %s for a %s IRP without completing it or "
        "returning STATUS_PENDING: the request ends with that status and the IRP is lost "
        "until it is completed",
        dev->driver->name8, fltsim_ntstatus_format(status, name, sizeof(name)),
        major_name(view->major));
    req->io_status.Status = status;
    req->io_status.Information = 0;
    trace(dev, view, FLTSIM_EV_IO_COMPLETE, status, 0);
    return status;
}

/* ---- fast I/O ---- */

/* The FAST_IO_DISPATCH member that serves req, or (size_t)-1 for none. */
static size_t fast_member(const struct fltsim_request *req)
{
    switch (req->major) {
    case IRP_MJ_READ:
        return offsetof(FAST_IO_DISPATCH, FastIoRead);
    case IRP_MJ_WRITE:
        return offsetof(FAST_IO_DISPATCH, FastIoWrite);
    case IRP_MJ_QUERY_INFORMATION:
        switch (req->parameters.QueryFileInformation.FileInformationClass) {
        case FileBasicInformation:
            return offsetof(FAST_IO_DISPATCH, FastIoQueryBasicInfo);
        case FileStandardInformation:
            return offsetof(FAST_IO_DISPATCH, FastIoQueryStandardInfo);
        case FileNetworkOpenInformation:
            return offsetof(FAST_IO_DISPATCH, FastIoQueryNetworkOpenInfo);
        default:
            return (size_t)-1;
        }
    case IRP_MJ_LOCK_CONTROL:
        switch (req->minor) {
        case IRP_MN_LOCK:
            return offsetof(FAST_IO_DISPATCH, FastIoLock);
        case IRP_MN_UNLOCK_SINGLE:
            return offsetof(FAST_IO_DISPATCH, FastIoUnlockSingle);
        case IRP_MN_UNLOCK_ALL:
            return offsetof(FAST_IO_DISPATCH, FastIoUnlockAll);
        case IRP_MN_UNLOCK_ALL_BY_KEY:
            return offsetof(FAST_IO_DISPATCH, FastIoUnlockAllByKey);
        default:
            return (size_t)-1;
        }
    case IRP_MJ_DEVICE_CONTROL:
        return offsetof(FAST_IO_DISPATCH, FastIoDeviceControl);
    case IRP_MJ_NETWORK_QUERY_OPEN:
        return offsetof(FAST_IO_DISPATCH, FastIoQueryOpen);
    default:
        return (size_t)-1;
    }
}

struct fast_call {
    PFAST_IO_DISPATCH table;
    struct fltsim_request *req;
    PDEVICE_OBJECT device;
    struct fltsim_irp *query_open; /* the create IRP FastIoQueryOpen gets */
    IO_STATUS_BLOCK iosb;
    BOOLEAN handled;
};

static void fast_thunk(void *ctx)
{
    struct fast_call *c = ctx;
    PFAST_IO_DISPATCH f = c->table;
    struct fltsim_request *req = c->req;
    FLT_PARAMETERS *p = &req->parameters;
    PFILE_OBJECT fo = req->file_object;
    PDEVICE_OBJECT d = c->device;
    PEPROCESS process = fltsim__process_object(fltsim_thread_process_id());
    switch (req->major) {
    case IRP_MJ_READ:
        c->handled = f->FastIoRead(fo, &p->Read.ByteOffset, p->Read.Length, TRUE, p->Read.Key,
                                   p->Read.ReadBuffer, &c->iosb, d);
        break;
    case IRP_MJ_WRITE:
        c->handled = f->FastIoWrite(fo, &p->Write.ByteOffset, p->Write.Length, TRUE, p->Write.Key,
                                    p->Write.WriteBuffer, &c->iosb, d);
        break;
    case IRP_MJ_QUERY_INFORMATION: {
        void *buffer = p->QueryFileInformation.InfoBuffer;
        switch (p->QueryFileInformation.FileInformationClass) {
        case FileBasicInformation:
            c->handled = f->FastIoQueryBasicInfo(fo, TRUE, buffer, &c->iosb, d);
            break;
        case FileStandardInformation:
            c->handled = f->FastIoQueryStandardInfo(fo, TRUE, buffer, &c->iosb, d);
            break;
        default:
            c->handled = f->FastIoQueryNetworkOpenInfo(fo, TRUE, buffer, &c->iosb, d);
            break;
        }
        break;
    }
    case IRP_MJ_LOCK_CONTROL:
        switch (req->minor) {
        case IRP_MN_LOCK:
            c->handled = f->FastIoLock(fo, &p->LockControl.ByteOffset, p->LockControl.Length,
                                       process, p->LockControl.Key, p->LockControl.FailImmediately,
                                       p->LockControl.ExclusiveLock, &c->iosb, d);
            break;
        case IRP_MN_UNLOCK_SINGLE:
            c->handled =
                f->FastIoUnlockSingle(fo, &p->LockControl.ByteOffset, p->LockControl.Length,
                                      process, p->LockControl.Key, &c->iosb, d);
            break;
        case IRP_MN_UNLOCK_ALL:
            c->handled = f->FastIoUnlockAll(fo, process, &c->iosb, d);
            break;
        default:
            c->handled = f->FastIoUnlockAllByKey(fo, process, p->LockControl.Key, &c->iosb, d);
            break;
        }
        break;
    case IRP_MJ_DEVICE_CONTROL:
        c->handled = f->FastIoDeviceControl(fo, TRUE, p->DeviceIoControl.FastIo.InputBuffer,
                                            p->DeviceIoControl.FastIo.InputBufferLength,
                                            p->DeviceIoControl.FastIo.OutputBuffer,
                                            p->DeviceIoControl.FastIo.OutputBufferLength,
                                            p->DeviceIoControl.FastIo.IoControlCode, &c->iosb, d);
        break;
    default: /* IRP_MJ_NETWORK_QUERY_OPEN */
        c->handled =
            f->FastIoQueryOpen(&c->query_open->irp, p->NetworkQueryOpen.NetworkInformation, d);
        c->iosb = c->query_open->irp.IoStatus;
        break;
    }
}

/* Whether a query buffer holds the class's record (the I/O manager sends
 * short buffers as IRPs, which say how short). */
static bool fast_buffer_fits(const struct fltsim_request *req)
{
    if (req->major != IRP_MJ_QUERY_INFORMATION)
        return true;
    ULONG need;
    switch (req->parameters.QueryFileInformation.FileInformationClass) {
    case FileBasicInformation:
        need = sizeof(FILE_BASIC_INFORMATION);
        break;
    case FileStandardInformation:
        need = sizeof(FILE_STANDARD_INFORMATION);
        break;
    default:
        need = sizeof(FILE_NETWORK_OPEN_INFORMATION);
        break;
    }
    return req->parameters.QueryFileInformation.InfoBuffer != NULL &&
           req->parameters.QueryFileInformation.Length >= need;
}

/* A fast I/O request: the driver's FastIoDispatch routine for it, when its
 * table is long enough to have one and it is set, as the I/O manager checks;
 * STATUS_FLT_DISALLOW_FAST_IO ("send an IRP") when there is none or it
 * returns FALSE. */
static NTSTATUS fast_io(struct fltsim_device *dev, struct fltsim_request *req)
{
    fltsim_system *sys = dev->sys;
    PFAST_IO_DISPATCH table = dev->object.DriverObject->FastIoDispatch;
    size_t member = fast_member(req);
    void *routine = NULL;
    if (table != NULL && member != (size_t)-1 &&
        table->SizeOfFastIoDispatch >= member + sizeof(void *))
        memcpy(&routine, (char *)table + member, sizeof(routine));
    if (!fast_buffer_fits(req))
        routine = NULL;
    struct fltsim_irp *query_open = NULL;
    if (routine != NULL && req->major == IRP_MJ_NETWORK_QUERY_OPEN) {
        /* The create IRP of the open it stands for, never completed. */
        query_open = calloc(1, sizeof(*query_open));
        if (query_open == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        struct fltsim_request create;
        memset(&create, 0, sizeof(create));
        create.kind = FLTSIM_OP_IRP;
        create.major = IRP_MJ_CREATE;
        create.irp_flags = IRP_CREATE_OPERATION | IRP_SYNCHRONOUS_API;
        create.file_object = req->file_object;
        create.requestor_mode = req->requestor_mode;
        irp_build(query_open, dev, &create); /* cannot fail for a create */
        query_open->req = NULL;
    }
    req->op_id = __atomic_add_fetch(&sys->next_op_id, 1, __ATOMIC_SEQ_CST);
    struct fltsim_req_view view;
    view_of(&view, dev, req);
    trace(dev, &view, FLTSIM_EV_IO_START, 0, 0);
    NTSTATUS status = STATUS_FLT_DISALLOW_FAST_IO;
    if (routine != NULL) {
        struct fast_call call;
        memset(&call, 0, sizeof(call));
        call.table = table;
        call.req = req;
        call.device = &dev->object;
        call.query_open = query_open;
        trace(dev, &view, FLTSIM_EV_FS, 0, 0);
        NTSTATUS code = STATUS_SUCCESS;
        if (!fltsim__device_call(dev, fast_thunk, &call, "a fast I/O routine", &code)) {
            call.handled = TRUE;
            call.iosb.Status = code;
            call.iosb.Information = 0;
        }
        free(query_open);
        if (call.handled) {
            req->io_status = call.iosb;
            status = call.iosb.Status;
        }
        trace(dev, &view, FLTSIM_EV_FS_RETURN, status, call.handled ? call.iosb.Information : 0);
    }
    if (status == STATUS_FLT_DISALLOW_FAST_IO)
        req->io_status.Status = status;
    trace(dev, &view, FLTSIM_EV_IO_COMPLETE, status, req->io_status.Information);
    return status;
}

/* ---- system destruction ---- */

void fltsim__irps_system_destroyed(fltsim_system *sys)
{
    for (;;) {
        /* One IRP of sys at a time: completing it may send more (a close). */
        struct fltsim_irp *r = NULL;
        fltsim__io_registry_lock();
        for (PLIST_ENTRY e = fltsim__io_registry_irps()->Flink; e != fltsim__io_registry_irps();
             e = e->Flink) {
            struct fltsim_irp *x = CONTAINING_RECORD(e, struct fltsim_irp, registry_link);
            if (x->sys == sys && x->state != FLTSIM_IRP_FINISHING && !x->completing) {
                r = x;
                break;
            }
        }
        enum fltsim_irp_state state = r != NULL ? r->state : FLTSIM_IRP_FINISHING;
        if (r != NULL && state == FLTSIM_IRP_ABANDONED)
            r->completing = true;
        fltsim__io_registry_unlock();
        if (r == NULL)
            return;
        if (state == FLTSIM_IRP_ABANDONED) {
            irp_release(r); /* reported when its dispatch routine returned */
            continue;
        }
        fltsim__io_report(
            sys,
            "the %s IRP of %s was never completed (the system is shutting down); fltsim "
            "completes it with STATUS_CANCELLED",
            major_name(r->stack[0].MajorFunction), r->dev->name8);
        r->irp.IoStatus.Status = STATUS_CANCELLED;
        r->irp.IoStatus.Information = 0;
        IofCompleteRequest(&r->irp, IO_NO_INCREMENT);
    }
}
