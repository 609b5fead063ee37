/*
 * Communication ports in the traces (issue 19): hand-built port events
 * through each of the four formats, compared byte for byte (the program as a
 * Mermaid participant, the JSON Lines keys, the normalized fields); then a
 * program and filter A talking through \TestPort on the real model, every
 * event through a tee of all four sinks, under both executors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fltUser.h>
#include <fltsim/trace.h>

#include "fltsim_test.h"
#include "trace_capture.h"

/* ---- hand-built events ---- */

static struct fltsim_event port_event(enum fltsim_event_type type, ULONG process, LONG status)
{
    struct fltsim_event ev = {.type = type,
                              .filter = "Scanner",
                              .status = status,
                              .process_id = process,
                              .thread_id = process + 1,
                              .irql = PASSIVE_LEVEL,
                              .port = "\\ScannerPort"};
    return ev;
}

/* A connection's life: connect, a message to the filter, one from it (got,
 * replied, its FltSendMessage returning), a late reply, a refused second
 * program, the disconnect. */
static void feed_ports(struct fltsim_trace_sink *sink)
{
    struct fltsim_event evs[] = {
        port_event(FLTSIM_EV_PORT_CONNECT, 1234, STATUS_SUCCESS),
        port_event(FLTSIM_EV_PORT_MESSAGE, 1234, STATUS_SUCCESS),
        port_event(FLTSIM_EV_PORT_GET, 1234, STATUS_SUCCESS),
        port_event(FLTSIM_EV_PORT_REPLY, 1234, STATUS_SUCCESS),
        port_event(FLTSIM_EV_PORT_SEND, 1234, STATUS_SUCCESS),
        port_event(FLTSIM_EV_PORT_SEND, 1234, STATUS_TIMEOUT),
        port_event(FLTSIM_EV_PORT_REPLY, 1234, STATUS_FLT_NO_WAITER_FOR_REPLY),
        port_event(FLTSIM_EV_PORT_CONNECT, 1300, STATUS_ACCESS_DENIED),
        port_event(FLTSIM_EV_PORT_DISCONNECT, 1234, 0),
    };
    evs[0].in_size = 6;
    evs[1].in_size = 3, evs[1].out_size = 8, evs[1].information = 3;
    evs[2].message_id = 1, evs[2].in_size = 8, evs[2].out_size = 16;
    evs[3].message_id = 1, evs[3].in_size = 4, evs[3].out_size = 16;
    evs[4].message_id = 1, evs[4].in_size = 8, evs[4].out_size = 16, evs[4].information = 4;
    evs[4].flags = 1, evs[4].thread_id = 7;
    evs[5].message_id = 2, evs[5].in_size = 1, evs[5].flags = 2, evs[5].thread_id = 7;
    evs[6].message_id = 2, evs[6].in_size = 4;
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        fltsim_trace_sink_event(sink, &evs[i]);
}

static const char *feed_format(struct capture *c, enum fltsim_trace_format format)
{
    capture_open(c, format, 0);
    feed_ports(c->sink);
    return capture_text(c);
}

static const char ports_text[] =
    "[port] process 1234 connects to \\ScannerPort of Scanner (context 6 bytes): STATUS_SUCCESS  "
    "[T1235 PASSIVE]\n"
    "[port] process 1234 sends a message to \\ScannerPort of Scanner (3 bytes in, 8 out): "
    "STATUS_SUCCESS, 3 returned\n"
    "[port] process 1234 gets message 1 on \\ScannerPort of Scanner (8 bytes, reply room 16)\n"
    "[port] process 1234 replies to message 1 on \\ScannerPort of Scanner (4 bytes): "
    "STATUS_SUCCESS\n"
    "[port] Scanner sends message 1 to process 1234 on \\ScannerPort (8 bytes, reply room 16, no "
    "timeout): STATUS_SUCCESS, reply 4 bytes  [T7 PASSIVE]\n"
    "[port] Scanner sends message 2 to process 1234 on \\ScannerPort (1 bytes, no reply, timeout): "
    "STATUS_TIMEOUT\n"
    "[port] process 1234 replies to message 2 on \\ScannerPort of Scanner (4 bytes): "
    "STATUS_FLT_NO_WAITER_FOR_REPLY  [T1235 PASSIVE]\n"
    "[port] process 1300 connects to \\ScannerPort of Scanner (context 0 bytes): "
    "STATUS_ACCESS_DENIED  [T1301 PASSIVE]\n"
    "[port] process 1234 disconnects from \\ScannerPort of Scanner (the program closed its handle) "
    " [T1235 PASSIVE]\n";

