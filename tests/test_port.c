/*
 * Communication ports (SPEC 8, issue 19): filter A creates \TestPort; a
 * thread standing in for a user program (its own process id, through
 * fltsim_thread_spawn) connects, sends, gets and replies through fltUser.h.
 * Connect and disconnect notify, max connections, a refused connect, a
 * missing name, messages both ways with replies, timeouts, a client closing
 * under a pending send, FltCloseClientPort, a reply too large, V30 from
 * InstanceSetup and V23 at unload; under both executors.
 */
#include <string.h>

#include <fltUser.h>

#include "fltsim_test.h"

struct fixture {
    struct test_world w;
    struct tf_filter a, b; /* b: the one whose setup sends */
    PFLT_PORT server;
    PFLT_PORT client;
    LONG connects, disconnects, messages;
    NTSTATUS refuse;  /* ConnectNotify's answer */
    char context[16]; /* what ConnectNotify was given */
    bool close_in_disconnect;
};

static struct fixture *fx;

static NTSTATUS FLTAPI on_connect(PFLT_PORT client, PVOID server_cookie, PVOID context, ULONG size,
                                  PVOID *cookie)
{
    (void)server_cookie;
    __atomic_add_fetch(&fx->connects, 1, __ATOMIC_SEQ_CST);
    if (size <= sizeof(fx->context) && context != NULL)
        memcpy(fx->context, context, size);
    if (!NT_SUCCESS(fx->refuse))
        return fx->refuse;
    __atomic_store_n(&fx->client, client, __ATOMIC_SEQ_CST);
    *cookie = fx;
    return STATUS_SUCCESS;
}

static VOID FLTAPI on_disconnect(PVOID cookie)
{
    assert_ptr_equal(cookie, fx);
    __atomic_add_fetch(&fx->disconnects, 1, __ATOMIC_SEQ_CST);
    if (fx->close_in_disconnect)
        FltCloseClientPort(fx->a.filter, &fx->client);
}

static NTSTATUS FLTAPI on_message(PVOID cookie, PVOID in, ULONG in_len, PVOID out, ULONG out_len,
                                  PULONG returned)
{
    (void)cookie;
    __atomic_add_fetch(&fx->messages, 1, __ATOMIC_SEQ_CST);
    if (out_len < in_len)
        return STATUS_BUFFER_TOO_SMALL;
    for (ULONG i = 0; i < in_len; i++)
        ((char *)out)[i] = (char)(((char *)in)[i] ^ 0x20); /* case flipped */
    *returned = in_len;
    return STATUS_SUCCESS;
}

static NTSTATUS create_port_into(PFLT_PORT *out, LONG max)
{
    UNICODE_STRING name = ustr(L"\\TestPort");
    OBJECT_ATTRIBUTES oa;
    PSECURITY_DESCRIPTOR sd;
    NTSTATUS status = FltBuildDefaultSecurityDescriptor(&sd, FLT_PORT_ALL_ACCESS);
    if (!NT_SUCCESS(status))
        return status;
    InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, sd);
    status = FltCreateCommunicationPort(fx->a.filter, out, &oa, NULL, on_connect, on_disconnect,
                                        on_message, max);
    FltFreeSecurityDescriptor(sd);
    return status;
}

static NTSTATUS create_port(LONG max)
{
    return create_port_into(&fx->server, max);
}

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    fx = &f;
    tf_reset_all();
    world_create(&f.w, 0);
    tf_init(&f.a, "A", "300000");
    assert_status(tf_load(f.w.sys, &f.a), STATUS_SUCCESS);
    f.close_in_disconnect = true;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    world_destroy(&fx->w);
    return 0;
}

/* ---- the user program ---- */

struct user {
    const WCHAR *name;
    HRESULT connect, first, second;
    HANDLE port;
    int mode;        /* what it does once connected */
    ULONG reply_len; /* bytes of reply data it sends */
    char got[64];
    ULONG got_reply_length;
    bool keep_open;
};

