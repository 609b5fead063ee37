/*
 * Scenario running, a step on its scenario thread (scenario_run_internal.h):
 * the body of each scenario thread, which performs the steps the runner
 * hands it: an I/O call through the I/O manager (io.h), or loading,
 * unloading, attaching, detaching or completing what a filter holds pended.
 * It records what became of the step in its struct rstep and signals it done
 * once both the call and any asynchronous completion are through; checking
 * that against the expectations is scenario_run_check.c's.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_run_internal.h"

/* ------------------------------------------------------------------------- */
/* Performing a step (on its scenario thread)                                */
/* ------------------------------------------------------------------------- */

static HANDLE handle_get(struct run *run, int index)
{
    if (index < 0)
        return NULL;
    uv_mutex_lock(&run->lock);
    HANDLE h = run->handles[index];
    uv_mutex_unlock(&run->lock);
    return h;
}

static void handle_set(struct run *run, int index, HANDLE h)
{
    uv_mutex_lock(&run->lock);
    run->handles[index] = h;
    uv_mutex_unlock(&run->lock);
}

static fltsim_driver *driver_get(struct run *run, size_t filter)
{
    uv_mutex_lock(&run->lock);
    fltsim_driver *d = run->drivers[filter];
    uv_mutex_unlock(&run->lock);
    return d;
}

static void driver_set(struct run *run, size_t filter, fltsim_driver *d)
{
    uv_mutex_lock(&run->lock);
    run->drivers[filter] = d;
    uv_mutex_unlock(&run->lock);
}

NTSTATUS fltsim__run_load_filter(struct run *run, size_t index)
{
    const struct sc_filter *f = &run->sc->filters[index];
    struct fltsim_instance_def defs[64];
    if (f->instance_count > sizeof(defs) / sizeof(defs[0]))
        return STATUS_INVALID_PARAMETER;
    for (size_t i = 0; i < f->instance_count; i++)
        defs[i] = (struct fltsim_instance_def){f->instances[i].name, f->instances[i].altitude,
                                               f->instances[i].flags};
    struct fltsim_filter_def def = {f->wname, f->default_instance, defs, (ULONG)f->instance_count};
    PDRIVER_INITIALIZE entry;
    if (f->builtin != NULL) {
        entry = f->builtin->entry;
    } else {
        void *sym = dlsym(run->objects[index], "DriverEntry");
        memcpy(&entry, &sym, sizeof(entry)); /* object to function pointer, POSIX style */
    }
    fltsim_driver *drv = NULL;
    NTSTATUS status = fltsim_driver_load_ex(
        run->sys, &def, entry, f->integrity_check ? 0 : FLTSIM_LOAD_NO_INTEGRITY_CHECK, &drv);
    if (NT_SUCCESS(status))
        driver_set(run, index, drv);
    return status;
}

PFLT_VOLUME fltsim__run_find_volume(struct run *run, size_t index)
{
    WCHAR name[3] = {run->sc->volumes[index].drive, L':', 0};
    return fltsim_volume_find(run->sys, name);
}

/* fltsim_driver_call's function for a complete_pended hook (ctx: the hook). */
static void call_hook(void *ctx)
{
    void (*hook)(void);
    memcpy(&hook, ctx, sizeof(hook));
    hook();
}

static NTSTATUS perform_control(struct run *run, const struct sc_step *s)
{
    const struct sc_filter *f = &run->sc->filters[s->filter];
    fltsim_driver *drv = driver_get(run, s->filter);
    UNICODE_STRING instance, altitude;
    switch (s->kind) {
    case SC_STEP_LOAD:
        return fltsim__run_load_filter(run, s->filter);
    case SC_STEP_UNLOAD: {
        if (drv == NULL)
            return STATUS_FLT_FILTER_NOT_FOUND;
        NTSTATUS status = fltsim_driver_unload(drv, s->mandatory ? FLTSIM_UNLOAD_MANDATORY : 0);
        if (NT_SUCCESS(status))
            driver_set(run, s->filter, NULL);
        return status;
    }
    case SC_STEP_ATTACH:
    case SC_STEP_DETACH: {
        if (drv == NULL || fltsim_driver_filter(drv) == NULL)
            return STATUS_FLT_FILTER_NOT_FOUND;
        PFLT_VOLUME volume = fltsim__run_find_volume(run, s->volume);
        if (volume == NULL)
            return STATUS_FLT_VOLUME_NOT_FOUND;
        if (s->instance != NULL)
            RtlInitUnicodeString(&instance, s->instance);
        if (s->kind == SC_STEP_DETACH)
            return FltDetachVolume(fltsim_driver_filter(drv), volume, &instance);
        if (s->altitude != NULL) {
            RtlInitUnicodeString(&altitude, s->altitude);
            return FltAttachVolumeAtAltitude(fltsim_driver_filter(drv), volume, &altitude,
                                             s->instance ? &instance : NULL, NULL);
        }
        return FltAttachVolume(fltsim_driver_filter(drv), volume, s->instance ? &instance : NULL,
                               NULL);
    }
    case SC_STEP_COMPLETE_PENDED: {
        void (*hook)(void) = NULL;
        if (f->builtin != NULL) {
            hook = f->builtin->complete_pended;
        } else {
            void *sym = dlsym(run->objects[s->filter], "FltSimCompletePended");
            memcpy(&hook, &sym, sizeof(hook));
        }
        if (hook == NULL)
            return STATUS_NOT_FOUND;
        if (drv == NULL)
            return STATUS_FLT_FILTER_NOT_FOUND;
        /* As the filter's own code: what it takes and drops is its own. */
        return fltsim_driver_call(drv, call_hook, &hook);
    }
    default:
        return STATUS_SUCCESS;
    }
}

