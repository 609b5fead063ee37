/*
 * wsk.h for fltsim, as far as minifilters use it: the Winsock address types
 * (fltsim/decl/ws2def.h) and the address-to-text conversions (ip2string.h)
 * that a filter needs to read the client address of an NFS or SMB open
 * (NFS_OPEN_ECP_CONTEXT, SRV_OPEN_ECP_CONTEXT). The Winsock Kernel client
 * interface itself (WskRegister, WSK_PROVIDER_NPI ...) is not declared.
 */
#ifndef FLTSIM_WSK_H
#define FLTSIM_WSK_H

#include "ntddk.h"
#include "fltsim/decl/ws2def.h"
#include "ip2string.h"

#endif /* FLTSIM_WSK_H */
