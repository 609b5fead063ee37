/*
 * The XML capture reader (issue 6): the hand-written fixture
 * tests/fixtures/capture/events.xml (ProcMon's <procmon><processlist>
 * <eventlist> shape, TRACES.md 1.7) with exact expected events, malformed
 * documents with their exact error text, and a real CSV capture rewritten as
 * XML and read back event for event (skipped when the captures are absent).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "fltsim_test.h"

#include <fltsim/capture.h>

static const char *fixture(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", FLTSIM_TEST_CAPTURE_FIXTURES, name);
    return path;
}

static struct fltsim_capture *open_xml(const char *path, enum fltsim_capture_format format)
{
    char error[700];
    struct fltsim_capture *cap = fltsim_capture_open(path, format, error, sizeof(error));
    if (cap == NULL)
        fail_msg("%s", error);
    assert_int_equal(fltsim_capture_format_of(cap),
                     format == FLTSIM_CAPTURE_AUTO ? FLTSIM_CAPTURE_XML : format);
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
}

#define HMS(h, m, s) ((uint64_t)((h)*3600 + (m)*60 + (s)) * 10000000u)

static void check_fixture_events(struct fltsim_capture *cap)
{
    const struct fltsim_capture_event *ev = next_ok(cap);
    assert_int_equal(ev->index, 0);
    assert_int_equal(ev->line, 23);
    assert_int_equal(ev->offset, 687);
    assert_int_equal(ev->event_class, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM);
    assert_string_equal(ev->operation, "CreateFile");
    assert_string_equal(ev->path, "C:\\Users\\test\\Desktop\\a&b.txt");
    assert_string_equal(ev->process_name, "Explorer.EXE");
    assert_int_equal(ev->pid, 1364);
    assert_int_equal(ev->tid, 1720);
    assert_true(ev->has_result);
    assert_status(ev->result, STATUS_SUCCESS);
    assert_true(ev->has_duration);
    assert_int_equal(ev->duration_100ns, 161);
    assert_int_equal(ev->time_of_day_100ns, HMS(6, 55, 7) + 236729);
    assert_non_null(ev->op);
    assert_int_equal(ev->op->major, IRP_MJ_CREATE);
    assert_int_equal(ev->params.present, FLTSIM_CP_ACCESS | FLTSIM_CP_DISPOSITION |
                                             FLTSIM_CP_OPTIONS | FLTSIM_CP_ATTRIBUTES |
                                             FLTSIM_CP_SHARE | FLTSIM_CP_OPEN_RESULT);
    assert_int_equal(ev->params.desired_access, 0x120089);
    assert_int_equal(ev->params.share_access, FILE_SHARE_READ | FILE_SHARE_DELETE);

    ev = next_ok(cap); /* <stack> is skipped */
    assert_int_equal(ev->index, 1);
    assert_int_equal(ev->line, 36);
    assert_int_equal(ev->offset, 1247);
    assert_int_equal(ev->event_class, FLTSIM_CAPTURE_CLASS_REGISTRY);
    assert_string_equal(ev->operation, "RegQueryValue");
    assert_status(ev->result, STATUS_BUFFER_OVERFLOW);
    assert_string_equal(ev->detail, "Length: 12");
    assert_null(ev->op);
    assert_int_equal(ev->params.present, 0);

    ev = next_ok(cap); /* pending: empty <Result>, empty <Duration/>, localized class */
    assert_int_equal(ev->line, 57);
    assert_int_equal(ev->offset, 1845);
    assert_int_equal(ev->event_class, FLTSIM_CAPTURE_CLASS_FILE_SYSTEM);
    assert_false(ev->has_result);
    assert_status(ev->result, STATUS_PENDING);
    assert_string_equal(ev->result_text, "");
    assert_false(ev->has_duration);
    assert_int_equal(ev->tid, 1721);
    assert_int_equal(ev->params.notify_filter, 0x1 | 0x8 | 0x10);

    ev = next_ok(cap); /* CDATA, entities, 24-hour clock with a decimal comma */
    assert_int_equal(ev->index, 3);
    assert_int_equal(ev->line, 70);
    assert_int_equal(ev->offset, 2305);
    assert_string_equal(ev->path, "C:\\Users\\test\\Desktop\\<a>.txt");
    assert_status(ev->result, STATUS_NO_MORE_FILES);
    assert_int_equal(ev->time_of_day_100ns, HMS(18, 0, 0) + 2500000);
    assert_int_equal(ev->duration_100ns, 50);
    assert_string_equal(ev->params.file_name, "<a>.txt");
    assert_int_equal(ev->params.info_class, 3);
    assert_end(cap);
}

