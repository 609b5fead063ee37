/*
 * Section "port" (issue 19): a round trip through a communication port. A
 * filter's FltSendMessage with a reply buffer reaches a user program's
 * thread blocked in FilterGetMessage, which answers with FilterReplyMessage;
 * timed per round trip, one at a time, under the concurrent executor (real
 * threads). Then the same with the program as a simulated process shaped
 * like Microsoft's scanUser: overlapped FilterGetMessage completing through
 * an I/O completion port to a worker thread. Baseline: the pend section's
 * round trip in the same run.
 */
#include <stdio.h>
#include <string.h>

#include <fltUser.h>
#include <uv.h>

#include "bench.h"
#include "bench_world.h"

#include <fltsim/program.h>
#include <windows.h> /* last: a program's console and heap redirections */

#define PORT_QUIT UINT32_MAX /* the sequence number that ends the program */

/* What the filter and its program share; the atomics cross real threads. */
static struct {
    PFLT_PORT client;   /* set by ConnectNotify, cleared by DisconnectNotify */
    PFLT_FILTER filter; /* the one that created the port */
    bool failed;        /* the program could not connect or answer */
} port_state;

static NTSTATUS FLTAPI port_connect(PFLT_PORT client, PVOID server_cookie, PVOID context,
                                    ULONG size, PVOID *cookie)
{
    (void)server_cookie;
    (void)context;
    (void)size;
    *cookie = NULL;
    __atomic_store_n(&port_state.client, client, __ATOMIC_SEQ_CST);
    return STATUS_SUCCESS;
}

static VOID FLTAPI port_disconnect(PVOID cookie)
{
    (void)cookie;
    FltCloseClientPort(port_state.filter, &port_state.client); /* NULL already: harmless */
}

/* The user program: answers each message with its number plus one until the
 * quit number, or until FilterGetMessage fails (the filter closed it). */
static void program_main(void *ctx)
{
    (void)ctx;
    HANDLE port = NULL;
    if (FAILED(FilterConnectCommunicationPort(L"\\BenchPort", 0, NULL, 0, NULL, &port))) {
        fprintf(stderr, "bench port: FilterConnectCommunicationPort failed\n");
        __atomic_store_n(&port_state.failed, true, __ATOMIC_SEQ_CST);
        return;
    }
    for (;;) {
        struct {
            FILTER_MESSAGE_HEADER h;
            uint32_t seq;
        } msg;
        if (FAILED(FilterGetMessage(port, &msg.h, sizeof(msg), NULL)))
            break;
        struct {
            FILTER_REPLY_HEADER h;
            uint32_t seq;
        } reply;
        memset(&reply, 0, sizeof(reply));
        reply.h.MessageId = msg.h.MessageId;
        reply.seq = msg.seq + 1;
        /* not sizeof(reply): its padding would overflow the 4-byte reply buffer */
        if (FAILED(FilterReplyMessage(port, &reply.h,
                                      sizeof(FILTER_REPLY_HEADER) + sizeof(reply.seq)))) {
            fprintf(stderr, "bench port: FilterReplyMessage failed\n");
            __atomic_store_n(&port_state.failed, true, __ATOMIC_SEQ_CST);
            break;
        }
        if (msg.seq == PORT_QUIT)
            break;
    }
    CloseHandle(port);
}

/* The same program as a simulated process, scanUser's way: two overlapped
 * gets on a completion port, a worker thread answering and re-arming. */
struct iocp_request {
    FILTER_MESSAGE_HEADER h;
    uint32_t seq;
    OVERLAPPED ov;
};

static HANDLE iocp_port, iocp_completion;

static DWORD WINAPI iocp_worker(LPVOID arg)
{
    (void)arg;
    for (;;) {
        DWORD bytes;
        ULONG_PTR key;
        LPOVERLAPPED ov;
        if (!GetQueuedCompletionStatus(iocp_completion, &bytes, &key, &ov, INFINITE))
            return GetLastError();
        struct iocp_request *r = CONTAINING_RECORD(ov, struct iocp_request, ov);
        struct {
            FILTER_REPLY_HEADER h;
            uint32_t seq;
        } reply;
        memset(&reply, 0, sizeof(reply));
        reply.h.MessageId = r->h.MessageId;
        reply.seq = r->seq + 1;
        if (FAILED(FilterReplyMessage(iocp_port, &reply.h,
                                      sizeof(FILTER_REPLY_HEADER) + sizeof(reply.seq))))
            return 1;
        if (r->seq == PORT_QUIT)
            return 0;
        memset(&r->ov, 0, sizeof(r->ov));
        if (FilterGetMessage(iocp_port, &r->h, FIELD_OFFSET(struct iocp_request, ov), &r->ov) !=
            HRESULT_FROM_WIN32(ERROR_IO_PENDING))
            return 2;
    }
}

static int iocp_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (FAILED(FilterConnectCommunicationPort(L"\\BenchPort", 0, NULL, 0, NULL, &iocp_port)))
        return 3;
    iocp_completion = CreateIoCompletionPort(iocp_port, NULL, 0, 1);
    struct iocp_request *requests = calloc(2, sizeof(*requests));
    if (iocp_completion == NULL || requests == NULL)
        return 4;
    HANDLE worker = CreateThread(NULL, 0, iocp_worker, NULL, 0, NULL);
    for (int i = 0; i < 2; i++)
        FilterGetMessage(iocp_port, &requests[i].h, FIELD_OFFSET(struct iocp_request, ov),
                         &requests[i].ov);
    WaitForSingleObject(worker, INFINITE);
    DWORD code = 1;
    GetExitCodeThread(worker, &code);
    CloseHandle(worker);
    CloseHandle(iocp_port);
    CloseHandle(iocp_completion);
    free(requests);
    return (int)code;
}

