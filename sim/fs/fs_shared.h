/*
 * PRIVATE to sim/fs: the NTFS rules memfs and hostfs both apply, kept in one
 * place so the two file systems answer alike: name validation, access and
 * share-access checks (IoCheckShareAccess), the create checks, read/write
 * offsets and byte-range locks, the FILE_*_INFORMATION records of a query,
 * the packing of a directory query's entries with wildcard matching, and the
 * answers to controls and FS-filter callbacks. fs_create.c, fs_rw.c,
 * fs_shared.c, fs_dir.c and fs_control.c implement them; the handlers built
 * on them are in fs_core.h. Nothing here takes a lock or owns a file.
 */
#ifndef FLTSIM_FS_SHARED_H
#define FLTSIM_FS_SHARED_H

#include <stdbool.h>

#include <fltsim/model.h>

#define FLTSIM__FS_NAME_MAX 255      /* units in one component */
#define FLTSIM__FS_SECTOR_SIZE 512   /* non-cached, non-paging I/O aligns to it */
#define FLTSIM__FS_CLUSTER_SIZE 4096 /* allocation sizes round up to it */

#define FLTSIM__FS_ACCESS_READ (FILE_READ_DATA | FILE_EXECUTE)
#define FLTSIM__FS_ACCESS_WRITE (FILE_WRITE_DATA | FILE_APPEND_DATA)

/* ---- names ---- */

/* TRUE when s[0..n) is a valid name component: not empty, not "." or "..",
 * at most FLTSIM__FS_NAME_MAX units, no unit below 0x20 and none of
 * < > : " / \ | ? *. Cannot fail. */
bool fltsim__fs_component_valid(const WCHAR *s, size_t n);

/* ---- 8.3 short names (fs_shortname.c) ---- */

#define FLTSIM__FS_SHORT_MAX 12 /* units in an 8.3 name: 8, the period, 3 */

/* TRUE when s[0..n) is already a legal 8.3 name in any case (1-8 characters,
 * optionally a period and 1-3 more, none of them a space or a character 8.3
 * names cannot hold): NTFS then gives it no separate short name. */
bool fltsim__fs_short_legal(const WCHAR *s, size_t n);
/* The attempt-th (from 1) short name NTFS would try for the long name
 * s[0..n): ~1..~4 on the first six characters, then the checksum form. The
 * caller takes the first candidate no other name in the directory (long or
 * short) holds. Returns its units in out, 0 when attempts are exhausted. */
size_t fltsim__fs_short_candidate(const WCHAR *s, size_t n, ULONG attempt,
                                  WCHAR out[FLTSIM__FS_SHORT_MAX]);

/* ---- access ---- */

/* Generic rights mapped to the file rights, the generic bits cleared. */
ACCESS_MASK fltsim__fs_map_generic(ACCESS_MASK a);
/* With no security descriptors every right asked for is granted: MAXIMUM_ALLOWED
 * becomes FILE_ALL_ACCESS, less the data-writing rights on a read-only file. */
ACCESS_MASK fltsim__fs_resolve_access(ACCESS_MASK a, bool readonly_file);
/* Attributes of a new or overwritten file from the FileAttributes given:
 * the valid settable ones, never FILE_ATTRIBUTE_NORMAL, plus ARCHIVE. */
ULONG fltsim__fs_new_file_attributes(USHORT given);

/* IoCheckShareAccess's counters for one file. */
struct fltsim__fs_share {
    ULONG open_count; /* opens that asked for read, write or delete access */
    ULONG readers, writers, deleters;
    ULONG shared_read, shared_write, shared_delete;
};

/* What one open recorded (IoSetShareAccess), for IoRemoveShareAccess. */
struct fltsim__fs_share_rec {
    BOOLEAN counted;
    BOOLEAN read, write, del;
    BOOLEAN shared_read, shared_write, shared_delete;
};

/* IoCheckShareAccess: TRUE when an open asking access with share conflicts.
 * Only opens asking to read, write or delete take part. */
bool fltsim__fs_share_conflict(const struct fltsim__fs_share *s, ACCESS_MASK access, USHORT share);
/* IoSetShareAccess for an open granted access with share: counts it in s,
 * records it in rec and sets the file object's access and share flags. */
void fltsim__fs_share_set(struct fltsim__fs_share *s, struct fltsim__fs_share_rec *rec,
                          PFILE_OBJECT fo, ACCESS_MASK granted, USHORT share);
