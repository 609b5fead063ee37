/*
 * Systematic fault exploration (fltsim/explore.h): a baseline run that
 * records the fault point ledger, then one run per point with exactly that
 * point failed ({kind, nth = kind_index + 1}, model.h). Each run happens in a
 * forked child that sends its scenario result (and, for the baseline, the
 * ledger) back through a pipe; the parent waits with a deadline and kills a
 * child that overruns it. The child's standard error goes to a temporary
 * file, so the deterministic executor's deadlock description (and whatever a
 * crashing filter printed) can be quoted in the finding.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fltsim/explore.h>
#include <fltsim/io.h>

#include "scenario/scenario_internal.h"

#define EXPLORE_DEFAULT_TIMEOUT_MS 10000
#define EXPLORE_MAX_POINTS 65536 /* ledger entries the baseline sends back */

/* What a child sends back, then `points` ledger entries. */
struct child_msg {
    NTSTATUS status;
    struct fltsim_scenario_result result;
    ULONG64 points; /* entries that follow */
    char log[512];  /* the start of the run's log */
};

/* What the parent learned about one child. */
struct child_outcome {
    bool got_msg;
    bool timed_out;
    int wait_status;
    struct child_msg msg;
    struct fltsim_fault_point *points; /* baseline only; malloc'd */
    char err[512];                     /* the start of the child's standard error */
};

const char *fltsim_explore_outcome_name(enum fltsim_explore_outcome outcome)
{
    switch (outcome) {
    case FLTSIM_EXPLORE_PASSED:
        return "passed";
    case FLTSIM_EXPLORE_REPORT:
        return "verifier report";
    case FLTSIM_EXPLORE_STATUS:
        return "unexpected status";
    case FLTSIM_EXPLORE_HANG:
        return "hang";
    case FLTSIM_EXPLORE_CRASH:
        return "crash";
    case FLTSIM_EXPLORE_ERROR:
        return "error";
    }
    return "?";
}

static bool write_all(int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        size -= (size_t)n;
    }
    return true;
}

static void drop_debug(void *ctx, const char *text)
{
    (void)ctx;
    (void)text;
}

/* In the child: one run, its result to fd, then _exit. */
static void child_main(int fd, const struct fltsim_scenario *scenario,
                       const struct fltsim_explore_options *options,
                       const struct fltsim_fault *fault)
{
    static struct child_msg msg;
    struct fltsim_fault_point *points = NULL;
    size_t cap = 0;
    if (fault == NULL) {
        points = calloc(EXPLORE_MAX_POINTS, sizeof(*points));
        cap = points != NULL ? EXPLORE_MAX_POINTS : 0;
    }
    char *log_text = NULL;
    size_t log_size = 0;
    FILE *log = open_memstream(&log_text, &log_size);
    fltsim_debug_set_sink(drop_debug, NULL);
    struct fltsim_scenario_run_options run = {
        .override_executor = true,
        .executor = FLTSIM_EXECUTOR_DETERMINISTIC,
        .override_seed = options->override_seed,
        .seed = options->seed,
        .verifier = FLTSIM_VERIFIER_STRICT,
        .verifier_disable = options->verifier_disable,
        .verifier_disable_count = options->verifier_disable_count,
        .log = log != NULL ? log : stderr,
        .skip_golden = fault != NULL,
        .extra_faults = fault,
        .extra_fault_count = fault != NULL ? 1 : 0,
        .fault_points = points,
        .fault_points_cap = cap,
    };
    msg.status = fltsim_scenario_run(scenario, &run, &msg.result);
    if (log != NULL) {
        fclose(log);
        if (log_text != NULL)
            snprintf(msg.log, sizeof(msg.log), "%s", log_text);
        free(log_text);
    }
    msg.points = msg.result.fault_points < cap ? msg.result.fault_points : cap;
    bool ok = write_all(fd, &msg, sizeof(msg)) &&
              (msg.points == 0 || write_all(fd, points, (size_t)msg.points * sizeof(*points)));
    free(points);
    close(fd);
    _exit(ok ? 0 : 1);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads the child's message (and ledger) from fd until EOF or the deadline.
 * Returns false on timeout. */
static bool read_child(int fd, uint64_t deadline, struct child_outcome *out, bool *oom)
{
    char *buf = NULL;
    size_t size = 0, cap = 0;
    bool eof = false;
    while (!eof) {
        uint64_t now = now_ms();
        if (now >= deadline)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)(deadline - now));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (size == cap) {
            size_t ncap = cap ? cap * 2 : sizeof(struct child_msg) + 4096;
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                *oom = true;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + size, cap - size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            eof = true;
        else
            size += (size_t)n;
    }
    if (size >= sizeof(struct child_msg)) {
        memcpy(&out->msg, buf, sizeof(out->msg));
        size_t have = (size - sizeof(out->msg)) / sizeof(struct fltsim_fault_point);
        if (out->msg.points <= have) {
            out->got_msg = true;
            if (out->msg.points > 0) {
                out->points = malloc((size_t)out->msg.points * sizeof(*out->points));
                if (out->points == NULL)
                    *oom = true;
                else
                    memcpy(out->points, buf + sizeof(out->msg),
                           (size_t)out->msg.points * sizeof(*out->points));
            }
        }
    }
    free(buf);
    return eof;
}

