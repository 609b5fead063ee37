/*
 * The CSV capture reader, the Result table and the Detail decoder (issue 6):
 * hand-written fixtures (tests/fixtures/capture/) with exact expected events,
 * malformed files with their exact error text, and the four real captures of
 * ../shared/traces/procmon-parser read to the end (skipped when absent).
 * These are parsers, not I/O paths: no executor is involved.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "fltsim_test.h"

#include <fltsim/capture.h>

#ifndef FLTSIM_TEST_CAPTURE_FIXTURES
#error "FLTSIM_TEST_CAPTURE_FIXTURES must name tests/fixtures/capture"
#endif
#ifndef FLTSIM_TEST_TRACES_DIR
#error "FLTSIM_TEST_TRACES_DIR must name ../shared/traces/procmon-parser"
#endif

static const char *fixture(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", FLTSIM_TEST_CAPTURE_FIXTURES, name);
    return path;
}

static struct fltsim_capture *open_ok(const char *path)
{
    char error[700];
    struct fltsim_capture *cap =
        fltsim_capture_open(path, FLTSIM_CAPTURE_AUTO, error, sizeof(error));
    if (cap == NULL)
        fail_msg("%s", error);
    assert_int_equal(fltsim_capture_format_of(cap), FLTSIM_CAPTURE_CSV);
    return cap;
}

static const struct fltsim_capture_event *next_ok(struct fltsim_capture *cap)
{
    const struct fltsim_capture_event *ev = NULL;
    int r = fltsim_capture_next(cap, &ev);
    if (r != 1)
        fail_msg("fltsim_capture_next: %d %s", r, fltsim_capture_error(cap));
    return ev;
}

static void assert_end(struct fltsim_capture *cap)
{
    const struct fltsim_capture_event *ev;
    int r = fltsim_capture_next(cap, &ev);
    if (r != 0)
        fail_msg("expected the end, got %d %s", r, fltsim_capture_error(cap));
    assert_int_equal(fltsim_capture_next(cap, &ev), 0); /* and it stays there */
}

struct want {
    uint64_t index, line, offset;
    enum fltsim_capture_class cls;
    const char *operation, *path, *process;
    uint32_t pid, tid;
    bool has_result;
    uint32_t result;
    bool has_duration;
    uint64_t duration;
    bool has_time;
    uint64_t time;
    uint32_t present;
};

static void check(const struct fltsim_capture_event *ev, const struct want *w)
{
    assert_int_equal(ev->index, w->index);
    assert_int_equal(ev->line, w->line);
    assert_int_equal(ev->offset, w->offset);
    assert_int_equal(ev->event_class, w->cls);
    assert_string_equal(ev->operation, w->operation);
    assert_string_equal(ev->path, w->path);
    assert_string_equal(ev->process_name, w->process);
    assert_int_equal(ev->pid, w->pid);
    assert_int_equal(ev->tid, w->tid);
    assert_int_equal(ev->has_result, w->has_result);
    assert_status(ev->result, w->result);
    assert_int_equal(ev->has_duration, w->has_duration);
    assert_int_equal(ev->duration_100ns, w->duration);
    assert_int_equal(ev->has_time_of_day, w->has_time);
    assert_int_equal(ev->time_of_day_100ns, w->time);
    assert_int_equal(ev->params.present, w->present);
    if (w->cls == FLTSIM_CAPTURE_CLASS_FILE_SYSTEM && strcmp(w->operation, "<Unknown>") != 0) {
        assert_non_null(ev->op);
        assert_string_equal(ev->op->name, w->operation);
        assert_int_equal(ev->sub, ev->op->sub);
    } else {
        assert_null(ev->op);
    }
}

#define HMS(h, m, s) ((uint64_t)((h)*3600 + (m)*60 + (s)) * 10000000u)

/* ---- good fixtures ---------------------------------------------------- */

static void csv_default_seven_columns_bom_crlf_reads_exact_events(void **state)
{
    (void)state;
    struct fltsim_capture *cap = open_ok(fixture("default7.csv"));
    const struct fltsim_capture_event *ev = next_ok(cap);
    check(ev, &(struct want){0, 2, 76, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "CreateFile",
                             "C:\\Users\\test\\Desktop\\a.txt", "Explorer.EXE", 1364, 0, true,
                             STATUS_SUCCESS, false, 0, true, HMS(6, 55, 7) + 236729,
                             FLTSIM_CP_ACCESS | FLTSIM_CP_DISPOSITION | FLTSIM_CP_OPTIONS |
                                 FLTSIM_CP_ATTRIBUTES | FLTSIM_CP_SHARE | FLTSIM_CP_ALLOCATION |
                                 FLTSIM_CP_OPEN_RESULT});
    assert_int_equal(ev->params.desired_access, 0x12019F);
    assert_int_equal(ev->params.disposition, FILE_OVERWRITE_IF);
    assert_int_equal(ev->params.create_options,
                     FILE_SYNCHRONOUS_IO_NONALERT | FILE_NON_DIRECTORY_FILE);
    assert_int_equal(ev->params.file_attributes, FILE_ATTRIBUTE_NORMAL);
    assert_int_equal(ev->params.share_access, FILE_SHARE_READ | FILE_SHARE_WRITE);
    assert_int_equal(ev->params.allocation_size, 0);
    assert_int_equal(ev->params.open_result, FILE_CREATED);
    assert_string_equal(ev->result_text, "SUCCESS");

    ev = next_ok(cap);
    check(ev, &(struct want){1, 3, 370, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "ReadFile",
                             "C:\\Users\\test\\Desktop\\a.txt", "Explorer.EXE", 1364, 0, true,
                             STATUS_END_OF_FILE, false, 0, true, HMS(12, 0, 0) + 5000000,
                             FLTSIM_CP_OFFSET | FLTSIM_CP_LENGTH | FLTSIM_CP_IO_FLAGS});
    assert_int_equal(ev->params.offset, 164352);
    assert_int_equal(ev->params.length, 10240);
    assert_int_equal(ev->params.io_flags, IRP_NOCACHE | IRP_PAGING_IO | IRP_SYNCHRONOUS_PAGING_IO);

    ev = next_ok(cap); /* 12 AM is midnight; no Event Class column: Reg* is Registry */
    check(ev, &(struct want){2, 4, 581, FLTSIM_CAPTURE_CLASS_REGISTRY, "RegOpenKey",
                             "HKLM\\Software", "svchost.exe", 908, 0, true,
                             STATUS_OBJECT_NAME_NOT_FOUND, false, 0, true, HMS(0, 0, 1), 0});
    ev = next_ok(cap); /* an unknown operation is no error */
    check(ev, &(struct want){3, 5, 693, FLTSIM_CAPTURE_CLASS_UNKNOWN, "<Unknown>", "C:\\x",
                             "Explorer.EXE", 1364, 0, true, 0xC000046F, false, 0, true,
                             HMS(23, 59, 59) + 9999999, 0});
    assert_string_equal(ev->result_text, "0xC000046F");
    ev = next_ok(cap); /* empty Result: still pending */
    check(ev, &(struct want){4, 6, 773, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "NotifyChangeDirectory",
                             "C:\\Users", "Explorer.EXE", 1364, 0, false, STATUS_PENDING, false, 0,
                             true, HMS(13, 0, 0), FLTSIM_CP_NOTIFY_FILTER});
    assert_int_equal(ev->params.notify_filter, 0x1 | 0x2 /* FILE_NAME | DIR_NAME */);
    assert_end(cap);
    fltsim_capture_close(cap);
}

