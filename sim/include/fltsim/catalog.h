/*
 * The catalog of built-in filters and user programs: what a scenario's
 * `builtin:` key and `fltsim replay --filter NAME` look names up in. The sim
 * library holds no filter of its own: a program registers its table (the
 * fltsim program and fltsim's tests register the example filters of
 * scenarios/filters); without one, every builtin name is unknown.
 */
#ifndef FLTSIM_CATALOG_H
#define FLTSIM_CATALOG_H

#include <stddef.h>

#include <fltKernel.h>

/* One built-in filter. */
struct fltsim_builtin_filter {
    const char *name;         /* catalog name, e.g. "passthrough" */
    PCWSTR service_name;      /* default service (filter) name, e.g. L"PassThrough" */
    PDRIVER_INITIALIZE entry; /* its DriverEntry */
    PCWSTR altitude;          /* suggested altitude, e.g. L"370030" */
    const char *summary;      /* one line for `fltsim filters` */
    /* Completes the operations the filter holds pended waiting for an outside
     * event (a scenario's complete_pended step); NULL when it holds none. */
    void (*complete_pended)(void);
};

/* One built-in user program (a filter's service), run as a simulated
 * process (fltsim/program.h) by a scenario's `programs: - builtin:`. */
struct fltsim_builtin_program {
    const char *name;  /* catalog name, e.g. "exeguard_service" */
    const char *image; /* its process's name and argv[0], e.g. "exeguard_service.exe" */
    int (*main)(int argc, char **argv);
    const char *summary; /* one line */
};

/* A table of built-in filters and programs; the arrays outlive every use. */
struct fltsim_catalog {
    const struct fltsim_builtin_filter *filters;
    size_t filter_count;
    const struct fltsim_builtin_program *programs;
    size_t program_count;
};

/* Makes catalog (NULL: none) the one lookups use. Call before loading any
 * scenario or replay, not while one runs. */
void fltsim_catalog_set(const struct fltsim_catalog *catalog);

/* The catalog set, or an empty one; never NULL. */
const struct fltsim_catalog *fltsim_catalog_get(void);

/* The filter or program named name (case-insensitive) in the catalog, or NULL. */
const struct fltsim_builtin_filter *fltsim_catalog_filter_find(const char *name);
const struct fltsim_builtin_program *fltsim_catalog_program_find(const char *name);

#endif /* FLTSIM_CATALOG_H */
