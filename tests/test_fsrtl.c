/*
 * FsRtlIsNameInExpression and FsRtlDoesNameContainWildCards (fsrtl.c): the
 * wildcard matching minifilters use on file names, its DOS wildcards and
 * case rules, its bound on time, and the simulator report for an upcase
 * table passed from a filter callback. The counted-string routines it takes
 * its arguments through are in test_rtl.c.
 */
#include <stdint.h>
#include <stdlib.h>

#include <uv.h>

#include "fltsim_test.h"

/* ------------------------------------------------------------------------- */
/* FsRtlIsNameInExpression                                                   */
/* ------------------------------------------------------------------------- */

static BOOLEAN match(const WCHAR *expression, const WCHAR *name, BOOLEAN ignore_case)
{
    UNICODE_STRING e = ustr(expression), n = ustr(name);
    return FsRtlIsNameInExpression(&e, &n, ignore_case, NULL);
}

static void name_expression_empty_strings_match_only_each_other(void **state)
{
    (void)state;
    assert_true(match(L"", L"", FALSE));
    assert_false(match(L"", L"a", FALSE));
    assert_false(match(L"*", L"", FALSE)); /* documented: "*" does not match "" */
    assert_false(match(L"<", L"", FALSE));
}

static void name_expression_literal_matches_exactly(void **state)
{
    (void)state;
    assert_true(match(L"abc", L"abc", FALSE));
    assert_false(match(L"abc", L"abcd", FALSE));
    assert_false(match(L"abcd", L"abc", FALSE));
    assert_false(match(L"abc", L"ABC", FALSE));
}

static void name_expression_star_matches_any_sequence(void **state)
{
    (void)state;
    assert_true(match(L"*", L"anything.at.all", FALSE));
    assert_true(match(L"*.txt", L"foo.txt", FALSE));
    assert_true(match(L"*.txt", L".txt", FALSE));
    assert_true(match(L"*.txt", L"a.b.txt", FALSE));
    assert_false(match(L"*.txt", L"foo.txtx", FALSE));
    assert_false(match(L"*.txt", L"footxt", FALSE));
    assert_true(match(L"a*b*c", L"aXXbYYc", FALSE));
    assert_true(match(L"a*b*c", L"abc", FALSE));
    assert_false(match(L"a*b*c", L"acb", FALSE));
    assert_true(match(L"**", L"x", FALSE));
}

static void name_expression_plain_star_dot_star_requires_dot(void **state)
{
    (void)state;
    assert_false(match(L"*.*", L"readme", FALSE));
    assert_true(match(L"*.*", L"readme.txt", FALSE));
    assert_true(match(L"*.*", L"readme.", FALSE));
    assert_true(match(L"*.*", L".profile", FALSE));
}

static void name_expression_question_matches_exactly_one(void **state)
{
    (void)state;
    assert_true(match(L"?", L"a", FALSE));
    assert_false(match(L"?", L"ab", FALSE));
    assert_true(match(L"a?c", L"abc", FALSE));
    assert_false(match(L"a?c", L"ac", FALSE));
    assert_true(match(L"a?c", L"a.c", FALSE)); /* unlike DOS_QM, '?' takes a dot */
    assert_true(match(L"??", L"\u00e9\u00e9", FALSE));
}

static void name_expression_dos_star_stops_before_last_dot(void **state)
{
    (void)state;
    /* "*.txt" as the Win32 layer passes it down: <.txt */
    assert_true(match(L"<.txt", L"foo.txt", FALSE));
    assert_true(match(L"<.txt", L"a.b.txt", FALSE)); /* earlier dots may be eaten */
    assert_false(match(L"<.txt", L"foo.doc", FALSE));
    /* Alone it matches a name without a dot, but cannot eat the last dot. */
    assert_true(match(L"<", L"foo", FALSE));
    assert_false(match(L"<", L"foo.txt", FALSE));
    assert_true(match(L"<a", L"bba", FALSE));
    assert_true(match(L"<.b", L"a.b", FALSE));
    assert_false(match(L"<b", L"a.b", FALSE)); /* would need the last dot */
}

