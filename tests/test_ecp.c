/*
 * Extra create parameters: the list and ECP routines (allocate, insert with
 * a duplicate GUID refused, find, iterate, remove, acknowledge, free with
 * the cleanup callback run, from a lookaside list), the list a create carries
 * from the test I/O API to the filters' callback data (user mode or not), a
 * filter attaching a list of its own with FltSetEcpListIntoCallbackData for
 * the filters below, and a scenario create step's ecp: read by a
 * shared-object filter. Test filters: U (300000) and L (100000).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fltsim_test.h"

#include <fltsim/scenario.h>

static const GUID guid_a = {0x11111111, 0x2222, 0x3333, {1, 2, 3, 4, 5, 6, 7, 8}};
static const GUID guid_b = {0xaaaaaaaa, 0xbbbb, 0xcccc, {8, 7, 6, 5, 4, 3, 2, 1}};
/* ecp_gate's (tests/fixtures/ecp_gate.c) */
static const GUID guid_gate = {
    0x8a1c2c55, 0x4f3e, 0x4d0b, {0x9a, 0x63, 0x2b, 0x7e, 0x6c, 0x1d, 0x0e, 0x11}};

static LONG cleanups;
static GUID cleaned_type;

static VOID on_cleanup(PVOID context, LPCGUID type)
{
    (void)context;
    cleaned_type = *type;
    cleanups++;
}

/* What L's pre-create saw. */
struct l_seen {
    LONG creates;
    NTSTATUS get_status;
    bool had_list;
    bool found_a, found_b;
    BOOLEAN a_from_user;
    char a_data[16];
    ULONG a_size;
};

/* What U does in its pre-create. */
struct u_plan {
    bool attach_b;        /* its own list with ECP b, set into the data */
    NTSTATUS set_status;  /* FltSetEcpListIntoCallbackData's */
    NTSTATUS set_again;   /* a second one's */
    NTSTATUS set_on_read; /* the same on a read */
    PECP_LIST own;
};

struct fixture {
    struct test_world w;
    struct tf_filter u, l;
    struct l_seen ls;
    struct u_plan up;
};

static FLT_PREOP_CALLBACK_STATUS l_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct l_seen *s = tf->user;
    if (data->Iopb->MajorFunction != IRP_MJ_CREATE)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    s->creates++;
    PECP_LIST list = (PECP_LIST)(void *)&s; /* must be overwritten */
    s->get_status = FltGetEcpListFromCallbackData(tf->filter, data, &list);
    s->had_list = list != NULL;
    s->found_a = s->found_b = false;
    if (list == NULL)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    PVOID ecp = NULL;
    ULONG size = 0;
    if (NT_SUCCESS(FltFindExtraCreateParameter(tf->filter, list, &guid_a, &ecp, &size))) {
        s->found_a = true;
        s->a_size = size;
        memcpy(s->a_data, ecp, size < sizeof(s->a_data) ? size : sizeof(s->a_data));
        s->a_from_user = FltIsEcpFromUserMode(tf->filter, ecp);
        FltAcknowledgeEcp(tf->filter, ecp);
    }
    s->found_b = NT_SUCCESS(FltFindExtraCreateParameter(tf->filter, list, &guid_b, NULL, NULL));
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static FLT_PREOP_CALLBACK_STATUS u_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct u_plan *p = tf->user;
    if (!p->attach_b)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    if (data->Iopb->MajorFunction == IRP_MJ_READ) {
        PECP_LIST scratch;
        assert_status(FltAllocateExtraCreateParameterList(tf->filter, 0, &scratch), STATUS_SUCCESS);
        p->set_on_read = FltSetEcpListIntoCallbackData(tf->filter, data, scratch);
        FltFreeExtraCreateParameterList(tf->filter, scratch);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    if (data->Iopb->MajorFunction != IRP_MJ_CREATE)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    PVOID ecp;
    assert_status(FltAllocateExtraCreateParameterList(tf->filter, 0, &p->own), STATUS_SUCCESS);
    assert_status(
        FltAllocateExtraCreateParameter(tf->filter, &guid_b, 8, 0, on_cleanup, 'tseT', &ecp),
        STATUS_SUCCESS);
    assert_status(FltInsertExtraCreateParameter(tf->filter, p->own, ecp), STATUS_SUCCESS);
    p->set_status = FltSetEcpListIntoCallbackData(tf->filter, data, p->own);
    p->set_again = FltSetEcpListIntoCallbackData(tf->filter, data, p->own);
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS u_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                         PCFLT_RELATED_OBJECTS objects, PVOID context,
                                         FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    (void)flags;
    struct u_plan *p = tf->user;
    /* A list it set goes with the create; one it could not set is its own. */
    if (data->Iopb->MajorFunction == IRP_MJ_CREATE && p->own != NULL && !NT_SUCCESS(p->set_status))
        FltFreeExtraCreateParameterList(tf->filter, p->own);
    p->own = NULL;
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static int setup(void **state)
{
    tf_reset_all();
    cleanups = 0;
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    tf_init(&f->u, "U", "300000");
    tf_init(&f->l, "L", "100000");
    tf_only(&f->u, IRP_MJ_CREATE);
    f->u.ops[IRP_MJ_READ].pre = true;
    tf_only(&f->l, IRP_MJ_CREATE);
    f->u.pre = u_pre;
    f->u.post = u_post;
    f->u.user = &f->up;
    f->l.pre = l_pre;
    f->l.user = &f->ls;
    assert_status(tf_load(f->w.sys, &f->u), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->l), STATUS_SUCCESS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    return 0;
}

static void assert_one_report(struct fixture *f, const char *rule, const char *text)
{
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &r), STATUS_SUCCESS);
    assert_string_equal(r.rule, rule);
    if (strstr(r.message, text) == NULL)
        fail_msg("report '%s' does not mention '%s'", r.message, text);
    fltsim_system_reports_clear(f->w.sys);
}

