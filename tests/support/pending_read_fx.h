/*
 * PRIVATE to the cancellation suites (test_cancel.c, test_cbdq.c): an
 * overlapped 5-byte read an application leaves in flight and waits for, and
 * a short delay that varies with the round, for the cancel-vs-completion
 * races. Static inline, as the other fixtures.
 */
#ifndef FLTSIM_PENDING_READ_FX_H
#define FLTSIM_PENDING_READ_FX_H

#include <string.h>

#include "fltsim_test.h"

struct pending_read {
    KEVENT done;
    struct fltsim_io_async async;
};

/* Issues an overlapped 5-byte read at offset 0 of h into buf; its status. */
static inline NTSTATUS pending_read_start(fltsim_system *sys, HANDLE h, void *buf,
                                          struct pending_read *r)
{
    KeInitializeEvent(&r->done, NotificationEvent, FALSE);
    memset(&r->async, 0, sizeof(r->async));
    r->async.event = &r->done;
    return fltsim_io_read_async(sys, h, buf, 5, 0, 0, &r->async);
}

static inline void wait_read(struct pending_read *r)
{
    KeWaitForSingleObject(&r->done, Executive, KernelMode, FALSE, NULL);
}

/* A delay of a few microseconds that depends on i. */
static inline void spin(int i)
{
    volatile unsigned sink = 0;
    for (unsigned k = 0; k < (unsigned)(i * 37) % 5000u; k++)
        sink += k;
    (void)sink;
}

#endif /* FLTSIM_PENDING_READ_FX_H */