static void csv_full_columns_lf_no_bom_reads_exact_events(void **state)
{
    (void)state;
    struct fltsim_capture *cap = open_ok(fixture("full27.csv"));
    const struct fltsim_capture_event *ev = next_ok(cap);
    check(ev, &(struct want){0, 2, 326, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "QueryDirectory",
                             "C:\\Windows\\*.exe", "Explorer.EXE", 1364, 3048, true, STATUS_SUCCESS,
                             true, 188, true, HMS(6, 55, 8) + 1000000,
                             FLTSIM_CP_FILE_NAME | FLTSIM_CP_INFO_CLASS});
    assert_string_equal(ev->params.file_name, "*.exe");
    assert_int_equal(ev->params.info_class, 37);
    ev = next_ok(cap);
    check(ev, &(struct want){1, 3, 813, FLTSIM_CAPTURE_CLASS_PROCESS, "Process Start", "",
                             "cmd.exe", 2000, 2004, true, STATUS_SUCCESS, true, 0, true,
                             HMS(6, 55, 8) + 2000000, 0});
    ev = next_ok(cap); /* pending: empty Result and Duration */
    check(ev, &(struct want){2, 4, 1252, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "NotifyChangeDirectory",
                             "C:\\Users\\test\\Desktop", "Explorer.EXE", 1364, 1720, false,
                             STATUS_PENDING, false, 0, true, HMS(6, 55, 8) + 3000000,
                             FLTSIM_CP_NOTIFY_FILTER});
    assert_end(cap);
    fltsim_capture_close(cap);
}

static void csv_reordered_columns_map_by_header_name(void **state)
{
    (void)state;
    struct fltsim_capture *cap = open_ok(fixture("reordered.csv"));
    const struct fltsim_capture_event *ev = next_ok(cap);
    check(ev, &(struct want){0, 2, 92, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "LockFile",
                             "C:\\db\\x.edb", "esent.exe", 500, 77, true, STATUS_SUCCESS, true, 10,
                             false, 0, FLTSIM_CP_LOCK | FLTSIM_CP_OFFSET | FLTSIM_CP_LENGTH});
    assert_true(ev->params.exclusive);
    assert_false(ev->params.fail_immediately);
    assert_int_equal(ev->params.offset, 124);
    assert_int_equal(ev->params.length, 1);
    ev = next_ok(cap);
    check(ev, &(struct want){1, 3, 243, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM,
                             "SetDispositionInformationFile", "C:\\db\\x.tmp", "esent.exe", 500, 77,
                             true, STATUS_SUCCESS, true, 20, false, 0, FLTSIM_CP_DELETE});
    assert_true(ev->params.delete_file);
    ev = next_ok(cap);
    check(ev, &(struct want){2, 4, 363, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "CreateFileMapping",
                             "C:\\Windows\\System32\\a.dll", "esent.exe", 500, 78, true,
                             STATUS_FILE_LOCKED_WITH_ONLY_READERS, true, 30, false, 0,
                             FLTSIM_CP_SYNC_TYPE});
    assert_int_equal(ev->params.sync_type, 1);
    assert_int_equal(ev->params.page_protection, 0x20 | 0x200);
    ev = next_ok(cap);
    check(ev, &(struct want){3, 5, 574, FLTSIM_CAPTURE_CLASS_NETWORK, "TCP Send",
                             "pc:1234 -> server:http", "esent.exe", 500, 79, true, STATUS_SUCCESS,
                             true, 0, false, 0, 0});
    assert_end(cap);
    fltsim_capture_close(cap);
}

static void csv_de_locale_dots_group_commas_decimal(void **state)
{
    (void)state;
    struct fltsim_capture *cap = open_ok(fixture("dede.csv"));
    const struct fltsim_capture_event *ev = next_ok(cap);
    check(ev,
          &(struct want){0, 2, 107, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "WriteFile",
                         "C:\\Temp\\b.txt", "notepad.exe", 4242, 4243, true, STATUS_SUCCESS, true,
                         161, true, HMS(16, 53, 3) + 6001516, FLTSIM_CP_OFFSET | FLTSIM_CP_LENGTH});
    assert_int_equal(ev->params.offset, 4096);
    assert_int_equal(ev->params.length, 1024);
    ev = next_ok(cap);
    check(ev,
          &(struct want){1, 3, 268, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "SetEndOfFileInformationFile",
                         "C:\\Temp\\b.txt", "notepad.exe", 4242, 4243, true, STATUS_SUCCESS, true,
                         125000000, true, HMS(16, 53, 4), FLTSIM_CP_END_OF_FILE});
    assert_int_equal(ev->params.end_of_file, 1048576);
    ev = next_ok(cap);
    check(ev, &(struct want){2, 4, 422, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM,
                             "QueryStandardInformationFile", "C:\\Temp\\b.txt", "notepad.exe", 4242,
                             4243, true, STATUS_SUCCESS, true, 1, true, 1, FLTSIM_CP_END_OF_FILE});
    assert_int_equal(ev->params.end_of_file, 5120);
    assert_end(cap);
    fltsim_capture_close(cap);
}

