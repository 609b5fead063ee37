/*
 * PRIVATE to sim/: opening a user program built as a shared object
 * (fltsim_add_user_program, a scenario's `programs: - object:`), the user-mode
 * half of a filter's product (issue 19 item 3). Any sim component may include
 * it; nothing outside sim/ does. Defined in program_object.c.
 */
#ifndef FLTSIM_SIM_PROGRAM_OBJECT_H
#define FLTSIM_SIM_PROGRAM_OBJECT_H

#include <stddef.h>

#include <fltsim/program.h>

/* A user program object, open: exactly one of main and wmain is set. */
struct fltsim__program_object {
    void *handle; /* dlopen's handle: fltsim__program_object_close */
    fltsim_main_fn main;
    fltsim_wmain_fn wmain;
};

/* Opens the program at path all or nothing, as fltsim__filter_object_open
 * opens a minifilter (filter_object.h: every routine it needs that this
 * process does not provide is named at once, libc's 4-byte wide-character
 * routines are refused, nothing of it runs before that), then finds its
 * entry point: exactly one of main and wmain exported by the object itself
 * (never the main of the program that loads it). display names the object in
 * messages. On failure *out is zeroed, nothing stays loaded and error holds
 * "shared object 'DISPLAY' ..." with the statuses of
 * fltsim__filter_object_open, plus STATUS_PROCEDURE_NOT_FOUND (neither main
 * nor wmain, or the one found is not the object's) and
 * STATUS_INVALID_IMAGE_FORMAT (both). Any thread. */
NTSTATUS fltsim__program_object_open(const char *path, const char *display,
                                     struct fltsim__program_object *out, char *error,
                                     size_t error_size);

/* Closes it (a zeroed object is ignored) and zeroes it. Every process that
 * runs its code must have ended and been freed first. */
void fltsim__program_object_close(struct fltsim__program_object *object);

#endif /* FLTSIM_SIM_PROGRAM_OBJECT_H */
