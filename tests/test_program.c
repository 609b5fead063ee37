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
    if (fx->w.sys != NULL)
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

/* ---- overlapped gets with an event, the hEvent low bit, CancelIoEx, a
 * get too small, the handle closed with a get pending ---- */

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            printf("line %d: %s (last error %lu)\n", __LINE__, #x, GetLastError());                \
            return __LINE__;                                                                       \
        }                                                                                          \
    } while (0)

static int reply_to(struct request *r)
{
    struct reply rep;
    memset(&rep, 0, sizeof(rep));
    rep.header.MessageId = r->header.MessageId;
    return SUCCEEDED(FilterReplyMessage(prog_port, &rep.header, sizeof(rep)));
}

static int overlapped_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    CHECK(SUCCEEDED(FilterConnectCommunicationPort(L"\\ProgPort", 0, NULL, 0, NULL, &prog_port)));
    DWORD size = FIELD_OFFSET(struct request, ov), bytes = 0;
    struct request r;
    memset(&r, 0, sizeof(r));
    /* An event and no completion port: the event is reset by the call and
     * set at delivery; GetOverlappedResult tells. */
    HANDLE ev = CreateEventW(NULL, TRUE, TRUE, NULL);
    r.ov.hEvent = ev;
    CHECK(FilterGetMessage(prog_port, &r.header, size, &r.ov) ==
          HRESULT_FROM_WIN32(ERROR_IO_PENDING));
    CHECK(WaitForSingleObject(ev, 0) == WAIT_TIMEOUT);
    CHECK(!GetOverlappedResult(prog_port, &r.ov, &bytes, FALSE));
    CHECK(GetLastError() == ERROR_IO_INCOMPLETE);
    printf("pending one\n");
    CHECK(WaitForSingleObject(ev, INFINITE) == WAIT_OBJECT_0);
    CHECK(GetOverlappedResult(prog_port, &r.ov, &bytes, TRUE));
    CHECK(bytes == sizeof(FILTER_MESSAGE_HEADER) + 4 && strcmp(r.data, "one") == 0);
    CHECK(reply_to(&r));
    /* The hEvent's low bit: the event is set, no packet is queued. */
    prog_completion = CreateIoCompletionPort(prog_port, NULL, 5, 0);
    CHECK(prog_completion != NULL);
    r.ov.hEvent = (HANDLE)((ULONG_PTR)ev | 1);
    CHECK(FilterGetMessage(prog_port, &r.header, size, &r.ov) ==
          HRESULT_FROM_WIN32(ERROR_IO_PENDING));
    printf("pending two\n");
    CHECK(WaitForSingleObject(ev, INFINITE) == WAIT_OBJECT_0);
    ULONG_PTR key = 0;
    LPOVERLAPPED got = NULL;
    CHECK(!GetQueuedCompletionStatus(prog_completion, &bytes, &key, &got, 0));
    CHECK(GetLastError() == WAIT_TIMEOUT && got == NULL);
    CHECK(GetOverlappedResult(prog_port, &r.ov, &bytes, FALSE) && strcmp(r.data, "two") == 0);
    CHECK(reply_to(&r));
    /* CancelIoEx: the get fails with ERROR_OPERATION_ABORTED, its packet says so. */
    memset(&r.ov, 0, sizeof(r.ov));
    CHECK(FilterGetMessage(prog_port, &r.header, size, &r.ov) ==
          HRESULT_FROM_WIN32(ERROR_IO_PENDING));
    CHECK(CancelIoEx(prog_port, &r.ov));
    CHECK(!GetQueuedCompletionStatus(prog_completion, &bytes, &key, &got, 0));
    CHECK(GetLastError() == ERROR_OPERATION_ABORTED && got == &r.ov && key == 5);
    CHECK(!GetOverlappedResult(prog_port, &r.ov, &bytes, TRUE));
    CHECK(GetLastError() == ERROR_OPERATION_ABORTED);
    CHECK(!CancelIoEx(prog_port, &r.ov) && GetLastError() == ERROR_NOT_FOUND);
    CHECK(!CancelIoEx((HANDLE)(ULONG_PTR)0x7ffc, NULL) && GetLastError() == ERROR_INVALID_HANDLE);
    /* Too small for the message: the get fails, the message stays queued. */
    struct request small;
    memset(&small, 0, sizeof(small));
    small.ov.hEvent = ev;
    CHECK(FilterGetMessage(prog_port, &small.header, sizeof(FILTER_MESSAGE_HEADER) + 2,
                           &small.ov) == HRESULT_FROM_WIN32(ERROR_IO_PENDING));
    printf("pending small\n");
    CHECK(WaitForSingleObject(ev, INFINITE) == WAIT_OBJECT_0);
    CHECK(!GetOverlappedResult(prog_port, &small.ov, &bytes, FALSE));
    CHECK(GetLastError() == ERROR_INSUFFICIENT_BUFFER);
    CHECK(!GetQueuedCompletionStatus(prog_completion, &bytes, &key, &got, 0));
    CHECK(GetLastError() == ERROR_INSUFFICIENT_BUFFER && got == &small.ov);
    memset(&r.ov, 0, sizeof(r.ov));
    CHECK(FilterGetMessage(prog_port, &r.header, size, &r.ov) ==
          HRESULT_FROM_WIN32(ERROR_IO_PENDING));
    CHECK(GetQueuedCompletionStatus(prog_completion, &bytes, &key, &got, INFINITE));
    CHECK(got == &r.ov && strcmp(r.data, "hello") == 0);
    CHECK(reply_to(&r));
    /* The handle closed with a get pending: aborted, the filter told. */
    memset(&r.ov, 0, sizeof(r.ov));
    r.ov.hEvent = ev;
    CHECK(FilterGetMessage(prog_port, &r.header, size, &r.ov) ==
          HRESULT_FROM_WIN32(ERROR_IO_PENDING));
    CHECK(CloseHandle(prog_port));
    CHECK(WaitForSingleObject(ev, 0) == WAIT_OBJECT_0);
    CHECK(!GetOverlappedResult(prog_port, &r.ov, &bytes, FALSE));
    CHECK(GetLastError() == ERROR_OPERATION_ABORTED);
    CHECK(!CloseHandle(prog_port) && GetLastError() == ERROR_INVALID_HANDLE);
    CloseHandle(prog_completion);
    CloseHandle(ev);
    return 0;
}

