/*
 * The Win32 and C runtime routines the WDK samples' user programs use
 * besides winbase.h's (fltsim/decl/winbase_extra.h, strsafe.h; issue 19
 * items 2 and 6): strsafe's HRESULTs, file times, FormatMessage,
 * GetSystemDirectory, LoadLibraryEx/FreeLibrary, MultiByteToWideChar,
 * sprintf_s, _strnicmp/_stricmp and fopen_s; called from a test thread and
 * from a simulated process (its last error, its time zone, the end of a
 * process whose sprintf_s overflows), under both executors. Named events and
 * semaphores (minispy's user program names its shutdown semaphore), shared by
 * the processes of a system.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fltsim_test.h"

#include <fltsim/program.h>
#include <strsafe.h>
/* Last: the program's console and heap redirections (windows.h). */
#include <windows.h>

static void assert_wide(const WCHAR *actual, const char *expected)
{
    char text[512];
    fltsim_utf16_to_utf8(actual, wcslen(actual), text, sizeof(text));
    assert_string_equal(text, expected);
}

/* ---- strsafe ---- */

static void strsafe_results_are_hresults_over_ntstrsafe(void **state)
{
    (void)state;
    WCHAR w[16] = L"C:\\Win";
    assert_int_equal(StringCchCatW(w, 16, L"dows"), S_OK);
    assert_wide(w, "C:\\Windows");
    /* Truncated: the HRESULT, and what fits, terminated. */
    assert_int_equal(StringCchCatW(w, 12, L"\\fltlib.dll"), STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_wide(w, "C:\\Windows\\");
    assert_int_equal(StringCchCopyW(w, 0, L"x"), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(StringCchCopyW(w, STRSAFE_MAX_CCH + 1u, L"x"), STRSAFE_E_INVALID_PARAMETER);

    char a[8];
    assert_int_equal(StringCbPrintfA(a, sizeof(a), "%d-%ws", 42, L"ab"), S_OK);
    assert_string_equal(a, "42-ab");
    assert_int_equal(StringCchPrintfA(a, sizeof(a), "%s", "123456789"),
                     STRSAFE_E_INSUFFICIENT_BUFFER);
    assert_string_equal(a, "1234567");
    assert_int_equal(StringCchPrintfW(w, 16, L"%s=%S", L"k", "v"), S_OK);
    assert_wide(w, "k=v");

    STRSAFE_LPWSTR end = NULL;
    size_t remaining = 0;
    assert_int_equal(StringCchCopyExW(w, 16, L"abc", &end, &remaining, 0), S_OK);
    assert_ptr_equal(end, w + 3);
    assert_int_equal(remaining, 13);
    assert_int_equal(StringCchCopyNA(a, sizeof(a), "abcdef", 2), S_OK);
    assert_string_equal(a, "ab");
    assert_int_equal(StringCbCatA(a, sizeof(a), "cd"), S_OK);
    assert_string_equal(a, "abcd");

    size_t len = 0;
    assert_int_equal(StringCchLengthW(L"four", 10, &len), S_OK);
    assert_int_equal(len, 4);
    assert_int_equal(StringCchLengthW(L"four", 4, &len), STRSAFE_E_INVALID_PARAMETER);
    assert_int_equal(StringCbLengthA("four", 10, &len), S_OK);
    assert_int_equal(len, 4);
}

/* ---- file times ---- */

/* 1970-01-01 00:00:00.000 UTC, a Thursday. */
#define UNIX_EPOCH 116444736000000000ULL

static FILETIME filetime(ULONGLONG value)
{
    FILETIME ft = {(DWORD)(value & 0xFFFFFFFFu), (DWORD)(value >> 32)};
    return ft;
}

static ULONGLONG value_of(FILETIME ft)
{
    return ((ULONGLONG)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
}

static void file_times_convert_and_refuse_out_of_range(void **state)
{
    (void)state;
    FILETIME ft = filetime(UNIX_EPOCH + 12345678ULL * 10000 + 9 * 10000);
    SYSTEMTIME st;
    memset(&st, 0xff, sizeof(st));
    assert_true(FileTimeToSystemTime(&ft, &st));
    /* 12345678 ms + 9 ms after the epoch: 03:25:45.687 */
    assert_int_equal(st.wYear, 1970);
    assert_int_equal(st.wMonth, 1);
    assert_int_equal(st.wDay, 1);
    assert_int_equal(st.wDayOfWeek, 4);
    assert_int_equal(st.wHour, 3);
    assert_int_equal(st.wMinute, 25);
    assert_int_equal(st.wSecond, 45);
    assert_int_equal(st.wMilliseconds, 687);

    FILETIME bad = filetime(0x8000000000000000ULL);
    SetLastError(0);
    assert_false(FileTimeToSystemTime(&bad, &st));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);

    /* From a thread of no system: UTC. */
    FILETIME local;
    assert_true(FileTimeToLocalFileTime(&ft, &local));
    assert_true(value_of(local) == value_of(ft));
    SetLastError(0);
    assert_false(FileTimeToLocalFileTime(&bad, &local));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
}

/* ---- FormatMessage, GetSystemDirectory, modules ---- */

static void format_message_has_the_system_texts_and_fails_as_windows(void **state)
{
    (void)state;
    WCHAR w[260];
    DWORD n =
        FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM, NULL, ERROR_ACCESS_DENIED, 0, w, 260, NULL);
    assert_int_equal(n, 19);
    assert_wide(w, "Access is denied.\r\n");
    /* An HRESULT_FROM_WIN32 reads as its Win32 code. */
    char a[260];
    n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                       (DWORD)HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND),
                       MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), a, sizeof(a), NULL);
    assert_int_equal(n, strlen("The system cannot find the file specified.\r\n"));
    assert_string_equal(a, "The system cannot find the file specified.\r\n");

    /* Every Win32 error fltsim's routines return has its text. */
    static const DWORD returned[] = {
        ERROR_SUCCESS,          ERROR_INVALID_FUNCTION,    ERROR_FILE_NOT_FOUND,
        ERROR_PATH_NOT_FOUND,   ERROR_ACCESS_DENIED,       ERROR_INVALID_HANDLE,
        ERROR_NOT_ENOUGH_MEMORY, ERROR_OUTOFMEMORY,        ERROR_NOT_SUPPORTED,
        ERROR_INVALID_PARAMETER, ERROR_INSUFFICIENT_BUFFER, ERROR_MOD_NOT_FOUND,
        ERROR_ALREADY_EXISTS,   ERROR_MORE_DATA,           WAIT_TIMEOUT,
        ERROR_NO_MORE_ITEMS,    ERROR_TOO_MANY_POSTS,      ERROR_OPERATION_ABORTED,
        ERROR_IO_INCOMPLETE,    ERROR_IO_PENDING,          ERROR_INVALID_FLAGS,
        ERROR_SERVICE_ALREADY_RUNNING, ERROR_NO_UNICODE_TRANSLATION, ERROR_NOT_FOUND,
        ERROR_CONNECTION_COUNT_LIMIT, ERROR_NO_SYSTEM_RESOURCES, ERROR_TIMEOUT,
        ERROR_RESOURCE_TYPE_NOT_FOUND, ERROR_RESOURCE_LANG_NOT_FOUND,
    };
    for (size_t i = 0; i < sizeof(returned) / sizeof(returned[0]); i++) {
        n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM, NULL, returned[i], 0, a, sizeof(a), NULL);
        assert_true(n > 2);
        assert_string_equal(a + n - 2, "\r\n");
    }
    SetLastError(0);
    assert_int_equal(FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM, NULL, 0x12345, 0, w, 260, NULL), 0);
    assert_int_equal(GetLastError(), ERROR_MR_MID_NOT_FOUND);
    assert_int_equal(FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM, NULL,
                                    (DWORD)ERROR_FLT_NO_WAITER_FOR_REPLY, 0, a, sizeof(a), NULL),
                     0);
    assert_int_equal(GetLastError(), ERROR_MR_MID_NOT_FOUND);
    /* "Access is denied.\r\n" and its terminator need 20. */
    assert_int_equal(FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM, NULL, 5, 0, w, 19, NULL), 0);
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    assert_int_equal(FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM, NULL, 5, 0, w, 20, NULL), 19);
    assert_int_equal(FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM, NULL, 5,
                                    MAKELANGID(0x07, SUBLANG_DEFAULT), w, 260, NULL),
                     0);
    assert_int_equal(GetLastError(), ERROR_RESOURCE_LANG_NOT_FOUND);
    /* No module has a message table; with FROM_SYSTEM too, the system's. */
    assert_int_equal(FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE, NULL, 5, 0, w, 260, NULL), 0);
    assert_int_equal(GetLastError(), ERROR_RESOURCE_TYPE_NOT_FOUND);
    assert_int_equal(FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_FROM_SYSTEM, NULL,
                                    5, 0, w, 260, NULL),
                     19);
    assert_int_equal(FormatMessageW(FORMAT_MESSAGE_FROM_STRING, L"x", 0, 0, w, 260, NULL), 0);
    assert_int_equal(GetLastError(), ERROR_NOT_SUPPORTED);
}

