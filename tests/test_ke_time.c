/*
 * Time for filter code (issue 15 item 4). Under both executors: the clock
 * tick and counter frequency, the coarse clocks (system time, interrupt
 * time, tick count) moving once per tick beside their precise forms, every
 * clock advancing with a delay and with KeStallExecutionProcessor, local
 * time in the simulated machine's time zone. Calendar conversions
 * (RtlTimeToTimeFields against the C library's proleptic Gregorian calendar,
 * RtlTimeFieldsToTime's validation). Under the deterministic executor only:
 * virtual time exactly (the machine boots at 2024-01-01 when the system is
 * created; a stall moves the clock without letting anything else run) and a
 * seed that replays the same readings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fltsim_test.h"

#define TICK 156250LL /* 100 ns units per clock tick */
#define MS 10000LL    /* 100 ns units per millisecond */

static void run_in_worker(fltsim_system *sys, void (*fn)(void *ctx), void *ctx)
{
    assert_status(fltsim_system_post_work(sys, fn, ctx), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(sys, 30000), STATUS_SUCCESS);
}

static void delay_ms(LONGLONG ms)
{
    LARGE_INTEGER interval = {.QuadPart = -ms * MS};
    assert_status(KeDelayExecutionThread(KernelMode, FALSE, &interval), STATUS_SUCCESS);
}

static LONGLONG precise_now(void)
{
    LARGE_INTEGER t;
    KeQuerySystemTimePrecise(&t);
    return t.QuadPart;
}

/* ---- under both executors ---- */

/* The clock tick is 15.625 ms and the performance counter runs at 10 MHz;
 * the tick count, the interrupt time and the counter agree with each other
 * to within a tick. */
static void clock_tick_and_counter_frequency(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    assert_int_equal(KeQueryTimeIncrement(), TICK);
    LARGE_INTEGER frequency = {.QuadPart = 0};
    LARGE_INTEGER counter = KeQueryPerformanceCounter(&frequency);
    assert_int_equal(frequency.QuadPart, 10000000);
    assert_true(KeQueryPerformanceCounter(NULL).QuadPart >= counter.QuadPart);
    LARGE_INTEGER ticks;
    KeQueryTickCount(&ticks);
    ULONGLONG interrupt = KeQueryInterruptTime();
    ULONG64 qpc = 0;
    ULONGLONG precise = KeQueryInterruptTimePrecise(&qpc);
    assert_true((ULONGLONG)ticks.QuadPart * TICK <= interrupt);
    assert_true(interrupt <= precise);
    assert_true(precise - interrupt < 2 * TICK);
    assert_int_equal(qpc, precise); /* the 10 MHz counter the reading came from */
    world_destroy(&w);
}

/* KeQuerySystemTime and KeQueryInterruptTime read the last clock tick: they
 * trail their precise forms by less than a tick and move in whole ticks. */
static void coarse_clocks_move_per_tick(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    for (int i = 0; i < 5; i++) {
        ULONGLONG coarse = KeQueryInterruptTime();
        assert_int_equal(coarse % TICK, 0);
        ULONG64 qpc;
        ULONGLONG precise = KeQueryInterruptTimePrecise(&qpc);
        assert_true(coarse <= precise);
        LARGE_INTEGER system;
        KeQuerySystemTime(&system);
        LONGLONG system_precise = precise_now();
        assert_true(system.QuadPart <= system_precise);
        assert_true(system_precise - system.QuadPart < 2 * TICK);
        delay_ms(7);
    }
    world_destroy(&w);
}

struct readings {
    LONGLONG system, counter, interrupt, ticks;
};

static void read_all(struct readings *r)
{
    r->system = precise_now();
    r->counter = KeQueryPerformanceCounter(NULL).QuadPart;
    ULONG64 qpc;
    r->interrupt = (LONGLONG)KeQueryInterruptTimePrecise(&qpc);
    LARGE_INTEGER ticks;
    KeQueryTickCount(&ticks);
    r->ticks = ticks.QuadPart;
}

