/* NtStrSafe.h: the spelling some sources use for <ntstrsafe.h> (Linux file names are
 * case-sensitive). */
#include "ntstrsafe.h"