static void xml_fixture_reads_exact_events(void **state)
{
    (void)state;
    struct fltsim_capture *cap = open_xml(fixture("events.xml"), FLTSIM_CAPTURE_AUTO);
    check_fixture_events(cap);
    fltsim_capture_close(cap);
    cap = open_xml(fixture("events.xml"), FLTSIM_CAPTURE_XML);
    check_fixture_events(cap);
    fltsim_capture_close(cap);
}

static void xml_gzip_compressed_reads_like_plain(void **state)
{
    (void)state;
    char path[] = "/tmp/fltsim_capture_XXXXXX";
    test_gzip_temp(path, fixture("events.xml"));
    struct fltsim_capture *cap = open_xml(path, FLTSIM_CAPTURE_AUTO);
    check_fixture_events(cap);
    fltsim_capture_close(cap);
    unlink(path);
}

/* ---- malformed documents ---------------------------------------------- */

static const char *xml_error_of(const char *text, int *events)
{
    static char error[700];
    char path[] = "/tmp/fltsim_capture_XXXXXX";
    test_write_temp(path, text);
    *events = 0;
    struct fltsim_capture *cap =
        fltsim_capture_open(path, FLTSIM_CAPTURE_XML, error, sizeof(error));
    if (cap != NULL) {
        const struct fltsim_capture_event *ev;
        int r;
        while ((r = fltsim_capture_next(cap, &ev)) == 1)
            (*events)++;
        assert_int_equal(r, -1);
        snprintf(error, sizeof(error), "%s", fltsim_capture_error(cap));
        fltsim_capture_close(cap);
    }
    unlink(path);
    size_t plen = strlen(path);
    assert_true(strncmp(error, path, plen) == 0 && error[plen] == ':' && error[plen + 1] == ' ');
    return error + plen + 2;
}

