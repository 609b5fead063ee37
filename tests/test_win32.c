/*
 * The Win32 slice a simulated process uses (fltsim/program.h, windows.h),
 * checked against Microsoft Learn's documented behaviour, a case per rule,
 * under both executors: events, WaitForMultipleObjects, semaphores,
 * critical sections, CREATE_SUSPENDED, ExitThread/ExitProcess and exit
 * codes, Ctrl+C, I/O completion ports of a program's own, process ids,
 * fltsim_process_describe, the heap, wmain's arguments, console formats and
 * input, a kill while a thread spins, and a system destroyed under a
 * running process. Each program checks its own rules and returns 0, or the
 * line of the first rule broken (its console says which).
 */
#include <string.h>
#include <time.h>

#include "fltsim_test.h"

#include <fltsim/program.h>
/* Last: the program's console and heap redirections (windows.h). */
#include <windows.h>

static struct test_world world;

static int setup(void **state)
{
    (void)state;
    world_create(&world, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (world.sys != NULL)
        world_destroy(&world);
    return 0;
}

/* In a program: a rule that must hold, else main returns the line. */
#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            printf("line %d: %s (last error %lu)\n", __LINE__, #x, GetLastError());                \
            return __LINE__;                                                                       \
        }                                                                                          \
    } while (0)

static fltsim_process *start_ex(const char *name, fltsim_main_fn fn, ULONG pid)
{
    struct fltsim_process_params p = {.name = name, .main = fn, .process_id = pid};
    fltsim_process *proc;
    assert_status(fltsim_process_start(world.sys, &p, &proc), STATUS_SUCCESS);
    return proc;
}

/* Waits for the process to end; returns its exit code (the console shown
 * when it is not 0). */
static ULONG finish(fltsim_process *p)
{
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_EXIT, NULL, 20000), STATUS_SUCCESS);
    ULONG code = 0;
    assert_true(fltsim_process_exited(p, &code));
    if (code != 0) {
        char out[2048];
        fltsim_process_output(p, out, sizeof(out));
        print_message("%s exited with %lu:\n%s", fltsim_process_name(p), (unsigned long)code, out);
    }
    return code;
}

/* Runs a program to its end; asserts it returned 0. */
static void run(fltsim_main_fn fn)
{
    fltsim_process *p = start_ex("rules.exe", fn, 0);
    assert_int_equal(finish(p), 0);
    fltsim_process_free(p);
}

static int sleeps_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    Sleep(INFINITE);
    return 0;
}

/* ---- events and waits ---- */

static HANDLE shared_event;

static DWORD WINAPI wait_shared(LPVOID arg)
{
    (void)arg;
    return WaitForSingleObject(shared_event, INFINITE) == WAIT_OBJECT_0 ? 11 : 12;
}