static void csv_pl_locale_nbsp_groups_and_localized_class(void **state)
{
    (void)state;
    struct fltsim_capture *cap = open_ok(fixture("plpl.csv"));
    const struct fltsim_capture_event *ev = next_ok(cap);
    /* "System plików" is no class name we know: classified by the operation */
    check(ev, &(struct want){0, 2, 107, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "ReadFile",
                             "C:\\Temp\\c.bin", "svchost.exe", 1000, 1001, true, STATUS_SUCCESS,
                             true, 12345000000, true, HMS(16, 53, 3) + 6001516,
                             FLTSIM_CP_OFFSET | FLTSIM_CP_LENGTH | FLTSIM_CP_IO_FLAGS});
    assert_int_equal(ev->params.offset, 1048576);
    assert_int_equal(ev->params.length, 4096);
    assert_int_equal(ev->params.io_flags, IRP_NOCACHE | IRP_PAGING_IO);
    ev = next_ok(cap);
    check(ev, &(struct want){1, 3, 317, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM,
                             "FASTIO_ACQUIRE_FOR_MOD_WRITE", "C:\\Temp\\c.bin", "svchost.exe", 1000,
                             1001, true, STATUS_SUCCESS, true, 12, true, HMS(16, 53, 3) + 7000000,
                             FLTSIM_CP_ENDING_OFFSET});
    assert_int_equal(ev->params.ending_offset, 32768);
    assert_end(cap);
    fltsim_capture_close(cap);
}

static void csv_doubled_quotes_and_embedded_newlines_keep_lines(void **state)
{
    (void)state;
    struct fltsim_capture *cap = open_ok(fixture("quotes.csv"));
    const struct fltsim_capture_event *ev = next_ok(cap);
    check(ev, &(struct want){0, 2, 73, FLTSIM_CAPTURE_CLASS_PROCESS, "Process Start", "", "cmd.exe",
                             2000, 0, true, STATUS_SUCCESS, false, 0, true, HMS(9, 0, 0), 0});
    assert_string_equal(ev->detail,
                        "Command line: \"cmd.exe\" /c echo \"hi\"\r\nsecond line\r\nthird line");
    ev = next_ok(cap); /* starts on line 5: the record above spans three */
    check(ev,
          &(struct want){1, 5, 209, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "SetRenameInformationFile",
                         "C:\\dir\\\"odd\".txt", "cmd.exe", 2000, 0, true, STATUS_SUCCESS, false, 0,
                         true, HMS(9, 0, 0) + 1000000, FLTSIM_CP_REPLACE | FLTSIM_CP_FILE_NAME});
    assert_false(ev->params.replace_if_exists);
    assert_string_equal(ev->params.file_name, "C:\\dir\\new, name.txt");
    ev = next_ok(cap);
    check(ev, &(struct want){2, 6, 363, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "QuerySecurityFile",
                             "C:\\dir", "cmd.exe", 2000, 0, true, STATUS_BUFFER_OVERFLOW, false, 0,
                             true, HMS(9, 0, 0) + 2000000, FLTSIM_CP_SECURITY_INFO});
    assert_int_equal(ev->params.security_information, 0x1BF); /* 0x100: raw */
    assert_end(cap);
    fltsim_capture_close(cap);
}

/* The same file gzip-compressed reads the same: offsets are uncompressed. */
static void csv_gzip_compressed_reads_like_plain(void **state)
{
    (void)state;
    char path[] = "/tmp/fltsim_capture_XXXXXX";
    test_gzip_temp(path, fixture("quotes.csv"));
    struct fltsim_capture *cap = open_ok(path);
    const struct fltsim_capture_event *ev = next_ok(cap);
    ev = next_ok(cap);
    assert_int_equal(ev->line, 5);
    assert_int_equal(ev->offset, 209);
    assert_string_equal(ev->operation, "SetRenameInformationFile");
    next_ok(cap);
    assert_end(cap);
    assert_true(fltsim_capture_position(cap) > 0);
    assert_true(fltsim_capture_position(cap) <= fltsim_capture_size(cap));
    fltsim_capture_close(cap);
    unlink(path);
}

/* ---- malformed files --------------------------------------------------- */

/* Opens text as a CSV; returns the error after the "PATH: " prefix, either
 * from open or from reading to the end. */
static const char *csv_error_of(const char *text, size_t len, int *events)
{
    static char error[700];
    char path[] = "/tmp/fltsim_capture_XXXXXX";
    test_write_temp_bytes(path, text, len);
    *events = 0;
    struct fltsim_capture *cap =
        fltsim_capture_open(path, FLTSIM_CAPTURE_CSV, error, sizeof(error));
    if (cap != NULL) {
        const struct fltsim_capture_event *ev;
        int r;
        while ((r = fltsim_capture_next(cap, &ev)) == 1)
            (*events)++;
        assert_int_equal(r, -1);
        assert_int_equal(fltsim_capture_next(cap, &ev), -1); /* reading stays stopped */
        snprintf(error, sizeof(error), "%s", fltsim_capture_error(cap));
        fltsim_capture_close(cap);
    }
    unlink(path);
    size_t plen = strlen(path);
    assert_true(strncmp(error, path, plen) == 0 && error[plen] == ':' && error[plen + 1] == ' ');
    return error + plen + 2;
}

#define H7                                                                                         \
    "\"Time of Day\",\"Process Name\",\"PID\",\"Operation\",\"Path\",\"Result\",\"Detail\"\r\n"
#define ROW_OK "\"1:00:00.0 AM\",\"a.exe\",\"1\",\"CloseFile\",\"C:\\x\",\"SUCCESS\",\"\"\r\n"

static void expect_error(const char *text, int events, const char *expected)
{
    int got;
    const char *error = csv_error_of(text, strlen(text), &got);
    assert_string_equal(error, expected);
    assert_int_equal(got, events);
}

static void csv_header_without_operation_fails_at_open(void **state)
{
    (void)state;
    expect_error("\"Time of Day\",\"Process Name\",\"PID\",\"Path\",\"Result\"\r\n" ROW_OK, 0,
                 "line 1: the header has no \"Operation\" column");
    expect_error("\"Operation\",\"Path\",\"Result\",\"PID\"\n", 0,
                 "line 1: the header has no \"Process Name\" column");
}

static void csv_short_row_is_reported_with_row_and_line(void **state)
{
    (void)state;
    expect_error(H7 ROW_OK "\"1:00:00.0 AM\",\"a.exe\",\"1\",\"CloseFile\"\r\n", 1,
                 "row 2 (line 3): expected 7 fields, found 4");
}

static void csv_bad_pid_is_reported(void **state)
{
    (void)state;
    expect_error(H7 ROW_OK ROW_OK
                 "\"1:00:00.0 AM\",\"a.exe\",\"12a\",\"CloseFile\",\"C:\\x\",\"SUCCESS\",\"\"\r\n",
                 2, "row 3 (line 4): PID \"12a\" is not a number");
}

