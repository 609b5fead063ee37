/*
 * The handle table of the simulated I/O manager: handle values, the entries
 * of each simulated process, the per-stripe spinlocks that let requestors on
 * different handles look up without sharing a lock, and the calls of the test
 * I/O API that work on handles alone (close, count, file object). What a handle
 * refers to (struct io_file), and what closing its last handle sends, belong
 * to iomgr.c.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

#define HANDLE_TABLE_MAX (1u << 20)

/* A short critical section on one stripe (no call out, no wait inside). */
static void stripe_lock(struct iomgr *io, ULONG index)
{
    LONG *l = &io->stripes[index % HANDLE_STRIPES].lock;
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) != 0)
        for (ULONG k = 0; __atomic_load_n(l, __ATOMIC_RELAXED) != 0; k++)
            if (k >= 64)
                sched_yield();
}

static void stripe_unlock(struct iomgr *io, ULONG index)
{
    __atomic_store_n(&io->stripes[index % HANDLE_STRIPES].lock, 0, __ATOMIC_RELEASE);
}

/* ---- handles ---- */

/* Generations take 30 bits, so a handle value's bit 63 says kernel handle
 * and bit 62 stays clear (the registry's kernel handles have all high bits
 * set: the two never meet). */
#define GENERATION_MASK 0x3fffffffu
#define KERNEL_BIT (1ull << 63)

static HANDLE handle_value(ULONG index, ULONG generation, bool kernel)
{
    return (HANDLE)(ULONG_PTR)((kernel ? KERNEL_BIT : 0) | ((ULONG64)generation << 32) |
                               ((ULONG64)(index + 1) << 2));
}

/* The table index a handle value names (maybe out of range), or false for a
 * value no handle ever has. */
static bool handle_index(HANDLE h, ULONG *index)
{
    ULONG64 v = (ULONG64)(ULONG_PTR)h;
    if ((v & 3) != 0 || (v & 0xffffffffu) == 0)
        return false;
    *index = (ULONG)((v & 0xffffffffu) >> 2) - 1;
    return true;
}

/* The stripe lock of index held. The entry of a kernel handle, or of a
 * handle owned by process_id (the caller's, looked up before the lock), or
 * NULL. */
static struct handle_entry *handle_entry_locked(struct iomgr *io, HANDLE h, ULONG index,
                                                ULONG process_id)
{
    ULONG64 v = (ULONG64)(ULONG_PTR)h;
    ULONG generation = (ULONG)(v >> 32) & GENERATION_MASK;
    bool kernel = (v & KERNEL_BIT) != 0;
    if ((v >> 32) & ~(ULONG64)(GENERATION_MASK | (KERNEL_BIT >> 32)))
        return NULL;
    if (index >= __atomic_load_n(&io->count, __ATOMIC_ACQUIRE))
        return NULL;
    struct handle_entry *e = &io->handles[index];
    if (e->file == NULL || e->generation != generation || e->kernel != kernel ||
        (!kernel && e->process_id != process_id))
        return NULL;
    return e;
}

NTSTATUS fltsim__handle_insert(struct iomgr *io, struct io_file *file, ACCESS_MASK granted,
                               bool kernel, HANDLE *out)
{
    uv_mutex_lock(&io->lock);
    ULONG index = io->count;
    for (ULONG i = 0; i < io->count; i++)
        if (io->handles[i].file == NULL) {
            index = i;
            break;
        }
    if (index == io->count) {
        if (io->count == io->capacity) {
            ULONG cap = io->capacity ? io->capacity * 2 : 64;
            /* realloc may move the table: no lookup may read it meanwhile. */
            for (ULONG k = 0; k < HANDLE_STRIPES; k++)
                stripe_lock(io, k);
            struct handle_entry *grown =
                cap <= HANDLE_TABLE_MAX ? realloc(io->handles, cap * sizeof(*grown)) : NULL;
            if (grown != NULL) {
                memset(grown + io->capacity, 0, (cap - io->capacity) * sizeof(*grown));
                io->handles = grown;
                io->capacity = cap;
            }
            for (ULONG k = 0; k < HANDLE_STRIPES; k++)
                stripe_unlock(io, k);
            if (grown == NULL) {
                uv_mutex_unlock(&io->lock);
                return STATUS_INSUFFICIENT_RESOURCES;
            }
        }
        /* The entry is free (zero) until it is filled below. */
        __atomic_store_n(&io->count, io->count + 1, __ATOMIC_RELEASE);
    }
    ULONG process_id = kernel ? FLTSIM_IO_SYSTEM_PROCESS : fltsim_thread_process_id();
    stripe_lock(io, index);
    struct handle_entry *e = &io->handles[index];
    e->file = file;
    e->granted = granted;
    e->process_id = process_id;
    e->kernel = kernel;
    e->generation = (e->generation + 1) & GENERATION_MASK;
    *out = handle_value(index, e->generation, kernel);
    stripe_unlock(io, index);
    io->open++;
    uv_mutex_unlock(&io->lock);
    return STATUS_SUCCESS;
}

