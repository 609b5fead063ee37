/*
 * Communication ports, the user-mode side (fltUser.h, SPEC 8):
 * FilterConnectCommunicationPort (the server's ConnectNotify decides),
 * FilterSendMessage (the server's MessageNotify answers), FilterGetMessage
 * and FilterReplyMessage (the messages FltSendMessage queued), and
 * CloseHandle on a port handle (DisconnectNotify). They act on the system of
 * the calling simulated thread (a thread fltsim_thread_spawn started) and
 * return HRESULTs as fltlib does. Only blocking calls exist in this round.
 */
#include <stdlib.h>
#include <string.h>

#include <fltUser.h>

#include "port_internal.h"
#include "win32/win32_internal.h"

/* The HRESULT fltlib returns for a failure status (HRESULT_FROM_WIN32 of its
 * Win32 error; FltMgr's own statuses keep their code under facility 0x1F). */
HRESULT fltsim__hresult_of(NTSTATUS status)
{
    switch ((ULONG)status) {
    case (ULONG)STATUS_OBJECT_NAME_NOT_FOUND:
    case (ULONG)STATUS_OBJECT_NAME_INVALID:
        return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
    case (ULONG)STATUS_OBJECT_PATH_NOT_FOUND:
        return HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
    case (ULONG)STATUS_ACCESS_DENIED:
        return HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED);
    case (ULONG)STATUS_PORT_DISCONNECTED:
    case (ULONG)STATUS_INVALID_HANDLE:
        return HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
    case (ULONG)STATUS_NOT_SUPPORTED:
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    case (ULONG)STATUS_INVALID_PARAMETER:
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    case (ULONG)STATUS_BUFFER_TOO_SMALL:
        return HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER);
    case (ULONG)STATUS_BUFFER_OVERFLOW:
        return HRESULT_FROM_WIN32(ERROR_MORE_DATA);
    case (ULONG)STATUS_CONNECTION_COUNT_LIMIT:
        return HRESULT_FROM_WIN32(ERROR_CONNECTION_COUNT_LIMIT);
    case (ULONG)STATUS_INSUFFICIENT_RESOURCES:
        return HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES);
    default:
        break;
    }
    if (((ULONG)status & 0x0FFF0000u) == 0x001C0000u) /* FACILITY_FILTER_MANAGER */
        return (HRESULT)(((ULONG)status & 0x8000FFFFu) | 0x001F0000u);
    return (HRESULT)((ULONG)status | 0x10000000u); /* HRESULT_FROM_NT */
}

/* The simulated process of the calling thread, or NULL. */
static struct fltsim_process *caller_process(void)
{
    struct w32_thread *self = fltsim__w32_self();
    return self != NULL ? self->proc : NULL;
}

/* sys->lock held: the connection whose user handle is h in the calling
 * thread's process (a handle of another process is none), or NULL. */
static struct _FLT_PORT *client_of_locked(fltsim_system *sys, HANDLE h)
{
    struct fltsim_port_table *t = sys->ports;
    if (t == NULL)
        return NULL;
    struct fltsim_process *proc = caller_process();
    for (PLIST_ENTRY e = t->clients.Flink; e != &t->clients; e = e->Flink) {
        struct _FLT_PORT *c = CONTAINING_RECORD(e, struct _FLT_PORT, link);
        if (c->user_open && (ULONG_PTR)c->handle == (ULONG_PTR)h && c->owner == proc)
            return c;
    }
    return NULL;
}

/* ---- connect ---- */

struct connect_call {
    struct _FLT_PORT *client;
    PVOID context;
    ULONG size;
    PVOID cookie;
    NTSTATUS status;
};

static void connect_thunk(void *ctx)
{
    struct connect_call *c = ctx;
    struct _FLT_PORT *server = c->client->server;
    c->status = server->connect(c->client, server->cookie, c->context, c->size, &c->cookie);
}