static void csv_bad_result_time_duration_are_reported(void **state)
{
    (void)state;
    expect_error(
        H7 "\"1:00:00.0 AM\",\"a.exe\",\"1\",\"CloseFile\",\"C:\\x\",\"NOT A STATUS\",\"\"\r\n", 0,
        "row 1 (line 2): Result \"NOT A STATUS\" is not a ProcMon status name or 0x code");
    expect_error(H7 "\"25:00:00.0\",\"a.exe\",\"1\",\"CloseFile\",\"C:\\x\",\"SUCCESS\",\"\"\r\n",
                 0, "row 1 (line 2): Time of Day \"25:00:00.0\" is not a time");
    expect_error("\"Process Name\",\"PID\",\"Operation\",\"Path\",\"Result\",\"Duration\"\n"
                 "\"a.exe\",\"1\",\"CloseFile\",\"C:\\x\",\"SUCCESS\",\"1.2.3x\"\n",
                 0, "row 1 (line 2): Duration \"1.2.3x\" is not a number of seconds");
}

static void csv_undecodable_detail_names_row_and_key(void **state)
{
    (void)state;
    expect_error(H7 ROW_OK "\"1:00:00.0 AM\",\"a.exe\",\"1\",\"ReadFile\",\"C:\\x\",\"SUCCESS\","
                           "\"Offset: 12 apples, Length: 4\"\r\n",
                 1, "row 2 (line 3): ReadFile Detail key \"Offset\": cannot decode \"12 apples\"");
    expect_error(H7 "\"1:00:00.0 AM\",\"a.exe\",\"1\",\"FileSystemControl\",\"C:\",\"SUCCESS\","
                    "\"Control: 0xZZ (Device:0x9)\"\r\n",
                 0,
                 "row 1 (line 2): FileSystemControl Detail key \"Control\": cannot decode "
                 "\"0xZZ (Device:0x9)\"");
}

static void csv_garbage_bytes_fail_cleanly(void **state)
{
    (void)state;
    static const char garbage[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\"x\"y";
    int events;
    const char *error = csv_error_of(garbage, sizeof(garbage) - 1, &events);
    assert_string_equal(error, "line 1: the header has no \"Operation\" column");
    assert_int_equal(events, 0);
    expect_error(H7 "\"1:00:00.0 AM\",\"a.exe\"x,\"1\"\r\n", 0,
                 "row 1 (line 2): malformed CSV: a quote inside an unquoted field or text after "
                 "a closing quote");
}

static void csv_truncated_quote_at_eof_is_reported(void **state)
{
    (void)state;
    expect_error(H7 ROW_OK "\"1:00:00.0 AM\",\"a.exe\",\"1\",\"CloseFile\",\"C:\\x\",\"SUCC", 1,
                 "row 2 (line 3): the file ends inside a quoted field");
}

/* A row whose "Command Line" field holds n bytes of 'a' (after a row that
 * is fine): the text, for csv_error_of or a file. */
static char *long_field_capture(size_t n, size_t *len)
{
    static const char head[] = "\"Time of Day\",\"Process Name\",\"PID\",\"Operation\","
                               "\"Path\",\"Result\",\"Command Line\"\r\n"
                               "\"1:00:00.0 AM\",\"a.exe\",\"1\",\"CloseFile\",\"C:\\x\","
                               "\"SUCCESS\",\"a\"\r\n"
                               "\"1:00:00.0 AM\",\"a.exe\",\"1\",\"CloseFile\",\"C:\\x\","
                               "\"SUCCESS\",\"";
    char *text = malloc(sizeof(head) + n + 8);
    assert_non_null(text);
    memcpy(text, head, sizeof(head) - 1);
    memset(text + sizeof(head) - 1, 'a', n);
    memcpy(text + sizeof(head) - 1 + n, "\"\r\n", 4);
    *len = sizeof(head) - 1 + n + 3;
    return text;
}

/* Issue 16: libcsv grew a field 128 bytes at a time (an 8 MiB field took
 * minutes under ASan); now a field up to 1 MiB reads (the buffer doubles)
 * and a longer one is an error naming its row, line and column. */
static void csv_long_field_reads_and_longer_is_refused(void **state)
{
    (void)state;
    size_t len;
    char *text = long_field_capture((1u << 20) - 16, &len);
    char path[] = "/tmp/fltsim_capture_XXXXXX";
    test_write_temp_bytes(path, text, len);
    free(text);
    struct fltsim_capture *cap = open_ok(path);
    const struct fltsim_capture_event *ev;
    assert_int_equal(fltsim_capture_next(cap, &ev), 1);
    assert_int_equal(fltsim_capture_next(cap, &ev), 1);
    assert_string_equal(ev->operation, "CloseFile");
    assert_end(cap);
    fltsim_capture_close(cap);
    unlink(path);

    text = long_field_capture(8u << 20, &len);
    int events;
    const char *error = csv_error_of(text, len, &events);
    free(text);
    assert_string_equal(error, "row 2 (line 3): field 7 (\"Command Line\") is longer than 1 MiB "
                               "(an unterminated quote?)");
    assert_int_equal(events, 1);
    /* an unterminated quote meets the same limit, in the header too */
    static const char unterminated[] = "\"Operation\",\"Path";
    char *big = malloc(sizeof(unterminated) + (2u << 20));
    assert_non_null(big);
    memcpy(big, unterminated, sizeof(unterminated) - 1);
    memset(big + sizeof(unterminated) - 1, 'b', 2u << 20);
    error = csv_error_of(big, sizeof(unterminated) - 1 + (2u << 20), &events);
    assert_string_equal(error,
                        "row 0 (line 1): field 2 is longer than 1 MiB (an unterminated quote?)");
    free(big);
}

static void csv_empty_file_fails_at_open(void **state)
{
    (void)state;
    expect_error("", 0, "line 1: empty file: no header row");
    expect_error("\xEF\xBB\xBF\r\n\r\n", 0, "line 1: empty file: no header row");
}

static void csv_header_only_has_no_events(void **state)
{
    (void)state;
    char path[] = "/tmp/fltsim_capture_XXXXXX";
    test_write_temp(path, H7);
    struct fltsim_capture *cap = open_ok(path);
    assert_end(cap);
    fltsim_capture_close(cap);
    unlink(path);
}

static void csv_last_row_without_newline_is_read(void **state)
{
    (void)state;
    char path[] = "/tmp/fltsim_capture_XXXXXX";
    test_write_temp(path,
                    H7 "\"1:00:00.0 AM\",\"a.exe\",\"7\",\"CloseFile\",\"C:\\x\",\"SUCCESS\",\"\"");
    struct fltsim_capture *cap = open_ok(path);
    const struct fltsim_capture_event *ev = next_ok(cap);
    assert_int_equal(ev->pid, 7);
    assert_int_equal(ev->line, 2);
    assert_end(cap);
    fltsim_capture_close(cap);
    unlink(path);
}

/* ---- the Result table -------------------------------------------------- */

static void status_names_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t code;
    } cases[] = {
        {"SUCCESS", 0},
        {"REPARSE", 0x104},
        {"NOTIFY ENUM DIR", 0x10C},
        {"FILE LOCKED WITH ONLY READERS", 0x12A},
        {"FILE LOCKED WITH WRITERS", 0x12B},
        {"OPLOCK HANDLE CLOSED", 0x216},
        {"BUFFER OVERFLOW", 0x80000005},
        {"NO MORE FILES", 0x80000006},
        {"NO MORE ENTRIES", 0x8000001A},
        {"INVALID PARAMETER", 0xC000000D},
        {"NAME NOT FOUND", 0xC0000034},
        {"BUFFER TOO SMALL", 0xC0000023},
        {"SHARING VIOLATION", 0xC0000043},
        {"DELETE PENDING", 0xC0000056},
        {"BAD NETWORK PATH", 0xC00000BE},
        {"BAD NETWORK NAME", 0xC00000CC},
        {"OFFLOAD READ FILE NOT SUPPORTED", 0xC000A2A3},
        {"FAST IO DISALLOWED", 0xC01C0004},
    };
    char buf[16];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        NTSTATUS s = 0x12345678;
        assert_true(fltsim_capture_status_parse(cases[i].name, &s));
        assert_status(s, cases[i].code);
        assert_string_equal(fltsim_capture_status_name((NTSTATUS)cases[i].code, buf, sizeof(buf)),
                            cases[i].name);
    }
}

