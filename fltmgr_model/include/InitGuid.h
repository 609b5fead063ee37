/* InitGuid.h: the spelling some sources use for <initguid.h> (Linux file names are case-sensitive).
 */
#include "initguid.h"
