/*
 * The test I/O API: a C interface through which a test acts as an
 * application. Each call plays the I/O manager (the Nt* system service and its
 * checks), builds the request and sends it through the volume's filter stack
 * to the file system. Handles belong to the simulated process that opened them
 * (fltsim_thread_set_identity); closing the last handle sends IRP_MJ_CLEANUP,
 * and IRP_MJ_CLOSE follows when the last reference to the file object goes.
 *
 * Threading: every call may be made from any thread; the calling thread is the
 * requestor (its IRQL must be PASSIVE_LEVEL). All calls return the final
 * NTSTATUS and, where there is one, fill iosb (which may be NULL).
 */
#ifndef FLTSIM_IO_H
#define FLTSIM_IO_H

#include <fltsim/model.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Per-request flags. */
#define FLTSIM_IO_NONCACHED 0x00000001   /* IRP_NOCACHE on this read or write */
#define FLTSIM_IO_PAGING 0x00000002      /* paging I/O: IRP_PAGING_IO | IRP_NOCACHE */
#define FLTSIM_IO_SYNC_PAGING 0x00000004 /* with PAGING: IRP_SYNCHRONOUS_PAGING_IO */
#define FLTSIM_IO_FAST                                                                             \
    0x00000008                           /* try fast I/O first, as the I/O manager does            \
                                            for cached I/O on synchronous file objects;            \
                                            an IRP follows when it is refused */
#define FLTSIM_IO_KERNEL_MODE 0x00000010 /* RequestorMode KernelMode; no access checks */
#define FLTSIM_IO_FAST_ONLY                                                                        \
    0x00000020 /* read, write, query_information, device_control, lock:                            \
                  try the fast I/O path only; STATUS_FLT_DISALLOW_FAST_IO when the file system     \
                  (or a filter) refuses it; no IRP follows (a capture records the IRP retry as     \
                  its own row) */

struct fltsim_create_params {
    /* "C:\\dir\\file", "\\??\\C:\\dir\\file", "\\Device\\HarddiskVolume1\\dir\\file",
     * "C:" (the volume itself), or a relative name with root_directory. */
    PCWSTR path;
    HANDLE root_directory;      /* NULL, or a directory handle path is relative to */
    ACCESS_MASK desired_access; /* generic rights are mapped, as by the I/O manager */
    ULONG file_attributes;
    ULONG share_access;
    ULONG disposition;    /* FILE_SUPERSEDE ... FILE_OVERWRITE_IF */
    ULONG create_options; /* FILE_* create options */
    LONGLONG allocation_size;
    UCHAR operation_flags; /* SL_* for the create, e.g. SL_OPEN_TARGET_DIRECTORY */
    ULONG flags;           /* FLTSIM_IO_KERNEL_MODE */
    /* Extra create parameters the create carries (GUID and context bytes,
     * copied), which filters find with FltGetEcpListFromCallbackData;
     * FltIsEcpFromUserMode is TRUE for them unless FLTSIM_IO_KERNEL_MODE. */
    const struct fltsim_ecp *ecps;
    ULONG ecp_count;
};

/* NtCreateFile. On success *handle is a new handle. Statuses include the file
 * system's (STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SHARING_VIOLATION ...), the
 * I/O manager's parameter checks (STATUS_INVALID_PARAMETER), and
 * STATUS_OBJECT_PATH_NOT_FOUND / STATUS_OBJECT_PATH_SYNTAX_BAD for a path
 * that names no mounted volume. */
NTSTATUS fltsim_io_create(fltsim_system *sys, const struct fltsim_create_params *params,
                          HANDLE *handle, IO_STATUS_BLOCK *iosb);

/* Opens an existing file or directory for access, sharing everything, for
 * synchronous I/O (what CreateFile(OPEN_EXISTING) does). */
NTSTATUS fltsim_io_open(fltsim_system *sys, PCWSTR path, ACCESS_MASK access, HANDLE *handle);

