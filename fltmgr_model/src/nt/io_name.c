/*
 * IoReplaceFileObjectName: the I/O manager's way for a driver to give a file
 * object a new name (what a filter does before returning STATUS_REPARSE with
 * IO_REPARSE from pre-create, as Microsoft's simrep sample does). File names
 * are pool the I/O manager owns (sim/io allocates them with
 * fltsim_pool_allocate_system), so a replaced buffer is freed with
 * ExFreePool, as on Windows.
 */
#include <string.h>

#include "nt_internal.h"

#define NAME_POOL_TAG 0x6d4e6f49u /* "IoNm" */

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