static const char ports_jsonl[] =
    "{\"type\":\"port_connect\",\"type_value\":22,\"op_id\":0,\"kind\":null,\"kind_value\":0,"
    "\"major\":0,\"major_name\":null,\"minor\":0,\"minor_name\":null,\"depth\":0,\"filter\":"
    "\"Scanner\",\"instance\":null,\"altitude\":null,\"volume\":null,\"status\":0,\"status_name\":"
    "\"STATUS_SUCCESS\",\"information\":0,\"flags\":0,\"process_id\":1234,\"thread_id\":1235,"
    "\"irql\":0,\"irql_name\":\"PASSIVE_LEVEL\",\"detail\":null,\"rule\":null,\"port\":"
    "\"\\\\ScannerPort\",\"in_size\":6,\"out_size\":0}\n"
    "{\"type\":\"port_message\",\"type_value\":24,\"op_id\":0,\"kind\":null,\"kind_value\":0,"
    "\"major\":0,\"major_name\":null,\"minor\":0,\"minor_name\":null,\"depth\":0,\"filter\":"
    "\"Scanner\",\"instance\":null,\"altitude\":null,\"volume\":null,\"status\":0,\"status_name\":"
    "\"STATUS_SUCCESS\",\"information\":3,\"flags\":0,\"process_id\":1234,\"thread_id\":1235,"
    "\"irql\":0,\"irql_name\":\"PASSIVE_LEVEL\",\"detail\":null,\"rule\":null,\"port\":"
    "\"\\\\ScannerPort\",\"in_size\":3,\"out_size\":8}\n"
    "{\"type\":\"port_get\",\"type_value\":26,\"op_id\":0,\"kind\":null,\"kind_value\":0,\"major\":"
    "0,\"major_name\":null,\"minor\":0,\"minor_name\":null,\"depth\":0,\"filter\":\"Scanner\","
    "\"instance\":null,\"altitude\":null,\"volume\":null,\"status\":0,\"status_name\":null,"
    "\"information\":0,\"flags\":0,\"process_id\":1234,\"thread_id\":1235,\"irql\":0,\"irql_name\":"
    "\"PASSIVE_LEVEL\",\"detail\":null,\"rule\":null,\"port\":\"\\\\ScannerPort\",\"message_id\":1,"
    "\"in_size\":8,\"out_size\":16}\n"
    "{\"type\":\"port_reply\",\"type_value\":27,\"op_id\":0,\"kind\":null,\"kind_value\":0,"
    "\"major\":0,\"major_name\":null,\"minor\":0,\"minor_name\":null,\"depth\":0,\"filter\":"
    "\"Scanner\",\"instance\":null,\"altitude\":null,\"volume\":null,\"status\":0,\"status_name\":"
    "\"STATUS_SUCCESS\",\"information\":0,\"flags\":0,\"process_id\":1234,\"thread_id\":1235,"
    "\"irql\":0,\"irql_name\":\"PASSIVE_LEVEL\",\"detail\":null,\"rule\":null,\"port\":"
    "\"\\\\ScannerPort\",\"message_id\":1,\"in_size\":4,\"out_size\":16}\n"
    "{\"type\":\"port_send\",\"type_value\":25,\"op_id\":0,\"kind\":null,\"kind_value\":0,"
    "\"major\":0,\"major_name\":null,\"minor\":0,\"minor_name\":null,\"depth\":0,\"filter\":"
    "\"Scanner\",\"instance\":null,\"altitude\":null,\"volume\":null,\"status\":0,\"status_name\":"
    "\"STATUS_SUCCESS\",\"information\":4,\"flags\":1,\"process_id\":1234,\"thread_id\":7,\"irql\":"
    "0,\"irql_name\":\"PASSIVE_LEVEL\",\"detail\":null,\"rule\":null,\"port\":\"\\\\ScannerPort\","
    "\"message_id\":1,\"in_size\":8,\"out_size\":16}\n"
    "{\"type\":\"port_send\",\"type_value\":25,\"op_id\":0,\"kind\":null,\"kind_value\":0,"
    "\"major\":0,\"major_name\":null,\"minor\":0,\"minor_name\":null,\"depth\":0,\"filter\":"
    "\"Scanner\",\"instance\":null,\"altitude\":null,\"volume\":null,\"status\":258,\"status_"
    "name\":\"STATUS_TIMEOUT\",\"information\":0,\"flags\":2,\"process_id\":1234,\"thread_id\":7,"
    "\"irql\":0,\"irql_name\":\"PASSIVE_LEVEL\",\"detail\":null,\"rule\":null,\"port\":"
    "\"\\\\ScannerPort\",\"message_id\":2,\"in_size\":1,\"out_size\":0}\n"
    "{\"type\":\"port_reply\",\"type_value\":27,\"op_id\":0,\"kind\":null,\"kind_value\":0,"
    "\"major\":0,\"major_name\":null,\"minor\":0,\"minor_name\":null,\"depth\":0,\"filter\":"
    "\"Scanner\",\"instance\":null,\"altitude\":null,\"volume\":null,\"status\":3223060512,"
    "\"status_name\":\"STATUS_FLT_NO_WAITER_FOR_REPLY\",\"information\":0,\"flags\":0,\"process_"
    "id\":1234,\"thread_id\":1235,\"irql\":0,\"irql_name\":\"PASSIVE_LEVEL\",\"detail\":null,"
    "\"rule\":null,\"port\":\"\\\\ScannerPort\",\"message_id\":2,\"in_size\":4,\"out_size\":0}\n"
    "{\"type\":\"port_connect\",\"type_value\":22,\"op_id\":0,\"kind\":null,\"kind_value\":0,"
    "\"major\":0,\"major_name\":null,\"minor\":0,\"minor_name\":null,\"depth\":0,\"filter\":"
    "\"Scanner\",\"instance\":null,\"altitude\":null,\"volume\":null,\"status\":3221225506,"
    "\"status_name\":\"STATUS_ACCESS_DENIED\",\"information\":0,\"flags\":0,\"process_id\":1300,"
    "\"thread_id\":1301,\"irql\":0,\"irql_name\":\"PASSIVE_LEVEL\",\"detail\":null,\"rule\":null,"
    "\"port\":\"\\\\ScannerPort\",\"in_size\":0,\"out_size\":0}\n"
    "{\"type\":\"port_disconnect\",\"type_value\":23,\"op_id\":0,\"kind\":null,\"kind_value\":0,"
    "\"major\":0,\"major_name\":null,\"minor\":0,\"minor_name\":null,\"depth\":0,\"filter\":"
    "\"Scanner\",\"instance\":null,\"altitude\":null,\"volume\":null,\"status\":0,\"status_name\":"
    "null,\"information\":0,\"flags\":0,\"process_id\":1234,\"thread_id\":1235,\"irql\":0,\"irql_"
    "name\":\"PASSIVE_LEVEL\",\"detail\":null,\"rule\":null,\"port\":\"\\\\ScannerPort\",\"in_"
    "size\":0,\"out_size\":0}\n";