static int events_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* Auto-reset: one wait consumes the signal. */
    HANDLE a = CreateEventW(NULL, FALSE, TRUE, NULL);
    CHECK(a != NULL);
    CHECK(WaitForSingleObject(a, 0) == WAIT_OBJECT_0);
    CHECK(WaitForSingleObject(a, 0) == WAIT_TIMEOUT);
    /* Manual-reset: stays signaled until ResetEvent. */
    HANDLE m = CreateEventW(NULL, TRUE, FALSE, NULL);
    CHECK(WaitForSingleObject(m, 0) == WAIT_TIMEOUT);
    CHECK(SetEvent(m));
    CHECK(WaitForSingleObject(m, 0) == WAIT_OBJECT_0);
    CHECK(WaitForSingleObject(m, 0) == WAIT_OBJECT_0);
    CHECK(ResetEvent(m));
    CHECK(WaitForSingleObject(m, 0) == WAIT_TIMEOUT);
    /* SetEvent wakes a thread waiting. */
    shared_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    HANDLE t = CreateThread(NULL, 0, wait_shared, NULL, 0, NULL);
    CHECK(t != NULL);
    Sleep(20);
    DWORD code = 0;
    CHECK(GetExitCodeThread(t, &code) && code == STILL_ACTIVE);
    CHECK(SetEvent(shared_event));
    CHECK(WaitForSingleObject(t, 5000) == WAIT_OBJECT_0);
    CHECK(GetExitCodeThread(t, &code) && code == 11);
    /* Any: the lowest index signaled is the one reported (and consumed). */
    HANDLE two[2] = {CreateEventW(NULL, FALSE, FALSE, NULL), CreateEventW(NULL, FALSE, TRUE, NULL)};
    CHECK(WaitForMultipleObjects(2, two, FALSE, 0) == WAIT_OBJECT_0 + 1);
    CHECK(WaitForMultipleObjects(2, two, FALSE, 0) == WAIT_TIMEOUT);
    CHECK(SetEvent(two[0]) && SetEvent(two[1]));
    CHECK(WaitForMultipleObjects(2, two, FALSE, 0) == WAIT_OBJECT_0);
    CHECK(WaitForSingleObject(two[1], 0) == WAIT_OBJECT_0); /* not consumed by the any-wait */
    /* All: nothing is consumed until every object is signaled. */
    CHECK(SetEvent(two[0]));
    CHECK(WaitForMultipleObjects(2, two, TRUE, 0) == WAIT_TIMEOUT);
    CHECK(WaitForSingleObject(two[0], 0) == WAIT_OBJECT_0); /* still signaled */
    CHECK(SetEvent(two[0]) && SetEvent(two[1]));
    CHECK(WaitForMultipleObjects(2, two, TRUE, 0) == WAIT_OBJECT_0);
    CHECK(WaitForMultipleObjects(2, two, FALSE, 0) == WAIT_TIMEOUT); /* both consumed */
    /* A finite timeout lasts (GetTickCount is the system's clock). */
    ULONGLONG before = GetTickCount64();
    CHECK(WaitForMultipleObjects(2, two, FALSE, 50) == WAIT_TIMEOUT);
    CHECK(GetTickCount64() - before >= 50);
    /* A bad handle: WAIT_FAILED, ERROR_INVALID_HANDLE; no count:
     * ERROR_INVALID_PARAMETER. */
    HANDLE bad[2] = {two[0], (HANDLE)(ULONG_PTR)0x7ffc};
    SetLastError(0);
    CHECK(WaitForMultipleObjects(2, bad, FALSE, 0) == WAIT_FAILED);
    CHECK(GetLastError() == ERROR_INVALID_HANDLE);
    CHECK(WaitForSingleObject(NULL, 0) == WAIT_FAILED);
    CHECK(WaitForMultipleObjects(0, two, FALSE, 0) == WAIT_FAILED);
    CHECK(GetLastError() == ERROR_INVALID_PARAMETER);
    CHECK(!SetEvent((HANDLE)(ULONG_PTR)0x7ffc) && GetLastError() == ERROR_INVALID_HANDLE);
    /* A closed handle is no longer valid. */
    CHECK(CloseHandle(a));
    CHECK(WaitForSingleObject(a, 0) == WAIT_FAILED);
    CHECK(!CloseHandle(a) && GetLastError() == ERROR_INVALID_HANDLE);
    CloseHandle(m);
    CloseHandle(t);
    CloseHandle(two[0]);
    CloseHandle(two[1]);
    CloseHandle(shared_event);
    return 0;
}

static void test_events_and_waits(void **state)
{
    (void)state;
    run(events_main);
}

/* ---- semaphores ---- */

static int semaphore_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    CHECK(CreateSemaphoreW(NULL, 3, 2, NULL) == NULL && GetLastError() == ERROR_INVALID_PARAMETER);
    HANDLE s = CreateSemaphoreW(NULL, 1, 2, NULL);
    CHECK(s != NULL);
    LONG previous = -1;
    CHECK(ReleaseSemaphore(s, 1, &previous) && previous == 1);
    /* Over the maximum: fails, the count is unchanged. */
    previous = -1;
    CHECK(!ReleaseSemaphore(s, 1, &previous));
    CHECK(GetLastError() == ERROR_TOO_MANY_POSTS);
    CHECK(previous == -1);
    CHECK(WaitForSingleObject(s, 0) == WAIT_OBJECT_0);
    CHECK(WaitForSingleObject(s, 0) == WAIT_OBJECT_0);
    CHECK(WaitForSingleObject(s, 0) == WAIT_TIMEOUT);
    CHECK(ReleaseSemaphore(s, 2, &previous) && previous == 0);
    CHECK(!ReleaseSemaphore(s, 0, NULL) && GetLastError() == ERROR_INVALID_PARAMETER);
    CloseHandle(s);
    return 0;
}

