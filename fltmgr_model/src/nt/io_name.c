/*
 * IoReplaceFileObjectName: the I/O manager's way for a driver to give a file
 * object a new name (what a filter does before returning STATUS_REPARSE with
 * IO_REPARSE from pre-create, as Microsoft's simrep sample does). File names
 * are pool the I/O manager owns (sim/io allocates them with
 * fltsim_pool_allocate_system), so a replaced buffer is freed with
 * ExFreePool, as on Windows. IoVolumeDeviceToDosName: the MS-DOS name of a
 * volume's storage device (its drive letter, "C:"), in pool the caller owns
 * and frees with ExFreePool (what swapBuffers keeps in its volume context).
 */
#include <string.h>

#include "nt_internal.h"

#define NAME_POOL_TAG 0x6d4e6f49u /* "IoNm" */
#define DOS_NAME_POOL_TAG 0x6f447649u /* "IvDo" */

NTSTATUS IoReplaceFileObjectName(PFILE_OBJECT FileObject, PWSTR NewFileName, USHORT FileNameLength)
{
    if (FileObject == NULL || FileObject->FileName.Buffer == NULL ||
        (NewFileName == NULL && FileNameLength != 0))
        return STATUS_INVALID_PARAMETER; /* no name to replace */
    PUNICODE_STRING name = &FileObject->FileName;
    if (FileNameLength <= name->MaximumLength) {
        /* It fits: the buffer stays (memmove: the new name may be part of it). */
        memmove(name->Buffer, NewFileName, FileNameLength);
        name->Length = FileNameLength;
        return STATUS_SUCCESS;
    }
    PWSTR buffer = fltsim_pool_allocate_system(FileNameLength, NAME_POOL_TAG);
    if (buffer == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(buffer, NewFileName, FileNameLength);
    ExFreePool(name->Buffer);
    name->Buffer = buffer;
    name->Length = FileNameLength;
    name->MaximumLength = FileNameLength;
    return STATUS_SUCCESS;
}

NTSTATUS IoVolumeDeviceToDosName(PVOID VolumeDeviceObject, PUNICODE_STRING DosName)
{
    static const char api[] = "IoVolumeDeviceToDosName";
    /* The storage device under a file system (FltGetDiskDeviceObject's),
     * as Microsoft Learn asks: not the file system's own device. */
    struct _FLT_VOLUME *volume = fltsim__volume_of_device(VolumeDeviceObject);
    if (volume == NULL || VolumeDeviceObject != volume->vpb.RealDevice ||
        VolumeDeviceObject == &volume->device || DosName == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: VolumeDeviceObject must be a volume's storage device "
                            "(FltGetDiskDeviceObject's) and DosName is required",
                            api);
    fltsim__check_irql(volume->sys, PASSIVE_LEVEL, api);
    if (volume->drive_letter == 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: %s has no drive letter (fltsim models no mount points)", api,
                            volume->name8);
    /* "C:" and its terminating null, in pool the caller frees. */
    PWSTR buffer =
        fltsim__pool_allocate_at(PagedPool, 3 * sizeof(WCHAR), DOS_NAME_POOL_TAG, api, 0);
    if (buffer == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    buffer[0] = volume->drive_letter;
    buffer[1] = L':';
    buffer[2] = L'\0';
    DosName->Buffer = buffer;
    DosName->Length = 2 * sizeof(WCHAR);
    DosName->MaximumLength = 3 * sizeof(WCHAR);
    return STATUS_SUCCESS;
}
