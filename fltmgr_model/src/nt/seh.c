/*
 * Structured exception handling: the runtime of excpt.h's __try statements,
 * the raise and the search for a handler, ExRaiseStatus and its family, and
 * ProbeForRead/ProbeForWrite. Each simulated thread keeps a chain of frames
 * (fltsim_tls.seh): __try blocks, and the frame fltsim puts around every call
 * into filter code, where an exception no __try handled is reported and ends
 * that call (fltmgr/ decides what the call's work becomes). Hardware faults
 * are not exceptions here: a bad pointer still crashes the process.
 */
#include <stdio.h>
#include <stdlib.h>

#include "model_internal.h"

/* ---- the user address range (fltsim/decl/seh.h) ---- */

#if defined(__x86_64__) || defined(_M_AMD64)
#define USER_PROBE_ADDRESS ((ULONG_PTR)0x7FFFFFFF0000ull) /* Windows x64 */
#define SYSTEM_RANGE_START ((ULONG_PTR)0xFFFF800000000000ull)
#elif UINTPTR_MAX > 0xFFFFFFFFu
#define USER_PROBE_ADDRESS ((ULONG_PTR)0xFFFFFFFF0000ull) /* a 48-bit user space */
#define SYSTEM_RANGE_START ((ULONG_PTR)0xFFFF000000000000ull)
#else
#define USER_PROBE_ADDRESS ((ULONG_PTR)0xBFFF0000u) /* Linux's 3 GB user space */
#define SYSTEM_RANGE_START ((ULONG_PTR)0xC0000000u)
#endif

ULONG_PTR MmUserProbeAddress = USER_PROBE_ADDRESS;
PVOID MmHighestUserAddress = (PVOID)(USER_PROBE_ADDRESS - 1);
PVOID MmSystemRangeStart = (PVOID)SYSTEM_RANGE_START;

/* ---- reports ---- */

static void report(const char *rule, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A report about filter code running on this thread, or a line on standard
 * error when no filter code of a system runs here. */
static void report(const char *rule, const char *fmt, ...)
{
    struct fltsim_tls *t = fltsim__tls();
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, rule, "-", "%s", message);
    else
        fprintf(stderr, "fltsim: %s: %s\n", rule, message);
}

static const char *status_name(NTSTATUS status)
{
    const char *name = fltsim_ntstatus_name(status);
    return name != NULL ? name : "no name known to fltsim";
}

/* ---- the chain ---- */

static void pop(struct fltsim_tls *t, struct fltsim_seh_frame *f)
{
    if (t->seh != f) {
        /* Frames leave in the order they came; anything else is fltsim's bug. */
        fprintf(stderr, "fltsim: SEH frame of %s:%d is not the innermost of its thread\n",
                f->file != NULL ? f->file : "fltsim", f->line);
        abort();
    }
    t->seh = f->prev;
}

/* Hands the exception to the innermost frame of the calling thread: takes
 * the frame off the chain, copies the record into it (and the record it
 * points at, when nested is given) and jumps there. */
__attribute__((noreturn)) static void dispatch(const EXCEPTION_RECORD *record,
                                               const EXCEPTION_RECORD *nested, const char *raiser)
{
    struct fltsim_tls *t = fltsim__tls();
    struct fltsim_seh_frame *f = t->seh;
    if (f == NULL) {
        /* No __try and no filter callback: test code called the raising code
         * directly. There is nothing to end but the process. */
        fprintf(stderr,
                "fltsim: exception 0x%08X (%s) raised by %s with no __try on this thread and "
                "outside any filter callback (on Windows: bugcheck 0x1E, "
                "KMODE_EXCEPTION_NOT_HANDLED); aborting\n",
                (unsigned)record->ExceptionCode, status_name(record->ExceptionCode), raiser);
        abort();
    }
    t->seh = f->prev;
    f->record = *record;
    if (nested != NULL) {
        f->nested = *nested;
        f->nested.ExceptionRecord = NULL;
        f->record.ExceptionRecord = &f->nested;
    } else {
        f->record.ExceptionRecord = NULL;
    }
    f->pointers.ExceptionRecord = &f->record;
    f->pointers.ContextRecord = NULL;
    f->raiser = raiser;
    f->state = FLTSIM_SEH_RAISED;
    f->jump(f);
    __builtin_unreachable();
}

