/*
 * IRPs a driver builds and sends itself (issue 19 item 6, avscan's csvfs.c):
 * IoGetAttachedDeviceReference, IoBuildDeviceIoControlRequest and
 * IoCallDriver to a driver's own device (its dispatch routine sees the
 * control code and the input in the system buffer; the output comes back,
 * the IoStatusBlock and the event are set) and to a volume's storage device
 * (no driver answers it: STATUS_INVALID_DEVICE_REQUEST, as avscan's
 * IOCTL_DISK_GET_CLUSTER_INFO finds a disk that is not clustered); an IRP
 * the I/O manager did not build is refused. Under both executors.
 */
#include <stdlib.h>
#include <string.h>

#include "device_fx.h"

#include <ntdddisk.h>

#define TEST_IOCTL CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)

struct fx {
    struct test_world w;
    fltsim_driver *drv;
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    world_create(&x->w, 0);
    dd_reset();
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    world_destroy(&x->w);
    free(x);
    return 0;
}

static void test_control_to_a_driver_device(void **state)
{
    struct fx *x = *state;
    memcpy(dd.reply, "answer", 6);
    dd.reply_length = 6;
    assert_status(dd_load(x->w.sys, &x->drv), STATUS_SUCCESS);
    LONG refs = dd.device->ReferenceCount;
    PDEVICE_OBJECT top = IoGetAttachedDeviceReference(dd.device);
    assert_ptr_equal(top, dd.device); /* nothing is attached above it */
    assert_int_equal(dd.device->ReferenceCount, refs + 1);

    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    IO_STATUS_BLOCK iosb = {.Status = STATUS_PENDING};
    char out[8] = {0};
    PIRP irp = IoBuildDeviceIoControlRequest(TEST_IOCTL, top, (char[]){"in"}, 2, out, sizeof(out),
                                             FALSE, &event, &iosb);
    assert_non_null(irp);
    assert_int_equal(IoGetNextIrpStackLocation(irp)->MajorFunction, IRP_MJ_DEVICE_CONTROL);
    assert_status(IoCallDriver(top, irp), STATUS_SUCCESS);
    assert_int_equal(dd.calls[IRP_MJ_DEVICE_CONTROL], 1);
    const struct dd_seen *s = &dd.seen[IRP_MJ_DEVICE_CONTROL];
    assert_int_equal(s->sp.Parameters.DeviceIoControl.IoControlCode, TEST_IOCTL);
    assert_int_equal(s->sp.Parameters.DeviceIoControl.InputBufferLength, 2);
    assert_int_equal(s->sp.Parameters.DeviceIoControl.OutputBufferLength, sizeof(out));
    assert_int_equal(s->data_length, 2);
    assert_memory_equal(s->data, "in", 2);
    assert_status(iosb.Status, STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 6);
    assert_memory_equal(out, "answer", 6);
    assert_int_equal(KeReadStateEvent(&event), 1);

    ObDereferenceObject(top);
    assert_int_equal(dd.device->ReferenceCount, refs);
    assert_status(fltsim_driver_unload(x->drv, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 0);
}

/* csvfs.c's AvIsCsvVolume: the disk under the volume, the top of its stack,
 * IOCTL_DISK_GET_CLUSTER_INFO. */
static void test_control_to_a_volume_disk(void **state)
{
    struct fx *x = *state;
    PDEVICE_OBJECT disk = NULL;
    assert_status(FltGetDiskDeviceObject(x->w.volume, &disk), STATUS_SUCCESS);
    PDEVICE_OBJECT top = IoGetAttachedDeviceReference(disk);
    assert_ptr_equal(top, disk);
    KEVENT event;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    IO_STATUS_BLOCK iosb = {.Status = STATUS_PENDING};
    DISK_CLUSTER_INFO info;
    memset(&info, 0xAB, sizeof(info));
    PIRP irp = IoBuildDeviceIoControlRequest(IOCTL_DISK_GET_CLUSTER_INFO, top, NULL, 0, &info,
                                             sizeof(info), FALSE, &event, &iosb);
    assert_non_null(irp);
    assert_status(IoCallDriver(top, irp), STATUS_INVALID_DEVICE_REQUEST);
    assert_status(iosb.Status, STATUS_INVALID_DEVICE_REQUEST);
    assert_int_equal(KeReadStateEvent(&event), 1);
    ObDereferenceObject(top);
    ObDereferenceObject(disk);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 0);
}

static void test_bad_irps(void **state)
{
    struct fx *x = *state;
    PDEVICE_OBJECT disk = NULL;
    assert_status(FltGetDiskDeviceObject(x->w.volume, &disk), STATUS_SUCCESS);
    IRP fake;
    memset(&fake, 0, sizeof(fake));
    assert_status(IoCallDriver(disk, &fake), STATUS_INVALID_PARAMETER);
    IO_STATUS_BLOCK iosb;
    /* A direct-I/O control code, and no device. */
    assert_null(IoBuildDeviceIoControlRequest(
        CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_OUT_DIRECT, FILE_ANY_ACCESS), disk, NULL, 0,
        NULL, 0, FALSE, NULL, &iosb));
    assert_null(
        IoBuildDeviceIoControlRequest(TEST_IOCTL, NULL, NULL, 0, NULL, 0, FALSE, NULL, &iosb));
    /* A built IRP goes once: the second send is refused. */
    PIRP irp = IoBuildDeviceIoControlRequest(TEST_IOCTL, disk, NULL, 0, NULL, 0, TRUE, NULL, &iosb);
    assert_non_null(irp);
    assert_int_equal(IoGetNextIrpStackLocation(irp)->MajorFunction, IRP_MJ_INTERNAL_DEVICE_CONTROL);
    assert_status(IoCallDriver(disk, irp), STATUS_INVALID_DEVICE_REQUEST);
    assert_status(IoCallDriver(disk, irp), STATUS_INVALID_PARAMETER);
    ObDereferenceObject(disk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_control_to_a_driver_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_to_a_volume_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_irps, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("irp_build", tests);
}