/* sys->lock held: a connect event for a port name that names no open port. */
static bool not_found_event(struct fltsim_event *ev, fltsim_system *sys, LPCWSTR name, size_t len,
                            char asked[FLTSIM_NAME8_MAX])
{
    memset(ev, 0, sizeof(*ev));
    if (!fltsim__tracing(sys))
        return false;
    ev->type = FLTSIM_EV_PORT_CONNECT;
    fltsim__event_thread(ev);
    size_t bytes = len * sizeof(WCHAR) > 0xfffe ? 0xfffe : len * sizeof(WCHAR);
    UNICODE_STRING u = {(USHORT)bytes, (USHORT)bytes, (PWSTR)name};
    fltsim__ustr_to_utf8(&u, asked, FLTSIM_NAME8_MAX);
    ev->port = asked;
    return true;
}

HRESULT FilterConnectCommunicationPort(LPCWSTR lpPortName, DWORD dwOptions, LPCVOID lpContext,
                                       WORD wSizeOfContext,
                                       LPSECURITY_ATTRIBUTES lpSecurityAttributes, HANDLE *hPort)
{
    (void)lpSecurityAttributes; /* no access checks in fltsim */
    const char *api = "FilterConnectCommunicationPort";
    if (hPort == NULL)
        return E_INVALIDARG;
    *hPort = INVALID_HANDLE_VALUE;
    if (lpPortName == NULL || (dwOptions & ~(DWORD)FLT_PORT_FLAG_SYNC_HANDLE) != 0 ||
        (lpContext == NULL && wSizeOfContext != 0))
        return E_INVALIDARG;
    fltsim_system *sys = fltsim__w32_fltlib_system(api);
    if (sys == NULL)
        return E_UNEXPECTED;
    size_t len = 0;
    while (lpPortName[len] != 0)
        len++;
    struct _FLT_PORT *client = calloc(1, sizeof(*client));
    PVOID context = wSizeOfContext != 0 ? malloc(wSizeOfContext) : NULL;
    if (client == NULL || (wSizeOfContext != 0 && context == NULL)) {
        free(client);
        free(context);
        return HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES);
    }
    if (context != NULL)
        memcpy(context, lpContext, wSizeOfContext); /* the kernel's copy */

    uv_mutex_lock(&sys->lock);
    struct _FLT_PORT *server = NULL;
    UNICODE_STRING name = {0};
    struct fltsim_port_table *t = fltsim__ports_locked(sys);
    NTSTATUS status = t == NULL ? STATUS_INSUFFICIENT_RESOURCES
                                : fltsim__ns_new_name_locked(sys, lpPortName, len, &name);
    if (status == STATUS_OBJECT_NAME_COLLISION)
        status = STATUS_OBJECT_NAME_NOT_FOUND; /* a device, not a port */
    for (PLIST_ENTRY e = NT_SUCCESS(status) ? t->servers.Flink : NULL;
         e != NULL && e != &t->servers; e = e->Flink) {
        struct _FLT_PORT *s = CONTAINING_RECORD(e, struct _FLT_PORT, link);
        if (!s->closed && fltsim__ustr_equal_ci(&s->name, &name))
            server = s;
    }
    fltsim__ustr_free(&name);
    if (NT_SUCCESS(status) && server == NULL)
        status = STATUS_OBJECT_NAME_NOT_FOUND;
    if (NT_SUCCESS(status) && server->connections >= server->max_connections)
        status = STATUS_CONNECTION_COUNT_LIMIT;
    client->sys = sys;
    client->server = server;
    client->process_id = fltsim_thread_process_id();
    if (!NT_SUCCESS(status)) {
        /* A port that is not there is traced too, under the name asked for. */
        struct fltsim_event ev;
        char asked[FLTSIM_NAME8_MAX];
        bool trace = server != NULL ? fltsim__port_event_locked(&ev, FLTSIM_EV_PORT_CONNECT, client)
                                    : not_found_event(&ev, sys, lpPortName, len, asked);
        uv_mutex_unlock(&sys->lock);
        free(client);
        free(context);
        if (trace) {
            ev.status = status;
            ev.in_size = wSizeOfContext;
            fltsim__trace(sys, &ev);
        }
        return fltsim__hresult_of(status);
    }
    client->magic = FLTSIM_MAGIC_CLIENT_PORT;
    client->refs = 2; /* this call's, and the filter's (FltCloseClientPort) */
    server->refs++;
    server->connections++;
    client->filter_open = true;
    InitializeListHead(&client->queue);
    InitializeListHead(&client->delivered);
    InitializeListHead(&client->gets);
    client->owner = caller_process();
    InsertTailList(&t->clients, &client->link);
    uv_mutex_unlock(&sys->lock);

    struct connect_call call = {client, context, wSizeOfContext, NULL, STATUS_UNSUCCESSFUL};
    fltsim__port_callout(server, "its ConnectNotify callback", connect_thunk, &call);
    free(context);

    uv_mutex_lock(&sys->lock);
    struct fltsim_event ev;
    bool trace = fltsim__port_event_locked(&ev, FLTSIM_EV_PORT_CONNECT, client);
    ev.in_size = wSizeOfContext;
    if (!NT_SUCCESS(call.status) || client->disconnected) {
        /* Refused: the connection never was (no DisconnectNotify). */
        status = NT_SUCCESS(call.status) ? STATUS_PORT_DISCONNECTED : call.status;
        client->notified = true;
        fltsim__port_disconnect_locked(client);
        if (client->filter_open) {
            client->filter_open = false;
            fltsim__port_unref_locked(client);
        }
        fltsim__port_unref_locked(client);
        uv_mutex_unlock(&sys->lock);
        if (trace) {
            ev.status = status;
            fltsim__trace(sys, &ev);
        }
        return fltsim__w32_result(fltsim__hresult_of(status));
    }
    client->conn_cookie = call.cookie;
    client->user_open = true;
    client->handle = fltsim__w32_handle_value_locked(sys);
    *hPort = (HANDLE)(ULONG_PTR)client->handle;
    uv_mutex_unlock(&sys->lock); /* this call's reference is now the handle's */
    if (trace) {
        ev.status = STATUS_SUCCESS;
        fltsim__trace(sys, &ev);
    }
    return fltsim__w32_result(S_OK);
}