static void test_overlapped_gets(void **state)
{
    (void)state;
    fltsim_process *p = start(overlapped_main);
    const char *steps[][2] = {
        {"pending one", "one"}, {"pending two", "two"}, {"pending small", "hello"}};
    for (int i = 0; i < 3; i++) {
        assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_OUTPUT, steps[i][0], 10000),
                      STATUS_SUCCESS);
        char reply[sizeof(struct reply)];
        ULONG len = sizeof(struct reply) - sizeof(FILTER_REPLY_HEADER);
        assert_status(send(steps[i][1], reply, &len), STATUS_SUCCESS);
    }
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    ULONG code = 1;
    assert_true(fltsim_process_exited(p, &code));
    if (code != 0) {
        char out[512];
        fltsim_process_output(p, out, sizeof(out));
        print_message("%s", out);
    }
    assert_int_equal(code, 0);
    assert_int_equal(fx->disconnects, 1);
    fltsim_process_free(p);
}

/* ---- a kill with a get pending whose OVERLAPPED is on a thread's stack ---- */

static DWORD WINAPI stack_getter(LPVOID arg)
{
    struct request r; /* gone with the thread: the get must be over before */
    memset(&r, 0, sizeof(r));
    r.ov.hEvent = arg;
    FilterGetMessage(prog_port, &r.header, FIELD_OFFSET(struct request, ov), &r.ov);
    printf("stack get\n");
    WaitForSingleObject(arg, INFINITE);
    return 0;
}

