/*
 * C++ filters (issue 15 item 7). The WDK headers give C++ the layouts they
 * give C: one list of sizeof, alignment, offsetof and value checks over the
 * structures, enumerations and constants filters share with fltsim
 * (cxx/layout_types.h, cxx/layout_values.h) is compiled in a C unit and a C++
 * unit, and every entry must agree. C++ code gets DEFINE_ENUM_FLAG_OPERATORS,
 * structured exception handling and the WDK macros (cxx/idioms.cpp). A C++
 * filter built as a module of its own (fixtures/cxx_pool.cpp) defines the
 * global operator new and delete over pool, and every form of them takes from
 * and gives back to pool; one that needs the C++ runtime
 * (fixtures/cxx_runtime.cpp) is refused even in a process that has
 * libstdc++. That the headers declare every routine with C linkage is
 * ctest wdk_headers_extern_c (cxx/extern_c.cmake).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fltsim_test.h"

#include <fltsim/scenario.h>

#include "cxx/layout.h"

/* ---- layouts ---- */

static void layout_c_and_cxx_agree_on_every_entry(void **state)
{
    (void)state;
    assert_int_equal(layout_cxx_count, layout_c_count);
    assert_true(layout_c_count > 1400);
    size_t differ = 0;
    for (size_t i = 0; i < layout_c_count; i++) {
        const struct layout_entry *c = &layout_c[i], *x = &layout_cxx[i];
        if (strcmp(c->what, x->what) != 0)
            fail_msg("entry %zu is %s in C, %s in C++", i, c->what, x->what);
        if (c->value != x->value || c->size != x->size) {
            print_error("%s: %llu (size or alignment %llu) in C, %llu (%llu) in C++\n", c->what,
                        c->value, c->size, x->value, x->size);
            differ++;
        }
    }
    assert_int_equal(differ, 0);
}

static const struct layout_entry *layout_find(const char *what)
{
    for (size_t i = 0; i < layout_c_count; i++)
        if (strcmp(layout_c[i].what, what) == 0)
            return &layout_c[i];
    return NULL;
}

/* The lists cover what filters share with fltsim, and say what the C
 * compiler says (a slip in the lists' macros would agree with itself). */
static void layout_lists_cover_the_shared_structures(void **state)
{
    (void)state;
    static const char *const types[] = {
        "FLT_REGISTRATION",
        "FLT_OPERATION_REGISTRATION",
        "FLT_CONTEXT_REGISTRATION",
        "FLT_CALLBACK_DATA",
        "FLT_IO_PARAMETER_BLOCK",
        "FLT_PARAMETERS",
        "FLT_RELATED_OBJECTS",
        "FLT_RELATED_CONTEXTS",
        "FLT_FILE_NAME_INFORMATION",
        "FILE_OBJECT",
        "UNICODE_STRING",
        "LIST_ENTRY",
        "KEVENT",
        "ERESOURCE",
        "MDL",
        "FILE_BASIC_INFORMATION",
        "FILE_STANDARD_INFORMATION",
        "FILE_NAME_INFORMATION",
        "FILE_RENAME_INFORMATION",
        "FILE_INFORMATION_CLASS",
        "FLT_PREOP_CALLBACK_STATUS",
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char what[128];
        snprintf(what, sizeof(what), "sizeof(%s)", types[i]);
        if (layout_find(what) == NULL)
            fail_msg("the layout lists do not check %s", types[i]);
    }
    const struct layout_entry *e = layout_find("offsetof(FLT_CALLBACK_DATA, Iopb)");
    assert_non_null(e);
    assert_int_equal(e->value, offsetof(FLT_CALLBACK_DATA, Iopb));
    assert_int_equal(e->size, sizeof(PFLT_IO_PARAMETER_BLOCK));
    e = layout_find("offsetof(FLT_PARAMETERS, Read.Length)");
    assert_non_null(e);
    assert_int_equal(e->value, offsetof(FLT_PARAMETERS, Read.Length));
    e = layout_find("sizeof(WCHAR)");
    assert_non_null(e);
    assert_int_equal(e->value, 2);
    e = layout_find("STATUS_TOO_MANY_OPENED_FILES");
    assert_non_null(e);
    assert_int_equal((ULONG)e->value, 0xC000011F);
    assert_int_equal(e->size, sizeof(NTSTATUS));
    e = layout_find("IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION");
    assert_non_null(e);
    assert_int_equal((UCHAR)e->value, 0xFF);
}

/* ---- idioms ---- */

/* Bytes of cxx_enum_flag_results: |, &, ^, ~ (low byte), |=, &=, ^=, and
 * FlagOn after SetFlag/ClearFlag on an enumeration. */