static const char ports_mermaid[] =
    "```mermaid\n"
    "%%{init: {\"sequence\": {\"wrap\": true}}}%%\n"
    "sequenceDiagram\n"
    "    participant P1234 as process 1234\n"
    "    participant P1300 as process 1300\n"
    "    participant IO as I/O manager\n"
    "    participant F1 as Scanner\n"
    "    P1234->>F1: connect \\ScannerPort → STATUS_SUCCESS\n"
    "    P1234->>F1: FilterSendMessage \\ScannerPort 3 bytes, out 8 → STATUS_SUCCESS, 3 returned\n"
    "    Note over P1234: FilterGetMessage → message 1, 8 bytes\n"
    "    P1234-->>F1: FilterReplyMessage message 1, 4 bytes → STATUS_SUCCESS\n"
    "    F1-)P1234: FltSendMessage message 1 \\ScannerPort 8 bytes, reply room 16 → "
    "STATUS_SUCCESS, reply 4 bytes\n"
    "    F1-)P1234: FltSendMessage message 2 \\ScannerPort 1 bytes, timeout → STATUS_TIMEOUT\n"
    "    P1234-->>F1: FilterReplyMessage message 2, 4 bytes → STATUS_FLT_NO_WAITER_FOR_REPLY\n"
    "    P1300->>F1: connect \\ScannerPort → STATUS_ACCESS_DENIED\n"
    "    P1234-xF1: CloseHandle \\ScannerPort\n"
    "```\n";

