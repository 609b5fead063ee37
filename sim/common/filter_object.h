/*
 * PRIVATE to sim/: opening a minifilter built as a shared object (DESIGN
 * decision 7, `object:` in a scenario, `--filter x.so@ALTITUDE` in a replay).
 * Any sim component may include it (sim/common/README.md); nothing outside
 * sim/ does. Defined in filter_object.c.
 */
#ifndef FLTSIM_SIM_FILTER_OBJECT_H
#define FLTSIM_SIM_FILTER_OBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include <fltsim/model.h>

/* A minifilter object, open. */
struct fltsim__filter_object {
    void *handle;             /* dlopen's handle: fltsim__filter_object_close */
    PDRIVER_INITIALIZE entry; /* its DriverEntry */
};

/* Opens the minifilter at path as `fltmc load` loads a driver, all or
 * nothing. Before anything of the object runs, its dynamic symbol table is
 * read (ELF) and every routine and variable it needs is looked up in this
 * process and in the libraries the object names; libc's wide-character
 * routines (wcslen, wcs*, wmem*, *wprintf*, tow*, isw*, mbstowcs, wcstombs
 * ...) never count as found, since they take a 4-byte wchar_t and a filter's
 * WCHAR is 2 bytes. Only an object that needs nothing missing and exports
 * DriverEntry is then opened (dlopen RTLD_NOW | RTLD_LOCAL).
 *
 * display is how messages name the object (the path as the user wrote it).
 * On success returns STATUS_SUCCESS and fills *out. On failure *out is
 * zeroed, nothing of the object ran or stays loaded, and error (error_size
 * bytes, always terminated; NULL or 0 for none) holds "shared object
 * 'DISPLAY' ...": one line, except that missing routines are listed after it
 * one per line ("\n  NAME (LIBRARY VERSION): why"), every one of them.
 * Statuses: STATUS_DRIVER_ENTRYPOINT_NOT_FOUND (routines or libraries
 * missing, as Windows' loader refuses a driver whose imports do not
 * resolve), STATUS_PROCEDURE_NOT_FOUND (no DriverEntry exported),
 * STATUS_INVALID_IMAGE_FORMAT (not a shared object for this machine,
 * truncated, or refused by dlopen), STATUS_OBJECT_NAME_NOT_FOUND (no such
 * file), STATUS_ACCESS_DENIED, STATUS_INSUFFICIENT_RESOURCES. Any thread. */
NTSTATUS fltsim__filter_object_open(const char *path, const char *display,
                                    struct fltsim__filter_object *out, char *error,
                                    size_t error_size);

/* Closes what fltsim__filter_object_open opened (a zeroed object is
 * ignored) and zeroes it. */
void fltsim__filter_object_close(struct fltsim__filter_object *object);

/* Any shared object the simulation loads (a minifilter, a user program),
 * open: what a loader looks for in it is exactly one of kind's entries. */
struct fltsim__object_kind {
    const char *const *entries; /* "DriverEntry"; "main", "wmain" */
    size_t entry_count;         /* 1 or 2 */
    const char *expected;       /* for messages: "a minifilter built as a shared object" */
    const char *who;            /* for messages: "a filter", "a program" */
};
struct fltsim__object {
    void *handle;       /* dlopen's handle: fltsim__object_close */
    void *entry;        /* the entry point found */
    size_t entry_index; /* which of kind's entries it is */
};

/* fltsim__filter_object_open for any kind: the same checks, then exactly one
 * of kind's entries exported (STATUS_PROCEDURE_NOT_FOUND for none,
 * STATUS_INVALID_IMAGE_FORMAT for more than one). */
NTSTATUS fltsim__object_open(const char *path, const char *display,
                             const struct fltsim__object_kind *kind, struct fltsim__object *out,
                             char *error, size_t error_size);
void fltsim__object_close(struct fltsim__object *object);

/* TRUE when the object at path exports a defined symbol named name. Reads
 * the symbol table without running anything of the object; FALSE when the
 * file cannot be read as a shared object. */
bool fltsim__filter_object_exports(const char *path, const char *name);

#endif /* FLTSIM_SIM_FILTER_OBJECT_H */