/* IoRemoveShareAccess; nothing when rec was not counted (or already removed). */
void fltsim__fs_share_remove(struct fltsim__fs_share *s, struct fltsim__fs_share_rec *rec);

/* ---- create ---- */

/* What a create asks for, decoded once from the parameters. */
struct fltsim__fs_create {
    PFILE_OBJECT fo;
    ACCESS_MASK access; /* generic rights mapped; MAXIMUM_ALLOWED still to resolve */
    ULONG disposition;
    USHORT share;
    USHORT attributes; /* FileAttributes as given */
    LONGLONG allocation;
    bool dir_file, non_dir, delete_on_close, target_dir;
    bool ignore_share; /* IoIsFileObjectIgnoringSharing: share access neither checked nor counted */
    const WCHAR *name; /* FileObject->FileName */
    size_t len;        /* units */
};

/* Decodes IRP_MJ_CREATE into a and checks what needs no file:
 * STATUS_INVALID_PARAMETER (no file object, or one already open, no security
 * context, FILE_DIRECTORY_FILE with FILE_NON_DIRECTORY_FILE, a disposition
 * out of range or one a directory cannot take, a negative allocation size),
 * then STATUS_OBJECT_NAME_INVALID (a FileName of odd length or no buffer). */
NTSTATUS fltsim__fs_create_decode(PFLT_CALLBACK_DATA data, struct fltsim__fs_create *a);
/* Checks name[0..*len) (the part below the directory a create starts from,
 * not empty) before any lookup, so a bad component is
 * STATUS_OBJECT_NAME_INVALID wherever it sits: a trailing backslash (only
 * with FILE_DIRECTORY_FILE) is dropped from *len, and *last_start is where
 * the last component begins. */
NTSTATUS fltsim__fs_create_path_check(const struct fltsim__fs_create *a, const WCHAR *name,
                                      size_t *len, size_t *last_start);
/* The checks of a volume open (as fastfat: a volume can only be opened,
 * never created or replaced, nor deleted). */
NTSTATUS fltsim__fs_open_volume_check(const struct fltsim__fs_create *a);
/* TRUE for the dispositions that replace an existing file's data. */
bool fltsim__fs_overwrites(ULONG disposition);
/* The checks an open of an existing file or directory makes before its
 * attributes, in NTFS's order: STATUS_DELETE_PENDING,
 * STATUS_OBJECT_NAME_COLLISION for FILE_CREATE (*info FILE_EXISTS), the
 * directory and non-directory options, a directory overwritten or superseded
 * (a name collision, mirroring fastfat), and the root deleted on close. */
NTSTATUS fltsim__fs_open_existing_check(const struct fltsim__fs_create *a, bool directory,
                                        bool delete_pending, bool is_root, ULONG_PTR *info);
/* The checks on a read-only file or directory (file: the one a read-only
 * attribute keeps from writing) granted access: STATUS_ACCESS_DENIED for
 * writing access or an overwrite of a file, STATUS_CANNOT_DELETE for delete
 * on close. */
NTSTATUS fltsim__fs_readonly_check(const struct fltsim__fs_create *a, bool file,
                                   ACCESS_MASK access);
/* The mask an open of an existing file is share-checked with: access, plus
 * writing for an overwrite and deleting for a supersede (as fastfat). */
ACCESS_MASK fltsim__fs_create_share_mask(const struct fltsim__fs_create *a, ACCESS_MASK access);
/* IoStatus.Information of a successful open of an existing file. */
ULONG_PTR fltsim__fs_opened_info(ULONG disposition);
/* Commits a successful create on fo: IoSetShareAccess with the access
 * granted (never the wider mask an overwrite was checked with) and the
 * file object's contexts. Cannot fail. */
void fltsim__fs_attach(const struct fltsim__fs_create *a, struct fltsim__fs_share *s,
                       struct fltsim__fs_share_rec *rec, ACCESS_MASK granted, void *fcb, void *ccb,
                       PSECTION_OBJECT_POINTERS section);
/* SL_OPEN_TARGET_DIRECTORY: leaves only the last component in FileName,
 * which is what a rename or link reads from the file object. */
void fltsim__fs_target_name(PFILE_OBJECT fo, const WCHAR *last, size_t last_len);
/* Close: the file object no longer names the file. */
void fltsim__fs_detach(PFILE_OBJECT fo);

/* ---- read and write ---- */

