/*
 * A trace sink of one format writing into a memory stream, shared by the
 * trace suites (test_trace.c, test_trace_workload.c, test_trace_port.c,
 * test_trace_ps.c): open it, hand its sink to the system or a tee, read back
 * the text it wrote, look for a line in it.
 */
#ifndef FLTSIM_TRACE_CAPTURE_H
#define FLTSIM_TRACE_CAPTURE_H

#include <stdio.h>

#include <fltsim/trace.h>

#include "fltsim_test.h"

struct capture {
    char *text;
    size_t size;
    FILE *out;
    struct fltsim_trace_sink *sink;
};

/* Creates a sink of format (with flags) over a new memory stream, asserting
 * success. */
void capture_open(struct capture *c, enum fltsim_trace_format format, ULONG flags);
/* Finishes the sink and returns everything it wrote (valid until close). */
const char *capture_text(struct capture *c);
/* Destroys the sink and frees the stream and its text. */
void capture_close(struct capture *c);

/* Whether some line of text holds every fragment of frags (NULL-terminated). */
bool capture_has_line(const char *text, const char *const *frags);
/* Fails the test unless some line of text holds every fragment given. */
#define EXPECT_LINE(text, ...)                                                                     \
    do {                                                                                           \
        static const char *const frags_[] = {__VA_ARGS__, NULL};                                   \
        if (!capture_has_line((text), frags_))                                                     \
            fail_msg("no line with %s ... in:\n%s", frags_[0], (text));                            \
    } while (0)

#endif /* FLTSIM_TRACE_CAPTURE_H */