static void status_duplicates_hex_pending_and_bad_text(void **state)
{
    (void)state;
    char buf[16];
    NTSTATUS s;
    /* the second code of a shared name prints the name, which parses to the first */
    assert_string_equal(fltsim_capture_status_name((NTSTATUS)0xC00000C1, buf, sizeof(buf)),
                        "BAD NETWORK PATH");
    assert_string_equal(fltsim_capture_status_name((NTSTATUS)0xC00000D4, buf, sizeof(buf)),
                        "BAD NETWORK NAME");
    assert_string_equal(fltsim_capture_status_name((NTSTATUS)0xC000A2A4, buf, sizeof(buf)),
                        "OFFLOAD READ FILE NOT SUPPORTED");
    assert_true(fltsim_capture_status_parse("0xC000046F", &s));
    assert_status(s, 0xC000046F);
    assert_string_equal(fltsim_capture_status_name((NTSTATUS)0xC000046F, buf, sizeof(buf)),
                        "0xC000046F");
    assert_string_equal(fltsim_capture_status_name((NTSTATUS)0xC000CF0A, buf, sizeof(buf)),
                        "0xC000CF0A");
    assert_true(fltsim_capture_status_parse("", &s));
    assert_status(s, STATUS_PENDING);
    assert_string_equal(fltsim_capture_status_name(STATUS_PENDING, buf, sizeof(buf)), "");
    /* procmon-parser's underscore spellings */
    assert_true(fltsim_capture_status_parse("BUFFER_OVERFLOW", &s));
    assert_status(s, STATUS_BUFFER_OVERFLOW);
    assert_false(fltsim_capture_status_parse("success", &s));
    assert_false(fltsim_capture_status_parse("0x", &s));
    assert_false(fltsim_capture_status_parse("0x1FFFFFFFF", &s));
    assert_false(fltsim_capture_status_parse("0xC00G", &s));
    assert_false(fltsim_capture_status_parse("NAME NOT FOUND ", &s));
    assert_false(fltsim_capture_status_parse(NULL, &s));
}

/* ---- the Detail decoder ------------------------------------------------ */

static struct fltsim_capture_params decode(const char *op_name, const char *detail)
{
    static char strings[256];
    char error[200];
    struct fltsim_capture_params p;
    const struct fltsim_capture_op *op = fltsim_capture_op_by_name(op_name);
    assert_non_null(op);
    if (!fltsim_capture_detail_parse(op, detail, &p, strings, sizeof(strings), error,
                                     sizeof(error)))
        fail_msg("%s: %s", detail, error);
    return p;
}

static const char *decode_error(const char *op_name, const char *detail)
{
    static char error[200];
    char strings[64];
    struct fltsim_capture_params p;
    assert_false(fltsim_capture_detail_parse(fltsim_capture_op_by_name(op_name), detail, &p,
                                             strings, sizeof(strings), error, sizeof(error)));
    return error;
}

static void detail_create_keys_decode(void **state)
{
    (void)state;
    struct fltsim_capture_params p = decode(
        "CreateFile", "Desired Access: Read Data/List Directory, Execute/Traverse, Synchronize, "
                      "Disposition: Open, Options: Directory, Synchronous IO Non-Alert, Open For "
                      "Backup, Attributes: n/a, ShareMode: Read, Write, Delete, AllocationSize: "
                      "n/a, Impersonating: NT AUTHORITY\\SYSTEM, OpenResult: Opened");
    assert_int_equal(p.present, FLTSIM_CP_ACCESS | FLTSIM_CP_DISPOSITION | FLTSIM_CP_OPTIONS |
                                    FLTSIM_CP_ATTRIBUTES | FLTSIM_CP_SHARE | FLTSIM_CP_OPEN_RESULT);
    assert_int_equal(p.desired_access, 0x100021);
    assert_int_equal(p.disposition, FILE_OPEN);
    assert_int_equal(p.create_options, 0x4021);
    assert_int_equal(p.file_attributes, 0);
    assert_int_equal(p.share_access, 7);
    assert_int_equal(p.open_result, FILE_OPENED);
    p = decode("CreateFile", "Desired Access: All Access, Disposition: Supersede, Options: , "
                             "Attributes: RHSDANTSFRPCONCIEV, ShareMode: None, AllocationSize: "
                             "1,024");
    assert_int_equal(p.desired_access, 0x1F01FF);
    assert_int_equal(p.disposition, FILE_SUPERSEDE);
    assert_int_equal(p.create_options, 0);
    assert_int_equal(p.file_attributes, 0x17FB7);
    assert_int_equal(p.share_access, 0);
    assert_int_equal(p.allocation_size, 1024);
    assert_false(p.present & FLTSIM_CP_OPEN_RESULT);
    p = decode("CreateFile",
               "Desired Access: Generic Read/Write/Execute, Generic Write/Execute, "
               "Generic Execute, Maximum Allowed, Access System Security, Disposition: "
               "Create, Options: Open Reparse Point, Attributes: NCI, ShareMode: "
               "Read, AllocationSize: 0, OpenResult: <unknown>");
    assert_int_equal(p.desired_access, 0x1201BF | 0x1201B6 | 0x1200A0 | 0x2000000 | 0x1000000);
    assert_false(p.present & FLTSIM_CP_OPEN_RESULT);
    p = decode("CreateFile", "Desired Access: None 0x0, Disposition: OverwriteIf");
    assert_int_equal(p.desired_access, 0);
    assert_true(p.present & FLTSIM_CP_ACCESS);
    assert_string_equal(decode_error("CreateFile", "Desired Access: Read Stuff, Disposition: Open"),
                        "CreateFile Detail key \"Desired Access\": cannot decode \"Read Stuff\"");
    assert_string_equal(decode_error("CreateFile", "Disposition: Reopen"),
                        "CreateFile Detail key \"Disposition\": cannot decode \"Reopen\"");
    assert_string_equal(decode_error("CreateFile", "Attributes: QX"),
                        "CreateFile Detail key \"Attributes\": cannot decode \"QX\"");
    assert_string_equal(decode_error("CreateFile", "ShareMode: Read, Exclusive"),
                        "CreateFile Detail key \"ShareMode\": cannot decode \"Read, Exclusive\"");
    assert_string_equal(decode_error("CreateFile", "OpenResult: Maybe"),
                        "CreateFile Detail key \"OpenResult\": cannot decode \"Maybe\"");
}

