/*
 * What a crash handler and a watchdog need to know about filter code: which
 * filter's code an OS thread runs now (which callback, for which operation),
 * the operations filters keep pended, and a hook that replaces the
 * deterministic executor's deadlock abort. The model knows these through its
 * per-thread callout context; this is the sim's way to read it without
 * taking the model's locks where that could hang.
 */
#ifndef FLTSIM_WATCH_H
#define FLTSIM_WATCH_H

#include <fltsim/model.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The call into filter code that a thread is in. */
struct fltsim_callout_info {
    bool in_filter; /* filter (or driver) code runs; every other field is then set */
    /* What runs: "pre-operation callback", "post-operation callback",
     * "InstanceSetupCallback", "DriverEntry", "deferred I/O work routine" ...
     * (a string literal). */
    const char *callback;
    char filter[64]; /* the filter's service name ("" when not known) */
    ULONG64 op_id;   /* the operation (its trace number), 0 when none */
    UCHAR major;     /* its IRP_MJ_ code, when op_id != 0 */
    char file[200];  /* its file name, UTF-8, cut; "" when none */
    ULONG thread_id; /* the simulated thread */
    /* When no filter code runs but the thread is a user program's
     * (fltsim/program.h): its image name ("" otherwise) and process id. */
    char program[64];
    ULONG process_id;
    /* The simulated thread's stack, when known (0 otherwise): a fault just
     * below stack_low is a stack overflow. */
    ULONG_PTR stack_low, stack_high;
};

/* The calling thread's callout into *out. true when it is in filter code.
 * Async-signal-safe: reads only the calling thread's own state, takes no
 * lock, allocates nothing; for a handler of SIGSEGV and the like. */
bool fltsim_callout_current(struct fltsim_callout_info *out);

/* Turns on thread watching: from now on every OS thread that runs simulated
 * code is registered, so that fltsim_watch_sample sees it, and gets an
 * alternate signal stack of altstack_size bytes (0: none), so that a handler
 * of SIGSEGV runs after a stack overflow too. The calling thread is
 * registered at once. Once per process (later calls do nothing); not
 * undone. */
void fltsim_watch_enable(size_t altstack_size);

/* What one watched OS thread does, as fltsim_watch_sample saw it. */
struct fltsim_watch_thread {
    ULONG64 os_thread; /* the slot's identity: changes when another thread takes it */
    ULONG64 progress;  /* changes whenever the thread enters or leaves filter code, or
                          switches simulated thread */
    struct fltsim_callout_info callout;
};

/* Up to cap watched threads into out; returns how many there are. Any thread
 * (a watchdog's): reads what the watched threads write without stopping
 * them, so a thread that is moving on may be seen half-way; one that has
 * been stuck in a callback for a while is seen as it is. Nothing without
 * fltsim_watch_enable. */
size_t fltsim_watch_sample(struct fltsim_watch_thread *out, size_t cap);

/* Writes a line (no newline) per operation that a filter keeps pended on
 * some live system (one created after fltsim_watch_enable): "pended:
 * operation #7 IRP_MJ_READ \a.txt pended in its pre-operation callback by
 * Misbehave (instance Misbehave Instance) and never completed", or "V26:
 * ..." when that instance is being torn down (its teardown waits for the
 * operation, SPEC 2.6). Returns how many. Any thread; it only
 * tries the model's locks, and says so in a line when one is held. */
ULONG fltsim_watch_pended(void (*line)(void *ctx, const char *text), void *ctx);

/* Called by a deterministic executor that finds every simulated thread
 * blocked for good, instead of aborting: `description` lists who waits (one
 * line each, newline-terminated), and the pended operations are still there
 * for fltsim_watch_pended. The hook is not expected to return (it reports
 * and exits); when it does, or when there is none, the executor prints the
 * description and aborts, as before. Process-wide; NULL removes it. */
typedef void (*fltsim_deadlock_hook)(void *ctx, fltsim_system *sys, const char *description);
void fltsim_set_deadlock_hook(fltsim_deadlock_hook hook, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WATCH_H */
