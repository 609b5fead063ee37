/*
 * The catalog of built-in example filters and user programs (example_filters.h). Glue for the
 * fltsim CLI and scenario files: the filters themselves know nothing of it.
 */
#include <strings.h>

#include "example_filters.h"

const struct fltsim_builtin_filter fltsim_example_filters[] = {
    {"passthrough", L"PassThrough", PassThroughDriverEntry, L"370030",
     "registers every major; pre and post pass everything through", NULL},
    {"accessblocker", L"AccessBlocker", AccessBlockerDriverEntry, L"85000",
     "completes creates of names containing 'secret' with STATUS_ACCESS_DENIED", NULL},
    {"readquota", L"ReadQuota", ReadQuotaDriverEntry, L"260000",
     "post-read pends (MORE_PROCESSING_REQUIRED) and accounts from a deferred work item", NULL},
    {"pendreads", L"PendReads", PendReadsDriverEntry, L"365000",
     "pre-read pends (PENDING) and completes from a deferred work item; "
     "Parameters\\HoldReads=1 holds reads until complete_pended",
     PendReadsCompletePended},
    {"rewriter", L"BufferRewriter", BufferRewriterDriverEntry, L"141000",
     "pre-write swaps in an upper-cased copy of the buffer (dirty), post-write frees it", NULL},
    {"logger", L"ActivityLogger", ActivityLoggerDriverEntry, L"385100",
     "records every operation it sees (pre and post) in a ring; changes nothing", NULL},
    {"antivirus", L"AntiVirus", AntiVirusDriverEntry, L"320000",
     "scans each opened file from a deferred work item (FltReadFile); refuses infected ones "
     "with FltCancelFileOpen",
     NULL},
    {"scanner", L"Scanner", ScannerDriverEntry, L"321000",
     "post-create opens the file itself below its instance (FltCreateFileEx2), reads it "
     "(FltReadFile) and refuses one holding Parameters\\Signature with FltCancelFileOpen",
     NULL},
    {"opencounter", L"OpenCounter", OpenCounterDriverEntry, L"315100",
     "(C++) counts each process's opens; Parameters\\MaxOpens=N refuses those past N with "
     "STATUS_TOO_MANY_OPENED_FILES",
     NULL},
    {"writecounter", L"WriteCounter", WriteCounterDriverEntry, L"385300",
     "counts each stream's writes in a stream context holding its normalized name; the "
     "context's cleanup callback prints both",
     NULL},
    {"mistakes", L"Mistakes", MistakesDriverEntry, L"385500",
     "makes the context or name mistake Parameters\\Mistake names (context-in-precreate, "
     "context-overrelease, context-leak, name-double-release, name-leak, name-in-paging-io, "
     "name-at-dispatch, zw-recursion): V19, V21, V22, V29, or its own create seen again",
     NULL},
    {"protector", L"Protector", ProtectorDriverEntry, L"328000",
     "object callbacks at altitude 1000 strip PROCESS_TERMINATE and VM writes from handles to "
     "the process running Parameters\\ProtectedImage (notepad.exe); its pre-create refuses "
     "others a write open of that image",
     NULL},
    {"exeguard", L"ExeGuard", ExeGuardDriverEntry, L"321500",
     "pre-create asks its service (port \\ExeGuardPort) whether each open of a .exe is "
     "allowed and refuses it with STATUS_ACCESS_DENIED when told; Parameters\\TimeoutMs "
     "(3000), Parameters\\FailClosed (0: allow with no answer)",
     NULL},
};
const size_t fltsim_example_filter_count =
    sizeof(fltsim_example_filters) / sizeof(fltsim_example_filters[0]);

const struct fltsim_builtin_filter *fltsim_example_filter_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < fltsim_example_filter_count; i++)
        if (strcasecmp(fltsim_example_filters[i].name, name) == 0)
            return &fltsim_example_filters[i];
    return NULL;
}

const struct fltsim_builtin_program fltsim_example_programs[] = {
    {"exeguard_service", "exeguard_service.exe", ExeGuardServiceMain,
     "ExeGuard's service: answers each .exe open from its arguments (the allowed file "
     "names); --hang-on NAME never answers for NAME"},
};
const size_t fltsim_example_program_count =
    sizeof(fltsim_example_programs) / sizeof(fltsim_example_programs[0]);

const struct fltsim_builtin_program *fltsim_example_program_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < fltsim_example_program_count; i++)
        if (strcasecmp(fltsim_example_programs[i].name, name) == 0)
            return &fltsim_example_programs[i];
    return NULL;
}

const struct fltsim_catalog fltsim_example_catalog = {
    fltsim_example_filters, sizeof(fltsim_example_filters) / sizeof(fltsim_example_filters[0]),
    fltsim_example_programs, sizeof(fltsim_example_programs) / sizeof(fltsim_example_programs[0])};

void fltsim_examples_register(void)
{
    fltsim_catalog_set(&fltsim_example_catalog);
}