static void system_directory_is_named_and_no_module_loads(void **state)
{
    (void)state;
    WCHAR w[MAX_PATH];
    assert_int_equal(GetSystemDirectoryW(w, MAX_PATH), 19);
    assert_wide(w, "C:\\Windows\\system32");
    assert_int_equal(GetSystemDirectoryW(w, 19), 20); /* the size it needs */
    char a[MAX_PATH];
    assert_int_equal(GetSystemDirectoryA(a, sizeof(a)), 19);
    assert_string_equal(a, "C:\\Windows\\system32");

    SetLastError(0);
    assert_null(
        LoadLibraryExW(L"C:\\Windows\\system32\\fltlib.dll", NULL, LOAD_LIBRARY_AS_DATAFILE));
    assert_int_equal(GetLastError(), ERROR_MOD_NOT_FOUND);
    assert_null(LoadLibraryExA("kernel32.dll", NULL, 0));
    assert_int_equal(GetLastError(), ERROR_MOD_NOT_FOUND);
    assert_null(LoadLibraryExW(NULL, NULL, 0));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_false(FreeLibrary((HMODULE)(ULONG_PTR)0x10000));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

/* ---- MultiByteToWideChar ---- */

static void multi_byte_to_wide_char_converts_utf8_with_windows_rules(void **state)
{
    (void)state;
    WCHAR w[16];
    /* -1: through the terminator; 0 units: the size needed. */
    assert_int_equal(MultiByteToWideChar(CP_ACP, 0, "C:\\x", -1, NULL, 0), 5);
    assert_int_equal(MultiByteToWideChar(CP_ACP, MB_ERR_INVALID_CHARS, "C:\\x", -1, w, 16), 5);
    assert_wide(w, "C:\\x");
    /* UTF-8, the simulated machine's ANSI code page. */
    assert_int_equal(MultiByteToWideChar(CP_UTF8, 0, "\xc3\xa9t\xc3\xa9", 5, w, 16), 3);
    assert_int_equal(w[0], 0xE9);
    assert_int_equal(w[1], 't');
    /* An invalid sequence: U+FFFD, or a failure under MB_ERR_INVALID_CHARS. */
    assert_int_equal(MultiByteToWideChar(CP_ACP, 0, "a\xff", 2, w, 16), 2);
    assert_int_equal(w[1], 0xFFFD);
    SetLastError(0);
    assert_int_equal(MultiByteToWideChar(CP_ACP, MB_ERR_INVALID_CHARS, "a\xff", 2, w, 16), 0);
    assert_int_equal(GetLastError(), ERROR_NO_UNICODE_TRANSLATION);
    assert_int_equal(MultiByteToWideChar(CP_ACP, 0, "abcdef", -1, w, 3), 0);
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    assert_int_equal(MultiByteToWideChar(1252, 0, "a", -1, w, 16), 0);
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_int_equal(MultiByteToWideChar(CP_ACP, 0, "a", 0, w, 16), 0);
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_int_equal(MultiByteToWideChar(CP_ACP, 0, NULL, -1, w, 16), 0);
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_int_equal(MultiByteToWideChar(CP_UTF8, MB_PRECOMPOSED, "a", -1, w, 16), 0);
    assert_int_equal(GetLastError(), ERROR_INVALID_FLAGS);
}

/* ---- the C runtime ---- */

static void crt_sprintf_s_strnicmp_fopen_s_follow_microsofts_crt(void **state)
{
    (void)state;
    char buf[32];
    assert_int_equal(sprintf_s(buf, sizeof(buf), "%02d:%03d %ws %I64x", 7, 5, L"w", 0x1ULL << 40),
                     20);
    assert_string_equal(buf, "07:005 w 10000000000");
    /* Outside a process: -1 and errno, the buffer emptied. */
    errno = 0;
    assert_int_equal(sprintf_s(buf, 4, "%s", "toolong"), -1);
    assert_int_equal(errno, ERANGE);
    assert_int_equal(buf[0], '\0');
    errno = 0;
    assert_int_equal(sprintf_s(buf, 0, "x"), -1);
    assert_int_equal(errno, EINVAL);

    assert_int_equal(_strnicmp("/A", "/a", 2), 0);
    assert_int_equal(_strnicmp("/Ab", "/aC", 2), 0);
    assert_true(_strnicmp("/Ab", "/aC", 3) < 0);
    assert_int_equal(_strnicmp("b", "A", 1), 1);
    assert_int_equal(_stricmp("Minispy", "MINISPY"), 0);
    assert_true(_stricmp("Mini", "MINISPY") < 0);
    errno = 0;
    assert_int_equal(_strnicmp(NULL, "a", 1), _NLSCMPERROR);
    assert_int_equal(errno, EINVAL);

    char path[] = "/tmp/fltsim_fopen_s_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    FILE *f = NULL;
    assert_int_equal(fopen_s(&f, path, "w"), 0);
    assert_non_null(f);
    fputs("logged\n", f);
    fclose(f);
    f = NULL;
    assert_int_equal(fopen_s(&f, path, "r"), 0);
    char line[16] = "";
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_string_equal(line, "logged\n");
    unlink(path);
    f = (FILE *)1;
    assert_int_equal(fopen_s(&f, "/nonexistent-folder/x.log", "w"), ENOENT);
    assert_null(f);
    assert_int_equal(fopen_s(NULL, path, "w"), EINVAL);
}

/* ---- in a simulated process ---- */

static int zone_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    FILETIME utc = filetime(UNIX_EPOCH), local;
    SYSTEMTIME st;
    if (!FileTimeToLocalFileTime(&utc, &local) || !FileTimeToSystemTime(&local, &st))
        return 1;
    /* mspyLog's shape: its time, as it prints it. */
    char text[16];
    int n = sprintf_s(text, sizeof(text), "%02d:%02d:%02d:%03d", st.wHour, st.wMinute, st.wSecond,
                      st.wMilliseconds);
    printf("%d-%02d-%02d %s (%d)\n", st.wYear, st.wMonth, st.wDay, text, n);
    /* East of UTC the last instants have no local time. */
    FILETIME last = filetime(0x7FFFFFFFFFFFFFFFULL);
    if (FileTimeToLocalFileTime(&last, &local))
        return 3;
    printf("last: error %lu\n", GetLastError());
    /* The last error is the thread's own. */
    if (LoadLibraryExW(L"fltlib.dll", NULL, LOAD_LIBRARY_AS_DATAFILE) != NULL)
        return 2;
    printf("error %lu\n", GetLastError());
    /* An invalid parameter ends the process, as the Universal CRT's handler. */
    sprintf_s(text, 4, "%s", "overflow");
    printf("not reached\n");
    return 0;
}

