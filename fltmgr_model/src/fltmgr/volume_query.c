/*
 * What a filter asks of a volume's devices (issue 18 item 8):
 * FltGetVolumeProperties, FltIsVolumeWritable, FltIsVolumeSnapshot,
 * FltGetDeviceObject and FltGetDiskDeviceObject, answered from what the
 * volume was mounted with (struct fltsim_volume_params: device type, the
 * disk's characteristics and sector size, FLTSIM_VOLUME_SNAPSHOT) and the
 * two device objects volume.c makes. The device objects live as long as the
 * volume: the reference the Get routines hand out is not counted, and
 * fltsim__volume_of_device tells ObDereferenceObject that it is one of them.
 */
#include <string.h>

#include "model_internal.h"

/* The volume fltObject (a volume or an instance) names, or NULL. */
static struct _FLT_VOLUME *volume_of(PVOID flt_object)
{
    if (fltsim__is_volume(flt_object))
        return flt_object;
    if (fltsim__is_instance(flt_object))
        return ((struct _FLT_INSTANCE *)flt_object)->volume;
    return NULL;
}

struct _FLT_VOLUME *fltsim__volume_of_device(PDEVICE_OBJECT device)
{
    if (device == NULL || device->Vpb == NULL)
        return NULL;
    struct _FLT_VOLUME *v = CONTAINING_RECORD(device->Vpb, struct _FLT_VOLUME, vpb);
    if (!fltsim__is_volume(v))
        return NULL;
    return device == &v->device || (v->has_disk && device == &v->disk) ? v : NULL;
}

/* The file system's driver name by type, as Windows names them. */
static const char *fs_driver(FLT_FILESYSTEM_TYPE type)
{
    switch (type) {
    case FLT_FSTYPE_NTFS:
        return "Ntfs";
    case FLT_FSTYPE_FAT:
        return "fastfat";
    case FLT_FSTYPE_EXFAT:
        return "exfat";
    case FLT_FSTYPE_REFS:
        return "ReFS";
    case FLT_FSTYPE_CDFS:
        return "cdfs";
    case FLT_FSTYPE_UDFS:
        return "udfs";
    case FLT_FSTYPE_CSVFS:
        return "CsvFS";
    case FLT_FSTYPE_LANMAN:
        return "MRxSmb";
    case FLT_FSTYPE_MUP:
        return "Mup";
    case FLT_FSTYPE_RAW:
        return "RAW";
    default:
        return "fltsimfs";
    }
}

/* Writes text (ASCII) as UTF-16 at *at, the string pointing there. */
static void put_name(UNICODE_STRING *s, WCHAR **at, const char *text)
{
    size_t n = strlen(text);
    for (size_t k = 0; k < n; k++)
        (*at)[k] = (WCHAR)(unsigned char)text[k];
    s->Buffer = *at;
    s->Length = s->MaximumLength = (USHORT)(n * sizeof(WCHAR));
    *at += n;
}