/* Passes the exception f holds on to the next frame out. */
__attribute__((noreturn)) static void continue_search(struct fltsim_seh_frame *f)
{
    dispatch(&f->record, f->record.ExceptionRecord, f->raiser);
}

__attribute__((noreturn)) static void raise_status(NTSTATUS status, const char *raiser,
                                                   PVOID address)
{
    /* What RtlRaiseStatus raises: a noncontinuable exception, no parameters. */
    EXCEPTION_RECORD record;
    memset(&record, 0, sizeof(record));
    record.ExceptionCode = status;
    record.ExceptionFlags = EXCEPTION_NONCONTINUABLE;
    record.ExceptionAddress = address;
    dispatch(&record, NULL, raiser);
}

/* ---- the steps of a __try statement (excpt.h) ---- */

struct fltsim_seh_frame *fltsim_seh_begin(struct fltsim_seh_frame *f,
                                          void (*jump)(struct fltsim_seh_frame *), const char *file,
                                          int line)
{
    f->jump = jump;
    f->prev = NULL;
    f->state = FLTSIM_SEH_BODY;
    f->kind = FLTSIM_SEH_KIND_UNKNOWN;
    f->inner = 1;
    f->abnormal = FALSE;
    f->unwinding = FALSE;
    f->file = file;
    f->line = line;
    f->raiser = NULL;
    f->record.ExceptionCode = STATUS_SUCCESS;
    return f;
}

int fltsim_seh_enter(struct fltsim_seh_frame *f, int jumped)
{
    if (jumped)
        return 0; /* an exception came back: the frame is already off the chain */
    struct fltsim_tls *t = fltsim__tls();
    f->prev = t->seh;
    t->seh = f;
    return 1;
}

void fltsim_seh_left(struct fltsim_seh_frame *f)
{
    if (f->state != FLTSIM_SEH_BODY)
        return; /* reached after an exception came back */
    pop(fltsim__tls(), f);
    f->state = f->kind == FLTSIM_SEH_KIND_FINALLY ? FLTSIM_SEH_LEFT : FLTSIM_SEH_DONE;
}

int fltsim_seh_filter(struct fltsim_seh_frame *f, int disposition)
{
    if (disposition > 0) {
        f->state = FLTSIM_SEH_HANDLER;
        return 1;
    }
    if (disposition == 0)
        continue_search(f);
    if (!(f->record.ExceptionFlags & EXCEPTION_NONCONTINUABLE)) {
        /* Resuming would need the raiser's stack, which is gone by now. */
        fprintf(stderr, "fltsim: a continuable exception reached a filter; fltsim raises none\n");
        abort();
    }
    if (f->record.ExceptionCode == STATUS_NONCONTINUABLE_EXCEPTION &&
        f->record.ExceptionRecord != NULL) {
        report("SEH",
               "the filter of the __try at %s:%d returned EXCEPTION_CONTINUE_EXECUTION again, "
               "for the STATUS_NONCONTINUABLE_EXCEPTION raised in place of its first answer; on "
               "Windows each answer raises another until the stack overflows; fltsim goes on as "
               "for EXCEPTION_CONTINUE_SEARCH",
               f->file, f->line);
        continue_search(f);
    }
    report("SEH",
           "the filter of the __try at %s:%d returned EXCEPTION_CONTINUE_EXECUTION for exception "
           "0x%08X (%s) raised by %s, which is noncontinuable; as on Windows, "
           "STATUS_NONCONTINUABLE_EXCEPTION is raised in its place (fltsim raises it at this "
           "__try: the frames inside it are already unwound)",
           f->file, f->line, (unsigned)f->record.ExceptionCode,
           status_name(f->record.ExceptionCode), f->raiser);
    /* Dispatched again from this frame, which is still off the chain: the
     * jump comes back to its setjmp and the filter runs again. */
    EXCEPTION_RECORD original = f->record;
    EXCEPTION_RECORD record;
    memset(&record, 0, sizeof(record));
    record.ExceptionCode = STATUS_NONCONTINUABLE_EXCEPTION;
    record.ExceptionFlags = EXCEPTION_NONCONTINUABLE;
    record.ExceptionAddress = original.ExceptionAddress;
    f->nested = original;
    f->nested.ExceptionRecord = NULL;
    f->record = record;
    f->record.ExceptionRecord = &f->nested;
    f->pointers.ExceptionRecord = &f->record;
    f->state = FLTSIM_SEH_RAISED;
    f->jump(f);
    __builtin_unreachable();
}

