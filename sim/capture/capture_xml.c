/*
 * The XML capture reader (TRACES.md 1.7): ProcMon's XML export, plain or
 * gzip-compressed, read with libxml2's streaming xmlTextReader fed by gzread,
 * so the document is never held whole. <processlist> is skipped; each
 * <event> under <eventlist> has one child element per exported column
 * (spaces in the column name become '_'), holding the same display strings
 * as the CSV, and becomes an event in capture_row.c. An event's offset is
 * that of the line its <event> tag is on (ProcMon starts each on a line).
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlreader.h>

#include "capture_internal.h"

/* A text node larger than this is not a ProcMon field. */
#define MAX_FIELD (16u * 1024 * 1024)
/* Line starts remembered for the event offsets: more lines than the parser
 * reads ahead of the node it reports (a few KiB of input). */
#define LINE_RING 16384u

struct field_buf {
    char *text;
    size_t len, cap;
    bool present;
};

struct xml_state {
    struct fltsim_capture *cap;
    xmlTextReaderPtr reader;
    /* the uncompressed offset of each recent line's first byte, by line number */
    uint64_t line_start[LINE_RING];
    uint64_t lines_seen; /* lines started so far (line 1 starts at 0) */
    uint64_t consumed;   /* bytes handed to the parser */
    bool input_end;      /* gzread reported the end */
    bool root_closed;    /* </procmon> seen */
    /* The line of the node the reader is on: libxml2 keeps element lines in
     * 16 bits (65535 = "or later"), so past that the newlines of the text
     * nodes read since the last exact line are counted. */
    uint64_t line_now;
    bool in_list;   /* inside <eventlist> */
    bool have_node; /* the reader is already on the next node (after a skip) */
    bool saw_root;
    char xml_error[300];
    int xml_error_line;
    struct field_buf field[CAPTURE_COL_COUNT];
    uint64_t index;
    char *strings;
    size_t strings_size;
    struct fltsim_capture_event event;
};

/* The element names: column display names with '_' for ' '. */
static const char *const element_names[CAPTURE_COL_COUNT] = {
    [CAPTURE_COL_TIME] = "Time_of_Day",  [CAPTURE_COL_PROCESS] = "Process_Name",
    [CAPTURE_COL_PID] = "PID",           [CAPTURE_COL_OPERATION] = "Operation",
    [CAPTURE_COL_PATH] = "Path",         [CAPTURE_COL_RESULT] = "Result",
    [CAPTURE_COL_DETAIL] = "Detail",     [CAPTURE_COL_TID] = "TID",
    [CAPTURE_COL_CLASS] = "Event_Class", [CAPTURE_COL_DURATION] = "Duration",
};

static int read_cb(void *context, char *buffer, int len)
{
    struct xml_state *st = context;
    int n = gzread(st->cap->gz, buffer, (unsigned)len);
    if (n <= 0) {
        st->input_end = n == 0;
        return n < 0 ? -1 : 0;
    }
    for (const char *p = buffer, *end = buffer + n;
         (p = memchr(p, '\n', (size_t)(end - p))) != NULL;) {
        p++;
        st->lines_seen++;
        st->line_start[st->lines_seen % LINE_RING] = st->consumed + (uint64_t)(p - buffer);
    }
    st->consumed += (uint64_t)n;
    return n;
}

/* Where a line starts, if still remembered; else the parser's position. */
static uint64_t offset_of_line(const struct xml_state *st, uint64_t line)
{
    if (line >= 1 && line - 1 <= st->lines_seen && st->lines_seen - (line - 1) < LINE_RING)
        return st->line_start[(line - 1) % LINE_RING];
    long consumed = xmlTextReaderByteConsumed(st->reader);
    return consumed > 0 ? (uint64_t)consumed : 0;
}

static int close_cb(void *context)
{
    (void)context;
    return 0; /* capture.c closes the file */
}

static void error_cb(void *arg, xmlErrorPtr error)
{
    struct xml_state *st = arg;
    if (st->xml_error[0] != '\0' || error == NULL || error->level < XML_ERR_ERROR)
        return; /* the first error is the one that says where it went wrong */
    const char *msg = error->message != NULL ? error->message : "malformed XML";
    size_t len = strcspn(msg, "\n");
    if (len >= sizeof(st->xml_error))
        len = sizeof(st->xml_error) - 1;
    memcpy(st->xml_error, msg, len);
    st->xml_error[len] = '\0';
    st->xml_error_line = error->line;
}

static int column_of(const char *name)
{
    for (int c = 0; c < CAPTURE_COL_COUNT; c++)
        if (strcmp(name, element_names[c]) == 0)
            return c;
    return -1;
}

