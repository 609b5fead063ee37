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

/* The system a user-mode call acts on, or NULL (with the last error set). */
static fltsim_system *user_system(const char *api)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim_system *sys = t->user_sys != NULL ? t->user_sys : t->sys;
    if (sys == NULL)
        fltsim__fail(STATUS_INVALID_PARAMETER,
                     "%s: called outside any system's thread (start the caller with "
                     "fltsim_thread_spawn)",
                     api);
    return sys;
}

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

/* sys->lock held: the connection whose user handle is h, or NULL. */
static struct _FLT_PORT *client_of_locked(fltsim_system *sys, HANDLE h)
{
    struct fltsim_port_table *t = sys->ports;
    if (t == NULL)
        return NULL;
    for (PLIST_ENTRY e = t->clients.Flink; e != &t->clients; e = e->Flink) {
        struct _FLT_PORT *c = CONTAINING_RECORD(e, struct _FLT_PORT, link);
        if (c->user_open && (ULONG_PTR)c->handle == (ULONG_PTR)h)
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
    fltsim_system *sys = user_system(api);
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
        return fltsim__hresult_of(status);
    }
    client->conn_cookie = call.cookie;
    client->user_open = true;
    client->handle = t->next_handle;
    t->next_handle += 4;
    *hPort = (HANDLE)(ULONG_PTR)client->handle;
    uv_mutex_unlock(&sys->lock); /* this call's reference is now the handle's */
    if (trace) {
        ev.status = STATUS_SUCCESS;
        fltsim__trace(sys, &ev);
    }
    return S_OK;
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
    fltsim_system *sys = user_system("FilterSendMessage");
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
    return NT_SUCCESS(call.status) ? S_OK : fltsim__hresult_of(call.status);
}

/* ---- FilterGetMessage, FilterReplyMessage ---- */

HRESULT FilterGetMessage(HANDLE hPort, PFILTER_MESSAGE_HEADER lpMessageBuffer,
                         DWORD dwMessageBufferSize, LPOVERLAPPED lpOverlapped)
{
    fltsim_system *sys = user_system("FilterGetMessage");
    if (sys == NULL)
        return E_UNEXPECTED;
    if (lpOverlapped != NULL)
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED); /* blocking calls only, for now */
    if (lpMessageBuffer == NULL || dwMessageBufferSize < sizeof(FILTER_MESSAGE_HEADER))
        return HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER);
    uv_mutex_lock(&sys->lock);
    struct _FLT_PORT *client = client_of_locked(sys, hPort);
    if (client == NULL) {
        uv_mutex_unlock(&sys->lock);
        return HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
    }
    client->refs++;
    HRESULT hr = S_OK;
    struct fltsim_event ev;
    bool trace = false;
    for (;;) {
        if (!client->user_open) {
            hr = HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED); /* closed under the call */
            break;
        }
        if (client->disconnected) {
            hr = HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
            break;
        }
        if (!IsListEmpty(&client->queue)) {
            struct port_msg *m = CONTAINING_RECORD(client->queue.Flink, struct port_msg, link);
            if (dwMessageBufferSize - sizeof(FILTER_MESSAGE_HEADER) < m->length) {
                hr = HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER); /* it stays queued */
                break;
            }
            RemoveEntryList(&m->link);
            trace = fltsim__port_event_locked(&ev, FLTSIM_EV_PORT_GET, client);
            ev.message_id = m->id;
            ev.in_size = m->length;
            ev.out_size = m->wants_reply ? m->reply_room : 0;
            lpMessageBuffer->ReplyLength =
                m->wants_reply ? m->reply_room + (ULONG)sizeof(FILTER_REPLY_HEADER) : 0;
            lpMessageBuffer->MessageId = m->id;
            if (m->length != 0)
                memcpy(lpMessageBuffer + 1, m->data, m->length);
            m->state = MSG_DELIVERED;
            if (m->owned)
                free(m); /* its sender returned already (a zero timeout) */
            else if (m->reply != NULL)
                InsertTailList(&client->delivered, &m->link);
            fltsim__broadcast_locked(sys);
            break;
        }
        client->getters++;
        fltsim__sys_wait_locked(sys, 0);
        client->getters--;
    }
    fltsim__port_unref_locked(client);
    uv_mutex_unlock(&sys->lock);
    if (trace)
        fltsim__trace(sys, &ev);
    return hr;
}

HRESULT FilterReplyMessage(HANDLE hPort, PFILTER_REPLY_HEADER lpReplyBuffer,
                           DWORD dwReplyBufferSize)
{
    fltsim_system *sys = user_system("FilterReplyMessage");
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
    return S_OK;
}

/* ---- CloseHandle ---- */

BOOL CloseHandle(HANDLE hObject)
{
    fltsim_system *sys = user_system("CloseHandle");
    if (sys == NULL)
        return FALSE;
    uv_mutex_lock(&sys->lock);
    struct _FLT_PORT *client = client_of_locked(sys, hObject);
    if (client == NULL) {
        uv_mutex_unlock(&sys->lock);
        return FALSE;
    }
    client->user_open = false;
    bool notify = !client->notified;
    struct fltsim_event ev;
    bool trace =
        !client->disconnected && fltsim__port_event_locked(&ev, FLTSIM_EV_PORT_DISCONNECT, client);
    fltsim__port_disconnect_locked(client); /* pending sends: STATUS_PORT_DISCONNECTED */
    fltsim__broadcast_locked(sys);          /* getters: aborted */
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
    return TRUE;
}
