/*
 * ntddk.h for fltsim: wdm.h plus what the WDK's ntddk.h adds for drivers
 * that are not plain WDM drivers: generic tables, the I/O manager's
 * transaction and create-context support, and process identity and
 * notification routines. One piece per family (fltsim/decl/).
 */
#ifndef FLTSIM_NTDDK_H
#define FLTSIM_NTDDK_H

#include "wdm.h"

#include "fltsim/decl/rtl_table.h"
#include "fltsim/decl/io_ddk.h"
#include "fltsim/decl/ps_ddk.h"

#endif /* FLTSIM_NTDDK_H */
