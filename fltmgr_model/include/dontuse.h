/*
 * dontuse.h for fltsim. The WDK's header marks the unbounded C string
 * routines (strcpy, wcscat, sprintf ...) deprecated so that MSVC warns where a
 * driver calls them, steering it to ntstrsafe.h. fltsim declares nothing here:
 * gcc and clang have no matching warning that would not also fire inside the
 * C library's own headers, so the header only exists for sources that
 * include it.
 */
#ifndef FLTSIM_DONTUSE_H
#define FLTSIM_DONTUSE_H
#endif /* FLTSIM_DONTUSE_H */
