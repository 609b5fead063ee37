/*
 * PRIVATE to sim/src: helpers shared by the I/O manager and the file systems.
 * Nothing outside sim/src includes this.
 */
#ifndef FLTSIM_SIM_INTERNAL_H
#define FLTSIM_SIM_INTERNAL_H

#include <stdbool.h>

#include <fltsim/model.h>

/* sizeof the FILE_INFORMATION_CLASS record of info_class, or 0 for a class
 * the simulator does not know. Cannot fail. */
ULONG fltsim__file_info_size(FILE_INFORMATION_CLASS info_class);
/* The part of that record before its variable-length name (the whole record
 * when it has none), or 0 for a class the simulator does not know. */
ULONG fltsim__file_info_fixed_size(FILE_INFORMATION_CLASS info_class);
/* TRUE when the record ends in a variable-length name (or the class is not
 * known): its size says nothing about what a query returns. */
bool fltsim__file_info_named(FILE_INFORMATION_CLASS info_class);

/* The fixed part (before FileName) of a directory-enumeration class, or 0 for
 * a class that is not one. Cannot fail. */
ULONG fltsim__directory_entry_fixed_size(FILE_INFORMATION_CLASS info_class);

/* TRUE when d[0..length) is a valid self-relative security descriptor
 * (RtlValidRelativeSecurityDescriptor): revision 1, SE_SELF_RELATIVE, and
 * every part present lies inside with a valid SID or ACL header (defined in
 * fs_shared.c). Cannot fail. */
bool fltsim__security_descriptor_valid(const void *d, ULONG length);

/* Sets fltsim_last_error() for this thread and returns status (defined by
 * the model, fltmgr_model/src/model_internal.h): for sim API calls that fail
 * on their caller's arguments or environment. */
NTSTATUS fltsim__fail(NTSTATUS status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* FLTSIM_SIM_INTERNAL_H */