static void enum_flag_operators_compute_on_the_integer(void **state)
{
    (void)state;
    unsigned long long r = cxx_enum_flag_results(0x81, 0x03);
    static const unsigned char want[8] = {0x83, 0x01, 0x82, 0x7E, 0x83, 0x01, 0x82, 1};
    for (int i = 0; i < 8; i++)
        if (((r >> (8 * i)) & 0xFF) != want[i])
            fail_msg("result %d is 0x%02llx, expected 0x%02x", i, (r >> (8 * i)) & 0xFF, want[i]);
    r = cxx_enum_flag_results(0x00, 0x80);
    assert_int_equal(r & 0xFF, 0x80);
    assert_int_equal((r >> 8) & 0xFF, 0x00);
    assert_int_equal((r >> 24) & 0xFF, 0xFF);
}

static void seh_in_cxx_normal_exit_runs_finally_and_destructors(void **state)
{
    (void)state;
    char log[256];
    assert_int_equal(cxx_seh_run(0, 0, log, sizeof(log)), 0);
    assert_string_equal(log, "body end ~inner finally after ~outer");
}

/* __leave jumps out of the block: C++ runs the destructors of what it
 * leaves, the __finally block sees a normal termination. */
static void seh_in_cxx_leave_runs_destructor_then_finally(void **state)
{
    (void)state;
    char log[256];
    assert_int_equal(cxx_seh_run(1, 0, log, sizeof(log)), 0);
    assert_string_equal(log, "body ~inner finally after ~outer");
}

/* An exception raised in a callee reaches the C++ function's __except; the
 * __finally block inside runs first, abnormally; the object in the unwound
 * block is not destroyed (as on Windows without /EHa), the one outside the
 * __try is, at its own scope's end. */
static void seh_in_cxx_raise_is_handled_with_its_code(void **state)
{
    (void)state;
    char log[256];
    assert_int_equal(cxx_seh_run(2, (long)STATUS_INSUFFICIENT_RESOURCES, log, sizeof(log)),
                     (long)STATUS_INSUFFICIENT_RESOURCES);
    assert_string_equal(log, "body finally-abnormal filter handler after ~outer");
}

static void seh_in_cxx_probe_of_a_bad_buffer_is_handled(void **state)
{
    (void)state;
    char log[256];
    assert_int_equal(cxx_seh_run(3, 0, log, sizeof(log)), (long)STATUS_ACCESS_VIOLATION);
    assert_string_equal(log, "body finally-abnormal filter handler after ~outer");
}

static void wdk_macros_work_in_cxx(void **state)
{
    (void)state;
    int total = 0;
    int held = cxx_macros_hold(&total);
    assert_true(total >= 13);
    assert_int_equal(held, total);
}

/* ---- C++ filter objects ---- */

struct tag_count {
    ULONG tag;
    ULONG64 total, outstanding;
};

static void tags_read(struct tag_count *tags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct fltsim_pool_stats st;
        fltsim_pool_tag_stats(tags[i].tag, &st);
        tags[i].total = st.total;
        tags[i].outstanding = st.outstanding;
    }
}

struct debug_capture {
    char text[2048];
    size_t len;
};

static void debug_cb(void *ctx, const char *text)
{
    struct debug_capture *d = ctx;
    size_t n = strlen(text);
    if (d->len + n + 1 < sizeof(d->text)) {
        memcpy(d->text + d->len, text, n + 1);
        d->len += n;
    }
}

/* Loads and runs a scenario written from text, where "@SO@" stands for so.
 * Returns the run's status; *result and the log (in log) are filled. */
static NTSTATUS run_with_object(const char *text, const char *so,
                                struct fltsim_scenario_result *result, char *error,
                                size_t error_size)
{
    char yaml[2048], path[] = "/tmp/fltsim-cxx-XXXXXX";
    const char *at = strstr(text, "@SO@");
    assert_non_null(at);
    snprintf(yaml, sizeof(yaml), "%.*s%s%s", (int)(at - text), text, so, at + 4);
    test_write_temp(path, yaml);
    struct fltsim_scenario *sc = NULL;
    NTSTATUS status = fltsim_scenario_load(path, &sc, error, error_size);
    unlink(path);
    if (!NT_SUCCESS(status))
        return status;
    struct fltsim_scenario_run_options options = {0};
    options.override_executor = true;
    options.executor = test_executor;
    options.skip_golden = true;
    FILE *log = fopen("/dev/null", "w");
    assert_non_null(log);
    options.log = log;
    status = fltsim_scenario_run(sc, &options, result);
    fclose(log);
    fltsim_scenario_free(sc);
    return status;
}

/* Every form the fixture's DriverEntry and callbacks use goes through its own
 * operators into pool under that form's tag, once per use, and back: plain
 * new and delete (sized with g++), arrays, an over-aligned type, the
 * pool-typed form, placement new (no pool). The loader found no C++ runtime
 * symbol in it. */