static void detail_read_write_keys_decode_locales(void **state)
{
    (void)state;
    struct fltsim_capture_params p =
        decode("WriteFile", "Offset: 1.234.567, Length: 4\xC2\xA0"
                            "096, I/O Flags: Non-cached, Paging I/O, Synchronous Paging I/O, "
                            "Write Through, Priority: Very Low");
    assert_int_equal(p.offset, 1234567);
    assert_int_equal(p.length, 4096);
    assert_int_equal(p.io_flags, 0x43 | FLTSIM_CAPTURE_IO_WRITE_THROUGH);
    p = decode("ReadFile", "Offset: 4 096, Length: 1'024, I/O Flags: Synchronous, Buffered");
    assert_int_equal(p.offset, 4096);
    assert_int_equal(p.length, 1024);
    assert_int_equal(p.io_flags, 0x14);
    p = decode("ReadFile", "Offset: n/a, Length: 16,022, Priority: Normal");
    assert_int_equal(p.present, FLTSIM_CP_LENGTH);
    /* an unknown key after a number is skipped, not glued onto the number */
    p = decode("ReadFile", "Offset: 8, Length: 3, Key: 7, Priority: Normal");
    assert_int_equal(p.length, 3);
    assert_string_equal(decode_error("ReadFile", "Offset: ,5"),
                        "ReadFile Detail key \"Offset\": cannot decode \",5\"");
    assert_string_equal(decode_error("ReadFile", "Offset: 5,"),
                        "ReadFile Detail key \"Offset\": cannot decode \"5,\"");
    assert_string_equal(decode_error("ReadFile", "Length: 99999999999"),
                        "ReadFile Detail key \"Length\": cannot decode \"99999999999\"");
    assert_string_equal(decode_error("ReadFile", "Offset: 99999999999999999999"),
                        "ReadFile Detail key \"Offset\": cannot decode \"99999999999999999999\"");
    assert_string_equal(decode_error("ReadFile", "I/O Flags: Sometimes"),
                        "ReadFile Detail key \"I/O Flags\": cannot decode \"Sometimes\"");
}

static void detail_directory_and_notify_keys_decode(void **state)
{
    (void)state;
    struct fltsim_capture_params p =
        decode("QueryDirectory", "Filter: Windows, 1: Windows, FileInformationClass: "
                                 "FileBothDirectoryInformation");
    assert_int_equal(p.present, FLTSIM_CP_FILE_NAME | FLTSIM_CP_INFO_CLASS);
    assert_string_equal(p.file_name, "Windows");
    assert_int_equal(p.info_class, 3);
    p = decode("QueryDirectory", "FileInformationClass: FileIdExtdBothDirectoryInformation, "
                                 "Filter: gcc.*, 2: gcc.exe");
    assert_string_equal(p.file_name, "gcc.*");
    assert_int_equal(p.info_class, 63);
    p = decode("QueryDirectory", "0: ., 1: .., 2: a, b: c.txt");
    assert_int_equal(p.present, 0);
    p = decode("QueryDirectory", "");
    assert_int_equal(p.present, 0);
    assert_string_equal(decode_error("QueryDirectory", "FileInformationClass: FileBogus"),
                        "QueryDirectory Detail key \"FileInformationClass\": cannot decode "
                        "\"FileBogus\"");
    p = decode("NotifyChangeDirectory",
               "Filter: FILE_NOTIFY_CHANGE_NAME, FILE_NOTIFY_CHANGE_STREAM_WRITE, 0x1000");
    assert_int_equal(p.notify_filter, 0x3 | 0x800 | 0x1000);
    assert_string_equal(decode_error("NotifyChangeDirectory", "Filter: FILE_NOTIFY_CHANGE_ALL"),
                        "NotifyChangeDirectory Detail key \"Filter\": cannot decode "
                        "\"FILE_NOTIFY_CHANGE_ALL\"");
}

static void detail_control_keys_decode(void **state)
{
    (void)state;
    struct fltsim_capture_params p = decode("FileSystemControl", "Control: FSCTL_REQUEST_OPLOCK");
    assert_int_equal(p.present, FLTSIM_CP_CONTROL);
    assert_int_equal(p.control_code, 0x90240);
    p = decode("FileSystemControl", "Control: 0x902eb (Device:0x9 Function:186 Method: 3)");
    assert_int_equal(p.control_code, 0x902EB);
    p = decode("FileSystemControl", "Control: FSCTL_OFFLOAD_READ, Offset: 0, Length: 2,097,152");
    assert_int_equal(p.control_code, 0x94264);
    assert_int_equal(p.offset, 0);
    assert_int_equal(p.length, 2097152);
    p = decode("DeviceIoControl", "Control: IOCTL_MOUNTDEV_QUERY_DEVICE_NAME");
    assert_int_equal(p.control_code, 0x4D0008);
    p = decode("FileSystemControl", "Control: CSC_FSCTL_OPERATION_QUERY_HANDLE");
    assert_int_equal(p.control_code, 0x901AF);
    /* A name fltsim's table does not hold leaves the code unknown. */
    p = decode("FileSystemControl", "Control: FSCTL_NO_SUCH_THING");
    assert_int_equal(p.present, 0);
    assert_string_equal(
        decode_error("DeviceIoControl", "Control: 0xZZ (Device:0x9)"),
        "DeviceIoControl Detail key \"Control\": cannot decode \"0xZZ (Device:0x9)\"");
}