static void expect_error(const char *text, int events, const char *expected)
{
    int got;
    assert_string_equal(xml_error_of(text, &got), expected);
    assert_int_equal(got, events);
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<procmon>\n<eventlist>\n"
#define EVENT                                                                                      \
    "<event><Process_Name>a.exe</Process_Name><PID>1</PID><Operation>CloseFile</Operation>"        \
    "<Path>C:\\x</Path><Result>SUCCESS</Result><Detail></Detail></event>\n"

static void xml_mismatched_tag_reports_line(void **state)
{
    (void)state;
    /* the parser reads ahead: the error comes before the event in front of it */
    expect_error(HEAD EVENT "<event><Process_Name>a.exe</Path>\n</event>\n", 0,
                 "line 5: malformed XML: Opening and ending tag mismatch: Process_Name line 5 "
                 "and Path");
}

static void xml_truncated_document_reports_line(void **state)
{
    (void)state;
    expect_error(HEAD EVENT "<event><Process_Name>a.exe</Process_Name>\n<PID>1", 1,
                 "line 6: malformed XML: the document ends before </procmon>");
}

static void xml_garbage_and_wrong_root_fail_at_open(void **state)
{
    (void)state;
    expect_error("<html><body>hello</body></html>\n", 0,
                 "line 1: not a ProcMon XML export: the root element is <html>, not <procmon>");
    expect_error("<procmon\x01>", 0,
                 "line 1: malformed XML: Couldn't find end of Start Tag procmon");
    expect_error("", 0, "line 1: empty document: no <procmon> element");
}

static void xml_event_missing_field_or_bad_value_is_reported(void **state)
{
    (void)state;
    expect_error(HEAD EVENT "<event>\n<Process_Name>a.exe</Process_Name><PID>1</PID>"
                            "<Path>C:\\x</Path><Result>SUCCESS</Result></event>\n",
                 1, "row 2 (line 5): <event> has no <Operation>");
    expect_error(HEAD EVENT EVENT
                 "<event><Process_Name>a.exe</Process_Name><PID>x1</PID><Operation>CloseFile"
                 "</Operation><Path>C:\\x</Path><Result>SUCCESS</Result></event>\n",
                 2, "row 3 (line 6): PID \"x1\" is not a number");
    expect_error(HEAD "<event><Process_Name>a.exe</Process_Name><PID>1</PID><Operation>ReadFile"
                      "</Operation><Path>C:\\x</Path><Result>SUCCESS</Result>"
                      "<Detail>Offset: 1, Length: lots</Detail></event>\n",
                 0, "row 1 (line 4): ReadFile Detail key \"Length\": cannot decode \"lots\"");
}

static void xml_empty_eventlist_and_unknown_elements_are_fine(void **state)
{
    (void)state;
    char path[] = "/tmp/fltsim_capture_XXXXXX";
    test_write_temp(path,
                    "<?xml version=\"1.0\"?>\n<procmon><processlist/><eventlist/></procmon>\n");
    struct fltsim_capture *cap = open_xml(path, FLTSIM_CAPTURE_AUTO);
    assert_end(cap);
    fltsim_capture_close(cap);
    unlink(path);
    char path2[] = "/tmp/fltsim_capture_XXXXXX";
    test_write_temp(path2, HEAD "<note>ignored<b>x</b></note>\n" EVENT "</eventlist></procmon>\n");
    cap = open_xml(path2, FLTSIM_CAPTURE_AUTO);
    const struct fltsim_capture_event *ev = next_ok(cap);
    assert_string_equal(ev->operation, "CloseFile");
    assert_int_equal(ev->line, 5);
    assert_end(cap);
    fltsim_capture_close(cap);
    unlink(path2);
}

/* ---- a real capture as XML --------------------------------------------- */

static void put_escaped(FILE *f, const char *name, const char *text)
{
    fprintf(f, "<%s>", name);
    for (const char *p = text; *p != '\0'; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '\r':
            fputs("&#13;", f);
            break;
        default:
            fputc(*p, f);
        }
    }
    fprintf(f, "</%s>\r\n", name);
}

static const char *class_name(enum fltsim_capture_class c)
{
    static const char *const names[] = {"",          "Process", "Registry", "File System",
                                        "Profiling", "Network"};
    return names[c];
}

/* Every event of a real CSV written as an XML <event> and read back: the
 * two readers agree on every field. */