/* NtReadFile / NtWriteFile. offset NULL means the file pointer (synchronous
 * file objects only). A write offset of FILE_WRITE_TO_END_OF_FILE appends.
 * Paging and non-cached requests carry an MDL of the buffer in
 * Parameters.Read/Write.MdlAddress (its pages locked, not mapped: what Mm
 * gives paging I/O, and what a Windows file system makes of a non-cached
 * user buffer, here from the start), released when the request completes; a
 * buffer that cannot be locked fails with STATUS_ACCESS_VIOLATION before any
 * IRP. Cached requests and fast I/O carry the buffer alone. */
NTSTATUS fltsim_io_read(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                        const LONGLONG *offset, ULONG flags, IO_STATUS_BLOCK *iosb);
NTSTATUS fltsim_io_write(fltsim_system *sys, HANDLE handle, const void *buffer, ULONG length,
                         const LONGLONG *offset, ULONG flags, IO_STATUS_BLOCK *iosb);

/* Overlapped reads and writes (an asynchronous file object: opened without
 * FILE_SYNCHRONOUS_IO_ALERT / _NONALERT). The call returns STATUS_PENDING
 * when a filter or the file system pended the IRP; when it completes,
 * callback (if set) runs on a system worker thread at PASSIVE_LEVEL, as an
 * I/O completion APC would, and then event (if set) is signaled. Any other
 * return is the final status: iosb is filled and event signaled at once, and
 * the callback does not run. On a synchronous file object the I/O manager
 * waits, so the call never returns STATUS_PENDING. After signaling the event
 * the I/O manager no longer touches the structure. */
struct fltsim_io_async {
    PKEVENT event;                                              /* in, optional */
    void (*callback)(struct fltsim_io_async *async, void *ctx); /* in, optional */
    void *ctx;                                                  /* in */
    IO_STATUS_BLOCK iosb;                                       /* out */
};
NTSTATUS fltsim_io_read_async(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                              LONGLONG offset, ULONG flags, struct fltsim_io_async *async);
NTSTATUS fltsim_io_write_async(fltsim_system *sys, HANDLE handle, const void *buffer, ULONG length,
                               LONGLONG offset, ULONG flags, struct fltsim_io_async *async);

/* CancelIoEx: cancels the overlapped requests of handle (of the calling
 * process) still in flight, or only the one issued with async when it is not
 * NULL. A request a filter holds pended gets its Cancel bit
 * (FltIsIoCanceled) and the cancel routine the filter set
 * (FltSetCancelCompletion, or its cancel-safe queue's), called on the calling
 * thread before this returns; it completes when the filter completes it
 * (normally with STATUS_CANCELLED), through the async's callback and event as
 * usual. STATUS_SUCCESS when a request was found in flight,
 * STATUS_NOT_FOUND when none was (never issued, or completed already),
 * STATUS_INVALID_HANDLE. Any thread. */
NTSTATUS fltsim_io_cancel(fltsim_system *sys, HANDLE handle, const struct fltsim_io_async *async);
/* What Windows does when a thread ends (IoCancelThreadIo): cancels, as
 * fltsim_io_cancel does, every overlapped request thread issued that is
 * still in flight. STATUS_SUCCESS when there was one, STATUS_NOT_FOUND when
 * not, STATUS_INVALID_PARAMETER for a NULL system or thread. Any thread. */
NTSTATUS fltsim_io_cancel_thread(fltsim_system *sys, PETHREAD thread);

/* NtQueryInformationFile / NtSetInformationFile. FileAccessInformation,
 * FileModeInformation, FileAlignmentInformation and FilePositionInformation of
 * synchronous file objects are answered by the I/O manager without an IRP, as
 * on Windows. A rename (FileRenameInformation) to a fully qualified name opens
 * the target directory first (IRP_MJ_CREATE with SL_OPEN_TARGET_DIRECTORY). */
NTSTATUS fltsim_io_query_information(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                                     FILE_INFORMATION_CLASS info_class, ULONG flags,
                                     IO_STATUS_BLOCK *iosb);
NTSTATUS fltsim_io_set_information(fltsim_system *sys, HANDLE handle, const void *buffer,
                                   ULONG length, FILE_INFORMATION_CLASS info_class,
                                   IO_STATUS_BLOCK *iosb);

