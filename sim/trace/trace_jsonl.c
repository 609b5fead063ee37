/*
 * The JSON Lines trace format (fltsim/trace.h): one object per event with
 * every field of struct fltsim_event under its own name, in a fixed order,
 * with names beside the codes (type, kind, major, minor, status, IRQL). The
 * README ("Trace formats") documents each key.
 */
#include "trace_internal.h"

static void put_name(FILE *out, const char *key, const char *name)
{
    fprintf(out, ",\"%s\":", key);
    fltsim__trace_json_string(out, name);
}

void fltsim__trace_jsonl_event(struct fltsim_trace_sink *sink, const struct fltsim_event *ev)
{
    FILE *out = sink->out;
    bool has_op = fltsim__trace_has_op(ev);
    fputs("{\"type\":", out);
    fltsim__trace_json_string(out, fltsim__trace_type_name(ev->type));
    fprintf(out, ",\"type_value\":%d", (int)ev->type);
    fprintf(out, ",\"op_id\":%llu", (unsigned long long)ev->op_id);
    put_name(out, "kind", has_op ? fltsim__trace_kind_name(ev->kind) : NULL);
    fprintf(out, ",\"kind_value\":%d", (int)ev->kind);
    fprintf(out, ",\"major\":%u", (unsigned)ev->major);
    put_name(out, "major_name", has_op ? fltsim_major_name(ev->major) : NULL);
    fprintf(out, ",\"minor\":%u", (unsigned)ev->minor);
    put_name(out, "minor_name", has_op ? fltsim_minor_name(ev->major, ev->minor) : NULL);
    fprintf(out, ",\"depth\":%u", (unsigned)ev->depth);
    put_name(out, "filter", ev->filter);
    put_name(out, "instance", ev->instance);
    put_name(out, "altitude", ev->altitude);
    put_name(out, "volume", ev->volume);
    fprintf(out, ",\"status\":%u", (unsigned)(ULONG)ev->status);
    put_name(out, "status_name", fltsim__trace_status_name(ev));
    fprintf(out, ",\"information\":%llu", (unsigned long long)ev->information);
    fprintf(out, ",\"flags\":%u", (unsigned)ev->flags);
    fprintf(out, ",\"process_id\":%u", (unsigned)ev->process_id);
    fprintf(out, ",\"thread_id\":%u", (unsigned)ev->thread_id);
    fprintf(out, ",\"irql\":%u", (unsigned)ev->irql);
    put_name(out, "irql_name", fltsim__trace_irql_name(ev->irql));
    put_name(out, "detail", ev->detail);
    put_name(out, "rule", ev->rule);
    if (ev->type == FLTSIM_EV_NAME_QUERY)
        put_name(out, "name", ev->name); /* only name_query events carry it */
    if (fltsim__trace_is_port(ev)) {     /* only port events carry these */
        put_name(out, "port", ev->port);
        if (fltsim__trace_has_message_id(ev))
            fprintf(out, ",\"message_id\":%llu", (unsigned long long)ev->message_id);
        fprintf(out, ",\"in_size\":%u", (unsigned)ev->in_size);
        fprintf(out, ",\"out_size\":%u", (unsigned)ev->out_size);
    }
    if (fltsim__trace_is_ob(ev)) { /* only object callback events carry these */
        fprintf(out, ",\"ob_operation\":%u", (unsigned)ev->ob_operation);
        put_name(out, "ob_operation_name", fltsim__trace_ob_operation_name(ev->ob_operation));
        put_name(out, "object_type", ev->object_type);
        fprintf(out, ",\"object_process_id\":%u", (unsigned)ev->object_process_id);
        fprintf(out, ",\"desired_access\":%u", (unsigned)ev->desired_access);
        fprintf(out, ",\"granted_access\":%u", (unsigned)ev->granted_access);
    }
    if (fltsim__trace_is_process(ev) || fltsim__trace_is_handle(ev)) {
        fprintf(out, ",\"object_process_id\":%u", (unsigned)ev->object_process_id);
        fprintf(out, ",\"object_thread_id\":%u", (unsigned)ev->object_thread_id);
    }
    if (ev->type == FLTSIM_EV_PROCESS_CREATE)
        fprintf(out, ",\"parent_process_id\":%u", (unsigned)ev->parent_process_id);
    if (fltsim__trace_is_handle(ev)) {
        fprintf(out, ",\"table_process_id\":%u", (unsigned)ev->table_process_id);
        fprintf(out, ",\"desired_access\":%u", (unsigned)ev->desired_access);
        fprintf(out, ",\"granted_access\":%u", (unsigned)ev->granted_access);
    }
    fputs("}\n", out);
}

void fltsim__trace_jsonl_note(struct fltsim_trace_sink *sink, const char *text)
{
    fputs("{\"type\":\"note\",\"text\":", sink->out);
    fltsim__trace_json_string(sink->out, text);
    fputs("}\n", sink->out);
}
