/*
 * PRIVATE to fltmgr_model/src/nt: what the kernel C runtime's wide routines
 * (crt_wide.c) and its wide printf family (crt_wprintf.c) share: the
 * invalid-parameter handler, which reports where Windows would bugcheck.
 * crt_wide.c defines it.
 */
#ifndef FLTSIM_NT_CRT_INTERNAL_H
#define FLTSIM_NT_CRT_INTERNAL_H

#include <errno.h>

#include "model_internal.h"

/* The CRT's invalid-parameter handler, fltsim's way: the kernel CRT
 * bugchecks; fltsim makes a verifier report (rule KE) naming api and what is
 * wrong, sets errno to code and returns code, for the routine to return its
 * documented error. */
int fltsim__crt_invalid(const char *api, int code, const char *what);

#endif /* FLTSIM_NT_CRT_INTERNAL_H */