static int stack_get_main(int argc, char **argv)
{
    (void)argc;
    if (FAILED(FilterConnectCommunicationPort(L"\\ProgPort", 0, NULL, 0, NULL, &prog_port)))
        return 2;
    if (argv[1] != NULL) /* "iocp": the handle is associated with a completion port */
        prog_completion = CreateIoCompletionPort(prog_port, NULL, 0, 0);
    HANDLE never = CreateEventW(NULL, TRUE, FALSE, NULL);
    /* Two wait to be killed: their gets end before their frames go. */
    HANDLE t[2] = {CreateThread(NULL, 0, stack_getter, never, 0, NULL),
                   CreateThread(NULL, 0, stack_getter, never, 0, NULL)};
    WaitForMultipleObjects(2, t, TRUE, INFINITE);
    return 0;
}

static void test_kill_with_stack_overlapped(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++) {
        const char *iocp_arg[] = {"iocp"};
        struct fltsim_process_params params = {
            .name = "stackget.exe", .main = stack_get_main, .argc = i, .argv = iocp_arg};
        fltsim_process *p;
        assert_status(fltsim_process_start(fx->w.sys, &params, &p), STATUS_SUCCESS);
        assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_IDLE, NULL, 10000), STATUS_SUCCESS);
        assert_status(fltsim_process_terminate(p, 3), STATUS_SUCCESS);
        assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
        fltsim_process_free(p);
        assert_int_equal(fx->disconnects, i + 1);
    }
}

/* ---- CancelIo cancels the calling thread's gets only, CancelIoEx every thread's ---- */

static OVERLAPPED worker_ov;
static struct request worker_req;
static HANDLE worker_ready, worker_done;

static DWORD WINAPI issues_get(LPVOID arg)
{
    (void)arg;
    memset(&worker_ov, 0, sizeof(worker_ov));
    FilterGetMessage(prog_port, &worker_req.header, FIELD_OFFSET(struct request, ov), &worker_ov);
    SetEvent(worker_ready);
    WaitForSingleObject(worker_done, INFINITE);
    return 0;
}

static DWORD WINAPI get_then_exit(LPVOID arg)
{
    memset(&worker_ov, 0, sizeof(worker_ov));
    worker_ov.hEvent = arg;
    FilterGetMessage(prog_port, &worker_req.header, FIELD_OFFSET(struct request, ov), &worker_ov);
    ExitThread(5);
}

static int cancel_io_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    CHECK(SUCCEEDED(FilterConnectCommunicationPort(L"\\ProgPort", 0, NULL, 0, NULL, &prog_port)));
    worker_ready = CreateEventW(NULL, FALSE, FALSE, NULL);
    worker_done = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE t = CreateThread(NULL, 0, issues_get, NULL, 0, NULL);
    CHECK(WaitForSingleObject(worker_ready, INFINITE) == WAIT_OBJECT_0);
    DWORD bytes = 0;
    /* Nothing of this thread's: TRUE, the worker's get stays. */
    CHECK(CancelIo(prog_port));
    CHECK(!GetOverlappedResult(prog_port, &worker_ov, &bytes, FALSE));
    CHECK(GetLastError() == ERROR_IO_INCOMPLETE);
    struct request mine;
    memset(&mine, 0, sizeof(mine));
    CHECK(FilterGetMessage(prog_port, &mine.header, FIELD_OFFSET(struct request, ov), &mine.ov) ==
          HRESULT_FROM_WIN32(ERROR_IO_PENDING));
    CHECK(CancelIo(prog_port));
    CHECK(!GetOverlappedResult(prog_port, &mine.ov, &bytes, FALSE));
    CHECK(GetLastError() == ERROR_OPERATION_ABORTED);
    CHECK(!GetOverlappedResult(prog_port, &worker_ov, &bytes, FALSE));
    CHECK(GetLastError() == ERROR_IO_INCOMPLETE);
    /* CancelIoEx: whichever thread issued it. */
    CHECK(CancelIoEx(prog_port, NULL));
    CHECK(!GetOverlappedResult(prog_port, &worker_ov, &bytes, FALSE));
    CHECK(GetLastError() == ERROR_OPERATION_ABORTED);
    SetEvent(worker_done);
    CHECK(WaitForSingleObject(t, INFINITE) == WAIT_OBJECT_0);
    CloseHandle(t);
    /* A thread's gets (no completion port) end with it: aborted. */
    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    t = CreateThread(NULL, 0, get_then_exit, ev, 0, NULL);
    CHECK(WaitForSingleObject(ev, 5000) == WAIT_OBJECT_0);
    CHECK(!GetOverlappedResult(prog_port, &worker_ov, &bytes, FALSE));
    CHECK(GetLastError() == ERROR_OPERATION_ABORTED);
    CHECK(WaitForSingleObject(t, INFINITE) == WAIT_OBJECT_0);
    CloseHandle(t);
    CloseHandle(ev);
    CloseHandle(prog_port);
    return 0;
}

