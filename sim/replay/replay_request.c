/*
 * A kept row as a call of the test I/O API (replay_internal.h): the struct
 * rcall a CreateFile, read, query, set-information, directory query, lock,
 * control ... row describes, with what the capture did not record filled in
 * as the application most likely asked (buffer lengths, access, sharing),
 * and the handle it runs on. Issuing the call and keeping the handles are
 * replay.c's; which rows get here is replay_scan.c's.
 */
#include <stdlib.h>

#include <fltsim/io.h>

#include "replay_internal.h"
#include "common/sim_internal.h"

static ULONG io_flags_of(const struct fltsim_capture_params *p)
{
    ULONG f = 0;
    if (!(p->present & FLTSIM_CP_IO_FLAGS))
        return 0;
    if (p->io_flags & IRP_PAGING_IO) {
        f |= FLTSIM_IO_PAGING;
        if (p->io_flags & IRP_SYNCHRONOUS_PAGING_IO)
            f |= FLTSIM_IO_SYNC_PAGING;
    } else if (p->io_flags & IRP_NOCACHE) {
        f |= FLTSIM_IO_NONCACHED;
    }
    return f;
}

/* The buffer a query row is given: the recorded length (PML), else the
 * fixed part of the record when the real one overflowed (the application's
 * buffer was too small for the name), else a page. */
static ULONG query_length(const struct fltsim_capture_event *ev, ULONG info_class)
{
    if (ev->params.present & FLTSIM_CP_LENGTH)
        return ev->params.length;
    if (fltsim__replay_is_status(ev, STATUS_BUFFER_OVERFLOW)) {
        /* The record with room for one character of its name. */
        ULONG size = fltsim__file_info_size((FILE_INFORMATION_CLASS)info_class);
        if (size != 0)
            return size;
    }
    return 4096;
}

static void replay_create(struct replay *rp, const struct fltsim_capture_event *ev)
{
    const struct fltsim_capture_params *p = &ev->params;
    struct rhandle *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        fltsim__replay_fail(rp, "out of memory");
        return;
    }
    h->pid = ev->pid;
    h->tid = ev->tid;
    h->id = ++rp->next_handle_id;
    struct rcall c = {
        .kind = RC_CREATE,
        .pid = ev->pid,
        .tid = ev->tid,
        .handle = h,
        .path = ev->path,
        .access = (p->present & FLTSIM_CP_ACCESS) ? p->desired_access : FILE_GENERIC_READ,
        .share = (p->present & FLTSIM_CP_SHARE) ? p->share_access
                                                 : FILE_SHARE_READ | FILE_SHARE_WRITE,
        .disposition = (p->present & FLTSIM_CP_DISPOSITION) ? p->disposition : FILE_OPEN,
        .options = (p->present & FLTSIM_CP_OPTIONS) ? p->create_options
                                                     : FILE_SYNCHRONOUS_IO_NONALERT,
        .attributes = (p->present & FLTSIM_CP_ATTRIBUTES) ? p->file_attributes : 0,
        .allocation = (p->present & FLTSIM_CP_ALLOCATION) ? p->allocation_size : 0,
        .event = ev};
    h->access = c.access;
    h->asynchronous = !(c.options & (FILE_SYNCHRONOUS_IO_ALERT | FILE_SYNCHRONOUS_IO_NONALERT));
    fltsim__replay_record_result(rp, ev, fltsim__replay_perform(rp, &c));
    if (!NT_SUCCESS(c.status)) {
        free(h);
        return;
    }
    if (!NT_SUCCESS(ev->result)) {
        /* The application never got this handle: give it back at once. */
        fltsim__replay_close_handle(rp, h, NULL, ev->tid, ev->path);
        return;
    }
    if (!fltsim__replay_handle_add(rp, h, ev->path)) {
        fltsim__replay_fail(rp, "out of memory");
        free(h);
    }
}