struct io_file *fltsim__file_from_handle(struct iomgr *io, HANDLE h, ACCESS_MASK *granted)
{
    ULONG index;
    if (!handle_index(h, &index))
        return NULL;
    ULONG process_id = fltsim_thread_process_id();
    stripe_lock(io, index);
    struct handle_entry *e = handle_entry_locked(io, h, index, process_id);
    struct io_file *file = NULL;
    if (e != NULL) {
        file = e->file;
        /* Before the stripe lock goes: a close clears the entry under it
         * before it drops the handle's reference. */
        __atomic_add_fetch(&file->refs, 1, __ATOMIC_SEQ_CST);
        if (granted != NULL)
            *granted = e->granted;
    }
    stripe_unlock(io, index);
    return file;
}

NTSTATUS fltsim_io_close(fltsim_system *sys, HANDLE handle)
{
    struct iomgr *io = sys != NULL ? fltsim_system_io_manager(sys) : NULL;
    /* NtClose from user mode: kernel handles are not the caller's. */
    if (io == NULL || fltsim__is_kernel_handle(handle))
        return STATUS_INVALID_HANDLE;
    return fltsim__handle_close(io, handle);
}

NTSTATUS fltsim__handle_close(struct iomgr *io, HANDLE handle)
{
    ULONG index;
    if (!handle_index(handle, &index))
        return STATUS_INVALID_HANDLE;
    ULONG process_id = fltsim_thread_process_id();
    uv_mutex_lock(&io->lock);
    stripe_lock(io, index);
    struct handle_entry *e = handle_entry_locked(io, handle, index, process_id);
    struct io_file *file = e != NULL ? e->file : NULL;
    if (e != NULL)
        e->file = NULL;
    stripe_unlock(io, index);
    if (e != NULL)
        io->open--;
    uv_mutex_unlock(&io->lock);
    if (file == NULL)
        return STATUS_INVALID_HANDLE;
    fltsim__file_handle_closed(file);
    return STATUS_SUCCESS;
}

ULONG fltsim__handle_count_owned(struct iomgr *io, const void *owner)
{
    ULONG n = 0;
    uv_mutex_lock(&io->lock); /* entries change under it */
    for (ULONG i = 0; i < io->count; i++)
        if (io->handles[i].file != NULL && io->handles[i].file->owner == owner)
            n++;
    uv_mutex_unlock(&io->lock);
    return n;
}

ULONG fltsim_io_handle_count(fltsim_system *sys)
{
    struct iomgr *io = sys != NULL ? fltsim_system_io_manager(sys) : NULL;
    if (io == NULL)
        return 0;
    uv_mutex_lock(&io->lock);
    ULONG n = io->open;
    uv_mutex_unlock(&io->lock);
    return n;
}

PFILE_OBJECT fltsim_io_file_object(fltsim_system *sys, HANDLE handle)
{
    struct iomgr *io = sys != NULL ? fltsim_system_io_manager(sys) : NULL;
    if (io == NULL)
        return NULL;
    ULONG index;
    if (!handle_index(handle, &index))
        return NULL;
    ULONG process_id = fltsim_thread_process_id();
    stripe_lock(io, index);
    struct handle_entry *e = handle_entry_locked(io, handle, index, process_id);
    PFILE_OBJECT fo = e != NULL ? &e->file->fo : NULL;
    stripe_unlock(io, index);
    return fo;
}

void fltsim__handle_close_all(struct iomgr *io)
{
    /* Every handle still open is closed, so filters see cleanup and close. */
    for (ULONG i = 0; i < io->count; i++) {
        uv_mutex_lock(&io->lock);
        stripe_lock(io, i);
        struct io_file *file = io->handles[i].file;
        io->handles[i].file = NULL;
        stripe_unlock(io, i);
        if (file != NULL)
            io->open--;
        uv_mutex_unlock(&io->lock);
        if (file != NULL)
            fltsim__file_handle_closed(file);
    }
    free(io->handles);
}
