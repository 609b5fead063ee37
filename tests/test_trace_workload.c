/*
 * Trace sinks over a real workload (fltsim/trace.h, DESIGN decision 9):
 * memfs, two test filters, a post pended to a work item, operation status
 * callbacks and a directory query, traced through a tee to every format under both executors and
 * checked for structure: every pre answered, jsonl lines that parse as
 * objects with every key (a tiny JSON checker), a Mermaid diagram declaring
 * its lifelines before any message. Deterministic only: one seed gives a
 * byte-identical normalized trace. Each format's exact output for
 * hand-built events is test_trace.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fltsim/trace.h>

#include "fltsim_test.h"
#include "trace_capture.h"

/* ---- a tiny JSON checker (objects of scalars, as jsonl writes) ---- */

struct json_cursor {
    const char *p;
    char keys[32][24];
    int key_count;
};

static void skip_ws(struct json_cursor *j)
{
    while (*j->p == ' ' || *j->p == '\t')
        j->p++;
}

/* Parses a string at p; copies it (truncated) into out when out != NULL. */
static bool json_string(struct json_cursor *j, char *out, size_t size)
{
    if (*j->p != '"')
        return false;
    j->p++;
    size_t n = 0;
    while (*j->p != '"') {
        unsigned char ch = (unsigned char)*j->p;
        if (ch == '\0' || ch == '\n' || ch < 0x20)
            return false;
        if (ch == '\\') {
            j->p++;
            if (*j->p == 'u') {
                for (int i = 1; i <= 4; i++) {
                    if (!strchr("0123456789abcdefABCDEF", j->p[i]) || j->p[i] == '\0')
                        return false;
                }
                j->p += 4;
            } else if (!strchr("\"\\/bfnrt", *j->p) || *j->p == '\0') {
                return false;
            }
        }
        if (out != NULL && n + 1 < size)
            out[n++] = (char)ch;
        j->p++;
    }
    j->p++;
    if (out != NULL)
        out[n] = '\0';
    return true;
}

static bool json_scalar(struct json_cursor *j)
{
    if (*j->p == '"')
        return json_string(j, NULL, 0);
    static const char *const words[] = {"null", "true", "false"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (strncmp(j->p, words[i], n) == 0) {
            j->p += n;
            return true;
        }
    }
    const char *start = j->p;
    if (*j->p == '-')
        j->p++;
    while (*j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > start && j->p[-1] != '-';
}

/* True when line is exactly one JSON object of scalar values; its keys go to
 * j->keys. */
static bool json_object_line(struct json_cursor *j, const char *line)
{
    j->p = line;
    j->key_count = 0;
    if (*j->p++ != '{')
        return false;
    skip_ws(j);
    if (*j->p == '}')
        return j->p[1] == '\0';
    for (;;) {
        skip_ws(j);
        char key[24];
        if (!json_string(j, key, sizeof(key)))
            return false;
        if (j->key_count < 32)
            strcpy(j->keys[j->key_count++], key);
        skip_ws(j);
        if (*j->p++ != ':')
            return false;
        skip_ws(j);
        if (!json_scalar(j))
            return false;
        skip_ws(j);
        if (*j->p == '}')
            return j->p[1] == '\0';
        if (*j->p++ != ',')
            return false;
    }
}

static void json_checker_rejects_broken_lines(void **state)
{
    (void)state;
    struct json_cursor j;
    assert_true(json_object_line(&j, "{\"a\":1,\"b\":\"x\\\"\\u00e9\",\"c\":null}"));
    assert_int_equal(j.key_count, 3);
    assert_false(json_object_line(&j, "{\"a\":1,}"));
    assert_false(json_object_line(&j, "{\"a\":\"x\ty\"}"));
    assert_false(json_object_line(&j, "{\"a\":\"\\x\"}"));
    assert_false(json_object_line(&j, "{\"a\":1} x"));
    assert_false(json_object_line(&j, "{\"a\" 1}"));
}

/* ---- a real workload ---- */

static VOID finish_post(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    (void)context;
    FltCompletePendedPostOperation(data);
    FltFreeDeferredIoWorkItem(item);
}

/* Pends each read in its post and finishes it from a deferred work item. */
static FLT_POSTOP_CALLBACK_STATUS pend_read_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                 PCFLT_RELATED_OBJECTS objects, PVOID context,
                                                 FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf;
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ || (flags & FLTFL_POST_OPERATION_DRAINING))
        return FLT_POSTOP_FINISHED_PROCESSING;
    PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
    if (item == NULL)
        return FLT_POSTOP_FINISHED_PROCESSING;
    if (FltQueueDeferredIoWorkItem(item, data, finish_post, DelayedWorkQueue, NULL) !=
        STATUS_SUCCESS) {
        FltFreeDeferredIoWorkItem(item);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
}