static const char ports_normalized[] =
    "port_connect filter=\"Scanner\" status=STATUS_SUCCESS process=1234 thread=T1 "
    "irql=PASSIVE_LEVEL port=\"\\\\ScannerPort\" in=6 out=0\n"
    "port_message filter=\"Scanner\" status=STATUS_SUCCESS information=3 process=1234 thread=T1 "
    "irql=PASSIVE_LEVEL port=\"\\\\ScannerPort\" in=3 out=8\n"
    "port_get filter=\"Scanner\" process=1234 thread=T1 irql=PASSIVE_LEVEL "
    "port=\"\\\\ScannerPort\" message=1 in=8 out=16\n"
    "port_reply filter=\"Scanner\" status=STATUS_SUCCESS process=1234 thread=T1 irql=PASSIVE_LEVEL "
    "port=\"\\\\ScannerPort\" message=1 in=4 out=16\n"
    "port_send filter=\"Scanner\" status=STATUS_SUCCESS information=4 flags=0x1 process=1234 "
    "thread=T2 irql=PASSIVE_LEVEL port=\"\\\\ScannerPort\" message=1 in=8 out=16\n"
    "port_send filter=\"Scanner\" status=STATUS_TIMEOUT information=0 flags=0x2 process=1234 "
    "thread=T2 irql=PASSIVE_LEVEL port=\"\\\\ScannerPort\" message=2 in=1 out=0\n"
    "port_reply filter=\"Scanner\" status=STATUS_FLT_NO_WAITER_FOR_REPLY process=1234 thread=T1 "
    "irql=PASSIVE_LEVEL port=\"\\\\ScannerPort\" message=2 in=4 out=0\n"
    "port_connect filter=\"Scanner\" status=STATUS_ACCESS_DENIED process=1300 thread=T3 "
    "irql=PASSIVE_LEVEL port=\"\\\\ScannerPort\" in=0 out=0\n"
    "port_disconnect filter=\"Scanner\" flags=0x0 process=1234 thread=T1 irql=PASSIVE_LEVEL "
    "port=\"\\\\ScannerPort\" in=0 out=0\n";

static void check_format(enum fltsim_trace_format format, const char *expected)
{
    struct capture c;
    assert_string_equal(feed_format(&c, format), expected);
    capture_close(&c);
}

static void text_port_events(void **state)
{
    (void)state;
    check_format(FLTSIM_TRACE_TEXT, ports_text);
}

static void jsonl_port_events(void **state)
{
    (void)state;
    check_format(FLTSIM_TRACE_JSONL, ports_jsonl);
}

static void mermaid_port_events(void **state)
{
    (void)state;
    check_format(FLTSIM_TRACE_MERMAID, ports_mermaid);
    /* a step's note spans the program too */
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_MERMAID, 0);
    fltsim_trace_sink_note(c.sink, "connect");
    struct fltsim_event ev = port_event(FLTSIM_EV_PORT_CONNECT, 1234, STATUS_SUCCESS);
    fltsim_trace_sink_event(c.sink, &ev);
    assert_non_null(strstr(capture_text(&c), "    Note over P1234,F1: connect\n"
                                             "    P1234->>F1: connect \\ScannerPort → "
                                             "STATUS_SUCCESS\n"));
    capture_close(&c);
}

static void normalized_port_events(void **state)
{
    (void)state;
    check_format(FLTSIM_TRACE_NORMALIZED, ports_normalized);
}

/* ---- the real model ---- */

struct fixture {
    struct test_world w;
    struct tf_filter a;
    struct capture c[4];
    struct fltsim_trace_tee tee;
    PFLT_PORT server;
    PFLT_PORT client;
    bool refuse;
};

static struct fixture *fx;

static NTSTATUS FLTAPI on_connect(PFLT_PORT client, PVOID server_cookie, PVOID context, ULONG size,
                                  PVOID *cookie)
{
    (void)server_cookie, (void)context, (void)size;
    if (fx->refuse)
        return STATUS_ACCESS_DENIED;
    __atomic_store_n(&fx->client, client, __ATOMIC_SEQ_CST);
    *cookie = fx;
    return STATUS_SUCCESS;
}