static void detail_mapping_lock_and_fastio_keys_decode(void **state)
{
    (void)state;
    struct fltsim_capture_params p = decode("CreateFileMapping", "SyncType: SyncTypeOther");
    assert_int_equal(p.present, FLTSIM_CP_SYNC_TYPE);
    assert_int_equal(p.sync_type, 0);
    p = decode("CreateFileMapping",
               "SyncType: SyncTypeCreateSection, PageProtection: |PAGE_NOCACHE");
    assert_int_equal(p.sync_type, 1);
    assert_int_equal(p.page_protection, 0x200);
    assert_string_equal(
        decode_error("CreateFileMapping", "SyncType: SyncTypeMaybe"),
        "CreateFileMapping Detail key \"SyncType\": cannot decode \"SyncTypeMaybe\"");
    assert_string_equal(decode_error("CreateFileMapping", "PageProtection: PAGE_SOMETIMES"),
                        "CreateFileMapping Detail key \"PageProtection\": cannot decode "
                        "\"PAGE_SOMETIMES\"");
    p = decode("LockFile", "Exclusive: False, Offset: 124, Length: 1, Fail Immediately: True");
    assert_int_equal(p.present, FLTSIM_CP_LOCK | FLTSIM_CP_OFFSET | FLTSIM_CP_LENGTH);
    assert_false(p.exclusive);
    assert_true(p.fail_immediately);
    p = decode("UnlockFileSingle", "Offset: 124, Length: 1");
    assert_int_equal(p.present, FLTSIM_CP_OFFSET | FLTSIM_CP_LENGTH);
    assert_string_equal(decode_error("LockFile", "Exclusive: Yes"),
                        "LockFile Detail key \"Exclusive\": cannot decode \"Yes\"");
    p = decode("FASTIO_ACQUIRE_FOR_MOD_WRITE", "EndingOffset: 32,768");
    assert_int_equal(p.ending_offset, 32768);
    p = decode("FASTIO_MDL_READ_COMPLETE", "MDL: 0xffffa90f24a614f0");
    assert_int_equal(p.present, 0);
}

static void detail_set_information_keys_decode(void **state)
{
    (void)state;
    struct fltsim_capture_params p = decode("SetDispositionInformationFile", "Delete: False");
    assert_int_equal(p.present, FLTSIM_CP_DELETE);
    assert_false(p.delete_file);
    p = decode("SetDispositionInformationEx",
               "Flags: FILE_DISPOSITION_DELETE, FILE_DISPOSITION_POSIX_SEMANTICS, "
               "FILE_DISPOSITION_FORCE_IMAGE_SECTION_CHECK");
    assert_int_equal(p.present, FLTSIM_CP_DISPOSITION_FLAGS);
    assert_int_equal(p.disposition_flags, 7);
    p = decode("SetRenameInformationFile",
               "ReplaceIfExists: True, FileName: C:\\Users\\x\\inventory.csv.WNCRY");
    assert_true(p.replace_if_exists);
    assert_string_equal(p.file_name, "C:\\Users\\x\\inventory.csv.WNCRY");
    p = decode("SetRenameInformationEx", "ReplaceIfExists: False, FileName: C:\\a");
    assert_int_equal(p.present, FLTSIM_CP_REPLACE | FLTSIM_CP_FILE_NAME);
    p = decode("SetEndOfFileInformationFile", "EndOfFile: 4,096");
    assert_int_equal(p.end_of_file, 4096);
    p = decode("SetAllocationInformationFile", "AllocationSize: 70");
    assert_int_equal(p.present, FLTSIM_CP_END_OF_FILE);
    assert_int_equal(p.end_of_file, 70);
    p = decode("SetBasicInformationFile",
               "CreationTime: 1/1/1601 12:00:00 AM, LastAccessTime: 1/1/1601 12:00:00 AM, "
               "LastWriteTime: 7/11/2020 4:33:18 PM, ChangeTime: 1/1/1601 12:00:00 AM, "
               "FileAttributes: n/a");
    assert_int_equal(p.present, FLTSIM_CP_ATTRIBUTES);
    assert_int_equal(p.file_attributes, 0);
    assert_string_equal(decode_error("SetDispositionInformationFile", "Delete: 1"),
                        "SetDispositionInformationFile Detail key \"Delete\": cannot decode \"1\"");
    assert_string_equal(decode_error("SetDispositionInformationEx", "Flags: FILE_DISPOSITION_NOW"),
                        "SetDispositionInformationEx Detail key \"Flags\": cannot decode "
                        "\"FILE_DISPOSITION_NOW\"");
}

static void detail_query_and_security_keys_decode(void **state)
{
    (void)state;
    struct fltsim_capture_params p =
        decode("QueryBasicInformationFile",
               "CreationTime: 7/12/2020 1:17:45 AM, LastAccessTime: 7/12/2020 1:17:45 AM, "
               "LastWriteTime: 7/12/2020 1:17:45 AM, ChangeTime: 7/12/2020 1:17:45 AM, "
               "FileAttributes: HSDNCI");
    assert_int_equal(p.present, FLTSIM_CP_FILE_ATTRS_OUT);
    assert_int_equal(p.queried_attributes, 0x2 | 0x4 | 0x10 | 0x2000);
    /* NetworkOpen prints AllocationSize and EndOfFile as dates: not decoded */
    p = decode("QueryNetworkOpenInformationFile",
               "CreationTime: 7/11/2020 3:46:54 PM, AllocationSize: 1/1/1601 12:00:00 AM, "
               "EndOfFile: 1/1/1601 12:00:00 AM, FileAttributes: RD");
    assert_int_equal(p.present, FLTSIM_CP_FILE_ATTRS_OUT);
    assert_int_equal(p.queried_attributes, 0x11);
    p = decode("QueryAttributeTagFile", "Attributes: ASF, ReparseTag: 0x0");
    assert_int_equal(p.queried_attributes, 0x220);
    p = decode("QueryStandardInformationFile", "AllocationSize: 249,856, EndOfFile: 246,784, "
                                               "NumberOfLinks: 2, DeletePending: False, "
                                               "Directory: False");
    assert_int_equal(p.present, FLTSIM_CP_END_OF_FILE);
    assert_int_equal(p.end_of_file, 246784);
    p = decode("QueryAllInformationFile", "CreationTime: 9/29/2017 1:41:56 PM, FileAttributes: A, "
                                          "AllocationSize: 249,856, EndOfFile: 246,784, "
                                          "NumberOfLinks: 2, IndexNumber: 0x10000000058ab");
    assert_int_equal(p.present, FLTSIM_CP_FILE_ATTRS_OUT | FLTSIM_CP_END_OF_FILE);
    assert_string_equal(decode_error("QueryAttributeTagFile", "Attributes: AZ"),
                        "QueryAttributeTagFile Detail key \"Attributes\": cannot decode \"AZ\"");
    p = decode("SetSecurityFile", "Information: Owner, Group, DACL, SACL, Label, DACL Protected, "
                                  "SACL Unprotected");
    assert_int_equal(p.security_information, 0x1F | 0x80000000 | 0x10000000);
    assert_string_equal(decode_error("QuerySecurityFile", "Information: Everything"),
                        "QuerySecurityFile Detail key \"Information\": cannot decode "
                        "\"Everything\"");
    /* operations without parameters ignore whatever they print */
    p = decode("QueryNameInformationFile", "Name: \\Windows\\explorer.exe");
    assert_int_equal(p.present, 0);
    p = decode("QueryInformationVolume", "VolumeCreationTime: 7/11/2020 9:07:57 PM, "
                                         "VolumeSerialNumber: A85A-5794, SupportsObjects: True");
    assert_int_equal(p.present, 0);
}

