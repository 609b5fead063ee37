/*
 * Names of NTSTATUS values, generated from the one table in
 * fltsim/ntstatus_list.h (the constants themselves are in ntstatus.h). Only
 * FLTSIM_NTSTATUS_LIST gets cases: an alias shares its value with a listed
 * name, which is the one reported. A value listed twice fails to compile
 * (duplicate case), which keeps the table honest.
 */
#include "model_internal.h"

const char *fltsim_ntstatus_name(NTSTATUS status)
{
    switch (status) {
#define FLTSIM_NTSTATUS_CASE(name, value)                                                          \
    case name:                                                                                     \
        return #name;
        FLTSIM_NTSTATUS_LIST(FLTSIM_NTSTATUS_CASE)
#undef FLTSIM_NTSTATUS_CASE
    default:
        return NULL;
    }
}

char *fltsim_ntstatus_format(NTSTATUS status, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return buf;
    const char *name = fltsim_ntstatus_name(status);
    if (name != NULL)
        snprintf(buf, size, "%s", name);
    else
        snprintf(buf, size, "0x%08X", (unsigned)(ULONG)status);
    return buf;
}
