/*
 * Communication ports, the kernel side (SPEC 8): FltCreateCommunicationPort
 * names a server port in the system's port table, FltCloseCommunicationPort
 * takes the name away (connections stay), FltCloseClientPort ends one
 * connection, FltSendMessage queues a message for the user side's
 * FilterGetMessage and waits for it (and for FilterReplyMessage when a reply
 * is wanted) within its timeout; a filter's unregistration disconnects its
 * clients (DisconnectNotify) and reports its ports left open (V23).
 * FltBuildDefaultSecurityDescriptor and FltFreeSecurityDescriptor live here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/executor.h"
#include "port_internal.h"
#include "user_side.h"

/* ---- the table and the objects ---- */

struct fltsim_port_table *fltsim__ports_locked(fltsim_system *sys)
{
    if (sys->ports == NULL) {
        struct fltsim_port_table *t = calloc(1, sizeof(*t));
        if (t == NULL)
            return NULL;
        InitializeListHead(&t->servers);
        InitializeListHead(&t->clients);
        sys->ports = t;
    }
    return sys->ports;
}

void fltsim__port_unref_locked(struct _FLT_PORT *port)
{
    /* A server port's memory stays (closed) until the system goes, so that
     * a second FltCloseCommunicationPort is reported, not a use after free. */
    if (--port->refs > 0 || port->magic == FLTSIM_MAGIC_SERVER_PORT)
        return;
    if (port->magic == FLTSIM_MAGIC_CLIENT_PORT) {
        while (!IsListEmpty(&port->queue)) { /* only zero-timeout copies are left */
            struct port_msg *m =
                CONTAINING_RECORD(RemoveHeadList(&port->queue), struct port_msg, link);
            if (m->owned)
                free(m);
        }
        fltsim__port_drop_iocp_locked(port);
        RemoveEntryList(&port->link);
        fltsim__port_unref_locked(port->server);
    }
    fltsim__ustr_free(&port->name);
    port->magic = FLTSIM_MAGIC_DEAD;
    free(port);
}

void fltsim__port_disconnect_locked(struct _FLT_PORT *client)
{
    if (client->disconnected)
        return;
    client->disconnected = true;
    client->server->connections--;
    while (!IsListEmpty(&client->queue)) {
        struct port_msg *m =
            CONTAINING_RECORD(RemoveHeadList(&client->queue), struct port_msg, link);
        m->state = MSG_GONE;
        if (m->owned)
            free(m);
    }
    while (!IsListEmpty(&client->delivered)) {
        struct port_msg *m =
            CONTAINING_RECORD(RemoveHeadList(&client->delivered), struct port_msg, link);
        m->state = MSG_GONE;
    }
    fltsim__port_fail_gets_locked(client, STATUS_PORT_DISCONNECTED);
    fltsim__broadcast_locked(client->sys);
}

struct callout_call {
    void (*fn)(void *);
    void *ctx;
};

static void callout_thunk(void *ctx)
{
    struct callout_call *c = ctx;
    c->fn(c->ctx);
}

void fltsim__port_callout(struct _FLT_PORT *port, const char *what, void (*fn)(void *), void *ctx)
{
    struct fltsim_callout save;
    struct _FLT_FILTER *filter =
        port->magic == FLTSIM_MAGIC_CLIENT_PORT ? port->server->filter : port->filter;
    fltsim__enter(&save, port->sys, filter, NULL);
    fltsim__tls()->callout_what = what;
    struct callout_call call = {fn, ctx};
    struct fltsim_seh_frame seh;
    if (!fltsim__seh_call(&seh, callout_thunk, &call))
        fltsim__seh_uncaught(&seh, port->sys, filter, NULL, NULL, what,
                             "fltsim ends the callback and goes on as if it had returned");
    fltsim__leave(&save);
}

static void disconnect_thunk(void *ctx)
{
    struct _FLT_PORT *client = ctx;
    client->server->disconnect(client->conn_cookie);
}

void fltsim__port_notify_disconnect(struct _FLT_PORT *client)
{
    fltsim_system *sys = client->sys;
    uv_mutex_lock(&sys->lock);
    bool call =
        !client->notified && client->server->disconnect != NULL && client->server->filter != NULL;
    client->notified = true;
    client->refs++;
    uv_mutex_unlock(&sys->lock);
    if (call)
        fltsim__port_callout(client, "its DisconnectNotify callback", disconnect_thunk, client);
    uv_mutex_lock(&sys->lock);
    fltsim__port_unref_locked(client);
    uv_mutex_unlock(&sys->lock);
}

