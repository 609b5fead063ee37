/*
 * FltMgr: I/O a filter issues itself: opening files below its instance
 * (FltCreateFile*), callback data it allocates and sends, the Flt forms of
 * the Zw file services, buffers (user-buffer locking, swapped-buffer MDLs,
 * aligned pool), operation-status callbacks, and volume properties.
 * Part of the WDK surface: include <fltKernel.h>, not this file.
 */
#ifndef FLTSIM_WDK_FLT_IO_H
#define FLTSIM_WDK_FLT_IO_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- callback data a filter allocates ---- */

typedef ULONG FLT_ALLOCATE_CALLBACK_DATA_FLAGS;
#define FLT_ALLOCATE_CALLBACK_DATA_PREALLOCATE_ALL_MEMORY 0x00000001

typedef VOID(FLTAPI *PFLT_COMPLETED_ASYNC_IO_CALLBACK)(PFLT_CALLBACK_DATA CallbackData,
                                                       PFLT_CONTEXT Context);

NTSTATUS FltAllocateCallbackData(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                 PFLT_CALLBACK_DATA *RetNewCallbackData);
NTSTATUS FltAllocateCallbackDataEx(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                   FLT_ALLOCATE_CALLBACK_DATA_FLAGS Flags,
                                   PFLT_CALLBACK_DATA *RetNewCallbackData);
VOID FltFreeCallbackData(PFLT_CALLBACK_DATA CallbackData);
VOID FltReuseCallbackData(PFLT_CALLBACK_DATA CallbackData);
VOID FltPerformSynchronousIo(PFLT_CALLBACK_DATA CallbackData);
NTSTATUS FltPerformAsynchronousIo(PFLT_CALLBACK_DATA CallbackData,
                                  PFLT_COMPLETED_ASYNC_IO_CALLBACK CallbackRoutine,
                                  PVOID CallbackContext);
VOID FltReissueSynchronousIo(PFLT_INSTANCE InitiatingInstance, PFLT_CALLBACK_DATA CallbackData);

/* ---- opening and closing files below the filter ---- */

#define FLT_MAX_DEVICE_REPARSE_ATTEMPTS 64

typedef USHORT FLT_CREATEFILE_TARGET_FLAGS;
#define FLTTCFL_AUTO_REPARSE 0x0001

typedef struct _FLT_CREATEFILE_TARGET_ECP_CONTEXT {
    PFLT_INSTANCE Instance;
    PFLT_VOLUME Volume;
    PFLT_FILE_NAME_INFORMATION FileNameInformation;
    FLT_CREATEFILE_TARGET_FLAGS Flags;
} FLT_CREATEFILE_TARGET_ECP_CONTEXT, *PFLT_CREATEFILE_TARGET_ECP_CONTEXT;

/* Opens a file whose create only the instances below Instance (all of the
 * volume's when NULL) and the file system see. Flags are IO_* create flags
 * (IO_IGNORE_SHARE_ACCESS_CHECK ...). */
NTSTATUS FltCreateFile(PFLT_FILTER Filter, PFLT_INSTANCE Instance, PHANDLE FileHandle,
                       ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                       PIO_STATUS_BLOCK IoStatusBlock, PLARGE_INTEGER AllocationSize,
                       ULONG FileAttributes, ULONG ShareAccess, ULONG CreateDisposition,
                       ULONG CreateOptions, PVOID EaBuffer, ULONG EaLength, ULONG Flags);
NTSTATUS FltCreateFileEx(PFLT_FILTER Filter, PFLT_INSTANCE Instance, PHANDLE FileHandle,
                         PFILE_OBJECT *FileObject, ACCESS_MASK DesiredAccess,
                         POBJECT_ATTRIBUTES ObjectAttributes, PIO_STATUS_BLOCK IoStatusBlock,
                         PLARGE_INTEGER AllocationSize, ULONG FileAttributes, ULONG ShareAccess,
                         ULONG CreateDisposition, ULONG CreateOptions, PVOID EaBuffer,
                         ULONG EaLength, ULONG Flags);
NTSTATUS FltCreateFileEx2(PFLT_FILTER Filter, PFLT_INSTANCE Instance, PHANDLE FileHandle,
                          PFILE_OBJECT *FileObject, ACCESS_MASK DesiredAccess,
                          POBJECT_ATTRIBUTES ObjectAttributes, PIO_STATUS_BLOCK IoStatusBlock,
                          PLARGE_INTEGER AllocationSize, ULONG FileAttributes, ULONG ShareAccess,
                          ULONG CreateDisposition, ULONG CreateOptions, PVOID EaBuffer,
                          ULONG EaLength, ULONG Flags, PIO_DRIVER_CREATE_CONTEXT DriverContext);