static void test_semaphores(void **state)
{
    (void)state;
    run(semaphore_main);
}

/* ---- critical sections ---- */

static CRITICAL_SECTION cs;
static LONG cs_counter;

static DWORD WINAPI cs_worker(LPVOID arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        EnterCriticalSection(&cs);
        EnterCriticalSection(&cs); /* recursion */
        LONG v = cs_counter;
        Sleep(0); /* others run here: they must wait for the section */
        cs_counter = v + 1;
        LeaveCriticalSection(&cs);
        LeaveCriticalSection(&cs);
    }
    return 0;
}

static DWORD WINAPI cs_try(LPVOID arg)
{
    (void)arg;
    if (!TryEnterCriticalSection(&cs))
        return 1;
    LeaveCriticalSection(&cs);
    return 2;
}

/* TryEnterCriticalSection from another thread: 1 when it failed, 2 when it got it. */
static DWORD try_elsewhere(void)
{
    HANDLE t = CreateThread(NULL, 0, cs_try, NULL, 0, NULL);
    WaitForSingleObject(t, INFINITE);
    DWORD code = 0;
    GetExitCodeThread(t, &code);
    CloseHandle(t);
    return code;
}

static int cs_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    InitializeCriticalSection(&cs);
    cs_counter = 0;
    HANDLE t[4];
    for (int i = 0; i < 4; i++)
        CHECK((t[i] = CreateThread(NULL, 0, cs_worker, NULL, 0, NULL)) != NULL);
    CHECK(WaitForMultipleObjects(4, t, TRUE, INFINITE) == WAIT_OBJECT_0);
    CHECK(cs_counter == 800);
    for (int i = 0; i < 4; i++)
        CloseHandle(t[i]);
    /* Recursion: held until left as often as entered. */
    EnterCriticalSection(&cs);
    CHECK(TryEnterCriticalSection(&cs));
    CHECK(try_elsewhere() == 1);
    LeaveCriticalSection(&cs);
    CHECK(try_elsewhere() == 1);
    LeaveCriticalSection(&cs);
    CHECK(try_elsewhere() == 2);
    DeleteCriticalSection(&cs);
    return 0;
}

static void test_critical_sections(void **state)
{
    (void)state;
    run(cs_main);
}

/* ---- threads: CREATE_SUSPENDED, ExitThread, ExitProcess ---- */

static LONG ran;

static DWORD WINAPI set_ran(LPVOID arg)
{
    (void)arg;
    ran = 1;
    return 31;
}

__attribute__((noreturn)) static void leave_deep(DWORD code)
{
    ExitThread(code);
}

static DWORD WINAPI exits_early(LPVOID arg)
{
    (void)arg;
    leave_deep(42);
}

static int threads_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ran = 0;
    DWORD tid = 0;
    HANDLE t = CreateThread(NULL, 0, set_ran, NULL, CREATE_SUSPENDED, &tid);
    CHECK(t != NULL && tid != 0 && tid != GetCurrentThreadId());
    Sleep(20);
    CHECK(ran == 0);
    DWORD code = 0;
    CHECK(GetExitCodeThread(t, &code) && code == STILL_ACTIVE);
    CHECK(WaitForSingleObject(t, 0) == WAIT_TIMEOUT);
    CHECK(ResumeThread(t) == 1);
    CHECK(WaitForSingleObject(t, 5000) == WAIT_OBJECT_0);
    CHECK(ran == 1);
    CHECK(GetExitCodeThread(t, &code) && code == 31);
    CHECK(ResumeThread(t) == 0);
    CloseHandle(t);
    CHECK(ResumeThread(t) == (DWORD)-1 && GetLastError() == ERROR_INVALID_HANDLE);
    /* ExitThread from a nested call: the thread's exit code. */
    t = CreateThread(NULL, 0, exits_early, NULL, 0, NULL);
    CHECK(WaitForSingleObject(t, 5000) == WAIT_OBJECT_0);
    CHECK(GetExitCodeThread(t, &code) && code == 42);
    CloseHandle(t);
    CHECK(GetExitCodeProcess(GetCurrentProcess(), &code) && code == STILL_ACTIVE);
    return 0;
}

static void test_threads(void **state)
{
    (void)state;
    run(threads_main);
}