/* Renames the file: new_name is a bare name (same directory) or a fully
 * qualified path on the same volume (an NT path, or C:\dir\x, which the
 * filters see as \??\C:\dir\x, as MoveFileEx sends it). */
NTSTATUS fltsim_io_rename(fltsim_system *sys, HANDLE handle, PCWSTR new_name,
                          BOOLEAN replace_if_exists, IO_STATUS_BLOCK *iosb);
/* Marks the file for deletion (FileDispositionInformation). */
NTSTATUS fltsim_io_delete(fltsim_system *sys, HANDLE handle, BOOLEAN delete_file);

/* NtQueryDirectoryFile. pattern may be NULL; scan_flags holds SL_RESTART_SCAN
 * and SL_RETURN_SINGLE_ENTRY. */
NTSTATUS fltsim_io_query_directory(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                                   FILE_INFORMATION_CLASS info_class, PCWSTR pattern,
                                   UCHAR scan_flags, IO_STATUS_BLOCK *iosb);

/* NtFlushBuffersFile. */
NTSTATUS fltsim_io_flush(fltsim_system *sys, HANDLE handle, IO_STATUS_BLOCK *iosb);

/* The FS-filter callbacks the memory manager issues around section creation:
 * IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION and its release. map_section does
 * both, as creating an image or data section does, and returns the acquire's
 * status. memfs and hostfs answer SyncTypeCreateSection as NTFS does:
 * STATUS_FILE_LOCKED_WITH_ONLY_READERS when no open of the file has
 * FILE_WRITE_DATA or FILE_APPEND_DATA, else STATUS_FILE_LOCKED_WITH_WRITERS
 * (both success statuses); SyncTypeOther: STATUS_SUCCESS. */
NTSTATUS fltsim_io_acquire_for_section_sync(fltsim_system *sys, HANDLE handle,
                                            FS_FILTER_SECTION_SYNC_TYPE sync_type,
                                            ULONG page_protection);
NTSTATUS fltsim_io_release_for_section_sync(fltsim_system *sys, HANDLE handle);
NTSTATUS fltsim_io_map_section(fltsim_system *sys, HANDLE handle, ULONG page_protection);

/* The FS-filter callbacks of the modified page writer and of the cache
 * manager's flush: IRP_MJ_ACQUIRE_FOR_MOD_WRITE (EndingOffset points at
 * ending_offset; the file system's ResourceToRelease is not kept: the release
 * passes NULL), IRP_MJ_RELEASE_FOR_MOD_WRITE, IRP_MJ_ACQUIRE_FOR_CC_FLUSH and
 * IRP_MJ_RELEASE_FOR_CC_FLUSH, kernel mode, no access check. memfs and hostfs
 * answer STATUS_SUCCESS and check only that releases pair with acquires
 * (STATUS_INVALID_DEVICE_STATE for a release without one). */
NTSTATUS fltsim_io_acquire_for_mod_write(fltsim_system *sys, HANDLE handle, LONGLONG ending_offset);
NTSTATUS fltsim_io_release_for_mod_write(fltsim_system *sys, HANDLE handle);
NTSTATUS fltsim_io_acquire_for_cc_flush(fltsim_system *sys, HANDLE handle);
NTSTATUS fltsim_io_release_for_cc_flush(fltsim_system *sys, HANDLE handle);

/* IRP_MJ_NETWORK_QUERY_OPEN (fast I/O, NtQueryAttributesFile): FileBasicInformation
 * or FileNetworkOpenInformation of a path, through a stack-based file object
 * (SPEC table: never referenced; it is not opened, no create, cleanup or close
 * is sent, and its FileName is the path below the volume). Fast I/O only:
 * STATUS_FLT_DISALLOW_FAST_IO when refused (memfs and hostfs refuse it, as NTFS
 * does in the captures, where every QueryOpen row is FAST IO DISALLOWED); no IRP
 * fallback (the caller opens the file itself, as the capture's next rows do).
 * The filters see Parameters.NetworkQueryOpen.NetworkInformation and its Irp,
 * the create IRP of the open it stands for (one stack location: IRP_MJ_CREATE
 * on the file object, FILE_OPEN, FILE_READ_ATTRIBUTES, sharing everything),
 * valid during the call; a FileBasicInformation answer is converted from it.
 * STATUS_INVALID_PARAMETER for another class, STATUS_INFO_LENGTH_MISMATCH for a
 * short buffer, and the path statuses of fltsim_io_create. */