static void xml_real_capture_matches_its_csv(void **state)
{
    (void)state;
    char csv[700];
    snprintf(csv, sizeof(csv), "%s/win7-x86_fs-uncommon.csv.gz", FLTSIM_TEST_TRACES_DIR);
    if (access(csv, R_OK) != 0) {
        print_message("[  SKIP    ] %s: not present (the real captures are procmon-parser's "
                      "test resources, ../shared/TRACES.md; cmake -DFLTSIM_TRACES_DIR=DIR)\n",
                      csv);
        skip();
    }
    char path[] = "/tmp/fltsim_capture_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<procmon>\r\n<processlist>"
          "\r\n<process><ProcessIndex>1</ProcessIndex></process>\r\n</processlist>\r\n"
          "<eventlist>\r\n",
          f);
    char error[700], buf[32];
    struct fltsim_capture *cap =
        fltsim_capture_open(csv, FLTSIM_CAPTURE_AUTO, error, sizeof(error));
    assert_non_null(cap);
    const struct fltsim_capture_event *ev;
    int r;
    while ((r = fltsim_capture_next(cap, &ev)) == 1) {
        fputs("<event>\r\n<ProcessIndex>1</ProcessIndex>\r\n", f);
        put_escaped(f, "Process_Name", ev->process_name);
        snprintf(buf, sizeof(buf), "%u", ev->pid);
        put_escaped(f, "PID", buf);
        put_escaped(f, "Operation", ev->operation);
        put_escaped(f, "Path", ev->path);
        put_escaped(f, "Result", ev->result_text);
        put_escaped(f, "Detail", ev->detail);
        snprintf(buf, sizeof(buf), "%u", ev->tid);
        put_escaped(f, "TID", buf);
        put_escaped(f, "Event_Class", class_name(ev->event_class));
        snprintf(buf, sizeof(buf), "%llu.%07llu", (unsigned long long)ev->duration_100ns / 10000000,
                 (unsigned long long)ev->duration_100ns % 10000000);
        put_escaped(f, "Duration", ev->has_duration ? buf : "");
        fputs("</event>\r\n", f);
    }
    assert_int_equal(r, 0);
    fputs("</eventlist>\r\n</procmon>\r\n", f);
    fclose(f);

    fltsim_capture_close(cap);
    cap = fltsim_capture_open(csv, FLTSIM_CAPTURE_AUTO, error, sizeof(error));
    struct fltsim_capture *xml = open_xml(path, FLTSIM_CAPTURE_AUTO);
    uint64_t n = 0;
    while ((r = fltsim_capture_next(cap, &ev)) == 1) {
        struct fltsim_capture_event a = *ev;
        struct fltsim_capture_params pa = ev->params;
        char detail[4096], op[64];
        snprintf(detail, sizeof(detail), "%s", ev->detail);
        snprintf(op, sizeof(op), "%s", ev->operation);
        const struct fltsim_capture_event *b = next_ok(xml);
        assert_int_equal(b->index, n);
        assert_int_equal(b->line, 7 + n * 12); /* 12 lines per <event> */
        assert_string_equal(b->operation, op);
        assert_string_equal(b->detail, detail);
        assert_int_equal(b->pid, a.pid);
        assert_int_equal(b->tid, a.tid);
        assert_int_equal(b->event_class, a.event_class);
        assert_status(b->result, a.result);
        assert_int_equal(b->has_result, a.has_result);
        assert_int_equal(b->duration_100ns, a.duration_100ns);
        assert_ptr_equal(b->op, a.op);
        if (b->params.present != pa.present)
            fail_msg("event %llu: %s [%s] present 0x%x vs 0x%x", (unsigned long long)n, op, detail,
                     b->params.present, pa.present);
        assert_int_equal(b->params.desired_access, pa.desired_access);
        assert_int_equal(b->params.offset, pa.offset);
        assert_int_equal(b->params.length, pa.length);
        assert_int_equal(b->params.control_code, pa.control_code);
        n++;
    }
    assert_int_equal(r, 0);
    assert_int_equal(n, 8577);
    assert_end(xml);
    fltsim_capture_close(xml);
    fltsim_capture_close(cap);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xml_fixture_reads_exact_events),
        cmocka_unit_test(xml_gzip_compressed_reads_like_plain),
        cmocka_unit_test(xml_mismatched_tag_reports_line),
        cmocka_unit_test(xml_truncated_document_reports_line),
        cmocka_unit_test(xml_garbage_and_wrong_root_fail_at_open),
        cmocka_unit_test(xml_event_missing_field_or_bad_value_is_reported),
        cmocka_unit_test(xml_empty_eventlist_and_unknown_elements_are_fine),
        cmocka_unit_test(xml_real_capture_matches_its_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
