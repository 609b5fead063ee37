/* Ntifs.h: the spelling some sources use for <ntifs.h> (Linux file names are case-sensitive). */
#include "ntifs.h"
