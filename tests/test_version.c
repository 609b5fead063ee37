/*
 * The simulated Windows version (issue 15 item 4): RtlGetVersion,
 * RtlIsNtDdiVersionAvailable and RtlIsServicePackVersionInstalled answer the
 * version of the system whose filter code calls them
 * (fltsim_system_options.windows, or a scenario's `windows:` key), by
 * default Windows 11 24H2 (10.0.26100, NTDDI_WIN11_GE); a Windows 10 or
 * later build selects its NTDDI release. Bad versions are refused when the
 * system is made or the scenario loads; bad calls are reports.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fltsim/scenario.h>

#include "fltsim_test.h"

/* What filter code of a system sees. */
struct version_seen {
    NTSTATUS status, ex_status;
    RTL_OSVERSIONINFOW info;
    RTL_OSVERSIONINFOEXW ex;
};

static void look_at_version(void *ctx)
{
    struct version_seen *s = ctx;
    memset(&s->info, 0xAB, sizeof(s->info));
    s->info.dwOSVersionInfoSize = sizeof(s->info);
    s->status = RtlGetVersion(&s->info);
    memset(&s->ex, 0xAB, sizeof(s->ex));
    s->ex.dwOSVersionInfoSize = sizeof(s->ex);
    s->ex_status = RtlGetVersion((PRTL_OSVERSIONINFOW)&s->ex);
}

/* A system simulating version (NULL: the default) with test filter A. */
static void version_world(struct test_world *w, struct tf_filter *a,
                          const struct fltsim_windows_version *version)
{
    memset(w, 0, sizeof(*w));
    tf_reset_all();
    struct fltsim_system_options opts = test_options(0);
    if (version != NULL)
        opts.windows = *version;
    assert_status(fltsim_system_create(&opts, &w->sys), STATUS_SUCCESS);
    tf_init(a, "A", "300000");
    assert_status(tf_load(w->sys, a), STATUS_SUCCESS);
}

static void as_filter(struct tf_filter *a, void (*fn)(void *), void *ctx)
{
    assert_status(fltsim_driver_call(a->driver, fn, ctx), STATUS_SUCCESS);
}

static void csd_is(const WCHAR *csd, const char *expected)
{
    char text[128];
    fltsim_utf16_to_utf8(csd, fltsim_wcslen(csd), text, sizeof(text));
    assert_string_equal(text, expected);
}

/* With no version given, and on a thread that runs no filter code: Windows
 * 11 24H2, a workstation without service pack. */
static void default_is_windows_11_24h2(void **state)
{
    (void)state;
    struct version_seen s;
    look_at_version(&s);
    assert_status(s.status, STATUS_SUCCESS);
    assert_int_equal(s.info.dwMajorVersion, 10);
    assert_int_equal(s.info.dwMinorVersion, 0);
    assert_int_equal(s.info.dwBuildNumber, 26100);
    assert_int_equal(s.info.dwPlatformId, VER_PLATFORM_WIN32_NT);
    csd_is(s.info.szCSDVersion, "");
    assert_status(s.ex_status, STATUS_SUCCESS);
    assert_int_equal(s.ex.dwBuildNumber, 26100);
    assert_int_equal(s.ex.wServicePackMajor, 0);
    assert_int_equal(s.ex.wServicePackMinor, 0);
    assert_int_equal(s.ex.wProductType, VER_NT_WORKSTATION);
    assert_int_equal(s.ex.wSuiteMask, 0x0100); /* VER_SUITE_SINGLEUSERTS */
    assert_true(RtlIsNtDdiVersionAvailable(NTDDI_WIN11_GE));
    assert_true(RtlIsNtDdiVersionAvailable(NTDDI_WIN10_NI));
    assert_true(RtlIsNtDdiVersionAvailable(NTDDI_WIN7));
    assert_false(RtlIsNtDdiVersionAvailable(NTDDI_WIN11_GE + 1));
    assert_true(RtlIsServicePackVersionInstalled(NTDDI_WIN10));
    assert_false(RtlIsServicePackVersionInstalled(NTDDI_WIN7));

    struct test_world w;
    struct tf_filter a;
    version_world(&w, &a, NULL);
    struct fltsim_windows_version v;
    fltsim_system_windows_version(w.sys, &v);
    assert_int_equal(v.major, 10);
    assert_int_equal(v.build, 26100);
    assert_int_equal(v.product_type, VER_NT_WORKSTATION);
    as_filter(&a, look_at_version, &s);
    assert_int_equal(s.info.dwBuildNumber, 26100);
    world_destroy(&w);
}