/* Calls of the status routine (any thread). */
static LONG status_calls;

static VOID count_status(PCFLT_RELATED_OBJECTS objects, PFLT_IO_PARAMETER_BLOCK snapshot,
                         NTSTATUS status, PVOID context)
{
    (void)objects;
    (void)snapshot;
    (void)status;
    (void)context;
    __atomic_fetch_add(&status_calls, 1, __ATOMIC_SEQ_CST);
}

/* Asks for the status IoCallDriver returns for each read IRP. */
static FLT_PREOP_CALLBACK_STATUS ask_status_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction == IRP_MJ_READ && FLT_IS_IRP_OPERATION(data))
        (void)FltRequestOperationStatusCallback(data, count_status, NULL);
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

struct requestor {
    fltsim_system *sys;
    PCWSTR path;
    NTSTATUS failure;
};

static void requestor_main(void *arg)
{
    struct requestor *r = arg;
    HANDLE h;
    NTSTATUS status = fltsim_io_open(r->sys, r->path, GENERIC_READ, &h);
    if (!NT_SUCCESS(status)) {
        r->failure = status;
        return;
    }
    char buf[16];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    for (int i = 0; i < 2; i++) {
        status = fltsim_io_read(r->sys, h, buf, sizeof(buf), &zero, 0, &iosb);
        if (!NT_SUCCESS(status))
            r->failure = status;
    }
    fltsim_io_close(r->sys, h);
}

/* Runs the workload on a system made with opts, every event going through a
 * tee to a sink of each format; out[f] receives format f's output (free()). */
static void run_workload(const struct fltsim_system_options *opts, char *out[4])
{
    struct capture c[4];
    struct fltsim_trace_tee tee = {{NULL}};
    for (int f = 0; f < 4; f++) {
        capture_open(&c[f], (enum fltsim_trace_format)f, 0);
        tee.sinks[f] = c[f].sink;
    }
    fltsim_system *sys;
    assert_status(fltsim_system_create(opts, &sys), STATUS_SUCCESS);
    fltsim_system_set_trace(sys, fltsim_trace_tee_event, &tee);
    struct fltsim_memfs *fs;
    assert_status(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(fs, L"\\a.txt", "hello world", 11), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(fs, L"\\dir\\b.txt", "bravo", 5), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                      .drive_letter = L'C',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = FLT_FSTYPE_NTFS,
                                      .completion = FLTSIM_COMPLETE_ASYNC};
    PFLT_VOLUME volume;
    assert_status(fltsim_volume_mount(sys, &vp, &volume), STATUS_SUCCESS);

    tf_reset_all();
    struct tf_filter a, b;
    tf_init(&a, "A", "370000");
    tf_init(&b, "B", "80000");
    a.pre = ask_status_pre;
    b.post = pend_read_post;
    __atomic_store_n(&status_calls, 0, __ATOMIC_SEQ_CST);
    fltsim_trace_tee_note(&tee, "load A and B");
    assert_status(tf_load(sys, &a), STATUS_SUCCESS);
    assert_status(tf_load(sys, &b), STATUS_SUCCESS);

    fltsim_trace_tee_note(&tee, "two readers");
    struct requestor r[2] = {{sys, L"C:\\a.txt", STATUS_SUCCESS},
                             {sys, L"C:\\dir\\b.txt", STATUS_SUCCESS}};
    fltsim_thread *t[2];
    for (int i = 0; i < 2; i++)
        assert_status(fltsim_thread_spawn(sys, 2000, 5000 + (ULONG)i, requestor_main, &r[i], &t[i]),
                      STATUS_SUCCESS);
    for (int i = 0; i < 2; i++) {
        fltsim_thread_join(t[i]);
        assert_status(r[i].failure, STATUS_SUCCESS);
    }

    fltsim_trace_tee_note(&tee, "list \\dir");
    HANDLE dir;
    assert_status(fltsim_io_open(sys, L"C:\\dir", FILE_LIST_DIRECTORY, &dir), STATUS_SUCCESS);
    char buf[512];
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_query_directory(sys, dir, buf, sizeof(buf), FileDirectoryInformation,
                                            NULL, SL_RESTART_SCAN, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, dir), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(sys, 10000), STATUS_SUCCESS);

    fltsim_trace_tee_note(&tee, "unload");
    assert_status(fltsim_driver_unload(b.driver, 0), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(a.driver, 0), STATUS_SUCCESS);
    fltsim_system_destroy(sys);
    tf_reset_all();
    assert_status(fltsim_trace_tee_finish(&tee), STATUS_SUCCESS);
    for (int f = 0; f < 4; f++) {
        fltsim_trace_sink_destroy(c[f].sink);
        fclose(c[f].out);
        out[f] = c[f].text;
    }
}

