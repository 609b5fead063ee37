/*
 * DbgPrint, DbgPrintEx and vDbgPrintEx (dbgprint.c): Windows-style formatting
 * (%wZ, %ws, %Z, the l, I64 and I size prefixes, the 512-byte limit) checked
 * through a capturing debug sink, and the verifier report for a Unicode
 * conversion above PASSIVE_LEVEL. The strings it prints are made with the
 * Rtl routines of test_rtl.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

/* ------------------------------------------------------------------------- */
/* DbgPrint                                                                   */
/* ------------------------------------------------------------------------- */

struct capture {
    char text[1024];
    int calls;
};

static void capture_cb(void *ctx, const char *text)
{
    struct capture *c = ctx;
    snprintf(c->text, sizeof(c->text), "%s", text);
    c->calls++;
}

static int capture_setup(void **state)
{
    struct capture *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -1;
    fltsim_debug_set_sink(capture_cb, c);
    *state = c;
    return 0;
}

static int capture_teardown(void **state)
{
    fltsim_debug_set_sink(NULL, NULL);
    free(*state);
    return 0;
}

static void dbgprint_plain_text_reaches_sink_unchanged(void **state)
{
    struct capture *c = *state;
    assert_status(DbgPrint("hello, world\n"), STATUS_SUCCESS);
    assert_int_equal(c->calls, 1);
    assert_string_equal(c->text, "hello, world\n");
}

static void dbgprint_unicode_string_prints_utf8(void **state)
{
    struct capture *c = *state;
    UNICODE_STRING u = ustr(L"\\caf\u00e9\\x");
    UNICODE_STRING cut = {6, 8, (PWCH)L"abcd"}; /* not terminated at Length */
    assert_status(DbgPrint("[%wZ] [%wZ]", &u, &cut), STATUS_SUCCESS);
    assert_string_equal(c->text, "[\\caf\xC3\xA9\\x] [abc]");
}

static void dbgprint_null_unicode_string_prints_null(void **state)
{
    struct capture *c = *state;
    UNICODE_STRING no_buffer = {0, 0, NULL};
    DbgPrint("%wZ|%wZ|%ws|%s", (PUNICODE_STRING)NULL, &no_buffer, (PCWSTR)NULL, (char *)NULL);
    assert_string_equal(c->text, "(null)|(null)|(null)|(null)");
}

static void dbgprint_wide_strings_and_chars_print_utf8(void **state)
{
    struct capture *c = *state;
    const WCHAR pair[] = {L'<', 0xD83D, 0xDE00, L'>', 0};
    DbgPrint("%ws %S %ls %s %hs", L"w\u00e9", L"S", pair, "narrow", "h");
    assert_string_equal(c->text, "w\xC3\xA9 S <\xF0\x9F\x98\x80> narrow h");
    DbgPrint("%c%C%wc%lc%hc", 'a', (WCHAR)0x00E9, (WCHAR)L'b', (WCHAR)0x20AC, 'z');
    assert_string_equal(c->text, "a\xC3\xA9"
                                 "b\xE2\x82\xAC"
                                 "z");
}

static void dbgprint_ansi_string_prints_counted_bytes(void **state)
{
    struct capture *c = *state;
    ANSI_STRING a = {3, 6, (PCHAR) "abcdef"};
    DbgPrint("<%Z>", &a);
    assert_string_equal(c->text, "<abc>");
    DbgPrint("<%Z>", (PANSI_STRING)NULL);
    assert_string_equal(c->text, "<(null)>");
}

static void dbgprint_l_modifier_is_32_bits(void **state)
{
    struct capture *c = *state;
    ULONG big = 4000000000u;
    LONG negative = -5;
    DbgPrint("%lu %ld %lx %lX %d", big, negative, (ULONG)0xdeadbeef, (ULONG)0xabc, 7);
    assert_string_equal(c->text, "4000000000 -5 deadbeef ABC 7");
}

