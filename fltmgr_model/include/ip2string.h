/*
 * ip2string.h for fltsim: conversions between IPv4/IPv6 addresses and their
 * text forms (RtlIpv4AddressToStringEx ...), narrow (A) and wide (W); the
 * unsuffixed names are the narrow ones unless UNICODE is defined, as in the
 * WDK. Declarations only: fltsim does not implement them yet.
 */
#ifndef FLTSIM_IP2STRING_H
#define FLTSIM_IP2STRING_H

#include "ntdef.h"
#include "fltsim/decl/ws2def.h"

#ifdef __cplusplus
extern "C" {
#endif

PSTR RtlIpv4AddressToStringA(const struct in_addr *Addr, PSTR S);
PWSTR RtlIpv4AddressToStringW(const struct in_addr *Addr, PWSTR S);
NTSTATUS RtlIpv4AddressToStringExA(const struct in_addr *Address, USHORT Port, PSTR AddressString,
                                   PULONG AddressStringLength);
NTSTATUS RtlIpv4AddressToStringExW(const struct in_addr *Address, USHORT Port, PWSTR AddressString,
                                   PULONG AddressStringLength);
PSTR RtlIpv6AddressToStringA(const struct in6_addr *Addr, PSTR S);
PWSTR RtlIpv6AddressToStringW(const struct in6_addr *Addr, PWSTR S);
NTSTATUS RtlIpv6AddressToStringExA(const struct in6_addr *Address, ULONG ScopeId, USHORT Port,
                                   PSTR AddressString, PULONG AddressStringLength);
NTSTATUS RtlIpv6AddressToStringExW(const struct in6_addr *Address, ULONG ScopeId, USHORT Port,
                                   PWSTR AddressString, PULONG AddressStringLength);
NTSTATUS RtlIpv4StringToAddressA(PCSTR S, BOOLEAN Strict, PCSTR *Terminator, struct in_addr *Addr);
NTSTATUS RtlIpv4StringToAddressW(PCWSTR S, BOOLEAN Strict, PCWSTR *Terminator,
                                 struct in_addr *Addr);
NTSTATUS RtlIpv6StringToAddressA(PCSTR S, PCSTR *Terminator, struct in6_addr *Addr);
NTSTATUS RtlIpv6StringToAddressW(PCWSTR S, PCWSTR *Terminator, struct in6_addr *Addr);

#ifdef UNICODE
#define RtlIpv4AddressToString RtlIpv4AddressToStringW
#define RtlIpv4AddressToStringEx RtlIpv4AddressToStringExW
#define RtlIpv6AddressToString RtlIpv6AddressToStringW
#define RtlIpv6AddressToStringEx RtlIpv6AddressToStringExW
#define RtlIpv4StringToAddress RtlIpv4StringToAddressW
#define RtlIpv6StringToAddress RtlIpv6StringToAddressW
#else
#define RtlIpv4AddressToString RtlIpv4AddressToStringA
#define RtlIpv4AddressToStringEx RtlIpv4AddressToStringExA
#define RtlIpv6AddressToString RtlIpv6AddressToStringA
#define RtlIpv6AddressToStringEx RtlIpv6AddressToStringExA
#define RtlIpv4StringToAddress RtlIpv4StringToAddressA
#define RtlIpv6StringToAddress RtlIpv6StringToAddressA
#endif

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_IP2STRING_H */