bool fltsim__port_event_locked(struct fltsim_event *ev, enum fltsim_event_type type,
                               const struct _FLT_PORT *client)
{
    memset(ev, 0, sizeof(*ev));
    if (!fltsim__tracing(client->sys))
        return false;
    ev->type = type;
    fltsim__event_thread(ev);
    ev->process_id = client->process_id; /* the program's, also on the filter's threads */
    /* The filter and the port keep their memory while a connection refers to them. */
    ev->filter = client->server->filter != NULL ? client->server->filter->name8 : NULL;
    ev->port = client->server->name8;
    return true;
}

/* sys->lock held: whether p is a live port of the given kind in sys. */
static bool is_port_locked(fltsim_system *sys, const void *p, ULONG magic)
{
    struct fltsim_port_table *t = sys->ports;
    if (t == NULL || p == NULL)
        return false;
    PLIST_ENTRY head = magic == FLTSIM_MAGIC_SERVER_PORT ? &t->servers : &t->clients;
    for (PLIST_ENTRY e = head->Flink; e != head; e = e->Flink)
        if (CONTAINING_RECORD(e, struct _FLT_PORT, link) == p)
            return true;
    return false;
}

/* ---- server ports ---- */

static void report(fltsim_system *sys, struct _FLT_FILTER *filter, const char *rule,
                   const char *fmt, const char *api, const char *detail)
{
    fltsim__report(sys, filter, NULL, fltsim__tls()->op, rule, "8", fmt, api, detail);
}