/* Every clock moves with a 50 ms delay by at least 50 ms (virtual time under
 * the deterministic executor, real time otherwise), and with a 2 ms stall by
 * at least 2 ms. */
static void clocks_advance_with_delays_and_stalls(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct readings a, b, c;
    read_all(&a);
    delay_ms(50);
    read_all(&b);
    assert_true(b.system - a.system >= 50 * MS);
    assert_true(b.counter - a.counter >= 50 * MS);
    assert_true(b.interrupt - a.interrupt >= 50 * MS);
    assert_true(b.ticks - a.ticks >= 3); /* 50 ms is 3.2 ticks */
    KeStallExecutionProcessor(2000);
    read_all(&c);
    assert_true(c.counter - b.counter >= 2 * MS);
    assert_true(c.interrupt - b.interrupt >= 2 * MS);
    assert_true(c.system - b.system >= 2 * MS);
    world_destroy(&w);
}

struct zone_reading {
    LARGE_INTEGER system, local, back;
};

static void convert_in_worker(void *arg)
{
    struct zone_reading *z = arg;
    KeQuerySystemTime(&z->system);
    ExSystemTimeToLocalTime(&z->system, &z->local);
    ExLocalTimeToSystemTime(&z->local, &z->back);
}

/* The simulated machine's time zone is a system option: UTC by default,
 * here UTC+05:30 (bias -330) and UTC-08:00 (bias 480). Local time is system
 * time less the bias, and converting back gives the system time. A bias out
 * of Windows' range is refused. */
static void local_time_follows_the_time_zone_option(void **state)
{
    (void)state;
    static const LONG biases[] = {0, -330, 480};
    for (size_t i = 0; i < sizeof(biases) / sizeof(biases[0]); i++) {
        struct fltsim_system_options opts = test_options(0);
        opts.time_zone_bias = biases[i];
        fltsim_system *sys;
        assert_status(fltsim_system_create(&opts, &sys), STATUS_SUCCESS);
        struct zone_reading z;
        run_in_worker(sys, convert_in_worker, &z);
        assert_int_equal(z.system.QuadPart - z.local.QuadPart, (LONGLONG)biases[i] * 60 * 10000000);
        assert_int_equal(z.back.QuadPart, z.system.QuadPart);
        fltsim_system_destroy(sys);
    }
    struct fltsim_system_options opts = test_options(0);
    opts.time_zone_bias = 721;
    fltsim_system *sys = NULL;
    assert_status(fltsim_system_create(&opts, &sys), STATUS_INVALID_PARAMETER);
    assert_null(sys);
    opts.time_zone_bias = -841;
    assert_status(fltsim_system_create(&opts, &sys), STATUS_INVALID_PARAMETER);
}

/* ---- calendar ---- */

static void expect_fields(LONGLONG time, int year, int month, int day, int hour, int minute,
                          int second, int ms, int weekday)
{
    LARGE_INTEGER t = {.QuadPart = time};
    TIME_FIELDS f;
    memset(&f, 0x55, sizeof(f));
    RtlTimeToTimeFields(&t, &f);
    if (f.Year != year || f.Month != month || f.Day != day || f.Hour != hour ||
        f.Minute != minute || f.Second != second || f.Milliseconds != ms || f.Weekday != weekday)
        fail_msg("%lld: %d-%d-%d %d:%d:%d.%d wd %d, expected %d-%d-%d %d:%d:%d.%d wd %d",
                 (long long)time, f.Year, f.Month, f.Day, f.Hour, f.Minute, f.Second,
                 f.Milliseconds, f.Weekday, year, month, day, hour, minute, second, ms, weekday);
    LARGE_INTEGER back = {.QuadPart = -1};
    assert_true(RtlTimeFieldsToTime(&f, &back));
    assert_int_equal(back.QuadPart, time - time % MS); /* below a millisecond is dropped */
}

/* Known instants: the epoch (a Monday), 1970, a leap day, the last day of a
 * leap century year, the day after a non-leap century's February, the last
 * representable year. */
