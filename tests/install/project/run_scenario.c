/*
 * A user's test program against an installed fltsim: registers its filter
 * (deny.c, linked in with DriverEntry renamed DenyDriverEntry) as the
 * built-in "deny", runs the scenario argv[1] (which may also load deny.so:
 * the program exports the model) and prints "version X: passed" when every
 * expectation held. Compiled both through find_package(fltsim) and
 * through pkg-config.
 */
#include <stdio.h>

#include <fltKernel.h>
#include <fltsim/catalog.h>
#include <fltsim/scenario.h>
#include <fltsim/version.h>

DRIVER_INITIALIZE DenyDriverEntry;

static const struct fltsim_builtin_filter filters[] = {
    {"deny", L"Deny", DenyDriverEntry, L"100000", "refuses opens of *DENY*", NULL}};
static const struct fltsim_catalog catalog = {filters, 1, NULL, 0};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: run_scenario FILE\n");
        return 2;
    }
    fltsim_catalog_set(&catalog);
    struct fltsim_scenario *scenario;
    char error[1024];
    NTSTATUS status = fltsim_scenario_load(argv[1], &scenario, error, sizeof(error));
    if (!NT_SUCCESS(status)) {
        fprintf(stderr, "%s\n", error);
        return 3;
    }
    struct fltsim_scenario_run_options options = {0};
    struct fltsim_scenario_result result = {0};
    status = fltsim_scenario_run(scenario, &options, &result);
    fltsim_scenario_free(scenario);
    if (!NT_SUCCESS(status) || result.error || result.expectations_failed != 0 ||
        result.expectations_checked == 0) {
        fprintf(stderr, "run failed: 0x%08X, %lu of %lu expectations failed\n", (unsigned)status,
                (unsigned long)result.expectations_failed,
                (unsigned long)result.expectations_checked);
        return 1;
    }
    printf("version %s: passed %lu expectations\n", FLTSIM_VERSION_STRING,
           (unsigned long)result.expectations_checked);
    return 0;
}