NTSTATUS FltCreateCommunicationPort(PFLT_FILTER Filter, PFLT_PORT *ServerPort,
                                    POBJECT_ATTRIBUTES ObjectAttributes, PVOID ServerPortCookie,
                                    PFLT_CONNECT_NOTIFY ConnectNotifyCallback,
                                    PFLT_DISCONNECT_NOTIFY DisconnectNotifyCallback,
                                    PFLT_MESSAGE_NOTIFY MessageNotifyCallback, LONG MaxConnections)
{
    const char *api = "FltCreateCommunicationPort";
    if (!fltsim__is_filter(Filter))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Filter is not a filter", api);
    fltsim_system *sys = Filter->sys;
    fltsim__check_irql(sys, PASSIVE_LEVEL, api);
    if (ServerPort == NULL || ObjectAttributes == NULL || ObjectAttributes->ObjectName == NULL ||
        ConnectNotifyCallback == NULL || DisconnectNotifyCallback == NULL || MaxConnections <= 0 ||
        (ObjectAttributes->Attributes & OBJ_KERNEL_HANDLE) == 0) {
        report(sys, Filter, "SIM", "%s: %s", api,
               "ServerPort, ObjectAttributes with a name and OBJ_KERNEL_HANDLE, both connect "
               "callbacks and MaxConnections > 0 are required; STATUS_INVALID_PARAMETER");
        return STATUS_INVALID_PARAMETER;
    }
    *ServerPort = NULL;
    const WCHAR *buf;
    size_t len;
    PCUNICODE_STRING name = ObjectAttributes->ObjectName;
    if (name->Length == 0 || (name->Length & 1) != 0 || name->Buffer == NULL)
        return STATUS_OBJECT_NAME_INVALID;
    buf = name->Buffer;
    len = name->Length / sizeof(WCHAR);

    struct _FLT_PORT *port = calloc(1, sizeof(*port));
    if (port == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    uv_mutex_lock(&sys->lock);
    LONG state = __atomic_load_n(&Filter->state, __ATOMIC_SEQ_CST);
    NTSTATUS status = STATUS_SUCCESS;
    struct fltsim_port_table *t = fltsim__ports_locked(sys);
    if (state == FLTSIM_FILTER_UNREGISTERING || state == FLTSIM_FILTER_UNREGISTERED)
        status = STATUS_FLT_DELETING_OBJECT;
    else if (t == NULL)
        status = STATUS_INSUFFICIENT_RESOURCES;
    else
        status = fltsim__ns_new_name_locked(sys, buf, len, &port->name);
    for (PLIST_ENTRY e = t != NULL ? t->servers.Flink : NULL;
         NT_SUCCESS(status) && e != &t->servers; e = e->Flink) {
        struct _FLT_PORT *other = CONTAINING_RECORD(e, struct _FLT_PORT, link);
        if (!other->closed && fltsim__ustr_equal_ci(&other->name, &port->name))
            status = STATUS_OBJECT_NAME_COLLISION;
    }
    if (!NT_SUCCESS(status)) {
        uv_mutex_unlock(&sys->lock);
        fltsim__ustr_free(&port->name);
        free(port);
        return status;
    }
    port->magic = FLTSIM_MAGIC_SERVER_PORT;
    port->refs = 1; /* the filter's, until FltCloseCommunicationPort */
    port->sys = sys;
    port->filter = Filter;
    fltsim__ustr_to_utf8(&port->name, port->name8, sizeof(port->name8));
    port->cookie = ServerPortCookie;
    port->connect = ConnectNotifyCallback;
    port->disconnect = DisconnectNotifyCallback;
    port->message = MessageNotifyCallback;
    port->max_connections = MaxConnections;
    InsertTailList(&t->servers, &port->link);
    uv_mutex_unlock(&sys->lock);
    *ServerPort = port;
    return STATUS_SUCCESS;
}

VOID FltCloseCommunicationPort(PFLT_PORT ServerPort)
{
    struct fltsim_tls *tls = fltsim__tls();
    fltsim_system *sys = ServerPort != NULL && ServerPort->magic == FLTSIM_MAGIC_SERVER_PORT
                             ? ServerPort->sys
                             : tls->sys;
    if (sys == NULL)
        return;
    fltsim__check_irql(sys, PASSIVE_LEVEL, "FltCloseCommunicationPort");
    uv_mutex_lock(&sys->lock);
    if (!is_port_locked(sys, ServerPort, FLTSIM_MAGIC_SERVER_PORT) || ServerPort->closed) {
        bool twice = ServerPort != NULL && ServerPort->magic == FLTSIM_MAGIC_SERVER_PORT;
        uv_mutex_unlock(&sys->lock);
        report(sys, tls->filter, "SIM", "%s(%s): not an open server port; ignored",
               "FltCloseCommunicationPort", twice ? "a port closed already" : "a pointer");
        return;
    }
    /* New connections are refused; existing ones stay until closed. */
    ServerPort->closed = true;
    fltsim__port_unref_locked(ServerPort);
    uv_mutex_unlock(&sys->lock);
}

VOID FltCloseClientPort(PFLT_FILTER Filter, PFLT_PORT *ClientPort)
{
    const char *api = "FltCloseClientPort";
    if (!fltsim__is_filter(Filter) || ClientPort == NULL) {
        struct fltsim_tls *tls = fltsim__tls();
        if (tls->sys != NULL)
            report(tls->sys, tls->filter, "SIM", "%s: %s", api,
                   "Filter and ClientPort are required; ignored");
        return;
    }
    fltsim_system *sys = Filter->sys;
    fltsim__check_irql(sys, PASSIVE_LEVEL, api);
    uv_mutex_lock(&sys->lock);
    struct _FLT_PORT *client = *ClientPort;
    *ClientPort = NULL; /* before anything else: sends in flight see NULL (Learn) */
    if (client == NULL) {
        uv_mutex_unlock(&sys->lock);
        return; /* closed already: the usual race with DisconnectNotify, harmless */
    }
    if (!is_port_locked(sys, client, FLTSIM_MAGIC_CLIENT_PORT) || !client->filter_open) {
        uv_mutex_unlock(&sys->lock);
        report(sys, Filter, "SIM", "%s(%s): not an open client port; ignored", api, "*ClientPort");
        return;
    }
    client->filter_open = false;
    client->notified = true; /* the filter ended it: no DisconnectNotify */
    struct fltsim_event ev;
    bool trace =
        !client->disconnected && fltsim__port_event_locked(&ev, FLTSIM_EV_PORT_DISCONNECT, client);
    ev.flags = 1;
    fltsim__port_disconnect_locked(client);
    fltsim__port_unref_locked(client);
    uv_mutex_unlock(&sys->lock);
    if (trace)
        fltsim__trace(sys, &ev);
}

/* ---- FltSendMessage ---- */

/* The park deadline of an NT timeout (0: none); *poll for zero or past. */
static ULONG64 send_deadline(const LARGE_INTEGER *timeout, bool *poll)
{
    *poll = false;
    if (timeout == NULL)
        return 0;
    LONGLONG t = timeout->QuadPart;
    if (t < 0)
        return fltsim__now_ns() + (ULONG64)(-t) * 100;
    LARGE_INTEGER now;
    KeQuerySystemTimePrecise(&now);
    if (t <= now.QuadPart) {
        *poll = true;
        return 0;
    }
    return fltsim__now_ns() + (ULONG64)(t - now.QuadPart) * 100;
}

/* FltSendMessage's result, traced (sys->lock not held). */
static NTSTATUS send_traced(fltsim_system *sys, bool trace, struct fltsim_event *ev,
                            NTSTATUS status)
{
    if (trace) {
        ev->status = status;
        fltsim__trace(sys, ev);
    }
    return status;
}

/* What ends a FltSendMessage's wait (the loop there): the message is
 * gone, or answered, or delivered when no reply is wanted. */
static bool send_settled(void *ctx)
{
    const struct port_msg *m = ctx;
    return m->state == MSG_GONE || m->state == MSG_REPLIED ||
           (m->state == MSG_DELIVERED && !m->wants_reply);
}

NTSTATUS FltSendMessage(PFLT_FILTER Filter, PFLT_PORT *ClientPort, PVOID SenderBuffer,
                        ULONG SenderBufferLength, PVOID ReplyBuffer, PULONG ReplyLength,
                        PLARGE_INTEGER Timeout)
{
    const char *api = "FltSendMessage";
    if (!fltsim__is_filter(Filter))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Filter is not a filter", api);
    fltsim_system *sys = Filter->sys;
    fltsim__check_irql(sys, APC_LEVEL, api);
    fltsim__check_blocking(api, "sends a message to user mode");
    if (ClientPort == NULL || (ReplyBuffer != NULL && ReplyLength == NULL) ||
        (SenderBuffer == NULL && SenderBufferLength != 0)) {
        report(sys, Filter, "SIM", "%s: %s", api,
               "ClientPort, and ReplyLength with a ReplyBuffer, are required; "
               "STATUS_INVALID_PARAMETER");
        return STATUS_INVALID_PARAMETER;
    }
    bool poll;
    ULONG64 deadline = send_deadline(Timeout, &poll);

    uv_mutex_lock(&sys->lock);
    struct _FLT_PORT *client = *ClientPort;
    if (client == NULL || !is_port_locked(sys, client, FLTSIM_MAGIC_CLIENT_PORT)) {
        uv_mutex_unlock(&sys->lock);
        return STATUS_PORT_DISCONNECTED;
    }
    struct fltsim_event ev;
    bool trace = fltsim__port_event_locked(&ev, FLTSIM_EV_PORT_SEND, client);
    ev.in_size = SenderBufferLength;
    ev.out_size = ReplyBuffer != NULL ? *ReplyLength : 0;
    ev.flags = (ReplyBuffer != NULL ? 1u : 0u) | (Timeout != NULL ? 2u : 0u);
    if (client->disconnected) {
        uv_mutex_unlock(&sys->lock);
        return send_traced(sys, trace, &ev, STATUS_PORT_DISCONNECTED);
    }
    if (poll) {
        /* A zero timeout delivers only to a FilterGetMessage already
         * waiting, and leaves no time for a reply (STATUS_TIMEOUT then). */
        NTSTATUS status = STATUS_TIMEOUT;
        bool waiting = client->getters > 0 || !IsListEmpty(&client->gets);
        struct port_msg *copy = waiting ? malloc(sizeof(*copy) + SenderBufferLength) : NULL;
        if (copy != NULL) {
            memset(copy, 0, sizeof(*copy));
            copy->id = ++client->next_id;
            ev.message_id = copy->id;
            copy->data = copy + 1;
            if (SenderBufferLength != 0)
                memcpy(copy + 1, SenderBuffer, SenderBufferLength);
            copy->length = SenderBufferLength;
            copy->reply_room = ReplyBuffer != NULL ? *ReplyLength : 0;
            copy->state = MSG_QUEUED;
            copy->owned = true;
            copy->wants_reply = ReplyBuffer != NULL;
            InsertTailList(&client->queue, &copy->link);
            client->refs++; /* the pump may release the lock to trace */
            fltsim__port_pump_locked(client);
            fltsim__port_unref_locked(client);
            fltsim__broadcast_locked(sys);
            status = ReplyBuffer != NULL ? STATUS_TIMEOUT : STATUS_SUCCESS;
        } else if (waiting) {
            status = STATUS_INSUFFICIENT_RESOURCES;
        }
        uv_mutex_unlock(&sys->lock);
        return send_traced(sys, trace, &ev, status);
    }
    struct port_msg m = {.id = ++client->next_id,
                         .data = SenderBuffer,
                         .length = SenderBufferLength,
                         .reply = ReplyBuffer,
                         .reply_room = ReplyBuffer != NULL ? *ReplyLength : 0,
                         .wants_reply = ReplyBuffer != NULL,
                         .state = MSG_QUEUED};
    InsertTailList(&client->queue, &m.link);
    client->refs++;
    fltsim__port_pump_locked(client);
    fltsim__broadcast_locked(sys);
    NTSTATUS status = STATUS_SUCCESS;
    for (;;) {
        if (m.state == MSG_GONE) {
            status = STATUS_PORT_DISCONNECTED;
            break;
        }
        if (m.state == MSG_REPLIED || (m.state == MSG_DELIVERED && ReplyBuffer == NULL))
            break;
        bool expired = deadline != 0 && fltsim__now_ns() >= deadline;
        if (expired) {
            /* Nothing delivered, or no reply, in time: a success code. A
             * reply arriving later finds no waiter. */
            RemoveEntryList(&m.link);
            status = STATUS_TIMEOUT;
            break;
        }
        fltsim__sys_wait_until_locked(sys, deadline, send_settled, &m);
    }
    if (m.state == MSG_REPLIED) {
        ULONG copied = m.reply_len < m.reply_room ? m.reply_len : m.reply_room;
        *ReplyLength = copied;
        ev.information = copied;
        if (m.reply_len > m.reply_room)
            status = STATUS_BUFFER_OVERFLOW;
    }
    ev.message_id = m.id;
    fltsim__port_unref_locked(client);
    uv_mutex_unlock(&sys->lock);
    return send_traced(sys, trace, &ev, status);
}

/* ---- unload and system destruction ---- */

void fltsim__ports_filter_gone(struct _FLT_FILTER *filter)
{
    fltsim_system *sys = filter->sys;
    /* DisconnectNotify for each of its connections still up (the filter is
     * about to unload), one at a time, without the lock. */
    for (;;) {
        struct _FLT_PORT *due = NULL;
        uv_mutex_lock(&sys->lock);
        struct fltsim_port_table *t = sys->ports;
        for (PLIST_ENTRY e = t != NULL ? t->clients.Flink : NULL; e != NULL && e != &t->clients;
             e = e->Flink) {
            struct _FLT_PORT *c = CONTAINING_RECORD(e, struct _FLT_PORT, link);
            if (c->server->filter == filter && !c->notified && !c->disconnected) {
                due = c;
                break;
            }
        }
        struct fltsim_event ev;
        bool trace = false;
        if (due != NULL) {
            trace = fltsim__port_event_locked(&ev, FLTSIM_EV_PORT_DISCONNECT, due);
            ev.flags = 2;
            fltsim__port_disconnect_locked(due);
            due->refs++; /* its program may close its handle meanwhile */
        }
        uv_mutex_unlock(&sys->lock);
        if (due == NULL)
            break;
        if (trace)
            fltsim__trace(sys, &ev);
        fltsim__port_notify_disconnect(due);
        uv_mutex_lock(&sys->lock);
        fltsim__port_unref_locked(due);
        uv_mutex_unlock(&sys->lock);
    }
    ULONG servers = 0, clients = 0;
    char first[FLTSIM_NAME8_MAX] = "";
    uv_mutex_lock(&sys->lock);
    struct fltsim_port_table *t = sys->ports;
    if (t != NULL) {
        for (PLIST_ENTRY e = t->servers.Flink; e != &t->servers;) {
            struct _FLT_PORT *s = CONTAINING_RECORD(e, struct _FLT_PORT, link);
            e = e->Flink;
            if (s->filter != filter)
                continue;
            if (!s->closed) {
                if (servers++ == 0)
                    snprintf(first, sizeof(first), "%s", s->name8);
                s->closed = true;
                fltsim__port_unref_locked(s);
            }
        }
        for (PLIST_ENTRY e = t->clients.Flink; e != &t->clients;) {
            struct _FLT_PORT *c = CONTAINING_RECORD(e, struct _FLT_PORT, link);
            e = e->Flink;
            if (c->server->filter != filter)
                continue;
            fltsim__port_disconnect_locked(c);
            c->server->filter = NULL; /* no more callbacks */
            if (c->filter_open) {
                clients++;
                c->filter_open = false;
                fltsim__port_unref_locked(c);
            }
        }
    }
    uv_mutex_unlock(&sys->lock);
    if (clients > 0)
        fltsim__report(sys, filter, NULL, NULL, "V23", "8",
                       "%lu client port(s) were never closed (FltCloseClientPort, usually in "
                       "DisconnectNotify); closed at unload",
                       (unsigned long)clients);
    if (servers > 0)
        fltsim__report(sys, filter, NULL, NULL, "V23", "8",
                       "%lu communication port(s) (%s first) were never closed "
                       "(FltCloseCommunicationPort); closed at unload",
                       (unsigned long)servers, first);
}

void fltsim__ports_system_destroyed(fltsim_system *sys)
{
    struct fltsim_port_table *t = sys->ports;
    if (t == NULL)
        return;
    /* Connections whose user handle was never closed, then servers. */
    while (!IsListEmpty(&t->clients)) {
        struct _FLT_PORT *c = CONTAINING_RECORD(t->clients.Flink, struct _FLT_PORT, link);
        RemoveEntryList(&c->link);
        InitializeListHead(&c->link);
        c->refs = 1;
        fltsim__port_unref_locked(c);
    }
    while (!IsListEmpty(&t->servers)) {
        struct _FLT_PORT *s =
            CONTAINING_RECORD(RemoveHeadList(&t->servers), struct _FLT_PORT, link);
        fltsim__ustr_free(&s->name);
        s->magic = FLTSIM_MAGIC_DEAD;
        free(s);
    }
    free(t);
    sys->ports = NULL;
}

/* ---- security descriptors ---- */

/* A self-relative descriptor whose DACL allows DesiredAccess to Local System
 * (S-1-5-18) and the Administrators alias (S-1-5-32-544), as FltMgr's does. */
NTSTATUS FltBuildDefaultSecurityDescriptor(PSECURITY_DESCRIPTOR *SecurityDescriptor,
                                           ACCESS_MASK DesiredAccess)
{
    if (SecurityDescriptor == NULL)
        return STATUS_INVALID_PARAMETER;
    *SecurityDescriptor = NULL;
    static const UCHAR system_sid[] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
    static const UCHAR admins_sid[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0};
    const ULONG ace1 = 8 + sizeof(system_sid), ace2 = 8 + sizeof(admins_sid);
    const ULONG acl_size = sizeof(ACL) + ace1 + ace2;
    const ULONG total = sizeof(SECURITY_DESCRIPTOR_RELATIVE) + acl_size;
    UCHAR *p = ExAllocatePoolWithTag(PagedPool, total, 'dSmF');
    if (p == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memset(p, 0, total);
    SECURITY_DESCRIPTOR_RELATIVE *sd = (SECURITY_DESCRIPTOR_RELATIVE *)p;
    sd->Revision = SECURITY_DESCRIPTOR_REVISION;
    sd->Control = SE_DACL_PRESENT | SE_SELF_RELATIVE;
    sd->Dacl = sizeof(*sd);
    ACL acl = {2 /* ACL_REVISION */, 0, (USHORT)acl_size, 2, 0};
    memcpy(p + sd->Dacl, &acl, sizeof(acl));
    UCHAR *ace = p + sd->Dacl + sizeof(acl);
    const UCHAR *sids[2] = {system_sid, admins_sid};
    const ULONG sizes[2] = {sizeof(system_sid), sizeof(admins_sid)};
    for (int i = 0; i < 2; i++) {
        USHORT size = (USHORT)(8 + sizes[i]);
        ace[0] = 0; /* ACCESS_ALLOWED_ACE_TYPE */
        ace[1] = 0;
        memcpy(ace + 2, &size, sizeof(size));
        memcpy(ace + 4, &DesiredAccess, sizeof(DesiredAccess));
        memcpy(ace + 8, sids[i], sizes[i]);
        ace += size;
    }
    *SecurityDescriptor = p;
    return STATUS_SUCCESS;
}

VOID FltFreeSecurityDescriptor(PSECURITY_DESCRIPTOR SecurityDescriptor)
{
    ExFreePoolWithTag(SecurityDescriptor, 'dSmF');
}