static void time_fields_of_known_instants(void **state)
{
    (void)state;
    expect_fields(0, 1601, 1, 1, 0, 0, 0, 0, 1);
    expect_fields(116444736000000000LL, 1970, 1, 1, 0, 0, 0, 0, 4);
    /* 2024-02-29 12:34:56.789 (a Thursday), with 0.4 ms more */
    expect_fields(133536836967894321LL, 2024, 2, 29, 12, 34, 56, 789, 4);
    expect_fields(126226944000000000LL, 2000, 12, 31, 0, 0, 0, 0, 0);
    expect_fields(94405824000000000LL, 1900, 3, 1, 0, 0, 0, 0, 4);
    expect_fields(2650467743999990000LL, 9999, 12, 31, 23, 59, 59, 999, 5);
}

/* Against the C library's calendar (proleptic Gregorian, negative time_t
 * before 1970): every 7 days 3 h 17 min 11 s from 1601 to 2500. */
static void time_fields_match_the_c_calendar(void **state)
{
    (void)state;
    const LONGLONG epoch_1970 = 11644473600LL; /* seconds from 1601 to 1970 */
    const LONGLONG step = 7 * 86400 + 3 * 3600 + 17 * 60 + 11;
    const LONGLONG end = 28369699200LL; /* 2500-01-01, seconds since 1601 */
    for (LONGLONG s = 0; s < end; s += step) {
        time_t unix_time = (time_t)(s - epoch_1970);
        struct tm tm;
        assert_non_null(gmtime_r(&unix_time, &tm));
        LARGE_INTEGER t = {.QuadPart = s * 10000000LL + 1234567};
        TIME_FIELDS f;
        RtlTimeToTimeFields(&t, &f);
        if (f.Year != tm.tm_year + 1900 || f.Month != tm.tm_mon + 1 || f.Day != tm.tm_mday ||
            f.Hour != tm.tm_hour || f.Minute != tm.tm_min || f.Second != tm.tm_sec ||
            f.Weekday != tm.tm_wday || f.Milliseconds != 123)
            fail_msg("second %lld: %d-%02d-%02d %02d:%02d:%02d wd %d, C library says "
                     "%d-%02d-%02d %02d:%02d:%02d wd %d",
                     (long long)s, f.Year, f.Month, f.Day, f.Hour, f.Minute, f.Second, f.Weekday,
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     tm.tm_wday);
        LARGE_INTEGER back;
        assert_true(RtlTimeFieldsToTime(&f, &back));
        assert_int_equal(back.QuadPart, s * 10000000LL + 1230000);
    }
}

static BOOLEAN fields_valid(int year, int month, int day, int hour, int minute, int second, int ms,
                            int weekday)
{
    TIME_FIELDS f = {(CSHORT)year,   (CSHORT)month,  (CSHORT)day, (CSHORT)hour,
                     (CSHORT)minute, (CSHORT)second, (CSHORT)ms,  (CSHORT)weekday};
    LARGE_INTEGER t = {.QuadPart = 42};
    BOOLEAN ok = RtlTimeFieldsToTime(&f, &t);
    if (!ok)
        assert_int_equal(t.QuadPart, 42); /* untouched on failure */
    return ok;
}

/* RtlTimeFieldsToTime refuses a field out of its range or a day the month
 * does not have, and ignores Weekday. */
