/* Strsafe.h: the spelling some sources use for <strsafe.h> (Linux file names are
 * case-sensitive). */
#include "strsafe.h"
