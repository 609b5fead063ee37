/* The CSV capture reader: written on its own branch (issue 6); until it is
 * merged, opening a CSV capture is an error. */
#include "capture_internal.h"

bool fltsim__capture_csv_open(struct fltsim_capture *cap)
{
    fltsim__capture_fail(cap, "the CSV reader is not built yet");
    return false;
}