static DWORD WINAPI exit_process(LPVOID arg)
{
    (void)arg;
    Sleep(10);
    ExitProcess(77);
}

static int exit_process_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    HANDLE never = CreateEventW(NULL, TRUE, FALSE, NULL);
    CreateThread(NULL, 0, exit_process, NULL, 0, NULL);
    WaitForSingleObject(never, INFINITE); /* left when the worker ends the process */
    printf("main went on\n");
    return 1;
}

static DWORD WINAPI returns_9(LPVOID arg)
{
    (void)arg;
    Sleep(30);
    printf("worker done\n");
    return 9;
}

static int last_thread_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    CreateThread(NULL, 0, returns_9, NULL, 0, NULL);
    ExitThread(5); /* the process lives on in its worker */
}

static void test_exit_codes(void **state)
{
    (void)state;
    char out[256];
    /* ExitProcess from a worker: its code, main leaves its wait. */
    fltsim_process *p = start_ex("exitproc.exe", exit_process_main, 0);
    assert_int_equal(finish(p), 77);
    fltsim_process_output(p, out, sizeof(out));
    assert_null(strstr(out, "main went on"));
    fltsim_process_free(p);
    /* The main thread's ExitThread: the last thread's exit ends the process
     * with that thread's code. */
    p = start_ex("lastthread.exe", last_thread_main, 0);
    assert_int_equal(finish(p), 9);
    fltsim_process_output(p, out, sizeof(out));
    assert_string_equal(out, "worker done\n");
    fltsim_process_free(p);
}

/* ---- Ctrl+C ---- */

static HANDLE ctrl_event;
static DWORD ctrl_thread;

static BOOL WINAPI on_ctrl(DWORD type)
{
    ctrl_thread = GetCurrentThreadId();
    if (type != CTRL_C_EVENT)
        return FALSE;
    SetEvent(ctrl_event);
    return TRUE;
}

static BOOL WINAPI passes(DWORD type)
{
    (void)type;
    return FALSE;
}

static int ctrl_handled_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ctrl_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    CHECK(SetConsoleCtrlHandler(on_ctrl, TRUE));
    CHECK(SetConsoleCtrlHandler(passes, TRUE)); /* last added runs first */
    printf("ready\n");
    CHECK(WaitForSingleObject(ctrl_event, INFINITE) == WAIT_OBJECT_0);
    CHECK(ctrl_thread != 0 && ctrl_thread != GetCurrentThreadId());
    CHECK(SetConsoleCtrlHandler(on_ctrl, FALSE));
    CHECK(!SetConsoleCtrlHandler(on_ctrl, FALSE));
    printf("handled\n");
    return 3;
}

static int ctrl_unhandled_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    CHECK(SetConsoleCtrlHandler(passes, TRUE));
    printf("ready\n");
    Sleep(INFINITE);
    return 1;
}

static void test_ctrl_c(void **state)
{
    (void)state;
    fltsim_process *p = start_ex("ctrl.exe", ctrl_handled_main, 0);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_OUTPUT, "ready", 10000), STATUS_SUCCESS);
    assert_status(fltsim_process_ctrl_c(p), STATUS_SUCCESS);
    assert_int_equal(finish(p), 3);
    fltsim_process_free(p);

    p = start_ex("ctrl.exe", ctrl_unhandled_main, 0);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_OUTPUT, "ready", 10000), STATUS_SUCCESS);
    assert_status(fltsim_process_ctrl_c(p), STATUS_SUCCESS);
    assert_int_equal(finish(p), (ULONG)STATUS_CONTROL_C_EXIT);
    assert_status(fltsim_process_ctrl_c(p), STATUS_PROCESS_IS_TERMINATING);
    fltsim_process_free(p);

    /* No handler at all: the default one ends it the same way. */
    p = start_ex("ctrl.exe", sleeps_main, 0);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_IDLE, NULL, 10000), STATUS_SUCCESS);
    assert_status(fltsim_process_ctrl_c(p), STATUS_SUCCESS);
    assert_int_equal(finish(p), (ULONG)STATUS_CONTROL_C_EXIT);
    fltsim_process_free(p);
}

/* ---- I/O completion ports of the program's own ---- */

static HANDLE iocp;

