/*
 * FsRtl: the file-system runtime filters use beside FltMgr: expected-status
 * checks, entering and leaving the file system, extra create parameters
 * (ECP lists, the system-defined ECPs and their contexts), oplocks and byte
 * range locks.
 * Part of the WDK surface: include <ntifs.h>, not this file.
 */
#ifndef FLTSIM_WDK_FSRTL_H
#define FLTSIM_WDK_FSRTL_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- statuses and the file-system critical region ---- */

/* FsRtlIsNtstatusExpected: FALSE for the exception codes a file system must
 * not turn into a request's status (access violation, datatype misalignment,
 * illegal or misaligned instruction); FsRtlNormalizeNtstatus gives
 * GenericException for those. */
BOOLEAN FsRtlIsNtstatusExpected(NTSTATUS Exception);
NTSTATUS FsRtlNormalizeNtstatus(NTSTATUS Exception, NTSTATUS GenericException);

/* A file system disables normal kernel APCs while it holds its resources. */
#define FsRtlEnterFileSystem() KeEnterCriticalRegion()
#define FsRtlExitFileSystem() KeLeaveCriticalRegion()

/* ---- extra create parameters ---- */

typedef ULONG FSRTL_ALLOCATE_ECPLIST_FLAGS;
#define FSRTL_ALLOCATE_ECPLIST_FLAG_CHARGE_QUOTA 0x00000001
typedef ULONG FSRTL_ALLOCATE_ECP_FLAGS;
#define FSRTL_ALLOCATE_ECP_FLAG_CHARGE_QUOTA 0x00000001
#define FSRTL_ALLOCATE_ECP_FLAG_NONPAGED_POOL 0x00000002
typedef ULONG FSRTL_ECP_LOOKASIDE_FLAGS;
#define FSRTL_ECP_LOOKASIDE_FLAG_NONPAGED_POOL 0x00000002

typedef VOID FSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK(PVOID EcpContext, LPCGUID EcpType);
typedef FSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK
    *PFSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK;

NTSTATUS FsRtlAllocateExtraCreateParameterList(FSRTL_ALLOCATE_ECPLIST_FLAGS Flags,
                                               PECP_LIST *EcpList);
VOID FsRtlFreeExtraCreateParameterList(PECP_LIST EcpList);
NTSTATUS
FsRtlAllocateExtraCreateParameter(LPCGUID EcpType, ULONG SizeOfContext,
                                  FSRTL_ALLOCATE_ECP_FLAGS Flags,
                                  PFSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK CleanupCallback,
                                  ULONG PoolTag, PVOID *EcpContext);
VOID FsRtlFreeExtraCreateParameter(PVOID EcpContext);
VOID FsRtlInitExtraCreateParameterLookasideList(PVOID Lookaside, FSRTL_ECP_LOOKASIDE_FLAGS Flags,
                                                SIZE_T Size, ULONG Tag);
VOID FsRtlDeleteExtraCreateParameterLookasideList(PVOID Lookaside, FSRTL_ECP_LOOKASIDE_FLAGS Flags);
NTSTATUS FsRtlAllocateExtraCreateParameterFromLookasideList(
    LPCGUID EcpType, ULONG SizeOfContext, FSRTL_ALLOCATE_ECP_FLAGS Flags,
    PFSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK CleanupCallback, PVOID LookasideList,
    PVOID *EcpContext);
NTSTATUS FsRtlInsertExtraCreateParameter(PECP_LIST EcpList, PVOID EcpContext);
/* STATUS_NOT_FOUND when the list has no ECP of EcpType. */
NTSTATUS FsRtlFindExtraCreateParameter(PECP_LIST EcpList, LPCGUID EcpType, PVOID *EcpContext,
                                       ULONG *EcpContextSize);
NTSTATUS FsRtlRemoveExtraCreateParameter(PECP_LIST EcpList, LPCGUID EcpType, PVOID *EcpContext,
                                         ULONG *EcpContextSize);
NTSTATUS FsRtlGetEcpListFromIrp(PIRP Irp, PECP_LIST *EcpList);
NTSTATUS FsRtlSetEcpListIntoIrp(PIRP Irp, PECP_LIST EcpList);
NTSTATUS FsRtlGetNextExtraCreateParameter(PECP_LIST EcpList, PVOID CurrentEcpContext,
                                          LPGUID NextEcpType, PVOID *NextEcpContext,
                                          ULONG *NextEcpContextSize);
VOID FsRtlAcknowledgeEcp(PVOID EcpContext);
BOOLEAN FsRtlIsEcpAcknowledged(PVOID EcpContext);
BOOLEAN FsRtlIsEcpFromUserMode(PVOID EcpContext);
VOID FsRtlPrepareToReuseEcp(PVOID EcpContext);

/* ---- the system-defined ECPs ---- */

