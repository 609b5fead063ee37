/*
 * I/O completion ports and overlapped completion in a simulated process:
 * CreateIoCompletionPort (a port of its own, or a communication port's
 * handle associated with one), GetQueuedCompletionStatus,
 * PostQueuedCompletionStatus, GetOverlappedResult, CancelIo(Ex), and the
 * completion of an overlapped request (the OVERLAPPED's status and bytes,
 * its event, a packet for the port).
 */
#include <stdlib.h>

#include "win32_internal.h"

void fltsim__w32_complete_locked(fltsim_system *sys, struct w32_iocp *iocp, ULONG_PTR key,
                                 LPOVERLAPPED ov, struct w32_event *event, NTSTATUS status,
                                 ULONG_PTR bytes)
{
    ov->Internal = (ULONG_PTR)(ULONG)status;
    ov->InternalHigh = bytes;
    if (event != NULL)
        event->signaled = true;
    if (iocp != NULL && !iocp->closed) {
        struct w32_packet *p = malloc(sizeof(*p));
        if (p != NULL) { /* out of memory: the packet is lost, the event still set */
            p->status = status;
            p->bytes = bytes;
            p->key = key;
            p->ov = ov;
            InsertTailList(&iocp->packets, &p->link);
        }
    }
    fltsim__broadcast_locked(sys);
}