NTSTATUS FltCreateNamedPipeFile(PFLT_FILTER Filter, PFLT_INSTANCE Instance, PHANDLE FileHandle,
                                PFILE_OBJECT *FileObject, ULONG DesiredAccess,
                                POBJECT_ATTRIBUTES ObjectAttributes, PIO_STATUS_BLOCK IoStatusBlock,
                                ULONG ShareAccess, ULONG CreateDisposition, ULONG CreateOptions,
                                ULONG NamedPipeType, ULONG ReadMode, ULONG CompletionMode,
                                ULONG MaximumInstances, ULONG InboundQuota, ULONG OutboundQuota,
                                PLARGE_INTEGER DefaultTimeout,
                                PIO_DRIVER_CREATE_CONTEXT DriverContext);
NTSTATUS FltCreateMailslotFile(PFLT_FILTER Filter, PFLT_INSTANCE Instance, PHANDLE FileHandle,
                               PFILE_OBJECT *FileObject, ULONG DesiredAccess,
                               POBJECT_ATTRIBUTES ObjectAttributes, PIO_STATUS_BLOCK IoStatusBlock,
                               ULONG CreateOptions, ULONG MailslotQuota, ULONG MaximumMessageSize,
                               PLARGE_INTEGER ReadTimeout, PIO_DRIVER_CREATE_CONTEXT DriverContext);
NTSTATUS FltOpenVolume(PFLT_INSTANCE Instance, PHANDLE VolumeHandle,
                       PFILE_OBJECT *VolumeFileObject);
NTSTATUS FltClose(HANDLE FileHandle);
NTSTATUS FltCreateSystemVolumeInformationFolder(PFLT_INSTANCE Instance);

/* ---- the Flt forms of the file services ---- */

NTSTATUS FltReadFileEx(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject,
                       PLARGE_INTEGER ByteOffset, ULONG Length, PVOID Buffer, ULONG Flags,
                       PULONG BytesRead, PFLT_COMPLETED_ASYNC_IO_CALLBACK CallbackRoutine,
                       PVOID CallbackContext, PULONG Key, PMDL Mdl);
NTSTATUS FltWriteFileEx(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject,
                        PLARGE_INTEGER ByteOffset, ULONG Length, PVOID Buffer, ULONG Flags,
                        PULONG BytesWritten, PFLT_COMPLETED_ASYNC_IO_CALLBACK CallbackRoutine,
                        PVOID CallbackContext, PULONG Key, PMDL Mdl);
NTSTATUS FltTagFile(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject, ULONG FileTag,
                    GUID *Guid, PVOID DataBuffer, USHORT DataBufferLength);
NTSTATUS FltUntagFile(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject, ULONG FileTag,
                      GUID *Guid);
NTSTATUS FltQueryInformationFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                 PVOID FileInformation, ULONG Length,
                                 FILE_INFORMATION_CLASS FileInformationClass,
                                 PULONG LengthReturned);
NTSTATUS FltSetInformationFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                               PVOID FileInformation, ULONG Length,
                               FILE_INFORMATION_CLASS FileInformationClass);
NTSTATUS FltQueryDirectoryFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                               PVOID FileInformation, ULONG Length,
                               FILE_INFORMATION_CLASS FileInformationClass,
                               BOOLEAN ReturnSingleEntry, PUNICODE_STRING FileName,
                               BOOLEAN RestartScan, PULONG LengthReturned);
NTSTATUS FltQueryDirectoryFileEx(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                 PVOID FileInformation, ULONG Length,
                                 FILE_INFORMATION_CLASS FileInformationClass, ULONG QueryFlags,
                                 PUNICODE_STRING FileName, PULONG LengthReturned);
NTSTATUS FltQueryEaFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, PVOID ReturnedEaData,
                        ULONG Length, BOOLEAN ReturnSingleEntry, PVOID EaList, ULONG EaListLength,
                        PULONG EaIndex, BOOLEAN RestartScan, PULONG LengthReturned);
NTSTATUS FltSetEaFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, PVOID EaBuffer,
                      ULONG Length);
NTSTATUS FltQueryVolumeInformationFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                       PVOID FsInformation, ULONG Length,
                                       FS_INFORMATION_CLASS FsInformationClass,
                                       PULONG LengthReturned);
NTSTATUS FltQueryVolumeInformation(PFLT_INSTANCE Instance, PIO_STATUS_BLOCK Iosb,
                                   PVOID FsInformation, ULONG Length,
                                   FS_INFORMATION_CLASS FsInformationClass);
NTSTATUS FltSetVolumeInformation(PFLT_INSTANCE Instance, PIO_STATUS_BLOCK Iosb, PVOID FsInformation,
                                 ULONG Length, FS_INFORMATION_CLASS FsInformationClass);
NTSTATUS FltQuerySecurityObject(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                SECURITY_INFORMATION SecurityInformation,
                                PSECURITY_DESCRIPTOR SecurityDescriptor, ULONG Length,
                                PULONG LengthNeeded);
NTSTATUS FltSetSecurityObject(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                              SECURITY_INFORMATION SecurityInformation,
                              PSECURITY_DESCRIPTOR SecurityDescriptor);