static bool append(struct field_buf *f, const char *text)
{
    size_t len = strlen(text);
    if (f->cap - f->len < len + 1) {
        size_t cap = f->cap < 256 ? 256 : f->cap;
        while (cap - f->len < len + 1)
            cap *= 2;
        if (cap > MAX_FIELD)
            return false;
        char *grown = realloc(f->text, cap);
        if (grown == NULL)
            return false;
        f->text = grown;
        f->cap = cap;
    }
    memcpy(f->text + f->len, text, len + 1);
    f->len += len;
    return true;
}

static int reader_failed(struct fltsim_capture *cap, struct xml_state *st)
{
    /* libxml2 words a document cut short in odd ways ("Extra content at the
     * end of the document"): say what happened when the error is on the last line */
    if (st->input_end && !st->root_closed && st->xml_error[0] != '\0' &&
        (uint64_t)st->xml_error_line >= st->lines_seen) {
        if (!st->saw_root)
            return fltsim__capture_fail(cap, "line %d: empty document: no <procmon> element",
                                        st->xml_error_line);
        return fltsim__capture_fail(
            cap, "line %d: malformed XML: the document ends before </procmon>", st->xml_error_line);
    }
    if (st->xml_error[0] != '\0')
        return fltsim__capture_fail(cap, "line %d: malformed XML: %s", st->xml_error_line,
                                    st->xml_error);
    return fltsim__capture_fail(cap, "line %d: malformed XML",
                                xmlTextReaderGetParserLineNumber(st->reader));
}

static void track_line(struct xml_state *st)
{
    int type = xmlTextReaderNodeType(st->reader);
    if (type == XML_READER_TYPE_ELEMENT) {
        long line = xmlGetLineNo(xmlTextReaderCurrentNode(st->reader));
        if (line > 0 && line < 65535)
            st->line_now = (uint64_t)line;
        if (xmlTextReaderDepth(st->reader) == 0)
            st->saw_root = true;
    } else if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
               type == XML_READER_TYPE_WHITESPACE ||
               type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE || type == XML_READER_TYPE_COMMENT) {
        const char *text = (const char *)xmlTextReaderConstValue(st->reader);
        for (; text != NULL && (text = strchr(text, '\n')) != NULL; text++)
            st->line_now++;
    } else if (type == XML_READER_TYPE_END_ELEMENT && xmlTextReaderDepth(st->reader) == 0) {
        st->root_closed = true;
    }
}

/* Moves to the next node: 1, 0 at the end, -1 on an error. Subtrees we do
 * not need are read through rather than skipped, so that their newlines count. */
static int advance(struct xml_state *st)
{
    if (st->have_node) {
        st->have_node = false;
        return 1;
    }
    int r = xmlTextReaderRead(st->reader);
    if (r == 1)
        track_line(st);
    return r;
}

/* Reads the children of the <event> the reader is on into st->field. */
static int read_event(struct fltsim_capture *cap, struct xml_state *st, uint64_t line)
{
    for (int c = 0; c < CAPTURE_COL_COUNT; c++) {
        st->field[c].len = 0;
        st->field[c].present = false;
        if (st->field[c].text != NULL)
            st->field[c].text[0] = '\0';
    }
    if (xmlTextReaderIsEmptyElement(st->reader))
        return 1;
    int column = -1;
    for (;;) {
        int r = advance(st);
        if (r != 1)
            return r < 0 ? reader_failed(cap, st)
                         : fltsim__capture_fail(
                               cap, "row %llu (line %llu): the file ends inside <event>",
                               (unsigned long long)st->index + 1, (unsigned long long)line);
        int type = xmlTextReaderNodeType(st->reader);
        int depth = xmlTextReaderDepth(st->reader);
        if (type == XML_READER_TYPE_END_ELEMENT && depth == 2)
            return 1;
        if (type == XML_READER_TYPE_ELEMENT && depth == 3) {
            const char *name = (const char *)xmlTextReaderConstLocalName(st->reader);
            column = name != NULL ? column_of(name) : -1;
            if (column >= 0) {
                st->field[column].present = true;
                st->field[column].len = 0;
                if (!append(&st->field[column], ""))
                    return fltsim__capture_fail(cap, "row %llu (line %llu): out of memory",
                                                (unsigned long long)st->index + 1,
                                                (unsigned long long)line);
            } /* else <stack>, <ProcessIndex>, ...: read through, ignored */
            if (xmlTextReaderIsEmptyElement(st->reader))
                column = -1;
        } else if ((type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
                    type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) &&
                   depth == 4 && column >= 0) {
            const char *text = (const char *)xmlTextReaderConstValue(st->reader);
            if (text != NULL && !append(&st->field[column], text))
                return fltsim__capture_fail(cap, "row %llu (line %llu): <%s> longer than %u MiB",
                                            (unsigned long long)st->index + 1,
                                            (unsigned long long)line, element_names[column],
                                            MAX_FIELD >> 20);
        } else if (type == XML_READER_TYPE_END_ELEMENT && depth == 3) {
            column = -1;
        }
    }
}

