/*
 * From one CSV row or XML <event> (text fields) to a fltsim_capture_event:
 * shared by capture_csv.c and capture_xml.c, which own the syntax and hand
 * over the fields by column. Numbers and times are read with the locale
 * tolerance of TRACES.md 1.3; file-system events get their operation table
 * entry and their Detail decoded.
 */
#include <stdlib.h>
#include <string.h>

#include "capture_internal.h"

const char *const fltsim__capture_column_names[CAPTURE_COL_COUNT] = {
    [CAPTURE_COL_TIME] = "Time of Day",  [CAPTURE_COL_PROCESS] = "Process Name",
    [CAPTURE_COL_PID] = "PID",           [CAPTURE_COL_OPERATION] = "Operation",
    [CAPTURE_COL_PATH] = "Path",         [CAPTURE_COL_RESULT] = "Result",
    [CAPTURE_COL_DETAIL] = "Detail",     [CAPTURE_COL_TID] = "TID",
    [CAPTURE_COL_CLASS] = "Event Class", [CAPTURE_COL_DURATION] = "Duration",
};

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The class when the capture has no Event Class column (or an unfamiliar,
 * e.g. localized, value): from the operation name. */
static enum fltsim_capture_class class_of_operation(const char *operation)
{
    if (fltsim_capture_op_by_name(operation) != NULL)
        return FLTSIM_CAPTURE_CLASS_FILE_SYSTEM;
    if (starts_with(operation, "Reg"))
        return FLTSIM_CAPTURE_CLASS_REGISTRY;
    if (starts_with(operation, "Process ") || starts_with(operation, "Thread ") ||
        strcmp(operation, "Load Image") == 0 || strcmp(operation, "System Statistics") == 0)
        return strstr(operation, "Profiling") != NULL ? FLTSIM_CAPTURE_CLASS_PROFILING
                                                      : FLTSIM_CAPTURE_CLASS_PROCESS;
    if (starts_with(operation, "TCP ") || starts_with(operation, "UDP "))
        return FLTSIM_CAPTURE_CLASS_NETWORK;
    if (strstr(operation, "Profiling") != NULL)
        return FLTSIM_CAPTURE_CLASS_PROFILING;
    return FLTSIM_CAPTURE_CLASS_UNKNOWN;
}

static enum fltsim_capture_class class_of(const char *text, const char *operation)
{
    static const struct {
        const char *name;
        enum fltsim_capture_class value;
    } names[] = {
        {"File System", FLTSIM_CAPTURE_CLASS_FILE_SYSTEM},
        {"Registry", FLTSIM_CAPTURE_CLASS_REGISTRY},
        {"Process", FLTSIM_CAPTURE_CLASS_PROCESS},
        {"Network", FLTSIM_CAPTURE_CLASS_NETWORK},
        {"Profiling", FLTSIM_CAPTURE_CLASS_PROFILING},
    };
    if (text != NULL)
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcmp(text, names[i].name) == 0)
                return names[i].value;
    return class_of_operation(operation);
}

static bool parse_u32(const char *s, uint32_t *value)
{
    int64_t v;
    if (!fltsim__capture_parse_int(s, strlen(s), &v) || v < 0 || v > 0xFFFFFFFF)
        return false;
    *value = (uint32_t)v;
    return true;
}

/* Text for an error message: at most 40 bytes of it. */
#define SHOW(s) (int)(strlen(s) > 40 ? 40 : strlen(s)), (s), (strlen(s) > 40 ? "..." : "")

int fltsim__capture_row_event(struct fltsim_capture *cap, const struct capture_row *row,
                              struct fltsim_capture_event *ev, char **strings, size_t *strings_size)
{
    const char *const *f = row->field;
    unsigned long long n = (unsigned long long)row->index + 1;
    unsigned long long line = (unsigned long long)row->line;
    memset(ev, 0, sizeof(*ev));
    ev->index = row->index;
    ev->line = row->line;
    ev->offset = row->offset;
    ev->operation = f[CAPTURE_COL_OPERATION];
    ev->path = f[CAPTURE_COL_PATH] != NULL ? f[CAPTURE_COL_PATH] : "";
    ev->process_name = f[CAPTURE_COL_PROCESS] != NULL ? f[CAPTURE_COL_PROCESS] : "";
    ev->detail = f[CAPTURE_COL_DETAIL] != NULL ? f[CAPTURE_COL_DETAIL] : "";
    ev->result_text = f[CAPTURE_COL_RESULT] != NULL ? f[CAPTURE_COL_RESULT] : "";
    ev->sub = -1;

    if (f[CAPTURE_COL_PID] != NULL && !parse_u32(f[CAPTURE_COL_PID], &ev->pid))
        return fltsim__capture_fail(cap, "row %llu (line %llu): PID \"%.*s%s\" is not a number", n,
                                    line, SHOW(f[CAPTURE_COL_PID]));
    if (f[CAPTURE_COL_TID] != NULL && f[CAPTURE_COL_TID][0] != '\0' &&
        !parse_u32(f[CAPTURE_COL_TID], &ev->tid))
        return fltsim__capture_fail(cap, "row %llu (line %llu): TID \"%.*s%s\" is not a number", n,
                                    line, SHOW(f[CAPTURE_COL_TID]));
    if (!fltsim_capture_status_parse(ev->result_text, &ev->result))
        return fltsim__capture_fail(
            cap, "row %llu (line %llu): Result \"%.*s%s\" is not a ProcMon status name or 0x code",
            n, line, SHOW(ev->result_text));
    ev->has_result = ev->result_text[0] != '\0';
    const char *duration = f[CAPTURE_COL_DURATION];
    if (duration != NULL && duration[0] != '\0') {
        if (!fltsim__capture_parse_seconds(duration, strlen(duration), &ev->duration_100ns))
            return fltsim__capture_fail(
                cap, "row %llu (line %llu): Duration \"%.*s%s\" is not a number of seconds", n,
                line, SHOW(duration));
        ev->has_duration = true;
    }
    const char *time = f[CAPTURE_COL_TIME];
    if (time != NULL && time[0] != '\0') {
        if (!fltsim__capture_parse_time_of_day(time, strlen(time), &ev->time_of_day_100ns))
            return fltsim__capture_fail(
                cap, "row %llu (line %llu): Time of Day \"%.*s%s\" is not a time", n, line,
                SHOW(time));
        ev->has_time_of_day = true;
    }

    ev->event_class = class_of(f[CAPTURE_COL_CLASS], ev->operation);
    if (ev->event_class != FLTSIM_CAPTURE_CLASS_FILE_SYSTEM)
        return 1;
    ev->op = fltsim_capture_op_by_name(ev->operation);
    if (ev->op == NULL)
        return 1; /* "<Unknown>" and names we do not know: no parameters */
    ev->sub = ev->op->sub;
    /* the decoded strings are at most as long as the Detail */
    size_t need = strlen(ev->detail) + 1;
    if (*strings_size < need) {
        size_t size = *strings_size < 256 ? 256 : *strings_size;
        while (size < need)
            size *= 2;
        char *grown = realloc(*strings, size);
        if (grown == NULL)
            return fltsim__capture_fail(cap, "row %llu (line %llu): out of memory", n, line);
        *strings = grown;
        *strings_size = size;
    }
    char problem[200];
    if (!fltsim_capture_detail_parse(ev->op, ev->detail, &ev->params, *strings, *strings_size,
                                     problem, sizeof(problem)))
        return fltsim__capture_fail(cap, "row %llu (line %llu): %s", n, line, problem);
    return 1;
}
