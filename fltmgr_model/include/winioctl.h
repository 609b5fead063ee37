/*
 * winioctl.h for fltsim's user-mode programs: the CTL_CODE macro and its
 * parts, which a program shares with its filter for control codes.
 */
#ifndef FLTSIM_WINIOCTL_H
#define FLTSIM_WINIOCTL_H

#include "ntdef.h"

#ifndef CTL_CODE
#define CTL_CODE(DeviceType, Function, Method, Access)                                             \
    (((DeviceType) << 16) | ((Access) << 14) | ((Function) << 2) | (Method))
#define METHOD_BUFFERED 0
#define METHOD_IN_DIRECT 1
#define METHOD_OUT_DIRECT 2
#define METHOD_NEITHER 3
#define FILE_ANY_ACCESS 0
#define FILE_READ_ACCESS 0x0001
#define FILE_WRITE_ACCESS 0x0002
#endif

#endif /* FLTSIM_WINIOCTL_H */
