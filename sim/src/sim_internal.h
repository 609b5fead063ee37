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

#endif /* FLTSIM_SIM_INTERNAL_H */
