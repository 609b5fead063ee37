/*
 * The PML capture reader (issues 6 and 16). The sample capture of the test
 * support (support/pml_sample.c, written by support/pml_writer.c), 32-bit
 * and 64-bit, plain and gzip-compressed: every event decoded exactly, and
 * malformed files made by corrupting it in memory, each with its exact
 * error. Then the four real ProcMon captures in FLTSIM_TRACES_DIR
 * (../shared/traces/procmon-parser, read as .gz; these cases are skipped,
 * saying so, when it is absent): header counts, hard facts about known
 * events, and the PML-vs-CSV row-for-row comparison.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <fltsim/capture.h>

#include "fltsim_test.h"
#include "pml_writer.h"

#ifndef FLTSIM_TRACES_DIR
#define FLTSIM_TRACES_DIR "../shared/traces/procmon-parser"
#endif

static const char *trace(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", FLTSIM_TRACES_DIR, name);
    return buf;
}

/* Skips the case when the shared captures are not there. */
static void need_traces(void)
{
    struct stat st;
    if (stat(FLTSIM_TRACES_DIR, &st) != 0 || !S_ISDIR(st.st_mode)) {
        print_message("[  SKIP    ] no real captures in %s (procmon-parser's test resources, "
                      "../shared/TRACES.md; cmake -DFLTSIM_TRACES_DIR=DIR)\n",
                      FLTSIM_TRACES_DIR);
        skip();
    }
}

static struct fltsim_capture *open_pml(const char *name)
{
    char path[4096], error[1024];
    struct fltsim_capture *cap = fltsim_capture_open(trace(name, path, sizeof(path)),
                                                     FLTSIM_CAPTURE_AUTO, error, sizeof(error));
    if (cap == NULL)
        fail_msg("%s", error);
    assert_int_equal(fltsim_capture_format_of(cap), FLTSIM_CAPTURE_PML);
    return cap;
}

/* Reads to event `index` (the reader streams forward only). */
static const struct fltsim_capture_event *read_to(struct fltsim_capture *cap, uint64_t index)
{
    const struct fltsim_capture_event *ev = NULL;
    do {
        int r = fltsim_capture_next(cap, &ev);
        if (r != 1)
            fail_msg("event %llu: next returned %d: %s", (unsigned long long)index, r,
                     fltsim_capture_error(cap));
    } while (ev->index < index);
    assert_int_equal(ev->index, index);
    return ev;
}

static void assert_event(const struct fltsim_capture_event *ev, enum fltsim_capture_class cls,
                         const char *operation, const char *path, NTSTATUS result,
                         const char *process, uint32_t pid, uint32_t tid)
{
    assert_int_equal(ev->event_class, cls);
    assert_string_equal(ev->operation, operation);
    assert_string_equal(ev->path, path);
    assert_true(ev->has_result);
    assert_status(ev->result, result);
    assert_string_equal(ev->process_name, process);
    assert_int_equal(ev->pid, pid);
    assert_int_equal(ev->tid, tid);
    assert_int_equal(ev->line, 0);
    assert_string_equal(ev->detail, "");
}

/* Reads the rest of the capture: returns how many events were left. */
static uint64_t read_rest(struct fltsim_capture *cap, const struct fltsim_capture_event **last)
{
    uint64_t n = 0;
    const struct fltsim_capture_event *ev;
    int r;
    while ((r = fltsim_capture_next(cap, &ev)) == 1) {
        n++;
        *last = ev;
    }
    if (r != 0)
        fail_msg("next returned %d: %s", r, fltsim_capture_error(cap));
    assert_int_equal(fltsim_capture_next(cap, &ev), 0); /* the end stays the end */
    return n;
}

/* ---- the sample capture ------------------------------------------------- */

static unsigned char *base; /* a sample capture in memory (the x86 one for the malformed files) */
static size_t base_size;

static uint32_t get32(size_t at)
{
    return (uint32_t)base[at] | (uint32_t)base[at + 1] << 8 | (uint32_t)base[at + 2] << 16 |
           (uint32_t)base[at + 3] << 24;
}

static void assert_fs(const struct fltsim_capture_event *ev, uint64_t index, const char *operation,
                      const char *path, NTSTATUS result, uint32_t present)
{
    assert_int_equal(ev->index, index);
    assert_event(ev, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, operation, path, result, "app.exe", 100, 7);
    assert_non_null(ev->op);
    if (ev->params.present != present)
        fail_msg("event %llu (%s): parameters 0x%x, expected 0x%x", (unsigned long long)index,
                 operation, ev->params.present, present);
}

