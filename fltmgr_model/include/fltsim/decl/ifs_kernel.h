/*
 * The kernel routines the WDK declares in ntifs.h rather than wdm.h: push
 * locks, the requestor of an I/O, object names and opening objects by
 * pointer, process and thread lookup by id, 8.3 names, counted-string
 * duplication, and the Zw file-system services (directory queries, FSCTLs,
 * volume information).
 * Part of the WDK surface: include <ntifs.h>, not this file.
 */
#ifndef FLTSIM_WDK_IFS_KERNEL_H
#define FLTSIM_WDK_IFS_KERNEL_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- push locks (FltInitializePushLock and friends wrap them) ---- */

#define EX_PUSH_LOCK ULONG_PTR
#define PEX_PUSH_LOCK PULONG_PTR

VOID ExInitializePushLock(PEX_PUSH_LOCK PushLock);

/* ---- the requestor of an I/O ---- */

PEPROCESS IoThreadToProcess(PETHREAD Thread);
PEPROCESS IoGetRequestorProcess(PIRP Irp);
ULONG IoGetRequestorProcessId(PIRP Irp);
/* Replaces FileObject->FileName with a copy of NewFileName[0..FileNameLength
 * bytes): in the buffer when it fits its MaximumLength, else in a new pool
 * buffer (the old one freed with ExFreePool). STATUS_INVALID_PARAMETER (the
 * file object has no name), STATUS_INSUFFICIENT_RESOURCES (name unchanged).
 * PASSIVE_LEVEL. */
NTSTATUS IoReplaceFileObjectName(PFILE_OBJECT FileObject, PWSTR NewFileName, USHORT FileNameLength);
BOOLEAN IoIsSystemThread(PETHREAD Thread);
PDEVICE_OBJECT IoGetDeviceAttachmentBaseRef(PDEVICE_OBJECT DeviceObject);
PDEVICE_OBJECT IoGetLowerDeviceObject(PDEVICE_OBJECT DeviceObject);
NTSTATUS IoGetDiskDeviceObject(PDEVICE_OBJECT FileSystemDeviceObject,
                               PDEVICE_OBJECT *DiskDeviceObject);

/* ---- object names ---- */

#define OBJ_NAME_PATH_SEPARATOR ((WCHAR)L'\\')

typedef struct _OBJECT_NAME_INFORMATION {
    UNICODE_STRING Name;
} OBJECT_NAME_INFORMATION, *POBJECT_NAME_INFORMATION;

NTSTATUS ObQueryNameString(PVOID Object, POBJECT_NAME_INFORMATION ObjectNameInfo, ULONG Length,
                           PULONG ReturnLength);
NTSTATUS ObOpenObjectByPointer(PVOID Object, ULONG HandleAttributes,
                               PACCESS_STATE PassedAccessState, ACCESS_MASK DesiredAccess,
                               POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode, PHANDLE Handle);

/* ---- processes and threads by id ---- */

NTSTATUS PsLookupProcessByProcessId(HANDLE ProcessId, PEPROCESS *Process);
NTSTATUS PsLookupThreadByThreadId(HANDLE ThreadId, PETHREAD *Thread);
PEPROCESS PsGetThreadProcess(PETHREAD Thread);
BOOLEAN PsIsThreadTerminating(PETHREAD Thread);

/* ---- names ---- */

typedef struct _GENERATE_NAME_CONTEXT {
    USHORT Checksum;
    BOOLEAN CheckSumInserted;
    UCHAR NameLength;
    WCHAR NameBuffer[8];
    ULONG ExtensionLength;
    WCHAR ExtensionBuffer[4];
    ULONG LastIndexValue;
} GENERATE_NAME_CONTEXT, *PGENERATE_NAME_CONTEXT;

/* RtlIsNameLegalDOS8Dot3: TRUE when Name is a legal 8.3 name; NameContainsSpaces
 * tells whether it has spaces. OemName, when given, receives the OEM form. */
BOOLEAN RtlIsNameLegalDOS8Dot3(PCUNICODE_STRING Name, POEM_STRING OemName,
                               PBOOLEAN NameContainsSpaces);
NTSTATUS RtlGenerate8dot3Name(PCUNICODE_STRING Name, BOOLEAN AllowExtendedCharacters,
                              PGENERATE_NAME_CONTEXT Context, PUNICODE_STRING Name8dot3);

#define RTL_DUPLICATE_UNICODE_STRING_NULL_TERMINATE 1
#define RTL_DUPLICATE_UNICODE_STRING_ALLOCATE_NULL_STRING 2
NTSTATUS RtlDuplicateUnicodeString(ULONG Flags, PCUNICODE_STRING StringIn,
                                   PUNICODE_STRING StringOut);

/* ---- Zw and Nt file-system services ---- */

NTSTATUS NtClose(HANDLE Handle);
NTSTATUS ZwQueryDirectoryFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine,
                              PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock,
                              PVOID FileInformation, ULONG Length,
                              FILE_INFORMATION_CLASS FileInformationClass,
                              BOOLEAN ReturnSingleEntry, PUNICODE_STRING FileName,
                              BOOLEAN RestartScan);
NTSTATUS ZwFsControlFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine,
                         PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock, ULONG FsControlCode,
                         PVOID InputBuffer, ULONG InputBufferLength, PVOID OutputBuffer,
                         ULONG OutputBufferLength);
NTSTATUS ZwDeviceIoControlFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine,
                               PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock,
                               ULONG IoControlCode, PVOID InputBuffer, ULONG InputBufferLength,
                               PVOID OutputBuffer, ULONG OutputBufferLength);
NTSTATUS ZwQueryVolumeInformationFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock,
                                      PVOID FsInformation, ULONG Length,
                                      FS_INFORMATION_CLASS FsInformationClass);
NTSTATUS ZwFlushBuffersFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock);
NTSTATUS ZwSetVolumeInformationFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock,
                                    PVOID FsInformation, ULONG Length,
                                    FS_INFORMATION_CLASS FsInformationClass);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_IFS_KERNEL_H */