static void dbgprint_64_bit_prefixes_take_64_bits(void **state)
{
    struct capture *c = *state;
    ULONGLONG v = 0x123456789abcdef0ULL;
    LONGLONG neg = -1234567890123LL;
    DbgPrint("%I64x %I64d %llu %I64X|%d", v, neg, 18446744073709551615ULL, v, 9);
    assert_string_equal(c->text,
                        "123456789abcdef0 -1234567890123 18446744073709551615 123456789ABCDEF0|9");
}

static void dbgprint_pointer_sized_prefixes(void **state)
{
    struct capture *c = *state;
    SIZE_T size = (SIZE_T)1 << 40;
    ULONG_PTR uptr = 42;
    DbgPrint("%Iu %zu %Ix %I32u %hu %hhu|%d", size, size, uptr, (ULONG)3000000000u, (unsigned)70000,
             (unsigned)300, 5);
    assert_string_equal(c->text, "1099511627776 1099511627776 2a 3000000000 4464 44|5");
}

static void dbgprint_pointer_prints_all_hex_digits(void **state)
{
    struct capture *c = *state;
    char expected[64];
    void *p = (void *)(uintptr_t)0xabc123;
    snprintf(expected, sizeof(expected), "%0*" PRIXPTR "|", (int)(2 * sizeof(void *)),
             (uintptr_t)p);
    DbgPrint("%p|", p);
    assert_string_equal(c->text, expected);
    DbgPrint("%p", NULL);
    assert_int_equal(strlen(c->text), 2 * sizeof(void *));
    assert_int_equal(strspn(c->text, "0"), 2 * sizeof(void *));
}

static void dbgprint_width_and_precision_apply(void **state)
{
    struct capture *c = *state;
    DbgPrint("[%5d][%-5d][%05d][%.3d][%+d][%#x]", 42, 42, 42, 7, 3, 255u);
    assert_string_equal(c->text, "[   42][42   ][00042][007][+3][0xff]");
    DbgPrint("[%*d][%*d][%.*d][%-*s]", 4, 1, -4, 2, 3, 5, 3, "ab");
    assert_string_equal(c->text, "[   1][2   ][005][ab ]");
    DbgPrint("[%6s][%-6s][%.2s]", "abc", "abc", "abc");
    assert_string_equal(c->text, "[   abc][abc   ][ab]");
}

static void dbgprint_precision_limits_wide_characters(void **state)
{
    struct capture *c = *state;
    UNICODE_STRING u = ustr(L"\u00e9\u00e9\u00e9\u00e9");
    DbgPrint("[%.2wZ][%.3ws][%6wZ][%-3.1ws]", &u, L"abcdef", &u, L"xyz");
    /* Width counts characters, not UTF-8 bytes. */
    assert_string_equal(c->text,
                        "[\xC3\xA9\xC3\xA9][abc][  \xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9][x  ]");
}

static void dbgprint_percent_and_unknown_print_literally(void **state)
{
    struct capture *c = *state;
    DbgPrint("100%% %y %d%", 4);
    assert_string_equal(c->text, "100% %y 4%");
    /* A length modifier that does not fit the conversion: not understood,
     * printed as written, no argument taken. */
    DbgPrint("%wd|%d", 7);
    assert_string_equal(c->text, "%wd|7");
}

static void dbgprint_format_ending_inside_conversion_prints_rest(void **state)
{
    struct capture *c = *state;
    /* Heap copies of exact size, so reading past the end is caught. */
    static const char *const formats[] = {"abc%", "x%-5", "y%.", "z%ll"};
    static const char *const expected[] = {"abc%", "x%-5", "y%.", "z%ll"};
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        size_t n = strlen(formats[i]) + 1;
        char *format = malloc(n);
        assert_non_null(format);
        memcpy(format, formats[i], n);
        assert_status(DbgPrint(format), STATUS_SUCCESS);
        assert_string_equal(c->text, expected[i]);
        free(format);
    }
}