#define CREATE_PARAMS                                                                              \
    (FLTSIM_CP_ACCESS | FLTSIM_CP_DISPOSITION | FLTSIM_CP_OPTIONS | FLTSIM_CP_ATTRIBUTES |         \
     FLTSIM_CP_SHARE)
#define RW_PARAMS (FLTSIM_CP_OFFSET | FLTSIM_CP_LENGTH | FLTSIM_CP_IO_FLAGS)

/* Every event of support/pml_sample.c, as the reader must decode it. */
static void check_sample(const char *path)
{
    char error[1024];
    struct fltsim_capture *cap =
        fltsim_capture_open(path, FLTSIM_CAPTURE_AUTO, error, sizeof(error));
    if (cap == NULL)
        fail_msg("%s", error);
    assert_int_equal(fltsim_capture_format_of(cap), FLTSIM_CAPTURE_PML);
    assert_int_equal(fltsim_capture_event_count(cap), 27);
    const struct fltsim_capture_event *ev = read_to(cap, 0);
    assert_fs(ev, 0, "CreateFile", "C:\\docs\\a.txt", STATUS_SUCCESS,
              CREATE_PARAMS | FLTSIM_CP_OPEN_RESULT);
    assert_int_equal(ev->offset, 0x3A8);
    assert_int_equal(ev->op->major, IRP_MJ_CREATE);
    assert_int_equal(ev->params.desired_access, 0x120089);
    assert_int_equal(ev->params.disposition, FILE_OPEN);
    assert_int_equal(ev->params.create_options, 0x60);
    assert_int_equal(ev->params.share_access, FILE_SHARE_READ | FILE_SHARE_WRITE);
    assert_int_equal(ev->params.open_result, FILE_OPENED);
    assert_true(ev->has_duration);
    assert_int_equal(ev->duration_100ns, 150);
    ev = read_to(cap, 1);
    assert_fs(ev, 1, "ReadFile", "C:\\docs\\a.txt", STATUS_SUCCESS, RW_PARAMS);
    assert_int_equal(ev->params.offset, 0);
    assert_int_equal(ev->params.length, 1000); /* what was transferred */
    assert_int_equal(ev->params.io_flags, 0x43);
    ev = read_to(cap, 2);
    assert_fs(ev, 2, "ReadFile", "C:\\docs\\a.txt", STATUS_END_OF_FILE, RW_PARAMS);
    assert_int_equal(ev->params.offset, 1000);
    assert_int_equal(ev->params.length, 4096);
    ev = read_to(cap, 3);
    assert_fs(ev, 3, "QueryStandardInformationFile", "C:\\docs\\a.txt", STATUS_SUCCESS,
              FLTSIM_CP_INFO_CLASS);
    assert_int_equal(ev->params.info_class, 5);
    assert_fs(read_to(cap, 4), 4, "CloseFile", "C:\\docs\\a.txt", STATUS_SUCCESS, 0);
    ev = read_to(cap, 5);
    assert_event(ev, FLTSIM_CAPTURE_CLASS_REGISTRY, "RegOpenKey", "HKLM\\Software\\Fltsim",
                 STATUS_SUCCESS, "Explorer.EXE", 1364, 1720);
    assert_null(ev->op);
    ev = read_to(cap, 6);
    assert_fs(ev, 6, "CreateFile", "C:\\docs\\b.txt", STATUS_SUCCESS,
              CREATE_PARAMS | FLTSIM_CP_ALLOCATION | FLTSIM_CP_OPEN_RESULT);
    assert_int_equal(ev->params.disposition, FILE_OPEN_IF);
    assert_int_equal(ev->params.allocation_size, 4096);
    assert_int_equal(ev->params.open_result, FILE_CREATED);
    ev = read_to(cap, 7);
    assert_fs(ev, 7, "WriteFile", "C:\\docs\\b.txt", STATUS_SUCCESS, RW_PARAMS);
    assert_int_equal(ev->params.length, 5);
    ev = read_to(cap, 8);
    assert_fs(ev, 8, "SetEndOfFileInformationFile", "C:\\docs\\b.txt", STATUS_SUCCESS,
              FLTSIM_CP_INFO_CLASS | FLTSIM_CP_END_OF_FILE);
    assert_int_equal(ev->params.end_of_file, 5);
    ev = read_to(cap, 9);
    assert_fs(ev, 9, "LockFile", "C:\\docs\\b.txt", STATUS_SUCCESS,
              FLTSIM_CP_OFFSET | FLTSIM_CP_LENGTH | FLTSIM_CP_LOCK);
    assert_int_equal(ev->params.length, 5);
    assert_true(ev->params.exclusive);
    assert_true(ev->params.fail_immediately);
    ev = read_to(cap, 10);
    assert_fs(ev, 10, "UnlockFileSingle", "C:\\docs\\b.txt", STATUS_SUCCESS,
              FLTSIM_CP_OFFSET | FLTSIM_CP_LENGTH);
    ev = read_to(cap, 11);
    assert_fs(ev, 11, "SetDispositionInformationFile", "C:\\docs\\b.txt", STATUS_SUCCESS,
              FLTSIM_CP_INFO_CLASS | FLTSIM_CP_DELETE);
    assert_true(ev->params.delete_file);
    assert_fs(read_to(cap, 12), 12, "CloseFile", "C:\\docs\\b.txt", STATUS_SUCCESS, 0);
    ev = read_to(cap, 13);
    assert_fs(ev, 13, "CreateFile", "C:\\docs", STATUS_SUCCESS,
              CREATE_PARAMS | FLTSIM_CP_OPEN_RESULT);
    assert_int_equal(ev->params.create_options, 0x21);
    /* the filter is appended to the directory's path, as ProcMon shows it */
    ev = read_to(cap, 14);
    assert_fs(ev, 14, "QueryDirectory", "C:\\docs\\*.txt", STATUS_SUCCESS,
              FLTSIM_CP_INFO_CLASS | FLTSIM_CP_FILE_NAME);
    assert_int_equal(ev->sub, IRP_MN_QUERY_DIRECTORY);
    assert_string_equal(ev->params.file_name, "*.txt");
    assert_int_equal(ev->params.info_class, 37);
    ev = read_to(cap, 15); /* pended when the capture stopped: no result, no duration */
    assert_string_equal(ev->operation, "NotifyChangeDirectory");
    assert_false(ev->has_result);
    assert_false(ev->has_duration);
    assert_string_equal(ev->result_text, "");
    assert_int_equal(ev->params.present, FLTSIM_CP_NOTIFY_FILTER);
    assert_int_equal(ev->params.notify_filter, 0x15);
    assert_fs(read_to(cap, 16), 16, "CloseFile", "C:\\docs", STATUS_SUCCESS, 0);
    ev = read_to(cap, 17);
    assert_fs(ev, 17, "FileSystemControl", "C:\\docs\\a.txt", (NTSTATUS)0xC0000275,
              FLTSIM_CP_CONTROL);
    assert_int_equal(ev->params.control_code, 0x900A8);
    ev = read_to(cap, 18);
    assert_fs(ev, 18, "CreateFileMapping", "C:\\docs\\a.txt", STATUS_SUCCESS, FLTSIM_CP_SYNC_TYPE);
    assert_int_equal(ev->params.sync_type, 1);
    assert_int_equal(ev->params.page_protection, 0x10);
    ev = read_to(cap, 19);
    assert_fs(ev, 19, "QueryOpen", "C:\\docs\\a.txt", (NTSTATUS)0xC01C0004, 0);
    assert_int_equal(ev->op->path, FLTSIM_CAPTURE_FAST_IO);
    assert_string_equal(ev->result_text, "FAST IO DISALLOWED");
    ev = read_to(cap, 20);
    assert_fs(ev, 20, "QuerySecurityFile", "C:\\docs\\a.txt", STATUS_BUFFER_TOO_SMALL,
              FLTSIM_CP_SECURITY_INFO);
    assert_int_equal(ev->params.security_information, 7);
    ev = read_to(cap, 21);
    assert_fs(ev, 21, "CreateFile", "C:\\docs\\\u05D9\u05D5\u05E0\u05D9\u05E7\u05D5\u05D3.txt",
              STATUS_OBJECT_NAME_NOT_FOUND, CREATE_PARAMS);
    assert_event(read_to(cap, 22), FLTSIM_CAPTURE_CLASS_PROCESS, "Load Image",
                 "C:\\Windows\\System32\\ntdll.dll", STATUS_SUCCESS, "Explorer.EXE", 1364, 1720);
    assert_event(read_to(cap, 23), FLTSIM_CAPTURE_CLASS_PROCESS, "Process Create",
                 "C:\\Windows\\notepad.exe", STATUS_SUCCESS, "Explorer.EXE", 1364, 1720);
    /* host and port names from the capture's tables; the router has none */
    assert_event(read_to(cap, 24), FLTSIM_CAPTURE_CLASS_NETWORK, "UDP Send",
                 "FLTSIM-TEST.local:61610 -> 192.168.1.1:domain", STATUS_SUCCESS, "svchost.exe",
                 1136, 0);
    /* a second process of the same name */
    assert_event(read_to(cap, 25), FLTSIM_CAPTURE_CLASS_PROFILING, "Thread Profiling", "",
                 STATUS_SUCCESS, "svchost.exe", 2000, 2004);
    const struct fltsim_capture_event *last = NULL;
    assert_int_equal(read_rest(cap, &last), 1);
    assert_event(last, FLTSIM_CAPTURE_CLASS_PROCESS, "Thread Exit", "", STATUS_SUCCESS, "app.exe",
                 100, 7);
    assert_true(fltsim_capture_position(cap) > 0);
    assert_true(fltsim_capture_position(cap) <= fltsim_capture_size(cap));
    fltsim_capture_close(cap);
}

