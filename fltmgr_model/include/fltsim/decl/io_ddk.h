/*
 * Io: what ntddk.h adds to the I/O manager for file-system filters: the
 * transaction parameter block of a file object, driver create contexts (the
 * extra create parameters, device hint and transaction of a create a driver
 * issues) and IoCreateFileEx.
 * Part of the WDK surface: include <ntddk.h>, not this file.
 */
#ifndef FLTSIM_WDK_IO_DDK_H
#define FLTSIM_WDK_IO_DDK_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ECP_LIST ECP_LIST, *PECP_LIST;
typedef struct _EJOB *PESILO;

typedef struct _TXN_PARAMETER_BLOCK {
    USHORT Length;
    USHORT TxFsContext; /* a TxF mini-version, or TXF_MINIVERSION_DEFAULT_VIEW */
    PVOID TransactionObject;
} TXN_PARAMETER_BLOCK, *PTXN_PARAMETER_BLOCK;

#define TXF_MINIVERSION_DEFAULT_VIEW (0xFFFE)

/* The transaction a file object was opened in, or NULL. */
PTXN_PARAMETER_BLOCK IoGetTransactionParameterBlock(PFILE_OBJECT FileObject);
/* Whether the file object was opened with IO_IGNORE_SHARE_ACCESS_CHECK (its
 * open neither checks nor counts share access). */
BOOLEAN IoIsFileObjectIgnoringSharing(PFILE_OBJECT FileObject);

typedef struct _IO_DRIVER_CREATE_CONTEXT {
    CSHORT Size;
    PECP_LIST ExtraCreateParameter;
    PVOID DeviceObjectHint;
    PTXN_PARAMETER_BLOCK TxnParameters;
#if (NTDDI_VERSION >= NTDDI_WIN10_RS1)
    PESILO SiloContext;
#endif
} IO_DRIVER_CREATE_CONTEXT, *PIO_DRIVER_CREATE_CONTEXT;

/* The WDK's inline initializer: zeroed, with its size. */
static inline VOID IoInitializeDriverCreateContext(PIO_DRIVER_CREATE_CONTEXT DriverContext)
{
    memset(DriverContext, 0, sizeof(IO_DRIVER_CREATE_CONTEXT));
    DriverContext->Size = sizeof(IO_DRIVER_CREATE_CONTEXT);
}

typedef enum _CREATE_FILE_TYPE {
    CreateFileTypeNone,
    CreateFileTypeNamedPipe,
    CreateFileTypeMailslot
} CREATE_FILE_TYPE;

NTSTATUS IoCreateFileEx(PHANDLE FileHandle, ACCESS_MASK DesiredAccess,
                        POBJECT_ATTRIBUTES ObjectAttributes, PIO_STATUS_BLOCK IoStatusBlock,
                        PLARGE_INTEGER AllocationSize, ULONG FileAttributes, ULONG ShareAccess,
                        ULONG Disposition, ULONG CreateOptions, PVOID EaBuffer, ULONG EaLength,
                        CREATE_FILE_TYPE CreateFileType, PVOID InternalParameters, ULONG Options,
                        PIO_DRIVER_CREATE_CONTEXT DriverContext);
NTSTATUS IoCreateFileSpecifyDeviceObjectHint(
    PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
    PIO_STATUS_BLOCK IoStatusBlock, PLARGE_INTEGER AllocationSize, ULONG FileAttributes,
    ULONG ShareAccess, ULONG Disposition, ULONG CreateOptions, PVOID EaBuffer, ULONG EaLength,
    CREATE_FILE_TYPE CreateFileType, PVOID InternalParameters, ULONG Options, PVOID DeviceObject);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_IO_DDK_H */