/* One of the two parties of a step is through; the second sets done. */
static void step_party(struct rstep *r)
{
    if (InterlockedIncrement(&r->parties) == 2)
        KeSetEvent(&r->done, IO_NO_INCREMENT, FALSE);
}

static void async_done(struct fltsim_io_async *async, void *ctx)
{
    struct rstep *r = ctx;
    r->status = async->iosb.Status;
    r->information = async->iosb.Information;
    step_party(r);
}

static void perform_io(struct run *run, const struct sc_step *s, struct rstep *r)
{
    fltsim_system *sys = run->sys;
    HANDLE h = handle_get(run, s->handle);
    r->no_handle = s->handle >= 0 && !s->binds && h == NULL;
    r->after_fault = fltsim_fault_injected_count(sys) != 0;
    IO_STATUS_BLOCK iosb = {0};
    NTSTATUS status = STATUS_SUCCESS;

    switch (s->op) {
    case SC_OP_CREATE: {
        struct fltsim_create_params params = s->create;
        params.path = s->path;
        if (s->root >= 0) {
            /* A root whose create failed: STATUS_INVALID_HANDLE, as for
             * any step on such a handle, without a create that would read
             * the path as absolute. */
            params.root_directory = handle_get(run, s->root);
            if (params.root_directory == NULL) {
                r->no_handle = true;
                status = STATUS_INVALID_HANDLE;
                break;
            }
        }
        HANDLE nh = NULL;
        /* As a file system's own thread would, inside another request. */
        if (s->flags & SC_FLAG_TOP_LEVEL_IRP)
            IoSetTopLevelIrp(FSRTL_CACHE_TOP_LEVEL_IRP);
        status = fltsim_io_create(sys, &params, &nh, &iosb);
        if (s->flags & SC_FLAG_TOP_LEVEL_IRP)
            IoSetTopLevelIrp(NULL);
        if (NT_SUCCESS(status) && s->binds)
            handle_set(run, s->handle, nh);
        else if (NT_SUCCESS(status))
            fltsim_io_close(sys, nh); /* [not reachable: a succeeding create binds] */
        break;
    }
    case SC_OP_OPEN: {
        /* fltsim_io_open's request, through fltsim_io_create so that the
         * step sees IoStatus.Information (FILE_OPENED). */
        struct fltsim_create_params params = {
            .path = s->path,
            .desired_access = s->create.desired_access | SYNCHRONIZE,
            .share_access = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            .disposition = FILE_OPEN,
            .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
        HANDLE nh = NULL;
        status = fltsim_io_create(sys, &params, &nh, &iosb);
        if (NT_SUCCESS(status) && s->binds)
            handle_set(run, s->handle, nh);
        else if (NT_SUCCESS(status))
            fltsim_io_close(sys, nh);
        break;
    }
    case SC_OP_READ:
    case SC_OP_WRITE: {
        bool write = s->op == SC_OP_WRITE;
        ULONG flags = s->flags & ~SC_FLAG_TOP_LEVEL_IRP;
        void *buffer = write ? (void *)s->data.data : r->buffer;
        if (s->flags & SC_FLAG_TOP_LEVEL_IRP)
            IoSetTopLevelIrp(FSRTL_CACHE_TOP_LEVEL_IRP);
        if (s->async) {
            /* The thread is free once the call returns; the step finishes
             * when the completion callback has run too (step_party). */
            r->async.callback = async_done;
            r->async.ctx = r;
            NTSTATUS returned =
                write
                    ? fltsim_io_write_async(sys, h, buffer, s->length, s->offset, flags, &r->async)
                    : fltsim_io_read_async(sys, h, buffer, s->length, s->offset, flags, &r->async);
            r->returned = returned;
            if (returned != STATUS_PENDING) {
                r->status = r->async.iosb.Status;
                r->information = r->async.iosb.Information;
                step_party(r); /* no callback comes */
            }
            if (s->flags & SC_FLAG_TOP_LEVEL_IRP)
                IoSetTopLevelIrp(NULL);
            return;
        } else {
            const LONGLONG *offset = s->has_offset ? &s->offset : NULL;
            status = write ? fltsim_io_write(sys, h, buffer, s->length, offset, flags, &iosb)
                           : fltsim_io_read(sys, h, buffer, s->length, offset, flags, &iosb);
            r->returned = status;
        }
        if (s->flags & SC_FLAG_TOP_LEVEL_IRP)
            IoSetTopLevelIrp(NULL);
        break;
    }
    case SC_OP_QUERY_INFORMATION:
        status = fltsim_io_query_information(sys, h, r->buffer, s->length, s->info_class, s->flags,
                                             &iosb);
        break;
    case SC_OP_SET_INFORMATION: {
        union {
            FILE_END_OF_FILE_INFORMATION eof;
            FILE_ALLOCATION_INFORMATION allocation;
            FILE_POSITION_INFORMATION position;
            FILE_DISPOSITION_INFORMATION disposition;
            FILE_DISPOSITION_INFORMATION_EX disposition_ex;
            FILE_BASIC_INFORMATION basic;
        } info;
        ULONG size;
        memset(&info, 0, sizeof(info));
        switch (s->info_class) {
        case FileEndOfFileInformation:
            info.eof.EndOfFile.QuadPart = (LONGLONG)s->value;
            size = sizeof(info.eof);
            break;
        case FileAllocationInformation:
            info.allocation.AllocationSize.QuadPart = (LONGLONG)s->value;
            size = sizeof(info.allocation);
            break;
        case FilePositionInformation:
            info.position.CurrentByteOffset.QuadPart = (LONGLONG)s->value;
            size = sizeof(info.position);
            break;
        case FileDispositionInformation:
            info.disposition.DeleteFile = (BOOLEAN)s->value;
            size = sizeof(info.disposition);
            break;
        case FileDispositionInformationEx:
            info.disposition_ex.Flags = (ULONG)s->value;
            size = sizeof(info.disposition_ex);
            break;
        default: /* FileBasicInformation: times 0 = unchanged */
            info.basic.FileAttributes = (ULONG)s->value;
            size = sizeof(info.basic);
            break;
        }
        status = fltsim_io_set_information(sys, h, &info, size, s->info_class, &iosb);
        break;
    }
    case SC_OP_RENAME:
        status = fltsim_io_rename(sys, h, s->text, s->replace, &iosb);
        break;
    case SC_OP_DELETE:
        status = fltsim_io_delete(sys, h, (BOOLEAN)s->value);
        iosb.Status = status;
        break;
    case SC_OP_QUERY_DIRECTORY: {
        UCHAR scan =
            (UCHAR)((s->restart ? SL_RESTART_SCAN : 0) | (s->single ? SL_RETURN_SINGLE_ENTRY : 0));
        status = fltsim_io_query_directory(sys, h, r->buffer, s->length, s->info_class, s->text,
                                           scan, &iosb);
        break;
    }
    case SC_OP_FLUSH:
        status = fltsim_io_flush(sys, h, &iosb);
        break;
    case SC_OP_ACQUIRE_FOR_SECTION_SYNC:
        status = fltsim_io_acquire_for_section_sync(sys, h, (FS_FILTER_SECTION_SYNC_TYPE)s->value,
                                                    s->protection);
        break;
    case SC_OP_RELEASE_FOR_SECTION_SYNC:
        status = fltsim_io_release_for_section_sync(sys, h);
        break;
    case SC_OP_MAP_SECTION:
        status = fltsim_io_map_section(sys, h, s->protection);
        break;
    case SC_OP_CANCEL:
        status = fltsim_io_cancel(sys, h, s->request >= 0 ? &run->steps[s->request].async : NULL);
        iosb.Status = status;
        break;
    case SC_OP_CLOSE:
        status = s->ps_handle ? fltsim_ps_close(sys, h) : fltsim_io_close(sys, h);
        if (NT_SUCCESS(status))
            handle_set(run, s->handle, NULL);
        break;
    case SC_OP_QUERY_OPEN:
        status = fltsim_io_query_open(sys, s->path, s->info_class, r->buffer, s->length, &iosb);
        break;
    case SC_OP_QUERY_VOLUME_INFORMATION:
        status = fltsim_io_query_volume_information(sys, h, r->buffer, s->length,
                                                    (FS_INFORMATION_CLASS)s->info_class, &iosb);
        break;
    case SC_OP_LOCK:
        status = fltsim_io_lock(sys, h, s->offset, s->range_length, s->key, s->fail_immediately,
                                s->exclusive, s->flags, &iosb);
        break;
    case SC_OP_UNLOCK:
        status =
            fltsim_io_unlock(sys, h, s->minor, s->offset, s->range_length, s->key, s->flags, &iosb);
        break;
    case SC_OP_FS_CONTROL:
    case SC_OP_DEVICE_CONTROL: {
        /* The input is zeros of in_length bytes: the two controls memfs and
         * hostfs answer read none. */
        void *in = calloc(1, s->in_length ? s->in_length : 1);
        if (in == NULL) {
            status = STATUS_INSUFFICIENT_RESOURCES;
            break;
        }
        status = s->op == SC_OP_FS_CONTROL
                     ? fltsim_io_fs_control(sys, h, s->code, in, s->in_length, r->buffer, s->length,
                                            &iosb)
                     : fltsim_io_device_control(sys, h, s->code, in, s->in_length, r->buffer,
                                                s->length, s->flags, &iosb);
        free(in);
        break;
    }
    case SC_OP_QUERY_EA:
        status = fltsim_io_query_ea(sys, h, r->buffer, s->length, (BOOLEAN)s->restart, &iosb);
        break;
    case SC_OP_QUERY_SECURITY:
        status =
            fltsim_io_query_security(sys, h, s->security_information, r->buffer, s->length, &iosb);
        break;
    case SC_OP_SET_SECURITY: {
        /* A minimal valid self-relative descriptor: the owner and group SIDs
         * asked for (S-1-5-32-544, S-1-5-18), an empty DACL when asked for. */
        UCHAR sd[64];
        SECURITY_DESCRIPTOR_RELATIVE hdr;
        static const UCHAR owner[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0};
        static const UCHAR group[] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
        ULONG size = sizeof(hdr);
        memset(sd, 0, sizeof(sd));
        memset(&hdr, 0, sizeof(hdr));
        hdr.Revision = SECURITY_DESCRIPTOR_REVISION;
        hdr.Control = SE_SELF_RELATIVE;
        if (s->security_information & OWNER_SECURITY_INFORMATION) {
            hdr.Owner = size;
            memcpy(sd + size, owner, sizeof(owner));
            size += sizeof(owner);
        }
        if (s->security_information & GROUP_SECURITY_INFORMATION) {
            hdr.Group = size;
            memcpy(sd + size, group, sizeof(group));
            size += sizeof(group);
        }
        if (s->security_information & DACL_SECURITY_INFORMATION) {
            ACL acl = {.AclRevision = 2, .AclSize = sizeof(ACL)};
            hdr.Control |= SE_DACL_PRESENT;
            hdr.Dacl = size;
            memcpy(sd + size, &acl, sizeof(acl));
            size += sizeof(acl);
        }
        memcpy(sd, &hdr, sizeof(hdr));
        status = fltsim_io_set_security(sys, h, s->security_information, sd, size, &iosb);
        break;
    }
    case SC_OP_ACQUIRE_FOR_MOD_WRITE:
        status = fltsim_io_acquire_for_mod_write(sys, h, s->offset);
        break;
    case SC_OP_RELEASE_FOR_MOD_WRITE:
        status = fltsim_io_release_for_mod_write(sys, h);
        break;
    case SC_OP_ACQUIRE_FOR_CC_FLUSH:
        status = fltsim_io_acquire_for_cc_flush(sys, h);
        break;
    case SC_OP_RELEASE_FOR_CC_FLUSH:
        status = fltsim_io_release_for_cc_flush(sys, h);
        break;
    }
    r->status = status;
    r->information = iosb.Information;
    step_party(r); /* no completion party */
}

static void perform(struct run *run, size_t i)
{
    const struct sc_step *s = &run->sc->steps[i];
    struct rstep *r = &run->steps[i];
    r->performed = true;
    if (s->kind == SC_STEP_IO) {
        perform_io(run, s, r);
    } else if (s->kind == SC_STEP_PS) {
        fltsim__run_ps_step(run, s, r);
        step_party(r);
    } else {
        r->status = perform_control(run, s);
        step_party(r);
    }
}

void fltsim__run_worker(void *ctx)
{
    struct rthread *t = ctx;
    for (;;) {
        KeWaitForSingleObject(&t->go, Executive, KernelMode, FALSE, NULL);
        if (__atomic_load_n(&t->quit, __ATOMIC_ACQUIRE)) {
            /* The thread ends: Windows cancels the I/O it still has in
             * flight (IoCancelThreadIo). */
            (void)fltsim_io_cancel_thread(t->run->sys, fltsim_thread_current());
            return;
        }
        size_t i = t->current;
        perform(t->run, i);
        step_party(&t->run->steps[i]); /* the call returned */
        KeSetEvent(&t->ready, IO_NO_INCREMENT, FALSE);
    }
}