static void pml_sample_decodes_every_event(void **state)
{
    (void)state;
    static const struct {
        bool is64, gz;
    } kinds[] = {{false, false}, {true, false}, {true, true}, {false, true}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t size;
        unsigned char *data = pml_sample(kinds[i].is64, &size);
        free(base);
        base = data; /* get32 reads the plain file */
        base_size = size;
        char path[] = "/tmp/fltsim-pml-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        assert_true(pml_save(path, data, size, kinds[i].gz));
        print_message("%s-bit sample%s: %zu bytes\n", kinds[i].is64 ? "64" : "32",
                      kinds[i].gz ? ", gzip" : "", size);
        check_sample(path);
        unlink(path);
    }
    free(base);
    base = NULL;
}

static void pml_x64_mixed_decodes_known_events(void **state)
{
    (void)state;
    need_traces();
    struct fltsim_capture *cap = open_pml("win10-1709-x64_mixed.pml.gz");
    assert_int_equal(fltsim_capture_event_count(cap), 53214);

    const struct fltsim_capture_event *ev = read_to(cap, 0);
    assert_event(ev, FLTSIM_CAPTURE_CLASS_REGISTRY, "RegQueryValue",
                 "HKCU\\Software\\Microsoft\\Windows\\DWM\\ColorPrevalence", STATUS_SUCCESS,
                 "dwm.exe", 932, 1568);
    assert_int_equal(ev->offset, 0x3A8);
    assert_null(ev->op);

    /* A CreateFile with a Unicode path; CSV Detail: "Desired Access: Read Attributes,
     * Read Control, Synchronize, Disposition: Open, Options: Synchronous IO Non-Alert,
     * Non-Directory File, Disallow Exclusive, Attributes: n/a, ShareMode: Read, Write,
     * AllocationSize: n/a, OpenResult: Opened" */
    ev = read_to(cap, 6268);
    assert_event(ev, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "CreateFile",
                 "C:\\Users\\test\\Downloads\\\u05D9\u05D5\u05E0\u05D9\u05E7\u05D5\u05D3.txt",
                 STATUS_SUCCESS, "Explorer.EXE", 3596, 6740);
    assert_non_null(ev->op);
    assert_int_equal(ev->op->major, IRP_MJ_CREATE);
    const struct fltsim_capture_params *p = &ev->params;
    assert_int_equal(p->present, FLTSIM_CP_ACCESS | FLTSIM_CP_DISPOSITION | FLTSIM_CP_OPTIONS |
                                     FLTSIM_CP_ATTRIBUTES | FLTSIM_CP_SHARE |
                                     FLTSIM_CP_OPEN_RESULT);
    assert_int_equal(p->desired_access, 0x120080);
    assert_int_equal(p->disposition, FILE_OPEN);
    assert_int_equal(p->create_options, 0x20060);
    assert_int_equal(p->file_attributes, 0);
    assert_int_equal(p->share_access, FILE_SHARE_READ | FILE_SHARE_WRITE);
    assert_int_equal(p->open_result, FILE_OPENED);

    /* "Offset: 164,352, Length: 10,240, I/O Flags: Non-cached, Paging I/O,
     * Synchronous Paging I/O, Priority: Normal" */
    ev = read_to(cap, 18737);
    assert_event(ev, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "ReadFile",
                 "C:\\Windows\\System32\\mssph.dll", STATUS_SUCCESS, "SearchProtocolHost.exe", 6908,
                 6488);
    assert_int_equal(ev->params.offset, 164352);
    assert_int_equal(ev->params.length, 10240);
    assert_int_equal(ev->params.io_flags, 0x43);

    const struct fltsim_capture_event *last = NULL;
    assert_int_equal(read_rest(cap, &last), 53214 - 18738);
    assert_event(last, FLTSIM_CAPTURE_CLASS_PROCESS, "Thread Exit", "", STATUS_SUCCESS,
                 "MicrosoftEdge.exe", 4876, 3560);
    assert_int_equal(last->index, 53213);
    /* the tables after the events were read at open; the events end before them */
    assert_true(fltsim_capture_position(cap) > 0);
    assert_true(fltsim_capture_position(cap) <= fltsim_capture_size(cap));
    fltsim_capture_close(cap);
}