enum { U_CONNECT, U_SEND, U_GET_REPLY, U_GET_CLOSE, U_GET_NOREPLY, U_GET_SMALL, U_LATE_REPLY };

static void user_main(void *ctx)
{
    struct user *u = ctx;
    u->connect = FilterConnectCommunicationPort(u->name, 0, "hello", 6, NULL, &u->port);
    if (FAILED(u->connect))
        return;
    struct {
        FILTER_MESSAGE_HEADER h;
        char data[32];
    } msg;
    struct {
        FILTER_REPLY_HEADER h;
        char data[32];
    } reply;
    DWORD n = 0;
    switch (u->mode) {
    case U_SEND: {
        char out[8];
        u->first = FilterSendMessage(u->port, (char[]){"abc"}, 3, out, sizeof(out), &n);
        memcpy(u->got, out, n);
        u->got_reply_length = n;
        u->second = FilterSendMessage(u->port, (char[]){"abcdefghij"}, 10, out, sizeof(out), &n);
        break;
    }
    case U_GET_REPLY:
    case U_GET_NOREPLY:
        u->first = FilterGetMessage(u->port, &msg.h, sizeof(msg), NULL);
        if (SUCCEEDED(u->first)) {
            memcpy(u->got, msg.data, sizeof(msg.data));
            u->got_reply_length = msg.h.ReplyLength;
            if (u->mode == U_GET_REPLY) {
                memset(&reply, 0, sizeof(reply));
                reply.h.MessageId = msg.h.MessageId;
                memcpy(reply.data, "yes-answer-long", 16);
                u->second = FilterReplyMessage(u->port, &reply.h,
                                               (DWORD)sizeof(FILTER_REPLY_HEADER) + u->reply_len);
            }
        }
        break;
    case U_GET_SMALL:
        /* room for 2 bytes of data: the 8-byte message does not fit */
        u->first = FilterGetMessage(u->port, &msg.h, sizeof(msg.h) + 2, NULL);
        break;
    case U_LATE_REPLY: {
        u->first = FilterGetMessage(u->port, &msg.h, sizeof(msg), NULL);
        LARGE_INTEGER d = {.QuadPart = -10 * 1000 * 1000}; /* 1 s: the sender gave up */
        KeDelayExecutionThread(UserMode, FALSE, &d);
        memset(&reply, 0, sizeof(reply));
        reply.h.MessageId = msg.h.MessageId;
        u->second = FilterReplyMessage(u->port, &reply.h, sizeof(FILTER_REPLY_HEADER) + 4);
        break;
    }
    case U_GET_CLOSE:
        u->first = FilterGetMessage(u->port, &msg.h, sizeof(msg), NULL);
        break;
    default:
        break;
    }
    if (!u->keep_open)
        CloseHandle(u->port);
}

static fltsim_thread *start_user(struct user *u)
{
    fltsim_thread *t = NULL;
    assert_status(fltsim_thread_spawn(fx->w.sys, 2000, 2001, user_main, u, &t), STATUS_SUCCESS);
    return t;
}

static void close_port(void *ctx)
{
    struct user *u = ctx;
    assert_true(CloseHandle(u->port));
}

/* Until the user program has connected (a wait lets it run). */
static void wait_a_little(void)
{
    LARGE_INTEGER d = {.QuadPart = -10000}; /* 1 ms */
    KeDelayExecutionThread(KernelMode, FALSE, &d);
}

/* ---- cases ---- */

