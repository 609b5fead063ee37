/*
 * The normalized trace format (fltsim/trace.h), what golden files compare
 * against. One line per event: the type, then key=value fields in one fixed
 * order, each present only when the event type carries it. Nothing depends on
 * the run: operations and threads are renumbered in order of first
 * appearance, statuses are names, and pointers printed inside verifier
 * messages are masked. Strings are JSON-quoted so that every line splits the
 * same way whatever a file name holds.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "trace_internal.h"

/* The 1-based label of value, adding it when new; 0 when it cannot be added
 * (out of memory), which still writes a line, just not a stable one. */
static size_t label_of(struct fltsim__label_map *m, ULONG64 value)
{
    /* Newest first: events mostly belong to the latest operations. */
    for (size_t i = m->count; i > 0; i--) {
        if (m->values[i - 1] == value)
            return i;
    }
    if (m->count == m->capacity) {
        size_t cap = m->capacity ? m->capacity * 2 : 16;
        ULONG64 *grown = realloc(m->values, cap * sizeof(*grown));
        if (grown == NULL)
            return 0;
        m->values = grown;
        m->capacity = cap;
    }
    m->values[m->count++] = value;
    return m->count;
}

/* Writes a verifier message as a JSON string with every "0x" followed by more
 * than 8 hex digits (a %p pointer, never an NTSTATUS or a ULONG) as "0x?". */
static void put_masked(FILE *out, const char *s)
{
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        fltsim__trace_json_string(out, "(message dropped: out of memory)");
        return;
    }
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
            size_t k = i + 2;
            while (k < n && isxdigit((unsigned char)s[k]))
                k++;
            if (k - (i + 2) > 8) {
                memcpy(copy + j, "0x?", 3);
                j += 3;
                i = k;
                continue;
            }
        }
        copy[j++] = s[i++];
    }
    copy[j] = '\0';
    fltsim__trace_json_string(out, copy);
    free(copy);
}

static void put_field(FILE *out, const char *key, const char *value)
{
    if (value == NULL)
        return;
    fprintf(out, " %s=", key);
    fltsim__trace_json_string(out, value);
}

void fltsim__trace_normalized_event(struct fltsim_trace_sink *sink, const struct fltsim_event *ev)
{
    FILE *out = sink->out;
    struct fltsim__normalized_state *st = &sink->u.normalized;
    const char *type = fltsim__trace_type_name(ev->type);
    if (type != NULL)
        fputs(type, out);
    else
        fprintf(out, "type%d", (int)ev->type);
    if (ev->op_id != 0)
        fprintf(out, " op=%zu", label_of(&st->ops, ev->op_id));
    if (fltsim__trace_has_op(ev)) {
        const char *kind = fltsim__trace_kind_name(ev->kind);
        if (kind != NULL)
            fprintf(out, " kind=%s", kind);
        else
            fprintf(out, " kind=%d", (int)ev->kind);
        const char *major = fltsim_major_name(ev->major);
        if (major != NULL)
            fprintf(out, " major=%s", major);
        else
            fprintf(out, " major=0x%02X", (unsigned)ev->major);
        const char *minor = fltsim_minor_name(ev->major, ev->minor);
        if (minor != NULL)
            fprintf(out, " minor=%s", minor);
        else
            fprintf(out, " minor=0x%02X", (unsigned)ev->minor);
    }
    if (fltsim__trace_has_depth(ev))
        fprintf(out, " depth=%u", (unsigned)ev->depth);
    put_field(out, "filter", ev->filter);
    put_field(out, "instance", ev->instance);
    put_field(out, "altitude", ev->altitude);
    put_field(out, "volume", ev->volume);
    if (fltsim__trace_status_kind(ev) != FLTSIM__STATUS_NONE) {
        const char *name = fltsim__trace_status_name(ev);
        if (name != NULL)
            fprintf(out, " status=%s", name);
        else
            fprintf(out, " status=0x%08X", (unsigned)(ULONG)ev->status);
    }
    if (fltsim__trace_has_information(ev))
        fprintf(out, " information=%llu", (unsigned long long)ev->information);
    if (fltsim__trace_has_flags(ev))
        fprintf(out, " flags=0x%X", (unsigned)ev->flags);
    fprintf(out, " process=%u thread=T%zu irql=", (unsigned)ev->process_id,
            label_of(&st->threads, ev->thread_id));
    const char *irql = fltsim__trace_irql_name(ev->irql);
    if (irql != NULL)
        fputs(irql, out);
    else
        fprintf(out, "%u", (unsigned)ev->irql);
    if (ev->detail != NULL) {
        if (ev->type == FLTSIM_EV_REPORT) {
            fputs(" detail=", out);
            put_masked(out, ev->detail);
        } else {
            put_field(out, "detail", ev->detail);
        }
    }
    put_field(out, "rule", ev->rule);
    put_field(out, "name", ev->name);
    if (fltsim__trace_is_port(ev)) {
        put_field(out, "port", ev->port);
        if (fltsim__trace_has_message_id(ev))
            fprintf(out, " message=%llu", (unsigned long long)ev->message_id);
        fprintf(out, " in=%u out=%u", (unsigned)ev->in_size, (unsigned)ev->out_size);
    }
    if (fltsim__trace_is_ob(ev)) {
        const char *operation = fltsim__trace_ob_operation_name(ev->ob_operation);
        if (operation != NULL)
            fprintf(out, " operation=%s", operation);
        else
            fprintf(out, " operation=0x%X", (unsigned)ev->ob_operation);
        put_field(out, "object", ev->object_type);
        fprintf(out, " object_pid=%u desired=0x%X granted=0x%X", (unsigned)ev->object_process_id,
                (unsigned)ev->desired_access, (unsigned)ev->granted_access);
    }
    if (fltsim__trace_is_process(ev) || fltsim__trace_is_handle(ev))
        fprintf(out, " object=%u/%u", (unsigned)ev->object_process_id,
                (unsigned)ev->object_thread_id);
    if (ev->type == FLTSIM_EV_PROCESS_CREATE)
        fprintf(out, " parent=%u", (unsigned)ev->parent_process_id);
    if (fltsim__trace_is_handle(ev))
        fprintf(out, " table=%u desired=0x%X granted=0x%X", (unsigned)ev->table_process_id,
                (unsigned)ev->desired_access, (unsigned)ev->granted_access);
    fputc('\n', out);
}

void fltsim__trace_normalized_note(struct fltsim_trace_sink *sink, const char *text)
{
    fputs("# ", sink->out);
    fltsim__trace_json_escape(sink->out, text);
    fputc('\n', sink->out);
}

void fltsim__trace_normalized_free(struct fltsim_trace_sink *sink)
{
    free(sink->u.normalized.ops.values);
    free(sink->u.normalized.threads.values);
}