/* Forks a child for one run and collects what happened. Returns false when
 * no child could be made. */
static bool run_child(const struct fltsim_scenario *scenario,
                      const struct fltsim_explore_options *options,
                      const struct fltsim_fault *fault, struct child_outcome *out)
{
    memset(out, 0, sizeof(*out));
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    FILE *err = tmpfile();
    if (err == NULL) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        fclose(err);
        return false;
    }
    if (pid == 0) {
        close(fds[0]);
        dup2(fileno(err), STDERR_FILENO);
        child_main(fds[1], scenario, options, fault);
    }
    close(fds[1]);
    ULONG timeout = options->timeout_ms ? options->timeout_ms : EXPLORE_DEFAULT_TIMEOUT_MS;
    bool oom = false;
    bool finished = read_child(fds[0], now_ms() + timeout, out, &oom);
    close(fds[0]);
    if (!finished) {
        out->timed_out = true;
        kill(pid, SIGKILL);
    }
    while (waitpid(pid, &out->wait_status, 0) < 0 && errno == EINTR)
        ;
    rewind(err);
    size_t n = fread(out->err, 1, sizeof(out->err) - 1, err);
    out->err[n] = '\0';
    fclose(err);
    return !oom;
}

/* The first line of text (at most size - 1 bytes) into out. */
static void first_line(const char *text, char *out, size_t size)
{
    size_t n = strcspn(text, "\n");
    if (n >= size)
        n = size - 1;
    memcpy(out, text, n);
    out[n] = '\0';
}

/* Judges a child's run (explore.h). */
static enum fltsim_explore_outcome judge(const struct child_outcome *c, char *detail, size_t size)
{
    char line[400];
    detail[0] = '\0';
    if (c->timed_out) {
        snprintf(detail, size, "no result within the timeout; the run was killed");
        return FLTSIM_EXPLORE_HANG;
    }
    if (WIFSIGNALED(c->wait_status)) {
        int sig = WTERMSIG(c->wait_status);
        const char *dl = strstr(c->err, "deadlock");
        if (sig == SIGABRT && dl != NULL) {
            first_line(c->err, line, sizeof(line));
            snprintf(detail, size, "%s", line);
            return FLTSIM_EXPLORE_HANG;
        }
        first_line(c->err, line, sizeof(line));
        snprintf(detail, size, "killed by signal %d (%s)%s%s", sig, strsignal(sig),
                 line[0] ? ": " : "", line);
        return FLTSIM_EXPLORE_CRASH;
    }
    if (!c->got_msg) {
        first_line(c->err, line, sizeof(line));
        snprintf(detail, size, "exited with status %d without a result%s%s",
                 WIFEXITED(c->wait_status) ? WEXITSTATUS(c->wait_status) : -1, line[0] ? ": " : "",
                 line);
        return FLTSIM_EXPLORE_CRASH;
    }
    const struct fltsim_scenario_result *r = &c->msg.result;
    if (r->reports_unexpected != 0) {
        snprintf(detail, size, "%lu unexpected verifier report(s), the first %s",
                 (unsigned long)r->reports_unexpected, r->first_unexpected_report);
        return FLTSIM_EXPLORE_REPORT;
    }
    if (r->error) {
        /* A DriverEntry that fails on the fault and leaves nothing behind is
         * right: the filter refuses to load. */
        first_line(c->msg.log, line, sizeof(line));
        snprintf(detail, size, "%s%s",
                 r->filter_not_loaded ? "the filter refused to load: "
                                      : "the run could not be carried out: ",
                 line);
        return r->filter_not_loaded ? FLTSIM_EXPLORE_PASSED : FLTSIM_EXPLORE_ERROR;
    }
    if (r->statuses_unexplained != 0) {
        snprintf(detail, size, "%s", r->first_unexplained);
        return FLTSIM_EXPLORE_STATUS;
    }
    if (r->not_idle) {
        snprintf(detail, size, "the system did not become idle at the end of the run");
        return FLTSIM_EXPLORE_HANG;
    }
    return FLTSIM_EXPLORE_PASSED;
}