typedef struct _PREFETCH_OPEN_ECP_CONTEXT {
    PVOID Context;
} PREFETCH_OPEN_ECP_CONTEXT, *PPREFETCH_OPEN_ECP_CONTEXT;
DEFINE_GUID(GUID_ECP_PREFETCH_OPEN, 0xe1777b21, 0x847e, 0x4837, 0xaa, 0x45, 0x64, 0x16, 0x1d, 0x28,
            0x06, 0x55);

typedef struct _OPLOCK_KEY_ECP_CONTEXT {
    GUID OplockKey;
    ULONG Reserved;
} OPLOCK_KEY_ECP_CONTEXT, *POPLOCK_KEY_ECP_CONTEXT;
DEFINE_GUID(GUID_ECP_OPLOCK_KEY, 0x48850596, 0x3050, 0x4be7, 0x98, 0x63, 0xfe, 0xc3, 0x50, 0xce,
            0x8d, 0x7f);

DEFINE_GUID(GUID_ECP_NFS_OPEN, 0xf326d30c, 0xe5f8, 0x4fe7, 0xab, 0x74, 0xf5, 0xa3, 0x19, 0x6d, 0x92,
            0xdb);
DEFINE_GUID(GUID_ECP_SRV_OPEN, 0xbebfaebc, 0xaabf, 0x489d, 0x9d, 0x2c, 0xe9, 0xe3, 0x61, 0x10, 0x28,
            0x53);

/* The client's address; wsk.h completes struct sockaddr_storage. */
typedef struct sockaddr_storage *PSOCKADDR_STORAGE_NFS;

typedef struct _NFS_OPEN_ECP_CONTEXT {
    PUNICODE_STRING ExportAlias;
    PSOCKADDR_STORAGE_NFS ClientSocketAddress;
} NFS_OPEN_ECP_CONTEXT, *PNFS_OPEN_ECP_CONTEXT, **PPNFS_OPEN_ECP_CONTEXT;

typedef enum _SRV_INSTANCE_TYPE {
    SrvInstanceTypeUndefined,
    SrvInstanceTypePrimary,
    SrvInstanceTypeCsv,
    SrvInstanceTypeSBL,
    SrvInstanceTypeSR,
    SrvInstanceTypeVSMB
} SRV_INSTANCE_TYPE,
    *PSRV_INSTANCE_TYPE;

#define SRV_OPEN_ECP_CONTEXT_VERSION_2 2

typedef struct _SRV_OPEN_ECP_CONTEXT {
    PUNICODE_STRING ShareName;
    PSOCKADDR_STORAGE_NFS SocketAddress;
    BOOLEAN OplockBlockState;
    BOOLEAN OplockAppState;
    BOOLEAN OplockFinalState;
    USHORT Version;
    SRV_INSTANCE_TYPE InstanceType;
} SRV_OPEN_ECP_CONTEXT, *PSRV_OPEN_ECP_CONTEXT;

typedef enum {
    NetworkOpenLocationAny,
    NetworkOpenLocationRemote,
    NetworkOpenLocationLoopback
} NETWORK_OPEN_LOCATION_QUALIFIER;

typedef enum {
    NetworkOpenIntegrityAny,
    NetworkOpenIntegrityNone,
    NetworkOpenIntegritySigned,
    NetworkOpenIntegrityEncrypted,
    NetworkOpenIntegrityMaximum
} NETWORK_OPEN_INTEGRITY_QUALIFIER;

typedef struct _NETWORK_OPEN_ECP_CONTEXT {
    USHORT Size;
    USHORT Reserved;
    struct {
        struct {
            NETWORK_OPEN_LOCATION_QUALIFIER Location;
            NETWORK_OPEN_INTEGRITY_QUALIFIER Integrity;
            ULONG Flags;
        } in;
        struct {
            NETWORK_OPEN_LOCATION_QUALIFIER Location;
            NETWORK_OPEN_INTEGRITY_QUALIFIER Integrity;
            ULONG Flags;
        } out;
    };
} NETWORK_OPEN_ECP_CONTEXT, *PNETWORK_OPEN_ECP_CONTEXT;
DEFINE_GUID(GUID_ECP_NETWORK_OPEN_CONTEXT, 0xc584edbf, 0x00df, 0x4d28, 0xb8, 0x84, 0x35, 0xba, 0xca,
            0x89, 0x11, 0xe8);

typedef enum _CSV_DOWN_LEVEL_FILE_TYPE {
    FileTypeStream = 0,
    FileTypeDirectory = 1
} CSV_DOWN_LEVEL_FILE_TYPE;

typedef struct _CSV_DOWN_LEVEL_OPEN_ECP_CONTEXT {
    ULONG Version;
    BOOLEAN IsResume;
    CSV_DOWN_LEVEL_FILE_TYPE FileType;
    ULONG SourceNodeId;
    ULONG DestinationNodeId;
} CSV_DOWN_LEVEL_OPEN_ECP_CONTEXT, *PCSV_DOWN_LEVEL_OPEN_ECP_CONTEXT;
DEFINE_GUID(GUID_ECP_CSV_DOWN_LEVEL_OPEN, 0x4248be44, 0x647f, 0x488f, 0x8b, 0xe5, 0xa0, 0x8a, 0xaf,
            0x70, 0xf0, 0x28);

