/*
 * PRIVATE to sim/src: helpers shared by the I/O manager and the file systems.
 * Nothing outside sim/src includes this.
 */
#ifndef FLTSIM_SIM_INTERNAL_H
#define FLTSIM_SIM_INTERNAL_H

#include <fltsim/model.h>

/* The fixed part (before FileName) of a directory-enumeration class, or 0 for
 * a class that is not one. Cannot fail. */
ULONG fltsim__directory_entry_fixed_size(FILE_INFORMATION_CLASS info_class);

/* Sets fltsim_last_error() for this thread and returns status (defined by
 * the model, fltmgr_model/src/model_internal.h): for sim API calls that fail
 * on their caller's arguments or environment. */
NTSTATUS fltsim__fail(NTSTATUS status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* FLTSIM_SIM_INTERNAL_H */