static void dbgprint_float_is_unsupported_but_keeps_arguments_aligned(void **state)
{
    struct capture *c = *state;
    DbgPrint("%f %d %.2e %d", 1.5, 11, 2.5, 12);
    assert_string_equal(c->text, "%f 11 %.2e 12");
    /* Enough arguments that the last double and int share the stack (on
     * x86-64 the first eight doubles travel in registers apart from the
     * integers), so a double left unconsumed would shift the int. */
    DbgPrint("%d%d%d%d%d %f%f%f%f%f%f%f%f %g %d", 1, 2, 3, 4, 5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0,
             8.0, 9.0, 42);
    assert_string_equal(c->text, "12345 %f%f%f%f%f%f%f%f %g 42");
}

static void dbgprint_exactly_512_bytes_is_success(void **state)
{
    struct capture *c = *state;
    char text[513];
    memset(text, 'x', 512);
    text[512] = '\0';
    assert_status(DbgPrint("%s", text), STATUS_SUCCESS);
    assert_int_equal(strlen(c->text), 512);
}

static void dbgprint_longer_than_512_bytes_is_truncated_with_overflow(void **state)
{
    struct capture *c = *state;
    char text[601];
    memset(text, 'y', 600);
    text[600] = '\0';
    assert_status(DbgPrint("%s and more", text), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(strlen(c->text), 512);
    assert_int_equal(strspn(c->text, "y"), 512);

    assert_status(DbgPrint("%700d|", 1), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(strlen(c->text), 512);
}

static void dbgprint_truncation_keeps_whole_utf8_characters(void **state)
{
    struct capture *c = *state;
    char text[512];
    memset(text, 'z', 511);
    text[511] = '\0';
    /* 511 bytes, then a two-byte character that does not fit. */
    assert_status(DbgPrint("%s%wc", text, (WCHAR)0x00E9), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(strlen(c->text), 511);
}

static void dbgprintex_prints_every_level(void **state)
{
    struct capture *c = *state;
    ULONG levels[] = {
        DPFLTR_ERROR_LEVEL, DPFLTR_WARNING_LEVEL, DPFLTR_TRACE_LEVEL, DPFLTR_INFO_LEVEL, 31,
        DPFLTR_MASK | 0x10};
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        char expected[32];
        snprintf(expected, sizeof(expected), "level %u\n", levels[i]);
        assert_status(DbgPrintEx(DPFLTR_IHVDRIVER_ID, levels[i], "level %u\n", levels[i]),
                      STATUS_SUCCESS);
        assert_string_equal(c->text, expected);
    }
    assert_int_equal(c->calls, (int)(sizeof(levels) / sizeof(levels[0])));
}

static ULONG call_vdbgprintex(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    ULONG r = vDbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, format, ap);
    va_end(ap);
    return r;
}

static void vdbgprintex_formats_va_list(void **state)
{
    struct capture *c = *state;
    UNICODE_STRING u = ustr(L"vol");
    assert_status(call_vdbgprintex("%wZ=%lu", &u, (ULONG)17), STATUS_SUCCESS);
    assert_string_equal(c->text, "vol=17");
}

static void debug_sink_null_restores_default(void **state)
{
    struct capture *c = *state;
    fltsim_debug_set_sink(NULL, NULL);
    DbgPrint("fltsim test_rtl: this line goes to standard error\n");
    assert_int_equal(c->calls, 0);
    fltsim_debug_set_sink(capture_cb, c);
    DbgPrint("back");
    assert_int_equal(c->calls, 1);
    assert_string_equal(c->text, "back");
}

/* ------------------------------------------------------------------------- */
/* Misuse inside a filter callback becomes a verifier report                 */
/* ------------------------------------------------------------------------- */

static FLT_PREOP_CALLBACK_STATUS pre_dbgprint_unicode_at_dispatch(struct tf_filter *tf,
                                                                  PFLT_CALLBACK_DATA data,
                                                                  PCFLT_RELATED_OBJECTS objects,
                                                                  PVOID *context)
{
    (void)tf;
    (void)data;
    (void)objects;
    (void)context;
    UNICODE_STRING u = ustr(L"name");
    KIRQL old;
    DbgPrint("passive %wZ\n", &u); /* allowed */
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    DbgPrint("dispatch %wZ\n", &u);      /* Unicode conversion above PASSIVE_LEVEL */
    DbgPrint("dispatch %s\n", "narrow"); /* allowed at any IRQL */
    KeLowerIrql(old);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void dbgprint_unicode_above_passive_is_reported(void **state)
{
    struct capture *c = *state;
    struct test_world w;
    struct tf_filter tf;
    world_create(&w, 0);
    tf_init(&tf, "A", "370000");
    tf_only(&tf, IRP_MJ_CREATE);
    tf.pre = pre_dbgprint_unicode_at_dispatch;
    assert_status(tf_load(w.sys, &tf), STATUS_SUCCESS);
    ULONG before = fltsim_system_report_count_rule(w.sys, "V28");

    HANDLE h = world_open(&w, L"C:\\a.txt", FILE_READ_DATA);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), before + 1);
    assert_string_equal(c->text, "dispatch narrow\n"); /* still printed */
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
}

