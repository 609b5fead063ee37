/*
 * Replaying a Process Monitor capture (replay.h): the run, and the calls of
 * its second pass. Pass 1 (replay_scan.c) reads the capture once, infers the
 * namespace and keeps the rows worth replaying (replay_rows.c); the world is
 * built (replay_world.c); pass 2 maps each kept row to a call
 * (replay_request.c) that this file issues through the test I/O API, on the
 * handles it keeps per process and path, and compares with the recorded
 * Result (replay_report.c counts). The calls are also what `fltsim import`
 * writes as scenario steps (replay_import.c), so a call is described once
 * (struct rcall) and both issued and, when importing, written.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fltsim/io.h>
#include <fltsim/replay.h>

#include "replay_internal.h"
#include "common/sim_internal.h"

/* ------------------------------------------------------------------------- */
/* Small helpers the parts share                                             */
/* ------------------------------------------------------------------------- */

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static bool smap_grow(struct smap *m)
{
    size_t cap = m->cap == 0 ? 1024 : m->cap * 2;
    char **keys = calloc(cap, sizeof(*keys));
    size_t *values = calloc(cap, sizeof(*values));
    if (keys == NULL || values == NULL) {
        free(keys);
        free(values);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == NULL)
            continue;
        size_t j = hash_str(m->keys[i]) & (cap - 1);
        while (keys[j] != NULL)
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        values[j] = m->values[i];
    }
    free(m->keys);
    free(m->values);
    m->keys = keys;
    m->values = values;
    m->cap = cap;
    return true;
}

/* The value for key, or SIZE_MAX. */
size_t fltsim__replay_smap_get(const struct smap *m, const char *key)
{
    if (m->cap == 0)
        return SIZE_MAX;
    size_t j = hash_str(key) & (m->cap - 1);
    while (m->keys[j] != NULL) {
        if (strcmp(m->keys[j], key) == 0)
            return m->values[j];
        j = (j + 1) & (m->cap - 1);
    }
    return SIZE_MAX;
}

bool fltsim__replay_smap_put(struct smap *m, const char *key, size_t value)
{
    if ((m->count + 1) * 2 > m->cap && !smap_grow(m))
        return false;
    size_t j = hash_str(key) & (m->cap - 1);
    while (m->keys[j] != NULL) {
        if (strcmp(m->keys[j], key) == 0) {
            m->values[j] = value;
            return true;
        }
        j = (j + 1) & (m->cap - 1);
    }
    char *k = strdup(key);
    if (k == NULL)
        return false;
    m->keys[j] = k;
    m->values[j] = value;
    m->count++;
    return true;
}

void fltsim__replay_smap_free(struct smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof(*m));
}

bool fltsim__replay_buf_reserve(struct rbuf *b, size_t size)
{
    if (b->cap >= size)
        return true;
    size_t cap = b->cap == 0 ? 4096 : b->cap;
    while (cap < size)
        cap *= 2;
    unsigned char *p = realloc(b->data, cap);
    if (p == NULL)
        return false;
    memset(p + b->cap, 0, cap - b->cap);
    b->data = p;
    b->cap = cap;
    return true;
}

/* ------------------------------------------------------------------------- */
/* Errors, progress                                                          */
/* ------------------------------------------------------------------------- */

