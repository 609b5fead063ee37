/*
 * deny.c compiled straight into a program that links only fltsim::sim (or
 * pkg-config's flags), under the project's own -Wall -Wextra -Werror: the
 * usage requirements alone must be enough for a filter's source.
 */
#define DriverEntry DenyDriverEntry
#include "deny.c"
