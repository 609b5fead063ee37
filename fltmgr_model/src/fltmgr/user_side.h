/*
 * PRIVATE to fltmgr_model/src: what a system's user-mode side keeps per
 * system (communication ports, port.c; fltlib's find handles, fltlib.c;
 * simulated processes, win32/) is ended through these, called by
 * registration.c (a filter unregistering) and system.c (the system going).
 */
#ifndef FLTSIM_USER_SIDE_H
#define FLTSIM_USER_SIDE_H

#include "model_internal.h"

/* port.c: a filter unregistering (DisconnectNotify, V23 for open ports). */
void fltsim__ports_filter_gone(struct _FLT_FILTER *filter);
/* port.c: the system going, its executor gone: what is left of ports. */
void fltsim__ports_system_destroyed(fltsim_system *sys);
/* fltlib.c: the system going: find handles left open. */
void fltsim__fltlib_system_destroyed(fltsim_system *sys);
/* win32/process.c: first in fltsim_system_destroy: the processes left end
 * (as at a shutdown) and are freed. */
void fltsim__w32_shutdown(fltsim_system *sys);

#endif /* FLTSIM_USER_SIDE_H */
