/*
 * IRPs a driver builds and sends itself: IoBuildDeviceIoControlRequest (a
 * threaded IRP for a device-control request, METHOD_BUFFERED or
 * METHOD_NEITHER), IofCallDriver of such an IRP, and
 * IoGetAttachedDeviceReference (the top of a device's stack, referenced).
 * A driver's own device gets the IRP through its dispatch routine, as the
 * I/O manager's requests do (irp.c); a volume's file-system and storage
 * devices have no driver in fltsim, so an IRP sent to them completes with
 * STATUS_INVALID_DEVICE_REQUEST, as an unsupported request does. The
 * caller's IoStatusBlock and event are set when the request completes.
 */
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "nt_internal.h"

#define BUILT_MAGIC 0x444c4942u /* "BILD" */

/* An IRP IoBuildDeviceIoControlRequest made and IofCallDriver has not sent:
 * one stack location, the next (the target's), before the current. */
struct built_irp {
    ULONG magic;
    LIST_ENTRY link; /* built */
    PDEVICE_OBJECT target;
    PVOID output;
    ULONG output_length;
    void *system_buffer; /* METHOD_BUFFERED: max(input, output) bytes */
    PKEVENT event;
    PIO_STATUS_BLOCK iosb;
    IO_STACK_LOCATION stack[1];
    IRP irp;
};

static uv_once_t built_once = UV_ONCE_INIT;
static uv_mutex_t built_lock; /* a leaf */
static LIST_ENTRY built;

static void built_init(void)
{
    if (uv_mutex_init(&built_lock) != 0)
        abort();
    InitializeListHead(&built);
}

PIRP IoBuildDeviceIoControlRequest(ULONG IoControlCode, PDEVICE_OBJECT DeviceObject,
                                   PVOID InputBuffer, ULONG InputBufferLength, PVOID OutputBuffer,
                                   ULONG OutputBufferLength, BOOLEAN InternalDeviceIoControl,
                                   PKEVENT Event, PIO_STATUS_BLOCK IoStatusBlock)
{
    static const char api[] = "IoBuildDeviceIoControlRequest";
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, api);
    if (DeviceObject == NULL || IoStatusBlock == NULL) {
        (void)fltsim__fail(STATUS_INVALID_PARAMETER,
                           "%s: DeviceObject and IoStatusBlock are "
                           "required",
                           api);
        return NULL;
    }
    ULONG method = METHOD_FROM_CTL_CODE(IoControlCode);
    if (method == METHOD_IN_DIRECT || method == METHOD_OUT_DIRECT) {
        (void)fltsim__fail(STATUS_NOT_SUPPORTED,
                           "%s: control code 0x%08x is METHOD_IN/OUT_DIRECT; fltsim builds "
                           "METHOD_BUFFERED and METHOD_NEITHER requests only",
                           api, (unsigned)IoControlCode);
        return NULL;
    }
    struct built_irp *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    if (method == METHOD_BUFFERED) {
        ULONG n = InputBufferLength > OutputBufferLength ? InputBufferLength : OutputBufferLength;
        if (n != 0 && (b->system_buffer = calloc(1, n)) == NULL) {
            free(b);
            return NULL;
        }
        if (InputBufferLength != 0 && InputBuffer != NULL)
            memcpy(b->system_buffer, InputBuffer, InputBufferLength);
    }
    b->magic = BUILT_MAGIC;
    b->target = DeviceObject;
    b->output = OutputBuffer;
    b->output_length = OutputBufferLength;
    b->event = Event;
    b->iosb = IoStatusBlock;
    PIRP irp = &b->irp;
    irp->Type = FLTSIM_IO_TYPE_IRP;
    irp->Size = IoSizeOfIrp(1);
    irp->StackCount = 1;
    irp->CurrentLocation = 2; /* IoCallDriver moves it to the target's */
    irp->Tail.Overlay.CurrentStackLocation = &b->stack[1];
    irp->Tail.Overlay.Thread = fltsim_thread_current();
    irp->RequestorMode = KernelMode;
    irp->UserIosb = IoStatusBlock;
    irp->UserEvent = Event;
    irp->AssociatedIrp.SystemBuffer = b->system_buffer;
    irp->UserBuffer = OutputBuffer;
    InitializeListHead(&irp->ThreadListEntry);
    PIO_STACK_LOCATION sp = &b->stack[0];
    sp->MajorFunction =
        InternalDeviceIoControl ? IRP_MJ_INTERNAL_DEVICE_CONTROL : IRP_MJ_DEVICE_CONTROL;
    sp->Parameters.DeviceIoControl.IoControlCode = IoControlCode;
    sp->Parameters.DeviceIoControl.InputBufferLength = InputBufferLength;
    sp->Parameters.DeviceIoControl.OutputBufferLength = OutputBufferLength;
    if (method == METHOD_NEITHER)
        sp->Parameters.DeviceIoControl.Type3InputBuffer = InputBuffer;
    uv_once(&built_once, built_init);
    uv_mutex_lock(&built_lock);
    InsertTailList(&built, &b->link);
    uv_mutex_unlock(&built_lock);
    return irp;
}

