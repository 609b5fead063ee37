/* Windows.h: the spelling some sources use for <windows.h> (Linux file names are
 * case-sensitive). */
#include "windows.h"