/* Windows Server 2008 R2 SP1 as a system option: what its filter code
 * sees, the NTDDI and service-pack checks, while a thread running no filter
 * code still sees the default. */
struct checks {
    BOOLEAN ddi[5], sp[4];
};

static void check_win7(void *ctx)
{
    struct checks *c = ctx;
    c->ddi[0] = RtlIsNtDdiVersionAvailable(NTDDI_VISTA);
    c->ddi[1] = RtlIsNtDdiVersionAvailable(NTDDI_WIN7);
    c->ddi[2] = RtlIsNtDdiVersionAvailable(NTDDI_WIN7 | 0x100); /* with SP1 */
    c->ddi[3] = RtlIsNtDdiVersionAvailable(NTDDI_WIN8);
    c->ddi[4] = RtlIsNtDdiVersionAvailable(NTDDI_WIN10);
    c->sp[0] = RtlIsServicePackVersionInstalled(NTDDI_WIN7);
    c->sp[1] = RtlIsServicePackVersionInstalled(NTDDI_WIN7 | 0x100);
    c->sp[2] = RtlIsServicePackVersionInstalled(NTDDI_WIN7 | 0x200);
    c->sp[3] = RtlIsServicePackVersionInstalled(NTDDI_VISTASP2); /* another version */
}

