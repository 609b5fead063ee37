/*
 * What a filter asks of a volume's devices (issue 18 item 8):
 * FltGetVolumeProperties (the fixed part, the three names after it,
 * STATUS_BUFFER_TOO_SMALL with the size needed, STATUS_BUFFER_OVERFLOW with
 * the fixed part), FltIsVolumeWritable (a read-only disk declines an
 * instance, as the delete sample does), FltIsVolumeSnapshot,
 * FltGetDeviceObject and FltGetDiskDeviceObject (none for a network file
 * system), IoVolumeDeviceToDosName on the disk (its drive letter, in pool
 * the caller frees), from what each volume was mounted with. Test filter: V
 * (200000).
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

struct seen {
    LONG setups, declined;
    BOOLEAN writable[4];
    NTSTATUS props_status[4];
    USHORT sector[4];
    WCHAR dos_letter[4]; /* IoVolumeDeviceToDosName's, or 0 */
};

struct fixture {
    struct test_world w;
    PFLT_VOLUME d, n; /* D: read-only 4096-byte snapshot FAT disk; N: a network share */
    struct tf_filter v;
    struct seen seen;
};

/* InstanceSetup: the delete sample's rule (no instance on a read-only
 * volume) and scanner's (the sector size from the properties). */
static void setup_hook(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    struct seen *s = tf->user;
    LONG k = s->setups++;
    BOOLEAN writable = TRUE;
    assert_status(FltIsVolumeWritable(objects->Volume, &writable), STATUS_SUCCESS);
    FLT_VOLUME_PROPERTIES props;
    ULONG length = 0;
    NTSTATUS status = FltGetVolumeProperties(objects->Volume, &props, sizeof(props), &length);
    if (k < 4) {
        s->writable[k] = writable;
        s->props_status[k] = status;
        s->sector[k] = props.SectorSize;
    }
    /* swapBuffers' volume name: the disk's DOS name, then the reference the
     * Get routine handed out is released (no report). */
    PDEVICE_OBJECT disk = NULL;
    if (NT_SUCCESS(FltGetDiskDeviceObject(objects->Volume, &disk))) {
        UNICODE_STRING dos = {0};
        if (NT_SUCCESS(IoVolumeDeviceToDosName(disk, &dos)) && k < 4) {
            s->dos_letter[k] = dos.Buffer[0];
            ExFreePool(dos.Buffer);
        }
        ObDereferenceObject(disk);
    }
    /* MetadataManager's way: the Get routines hand out a reference that the
     * caller gives back with ObDereferenceObject; nothing is reported. */
    PDEVICE_OBJECT device = NULL;
    if (NT_SUCCESS(FltGetDiskDeviceObject(objects->Volume, &device)))
        ObDereferenceObject(device);
    assert_status(FltGetDeviceObject(objects->Volume, &device), STATUS_SUCCESS);
    ObReferenceObject(device);
    ObDereferenceObject(device);
    ObDereferenceObject(device);
    tf->setup_status = writable ? STATUS_SUCCESS : STATUS_FLT_DO_NOT_ATTACH;
    if (!writable)
        s->declined++;
}