/* Sends seq and checks the answer (seq + 1). */
static bool send_one(PFLT_PORT *client, uint32_t seq)
{
    LARGE_INTEGER timeout = {.QuadPart = -10LL * 1000 * 1000 * 10}; /* 10 s: never a hang */
    uint32_t answer = 0;
    ULONG length = sizeof(answer);
    NTSTATUS status =
        FltSendMessage(port_state.filter, client, &seq, sizeof(seq), &answer, &length, &timeout);
    if (status != STATUS_SUCCESS || length != sizeof(answer) || answer != seq + 1) {
        fprintf(stderr, "bench port: message %lu: 0x%08x, reply %lu bytes, %lu\n",
                (unsigned long)seq, (unsigned)status, (unsigned long)length, (unsigned long)answer);
        return false;
    }
    return true;
}

/* Waits (5 s at most) for the program to connect; its client port or NULL. */
static PFLT_PORT wait_for_client(void)
{
    for (int ms = 0; ms < 5000; ms++) {
        PFLT_PORT client = __atomic_load_n(&port_state.client, __ATOMIC_SEQ_CST);
        if (client != NULL || __atomic_load_n(&port_state.failed, __ATOMIC_SEQ_CST))
            return client;
        uv_sleep(1);
    }
    fprintf(stderr, "bench port: the program did not connect within 5 s\n");
    return NULL;
}

/* Microseconds per port round trip, after a tenth as many to warm up, with
 * the program a spawned thread (blocking gets) or, iocp, a simulated process
 * (overlapped gets); < 0 on failure (printed). */
static double port_round_trip_us(uint64_t trips, bool iocp)
{
    static const FLT_OPERATION_REGISTRATION ops[] = {{IRP_MJ_READ, 0, bench_passthrough_pre, NULL},
                                                     {IRP_MJ_OPERATION_END}};
    struct bench_world w;
    if (!bench_world_create(&w, FLTSIM_EXECUTOR_CONCURRENT, ops, 1))
        return -1;
    memset(&port_state, 0, sizeof(port_state));
    port_state.filter = w.filters[0];
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\BenchPort");
    OBJECT_ATTRIBUTES oa;
    PSECURITY_DESCRIPTOR sd = NULL;
    PFLT_PORT server = NULL;
    NTSTATUS status = FltBuildDefaultSecurityDescriptor(&sd, FLT_PORT_ALL_ACCESS);
    if (NT_SUCCESS(status)) {
        InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, sd);
        status = FltCreateCommunicationPort(port_state.filter, &server, &oa, NULL, port_connect,
                                            port_disconnect, NULL, 1);
        FltFreeSecurityDescriptor(sd);
    }
    fltsim_thread *program = NULL;
    fltsim_process *process = NULL;
    struct fltsim_process_params params = {.name = "bench.exe", .main = iocp_main};
    if (NT_SUCCESS(status))
        status = iocp ? fltsim_process_start(w.sys, &params, &process)
                      : fltsim_thread_spawn(w.sys, 2000, 2001, program_main, NULL, &program);
    if (!NT_SUCCESS(status))
        fprintf(stderr, "bench port: setting up the port: 0x%08x %s\n", (unsigned)status,
                fltsim_last_error());
    PFLT_PORT client = program != NULL || process != NULL ? wait_for_client() : NULL;
    bool ok = client != NULL;
    uint64_t start = 0, warm = trips / 10;
    for (uint64_t k = 0; ok && k < warm + trips; k++) {
        if (k == warm)
            start = bench_now_ns();
        ok = send_one(&client, (uint32_t)k);
    }
    double us = (double)(bench_now_ns() - start) / 1e3 / (double)trips;
    if (ok)
        ok = send_one(&client, PORT_QUIT); /* the program replies, closes, returns */
    else if (client != NULL)
        FltCloseClientPort(port_state.filter, &port_state.client); /* ends its wait */
    if (program != NULL)
        fltsim_thread_join(program);
    if (process != NULL) {
        ULONG code = 1;
        ok &= NT_SUCCESS(fltsim_process_wait(process, FLTSIM_PROCESS_EXIT, NULL, 10000)) &&
              fltsim_process_exited(process, &code) && code == 0;
        fltsim_process_free(process);
    }
    if (server != NULL)
        FltCloseCommunicationPort(server);
    ok &= !__atomic_load_n(&port_state.failed, __ATOMIC_SEQ_CST);
    ok &= bench_world_destroy(&w, NULL);
    return ok ? us : -1;
}

int bench_port(const struct bench_opts *opts)
{
    uint64_t trips = bench_count(opts, 20000, 20);
    double port_us[1000], iocp_us[1000], pend_us[1000];
    for (int r = 0; r < opts->runs; r++) {
        port_us[r] = port_round_trip_us(trips, false);
        iocp_us[r] = port_round_trip_us(trips, true);
        pend_us[r] = bench_pend_round_trip_us(trips);
        if (port_us[r] < 0 || iocp_us[r] < 0 || pend_us[r] < 0) {
            fprintf(stderr, "bench port: run %d failed\n", r);
            return 1;
        }
        if (opts->verbose)
            fprintf(stderr,
                    "port run %d: round trip %.2f us, through a completion port %.2f us (pend "
                    "round trip %.2f us)\n",
                    r, port_us[r], iocp_us[r], pend_us[r]);
    }
    double pend = bench_median(pend_us, opts->runs);
    bench_report(opts, "port_round_trip", "us", bench_median(port_us, opts->runs),
                 "pend_round_trip", pend, BENCH_LE, 2);
    bench_report(opts, "port_iocp_round_trip", "us", bench_median(iocp_us, opts->runs),
                 "pend_round_trip", pend, BENCH_LE, 2);
    return 0;
}
