/*
 * PRIVATE to sim/: the layouts of NT records that several sim components size
 * and check (FILE_INFORMATION_CLASS records, directory entries, security
 * descriptors). Any sim component may include it (sim/common/README.md);
 * nothing outside sim/ does.
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

/* TRUE for the query classes fast I/O answers (basic, standard, network
 * open: FastIoQueryBasicInfo, FastIoQueryStandardInfo,
 * FastIoQueryNetworkOpenInfo); others take the IRP path. Cannot fail. */
bool fltsim__fast_query_class(FILE_INFORMATION_CLASS info_class);

/* TRUE when d[0..length) is a valid self-relative security descriptor
 * (RtlValidRelativeSecurityDescriptor): revision 1, SE_SELF_RELATIVE, and
 * every part present lies inside with a valid SID or ACL header (defined in
 * security_descriptor.c). Cannot fail. */
bool fltsim__security_descriptor_valid(const void *d, ULONG length);

#endif /* FLTSIM_SIM_INTERNAL_H */
