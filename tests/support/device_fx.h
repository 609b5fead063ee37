/*
 * PRIVATE to the device suites (test_device.c, test_device_io.c): a small
 * driver that creates a device object the way a control-device minifilter
 * does (IoCreateDevice in DriverEntry, its dispatch routine in every
 * MajorFunction[] slot, a FAST_IO_DISPATCH table the test fills, IoDeleteDevice
 * in its FilterUnloadCallback), configured before it loads and recording what
 * each of its routines saw of the IRP or fast I/O call (the code runs on
 * whichever thread sends or completes the request: it records, the test
 * asserts). Static, because each suite is one translation unit.
 */
#ifndef FLTSIM_DEVICE_FX_H
#define FLTSIM_DEVICE_FX_H

#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define DD_NAME L"\\FileSystem\\Filters\\TestCdo"
#define DD_POOL_TAG 'tdDT'

/* What the dispatch routine does with an IRP of a major function. */
enum dd_mode {
    DD_COMPLETE,           /* completes it with dd.status and the reply (the default) */
    DD_PEND,               /* IoMarkIrpPending, keeps it in dd.pended, STATUS_PENDING */
    DD_PEND_UNMARKED,      /* the same without IoMarkIrpPending */
    DD_PEND_COMPLETED,     /* marks it, has a worker complete it, waits, returns PENDING */
    DD_NO_COMPLETE,        /* keeps it and returns dd.status without completing it */
    DD_COMPLETE_TWICE,     /* completes it twice */
    DD_COMPLETE_PENDING,   /* completes it with IoStatus.Status STATUS_PENDING */
    DD_MARK_AND_COMPLETE,  /* IoMarkIrpPending, completes it, returns dd.status */
    DD_CANCEL_ROUTINE_SET, /* completes it with a cancel routine still set */
    DD_RAISE,              /* ExRaiseStatus(STATUS_DATATYPE_MISALIGNMENT) */
    DD_LEAK_POOL           /* allocates pool it never frees, then completes */
};

/* What the dispatch routine saw of the last IRP of a major function. */
struct dd_seen {
    IO_STACK_LOCATION sp;
    ULONG irp_flags;
    KPROCESSOR_MODE mode;
    PETHREAD thread;
    PVOID system_buffer, user_buffer;
    PMDL mdl;
    PVOID mdl_va; /* MmGetMdlVirtualAddress and MmGetMdlByteCount of mdl */
    ULONG mdl_bytes;
    PFILE_OBJECT original_file;
    BOOLEAN layout_ok; /* one stack location, current = Tail's, CurrentLocation 1 */
    LARGE_INTEGER allocation_size;
    WCHAR file_name[64];
    PFILE_OBJECT related;
    KIRQL irql;
    ULONG process_id;
    UCHAR data[64]; /* what a write or control carried in */
    ULONG data_length;
};

static struct {
    /* configuration, before load */
    const WCHAR *name; /* NULL: unnamed */
    ULONG extension_size;
    DEVICE_TYPE type;
    ULONG characteristics;
    BOOLEAN exclusive;
    ULONG do_flags;        /* DO_BUFFERED_IO / DO_DIRECT_IO set after creation */
    const WCHAR *link;     /* a symbolic link DriverEntry creates to the device */
    bool keep_device;      /* the unload callback does not delete the device */
    bool keep_link;        /* ... nor the link */
    bool no_dispatch;      /* leave MajorFunction[] as the I/O manager set it */
    FAST_IO_DISPATCH fast; /* installed when fast.SizeOfFastIoDispatch != 0 */
    enum dd_mode mode[IRP_MJ_MAXIMUM_FUNCTION + 1];
    NTSTATUS status;       /* what DD_COMPLETE completes with */
    ULONG_PTR information; /* ... and IoStatus.Information, when reply_length is 0 */
    UCHAR reply[64];       /* what a read or control returns */
    ULONG reply_length;
    NTSTATUS complete_status; /* what dd_complete_pended and DD_PEND_COMPLETED use */
    ULONG_PTR complete_information;

    /* while loaded */
    fltsim_system *sys;
    PDRIVER_OBJECT driver_object;
    PDEVICE_OBJECT device;
    PFLT_FILTER filter;
    NTSTATUS create_status; /* IoCreateDevice's in DriverEntry */
    NTSTATUS link_status;
    PIRP pended;   /* the IRP DD_PEND kept */
    PIRP last_irp; /* the last IRP seen (for misuse after its completion) */
    LONG calls[IRP_MJ_MAXIMUM_FUNCTION + 1];
    struct dd_seen seen[IRP_MJ_MAXIMUM_FUNCTION + 1];
    LONG unload_calls;
    KEVENT completed;    /* DD_PEND_COMPLETED: the worker completed the IRP */
    KEVENT pended_event; /* set when DD_PEND or DD_PEND_UNMARKED keeps an IRP */
    /* When set, the completer also waits for *complete_gate != 0 (a test
     * that needs the dispatch routine to have returned first). */
    const LONG *complete_gate;
} dd;