static void pml_x86_mixed_decodes_known_events(void **state)
{
    (void)state;
    need_traces();
    struct fltsim_capture *cap = open_pml("win7-x86_mixed.pml.gz");
    assert_int_equal(fltsim_capture_event_count(cap), 32930);
    const struct fltsim_capture_event *ev = read_to(cap, 0);
    assert_event(ev, FLTSIM_CAPTURE_CLASS_REGISTRY, "RegQueryKey", "HKCU\\Software\\Classes",
                 STATUS_SUCCESS, "Explorer.EXE", 1320, 1408);

    /* The filter is appended to the directory's path, as ProcMon shows it. */
    ev = read_to(cap, 2707);
    assert_event(ev, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "QueryDirectory", "C:\\Users",
                 STATUS_SUCCESS, "Explorer.EXE", 1320, 3728);
    assert_int_equal(ev->sub, IRP_MN_QUERY_DIRECTORY);
    assert_true(ev->params.present & FLTSIM_CP_FILE_NAME);
    assert_string_equal(ev->params.file_name, "Users");
    assert_int_equal(ev->params.info_class, 37); /* FileIdBothDirectoryInformation */

    /* "Exclusive: True, Offset: 2,147,483,538, Length: 1, Fail Immediately: True" */
    ev = read_to(cap, 14144);
    assert_string_equal(ev->operation, "LockFile");
    assert_int_equal(ev->params.offset, 2147483538);
    assert_int_equal(ev->params.length, 1);
    assert_true(ev->params.exclusive);
    assert_true(ev->params.fail_immediately);

    ev = read_to(cap, 25360);
    assert_event(ev, FLTSIM_CAPTURE_CLASS_NETWORK, "UDP Send",
                 "WIN-5V8CQK0CP5H.localdomain:61610 -> 192.168.127.2:domain", STATUS_SUCCESS,
                 "svchost.exe", 1136, 0);
    assert_null(ev->op);

    const struct fltsim_capture_event *last = NULL;
    assert_int_equal(read_rest(cap, &last), 32930 - 25361);
    assert_event(last, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "WriteFile",
                 "C:\\Users\\test\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Current "
                 "Session",
                 STATUS_SUCCESS, "chrome.exe", 2276, 2456);
    fltsim_capture_close(cap);
}

