/* Ntddk.h: the spelling some sources use for <ntddk.h> (Linux file names are case-sensitive). */
#include "ntddk.h"