HANDLE CreateIoCompletionPort(HANDLE FileHandle, HANDLE ExistingCompletionPort,
                              ULONG_PTR CompletionKey, DWORD NumberOfConcurrentThreads)
{
    (void)NumberOfConcurrentThreads; /* every waiting thread may take a packet */
    struct w32_thread *self = fltsim__w32_self();
    if (self == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
        return NULL;
    }
    fltsim_system *sys = self->proc->sys;
    bool fresh = ExistingCompletionPort == NULL;
    if (FileHandle == INVALID_HANDLE_VALUE && !fresh) {
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    struct w32_iocp *q = NULL;
    if (fresh) {
        q = calloc(1, sizeof(*q));
        if (q == NULL) {
            fltsim__w32_set_error(ERROR_NOT_ENOUGH_MEMORY);
            return NULL;
        }
        q->h.kind = W32_IOCP;
        q->h.refs = 1;
        InitializeListHead(&q->packets);
    }
    uv_mutex_lock(&sys->lock);
    HANDLE result = ExistingCompletionPort;
    DWORD error = ERROR_SUCCESS;
    if (!fresh) {
        q = (struct w32_iocp *)fltsim__w32_object_locked(ExistingCompletionPort, W32_IOCP);
        if (q == NULL)
            error = ERROR_INVALID_PARAMETER;
    }
    if (error == ERROR_SUCCESS && FileHandle != INVALID_HANDLE_VALUE &&
        !fltsim__port_associate_locked(sys, FileHandle, q, CompletionKey))
        error = ERROR_INVALID_PARAMETER; /* a handle fltsim has no overlapped I/O for */
    if (fresh) {
        if (error == ERROR_SUCCESS) {
            result = fltsim__w32_handle_new_locked(self->proc, &q->h);
            if (result == NULL)
                error = ERROR_NOT_ENOUGH_MEMORY;
        } else {
            fltsim__w32_unref_locked(sys, &q->h);
        }
    }
    uv_mutex_unlock(&sys->lock);
    fltsim__w32_set_error(error);
    fltsim__w32_checkpoint();
    return error == ERROR_SUCCESS ? result : NULL;
}

static bool iocp_ready(void *ctx)
{
    struct w32_iocp *q = ctx;
    return q->closed || !IsListEmpty(&q->packets);
}

BOOL GetQueuedCompletionStatus(HANDLE CompletionPort, LPDWORD lpNumberOfBytesTransferred,
                               PULONG_PTR lpCompletionKey, LPOVERLAPPED *lpOverlapped,
                               DWORD dwMilliseconds)
{
    fltsim_system *sys = fltsim__w32_system();
    if (lpOverlapped != NULL)
        *lpOverlapped = NULL;
    if (sys == NULL || lpNumberOfBytesTransferred == NULL || lpCompletionKey == NULL ||
        lpOverlapped == NULL) {
        fltsim__w32_set_error(sys == NULL ? ERROR_INVALID_HANDLE : ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    ULONG64 deadline = fltsim__w32_deadline(dwMilliseconds);
    uv_mutex_lock(&sys->lock);
    struct w32_iocp *q = (struct w32_iocp *)fltsim__w32_object_locked(CompletionPort, W32_IOCP);
    if (q == NULL) {
        uv_mutex_unlock(&sys->lock);
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    fltsim__w32_ref_locked(&q->h);
    enum w32_wait_result r =
        fltsim__w32_wait_locked(sys, "GetQueuedCompletionStatus", iocp_ready, q, deadline);
    struct w32_packet *p = NULL;
    DWORD error = ERROR_SUCCESS;
    if (r == W32_READY && !IsListEmpty(&q->packets))
        p = CONTAINING_RECORD(RemoveHeadList(&q->packets), struct w32_packet, link);
    else if (r == W32_READY)
        error = ERROR_ABANDONED_WAIT_0; /* its handle was closed */
    else
        error = WAIT_TIMEOUT;
    fltsim__w32_unref_locked(sys, &q->h);
    uv_mutex_unlock(&sys->lock);
    if (r == W32_ENDING)
        fltsim__w32_checkpoint();
    if (p == NULL) {
        fltsim__w32_set_error(error);
        return FALSE;
    }
    *lpNumberOfBytesTransferred = (DWORD)p->bytes;
    *lpCompletionKey = p->key;
    *lpOverlapped = p->ov;
    NTSTATUS status = p->status;
    free(p);
    if (!NT_SUCCESS(status)) {
        fltsim__w32_set_error(fltsim__w32_error_of(status));
        return FALSE; /* a failed request: *lpOverlapped says which */
    }
    return TRUE;
}

BOOL PostQueuedCompletionStatus(HANDLE CompletionPort, DWORD dwNumberOfBytesTransferred,
                                ULONG_PTR dwCompletionKey, LPOVERLAPPED lpOverlapped)
{
    fltsim_system *sys = fltsim__w32_system();
    if (sys == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    struct w32_packet *p = malloc(sizeof(*p));
    uv_mutex_lock(&sys->lock);
    struct w32_iocp *q = (struct w32_iocp *)fltsim__w32_object_locked(CompletionPort, W32_IOCP);
    if (q != NULL && p != NULL) {
        p->status = STATUS_SUCCESS;
        p->bytes = dwNumberOfBytesTransferred;
        p->key = dwCompletionKey;
        p->ov = lpOverlapped;
        InsertTailList(&q->packets, &p->link);
        fltsim__broadcast_locked(sys);
    }
    uv_mutex_unlock(&sys->lock);
    if (q == NULL || p == NULL) {
        free(p);
        fltsim__w32_set_error(q == NULL ? ERROR_INVALID_HANDLE : ERROR_NO_SYSTEM_RESOURCES);
        return FALSE;
    }
    return TRUE;
}

static bool overlapped_done(void *ctx)
{
    return ((LPOVERLAPPED)ctx)->Internal != (ULONG_PTR)STATUS_PENDING;
}

BOOL GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped,
                         LPDWORD lpNumberOfBytesTransferred, BOOL bWait)
{
    (void)hFile;
    fltsim_system *sys = fltsim__w32_system();
    if (sys == NULL || lpOverlapped == NULL || lpNumberOfBytesTransferred == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    uv_mutex_lock(&sys->lock);
    enum w32_wait_result r = W32_READY;
    if (bWait)
        r = fltsim__w32_wait_locked(sys, "GetOverlappedResult", overlapped_done, lpOverlapped,
                                    0);
    NTSTATUS status = (NTSTATUS)(ULONG)lpOverlapped->Internal;
    DWORD bytes = (DWORD)lpOverlapped->InternalHigh;
    uv_mutex_unlock(&sys->lock);
    if (r == W32_ENDING)
        fltsim__w32_checkpoint();
    if (status == STATUS_PENDING) {
        fltsim__w32_set_error(ERROR_IO_INCOMPLETE);
        return FALSE;
    }
    *lpNumberOfBytesTransferred = bytes;
    if (!NT_SUCCESS(status)) {
        fltsim__w32_set_error(fltsim__w32_error_of(status));
        return FALSE;
    }
    return TRUE;
}

/* Cancels the gets on hFile (of ov, of thread issuer, when not NULL/0). */
static BOOL cancel(HANDLE hFile, LPOVERLAPPED lpOverlapped, ULONG issuer)
{
    fltsim_system *sys = fltsim__w32_system();
    if (sys == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    uv_mutex_lock(&sys->lock);
    int n = fltsim__port_cancel_locked(sys, hFile, lpOverlapped, issuer);
    uv_mutex_unlock(&sys->lock);
    if (n <= 0) {
        fltsim__w32_set_error(n < 0 ? ERROR_INVALID_HANDLE : ERROR_NOT_FOUND);
        return FALSE;
    }
    return TRUE;
}

BOOL CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped)
{
    return cancel(hFile, lpOverlapped, 0); /* whichever thread of the process issued them */
}

BOOL CancelIo(HANDLE hFile)
{
    /* Only what the calling thread issued; nothing pending is no failure. */
    if (cancel(hFile, NULL, GetCurrentThreadId()))
        return TRUE;
    return GetLastError() == ERROR_NOT_FOUND;
}