static void pml_fs_uncommon_captures_decode_known_events(void **state)
{
    (void)state;
    need_traces();
    struct fltsim_capture *cap = open_pml("win10-1903-x64_fs-uncommon.pml.gz");
    assert_int_equal(fltsim_capture_event_count(cap), 31569);
    const struct fltsim_capture_event *ev = read_to(cap, 0);
    assert_event(ev, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "QueryOpen",
                 "C:\\Windows\\System32\\en-US\\mssp7en-US.lex", (NTSTATUS)0xC01C0004, "ctfmon.exe",
                 3524, 3588);
    assert_int_equal(ev->op->path, FLTSIM_CAPTURE_FAST_IO);
    const struct fltsim_capture_event *last = NULL;
    assert_int_equal(read_rest(cap, &last), 31568);
    assert_event(last, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "QueryDirectory",
                 "C:\\Windows\\WinSxS\\Temp\\InFlight\\473a6c290b67d601980100004c1b7017",
                 (NTSTATUS)0x80000006, "TiWorker.exe", 6988, 6000);
    fltsim_capture_close(cap);

    cap = open_pml("win7-x86_fs-uncommon.pml.gz");
    assert_int_equal(fltsim_capture_event_count(cap), 8577);
    ev = read_to(cap, 0);
    assert_event(ev, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "NotifyChangeDirectory",
                 "C:\\Users\\test\\Desktop", STATUS_SUCCESS, "Explorer.EXE", 1364, 1720);
    /* FILE_NOTIFY_CHANGE_FILE_NAME, _ATTRIBUTES, _LAST_WRITE */
    assert_int_equal(ev->params.present, FLTSIM_CP_NOTIFY_FILTER);
    assert_int_equal(ev->params.notify_filter, 0x15);
    assert_int_equal(read_rest(cap, &last), 8576);
    assert_event(last, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM, "QueryOpen",
                 "C:\\Users\\test\\AppData\\Roaming", (NTSTATUS)0xC01C0004, "Explorer.EXE", 1364,
                 1196);
    fltsim_capture_close(cap);
}