/* DbgBreakPoint with no debugger raises STATUS_BREAKPOINT, which a __try
 * handles; so does DbgBreakPointWithStatus. */
static void dbgbreakpoint_raises_breakpoint(void **state)
{
    (void)state;
    volatile NTSTATUS code = 0;
    __try {
        DbgBreakPoint();
        code = STATUS_SUCCESS; /* not reached */
    } __except (code = GetExceptionCode(), EXCEPTION_EXECUTE_HANDLER) {
    }
    assert_status(code, STATUS_BREAKPOINT);
    code = 0;
    __try {
        DbgBreakPointWithStatus(7);
    } __except (code = GetExceptionCode(), EXCEPTION_EXECUTE_HANDLER) {
    }
    assert_status(code, STATUS_BREAKPOINT);
}

#define DBG_TEST(f) cmocka_unit_test_setup_teardown(f, capture_setup, capture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        DBG_TEST(dbgprint_plain_text_reaches_sink_unchanged),
        DBG_TEST(dbgprint_unicode_string_prints_utf8),
        DBG_TEST(dbgprint_null_unicode_string_prints_null),
        DBG_TEST(dbgprint_wide_strings_and_chars_print_utf8),
        DBG_TEST(dbgprint_ansi_string_prints_counted_bytes),
        DBG_TEST(dbgprint_l_modifier_is_32_bits),
        DBG_TEST(dbgprint_64_bit_prefixes_take_64_bits),
        DBG_TEST(dbgprint_pointer_sized_prefixes),
        DBG_TEST(dbgprint_pointer_prints_all_hex_digits),
        DBG_TEST(dbgprint_width_and_precision_apply),
        DBG_TEST(dbgprint_precision_limits_wide_characters),
        DBG_TEST(dbgprint_percent_and_unknown_print_literally),
        DBG_TEST(dbgprint_format_ending_inside_conversion_prints_rest),
        DBG_TEST(dbgprint_float_is_unsupported_but_keeps_arguments_aligned),
        DBG_TEST(dbgprint_exactly_512_bytes_is_success),
        DBG_TEST(dbgprint_longer_than_512_bytes_is_truncated_with_overflow),
        DBG_TEST(dbgprint_truncation_keeps_whole_utf8_characters),
        DBG_TEST(dbgprintex_prints_every_level),
        DBG_TEST(vdbgprintex_formats_va_list),
        DBG_TEST(debug_sink_null_restores_default),
        cmocka_unit_test(dbgbreakpoint_raises_breakpoint),
        DBG_TEST(dbgprint_unicode_above_passive_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