static void test_connect_disconnect(void **state)
{
    (void)state;
    assert_status(create_port(1), STATUS_SUCCESS);
    PFLT_PORT second = (PFLT_PORT)1;
    assert_status(create_port_into(&second, 1), STATUS_OBJECT_NAME_COLLISION);
    assert_null(second);
    struct user u = {.name = L"\\TestPort", .keep_open = true};
    fltsim_thread_join(start_user(&u));
    assert_int_equal(u.connect, S_OK);
    assert_int_equal(fx->connects, 1);
    assert_string_equal(fx->context, "hello");
    assert_non_null(fx->client);
    /* max connections 1: the second is refused */
    struct user v = {.name = L"\\TestPort"};
    fltsim_thread_join(start_user(&v));
    assert_int_equal(v.connect, HRESULT_FROM_WIN32(ERROR_CONNECTION_COUNT_LIMIT));
    /* closing the handle: DisconnectNotify, which closes the client port */
    fltsim_thread *t = NULL;
    assert_status(fltsim_thread_spawn(fx->w.sys, 2000, 2002, close_port, &u, &t), STATUS_SUCCESS);
    fltsim_thread_join(t);
    assert_int_equal(fx->disconnects, 1);
    assert_null(fx->client);
    /* a missing name, then one after the server port closed */
    struct user m = {.name = L"\\NoSuchPort"};
    fltsim_thread_join(start_user(&m));
    assert_int_equal(m.connect, (HRESULT)0x80070002);
    FltCloseCommunicationPort(fx->server);
    struct user c = {.name = L"\\TestPort"};
    fltsim_thread_join(start_user(&c));
    assert_int_equal(c.connect, (HRESULT)0x80070002);
    assert_int_equal(fltsim_system_report_count(fx->w.sys), 0);
}

static void test_connect_refused(void **state)
{
    (void)state;
    assert_status(create_port(4), STATUS_SUCCESS);
    fx->refuse = STATUS_ACCESS_DENIED;
    struct user u = {.name = L"\\TestPort"};
    fltsim_thread_join(start_user(&u));
    assert_int_equal(u.connect, HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED));
    assert_int_equal(fx->disconnects, 0);
    FltCloseCommunicationPort(fx->server);
    /* misuse: a pointer that is no port, a server port closed twice */
    PFLT_PORT bogus = (PFLT_PORT)(void *)fx->context;
    FltCloseClientPort(fx->a.filter, &bogus);
    assert_null(bogus);
    FltCloseCommunicationPort(fx->server);
    assert_int_equal(fltsim_system_report_count_rule(fx->w.sys, "SIM"), 2);
    fltsim_system_reports_clear(fx->w.sys);
}

static void test_user_sends(void **state)
{
    (void)state;
    assert_status(create_port(4), STATUS_SUCCESS);
    struct user u = {.name = L"\\TestPort", .mode = U_SEND};
    fltsim_thread_join(start_user(&u));
    assert_int_equal(u.first, S_OK);
    assert_int_equal(u.got_reply_length, 3);
    assert_memory_equal(u.got, "ABC", 3);
    /* output too small for the answer: the filter's status, as an HRESULT */
    assert_int_equal(u.second, HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER));
    assert_int_equal(fx->messages, 2);
    FltCloseCommunicationPort(fx->server);
}

static void test_filter_sends(void **state)
{
    (void)state;
    assert_status(create_port(4), STATUS_SUCCESS);
    struct user u = {.name = L"\\TestPort", .mode = U_GET_REPLY, .reply_len = 4, .keep_open = true};
    fltsim_thread *t = start_user(&u);
    while (__atomic_load_n(&fx->client, __ATOMIC_SEQ_CST) == NULL)
        wait_a_little();
    char reply[8] = {0};
    ULONG len = sizeof(reply);
    NTSTATUS status =
        FltSendMessage(fx->a.filter, &fx->client, (char[]){"scan me"}, 8, reply, &len, NULL);
    fltsim_thread_join(t);
    assert_status(status, STATUS_SUCCESS);
    assert_int_equal(len, 4);
    assert_memory_equal(reply, "yes-", 4);
    assert_string_equal(u.got, "scan me");
    assert_int_equal(u.got_reply_length, sizeof(reply) + sizeof(FILTER_REPLY_HEADER));
    assert_int_equal(u.second, S_OK);
    /* zero timeout, nobody reading: STATUS_TIMEOUT at once */
    LARGE_INTEGER zero = {.QuadPart = 0}, rel = {.QuadPart = -10 * 1000 * 20}; /* 20 ms */
    len = sizeof(reply);
    assert_status(FltSendMessage(fx->a.filter, &fx->client, (char[]){"x"}, 1, reply, &len, &zero),
                  STATUS_TIMEOUT);
    assert_status(FltSendMessage(fx->a.filter, &fx->client, (char[]){"x"}, 1, NULL, NULL, &rel),
                  STATUS_TIMEOUT);
    FltCloseClientPort(fx->a.filter, &fx->client);
    assert_null(fx->client);
    assert_status(FltSendMessage(fx->a.filter, &fx->client, (char[]){"x"}, 1, NULL, NULL, &rel),
                  STATUS_PORT_DISCONNECTED);
    FltCloseCommunicationPort(fx->server);
}