static void time_fields_are_validated(void **state)
{
    (void)state;
    assert_true(fields_valid(2024, 2, 29, 0, 0, 0, 0, 0));
    assert_true(fields_valid(2024, 2, 29, 23, 59, 59, 999, 42)); /* weekday ignored */
    assert_true(fields_valid(1601, 1, 1, 0, 0, 0, 0, 0));
    assert_true(fields_valid(30827, 12, 31, 23, 59, 59, 999, 0));
    assert_false(fields_valid(2023, 2, 29, 0, 0, 0, 0, 0));
    assert_false(fields_valid(1900, 2, 29, 0, 0, 0, 0, 0));
    assert_false(fields_valid(2024, 4, 31, 0, 0, 0, 0, 0));
    assert_false(fields_valid(2024, 0, 1, 0, 0, 0, 0, 0));
    assert_false(fields_valid(2024, 13, 1, 0, 0, 0, 0, 0));
    assert_false(fields_valid(2024, 1, 0, 0, 0, 0, 0, 0));
    assert_false(fields_valid(2024, 1, 1, 24, 0, 0, 0, 0));
    assert_false(fields_valid(2024, 1, 1, 0, 60, 0, 0, 0));
    assert_false(fields_valid(2024, 1, 1, 0, 0, 60, 0, 0));
    assert_false(fields_valid(2024, 1, 1, 0, 0, 0, 1000, 0));
    assert_false(fields_valid(2024, 1, 1, -1, 0, 0, 0, 0));
    assert_false(fields_valid(1600, 12, 31, 0, 0, 0, 0, 0));
    assert_false(fields_valid(30828, 1, 1, 0, 0, 0, 0, 0));
}

struct negative {
    TIME_FIELDS f;
};

static void convert_negative(void *arg)
{
    struct negative *n = arg;
    LARGE_INTEGER t = {.QuadPart = -1};
    RtlTimeToTimeFields(&t, &n->f);
    KeQueryInterruptTimePrecise(NULL);
}

/* Times count from 1601: a negative one is reported (fltsim converts 0). So
 * is KeQueryInterruptTimePrecise without the place for its counter value. */
static void negative_time_is_reported(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct negative n;
    run_in_worker(w.sys, convert_negative, &n);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 2);
    assert_int_equal(n.f.Year, 1601);
    world_destroy(&w);
}

/* ---- deterministic executor only ---- */

static fltsim_system *det_system(ULONG64 seed)
{
    struct fltsim_system_options opts = {.executor = FLTSIM_EXECUTOR_DETERMINISTIC, .seed = seed};
    fltsim_system *sys;
    assert_status(fltsim_system_create(&opts, &sys), STATUS_SUCCESS);
    return sys;
}

/* Virtual time: the machine boots at 2024-01-01 00:00 UTC when the system is
 * created; a 1 ms delay moves every precise clock by exactly 1 ms while the
 * coarse ones stay on their tick; 20 ms more cross the first tick. */
static void virtual_clocks_are_exact(void **state)
{
    (void)state;
    fltsim_system *sys = det_system(1);
    expect_fields(precise_now(), 2024, 1, 1, 0, 0, 0, 0, 1);
    assert_int_equal(KeQueryInterruptTime(), 0);
    struct readings a, b;
    read_all(&a);
    LARGE_INTEGER coarse_before;
    KeQuerySystemTime(&coarse_before);
    delay_ms(1);
    read_all(&b);
    assert_int_equal(b.system - a.system, MS);
    assert_int_equal(b.counter - a.counter, MS);
    assert_int_equal(b.interrupt - a.interrupt, MS);
    LARGE_INTEGER coarse_after;
    KeQuerySystemTime(&coarse_after);
    assert_int_equal(coarse_after.QuadPart, coarse_before.QuadPart);
    assert_int_equal(KeQueryInterruptTime(), 0);
    assert_int_equal(b.ticks, 0);
    delay_ms(20); /* 21 ms: past the first tick */
    assert_int_equal(KeQueryInterruptTime(), TICK);
    KeQuerySystemTime(&coarse_after);
    assert_int_equal(coarse_after.QuadPart - coarse_before.QuadPart, TICK);
    LARGE_INTEGER ticks;
    KeQueryTickCount(&ticks);
    assert_int_equal(ticks.QuadPart, 1);
    fltsim_system_destroy(sys);
}

struct sleeper {
    KEVENT parked;
    LONGLONG woke_at;
    LONG ran;
};

static void sleeper_main(void *arg)
{
    struct sleeper *s = arg;
    KeSetEvent(&s->parked, IO_NO_INCREMENT, FALSE);
    delay_ms(1);
    s->woke_at = (LONGLONG)KeQueryPerformanceCounter(NULL).QuadPart;
}

static void bystander_main(void *arg)
{
    struct sleeper *s = arg;
    s->ran = 1;
}

