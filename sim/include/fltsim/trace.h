/*
 * Trace sinks (DESIGN decision 9): every event the model emits
 * (struct fltsim_event, fltsim/model.h) can go to one or more sinks, each
 * writing one format to a stdio stream:
 *
 *   text        for people: one line per event, indented by stack depth,
 *               showing filter, altitude, major/minor, kind, statuses by
 *               name, and the thread and IRQL ("[T1000 PASSIVE]") where
 *               they change (on every line with FLTSIM_TRACE_SHOW_THREADS);
 *   jsonl       JSON Lines: one object per event, fields documented in the
 *               README ("Trace formats");
 *   mermaid     a Mermaid sequence diagram (the I/O manager, one lifeline per
 *               instance, highest altitude first, one per volume, and a
 *               worker lifeline when work items run; pend and resume shown),
 *               in a ```mermaid fence so that it renders on GitHub; written
 *               when the sink is finished, because lifelines are declared
 *               first, so the sink keeps a copy of every event until then;
 *   normalized  the form golden files compare against: one line per event,
 *               fixed field order, nothing that varies between runs of the
 *               deterministic executor with one seed (operations and threads
 *               renumbered in order of first appearance, pointers in verifier
 *               messages masked).
 *
 * The README ("Trace formats") shows each format and documents every jsonl
 * field.
 *
 * A sink is not thread-safe, and needs not be: the model never calls the trace
 * callback concurrently for one system.
 */
#ifndef FLTSIM_TRACE_H
#define FLTSIM_TRACE_H

#include <stdio.h>

#include <fltsim/model.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fltsim_trace_format {
    FLTSIM_TRACE_TEXT = 0,
    FLTSIM_TRACE_JSONL = 1,
    FLTSIM_TRACE_MERMAID = 2,
    FLTSIM_TRACE_NORMALIZED = 3
};

/* "text", "jsonl", "mermaid", "normalized". */
const char *fltsim_trace_format_name(enum fltsim_trace_format format);
/* Parses one of those names (case-sensitive). false when unknown. */
bool fltsim_trace_format_parse(const char *name, enum fltsim_trace_format *out);

/* Text sink: append "[T<thread> <IRQL>]" to every line. Without it the text
 * sink shows them only on the lines where the thread or IRQL differs from the
 * event before, which is where they tell something (a post moving to the
 * completion thread at DISPATCH, a work item on a worker), and on each
 * operation's first line. The other formats ignore it. */
#define FLTSIM_TRACE_SHOW_THREADS 0x00000001

struct fltsim_trace_sink;

/* Creates a sink writing format to out (not closed by the sink). Any thread.
 * STATUS_INVALID_PARAMETER (unknown format or flag, out or sink NULL),
 * STATUS_INSUFFICIENT_RESOURCES; *sink is NULL after a failure (when sink is
 * not NULL). */
NTSTATUS fltsim_trace_sink_create(enum fltsim_trace_format format, FILE *out, ULONG flags,
                                  struct fltsim_trace_sink **sink);

/* A fltsim_trace_cb: ctx is a struct fltsim_trace_sink *. Writes the event
 * (text, jsonl, normalized) or keeps a copy of it (mermaid); a copy that cannot
 * be allocated makes finish fail with STATUS_INSUFFICIENT_RESOURCES. Cannot
 * fail otherwise; write errors show in finish. */
void fltsim_trace_sink_event(void *ctx, const struct fltsim_event *event);

/* A marker between events, e.g. "step 3: read h1": text prints "== ...",
 * jsonl an object {"type":"note","text":...}, mermaid a note across the
 * diagram, normalized a "# ..." line (control characters escaped so that it
 * stays one line). UTF-8; NULL is ignored. Not concurrently with events. */
void fltsim_trace_sink_note(struct fltsim_trace_sink *sink, const char *text);

/* Writes what the format keeps until the end (the Mermaid diagram) and
 * flushes. STATUS_UNSUCCESSFUL when writing failed (ferror on the stream),
 * STATUS_INSUFFICIENT_RESOURCES when a mermaid sink lost events for want of
 * memory (the diagram is written without them). Events and notes after
 * finish are ignored; finishing again writes nothing and returns what the
 * first finish returned. */
NTSTATUS fltsim_trace_sink_finish(struct fltsim_trace_sink *sink);

/* Frees the sink (without finishing it). NULL is ignored. */
void fltsim_trace_sink_destroy(struct fltsim_trace_sink *sink);

/* Fan-out to several sinks: a fltsim_trace_cb whose ctx is a struct
 * fltsim_trace_tee (NULL entries are skipped). The tee owns nothing. */
#define FLTSIM_TRACE_TEE_MAX 4
struct fltsim_trace_tee {
    struct fltsim_trace_sink *sinks[FLTSIM_TRACE_TEE_MAX];
};
void fltsim_trace_tee_event(void *ctx, const struct fltsim_event *event);
void fltsim_trace_tee_note(struct fltsim_trace_tee *tee, const char *text);
/* Finishes every sink of the tee; returns the first failure, else
 * STATUS_SUCCESS. */
NTSTATUS fltsim_trace_tee_finish(struct fltsim_trace_tee *tee);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_TRACE_H */
