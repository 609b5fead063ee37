/*
 * Crash and hang reports for `fltsim run` and `fltsim replay`: a handler of
 * the fatal signals (on an alternate stack, so a stack overflow is caught
 * too) that names the filter, callback, operation and scenario step the
 * crash happened in and exits with CLI_EXIT_CRASH; a watchdog thread that
 * turns a callback that does not return, or a run that does not finish, into
 * a report of what is stuck, a FAIL line and exit status 1; and the deadlock
 * hook of the deterministic executor, which does the same. What filter code
 * a thread runs comes from the model (<fltsim/watch.h>), the step from the
 * scenario runner (fltsim_scenario_position).
 */
#define _GNU_SOURCE /* ftrylockfile */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include <fltsim/watch.h>

#include "cli.h"

#define ALTSTACK_SIZE (256u * 1024u)
#define WATCH_THREADS 256 /* threads the watchdog follows */
#define TICK_MS 50

/* The message being written: async-signal-safe appends. */
struct msg {
    char text[16384];
    size_t used;
};

static void put(struct msg *m, const char *s)
{
    while (s != NULL && *s != '\0' && m->used + 1 < sizeof(m->text))
        m->text[m->used++] = *s++;
}

static void put_u(struct msg *m, unsigned long long v)
{
    char b[24];
    size_t n = 0;
    do {
        b[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0 && m->used + 1 < sizeof(m->text))
        m->text[m->used++] = b[--n];
}

static void put_hex(struct msg *m, uintptr_t v)
{
    char b[2 + 2 * sizeof(v)];
    size_t n = 0;
    do {
        b[n++] = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    } while (v != 0);
    put(m, "0x");
    while (n > 0 && m->used + 1 < sizeof(m->text))
        m->text[m->used++] = b[--n];
}

/* A limit in seconds, with a tenth when it has one. */
static void put_seconds(struct msg *m, uint64_t ms)
{
    put_u(m, ms / 1000);
    if (ms % 1000 >= 100) {
        put(m, ".");
        put_u(m, (ms % 1000) / 100);
    }
    put(m, " s");
}

static void write_fd(int fd, const char *text, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, text, size);
        if (n <= 0)
            return;
        text += n;
        size -= (size_t)n;
    }
}

/* What the guard watches; set by the main thread, read by the handler and
 * the watchdog (atomics where both sides write). */
static struct {
    bool installed;
    const char *command; /* "run" or "replay" */
    int verdict_fd;
    uint64_t timeout_ms;          /* of a whole file, 0 = none */
    uint64_t callback_timeout_ms; /* of one callback, 0 = none */
    const char *file;             /* the scenario or capture running; atomic */
    uint64_t started_ms;          /* when it began; atomic */
    int reporting;                /* atomic: the first report wins, others wait */
    uv_thread_t watchdog;
    bool watchdog_running;
    int stop; /* atomic */
} guard;

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

/* Only one report ever: a second crash or the watchdog meanwhile waits for
 * the first to exit the process. */
static void claim_report(void)
{
    if (__atomic_exchange_n(&guard.reporting, 1, __ATOMIC_SEQ_CST) != 0)
        for (;;)
            pause();
}

static void put_callout(struct msg *m, const struct fltsim_callout_info *c)
{
    put(m, "  filter:    ");
    put(m, c->filter[0] ? c->filter : "(unknown)");
    put(m, "\n  callback:  ");
    put(m, c->callback);
    put(m, "\n  operation: ");
    if (c->op_id != 0) {
        const char *major = fltsim_major_name(c->major);
        put(m, "#");
        put_u(m, c->op_id);
        put(m, " ");
        put(m, major != NULL ? major : "?");
        if (c->file[0] != '\0') {
            put(m, " ");
            put(m, c->file);
        }
    } else {
        put(m, "none (the callback is not about one)");
    }
    put(m, "\n");
    if (c->thread_id != 0) {
        put(m, "  thread:    simulated thread ");
        put_u(m, c->thread_id);
        put(m, "\n");
    }
}

/* Where the run is: the scenario step the thread (or else the runner)
 * performs, or the capture being replayed. */
static void put_position(struct msg *m, ULONG thread_id)
{
    struct fltsim_scenario_position p;
    const char *file = __atomic_load_n(&guard.file, __ATOMIC_SEQ_CST);
    if (strcmp(guard.command, "run") == 0 && fltsim_scenario_position(thread_id, &p)) {
        put(m, "  scenario:  ");
        put(m, p.path);
        if (p.step != 0) {
            put(m, ", step ");
            put_u(m, p.step);
            put(m, " (");
            put(m, p.label);
            if (p.id != NULL) {
                put(m, " ");
                put(m, p.id);
            }
            put(m, ") at line ");
            put_u(m, (unsigned long long)p.line);
        } else if (p.phase != NULL) {
            put(m, ", ");
            put(m, p.phase);
        }
        put(m, "\n");
    } else if (file != NULL) {
        put(m, strcmp(guard.command, "run") == 0 ? "  scenario:  " : "  capture:   ");
        put(m, file);
        put(m, "\n");
    }
}

