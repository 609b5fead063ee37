/*
 * Names of NTSTATUS values, generated from the one table in
 * fltsim/ntstatus_list.h (the constants themselves are in ntstatus.h). Only
 * FLTSIM_NTSTATUS_LIST gets cases: an alias shares its value with a listed
 * name, which is the one reported. A value listed twice fails to compile
 * (duplicate case), which keeps the table honest.
 */
#include <string.h>

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

BOOLEAN fltsim_ntstatus_parse(const char *text, NTSTATUS *out)
{
    if (text == NULL || out == NULL)
        return FALSE;
#define FLTSIM_NTSTATUS_MATCH(name, value)                                                         \
    if (strcmp(text, #name) == 0) {                                                                \
        *out = (NTSTATUS)(value);                                                                  \
        return TRUE;                                                                               \
    }
    FLTSIM_NTSTATUS_LIST(FLTSIM_NTSTATUS_MATCH)
    FLTSIM_NTSTATUS_ALIAS_LIST(FLTSIM_NTSTATUS_MATCH)
#undef FLTSIM_NTSTATUS_MATCH

    if (text[0] != '0' || (text[1] != 'x' && text[1] != 'X') || text[2] == '\0')
        return FALSE;
    ULONG value = 0;
    size_t digits = 0;
    for (const char *p = text + 2; *p != '\0'; p++, digits++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            return FALSE;
        if (digits == 8)
            return FALSE;
        value = (value << 4) | (ULONG)d;
    }
    *out = (NTSTATUS)value;
    return TRUE;
}
