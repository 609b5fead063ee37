/*
 * A trace sink over a memory stream (see trace_capture.h), for the suites
 * that check what the sinks write. The sinks themselves are the sim's
 * (fltsim/trace.h); this only opens, reads back and closes one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_capture.h"

void capture_open(struct capture *c, enum fltsim_trace_format format, ULONG flags)
{
    memset(c, 0, sizeof(*c));
    c->out = open_memstream(&c->text, &c->size);
    assert_non_null(c->out);
    assert_status(fltsim_trace_sink_create(format, c->out, flags, &c->sink), STATUS_SUCCESS);
}

const char *capture_text(struct capture *c)
{
    assert_status(fltsim_trace_sink_finish(c->sink), STATUS_SUCCESS);
    fflush(c->out);
    return c->text;
}

void capture_close(struct capture *c)
{
    fltsim_trace_sink_destroy(c->sink);
    fclose(c->out);
    free(c->text);
}
