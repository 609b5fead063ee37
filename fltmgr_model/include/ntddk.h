/*
 * ntddk.h: in the WDK a superset of wdm.h; fltsim has nothing beyond wdm.h for
 * it yet, so it only includes it.
 */
#ifndef FLTSIM_NTDDK_H
#define FLTSIM_NTDDK_H

#include "wdm.h"

#endif /* FLTSIM_NTDDK_H */