/* Appends arg to the command, single-quoted when it holds anything a shell
 * would interpret. */
static void append_arg(char *cmd, size_t size, const char *arg)
{
    size_t used = strlen(cmd);
    bool plain = arg[0] != '\0';
    for (const char *p = arg; *p && plain; p++)
        plain = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:,=+-",
                       *p) != NULL;
    if (plain) {
        snprintf(cmd + used, size - used, " %s", arg);
        return;
    }
    used += (size_t)snprintf(cmd + used, size - used, " '");
    for (const char *p = arg; *p && used + 5 < size; p++) {
        if (*p == '\'')
            used += (size_t)snprintf(cmd + used, size - used, "'\\''");
        else
            cmd[used++] = *p;
    }
    snprintf(cmd + used, size - used, "'");
}

static void reproduce(const struct fltsim_scenario *scenario,
                      const struct fltsim_explore_options *options,
                      const struct fltsim_explore_run *run, char *cmd, size_t size)
{
    char arg[64];
    snprintf(cmd, size, "%s", options->program ? options->program : "fltsim");
    append_arg(cmd, size, "run");
    append_arg(cmd, size, "--executor");
    append_arg(cmd, size, "deterministic");
    if (options->override_seed) {
        snprintf(arg, sizeof(arg), "%llu", (unsigned long long)options->seed);
        append_arg(cmd, size, "--seed");
        append_arg(cmd, size, arg);
    }
    for (size_t i = 0; i < options->verifier_disable_count; i++) {
        append_arg(cmd, size, "--verifier-disable");
        append_arg(cmd, size, options->verifier_disable[i]);
    }
    snprintf(arg, sizeof(arg), "%s:%llu", fltsim_fault_kind_name(run->fault.kind),
             (unsigned long long)run->fault.nth);
    append_arg(cmd, size, "--inject-fault");
    append_arg(cmd, size, arg);
    append_arg(cmd, size, options->scenario_arg ? options->scenario_arg : scenario->path);
}

NTSTATUS fltsim_explore(const struct fltsim_scenario *scenario,
                        const struct fltsim_explore_options *options, fltsim_explore_cb cb,
                        void *ctx, struct fltsim_explore_summary *summary)
{
    static const struct fltsim_explore_options no_options;
    if (scenario == NULL || summary == NULL)
        return STATUS_INVALID_PARAMETER;
    if (options == NULL)
        options = &no_options;
    memset(summary, 0, sizeof(*summary));

    struct child_outcome base;
    if (!run_child(scenario, options, NULL, &base)) {
        free(base.points);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    summary->baseline = judge(&base, summary->baseline_detail, sizeof(summary->baseline_detail));
    if (summary->baseline == FLTSIM_EXPLORE_PASSED && !NT_SUCCESS(base.msg.status)) {
        /* The baseline must meet every expectation, golden trace included. */
        summary->baseline = FLTSIM_EXPLORE_STATUS;
        first_line(base.msg.log, summary->baseline_detail, sizeof(summary->baseline_detail));
    }
    if (summary->baseline != FLTSIM_EXPLORE_PASSED) {
        free(base.points);
        return STATUS_UNSUCCESSFUL;
    }
    summary->points = base.msg.points;

    NTSTATUS status = STATUS_SUCCESS;
    for (ULONG64 i = 0; i < base.msg.points; i++) {
        struct fltsim_explore_run run;
        memset(&run, 0, sizeof(run));
        run.index = i;
        run.point = base.points[i];
        run.fault.kind = run.point.kind;
        run.fault.nth = run.point.kind_index + 1;
        struct child_outcome c;
        if (!run_child(scenario, options, &run.fault, &c)) {
            free(c.points);
            status = STATUS_INSUFFICIENT_RESOURCES;
            break;
        }
        free(c.points);
        run.outcome = judge(&c, run.detail, sizeof(run.detail));
        run.injected = c.got_msg && c.msg.result.faults_injected > 0;
        reproduce(scenario, options, &run, run.reproduce, sizeof(run.reproduce));
        summary->runs++;
        if (run.outcome != FLTSIM_EXPLORE_PASSED)
            summary->findings++;
        if (cb != NULL)
            cb(ctx, &run);
    }
    free(base.points);
    return status;
}