/* The key check of issue 6: the PML, Profiling events dropped, is the CSV
 * row for row. Needs the CSV reader (its own branch): until it is merged
 * opening the CSV fails with "not built yet" and this case is skipped. */
static void pml_matches_its_csv_export_row_for_row(void **state)
{
    (void)state;
    need_traces();
    static const char *const pairs[] = {"win10-1709-x64_mixed", "win7-x86_mixed",
                                        "win10-1903-x64_fs-uncommon", "win7-x86_fs-uncommon"};
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        char name[256], path[4096], error[1024];
        snprintf(name, sizeof(name), "%s.csv.gz", pairs[i]);
        struct fltsim_capture *csv = fltsim_capture_open(trace(name, path, sizeof(path)),
                                                         FLTSIM_CAPTURE_CSV, error, sizeof(error));
        if (csv == NULL && strstr(error, "not built yet") != NULL) {
            print_message("the CSV reader is not merged yet: skipped (%s)\n", error);
            skip();
        }
        if (csv == NULL)
            fail_msg("%s", error);
        snprintf(name, sizeof(name), "%s.pml.gz", pairs[i]);
        struct fltsim_capture *pml = open_pml(name);
        uint64_t rows = 0;
        for (;;) {
            const struct fltsim_capture_event *a, *b;
            int rb;
            do {
                rb = fltsim_capture_next(pml, &b);
            } while (rb == 1 && b->event_class == FLTSIM_CAPTURE_CLASS_PROFILING);
            int ra = fltsim_capture_next(csv, &a);
            if (ra < 0 || rb < 0)
                fail_msg("%s: %s", pairs[i],
                         ra < 0 ? fltsim_capture_error(csv) : fltsim_capture_error(pml));
            if (ra == 0 || rb == 0) {
                if (ra != rb)
                    fail_msg("%s: the %s ends first, after %llu rows", pairs[i],
                             ra == 0 ? "CSV" : "PML", (unsigned long long)rows);
                break;
            }
            if (strcmp(a->operation, b->operation) != 0 || strcmp(a->path, b->path) != 0 ||
                a->has_result != b->has_result || (a->has_result && a->result != b->result) ||
                strcmp(a->process_name, b->process_name) != 0 || a->pid != b->pid ||
                (a->tid != 0 && a->tid != b->tid))
                fail_msg("%s row %llu (line %llu): CSV %s %s 0x%X %s %u/%u, PML event %llu: %s "
                         "%s 0x%X %s %u/%u",
                         pairs[i], (unsigned long long)rows, (unsigned long long)a->line,
                         a->operation, a->path, (unsigned)a->result, a->process_name, a->pid,
                         a->tid, (unsigned long long)b->index, b->operation, b->path,
                         (unsigned)b->result, b->process_name, b->pid, b->tid);
            rows++;
        }
        fltsim_capture_close(csv);
        fltsim_capture_close(pml);
    }
}

/* ---- malformed files ------------------------------------------------------ */

static void put32(unsigned char *p, size_t at, uint32_t v)
{
    p[at] = (unsigned char)v;
    p[at + 1] = (unsigned char)(v >> 8);
    p[at + 2] = (unsigned char)(v >> 16);
    p[at + 3] = (unsigned char)(v >> 24);
}

static int load_base(void **state)
{
    (void)state;
    base = pml_sample(false, &base_size);
    return 0;
}

static int free_base(void **state)
{
    (void)state;
    free(base);
    base = NULL;
    return 0;
}

/* The offset of event i (from the event-offset array). */
static size_t event_at(uint32_t i)
{
    return get32((size_t)get32(0x248) + 5 * (size_t)i);
}

/* Writes the first size bytes of data to a temp file, opens it as PML and
 * reads it through: the error (open's or next's) must be "PATH: " + expected
 * (a prefix of it when prefix is set). */