/* ---- FilterSendMessage ---- */

struct message_call {
    struct _FLT_PORT *client;
    LPVOID in, out;
    DWORD in_size, out_size;
    ULONG returned;
    NTSTATUS status;
};

static void message_thunk(void *ctx)
{
    struct message_call *c = ctx;
    c->status = c->client->server->message(c->client->conn_cookie, c->in, c->in_size, c->out,
                                           c->out_size, &c->returned);
}

HRESULT FilterSendMessage(HANDLE hPort, LPVOID lpInBuffer, DWORD dwInBufferSize, LPVOID lpOutBuffer,
                          DWORD dwOutBufferSize, LPDWORD lpBytesReturned)
{
    fltsim_system *sys = fltsim__w32_fltlib_system("FilterSendMessage");
    if (sys == NULL)
        return E_UNEXPECTED;
    if (lpBytesReturned == NULL)
        return E_INVALIDARG;
    *lpBytesReturned = 0;
    uv_mutex_lock(&sys->lock);
    struct _FLT_PORT *client = client_of_locked(sys, hPort);
    NTSTATUS status = STATUS_SUCCESS;
    if (client == NULL)
        status = STATUS_INVALID_HANDLE;
    else if (client->disconnected || client->server->filter == NULL)
        status = STATUS_PORT_DISCONNECTED;
    else if (client->server->message == NULL)
        status = STATUS_INVALID_PARAMETER; /* the filter takes no messages */
    struct fltsim_event ev;
    bool trace = client != NULL && fltsim__port_event_locked(&ev, FLTSIM_EV_PORT_MESSAGE, client);
    ev.in_size = dwInBufferSize;
    ev.out_size = dwOutBufferSize;
    if (!NT_SUCCESS(status)) {
        uv_mutex_unlock(&sys->lock);
        if (trace) {
            ev.status = status;
            fltsim__trace(sys, &ev);
        }
        return fltsim__hresult_of(status);
    }
    client->refs++;
    uv_mutex_unlock(&sys->lock);

    struct message_call call = {client,          lpInBuffer, lpOutBuffer,        dwInBufferSize,
                                dwOutBufferSize, 0,          STATUS_UNSUCCESSFUL};
    fltsim__port_callout(client->server, "its MessageNotify callback", message_thunk, &call);

    uv_mutex_lock(&sys->lock);
    if (call.returned > dwOutBufferSize) {
        fltsim__report(sys, client->server->filter, NULL, NULL, "SIM", "8",
                       "MessageNotify of %s returned ReturnOutputBufferLength %lu for an output "
                       "buffer of %lu bytes",
                       client->server->name8, (unsigned long)call.returned,
                       (unsigned long)dwOutBufferSize);
        call.returned = dwOutBufferSize;
    }
    fltsim__port_unref_locked(client);
    uv_mutex_unlock(&sys->lock);
    if (trace) {
        ev.status = call.status;
        ev.information = call.returned;
        fltsim__trace(sys, &ev);
    }
    *lpBytesReturned = call.returned;
    return fltsim__w32_result(NT_SUCCESS(call.status) ? S_OK : fltsim__hresult_of(call.status));
}