static VOID FLTAPI on_disconnect(PVOID cookie)
{
    (void)cookie;
    FltCloseClientPort(fx->a.filter, &fx->client);
}

static NTSTATUS FLTAPI on_message(PVOID cookie, PVOID in, ULONG in_len, PVOID out, ULONG out_len,
                                  PULONG returned)
{
    (void)cookie, (void)in;
    *returned = in_len < out_len ? in_len : out_len;
    memset(out, 'x', *returned);
    return STATUS_SUCCESS;
}

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    fx = &f;
    tf_reset_all();
    world_create(&f.w, 0);
    for (int i = 0; i < 4; i++) {
        capture_open(&f.c[i], (enum fltsim_trace_format)i, 0);
        f.tee.sinks[i] = f.c[i].sink;
    }
    fltsim_system_set_trace(f.w.sys, fltsim_trace_tee_event, &f.tee);
    tf_init(&f.a, "A", "300000");
    assert_status(tf_load(f.w.sys, &f.a), STATUS_SUCCESS);
    UNICODE_STRING name = ustr(L"\\TestPort");
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
    assert_status(FltCreateCommunicationPort(f.a.filter, &f.server, &oa, NULL, on_connect,
                                             on_disconnect, on_message, 1),
                  STATUS_SUCCESS);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (fx->server != NULL)
        FltCloseCommunicationPort(fx->server);
    world_destroy(&fx->w);
    for (int i = 0; i < 4; i++)
        capture_close(&fx->c[i]);
    return 0;
}

/* The user program: connects, sends the filter a message, gets one and
 * replies; keeps its handle for close_program. */
struct program {
    const WCHAR *name;
    bool talk;
    HANDLE port;
    HRESULT connect, send, get, reply;
};

static void program_main(void *ctx)
{
    struct program *p = ctx;
    p->connect = FilterConnectCommunicationPort(p->name, 0, "hello", 6, NULL, &p->port);
    if (FAILED(p->connect) || !p->talk)
        return;
    char out[8];
    DWORD n = 0;
    p->send = FilterSendMessage(p->port, (char[]){"abc"}, 3, out, sizeof(out), &n);
    struct {
        FILTER_MESSAGE_HEADER h;
        char data[32];
    } msg;
    p->get = FilterGetMessage(p->port, &msg.h, sizeof(msg), NULL);
    struct {
        FILTER_REPLY_HEADER h;
        char data[4];
    } reply = {.h.MessageId = msg.h.MessageId, .data = "yes"};
    p->reply = FilterReplyMessage(p->port, &reply.h, (DWORD)sizeof(FILTER_REPLY_HEADER) + 4);
}

static void run_program(struct program *p, ULONG process, bool wait)
{
    fltsim_thread *t = NULL;
    assert_status(fltsim_thread_spawn(fx->w.sys, process, process + 1, program_main, p, &t),
                  STATUS_SUCCESS);
    if (wait)
        fltsim_thread_join(t);
    else
        while (__atomic_load_n(&fx->client, __ATOMIC_SEQ_CST) == NULL) {
            LARGE_INTEGER d = {.QuadPart = -10000}; /* 1 ms: let it connect */
            KeDelayExecutionThread(KernelMode, FALSE, &d);
        }
    if (!wait) {
        char reply[8];
        ULONG len = sizeof(reply);
        assert_status(
            FltSendMessage(fx->a.filter, &fx->client, (char[]){"scan me"}, 8, reply, &len, NULL),
            STATUS_SUCCESS);
        fltsim_thread_join(t);
    }
}

static void close_program(void *ctx)
{
    assert_true(CloseHandle(((struct program *)ctx)->port));
}