static void detail_null_op_and_small_string_space(void **state)
{
    (void)state;
    struct fltsim_capture_params p;
    char error[100], tiny[4];
    assert_true(fltsim_capture_detail_parse(NULL, "Offset: x", &p, tiny, sizeof(tiny), error,
                                            sizeof(error)));
    assert_int_equal(p.present, 0);
    assert_false(fltsim_capture_detail_parse(fltsim_capture_op_by_name("QueryDirectory"),
                                             "Filter: longer.txt", &p, tiny, sizeof(tiny), error,
                                             sizeof(error)));
    assert_string_equal(error,
                        "QueryDirectory Detail key \"Filter\": cannot decode \"longer.txt\"");
}

/* ---- the real captures ------------------------------------------------- */

static void real_capture(const char *name, uint64_t rows)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", FLTSIM_TEST_TRACES_DIR, name);
    if (access(path, R_OK) != 0) {
        print_message("[  SKIP    ] %s: not present (the real captures are procmon-parser's "
                      "test resources, ../shared/TRACES.md; cmake -DFLTSIM_TRACES_DIR=DIR)\n",
                      path);
        skip();
    }
    struct fltsim_capture *cap = open_ok(path);
    const struct fltsim_capture_event *ev;
    int r;
    uint64_t n = 0, fs = 0, unknown = 0, decoded = 0;
    while ((r = fltsim_capture_next(cap, &ev)) == 1) {
        assert_int_equal(ev->index, n);
        n++;
        if (ev->event_class != FLTSIM_CAPTURE_CLASS_FILE_SYSTEM)
            continue;
        fs++;
        if (ev->op == NULL) {
            if (strcmp(ev->operation, "<Unknown>") != 0)
                fail_msg("row %llu: unmapped operation %s", (unsigned long long)n, ev->operation);
            unknown++;
        } else if (ev->params.present != 0) {
            decoded++;
        }
    }
    if (r != 0)
        fail_msg("%s", fltsim_capture_error(cap));
    assert_int_equal(n, rows);
    assert_true(fs > 0 && decoded > 0);
    print_message("%s: %llu rows, %llu file system (%llu <Unknown>), %llu with parameters\n", name,
                  (unsigned long long)n, (unsigned long long)fs, (unsigned long long)unknown,
                  (unsigned long long)decoded);
    fltsim_capture_close(cap);
}

static void real_win10_1709_mixed_reads_to_end(void **state)
{
    (void)state;
    real_capture("win10-1709-x64_mixed.csv.gz", 53214);
}

static void real_win10_1903_fs_uncommon_reads_to_end(void **state)
{
    (void)state;
    real_capture("win10-1903-x64_fs-uncommon.csv.gz", 31569);
}

static void real_win7_fs_uncommon_reads_to_end(void **state)
{
    (void)state;
    real_capture("win7-x86_fs-uncommon.csv.gz", 8577);
}

static void real_win7_mixed_reads_to_end(void **state)
{
    (void)state;
    real_capture("win7-x86_mixed.csv.gz", 32930);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_default_seven_columns_bom_crlf_reads_exact_events),
        cmocka_unit_test(csv_full_columns_lf_no_bom_reads_exact_events),
        cmocka_unit_test(csv_reordered_columns_map_by_header_name),
        cmocka_unit_test(csv_de_locale_dots_group_commas_decimal),
        cmocka_unit_test(csv_pl_locale_nbsp_groups_and_localized_class),
        cmocka_unit_test(csv_doubled_quotes_and_embedded_newlines_keep_lines),
        cmocka_unit_test(csv_gzip_compressed_reads_like_plain),
        cmocka_unit_test(csv_header_without_operation_fails_at_open),
        cmocka_unit_test(csv_short_row_is_reported_with_row_and_line),
        cmocka_unit_test(csv_bad_pid_is_reported),
        cmocka_unit_test(csv_bad_result_time_duration_are_reported),
        cmocka_unit_test(csv_undecodable_detail_names_row_and_key),
        cmocka_unit_test(csv_garbage_bytes_fail_cleanly),
        cmocka_unit_test(csv_truncated_quote_at_eof_is_reported),
        cmocka_unit_test(csv_long_field_reads_and_longer_is_refused),
        cmocka_unit_test(csv_empty_file_fails_at_open),
        cmocka_unit_test(csv_header_only_has_no_events),
        cmocka_unit_test(csv_last_row_without_newline_is_read),
        cmocka_unit_test(status_names_round_trip),
        cmocka_unit_test(status_duplicates_hex_pending_and_bad_text),
        cmocka_unit_test(detail_create_keys_decode),
        cmocka_unit_test(detail_read_write_keys_decode_locales),
        cmocka_unit_test(detail_directory_and_notify_keys_decode),
        cmocka_unit_test(detail_control_keys_decode),
        cmocka_unit_test(detail_mapping_lock_and_fastio_keys_decode),
        cmocka_unit_test(detail_set_information_keys_decode),
        cmocka_unit_test(detail_query_and_security_keys_decode),
        cmocka_unit_test(detail_null_op_and_small_string_space),
        cmocka_unit_test(real_win10_1709_mixed_reads_to_end),
        cmocka_unit_test(real_win10_1903_fs_uncommon_reads_to_end),
        cmocka_unit_test(real_win7_fs_uncommon_reads_to_end),
        cmocka_unit_test(real_win7_mixed_reads_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