static size_t count_of(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(text, what); p != NULL; p = strstr(p + 1, what))
        n++;
    return n;
}

/* The number of lines of text holding marker; fails unless each of them
 * also holds a, b and c. */
static size_t lines_with(const char *text, const char *marker, const char *a, const char *b,
                         const char *c)
{
    size_t n = 0;
    for (const char *p = strstr(text, marker); p != NULL; p = strstr(p + 1, marker)) {
        const char *start = p;
        while (start > text && start[-1] != '\n')
            start--;
        const char *end = strchr(p + 1, '\n');
        size_t len = end != NULL ? (size_t)(end - start) : strlen(start);
        char line[2048];
        assert_true(len < sizeof(line));
        memcpy(line, start, len);
        line[len] = '\0';
        if (strstr(line, a) == NULL || strstr(line, b) == NULL || strstr(line, c) == NULL)
            fail_msg("a line with %s lacks %s / %s / %s: %s", marker, a, b, c, line);
        n++;
    }
    return n;
}

static const char *const jsonl_keys[] = {
    "type",       "type_value", "op_id",      "kind",        "kind_value",  "major",
    "major_name", "minor",      "minor_name", "depth",       "filter",      "instance",
    "altitude",   "volume",     "status",     "status_name", "information", "flags",
    "process_id", "thread_id",  "irql",       "irql_name",   "detail",      "rule"};

/* Every line an object with every key (notes: type and text); every pre
 * answered by a pre_return of its operation and depth, every post by a
 * post_return; one io_complete per io_start. */
