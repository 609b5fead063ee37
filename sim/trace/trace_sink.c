/*
 * Trace sinks (fltsim/trace.h): creating and freeing them, routing events and
 * notes to the format that writes them, the tee, and what the formats share:
 * the stable names of event types, kinds and IRQLs, which fields each event
 * type carries, and JSON string escaping. The formats themselves live in
 * trace_text.c, trace_jsonl.c, trace_mermaid.c and trace_normalized.c.
 */
#include <stdlib.h>
#include <string.h>

#include "trace_internal.h"

static const char *const format_names[] = {"text", "jsonl", "mermaid", "normalized"};
#define FORMAT_COUNT (sizeof(format_names) / sizeof(format_names[0]))

const char *fltsim_trace_format_name(enum fltsim_trace_format format)
{
    if ((unsigned)format >= FORMAT_COUNT)
        return NULL;
    return format_names[format];
}

bool fltsim_trace_format_parse(const char *name, enum fltsim_trace_format *out)
{
    if (name == NULL || out == NULL)
        return false;
    for (size_t i = 0; i < FORMAT_COUNT; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *out = (enum fltsim_trace_format)i;
            return true;
        }
    }
    return false;
}

NTSTATUS fltsim_trace_sink_create(enum fltsim_trace_format format, FILE *out, ULONG flags,
                                  struct fltsim_trace_sink **sink)
{
    if (sink == NULL)
        return STATUS_INVALID_PARAMETER;
    *sink = NULL;
    if (out == NULL || (unsigned)format >= FORMAT_COUNT || (flags & ~FLTSIM_TRACE_SHOW_THREADS))
        return STATUS_INVALID_PARAMETER;
    struct fltsim_trace_sink *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    s->format = format;
    s->out = out;
    s->flags = flags;
    *sink = s;
    return STATUS_SUCCESS;
}

void fltsim_trace_sink_event(void *ctx, const struct fltsim_event *event)
{
    struct fltsim_trace_sink *sink = ctx;
    if (sink == NULL || event == NULL || sink->finished)
        return;
    switch (sink->format) {
    case FLTSIM_TRACE_TEXT:
        fltsim__trace_text_event(sink, event);
        break;
    case FLTSIM_TRACE_JSONL:
        fltsim__trace_jsonl_event(sink, event);
        break;
    case FLTSIM_TRACE_MERMAID:
        fltsim__trace_mermaid_event(sink, event);
        break;
    case FLTSIM_TRACE_NORMALIZED:
        fltsim__trace_normalized_event(sink, event);
        break;
    }
}

void fltsim_trace_sink_note(struct fltsim_trace_sink *sink, const char *text)
{
    if (sink == NULL || text == NULL || sink->finished)
        return;
    switch (sink->format) {
    case FLTSIM_TRACE_TEXT:
        fltsim__trace_text_note(sink, text);
        break;
    case FLTSIM_TRACE_JSONL:
        fltsim__trace_jsonl_note(sink, text);
        break;
    case FLTSIM_TRACE_MERMAID:
        fltsim__trace_mermaid_note(sink, text);
        break;
    case FLTSIM_TRACE_NORMALIZED:
        fltsim__trace_normalized_note(sink, text);
        break;
    }
}

NTSTATUS fltsim_trace_sink_finish(struct fltsim_trace_sink *sink)
{
    if (sink == NULL)
        return STATUS_INVALID_PARAMETER;
    if (sink->finished)
        return sink->finish_status;
    sink->finished = true;
    NTSTATUS status = STATUS_SUCCESS;
    if (sink->format == FLTSIM_TRACE_MERMAID) {
        fltsim__trace_mermaid_write(sink);
        if (sink->u.mermaid.lost)
            status = STATUS_INSUFFICIENT_RESOURCES;
    }
    if (fflush(sink->out) != 0 || ferror(sink->out))
        status = STATUS_UNSUCCESSFUL;
    sink->finish_status = status;
    return status;
}

void fltsim_trace_sink_destroy(struct fltsim_trace_sink *sink)
{
    if (sink == NULL)
        return;
    if (sink->format == FLTSIM_TRACE_MERMAID)
        fltsim__trace_mermaid_free(sink);
    else if (sink->format == FLTSIM_TRACE_NORMALIZED)
        fltsim__trace_normalized_free(sink);
    free(sink);
}

/* ---- tee ---- */

void fltsim_trace_tee_event(void *ctx, const struct fltsim_event *event)
{
    struct fltsim_trace_tee *tee = ctx;
    if (tee == NULL)
        return;
    for (int i = 0; i < FLTSIM_TRACE_TEE_MAX; i++)
        fltsim_trace_sink_event(tee->sinks[i], event);
}