int fltsim_seh_finally(struct fltsim_seh_frame *f)
{
    if (f->state == FLTSIM_SEH_LEFT) {
        f->state = FLTSIM_SEH_FINALLY;
        return 1;
    }
    if (f->state == FLTSIM_SEH_RAISED) {
        f->state = FLTSIM_SEH_FINALLY;
        f->abnormal = TRUE;
        f->unwinding = TRUE;
        return 1;
    }
    return 0;
}

void fltsim_seh_next(struct fltsim_seh_frame *f)
{
    bool broke = f->inner != 0; /* the inner loop's step did not run */
    f->inner = 1;
    switch (f->state) {
    case FLTSIM_SEH_BODY:
        /* Neither the end of the block nor __leave: a break or continue of
         * its own loop reached the statement's loops instead. */
        pop(fltsim__tls(), f);
        report("SIM",
               "%s directly in the __try block at %s:%d: fltsim ends the __try block there "
               "(a __finally runs, with AbnormalTermination() TRUE) and goes on after the "
               "statement; on Windows it %s the enclosing loop; move it after the __try statement",
               broke ? "break" : "continue", f->file, f->line, broke ? "leaves" : "continues");
        f->abnormal = TRUE;
        f->state = f->kind == FLTSIM_SEH_KIND_FINALLY ? FLTSIM_SEH_LEFT : FLTSIM_SEH_DONE;
        return;
    case FLTSIM_SEH_HANDLER:
    case FLTSIM_SEH_FINALLY:
        if (broke)
            report("SIM",
                   "break directly in the %s block of the __try at %s:%d: fltsim ends the block "
                   "there and goes on after the statement; on Windows it leaves the enclosing "
                   "loop; move it after the __try statement",
                   f->state == FLTSIM_SEH_HANDLER ? "__except" : "__finally", f->file, f->line);
        if (f->state == FLTSIM_SEH_FINALLY && f->unwinding) {
            f->state = FLTSIM_SEH_DONE;
            continue_search(f); /* the exception goes on outward */
        }
        f->state = FLTSIM_SEH_DONE;
        return;
    default:
        /* LEFT (the __finally runs next), RAISED (the filter or the
         * __finally runs next), DONE (the statement ends). */
        return;
    }
}

void fltsim_seh_cleanup(struct fltsim_seh_frame *f)
{
    if (f->state != FLTSIM_SEH_BODY)
        return; /* already off the chain; a return out of a __finally that runs for an
                   exception ends that exception, as on Windows */
    pop(fltsim__tls(), f);
    f->state = FLTSIM_SEH_DONE;
    if (f->kind == FLTSIM_SEH_KIND_FINALLY)
        report("SIM",
               "the __try block at %s:%d was left by return, goto or break: its __finally block "
               "did not run (on Windows it runs, with AbnormalTermination() TRUE)",
               f->file, f->line);
}

/* ---- callout frames (model_internal.h) ---- */