static DWORD WINAPI iocp_waiter(LPVOID arg)
{
    (void)arg;
    DWORD bytes = 1;
    ULONG_PTR key = 1;
    LPOVERLAPPED ov = (LPOVERLAPPED)&bytes;
    if (GetQueuedCompletionStatus(iocp, &bytes, &key, &ov, INFINITE))
        return 1;
    return ov == NULL ? GetLastError() : 2;
}

static int iocp_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    iocp = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
    CHECK(iocp != NULL);
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    LPOVERLAPPED ov = (LPOVERLAPPED)&key;
    /* A timeout: FALSE, WAIT_TIMEOUT, no OVERLAPPED. */
    CHECK(!GetQueuedCompletionStatus(iocp, &bytes, &key, &ov, 0));
    CHECK(GetLastError() == WAIT_TIMEOUT && ov == NULL);
    CHECK(!GetQueuedCompletionStatus(iocp, &bytes, &key, &ov, 20));
    CHECK(GetLastError() == WAIT_TIMEOUT && ov == NULL);
    /* A posted packet comes back as posted, in order. */
    OVERLAPPED mine;
    memset(&mine, 0, sizeof(mine));
    CHECK(PostQueuedCompletionStatus(iocp, 123, 0xbeef, &mine));
    CHECK(PostQueuedCompletionStatus(iocp, 0, 7, NULL));
    CHECK(GetQueuedCompletionStatus(iocp, &bytes, &key, &ov, 0));
    CHECK(bytes == 123 && key == 0xbeef && ov == &mine);
    CHECK(GetQueuedCompletionStatus(iocp, &bytes, &key, &ov, 0));
    CHECK(bytes == 0 && key == 7 && ov == NULL);
    CHECK(!PostQueuedCompletionStatus((HANDLE)(ULONG_PTR)0x7ffc, 0, 0, NULL));
    CHECK(GetLastError() == ERROR_INVALID_HANDLE);
    /* Closed while a thread waits: it leaves with ERROR_ABANDONED_WAIT_0. */
    HANDLE t = CreateThread(NULL, 0, iocp_waiter, NULL, 0, NULL);
    Sleep(20);
    CHECK(CloseHandle(iocp));
    CHECK(WaitForSingleObject(t, 5000) == WAIT_OBJECT_0);
    DWORD code = 0;
    CHECK(GetExitCodeThread(t, &code));
    CHECK(code == ERROR_ABANDONED_WAIT_0);
    CloseHandle(t);
    return 0;
}

static void test_completion_ports(void **state)
{
    (void)state;
    run(iocp_main);
}

/* ---- process ids ---- */

static void test_process_ids(void **state)
{
    (void)state;
    fltsim_process *a = start_ex("a.exe", sleeps_main, 2000);
    assert_int_equal(fltsim_process_id(a), 2000);
    /* The id taken: a collision, nothing made. */
    struct fltsim_process_params params = {
        .name = "b.exe", .main = sleeps_main, .process_id = 2000};
    fltsim_process *b = (fltsim_process *)&params;
    assert_status(fltsim_process_start(world.sys, &params, &b), STATUS_OBJECT_NAME_COLLISION);
    assert_null(b);
    params.process_id = 4; /* the System process */
    assert_status(fltsim_process_start(world.sys, &params, &b), STATUS_OBJECT_NAME_COLLISION);
    /* A free id is chosen past the ones taken. */
    b = start_ex("b.exe", sleeps_main, 0);
    assert_int_not_equal(fltsim_process_id(b), 2000);
    assert_int_equal(fltsim_process_id(b) % 4, 0);
    /* Neither or both of main and wmain. */
    params.process_id = 0;
    params.main = NULL;
    assert_status(fltsim_process_start(world.sys, &params, &b), STATUS_INVALID_PARAMETER);
    fltsim_process_free(a);
    b = NULL;
    params.main = sleeps_main;
    params.process_id = 2000; /* free again */
    assert_status(fltsim_process_start(world.sys, &params, &b), STATUS_SUCCESS);
    fltsim_process_free(b);
    /* the auto one is left for fltsim_system_destroy (teardown) */
}

/* ---- fltsim_process_describe ---- */

static DWORD WINAPI sleeper(LPVOID arg)
{
    (void)arg;
    Sleep(INFINITE);
    return 0;
}