static void check_jsonl(const char *text)
{
    struct json_cursor j;
    size_t pre = 0, pre_return = 0, post = 0, post_return = 0, lines = 0;
    const char *line = text;
    /* (op_id, depth) of the pre or post not yet answered, per operation. */
    char open_calls[4096] = "";
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        char buf[2048];
        size_t n = (size_t)(end - line);
        assert_true(n < sizeof(buf));
        memcpy(buf, line, n);
        buf[n] = '\0';
        if (!json_object_line(&j, buf))
            fail_msg("not a JSON object: %s", buf);
        lines++;
        if (strncmp(buf, "{\"type\":\"note\"", 14) == 0) {
            assert_int_equal(j.key_count, 2);
            assert_string_equal(j.keys[1], "text");
        } else {
            assert_int_equal(j.key_count, sizeof(jsonl_keys) / sizeof(jsonl_keys[0]));
            for (int k = 0; k < j.key_count; k++)
                assert_string_equal(j.keys[k], jsonl_keys[k]);
            unsigned long long op = 0;
            unsigned depth = 0;
            const char *p = strstr(buf, "\"op_id\":");
            assert_non_null(p);
            op = strtoull(p + 8, NULL, 10);
            p = strstr(buf, "\"depth\":");
            assert_non_null(p);
            depth = (unsigned)strtoul(p + 8, NULL, 10);
            char key[64];
            snprintf(key, sizeof(key), "[%llu/%u]", op, depth);
            bool is_pre = strncmp(buf, "{\"type\":\"pre\",", 14) == 0;
            bool is_post = strncmp(buf, "{\"type\":\"post\",", 15) == 0;
            bool is_pre_return = strncmp(buf, "{\"type\":\"pre_return\",", 21) == 0;
            bool is_post_return = strncmp(buf, "{\"type\":\"post_return\",", 22) == 0;
            pre += is_pre;
            post += is_post;
            pre_return += is_pre_return;
            post_return += is_post_return;
            if (is_pre || is_post) {
                /* A callback for one (operation, depth) never nests in itself. */
                assert_null(strstr(open_calls, key));
                assert_true(strlen(open_calls) + strlen(key) < sizeof(open_calls));
                strcat(open_calls, key);
            } else if (is_pre_return || is_post_return) {
                char *at = strstr(open_calls, key);
                if (at == NULL)
                    fail_msg("%s answers no call: %s", key, buf);
                memmove(at, at + strlen(key), strlen(at + strlen(key)) + 1);
            }
        }
        line = end + 1;
    }
    assert_string_equal(open_calls, "");
    assert_true(pre > 10);
    assert_int_equal(pre, pre_return);
    assert_int_equal(post, post_return);
    assert_int_equal(count_of(text, "{\"type\":\"io_start\""),
                     count_of(text, "{\"type\":\"io_complete\""));
    assert_int_equal(count_of(text, "{\"type\":\"note\""), 4);
    assert_true(count_of(text, "{\"type\":\"pend\"") >= 4);
    assert_int_equal(count_of(text, "{\"type\":\"pend\""), count_of(text, "{\"type\":\"resume\""));
    /* One per read (two readers, two reads each) by A, on an asynchronous
     * volume: IoCallDriver returned STATUS_PENDING. */
    assert_int_equal(lines_with(text, "{\"type\":\"status_callback\",\"type_value\":18,",
                                "\"major_name\":\"IRP_MJ_READ\"", "\"depth\":0,\"filter\":\"A\"",
                                "\"status_name\":\"STATUS_PENDING\""),
                     4);
    assert_true(lines > 50);
}

/* Lifelines first, then messages that only name declared lifelines. */
static void check_mermaid(const char *text)
{
    assert_true(strncmp(text, "```mermaid\n", 11) == 0);
    assert_true(strlen(text) > 4 && strcmp(text + strlen(text) - 4, "```\n") == 0);
    char ids[16][8];
    int id_count = 0;
    bool messages = false;
    size_t arrows = 0;
    const char *line = strchr(text, '\n') + 1;
    while (strncmp(line, "```", 3) != 0) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        char buf[2048];
        size_t n = (size_t)(end - line);
        assert_true(n < sizeof(buf));
        memcpy(buf, line, n);
        buf[n] = '\0';
        line = end + 1;
        if (strncmp(buf, "%%{", 3) == 0 || strcmp(buf, "sequenceDiagram") == 0)
            continue;
        if (strncmp(buf, "    participant ", 16) == 0) {
            assert_false(messages);
            assert_true(id_count < 16);
            assert_int_equal(sscanf(buf + 16, "%7s", ids[id_count]), 1);
            id_count++;
            continue;
        }
        messages = true;
        /* No raw ; or # in a label: only entity codes (#35;) may hold them. */
        for (const char *p = buf; *p != '\0'; p++) {
            if (*p == '#') {
                const char *q = p + 1;
                while ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z'))
                    q++;
                if (*q != ';' || q == p + 1)
                    fail_msg("raw # in: %s", buf);
                p = q;
            } else if (*p == ';') {
                fail_msg("raw ; in: %s", buf);
            }
        }
        if (strncmp(buf, "    Note ", 9) == 0)
            continue;
        const char *colon = strchr(buf, ':');
        assert_non_null(colon);
        char from[8] = "", to[8] = "";
        const char *arrow = strpbrk(buf + 4, "-");
        assert_non_null(arrow);
        memcpy(from, buf + 4, (size_t)(arrow - buf - 4));
        const char *target = arrow;
        while (*target == '-' || *target == '>' || *target == ')')
            target++;
        memcpy(to, target, (size_t)(colon - target));
        bool from_known = false, to_known = false;
        for (int i = 0; i < id_count; i++) {
            from_known |= strcmp(ids[i], from) == 0;
            to_known |= strcmp(ids[i], to) == 0;
        }
        if (!from_known || !to_known)
            fail_msg("undeclared lifeline in: %s", buf);
        arrows++;
    }
    assert_true(arrows > 20);
    /* IO, A (370000) above B (80000), the volume, the worker. */
    assert_int_equal(id_count, 5);
    assert_non_null(strstr(text, "participant F1 as A/"));
    assert_non_null(strstr(text, "participant F2 as B/"));
    assert_non_null(strstr(text, "participant W as worker threads"));
    assert_non_null(strstr(text, "pended in post"));
    assert_int_equal(lines_with(text, " status callback, IoCallDriver returned STATUS_PENDING\n",
                                "    Note over F1: #35;", "", ""),
                     4);
}