NTSTATUS fltsim_io_query_open(fltsim_system *sys, PCWSTR path, FILE_INFORMATION_CLASS info_class,
                              void *buffer, ULONG length, IO_STATUS_BLOCK *iosb);

/* NtQueryVolumeInformationFile (IRP_MJ_QUERY_VOLUME_INFORMATION, buffered):
 * STATUS_INVALID_INFO_CLASS for a class out of range, STATUS_INFO_LENGTH_MISMATCH
 * below the fixed record of the volume, size, device, attribute and full-size
 * classes; then the file system's answer. */
NTSTATUS fltsim_io_query_volume_information(fltsim_system *sys, HANDLE handle, void *buffer,
                                            ULONG length, FS_INFORMATION_CLASS info_class,
                                            IO_STATUS_BLOCK *iosb);

/* NtLockFile: IRP_MJ_LOCK_CONTROL / IRP_MN_LOCK with SL_FAIL_IMMEDIATELY and
 * SL_EXCLUSIVE_LOCK, or, with FLTSIM_IO_FAST (then the IRP when refused) or
 * FLTSIM_IO_FAST_ONLY, fast I/O (FastIoLock) with FailImmediately and
 * ExclusiveLock. Parameters.LockControl.ProcessId is NULL (fltsim has no
 * EPROCESS objects; FltGetRequestorProcessId names the process). The handle
 * needs FILE_READ_DATA or FILE_WRITE_DATA (else STATUS_ACCESS_DENIED);
 * STATUS_INVALID_PARAMETER for a negative offset or length or unknown flags.
 * memfs and hostfs: STATUS_LOCK_NOT_GRANTED for a conflict, also when
 * fail_immediately is FALSE (waiting locks are not modeled: nothing blocks). */
NTSTATUS fltsim_io_lock(fltsim_system *sys, HANDLE handle, LONGLONG offset, LONGLONG length,
                        ULONG key, BOOLEAN fail_immediately, BOOLEAN exclusive, ULONG flags,
                        IO_STATUS_BLOCK *iosb);
/* NtUnlockFile (IRP_MN_UNLOCK_SINGLE) and the kernel's IRP_MN_UNLOCK_ALL and
 * IRP_MN_UNLOCK_ALL_BY_KEY (offset and length unused: Length is NULL), by IRP,
 * or by fast I/O with FLTSIM_IO_FAST / FLTSIM_IO_FAST_ONLY. Access as
 * fltsim_io_lock; STATUS_INVALID_PARAMETER for another minor. memfs and hostfs:
 * STATUS_RANGE_NOT_LOCKED when no lock of this file object, process and key
 * has exactly this range. Locks also go at the file object's cleanup. */
NTSTATUS fltsim_io_unlock(fltsim_system *sys, HANDLE handle, UCHAR minor, LONGLONG offset,
                          LONGLONG length, ULONG key, ULONG flags, IO_STATUS_BLOCK *iosb);