static PFLT_VOLUME mount(struct fixture *f, PCWSTR name, WCHAR letter, FLT_FILESYSTEM_TYPE type,
                         DEVICE_TYPE device_type, ULONG characteristics, USHORT sector, ULONG flags)
{
    struct fltsim_memfs *fs;
    assert_status(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = name,
                                      .drive_letter = letter,
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = type,
                                      .device_type = device_type,
                                      .characteristics = characteristics,
                                      .sector_size = sector,
                                      .flags = flags};
    PFLT_VOLUME v = NULL;
    assert_status(fltsim_volume_mount(f->w.sys, &vp, &v), STATUS_SUCCESS);
    return v;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    f->d =
        mount(f, L"\\Device\\HarddiskVolume2", L'D', FLT_FSTYPE_FAT, FILE_DEVICE_DISK_FILE_SYSTEM,
              FILE_READ_ONLY_DEVICE | FILE_REMOVABLE_MEDIA, 4096, FLTSIM_VOLUME_SNAPSHOT);
    f->n = mount(f, L"\\Device\\Mup\\server\\share", L'N', FLT_FSTYPE_LANMAN,
                 FILE_DEVICE_NETWORK_FILE_SYSTEM, FILE_REMOTE_DEVICE, 0, 0);
    tf_init(&f->v, "V", "200000");
    tf_only(&f->v, IRP_MJ_CREATE);
    f->v.setup_hook = setup_hook;
    f->v.user = &f->seen;
    assert_status(tf_load(f->w.sys, &f->v), STATUS_SUCCESS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    return 0;
}

static void assert_ustr(PCUNICODE_STRING s, const char *text)
{
    size_t n = strlen(text);
    assert_int_equal(s->Length, n * sizeof(WCHAR));
    for (size_t k = 0; k < n; k++)
        if (s->Buffer[k] != (WCHAR)text[k])
            fail_msg("name differs at %zu from '%s'", k, text);
}

/* C: (NTFS on a 512-byte disk): the fixed part and the three names after it
 * in the caller's buffer; too small a buffer gets the size needed; room for
 * the fixed part only gets it and STATUS_BUFFER_OVERFLOW. */
static void volume_properties_and_their_buffer_sizes(void **state)
{
    struct fixture *f = *state;
    union {
        FLT_VOLUME_PROPERTIES p;
        UCHAR bytes[512];
    } buf;
    ULONG length = 0;
    assert_status(FltGetVolumeProperties(f->w.volume, &buf.p, sizeof(buf), &length),
                  STATUS_SUCCESS);
    const char *driver = "\\FileSystem\\Ntfs", *device = "\\Ntfs",
               *real = "\\Device\\HarddiskVolume1";
    ULONG needed = (ULONG)(sizeof(FLT_VOLUME_PROPERTIES) +
                           (strlen(driver) + strlen(device) + strlen(real)) * sizeof(WCHAR));
    assert_int_equal(length, needed);
    assert_int_equal(buf.p.DeviceType, FILE_DEVICE_DISK_FILE_SYSTEM);
    assert_int_equal(buf.p.SectorSize, 512);
    assert_int_equal(buf.p.DeviceCharacteristics, 0);
    assert_ustr(&buf.p.FileSystemDriverName, driver);
    assert_ustr(&buf.p.FileSystemDeviceName, device);
    assert_ustr(&buf.p.RealDeviceName, real);
    assert_true((UCHAR *)buf.p.RealDeviceName.Buffer > buf.bytes &&
                (UCHAR *)buf.p.RealDeviceName.Buffer < buf.bytes + needed);

    length = 0;
    assert_status(FltGetVolumeProperties(f->w.volume, NULL, 0, &length), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(length, needed);
    length = 0;
    assert_status(
        FltGetVolumeProperties(f->w.volume, &buf.p, sizeof(FLT_VOLUME_PROPERTIES) - 1, &length),
        STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(length, needed);
    memset(&buf, 0xcc, sizeof(buf));
    assert_status(
        FltGetVolumeProperties(f->w.volume, &buf.p, sizeof(FLT_VOLUME_PROPERTIES), &length),
        STATUS_BUFFER_OVERFLOW);
    assert_int_equal(length, sizeof(FLT_VOLUME_PROPERTIES));
    assert_int_equal(buf.p.SectorSize, 512);
    assert_int_equal(buf.p.FileSystemDriverName.Length, 0);

    assert_status(FltGetVolumeProperties(NULL, &buf.p, sizeof(buf), &length),
                  STATUS_INVALID_PARAMETER);
    assert_status(FltGetVolumeProperties(f->w.volume, NULL, sizeof(buf), &length),
                  STATUS_INVALID_PARAMETER);
    assert_status(FltGetVolumeProperties(f->w.volume, &buf.p, sizeof(buf), NULL),
                  STATUS_INVALID_PARAMETER);

    /* D: FAT, the disk's characteristics and sector size. */
    assert_status(FltGetVolumeProperties(f->d, &buf.p, sizeof(buf), &length), STATUS_SUCCESS);
    assert_int_equal(buf.p.SectorSize, 4096);
    assert_int_equal(buf.p.DeviceCharacteristics, FILE_READ_ONLY_DEVICE | FILE_REMOVABLE_MEDIA);
    assert_ustr(&buf.p.FileSystemDriverName, "\\FileSystem\\fastfat");
    assert_ustr(&buf.p.RealDeviceName, "\\Device\\HarddiskVolume2");
    /* N: a network file system: no sectors. */
    assert_status(FltGetVolumeProperties(f->n, &buf.p, sizeof(buf), &length), STATUS_SUCCESS);
    assert_int_equal(buf.p.DeviceType, FILE_DEVICE_NETWORK_FILE_SYSTEM);
    assert_int_equal(buf.p.SectorSize, 0);
    assert_ustr(&buf.p.FileSystemDriverName, "\\FileSystem\\MRxSmb");
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* InstanceSetup saw C: and N: writable, D: read-only (declined: V has no
 * instance there), each with its sector size; FltIsVolumeSnapshot on a
 * volume or an instance. Each setup named its disk's drive letter
 * (IoVolumeDeviceToDosName) and released the disk with ObDereferenceObject,
 * with no report. */
static void writable_and_snapshot_decide_attachment(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->seen.setups, 3);
    assert_int_equal(f->seen.declined, 1);
    int readonly = 0, letters = 0;
    for (int k = 0; k < 3; k++) {
        if (f->seen.dos_letter[k] == L'C' || f->seen.dos_letter[k] == L'D')
            letters++;
        assert_status(f->seen.props_status[k], STATUS_BUFFER_OVERFLOW);
        if (!f->seen.writable[k]) {
            readonly++;
            assert_int_equal(f->seen.sector[k], 4096);
        }
    }
    assert_int_equal(readonly, 1);
    assert_int_equal(letters, 2); /* N: is a network share: no disk */
    PFLT_INSTANCE inst = NULL;
    assert_status(FltGetVolumeInstanceFromName(f->v.filter, f->d, NULL, &inst),
                  STATUS_FLT_INSTANCE_NOT_FOUND);
    assert_status(FltGetVolumeInstanceFromName(f->v.filter, f->w.volume, NULL, &inst),
                  STATUS_SUCCESS);

    BOOLEAN b = TRUE;
    assert_status(FltIsVolumeSnapshot(inst, &b), STATUS_SUCCESS);
    assert_false(b);
    assert_status(FltIsVolumeWritable(inst, &b), STATUS_SUCCESS);
    assert_true(b);
    assert_status(FltIsVolumeSnapshot(f->d, &b), STATUS_SUCCESS);
    assert_true(b);
    assert_status(FltIsVolumeWritable(f->d, &b), STATUS_SUCCESS);
    assert_false(b);
    assert_status(FltIsVolumeSnapshot(f->v.filter, &b), STATUS_INVALID_PARAMETER);
    assert_status(FltIsVolumeWritable(NULL, &b), STATUS_INVALID_PARAMETER);
    assert_status(FltIsVolumeWritable(inst, NULL), STATUS_INVALID_PARAMETER);
    FltObjectDereference(inst);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* The file system's volume device and the disk under it (MetadataManager
 * checks the disk's type and characteristics); a network share has none. */
static void device_and_disk_device_objects(void **state)
{
    struct fixture *f = *state;
    PDEVICE_OBJECT dev = NULL, disk = NULL;
    assert_status(FltGetDeviceObject(f->d, &dev), STATUS_SUCCESS);
    assert_status(FltGetDiskDeviceObject(f->d, &disk), STATUS_SUCCESS);
    assert_non_null(dev);
    assert_non_null(disk);
    assert_ptr_not_equal(dev, disk);
    assert_int_equal(dev->DeviceType, FILE_DEVICE_DISK_FILE_SYSTEM);
    assert_int_equal(disk->DeviceType, FILE_DEVICE_DISK);
    assert_int_equal(disk->Characteristics, FILE_READ_ONLY_DEVICE | FILE_REMOVABLE_MEDIA);
    assert_int_equal(disk->SectorSize, 4096);
    assert_ptr_equal(dev->Vpb->RealDevice, disk);
    assert_ptr_equal(dev->Vpb->DeviceObject, dev);

    /* Files opened on the volume name the file system's device. */
    HANDLE h;
    assert_status(fltsim_io_open(f->w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    PFILE_OBJECT fo = fltsim_io_file_object(f->w.sys, h);
    assert_status(FltGetDeviceObject(f->w.volume, &dev), STATUS_SUCCESS);
    assert_ptr_equal(fo->DeviceObject, dev);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    disk = (PDEVICE_OBJECT)(void *)&f; /* must be cleared */
    assert_status(FltGetDiskDeviceObject(f->n, &disk), STATUS_FLT_NO_DEVICE_OBJECT);
    assert_null(disk);
    assert_status(FltGetDeviceObject(f->n, &dev), STATUS_SUCCESS);
    assert_int_equal(dev->DeviceType, FILE_DEVICE_NETWORK_FILE_SYSTEM);
    assert_status(FltGetDiskDeviceObject(NULL, &disk), STATUS_INVALID_PARAMETER);
    /* The references the Get routines hand out are released with
     * ObDereferenceObject (swapBuffers, MetadataManager): no report. */
    assert_status(FltGetDiskDeviceObject(f->d, &disk), STATUS_SUCCESS);
    ObReferenceObject(disk);
    ObDereferenceObject(disk);
    ObDereferenceObject(disk);
    ObDereferenceObject(dev);
    assert_status(FltGetDeviceObject(f->d, NULL), STATUS_INVALID_PARAMETER);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* IoVolumeDeviceToDosName: the disk FltGetDiskDeviceObject gives names its
 * drive letter ("D:", null-terminated, in pool the caller frees with
 * ExFreePool, as swapBuffers does); the file system's own device, a
 * network share's, a volume without a letter and NULLs are
 * STATUS_INVALID_PARAMETER. */
static void dos_name_of_a_volume_device(void **state)
{
    struct fixture *f = *state;
    PDEVICE_OBJECT disk = NULL, dev = NULL;
    assert_status(FltGetDiskDeviceObject(f->d, &disk), STATUS_SUCCESS);
    UNICODE_STRING name = {0};
    assert_status(IoVolumeDeviceToDosName(disk, &name), STATUS_SUCCESS);
    assert_ustr(&name, "D:");
    assert_int_equal(name.MaximumLength, 3 * sizeof(WCHAR));
    assert_int_equal(name.Buffer[2], 0);
    ExFreePool(name.Buffer);
    assert_status(FltGetDiskDeviceObject(f->w.volume, &disk), STATUS_SUCCESS);
    assert_status(IoVolumeDeviceToDosName(disk, &name), STATUS_SUCCESS);
    assert_ustr(&name, "C:");
    ExFreePool(name.Buffer);

    UNICODE_STRING none = {0};
    assert_status(FltGetDeviceObject(f->d, &dev), STATUS_SUCCESS);
    assert_status(IoVolumeDeviceToDosName(dev, &none), STATUS_INVALID_PARAMETER);
    assert_status(FltGetDeviceObject(f->n, &dev), STATUS_SUCCESS);
    assert_status(IoVolumeDeviceToDosName(dev, &none), STATUS_INVALID_PARAMETER);
    assert_status(IoVolumeDeviceToDosName(NULL, &none), STATUS_INVALID_PARAMETER);
    assert_status(IoVolumeDeviceToDosName(disk, NULL), STATUS_INVALID_PARAMETER);
    PFLT_VOLUME e = mount(f, L"\\Device\\HarddiskVolume3", 0, FLT_FSTYPE_NTFS,
                          FILE_DEVICE_DISK_FILE_SYSTEM, 0, 0, 0);
    assert_status(FltGetDiskDeviceObject(e, &disk), STATUS_SUCCESS);
    assert_status(IoVolumeDeviceToDosName(disk, &none), STATUS_INVALID_PARAMETER);
    assert_null(none.Buffer);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(volume_properties_and_their_buffer_sizes),
        CASE(writable_and_snapshot_decide_attachment),
        CASE(device_and_disk_device_objects),
        CASE(dos_name_of_a_volume_device),
    };
    return FLTSIM_RUN_SUITE("volume_query", tests);
}
