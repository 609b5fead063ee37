/*
 * excpt.h: structured exception handling for code compiled against fltsim's
 * WDK headers. __try/__except/__finally/__leave are statements built on a
 * frame per __try block, chained per simulated thread (nt/seh.c runs them);
 * ExRaiseStatus and its family (fltsim/decl/seh.h) raise software exceptions
 * that the nearest enclosing __try on the thread handles, with the WDK's
 * values, records and filter semantics. What differs from the compiler's
 * SEH, and why, is listed where each macro is defined; hardware faults (a bad
 * pointer) stay crashes.
 */
#ifndef FLTSIM_EXCPT_H
#define FLTSIM_EXCPT_H

/* The macros below use GNU C (local labels, the cleanup attribute, setjmp
 * builtins); a system header keeps -Wpedantic quiet about them in code that
 * expands them. */
#pragma GCC system_header

#include <setjmp.h>

#include "ntdef.h" /* the integer types; ntdef.h includes this file after them */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the WDK's names ---- */

/* What an __except filter expression evaluates to. */
#define EXCEPTION_EXECUTE_HANDLER 1
#define EXCEPTION_CONTINUE_SEARCH 0
#define EXCEPTION_CONTINUE_EXECUTION (-1)

typedef enum _EXCEPTION_DISPOSITION {
    ExceptionContinueExecution,
    ExceptionContinueSearch,
    ExceptionNestedException,
    ExceptionCollidedUnwind
} EXCEPTION_DISPOSITION;

#define EXCEPTION_NONCONTINUABLE 0x1
#define EXCEPTION_MAXIMUM_PARAMETERS 15

typedef struct _EXCEPTION_RECORD {
    NTSTATUS ExceptionCode;
    ULONG ExceptionFlags;
    struct _EXCEPTION_RECORD *ExceptionRecord;
    PVOID ExceptionAddress;
    ULONG NumberParameters;
    ULONG_PTR ExceptionInformation[EXCEPTION_MAXIMUM_PARAMETERS];
} EXCEPTION_RECORD, *PEXCEPTION_RECORD;

/* The processor state at the raise: fltsim has none to give, so CONTEXT is
 * left incomplete and EXCEPTION_POINTERS.ContextRecord is NULL. */
typedef struct _CONTEXT CONTEXT, *PCONTEXT;

typedef struct _EXCEPTION_POINTERS {
    PEXCEPTION_RECORD ExceptionRecord;
    PCONTEXT ContextRecord;
} EXCEPTION_POINTERS, *PEXCEPTION_POINTERS;

/* ---- the frames (fields are nt/seh.c's; filter code never touches them) ---- */

/* Under AddressSanitizer and ThreadSanitizer the jumps go through the C
 * library, whose setjmp and longjmp the sanitizers intercept (they must see
 * frames skipped); otherwise through the compiler's builtins, a few
 * instructions with no system call. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FLTSIM_SEH_LIBC_JUMPS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FLTSIM_SEH_LIBC_JUMPS 1
#endif
#endif
#if !defined(FLTSIM_SEH_LIBC_JUMPS) && defined(__clang__) &&                                       \
    !(defined(__x86_64__) || defined(__i386__))
#define FLTSIM_SEH_LIBC_JUMPS 1 /* clang's builtins are for x86 only */
#endif

union fltsim_seh_jmpbuf {
    void *builtin[5];
    jmp_buf libc;
};

enum fltsim_seh_state {
    FLTSIM_SEH_BODY = 1, /* the __try block runs; the frame is on the thread's chain */
    FLTSIM_SEH_LEFT,     /* the block ended (normally, __leave, break, continue) */
    FLTSIM_SEH_RAISED,   /* an exception reached the frame; off the chain */
    FLTSIM_SEH_HANDLER,  /* the __except block runs */
    FLTSIM_SEH_FINALLY,  /* the __finally block runs */
    FLTSIM_SEH_DONE
};