/* Resolves a read or write ByteOffset: FILE_USE_FILE_POINTER_POSITION, and
 * for writes FILE_WRITE_TO_END_OF_FILE (eof). STATUS_INVALID_PARAMETER for a
 * negative offset or position. */
NTSTATUS fltsim__fs_resolve_offset(PFILE_OBJECT fo, ULONG64 eof, LARGE_INTEGER offset, bool write,
                                   ULONG64 *out);
/* The checks of a read or write (write) of length bytes from buffer at
 * offset on a file whose data ends at eof, in NTFS's order: the offset
 * (fltsim__fs_resolve_offset, into *off), a misaligned non-cached transfer
 * (STATUS_INVALID_PARAMETER), then for length 0 STATUS_SUCCESS with the
 * position moved (nothing left to do), and STATUS_INVALID_USER_BUFFER for a
 * NULL buffer. */
NTSTATUS fltsim__fs_rw_check(PFILE_OBJECT fo, ULONG irp_flags, ULONG64 eof, LARGE_INTEGER offset,
                             ULONG length, const void *buffer, bool write, ULONG64 *off);
/* How many of length bytes from off lie before eof (0 when off >= eof). */
ULONG64 fltsim__fs_span(ULONG64 eof, ULONG64 off, ULONG length);
/* TRUE for non-cached, non-paging I/O that is not whole sectors at a sector
 * offset (it goes straight to the disk). */
bool fltsim__fs_misaligned(ULONG irp_flags, ULONG64 offset, ULONG length);
/* Moves a synchronous file object's position to end (not for paging I/O). */
void fltsim__fs_update_position(PFILE_OBJECT fo, ULONG irp_flags, ULONG64 end);
/* x rounded up to FLTSIM__FS_CLUSTER_SIZE (saturating). */
ULONG64 fltsim__fs_round_alloc(ULONG64 x);

/* ---- query information ---- */

/* What a query reports about one file or directory. */
struct fltsim__fs_facts {
    LONGLONG creation_time, last_access_time, last_write_time, change_time; /* FILETIME */
    ULONG attributes;        /* as reported: FILE_ATTRIBUTE_NORMAL when none */
    ULONG64 eof, allocation; /* 0 for directories */
    ULONG64 file_id;
    BOOLEAN directory;
    BOOLEAN delete_pending;
    /* the reparse point's tag when attributes has FILE_ATTRIBUTE_REPARSE_POINT,
     * else 0 (FileAttributeTagInformation, and EaSize of directory entries) */
    ULONG reparse_tag;
    /* the generated 8.3 name; short_len 0 when there is none (the long name
     * is already 8.3, or the file system makes none) */
    USHORT short_len;
    WCHAR short_name[FLTSIM__FS_SHORT_MAX];
};

/* The checks every query makes before looking at the file, in NTFS's order:
 * STATUS_INVALID_PARAMETER (a class not supported),
 * STATUS_INFO_LENGTH_MISMATCH (length below the class's fixed part),
 * STATUS_INVALID_USER_BUFFER (buffer NULL). */
NTSTATUS fltsim__fs_query_check(FILE_INFORMATION_CLASS cls, const void *buffer, ULONG length);
/* TRUE when the class reports the file's name (fill needs path). */
bool fltsim__fs_query_needs_name(FILE_INFORMATION_CLASS cls);
/* Fills a checked query of cls about f into buffer (length bytes): the
 * basic, standard, internal, EA, access (granted), name, position, all,
 * network-open and attribute-tag classes. path (path_units units, the full
 * path from the volume root) is read only when the class needs the name; a
 * name that does not fit is cut to whole characters with
 * STATUS_BUFFER_OVERFLOW. *information = bytes written. */
NTSTATUS fltsim__fs_query_fill(const struct fltsim__fs_facts *f, PFILE_OBJECT fo,
                               ACCESS_MASK granted, FILE_INFORMATION_CLASS cls, void *buffer,
                               ULONG length, const WCHAR *path, size_t path_units,
                               ULONG_PTR *information);

/* ---- volume information ---- */

/* What a volume query reports. */
struct fltsim__fs_volume_facts {
    LONGLONG creation_time; /* FILETIME */
    ULONG serial;
    ULONG64 total_units, avail_units; /* clusters of FLTSIM__FS_CLUSTER_SIZE */
    ULONG fs_attributes;              /* FILE_FS_ATTRIBUTE_INFORMATION bits */
    ULONG characteristics;            /* FILE_FS_DEVICE_INFORMATION bits */
};