void fltsim_trace_tee_note(struct fltsim_trace_tee *tee, const char *text)
{
    if (tee == NULL)
        return;
    for (int i = 0; i < FLTSIM_TRACE_TEE_MAX; i++)
        fltsim_trace_sink_note(tee->sinks[i], text);
}

NTSTATUS fltsim_trace_tee_finish(struct fltsim_trace_tee *tee)
{
    if (tee == NULL)
        return STATUS_INVALID_PARAMETER;
    NTSTATUS first = STATUS_SUCCESS;
    for (int i = 0; i < FLTSIM_TRACE_TEE_MAX; i++) {
        if (tee->sinks[i] == NULL)
            continue;
        NTSTATUS st = fltsim_trace_sink_finish(tee->sinks[i]);
        if (NT_SUCCESS(first) && !NT_SUCCESS(st))
            first = st;
    }
    return first;
}

/* ---- names and field rules shared by the formats ---- */

const char *fltsim__trace_type_name(enum fltsim_event_type type)
{
    switch (type) {
    case FLTSIM_EV_IO_START:
        return "io_start";
    case FLTSIM_EV_IO_COMPLETE:
        return "io_complete";
    case FLTSIM_EV_PRE:
        return "pre";
    case FLTSIM_EV_PRE_RETURN:
        return "pre_return";
    case FLTSIM_EV_POST:
        return "post";
    case FLTSIM_EV_POST_RETURN:
        return "post_return";
    case FLTSIM_EV_FS:
        return "fs";
    case FLTSIM_EV_FS_RETURN:
        return "fs_return";
    case FLTSIM_EV_INSTANCE_SETUP:
        return "instance_setup";
    case FLTSIM_EV_QUERY_TEARDOWN:
        return "query_teardown";
    case FLTSIM_EV_TEARDOWN_START:
        return "teardown_start";
    case FLTSIM_EV_TEARDOWN_COMPLETE:
        return "teardown_complete";
    case FLTSIM_EV_FILTER_UNLOAD:
        return "filter_unload";
    case FLTSIM_EV_REPORT:
        return "report";
    case FLTSIM_EV_PEND:
        return "pend";
    case FLTSIM_EV_RESUME:
        return "resume";
    case FLTSIM_EV_WORK_QUEUED:
        return "work_queued";
    case FLTSIM_EV_WORK_RUN:
        return "work_run";
    case FLTSIM_EV_STATUS_CALLBACK:
        return "status_callback";
    case FLTSIM_EV_CONTEXT_SET:
        return "context_set";
    case FLTSIM_EV_CONTEXT_CLEANUP:
        return "context_cleanup";
    case FLTSIM_EV_NAME_QUERY:
        return "name_query";
    case FLTSIM_EV_PORT_CONNECT:
        return "port_connect";
    case FLTSIM_EV_PORT_DISCONNECT:
        return "port_disconnect";
    case FLTSIM_EV_PORT_MESSAGE:
        return "port_message";
    case FLTSIM_EV_PORT_SEND:
        return "port_send";
    case FLTSIM_EV_PORT_GET:
        return "port_get";
    case FLTSIM_EV_PORT_REPLY:
        return "port_reply";
    case FLTSIM_EV_OB_PRE:
        return "ob_pre";
    case FLTSIM_EV_OB_POST:
        return "ob_post";
    case FLTSIM_EV_PROCESS_CREATE:
        return "process_create";
    case FLTSIM_EV_PROCESS_EXIT:
        return "process_exit";
    case FLTSIM_EV_HANDLE_OPEN:
        return "handle_open";
    case FLTSIM_EV_HANDLE_DUPLICATE:
        return "handle_duplicate";
    }
    return NULL;
}

const char *fltsim__trace_kind_name(enum fltsim_op_kind kind)
{
    switch (kind) {
    case FLTSIM_OP_IRP:
        return "irp";
    case FLTSIM_OP_FAST_IO:
        return "fast_io";
    case FLTSIM_OP_FS_FILTER:
        return "fs_filter";
    }
    return NULL;
}

const char *fltsim__trace_irql_name(KIRQL irql)
{
    switch (irql) {
    case PASSIVE_LEVEL:
        return "PASSIVE_LEVEL";
    case APC_LEVEL:
        return "APC_LEVEL";
    case DISPATCH_LEVEL:
        return "DISPATCH_LEVEL";
    case HIGH_LEVEL:
        return "HIGH_LEVEL";
    }
    return NULL;
}