static void configured_version_is_what_filter_code_sees(void **state)
{
    (void)state;
    const struct fltsim_windows_version win7 = {.major = 6,
                                                .minor = 1,
                                                .build = 7601,
                                                .service_pack_major = 1,
                                                .product_type = VER_NT_SERVER};
    struct test_world w;
    struct tf_filter a;
    version_world(&w, &a, &win7);
    struct version_seen s;
    as_filter(&a, look_at_version, &s);
    assert_status(s.status, STATUS_SUCCESS);
    assert_int_equal(s.info.dwMajorVersion, 6);
    assert_int_equal(s.info.dwMinorVersion, 1);
    assert_int_equal(s.info.dwBuildNumber, 7601);
    csd_is(s.info.szCSDVersion, "Service Pack 1");
    assert_int_equal(s.ex.wServicePackMajor, 1);
    assert_int_equal(s.ex.wServicePackMinor, 0);
    assert_int_equal(s.ex.wProductType, VER_NT_SERVER);
    assert_int_equal(s.ex.wSuiteMask, 0x0110); /* SINGLEUSERTS | TERMINAL */
    csd_is(s.ex.szCSDVersion, "Service Pack 1");
    struct checks c;
    as_filter(&a, check_win7, &c);
    assert_true(c.ddi[0]);
    assert_true(c.ddi[1]);
    assert_true(c.ddi[2]);
    assert_false(c.ddi[3]);
    assert_false(c.ddi[4]);
    assert_true(c.sp[0]);
    assert_true(c.sp[1]);
    assert_false(c.sp[2]);
    assert_false(c.sp[3]);
    /* Not filter code: the default. */
    look_at_version(&s);
    assert_int_equal(s.info.dwBuildNumber, 26100);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

/* A Windows 10 or 11 build answers for its release and those before it. */
struct release_check {
    ULONG ntddi;
    BOOLEAN available;
};

static void check_release(void *ctx)
{
    struct release_check *c = ctx;
    c->available = RtlIsNtDdiVersionAvailable(c->ntddi);
}

static void builds_select_their_release(void **state)
{
    (void)state;
    static const struct {
        ULONG build, release, next;
    } cases[] = {
        {10240, NTDDI_WIN10, NTDDI_WIN10_TH2},       {14393, NTDDI_WIN10_RS1, NTDDI_WIN10_RS2},
        {17763, NTDDI_WIN10_RS5, NTDDI_WIN10_19H1},  {18363, NTDDI_WIN10_19H1, NTDDI_WIN10_VB},
        {19045, NTDDI_WIN10_VB, NTDDI_WIN10_MN},     {20348, NTDDI_WIN10_FE, NTDDI_WIN10_CO},
        {22000, NTDDI_WIN10_CO, NTDDI_WIN10_NI},     {22631, NTDDI_WIN10_NI, NTDDI_WIN10_CU},
        {26100, NTDDI_WIN11_GE, NTDDI_WIN11_GE + 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct fltsim_windows_version v = {.major = 10, .minor = 0, .build = cases[i].build};
        struct test_world w;
        struct tf_filter a;
        version_world(&w, &a, &v);
        struct release_check c = {cases[i].release, FALSE};
        as_filter(&a, check_release, &c);
        if (!c.available)
            fail_msg("build %u: 0x%08x not available", (unsigned)cases[i].build,
                     (unsigned)cases[i].release);
        c.ntddi = cases[i].next;
        as_filter(&a, check_release, &c);
        if (c.available)
            fail_msg("build %u: 0x%08x available", (unsigned)cases[i].build,
                     (unsigned)cases[i].next);
        c.ntddi = NTDDI_WINBLUE;
        as_filter(&a, check_release, &c);
        assert_true(c.available);
        world_destroy(&w);
    }
}

/* Versions Windows never had are refused, saying why. */
static void impossible_versions_are_refused(void **state)
{
    (void)state;
    static const struct {
        struct fltsim_windows_version v;
        const char *why;
    } cases[] = {
        {{.major = 7, .minor = 0, .build = 1}, "7.0 is not one of Windows NT's"},
        {{.major = 6, .minor = 4, .build = 1}, "6.4 is not one of Windows NT's"},
        {{.major = 0, .minor = 0, .build = 0, .product_type = 3}, "0.0 is not"},
        {{.major = 10, .minor = 0, .build = 9600}, "the first build of Windows 10 is 10240"},
        {{.major = 10, .minor = 0, .build = 19045, .service_pack_major = 1},
         "Windows 10 and later have none"},
        {{.major = 6, .minor = 1, .build = 7601, .service_pack_major = 300},
         "each number is at most 255"},
        {{.major = 6, .minor = 1, .build = 7601, .product_type = 4}, "product type 4"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_status(fltsim_windows_version_check(&cases[i].v), STATUS_INVALID_PARAMETER);
        if (strstr(fltsim_last_error(), cases[i].why) == NULL)
            fail_msg("case %zu: '%s' does not say '%s'", i, fltsim_last_error(), cases[i].why);
        struct fltsim_system_options opts = test_options(0);
        opts.windows = cases[i].v;
        fltsim_system *sys = (fltsim_system *)1;
        assert_status(fltsim_system_create(&opts, &sys), STATUS_INVALID_PARAMETER);
        assert_null(sys);
        assert_non_null(strstr(fltsim_last_error(), cases[i].why));
    }
    const struct fltsim_windows_version xp = {
        .major = 5, .minor = 1, .build = 2600, .service_pack_major = 3};
    assert_status(fltsim_windows_version_check(&xp), STATUS_SUCCESS);
    assert_status(fltsim_windows_version_check(NULL), STATUS_INVALID_PARAMETER);
}

/* RtlGetVersion needs a size it knows (KE report, STATUS_INVALID_PARAMETER,
 * nothing written) and PASSIVE_LEVEL (V28). */
struct bad_calls {
    NTSTATUS null_status, zero_status, odd_status;
    ULONG untouched;
};

static void call_badly(void *ctx)
{
    struct bad_calls *b = ctx;
    b->null_status = RtlGetVersion(NULL);
    RTL_OSVERSIONINFOEXW ex;
    memset(&ex, 0, sizeof(ex));
    b->zero_status = RtlGetVersion((PRTL_OSVERSIONINFOW)&ex);
    ex.dwOSVersionInfoSize = sizeof(RTL_OSVERSIONINFOW) + 2;
    b->odd_status = RtlGetVersion((PRTL_OSVERSIONINFOW)&ex);
    b->untouched = ex.dwMajorVersion == 0 && ex.dwBuildNumber == 0;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    (void)RtlIsNtDdiVersionAvailable(NTDDI_WIN7);
    KeLowerIrql(old);
}

static void bad_calls_are_reported(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    version_world(&w, &a, NULL);
    struct bad_calls b;
    as_filter(&a, call_badly, &b);
    assert_status(b.null_status, STATUS_INVALID_PARAMETER);
    assert_status(b.zero_status, STATUS_INVALID_PARAMETER);
    assert_status(b.odd_status, STATUS_INVALID_PARAMETER);
    assert_true(b.untouched);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 3);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 1);
    world_destroy(&w);
}

/* ---- the scenario key ---- */

static char tmpdir[256];

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    if (tmpdir[0] == '\0') {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/fltsim-version-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
    }
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* A scenario loading VersionProbe, which fails its DriverEntry unless
 * RtlGetVersion reports the build and product its Parameters key expects
 * (read through IoOpenDriverRegistryKey found by MmGetSystemRoutineAddress). */
static void scenario_text(char *out, size_t size, const char *windows, ULONG build, ULONG product)
{
    snprintf(out, size,
             "scenario: VersionProbe sees the Windows it runs on\n"
             "%s"
             "registry:\n"
             "  - key: Services\\VersionProbe\\Parameters\n"
             "    values:\n"
             "      ExpectedBuild: %u\n"
             "      ExpectedProduct: %u\n"
             "volumes:\n"
             "  - drive: C\n"
             "    files:\n"
             "      - path: \\a.txt\n"
             "        data: \"a\"\n"
             "filters:\n"
             "  - name: VersionProbe\n"
             "    object: %s\n"
             "    altitude: 123000\n"
             "steps:\n"
             "  - op: open\n"
             "    path: C:\\a.txt\n"
             "    handle: h\n"
             "  - op: close\n"
             "    handle: h\n",
             windows, (unsigned)build, (unsigned)product, FLTSIM_TEST_VERSION_PROBE_SO);
}

/* Runs text; returns whether the run was carried out and held. */
static bool run_scenario(const char *name, const char *text)
{
    char error[512];
    struct fltsim_scenario *sc;
    const char *path = write_file(name, text);
    NTSTATUS st = fltsim_scenario_load(path, &sc, error, sizeof(error));
    if (!NT_SUCCESS(st))
        fail_msg("%s does not load: %s", name, error);
    struct fltsim_scenario_run_options options;
    memset(&options, 0, sizeof(options));
    options.override_executor = true;
    options.executor = test_executor;
    options.skip_golden = true;
    options.log = fopen("/dev/null", "w");
    struct fltsim_scenario_result result;
    memset(&result, 0, sizeof(result));
    st = fltsim_scenario_run(sc, &options, &result);
    fclose(options.log);
    fltsim_scenario_free(sc);
    return NT_SUCCESS(st) && !result.error && result.expectations_failed == 0;
}

static void scenario_windows_key_sets_the_version(void **state)
{
    (void)state;
    char text[2048];
    scenario_text(text, sizeof(text), "windows:\n  version: 10.0.19045\n  product: server\n", 19045,
                  VER_NT_SERVER);
    assert_true(run_scenario("server19045.yaml", text));
    scenario_text(text, sizeof(text), "", 26100, VER_NT_WORKSTATION);
    assert_true(run_scenario("default.yaml", text));
    /* The probe fails when the version is not the one it expects. */
    scenario_text(text, sizeof(text), "windows:\n  version: 10.0.19045\n", 26100,
                  VER_NT_WORKSTATION);
    assert_false(run_scenario("mismatch.yaml", text));
    scenario_text(text, sizeof(text),
                  "windows:\n  version: 6.1.7601\n  service_pack: 1\n  product: workstation\n",
                  7601, VER_NT_WORKSTATION);
    assert_true(run_scenario("win7.yaml", text));
}

static void scenario_windows_key_is_checked(void **state)
{
    (void)state;
    static const struct {
        const char *windows, *error;
    } cases[] = {
        {"windows:\n  version: 10.0\n", "3:12: version: '10.0'; expected MAJOR.MINOR.BUILD"},
        {"windows:\n  version: 10.0.9000\n", "3:3: windows: the Windows version 10.0.9000"},
        {"windows:\n  version: 10.0.19045\n  product: desktop\n",
         "4:12: unknown product type 'desktop'"},
        {"windows:\n  build: 19045\n", "3:3: unknown key 'build'"},
        {"windows:\n  service_pack: 1\n", "3:3: missing key 'version' in windows"},
        {"windows: 10.0.19045\n", "2:10: windows is a scalar; expected a mapping"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[2048];
        snprintf(text, sizeof(text),
                 "scenario: bad windows\n%svolumes:\n  - drive: C\nsteps:\n  - note: n\n",
                 cases[i].windows);
        const char *path = write_file("bad.yaml", text);
        char error[512] = "";
        struct fltsim_scenario *sc = NULL;
        assert_status(fltsim_scenario_load(path, &sc, error, sizeof(error)),
                      STATUS_INVALID_PARAMETER);
        assert_null(sc);
        if (strstr(error, cases[i].error) == NULL)
            fail_msg("case %zu: '%s' does not contain '%s'", i, error, cases[i].error);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_is_windows_11_24h2),
        cmocka_unit_test(configured_version_is_what_filter_code_sees),
        cmocka_unit_test(builds_select_their_release),
        cmocka_unit_test(impossible_versions_are_refused),
        cmocka_unit_test(bad_calls_are_reported),
        cmocka_unit_test(scenario_windows_key_sets_the_version),
        cmocka_unit_test(scenario_windows_key_is_checked),
    };
    int failures = FLTSIM_RUN_SUITE("version", tests);
    static const char *const written[] = {"server19045.yaml", "default.yaml", "mismatch.yaml",
                                          "win7.yaml", "bad.yaml"};
    for (size_t i = 0; tmpdir[0] != '\0' && i < sizeof(written) / sizeof(written[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, written[i]);
        remove(path);
    }
    if (tmpdir[0] != '\0')
        remove(tmpdir);
    return failures;
}
