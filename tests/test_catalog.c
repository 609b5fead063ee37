/*
 * The built-in catalog (fltsim/catalog.h, issue 21): the sim library carries
 * no filter of its own; what a scenario's `builtin:` names is the table the
 * program registered (the suites, like the fltsim program, register the
 * examples at start). An empty catalog makes every builtin name unknown,
 * saying so; a program's own table is what builtin names look up.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#include <example_filters.h>
#include <fltsim/catalog.h>
#include <fltsim/scenario.h>

#include "scenario_fx.h"

static const char builtin_scenario[] =
    "scenario: a builtin filter\n"
    "volumes: [{drive: C, files: [{path: \\a.txt, data: abc}]}]\n"
    "filters: [{name: Mine, builtin: %s, altitude: 100000}]\n"
    "steps:\n"
    "  - {op: open, path: C:\\a.txt, handle: h,\n"
    "     expect: {status: STATUS_SUCCESS}}\n"
    "  - {op: close, handle: h}\n";

/* Loads the scenario naming builtin filter; returns the load's status and
 * the error in error. */
static NTSTATUS load_builtin(const char *filter, char *error, size_t size)
{
    char text[1024];
    snprintf(text, sizeof(text), builtin_scenario, filter);
    struct fltsim_scenario *scenario = NULL;
    error[0] = '\0';
    NTSTATUS status =
        fltsim_scenario_load(write_scenario("builtin.yaml", text), &scenario, error, size);
    fltsim_scenario_free(scenario);
    return status;
}

static void assert_has(const char *text, const char *want)
{
    if (strstr(text, want) == NULL)
        fail_msg("\"%s\" lacks \"%s\"", text, want);
}

static void catalog_examples_are_registered_at_start(void **state)
{
    (void)state;
    const struct fltsim_catalog *catalog = fltsim_catalog_get();
    assert_ptr_equal(catalog, &fltsim_example_catalog);
    assert_int_equal(catalog->filter_count, fltsim_example_filter_count);
    assert_int_equal(catalog->program_count, fltsim_example_program_count);
    const struct fltsim_builtin_filter *f = fltsim_catalog_filter_find("PassThrough");
    assert_non_null(f);
    assert_string_equal(f->name, "passthrough");
    assert_ptr_equal(f->entry, PassThroughDriverEntry);
    assert_non_null(fltsim_catalog_program_find("EXEGUARD_SERVICE"));
    assert_null(fltsim_catalog_filter_find("nosuch"));
    assert_null(fltsim_catalog_filter_find(NULL));
    assert_null(fltsim_catalog_program_find(NULL));
}

static void catalog_empty_makes_builtin_unknown_saying_so(void **state)
{
    (void)state;
    fltsim_catalog_set(NULL);
    const struct fltsim_catalog *catalog = fltsim_catalog_get();
    assert_non_null(catalog);
    assert_int_equal(catalog->filter_count, 0);
    assert_int_equal(catalog->program_count, 0);
    assert_null(fltsim_catalog_filter_find("passthrough"));

    char error[512];
    NTSTATUS status = load_builtin("passthrough", error, sizeof(error));
    assert_int_not_equal(status, STATUS_SUCCESS);
    assert_has(error, "unknown builtin filter 'passthrough'; this program has no built-in "
                      "filters (fltsim_catalog_set)");

    struct fltsim_scenario *scenario = NULL;
    status = fltsim_scenario_load(
        write_scenario("program.yaml", "scenario: a builtin program\n"
                                       "volumes: [{drive: C}]\n"
                                       "programs: [{name: service, builtin: exeguard_service}]\n"
                                       "steps: []\n"),
        &scenario, error, sizeof(error));
    fltsim_scenario_free(scenario);
    assert_int_not_equal(status, STATUS_SUCCESS);
    assert_has(error, "unknown builtin program 'exeguard_service'; this program has no built-in "
                      "programs (fltsim_catalog_set)");
    fltsim_examples_register();
}

static const struct fltsim_builtin_filter own_filters[] = {
    {"mine", L"Mine", PassThroughDriverEntry, L"100000", "a program's own", NULL}};
static const struct fltsim_catalog own_catalog = {own_filters, 1, NULL, 0};

static void catalog_own_table_is_what_builtin_names(void **state)
{
    (void)state;
    fltsim_catalog_set(&own_catalog);
    assert_ptr_equal(fltsim_catalog_filter_find("MINE"), &own_filters[0]);

    char error[512];
    NTSTATUS status = load_builtin("passthrough", error, sizeof(error));
    assert_int_not_equal(status, STATUS_SUCCESS);
    assert_has(error, "unknown builtin filter 'passthrough'; expected one of mine");

    char text[1024];
    snprintf(text, sizeof(text), builtin_scenario, "mine");
    struct outcome o;
    run_text("mine.yaml", text, &o);
    assert_run_ok(&o);
    assert_true(o.result.expectations_checked > 0);
    fltsim_examples_register();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalog_examples_are_registered_at_start),
        cmocka_unit_test(catalog_empty_makes_builtin_unknown_saying_so),
        cmocka_unit_test(catalog_own_table_is_what_builtin_names),
    };
    int failed = FLTSIM_RUN_SUITE("catalog", tests);
    failed += remove_tmpdir();
    return failed;
}