static int describe_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    HANDLE t = CreateThread(NULL, 0, sleeper, NULL, 0, NULL);
    WaitForSingleObject(t, INFINITE);
    return 0;
}

static void test_describe(void **state)
{
    (void)state;
    fltsim_process *p = start_ex("describe.exe", describe_main, 0);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_IDLE, NULL, 10000), STATUS_SUCCESS);
    char text[256];
    size_t len = fltsim_process_describe(p, text, sizeof(text));
    const char *expected = "thread 6000: in WaitForSingleObject; thread 6004: in Sleep";
    assert_string_equal(text, expected);
    assert_int_equal(len, strlen(expected));
    /* Cut: a terminated prefix, the whole length returned. */
    memset(text, 'x', sizeof(text));
    assert_int_equal(fltsim_process_describe(p, text, 48), strlen(expected));
    assert_int_equal(strlen(text), 47);
    assert_memory_equal(text, expected, 47);
    assert_int_equal(fltsim_process_describe(p, NULL, 0), strlen(expected));
    assert_status(fltsim_process_terminate(p, 1), STATUS_SUCCESS);
    assert_int_equal(finish(p), 1);
    assert_int_equal(fltsim_process_describe(p, text, sizeof(text)), 0);
    assert_string_equal(text, "");
    fltsim_process_free(p);
}

/* ---- the heap ---- */

static int heap_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char *a = malloc(10);
    CHECK(a != NULL);
    a = realloc(a, 4000);
    CHECK(a != NULL);
    char *grown = realloc(NULL, 16); /* realloc of NULL is malloc */
    CHECK(grown != NULL);
    char *dup = strdup("kept by the heap");
    CHECK(dup != NULL && strcmp(dup, "kept by the heap") == 0);
    WCHAR *wdup = _wcsdup(L"wide");
    CHECK(wdup != NULL && wdup[3] == L'e');
    HANDLE heap = GetProcessHeap();
    CHECK(heap != NULL);
    BYTE *h = HeapAlloc(heap, HEAP_ZERO_MEMORY, 8);
    CHECK(h != NULL && h[7] == 0);
    memset(h, 0xee, 8);
    h = HeapReAlloc(heap, HEAP_ZERO_MEMORY, h, 64); /* the growth reads zero */
    CHECK(h != NULL && h[7] == 0xee && h[8] == 0 && h[63] == 0);
    memset(h, 0xdd, 64);
    h = HeapReAlloc(heap, HEAP_ZERO_MEMORY, h, 16); /* shrunk, then grown again */
    h = HeapReAlloc(heap, HEAP_ZERO_MEMORY, h, 32);
    CHECK(h != NULL && h[15] == 0xdd && h[16] == 0 && h[31] == 0);
    void *freed = calloc(3, 5);
    free(freed);
    CHECK(HeapFree(heap, 0, HeapAlloc(heap, 0, 3)));
    free(NULL);
    printf("allocated\n");
    Sleep(INFINITE); /* killed holding it all: AddressSanitizer says if it leaks */
    return 0;
}

static void test_heap_freed_by_kill(void **state)
{
    (void)state;
    fltsim_process *p = start_ex("heap.exe", heap_main, 0);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_OUTPUT, "allocated", 10000),
                  STATUS_SUCCESS);
    assert_status(fltsim_process_terminate(p, 5), STATUS_SUCCESS);
    assert_int_equal(finish(p), 5);
    fltsim_process_free(p);
}

/* ---- wmain, console formats ---- */

static int wide_main(int argc, WCHAR **argv)
{
    static const WCHAR accent[] = {'h', 0xe9, 'l', 0};
    static const WCHAR cjk[] = {0x65e5, 0x672c, 0};
    static const WCHAR emoji[] = {0xd83d, 0xde00, 0};
    CHECK(argc == 4);
    CHECK(memcmp(argv[1], accent, sizeof(accent)) == 0);
    CHECK(memcmp(argv[2], cjk, sizeof(cjk)) == 0);
    CHECK(memcmp(argv[3], emoji, sizeof(emoji)) == 0);
    CHECK(argv[4] == NULL);
    wprintf(L"%s|%s|%s|%s\n", argv[0], argv[1], argv[2], argv[3]);
    return 0;
}