/* ---- FilterGetMessage, FilterReplyMessage ---- */

/* sys->lock held: message m, first in client's queue, goes into buf (room
 * checked); the trace event is filled. Returns the bytes written. */
static ULONG deliver_locked(struct _FLT_PORT *client, struct port_msg *m,
                            PFILTER_MESSAGE_HEADER buf, struct fltsim_event *ev, bool *trace)
{
    RemoveEntryList(&m->link);
    *trace = fltsim__port_event_locked(ev, FLTSIM_EV_PORT_GET, client);
    ev->message_id = m->id;
    ev->in_size = m->length;
    ev->out_size = m->wants_reply ? m->reply_room : 0;
    buf->ReplyLength = m->wants_reply ? m->reply_room + (ULONG)sizeof(FILTER_REPLY_HEADER) : 0;
    buf->MessageId = m->id;
    if (m->length != 0)
        memcpy(buf + 1, m->data, m->length);
    ULONG bytes = (ULONG)sizeof(FILTER_MESSAGE_HEADER) + m->length;
    m->state = MSG_DELIVERED;
    if (m->owned)
        free(m); /* its sender returned already (a zero timeout) */
    else if (m->reply != NULL)
        InsertTailList(&client->delivered, &m->link);
    fltsim__broadcast_locked(client->sys);
    return bytes;
}

/* sys->lock held: an overlapped get is over. */
static void get_complete_locked(struct _FLT_PORT *client, struct port_get *g, NTSTATUS status,
                                ULONG bytes)
{
    RemoveEntryList(&g->link);
    fltsim__w32_complete_locked(client->sys, g->no_packet ? NULL : client->iocp, client->iocp_key,
                                g->overlapped, g->event, status, bytes);
    if (g->event != NULL)
        fltsim__w32_unref_locked(client->sys, (struct w32_object *)g->event);
    free(g);
}

/* The trace events of deliveries made under the lock, sent after it. */
#define PUMP_EVENTS 8

void fltsim__port_pump_locked(struct _FLT_PORT *client)
{
    while (!IsListEmpty(&client->gets) && !IsListEmpty(&client->queue)) {
        struct port_get *g = CONTAINING_RECORD(client->gets.Flink, struct port_get, link);
        struct port_msg *m = CONTAINING_RECORD(client->queue.Flink, struct port_msg, link);
        if (g->size - sizeof(FILTER_MESSAGE_HEADER) < m->length) {
            /* Too small for it: this get fails, the message stays queued. */
            get_complete_locked(client, g, STATUS_BUFFER_TOO_SMALL, 0);
            continue;
        }
        struct fltsim_event ev;
        bool trace;
        ULONG bytes = deliver_locked(client, m, g->buffer, &ev, &trace);
        get_complete_locked(client, g, STATUS_SUCCESS, bytes);
        if (trace) {
            /* The trace callback runs without the lock: hand it over. */
            uv_mutex_unlock(&client->sys->lock);
            fltsim__trace(client->sys, &ev);
            uv_mutex_lock(&client->sys->lock);
        }
    }
}