bool fltsim__trace_has_op(const struct fltsim_event *ev)
{
    switch (ev->type) {
    case FLTSIM_EV_IO_START:
    case FLTSIM_EV_IO_COMPLETE:
    case FLTSIM_EV_PRE:
    case FLTSIM_EV_PRE_RETURN:
    case FLTSIM_EV_POST:
    case FLTSIM_EV_POST_RETURN:
    case FLTSIM_EV_FS:
    case FLTSIM_EV_FS_RETURN:
    case FLTSIM_EV_PEND:
    case FLTSIM_EV_RESUME:
    case FLTSIM_EV_STATUS_CALLBACK:
        return true;
    case FLTSIM_EV_REPORT:
    case FLTSIM_EV_NAME_QUERY:
        return ev->op_id != 0;
    default:
        /* Work events name their operation (op_id) but not its codes. */
        return false;
    }
}

bool fltsim__trace_has_depth(const struct fltsim_event *ev)
{
    switch (ev->type) {
    case FLTSIM_EV_PRE:
    case FLTSIM_EV_PRE_RETURN:
    case FLTSIM_EV_POST:
    case FLTSIM_EV_POST_RETURN:
    case FLTSIM_EV_FS:
    case FLTSIM_EV_FS_RETURN:
    case FLTSIM_EV_PEND:
    case FLTSIM_EV_RESUME:
    case FLTSIM_EV_STATUS_CALLBACK:
        return true;
    default:
        return false;
    }
}

bool fltsim__trace_has_information(const struct fltsim_event *ev)
{
    return ev->type == FLTSIM_EV_IO_COMPLETE || ev->type == FLTSIM_EV_FS_RETURN ||
           ev->type == FLTSIM_EV_PORT_MESSAGE || ev->type == FLTSIM_EV_PORT_SEND;
}

bool fltsim__trace_is_port(const struct fltsim_event *ev)
{
    switch (ev->type) {
    case FLTSIM_EV_PORT_CONNECT:
    case FLTSIM_EV_PORT_DISCONNECT:
    case FLTSIM_EV_PORT_MESSAGE:
    case FLTSIM_EV_PORT_SEND:
    case FLTSIM_EV_PORT_GET:
    case FLTSIM_EV_PORT_REPLY:
        return true;
    default:
        return false;
    }
}

bool fltsim__trace_is_process(const struct fltsim_event *ev)
{
    return ev->type == FLTSIM_EV_PROCESS_CREATE || ev->type == FLTSIM_EV_PROCESS_EXIT;
}

bool fltsim__trace_is_handle(const struct fltsim_event *ev)
{
    return ev->type == FLTSIM_EV_HANDLE_OPEN || ev->type == FLTSIM_EV_HANDLE_DUPLICATE;
}

bool fltsim__trace_has_message_id(const struct fltsim_event *ev)
{
    return ev->type == FLTSIM_EV_PORT_SEND || ev->type == FLTSIM_EV_PORT_GET ||
           ev->type == FLTSIM_EV_PORT_REPLY;
}

bool fltsim__trace_is_ob(const struct fltsim_event *ev)
{
    return ev->type == FLTSIM_EV_OB_PRE || ev->type == FLTSIM_EV_OB_POST;
}

const char *fltsim__trace_ob_operation_name(ULONG operation)
{
    switch (operation) {
    case OB_OPERATION_HANDLE_CREATE:
        return "create";
    case OB_OPERATION_HANDLE_DUPLICATE:
        return "duplicate";
    default:
        return NULL;
    }
}

bool fltsim__trace_has_flags(const struct fltsim_event *ev)
{
    switch (ev->type) {
    case FLTSIM_EV_POST:
    case FLTSIM_EV_POST_RETURN:
    case FLTSIM_EV_INSTANCE_SETUP:
    case FLTSIM_EV_TEARDOWN_START:
    case FLTSIM_EV_TEARDOWN_COMPLETE:
    case FLTSIM_EV_FILTER_UNLOAD:
    case FLTSIM_EV_PEND:
    case FLTSIM_EV_RESUME:
    case FLTSIM_EV_PORT_DISCONNECT: /* who ended it */
    case FLTSIM_EV_PORT_SEND:       /* reply wanted, timeout given */
    case FLTSIM_EV_OB_PRE:          /* 1: a kernel handle */
    case FLTSIM_EV_OB_POST:
        return true;
    case FLTSIM_EV_NAME_QUERY:
        return ev->name != NULL; /* 1 = from the name cache */
    default:
        return false;
    }
}

