/* The PML capture reader: written on its own branch (issue 6); until it is
 * merged, opening a PML capture is an error. */
#include "capture_internal.h"

bool fltsim__capture_pml_open(struct fltsim_capture *cap)
{
    fltsim__capture_fail(cap, "the PML reader is not built yet");
    return false;
}
