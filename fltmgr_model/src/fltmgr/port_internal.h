/*
 * PRIVATE to fltmgr/port.c and fltmgr/port_user.c: the objects behind
 * communication ports (SPEC 8). A server port is a name in the system's
 * table; each connection is a client port the filter holds and a user
 * handle the user-mode side holds; messages the filter sends wait on the
 * connection's queue, then for their reply. Everything here is guarded by
 * sys->lock, and waits use fltsim__sys_wait_locked.
 */
#ifndef FLTSIM_PORT_INTERNAL_H
#define FLTSIM_PORT_INTERNAL_H

#include "model_internal.h"

enum {
    FLTSIM_MAGIC_SERVER_PORT = 0x53545046, /* "FPTS" */
    FLTSIM_MAGIC_CLIENT_PORT = 0x43545046  /* "FPTC" */
};

/* A message FltSendMessage sends, on its sender's stack. */
enum port_msg_state { MSG_QUEUED, MSG_DELIVERED, MSG_REPLIED, MSG_GONE };
struct port_msg {
    LIST_ENTRY link; /* client->queue while QUEUED, client->delivered while DELIVERED */
    ULONG64 id;
    const void *data;
    ULONG length;
    void *reply;      /* the sender's reply buffer, NULL when no reply is wanted */
    ULONG reply_room; /* its size */
    ULONG reply_len;  /* what the reply held (may exceed reply_room) */
    enum port_msg_state state;
    bool wants_reply; /* the sender gave a reply buffer */
    bool owned;       /* a copy in malloc'd memory (data after it) the getter frees */
};

struct _FLT_PORT {
    ULONG magic;
    LONG refs; /* the filter's, the user handle's, and waiters'; freed at zero */
    fltsim_system *sys;
    struct _FLT_FILTER *filter; /* memory ref held */
    LIST_ENTRY link;            /* table->servers or table->clients */
    /* server */
    UNICODE_STRING name; /* canonical */
    char name8[FLTSIM_NAME8_MAX];
    PVOID cookie;
    PFLT_CONNECT_NOTIFY connect;
    PFLT_DISCONNECT_NOTIFY disconnect;
    PFLT_MESSAGE_NOTIFY message;
    LONG max_connections;
    LONG connections; /* clients not yet disconnected */
    bool closed;      /* FltCloseCommunicationPort */
    /* client */
    struct _FLT_PORT *server; /* memory ref held */
    PVOID conn_cookie;        /* ConnectNotify's ConnectionPortCookie */
    bool filter_open;         /* until FltCloseClientPort */
    bool user_open;           /* until CloseHandle */
    bool disconnected;        /* no more messages either way */
    bool notified;            /* DisconnectNotify called (or due) */
    LIST_ENTRY queue;         /* struct port_msg, QUEUED */
    LIST_ENTRY delivered;     /* struct port_msg, DELIVERED, awaiting a reply */
    ULONG64 next_id;
    LONG getters;     /* threads blocked in FilterGetMessage */
    LIST_ENTRY gets;  /* struct port_get: overlapped FilterGetMessage calls pending */
    struct w32_iocp *iocp;       /* the completion port associated (a reference), or NULL */
    ULONG_PTR iocp_key;          /* its completion key */
    struct fltsim_process *owner; /* the simulated process holding the handle, or NULL */
    ULONG handle;     /* the user handle's value */
    ULONG process_id; /* the connecting process (for reports and traces) */
};

struct w32_iocp;
struct w32_event;

/* An overlapped FilterGetMessage waiting for a message (port_user.c). */
struct port_get {
    LIST_ENTRY link; /* client->gets */
    PVOID buffer;    /* the caller's FILTER_MESSAGE_HEADER and what follows */
    ULONG size;
    PVOID overlapped;        /* the caller's OVERLAPPED */
    struct w32_event *event; /* its hEvent's object (a reference), or NULL */
    bool no_packet;          /* hEvent's low bit: no completion packet */
    ULONG issuer;            /* the thread id of the caller (CancelIo cancels its own) */
};

struct fltsim_port_table {
    LIST_ENTRY servers;
    LIST_ENTRY clients; /* every connection not yet freed (struct _FLT_PORT.link) */
};

/* sys->lock held: the table, made on first use; NULL when out of memory. */
struct fltsim_port_table *fltsim__ports_locked(fltsim_system *sys);
/* sys->lock held: drops a reference; frees the port at zero. */
void fltsim__port_unref_locked(struct _FLT_PORT *port);
/* sys->lock held: the connection ends: its pending messages fail, waiters wake. */
void fltsim__port_disconnect_locked(struct _FLT_PORT *client);
/* sys->lock held: hands queued messages to pending overlapped gets
 * (port_user.c), after a message is queued or a get is made. */
void fltsim__port_pump_locked(struct _FLT_PORT *client);
/* sys->lock held: completes every pending overlapped get with status. */
void fltsim__port_fail_gets_locked(struct _FLT_PORT *client, NTSTATUS status);
/* sys->lock held: drops the completion port association (at the free). */
void fltsim__port_drop_iocp_locked(struct _FLT_PORT *client);
/* Calls the server's DisconnectNotify for client once (sys->lock not held). */
void fltsim__port_notify_disconnect(struct _FLT_PORT *client);
/* Runs a filter callback of a port in a callout of its filter at PASSIVE_LEVEL. */
void fltsim__port_callout(struct _FLT_PORT *port, const char *what, void (*fn)(void *), void *ctx);

/* sys->lock held: *ev becomes an event of the connection client for the trace
 * (its port, filter and program; the calling thread), to send with
 * fltsim__trace once the lock is released. False when nobody traces. */
bool fltsim__port_event_locked(struct fltsim_event *ev, enum fltsim_event_type type,
                               const struct _FLT_PORT *client);

/* The HRESULT fltlib returns for a failure status (port_user.c; HRESULT is a
 * LONG): the Win32 error's, or FltMgr's own code under facility 0x1F. */
LONG fltsim__hresult_of(NTSTATUS status);

#endif /* FLTSIM_PORT_INTERNAL_H */