void fltsim__replay_row(struct replay *rp, const struct rrow *row)
{
    const struct fltsim_capture_event *ev = &row->ev;
    const struct fltsim_capture_op *op = ev->op;
    const struct fltsim_capture_params *p = &ev->params;
    if (op->major == IRP_MJ_CREATE) {
        replay_create(rp, ev);
        return;
    }
    char dir[1024];
    const char *path = ev->path;
    if (op->major == IRP_MJ_DIRECTORY_CONTROL) {
        fltsim__replay_directory_of_query(ev, dir, sizeof(dir));
        path = dir;
    }
    if (op->major == IRP_MJ_NETWORK_QUERY_OPEN) {
        struct rcall q = {.kind = RC_QUERY_OPEN,
                          .pid = ev->pid,
                          .tid = ev->tid,
                          .path = ev->path,
                          .info_class = FileNetworkOpenInformation,
                          .length = sizeof(FILE_NETWORK_OPEN_INFORMATION),
                          .event = ev};
        fltsim__replay_record_result(rp, ev, fltsim__replay_perform(rp, &q));
        return;
    }
    NTSTATUS s;
    struct rhandle *h = fltsim__replay_handle_for(rp, ev, path, &s);
    if (op->major == IRP_MJ_CLEANUP) {
        /* The most recent handle (a cleanup needs no access beyond what
         * every handle has), or an implied open's. */
        fltsim__replay_record_result(
            rp, ev, h != NULL ? fltsim__replay_close_handle(rp, h, ev, ev->tid, path) : s);
        return;
    }
    if (h != NULL && op->major == IRP_MJ_DIRECTORY_CONTROL && h->implied && h->dir_queries > 0 &&
        ((p->present & FLTSIM_CP_FILE_NAME) || h->exhausted || h->exact || row->lists_dot_first)) {
        /* A query naming a filter, one after the enumeration ended or after
         * a one-name lookup, or one listing "." first, starts an
         * enumeration: FindFirstFile opens the directory anew. The
         * capture never opened it, so neither the previous enumeration's
         * handle nor this one is in it. */
        fltsim__replay_close_handle(rp, h, NULL, ev->tid, path);
        h = fltsim__replay_handle_for(rp, ev, path, &s);
    }
    if (h == NULL) {
        fltsim__replay_record_result(rp, ev, s); /* the implied open's failure is the row's */
        return;
    }
    struct rcall c = {.pid = ev->pid, .tid = ev->tid, .handle = h, .event = ev};
    switch (op->major) {
    case IRP_MJ_READ:
    case IRP_MJ_WRITE:
        c.kind = op->major == IRP_MJ_READ ? RC_READ : RC_WRITE;
        c.offset = (p->present & FLTSIM_CP_OFFSET) ? p->offset : 0;
        c.length = (p->present & FLTSIM_CP_LENGTH) ? p->length : 0;
        if (c.length > 64u * 1024 * 1024)
            c.length = 64u * 1024 * 1024;
        c.io_flags = io_flags_of(p);
        break;
    case IRP_MJ_QUERY_INFORMATION:
        c.kind = RC_QUERY_INFO;
        c.info_class = (ULONG)op->sub;
        c.length = query_length(ev, c.info_class);
        break;
    case IRP_MJ_SET_INFORMATION:
        c.info_class = (ULONG)op->sub;
        if (op->sub == FileRenameInformation) {
            if (!(p->present & FLTSIM_CP_FILE_NAME)) {
                fltsim__replay_skip(rp, "not replayable: a rename without its target name");
                return;
            }
            c.kind = RC_RENAME;
            c.new_name = p->file_name;
            c.replace = (p->present & FLTSIM_CP_REPLACE) && p->replace_if_exists;
        } else if (op->sub == FileDispositionInformation) {
            c.kind = RC_DELETE;
            c.delete_file = !(p->present & FLTSIM_CP_DELETE) || p->delete_file;
        } else {
            c.kind = RC_SET_INFO;
            c.value = (p->present & FLTSIM_CP_END_OF_FILE) ? p->end_of_file : 0;
            c.attributes = (p->present & FLTSIM_CP_ATTRIBUTES) ? p->file_attributes : 0;
        }
        break;
    case IRP_MJ_DIRECTORY_CONTROL:
        c.kind = RC_QUERY_DIR;
        c.info_class = (p->present & FLTSIM_CP_INFO_CLASS) ? p->info_class
                                                           : FileBothDirectoryInformation;
        c.length = (p->present & FLTSIM_CP_LENGTH) ? p->length : 65536;
        c.restart = h->dir_queries == 0;
        if (h->dir_queries == 0 && (p->present & FLTSIM_CP_FILE_NAME))
            c.pattern = p->file_name;
        h->exact = c.pattern != NULL && !fltsim__replay_has_wildcard(c.pattern);
        /* FindFirstFile asks for one entry: a first query whose Detail lists
         * exactly one name. */
        c.single = h->dir_queries == 0 && row->lists_one;
        h->dir_queries++;
        break;
    case IRP_MJ_FLUSH_BUFFERS:
        c.kind = RC_FLUSH;
        break;
    case IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION:
        c.kind = RC_ACQUIRE_SECTION;
        c.sync_type = (p->present & FLTSIM_CP_SYNC_TYPE) ? p->sync_type : SyncTypeOther;
        c.protection = (p->present & FLTSIM_CP_SYNC_TYPE) && p->page_protection != 0
                           ? p->page_protection
                           : PAGE_READONLY;
        break;
    case IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION:
        c.kind = RC_RELEASE_SECTION;
        break;
    case IRP_MJ_QUERY_VOLUME_INFORMATION:
        c.kind = RC_QUERY_VOLUME;
        c.info_class = (ULONG)op->sub;
        c.length = (p->present & FLTSIM_CP_LENGTH) ? p->length : 4096;
        break;
    case IRP_MJ_LOCK_CONTROL:
        c.offset = (p->present & FLTSIM_CP_OFFSET) ? p->offset : 0;
        c.value = (p->present & FLTSIM_CP_LENGTH) ? (LONGLONG)p->length : 0;
        if (op->sub == IRP_MN_LOCK) {
            c.kind = RC_LOCK;
            c.exclusive = (p->present & FLTSIM_CP_LOCK) && p->exclusive;
            c.fail_immediately = !(p->present & FLTSIM_CP_LOCK) || p->fail_immediately;
        } else {
            c.kind = RC_UNLOCK;
            c.minor = (UCHAR)op->sub;
        }
        break;
    case IRP_MJ_FILE_SYSTEM_CONTROL:
    case IRP_MJ_DEVICE_CONTROL:
        c.kind = op->major == IRP_MJ_FILE_SYSTEM_CONTROL ? RC_FS_CONTROL : RC_DEVICE_CONTROL;
        c.code = p->control_code;
        c.length = (p->present & FLTSIM_CP_LENGTH) ? p->length : 4096;
        break;
    case IRP_MJ_QUERY_EA:
        c.kind = RC_QUERY_EA;
        c.length = (p->present & FLTSIM_CP_LENGTH) ? p->length : 4096;
        c.restart = true;
        break;
    case IRP_MJ_QUERY_SECURITY:
        c.kind = RC_QUERY_SECURITY;
        c.security_information = (p->present & FLTSIM_CP_SECURITY_INFO)
                                     ? p->security_information
                                     : OWNER_SECURITY_INFORMATION |
                                           GROUP_SECURITY_INFORMATION |
                                           DACL_SECURITY_INFORMATION;
        /* The recorded length (PML); else a buffer too small when the real
         * one was (BUFFER OVERFLOW), a page otherwise. */
        c.length = (p->present & FLTSIM_CP_LENGTH)                        ? p->length
                   : fltsim__replay_is_status(ev, STATUS_BUFFER_OVERFLOW) ? 0
                                                                          : 4096;
        break;
    case IRP_MJ_ACQUIRE_FOR_MOD_WRITE:
        c.kind = RC_ACQUIRE_MOD_WRITE;
        c.value = (p->present & FLTSIM_CP_ENDING_OFFSET) ? p->ending_offset : 0;
        break;
    case IRP_MJ_RELEASE_FOR_MOD_WRITE:
        c.kind = RC_RELEASE_MOD_WRITE;
        break;
    case IRP_MJ_ACQUIRE_FOR_CC_FLUSH:
        c.kind = RC_ACQUIRE_CC_FLUSH;
        break;
    case IRP_MJ_RELEASE_FOR_CC_FLUSH:
        c.kind = RC_RELEASE_CC_FLUSH;
        break;
    default:
        fltsim__replay_skip(rp, "not replayable yet: an operation fltsim's I/O API does not issue");
        return;
    }
    /* A refused fast I/O attempt: the fast path alone (its IRP retry is the
     * capture's next row). */
    if (fltsim__replay_is_status(ev, STATUS_FLT_DISALLOW_FAST_IO) &&
        (c.kind == RC_READ || c.kind == RC_WRITE || c.kind == RC_QUERY_INFO || c.kind == RC_LOCK ||
         c.kind == RC_UNLOCK || c.kind == RC_DEVICE_CONTROL))
        c.io_flags |= FLTSIM_IO_FAST_ONLY;
    NTSTATUS seen = fltsim__replay_perform(rp, &c);
    if (c.kind == RC_QUERY_DIR &&
        (c.status == STATUS_NO_MORE_FILES || c.status == STATUS_NO_SUCH_FILE))
        h->exhausted = true;
    fltsim__replay_record_result(rp, ev, seen);
}
