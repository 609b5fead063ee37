/*
 * initguid.h for fltsim: makes DEFINE_GUID define its GUID (instead of
 * declaring it extern) in the translation unit that includes it, as the WDK's
 * header does. See guiddef.h.
 */
#define INITGUID

#include "guiddef.h"