void fltsim__port_fail_gets_locked(struct _FLT_PORT *client, NTSTATUS status)
{
    while (!IsListEmpty(&client->gets))
        get_complete_locked(client, CONTAINING_RECORD(client->gets.Flink, struct port_get, link),
                            status, 0);
}

void fltsim__port_drop_iocp_locked(struct _FLT_PORT *client)
{
    if (client->iocp != NULL)
        fltsim__w32_unref_locked(client->sys, (struct w32_object *)client->iocp);
    client->iocp = NULL;
}

/* FilterGetMessage with an OVERLAPPED: always ERROR_IO_PENDING; the get
 * completes when a message comes (at once when one is queued), or fails
 * when the connection ends or the handle closes. */
static HRESULT get_overlapped(fltsim_system *sys, HANDLE hPort, PFILTER_MESSAGE_HEADER buf,
                              DWORD size, LPOVERLAPPED ov)
{
    struct port_get *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES);
    uv_mutex_lock(&sys->lock);
    struct _FLT_PORT *client = client_of_locked(sys, hPort);
    HANDLE event = (HANDLE)((ULONG_PTR)ov->hEvent & ~(ULONG_PTR)1);
    struct w32_event *evobj =
        event != NULL ? (struct w32_event *)fltsim__w32_object_locked(event, W32_EVENT) : NULL;
    HRESULT hr = HRESULT_FROM_WIN32(ERROR_IO_PENDING);
    if (client == NULL)
        hr = HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
    else if (event != NULL && evobj == NULL)
        hr = HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER); /* an hEvent that is no event */
    else if (client->disconnected)
        hr = HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
    if (hr != HRESULT_FROM_WIN32(ERROR_IO_PENDING)) {
        uv_mutex_unlock(&sys->lock);
        free(g);
        return hr;
    }
    g->buffer = buf;
    g->size = size;
    g->overlapped = ov;
    g->no_packet = ((ULONG_PTR)ov->hEvent & 1) != 0;
    g->issuer = GetCurrentThreadId();
    if (evobj != NULL) {
        fltsim__w32_ref_locked(&evobj->h);
        evobj->signaled = false; /* nonsignaled before the call returns */
        g->event = evobj;
    }
    ov->Internal = (ULONG_PTR)(ULONG)STATUS_PENDING;
    ov->InternalHigh = 0;
    InsertTailList(&client->gets, &g->link);
    client->refs++; /* the pump may release the lock to trace */
    fltsim__port_pump_locked(client);
    fltsim__port_unref_locked(client);
    uv_mutex_unlock(&sys->lock);
    return hr;
}

struct get_wait {
    struct _FLT_PORT *client;
};

static bool get_ready(void *ctx)
{
    struct _FLT_PORT *c = ((struct get_wait *)ctx)->client;
    return !c->user_open || c->disconnected || !IsListEmpty(&c->queue);
}