static void expect_error(const unsigned char *data, size_t size, const char *expected, bool prefix)
{
    char path[] = "/tmp/fltsim-pml-XXXXXX";
    test_write_temp_bytes(path, data, size);
    char error[1024] = "";
    struct fltsim_capture *cap =
        fltsim_capture_open(path, FLTSIM_CAPTURE_PML, error, sizeof(error));
    if (cap != NULL) {
        const struct fltsim_capture_event *ev;
        int r;
        while ((r = fltsim_capture_next(cap, &ev)) == 1)
            ;
        if (r != -1)
            fail_msg("no error; expected %s", expected);
        assert_int_equal(fltsim_capture_next(cap, &ev), -1); /* reading stays stopped */
        snprintf(error, sizeof(error), "%s", fltsim_capture_error(cap));
        fltsim_capture_close(cap);
    }
    unlink(path);
    size_t plen = strlen(path);
    if (strncmp(error, path, plen) != 0 || strncmp(error + plen, ": ", 2) != 0)
        fail_msg("error does not name the file: %s", error);
    const char *msg = error + plen + 2;
    if (prefix ? strncmp(msg, expected, strlen(expected)) != 0 : strcmp(msg, expected) != 0)
        fail_msg("error\n  %s\nexpected%s\n  %s", msg, prefix ? " (prefix)" : "", expected);
}

/* A copy of the base with one u32 changed. */
static void expect_u32_error(size_t at, uint32_t value, const char *expected, bool prefix)
{
    unsigned char *copy = malloc(base_size);
    assert_non_null(copy);
    memcpy(copy, base, base_size);
    put32(copy, at, value);
    expect_error(copy, base_size, expected, prefix);
    free(copy);
}

static void need_base(void)
{
    assert_non_null(base);
}

static void pml_truncated_or_foreign_headers_are_refused(void **state)
{
    (void)state;
    need_base();
    expect_error(base, 0, "byte offset 0x0: the file ends inside the PML header (0 of 936 bytes)",
                 false);
    expect_error(base, 100,
                 "byte offset 0x0: the file ends inside the PML header (100 of 936 bytes)", false);
    expect_u32_error(0, 0x5F4C4D58, "byte offset 0x0: not a PML file (no \"PML_\" magic)", false);
    expect_u32_error(4, 8, "byte offset 0x4: PML version 8 (only 9 is known)", false);
    expect_u32_error(8, 2, "byte offset 0x8: the 64-bit flag is 2 (0 or 1 expected)", false);
    expect_u32_error(0x250, 0,
                     "byte offset 0x250: the process table offset is 0 (the capture was not "
                     "closed cleanly)",
                     false);
    char expected[512];
    snprintf(expected, sizeof(expected),
             "byte offset 0x248: the event-offset array offset 0x%x lies outside the file (0x3a8 "
             "to 0x%x)",
             get32(0x248), get32(0x248));
    expect_error(base, get32(0x248), expected, false);
    expect_u32_error(0x234, 0x7FFFFFFF,
                     "byte offset 0x234: 2147483647 events do not fit in an event-offset array",
                     true);
}

static void pml_corrupt_tables_are_refused(void **state)
{
    (void)state;
    need_base();
    size_t procs = get32(0x250);
    uint32_t nprocs = get32(procs);
    size_t entry = procs + get32(procs + 4 + 4 * (size_t)nprocs);
    char expected[512];
    snprintf(expected, sizeof(expected),
             "byte offset 0x%zx: process %u names string 16777215, but the string table holds "
             "%u strings",
             entry + 0x40, get32(entry), get32(get32(0x258)));
    expect_u32_error(entry + 0x40, 0xFFFFFF, expected, false);
    /* a string count that runs past the end of the file */
    /* a string count that runs past the end of the file: the offsets array is
     * read in 64 KiB pieces, and the piece that meets the end is named */
    size_t strings = get32(0x258) + 4;
    size_t piece = strings + (base_size - strings) / 65536 * 65536;
    snprintf(expected, sizeof(expected),
             "byte offset 0x%zx: the file ends inside the string table (%zu of 65536 bytes)", piece,
             base_size - piece);
    expect_u32_error(get32(0x258), 0x7FFFFFFF, expected, false);
}