void fltsim__replay_fail(struct replay *rp, const char *fmt, ...)
{
    if (rp->error[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rp->error, sizeof(rp->error), fmt, ap);
    va_end(ap);
}

void fltsim__replay_progress(struct replay *rp, int pass, bool done)
{
    if (rp->options->progress == NULL)
        return;
    /* Pass 1 reads the file; pass 2 the rows pass 1 kept. */
    uint64_t size = pass == 1 ? fltsim_capture_size(rp->cap) : rp->rows_total;
    uint64_t pos = pass == 1 ? fltsim_capture_position(rp->cap) : rp->rows_this_pass;
    unsigned pct = done ? 100 : size > 0 ? (unsigned)(pos * 100 / size) : 0;
    if (pct > 100)
        pct = 100;
    char bar[31];
    for (unsigned i = 0; i < 30; i++)
        bar[i] = i < pct * 30 / 100 ? '#' : '.';
    bar[30] = '\0';
    fprintf(rp->options->progress, "\r%s [%s] %3u%%  %llu rows%s",
            pass == 1 ? "reading namespace" : "replaying        ", bar, pct,
            (unsigned long long)rp->rows_this_pass, done ? "\n" : "");
    fflush(rp->options->progress);
}

/* ------------------------------------------------------------------------- */
/* Handles                                                                   */
/* ------------------------------------------------------------------------- */

static struct hlist *handles_of(struct replay *rp, uint32_t pid, const char *path, bool create)
{
    char key[1100], pk[1024];
    fltsim__replay_path_key(path, pk, sizeof(pk));
    snprintf(key, sizeof(key), "%u|%s", pid, pk);
    size_t i = fltsim__replay_smap_get(&rp->handle_index, key);
    if (i != SIZE_MAX)
        return &rp->hlists[i];
    if (!create)
        return NULL;
    if (rp->hlist_count == rp->hlist_cap) {
        size_t c = rp->hlist_cap == 0 ? 256 : rp->hlist_cap * 2;
        struct hlist *p = realloc(rp->hlists, c * sizeof(*p));
        if (p == NULL)
            return NULL;
        rp->hlists = p;
        rp->hlist_cap = c;
    }
    if (!fltsim__replay_smap_put(&rp->handle_index, key, rp->hlist_count))
        return NULL;
    rp->hlists[rp->hlist_count] = (struct hlist){0};
    return &rp->hlists[rp->hlist_count++];
}

static bool hlist_push(struct hlist *l, struct rhandle *h)
{
    if (l->count == l->cap) {
        size_t c = l->cap == 0 ? 2 : l->cap * 2;
        struct rhandle **p = realloc(l->items, c * sizeof(*p));
        if (p == NULL)
            return false;
        l->items = p;
        l->cap = c;
    }
    l->items[l->count++] = h;
    return true;
}

static void hlist_remove(struct hlist *l, struct rhandle *h)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i] == h) {
            memmove(&l->items[i], &l->items[i + 1], (l->count - i - 1) * sizeof(l->items[0]));
            l->count--;
            return;
        }
}

bool fltsim__replay_handle_add(struct replay *rp, struct rhandle *h, const char *path)
{
    struct hlist *l = handles_of(rp, h->pid, path, true);
    return l != NULL && hlist_push(l, h);
}

/* ------------------------------------------------------------------------- */
/* Issuing calls                                                             */
/* ------------------------------------------------------------------------- */

static ULONG to_wide(const char *s, WCHAR *out, size_t count)
{
    return (ULONG)fltsim_utf8_to_utf16(s, out, count);
}

/* Waits for an overlapped read or write. */
static NTSTATUS wait_async(struct fltsim_io_async *a, KEVENT *event, NTSTATUS status)
{
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(event, Executive, KernelMode, FALSE, NULL);
        status = a->iosb.Status;
    }
    return status;
}

