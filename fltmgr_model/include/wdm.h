/*
 * The NT kernel's wdm.h for fltsim: IRQL, pool, counted strings, debug output,
 * interlocked operations, IRP codes and the I/O objects, and the other kernel
 * families minifilters use, with their WDK field names and values. Like the
 * WDK's header it declares more than fltsim implements: a routine without a
 * definition makes a filter fail to link or load, naming it (DESIGN
 * decision 1).
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
#include "fltsim/wdk/file_info.h"
#include "fltsim/wdk/irp.h"
#include "fltsim/wdk/mm.h"
#include "fltsim/wdk/ob.h"
#include "fltsim/wdk/tm.h"
#include "fltsim/wdk/zw.h"
#include "fltsim/wdk/seh.h"

#endif /* FLTSIM_WDM_H */