static void process_local_time_last_error_and_invalid_parameter_exit(void **state)
{
    (void)state;
    /* UTC+5:30: local = UTC - bias. */
    struct fltsim_system_options opts = test_options(0);
    opts.time_zone_bias = -330;
    fltsim_system *sys;
    assert_status(fltsim_system_create(&opts, &sys), STATUS_SUCCESS);
    struct fltsim_process_params p = {.name = "spy.exe", .main = zone_main};
    fltsim_process *proc;
    assert_status(fltsim_process_start(sys, &p, &proc), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(proc, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    ULONG code = 0;
    assert_true(fltsim_process_exited(proc, &code));
    assert_int_equal(code, 0xC0000409u);
    char out[256];
    fltsim_process_output(proc, out, sizeof(out));
    assert_string_equal(out, "1970-01-01 05:30:00:000 (12)\nlast: error 87\nerror 126\n");
    fltsim_process_free(proc);
    fltsim_system_destroy(sys);
}

/* ---- named events and semaphores ---- */

#define NAMED_CHECK(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("failed at line %d: %s (error %lu)\n", __LINE__, #cond, GetLastError());      \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* The waiting side: makes "Go" (manual, not signaled) and a named
 * semaphore, and waits for the other process to set the one. */
static int named_waiter_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    HANDLE go = CreateEventW(NULL, TRUE, FALSE, L"Go");
    NAMED_CHECK(go != NULL && GetLastError() == ERROR_SUCCESS);
    HANDLE sem = CreateSemaphoreA(NULL, 0, 5, "Slots");
    NAMED_CHECK(sem != NULL && GetLastError() == ERROR_SUCCESS);
    printf("made\n");
    NAMED_CHECK(WaitForSingleObject(go, 10000) == WAIT_OBJECT_0);
    /* The other released the semaphore twice through its own handle. */
    NAMED_CHECK(WaitForSingleObject(sem, 0) == WAIT_OBJECT_0);
    NAMED_CHECK(WaitForSingleObject(sem, 0) == WAIT_OBJECT_0);
    NAMED_CHECK(WaitForSingleObject(sem, 0) == WAIT_TIMEOUT);
    CloseHandle(sem);
    CloseHandle(go);
    printf("went\n");
    return 0;
}

static int named_setter_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* Open and create of an existing name: the same object. */
    HANDLE go = OpenEventW(EVENT_MODIFY_STATE, FALSE, L"Go");
    NAMED_CHECK(go != NULL);
    HANDLE again = CreateEventW(NULL, FALSE, TRUE, L"Local\\Go"); /* Local\ is the same */
    NAMED_CHECK(again != NULL && again != go && GetLastError() == ERROR_ALREADY_EXISTS);
    /* Its own arguments are ignored: manual and not signaled, as made. */
    NAMED_CHECK(WaitForSingleObject(again, 0) == WAIT_TIMEOUT);
    /* Names are case-sensitive, Global\ is a namespace of its own, and a
     * name is of one kind. */
    NAMED_CHECK(OpenEventW(SYNCHRONIZE, FALSE, L"go") == NULL &&
                GetLastError() == ERROR_FILE_NOT_FOUND);
    NAMED_CHECK(OpenEventA(SYNCHRONIZE, FALSE, "Global\\Go") == NULL &&
                GetLastError() == ERROR_FILE_NOT_FOUND);
    NAMED_CHECK(OpenSemaphoreW(SYNCHRONIZE, FALSE, L"Go") == NULL &&
                GetLastError() == ERROR_INVALID_HANDLE);
    NAMED_CHECK(CreateSemaphoreW(NULL, 1, 1, L"Go") == NULL &&
                GetLastError() == ERROR_INVALID_HANDLE);
    /* Names no object can have. */
    NAMED_CHECK(CreateEventW(NULL, TRUE, FALSE, L"a\\b") == NULL &&
                GetLastError() == ERROR_PATH_NOT_FOUND);
    char longname[MAX_PATH + 2];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    NAMED_CHECK(CreateEventA(NULL, TRUE, FALSE, longname) == NULL &&
                GetLastError() == ERROR_FILENAME_EXCED_RANGE);
    NAMED_CHECK(OpenEventW(SYNCHRONIZE, FALSE, NULL) == NULL &&
                GetLastError() == ERROR_INVALID_PARAMETER);
    /* An empty name is no name: two objects. */
    HANDLE e1 = CreateEventW(NULL, TRUE, TRUE, L""), e2 = CreateEventW(NULL, TRUE, FALSE, L"");
    NAMED_CHECK(e1 != NULL && e2 != NULL && GetLastError() == ERROR_SUCCESS);
    NAMED_CHECK(WaitForSingleObject(e2, 0) == WAIT_TIMEOUT);
    CloseHandle(e1);
    CloseHandle(e2);

    HANDLE sem = OpenSemaphoreA(SEMAPHORE_MODIFY_STATE, FALSE, "Slots");
    NAMED_CHECK(sem != NULL);
    NAMED_CHECK(ReleaseSemaphore(sem, 2, NULL));
    CloseHandle(sem);
    NAMED_CHECK(SetEvent(go));
    CloseHandle(again);
    CloseHandle(go);
    return 0;
}