NTSTATUS FltFlushBuffers(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject);
/* FltFlushBuffers2's FlushType */
#define FLT_FLUSH_TYPE_FLUSH_AND_PURGE 0x0001
#define FLT_FLUSH_TYPE_FILE_DATA_ONLY 0x0002
#define FLT_FLUSH_TYPE_NO_SYNC 0x0004
#define FLT_FLUSH_TYPE_DATA_SYNC_ONLY 0x0008
NTSTATUS FltFlushBuffers2(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, ULONG FlushType,
                          PFLT_CALLBACK_DATA CallbackData);
NTSTATUS FltFsControlFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, ULONG FsControlCode,
                          PVOID InputBuffer, ULONG InputBufferLength, PVOID OutputBuffer,
                          ULONG OutputBufferLength, PULONG LengthReturned);
NTSTATUS FltDeviceIoControlFile(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                ULONG IoControlCode, PVOID InputBuffer, ULONG InputBufferLength,
                                PVOID OutputBuffer, ULONG OutputBufferLength,
                                PULONG LengthReturned);
NTSTATUS FltQueryInformationByName(PFLT_FILTER Filter, PFLT_INSTANCE Instance,
                                   POBJECT_ATTRIBUTES ObjectAttributes,
                                   PIO_STATUS_BLOCK IoStatusBlock, PVOID FileInformation,
                                   ULONG Length, FILE_INFORMATION_CLASS FileInformationClass,
                                   PIO_DRIVER_CREATE_CONTEXT DriverContext);

/* ---- operation status (oplock and notify requests that return PENDING) ---- */

typedef VOID(FLTAPI *PFLT_GET_OPERATION_STATUS_CALLBACK)(PCFLT_RELATED_OBJECTS FltObjects,
                                                         PFLT_IO_PARAMETER_BLOCK IopbSnapshot,
                                                         NTSTATUS OperationStatus,
                                                         PVOID RequesterContext);

/* From a pre callback: CallbackRoutine runs once the request has been sent
 * to the file system, with the status it returned then. */
NTSTATUS FltRequestOperationStatusCallback(PFLT_CALLBACK_DATA Data,
                                           PFLT_GET_OPERATION_STATUS_CALLBACK CallbackRoutine,
                                           PVOID RequesterContext);

/* ---- buffers ---- */

NTSTATUS FltLockUserBuffer(PFLT_CALLBACK_DATA CallbackData);
NTSTATUS FltDecodeParameters(PFLT_CALLBACK_DATA CallbackData, PMDL **MdlAddressPointer,
                             PVOID **Buffer, PULONG *Length, LOCK_OPERATION *DesiredAccess);
PMDL FltGetSwappedBufferMdlAddress(PFLT_CALLBACK_DATA CallbackData);
VOID FltRetainSwappedBufferMdlAddress(PFLT_CALLBACK_DATA CallbackData);
PVOID FltGetNewSystemBufferAddress(PFLT_CALLBACK_DATA CallbackData);
/* Pool aligned to the volume's sector size, for non-cached I/O. */
PVOID FltAllocatePoolAlignedWithTag(PFLT_INSTANCE Instance, POOL_TYPE PoolType,
                                    SIZE_T NumberOfBytes, ULONG Tag);
VOID FltFreePoolAlignedWithTag(PFLT_INSTANCE Instance, PVOID Buffer, ULONG Tag);

/* ---- volumes ---- */

typedef struct _FLT_VOLUME_PROPERTIES {
    DEVICE_TYPE DeviceType;
    ULONG DeviceCharacteristics;
    ULONG DeviceObjectFlags;
    ULONG AlignmentRequirement;
    USHORT SectorSize;
    USHORT Flags;
    UNICODE_STRING FileSystemDriverName;
    UNICODE_STRING FileSystemDeviceName;
    UNICODE_STRING RealDeviceName;
} FLT_VOLUME_PROPERTIES, *PFLT_VOLUME_PROPERTIES;

/* The three names follow the structure in the caller's buffer;
 * STATUS_BUFFER_OVERFLOW with the fixed part when they do not fit. */
NTSTATUS FltGetVolumeProperties(PFLT_VOLUME Volume, PFLT_VOLUME_PROPERTIES VolumeProperties,
                                ULONG VolumePropertiesLength, PULONG LengthReturned);
NTSTATUS FltIsVolumeWritable(PVOID FltObject, PBOOLEAN IsWritable);
NTSTATUS FltIsVolumeSnapshot(PVOID FltObject, PBOOLEAN IsSnapshotVolume);
NTSTATUS FltGetDeviceObject(PFLT_VOLUME Volume, PDEVICE_OBJECT *DeviceObject);
NTSTATUS FltGetDiskDeviceObject(PFLT_VOLUME Volume, PDEVICE_OBJECT *DiskDeviceObject);
NTSTATUS FltGetVolumeFromDeviceObject(PFLT_FILTER Filter, PDEVICE_OBJECT DeviceObject,
                                      PFLT_VOLUME *RetVolume);
BOOLEAN FltIsFltMgrVolumeDeviceObject(PDEVICE_OBJECT DeviceObject);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_FLT_IO_H */
