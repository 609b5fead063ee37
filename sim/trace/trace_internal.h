/*
 * PRIVATE to sim/trace: the trace sink object and what its formats share
 * (event and status names, string escaping). trace_sink.c owns the object and
 * routes events to the format files trace_text.c, trace_jsonl.c,
 * trace_mermaid.c and trace_normalized.c. Nothing outside sim/trace includes
 * this; the rest of the sim and the tests use fltsim/trace.h.
 */
#ifndef FLTSIM_TRACE_INTERNAL_H
#define FLTSIM_TRACE_INTERNAL_H

#include <fltsim/trace.h>

/* State of the text sink: what the last line showed, so that thread, IRQL
 * and operation are repeated only where they change. */
struct fltsim__text_state {
    bool have_last;
    ULONG last_thread;
    KIRQL last_irql;
    ULONG64 last_op;
    /* The pre and post callbacks entered and not yet returned, innermost
     * last: an operation that starts on the thread of one was issued from
     * inside it (a filter's own I/O), and its first line says so. */
    struct fltsim__text_callback {
        ULONG thread;
        ULONG64 op;
        bool post;
        char filter[48];
    } open[16];
    size_t open_count;
};

/* Labels of the normalized sink: a value is replaced by its 1-based position
 * in order of first appearance. */
struct fltsim__label_map {
    ULONG64 *values;
    size_t count, capacity;
};

struct fltsim__normalized_state {
    struct fltsim__label_map ops;
    struct fltsim__label_map threads;
};

/* One buffered item of the mermaid sink: an event with its strings copied, or
 * a note (note != NULL). */
struct fltsim__mermaid_item {
    struct fltsim_event ev;
    char *note;
};

struct fltsim__mermaid_state {
    struct fltsim__mermaid_item *items;
    size_t count, capacity;
    bool lost; /* an event could not be copied */
};

struct fltsim_trace_sink {
    enum fltsim_trace_format format;
    FILE *out;
    ULONG flags;
    bool finished;
    NTSTATUS finish_status;
    union {
        struct fltsim__text_state text;
        struct fltsim__normalized_state normalized;
        struct fltsim__mermaid_state mermaid;
    } u;
};

/* ---- per format (sink is of that format; none of them fails: write errors
 * are left on the stream, lost copies in the state) ---- */

void fltsim__trace_text_event(struct fltsim_trace_sink *sink, const struct fltsim_event *ev);
void fltsim__trace_text_note(struct fltsim_trace_sink *sink, const char *text);
void fltsim__trace_jsonl_event(struct fltsim_trace_sink *sink, const struct fltsim_event *ev);
void fltsim__trace_jsonl_note(struct fltsim_trace_sink *sink, const char *text);
void fltsim__trace_normalized_event(struct fltsim_trace_sink *sink, const struct fltsim_event *ev);
void fltsim__trace_normalized_note(struct fltsim_trace_sink *sink, const char *text);
void fltsim__trace_normalized_free(struct fltsim_trace_sink *sink);
void fltsim__trace_mermaid_event(struct fltsim_trace_sink *sink, const struct fltsim_event *ev);
void fltsim__trace_mermaid_note(struct fltsim_trace_sink *sink, const char *text);
/* Writes the diagram. */
void fltsim__trace_mermaid_write(struct fltsim_trace_sink *sink);
void fltsim__trace_mermaid_free(struct fltsim_trace_sink *sink);

/* ---- shared helpers (cannot fail) ---- */

/* "io_start", "pre", "post_return", ... (the jsonl and normalized "type"), or
 * NULL for a value outside the enum. */
const char *fltsim__trace_type_name(enum fltsim_event_type type);
/* "irp", "fast_io", "fs_filter", or NULL. */
const char *fltsim__trace_kind_name(enum fltsim_op_kind kind);
/* "PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL", "HIGH_LEVEL", or NULL. */
const char *fltsim__trace_irql_name(KIRQL irql);

/* True for events that describe an operation: kind, major and minor mean
 * something (the I/O events, pend, resume, a status callback, and a report
 * with an operation). False for work, instance, unload and operation-less
 * events. */
bool fltsim__trace_has_op(const struct fltsim_event *ev);
/* True for event types whose depth is a position in the operation's stack. */
bool fltsim__trace_has_depth(const struct fltsim_event *ev);
/* True for event types whose information field is meaningful. */
bool fltsim__trace_has_information(const struct fltsim_event *ev);
/* True for event types whose flags field is meaningful. */
bool fltsim__trace_has_flags(const struct fltsim_event *ev);
/* Whether an event is one of a communication port (PORT_*: port, in_size,
 * out_size), and whether it carries a MessageId. */
bool fltsim__trace_is_port(const struct fltsim_event *ev);
bool fltsim__trace_has_message_id(const struct fltsim_event *ev);
/* Whether an event is one of an object callback (OB_*: ob_operation,
 * object_type, object_process_id, desired_access, granted_access), and the operation's name
 * ("create", "duplicate"; NULL for another value). */
bool fltsim__trace_is_ob(const struct fltsim_event *ev);
const char *fltsim__trace_ob_operation_name(ULONG operation);
/* Whether an event is about a process (PROCESS_*) or a handle to one or to
 * a thread (HANDLE_*): object ids, parent, table, accesses. */
bool fltsim__trace_is_process(const struct fltsim_event *ev);
bool fltsim__trace_is_handle(const struct fltsim_event *ev);

/* How an event's status field reads. */
enum fltsim__status_kind {
    FLTSIM__STATUS_NONE,     /* the event carries no status */
    FLTSIM__STATUS_NTSTATUS, /* an NTSTATUS */
    FLTSIM__STATUS_PREOP,    /* a FLT_PREOP_CALLBACK_STATUS */
    FLTSIM__STATUS_POSTOP    /* a FLT_POSTOP_CALLBACK_STATUS */
};
enum fltsim__status_kind fltsim__trace_status_kind(const struct fltsim_event *ev);
/* The status's name by its kind, or NULL when it has none (kind NONE, or a
 * value outside its table). */
const char *fltsim__trace_status_name(const struct fltsim_event *ev);

/* Writes s as the inside of a JSON string: " and \ escaped, \n \r \t as
 * such, other control characters (and DEL) as \u00XX, valid UTF-8 as it is,
 * each byte of invalid UTF-8 as \ufffd. */
void fltsim__trace_json_escape(FILE *out, const char *s);
/* Writes s with control characters as \xNN (text lines stay lines). */
void fltsim__trace_put_clean(FILE *out, const char *s);
/* Writes the operation's major name ("IRP_MJ_READ", or 0xNN when unknown),
 * then "/IRP_MN_..." for a minor worth showing (not IRP_MN_NORMAL of a read or
 * write), "/0xNN" for a nonzero minor without a name. */
void fltsim__trace_put_op_name(FILE *out, const struct fltsim_event *ev);
/* Writes s as a JSON string, or null for NULL. */
void fltsim__trace_json_string(FILE *out, const char *s);

#endif /* FLTSIM_TRACE_INTERNAL_H */