/* The FAIL line, where the verdicts go, after the report on standard
 * error. */
static void put_verdict(struct msg *report, const char *why)
{
    write_fd(STDERR_FILENO, report->text, report->used);
    struct msg line = {.used = 0};
    const char *file = __atomic_load_n(&guard.file, __ATOMIC_SEQ_CST);
    put(&line, "FAIL  ");
    put(&line, file != NULL ? file : "(no file)");
    put(&line, ": ");
    put(&line, why);
    put(&line, "\n");
    write_fd(guard.verdict_fd, line.text, line.used);
}

/* Ends the process from a report: the outputs being written are dropped
 * (their targets stay as they were; only unlink, async-signal-safe). */
static _Noreturn void die(int status)
{
    fltsim__output_remove_temps();
    _exit(status);
}

/* ---- fatal signals ---- */

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV (invalid memory access)";
    case SIGBUS:
        return "SIGBUS (bus error)";
    case SIGFPE:
        return "SIGFPE (arithmetic error, e.g. division by zero)";
    case SIGILL:
        return "SIGILL (illegal instruction)";
    case SIGABRT:
        return "SIGABRT (abort)";
    }
    return "a fatal signal";
}

static void on_fatal_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    claim_report();
    static struct msg m; /* not on the (alternate) stack */
    struct fltsim_callout_info c;
    bool in_filter = fltsim_callout_current(&c);
    uintptr_t addr = (uintptr_t)si->si_addr;
    bool fault = sig == SIGSEGV || sig == SIGBUS;
    bool overflow =
        fault && c.stack_low != 0 && addr < c.stack_low && addr + 1024u * 1024u >= c.stack_low;
    put(&m, in_filter                ? "fltsim: filter code crashed: "
            : c.program[0] != '\0' ? "fltsim: a user program crashed: "
                                    : "fltsim: fltsim itself crashed: ");
    put(&m, signal_name(sig));
    if (fault) {
        put(&m, " at address ");
        put_hex(&m, addr);
    }
    if (overflow)
        put(&m, ": a stack overflow (the simulated thread's stack is used up)");
    put(&m, "\n");
    if (in_filter) {
        put_callout(&m, &c);
        put_position(&m, c.thread_id);
        put_verdict(&m, overflow ? "filter code overflowed its stack" : "filter code crashed");
        die(CLI_EXIT_CRASH);
    }
    if (c.program[0] != '\0') {
        /* A user program's own code (a scenario's `programs:`). */
        put(&m, "  program:   ");
        put(&m, c.program);
        put(&m, " (process ");
        put_u(&m, c.process_id);
        put(&m, ", simulated thread ");
        put_u(&m, c.thread_id);
        put(&m, ")\n");
        put_position(&m, c.thread_id);
        put_verdict(&m, "a user program crashed (it runs inside fltsim's process)");
        die(CLI_EXIT_CRASH);
    }
    put(&m, "  This is a bug in fltsim, not in a filter (no filter code was running on the "
            "thread).\n  Please report it with the command line and the files it used.\n");
    put_position(&m, c.thread_id);
    write_fd(STDERR_FILENO, m.text, m.used);
    /* Die of the signal, as without the handler (SA_RESETHAND restored the
     * default action): a core dump if the system keeps them. */
    fltsim__output_remove_temps();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- the deadlock hook ---- */

static void flush_stdio(void)
{
    /* Only if nobody holds the stream: a stuck thread may. */
    if (ftrylockfile(stdout) == 0) {
        fflush_unlocked(stdout);
        funlockfile(stdout);
    }
    if (ftrylockfile(stderr) == 0) {
        fflush_unlocked(stderr);
        funlockfile(stderr);
    }
}

static void pended_line(void *ctx, const char *text)
{
    struct msg *m = ctx;
    put(m, "  ");
    put(m, text);
    put(m, "\n");
}

static void on_deadlock(void *ctx, fltsim_system *sys, const char *description)
{
    (void)ctx;
    (void)sys;
    claim_report();
    flush_stdio();
    static struct msg m;
    put(&m, "fltsim: deadlock: every simulated thread is blocked and nothing can wake them\n"
            "  (deterministic executor; a concurrent run would hang here):\n");
    put(&m, description);
    fltsim_watch_pended(pended_line, &m);
    put_position(&m, 0);
    put_verdict(&m, "deadlock (every simulated thread blocked)");
    die(CLI_EXIT_FAILED);
}

/* ---- the watchdog ---- */

struct seen {
    ULONG64 os_thread, progress;
    uint64_t since_ms;
    bool in_filter;
};

static void report_callback_stuck(const struct fltsim_callout_info *c)
{
    claim_report();
    flush_stdio();
    static struct msg m;
    put(&m, "fltsim: ");
    put(&m, c->filter);
    put(&m, "'s ");
    put(&m, c->callback);
    put(&m, " has not returned within ");
    put_seconds(&m, guard.callback_timeout_ms);
    put(&m, " (--callback-timeout): it spins or waits for what never comes\n");
    put_callout(&m, c);
    fltsim_watch_pended(pended_line, &m);
    put_position(&m, c->thread_id);
    put_verdict(&m, "a filter callback did not return");
    die(CLI_EXIT_FAILED);
}