static void name_expression_dos_dot_matches_dot_or_end(void **state)
{
    (void)state;
    assert_true(match(L"a\"b", L"a.b", FALSE));
    assert_false(match(L"a\"b", L"ab", FALSE)); /* zero characters only at the end */
    assert_true(match(L"a\"", L"a", FALSE));
    assert_true(match(L"a\"", L"a.", FALSE));
    assert_false(match(L"a\"", L"ab", FALSE));
}

static void name_expression_dos_qm_matches_one_or_none_at_dot(void **state)
{
    (void)state;
    assert_true(match(L">>>", L"ab", FALSE));
    assert_true(match(L">>>", L"abc", FALSE));
    assert_false(match(L">>>", L"abcd", FALSE));
    assert_false(match(L">", L"", FALSE));
    assert_false(match(L"a>b", L"a.b", FALSE)); /* never takes the dot itself */
    assert_true(match(L"a>.b", L"a.b", FALSE));
    assert_true(match(L"a>.b", L"ax.b", FALSE));
    assert_false(match(L"a>.b", L"axy.b", FALSE));
    assert_false(match(L">b", L"b", FALSE)); /* not at a dot or the end: one character */
}

static void name_expression_dos_eight_dot_three_pattern(void **state)
{
    (void)state;
    /* "????????.???" as the Win32 layer passes it down. */
    const WCHAR *expr = L">>>>>>>>\">>>";
    assert_true(match(expr, L"foo.c", FALSE));
    assert_true(match(expr, L"foo", FALSE));
    assert_true(match(expr, L"12345678.abc", FALSE));
    assert_false(match(expr, L"123456789.c", FALSE));
    assert_false(match(expr, L"foo.abcd", FALSE));
}

static void name_expression_dos_star_dot_translations(void **state)
{
    (void)state;
    /* "*." as passed down, <" : names without an extension. */
    assert_true(match(L"<\"", L"readme", FALSE));
    assert_true(match(L"<\"", L"readme.", FALSE));
    assert_false(match(L"<\"", L"readme.txt", FALSE));
    /* <"* : the DOS meaning of "*.*", every name, with or without a dot. */
    assert_true(match(L"<\"*", L"readme", FALSE));
    assert_true(match(L"<\"*", L"readme.txt", FALSE));
    assert_true(match(L"<\"*", L"a.b.c", FALSE));
}

static void name_expression_ignore_case_upcases_name_only(void **state)
{
    (void)state;
    assert_true(match(L"FOO*.TXT", L"foo1.txt", TRUE));
    assert_false(match(L"FOO*.TXT", L"foo1.txt", FALSE));
    assert_true(match(L"\u00c9T\u00c9?", L"\u00e9t\u00e9s", TRUE));
    assert_true(match(L"\u0414*", L"\u0434\u0430", TRUE));
    /* The expression must already be upcased: a lower-case one never
     * matches with IgnoreCase, as on Windows. */
    assert_false(match(L"foo", L"foo", TRUE));
}

static void name_expression_upcase_table_is_ignored(void **state)
{
    (void)state;
    WCHAR table[1] = {0};
    UNICODE_STRING e = ustr(L"ABC*"), n = ustr(L"abcdef");
    /* Reported on standard error (no system is current); the default table
     * is used. */
    assert_true(FsRtlIsNameInExpression(&e, &n, TRUE, table));
}

