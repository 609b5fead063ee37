/*
 * User programs built as shared objects (program_object.h): the checks of
 * filter_object.c with main/wmain in place of DriverEntry, and one more: the
 * entry point dlsym gives must lie in the object itself, so that a program
 * object can never start the fltsim program's own main. Starting the process
 * is the caller's (fltsim_process_start).
 */
#define _GNU_SOURCE /* dladdr, dlinfo */

#include <stdio.h>
#include <string.h>

#include <dlfcn.h>
#if defined(__GLIBC__)
#include <link.h>
#endif

#include "filter_object.h"
#include "program_object.h"

/* TRUE when sym is defined by the object h (glibc: the link maps match;
 * elsewhere: dladdr names the same file as h's own symbol search). */
static bool defined_in(void *h, void *sym)
{
#if defined(__GLIBC__)
    struct link_map *own = NULL, *of_sym = NULL;
    Dl_info info;
    if (dlinfo(h, RTLD_DI_LINKMAP, &own) != 0 ||
        dladdr1(sym, &info, (void **)&of_sym, RTLD_DL_LINKMAP) == 0)
        return false;
    return own == of_sym;
#else
    (void)h;
    (void)sym;
    return true;
#endif
}

NTSTATUS fltsim__program_object_open(const char *path, const char *display,
                                     struct fltsim__program_object *out, char *error,
                                     size_t error_size)
{
    static const char *const entries[] = {"main", "wmain"};
    static const struct fltsim__object_kind kind = {
        entries, 2, "a user program built as a shared object (fltsim_add_user_program)",
        "a program"};
    struct fltsim__object o;
    memset(out, 0, sizeof(*out));
    NTSTATUS status = fltsim__object_open(path, display, &kind, &o, error, error_size);
    if (!NT_SUCCESS(status))
        return status;
    if (!defined_in(o.handle, o.entry)) {
        if (error != NULL && error_size > 0)
            snprintf(error, error_size,
                     "shared object '%s' cannot be started: the %s it gives is not its own; "
                     "expected the object to define it",
                     display, entries[o.entry_index]);
        fltsim__object_close(&o);
        return STATUS_PROCEDURE_NOT_FOUND;
    }
    out->handle = o.handle;
    /* object to function pointer, POSIX style */
    if (o.entry_index == 0)
        memcpy(&out->main, &o.entry, sizeof(out->main));
    else
        memcpy(&out->wmain, &o.entry, sizeof(out->wmain));
    return STATUS_SUCCESS;
}

void fltsim__program_object_close(struct fltsim__program_object *object)
{
    if (object->handle != NULL)
        dlclose(object->handle);
    memset(object, 0, sizeof(*object));
}