/* Fills IRP_MJ_QUERY_VOLUME_INFORMATION of cls (volume, size, full size,
 * device, attribute; the file system's name is "NTFS"): STATUS_INVALID_PARAMETER
 * (another class), STATUS_INFO_LENGTH_MISMATCH, STATUS_INVALID_USER_BUFFER,
 * STATUS_BUFFER_OVERFLOW (the name cut). *information = bytes written. */
NTSTATUS fltsim__fs_query_volume_fill(FS_INFORMATION_CLASS cls, void *buffer, ULONG length,
                                      const struct fltsim__fs_volume_facts *v,
                                      ULONG_PTR *information);

/* ---- set information ---- */

/* The fixed part a set of cls needs, or 0 for a class neither file system
 * sets (basic, end of file, allocation, disposition (Ex), rename, position). */
ULONG fltsim__fs_set_min_size(FILE_INFORMATION_CLASS cls);
/* The checks of an IRP_MJ_SET_INFORMATION before its class is looked at
 * further: STATUS_INVALID_PARAMETER (a class neither file system sets),
 * STATUS_INFO_LENGTH_MISMATCH, STATUS_INVALID_USER_BUFFER, and after cleanup
 * (cleaned_up) STATUS_FILE_CLOSED for all but the cache manager's
 * valid-data advance (end of file, AdvanceOnly). */
NTSTATUS fltsim__fs_set_check(PFLT_CALLBACK_DATA data, bool cleaned_up);
/* FilePositionInformation from buf: the file object's CurrentByteOffset;
 * STATUS_INVALID_PARAMETER for a negative one. */
NTSTATUS fltsim__fs_set_position(PFILE_OBJECT fo, const void *buf);
/* A FILE_BASIC_INFORMATION time: STATUS_INVALID_PARAMETER below -2. */
NTSTATUS fltsim__fs_basic_check(const FILE_BASIC_INFORMATION *b);
/* TRUE when a FILE_BASIC_INFORMATION time asks for a change: 0 leaves it
 * alone, and so do -1 and -2 (on Windows they stop and resume the file
 * system's own updates for the handle; neither file system has such
 * automatic updates to stop beyond the operations that set times). */
bool fltsim__fs_time_given(LONGLONG t);

/* ---- directory queries ---- */

/* An upcased copy of a query's pattern ("*" when none was given). */
struct fltsim__fs_pattern {
    WCHAR *expr;
    USHORT len; /* units */
};

/* Takes a new pattern (NULL or empty means "*"); the old one is freed. On
 * failure (STATUS_INSUFFICIENT_RESOURCES) the old pattern stays. */
NTSTATUS fltsim__fs_pattern_take(struct fltsim__fs_pattern *p, const UNICODE_STRING *given);
/* FsRtlIsNameInExpression(pattern, name, IgnoreCase TRUE). */
bool fltsim__fs_pattern_match(const struct fltsim__fs_pattern *p, const WCHAR *name, size_t len);
void fltsim__fs_pattern_free(struct fltsim__fs_pattern *p);

/* The file system's side of a scan: the candidate at its position, in its
 * order ("." and ".." first below the root). */
struct fltsim__fs_scan_ops {
    /* The candidate at the position: its name (valid until consume_cb), or
     * false at the end of the directory. */
    bool (*next_cb)(void *ctx, const WCHAR **name, USHORT *len);
    /* The facts of the current candidate, asked only when it matches; false
     * when it cannot be described (it vanished): it is then skipped. */
    bool (*facts_cb)(void *ctx, struct fltsim__fs_facts *f);
    /* Moves the position past the current candidate. */
    void (*consume_cb)(void *ctx);
    /* The file system has short names: a pattern matching a candidate's
     * short name (not its long one) selects it too, as NTFS does ("*.HTM"
     * finds "page.html" through "PAGE~1.HTM"). */
    bool short_names;
};

/* Packs matching entries of class cls (fixed part known, buffer checked)
 * into buf as NtQueryDirectoryFile does: 8-byte aligned, linked by
 * NextEntryOffset, only the first entry when single. When not even the first
 * entry fits, its fixed part and what fits of its name go in with
 * STATUS_BUFFER_OVERFLOW (the entry is consumed). *any says whether any
 * entry went in, *used the bytes used. */