static int xml_next(struct fltsim_capture *cap, const struct fltsim_capture_event **event)
{
    struct xml_state *st = cap->state;
    for (;;) {
        int r = advance(st);
        if (r < 0)
            return reader_failed(cap, st);
        if (r == 0)
            return 0;
        int type = xmlTextReaderNodeType(st->reader);
        int depth = xmlTextReaderDepth(st->reader);
        if (type != XML_READER_TYPE_ELEMENT && type != XML_READER_TYPE_END_ELEMENT)
            continue;
        const char *name = (const char *)xmlTextReaderConstLocalName(st->reader);
        if (name == NULL)
            continue;
        if (depth == 0 && type == XML_READER_TYPE_ELEMENT && strcmp(name, "procmon") != 0)
            return fltsim__capture_fail(
                cap,
                "line %llu: not a ProcMon XML export: the root element is <%.40s>, not <procmon>",
                (unsigned long long)st->line_now, name);
        if (depth == 1 && type == XML_READER_TYPE_ELEMENT) {
            /* <processlist> and the rest: read through, ignored */
            if (strcmp(name, "eventlist") == 0 && !xmlTextReaderIsEmptyElement(st->reader))
                st->in_list = true;
            continue;
        }
        if (depth == 1 && type == XML_READER_TYPE_END_ELEMENT) {
            st->in_list = false;
            continue;
        }
        if (!st->in_list || depth != 2 || type != XML_READER_TYPE_ELEMENT)
            continue;
        if (strcmp(name, "event") != 0)
            continue;
        long line = (long)st->line_now;
        uint64_t offset = offset_of_line(st, (uint64_t)line);
        if (read_event(cap, st, (uint64_t)line) < 0)
            return -1;
        struct capture_row row = {.index = st->index, .line = (uint64_t)line, .offset = offset};
        static const enum capture_column required[] = {CAPTURE_COL_OPERATION, CAPTURE_COL_PATH,
                                                       CAPTURE_COL_RESULT, CAPTURE_COL_PROCESS,
                                                       CAPTURE_COL_PID};
        for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
            if (!st->field[required[i]].present)
                return fltsim__capture_fail(cap, "row %llu (line %ld): <event> has no <%s>",
                                            (unsigned long long)st->index + 1, line,
                                            element_names[required[i]]);
        for (int c = 0; c < CAPTURE_COL_COUNT; c++)
            row.field[c] = st->field[c].present ? st->field[c].text : NULL;
        if (fltsim__capture_row_event(cap, &row, &st->event, &st->strings, &st->strings_size) < 0)
            return -1;
        st->index++;
        *event = &st->event;
        return 1;
    }
}

static void xml_close(struct fltsim_capture *cap)
{
    struct xml_state *st = cap->state;
    if (st == NULL)
        return;
    if (st->reader != NULL)
        xmlFreeTextReader(st->reader);
    for (int c = 0; c < CAPTURE_COL_COUNT; c++)
        free(st->field[c].text);
    free(st->strings);
    free(st);
    cap->state = NULL;
}

static const struct capture_backend xml_backend = {xml_next, xml_close};

bool fltsim__capture_xml_open(struct fltsim_capture *cap)
{
    struct xml_state *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        fltsim__capture_fail(cap, "out of memory");
        return false;
    }
    st->cap = cap;
    cap->state = st;
    cap->backend = &xml_backend;
    /* No network, no external DTD, no entity expansion beyond the predefined
     * ones: a capture is data. */
    st->reader = xmlReaderForIO(read_cb, close_cb, st, NULL, NULL, XML_PARSE_NONET);
    if (st->reader == NULL) {
        fltsim__capture_fail(cap, "cannot start the XML parser");
        xml_close(cap);
        return false;
    }
    xmlTextReaderSetStructuredErrorHandler(st->reader, error_cb, st);
    /* The root element must be <procmon>: read up to it now, so that a file
     * that is not a ProcMon export fails at open. */
    st->line_now = 1;
    for (;;) {
        int r = advance(st);
        if (r < 0) {
            reader_failed(cap, st);
            break;
        }
        if (r == 0) {
            fltsim__capture_fail(cap, "line 1: empty document: no <procmon> element");
            break;
        }
        if (xmlTextReaderNodeType(st->reader) != XML_READER_TYPE_ELEMENT)
            continue;
        const char *name = (const char *)xmlTextReaderConstLocalName(st->reader);
        if (name != NULL && strcmp(name, "procmon") == 0)
            return true;
        fltsim__capture_fail(
            cap, "line %llu: not a ProcMon XML export: the root element is <%.40s>, not <procmon>",
            (unsigned long long)st->line_now, name != NULL ? name : "?");
        break;
    }
    xml_close(cap);
    return false;
}