NTSTATUS FltGetVolumeProperties(PFLT_VOLUME Volume, PFLT_VOLUME_PROPERTIES VolumeProperties,
                                ULONG VolumePropertiesLength, PULONG LengthReturned)
{
    static const char api[] = "FltGetVolumeProperties";
    if (!fltsim__is_volume(Volume) || LengthReturned == NULL ||
        (VolumePropertiesLength != 0 && VolumeProperties == NULL))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: Volume and LengthReturned are required, and VolumeProperties "
                            "with a length",
                            api);
    fltsim__check_irql(Volume->sys, APC_LEVEL, api);
    char driver[64], fs_device[64];
    snprintf(driver, sizeof(driver), "\\FileSystem\\%s", fs_driver(Volume->fs_type));
    snprintf(fs_device, sizeof(fs_device), "\\%s", fs_driver(Volume->fs_type));
    char real[FLTSIM_NAME8_MAX];
    fltsim__ustr_to_utf8(&Volume->device_name, real, sizeof(real));
    size_t chars = strlen(driver) + strlen(fs_device) + strlen(real);
    ULONG needed = (ULONG)(sizeof(FLT_VOLUME_PROPERTIES) + chars * sizeof(WCHAR));
    if (VolumePropertiesLength < sizeof(FLT_VOLUME_PROPERTIES)) {
        *LengthReturned = needed;
        return STATUS_BUFFER_TOO_SMALL;
    }

    PFLT_VOLUME_PROPERTIES p = VolumeProperties;
    memset(p, 0, sizeof(*p));
    PDEVICE_OBJECT real_device = Volume->vpb.RealDevice;
    p->DeviceType = Volume->device.DeviceType;
    p->DeviceCharacteristics = real_device->Characteristics;
    p->DeviceObjectFlags = Volume->device.Flags;
    p->AlignmentRequirement = Volume->device.AlignmentRequirement;
    p->SectorSize = Volume->has_disk ? Volume->disk.SectorSize : 0;
    if (VolumePropertiesLength < needed) {
        /* The fixed part only (Microsoft Learn: a warning). */
        *LengthReturned = sizeof(FLT_VOLUME_PROPERTIES);
        return STATUS_BUFFER_OVERFLOW;
    }
    WCHAR *at = (WCHAR *)(void *)(p + 1);
    put_name(&p->FileSystemDriverName, &at, driver);
    put_name(&p->FileSystemDeviceName, &at, fs_device);
    put_name(&p->RealDeviceName, &at, real);
    *LengthReturned = needed;
    return STATUS_SUCCESS;
}

NTSTATUS FltIsVolumeWritable(PVOID FltObject, PBOOLEAN IsWritable)
{
    struct _FLT_VOLUME *v = volume_of(FltObject);
    if (v == NULL || IsWritable == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltIsVolumeWritable: FltObject (a volume or an instance) and "
                            "IsWritable are required");
    fltsim__check_irql(v->sys, APC_LEVEL, "FltIsVolumeWritable");
    *IsWritable = (v->vpb.RealDevice->Characteristics & FILE_READ_ONLY_DEVICE) ? FALSE : TRUE;
    return STATUS_SUCCESS;
}

NTSTATUS FltIsVolumeSnapshot(PVOID FltObject, PBOOLEAN IsSnapshotVolume)
{
    struct _FLT_VOLUME *v = volume_of(FltObject);
    if (v == NULL || IsSnapshotVolume == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltIsVolumeSnapshot: FltObject (a volume or an instance) and "
                            "IsSnapshotVolume are required");
    fltsim__check_irql(v->sys, APC_LEVEL, "FltIsVolumeSnapshot");
    *IsSnapshotVolume = v->snapshot ? TRUE : FALSE;
    return STATUS_SUCCESS;
}

NTSTATUS FltGetDeviceObject(PFLT_VOLUME Volume, PDEVICE_OBJECT *DeviceObject)
{
    if (DeviceObject != NULL)
        *DeviceObject = NULL;
    if (!fltsim__is_volume(Volume) || DeviceObject == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltGetDeviceObject: Volume and DeviceObject are required");
    fltsim__check_irql(Volume->sys, APC_LEVEL, "FltGetDeviceObject");
    *DeviceObject = &Volume->device;
    return STATUS_SUCCESS;
}

NTSTATUS FltGetDiskDeviceObject(PFLT_VOLUME Volume, PDEVICE_OBJECT *DiskDeviceObject)
{
    if (DiskDeviceObject != NULL)
        *DiskDeviceObject = NULL;
    if (!fltsim__is_volume(Volume) || DiskDeviceObject == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltGetDiskDeviceObject: Volume and DiskDeviceObject are required");
    fltsim__check_irql(Volume->sys, APC_LEVEL, "FltGetDiskDeviceObject");
    if (!Volume->has_disk)
        return fltsim__fail(STATUS_FLT_NO_DEVICE_OBJECT,
                            "FltGetDiskDeviceObject: %s is a network file system: no disk",
                            Volume->name8);
    *DiskDeviceObject = &Volume->disk;
    return STATUS_SUCCESS;
}