static void pml_corrupt_events_are_refused_at_their_offset(void **state)
{
    (void)state;
    need_base();
    size_t e3 = event_at(3), e4 = event_at(4);
    char expected[512];
    snprintf(expected, sizeof(expected),
             "byte offset 0x%zx: event 3 has event class 9 (1 to 5 expected)", e3 + 8);
    expect_u32_error(e3 + 8, 9, expected, false);

    snprintf(expected, sizeof(expected),
             "byte offset 0x%zx: event 3 names process index 3735928559, which is not in the "
             "process table",
             e3);
    expect_u32_error(e3, 0xDEADBEEF, expected, false);

    unsigned depth = get32(e3 + 0x28) & 0xFFFF;
    snprintf(expected, sizeof(expected),
             "byte offset 0x%zx: event 3's stack (%u frames) and detail (2147483647 bytes) run "
             "past its record (%zu bytes)",
             e3 + 0x28, depth, e4 - e3);
    expect_u32_error(e3 + 0x2C, 0x7FFFFFFF, expected, false);

    snprintf(expected, sizeof(expected),
             "byte offset 0x%zx: event 3's extra detail offset 0x1 lies outside its record",
             e3 + 0x30);
    expect_u32_error(e3 + 0x30, 1, expected, true);

    /* event 5's entry in the offset array points into the header */
    size_t entry5 = (size_t)get32(0x248) + 5 * 5;
    snprintf(expected, sizeof(expected),
             "byte offset 0x%zx: event 5 is at 0x10, not after event 4 (at 0x%zx)", entry5,
             event_at(4));
    expect_u32_error(entry5, 0x10, expected, false);
    /* event 0 in the header */
    snprintf(expected, sizeof(expected), "byte offset 0x%x: event 0 is at 0x100, inside the header",
             get32(0x248));
    expect_u32_error(get32(0x248), 0x100, expected, false);

    /* event 0 (a file-system event) claims a path longer than its detail */
    size_t e0 = event_at(0);
    size_t detail = e0 + 0x34 + 4 * (get32(e0 + 0x28) & 0xFFFF);
    uint32_t info_word = get32(detail + 4 + 40);
    snprintf(expected, sizeof(expected),
             "byte offset 0x%zx: event 0's path runs past its detail (%u bytes)", detail,
             get32(e0 + 0x2C));
    expect_u32_error(detail + 4 + 40, (info_word & 0xFFFF0000u) | 0x7FFF, expected, false);
}

/* The sample, gzip-compressed in memory (*size bytes; the caller frees);
 * *events_end: how many of them decompress to the header and the events
 * (a full flush there), without the tables. */
static unsigned char *gzip_base(size_t *size, size_t *events_end)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, base_size) + 64;
    unsigned char *gz = malloc(cap);
    assert_non_null(gz);
    size_t tables = get32(0x248); /* the event-offset array, the first table */
    z.next_in = base;
    z.avail_in = (uInt)tables;
    z.next_out = gz;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FULL_FLUSH), Z_OK);
    *events_end = z.total_out;
    z.avail_in = (uInt)(base_size - tables);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *size = z.total_out;
    deflateEnd(&z);
    return gz;
}

static void pml_truncated_gz_is_refused(void **state)
{
    (void)state;
    need_base();
    size_t n, events_end;
    unsigned char *gz = gzip_base(&n, &events_end);
    /* the part that holds the header and the events, not the tables: open
     * fails on the way to the process table */
    char expected[256];
    snprintf(expected, sizeof(expected),
             "byte offset 0x%x: the file ends inside the process table (0 of 4 bytes)",
             get32(0x250));
    expect_error(gz, events_end, expected, false);
    /* the whole file reads */
    char path[] = "/tmp/fltsim-pml-XXXXXX";
    test_write_temp_bytes(path, gz, n);
    char error[512];
    struct fltsim_capture *cap =
        fltsim_capture_open(path, FLTSIM_CAPTURE_AUTO, error, sizeof(error));
    assert_non_null(cap);
    const struct fltsim_capture_event *last = NULL;
    assert_int_equal(read_rest(cap, &last), 27);
    fltsim_capture_close(cap);
    unlink(path);
    free(gz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pml_sample_decodes_every_event),
        cmocka_unit_test(pml_x64_mixed_decodes_known_events),
        cmocka_unit_test(pml_x86_mixed_decodes_known_events),
        cmocka_unit_test(pml_fs_uncommon_captures_decode_known_events),
        cmocka_unit_test(pml_matches_its_csv_export_row_for_row),
        cmocka_unit_test_setup_teardown(pml_truncated_or_foreign_headers_are_refused, load_base,
                                        free_base),
        cmocka_unit_test_setup_teardown(pml_corrupt_tables_are_refused, load_base, free_base),
        cmocka_unit_test_setup_teardown(pml_corrupt_events_are_refused_at_their_offset, load_base,
                                        free_base),
        cmocka_unit_test_setup_teardown(pml_truncated_gz_is_refused, load_base, free_base),
    };
    return FLTSIM_RUN_SUITE("capture_pml", tests);
}
