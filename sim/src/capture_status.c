/* ProcMon Result text <-> NTSTATUS and the Detail decoder: written on the CSV
 * reader's branch (issue 6). */
#include <stdio.h>

#include "capture_internal.h"

bool fltsim_capture_status_parse(const char *text, NTSTATUS *status)
{
    (void)text;
    (void)status;
    return false;
}

const char *fltsim_capture_status_name(NTSTATUS status, char *buf, size_t size)
{
    snprintf(buf, size, "0x%X", (unsigned)status);
    return buf;
}

bool fltsim_capture_detail_parse(const struct fltsim_capture_op *op, const char *detail,
                                 struct fltsim_capture_params *params, char *strings,
                                 size_t strings_size, char *error, size_t error_size)
{
    (void)op;
    (void)detail;
    (void)params;
    (void)strings;
    (void)strings_size;
    snprintf(error, error_size, "the Detail decoder is not built yet");
    return false;
}
