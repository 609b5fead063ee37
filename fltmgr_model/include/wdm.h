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

/* The WDK surface of wdm.h, one piece per routine family (fltsim/decl/). */
#include "fltsim/decl/ps.h"
#include "fltsim/decl/ke.h"
#include "fltsim/decl/ex.h"
#include "fltsim/decl/rtl.h"
#include "fltsim/decl/dbg.h"
#include "fltsim/decl/io.h"
#include "fltsim/decl/file_info.h"
#include "fltsim/decl/irp.h"
#include "fltsim/decl/mm.h"
#include "fltsim/decl/ob.h"
#include "fltsim/decl/tm.h"
#include "fltsim/decl/zw.h"
#include "fltsim/decl/seh.h"

#endif /* FLTSIM_WDM_H */