/* ---- the driver ---- */

static VOID dd_cancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    (void)DeviceObject;
    (void)Irp;
}

/* Where the data of a read, write or control is, as this device takes it. */
static inline PVOID dd_buffer(PIRP Irp, bool output)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    bool control = sp->MajorFunction == IRP_MJ_DEVICE_CONTROL ||
                   sp->MajorFunction == IRP_MJ_FILE_SYSTEM_CONTROL;
    if (control) {
        ULONG method = METHOD_FROM_CTL_CODE(sp->Parameters.DeviceIoControl.IoControlCode);
        if (method == METHOD_BUFFERED)
            return Irp->AssociatedIrp.SystemBuffer;
        if (method == METHOD_NEITHER)
            return output ? Irp->UserBuffer : sp->Parameters.DeviceIoControl.Type3InputBuffer;
        if (!output)
            return Irp->AssociatedIrp.SystemBuffer;
        return Irp->MdlAddress != NULL
                   ? MmGetSystemAddressForMdlSafe(Irp->MdlAddress, NormalPagePriority)
                   : NULL;
    }
    if (Irp->AssociatedIrp.SystemBuffer != NULL)
        return Irp->AssociatedIrp.SystemBuffer;
    if (Irp->MdlAddress != NULL)
        return MmGetSystemAddressForMdlSafe(Irp->MdlAddress, NormalPagePriority);
    return Irp->UserBuffer;
}

static void dd_complete_work(void *ctx)
{
    PIRP irp = ctx;
    irp->IoStatus.Status = dd.complete_status;
    irp->IoStatus.Information = dd.complete_information;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    KeSetEvent(&dd.completed, IO_NO_INCREMENT, FALSE);
}

static NTSTATUS dd_dispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    UCHAR major = sp->MajorFunction;
    struct dd_seen *seen = &dd.seen[major];
    memset(seen, 0, sizeof(*seen));
    seen->sp = *sp;
    seen->irp_flags = Irp->Flags;
    seen->mode = Irp->RequestorMode;
    seen->thread = Irp->Tail.Overlay.Thread;
    seen->system_buffer = Irp->AssociatedIrp.SystemBuffer;
    seen->user_buffer = Irp->UserBuffer;
    seen->mdl = Irp->MdlAddress;
    if (Irp->MdlAddress != NULL) {
        seen->mdl_va = MmGetMdlVirtualAddress(Irp->MdlAddress);
        seen->mdl_bytes = MmGetMdlByteCount(Irp->MdlAddress);
    }
    seen->original_file = Irp->Tail.Overlay.OriginalFileObject;
    seen->layout_ok = Irp->StackCount == 1 && Irp->CurrentLocation == 1 &&
                      sp == (PIO_STACK_LOCATION)(Irp + 1) && sp->DeviceObject == DeviceObject;
    seen->allocation_size = Irp->Overlay.AllocationSize;
    seen->irql = KeGetCurrentIrql();
    seen->process_id = (ULONG)(ULONG_PTR)PsGetCurrentProcessId();
    PFILE_OBJECT fo = sp->FileObject;
    if (fo != NULL) {
        size_t n = fo->FileName.Length / sizeof(WCHAR);
        if (n > 63)
            n = 63;
        memcpy(seen->file_name, fo->FileName.Buffer, n * sizeof(WCHAR));
        seen->related = fo->RelatedFileObject;
    }
    dd.last_irp = Irp;
    __atomic_add_fetch(&dd.calls[major], 1, __ATOMIC_SEQ_CST);

    /* Data in: a write's, or a control's input. */
    ULONG in_length = 0;
    if (major == IRP_MJ_WRITE)
        in_length = sp->Parameters.Write.Length;
    else if (major == IRP_MJ_DEVICE_CONTROL || major == IRP_MJ_FILE_SYSTEM_CONTROL)
        in_length = sp->Parameters.DeviceIoControl.InputBufferLength;
    PVOID in = in_length != 0 ? dd_buffer(Irp, false) : NULL;
    if (in != NULL) {
        seen->data_length = in_length < sizeof(seen->data) ? in_length : sizeof(seen->data);
        memcpy(seen->data, in, seen->data_length);
    }

    switch (dd.mode[major]) {
    case DD_PEND:
        IoMarkIrpPending(Irp);
        dd.pended = Irp;
        KeSetEvent(&dd.pended_event, IO_NO_INCREMENT, FALSE);
        return STATUS_PENDING;
    case DD_PEND_UNMARKED:
        dd.pended = Irp;
        KeSetEvent(&dd.pended_event, IO_NO_INCREMENT, FALSE);
        return STATUS_PENDING;
    case DD_PEND_COMPLETED:
        IoMarkIrpPending(Irp);
        KeClearEvent(&dd.completed);
        if (!NT_SUCCESS(fltsim_system_post_work(dd.sys, dd_complete_work, Irp)))
            return STATUS_INSUFFICIENT_RESOURCES;
        KeWaitForSingleObject(&dd.completed, Executive, KernelMode, FALSE, NULL);
        return STATUS_PENDING;
    case DD_NO_COMPLETE:
        dd.pended = Irp;
        return dd.status;
    case DD_RAISE:
        ExRaiseStatus(STATUS_DATATYPE_MISALIGNMENT);
        break;
    case DD_LEAK_POOL:
        (void)ExAllocatePool2(POOL_FLAG_PAGED, 32, DD_POOL_TAG);
        break;
    default:
        break;
    }

    /* Data out: a read's, or a control's output. */
    ULONG out_length = 0;
    if (major == IRP_MJ_READ)
        out_length = sp->Parameters.Read.Length;
    else if (major == IRP_MJ_DEVICE_CONTROL || major == IRP_MJ_FILE_SYSTEM_CONTROL)
        out_length = sp->Parameters.DeviceIoControl.OutputBufferLength;
    ULONG_PTR information = dd.information;
    if (out_length != 0 && dd.reply_length != 0) {
        PVOID out = dd_buffer(Irp, true);
        ULONG n = dd.reply_length < out_length ? dd.reply_length : out_length;
        if (out != NULL)
            memcpy(out, dd.reply, n);
        information = n;
    }
    NTSTATUS status = dd.status;
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information =
        major == IRP_MJ_CREATE && NT_SUCCESS(status) ? FILE_OPENED : information;
    switch (dd.mode[major]) {
    case DD_COMPLETE_PENDING:
        Irp->IoStatus.Status = STATUS_PENDING;
        break;
    case DD_MARK_AND_COMPLETE:
        IoMarkIrpPending(Irp);
        break;
    case DD_CANCEL_ROUTINE_SET:
        IoSetCancelRoutine(Irp, dd_cancel);
        break;
    default:
        break;
    }
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    if (dd.mode[major] == DD_COMPLETE_TWICE)
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