/* The built IRP behind irp, taken out of the list; NULL when none. */
static struct built_irp *take_built(PIRP irp)
{
    struct built_irp *found = NULL;
    uv_once(&built_once, built_init);
    uv_mutex_lock(&built_lock);
    for (PLIST_ENTRY e = built.Flink; e != &built && found == NULL; e = e->Flink) {
        struct built_irp *b = CONTAINING_RECORD(e, struct built_irp, link);
        if (&b->irp == irp)
            found = b;
    }
    if (found != NULL)
        RemoveEntryList(&found->link);
    uv_mutex_unlock(&built_lock);
    return found;
}

/* Sends b's request to a driver's device through its dispatch routine. */
static NTSTATUS send_to_driver(struct built_irp *b, PDEVICE_OBJECT device, IO_STATUS_BLOCK *out)
{
    const IO_STACK_LOCATION *sp = &b->stack[0];
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = sp->MajorFunction;
    req.minor = sp->MinorFunction;
    req.operation_flags = sp->Flags;
    req.file_object = sp->FileObject;
    req.requestor_mode = KernelMode;
    ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;
    req.parameters.DeviceIoControl.Neither.OutputBufferLength =
        sp->Parameters.DeviceIoControl.OutputBufferLength;
    req.parameters.DeviceIoControl.Neither.InputBufferLength =
        sp->Parameters.DeviceIoControl.InputBufferLength;
    req.parameters.DeviceIoControl.Neither.IoControlCode = code;
    if (METHOD_FROM_CTL_CODE(code) == METHOD_BUFFERED) {
        req.irp_flags = IRP_BUFFERED_IO;
        req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
        req.parameters.DeviceIoControl.Buffered.SystemBuffer = b->system_buffer;
    } else {
        req.parameters.DeviceIoControl.Neither.InputBuffer =
            sp->Parameters.DeviceIoControl.Type3InputBuffer;
        req.parameters.DeviceIoControl.Neither.OutputBuffer = b->output;
    }
    NTSTATUS status = fltsim_device_dispatch(device, &req);
    *out = req.io_status;
    out->Status = status;
    return status;
}

NTSTATUS IofCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    static const char api[] = "IofCallDriver";
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, DISPATCH_LEVEL, api);
    struct built_irp *b = take_built(Irp);
    if (b == NULL) {
        fltsim__io_report(t->sys,
                          "%s(%p, %p): not an IRP built by IoBuildDeviceIoControlRequest and "
                          "not yet sent (fltsim models no other IRP a driver sends); "
                          "STATUS_INVALID_PARAMETER",
                          api, (void *)DeviceObject, (void *)Irp);
        return STATUS_INVALID_PARAMETER;
    }
    IO_STATUS_BLOCK done = {.Status = STATUS_INVALID_DEVICE_REQUEST};
    if (fltsim__device_lookup(DeviceObject) != NULL) {
        b->stack[0].DeviceObject = DeviceObject;
        send_to_driver(b, DeviceObject, &done);
    } else if (fltsim__volume_of_device(DeviceObject) == NULL) {
        fltsim__io_report(t->sys,
                          "%s(%p): not a device object (Windows: a crash); the request fails "
                          "with STATUS_INVALID_DEVICE_REQUEST",
                          api, (void *)DeviceObject);
    } /* else a volume's device: no driver answers it in fltsim */
    if (NT_SUCCESS(done.Status) && b->system_buffer != NULL && b->output != NULL) {
        ULONG_PTR n = done.Information < b->output_length ? done.Information : b->output_length;
        memcpy(b->output, b->system_buffer, n);
    }
    *b->iosb = done;
    if (b->event != NULL)
        KeSetEvent(b->event, IO_NO_INCREMENT, FALSE);
    free(b->system_buffer);
    b->magic = 0;
    free(b);
    return done.Status;
}

PDEVICE_OBJECT IoGetAttachedDeviceReference(PDEVICE_OBJECT DeviceObject)
{
    PDEVICE_OBJECT top = DeviceObject;
    if (top == NULL)
        return NULL;
    while (top->AttachedDevice != NULL)
        top = top->AttachedDevice;
    /* A driver's device is counted (ObDereferenceObject drops it); a
     * volume's devices live as long as the volume and are not. */
    (void)fltsim__device_ob_ref(top, 1);
    return top;
}

LONG_PTR fltsim__device_ob_ref(PVOID object, int delta)
{
    struct fltsim_device *dev = fltsim__device_lookup(object);
    if (dev == NULL)
        return -1;
    if (delta < 0) {
        LONG_PTR after = dev->object.ReferenceCount > 0 ? dev->object.ReferenceCount - 1 : 0;
        fltsim_device_file_object_closed(object); /* may free it */
        return after;
    }
    uv_mutex_lock(&dev->sys->lock);
    LONG_PTR after = ++dev->object.ReferenceCount;
    uv_mutex_unlock(&dev->sys->lock);
    return after;
}