static void test_reply_too_large(void **state)
{
    (void)state;
    assert_status(create_port(4), STATUS_SUCCESS);
    struct user u = {.name = L"\\TestPort", .mode = U_GET_REPLY, .reply_len = 16};
    fltsim_thread *t = start_user(&u);
    while (__atomic_load_n(&fx->client, __ATOMIC_SEQ_CST) == NULL)
        wait_a_little();
    char reply[8];
    ULONG len = sizeof(reply);
    NTSTATUS status =
        FltSendMessage(fx->a.filter, &fx->client, (char[]){"q"}, 2, reply, &len, NULL);
    fltsim_thread_join(t);
    assert_status(status, STATUS_BUFFER_OVERFLOW);
    assert_int_equal(len, 8);
    FltCloseCommunicationPort(fx->server);
}

static void test_client_closes_during_send(void **state)
{
    (void)state;
    assert_status(create_port(4), STATUS_SUCCESS);
    /* it takes the message and closes without replying */
    struct user u = {.name = L"\\TestPort", .mode = U_GET_NOREPLY};
    fltsim_thread *t = start_user(&u);
    while (__atomic_load_n(&fx->client, __ATOMIC_SEQ_CST) == NULL)
        wait_a_little();
    char reply[8];
    ULONG len = sizeof(reply);
    PFLT_PORT client = fx->client;
    fx->close_in_disconnect = false;
    NTSTATUS status = FltSendMessage(fx->a.filter, &client, (char[]){"q"}, 2, reply, &len, NULL);
    fltsim_thread_join(t);
    assert_status(status, STATUS_PORT_DISCONNECTED);
    assert_int_equal(fx->disconnects, 1);
    FltCloseClientPort(fx->a.filter, &fx->client);
    FltCloseCommunicationPort(fx->server);
    assert_int_equal(fltsim_system_report_count(fx->w.sys), 0);
}

static void test_bad_sizes_and_late_reply(void **state)
{
    (void)state;
    assert_status(create_port(4), STATUS_SUCCESS);
    struct user u = {.name = L"\\TestPort", .mode = U_GET_SMALL};
    fltsim_thread *t = start_user(&u);
    while (__atomic_load_n(&fx->client, __ATOMIC_SEQ_CST) == NULL)
        wait_a_little();
    LARGE_INTEGER rel = {.QuadPart = -10 * 1000 * 5000}; /* 5 s; it ends long before */
    /* never delivered: the program gave up on it and closed its handle */
    assert_status(
        FltSendMessage(fx->a.filter, &fx->client, (char[]){"8 bytes"}, 8, NULL, NULL, &rel),
        STATUS_PORT_DISCONNECTED);
    fltsim_thread_join(t);
    assert_int_equal(u.first, HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER));
    assert_null(fx->client); /* its DisconnectNotify closed it */

    struct user v = {.name = L"\\TestPort", .mode = U_LATE_REPLY};
    t = start_user(&v);
    while (__atomic_load_n(&fx->client, __ATOMIC_SEQ_CST) == NULL)
        wait_a_little();
    char reply[8];
    ULONG len = sizeof(reply);
    LARGE_INTEGER rel2 = {.QuadPart = -10 * 1000 * 300}; /* 300 ms */
    assert_status(FltSendMessage(fx->a.filter, &fx->client, (char[]){"q"}, 2, reply, &len, &rel2),
                  STATUS_TIMEOUT);
    fltsim_thread_join(t);
    assert_int_equal(v.first, S_OK);
    assert_int_equal(v.second, (HRESULT)0x801F0020); /* ERROR_FLT_NO_WAITER_FOR_REPLY */
    FltCloseCommunicationPort(fx->server);
    assert_int_equal(fltsim_system_report_count(fx->w.sys), 0);
}

