/* Ntintsafe.h: the spelling some sources use for <ntintsafe.h> (Linux file names are
 * case-sensitive). */
#include "ntintsafe.h"
