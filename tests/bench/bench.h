/*
 * fltsim's benchmarks (issue 7): private to tests/bench/. Each section
 * measures one hot path of fltsim and, in the same run on the same machine,
 * the fastest way to do the same work without fltsim (its baseline), and
 * prints the ratio. Figures are printed, never asserted.
 *
 * Result lines are for scripts: one per figure, space-separated key=value
 * fields after the word "bench", e.g.
 *
 *   bench name=dispatch_3 unit=ns/op value=412.0 baseline=bare_chain_3
 *     baseline_value=95.1 ratio=4.33 target=<=5 met=yes runs=5
 *
 * ratio is always value / baseline_value; target says which side is good.
 */
#ifndef FLTSIM_BENCH_H
#define FLTSIM_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_opts {
    int runs;               /* repetitions; the median is reported (odd is best) */
    double scale;           /* 1.0: full counts; the ctest smoke run uses a tiny scale */
    const char *traces_dir; /* directory holding the Process Monitor captures */
    bool verbose;           /* each run's figures on stderr too */
};

/* Monotonic time in nanoseconds. */
uint64_t bench_now_ns(void);

/* Median of n values (sorts v in place). n >= 1. */
double bench_median(double *v, int n);

/* count scaled by opts->scale, at least minimum. */
uint64_t bench_count(const struct bench_opts *opts, uint64_t count, uint64_t minimum);

/* The direction a target points: the ratio must be at most (LE) or at least
 * (GE) target; NONE for figures reported without a target. */
enum bench_goal { BENCH_NONE, BENCH_LE, BENCH_GE };

/* Prints one result line on stdout (see above). baseline may be NULL for a
 * figure compared with an absolute target, in which case the ratio is
 * value / target and target is printed with its unit. */
void bench_report(const struct bench_opts *opts, const char *name, const char *unit,
                  double value, const char *baseline, double baseline_value,
                  enum bench_goal goal, double target);

/* The sections. Each returns 0, or 1 after printing why it could not run
 * (on stderr, naming the section). A section that cannot find its input
 * (the captures) prints "bench name=... skipped=REASON" and returns 0. */
int bench_dispatch(const struct bench_opts *opts);
int bench_names(const struct bench_opts *opts);
int bench_pend(const struct bench_opts *opts);
int bench_replay(const struct bench_opts *opts);
int bench_scaling(const struct bench_opts *opts);
int bench_context(const struct bench_opts *opts);
int bench_fltio(const struct bench_opts *opts);
int bench_port(const struct bench_opts *opts);

/* The pend section's round trip, shared with the port section as its
 * baseline: microseconds per synchronous read whose post callback pends it
 * and a deferred I/O work item completes it (concurrent executor), after a
 * tenth as many to warm up; < 0 after printing why on failure. */
double bench_pend_round_trip_us(uint64_t ops);

#endif /* FLTSIM_BENCH_H */
