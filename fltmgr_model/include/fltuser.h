/* fltuser.h: the spelling some sources use for <fltUser.h> (Linux file names are
 * case-sensitive). */
#include "fltUser.h"