NTSTATUS fltsim__fs_scan_fill(FILE_INFORMATION_CLASS cls, UCHAR *buf, ULONG length, bool single,
                              const struct fltsim__fs_pattern *pattern,
                              const struct fltsim__fs_scan_ops *ops, void *ctx, bool *any,
                              ULONG *used);

/* ---- fast I/O and file system filter callbacks ---- */

/* TRUE when a fast write (data's Write parameters) stays within eof: its
 * offset resolves and it does not extend the file (the cache manager's fast
 * write declines when the file size must change). */
bool fltsim__fs_fast_write_fits(PFLT_CALLBACK_DATA data, ULONG64 eof);
/* The FS-filter callbacks on a file (data's TargetFileObject) whose pairing
 * counts are in c and whose share counters are share. No resources are held:
 * the counts only check that acquires and releases pair up (a release with
 * none is STATUS_INVALID_DEVICE_STATE). IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION
 * answers as NTFS: SyncTypeCreateSection is STATUS_FILE_LOCKED_WITH_ONLY_READERS
 * when no open of the file has write access (FILE_WRITE_DATA or
 * FILE_APPEND_DATA, as IoCheckShareAccess counts writers), else
 * STATUS_FILE_LOCKED_WITH_WRITERS; SyncTypeOther is STATUS_SUCCESS.
 * IRP_MJ_ACQUIRE/RELEASE_FOR_MOD_WRITE (*ResourceToRelease = NULL: there is no
 * ERESOURCE) and _FOR_CC_FLUSH are STATUS_SUCCESS. Other codes: STATUS_SUCCESS
 * (FltMgr's default for a file system without the callback). */
struct fltsim__fs_acquires {
    ULONG section, mod_write, cc_flush;
};
NTSTATUS fltsim__fs_filter_callback(PFLT_CALLBACK_DATA data, struct fltsim__fs_acquires *c,
                                    const struct fltsim__fs_share *share);

/* ---- byte-range locks (FsRtl's FILE_LOCK, without waiters) ---- */

/* One granted lock: its owner is (file object, process, key), as FsRtl's. */
struct fltsim__fs_lock {
    ULONG64 offset, length;
    PFILE_OBJECT fo;
    ULONG process_id;
    ULONG key;
    bool exclusive;
};

/* The locks of one file. Zero-initialized is empty. */
struct fltsim__fs_locks {
    struct fltsim__fs_lock *v;
    ULONG count, capacity;
};

/* IRP_MJ_LOCK_CONTROL, by IRP or fast I/O (the four minors): for an IRP the
 * lock's kind and waiting come from SL_EXCLUSIVE_LOCK / SL_FAIL_IMMEDIATELY,
 * for fast I/O from the ExclusiveLock / FailImmediately parameters; the owner's
 * process is FltGetRequestorProcessId. IRP_MN_LOCK: STATUS_INVALID_PARAMETER
 * (no Length, a negative offset or length, or offset + length past 2^63),
 * STATUS_LOCK_NOT_GRANTED when it overlaps an exclusive lock or, exclusive, any
 * lock (zero-length locks overlap nothing). Waiting locks are not modeled: a
 * lock that would wait is STATUS_LOCK_NOT_GRANTED too. IRP_MN_UNLOCK_SINGLE:
 * the lock of this owner with exactly this range, or STATUS_RANGE_NOT_LOCKED.
 * IRP_MN_UNLOCK_ALL: every lock of the file object and process;
 * IRP_MN_UNLOCK_ALL_BY_KEY: those with the key too (both succeed when there is
 * none). Another minor: STATUS_INVALID_DEVICE_REQUEST.
 * STATUS_INSUFFICIENT_RESOURCES leaves the locks as they were. */
NTSTATUS fltsim__fs_lock_control(struct fltsim__fs_locks *locks, PFLT_CALLBACK_DATA data);
/* Cleanup: drops every lock of fo (FsRtlFastUnlockAll). Cannot fail. */
void fltsim__fs_locks_release_file(struct fltsim__fs_locks *locks, PFILE_OBJECT fo);
/* Frees the lock list (the file goes away). */
void fltsim__fs_locks_free(struct fltsim__fs_locks *locks);
/* The lock check of a non-paging read or write (data's parameters; eof
 * resolves FILE_WRITE_TO_END_OF_FILE): STATUS_FILE_LOCK_CONFLICT when a
 * read overlaps an exclusive lock of another owner, or a write overlaps a
 * shared lock or an exclusive lock of another owner (FsRtlCheckLockForRead/
 * WriteAccess); STATUS_SUCCESS otherwise, paging I/O and unresolved offsets
 * included (the read/write checks report those). */