static NTSTATUS issue(struct replay *rp, struct rcall *c)
{
    fltsim_system *sys = rp->sys;
    IO_STATUS_BLOCK iosb = {0};
    HANDLE h = c->handle != NULL ? c->handle->h : NULL;
    WCHAR wide[1024];
    fltsim_thread_set_identity(c->pid, c->tid);
    switch (c->kind) {
    case RC_CREATE: {
        to_wide(c->path, wide, 1024);
        struct fltsim_create_params p = {.path = wide,
                                         .desired_access = c->access,
                                         .file_attributes = c->attributes,
                                         .share_access = c->share,
                                         .disposition = c->disposition,
                                         .create_options = c->options,
                                         .allocation_size = c->allocation,
                                         .flags = c->io_flags};
        return fltsim_io_create(sys, &p, &c->handle->h, &iosb);
    }
    case RC_READ:
    case RC_WRITE: {
        if (!fltsim__replay_buf_reserve(&rp->io, c->length) ||
            !fltsim__replay_buf_reserve(&rp->zeros, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        if (c->handle->asynchronous) {
            KEVENT event;
            KeInitializeEvent(&event, NotificationEvent, FALSE);
            struct fltsim_io_async a = {.event = &event};
            NTSTATUS s = c->kind == RC_READ
                             ? fltsim_io_read_async(sys, h, rp->io.data, c->length, c->offset,
                                                    c->io_flags, &a)
                             : fltsim_io_write_async(sys, h, rp->zeros.data, c->length, c->offset,
                                                     c->io_flags, &a);
            return wait_async(&a, &event, s);
        }
        return c->kind == RC_READ ? fltsim_io_read(sys, h, rp->io.data, c->length, &c->offset,
                                                   c->io_flags, &iosb)
                                  : fltsim_io_write(sys, h, rp->zeros.data, c->length, &c->offset,
                                                    c->io_flags, &iosb);
    }
    case RC_QUERY_INFO:
        if (!fltsim__replay_buf_reserve(&rp->io, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        return fltsim_io_query_information(sys, h, rp->io.data, c->length,
                                           (FILE_INFORMATION_CLASS)c->info_class, c->io_flags,
                                           &iosb);
    case RC_SET_INFO: {
        union {
            FILE_END_OF_FILE_INFORMATION eof;
            FILE_ALLOCATION_INFORMATION alloc;
            FILE_POSITION_INFORMATION pos;
            FILE_BASIC_INFORMATION basic;
        } u;
        memset(&u, 0, sizeof(u));
        ULONG len = 0;
        switch (c->info_class) {
        case FileEndOfFileInformation:
            u.eof.EndOfFile.QuadPart = c->value;
            len = sizeof(u.eof);
            break;
        case FileAllocationInformation:
            u.alloc.AllocationSize.QuadPart = c->value;
            len = sizeof(u.alloc);
            break;
        case FilePositionInformation:
            u.pos.CurrentByteOffset.QuadPart = c->value;
            len = sizeof(u.pos);
            break;
        default: /* FileBasicInformation: times unchanged */
            u.basic.FileAttributes = c->attributes;
            len = sizeof(u.basic);
            break;
        }
        return fltsim_io_set_information(sys, h, &u, len, (FILE_INFORMATION_CLASS)c->info_class,
                                         &iosb);
    }
    case RC_RENAME:
        to_wide(c->new_name, wide, 1024);
        return fltsim_io_rename(sys, h, wide, c->replace, &iosb);
    case RC_DELETE:
        return fltsim_io_delete(sys, h, c->delete_file);
    case RC_QUERY_DIR: {
        if (!fltsim__replay_buf_reserve(&rp->io, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        WCHAR *pattern = NULL;
        if (c->pattern != NULL) {
            to_wide(c->pattern, wide, 1024);
            pattern = wide;
        }
        UCHAR flags = (UCHAR)((c->restart ? SL_RESTART_SCAN : 0) |
                              (c->single ? SL_RETURN_SINGLE_ENTRY : 0));
        return fltsim_io_query_directory(sys, h, rp->io.data, c->length,
                                         (FILE_INFORMATION_CLASS)c->info_class, pattern, flags,
                                         &iosb);
    }
    case RC_FLUSH:
        return fltsim_io_flush(sys, h, &iosb);
    case RC_ACQUIRE_SECTION:
        return fltsim_io_acquire_for_section_sync(sys, h, (FS_FILTER_SECTION_SYNC_TYPE)c->sync_type,
                                                  c->protection);
    case RC_RELEASE_SECTION:
        return fltsim_io_release_for_section_sync(sys, h);
    case RC_CLOSE:
        return fltsim_io_close(sys, h);
    case RC_QUERY_OPEN:
        if (!fltsim__replay_buf_reserve(&rp->io, sizeof(FILE_NETWORK_OPEN_INFORMATION)))
            return STATUS_INSUFFICIENT_RESOURCES;
        to_wide(c->path, wide, 1024);
        return fltsim_io_query_open(sys, wide, (FILE_INFORMATION_CLASS)c->info_class,
                                    rp->io.data, c->length, &iosb);
    case RC_QUERY_VOLUME:
        if (!fltsim__replay_buf_reserve(&rp->io, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        return fltsim_io_query_volume_information(sys, h, rp->io.data, c->length,
                                                  (FS_INFORMATION_CLASS)c->info_class, &iosb);
    case RC_LOCK:
        return fltsim_io_lock(sys, h, c->offset, c->value, 0, c->fail_immediately, c->exclusive,
                              c->io_flags, &iosb);
    case RC_UNLOCK:
        return fltsim_io_unlock(sys, h, c->minor, c->offset, c->value, 0, c->io_flags, &iosb);
    case RC_FS_CONTROL:
    case RC_DEVICE_CONTROL:
        if (!fltsim__replay_buf_reserve(&rp->io, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        if (c->kind == RC_FS_CONTROL)
            return fltsim_io_fs_control(sys, h, c->code, NULL, 0, rp->io.data, c->length, &iosb);
        return fltsim_io_device_control(sys, h, c->code, NULL, 0, rp->io.data, c->length,
                                        c->io_flags, &iosb);
    case RC_QUERY_EA:
        if (!fltsim__replay_buf_reserve(&rp->io, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        return fltsim_io_query_ea(sys, h, rp->io.data, c->length, c->restart, &iosb);
    case RC_QUERY_SECURITY:
        if (!fltsim__replay_buf_reserve(&rp->io, c->length))
            return STATUS_INSUFFICIENT_RESOURCES;
        return fltsim_io_query_security(sys, h, c->security_information, rp->io.data, c->length,
                                        &iosb);
    case RC_ACQUIRE_MOD_WRITE:
        return fltsim_io_acquire_for_mod_write(sys, h, c->value);
    case RC_RELEASE_MOD_WRITE:
        return fltsim_io_release_for_mod_write(sys, h);
    case RC_ACQUIRE_CC_FLUSH:
        return fltsim_io_acquire_for_cc_flush(sys, h);
    case RC_RELEASE_CC_FLUSH:
        return fltsim_io_release_for_cc_flush(sys, h);
    }
    return STATUS_NOT_IMPLEMENTED;
}

/* Issues a call (and writes it as a step when importing). */
NTSTATUS fltsim__replay_perform(struct replay *rp, struct rcall *c)
{
    if (c->event != NULL)
        fltsim__replay_observe(c->event->op->major);
    c->status = issue(rp, c);
    if (c->event == NULL || !fltsim__replay_observed(&c->seen))
        c->seen = c->status;
    if (rp->import != NULL)
        fltsim__replay_import_call(rp, c);
    return c->seen;
}

/* What an implied open asks for: enough for the row's operation. Paging I/O
 * is checked against no access (the section's file object does it), so a
 * paging write does not make the file look open for writing (which would
 * change what AcquireForSectionSynchronization answers). */
static ACCESS_MASK implied_access(const struct fltsim_capture_event *ev)
{
    const struct fltsim_capture_params *p = &ev->params;
    bool paging = (p->present & FLTSIM_CP_IO_FLAGS) && (p->io_flags & IRP_PAGING_IO);
    ACCESS_MASK a = FILE_READ_ATTRIBUTES | SYNCHRONIZE;
    switch (ev->op->major) {
    case IRP_MJ_READ:
        if (!paging)
            a |= FILE_READ_DATA;
        break;
    case IRP_MJ_WRITE:
        if (!paging)
            a |= FILE_WRITE_DATA | FILE_APPEND_DATA;
        break;
    case IRP_MJ_FLUSH_BUFFERS:
        a |= FILE_WRITE_DATA | FILE_APPEND_DATA;
        break;
    case IRP_MJ_SET_INFORMATION:
        a |= FILE_WRITE_ATTRIBUTES | FILE_WRITE_DATA | DELETE;
        break;
    case IRP_MJ_DIRECTORY_CONTROL:
        a |= FILE_LIST_DIRECTORY;
        break;
    case IRP_MJ_QUERY_EA:
        a |= FILE_READ_EA;
        break;
    case IRP_MJ_LOCK_CONTROL:
        a |= FILE_READ_DATA;
        break;
    case IRP_MJ_FILE_SYSTEM_CONTROL:
    case IRP_MJ_DEVICE_CONTROL:
        /* The access the control code names (CTL_CODE bits 14-15). */
        if (p->present & FLTSIM_CP_CONTROL) {
            if ((p->control_code >> 14) & 1)
                a |= FILE_READ_DATA;
            if ((p->control_code >> 14) & 2)
                a |= FILE_WRITE_DATA;
        }
        break;
    case IRP_MJ_QUERY_SECURITY:
        a |= READ_CONTROL | ACCESS_SYSTEM_SECURITY;
        break;
    default:
        break;
    }
    return a;
}

/* The handle a row on (pid, path) runs on: the most recent one the capture
 * opened, else an implied open (kernel mode, sharing everything) that stays
 * until a CloseFile row or the end. NULL with *status set when the implied
 * open fails. */
struct rhandle *fltsim__replay_handle_for(struct replay *rp, const struct fltsim_capture_event *ev,
                                          const char *path, NTSTATUS *status)
{
    struct hlist *l = handles_of(rp, ev->pid, path, true);
    if (l == NULL) {
        *status = STATUS_INSUFFICIENT_RESOURCES;
        return NULL;
    }
    ACCESS_MASK need = implied_access(ev);
    for (size_t i = l->count; i > 0; i--) {
        struct rhandle *h = l->items[i - 1];
        if (!h->implied || (h->access & need) == need)
            return h;
    }
    struct rhandle *h = calloc(1, sizeof(*h));
    if (h == NULL || !hlist_push(l, h)) {
        free(h);
        *status = STATUS_INSUFFICIENT_RESOURCES;
        return NULL;
    }
    h->pid = ev->pid;
    h->tid = ev->tid;
    h->id = ++rp->next_handle_id;
    h->implied = true;
    h->access = need;
    struct rcall c = {.kind = RC_CREATE,
                      .pid = ev->pid,
                      .tid = ev->tid,
                      .handle = h,
                      .path = path,
                      .implied = true,
                      .access = need,
                      .share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                      .disposition = FILE_OPEN,
                      .options = FILE_SYNCHRONOUS_IO_NONALERT,
                      .io_flags = FLTSIM_IO_KERNEL_MODE};
    rp->report->implied_opens++;
    *status = fltsim__replay_perform(rp, &c);
    if (!NT_SUCCESS(*status)) {
        hlist_remove(l, h);
        free(h);
        return NULL;
    }
    return h;
}

/* Closes h (a CloseFile row ev, or an implied close when ev is NULL), forgets
 * it, and returns the status the call is judged by. */
NTSTATUS fltsim__replay_close_handle(struct replay *rp, struct rhandle *h,
                                     const struct fltsim_capture_event *ev, uint32_t tid,
                                     const char *path)
{
    struct rcall c = {.kind = RC_CLOSE,
                      .pid = h->pid,
                      .tid = tid,
                      .handle = h,
                      .implied = ev == NULL,
                      .event = ev};
    NTSTATUS status = fltsim__replay_perform(rp, &c);
    struct hlist *l = handles_of(rp, h->pid, path, false);
    if (l != NULL)
        hlist_remove(l, h);
    free(h);
    return status;
}

/* ------------------------------------------------------------------------- */
/* The run                                                                   */
/* ------------------------------------------------------------------------- */

static void close_everything(struct replay *rp)
{
    for (size_t i = 0; i < rp->hlist_count; i++) {
        struct hlist *l = &rp->hlists[i];
        while (l->count > 0) {
            struct rhandle *h = l->items[l->count - 1];
            struct rcall c = {.kind = RC_CLOSE, .pid = h->pid, .tid = h->tid, .handle = h,
                              .implied = true};
            if (rp->sys != NULL)
                fltsim__replay_perform(rp, &c);
            l->count--;
            free(h);
        }
        free(l->items);
    }
    free(rp->hlists);
    rp->hlists = NULL;
    rp->hlist_count = rp->hlist_cap = 0;
}

NTSTATUS fltsim_replay_run(const char *path, const struct fltsim_replay_options *options,
                           struct fltsim_replay_report *report, char *error, size_t error_size)
{
    static const struct fltsim_replay_options defaults = {0};
    struct replay *rp = calloc(1, sizeof(*rp));
    memset(report, 0, sizeof(*report));
    if (rp == NULL) {
        snprintf(error, error_size, "out of memory");
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    rp->options = options != NULL ? options : &defaults;
    rp->report = report;
    rp->capture_path = path;
    rp->import = rp->options->import;
    rp->max_file_size =
        rp->options->max_file_size != 0 ? rp->options->max_file_size : 64ull * 1024 * 1024;
    NTSTATUS status = STATUS_SUCCESS;
    ULONG caller_process = fltsim_thread_process_id(), caller_thread = fltsim_thread_id();

    /* The filters' objects first: one that will not load ends the replay
     * before the capture is read. */
    status = fltsim__replay_objects_open(rp);
    if (!NT_SUCCESS(status))
        goto out;

    /* Pass 1: the namespace, and the drives the capture uses. */
    status = fltsim__replay_scan(rp);
    if (!NT_SUCCESS(status))
        goto out;
    fltsim__replay_volumes_complete(rp);

    if (rp->import != NULL)
        fltsim__replay_import_begin(rp);
    status = fltsim__replay_world_create(rp);
    if (NT_SUCCESS(status))
        status = fltsim__replay_ns_populate(rp);
    if (NT_SUCCESS(status)) {
        status = fltsim__replay_observer_load(rp->sys);
        if (!NT_SUCCESS(status))
            fltsim__replay_fail(rp, "the observer at altitude 385200 did not load: %s",
                                fltsim_last_error());
    }
    if (NT_SUCCESS(status))
        status = fltsim__replay_filters_load(rp);
    if (!NT_SUCCESS(status))
        goto out;

    /* Pass 2: the rows, as pass 1 kept them (the capture is not read again). */
    rp->rows_this_pass = 0;
    size_t pos = 0;
    int r;
    struct rrow row;
    const char *reason;
    bool fs;
    uint32_t count;
    while (rp->error[0] == '\0' &&
           (r = fltsim__replay_rows_next(&rp->rows, &pos, &row, &reason, &fs, &count)) != 0) {
        uint64_t n = r == 1 ? 1 : count;
        if (((rp->rows_this_pass + n) >> 10) != (rp->rows_this_pass >> 10))
            fltsim__replay_progress(rp, 2, false);
        if (r == 1) {
            rp->rows_this_pass++;
            report->rows++;
            report->fs_rows++;
            fltsim__replay_row(rp, &row);
            continue;
        }
        /* A run: its first row may add a new reason (and fail for want of
         * memory, ending the replay after that row, as a row at a time
         * would); the rest only count. */
        rp->rows_this_pass++;
        report->rows++;
        report->fs_rows += fs ? 1 : 0;
        fltsim__replay_skip(rp, reason);
        if (n > 1 && rp->error[0] == '\0') {
            rp->rows_this_pass += n - 1;
            report->rows += n - 1;
            report->fs_rows += fs ? n - 1 : 0;
            fltsim__replay_skip_rows(rp, reason, n - 1);
        }
    }
    fltsim__replay_progress(rp, 2, true);
    if (rp->error[0] != '\0')
        status = STATUS_INVALID_PARAMETER;

out:
    close_everything(rp);
    if (rp->sys != NULL) {
        fltsim_thread_set_identity(caller_process, caller_thread);
        fltsim_system_wait_idle(rp->sys, 0);
        report->reports = fltsim_system_report_count(rp->sys);
        fltsim_system_destroy(rp->sys);
    }
    if (rp->import != NULL)
        fltsim__replay_import_end(rp);
    if (NT_SUCCESS(status) && rp->error[0] != '\0')
        status = STATUS_UNSUCCESSFUL; /* writing the import failed: not the capture's fault */
    fltsim_thread_set_identity(caller_process, caller_thread);
    if (rp->cap != NULL)
        fltsim_capture_close(rp->cap);
    for (size_t i = 0; i < rp->object_count; i++)
        fltsim__filter_object_close(&rp->objects[i]);
    free(rp->objects);
    fltsim__replay_report_sort(report);
    if (rp->error[0] != '\0')
        snprintf(error, error_size, "%s", rp->error);
    fltsim__replay_ns_free(&rp->ns);
    fltsim__replay_rows_free(&rp->rows);
    fltsim__replay_smap_free(&rp->skip_index);
    fltsim__replay_smap_free(&rp->op_index);
    fltsim__replay_smap_free(&rp->div_index);
    fltsim__replay_smap_free(&rp->handle_index);
    free(rp->zeros.data);
    free(rp->io.data);
    free(rp);
    return status;
}
