/*
 * NTSTATUS constants, generated from the one table in fltsim/ntstatus_list.h.
 * They are enumeration constants of type int (NTSTATUS is a 32-bit LONG), so
 * they work in switch statements and constant expressions like the WDK's
 * macros. fltsim_ntstatus_name() gives the name of a value.
 */
#ifndef FLTSIM_NTSTATUS_H
#define FLTSIM_NTSTATUS_H

#include "fltsim/ntstatus_list.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FLTSIM_NTSTATUS_ENUM(name, value) name = (LONG)(value),
enum fltsim_ntstatus_codes {
    FLTSIM_NTSTATUS_LIST(FLTSIM_NTSTATUS_ENUM) FLTSIM_NTSTATUS_ALIAS_LIST(FLTSIM_NTSTATUS_ENUM)
};
#undef FLTSIM_NTSTATUS_ENUM

/* The name of a status ("STATUS_ACCESS_DENIED"), or NULL when fltsim does not
 * know the value. Any thread; cannot fail. */
const char *fltsim_ntstatus_name(NTSTATUS status);

/* Writes the name of a status, or "0x%08X" for an unknown value, into buf
 * (at least 48 bytes) and returns buf. Any thread; cannot fail. */
char *fltsim_ntstatus_format(NTSTATUS status, char *buf, size_t size);

/* Parses a status written as a name from the table, aliases included
 * ("STATUS_ACCESS_DENIED", case-sensitive), or as hexadecimal ("0xC0000022",
 * at most eight digits). Returns FALSE (and leaves *out alone) for anything
 * else. Any thread; cannot fail otherwise. */
BOOLEAN fltsim_ntstatus_parse(const char *text, NTSTATUS *out);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_NTSTATUS_H */
