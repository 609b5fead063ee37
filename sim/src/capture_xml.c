/* The XML capture reader: written on its own branch (issue 6); until it is
 * merged, opening a XML capture is an error. */
#include "capture_internal.h"

bool fltsim__capture_xml_open(struct fltsim_capture *cap)
{
    fltsim__capture_fail(cap, "the XML reader is not built yet");
    return false;
}
