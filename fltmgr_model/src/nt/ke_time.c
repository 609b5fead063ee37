/*
 * Time for filter code (issue 15 item 4): the system time, interrupt time,
 * tick count and performance counter (Ke), the busy wait
 * KeStallExecutionProcessor, the calendar conversions RtlTimeToTimeFields and
 * RtlTimeFieldsToTime, and local time in the simulated machine's time zone
 * (Ex). Every clock derives from one source: the executor's monotonic time
 * (fltsim__now_ns), virtual under the deterministic executor, so that a seed
 * replays the same readings, and the host's clocks otherwise. Waits and their
 * timeouts are ke_wait.c's.
 */
#include "nt_internal.h"

/* 100 ns units between 1601-01-01 and 1970-01-01. */
#define EPOCH_1601_TO_1970 116444736000000000ULL
/* Under the deterministic executor the machine boots (interrupt time 0) at
 * 2024-01-01 00:00 UTC. */
#define VIRTUAL_EPOCH 133485408000000000ULL
/* The clock tick, in 100 ns units (KeQueryTimeIncrement): 15.625 ms, the
 * interval Windows' clock interrupt runs at by default. */
#define TIME_INCREMENT 156250u
/* The performance counter counts 100 ns units (10 MHz), as on most x64
 * Windows machines. */
#define PERFORMANCE_FREQUENCY 10000000LL

#define TICKS_PER_MS 10000LL
#define TICKS_PER_SECOND 10000000LL
#define TICKS_PER_DAY (86400LL * TICKS_PER_SECOND)

/* ---- clocks ---- */

/* Interrupt time (100 ns units since "boot": the executor's start under the
 * deterministic executor, the host's boot otherwise), to the 100 ns. */
static ULONG64 interrupt_time_precise(void)
{
    return fltsim__now_ns() / 100;
}

LONGLONG fltsim__system_time_precise(void)
{
    if (fltsim__is_deterministic())
        return (LONGLONG)(VIRTUAL_EPOCH + interrupt_time_precise());
    uv_timeval64_t tv;
    if (uv_gettimeofday(&tv) != 0)
        return (LONGLONG)EPOCH_1601_TO_1970;
    return (LONGLONG)(EPOCH_1601_TO_1970 + (ULONG64)tv.tv_sec * 10000000ULL +
                      (ULONG64)tv.tv_usec * 10);
}

/* The coarse clocks (KeQuerySystemTime, KeQueryInterruptTime, the tick
 * count) move once per clock tick, as Windows updates them from its clock
 * interrupt: they read the time of the last tick. */
void KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    ULONG64 since_tick = interrupt_time_precise() % TIME_INCREMENT;
    CurrentTime->QuadPart = fltsim__system_time_precise() - (LONGLONG)since_tick;
}

void KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime)
{
    CurrentTime->QuadPart = fltsim__system_time_precise();
}

ULONGLONG KeQueryInterruptTime(void)
{
    ULONG64 now = interrupt_time_precise();
    return now - now % TIME_INCREMENT;
}

ULONGLONG KeQueryInterruptTimePrecise(PULONG64 QpcTimeStamp)
{
    ULONG64 now = interrupt_time_precise();
    /* The counter runs at 10 MHz: the same reading is the counter value the
     * interrupt time was interpolated from. */
    if (QpcTimeStamp != NULL)
        *QpcTimeStamp = now;
    else
        fltsim__ke_report("KE", "-", "KeQueryInterruptTimePrecise with a NULL QpcTimeStamp");
    return now;
}

void KeQueryTickCount(PLARGE_INTEGER CurrentCount)
{
    CurrentCount->QuadPart = (LONGLONG)(interrupt_time_precise() / TIME_INCREMENT);
}

ULONG KeQueryTimeIncrement(void)
{
    return TIME_INCREMENT;
}

LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    LARGE_INTEGER counter;
    counter.QuadPart = (LONGLONG)interrupt_time_precise();
    if (PerformanceFrequency != NULL)
        PerformanceFrequency->QuadPart = PERFORMANCE_FREQUENCY;
    return counter;
}

