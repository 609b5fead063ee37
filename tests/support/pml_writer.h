/*
 * A Process Monitor PML writer for the tests (issue 16): builds in memory the
 * layout sim/capture/capture_pml.c reads and ../shared/TRACES.md 1.8
 * describes (header, event records with stack and detail, the event-offset
 * array, process, string, icon, host and port tables), for 32-bit and 64-bit
 * captures, so that the reader, replay and fuzzer suites have PML files from
 * a fresh clone. pml_sample() is the capture they share; make_captures writes
 * it (and its gzip copy) into the build tree.
 */
#ifndef FLTSIM_TEST_PML_WRITER_H
#define FLTSIM_TEST_PML_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pml_writer;

/* A writer for a capture of a 64-bit (is64) or 32-bit system: pointer-sized
 * fields (stack frames, FLT_PARAMETERS slots) take 8 or 4 bytes. Exits the
 * process when out of memory (test support). */
struct pml_writer *pml_writer_new(bool is64);
void pml_writer_free(struct pml_writer *w);
unsigned pml_writer_ptr(const struct pml_writer *w);

/* A process with ProcMon's process index `index`; processes with the same
 * name share one string of the string table. */
void pml_writer_process(struct pml_writer *w, uint32_t index, uint32_t pid, const char *name);
/* Names for network endpoints: an IPv4 or IPv6 address (16 bytes) and a port. */
void pml_writer_host(struct pml_writer *w, const unsigned char ip[16], const char *name);
void pml_writer_port(struct pml_writer *w, uint16_t port, bool tcp, const char *name);

struct pml_record {
    uint32_t process; /* a process index given to pml_writer_process */
    uint32_t tid;
    uint32_t event_class; /* 1 Process, 2 Registry, 3 File System, 4 Profiling, 5 Network */
    uint16_t operation;
    uint64_t duration; /* 100 ns units */
    uint64_t time;     /* FILETIME, UTC */
    uint32_t result;   /* NTSTATUS; 0x103 (pending): no result */
    uint16_t stack_depth;
    const void *detail;
    size_t detail_size;
    const void *extra; /* the extra detail (output data), or NULL */
    size_t extra_size;
};
/* Appends an event (records follow one another from the end of the header). */
void pml_writer_event(struct pml_writer *w, const struct pml_record *r);

/* A detail blob under construction. */
struct pml_blob {
    unsigned char *p;
    size_t len, cap;
};
void pml_blob_bytes(struct pml_blob *b, const void *data, size_t n);
void pml_blob_u8(struct pml_blob *b, uint8_t v);
void pml_blob_u16(struct pml_blob *b, uint16_t v);
void pml_blob_u32(struct pml_blob *b, uint32_t v);
void pml_blob_u64(struct pml_blob *b, uint64_t v);
/* A detail string's info word (top bit: 8-bit characters; low 15 bits: the
 * character count) and its characters: 8-bit when ascii, else UTF-16LE. */
uint16_t pml_string_info(const char *utf8, bool ascii);
void pml_blob_chars(struct pml_blob *b, const char *utf8, bool ascii);

/* The FLT_PARAMETERS copy of a file-system detail (5 pointers + 8 bytes),
 * written in pointer-sized slots like the WDK's POINTER_ALIGNMENT. */
struct pml_fs {
    uint8_t sub;    /* the minor function or information class */
    uint32_t flags; /* the IRP flags word of the fixed block */
    unsigned char params[48];
    const char *path;
    bool ascii; /* store the path as 8-bit characters */
};
void pml_param32(const struct pml_writer *w, struct pml_fs *fs, unsigned slot, unsigned extra,
                 uint32_t v);
void pml_param64(const struct pml_writer *w, struct pml_fs *fs, unsigned slot, uint64_t v);
/* Starts a file-system detail: sub-operation, the fixed block, the path. The
 * caller appends the operation's fields that follow the path. */
void pml_fs_detail(const struct pml_writer *w, const struct pml_fs *fs, struct pml_blob *b);

/* The file's bytes (malloc'd, *size of them); the writer stays usable. */
unsigned char *pml_writer_finish(struct pml_writer *w, size_t *size);

/* Writes data to path, gzip-compressed when gz. False on an error (errno). */
bool pml_save(const char *path, const void *data, size_t size, bool gz);

/* The shared sample capture: every event class and each file-system
 * operation the reader decodes (tests/test_capture_pml.c lists its events). */
unsigned char *pml_sample(bool is64, size_t *size);

#endif /* FLTSIM_TEST_PML_WRITER_H */
