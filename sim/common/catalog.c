/*
 * The catalog registration (fltsim/catalog.h): one pointer to the table a
 * program registered, and the lookups by name over it. The tables themselves
 * belong to whoever registers them (scenarios/filters/catalog.c for fltsim's
 * examples).
 */
#include <stdatomic.h>
#include <strings.h>

#include <fltsim/catalog.h>

static const struct fltsim_catalog empty_catalog = {NULL, 0, NULL, 0};
static _Atomic(const struct fltsim_catalog *) registered = NULL;

void fltsim_catalog_set(const struct fltsim_catalog *catalog)
{
    atomic_store(&registered, catalog);
}

const struct fltsim_catalog *fltsim_catalog_get(void)
{
    const struct fltsim_catalog *catalog = atomic_load(&registered);
    return catalog ? catalog : &empty_catalog;
}

const struct fltsim_builtin_filter *fltsim_catalog_filter_find(const char *name)
{
    const struct fltsim_catalog *catalog = fltsim_catalog_get();
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < catalog->filter_count; i++)
        if (strcasecmp(catalog->filters[i].name, name) == 0)
            return &catalog->filters[i];
    return NULL;
}

const struct fltsim_builtin_program *fltsim_catalog_program_find(const char *name)
{
    const struct fltsim_catalog *catalog = fltsim_catalog_get();
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < catalog->program_count; i++)
        if (strcasecmp(catalog->programs[i].name, name) == 0)
            return &catalog->programs[i];
    return NULL;
}