static void workload_traces_are_well_formed_in_every_format(void **state)
{
    (void)state;
    struct fltsim_system_options opts = test_options(0);
    char *out[4];
    run_workload(&opts, out);
    check_jsonl(out[FLTSIM_TRACE_JSONL]);
    check_mermaid(out[FLTSIM_TRACE_MERMAID]);
    const char *text = out[FLTSIM_TRACE_TEXT];
    assert_non_null(strstr(text, "IRP_MJ_DIRECTORY_CONTROL/IRP_MN_QUERY_DIRECTORY \\dir"));
    assert_non_null(strstr(text, "pended in post by B"));
    assert_non_null(strstr(text, "\n== two readers\n"));
    assert_int_equal(count_of(text, ") pre"), count_of(text, "<- FLT_PREOP_"));
    assert_int_equal(lines_with(text, "-> A (370000) status callback: IoCallDriver returned ",
                                "STATUS_PENDING", "", ""),
                     4);
    const char *norm = out[FLTSIM_TRACE_NORMALIZED];
    assert_int_equal(count_of(norm, "\npre op="), count_of(norm, "\npre_return op="));
    assert_int_equal(lines_with(norm, "status_callback op=", "major=IRP_MJ_READ ",
                                "depth=0 filter=\"A\"", "status=STATUS_PENDING "),
                     4);
    assert_int_equal(__atomic_load_n(&status_calls, __ATOMIC_SEQ_CST), 4);
    assert_int_equal(count_of(norm, "\n# "), 3);
    assert_true(strncmp(norm, "# load A and B\n", 15) == 0);
    /* Renumbered: the first operation is op=1, the first thread T1. */
    assert_non_null(strstr(norm, "io_start op=1 "));
    assert_null(strstr(norm, "thread=T0"));
    for (int f = 0; f < 4; f++)
        free(out[f]);
}

/* The normalized trace of two runs with one seed is the same, byte for
 * byte; the text trace (real thread ids) is too, and differs from the
 * normalized one, which proves the renumbering ran. */
static void normalized_trace_is_identical_across_seeded_runs(void **state)
{
    (void)state;
    struct fltsim_system_options opts = {.executor = FLTSIM_EXECUTOR_DETERMINISTIC, .seed = 7};
    char *first[4], *again[4];
    run_workload(&opts, first);
    run_workload(&opts, again);
    assert_true(strlen(first[FLTSIM_TRACE_NORMALIZED]) > 2000);
    assert_string_equal(first[FLTSIM_TRACE_NORMALIZED], again[FLTSIM_TRACE_NORMALIZED]);
    assert_string_equal(first[FLTSIM_TRACE_MERMAID], again[FLTSIM_TRACE_MERMAID]);
    assert_null(strstr(first[FLTSIM_TRACE_NORMALIZED], "thread=5000"));
    for (int f = 0; f < 4; f++) {
        free(first[f]);
        free(again[f]);
    }
}

int main(void)
{
    const struct CMUnitTest units[] = {
        cmocka_unit_test(json_checker_rejects_broken_lines),
        cmocka_unit_test(normalized_trace_is_identical_across_seeded_runs),
    };
    const struct CMUnitTest behaviour[] = {
        cmocka_unit_test(workload_traces_are_well_formed_in_every_format),
    };
    int failed = cmocka_run_group_tests_name("trace workload units", units, NULL, NULL);
    failed += FLTSIM_RUN_SUITE("trace workload", behaviour);
    return failed;
}