static NTSTATUS dd_unload(FLT_FILTER_UNLOAD_FLAGS Flags)
{
    (void)Flags;
    __atomic_add_fetch(&dd.unload_calls, 1, __ATOMIC_SEQ_CST);
    FltUnregisterFilter(dd.filter);
    if (dd.link != NULL && !dd.keep_link) {
        UNICODE_STRING link;
        RtlInitUnicodeString(&link, dd.link);
        IoDeleteSymbolicLink(&link);
    }
    if (dd.device != NULL && !dd.keep_device)
        IoDeleteDevice(dd.device);
    return STATUS_SUCCESS;
}

static const FLT_REGISTRATION dd_registration = {
    sizeof(FLT_REGISTRATION), FLT_REGISTRATION_VERSION, 0, NULL, NULL, dd_unload};

static NTSTATUS dd_entry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    (void)RegistryPath;
    dd.driver_object = DriverObject;
    NTSTATUS status = FltRegisterFilter(DriverObject, &dd_registration, &dd.filter);
    if (!NT_SUCCESS(status))
        return status;
    UNICODE_STRING name;
    if (dd.name != NULL)
        RtlInitUnicodeString(&name, dd.name);
    dd.create_status =
        IoCreateDevice(DriverObject, dd.extension_size, dd.name != NULL ? &name : NULL, dd.type,
                       dd.characteristics, dd.exclusive, &dd.device);
    if (!NT_SUCCESS(dd.create_status)) {
        dd.device = NULL;
        FltUnregisterFilter(dd.filter);
        return dd.create_status;
    }
    dd.device->Flags |= dd.do_flags;
    if (!dd.no_dispatch)
        for (int i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
            DriverObject->MajorFunction[i] = dd_dispatch;
    if (dd.fast.SizeOfFastIoDispatch != 0)
        DriverObject->FastIoDispatch = &dd.fast;
    if (dd.link != NULL) {
        UNICODE_STRING link;
        RtlInitUnicodeString(&link, dd.link);
        dd.link_status = IoCreateSymbolicLink(&link, &name);
    }
    return STATUS_SUCCESS;
}