static int formats_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int n = printf("[%ws][%S][%Id][%I64x][%lu][%ls]\n", L"ws", L"S", (SSIZE_T)-5,
                   (ULONGLONG)0x123456789abcULL, (DWORD)4000000000u, L"ls");
    CHECK(n == 42);
    wprintf(L"[%s][%S][%d]\n", L"wide", "narrow", 7);
    fprintf(stderr, "err %s\n", "too");
    puts("puts");
    putchar('!');
    fputs("fputs\n", stdout);
    return 0;
}

static void test_wmain_and_formats(void **state)
{
    (void)state;
    const char *args[] = {"h\xc3\xa9l", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80"};
    struct fltsim_process_params params = {
        .name = "wide.exe", .wmain = wide_main, .argc = 3, .argv = args};
    fltsim_process *p;
    assert_status(fltsim_process_start(world.sys, &params, &p), STATUS_SUCCESS);
    assert_int_equal(finish(p), 0);
    char out[256];
    fltsim_process_output(p, out, sizeof(out));
    assert_string_equal(out, "wide.exe|h\xc3\xa9l|\xe6\x97\xa5\xe6\x9c\xac|\xf0\x9f\x98\x80\n");
    fltsim_process_free(p);
    /* Invalid UTF-8 in an argument: refused, as a parameter. */
    const char *bad[] = {"\xc3("};
    params.argc = 1;
    params.argv = bad;
    p = (fltsim_process *)&params;
    assert_status(fltsim_process_start(world.sys, &params, &p), STATUS_INVALID_PARAMETER);
    assert_null(p);

    p = start_ex("formats.exe", formats_main, 0);
    assert_int_equal(finish(p), 0);
    fltsim_process_output(p, out, sizeof(out));
    assert_string_equal(out, "[ws][S][-5][123456789abc][4000000000][ls]\n"
                             "[wide][narrow][7]\n"
                             "err too\n"
                             "puts\n"
                             "!fputs\n");
    fltsim_process_free(p);
}

/* ---- console input ---- */

static int input_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char line[64];
    CHECK(fgets(line, sizeof(line), stdin) == line);
    printf("line: %s", line);
    int c = getchar();
    printf("c=%c\n", c);
    CHECK(fgets(line, sizeof(line), stdin) == line); /* what is left before the end */
    printf("rest=%s\n", line);
    CHECK(fgets(line, sizeof(line), stdin) == NULL);
    CHECK(getchar() == EOF);
    printf("eof\n");
    return 0;
}

static void test_console_input(void **state)
{
    (void)state;
    fltsim_process *p = start_ex("input.exe", input_main, 0);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_IDLE, NULL, 10000), STATUS_SUCCESS);
    char text[128];
    fltsim_process_describe(p, text, sizeof(text));
    assert_non_null(strstr(text, "console input"));
    assert_status(fltsim_process_input(p, "hel", 3), STATUS_SUCCESS);
    assert_status(fltsim_process_input(p, "lo\nab", 5), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_OUTPUT, "c=a", 10000), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_IDLE, NULL, 10000), STATUS_SUCCESS);
    fltsim_process_input_end(p);
    assert_int_equal(finish(p), 0);
    fltsim_process_output(p, text, sizeof(text));
    assert_string_equal(text, "line: hello\nc=a\nrest=b\neof\n");
    assert_status(fltsim_process_input(p, "x", 1), STATUS_PROCESS_IS_TERMINATING);
    fltsim_process_free(p);
}

/* ---- a kill while a thread runs its own code ---- */

static volatile LONG spin_release, spin_started;

static DWORD WINAPI spinner(LPVOID arg)
{
    (void)arg;
    printf("spinning\n");
    __atomic_store_n(&spin_started, 1, __ATOMIC_SEQ_CST); /* no call after this one */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do { /* no Win32 call: nothing can take it out */
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (!__atomic_load_n(&spin_release, __ATOMIC_SEQ_CST) && t.tv_sec - t0.tv_sec < 10);
    printf("after the spin\n"); /* its next call: it leaves there, printing nothing */
    return 0;
}

static int spin_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    HANDLE t = CreateThread(NULL, 0, spinner, NULL, 0, NULL);
    WaitForSingleObject(t, INFINITE);
    return 0;
}