enum fltsim__status_kind fltsim__trace_status_kind(const struct fltsim_event *ev)
{
    switch (ev->type) {
    case FLTSIM_EV_PRE_RETURN:
        return FLTSIM__STATUS_PREOP;
    case FLTSIM_EV_POST_RETURN:
        return FLTSIM__STATUS_POSTOP;
    case FLTSIM_EV_RESUME:
        /* flags 0: FltCompletePendedPreOperation's CallbackStatus. */
        return ev->flags == 0 ? FLTSIM__STATUS_PREOP : FLTSIM__STATUS_NTSTATUS;
    case FLTSIM_EV_IO_COMPLETE:
    case FLTSIM_EV_FS_RETURN:
    case FLTSIM_EV_INSTANCE_SETUP:
    case FLTSIM_EV_QUERY_TEARDOWN:
    case FLTSIM_EV_FILTER_UNLOAD:
    case FLTSIM_EV_WORK_QUEUED:
    case FLTSIM_EV_STATUS_CALLBACK:
    case FLTSIM_EV_CONTEXT_SET:
    case FLTSIM_EV_NAME_QUERY:
    case FLTSIM_EV_PORT_CONNECT:
    case FLTSIM_EV_PORT_MESSAGE:
    case FLTSIM_EV_PORT_SEND:
    case FLTSIM_EV_PORT_REPLY:
    case FLTSIM_EV_OB_POST: /* ReturnStatus */
    case FLTSIM_EV_PROCESS_CREATE:
    case FLTSIM_EV_PROCESS_EXIT:
    case FLTSIM_EV_HANDLE_OPEN:
    case FLTSIM_EV_HANDLE_DUPLICATE:
        return FLTSIM__STATUS_NTSTATUS;
    default:
        return FLTSIM__STATUS_NONE;
    }
}

const char *fltsim__trace_status_name(const struct fltsim_event *ev)
{
    switch (fltsim__trace_status_kind(ev)) {
    case FLTSIM__STATUS_NTSTATUS:
        return fltsim_ntstatus_name(ev->status);
    case FLTSIM__STATUS_PREOP:
        return fltsim_preop_status_name((FLT_PREOP_CALLBACK_STATUS)ev->status);
    case FLTSIM__STATUS_POSTOP:
        return fltsim_postop_status_name((FLT_POSTOP_CALLBACK_STATUS)ev->status);
    case FLTSIM__STATUS_NONE:
        break;
    }
    return NULL;
}

/* The length of the valid UTF-8 sequence at p (1 to 4), or 0 when p does not
 * start one (a stray continuation byte, an overlong form, a surrogate, a
 * value above U+10FFFF or a cut sequence). */
static int utf8_length(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    int n;
    unsigned min;
    unsigned cp;
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2, min = 0x80, cp = p[0] & 0x1fu;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3, min = 0x800, cp = p[0] & 0x0fu;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, cp = p[0] & 0x07u;
    } else {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) /* also stops at the terminator */
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void fltsim__trace_json_escape(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                fprintf(out, "\\u%04x", (unsigned)*p);
            } else {
                int n = utf8_length(p);
                if (n == 0) {
                    /* JSON text is UTF-8: a byte that is not becomes U+FFFD. */
                    fputs("\\ufffd", out);
                } else {
                    fwrite(p, 1, (size_t)n, out);
                    p += n - 1;
                }
            }
        }
        p++;
    }
}

void fltsim__trace_put_clean(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", (unsigned)*p);
        else
            fputc(*p, out);
    }
}

void fltsim__trace_put_op_name(FILE *out, const struct fltsim_event *ev)
{
    const char *major = fltsim_major_name(ev->major);
    if (major != NULL)
        fputs(major, out);
    else
        fprintf(out, "0x%02X", (unsigned)ev->major);
    const char *minor = fltsim_minor_name(ev->major, ev->minor);
    /* Minor 0 of a read or write (IRP_MN_NORMAL) is the plain request: not
     * worth a word. Elsewhere a named minor tells which request it is. */
    bool plain_rw = (ev->major == IRP_MJ_READ || ev->major == IRP_MJ_WRITE) && ev->minor == 0;
    if (minor != NULL && !plain_rw)
        fprintf(out, "/%s", minor);
    else if (minor == NULL && ev->minor != 0)
        fprintf(out, "/0x%02X", (unsigned)ev->minor);
}

void fltsim__trace_json_string(FILE *out, const char *s)
{
    if (s == NULL) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    fltsim__trace_json_escape(out, s);
    fputc('"', out);
}