/* The list routines: insert (a second ECP of a GUID refused), find, the
 * next one, remove, acknowledge and reuse, free with the cleanup callback;
 * an ECP still in a list is not freed alone (IO report). */
static void ecp_list_routines_insert_find_remove_free(void **state)
{
    struct fixture *f = *state;
    PFLT_FILTER flt = f->u.filter;
    PECP_LIST list = NULL;
    assert_status(FltAllocateExtraCreateParameterList(flt, 0, &list), STATUS_SUCCESS);
    PVOID a = NULL, a2 = NULL, b = NULL, got = NULL;
    assert_status(FltAllocateExtraCreateParameter(flt, &guid_a, 5, 0, on_cleanup, 'tseT', &a),
                  STATUS_SUCCESS);
    memcpy(a, "alpha", 5);
    assert_status(FltAllocateExtraCreateParameter(
                      flt, &guid_a, 3, FSRTL_ALLOCATE_ECP_FLAG_NONPAGED_POOL, NULL, 'tseT', &a2),
                  STATUS_SUCCESS);
    assert_status(FltAllocateExtraCreateParameter(flt, &guid_b, 0, 0, on_cleanup, 'tseT', &b),
                  STATUS_SUCCESS);
    assert_status(FltInsertExtraCreateParameter(flt, list, a), STATUS_SUCCESS);
    assert_status(FltInsertExtraCreateParameter(flt, list, a), STATUS_INVALID_PARAMETER);
    assert_status(FltInsertExtraCreateParameter(flt, list, a2), STATUS_INVALID_PARAMETER);
    ULONG size = 0;
    assert_status(FltFindExtraCreateParameter(flt, list, &guid_b, &got, &size), STATUS_NOT_FOUND);
    assert_null(got);
    assert_status(FltInsertExtraCreateParameter(flt, list, b), STATUS_SUCCESS);
    assert_status(FltFindExtraCreateParameter(flt, list, &guid_a, &got, &size), STATUS_SUCCESS);
    assert_ptr_equal(got, a);
    assert_int_equal(size, 5);

    GUID type;
    PVOID next = NULL;
    assert_status(FltGetNextExtraCreateParameter(flt, list, NULL, &type, &next, &size),
                  STATUS_SUCCESS);
    assert_ptr_equal(next, a);
    assert_memory_equal(&type, &guid_a, sizeof(GUID));
    assert_status(FltGetNextExtraCreateParameter(flt, list, a, &type, &next, &size),
                  STATUS_SUCCESS);
    assert_ptr_equal(next, b);
    assert_int_equal(size, 0);
    assert_status(FltGetNextExtraCreateParameter(flt, list, b, NULL, &next, NULL),
                  STATUS_NOT_FOUND);

    assert_false(FltIsEcpAcknowledged(flt, a));
    FltAcknowledgeEcp(flt, a);
    assert_true(FltIsEcpAcknowledged(flt, a));
    FltPrepareToReuseEcp(flt, a);
    assert_false(FltIsEcpAcknowledged(flt, a));
    assert_false(FltIsEcpFromUserMode(flt, a));

    FltFreeExtraCreateParameter(flt, a); /* still in the list */
    assert_one_report(f, "IO", "still in a list");
    assert_int_equal(cleanups, 0);

    assert_status(FltRemoveExtraCreateParameter(flt, list, &guid_a, &got, &size), STATUS_SUCCESS);
    assert_ptr_equal(got, a);
    assert_status(FltRemoveExtraCreateParameter(flt, list, &guid_a, &got, &size), STATUS_NOT_FOUND);
    assert_status(FltInsertExtraCreateParameter(flt, list, a2), STATUS_SUCCESS);
    FltFreeExtraCreateParameter(flt, a);
    assert_int_equal(cleanups, 1);
    assert_memory_equal(&cleaned_type, &guid_a, sizeof(GUID));

    FltFreeExtraCreateParameterList(flt, list); /* b's cleanup; a2 has none */
    assert_int_equal(cleanups, 2);
    assert_memory_equal(&cleaned_type, &guid_b, sizeof(GUID));

    assert_status(FltAllocateExtraCreateParameterList(NULL, 0, &list), STATUS_INVALID_PARAMETER);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* ECPs from a lookaside list go back to it when freed. */
static void ecp_from_lookaside_list(void **state)
{
    struct fixture *f = *state;
    PFLT_FILTER flt = f->u.filter;
    PAGED_LOOKASIDE_LIST la;
    FltInitExtraCreateParameterLookasideList(flt, &la, 0, 32, 'kooL');
    PVOID e = NULL;
    assert_status(
        FltAllocateExtraCreateParameterFromLookasideList(flt, &guid_a, 33, 0, NULL, &la, &e),
        STATUS_INVALID_PARAMETER);
    assert_status(
        FltAllocateExtraCreateParameterFromLookasideList(flt, &guid_a, 32, 0, on_cleanup, &la, &e),
        STATUS_SUCCESS);
    memset(e, 0x5a, 32);
    PECP_LIST list;
    assert_status(FltAllocateExtraCreateParameterList(flt, 0, &list), STATUS_SUCCESS);
    assert_status(FltInsertExtraCreateParameter(flt, list, e), STATUS_SUCCESS);
    FltFreeExtraCreateParameterList(flt, list);
    assert_int_equal(cleanups, 1);
    FltDeleteExtraCreateParameterLookasideList(flt, &la, 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* The ECPs of a create reach the filters' callback data: user mode from an
 * application, not from a kernel-mode create; a create without ECPs has no
 * list; a read is not a create. */
static void create_ecps_reach_the_filters(void **state)
{
    struct fixture *f = *state;
    struct fltsim_ecp ecp = {.type = guid_a, .data = "hello", .size = 5};
    struct fltsim_create_params p = {.path = L"C:\\a.txt",
                                     .desired_access = GENERIC_READ | SYNCHRONIZE,
                                     .share_access = FILE_SHARE_READ,
                                     .disposition = FILE_OPEN,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT,
                                     .ecps = &ecp,
                                     .ecp_count = 1};
    HANDLE h;
    assert_status(fltsim_io_create(f->w.sys, &p, &h, NULL), STATUS_SUCCESS);
    assert_status(f->ls.get_status, STATUS_SUCCESS);
    assert_true(f->ls.had_list);
    assert_true(f->ls.found_a);
    assert_int_equal(f->ls.a_size, 5);
    assert_memory_equal(f->ls.a_data, "hello", 5);
    assert_true(f->ls.a_from_user);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    p.flags = FLTSIM_IO_KERNEL_MODE;
    assert_status(fltsim_io_create(f->w.sys, &p, &h, NULL), STATUS_SUCCESS);
    assert_true(f->ls.found_a);
    assert_false(f->ls.a_from_user);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    /* Twice the same GUID: the I/O manager refuses the create. */
    struct fltsim_ecp twice[2] = {ecp, ecp};
    p.ecps = twice;
    p.ecp_count = 2;
    LONG creates = f->ls.creates;
    assert_status(fltsim_io_create(f->w.sys, &p, &h, NULL), STATUS_INVALID_PARAMETER);
    assert_int_equal(f->ls.creates, creates);

    assert_status(fltsim_io_open(f->w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    assert_status(f->ls.get_status, STATUS_SUCCESS);
    assert_false(f->ls.had_list);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* U attaches a list of its own (ECP b) in its pre-create: L below sees it, a
 * second attach is STATUS_INVALID_PARAMETER_3, on a read
 * STATUS_INVALID_PARAMETER_2; the list goes with the create (freed when it
 * completes, the cleanup callback run), as avscan expects. Over an
 * application's list U cannot attach another and frees its own. */
static void filter_sets_its_list_for_the_filters_below(void **state)
{
    struct fixture *f = *state;
    f->up.attach_b = true;
    HANDLE h;
    assert_status(fltsim_io_open(f->w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    assert_status(f->up.set_status, STATUS_SUCCESS);
    assert_status(f->up.set_again, STATUS_INVALID_PARAMETER_3);
    assert_true(f->ls.had_list);
    assert_true(f->ls.found_b);
    assert_false(f->ls.found_a);
    assert_int_equal(cleanups, 1);
    char buf[4];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 2, &zero, 0, NULL), STATUS_SUCCESS);
    assert_status(f->up.set_on_read, STATUS_INVALID_PARAMETER_2);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    struct fltsim_ecp ecp = {.type = guid_a, .data = "x", .size = 1};
    struct fltsim_create_params p = {.path = L"C:\\a.txt",
                                     .desired_access = GENERIC_READ | SYNCHRONIZE,
                                     .disposition = FILE_OPEN,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT,
                                     .ecps = &ecp,
                                     .ecp_count = 1};
    assert_status(fltsim_io_create(f->w.sys, &p, &h, NULL), STATUS_SUCCESS);
    assert_status(f->up.set_status, STATUS_INVALID_PARAMETER_3);
    assert_true(f->ls.found_a);
    assert_false(f->ls.found_b);
    assert_int_equal(cleanups, 2); /* U's list, never attached, freed in its post */
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* Runs a scenario text (with @GATE@ for ecp_gate's path) under the suite's
 * executor; returns the run's status, *failed the failed expectations. */
static NTSTATUS run_scenario(const char *text, ULONG *failed)
{
    char path[] = "/tmp/fltsim-ecp-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "w");
    assert_non_null(out);
    for (const char *p = text; *p != '\0';) {
        if (strncmp(p, "@GATE@", 6) == 0) {
            fputs(FLTSIM_TEST_ECP_GATE_SO, out);
            p += 6;
        } else {
            fputc(*p++, out);
        }
    }
    fclose(out);
    char error[512];
    struct fltsim_scenario *sc;
    NTSTATUS status = fltsim_scenario_load(path, &sc, error, sizeof(error));
    unlink(path);
    if (!NT_SUCCESS(status))
        fail_msg("the scenario does not load: %s", error);
    FILE *log = fopen("/dev/null", "w");
    struct fltsim_scenario_run_options options = {
        .override_executor = true, .executor = test_executor, .skip_golden = true, .log = log};
    struct fltsim_scenario_result result;
    status = fltsim_scenario_run(sc, &options, &result);
    fclose(log);
    fltsim_scenario_free(sc);
    *failed = (ULONG)result.expectations_failed;
    return status;
}

/* scenarios/README.md's ecp: a create step carries the ECP, which the
 * shared-object filter ecp_gate reads: "deny" fails the create. */
static void scenario_create_step_attaches_an_ecp(void **state)
{
    (void)state;
    (void)guid_gate;
    ULONG failed = 99;
    NTSTATUS status = run_scenario("scenario: an ECP on a create\n"
                                   "volumes:\n"
                                   "  - drive: C\n"
                                   "    files:\n"
                                   "      - path: \\a.txt\n"
                                   "        data: \"a\"\n"
                                   "filters:\n"
                                   "  - name: EcpGate\n"
                                   "    object: @GATE@\n"
                                   "    altitude: 150000\n"
                                   "steps:\n"
                                   "  - op: create\n"
                                   "    path: C:\\a.txt\n"
                                   "    ecp: {guid: \"{8a1c2c55-4f3e-4d0b-9a63-2b7e6c1d0e11}\", "
                                   "data: deny}\n"
                                   "    expect: {status: STATUS_ACCESS_DENIED}\n"
                                   "  - op: create\n"
                                   "    path: C:\\a.txt\n"
                                   "    ecp:\n"
                                   "      - {guid: 8a1c2c55-4f3e-4d0b-9a63-2b7e6c1d0e11, hex: "
                                   "\"61 6c 6c 6f 77\"}\n"
                                   "      - {guid: \"{11111111-2222-3333-0102-030405060708}\"}\n"
                                   "    handle: h\n"
                                   "    expect: {status: STATUS_SUCCESS}\n"
                                   "  - op: close\n"
                                   "    handle: h\n"
                                   "  - op: create\n"
                                   "    path: C:\\a.txt\n"
                                   "    kernel_mode: true\n"
                                   "    ecp: {guid: \"{8a1c2c55-4f3e-4d0b-9a63-2b7e6c1d0e11}\", "
                                   "data: deny}\n"
                                   "    handle: k\n"
                                   "    expect: {status: STATUS_SUCCESS}\n"
                                   "  - op: close\n"
                                   "    handle: k\n",
                                   &failed);
    assert_status(status, STATUS_SUCCESS);
    assert_int_equal(failed, 0);
}

/* A malformed ecp: is refused at load, naming the place. */
static void scenario_bad_ecp_is_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "    ecp: {guid: not-a-guid}\n",
        "    ecp: {guid: \"{8a1c2c55-4f3e-4d0b-9a63-2b7e6c1d0e11}\", colour: red}\n",
        ("    ecp: [{guid: 8a1c2c55-4f3e-4d0b-9a63-2b7e6c1d0e11}, {guid: "
         "8A1C2C55-4F3E-4D0B-9A63-2B7E6C1D0E11}]\n"),
        "    ecp: {data: x}\n",
    };
    static const char *const says[] = {"is not a GUID", "colour", "given twice", "guid"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        char text[512];
        snprintf(text, sizeof(text),
                 "scenario: bad ecp\nvolumes:\n  - drive: C\nsteps:\n  - op: create\n"
                 "    path: C:\\x\n%s",
                 bad[k]);
        char path[] = "/tmp/fltsim-ecp-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        char error[512] = "";
        struct fltsim_scenario *sc = NULL;
        NTSTATUS status = fltsim_scenario_load(path, &sc, error, sizeof(error));
        unlink(path);
        assert_false(NT_SUCCESS(status));
        if (strstr(error, says[k]) == NULL || strstr(error, ":7:") == NULL)
            fail_msg("case %zu: '%s' lacks '%s' or the line", k, error, says[k]);
    }
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(ecp_list_routines_insert_find_remove_free),
        CASE(ecp_from_lookaside_list),
        CASE(create_ecps_reach_the_filters),
        CASE(filter_sets_its_list_for_the_filters_below),
        cmocka_unit_test(scenario_create_step_attaches_an_ecp),
        cmocka_unit_test(scenario_bad_ecp_is_refused),
    };
    return FLTSIM_RUN_SUITE("ecp", tests);
}
