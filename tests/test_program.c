/*
 * User programs as simulated processes (fltsim/program.h, issue 19 items 2
 * and 3): a program's main runs in a process of its own; it connects to a
 * filter's port, gets messages with overlapped FilterGetMessage through an
 * I/O completion port (scanUser's pattern) or an event, replies from worker
 * threads; its console output is kept; it is waited for (exit, idle,
 * output), killed mid-message (the filter's send ends with
 * STATUS_PORT_DISCONNECTED, DisconnectNotify runs, its heap is freed) and
 * stopped with Ctrl+C; under both executors.
 */
#include <string.h>

#include "fltsim_test.h"

#include <fltUser.h>
#include <fltsim/program.h>
/* Last: the program's console and heap redirections (windows.h). */
#include <windows.h>

struct fixture {
    struct test_world w;
    struct tf_filter a;
    PFLT_PORT server;
    PFLT_PORT client;
    LONG connects, disconnects;
    ULONG connect_pid; /* PsGetCurrentProcessId in ConnectNotify */
};

static struct fixture *fx;

static NTSTATUS FLTAPI on_connect(PFLT_PORT client, PVOID server_cookie, PVOID context, ULONG size,
                                  PVOID *cookie)
{
    (void)server_cookie;
    (void)context;
    (void)size;
    fx->connect_pid = (ULONG)(ULONG_PTR)PsGetCurrentProcessId();
    __atomic_store_n(&fx->client, client, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&fx->connects, 1, __ATOMIC_SEQ_CST);
    *cookie = fx;
    return STATUS_SUCCESS;
}

static VOID FLTAPI on_disconnect(PVOID cookie)
{
    (void)cookie;
    __atomic_add_fetch(&fx->disconnects, 1, __ATOMIC_SEQ_CST);
    FltCloseClientPort(fx->a.filter, &fx->client);
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
    UNICODE_STRING name = ustr(L"\\ProgPort");
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE, NULL, NULL);
    assert_status(FltCreateCommunicationPort(f.a.filter, &f.server, &oa, NULL, on_connect,
                                             on_disconnect, NULL, 1),
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
    return 0;
}

/* ---- the program: scanUser's shape ---- */

struct request {
    FILTER_MESSAGE_HEADER header;
    char data[16];
    OVERLAPPED ov;
};

struct reply {
    FILTER_REPLY_HEADER header;
    char data[4];
};

static HANDLE prog_port, prog_completion;

static DWORD WINAPI worker(LPVOID arg)
{
    (void)arg;
    for (;;) {
        DWORD bytes;
        ULONG_PTR key;
        LPOVERLAPPED ov;
        if (!GetQueuedCompletionStatus(prog_completion, &bytes, &key, &ov, INFINITE)) {
            printf("worker: error %lu\n", GetLastError());
            return GetLastError();
        }
        struct request *r = CONTAINING_RECORD(ov, struct request, ov);
        printf("got %lu bytes: %s\n", bytes, r->data);
        struct reply rep;
        memset(&rep, 0, sizeof(rep));
        rep.header.MessageId = r->header.MessageId;
        memcpy(rep.data, r->data, 3);
        rep.data[0] = (char)(rep.data[0] ^ 0x20);
        HRESULT hr = FilterReplyMessage(prog_port, &rep.header, sizeof(rep));
        if (FAILED(hr))
            return 100;
        memset(&r->ov, 0, sizeof(r->ov));
        hr = FilterGetMessage(prog_port, &r->header, FIELD_OFFSET(struct request, ov), &r->ov);
        if (hr != HRESULT_FROM_WIN32(ERROR_IO_PENDING))
            return HRESULT_CODE(hr); /* disconnected already: ERROR_INVALID_HANDLE */
    }
}

static int scan_main(int argc, char **argv)
{
    printf("%s: %d argument(s), %ws\n", argv[0], argc - 1, L"wide");
    HRESULT hr = FilterConnectCommunicationPort(L"\\ProgPort", 0, NULL, 0, NULL, &prog_port);
    if (FAILED(hr)) {
        printf("connect: 0x%08x\n", hr);
        return 2;
    }
    prog_completion = CreateIoCompletionPort(prog_port, NULL, 0, 1);
    if (prog_completion == NULL)
        return 3;
    struct request *requests = calloc(2, sizeof(struct request)); /* freed by a kill too */
    HANDLE thread = CreateThread(NULL, 0, worker, NULL, 0, NULL);
    for (int i = 0; i < 2; i++) {
        hr = FilterGetMessage(prog_port, &requests[i].header, FIELD_OFFSET(struct request, ov),
                              &requests[i].ov);
        if (hr != HRESULT_FROM_WIN32(ERROR_IO_PENDING))
            return 4;
    }
    WaitForSingleObject(thread, INFINITE);
    DWORD code = 0;
    GetExitCodeThread(thread, &code);
    printf("worker ended: %lu\n", code);
    CloseHandle(thread);
    CloseHandle(prog_port);
    CloseHandle(prog_completion);
    free(requests);
    return (int)code;
}