static void report_timeout(const struct fltsim_watch_thread *threads, size_t count)
{
    claim_report();
    flush_stdio();
    static struct msg m;
    put(&m, "fltsim: ");
    put(&m, __atomic_load_n(&guard.file, __ATOMIC_SEQ_CST));
    put(&m, " did not finish within ");
    put_seconds(&m, guard.timeout_ms);
    put(&m, " (--timeout); what is stuck:\n");
    size_t stuck = 0;
    for (size_t i = 0; i < count; i++) {
        if (!threads[i].callout.in_filter)
            continue;
        const struct fltsim_callout_info *c = &threads[i].callout;
        put(&m, "  in a callback: ");
        put(&m, c->filter);
        put(&m, "'s ");
        put(&m, c->callback);
        if (c->op_id != 0) {
            const char *major = fltsim_major_name(c->major);
            put(&m, " for operation #");
            put_u(&m, c->op_id);
            put(&m, " ");
            put(&m, major != NULL ? major : "?");
            put(&m, " ");
            put(&m, c->file);
        }
        if (c->thread_id != 0) {
            put(&m, " on simulated thread ");
            put_u(&m, c->thread_id);
        }
        put(&m, "\n");
        stuck++;
    }
    stuck += fltsim_watch_pended(pended_line, &m);
    if (stuck == 0)
        put(&m, "  no filter callback runs and no operation is pended: the run waits for "
                "something else\n");
    put_position(&m, 0);
    put_verdict(&m, "timed out");
    die(CLI_EXIT_FAILED);
}

static void watchdog_main(void *arg)
{
    (void)arg;
    static struct fltsim_watch_thread now[WATCH_THREADS];
    static struct seen seen[WATCH_THREADS];
    size_t seen_count = 0;
    while (!__atomic_load_n(&guard.stop, __ATOMIC_SEQ_CST)) {
        uv_sleep(TICK_MS);
        uint64_t t = now_ms();
        size_t n = fltsim_watch_sample(now, WATCH_THREADS);
        if (n > WATCH_THREADS)
            n = WATCH_THREADS;
        uint64_t started = __atomic_load_n(&guard.started_ms, __ATOMIC_SEQ_CST);
        if (guard.timeout_ms != 0 && started != 0 && t - started >= guard.timeout_ms)
            report_timeout(now, n);
        for (size_t i = 0; i < n; i++) {
            struct seen *s = NULL;
            for (size_t k = 0; k < seen_count && s == NULL; k++)
                if (seen[k].os_thread == now[i].os_thread)
                    s = &seen[k];
            if (s == NULL || s->progress != now[i].progress ||
                s->in_filter != now[i].callout.in_filter) {
                /* new, or moved on: the clock starts again */
                struct seen fresh = {now[i].os_thread, now[i].progress, t,
                                     now[i].callout.in_filter};
                if (s != NULL)
                    *s = fresh;
                else if (seen_count < WATCH_THREADS)
                    seen[seen_count++] = fresh;
                continue;
            }
            if (s->in_filter && guard.callback_timeout_ms != 0 &&
                t - s->since_ms >= guard.callback_timeout_ms)
                report_callback_stuck(&now[i].callout);
        }
    }
}

/* ---- the interface (cli.h) ---- */

void cli_guard_install(const char *command, const struct cli_options *options, int verdict_fd)
{
    if (guard.installed)
        return;
    guard.installed = true;
    guard.command = command;
    guard.verdict_fd = verdict_fd;
    guard.timeout_ms = options->timeout_ms_set       ? options->run_timeout_ms
                       : strcmp(command, "run") == 0 ? CLI_DEFAULT_RUN_TIMEOUT_MS
                                                     : 0;
    guard.callback_timeout_ms = options->callback_timeout_set ? options->callback_timeout_ms
                                                              : CLI_DEFAULT_CALLBACK_TIMEOUT_MS;
    fltsim_watch_enable(ALTSTACK_SIZE);
    fltsim_set_deadlock_hook(on_deadlock, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        sigaction(fatal[i], &sa, NULL);
    if (guard.timeout_ms != 0 || guard.callback_timeout_ms != 0)
        guard.watchdog_running = uv_thread_create(&guard.watchdog, watchdog_main, NULL) == 0;
}

void cli_guard_begin(const char *file)
{
    __atomic_store_n(&guard.file, file, __ATOMIC_SEQ_CST);
    __atomic_store_n(&guard.started_ms, now_ms(), __ATOMIC_SEQ_CST);
}

void cli_guard_end(void)
{
    __atomic_store_n(&guard.started_ms, 0, __ATOMIC_SEQ_CST);
}

void cli_guard_stop(void)
{
    if (!guard.installed)
        return;
    if (guard.watchdog_running) {
        __atomic_store_n(&guard.stop, 1, __ATOMIC_SEQ_CST);
        uv_thread_join(&guard.watchdog);
        guard.watchdog_running = false;
    }
    fltsim_set_deadlock_hook(NULL, NULL);
}