HRESULT FilterGetMessage(HANDLE hPort, PFILTER_MESSAGE_HEADER lpMessageBuffer,
                         DWORD dwMessageBufferSize, LPOVERLAPPED lpOverlapped)
{
    fltsim_system *sys = fltsim__w32_fltlib_system("FilterGetMessage");
    if (sys == NULL)
        return E_UNEXPECTED;
    if (lpMessageBuffer == NULL || dwMessageBufferSize < sizeof(FILTER_MESSAGE_HEADER))
        return HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER);
    if (lpOverlapped != NULL)
        return fltsim__w32_result(
            get_overlapped(sys, hPort, lpMessageBuffer, dwMessageBufferSize, lpOverlapped));
    uv_mutex_lock(&sys->lock);
    struct _FLT_PORT *client = client_of_locked(sys, hPort);
    if (client == NULL) {
        uv_mutex_unlock(&sys->lock);
        return fltsim__w32_result(HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE));
    }
    client->refs++;
    HRESULT hr = S_OK;
    struct fltsim_event ev;
    bool trace = false;
    struct get_wait w = {client};
    client->getters++;
    enum w32_wait_result r = fltsim__w32_wait_locked(sys, "FilterGetMessage", get_ready, &w, 0);
    client->getters--;
    if (r == W32_ENDING) {
        hr = HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED);
    } else if (!client->user_open) {
        hr = HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED); /* closed under the call */
    } else if (client->disconnected) {
        hr = HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
    } else {
        struct port_msg *m = CONTAINING_RECORD(client->queue.Flink, struct port_msg, link);
        if (dwMessageBufferSize - sizeof(FILTER_MESSAGE_HEADER) < m->length)
            hr = HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER); /* it stays queued */
        else
            deliver_locked(client, m, lpMessageBuffer, &ev, &trace);
    }
    fltsim__port_unref_locked(client);
    uv_mutex_unlock(&sys->lock);
    if (trace)
        fltsim__trace(sys, &ev);
    return fltsim__w32_result(hr);
}

HRESULT FilterReplyMessage(HANDLE hPort, PFILTER_REPLY_HEADER lpReplyBuffer,
                           DWORD dwReplyBufferSize)
{
    fltsim_system *sys = fltsim__w32_fltlib_system("FilterReplyMessage");
    if (sys == NULL)
        return E_UNEXPECTED;
    if (lpReplyBuffer == NULL || dwReplyBufferSize < sizeof(FILTER_REPLY_HEADER))
        return E_INVALIDARG;
    uv_mutex_lock(&sys->lock);
    struct _FLT_PORT *client = client_of_locked(sys, hPort);
    if (client == NULL) {
        uv_mutex_unlock(&sys->lock);
        return HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
    }
    struct fltsim_event ev;
    bool trace = fltsim__port_event_locked(&ev, FLTSIM_EV_PORT_REPLY, client);
    ev.message_id = lpReplyBuffer->MessageId;
    ev.in_size = dwReplyBufferSize - (ULONG)sizeof(FILTER_REPLY_HEADER);
    struct port_msg *m = NULL;
    for (PLIST_ENTRY e = client->delivered.Flink; e != &client->delivered; e = e->Flink) {
        struct port_msg *x = CONTAINING_RECORD(e, struct port_msg, link);
        if (x->id == lpReplyBuffer->MessageId)
            m = x;
    }
    if (m == NULL) {
        /* Timed out, never sent, or replied already. */
        uv_mutex_unlock(&sys->lock);
        if (trace) {
            ev.status = STATUS_FLT_NO_WAITER_FOR_REPLY;
            fltsim__trace(sys, &ev);
        }
        return ERROR_FLT_NO_WAITER_FOR_REPLY;
    }
    ULONG data = dwReplyBufferSize - (ULONG)sizeof(FILTER_REPLY_HEADER);
    ULONG copy = data < m->reply_room ? data : m->reply_room;
    memcpy(m->reply, lpReplyBuffer + 1, copy);
    m->reply_len = data; /* more than reply_room: the sender gets STATUS_BUFFER_OVERFLOW */
    m->state = MSG_REPLIED;
    RemoveEntryList(&m->link);
    ev.out_size = m->reply_room;
    fltsim__broadcast_locked(sys);
    uv_mutex_unlock(&sys->lock);
    if (trace) {
        ev.status = STATUS_SUCCESS;
        fltsim__trace(sys, &ev);
    }
    return fltsim__w32_result(S_OK);
}

/* ---- closing, associating, cancelling ---- */

/* Closes the user handle of client (found under the lock by the caller,
 * which released it): pending gets are cancelled, pending sends fail. */