/* Resets the driver's configuration and state: DD_NAME, no extension,
 * FILE_DEVICE_DISK_FILE_SYSTEM with FILE_DEVICE_SECURE_OPEN, not exclusive,
 * neither buffered nor direct, every IRP completed with STATUS_SUCCESS. */
static inline void dd_reset(void)
{
    memset(&dd, 0, sizeof(dd));
    dd.name = DD_NAME;
    dd.type = FILE_DEVICE_DISK_FILE_SYSTEM;
    dd.characteristics = FILE_DEVICE_SECURE_OPEN;
    dd.status = STATUS_SUCCESS;
    KeInitializeEvent(&dd.completed, NotificationEvent, FALSE);
    KeInitializeEvent(&dd.pended_event, SynchronizationEvent, FALSE);
}

/* Loads the driver (service "TestCdo") into sys. */
static inline NTSTATUS dd_load(fltsim_system *sys, fltsim_driver **out)
{
    dd.sys = sys;
    /* An instance definition (FltRegisterFilter wants one) that never
     * attaches by itself: the driver filters nothing. */
    static const struct fltsim_instance_def instance = {L"TestCdo Instance", L"361000",
                                                        FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC};
    struct fltsim_filter_def def = {L"TestCdo", L"TestCdo Instance", &instance, 1};
    return fltsim_driver_load(sys, &def, dd_entry, out);
}

/* Completes the IRP DD_PEND kept, from a system worker thread, with
 * dd.complete_status and dd.complete_information. */
static inline void dd_complete_pended_later(void)
{
    PIRP irp = dd.pended;
    dd.pended = NULL;
    assert_non_null(irp);
    assert_status(fltsim_system_post_work(dd.sys, dd_complete_work, irp), STATUS_SUCCESS);
}

/* A simulated thread that waits until the driver keeps an IRP (DD_PEND),
 * then completes it with dd.complete_status / dd.complete_information:
 * "another thread" for a requestor that waits. Join it after the I/O. */
static void dd_completer(void *ctx)
{
    (void)ctx;
    KeWaitForSingleObject(&dd.pended_event, Executive, KernelMode, FALSE, NULL);
    LARGE_INTEGER tick = {.QuadPart = -10000}; /* 1 ms */
    while (dd.complete_gate != NULL && __atomic_load_n(dd.complete_gate, __ATOMIC_ACQUIRE) == 0)
        KeDelayExecutionThread(KernelMode, FALSE, &tick);
    PIRP irp = dd.pended;
    dd.pended = NULL;
    irp->IoStatus.Status = dd.complete_status;
    irp->IoStatus.Information = dd.complete_information;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static inline fltsim_thread *dd_completer_start(void)
{
    fltsim_thread *t = NULL;
    assert_status(fltsim_thread_spawn(dd.sys, 4, 4242, dd_completer, NULL, &t), STATUS_SUCCESS);
    return t;
}

/* ---- the test's side ---- */

/* Opens name with access for synchronous I/O; *h set on success. */
static inline NTSTATUS dd_open(fltsim_system *sys, PCWSTR name, ACCESS_MASK access, HANDLE *h)
{
    struct fltsim_create_params p;
    memset(&p, 0, sizeof(p));
    p.path = name;
    p.desired_access = access | SYNCHRONIZE;
    p.share_access = FILE_SHARE_READ | FILE_SHARE_WRITE;
    p.disposition = FILE_OPEN;
    p.create_options = FILE_SYNCHRONOUS_IO_NONALERT;
    IO_STATUS_BLOCK iosb;
    *h = NULL;
    return fltsim_io_create(sys, &p, h, &iosb);
}

/* Reports of rule whose message contains text. */
static inline ULONG dd_reports(fltsim_system *sys, const char *rule, const char *text)
{
    ULONG n = 0, count = fltsim_system_report_count(sys);
    for (ULONG i = 0; i < count; i++) {
        struct fltsim_report r;
        if (fltsim_system_report_get(sys, i, &r) == STATUS_SUCCESS && strcmp(r.rule, rule) == 0 &&
            strstr(r.message, text) != NULL)
            n++;
    }
    return n;
}

/* Prints every report (to see why a count differs). */
static inline void dd_print_reports(fltsim_system *sys)
{
    ULONG count = fltsim_system_report_count(sys);
    for (ULONG i = 0; i < count; i++) {
        struct fltsim_report r;
        char buf[512];
        if (fltsim_system_report_get(sys, i, &r) == STATUS_SUCCESS)
            print_message("report: %s\n", fltsim_report_format(&r, buf, sizeof(buf)));
    }
}

static inline bool dd_wequal(const WCHAR *a, const WCHAR *b)
{
    while (*a != 0 && *a == *b)
        a++, b++;
    return *a == *b;
}

#endif /* FLTSIM_DEVICE_FX_H */
