/*
 * The slice of the NT kernel's wdm.h that minifilters use: IRQL, pool, counted
 * string routines, debug output, interlocked operations, IRP major codes and
 * flags, and the I/O objects (file, device and driver objects) with their WDK
 * field names. Each routine declared here is implemented in fltmgr_model/src;
 * a routine that is not modeled is simply absent, so a filter that needs it
 * fails to build (DESIGN decision 1).
 */
#ifndef FLTSIM_WDM_H
#define FLTSIM_WDM_H

#include <stdarg.h>

#include "ntdef.h"
#include "fltsim/irp_mj_list.h"

/* The WDK surface of wdm.h, one piece per routine family (fltsim/wdk/). */
#include "fltsim/wdk/ps.h"
#include "fltsim/wdk/ke.h"
#include "fltsim/wdk/ex.h"
#include "fltsim/wdk/rtl.h"
#include "fltsim/wdk/dbg.h"
#include "fltsim/wdk/io.h"
#include "fltsim/wdk/zw.h"
#include "fltsim/wdk/seh.h"

#endif /* FLTSIM_WDM_H */
