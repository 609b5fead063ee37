/*
 * What the two suites of the kernel C runtime's wide routines (test_crt_wide.c,
 * test_crt_wprintf.c) share: comparing UTF-16 strings exactly, printing them
 * as UTF-8 on failure, and running misuse inside a filter callback, where a
 * routine's invalid-parameter report becomes a verifier report.
 */
#ifndef FLTSIM_TEST_CRT_H
#define FLTSIM_TEST_CRT_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fltsim_test.h"

/* Fails unless actual holds exactly the units of expected and its terminator. */
static inline void crt_assert_wstr(const WCHAR *actual, const WCHAR *expected, const char *file,
                                   int line)
{
    size_t n = fltsim_wcslen(expected);
    if (actual != NULL && memcmp(actual, expected, (n + 1) * sizeof(WCHAR)) == 0)
        return;
    char a[512] = "(null)", e[512];
    if (actual != NULL)
        fltsim_utf16_to_utf8(actual, fltsim_wcslen(actual), a, sizeof(a));
    fltsim_utf16_to_utf8(expected, n, e, sizeof(e));
    _assert_string_equal(a, e, file, line);
    /* Same UTF-8 yet different units (unpaired surrogates, say). */
    _fail(file, line);
}
#define assert_wstr(actual, expected) crt_assert_wstr((actual), (expected), __FILE__, __LINE__)

/* One misuse: performs the bad call and says whether it returned what the
 * CRT documents for it. */
struct crt_misuse {
    const char *api; /* the routine the report must name */
    bool (*call)(void);
};

/* What one misuse did inside the filter. */
struct crt_misuse_result {
    bool returned_documented;
    ULONG reports; /* new KE reports */
    char message[320];
};

static const struct crt_misuse *crt_misuse_cases;
static struct crt_misuse_result *crt_misuse_results;
static size_t crt_misuse_count;
static fltsim_system *crt_misuse_sys;

static FLT_PREOP_CALLBACK_STATUS crt_misuse_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)data;
    (void)objects;
    (void)context;
    for (size_t i = 0; i < crt_misuse_count; i++) {
        struct crt_misuse_result *r = &crt_misuse_results[i];
        ULONG before = fltsim_system_report_count_rule(crt_misuse_sys, "KE");
        r->returned_documented = crt_misuse_cases[i].call();
        r->reports = fltsim_system_report_count_rule(crt_misuse_sys, "KE") - before;
        ULONG total = fltsim_system_report_count(crt_misuse_sys);
        struct fltsim_report rep;
        if (total > 0 && NT_SUCCESS(fltsim_system_report_get(crt_misuse_sys, total - 1, &rep)))
            snprintf(r->message, sizeof(r->message), "%s", rep.message);
    }
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

/* Runs each misuse inside a filter's pre-create (recording only; the
 * assertions run here, on the test thread) and checks that each returned
 * its documented error and made exactly one KE report naming its routine. */
static inline void crt_run_misuses(const struct crt_misuse *cases, size_t count)
{
    struct crt_misuse_result results[64];
    assert_true(count <= RTL_NUMBER_OF(results));
    memset(results, 0, sizeof(results));
    struct test_world w;
    struct tf_filter tf;
    world_create(&w, 0);
    tf_init(&tf, "CrtUser", "370000");
    tf_only(&tf, IRP_MJ_CREATE);
    tf.pre = crt_misuse_pre;
    crt_misuse_cases = cases;
    crt_misuse_results = results;
    crt_misuse_count = count;
    crt_misuse_sys = w.sys;
    assert_status(tf_load(w.sys, &tf), STATUS_SUCCESS);
    HANDLE h = world_open(&w, L"C:\\a.txt", FILE_READ_DATA);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
    for (size_t i = 0; i < count; i++) {
        if (!results[i].returned_documented || results[i].reports != 1 ||
            strstr(results[i].message, cases[i].api) == NULL)
            fail_msg("misuse %zu of %s: documented return %d, %u reports, last \"%s\"", i,
                     cases[i].api, results[i].returned_documented, (unsigned)results[i].reports,
                     results[i].message);
    }
}

#endif /* FLTSIM_TEST_CRT_H */