static void name_expression_long_name_runs_in_polynomial_time(void **state)
{
    (void)state;
    WCHAR *name = wide_run(L'a', 4000);
    UNICODE_STRING n = ustr(name), e = ustr(L"*a*a*a*a*a*b");
    uint64_t start = uv_hrtime();
    /* Naive backtracking tries about C(4000, 5) ways before failing. */
    assert_false(FsRtlIsNameInExpression(&e, &n, FALSE, NULL));
    name[3999] = L'b';
    assert_true(FsRtlIsNameInExpression(&e, &n, FALSE, NULL));

    WCHAR *longest = wide_run(L'a', 32767);
    UNICODE_STRING big = {(USHORT)65534, (USHORT)65534, longest};
    UNICODE_STRING stars = ustr(L"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b");
    assert_false(FsRtlIsNameInExpression(&stars, &big, FALSE, NULL));
    uint64_t elapsed_ms = (uv_hrtime() - start) / 1000000;
    assert_true(elapsed_ms < 10000);
    free(name);
    free(longest);
}

static void wildcards_detected_in_name(void **state)
{
    (void)state;
    static const WCHAR *const wild[] = {L"a*", L"?", L"x<y", L"x>", L"\"q"};
    for (size_t i = 0; i < sizeof(wild) / sizeof(wild[0]); i++) {
        UNICODE_STRING u = ustr(wild[i]);
        assert_true(FsRtlDoesNameContainWildCards(&u));
    }
    UNICODE_STRING plain = ustr(L"plain.txt"), empty = {0, 0, NULL};
    assert_false(FsRtlDoesNameContainWildCards(&plain));
    assert_false(FsRtlDoesNameContainWildCards(&empty));
    /* Only the counted characters are looked at. */
    UNICODE_STRING cut = {4, 8, (PWCH)L"ab*"};
    assert_false(FsRtlDoesNameContainWildCards(&cut));
}

/* ------------------------------------------------------------------------- */
/* Misuse inside a filter callback becomes a verifier report                 */
/* ------------------------------------------------------------------------- */

static FLT_PREOP_CALLBACK_STATUS pre_match_with_upcase_table(struct tf_filter *tf,
                                                             PFLT_CALLBACK_DATA data,
                                                             PCFLT_RELATED_OBJECTS objects,
                                                             PVOID *context)
{
    (void)data;
    (void)objects;
    (void)context;
    WCHAR table[1] = {0};
    UNICODE_STRING e = ustr(L"*.TXT"), n = ustr(L"a.txt");
    /* The result must be as with the default table. */
    tf->user = (void *)(uintptr_t)FsRtlIsNameInExpression(&e, &n, TRUE, table);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void name_expression_upcase_table_in_callback_is_reported(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter tf;
    world_create(&w, 0);
    tf_init(&tf, "A", "370000");
    tf_only(&tf, IRP_MJ_CREATE);
    tf.pre = pre_match_with_upcase_table;
    assert_status(tf_load(w.sys, &tf), STATUS_SUCCESS);

    HANDLE h = world_open(&w, L"C:\\a.txt", FILE_READ_DATA);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "SIM"), 1);
    assert_true((uintptr_t)tf.user == TRUE);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(name_expression_empty_strings_match_only_each_other),
        cmocka_unit_test(name_expression_literal_matches_exactly),
        cmocka_unit_test(name_expression_star_matches_any_sequence),
        cmocka_unit_test(name_expression_plain_star_dot_star_requires_dot),
        cmocka_unit_test(name_expression_question_matches_exactly_one),
        cmocka_unit_test(name_expression_dos_star_stops_before_last_dot),
        cmocka_unit_test(name_expression_dos_dot_matches_dot_or_end),
        cmocka_unit_test(name_expression_dos_qm_matches_one_or_none_at_dot),
        cmocka_unit_test(name_expression_dos_eight_dot_three_pattern),
        cmocka_unit_test(name_expression_dos_star_dot_translations),
        cmocka_unit_test(name_expression_ignore_case_upcases_name_only),
        cmocka_unit_test(name_expression_upcase_table_is_ignored),
        cmocka_unit_test(name_expression_long_name_runs_in_polynomial_time),
        cmocka_unit_test(wildcards_detected_in_name),
        cmocka_unit_test(name_expression_upcase_table_in_callback_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