/* NtFsControlFile (IRP_MJ_FILE_SYSTEM_CONTROL, IRP_MN_USER_FS_REQUEST) and
 * NtDeviceIoControlFile (IRP_MJ_DEVICE_CONTROL). The buffers travel as the
 * code's method says: METHOD_BUFFERED in one system buffer of
 * max(in_length, out_length) (output copied back), METHOD_NEITHER with the
 * caller's buffers, the direct methods with a system copy of the input and
 * the output buffer in OutputMdlAddress (locked for reading with
 * METHOD_IN_DIRECT, for writing with METHOD_OUT_DIRECT; a buffer that cannot
 * be locked fails with STATUS_ACCESS_VIOLATION before any IRP), released when
 * the request completes. The handle needs the access the
 * code names (FILE_READ_ACCESS: FILE_READ_DATA, FILE_WRITE_ACCESS:
 * FILE_WRITE_DATA), else STATUS_ACCESS_DENIED. Device control takes
 * FLTSIM_IO_FAST (FastIoDeviceControl first, the IRP when refused),
 * FLTSIM_IO_FAST_ONLY and FLTSIM_IO_KERNEL_MODE. memfs answers
 * FSCTL_SET/GET/DELETE_REPARSE_POINT as NTFS (sim/fs/README.md), hostfs
 * FSCTL_GET_REPARSE_POINT with STATUS_NOT_A_REPARSE_POINT; both
 * FSCTL_IS_VOLUME_MOUNTED with STATUS_SUCCESS, every other FSCTL and every
 * device control with STATUS_INVALID_DEVICE_REQUEST; fast device control is
 * refused. */
NTSTATUS fltsim_io_fs_control(fltsim_system *sys, HANDLE handle, ULONG code, const void *in,
                              ULONG in_length, void *out, ULONG out_length, IO_STATUS_BLOCK *iosb);
NTSTATUS fltsim_io_device_control(fltsim_system *sys, HANDLE handle, ULONG code, const void *in,
                                  ULONG in_length, void *out, ULONG out_length, ULONG flags,
                                  IO_STATUS_BLOCK *iosb);

/* NtQueryEaFile (IRP_MJ_QUERY_EA; SL_RESTART_SCAN with restart_scan; no EA
 * list, index or single-entry request). The handle needs FILE_READ_EA.
 * memfs and hostfs store no EAs: STATUS_NO_EAS_ON_FILE. */
NTSTATUS fltsim_io_query_ea(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                            BOOLEAN restart_scan, IO_STATUS_BLOCK *iosb);

/* NtQuerySecurityObject on a file (IRP_MJ_QUERY_SECURITY). The handle needs
 * READ_CONTROL, and ACCESS_SYSTEM_SECURITY for SACL_SECURITY_INFORMATION.
 * A file system's STATUS_BUFFER_OVERFLOW (what the filters see) becomes
 * STATUS_BUFFER_TOO_SMALL with iosb->Information = the length needed, as
 * NtQuerySecurityObject reports it. memfs and hostfs answer a fixed
 * self-relative descriptor: owner S-1-5-32-544, group S-1-5-18, no DACL or SACL
 * (they keep no ACLs). */
NTSTATUS fltsim_io_query_security(fltsim_system *sys, HANDLE handle, ULONG security_information,
                                  void *buffer, ULONG length, IO_STATUS_BLOCK *iosb);
/* NtSetSecurityObject on a file (IRP_MJ_SET_SECURITY): the descriptor must be
 * a valid self-relative one of length bytes (STATUS_INVALID_SECURITY_DESCR);
 * the file system gets a captured copy. The handle needs WRITE_OWNER for
 * owner, group or label, WRITE_DAC for the DACL, ACCESS_SYSTEM_SECURITY for
 * the SACL. memfs and hostfs validate it and succeed but store nothing. */
NTSTATUS fltsim_io_set_security(fltsim_system *sys, HANDLE handle, ULONG security_information,
                                const void *descriptor, ULONG length, IO_STATUS_BLOCK *iosb);

/* NtClose: STATUS_INVALID_HANDLE for a handle that is not open in the calling
 * simulated process. */
NTSTATUS fltsim_io_close(fltsim_system *sys, HANDLE handle);

/* Handles open in the system (all processes). */
ULONG fltsim_io_handle_count(fltsim_system *sys);
/* The file object behind a handle of the calling process, or NULL. */
PFILE_OBJECT fltsim_io_file_object(fltsim_system *sys, HANDLE handle);

#define PAGE_READONLY 0x02
#define PAGE_READWRITE 0x04
#define PAGE_EXECUTE_READ 0x20

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_IO_H */