static void close_client(fltsim_system *sys, struct _FLT_PORT *client)
{
    /* sys->lock held on entry; released on return. */
    client->user_open = false;
    bool notify = !client->notified;
    struct fltsim_event ev;
    bool trace =
        !client->disconnected && fltsim__port_event_locked(&ev, FLTSIM_EV_PORT_DISCONNECT, client);
    fltsim__port_fail_gets_locked(client, STATUS_CANCELLED);
    fltsim__port_disconnect_locked(client); /* pending sends: STATUS_PORT_DISCONNECTED */
    fltsim__port_drop_iocp_locked(client);
    fltsim__broadcast_locked(sys); /* getters: aborted */
    client->refs++;
    fltsim__port_unref_locked(client); /* the handle's */
    uv_mutex_unlock(&sys->lock);
    if (trace)
        fltsim__trace(sys, &ev); /* flags 0: the program ended it */
    if (notify)
        fltsim__port_notify_disconnect(client);
    uv_mutex_lock(&sys->lock);
    fltsim__port_unref_locked(client);
    uv_mutex_unlock(&sys->lock);
}

bool fltsim__port_close_handle(fltsim_system *sys, HANDLE h)
{
    uv_mutex_lock(&sys->lock);
    struct _FLT_PORT *client = client_of_locked(sys, h);
    if (client == NULL) {
        uv_mutex_unlock(&sys->lock);
        return false;
    }
    close_client(sys, client);
    return true;
}

void fltsim__port_close_process(fltsim_system *sys, struct fltsim_process *proc)
{
    for (;;) {
        uv_mutex_lock(&sys->lock);
        struct fltsim_port_table *t = sys->ports;
        struct _FLT_PORT *client = NULL;
        for (PLIST_ENTRY e = t != NULL ? t->clients.Flink : NULL; e != NULL && e != &t->clients;
             e = e->Flink) {
            struct _FLT_PORT *c = CONTAINING_RECORD(e, struct _FLT_PORT, link);
            if (c->user_open && c->owner == proc) {
                client = c;
                break;
            }
        }
        if (client == NULL) {
            uv_mutex_unlock(&sys->lock);
            return;
        }
        close_client(sys, client);
    }
}

bool fltsim__port_associate_locked(fltsim_system *sys, HANDLE h, struct w32_iocp *iocp,
                                   ULONG_PTR key)
{
    struct _FLT_PORT *client = client_of_locked(sys, h);
    if (client == NULL || client->iocp != NULL)
        return false; /* a handle is associated once */
    fltsim__w32_ref_locked((struct w32_object *)iocp);
    client->iocp = iocp;
    client->iocp_key = key;
    return true;
}

void fltsim__port_thread_gets_end(fltsim_system *sys, struct w32_thread *t, bool all)
{
    uv_mutex_lock(&sys->lock);
    struct fltsim_port_table *table = sys->ports;
    for (PLIST_ENTRY e = table != NULL ? table->clients.Flink : NULL;
         e != NULL && e != &table->clients; e = e->Flink) {
        struct _FLT_PORT *c = CONTAINING_RECORD(e, struct _FLT_PORT, link);
        if (c->owner != t->proc || (!all && c->iocp != NULL))
            continue;
        for (PLIST_ENTRY ge = c->gets.Flink; ge != &c->gets;) {
            struct port_get *g = CONTAINING_RECORD(ge, struct port_get, link);
            ge = ge->Flink;
            if (g->issuer == t->tid)
                get_complete_locked(c, g, STATUS_CANCELLED, 0);
        }
    }
    uv_mutex_unlock(&sys->lock);
}

int fltsim__port_cancel_locked(fltsim_system *sys, HANDLE h, LPOVERLAPPED ov, ULONG issuer)
{
    struct _FLT_PORT *client = client_of_locked(sys, h);
    if (client == NULL)
        return -1;
    int n = 0;
    for (PLIST_ENTRY e = client->gets.Flink; e != &client->gets;) {
        struct port_get *g = CONTAINING_RECORD(e, struct port_get, link);
        e = e->Flink;
        if ((ov == NULL || g->overlapped == ov) && (issuer == 0 || g->issuer == issuer)) {
            get_complete_locked(client, g, STATUS_CANCELLED, 0);
            n++;
        }
    }
    return n;
}