/* A stall is a busy wait: virtual time moves by exactly its length, no other
 * thread runs meanwhile (a ready one stays ready), and a timed wait that
 * expired during it ends when the stall does. */
static void stall_moves_virtual_time_without_switching(void **state)
{
    (void)state;
    fltsim_system *sys = det_system(2);
    struct sleeper s;
    memset(&s, 0, sizeof(s));
    KeInitializeEvent(&s.parked, NotificationEvent, FALSE);
    fltsim_thread *sleeper, *bystander;
    assert_status(fltsim_thread_spawn(sys, 1000, 4001, sleeper_main, &s, &sleeper), STATUS_SUCCESS);
    /* The sleeper runs until it parks in its 1 ms delay. */
    KeWaitForSingleObject(&s.parked, Executive, KernelMode, FALSE, NULL);
    LONGLONG start = KeQueryPerformanceCounter(NULL).QuadPart;
    assert_status(fltsim_thread_spawn(sys, 1000, 4002, bystander_main, &s, &bystander),
                  STATUS_SUCCESS);
    KeStallExecutionProcessor(5000);
    assert_int_equal(KeQueryPerformanceCounter(NULL).QuadPart - start, 5 * MS);
    assert_int_equal(s.ran, 0);
    assert_int_equal(s.woke_at, 0);
    fltsim_thread_join(sleeper);
    fltsim_thread_join(bystander);
    assert_int_equal(s.ran, 1);
    assert_int_equal(s.woke_at - start, 5 * MS); /* not at its 1 ms deadline */
    fltsim_system_destroy(sys);
}

struct timed {
    LONGLONG at[6];
};

static void timed_main(void *arg)
{
    struct timed *t = arg;
    for (int i = 0; i < 6; i++) {
        LARGE_INTEGER d = {.QuadPart = -(LONGLONG)(i + 1) * 3 * MS};
        KeDelayExecutionThread(KernelMode, FALSE, &d);
        KeStallExecutionProcessor(100);
        t->at[i] = KeQueryPerformanceCounter(NULL).QuadPart;
    }
}

static void run_timed(ULONG64 seed, struct timed out[3])
{
    fltsim_system *sys = det_system(seed);
    memset(out, 0, 3 * sizeof(*out));
    fltsim_thread *t[3];
    for (int i = 0; i < 3; i++)
        assert_status(fltsim_thread_spawn(sys, 1000, 4001 + (ULONG)i, timed_main, &out[i], &t[i]),
                      STATUS_SUCCESS);
    for (int i = 0; i < 3; i++)
        fltsim_thread_join(t[i]);
    fltsim_system_destroy(sys);
}

/* A seed replays the same clock readings. */
static void seed_replays_the_same_readings(void **state)
{
    (void)state;
    struct timed first[3], again[3];
    run_timed(11, first);
    run_timed(11, again);
    assert_memory_equal(first, again, sizeof(first));
    assert_true(first[0].at[5] > first[0].at[0]);
}

int main(void)
{
    const struct CMUnitTest both[] = {
        cmocka_unit_test(clock_tick_and_counter_frequency),
        cmocka_unit_test(coarse_clocks_move_per_tick),
        cmocka_unit_test(clocks_advance_with_delays_and_stalls),
        cmocka_unit_test(local_time_follows_the_time_zone_option),
        cmocka_unit_test(negative_time_is_reported),
    };
    const struct CMUnitTest once[] = {
        cmocka_unit_test(time_fields_of_known_instants),
        cmocka_unit_test(time_fields_match_the_c_calendar),
        cmocka_unit_test(time_fields_are_validated),
        cmocka_unit_test(virtual_clocks_are_exact),
        cmocka_unit_test(stall_moves_virtual_time_without_switching),
        cmocka_unit_test(seed_replays_the_same_readings),
    };
    int failed = FLTSIM_RUN_SUITE("ke_time", both);
    failed +=
        cmocka_run_group_tests_name("ke_time (calendar; deterministic only)", once, NULL, NULL);
    return failed;
}
