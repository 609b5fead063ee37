/* Wdm.h: the spelling some sources use for <wdm.h> (Linux file names are case-sensitive). */
#include "wdm.h"