/* A zero timeout delivers to a FilterGetMessage already waiting. */
static void test_zero_timeout_delivers(void **state)
{
    (void)state;
    assert_status(create_port(4), STATUS_SUCCESS);
    struct user u = {.name = L"\\TestPort", .mode = U_GET_NOREPLY};
    fltsim_thread *t = start_user(&u);
    while (__atomic_load_n(&fx->client, __ATOMIC_SEQ_CST) == NULL)
        wait_a_little();
    LARGE_INTEGER zero = {.QuadPart = 0};
    NTSTATUS status = STATUS_TIMEOUT;
    for (int i = 0; i < 10000 && status == STATUS_TIMEOUT; i++) {
        status = FltSendMessage(fx->a.filter, &fx->client, (char[]){"now"}, 4, NULL, NULL, &zero);
        if (status == STATUS_TIMEOUT)
            wait_a_little();
    }
    fltsim_thread_join(t);
    assert_status(status, STATUS_SUCCESS);
    assert_int_equal(u.first, S_OK);
    assert_string_equal(u.got, "now");
    assert_int_equal(u.got_reply_length, 0);
    FltCloseCommunicationPort(fx->server);
}

/* Unloading with a program waiting in FilterGetMessage: DisconnectNotify
 * runs, the wait ends, and what the filter left open is reported. */
static void test_unload_with_client(void **state)
{
    (void)state;
    assert_status(create_port(4), STATUS_SUCCESS);
    struct user u = {.name = L"\\TestPort", .mode = U_GET_CLOSE};
    fltsim_thread *t = start_user(&u);
    while (__atomic_load_n(&fx->client, __ATOMIC_SEQ_CST) == NULL)
        wait_a_little();
    FltCloseCommunicationPort(fx->server);
    assert_status(fltsim_driver_unload(fx->a.driver, 0), STATUS_SUCCESS);
    fltsim_thread_join(t);
    assert_int_equal(fx->disconnects, 1);
    assert_null(fx->client);
    assert_int_equal(u.first, HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE));
    assert_int_equal(fltsim_system_report_count(fx->w.sys), 0);
}

static void sends_in_setup(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    LARGE_INTEGER zero = {.QuadPart = 0};
    PFLT_PORT none = NULL;
    FltSendMessage(tf->filter, &none, (char[]){"x"}, 1, NULL, NULL, &zero);
}

static void test_v30_and_v23(void **state)
{
    (void)state;
    assert_status(create_port(4), STATUS_SUCCESS);
    tf_init(&fx->b, "B", "200000");
    fx->b.setup_hook = sends_in_setup;
    assert_status(tf_load(fx->w.sys, &fx->b), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(fx->w.sys, "V30"), 1);
    /* A unloads with its port open */
    assert_status(fltsim_driver_unload(fx->a.driver, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(fx->w.sys, "V23"), 1);
    fltsim_system_reports_clear(fx->w.sys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connect_disconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_sends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_sends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_closes_during_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_sizes_and_late_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_timeout_delivers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unload_with_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v30_and_v23, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("port", tests);
}
