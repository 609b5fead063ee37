/* DriverSpecs.h: the static-analysis annotations header; fltsim's are in sal.h. */
#include "fltsim/sal.h"