void KeStallExecutionProcessor(ULONG MicroSeconds)
{
    ULONG64 ns = (ULONG64)MicroSeconds * 1000;
    struct fltsim_sthread *self = fltsim__current_sthread();
    if (self->kind == FLTSIM_STHREAD_COROUTINE) {
        /* Virtual time passes for the stalled thread, and nothing else runs
         * meanwhile: a busy wait keeps its processor (and any spin lock). */
        fltsim__det_advance(self, ns);
        return;
    }
    ULONG64 until = uv_hrtime() + ns;
    while (uv_hrtime() < until) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

/* ---- calendar ---- */

static bool is_leap(LONG year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static const UCHAR month_days[2][12] = {
    {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31},
    {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31},
};

#define DAYS_PER_400_YEARS 146097
#define DAYS_PER_100_YEARS 36524
#define DAYS_PER_4_YEARS 1461
/* The last year whose every instant fits a LARGE_INTEGER time. */
#define LAST_YEAR 30827

VOID RtlTimeToTimeFields(PLARGE_INTEGER Time, PTIME_FIELDS TimeFields)
{
    LONGLONG t = Time->QuadPart;
    if (t < 0) {
        fltsim__ke_report("KE", "-",
                          "RtlTimeToTimeFields of a negative time (%lld); times count from "
                          "1601-01-01, fltsim converts 0",
                          (long long)t);
        t = 0;
    }
    LONGLONG days = t / TICKS_PER_DAY;
    LONGLONG rest = t % TICKS_PER_DAY;
    /* 1601-01-01 was a Monday and starts a 400-year Gregorian cycle. */
    TimeFields->Weekday = (CSHORT)((days + 1) % 7);
    LONGLONG cycles = days / DAYS_PER_400_YEARS;
    LONG d = (LONG)(days % DAYS_PER_400_YEARS);
    LONG centuries = d / DAYS_PER_100_YEARS;
    if (centuries == 4) /* the last day of a leap 400th year */
        centuries = 3;
    d -= centuries * DAYS_PER_100_YEARS;
    LONG quads = d / DAYS_PER_4_YEARS;
    d -= quads * DAYS_PER_4_YEARS;
    LONG years = d / 365;
    if (years == 4) /* the last day of a leap year */
        years = 3;
    d -= years * 365;
    LONG year = (LONG)(1601 + cycles * 400 + centuries * 100 + quads * 4 + years);
    const UCHAR *lengths = month_days[is_leap(year)];
    LONG month = 0;
    while (d >= lengths[month])
        d -= lengths[month++];
    TimeFields->Year = (CSHORT)year;
    TimeFields->Month = (CSHORT)(month + 1);
    TimeFields->Day = (CSHORT)(d + 1);
    TimeFields->Hour = (CSHORT)(rest / (3600 * TICKS_PER_SECOND));
    rest %= 3600 * TICKS_PER_SECOND;
    TimeFields->Minute = (CSHORT)(rest / (60 * TICKS_PER_SECOND));
    rest %= 60 * TICKS_PER_SECOND;
    TimeFields->Second = (CSHORT)(rest / TICKS_PER_SECOND);
    rest %= TICKS_PER_SECOND;
    TimeFields->Milliseconds = (CSHORT)(rest / TICKS_PER_MS);
}

BOOLEAN RtlTimeFieldsToTime(PTIME_FIELDS TimeFields, PLARGE_INTEGER Time)
{
    const TIME_FIELDS *f = TimeFields;
    /* Every field in its range (Weekday is ignored), the date a real one. */
    if (f->Year < 1601 || f->Year > LAST_YEAR || f->Month < 1 || f->Month > 12 || f->Day < 1 ||
        f->Day > month_days[is_leap(f->Year)][f->Month - 1] || f->Hour < 0 || f->Hour > 23 ||
        f->Minute < 0 || f->Minute > 59 || f->Second < 0 || f->Second > 59 || f->Milliseconds < 0 ||
        f->Milliseconds > 999)
        return FALSE;
    LONGLONG y = f->Year - 1601;
    LONGLONG days = y * 365 + y / 4 - y / 100 + y / 400;
    for (LONG m = 0; m < f->Month - 1; m++)
        days += month_days[is_leap(f->Year)][m];
    days += f->Day - 1;
    Time->QuadPart = days * TICKS_PER_DAY + f->Hour * 3600 * TICKS_PER_SECOND +
                     f->Minute * 60 * TICKS_PER_SECOND + f->Second * TICKS_PER_SECOND +
                     f->Milliseconds * TICKS_PER_MS;
    return TRUE;
}

/* ---- the time zone ---- */

/* The bias (minutes, UTC = local + bias) of the simulated machine the
 * calling thread belongs to: the system whose code it runs (filter
 * callbacks, work items, completions), or, under the deterministic
 * executor, the system that executor runs. A thread of no system (a test's
 * own thread or requestor on the concurrent executor, outside any call into
 * a filter) converts as UTC. */
static LONGLONG time_zone_bias_ticks(void)
{
    struct fltsim_sthread *t = fltsim__current_sthread();
    fltsim_system *sys = t->tls.sys;
    if (sys == NULL && t->kind == FLTSIM_STHREAD_COROUTINE && t->executor != NULL)
        sys = t->executor->sys;
    return sys != NULL ? (LONGLONG)sys->time_zone_bias * 60 * TICKS_PER_SECOND : 0;
}

VOID ExSystemTimeToLocalTime(PLARGE_INTEGER SystemTime, PLARGE_INTEGER LocalTime)
{
    LocalTime->QuadPart = SystemTime->QuadPart - time_zone_bias_ticks();
}

VOID ExLocalTimeToSystemTime(PLARGE_INTEGER LocalTime, PLARGE_INTEGER SystemTime)
{
    SystemTime->QuadPart = LocalTime->QuadPart + time_zone_bias_ticks();
}