typedef struct _CSV_QUERY_FILE_REVISION_ECP_CONTEXT {
    LONGLONG FileId;
    LONGLONG FileRevision[3];
} CSV_QUERY_FILE_REVISION_ECP_CONTEXT, *PCSV_QUERY_FILE_REVISION_ECP_CONTEXT;
DEFINE_GUID(GUID_ECP_CSV_QUERY_FILE_REVISION, 0x44aec90b, 0xde65, 0x4d46, 0x8f, 0xbf, 0x76, 0x3f,
            0x9d, 0x97, 0x0b, 0x1d);

/* ---- oplocks ---- */

typedef PVOID OPLOCK, *POPLOCK;
typedef VOID OPLOCK_WAIT_COMPLETE_ROUTINE(PVOID Context, PIRP Irp);
typedef OPLOCK_WAIT_COMPLETE_ROUTINE *POPLOCK_WAIT_COMPLETE_ROUTINE;
typedef VOID OPLOCK_FS_PREPOST_IRP(PVOID Context, PIRP Irp);
typedef OPLOCK_FS_PREPOST_IRP *POPLOCK_FS_PREPOST_IRP;

VOID FsRtlInitializeOplock(POPLOCK Oplock);
VOID FsRtlUninitializeOplock(POPLOCK Oplock);
NTSTATUS FsRtlOplockFsctrl(POPLOCK Oplock, PIRP Irp, ULONG OpenCount);
NTSTATUS FsRtlCheckOplock(POPLOCK Oplock, PIRP Irp, PVOID Context,
                          POPLOCK_WAIT_COMPLETE_ROUTINE CompletionRoutine,
                          POPLOCK_FS_PREPOST_IRP PostIrpRoutine);
BOOLEAN FsRtlOplockIsFastIoPossible(POPLOCK Oplock);
BOOLEAN FsRtlCurrentBatchOplock(POPLOCK Oplock);

/* ---- byte-range locks ---- */

typedef struct _FILE_LOCK_INFO {
    LARGE_INTEGER StartingByte;
    LARGE_INTEGER Length;
    BOOLEAN ExclusiveLock;
    ULONG Key;
    PFILE_OBJECT FileObject;
    PVOID ProcessId;
    LARGE_INTEGER EndingByte;
} FILE_LOCK_INFO, *PFILE_LOCK_INFO;

typedef NTSTATUS COMPLETE_LOCK_IRP_ROUTINE(PVOID Context, PIRP Irp);
typedef COMPLETE_LOCK_IRP_ROUTINE *PCOMPLETE_LOCK_IRP_ROUTINE;
typedef VOID UNLOCK_ROUTINE(PVOID Context, PFILE_LOCK_INFO FileLockInfo);
typedef UNLOCK_ROUTINE *PUNLOCK_ROUTINE;

typedef struct _FILE_LOCK {
    PCOMPLETE_LOCK_IRP_ROUTINE CompleteLockIrpRoutine;
    PUNLOCK_ROUTINE UnlockRoutine;
    BOOLEAN FastIoIsQuestionable;
    BOOLEAN SpareC[3];
    PVOID LockInformation;
    FILE_LOCK_INFO LastReturnedLockInfo;
    PVOID LastReturnedLock;
    LONG volatile LockRequestsInProgress;
} FILE_LOCK, *PFILE_LOCK;

PFILE_LOCK FsRtlAllocateFileLock(PCOMPLETE_LOCK_IRP_ROUTINE CompleteLockIrpRoutine,
                                 PUNLOCK_ROUTINE UnlockRoutine);
VOID FsRtlFreeFileLock(PFILE_LOCK FileLock);
VOID FsRtlInitializeFileLock(PFILE_LOCK FileLock, PCOMPLETE_LOCK_IRP_ROUTINE CompleteLockIrpRoutine,
                             PUNLOCK_ROUTINE UnlockRoutine);
VOID FsRtlUninitializeFileLock(PFILE_LOCK FileLock);

/* ---- change notification ---- */

struct _SECURITY_SUBJECT_CONTEXT;
typedef PVOID PNOTIFY_SYNC;
typedef BOOLEAN CHECK_FOR_TRAVERSE_ACCESS(PVOID NotifyContext, PVOID TargetContext,
                                          struct _SECURITY_SUBJECT_CONTEXT *SubjectContext);
typedef CHECK_FOR_TRAVERSE_ACCESS *PCHECK_FOR_TRAVERSE_ACCESS;
typedef BOOLEAN FILTER_REPORT_CHANGE(PVOID NotifyContext, PVOID FilterContext);
typedef FILTER_REPORT_CHANGE *PFILTER_REPORT_CHANGE;

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_FSRTL_H */