static void test_kill_while_spinning(void **state)
{
    (void)state;
    if (test_executor == FLTSIM_EXECUTOR_DETERMINISTIC)
        skip(); /* coroutines: a thread that never calls is never left, by design */
    spin_release = 0;
    spin_started = 0;
    fltsim_process *p = start_ex("spin.exe", spin_main, 0);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_OUTPUT, "spinning", 10000), STATUS_SUCCESS);
    while (!__atomic_load_n(&spin_started, __ATOMIC_SEQ_CST))
        ; /* its printf has returned: it runs only its own code now */
    assert_status(fltsim_process_terminate(p, 7), STATUS_SUCCESS);
    /* Not ended while its thread still runs its own code. */
    ULONG code = 0;
    assert_false(fltsim_process_exited(p, &code));
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_EXIT, NULL, 50), STATUS_TIMEOUT);
    __atomic_store_n(&spin_release, 1, __ATOMIC_SEQ_CST);
    assert_int_equal(finish(p), 7);
    char out[128];
    fltsim_process_output(p, out, sizeof(out));
    assert_string_equal(out, "spinning\n");
    fltsim_process_free(p);
}

/* ---- the system destroyed under running processes ---- */

static int holds_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char *kept = strdup("held");
    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    CreateThread(NULL, 0, sleeper, kept, 0, NULL);
    printf("holding %s\n", kept);
    WaitForSingleObject(ev, INFINITE);
    return 0;
}

static void test_system_destroyed_with_processes(void **state)
{
    (void)state;
    fltsim_process *p = start_ex("holds.exe", holds_main, 0);
    start_ex("sleeps.exe", sleeps_main, 0);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_IDLE, NULL, 10000), STATUS_SUCCESS);
    /* Neither freed: the system ends them, frees them and all they hold. */
    world_destroy(&world);
    world.sys = NULL;
}

/* A block the program holds, freed by a thread of no process (the test's):
 * the process's end must not free it again (AddressSanitizer: double free). */
static char *handed_out;

static int hands_out_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    handed_out = malloc(32);
    char *moved = malloc(16);
    handed_out[0] = 'x';
    printf("handed out\n");
    Sleep(INFINITE);
    return moved != NULL ? 0 : 1;
}

static void test_block_freed_elsewhere(void **state)
{
    (void)state;
    fltsim_process *p = start_ex("hands.exe", hands_out_main, 0);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_OUTPUT, "handed out", 10000),
                  STATUS_SUCCESS);
    assert_int_equal(handed_out[0], 'x');
    free(handed_out); /* windows.h's free, on a thread of no process */
    assert_status(fltsim_process_terminate(p, 1), STATUS_SUCCESS);
    assert_int_equal(finish(p), 1);
    fltsim_process_free(p);
}

/* ---- bad input to the C API ---- */

static void test_bad_input(void **state)
{
    (void)state;
    assert_status(fltsim_process_input(NULL, "x", 1), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "fltsim_process_input"));
    fltsim_process_input_end(NULL);
    assert_false(fltsim_process_exited(NULL, NULL));
    char buf[8] = "xx";
    assert_int_equal(fltsim_process_output(NULL, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    assert_int_equal(fltsim_process_describe(NULL, buf, sizeof(buf)), 0);
    assert_status(fltsim_process_wait(NULL, FLTSIM_PROCESS_EXIT, NULL, 0),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_process_terminate(NULL, 1), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_process_ctrl_c(NULL), STATUS_INVALID_PARAMETER);
    fltsim_process_free(NULL);
    fltsim_process *p = start_ex("input.exe", sleeps_main, 0);
    assert_status(fltsim_process_input(p, NULL, 3), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_process_input(p, NULL, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_process_output(p, NULL, 0), 0);
    assert_status(fltsim_process_wait(p, FLTSIM_PROCESS_OUTPUT, NULL, 0), STATUS_INVALID_PARAMETER);
    struct fltsim_process_params none = {.main = sleeps_main};
    fltsim_process *q = p;
    assert_status(fltsim_process_start(world.sys, &none, &q), STATUS_INVALID_PARAMETER);
    assert_null(q);
    assert_status(fltsim_process_start(world.sys, NULL, &q), STATUS_INVALID_PARAMETER);
    fltsim_process_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_and_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_semaphores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_critical_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctrl_c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_completion_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heap_freed_by_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_freed_elsewhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wmain_and_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_console_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_while_spinning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_system_destroyed_with_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("win32", tests);
}