static void test_cancel_io_is_the_callers(void **state)
{
    (void)state;
    fltsim_process *p = start(cancel_io_main);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    ULONG code = 1;
    assert_true(fltsim_process_exited(p, &code));
    if (code != 0) {
        char out[512];
        fltsim_process_output(p, out, sizeof(out));
        print_message("%s", out);
    }
    assert_int_equal(code, 0);
    fltsim_process_free(p);
}

/* ---- a port handle and an event used by another process ---- */

static HANDLE other_event;

static int holder_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    CHECK(SUCCEEDED(FilterConnectCommunicationPort(L"\\ProgPort", 0, NULL, 0, NULL, &prog_port)));
    other_event = CreateEventW(NULL, TRUE, TRUE, NULL);
    printf("connected\n");
    Sleep(INFINITE);
    return 0;
}

static int intruder_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct request r;
    memset(&r, 0, sizeof(r));
    DWORD size = FIELD_OFFSET(struct request, ov), bytes = 0;
    HRESULT invalid = HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
    CHECK(FilterGetMessage(prog_port, &r.header, size, NULL) == invalid);
    CHECK(FilterGetMessage(prog_port, &r.header, size, &r.ov) == invalid);
    char x[2] = "x";
    CHECK(FilterSendMessage(prog_port, x, 2, NULL, 0, &bytes) == invalid);
    struct reply rep;
    memset(&rep, 0, sizeof(rep));
    CHECK(FilterReplyMessage(prog_port, &rep.header, sizeof(rep)) == invalid);
    CHECK(CreateIoCompletionPort(prog_port, NULL, 0, 0) == NULL);
    CHECK(!CancelIoEx(prog_port, NULL) && GetLastError() == ERROR_INVALID_HANDLE);
    CHECK(!CloseHandle(prog_port) && GetLastError() == ERROR_INVALID_HANDLE);
    CHECK(WaitForSingleObject(other_event, 0) == WAIT_FAILED);
    CHECK(!SetEvent(other_event) && GetLastError() == ERROR_INVALID_HANDLE);
    return 0;
}

static void test_handles_of_another_process(void **state)
{
    (void)state;
    fltsim_process *holder = start(holder_main);
    assert_status(fltsim_process_wait(holder, FLTSIM_PROCESS_OUTPUT, "connected", 10000),
                  STATUS_SUCCESS);
    fltsim_process *intruder = start(intruder_main);
    assert_status(fltsim_process_wait(intruder, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    ULONG code = 1;
    assert_true(fltsim_process_exited(intruder, &code));
    if (code != 0) {
        char out[512];
        fltsim_process_output(intruder, out, sizeof(out));
        print_message("%s", out);
    }
    assert_int_equal(code, 0);
    assert_int_equal(fx->disconnects, 0); /* the holder's connection is untouched */
    fltsim_process_free(intruder);
    fltsim_process_free(holder);
    assert_int_equal(fx->disconnects, 1);
}

/* ---- the system destroyed while a connected process waits ---- */

static void test_system_destroyed_under_program(void **state)
{
    (void)state;
    fltsim_process *p = start(hang_main);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_IDLE, NULL, 10000), STATUS_SUCCESS);
    assert_int_equal(fx->connects, 1);
    /* Not freed: fltsim_system_destroy ends it (its DisconnectNotify runs)
     * and frees it with all it holds. */
    world_destroy(&fx->w);
    fx->w.sys = NULL;
    fx->server = NULL; /* closed with the filter */
    assert_int_equal(fx->disconnects, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_iocp_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_mid_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlapped_gets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_io_is_the_callers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handles_of_another_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_with_stack_overlapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_system_destroyed_under_program, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("program", tests);
}