enum fltsim_seh_kind {
    FLTSIM_SEH_KIND_UNKNOWN,
    FLTSIM_SEH_KIND_EXCEPT,
    FLTSIM_SEH_KIND_FINALLY,
    FLTSIM_SEH_KIND_CALLOUT /* fltsim's own frame around a call into filter code */
};

struct fltsim_seh_frame {
    union fltsim_seh_jmpbuf jmp;
    /* Jumps to jmp; compiled where the setjmp is, so that both ends agree. */
    void (*jump)(struct fltsim_seh_frame *frame);
    struct fltsim_seh_frame *prev; /* the next frame out on this simulated thread */
    int state;                     /* enum fltsim_seh_state */
    int kind;                      /* enum fltsim_seh_kind */
    int inner;                     /* cleared by the inner loop's step: tells break apart */
    BOOLEAN abnormal;              /* AbnormalTermination() */
    BOOLEAN unwinding;             /* the __finally runs for an exception passing through */
    KIRQL irql;                    /* callout frames: the IRQL the call began at */
    const char *file;              /* where the __try is */
    int line;
    const char *raiser; /* the routine that raised what this frame handles */
    EXCEPTION_RECORD record;
    EXCEPTION_RECORD nested; /* what record.ExceptionRecord points at, when it does */
    EXCEPTION_POINTERS pointers;
};

/* The steps of a __try statement, called by the macros below (exported by the
 * model; not for direct use). */
struct fltsim_seh_frame *fltsim_seh_begin(struct fltsim_seh_frame *frame,
                                          void (*jump)(struct fltsim_seh_frame *), const char *file,
                                          int line);
int fltsim_seh_enter(struct fltsim_seh_frame *frame, int jumped);
void fltsim_seh_left(struct fltsim_seh_frame *frame);
int fltsim_seh_filter(struct fltsim_seh_frame *frame, int disposition);
int fltsim_seh_finally(struct fltsim_seh_frame *frame);
void fltsim_seh_next(struct fltsim_seh_frame *frame);
void fltsim_seh_cleanup(struct fltsim_seh_frame *frame);

#ifdef FLTSIM_SEH_LIBC_JUMPS
#define FLTSIM_SEH_SETJMP(frame) _setjmp((frame)->jmp.libc)
static void fltsim_seh_jump_local(struct fltsim_seh_frame *frame)
    __attribute__((noreturn, noinline, unused));
static void fltsim_seh_jump_local(struct fltsim_seh_frame *frame)
{
    longjmp(frame->jmp.libc, 1);
}
#else
#define FLTSIM_SEH_SETJMP(frame) __builtin_setjmp((frame)->jmp.builtin)
static void fltsim_seh_jump_local(struct fltsim_seh_frame *frame)
    __attribute__((noreturn, noinline, unused));
static void fltsim_seh_jump_local(struct fltsim_seh_frame *frame)
{
    __builtin_longjmp(frame->jmp.builtin, 1);
}
#endif

#ifdef __cplusplus
}
#endif

/* ---- the statements ----
 *
 *   __try { body } __except (filter) { handler }
 *   __try { body } __finally { termination }
 *
 * expand to two nested for loops over a frame (_fltsim_seh) with a cleanup
 * attribute, so the statement stays one statement and a return or goto out of
 * it cannot leave the frame on the chain. The body sits in a block of its own
 * whose local labels give __leave its target, however deeply it is nested in
 * loops. An exception comes back through a longjmp to the frame; its filter
 * and handler then run in the function that holds the __try, as they do on
 * Windows.
 *
 * Where fltsim differs from the compiler's SEH (each one a documented
 * behaviour, reported where it can be seen at run time):
 * - Windows evaluates the filters of every frame, innermost first, before any
 *   __finally runs; fltsim unwinds as it searches, so the __finally blocks
 *   inside a frame run before that frame's filter is evaluated.
 * - EXCEPTION_CONTINUE_EXECUTION: every exception fltsim raises is
 *   noncontinuable, so, as on Windows, STATUS_NONCONTINUABLE_EXCEPTION is
 *   raised in its place (reported); it starts at the same frame, not at the
 *   frames inside it, which are already unwound.
 * - return or goto out of a __try block whose handler is __finally: the frame
 *   leaves the chain but the __finally block does not run (reported).
 * - break or continue written directly in a __try block (not inside a loop or
 *   switch of its own) end the __try block, whose __finally runs with
 *   AbnormalTermination() TRUE, and execution goes on after the statement; on
 *   Windows they leave or continue the enclosing loop (reported). A break
 *   directly in an __except or __finally block likewise (reported); a continue
 *   there ends the block unnoticed.
 * - Local variables the __try block changes and the __except or __finally
 *   block reads after an exception are those of a setjmp/longjmp pair: gcc
 *   keeps them, clang at -O1 and above may give their values from before the
 *   __try; declare them volatile for clang.
 */