/* A name lives as long as a handle to its object: after the waiter closed
 * its handles and exited, the names are free. */
static int named_after_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    NAMED_CHECK(OpenEventW(SYNCHRONIZE, FALSE, L"Go") == NULL &&
                GetLastError() == ERROR_FILE_NOT_FOUND);
    HANDLE sem = CreateSemaphoreW(NULL, 0, 1, L"Slots");
    NAMED_CHECK(sem != NULL && GetLastError() == ERROR_SUCCESS);
    CloseHandle(sem);
    return 0;
}

static void named_events_and_semaphores_are_shared_by_processes(void **state)
{
    (void)state;
    fltsim_system *sys;
    struct fltsim_system_options opts = test_options(0);
    assert_status(fltsim_system_create(&opts, &sys), STATUS_SUCCESS);
    struct fltsim_process_params pw = {.name = "waiter.exe", .main = named_waiter_main};
    struct fltsim_process_params ps = {.name = "setter.exe", .main = named_setter_main};
    struct fltsim_process_params pa = {.name = "after.exe", .main = named_after_main};
    fltsim_process *waiter, *setter, *after;
    assert_status(fltsim_process_start(sys, &pw, &waiter), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(waiter, FLTSIM_PROCESS_OUTPUT, "made", 10000),
                  STATUS_SUCCESS);
    assert_status(fltsim_process_start(sys, &ps, &setter), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(setter, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(waiter, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    char out[512];
    fltsim_process_output(setter, out, sizeof(out));
    assert_string_equal(out, "");
    fltsim_process_output(waiter, out, sizeof(out));
    assert_string_equal(out, "made\nwent\n");
    ULONG code = 1;
    assert_true(fltsim_process_exited(setter, &code));
    assert_int_equal(code, 0);
    assert_true(fltsim_process_exited(waiter, &code));
    assert_int_equal(code, 0);
    fltsim_process_free(setter);
    fltsim_process_free(waiter);
    assert_status(fltsim_process_start(sys, &pa, &after), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(after, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    fltsim_process_output(after, out, sizeof(out));
    assert_string_equal(out, "");
    assert_true(fltsim_process_exited(after, &code));
    assert_int_equal(code, 0);
    fltsim_process_free(after);
    fltsim_system_destroy(sys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strsafe_results_are_hresults_over_ntstrsafe),
        cmocka_unit_test(file_times_convert_and_refuse_out_of_range),
        cmocka_unit_test(format_message_has_the_system_texts_and_fails_as_windows),
        cmocka_unit_test(system_directory_is_named_and_no_module_loads),
        cmocka_unit_test(multi_byte_to_wide_char_converts_utf8_with_windows_rules),
        cmocka_unit_test(crt_sprintf_s_strnicmp_fopen_s_follow_microsofts_crt),
        cmocka_unit_test(process_local_time_last_error_and_invalid_parameter_exit),
        cmocka_unit_test(named_events_and_semaphores_are_shared_by_processes),
    };
    return FLTSIM_RUN_SUITE("win32_misc", tests);
}
