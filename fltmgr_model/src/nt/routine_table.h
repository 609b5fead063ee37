/*
 * PRIVATE to fltmgr_model/src. The table of the WDK routines fltsim
 * implements, by export name, that MmGetSystemRoutineAddress and
 * FltGetRoutineAddress search (nt/routines.c). It is generated at build time
 * (gen_routines.cmake) from the symbols the model's own objects define, so it
 * never lists a routine fltsim lacks nor misses one it gains.
 */
#ifndef FLTSIM_ROUTINE_TABLE_H
#define FLTSIM_ROUTINE_TABLE_H

#include <stdbool.h>
#include <stddef.h>

struct fltsim_routine {
    const char *name; /* the export name, e.g. "IoOpenDriverRegistryKey", "wcslen" */
    union {
        void (*code)(void); /* a routine, cast to the one type every routine converts to */
        const void *data;   /* an exported variable */
    } address;
    bool data;
};

/* Sorted by name (strcmp order); every name once. */
extern const struct fltsim_routine fltsim__routines[];
extern const size_t fltsim__routine_count;

#endif /* FLTSIM_ROUTINE_TABLE_H */
