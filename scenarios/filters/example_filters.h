/*
 * The DriverEntry of each example filter, under the name the build gives it
 * (each source defines DriverEntry; scenarios/CMakeLists.txt renames it so that
 * several filters fit in one program).
 */
#ifndef FLTSIM_EXAMPLE_FILTERS_H
#define FLTSIM_EXAMPLE_FILTERS_H

#include <fltKernel.h>

DRIVER_INITIALIZE PassThroughDriverEntry;
DRIVER_INITIALIZE AccessBlockerDriverEntry;
DRIVER_INITIALIZE ReadQuotaDriverEntry;
/* Reads ReadQuota let through without accounting (it could neither post nor
 * synchronize them). */
LONG ReadQuotaUnaccounted(VOID);

#endif /* FLTSIM_EXAMPLE_FILTERS_H */