static fltsim_process *start(fltsim_main_fn fn)
{
    struct fltsim_process_params p = {.name = "scan.exe", .main = fn};
    fltsim_process *proc;
    assert_status(fltsim_process_start(fx->w.sys, &p, &proc), STATUS_SUCCESS);
    return proc;
}

static NTSTATUS send(const char *text, char *reply, ULONG *len)
{
    return FltSendMessage(fx->a.filter, &fx->client, (PVOID)text, (ULONG)strlen(text) + 1, reply,
                          len, NULL);
}

/* Messages go and replies come back through the completion port; the
 * filter unloading ends the worker (ERROR_INVALID_HANDLE), main returns. */
static void test_iocp_round_trips(void **state)
{
    (void)state;
    fltsim_process *p = start(scan_main);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_IDLE, NULL, 10000), STATUS_SUCCESS);
    assert_int_equal(fx->connect_pid, fltsim_process_id(p));
    assert_int_equal(fltsim_process_id(p), 2000);
    for (int i = 0; i < 5; i++) {
        /* The program replies sizeof(struct reply): its padding included. */
        char reply[sizeof(struct reply)];
        ULONG len = sizeof(struct reply) - sizeof(FILTER_REPLY_HEADER);
        char msg[8];
        snprintf(msg, sizeof(msg), "m%d", i);
        assert_status(send(msg, reply, &len), STATUS_SUCCESS);
        assert_int_equal(len, sizeof(struct reply) - sizeof(FILTER_REPLY_HEADER));
        assert_int_equal(reply[0], 'M');
        assert_int_equal(reply[1], '0' + i);
    }
    /* The server port closes, then the connection ends at unload. */
    FltCloseCommunicationPort(fx->server);
    fx->server = NULL;
    assert_status(fltsim_driver_unload(fx->a.driver, 0), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    ULONG code = 0;
    assert_true(fltsim_process_exited(p, &code));
    assert_int_equal(code, ERROR_INVALID_HANDLE);
    char out[512];
    fltsim_process_output(p, out, sizeof(out));
    assert_non_null(strstr(out, "scan.exe: 0 argument(s), wide\n"));
    assert_non_null(strstr(out, "got 19 bytes: m4\n"));
    assert_non_null(strstr(out, "worker ended: 6\n"));
    fltsim_process_free(p);
}

/* A kill while the filter waits for a reply: the send fails with
 * STATUS_PORT_DISCONNECTED, DisconnectNotify runs, the program's memory is
 * freed (AddressSanitizer's leak check would say otherwise). */
static DWORD WINAPI never_replies(LPVOID arg)
{
    (void)arg;
    DWORD bytes;
    ULONG_PTR key;
    LPOVERLAPPED ov;
    GetQueuedCompletionStatus(prog_completion, &bytes, &key, &ov, INFINITE);
    printf("got one, not replying\n");
    Sleep(INFINITE);
    return 0;
}

static int hang_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (FAILED(FilterConnectCommunicationPort(L"\\ProgPort", 0, NULL, 0, NULL, &prog_port)))
        return 2;
    prog_completion = CreateIoCompletionPort(prog_port, NULL, 0, 1);
    struct request *r = calloc(1, sizeof(*r));
    FilterGetMessage(prog_port, &r->header, FIELD_OFFSET(struct request, ov), &r->ov);
    HANDLE t = CreateThread(NULL, 0, never_replies, NULL, 0, NULL);
    WaitForSingleObject(t, INFINITE);
    return 0;
}

struct sender {
    NTSTATUS status;
};

static void send_thread(void *ctx)
{
    struct sender *s = ctx;
    char reply[sizeof(FILTER_REPLY_HEADER) + 4];
    ULONG len = 4;
    s->status = send("x", reply, &len);
}

static void test_kill_mid_message(void **state)
{
    (void)state;
    fltsim_process *p = start(hang_main);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_IDLE, NULL, 10000), STATUS_SUCCESS);
    struct sender s = {STATUS_PENDING};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(fx->w.sys, 1000, 1004, send_thread, &s, &t),
                  STATUS_SUCCESS);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_OUTPUT, "not replying", 10000),
                  STATUS_SUCCESS);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_IDLE, NULL, 10000), STATUS_SUCCESS);
    assert_status(fltsim_process_terminate(p, 9), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    fltsim_thread_join(t);
    assert_status(s.status, STATUS_PORT_DISCONNECTED);
    assert_int_equal(fx->disconnects, 1);
    ULONG code = 0;
    assert_true(fltsim_process_exited(p, &code));
    assert_int_equal(code, 9);
    assert_status(fltsim_process_terminate(p, 1), STATUS_PROCESS_IS_TERMINATING);
    fltsim_process_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_iocp_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_mid_message, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("program", tests);
}