NTSTATUS fltsim__fs_lock_check_rw(const struct fltsim__fs_locks *locks, PFLT_CALLBACK_DATA data,
                                  ULONG64 eof);

/* ---- controls, extended attributes, security ---- */

/* IRP_MJ_QUERY_EA on a file system that stores no extended attributes:
 * STATUS_NO_EAS_ON_FILE. */
NTSTATUS fltsim__fs_query_ea(PFLT_CALLBACK_DATA data, ULONG_PTR *information);
/* IRP_MJ_QUERY_SECURITY: the self-relative descriptor every file has (owner
 * BUILTIN\Administrators S-1-5-32-544, group SYSTEM S-1-5-18, no DACL and no
 * SACL: with no ACLs stored, everyone has all access), holding the parts
 * SecurityInformation asks for. STATUS_BUFFER_OVERFLOW with *information =
 * the size needed when Length is too small (NTFS's answer; the I/O manager
 * turns it into STATUS_BUFFER_TOO_SMALL for NtQuerySecurityObject),
 * STATUS_INVALID_USER_BUFFER for no buffer. */
NTSTATUS fltsim__fs_query_security(PFLT_CALLBACK_DATA data, ULONG_PTR *information);
/* IRP_MJ_SET_SECURITY: the parameters carry no length, so the file system
 * trusts the descriptor the I/O manager captured and validated
 * (fltsim__security_descriptor_valid) and checks only its header:
 * STATUS_INVALID_SECURITY_DESCR for no descriptor, one that is not revision 1
 * self-relative, or SecurityInformation with none of the parts a file keeps.
 * Then STATUS_SUCCESS; nothing is stored, so a later query still answers the
 * fixed descriptor. */
NTSTATUS fltsim__fs_set_security(PFLT_CALLBACK_DATA data);

/* An IRP_MN_QUERY_DIRECTORY's parameters. */
struct fltsim__fs_dir_query {
    FILE_INFORMATION_CLASS cls;
    ULONG length;
    UCHAR *buf;
    PUNICODE_STRING pattern; /* NULL when none was given */
    bool restart, single;    /* SL_RESTART_SCAN, SL_RETURN_SINGLE_ENTRY */
};

/* The buffer a transfer of length bytes moves data through: the system
 * address of mdl when the request carries one (as Windows file systems use
 * the MDL, which a filter may have swapped in alone), else buffer. NULL when
 * the MDL cannot be mapped (Mm reports why: its pages are not locked). */
void *fltsim__fs_transfer_buffer(PMDL mdl, void *buffer, ULONG length);

/* Decodes a directory query into q and checks it: STATUS_INVALID_INFO_CLASS
 * (not a directory-enumeration class), STATUS_INFO_LENGTH_MISMATCH (length
 * below its fixed part), STATUS_INVALID_USER_BUFFER (no buffer),
 * STATUS_INSUFFICIENT_RESOURCES (an MDL that cannot be mapped). */
NTSTATUS fltsim__fs_dir_query_decode(PFLT_CALLBACK_DATA data, struct fltsim__fs_dir_query *q);
/* Starts the handle's scan over when q is its first query (!*active) or a
 * restart: the pattern is fixed by the first query of the handle and replaced
 * only by a restart that gives one (SL_INDEX_SPECIFIED is ignored). On
 * success *starts says whether the caller must reset its position to the
 * directory's start; *active and *first are then set. */
NTSTATUS fltsim__fs_dir_query_begin(const struct fltsim__fs_dir_query *q,
                                    struct fltsim__fs_pattern *pattern, BOOLEAN *active,
                                    BOOLEAN *first, bool *starts);
/* Packs q's entries (fltsim__fs_scan_fill) and ends the query:
 * STATUS_NO_SUCH_FILE when the scan's first query found nothing,
 * STATUS_NO_MORE_FILES when a later one did. *information = bytes used. */
NTSTATUS fltsim__fs_dir_query_fill(const struct fltsim__fs_dir_query *q,
                                   const struct fltsim__fs_pattern *pattern,
                                   const struct fltsim__fs_scan_ops *ops, void *ctx, BOOLEAN *first,
                                   ULONG_PTR *information);

#endif /* FLTSIM_FS_SHARED_H */