static void cxx_filter_object_allocates_through_its_own_operators(void **state)
{
    (void)state;
    static const char text[] = "scenario: a C++ filter with its own operator new and delete\n"
                               "volumes: [{drive: C, files: [{path: \\a.txt, data: abc}]}]\n"
                               "filters: [{name: CxxPool, object: @SO@, altitude: 100000}]\n"
                               "steps:\n"
                               "  - {op: open, path: C:\\a.txt, handle: a}\n"
                               "  - {op: open, path: C:\\a.txt, handle: b}\n"
                               "  - {op: open, path: C:\\none.txt, expect: {status: "
                               "STATUS_OBJECT_NAME_NOT_FOUND}}\n"
                               "  - {op: close, handle: a}\n"
                               "  - {op: close, handle: b}\n"
                               "expect: {reports: [], handles: 0}\n";
    struct tag_count before[] = {{'wenC', 0, 0}, {'rraC', 0, 0}, {'nlaC', 0, 0}, {'pyTC', 0, 0}};
    struct tag_count after[] = {{'wenC', 0, 0}, {'rraC', 0, 0}, {'nlaC', 0, 0}, {'pyTC', 0, 0}};
    tags_read(before, 4);
    static struct debug_capture dbg;
    memset(&dbg, 0, sizeof(dbg));
    fltsim_debug_set_sink(debug_cb, &dbg);
    struct fltsim_scenario_result result;
    char error[1024] = "";
    NTSTATUS status = run_with_object(text, FLTSIM_TEST_CXX_POOL_SO, &result, error, sizeof(error));
    fltsim_debug_set_sink(NULL, NULL);
    if (status != STATUS_SUCCESS || result.expectations_failed != 0 || result.reports != 0)
        fail_msg("the run failed (0x%08x, %lu expectations failed, %lu reports): %s\n%s",
                 (unsigned)status, (unsigned long)result.expectations_failed,
                 (unsigned long)result.reports, error, dbg.text);
    assert_non_null(strstr(dbg.text, "CxxPool: idioms hold\n"));
    assert_non_null(strstr(dbg.text, "CxxPool: 3 creates\n"));
    tags_read(after, 4);
    /* DriverEntry: one new Widget; per create, one new (NonPagedPoolNx,
     * 'wenC') OpenRecord. */
    assert_int_equal(after[0].total - before[0].total, 1 + 3);
    assert_int_equal(after[1].total - before[1].total, 1); /* new Widget[3] */
    assert_int_equal(after[2].total - before[2].total, 1); /* new Wide */
    assert_int_equal(after[3].total - before[3].total, 1); /* new (NonPagedPoolNx, 'pyTC') */
    for (int i = 0; i < 4; i++)
        assert_int_equal(after[i].outstanding, before[i].outstanding);
}

/* A C++ filter that needs the C++ runtime's operator new, operator delete and
 * __cxa_atexit is refused before it runs, with each one named, though this
 * process has libstdc++ loaded: a kernel has none to give it. */
static void cxx_runtime_is_refused_even_where_the_process_has_one(void **state)
{
    (void)state;
    void *libstdcxx = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_GLOBAL);
    assert_non_null(libstdcxx);
    assert_non_null(dlsym(RTLD_DEFAULT, "_Znwm"));
    static const char text[] = "scenario: needs the C++ runtime\n"
                               "volumes: [{drive: C}]\n"
                               "filters: [{name: NeedsRuntime, object: @SO@, altitude: 100000}]\n"
                               "steps: [{note: hi}]\n";
    struct fltsim_scenario_result result;
    char error[4096] = "";
    assert_status(run_with_object(text, FLTSIM_TEST_CXX_RUNTIME_SO, &result, error, sizeof(error)),
                  STATUS_DRIVER_ENTRYPOINT_NOT_FOUND);
    if (strstr(error, "it needs 3 routines that fltsim does not provide:") == NULL ||
        strstr(error, "\n  _Znw") == NULL ||
        strstr(error, " (operator new): the C++ runtime's") == NULL ||
        strstr(error, "\n  _ZdlPv") == NULL || strstr(error, " (operator delete): ") == NULL ||
        strstr(error, "\n  __cxa_atexit") == NULL)
        fail_msg("the refusal does not name the C++ runtime's routines: %s", error);
    dlclose(libstdcxx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout_c_and_cxx_agree_on_every_entry),
        cmocka_unit_test(layout_lists_cover_the_shared_structures),
        cmocka_unit_test(enum_flag_operators_compute_on_the_integer),
        cmocka_unit_test(seh_in_cxx_normal_exit_runs_finally_and_destructors),
        cmocka_unit_test(seh_in_cxx_leave_runs_destructor_then_finally),
        cmocka_unit_test(seh_in_cxx_raise_is_handled_with_its_code),
        cmocka_unit_test(seh_in_cxx_probe_of_a_bad_buffer_is_handled),
        cmocka_unit_test(wdk_macros_work_in_cxx),
        cmocka_unit_test(cxx_filter_object_allocates_through_its_own_operators),
        cmocka_unit_test(cxx_runtime_is_refused_even_where_the_process_has_one),
    };
    return FLTSIM_RUN_SUITE("cxx", tests);
}