static void model_traces_a_connection(void **state)
{
    (void)state;
    struct program p = {.name = L"\\TestPort", .talk = true};
    run_program(&p, 2000, false);
    assert_int_equal(p.connect, S_OK);
    assert_int_equal(p.send, S_OK);
    assert_int_equal(p.get, S_OK);
    assert_int_equal(p.reply, S_OK);
    /* no program waiting: a zero timeout times out at once */
    LARGE_INTEGER zero = {.QuadPart = 0};
    assert_status(FltSendMessage(fx->a.filter, &fx->client, (char[]){"x"}, 1, NULL, NULL, &zero),
                  STATUS_TIMEOUT);
    /* max connections 1: a second program is refused; a name no port has */
    struct program q = {.name = L"\\TestPort"}, r = {.name = L"\\NoSuchPort"};
    run_program(&q, 3000, true);
    run_program(&r, 3000, true);
    assert_int_equal(r.connect, (HRESULT)0x80070002);
    fltsim_thread *t = NULL;
    assert_status(fltsim_thread_spawn(fx->w.sys, 2000, 2002, close_program, &p, &t),
                  STATUS_SUCCESS);
    fltsim_thread_join(t);
    assert_null(fx->client);

    const char *norm = capture_text(&fx->c[FLTSIM_TRACE_NORMALIZED]);
    EXPECT_LINE(norm, "port_connect filter=\"A\" status=STATUS_SUCCESS process=2000 ",
                "port=\"\\\\TestPort\" in=6 out=0");
    EXPECT_LINE(norm, "port_message filter=\"A\" status=STATUS_SUCCESS information=3 process=2000 ",
                "port=\"\\\\TestPort\" in=3 out=8");
    EXPECT_LINE(norm, "port_get filter=\"A\" process=2000 ",
                "port=\"\\\\TestPort\" message=1 in=8 out=8");
    EXPECT_LINE(norm, "port_reply filter=\"A\" status=STATUS_SUCCESS process=2000 ",
                "port=\"\\\\TestPort\" message=1 in=4 out=8");
    EXPECT_LINE(norm,
                "port_send filter=\"A\" status=STATUS_SUCCESS information=4 flags=0x1 "
                "process=2000 ",
                "port=\"\\\\TestPort\" message=1 in=8 out=8");
    EXPECT_LINE(norm,
                "port_send filter=\"A\" status=STATUS_TIMEOUT information=0 flags=0x2 "
                "process=2000 ",
                "message=0 in=1 out=0");
    EXPECT_LINE(norm,
                "port_connect filter=\"A\" status=STATUS_CONNECTION_COUNT_LIMIT process=3000 ");
    EXPECT_LINE(norm, "port_connect status=STATUS_OBJECT_NAME_NOT_FOUND process=3000 ",
                "port=\"\\\\NoSuchPort\"");
    EXPECT_LINE(norm, "port_disconnect filter=\"A\" flags=0x0 process=2000 ");
    assert_null(strstr(norm, "0x7f")); /* no pointers */

    const char *text = capture_text(&fx->c[FLTSIM_TRACE_TEXT]);
    EXPECT_LINE(text, "[port] process 2000 connects to \\TestPort of A (context 6 bytes): "
                      "STATUS_SUCCESS");
    EXPECT_LINE(text, "[port] process 2000 sends a message to \\TestPort of A (3 bytes in, 8 out)");
    EXPECT_LINE(text, "[port] process 2000 gets message 1 on \\TestPort of A (8 bytes, reply "
                      "room 8)");
    EXPECT_LINE(text, "[port] process 2000 replies to message 1 on \\TestPort of A (4 bytes)");
    EXPECT_LINE(text, "[port] A sends message 1 to process 2000 on \\TestPort (8 bytes, reply "
                      "room 8, no timeout): STATUS_SUCCESS, reply 4 bytes");
    EXPECT_LINE(text, "(1 bytes, no reply, timeout): STATUS_TIMEOUT");
    EXPECT_LINE(text, "[port] process 2000 disconnects from \\TestPort of A (the program closed");

    const char *jsonl = capture_text(&fx->c[FLTSIM_TRACE_JSONL]);
    EXPECT_LINE(jsonl, "{\"type\":\"port_connect\"", "\"process_id\":2000",
                "\"port\":\"\\\\TestPort\",\"in_size\":6,\"out_size\":0}");
    EXPECT_LINE(jsonl, "{\"type\":\"port_message\"", "\"information\":3",
                "\"in_size\":3,\"out_size\":8}");
    EXPECT_LINE(jsonl, "{\"type\":\"port_get\"", "\"message_id\":1,\"in_size\":8,\"out_size\":8}");
    EXPECT_LINE(jsonl, "{\"type\":\"port_reply\"", "\"message_id\":1,\"in_size\":4");
    EXPECT_LINE(jsonl, "{\"type\":\"port_send\"", "\"status_name\":\"STATUS_TIMEOUT\"",
                "\"flags\":2");
    EXPECT_LINE(jsonl, "{\"type\":\"port_disconnect\"", "\"process_id\":2000");

    const char *mermaid = capture_text(&fx->c[FLTSIM_TRACE_MERMAID]);
    EXPECT_LINE(mermaid, "    participant P2000 as process 2000");
    EXPECT_LINE(mermaid, "    participant P3000 as process 3000");
    EXPECT_LINE(mermaid, "    P2000->>F1: connect \\TestPort → STATUS_SUCCESS");
    EXPECT_LINE(mermaid, "    P2000->>F1: FilterSendMessage \\TestPort 3 bytes, out 8 → "
                         "STATUS_SUCCESS, 3 returned");
    EXPECT_LINE(mermaid, "    Note over P2000: FilterGetMessage → message 1, 8 bytes");
    EXPECT_LINE(mermaid, "    P2000-->>F1: FilterReplyMessage message 1, 4 bytes → STATUS_SUCCESS");
    EXPECT_LINE(mermaid, "    F1-)P2000: FltSendMessage message 1 \\TestPort 8 bytes, reply room 8 "
                         "→ STATUS_SUCCESS, reply 4 bytes");
    EXPECT_LINE(mermaid, "    P3000->>F1: connect \\TestPort → STATUS_CONNECTION_COUNT_LIMIT");
    EXPECT_LINE(mermaid, "    P3000->>IO: connect \\NoSuchPort → STATUS_OBJECT_NAME_NOT_FOUND");
    EXPECT_LINE(mermaid, "    P2000-xF1: CloseHandle \\TestPort");
}