/* clang-format takes these for MSVC keywords and would break them. */
// clang-format off
#define __try                                                                                      \
    for (struct fltsim_seh_frame _fltsim_seh __attribute__((cleanup(fltsim_seh_cleanup))),        \
         *_fltsim_seh_p = fltsim_seh_begin(&_fltsim_seh, fltsim_seh_jump_local, __FILE__, __LINE__); \
         _fltsim_seh_p->state != FLTSIM_SEH_DONE; fltsim_seh_next(_fltsim_seh_p))                 \
        for (; _fltsim_seh.inner; _fltsim_seh.inner = 0)                                          \
            if (_fltsim_seh.state == FLTSIM_SEH_BODY) {                                            \
                __label__ _fltsim_seh_kind, _fltsim_seh_body, _fltsim_seh_leave;                   \
                goto _fltsim_seh_kind;                                                             \
            _fltsim_seh_body:                                                                      \
                if (fltsim_seh_enter(&_fltsim_seh, FLTSIM_SEH_SETJMP(&_fltsim_seh)))

/* Closes the body's block; the kind is recorded before the body runs. */
#define FLTSIM_SEH_END_BODY(seh_kind)                                                                \
    _fltsim_seh_leave:                                                                             \
    fltsim_seh_left(&_fltsim_seh);                                                                 \
    if (0) {                                                                                       \
        goto _fltsim_seh_leave;                                                                    \
    _fltsim_seh_kind:                                                                              \
        _fltsim_seh.kind = (seh_kind);                                                               \
        goto _fltsim_seh_body;                                                                     \
    }                                                                                              \
    }

#define __except(...)                                                                              \
    FLTSIM_SEH_END_BODY(FLTSIM_SEH_KIND_EXCEPT)                                                    \
    else if (_fltsim_seh.state == FLTSIM_SEH_RAISED &&                                             \
             fltsim_seh_filter(&_fltsim_seh, (int)(__VA_ARGS__)))

#define __finally                                                                                  \
    FLTSIM_SEH_END_BODY(FLTSIM_SEH_KIND_FINALLY)                                                   \
    else if (fltsim_seh_finally(&_fltsim_seh))

#define __leave goto _fltsim_seh_leave
// clang-format on

/* In a filter expression or an __except block: the exception's code and
 * record. In a __finally block: whether an exception (or a break or continue,
 * see above) ended the __try block. */
#define GetExceptionCode() ((NTSTATUS)_fltsim_seh.record.ExceptionCode)
#define GetExceptionInformation() ((struct _EXCEPTION_POINTERS *)&_fltsim_seh.pointers)
#define AbnormalTermination() ((int)_fltsim_seh.abnormal)
#define exception_code() GetExceptionCode()
#define exception_info() GetExceptionInformation()
#define abnormal_termination() AbnormalTermination()

/* The WDK's build (its warning.h) maps the old spellings in C, not in C++,
 * unless the file defines DONT_REDEFINE_TRYEXCEPT_IN_WARNING_H first. */
#if !defined(__cplusplus) && !defined(DONT_REDEFINE_TRYEXCEPT_IN_WARNING_H)
#undef try
#undef except
#undef finally
#undef leave
#define try __try
#define except __except
#define finally __finally
#define leave __leave
#endif

#endif /* FLTSIM_EXCPT_H */