NTSTATUS fltsim__seh_uncaught(const struct fltsim_seh_frame *f, fltsim_system *sys,
                              struct _FLT_FILTER *filter, struct _FLT_INSTANCE *inst,
                              const struct fltsim_op *op, const char *what, const char *outcome)
{
    fltsim__tls()->irql = f->irql;
    NTSTATUS code = f->record.ExceptionCode;
    char where[96] = "";
    if (op != NULL)
        snprintf(where, sizeof(where), " for %s", fltsim_major_name(op->iopb.MajorFunction));
    fltsim__report(sys, filter, inst, op, "SEH", "-",
                   "exception 0x%08X (%s) raised by %s was not handled in %s%s; %s (on Windows: "
                   "bugcheck 0x1E, KMODE_EXCEPTION_NOT_HANDLED)",
                   (unsigned)code, status_name(code), f->raiser, what, where, outcome);
    return fltsim__is_veto(code) ? code : STATUS_UNHANDLED_EXCEPTION;
}

/* Its setjmp is here, in a function that reads only its parameters after it. */
__attribute__((noinline)) bool fltsim__seh_call(struct fltsim_seh_frame *f, void (*fn)(void *ctx),
                                                void *ctx)
{
    fltsim__seh_push(f);
    if (FLTSIM_SEH_SETJMP(f) != 0)
        return false;
    fn(ctx);
    fltsim__seh_pop(f);
    return true;
}

/* ---- the routines ---- */

void fltsim__raise_status(NTSTATUS status, const char *raiser, PVOID address)
{
    raise_status(status, raiser, address);
}

VOID ExRaiseStatus(NTSTATUS Status)
{
    fltsim__check_irql(fltsim__tls()->sys, APC_LEVEL, "ExRaiseStatus");
    raise_status(Status, "ExRaiseStatus", __builtin_return_address(0));
}

VOID ExRaiseAccessViolation(VOID)
{
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, "ExRaiseAccessViolation");
    raise_status(STATUS_ACCESS_VIOLATION, "ExRaiseAccessViolation", __builtin_return_address(0));
}

VOID ExRaiseDatatypeMisalignment(VOID)
{
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, "ExRaiseDatatypeMisalignment");
    raise_status(STATUS_DATATYPE_MISALIGNMENT, "ExRaiseDatatypeMisalignment",
                 __builtin_return_address(0));
}

/* The checks both probes make (Microsoft Learn, ProbeForRead). */
static void probe(ULONG_PTR start, SIZE_T length, ULONG alignment, bool write, const char *api,
                  PVOID caller)
{
    fltsim__check_irql(fltsim__tls()->sys, APC_LEVEL, api);
    if (length == 0)
        return;
    if (alignment != 1 && alignment != 2 && alignment != 4 && alignment != 8 && alignment != 16)
        report("ASSERT",
               "%s with Alignment %lu; it must be 1, 2, 4, 8 or 16 (an assertion in Windows' "
               "checked build); checked as the mask Alignment - 1",
               api, (unsigned long)alignment);
    if ((start & (ULONG_PTR)(alignment - 1)) != 0)
        raise_status(STATUS_DATATYPE_MISALIGNMENT, api, caller);
    ULONG_PTR end = start + length;
    if (end < start || end > MmUserProbeAddress)
        raise_status(STATUS_ACCESS_VIOLATION, api, caller);
    if (write && start < (ULONG_PTR)MM_LOWEST_USER_ADDRESS)
        raise_status(STATUS_ACCESS_VIOLATION, api, caller); /* the first write would fault */
}

VOID ProbeForRead(const volatile VOID *Address, SIZE_T Length, ULONG Alignment)
{
    probe((ULONG_PTR)Address, Length, Alignment, false, "ProbeForRead",
          __builtin_return_address(0));
}

VOID ProbeForWrite(volatile VOID *Address, SIZE_T Length, ULONG Alignment)
{
    probe((ULONG_PTR)Address, Length, Alignment, true, "ProbeForWrite",
          __builtin_return_address(0));
}