/* The filter ends a connection (FltCloseClientPort), a ConnectNotify
 * refuses one, and an unload ends the last. */
static void model_traces_filter_ends(void **state)
{
    (void)state;
    struct program p = {.name = L"\\TestPort"};
    run_program(&p, 2000, true);
    assert_int_equal(p.connect, S_OK);
    FltCloseClientPort(fx->a.filter, &fx->client);
    fx->refuse = true;
    struct program q = {.name = L"\\TestPort"};
    run_program(&q, 2000, true);
    assert_int_equal(q.connect, HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED));
    fx->refuse = false;
    struct program r = {.name = L"\\TestPort"};
    run_program(&r, 4000, true);
    assert_int_equal(r.connect, S_OK);
    FltCloseCommunicationPort(fx->server);
    fx->server = NULL;
    assert_status(fltsim_driver_unload(fx->a.driver, 0), STATUS_SUCCESS);
    CloseHandle(p.port);
    CloseHandle(r.port); /* ended already: no second event */

    const char *norm = capture_text(&fx->c[FLTSIM_TRACE_NORMALIZED]);
    EXPECT_LINE(norm, "port_disconnect filter=\"A\" flags=0x1 process=2000 ");
    EXPECT_LINE(norm, "port_connect filter=\"A\" status=STATUS_ACCESS_DENIED process=2000 ");
    EXPECT_LINE(norm, "port_disconnect filter=\"A\" flags=0x2 process=4000 ");
    const char *after = strstr(norm, "flags=0x2 process=4000");
    assert_null(strstr(after, "port_disconnect"));
    const char *text = capture_text(&fx->c[FLTSIM_TRACE_TEXT]);
    EXPECT_LINE(text, "disconnects from \\TestPort of A (the filter closed the client port)");
    EXPECT_LINE(text, "[port] process 4000 disconnects from \\TestPort of A (the filter unloads)");
    const char *mermaid = capture_text(&fx->c[FLTSIM_TRACE_MERMAID]);
    EXPECT_LINE(mermaid, "    F1-xP2000: FltCloseClientPort \\TestPort");
    EXPECT_LINE(mermaid, "    P2000->>F1: connect \\TestPort → STATUS_ACCESS_DENIED");
    EXPECT_LINE(mermaid, "    F1-xP4000: unload disconnects \\TestPort");
    const char *jsonl = capture_text(&fx->c[FLTSIM_TRACE_JSONL]);
    EXPECT_LINE(jsonl, "{\"type\":\"port_disconnect\"", "\"flags\":2", "\"process_id\":4000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_port_events),
        cmocka_unit_test(jsonl_port_events),
        cmocka_unit_test(mermaid_port_events),
        cmocka_unit_test(normalized_port_events),
        cmocka_unit_test_setup_teardown(model_traces_a_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(model_traces_filter_ends, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("trace_port", tests);
}
