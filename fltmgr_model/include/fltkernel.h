/* fltkernel.h: the spelling some sources use for <fltKernel.h> (Linux file names are
 * case-sensitive). */
#include "fltKernel.h"
