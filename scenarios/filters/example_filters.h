/*
 * The example filters built into fltsim (the CLI's `fltsim filters`, scenario
 * files' `builtin:` key, the tests). Each source defines DriverEntry;
 * scenarios/CMakeLists.txt renames the symbol so that several filters fit in
 * one program. This header and catalog.c are fltsim glue, not part of any
 * minifilter.
 */
#ifndef FLTSIM_EXAMPLE_FILTERS_H
#define FLTSIM_EXAMPLE_FILTERS_H

#include <stddef.h>

#include <fltKernel.h>
#include <fltsim/catalog.h>

DRIVER_INITIALIZE PassThroughDriverEntry;
DRIVER_INITIALIZE AccessBlockerDriverEntry;
DRIVER_INITIALIZE ReadQuotaDriverEntry;
/* Reads ReadQuota let through without accounting (it could neither post nor
 * synchronize them). */
LONG ReadQuotaUnaccounted(VOID);
DRIVER_INITIALIZE AntiVirusDriverEntry;
/* AntiVirus: the byte pattern it looks for (NULL: the default marker
 * "X5O!P%@AP"); set it before loading. Counters since its DriverEntry: files
 * scanned (in all / in the post itself rather than a work item), infected
 * opens refused, and opens let through unscanned (draining, read errors,
 * no memory). */
VOID AntiVirusSetSignature(const CHAR *Signature, ULONG Length);
LONG AntiVirusScanned(VOID);
LONG AntiVirusScannedInline(VOID);
LONG AntiVirusDetected(VOID);
LONG AntiVirusUnscanned(VOID);

DRIVER_INITIALIZE ScannerDriverEntry;
/* Scanner: counters since its DriverEntry: files scanned through its own
 * handle, infected opens refused, opens let through unscanned (no memory, its
 * own open or read failed, draining). */
LONG ScannerScanned(VOID);
LONG ScannerDetected(VOID);
LONG ScannerUnscanned(VOID);

DRIVER_INITIALIZE PendReadsDriverEntry;
/* Hold mode: hands every held read to PendReads' worker (the catalog's
 * complete_pended). Call at PASSIVE_LEVEL, not from a callback. */
VOID PendReadsCompletePended(VOID);
/* Reads PendReads holds now; reads it let through without pending (fast I/O,
 * paging I/O, a top-level IRP, queuing failed) since load; pended reads whose
 * post-read saw them finish since load. */
LONG PendReadsHeld(VOID);
LONG PendReadsLetThrough(VOID);
LONG PendReadsCompleted(VOID);

DRIVER_INITIALIZE BufferRewriterDriverEntry;

DRIVER_INITIALIZE OpenCounterDriverEntry;
/* OpenCounter (written in C++): the opens counted and refused for a process
 * since load (0 for a process it never saw, and after unload), and opens it
 * let through uncounted (no memory for a process's entry). */
ULONG OpenCounterOpens(ULONG ProcessId);
ULONG OpenCounterRefused(ULONG ProcessId);
LONG OpenCounterUncounted(VOID);

DRIVER_INITIALIZE WriteCounterDriverEntry;
/* Mistakes: makes the classic context, name or recursion mistake that the
 * REG_SZ Parameters\Mistake names (mistakes.c lists them). */
DRIVER_INITIALIZE MistakesDriverEntry;

/* ExeGuard: asks its service, through \ExeGuardPort, whether to allow each
 * open of a .exe (exeguard.c); Parameters\TimeoutMs and FailClosed. */
DRIVER_INITIALIZE ExeGuardDriverEntry;

/* Protector: object callbacks that protect the process running
 * Parameters\ProtectedImage, and a pre-create guarding its image (protector.c). */
DRIVER_INITIALIZE ProtectorDriverEntry;

DRIVER_INITIALIZE ActivityLoggerDriverEntry;
/* ActivityLogger's record layout and read-out routines. */
#include "activity_logger.h"

/* ExeGuard's service (scenarios/programs/exeguard_service.c, its main). */
int ExeGuardServiceMain(int argc, char **argv);

extern const struct fltsim_builtin_program fltsim_example_programs[];
extern const size_t fltsim_example_program_count;

/* The program named name (case-insensitive), or NULL. */
const struct fltsim_builtin_program *fltsim_example_program_find(const char *name);

extern const struct fltsim_builtin_filter fltsim_example_filters[];
extern const size_t fltsim_example_filter_count;

/* The example named name (case-insensitive), or NULL. */
const struct fltsim_builtin_filter *fltsim_example_filter_find(const char *name);

/* The catalog of them all, and its registration (fltsim_catalog_set), which
 * the fltsim program and fltsim's test suites make at start. */
extern const struct fltsim_catalog fltsim_example_catalog;
void fltsim_examples_register(void);

#endif /* FLTSIM_EXAMPLE_FILTERS_H */
