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
 * file objects only). A write offset of FILE_WRITE_TO_END_OF_FILE appends. */
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
NTSTATUS fltsim_io_write_async(fltsim_system *sys, HANDLE handle, const void *buffer,
                               ULONG length, LONGLONG offset, ULONG flags,
                               struct fltsim_io_async *async);

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
 * qualified path on the same volume. */
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
 * both, as creating an image or data section does. */
NTSTATUS fltsim_io_acquire_for_section_sync(fltsim_system *sys, HANDLE handle,
                                            FS_FILTER_SECTION_SYNC_TYPE sync_type,
                                            ULONG page_protection);
NTSTATUS fltsim_io_release_for_section_sync(fltsim_system *sys, HANDLE handle);
NTSTATUS fltsim_io_map_section(fltsim_system *sys, HANDLE handle, ULONG page_protection);

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
