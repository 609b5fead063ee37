/*
 * Shared between the capture readers (capture.c dispatches; capture_csv.c,
 * capture_xml.c and capture_pml.c are the backends). Not a public header.
 */
#ifndef FLTSIM_CAPTURE_INTERNAL_H
#define FLTSIM_CAPTURE_INTERNAL_H

#include <zlib.h>

#include <fltsim/capture.h>

struct capture_backend {
    /* Reads the next event into the backend's own storage. Returns 1, 0 at
     * the end, -1 after fltsim__capture_fail. */
    int (*next)(struct fltsim_capture *cap, const struct fltsim_capture_event **event);
    /* Frees cap->state (cap->gz is closed by capture.c). */
    void (*close)(struct fltsim_capture *cap);
};

struct fltsim_capture {
    const struct capture_backend *backend;
    enum fltsim_capture_format format;
    char *path;
    gzFile gz;           /* the file, positioned at its start; gzread also reads plain files */
    uint64_t size;       /* bytes on disk */
    uint64_t event_count; /* when the format says up front, else 0 */
    bool failed;         /* an error was reported: next keeps returning -1 */
    char error[640];
    void *state; /* the backend's */
};

/* Each backend's open: reads what it needs from cap->gz, sets cap->backend
 * and cap->state; on failure calls fltsim__capture_fail and returns false
 * (having freed what it allocated). */
bool fltsim__capture_csv_open(struct fltsim_capture *cap);
bool fltsim__capture_xml_open(struct fltsim_capture *cap);
bool fltsim__capture_pml_open(struct fltsim_capture *cap);

/* Writes "PATH: " + the formatted message to cap->error, sets cap->failed,
 * returns -1. The message should start with the place: "row 12 (line 14): ",
 * "byte offset 0x1a2b: ". */
int fltsim__capture_fail(struct fltsim_capture *cap, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* FLTSIM_CAPTURE_INTERNAL_H */
